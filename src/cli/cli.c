/* cli.c: the command table and helpers every command uses. */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct sl_cmd sl_cli_commands[] = {
    {"init", sl_cmd_init, "create a project (sluice.yaml, lake, catalog)"},
    {"gen", sl_cmd_gen, "generate the loans, diabetes or trips data sets"},
    {"ingest", sl_cmd_ingest, "load CSV, Parquet or JSON-lines files into a lake table"},
    {"cdc", sl_cmd_cdc, "capture a PostgreSQL source's changes as Debezium events"},
    {"build", sl_cmd_build, "build the models (SQL files) into silver and gold, checked before publishing"},
    {"compile", sl_cmd_compile, "print the models' final SQL, refs resolved to the lake's files"},
    {"check", sl_cmd_check, "run the data quality checks on lake tables"},
    {"lineage", sl_cmd_lineage, "show the DAG of sources, models and checks"},
    {"sql", sl_cmd_sql, "query the lake with SQL (time travel with --as-of)"},
    {"tables", sl_cmd_tables, "list the lake's tables"},
    {"describe", sl_cmd_describe, "show a table's schema, size and files"},
    {"snapshots", sl_cmd_snapshots, "list a table's snapshots"},
    {"compact", sl_cmd_compact, "rewrite tables' small files and merged-away rows into fewer, whole files"},
    {"vacuum", sl_cmd_vacuum, "expire old snapshots and delete the files nothing needs (space back)"},
    {"status", sl_cmd_status, "the lake in numbers, and each source's replication slot and lag"},
    {"topic", sl_cmd_topic, "topics: create, list, describe, produce, consume, delete, offsets"},
    {"serve", sl_cmd_serve, "serve the JSON API, /metrics and the web UI over HTTP"},
    {"up", sl_cmd_up, "run the project: the server and a CDC reader for each source with cdc: true"},
    {"config", sl_cmd_config, "check sluice.yaml or print the configuration reference"},
    {NULL, NULL, NULL},
};

int sl_cli_fail(const char *cmd, const struct sl_err *err) {
  fprintf(stderr, "sluice %s: %s\n", cmd, err->msg[0] ? err->msg : sl_err_name(err->code));
  return sl_err_exit_code(err->code);
}

int sl_cli_usage_error(const char *cmd, const char *fmt, ...) {
  fprintf(stderr, "sluice %s: ", cmd);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'sluice %s --help'.\n", cmd);
  return 2;
}

int sl_cli_wants_help(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--")) return 0;
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
  }
  return 0;
}

int sl_cli_parse_format(const char *s, enum sl_out_format *out) {
  if (!strcmp(s, "table")) *out = SL_OUT_TABLE;
  else if (!strcmp(s, "csv")) *out = SL_OUT_CSV;
  else if (!strcmp(s, "json")) *out = SL_OUT_JSON;
  else return -1;
  return 0;
}
