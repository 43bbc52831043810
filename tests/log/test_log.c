/* test_log.c: the embedded log through the public interface (log/log.h): append, read,
 * seek by offset and time, reopen, retention by size and time, consumer groups,
 * concurrent producers and consumers, a segment cut at every byte of its last record,
 * flipped bytes, a full disk (a real tmpfs, when the test may mount one), the CRC-32C
 * paths, and the partitions' writer threads. */
#include "test.h"

#include "core/fs.h"
#include "core/mem.h"
#include "core/time.h"
#include "log/log.h"
#include "log/log_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mount.h>
#include <unistd.h>

static struct sl_log_cfg cfg_for(int64_t seg_bytes) {
  struct sl_log_cfg c = {0};
  struct sl_err err = {0};
  sl_cfg_fill(NULL, NULL, &sl_log_section, &c, &err);
  sl_free(c.url);
  c.url = NULL;
  c.segment_bytes = seg_bytes;
  c.index_interval_bytes = 256;
  return c;
}

static char *fresh(const char *name) {
  char *d = sl_asprintf("%s/%s", sl_test_tmpdir(), name);
  struct sl_err err = {0};
  sl_fs_remove_tree(d, &err);
  return d;
}

static struct sl_log *open_log(const char *dir, struct sl_log_cfg *c) {
  struct sl_log *log = NULL;
  struct sl_err err = {0};
  if (sl_log_open(dir, c, &log, &err)) fprintf(stderr, "  open %s: %s\n", dir, err.msg);
  return log;
}

static int produce_n(struct sl_log *log, const char *topic, int from, int n, int32_t part, int64_t ts0) {
  struct sl_err err = {0};
  for (int i = from; i < from + n; i++) {
    char key[32], val[64];
    snprintf(key, sizeof key, "k%d", i);
    snprintf(val, sizeof val, "value-%06d", i);
    struct sl_log_header h = {"seq", val + 6, 6};
    struct sl_log_msg m = {.partition = part, .ts_ms = ts0 ? ts0 + i : 0, .key = key, .key_len = strlen(key),
                           .value = val, .value_len = strlen(val), .headers = &h, .n_headers = 1};
    if (sl_log_produce(log, topic, &m, 1, NULL, &err)) return fprintf(stderr, "  produce: %s\n", err.msg), -1;
  }
  if (sl_log_flush(log, 10000, &err)) return fprintf(stderr, "  flush: %s\n", err.msg), -1;
  return 0;
}

/* Reads everything visible from `from`; returns the count, -1 on error (msg in err). */
static int read_all(struct sl_log *log, const char *topic, const char *group, int from, int64_t from_value,
                    int64_t *offs, char (*vals)[64], int max, struct sl_err *err) {
  const char *topics[1] = {topic};
  struct sl_log_consumer_conf cc = {.group = group, .topics = topics, .n_topics = 1, .from = from, .from_value = from_value};
  struct sl_log_consumer *c = NULL;
  if (sl_log_consumer_open(log, &cc, &c, err)) return -1;
  int n = 0;
  for (;;) {
    struct sl_log_record r;
    int rc = sl_log_consumer_poll(c, 0, &r, err);
    if (rc < 0) {
      n = -1;
      break;
    }
    if (rc == 0) break;
    if (n < max) {
      if (offs) offs[n] = r.offset;
      if (vals) snprintf(vals[n], 64, "%.*s", (int)r.value_len, (const char *)r.value);
    }
    n++;
  }
  if (group && n >= 0) sl_log_consumer_commit(c, err);
  sl_log_consumer_close(c);
  return n;
}

