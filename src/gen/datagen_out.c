/* datagen_out.c: the generators' row writer. Numbers are formatted by hand into one
 * large buffer (printf per field would cap the trips generator far below a million
 * rows per second). A write error is remembered and reported by sl_gen_out_flush. */
#include "gen/datagen.h"

#include "core/mem.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OUT_CAP (4u << 20)

int sl_gen_out_open(struct sl_gen_out *o, int fd, enum sl_gen_format fmt, const struct sl_gen_col *cols, int n_cols) {
  memset(o, 0, sizeof *o);
  o->fd = fd;
  o->fmt = fmt == SL_GEN_JSONL ? SL_GEN_JSONL : SL_GEN_CSV;
  o->cols = cols;
  o->n_cols = n_cols;
  o->cap = OUT_CAP;
  o->buf = sl_malloc(o->cap);
  if (!o->buf) return -1;
  if (o->fmt == SL_GEN_CSV) {
    for (int i = 0; i < n_cols; i++) {
      if (i) o->buf[o->len++] = ',';
      size_t l = strlen(cols[i].name);
      memcpy(o->buf + o->len, cols[i].name, l);
      o->len += l;
    }
    o->buf[o->len++] = '\n';
  }
  return 0;
}

static void drain(struct sl_gen_out *o) {
  size_t off = 0;
  while (off < o->len && !o->failed) {
    ssize_t n = write(o->fd, o->buf + off, o->len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      o->failed = 1;
      o->err_no = n < 0 ? errno : EIO;
      break;
    }
    off += (size_t)n;
  }
  o->written += (int64_t)o->len;
  o->len = 0;
}

/* Room for one more field (no field is longer than 256 bytes). */
static inline char *room(struct sl_gen_out *o) {
  if (o->len + 512 > o->cap) drain(o);
  return o->buf + o->len;
}

static inline void field_start(struct sl_gen_out *o) {
  char *p = room(o);
  if (o->fmt == SL_GEN_CSV) {
    if (o->col) {
      *p = ',';
      o->len++;
    }
    return;
  }
  const char *name = o->cols[o->col].name;
  size_t l = strlen(name);
  *p++ = o->col ? ',' : '{';
  *p++ = '"';
  memcpy(p, name, l);
  p += l;
  *p++ = '"';
  *p++ = ':';
  o->len += l + 4;
}

static inline size_t utoa(uint64_t v, char *out) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  return n;
}

void sl_gen_int(struct sl_gen_out *o, int64_t v) {
  field_start(o);
  char *p = o->buf + o->len;
  if (v < 0) {
    *p++ = '-';
    o->len++;
    v = -v;
  }
  o->len += utoa((uint64_t)v, p);
  o->col++;
}

void sl_gen_fixed(struct sl_gen_out *o, int64_t v, int dec) {
  field_start(o);
  char *p = o->buf + o->len;
  if (v < 0) {
    *p++ = '-';
    o->len++;
    v = -v;
  }
  int64_t scale = 1;
  for (int i = 0; i < dec; i++) scale *= 10;
  size_t n = utoa((uint64_t)(v / scale), p);
  if (dec) {
    p[n++] = '.';
    int64_t frac = v % scale;
    for (int i = dec - 1; i >= 0; i--) {
      p[n + (size_t)i] = (char)('0' + frac % 10);
      frac /= 10;
    }
    n += (size_t)dec;
  }
  o->len += n;
  o->col++;
}

void sl_gen_str(struct sl_gen_out *o, const char *s) {
  field_start(o);
  char *p = o->buf + o->len;
  size_t l = strlen(s);
  if (o->fmt == SL_GEN_JSONL) *p++ = '"';
  memcpy(p, s, l); /* generated strings need no escaping: no quotes, commas or controls */
  p += l;
  if (o->fmt == SL_GEN_JSONL) *p++ = '"';
  o->len += l + (o->fmt == SL_GEN_JSONL ? 2 : 0);
  o->col++;
}

/* Dates of a day number are cached: consecutive rows mostly share few days. */
static void date_of(int64_t day, char out[11]) {
  static _Thread_local int64_t cached_day = -1;
  static _Thread_local char cached[11];
  if (day != cached_day) {
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    int y = tm.tm_year + 1900, m = tm.tm_mon + 1, d = tm.tm_mday;
    cached[0] = (char)('0' + y / 1000);
    cached[1] = (char)('0' + y / 100 % 10);
    cached[2] = (char)('0' + y / 10 % 10);
    cached[3] = (char)('0' + y % 10);
    cached[4] = '-';
    cached[5] = (char)('0' + m / 10);
    cached[6] = (char)('0' + m % 10);
    cached[7] = '-';
    cached[8] = (char)('0' + d / 10);
    cached[9] = (char)('0' + d % 10);
    cached[10] = 0;
    cached_day = day;
  }
  memcpy(out, cached, 11);
}

void sl_gen_ts(struct sl_gen_out *o, int64_t s) {
  field_start(o);
  char *p = o->buf + o->len;
  int64_t day = s / 86400, sec = s % 86400;
  if (o->fmt == SL_GEN_JSONL) *p++ = '"';
  char d[11];
  date_of(day, d);
  memcpy(p, d, 10);
  p += 10;
  int h = (int)(sec / 3600), mi = (int)(sec / 60 % 60), se = (int)(sec % 60);
  p[0] = ' ';
  p[1] = (char)('0' + h / 10);
  p[2] = (char)('0' + h % 10);
  p[3] = ':';
  p[4] = (char)('0' + mi / 10);
  p[5] = (char)('0' + mi % 10);
  p[6] = ':';
  p[7] = (char)('0' + se / 10);
  p[8] = (char)('0' + se % 10);
  p += 9;
  if (o->fmt == SL_GEN_JSONL) *p++ = '"';
  o->len += 19 + (o->fmt == SL_GEN_JSONL ? 2 : 0);
  o->col++;
}

void sl_gen_row_end(struct sl_gen_out *o) {
  char *p = room(o);
  if (o->fmt == SL_GEN_JSONL) {
    *p++ = '}';
    o->len++;
  }
  *p = '\n';
  o->len++;
  o->col = 0;
}

int sl_gen_out_flush(struct sl_gen_out *o) {
  drain(o);
  return o->failed ? -1 : 0;
}

void sl_gen_out_fini(struct sl_gen_out *o) {
  sl_free(o->buf);
  o->buf = NULL;
}
