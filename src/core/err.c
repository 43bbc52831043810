/* err.c: struct sl_err helpers. Messages are truncated only at SL_ERR_MSG_MAX with a
 * visible "..." so a cut message is never mistaken for a whole one. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void mark_truncated(char *buf, size_t cap, int n) {
  if (n >= (int)cap && cap > 4) memcpy(buf + cap - 4, "...", 4);
}

int sl_err_set(struct sl_err *err, int code, const char *fmt, ...) {
  if (!err) return code;
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  mark_truncated(err->msg, sizeof err->msg, n);
  return code;
}

int sl_err_prefix(struct sl_err *err, const char *fmt, ...) {
  if (!err) return SL_EINTERNAL;
  char old[SL_ERR_MSG_MAX];
  memcpy(old, err->msg, sizeof old);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n < sizeof err->msg) {
    int m = snprintf(err->msg + n, sizeof err->msg - (size_t)n, "%s", old);
    mark_truncated(err->msg, sizeof err->msg, n + m);
  } else {
    mark_truncated(err->msg, sizeof err->msg, n);
  }
  return err->code;
}

void sl_err_clear(struct sl_err *err) {
  if (!err) return;
  err->code = 0;
  err->msg[0] = '\0';
}

const char *sl_err_name(int code) {
  switch (code) {
  case SL_OK: return "ok";
  case SL_EINVAL: return "invalid";
  case SL_EIO: return "io";
  case SL_ENOMEM: return "nomem";
  case SL_ENOTFOUND: return "notfound";
  case SL_EEXIST: return "exists";
  case SL_ECONFLICT: return "conflict";
  case SL_ECONFIG: return "config";
  case SL_ESCHEMA: return "schema";
  case SL_EDATA: return "data";
  case SL_ESQL: return "sql";
  case SL_EINTR: return "interrupted";
  default: return "internal";
  }
}

int sl_err_exit_code(int code) {
  if (code == SL_OK) return 0;
  if (code == SL_ECONFIG || code == SL_EINVAL) return 2;
  return 1;
}
