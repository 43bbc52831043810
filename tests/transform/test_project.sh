#!/usr/bin/env bash
# test_project.sh: what a project's models may and may not do beyond their SQL: macros
# in reused sessions and in view models, the tables a model may write, checks that read
# another model, quarantine of a view's failing rows, one_hot of NULL, Jinja's
# whitespace control, empty models, --select intersections and exit codes.
source "$(dirname "$0")/../lib.sh"
S() { "$SLUICE" --project "$P" "$@"; }
q() { S sql --format csv "$1" | tail -n +2; }

P=$T/p
"$SLUICE" init "$P" >/dev/null
mkdir -p "$P/models" "$P/macros"
printf 'id,cat,person_id\n1,a,10\n2,b,11\n3,,10\n' > "$T/orders.csv"
printf 'id,name\n10,x\n' > "$T/people.csv"
S ingest "$T/orders.csv" --into bronze.orders >/dev/null
S ingest "$T/people.csv" --into bronze.people >/dev/null

# --- macros: a plain CREATE MACRO file works in a session that builds several models,
# and a view model that calls macros stays readable in every later session ---
echo "CREATE MACRO cents(x) AS x * 100;" > "$P/macros/money.sql"
printf 'SELECT cents(1) AS a\n' > "$P/models/m1.sql"
printf 'SELECT cents(2) AS b\n' > "$P/models/m2.sql"
cat > "$P/models/scaled.sql" <<'EOF'
{{ config(materialized='view', namespace='gold') }}
SELECT id, min_max_scale(id) AS s, cents(id) AS c FROM {{ source('bronze', 'orders') }}
EOF
expect_ok "macros: three models on one session" S build --threads 1
expect_eq "macros: ... each ran its macro" "$(q 'select (select a from silver.m1) + (select b from silver.m2)')" "300"
expect_eq "macros: a view model calling them is read by sluice sql" "$(q 'select max(s), sum(c) from gold.scaled')" "1.0,600"
expect_ok "macros: ... and by the next build" S build --threads 1
expect_exit "macros: ... and by sluice check" 0 S check --all
# A macro file removed: the view cannot be made, but the rest of the lake stays readable.
mv "$P/macros/money.sql" "$T/money.sql"
expect_exit "macros gone: other tables are still queryable" 0 S sql "select count(*) from bronze.orders"
expect_contains "macros gone: ... with a warning naming the view" "$out" 'view=gold.scaled'
mv "$T/money.sql" "$P/macros/money.sql"
echo "CREATE MACRO broken(x AS" > "$P/macros/zz_bad.sql"
expect_exit "macros: a broken file fails the build" 1 S build --full-refresh
expect_contains "macros: ... naming the file" "$out" "macros/zz_bad.sql"
rm "$P/macros/zz_bad.sql" "$P/models/m1.sql" "$P/models/m2.sql" "$P/models/scaled.sql"

# --- a model writes only its own table ---
mkdir -p "$P/models/t"
printf "{{ config(namespace='audit') }}\nSELECT 1 AS x\n" > "$P/models/t/build_runs.sql"
expect_exit "owner: the audit namespace is refused" 2 S build
expect_contains "owner: ... naming file:line" "$out" "models/t/build_runs.sql:1: namespace 'audit'"
rm "$P/models/t/build_runs.sql"
printf "{{ config(namespace='bronze') }}\nSELECT 1 AS x\n" > "$P/models/people.sql"
before=$(q "select count(*), max(name) from bronze.people")
expect_exit "owner: a model named like an ingested table fails" 1 S build --select people
expect_contains "owner: ... saying why" "$out" "bronze.people exists and was not made by a model"
expect_eq "owner: ... and the ingested table is untouched" "$(q "select count(*), max(name) from bronze.people")" "$before"
rm "$P/models/people.sql"
printf 'SELECT 1 AS x\n' > "$P/models/Dup.sql"
printf 'SELECT 2 AS x\n' > "$P/models/t/dup.sql"
expect_exit "owner: model names differing in case only" 2 S build
expect_contains "owner: ... name both files" "$out" "both define model"
rm "$P/models/Dup.sql" "$P/models/t/dup.sql"

