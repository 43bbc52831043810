/* cmd_tables.c: placeholder until the command lands. */
#include "cli/cli.h"
#include <stdio.h>
int sl_cmd_tables(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "sluice tables: not available yet\n"); return 1; }
