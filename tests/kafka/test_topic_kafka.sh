#!/usr/bin/env bash
# test_topic_kafka.sh: `sluice topic` against a Kafka-protocol cluster (librdkafka's
# mock cluster, build/kafka_mock_broker) with log.url kafka://ADDR in sluice.yaml,
# checked with kcat from the other side: records sluice produces are read by kcat
# byte for byte in the partitions Kafka's murmur2 partitioner gives their keys (computed
# here independently); records kcat produces are read by a sluice consumer group that
# commits, so a second read gets nothing new; describe shows the end offsets; list;
# a dead broker is a clear error and exit 1; `sluice cdc --to topics` writes every
# change of a PostgreSQL table to the cluster.
source "$(dirname "$0")/../lib.sh"
mock=$(dirname "$SLUICE")/kafka_mock_broker
[ -x "$mock" ] || { fail "kafka_mock_broker is next to sluice"; finish; exit; }
command -v kcat >/dev/null || { echo "SKIP kcat is not installed"; exit 0; }
command -v jq >/dev/null || { echo "SKIP jq is not installed"; exit 0; }

mkfifo "$T/in"
"$mock" --brokers 3 orders:3 incoming:4 app.public.accounts:3 < "$T/in" > "$T/addr" 2> "$T/mock.err" &
mock_pid=$!
exec 9> "$T/in"
stop_mock() { exec 9>&-; wait $mock_pid 2>/dev/null; }
for _ in $(seq 1 100); do [ -s "$T/addr" ] && break; sleep 0.1; done
addr=$(head -1 "$T/addr")
expect_contains "the mock cluster is up" "$addr" "127.0.0.1:"

P=$T/proj
"$SLUICE" init "$P" >/dev/null
sed -i "s|^  url: .sluice/log .*|  url: kafka://$addr|" "$P/sluice.yaml"
# A member that left is replaced after 6 s at most (the mock cluster keeps it until
# its session times out), below the consumer's 15 s wait for a first record.
sed -i 's|^log:$|log:\n  kafka: [session.timeout.ms=6000]|' "$P/sluice.yaml"
expect_contains "log.url is the cluster" "$(grep -A2 '^log:' "$P/sluice.yaml")" "kafka://$addr"
S() { "$SLUICE" --project "$P" "$@"; }

# Kafka's default partitioner for keyed records (murmur2 of the key bytes, positive,
# modulo the partition count), written out here to check sluice against.
murmur2_part() { # murmur2_part N < keys -> one partition per line
  python3 -c '
import sys
n = int(sys.argv[1])
def murmur2(data):
    m, r, mask = 0x5bd1e995, 24, 0xffffffff
    h = (0x9747b28c ^ len(data)) & mask
    i = 0
    while len(data) - i >= 4:
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & mask; k ^= k >> r; k = (k * m) & mask
        h = (h * m) & mask; h ^= k
        i += 4
    rest = len(data) - i
    if rest >= 3: h ^= data[i + 2] << 16
    if rest >= 2: h ^= data[i + 1] << 8
    if rest >= 1:
        h ^= data[i]; h = (h * m) & mask
    h ^= h >> 13; h = (h * m) & mask; h ^= h >> 15
    return h
for line in sys.stdin.buffer.read().split(b"\n")[:-1]:
    print((murmur2(line) & 0x7fffffff) % n)
' "$1"
}

# --- sluice produces, kcat reads ---
for i in $(seq 1 300); do printf 'user-%d\t{"n":%d,"s":"caf\xc3\xa9 \\u00e9 %d"}\n' $((i % 37)) "$i" "$i"; done > "$T/lines"
printf 'empty-value\t\n' >> "$T/lines"
expect_ok "topic produce --keyed" S topic produce orders --keyed --batch 64 --file "$T/lines"
expect_contains "counts the records" "$out" "301"
kcat -b "$addr" -C -t orders -o beginning -e -q -f '%p\t%k\t%s\n' > "$T/kc.out" 2> "$T/kc.err"
expect_eq "kcat reads every record" "$(wc -l < "$T/kc.out")" 301
expect_eq "keys and values byte for byte" "$(cut -f2- "$T/kc.out" | sort | sha256sum)" "$(sort "$T/lines" | sha256sum)"
cut -f2 "$T/kc.out" | murmur2_part 3 > "$T/want.parts"
expect_eq "each record in its key's murmur2 partition" "$(cut -f1 "$T/kc.out")" "$(cat "$T/want.parts")"
expect_eq "all three partitions used" "$(cut -f1 "$T/kc.out" | sort -u | wc -l)" 3
for p in 0 1 2; do
  kcat -b "$addr" -C -t orders -p $p -o beginning -e -q -f '%k\t%s\n' > "$T/p$p" 2>/dev/null
  expect_eq "partition $p keeps the produce order" "$(cat "$T/p$p")" \
    "$(paste <(cut -f1 "$T/lines" | murmur2_part 3) "$T/lines" | awk -F'\t' -v p=$p '$1 == p' | cut -f2-)"
done

# --- describe and list ---
S topic describe orders --format json > "$T/desc.json" 2> "$T/desc.err"
expect_eq "topic describe --format json: exit 0 $(cat "$T/desc.err")" "$?" 0
for p in 0 1 2; do
  expect_eq "describe: partition $p end offset" \
    "$(jq -r --argjson p $p '.partition_offsets[] | select(.partition == $p) | .end_offset' "$T/desc.json")" "$(wc -l < "$T/p$p")"
