#!/usr/bin/env bash
# bench_server.sh SLUICE: the HTTP server under wrk. `sluice up` serves a loans project
# (BENCH_ROWS rows, default 45,000, in bronze.loans); wrk drives GET /api/health and
# POST /api/sql with `SELECT count(*) FROM bronze.loans` (one connection, then
# BENCH_CONNS, default 16) for BENCH_SECONDS each (default 10) and reports requests/s
# and latency p50/p99. The peer is the same query run by `sluice sql` as one process
# per query (what a script without the server pays). Also the idle RSS of `sluice up`
# with the project loaded, before and after the load.
set -euo pipefail
sluice=$1
top=$(cd "$(dirname "$0")/.." && pwd)
rows=${BENCH_ROWS:-45000}
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNS:-16}
work=${BENCH_DIR:-$top/bench/out}/server
command -v wrk >/dev/null || { echo "bench: wrk is not installed (scripts/setup --bench)" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
"$sluice" init "$work/proj" >/dev/null
"$sluice" --project "$work/proj" gen loans --rows "$rows" --seed 42 --out "$work/loans.csv" >/dev/null
SLUICE_PROGRESS=0 "$sluice" --project "$work/proj" ingest "$work/loans.csv" --into bronze.loans >/dev/null

"$sluice" --project "$work/proj" up --port 0 >"$work/up.out" 2>"$work/up.err" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
url=
for _ in $(seq 1 200); do url=$(grep -o 'http://[^ ]*' "$work/up.out" 2>/dev/null) && [ -n "$url" ] && break; sleep 0.05; done
[ -n "$url" ] || { echo "bench: sluice up did not start: $(cat "$work/up.err")" >&2; exit 1; }
sleep 2
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$pid/status"; }
idle_kb=$(rss_kb)

cat > "$work/sql.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"sql":"SELECT count(*) FROM bronze.loans"}'
wrk.headers["Content-Type"] = "application/json"
EOF
got=$(curl -s -X POST -d '{"sql":"SELECT count(*) FROM bronze.loans"}' "${url}api/sql" | jq '.rows[0][0]')
[ "$got" = "$rows" ] || { echo "bench: the server counted $got rows, expected $rows" >&2; exit 1; }

# run_wrk CONNS PATH [SCRIPT]: prints "rps p50_ms p99_ms"
run_wrk() {
  local c=$1 path=$2 script=${3:-} t=2
  [ "$c" -lt 2 ] && t=1
  wrk -t"$t" -c"$c" -d"${secs}s" --latency ${script:+-s "$script"} "${url}${path}" >"$work/wrk.txt" 2>&1
  grep -q "Non-2xx" "$work/wrk.txt" && { echo "bench: wrk saw errors: $(cat "$work/wrk.txt")" >&2; exit 1; }
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
       /Requests\/sec/ { rps = $2 } / 50%/ { p50 = ms($2) } / 99%/ { p99 = ms($2) }
       END { printf "%.0f %.2f %.2f\n", rps, p50, p99 }' "$work/wrk.txt"
}
read -r h1_rps h1_50 h1_99 < <(run_wrk 1 api/health)
read -r hn_rps hn_50 hn_99 < <(run_wrk "$conns" api/health)
read -r s1_rps s1_50 s1_99 < <(run_wrk 1 api/sql "$work/sql.lua")
read -r sn_rps sn_50 sn_99 < <(run_wrk "$conns" api/sql "$work/sql.lua")
after_kb=$(rss_kb)

# The peer: one `sluice sql` process per query, one after another.
n=0
: > "$work/cli.ms"
end=$(( $(date +%s) + secs ))
while [ "$(date +%s)" -lt "$end" ]; do
  t0=$(date +%s%N)
  "$sluice" --project "$work/proj" sql --format csv "SELECT count(*) FROM bronze.loans" >/dev/null
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000 )) >> "$work/cli.ms"
  n=$((n + 1))
done
read -r c_rps c_50 c_99 < <(sort -n "$work/cli.ms" | awk -v s="$secs" '{ v[NR] = $1; sum += $1 }
  END { i = int(NR * 0.5 + 0.5); if (i < 1) i = 1; j = int(NR * 0.99 + 0.5); if (j < 1) j = 1
        printf "%.1f %.2f %.2f\n", NR / (sum / 1e6), v[i] / 1000, v[j] / 1000 }')

awk -v rows="$rows" -v secs="$secs" -v c="$conns" -v idle="$idle_kb" -v after="$after_kb" \
    -v h1r="$h1_rps" -v h15="$h1_50" -v h19="$h1_99" -v hnr="$hn_rps" -v hn5="$hn_50" -v hn9="$hn_99" \
    -v s1r="$s1_rps" -v s15="$s1_50" -v s19="$s1_99" -v snr="$sn_rps" -v sn5="$sn_50" -v sn9="$sn_99" \
    -v cr="$c_rps" -v c5="$c_50" -v c9="$c_99" 'BEGIN{
  printf "HTTP server: %d-row loans project, wrk %d s per run\n", rows, secs;
  printf "  GET /api/health      1 conn  %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms\n", h1r, h15, h19;
  printf "  GET /api/health     %2d conns %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms\n", c, hnr, hn5, hn9;
  printf "  POST /api/sql count  1 conn  %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms\n", s1r, s15, s19;
  printf "  POST /api/sql count %2d conns %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms\n", c, snr, sn5, sn9;
  printf "  sluice sql per process       %8.1f q/s    p50 %7.2f ms  p99 %7.2f ms\n", cr, c5, c9;
  printf "  ratio server (1 conn) / process per query: %.1fx queries/s\n", s1r / cr;
  printf "  RSS of sluice up: idle %.1f MiB, after the load %.1f MiB\n", idle / 1024, after / 1024 }'
