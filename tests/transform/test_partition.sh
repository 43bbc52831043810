#!/usr/bin/env bash
# test_partition.sh: models with partition=: files laid out in <col>=<value>/ folders,
# each file's value recorded in the catalog, the table reading back whole; an
# incremental merge keyed on (day, id) touches only the partitions its keys are in and
# still equals a full build.
source "$(dirname "$0")/../lib.sh"
P=$T/p
S() { "$SLUICE" --project "$P" "$@"; }
q() { S sql --format csv "$1" | tail -n +2; }
"$SLUICE" init "$P" >/dev/null
mkdir -p "$P/models"
python3 -c "
print('id,day,region,val')
for d in range(1, 5):
    for i in range(50):
        print(f'{i},2026-01-0{d},{[\"10\", \"north/east\", \"s p\"][i % 3]},{d * 100 + i}')" > "$T/a.csv"
S ingest "$T/a.csv" --into bronze.ev >/dev/null
body="SELECT id, day, region, arg_max(val, val) AS val FROM {{ source('bronze', 'ev') }} GROUP BY ALL"
printf "{{ config(materialized='incremental', unique_key=['day', 'id'], partition='day') }}\n%s\n" "$body" > "$P/models/by_day.sql"
printf "{{ config(materialized='table', partition='region') }}\n%s\n" "$body" > "$P/models/by_region.sql"
printf "{{ config(materialized='table') }}\n%s\n" "$body" > "$P/models/flat.sql"
expect_ok "build" S build
same() { q "select count(*) from ((select * from silver.$1 except all select * from silver.$2) union all (select * from silver.$2 except all select * from silver.$1))"; }
expect_eq "partitioned by day: reads back whole" "$(same by_day flat)" "0"
expect_eq "partitioned by region: reads back whole (types kept)" "$(same by_region flat)" "0"
expect_eq "one folder per day" "$(ls "$P/lake/silver/by_day/data" | sort | tr '\n' ' ')" "day=2026-01-01 day=2026-01-02 day=2026-01-03 day=2026-01-04 "
parts() { S describe "silver.$1" --files --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted(f["partition"][sys.argv[1]] + ":" + str(f["rows"]) for f in d["data_files"])))' "$2"; }
expect_eq "the catalog records each file's day" "$(parts by_day day)" "2026-01-01:50 2026-01-02:50 2026-01-03:50 2026-01-04:50"
expect_eq "... and each region, decoded" "$(parts by_region region)" "10:68 north/east:68 s p:64"
expect_eq "region values come back as written" "$(q "select string_agg(distinct region, '|' order by region) from silver.by_region")" "10|north/east|s p"

# Changes on one day only (new versions of ids 3 and 7, which with a new region are
# new groups beside the old ones, and a new id 60): the merge hides the two old rows of
# that partition's file with a delete file and touches no other.
printf 'id,day,region,val\n3,2026-01-02,s p,999\n7,2026-01-02,s p,998\n60,2026-01-02,s p,5\n' > "$T/b.csv"
S ingest "$T/b.csv" --into bronze.ev >/dev/null
out=$(S build --format json)
expect_contains "one day changed: one of four files touched" "$out" "5 changed rows merged; of 4 files 0 rewritten (0 rows), 1 with delete files (2 rows hidden)"
expect_contains "... the delete file is for that day's file" "$(S describe silver.by_day --files --format json | python3 -c '
import json, sys
print(" ".join(f["data_path"].split("/")[-2] + ":" + str(f["rows"]) for f in json.load(sys.stdin)["delete_files"]))')" "day=2026-01-02:2"
expect_eq "... the files are the same, and a new one" "$(S describe silver.by_day --files --format json | python3 -c '
import json, sys
print(sum(1 for f in json.load(sys.stdin)["data_files"] if "2026-01-02" not in f["path"]))')" "3"
expect_eq "... and it equals the full build" "$(same by_day flat)" "0"
expect_eq "... and its partition is recorded" "$(parts by_day day)" "2026-01-01:50 2026-01-02:5 2026-01-02:50 2026-01-03:50 2026-01-04:50"
# A new day: a new partition, nothing rewritten.
printf 'id,day,region,val\n1,2026-01-09,s p,1\n' > "$T/c.csv"
S ingest "$T/c.csv" --into bronze.ev >/dev/null
expect_contains "a new day: no file rewritten" "$(S build --format json)" "1 changed rows merged; of 5 files 0 rewritten (0 rows), 0 with delete files"
expect_eq "... equal to full" "$(same by_day flat)" "0"
printf "{{ config(materialized='table', partition='nosuchcol') }}\n%s\n" "$body" > "$P/models/bad.sql"
expect_exit "an unknown partition column fails the model" 1 S build --select bad
expect_contains "... naming the file" "$out$(S build --select bad 2>&1)" "models/bad.sql"
finish
