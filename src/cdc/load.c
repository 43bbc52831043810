/* load.c: batch load of PostgreSQL tables into bronze. All chunks of all tables are
 * read inside one exported snapshot, so the copy is consistent across tables and
 * connections; a table with a single integer primary key is split into key ranges
 * copied `parallel` at a time. Each chunk is COPYed as CSV into a staging file, and
 * the table's files are ingested as one lake snapshot with the columns' types taken
 * from PostgreSQL's catalog (no sniffing). */
#include "cdc/cdc.h"
#include "cdc/pg.h"

#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/progress.h"
#include "core/time.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct chunk {
  char *sql; /* COPY (...) TO STDOUT */
  char *file;
  int64_t rows;
};

struct job {
  const struct sl_cdc_source *src;
  const char *snapshot;
  struct chunk *chunks;
  size_t n;
  atomic_size_t next;
  atomic_llong rows;
  atomic_int failed;
  volatile int *cancel;
  pthread_mutex_t mu;
  struct sl_err err; /* the first failure */
};

static void job_fail(struct job *j, const struct sl_err *e) {
  pthread_mutex_lock(&j->mu);
  if (!atomic_load(&j->failed)) j->err = *e;
  atomic_store(&j->failed, 1);
  pthread_mutex_unlock(&j->mu);
}

static int copy_chunk(struct sl_pg *pg, struct job *j, struct chunk *c, struct sl_err *err) {
  FILE *f = fopen(c->file, "wb");
  if (!f) return sl_err_set(err, SL_EIO, "create %s: %s", c->file, strerror(errno));
  setvbuf(f, NULL, _IOFBF, 1 << 20);
  PGresult *r = PQexec(pg->conn, c->sql);
  int rc = 0;
  if (PQresultStatus(r) != PGRES_COPY_OUT) {
    rc = sl_err_set(err, SL_ESQL, "%s: %s", pg->label, PQresultErrorMessage(r));
    PQclear(r);
    fclose(f);
    return rc;
  }
  PQclear(r);
  char *buf;
  int n, first = 1;
  int64_t local = 0;
  while ((n = PQgetCopyData(pg->conn, &buf, 0)) > 0) {
    if (fwrite(buf, 1, (size_t)n, f) != (size_t)n && !rc)
      rc = sl_err_set(err, SL_EIO, "write %s: %s (is the disk full?)", c->file, strerror(errno));
    PQfreemem(buf);
    if (first) first = 0; /* the header line */
    else if (++local % 4096 == 0) atomic_fetch_add(&j->rows, 4096);
    if (j->cancel && *j->cancel && !rc) rc = sl_err_set(err, SL_EINTR, "interrupted");
  }
  atomic_fetch_add(&j->rows, local % 4096);
  c->rows = local;
  if (n == -2 && !rc) rc = sl_err_set(err, SL_EIO, "%s: copy failed: %s", pg->label, PQerrorMessage(pg->conn));
  while ((r = PQgetResult(pg->conn))) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK && !rc)
      rc = sl_err_set(err, SL_ESQL, "%s: %s", pg->label, PQresultErrorMessage(r));
    PQclear(r);
  }
  if (fclose(f) && !rc) rc = sl_err_set(err, SL_EIO, "write %s: %s", c->file, strerror(errno));
  return rc;
}

