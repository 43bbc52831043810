/* test_kafka.c: the Kafka backend of the topics log against a real Kafka-protocol
 * broker: librdkafka's mock cluster (three brokers) started in this process, spoken to
 * over TCP like any cluster, with kcat as an independent client for interop. */
#include "test.h"

#include "core/mem.h"
#include "core/time.h"
#include "kafka/kafka.h"
#include "log/log.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static rd_kafka_t *g_mk;
static rd_kafka_mock_cluster_t *g_mc;
static char g_url[512];
static struct sl_log *g_log;
static int g_have_kcat;

static int64_t now_ms(void) { return sl_time_mono_ns() / 1000000; }

static struct sl_log *open_log(const char *url, const char *const *props, size_t n_props, struct sl_err *err) {
  static struct sl_log_cfg cfg;
  static char *pv[8];
  memset(&cfg, 0, sizeof cfg);
  cfg.default_partitions = 1;
  cfg.retention_ms = -1;
  cfg.retention_bytes = -1;
  for (size_t i = 0; i < n_props; i++) pv[i] = (char *)props[i];
  cfg.kafka_props.v = pv;
  cfg.kafka_props.n = n_props;
  struct sl_log *log = NULL;
  if (sl_log_open(url, &cfg, &log, err)) return NULL;
  return log;
}

static void setup(void) {
  char es[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "2", es, sizeof es);
  g_mk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof es);
  g_mc = rd_kafka_mock_cluster_new(g_mk, 3);
  snprintf(g_url, sizeof g_url, "kafka://%s", rd_kafka_mock_cluster_bootstraps(g_mc));
  const struct {
    const char *name;
    int parts;
  } topics[] = {{"t-basic", 1}, {"t-keys", 6},  {"t-group", 3}, {"t-hdr", 1},      {"t-time", 2},
                {"t-err", 1},   {"t-kcat", 3}, {"t-kcat-in", 1}, {"t-kcat-keys", 4}, {"t-seek", 2}, {"t-threads", 3}};
  for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++)
    rd_kafka_mock_topic_create(g_mc, topics[i].name, topics[i].parts, 3);
  struct sl_err err = {0};
  g_log = open_log(g_url, NULL, 0, &err);
  if (!g_log) {
    fprintf(stderr, "cannot open %s: %s\n", g_url, err.msg);
    exit(1);
  }
  g_have_kcat = system("kcat -V >/dev/null 2>&1") == 0;
}

/* Polls until n records arrived or timeout_ms passed; returns how many. */
static size_t poll_n(struct sl_log_consumer *c, size_t n, int timeout_ms, void (*each)(const struct sl_log_record *, void *),
                     void *arg) {
  size_t got = 0;
  int64_t end = now_ms() + timeout_ms;
  while (got < n && now_ms() < end) {
    struct sl_log_record rec;
    struct sl_err err = {0};
    int rc = sl_log_consumer_poll(c, 200, &rec, &err);
    if (rc < 0) {
      fprintf(stderr, "  poll: %s\n", err.msg);
      break;
    }
    if (rc == 1) {
      if (each) each(&rec, arg);
      got++;
    }
  }
  return got;
}

