#!/usr/bin/env bash
# test_cdc_topics.sh: `sluice cdc --to topics` against a real PostgreSQL 15: the
# snapshot and the changes land in topic <prefix>.public.accounts keyed by the
# primary key (Debezium key JSON), each change exactly once, including across a
# kill -9 loop while PostgreSQL is written to; the envelopes replay to the source.
source "$(dirname "$0")/../lib.sh"
pg_private "tables: [accounts]" "heartbeat_interval_ms: 500"
sed -i 's/^log:$/log:\n  partitions: 3/' "$P/sluice.yaml"
TOPIC=app.public.accounts
dump() { S topic consume "$TOPIC" --format json > "$T/topic.json"; }

psql <<'SQL'
CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL);
INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 1000) g;
SQL

expect_exit "bad --to" 2 S cdc app --to topicz
expect_ok "snapshot into topics" S cdc app --to topics --idle-exit 1500
dump
expect_eq "snapshot rows" "$(jq -r 'select((.value | fromjson).op == "r")' "$T/topic.json" | jq -s length)" 1000
expect_eq "three partitions used" "$(jq -r .partition "$T/topic.json" | sort -u | wc -l)" 3
expect_eq "key is the Debezium key JSON" "$(jq -r 'select(.key == "{\"id\":7}") | (.value | fromjson).after.id' "$T/topic.json")" 7
expect_eq "same key, same partition (murmur2)" \
  "$(jq -r '[.key, .partition] | @tsv' "$T/topic.json" | sort -u | cut -f1 | uniq -d | wc -l)" 0

psql -c "INSERT INTO accounts VALUES (5001, 1); UPDATE accounts SET balance = 2 WHERE id = 5001; DELETE FROM accounts WHERE id = 3"
expect_ok "changes into topics" S cdc app --to topics --idle-exit 1500
dump
expect_eq "the three changes" "$(jq -r 'select((.value | fromjson).op != "r") | (.value | fromjson).op' "$T/topic.json" | sort | paste -sd, -)" "c,d,u"
expect_eq "headers carry the position" "$(jq -r 'select((.value | fromjson).op == "c") | .headers["cdc-pos"]' "$T/topic.json" | grep -c '^[0-9]*:[0-9]*$')" 1
expect_ok "again: nothing new" S cdc app --to topics --idle-exit 1500
dump
expect_eq "no duplicate after a clean restart" "$(jq -r 'select((.value | fromjson).op != "r")' "$T/topic.json" | jq -s length)" 3

# kill -9 while three writers insert, update and delete.
rm -f "$T/stop"
mixed() {
  local i=0 base=$1
  while [ ! -f "$T/stop" ]; do
    i=$((i + 1))
    psql -c "BEGIN; INSERT INTO accounts VALUES ($((base + i)), $i); UPDATE accounts SET balance = balance + 3 WHERE id = $((base + i / 2)); DELETE FROM accounts WHERE id = $((base + i / 3)) AND $((i % 3)) = 0; COMMIT" >/dev/null 2>&1
  done
}
mixed 4000000 & w1=$!
mixed 4300000 & w2=$!
mixed 4600000 & w3=$!
kill_loop 22 0.3 1.0 "$SLUICE" --project "$P" cdc app --to topics --batch-ms 50
touch "$T/stop"; wait $w1 $w2 $w3
expect_ok "catch up after the kills" S cdc app --to topics --idle-exit 2000
[ "$kills" -ge 20 ] && ok "killed $kills times" || fail "only $kills kills"
dump
expect_eq "each change exactly once (distinct positions)" \
  "$(jq -r 'select((.value | fromjson).op != "r") | .headers["cdc-pos"]' "$T/topic.json" | sort | uniq -d | wc -l)" 0
# Replay: per key the last record (a key lives in one partition, in order).
replay=$(jq -r '[.partition, .offset, (.value | fromjson) as $v | $v.op, ($v.after.id // $v.before.id), ($v.after.balance // "")] | @tsv' "$T/topic.json" |
  sort -t$'\t' -k1,1n -k2,2n | awk -F'\t' '$4 >= 4000000 && $4 < 5000000 { op[$4] = $3; b[$4] = $5 }
    END { for (k in op) if (op[k] != "d") print k ":" b[k] }' | sort -n | paste -sd, - | md5sum | cut -d' ' -f1)
pgs=$(psql -c "SELECT string_agg(id || ':' || balance, ',' ORDER BY id) FROM accounts WHERE id >= 4000000 AND id < 5000000" | md5sum | cut -d' ' -f1)
expect_eq "the topic replays to the source's state after the kills" "$replay" "$pgs"
n=$(psql -c "SELECT count(*) FROM accounts WHERE id >= 4000000 AND id < 5000000")
echo "kill loop: $kills kills, $(jq -r 'select((.value | fromjson).op != "r")' "$T/topic.json" | jq -s length) change records, $n live rows"
out=$(S topic describe "$TOPIC")
expect_contains "describe the CDC topic" "$out" "3 partitions"

finish
