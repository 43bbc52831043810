#!/usr/bin/env bash
# test_prometheus.sh: a real Prometheus (Debian's) scrapes `sluice serve`'s /metrics;
# its query API then returns sluice's request counter, ingest rows and a latency
# quantile computed from our histogram; `promtool check metrics` accepts the text.
# Also checks that deploy/prometheus.yml is valid and deploy/grafana/sluice.json only
# uses metric names that /metrics exposes.
source "$(dirname "$0")/../lib.sh"
command -v prometheus >/dev/null && command -v promtool >/dev/null || {
  echo "SKIP: prometheus/promtool not installed (scripts/setup installs Debian's prometheus)"; exit 0; }
P=$T/proj
"$SLUICE" init "$P" >/dev/null
S() { "$SLUICE" --project "$P" "$@"; }
S gen loans --rows 3000 --seed 5 --out "$T/loans.csv" >/dev/null

"$SLUICE" --project "$P" serve --port 0 >"$T/serve.out" 2>"$T/serve.err" &
SPID=$!
trap 'kill -TERM $SPID 2>/dev/null; [ -n "${PROM_PID:-}" ] && kill -TERM $PROM_PID 2>/dev/null; wait; rm -rf "$T"' EXIT
U=
for _ in $(seq 1 200); do U=$(grep -o 'http://[^ ]*' "$T/serve.out" 2>/dev/null) && [ -n "$U" ] && break; sleep 0.05; done
[ -n "$U" ] || { fail "serve did not start: $(cat "$T/serve.err")"; finish; exit 1; }
target=${U#http://}
target=${target%/}
# Some traffic, and an ingest through the API.
for _ in 1 2 3 4 5; do curl -s "${U}api/health" >/dev/null; done
curl -s -X POST --data-binary @"$T/loans.csv" "${U}api/ingest/bronze/loans?format=csv" >/dev/null

curl -s "${U}metrics" > "$T/metrics.txt"
if out=$(promtool check metrics < "$T/metrics.txt" 2>&1); then ok "promtool check metrics passes"; else fail "promtool check metrics: $out"; fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: sluice
    metrics_path: /metrics
    static_configs:
      - targets: ['$target']
EOF
expect_ok "promtool check config (test config)" promtool check config "$T/prometheus.yml"
expect_ok "promtool check config deploy/prometheus.yml" promtool check config "$SL_SRC/deploy/prometheus.yml"
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" --web.listen-address="127.0.0.1:$port" \
  >"$T/prom.log" 2>&1 &
PROM_PID=$!
api="http://127.0.0.1:$port/api/v1/query"
val=
for _ in $(seq 1 120); do
  val=$(curl -s --get "$api" --data-urlencode 'query=sum(sluice_http_requests_total{route="/api/health"})' |
    jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
  [ -n "$val" ] && break
  sleep 0.5
done
[ -n "$val" ] && ok "prometheus scraped sluice_http_requests_total" || fail "no sample of sluice_http_requests_total: $(tail -5 "$T/prom.log")"
expect_eq "prometheus: /api/health requests as sent" "$val" 5
rows=$(curl -s --get "$api" --data-urlencode 'query=sluice_ingest_rows_total' | jq -r '.data.result[0].value[1]')
expect_eq "prometheus: ingest rows" "$rows" 3000
up=$(curl -s --get "$api" --data-urlencode 'query=up{job="sluice"}' | jq -r '.data.result[0].value[1]')
expect_eq "prometheus: target up" "$up" 1
q=$(curl -s --get "$api" --data-urlencode 'query=histogram_quantile(0.5, sum by (le) (sluice_http_request_duration_seconds_bucket))' |
  jq -r '.data.result[0].value[1]')
expect_eq "prometheus: histogram_quantile over our buckets is a number" "$(awk -v v="$q" 'BEGIN{print (v+0 > 0) ? "yes" : "no"}')" yes
rss=$(curl -s --get "$api" --data-urlencode 'query=process_resident_memory_bytes{job="sluice"}' | jq -r '.data.result[0].value[1]')
expect_eq "prometheus: RSS is reported" "$(awk -v v="$rss" 'BEGIN{print (v+0 > 1000000) ? "yes" : "no"}')" yes

# The dashboard only uses metrics sluice exposes.
names=$(jq -r '.. | .expr? // empty' "$SL_SRC/deploy/grafana/sluice.json" | grep -o '\b\(sluice\|process\)_[a-z_]*' | sort -u)
[ -n "$names" ] && ok "dashboard has queries" || fail "dashboard has no queries"
for n in $names; do
  base=$(sed -E 's/_(bucket|sum|count)$//' <<<"$n")
  if grep -q "^# TYPE $base " "$T/metrics.txt"; then ok "dashboard metric $n is exposed"; else fail "dashboard uses $n, which /metrics does not expose"; fi
done
kill -TERM $SPID
wait $SPID
expect_eq "the server stops with 0 on SIGTERM" "$?" 0
finish
