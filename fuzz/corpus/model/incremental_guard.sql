{{ config(materialized='incremental', unique_key='k') }}
SELECT 1 AS k {%- if is_incremental() %} WHERE k > (SELECT max(k) FROM {{ this }}) {% else %} {# all #} {% endif -%}
