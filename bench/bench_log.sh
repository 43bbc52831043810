#!/usr/bin/env bash
# bench_log.sh SLUICE: 10 million 100-byte records (BENCH_RECORDS, BENCH_VALUE_BYTES)
# through the embedded log with group commit (one fsync per BENCH_BATCH records),
# beside the disk's own ceiling (the same bytes written sequentially by the same
# program with the same fsync cadence), in one run: records/s, MB/s, the ratio, the
# read-back rate and produce-to-consume latency p50/p99. The two take turns
# BENCH_ROUNDS times (default 3); the best of each is compared. bench_log is built by CMake
# next to sluice.
set -euo pipefail
sluice=$1
top=$(cd "$(dirname "$0")/.." && pwd)
prog=$(dirname "$sluice")/bench_log
[ -x "$prog" ] || { echo "bench_log: $prog is missing; run make build" >&2; exit 1; }
work=${BENCH_DIR:-$top/bench/out}/log
rm -rf "$work"; mkdir -p "$work"
echo "log: load $(uptime | sed 's/.*load average: //')"
"$prog" "$work" "${BENCH_RECORDS:-10000000}" "${BENCH_VALUE_BYTES:-100}" "${BENCH_BATCH:-10000}" "${BENCH_ROUNDS:-3}"
rm -rf "$work"
