#!/usr/bin/env bash
# test_ui.sh: the web UI in a real browser (Debian's Chromium driven by playwright-core)
# against `sluice serve` on a project with real data: the loans example ingested in two
# snapshots and built. ui.test.mjs drives every page, compares what it shows with what
# the CLI says, uploads files, time-travels, and saves a screenshot of each page under
# $SL_TEST_OUT/ui/.
source "$(dirname "$0")/../lib.sh"
: "${SL_TEST_OUT:=$T/out}"
NODE_MODULES=$SL_SRC/.deps/node/node_modules
[ -x /usr/bin/chromium ] || { echo "FAIL /usr/bin/chromium is missing: run scripts/setup"; exit 1; }
[ -f "$NODE_MODULES/playwright-core/package.json" ] || { echo "FAIL playwright-core is missing from .deps/node: run scripts/setup"; exit 1; }

P=$T/loans
cp -r "$SL_SRC/examples/loans" "$P"
# One warning among the checks, so the Checks page has more than passes to show.
sed -i 's/mean_between: {min: 20000, max: 250000, severity: warn}/mean_between: {min: 20000, max: 30000, severity: warn}/' "$P/models/silver/loan.yml"
q() { S sql --format csv "$1" | tail -n +2; }
S gen loans --rows 5000 --seed 7 --out "$T/all.csv" >/dev/null
# Three slices of one data set (ids do not repeat): two snapshots now, the third uploaded.
head -n 3001 "$T/all.csv" > "$T/part1.csv"
{ head -n 1 "$T/all.csv"; sed -n '3002,4001p' "$T/all.csv"; } > "$T/part2.csv"
{ head -n 1 "$T/all.csv"; sed -n '4002,4501p' "$T/all.csv"; } > "$T/upload.csv"
S gen trips --rows 250 --out "$T/trips.jsonl" >/dev/null
expect_ok "project: first snapshot of bronze.loan" S ingest "$T/part1.csv" --into bronze.loan
expect_ok "project: second snapshot of bronze.loan" S ingest "$T/part2.csv" --into bronze.loan
expect_ok "project: build the loans models" S build
# silver.loan built twice, its first snapshot expired by vacuum (its files gone).
expect_ok "project: rebuild silver.loan" S build --full-refresh --select loan
expect_ok "project: vacuum silver.loan" S vacuum silver.loan --retain 0
expect_eq "project: bronze.loan has 4000 rows" "$(q 'select count(*) from bronze.loan')" 4000
# A topic of the embedded log: 30 keyed JSON records over 3 partitions, a group 10 in.
expect_ok "project: create a topic" S topic create loan_events --partitions 3
for i in $(seq 1 30); do printf 'loan-%d\t{"id":%d,"event":"approved","amount":%d}\n' $((i % 7)) "$i" $((i * 100)); done > "$T/events.tsv"
expect_ok "project: produce 30 records" S topic produce loan_events --keyed --file "$T/events.tsv"
expect_ok "project: a consumer group reads 10" S topic consume loan_events --group scoring --max 10 --commit

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
# Started directly (not through the S function) so $! is the server itself.
"$SLUICE" --project "$P" serve --port "$port" > "$T/serve.log" 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null; rm -rf "$T"' EXIT
up=0
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && { up=1; break; }
  kill -0 $srv 2>/dev/null || break
  sleep 0.1
done
[ $up = 1 ] || { echo "FAIL sluice serve did not answer on port $port:"; cat "$T/serve.log"; exit 1; }
ok "server: answers on port $port"
expect_contains "server: / is the web UI" "$(curl -fsS "http://127.0.0.1:$port/")" '<script type="module"'

# What the browser must show, computed by the CLI.
expect_json=$(cat <<JSON
{
  "rows": {"bronze.loan": $(q 'select count(*) from bronze.loan'), "silver.loan": $(q 'select count(*) from silver.loan'),
           "gold.loan_features": $(q 'select count(*) from gold.loan_features')},
  "columns": $(S describe bronze.loan --format json | python3 -c 'import json,sys; print(json.dumps([c["name"] for c in json.load(sys.stdin)["columns"]]))'),
  "snapshots": $(S snapshots bronze.loan --format json | python3 -c 'import json,sys; print(json.dumps([[s["snapshot"], s["rows"]] for s in json.load(sys.stdin)]))'),
  "expired": $(S snapshots silver.loan --format json | python3 -c 'import json,sys; print(json.dumps([s["snapshot"] for s in json.load(sys.stdin) if s["expired"]]))'),
  "intents": $(S sql --format json "select loan_intent, count(*) as n from bronze.loan group by 1 order by 1"),
  "topic": $(S topic describe loan_events --format json),
  "first_message": $(S topic consume loan_events --partition 0 --from offset:0 --max 1 --format json)
}
JSON
)
# A second server that needs a token, for the token prompt.
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
port2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
SLUICE_SERVER_TOKEN=$token "$SLUICE" --project "$P" serve --port "$port2" > "$T/serve2.log" 2>&1 &
srv2=$!
trap 'kill $srv $srv2 2>/dev/null; wait $srv $srv2 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 1 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port2/api/health")" = 401 ] && break
  sleep 0.1
done
expect_eq "auth: the token server refuses a request without it" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port2/api/tables")" 401

mkdir -p "$SL_TEST_OUT/ui"
SL_URL="http://127.0.0.1:$port" SL_OUT="$SL_TEST_OUT/ui" SL_EXPECT="$expect_json" SL_PROJECT_DIR="$P" \
SL_UPLOAD_CSV="$T/upload.csv" SL_UPLOAD_JSONL="$T/trips.jsonl" SL_NODE_MODULES="$NODE_MODULES" SL_PROFILE="$T/chromium" \
SL_AUTH_URL="http://127.0.0.1:$port2" SL_TOKEN="$token" \
  node "$SL_SRC/tests/ui/ui.test.mjs" > "$T/node.out" 2>&1
rc=$?
while IFS= read -r line; do
  case "$line" in
    "ok   "*) ok "${line#ok   }" ;;
    "FAIL "*) fail "${line#FAIL }" ;;
    "SKIP "*) echo "$line" ;;
    *) echo "$line" ;;
  esac
done < "$T/node.out"
[ $rc = 0 ] || [ $_failed -gt 0 ] || fail "ui.test.mjs exited $rc"

# Both servers stop cleanly on SIGTERM, with nothing from the sanitizers in their logs.
for pid_log in "$srv:$T/serve.log" "$srv2:$T/serve2.log"; do
  pid=${pid_log%%:*} log=${pid_log#*:}
  kill -TERM "$pid"; wait "$pid"; code=$?
  expect_eq "server: pid $pid stops cleanly on SIGTERM" "$code" 0
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then fail "server: sanitizer report in $(basename "$log"): $(grep -m3 -E 'Sanitizer|runtime error' "$log")"; else ok "server: no sanitizer report in $(basename "$log")"; fi
done

# The uploads are real snapshots: the CLI sees them after the browser is gone.
expect_eq "upload: bronze.loan has a third snapshot" "$(S snapshots bronze.loan --format csv | tail -n +2 | wc -l)" 3
expect_eq "upload: ... with the uploaded rows" "$(q 'select count(*) from bronze.loan')" 4500
expect_eq "upload: bronze.trips was created from JSON lines" "$(q 'select count(*) from bronze.trips')" 250
for f in lake table schema timetravel sql sql-error upload topics cdc checks builds lineage metrics lake-dark table-narrow; do
  [ -s "$SL_TEST_OUT/ui/$f.png" ] && ok "screenshot $f.png" || fail "screenshot $f.png missing"
done
finish
