/* check_store.c: where check outcomes go. Failing rows of failed row checks go to a
 * quarantine table per checked table (quarantine.<ns>_<table>); every result of a run
 * goes to audit.check_results, for history and the UI. Both are ordinary lake tables,
 * appended in one snapshot per run, their small files packed as they gather. */
#include "check/check_int.h"

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "sql/sql.h"

#include <string.h>

/* A table appended once per run would gain a file per run, and every reader of it
 * would open them all: once this many small files (under a quarter of the target file
 * size) have gathered, an append writes their rows again with the new ones, in the same
 * snapshot, and the new files replace them. */
enum { PACK_FILES = 16 };

/* The keys of the table's small files when there are PACK_FILES of them (and no delete
 * file), else none; *rows: their rows. */
static int small_files(struct sl_catalog *cat, const struct sl_table_info *ti, const struct sl_ingest_opts *opts,
                       char ***keys, size_t *n, int64_t *rows, struct sl_err *err) {
  struct sl_data_file *files = NULL;
  struct sl_delete_file *dels = NULL;
  size_t nf = 0, nd = 0;
  *keys = NULL, *n = 0, *rows = 0;
  int rc = sl_catalog_files_at(cat, ti->table_id, ti->current_snapshot, &files, &nf, err);
  if (!rc) rc = sl_catalog_deletes_at(cat, ti->table_id, ti->current_snapshot, &dels, &nd, err);
  size_t k = 0;
  for (size_t i = 0; i < nf; i++) k += files[i].bytes < opts->target_file_size / 4;
  if (!rc && !nd && k >= PACK_FILES) {
    if (!(*keys = sl_calloc(k + 1, sizeof **keys))) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < nf; i++) {
      if (files[i].bytes >= opts->target_file_size / 4) continue;
      (*keys)[(*n)++] = files[i].path;
      *rows += files[i].rows;
      files[i].path = NULL;
    }
  }
  sl_data_file_list_free(files, nf);
  sl_delete_file_list_free(dels, nd);
  return rc;
}

int sl_check_append(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st, const struct sl_ingest_opts *opts,
                    const char *ns, const char *table, const char *select, struct sl_err *err) {
  int rc = sl_catalog_ns_create(cat, ns, err);
  if (rc == SL_EEXIST) rc = 0;
  if (rc) return rc;
  sl_err_clear(err);
  for (int attempt = 0;; attempt++) {
    struct sl_table_info ti = {0};
    int64_t parent = 0, snap = 0, packed_rows = 0;
    char **pack = NULL, *reader = NULL, *sel = NULL, *summary = NULL;
    size_t n_pack = 0;
    rc = sl_catalog_table_get(cat, ns, table, &ti, err);
    if (rc == SL_ENOTFOUND) {
      rc = 0;
      sl_err_clear(err);
    } else if (!rc && (parent = ti.current_snapshot)) {
      rc = small_files(cat, &ti, opts, &pack, &n_pack, &packed_rows, err);
    }
    sl_table_info_fini(&ti);
    if (!rc && n_pack && !(reader = sl_sql_files_reader(st, (const char *const *)pack, n_pack, NULL, 0, err)))
      rc = err->code;
    if (!rc && !(sel = reader ? sl_asprintf("SELECT * FROM %s UNION ALL BY NAME SELECT * FROM (%s)", reader, select)
                              : sl_strdup(select)))
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    struct sl_ingest_stage s = {0};
    if (!rc) rc = sl_ingest_stage_query(d, st, opts, ns, table, sel, &s, err);
    if (!rc && !(summary = sl_asprintf("{\"added-rows\":%lld,\"added-files\":%zu,\"packed-files\":%zu}",
                                       (long long)(s.rows - packed_rows), s.w.n, n_pack)))
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    if (!rc && n_pack)
      rc = sl_ingest_stage_commit_merge(cat, &s, ns, table, parent, (const char *const *)pack, n_pack, NULL, 0, summary,
                                        &snap, err);
    else if (!rc)
      rc = sl_ingest_stage_commit(cat, &s, ns, table, parent, 0, summary, &snap, err);
    sl_ingest_stage_discard(st, &s);
    sl_ingest_stage_fini(&s);
    sl_str_list_free(pack, n_pack);
    sl_free(reader);
    sl_free(sel);
    sl_free(summary);
    if (rc != SL_ECONFLICT || attempt >= opts->commit_retries) break;
    sl_err_clear(err);
  }
  return rc;
}

