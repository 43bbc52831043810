#!/usr/bin/env bash
# bench_cdc.sh SLUICE: one million changes (BENCH_CHANGES: inserts, then as many
# updates) captured from a private PostgreSQL by `sluice cdc` (decoded into Debezium
# JSON, written and fsynced), and by pg_recvlogical reading a slot of the same plugin
# (pgoutput, no decoding) into a file, in the same run; prints events/s and the ratio.
# Then a steady insert rate for 10 s: commit-to-event latency p50/p99 (commit time in
# the event's source.ts_ms, capture time in its ts_ms).
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
psql -c "CREATE TABLE t (id bigint PRIMARY KEY, v int, s text)"
# Both slots exist before the changes, so both see exactly the same ones.
S cdc bench --to jsonl:/dev/null --idle-exit 200 2>/dev/null
S cdc lake --idle-exit 200 2>/dev/null
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
S cdc lake --max-events "$n" --batch-events 200000 2>/dev/null
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

# Latency at a steady rate: 200 single-row transactions per second for 10 s.
: > "$work/lat.jsonl"
"$sluice" --project "$work/proj" cdc bench --to "jsonl:$work/lat.jsonl" 2>/dev/null &
cdc=$!
sleep 1
psql <<'SQL' >/dev/null
CREATE OR REPLACE PROCEDURE steady(n int) LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..n LOOP
    INSERT INTO t VALUES (10000000 + i, i, 'x');
    COMMIT;
    PERFORM pg_sleep(0.005);
  END LOOP;
END $$;
CALL steady(2000);
SQL
sleep 1
kill -TERM $cdc; wait $cdc || true
S sql --format csv "SELECT count(*), quantile_cont(ts_ms - source.ts_ms, 0.5), quantile_cont(ts_ms - source.ts_ms, 0.99)
  FROM read_json('$work/lat.jsonl', format='newline_delimited', columns={ts_ms: 'BIGINT', source: 'STRUCT(ts_ms BIGINT)'})" |
  tail -1 | awk -F, '{ printf "  commit-to-event latency at ~200 tx/s: p50 %.0f ms, p99 %.0f ms over %d events (goal p99 < 100 ms)\n", $2, $3, $1 }'
