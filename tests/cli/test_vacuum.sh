#!/usr/bin/env bash
# test_vacuum.sh: `sluice vacuum`: snapshots replaced longer ago than the retention
# expire and the files only they saw are deleted, the current data stays whole, time
# travel to an expired snapshot is a clear error; files no snapshot names go once old,
# recent ones and those of tables the catalog does not know stay; incremental models
# stay incremental (the snapshots they read from are kept) and fall back to a full
# build when such a snapshot is gone anyway; a catalog of the previous format opens;
# `sluice up` vacuums in the background.
source "$(dirname "$0")/../lib.sh"
P=$T/p
S() { "$SLUICE" --project "$P" "$@"; }
q() { S sql --format csv "$1" | tail -n +2; }
"$SLUICE" init "$P" >/dev/null

printf 'id,v\n1,a\n2,b\n' > "$T/a.csv"
printf 'id,v\n3,c\n' > "$T/b.csv"
printf 'id,v\n4,d\n5,e\n' > "$T/c.csv"
S ingest "$T/a.csv" --into bronze.t >/dev/null
S ingest "$T/b.csv" --into bronze.t --mode replace >/dev/null
S ingest "$T/c.csv" --into bronze.t >/dev/null
sum="select count(*), sum(id), string_agg(v, '' order by id) from bronze.t"
want=$(q "$sum")
expect_eq "three snapshots, the first replaced" "$(data bronze/t)" 3

out=$(S vacuum --format json)
expect_eq "the default retention (7d) keeps every recent snapshot" "$(echo "$out" | jget 'd["snapshots_expired"], d["files_deleted"]')" "(0, 0)"

out=$(S vacuum --retain 0 --dry-run --format json)
expect_eq "dry run: two snapshots would expire, the replaced file would go" \
  "$(echo "$out" | jget '[(t["table"], t["expired"], t["kept"], t["files"]) for t in d["tables"]]')" "[('bronze.t', 2, 1, 1)]"
expect_eq "dry run deletes nothing" "$(data bronze/t)" 3
expect_ok "dry run expires nothing" S sql --as-of 1 "select count(*) from bronze.t"

expect_ok "vacuum --retain 0" S vacuum --retain 0
expect_contains "the summary line" "$out" "2 snapshots expired, 1 file deleted, 320 B freed"
expect_eq "the replaced file is deleted; the current ones stay" "$(data bronze/t)" 2
expect_eq "the current data is whole" "$(q "$sum")" "$want"
expect_exit "time travel to an expired snapshot" 1 S sql --as-of 1 "select count(*) from bronze.t"
expect_contains "... says it expired and what lists the kept ones" "$out" "bronze.t as of that point is snapshot 1, which has expired"
expect_contains "... by snapshot id" "$out" "sluice snapshots bronze.t"
expect_eq "snapshots shows which expired" \
  "$(S snapshots bronze.t --format json | jget '[s["expired"] is not None for s in d]')" "[True, True, False]"
expect_eq "the newest snapshot still travels" "$(q "select count(*) from bronze.t")" 3

# Files no snapshot names: what a killed ingest or build leaves.
mkdir -p "$P/lake/bronze/t/data/part=1" "$P/lake/bronze/ghost/data"
head -c 1000 /dev/urandom > "$P/lake/bronze/t/data/dead_0.parquet"
head -c 500 /dev/urandom > "$P/lake/bronze/t/data/part=1/dead_1.parquet"
touch -d '2 days ago' "$P/lake/bronze/t/data/dead_0.parquet" "$P/lake/bronze/t/data/part=1/dead_1.parquet"
touch "$P/lake/bronze/t/data/writing_0.parquet"
touch -d '30 days ago' "$P/lake/bronze/ghost/data/g_0.parquet"
out=$(S vacuum --format json)
expect_eq "orphans younger than the retention stay (counted as recent)" "$(echo "$out" | jget '[(t["table"], t["orphans"], t["recent"]) for t in d["tables"]]')" \
  "[('bronze.t', 0, 3), ('bronze.ghost', 1, 0)]"
out=$(S vacuum --retain 1d --format json)
expect_eq "old orphans go; recent ones and unknown tables' stay" \
  "$(echo "$out" | jget '[(t["table"], t["in_catalog"], t["orphans"], t["orphan_bytes"], t["recent"]) for t in d["tables"]]')" \
  "[('bronze.t', True, 2, 1500, 1), ('bronze.ghost', False, 1, 0, 0)]"
expect_eq "... so 2 files deleted" "$(echo "$out" | jget 'd["files_deleted"], d["bytes_freed"]')" "(2, 1500)"
[ ! -e "$P/lake/bronze/t/data/dead_0.parquet" ] && [ ! -e "$P/lake/bronze/t/data/part=1/dead_1.parquet" ] \
  && [ -e "$P/lake/bronze/t/data/writing_0.parquet" ] && [ -e "$P/lake/bronze/ghost/data/g_0.parquet" ] \
  && ok "the files on disk" || fail "the files on disk: $(find "$P/lake/bronze" -type f)"
# What killed loads leave in .sluice/staging: gone by the same age rule.
mkdir -p "$P/.sluice/staging/load-old/t1" "$P/.sluice/staging/load-now"
head -c 700 /dev/urandom > "$P/.sluice/staging/load-old/t1/chunk_0.csv"
head -c 300 /dev/urandom > "$P/.sluice/staging/load-now/chunk_0.csv"
touch -d '3 days ago' "$P/.sluice/staging/load-old/t1/chunk_0.csv" "$P/.sluice/staging/load-old/t1" "$P/.sluice/staging/load-old"
expect_eq "dry run: an old staging folder would go" "$(S vacuum --retain 1d --dry-run --format json | jget 'd["staging_deleted"]')" 1
out=$(S vacuum --retain 1d --format json)
expect_eq "staging: the old load's folder is deleted, the running one's kept" \
  "$(echo "$out" | jget 'd["staging_deleted"]') $(ls "$P/.sluice/staging")" "1 load-now"