static void test_append_read_seek(void) {
  char *dir = fresh("basic");
  struct sl_log_cfg c = cfg_for(4096);
  struct sl_log *log = open_log(dir, &c);
  struct sl_err err = {0};
  struct sl_log_topic_conf tc = {.partitions = 3};
  CHECK_EQ_INT(sl_log_topic_create(log, "orders", &tc, &err), 0);
  CHECK_EQ_INT(sl_log_topic_create(log, "orders", &tc, &err), SL_EEXIST);
  CHECK_EQ_INT(sl_log_topic_create(log, "bad/name", &tc, &err), SL_EINVAL);
  /* Keyed records land where Kafka's partitioner puts them; offsets come back. */
  const char *keys[] = {"alpha", "beta", "gamma", "delta"};
  struct sl_log_msg msgs[4];
  int64_t offs[4];
  for (int i = 0; i < 4; i++)
    msgs[i] = (struct sl_log_msg){.partition = -1, .key = keys[i], .key_len = strlen(keys[i]), .value = "v", .value_len = 1};
  CHECK_EQ_INT(sl_log_produce(log, "orders", msgs, 4, offs, &err), 0);
  CHECK_EQ_INT(sl_log_flush(log, 1000, &err), 0);
  struct sl_log_topic_info info;
  CHECK_EQ_INT(sl_log_topic_describe(log, "orders", &info, &err), 0);
  int64_t total = 0;
  for (int p = 0; p < info.n_parts; p++) total += info.parts[p].end_offset;
  CHECK_EQ_INT(total, 4);
  int32_t p0 = sl_log_partition_for_key("alpha", 5, 3);
  CHECK(info.parts[p0].end_offset >= 1);
  sl_log_topic_info_fini(&info);
  CHECK_EQ_INT(sl_log_produce(log, "nosuch", msgs, 1, offs, &err), SL_ENOTFOUND);
  CHECK_CONTAINS(err.msg, "sluice topic create nosuch");

  /* One partition, many segments: read, seek by offset and by time. */
  tc.partitions = 1;
  CHECK_EQ_INT(sl_log_topic_create(log, "events", &tc, &err), 0);
  CHECK_EQ_INT(produce_n(log, "events", 0, 2000, 0, 1000000), 0);
  static int64_t o[3000];
  static char v[3000][64];
  CHECK_EQ_INT(read_all(log, "events", NULL, SL_LOG_FROM_BEGINNING, 0, o, v, 3000, &err), 2000);
  int in_order = 1;
  for (int i = 0; i < 2000; i++) {
    char want[64];
    snprintf(want, sizeof want, "value-%06d", i);
    in_order &= o[i] == i && !strcmp(v[i], want);
  }
  CHECK(in_order);
  CHECK_EQ_INT(read_all(log, "events", NULL, SL_LOG_FROM_OFFSET, 1234, o, v, 3000, &err), 766);
  CHECK_EQ_INT(o[0], 1234);
  int64_t at[1];
  CHECK_EQ_INT(sl_log_offsets_for_time(log, "events", 1000000 + 1500, at, 1, &err), 0);
  CHECK_EQ_INT(at[0], 1500);
  CHECK_EQ_INT(sl_log_offsets_for_time(log, "events", 1, at, 1, &err), 0);
  CHECK_EQ_INT(at[0], 0);
  CHECK_EQ_INT(sl_log_offsets_for_time(log, "events", 9000000, at, 1, &err), 0);
  CHECK_EQ_INT(at[0], 2000);
  CHECK_EQ_INT(read_all(log, "events", NULL, SL_LOG_FROM_TIME, 1000000 + 1990, o, v, 3000, &err), 10);
  CHECK_EQ_INT(o[0], 1990);
  CHECK_EQ_INT(read_all(log, "events", NULL, SL_LOG_FROM_END, 0, o, v, 3000, &err), 0);
  /* Headers come back with their names. */
  const char *topics[1] = {"events"};
  struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1, .from = SL_LOG_FROM_OFFSET, .from_value = 7};
  struct sl_log_consumer *cons = NULL;
  CHECK_EQ_INT(sl_log_consumer_open(log, &cc, &cons, &err), 0);
  struct sl_log_record r;
  CHECK_EQ_INT(sl_log_consumer_poll(cons, 0, &r, &err), 1);
  CHECK_EQ_INT(r.offset, 7);
  CHECK_EQ_INT(r.ts_ms, 1000007);
  CHECK_EQ_INT(r.n_headers, 1);
  if (r.n_headers == 1) {
    CHECK_STR(r.headers[0].name, "seq");
    CHECK(r.headers[0].len == 6 && !memcmp(r.headers[0].value, "000007", 6));
  }
  CHECK(r.key_len == 2 && !memcmp(r.key, "k7", 2));
  CHECK_EQ_INT(sl_log_consumer_seek(cons, "events", 0, 1999, &err), 0);
  CHECK_EQ_INT(sl_log_consumer_poll(cons, 0, &r, &err), 1);
  CHECK_EQ_INT(r.offset, 1999);
  sl_log_consumer_close(cons);
  sl_log_close(log);

  /* Reopen: the same records, and appends continue the offsets. */
  log = open_log(dir, &c);
  CHECK_EQ_INT(read_all(log, "events", NULL, SL_LOG_FROM_BEGINNING, 0, o, v, 3000, &err), 2000);
  CHECK_EQ_INT(produce_n(log, "events", 2000, 10, 0, 0), 0);
  CHECK_EQ_INT(read_all(log, "events", NULL, SL_LOG_FROM_OFFSET, 2000, o, v, 3000, &err), 10);
  CHECK_EQ_INT(o[0], 2000);
  char **names = NULL;
  size_t nn = 0;
  CHECK_EQ_INT(sl_log_topic_list(log, &names, &nn, &err), 0);
  CHECK_EQ_INT(nn, 2);
  if (nn == 2) CHECK_STR(names[0], "events");
  for (size_t i = 0; i < nn; i++) sl_free(names[i]);
  sl_free(names);
  CHECK_EQ_INT(sl_log_topic_delete(log, "orders", &err), 0);
  CHECK_EQ_INT(sl_log_topic_describe(log, "orders", &info, &err), SL_ENOTFOUND);
  sl_log_close(log);
  sl_free(dir);
}

static void test_retention(void) {
  char *dir = fresh("retention");
  struct sl_log_cfg c = cfg_for(4096);
  struct sl_log *log = open_log(dir, &c);
  struct sl_err err = {0};
  /* Size: whole old segments go; the start moves; readers start there. */
  struct sl_log_topic_conf tc = {.partitions = 1, .retention_ms = -1, .retention_bytes = 10000};
  CHECK_EQ_INT(sl_log_topic_create(log, "sized", &tc, &err), 0);
  for (int b = 0; b < 20; b++) CHECK_EQ_INT(produce_n(log, "sized", b * 100, 100, 0, 0), 0);
  sl_log_close(log);
  log = open_log(dir, &c); /* retention runs when a writer opens the partition */
  CHECK_EQ_INT(produce_n(log, "sized", 2000, 1, 0, 0), 0);
  struct sl_log_topic_info info;
  CHECK_EQ_INT(sl_log_topic_describe(log, "sized", &info, &err), 0);
  CHECK(info.parts[0].start_offset > 0);
  CHECK_EQ_INT(info.parts[0].end_offset, 2001);
  CHECK(info.parts[0].bytes >= 10000 && info.parts[0].bytes < 10000 + 4096 + 200);
  int64_t start = info.parts[0].start_offset;
  sl_log_topic_info_fini(&info);
  static int64_t o[3000];
  CHECK_EQ_INT(read_all(log, "sized", NULL, SL_LOG_FROM_BEGINNING, 0, o, NULL, 3000, &err), 2001 - start);
  CHECK_EQ_INT(o[0], start);
  /* Time: segments whose newest record is older than retention_ms go. */
  struct sl_log_topic_conf tt = {.partitions = 1, .retention_ms = 86400000, .retention_bytes = -1};
  CHECK_EQ_INT(sl_log_topic_create(log, "timed", &tt, &err), 0);
  int64_t old = sl_time_now_ms() - 10LL * 86400000;
  CHECK_EQ_INT(produce_n(log, "timed", 0, 500, 0, old), 0);
  sl_log_close(log);
  log = open_log(dir, &c);
  CHECK_EQ_INT(produce_n(log, "timed", 500, 5, 0, 0), 0);
  CHECK_EQ_INT(sl_log_topic_describe(log, "timed", &info, &err), 0);
  CHECK(info.parts[0].start_offset > 400); /* only the active segment's old records remain */
  CHECK_EQ_INT(info.parts[0].end_offset, 505);
  sl_log_topic_info_fini(&info);
  sl_log_close(log);
  sl_free(dir);
}

