#!/usr/bin/env bash
# test_slot.sh: the replication slot's life against a real PostgreSQL 15: an idle slot
# advances while other databases write WAL (keepalive feedback alone, and with the
# heartbeat table); a slot invalidated by max_slot_wal_keep_size, one dropped while
# sluice is stopped and one dropped while it runs each stop with a message naming the
# source and the slot and saying what to do, and `--snapshot always` recovers; a column
# added after DML in the same transaction, with kill -9 during such transactions,
# leaves each change exactly once in the changelog.
source "$(dirname "$0")/../lib.sh"
pg_private "tables: [a]" "heartbeat_interval_ms: 200"
EV=$T/events.jsonl
psql -c "CREATE TABLE a (id bigint PRIMARY KEY, v int)" -c "INSERT INTO a SELECT g, g FROM generate_series(1, 100) g"
su_psql -c "CREATE DATABASE other OWNER sluice" >/dev/null
other() { command psql "${URL%/sluice}/other" -qAtX -v ON_ERROR_STOP=1 "$@"; }
other -c "CREATE TABLE w (id serial PRIMARY KEY, pad text)"
slot_lsn() { psql -c "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'sluice_app'"; }
lsn_ge() { [ "$(psql -c "SELECT '$1'::pg_lsn >= '$2'::pg_lsn")" = t ]; }

# 1. An idle slot advances while another database writes WAL: keepalive feedback alone.
expect_ok "first run takes the snapshot" S cdc app --to "jsonl:$EV" --idle-exit 500
"$SLUICE" --project "$P" cdc app --to "jsonl:$EV" 2>"$T/idle.err" &
pid=$!
sleep 1
before=$(slot_lsn)
other -c "INSERT INTO w (pad) SELECT repeat('x', 200) FROM generate_series(1, 20000)"
target=$(psql -c "SELECT pg_current_wal_lsn()")
for _ in $(seq 1 100); do lsn_ge "$(slot_lsn)" "$target" && break; sleep 0.2; done
now=$(slot_lsn)
lsn_ge "$now" "$target" && ok "idle slot advanced past another database's WAL ($before -> $now)" ||
  fail "idle slot stayed at $now, the WAL is at $target"
kill -TERM $pid; wait $pid
expect_eq "no events from another database" "$(grep -c '"table":"w"' "$EV")" "0"

# 2. The same with the heartbeat table: it is created, written while idle, and the slot
#    advances.
sed -i 's/    heartbeat_interval_ms: 200/    heartbeat_interval_ms: 200\n    heartbeat_table: public.sluice_heartbeat/' "$P/sluice.yaml"
"$SLUICE" --project "$P" cdc app --to "jsonl:$EV" 2>"$T/hb.err" &
pid=$!
sleep 1
other -c "INSERT INTO w (pad) SELECT repeat('y', 200) FROM generate_series(1, 20000)"
target=$(psql -c "SELECT pg_current_wal_lsn()")
for _ in $(seq 1 100); do
  lsn_ge "$(slot_lsn)" "$target" && [ "$(psql -c "SELECT count(*) FROM sluice_heartbeat" 2>/dev/null)" = 1 ] && break
  sleep 0.2
done
lsn_ge "$(slot_lsn)" "$target" && ok "with the heartbeat table the idle slot advanced" ||
  fail "with the heartbeat table the slot stayed at $(slot_lsn), the WAL is at $target"
expect_eq "heartbeat row keyed by the slot" "$(psql -c "SELECT slot FROM sluice_heartbeat")" "sluice_app"
t1=$(psql -c "SELECT ts FROM sluice_heartbeat")
for _ in $(seq 1 50); do [ "$(psql -c "SELECT ts FROM sluice_heartbeat")" != "$t1" ] && break; sleep 0.2; done
[ "$(psql -c "SELECT ts FROM sluice_heartbeat")" != "$t1" ] && ok "the heartbeat is written again while idle" ||
  fail "the heartbeat row was not updated"
kill -TERM $pid; wait $pid
expect_eq "clean stop with a heartbeat" "$?" "0"
psql -c "REVOKE ALL ON sluice_heartbeat FROM sluice" 2>/dev/null
su_psql -c "ALTER TABLE sluice_heartbeat OWNER TO postgres" >/dev/null
expect_exit "a heartbeat that cannot be written stops" 1 env SLUICE_LOG_LEVEL=error "$SLUICE" --project "$P" cdc app --to "jsonl:$EV" --idle-exit 3000
expect_contains "heartbeat message names table and source" "$out" "heartbeat_table public.sluice_heartbeat of source app"
expect_contains "heartbeat message says what to do" "$out" "grant INSERT and UPDATE"
sed -i '/heartbeat_table:/d' "$P/sluice.yaml"

# 3. Invalidated slot: WAL beyond max_slot_wal_keep_size while sluice is stopped.
psql -c "INSERT INTO a VALUES (1001, 1)"
su_psql -c "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'" -c "SELECT pg_reload_conf()" >/dev/null
for _ in 1 2 3 4; do
  other -c "INSERT INTO w (pad) SELECT repeat('z', 500) FROM generate_series(1, 20000)"
  su_psql -c "SELECT pg_switch_wal()" -c "CHECKPOINT" >/dev/null
