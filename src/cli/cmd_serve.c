/* cmd_serve.c: `sluice serve` (the HTTP server: API, metrics, web UI) and `sluice up`
 * (the server plus a change-capture reader into bronze for every source marked
 * `cdc: true`, and the lake's upkeep: compact and vacuum). Both run until SIGINT
 * or SIGTERM, then stop accepting requests, let those in flight finish, stop the
 * readers at a transaction boundary (their position confirmed only for what the lake
 * committed), close the catalog and exit 0. */
#include "cli/cmd_common.h"

#include "catalog/vacuum.h"
#include "ingest/compact.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "server/server.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *serve_usage =
    "usage: sluice serve [--listen ADDR] [--port N] [--project DIR]\n\n"
    "Serves the project over HTTP: the JSON API (docs/api.md), Prometheus metrics at\n"
    "/metrics and the web UI at /. Listens on server.listen:server.port of sluice.yaml\n"
    "(default 127.0.0.1:8080). Any address but loopback needs a token\n"
    "(SLUICE_SERVER_TOKEN or server.token_file); requests then need\n"
    "`Authorization: Bearer <token>`. Stops cleanly on Ctrl-C or SIGTERM.\n\n"
    "options:\n"
    "  --listen ADDR   address to bind (127.0.0.1, ::1, 0.0.0.0, ...)\n"
    "  --port N        port (0: a free one; the URL is printed)\n"
    "  --project DIR   project folder\n"
    "  -h, --help      this help\n\n"
    "exit codes: 0 stopped cleanly, 1 failed, 2 bad usage or config\n";

static const char *up_usage =
    "usage: sluice up [--listen ADDR] [--port N] [--project DIR]\n\n"
    "Runs the whole project in one process: the HTTP server (as `sluice serve`) and,\n"
    "for every source in sluice.yaml with `cdc: true`, a change-capture reader into\n"
    "bronze (as `sluice cdc NAME`), and the lake's upkeep: `sluice compact` every\n"
    "lake.compact_every and `sluice vacuum` (with lake.retention) every\n"
    "lake.vacuum_every, 1h each by default. Stops cleanly on Ctrl-C or SIGTERM.\n\n"
    "options:\n"
    "  --listen ADDR   address to bind\n"
    "  --port N        port (0: a free one)\n"
    "  --project DIR   project folder\n"
    "  -h, --help      this help\n\n"
    "exit codes: 0 stopped cleanly, 1 failed, 2 bad usage or config\n";

static volatile int g_stop;

struct reader {
  struct sl_project *p;
  const struct sl_cdc_source *src;
  pthread_t th;
  int started;
  int rc;
  struct sl_err err;
};

static void *reader_main(void *arg) {
  struct reader *rd = arg;
  struct sl_project *p = rd->p;
  struct sl_catalog *cat = NULL;
  struct sl_duck_opts dopts;
  sl_project_duck_opts(p, &dopts);
  char *state = sl_asprintf("%s/.sluice", p->root);
  char *staging = sl_project_staging_dir(p);
  rd->rc = sl_catalog_open(p->catalog_url, &cat, &rd->err);
  if (!rd->rc) {
    struct sl_cdc_lake lake = {.cat = cat, .store = p->store, .dopts = &dopts, .iopts = &p->ingest, .staging = staging,
                               .batch_events = 10000, .batch_ms = 1000};
    struct sl_cdc_run_opts o = {.src = rd->src, .to = "table", .lake = &lake, .state_dir = state, .stop = &g_stop};
    struct sl_cdc_run_stats st = {0};
    sl_log(SL_LOG_INFO, "up", "cdc reader started", "source", rd->src->name, NULL);
    rd->rc = sl_cdc_run(&o, &st, &rd->err);
    char ev[32];
    snprintf(ev, sizeof ev, "%lld", (long long)st.events);
    if (rd->rc) sl_log(SL_LOG_ERROR, "up", "cdc reader stopped", "source", rd->src->name, "error", rd->err.msg, NULL);
    else sl_log(SL_LOG_INFO, "up", "cdc reader stopped", "source", rd->src->name, "events", ev, NULL);
  }
  if (cat) sl_catalog_close(cat);
  sl_free(state);
  sl_free(staging);
  return NULL;
}

