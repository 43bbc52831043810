#!/usr/bin/env bash
# test_config.sh: `sluice config`: a good file checks, errors (of checks: too) name
# file:line:column and exit 2, environment overrides win, and docs/configuration.md
# matches the tables.
source "$(dirname "$0")/../lib.sh"
P=$T/proj
"$SLUICE" init "$P" >/dev/null
expect_ok "check a fresh project" "$SLUICE" config check --project "$P"
expect_contains "check says ok" "$out" "sluice.yaml: ok"
expect_contains "show" "$("$SLUICE" config show --project "$P")" "path: \"lake\""
expect_contains "env override" "$(SLUICE_SQL_THREADS=3 "$SLUICE" config show --project "$P")" "threads: 3"
expect_exit "bad env value" 2 env SLUICE_SQL_THREADS=many "$SLUICE" config check --project "$P"
expect_contains "bad env names the variable" "$out" "SLUICE_SQL_THREADS"

printf 'name: x\nsql:\n  treads: 2\n' > "$P/sluice.yaml"
expect_exit "typo" 2 "$SLUICE" config check --project "$P"
expect_contains "typo position" "$out" "sluice.yaml:3:3: key 'sql.treads': unknown option; did you mean 'threads'?"
printf 'name: x\nlogging:\n  level: loud\n' > "$P/sluice.yaml"
expect_exit "bad enum" 2 "$SLUICE" config check --project "$P"
expect_contains "bad enum position" "$out" "sluice.yaml:3:10: key 'logging.level': 'loud' is not one of debug|info|warn|error|off"
printf 'name: x\nlog:\n  level: info\n' > "$P/sluice.yaml"
expect_exit "old log.level" 2 "$SLUICE" config check --project "$P"
expect_contains "old log.level says where it went" "$out" "unknown option 'level' in log; logging options moved to logging:"
printf 'name: x\nlog:\n  durability: sometimes\n' > "$P/sluice.yaml"
expect_exit "bad durability" 2 "$SLUICE" config check --project "$P"
expect_contains "bad durability position" "$out" "key 'log.durability': 'sometimes' is not one of batch|interval|none"
printf 'name: x\nlake:\n  path: [\n' > "$P/sluice.yaml"
expect_exit "syntax" 2 "$SLUICE" config check --project "$P"
expect_contains "syntax position" "$out" "sluice.yaml:4:1: YAML syntax error"
expect_exit "any command reports it" 2 "$SLUICE" tables --project "$P"
expect_contains "tables reports the position" "$out" "sluice.yaml:4:1"
printf 'name: x\nchecks:\n  - table: bronze.t\n    columns:\n      id: [not_nul]\n' > "$P/sluice.yaml"
expect_exit "checks: is checked" 2 "$SLUICE" config check --project "$P"
expect_contains "checks: ... by the loader sluice check uses" "$out" "sluice.yaml:5:12: unknown check 'not_nul'"
printf 'name: x\nchecks:\n  table: bronze.t\n' > "$P/sluice.yaml"
expect_exit "checks: that is not a list" 2 "$SLUICE" config check --project "$P"
expect_contains "checks: ... says what it should be" "$out" "checks: is a list of entries"

expect_eq "docs/configuration.md is current" "$("$SLUICE" config reference | sha256sum)" "$(sha256sum < "$SL_SRC/docs/configuration.md")"
finish
