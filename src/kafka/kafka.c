/* kafka.c: the Apache Kafka backend of the topics log (sl_log_kafka_ops), on
 * librdkafka. This file opens and closes the backend and holds the producer; the
 * admin requests are in kafka_admin.c, the consumer in kafka_consumer.c, the URL,
 * properties and error messages in kafka_conf.c.
 *
 * Durability (log.h's contract, which CDC relies on): the producer is idempotent with
 * acks=all, so a record the brokers acknowledged is in every in-sync replica, exactly
 * once and in order per partition. produce only queues (rd_kafka_producev); flush
 * waits until every queued record has its delivery report (rd_kafka_flush returns
 * only after the reports were served) and fails if any record failed since this
 * thread's previous flush ended: each delivery failure bumps n_failed, and a thread
 * whose flush sees n_failed above what it saw at its previous flush (or at its first
 * produce) fails, naming the topic,
 * partition and broker error of the first failure. That may fail a flush for another
 * thread's record (harmless: the caller retries), never succeed one past a failure.
 * Offsets reach the caller's array through struct sl_kafka_batch, which the flush that
 * covers a batch detaches, so an array is never written after that flush returned
 * (records still in flight after a timed-out flush keep -1 there).
 *
 * Partitioning: librdkafka's murmur2_random partitioner is the Java client's murmur2
 * (sl_log_partition_for_key computes the same), so keyed records land where Kafka
 * clients put them; records without a key go to a random partition. */
#include "kafka/kafka_int.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

#include <stdio.h>
#include <string.h>

/* Settings the producer's guarantees rest on; a user property may not change them. */
static const char *const producer_forced[] = {"enable.idempotence", "true", "acks", "all",
                                              "partitioner", "murmur2_random", NULL};

static void batch_unlink(struct sl_kafka *kf, struct sl_kafka_batch *b) {
  if (b->prev) b->prev->next = b->next;
  else kf->batches = b->next;
  if (b->next) b->next->prev = b->prev;
}

/* Under kf->mu: n records of b will get no delivery report (or just got theirs). */
static void batch_done(struct sl_kafka *kf, struct sl_kafka_batch *b, size_t n) {
  b->pending -= n;
  if (b->pending == 0) {
    batch_unlink(kf, b);
    sl_free(b);
  }
}

/* Delivery report, served by rd_kafka_poll/flush in whichever thread calls them. The
 * per-message opaque is the record's slot in its batch (or NULL: no offsets wanted). */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  struct sl_kafka_client *cl = opaque;
  struct sl_kafka *kf = cl->kf;
  struct sl_kafka_slot *slot = m->_private;
  if (slot) {
    pthread_mutex_lock(&kf->mu);
    struct sl_kafka_batch *b = slot->batch;
    if (b->attached) b->offsets[slot->i] = m->err ? -1 : m->offset;
    batch_done(kf, b, 1);
    pthread_mutex_unlock(&kf->mu);
  }
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "?";
  pthread_mutex_lock(&kf->mu);
  kf->n_failed++;
  if (!kf->last_error[0]) {
    struct sl_err e = {0};
    sl_kafka_err_set(kf, &e, m->err, "produce", topic, m->partition, NULL);
    snprintf(kf->last_error, sizeof kf->last_error, "%s", e.msg);
    kf->last_error_code = e.code;
  }
  pthread_mutex_unlock(&kf->mu);
}

static void kafka_free(struct sl_kafka *kf) {
  if (!kf) return;
  if (kf->rk) {
    pthread_mutex_lock(&kf->mu);
    for (struct sl_kafka_batch *b = kf->batches; b; b = b->next) b->attached = 0;
    pthread_mutex_unlock(&kf->mu);
    rd_kafka_destroy(kf->rk); /* purges what is left; its reports free their batches */
  }
  while (kf->batches) {
    struct sl_kafka_batch *b = kf->batches;
    batch_unlink(kf, b);
    sl_free(b);
  }
  for (size_t i = 0; i < kf->n_topics; i++) sl_free(kf->topics[i].name);
  sl_free(kf->topics);
  for (size_t i = 0; i < kf->n_groups; i++) sl_free(kf->groups[i]);
  sl_free(kf->groups);
  sl_free(kf->url);
  sl_free(kf->bootstrap);
  sl_free(kf->seen);
  pthread_mutex_destroy(&kf->mu);
  pthread_cond_destroy(&kf->cv);
  sl_kafka_client_fini(&kf->pc);
  sl_free(kf);
}