done
expect_eq "the slot is lost" "$(psql -c "SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'sluice_app'")" "lost"
su_psql -c "ALTER SYSTEM RESET max_slot_wal_keep_size" -c "SELECT pg_reload_conf()" >/dev/null
expect_exit "invalidated slot stops" 2 S cdc app --to "jsonl:$EV" --idle-exit 500
expect_contains "invalidated: names source and slot" "$out" "source app (127.0.0.1:"
expect_contains "invalidated: the slot" "$out" "replication slot sluice_app was invalidated"
expect_contains "invalidated: what to do" "$out" "sluice cdc app --snapshot always"
: > "$EV"
expect_ok "--snapshot always recovers from an invalidated slot" S cdc app --to "jsonl:$EV" --snapshot always --idle-exit 500
expect_eq "the new snapshot has every row" "$(grep -c '"op":"r"' "$EV")" "$(psql -c "SELECT count(*) FROM a")"
expect_eq "a new slot" "$(psql -c "SELECT wal_status <> 'lost' FROM pg_replication_slots WHERE slot_name = 'sluice_app'")" "t"

# 4. Slot dropped while sluice is stopped.
psql -c "SELECT pg_drop_replication_slot('sluice_app')" >/dev/null
expect_exit "dropped slot stops" 2 S cdc app --to "jsonl:$EV" --idle-exit 500
expect_contains "dropped: names source and slot" "$out" "source app (127.0.0.1:"
expect_contains "dropped: the slot" "$out" "replication slot sluice_app no longer exists"
expect_contains "dropped: what to do" "$out" "sluice cdc app --snapshot always"
expect_ok "--snapshot always recovers from a dropped slot" S cdc app --to "jsonl:$EV" --snapshot always --idle-exit 500

# 5. Slot dropped while sluice runs: the walsender is ended and the slot dropped before
#    sluice reconnects.
"$SLUICE" --project "$P" cdc app --to "jsonl:$EV" 2>"$T/run.err" &
pid=$!
for _ in $(seq 1 50); do [ "$(psql -c "SELECT active FROM pg_replication_slots WHERE slot_name = 'sluice_app'")" = t ] && break; sleep 0.1; done
su_psql <<'SQL' >/dev/null
DO $$
BEGIN
  FOR i IN 1..200 LOOP
    PERFORM pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'sluice_app' AND active;
    PERFORM pg_sleep(0.02);
    BEGIN
      PERFORM pg_drop_replication_slot('sluice_app');
      RETURN;
    EXCEPTION WHEN object_in_use THEN NULL;
    END;
  END LOOP;
END $$;
SQL
wait $pid
expect_eq "dropped while running stops" "$?" "2"
expect_contains "running: names source and slot" "$(cat "$T/run.err")" "source app (127.0.0.1:"
expect_contains "running: what happened" "$(cat "$T/run.err")" "replication slot sluice_app disappeared"
expect_contains "running: what to do" "$(cat "$T/run.err")" "sluice cdc app --snapshot always"

# 6. A column added after DML in the same transaction, kill -9 during such transactions:
#    the changelog has each change exactly once (the lake sink commits only whole
#    transactions, so nothing of an unfinished one is in the lake).
expect_ok "a new slot for the lake" S cdc app --snapshot always --idle-exit 500
rm -f "$T/stop"
ddl() {
  local i=0
  while [ ! -f "$T/stop" ] && [ $i -lt 60 ]; do
    i=$((i + 1))
    psql -c "BEGIN; INSERT INTO a SELECT 100000 * $i + g, g FROM generate_series(1, 3000) g;
      ALTER TABLE a ADD COLUMN c$i int; UPDATE a SET c$i = $i WHERE id > 100000 * $i;
      INSERT INTO a SELECT 100000 * $i + g, g FROM generate_series(3001, 6000) g; COMMIT" >/dev/null 2>&1
  done
}
ddl & wd=$!
kill_loop 12 0.3 1.5 "$SLUICE" --project "$P" cdc app
touch "$T/stop"; wait $wd
expect_ok "lake catches up after the kills" S cdc app --idle-exit 2000
[ "$kills" -ge 10 ] && ok "killed $kills times" || fail "only $kills kills"
expect_eq "each change exactly once" \
  "$(S sql --format csv "SELECT count(*) - count(DISTINCT (_lsn, id)) FROM bronze.a_changes" | tail -1)" "0"
n=$(psql -c "SELECT count(*) FROM a WHERE id > 100000")
expect_eq "every insert and update of those transactions once" \
  "$(S sql --format csv "SELECT count(*) FROM bronze.a_changes WHERE id > 100000 AND _op IN ('c', 'u')" | tail -1)" \
  "$(( n + n / 2 ))"
cols=$(psql -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'a'")
expect_eq "the changelog has every column" \
  "$(S sql --format csv "SELECT count(*) FROM (DESCRIBE bronze.a_changes)" | tail -1)" "$(( cols + 4 ))"

# 7. A column whose type changes upstream stops with table, column and LSN; nothing of
#    the transaction reaches the lake.
before=$(S sql --format csv "SELECT count(*) FROM bronze.a_changes" | tail -1)
psql -c "ALTER TABLE a ALTER COLUMN v TYPE bigint" -c "INSERT INTO a (id, v) VALUES (99999999, 1)"
expect_exit "type change stops" 1 S cdc app --max-events 1
expect_contains "type change message" "$out" "column v of public.a changed type from INTEGER to BIGINT at LSN"
expect_contains "type change: what to do" "$out" "--snapshot always"
expect_eq "nothing of it in the lake" "$(S sql --format csv "SELECT count(*) FROM bronze.a_changes" | tail -1)" "$before"
finish