static void *worker(void *arg) {
  struct job *j = arg;
  struct sl_err err = {0};
  struct sl_pg *pg = NULL;
  int rc = sl_pg_connect(j->src, 0, &pg, &err);
  if (!rc) rc = sl_pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", &err);
  if (!rc) {
    PGresult *r = NULL;
    /* SET TRANSACTION SNAPSHOT takes no parameters: the id is quoted as a literal. */
    char *lit = PQescapeLiteral(pg->conn, j->snapshot, strlen(j->snapshot));
    char *sql = lit ? sl_asprintf("SET TRANSACTION SNAPSHOT %s", lit) : NULL;
    PQfreemem(lit);
    rc = sql ? sl_pg_query(pg, sql, 0, NULL, &r, &err) : sl_err_set(&err, SL_ENOMEM, "out of memory");
    PQclear(r);
    sl_free(sql);
  }
  if (!rc)
    rc = sl_pg_exec(pg, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3;"
                        " SET IntervalStyle = 'iso_8601'; SET bytea_output = 'hex'",
                    &err);
  while (!rc && !atomic_load(&j->failed)) {
    size_t i = atomic_fetch_add(&j->next, 1);
    if (i >= j->n) break;
    rc = copy_chunk(pg, j, &j->chunks[i], &err);
  }
  if (rc) job_fail(j, &err);
  sl_pg_close(pg);
  return NULL;
}