static void test_url_and_props(void) {
  struct sl_err err = {0};
  char *bs = NULL;
  CHECK_EQ_INT(sl_kafka_url_parse("kafka://a:1,b.example.com,[::1]:9093/", &bs, &err), 0);
  CHECK_STR(bs, "a:1,b.example.com:9092,[::1]:9093");
  sl_free(bs);
  CHECK_EQ_INT(sl_kafka_url_parse("kafka://", &bs, &err), SL_ECONFIG);
  CHECK_EQ_INT(sl_kafka_url_parse("kafka://a:1,,b:2", &bs, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "empty broker address");
  CHECK_EQ_INT(sl_kafka_url_parse("kafka://a:99999", &bs, &err), SL_ECONFIG);
  CHECK_EQ_INT(sl_kafka_url_parse("kafka://a b:1", &bs, &err), SL_ECONFIG);
  CHECK(sl_kafka_prop_is_secret("sasl.password"));
  CHECK(sl_kafka_prop_is_secret("ssl.key.password"));
  CHECK(!sl_kafka_prop_is_secret("security.protocol"));

  const char *bad[] = {"no.such.property=1"};
  CHECK(open_log(g_url, bad, 1, &err) == NULL);
  CHECK_EQ_INT(err.code, SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "no.such.property");
  const char *secret[] = {"ssl.key.password.typo=hunter2"};
  CHECK(open_log(g_url, secret, 1, &err) == NULL);
  CHECK_CONTAINS(err.msg, "ssl.key.password.typo");
  CHECK(strstr(err.msg, "hunter2") == NULL);
  const char *weak[] = {"acks=1"};
  CHECK(open_log(g_url, weak, 1, &err) == NULL);
  CHECK_CONTAINS(err.msg, "acks=1 is not allowed");
  const char *noeq[] = {"security.protocol"};
  CHECK(open_log(g_url, noeq, 1, &err) == NULL);
  CHECK_CONTAINS(err.msg, "not key=value");
  const char *ok[] = {"linger.ms = 1", "socket.keepalive.enable=true"};
  struct sl_log *log = open_log(g_url, ok, 2, &err);
  CHECK(log != NULL);
  sl_log_close(log);
}

static void test_produce_flush_offsets(void) {
  struct sl_err err = {0};
  struct sl_log_msg msgs[100];
  char vals[100][16];
  int64_t offs[100];
  for (int i = 0; i < 100; i++) {
    snprintf(vals[i], sizeof vals[i], "value-%d", i);
    msgs[i] = (struct sl_log_msg){.partition = -1, .value = vals[i], .value_len = strlen(vals[i])};
  }
  CHECK_EQ_INT(sl_log_produce(g_log, "t-basic", msgs, 100, offs, &err), 0);
  CHECK_EQ_INT(sl_log_flush(g_log, 30000, &err), 0);
  for (int i = 0; i < 100; i++) CHECK_EQ_INT(offs[i], i);
  CHECK_EQ_INT(sl_log_produce(g_log, "t-basic", msgs, 10, offs, &err), 0);
  CHECK_EQ_INT(sl_log_flush(g_log, 30000, &err), 0);
  for (int i = 0; i < 10; i++) CHECK_EQ_INT(offs[i], 100 + i);

  struct sl_log_topic_info info;
  CHECK_EQ_INT(sl_log_topic_describe(g_log, "t-basic", &info, &err), 0);
  CHECK_STR(info.name, "t-basic");
  CHECK_EQ_INT(info.n_parts, 1);
  CHECK_EQ_INT(info.conf.partitions, 1);
  if (info.n_parts == 1) {
    CHECK_EQ_INT(info.parts[0].start_offset, 0);
    CHECK_EQ_INT(info.parts[0].end_offset, 110);
  }
  sl_log_topic_info_fini(&info);

  char **names;
  size_t n;
  CHECK_EQ_INT(sl_log_topic_list(g_log, &names, &n, &err), 0);
  int seen = 0;
  for (size_t i = 0; i < n; i++) {
    seen += !strcmp(names[i], "t-basic") || !strcmp(names[i], "t-keys");
    sl_free(names[i]);
  }
  sl_free(names);
  CHECK_EQ_INT(seen, 2);
}

struct collect {
  int64_t first_offset;
  int64_t last_offset;
  int in_order;
  size_t n;
  int values_ok;
};

static int consumer_open(const struct sl_log_consumer_conf *cc, struct sl_log_consumer **c) {
  struct sl_err err = {0};
  int rc = sl_log_consumer_open(g_log, cc, c, &err);
  if (rc) fprintf(stderr, "  consumer open: %s\n", err.msg);
  return rc;
}

static void on_basic(const struct sl_log_record *rec, void *arg) {
  struct collect *c = arg;
  char want[32];
  int64_t i = rec->offset < 100 ? rec->offset : rec->offset - 100;
  snprintf(want, sizeof want, "value-%lld", (long long)i);
  if (rec->offset < 110 && (rec->value_len != strlen(want) || memcmp(rec->value, want, rec->value_len)))
    c->values_ok = 0;
  if (c->n == 0) c->first_offset = rec->offset;
  else if (rec->offset != c->last_offset + 1) c->in_order = 0;
  c->last_offset = rec->offset;
  c->n++;
}

static void test_consume_positions(void) {
  struct sl_err err = {0};
  const char *topics[] = {"t-basic"};
  struct sl_log_consumer *c;
  /* from the beginning */
  struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1, .from = SL_LOG_FROM_BEGINNING};
  if (consumer_open(&cc, &c)) { CHECK(0); return; }
  struct collect col = {.in_order = 1, .values_ok = 1};
  CHECK_EQ_INT(poll_n(c, 110, 30000, on_basic, &col), 110);
  CHECK_EQ_INT(col.first_offset, 0);
  CHECK_EQ_INT(col.last_offset, 109);
  CHECK(col.in_order && col.values_ok);
  CHECK_EQ_INT(sl_log_consumer_commit(c, &err), SL_EINVAL); /* no group */
  CHECK_CONTAINS(err.msg, "no group");
  sl_log_consumer_close(c);

  /* from an offset */
  cc.from = SL_LOG_FROM_OFFSET;
  cc.from_value = 50;
  if (consumer_open(&cc, &c)) { CHECK(0); return; }
  col = (struct collect){.in_order = 1, .values_ok = 1};
  CHECK_EQ_INT(poll_n(c, 60, 30000, on_basic, &col), 60);
  CHECK_EQ_INT(col.first_offset, 50);
  CHECK_EQ_INT(col.last_offset, 109);
  sl_log_consumer_close(c);

  /* from the end: only what comes after */
  cc.from = SL_LOG_FROM_END;
  if (consumer_open(&cc, &c)) { CHECK(0); return; }
  CHECK_EQ_INT(poll_n(c, 1, 2000, NULL, NULL), 0);
  struct sl_log_msg m = {.partition = -1, .value = "late", .value_len = 4};
  int64_t off = -1;
  CHECK_EQ_INT(sl_log_produce(g_log, "t-basic", &m, 1, &off, &err), 0);
  CHECK_EQ_INT(sl_log_flush(g_log, 30000, &err), 0);
  CHECK_EQ_INT(off, 110);
  col = (struct collect){.in_order = 1, .values_ok = 1};
  CHECK_EQ_INT(poll_n(c, 1, 30000, on_basic, &col), 1);
  CHECK_EQ_INT(col.first_offset, 110);
  sl_log_consumer_close(c);
}

static void on_time(const struct sl_log_record *rec, void *arg) {
  int64_t *ts = arg;
  ts[rec->partition * 4 + rec->offset] = rec->ts_ms;
}

/* Timestamps round-trip; a start time after every record starts at the end. (The mock
 * cluster answers every by-time ListOffsets lookup with "none", so a time inside the
 * data cannot be checked against it; see docs/internals/kafka.md.) */
