{{ config(materialized='table', namespace='silver', unique_key='id', tags=['loans']) }}
-- Loan applications, typed and cleaned: impossible ages and incomes are dropped, the
-- heavy-tailed money columns are log1p-transformed and then robust-scaled
-- ((x - median) / IQR), rates are robust-scaled, and the categoricals one-hot encoded.
SELECT
  CAST(id AS BIGINT) AS id,
  CAST(person_age AS INTEGER) AS person_age,
  lower(person_gender) AS person_gender,
  person_education,
  person_income,
  CAST(person_emp_exp AS INTEGER) AS person_emp_exp,
  upper(person_home_ownership) AS person_home_ownership,
  loan_amnt,
  upper(loan_intent) AS loan_intent,
  loan_int_rate,
  loan_percent_income,
  CAST(cb_person_cred_hist_length AS INTEGER) AS cb_person_cred_hist_length,
  CAST(credit_score AS INTEGER) AS credit_score,
  CAST(previous_loan_defaults_on_file = 'Yes' AS INTEGER) AS previous_defaults,
  robust_scale(log1p(person_income)) AS person_income_scaled,
  robust_scale(log1p(loan_amnt)) AS loan_amnt_scaled,
  robust_scale(loan_int_rate) AS loan_int_rate_scaled,
  robust_scale(loan_percent_income) AS loan_percent_income_scaled,
  {{ one_hot('person_home_ownership', source('bronze', 'loan'), 'home') }},
  {{ one_hot('loan_intent', source('bronze', 'loan'), 'intent') }},
  {{ one_hot('person_education', source('bronze', 'loan'), 'edu') }},
  CAST(loan_status AS INTEGER) AS loan_status
FROM {{ source('bronze', 'loan') }}
WHERE person_age BETWEEN 18 AND 100
  AND person_income > 0
  AND loan_amnt > 0
  AND loan_int_rate IS NOT NULL
