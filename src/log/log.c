/* log.c: what every log backend shares: the `log:` section of sluice.yaml, choosing a
 * backend from the URL, topic-name rules, Kafka's key partitioner, and the thin
 * wrappers callers use so they never touch a backend's ops directly. */
#include "log/log.h"

#include "core/metrics.h"
#include "core/mem.h"

#include <stddef.h>
#include <string.h>

const struct sl_cfg_section sl_log_section = {
    "log",
    (const struct sl_opt[]){
        {"url", SL_OPT_STR, offsetof(struct sl_log_cfg, url), ".sluice/log", 0, -1, NULL,
         "Where topics live: a folder (relative to the project) for the embedded log, or "
         "`kafka://host:port[,host:port...]` for an Apache Kafka cluster.", 0},
        {"durability", SL_OPT_ENUM, offsetof(struct sl_log_cfg, durability), "batch", 0, -1, "batch|interval|none",
         "Embedded log: `batch` fsyncs once per produced batch (group commit), `interval` at most every "
         "`fsync_interval_ms`, `none` leaves it to the OS.", 0},
        {"fsync_interval_ms", SL_OPT_INT, offsetof(struct sl_log_cfg, fsync_interval_ms), "50", 1, 60000, NULL,
         "Embedded log with durability `interval`: longest wait between fsyncs.", 0},
        {"segment_bytes", SL_OPT_SIZE, offsetof(struct sl_log_cfg, segment_bytes), "128MB", 4096, (int64_t)1 << 40,
         NULL, "Embedded log: a partition rolls to a new segment file past this size.", 0},
        {"index_interval_bytes", SL_OPT_SIZE, offsetof(struct sl_log_cfg, index_interval_bytes), "4KB", 64,
         (int64_t)1 << 30, NULL, "Embedded log: one sparse offset-index entry per this many bytes of records.", 0},
        {"retention_ms", SL_OPT_INT, offsetof(struct sl_log_cfg, retention_ms), "604800000", -1, INT64_MAX, NULL,
         "Default retention by age for new topics, in milliseconds; -1 keeps records forever.", 0},
        {"retention_bytes", SL_OPT_INT, offsetof(struct sl_log_cfg, retention_bytes), "-1", -1, INT64_MAX, NULL,
         "Default retention by size per partition for new topics, in bytes; -1 is unbounded.", 0},
        {"partitions", SL_OPT_INT, offsetof(struct sl_log_cfg, default_partitions), "1", 1, 10000, NULL,
         "Partitions of a topic created without saying how many.", 0},
        {"kafka", SL_OPT_LIST, offsetof(struct sl_log_cfg, kafka_props), "", 0, -1, NULL,
         "Kafka: librdkafka properties as `key=value` items (e.g. `security.protocol=SASL_SSL`); "
         "secrets belong in SLUICE_LOG_KAFKA.", 1},
        {NULL, 0, 0, NULL, 0, 0, NULL, NULL, 0},
    },
    "Topics: the embedded durable log, or an Apache Kafka cluster.",
};

int sl_log_open(const char *url, const struct sl_log_cfg *cfg, struct sl_log **out, struct sl_err *err) {
  *out = NULL;
  if (!url || !*url) return sl_err_set(err, SL_ECONFIG, "log: empty url; set log.url in sluice.yaml");
  struct sl_log *log = sl_calloc(1, sizeof *log);
  if (!log) return sl_err_set(err, SL_ENOMEM, "log: out of memory");
  if (cfg) {
    log->cfg = *cfg;
  } else {
    int rc = sl_cfg_fill(NULL, NULL, &sl_log_section, &log->cfg, err);
    if (rc) {
      sl_free(log);
      return rc;
    }
    log->owns_cfg = 1;
  }
  log->ops = strncmp(url, "kafka://", 8) == 0 ? &sl_log_kafka_ops : &sl_log_embedded_ops;
  int rc = log->ops->open(log, url, &log->cfg, err);
  if (rc) {
    if (log->owns_cfg) sl_cfg_section_fini(&sl_log_section, &log->cfg);
    sl_free(log);
    return rc;
  }
  *out = log;
  return 0;
}

void sl_log_close(struct sl_log *log) {
  if (!log) return;
  log->ops->close(log);
  if (log->owns_cfg) sl_cfg_section_fini(&sl_log_section, &log->cfg);
  sl_free(log);
}

int sl_log_topic_create(struct sl_log *log, const char *topic, const struct sl_log_topic_conf *conf,
                        struct sl_err *err) {
  int rc = sl_log_topic_name_check(topic, err);
  return rc ? rc : log->ops->topic_create(log, topic, conf, err);
}

int sl_log_topic_delete(struct sl_log *log, const char *topic, struct sl_err *err) {
  int rc = sl_log_topic_name_check(topic, err);
  return rc ? rc : log->ops->topic_delete(log, topic, err);
}

