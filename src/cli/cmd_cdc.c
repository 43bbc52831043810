/* cmd_cdc.c: `sluice cdc SOURCE --to jsonl[:FILE]`: change data capture from a
 * PostgreSQL source as Debezium envelopes. SIGINT/SIGTERM stop it cleanly, after the
 * last confirmed position. */
#include "cli/cmd_common.h"

#include "core/mem.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char *usage =
    "usage: sluice cdc SOURCE [--to table|topics|jsonl[:FILE]] [--snapshot MODE] [--batch-events N]\n"
    "                  [--batch-ms MS] [--max-events N] [--idle-exit MS]\n\n"
    "Captures the changes of a PostgreSQL source (sources: in sluice.yaml) through a\n"
    "logical replication slot (plugin pgoutput). On first start it creates the\n"
    "publication and the slot and, as snapshot_mode says, copies the tables first\n"
    "(op \"r\"), consistently with the stream. By default every change lands in the\n"
    "lake's changelog table bronze.<table>_changes (_op, _lsn, _commit_ts, _txid, then\n"
    "the columns), committed as soon as the stream is idle after a transaction, or in\n"
    "batches while it is busy; a restart after a crash neither loses nor\n"
    "repeats a change. --to jsonl writes Debezium envelopes instead\n"
    "({\"before\",\"after\",\"source\",\"op\",\"ts_ms\"}, one JSON per line); --to topics writes\n"
    "them to topics <topic_prefix>.<schema>.<table> of the project's log (log: in\n"
    "sluice.yaml), keyed by the primary key, exactly once across restarts. A position is\n"
    "confirmed to PostgreSQL only after everything before it is durable.\n\n"
    "options:\n"
    "  --to table          the lake's changelog tables (default)\n"
    "  --to topics         Debezium envelopes to topics of the log (sluice topic ...)\n"
    "  --to jsonl[:FILE]   Debezium envelopes to stdout, or appended to FILE\n"
    "  --snapshot MODE     this run's snapshot mode instead of the source's snapshot_mode:\n"
    "                      initial, never, always (drops an invalidated slot, creates a new\n"
    "                      one if it is gone, and copies the tables again) or initial_only\n"
    "  --batch-events N    while the stream is busy, commit to the lake (flush the log) after N events ...\n"
    "                      (default 10000)\n"
    "  --batch-ms MS       ... or MS milliseconds after the first pending one (default 100);\n"
    "                      an idle stream commits at once\n"
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
  enum { O_TO = 1, O_MAX, O_IDLE, O_BEV, O_BMS, O_SNAP };
  static const struct option longopts[] = {{"to", required_argument, NULL, O_TO},
                                           {"max-events", required_argument, NULL, O_MAX},
                                           {"idle-exit", required_argument, NULL, O_IDLE},
                                           {"batch-events", required_argument, NULL, O_BEV},
                                           {"batch-ms", required_argument, NULL, O_BMS},
                                           {"snapshot", required_argument, NULL, O_SNAP},
                                           SL_LONGOPT_HELP,
                                           SL_LONGOPT_PROJECT,
                                           {NULL, 0, NULL, 0}};
  const char *dir = NULL, *to = "table";
  static const char *modes[] = {"initial", "never", "always", "initial_only"}; /* enum sl_cdc_snapshot_mode */
  int snapshot = -1;
  long long max_events = 0, idle = 0, batch_events = 10000, batch_ms = 100;
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
    case O_BEV:
      if (sscanf(optarg, "%lld", &batch_events) != 1 || batch_events < 1) return sl_cli_usage_error("cdc", "--batch-events takes a number");
      break;
    case O_BMS:
      if (sscanf(optarg, "%lld", &batch_ms) != 1 || batch_ms < 0) return sl_cli_usage_error("cdc", "--batch-ms takes milliseconds");
      break;
    case O_SNAP:
      for (int i = 0; i < 4; i++)
        if (!strcmp(optarg, modes[i])) snapshot = i;
      if (snapshot < 0) return sl_cli_usage_error("cdc", "--snapshot must be initial, never, always or initial_only");
      break;
    case SL_OPT_PROJECT_ID: dir = optarg; break;
    default: return sl_cli_usage_error("cdc", "bad option");
    }
  }
  if (optind >= argc) return sl_cli_usage_error("cdc", "name a source (sources: in sluice.yaml)");
  const char *name = argv[optind];
  if (strncmp(to, "jsonl", 5) && strcmp(to, "table") && strcmp(to, "topics"))
    return sl_cli_usage_error("cdc", "--to must be table, topics, jsonl or jsonl:FILE");
  struct sl_project *p = NULL;
  struct sl_err err = {0};
  int rc0 = sl_cmd_open_project("cdc", dir, &p);
  if (rc0) return rc0;
  const struct sl_cdc_source *found = sl_cdc_source_find(&p->sources, name);
  if (!found) {
    sl_project_free(p);
    return sl_cli_usage_error("cdc", "no source '%s' under sources: in sluice.yaml", name);
  }
  struct sl_cdc_source src_run = *found; /* --snapshot overrides the source's mode for this run */
  if (snapshot >= 0) src_run.snapshot_mode = snapshot;
  const struct sl_cdc_source *src = &src_run;
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  struct sl_duck_opts dopts;
  sl_project_duck_opts(p, &dopts);
  char *state = sl_asprintf("%s/.sluice", p->root);
  char *staging = sl_project_staging_dir(p);
  struct sl_cdc_lake lake = {.cat = p->cat, .store = p->store, .dopts = &dopts, .iopts = &p->ingest, .staging = staging,
                             .batch_events = batch_events, .batch_ms = batch_ms};
  struct sl_cdc_run_opts o = {.src = src, .to = to, .lake = &lake, .state_dir = state, .max_events = max_events,
                              .idle_exit_ms = idle, .stop = &g_stop};
  struct sl_log *log = NULL;
  if (!strcmp(to, "topics") && sl_project_log_open(p, &log, &err)) {
    sl_free(state);
    sl_free(staging);
    sl_project_free(p);
    return sl_cli_fail("cdc", &err);
  }
  o.log = log;
  struct sl_cdc_run_stats st;
  int rc = sl_cdc_run(&o, &st, &err);
  sl_log_close(log);
  fprintf(stderr, "cdc %s: %lld events (%lld from the snapshot) in %lld transactions, %lld reconnects\n", name,
          (long long)st.events, (long long)st.snapshot_rows, (long long)st.transactions, (long long)st.reconnects);
  sl_free(state);
  sl_free(staging);
  sl_project_free(p);
  return rc ? sl_cli_fail("cdc", &err) : 0;
}
