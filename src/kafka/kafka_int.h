/* kafka_int.h: what the files of the Kafka backend share. One struct sl_kafka per
 * open log (struct sl_log.impl) holds the producer handle, which also serves metadata,
 * watermark and admin requests, the delivery bookkeeping of the durability contract,
 * a cache of topic partition counts, and the consumer groups this process used.
 *
 * Only src/kafka/ calls librdkafka; its error codes become struct sl_err here, once,
 * through sl_kafka_err_set. */
#ifndef SL_KAFKA_INT_H
#define SL_KAFKA_INT_H

#include "kafka/kafka.h"
#include "log/log.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdint.h>

/* How long metadata, admin and watermark requests may take before we give up. */
#define SL_KAFKA_REQUEST_MS 10000

struct sl_kafka_topic {
  char *name;
  int32_t n_parts;
};

/* The opaque of every librdkafka handle we create: connection state its error
 * callback saw. The producer's lives in struct sl_kafka, a consumer's in the consumer. */
struct sl_kafka_client {
  struct sl_kafka *kf;
  pthread_mutex_t mu;
  int all_down;         /* every broker was down at the last error callback */
  int auth_failed;      /* an authentication or TLS error was reported */
  char conn_error[256]; /* the last connection-level error (no secrets: librdkafka's text) */
  char fatal_error[512]; /* set once the handle hit a fatal error */
};
void sl_kafka_client_init(struct sl_kafka_client *cl, struct sl_kafka *kf);
void sl_kafka_client_fini(struct sl_kafka_client *cl);
/* Copies the last connection error (or "") into buf. */
void sl_kafka_client_conn_error(struct sl_kafka_client *cl, char *buf, size_t cap);

/* One produce call's records that want their offsets. The caller's array is written
 * only while the batch is attached: the flush that covers it (in the producing thread)
 * detaches it before returning, so a caller may reuse the array after any flush, even
 * one that timed out with records still in flight. Freed when its last record's
 * delivery report arrives. */
struct sl_kafka_batch;
struct sl_kafka_slot {
  struct sl_kafka_batch *batch;
  size_t i;
};
struct sl_kafka_batch {
  int64_t *offsets; /* the caller's */
  size_t pending;   /* records queued without a delivery report yet */
  int attached;
  int64_t seq;
  pthread_t thread;
  struct sl_kafka_batch *prev, *next;
  struct sl_kafka_slot slots[]; /* one per record: the message opaque */
};

struct sl_kafka {
  char *url;       /* "kafka://..." as given, for messages */
  char *bootstrap; /* host:port,host:port */
  struct sl_strlist props; /* the user's key=value items (borrowed from the cfg) */
  rd_kafka_t *rk;  /* the producer */
  struct sl_kafka_client pc; /* its callback state */

  pthread_mutex_t mu;
  pthread_cond_t cv;
  int64_t n_failed;            /* deliveries that failed, ever (monotonic) */
  char last_error[SL_ERR_MSG_MAX]; /* the first failure since the previous flush ended */
  int last_error_code;         /* SL_E* of last_error */
  struct sl_kafka_seen { pthread_t thread; int64_t n_failed; } *seen; /* per flushing thread: */
  size_t n_seen, cap_seen;     /* n_failed when its last flush ended */
  int64_t no_controller_until; /* mono ms: an admin request timed out waiting for the controller */

  struct sl_kafka_batch *batches; /* batches with records in flight, under mu */
  int64_t batch_seq;

  struct sl_kafka_topic *topics; /* partition counts, under mu */
  size_t n_topics, cap_topics;
  char **groups;                 /* groups consumed through this handle, under mu */
  size_t n_groups, cap_groups;
};

static inline struct sl_kafka *sl_kafka_of(struct sl_log *log) { return log->impl; }

/* Builds a librdkafka configuration: bootstrap servers, the user's properties, then
 * the settings the backend relies on (`forced`, NULL-terminated key/value pairs),
 * refusing a user property that contradicts one of them. Callbacks are set by the
 * caller. */
int sl_kafka_conf_new(struct sl_kafka *kf, const char *const *forced, rd_kafka_conf_t **out,
                      struct sl_err *err);
/* Routes librdkafka's log lines to sl_log and its global errors into cl (which becomes
 * the handle's opaque). */
void sl_kafka_conf_set_callbacks(rd_kafka_conf_t *conf, struct sl_kafka_client *cl);

/* Turns a librdkafka error into a message that names the cluster, the topic and
 * partition (topic may be NULL, partition < 0 for none) and says what to do. `what`
 * names the operation ("produce", "describe"). Returns the SL_E* code. */
int sl_kafka_err_set(struct sl_kafka *kf, struct sl_err *err, rd_kafka_resp_err_t code, const char *what,
                     const char *topic, int32_t partition, const char *detail);
/* The message for a topic that does not exist (SL_ENOTFOUND). */
int sl_kafka_err_no_topic(struct sl_kafka *kf, struct sl_err *err, const char *what, const char *topic);

/* Partition count of topic from the cluster's metadata (cached); SL_ENOTFOUND with
 * the "create it" message when it does not exist. Thread-safe. */
int sl_kafka_topic_parts(struct sl_kafka *kf, const char *what, const char *topic, int32_t *n_parts,
                         struct sl_err *err);
void sl_kafka_topic_forget(struct sl_kafka *kf, const char *topic);
/* Waits until the cluster answers a metadata request (or the deadline passes, or every
 * broker is down); the error names the bootstrap servers. */
int sl_kafka_wait_cluster(struct sl_kafka *kf, rd_kafka_t *rk, struct sl_kafka_client *cl, int timeout_ms,
                          struct sl_err *err);
/* Remembers a consumer group used through this handle (describe falls back on these
 * when the cluster cannot list groups). */
void sl_kafka_group_note(struct sl_kafka *kf, const char *group);

/* Admin operations (kafka_admin.c) and the consumer (kafka_consumer.c). */
int sl_kafka_topic_create(struct sl_log *log, const char *topic, const struct sl_log_topic_conf *conf,
                          struct sl_err *err);
int sl_kafka_topic_delete(struct sl_log *log, const char *topic, struct sl_err *err);
int sl_kafka_topic_list(struct sl_log *log, char ***names, size_t *n, struct sl_err *err);
int sl_kafka_topic_describe(struct sl_log *log, const char *topic, struct sl_log_topic_info *out,
                            struct sl_err *err);
int sl_kafka_offsets_for_time(struct sl_log *log, const char *topic, int64_t ts_ms, int64_t *offsets,
                              int32_t n_parts, struct sl_err *err);
/* Same lookup on any handle (the consumer's start position uses its own). */
int sl_kafka_offsets_for_time_rk(struct sl_kafka *kf, rd_kafka_t *rk, const char *topic, int64_t ts_ms,
                                 int64_t *offsets, int32_t n_parts, struct sl_err *err);

int sl_kafka_consumer_open(struct sl_log *log, const struct sl_log_consumer_conf *conf,
                           struct sl_log_consumer **out, struct sl_err *err);
void sl_kafka_consumer_close(struct sl_log_consumer *c);
int sl_kafka_consumer_poll(struct sl_log_consumer *c, int timeout_ms, struct sl_log_record *rec,
                           struct sl_err *err);
int sl_kafka_consumer_seek(struct sl_log_consumer *c, const char *topic, int32_t partition, int64_t offset,
                           struct sl_err *err);
int sl_kafka_consumer_commit(struct sl_log_consumer *c, struct sl_err *err);

#endif