static void test_groups(void) {
  char *dir = fresh("groups");
  struct sl_log_cfg c = cfg_for(1 << 20);
  struct sl_log *log = open_log(dir, &c);
  struct sl_err err = {0};
  struct sl_log_topic_conf tc = {.partitions = 2};
  CHECK_EQ_INT(sl_log_topic_create(log, "g", &tc, &err), 0);
  CHECK_EQ_INT(produce_n(log, "g", 0, 50, 0, 0), 0);
  CHECK_EQ_INT(produce_n(log, "g", 50, 30, 1, 0), 0);
  CHECK_EQ_INT(read_all(log, "g", "readers", SL_LOG_FROM_BEGINNING, 0, NULL, NULL, 0, &err), 80);
  CHECK_EQ_INT(read_all(log, "g", "readers", SL_LOG_FROM_BEGINNING, 0, NULL, NULL, 0, &err), 0);
  CHECK_EQ_INT(produce_n(log, "g", 80, 7, 1, 0), 0);
  sl_log_close(log);
  log = open_log(dir, &c);
  static int64_t o[100];
  CHECK_EQ_INT(read_all(log, "g", "readers", SL_LOG_FROM_BEGINNING, 0, o, NULL, 100, &err), 7);
  CHECK_EQ_INT(o[0], 30);
  struct sl_log_topic_info info;
  CHECK_EQ_INT(sl_log_topic_describe(log, "g", &info, &err), 0);
  CHECK_EQ_INT(info.n_groups, 1);
  if (info.n_groups == 1) {
    CHECK_STR(info.groups[0].group, "readers");
    CHECK_EQ_INT(info.groups[0].committed[0], 50);
    CHECK_EQ_INT(info.groups[0].committed[1], 37);
    CHECK_EQ_INT(info.groups[0].lag, 0);
  }
  sl_log_topic_info_fini(&info);
  /* A second member of a group gets no partition while the first holds them. */
  CHECK_EQ_INT(produce_n(log, "g", 87, 5, 0, 0), 0);
  const char *topics[1] = {"g"};
  struct sl_log_consumer_conf cc = {.group = "readers", .topics = topics, .n_topics = 1};
  struct sl_log_consumer *a = NULL, *b = NULL;
  CHECK_EQ_INT(sl_log_consumer_open(log, &cc, &a, &err), 0);
  CHECK_EQ_INT(sl_log_consumer_open(log, &cc, &b, &err), 0);
  struct sl_log_record r;
  CHECK_EQ_INT(sl_log_consumer_poll(b, 0, &r, &err), 0);
  CHECK_EQ_INT(sl_log_consumer_poll(a, 0, &r, &err), 1);
  CHECK_EQ_INT(r.offset, 50);
  sl_log_consumer_close(a);
  CHECK_EQ_INT(sl_log_consumer_poll(b, 1500, &r, &err), 1); /* takes over (claims every second) */
  CHECK_EQ_INT(r.offset, 50); /* a committed nothing: b starts at the last commit */
  CHECK_EQ_INT(sl_log_consumer_commit(b, &err), 0);
  sl_log_consumer_close(b);
  CHECK_EQ_INT(sl_log_group_name_check("bad group", &err), SL_EINVAL);
  /* Two members split a topic's partitions: the first hands over half. */
  struct sl_log_topic_conf t4 = {.partitions = 4};
  CHECK_EQ_INT(sl_log_topic_create(log, "split", &t4, &err), 0);
  const char *st[1] = {"split"};
  struct sl_log_consumer_conf sc = {.group = "halves", .topics = st, .n_topics = 1};
  CHECK_EQ_INT(sl_log_consumer_open(log, &sc, &a, &err), 0);
  CHECK_EQ_INT(sl_log_consumer_open(log, &sc, &b, &err), 0);
  CHECK_EQ_INT(sl_log_consumer_poll(a, 1200, &r, &err), 0); /* a sees two members: keeps two */
  CHECK_EQ_INT(sl_log_consumer_poll(b, 1200, &r, &err), 0); /* b takes the two released */
  for (int32_t p = 0; p < 4; p++) CHECK_EQ_INT(produce_n(log, "split", p * 10, 10, p, 0), 0);
  int seen_a[4] = {0}, seen_b[4] = {0};
  while (sl_log_consumer_poll(a, 0, &r, &err) == 1) seen_a[r.partition]++;
  while (sl_log_consumer_poll(b, 0, &r, &err) == 1) seen_b[r.partition]++;
  int both = 0, total = 0, a_parts = 0;
  for (int p = 0; p < 4; p++) {
    both += seen_a[p] && seen_b[p];
    total += seen_a[p] + seen_b[p];
    a_parts += seen_a[p] > 0;
  }
  CHECK_EQ_INT(both, 0);
  CHECK_EQ_INT(total, 40);
  CHECK_EQ_INT(a_parts, 2);
  sl_log_consumer_close(a);
  sl_log_consumer_close(b);
  sl_log_close(log);
  sl_free(dir);
}