static int kafka_open(struct sl_log *log, const char *url, const struct sl_log_cfg *cfg, struct sl_err *err) {
  char *bootstrap;
  int rc = sl_kafka_url_parse(url, &bootstrap, err);
  if (rc) return rc;
  struct sl_kafka *kf = sl_calloc(1, sizeof *kf);
  char *u = sl_strdup(url);
  if (!kf || !u) {
    sl_free(kf);
    sl_free(u);
    sl_free(bootstrap);
    return sl_err_set(err, SL_ENOMEM, "kafka: out of memory");
  }
  kf->url = u;
  kf->bootstrap = bootstrap;
  kf->props = cfg->kafka_props;
  pthread_mutex_init(&kf->mu, NULL);
  pthread_cond_init(&kf->cv, NULL);
  sl_kafka_client_init(&kf->pc, kf);

  rd_kafka_conf_t *conf;
  rc = sl_kafka_conf_new(kf, producer_forced, &conf, err);
  if (rc) goto out_free;
  sl_kafka_conf_set_callbacks(conf, &kf->pc);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  char es[512];
  kf->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof es);
  if (!kf->rk) {
    rd_kafka_conf_destroy(conf);
    rc = sl_err_set(err, SL_ECONFIG, "kafka %s: cannot create the producer: %s", url, es);
    goto out_free;
  }
  rc = sl_kafka_wait_cluster(kf, kf->rk, &kf->pc, SL_KAFKA_REQUEST_MS, err);
  if (rc) goto out_free;
  log->impl = kf;
  sl_log(SL_LOG_INFO, "kafka", "connected", "bootstrap", kf->bootstrap, NULL);
  return 0;
out_free:
  kafka_free(kf);
  return rc;
}

