/* log.h: topics. A topic has partitions; a partition is an ordered, durable sequence of
 * records addressed by offset. Two backends sit behind struct sl_log_ops: the embedded
 * segment log (a folder; src/log/log_seg*.c) and Apache Kafka through librdkafka
 * (src/kafka/kafka.c). Callers never know which one they hold.
 *
 * Durability contract (what CDC relies on): sl_log_produce only queues; sl_log_flush
 * returns 0 only when every record queued before it is durable (embedded: fsynced per
 * the durability setting; Kafka: acknowledged by the brokers with acks=all) and fills
 * each record's offset. A record is "acknowledged" when the flush that covers it
 * returned 0. A failed flush means some records may not be durable: the caller must
 * not confirm anything it queued since its last successful flush.
 *
 * Threads: one struct sl_log may be shared by many producer threads (produce and flush
 * are thread-safe); a consumer is used by one thread at a time. */
#ifndef SL_LOG_LOG_H
#define SL_LOG_LOG_H

#include "core/config.h"
#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

/* The `log:` section of sluice.yaml. */
struct sl_log_cfg {
  char *url;            /* a folder (relative to the project) or kafka://host:port,host:port */
  int durability;       /* enum sl_log_durability */
  int64_t fsync_interval_ms; /* SL_LOG_FSYNC_INTERVAL: fsync at most this often */
  int64_t segment_bytes;     /* roll a new segment file past this size */
  int64_t index_interval_bytes; /* one sparse index entry per this many bytes */
  int64_t retention_ms;      /* default for new topics; -1 keeps forever */
  int64_t retention_bytes;   /* per partition; -1 unbounded */
  int64_t default_partitions;
  struct sl_strlist kafka_props; /* "key=value" librdkafka properties (sasl, ssl, ...) */
};
extern const struct sl_cfg_section sl_log_section;

enum sl_log_durability {
  SL_LOG_FSYNC_BATCH,    /* every flush fsyncs (group commit: one fsync per batch) */
  SL_LOG_FSYNC_INTERVAL, /* fsync every fsync_interval_ms; flush waits for it */
  SL_LOG_FSYNC_NONE      /* leave it to the OS (tests, scratch topics) */
};

struct sl_log_header {
  const char *name;
  const void *value;
  size_t len;
};

/* A record to produce. partition < 0 picks by key (murmur2, the Java client's
 * partitioner, so keys land where Kafka clients put them); without a key the embedded log
 * goes round-robin and Kafka picks a random partition (librdkafka's murmur2_random).
 * ts_ms <= 0 means now. key == NULL means no key (distinct from an empty key). */
struct sl_log_msg {
  int32_t partition;
  int64_t ts_ms;
  const void *key;
  size_t key_len;
  const void *value;
  size_t value_len;
  const struct sl_log_header *headers;
  size_t n_headers;
};

/* Every backend's consumer struct begins with this, so the wrappers find the ops. */
struct sl_log_consumer_head {
  struct sl_log *log;
};

/* A consumed record. Pointers stay valid until the next poll or close on that consumer. */
struct sl_log_record {
  const char *topic;
  int32_t partition;
  int64_t offset;
  int64_t ts_ms;
  const void *key; /* NULL: no key */
  size_t key_len;
  const void *value;
  size_t value_len;
  const struct sl_log_header *headers;
  size_t n_headers;
};

struct sl_log_topic_conf {
  int32_t partitions;     /* <= 0: the log's default */
  int64_t retention_ms;   /* 0: the log's default; -1 forever */
  int64_t retention_bytes; /* 0: the log's default; -1 unbounded */
};

struct sl_log_partition_info {
  int32_t partition;
  int64_t start_offset; /* first offset still held (after retention) */
  int64_t end_offset;   /* next offset to be written ("high watermark") */
  int64_t bytes;        /* on disk, where known; -1 otherwise */
};

struct sl_log_group_lag {
  char *group;
  int64_t *committed; /* per partition, -1 when the group has committed nothing there */
  int64_t lag;        /* sum over partitions of end_offset - committed (or - start) */
};

struct sl_log_topic_info {
  char *name;
  struct sl_log_topic_conf conf;
  struct sl_log_partition_info *parts;
  int32_t n_parts;
  struct sl_log_group_lag *groups; /* consumer groups with offsets on this topic */
  size_t n_groups;
};
void sl_log_topic_info_fini(struct sl_log_topic_info *info);

/* Where a consumer starts in a partition it has no committed offset for (or always,
 * when it has no group). */
enum sl_log_from { SL_LOG_FROM_BEGINNING, SL_LOG_FROM_END, SL_LOG_FROM_OFFSET, SL_LOG_FROM_TIME };

struct sl_log_consumer_conf {
  const char *group;        /* NULL: no group, nothing committed */
  const char *const *topics;
  size_t n_topics;
  int from;                 /* enum sl_log_from, when nothing is committed */
  int64_t from_value;       /* the offset or the time (ms since epoch) */
};

