/* sink_table.c: changes into the lake. Each captured table gets a changelog table
 * bronze.<table>_changes: _op (r, c, u, d, t), _lsn, _commit_ts, _txid, then the
 * table's columns (after the change; the key columns for a delete).
 *
 * NOTES
 * Staging: the sink keeps one in-memory DuckDB. Each table's pending rows go through
 * DuckDB's appender into a staging table of text columns (values stay in PostgreSQL's
 * text form); a commit runs one COPY of that table, cast to the lake's types, to
 * Parquet (through ingest's staging: fsynced files, then one catalog commit) and drops
 * it. Nothing is written twice and no file is parsed again.
 * Batches: the stream asks for a commit at a transaction's end; it happens when
 * batch_events are pending, when the first pending one is batch_ms old, or when the
 * stream forces it (it is idle, or stopping), so a quiet stream is queryable as soon
 * as a transaction ends and a busy one commits in batches.
 * Exactly once: each commit records the last LSN it holds in its snapshot summary
 * ("cdc-lsn"); at start the sink reads it back and skips transactions at or below it.
 * Only after every table's batch is committed is the LSN durable (and confirmed to
 * PostgreSQL). Commits happen only at transaction ends (or at a snapshot's end), so a
 * transaction is in the lake whole or not at all.
 * Columns: a table's columns are the lake table's (read at start) plus any that appear
 * upstream; a column dropped upstream stays, NULL from then on. A column added in the
 * middle of a transaction is added to the staging table (earlier rows get NULL): no
 * commit is needed, so no partial transaction reaches the lake. A column whose type
 * changes stops the stream with an error naming table, column and LSN. */
#include "cdc/cdc_int.h"
#include "cdc/event.h"

#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_META 4

struct ctable {
  char *schema, *name, *lake; /* lake: table name in bronze ("loan_changes") */
  uint64_t done_lsn;          /* the last LSN already in the lake */
  struct sl_schema cols;      /* _op, _lsn, _commit_ts, _txid, then the source's (lake types) */
  int *map;                   /* cols[k] (k >= N_META) is the relation's column map[k], or -1 */
  /* The relation the columns were last matched against. */
  uint16_t sig_n;
  struct sl_pgo_column *sig;
  int staged; /* the staging table s<idx> and its appender exist */
  size_t idx;
  duckdb_appender app;
  int64_t rows;
  char *key_json; /* ["id"]: the key columns, for the current-state view */
};

struct tsink {
  const struct sl_cdc_source *src;
  const struct sl_cdc_lake *lake;
  struct sl_duck *d;
  int threads, threads_now; /* DuckDB threads for a large batch (0: all cores), and in use now */
  struct ctable *t;
  size_t n;
  int64_t pending, first_ns;
  uint64_t durable;
  uint64_t last_end; /* the end of the last transaction handed over */
};

/* The lake type of a column from its type OID (and typmod for numeric). */
static const char *oid_type(uint32_t oid, int32_t typmod, char *buf, size_t cap) {
  switch (oid) {
  case 16: return "BOOLEAN";
  case 20: return "BIGINT";
  case 21: return "SMALLINT";
  case 23: return "INTEGER";
  case 700: return "FLOAT";
  case 701: return "DOUBLE";
  case 1082: return "DATE";
  case 1083: return "TIME";
  case 1114: return "TIMESTAMP";
  case 1184: return "TIMESTAMPTZ";
  case 2950: return "UUID";
  case 114: case 3802: return "JSON";
  case 1700:
    if (typmod >= 4) {
      int p = ((typmod - 4) >> 16) & 0xffff, s = (typmod - 4) & 0xffff;
      if (p <= 38 && s <= p) {
        snprintf(buf, cap, "DECIMAL(%d,%d)", p, s);
        return buf;
      }
    }
    return "DOUBLE";
  default: return "VARCHAR";
  }
}

/* A type as DuckDB spells it (TIMESTAMPTZ -> TIMESTAMP WITH TIME ZONE), the way the
 * catalog records it. New string. */
