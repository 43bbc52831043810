/* router.c: matching request paths against route patterns, percent-decoding and query
 * strings. Input is untrusted: every loop is bounded by the input's length and the
 * SL_ROUTE_MAX_* limits, and every decoded segment is checked for '/' and NUL (so a
 * parameter can never smuggle a path separator) and for "." and ".." (so no path built
 * from segments can step out of its root). */
#include "server/router.h"

#include "core/mem.h"

#include <string.h>

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int sl_route_pct_decode(const char *s, size_t len, int plus_space, char **out, struct sl_err *err) {
  *out = NULL;
  char *d = sl_malloc(len + 1);
  if (!d) return sl_err_set(err, SL_ENOMEM, "out of memory");
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c == '%') {
      int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
      int lo = i + 2 < len ? hexval(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        sl_free(d);
        return sl_err_set(err, SL_EINVAL, "bad percent escape at byte %zu; encode '%%' as %%25", i);
      }
      c = (char)(hi * 16 + lo);
      i += 2;
      if (c == '\0') {
        sl_free(d);
        return sl_err_set(err, SL_EINVAL, "%%00 (NUL) is not allowed in a URL");
      }
    } else if (c == '+' && plus_space) {
      c = ' ';
    } else if (c == '\0') {
      sl_free(d);
      return sl_err_set(err, SL_EINVAL, "NUL is not allowed in a URL");
    }
    d[o++] = c;
  }
  d[o] = '\0';
  *out = d;
  return 0;
}

void sl_route_segments_free(char **segs, size_t n) {
  for (size_t i = 0; i < n; i++) sl_free(segs[i]);
  sl_free(segs);
}

int sl_route_segments(const char *path, char ***out, size_t *n_out, struct sl_err *err) {
  *out = NULL;
  *n_out = 0;
  if (!path || path[0] != '/') return sl_err_set(err, SL_EINVAL, "the path must start with '/'");
  char **segs = sl_calloc(SL_ROUTE_MAX_SEGMENTS, sizeof *segs);
  if (!segs) return sl_err_set(err, SL_ENOMEM, "out of memory");
  size_t n = 0;
  const char *p = path + 1;
  int rc = 0;
  while (*p) {
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == 0 && !e) break; /* a trailing '/' */
    if (len == 0) {
      rc = sl_err_set(err, SL_EINVAL, "empty path segment ('//')");
      break;
    }
    if (n == SL_ROUTE_MAX_SEGMENTS) {
      rc = sl_err_set(err, SL_EINVAL, "more than %d path segments", SL_ROUTE_MAX_SEGMENTS);
      break;
    }
    char *seg = NULL;
    if ((rc = sl_route_pct_decode(p, len, 0, &seg, err))) break;
    segs[n++] = seg;
    if (strchr(seg, '/') || strchr(seg, '\\')) {
      rc = sl_err_set(err, SL_EINVAL, "an encoded '/' or '\\' inside a path segment is not allowed");
      break;
    }
    if (!strcmp(seg, ".") || !strcmp(seg, "..")) {
      rc = sl_err_set(err, SL_EINVAL, "'.' and '..' path segments are not allowed");
      break;
    }
    if (!e) break;
    p = e + 1;
  }
  if (rc) {
    sl_route_segments_free(segs, n);
    return rc;
  }
  *out = segs;
  *n_out = n;
  return 0;
}

void sl_route_match_fini(struct sl_route_match *m) {
  for (size_t i = 0; i < m->n_params; i++) {
    sl_free(m->names[i]);
    sl_free(m->values[i]);
  }
  memset(m, 0, sizeof *m);
}

const char *sl_route_param(const struct sl_route_match *m, const char *name) {
  for (size_t i = 0; i < m->n_params; i++)
    if (!strcmp(m->names[i], name)) return m->values[i];
  return NULL;
}