int sl_log_topic_list(struct sl_log *log, char ***names, size_t *n, struct sl_err *err) {
  return log->ops->topic_list(log, names, n, err);
}

int sl_log_topic_describe(struct sl_log *log, const char *topic, struct sl_log_topic_info *out,
                          struct sl_err *err) {
  memset(out, 0, sizeof *out);
  int rc = sl_log_topic_name_check(topic, err);
  return rc ? rc : log->ops->topic_describe(log, topic, out, err);
}

int sl_log_produce(struct sl_log *log, const char *topic, const struct sl_log_msg *msgs, size_t n,
                   int64_t *offsets, struct sl_err *err) {
  int rc = log->ops->produce(log, topic, msgs, n, offsets, err);
  if (!rc) sl_metric_counter_add_label("sluice_log_appends_total", "topic", topic, (double)n);
  return rc;
}

int sl_log_flush(struct sl_log *log, int timeout_ms, struct sl_err *err) {
  return log->ops->flush(log, timeout_ms, err);
}

int sl_log_consumer_open(struct sl_log *log, const struct sl_log_consumer_conf *conf,
                         struct sl_log_consumer **out, struct sl_err *err) {
  *out = NULL;
  for (size_t i = 0; i < conf->n_topics; i++) {
    int rc = sl_log_topic_name_check(conf->topics[i], err);
    if (rc) return rc;
  }
  return log->ops->consumer_open(log, conf, out, err);
}

void sl_log_consumer_close(struct sl_log_consumer *c) {
  if (c) ((struct sl_log_consumer_head *)c)->log->ops->consumer_close(c);
}

int sl_log_consumer_poll(struct sl_log_consumer *c, int timeout_ms, struct sl_log_record *rec,
                         struct sl_err *err) {
  return ((struct sl_log_consumer_head *)c)->log->ops->consumer_poll(c, timeout_ms, rec, err);
}

int sl_log_consumer_seek(struct sl_log_consumer *c, const char *topic, int32_t partition, int64_t offset,
                         struct sl_err *err) {
  return ((struct sl_log_consumer_head *)c)->log->ops->consumer_seek(c, topic, partition, offset, err);
}

int sl_log_consumer_commit(struct sl_log_consumer *c, struct sl_err *err) {
  return ((struct sl_log_consumer_head *)c)->log->ops->consumer_commit(c, err);
}

int sl_log_offsets_for_time(struct sl_log *log, const char *topic, int64_t ts_ms, int64_t *offsets,
                            int32_t n_parts, struct sl_err *err) {
  return log->ops->offsets_for_time(log, topic, ts_ms, offsets, n_parts, err);
}

void sl_log_topic_info_fini(struct sl_log_topic_info *info) {
  if (!info) return;
  sl_free(info->name);
  sl_free(info->parts);
  for (size_t i = 0; i < info->n_groups; i++) {
    sl_free(info->groups[i].group);
    sl_free(info->groups[i].committed);
  }
  sl_free(info->groups);
  memset(info, 0, sizeof *info);
}

int sl_log_topic_name_check(const char *topic, struct sl_err *err) {
  size_t n = topic ? strlen(topic) : 0;
  if (n == 0 || n > 249)
    return sl_err_set(err, SL_EINVAL, "topic name '%s' must have 1 to 249 characters", topic ? topic : "");
  if (!strcmp(topic, ".") || !strcmp(topic, ".."))
    return sl_err_set(err, SL_EINVAL, "topic name '%s' is not allowed", topic);
  for (size_t i = 0; i < n; i++) {
    char ch = topic[i];
    int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
             ch == '_' || ch == '-';
    if (!ok)
      return sl_err_set(err, SL_EINVAL,
                        "topic name '%s' has '%c' at position %zu; use only letters, digits, '.', '_' and '-'",
                        topic, ch, i + 1);
  }
  return 0;
}

/* Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), in unsigned arithmetic. */
static uint32_t murmur2(const unsigned char *d, size_t len) {
  const uint32_t m = 0x5bd1e995u;
  uint32_t h = 0x9747b28cu ^ (uint32_t)len;
  size_t n4 = len / 4;
  for (size_t i = 0; i < n4; i++) {
    const unsigned char *p = d + i * 4;
    uint32_t k = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    k *= m;
    k ^= k >> 24;
    k *= m;
    h *= m;
    h ^= k;
  }
  const unsigned char *t = d + n4 * 4;
  switch (len & 3) {
  case 3: h ^= (uint32_t)t[2] << 16; /* fall through */
  case 2: h ^= (uint32_t)t[1] << 8;  /* fall through */
  case 1:
    h ^= t[0];
    h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

int32_t sl_log_partition_for_key(const void *key, size_t len, int32_t n_parts) {
  if (n_parts <= 1) return 0;
  return (int32_t)((murmur2(key, len) & 0x7fffffffu) % (uint32_t)n_parts);
}