static void test_time(void) {
  struct sl_err err = {0};
  struct sl_log_msg msgs[8];
  for (int i = 0; i < 8; i++)
    msgs[i] = (struct sl_log_msg){.partition = i % 2, .ts_ms = 1700000000000 + i * 1000, .value = "t", .value_len = 1};
  CHECK_EQ_INT(sl_log_produce(g_log, "t-time", msgs, 8, NULL, &err), 0);
  CHECK_EQ_INT(sl_log_flush(g_log, 30000, &err), 0);
  int64_t ts[8] = {0};
  const char *topics[] = {"t-time"};
  struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1, .from = SL_LOG_FROM_BEGINNING};
  struct sl_log_consumer *c;
  if (consumer_open(&cc, &c)) { CHECK(0); return; }
  CHECK_EQ_INT(poll_n(c, 8, 30000, on_time, ts), 8);
  sl_log_consumer_close(c);
  for (int i = 0; i < 8; i++) CHECK_EQ_INT(ts[(i % 2) * 4 + i / 2], 1700000000000 + i * 1000);

  int64_t offs[2] = {-5, -5};
  int64_t later = sl_time_now_ms() + 3600 * 1000;
  CHECK_EQ_INT(sl_log_offsets_for_time(g_log, "t-time", later, offs, 2, &err), 0);
  CHECK_EQ_INT(offs[0], 4);
  CHECK_EQ_INT(offs[1], 4);
  CHECK_EQ_INT(sl_log_offsets_for_time(g_log, "t-time", later, offs, 3, &err), SL_EINVAL);

  cc.from = SL_LOG_FROM_TIME;
  cc.from_value = later;
  if (consumer_open(&cc, &c)) { CHECK(0); return; }
  CHECK_EQ_INT(poll_n(c, 1, 2000, NULL, NULL), 0);
  struct sl_log_msg m = {.partition = 1, .value = "new", .value_len = 3};
  CHECK_EQ_INT(sl_log_produce(g_log, "t-time", &m, 1, NULL, &err), 0);
  CHECK_EQ_INT(sl_log_flush(g_log, 30000, &err), 0);
  memset(ts, 0, sizeof ts);
  struct sl_log_record rec;
  int got = 0;
  for (int64_t end = now_ms() + 30000; !got && now_ms() < end;) got = sl_log_consumer_poll(c, 200, &rec, &err);
  CHECK_EQ_INT(got, 1);
  if (got == 1) {
    CHECK_EQ_INT(rec.partition, 1);
    CHECK_EQ_INT(rec.offset, 4);
  }
  sl_log_consumer_close(c);
}

static void test_seek(void) {
  struct sl_err err = {0};
  struct sl_log_msg msgs[20];
  char vals[20][8];
  for (int i = 0; i < 20; i++) {
    snprintf(vals[i], sizeof vals[i], "s%d", i);
    msgs[i] = (struct sl_log_msg){.partition = i % 2, .value = vals[i], .value_len = strlen(vals[i])};
  }
  CHECK_EQ_INT(sl_log_produce(g_log, "t-seek", msgs, 20, NULL, &err), 0);
  CHECK_EQ_INT(sl_log_flush(g_log, 30000, &err), 0);
  const char *topics[] = {"t-seek"};
  struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1, .from = SL_LOG_FROM_BEGINNING};
  struct sl_log_consumer *c;
  if (consumer_open(&cc, &c)) { CHECK(0); return; }
  CHECK_EQ_INT(poll_n(c, 20, 30000, NULL, NULL), 20);
  CHECK_EQ_INT(sl_log_consumer_seek(c, "t-seek", 1, 7, &err), 0);
  struct sl_log_record rec;
  int got = 0;
  for (int64_t end = now_ms() + 30000; !got && now_ms() < end;) got = sl_log_consumer_poll(c, 200, &rec, &err);
  CHECK_EQ_INT(got, 1);
  if (got == 1) {
    CHECK_EQ_INT(rec.partition, 1);
    CHECK_EQ_INT(rec.offset, 7);
    CHECK(rec.value_len == 3 && !memcmp(rec.value, "s15", 3));
  }
  CHECK_EQ_INT(sl_log_consumer_seek(c, "t-seek", 5, 0, &err), SL_EINVAL);
  sl_log_consumer_close(c);
}

struct seen {
  unsigned char hit[3][64];
  int64_t last[3];
  int order_ok;
  int dup;
};

static void on_group(const struct sl_log_record *rec, void *arg) {
  struct seen *s = arg;
  if (rec->partition < 0 || rec->partition > 2 || rec->offset < 0 || rec->offset >= 64) return;
  if (s->hit[rec->partition][rec->offset]) s->dup = 1;
  s->hit[rec->partition][rec->offset] = 1;
  if (rec->offset <= s->last[rec->partition]) s->order_ok = 0;
  s->last[rec->partition] = rec->offset;
}

