#!/usr/bin/env bash
# test_api.sh: `sluice serve` against a real project (the loans data ingested and
# built): every endpoint of docs/api.md answers what the CLI says (rows, columns,
# snapshot ids, lineage), an upload becomes a new bronze snapshot, SQL limits and
# errors, time travel, auth (loopback without token, refusal without token elsewhere,
# no/wrong/right token), path traversal, oversized bodies, unknown routes and methods,
# the embedded UI's caching, and a clean stop on SIGTERM.
source "$(dirname "$0")/../lib.sh"
P=$T/loans
cp -r "$SL_SRC/examples/loans" "$P"
S() { "$SLUICE" --project "$P" "$@"; }
q() { S sql --format csv "$1" | tail -n +2; }
cat >> "$P/sluice.yaml" <<'EOF'
server:
  max_body_bytes: 4KiB
  max_upload_bytes: 1MiB
  series_interval_s: 1
sources:
  nowhere:
    url: postgresql://sluice@127.0.0.1:1/none
    tables: public.loan
EOF
S gen loans --rows 5000 --seed 11 --out "$T/loans.csv" >/dev/null
S gen loans --rows 700 --seed 12 --out "$T/more.csv" >/dev/null
S ingest "$T/loans.csv" --into bronze.loan >/dev/null
S build >/dev/null 2>&1 || true

# start_server [NAME=VALUE...] [serve options]: starts it on a free port; sets SPID and U.
start_server() {
  local envs=() opts=()
  for a in "$@"; do if [[ $a == [A-Z]*=* ]]; then envs+=("$a"); else opts+=("$a"); fi; done
  env "${envs[@]}" "$SLUICE" --project "$P" serve --port 0 "${opts[@]}" >"$T/serve.out" 2>"$T/serve.err" &
  SPID=$!
  U=
  for _ in $(seq 1 200); do
    U=$(grep -o 'http://[^ ]*' "$T/serve.out" 2>/dev/null) && [ -n "$U" ] && break
    kill -0 $SPID 2>/dev/null || break
    sleep 0.05
  done
}
stop_server() { kill -TERM "$SPID"; wait "$SPID"; }
# get PATH: body in $body, status in $code.
get() { body=$(curl -s -o "$T/body" -w '%{http_code}' "$@" && true); code=$body; body=$(cat "$T/body"); }

start_server SLUICE_LOG_LEVEL=debug SLUICE_LOG_FORMAT=json
[ -n "$U" ] && ok "serve prints its URL ($U)" || { fail "serve did not start: $(cat "$T/serve.err")"; finish; exit 1; }

get "${U}api/health"
expect_eq "health: 200" "$code" 200
expect_eq "health: ok" "$(jq -r .status <<<"$body")" ok
expect_eq "health: version" "$(jq -r .version <<<"$body")" "$(sed -n 's/^project(sluice VERSION \([0-9.]*\).*/\1/p' "$SL_SRC/CMakeLists.txt")"

# tables agree with `sluice tables`
get "${U}api/tables"
expect_eq "tables: 200" "$code" 200
cli=$(S tables --format json | jq -c '[.[] | {t: .table, s: .snapshot, r: .rows, f: .files, b: .bytes}] | sort_by(.t)')
api=$(jq -c '[.tables[] | {t: (.namespace + "." + .name), s: .snapshot_id, r: .rows, f: .files, b: .bytes}] | sort_by(.t)' <<<"$body")
expect_eq "tables: same tables, snapshots, rows, files and bytes as sluice tables" "$api" "$cli"
expect_eq "tables: the view is a view" "$(jq -r '.tables[] | select(.name == "loan_default_rates") | .kind' <<<"$body")" view
expect_eq "tables: bronze.loan is a table" "$(jq -r '.tables[] | select(.name == "loan") | select(.namespace == "bronze") | .kind' <<<"$body")" table

