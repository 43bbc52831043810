{{ ref( }}
{% if %}
{{ 'unterminated }}