static void test_group_commit_resume(void) {
  struct sl_err err = {0};
  struct sl_log_msg msgs[90];
  char keys[90][16];
  for (int i = 0; i < 90; i++) {
    snprintf(keys[i], sizeof keys[i], "user-%d", i);
    msgs[i] = (struct sl_log_msg){.partition = -1, .key = keys[i], .key_len = strlen(keys[i]), .value = keys[i],
                                  .value_len = strlen(keys[i])};
  }
  CHECK_EQ_INT(sl_log_produce(g_log, "t-group", msgs, 90, NULL, &err), 0);
  CHECK_EQ_INT(sl_log_flush(g_log, 30000, &err), 0);
  struct sl_log_topic_info info;
  CHECK_EQ_INT(sl_log_topic_describe(g_log, "t-group", &info, &err), 0);
  int64_t ends[3] = {0};
  for (int p = 0; p < info.n_parts && p < 3; p++) ends[p] = info.parts[p].end_offset;
  CHECK_EQ_INT(ends[0] + ends[1] + ends[2], 90);
  CHECK_EQ_INT(info.n_groups, 0);
  sl_log_topic_info_fini(&info);

  const char *topics[] = {"t-group"};
  struct sl_log_consumer_conf cc = {.group = "g1", .topics = topics, .n_topics = 1, .from = SL_LOG_FROM_BEGINNING};
  struct sl_log_consumer *c;
  struct seen s = {.last = {-1, -1, -1}, .order_ok = 1};
  if (consumer_open(&cc, &c)) { CHECK(0); return; }
  CHECK_EQ_INT(poll_n(c, 40, 60000, on_group, &s), 40);
  CHECK_EQ_INT(sl_log_consumer_commit(c, &err), 0);
  sl_log_consumer_close(c);

  CHECK_EQ_INT(sl_log_topic_describe(g_log, "t-group", &info, &err), 0);
  CHECK_EQ_INT(info.n_groups, 1);
  if (info.n_groups == 1) {
    CHECK_STR(info.groups[0].group, "g1");
    CHECK_EQ_INT(info.groups[0].lag, 50);
    for (int p = 0; p < 3; p++) {
      int64_t n = 0;
      for (int o = 0; o < 64; o++) n += s.hit[p][o];
      CHECK_EQ_INT(info.groups[0].committed[p] < 0 ? 0 : info.groups[0].committed[p], n);
    }
  }
  sl_log_topic_info_fini(&info);

  /* the same group again: it continues after the committed positions */
  if (consumer_open(&cc, &c)) { CHECK(0); return; }
  CHECK_EQ_INT(poll_n(c, 50, 60000, on_group, &s), 50);
  CHECK_EQ_INT(poll_n(c, 1, 1000, on_group, &s), 0);
  CHECK_EQ_INT(sl_log_consumer_commit(c, &err), 0);
  sl_log_consumer_close(c);
  CHECK(!s.dup);
  CHECK(s.order_ok);
  for (int p = 0; p < 3; p++)
    for (int o = 0; o < ends[p]; o++) CHECK(s.hit[p][o]);
  CHECK_EQ_INT(sl_log_topic_describe(g_log, "t-group", &info, &err), 0);
  CHECK_EQ_INT(info.n_groups, 1);
  if (info.n_groups == 1) CHECK_EQ_INT(info.groups[0].lag, 0);
  sl_log_topic_info_fini(&info);

  /* a new group that starts at an offset where it has nothing committed */
  struct seen s2 = {.last = {-1, -1, -1}, .order_ok = 1};
  struct sl_log_consumer_conf c2 = {.group = "g2", .topics = topics, .n_topics = 1, .from = SL_LOG_FROM_OFFSET,
                                    .from_value = 5};
  int64_t want = 0;
  for (int p = 0; p < 3; p++) want += ends[p] > 5 ? ends[p] - 5 : 0;
  if (consumer_open(&c2, &c)) { CHECK(0); return; }
  CHECK_EQ_INT(poll_n(c, (size_t)want, 60000, on_group, &s2), want);
  CHECK_EQ_INT(poll_n(c, 1, 1000, on_group, &s2), 0);
  sl_log_consumer_close(c);
  for (int p = 0; p < 3; p++)
    for (int o = 0; o < 5; o++) CHECK(!s2.hit[p][o]);
}

static int g_keys_bad, g_keys_n;

static void on_key(const struct sl_log_record *rec, void *arg) {
  (void)arg;
  g_keys_n++;
  if (rec->partition != sl_log_partition_for_key(rec->key, rec->key_len, 6)) g_keys_bad++;
}

static void test_key_placement(void) {
  struct sl_err err = {0};
  enum { N = 600 };
  static struct sl_log_msg msgs[N];
  static unsigned char keys[N][24];
  uint32_t x = 12345;
  for (int i = 0; i < N; i++) {
    size_t len;
    if (i % 3 == 0) {
      len = (size_t)snprintf((char *)keys[i], sizeof keys[i], "customer-%d", i);
    } else { /* binary keys of every length from 1 to 23 */
      len = 1 + (size_t)(i % 23);
      for (size_t k = 0; k < len; k++) {
        x = x * 1103515245u + 12345u;
        keys[i][k] = (unsigned char)(x >> 16);
      }
    }
    msgs[i] = (struct sl_log_msg){.partition = -1, .key = keys[i], .key_len = len, .value = "v", .value_len = 1};
  }
  CHECK_EQ_INT(sl_log_produce(g_log, "t-keys", msgs, N, NULL, &err), 0);
  CHECK_EQ_INT(sl_log_flush(g_log, 30000, &err), 0);
  const char *topics[] = {"t-keys"};
  struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1, .from = SL_LOG_FROM_BEGINNING};
  struct sl_log_consumer *c;
  if (consumer_open(&cc, &c)) { CHECK(0); return; }
  CHECK_EQ_INT(poll_n(c, N, 30000, on_key, NULL), N);
  sl_log_consumer_close(c);
  CHECK_EQ_INT(g_keys_n, N);
  CHECK_EQ_INT(g_keys_bad, 0);
  /* every partition got some keys, so the check above covered them all */
  struct sl_log_topic_info info;
  CHECK_EQ_INT(sl_log_topic_describe(g_log, "t-keys", &info, &err), 0);
  for (int p = 0; p < info.n_parts; p++) CHECK(info.parts[p].end_offset > 0);
  sl_log_topic_info_fini(&info);
}

