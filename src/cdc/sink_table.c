/* sink_table.c: changes into the lake. Each captured table gets a changelog table
 * bronze.<table>_changes: _op (r, c, u, d, t), _lsn, _commit_ts, _txid, then the
 * table's columns (after the change; the key columns for a delete). Rows gather in a
 * CSV file per table and are committed through ingest in batches (batch_events or
 * batch_ms, at a transaction's end). Each commit records the last LSN it holds in its
 * snapshot summary ("cdc-lsn"); at start the sink reads it back and skips changes at or
 * below it, so a restart after a crash neither loses nor repeats a change. Only after
 * every table's batch is committed is the LSN durable (and confirmed to PostgreSQL). */
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

struct ctable {
  char *schema, *name, *lake; /* lake: table name in bronze ("loan_changes") */
  uint64_t done_lsn;          /* the last LSN already in the lake */
  struct sl_schema cols;      /* _op, _lsn, _commit_ts, _txid, then the source's */
  FILE *f;
  char *file;
  int64_t rows;
  char *key_json; /* ["id"]: the key columns, for the current-state view */
};

struct tsink {
  const struct sl_cdc_source *src;
  const struct sl_cdc_lake *lake;
  struct ctable *t;
  size_t n;
  int64_t pending, first_ns;
  uint64_t durable;
  uint64_t last_end; /* the end of the last transaction handed over */
  char *dir;
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

static struct ctable *find(struct tsink *t, const char *schema, const char *name) {
  for (size_t i = 0; i < t->n; i++)
    if (!strcmp(t->t[i].schema, schema) && !strcmp(t->t[i].name, name)) return &t->t[i];
  return NULL;
}

/* (Re)builds a table's columns from a relation; new columns are added at the end. */
static int set_columns(struct ctable *c, const struct sl_pgo_relation *rel) {
  static const char *meta[4][2] = {{"_op", "VARCHAR"}, {"_lsn", "BIGINT"}, {"_commit_ts", "TIMESTAMPTZ"}, {"_txid", "BIGINT"}};
  sl_schema_fini(&c->cols);
  c->cols.cols = sl_calloc((size_t)rel->n_cols + 5, sizeof *c->cols.cols);
  if (!c->cols.cols) return SL_ENOMEM;
  for (int i = 0; i < 4; i++) {
    c->cols.cols[i].name = sl_strdup(meta[i][0]);
    c->cols.cols[i].type = sl_strdup(meta[i][1]);
  }
  char buf[40];
  for (uint16_t i = 0; i < rel->n_cols; i++) {
    c->cols.cols[4 + i].name = sl_strdup(rel->cols[i].name);
    c->cols.cols[4 + i].type = sl_strdup(oid_type(rel->cols[i].type_oid, rel->cols[i].typmod, buf, sizeof buf));
  }
  c->cols.n_cols = (size_t)rel->n_cols + 4;
  struct sl_buf k;
  sl_buf_init(&k);
  sl_buf_putc(&k, '[');
  for (uint16_t i = 0, n = 0; i < rel->n_cols; i++)
    if (rel->cols[i].key) {
      if (n++) sl_buf_putc(&k, ',');
      sl_buf_json_str(&k, rel->cols[i].name);
    }
  sl_buf_putc(&k, ']');
  sl_free(c->key_json);
  c->key_json = sl_buf_take(&k);
  for (size_t i = 0; i < c->cols.n_cols; i++) {
    c->cols.cols[i].nullable = 1;
    if (!c->cols.cols[i].name || !c->cols.cols[i].type) return SL_ENOMEM;
  }
  return 0;
}

static void csv_field(FILE *f, const char *s, size_t n) {
  int quote = n == 0 || memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) || memchr(s, '\r', n);
  if (!quote) {
    fwrite(s, 1, n, f);
    return;
  }
  fputc('"', f);
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"') fputc('"', f);
    fputc(s[i], f);
  }
  fputc('"', f);
}

