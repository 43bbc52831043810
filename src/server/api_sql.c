/* api_sql.c: POST /api/sql, and the lake session every handler that reads data uses:
 * its own catalog handle and an in-memory DuckDB database with the lake attached at
 * the asked point in time (sl_sql_attach, as `sluice sql` does), so concurrent
 * requests share no connection. Queries run under a deadline: a watchdog thread
 * interrupts the DuckDB connection of a query past it (DuckDB checks for interrupts
 * between vectors, so a query stops within milliseconds). */
#include "server/server_int.h"

#include "cli/project.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/time.h"
#include "transform/transform.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What the lake looks like now: every table's id and current snapshot. Snapshot ids
 * are global and grow with every commit, so two equal fingerprints mean the same
 * views; a drop or a new table changes it too. New string. */
static char *lake_fingerprint(struct sl_catalog *cat, struct sl_err *err) {
  struct sl_table_info *ts = NULL;
  size_t n = 0;
  if (sl_catalog_table_list(cat, NULL, &ts, &n, err)) return NULL;
  struct sl_buf b;
  sl_buf_init(&b);
  sl_buf_putc(&b, '|');
  for (size_t i = 0; i < n; i++) sl_buf_printf(&b, "%lld:%lld|", (long long)ts[i].table_id, (long long)ts[i].current_snapshot);
  sl_table_list_free(ts, n);
  char *fp = sl_buf_take(&b);
  if (!fp) sl_err_set(err, SL_ENOMEM, "out of memory");
  return fp;
}

/* Only the lake's files may be read by a session's queries, nothing written outside
 * DuckDB's memory, and no setting changed: a query through the API cannot read
 * /etc/passwd, write files or attach databases. */
