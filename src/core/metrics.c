/* metrics.c: the metrics registry behind metrics.h and its Prometheus rendering.
 *
 * NOTES: the families sluice records are declared in `known` below, so /metrics always
 * shows their HELP and TYPE (and 0 for unlabelled counters before the first event),
 * and the Grafana dashboard in deploy/grafana can rely on the names. Families and
 * children are kept in arrays searched linearly: there are a few dozen families and
 * label sets per family stay small (routes x codes); the mutex is held only for the
 * lookup and the add. */
#include "core/metrics.h"

#include "core/buf.h"
#include "core/mem.h"
#include "core/time.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum mtype { M_COUNTER, M_GAUGE, M_HISTOGRAM };

struct child {
  char *labels; /* "" for none */
  double value; /* counter/gauge */
  double sum;
  double counts[SL_METRIC_MAX_BUCKETS + 1]; /* per bucket (not cumulative), last is +Inf */
  double count;
};

struct family {
  char *name;
  const char *help;
  enum mtype type;
  const double *buckets; /* ascending, n_buckets of them */
  size_t n_buckets;
  int labelled; /* declared with labels: no zero child before the first event */
  struct child *kids;
  size_t n_kids, cap_kids;
};

static const double latency_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                         0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define N_LAT (sizeof latency_buckets / sizeof latency_buckets[0])

static const struct known {
  const char *name;
  enum mtype type;
  int labelled;
  const char *help;
} known[] = {
    {"sluice_http_requests_total", M_COUNTER, 1, "HTTP requests served, by route pattern, method and status code."},
    {"sluice_http_request_duration_seconds", M_HISTOGRAM, 1, "HTTP request latency from first byte to response, by route pattern."},
    {"sluice_http_requests_in_flight", M_GAUGE, 0, "HTTP requests being handled now."},
    {"sluice_http_request_body_bytes_total", M_COUNTER, 0, "Bytes of HTTP request bodies received."},
    {"sluice_sql_queries_total", M_COUNTER, 1, "SQL queries run through the API, by outcome (ok, error, timeout)."},
    {"sluice_ingest_rows_total", M_COUNTER, 0, "Rows committed into lake tables by ingest."},
    {"sluice_ingest_bytes_total", M_COUNTER, 0, "Bytes of input files read by committed ingests."},
    {"sluice_ingest_commits_total", M_COUNTER, 0, "Ingests committed as a new snapshot."},
    {"sluice_catalog_commits_total", M_COUNTER, 0, "Snapshots committed to the catalog."},
    {"sluice_catalog_conflicts_total", M_COUNTER, 0, "Catalog commits refused because another writer committed first."},
    {"sluice_cdc_events_total", M_COUNTER, 1, "Change events captured from PostgreSQL sources, by source."},
    {"sluice_cdc_lag_bytes", M_GAUGE, 1, "WAL bytes written since the source's slot's confirmed position."},
    {"sluice_cdc_lag_seconds", M_GAUGE, 1, "Replication flush lag of the source's reader, in seconds."},
    {"sluice_cdc_slot_active", M_GAUGE, 1, "1 if a reader is attached to the source's replication slot."},
    {"sluice_log_appends_total", M_COUNTER, 1, "Messages appended to topics, by topic."},
    {"sluice_log_consumer_lag", M_GAUGE, 1, "Messages a consumer group has not yet committed, by topic and group."},
    {"sluice_builds_total", M_COUNTER, 1, "Build runs, by outcome (ok, failed)."},
    {"sluice_build_models_total", M_COUNTER, 1, "Models built, by status."},
    {"sluice_checks_total", M_COUNTER, 1, "Data quality checks run, by status (pass, warn, fail, error)."},
    {"sluice_compact_runs_total", M_COUNTER, 0, "Compactions of the lake that finished."},
    {"sluice_compact_failures_total", M_COUNTER, 0, "Compactions of the lake that stopped on an error."},
    {"sluice_compact_files_rewritten_total", M_COUNTER, 0, "Data files rewritten by compaction."},
    {"sluice_compact_files_written_total", M_COUNTER, 0, "Data files written by compaction."},
    {"sluice_vacuum_runs_total", M_COUNTER, 0, "Vacuums of the lake that finished."},
    {"sluice_vacuum_failures_total", M_COUNTER, 0, "Vacuums of the lake that stopped on an error."},
    {"sluice_vacuum_snapshots_expired_total", M_COUNTER, 0, "Snapshots expired by vacuum."},
    {"sluice_vacuum_files_deleted_total", M_COUNTER, 0, "Files deleted by vacuum (of expired snapshots, and orphans)."},
    {"sluice_vacuum_bytes_freed_total", M_COUNTER, 0, "Bytes of the files deleted by vacuum."},
    {"process_resident_memory_bytes", M_GAUGE, 0, "Resident memory size in bytes."},
    {"process_cpu_seconds_total", M_COUNTER, 0, "Total user and system CPU time spent in seconds."},
    {"process_start_time_seconds", M_GAUGE, 0, "Start time of the process since the Unix epoch in seconds."},
    {"sluice_uptime_seconds", M_GAUGE, 0, "Seconds since the process started."},
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct family *fams;
static size_t n_fams, cap_fams;

struct collector {
  sl_metric_collect_fn fn;
  void *arg;
};
static struct collector collectors[16];
static size_t n_collectors;
static double start_s;

/* Under mu. NULL only when out of memory. */
static struct family *family_get(const char *name, enum mtype type) {
  for (size_t i = 0; i < n_fams; i++)
    if (!strcmp(fams[i].name, name)) return &fams[i];
  if (sl_array_grow(&fams, &cap_fams, n_fams + 1, sizeof *fams)) return NULL;
  struct family *f = &fams[n_fams];
  memset(f, 0, sizeof *f);
  f->name = sl_strdup(name);
  if (!f->name) return NULL;
  f->type = type;
  f->help = "sluice metric.";
  for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
    if (!strcmp(known[k].name, name)) {
      f->type = known[k].type;
      f->help = known[k].help;
      f->labelled = known[k].labelled;
    }
  if (f->type == M_HISTOGRAM) {
    f->buckets = latency_buckets;
    f->n_buckets = N_LAT;
  }
  n_fams++;
  return f;
}

static void declare_known(void) {
  if (n_fams) return;
  for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) family_get(known[k].name, known[k].type);
}

