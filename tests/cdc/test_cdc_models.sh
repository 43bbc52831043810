#!/usr/bin/env bash
# test_cdc_models.sh: changes captured from a real PostgreSQL 15 feeding an incremental
# model end to end. `sluice cdc` writes bronze.loans_changes; an incremental model over
# bronze.loans_current is rebuilt after rounds of inserts, updates, deletes, keys
# deleted and inserted again, rows its filter drops, seeded random rounds of all of
# these, and a truncate; after each round it equals PostgreSQL's table (checksum by
# key) and the same model built in full.
source "$(dirname "$0")/../lib.sh"
pg_private "tables: [loans]"
psql <<'SQL'
CREATE TABLE loans (id bigint PRIMARY KEY, amount bigint NOT NULL, status text NOT NULL);
INSERT INTO loans SELECT g, g * 10, 'open' FROM generate_series(1, 3000) g;
SQL
mkdir -p "$P/models"
body="SELECT id, amount, upper(status) AS status FROM {{ source('app', 'loans_current') }} WHERE status <> 'void'"
printf "{{ config(materialized='incremental', unique_key='id') }}\n%s\n" "$body" > "$P/models/loans_inc.sql"
printf "{{ config(materialized='table') }}\n%s\n" "$body" > "$P/models/loans_full.sql"
q() { S sql --format csv "$1" | tail -n +2; }
pg_sum() { psql -F, -c "SELECT count(*), coalesce(md5(string_agg(id || ':' || amount || ':' || upper(status), ',' ORDER BY id)), '')
                        FROM loans WHERE status <> 'void'"; }
lake_sum() { q "SELECT count(*), coalesce(md5(string_agg(id || ':' || amount || ':' || status, ',' ORDER BY id)), '') FROM silver.$1"; }

# round NAME: capture, build, compare; $1 is what the build of loans_inc must say.
round() {
  expect_ok "$1: cdc catches up" S cdc app --idle-exit 1500
  local out
  out=$(S build --format json 2>&1) || fail "$1: build: $out"
  expect_contains "$1: loans_inc built $2" "$out" "\"model\":\"loans_inc\",\"table\":\"silver.loans_inc\",\"status\":\"built\""
  expect_contains "$1: ... as $2" "$(q "SELECT how FROM audit.build_runs WHERE model = 'loans_inc' ORDER BY finished_at DESC LIMIT 1")" "$2"
  expect_eq "$1: the model equals PostgreSQL" "$(lake_sum loans_inc)" "$(pg_sum)"
  expect_eq "$1: ... and the full build" "$(lake_sum loans_inc)" "$(lake_sum loans_full)"
}

round "initial snapshot" "full"

psql <<'SQL'
INSERT INTO loans SELECT g, g * 10, 'open' FROM generate_series(3001, 3200) g;
UPDATE loans SET amount = amount + 1 WHERE id % 10 = 3;
DELETE FROM loans WHERE id % 20 = 7;
UPDATE loans SET status = 'void' WHERE id BETWEEN 100 AND 119;
SQL
round "inserts, updates, deletes, filtered rows" "incremental"

psql <<'SQL'
BEGIN;
UPDATE loans SET amount = 1 WHERE id = 5;
UPDATE loans SET amount = 2 WHERE id = 5;
DELETE FROM loans WHERE id = 6;
INSERT INTO loans VALUES (6, 66, 'open');
INSERT INTO loans VALUES (7, 77, 'open');
DELETE FROM loans WHERE id = 8;
COMMIT;
UPDATE loans SET status = 'open' WHERE id BETWEEN 100 AND 109;
DELETE FROM loans WHERE id > 3100;
SQL
expect_eq "a deleted key is back in PostgreSQL" "$(psql -c 'SELECT amount FROM loans WHERE id = 7')" "77"
round "keys deleted and inserted again in one transaction" "incremental"
expect_eq "... id 7 is back, id 8 gone" "$(q "SELECT string_agg(id || ':' || amount, ' ' ORDER BY id) FROM silver.loans_inc WHERE id BETWEEN 5 AND 8")" "5:2 6:66 7:77"

psql -c "DELETE FROM loans WHERE id % 2 = 0" >/dev/null
round "half the keys deleted" "incremental"

# Seeded random rounds: inserts of new and deleted keys, updates, deletes, rows the
# filter drops and brings back (the merge hides rows with delete files, and rewrites
# the files where too many would be hidden).
for seed in 1 2 3 4 5; do
  psql >/dev/null <<SQL
SELECT setseed(0.$seed);
INSERT INTO loans SELECT g, g * 10, 'open' FROM generate_series(1, 4000) g WHERE random() < 0.05 ON CONFLICT (id) DO NOTHING;
UPDATE loans SET amount = amount + (random() * 100)::int WHERE random() < 0.03;
UPDATE loans SET status = CASE WHEN status = 'void' THEN 'open' ELSE 'void' END WHERE random() < 0.01;
DELETE FROM loans WHERE random() < 0.02;
SQL
  round "random round $seed" "incremental"
done

psql -c "TRUNCATE loans; INSERT INTO loans VALUES (1, 1, 'open'), (2, 2, 'void'), (9001, 9, 'new')" >/dev/null
round "a truncate" "full: input bronze.loans_current was truncated"

psql -c "UPDATE loans SET amount = 10 WHERE id = 1; DELETE FROM loans WHERE id = 9001" >/dev/null
round "after the truncate" "incremental"
finish
