#!/usr/bin/env bash
# test_compact.sh: `sluice compact`: many small appends become few files with the same
# rows, in one snapshot (operation compact); files with delete files (incremental
# merges) are rewritten without the hidden rows; partitions stay apart; a lone small
# file is left alone; dry runs write nothing; an incremental model reading a compacted
# table stays incremental and equal to its full build, and a compacted model keeps its
# state (its next build is a no-op); vacuum then frees the rewritten files; appends
# racing a compaction all land; `sluice up` compacts in the background.
source "$(dirname "$0")/../lib.sh"
P=$T/p
S() { "$SLUICE" --project "$P" "$@"; }
q() { S sql --format csv "$1" | tail -n +2; }
"$SLUICE" init "$P" >/dev/null
mkdir -p "$P/models"
printf "{{ config(materialized='incremental', unique_key='id') }}\nSELECT id, max(v) AS v, count(*) AS n, max(p) AS p FROM {{ source('bronze', 'ev') }} GROUP BY id\n" > "$P/models/inc.sql"
printf "{{ config(materialized='table') }}\nSELECT id, max(v) AS v, count(*) AS n, max(p) AS p FROM {{ source('bronze', 'ev') }} GROUP BY id\n" > "$P/models/full.sql"
printf "{{ config(materialized='table', partition='p') }}\nSELECT * FROM {{ source('bronze', 'ev') }}\n" > "$P/models/parts.sql"
# ev FROM TO: rows v = FROM..TO-1 as one append; id = v below 500 (new keys), else
# v * 7 % 500 (new versions of a few keys, which merges hide with delete files).
ev() { python3 -c "import sys; print('id,v,p'); [print(f'{i if i < 500 else i * 7 % 500},{i},{i % 3}') for i in range(int(sys.argv[1]), int(sys.argv[2]))]" "$1" "$2" > "$T/ev.csv"; S ingest "$T/ev.csv" --into bronze.ev >/dev/null; }
for i in $(seq 0 9); do ev $((i * 50)) $((i * 50 + 50)); done
S build >/dev/null
for i in $(seq 0 4); do ev $((500 + i * 5)) $((505 + i * 5)); S build --select inc >/dev/null; done
sum_ev="select count(*), sum(id), sum(v) from bronze.ev"
want_ev=$(q "$sum_ev")
want_inc=$(q "select count(*), sum(id), sum(v), sum(n) from silver.inc")
expect_eq "fifteen appends, fifteen files" "$(S describe bronze.ev --format json | jget 'd["files"]')" 15
dels=$(S describe silver.inc --files --format json | jget 'len(d.get("delete_files", []))')
[ "$dels" -gt 0 ] && ok "the incremental model has delete files ($dels)" || fail "no delete files in silver.inc"

out=$(S compact --dry-run --format json)
expect_eq "dry run: what would be rewritten" "$(echo "$out" | jget '[(t["table"], t["rewritten"]) for t in d["tables"] if t["table"] == "bronze.ev"]')" "[('bronze.ev', 15)]"
expect_eq "... and nothing is" "$(S describe bronze.ev --format json | jget 'd["files"]')" 15

out=$(S compact --format json)
expect_eq "bronze.ev: 15 files into 1" "$(echo "$out" | jget '[(t["rewritten"], t["written"], t["rows"]) for t in d["tables"] if t["table"] == "bronze.ev"]')" "[(15, 1, 525)]"
expect_eq "... same rows" "$(q "$sum_ev")" "$want_ev"
expect_eq "... one snapshot, operation compact" "$(S snapshots bronze.ev --format json | jget 'd[-1]["operation"], d[-1]["summary"]["compacted-files"]')" "('compact', 15)"
expect_eq "silver.inc: delete files applied, rows the same" \
  "$(echo "$out" | jget '[(t["deletes"] > 0, t["written"]) for t in d["tables"] if t["table"] == "silver.inc"]')" "[(True, 1)]"
