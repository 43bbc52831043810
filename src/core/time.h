/* time.h: wall and monotonic clocks, ISO-8601 formatting and parsing, unique ids. */
#ifndef SL_CORE_TIME_H
#define SL_CORE_TIME_H

#include <stddef.h>
#include <stdint.h>

int64_t sl_time_now_ms(void);  /* wall clock, ms since the epoch */
int64_t sl_time_mono_ns(void); /* monotonic clock */
/* "2026-11-24T02:28:20.123Z" */
void sl_time_iso8601(int64_t ms, char *out, size_t cap);
/* Parses "YYYY-MM-DD[ T]HH:MM[:SS[.fff]][Z|+HH:MM]" (UTC if no zone) or a date alone.
 * Returns 0 and sets *ms, or -1 if s is not such a time. */
int sl_time_parse(const char *s, int64_t *ms);
/* Parses a duration: "500ms", "90s", "15m", "24h", "7d" or plain seconds ("1.5" too).
 * Returns 0 and sets *ms, or -1 if s is not a non-negative duration. */
int sl_time_parse_duration(const char *s, int64_t *ms);
/* A random RFC 4122 version-4 UUID string (37 bytes with NUL) from /dev/urandom. */
int sl_uuid_v4(char out[37]);

#endif