/* Concurrent producers and consumers: every acknowledged record read exactly once per
 * group, in order per partition. */
#define NPROD 4
#define PER_PROD 20000
#define NPART 4
static struct sl_log *g_log;
static volatile int g_prod_done;

static void *producer(void *arg) {
  int id = (int)(intptr_t)arg;
  struct sl_err err = {0};
  for (int i = 0; i < PER_PROD; i += 100) {
    struct sl_log_msg m[100];
    char vals[100][32];
    for (int k = 0; k < 100; k++) {
      snprintf(vals[k], sizeof vals[k], "%d:%d", id, i + k);
      m[k] = (struct sl_log_msg){.partition = (i / 100 + id) % NPART, .value = vals[k], .value_len = strlen(vals[k])};
    }
    if (sl_log_produce(g_log, "conc", m, 100, NULL, &err) || sl_log_flush(g_log, 10000, &err)) {
      fprintf(stderr, "  producer %d: %s\n", id, err.msg);
      return (void *)1;
    }
  }
  return NULL;
}

struct cons_arg {
  const char *group;
  int bad;
  int count;
};

static void *consumer(void *arg) {
  struct cons_arg *ca = arg;
  static const char *topics[1] = {"conc"};
  struct sl_log_consumer_conf cc = {.group = ca->group, .topics = topics, .n_topics = 1};
  struct sl_log_consumer *c = NULL;
  struct sl_err err = {0};
  if (sl_log_consumer_open(g_log, &cc, &c, &err)) {
    ca->bad = 1;
    return NULL;
  }
  unsigned char *seen = calloc(NPROD * PER_PROD, 1);
  int last[NPART][NPROD];
  int64_t next_off[NPART] = {0};
  memset(last, -1, sizeof last);
  while (ca->count < NPROD * PER_PROD) {
    struct sl_log_record r;
    int rc = sl_log_consumer_poll(c, 2000, &r, &err);
    if (rc < 0) {
      fprintf(stderr, "  consumer: %s\n", err.msg);
      ca->bad = 1;
      break;
    }
    if (rc == 0) {
      if (g_prod_done) break;
      continue;
    }
    int id, seq;
    char v[32];
    snprintf(v, sizeof v, "%.*s", (int)r.value_len, (const char *)r.value);
    if (sscanf(v, "%d:%d", &id, &seq) != 2 || id < 0 || id >= NPROD || seq < 0 || seq >= PER_PROD) {
      ca->bad = 1;
      continue;
    }
    if (seen[id * PER_PROD + seq]++) ca->bad = 1;                  /* twice */
    if (seq <= last[r.partition][id]) ca->bad = 1;                 /* out of order */
    if (r.offset != next_off[r.partition]) ca->bad = 1;            /* a gap or a repeat */
    last[r.partition][id] = seq;
    next_off[r.partition] = r.offset + 1;
    ca->count++;
    if (ca->count % 5000 == 0) sl_log_consumer_commit(c, &err);
  }
  sl_log_consumer_commit(c, &err);
  sl_log_consumer_close(c);
  free(seen);
  return NULL;
}

static void test_concurrent(void) {
  char *dir = fresh("conc");
  struct sl_log_cfg c = cfg_for(256 << 10);
  g_log = open_log(dir, &c);
  struct sl_err err = {0};
  struct sl_log_topic_conf tc = {.partitions = NPART};
  CHECK_EQ_INT(sl_log_topic_create(g_log, "conc", &tc, &err), 0);
  pthread_t pt[NPROD], ct[2];
  struct cons_arg ca[2] = {{"one", 0, 0}, {"two", 0, 0}};
  for (int i = 0; i < 2; i++) pthread_create(&ct[i], NULL, consumer, &ca[i]);
  int prod_bad = 0;
  for (int i = 0; i < NPROD; i++) pthread_create(&pt[i], NULL, producer, (void *)(intptr_t)i);
  for (int i = 0; i < NPROD; i++) {
    void *rv;
    pthread_join(pt[i], &rv);
    prod_bad |= rv != NULL;
  }
  g_prod_done = 1;
  for (int i = 0; i < 2; i++) pthread_join(ct[i], NULL);
  CHECK(!prod_bad);
  for (int i = 0; i < 2; i++) {
    CHECK(!ca[i].bad);
    CHECK_EQ_INT(ca[i].count, NPROD * PER_PROD);
  }
  struct sl_log_topic_info info;
  CHECK_EQ_INT(sl_log_topic_describe(g_log, "conc", &info, &err), 0);
  CHECK_EQ_INT(info.n_groups, 2);
  for (size_t g = 0; g < info.n_groups; g++) CHECK_EQ_INT(info.groups[g].lag, 0);
  sl_log_topic_info_fini(&info);
  sl_log_close(g_log);
  sl_free(dir);
}

static int read_file(const char *path, uint8_t **data, size_t *len) {
  struct sl_err err = {0};
  return sl_fs_read_all(path, 1 << 26, (char **)data, len, &err);
}

static int write_file(const char *path, const uint8_t *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  ssize_t n = write(fd, data, len);
  close(fd);
  return n == (ssize_t)len ? 0 : -1;
}