static char *canon_type(struct tsink *t, const char *type, struct sl_err *err) {
  char *q = sl_asprintf("SELECT typeof(CAST(NULL AS %s))", type);
  struct sl_duck_result res;
  int rc = q ? sl_duck_query(t->d, q, &res, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  sl_free(q);
  if (rc) return NULL;
  char *out = sl_duck_result_text(&res, 0, 0);
  sl_duck_result_fini(&res);
  if (!out) sl_err_set(err, SL_ENOMEM, "out of memory");
  return out;
}

static struct ctable *find(struct tsink *t, const char *schema, const char *name) {
  for (size_t i = 0; i < t->n; i++)
    if (!strcmp(t->t[i].schema, schema) && !strcmp(t->t[i].name, name)) return &t->t[i];
  return NULL;
}

static int add_col(struct ctable *c, const char *name, const char *type) {
  if (sl_array_grow(&c->cols.cols, &(size_t){c->cols.n_cols}, c->cols.n_cols + 2, sizeof *c->cols.cols)) return SL_ENOMEM;
  struct sl_column *col = &c->cols.cols[c->cols.n_cols];
  memset(col, 0, sizeof *col);
  col->name = sl_strdup(name);
  col->type = sl_strdup(type);
  col->nullable = 1;
  if (!col->name || !col->type) return SL_ENOMEM;
  c->cols.n_cols++;
  return 0;
}

static int same_relation(const struct ctable *c, const struct sl_pgo_relation *rel) {
  if (!c->sig || c->sig_n != rel->n_cols) return 0;
  for (uint16_t i = 0; i < rel->n_cols; i++)
    if (c->sig[i].type_oid != rel->cols[i].type_oid || c->sig[i].typmod != rel->cols[i].typmod ||
        c->sig[i].key != rel->cols[i].key || strcmp(c->sig[i].name, rel->cols[i].name))
      return 0;
  return 1;
}

static void stage_drop(struct tsink *t, struct ctable *c) {
  if (!c->staged) return;
  duckdb_appender_destroy(&c->app);
  char sql[64];
  snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS s%zu", c->idx);
  struct sl_err e;
  sl_duck_exec(t->d, sql, &e);
  c->staged = 0;
}

static int appender_err(struct ctable *c, const char *what, struct sl_err *err) {
  const char *m = duckdb_appender_error(c->app);
  return sl_err_set(err, SL_EIO, "cdc into bronze.%s: %s: %s", c->lake, what, m ? m : "unknown DuckDB error");
}

/* The staging table: the meta columns typed, the source's as PostgreSQL's text. */
static int stage_open(struct tsink *t, struct ctable *c, struct sl_err *err) {
  if (c->staged) return 0;
  struct sl_buf b;
  sl_buf_init(&b);
  sl_buf_printf(&b, "CREATE OR REPLACE TABLE s%zu (c0 VARCHAR, c1 BIGINT, c2 VARCHAR, c3 BIGINT", c->idx);
  for (size_t k = N_META; k < c->cols.n_cols; k++) sl_buf_printf(&b, ", c%zu VARCHAR", k);
  int rc = sl_buf_puts(&b, ")") ? sl_err_set(err, SL_ENOMEM, "out of memory") : sl_duck_exec(t->d, b.data, err);
  sl_buf_fini(&b);
  if (rc) return rc;
  char name[32];
  snprintf(name, sizeof name, "s%zu", c->idx);
  if (duckdb_appender_create(t->d->con, NULL, name, &c->app) == DuckDBError) {
    rc = appender_err(c, "cannot append to the staging table", err);
    duckdb_appender_destroy(&c->app);
    return rc;
  }
  c->staged = 1;
  return 0;
}

/* Matches the table's columns with a (new or changed) relation: new columns are added
 * (to the staging table too), a changed type is an error. */
static int relation_changed(struct tsink *t, struct ctable *c, const struct sl_pgo_relation *rel, uint64_t lsn,
                            struct sl_err *err) {
  size_t before = c->cols.n_cols;
  if (!c->cols.n_cols) {
    static const char *meta[N_META][2] = {
        {"_op", "VARCHAR"}, {"_lsn", "BIGINT"}, {"_commit_ts", "TIMESTAMP WITH TIME ZONE"}, {"_txid", "BIGINT"}};
    for (int i = 0; i < N_META; i++)
      if (add_col(c, meta[i][0], meta[i][1])) return sl_err_set(err, SL_ENOMEM, "out of memory");
    before = 0;
  }
  char buf[40];
  for (uint16_t i = 0; i < rel->n_cols; i++) {
    char *type = canon_type(t, oid_type(rel->cols[i].type_oid, rel->cols[i].typmod, buf, sizeof buf), err);
    if (!type) return err->code;
    size_t k = N_META;
    while (k < c->cols.n_cols && strcmp(c->cols.cols[k].name, rel->cols[i].name)) k++;
    int rc = 0;
    if (k == c->cols.n_cols) {
      if (add_col(c, rel->cols[i].name, type)) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    } else if (strcmp(c->cols.cols[k].type, type)) {
      char l[32];
      sl_cdc_lsn_text(lsn, l);
      rc = sl_err_set(err, SL_EDATA,
                      "cdc into bronze.%s: column %s of %s.%s changed type from %s to %s at LSN %s; a changelog column "
                      "keeps its type. Change it back upstream, or capture the table into new changelogs (another "
                      "table_prefix) with --snapshot always",
                      c->lake, rel->cols[i].name, c->schema, c->name, c->cols.cols[k].type, type, l);
    }
    sl_free(type);
    if (rc) return rc;
  }
  sl_free(c->map);
  c->map = sl_calloc(c->cols.n_cols + 1, sizeof *c->map);
  if (!c->map) return sl_err_set(err, SL_ENOMEM, "out of memory");
  for (size_t k = N_META; k < c->cols.n_cols; k++) {
    c->map[k] = -1;
    for (uint16_t i = 0; i < rel->n_cols; i++)
      if (!strcmp(c->cols.cols[k].name, rel->cols[i].name)) c->map[k] = i;
  }
  struct sl_buf kj;
  sl_buf_init(&kj);
  sl_buf_putc(&kj, '[');
  int nk = 0;
  for (uint16_t i = 0; i < rel->n_cols; i++)
    if (rel->cols[i].key) {
      if (nk++) sl_buf_putc(&kj, ',');
      sl_buf_json_str(&kj, rel->cols[i].name);
    }
  sl_buf_putc(&kj, ']');
  if (nk || !c->key_json) {
    sl_free(c->key_json);
    c->key_json = sl_buf_take(&kj);
  }
  sl_buf_fini(&kj);
  /* Remember the relation's columns. */
  for (uint16_t i = 0; c->sig && i < c->sig_n; i++) sl_free(c->sig[i].name);
  sl_free(c->sig);
  c->sig = sl_calloc((size_t)rel->n_cols + 1, sizeof *c->sig);
  if (!c->sig) return sl_err_set(err, SL_ENOMEM, "out of memory");
  c->sig_n = rel->n_cols;
  for (uint16_t i = 0; i < rel->n_cols; i++) {
    c->sig[i] = rel->cols[i];
    c->sig[i].name = sl_strdup(rel->cols[i].name);
    if (!c->sig[i].name) return sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  if (c->staged && before && c->cols.n_cols > before) {
    /* New columns while rows are staged: the rows so far get NULL in them. */
    if (duckdb_appender_flush(c->app) == DuckDBError) return appender_err(c, "staging", err);
    duckdb_appender_destroy(&c->app);
    c->staged = 0;
    for (size_t k = before; k < c->cols.n_cols; k++) {
      char sql[96];
      snprintf(sql, sizeof sql, "ALTER TABLE s%zu ADD COLUMN c%zu VARCHAR", c->idx, k);
      int rc = sl_duck_exec(t->d, sql, err);
      if (rc) return rc;
    }
    char name[32];
    snprintf(name, sizeof name, "s%zu", c->idx);
    if (duckdb_appender_create(t->d->con, NULL, name, &c->app) == DuckDBError) {
      int rc = appender_err(c, "cannot append to the staging table", err);
      duckdb_appender_destroy(&c->app);
      return rc;
    }
    c->staged = 1;
  }
  if (c->cols.n_cols > before && before) {
    char l[32], n[16];
    sl_cdc_lsn_text(lsn, l);
    snprintf(n, sizeof n, "%zu", c->cols.n_cols - before);
    sl_log(SL_LOG_INFO, "cdc", "new columns in the changelog", "table", c->lake, "added", n, "lsn", l, NULL);
  }
  return 0;
}

static int ts_event(struct sl_cdc_sink *s, const struct sl_cdc_event_src *es, const struct sl_pgo_relation *rel, char op,
                    const struct sl_pgo_tuple *before, const struct sl_pgo_tuple *after, struct sl_err *err) {
  struct tsink *t = s->impl;
  struct ctable *c = find(t, rel->schema, rel->name);
  if (!c) return 0; /* not one of ours (a publication shared with others) */
  /* Whole transactions are skipped by their commit LSN: changes of concurrent
   * transactions interleave in the WAL, but commits are ordered. */
  if (op != 'r' && es->commit_lsn && es->commit_lsn < c->done_lsn) return 0;
  int rc = 0;
  if (!same_relation(c, rel) && (rc = relation_changed(t, c, rel, es->lsn, err))) return rc;
  if ((rc = stage_open(t, c, err))) return rc;
  const struct sl_pgo_tuple *row = after ? after : before;
  char when[40];
  sl_time_iso8601(es->ts_ms, when, sizeof when);
  duckdb_appender a = c->app;
  char opc = op;
  int bad = duckdb_append_varchar_length(a, &opc, 1) == DuckDBError ||
            duckdb_append_int64(a, (int64_t)es->lsn) == DuckDBError || duckdb_append_varchar(a, when) == DuckDBError ||
            (es->tx_id >= 0 ? duckdb_append_int64(a, es->tx_id) : duckdb_append_null(a)) == DuckDBError;
  for (size_t k = N_META; !bad && k < c->cols.n_cols; k++) {
    int i = c->map[k];
    const struct sl_pgo_value *v = row && i >= 0 && i < row->n ? &row->v[i] : NULL;
    if (v && v->kind == 't') bad = duckdb_append_varchar_length(a, v->data ? v->data : "", v->len) == DuckDBError;
    else if (v && v->kind == 'u' && !strcmp(c->cols.cols[k].type, "VARCHAR"))
      bad = duckdb_append_varchar(a, SL_CDC_TOAST_PLACEHOLDER) == DuckDBError;
    else bad = duckdb_append_null(a) == DuckDBError;
  }
  if (bad || duckdb_appender_end_row(a) == DuckDBError) return appender_err(c, "staging a change", err);
  c->rows++;
  if (!t->pending++) t->first_ns = sl_time_mono_ns();
  return 0;
}

/* One DuckDB thread for small batches (thread hand-offs cost more than they bring on
 * a few rows), all of them for large ones. */
static void set_threads(struct tsink *t, int64_t rows) {
  int want = rows >= 100000 ? t->threads : 1;
  if (want <= 0) want = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (want <= 0) want = 1;
  if (want == t->threads_now) return;
  char sql[64];
  snprintf(sql, sizeof sql, "SET threads = %d", want);
  struct sl_err e;
  if (!sl_duck_exec(t->d, sql, &e)) t->threads_now = want;
}

static int commit_table(struct tsink *t, struct ctable *c, uint64_t lsn, struct sl_err *err) {
  if (duckdb_appender_flush(c->app) == DuckDBError) return appender_err(c, "staging", err);
  set_threads(t, c->rows);
  struct sl_buf sel;
  sl_buf_init(&sel);
  sl_buf_puts(&sel, "SELECT ");
  for (size_t k = 0; k < c->cols.n_cols; k++) {
    sl_buf_printf(&sel, "%sCAST(c%zu AS %s) AS ", k ? ", " : "", k, c->cols.cols[k].type);
    sl_buf_sql_ident(&sel, c->cols.cols[k].name);
  }
  sl_buf_printf(&sel, " FROM s%zu", c->idx);
  char l[32];
  sl_cdc_lsn_text(lsn, l);
  struct sl_ingest_stage stg;
  int rc = sel.data ? sl_ingest_stage_rows(t->d, t->lake->store, t->lake->iopts, "bronze", c->lake, sel.data, &c->cols,
                                          &stg, err)
                    : sl_err_set(err, SL_ENOMEM, "out of memory");
  sl_buf_fini(&sel);
  if (rc) return sl_err_prefix(err, "cdc into bronze.%s (source %s.%s, at LSN %s): ", c->lake, c->schema, c->name, l);
  char *summary = sl_asprintf("{\"added-rows\":%" PRId64 ",\"added-files\":%zu,\"added-bytes\":%" PRId64
                              ",\"cdc-lsn\":%" PRIu64 ",\"cdc-key\":%s,\"source-table\":\"%s.%s\"}",
                              stg.rows, stg.w.n, stg.bytes, lsn, c->key_json ? c->key_json : "[]", c->schema, c->name);
  if (!summary) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  for (int64_t attempt = 0; !rc; attempt++) {
    struct sl_table_info ti = {0};
    rc = sl_catalog_table_get(t->lake->cat, "bronze", c->lake, &ti, err);
    if (rc == SL_ENOTFOUND) {
      sl_err_clear(err);
      rc = 0;
    }
    int64_t snap = 0;
    if (!rc) rc = sl_ingest_stage_commit(t->lake->cat, &stg, "bronze", c->lake, ti.current_snapshot, 0, summary, &snap, err);
    sl_table_info_fini(&ti);
    if (rc != SL_ECONFLICT || attempt >= t->lake->iopts->commit_retries) break;
    sl_err_clear(err);
    rc = 0;
  }
  sl_free(summary);
  if (rc) {
    sl_ingest_stage_discard(t->lake->store, &stg);
    sl_ingest_stage_fini(&stg);
    return sl_err_prefix(err, "cdc into bronze.%s (source %s.%s, at LSN %s): ", c->lake, c->schema, c->name, l);
  }
  sl_ingest_stage_fini(&stg);
  stage_drop(t, c); /* a fresh table per batch keeps memory flat */
  c->rows = 0;
  if (lsn > c->done_lsn) c->done_lsn = lsn;
  return 0;
}

static int ts_boundary(struct sl_cdc_sink *s, uint64_t end_lsn, int force, uint64_t *durable, struct sl_err *err) {
  struct tsink *t = s->impl;
  if (end_lsn > t->last_end) t->last_end = end_lsn;
  if (end_lsn > t->durable && !t->pending) {
    t->durable = end_lsn; /* nothing held: the position is as durable as it gets */
  }
  if (t->pending) {
    /* Snapshot rows (end_lsn 0) are committed only all together, at the snapshot's
     * end: a snapshot cut short leaves nothing behind and is taken again. */
    int due = force || (end_lsn && (t->pending >= t->lake->batch_events ||
                                    sl_time_mono_ns() - t->first_ns >= t->lake->batch_ms * 1000000LL));
    if (!due) {
      *durable = t->durable;
      return 0;
    }
    uint64_t lsn = end_lsn ? end_lsn : t->last_end;
    for (size_t i = 0; i < t->n; i++)
      if (t->t[i].rows) {
        int rc = commit_table(t, &t->t[i], lsn, err);
        if (rc) return rc;
      }
    t->pending = 0;
    if (lsn > t->durable) t->durable = lsn;
  }
  *durable = t->durable;
  return 0;
}

static int ts_pending(struct sl_cdc_sink *s) { return ((struct tsink *)s->impl)->pending > 0; }

static void ts_close(struct sl_cdc_sink *s) {
  struct tsink *t = s->impl;
  if (!t) return;
  for (size_t i = 0; i < t->n; i++) {
    struct ctable *c = &t->t[i];
    stage_drop(t, c);
    sl_free(c->schema);
    sl_free(c->name);
    sl_free(c->lake);
    sl_free(c->key_json);
    sl_free(c->map);
    for (uint16_t k = 0; c->sig && k < c->sig_n; k++) sl_free(c->sig[k].name);
    sl_free(c->sig);
    sl_schema_fini(&c->cols);
  }
  sl_duck_close(t->d);
  sl_free(t->t);
  sl_free(t);
  s->impl = NULL;
}

/* The LSN recorded by the table's last commit ("cdc-lsn" in its summary), or 0, and
 * the table's columns (none if it does not exist yet). */
static uint64_t committed_lsn(struct sl_catalog *cat, const char *table, struct sl_schema *cols) {
  struct sl_table_info ti = {0};
  struct sl_snapshot *ss = NULL;
  size_t n = 0;
  struct sl_err e;
  uint64_t lsn = 0;
  if (sl_catalog_table_get(cat, "bronze", table, &ti, &e) == 0) {
    if (ti.schema_id) sl_catalog_schema_get(cat, ti.table_id, ti.schema_id, cols, &e);
    if (sl_catalog_snapshot_list(cat, ti.table_id, &ss, &n, &e) == 0)
      for (size_t i = 0; i < n; i++) {
        json_t *j = ss[i].summary_json ? json_loads(ss[i].summary_json, 0, NULL) : NULL;
        json_t *v = j ? json_object_get(j, "cdc-lsn") : NULL;
        if (json_is_integer(v) && (uint64_t)json_integer_value(v) > lsn) lsn = (uint64_t)json_integer_value(v);
        json_decref(j);
      }
  }
  sl_snapshot_list_free(ss, n);
  sl_table_info_fini(&ti);
  return lsn;
}

int sl_cdc_sink_table_open(const struct sl_cdc_source *src, const struct sl_cdc_lake *lake, struct sl_cdc_sink *out,
                           struct sl_err *err) {
  memset(out, 0, sizeof *out);
  struct tsink *t = sl_calloc(1, sizeof *t);
  if (!t) return sl_err_set(err, SL_ENOMEM, "out of memory");
  t->src = src;
  t->lake = lake;
  t->threads = lake->dopts->threads;
  t->threads_now = 1;
  t->t = sl_calloc(src->tables.n + 1, sizeof *t->t);
  out->impl = t;
  out->name = "table";
  out->event = ts_event;
  out->boundary = ts_boundary;
  out->pending = ts_pending;
  out->close = ts_close;
  if (!t->t) return sl_err_set(err, SL_ENOMEM, "out of memory");
  struct sl_duck_opts dopts = *lake->dopts;
  if (!dopts.temp_dir || !*dopts.temp_dir) dopts.temp_dir = lake->staging; /* a large snapshot may spill */
  dopts.threads = 1; /* small batches, the common case, are fastest on one thread */
  int rc = sl_fs_mkdirs(lake->staging, err);
  if (!rc) rc = sl_duck_open(NULL, &dopts, &t->d, err);
  for (size_t i = 0; !rc && i < src->tables.n; i++) {
    struct ctable *c = &t->t[t->n++];
    c->idx = i;
    if (sl_pg_split_name(src->tables.v[i], &c->schema, &c->name)) return sl_err_set(err, SL_ENOMEM, "out of memory");
    c->lake = !strcmp(c->schema, "public") ? sl_asprintf("%s%s_changes", src->table_prefix, c->name)
                                           : sl_asprintf("%s%s_%s_changes", src->table_prefix, c->schema, c->name);
    if (!c->lake || !sl_catalog_name_valid(c->lake))
      return sl_err_set(err, SL_EINVAL, "table %s: the lake name bronze.%s is not valid", src->tables.v[i], c->lake ? c->lake : "?");
    c->done_lsn = committed_lsn(lake->cat, c->lake, &c->cols);
    if (c->done_lsn > t->durable) t->durable = c->done_lsn;
  }
  return rc;
}