/* "<col> = <value>" of the checked column(s), as SQL text parts of a concat(). */
static void col_value(struct sl_buf *q, const struct sl_check *c) {
  for (size_t k = 0; k < c->n_cols; k++) {
    struct sl_buf lbl;
    sl_buf_init(&lbl);
    sl_buf_printf(&lbl, "%s%s = ", k ? ", " : "", c->cols[k]);
    sl_buf_sql_str(q, lbl.data ? lbl.data : "");
    sl_buf_puts(q, ", coalesce(CAST(");
    sl_buf_sql_ident(q, c->cols[k]);
    sl_buf_puts(q, " AS VARCHAR), 'NULL'), ");
    sl_buf_fini(&lbl);
  }
}

/* Why one quarantined row failed its check, as a SQL expression over the row. */
static void row_reason(struct sl_buf *q, const struct sl_check *c) {
  struct sl_buf tail;
  sl_buf_init(&tail);
  switch (c->kind) {
  case SL_CHECK_UNIQUE: sl_buf_printf(&tail, " appears more than once"); break;
  case SL_CHECK_ACCEPTED_VALUES: sl_buf_printf(&tail, " is not an accepted value"); break;
  case SL_CHECK_BETWEEN:
    sl_buf_printf(&tail, " is NULL or outside [%s, %s]", c->min ? c->min : "-inf", c->max ? c->max : "inf");
    break;
  case SL_CHECK_REGEX: sl_buf_printf(&tail, " does not match %s", c->pattern ? c->pattern : ""); break;
  case SL_CHECK_RELATIONSHIPS:
    sl_buf_printf(&tail, " is not in %s.%s", c->to_table ? c->to_table : "", c->to_col ? c->to_col : "");
    break;
  default: break;
  }
  if (c->kind == SL_CHECK_NOT_NULL && c->n_cols) {
    sl_buf_printf(&tail, "%s is NULL", c->cols[0]);
    sl_buf_sql_str(q, tail.data);
  } else if (!tail.len || !c->n_cols) {
    sl_buf_sql_str(q, c->kind == SL_CHECK_SQL ? "returned by the check's sql" : "failed the check");
  } else {
    sl_buf_puts(q, "concat(");
    col_value(q, c);
    sl_buf_sql_str(q, tail.data);
    sl_buf_putc(q, ')');
  }
  sl_buf_fini(&tail);
}

