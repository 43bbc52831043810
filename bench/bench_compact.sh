#!/usr/bin/env bash
# bench_compact.sh SLUICE: compaction. BENCH_APPENDS (default 400) appends of
# BENCH_APPEND_ROWS (2,500) loans rows each into bronze.loan, as change data capture
# or frequent ingests leave a table: one small file per commit. Then `sluice compact`,
# against the peer, DuckDB alone (@duckdb/node-api) rewriting the same files into one
# (no catalog, no statistics, no checks), in the same run: both times and the ratio.
# And what it is for: a scan of the table (count and hash of every row) before and
# after, by `sluice sql`.
set -euo pipefail
sluice=$1
top=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_APPENDS:-400}
per=${BENCH_APPEND_ROWS:-2500}
work=${BENCH_DIR:-$top/bench/out}/compact
threads=$(nproc)
export SLUICE_PROGRESS=0
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", (b-a)/1e9}'; }
rm -rf "$work" && mkdir -p "$work/in"
P=$work/proj
S() { "$sluice" --project "$P" "$@"; }
q() { S sql --format csv "$1" | tail -n +2; }
"$sluice" init "$P" >/dev/null
"$sluice" gen loans --rows $((n * per)) --seed 5 --out "$work/all.parquet" >/dev/null 2>&1
S sql "COPY (SELECT *, (id - 1) // $per AS part FROM read_parquet('$work/all.parquet'))
  TO '$work/in' (FORMAT parquet, PARTITION_BY (part))" >/dev/null
t0=$(date +%s%N)
for ((i = 0; i < n; i++)); do S ingest "$work/in/part=$i/"*.parquet --into bronze.loan >/dev/null; done
t1=$(date +%s%N)
scan="select count(*), bit_xor(hash(t)) from bronze.loan t"
ts0=$(date +%s%N); before=$(q "$scan"); ts1=$(date +%s%N)
S describe bronze.loan --files --format json | python3 -c '
import json, sys
for f in json.load(sys.stdin)["data_files"]: print(sys.argv[1] + "/lake/" + f["path"])' "$P" > "$work/files"
peer=$(NODE_PATH="$top/.deps/node/node_modules" node "$top/bench/duckdb_compact.cjs" "$work/files" "$work/peer.parquet" "$threads")
tc0=$(date +%s%N); out=$(S compact --format json); tc1=$(date +%s%N)
ta0=$(date +%s%N); after=$(q "$scan"); ta1=$(date +%s%N)
[ "$before" = "$after" ] || { echo "bench: the table reads $after after compaction, $before before" >&2; exit 1; }
rows=$(echo "$peer" | sed 's/.*"rows":\([0-9]*\).*/\1/')
[ "$rows" = "$((n * per))" ] || { echo "bench: DuckDB alone wrote $rows rows" >&2; exit 1; }
files_after=$(S describe bronze.loan --format json | sed 's/.*"files":\([0-9]*\).*/\1/')
awk -v n="$n" -v per="$per" -v h="$(secs "$t0" "$t1")" -v c="$(secs "$tc0" "$tc1")" \
    -v d="$(echo "$peer" | sed 's/.*"seconds":\([0-9.]*\).*/\1/')" -v sb="$(secs "$ts0" "$ts1")" \
    -v sa="$(secs "$ta0" "$ta1")" -v fa="$files_after" 'BEGIN{
  printf "compact bronze.loan: %d appends of %d rows (%.1f s to make), %d files -> %d\n", n, per, h, n, fa;
  printf "  sluice compact               %7.2f s\n", c;
  printf "  DuckDB alone (node)          %7.2f s  (the same files into one, no catalog)\n", d;
  printf "  ratio sluice/DuckDB          %7.2fx\n", c / d;
  printf "  a scan of every row (count, hash): %.2f s before, %.2f s after (%.1fx faster)\n", sb, sa, sb / sa }'