static struct child *child_get(struct family *f, const char *labels) {
  if (!labels) labels = "";
  for (size_t i = 0; i < f->n_kids; i++)
    if (!strcmp(f->kids[i].labels, labels)) return &f->kids[i];
  if (f->n_kids >= SL_METRIC_MAX_CHILDREN) labels = "overflow=\"true\"";
  for (size_t i = 0; i < f->n_kids; i++)
    if (!strcmp(f->kids[i].labels, labels)) return &f->kids[i];
  if (sl_array_grow(&f->kids, &f->cap_kids, f->n_kids + 1, sizeof *f->kids)) return NULL;
  struct child *c = &f->kids[f->n_kids];
  memset(c, 0, sizeof *c);
  c->labels = sl_strdup(labels);
  if (!c->labels) return NULL;
  f->n_kids++;
  return c;
}

static struct child *lookup(const char *name, const char *labels, enum mtype type) {
  declare_known();
  struct family *f = family_get(name, type);
  return f && f->type == type ? child_get(f, labels) : NULL;
}

void sl_metric_counter_add(const char *name, const char *labels, double v) {
  if (!(v >= 0)) return; /* counters only go up; NaN is dropped too */
  pthread_mutex_lock(&mu);
  struct child *c = lookup(name, labels, M_COUNTER);
  if (c) c->value += v;
  pthread_mutex_unlock(&mu);
}

void sl_metric_gauge_set(const char *name, const char *labels, double v) {
  pthread_mutex_lock(&mu);
  struct child *c = lookup(name, labels, M_GAUGE);
  if (c) c->value = v;
  pthread_mutex_unlock(&mu);
}

void sl_metric_gauge_add(const char *name, const char *labels, double v) {
  pthread_mutex_lock(&mu);
  struct child *c = lookup(name, labels, M_GAUGE);
  if (c) c->value += v;
  pthread_mutex_unlock(&mu);
}

void sl_metric_histogram_observe(const char *name, const char *labels, double v) {
  pthread_mutex_lock(&mu);
  declare_known();
  struct family *f = family_get(name, M_HISTOGRAM);
  struct child *c = f && f->type == M_HISTOGRAM ? child_get(f, labels) : NULL;
  if (c) {
    size_t b = 0;
    while (b < f->n_buckets && v > f->buckets[b]) b++;
    c->counts[b] += 1;
    c->sum += v;
    c->count += 1;
  }
  pthread_mutex_unlock(&mu);
}

