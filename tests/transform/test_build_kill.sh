#!/usr/bin/env bash
# test_build_kill.sh: kill -9 at random points during incremental builds (merges with
# position delete files, and copy-on-write rewrites), at least 12 times. After every
# kill the model's table is whole at a committed state: exactly what it held before
# that build, or exactly what the build would have published (the full build of the
# same SQL); the next build then completes and equals the full build.
source "$(dirname "$0")/../lib.sh"
P=$T/proj
S() { "$SLUICE" --project "$P" "$@"; }
q() { S sql --format csv "$1" 2>/dev/null | tail -n +2; }
"$SLUICE" init "$P" >/dev/null
mkdir -p "$P/models"
body="SELECT id, max(ver) AS ver, arg_max(val, ver) AS val, arg_max(s, ver) AS s FROM {{ source('bronze', 'ev') }} GROUP BY id"
printf "{{ config(materialized='incremental', unique_key='id') }}\n%s\n" "$body" > "$P/models/inc.sql"
printf "{{ config(materialized='table') }}\n%s\n" "$body" > "$P/models/full.sql"
sum() { q "select count(*) || ':' || bit_xor(hash(id, ver, val, s)) from silver.$1"; }
# batch N: 30,000 rows, new versions of old ids (spread over every file) and new ids.
batch() {
  S sql "COPY (SELECT CASE WHEN range % 3 = 0 THEN $1 * 1000000 + range ELSE (range * 7919 + $1) % 200000 END AS id,
                      $1 AS ver, (range * 31 + $1) % 1000 AS val, md5((range + $1)::VARCHAR) AS s
               FROM range(30000)) TO '$T/b.csv'" >/dev/null
}
S sql "COPY (SELECT range AS id, 0 AS ver, range % 1000 AS val, md5(range::VARCHAR) AS s FROM range(200000)) TO '$T/b.csv'" >/dev/null
S ingest "$T/b.csv" --into bronze.ev >/dev/null
expect_ok "first build" S build
batch 1 && S ingest "$T/b.csv" --into bronze.ev >/dev/null
t0=$(date +%s%N)
out=$(S build --select inc --format json)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_contains "an incremental build" "$out" '"how":"incremental:'

kills=0 published=0 bad=0 i=0 b=1
while [ "$kills" -lt 12 ] && [ "$i" -lt 40 ]; do
  i=$((i + 1)) b=$((b + 1))
  sed -i '/^build:/,$d' "$P/sluice.yaml"
  if [ $((i % 2)) = 0 ]; then printf 'build:\n  merge: copy-on-write\n' >> "$P/sluice.yaml"; fi
  before=$(sum inc)
  batch "$b" && S ingest "$T/b.csv" --into bronze.ev >/dev/null
  "$SLUICE" --project "$P" build --select inc >/dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v s=$RANDOM -v m=$ms 'BEGIN{srand(s); printf "%.3f", rand() * m * 1.2 / 1000}')"
  if kill -9 $pid 2>/dev/null; then kills=$((kills + 1)); fi
  wait $pid 2>/dev/null
  after=$(sum inc)
  S build --select full >/dev/null 2>&1 || fail "kill $i: the full build failed"
  want=$(sum full)
  if [ "$after" = "$before" ]; then :
  elif [ "$after" = "$want" ]; then published=$((published + 1))
  else bad=$((bad + 1)); echo "after kill $i: silver.inc is $after, neither $before (before) nor $want (published)"; fi
  out=$(S build --select inc --format json 2>&1) || fail "kill $i: the next build failed: $out"
  [ "$(sum inc)" = "$want" ] || fail "kill $i: the next build differs from the full build: $out"
done
expect_eq "killed at least 12 times" "$([ "$kills" -ge 12 ] && echo yes)" "yes"
expect_eq "after every kill the table is at a committed state" "$bad" "0"
echo "# $kills kills, $published of them after the commit, incremental build ~${ms} ms"
finish
