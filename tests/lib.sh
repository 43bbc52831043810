# tests/lib.sh: shared helpers for the shell integration tests. Each test sources it,
# gets a fresh $T folder, and calls `ok`/`fail` and the expect_* checks; the last line
# of every test is `finish`, which prints "N passed, N failed" and sets the exit code.
set -u
: "${SLUICE:?set SLUICE to the sluice binary}"
: "${SL_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
T=$(mktemp -d /tmp/sluice-t.XXXXXX)
trap 'rm -rf "$T"' EXIT
_passed=0 _failed=0
ok() { _passed=$((_passed + 1)); echo "ok   $*"; }
fail() { _failed=$((_failed + 1)); echo "FAIL $*"; }
# expect_ok NAME CMD...: CMD exits 0.
expect_ok() { local n=$1; shift; if out=$("$@" 2>&1); then ok "$n"; else fail "$n (exit $?): $out"; fi; }
# expect_exit NAME CODE CMD...: CMD exits CODE; its output is in $out.
expect_exit() {
  local n=$1 want=$2; shift 2
  out=$("$@" 2>&1); local got=$?
  if [ "$got" = "$want" ]; then ok "$n"; else fail "$n: exit $got, want $want: $out"; fi
}
# expect_contains NAME TEXT NEEDLE
expect_contains() {
  if [[ "$2" == *"$3"* ]]; then ok "$1"; else fail "$1: '$3' not in: $2"; fi
}
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', want '$3'"; fi; }
finish() { echo "$_passed passed, $_failed failed"; [ "$_failed" = 0 ]; }

# pg_private: starts a private PostgreSQL 15 in $T/pg for this test (stopped on exit)
# and a project in $P whose sluice.yaml has a source `app` on it; then S runs sluice
# in that project and psql runs statements as the source's user. Extra lines for the
# source's map (tables:, ...) come as arguments.
pg_private() {
  chmod 711 "$T" # the server runs as the postgres user
  PG=$T/pg
  URL=$("$SL_SRC/scripts/pg" start "$PG") || { echo "cannot start PostgreSQL"; exit 1; }
  trap '"$SL_SRC/scripts/pg" stop "$PG"; rm -rf "$T"' EXIT
  P=$T/proj
  "$SLUICE" init "$P" >/dev/null
  { echo "sources:"; echo "  app:"; echo "    url: postgresql://sluice@127.0.0.1:$(cat "$PG/port")/sluice"
    echo "    password_file: $PG/password"; for l in "$@"; do echo "    $l"; done; } >> "$P/sluice.yaml"
}
psql() { command psql "$URL" -qAtX -v ON_ERROR_STOP=1 "$@"; }
su_psql() { runuser -u postgres -- psql -h "$PG/sock" -p "$(cat "$PG/port")" -U postgres -d sluice -qAtX "$@"; }
S() { "$SLUICE" --project "$P" "$@"; }

# kill_loop N MIN MAX CMD...: starts CMD in the background N times and kills it with
# SIGKILL after a random MIN..MAX seconds; sets $kills to the kills that landed.
kill_loop() {
  local n=$1 lo=$2 hi=$3 pid
  shift 3
  kills=0
  for _ in $(seq 1 "$n"); do
    "$@" 2>/dev/null &
    pid=$!
    sleep "$(awk -v s=$RANDOM -v lo="$lo" -v hi="$hi" 'BEGIN{srand(s); printf "%.2f", lo + rand() * (hi - lo)}')"
    kill -9 $pid 2>/dev/null && kills=$((kills + 1))
    wait $pid 2>/dev/null
  done
}

# jget EXPR: evaluates the Python expression EXPR over the JSON on stdin (as d).
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
# data NS/TABLE: how many files the table's data folder in project $P holds.
data() { find "$P/lake/$1/data" -type f | wc -l; }

# up_until_metric METRIC [ENV=VALUE...]: starts `sluice up` on project $P (with the
# given environment), checks that METRIC reaches 1 or more in /metrics within 10 s (its
# text then in $m), stops it with SIGTERM and checks that it exits 0.
up_until_metric() {
  local metric=$1; shift
  env "$@" "$SLUICE" --project "$P" up --port 0 >"$T/up.out" 2>"$T/up.err" &
  local pid=$! u= ran=
  for _ in $(seq 1 200); do u=$(grep -o 'http://[^ ]*' "$T/up.out" 2>/dev/null) && [ -n "$u" ] && break; sleep 0.05; done
  for _ in $(seq 1 100); do
    m=$(curl -s "${u}metrics")
    echo "$m" | grep -Eq "^$metric [1-9]" && { ran=1; break; }
    sleep 0.1
  done
  [ -n "$ran" ] && ok "up: $metric counts a run" || fail "up: $metric stayed 0: $m $(cat "$T/up.err")"
  kill -TERM $pid
  wait $pid
  expect_eq "up: stops cleanly" "$?" 0
}
