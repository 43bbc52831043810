#!/usr/bin/env bash
# test_kill.sh: kill -9 at random points during ingests, at least 20 times. After
# every kill the table is at a committed snapshot: its row count is one of the
# committed counts and its data is whole. A SIGINT stops an ingest cleanly.
source "$(dirname "$0")/../lib.sh"
P=$T/proj
S() { "$SLUICE" --project "$P" "$@"; }
"$SLUICE" init "$P" >/dev/null
N=400000
S sql "COPY (SELECT range AS id, range % 97 AS k, md5(range::VARCHAR) AS h FROM range($N)) TO '$T/in.csv'" >/dev/null
count() { S sql --format csv "SELECT count(*) FROM bronze.k" 2>/dev/null | tail -1; }

# One uninterrupted ingest tells how long one takes.
t0=$(date +%s%N)
expect_ok "first ingest" S ingest "$T/in.csv" --into bronze.k
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
prev=$N
kills=0 commits=0 bad=0
i=0
while [ "$kills" -lt 22 ] && [ "$i" -lt 80 ]; do
  i=$((i + 1))
  "$SLUICE" --project "$P" ingest "$T/in.csv" --into bronze.k >/dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v s=$RANDOM -v m=$ms 'BEGIN{srand(s); printf "%.3f", rand() * m * 1.1 / 1000}')"
  if kill -9 $pid 2>/dev/null; then kills=$((kills + 1)); fi
  wait $pid 2>/dev/null
  c=$(count)
  if [ "$c" = "$prev" ]; then :
  elif [ "$c" = "$((prev + N))" ]; then commits=$((commits + 1)); prev=$c
  else bad=$((bad + 1)); echo "after kill $i: count $c is neither $prev nor $((prev + N))"; prev=$c; fi
done
expect_eq "every state was a committed one" "$bad" "0"
if [ "$kills" -ge 20 ]; then ok "killed $kills times ($commits ingests committed anyway)"; else fail "only $kills kills landed"; fi
expect_eq "data is whole" "$(S sql --format csv "SELECT count(*) = $prev AND sum(id) = $((prev / N)) * $(( N * (N - 1) / 2 )) FROM bronze.k" | tail -1)" "true"
expect_ok "catalog readable" S snapshots bronze.k

# SIGINT: the ingest stops, says so, exits 130, and removes what it wrote.
before=$(find "$P/lake/bronze/k" -name '*.parquet' | wc -l)
"$SLUICE" --project "$P" ingest "$T/in.csv" --into bronze.k >"$T/int.out" 2>&1 &
pid=$!
sleep "$(awk -v m=$ms 'BEGIN{printf "%.3f", m * 0.4 / 1000}')"
kill -INT $pid
wait $pid; rc=$?
if [ $rc = 130 ]; then
  ok "SIGINT exit code"
  expect_contains "SIGINT message" "$(cat "$T/int.out")" "interrupted; the table is unchanged"
  expect_eq "SIGINT leaves no new files" "$(find "$P/lake/bronze/k" -name '*.parquet' | wc -l)" "$before"
  expect_eq "SIGINT leaves the table" "$(count)" "$prev"
elif [ $rc = 0 ]; then
  ok "ingest finished before SIGINT arrived"
else
  fail "SIGINT exit $rc: $(cat "$T/int.out")"
fi
finish
