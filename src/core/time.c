/* time.c: clocks, time formatting and parsing, UUIDs. */
#include "core/time.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int64_t sl_time_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sl_time_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sl_time_iso8601(int64_t ms, char *out, size_t cap) {
  time_t secs = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static int digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)**p)) return -1;
    v = v * 10 + (*(*p)++ - '0');
  }
  *out = v;
  return 0;
}

int sl_time_parse_duration(const char *s, int64_t *ms) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || v < 0 || !isfinite(v) || isspace((unsigned char)*s)) return -1;
  double mult = !*end || !strcmp(end, "s") ? 1000 : !strcmp(end, "ms") ? 1 : !strcmp(end, "m") ? 60e3
                : !strcmp(end, "h") ? 3600e3 : !strcmp(end, "d") ? 86400e3 : -1;
  if (mult < 0 || v * mult > 9e18) return -1;
  *ms = (int64_t)(v * mult);
  return 0;
}

int sl_time_parse(const char *s, int64_t *ms) {
  const char *p = s;
  int y, mo, d, h = 0, mi = 0, se = 0, frac = 0;
  if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return -1;
  int offset_min = 0;
  if (*p == 'T' || *p == ' ') {
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi)) return -1;
    if (*p == ':') {
      p++;
      if (digits(&p, 2, &se)) return -1;
      if (*p == '.') {
        p++;
        int scale = 100;
        if (!isdigit((unsigned char)*p)) return -1;
        while (isdigit((unsigned char)*p)) {
          frac += (*p - '0') * scale;
          scale /= 10;
          p++;
        }
      }
    }
    if (*p == 'Z') p++;
    else if (*p == '+' || *p == '-') {
      int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
      if (digits(&p, 2, &oh)) return -1;
      if (*p == ':') p++;
      if (*p && digits(&p, 2, &om)) return -1;
      offset_min = sign * (oh * 60 + om);
    }
  }
  if (*p) return -1;
  if (h > 23 || mi > 59 || se > 60) return -1;
  struct tm tm = {0};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  time_t t = timegm(&tm);
  *ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + frac;
  return 0;
}

int sl_uuid_v4(char out[37]) {
  unsigned char r[16];
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, r, sizeof r);
  close(fd);
  if (n != (ssize_t)sizeof r) return -1;
  r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
           r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
           r[15]);
  return 0;
}
