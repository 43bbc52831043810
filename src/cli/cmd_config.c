/* cmd_config.c: placeholder until the command lands. */
#include "cli/cli.h"
#include <stdio.h>
int sl_cmd_config(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "sluice config: not available yet\n"); return 1; }
