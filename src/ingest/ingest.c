/* ingest.c: the ingest flow. Order matters for safety:
 *   1. read the table's current snapshot and schema (the expected parent);
 *   2. DuckDB writes Parquet files under fresh UUID names (invisible: no snapshot
 *      references them);
 *   3. the files and their folder are fsynced;
 *   4. one catalog commit, checked against the expected parent, publishes them.
 * Any failure before 4 removes the new files; a kill leaves them as orphans. */
#include "ingest/ingest.h"

#include "core/metrics.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/progress.h"
#include "core/time.h"
#include "ingest/ingest_int.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const struct sl_cfg_section sl_ingest_section = {
    "ingest",
    (const struct sl_opt[]){
        {"target_file_size", SL_OPT_SIZE, offsetof(struct sl_ingest_opts, target_file_size), "256MB", 1 << 20,
         (int64_t)1 << 40, NULL, "Size at which a new Parquet file is started.", 0},
        {"row_group_size", SL_OPT_INT, offsetof(struct sl_ingest_opts, row_group_size), "122880", 1024, 100000000,
         NULL, "Rows per Parquet row group.", 0},
        {"compression_level", SL_OPT_INT, offsetof(struct sl_ingest_opts, compression_level), "3", 1, 22, NULL,
         "zstd level of the Parquet files.", 0},
        {"commit_retries", SL_OPT_INT, offsetof(struct sl_ingest_opts, commit_retries), "5", 0, 100, NULL,
         "Commit attempts after losing to a concurrent writer.", 0},
        {NULL, 0, 0, NULL, 0, 0, NULL, NULL, 0},
    },
    "Batch ingest of files into lake tables.",
};

enum sl_ingest_format sl_ingest_format_of(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  char name[512];
  snprintf(name, sizeof name, "%s", base);
  char *dot = strrchr(name, '.');
  if (dot && (!strcmp(dot, ".gz") || !strcmp(dot, ".zst"))) {
    *dot = '\0';
    dot = strrchr(name, '.');
  }
  if (!dot) return SL_FMT_AUTO;
  if (!strcmp(dot, ".csv") || !strcmp(dot, ".tsv") || !strcmp(dot, ".txt")) return SL_FMT_CSV;
  if (!strcmp(dot, ".parquet")) return SL_FMT_PARQUET;
  if (!strcmp(dot, ".jsonl") || !strcmp(dot, ".ndjson") || !strcmp(dot, ".json")) return SL_FMT_JSONL;
  return SL_FMT_AUTO;
}

int sl_ingest_format_parse(const char *s, enum sl_ingest_format *out) {
  if (!strcmp(s, "csv")) *out = SL_FMT_CSV;
  else if (!strcmp(s, "parquet")) *out = SL_FMT_PARQUET;
  else if (!strcmp(s, "jsonl") || !strcmp(s, "json")) *out = SL_FMT_JSONL;
  else return -1;
  return 0;
}

/* "id BIGINT, name VARCHAR" -> {'id': 'BIGINT', 'name': 'VARCHAR'} for read_csv. */
static int schema_struct(const char *schema, struct sl_buf *b, struct sl_err *err) {
  sl_buf_putc(b, '{');
  int n = 0;
  const char *p = schema;
  while (*p) {
    while (*p == ' ' || *p == ',') p++;
    if (!*p) break;
    const char *ns = p;
    while (*p && *p != ' ') p++;
    char *name = sl_strndup(ns, (size_t)(p - ns));
    while (*p == ' ') p++;
    /* The type runs to the next comma outside parentheses. */
    const char *ts = p;
    int depth = 0;
    while (*p && (depth || *p != ',')) {
      if (*p == '(') depth++;
      if (*p == ')') depth--;
      p++;
    }
    const char *te = p;
    while (te > ts && te[-1] == ' ') te--;
    char *type = sl_strndup(ts, (size_t)(te - ts));
    int bad = !name || !type || !*name || !*type || !sl_ingest_type_safe(type);
    if (!bad) {
      if (n++) sl_buf_puts(b, ", ");
      sl_buf_sql_str(b, name);
      sl_buf_puts(b, ": ");
      sl_buf_sql_str(b, type);
    }
    sl_free(name);
    sl_free(type);
    if (bad)
      return sl_err_set(err, SL_EINVAL, "--schema '%s': expected 'name TYPE, name TYPE', e.g. 'id BIGINT, city VARCHAR'",
                        schema);
  }
  if (!n) return sl_err_set(err, SL_EINVAL, "--schema is empty; expected 'name TYPE, name TYPE'");
  return sl_buf_putc(b, '}');
}

