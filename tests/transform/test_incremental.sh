#!/usr/bin/env bash
# test_incremental.sh: an incremental model equals the same model built in full, over
# many random histories of inserts, updates (new versions of a key), late rows (old
# event times arriving now, some rows without one) and rewrites of the input, with both
# merge modes (position delete files, or rewriting touched files) and different rewrite
# limits; a build without changes is a no-op; what each merge writes; deletes of a
# changelog input are covered by tests/cdc; half the histories are compacted and
# vacuumed after every build.
source "$(dirname "$0")/../lib.sh"
P=$T/p
S() { "$SLUICE" --project "$P" "$@"; }
q() { S sql --format csv "$1" | tail -n +2; }
"$SLUICE" init "$P" >/dev/null
mkdir -p "$P/models"
body="SELECT id, max(ver) AS ver, arg_max(val, ver) AS val, arg_max(ts, ver) AS ts, count(*) > 0 AS seen
FROM {{ source('bronze', 'ev') }} GROUP BY id"
printf "{{ config(materialized='incremental', unique_key='id', event_time='ts', lookback='1d') }}\n%s\n" "$body" > "$P/models/inc.sql"
printf "{{ config(materialized='table') }}\n%s\n" "$body" > "$P/models/full.sql"
# A filter over the latest version: a key whose new version is filtered out must leave.
pos="SELECT * FROM ($body) WHERE val >= 0"
printf "{{ config(materialized='incremental', unique_key='id') }}\n%s\n" "$pos" > "$P/models/inc_pos.sql"
printf "{{ config(materialized='table') }}\n%s\n" "$pos" > "$P/models/full_pos.sql"
# The latest row per key by a window (the shape of a CDC table's current state).
win="SELECT CAST(id AS BIGINT) AS id, ver, val, ts FROM {{ source('bronze', 'ev') }}
QUALIFY row_number() OVER (PARTITION BY id ORDER BY ver DESC) = 1"
printf "{{ config(materialized='incremental', unique_key='id', event_time='ts', lookback='2d') }}\n%s\n" "$win" > "$P/models/inc_win.sql"
printf "{{ config(materialized='table') }}\n%s\n" "$win" > "$P/models/full_win.sql"

# batch SEED STEP MODE: a CSV of new keys, new versions of old keys and late rows.
batch() {
  python3 - "$1" "$2" <<'PY'
import random, sys, datetime
seed, step = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(seed * 1000 + step)
base = datetime.datetime(2026, 1, 1) + datetime.timedelta(days=step * 3)
print("id,ver,val,ts")
for i in range(r.randint(20, 60)):
    kind = r.random()
    if kind < 0.5:   # new key, now
        k, ts = step * 1000 + i, base + datetime.timedelta(hours=r.randint(0, 48))
    elif kind < 0.8: # a new version of an older key
        k, ts = r.randint(0, step) * 1000 + r.randint(0, 59), base + datetime.timedelta(hours=r.randint(0, 48))
    else:            # a late row: a new key with an old event time
        k, ts = step * 1000 + 500 + i, base - datetime.timedelta(days=r.randint(2, 10))
    # Some rows without an event time (the lookback bound comes from file statistics).
    when = "" if r.random() < 0.05 else f"{ts:%Y-%m-%d %H:%M:%S}"
    print(f"{k},{step * 100 + i},{r.randint(-1000, 1000)},{when}")
PY
}