# --- a relationships check on another model runs after that model is built ---
cat > "$P/models/orders.sql" <<'EOF'
{{- config(materialized='table', tags=['core'], ) -}}
SELECT id, person_id, {{ one_hot('cat', source('bronze', 'orders')) }} FROM {{- source('bronze', 'orders') -}}
EOF
printf "{{ config(tags=['core']) }}\nSELECT * FROM {{ source('bronze', 'people') }}\n" > "$P/models/persons.sql"
cat > "$P/models/orders.yml" <<'EOF'
checks:
  - table: orders
    columns:
      person_id: [{relationships: {to: silver.persons, field: id}}]
EOF
expect_exit "relationships: a person is missing" 1 S build --threads 1
printf 'id,name\n11,y\n' > "$T/people2.csv"
S ingest "$T/people2.csv" --into bronze.people >/dev/null
expect_ok "relationships: the new person is built before the check reads it" S build --select tag:core --threads 1
# A model that refs the checked one, read by its check: a cycle.
printf "SELECT p.* FROM {{ source('bronze', 'people') }} p, (SELECT count(*) FROM {{ ref('orders') }})\n" > "$P/models/persons.sql"
expect_exit "relationships: a check closing a cycle is a config error" 2 S build
expect_contains "relationships: ... naming the cycle" "$out" "models form a cycle: orders -> persons -> orders"
printf "{{ config(tags=['core']) }}\nSELECT * FROM {{ source('bronze', 'people') }}\n" > "$P/models/persons.sql"
lin=$(S lineage --format json)
expect_contains "relationships: lineage shows the check's edge" "$lin" '{"from":"silver.persons","to":"silver.orders","kind":"check"'
expect_eq "one_hot: a NULL category is 0 in every column" "$(q 'select cat_a, cat_b from silver.orders where id = 3')" "0,0"
expect_eq "whitespace control and a trailing comma: the model built" "$(q 'select count(*) from silver.orders')" "3"

# --- --select: spaces are a union, commas an intersection ---
printf "SELECT count(*) AS n FROM {{ ref('orders') }}\n" > "$P/models/counts.sql"
out=$(S build --select "tag:core,orders+" --full-refresh --format json)
expect_contains "select: tag:core,orders+ takes orders" "$out" '"model":"orders"'
[[ "$out" != *'"model":"persons"'* && "$out" != *'"model":"counts"'* ]] && ok "select: ... and nothing outside both" \
  || fail "select: ... took more: $out"
out=$(S build --select "persons counts" --format json)
expect_contains "select: a space is a union" "$out" '"model":"counts"'
expect_exit "select: a selector matching nothing is bad usage" 2 S build --select "tag:core,nosuch"
rm "$P/models/counts.sql"

# --- a view's failing rows go to quarantine too ---
cat > "$P/models/v_people.sql" <<'EOF'
{{ config(materialized='view', namespace='gold') }}
SELECT id, NULLIF(name, 'x') AS name FROM {{ ref('persons') }}
EOF
printf 'checks:\n  - table: v_people\n    columns:\n      name: [not_null]\n' > "$P/models/v_people.yml"
expect_exit "view: a failing check fails the build" 1 S build --select v_people
expect_eq "view: ... its failing row is in quarantine" "$(q 'select id, _check, _reason from quarantine.gold_v_people')" \
  "10,not_null(name),name is NULL"
cat > "$P/models/q.sql" <<'EOF2'
SELECT * FROM (VALUES (1, 'a', 5), (1, 'z', 500)) t(id, grade, age)
EOF2
printf "checks:\n  - table: q\n    columns:\n      grade: [{accepted_values: [a, b]}]\n      age: [{between: {min: 1, max: 100}}]\n" > "$P/models/q.yml"
S build --select q >/dev/null 2>&1
expect_eq "quarantine: each row says why it failed" "$(q "select string_agg(_reason, '; ' ORDER BY _reason) from quarantine.silver_q")" \
  "\"age = 500 is NULL or outside [1, 100]; grade = z is not an accepted value\""