static void test_cut_every_byte(void) {
  char *dir = fresh("cut");
  struct sl_log_cfg c = cfg_for(1 << 20);
  struct sl_log *log = open_log(dir, &c);
  struct sl_err err = {0};
  struct sl_log_topic_conf tc = {.partitions = 1};
  CHECK_EQ_INT(sl_log_topic_create(log, "cut", &tc, &err), 0);
  CHECK_EQ_INT(produce_n(log, "cut", 0, 9, 0, 0), 0);
  struct sl_log_topic_info info;
  sl_log_topic_describe(log, "cut", &info, &err);
  int64_t nine = info.parts[0].bytes;
  sl_log_topic_info_fini(&info);
  CHECK_EQ_INT(produce_n(log, "cut", 9, 1, 0, 0), 0);
  sl_log_close(log);
  char *seg = sl_asprintf("%s/cut/0/%020d.log", dir, 0), *idx = sl_asprintf("%s/cut/0/%020d.index", dir, 0);
  uint8_t *orig = NULL;
  size_t len = 0;
  CHECK_EQ_INT(read_file(seg, &orig, &len), 0);
  int bad = 0;
  for (size_t cut = (size_t)nine; cut < len; cut++) {
    write_file(seg, orig, cut);
    unlink(idx);
    log = open_log(dir, &c);
    static int64_t o[20];
    static char v[20][64];
    int n = read_all(log, "cut", NULL, SL_LOG_FROM_BEGINNING, 0, o, v, 20, &err);
    if (n != 9) bad++;
    if (produce_n(log, "cut", 100, 1, 0, 0)) bad++; /* the writer truncates the torn tail */
    n = read_all(log, "cut", NULL, SL_LOG_FROM_BEGINNING, 0, o, v, 20, &err);
    if (n != 10 || o[9] != 9 || strcmp(v[9], "value-000100") || strcmp(v[8], "value-000008")) bad++;
    sl_log_close(log);
  }
  CHECK_EQ_INT(bad, 0);
  sl_free(orig);
  sl_free(seg);
  sl_free(idx);
  sl_free(dir);
}

static void test_flipped_byte(void) {
  char *dir = fresh("flip");
  struct sl_log_cfg c = cfg_for(1 << 20);
  struct sl_log *log = open_log(dir, &c);
  struct sl_err err = {0};
  struct sl_log_topic_conf tc = {.partitions = 1};
  CHECK_EQ_INT(sl_log_topic_create(log, "flip", &tc, &err), 0);
  CHECK_EQ_INT(produce_n(log, "flip", 0, 10, 0, 0), 0);
  sl_log_close(log);
  char *seg = sl_asprintf("%s/flip/0/%020d.log", dir, 0);
  uint8_t *orig = NULL;
  size_t len = 0;
  CHECK_EQ_INT(read_file(seg, &orig, &len), 0);
  size_t fl = len / 10; /* every record has the same size */
  /* A byte of record 4's value, then of its length field, then of its offset. */
  size_t where[] = {4 * fl + fl - 12, 4 * fl + 1, 4 * fl + 9};
  for (int k = 0; k < 3; k++) {
    uint8_t *copy = malloc(len);
    memcpy(copy, orig, len);
    copy[where[k]] ^= 0x20;
    write_file(seg, copy, len);
    free(copy);
    log = open_log(dir, &c);
    static int64_t o[20];
    static char v[20][64];
    err.msg[0] = '\0';
    int n = read_all(log, "flip", NULL, SL_LOG_FROM_BEGINNING, 0, o, v, 20, &err);
    CHECK_EQ_INT(n, -1);
    CHECK_CONTAINS(err.msg, "topic flip partition 0 offset 4");
    CHECK_CONTAINS(err.msg, "corrupt");
    /* What came before the bad record is intact; what follows it is reachable. */
    const char *topics[1] = {"flip"};
    struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1};
    struct sl_log_consumer *cons = NULL;
    sl_log_consumer_open(log, &cc, &cons, &err);
    struct sl_log_record r;
    int good = 0;
    while (sl_log_consumer_poll(cons, 0, &r, &err) == 1) good += r.value_len == 12 && !memcmp(r.value, "value-00000", 11);
    CHECK_EQ_INT(good, 4);
    CHECK_EQ_INT(sl_log_consumer_seek(cons, "flip", 0, 5, &err), 0);
    int after = 0;
    while (sl_log_consumer_poll(cons, 0, &r, &err) == 1) after += r.offset >= 5;
    CHECK_EQ_INT(after, 5);
    sl_log_consumer_close(cons);
    /* A writer keeps the good records after it (not a torn tail) and appends after them. */
    CHECK_EQ_INT(produce_n(log, "flip", 10, 1, 0, 0), 0);
    struct sl_log_topic_info info;
    sl_log_topic_describe(log, "flip", &info, &err);
    CHECK_EQ_INT(info.parts[0].end_offset, 11);
    sl_log_topic_info_fini(&info);
    sl_log_close(log);
    write_file(seg, orig, len);
    char *idx = sl_asprintf("%s/flip/0/%020d.index", dir, 0);
    unlink(idx);
    sl_free(idx);
  }
  sl_free(orig);
  sl_free(seg);
  sl_free(dir);
}

/* A real full disk: a 1 MB tmpfs. A refused batch acknowledges nothing, and the log
 * holds exactly the acknowledged records afterwards. */
