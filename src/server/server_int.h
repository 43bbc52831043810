/* server_int.h: what the server's files share: the server, one request, the handler
 * table, helpers to answer JSON, and the per-request lake session. */
#ifndef SL_SERVER_SERVER_INT_H
#define SL_SERVER_SERVER_INT_H

#include "server/router.h"
#include "server/server.h"

#include "catalog/catalog.h"
#include "core/buf.h"
#include "sql/duck.h"
#include "sql/sql.h"

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

struct MHD_Daemon;
struct sl_project;

/* A query being run, for the timeout watchdog. */
struct sl_running {
  struct sl_duck *d;
  int64_t deadline_ns;
  int timed_out;
  struct sl_running *next;
};

struct sl_series;
#define SL_SERVER_POOL_MAX 8

struct sl_server {
  struct sl_project *p;
  const struct sl_server_opts *o;
  struct MHD_Daemon *mhd;
  char *token; /* NULL: no auth (loopback without a configured token) */
  char url[128];
  int port;
  int64_t start_ms;
  /* the SQL timeout watchdog */
  pthread_t watchdog;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stopping, watchdog_started;
  struct sl_running *running;
  struct sl_series *series;
  /* DuckDB databases with the lake attached, kept between requests while the lake
   * does not change (pool_fp: the lake fingerprint each shows) */
  pthread_mutex_t pool_mu;
  struct sl_duck *pool[SL_SERVER_POOL_MAX];
  char *pool_fp[SL_SERVER_POOL_MAX];
  size_t n_pool;
  int cdc_collector, log_collector;
};

/* One request, from the first call of the access handler to the response. */
struct sl_req {
  struct sl_server *srv;
  const char *method;
  char *path;               /* raw path, no query */
  int64_t t0_ns;
  int route_id;             /* -1: static files */
  const char *route_label;  /* the pattern, for metrics and logs */
  struct sl_route_match m;
  struct sl_query q;
  /* the body: JSON bodies in buf; uploads streamed to a file */
  struct sl_buf body;
  FILE *upload;
  char *upload_path;
  int64_t body_bytes;
  int too_large;
  int answered;             /* a response was queued already */
  /* the response */
  int status;
  char *out;                /* new string (JSON, text, or NULL for static) */
  size_t out_len;
  const char *content_type;
  const void *static_data;  /* borrowed asset bytes */
  size_t static_len;
  const char *etag, *cache;
};

/* Handlers fill r->status and r->out; they return nothing: every outcome is a
 * response. */
typedef void (*sl_handler_fn)(struct sl_req *r);

/* Answers with a JSON value (takes j). */
void sl_req_json(struct sl_req *r, int status, json_t *j);
/* Answers {"error": "..."} with status. */
void sl_req_error(struct sl_req *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Answers an sl_err with the status its code maps to (400 input, 404 not found, 409
 * conflict, 504 timeout, 500 else). */
void sl_req_fail(struct sl_req *r, const struct sl_err *err);
/* A non-negative integer query parameter, def if absent; -1 (after answering 400) if bad. */
int64_t sl_req_int(struct sl_req *r, const char *name, int64_t def, int64_t max);

/* A lake session for one request: its own catalog handle and DuckDB database with the
 * lake attached at asof (NULL: now). */
struct sl_session {
  struct sl_catalog *cat;
  struct sl_duck *d;
  char *fp;     /* the lake's fingerprint when d shows it as it is now, else NULL */
  int reusable; /* d may go back to the pool: only read-only statements ran */
};
int sl_session_open(struct sl_server *s, const struct sl_sql_asof *asof, int with_duck, struct sl_session *out,
                    struct sl_err *err);
/* Closes the catalog handle; a reusable database showing the lake now goes back to
 * the pool (at most SL_SERVER_POOL_MAX are kept), any other is closed. */
void sl_session_close(struct sl_server *s, struct sl_session *ss);
void sl_session_pool_fini(struct sl_server *s);
/* Runs a query with the watchdog's timeout (ms; 0: none); a timeout becomes SL_EINTR
 * with a message naming the limit. limit > 0 caps the rows of a single SELECT. */
int sl_session_query(struct sl_server *s, struct sl_session *ss, const char *sql, int64_t limit, int64_t timeout_ms,
                     struct sl_duck_result *res, duckdb_type **types, struct sl_err *err);
/* A value of a text result as JSON of its original type (numbers as numbers, ...). */
json_t *sl_json_cell(struct sl_duck_result *res, int64_t col, int64_t row, duckdb_type t);
void sl_json_result(struct sl_duck_result *res, const duckdb_type *types, int64_t n_rows, json_t **cols, json_t **rows);
const char *sl_duck_type_name(duckdb_type t);
int sl_server_watchdog_start(struct sl_server *s);

/* handlers, by file */
void sl_api_health(struct sl_req *r);
void sl_api_tables(struct sl_req *r);
void sl_api_table(struct sl_req *r);
void sl_api_snapshots(struct sl_req *r);
void sl_api_preview(struct sl_req *r);
void sl_api_sql(struct sl_req *r);
void sl_api_ingest(struct sl_req *r);
/* The upload's format word (csv, parquet, jsonl) from ?format= or ?filename=; NULL after
 * answering 400. */
const char *sl_upload_format(struct sl_req *r);
void sl_api_cdc(struct sl_req *r);
void sl_api_topics(struct sl_req *r);
void sl_api_topic(struct sl_req *r);
void sl_api_topic_messages(struct sl_req *r);
void sl_api_checks(struct sl_req *r);
void sl_api_builds(struct sl_req *r);
void sl_api_lineage(struct sl_req *r);
void sl_api_series(struct sl_req *r);
void sl_api_metrics(struct sl_req *r);

/* Static files (assets.c): fills the response for GET path; 1 if the path is the UI's. */
void sl_assets_serve(struct sl_req *r, const char *if_none_match);

/* The sampler behind /api/metrics/series (series.c). */
int sl_series_start(struct sl_server *s, struct sl_err *err);
void sl_series_stop(struct sl_server *s);

/* CDC slot gauges at scrape time (api_ops.c). */
void sl_cdc_metrics_collect(void *arg);
/* Consumer lag gauges at scrape time (api_topics.c). */
void sl_log_metrics_collect(void *arg);

#endif
