/* stage.c: writing a query's result into a table's data folder as staged Parquet
 * files that no snapshot references yet, and publishing or discarding them. Ingest,
 * builds (write-audit-publish) and the check results all write through here. */
#include "ingest/ingest.h"

#include "core/buf.h"
#include "core/mem.h"
#include "core/log.h"
#include "core/time.h"
#include "sql/sql.h"
#include "ingest/ingest_int.h"

#include <string.h>


void sl_ingest_written_free(struct sl_ingest_written *w) {
  for (size_t i = 0; i < w->n; i++) {
    sl_free(w->keys[i]);
    sl_free(w->urls[i]);
    if (w->stats) sl_free(w->stats[i]);
    if (w->partition) sl_free(w->partition[i]);
  }
  sl_free(w->partition);
  sl_free(w->keys);
  sl_free(w->urls);
  sl_free(w->stats);
  sl_free(w->rows);
  sl_free(w->bytes);
  memset(w, 0, sizeof *w);
}

/* Removes every file this ingest wrote, found by its UUID prefix: after a failed or
 * interrupted COPY, DuckDB may have left files that it never reported. */
void sl_ingest_written_remove(struct sl_store *st, const char *prefix, const char *uuid) {
  struct sl_err e;
  char **keys = NULL;
  size_t n = 0;
  char *mine = sl_asprintf("%s_", uuid);
  if (mine && !sl_store_list(st, prefix, &keys, &n, &e))
    for (size_t i = 0; i < n; i++) {
      /* <prefix>/<uuid>_n.parquet, or <prefix>/<col>=<value>/<uuid>_n.parquet */
      const char *base = strrchr(keys[i], '/');
      base = base ? base + 1 : keys[i];
      if (!strncmp(keys[i], prefix, strlen(prefix)) && !strncmp(base, mine, strlen(mine))) sl_store_del(st, keys[i], &e);
    }
  sl_str_list_free(keys, n);
  sl_free(mine);
}

