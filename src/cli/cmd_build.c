/* cmd_build.c: `sluice build`: run the project's models in dependency order, each
 * output audited by its checks before it is published, and print what happened. */
#include "cli/cmd_common.h"

#include "cli/models.h"
#include "cli/output.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/progress.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "usage: sluice build [--select SEL]... [--full-refresh] [--threads N] [--format table|json]\n\n"
    "Builds the models (the .sql files under models/) in dependency order, independent\n"
    "ones in parallel. Each model's output is staged, its checks run on it, and only\n"
    "then it becomes the table's new snapshot; when an error-level check fails the table\n"
    "stays as it was, the failing rows go to quarantine.<ns>_<model>, and the models\n"
    "downstream are skipped. A model whose SQL and inputs are unchanged is not rebuilt.\n\n"
    "  --select SEL     name, +name (with its upstream), name+ (with its downstream),\n"
    "                   tag:x or path:models/dir; repeat or separate with spaces for\n"
    "                   any of them, join with commas for all of them (tag:x,gold+)\n"
    "  --full-refresh   rebuild everything selected in full (incremental ones too)\n"
    "  --threads N      models built at once (default: build.threads)\n"
    "  --format F       table (default) or json\n\n"
    "Exit codes: 0 built, 1 a model or an error-level check failed, 2 bad usage or config.\n";

static volatile int cancel_flag;
static void on_signal(int sig) {
  (void)sig;
  cancel_flag = 1;
}

static void print_json(const struct sl_build_result *res) {
  struct sl_buf b;
  sl_buf_init(&b);
  sl_buf_printf(&b, "{\"run_id\":\"%s\",\"seconds\":%.3f,\"models\":[", res->run_id, res->seconds);
  int first = 1;
  for (size_t i = 0; i < res->n; i++) {
    const struct sl_build_model_result *r = &res->v[i];
    if (!r->m) continue;
    if (!first) sl_buf_putc(&b, ',');
    first = 0;
    sl_buf_puts(&b, "{\"model\":");
    sl_buf_json_str(&b, r->m->name);
    sl_buf_printf(&b, ",\"table\":\"%s.%s\",\"status\":\"%s\",\"rows\":", r->m->ns, r->m->name,
                  sl_build_status_name(r->status));
    if (r->m->mat == SL_MAT_VIEW) sl_buf_puts(&b, "null"); /* a view's rows are not counted */
    else sl_buf_printf(&b, "%lld", (long long)r->rows);
    sl_buf_printf(&b, ",\"seconds\":%.3f,\"snapshot\":%lld,\"quarantined\":%lld,\"how\":", r->seconds,
                  (long long)r->snapshot_id, (long long)r->quarantined);
    sl_buf_json_str(&b, r->how ? r->how : "");
    sl_buf_puts(&b, ",\"message\":");
    if (r->message) sl_buf_json_str(&b, r->message);
    else sl_buf_puts(&b, "null");
    sl_buf_puts(&b, ",\"checks\":[");
    for (size_t k = r->checks_from; k < r->checks_to; k++) {
      const struct sl_check_result *c = &res->checks.v[k];
      if (k > r->checks_from) sl_buf_putc(&b, ',');
      sl_buf_puts(&b, "{\"check\":");
      sl_buf_json_str(&b, c->check->name);
      sl_buf_printf(&b, ",\"status\":\"%s\",\"failing\":%lld,\"total\":%lld,\"message\":",
                    sl_check_status_name(c->status), (long long)c->failing, (long long)c->total);
      if (c->message) sl_buf_json_str(&b, c->message);
      else sl_buf_puts(&b, "null");
      sl_buf_putc(&b, '}');
    }
    sl_buf_puts(&b, "]}");
  }
  sl_buf_puts(&b, "]}\n");
  fputs(b.data ? b.data : "", stdout);
  sl_buf_fini(&b);
}