static void test_headers_keys_nulls(void) {
  struct sl_err err = {0};
  unsigned char bin[5] = {0, 1, 0xff, '\n', 0};
  struct sl_log_header hs[3] = {{"trace-id", "abc123", 6}, {"bin", bin, 5}, {"empty", "", 0}};
  struct sl_log_msg msgs[4] = {
      {.partition = 0, .key = "k", .key_len = 1, .value = "with headers", .value_len = 12, .headers = hs, .n_headers = 3},
      {.partition = 0, .key = NULL, .value = "no key", .value_len = 6},
      {.partition = 0, .key = "gone", .key_len = 4, .value = NULL}, /* a tombstone */
      {.partition = 0, .key = "", .key_len = 0, .value = "", .value_len = 0}, /* empty, not null */
  };
  int64_t offs[4];
  CHECK_EQ_INT(sl_log_produce(g_log, "t-hdr", msgs, 4, offs, &err), 0);
  CHECK_EQ_INT(sl_log_flush(g_log, 30000, &err), 0);
  CHECK_EQ_INT(offs[2], 2);
  const char *topics[] = {"t-hdr"};
  struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1, .from = SL_LOG_FROM_BEGINNING};
  struct sl_log_consumer *c;
  if (consumer_open(&cc, &c)) { CHECK(0); return; }
  struct sl_log_record rec;
  int got = 0, i = 0;
  for (int64_t end = now_ms() + 30000; i < 4 && now_ms() < end;) {
    got = sl_log_consumer_poll(c, 200, &rec, &err);
    if (got != 1) continue;
    if (i == 0) {
      CHECK_EQ_INT(rec.n_headers, 3);
      for (size_t h = 0; h < rec.n_headers && h < 3; h++) {
        CHECK_STR(rec.headers[h].name, hs[h].name);
        CHECK_EQ_INT(rec.headers[h].len, hs[h].len);
        CHECK(!memcmp(rec.headers[h].value ? rec.headers[h].value : "", hs[h].value, hs[h].len));
      }
      CHECK(rec.key_len == 1 && !memcmp(rec.key, "k", 1));
    } else if (i == 1) {
      CHECK(rec.key == NULL);
      CHECK_EQ_INT(rec.n_headers, 0);
    } else if (i == 2) {
      CHECK(rec.value == NULL);
      CHECK(rec.key_len == 4 && !memcmp(rec.key, "gone", 4));
    } else {
      CHECK(rec.key != NULL);
      CHECK(rec.value != NULL);
      CHECK_EQ_INT(rec.key_len + rec.value_len, 0);
    }
    i++;
  }
  CHECK_EQ_INT(i, 4);
  sl_log_consumer_close(c);
}

static void test_errors(void) {
  struct sl_err err = {0};
  struct sl_log_msg m = {.partition = -1, .value = "x", .value_len = 1};
  CHECK_EQ_INT(sl_log_produce(g_log, "no-such-topic", &m, 1, NULL, &err), SL_ENOTFOUND);
  CHECK_CONTAINS(err.msg, "topic no-such-topic does not exist on kafka://127.0.0.1:");
  CHECK_CONTAINS(err.msg, "create it with `sluice topic create no-such-topic`");
  const char *topics[] = {"no-such-topic"};
  struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1};
  struct sl_log_consumer *c;
  CHECK_EQ_INT(sl_log_consumer_open(g_log, &cc, &c, &err), SL_ENOTFOUND);
  CHECK_CONTAINS(err.msg, "sluice topic create no-such-topic");
  struct sl_log_topic_info info;
  CHECK_EQ_INT(sl_log_topic_describe(g_log, "no-such-topic", &info, &err), SL_ENOTFOUND);
  CHECK_EQ_INT(sl_log_topic_delete(g_log, "no-such-topic", &err), SL_ENOTFOUND);
  m.partition = 9;
  CHECK_EQ_INT(sl_log_produce(g_log, "t-err", &m, 1, NULL, &err), SL_EINVAL);
  CHECK_CONTAINS(err.msg, "partition 9 does not exist");

  /* nothing listens there: a clear message naming the servers, after a bounded wait */
  int64_t t0 = now_ms();
  struct sl_log *dead = open_log("kafka://127.0.0.1:1", NULL, 0, &err);
  CHECK(dead == NULL);
  CHECK_EQ_INT(err.code, SL_EIO);
  CHECK_CONTAINS(err.msg, "cannot reach the Kafka brokers 127.0.0.1:1");
  CHECK_CONTAINS(err.msg, "reachable");
  fprintf(stderr, "  dead bootstrap refused after %lld ms\n", (long long)(now_ms() - t0));
  sl_log_close(dead);

  /* SASL against brokers that do not speak it: an authentication error, secret unseen */
  const char *sasl[] = {"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN", "sasl.username=alice",
                        "sasl.password=hunter2"};
  struct sl_log *log = open_log(g_url, sasl, 4, &err);
  CHECK(log == NULL);
  fprintf(stderr, "  sasl: %s\n", err.msg);
  CHECK_EQ_INT(err.code, SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "authentication with kafka://");
  CHECK(strstr(err.msg, "hunter2") == NULL);
  sl_log_close(log);
}

/* The brokers refuse every Produce request: flush fails naming topic, partition and
 * the broker's error, and no record is reported as durable. */
