/* lakeview.c: catalog tables as DuckDB views. A view is a plain SELECT over the
 * Parquet files of one snapshot, so a query sees exactly one committed state per table
 * and nothing written by an unfinished ingest. */
#include "sql/sql.h"

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strs.h"
#include "core/time.h"

#include <ctype.h>
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

const struct sl_cfg_section sl_sql_section = {
    "sql",
    (const struct sl_opt[]){
        {"threads", SL_OPT_INT, offsetof(struct sl_sql_opts, threads), "0", 0, 1024, NULL,
         "Threads DuckDB may use; 0 uses all cores.", 0},
        {"memory_limit", SL_OPT_STR, offsetof(struct sl_sql_opts, memory_limit), "", 0, -1, NULL,
         "Memory DuckDB may use before spilling, e.g. `4GB`; empty for DuckDB's default (80% of RAM).", 0},
        {"temp_dir", SL_OPT_STR, offsetof(struct sl_sql_opts, temp_dir), "", 0, -1, NULL,
         "Folder for DuckDB's spill files, relative to the project; empty for DuckDB's default.", 0},
        {NULL, 0, 0, NULL, 0, 0, NULL, NULL, 0},
    },
    "The embedded SQL engine (DuckDB) used by `sluice sql`, ingest and builds.",
};

int sl_sql_asof_parse(const char *s, struct sl_sql_asof *out, struct sl_err *err) {
  memset(out, 0, sizeof *out);
  size_t n = strlen(s), digits = strspn(s, "0123456789");
  if (n > 0 && digits == n && n < 18) {
    out->snapshot_id = strtoll(s, NULL, 10);
    if (out->snapshot_id > 0) return 0;
  }
  if (sl_time_parse(s, &out->ts_ms) == 0) return 0;
  return sl_err_set(err, SL_EINVAL,
                    "--as-of '%s' is neither a snapshot id (see `sluice snapshots`) nor a time like 2026-01-31T12:00:00Z", s);
}

static int pick_snapshot(struct sl_catalog *cat, const struct sl_table_info *t, const struct sl_sql_asof *asof,
                         int64_t *snap, int64_t *schema_id, struct sl_err *err) {
  struct sl_snapshot *ss = NULL;
  size_t n = 0;
  *snap = 0;
  if (!asof || (!asof->snapshot_id && !asof->ts_ms)) {
    /* The current snapshot: one row, not the table's history. */
    struct sl_snapshot cur;
    if (!t->current_snapshot) return 0;
    int rc = sl_catalog_snapshot_get(cat, t->table_id, t->current_snapshot, &cur, err);
    if (!rc) *snap = cur.snapshot_id, *schema_id = cur.schema_id;
    sl_snapshot_fini(&cur);
    return rc;
  }
  int rc = sl_catalog_snapshot_list(cat, t->table_id, &ss, &n, err);
  if (rc) return rc;
  int64_t expired = 0;
  for (size_t i = 0; i < n; i++) {
    int fits = asof->snapshot_id ? ss[i].snapshot_id <= asof->snapshot_id : ss[i].ts_ms <= asof->ts_ms;
    if (fits && ss[i].snapshot_id > *snap) {
      *snap = ss[i].snapshot_id;
      *schema_id = ss[i].schema_id;
      expired = ss[i].expired_ms;
    }
  }
  sl_snapshot_list_free(ss, n);
  if (expired) {
    char when[40];
    sl_time_iso8601(expired, when, sizeof when);
    return sl_err_set(err, SL_ENOTFOUND, "%s.%s as of that point is snapshot %lld, which has expired: `sluice vacuum` "
                      "removed its files at %s (lake.retention); `sluice snapshots %s.%s` lists the ones kept",
                      t->ns, t->name, (long long)*snap, when, t->ns, t->name);
  }
  return 0;
}

static int schema_of_snapshot(struct sl_catalog *cat, const struct sl_table_info *t, int64_t snapshot_id,
                              int64_t *schema_id, struct sl_err *err) {
  struct sl_snapshot s;
  int rc = sl_catalog_snapshot_get(cat, t->table_id, snapshot_id, &s, err);
  if (rc == SL_ENOTFOUND)
    sl_err_set(err, SL_ENOTFOUND, "snapshot %lld is not a snapshot of %s.%s; `sluice snapshots %s.%s` lists them",
               (long long)snapshot_id, t->ns, t->name, t->ns, t->name);
  if (!rc) *schema_id = s.schema_id;
  sl_snapshot_fini(&s);
  return rc;
}

