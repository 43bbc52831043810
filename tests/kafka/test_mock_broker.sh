#!/usr/bin/env bash
# test_mock_broker.sh: the mock Kafka cluster helper that shell tests and bench/bench_kafka.sh
# use (build/kafka_mock_broker): it starts, kcat sees its brokers and topics, records go
# through it byte for byte, and it stops when its stdin closes.
source "$(dirname "$0")/../lib.sh"
mock=$(dirname "$SLUICE")/kafka_mock_broker
[ -x "$mock" ] || { fail "kafka_mock_broker is next to sluice"; finish; exit; }
command -v kcat >/dev/null || { echo "SKIP kcat is not installed"; exit 0; }

expect_ok "--help" "$mock" --help
expect_exit "bad topic spec" 2 "$mock" "t:0"

mkfifo "$T/in"
"$mock" --brokers 2 orders:3 events < "$T/in" > "$T/addr" 2> "$T/err" &
pid=$!
exec 9> "$T/in"
for _ in $(seq 1 100); do [ -s "$T/addr" ] && break; sleep 0.1; done
addr=$(head -1 "$T/addr")
expect_contains "prints the bootstrap address" "$addr" "127.0.0.1:"
meta=$(kcat -b "$addr" -L 2>&1)
expect_contains "two brokers" "$meta" "2 brokers:"
expect_contains "orders has 3 partitions" "$meta" 'topic "orders" with 3 partitions'
expect_contains "events has 1 partition" "$meta" 'topic "events" with 1 partitions'

head -c 50000 /dev/urandom > "$T/blob"
kcat -b "$addr" -P -t events -p 0 "$T/blob"
kcat -b "$addr" -C -t events -p 0 -o beginning -c 1 -e -q -f '%s' > "$T/back"
expect_eq "a binary record comes back byte for byte" "$(sha256sum < "$T/back")" "$(sha256sum < "$T/blob")"

exec 9>&-
for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then fail "stops when stdin closes"; kill $pid; else ok "stops when stdin closes"; fi
wait $pid; expect_eq "exit status" "$?" "0"
finish
