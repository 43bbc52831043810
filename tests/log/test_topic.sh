#!/usr/bin/env bash
# test_topic.sh: `sluice topic ...` end to end on the embedded log: create, produce
# (lines, keyed, a file), consume (text, json, from offset/time/end, groups with
# commit and resume), describe/offsets with lag, delete, usage errors, a second
# process reading while another writes, a second writer refused, and a kill -9 loop
# while producing after which every acknowledged record is in the log.
source "$(dirname "$0")/../lib.sh"

P=$T/proj
"$SLUICE" init "$P" >/dev/null
S() { "$SLUICE" topic --project "$P" "$@"; }

expect_ok "help" S --help
expect_contains "help lists produce" "$out" "produce NAME"
expect_ok "produce help" S produce --help
expect_contains "produce help says when it acknowledges" "$out" "acknowledged"
expect_exit "no command" 2 S
expect_exit "unknown command" 2 S frobnicate
expect_exit "bad partitions" 2 S create t --partitions zero
expect_exit "bad topic name" 2 S create 'bad/name'
expect_contains "bad name explained" "$out" "use only letters, digits"

expect_ok "create" S create orders --partitions 3 --retention-ms -1
expect_exit "create twice" 1 S create orders
expect_contains "exists" "$out" "already exists"
expect_exit "produce to a missing topic" 1 bash -c "echo x | $SLUICE topic --project $P produce nosuch"
expect_contains "missing topic says what to do" "$out" "sluice topic create nosuch"

# Keyed: the same key always lands in the same partition, in order.
for i in $(seq 1 300); do printf 'user%d\t{"n":%d}\n' $((i % 7)) "$i"; done > "$T/keyed.txt"
out=$(S produce orders --keyed --file "$T/keyed.txt")
expect_contains "keyed produce count" "$out" "produced 300 records to orders"
S consume orders --format json > "$T/all.json"
expect_eq "consume reads all" "$(wc -l < "$T/all.json")" 300
expect_eq "one partition per key" \
  "$(jq -r '[.key, .partition] | @tsv' "$T/all.json" | sort -u | cut -f1 | uniq -d | wc -l)" 0
expect_eq "per-key order kept" \
  "$(jq -r 'select(.key=="user3") | .value | fromjson | .n' "$T/all.json" | paste -sd, -)" \
  "$(seq 3 7 300 | paste -sd, -)"
expect_eq "offsets dense per partition" \
  "$(jq -r '.partition' "$T/all.json" | sort | uniq -c | awk '{s+=$1} END {print s}')" 300

# Explicit partition, a key for every line, offsets printed.
out=$(printf 'a\nb\nc\n' | S produce orders --partition 2 --key K)
expect_contains "partition and range" "$out" "partition 2 offsets"
last=$(S consume orders --partition 2 --from end --max 1; echo done)
expect_eq "from end reads nothing" "$last" "done"
n2=$(S offsets orders --format json | jq '.partition_offsets[2].end_offset')
expect_eq "offset:N" "$(S consume orders --partition 2 --from offset:$((n2 - 3)) | cut -f2,4,5 | paste -sd' ' -)" \
  "$((n2 - 3))	K	a $((n2 - 2))	K	b $((n2 - 1))	K	c"

# Time: records produced after a moment are found from that moment.
sleep 0.05
t0=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
sleep 0.05
printf 'late1\nlate2\n' | S produce orders --partition 1 >/dev/null
expect_eq "from time (ISO 8601)" "$(S consume orders --from "time:$t0" | cut -f5 | paste -sd, -)" "late1,late2"
ms=$(date -d "$t0" +%s%3N)
expect_eq "from time (ms)" "$(S consume orders --from "time:$ms" | cut -f5 | paste -sd, -)" "late1,late2"
expect_exit "bad --from" 2 S consume orders --from yesterday

# Groups: commit, resume, lag.
total=$(S consume orders | wc -l)
expect_eq "first read of group" "$(S consume orders --group g1 --commit --max 100 | wc -l)" 100
expect_eq "group lag" "$(S describe orders --format json | jq '.groups[] | select(.group=="g1") | .lag')" $((total - 100))
expect_eq "resume after commit" "$(S consume orders --group g1 --commit | wc -l)" $((total - 100))
expect_eq "nothing left" "$(S consume orders --group g1 --commit | wc -l)" 0
expect_eq "without --commit nothing moves" "$(S consume orders --group g2 | wc -l; S consume orders --group g2 | wc -l)" "$total
$total"
out=$(S offsets orders --group g1)
expect_contains "offsets table has lag" "$out" "lag"
out=$(S describe orders)
expect_contains "describe lists the group" "$out" "g1  lag 0"
expect_exit "--commit needs a group" 2 S consume orders --commit

