/* buf.h: a growable byte/string buffer with a size cap (like sds, but plain C).
 * The content is always NUL-terminated. Appends fail with SL_ENOMEM past the cap. */
#ifndef SL_CORE_BUF_H
#define SL_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct sl_buf {
  char *data;
  size_t len;
  size_t cap;
  size_t max; /* 0: default cap (1 GiB) */
};

void sl_buf_init(struct sl_buf *b);
void sl_buf_fini(struct sl_buf *b);
void sl_buf_reset(struct sl_buf *b);
int sl_buf_append(struct sl_buf *b, const void *p, size_t n);
int sl_buf_puts(struct sl_buf *b, const char *s);
int sl_buf_putc(struct sl_buf *b, char c);
int sl_buf_printf(struct sl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sl_buf_vprintf(struct sl_buf *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal (quotes and escapes included). */
int sl_buf_json_str(struct sl_buf *b, const char *s);
/* Appends s as a SQL identifier: "..." with embedded quotes doubled. */
int sl_buf_sql_ident(struct sl_buf *b, const char *s);
/* Appends the n bytes at p in base64 (RFC 4648, with padding). */
int sl_buf_base64(struct sl_buf *b, const void *p, size_t n);
/* Appends "ns.table" as "ns"."table" (split at the first dot; no dot: one identifier). */
int sl_buf_sql_qname(struct sl_buf *b, const char *qualified);
/* Appends s as a SQL string literal: '...' with embedded quotes doubled. */
int sl_buf_sql_str(struct sl_buf *b, const char *s);
/* Gives the string to the caller (who frees it with sl_free); b is left empty. */
char *sl_buf_take(struct sl_buf *b);

#endif
