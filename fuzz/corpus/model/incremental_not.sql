SELECT {% if not is_incremental() %}{{ ref('a') }}{% else %}2{% endif %}
