{{ config(materialized='incremental', unique_key=['a','b'], lookback='2d', event_time='ts', tags=['x']) }}
SELECT {{ one_hot('g', ref('x'), 'p') }} FROM {{ source('bronze','t') }} {# c #}
