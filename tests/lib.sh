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