static int build_reader(const struct sl_ingest_req *req, enum sl_ingest_format fmt,
                        const struct sl_ingest_csv_head *head, struct sl_buf *b, struct sl_err *err) {
  static const char *fn[] = {"", "read_csv", "read_parquet", "read_json"};
  sl_buf_printf(b, "%s([", fn[fmt]);
  for (size_t i = 0; i < req->n_files; i++) {
    if (i) sl_buf_putc(b, ',');
    sl_buf_sql_str(b, req->files[i]);
  }
  sl_buf_putc(b, ']');
  if (fmt == SL_FMT_CSV) {
    sl_buf_printf(b, ", header=%s", req->no_header ? "false" : "true");
    if (head->known || req->delim) {
      char d[2] = {head->known ? head->delim : req->delim, 0};
      if (head->known) sl_buf_puts(b, ", skip=0");
      sl_buf_puts(b, ", delim=");
      sl_buf_sql_str(b, d);
    }
    if (req->columns) {
      /* Exact columns (e.g. from PostgreSQL's catalog): no sniffing of names or types. */
      sl_buf_puts(b, ", auto_detect=false, allow_quoted_nulls=false, quote='\"', escape='\"', columns={");
      for (size_t i = 0; i < req->columns->n_cols; i++) {
        if (i) sl_buf_puts(b, ", ");
        sl_buf_sql_str(b, req->columns->cols[i].name);
        sl_buf_puts(b, ": ");
        sl_buf_sql_str(b, req->columns->cols[i].type);
      }
      sl_buf_putc(b, '}');
      if (!head->known) sl_buf_puts(b, ", delim=','");
    } else if (req->schema) {
      sl_buf_puts(b, ", columns=");
      if (schema_struct(req->schema, b, err)) return err->code;
    }
  } else if (fmt == SL_FMT_JSONL) {
    sl_buf_puts(b, ", format='newline_delimited'");
    if (req->schema) {
      sl_buf_puts(b, ", columns=");
      if (schema_struct(req->schema, b, err)) return err->code;
    }
  } else {
    sl_buf_puts(b, ", union_by_name=true");
    if (req->schema) return sl_err_set(err, SL_EINVAL, "--schema applies to CSV and JSON files; Parquet files carry their own");
  }
  return sl_buf_putc(b, ')') ? sl_err_set(err, SL_ENOMEM, "out of memory") : 0;
}

/* After the sniffer gave up: read the files strictly with the header's fields as text,
 * so DuckDB names the first line that does not fit. Replaces err when it finds one. */
static void diagnose_csv(struct sl_duck *d, const struct sl_ingest_req *req, const struct sl_ingest_csv_head *head,
                         struct sl_err *err) {
  struct sl_buf b;
  sl_buf_init(&b);
  char dl[2] = {head->delim, 0};
  sl_buf_puts(&b, "SELECT count(*) FROM read_csv([");
  for (size_t i = 0; i < req->n_files; i++) {
    if (i) sl_buf_putc(&b, ',');
    sl_buf_sql_str(&b, req->files[i]);
  }
  sl_buf_printf(&b, "], auto_detect=false, header=%s, quote='\"', escape='\"', delim=", req->no_header ? "false" : "true");
  sl_buf_sql_str(&b, dl);
  sl_buf_puts(&b, ", columns={");
  for (size_t i = 0; i < head->n; i++) {
    char cn[32];
    snprintf(cn, sizeof cn, "column%zu", i);
    if (i) sl_buf_puts(&b, ", ");
    sl_buf_sql_str(&b, req->no_header ? cn : head->names[i]);
    sl_buf_puts(&b, ": 'VARCHAR'");
  }
  if (!sl_buf_puts(&b, "})")) {
    struct sl_err e2 = {0};
    if (sl_duck_exec(d, b.data, &e2) && strstr(e2.msg, "Line")) *err = e2;
  }
  sl_buf_fini(&b);
}

