#!/usr/bin/env bash
# bench_cdc.sh SLUICE: one million changes (BENCH_CHANGES: inserts, then as many
# updates) captured from a private PostgreSQL by `sluice cdc` (decoded into Debezium
# JSON, written and fsynced), and by pg_recvlogical reading a slot of the same plugin
# (pgoutput, no decoding) into a file, in the same run; prints events/s and the ratio.
# Then steady insert rates: commit-to-queryable latency in bronze (BENCH_RATE rows/s,
# default 1,000, for BENCH_SECS s, default 30, one row per transaction: each row's
# PostgreSQL commit time, stored in _commit_ts, against the time of the lake snapshot
# that made it visible), and commit-to-event latency of the JSON lines path (commit
# time in the event's source.ts_ms, capture time in its ts_ms). Prints p50/p99.
# BENCH_PARTS picks parts: "throughput latency" (default both).
set -euo pipefail
sluice=$1
top=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_CHANGES:-1000000}
half=$((n / 2))
work=${BENCH_DIR:-$top/bench/out}/cdc
rm -rf "$work"; mkdir -p "$work"; chmod 755 "$work" "$(dirname "$work")"
url=$("$top/scripts/pg" start "$work/pg")
trap '"$top/scripts/pg" stop "$work/pg"' EXIT
psql() { command psql "$url" -qAtX -v ON_ERROR_STOP=1 "$@"; }
"$sluice" init "$work/proj" >/dev/null
cat >> "$work/proj/sluice.yaml" <<YAML
sources:
  bench:
    url: postgresql://sluice@127.0.0.1:$(cat "$work/pg/port")/sluice
    password_file: $work/pg/password
    tables: [t]
    snapshot_mode: never
  lake:
    url: postgresql://sluice@127.0.0.1:$(cat "$work/pg/port")/sluice
    password_file: $work/pg/password
    tables: [t]
    snapshot_mode: never
YAML
S() { "$sluice" --project "$work/proj" "$@"; }
parts=${BENCH_PARTS:-throughput latency}
psql -c "CREATE TABLE t (id bigint PRIMARY KEY, v int, s text)"
# Both slots exist before the changes, so both see exactly the same ones.
S cdc bench --to jsonl:/dev/null --idle-exit 200 2>/dev/null
S cdc lake --idle-exit 200 2>/dev/null
if [[ " $parts " == *" throughput "* ]]; then
PGPASSWORD=$(cat "$work/pg/password") pg_recvlogical -d "$url" -S recv --create-slot -P pgoutput 2>/dev/null
echo "cdc: writing $half inserts and $half updates"
psql -c "INSERT INTO t SELECT g, g % 1000, md5(g::text) FROM generate_series(1, $half) g"
psql -c "UPDATE t SET v = v + 1"
psql -c "CHECKPOINT" 2>/dev/null || true
endpos=$(psql -c "SELECT pg_current_wal_lsn()")

t0=$(date +%s%N)
PGPASSWORD=$(cat "$work/pg/password") pg_recvlogical -d "$url" -S recv --start -o proto_version=1 \
  -o publication_names=sluice_bench -E "$endpos" -f "$work/recv.bin" 2>/dev/null
t1=$(date +%s%N)
S cdc bench --to "jsonl:$work/events.jsonl" --max-events "$n" 2>/dev/null
t2=$(date +%s%N)
S cdc lake --max-events "$n" 2>/dev/null
t3=$(date +%s%N)
got=$(wc -l < "$work/events.jsonl")
lk=$(awk -v a=$t2 -v b=$t3 'BEGIN{printf "%.3f", (b-a)/1e9}')
inlake=$(S sql --format csv "SELECT count(*) FROM bronze.t_changes" | tail -1)
[ "$inlake" = "$n" ] || { echo "bench: bronze.t_changes has $inlake rows, expected $n" >&2; exit 1; }
[ "$got" = "$n" ] || { echo "bench: sluice wrote $got events, expected $n" >&2; exit 1; }
rv=$(awk -v a=$t0 -v b=$t1 'BEGIN{printf "%.3f", (b-a)/1e9}')
sl=$(awk -v a=$t1 -v b=$t2 'BEGIN{printf "%.3f", (b-a)/1e9}')
awk -v n=$n -v r=$rv -v s=$sl -v l=$lk -v rb=$(stat -c %s "$work/recv.bin") -v sb=$(stat -c %s "$work/events.jsonl") 'BEGIN{
  printf "cdc: %d changes (inserts then updates) from one slot each\n", n;
  printf "  sluice cdc (decode + Debezium JSON + fsync) %7.2f s  %9.0f events/s  (%.0f MB of JSON)\n", s, n/s, sb/1e6;
  printf "  sluice cdc into bronze.t_changes (Parquet)  %7.2f s  %9.0f events/s\n", l, n/l;
  printf "  pg_recvlogical (raw pgoutput to a file)     %7.2f s  %9.0f events/s  (%.0f MB)\n", r, n/r, rb/1e6;
  printf "  ratio sluice/pg_recvlogical: JSON lines %.2f, into bronze %.2f (goal >= 0.8)\n", r/s, r/l }'
