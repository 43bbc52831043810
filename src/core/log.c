/* log.c: structured logging. Values that look like secrets are never passed here:
 * callers log names, counts and positions, not connection strings. */
#include "core/log.h"

#include "core/buf.h"
#include "core/time.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum sl_log_level g_level = SL_LOG_WARN;
static enum sl_log_format g_format = SL_LOG_KV;
static FILE *g_out;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *level_names[] = {"debug", "info", "warn", "error", "off"};

int sl_log_level_parse(const char *s, enum sl_log_level *out) {
  for (int i = 0; i <= SL_LOG_OFF; i++)
    if (strcmp(s, level_names[i]) == 0) {
      *out = (enum sl_log_level)i;
      return 0;
    }
  return -1;
}

int sl_log_setup_env(void) {
  const char *lv = getenv("SLUICE_LOG_LEVEL"), *fm = getenv("SLUICE_LOG_FORMAT");
  const char *file = getenv("SLUICE_LOG_FILE");
  enum sl_log_level l = g_level;
  if (lv && *lv && sl_log_level_parse(lv, &l)) return -1;
  if (fm && *fm && strcmp(fm, "json") && strcmp(fm, "kv")) return -1;
  g_level = l;
  if (fm && strcmp(fm, "json") == 0) g_format = SL_LOG_JSON;
  if (file && *file) {
    FILE *f = fopen(file, "a");
    if (!f) return -1;
    setvbuf(f, NULL, _IOLBF, 0);
    g_out = f;
  }
  return 0;
}

void sl_log_set_level(enum sl_log_level lvl) { g_level = lvl; }
void sl_log_set_format(enum sl_log_format fmt) { g_format = fmt; }
int sl_log_enabled(enum sl_log_level lvl) { return lvl >= g_level && lvl != SL_LOG_OFF; }

static int kv_needs_quotes(const char *s) {
  if (!*s) return 1;
  for (; *s; s++)
    if (*s == ' ' || *s == '"' || *s == '=' || (unsigned char)*s < 0x20) return 1;
  return 0;
}

static void put_kv(struct sl_buf *b, const char *k, const char *v) {
  sl_buf_printf(b, " %s=", k);
  if (kv_needs_quotes(v)) sl_buf_json_str(b, v);
  else sl_buf_puts(b, v);
}

void sl_log(enum sl_log_level lvl, const char *part, const char *msg, ...) {
  if (!sl_log_enabled(lvl)) return;
  char ts[40];
  sl_time_iso8601(sl_time_now_ms(), ts, sizeof ts);
  struct sl_buf b;
  sl_buf_init(&b);
  va_list ap;
  va_start(ap, msg);
  if (g_format == SL_LOG_JSON) {
    sl_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"part\":", ts, level_names[lvl]);
    sl_buf_json_str(&b, part);
    sl_buf_puts(&b, ",\"msg\":");
    sl_buf_json_str(&b, msg);
    for (const char *k; (k = va_arg(ap, const char *));) {
      const char *v = va_arg(ap, const char *);
      sl_buf_putc(&b, ',');
      sl_buf_json_str(&b, k);
      sl_buf_putc(&b, ':');
      sl_buf_json_str(&b, v ? v : "");
    }
    sl_buf_puts(&b, "}\n");
  } else {
    sl_buf_printf(&b, "ts=%s level=%s", ts, level_names[lvl]);
    put_kv(&b, "part", part);
    put_kv(&b, "msg", msg);
    for (const char *k; (k = va_arg(ap, const char *));) {
      const char *v = va_arg(ap, const char *);
      put_kv(&b, k, v ? v : "");
    }
    sl_buf_putc(&b, '\n');
  }
  va_end(ap);
  if (b.data) {
    pthread_mutex_lock(&g_mu);
    FILE *out = g_out ? g_out : stderr;
    fwrite(b.data, 1, b.len, out);
    fflush(out);
    pthread_mutex_unlock(&g_mu);
  }
  sl_buf_fini(&b);
}