/* Polls DuckDB's progress while the COPY runs, and interrupts it on cancel. */
struct watch {
  struct sl_duck *d;
  struct sl_progress bar;
  int64_t total;
  volatile int *cancel;
  int draw;
  volatile int done;
};

static void *watch_main(void *arg) {
  struct watch *w = arg;
  struct timespec ts = {0, 50 * 1000 * 1000};
  while (!w->done) {
    nanosleep(&ts, NULL);
    if (w->cancel && *w->cancel) {
      sl_duck_interrupt(w->d);
      break;
    }
    if (w->draw) {
      duckdb_query_progress_type p = duckdb_query_progress(w->d->con);
      if (p.percentage >= 0)
        sl_progress_update(&w->bar, (int64_t)((double)w->total * p.percentage / 100.0), (int64_t)p.rows_processed);
    }
  }
  return NULL;
}

static char *summary_json(const struct sl_ingest_req *req, const struct sl_ingest_written *w, int64_t rows, int64_t bytes_in) {
  struct sl_buf b;
  sl_buf_init(&b);
  int64_t out = 0;
  for (size_t i = 0; i < w->n; i++) out += w->bytes[i];
  sl_buf_printf(&b, "{\"added-rows\":%lld,\"added-files\":%zu,\"added-bytes\":%lld,\"source-bytes\":%lld",
                (long long)rows, w->n, (long long)out, (long long)bytes_in);
  if (req->summary_extra) {
    sl_buf_printf(&b, ",%s", req->summary_extra); /* the caller names the source; the files are its staging */
  } else {
    sl_buf_puts(&b, ",\"source\":[");
    for (size_t i = 0; i < req->n_files && i < 20; i++) {
      if (i) sl_buf_putc(&b, ',');
      sl_buf_json_str(&b, req->files[i]);
    }
    if (req->n_files > 20) sl_buf_printf(&b, ",\"... %zu more\"", req->n_files - 20);
    sl_buf_putc(&b, ']');
  }
  sl_buf_putc(&b, '}');
  return sl_buf_take(&b);
}

