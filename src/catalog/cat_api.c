/* cat_api.c: the catalog's public functions: open by URL, dispatch to the backend,
 * name rules, and freeing what the catalog returns. */
#include "catalog/catalog.h"

#include "core/metrics.h"
#include "core/mem.h"

#include <string.h>

extern const struct sl_catalog_ops sl_catalog_sqlite_ops;

int sl_catalog_open(const char *url, struct sl_catalog **out, struct sl_err *err) {
  const struct sl_catalog_ops *ops = NULL;
  const char *arg = url;
  size_t n = strlen(url);
  if (!strncmp(url, "sqlite:", 7)) {
    ops = &sl_catalog_sqlite_ops;
    arg = url + 7;
  } else if (!strstr(url, "://") && ((n > 3 && !strcmp(url + n - 3, ".db")) || (n > 7 && !strcmp(url + n - 7, ".sqlite")))) {
    ops = &sl_catalog_sqlite_ops;
  }
  if (!ops)
    return sl_err_set(err, SL_ECONFIG, "catalog url '%s': unknown kind; use sqlite:PATH (PostgreSQL catalogs are planned)", url);
  if (!*arg) return sl_err_set(err, SL_ECONFIG, "catalog url '%s' names no file", url);
  struct sl_catalog *cat = sl_calloc(1, sizeof *cat);
  if (!cat) return sl_err_set(err, SL_ENOMEM, "out of memory");
  cat->ops = ops;
  cat->url = sl_strdup(url);
  int rc = cat->url ? ops->open(cat, arg, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  if (rc) {
    sl_free(cat->url);
    sl_free(cat);
    return rc;
  }
  *out = cat;
  return 0;
}

void sl_catalog_close(struct sl_catalog *cat) {
  if (!cat) return;
  cat->ops->close(cat);
  sl_free(cat->url);
  sl_free(cat);
}

static int check_name(const char *what, const char *name, struct sl_err *err) {
  if (sl_catalog_name_valid(name)) return 0;
  return sl_err_set(err, SL_EINVAL, "%s name '%s' is not valid: use letters, digits and '_', starting with a letter or '_' (at most 63)",
                    what, name);
}

int sl_catalog_ns_create(struct sl_catalog *cat, const char *ns, struct sl_err *err) {
  return check_name("namespace", ns, err) ? err->code : cat->ops->ns_create(cat, ns, err);
}
int sl_catalog_ns_list(struct sl_catalog *cat, char ***out, size_t *n, struct sl_err *err) {
  return cat->ops->ns_list(cat, out, n, err);
}
int sl_catalog_table_get(struct sl_catalog *cat, const char *ns, const char *name, struct sl_table_info *out,
                         struct sl_err *err) {
  return cat->ops->table_get(cat, ns, name, out, err);
}
int sl_catalog_table_list(struct sl_catalog *cat, const char *ns, struct sl_table_info **out, size_t *n,
                          struct sl_err *err) {
  return cat->ops->table_list(cat, ns, out, n, err);
}
int sl_catalog_table_drop(struct sl_catalog *cat, const char *ns, const char *name, struct sl_err *err) {
  return cat->ops->table_drop(cat, ns, name, err);
}
int sl_catalog_schema_get(struct sl_catalog *cat, int64_t table_id, int64_t schema_id, struct sl_schema *out,
                          struct sl_err *err) {
  return cat->ops->schema_get(cat, table_id, schema_id, out, err);
}
int sl_catalog_snapshot_list(struct sl_catalog *cat, int64_t table_id, struct sl_snapshot **out, size_t *n,
                             struct sl_err *err) {
  return sl_catalog_snapshot_range(cat, table_id, 0, INT64_MAX, out, n, err);
}
int sl_catalog_snapshot_at(struct sl_catalog *cat, int64_t table_id, int64_t ts_ms, int64_t *snapshot_id,
                           struct sl_err *err) {
  return cat->ops->snapshot_at(cat, table_id, ts_ms, snapshot_id, err);
}
int sl_catalog_files_at(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id, struct sl_data_file **out,
                        size_t *n, struct sl_err *err) {
  return cat->ops->files_at(cat, table_id, snapshot_id, out, n, err);
}

int sl_catalog_deletes_at(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id, struct sl_delete_file **out,
                          size_t *n, struct sl_err *err) {
  return cat->ops->deletes_at(cat, table_id, snapshot_id, out, n, err);
}

int sl_catalog_commit(struct sl_catalog *cat, const struct sl_commit *c, int64_t *snapshot_id, struct sl_err *err) {
  if (check_name("namespace", c->ns, err) || check_name("table", c->table, err)) return err->code;
  if (!c->schema || !c->schema->n_cols)
    return sl_err_set(err, SL_EINVAL, "commit to %s.%s: a snapshot needs a schema with at least one column", c->ns, c->table);
  for (size_t i = 0; i < c->n_add; i++)
    if (!c->add[i].path || !*c->add[i].path || c->add[i].rows < 0)
      return sl_err_set(err, SL_EINVAL, "commit to %s.%s: data file %zu has no path or negative rows", c->ns, c->table, i);
  for (size_t i = 0; i < c->n_add_deletes; i++)
    if (!c->add_deletes[i].path || !*c->add_deletes[i].path || !c->add_deletes[i].data_path || c->add_deletes[i].rows < 0)
      return sl_err_set(err, SL_EINVAL, "commit to %s.%s: delete file %zu has no path, no data file or negative rows",
                        c->ns, c->table, i);
  int rc = cat->ops->commit(cat, c, snapshot_id, err);
  if (!rc || rc == SL_ECONFLICT) sl_metric_counter_add(rc ? "sluice_catalog_conflicts_total" : "sluice_catalog_commits_total", NULL, 1);
  return rc;
}

int sl_catalog_expire(struct sl_catalog *cat, int64_t table_id, const int64_t *ids, size_t n_ids, int64_t now_ms, int dry_run,
                      struct sl_data_file **gone, size_t *n_gone, struct sl_err *err) {
  return cat->ops->expire(cat, table_id, ids, n_ids, now_ms, dry_run, gone, n_gone, err);
}

int sl_catalog_paths(struct sl_catalog *cat, int64_t table_id, char ***out, size_t *n, struct sl_err *err) {
  return cat->ops->paths(cat, table_id, out, n, err);
}

int sl_catalog_snapshot_range(struct sl_catalog *cat, int64_t table_id, int64_t after, int64_t upto,
                              struct sl_snapshot **out, size_t *n, struct sl_err *err) {
  *out = NULL;
  *n = 0;
  return cat->ops->snapshot_range(cat, table_id, after, upto, out, n, err);
}

int sl_catalog_snapshot_get(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id, struct sl_snapshot *out,
                            struct sl_err *err) {
  memset(out, 0, sizeof *out);
  return cat->ops->snapshot_get(cat, table_id, snapshot_id, out, err);
}

int sl_catalog_snapshot_files(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id, char ***added,
                              size_t *n_added, char ***removed, size_t *n_removed, struct sl_err *err) {
  return cat->ops->snapshot_files(cat, table_id, snapshot_id, added, n_added, removed, n_removed, err);
}

int sl_catalog_name_is(const char *qualified, const char *ns, const char *name) {
  size_t ln = strlen(ns);
  return !strncmp(qualified, ns, ln) && qualified[ln] == '.' && !strcmp(qualified + ln + 1, name);
}

int sl_catalog_names_select(const char *const *names, size_t n, const char *ns, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (sl_catalog_name_is(names[i], ns, name)) return 1;
  return n == 0;
}

int sl_catalog_names_known(const struct sl_table_info *ts, size_t nt, const char *const *names, size_t n,
                           const char *cmd, struct sl_err *err) {
  for (size_t i = 0; i < n; i++) {
    int found = 0;
    for (size_t k = 0; k < nt && !found; k++) found = sl_catalog_name_is(names[i], ts[k].ns, ts[k].name);
    if (!found) return sl_err_set(err, SL_ENOTFOUND, "%s: no table %s in the lake; `sluice tables` lists them", cmd, names[i]);
  }
  return 0;
}

int sl_catalog_name_valid(const char *name) {
  if (!name || !*name || strlen(name) > 63) return 0;
  if (!((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') || *name == '_')) return 0;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) return 0;
  return 1;
}

int sl_catalog_name_split(const char *q, char **ns, char **table, struct sl_err *err) {
  const char *dot = strchr(q, '.');
  if (!dot || strchr(dot + 1, '.'))
    return sl_err_set(err, SL_EINVAL, "'%s' is not a table name of the form namespace.table (e.g. bronze.trips)", q);
  char *a = sl_strndup(q, (size_t)(dot - q)), *b = sl_strdup(dot + 1);
  if (!a || !b) {
    sl_free(a);
    sl_free(b);
    return sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  if (check_name("namespace", a, err) || check_name("table", b, err)) {
    sl_free(a);
    sl_free(b);
    return err->code;
  }
  *ns = a;
  *table = b;
  return 0;
}

const struct sl_column *sl_schema_col(const struct sl_schema *s, const char *name) {
  for (size_t c = 0; s && c < s->n_cols; c++)
    if (!strcmp(s->cols[c].name, name)) return &s->cols[c];
  return NULL;
}

int sl_schema_same(const struct sl_schema *a, const struct sl_schema *b) {
  if (a->n_cols != b->n_cols) return 0;
  for (size_t i = 0; i < a->n_cols; i++)
    if (strcmp(a->cols[i].name, b->cols[i].name) || strcmp(a->cols[i].type, b->cols[i].type)) return 0;
  return 1;
}

void sl_schema_fini(struct sl_schema *s) {
  if (!s) return;
  for (size_t i = 0; s->cols && i < s->n_cols; i++) {
    sl_free(s->cols[i].name);
    sl_free(s->cols[i].type);
  }
  sl_free(s->cols);
  memset(s, 0, sizeof *s);
}

void sl_table_info_fini(struct sl_table_info *t) {
  if (!t) return;
  sl_free(t->ns);
  sl_free(t->name);
  memset(t, 0, sizeof *t);
}

void sl_table_list_free(struct sl_table_info *t, size_t n) {
  for (size_t i = 0; t && i < n; i++) sl_table_info_fini(&t[i]);
  sl_free(t);
}

void sl_snapshot_fini(struct sl_snapshot *s) {
  sl_free(s->operation);
  sl_free(s->summary_json);
  memset(s, 0, sizeof *s);
}

void sl_snapshot_list_free(struct sl_snapshot *s, size_t n) {
  for (size_t i = 0; s && i < n; i++) sl_snapshot_fini(&s[i]);
  sl_free(s);
}

void sl_data_file_list_free(struct sl_data_file *f, size_t n) {
  for (size_t i = 0; f && i < n; i++) {
    sl_free(f[i].path);
    sl_free(f[i].stats_json);
    sl_free(f[i].partition);
  }
  sl_free(f);
}

void sl_delete_file_list_free(struct sl_delete_file *f, size_t n) {
  for (size_t i = 0; f && i < n; i++) {
    sl_free(f[i].path);
    sl_free(f[i].data_path);
  }
  sl_free(f);
}

void sl_str_list_free(char **s, size_t n) {
  for (size_t i = 0; s && i < n; i++) sl_free(s[i]);
  sl_free(s);
}
