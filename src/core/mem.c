/* mem.c: allocation wrapper with optional failure injection for tests. */
#include "core/mem.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long alloc_count;
static long fail_at = -1; /* -1: not read yet; 0: never fail */

static int should_fail(void) {
  if (fail_at < 0) {
    const char *s = getenv("SLUICE_FAIL_ALLOC");
    fail_at = s ? atol(s) : 0;
  }
  if (fail_at == 0) return 0;
  return atomic_fetch_add(&alloc_count, 1) + 1 == fail_at;
}

void *sl_malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }
void *sl_calloc(size_t count, size_t n) { return should_fail() ? NULL : calloc(count ? count : 1, n ? n : 1); }
void *sl_realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }
void sl_free(void *p) { free(p); }

char *sl_strndup(const char *s, size_t n) {
  if (!s) return NULL;
  size_t len = strnlen(s, n);
  char *d = sl_malloc(len + 1);
  if (!d) return NULL;
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

char *sl_strdup(const char *s) { return s ? sl_strndup(s, strlen(s)) : NULL; }

char *sl_asprintf(const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = n < 0 ? NULL : sl_malloc((size_t)n + 1);
  if (s) vsnprintf(s, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return s;
}

int sl_array_grow(void *pp, size_t *cap, size_t need, size_t elem) {
  void **p = pp;
  if (need <= *cap && *p) return 0;
  size_t c = *cap ? *cap : 8;
  while (c < need) c *= 2;
  void *np = sl_realloc(*p, c * elem);
  if (!np) return -1;
  *p = np;
  *cap = c;
  return 0;
}