rm "$P/models/q.sql" "$P/models/q.yml"

# --- a custom check's sql may ref models, name sources and call macros ---
cat > "$P/models/orders_sql.yml" <<'EOF2'
checks:
  - table: orders
    checks:
      - sql: "SELECT o.* FROM {{ this }} o ANTI JOIN {{ ref('persons') }} p ON o.person_id = p.id WHERE log1p(o.id) > 0"
      - sql: "SELECT * FROM {{ this }} WHERE person_id NOT IN (SELECT id FROM {{ source('bronze', 'people') }})"
EOF2
out=$(S check orders --format json)
expect_eq "check sql: ref, source and a helper macro run and pass" "$(grep -c '"check":"sql","severity":"error","status":"pass"' <<<"$out")" "2"
echo "      - sql: \"SELECT * FROM {{ ref('nosuch') }}\"" >> "$P/models/orders_sql.yml"
expect_exit "check sql: an unknown ref is a config error" 2 S check orders
expect_contains "check sql: ... naming the check" "$out" "models/orders_sql.yml:6: the check's sql: ref('nosuch') names no model"
rm "$P/models/orders_sql.yml"

# --- config options must name the output's columns ---
printf "{{ config(materialized='incremental', unique_key='nosuch') }}\nSELECT * FROM {{ source('bronze', 'people') }}\n" > "$P/models/inc.sql"
expect_exit "config: an unknown unique_key fails the model" 1 S build --select inc
expect_contains "config: ... saying so" "$out" "unique_key 'nosuch' is not a column of the model's output; its columns: id, name"
printf "{{ config(materialized='incremental', unique_key='id', event_time='nosuch', lookback='1h') }}\nSELECT * FROM {{ source('bronze', 'people') }}\n" > "$P/models/inc.sql"
expect_exit "config: an unknown event_time fails the first build" 1 S build --select inc
expect_contains "config: ... saying so" "$out" "event_time 'nosuch' is not a column"
printf "{{ config(materialized='view', partition='id') }}\nSELECT 1 AS id\n" > "$P/models/inc.sql"
expect_exit "config: partition on a view" 2 S build --select inc
expect_contains "config: ... saying it applies to tables" "$out" "partition applies to tables"
rm "$P/models/inc.sql"

# --- incremental models whose new input rows change rows built before: built in full ---
printf 'id,cust\n1,1\n2,2\n3,3\n' > "$T/fact.csv"
printf 'cust,name\n1,alice\n2,bob\n' > "$T/dim1.csv"
printf 'cust,name\n3,carol\n' > "$T/dim2.csv"
printf 'order_id\n1\n' > "$T/cancel1.csv"
printf 'order_id\n2\n1\n' > "$T/cancel2.csv"
S ingest "$T/fact.csv" --into bronze.fact >/dev/null
S ingest "$T/dim1.csv" --into bronze.dim >/dev/null
S ingest "$T/cancel1.csv" --into bronze.cancels >/dev/null
cat > "$P/models/named.sql" <<'EOF2'
{{ config(materialized='incremental', unique_key='id') }}
SELECT f.id, d.name FROM {{ source('bronze', 'fact') }} f LEFT JOIN {{ source('bronze', 'dim') }} d ON f.cust = d.cust
EOF2
cat > "$P/models/open_ids.sql" <<'EOF2'
{{ config(materialized='incremental') }}
SELECT id FROM {{ source('bronze', 'fact') }} f
WHERE NOT EXISTS (SELECT 1 FROM {{ source('bronze', 'cancels') }} c WHERE c.order_id = f.id)
EOF2
cat > "$P/models/cancelled.sql" <<'EOF2'
{{ config(materialized='incremental') }}
SELECT id FROM {{ source('bronze', 'fact') }} WHERE id IN (SELECT order_id FROM {{ source('bronze', 'cancels') }})
EOF2
S build --select "named open_ids cancelled" >/dev/null
S ingest "$T/dim2.csv" --into bronze.dim >/dev/null
S ingest "$T/cancel2.csv" --into bronze.cancels >/dev/null
out=$(S build --select "named open_ids cancelled" --format json)
expect_contains "left join: a new row on its optional side builds in full" "$out" "input bronze.dim is read by a LEFT join"
expect_eq "left join: ... every row keeps its match" "$(q "select string_agg(coalesce(name, '-'), ',' ORDER BY id) from silver.named")" '"alice,bob,carol"'
expect_contains "not exists: a new row of the subquery builds in full" "$out" "input bronze.cancels is read by a MARK join"
expect_eq "not exists: ... cancelled orders leave" "$(q "select string_agg(id::VARCHAR, ',' ORDER BY id) from silver.open_ids")" "3"
expect_eq "in: ... an order cancelled twice is there once" "$(q "select string_agg(id::VARCHAR, ',' ORDER BY id) from silver.cancelled")" '"1,2"'
rm "$P/models/named.sql" "$P/models/open_ids.sql" "$P/models/cancelled.sql"

