/* main.c: command dispatch only. Each command is in src/cli/cmd_<name>.c. */
#include "cli/cli.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f, "usage: sluice <command> [options]\n\n"
             "sluice moves data from PostgreSQL and files into a lakehouse and on to\n"
             "features and models, in one process.\n\ncommands:\n");
  for (const struct sl_cmd *c = sl_cli_commands; c->name; c++) fprintf(f, "  %-11s %s\n", c->name, c->summary);
  fprintf(f, "\nglobal options: --project DIR (before or after the command), --help, --version\n"
             "environment: SLUICE_LOG_LEVEL=debug|info|warn|error, SLUICE_LOG_FORMAT=kv|json,\n"
             "             SLUICE_LOG_FILE=PATH\n"
             "Run 'sluice <command> --help' for a command's options.\n");
}

int main(int argc, char **argv) {
  if (sl_log_setup_env()) {
    fprintf(stderr, "sluice: SLUICE_LOG_LEVEL, SLUICE_LOG_FORMAT or SLUICE_LOG_FILE has a bad value\n");
    return 2;
  }
  /* A leading "--project DIR" applies to any command: move it after the command name. */
  static char *args[512];
  if (argc > 500) {
    fprintf(stderr, "sluice: too many arguments\n");
    return 2;
  }
  int n = 0, i = 1;
  char *proj[2] = {NULL, NULL};
  if (i + 1 < argc && strcmp(argv[i], "--project") == 0) {
    proj[0] = argv[i];
    proj[1] = argv[i + 1];
    i += 2;
  }
  if (i >= argc) {
    usage(stderr);
    return 2;
  }
  const char *name = argv[i];
  if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(name, "--version") || !strcmp(name, "version")) {
    printf("sluice %s\n", SL_VERSION);
    return 0;
  }
  args[n++] = argv[i++];
  if (proj[0]) {
    args[n++] = proj[0];
    args[n++] = proj[1];
  }
  while (i < argc) args[n++] = argv[i++];
  args[n] = NULL;
  for (const struct sl_cmd *c = sl_cli_commands; c->name; c++)
    if (strcmp(c->name, name) == 0) return c->fn(n, args);
  fprintf(stderr, "sluice: unknown command '%s'. Run 'sluice --help' for the list.\n", name);
  return 2;
}
