/* cmd_sql.c: placeholder until the command lands. */
#include "cli/cli.h"
#include <stdio.h>
int sl_cmd_sql(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "sluice sql: not available yet\n"); return 1; }