static void test_disk_full(void) {
  char *dir = fresh("full");
  struct sl_err err = {0};
  sl_fs_mkdirs(dir, &err);
  if (mount("tmpfs", dir, "tmpfs", 0, "size=1m")) {
    fprintf(stderr, "  SKIP disk full: cannot mount a tmpfs (%s); needs root\n", strerror(errno));
    sl_free(dir);
    return;
  }
  struct sl_log_cfg c = cfg_for(128 << 10);
  struct sl_log *log = open_log(dir, &c);
  struct sl_log_topic_conf tc = {.partitions = 1};
  CHECK_EQ_INT(sl_log_topic_create(log, "full", &tc, &err), 0);
  int acked = 0, refused = 0;
  char val[1000];
  memset(val, 'x', sizeof val);
  for (int b = 0; b < 400 && refused < 3; b++) {
    struct sl_log_msg m[20];
    for (int k = 0; k < 20; k++) m[k] = (struct sl_log_msg){.partition = 0, .value = val, .value_len = sizeof val};
    int rc = sl_log_produce(log, "full", m, 20, NULL, &err);
    if (!rc) rc = sl_log_flush(log, 1000, &err);
    if (rc) {
      refused++;
      CHECK(strstr(err.msg, "No space left") || strstr(err.msg, "dropped"));
    } else {
      acked += 20;
    }
  }
  CHECK(refused > 0);
  CHECK(acked > 0);
  struct sl_log_topic_info info;
  CHECK_EQ_INT(sl_log_topic_describe(log, "full", &info, &err), 0);
  CHECK_EQ_INT(info.parts[0].end_offset, acked);
  sl_log_topic_info_fini(&info);
  CHECK_EQ_INT(read_all(log, "full", NULL, SL_LOG_FROM_BEGINNING, 0, NULL, NULL, 0, &err), acked);
  sl_log_close(log);
  log = open_log(dir, &c);
  CHECK_EQ_INT(read_all(log, "full", NULL, SL_LOG_FROM_BEGINNING, 0, NULL, NULL, 0, &err), acked);
  sl_log_close(log);
  umount(dir);
  sl_free(dir);
}

/* A produce call larger than the writer thread's chunk (1 MB) has part of its
 * records written before the flush, rolling segments on the way; what is in the
 * active segment is not visible before the flush, everything after it and after a
 * reopen. On a full disk such a call is
 * refused (produce or flush fails); the log keeps what was acked plus, at most, the
 * segments of the refused call that were rolled (fsynced) before the failure (at least
 * once, as documented), and reads the same before and after a reopen. */
static void test_early_writes(void) {
  char *dir = fresh("early");
  struct sl_err err = {0};
  struct sl_log_cfg c = cfg_for(128 << 10);
  struct sl_log *log = open_log(dir, &c);
  struct sl_log_topic_conf tc = {.partitions = 1};
  CHECK_EQ_INT(sl_log_topic_create(log, "big", &tc, &err), 0);
  enum { N = 3000 };
  static char vals[N][1000];
  struct sl_log_msg *m = sl_calloc(N, sizeof *m);
  int64_t *offs = sl_calloc(N, sizeof *offs);
  for (int k = 0; k < N; k++) {
    memset(vals[k], 'a' + k % 26, sizeof vals[k]);
    memcpy(vals[k], &k, sizeof k);
    m[k] = (struct sl_log_msg){.partition = 0, .value = vals[k], .value_len = sizeof vals[k]};
  }
  CHECK_EQ_INT(sl_log_produce(log, "big", m, N, offs, &err), 0);
  for (int k = 0; k < N; k++) CHECK_EQ_INT(offs[k], k);
  struct sl_log_topic_info info;
  CHECK_EQ_INT(sl_log_topic_describe(log, "big", &info, &err), 0);
  CHECK(info.parts[0].end_offset < N); /* written early, not yet durable: not visible */
  sl_log_topic_info_fini(&info);
  CHECK_EQ_INT(sl_log_flush(log, 1000, &err), 0);
  CHECK_EQ_INT(read_all(log, "big", NULL, SL_LOG_FROM_BEGINNING, 0, NULL, NULL, 0, &err), N);
  sl_log_close(log);
  log = open_log(dir, &c);
  CHECK_EQ_INT(read_all(log, "big", NULL, SL_LOG_FROM_BEGINNING, 0, NULL, NULL, 0, &err), N);
  CHECK_EQ_INT(sl_log_topic_describe(log, "big", &info, &err), 0);
  CHECK_EQ_INT(info.parts[0].end_offset, N);
  sl_log_topic_info_fini(&info);
  sl_log_close(log);

  char *full = fresh("early-full");
  sl_fs_mkdirs(full, &err);
  if (mount("tmpfs", full, "tmpfs", 0, "size=1m")) {
    fprintf(stderr, "  SKIP early writes on a full disk: cannot mount a tmpfs (%s); needs root\n", strerror(errno));
  } else {
    log = open_log(full, &c);
    CHECK_EQ_INT(sl_log_topic_create(log, "big", &tc, &err), 0);
    int64_t acked = 0;
    int refused = 0;
    for (int b = 0; b < 10 && !refused; b++) {
      int rc = sl_log_produce(log, "big", m, 600, NULL, &err);
      if (!rc) rc = sl_log_flush(log, 1000, &err);
      if (rc) refused = 1;
      else acked += 600;
    }
    CHECK(refused);
    CHECK(acked > 0);
    CHECK_EQ_INT(sl_log_topic_describe(log, "big", &info, &err), 0);
    int64_t end = info.parts[0].end_offset;
    sl_log_topic_info_fini(&info);
    CHECK(end >= acked && end < acked + 600);
    CHECK_EQ_INT(read_all(log, "big", NULL, SL_LOG_FROM_BEGINNING, 0, NULL, NULL, 0, &err), end);
    sl_log_close(log);
    log = open_log(full, &c);
    CHECK_EQ_INT(read_all(log, "big", NULL, SL_LOG_FROM_BEGINNING, 0, NULL, NULL, 0, &err), end);
    sl_log_close(log);
    umount(full);
  }
  sl_free(full);
  sl_free(m);
  sl_free(offs);
  sl_free(dir);
}