/* One compaction of every table, with its own DuckDB session; figures to the log. */
static void upkeep_compact(struct sl_project *p, struct sl_catalog *cat) {
  struct sl_duck_opts dopts;
  sl_project_duck_opts(p, &dopts);
  struct sl_duck *d = NULL;
  struct sl_err err = {0};
  struct sl_compact_opts o = {.target_file_size = p->ingest.target_file_size, .skip_models = 1};
  struct sl_compact_result r = {0};
  int rc = sl_duck_open(NULL, &dopts, &d, &err);
  if (!rc) rc = sl_compact(d, cat, p->store, &p->ingest, &o, &r, &err);
  sl_duck_close(d);
  if (rc) {
    sl_log(SL_LOG_ERROR, "up", "compact failed; it is tried again next period", "error", err.msg, NULL);
    return;
  }
  char a[24], b[24];
  snprintf(a, sizeof a, "%lld", (long long)r.tables_compacted);
  snprintf(b, sizeof b, "%lld", (long long)r.files_rewritten);
  sl_log(SL_LOG_INFO, "up", "compact done", "tables", a, "files_rewritten", b, NULL);
  sl_compact_result_fini(&r);
}

/* One vacuum of the lake with lake.retention; figures to the log (and /metrics). */
static void upkeep_vacuum(struct sl_project *p, struct sl_catalog *cat) {
  struct sl_err err = {0};
  char *staging = sl_project_staging_dir(p);
  struct sl_vacuum_opts o = {.retention_ms = p->lake.retention_ms, .now_ms = sl_time_now_ms(), .staging_dir = staging};
  struct sl_vacuum_result r = {0};
  int rc = sl_vacuum(cat, p->store, &o, &r, &err);
  sl_free(staging);
  if (rc) {
    sl_log(SL_LOG_ERROR, "up", "vacuum failed; it is tried again next period", "error", err.msg, NULL);
    return;
  }
  char a[24], b[24], c[24];
  snprintf(a, sizeof a, "%lld", (long long)r.snapshots_expired);
  snprintf(b, sizeof b, "%lld", (long long)r.files_deleted);
  snprintf(c, sizeof c, "%lld", (long long)r.bytes_freed);
  sl_log(SL_LOG_INFO, "up", "vacuum done", "snapshots_expired", a, "files_deleted", b, "bytes_freed", c, NULL);
  sl_vacuum_result_fini(&r);
}

/* The lake's upkeep in `sluice up`: compacts every lake.compact_every and vacuums every
 * lake.vacuum_every (each the first time one period after the start), with its own
 * catalog handle. */
static void *upkeep_main(void *arg) {
  struct sl_project *p = arg;
  int64_t now = sl_time_now_ms(), every[2] = {p->lake.compact_every_ms, p->lake.vacuum_every_ms};
  int64_t next[2] = {now + every[0], now + every[1]};
  while (!g_stop) {
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    now = sl_time_now_ms();
    int due[2] = {every[0] > 0 && now >= next[0], every[1] > 0 && now >= next[1]};
    if (g_stop || (!due[0] && !due[1])) continue;
    struct sl_catalog *cat = NULL;
    struct sl_err err = {0};
    if (sl_catalog_open(p->catalog_url, &cat, &err)) {
      sl_log(SL_LOG_ERROR, "up", "upkeep cannot open the catalog; it is tried again next period", "error", err.msg, NULL);
    } else {
      if (due[0]) upkeep_compact(p, cat);
      if (due[1] && !g_stop) upkeep_vacuum(p, cat);
      sl_catalog_close(cat);
    }
    for (int k = 0; k < 2; k++)
      if (due[k]) next[k] = sl_time_now_ms() + every[k];
  }
  return NULL;
}

