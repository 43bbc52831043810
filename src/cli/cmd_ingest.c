/* cmd_ingest.c: placeholder until the command lands. */
#include "cli/cli.h"
#include <stdio.h>
int sl_cmd_ingest(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "sluice ingest: not available yet\n"); return 1; }