fi
[[ " $parts " == *" latency "* ]] || exit 0

# One row per transaction at a steady rate, paced against the clock.
psql <<'SQL' >/dev/null
CREATE OR REPLACE PROCEDURE steady(first bigint, rate int, secs int, per_tx int) LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
  ahead float8;
BEGIN
  FOR i IN 0..rate * secs / per_tx - 1 LOOP
    INSERT INTO t SELECT first + i * per_tx + k, k, 'x' FROM generate_series(1, per_tx) k;
    COMMIT;
    ahead := extract(epoch FROM t0 + make_interval(secs => (i + 1)::float8 * per_tx / rate) - clock_timestamp());
    IF ahead > 0 THEN PERFORM pg_sleep(ahead); END IF;
  END LOOP;
END $$;
SQL
rate=${BENCH_RATE:-1000}; secs=${BENCH_SECS:-30}; per_tx=${BENCH_TX_ROWS:-10}

# Commit-to-queryable in bronze, with the default batching.
"$sluice" --project "$work/proj" cdc lake 2>"$work/lake.err" &
cdc=$!
sleep 2
first=20000000
echo "cdc: $((rate * secs)) rows at $rate rows/s ($per_tx rows per transaction) into bronze.t_changes"
w0=$(date +%s%N)
psql -c "CALL steady($first, $rate, $secs, $per_tx)"
w1=$(date +%s%N)
want=$((rate * secs))
for _ in $(seq 1 100); do
  got=$(S sql --format csv "SELECT count(*) FROM bronze.t_changes WHERE id > $first" | tail -1)
  [ "$got" = "$want" ] && break; sleep 0.2
done
kill -TERM $cdc; wait $cdc || true
[ "$got" = "$want" ] || { echo "bench: bronze.t_changes has $got of the $want rows" >&2; exit 1; }
S snapshots bronze.t_changes --format json > "$work/snaps.json"
S sql --format csv "WITH s AS (SELECT epoch_ms(CAST(\"time\" AS TIMESTAMPTZ)) AS vis, CAST(summary.\"cdc-lsn\" AS BIGINT) AS lsn
      FROM read_json('$work/snaps.json') WHERE summary.\"cdc-lsn\" IS NOT NULL),
    r AS (SELECT _lsn, epoch_ms(_commit_ts) AS c FROM bronze.t_changes WHERE id > $first),
    j AS (SELECT s.vis - r.c AS ms FROM r ASOF JOIN s ON r._lsn <= s.lsn)
  SELECT count(*), quantile_cont(ms, 0.5), quantile_cont(ms, 0.99), max(ms),
    (SELECT count(*) FROM s WHERE vis >= $((w0 / 1000000)))
  FROM j" | tail -1 |
  awk -F, -v sec=$(awk -v a=$w0 -v b=$w1 'BEGIN{print (b-a)/1e9}') '{
    printf "  commit-to-queryable in bronze: p50 %.0f ms, p99 %.0f ms, max %.0f ms over %d rows (%.0f rows/s achieved, %d lake commits) (goal p99 < 100 ms)\n", $2, $3, $4, $1, $1/sec, $5 }'

# Commit-to-event for JSON lines at the same rate (its slot first read up to now).
S cdc bench --to jsonl:/dev/null --idle-exit 3000 2>/dev/null
: > "$work/lat.jsonl"
"$sluice" --project "$work/proj" cdc bench --to "jsonl:$work/lat.jsonl" 2>"$work/lat.err" &
cdc=$!
sleep 1
psql -c "CALL steady(10000000, $rate, $(( secs < 10 ? secs : 10 )), $per_tx)"
sleep 1
kill -TERM $cdc; wait $cdc || true
S sql --format csv "SELECT count(*), quantile_cont(ts_ms - source.ts_ms, 0.5), quantile_cont(ts_ms - source.ts_ms, 0.99)
  FROM read_json('$work/lat.jsonl', format='newline_delimited', columns={ts_ms: 'BIGINT', source: 'STRUCT(ts_ms BIGINT)'})" |
  tail -1 | awk -F, -v r=$rate '{ printf "  commit-to-event (JSON lines) at %d rows/s: p50 %.0f ms, p99 %.0f ms over %d events\n", r, $2, $3, $1 }'
