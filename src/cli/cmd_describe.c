/* cmd_describe.c: placeholder until the command lands. */
#include "cli/cli.h"
#include <stdio.h>
int sl_cmd_describe(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "sluice describe: not available yet\n"); return 1; }
