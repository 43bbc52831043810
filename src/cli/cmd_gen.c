/* cmd_gen.c: placeholder until the command lands. */
#include "cli/cli.h"
#include <stdio.h>
int sl_cmd_gen(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "sluice gen: not available yet\n"); return 1; }
