/* progress.c: terminal progress bar, and the human sizes and durations it (and other
 * messages) shows. The bar never writes anything when not on a terminal, so
 * scripted output stays clean. */
#include "core/progress.h"

#include "core/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void sl_human_bytes(double b, char *out, int cap) {
  const char *u[] = {"B", "kB", "MB", "GB", "TB"};
  int i = 0;
  while (b >= 1000 && i < 4) {
    b /= 1000;
    i++;
  }
  snprintf(out, (size_t)cap, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

void sl_human_duration(int64_t secs, char *out, int cap) {
  static const struct { char u; int64_t s; } units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
  const char *sign = secs < 0 ? "-" : "";
  uint64_t v = secs < 0 ? (uint64_t)0 - (uint64_t)secs : (uint64_t)secs;
  size_t i = 0;
  while (i < 3 && v < (uint64_t)units[i].s) i++;
  uint64_t big = v / (uint64_t)units[i].s, rest = i < 3 ? v % (uint64_t)units[i].s / (uint64_t)units[i + 1].s : 0;
  if (rest)
    snprintf(out, (size_t)cap, "%s%llu%c %llu%c", sign, (unsigned long long)big, units[i].u, (unsigned long long)rest,
             units[i + 1].u);
  else snprintf(out, (size_t)cap, "%s%llu%c", sign, (unsigned long long)big, units[i].u);
}

void sl_progress_begin(struct sl_progress *p, const char *label, int64_t total_bytes) {
  memset(p, 0, sizeof *p);
  p->label = label;
  p->total_bytes = total_bytes;
  p->start_ns = sl_time_mono_ns();
  const char *force = getenv("SLUICE_PROGRESS");
  p->enabled = force ? strcmp(force, "0") != 0 : isatty(STDERR_FILENO);
}

void sl_progress_begin_rows(struct sl_progress *p, const char *label, int64_t total_rows) {
  sl_progress_begin(p, label, total_rows);
  p->rows_mode = 1;
}

void sl_progress_begin_count(struct sl_progress *p, const char *label, int64_t total, const char *unit) {
  sl_progress_begin_rows(p, label, total);
  p->unit = unit;
}

static void draw_rows(struct sl_progress *p, int64_t rows, int final) {
  double secs = (double)(sl_time_mono_ns() - p->start_ns) / 1e9;
  double frac = p->total_bytes > 0 ? (double)rows / (double)p->total_bytes : 0;
  if (frac > 1) frac = 1;
  char bar[31];
  for (int i = 0; i < 30; i++) bar[i] = i < (int)(frac * 30) ? '#' : '.';
  bar[30] = '\0';
  if (p->unit)
    fprintf(stderr, "\r\033[K%s [%s] %3.0f%%  %lld of %lld %s  %.1fs%s", p->label, bar, frac * 100, (long long)rows,
            (long long)p->total_bytes, p->unit, secs, final ? "\n" : "");
  else
    fprintf(stderr, "\r\033[K%s [%s] %3.0f%%  %lld of ~%lld rows  %.0f rows/s%s", p->label, bar, frac * 100,
            (long long)rows, (long long)p->total_bytes, secs > 0 ? (double)rows / secs : 0.0, final ? "\n" : "");
  fflush(stderr);
  p->drawn = 1;
}

static void draw(struct sl_progress *p, int64_t done, int64_t rows, int final) {
  if (p->rows_mode) {
    draw_rows(p, done, final);
    return;
  }
  double secs = (double)(sl_time_mono_ns() - p->start_ns) / 1e9;
  char dn[32], tot[32], rate[32], rows_s[48] = "", eta[32] = "";
  sl_human_bytes((double)done, dn, sizeof dn);
  sl_human_bytes((double)p->total_bytes, tot, sizeof tot);
  sl_human_bytes(secs > 0 ? (double)done / secs : 0, rate, sizeof rate);
  if (rows >= 0)
    snprintf(rows_s, sizeof rows_s, "  %lld rows (%.0f/s)", (long long)rows,
             secs > 0 ? (double)rows / secs : 0.0);
  double frac = p->total_bytes > 0 ? (double)done / (double)p->total_bytes : 0;
  if (frac > 1) frac = 1;
  if (!final && frac > 0.01 && secs > 0.5)
    snprintf(eta, sizeof eta, "  ETA %.0fs", secs / frac - secs);
  char bar[31];
  int fill = (int)(frac * 30);
  for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
  bar[30] = '\0';
  fprintf(stderr, "\r\033[K%s [%s] %3.0f%%  %s/%s  %s/s%s%s%s", p->label, bar, frac * 100, dn, tot,
          rate, rows_s, final ? "" : eta, final ? "\n" : "");
  fflush(stderr);
  p->drawn = 1;
}

void sl_progress_update(struct sl_progress *p, int64_t done_bytes, int64_t rows) {
  if (!p->enabled) return;
  int64_t now = sl_time_mono_ns();
  if (now - p->last_draw_ns < 100000000) return;
  p->last_draw_ns = now;
  draw(p, done_bytes, rows, 0);
}

void sl_progress_end(struct sl_progress *p, int64_t done_bytes, int64_t rows) {
  if (!p->enabled) return;
  draw(p, done_bytes, rows, 1);
}
