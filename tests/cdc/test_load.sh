#!/usr/bin/env bash
# test_load.sh: `sluice ingest --source` against a real PostgreSQL 15: a consistent
# copy under concurrent writes, chunked tables equal to the source by checksum, every
# mapped type, --table/--where, and the errors (bad password, dead server, no table).
source "$(dirname "$0")/../lib.sh"
pg_private "tables: [public.accounts, public.types_t, sales.orders]" "chunk_rows: 20000"
psql <<'SQL'
CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
INSERT INTO accounts SELECT g, 1000 FROM generate_series(1, 100000) g;
CREATE SCHEMA sales;
CREATE TABLE sales.orders (order_id text PRIMARY KEY, qty int);
INSERT INTO sales.orders SELECT 'o' || g, g % 7 FROM generate_series(1, 5000) g;
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE types_t (id bigint PRIMARY KEY, a smallint, b numeric(10,2), c numeric, d real, e boolean,
  f varchar(20), g date, h time, i timestamp, j timestamptz, k uuid, l json, m jsonb, n bytea, o int[], p mood, q text);
INSERT INTO types_t VALUES (1, 2, 3.45, 6.789, 1.5, true, 'x,"y"', '2024-02-29', '13:14:15', '2024-01-01 10:00:00',
  '2024-01-01 10:00:00+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1,2]}', '{"z": null}', '\x0102ff',
  '{1,2,3}', 'happy', ''), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SQL
psql -c "ANALYZE accounts" 2>/dev/null

# Transfers between accounts keep the total at 100,000,000 in every committed state.
writer() {
  while [ ! -f "$T/stop" ]; do
    psql -c "BEGIN; UPDATE accounts SET balance = balance - 7 WHERE id = (SELECT (random() * 99999)::int + 1);
             UPDATE accounts SET balance = balance + 7 WHERE id = (SELECT (random() * 99999)::int + 1); COMMIT;" >/dev/null 2>&1
  done
}
writer & w1=$!; writer & w2=$!
sleep 0.5
expect_ok "load under concurrent writes" S ingest --source app
expect_eq "a consistent snapshot: the invariant holds" "$(S sql --format csv "SELECT count(*), sum(balance) FROM bronze.accounts" | tail -1)" "100000,100000000"
touch "$T/stop"; wait $w1 $w2
expect_ok "reload after the writers stopped" S ingest --source app --table public.accounts
pg_sum=$(psql -c "SELECT md5(string_agg(id || ':' || balance, ',' ORDER BY id)) FROM accounts")
lake_sum=$(S sql --format csv "SELECT md5(string_agg(id || ':' || balance, ',' ORDER BY id)) FROM bronze.accounts" | tail -1)
expect_eq "lake equals source by checksum" "$lake_sum" "$pg_sum"
expect_eq "replaced, not appended" "$(S sql --format csv "SELECT count(*) FROM bronze.accounts" | tail -1)" "100000"
expect_eq "non-public schema lands as schema_table" "$(S sql --format csv "SELECT count(*), sum(qty) FROM bronze.sales_orders" | tail -1)" "$(psql -F, -c "SELECT count(*), sum(qty) FROM sales.orders")"

# Every mapped type.
row=$(S sql --format csv "SELECT a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q = '' FROM bronze.types_t WHERE id = 1" | tail -1)
expect_eq "types round-trip" "$row" '2,3.45,6.789,1.5,true,"x,""y""",2024-02-29,13:14:15,2024-01-01 10:00:00,2024-01-01 08:00:00+00,a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,"{""k"": [1,2]}","{""z"": null}",\x0102ff,"{1,2,3}",happy,true'
expect_eq "lake types" "$(S sql --format csv "SELECT string_agg(column_type, ' ') FROM (DESCRIBE bronze.types_t)" | tail -1 | tr -d '"')" \
  "BIGINT SMALLINT DECIMAL(10,2) DOUBLE FLOAT BOOLEAN VARCHAR DATE TIME TIMESTAMP TIMESTAMP WITH TIME ZONE UUID JSON JSON VARCHAR VARCHAR VARCHAR VARCHAR"
expect_eq "nulls stay null" "$(S sql --format csv "SELECT count(*) FROM bronze.types_t WHERE id = 2 AND a IS NULL AND q IS NULL AND k IS NULL" | tail -1)" "1"

# A partial load appends the matching rows.
expect_ok "partial load" S ingest --source app --table sales.orders --where "qty = 0"
expect_eq "where appended" "$(S sql --format csv "SELECT count(*) FROM bronze.sales_orders" | tail -1)" "$(psql -c "SELECT count(*) + count(*) FILTER (WHERE qty = 0) FROM sales.orders")"
expect_contains "summary names the source table" "$(S snapshots bronze.sales_orders --format json)" '"source-table":"sales.orders"'

# Errors.
expect_exit "unknown source" 2 S ingest --source nope
expect_exit "unknown table" 1 S ingest --source app --table public.ghost
expect_contains "unknown table message" "$out" "public.ghost does not exist"
expect_exit "bad where" 1 S ingest --source app --table sales.orders --where "no_such_column > 1"
expect_contains "bad where message" "$out" "no_such_column"
expect_exit "wrong password" 1 env SLUICE_SOURCES_APP_PASSWORD=wrong "$SLUICE" --project "$P" ingest --source app
expect_contains "wrong password message" "$out" "password authentication failed"
expect_eq "the password is never printed" "$(grep -c "$(cat "$PG/password")" <<< "$out")" "0"
"$SL_SRC/scripts/pg" stop "$PG"
expect_exit "dead server" 1 S ingest --source app
expect_contains "dead server message" "$out" "is PostgreSQL running"
expect_eq "tables unchanged by failures" "$(S sql --format csv "SELECT count(*) FROM bronze.accounts" | tail -1)" "100000"
finish