/* Plans the chunks of one table: key ranges for a single integer primary key. */
static int plan(struct sl_pg *pg, const struct sl_cdc_source *src, const struct sl_pg_table *t, const char *where,
                const char *dir, size_t first_index, struct chunk **chunks, size_t *n, struct sl_err *err) {
  char *qt = sl_pg_qualified(pg, t->schema, t->name);
  struct sl_buf cols;
  sl_buf_init(&cols);
  const struct sl_pg_column *pk = NULL;
  int npk = 0;
  for (size_t i = 0; i < t->n_cols; i++) {
    char *id = sl_pg_ident(pg, t->cols[i].name);
    if (i) sl_buf_puts(&cols, ", ");
    sl_buf_puts(&cols, id ? id : "");
    sl_free(id);
    if (t->cols[i].pk) {
      npk++;
      pk = &t->cols[i];
    }
  }
  int64_t lo = 0, hi = -1, nchunks = 1;
  char *pkid = NULL;
  int rc = 0;
  if (npk == 1 && (!strcmp(pk->pg_type, "integer") || !strcmp(pk->pg_type, "bigint") || !strcmp(pk->pg_type, "smallint"))) {
    pkid = sl_pg_ident(pg, pk->name);
    char *q = sl_asprintf("SELECT min(%s)::bigint, max(%s)::bigint FROM %s", pkid, pkid, qt);
    PGresult *r = NULL;
    rc = q ? sl_pg_query(pg, q, 0, NULL, &r, err) : SL_ENOMEM;
    sl_free(q);
    if (!rc && !PQgetisnull(r, 0, 0)) {
      lo = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
      hi = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
      nchunks = t->est_rows / src->chunk_rows + 1;
      if (nchunks > hi - lo + 1) nchunks = hi - lo + 1;
    }
    PQclear(r);
  }
  struct chunk *cs = rc ? NULL : sl_realloc(*chunks, (*n + (size_t)nchunks) * sizeof *cs);
  if (!rc && !cs) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  int64_t step = nchunks > 1 ? (hi - lo + 1 + nchunks - 1) / nchunks : 0;
  for (int64_t k = 0; !rc && k < nchunks; k++) {
    struct sl_buf w;
    sl_buf_init(&w);
    if (nchunks > 1) {
      sl_buf_printf(&w, " WHERE %s >= %lld", pkid, (long long)(lo + k * step));
      if (k + 1 < nchunks) sl_buf_printf(&w, " AND %s < %lld", pkid, (long long)(lo + (k + 1) * step));
    }
    if (where && *where) sl_buf_printf(&w, "%s (%s)", w.len ? " AND" : " WHERE", where);
    struct chunk *c = &cs[*n];
    c->sql = sl_asprintf("COPY (SELECT %s FROM %s%s) TO STDOUT WITH (FORMAT csv, HEADER true)", cols.data, qt,
                         w.data ? w.data : "");
    c->file = sl_asprintf("%s/%zu.csv", dir, first_index + (size_t)k);
    c->rows = 0;
    (*n)++;
    sl_buf_fini(&w);
    if (!c->sql || !c->file) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  if (cs) *chunks = cs;
  sl_free(pkid);
  sl_free(qt);
  sl_buf_fini(&cols);
  return rc;
}

static char *lake_name(const struct sl_cdc_source *src, const struct sl_pg_table *t) {
  if (!strcmp(t->schema, "public")) return sl_asprintf("%s%s", src->table_prefix, t->name);
  return sl_asprintf("%s%s_%s", src->table_prefix, t->schema, t->name);
}

void sl_cdc_load_tables_free(struct sl_cdc_load_table *t, size_t n) {
  for (size_t i = 0; t && i < n; i++) {
    sl_free(t[i].pg_table);
    sl_free(t[i].lake_table);
  }
  sl_free(t);
}

int sl_cdc_load(struct sl_catalog *cat, struct sl_store *st, const struct sl_duck_opts *dopts,
                const struct sl_ingest_opts *iopts, const struct sl_cdc_load_req *req,
                struct sl_cdc_load_table **out, size_t *n_out, struct sl_err *err) {
  const struct sl_cdc_source *src = req->src;
  struct sl_strlist one = {0};
  char *only = req->table ? (char *)req->table : NULL;
  const struct sl_strlist *list = &src->tables;
  if (only) {
    one.v = &only;
    one.n = 1;
    list = &one;
  }
  size_t nt = list->n;
  struct sl_pg_table *tabs = sl_calloc(nt + 1, sizeof *tabs);
  struct sl_cdc_load_table *res = sl_calloc(nt + 1, sizeof *res);
  struct sl_pg *pg = NULL;
  struct job j = {.src = src, .cancel = req->cancel};
  pthread_mutex_init(&j.mu, NULL);
  char uuid[37] = "";
  char *dir = NULL;
  size_t *first = sl_calloc(nt + 1, sizeof *first);
  int rc = tabs && res && first ? 0 : sl_err_set(err, SL_ENOMEM, "out of memory");
  if (!rc) rc = sl_pg_connect(src, 0, &pg, err);
  if (!rc) rc = sl_pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
  PGresult *snap = NULL;
  if (!rc) rc = sl_pg_query(pg, "SELECT pg_export_snapshot(), pg_current_wal_lsn()::text", 0, NULL, &snap, err);
  char lsn[64] = "";
  if (!rc) {
    j.snapshot = PQgetvalue(snap, 0, 0);
    snprintf(lsn, sizeof lsn, "%s", PQgetvalue(snap, 0, 1));
  }
  if (!rc && sl_uuid_v4(uuid)) rc = sl_err_set(err, SL_EIO, "cannot read /dev/urandom");
  if (!rc) {
    dir = sl_asprintf("%s/%s", req->staging, uuid);
    rc = dir ? sl_fs_mkdirs(dir, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  int64_t est = 0;
  for (size_t i = 0; !rc && i < nt; i++) {
    char *schema = NULL, *table = NULL;
    if (sl_pg_split_name(list->v[i], &schema, &table)) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    if (!rc) rc = sl_pg_table_describe(pg, schema, table, &tabs[i], err);
    sl_free(schema);
    sl_free(table);
    if (rc) break;
    res[i].pg_table = sl_asprintf("%s.%s", tabs[i].schema, tabs[i].name);
    char *ln = lake_name(src, &tabs[i]);
    res[i].lake_table = ln ? sl_asprintf("bronze.%s", ln) : NULL;
    sl_free(ln);
    if (!sl_catalog_name_valid(res[i].lake_table ? res[i].lake_table + 7 : ""))
      rc = sl_err_set(err, SL_EINVAL, "table %s: the lake name %s is not valid", res[i].pg_table,
                      res[i].lake_table ? res[i].lake_table : "?");
    first[i] = j.n;
    if (!rc) rc = plan(pg, src, &tabs[i], req->where, dir, j.n, &j.chunks, &j.n, err);
    est += tabs[i].est_rows;
  }
  /* Copy every chunk of every table, `parallel` connections at a time. */
  if (!rc) {
    struct sl_progress bar;
    char label[160];
    snprintf(label, sizeof label, "copy %s", src->name);
    sl_progress_begin_rows(&bar, label, est > 0 ? est : 1);
    if (!req->progress) bar.enabled = 0;
    size_t nw = (size_t)src->parallel < j.n ? (size_t)src->parallel : j.n;
    pthread_t th[64];
    size_t started = 0;
    for (; started < nw && started < 64; started++)
      if (pthread_create(&th[started], NULL, worker, &j)) break;
    if (!started && j.n) worker(&j);
    for (;;) {
      int all_done = 1;
      /* Poll rather than join so the bar moves; workers end when chunks run out. */
      if (atomic_load(&j.next) < j.n + started && !atomic_load(&j.failed)) all_done = 0;
      sl_progress_update(&bar, atomic_load(&j.rows), -1);
      if (all_done) break;
      struct timespec ts = {0, 100 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < started; i++) pthread_join(th[i], NULL);
    sl_progress_end(&bar, atomic_load(&j.rows), -1);
    if (atomic_load(&j.failed)) {
      *err = j.err;
      rc = err->code ? err->code : SL_EIO;
    }
  }
  PQclear(snap);
  if (pg) sl_pg_exec(pg, "COMMIT", err);
  /* One lake snapshot per table. */
  for (size_t i = 0; !rc && i < nt; i++) {
    size_t from = first[i], to = i + 1 < nt ? first[i + 1] : j.n;
    const char **files = sl_calloc(to - from + 1, sizeof *files);
    struct sl_schema cols = {0};
    cols.cols = sl_calloc(tabs[i].n_cols + 1, sizeof *cols.cols);
    cols.n_cols = tabs[i].n_cols;
    if (!files || !cols.cols) {
      sl_free(files);
      sl_free(cols.cols);
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      break;
    }
    for (size_t k = 0; k < tabs[i].n_cols; k++) {
      cols.cols[k].name = tabs[i].cols[k].name;
      cols.cols[k].type = tabs[i].cols[k].lake_type;
      cols.cols[k].nullable = 1;
    }
    for (size_t k = from; k < to; k++) files[k - from] = j.chunks[k].file;
    struct sl_buf extra;
    sl_buf_init(&extra);
    sl_buf_puts(&extra, "\"source-table\":");
    sl_buf_json_str(&extra, res[i].pg_table);
    sl_buf_printf(&extra, ",\"source-lsn\":\"%s\"", lsn);
    struct sl_ingest_req ir = {.files = files, .n_files = to - from, .ns = "bronze", .table = res[i].lake_table + 7,
                               .mode = req->mode, .format = SL_FMT_CSV, .columns = &cols, .progress = req->progress,
                               .cancel = req->cancel, .summary_extra = extra.data};
    rc = sl_ingest_files(cat, st, dopts, iopts, &ir, &res[i].res, err);
    sl_buf_fini(&extra);
    sl_free(files);
    sl_free(cols.cols);
  }
  if (dir) {
    struct sl_err e2;
    sl_fs_remove_tree(dir, &e2);
  }
  for (size_t i = 0; i < j.n; i++) {
    sl_free(j.chunks[i].sql);
    sl_free(j.chunks[i].file);
  }
  sl_free(j.chunks);
  for (size_t i = 0; tabs && i < nt; i++) sl_pg_table_fini(&tabs[i]);
  sl_free(tabs);
  sl_free(first);
  sl_free(dir);
  sl_pg_close(pg);
  pthread_mutex_destroy(&j.mu);
  if (rc) {
    sl_cdc_load_tables_free(res, nt);
    return rc;
  }
  *out = res;
  *n_out = nt;
  return 0;
}