/* Every durability setting acknowledges what it wrote and reads it back after a reopen. */
static void test_durability_modes(void) {
  for (int d = SL_LOG_FSYNC_BATCH; d <= SL_LOG_FSYNC_NONE; d++) {
    char name[32];
    snprintf(name, sizeof name, "dur%d", d);
    char *dir = fresh(name);
    struct sl_log_cfg c = cfg_for(8192);
    c.durability = d;
    c.fsync_interval_ms = 20;
    struct sl_log *log = open_log(dir, &c);
    struct sl_err err = {0};
    struct sl_log_topic_conf tc = {.partitions = 2};
    CHECK_EQ_INT(sl_log_topic_create(log, "d", &tc, &err), 0);
    for (int b = 0; b < 10; b++) CHECK_EQ_INT(produce_n(log, "d", b * 50, 50, b % 2, 0), 0);
    CHECK_EQ_INT(read_all(log, "d", NULL, SL_LOG_FROM_BEGINNING, 0, NULL, NULL, 0, &err), 500);
    sl_log_close(log);
    log = open_log(dir, &c);
    CHECK_EQ_INT(read_all(log, "d", NULL, SL_LOG_FROM_BEGINNING, 0, NULL, NULL, 0, &err), 500);
    sl_log_close(log);
    sl_free(dir);
  }
}

/* CRC-32C: RFC 3720's vectors; the instruction paths (three interleaved blocks, three
 * frames at once) against the table-only one at every length around the block sizes
 * and at odd alignments; frames sealed in threes against one at a time. */
static void test_crc32c(void) {
  uint8_t v[48];
  memset(v, 0, 32);
  CHECK_EQ_INT(sl_log_crc32c(0, v, 32), 0x8A9136AA);
  memset(v, 0xff, 32);
  CHECK_EQ_INT(sl_log_crc32c(0, v, 32), 0x62A8AB43);
  for (int i = 0; i < 32; i++) v[i] = (uint8_t)i;
  CHECK_EQ_INT(sl_log_crc32c(0, v, 32), 0x46DD794E);
  for (int i = 0; i < 32; i++) v[i] = (uint8_t)(31 - i);
  CHECK_EQ_INT(sl_log_crc32c(0, v, 32), 0x113FDB5C);
  CHECK_EQ_INT(sl_log_crc32c(0, "123456789", 9), 0xE3069283);
  enum { BIG = 3 * 8192 * 2 + 3 * 256 + 64 };
  uint8_t *d = sl_malloc(BIG + 8);
  uint32_t x = 12345;
  for (size_t i = 0; i < BIG + 8; i++) x = x * 1103515245u + 12345u, d[i] = (uint8_t)(x >> 16);
  size_t lens[] = {0, 1, 7, 8, 9, 126, 767, 768, 769, 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 1,
                   3 * 8192 + 3 * 256 + 5, BIG};
  int same = 1, split = 1;
  for (size_t k = 0; k < sizeof lens / sizeof *lens; k++)
    for (int al = 0; al < 4; al++) {
      uint32_t want = sl_log_crc32c_portable(0, d + al, lens[k]);
      same &= sl_log_crc32c(0, d + al, lens[k]) == want;
      size_t cut = lens[k] / 3;
      split &= sl_log_crc32c(sl_log_crc32c(0, d + al, cut), d + al + cut, lens[k] - cut) == want;
    }
  for (size_t n = 0; n < 300; n++) same &= sl_log_crc32c(0, d + 1, n) == sl_log_crc32c_portable(0, d + 1, n);
  CHECK(same);
  CHECK(split);
  /* Three at a time, equal and unequal lengths, and a remainder of one or two. */
  const uint8_t *bufs[8];
  size_t bl[8] = {126, 126, 126, 5, 300, 126, 0, 9000};
  uint32_t got[8];
  for (int i = 0; i < 8; i++) bufs[i] = d + i * 37;
  for (size_t n = 1; n <= 8; n++) {
    sl_log_crc32c_many(bufs, bl, got, n);
    int ok = 1;
    for (size_t i = 0; i < n; i++) ok &= got[i] == sl_log_crc32c_portable(0, bufs[i], bl[i]);
    CHECK(ok);
  }
  /* Frames encoded in a run are the bytes of frames encoded one by one. */
  struct sl_log_msg m[10];
  size_t sizes[10];
  struct sl_buf one, run;
  sl_buf_init(&one);
  sl_buf_init(&run);
  for (int i = 0; i < 10; i++) {
    m[i] = (struct sl_log_msg){.partition = 0, .value = d + i, .value_len = (size_t)(100 + (i % 4) * 7),
                               .key = i % 3 ? (const char *)d : NULL, .key_len = (size_t)i, .ts_ms = i == 4 ? 77 : 0};
    sizes[i] = sl_log_frame_size(&m[i]);
    CHECK_EQ_INT(sl_log_frame_encode(&one, &m[i], 50 + i, i == 4 ? 77 : 1000), 0);
  }
  CHECK_EQ_INT(sl_log_frames_encode(&run, m, sizes, 10, 50, 1000), 0);
  CHECK(one.len == run.len && !memcmp(one.data, run.data, one.len));
  /* The verified prefix: all of it, then up to a frame with a flipped byte. */
  CHECK_EQ_INT(sl_log_frames_verified((const uint8_t *)run.data, run.len), run.len);
  CHECK_EQ_INT(sl_log_frames_verified((const uint8_t *)run.data, run.len - 1), run.len - sizes[9]);
  size_t at5 = 0;
  for (int i = 0; i < 5; i++) at5 += sizes[i];
  run.data[at5 + 30] ^= 0x10;
  CHECK_EQ_INT(sl_log_frames_verified((const uint8_t *)run.data, run.len), at5);
  sl_buf_fini(&one);
  sl_buf_fini(&run);
  sl_free(d);
}

struct wr_arg {
  struct sl_log *log;
  int batches, per, bad;
  int done;
};