done
expect_ok "topic describe (table)" S topic describe orders
expect_contains "table names the topic" "$out" "orders"
S topic list --format json > "$T/list.json" 2> "$T/list.err"
expect_eq "topic list --format json: exit 0 $(cat "$T/list.err")" "$?" 0
expect_eq "list shows the topics" "$(cat "$T/list.json" | jq -r '.. | objects | .topic? // empty' | sort | paste -sd,)" \
  "app.public.accounts,incoming,orders"
expect_eq "list counts the records" "$(cat "$T/list.json" | jq -r '.. | objects | select(.topic? == "orders") | .records')" 301
expect_ok "topic list (table)" S topic list
expect_contains "the table lists orders" "$out" "orders"
# librdkafka's mock cluster has no controller, so it cannot create topics: the error says so.
expect_exit "topic create on the mock cluster: exit 1" 1 S topic create made --partitions 2
expect_contains "create names the cause" "$out" "no controller broker answered"

# --- kcat produces, a sluice group reads and commits ---
for i in $(seq 1 200); do printf 'k%d:value %d \xe2\x82\xac\n' $((i % 23)) "$i"; done > "$T/kin"
kcat -b "$addr" -P -t incoming -K: -X partitioner=murmur2_random < "$T/kin"
# consume_g NAME: the group g reads incoming into $T/NAME.json; checks the exit code.
consume_g() {
  S topic consume incoming --format json --group g --commit > "$T/$1.json" 2> "$T/$1.err"
  expect_eq "consume --group g --commit ($1): exit 0 $(cat "$T/$1.err")" "$?" 0
}
consume_g c1
expect_eq "the group reads all 200" "$(jq -s length "$T/c1.json")" 200
expect_eq "keys and values as kcat produced them" "$(jq -r '"\(.key):\(.value)"' "$T/c1.json" | sort | sha256sum)" \
  "$(sort "$T/kin" | sha256sum)"
expect_eq "partitions as murmur2 puts the keys" "$(jq -r '[.key, .partition] | @tsv' "$T/c1.json" | sort -u | cut -f2)" \
  "$(jq -r .key "$T/c1.json" | sort -u | murmur2_part 4)"
expect_eq "four partitions used" "$(jq -r .partition "$T/c1.json" | sort -u | wc -l)" 4
consume_g c2
expect_eq "nothing new for the group" "$(cat "$T/c2.json")" ""
kcat -b "$addr" -P -t incoming -K: -X partitioner=murmur2_random <<< 'late:one more'
consume_g c3
expect_eq "only the new record" "$(jq -r '"\(.key):\(.value)"' "$T/c3.json")" "late:one more"

# --- a dead broker ---
dead=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_exit "list on a dead broker: exit 1" 1 "$SLUICE" --project "$P" topic list --log "kafka://127.0.0.1:$dead"
expect_contains "the error names the broker" "$out" "127.0.0.1:$dead"
expect_exit "produce to a dead broker: exit 1" 1 "$SLUICE" --project "$P" topic produce orders --log "kafka://127.0.0.1:$dead" <<< 'x'
expect_contains "the produce error names the broker" "$out" "127.0.0.1:$dead"

# --- CDC into the cluster ---
if command -v pg_ctlcluster >/dev/null || [ -x "$SL_SRC/scripts/pg" ]; then
  (
    # pg_private makes its project in $T/proj (taken above) and removes $T on exit.
    chmod 711 "$T" && T=$T/cdc && mkdir "$T"
    _passed=0 _failed=0
    pg_private "tables: [accounts]" "heartbeat_interval_ms: 500"
    sed -i "s|^  url: .sluice/log .*|  url: kafka://$addr|" "$P/sluice.yaml"
    psql <<'SQL'
CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL);
INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 50) g;
SQL
    expect_ok "cdc snapshot into the cluster" S cdc app --to topics --idle-exit 1500
    psql -c "INSERT INTO accounts VALUES (5001, 1); UPDATE accounts SET balance = 2 WHERE id = 5001; DELETE FROM accounts WHERE id = 3"
    psql -c "UPDATE accounts SET balance = balance + 1 WHERE id <= 10"
    expect_ok "cdc changes into the cluster" S cdc app --to topics --idle-exit 1500
    kcat -b "$addr" -C -t app.public.accounts -o beginning -e -q -f '%p\t%k\t%s\n' > "$T/cdc.out" 2>/dev/null
    expect_eq "every snapshot row arrives" "$(cut -f3 "$T/cdc.out" | jq -r 'select(.op == "r") | .after.id' | sort -n | uniq | wc -l)" 50
    expect_eq "every change arrives, once" \
      "$(cut -f3 "$T/cdc.out" | jq -r 'select(.op != "r") | "\(.op):\((.after // .before).id)"' | sort | paste -sd,)" \
      "$( (echo c:5001; echo u:5001; echo d:3; for i in $(seq 1 10); do [ $i = 3 ] || echo u:$i; done) | sort | paste -sd,)"
    expect_eq "records keyed by the primary key, in its murmur2 partition" "$(cut -f1 "$T/cdc.out")" \
      "$(cut -f2 "$T/cdc.out" | murmur2_part "$(kcat -b "$addr" -L -t app.public.accounts 2>/dev/null | sed -n 's/.*with \([0-9]*\) partitions.*/\1/p')")"
    expect_ok "cdc again: nothing new" S cdc app --to topics --idle-exit 1500
    expect_eq "no duplicate after a clean restart" \
      "$(kcat -b "$addr" -C -t app.public.accounts -o beginning -e -q -f '%s\n' 2>/dev/null | wc -l)" "$(wc -l < "$T/cdc.out")"
    finish
  ) > "$T/cdc.log" 2>&1
  cdc_rc=$?
  cat "$T/cdc.log"
  if [ $cdc_rc = 0 ]; then ok "cdc into the cluster"; else fail "cdc into the cluster"; fi
fi

stop_mock
finish