static int run(const char *cmd, int argc, char **argv, int with_readers) {
  enum { O_LISTEN = 1, O_PORT };
  static const struct option longopts[] = {{"listen", required_argument, NULL, O_LISTEN},
                                           {"port", required_argument, NULL, O_PORT},
                                           SL_LONGOPT_HELP,
                                           SL_LONGOPT_PROJECT,
                                           {NULL, 0, NULL, 0}};
  const char *dir = NULL, *listen = NULL;
  long port = -1;
  int c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(with_readers ? up_usage : serve_usage, stdout); return 0;
    case O_LISTEN: listen = optarg; break;
    case O_PORT: {
      char *end = NULL;
      port = strtol(optarg, &end, 10);
      if (!*optarg || *end || port < 0 || port > 65535) return sl_cli_usage_error(cmd, "--port takes 0 to 65535");
      break;
    }
    case SL_OPT_PROJECT_ID: dir = optarg; break;
    default: return sl_cli_usage_error(cmd, "bad option");
    }
  }
  if (optind < argc) return sl_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  struct sl_project *p = NULL;
  int rc = sl_cmd_open_project(cmd, dir, &p);
  if (rc) return rc;
  if (listen) {
    sl_free(p->server.listen);
    p->server.listen = sl_strdup(listen);
  }
  if (port >= 0) p->server.port = port;
  /* Signals are taken by sigwait below: block them before any thread starts, so
   * every thread inherits the mask and none is interrupted by them. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  struct sl_err err = {0};
  struct sl_server *srv = NULL;
  if ((rc = sl_server_start(p, &p->server, &srv, &err))) {
    sl_project_free(p);
    return sl_cli_fail(cmd, &err);
  }
  struct reader *rds = sl_calloc(p->sources.n + 1, sizeof *rds);
  size_t n_readers = 0;
  for (size_t i = 0; with_readers && rds && i < p->sources.n; i++) {
    if (!p->sources.v[i].cdc) continue;
    struct reader *rd = &rds[n_readers++];
    rd->p = p;
    rd->src = &p->sources.v[i];
    rd->started = pthread_create(&rd->th, NULL, reader_main, rd) == 0;
  }
  pthread_t upkeep;
  int upkept = with_readers && (p->lake.vacuum_every_ms > 0 || p->lake.compact_every_ms > 0) &&
               pthread_create(&upkeep, NULL, upkeep_main, p) == 0;
  printf("sluice %s: serving project %s at %s%s", cmd, p->name && *p->name ? p->name : p->root, sl_server_url(srv),
         n_readers ? "" : "\n");
  if (n_readers) {
    printf(" with CDC readers for");
    for (size_t i = 0; i < n_readers; i++) printf(" %s", rds[i].src->name);
    printf("\n");
  } else if (with_readers) {
    printf("(no source has cdc: true; the server runs alone)\n");
  }
  fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  g_stop = 1;
  fprintf(stderr, "sluice %s: stopping (%s)\n", cmd, sig == SIGINT ? "SIGINT" : "SIGTERM");
  sl_server_stop(srv);
  if (upkept) pthread_join(upkeep, NULL);
  int failed = 0;
  for (size_t i = 0; i < n_readers; i++) {
    if (!rds[i].started) continue;
    pthread_join(rds[i].th, NULL);
    if (rds[i].rc) {
      fprintf(stderr, "sluice %s: cdc %s: %s\n", cmd, rds[i].src->name, rds[i].err.msg);
      failed = 1;
    }
  }
  sl_free(rds);
  sl_project_free(p);
  return failed;
}

int sl_cmd_serve(int argc, char **argv) { return run("serve", argc, argv, 0); }
int sl_cmd_up(int argc, char **argv) { return run("up", argc, argv, 1); }