struct sl_log;
struct sl_log_consumer;

struct sl_log_ops {
  const char *name; /* "embedded", "kafka" */
  int (*open)(struct sl_log *log, const char *url, const struct sl_log_cfg *cfg, struct sl_err *err);
  void (*close)(struct sl_log *log);
  int (*topic_create)(struct sl_log *log, const char *topic, const struct sl_log_topic_conf *conf,
                      struct sl_err *err);
  int (*topic_delete)(struct sl_log *log, const char *topic, struct sl_err *err);
  int (*topic_list)(struct sl_log *log, char ***names, size_t *n, struct sl_err *err);
  int (*topic_describe)(struct sl_log *log, const char *topic, struct sl_log_topic_info *out,
                        struct sl_err *err);
  /* Queues n records; offsets[i] (if offsets is non-NULL) is filled by the next flush. */
  int (*produce)(struct sl_log *log, const char *topic, const struct sl_log_msg *msgs, size_t n,
                 int64_t *offsets, struct sl_err *err);
  int (*flush)(struct sl_log *log, int timeout_ms, struct sl_err *err);
  int (*consumer_open)(struct sl_log *log, const struct sl_log_consumer_conf *conf,
                       struct sl_log_consumer **out, struct sl_err *err);
  void (*consumer_close)(struct sl_log_consumer *c);
  /* 1: *rec holds a record; 0: nothing arrived within timeout_ms; < 0: error. */
  int (*consumer_poll)(struct sl_log_consumer *c, int timeout_ms, struct sl_log_record *rec, struct sl_err *err);
  int (*consumer_seek)(struct sl_log_consumer *c, const char *topic, int32_t partition, int64_t offset,
                       struct sl_err *err);
  /* First offset whose timestamp is >= ts_ms, per partition (end offset if none). */
  int (*offsets_for_time)(struct sl_log *log, const char *topic, int64_t ts_ms, int64_t *offsets,
                          int32_t n_parts, struct sl_err *err);
  /* Commits, for the consumer's group, the position after every record polled so far. */
  int (*consumer_commit)(struct sl_log_consumer *c, struct sl_err *err);
};

struct sl_log {
  const struct sl_log_ops *ops;
  struct sl_log_cfg cfg; /* the caller's settings (strings borrowed), or defaults we own */
  int owns_cfg;
  void *impl;
};

extern const struct sl_log_ops sl_log_embedded_ops;
extern const struct sl_log_ops sl_log_kafka_ops;

/* Opens the log at url: "kafka://..." selects Kafka, anything else is a folder path
 * (absolute, or relative to the current folder). cfg may be NULL for defaults. */
int sl_log_open(const char *url, const struct sl_log_cfg *cfg, struct sl_log **out, struct sl_err *err);
void sl_log_close(struct sl_log *log);

int sl_log_topic_create(struct sl_log *log, const char *topic, const struct sl_log_topic_conf *conf,
                        struct sl_err *err);
int sl_log_topic_delete(struct sl_log *log, const char *topic, struct sl_err *err);
int sl_log_topic_list(struct sl_log *log, char ***names, size_t *n, struct sl_err *err);
int sl_log_topic_describe(struct sl_log *log, const char *topic, struct sl_log_topic_info *out,
                          struct sl_err *err);
int sl_log_produce(struct sl_log *log, const char *topic, const struct sl_log_msg *msgs, size_t n,
                   int64_t *offsets, struct sl_err *err);
int sl_log_flush(struct sl_log *log, int timeout_ms, struct sl_err *err);
int sl_log_consumer_open(struct sl_log *log, const struct sl_log_consumer_conf *conf,
                         struct sl_log_consumer **out, struct sl_err *err);
void sl_log_consumer_close(struct sl_log_consumer *c);
int sl_log_consumer_poll(struct sl_log_consumer *c, int timeout_ms, struct sl_log_record *rec,
                         struct sl_err *err);
int sl_log_consumer_seek(struct sl_log_consumer *c, const char *topic, int32_t partition, int64_t offset,
                         struct sl_err *err);
int sl_log_consumer_commit(struct sl_log_consumer *c, struct sl_err *err);
int sl_log_offsets_for_time(struct sl_log *log, const char *topic, int64_t ts_ms, int64_t *offsets,
                            int32_t n_parts, struct sl_err *err);

/* Topic names: 1-249 of [A-Za-z0-9._-], not "." or ".." (Kafka's rule). */
int sl_log_topic_name_check(const char *topic, struct sl_err *err);
/* Kafka's murmur2 partitioner: (murmur2(key) & 0x7fffffff) % n. */
int32_t sl_log_partition_for_key(const void *key, size_t len, int32_t n_parts);

#endif