int sl_ingest_files(struct sl_catalog *cat, struct sl_store *st, const struct sl_duck_opts *dopts,
                    const struct sl_ingest_opts *opts, const struct sl_ingest_req *req,
                    struct sl_ingest_result *res, struct sl_err *err) {
  memset(res, 0, sizeof *res);
  int64_t t0 = sl_time_mono_ns();
  char qualified[160];
  snprintf(qualified, sizeof qualified, "%s.%s", req->ns, req->table);
  if (!req->n_files) return sl_err_set(err, SL_EINVAL, "ingest into %s: no input files", qualified);
  enum sl_ingest_format fmt = req->format;
  for (size_t i = 0; i < req->n_files; i++) {
    int64_t sz = sl_fs_size(req->files[i]);
    if (sz < 0 || sl_fs_is_dir(req->files[i]))
      return sl_err_set(err, SL_ENOTFOUND, "ingest: %s: no such file", req->files[i]);
    res->bytes_in += sz;
    if (req->format == SL_FMT_AUTO) {
      enum sl_ingest_format f = sl_ingest_format_of(req->files[i]);
      if (f == SL_FMT_AUTO)
        return sl_err_set(err, SL_EINVAL, "ingest: %s: unknown format; name it .csv, .parquet or .jsonl, or pass --format",
                          req->files[i]);
      if (i && f != fmt)
        return sl_err_set(err, SL_EINVAL, "ingest: %s is another format than %s; ingest one format at a time",
                          req->files[i], req->files[0]);
      fmt = f;
    }
  }
  /* Fail before the expensive part when the namespace is missing. */
  {
    char **nss = NULL;
    size_t nn = 0;
    int found = 0, rc0 = sl_catalog_ns_list(cat, &nss, &nn, err);
    for (size_t i = 0; i < nn; i++) found |= !strcmp(nss[i], req->ns);
    sl_str_list_free(nss, nn);
    if (rc0) return rc0;
    if (!found)
      return sl_err_set(err, SL_ENOTFOUND, "ingest into %s: namespace %s does not exist; the zones are bronze, silver and gold",
                        qualified, req->ns);
  }
  struct sl_duck *d = NULL;
  struct sl_buf reader, sel, select;
  sl_buf_init(&reader);
  sl_buf_init(&sel);
  sl_buf_init(&select);
  struct sl_schema in = {0}, cur = {0}, out = {0};
  struct sl_table_info ti = {0};
  struct sl_ingest_csv_head head = {0};
  struct sl_ingest_written w = {0};
  char *prefix = NULL, *summary = NULL;
  char uuid[37] = "";
  int rc = sl_duck_open(NULL, dopts, &d, err);
  if (rc) goto out;
  if (fmt == SL_FMT_CSV && (rc = sl_ingest_csv_header(req->files[0], req->delim, &head, err))) goto out;
  if ((rc = build_reader(req, fmt, &head, &reader, err))) goto out;
  if ((rc = sl_ingest_describe(d, reader.data, &in, err))) {
    if (head.known) diagnose_csv(d, req, &head, err);
    sl_ingest_condense_error(err, req->files, req->n_files);
    sl_err_prefix(err, "ingest into %s: ", qualified);
    goto out;
  }
  if (head.known && !req->schema && !req->columns && in.n_cols != head.n) {
    rc = sl_err_set(err, SL_EDATA, "ingest into %s: %s:1: the header has %zu fields but the rows have %zu; fix the header",
                    qualified, req->files[0], head.n, in.n_cols);
    goto out;
  }
  int64_t parent = 0;
  rc = sl_catalog_table_get(cat, req->ns, req->table, &ti, err);
  if (rc == SL_ENOTFOUND) {
    sl_err_clear(err);
    rc = 0;
  } else if (rc) {
    goto out;
  } else {
    parent = ti.current_snapshot;
    if (req->mode == SL_INGEST_APPEND && (rc = sl_catalog_schema_get(cat, ti.table_id, ti.schema_id, &cur, err)))
      goto out;
  }
  int have_cur = ti.table_id && req->mode == SL_INGEST_APPEND;
  if ((rc = sl_ingest_reconcile(have_cur ? &cur : NULL, &in, req->evolve, qualified, &sel, &out, err))) {
    sl_err_prefix(err, "ingest into %s: ", qualified);
    goto out;
  }
  sl_buf_printf(&select, "SELECT %s FROM %s", sel.data, reader.data);
  if (sl_uuid_v4(uuid)) {
    rc = sl_err_set(err, SL_EIO, "ingest: cannot read /dev/urandom for a file name");
    goto out;
  }
  prefix = sl_lake_table_data_prefix(req->ns, req->table);
  if (!prefix || !select.data) {
    rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    goto out;
  }
  if ((rc = sl_store_prepare(st, prefix, err))) goto out;

  struct watch wt = {.d = d, .total = res->bytes_in, .cancel = req->cancel, .draw = req->progress};
  char label[200];
  snprintf(label, sizeof label, "ingest %s", qualified);
  sl_progress_begin(&wt.bar, label, res->bytes_in);
  if (!req->progress) wt.bar.enabled = 0;
  /* DuckDB tracks query progress only with its progress bar on; we draw our own. */
  if (req->progress && wt.bar.enabled)
    sl_duck_exec(d, "SET enable_progress_bar = true; SET enable_progress_bar_print = false; SET progress_bar_time = 100", err);
  pthread_t th;
  int have_thread = pthread_create(&th, NULL, watch_main, &wt) == 0;
  rc = sl_ingest_copy_out(d, st, opts, select.data, prefix, uuid, NULL, &w, err);
  wt.done = 1;
  if (have_thread) pthread_join(th, NULL);
  for (size_t i = 0; i < w.n; i++) res->rows += w.rows[i];
  if (rc) {
    if (rc == SL_EINTR) sl_err_set(err, SL_EINTR, "ingest into %s: interrupted; the table is unchanged", qualified);
    else {
      sl_ingest_condense_error(err, req->files, req->n_files);
      sl_err_prefix(err, "ingest into %s: ", qualified);
    }
    goto out_remove;
  }
  sl_progress_end(&wt.bar, res->bytes_in, res->rows);
  if (req->cancel && *req->cancel) {
    rc = sl_err_set(err, SL_EINTR, "ingest into %s: interrupted; the table is unchanged", qualified);
    goto out_remove;
  }
  w.stats = sl_calloc(w.n + 1, sizeof *w.stats);
  if (!w.stats) {
    rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    goto out_remove;
  }
  if (w.n && (rc = sl_ingest_file_stats(d, &out, w.urls, w.n, w.stats, err))) goto out_remove;
  if ((rc = sl_store_sync(st, (const char *const *)w.keys, w.n, err))) goto out_remove;

  struct sl_data_file *add = sl_calloc(w.n + 1, sizeof *add);
  if (!add) {
    rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    goto out_remove;
  }
  for (size_t i = 0; i < w.n; i++) {
    add[i].path = w.keys[i];
    add[i].rows = w.rows[i];
    add[i].bytes = w.bytes[i];
    add[i].stats_json = w.stats[i];
    res->bytes_out += w.bytes[i];
  }
  summary = summary_json(req, &w, res->rows, res->bytes_in);
  struct sl_commit c = {
      .ns = req->ns,
      .table = req->table,
      .expected_parent = parent,
      .operation = !parent ? "create" : req->mode == SL_INGEST_REPLACE ? "replace" : "append",
      .summary_json = summary,
      .schema = &out,
      .add = add,
      .n_add = w.n,
      .replace = req->mode == SL_INGEST_REPLACE,
  };
  for (int64_t attempt = 0;; attempt++) {
    rc = sl_catalog_commit(cat, &c, &res->snapshot_id, err);
    if (rc != SL_ECONFLICT || attempt >= opts->commit_retries) break;
    /* Someone committed first. Our files are still valid if the schema we wrote is
     * still the table's (or this is a replace); retry on top of the new snapshot. */
    struct sl_table_info now = {0};
    struct sl_schema now_s = {0};
    int same = 0;
    if (!sl_catalog_table_get(cat, req->ns, req->table, &now, err)) {
      if (req->mode == SL_INGEST_REPLACE) same = 1;
      else if (!sl_catalog_schema_get(cat, now.table_id, now.schema_id, &now_s, err))
        same = have_cur ? sl_schema_same(&now_s, &cur) : sl_schema_same(&now_s, &out);
      c.expected_parent = now.current_snapshot;
      c.operation = req->mode == SL_INGEST_REPLACE ? "replace" : "append";
    }
    sl_schema_fini(&now_s);
    sl_table_info_fini(&now);
    if (!same) {
      rc = sl_err_set(err, SL_ECONFLICT, "ingest into %s: the table's schema changed during the ingest; run it again",
                      qualified);
      break;
    }
    sl_log(SL_LOG_INFO, "ingest", "commit conflict, retrying", "table", qualified, NULL);
  }
  sl_free(add);
  if (rc) goto out_remove;
  res->created = parent == 0;
  res->files_out = w.n;
  res->seconds = (double)(sl_time_mono_ns() - t0) / 1e9;
  {
    char rows_s[32], snap_s[32];
    snprintf(rows_s, sizeof rows_s, "%lld", (long long)res->rows);
    snprintf(snap_s, sizeof snap_s, "%lld", (long long)res->snapshot_id);
    sl_log(SL_LOG_INFO, "ingest", "committed", "table", qualified, "rows", rows_s, "snapshot", snap_s, NULL);
    sl_metrics_ingest_committed(res->rows, res->bytes_in);
  }
  goto out;
out_remove:
  sl_ingest_written_remove(st, prefix, uuid);
out:
  sl_ingest_written_free(&w);
  sl_ingest_csv_head_fini(&head);
  sl_free(prefix);
  sl_free(summary);
  sl_schema_fini(&in);
  sl_schema_fini(&cur);
  sl_schema_fini(&out);
  sl_table_info_fini(&ti);
  sl_buf_fini(&reader);
  sl_buf_fini(&sel);
  sl_buf_fini(&select);
  sl_duck_close(d);
  return rc;
}