static void test_broker_error_fails_flush(void) {
  struct sl_err err = {0};
  struct sl_log *log = open_log(g_url, NULL, 0, &err);
  CHECK(log != NULL);
  if (!log) return;
  rd_kafka_resp_err_t errs[64];
  for (int i = 0; i < 64; i++) errs[i] = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
  rd_kafka_mock_push_request_errors_array(g_mc, 0 /* Produce */, 64, errs);
  struct sl_log_msg msgs[5];
  int64_t offs[5];
  for (int i = 0; i < 5; i++) msgs[i] = (struct sl_log_msg){.partition = 0, .value = "doomed", .value_len = 6};
  CHECK_EQ_INT(sl_log_produce(log, "t-err", msgs, 5, offs, &err), 0);
  int rc = sl_log_flush(log, 30000, &err);
  CHECK(rc < 0);
  fprintf(stderr, "  flush: %s\n", err.msg);
  CHECK_CONTAINS(err.msg, "topic t-err partition 0");
  CHECK_CONTAINS(err.msg, rd_kafka_err2str(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED));
  CHECK_CONTAINS(err.msg, "not all durable");
  for (int i = 0; i < 5; i++) CHECK_EQ_INT(offs[i], -1);
  rd_kafka_mock_clear_request_errors(g_mc, 0);
  sl_log_close(log);
  /* the partition holds none of them */
  struct sl_log_topic_info info;
  CHECK_EQ_INT(sl_log_topic_describe(g_log, "t-err", &info, &err), 0);
  if (info.n_parts == 1) CHECK_EQ_INT(info.parts[0].end_offset, 0);
  sl_log_topic_info_fini(&info);
  /* a fresh handle produces again once the brokers accept */
  log = open_log(g_url, NULL, 0, &err);
  CHECK(log != NULL);
  if (!log) return;
  CHECK_EQ_INT(sl_log_produce(log, "t-err", msgs, 1, offs, &err), 0);
  CHECK_EQ_INT(sl_log_flush(log, 30000, &err), 0);
  CHECK_EQ_INT(offs[0], 0);
  sl_log_close(log);
}

/* Every broker down: flush gives up after its timeout, saying the records are not
 * durable, and hands the offsets array back to the caller (it stays -1 and is written
 * no more); when the brokers are back the records are delivered, exactly once. */
static void test_brokers_down_then_back(void) {
  struct sl_err err = {0};
  struct sl_log *log = open_log(g_url, NULL, 0, &err);
  CHECK(log != NULL);
  if (!log) return;
  struct sl_log_topic_info info;
  CHECK_EQ_INT(sl_log_topic_describe(log, "t-basic", &info, &err), 0);
  int64_t end0 = info.n_parts == 1 ? info.parts[0].end_offset : -1;
  sl_log_topic_info_fini(&info);
  rd_kafka_mock_broker_set_down(g_mc, -1);
  struct sl_log_msg msgs[3];
  int64_t offs[3];
  for (int i = 0; i < 3; i++) msgs[i] = (struct sl_log_msg){.partition = 0, .value = "during", .value_len = 6};
  CHECK_EQ_INT(sl_log_produce(log, "t-basic", msgs, 3, offs, &err), 0);
  int rc = sl_log_flush(log, 2000, &err);
  CHECK_EQ_INT(rc, SL_EIO);
  fprintf(stderr, "  flush while down: %s\n", err.msg);
  CHECK_CONTAINS(err.msg, "3 records not acknowledged");
  CHECK_CONTAINS(err.msg, "durable");
  rd_kafka_mock_broker_set_up(g_mc, -1);
  CHECK_EQ_INT(sl_log_flush(log, 60000, &err), 0);
  for (int i = 0; i < 3; i++) CHECK_EQ_INT(offs[i], -1);
  CHECK_EQ_INT(sl_log_topic_describe(log, "t-basic", &info, &err), 0);
  if (info.n_parts == 1) CHECK_EQ_INT(info.parts[0].end_offset, end0 + 3);
  sl_log_topic_info_fini(&info);
  sl_log_close(log);
}

/* The mock cluster has no controller, so CreateTopics cannot succeed there: the
 * message must say what happened and what to do. */
static void test_create_without_controller(void) {
  struct sl_err err = {0};
  struct sl_log *log = open_log(g_url, NULL, 0, &err); /* a handle that has not met the timeout yet */
  CHECK(log != NULL);
  if (!log) return;
  struct sl_log_topic_conf tc = {.partitions = 2, .retention_ms = 60000};
  int rc = sl_log_topic_create(log, "t-new", &tc, &err);
  CHECK(rc < 0);
  fprintf(stderr, "  create: %s\n", err.msg);
  CHECK_CONTAINS(err.msg, "create topic t-new on kafka://");
  CHECK_CONTAINS(err.msg, "no controller broker answered");
  rc = sl_log_topic_create(log, "t-new2", &tc, &err);
  CHECK(rc < 0);
  fprintf(stderr, "  again: %s\n", err.msg);
  CHECK_CONTAINS(err.msg, "has no controller");
  CHECK_EQ_INT(sl_log_topic_delete(log, "t-basic", &err), SL_EIO);
  CHECK_CONTAINS(err.msg, "delete topic t-basic");
  CHECK_EQ_INT(sl_log_topic_create(log, "bad/name", &tc, &err), SL_EINVAL);
  /* describe still works: retention is simply not known */
  struct sl_log_topic_info info;
  CHECK_EQ_INT(sl_log_topic_describe(log, "t-basic", &info, &err), 0);
  CHECK_EQ_INT(info.conf.retention_ms, 0);
  sl_log_topic_info_fini(&info);
  sl_log_close(log);
}

/* Many producer threads on one handle: every flush succeeds, every offset is filled and
 * distinct, and the topic holds exactly what was acknowledged. */
struct prod_arg {
  int id;
  int64_t offs[400];
  int32_t parts[400];
  int rc;
};

static void *producer_thread(void *arg) {
  struct prod_arg *a = arg;
  struct sl_err err = {0};
  for (int b = 0; b < 4 && !a->rc; b++) {
    struct sl_log_msg msgs[100];
    char keys[100][24];
    for (int i = 0; i < 100; i++) {
      snprintf(keys[i], sizeof keys[i], "t%d-r%d", a->id, b * 100 + i);
      msgs[i] = (struct sl_log_msg){.partition = -1, .key = keys[i], .key_len = strlen(keys[i]), .value = keys[i],
                                    .value_len = strlen(keys[i])};
      a->parts[b * 100 + i] = sl_log_partition_for_key(keys[i], strlen(keys[i]), 3);
    }
    a->rc = sl_log_produce(g_log, "t-threads", msgs, 100, a->offs + b * 100, &err);
    if (!a->rc) a->rc = sl_log_flush(g_log, 30000, &err);
    if (a->rc) fprintf(stderr, "  thread %d: %s\n", a->id, err.msg);
  }
  return NULL;
}