# list and delete
expect_contains "list" "$(S list)" "orders"
expect_ok "list json" S list --format json
expect_eq "list json records" "$(S list --format json | jq '.[0].records')" "$total"

# A second process reads what the first writes, as it arrives.
S create live >/dev/null
"$SLUICE" topic --project "$P" consume live --follow --max 3 > "$T/live.txt" &
cpid=$!
sleep 0.3
printf 'x1\n' | S produce live >/dev/null
printf 'x2\nx3\n' | S produce live >/dev/null
for _ in $(seq 1 100); do kill -0 $cpid 2>/dev/null || break; sleep 0.1; done
wait $cpid
expect_eq "follower in another process" "$(cut -f5 "$T/live.txt" | paste -sd, -)" "x1,x2,x3"

# Two writer processes: the second is refused with a clear message.
{ echo first; sleep 20; } | "$SLUICE" topic --project "$P" produce live --batch 1 >/dev/null &
wpid=$!
sleep 1
expect_exit "second writer refused" 1 bash -c "echo second | $SLUICE topic --project $P produce live"
expect_contains "second writer told why" "$out" "being written by another process"
kill $wpid 2>/dev/null; wait $wpid 2>/dev/null

# Two members of a group split the partitions; together they read each record once.
S create shared --partitions 4 >/dev/null
seq 1 40 | S produce shared >/dev/null
"$SLUICE" topic --project "$P" consume shared --group sh --follow --commit > "$T/m1.txt" &
m1=$!
sleep 0.5
"$SLUICE" topic --project "$P" consume shared --group sh --follow --commit > "$T/m2.txt" &
m2=$!
sleep 3
seq 41 80 | S produce shared >/dev/null
for _ in $(seq 1 100); do [ "$(cat "$T/m1.txt" "$T/m2.txt" | wc -l)" -ge 80 ] && break; sleep 0.1; done
sleep 0.5
kill -TERM $m1 $m2; wait $m1 $m2
expect_eq "members read each record once" "$(cat "$T/m1.txt" "$T/m2.txt" | cut -f5 | sort -n | paste -sd, -)" "$(seq 1 80 | paste -sd, -)"
expect_eq "the second member got partitions" "$([ "$(cut -f1 "$T/m2.txt" | sort -u | wc -l)" -ge 1 ] && echo yes)" yes
expect_eq "the group's lag is zero" "$(S describe shared --format json | jq '.groups[0].lag')" 0

expect_ok "delete" S delete live
expect_exit "deleted is gone" 1 S describe live

# kill -9 while producing: every acknowledged record is in the log afterwards.
S create crash --partitions 2 >/dev/null
seq 1 3000000 | sed 's/^/line-/' > "$T/lines.txt"
kills=0
for i in $(seq 1 22); do
  "$SLUICE" topic --project "$P" produce crash --file "$T/lines.txt" --batch 50 --print-acks > "$T/acks.$i" 2>/dev/null &
  pid=$!
  sleep "$(awk -v s=$RANDOM 'BEGIN{srand(s); printf "%.2f", 0.15 + rand() * 0.5}')"
  kill -9 $pid 2>/dev/null && kills=$((kills + 1))
  wait $pid 2>/dev/null
done
expect_eq "kills landed" "$([ $kills -ge 20 ] && echo yes)" yes
cat "$T"/acks.* | awk -F'\t' 'NF==3' | sort > "$T/acked.txt"
S consume crash > "$T/crash.txt"
expect_eq "consume after kills succeeds" $? 0
cut -f1,2,5 "$T/crash.txt" | sort > "$T/held.txt"
acked=$(wc -l < "$T/acked.txt")
expect_eq "acks were made" "$([ "$acked" -gt 1000 ] && echo yes)" yes
expect_eq "every acknowledged record is there" "$(comm -23 "$T/acked.txt" "$T/held.txt" | wc -l)" 0
expect_eq "offsets have no gaps" "$(awk -F'\t' '{ if ($1 in n) { if ($2 != n[$1] + 1) bad++ } n[$1] = $2 } END { print bad + 0 }' "$T/crash.txt")" 0
out=$(S offsets crash --format json)
expect_eq "end offsets match what is read" "$(echo "$out" | jq '[.partition_offsets[].end_offset] | add')" "$(wc -l < "$T/crash.txt")"
echo "kill -9 loop: $kills kills, $acked records acknowledged, $(wc -l < "$T/crash.txt") held"

finish