# describe agrees with `sluice describe`
get "${U}api/tables/bronze/loan"
expect_eq "describe: 200" "$code" 200
expect_eq "describe: columns as sluice describe" "$(jq -c '[.columns[] | [.id, .name, .type]]' <<<"$body")" \
  "$(S describe bronze.loan --format json | jq -c '[.columns[] | [.field_id, .name, .type]]')"
expect_eq "describe: rows" "$(jq .rows <<<"$body")" 5000
get "${U}api/tables/bronze/nope"
expect_eq "describe: unknown table is 404" "$code" 404
expect_contains "describe: 404 names the table" "$(jq -r .error <<<"$body")" "bronze.nope"
get "${U}api/tables/bronze/no-such"
expect_eq "describe: a bad name is 400" "$code" 400

# upload becomes a new bronze snapshot
before=$(S snapshots bronze.loan --format json | jq -c '[.[].snapshot]')
get -X POST --data-binary @"$T/more.csv" "${U}api/ingest/bronze/loan?format=csv"
expect_eq "ingest: 201" "$code" 201
snap=$(jq .snapshot_id <<<"$body")
expect_eq "ingest: 700 rows" "$(jq .rows <<<"$body")" 700
expect_eq "ingest: the snapshot is the table's newest in sluice snapshots" "$(S snapshots bronze.loan --format json | jq '.[-1].snapshot')" "$snap"
expect_eq "ingest: rows in the lake" "$(q 'select count(*) from bronze.loan')" 5700
expect_eq "ingest: the upload's rows are those of the file" "$(q "select count(*) from (select * from bronze.loan except select * from read_csv('$T/loans.csv'))")" \
  "$(q "select count(*) from (select distinct * from read_csv('$T/more.csv') except select * from read_csv('$T/loans.csv'))")"
expect_eq "ingest: no upload file left behind" "$(ls "$P/.sluice/uploads" | wc -l)" 0
get -X POST --data-binary @"$T/more.csv" "${U}api/ingest/newzone/loan?format=csv"
expect_eq "ingest: a missing namespace is an error" "${code:0:1}" 4
get -X POST --data-binary 'a,b' "${U}api/ingest/bronze/x"
expect_eq "ingest: no format is 400" "$code" 400
get -X POST --data-binary 'id,x
1,2' "${U}api/ingest/bronze/small?filename=small.csv"
expect_eq "ingest: format from filename, new table" "$code/$(jq .created <<<"$body")" "201/true"
get -X POST --data-binary 'not parquet' "${U}api/ingest/bronze/loan?format=parquet"
expect_eq "ingest: a broken file is 400" "$code" 400
expect_eq "ingest: ... and the table is unchanged" "$(S snapshots bronze.loan --format json | jq '.[-1].snapshot')" "$snap"

# snapshots, newest first, as sluice snapshots
get "${U}api/tables/bronze/loan/snapshots"
expect_eq "snapshots: 200" "$code" 200
expect_eq "snapshots: ids newest first" "$(jq -c '[.snapshots[].id]' <<<"$body")" "$(S snapshots bronze.loan --format json | jq -c '[.[].snapshot] | reverse')"
expect_eq "snapshots: parents" "$(jq -c '[.snapshots[].parent]' <<<"$body")" "$(S snapshots bronze.loan --format json | jq -c '[.[].parent] | reverse')"

