/* cmd_snapshots.c: placeholder until the command lands. */
#include "cli/cli.h"
#include <stdio.h>
int sl_cmd_snapshots(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "sluice snapshots: not available yet\n"); return 1; }
