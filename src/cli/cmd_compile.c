/* cmd_compile.c: `sluice compile`: print each selected model's final SQL, refs and
 * sources resolved to what DuckDB reads (the current snapshot's Parquet files, or
 * the tables' names with --refs names), in dependency order, with the helper macros
 * a DuckDB connection needs to run it. Nothing is built. */
#include "cli/cmd_common.h"

#include "cli/models.h"
#include "core/buf.h"
#include "core/mem.h"
#include "sql/sql.h"

#include <stdio.h>
#include <string.h>

static const char *usage =
    "usage: sluice compile [--select SEL]... [--refs files|names] [--format sql|json]\n\n"
    "Prints the SQL each selected model runs, in dependency order, without building\n"
    "anything: the model's text with its {{ }} parts rendered (config removed, one_hot\n"
    "expanded from the data). Each ref() and source() becomes what DuckDB reads: the\n"
    "Parquet files of the table's current snapshot (--refs files, the default) or the\n"
    "table's quoted name (--refs names, to run the models against views of your own).\n"
    "The sql format starts with the helper macros (log1p, robust_scale, ... and the\n"
    "project's macros/) so the output runs as is in DuckDB.\n\n"
    "  --select SEL   name, +name, name+, tag:x or path:models/dir (as in build)\n"
    "  --refs R       files (default) or names\n"
    "  --format F     sql (default) or json: {\"macros\", \"models\": [{\"model\", \"table\",\n"
    "                 \"materialized\", \"path\", \"unique_key\", \"inputs\": [{\"table\",\n"
    "                 \"model\", \"sql\"}], \"sql\"}]}\n\n"
    "Exit codes: 0 printed, 1 a model could not be rendered, 2 bad usage or config.\n";

static void json_model(struct sl_buf *b, struct sl_duck *d, struct sl_project *p, const struct sl_model *m,
                       const char *sql) {
  sl_buf_puts(b, "{\"model\":");
  sl_buf_json_str(b, m->name);
  sl_buf_printf(b, ",\"table\":\"%s.%s\",\"materialized\":\"%s\",\"path\":", m->ns, m->name,
                m->mat == SL_MAT_VIEW ? "view" : m->mat == SL_MAT_TABLE ? "table" : "incremental");
  sl_buf_json_str(b, m->path);
  sl_buf_puts(b, ",\"unique_key\":[");
  for (size_t k = 0; k < m->n_key; k++) {
    if (k) sl_buf_putc(b, ',');
    sl_buf_json_str(b, m->key[k]);
  }
  sl_buf_puts(b, "],\"inputs\":[");
  for (size_t i = 0; i < m->n_deps; i++) {
    int dup = 0;
    for (size_t j = 0; j < i && !dup; j++) dup = !strcmp(m->deps[j].table, m->deps[i].table);
    if (dup) continue;
    if (b->data[b->len - 1] != '[') sl_buf_putc(b, ',');
    sl_buf_puts(b, "{\"table\":");
    sl_buf_json_str(b, m->deps[i].table);
    sl_buf_puts(b, ",\"model\":");
    if (m->deps[i].model) sl_buf_json_str(b, m->deps[i].model);
    else sl_buf_puts(b, "null");
    char *in = NULL;
    struct sl_err e = {0};
    sl_buf_puts(b, ",\"sql\":");
    if (!sl_model_input_sql(d, p->cat, p->store, m->deps[i].table, &in, &e) && in) sl_buf_json_str(b, in);
    else sl_buf_puts(b, "null");
    sl_free(in);
    sl_buf_putc(b, '}');
  }
  sl_buf_puts(b, "],\"sql\":");
  sl_buf_json_str(b, sql);
  sl_buf_putc(b, '}');
}

