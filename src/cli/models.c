/* models.c: a project's models and checks, loaded and resolved for build, check and
 * lineage: source() names a lake table (source('bronze', 'loan')) or a PostgreSQL
 * source of sluice.yaml (source('app', 'loans') reads what it loads into bronze), and
 * a check's table may be a model's name. */
#include "cli/models.h"

#include "cli/output.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/progress.h"

#include <stdlib.h>
#include <string.h>

static int table_exists(struct sl_catalog *cat, const char *ns, const char *t) {
  struct sl_table_info ti = {0};
  struct sl_err e;
  int ok = sl_catalog_table_get(cat, ns, t, &ti, &e) == 0;
  sl_table_info_fini(&ti);
  return ok;
}

static char *source_of(void *ctx, const char *a, const char *b, struct sl_err *err) {
  struct sl_project *p = ctx;
  for (size_t i = 0; i < p->sources.n; i++)
    if (!strcmp(p->sources.v[i].name, a))
      return sl_asprintf("bronze.%s%s", p->sources.v[i].table_prefix ? p->sources.v[i].table_prefix : "", b);
  if (!sl_catalog_name_valid(a) || !sl_catalog_name_valid(b)) {
    sl_err_set(err, SL_EINVAL, "source('%s', '%s'): not valid names", a, b);
    return NULL;
  }
  size_t n = strlen(b);
  int ok = table_exists(p->cat, a, b);
  if (!ok && n > 8 && !strcmp(b + n - 8, "_current")) {
    char *ch = sl_asprintf("%.*s_changes", (int)(n - 8), b);
    ok = ch && table_exists(p->cat, a, ch);
    sl_free(ch);
  }
  if (!ok) {
    sl_err_set(err, SL_EINVAL,
               "source('%s', '%s'): no table %s.%s in the lake and no source '%s' in sluice.yaml; ingest it first "
               "(`sluice tables` lists the lake)",
               a, b, a, b, a);
    return NULL;
  }
  return sl_asprintf("%s.%s", a, b);
}

int sl_cli_model_of(const struct sl_models *ms, const char *table) {
  int m = sl_models_find(ms, table);
  const char *dot = table ? strchr(table, '.') : NULL;
  if (m >= 0 || !dot) return m;
  m = sl_models_find(ms, dot + 1);
  return m >= 0 && !strncmp(ms->v[m].ns, table, (size_t)(dot - table)) && !ms->v[m].ns[dot - table] ? m : -1;
}

/* A relationships check of a model on another model's table runs after that model
 * is built in the same run (as its upstream), not against its previous snapshot; the
 * edges (these, and those of refs in checks' sql) must not close a cycle. */
