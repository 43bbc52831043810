/* server.c: the HTTP server on libmicrohttpd: options (the `server:` section), the
 * route table, authentication, body limits, dispatch to the handlers, responses,
 * request logs and HTTP metrics, and a clean stop.
 *
 * NOTES: libmicrohttpd calls the access handler several times per request: first with
 * the headers (we authenticate, route and check Content-Length there, and may answer
 * at once), then once per chunk of the body (appended to a buffer with a cap, or
 * streamed to a file for uploads), then a last time with no data, when the handler
 * runs. URL unescaping is turned off in libmicrohttpd so the router sees the raw path
 * and decodes each segment itself: "%2F" inside a segment or a ".." segment can then
 * be refused instead of being silently turned into a path step. */
#include "server/server_int.h"

#include "cli/project.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const struct sl_cfg_section sl_server_section = {
    "server",
    (const struct sl_opt[]){
        {"listen", SL_OPT_STR, offsetof(struct sl_server_opts, listen), "127.0.0.1", 0, -1, NULL,
         "Address `sluice serve` and `sluice up` bind. Anything but 127.0.0.1, ::1 or localhost needs a token.", 0},
        {"port", SL_OPT_INT, offsetof(struct sl_server_opts, port), "8080", 0, 65535, NULL,
         "TCP port; 0 picks a free one (printed at start).", 0},
        {"threads", SL_OPT_INT, offsetof(struct sl_server_opts, threads), "4", 1, 256, NULL,
         "Threads answering requests (libmicrohttpd's thread pool).", 0},
        {"token", SL_OPT_STR, offsetof(struct sl_server_opts, token), "", 0, -1, NULL,
         "Bearer token every request must carry (`Authorization: Bearer <token>`); set it with "
         "SLUICE_SERVER_TOKEN rather than in the file. Required when listening beyond loopback.",
         1},
        {"token_file", SL_OPT_STR, offsetof(struct sl_server_opts, token_file), "", 0, -1, NULL,
         "File holding the token (first line), relative to the project; used when no token is set.", 0},
        {"max_body_bytes", SL_OPT_SIZE, offsetof(struct sl_server_opts, max_body_bytes), "1MiB", 1024, (int64_t)1 << 32,
         NULL, "Largest JSON request body (e.g. a SQL query); larger ones get 413.", 0},
        {"max_upload_bytes", SL_OPT_SIZE, offsetof(struct sl_server_opts, max_upload_bytes), "1GiB", 1024,
         (int64_t)1 << 42, NULL, "Largest file uploaded to POST /api/ingest; larger ones get 413.", 0},
        {"request_timeout_s", SL_OPT_INT, offsetof(struct sl_server_opts, request_timeout_s), "60", 1, 86400, NULL,
         "Seconds a connection may stay idle (no bytes sent) before it is closed.", 0},
        {"query_row_limit", SL_OPT_INT, offsetof(struct sl_server_opts, query_row_limit), "10000", 1, 100000000, NULL,
         "Most rows POST /api/sql returns (a request may ask for fewer).", 0},
        {"query_timeout_ms", SL_OPT_INT, offsetof(struct sl_server_opts, query_timeout_ms), "30000", 10, 86400000,
         NULL, "Longest a query through the API may run before it is interrupted (a request may ask for less).", 0},
        {"series_interval_s", SL_OPT_INT, offsetof(struct sl_server_opts, series_interval_s), "5", 1, 3600, NULL,
         "Seconds between samples of the charts' metrics (GET /api/metrics/series).", 0},
        {"series_keep", SL_OPT_INT, offsetof(struct sl_server_opts, series_keep), "720", 2, 100000, NULL,
         "Samples kept per chart series (720 x 5 s = 1 hour).", 0},
        {NULL, 0, 0, NULL, 0, 0, NULL, NULL, 0},
    },
    "The HTTP server of `sluice serve` and `sluice up`: JSON API (docs/api.md), /metrics and the web UI.",
};

enum {
  R_HEALTH, R_TABLES, R_TABLE, R_SNAPSHOTS, R_PREVIEW, R_SQL, R_INGEST, R_CDC,
  R_CHECKS, R_BUILDS, R_LINEAGE, R_SERIES, R_METRICS, R_TOPICS, R_TOPIC, R_TOPIC_MESSAGES,
};