seeds=${SL_INCR_SEEDS:-8}
# merge_mode MODE PERCENT: the build section of the project.
merge_mode() {
  sed -i '/^build:/,$d' "$P/sluice.yaml"
  printf 'build:\n  merge: %s\n  rewrite_deleted_percent: %s\n  pack_small_files: %s\n' "$1" "$2" "${3:-8}" >> "$P/sluice.yaml"
}
for seed in $(seq 1 "$seeds"); do
  rm -rf "$P/lake" "$P/.sluice" && "$SLUICE" init "$P" >/dev/null 2>&1
  case $((seed % 4)) in
    0) merge_mode copy-on-write 20 ;;
    1) merge_mode merge-on-read 20 ;;
    2) merge_mode merge-on-read 100 ;; # never rewrite: delete files pile up
    3) merge_mode merge-on-read 2 ;;   # rewrite on almost every touch
  esac
  for step in 0 1 2 3; do
    batch "$seed" "$step" > "$T/b.csv"
    mode=append
    # Now and then the input is rewritten (all rows again, in one file).
    if [ "$step" = 3 ] && [ $((seed % 2)) = 0 ]; then
      q "select * from bronze.ev" > "$T/all.csv"
      (echo "id,ver,val,ts"; cat "$T/all.csv" "$T/b.csv" | grep -v '^id,') > "$T/b.csv.2" && mv "$T/b.csv.2" "$T/b.csv"
      mode=replace
    fi
    S ingest "$T/b.csv" --into bronze.ev --mode $mode >/dev/null || fail "seed $seed step $step: ingest"
    out=$(S build --format json 2>&1) || fail "seed $seed step $step: build: $out"
    for pair in "inc full" "inc_pos full_pos" "inc_win full_win"; do
      set -- $pair
      diff=$(q "select count(*) from ((select * from silver.$1 except all select * from silver.$2)
                                     union all (select * from silver.$2 except all select * from silver.$1))")
      if [ "$diff" != 0 ]; then fail "seed $seed step $step: $1 differs from $2 in $diff rows: $(q "select * from ((select 1 side, * from silver.$1 except all select 1, * from silver.$2) union all (select 2, * from silver.$2 except all select 2, * from silver.$1)) order by id limit 4")"; fi
    done
    if [ "$step" -gt 0 ] && [ "$mode" = append ]; then
      notinc=$(echo "$out" | python3 -c 'import json,sys; print(" ".join(m["model"] for m in json.load(sys.stdin)["models"] if m["model"].startswith("inc") and not m["how"].startswith("incremental:")))')
      [ -z "$notinc" ] || fail "seed $seed step $step: not built incrementally: $notinc: $out"
    fi
    # Every other seed compacts the lake and vacuums it with no retention after each
    # build: the next builds stay incremental and equal, and the files on disk are
    # exactly those the catalog names.
    if [ $((seed % 2)) = 1 ]; then
      S compact >/dev/null || fail "seed $seed step $step: compact"
      S vacuum --retain 0 >/dev/null || fail "seed $seed step $step: vacuum"
      on_disk=$(cd "$P/lake" && find . -path '*/data/*' -type f | sed 's|^\./||' | sort)
      named=$(sqlite3 "$P/.sluice/catalog.db" "SELECT path FROM data_files UNION ALL SELECT path FROM delete_files" | sort)
      [ "$on_disk" = "$named" ] || fail "seed $seed step $step: after vacuum the lake's files differ from the catalog's: $(diff <(echo "$on_disk") <(echo "$named") | head -5)"
    fi
  done
  ok "seed $seed ($(grep -A1 '^build:' "$P/sluice.yaml" | tail -1 | tr -d ' ')): incremental equals full after 4 batches"
