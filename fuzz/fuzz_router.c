/* fuzz_router.c: libFuzzer target for the HTTP server's router: the input is
 * "METHOD PATH?QUERY" (first line only); the path is matched against the server's
 * route patterns, split into segments and the query parsed. Checks the invariants the
 * server relies on: no decoded segment or parameter holds '/', '\\' or NUL, none is
 * "." or "..", and errors have a message. */
#include "core/mem.h"
#include "server/router.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sl_route routes[] = {
    {"GET", "/api/health", 0},
    {"GET", "/api/tables/{ns}/{table}", 1},
    {"GET", "/api/tables/{ns}/{table}/preview", 2},
    {"POST", "/api/ingest/{ns}/{table}", 3},
    {"GET", "/api/topics/{name}/messages", 4},
};

static void check_seg(const char *s) {
  if (strchr(s, '/') || strchr(s, '\\') || !strcmp(s, ".") || !strcmp(s, "..")) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  char *in = sl_strndup((const char *)data, size);
  if (!in) return 0;
  in[strcspn(in, "\r\n")] = '\0';
  char *sp = strchr(in, ' ');
  const char *method = "GET";
  char *path = in;
  if (sp) {
    *sp = '\0';
    method = in;
    path = sp + 1;
  }
  char *qs = strchr(path, '?');
  if (qs) *qs++ = '\0';
  struct sl_err err = {0};
  struct sl_route_match m;
  enum sl_route_result rr = sl_route_find(routes, sizeof routes / sizeof routes[0], method, path, &m, &err);
  if (rr == SL_ROUTE_BAD_PATH && !err.msg[0]) abort();
  if (rr == SL_ROUTE_FOUND) {
    if (!m.route) abort();
    for (size_t i = 0; i < m.n_params; i++) check_seg(m.values[i]);
  }
  sl_route_match_fini(&m);
  char **segs = NULL;
  size_t n = 0;
  if (sl_route_segments(path, &segs, &n, &err) == 0) {
    for (size_t i = 0; i < n; i++) check_seg(segs[i]);
    sl_route_segments_free(segs, n);
  } else if (!err.msg[0]) {
    abort();
  }
  struct sl_query q;
  if (sl_query_parse(qs, &q, &err) == 0) {
    for (size_t i = 0; i < q.n; i++)
      if (!q.kv[i].key || !q.kv[i].value) abort();
    sl_query_fini(&q);
  }
  sl_free(in);
  return 0;
}
