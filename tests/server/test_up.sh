#!/usr/bin/env bash
# test_up.sh: `sluice up` with a real PostgreSQL source marked `cdc: true`: the server
# answers while the CDC reader copies the table and streams live changes into
# bronze.<table>_changes; /api/cdc shows the reader attached, /metrics counts its events
# and lag; SIGTERM stops both cleanly (exit 0, slot released, every change in the lake
# once). A source without `cdc: true` gets no reader.
source "$(dirname "$0")/../lib.sh"
command -v pg_ctl >/dev/null || [ -x /usr/lib/postgresql/15/bin/pg_ctl ] || {
  echo "SKIP: PostgreSQL 15 is not installed (scripts/setup installs it)"; exit 0; }
pg_private "tables: [accounts]" "heartbeat_interval_ms: 500" "cdc: true"
psql <<'SQL'
CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL);
INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 3000) g;
SQL
# wait_for DESC CMD...: retries CMD (up to a minute) until it succeeds.
wait_for() {
  local d=$1; shift
  for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && { ok "$d"; return 0; }; sleep 0.2; done
  fail "$d (gave up waiting)"
}
api_count() {
  curl -s -X POST -d '{"sql":"SELECT count(*) FROM bronze.accounts_changes"}' "${U}api/sql" | jq -e ".rows[0][0] == $1"
}

"$SLUICE" --project "$P" up --port 0 >"$T/up.out" 2>"$T/up.err" &
UPID=$!
U=
for _ in $(seq 1 200); do U=$(grep -o 'http://[^ ]*' "$T/up.out" 2>/dev/null) && [ -n "$U" ] && break; sleep 0.05; done
[ -n "$U" ] && ok "up prints its URL" || { fail "up did not start: $(cat "$T/up.err")"; finish; exit 1; }
expect_contains "up names the CDC reader" "$(cat "$T/up.out")" "with CDC readers for app"

wait_for "the initial snapshot lands in bronze.accounts_changes (3000 rows)" api_count 3000
psql -c "INSERT INTO accounts SELECT g, 7 FROM generate_series(3001, 3500) g" -c "UPDATE accounts SET balance = 1 WHERE id <= 10" \
  -c "DELETE FROM accounts WHERE id = 3500"
wait_for "live changes stream in while the server runs (3000 + 500 + 10 + 1)" api_count 3511
active() { curl -s "${U}api/cdc" | jq -e '.sources[0].active == true and .sources[0].lag_bytes != null'; }
wait_for "/api/cdc shows the reader attached with its lag" active
m=$(curl -s "${U}metrics")
expect_contains "metrics: events of the source" "$m" 'sluice_cdc_events_total{source="app"} 3511'
expect_contains "metrics: lag gauge of the source" "$m" 'sluice_cdc_lag_bytes{source="app"}'
expect_contains "metrics: slot active" "$m" 'sluice_cdc_slot_active{source="app"} 1'
expect_eq "the lake replays to the source's state" \
  "$(S sql --format csv "WITH l AS (SELECT id, arg_max(_op, _lsn) AS op, arg_max(balance, _lsn) AS b FROM bronze.accounts_changes GROUP BY id)
     SELECT count(*) || '|' || sum(b) FROM l WHERE op <> 'd'" | tail -1)" \
  "$(psql -c "SELECT count(*) || '|' || sum(balance) FROM accounts")"

kill -TERM $UPID
wait $UPID
expect_eq "SIGTERM: sluice up exits 0" "$?" 0
expect_contains "SIGTERM: it says it stops" "$(cat "$T/up.err")" "stopping (SIGTERM)"
expect_eq "the slot is released" "$(psql -c "SELECT active FROM pg_replication_slots WHERE slot_name = 'sluice_app'")" f
expect_eq "no change twice in the lake" "$(S sql --format csv "SELECT count(*) - count(DISTINCT (_lsn, id, _op)) FROM bronze.accounts_changes" | tail -1)" 0

# Without cdc: true, up runs the server alone.
sed -i 's/^    cdc: true$/    cdc: false/' "$P/sluice.yaml"
"$SLUICE" --project "$P" up --port 0 >"$T/up2.out" 2>"$T/up2.err" &
UPID=$!
for _ in $(seq 1 200); do grep -q 'http://' "$T/up2.out" 2>/dev/null && break; sleep 0.05; done
expect_contains "up without cdc sources says so" "$(cat "$T/up2.out")" "no source has cdc: true"
kill -TERM $UPID
wait $UPID
expect_eq "... and stops with 0" "$?" 0
finish