int sl_check_quarantine(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st,
                        const struct sl_ingest_opts *opts, const char *table, const char *rel,
                        const struct sl_check_results *rs, size_t from, const char *run_id, int64_t limit,
                        int64_t *rows_out, struct sl_err *err) {
  *rows_out = 0;
  struct sl_buf q;
  sl_buf_init(&q);
  size_t parts = 0;
  for (size_t i = from; i < rs->n; i++) {
    const struct sl_check_result *r = &rs->v[i];
    if ((r->status != SL_CHECK_FAIL && r->status != SL_CHECK_WARN) || r->check->kind >= SL_CHECK_ROW_COUNT ||
        !r->failing)
      continue;
    char *fail = sl_check_failing_sql(r->check, rel);
    if (!fail) continue;
    sl_buf_puts(&q, parts++ ? " UNION ALL BY NAME " : "SELECT * FROM (");
    sl_buf_printf(&q, "SELECT *, ");
    sl_buf_sql_str(&q, r->check->name);
    sl_buf_puts(&q, " AS _check, ");
    row_reason(&q, r->check);
    sl_buf_puts(&q, " AS _reason, ");
    sl_buf_sql_str(&q, run_id);
    sl_buf_printf(&q, " AS _run_id, now()::TIMESTAMP AS _quarantined_at FROM ("
                      "SELECT * FROM (SELECT * FROM %s LIMIT 0) UNION ALL BY NAME SELECT * FROM (%s) LIMIT %lld)",
                  rel, fail, (long long)limit);
    sl_free(fail);
  }
  if (!parts) {
    sl_buf_fini(&q);
    return 0;
  }
  sl_buf_puts(&q, ")");
  char *ns = NULL, *t = NULL, *qt = NULL;
  int rc = sl_catalog_name_split(table, &ns, &t, err);
  if (!rc) {
    qt = sl_asprintf("%s_%s", ns, t);
    if (!qt) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    else if (!sl_catalog_name_valid(qt)) rc = sl_err_set(err, SL_EINVAL, "quarantine table name %s is too long", qt);
  }
  int64_t n = 0;
  if (!rc) {
    char *cnt = sl_asprintf("SELECT count(*) FROM (%s)", q.data);
    rc = cnt ? sl_duck_query_int(d, cnt, &n, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
    sl_free(cnt);
  }
  if (!rc) rc = sl_check_append(d, cat, st, opts, "quarantine", qt, q.data, err);
  if (!rc) *rows_out = n;
  sl_free(ns);
  sl_free(t);
  sl_free(qt);
  sl_buf_fini(&q);
  return rc;
}

int sl_check_record(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st, const struct sl_ingest_opts *opts,
                    const struct sl_check_results *rs, const char *run_id, struct sl_err *err) {
  if (!rs->n) return 0;
  struct sl_buf q;
  sl_buf_init(&q);
  sl_buf_puts(&q, "SELECT run_id, checked_at::TIMESTAMP AS checked_at, table_name, check_name, kind, columns, severity,"
                  " status, failing::BIGINT AS failing, total::BIGINT AS total, observed, message, sample,"
                  " file, line::INTEGER AS line FROM (VALUES ");
  for (size_t i = 0; i < rs->n; i++) {
    const struct sl_check_result *r = &rs->v[i];
    const struct sl_check *c = r->check;
    struct sl_buf cols;
    sl_buf_init(&cols);
    for (size_t k = 0; k < c->n_cols; k++) sl_buf_printf(&cols, "%s%s", k ? "," : "", c->cols[k]);
    if (i) sl_buf_puts(&q, ", ");
    sl_buf_putc(&q, '(');
    sl_buf_sql_str(&q, run_id);
    sl_buf_puts(&q, ", now(), ");
    sl_buf_sql_str(&q, r->table);
    sl_buf_puts(&q, ", ");
    sl_buf_sql_str(&q, c->name);
    sl_buf_puts(&q, ", ");
    sl_buf_sql_str(&q, sl_check_kind_name(c->kind));
    sl_buf_puts(&q, ", ");
    sl_buf_sql_str(&q, cols.data ? cols.data : "");
    sl_buf_printf(&q, ", '%s', '%s', %lld, %lld, ", c->error ? "error" : "warn", sl_check_status_name(r->status),
                  (long long)r->failing, (long long)r->total);
    const char *texts[3] = {r->observed, r->message, r->sample};
    for (int k = 0; k < 3; k++) {
      if (texts[k]) sl_buf_sql_str(&q, texts[k]);
      else sl_buf_puts(&q, "NULL::VARCHAR");
      sl_buf_puts(&q, ", ");
    }
    sl_buf_sql_str(&q, c->file ? c->file : "");
    sl_buf_printf(&q, ", %d)", c->line);
    sl_buf_fini(&cols);
  }
  sl_buf_puts(&q, ") AS t(run_id, checked_at, table_name, check_name, kind, columns, severity, status, failing, total,"
                  " observed, message, sample, file, line)");
  int rc = q.data ? sl_check_append(d, cat, st, opts, "audit", "check_results", q.data, err)
                  : sl_err_set(err, SL_ENOMEM, "out of memory");
  sl_buf_fini(&q);
  return rc;
}