int sl_sql_describe(struct sl_duck *d, const char *from, struct sl_schema *out, struct sl_err *err) {
  memset(out, 0, sizeof *out);
  char *q = sl_asprintf("DESCRIBE SELECT * FROM %s", from);
  if (!q) return sl_err_set(err, SL_ENOMEM, "out of memory");
  struct sl_duck_result res;
  int rc = sl_duck_query(d, q, &res, err);
  sl_free(q);
  if (rc) return rc;
  int64_t n = sl_duck_result_rows(&res);
  out->cols = sl_calloc((size_t)n + 1, sizeof *out->cols);
  if (!out->cols) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  for (int64_t i = 0; !rc && i < n; i++) {
    struct sl_column *c = &out->cols[out->n_cols++];
    c->name = sl_duck_result_text(&res, 0, i);
    c->type = sl_duck_result_text(&res, 1, i);
    c->field_id = (int)i + 1;
    c->nullable = 1;
    if (!c->name || !c->type) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  sl_duck_result_fini(&res);
  if (rc) sl_schema_fini(out);
  return rc;
}

void sl_sql_cast_columns(struct sl_buf *b, const struct sl_schema *want, const struct sl_schema *present) {
  for (size_t c = 0; c < want->n_cols; c++) {
    sl_buf_puts(b, c ? ", CAST(" : "CAST(");
    if (!present || sl_schema_col(present, want->cols[c].name)) sl_buf_sql_ident(b, want->cols[c].name);
    else sl_buf_puts(b, "NULL");
    /* Types come from our own catalog (DuckDB type names we recorded), not from users. */
    sl_buf_printf(b, " AS %s) AS ", want->cols[c].type);
    sl_buf_sql_ident(b, want->cols[c].name);
  }
}

int sl_sql_table_select(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st,
                        const struct sl_table_info *t, int64_t snapshot_id, char **out,
                        struct sl_err *err) {
  return sl_sql_table_delta_select(d, cat, st, t, snapshot_id, 0, out, NULL, err);
}

/* Appends 'url',... of the given keys, or fails naming the key outside the lake. */
static int put_urls(struct sl_buf *b, struct sl_store *st, const char *const *keys, size_t n, struct sl_err *err) {
  for (size_t i = 0; i < n; i++) {
    char *url = sl_store_url(st, keys[i]);
    if (!url) return sl_err_set(err, SL_EINVAL, "file key '%s' is not inside the lake", keys[i]);
    if (i) sl_buf_putc(b, ',');
    sl_buf_sql_str(b, url);
    sl_free(url);
  }
  return 0;
}

char *sl_sql_files_reader(struct sl_store *st, const char *const *keys, size_t n, const struct sl_delete_file *dels,
                          size_t n_dels, struct sl_err *err) {
  const char **clean = sl_calloc(n + 1, sizeof *clean);
  size_t nc = 0, nd = 0;
  struct sl_buf b, d;
  sl_buf_init(&b);
  sl_buf_init(&d);
  int rc = clean ? 0 : sl_err_set(err, SL_ENOMEM, "out of memory");
  for (size_t i = 0; !rc && i < n; i++) {
    /* A file with delete files: its rows anti-joined with their positions. */
    size_t k = 0;
    for (size_t j = 0; !rc && j < n_dels; j++) {
      if (strcmp(dels[j].data_path, keys[i])) continue;
      if (!k++) {
        sl_buf_puts(&d, nd++ ? " UNION ALL BY NAME " : "");
        sl_buf_puts(&d, "SELECT _sl_t.* EXCLUDE (file_row_number) FROM read_parquet(");
        rc = put_urls(&d, st, &keys[i], 1, err);
        sl_buf_puts(&d, ", file_row_number=true) AS _sl_t ANTI JOIN read_parquet([");
      } else {
        sl_buf_putc(&d, ',');
      }
      if (!rc) rc = put_urls(&d, st, (const char *const *)&dels[j].path, 1, err);
    }
    if (k) sl_buf_puts(&d, "]) AS _sl_d ON _sl_t.file_row_number = _sl_d.pos");
    else clean[nc++] = keys[i];
  }
  /* The files without: one read_parquet, as a table without deletes is read. */
  if (!rc && nc) {
    sl_buf_puts(&b, nd ? "(SELECT * FROM read_parquet([" : "read_parquet([");
    rc = put_urls(&b, st, clean, nc, err);
    sl_buf_puts(&b, "], union_by_name=true)");
  }
  if (!rc && nd) sl_buf_printf(&b, "%s%s)", nc ? " UNION ALL BY NAME " : "(", d.data);
  if (!rc && !b.data) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  sl_free(clean);
  sl_buf_fini(&d);
  if (rc) sl_buf_fini(&b);
  return rc ? NULL : sl_buf_take(&b);
}

/* The files of snapshot `since` (paths in *out), as later compactions up to `upto`
 * rewrote them: a compaction whose files were all seen at or before `since` (its
 * summary's "as-of") wrote rows `since` already had, so its new files count as old
 * and the ones it removed are not gone. */
static int since_files(struct sl_catalog *cat, const struct sl_table_info *t, int64_t since, int64_t upto,
                       char ***out, size_t *n, struct sl_err *err) {
  struct sl_data_file *old = NULL;
  struct sl_snapshot *ss = NULL;
  size_t n_old = 0, ns = 0, cap = 0;
  *out = NULL;
  *n = 0;
  int rc = sl_catalog_files_at(cat, t->table_id, since, &old, &n_old, err);
  if (!rc) rc = sl_catalog_snapshot_range(cat, t->table_id, since, upto, &ss, &ns, err);
  for (size_t i = 0; !rc && i < n_old; i++) {
    if (sl_array_grow(out, &cap, *n + 1, sizeof **out) || !((*out)[*n] = sl_strdup(old[i].path)))
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    else (*n)++;
  }
  for (size_t i = 0; !rc && i < ns; i++) {
    if (strcmp(ss[i].operation, "compact")) continue; /* the range holds only (since, upto] */
    json_t *sum = ss[i].summary_json ? json_loads(ss[i].summary_json, 0, NULL) : NULL;
    json_t *as_of = json_object_get(sum, "as-of");
    int same_rows = json_is_integer(as_of) && json_integer_value(as_of) <= since;
    json_decref(sum);
    if (!same_rows) continue;
    char **add = NULL, **rem = NULL;
    size_t na = 0, nr = 0;
    if ((rc = sl_catalog_snapshot_files(cat, t->table_id, ss[i].snapshot_id, &add, &na, &rem, &nr, err))) break;
    for (size_t k = 0; k < *n;) {
      if (!sl_strs_has((const char *const *)rem, nr, (*out)[k])) {
        k++;
        continue;
      }
      sl_free((*out)[k]);
      (*out)[k] = (*out)[--(*n)];
    }
    for (size_t k = 0; !rc && k < na; k++) {
      if (sl_array_grow(out, &cap, *n + 1, sizeof **out)) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      else {
        (*out)[(*n)++] = add[k];
        add[k] = NULL;
      }
    }
    sl_str_list_free(add, na);
    sl_str_list_free(rem, nr);
  }
  sl_snapshot_list_free(ss, ns);
  sl_data_file_list_free(old, n_old);
  if (rc) {
    sl_str_list_free(*out, *n);
    *out = NULL;
    *n = 0;
  } else if (*n) {
    qsort(*out, *n, sizeof **out, sl_strs_cmp); /* for sl_strs_has */
  }
  return rc;
}

int sl_sql_table_delta_select(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st,
                              const struct sl_table_info *t, int64_t snapshot_id, int64_t since, char **out,
                              int64_t *removed, struct sl_err *err) {
  char **old = NULL;
  size_t n_old = 0;
  if (removed) *removed = 0;
  if (since && since_files(cat, t, since, snapshot_id, &old, &n_old, err)) return err->code;
  int64_t schema_id = 0;
  int rc = schema_of_snapshot(cat, t, snapshot_id, &schema_id, err);
  if (rc) return rc;
  struct sl_schema sch = {0};
  struct sl_data_file *files = NULL;
  size_t nf = 0;
  struct sl_schema present = {0};
  struct sl_delete_file *dels = NULL;
  size_t n_dels = 0;
  struct sl_buf reader, b;
  sl_buf_init(&reader);
  sl_buf_init(&b);
  if ((rc = sl_catalog_schema_get(cat, t->table_id, schema_id, &sch, err))) goto out;
  if ((rc = sl_catalog_files_at(cat, t->table_id, snapshot_id, &files, &nf, err))) goto out;
  if ((rc = sl_catalog_deletes_at(cat, t->table_id, snapshot_id, &dels, &n_dels, err))) goto out;
  if (since && removed) {
    /* Rows deleted since `since` are changes no delta of added files shows. */
    struct sl_delete_file *od = NULL;
    size_t n_od = 0;
    const char **had = NULL;
    if ((rc = sl_catalog_deletes_at(cat, t->table_id, since, &od, &n_od, err))) goto out;
    if (n_od && !(had = sl_calloc(n_od, sizeof *had))) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    for (size_t j = 0; had && j < n_od; j++) had[j] = od[j].path;
    if (had) qsort(had, n_od, sizeof *had, sl_strs_cmp);
    for (size_t i = 0; !rc && i < n_dels; i++)
      if (!sl_strs_has(had, n_od, dels[i].path)) (*removed)++;
    sl_free(had);
    sl_delete_file_list_free(od, n_od);
    if (rc) goto out;
  }
  if (since) {
    /* Keep the files added after `since`; count the ones it had that are gone. */
    size_t k = 0;
    const char **now = nf ? sl_calloc(nf, sizeof *now) : NULL;
    if (nf && !now) {
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      goto out;
    }
    for (size_t i = 0; i < nf; i++) now[i] = files[i].path;
    if (nf) qsort(now, nf, sizeof *now, sl_strs_cmp);
    for (size_t i = 0; i < n_old; i++)
      if (removed && !sl_strs_has(now, nf, old[i])) (*removed)++;
    sl_free(now);
    for (size_t i = 0; i < nf; i++) {
      if (sl_strs_has((const char *const *)old, n_old, files[i].path)) {
        sl_free(files[i].path);
        sl_free(files[i].stats_json);
        sl_free(files[i].partition);
        continue;
      }
      files[k++] = files[i];
    }
    nf = k;
  }
  if (nf) {
    const char **keys = sl_calloc(nf, sizeof *keys);
    char *r = NULL;
    for (size_t i = 0; keys && i < nf; i++) keys[i] = files[i].path;
    if (!keys) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    else if (!(r = sl_sql_files_reader(st, keys, nf, dels, n_dels, err))) rc = err->code;
    sl_free(keys);
    if (rc) {
      sl_err_prefix(err, "%s.%s: ", t->ns, t->name);
      goto out;
    }
    sl_buf_puts(&reader, r);
    sl_free(r);
    if ((rc = sl_sql_describe(d, reader.data, &present, err))) {
      sl_err_prefix(err, "read %s.%s at snapshot %lld: ", t->ns, t->name, (long long)snapshot_id);
      goto out;
    }
  }
  sl_buf_puts(&b, "SELECT ");
  sl_sql_cast_columns(&b, &sch, &present);
  if (nf) sl_buf_printf(&b, " FROM %s", reader.data);
  else sl_buf_puts(&b, " WHERE false");
  if (b.len == 0 || !b.data) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  else *out = sl_buf_take(&b);
out:
  sl_schema_fini(&present);
  sl_data_file_list_free(files, nf);
  sl_delete_file_list_free(dels, n_dels);
  sl_str_list_free(old, n_old);
  sl_schema_fini(&sch);
  sl_buf_fini(&reader);
  sl_buf_fini(&b);
  return rc;
}

/* For a CDC changelog table (<t>_changes, with the key in its summary): a view
 * <t>_current with the latest row per key, deleted rows left out and rows before the
 * last truncate forgotten: the source table's current state as of that snapshot. */
static int attach_current(struct sl_duck *d, const struct sl_table_info *t, json_t *sum, struct sl_err *err) {
  size_t len = strlen(t->name);
  if (len <= 8 || strcmp(t->name + len - 8, "_changes")) return 0;
  int rc = 0;
  json_t *key = sum ? json_object_get(sum, "cdc-key") : NULL;
  if (!json_is_array(key) || !json_array_size(key)) return 0;
  struct sl_buf b, part, src;
  sl_buf_init(&b);
  sl_buf_init(&part);
  sl_buf_init(&src);
  size_t i;
  json_t *k;
  json_array_foreach(key, i, k) {
    if (i) sl_buf_puts(&part, ", ");
    sl_buf_sql_ident(&part, json_string_value(k) ? json_string_value(k) : "");
  }
  sl_buf_sql_ident(&src, t->ns);
  sl_buf_putc(&src, '.');
  sl_buf_sql_ident(&src, t->name);
  char *cur = sl_strndup(t->name, len - 8);
  sl_buf_puts(&b, "CREATE OR REPLACE VIEW ");
  sl_buf_sql_ident(&b, t->ns);
  sl_buf_putc(&b, '.');
  char *vname = sl_asprintf("%s_current", cur ? cur : "");
  sl_buf_sql_ident(&b, vname ? vname : "");
  sl_buf_printf(&b,
                " AS SELECT * EXCLUDE (_op, _lsn, _commit_ts, _txid, _sl_rn) FROM ("
                "SELECT *, row_number() OVER (PARTITION BY %s ORDER BY _lsn DESC) AS _sl_rn FROM %s"
                " WHERE _op <> 't' AND _lsn > coalesce((SELECT max(_lsn) FROM %s WHERE _op = 't'), -1))"
                " WHERE _sl_rn = 1 AND _op <> 'd'",
                part.data, src.data, src.data);
  rc = b.data ? sl_duck_exec(d, b.data, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  sl_free(vname);
  sl_free(cur);
  sl_buf_fini(&b);
  sl_buf_fini(&part);
  sl_buf_fini(&src);
  return rc;
}

json_t *sl_sql_snapshot_summary(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id) {
  struct sl_snapshot s;
  struct sl_err e;
  json_t *sum = NULL;
  if (!snapshot_id || sl_catalog_snapshot_get(cat, table_id, snapshot_id, &s, &e)) return NULL;
  if (s.summary_json) sum = json_loads(s.summary_json, 0, NULL);
  sl_snapshot_fini(&s);
  return sum;
}

/* Creates the views of view-materialized models. A view may read another, so the
 * ones that fail are tried again while each round makes progress. A view that still
 * fails (an upstream column gone, a macro removed) is left out with a warning: the
 * rest of the lake stays queryable, and rebuilding the model makes it again. */
static void attach_views(struct sl_duck *d, char **stmts, char **names, size_t n) {
  size_t left = n;
  struct sl_err err = {0};
  while (left) {
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
      if (!stmts[i]) continue;
      if (sl_duck_exec(d, stmts[i], &err)) continue;
      sl_free(stmts[i]);
      stmts[i] = NULL;
      done++;
      left--;
    }
    if (!done) break;
  }
  for (size_t i = 0; left && i < n; i++)
    if (stmts[i] && sl_duck_exec(d, stmts[i], &err))
      sl_log(SL_LOG_WARN, "sql", "a view model's view cannot be made; fix and rebuild the model", "view", names[i],
             "error", err.msg, NULL);
}

/* The index of table ns.table in views, or -1. */
static long views_find(const struct sl_sql_views *vs, const char *ns, const char *table) {
  for (size_t i = 0; vs && i < vs->n; i++)
    if (!strcmp(vs->v[i].ns, ns) && !strcmp(vs->v[i].table, table)) return (long)i;
  return -1;
}

/* Records that ns.table's view reads snap; -1 when out of memory. */
static long views_set(struct sl_sql_views *vs, const char *ns, const char *table, int64_t snap) {
  long i = views_find(vs, ns, table);
  if (i < 0) {
    if (sl_array_grow(&vs->v, &vs->cap, vs->n + 1, sizeof *vs->v)) return -1;
    struct sl_sql_view *v = &vs->v[vs->n];
    v->ns = sl_strdup(ns);
    v->table = sl_strdup(table);
    if (!v->ns || !v->table) {
      sl_free(v->ns);
      sl_free(v->table);
      return -1;
    }
    i = (long)vs->n++;
  }
  vs->v[i].snap = snap;
  return i;
}

void sl_sql_views_fini(struct sl_sql_views *vs) {
  for (size_t i = 0; i < vs->n; i++) {
    sl_free(vs->v[i].ns);
    sl_free(vs->v[i].table);
  }
  sl_free(vs->v);
  memset(vs, 0, sizeof *vs);
}

/* views: a session's views to keep (no as-of then), or NULL to make them all. */
static int attach(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st, const struct sl_sql_asof *asof,
                  struct sl_sql_views *seen, struct sl_err *err) {
  char **nss = NULL;
  size_t nns = 0, nt = 0, n_views = 0, cap_views = 0, cap_names = 0;
  char **views = NULL, **names = NULL;
  struct sl_table_info *ts = NULL;
  struct sl_buf b;
  sl_buf_init(&b);
  /* here[i]: seen's view i is of a table the catalog still has. */
  size_t n_seen = seen ? seen->n : 0;
  char *here = sl_calloc(n_seen + 1, 1);
  int rc = here ? 0 : sl_err_set(err, SL_ENOMEM, "out of memory");
  if (!rc && !n_seen) rc = sl_duck_exec(d, "SET parquet_metadata_cache = true", err);
  if (!rc) rc = sl_catalog_ns_list(cat, &nss, &nns, err);
  for (size_t i = 0; !rc && i < nns; i++) {
    sl_buf_reset(&b);
    sl_buf_puts(&b, "CREATE SCHEMA IF NOT EXISTS ");
    sl_buf_sql_ident(&b, nss[i]);
    rc = sl_duck_exec(d, b.data, err);
  }
  if (!rc) rc = sl_catalog_table_list(cat, NULL, &ts, &nt, err);
  for (size_t i = 0; !rc && i < nt; i++) {
    int64_t snap = ts[i].current_snapshot, schema_id = 0;
    if (asof && (asof->snapshot_id || asof->ts_ms)) {
      if ((rc = pick_snapshot(cat, &ts[i], asof, &snap, &schema_id, err))) break;
    }
    if (!snap) continue;
    long at = views_find(seen, ts[i].ns, ts[i].name);
    if (at >= 0 && (size_t)at < n_seen) here[at] = 1;
    if (at >= 0 && seen->v[at].snap == snap) continue; /* its view reads this snapshot already */
    json_t *sum = sl_sql_snapshot_summary(cat, ts[i].table_id, snap);
    const char *view_sql = json_string_value(json_object_get(sum, "view-sql"));
    char *sel = NULL;
    if (!view_sql && (rc = sl_sql_table_select(d, cat, st, &ts[i], snap, &sel, err))) {
      json_decref(sum);
      break;
    }
    sl_buf_reset(&b);
    sl_buf_puts(&b, "CREATE OR REPLACE VIEW ");
    sl_buf_sql_ident(&b, ts[i].ns);
    sl_buf_putc(&b, '.');
    sl_buf_sql_ident(&b, ts[i].name);
    sl_buf_printf(&b, " AS %s", view_sql ? view_sql : sel);
    sl_free(sel);
    if (view_sql) {
      if (!sl_array_grow(&views, &cap_views, n_views + 1, sizeof *views) &&
          !sl_array_grow(&names, &cap_names, n_views + 1, sizeof *names) &&
          (names[n_views] = sl_asprintf("%s.%s", ts[i].ns, ts[i].name)))
        views[n_views++] = sl_buf_take(&b);
      else
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    } else {
      rc = sl_duck_exec(d, b.data, err);
      if (!rc) rc = attach_current(d, &ts[i], sum, err);
    }
    /* Recorded before the view-models are made below: on failure the session's views
     * are forgotten whole. */
    if (!rc && seen && views_set(seen, ts[i].ns, ts[i].name, snap) < 0)
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    json_decref(sum);
  }
  /* The views of tables that are gone are dropped. */
  for (size_t v = 0; !rc && v < n_seen; v++) {
    if (here[v] || !seen->v[v].snap) continue;
    sl_buf_reset(&b);
    sl_buf_puts(&b, "DROP VIEW IF EXISTS ");
    sl_buf_sql_ident(&b, seen->v[v].ns);
    sl_buf_putc(&b, '.');
    sl_buf_sql_ident(&b, seen->v[v].table);
    rc = sl_duck_exec(d, b.data, err);
    seen->v[v].snap = 0;
  }
  if (!rc) attach_views(d, views, names, n_views);
  if (rc && seen) sl_sql_views_fini(seen);
  for (size_t i = 0; i < n_views; i++) sl_free(views[i]), sl_free(names[i]);
  sl_free(views);
  sl_free(names);
  sl_free(here);
  sl_table_list_free(ts, nt);
  sl_str_list_free(nss, nns);
  sl_buf_fini(&b);
  return rc;
}

int sl_sql_attach(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st, const struct sl_sql_asof *asof,
                  struct sl_err *err) {
  return attach(d, cat, st, asof, NULL, err);
}

int sl_sql_attach_again(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st, struct sl_sql_views *views,
                        struct sl_err *err) {
  return attach(d, cat, st, NULL, views, err);
}
