{{- config(materialized='table', tags=['a', 'b',], ) -}}
SELECT * FROM {{- ref('x') -}} WHERE {{ this }} {%- if is_incremental() -%} x {%- endif -%}
