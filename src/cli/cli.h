/* cli.h: the command table and what commands share. Each command lives in
 * cmd_<name>.c as `int sl_cmd_<name>(int argc, char **argv)`, gets argv starting at its
 * own name, and returns the process exit code: 0 ok, 1 the work failed, 2 bad usage
 * or config. Commands print results to stdout and errors to stderr as
 * "sluice <cmd>: <message>". */
#ifndef SL_CLI_CLI_H
#define SL_CLI_CLI_H

#include "core/err.h"

struct sl_cmd {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
};

extern const struct sl_cmd sl_cli_commands[];

/* Prints "sluice <cmd>: <err->msg>" to stderr and returns the exit code for err. */
int sl_cli_fail(const char *cmd, const struct sl_err *err);
/* Prints "sluice <cmd>: <msg>\nTry 'sluice <cmd> --help'." and returns 2. */
int sl_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 if argv has --help or -h before any "--". */
int sl_cli_wants_help(int argc, char **argv);

enum sl_out_format { SL_OUT_TABLE, SL_OUT_CSV, SL_OUT_JSON };
int sl_cli_parse_format(const char *s, enum sl_out_format *out);

int sl_cmd_init(int argc, char **argv);
int sl_cmd_gen(int argc, char **argv);
int sl_cmd_ingest(int argc, char **argv);
int sl_cmd_sql(int argc, char **argv);
int sl_cmd_tables(int argc, char **argv);
int sl_cmd_describe(int argc, char **argv);
int sl_cmd_snapshots(int argc, char **argv);
int sl_cmd_config(int argc, char **argv);
int sl_cmd_cdc(int argc, char **argv);
int sl_cmd_status(int argc, char **argv);
int sl_cmd_vacuum(int argc, char **argv);
int sl_cmd_compact(int argc, char **argv);
int sl_cmd_build(int argc, char **argv);
int sl_cmd_check(int argc, char **argv);
int sl_cmd_lineage(int argc, char **argv);
int sl_cmd_topic(int argc, char **argv);
int sl_cmd_compile(int argc, char **argv);
int sl_cmd_serve(int argc, char **argv);
int sl_cmd_up(int argc, char **argv);

#endif
