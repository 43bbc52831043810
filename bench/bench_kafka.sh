#!/usr/bin/env bash
# bench_kafka.sh SLUICE: N records of 100 bytes (BENCH_RECORDS, default 1,000,000)
# produced to librdkafka's mock Kafka cluster (tests/kafka/mock_broker.c, one broker,
# in its own process) by sluice's Kafka backend (bench/bench_kafka.c through log.h:
# idempotent, acks=all, one flush at the end) and by `kcat -P` (same settings) from the
# same file, in the same run; prints records/s of both and the ratio. Then both read
# their topic back from the beginning, and a steady 500 records/s for 10 s measures
# produce-to-consume latency p50/p99 through sluice (twice: see the note below).
set -euo pipefail
sluice=$1
bin=$(dirname "$sluice")
top=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_RECORDS:-1000000}
work=${BENCH_DIR:-$top/bench/out}/kafka
rm -rf "$work"; mkdir -p "$work"
command -v kcat >/dev/null || { echo "bench_kafka: kcat is not installed (scripts/setup installs it)" >&2; exit 1; }
for b in kafka_mock_broker bench_kafka; do
  [ -x "$bin/$b" ] || { echo "bench_kafka: $bin/$b is missing; run make build" >&2; exit 1; }
done

# The records: lines of 100 characters; kcat -P and bench_kafka both send a line
# without its newline, so every value is 100 bytes.
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "%010d%090d\n", i, i * 7 }' > "$work/records.txt"

"$bin/kafka_mock_broker" bench-sluice:3 bench-kcat:3 bench-lat:1 < /dev/null > "$work/addr" 2>"$work/mock.log" &
mock=$!
trap 'kill $mock 2>/dev/null; wait $mock 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do [ -s "$work/addr" ] && break; sleep 0.1; done
addr=$(head -1 "$work/addr")
[ -n "$addr" ] || { echo "bench_kafka: the mock cluster did not start: $(cat "$work/mock.log")" >&2; exit 1; }
url="kafka://$addr"

echo "kafka: $n records of 100 bytes into a mock cluster at $addr (load: $(cut -d' ' -f1-3 /proc/loadavg))"
t0=$(date +%s%N)
kcat -b "$addr" -P -t bench-kcat -X enable.idempotence=true -X acks=all -X partitioner=murmur2_random \
  < "$work/records.txt"
t1=$(date +%s%N)
sl_out=$("$bin/bench_kafka" produce "$url" bench-sluice "$work/records.txt" 2>>"$work/bench.log")
kc=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
sl=$(echo "$sl_out" | awk '{print $4}')
got=$(echo "$sl_out" | awk '{print $2}')
[ "$got" = "$n" ] || { echo "bench_kafka: sluice produced $got records, expected $n" >&2; exit 1; }

# Both topics got exactly n records (the sum of their end offsets). The mock cluster
# keeps at most 100,000 message sets or 5 MB per partition and drops older ones, so
# the read-back covers what it still holds, the same count for both readers.
read -r _ kc_end _ kc_held < <("$bin/bench_kafka" ends "$url" bench-kcat 2>>"$work/bench.log")
read -r _ sl_end _ sl_held < <("$bin/bench_kafka" ends "$url" bench-sluice 2>>"$work/bench.log")
[ "$kc_end" = "$n" ] || { echo "bench_kafka: kcat's topic got $kc_end records, expected $n" >&2; exit 1; }
[ "$sl_end" = "$n" ] || { echo "bench_kafka: sluice's topic got $sl_end records, expected $n" >&2; exit 1; }
t2=$(date +%s%N)
kc_read=$(kcat -b "$addr" -C -t bench-kcat -o beginning -e -q -f 'x\n' | wc -l)
t3=$(date +%s%N)
sl_read_out=$("$bin/bench_kafka" consume "$url" bench-sluice 2>>"$work/bench.log")
sl_read=$(echo "$sl_read_out" | awk '{print $2}')
[ "$kc_read" = "$kc_held" ] || { echo "bench_kafka: kcat read $kc_read records, the topic holds $kc_held" >&2; exit 1; }
[ "$sl_read" = "$sl_held" ] || { echo "bench_kafka: sluice read $sl_read records, the topic holds $sl_held" >&2; exit 1; }
kcr=$(awk -v a="$t2" -v b="$t3" 'BEGIN{printf "%.3f", (b-a)/1e9}')
slr=$(echo "$sl_read_out" | awk '{print $4}')

lat=$("$bin/bench_kafka" latency "$url" bench-lat 10 500 2>>"$work/bench.log")
# The mock cluster holds an empty fetch for the consumer's whole fetch.wait.max.ms
# (500 ms by default) instead of answering when data arrives as a Kafka broker does;
# a short wait shows the latency of the rest of the path.
lat5=$("$bin/bench_kafka" latency "$url" bench-lat 10 500 fetch.wait.max.ms=5 2>>"$work/bench.log")
awk -v n="$n" -v s="$sl" -v k="$kc" -v sr="$slr" -v kr="$kcr" -v sh="$sl_held" -v kh="$kc_held" -v lat="$lat" -v lat5="$lat5" 'BEGIN{
  split(lat, L, " "); split(lat5, M, " ");
  printf "  produce  sluice (log.h, idempotent, acks=all)  %7.2f s  %9.0f records/s  %6.1f MB/s\n", s, n/s, n*100/s/1e6;
  printf "  produce  kcat -P (same settings)               %7.2f s  %9.0f records/s  %6.1f MB/s\n", k, n/k, n*100/k/1e6;
  printf "  consume  sluice (no group, from beginning)     %7.2f s  %9.0f records/s  (%d records held)\n", sr, sh/sr, sh;
  printf "  consume  kcat -C -e                            %7.2f s  %9.0f records/s  (%d records held)\n", kr, kh/kr, kh;
  printf "  ratio sluice/kcat: produce %.2f, consume %.2f\n", k/s, (sh/sr)/(kh/kr);
  printf "  produce-to-consume latency at 500 records/s, flush per record (%s records):\n", L[3];
  printf "    fetch.wait.max.ms=500 (default): p50 %s ms, p99 %s ms\n", L[5], L[7];
  printf "    fetch.wait.max.ms=5:             p50 %s ms, p99 %s ms\n", M[5], M[7] }'