expect_eq "... reads the same" "$(q "select count(*), sum(id), sum(v), sum(n) from silver.inc")" "$want_inc"
expect_eq "... no delete files left" "$(S describe silver.inc --files --format json | jget 'len(d.get("delete_files", []))')" 0
expect_eq "a partitioned table: one file per partition" \
  "$(S describe silver.parts --files --format json | jget 'sorted(f["partition"]["p"] for f in d["data_files"])')" "['0', '1', '2']"
expect_eq "a table of one file is left alone" "$(echo "$out" | jget '[t["note"] for t in d["tables"] if t["table"] == "silver.full"]')" "['already compact']"
expect_contains "a second compact has nothing to do" "$(S compact)" "0 files of 0 tables rewritten"

expect_contains "a compacted model's next build is a no-op" "$(S build --select "full parts")" "fresh"
ev 525 560
out=$(S build --format json)
expect_contains "an incremental model reading a compacted table stays incremental" \
  "$(echo "$out" | jget '[m["how"] for m in d["models"] if m["model"] == "inc"][0]')" "incremental:"
cmp="select count(*) from (select * from silver.inc except select * from silver.full union all select * from silver.full except select * from silver.inc)"
expect_eq "... and equals its full build" "$(q "$cmp")" 0

# Compaction with an incremental model behind: only files its last build saw are rewritten.
for i in 0 1 2; do ev $((560 + i * 5)) $((565 + i * 5)); done
S build --select full >/dev/null
out=$(S compact bronze.ev --format json)
expect_eq "files newer than what inc last read are left for later" "$(echo "$out" | jget 'd["tables"][0]["rewritten"]')" 2
ev 575 600
out=$(S build --format json)
expect_contains "... and inc stays incremental" "$(echo "$out" | jget '[m["how"] for m in d["models"] if m["model"] == "inc"][0]')" "incremental:"
expect_eq "... equal to full" "$(q "$cmp")" 0

expect_ok "vacuum after compact" S vacuum --retain 0
expect_eq "the rewritten files are gone, the data stays" "$(data bronze/ev) $(q "$sum_ev" | cut -d, -f1)" "$(S describe bronze.ev --format json | jget 'd["files"]') 600"
# Appends racing a compaction: a commit that came first is built upon, nothing is lost.
for i in $(seq 0 19); do printf 'id,v,p\n%d,%d,0\n' $((2000 + i)) $((2000 + i)) > "$T/r$i.csv"; done
( for i in $(seq 0 19); do S ingest "$T/r$i.csv" --into bronze.ev >/dev/null || echo "append $i failed"; done ) > "$T/race.out" 2>&1 &
racer=$!
for _ in 1 2 3 4 5; do S compact bronze.ev >/dev/null 2>>"$T/race.err" || echo "compact failed" >> "$T/race.err"; done
wait $racer
expect_eq "appends racing compactions all land" "$(cat "$T/race.out")$(q "select count(*) from bronze.ev where id >= 2000")" "20"
expect_eq "... and the compactions did not fail" "$(grep -c failed "$T/race.err")" 0
expect_eq "... every row is there once" "$(q "select count(*), count(distinct v) from bronze.ev")" "620,620"

# `sluice up` compacts in the background.
for i in $(seq 0 5); do printf 'id,v,p\n%d,%d,1\n' $((3000 + i)) $((3000 + i)) > "$T/u.csv"; S ingest "$T/u.csv" --into bronze.ev >/dev/null; done
S build --select inc >/dev/null  # inc has read every file: all can be rewritten
inc_snap=$(S describe silver.inc --format json | jget 'd["snapshot"]')
up_until_metric sluice_compact_runs_total SLUICE_LAKE_COMPACT_EVERY=1s SLUICE_LAKE_VACUUM_EVERY=0
expect_eq "... leaving models' tables to their builds" "$(S describe silver.inc --format json | jget 'd["snapshot"]')" "$inc_snap"
expect_eq "... leaving bronze.ev in one file" "$(S describe bronze.ev --format json | jget 'd["files"]')" 1
expect_eq "... with every row" "$(q "select count(*) from bronze.ev")" 626

expect_exit "an unknown table" 2 S compact bronze.nope
expect_exit "a bad --target-size" 2 S compact --target-size 10
expect_ok "--help" S compact --help
finish
