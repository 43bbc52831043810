/* cmd_init.c: placeholder until the command lands. */
#include "cli/cli.h"
#include <stdio.h>
int sl_cmd_init(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "sluice init: not available yet\n"); return 1; }
