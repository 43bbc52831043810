/* duck.c: DuckDB connection, statements and results, with errors as sl_err. */
#include "sql/duck.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

#include <stdio.h>
#include <string.h>

/* The statement's first line (up to 160 chars) for error context. */
static void sql_context(const char *sql, char *out, size_t cap) {
  while (*sql == ' ' || *sql == '\n' || *sql == '\t') sql++;
  size_t n = strcspn(sql, "\n");
  if (n > 160) n = 160;
  if (n >= cap) n = cap - 1;
  memcpy(out, sql, n);
  out[n] = '\0';
}

/* The length of msg without a repeat of its last "\n\nLINE n: ..." block (DuckDB's
 * parser errors show the position twice). */
static int once_len(const char *msg) {
  size_t n = strlen(msg);
  const char *first = strstr(msg, "\n\nLINE ");
  const char *second = first ? strstr(first + 1, "\n\nLINE ") : NULL;
  if (second && (size_t)(second - first) == strlen(second) && !strncmp(first, second, strlen(second)))
    n = (size_t)(second - msg);
  return n > 100000 ? 100000 : (int)n;
}

int sl_duck_open(const char *path, const struct sl_duck_opts *opts, struct sl_duck **out,
                 struct sl_err *err) {
  struct sl_duck *d = sl_calloc(1, sizeof *d);
  if (!d) return sl_err_set(err, SL_ENOMEM, "DuckDB: out of memory");
  duckdb_config cfg;
  if (duckdb_create_config(&cfg) == DuckDBError) {
    sl_free(d);
    return sl_err_set(err, SL_ENOMEM, "DuckDB: cannot create config");
  }
  char buf[32];
  if (opts && opts->threads > 0) {
    snprintf(buf, sizeof buf, "%d", opts->threads);
    duckdb_set_config(cfg, "threads", buf);
  }
  if (opts && opts->memory_limit && *opts->memory_limit) duckdb_set_config(cfg, "memory_limit", opts->memory_limit);
  if (opts && opts->temp_dir && *opts->temp_dir) duckdb_set_config(cfg, "temp_directory", opts->temp_dir);
  /* No network, no extension downloads: everything sluice needs is built in. */
  duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
  duckdb_set_config(cfg, "autoload_known_extensions", "false");
  char *open_err = NULL;
  if (duckdb_open_ext(path, &d->db, cfg, &open_err) == DuckDBError) {
    int rc = sl_err_set(err, SL_EIO, "DuckDB open %s: %s", path ? path : ":memory:",
                        open_err ? open_err : "unknown error");
    duckdb_free(open_err);
    duckdb_destroy_config(&cfg);
    sl_free(d);
    return rc;
  }
  duckdb_destroy_config(&cfg);
  if (duckdb_connect(d->db, &d->con) == DuckDBError) {
    duckdb_close(&d->db);
    sl_free(d);
    return sl_err_set(err, SL_EIO, "DuckDB: cannot connect");
  }
  *out = d;
  return 0;
}

void sl_duck_close(struct sl_duck *d) {
  if (!d) return;
  duckdb_disconnect(&d->con);
  duckdb_close(&d->db);
  sl_free(d->once);
  sl_free(d);
}

int sl_duck_query(struct sl_duck *d, const char *sql, struct sl_duck_result *res, struct sl_err *err) {
  memset(res, 0, sizeof *res);
  int debug = sl_log_enabled(SL_LOG_DEBUG);
  int64_t t0 = debug ? sl_time_mono_ns() : 0;
  duckdb_state st = duckdb_query(d->con, sql, &res->r);
  if (debug) {
    /* Each query's time and its first line, string literals masked (they may hold
     * a user's secret). */
    char ms[32], ctx[200], shape[200];
    snprintf(ms, sizeof ms, "%.1f", (double)(sl_time_mono_ns() - t0) / 1e6);
    sql_context(sql, ctx, sizeof ctx);
    size_t k = 0;
    int in_str = 0;
    for (const char *c = ctx; *c && k + 4 < sizeof shape; c++) {
      if (*c == '\'') {
        if (!in_str) memcpy(shape + k, "'..'", 4), k += 4;
        in_str = !in_str;
      } else if (!in_str) {
        shape[k++] = *c;
      }
    }
    shape[k] = '\0';
    sl_log(SL_LOG_DEBUG, "sql", "query", "ms", ms, "sql", shape, NULL);
  }
  if (st == DuckDBError) {
    const char *msg = duckdb_result_error(&res->r);
    duckdb_error_type et = duckdb_result_error_type(&res->r);
    int code = et == DUCKDB_ERROR_INTERRUPT ? SL_EINTR : SL_ESQL;
    char ctx[200];
    sql_context(sql, ctx, sizeof ctx);
    int rc = sl_err_set(err, code, "%.*s\n  in: %s", msg ? once_len(msg) : 12, msg ? msg : "query failed", ctx);
    duckdb_destroy_result(&res->r);
    return rc;
  }
  res->valid = 1;
  return 0;
}

int sl_duck_exec(struct sl_duck *d, const char *sql, struct sl_err *err) {
  struct sl_duck_result res;
  int rc = sl_duck_query(d, sql, &res, err);
  sl_duck_result_fini(&res);
  return rc;
}

int sl_duck_exec_once(struct sl_duck *d, const char *sql, struct sl_err *err) {
  uint64_t h = 14695981039346656037ull; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)sql; *p; p++) h = (h ^ *p) * 1099511628211ull;
  for (size_t i = 0; i < d->n_once; i++)
    if (d->once[i] == h) return 0;
  int rc = sl_duck_exec(d, sql, err);
  if (!rc && !sl_array_grow(&d->once, &d->cap_once, d->n_once + 1, sizeof *d->once)) d->once[d->n_once++] = h;
  return rc;
}