static void kafka_close(struct sl_log *log) {
  struct sl_kafka *kf = sl_kafka_of(log);
  if (!kf) return;
  /* Records still queued get their chance; none of them was acknowledged to anyone. */
  if (rd_kafka_flush(kf->rk, SL_KAFKA_REQUEST_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    char n[32];
    snprintf(n, sizeof n, "%d", rd_kafka_outq_len(kf->rk));
    sl_log(SL_LOG_WARN, "kafka", "closing with records not delivered", "records", n, NULL);
  }
  kafka_free(kf);
  log->impl = NULL;
}

static int fatal_check(struct sl_kafka *kf, struct sl_err *err) {
  char why[512];
  pthread_mutex_lock(&kf->pc.mu);
  snprintf(why, sizeof why, "%s", kf->pc.fatal_error);
  pthread_mutex_unlock(&kf->pc.mu);
  if (!why[0]) return 0;
  return sl_err_set(err, SL_EIO,
                    "produce on %s: the idempotent producer stopped on a fatal error (%s); nothing after the last "
                    "successful flush is acknowledged; close and reopen the log",
                    kf->url, why);
}

/* This thread's count of failures already reported to it, under kf->mu; a thread met
 * for the first time (its first produce) starts at the current count, as failures
 * before that cannot be its records'. NULL when out of memory. */
static int64_t *seen_slot(struct sl_kafka *kf) {
  pthread_t self = pthread_self();
  for (size_t t = 0; t < kf->n_seen; t++)
    if (pthread_equal(kf->seen[t].thread, self)) return &kf->seen[t].n_failed;
  if (sl_array_grow(&kf->seen, &kf->cap_seen, kf->n_seen + 1, sizeof *kf->seen)) return NULL;
  kf->seen[kf->n_seen] = (struct sl_kafka_seen){self, kf->n_failed};
  return &kf->seen[kf->n_seen++].n_failed;
}

static int kafka_produce(struct sl_log *log, const char *topic, const struct sl_log_msg *msgs, size_t n,
                         int64_t *offsets, struct sl_err *err) {
  struct sl_kafka *kf = sl_kafka_of(log);
  int rc = fatal_check(kf, err);
  if (rc) return rc;
  pthread_mutex_lock(&kf->mu);
  int64_t *seen = seen_slot(kf);
  pthread_mutex_unlock(&kf->mu);
  if (!seen) return sl_err_set(err, SL_ENOMEM, "produce: out of memory");
  int32_t n_parts;
  rc = sl_kafka_topic_parts(kf, "produce", topic, &n_parts, err);
  if (rc) return rc;
  struct sl_kafka_batch *b = NULL;
  if (offsets && n) {
    b = sl_calloc(1, sizeof *b + n * sizeof b->slots[0]);
    if (!b) return sl_err_set(err, SL_ENOMEM, "produce topic %s: out of memory for %zu records", topic, n);
    b->offsets = offsets;
    b->pending = n;
    b->attached = 1;
    b->thread = pthread_self();
    for (size_t i = 0; i < n; i++) {
      b->slots[i] = (struct sl_kafka_slot){b, i};
      offsets[i] = -1;
    }
    pthread_mutex_lock(&kf->mu);
    b->seq = kf->batch_seq++;
    b->next = kf->batches;
    if (b->next) b->next->prev = b;
    kf->batches = b;
    pthread_mutex_unlock(&kf->mu);
  }
  size_t i;
  for (i = 0; i < n; i++) {
    const struct sl_log_msg *m = &msgs[i];
    if (m->partition >= n_parts) {
      sl_kafka_topic_forget(kf, topic); /* it may have grown */
      rc = sl_kafka_topic_parts(kf, "produce", topic, &n_parts, err);
      if (!rc && m->partition >= n_parts)
        rc = sl_err_set(err, SL_EINVAL, "produce topic %s: partition %d does not exist on %s (it has %d)", topic,
                        (int)m->partition, kf->url, (int)n_parts);
      if (rc) goto out_unqueued;
    }
    rd_kafka_headers_t *hdrs = NULL;
    if (m->n_headers) {
      hdrs = rd_kafka_headers_new(m->n_headers);
      for (size_t h = 0; h < m->n_headers; h++)
        rd_kafka_header_add(hdrs, m->headers[h].name, -1, m->headers[h].value, (ssize_t)m->headers[h].len);
    }
    struct sl_kafka_slot *slot = b ? &b->slots[i] : NULL;
    rd_kafka_resp_err_t e;
    for (;;) {
      e = rd_kafka_producev(kf->rk, RD_KAFKA_V_TOPIC(topic),
                            RD_KAFKA_V_PARTITION(m->partition < 0 ? RD_KAFKA_PARTITION_UA : m->partition),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_VALUE((void *)m->value, m->value ? m->value_len : 0),
                            RD_KAFKA_V_KEY(m->key, m->key ? m->key_len : 0), RD_KAFKA_V_HEADERS(hdrs),
                            RD_KAFKA_V_TIMESTAMP(m->ts_ms > 0 ? m->ts_ms : 0), RD_KAFKA_V_OPAQUE(slot),
                            RD_KAFKA_V_END);
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
      rd_kafka_poll(kf->rk, 10); /* backpressure: serve delivery reports until there is room */
    }
    if (e) {
      if (hdrs) rd_kafka_headers_destroy(hdrs);
      rc = e == RD_KAFKA_RESP_ERR__FATAL ? fatal_check(kf, err) : 0;
      if (!rc) rc = sl_kafka_err_set(kf, err, e, "produce", topic, m->partition, NULL);
      goto out_unqueued;
    }
  }
  rd_kafka_poll(kf->rk, 0);
  return 0;
out_unqueued:
  /* records i.. were not queued: they will get no delivery report */
  if (b) {
    pthread_mutex_lock(&kf->mu);
    batch_done(kf, b, n - i);
    pthread_mutex_unlock(&kf->mu);
  }
  return rc;
}

static int kafka_flush(struct sl_log *log, int timeout_ms, struct sl_err *err) {
  struct sl_kafka *kf = sl_kafka_of(log);
  pthread_mutex_lock(&kf->mu);
  int64_t start_seq = kf->batch_seq;
  pthread_mutex_unlock(&kf->mu);
  rd_kafka_resp_err_t e = rd_kafka_flush(kf->rk, timeout_ms < 0 ? -1 : timeout_ms);
  pthread_mutex_lock(&kf->mu);
  int64_t *seen = seen_slot(kf);
  if (!seen) {
    pthread_mutex_unlock(&kf->mu);
    return sl_err_set(err, SL_ENOMEM, "flush: out of memory");
  }
  int failed = kf->n_failed > *seen;
  /* This thread's batches queued before the flush: after it, their arrays are the
   * caller's again (records still in flight keep -1). */
  pthread_t self = pthread_self();
  for (struct sl_kafka_batch *b = kf->batches; b; b = b->next)
    if (b->seq < start_seq && pthread_equal(b->thread, self)) b->attached = 0;
  int code = kf->last_error_code;
  char msg[sizeof kf->last_error];
  memcpy(msg, kf->last_error, sizeof msg);
  *seen = kf->n_failed;
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) kf->last_error[0] = '\0';
  pthread_mutex_unlock(&kf->mu);
  int rc = fatal_check(kf, err);
  if (rc) return rc;
  if (failed)
    return sl_err_set(err, code ? code : SL_EIO, "%s; records queued since the last successful flush are not all durable",
                      msg[0] ? msg : "produce: a record was not delivered");
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    char why[256];
    sl_kafka_client_conn_error(&kf->pc, why, sizeof why);
    return sl_err_set(err, SL_EIO,
                      "flush on %s: %d records not acknowledged after %d ms%s%s; the brokers %s are slow or "
                      "unreachable; nothing queued since the last successful flush is durable yet",
                      kf->url, rd_kafka_outq_len(kf->rk), timeout_ms, why[0] ? " (" : "", why[0] ? why : "",
                      kf->bootstrap);
  }
  return 0;
}

