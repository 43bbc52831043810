/* metrics.h: the process's metrics registry: counters, gauges and histograms, each a
 * family with a name, a help text and children per label set, rendered in Prometheus's
 * text exposition format (version 0.0.4) for /metrics.
 *
 * Parts record with one line where the event happens:
 *   sl_metric_counter_add("sluice_ingest_rows_total", NULL, (double)rows);
 *   sl_metric_counter_add("sluice_http_requests_total", "route=\"/api/sql\",code=\"200\"", 1);
 * Labels are given already in Prometheus form (k="v",...; values escaped by the caller
 * with sl_metric_label_escape when they come from outside). The families sluice knows
 * are declared in one table in metrics.c (name, type, help, buckets); a name not in it
 * becomes a family of the type of the first call, with a generic help text.
 *
 * Thread-safe: one mutex guards the registry; recording is a lookup and an add. Memory
 * is bounded: at most SL_METRIC_MAX_CHILDREN label sets per family (further ones are
 * counted in the family's overflow child labelled overflow="true"). */
#ifndef SL_CORE_METRICS_H
#define SL_CORE_METRICS_H

#include <stddef.h>

#define SL_METRIC_MAX_CHILDREN 512

void sl_metric_counter_add(const char *name, const char *labels, double v);
void sl_metric_gauge_set(const char *name, const char *labels, double v);
void sl_metric_gauge_add(const char *name, const char *labels, double v);
void sl_metric_histogram_observe(const char *name, const char *labels, double v);

/* A counter with one label key="value" (the value is escaped here). */
void sl_metric_counter_add_label(const char *name, const char *key, const char *value, double v);
/* One ingest committed: rows and input bytes (sluice_ingest_{rows,bytes,commits}_total). */
void sl_metrics_ingest_committed(long long rows, long long bytes_in);

/* Current value of a counter or gauge summed over the label sets whose label text
 * contains `match` (NULL: all); for a histogram, its count. 0 if unknown. */
double sl_metric_value(const char *name, const char *match);
/* The q-quantile (0..1) of a histogram over all its label sets, estimated by linear
 * interpolation inside the bucket like Prometheus's histogram_quantile; counts are
 * taken as differences from prev_counts (NULL: since start), which gets the current
 * cumulative counts (array of at least SL_METRIC_MAX_BUCKETS+1). NaN if no samples. */
#define SL_METRIC_MAX_BUCKETS 16
double sl_metric_histogram_quantile(const char *name, double q, double *prev_counts);

/* A collector runs before each rendering (and sampling) to set gauges whose value is
 * read on demand (process memory, replication lag). At most 16. */
typedef void (*sl_metric_collect_fn)(void *arg);
int sl_metric_collector_add(sl_metric_collect_fn fn, void *arg);
void sl_metric_collector_remove(sl_metric_collect_fn fn, void *arg);
void sl_metrics_collect(void);

/* The whole registry in Prometheus text format (new string, sl_free); runs the
 * collectors first. NULL if out of memory. */
char *sl_metrics_render(void);

/* Escapes a label value (\\, \" and \n) into out (cap bytes, always terminated). */
void sl_metric_label_escape(const char *v, char *out, size_t cap);

/* Process metrics (RSS from /proc/self/statm, CPU seconds from getrusage, start time,
 * uptime): a collector; sl_metrics_process_init records the start time. */
void sl_metrics_process_init(void);
void sl_metrics_process_collect(void *arg);

/* Drops every family (tests). */
void sl_metrics_reset(void);

#endif
