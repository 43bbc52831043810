#!/usr/bin/env bash
# bench_ingest.sh SLUICE: a trips CSV (BENCH_ROWS rows, default 10 million) ingested
# into bronze by sluice, and the same CSV-to-Parquet copy done by DuckDB alone through
# @duckdb/node-api, in the same run, same zstd settings; prints rows/s and the ratio.
set -euo pipefail
sluice=$1
top=$(cd "$(dirname "$0")/.." && pwd)
rows=${BENCH_ROWS:-10000000}
work=${BENCH_DIR:-$top/bench/out}/ingest
mkdir -p "$work"
csv="$work/trips-$rows.csv"
[ -f "$csv" ] || "$sluice" gen trips --rows "$rows" --seed 7 --out "$csv"
bytes=$(stat -c %s "$csv")
threads=$(nproc)

rm -rf "$work/proj" "$work/duck.parquet"
"$sluice" init "$work/proj" >/dev/null
cat "$csv" >/dev/null  # both sides start with the file in the page cache

t0=$(date +%s%N)
SLUICE_PROGRESS=0 "$sluice" --project "$work/proj" ingest "$csv" --into bronze.trips >/dev/null
t1=$(date +%s%N)
sl_s=$(awk -v a=$t0 -v b=$t1 'BEGIN{printf "%.3f", (b-a)/1e9}')
got=$("$sluice" --project "$work/proj" sql --format csv "SELECT count(*) FROM bronze.trips" | tail -1)
[ "$got" = "$rows" ] || { echo "bench: sluice ingested $got rows, expected $rows" >&2; exit 1; }

duck_s=$(NODE_PATH="$top/.deps/node/node_modules" node "$top/bench/duckdb_copy.cjs" "$csv" "$work/duck.parquet" "$threads")

awk -v r=$rows -v b=$bytes -v s=$sl_s -v d=$duck_s 'BEGIN{
  printf "ingest %d-row trips CSV (%.0f MB) into Parquet (zstd)\n", r, b/1e6;
  printf "  sluice ingest        %7.2f s  %10.0f rows/s  %6.1f MB/s\n", s, r/s, b/1e6/s;
  printf "  DuckDB alone (node)  %7.2f s  %10.0f rows/s  %6.1f MB/s\n", d, r/d, b/1e6/d;
  printf "  ratio sluice/DuckDB  %.2f (goal >= 0.8)\n", d/s }'
