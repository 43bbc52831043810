/* buf.c: growable buffer with a cap, plus JSON/SQL quoting appenders. */
#include "core/buf.h"

#include "core/err.h"
#include "core/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SL_BUF_DEFAULT_MAX ((size_t)1 << 30)

void sl_buf_init(struct sl_buf *b) { memset(b, 0, sizeof *b); }

void sl_buf_fini(struct sl_buf *b) {
  sl_free(b->data);
  sl_buf_init(b);
}

void sl_buf_reset(struct sl_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

static int reserve(struct sl_buf *b, size_t extra) {
  size_t max = b->max ? b->max : SL_BUF_DEFAULT_MAX;
  if (extra > max || b->len + extra + 1 > max) return SL_ENOMEM;
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap *= 2;
  if (cap > max) cap = max;
  char *d = sl_realloc(b->data, cap);
  if (!d) return SL_ENOMEM;
  b->data = d;
  b->cap = cap;
  return 0;
}

int sl_buf_append(struct sl_buf *b, const void *p, size_t n) {
  if (reserve(b, n)) return SL_ENOMEM;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int sl_buf_puts(struct sl_buf *b, const char *s) { return sl_buf_append(b, s, strlen(s)); }
int sl_buf_putc(struct sl_buf *b, char c) { return sl_buf_append(b, &c, 1); }

int sl_buf_vprintf(struct sl_buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0 || reserve(b, (size_t)n)) return SL_ENOMEM;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return 0;
}

int sl_buf_printf(struct sl_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = sl_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

int sl_buf_json_str(struct sl_buf *b, const char *s) {
  int rc = sl_buf_putc(b, '"');
  for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
    switch (*p) {
    case '"': rc = sl_buf_puts(b, "\\\""); break;
    case '\\': rc = sl_buf_puts(b, "\\\\"); break;
    case '\n': rc = sl_buf_puts(b, "\\n"); break;
    case '\r': rc = sl_buf_puts(b, "\\r"); break;
    case '\t': rc = sl_buf_puts(b, "\\t"); break;
    default:
      if (*p < 0x20) rc = sl_buf_printf(b, "\\u%04x", *p);
      else rc = sl_buf_putc(b, (char)*p);
    }
  }
  return rc ? rc : sl_buf_putc(b, '"');
}

static int quote_with(struct sl_buf *b, const char *s, char q) {
  int rc = sl_buf_putc(b, q);
  for (const char *p = s; !rc && *p; p++) {
    if (*p == q) rc = sl_buf_putc(b, q);
    if (!rc) rc = sl_buf_putc(b, *p);
  }
  return rc ? rc : sl_buf_putc(b, q);
}

int sl_buf_sql_ident(struct sl_buf *b, const char *s) { return quote_with(b, s, '"'); }
int sl_buf_sql_str(struct sl_buf *b, const char *s) { return quote_with(b, s, '\''); }

int sl_buf_base64(struct sl_buf *b, const void *p, size_t n) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *u = p;
  if (reserve(b, 4 * ((n + 2) / 3))) return SL_ENOMEM;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)u[i] << 16 | (i + 1 < n ? (uint32_t)u[i + 1] << 8 : 0) | (i + 2 < n ? u[i + 2] : 0);
    char q[4] = {tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < n ? tab[v >> 6 & 63] : '=', i + 2 < n ? tab[v & 63] : '='};
    sl_buf_append(b, q, 4);
  }
  return 0;
}

int sl_buf_sql_qname(struct sl_buf *b, const char *qualified) {
  const char *dot = strchr(qualified, '.');
  if (!dot) return quote_with(b, qualified, '"');
  char *ns = sl_strndup(qualified, (size_t)(dot - qualified));
  int rc = ns ? quote_with(b, ns, '"') : SL_ENOMEM;
  sl_free(ns);
  if (!rc) rc = sl_buf_putc(b, '.');
  return rc ? rc : quote_with(b, dot + 1, '"');
}

char *sl_buf_take(struct sl_buf *b) {
  char *s = b->data;
  if (!s) s = sl_strdup("");
  sl_buf_init(b);
  return s;
}
