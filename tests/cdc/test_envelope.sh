#!/usr/bin/env bash
# test_envelope.sh: Debezium envelope fields against a real PostgreSQL 15:
# source.sequence as Debezium's PostgreSQL connector emits it (a JSON string of
# ["<last commit lsn>","<lsn>"]), source.xmin and transaction null, and numeric values
# under each decimal_handling (string, double, precise), in snapshot and stream events.
source "$(dirname "$0")/../lib.sh"
pg_private "tables: [n]"
EV=$T/events.jsonl
psql <<'SQL'
CREATE TABLE n (id int PRIMARY KEY, p numeric(10,2), v numeric, a numeric[]);
INSERT INTO n VALUES (1, 12.34, 12.345, '{1.5,NULL}'), (2, -1.28, -128, NULL), (3, 0, 'NaN', '{}');
SQL
after() { echo "\"after\":$(S sql --format csv --max-rows 0 "SELECT after FROM read_json('$1', format='newline_delimited',
  columns={after: 'JSON'}) WHERE json_extract(after, '\$.id')::INT = $2" | tail -1 | sed 's/^"//; s/"$//; s/""/"/g')"; }
for mode in default string double precise; do
  [ "$mode" = default ] || { sed -i '/decimal_handling:/d' "$P/sluice.yaml"; echo "    decimal_handling: $mode" >> "$P/sluice.yaml"; }
  expect_ok "snapshot with decimal_handling $mode" S cdc app --to "jsonl:$T/$mode.jsonl" --snapshot initial_only
done
expect_eq "default is string" "$(after "$T/default.jsonl" 1)" '"after":{"id":1,"p":"12.34","v":"12.345","a":["1.5",null]}'
expect_eq "string" "$(after "$T/string.jsonl" 2)" '"after":{"id":2,"p":"-1.28","v":"-128","a":null}'
expect_eq "double" "$(after "$T/double.jsonl" 1)" '"after":{"id":1,"p":12.34,"v":12.345,"a":[1.5,null]}'
expect_eq "double, negative" "$(after "$T/double.jsonl" 2)" '"after":{"id":2,"p":-1.28,"v":-128,"a":null}'
# precise: 1234 = 0x04D2, -1.28 -> -128 = 0x80 (shortest two's complement); numeric without a
# declared scale is {"scale","value"}.
expect_eq "precise" "$(after "$T/precise.jsonl" 1)" \
  '"after":{"id":1,"p":"BNI=","v":{"scale":3,"value":"MDk="},"a":[{"scale":1,"value":"Dw=="},null]}'
expect_eq "precise, negative" "$(after "$T/precise.jsonl" 2)" '"after":{"id":2,"p":"gA==","v":{"scale":0,"value":"gA=="},"a":null}'
expect_eq "NaN stays a string in every mode" \
  "$(for m in string double precise; do grep -o '"v":"NaN"' "$T/$m.jsonl"; done | wc -l)" "3"
expect_eq "snapshot without a slot: sequence has no LSNs" "$(grep -c '"sequence":"\[null,null\]"' "$T/string.jsonl")" "3"

# Stream events: the sequence's first element is the end of the previous transaction.
sed -i '/decimal_handling:/d' "$P/sluice.yaml"
expect_ok "slot and snapshot" S cdc app --to "jsonl:$T/snap.jsonl" --idle-exit 500
expect_eq "snapshot at the slot's point: sequence [null, lsn]" "$(grep -c '"sequence":"\[null,\\"[0-9][0-9]*\\"\]"' "$T/snap.jsonl")" "3"
psql -c "BEGIN; INSERT INTO n VALUES (10, 1, 1, NULL); UPDATE n SET p = 2 WHERE id = 10; COMMIT"
end1=$(psql -c "SELECT pg_current_wal_lsn() - '0/0'")
psql -c "INSERT INTO n VALUES (11, 3, 3, NULL)"
expect_ok "stream" S cdc app --to "jsonl:$EV" --idle-exit 500
q() { S sql --format csv "SELECT $1 FROM (SELECT row_number() OVER () AS k, * FROM read_json('$EV', format='newline_delimited',
  columns={op: 'VARCHAR', source: 'STRUCT(sequence VARCHAR, lsn UBIGINT, xmin UBIGINT)', \"transaction\": 'JSON'})) WHERE k = $2" | tail -1; }
expect_eq "sequence is a string of two LSNs, the second the event's" \
  "$(q "json_array_length(source.sequence), json_extract_string(source.sequence, '\$[1]') = source.lsn::VARCHAR" 1)" "2,true"
expect_eq "xmin and transaction null" "$(q "source.xmin IS NULL, \"transaction\" IS NULL" 1)" "true,true"
l1=$(q "json_extract_string(source.sequence, '\$[0]')::UBIGINT" 1)
expect_eq "one transaction shares its last commit LSN" "$(q "json_extract_string(source.sequence, '\$[0]')::UBIGINT" 2)" "$l1"
l3=$(q "json_extract_string(source.sequence, '\$[0]')::UBIGINT" 3)
lsn2=$(q "source.lsn" 2)
[ "$l3" -gt "$lsn2" ] && [ "$l3" -le "$end1" ] && ok "the next transaction's last commit is the end of the previous one" ||
  fail "last commit LSN $l3 not in ($lsn2, $end1]"
[ "$l1" -le "$(q "source.lsn" 1)" ] && ok "last commit LSN precedes the event" || fail "last commit LSN $l1 after the event"
finish
