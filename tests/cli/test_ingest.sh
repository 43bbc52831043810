#!/usr/bin/env bash
# test_ingest.sh: init, ingest of CSV/Parquet/JSONL, append/replace, schema checks,
# malformed files (error text and table unchanged), time travel, project discovery.
source "$(dirname "$0")/../lib.sh"
P=$T/proj
S() { "$SLUICE" --project "$P" "$@"; }
q() { S sql --format csv "$1" | tail -n +2; }

expect_ok "init" "$SLUICE" init "$P"
expect_exit "init twice refuses" 1 "$SLUICE" init "$P"
expect_contains "init twice message" "$out" "already a project"
expect_eq "namespaces" "$(q "SELECT string_agg(schema_name, '|' ORDER BY schema_name) FROM information_schema.schemata WHERE schema_name IN ('bronze','silver','gold')")" "bronze|gold|silver"

printf 'id,name,amount,day\n1,ann,10.5,2026-01-01\n2,bob,20,2026-01-02\n3,"c, d",30.25,2026-01-03\n' > "$T/a.csv"
expect_ok "ingest csv" S ingest "$T/a.csv" --into bronze.people
expect_contains "ingest summary" "$out" "created bronze.people: 3 rows"
expect_eq "rows after csv" "$(q "SELECT count(*), sum(amount) FROM bronze.people")" "3,60.75"
expect_eq "quoted field" "$(q "SELECT name FROM bronze.people WHERE id = 3")" '"c, d"'
expect_eq "types inferred" "$(q "SELECT string_agg(column_type, '|') FROM (DESCRIBE bronze.people)")" "BIGINT|VARCHAR|DOUBLE|DATE"

# Parquet and JSONL inputs made by the SQL engine itself.
S sql "COPY (SELECT 4::BIGINT AS id, 'dan' AS name, 40.0::DOUBLE AS amount, DATE '2026-01-04' AS day) TO '$T/b.parquet' (FORMAT parquet)" >/dev/null
printf '{"id": 5, "name": "eve", "amount": 50.0, "day": "2026-01-05"}\n{"id": 6, "name": "fay", "amount": 60.0, "day": "2026-01-06"}\n' > "$T/c.jsonl"
expect_ok "ingest parquet" S ingest "$T/b.parquet" --into bronze.people
expect_ok "ingest jsonl" S ingest "$T/c.jsonl" --into bronze.people
expect_eq "rows after 3 formats" "$(q "SELECT count(*), max(id) FROM bronze.people")" "6,6"
expect_eq "snapshots" "$(S snapshots bronze.people --format csv | tail -n +2 | cut -d, -f4 | tr '\n' ' ')" "create append append "

# JSON output of ingest is machine-readable.
printf 'id,name,amount,day\n7,gus,70,2026-01-07\n' > "$T/d.csv"
json=$(S ingest "$T/d.csv" --into bronze.people --format-out json)
expect_contains "ingest json rows" "$json" '"rows":1'
expect_contains "ingest json table" "$json" '"table":"bronze.people"'

# Time travel: by snapshot id and by time.
first=$(S snapshots bronze.people --format csv | sed -n 2p | cut -d, -f1)
expect_eq "as-of first snapshot" "$(S sql --format csv --as-of "$first" "SELECT count(*) FROM bronze.people" | tail -1)" "3"
expect_eq "as-of now" "$(S sql --format csv --as-of "2999-01-01T00:00:00Z" "SELECT count(*) FROM bronze.people" | tail -1)" "7"
expect_exit "as-of before the table existed" 1 S sql --as-of "2000-01-01" "SELECT count(*) FROM bronze.people"
expect_contains "as-of before: table unknown" "$out" "people"
expect_exit "as-of nonsense" 2 S sql --as-of "last tuesday" "SELECT 1"

# Replace.
expect_ok "replace" S ingest "$T/a.csv" --into bronze.people --mode replace
expect_eq "rows after replace" "$(q "SELECT count(*) FROM bronze.people")" "3"
expect_eq "as-of before replace still readable" "$(S sql --format csv --as-of "$((first + 3))" "SELECT count(*) FROM bronze.people" | tail -1)" "7"