static const struct sl_route routes[] = {
    {"GET", "/api/health", R_HEALTH},
    {"GET", "/api/tables", R_TABLES},
    {"GET", "/api/tables/{ns}/{table}", R_TABLE},
    {"GET", "/api/tables/{ns}/{table}/snapshots", R_SNAPSHOTS},
    {"GET", "/api/tables/{ns}/{table}/preview", R_PREVIEW},
    {"POST", "/api/sql", R_SQL},
    {"POST", "/api/ingest/{ns}/{table}", R_INGEST},
    {"GET", "/api/cdc", R_CDC},
    {"GET", "/api/checks", R_CHECKS},
    {"GET", "/api/builds", R_BUILDS},
    {"GET", "/api/lineage", R_LINEAGE},
    {"GET", "/api/metrics/series", R_SERIES},
    {"GET", "/metrics", R_METRICS},
    {"GET", "/api/topics", R_TOPICS},
    {"GET", "/api/topics/{name}", R_TOPIC},
    {"GET", "/api/topics/{name}/messages", R_TOPIC_MESSAGES},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

static const sl_handler_fn handlers[] = {
    [R_HEALTH] = sl_api_health,   [R_TABLES] = sl_api_tables, [R_TABLE] = sl_api_table,
    [R_SNAPSHOTS] = sl_api_snapshots, [R_PREVIEW] = sl_api_preview, [R_SQL] = sl_api_sql,
    [R_INGEST] = sl_api_ingest,   [R_CDC] = sl_api_cdc,       [R_CHECKS] = sl_api_checks,
    [R_BUILDS] = sl_api_builds,   [R_LINEAGE] = sl_api_lineage, [R_SERIES] = sl_api_series,
    [R_METRICS] = sl_api_metrics, [R_TOPICS] = sl_api_topics, [R_TOPIC] = sl_api_topic,
    [R_TOPIC_MESSAGES] = sl_api_topic_messages,
};

/* ---- responses ---------------------------------------------------------------------- */

void sl_req_json(struct sl_req *r, int status, json_t *j) {
  sl_free(r->out);
  r->out = NULL;
  char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(12)) : NULL;
  json_decref(j);
  if (!s) {
    r->status = 500;
    r->out = sl_strdup("{\"error\":\"out of memory building the response\"}");
  } else {
    r->status = status;
    r->out = sl_strdup(s);
    free(s);
  }
  r->out_len = r->out ? strlen(r->out) : 0;
  r->content_type = "application/json";
}

