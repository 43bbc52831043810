/* log.h: one line per event, as JSON lines or key=value, to stderr or a file.
 * Fields are given as alternating key/value strings ending in NULL:
 *   sl_log(SL_LOG_INFO, "ingest", "committed", "table", "bronze.loans", "rows", "45000", NULL);
 * Thread-safe. Level and format come from sl_log_setup or SLUICE_LOG_LEVEL/FORMAT/FILE. */
#ifndef SL_CORE_LOG_H
#define SL_CORE_LOG_H

enum sl_log_level { SL_LOG_DEBUG, SL_LOG_INFO, SL_LOG_WARN, SL_LOG_ERROR, SL_LOG_OFF };
enum sl_log_format { SL_LOG_KV, SL_LOG_JSON };

/* Reads SLUICE_LOG_LEVEL (debug|info|warn|error|off), SLUICE_LOG_FORMAT (kv|json) and
 * SLUICE_LOG_FILE. Returns 0, or -1 with nothing changed if a value is unknown. */
int sl_log_setup_env(void);
void sl_log_set_level(enum sl_log_level lvl);
void sl_log_set_format(enum sl_log_format fmt);
int sl_log_level_parse(const char *s, enum sl_log_level *out);
int sl_log_enabled(enum sl_log_level lvl);
void sl_log(enum sl_log_level lvl, const char *part, const char *msg, ...)
    __attribute__((sentinel));

#endif