static int open_batch(struct tsink *t, struct ctable *c, struct sl_err *err) {
  if (c->f) return 0;
  sl_free(c->file);
  c->file = sl_asprintf("%s/%s.csv", t->dir, c->lake);
  if (!c->file) return sl_err_set(err, SL_ENOMEM, "out of memory");
  c->f = fopen(c->file, "w");
  if (!c->f) return sl_err_set(err, SL_EIO, "create %s: %s", c->file, strerror(errno));
  for (size_t i = 0; i < c->cols.n_cols; i++) {
    if (i) fputc(',', c->f);
    csv_field(c->f, c->cols.cols[i].name, strlen(c->cols.cols[i].name));
  }
  fputc('\n', c->f);
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
  if (c->cols.n_cols != (size_t)rel->n_cols + 4) {
    /* A column was added upstream: commit what was read with the old columns first. */
    uint64_t d = t->durable;
    if (c->rows) {
      int rc = s->boundary(s, 0, 1, &d, err);
      if (rc) return rc;
    }
    if (set_columns(c, rel)) return sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  int rc = open_batch(t, c, err);
  if (rc) return rc;
  const struct sl_pgo_tuple *row = after ? after : before;
  char when[40];
  sl_time_iso8601(es->ts_ms, when, sizeof when);
  fputc(op, c->f);
  fprintf(c->f, ",%" PRIu64 ",%s,", es->lsn, when);
  if (es->tx_id >= 0) fprintf(c->f, "%lld", (long long)es->tx_id);
  for (uint16_t i = 0; i < rel->n_cols; i++) {
    fputc(',', c->f);
    if (!row || i >= row->n) continue;
    const struct sl_pgo_value *v = &row->v[i];
    if (v->kind == 't') csv_field(c->f, v->data ? v->data : "", v->len);
    else if (v->kind == 'u' && !strcmp(c->cols.cols[4 + i].type, "VARCHAR"))
      csv_field(c->f, SL_CDC_TOAST_PLACEHOLDER, strlen(SL_CDC_TOAST_PLACEHOLDER));
  }
  fputc('\n', c->f);
  if (ferror(c->f)) return sl_err_set(err, SL_EIO, "write %s: %s (is the disk full?)", c->file, strerror(errno));
  c->rows++;
  if (!t->pending++) t->first_ns = sl_time_mono_ns();
  return 0;
}

static int commit_table(struct tsink *t, struct ctable *c, uint64_t lsn, struct sl_err *err) {
  if (fclose(c->f)) {
    c->f = NULL;
    return sl_err_set(err, SL_EIO, "write %s: %s", c->file, strerror(errno));
  }
  c->f = NULL;
  char *extra = sl_asprintf("\"cdc-lsn\":%" PRIu64 ",\"cdc-key\":%s,\"source-table\":\"%s.%s\"", lsn,
                            c->key_json ? c->key_json : "[]", c->schema, c->name);
  if (!extra) return sl_err_set(err, SL_ENOMEM, "out of memory");
  const char *files[1] = {c->file};
  struct sl_ingest_req ir = {.files = files, .n_files = 1, .ns = "bronze", .table = c->lake, .mode = SL_INGEST_APPEND,
                             .format = SL_FMT_CSV, .columns = &c->cols, .evolve = 1, .summary_extra = extra};
  struct sl_ingest_result res;
  int rc = sl_ingest_files(t->lake->cat, t->lake->store, t->lake->dopts, t->lake->iopts, &ir, &res, err);
  sl_free(extra);
  if (rc) {
    char l[32];
    sl_cdc_lsn_text(lsn, l);
    return sl_err_prefix(err, "cdc into bronze.%s (source %s.%s, at LSN %s): ", c->lake, c->schema, c->name, l);
  }
  remove(c->file);
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
    int due = force || (end_lsn && ( t->pending >= t->lake->batch_events ||
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
    if (t->t[i].f) fclose(t->t[i].f);
    sl_free(t->t[i].schema);
    sl_free(t->t[i].name);
    sl_free(t->t[i].lake);
    sl_free(t->t[i].file);
    sl_free(t->t[i].key_json);
    sl_schema_fini(&t->t[i].cols);
  }
  if (t->dir) {
    struct sl_err e;
    sl_fs_remove_tree(t->dir, &e);
  }
  sl_free(t->dir);
  sl_free(t->t);
  sl_free(t);
  s->impl = NULL;
}

/* The LSN recorded by the table's last commit ("cdc-lsn" in its summary), or 0. */
static uint64_t committed_lsn(struct sl_catalog *cat, const char *table) {
  struct sl_table_info ti = {0};
  struct sl_snapshot *ss = NULL;
  size_t n = 0;
  struct sl_err e;
  uint64_t lsn = 0;
  if (sl_catalog_table_get(cat, "bronze", table, &ti, &e) == 0 && sl_catalog_snapshot_list(cat, ti.table_id, &ss, &n, &e) == 0)
    for (size_t i = 0; i < n; i++) {
      json_t *j = ss[i].summary_json ? json_loads(ss[i].summary_json, 0, NULL) : NULL;
      json_t *v = j ? json_object_get(j, "cdc-lsn") : NULL;
      if (json_is_integer(v) && (uint64_t)json_integer_value(v) > lsn) lsn = (uint64_t)json_integer_value(v);
      json_decref(j);
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
  t->t = sl_calloc(src->tables.n + 1, sizeof *t->t);
  char uuid[37];
  sl_uuid_v4(uuid);
  t->dir = sl_asprintf("%s/cdc-%s-%s", lake->staging, src->name, uuid);
  out->impl = t;
  out->name = "table";
  out->event = ts_event;
  out->boundary = ts_boundary;
  out->pending = ts_pending;
  out->close = ts_close;
  if (!t->t || !t->dir) return sl_err_set(err, SL_ENOMEM, "out of memory");
  int rc = sl_fs_mkdirs(t->dir, err);
  for (size_t i = 0; !rc && i < src->tables.n; i++) {
    struct ctable *c = &t->t[t->n++];
    if (sl_pg_split_name(src->tables.v[i], &c->schema, &c->name)) return sl_err_set(err, SL_ENOMEM, "out of memory");
    c->lake = !strcmp(c->schema, "public") ? sl_asprintf("%s%s_changes", src->table_prefix, c->name)
                                           : sl_asprintf("%s%s_%s_changes", src->table_prefix, c->schema, c->name);
    if (!c->lake || !sl_catalog_name_valid(c->lake))
      return sl_err_set(err, SL_EINVAL, "table %s: the lake name bronze.%s is not valid", src->tables.v[i], c->lake ? c->lake : "?");
    c->done_lsn = committed_lsn(lake->cat, c->lake);
    if (c->done_lsn > t->durable) t->durable = c->done_lsn;
  }
  return rc;
}