void sl_req_error(struct sl_req *r, int status, const char *fmt, ...) {
  char msg[SL_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sl_req_json(r, status, json_pack("{s:s}", "error", msg));
}

void sl_req_fail(struct sl_req *r, const struct sl_err *err) {
  int st = 500;
  switch (err->code) {
  case SL_EINVAL: case SL_ESQL: case SL_ESCHEMA: case SL_EDATA: case SL_ECONFIG: st = 400; break;
  case SL_ENOTFOUND: st = 404; break;
  case SL_ECONFLICT: case SL_EEXIST: st = 409; break;
  case SL_EINTR: st = 504; break;
  default: st = 500;
  }
  sl_req_error(r, st, "%s", err->msg[0] ? err->msg : sl_err_name(err->code));
}

int64_t sl_req_int(struct sl_req *r, const char *name, int64_t def, int64_t max) {
  const char *v = sl_query_get(&r->q, name);
  if (!v) return def;
  char *end = NULL;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (!*v || *end || errno || x < 0 || x > max) {
    sl_req_error(r, 400, "query parameter %s='%.40s' must be a whole number from 0 to %lld", name, v, (long long)max);
    return -1;
  }
  return x;
}

/* ---- libmicrohttpd glue ----------------------------------------------------------- */

static size_t unescape_none(void *cls, struct MHD_Connection *c, char *s) {
  (void)cls;
  (void)c;
  return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
  sl_log(SL_LOG_WARN, "server", msg, NULL);
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  struct sl_req *r = cls;
  struct sl_err err = {0};
  if (r->status) return MHD_NO;
  if (sl_query_add(&r->q, key, value, &err)) {
    sl_req_error(r, 400, "%s", err.msg);
    return MHD_NO;
  }
  return MHD_YES;
}

/* Compares in time independent of where the strings differ. */
static int token_equal(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  unsigned diff = la != lb;
  for (size_t i = 0; i < lb; i++) diff |= (unsigned)((unsigned char)a[i < la ? i : la] ^ (unsigned char)b[i]);
  return diff == 0;
}

static int authorized(struct sl_server *s, struct MHD_Connection *c) {
  if (!s->token) return 1;
  const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (!h || strncasecmp(h, "Bearer ", 7)) return 0;
  h += 7;
  while (*h == ' ') h++;
  return token_equal(h, s->token);
}

static const char *route_label(const struct sl_req *r) {
  if (r->route_id >= 0) return routes[r->route_id].pattern;
  return r->route_label ? r->route_label : "unmatched";
}

static enum MHD_Result respond(struct MHD_Connection *c, struct sl_req *r) {
  r->answered = 1;
  struct MHD_Response *resp;
  if (r->static_data) resp = MHD_create_response_from_buffer(r->static_len, (void *)r->static_data, MHD_RESPMEM_PERSISTENT);
  else resp = MHD_create_response_from_buffer(r->out_len, r->out ? r->out : (char *)"", MHD_RESPMEM_MUST_COPY);
  if (!resp) return MHD_NO;
  if (r->content_type) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache ? r->cache : "no-store");
  if (r->etag) MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
  if (r->status == 401) MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"sluice\"");
  if (r->status == 405) {
    /* The methods the path does answer to. */
    char allow[64] = "";
    struct sl_err e = {0};
    for (size_t i = 0; i < N_ROUTES; i++) {
      struct sl_route one = routes[i];
      one.method = r->method;
      struct sl_route_match m;
      if (sl_route_find(&one, 1, r->method, r->path, &m, &e) == SL_ROUTE_FOUND && !strstr(allow, routes[i].method))
        snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s", allow[0] ? ", " : "", routes[i].method);
      sl_route_match_fini(&m);
    }
    if (r->route_id == -1 && !allow[0]) snprintf(allow, sizeof allow, "GET, HEAD");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
  }
  enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
  MHD_destroy_response(resp);

  double secs = (double)(sl_time_mono_ns() - r->t0_ns) / 1e9;
  char labels[256], code[8], ms[32];
  snprintf(code, sizeof code, "%d", r->status);
  snprintf(labels, sizeof labels, "route=\"%s\",method=\"%s\",code=\"%d\"", route_label(r),
           strlen(r->method) < 10 ? r->method : "OTHER", r->status);
  sl_metric_counter_add("sluice_http_requests_total", labels, 1);
  snprintf(labels, sizeof labels, "route=\"%s\"", route_label(r));
  sl_metric_histogram_observe("sluice_http_request_duration_seconds", labels, secs);
  snprintf(ms, sizeof ms, "%.3f", secs * 1000);
  if (r->status >= 400) {
    /* The message of a JSON error, without the query string (it may hold secrets). */
    json_t *j = r->out && r->content_type && !strcmp(r->content_type, "application/json") ? json_loads(r->out, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(j, "error"));
    sl_log(SL_LOG_WARN, "server", "request failed", "method", r->method, "path", r->path, "status", code, "ms", ms,
           "error", m ? m : "", NULL);
    json_decref(j);
  } else {
    sl_log(SL_LOG_DEBUG, "server", "request", "method", r->method, "path", r->path, "status", code, "ms", ms, NULL);
  }
  return ok;
}

static void req_free(struct sl_req *r) {
  if (!r) return;
  if (r->upload) fclose(r->upload);
  if (r->upload_path) unlink(r->upload_path);
  sl_free(r->upload_path);
  sl_buf_fini(&r->body);
  sl_route_match_fini(&r->m);
  sl_query_fini(&r->q);
  sl_free(r->path);
  sl_free(r->out);
  sl_free(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)c;
  (void)toe;
  struct sl_req *r = *con_cls;
  if (r) sl_metric_gauge_add("sluice_http_requests_in_flight", NULL, -1);
  req_free(r);
  *con_cls = NULL;
}

