/* series.c: recent values of the key metrics for the UI's charts (GET
 * /api/metrics/series). A sampler thread reads the registry every
 * server.series_interval_s seconds and keeps the last server.series_keep samples of
 * each series in a ring. Counters become per-second rates over the interval, latency
 * quantiles are computed from the histogram's counts of the interval only (so a chart
 * shows the latency of that moment, not since start). */
#include "server/server_int.h"

#include "core/mem.h"
#include "core/metrics.h"
#include "core/time.h"

#include <math.h>
#include <string.h>
#include <time.h>

enum how { RATE, GAUGE, TOTAL, P50, P99, CPU };

static const struct {
  const char *name;
  const char *metric;
  const char *match;
  enum how how;
} defs[] = {
    {"http_requests_per_s", "sluice_http_requests_total", NULL, RATE},
    {"http_errors_per_s", "sluice_http_requests_total", "code=\"5", RATE},
    {"http_latency_p50_ms", "sluice_http_request_duration_seconds", NULL, P50},
    {"http_latency_p99_ms", "sluice_http_request_duration_seconds", NULL, P99},
    {"ingest_rows_per_s", "sluice_ingest_rows_total", NULL, RATE},
    {"ingest_bytes_per_s", "sluice_ingest_bytes_total", NULL, RATE},
    {"catalog_commits_per_s", "sluice_catalog_commits_total", NULL, RATE},
    {"catalog_conflicts_per_s", "sluice_catalog_conflicts_total", NULL, RATE},
    {"cdc_events_per_s", "sluice_cdc_events_total", NULL, RATE},
    {"cdc_lag_bytes", "sluice_cdc_lag_bytes", NULL, GAUGE},
    {"cdc_lag_seconds", "sluice_cdc_lag_seconds", NULL, GAUGE},
    {"log_appends_per_s", "sluice_log_appends_total", NULL, RATE},
    {"log_consumer_lag", "sluice_log_consumer_lag", NULL, GAUGE},
    {"builds", "sluice_builds_total", NULL, TOTAL},
    {"builds_failed", "sluice_builds_total", "outcome=\"failed\"", TOTAL},
    {"checks", "sluice_checks_total", NULL, TOTAL},
    {"checks_failed", "sluice_checks_total", "status=\"fail\"", TOTAL},
    {"rss_bytes", "process_resident_memory_bytes", NULL, GAUGE},
    {"cpu_percent", "process_cpu_seconds_total", NULL, CPU},
};
#define N_DEFS (sizeof defs / sizeof defs[0])

struct sl_series {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stop, started;
  size_t keep, head, count;
  int64_t *t_ms;
  double *v[N_DEFS];
  double last[N_DEFS];
  double hist_prev[SL_METRIC_MAX_BUCKETS + 1];
  int64_t last_ns;
  int64_t interval_s;
};

static void sample(struct sl_series *se) {
  sl_metrics_collect();
  int64_t now_ns = sl_time_mono_ns();
  double dt = se->last_ns ? (double)(now_ns - se->last_ns) / 1e9 : 0;
  double vals[N_DEFS];
  double p50 = NAN, p99 = NAN;
  {
    /* Both quantiles from the same interval's counts. */
    double prev[SL_METRIC_MAX_BUCKETS + 1];
    memcpy(prev, se->hist_prev, sizeof prev);
    p50 = sl_metric_histogram_quantile("sluice_http_request_duration_seconds", 0.5, prev);
    p99 = sl_metric_histogram_quantile("sluice_http_request_duration_seconds", 0.99, se->hist_prev);
  }
  for (size_t i = 0; i < N_DEFS; i++) {
    double cur = defs[i].how == P50 || defs[i].how == P99 ? 0 : sl_metric_value(defs[i].metric, defs[i].match);
    switch (defs[i].how) {
    case RATE: vals[i] = dt > 0 ? (cur - se->last[i]) / dt : 0; break;
    case CPU: vals[i] = dt > 0 ? 100 * (cur - se->last[i]) / dt : 0; break;
    case GAUGE: case TOTAL: vals[i] = cur; break;
    case P50: vals[i] = isnan(p50) ? NAN : p50 * 1000; break;
    case P99: vals[i] = isnan(p99) ? NAN : p99 * 1000; break;
    }
    if (vals[i] < 0) vals[i] = 0; /* a counter reset */
    se->last[i] = cur;
  }
  se->last_ns = now_ns;
  pthread_mutex_lock(&se->mu);
  size_t slot = (se->head + se->count) % se->keep;
  if (se->count == se->keep) se->head = (se->head + 1) % se->keep;
  else se->count++;
  se->t_ms[slot] = sl_time_now_ms();
  for (size_t i = 0; i < N_DEFS; i++) se->v[i][slot] = vals[i];
  pthread_mutex_unlock(&se->mu);
}

