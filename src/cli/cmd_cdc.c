/* cmd_cdc.c: `sluice cdc SOURCE --to jsonl[:FILE]`: change data capture from a
 * PostgreSQL source as Debezium envelopes. SIGINT/SIGTERM stop it cleanly, after the
 * last confirmed position. */
#include "cli/cmd_common.h"

#include "core/mem.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char *usage =
    "usage: sluice cdc SOURCE [--to jsonl[:FILE]] [--max-events N] [--idle-exit MS]\n\n"
    "Captures the changes of a PostgreSQL source (sources: in sluice.yaml) through a\n"
    "logical replication slot (plugin pgoutput). On first start it creates the\n"
    "publication and the slot and, as snapshot_mode says, copies the tables first\n"
    "(events with op \"r\"), consistently with the stream. Events are Debezium envelopes\n"
    "{\"before\",\"after\",\"source\",\"op\",\"ts_ms\"}, one JSON per line. A position is\n"
    "confirmed to PostgreSQL only after the events before it are durable, so a restart\n"
    "loses nothing.\n\n"
    "options:\n"
    "  --to jsonl[:FILE]   write events to stdout (default) or append them to FILE\n"
    "  --max-events N      stop after N events (at the end of a transaction)\n"
    "  --idle-exit MS      stop once caught up and idle for MS milliseconds\n"
    "  --project DIR       project folder\n"
    "  -h, --help          this help\n\n"
    "exit codes: 0 stopped cleanly, 1 failed (the message says what to do), 2 bad usage\n";

static volatile int g_stop;
static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

int sl_cmd_cdc(int argc, char **argv) {
  enum { O_TO = 1, O_MAX, O_IDLE };
  static const struct option longopts[] = {{"to", required_argument, NULL, O_TO},
                                           {"max-events", required_argument, NULL, O_MAX},
                                           {"idle-exit", required_argument, NULL, O_IDLE},
                                           SL_LONGOPT_HELP,
                                           SL_LONGOPT_PROJECT,
                                           {NULL, 0, NULL, 0}};
  const char *dir = NULL, *to = "jsonl";
  long long max_events = 0, idle = 0;
  int c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(usage, stdout); return 0;
    case O_TO: to = optarg; break;
    case O_MAX:
      if (sscanf(optarg, "%lld", &max_events) != 1 || max_events < 0) return sl_cli_usage_error("cdc", "--max-events takes a number");
      break;
    case O_IDLE:
      if (sscanf(optarg, "%lld", &idle) != 1 || idle < 0) return sl_cli_usage_error("cdc", "--idle-exit takes milliseconds");
      break;
    case SL_OPT_PROJECT_ID: dir = optarg; break;
    default: return sl_cli_usage_error("cdc", "bad option");
    }
  }
  if (optind >= argc) return sl_cli_usage_error("cdc", "name a source (sources: in sluice.yaml)");
  const char *name = argv[optind];
  if (strncmp(to, "jsonl", 5)) return sl_cli_usage_error("cdc", "--to must be jsonl or jsonl:FILE");
  struct sl_project *p = NULL;
  struct sl_err err = {0};
  if (sl_project_load(dir, &p, &err)) return sl_cli_fail("cdc", &err);
  const struct sl_cdc_source *src = sl_cdc_source_find(&p->sources, name);
  if (!src) {
    sl_project_free(p);
    return sl_cli_usage_error("cdc", "no source '%s' under sources: in sluice.yaml", name);
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  struct sl_cdc_run_opts o = {.src = src, .to = to, .max_events = max_events, .idle_exit_ms = idle, .stop = &g_stop};
  struct sl_cdc_run_stats st;
  int rc = sl_cdc_run(&o, &st, &err);
  fprintf(stderr, "cdc %s: %lld events (%lld from the snapshot) in %lld transactions, %lld reconnects\n", name,
          (long long)st.events, (long long)st.snapshot_rows, (long long)st.transactions, (long long)st.reconnects);
  sl_project_free(p);
  return rc ? sl_cli_fail("cdc", &err) : 0;
}