int sl_kafka_topic_parts(struct sl_kafka *kf, const char *what, const char *topic, int32_t *n_parts,
                         struct sl_err *err) {
  pthread_mutex_lock(&kf->mu);
  for (size_t i = 0; i < kf->n_topics; i++)
    if (!strcmp(kf->topics[i].name, topic)) {
      *n_parts = kf->topics[i].n_parts;
      pthread_mutex_unlock(&kf->mu);
      return 0;
    }
  pthread_mutex_unlock(&kf->mu);
  /* All topics, not this one: asking for one topic by name makes brokers with
   * auto.create.topics.enable create it, and an unknown topic must stay an error. */
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_resp_err_t e = rd_kafka_metadata(kf->rk, 1, NULL, &md, SL_KAFKA_REQUEST_MS);
  if (e) return sl_kafka_err_set(kf, err, e, what, topic, -1, NULL);
  int rc = 0, found = 0;
  for (int t = 0; t < md->topic_cnt; t++) {
    const struct rd_kafka_metadata_topic *mt = &md->topics[t];
    if (strcmp(mt->topic, topic)) continue;
    found = 1;
    if (mt->err) {
      rc = sl_kafka_err_set(kf, err, mt->err, what, topic, -1, NULL);
      break;
    }
    *n_parts = mt->partition_cnt;
    pthread_mutex_lock(&kf->mu);
    char *name = sl_strdup(topic);
    if (!name || sl_array_grow(&kf->topics, &kf->cap_topics, kf->n_topics + 1, sizeof *kf->topics)) {
      sl_free(name); /* the cache is only a shortcut */
    } else {
      kf->topics[kf->n_topics++] = (struct sl_kafka_topic){name, mt->partition_cnt};
    }
    pthread_mutex_unlock(&kf->mu);
    break;
  }
  rd_kafka_metadata_destroy(md);
  if (!found) return sl_kafka_err_no_topic(kf, err, what, topic);
  return rc;
}

void sl_kafka_topic_forget(struct sl_kafka *kf, const char *topic) {
  pthread_mutex_lock(&kf->mu);
  for (size_t i = 0; i < kf->n_topics; i++)
    if (!strcmp(kf->topics[i].name, topic)) {
      sl_free(kf->topics[i].name);
      kf->topics[i] = kf->topics[--kf->n_topics];
      break;
    }
  pthread_mutex_unlock(&kf->mu);
}

void sl_kafka_group_note(struct sl_kafka *kf, const char *group) {
  pthread_mutex_lock(&kf->mu);
  size_t i = 0;
  while (i < kf->n_groups && strcmp(kf->groups[i], group)) i++;
  if (i == kf->n_groups && !sl_array_grow(&kf->groups, &kf->cap_groups, kf->n_groups + 1, sizeof *kf->groups)) {
    char *g = sl_strdup(group);
    if (g) kf->groups[kf->n_groups++] = g;
  }
  pthread_mutex_unlock(&kf->mu);
}

const struct sl_log_ops sl_log_kafka_ops = {
    .name = "kafka",
    .open = kafka_open,
    .close = kafka_close,
    .topic_create = sl_kafka_topic_create,
    .topic_delete = sl_kafka_topic_delete,
    .topic_list = sl_kafka_topic_list,
    .topic_describe = sl_kafka_topic_describe,
    .produce = kafka_produce,
    .flush = kafka_flush,
    .consumer_open = sl_kafka_consumer_open,
    .consumer_close = sl_kafka_consumer_close,
    .consumer_poll = sl_kafka_consumer_poll,
    .consumer_seek = sl_kafka_consumer_seek,
    .offsets_for_time = sl_kafka_offsets_for_time,
    .consumer_commit = sl_kafka_consumer_commit,
};