/* Produces batches of numbered 1 KB records without flushing. */
static void *wr_producer(void *arg) {
  struct wr_arg *a = arg;
  static char vals[500][1000];
  struct sl_log_msg m[500];
  struct sl_err err = {0};
  for (int b = 0; b < a->batches; b++) {
    for (int k = 0; k < a->per; k++) {
      int seq = b * a->per + k;
      memset(vals[k], 'a' + seq % 26, sizeof vals[k]);
      memcpy(vals[k], &seq, sizeof seq);
      m[k] = (struct sl_log_msg){.partition = 0, .value = vals[k], .value_len = sizeof vals[k]};
    }
    if (sl_log_produce(a->log, "w", m, (size_t)a->per, NULL, &err)) a->bad = 1;
  }
  __atomic_store_n(&a->done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

/* Flushes until the producer is done, checking each time that what the flush covered
 * is visible (published after its fsync) and reads back. */
static void *wr_flusher(void *arg) {
  struct wr_arg *a = arg;
  struct sl_err err = {0};
  while (!__atomic_load_n(&a->done, __ATOMIC_SEQ_CST)) {
    if (sl_log_flush(a->log, 10000, &err)) a->bad = 1;
  }
  return NULL;
}

/* The partition's writer thread: a flush returns only once what was queued before it
 * is written, fsynced and visible (not before); records queued while the writer is
 * writing are not lost or reordered; close writes and syncs what is still queued. */
static void test_writer_thread(void) {
  char *dir = fresh("writer");
  struct sl_err err = {0};
  struct sl_log_cfg c = cfg_for(64 << 20); /* one segment: nothing is published by a roll */
  struct sl_log *log = open_log(dir, &c);
  struct sl_log_topic_conf tc = {.partitions = 1};
  CHECK_EQ_INT(sl_log_topic_create(log, "w", &tc, &err), 0);
  /* 3 MB queued: the writer writes it in chunks, none of it visible before the flush. */
  struct wr_arg a = {.log = log, .batches = 6, .per = 500};
  wr_producer(&a);
  CHECK(!a.bad);
  struct sl_log_topic_info info;
  CHECK_EQ_INT(sl_log_topic_describe(log, "w", &info, &err), 0);
  CHECK_EQ_INT(info.parts[0].end_offset, 0);
  sl_log_topic_info_fini(&info);
  CHECK_EQ_INT(sl_log_flush(log, 10000, &err), 0);
  CHECK_EQ_INT(sl_log_topic_describe(log, "w", &info, &err), 0);
  CHECK_EQ_INT(info.parts[0].end_offset, 3000);
  CHECK_EQ_INT(info.parts[0].bytes, 3000 * (int64_t)(SL_LOG_FRAME_HEAD + SL_LOG_BODY_MIN + 1000));
  sl_log_topic_info_fini(&info);
  char *seg = sl_asprintf("%s/w/0/%020d.log", dir, 0);
  CHECK_EQ_INT(sl_fs_size(seg), 3000 * (int64_t)(SL_LOG_FRAME_HEAD + SL_LOG_BODY_MIN + 1000));
  /* A second handle (as another process would) reads the files: all 3000. */
  struct sl_log *other = open_log(dir, &c);
  CHECK_EQ_INT(read_all(other, "w", NULL, SL_LOG_FROM_BEGINNING, 0, NULL, NULL, 0, &err), 3000);
  sl_log_close(other);

  /* One thread queues 20 MB while another flushes in a loop: every record is there
   * once, in order, with its bytes. */
  struct wr_arg b = {.log = log, .batches = 40, .per = 500};
  pthread_t pt, ft;
  pthread_create(&pt, NULL, wr_producer, &b);
  pthread_create(&ft, NULL, wr_flusher, &b);
  pthread_join(pt, NULL);
  pthread_join(ft, NULL);
  CHECK(!b.bad);
  CHECK_EQ_INT(sl_log_flush(log, 10000, &err), 0);
  const char *topics[1] = {"w"};
  struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1, .from = SL_LOG_FROM_OFFSET, .from_value = 3000};
  struct sl_log_consumer *cons = NULL;
  CHECK_EQ_INT(sl_log_consumer_open(log, &cc, &cons, &err), 0);
  int n = 0, ordered = 1;
  struct sl_log_record r;
  while (sl_log_consumer_poll(cons, 0, &r, &err) == 1) {
    int seq;
    memcpy(&seq, r.value, sizeof seq);
    ordered &= r.offset == 3000 + n && seq == n && r.value_len == 1000 && ((const char *)r.value)[999] == 'a' + n % 26;
    n++;
  }
  sl_log_consumer_close(cons);
  CHECK_EQ_INT(n, 20000);
  CHECK(ordered);

  /* Queued, never flushed: close writes and syncs it; a reopen reads it. */
  struct wr_arg d = {.log = log, .batches = 1, .per = 100};
  wr_producer(&d);
  sl_log_close(log);
  log = open_log(dir, &c);
  CHECK_EQ_INT(read_all(log, "w", NULL, SL_LOG_FROM_BEGINNING, 0, NULL, NULL, 0, &err), 23100);
  sl_log_close(log);
  sl_free(seg);
  sl_free(dir);
}

int main(void) {
  TEST_RUN(test_append_read_seek);
  TEST_RUN(test_retention);
  TEST_RUN(test_durability_modes);
  TEST_RUN(test_groups);
  TEST_RUN(test_concurrent);
  TEST_RUN(test_cut_every_byte);
  TEST_RUN(test_flipped_byte);
  TEST_RUN(test_disk_full);
  TEST_RUN(test_early_writes);
  TEST_RUN(test_crc32c);
  TEST_RUN(test_writer_thread);
  return TEST_DONE();
}
