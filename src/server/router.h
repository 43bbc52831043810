/* router.h: request routing for the HTTP server. A route is a method and a path
 * pattern whose segments are literals or {params}; a request path is split on '/',
 * each segment percent-decoded, and matched segment by segment. Query strings are
 * parsed into decoded key/value pairs ('+' is a space). Everything here works on
 * outside input, has hard limits, and is fuzzed (fuzz/fuzz_router.c). */
#ifndef SL_SERVER_ROUTER_H
#define SL_SERVER_ROUTER_H

#include "core/err.h"

#include <stddef.h>

#define SL_ROUTE_MAX_PARAMS 8
#define SL_ROUTE_MAX_SEGMENTS 32
#define SL_ROUTE_MAX_QUERY 32

struct sl_route {
  const char *method;  /* "GET", "POST", ... */
  const char *pattern; /* "/api/tables/{ns}/{table}" */
  int id;              /* the caller's handler index */
};

struct sl_route_match {
  const struct sl_route *route;
  size_t n_params;
  char *names[SL_ROUTE_MAX_PARAMS];  /* the {param} names, new strings */
  char *values[SL_ROUTE_MAX_PARAMS]; /* decoded, new strings */
};

struct sl_kv {
  char *key, *value;
};

struct sl_query {
  size_t n;
  struct sl_kv kv[SL_ROUTE_MAX_QUERY];
};

enum sl_route_result { SL_ROUTE_FOUND = 0, SL_ROUTE_NO_PATH = 1, SL_ROUTE_BAD_METHOD = 2, SL_ROUTE_BAD_PATH = 3 };

/* Decodes %XX escapes of s[0..len) into a new string (*out). With plus_space, '+'
 * becomes ' '. Fails (SL_EINVAL) on a bad escape or a decoded NUL. */
int sl_route_pct_decode(const char *s, size_t len, int plus_space, char **out, struct sl_err *err);

/* Matches method and raw path (still percent-encoded, without the query) against the
 * routes. SL_ROUTE_BAD_PATH (with err) when the path is malformed: not starting with
 * '/', a bad escape, a decoded '/' or NUL inside a segment, a "." or ".." segment, or
 * too many segments. On SL_ROUTE_FOUND, m holds the params (sl_route_match_fini). */
enum sl_route_result sl_route_find(const struct sl_route *routes, size_t n_routes, const char *method,
                                   const char *path, struct sl_route_match *m, struct sl_err *err);
void sl_route_match_fini(struct sl_route_match *m);
const char *sl_route_param(const struct sl_route_match *m, const char *name);

/* Splits a path into decoded segments with the same rules as sl_route_find; for the
 * static files. *n_out segments (new strings; free with sl_route_segments_free). */
int sl_route_segments(const char *path, char ***out, size_t *n_out, struct sl_err *err);
void sl_route_segments_free(char **segs, size_t n);

/* Parses "a=1&b=x%20y" (raw, without the '?'); later duplicates are kept too (the
 * first one wins in sl_query_get). More than SL_ROUTE_MAX_QUERY pairs is an error. */
int sl_query_parse(const char *qs, struct sl_query *q, struct sl_err *err);
/* Adds one raw (still encoded) pair. */
int sl_query_add(struct sl_query *q, const char *key, const char *value, struct sl_err *err);
const char *sl_query_get(const struct sl_query *q, const char *key);
void sl_query_fini(struct sl_query *q);

#endif