static int check_edges(struct sl_models *ms, const struct sl_checks *cs, struct sl_err *err) {
  for (size_t i = 0; i < cs->n; i++) {
    const struct sl_check *c = &cs->v[i];
    if (!c->to_table) continue;
    int down = sl_cli_model_of(ms, c->table), up = sl_cli_model_of(ms, c->to_table);
    if (down < 0 || up < 0 || down == up) continue;
    if (sl_models_add_up(ms, (size_t)down, (size_t)up)) return sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  return sl_models_check_cycles(ms, err);
}

/* A custom check's {{ ref('m') }} and {{ source('a', 'b') }} become the lake tables
 * they name, as in a model; {{ this }} stays for the checked relation. A check of a
 * model that refs another model runs after it (its upstream). */
static int render_check_sql(struct sl_project *p, struct sl_models *ms, struct sl_check *c, struct sl_err *err) {
  if (!c->sql || !strstr(c->sql, "{")) return 0;
  char *where = sl_asprintf("%s:%d: the check's sql", c->file, c->line);
  struct sl_tpl_part *parts = NULL;
  size_t n = 0, at = 0;
  int rc = where ? sl_tpl_scan(where, c->sql, &parts, &n, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  int down = sl_cli_model_of(ms, c->table);
  struct sl_buf b;
  sl_buf_init(&b);
  for (size_t i = 0; !rc && i < n; i++) {
    const struct sl_tx *x = parts[i].expr;
    sl_buf_append(&b, c->sql + at, parts[i].start - at);
    at = parts[i].end;
    if (!x) continue; /* a comment */
    int ref = x->kind == SL_TX_CALL && !strcmp(x->s, "ref") && x->n == 1 && x->args[0]->kind == SL_TX_STR;
    int src = x->kind == SL_TX_CALL && !strcmp(x->s, "source") && x->n == 2 && x->args[0]->kind == SL_TX_STR &&
              x->args[1]->kind == SL_TX_STR;
    if (x->kind == SL_TX_NAME && !strcmp(x->s, "this")) {
      sl_buf_puts(&b, "{{ this }}");
    } else if (ref) {
      int m = sl_models_find(ms, x->args[0]->s);
      if (m < 0) {
        rc = sl_err_set(err, SL_EINVAL, "%s: ref('%s') names no model", where, x->args[0]->s);
        break;
      }
      char *t = sl_asprintf("%s.%s", ms->v[m].ns, ms->v[m].name);
      if (t) sl_buf_sql_qname(&b, t);
      sl_free(t);
      if (down >= 0 && down != m && sl_models_add_up(ms, (size_t)down, (size_t)m))
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    } else if (src) {
      char *t = source_of(p, x->args[0]->s, x->args[1]->s, err);
      if (!t) {
        rc = err->code;
        sl_err_prefix(err, "%s: ", where);
        break;
      }
      sl_buf_sql_qname(&b, t);
      sl_free(t);
    } else {
      rc = sl_err_set(err, SL_EINVAL, "%s: a check's sql may use {{ this }}, {{ ref('model') }} and "
                      "{{ source('ns', 'table') }}", where);
    }
  }
  if (!rc) {
    sl_buf_puts(&b, c->sql + at);
    sl_free(c->sql);
    c->sql = sl_buf_take(&b);
    if (!c->sql) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  sl_buf_fini(&b);
  sl_tpl_parts_free(parts, n);
  sl_free(where);
  return rc;
}

/* A table named in check c as a model's name becomes that model's ns.table; any other
 * name must already be ns.table. */
static int check_table(const struct sl_models *ms, const struct sl_check *c, char **name, const char *what,
                       struct sl_err *err) {
  int m = sl_models_find(ms, *name);
  if (m >= 0) {
    char *q = sl_asprintf("%s.%s", ms->v[m].ns, ms->v[m].name);
    if (!q) return sl_err_set(err, SL_ENOMEM, "out of memory");
    sl_free(*name);
    *name = q;
    return 0;
  }
  if (!strchr(*name, '.'))
    return sl_err_set(err, SL_EINVAL, "%s:%d: %s '%s' of check %s is neither a model nor ns.table", c->file,
                      c->line, what, *name, c->name);
  return 0;
}

int sl_cli_models_load(struct sl_project *p, struct sl_models *ms, struct sl_checks *cs, struct sl_err *err) {
  memset(cs, 0, sizeof *cs);
  int rc = sl_models_load(p->root, p->build.models, p->build.default_namespace, ms, err);
  if (rc) return rc;
  if ((rc = sl_models_resolve(ms, source_of, p, err))) goto fail;
  char *dir = sl_asprintf("%s/%s", p->root, p->build.models);
  char *cdir = sl_asprintf("%s/checks", p->root);
  rc = !dir || !cdir ? sl_err_set(err, SL_ENOMEM, "out of memory") : 0;
  if (!rc) rc = sl_checks_load_dir(dir, cs, err);
  if (!rc) rc = sl_checks_load_dir(cdir, cs, err);
  if (!rc) rc = sl_checks_load_node(&p->doc, sl_cfg_get(p->doc.root, "checks"), cs, err);
  sl_free(dir);
  sl_free(cdir);
  /* A check on a model names its output table, and so does a relationships check's
   * to:; files are named from the project. */
  size_t rl = strlen(p->root);
  for (size_t i = 0; !rc && i < cs->n; i++) {
    struct sl_check *c = &cs->v[i];
    if (!strncmp(c->file, p->root, rl) && c->file[rl] == '/') memmove(c->file, c->file + rl + 1, strlen(c->file + rl));
    rc = check_table(ms, c, &c->table, "table", err);
    if (!rc && c->to_table) rc = check_table(ms, c, &c->to_table, "relationships to:", err);
  }
  for (size_t i = 0; !rc && i < cs->n; i++) rc = render_check_sql(p, ms, &cs->v[i], err);
  if (!rc) rc = check_edges(ms, cs, err);
  if (!rc) return 0;
fail:
  sl_models_fini(ms);
  sl_checks_fini(cs);
  return rc;
}

/* The measured value as shown: a freshness age, kept in seconds in JSON, reads as a
 * duration in the table. */
static char *observed(const struct sl_check_result *r, enum sl_out_format fmt) {
  if (!r->observed) return NULL;
  if (r->check->kind != SL_CHECK_FRESHNESS || fmt != SL_OUT_TABLE) return sl_strdup(r->observed);
  char human[32];
  sl_human_duration(strtoll(r->observed, NULL, 10), human, sizeof human);
  return sl_strdup(human);
}

void sl_cli_print_checks(const struct sl_check_results *rs, enum sl_out_format fmt) {
  const char *names[] = {"table", "check", "severity", "status", "failing", "total", "observed", "message", "where"};
  const enum sl_cell_kind kinds[] = {SL_CELL_TEXT, SL_CELL_TEXT, SL_CELL_TEXT, SL_CELL_TEXT, SL_CELL_NUM,
                                     SL_CELL_NUM,  SL_CELL_TEXT, SL_CELL_TEXT, SL_CELL_TEXT};
  struct sl_rows out;
  sl_rows_init(&out, 9, names, kinds);
  for (size_t i = 0; i < rs->n; i++) {
    const struct sl_check_result *r = &rs->v[i];
    const struct sl_check *c = r->check;
    int row = c->kind < SL_CHECK_ROW_COUNT;
    char *cells[9] = {sl_strdup(r->table),
                      sl_strdup(c->name),
                      sl_strdup(c->error ? "error" : "warn"),
                      sl_strdup(sl_check_status_name(r->status)),
                      row ? sl_asprintf("%lld", (long long)r->failing) : NULL,
                      row ? sl_asprintf("%lld", (long long)r->total) : NULL,
                      observed(r, fmt),
                      r->message ? sl_strdup(r->message) : NULL,
                      sl_asprintf("%s:%d", c->file, c->line)};
    sl_rows_add(&out, cells);
  }
  sl_rows_print(stdout, &out, fmt);
  sl_rows_fini(&out);
}
