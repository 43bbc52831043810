/* compile.c: a model's final SQL, what `sluice compile` prints (dbt's compile). Each
 * ref() and source() is replaced by the relation DuckDB reads: by default the Parquet
 * files of the table's current snapshot with that snapshot's columns (the very SELECT
 * the lake's view of the table runs), a published view's SQL for a view, and the name
 * for what has no files of its own (a CDC <t>_current view); or, asked for names, the
 * quoted "namespace"."table" everywhere. */
#include "transform/transform.h"

#include "core/buf.h"
#include "core/mem.h"
#include "sql/sql.h"

#include <jansson.h>
#include <string.h>

static char *qualified_name(const char *qualified) {
  struct sl_buf b;
  sl_buf_init(&b);
  sl_buf_sql_qname(&b, qualified);
  return sl_buf_take(&b);
}

/* The view SQL a published view's current snapshot carries, or NULL. */
static char *view_sql(struct sl_catalog *cat, const struct sl_table_info *t) {
  json_t *sum = sl_sql_snapshot_summary(cat, t->table_id, t->current_snapshot);
  const char *v = json_string_value(json_object_get(sum, "view-sql"));
  char *out = v ? sl_strdup(v) : NULL;
  json_decref(sum);
  return out;
}

int sl_model_input_sql(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st, const char *qualified,
                       char **out, struct sl_err *err) {
  *out = NULL;
  char *ns = NULL, *t = NULL;
  struct sl_table_info ti = {0};
  int rc = sl_catalog_name_split(qualified, &ns, &t, err);
  if (!rc) rc = sl_catalog_table_get(cat, ns, t, &ti, err);
  if (rc == SL_ENOTFOUND) {
    sl_err_clear(err);
    rc = 0;
  } else if (!rc && ti.current_snapshot) {
    char *v = view_sql(cat, &ti);
    if (v) {
      *out = sl_asprintf("(\n%s\n)", v);
      if (!*out) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    } else {
      char *sel = NULL;
      rc = sl_sql_table_select(d, cat, st, &ti, ti.current_snapshot, &sel, err);
      if (!rc) {
        *out = sl_asprintf("(%s)", sel);
        if (!*out) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      }
      sl_free(sel);
    }
    sl_free(v);
  }
  sl_table_info_fini(&ti);
  sl_free(ns);
  sl_free(t);
  return rc;
}

int sl_model_compile(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st, const struct sl_models *ms,
                     const struct sl_model *m, int by_name, char **sql, struct sl_err *err) {
  *sql = NULL;
  char **rel = sl_calloc(m->n_deps + 1, sizeof *rel);
  char *self = sl_asprintf("%s.%s", m->ns, m->name);
  char *this_rel = self ? qualified_name(self) : NULL;
  sl_free(self);
  int rc = rel && this_rel ? 0 : sl_err_set(err, SL_ENOMEM, "out of memory");
  for (size_t i = 0; !rc && i < m->n_deps; i++) {
    if (!by_name && (rc = sl_model_input_sql(d, cat, st, m->deps[i].table, &rel[i], err))) {
      sl_err_prefix(err, "%s:%d: ", m->path, m->deps[i].line);
      break;
    }
    if (!rel[i] && !(rel[i] = qualified_name(m->deps[i].table))) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  if (!rc) {
    struct sl_render r = {ms, m, rel, this_rel, d};
    rc = sl_model_render(&r, sql, err);
  }
  for (size_t i = 0; rel && i < m->n_deps; i++) sl_free(rel[i]);
  sl_free(rel);
  sl_free(this_rel);
  return rc;
}

int sl_models_order(const struct sl_models *ms, size_t *order) {
  unsigned char *done = sl_calloc(ms->n + 1, 1);
  if (!done) return SL_ENOMEM;
  size_t k = 0;
  for (int progress = 1; progress && k < ms->n;) {
    progress = 0;
    for (size_t i = 0; i < ms->n; i++) {
      if (done[i]) continue;
      int ready = 1;
      for (size_t u = 0; u < ms->v[i].n_up && ready; u++) ready = done[ms->v[i].up[u]];
      if (!ready) continue;
      done[i] = 1;
      order[k++] = i;
      progress = 1;
    }
  }
  sl_free(done);
  return k == ms->n ? 0 : SL_EINVAL;
}