static void test_threads(void) {
  struct sl_err err = {0};
  static struct prod_arg args[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    args[i].id = i;
    pthread_create(&th[i], NULL, producer_thread, &args[i]);
  }
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  static unsigned char used[3][1600];
  int dup = 0, unfilled = 0;
  for (int i = 0; i < 4; i++) {
    CHECK_EQ_INT(args[i].rc, 0);
    for (int r = 0; r < 400; r++) {
      int64_t o = args[i].offs[r];
      if (o < 0 || o >= 1600) {
        unfilled++;
        continue;
      }
      dup += used[args[i].parts[r]][o]++;
    }
  }
  CHECK_EQ_INT(unfilled, 0);
  CHECK_EQ_INT(dup, 0);
  struct sl_log_topic_info info;
  CHECK_EQ_INT(sl_log_topic_describe(g_log, "t-threads", &info, &err), 0);
  int64_t total = 0;
  for (int p = 0; p < info.n_parts; p++) {
    total += info.parts[p].end_offset;
    for (int64_t o = 0; o < info.parts[p].end_offset && o < 1600; o++) CHECK(used[p][o]);
  }
  CHECK_EQ_INT(total, 1600);
  sl_log_topic_info_fini(&info);
}

/* ---- kcat interop ---- */

static int run(const char *cmd, char **out, size_t *len) {
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  size_t cap = 1 << 16, n = 0;
  char *b = malloc(cap);
  size_t r;
  while (b && (r = fread(b + n, 1, cap - n, p)) > 0) {
    n += r;
    if (n == cap) b = realloc(b, cap *= 2);
  }
  int st = pclose(p);
  *out = b;
  *len = n;
  return st;
}