static int is_api(const char *path) {
  return !strncmp(path, "/api/", 5) || !strcmp(path, "/api") || !strcmp(path, "/metrics");
}


static int open_upload(struct sl_req *r) {
  struct sl_err err = {0};
  char *dir = sl_fs_join(r->srv->p->root, ".sluice/uploads");
  if (!dir || sl_fs_mkdirs(dir, &err)) {
    sl_free(dir);
    sl_req_error(r, 500, "cannot create the upload folder: %s", err.msg);
    return -1;
  }
  char uuid[37];
  if (sl_uuid_v4(uuid)) {
    sl_free(dir);
    sl_req_error(r, 500, "cannot read /dev/urandom for an upload name");
    return -1;
  }
  const char *ext = sl_upload_format(r);
  if (!ext) {
    sl_free(dir);
    return -1;
  }
  r->upload_path = sl_asprintf("%s/upload-%s.%s", dir, uuid, ext);
  sl_free(dir);
  r->upload = r->upload_path ? fopen(r->upload_path, "wbx") : NULL;
  if (!r->upload) {
    sl_req_error(r, 500, "cannot create %s: %s", r->upload_path ? r->upload_path : "an upload file", strerror(errno));
    return -1;
  }
  return 0;
}

/* First call: authenticate, route, check the declared length. 0: go on reading the
 * body; 1: r has its answer already. */
static int begin(struct sl_req *r, struct MHD_Connection *c) {
  struct sl_server *s = r->srv;
  /* The UI's own files hold no data and must load for the page to ask for the token;
   * everything else (the API, /metrics, any write) needs it. */
  int is_asset = !is_api(r->path) && (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD"));
  if (!is_asset && !authorized(s, c)) {
    r->route_label = "unauthorized";
    sl_req_error(r, 401, "missing or wrong bearer token: send `Authorization: Bearer <token>` (the token is "
                         "SLUICE_SERVER_TOKEN or server.token_file of the server)");
    return 1;
  }
  MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, r);
  if (r->status) return 1;
  struct sl_err err = {0};
  if (is_api(r->path)) {
    enum sl_route_result rr = sl_route_find(routes, N_ROUTES, r->method, r->path, &r->m, &err);
    if (rr == SL_ROUTE_BAD_PATH) {
      sl_req_error(r, 400, "bad path: %s", err.msg);
      return 1;
    }
    if (rr == SL_ROUTE_NO_PATH) {
      sl_req_error(r, 404, "no API at %s %s; see docs/api.md for the routes", r->method, r->path);
      return 1;
    }
    if (rr == SL_ROUTE_BAD_METHOD) {
      r->route_label = "method_not_allowed";
      sl_req_error(r, 405, "%s is not allowed on %s", r->method, r->path);
      return 1;
    }
    r->route_id = r->m.route->id;
  } else {
    r->route_id = -1;
    r->route_label = "/ui";
    char **segs = NULL;
    size_t n = 0;
    if (sl_route_segments(r->path, &segs, &n, &err)) {
      sl_req_error(r, 400, "bad path: %s", err.msg);
      return 1;
    }
    sl_route_segments_free(segs, n);
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
      sl_req_error(r, 405, "%s is not allowed on %s; the web UI is read with GET", r->method, r->path);
      return 1;
    }
  }
  int64_t cap = r->route_id == R_INGEST ? s->o->max_upload_bytes : s->o->max_body_bytes;
  const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl && strtoll(cl, NULL, 10) > cap) {
    r->too_large = 1;
    sl_req_error(r, 413, "request body of %s bytes is over the limit of %lld bytes (server.%s)", cl, (long long)cap,
                 r->route_id == R_INGEST ? "max_upload_bytes" : "max_body_bytes");
    return 1;
  }
  sl_buf_init(&r->body);
  r->body.max = (size_t)cap + 1;
  if (r->route_id == R_INGEST && open_upload(r)) return 1;
  return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  (void)version;
  struct sl_server *s = cls;
  struct sl_req *r = *con_cls;
  if (!r) {
    r = sl_calloc(1, sizeof *r);
    if (!r) return MHD_NO;
    r->srv = s;
    r->method = method;
    r->t0_ns = sl_time_mono_ns();
    r->route_id = -1;
    r->path = sl_strdup(url);
    *con_cls = r;
    sl_metric_gauge_add("sluice_http_requests_in_flight", NULL, 1);
    if (!r->path) return MHD_NO;
    if (begin(r, c)) return respond(c, r);
    return MHD_YES;
  }
  if (*upload_data_size) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    if (r->answered || r->too_large) return MHD_YES; /* discarded */
    int64_t cap = r->route_id == R_INGEST ? s->o->max_upload_bytes : s->o->max_body_bytes;
    r->body_bytes += (int64_t)n;
    sl_metric_counter_add("sluice_http_request_body_bytes_total", NULL, (double)n);
    if (r->body_bytes > cap) {
      r->too_large = 1;
      return MHD_YES;
    }
    if (r->upload) {
      if (fwrite(upload_data, 1, n, r->upload) != n) {
        sl_req_error(r, 507, "cannot write the upload to %s: %s", r->upload_path, strerror(errno));
        return respond(c, r);
      }
    } else if (sl_buf_append(&r->body, upload_data, n)) {
      r->too_large = 1;
    }
    return MHD_YES;
  }
  if (r->answered) return MHD_YES;
  if (r->too_large) {
    int64_t cap = r->route_id == R_INGEST ? s->o->max_upload_bytes : s->o->max_body_bytes;
    sl_req_error(r, 413, "request body is over the limit of %lld bytes (server.%s)", (long long)cap,
                 r->route_id == R_INGEST ? "max_upload_bytes" : "max_body_bytes");
    return respond(c, r);
  }
  if (r->upload) {
    int bad = fflush(r->upload) != 0 || fsync(fileno(r->upload)) != 0;
    bad |= fclose(r->upload) != 0;
    r->upload = NULL;
    if (bad) {
      sl_req_error(r, 507, "cannot write the upload to %s: %s", r->upload_path, strerror(errno));
      return respond(c, r);
    }
  }
  if (r->route_id >= 0) {
    handlers[r->route_id](r);
  } else {
    sl_assets_serve(r, MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH));
  }
  if (!r->status) sl_req_error(r, 500, "internal error: no response for %s", r->path);
  return respond(c, r);
}