# preview, paged and with time travel
get "${U}api/tables/bronze/loan/preview?limit=5&offset=10"
expect_eq "preview: 200" "$code" 200
expect_eq "preview: total" "$(jq .total <<<"$body")" 5700
expect_eq "preview: 5 rows" "$(jq '.rows | length' <<<"$body")" 5
expect_eq "preview: columns" "$(jq -c '[.columns[].name]' <<<"$body")" "$(S describe bronze.loan --format json | jq -c '[.columns[].name]')"
expect_eq "preview: values are typed (id is a number)" "$(jq '.rows[0][0] | type' <<<"$body")" '"number"'
first=$(jq -r .snapshots[-1].id < <(curl -s "${U}api/tables/bronze/loan/snapshots"))
get "${U}api/tables/bronze/loan/preview?limit=1&as_of=$first"
expect_eq "preview: as_of the first snapshot has its rows" "$(jq .total <<<"$body")/$(jq .snapshot_id <<<"$body")" "5000/$first"
get "${U}api/tables/bronze/loan/preview?limit=abc"
expect_eq "preview: a bad limit is 400" "$code" 400
get "${U}api/tables/bronze/loan/preview?as_of=yesterday-ish"
expect_eq "preview: a bad as_of is 400" "$code" 400

# SQL
get -X POST -d '{"sql":"SELECT loan_status, count(*) AS n FROM bronze.loan GROUP BY 1 ORDER BY 1"}' "${U}api/sql"
expect_eq "sql: 200" "$code" 200
expect_eq "sql: same rows as sluice sql" "$(jq -r '.rows[] | map(tostring) | join(",")' <<<"$body")" \
  "$(q 'SELECT loan_status, count(*) AS n FROM bronze.loan GROUP BY 1 ORDER BY 1')"
expect_eq "sql: column types" "$(jq -c '[.columns[].type]' <<<"$body")" '["BIGINT","BIGINT"]'
get -X POST -d '{"sql":"SELECT * FROM range(50000)","limit":7}' "${U}api/sql"
expect_eq "sql: limit" "$(jq '.rows | length' <<<"$body")/$(jq .truncated <<<"$body")" "7/true"
get -X POST -d "{\"sql\":\"SELECT count(*) FROM bronze.loan\",\"as_of\":$first}" "${U}api/sql"
expect_eq "sql: as_of" "$(jq '.rows[0][0]' <<<"$body")" 5000
get -X POST -d '{"sql":"SELEC 1"}' "${U}api/sql"
expect_eq "sql: bad SQL is 400" "$code" 400
expect_contains "sql: ... with DuckDB's message" "$(jq -r .error <<<"$body")" 'syntax error at or near "SELEC"'
get -X POST -d '{"sql":"SELECT count(*) FROM range(100000000000) a, range(10) b","timeout_ms":200}' "${U}api/sql"
expect_eq "sql: timeout is 504" "$code" 504
expect_contains "sql: ... saying so" "$(jq -r .error <<<"$body")" "timeout of 200 ms"
get -X POST -d '{"sql":"CREATE TABLE x AS SELECT 1"}' "${U}api/sql"
expect_eq "sql: only read-only statements" "$code" 400
get -X POST -d '{"sql":"SELECT 1; SELECT 2"}' "${U}api/sql"
expect_eq "sql: one statement at a time" "$code" 400
get -X POST -d '{"sql":"SELECT * FROM read_csv('"'"'/etc/passwd'"'"')"}' "${U}api/sql"
expect_eq "sql: files outside the lake cannot be read" "$code/$(grep -c root: "$T/body")" "400/0"
expect_contains "sql: ... DuckDB says so" "$(jq -r .error <<<"$body")" "Permission Error"
get -X POST -d '{"sql":"SET threads = 1"}' "${U}api/sql"
expect_eq "sql: settings cannot be changed" "$code" 400
for _ in 1 2 3; do get -X POST -d '{"sql":"SELECT count(*) FROM bronze.loan"}' "${U}api/sql"; done
expect_eq "sql: a pooled database answers the same" "$(jq '.rows[0][0]' <<<"$body")" "$(q 'select count(*) from bronze.loan')"
S ingest "$T/more.csv" --into bronze.more >/dev/null
get -X POST -d '{"sql":"SELECT count(*) FROM bronze.more"}' "${U}api/sql"
expect_eq "sql: a commit by another process is seen at once" "$code/$(jq '.rows[0][0]' <<<"$body")" "200/700"
get -X POST -d 'not json' "${U}api/sql"
expect_eq "sql: a body that is not JSON is 400" "$code" 400
get -X POST -d '{"query":"x"}' "${U}api/sql"
expect_eq "sql: no sql is 400" "$code" 400