static int harden(struct sl_server *s, struct sl_duck *d, struct sl_err *err) {
  struct sl_buf q;
  sl_buf_init(&q);
  char *dir = sl_asprintf("%s/", s->p->lake_dir);
  sl_buf_puts(&q, "SET allowed_directories = [");
  sl_buf_sql_str(&q, dir ? dir : "/nonexistent/");
  sl_buf_puts(&q, "]; SET enable_external_access = false; SET lock_configuration = true;");
  sl_free(dir);
  int rc = q.data ? sl_duck_exec(d, q.data, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  sl_buf_fini(&q);
  return rc;
}

int sl_session_open(struct sl_server *s, const struct sl_sql_asof *asof, int with_duck, struct sl_session *out,
                    struct sl_err *err) {
  memset(out, 0, sizeof *out);
  int rc = sl_catalog_open(s->p->catalog_url, &out->cat, err);
  if (rc || !with_duck) return rc;
  int now = !asof || (!asof->snapshot_id && !asof->ts_ms);
  if (now) {
    /* A pooled database showing the lake as it is now, if there is one. */
    out->fp = lake_fingerprint(out->cat, err);
    if (!out->fp) goto fail;
    struct sl_duck *stale[8];
    size_t n_stale = 0;
    pthread_mutex_lock(&s->pool_mu);
    for (size_t i = 0; i < s->n_pool && !out->d;) {
      if (!strcmp(s->pool_fp[i], out->fp)) {
        out->d = s->pool[i];
      } else if (n_stale < 8) {
        stale[n_stale++] = s->pool[i];
      } else {
        i++;
        continue;
      }
      sl_free(s->pool_fp[i]);
      s->pool[i] = s->pool[s->n_pool - 1];
      s->pool_fp[i] = s->pool_fp[s->n_pool - 1];
      s->n_pool--;
    }
    pthread_mutex_unlock(&s->pool_mu);
    for (size_t i = 0; i < n_stale; i++) sl_duck_close(stale[i]);
    if (out->d) return 0;
  }
  struct sl_duck_opts dopts;
  sl_project_duck_opts(s->p, &dopts);
  rc = sl_duck_open(NULL, &dopts, &out->d, err);
  if (!rc) sl_transform_session_dir(out->d, s->p->root);
  if (!rc) rc = sl_sql_attach(out->d, out->cat, s->p->store, asof, err);
  if (!rc) rc = harden(s, out->d, err);
  if (!rc) return 0;
fail:
  if (!rc) rc = err->code ? err->code : SL_ENOMEM;
  sl_session_close(s, out);
  return rc;
}

void sl_session_close(struct sl_server *s, struct sl_session *ss) {
  if (ss->d && ss->fp && ss->reusable) {
    pthread_mutex_lock(&s->pool_mu);
    if (s->n_pool < SL_SERVER_POOL_MAX) {
      s->pool[s->n_pool] = ss->d;
      s->pool_fp[s->n_pool] = ss->fp;
      s->n_pool++;
      ss->d = NULL;
      ss->fp = NULL;
    }
    pthread_mutex_unlock(&s->pool_mu);
  }
  sl_duck_close(ss->d);
  sl_free(ss->fp);
  if (ss->cat) sl_catalog_close(ss->cat);
  memset(ss, 0, sizeof *ss);
}

void sl_session_pool_fini(struct sl_server *s) {
  for (size_t i = 0; i < s->n_pool; i++) {
    sl_duck_close(s->pool[i]);
    sl_free(s->pool_fp[i]);
  }
  s->n_pool = 0;
}

static void *watchdog_main(void *arg) {
  struct sl_server *s = arg;
  pthread_mutex_lock(&s->mu);
  while (!s->stopping) {
    int64_t now = sl_time_mono_ns();
    for (struct sl_running *q = s->running; q; q = q->next)
      if (now >= q->deadline_ns) {
        q->timed_out = 1;
        sl_duck_interrupt(q->d); /* again on every tick, in case the query was between statements */
      }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000000;
    if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_cond_timedwait(&s->cv, &s->mu, &ts);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

int sl_server_watchdog_start(struct sl_server *s) {
  if (pthread_create(&s->watchdog, NULL, watchdog_main, s)) return SL_EINTERNAL;
  s->watchdog_started = 1;
  return 0;
}

int sl_session_query(struct sl_server *s, struct sl_session *ss, const char *sql, int64_t limit, int64_t timeout_ms,
                     struct sl_duck_result *res, duckdb_type **types, struct sl_err *err) {
  struct sl_running run = {.d = ss->d, .deadline_ns = sl_time_mono_ns() + timeout_ms * 1000000};
  if (timeout_ms > 0) {
    pthread_mutex_lock(&s->mu);
    run.next = s->running;
    s->running = &run;
    pthread_mutex_unlock(&s->mu);
  }
  int rc = sl_duck_query_text_limit(ss->d, sql, limit, res, types, err);
  if (timeout_ms > 0) {
    pthread_mutex_lock(&s->mu);
    for (struct sl_running **pp = &s->running; *pp; pp = &(*pp)->next)
      if (*pp == &run) {
        *pp = run.next;
        break;
      }
    pthread_mutex_unlock(&s->mu);
  }
  if (rc && run.timed_out) {
    sl_duck_result_fini(res);
    return sl_err_set(err, SL_EINTR,
                      "query stopped after its timeout of %lld ms; ask for a longer timeout_ms (at most "
                      "server.query_timeout_ms) or make the query cheaper",
                      (long long)timeout_ms);
  }
  return rc;
}

const char *sl_duck_type_name(duckdb_type t) {
  switch (t) {
  case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
  case DUCKDB_TYPE_TINYINT: return "TINYINT";
  case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
  case DUCKDB_TYPE_INTEGER: return "INTEGER";
  case DUCKDB_TYPE_BIGINT: return "BIGINT";
  case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
  case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
  case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
  case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
  case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
  case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
  case DUCKDB_TYPE_FLOAT: return "FLOAT";
  case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
  case DUCKDB_TYPE_DECIMAL: return "DECIMAL";
  case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
  case DUCKDB_TYPE_BLOB: return "BLOB";
  case DUCKDB_TYPE_DATE: return "DATE";
  case DUCKDB_TYPE_TIME: return "TIME";
  case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
  case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMP WITH TIME ZONE";
  case DUCKDB_TYPE_TIMESTAMP_S: return "TIMESTAMP_S";
  case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
  case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP_NS";
  case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
  case DUCKDB_TYPE_UUID: return "UUID";
  case DUCKDB_TYPE_LIST: return "LIST";
  case DUCKDB_TYPE_STRUCT: return "STRUCT";
  case DUCKDB_TYPE_MAP: return "MAP";
  case DUCKDB_TYPE_ENUM: return "ENUM";
  case DUCKDB_TYPE_ARRAY: return "ARRAY";
  default: return "OTHER";
  }
}

json_t *sl_json_cell(struct sl_duck_result *res, int64_t col, int64_t row, duckdb_type t) {
  char *v = sl_duck_result_text(res, col, row);
  if (!v) return json_null();
  json_t *j = NULL;
  char *end = NULL;
  switch (t) {
  case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER: case DUCKDB_TYPE_BIGINT:
  case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT: case DUCKDB_TYPE_UINTEGER: {
    long long x = strtoll(v, &end, 10);
    if (end && !*end) j = json_integer(x);
    break;
  }
  case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE: {
    double x = strtod(v, &end);
    if (end && !*end && isfinite(x)) j = json_real(x);
    break;
  }
  case DUCKDB_TYPE_BOOLEAN: j = json_boolean(!strcmp(v, "true")); break;
  default: break; /* UBIGINT, HUGEINT and DECIMAL stay text: JSON numbers lose their digits */
  }
  if (!j) j = json_string(v);
  if (!j) j = json_stringn(v, 0); /* not UTF-8: an empty string rather than a broken answer */
  sl_free(v);
  return j;
}

/* The first n_rows rows of res as JSON: cols gets [{"name","type"}], rows [[cell...]]. */
void sl_json_result(struct sl_duck_result *res, const duckdb_type *types, int64_t n_rows, json_t **cols, json_t **rows) {
  int64_t nc = sl_duck_result_cols(res);
  *cols = json_array();
  *rows = json_array();
  for (int64_t c = 0; c < nc; c++)
    json_array_append_new(*cols, json_pack("{s:s, s:s}", "name", sl_duck_result_name(res, c), "type",
                                           sl_duck_type_name(types ? types[c] : DUCKDB_TYPE_VARCHAR)));
  for (int64_t i = 0; i < n_rows; i++) {
    json_t *row = json_array();
    for (int64_t c = 0; c < nc; c++)
      json_array_append_new(row, sl_json_cell(res, c, i, types ? types[c] : DUCKDB_TYPE_VARCHAR));
    json_array_append_new(*rows, row);
  }
}


void sl_api_sql(struct sl_req *r) {
  struct sl_server *s = r->srv;
  json_error_t jerr;
  json_t *body = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &jerr);
  if (!body || !json_is_object(body)) {
    json_decref(body);
    sl_req_error(r, 400, "the body must be a JSON object like {\"sql\":\"SELECT 1\"}: %s at line %d column %d",
                 body ? "not an object" : jerr.text, jerr.line, jerr.column);
    return;
  }
  const char *sql = json_string_value(json_object_get(body, "sql"));
  json_t *jl = json_object_get(body, "limit"), *jt = json_object_get(body, "timeout_ms"),
         *ja = json_object_get(body, "as_of");
  int64_t limit = s->o->query_row_limit, timeout = s->o->query_timeout_ms;
  struct sl_sql_asof asof = {0};
  struct sl_err err = {0};
  if (!sql || !*sql) {
    sl_req_error(r, 400, "the body has no \"sql\" string");
    goto out;
  }
  if (jl && !json_is_null(jl)) {
    if (!json_is_integer(jl) || json_integer_value(jl) < 1) {
      sl_req_error(r, 400, "\"limit\" must be a positive whole number");
      goto out;
    }
    if (json_integer_value(jl) < limit) limit = json_integer_value(jl);
  }
  if (jt && !json_is_null(jt)) {
    if (!json_is_integer(jt) || json_integer_value(jt) < 1) {
      sl_req_error(r, 400, "\"timeout_ms\" must be a positive whole number of milliseconds");
      goto out;
    }
    if (json_integer_value(jt) < timeout) timeout = json_integer_value(jt);
  }
  if (ja && !json_is_null(ja)) {
    char num[32];
    const char *txt = json_string_value(ja);
    if (json_is_integer(ja)) {
      snprintf(num, sizeof num, "%lld", (long long)json_integer_value(ja));
      txt = num;
    }
    if (!txt || sl_sql_asof_parse(txt, &asof, &err)) {
      sl_req_error(r, 400, "\"as_of\": %s", txt ? err.msg : "must be a snapshot id or a time like 2026-01-31T12:00:00Z");
      goto out;
    }
  }
  struct sl_session ss;
  int64_t t0 = sl_time_mono_ns();
  if (sl_session_open(s, &asof, 1, &ss, &err)) {
    sl_req_fail(r, &err);
    goto out;
  }
  struct sl_duck_result res = {0};
  duckdb_type *types = NULL;
  if (sl_duck_is_read_only(ss.d, sql) == 0) {
    sl_req_error(r, 400, "the SQL API runs one read-only statement (SELECT, WITH ... SELECT, EXPLAIN); "
                         "change the lake with ingest and builds");
    sl_session_close(s, &ss);
    goto out;
  }
  /* One more row than the limit tells whether the result was cut. */
  int rc = sl_session_query(s, &ss, sql, limit + 1, timeout, &res, &types, &err);
  double ms = (double)(sl_time_mono_ns() - t0) / 1e6;
  if (rc) {
    sl_metric_counter_add("sluice_sql_queries_total", err.code == SL_EINTR ? "outcome=\"timeout\"" : "outcome=\"error\"", 1);
    if (err.code == SL_EINTR) sl_req_error(r, 504, "%s", err.msg);
    else sl_req_error(r, 400, "%s", err.msg);
  } else {
    sl_metric_counter_add("sluice_sql_queries_total", "outcome=\"ok\"", 1);
    int64_t nr = sl_duck_result_rows(&res);
    int truncated = nr > limit;
    if (truncated) nr = limit;
    json_t *cols, *rows;
    sl_json_result(&res, types, nr, &cols, &rows);
    sl_req_json(r, 200,
                json_pack("{s:o, s:o, s:b, s:I, s:f}", "columns", cols, "rows", rows, "truncated", truncated, "limit",
                          (json_int_t)limit, "elapsed_ms", round(ms * 1000) / 1000));
  }
  sl_free(types);
  sl_duck_result_fini(&res);
  ss.reusable = !rc || err.code == SL_ESQL;
  sl_session_close(s, &ss);
out:
  json_decref(body);
}
