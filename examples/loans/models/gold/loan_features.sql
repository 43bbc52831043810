{{ config(materialized='table', namespace='gold', unique_key='id', tags=['loans', 'features']) }}
-- Model-ready features: scaled numerics, one-hot columns and the label.
SELECT
  id,
  person_age,
  person_emp_exp,
  cb_person_cred_hist_length,
  (credit_score - 300) / 550.0 AS credit_score_scaled,
  previous_defaults,
  person_income_scaled,
  loan_amnt_scaled,
  loan_int_rate_scaled,
  loan_percent_income_scaled,
  COLUMNS('^(home|intent|edu)_'),
  loan_status
FROM {{ ref('loan') }}