# checks and builds from the audit tables
get "${U}api/checks?limit=1000"
expect_eq "checks: 200" "$code" 200
expect_eq "checks: as many as audit.check_results" "$(jq '.results | length' <<<"$body")" "$(q 'select count(*) from audit.check_results')"
expect_eq "checks: statuses" "$(jq -r '[.results[].status] | sort | unique | join(",")' <<<"$body")" \
  "$(q "select string_agg(distinct status, ',' order by status) from audit.check_results")"
get "${U}api/builds"
expect_eq "builds: 200" "$code" 200
expect_eq "builds: runs" "$(jq '.runs | length' <<<"$body")" "$(q 'select count(distinct run_id) from audit.build_runs')"
expect_eq "builds: models of the run" "$(jq -r '[.runs[0].models[].model] | sort | join("|")' <<<"$body")" \
  "$(q "select string_agg(model, '|' order by model) from audit.build_runs where run_id = (select run_id from audit.build_runs order by finished_at desc limit 1)")"

# lineage is the CLI's
get "${U}api/lineage"
expect_eq "lineage: same as sluice lineage --format json" "$(jq -cS . <<<"$body")" "$(S lineage --format json | jq -cS .)"

# CDC: the source cannot be reached; the status says why
get "${U}api/cdc"
expect_eq "cdc: one source" "$(jq -r '.sources[0].name + " " + .sources[0].slot' <<<"$body")" "nowhere sluice_nowhere"
expect_contains "cdc: the error names the connection" "$(jq -r .sources[0].error <<<"$body")" "127.0.0.1"

# topics, as `sluice topic` sees them
S topic create events --partitions 2 >/dev/null
for i in $(seq 1 30); do printf 'k%d\tvalue %d\n' "$i" "$i"; done | S topic produce events --keyed >/dev/null
printf '\377\376\n' | S topic produce events --partition 0 >/dev/null
S topic consume events --group g1 --max 5 --commit >/dev/null
get "${U}api/topics"
expect_eq "topics: 200" "$code" 200
expect_eq "topics: events holds 31 messages in 2 partitions" "$(jq -c '.topics[] | select(.name == "events") | [.messages, .partitions]' <<<"$body")" "[31,2]"
get "${U}api/topics/events"
cli=$(S topic describe events --format json)
expect_eq "topic: offsets as sluice topic describe" "$(jq -c '[.partitions[] | [.start_offset, .end_offset, .bytes]]' <<<"$body")" \
  "$(jq -c '[.partition_offsets[] | [.start_offset, .end_offset, .bytes]]' <<<"$cli")"
expect_eq "topic: group lag as sluice topic describe" "$(jq -c '[.groups[] | [.group, .lag, .committed]]' <<<"$body")" \
  "$(jq -c '[.groups[] | [.group, .lag, .committed]]' <<<"$cli")"
get "${U}api/topics/events/messages?partition=0&offset=0&limit=1000"
expect_eq "messages: partition 0 as sluice topic consume" "$(jq -c '[.messages[] | [.offset, .key]]' <<<"$body")" \
  "$(S topic consume events --partition 0 --format json | jq -sc '[.[] | select(.partition == 0) | [.offset, .key]]')"
