#!/usr/bin/env bash
# test_incremental.sh: an incremental model equals the same model built in full, over
# many random histories of inserts, updates (new versions of a key), late rows (old
# event times arriving now) and rewrites of the input; a build without changes is a
# no-op; deletes of a changelog input are covered by tests/cdc.
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
    print(f"{k},{step * 100 + i},{r.randint(-1000, 1000)},{ts:%Y-%m-%d %H:%M:%S}")
PY
}

seeds=${SL_INCR_SEEDS:-8}
for seed in $(seq 1 "$seeds"); do
  rm -rf "$P/lake" "$P/.sluice" && "$SLUICE" init "$P" >/dev/null 2>&1
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
    diff=$(q "select count(*) from ((select * from silver.inc except all select * from silver.full)
                                   union all (select * from silver.full except all select * from silver.inc))")
    if [ "$diff" != 0 ]; then fail "seed $seed step $step: incremental differs from full in $diff rows: $(q "select * from ((select 1 side, * from silver.inc except all select 1, * from silver.full) union all (select 2, * from silver.full except all select 2, * from silver.inc)) order by id limit 4")"; fi
    if [ "$step" -gt 0 ] && [ "$mode" = append ] && [[ "$out" != *'"how":"incremental:'* ]]; then
      fail "seed $seed step $step: not built incrementally: $out"
    fi
  done
  ok "seed $seed: incremental equals full after 4 batches"
done
expect_contains "the last rewrite fell back to a full build" "$(q "select how from audit.build_runs where model = 'inc' order by finished_at desc limit 1")" "full"
n=$(S snapshots silver.inc --format csv | tail -n +2 | wc -l)
expect_contains "a build without changes" "$(S build)" "fresh"
expect_eq "... makes no snapshot" "$(S snapshots silver.inc --format csv | tail -n +2 | wc -l)" "$n"
expect_ok "--full-refresh rebuilds" S build --full-refresh --select inc
expect_eq "... and still equals full" "$(q "select count(*) from (select * from silver.inc except all select * from silver.full)")" "0"
finish