void sl_metric_counter_add_label(const char *name, const char *key, const char *value, double v) {
  char esc[256], labels[320];
  sl_metric_label_escape(value ? value : "", esc, sizeof esc);
  snprintf(labels, sizeof labels, "%s=\"%s\"", key, esc);
  sl_metric_counter_add(name, labels, v);
}

void sl_metrics_ingest_committed(long long rows, long long bytes_in) {
  sl_metric_counter_add("sluice_ingest_rows_total", NULL, (double)rows);
  sl_metric_counter_add("sluice_ingest_bytes_total", NULL, (double)bytes_in);
  sl_metric_counter_add("sluice_ingest_commits_total", NULL, 1);
}

double sl_metric_value(const char *name, const char *match) {
  double v = 0;
  pthread_mutex_lock(&mu);
  for (size_t i = 0; i < n_fams; i++) {
    if (strcmp(fams[i].name, name)) continue;
    for (size_t k = 0; k < fams[i].n_kids; k++) {
      const struct child *c = &fams[i].kids[k];
      if (match && !strstr(c->labels, match)) continue;
      v += fams[i].type == M_HISTOGRAM ? c->count : c->value;
    }
  }
  pthread_mutex_unlock(&mu);
  return v;
}

double sl_metric_histogram_quantile(const char *name, double q, double *prev) {
  double cur[SL_METRIC_MAX_BUCKETS + 1] = {0}, delta[SL_METRIC_MAX_BUCKETS + 1];
  const double *bounds = NULL;
  size_t nb = 0;
  pthread_mutex_lock(&mu);
  for (size_t i = 0; i < n_fams; i++) {
    if (strcmp(fams[i].name, name) || fams[i].type != M_HISTOGRAM) continue;
    bounds = fams[i].buckets;
    nb = fams[i].n_buckets;
    for (size_t k = 0; k < fams[i].n_kids; k++)
      for (size_t b = 0; b <= nb; b++) cur[b] += fams[i].kids[k].counts[b];
  }
  pthread_mutex_unlock(&mu);
  double total = 0;
  for (size_t b = 0; b <= nb; b++) {
    delta[b] = cur[b] - (prev ? prev[b] : 0);
    total += delta[b];
    if (prev) prev[b] = cur[b];
  }
  if (!bounds || total <= 0) return NAN;
  double rank = q * total, seen = 0;
  for (size_t b = 0; b <= nb; b++) {
    if (seen + delta[b] >= rank && delta[b] > 0) {
      if (b == nb) return bounds[nb - 1]; /* in +Inf: the highest finite bound, as Prometheus does */
      double lo = b ? bounds[b - 1] : 0, hi = bounds[b];
      return lo + (hi - lo) * (rank - seen) / delta[b];
    }
    seen += delta[b];
  }
  return bounds[nb - 1];
}

int sl_metric_collector_add(sl_metric_collect_fn fn, void *arg) {
  pthread_mutex_lock(&mu);
  int rc = -1;
  if (n_collectors < sizeof collectors / sizeof collectors[0]) {
    collectors[n_collectors++] = (struct collector){fn, arg};
    rc = 0;
  }
  pthread_mutex_unlock(&mu);
  return rc;
}

void sl_metric_collector_remove(sl_metric_collect_fn fn, void *arg) {
  pthread_mutex_lock(&mu);
  for (size_t i = 0; i < n_collectors; i++)
    if (collectors[i].fn == fn && collectors[i].arg == arg) {
      memmove(&collectors[i], &collectors[i + 1], (n_collectors - i - 1) * sizeof collectors[0]);
      n_collectors--;
      break;
    }
  pthread_mutex_unlock(&mu);
}

void sl_metrics_collect(void) {
  struct collector cs[16];
  size_t n;
  pthread_mutex_lock(&mu);
  n = n_collectors;
  memcpy(cs, collectors, n * sizeof cs[0]);
  pthread_mutex_unlock(&mu);
  /* Collectors record through the public calls, so they run without the lock. */
  for (size_t i = 0; i < n; i++) cs[i].fn(cs[i].arg);
}

static void put_value(struct sl_buf *b, double v) {
  if (isinf(v)) sl_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
  else if (isnan(v)) sl_buf_puts(b, "NaN");
  else if (v == (double)(long long)v && fabs(v) < 1e15) sl_buf_printf(b, "%lld", (long long)v);
  else sl_buf_printf(b, "%.17g", v);
}

