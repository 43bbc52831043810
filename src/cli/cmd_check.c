/* cmd_check.c: `sluice check`: run the checks declared for lake tables against their
 * current snapshots, print the report and keep it in audit.check_results. */
#include "cli/cmd_common.h"

#include "cli/models.h"
#include "cli/output.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/time.h"

#include <stdio.h>
#include <string.h>

static const char *usage =
    "usage: sluice check [TABLE...] [--all] [--format table|json]\n\n"
    "Runs the checks declared for the given tables (ns.table or a model's name), or for\n"
    "every table with --all (the default when no table is given), on their current\n"
    "snapshots. Checks live in .yml files under models/ and checks/, and under checks:\n"
    "in sluice.yaml. Results are appended to audit.check_results.\n\n"
    "Exit codes: 0 no error-level check failed, 1 one did (or could not run), 2 bad usage.\n";

static int wanted(const struct sl_check *c, const struct sl_models *ms, char **tables, int n) {
  if (!n) return 1;
  for (int i = 0; i < n; i++) {
    if (!strcmp(c->table, tables[i])) return 1;
    int m = sl_models_find(ms, tables[i]);
    if (m >= 0) {
      char *q = sl_asprintf("%s.%s", ms->v[m].ns, ms->v[m].name);
      int hit = q && !strcmp(q, c->table);
      sl_free(q);
      if (hit) return 1;
    }
  }
  return 0;
}

int sl_cmd_check(int argc, char **argv) {
  enum { O_ALL = 1, O_FORMAT };
  static const struct option longopts[] = {{"all", no_argument, NULL, O_ALL},
                                           {"format", required_argument, NULL, O_FORMAT},
                                           SL_LONGOPT_HELP,
                                           SL_LONGOPT_PROJECT,
                                           {NULL, 0, NULL, 0}};
  enum sl_out_format fmt = SL_OUT_TABLE;
  const char *dir = NULL;
  int all = 0, c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(usage, stdout); return 0;
    case O_ALL: all = 1; break;
    case O_FORMAT:
      if (sl_cli_parse_format(optarg, &fmt) || fmt == SL_OUT_CSV) return sl_cli_usage_error("check", "--format must be table or json");
      break;
    case SL_OPT_PROJECT_ID: dir = optarg; break;
    default: return sl_cli_usage_error("check", "bad option");
    }
  }
  if (all && optind < argc) return sl_cli_usage_error("check", "give tables or --all, not both");
  struct sl_project *p = NULL;
  int rc = sl_cmd_open_project("check", dir, &p);
  if (rc) return rc;
  struct sl_err err = {0};
  struct sl_models ms = {0};
  struct sl_checks cs = {0};
  struct sl_check_results rs = {0};
  struct sl_duck *d = NULL;
  struct sl_duck_opts dopts;
  sl_project_duck_opts(p, &dopts);
  if (sl_cli_models_load(p, &ms, &cs, &err) || sl_duck_open(NULL, &dopts, &d, &err) ||
      sl_transform_session(d, &ms, &err) || sl_sql_attach(d, p->cat, p->store, NULL, &err)) {
    rc = sl_cli_fail("check", &err);
    goto out;
  }
  int n_tables = argc - optind, run = 0;
  for (size_t i = 0; i < cs.n; i++) {
    const struct sl_check *ck = &cs.v[i];
    if (!wanted(ck, &ms, argv + optind, n_tables)) continue;
    run++;
    char *ns = NULL, *t = NULL;
    struct sl_table_info ti = {0};
    if (sl_catalog_name_split(ck->table, &ns, &t, &err) || sl_catalog_table_get(p->cat, ns, t, &ti, &err)) {
      /* A table that is not there is a failed check, not a crash. */
      struct sl_check_results one = {0};
      sl_check_run(d, ck, ck->table, "(SELECT 1 WHERE false)", &one, &err);
      if (one.n) {
        one.v[0].status = SL_CHECK_ERROR;
        sl_free(one.v[0].message);
        one.v[0].message = sl_asprintf("%s:%d: table %s does not exist; build or ingest it first", ck->file, ck->line,
                                       ck->table);
        if (!sl_array_grow(&rs.v, &rs.cap, rs.n + 1, sizeof *rs.v)) {
          rs.v[rs.n++] = one.v[0];
          one.n = 0;
        }
      }
      sl_check_results_fini(&one);
      sl_err_clear(&err);
    } else {
      struct sl_buf rel;
      sl_buf_init(&rel);
      sl_buf_sql_ident(&rel, ns);
      sl_buf_putc(&rel, '.');
      sl_buf_sql_ident(&rel, t);
      sl_check_run(d, ck, ck->table, rel.data, &rs, &err);
      sl_buf_fini(&rel);
    }
    sl_table_info_fini(&ti);
    sl_free(ns);
    sl_free(t);
  }
  if (n_tables && !run) {
    rc = sl_cli_usage_error("check", "no checks are declared for %s", argv[optind]);
    goto out;
  }
  char run_id[37];
  sl_uuid_v4(run_id);
  if (rs.n && sl_check_record(d, p->cat, p->store, &p->ingest, &rs, run_id, &err)) {
    rc = sl_cli_fail("check", &err);
    goto out;
  }
  sl_cli_print_checks(&rs, fmt);
  size_t pass = 0, warn = 0, fail = 0;
  for (size_t i = 0; i < rs.n; i++) {
    pass += rs.v[i].status == SL_CHECK_PASS;
    warn += rs.v[i].status == SL_CHECK_WARN || (rs.v[i].status == SL_CHECK_ERROR && !rs.v[i].check->error);
    fail += rs.v[i].status == SL_CHECK_FAIL || (rs.v[i].status == SL_CHECK_ERROR && rs.v[i].check->error);
  }
  if (fmt == SL_OUT_TABLE) printf("\n%zu passed, %zu warned, %zu failed\n", pass, warn, fail);
  rc = fail ? 1 : 0;
out:
  sl_check_results_fini(&rs);
  sl_duck_close(d);
  sl_models_fini(&ms);
  sl_checks_fini(&cs);
  sl_project_free(p);
  return rc;
}
