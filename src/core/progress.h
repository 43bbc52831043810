/* progress.h: a one-line progress bar on stderr, drawn only when stderr is a terminal
 * (or SLUICE_PROGRESS=1): done/total bytes, rows, rate and ETA, redrawn at most 10x/s. */
#ifndef SL_CORE_PROGRESS_H
#define SL_CORE_PROGRESS_H

#include <stdint.h>

struct sl_progress {
  const char *label;
  int64_t total_bytes; /* 0 if unknown */
  int64_t start_ns, last_draw_ns;
  int enabled;
  int drawn;
  int rows_mode; /* total and done count rows (or unit), not bytes */
  const char *unit; /* what rows_mode counts when not rows; its total is exact */
};

void sl_progress_begin(struct sl_progress *p, const char *label, int64_t total_bytes);
/* rows < 0: unknown so far. */
/* A bar whose total and progress are rows (e.g. of an estimated row count). */
void sl_progress_begin_rows(struct sl_progress *p, const char *label, int64_t total_rows);
/* A bar over an exact count of things named unit, e.g. "models". */
void sl_progress_begin_count(struct sl_progress *p, const char *label, int64_t total, const char *unit);
void sl_progress_update(struct sl_progress *p, int64_t done_bytes, int64_t rows);
void sl_progress_end(struct sl_progress *p, int64_t done_bytes, int64_t rows);
/* "1.5 MB", "312 kB": human sizes for messages. */
void sl_human_bytes(double bytes, char *out, int cap);
/* "1055d 13h", "2h 5m", "42s": a duration in seconds as its two largest units (the
 * smaller one left out when 0), for messages. */
void sl_human_duration(int64_t secs, char *out, int cap);

#endif
