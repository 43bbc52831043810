{{ config(materialized='view', namespace='gold', tags=['loans', 'reports']) }}
-- Default rate by loan intent and home ownership, always current with silver.loan.
SELECT
  loan_intent,
  person_home_ownership,
  count(*) AS loans,
  round(avg(loan_status), 4) AS default_rate,
  round(avg(loan_amnt), 2) AS avg_amount
FROM {{ ref('loan') }}
GROUP BY ALL
ORDER BY default_rate DESC