int sl_duck_query_text(struct sl_duck *d, const char *sql, struct sl_duck_result *res, duckdb_type **types,
                       struct sl_err *err) {
  return sl_duck_query_text_limit(d, sql, 0, res, types, err);
}

int sl_duck_query_text_limit(struct sl_duck *d, const char *sql, int64_t limit, struct sl_duck_result *res,
                             duckdb_type **types, struct sl_err *err) {
  *types = NULL;
  duckdb_extracted_statements stmts = NULL;
  idx_t n = duckdb_extract_statements(d->con, sql, &stmts);
  int wrapped = 0, rc = 0;
  if (n == 0) {
    /* Not parseable: let the plain query report the error with its context. */
    duckdb_destroy_extracted(&stmts);
    return sl_duck_query(d, sql, res, err);
  }
  if (n == 1) {
    duckdb_prepared_statement prep = NULL;
    if (duckdb_prepare_extracted_statement(d->con, stmts, 0, &prep) == DuckDBSuccess &&
        duckdb_prepared_statement_type(prep) == DUCKDB_STATEMENT_TYPE_SELECT) {
      idx_t nc = duckdb_prepared_statement_column_count(prep);
      *types = sl_calloc(nc + 1, sizeof **types);
      for (idx_t i = 0; *types && i < nc; i++) (*types)[i] = duckdb_prepared_statement_column_type(prep, i);
      /* The statement without its trailing semicolons, as a subquery. */
      size_t len = strlen(sql);
      while (len && (sql[len - 1] == ';' || sql[len - 1] == ' ' || sql[len - 1] == '\n' || sql[len - 1] == '\t')) len--;
      char lim[40] = "";
      if (limit > 0) snprintf(lim, sizeof lim, " LIMIT %lld", (long long)limit);
      char *w = sl_asprintf("SELECT COLUMNS(*)::VARCHAR FROM (%.*s\n) AS sl_query%s", (int)len, sql, lim);
      struct sl_err werr = {0};
      if (w && sl_duck_query(d, w, res, &werr) == 0) wrapped = 1;
      sl_free(w);
    }
    duckdb_destroy_prepare(&prep);
  }
  duckdb_destroy_extracted(&stmts);
  if (wrapped) return 0;
  rc = sl_duck_query(d, sql, res, err);
  if (!rc) {
    int64_t nc = sl_duck_result_cols(res);
    sl_free(*types);
    *types = sl_calloc((size_t)nc + 1, sizeof **types);
    for (int64_t i = 0; *types && i < nc; i++) (*types)[i] = sl_duck_result_type(res, i);
  }
  return rc;
}

int sl_duck_is_read_only(struct sl_duck *d, const char *sql) {
  duckdb_extracted_statements stmts = NULL;
  idx_t n = duckdb_extract_statements(d->con, sql, &stmts);
  int ro = n == 0 ? -1 : 0;
  if (n == 1) {
    duckdb_prepared_statement prep = NULL;
    if (duckdb_prepare_extracted_statement(d->con, stmts, 0, &prep) == DuckDBSuccess) {
      duckdb_statement_type t = duckdb_prepared_statement_type(prep);
      ro = t == DUCKDB_STATEMENT_TYPE_SELECT || t == DUCKDB_STATEMENT_TYPE_EXPLAIN;
    } else {
      ro = -1;
    }
    duckdb_destroy_prepare(&prep);
  }
  duckdb_destroy_extracted(&stmts);
  return ro;
}

void sl_duck_result_fini(struct sl_duck_result *res) {
  if (res->valid) duckdb_destroy_result(&res->r);
  res->valid = 0;
}

int64_t sl_duck_result_rows(struct sl_duck_result *res) { return (int64_t)duckdb_row_count(&res->r); }
int64_t sl_duck_result_cols(struct sl_duck_result *res) { return (int64_t)duckdb_column_count(&res->r); }
const char *sl_duck_result_name(struct sl_duck_result *res, int64_t col) {
  return duckdb_column_name(&res->r, (idx_t)col);
}
duckdb_type sl_duck_result_type(struct sl_duck_result *res, int64_t col) {
  return duckdb_column_type(&res->r, (idx_t)col);
}

int sl_duck_result_is_null(struct sl_duck_result *res, int64_t col, int64_t row) {
  return duckdb_value_is_null(&res->r, (idx_t)col, (idx_t)row);
}

char *sl_duck_result_text(struct sl_duck_result *res, int64_t col, int64_t row) {
  if (duckdb_value_is_null(&res->r, (idx_t)col, (idx_t)row)) return NULL;
  char *v = duckdb_value_varchar(&res->r, (idx_t)col, (idx_t)row);
  char *out = sl_strdup(v ? v : "");
  duckdb_free(v);
  return out;
}

int sl_duck_query_int(struct sl_duck *d, const char *sql, int64_t *out, struct sl_err *err) {
  struct sl_duck_result res;
  int rc = sl_duck_query(d, sql, &res, err);
  if (rc) return rc;
  if (sl_duck_result_rows(&res) < 1 || sl_duck_result_cols(&res) < 1) {
    sl_duck_result_fini(&res);
    return sl_err_set(err, SL_ESQL, "query returned no rows");
  }
  *out = duckdb_value_int64(&res.r, 0, 0);
  sl_duck_result_fini(&res);
  return 0;
}

double sl_duck_progress(struct sl_duck *d) {
  duckdb_query_progress_type p = duckdb_query_progress(d->con);
  return p.percentage < 0 ? -1 : p.percentage / 100.0;
}

void sl_duck_interrupt(struct sl_duck *d) { duckdb_interrupt(d->con); }
