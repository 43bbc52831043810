/* server.h: sluice's HTTP server: the JSON API of docs/api.md, /metrics, and the web UI
 * embedded in the binary. libmicrohttpd parses HTTP and runs a pool of threads; each
 * request opens what it needs (catalog handle, DuckDB database) for itself, so
 * handlers share nothing but the project's read-only options and the metrics registry.
 *
 * Security: bound to anything but loopback, the server refuses to start without a
 * token, and then every request must carry `Authorization: Bearer <token>`. */
#ifndef SL_SERVER_SERVER_H
#define SL_SERVER_SERVER_H

#include "core/config.h"
#include "core/err.h"

#include <stdint.h>

struct sl_server_opts {
  char *listen;            /* address to bind: 127.0.0.1, ::1, localhost, 0.0.0.0, ... */
  int64_t port;            /* 0: any free port (see sl_server_port) */
  int64_t threads;         /* request threads */
  char *token;             /* secret: from SLUICE_SERVER_TOKEN */
  char *token_file;        /* or read from this file (relative to the project) */
  int64_t max_body_bytes;  /* JSON request bodies */
  int64_t max_upload_bytes; /* uploaded files (POST /api/ingest) */
  int64_t request_timeout_s; /* idle connection timeout */
  int64_t query_row_limit;
  int64_t query_timeout_ms;
  int64_t series_interval_s; /* sampling interval of /api/metrics/series */
  int64_t series_keep;       /* samples kept per series */
};
extern const struct sl_cfg_section sl_server_section;

struct sl_project;
struct sl_server;

/* Starts serving p (opened) with o on a thread pool; returns once the socket listens.
 * Borrows p and o until sl_server_stop. Errors name the address and say what to do
 * (a port in use, a missing token). */
int sl_server_start(struct sl_project *p, const struct sl_server_opts *o, struct sl_server **out,
                    struct sl_err *err);
/* The port actually bound (useful with port 0). */
int sl_server_port(const struct sl_server *s);
/* The base URL, e.g. "http://127.0.0.1:8080/" (owned by s). */
const char *sl_server_url(const struct sl_server *s);
/* Stops accepting, lets in-flight requests finish, stops the sampler; NULL-safe. */
void sl_server_stop(struct sl_server *s);

/* 1 if addr is a loopback name or address (127.0.0.0/8, ::1, localhost). */
int sl_server_addr_is_loopback(const char *addr);

#endif