static void put_sample(struct sl_buf *b, const char *name, const char *suffix, const char *labels, const char *extra,
                       double v) {
  sl_buf_printf(b, "%s%s", name, suffix);
  int has = labels && *labels, hasx = extra && *extra;
  if (has || hasx) sl_buf_printf(b, "{%s%s%s}", has ? labels : "", has && hasx ? "," : "", hasx ? extra : "");
  sl_buf_putc(b, ' ');
  put_value(b, v);
  sl_buf_putc(b, '\n');
}

static const char *type_name(enum mtype t) {
  return t == M_COUNTER ? "counter" : t == M_GAUGE ? "gauge" : "histogram";
}

char *sl_metrics_render(void) {
  sl_metrics_collect();
  struct sl_buf b;
  sl_buf_init(&b);
  pthread_mutex_lock(&mu);
  declare_known();
  for (size_t i = 0; i < n_fams; i++) {
    const struct family *f = &fams[i];
    sl_buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, type_name(f->type));
    if (!f->n_kids && f->labelled) continue; /* no label set has a value yet */
    if (!f->n_kids) {
      if (f->type == M_HISTOGRAM) {
        put_sample(&b, f->name, "_bucket", NULL, "le=\"+Inf\"", 0);
        put_sample(&b, f->name, "_sum", NULL, NULL, 0);
        put_sample(&b, f->name, "_count", NULL, NULL, 0);
      } else {
        put_sample(&b, f->name, "", NULL, NULL, 0);
      }
      continue;
    }
    for (size_t k = 0; k < f->n_kids; k++) {
      const struct child *c = &f->kids[k];
      if (f->type != M_HISTOGRAM) {
        put_sample(&b, f->name, "", c->labels, NULL, c->value);
        continue;
      }
      double cum = 0;
      for (size_t q = 0; q <= f->n_buckets; q++) {
        char le[64];
        cum += c->counts[q];
        if (q == f->n_buckets) snprintf(le, sizeof le, "le=\"+Inf\"");
        else snprintf(le, sizeof le, "le=\"%g\"", f->buckets[q]);
        put_sample(&b, f->name, "_bucket", c->labels, le, cum);
      }
      put_sample(&b, f->name, "_sum", c->labels, NULL, c->sum);
      put_sample(&b, f->name, "_count", c->labels, NULL, c->count);
    }
  }
  pthread_mutex_unlock(&mu);
  return sl_buf_take(&b);
}

void sl_metric_label_escape(const char *v, char *out, size_t cap) {
  size_t o = 0;
  for (; v && *v && o + 3 < cap; v++) {
    if (*v == '\\' || *v == '"') out[o++] = '\\', out[o++] = *v;
    else if (*v == '\n') out[o++] = '\\', out[o++] = 'n';
    else out[o++] = *v;
  }
  if (cap) out[o < cap ? o : cap - 1] = '\0';
}

void sl_metrics_process_init(void) {
  pthread_mutex_lock(&mu);
  if (start_s == 0) start_s = (double)sl_time_now_ms() / 1000.0;
  pthread_mutex_unlock(&mu);
}

void sl_metrics_process_collect(void *arg) {
  (void)arg;
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  sl_metric_gauge_set("process_resident_memory_bytes", NULL, (double)resident * (double)sysconf(_SC_PAGESIZE));
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                 (double)ru.ru_stime.tv_usec / 1e6;
    pthread_mutex_lock(&mu);
    struct child *c = lookup("process_cpu_seconds_total", NULL, M_COUNTER);
    if (c) c->value = cpu; /* the kernel's running total */
    pthread_mutex_unlock(&mu);
  }
  sl_metrics_process_init();
  sl_metric_gauge_set("process_start_time_seconds", NULL, start_s);
  sl_metric_gauge_set("sluice_uptime_seconds", NULL, (double)sl_time_now_ms() / 1000.0 - start_s);
}

void sl_metrics_reset(void) {
  pthread_mutex_lock(&mu);
  for (size_t i = 0; i < n_fams; i++) {
    for (size_t k = 0; k < fams[i].n_kids; k++) sl_free(fams[i].kids[k].labels);
    sl_free(fams[i].kids);
    sl_free(fams[i].name);
  }
  sl_free(fams);
  fams = NULL;
  n_fams = cap_fams = 0;
  n_collectors = 0;
  pthread_mutex_unlock(&mu);
}