# Schema: a new column needs --evolve; the table is unchanged until then.
printf 'id,name,amount,day,city\n8,hal,80,2026-01-08,Oslo\n' > "$T/e.csv"
before=$(S snapshots bronze.people --format csv | wc -l)
expect_exit "new column refused" 1 S ingest "$T/e.csv" --into bronze.people
expect_contains "new column message" "$out" "city"
expect_contains "new column hint" "$out" "--evolve"
expect_eq "no snapshot after refusal" "$(S snapshots bronze.people --format csv | wc -l)" "$before"
expect_ok "evolve" S ingest "$T/e.csv" --into bronze.people --evolve
expect_eq "evolved rows" "$(q "SELECT count(*), count(city) FROM bronze.people")" "4,1"
expect_eq "old snapshot keeps old schema" "$(S sql --format csv --as-of "$first" "SELECT count(*) FROM (DESCRIBE bronze.people)" | tail -1)" "4"
expect_contains "describe shows field ids" "$(S describe bronze.people)" "city"

# Type mismatch: amount as text.
printf 'id,name,amount,day\n9,ivy,lots,2026-01-09\n' > "$T/f.csv"
expect_exit "type mismatch refused" 1 S ingest "$T/f.csv" --into bronze.people
expect_contains "type mismatch names column" "$out" "column 'amount' is VARCHAR in the files but DOUBLE in bronze.people"
# Missing columns become NULL.
printf 'id,name\n10,jon\n' > "$T/g.csv"
expect_ok "fewer columns" S ingest "$T/g.csv" --into bronze.people
expect_eq "missing columns are null" "$(q "SELECT amount IS NULL FROM bronze.people WHERE id = 10")" "true"

# Malformed: a bad value far past the sniffer's sample, and a ragged row.
{ echo "id,v"; for i in $(seq 1 30000); do echo "$i,$i"; done; echo "30001,x7"; } > "$T/bad.csv"
snaps=$(S snapshots bronze.people --format csv | wc -l)
expect_exit "malformed value" 1 S ingest "$T/bad.csv" --into bronze.nums --schema "id BIGINT, v BIGINT"
expect_contains "malformed names file" "$out" "bad.csv"
expect_contains "malformed names line" "$out" ":30002"
expect_contains "malformed names column" "$out" '"v"'
expect_exit "failed create leaves no table" 1 S describe bronze.nums
printf 'id,name,amount,day\n11,kim,1,2026-01-01\n12,lee,2,2026-01-02,extra\n' > "$T/ragged.csv"
expect_exit "ragged row" 1 S ingest "$T/ragged.csv" --into bronze.people
expect_contains "ragged names file and line" "$out" "ragged.csv:3"
expect_eq "table unchanged after failures" "$(S snapshots bronze.people --format csv | wc -l)" "$snaps"
expect_eq "no stray files after failures" "$(find "$P/lake/bronze/nums" -name '*.parquet' 2>/dev/null | wc -l)" "0"
expect_exit "missing file" 1 S ingest "$T/nope.csv" --into bronze.people
expect_contains "missing file message" "$out" "nope.csv: no such file"
printf 'not parquet' > "$T/fake.parquet"
expect_exit "corrupt parquet" 1 S ingest "$T/fake.parquet" --into bronze.people
expect_contains "corrupt parquet names file" "$out" "fake.parquet"

# Usage errors exit 2; names cannot escape the lake.
expect_exit "no --into" 2 S ingest "$T/a.csv"
expect_exit "bad mode" 2 S ingest "$T/a.csv" --into bronze.x --mode upsert
expect_exit "path in table name" 2 S ingest "$T/a.csv" --into "bronze.../../etc"
expect_exit "unknown namespace" 1 S ingest "$T/a.csv" --into nowhere.t
expect_contains "unknown namespace message" "$out" "nowhere"
expect_exit "unknown command" 2 "$SLUICE" frobnicate
for c in init gen ingest sql tables describe snapshots config cdc status; do
  expect_ok "$c --help" "$SLUICE" "$c" --help
done
expect_ok "--version" "$SLUICE" --version

# SQL errors carry the query context; describe of an unknown table says what to do.
expect_exit "sql error" 1 S sql "SELEC 1"
expect_contains "sql error context" "$out" "SELEC 1"
expect_exit "describe unknown" 1 S describe bronze.ghost
expect_contains "describe unknown message" "$out" "sluice tables"

# The project is found from a subfolder, like git.
mkdir -p "$P/models/deep"
expect_eq "found from subfolder" "$(cd "$P/models/deep" && "$SLUICE" sql --format csv "SELECT count(*) FROM bronze.people" | tail -1)" "5"
expect_exit "no project" 2 bash -c "cd /tmp && '$SLUICE' tables"
expect_contains "no project message" "$out" "sluice init"

# Outputs: tables as JSON, describe --files with stats.
expect_contains "tables json" "$(S tables --format json)" '"table":"bronze.people"'
expect_contains "file stats" "$(S describe bronze.people --files --format json)" '"id":{"nulls":0,"min":"1","max":"3"}'
finish
