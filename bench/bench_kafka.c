/* bench_kafka.c: the Kafka backend's side of bench/bench_kafka.sh, through log.h as
 * any caller would use it.
 *
 *   bench_kafka produce URL TOPIC FILE    each line of FILE (without its newline) is one
 *                                         record, no key; produce in batches of 1000,
 *                                         one flush at the end (kcat -P does the same)
 *   bench_kafka consume URL TOPIC         reads every record the topic holds, from the
 *                                         beginning to its end offsets, no group
 *   bench_kafka ends URL TOPIC            prints the sums of end offsets and of records
 *                                         held (end - start) over the partitions
 *   bench_kafka latency URL TOPIC SECONDS RATE [KEY=VALUE...]
 *                                         produces RATE records/s of 100 bytes, flushing
 *                                         each, while a consumer reads them; prints the
 *                                         produce-to-consume latency p50/p99 in ms; the
 *                                         KEY=VALUE items are librdkafka properties
 * Prints one line: "records N seconds S" or "latency n N p50_ms X p99_ms Y". */
#include "core/mem.h"
#include "core/time.h"
#include "log/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct sl_log_cfg g_cfg = {.default_partitions = 1, .retention_ms = -1, .retention_bytes = -1};

static struct sl_log *open_url(const char *url) {
  struct sl_err err = {0};
  struct sl_log *log;
  if (sl_log_open(url, &g_cfg, &log, &err)) {
    fprintf(stderr, "bench_kafka: %s\n", err.msg);
    exit(1);
  }
  return log;
}

static double secs(int64_t a, int64_t b) { return (double)(b - a) / 1e9; }

static int produce(const char *url, const char *topic, const char *file) {
  FILE *f = fopen(file, "rb");
  if (!f) {
    perror(file);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *data = malloc((size_t)size + 1);
  if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "bench_kafka: cannot read %s\n", file);
    return 1;
  }
  fclose(f);
  struct sl_log *log = open_url(url);
  struct sl_err err = {0};
  enum { BATCH = 1000 };
  static struct sl_log_msg msgs[BATCH];
  size_t n = 0, total = 0;
  int64_t t0 = sl_time_mono_ns();
  for (char *p = data, *end = data + size; p < end;) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    msgs[n++] = (struct sl_log_msg){.partition = -1, .value = p, .value_len = len};
    p += len + 1;
    if (n == BATCH || p >= end) {
      if (sl_log_produce(log, topic, msgs, n, NULL, &err)) {
        fprintf(stderr, "bench_kafka: %s\n", err.msg);
        return 1;
      }
      total += n;
      n = 0;
    }
  }
  if (sl_log_flush(log, -1, &err)) {
    fprintf(stderr, "bench_kafka: %s\n", err.msg);
    return 1;
  }
  int64_t t1 = sl_time_mono_ns();
  printf("records %zu seconds %.3f\n", total, secs(t0, t1));
  sl_log_close(log);
  free(data);
  return 0;
}

/* Opens the log at url and describes topic into info; NULL (said on stderr) on failure. */
static struct sl_log *open_described(const char *url, const char *topic, struct sl_log_topic_info *info) {
  struct sl_log *log = open_url(url);
  struct sl_err err = {0};
  if (sl_log_topic_describe(log, topic, info, &err)) {
    fprintf(stderr, "bench_kafka: %s\n", err.msg);
    sl_log_close(log);
    return NULL;
  }
  return log;
}

/* Sums of the end offsets and of the records held (end - start) over the partitions. */
static int ends(const char *url, const char *topic) {
  struct sl_log_topic_info info;
  struct sl_log *log = open_described(url, topic, &info);
  if (!log) return 1;
  int64_t end = 0, held = 0;
  for (int32_t p = 0; p < info.n_parts; p++) {
    end += info.parts[p].end_offset;
    held += info.parts[p].end_offset - info.parts[p].start_offset;
  }
  printf("end %lld held %lld\n", (long long)end, (long long)held);
  sl_log_topic_info_fini(&info);
  sl_log_close(log);
  return 0;
}