static void *sampler_main(void *arg) {
  struct sl_series *se = arg;
  sample(se);
  pthread_mutex_lock(&se->mu);
  while (!se->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += se->interval_s;
    if (pthread_cond_timedwait(&se->cv, &se->mu, &ts) != 0 && !se->stop) {
      pthread_mutex_unlock(&se->mu);
      sample(se);
      pthread_mutex_lock(&se->mu);
    }
  }
  pthread_mutex_unlock(&se->mu);
  return NULL;
}

int sl_series_start(struct sl_server *s, struct sl_err *err) {
  struct sl_series *se = sl_calloc(1, sizeof *se);
  if (!se) return sl_err_set(err, SL_ENOMEM, "out of memory");
  se->keep = (size_t)s->o->series_keep;
  se->interval_s = s->o->series_interval_s;
  se->t_ms = sl_calloc(se->keep, sizeof *se->t_ms);
  int ok = se->t_ms != NULL;
  for (size_t i = 0; i < N_DEFS; i++) ok &= (se->v[i] = sl_calloc(se->keep, sizeof(double))) != NULL;
  pthread_mutex_init(&se->mu, NULL);
  pthread_cond_init(&se->cv, NULL);
  s->series = se;
  if (!ok) return sl_err_set(err, SL_ENOMEM, "out of memory for %zu metric samples", se->keep);
  if (pthread_create(&se->th, NULL, sampler_main, se)) return sl_err_set(err, SL_EINTERNAL, "cannot start the metrics sampler thread");
  se->started = 1;
  return 0;
}

void sl_series_stop(struct sl_server *s) {
  struct sl_series *se = s->series;
  if (!se) return;
  if (se->started) {
    pthread_mutex_lock(&se->mu);
    se->stop = 1;
    pthread_cond_broadcast(&se->cv);
    pthread_mutex_unlock(&se->mu);
    pthread_join(se->th, NULL);
  }
  pthread_mutex_destroy(&se->mu);
  pthread_cond_destroy(&se->cv);
  sl_free(se->t_ms);
  for (size_t i = 0; i < N_DEFS; i++) sl_free(se->v[i]);
  sl_free(se);
  s->series = NULL;
}

void sl_api_series(struct sl_req *r) {
  struct sl_series *se = r->srv->series;
  const char *only = sl_query_get(&r->q, "names");
  json_t *series = json_object();
  pthread_mutex_lock(&se->mu);
  for (size_t i = 0; i < N_DEFS; i++) {
    if (only && *only) {
      /* a comma-separated list of names */
      const char *p = strstr(only, defs[i].name);
      size_t n = strlen(defs[i].name);
      int hit = 0;
      while (p && !hit) {
        hit = (p == only || p[-1] == ',') && (p[n] == '\0' || p[n] == ',');
        p = strstr(p + 1, defs[i].name);
      }
      if (!hit) continue;
    }
    json_t *pts = json_array();
    for (size_t k = 0; k < se->count; k++) {
      size_t slot = (se->head + k) % se->keep;
      double v = se->v[i][slot];
      json_array_append_new(pts, json_pack("[I, o]", (json_int_t)se->t_ms[slot],
                                           isnan(v) ? json_null() : json_real(round(v * 1000) / 1000)));
    }
    json_object_set_new(series, defs[i].name, pts);
  }
  int64_t interval = se->interval_s;
  pthread_mutex_unlock(&se->mu);
  sl_req_json(r, 200, json_pack("{s:I, s:o}", "interval_s", (json_int_t)interval, "series", series));
}