/* ---- start and stop ------------------------------------------------------------ */

int sl_server_addr_is_loopback(const char *addr) {
  if (!strcmp(addr, "localhost") || !strcmp(addr, "::1") || !strcmp(addr, "[::1]")) return 1;
  struct in_addr a4;
  if (inet_pton(AF_INET, addr, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  return 0;
}

static int load_token(struct sl_server *s, struct sl_err *err) {
  const struct sl_server_opts *o = s->o;
  if (o->token && o->token[0]) {
    s->token = sl_strdup(o->token);
  } else if (o->token_file && o->token_file[0]) {
    char *path = o->token_file[0] == '/' ? sl_strdup(o->token_file) : sl_fs_join(s->p->root, o->token_file);
    char *text = NULL;
    size_t len = 0;
    int rc = path ? sl_fs_read_all(path, 4096, &text, &len, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
    if (rc) {
      sl_err_prefix(err, "server.token_file: ");
      sl_free(path);
      return rc;
    }
    size_t n = strcspn(text, "\r\n");
    text[n] = '\0';
    if (!n) {
      sl_free(text);
      rc = sl_err_set(err, SL_ECONFIG, "server.token_file %s is empty; put the token on its first line", path);
      sl_free(path);
      return rc;
    }
    sl_free(path);
    s->token = text;
  }
  if (!s->token && !sl_server_addr_is_loopback(o->listen))
    return sl_err_set(err, SL_ECONFIG,
                      "refusing to listen on %s without a token: anyone who can reach it could read and change the "
                      "lake. Set SLUICE_SERVER_TOKEN (or server.token_file in sluice.yaml), or listen on 127.0.0.1",
                      o->listen);
  if (s->token && strlen(s->token) < 16)
    return sl_err_set(err, SL_ECONFIG, "the server token is %zu characters; use at least 16 (e.g. `openssl rand -hex 24`)",
                      strlen(s->token));
  return 0;
}

int sl_server_start(struct sl_project *p, const struct sl_server_opts *o, struct sl_server **out, struct sl_err *err) {
  *out = NULL;
  struct sl_server *s = sl_calloc(1, sizeof *s);
  if (!s) return sl_err_set(err, SL_ENOMEM, "out of memory");
  s->p = p;
  s->o = o;
  s->start_ms = sl_time_now_ms();
  pthread_mutex_init(&s->mu, NULL);
  pthread_mutex_init(&s->pool_mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  int rc = load_token(s, err);
  if (rc) goto fail;
  const char *host = o->listen;
  char hbuf[128];
  if (host[0] == '[') { /* [::1] */
    snprintf(hbuf, sizeof hbuf, "%s", host + 1);
    char *e = strchr(hbuf, ']');
    if (e) *e = '\0';
    host = hbuf;
  }
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  char port_s[16];
  snprintf(port_s, sizeof port_s, "%d", (int)o->port);
  int gai = getaddrinfo(host, port_s, &hints, &ai);
  if (gai) {
    rc = sl_err_set(err, SL_ECONFIG, "server.listen '%s' is not an address this host has: %s", o->listen, gai_strerror(gai));
    goto fail;
  }
  struct sockaddr_storage sa;
  memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
  int v6 = ai->ai_family == AF_INET6;
  freeaddrinfo(ai);
  sl_metrics_process_init();
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                   (v6 ? MHD_USE_IPv6 : 0);
  s->mhd = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, on_request, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->request_timeout_s,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, NULL,
                            MHD_OPTION_END);
  if (!s->mhd) {
    rc = sl_err_set(err, SL_EIO, "cannot listen on %s port %d: %s (is another server on that port? pick another with --port)",
                    o->listen, (int)o->port, strerror(errno ? errno : EADDRINUSE));
    goto fail;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
  s->port = info ? (int)info->port : (int)o->port;
  snprintf(s->url, sizeof s->url, v6 ? "http://[%s]:%d/" : "http://%s:%d/", host, s->port);
  if ((rc = sl_server_watchdog_start(s))) goto fail;
  if ((rc = sl_series_start(s, err))) goto fail;
  sl_metric_collector_add(sl_metrics_process_collect, NULL);
  if (p->sources.n) s->cdc_collector = !sl_metric_collector_add(sl_cdc_metrics_collect, s);
  s->log_collector = !sl_metric_collector_add(sl_log_metrics_collect, s);
  *out = s;
  return 0;
fail:
  sl_server_stop(s);
  return rc;
}

int sl_server_port(const struct sl_server *s) { return s->port; }
const char *sl_server_url(const struct sl_server *s) { return s->url; }

void sl_server_stop(struct sl_server *s) {
  if (!s) return;
  if (s->mhd) {
    /* Stop accepting, then give requests being answered time to finish. */
    MHD_socket fd = MHD_quiesce_daemon(s->mhd);
    for (int i = 0; i < 3000 && sl_metric_value("sluice_http_requests_in_flight", NULL) > 0; i++) usleep(10000);
    MHD_stop_daemon(s->mhd);
    if (fd != MHD_INVALID_SOCKET) close(fd);
  }
  sl_metric_collector_remove(sl_metrics_process_collect, NULL);
  if (s->cdc_collector) sl_metric_collector_remove(sl_cdc_metrics_collect, s);
  if (s->log_collector) sl_metric_collector_remove(sl_log_metrics_collect, s);
  sl_series_stop(s);
  pthread_mutex_lock(&s->mu);
  s->stopping = 1;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  if (s->watchdog_started) pthread_join(s->watchdog, NULL);
  sl_session_pool_fini(s);
  pthread_mutex_destroy(&s->pool_mu);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  if (s->token) {
    memset(s->token, 0, strlen(s->token));
    sl_free(s->token);
  }
  sl_free(s);
}
