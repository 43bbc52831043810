{{ config(materialized='table', namespace='silver', tags=['diabetes']) }}
-- Min-max scaling of the Pima columns into <col>_normed, rounded to 3 decimals.
SELECT
  *,
  round(min_max_scale(Pregnancies), 3) AS Pregnancies_normed,
  round(min_max_scale(BloodPressure), 3) AS BloodPressure_normed,
  round(min_max_scale(SkinThickness), 3) AS SkinThickness_normed,
  round(min_max_scale(Insulin), 3) AS Insulin_normed,
  round(min_max_scale(Age), 3) AS Age_normed
FROM {{ source('bronze', 'diabetes') }}