expect_eq "messages: text values" "$(jq -r '.messages[0].value' <<<"$body")" "$(S topic consume events --partition 0 --format json | jq -rs '[.[] | select(.partition == 0)][0].value')"
expect_eq "messages: a value that is not UTF-8 comes as base64" "$(jq -c '.messages[-1] | [.encoding, .value, .key]' <<<"$body")" '["base64","//4=",null]'
get "${U}api/topics/events/messages?partition=1&offset=3&limit=2"
expect_eq "messages: a page from an offset" "$(jq -c '[.messages[].offset] + [.next_offset]' <<<"$body")" "[3,4,5]"
get "${U}api/topics/nope"
expect_eq "topic: unknown is 404" "$code" 404
get "${U}api/topics/events/messages?partition=7"
expect_eq "messages: unknown partition is 404" "$code" 404
get "${U}metrics"
expect_contains "metrics: consumer lag" "$body" 'sluice_log_consumer_lag{topic="events",group="g1"}'

# metrics and series
get "${U}metrics"
expect_eq "metrics: 200" "$code" 200
expect_contains "metrics: HTTP requests by route" "$body" 'sluice_http_requests_total{route="/api/sql",method="POST",code="200"}'
expect_contains "metrics: ingest rows counted" "$body" "sluice_ingest_rows_total 701"
expect_contains "metrics: RSS" "$body" "process_resident_memory_bytes "
sleep 2.2
get "${U}api/metrics/series?names=http_requests_per_s,rss_bytes"
expect_eq "series: the two asked for" "$(jq -c '.series | keys' <<<"$body")" '["http_requests_per_s","rss_bytes"]'
expect_eq "series: samples every second" "$(jq '.interval_s' <<<"$body")/$(jq '.series.rss_bytes | length >= 2' <<<"$body")" "1/true"
expect_eq "series: some requests per second were seen" "$(jq '[.series.http_requests_per_s[][1]] | max > 0' <<<"$body")" true

# concurrent requests: queries on every pool slot while an upload commits
pids=()
for i in $(seq 1 16); do
  curl -s -o "$T/par$i.json" -w '%{http_code}\n' -X POST -d '{"sql":"SELECT count(*) FROM bronze.loan"}' "${U}api/sql" > "$T/par$i.code" &
  pids+=($!)
done
curl -s -o "$T/par_up.json" -w '%{http_code}\n' -X POST --data-binary @"$T/more.csv" "${U}api/ingest/bronze/par?format=csv" > "$T/par_up.code" &
pids+=($!)
wait "${pids[@]}"
expect_eq "concurrent: every query answered 200" "$(cat "$T"/par[0-9]*.code | sort -u | tr '\n' ' ')" "200 "
expect_eq "concurrent: every query counted the same rows" "$(cat "$T"/par[0-9]*.json | jq '.rows[0][0]' | sort -u)" "$(q 'select count(*) from bronze.loan')"
expect_eq "concurrent: the upload committed" "$(cat "$T/par_up.code")/$(q 'select count(*) from bronze.par')" "201/700"

# errors: unknown routes, methods, traversal, limits
get "${U}api/nothing"
expect_eq "unknown API path: 404 JSON" "$code/$(jq -r '.error | length > 0' <<<"$body")" "404/true"
get -X DELETE "${U}api/tables"
expect_eq "wrong method: 405" "$code" 405
get -X POST "${U}api/tables/bronze/loan"
expect_eq "wrong method on a param route: 405" "$code" 405
get --path-as-is "${U}ui/../../etc/passwd"
expect_eq "traversal ../: 400" "$code" 400
get --path-as-is "${U}ui/%2e%2e/%2e%2e/etc/passwd"
expect_eq "traversal %2e%2e: 400" "$code" 400
get --path-as-is "${U}api/tables/bronze%2F..%2F..%2Fetc/passwd"
expect_eq "encoded slash: 400" "$code" 400
expect_eq "nothing of /etc/passwd came back" "$(grep -c root: "$T/body")" 0
head -c 5000 /dev/zero | tr '\0' ' ' > "$T/big.json"
get -X POST --data-binary @"$T/big.json" -H 'Content-Type: application/json' "${U}api/sql"
expect_eq "oversized JSON body: 413" "$code" 413
head -c 1200000 "$T/loans.csv" > "$T/big.csv" 2>/dev/null; while [ "$(stat -c %s "$T/big.csv")" -lt 1100000 ]; do cat "$T/loans.csv" >> "$T/big.csv"; done
get -X POST --data-binary @"$T/big.csv" "${U}api/ingest/bronze/loan?format=csv"
expect_eq "oversized upload: 413" "$code" 413
get -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$T/big.csv" "${U}api/ingest/bronze/loan?format=csv"
expect_eq "oversized chunked upload (no length): 413" "$code" 413
expect_eq "oversized uploads left the table alone" "$(S snapshots bronze.loan --format json | jq '.[-1].snapshot')" "$snap"

