#!/usr/bin/env bash
# test_build.sh: models and checks end to end: the loans and diabetes examples, the
# helpers against a reference computed another way, DAG order, cycles and bad refs,
# SQL errors, every check kind passing and failing, write-audit-publish with
# quarantine, and incremental builds equal to full ones over many random histories.
source "$(dirname "$0")/../lib.sh"
S() { "$SLUICE" --project "$P" "$@"; }
q() { S sql --format csv "$1" | tail -n +2; }

# --- the loans example ---
P=$T/loans
cp -r "$SL_SRC/examples/loans" "$P"
S gen loans --rows 20000 --out "$T/loans.csv" >/dev/null
S ingest "$T/loans.csv" --into bronze.loan >/dev/null
expect_ok "loans: build" S build
expect_eq "loans: silver.loan keeps the valid rows" "$(q 'select count(*) from silver.loan')" \
  "$(q 'select count(*) from bronze.loan where person_age between 18 and 100 and person_income > 0 and loan_amnt > 0 and loan_int_rate is not null')"
expect_eq "loans: gold.loan_features has every silver row" "$(q 'select count(*) from gold.loan_features')" "$(q 'select count(*) from silver.loan')"
# robust_scale(log1p(x)) against (ln(1+x) - median) / IQR computed without the macros.
d=$(q "with s as (select id, ln(1 + person_income) v from bronze.loan where person_age between 18 and 100 and person_income > 0 and loan_amnt > 0 and loan_int_rate is not null),
       st as (select median(v) m, quantile_cont(v, 0.75) - quantile_cont(v, 0.25) iqr from s)
       select max(abs(l.person_income_scaled - (s.v - st.m) / st.iqr)) < 1e-9 from silver.loan l join s using (id), st")
expect_eq "loans: robust_scale(log1p) equals the reference" "$d" "true"
expect_eq "loans: one_hot gives exactly one home_* per row" "$(q "select count(*) from silver.loan where home_RENT + home_OWN + home_MORTGAGE + home_OTHER <> 1")" "0"
expect_eq "loans: the view answers" "$(q 'select sum(loans) from gold.loan_default_rates')" "$(q 'select count(*) from silver.loan')"
expect_eq "loans: the view is listed as a view, its rows not counted" \
  "$(S tables --format json | python3 -c 'import json,sys; print([(t["kind"], t["rows"], t["files"]) for t in json.load(sys.stdin) if t["table"] == "gold.loan_default_rates"])')" "[('view', None, None)]"
expect_eq "loans: ... nor in the build's summary and audit.build_runs" \
  "$(S build --full-refresh --select loan_default_rates --format json | python3 -c 'import json,sys; print([m["rows"] for m in json.load(sys.stdin)["models"]])') $(q "select count(*) from audit.build_runs where model = 'loan_default_rates' and rows is null")" "[None] 2"
out=$(S build 2>&1)
expect_contains "loans: a second build changes nothing" "$out" "3 built or fresh"
expect_eq "loans: ... and makes no snapshot" "$(S snapshots silver.loan --format csv | tail -n +2 | wc -l)" "1"
expect_contains "lineage: text" "$(S lineage)" "gold.loan_features  (table"
expect_contains "lineage: json edges" "$(S lineage --format json)" '{"from":"silver.loan","to":"gold.loan_features","kind":"ref"}'
expect_contains "lineage: dot" "$(S lineage --format dot)" '"bronze.loan" -> "silver.loan"'

# --- compile: the printed SQL, run by DuckDB on its own, gives the built tables ---
out=$(S compile)
expect_contains "compile: refs become the current snapshot's files" "$out" "read_parquet(["
expect_contains "compile: helper macros come first" "$(echo "$out" | head -3)" "MACRO log1p"
expect_contains "compile: one_hot is expanded" "$out" 'AS "home_RENT"'
# The whole text (macros, then each model ending in ';') runs as a script.
expect_ok "compile: the sql output runs as is" S sql --format csv -- "$out"
S compile --format json > "$T/compiled.json"
rowsum() { echo "SELECT count(*), bit_xor(hash(_r)) FROM ($1) AS _r"; }
for m in loan loan_features loan_default_rates; do
  # The helper macros, then the model's SQL wrapped in a row checksum.
  table=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
m = [m for m in d["models"] if m["model"] == sys.argv[2]][0]
open(sys.argv[3], "w").write(d["macros"] + "\nSELECT count(*), bit_xor(hash(_r)) FROM (\n" + m["sql"] + "\n) AS _r")
print(m["table"])' "$T/compiled.json" "$m" "$T/direct.sql")
  expect_eq "compile: $table's SQL run directly equals the table" "$(q "$(cat "$T/direct.sql")")" \
    "$(q "$(rowsum "SELECT * FROM $table")")"
done
expect_contains "compile --refs names" "$(S compile --select loan_features --refs names)" 'FROM "silver"."loan"'
expect_eq "compile --select picks one model" "$(S compile --select loan_features | grep -c '^-- .* from models/')" "1"
expect_eq "compile: json lists inputs with their reader" \
  "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); m=[m for m in d["models"] if m["model"]=="loan"][0]; print(m["inputs"][0]["table"], "read_parquet" in m["inputs"][0]["sql"], m["unique_key"])' "$T/compiled.json")" \
  "bronze.loan True ['id']"
expect_exit "compile: bad --refs is a usage error" 2 S compile --refs nope
expect_exit "compile: unknown selector" 2 S compile --select nosuchmodel

# --- write-audit-publish: a failing error check keeps the old snapshot ---
before=$(S snapshots silver.loan --format csv | tail -n +2 | wc -l)
sed -i 's/between: {min: 18, max: 100}/between: {min: 30, max: 100}/' "$P/models/silver/loan.yml"
expect_exit "wap: a failing check fails the build" 1 S build
expect_contains "wap: the summary names the check" "$out" "between(person_age)"
expect_contains "wap: downstream is skipped" "$out" "upstream model loan did not build"
expect_eq "wap: silver.loan has no new snapshot" "$(S snapshots silver.loan --format csv | tail -n +2 | wc -l)" "$before"
expect_eq "wap: quarantine holds the failing rows" "$(q "select count(*) = least(1000, (select count(*) from silver.loan where person_age < 30)) and bool_and(person_age < 30) from quarantine.silver_loan where _check = 'between(person_age)'")" "true"
expect_eq "wap: results are kept" "$(q "select count(*) from audit.check_results where status = 'fail' and check_name = 'between(person_age)'")" "1"
sed -i 's/mostly: 0.99/mostly: 0.99/; s/between: {min: 30, max: 100}/between: {min: 30, max: 100, severity: warn}/' "$P/models/silver/loan.yml"
expect_ok "wap: as a warning it publishes" S build
expect_eq "wap: ... a new snapshot" "$(S snapshots silver.loan --format csv | tail -n +2 | wc -l)" "$((before + 1))"

# --- the diabetes example: min-max scaling equals (x - min) / (max - min) ---
P=$T/diabetes
cp -r "$SL_SRC/examples/diabetes" "$P"
S gen diabetes --rows 3000 --out "$T/diabetes.csv" >/dev/null
S ingest "$T/diabetes.csv" --into bronze.diabetes >/dev/null
expect_ok "diabetes: build" S build
expect_eq "diabetes: min_max_scale equals the reference" "$(q "select bool_and(Insulin_normed = round((Insulin - (select min(Insulin) from bronze.diabetes)) / ((select max(Insulin) from bronze.diabetes) - (select min(Insulin) from bronze.diabetes)), 3)) and min(Age_normed) = 0 and max(Age_normed) = 1 from silver.diabetes")" "true"
expect_exit "diabetes: sluice check passes" 0 S check --all
expect_contains "diabetes: report lists not_null(Glucose)" "$out" "not_null(Glucose)"

# --- DAG order, cycles, bad refs, SQL errors ---
P=$T/dag
S() { "$SLUICE" --project "$P" "$@"; }
"$SLUICE" init "$P" >/dev/null
printf 'id,v\n1,10\n2,20\n3,30\n' > "$T/a.csv"
S ingest "$T/a.csv" --into bronze.a >/dev/null
mkdir -p "$P/models"
echo "SELECT * FROM {{ source('bronze', 'a') }}" > "$P/models/m1.sql"
echo "SELECT id, v * 2 AS v FROM {{ ref('m1') }}" > "$P/models/m2.sql"
echo "SELECT id, v + 1 AS v FROM {{ ref('m1') }}" > "$P/models/m3.sql"
printf "{{ config(namespace='gold') }}\nSELECT a.id, a.v + b.v AS v\nFROM {{ ref('m2') }} a JOIN {{ ref('m3') }} b USING (id)\n" > "$P/models/m4.sql"
expect_ok "dag: build" S build --threads 2
expect_eq "dag: the result" "$(q 'select sum(v) from gold.m4')" "183"
order=$(S build --format json --full-refresh)
ids() { S snapshots "$1" --format csv | tail -n 1 | cut -d, -f1; }
s1=$(ids silver.m1) s2=$(ids silver.m2) s3=$(ids silver.m3) s4=$(ids gold.m4)
if [ "$s1" -lt "$s2" ] && [ "$s1" -lt "$s3" ] && [ "$s2" -lt "$s4" ] && [ "$s3" -lt "$s4" ]; then ok "dag: snapshots in dependency order"; else fail "dag: order $s1 $s2 $s3 $s4"; fi
# One worker builds all four in one DuckDB session, which keeps its lake views: each
# model must still read the snapshots its upstream models just made.
printf 'id,v\n4,40\n' > "$T/a4.csv"
S ingest "$T/a4.csv" --into bronze.a >/dev/null
expect_ok "dag: one worker" S build --threads 1
expect_eq "dag: ... reads what upstream just built" "$(q 'select sum(v) from gold.m4')" "304"
S ingest "$T/a.csv" --into bronze.a --mode replace >/dev/null
expect_exit "dag: select one model" 0 S build --select m2 --full-refresh
expect_contains "dag: only m2 ran" "$out" "1 built or fresh"
expect_exit "dag: +m4 selects its ancestors" 0 S build --select +m4 --format json
expect_eq "dag: +m4 is four models" "$(echo "$out" | grep -o '"model":' | wc -l)" "4"
# Every run appends its record to audit.build_runs; once 16 small files have gathered an
# append writes them again with its rows, so the table keeps a few files, every run kept.
runs=$(q 'select count(distinct run_id) from audit.build_runs')
for i in $(seq 17); do S build --select m2 >/dev/null; done
expect_eq "runs: every run recorded" "$(q 'select count(distinct run_id) from audit.build_runs')" "$((runs + 17))"
files=$(S describe audit.build_runs --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["files"])')
if [ "$files" -lt 16 ]; then ok "runs: small files packed ($files left)"; else fail "runs: $files files"; fi
expect_contains "runs: ... in a merge snapshot" "$(S snapshots audit.build_runs --format csv)" 'packed-files""'
echo "SELECT * FROM {{ ref('m2') }}" > "$P/models/m1.sql"
expect_exit "dag: a cycle is refused" 2 S build
expect_contains "dag: the cycle is named with file:line" "$out" "models form a cycle"
expect_contains "dag: ... with file:line" "$out" "models/m"
echo "SELECT * FROM {{ source('bronze', 'a') }}" > "$P/models/m1.sql"
printf "SELECT 1\n-- reads\nFROM {{ ref('nope') }}\n" > "$P/models/bad.sql"
expect_exit "dag: an unknown ref is refused" 2 S build
expect_contains "dag: names file:line" "$out" "models/bad.sql:3: ref('nope') names no model"
printf "SELECT no_such_column FROM {{ ref('m1') }}\n" > "$P/models/bad.sql"
expect_exit "dag: an SQL error fails the model" 1 S build
expect_contains "dag: ... naming its file" "$out" "models/bad.sql"
expect_contains "dag: ... and DuckDB's message" "$out" "no_such_column"
printf "{%% if x %%}SELECT 1{%% endif %%}\n" > "$P/models/bad.sql"
expect_exit "dag: jinja statements are refused" 2 S build
expect_contains "dag: ... clearly" "$out" "statements are not supported"
# dbt's incremental guard: is_incremental() is false (sluice finds the changed rows).
printf "SELECT 1 AS x\n{%%- if is_incremental() %%}\nWHERE x > (SELECT max(x) FROM {{ this }})\n{%% endif -%%}\n" > "$P/models/bad.sql"
expect_contains "dag: {% if is_incremental() %} ... {% endif %} is left out" "$(S compile --select bad)" $'models/bad.sql\nSELECT 1 AS x;'

printf "SELECT {%% if is_incremental() %%}2{%% else %%}1{%% endif %%} AS x\n" > "$P/models/bad.sql"
expect_contains "dag: ... its {% else %} is kept" "$(S compile --select bad)" $'models/bad.sql\nSELECT 1 AS x;'

printf "SELECT {%% if not is_incremental() %%}3{%% else %%}{{ this }}{%% endif %%} AS x\n" > "$P/models/bad.sql"
expect_contains "dag: ... and {% if not is_incremental() %}" "$(S compile --select bad)" $'models/bad.sql\nSELECT 3 AS x;'

printf "SELECT 1 AS x FROM {{ this }}\n" > "$P/models/bad.sql"
expect_exit "dag: {{ this }} on a first build fails the model" 1 S build --select bad
expect_contains "dag: ... saying how to guard it" "$out" "models/bad.sql:1: {{ this }} has no table yet (this is the model's first build); use it inside {% if is_incremental() %}"
printf "SELECT 1 AS x\n{%% if is_incremental() %%}\nWHERE true\n" > "$P/models/bad.sql"
expect_exit "dag: an {% if %} without {% endif %} is refused" 2 S build
expect_contains "dag: ... naming file:line" "$out" "models/bad.sql:2: {% if is_incremental() %} has no {% endif %}"
printf "SELECT 1 AS x {%% endif %%}\n" > "$P/models/bad.sql"
expect_exit "dag: a stray {% endif %} is refused" 2 S build
expect_contains "dag: ... clearly" "$out" "models/bad.sql:1: {% endif %} without {% if is_incremental() %}"
printf "SELECT 1 AS x {%% if not is_incremental() %%}{%% if is_incremental() %%}{%% endif %%}{%% endif %%}\n" > "$P/models/bad.sql"
expect_exit "dag: nested {% if %} is refused" 2 S build
expect_contains "dag: ... clearly" "$out" "do not nest"
printf "{{ config(materialized='tabel') }}\nSELECT 1 AS x\n" > "$P/models/bad.sql"
expect_exit "dag: a bad config is refused" 2 S build
expect_contains "dag: ... with file:line" "$out" "models/bad.sql:1: materialized='tabel'"
rm "$P/models/bad.sql"

# --- every check kind, passing and failing ---
cat > "$T/c.csv" <<'CSV'
id,grade,amount,code,ts,parent
1,A,10.5,AB-1,2026-01-01 00:00:00,1
2,B,20,AB-2,2026-01-02 00:00:00,2
3,C,30,AB-3,2026-01-03 00:00:00,3
4,,40,XX,2026-01-04 00:00:00,9
4,A,-5,AB-5,2026-01-05 00:00:00,1
CSV
S ingest "$T/c.csv" --into bronze.c >/dev/null
mkdir -p "$P/checks"
cat > "$P/checks/checks.yml" <<'YAML'
checks:
  - table: bronze.c
    columns:
      id:
        - not_null: {name: p_not_null}
        - unique: {name: f_unique}
        - relationships: {to: bronze.a, field: id, name: f_rel}
      grade:
        - not_null: {name: f_not_null}
        - not_null: {name: p_mostly, mostly: 0.8}
        - not_null: {name: f_mostly, mostly: 0.9}
        - accepted_values: {values: [A, B, C], name: p_accepted}
        - accepted_values: {values: [A, B], name: f_accepted}
      amount:
        - between: {min: 0, max: 100, name: f_between}
        - between: {min: -10, max: 100, name: p_between}
        - mean_between: {min: 18, max: 20, name: p_mean}
        - mean_between: {min: 30, max: 40, name: f_mean}
        - median_between: {min: 20, max: 20, name: p_median}
        - median_between: {min: 21, name: f_median}
        - quantile_between: {quantile: 0.9, min: 30, max: 40, name: p_quantile}
        - quantile_between: {quantile: 0.1, min: 5, name: f_quantile}
      grade_x: []
      code:
        - regex: {pattern: '^AB-[0-9]$', name: f_regex}
        - regex: {pattern: '^[A-Z]+(-[0-9])?$', name: p_regex}
        - not_null_proportion: {min: 1, name: p_proportion}
      ts:
        - freshness: {max_age: 36500d, name: p_fresh}
        - freshness: {max_age: 1h, name: f_fresh}
    checks:
      - row_count: {min: 5, max: 5, name: p_rows}
      - row_count: {min: 6, name: f_rows}
      - unique: {columns: [id, grade], name: p_unique_set}
      - schema: {name: p_schema, columns: {id: BIGINT, grade: VARCHAR}}
      - schema: {name: f_schema, columns: {id: VARCHAR, nope: INTEGER}}
      - sql: {sql: "SELECT * FROM {{ this }} WHERE amount > 1000", name: p_sql}
      - sql: {sql: "SELECT * FROM {{ this }} WHERE amount < 0", name: f_sql, severity: warn}
  - table: bronze.a
    columns:
      id: [{relationships: {to: bronze.c, field: id, name: p_rel}}]
YAML
sed -i '/grade_x: \[\]/d' "$P/checks/checks.yml"
out=$(S check --all --format json)
rc=$?
expect_eq "checks: an error-level failure exits 1" "$rc" "1"
bad=$(echo "$out" | python3 -c '
import json,sys
rows=json.load(sys.stdin)
bad=[r["check"]+"="+r["status"] for r in rows if (r["check"][0]=="p") != (r["status"]=="pass")]
print(len(rows), " ".join(bad))')
expect_eq "checks: every p_ passes and every f_ fails" "$bad" "29 "
expect_contains "checks: a warn check warns" "$out" '"check":"f_sql","severity":"warn","status":"warn"'
expect_contains "checks: failing count and sample" "$out" '"check":"f_unique","severity":"error","status":"fail","failing":2'
expect_contains "checks: mostly reports the share" "$out" "80% pass, mostly 90%"
expect_contains "checks: schema names the difference" "$out" "column nope is missing"
printf 'checks:\n  - table: bronze.c\n    columns:\n      id: [not_nul]\n' > "$P/checks/checks.yml"
expect_exit "checks: an unknown kind is a config error" 2 S check --all
expect_contains "checks: ... naming file:line:column" "$out" "checks.yml:4:12"
rm "$P/checks/checks.yml"

# --- check arguments: typed values, the schema short form, errors before any SQL ---
P=$T/chk
"$SLUICE" init "$P" >/dev/null
printf 'id,d,name,ts\n1,1.0,x,2023-01-01\n2,2.0,y,2023-01-02\n3,3.0,z,2023-01-03\n' > "$T/v.csv"
S ingest "$T/v.csv" --into bronze.v >/dev/null
mkdir -p "$P/models" "$P/checks"
echo "SELECT id, d, (d * 1.5)::DECIMAL(10,2) AS m, name, ts FROM {{ source('bronze', 'v') }}" > "$P/models/typed.sql"
expect_ok "args: build the typed model" S build
# chk COLUMN CHECK CODE NAME NEEDLE...: checks/c.yml with one CHECK on typed.COLUMN, then
# `sluice check` exits CODE and says each NEEDLE.
chk() {
  local col=$1 check=$2 code=$3 name=$4
  shift 4
  printf 'checks:\n  - table: typed\n    columns:\n      %s: [%s]\n' "$col" "$check" > "$P/checks/c.yml"
  expect_exit "args: $name exits $code" "$code" S check --all
  for n in "$@"; do expect_contains "args: $name says '$n'" "$out" "$n"; done
}
# status JSON CHECK: "CHECK=status" of the named check in a JSON report.
status() { echo "$1" | python3 -c 'import json,sys; print(" ".join(r["check"]+"="+r["status"] for r in json.load(sys.stdin) if r["check"]==sys.argv[1]))' "$2"; }
chk d '{accepted_values: []}' 2 "no accepted values" "c.yml:4:" "accepted_values on table typed, column d: needs at least one value"
chk d '{between: {min: 100, max: 10}}' 2 "min above max" "c.yml:4:" "between on table typed, column d: min 100 is above max 10"
chk ts "{freshness: {max_age: '0'}}" 2 "a zero max_age" "c.yml:4:" "max_age must be a positive duration"
printf 'checks:\n  - table: typed\n    checks:\n      - schema: {id: BIGINT, name: INTEGER}\n      - schema: {columns: {id: BIGINT, name: VARCHAR}, name: p_long, severity: warn}\n' > "$P/checks/c.yml"
out=$(S check --all --format json)
expect_eq "args: the schema short form reads name as a column" "$(status "$out" schema)" "schema=fail"
expect_contains "args: ... and says how it differs" "$out" "column name is VARCHAR, not INTEGER"
expect_eq "args: the long form takes options" "$(status "$out" p_long)" "p_long=pass"
printf 'checks:\n  - table: typed\n    checks:\n      - schema: {columns: {id: BIGINT}, sevrity: warn}\n' > "$P/checks/c.yml"
expect_exit "args: an unknown option of the long form" 2 S check --all
expect_contains "args: ... is named" "$out" "schema has no option 'sevrity'"
cat > "$P/checks/c.yml" <<'YAML'
checks:
  - table: typed
    columns:
      d:
        - accepted_values: {values: [1, 2, 3], name: p_double}
        - accepted_values: {values: [1, 2], name: f_double}
      m: [{accepted_values: {values: [1.5, 3, 4.5], name: p_decimal}}]
      name: [{accepted_values: {values: [x, y, z], name: p_text}}]
      ts: [{accepted_values: {values: [2023-01-01, 2023-01-02, 2023-01-03], name: p_date}}]
YAML
out=$(S check --all --format json)
expect_eq "args: accepted_values compare in the column's type (DOUBLE, DECIMAL, text, DATE)" \
  "$(for c in p_double f_double p_decimal p_text p_date; do status "$out" $c; done | xargs)" \
  "p_double=pass f_double=fail p_decimal=pass p_text=pass p_date=pass"
expect_contains "args: ... f_double fails one row" "$out" '"check":"f_double","severity":"error","status":"fail","failing":1'
chk d '{accepted_values: [1, 2, abc]}' 1 "a value not of the type" "c.yml:4:" \
  "check accepted_values(d) on table silver.typed: accepted value 'abc' is not a value of column d's type DOUBLE"
chk id '{accepted_values: [1.5, 2]}' 1 "a value an integer column cannot hold" \
  "accepted value '1.5' is not a value of column id's type BIGINT"
chk d '{between: {min: abc}}' 1 "a bound not of the type" "c.yml:4:" \
  "check between(d) on table silver.typed: min 'abc' is not a value of column d's type DOUBLE"
chk ts '{between: {min: 2024-01-01, max: 2023-01-01}}' 1 "min above max (dates)" "column ts: min 2024-01-01 is above max 2023-01-01"
chk ts '{between: {min: 2023-01-02}}' 1 "a date bound fails rows, not the query" "1 of 3 rows fail"
chk nope '{not_null: {name: nn}}' 1 "a column the table lacks" "c.yml:4:" \
  "check nn: column nope not in table silver.typed; its columns are id, d, m, name, ts"
chk id '{relationships: {to: bronze.v, field: nope}}' 1 "a field the target lacks" \
  "check relationships(id): field nope not in table bronze.v; its columns are id, d, name, ts"
chk id '{relationships: {to: bronze.gone, field: id}}' 1 "a target that does not exist" "table bronze.gone (its to:) does not exist"
chk id '{relationships: {to: typed, field: id}}' 0 "a model's name as relationships to:" "relationships(id)"
chk id '{relationships: {to: nosuchmodel, field: id}}' 2 "a target neither model nor ns.table" \
  "'nosuchmodel' of check relationships(id) is neither a model nor ns.table"
chk ts '{freshness: {max_age: 1h}}' 1 "a stale table" "the newest row is "
line=$(S check --all | grep 'freshness(ts)')
[[ "$line" =~ \ [0-9]+d(\ [0-9]+h)?\ +the\ newest\ row\ is\ [0-9]+d(\ [0-9]+h)?\ old\;\ at\ most\ 1h\ allowed ]] &&
  ok "args: freshness reads as a duration in text" || fail "args: freshness reads as a duration in text: $line"
expect_eq "args: ... and stays seconds in JSON" \
  "$(S check --all --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["observed"].isdigit())')" "True"
rm "$P/checks/c.yml"
printf 'version: 2\nmodels:\n  - name: typed\n' > "$P/models/schema.yml"
expect_exit "args: a .yml without checks: under models/ is refused" 2 S check --all
expect_contains "args: ... naming the file and what is expected" "$out" \
  "models/schema.yml: not a sluice checks file: it has no top-level checks: list (its keys: version, models)"
printf '# nothing yet\n' > "$P/models/schema.yml"
expect_ok "args: an empty .yml declares nothing" S check --all
rm "$P/models/schema.yml"

finish