done
expect_contains "the last rewrite fell back to a full build" "$(q "select how from audit.build_runs where model = 'inc' order by finished_at desc limit 1")" "full"
n=$(S snapshots silver.inc --format csv | tail -n +2 | wc -l)
expect_contains "a build without changes" "$(S build)" "fresh"
expect_eq "... makes no snapshot" "$(S snapshots silver.inc --format csv | tail -n +2 | wc -l)" "$n"
expect_ok "--full-refresh rebuilds" S build --full-refresh --select inc
expect_eq "... and still equals full" "$(q "select count(*) from (select * from silver.inc except all select * from silver.full)")" "0"
# Copy-on-write: the merge rewrites only the files holding changed keys; new keys go
# to new files.
# (inc_pos has no lookback window, which would recompute the newest rows too.)
rm -rf "$P/lake" "$P/.sluice" && "$SLUICE" init "$P" >/dev/null 2>&1
merge_mode copy-on-write 20
files() { S describe "silver.$1" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["files"])'; }
same() { q "select count(*) from ((select * from silver.$1 except all select * from silver.$2) union all (select * from silver.$2 except all select * from silver.$1))"; }
# fresh: an empty project. pair NAME KEY SQL: an incremental model NAME_inc (unique_key
# KEY, none when -) and the same SQL built in full as NAME_full.
fresh() { rm -rf "$P/lake" "$P/.sluice" "$P/models"; "$SLUICE" init "$P" >/dev/null 2>&1; mkdir -p "$P/models"; }
pair() {
  local key=", unique_key='$2'"
  [ "$2" = - ] && key=
  printf "{{ config(materialized='incremental'%s) }}\n%s\n" "$key" "$3" > "$P/models/$1_inc.sql"
  printf "{{ config(materialized='table') }}\n%s\n" "$3" > "$P/models/$1_full.sql"
}
# rounds ROWS ROWS: ingest the first rows (id,ver,val,ts lines) into bronze.ev and
# build, then the second and build again, its summary in $out.
rounds() {
  printf 'id,ver,val,ts\n%s' "$1" > "$T/e.csv"
  S ingest "$T/e.csv" --into bronze.ev >/dev/null && S build >/dev/null
  printf 'id,ver,val,ts\n%s' "$2" > "$T/e.csv"
  S ingest "$T/e.csv" --into bronze.ev >/dev/null
  out=$(S build --format json)
}
# six_batches: 40 new keys per batch, a build after each.
six_batches() {
  for b in 0 1 2 3 4 5; do
    python3 -c "
print('id,ver,val,ts')
for i in range(40): print(f'{$b * 1000 + i},{$b},{i},2026-01-0{1 + $b} 00:00:00')" > "$T/b.csv"
    S ingest "$T/b.csv" --into bronze.ev >/dev/null
    out=$(S build --select inc_pos --format json)
    [ $b = 0 ] || expect_contains "new keys only (batch $b): no file touched" "$out" "40 changed rows merged; of $b files 0 rewritten (0 rows), 0 with delete files"
  done
}
# update_two: new versions of keys of batches 2 and 4 only; 2005's is filtered out.
update_two() {
  printf 'id,ver,val,ts\n2003,10,7,2026-01-09 00:00:00\n2005,10,-8,2026-01-09 00:00:00\n4001,10,9,2026-01-09 00:00:00\n' > "$T/b.csv"
  S ingest "$T/b.csv" --into bronze.ev >/dev/null
  out=$(S build --select inc_pos --format json)
}
six_batches
expect_eq "six batches, six files" "$(files inc_pos)" "6"
update_two
expect_contains "updates in two files: only those are rewritten" "$out" "2 changed rows merged; of 6 files 2 rewritten (80 rows), 0 with delete files"
expect_eq "... the table has 4 + 1 files" "$(files inc_pos)" "5"
expect_eq "... the snapshot is a merge" "$(S snapshots silver.inc_pos --format csv | tail -1 | grep -c merge)" "1"
expect_eq "... the filtered-out key left" "$(q "select count(*) from silver.inc_pos where id = 2005")" "0"
expect_eq "... the row count is kept" "$(S describe silver.inc_pos --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"])')" "239"
S build --select full_pos >/dev/null
expect_eq "... and it equals the full build" "$(same inc_pos full_pos)" "0"
printf 'id,ver,val,ts\n1002,20,-1,2026-01-10 00:00:00\n5039,20,3,2026-01-10 00:00:00\n' > "$T/b.csv"
S ingest "$T/b.csv" --into bronze.ev >/dev/null
out=$(S build --select 'inc_pos full_pos' --format json)
expect_contains "again: two files" "$out" "1 changed rows merged; of 5 files 2 rewritten"
expect_eq "... equal to the full build" "$(same inc_pos full_pos)" "0"
# The lookback window: the keys recomputed are the new rows' and those of every row
# within 1 day of the newest ts in silver.inc (2026-01-10, from the catalog's file
# statistics, not a scan): 2003, 2005, 4001 (01-09), 1002, 5039 (01-10) and 9001.
S build --select inc >/dev/null
printf 'id,ver,val,ts
9001,30,5,2026-01-12 00:00:00
9002,30,6,
' > "$T/b.csv"
S ingest "$T/b.csv" --into bronze.ev >/dev/null
want=$(q "select count(distinct id) from bronze.ev where ts >= timestamp '2026-01-10' - interval 1 day or ver = 30")
expect_eq "the window holds 5 older keys and the 2 new ones" "$want" "7"
out=$(SLUICE_LOG_LEVEL=debug S build --select 'inc full' --format json 2>"$T/debug.log")
expect_contains "... all recomputed, no more" "$out" "7 changed rows merged"
expect_eq "... the bound read from statistics" "$(grep -c 'max(TRY_CAST(v AS TIMESTAMP))' "$T/debug.log")" "1"
expect_eq "... no scan of silver.inc" "$(grep -c 'typeof(max(' "$T/debug.log")" "0"
expect_contains "... each phase's time is logged" "$(cat "$T/debug.log")" 'phase="key lookup"'
expect_eq "... equal to the full build" "$(same inc full)" "0"
# Merge-on-read: the same history keeps every data file and hides the changed rows with
# a position delete file per touched file, replaced (not added to) when touched again.
rm -rf "$P/lake" "$P/.sluice" && "$SLUICE" init "$P" >/dev/null 2>&1
merge_mode merge-on-read 20 0
dels() { S describe "silver.$1" --files --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["delete_files"]), sum(f["rows"] for f in d["delete_files"]))'; }
six_batches
before=$(S snapshots silver.inc_pos --format csv | tail -1 | cut -d, -f1)
update_two
expect_contains "updates in two files: none rewritten, two delete files" "$out" "2 changed rows merged; of 6 files 0 rewritten (0 rows), 2 with delete files (3 rows hidden)"
expect_eq "... six data files and the new one" "$(files inc_pos)" "7"
expect_eq "... two delete files hiding 3 rows" "$(dels inc_pos)" "2 3"
expect_eq "... the snapshot is a merge" "$(S snapshots silver.inc_pos --format csv | tail -1 | grep -c merge)" "1"
expect_eq "... the filtered-out key left" "$(q "select count(*) from silver.inc_pos where id = 2005")" "0"
expect_eq "... the catalog's row count" "$(S describe silver.inc_pos --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"])')" "239"
expect_eq "... which the view has" "$(q "select count(*) from silver.inc_pos")" "239"
S build --select full_pos >/dev/null
expect_eq "... and it equals the full build" "$(same inc_pos full_pos)" "0"
expect_eq "... the snapshot before still reads whole" "$(S sql --as-of "$before" --format csv "select count(*) from silver.inc_pos where id in (2003, 2005, 4001)" | tail -1)" "3"
# DuckDB, reading the files itself, finds exactly the hidden rows in the delete files.
S describe silver.inc_pos --files --format json |
  python3 -c 'import json,sys; [print(x["data_path"], x["path"]) for x in json.load(sys.stdin)["delete_files"]]' > "$T/dels"