# the embedded UI
get -D "$T/headers" "${U}"
expect_eq "UI: / is 200" "$code" 200
expect_contains "UI: / is HTML" "$(cat "$T/headers")" "Content-Type: text/html"
etag=$(grep -i '^etag:' "$T/headers" | cut -d' ' -f2 | tr -d '\r')
if [ -n "$etag" ]; then
  get -H "If-None-Match: $etag" "${U}"
  expect_eq "UI: revalidation with the ETag is 304" "$code" 304
fi
get "${U}lake/bronze/loan"
expect_eq "UI: client routes fall back to index.html" "$code" 200
get "${U}ui/no-such-file.js"
expect_eq "UI: a missing asset is 404" "$code" 404

# request logs: JSON lines at debug, errors at warn, no query strings
expect_contains "logs: JSON request lines" "$(cat "$T/serve.err")" '"msg":"request"'
expect_contains "logs: errors at warn with status" "$(grep '"status":"413"' "$T/serve.err" | head -1)" '"level":"warn"'
expect_eq "logs: no query strings" "$(grep -c 'loan?format=' "$T/serve.err")" 0

stop_server
expect_eq "SIGTERM: exit 0" "$?" 0

# auth
expect_exit "non-loopback without a token refuses to start" 2 env -u SLUICE_SERVER_TOKEN "$SLUICE" --project "$P" serve --listen 0.0.0.0 --port 0
expect_contains "... and says how to fix it" "$out" "SLUICE_SERVER_TOKEN"
TOKEN=0123456789abcdef0123456789abcdef
start_server SLUICE_SERVER_TOKEN=$TOKEN --listen 0.0.0.0
[ -n "$U" ] && ok "non-loopback with a token starts" || fail "did not start with a token: $(cat "$T/serve.err")"
U=${U/0.0.0.0/127.0.0.1}
get "${U}api/health"
expect_eq "auth: no header is 401" "$code" 401
expect_contains "auth: ... JSON error" "$(jq -r .error <<<"$body")" "bearer token"
get -H "Authorization: Bearer wrong-token-wrong-token" "${U}api/health"
expect_eq "auth: wrong token is 401" "$code" 401
get -H "Authorization: Bearer ${TOKEN}x" "${U}api/tables"
expect_eq "auth: token with a suffix is 401" "$code" 401
get -H "Authorization: Bearer $TOKEN" "${U}api/health"
expect_eq "auth: right token is 200" "$code" 200
get -H "Authorization: Bearer $TOKEN" "${U}metrics"
expect_eq "auth: /metrics with the token is 200" "$code" 200
get "${U}"
expect_eq "auth: the UI's own files load without it (they hold no data)" "$code" 200
get "${U}api/tables"
expect_eq "auth: the API behind the UI still needs it" "$code" 401
stop_server
echo "$TOKEN" > "$T/token"
start_server SLUICE_SERVER_TOKEN= SLUICE_SERVER_TOKEN_FILE="$T/token" --listen 0.0.0.0
U=${U/0.0.0.0/127.0.0.1}
get -H "Authorization: Bearer $TOKEN" "${U}api/health"
expect_eq "auth: token from server.token_file" "$code" 200
stop_server
finish