int sl_cmd_build(int argc, char **argv) {
  enum { O_SELECT = 1, O_FULL, O_THREADS, O_FORMAT };
  static const struct option longopts[] = {{"select", required_argument, NULL, O_SELECT},
                                           {"full-refresh", no_argument, NULL, O_FULL},
                                           {"threads", required_argument, NULL, O_THREADS},
                                           {"format", required_argument, NULL, O_FORMAT},
                                           SL_LONGOPT_HELP,
                                           SL_LONGOPT_PROJECT,
                                           {NULL, 0, NULL, 0}};
  enum sl_out_format fmt = SL_OUT_TABLE;
  const char *dir = NULL;
  char **sel = NULL;
  size_t n_sel = 0;
  int full = 0, threads = 0, c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(usage, stdout); return 0;
    case O_SELECT: sl_cmd_select_add(optarg, &sel, &n_sel); break;
    case O_FULL: full = 1; break;
    case O_THREADS:
      threads = atoi(optarg);
      if (threads < 1 || threads > 64) return sl_cli_usage_error("build", "--threads is 1 to 64");
      break;
    case O_FORMAT:
      if (sl_cli_parse_format(optarg, &fmt) || fmt == SL_OUT_CSV) return sl_cli_usage_error("build", "--format must be table or json");
      break;
    case SL_OPT_PROJECT_ID: dir = optarg; break;
    default: return sl_cli_usage_error("build", "bad option");
    }
  }
  if (optind < argc) return sl_cli_usage_error("build", "unexpected argument '%s' (select models with --select)", argv[optind]);
  struct sl_project *p = NULL;
  int rc = sl_cmd_open_project("build", dir, &p);
  if (rc) goto done;
  struct sl_err err = {0};
  struct sl_models ms = {0};
  struct sl_checks cs = {0};
  if (sl_cli_models_load(p, &ms, &cs, &err)) {
    rc = sl_cli_fail("build", &err);
    goto done;
  }
  if (!ms.n) {
    fprintf(stderr, "sluice build: no models: add .sql files under %s/\n", p->build.models);
    sl_models_fini(&ms);
    sl_checks_fini(&cs);
    rc = 2;
    goto done;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  struct sl_duck_opts dopts;
  sl_project_duck_opts(p, &dopts);
  struct sl_build_opts o = {.catalog_url = p->catalog_url,
                            .st = p->store,
                            .dopts = &dopts,
                            .iopts = &p->ingest,
                            .checks = &cs,
                            .select = sel,
                            .n_select = n_sel,
                            .full_refresh = full,
                            .threads = threads ? threads : (int)p->build.threads,
                            .quarantine_limit = p->build.quarantine_limit,
                            .incremental_file_size = p->build.incremental_file_size,
                            .copy_on_write = p->build.merge == 1,
                            .rewrite_deleted_percent = p->build.rewrite_deleted_percent,
                            .pack_small_files = p->build.pack_small_files,
                            .progress = 1,
                            .cancel = &cancel_flag};
  struct sl_build_result res;
  int brc = sl_build_run(&ms, &o, &res, &err);
  if (brc && brc != SL_EDATA) {
    rc = sl_cli_fail("build", &err);
  } else if (fmt == SL_OUT_JSON) {
    print_json(&res);
  } else {
    const char *names[] = {"model", "table", "status", "rows", "seconds", "how"};
    const enum sl_cell_kind kinds[] = {SL_CELL_TEXT, SL_CELL_TEXT, SL_CELL_TEXT, SL_CELL_NUM, SL_CELL_NUM, SL_CELL_TEXT};
    struct sl_rows out;
    sl_rows_init(&out, 6, names, kinds);
    int nfail = 0, nok = 0;
    for (size_t i = 0; i < res.n; i++) {
      const struct sl_build_model_result *r = &res.v[i];
      if (!r->m) continue;
      nfail += r->status == SL_BUILD_FAILED || r->status == SL_BUILD_CHECKS_FAILED || r->status == SL_BUILD_SKIPPED;
      nok += r->status == SL_BUILD_OK || r->status == SL_BUILD_FRESH;
      char *cells[6] = {sl_strdup(r->m->name), sl_asprintf("%s.%s", r->m->ns, r->m->name),
                        sl_strdup(sl_build_status_name(r->status)),
                        r->m->mat == SL_MAT_VIEW ? NULL : sl_asprintf("%lld", (long long)r->rows),
                        sl_asprintf("%.2f", r->seconds), sl_cell_first_line(r->message ? r->message : r->how ? r->how : "")};
      sl_rows_add(&out, cells);
    }
    sl_rows_print(stdout, &out, SL_OUT_TABLE);
    sl_rows_fini(&out);
    if (res.checks.n) {
      printf("\nchecks:\n");
      sl_cli_print_checks(&res.checks, SL_OUT_TABLE);
    }
    printf("\n%d built or fresh, %d failed or skipped, in %.2fs (run %s)\n", nok, nfail, res.seconds, res.run_id);
    if (brc) {
      for (size_t i = 0; i < res.n; i++)
        if (res.v[i].m && (res.v[i].status == SL_BUILD_FAILED || res.v[i].status == SL_BUILD_CHECKS_FAILED))
          fprintf(stderr, "sluice build: %s: %s\n", res.v[i].m->name, res.v[i].message ? res.v[i].message : "failed");
    }
  }
  if (brc == SL_EDATA) rc = 1;
  sl_build_result_fini(&res);
  sl_models_fini(&ms);
  sl_checks_fini(&cs);
done:
  for (size_t i = 0; i < n_sel; i++) sl_free(sel[i]);
  sl_free(sel);
  sl_project_free(p);
  return rc;
}