expect_eq "... the delete files name the old rows of 2003, 2005 and 4001" "$(while read -r data del; do
  q "select d.id from read_parquet('$P/lake/$data', file_row_number=true) d join read_parquet('$P/lake/$del') x on d.file_row_number = x.pos and x.file_path = '$data'"; done < "$T/dels" | sort | tr '\n' ' ')" "2003 2005 4001 "
# change ROW...: ingests these rows (id,ver,val,ts) and builds both models into $out.
change() {
  { echo 'id,ver,val,ts'; printf '%s\n' "$@"; } > "$T/b.csv"
  S ingest "$T/b.csv" --into bronze.ev >/dev/null
  out=$(S build --select 'inc_pos full_pos' --format json)
}
change '2007,20,-1,2026-01-10 00:00:00' '5039,20,3,2026-01-10 00:00:00'
expect_contains "again, batch 2's file: its delete file replaced" "$out" "1 changed rows merged; of 7 files 0 rewritten (0 rows), 2 with delete files (2 rows hidden)"
expect_eq "... three delete files, 5 rows" "$(dels inc_pos)" "3 5"
expect_eq "... equal to the full build" "$(same inc_pos full_pos)" "0"
# Past the limit (5% of a 40-row file), the touched file is rewritten and its delete
# file retired with it.
merge_mode merge-on-read 5 0
change '2009,30,1,2026-01-11 00:00:00'
expect_contains "a third row of batch 2's file: it is rewritten" "$out" "1 changed rows merged; of 8 files 1 rewritten (37 rows), 0 with delete files"
expect_eq "... its delete file went with it" "$(dels inc_pos)" "2 2"
expect_eq "... equal to the full build" "$(same inc_pos full_pos)" "0"
# A failed error-level check publishes nothing: no snapshot, no delete file left behind.
mkdir -p "$P/checks"
printf 'checks:\n  - table: inc_pos\n    columns:\n      val:\n        - between: {min: -1000, max: 1000}\n' > "$P/checks/inc_pos.yml"
n=$(ls "$P"/lake/silver/inc_pos/data/*.parquet | wc -l)
snap=$(S describe silver.inc_pos --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshot"])')
printf 'id,ver,val,ts\n1003,40,5000,2026-01-12 00:00:00\n' > "$T/b.csv"
S ingest "$T/b.csv" --into bronze.ev >/dev/null
expect_exit "a merge failing its check" 1 S build --select inc_pos
expect_eq "... leaves the snapshot" "$(S describe silver.inc_pos --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshot"])')" "$snap"
expect_eq "... and no file behind" "$(ls "$P"/lake/silver/inc_pos/data/*.parquet | wc -l)" "$n"
rm -f "$P/checks/inc_pos.yml"
# Small files are packed once there are eight: here every file is small.
merge_mode merge-on-read 20 8
change '6000,50,1,2026-01-13 00:00:00'
expect_contains "eight small files: packed into one" "$out" "of 8 files 8 rewritten"
expect_eq "... one data file, no delete file" "$(files inc_pos) $(dels inc_pos)" "1 0 0"
expect_eq "... equal to the full build" "$(same inc_pos full_pos)" "0"
# Two inputs: when one changed, the other is read whole (its rows may join any of the
# changed ones); when both changed, the model is built in full.
fresh
pair j id "SELECT e.id, e.val, d.label FROM {{ source('bronze', 'ev') }} e JOIN {{ source('bronze', 'dim') }} d ON e.id % 3 = d.grp"
printf 'id,ver,val,ts\n1,1,10,2026-01-01 00:00:00\n2,1,20,2026-01-01 00:00:00\n3,1,30,2026-01-01 00:00:00\n' > "$T/e.csv"
printf 'grp,label\n0,zero\n1,one\n' > "$T/d.csv"
S ingest "$T/e.csv" --into bronze.ev >/dev/null && S ingest "$T/d.csv" --into bronze.dim >/dev/null
S build >/dev/null
printf 'id,ver,val,ts\n4,1,40,2026-01-02 00:00:00\n5,1,50,2026-01-02 00:00:00\n' > "$T/e.csv"
S ingest "$T/e.csv" --into bronze.ev >/dev/null
out=$(S build --format json)
expect_contains "new rows of one input meet all of the other" "$out" "1 changed rows merged"
expect_eq "... equal to the full build" "$(same j_inc j_full)" "0"
printf 'grp,label\n2,two\n' > "$T/d.csv"
S ingest "$T/d.csv" --into bronze.dim >/dev/null
out=$(S build --format json)
expect_contains "a new row of the other input finds its old rows" "$out" "2 changed rows merged"
expect_eq "... equal to the full build" "$(same j_inc j_full)" "0"
printf 'id,ver,val,ts\n6,1,60,2026-01-03 00:00:00\n' > "$T/e.csv"
printf 'grp,label\n3,three\n' > "$T/d.csv"
S ingest "$T/e.csv" --into bronze.ev >/dev/null && S ingest "$T/d.csv" --into bronze.dim >/dev/null
out=$(S build --format json)
expect_contains "both changed: built in full" "$out" "full: inputs bronze.ev and bronze.dim both changed"
expect_eq "... equal to the full build" "$(same j_inc j_full)" "0"
# A model with a column named file_row_number (the name DuckDB gives row positions):
# merged by rewriting the table whole, and still equal to the full build.
fresh
pair r id "SELECT id, arg_max(val, ver) AS val, max(ver) * 10 AS file_row_number FROM {{ source('bronze', 'ev') }} GROUP BY id"
rounds $'1,1,10,2026-01-01 00:00:00\n2,1,20,2026-01-01 00:00:00\n3,1,30,2026-01-01 00:00:00\n' \
  $'2,2,21,2026-01-02 00:00:00\n4,1,40,2026-01-02 00:00:00\n'
expect_contains "a column named file_row_number: merged by a rewrite" "$out" "2 changed rows merged, the whole table rewritten"
expect_eq "... equal to the full build" "$(same r_inc r_full)" "0"
expect_eq "... with the new version" "$(q "select val, file_row_number from silver.r_inc where id = 2")" "21,20"
# An input without the model's key is read as its new rows only: right for a model
# that maps rows (kept incremental), not for one that groups them (built in full).
fresh
pair d day "SELECT CAST(ts AS DATE) AS day, count(*) AS n, sum(val) AS total FROM {{ source('bronze', 'ev') }} GROUP BY ALL"
pair k k "SELECT id * 10 AS k, val FROM {{ source('bronze', 'ev') }}"
# (an aggregate over another input does not count)
pair a k "SELECT e.id * 10 AS k, e.val, (SELECT max(grp) FROM {{ source('bronze', 'dim') }}) AS top FROM {{ source('bronze', 'ev') }} e"
printf 'grp,label\n0,zero\n1,one\n' > "$T/d.csv" && S ingest "$T/d.csv" --into bronze.dim >/dev/null
# (no unique_key: the new rows are appended; a count over them is built in full)
pair p - "SELECT id, val * 2 AS v2 FROM {{ source('bronze', 'ev') }} WHERE val > 15"
pair c - "SELECT count(*) AS n FROM {{ source('bronze', 'ev') }}"
# (read twice through a CTE: a join of the input with itself, or a UNION of its rows)
pair cj k "WITH e AS (SELECT * FROM {{ source('bronze', 'ev') }}) SELECT a.id * 100 + b.id AS k, a.val + b.val AS v FROM e a JOIN e b ON a.ver = b.ver"
pair cu k "WITH e AS (SELECT * FROM {{ source('bronze', 'ev') }}) SELECT id * 10 AS k, val FROM e WHERE val > 15 UNION ALL SELECT id * 10 + 1, val FROM e WHERE val <= 15"
pair cg k "WITH e AS (SELECT * FROM {{ source('bronze', 'ev') }}) SELECT ver AS k, count(*) AS n FROM e GROUP BY ver UNION ALL SELECT -1, count(*) FROM e"
rounds $'1,1,10,2026-01-01 00:00:00\n2,1,20,2026-01-01 01:00:00\n3,1,30,2026-01-02 00:00:00\n' \
  $'4,1,40,2026-01-01 02:00:00\n5,1,50,2026-01-03 00:00:00\n'
expect_contains "grouping an input without the key: built in full" "$out" "full: input bronze.ev lacks a column of the unique key and the model's plan has HASH_GROUP_BY over it"
expect_eq "... equal to the full build" "$(same d_inc d_full)" "0"
expect_eq "... the old day's group whole" "$(q "select n, total from silver.d_inc where day = DATE '2026-01-01'")" "3,70"
expect_contains "mapping its rows: incremental" "$out" "2 changed rows merged"
expect_eq "... equal to the full build" "$(same k_inc k_full)" "0"
how() { echo "$out" | python3 -c 'import json,sys; print([m["how"] for m in json.load(sys.stdin)["models"] if m["model"] == sys.argv[1]][0])' "$1"; }
expect_contains "an aggregate over the other input: still incremental" "$(how a_inc)" "incremental: 2 changed rows merged"
expect_eq "... equal to the full build" "$(same a_inc a_full)" "0"
expect_eq "no unique_key: the new rows appended" "$(how p_inc)" "incremental: 2 rows appended"
expect_eq "... equal to the full build" "$(same p_inc p_full)" "0"
expect_contains "... a count over them: built in full" "$(how c_inc)" "full: the model has no unique_key and its plan has UNGROUPED_AGGREGATE over input bronze.ev"
expect_eq "... equal to the full build" "$(same c_inc c_full)" "0"
expect_eq "a join of the input with itself through a CTE: built in full" "$(how cj_inc)" "full: input bronze.ev lacks a column of the unique key and the model joins it with itself"
expect_contains "... a union of its rows: incremental" "$(how cu_inc)" "incremental: 2 changed rows merged"
expect_contains "... an aggregate over the CTE: built in full" "$(how cg_inc)" "full: input bronze.ev lacks a column of the unique key and the model's plan has HASH_GROUP_BY over it"
for t in cj cu cg; do expect_eq "... $t equal to the full build" "$(same ${t}_inc ${t}_full)" "0"; done
# A model mapping rows, with a lookback: the window's rows are read from the files the
# input had (the new ones are read once), so two equal rows stay two, as in full.
fresh
pair kl k "SELECT id * 10 AS k, val, ts FROM {{ source('bronze', 'ev') }}"
sed -i "1s/unique_key='k'/unique_key='k', event_time='ts', lookback='1d'/" "$P/models/kl_inc.sql"
rounds $'1,1,10,2026-01-01 00:00:00\n2,1,20,2026-01-01 01:00:00\n2,1,20,2026-01-01 01:00:00\n3,1,30,2026-01-02 00:00:00\n' \
  $'4,1,40,2026-01-01 02:00:00\n5,1,50,2026-01-03 00:00:00\n'
expect_contains "mapping rows with a lookback: incremental" "$(how kl_inc)" "incremental: 6 changed rows merged"
expect_eq "... equal to the full build" "$(same kl_inc kl_full)" "0"
expect_eq "... the equal rows both kept" "$(q "select count(*) from silver.kl_inc where k = 20")" "2"
# A NULL key is a key: its new version replaces its row (found in the table by the
# NULL-safe part of the join), in both merge modes.
for mode in merge-on-read copy-on-write; do
  fresh
  merge_mode $mode 50
  pair nk id "SELECT id, max(ver) AS ver, arg_max(val, ver) AS val FROM {{ source('bronze', 'ev') }} GROUP BY id"
  rounds $',1,10,2026-01-01 00:00:00\n1,1,20,2026-01-01 00:00:00\n3,1,5,2026-01-01 00:00:00\n' \
    $',2,30,2026-01-02 00:00:00\n1,2,40,2026-01-02 00:00:00\n'
  expect_contains "$mode: a NULL key's new version, incremental" "$(how nk_inc)" "incremental: 2 changed rows merged"
  expect_eq "... equal to the full build" "$(same nk_inc nk_full)" "0"
  expect_eq "... one row for the NULL key, the new one" "$(q "select count(*), max(val) from silver.nk_inc where id is null")" "1,30"
done
# An input with the model's key is read as every row of the changed keys: right when
# the model's rows of a key come from that key's rows alone (DuckDB's optimizer, asked
# to push a filter on the key down to the input, tells), built in full otherwise.
fresh
pair lt id "SELECT CAST(id AS BIGINT) AS id, val FROM (SELECT * FROM {{ source('bronze', 'ev') }} QUALIFY row_number() OVER (PARTITION BY id ORDER BY ver DESC) = 1) WHERE val > 0"
pair rk id "SELECT id, val, rank() OVER (ORDER BY val) AS r FROM {{ source('bronze', 'ev') }}"
pair rn id "SELECT ver AS id, count(*) AS n FROM {{ source('bronze', 'ev') }} GROUP BY ver"
pair jd id "SELECT d.grp AS id, count(*) AS n FROM {{ source('bronze', 'ev') }} e JOIN {{ source('bronze', 'dim') }} d ON e.id % 2 = d.grp GROUP BY d.grp"
pair sj id "SELECT a.id, b.val AS bval FROM {{ source('bronze', 'ev') }} a JOIN {{ source('bronze', 'ev') }} b ON a.ver = b.id"
# (an unchanged input's keys left-joined to none of the changed rows keep their rows)
pair lj id "SELECT d.id, count(e.id) AS n, sum(e.val) AS total FROM {{ source('bronze', 'dk') }} d LEFT JOIN {{ source('bronze', 'ev') }} e ON e.id = d.id GROUP BY d.id"
printf 'grp,label\n0,zero\n1,one\n' > "$T/d.csv" && S ingest "$T/d.csv" --into bronze.dim >/dev/null
printf 'id,label\n1,a\n2,b\n3,c\n5,e\n' > "$T/d.csv" && S ingest "$T/d.csv" --into bronze.dk >/dev/null
rounds $'1,1,10,2026-01-01 00:00:00\n2,1,20,2026-01-01 00:00:00\n3,2,30,2026-01-01 00:00:00\n' \
  $'4,1,5,2026-01-02 00:00:00\n1,3,11,2026-01-02 00:00:00\n'
expect_contains "a left join from an unchanged input: incremental" "$(how lj_inc)" "incremental: 1 changed rows merged"
expect_eq "... its other keys keep their rows" "$(q "select string_agg(id || ':' || n || ':' || coalesce(total, 0), ' ' ORDER BY id) from silver.lj_inc")" "1:2:21 2:1:20 3:1:30 5:0:0"
expect_eq "the latest row per key: incremental" "$(how lt_inc)" "incremental: 2 changed rows merged; of 1 files 1 rewritten (3 rows), 0 with delete files (0 rows hidden)"
for t in rk rn jd; do
  expect_contains "$t: a window, aggregate or join over other columns: built in full" "$(how ${t}_inc)" "full: the model's rows of a key depend on other keys' rows of input bronze.ev"
done
expect_eq "a self-join: built in full" "$(how sj_inc)" "full: the model reads input bronze.ev twice (its new rows may meet its old ones)"
for t in lt rk rn jd sj lj; do expect_eq "... $t equal to the full build" "$(same ${t}_inc ${t}_full)" "0"; done
expect_eq "... the ranks moved by the new row" "$(q "select string_agg(r::VARCHAR, ' ' ORDER BY id) from silver.rk_inc")" "2 3 4 5 1"
printf "{{ config(materialized='incremental', event_time='ts', lookback='1d') }}\nSELECT 1 AS x\n" > "$P/models/lb.sql"
expect_exit "lookback without unique_key is refused" 2 S build
expect_contains "... saying why" "$out" "models/lb.sql: lookback needs unique_key"
rm "$P/models/lb.sql"
finish