int sl_cmd_compile(int argc, char **argv) {
  enum { O_SELECT = 1, O_REFS, O_FORMAT };
  static const struct option longopts[] = {{"select", required_argument, NULL, O_SELECT},
                                           {"refs", required_argument, NULL, O_REFS},
                                           {"format", required_argument, NULL, O_FORMAT},
                                           SL_LONGOPT_HELP,
                                           SL_LONGOPT_PROJECT,
                                           {NULL, 0, NULL, 0}};
  const char *dir = NULL;
  char **sel = NULL;
  size_t n_sel = 0;
  int by_name = 0, json = 0, c, rc = 0;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(usage, stdout); return 0;
    case O_SELECT: sl_cmd_select_add(optarg, &sel, &n_sel); break;
    case O_REFS:
      if (strcmp(optarg, "files") && strcmp(optarg, "names")) {
        rc = sl_cli_usage_error("compile", "--refs must be files or names");
        goto done;
      }
      by_name = !strcmp(optarg, "names");
      break;
    case O_FORMAT:
      if (strcmp(optarg, "sql") && strcmp(optarg, "json")) {
        rc = sl_cli_usage_error("compile", "--format must be sql or json");
        goto done;
      }
      json = !strcmp(optarg, "json");
      break;
    case SL_OPT_PROJECT_ID: dir = optarg; break;
    default: rc = sl_cli_usage_error("compile", "bad option"); goto done;
    }
  }
  if (optind < argc) {
    rc = sl_cli_usage_error("compile", "unexpected argument '%s' (select models with --select)", argv[optind]);
    goto done;
  }
  struct sl_project *p = NULL;
  if ((rc = sl_cmd_open_project("compile", dir, &p))) goto done;
  struct sl_err err = {0};
  struct sl_models ms = {0};
  struct sl_checks cs = {0};
  struct sl_duck *d = NULL;
  struct sl_duck_opts dopts;
  sl_project_duck_opts(p, &dopts);
  unsigned char *picked = NULL;
  size_t *order = NULL;
  struct sl_buf b;
  sl_buf_init(&b);
  if (sl_cli_models_load(p, &ms, &cs, &err) || sl_duck_open(NULL, &dopts, &d, &err) ||
      sl_transform_session(d, &ms, &err) || sl_sql_attach(d, p->cat, p->store, NULL, &err)) {
    rc = sl_cli_fail("compile", &err);
    goto out;
  }
  picked = sl_calloc(ms.n + 1, 1);
  order = sl_calloc(ms.n + 1, sizeof *order);
  if (!picked || !order) {
    sl_err_set(&err, SL_ENOMEM, "out of memory");
    rc = sl_cli_fail("compile", &err);
    goto out;
  }
  if (sl_models_select(&ms, sel, n_sel, picked, &err)) {
    fprintf(stderr, "sluice compile: %s\n", err.msg);
    rc = 2;
    goto out;
  }
  sl_models_order(&ms, order);
  if (json) {
    sl_buf_puts(&b, "{\"macros\":");
    char *all = sl_asprintf("%s%s", sl_transform_macros, ms.macros ? ms.macros : "");
    sl_buf_json_str(&b, all ? all : "");
    sl_free(all);
    sl_buf_puts(&b, ",\"models\":[");
  } else {
    sl_buf_printf(&b, "-- helper macros\n%s%s\n", sl_transform_macros, ms.macros ? ms.macros : "");
  }
  int first = 1;
  for (size_t k = 0; k < ms.n; k++) {
    const struct sl_model *m = &ms.v[order[k]];
    if (!picked[order[k]]) continue;
    char *sql = NULL;
    if (sl_model_compile(d, p->cat, p->store, &ms, m, by_name, &sql, &err)) {
      rc = sl_cli_fail("compile", &err);
      goto out;
    }
    if (json) {
      if (!first) sl_buf_putc(&b, ',');
      json_model(&b, d, p, m, sql);
    } else {
      sl_buf_printf(&b, "\n-- %s.%s (%s) from %s\n%s;\n", m->ns, m->name,
                    m->mat == SL_MAT_VIEW ? "view" : m->mat == SL_MAT_TABLE ? "table" : "incremental", m->path, sql);
    }
    first = 0;
    sl_free(sql);
  }
  if (json) sl_buf_puts(&b, "]}\n");
  fputs(b.data ? b.data : "", stdout);
out:
  sl_buf_fini(&b);
  sl_free(picked);
  sl_free(order);
  sl_duck_close(d);
  sl_models_fini(&ms);
  sl_checks_fini(&cs);
  sl_project_free(p);
done:
  for (size_t i = 0; i < n_sel; i++) sl_free(sel[i]);
  sl_free(sel);
  return rc;
}
