#!/usr/bin/env bash
# bench_vacuum.sh SLUICE: the lake's upkeep. A project with BENCH_ROWS (default 10
# million) loans rows in bronze.loan and a history of BENCH_ROUNDS (default 30) rounds,
# each appending 1% new versions of rows and building an incremental model (merges with
# delete files) and a table model (a full rewrite): many snapshots and replaced files.
# Then `sluice vacuum --retain 0` on one copy of it, and the peer on another: `rm` of
# exactly the files vacuum deleted (the least any cleanup does: the file system's work,
# no catalog). Prints both times, the ratio, the files and bytes freed, and checks that
# both copies answer the same query afterwards.
set -euo pipefail
sluice=$1
top=$(cd "$(dirname "$0")/.." && pwd)
rows=${BENCH_ROWS:-10000000}
rounds=${BENCH_ROUNDS:-30}
work=${BENCH_DIR:-$top/bench/out}/vacuum
export SLUICE_PROGRESS=0
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", (b-a)/1e9}'; }
rm -rf "$work" && mkdir -p "$work"
P=$work/proj
S() { "$sluice" --project "$P" "$@"; }
q() { S sql --format csv "$1" | tail -n +2; }

"$sluice" init "$P" >/dev/null
"$sluice" gen loans --rows "$rows" --seed 11 --out "$work/gen.parquet" >/dev/null
S sql "COPY (SELECT *, TIMESTAMP '2025-01-01' + to_seconds(id) AS updated_at FROM read_parquet('$work/gen.parquet'))
  TO '$work/loans.parquet' (FORMAT parquet, COMPRESSION zstd)" >/dev/null
S ingest "$work/loans.parquet" --into bronze.loan >/dev/null
mkdir -p "$P/models"
cp "$top/bench/build_models/loan_latest.sql" "$P/models/"
printf "{{ config(materialized='table', namespace='gold') }}\nSELECT loan_intent, count(*) AS n, avg(loan_amnt) AS amount FROM {{ ref('loan_latest') }} GROUP BY 1\n" > "$P/models/by_intent.sql"
S build >/dev/null
t0=$(date +%s%N)
for ((r = 1; r <= rounds; r++)); do
  S sql "COPY (SELECT * REPLACE (round(loan_amnt * 1.01, 2) AS loan_amnt, updated_at + INTERVAL (200 + $r) DAY AS updated_at)
    FROM bronze.loan WHERE id % 100 = $((r % 100)) AND id <= $rows) TO '$work/changes.parquet' (FORMAT parquet, COMPRESSION zstd)" >/dev/null
  S ingest "$work/changes.parquet" --into bronze.loan >/dev/null
  S build >/dev/null
done
t1=$(date +%s%N)
before=$(du -sb "$P/lake" | cut -f1)
files_before=$(find "$P/lake" -type f | wc -l)
snaps=$(sqlite3 "$P/.sluice/catalog.db" "select count(*) from snapshots")
check="select count(*), bit_xor(hash(t)) from silver.loan_latest t"
want=$(q "$check")

cp -a "$P" "$work/peer"
find "$P/lake" -type f | sort > "$work/files.before"
t0v=$(date +%s%N); out=$(S vacuum --retain 0 --format json); t1v=$(date +%s%N)
find "$P/lake" -type f | sort > "$work/files.after"
comm -23 "$work/files.before" "$work/files.after" | sed "s|^$P/|$work/peer/|" > "$work/gone"
t0p=$(date +%s%N); xargs -a "$work/gone" rm -f; t1p=$(date +%s%N)
after=$(du -sb "$P/lake" | cut -f1)
got=$(q "$check")
[ "$got" = "$want" ] || { echo "bench: silver.loan_latest changed by vacuum: $got, was $want" >&2; exit 1; }
peer=$("$sluice" --project "$work/peer" sql --format csv "$check" | tail -n +2)
[ "$peer" = "$want" ] || { echo "bench: the peer's copy reads $peer, want $want" >&2; exit 1; }
n_gone=$(wc -l < "$work/gone")
echo "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("vacuum: %d snapshots expired, %d files deleted, %.1f MB freed" % (d["snapshots_expired"], d["files_deleted"], d["bytes_freed"] / 1e6))'
awk -v r="$rows" -v n="$rounds" -v h="$(secs "$t0" "$t1")" -v s="$snaps" -v fb="$files_before" -v b="$before" -v a="$after" \
    -v vs="$(secs "$t0v" "$t1v")" -v ps="$(secs "$t0p" "$t1p")" -v g="$n_gone" 'BEGIN{
  printf "lake: %d rows, %d rounds of 1%% changes (%.1f s), %d snapshots, %d files, %.1f MB\n", r, n, h, s, fb, b / 1e6;
  printf "  sluice vacuum --retain 0     %7.3f s  (%d files gone, lake %.1f -> %.1f MB)\n", vs, g, b / 1e6, a / 1e6;
  printf "  rm of the same files (peer)  %7.3f s\n", ps;
  printf "  ratio sluice/rm              %7.1fx (the catalog work: expiry, orphan listing, one process start)\n", vs / (ps > 0 ? ps : 0.001) }'
rm -rf "$work/peer"