expect_eq "... its bytes counted as freed" "$(echo "$out" | jget 'd["bytes_freed"] >= 700')" True
touch -d '2 hours ago' "$P/lake/bronze/t/data/writing_0.parquet"
out=$(S vacuum --retain 0 --format json)
expect_eq "--retain 0 still spares orphans younger than an hour, not older" "$(echo "$out" | jget 'd["tables"][0]["orphans"]')" 1
expect_contains "the text report names unknown folders" "$(S vacuum --retain 0)" "left alone in the folders of tables the catalog does not know"
expect_eq "the data is still whole" "$(q "$sum")" "$want"

# Incremental models: the input snapshot a model's last build read is kept.
mkdir -p "$P/models"
printf "{{ config(materialized='incremental', unique_key='id') }}\nSELECT id, max(v) AS v, count(*) AS n FROM {{ source('bronze', 'ev') }} GROUP BY id\n" > "$P/models/inc.sql"
printf "{{ config(materialized='table') }}\nSELECT id, max(v) AS v, count(*) AS n FROM {{ source('bronze', 'ev') }} GROUP BY id\n" > "$P/models/full.sql"
ev() { python3 -c "import sys; print('id,v'); [print(f'{i % 7},{i}') for i in range(int(sys.argv[1]), int(sys.argv[2]))]" "$1" "$2" > "$T/ev.csv"; S ingest "$T/ev.csv" --into bronze.ev >/dev/null; }
ev 0 20
S build >/dev/null
ev 20 30
ev 30 40
S build --select full >/dev/null
out=$(S vacuum --retain 0 --format json)
expect_eq "the snapshot inc last read is kept (the one after it expires)" \
  "$(echo "$out" | jget '[(t["expired"], t["kept"]) for t in d["tables"] if t["table"] == "bronze.ev"]')" "[(1, 2)]"
expect_eq "a model's replaced output expires and its files go" \
  "$(echo "$out" | jget '[(t["expired"], t["kept"], t["files"]) for t in d["tables"] if t["table"] == "silver.full"]')" "[(1, 1, 1)]"
out=$(S build --format json)
expect_contains "the build after vacuum is incremental" "$(echo "$out" | jget '[m["how"] for m in d["models"] if m["model"] == "inc"][0]')" "incremental:"
cmp="select count(*) from (select * from silver.inc except select * from silver.full union all select * from silver.full except select * from silver.inc)"
expect_eq "... and equals the full build" "$(q "$cmp")" 0
ev 40 50
since=$(S snapshots bronze.ev --format json | jget '[s["snapshot"] for s in d if s["expired"] is None][-2]')
sqlite3 "$P/.sluice/catalog.db" "UPDATE snapshots SET expired_ms = 1 WHERE snapshot_id = $since"
out=$(S build --format json)
expect_contains "an input snapshot gone anyway makes a full build, saying why" \
  "$(echo "$out" | jget '[m["how"] for m in d["models"] if m["model"] == "inc"][0]')" "the snapshot the last build read is gone"
expect_eq "... equal to the full build" "$(q "$cmp")" 0
expect_contains "models keep building into their tables" "$(S build --full-refresh 2>&1)" "inc"

# Retention from sluice.yaml; bad values.
sed -i 's/^lake:/lake:\n  retention: 0s/' "$P/sluice.yaml"
expect_contains "lake.retention is read from sluice.yaml" "$(S vacuum --format json)" '"retention_ms":0'
sed -i 's/  retention: 0s/  retention: soon/' "$P/sluice.yaml"
expect_exit "a bad lake.retention" 2 S vacuum
expect_contains "... names the key and what it takes" "$out" "lake.retention"
sed -i '/  retention: soon/d' "$P/sluice.yaml"
expect_exit "a bad --retain" 2 S vacuum --retain 3x
expect_exit "an unknown table" 2 S vacuum bronze.nope
expect_contains "... named" "$out" "no table bronze.nope"
expect_ok "--help" S vacuum --help
expect_ok "one table only" S vacuum bronze.t

# A catalog of format 2 (no expired_ms) opens and is upgraded.
cp -r "$P" "$T/old"
python3 - "$T/old/.sluice/catalog.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("ALTER TABLE snapshots DROP COLUMN expired_ms")
c.execute("PRAGMA user_version = 2")
c.commit()
PY
expect_eq "a format 2 catalog opens" "$("$SLUICE" --project "$T/old" sql --format csv "$sum" | tail -n +2)" "$want"
expect_eq "... and is format 3 now" "$(sqlite3 "$T/old/.sluice/catalog.db" 'PRAGMA user_version')" 3

# `sluice up` vacuums every lake.vacuum_every (here from the environment).
printf 'id,v\n9,z\n' > "$T/z.csv"
S ingest "$T/z.csv" --into bronze.t --mode replace >/dev/null
n_before=$(data bronze/t)
up_until_metric sluice_vacuum_runs_total SLUICE_LAKE_VACUUM_EVERY=1s SLUICE_LAKE_RETENTION=0s
expect_contains "... its figures are in /metrics" "$m" "sluice_vacuum_files_deleted_total"
expect_eq "... deleting the replaced files" "$n_before -> $(data bronze/t)" "3 -> 1"
expect_eq "... keeping the current data" "$(q "select count(*), sum(id) from bronze.t")" "1,9"
finish
