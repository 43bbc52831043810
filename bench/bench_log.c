/* bench_log.c: the embedded log against the disk's own ceiling, in one run.
 *
 *   bench_log DIR RECORDS VALUE_BYTES BATCH [ROUNDS]
 *
 * Ceiling: the same bytes the log writes (one frame per record), written sequentially
 * by this program, BATCH records per write and one fdatasync after each, rolling to a
 * new file at the same segment size. Log: one producer thread queues BATCH records
 * with sl_log_produce and calls sl_log_flush (group commit: one fsync per batch)
 * while a consumer thread reads them as they become durable; its produce-to-consume
 * latency (a monotonic timestamp in each value) gives p50/p99. Then a fresh consumer
 * reads the whole topic. The ceiling and the log take turns ROUNDS times (default 3)
 * and the best time of each is compared, so a noisy neighbour hurts both alike.
 * Prints records/s, MB/s and the ratios. */
#include "core/fs.h"
#include "core/mem.h"
#include "core/time.h"
#include "log/log.h"
#include "log/log_int.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t n_rec, val_bytes, batch;
static struct sl_log *g_log;
static int64_t *lat;
static size_t n_lat;

static double secs(int64_t ns) { return (double)ns / 1e9; }

static void *consumer(void *arg) {
  (void)arg;
  const char *topics[1] = {"bench"};
  struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1};
  struct sl_log_consumer *c = NULL;
  struct sl_err err = {0};
  if (sl_log_consumer_open(g_log, &cc, &c, &err)) {
    fprintf(stderr, "bench_log: %s\n", err.msg);
    return (void *)1;
  }
  for (int64_t got = 0; got < n_rec;) {
    struct sl_log_record r;
    int rc = sl_log_consumer_poll(c, 1000, &r, &err);
    if (rc < 0) {
      fprintf(stderr, "bench_log: consume: %s\n", err.msg);
      return (void *)1;
    }
    if (rc == 0) continue;
    if (r.offset % 100 == 0) {
      int64_t t0;
      memcpy(&t0, r.value, 8);
      lat[n_lat++] = sl_time_mono_ns() - t0;
    }
    got++;
  }
  sl_log_consumer_close(c);
  return NULL;
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: bench_log DIR RECORDS VALUE_BYTES BATCH [ROUNDS]\n");
    return 2;
  }
  const char *dir = argv[1];
  n_rec = atoll(argv[2]);
  val_bytes = atoll(argv[3]);
  batch = atoll(argv[4]);
  int rounds = argc == 6 ? atoi(argv[5]) : 3;
  if (rounds < 1) rounds = 1;
  if (n_rec < 1 || val_bytes < 8 || batch < 1) return 2;
  struct sl_err err = {0};
  sl_fs_remove_tree(dir, &err);
  sl_fs_mkdirs(dir, &err);
  struct sl_log_cfg cfg = {0};
  sl_cfg_fill(NULL, NULL, &sl_log_section, &cfg, &err);
  char *value = sl_calloc(1, (size_t)val_bytes);
  memset(value, 'v', (size_t)val_bytes);
  struct sl_log_msg m = {.partition = 0, .value = value, .value_len = (size_t)val_bytes};
  size_t frame = sl_log_frame_size(&m);
  double mb = (double)frame * (double)n_rec / 1e6;

  /* Ceiling: the same bytes, the same fsync cadence, the same segment size. */
  char *cdir = sl_asprintf("%s/ceiling", dir);
  size_t chunk = frame * (size_t)batch;
  char *buf = sl_malloc(chunk);
  memset(buf, 'c', chunk);
  int64_t t_ceil = INT64_MAX, t_prod = INT64_MAX, t_follow = 0, t0;
  char *ldir = sl_asprintf("%s/log", dir);
  lat = sl_calloc((size_t)(n_rec / 100 + 2), sizeof *lat);
  struct sl_log_msg *msgs = sl_calloc((size_t)batch, sizeof *msgs);
  char *vals = sl_malloc((size_t)(batch * val_bytes));
  memset(vals, 'v', (size_t)(batch * val_bytes));
  for (int64_t i = 0; i < batch; i++)
    msgs[i] = (struct sl_log_msg){.partition = 0, .value = vals + i * val_bytes, .value_len = (size_t)val_bytes};
  for (int round = 0; round < rounds; round++) {
  sl_fs_mkdirs(cdir, &err);
  int64_t in_file = 0, files = 0;
  t0 = sl_time_mono_ns();
  int fd = -1;
  for (int64_t done = 0; done < n_rec; done += batch) {
    size_t len = frame * (size_t)(n_rec - done < batch ? n_rec - done : batch);
    if (fd < 0 || in_file + (int64_t)len > cfg.segment_bytes) {
      if (fd >= 0) fdatasync(fd), close(fd);
      char *p = sl_asprintf("%s/%020lld.log", cdir, (long long)files++);
      fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      sl_free(p);
      sl_fs_fsync_dir(cdir, &err);
      in_file = 0;
    }
    if (write(fd, buf, len) != (ssize_t)len || fdatasync(fd)) {
      perror("bench_log: ceiling write");
      return 1;
    }
    in_file += (int64_t)len;
  }
  close(fd);
  int64_t tc_round = sl_time_mono_ns() - t0;
  if (tc_round < t_ceil) t_ceil = tc_round;
  sl_fs_remove_tree(cdir, &err);

  /* The log: produce with group commit while a consumer follows. */
  sl_fs_remove_tree(ldir, &err);
  n_lat = 0;
  if (sl_log_open(ldir, &cfg, &g_log, &err)) {
    fprintf(stderr, "bench_log: %s\n", err.msg);
    return 1;
  }
  struct sl_log_topic_conf tc = {.partitions = 1, .retention_ms = -1, .retention_bytes = -1};
  if (sl_log_topic_create(g_log, "bench", &tc, &err)) {
    fprintf(stderr, "bench_log: %s\n", err.msg);
    return 1;
  }
  pthread_t ct;
  pthread_create(&ct, NULL, consumer, NULL);
  t0 = sl_time_mono_ns();
  for (int64_t done = 0; done < n_rec; done += batch) {
    int64_t n = n_rec - done < batch ? n_rec - done : batch;
    int64_t now = sl_time_mono_ns();
    for (int64_t i = 0; i < n; i++) memcpy(vals + i * val_bytes, &now, 8);
    if (sl_log_produce(g_log, "bench", msgs, (size_t)n, NULL, &err) || sl_log_flush(g_log, 60000, &err)) {
      fprintf(stderr, "bench_log: produce: %s\n", err.msg);
      return 1;
    }
  }
  int64_t tp_round = sl_time_mono_ns() - t0;
  if (tp_round < t_prod) t_prod = tp_round;
  void *crc;
  pthread_join(ct, &crc);
  t_follow = sl_time_mono_ns() - t0;
  if (crc) return 1;
  printf("log: round %d: ceiling %.2f s, log %.2f s\n", round + 1, secs(tc_round), secs(tp_round));
  fflush(stdout);
  if (round + 1 < rounds) sl_log_close(g_log);
  }

  /* A fresh consumer reads everything back. */
  const char *topics[1] = {"bench"};
  struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1};
  struct sl_log_consumer *c = NULL;
  sl_log_consumer_open(g_log, &cc, &c, &err);
  t0 = sl_time_mono_ns();
  int64_t got = 0, bytes = 0;
  struct sl_log_record r;
  while (sl_log_consumer_poll(c, 0, &r, &err) == 1) got++, bytes += (int64_t)r.value_len;
  int64_t t_cons = sl_time_mono_ns() - t0;
  sl_log_consumer_close(c);
  sl_log_close(g_log);
  if (got != n_rec) {
    fprintf(stderr, "bench_log: read %lld records back, expected %lld\n", (long long)got, (long long)n_rec);
    return 1;
  }
  qsort(lat, n_lat, sizeof *lat, cmp64);
  double p50 = n_lat ? (double)lat[n_lat / 2] / 1e6 : 0, p99 = n_lat ? (double)lat[n_lat * 99 / 100] / 1e6 : 0;
  double ceil_rps = (double)n_rec / secs(t_ceil), prod_rps = (double)n_rec / secs(t_prod);
  printf("log: %lld records of %lld bytes (%zu-byte frames, %.0f MB), fsync every %lld records, best of %d rounds\n",
         (long long)n_rec, (long long)val_bytes, frame, mb, (long long)batch, rounds);
  printf("log: disk ceiling (sequential write + fdatasync, same cadence): %.2f s, %.0f records/s, %.1f MB/s\n",
         secs(t_ceil), ceil_rps, mb / secs(t_ceil));
  printf("log: produce with group commit:                            %.2f s, %.0f records/s, %.1f MB/s\n",
         secs(t_prod), prod_rps, mb / secs(t_prod));
  printf("log: ratio produce / ceiling: %.2f\n", prod_rps / ceil_rps);
  printf("log: consumer following the producer caught up after %.2f s\n", secs(t_follow));
  printf("log: consume from the beginning: %.2f s, %.0f records/s, %.1f MB/s\n", secs(t_cons),
         (double)got / secs(t_cons), mb / secs(t_cons));
  printf("log: produce-to-consume latency p50 %.2f ms, p99 %.2f ms (%zu samples)\n", p50, p99, n_lat);
  sl_fs_remove_tree(ldir, &err);
  sl_free(ldir);
  sl_free(cdir);
  sl_free(buf);
  sl_free(value);
  sl_free(msgs);
  sl_free(vals);
  sl_free(lat);
  sl_cfg_section_fini(&sl_log_section, &cfg);
  return 0;
}