static uint64_t fnv1a(const void *d, size_t n) {
  const unsigned char *p = d;
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static void test_kcat_reads_sluice(void) {
  if (!g_have_kcat) {
    fprintf(stderr, "  SKIP kcat not installed\n");
    return;
  }
  struct sl_err err = {0};
  enum { N = 300 };
  static struct sl_log_msg msgs[N];
  static char keys[N][16];
  static unsigned char vals[N][200];
  static int64_t offs[N];
  uint32_t x = 777;
  for (int i = 0; i < N; i++) {
    snprintf(keys[i], sizeof keys[i], "k%d", i);
    size_t len = (size_t)(i % 200);
    for (size_t k = 0; k < len; k++) {
      x = x * 1664525u + 1013904223u;
      vals[i][k] = (unsigned char)(x >> 24); /* every byte value, '\n' and '\t' included */
    }
    msgs[i] = (struct sl_log_msg){.partition = -1, .key = keys[i], .key_len = strlen(keys[i]), .value = vals[i],
                                  .value_len = len};
  }
  CHECK_EQ_INT(sl_log_produce(g_log, "t-kcat", msgs, N, offs, &err), 0);
  CHECK_EQ_INT(sl_log_flush(g_log, 30000, &err), 0);
  const char *bs = g_url + 8;
  for (int p = 0; p < 3; p++) {
    /* what kcat must print for this partition: its records in offset order */
    size_t cap = 1 << 16, n = 0;
    char *want = malloc(cap), *pos = malloc(cap);
    size_t np = 0;
    for (int64_t o = 0;; o++) {
      int i = 0;
      while (i < N && !(offs[i] == o && sl_log_partition_for_key(keys[i], strlen(keys[i]), 3) == p)) i++;
      if (i == N) break;
      n += (size_t)snprintf(want + n, cap - n, "%s\t", keys[i]);
      memcpy(want + n, vals[i], msgs[i].value_len);
      n += msgs[i].value_len;
      want[n++] = '\n';
      np += (size_t)snprintf(pos + np, cap - np, "%d %lld\n", p, (long long)o);
    }
    char cmd[1024], *got;
    size_t gl;
    snprintf(cmd, sizeof cmd, "kcat -b %s -C -t t-kcat -p %d -o beginning -e -q -f '%%k\\t%%s\\n'", bs, p);
    CHECK_EQ_INT(run(cmd, &got, &gl), 0);
    CHECK_EQ_INT(gl, n);
    CHECK(gl == n && !memcmp(got, want, n));
    fprintf(stderr, "  partition %d: %zu bytes, fnv1a %016llx (sluice) %016llx (kcat)\n", p, n,
            (unsigned long long)fnv1a(want, n), (unsigned long long)fnv1a(got, gl));
    free(got);
    snprintf(cmd, sizeof cmd, "kcat -b %s -C -t t-kcat -p %d -o beginning -e -q -f '%%p %%o\\n'", bs, p);
    CHECK_EQ_INT(run(cmd, &got, &gl), 0);
    CHECK(gl == np && !memcmp(got, pos, np));
    free(got);
    free(want);
    free(pos);
  }
}

struct got_rec {
  int n;
  unsigned char *data[40];
  size_t len[40];
  char *key[40];
};

static void on_kcat(const struct sl_log_record *rec, void *arg) {
  struct got_rec *g = arg;
  if (g->n >= 40) return;
  g->data[g->n] = malloc(rec->value_len + 1);
  memcpy(g->data[g->n], rec->value, rec->value_len);
  g->len[g->n] = rec->value_len;
  g->key[g->n] = rec->key ? strndup(rec->key, rec->key_len) : NULL;
  g->n++;
}

static void test_sluice_reads_kcat(void) {
  if (!g_have_kcat) {
    fprintf(stderr, "  SKIP kcat not installed\n");
    return;
  }
  struct sl_err err = {0};
  const char *bs = g_url + 8;
  /* binary values: one file per record (kcat -P sends each file whole) */
  char dir[300], cmd[4096];
  snprintf(dir, sizeof dir, "%s/kcat-in", sl_test_tmpdir());
  mkdir(dir, 0700);
  static unsigned char files[20][300];
  size_t flen[20];
  uint32_t x = 99;
  int n = snprintf(cmd, sizeof cmd, "kcat -b %s -P -t t-kcat-in -p 0", bs);
  for (int i = 0; i < 20; i++) {
    flen[i] = 1 + (size_t)(i * 13 % 300);
    for (size_t k = 0; k < flen[i]; k++) {
      x = x * 1664525u + 1013904223u;
      files[i][k] = (unsigned char)(x >> 24);
    }
    char path[400];
    snprintf(path, sizeof path, "%s/%02d.bin", dir, i);
    FILE *f = fopen(path, "wb");
    fwrite(files[i], 1, flen[i], f);
    fclose(f);
    n += snprintf(cmd + n, sizeof cmd - (size_t)n, " %s", path);
  }
  CHECK_EQ_INT(system(cmd), 0);
  const char *topics[] = {"t-kcat-in"};
  struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1, .from = SL_LOG_FROM_BEGINNING};
  struct sl_log_consumer *c;
  struct got_rec g = {0};
  if (consumer_open(&cc, &c)) { CHECK(0); return; }
  CHECK_EQ_INT(poll_n(c, 20, 30000, on_kcat, &g), 20);
  sl_log_consumer_close(c);
  for (int i = 0; i < g.n; i++) {
    CHECK_EQ_INT(g.len[i], flen[i]);
    CHECK(g.len[i] == flen[i] && !memcmp(g.data[i], files[i], flen[i]));
    CHECK(g.key[i] == NULL);
    free(g.data[i]);
    free(g.key[i]);
  }

  /* keyed lines, partitioned by kcat with the Java client's murmur2 */
  char path[400];
  snprintf(path, sizeof path, "%s/keyed.txt", dir);
  FILE *f = fopen(path, "w");
  for (int i = 0; i < 40; i++) fprintf(f, "order-%d\tpayload %d \x01\x7f\n", i, i * i);
  fclose(f);
  snprintf(cmd, sizeof cmd, "kcat -b %s -P -t t-kcat-keys -K '\\t' -X partitioner=murmur2_random < %s", bs, path);
  CHECK_EQ_INT(system(cmd), 0);
  const char *topics2[] = {"t-kcat-keys"};
  cc.topics = topics2;
  struct got_rec g2 = {0};
  if (consumer_open(&cc, &c)) { CHECK(0); return; }
  int bad_place = 0, found = 0;
  struct sl_log_record rec;
  for (int64_t end = now_ms() + 30000; found < 40 && now_ms() < end;) {
    if (sl_log_consumer_poll(c, 200, &rec, &err) != 1) continue;
    on_kcat(&rec, &g2);
    if (rec.partition != sl_log_partition_for_key(rec.key, rec.key_len, 4)) bad_place++;
    found++;
  }
  sl_log_consumer_close(c);
  CHECK_EQ_INT(found, 40);
  CHECK_EQ_INT(bad_place, 0);
  int matched = 0;
  for (int i = 0; i < g2.n; i++) {
    int k = g2.key[i] ? atoi(g2.key[i] + 6) : -1;
    char want[64];
    int wl = snprintf(want, sizeof want, "payload %d \x01\x7f", k * k);
    matched += k >= 0 && g2.key[i] && !strncmp(g2.key[i], "order-", 6) && g2.len[i] == (size_t)wl &&
               !memcmp(g2.data[i], want, (size_t)wl);
    free(g2.data[i]);
    free(g2.key[i]);
  }
  CHECK_EQ_INT(matched, 40);
}

/* SL_TEST_ONLY=name runs one test (with setup), for debugging. */
#undef TEST_RUN
#define TEST_RUN(fn)                                                   \
  do {                                                                 \
    const char *only = getenv("SL_TEST_ONLY");                         \
    if (only && *only && strcmp(only, #fn)) break;                     \
    sl_test_cur_failed = 0;                                            \
    sl_test_count++;                                                   \
    fn();                                                              \
    fprintf(stderr, "%s %s\n", sl_test_cur_failed ? "FAIL" : "ok  ", #fn); \
    sl_test_failed += sl_test_cur_failed;                              \
  } while (0)

int main(void) {
  setup();
  TEST_RUN(test_url_and_props);
  TEST_RUN(test_produce_flush_offsets);
  TEST_RUN(test_consume_positions);
  TEST_RUN(test_time);
  TEST_RUN(test_seek);
  TEST_RUN(test_group_commit_resume);
  TEST_RUN(test_key_placement);
  TEST_RUN(test_headers_keys_nulls);
  TEST_RUN(test_threads);
  TEST_RUN(test_errors);
  TEST_RUN(test_broker_error_fails_flush);
  TEST_RUN(test_brokers_down_then_back);
  TEST_RUN(test_kcat_reads_sluice);
  TEST_RUN(test_sluice_reads_kcat);
  TEST_RUN(test_create_without_controller);
  sl_log_close(g_log);
  rd_kafka_mock_cluster_destroy(g_mc);
  rd_kafka_destroy(g_mk);
  return TEST_DONE();
}