/* 1 if the pattern's segments match segs; fills m's params when m is non-NULL. */
static int match_pattern(const char *pattern, char **segs, size_t n, struct sl_route_match *m) {
  const char *p = pattern + 1;
  size_t i = 0;
  while (*p) {
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (i >= n) return 0;
    if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {
      if (m && m->n_params < SL_ROUTE_MAX_PARAMS) {
        m->names[m->n_params] = sl_strndup(p + 1, len - 2);
        m->values[m->n_params] = sl_strdup(segs[i]);
        m->n_params++;
      }
    } else if (strlen(segs[i]) != len || memcmp(segs[i], p, len)) {
      return 0;
    }
    i++;
    if (!e) break;
    p = e + 1;
  }
  return i == n;
}

enum sl_route_result sl_route_find(const struct sl_route *routes, size_t n_routes, const char *method,
                                   const char *path, struct sl_route_match *m, struct sl_err *err) {
  memset(m, 0, sizeof *m);
  char **segs = NULL;
  size_t n = 0;
  if (sl_route_segments(path, &segs, &n, err)) return SL_ROUTE_BAD_PATH;
  enum sl_route_result res = SL_ROUTE_NO_PATH;
  for (size_t r = 0; r < n_routes; r++) {
    if (!match_pattern(routes[r].pattern, segs, n, NULL)) continue;
    if (strcmp(routes[r].method, method)) {
      res = SL_ROUTE_BAD_METHOD;
      continue;
    }
    match_pattern(routes[r].pattern, segs, n, m);
    for (size_t i = 0; i < m->n_params; i++)
      if (!m->names[i] || !m->values[i]) {
        sl_route_match_fini(m);
        sl_route_segments_free(segs, n);
        sl_err_set(err, SL_ENOMEM, "out of memory");
        return SL_ROUTE_BAD_PATH;
      }
    m->route = &routes[r];
    res = SL_ROUTE_FOUND;
    break;
  }
  sl_route_segments_free(segs, n);
  return res;
}

int sl_query_add(struct sl_query *q, const char *key, const char *value, struct sl_err *err) {
  if (q->n == SL_ROUTE_MAX_QUERY) return sl_err_set(err, SL_EINVAL, "more than %d query parameters", SL_ROUTE_MAX_QUERY);
  char *k = NULL, *v = NULL;
  int rc = sl_route_pct_decode(key, strlen(key), 1, &k, err);
  if (!rc) rc = sl_route_pct_decode(value ? value : "", value ? strlen(value) : 0, 1, &v, err);
  if (rc) {
    sl_free(k);
    return sl_err_prefix(err, "query parameter '%.40s': ", key);
  }
  q->kv[q->n].key = k;
  q->kv[q->n].value = v;
  q->n++;
  return 0;
}

int sl_query_parse(const char *qs, struct sl_query *q, struct sl_err *err) {
  memset(q, 0, sizeof *q);
  const char *p = qs ? qs : "";
  while (*p) {
    const char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    if (len) {
      if (q->n == SL_ROUTE_MAX_QUERY) {
        sl_query_fini(q);
        return sl_err_set(err, SL_EINVAL, "more than %d query parameters", SL_ROUTE_MAX_QUERY);
      }
      const char *eq = memchr(p, '=', len);
      size_t kl = eq ? (size_t)(eq - p) : len;
      char *k = NULL, *v = NULL;
      int rc = sl_route_pct_decode(p, kl, 1, &k, err);
      if (!rc) rc = eq ? sl_route_pct_decode(eq + 1, len - kl - 1, 1, &v, err) : ((v = sl_strdup("")) ? 0 : SL_ENOMEM);
      if (rc) {
        sl_free(k);
        sl_free(v);
        sl_query_fini(q);
        return rc == SL_ENOMEM ? sl_err_set(err, SL_ENOMEM, "out of memory") : rc;
      }
      q->kv[q->n].key = k;
      q->kv[q->n].value = v;
      q->n++;
    }
    if (!amp) break;
    p = amp + 1;
  }
  return 0;
}

const char *sl_query_get(const struct sl_query *q, const char *key) {
  for (size_t i = 0; i < q->n; i++)
    if (!strcmp(q->kv[i].key, key)) return q->kv[i].value;
  return NULL;
}

void sl_query_fini(struct sl_query *q) {
  for (size_t i = 0; i < q->n; i++) {
    sl_free(q->kv[i].key);
    sl_free(q->kv[i].value);
  }
  q->n = 0;
}