# --- a column Parquet stores in another type (sum() of BIGINT is HUGEINT, kept as
# DOUBLE) does not make every merge rewrite the whole table ---
# rebuilt MODEL TABLE CSV1 CSV2 SQL: CSV1 into bronze.TABLE, MODEL (SQL) built, CSV2
# into bronze.TABLE, MODEL built again; $out holds that build's JSON.
rebuilt() {
  S ingest "$3" --into "bronze.$2" >/dev/null
  printf '%s\n' "$5" > "$P/models/$1.sql"
  S build --select "$1" >/dev/null
  S ingest "$4" --into "bronze.$2" >/dev/null
  out=$(S build --select "$1" --format json)
}
printf 'k,v\n1,10\n2,20\n3,30\n' > "$T/kv1.csv"
printf 'k,v\n2,5\n' > "$T/kv2.csv"
rebuilt sums kv "$T/kv1.csv" "$T/kv2.csv" \
  "{{ config(materialized='incremental', unique_key='k') }} SELECT k, sum(v) AS s FROM {{ source('bronze', 'kv') }} GROUP BY k"
expect_contains "hugeint: the merge rewrites only its file" "$out" '"how":"incremental: 1 changed rows merged; of 1 files'
expect_eq "hugeint: ... and sums right" "$(q "select string_agg(s::VARCHAR, ',' ORDER BY k) from silver.sums")" '"10,25,30"'
rm "$P/models/sums.sql"

# --- a partitioned incremental model: small files are packed within a partition, so a
# merge does not rewrite the file of every partition value ---
seq 1 20 | awk 'BEGIN{print "d,v"} {printf "2024-01-%02d,%d\n", $1, $1}' > "$T/days1.csv"
printf 'd,v\n2024-01-02,5\n' > "$T/days2.csv"
rebuilt daily days "$T/days1.csv" "$T/days2.csv" \
  "{{ config(materialized='incremental', unique_key='d', partition='d') }} SELECT d, sum(v)::BIGINT AS s FROM {{ source('bronze', 'days') }} GROUP BY d"
expect_contains "partitions: a merge rewrites the one partition it touches" "$out" 'of 20 files 1 rewritten (1 rows)'
expect_eq "partitions: ... and sums right" "$(q "select sum(s) from silver.daily")" "215"
rm "$P/models/daily.sql"

# --- models that are not SQL, and names that are not there ---
printf "{{ config(materialized='table') }}\n-- to do\n" > "$P/models/empty.sql"
expect_exit "empty: a model without SQL is a config error" 2 S build --select empty
expect_contains "empty: ... naming the file" "$out" "models/empty.sql: the model has no SQL"
rm "$P/models/empty.sql"
printf "SELECT * FROM {{ source('bronze', 'nosuch') }}\n" > "$P/models/bad_src.sql"
expect_exit "exit codes: an unknown source is a config error, like an unknown ref" 2 S build
rm "$P/models/bad_src.sql"

finish