/* Reads every record the topic holds, from the beginning to the end offsets of the start. */
static int consume(const char *url, const char *topic) {
  struct sl_log_topic_info info;
  struct sl_log *log = open_described(url, topic, &info);
  if (!log) return 1;
  struct sl_err err = {0};
  int32_t left = 0;
  for (int32_t p = 0; p < info.n_parts; p++) left += info.parts[p].end_offset > info.parts[p].start_offset;
  const char *topics[] = {topic};
  struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1, .from = SL_LOG_FROM_BEGINNING};
  struct sl_log_consumer *c;
  if (sl_log_consumer_open(log, &cc, &c, &err)) {
    fprintf(stderr, "bench_kafka: %s\n", err.msg);
    return 1;
  }
  int64_t t0 = sl_time_mono_ns();
  long got = 0;
  size_t bytes = 0;
  while (left > 0) {
    struct sl_log_record rec;
    int rc = sl_log_consumer_poll(c, 10000, &rec, &err);
    if (rc < 0) {
      fprintf(stderr, "bench_kafka: %s\n", err.msg);
      return 1;
    }
    if (rc == 0) {
      fprintf(stderr, "bench_kafka: nothing arrived for 10 s after %ld records\n", got);
      return 1;
    }
    got++;
    bytes += rec.value_len;
    if (rec.partition < info.n_parts && rec.offset == info.parts[rec.partition].end_offset - 1) left--;
  }
  int64_t t1 = sl_time_mono_ns();
  printf("records %ld seconds %.3f bytes %zu\n", got, secs(t0, t1), bytes);
  sl_log_topic_info_fini(&info);
  sl_log_consumer_close(c);
  sl_log_close(log);
  return 0;
}

struct lat {
  struct sl_log_consumer *c;
  long want;
  double *ms;
  long n;
  int done;
};

static void *lat_consumer(void *arg) {
  struct lat *l = arg;
  struct sl_err err = {0};
  int64_t idle_since = sl_time_mono_ns();
  while (l->n < l->want && !(l->done && sl_time_mono_ns() - idle_since > 5000000000LL)) {
    struct sl_log_record rec;
    int rc = sl_log_consumer_poll(l->c, 100, &rec, &err);
    if (rc < 0) {
      fprintf(stderr, "bench_kafka: %s\n", err.msg);
      break;
    }
    if (rc == 0 || rec.value_len < 8) continue;
    int64_t sent;
    memcpy(&sent, rec.value, 8);
    l->ms[l->n++] = (double)(sl_time_mono_ns() - sent) / 1e6;
    idle_since = sl_time_mono_ns();
  }
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int latency(const char *url, const char *topic, int seconds, int rate) {
  struct sl_log *log = open_url(url);
  struct sl_err err = {0};
  const char *topics[] = {topic};
  struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1, .from = SL_LOG_FROM_END};
  struct lat l = {.want = (long)seconds * rate};
  l.ms = calloc((size_t)l.want, sizeof *l.ms);
  if (sl_log_consumer_open(log, &cc, &l.c, &err)) {
    fprintf(stderr, "bench_kafka: %s\n", err.msg);
    return 1;
  }
  struct sl_log_record warm;
  sl_log_consumer_poll(l.c, 1000, &warm, &err); /* let it reach the end before we send */
  pthread_t th;
  pthread_create(&th, NULL, lat_consumer, &l);
  char value[100];
  memset(value, 'x', sizeof value);
  int64_t start = sl_time_mono_ns(), step = 1000000000LL / rate;
  for (long i = 0; i < l.want; i++) {
    int64_t due = start + i * step, now;
    while ((now = sl_time_mono_ns()) < due) {
      struct timespec ts = {0, (long)(due - now)};
      nanosleep(&ts, NULL);
    }
    int64_t sent = sl_time_mono_ns();
    memcpy(value, &sent, 8);
    struct sl_log_msg m = {.partition = -1, .value = value, .value_len = sizeof value};
    if (sl_log_produce(log, topic, &m, 1, NULL, &err) || sl_log_flush(log, 30000, &err)) {
      fprintf(stderr, "bench_kafka: %s\n", err.msg);
      return 1;
    }
  }
  l.done = 1;
  pthread_join(th, NULL);
  if (l.n == 0) {
    fprintf(stderr, "bench_kafka: no record came back\n");
    return 1;
  }
  qsort(l.ms, (size_t)l.n, sizeof *l.ms, cmp_double);
  printf("latency n %ld p50_ms %.2f p99_ms %.2f\n", l.n, l.ms[l.n / 2], l.ms[(size_t)((double)l.n * 0.99)]);
  sl_log_consumer_close(l.c);
  sl_log_close(log);
  free(l.ms);
  return l.n == l.want ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 5 && !strcmp(argv[1], "produce")) return produce(argv[2], argv[3], argv[4]);
  if (argc == 4 && !strcmp(argv[1], "consume")) return consume(argv[2], argv[3]);
  if (argc == 4 && !strcmp(argv[1], "ends")) return ends(argv[2], argv[3]);
  if (argc >= 6 && !strcmp(argv[1], "latency")) {
    g_cfg.kafka_props.v = argv + 6;
    g_cfg.kafka_props.n = (size_t)(argc - 6);
    return latency(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
  }
  fprintf(stderr, "usage: bench_kafka produce URL TOPIC FILE | consume URL TOPIC | ends URL TOPIC | latency URL TOPIC "
                  "SECONDS RATE [KEY=VALUE...]\n");
  return 2;
}