/* Runs the COPY and collects what it wrote. */
static int hexval(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* {"col":"value"} from a partitioned file's key <prefix>/<col>=<value>/<file>, the value
 * percent-decoded as DuckDB encodes it; NULL if the key has no such folder. */
static char *partition_of(const char *key, const char *prefix, const char *col) {
  size_t pl = strlen(prefix), cl = strlen(col);
  if (strncmp(key, prefix, pl) || key[pl] != '/' || strncmp(key + pl + 1, col, cl) || key[pl + 1 + cl] != '=') return NULL;
  const char *v = key + pl + 2 + cl, *end = strchr(v, '/');
  if (!end) return NULL;
  struct sl_buf val, js;
  sl_buf_init(&val);
  sl_buf_init(&js);
  for (const char *p = v; p < end; p++) {
    int hi = end - p >= 3 ? hexval(p[1]) : -1, lo = end - p >= 3 ? hexval(p[2]) : -1;
    if (*p == '%' && hi >= 0 && lo >= 0) {
      sl_buf_putc(&val, (char)(hi * 16 + lo));
      p += 2;
    } else {
      sl_buf_putc(&val, *p);
    }
  }
  sl_buf_putc(&js, '{');
  sl_buf_json_str(&js, col);
  sl_buf_putc(&js, ':');
  sl_buf_json_str(&js, val.data ? val.data : "");
  sl_buf_putc(&js, '}');
  sl_buf_fini(&val);
  return sl_buf_take(&js);
}

int sl_ingest_copy_out(struct sl_duck *d, struct sl_store *st, const struct sl_ingest_opts *opts, const char *select,
                    const char *prefix, const char *uuid, const char *partition, struct sl_ingest_written *w,
                    struct sl_err *err) {
  char *dir = sl_store_url(st, prefix);
  char *pattern = sl_asprintf("%s_{i}", uuid);
  struct sl_buf q;
  sl_buf_init(&q);
  int rc = 0;
  if (!dir || !pattern) {
    rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    goto out;
  }
  sl_buf_printf(&q, "COPY (%s) TO ", select);
  sl_buf_sql_str(&q, dir);
  sl_buf_printf(&q, " (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL %lld, ROW_GROUP_SIZE %lld, ",
                (long long)opts->compression_level, (long long)opts->row_group_size);
  /* DuckDB cannot split partitioned output by size: one file per partition then. */
  if (!partition) sl_buf_printf(&q, "FILE_SIZE_BYTES %lld, ", (long long)opts->target_file_size);
  sl_buf_puts(&q, "FILENAME_PATTERN ");
  sl_buf_sql_str(&q, pattern);
  if (partition) {
    sl_buf_puts(&q, ", PARTITION_BY (");
    sl_buf_sql_ident(&q, partition);
    sl_buf_puts(&q, "), WRITE_PARTITION_COLUMNS true");
  }
  if (sl_buf_puts(&q, ", OVERWRITE_OR_IGNORE, RETURN_STATS)")) {
    rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    goto out;
  }
  struct sl_duck_result res;
  if ((rc = sl_duck_query(d, q.data, &res, err))) goto out;
  int64_t n = sl_duck_result_rows(&res);
  w->keys = sl_calloc((size_t)n + 1, sizeof *w->keys);
  w->urls = sl_calloc((size_t)n + 1, sizeof *w->urls);
  w->rows = sl_calloc((size_t)n + 1, sizeof *w->rows);
  w->bytes = sl_calloc((size_t)n + 1, sizeof *w->bytes);
  w->partition = sl_calloc((size_t)n + 1, sizeof *w->partition);
  if (!w->keys || !w->urls || !w->rows || !w->bytes || !w->partition) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  for (int64_t i = 0; !rc && i < n; i++) {
    char *fname = sl_duck_result_text(&res, 0, i);
    w->urls[w->n] = fname;
    w->keys[w->n] = fname ? sl_store_key_of(st, fname) : NULL;
    w->rows[w->n] = duckdb_value_int64(&res.r, 1, (idx_t)i);
    w->bytes[w->n] = duckdb_value_int64(&res.r, 2, (idx_t)i);
    w->n++;
    if (!fname || !w->keys[w->n - 1])
      rc = sl_err_set(err, SL_EINTERNAL, "DuckDB wrote %s outside the table folder %s", fname ? fname : "?", dir);
    else if (partition && !(w->partition[w->n - 1] = partition_of(w->keys[w->n - 1], prefix, partition)))
      rc = sl_err_set(err, SL_EINTERNAL, "DuckDB wrote %s outside a %s=<value> folder", fname, partition);
  }
  sl_duck_result_fini(&res);
out:
  sl_buf_fini(&q);
  sl_free(dir);
  sl_free(pattern);
  return rc;
}

/* The staged output's folder and file-name stem. */
static int stage_begin(const char *ns, const char *table, struct sl_ingest_stage *out, struct sl_err *err) {
  memset(out, 0, sizeof *out);
  out->prefix = sl_lake_table_data_prefix(ns, table);
  if (!out->prefix) return sl_err_set(err, SL_ENOMEM, "out of memory");
  if (sl_uuid_v4(out->uuid)) return sl_err_set(err, SL_EIO, "cannot read /dev/urandom for a file name");
  return 0;
}

/* Writes select's rows as the stage's files, counts them, and makes room for each
 * file's statistics (filled by the caller). */
static int stage_write(struct sl_duck *d, struct sl_store *st, const struct sl_ingest_opts *opts, const char *select,
                       const char *partition_col, struct sl_ingest_stage *out, struct sl_err *err) {
  int rc = sl_store_prepare(st, out->prefix, err);
  if (!rc) rc = sl_ingest_copy_out(d, st, opts, select, out->prefix, out->uuid, partition_col, &out->w, err);
  for (size_t i = 0; i < out->w.n; i++) {
    out->rows += out->w.rows[i];
    out->bytes += out->w.bytes[i];
  }
  if (!rc) {
    out->w.stats = sl_calloc(out->w.n + 1, sizeof *out->w.stats);
    if (!out->w.stats) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  return rc;
}

int sl_ingest_stage_query(struct sl_duck *d, struct sl_store *st, const struct sl_ingest_opts *opts, const char *ns,
                          const char *table, const char *select, struct sl_ingest_stage *out, struct sl_err *err) {
  return sl_ingest_stage_query_by(d, st, opts, ns, table, select, NULL, out, err);
}

int sl_ingest_stage_query_by(struct sl_duck *d, struct sl_store *st, const struct sl_ingest_opts *opts, const char *ns,
                             const char *table, const char *select, const char *partition_col,
                             struct sl_ingest_stage *out, struct sl_err *err) {
  int rc = stage_begin(ns, table, out, err);
  if (rc) return rc;
  char *from = sl_asprintf("(%s)", select);
  if (!from) return sl_err_set(err, SL_ENOMEM, "out of memory");
  rc = sl_sql_describe(d, from, &out->schema, err);
  sl_free(from);
  if (!rc) rc = stage_write(d, st, opts, select, partition_col, out, err);
  if (!rc && out->w.n) rc = sl_ingest_file_stats(d, &out->schema, out->w.urls, out->w.n, out->w.stats, err);
  if (!rc) rc = sl_store_sync(st, (const char *const *)out->w.keys, out->w.n, err);
  if (rc) sl_ingest_stage_discard(st, out);
  return rc;
}

/* {"col":{"nulls":N,"min":"..","max":".."},...} of a whole result, in one aggregate. */
static int result_stats(struct sl_duck *d, const struct sl_schema *s, const char *select, char **out,
                        struct sl_err *err) {
  struct sl_buf q, js;
  sl_buf_init(&q);
  sl_buf_init(&js);
  sl_buf_puts(&q, "SELECT count(*)");
  for (size_t c = 0; c < s->n_cols; c++) {
    sl_buf_puts(&q, ", count(");
    sl_buf_sql_ident(&q, s->cols[c].name);
    sl_buf_puts(&q, ")");
    int plain = !strchr(s->cols[c].type, '[') && strncmp(s->cols[c].type, "STRUCT", 6) &&
                strncmp(s->cols[c].type, "MAP", 3) && strncmp(s->cols[c].type, "UNION", 5);
    for (int a = 0; a < 2; a++) {
      if (!plain) {
        sl_buf_puts(&q, ", NULL");
        continue;
      }
      sl_buf_puts(&q, a ? ", max(" : ", min(");
      sl_buf_sql_ident(&q, s->cols[c].name);
      sl_buf_puts(&q, ")::VARCHAR");
    }
  }
  sl_buf_printf(&q, " FROM (%s)", select);
  struct sl_duck_result res;
  int rc = q.data ? sl_duck_query(d, q.data, &res, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  sl_buf_fini(&q);
  if (rc) return sl_err_prefix(err, "statistics of the staged rows: ");
  int64_t total = duckdb_value_int64(&res.r, 0, 0);
  sl_buf_putc(&js, '{');
  for (size_t c = 0; c < s->n_cols; c++) {
    if (c) sl_buf_putc(&js, ',');
    sl_buf_json_str(&js, s->cols[c].name);
    sl_buf_printf(&js, ":{\"nulls\":%lld", (long long)(total - duckdb_value_int64(&res.r, (idx_t)(1 + 3 * c), 0)));
    for (int a = 0; a < 2; a++) {
      char *v = sl_duck_result_text(&res, (int64_t)(2 + 3 * c + (size_t)a), 0);
      if (v) {
        sl_buf_puts(&js, a ? ",\"max\":" : ",\"min\":");
        sl_buf_json_str(&js, v);
      }
      sl_free(v);
    }
    sl_buf_putc(&js, '}');
  }
  sl_duck_result_fini(&res);
  if (sl_buf_putc(&js, '}')) {
    sl_buf_fini(&js);
    return sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  *out = sl_buf_take(&js);
  return 0;
}

int sl_ingest_stage_rows(struct sl_duck *d, struct sl_store *st, const struct sl_ingest_opts *opts, const char *ns,
                         const char *table, const char *select, const struct sl_schema *schema,
                         struct sl_ingest_stage *out, struct sl_err *err) {
  int rc = stage_begin(ns, table, out, err);
  if (rc) return rc;
  out->schema.cols = sl_calloc(schema->n_cols + 1, sizeof *out->schema.cols);
  if (!out->schema.cols) return sl_err_set(err, SL_ENOMEM, "out of memory");
  for (size_t c = 0; c < schema->n_cols; c++) {
    struct sl_column *col = &out->schema.cols[out->schema.n_cols++];
    col->name = sl_strdup(schema->cols[c].name);
    col->type = sl_strdup(schema->cols[c].type);
    col->nullable = schema->cols[c].nullable;
    if (!col->name || !col->type) return sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  rc = stage_write(d, st, opts, select, NULL, out, err);
  /* One file (the common case): the result's statistics are the file's. */
  if (!rc && out->w.n == 1) rc = result_stats(d, &out->schema, select, &out->w.stats[0], err);
  else if (!rc && out->w.n) rc = sl_ingest_file_stats(d, &out->schema, out->w.urls, out->w.n, out->w.stats, err);
  if (!rc) rc = sl_store_sync(st, (const char *const *)out->w.keys, out->w.n, err);
  if (rc) sl_ingest_stage_discard(st, out);
  return rc;
}

int sl_ingest_stage_each(struct sl_duck *d, struct sl_store *st, const char *ns, const char *table,
                         const char *const *selects, size_t n, struct sl_ingest_stage *out, struct sl_err *err) {
  int rc = stage_begin(ns, table, out, err);
  if (rc) return rc;
  struct sl_ingest_written *w = &out->w;
  w->keys = sl_calloc(n + 1, sizeof *w->keys);
  w->urls = sl_calloc(n + 1, sizeof *w->urls);
  w->stats = sl_calloc(n + 1, sizeof *w->stats);
  w->rows = sl_calloc(n + 1, sizeof *w->rows);
  w->bytes = sl_calloc(n + 1, sizeof *w->bytes);
  if (!w->keys || !w->urls || !w->stats || !w->rows || !w->bytes) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  if (!rc) rc = sl_store_prepare(st, out->prefix, err);
  struct sl_buf q;
  sl_buf_init(&q);
  for (size_t i = 0; !rc && i < n; i++) {
    w->keys[i] = sl_asprintf("%s/%s_%zu.parquet", out->prefix, out->uuid, i);
    w->urls[i] = w->keys[i] ? sl_store_url(st, w->keys[i]) : NULL;
    w->n++;
    if (!w->urls[i]) {
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      break;
    }
    sl_buf_reset(&q);
    sl_buf_printf(&q, "COPY (%s) TO ", selects[i]);
    sl_buf_sql_str(&q, w->urls[i]);
    sl_buf_puts(&q, " (FORMAT parquet, COMPRESSION zstd, RETURN_STATS)");
    struct sl_duck_result res;
    if (!q.data) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    else if (!(rc = sl_duck_query(d, q.data, &res, err))) {
      if (sl_duck_result_rows(&res) == 1) {
        w->rows[i] = duckdb_value_int64(&res.r, 1, 0);
        w->bytes[i] = duckdb_value_int64(&res.r, 2, 0);
        out->rows += w->rows[i];
        out->bytes += w->bytes[i];
      } else {
        rc = sl_err_set(err, SL_EINTERNAL, "DuckDB wrote %lld files for %s", (long long)sl_duck_result_rows(&res),
                        w->keys[i]);
      }
      sl_duck_result_fini(&res);
    }
  }
  sl_buf_fini(&q);
  if (!rc) rc = sl_store_sync(st, (const char *const *)w->keys, w->n, err);
  if (rc) sl_ingest_stage_discard(st, out);
  return rc;
}

static void stage_files(struct sl_buf *b, const struct sl_ingest_stage *s) {
  sl_buf_puts(b, "read_parquet([");
  for (size_t i = 0; i < s->w.n; i++) {
    if (i) sl_buf_putc(b, ',');
    sl_buf_sql_str(b, s->w.urls[i]);
  }
  sl_buf_puts(b, "])");
}

/* The staged files; typed: as a SELECT casting each column to the staged type. With
 * no file, an empty relation with the staged columns. */
static char *stage_select(const struct sl_ingest_stage *s, int typed) {
  struct sl_buf b;
  sl_buf_init(&b);
  if (s->w.n && !typed) {
    stage_files(&b, s);
    return sl_buf_take(&b);
  }
  sl_buf_puts(&b, "(SELECT ");
  /* No files: every column reads as a NULL of its type. */
  const struct sl_schema none = {0};
  sl_sql_cast_columns(&b, &s->schema, s->w.n ? NULL : &none);
  if (!s->schema.n_cols) sl_buf_puts(&b, "1 AS _empty");
  if (s->w.n) {
    sl_buf_puts(&b, " FROM ");
    stage_files(&b, s);
    sl_buf_putc(&b, ')');
  } else {
    sl_buf_puts(&b, " WHERE false)");
  }
  return sl_buf_take(&b);
}

char *sl_ingest_stage_reader(const struct sl_ingest_stage *s) {
  return stage_select(s, 0);
}

char *sl_ingest_stage_typed_reader(const struct sl_ingest_stage *s) {
  return stage_select(s, 1);
}

static int stage_commit(struct sl_catalog *cat, struct sl_ingest_stage *s, const char *ns, const char *table,
                        int64_t expected_parent, int replace, const char *const *remove, size_t n_remove,
                        const struct sl_delete_file *dels, size_t n_dels, const char *summary_json,
                        int64_t *snapshot_id, struct sl_err *err) {
  struct sl_data_file *add = sl_calloc(s->w.n + 1, sizeof *add);
  if (!add) return sl_err_set(err, SL_ENOMEM, "out of memory");
  for (size_t i = 0; i < s->w.n; i++) {
    add[i].path = s->w.keys[i];
    add[i].rows = s->w.rows[i];
    add[i].bytes = s->w.bytes[i];
    add[i].stats_json = s->w.stats ? s->w.stats[i] : NULL;
    add[i].partition = s->w.partition ? s->w.partition[i] : NULL;
  }
  struct sl_commit c = {
      .ns = ns,
      .table = table,
      .expected_parent = expected_parent,
      .operation = s->operation          ? s->operation
                   : !expected_parent     ? "create"
                   : replace              ? "replace"
                   : n_remove || n_dels   ? "merge"
                                          : "append",
      .summary_json = summary_json,
      .schema = &s->schema,
      .add = add,
      .n_add = s->w.n,
      .replace = replace,
      .remove = remove,
      .n_remove = n_remove,
      .add_deletes = dels,
      .n_add_deletes = n_dels,
  };
  int rc = sl_catalog_commit(cat, &c, snapshot_id, err);
  sl_free(add);
  if (!rc) s->committed = 1;
  return rc;
}

int sl_ingest_stage_commit(struct sl_catalog *cat, struct sl_ingest_stage *s, const char *ns, const char *table,
                           int64_t expected_parent, int replace, const char *summary_json, int64_t *snapshot_id,
                           struct sl_err *err) {
  return stage_commit(cat, s, ns, table, expected_parent, replace, NULL, 0, NULL, 0, summary_json, snapshot_id, err);
}

int sl_ingest_stage_commit_merge(struct sl_catalog *cat, struct sl_ingest_stage *s, const char *ns, const char *table,
                                 int64_t expected_parent, const char *const *remove, size_t n_remove,
                                 const struct sl_delete_file *dels, size_t n_dels, const char *summary_json,
                                 int64_t *snapshot_id, struct sl_err *err) {
  return stage_commit(cat, s, ns, table, expected_parent, 0, remove, n_remove, dels, n_dels, summary_json, snapshot_id,
                      err);
}

void sl_ingest_stage_discard(struct sl_store *st, struct sl_ingest_stage *s) {
  if (s->committed || !s->prefix) return;
  sl_ingest_written_remove(st, s->prefix, s->uuid);
}

void sl_ingest_stage_fini(struct sl_ingest_stage *s) {
  sl_ingest_written_free(&s->w);
  sl_schema_fini(&s->schema);
  sl_free(s->prefix);
  memset(s, 0, sizeof *s);
}
