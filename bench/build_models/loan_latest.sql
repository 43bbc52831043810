{{ config(materialized='incremental', namespace='silver', unique_key='id', event_time='updated_at', lookback='1h', tags=['bench']) }}
-- The latest version of each loan application, typed and cleaned. Incremental: a build
-- reads only the rows of the ids that changed since the last one (and the last hour of
-- updated_at, for late rows) and merges them into silver.loan_latest by id.
SELECT
  CAST(id AS BIGINT) AS id,
  CAST(person_age AS INTEGER) AS person_age,
  lower(person_gender) AS person_gender,
  person_education,
  person_income,
  upper(person_home_ownership) AS person_home_ownership,
  loan_amnt,
  upper(loan_intent) AS loan_intent,
  loan_int_rate,
  CAST(credit_score AS INTEGER) AS credit_score,
  CAST(loan_status AS INTEGER) AS loan_status,
  updated_at
FROM (
  SELECT * FROM {{ source('bronze', 'loan') }}
  QUALIFY row_number() OVER (PARTITION BY id ORDER BY updated_at DESC) = 1
)
WHERE person_age BETWEEN 18 AND 100
  AND person_income > 0
  AND loan_amnt > 0
