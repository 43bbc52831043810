/* kafka_consumer.c: consumers of the Kafka backend, one librdkafka KafkaConsumer each.
 *
 * With a group: subscribe, so the group coordinator spreads partitions over the
 * group's members. Commits are manual (enable.auto.commit=false,
 * enable.auto.offset.store=false): every polled record stores the position after it,
 * and sl_log_consumer_commit commits what is stored, synchronously. A partition the
 * group has nothing committed for starts per conf->from: beginning / end through
 * auto.offset.reset; an offset or a time (offsets_for_times) through the rebalance
 * callback, which asks the group's committed offsets and sets the start of the
 * partitions without one before assigning.
 *
 * Without a group: every partition of the topics is assigned at the start position;
 * nothing is committed.
 *
 * A polled record's pointers are the librdkafka message's, kept until the next poll
 * or close. Partition EOF is not an error; lost connections are retried by librdkafka
 * and logged, not returned. */
#include "kafka/kafka_int.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct sl_kafka_consumer {
  struct sl_log_consumer_head head; /* first: the wrappers find the ops through it */
  struct sl_kafka *kf;
  struct sl_kafka_client cl;
  rd_kafka_t *rk;
  char *group; /* NULL: none */
  int from;
  int64_t from_value;
  rd_kafka_message_t *cur; /* the record last returned */
  struct sl_log_header *hdrs;
  size_t cap_hdrs;
  struct sl_err cb_err; /* an error met in the rebalance callback, returned by the next poll */
};

/* Start offsets of a topic's partitions for FROM_OFFSET / FROM_TIME. */
static int start_offsets(struct sl_kafka_consumer *kc, const char *topic, int32_t n_parts, int64_t *out,
                         struct sl_err *err) {
  if (kc->from == SL_LOG_FROM_TIME)
    return sl_kafka_offsets_for_time_rk(kc->kf, kc->rk, topic, kc->from_value, out, n_parts, err);
  for (int32_t p = 0; p < n_parts; p++)
    out[p] = kc->from == SL_LOG_FROM_OFFSET ? kc->from_value
             : kc->from == SL_LOG_FROM_END  ? RD_KAFKA_OFFSET_END
                                            : RD_KAFKA_OFFSET_BEGINNING;
  return 0;
}

/* Partitions without a committed offset get the configured start (offset or time). */
static void set_starts(struct sl_kafka_consumer *kc, rd_kafka_topic_partition_list_t *parts) {
  if (kc->from != SL_LOG_FROM_OFFSET && kc->from != SL_LOG_FROM_TIME) return;
  rd_kafka_resp_err_t e = rd_kafka_committed(kc->rk, parts, SL_KAFKA_REQUEST_MS);
  if (e) {
    sl_kafka_err_set(kc->kf, &kc->cb_err, e, "consumer group committed offsets", NULL, -1, NULL);
    return;
  }
  for (int i = 0; i < parts->cnt; i++) {
    rd_kafka_topic_partition_t *tp = &parts->elems[i];
    if (tp->offset >= 0) continue;
    int32_t n_parts;
    if (sl_kafka_topic_parts(kc->kf, "consume", tp->topic, &n_parts, &kc->cb_err)) return;
    if (tp->partition >= n_parts) n_parts = tp->partition + 1;
    int64_t *offs = sl_calloc((size_t)n_parts, sizeof *offs);
    if (!offs) {
      sl_err_set(&kc->cb_err, SL_ENOMEM, "consume: out of memory");
      return;
    }
    if (!start_offsets(kc, tp->topic, n_parts, offs, &kc->cb_err)) tp->offset = offs[tp->partition];
    sl_free(offs);
  }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
  struct sl_kafka_client *cl = opaque;
  struct sl_kafka_consumer *kc = (struct sl_kafka_consumer *)((char *)cl - offsetof(struct sl_kafka_consumer, cl));
  int coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
  if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    set_starts(kc, parts);
    if (coop) {
      rd_kafka_error_t *er = rd_kafka_incremental_assign(rk, parts);
      if (er) rd_kafka_error_destroy(er);
    } else {
      rd_kafka_assign(rk, parts);
    }
  } else if (coop) {
    rd_kafka_error_t *er = rd_kafka_incremental_unassign(rk, parts);
    if (er) rd_kafka_error_destroy(er);
  } else {
    rd_kafka_assign(rk, NULL);
  }
}

static void consumer_free(struct sl_kafka_consumer *kc) {
  if (kc->cur) rd_kafka_message_destroy(kc->cur);
  if (kc->rk) {
    rd_kafka_consumer_close(kc->rk);
    rd_kafka_destroy(kc->rk);
  }
  sl_kafka_client_fini(&kc->cl);
  sl_free(kc->group);
  sl_free(kc->hdrs);
  sl_free(kc);
}

int sl_kafka_consumer_open(struct sl_log *log, const struct sl_log_consumer_conf *conf,
                           struct sl_log_consumer **out, struct sl_err *err) {
  struct sl_kafka *kf = sl_kafka_of(log);
  *out = NULL;
  if (conf->n_topics == 0) return sl_err_set(err, SL_EINVAL, "consume: no topic given");
  if (conf->group && !*conf->group) return sl_err_set(err, SL_EINVAL, "consume: the group name is empty");
  for (size_t i = 0; i < conf->n_topics; i++) {
    int32_t n;
    int rc = sl_kafka_topic_parts(kf, "consume", conf->topics[i], &n, err);
    if (rc) return rc;
  }
  struct sl_kafka_consumer *kc = sl_calloc(1, sizeof *kc);
  if (!kc) return sl_err_set(err, SL_ENOMEM, "consume: out of memory");
  kc->head.log = log;
  kc->kf = kf;
  kc->from = conf->from;
  kc->from_value = conf->from_value;
  sl_kafka_client_init(&kc->cl, kf);
  int rc = 0;
  if (conf->group && !(kc->group = sl_strdup(conf->group))) {
    rc = sl_err_set(err, SL_ENOMEM, "consume: out of memory");
    goto out_free;
  }
  const char *reset = conf->from == SL_LOG_FROM_END ? "latest" : "earliest";
  /* librdkafka's consumer wants a group.id even to assign partitions by hand; a consumer
   * without a group gets a private one that never joins, subscribes or commits. */
  char own_group[64] = "sluice-private-";
  if (!kc->group && sl_uuid_v4(own_group + 15)) {
    rc = sl_err_set(err, SL_EIO, "consume: cannot make a private group id (/dev/urandom)");
    goto out_free;
  }
  const char *forced[] = {"enable.auto.commit", "false", "enable.auto.offset.store", "false",
                          "auto.offset.reset", reset, "group.id", kc->group ? kc->group : own_group, NULL};
  rd_kafka_conf_t *rconf;
  rc = sl_kafka_conf_new(kf, forced, &rconf, err);
  if (rc) goto out_free;
  sl_kafka_conf_set_callbacks(rconf, &kc->cl);
  if (kc->group) rd_kafka_conf_set_rebalance_cb(rconf, on_rebalance);
  char es[512];
  kc->rk = rd_kafka_new(RD_KAFKA_CONSUMER, rconf, es, sizeof es);
  if (!kc->rk) {
    rd_kafka_conf_destroy(rconf);
    rc = sl_err_set(err, SL_ECONFIG, "consume on %s: cannot create the consumer: %s", kf->url, es);
    goto out_free;
  }
  rd_kafka_poll_set_consumer(kc->rk);

  rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new((int)conf->n_topics);
  for (size_t i = 0; i < conf->n_topics && !rc; i++) {
    if (kc->group) {
      rd_kafka_topic_partition_list_add(tl, conf->topics[i], RD_KAFKA_PARTITION_UA);
      continue;
    }
    int32_t n;
    rc = sl_kafka_topic_parts(kf, "consume", conf->topics[i], &n, err);
    int64_t *offs = rc ? NULL : sl_calloc((size_t)(n > 0 ? n : 1), sizeof *offs);
    if (!rc && !offs) rc = sl_err_set(err, SL_ENOMEM, "consume: out of memory");
    if (!rc) rc = start_offsets(kc, conf->topics[i], n, offs, err);
    for (int32_t p = 0; !rc && p < n; p++) rd_kafka_topic_partition_list_add(tl, conf->topics[i], p)->offset = offs[p];
    sl_free(offs);
  }
  if (!rc) {
    rd_kafka_resp_err_t e = kc->group ? rd_kafka_subscribe(kc->rk, tl) : rd_kafka_assign(kc->rk, tl);
    if (e) rc = sl_kafka_err_set(kf, err, e, kc->group ? "subscribe" : "assign", conf->topics[0], -1, NULL);
  }
  rd_kafka_topic_partition_list_destroy(tl);
  if (rc) goto out_free;
  if (kc->group) sl_kafka_group_note(kf, kc->group);
  *out = (struct sl_log_consumer *)kc;
  return 0;
out_free:
  consumer_free(kc);
  return rc;
}

void sl_kafka_consumer_close(struct sl_log_consumer *c) {
  if (c) consumer_free((struct sl_kafka_consumer *)c);
}

/* 1: a record; 0: skip it and poll on; < 0: an error. */
static int message_error(struct sl_kafka_consumer *kc, const rd_kafka_message_t *m, struct sl_err *err) {
  const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : NULL;
  switch (m->err) {
  case RD_KAFKA_RESP_ERR__PARTITION_EOF: return 0;
  case RD_KAFKA_RESP_ERR__TRANSPORT:
  case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
  case RD_KAFKA_RESP_ERR__RESOLVE: {
    char why[256];
    snprintf(why, sizeof why, "%s", rd_kafka_err2str(m->err));
    sl_log(SL_LOG_WARN, "kafka", "consumer lost its brokers; librdkafka reconnects", "bootstrap", kc->kf->bootstrap,
           "error", why, NULL);
    return 0;
  }
  default: break;
  }
  char detail[512] = "";
  if (m->err != RD_KAFKA_RESP_ERR__FATAL && m->payload && m->len)
    snprintf(detail, sizeof detail, "%.*s", (int)m->len, (const char *)m->payload);
  if (m->err == RD_KAFKA_RESP_ERR__FATAL) rd_kafka_fatal_error(kc->rk, detail, sizeof detail);
  return sl_kafka_err_set(kc->kf, err, m->err, "consume", topic, topic ? m->partition : -1, detail);
}

int sl_kafka_consumer_poll(struct sl_log_consumer *c, int timeout_ms, struct sl_log_record *rec,
                           struct sl_err *err) {
  struct sl_kafka_consumer *kc = (struct sl_kafka_consumer *)c;
  if (kc->cur) {
    rd_kafka_message_destroy(kc->cur);
    kc->cur = NULL;
  }
  int64_t deadline = sl_time_mono_ns() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000;
  for (;;) {
    if (kc->cb_err.code) {
      int rc = sl_err_set(err, kc->cb_err.code, "%s", kc->cb_err.msg);
      sl_err_clear(&kc->cb_err);
      return rc;
    }
    int64_t left = (deadline - sl_time_mono_ns()) / 1000000;
    rd_kafka_message_t *m = rd_kafka_consumer_poll(kc->rk, left > 0 ? (int)left : 0);
    if (!m) {
      if (sl_time_mono_ns() >= deadline) return 0;
      continue;
    }
    if (m->err) {
      int rc = message_error(kc, m, err);
      rd_kafka_message_destroy(m);
      if (rc) return rc;
      if (sl_time_mono_ns() >= deadline) return 0;
      continue;
    }
    if (kc->group) {
      /* stores m->offset + 1, the position after this record, for the next commit */
      rd_kafka_resp_err_t e = rd_kafka_offset_store(m->rkt, m->partition, m->offset);
      if (e && e != RD_KAFKA_RESP_ERR__STATE) { /* __STATE: revoked meanwhile, nothing to store */
        int rc = sl_kafka_err_set(kc->kf, err, e, "store offset", rd_kafka_topic_name(m->rkt), m->partition, NULL);
        rd_kafka_message_destroy(m);
        return rc;
      }
    }
    size_t nh = 0;
    rd_kafka_headers_t *hs = NULL;
    if (rd_kafka_message_headers(m, &hs) == RD_KAFKA_RESP_ERR_NO_ERROR) nh = rd_kafka_header_cnt(hs);
    if (nh > kc->cap_hdrs && sl_array_grow(&kc->hdrs, &kc->cap_hdrs, nh, sizeof *kc->hdrs)) {
      rd_kafka_message_destroy(m);
      return sl_err_set(err, SL_ENOMEM, "consume: out of memory for %zu headers", nh);
    }
    for (size_t i = 0; i < nh; i++) {
      const char *name;
      const void *val;
      size_t size;
      rd_kafka_header_get_all(hs, i, &name, &val, &size);
      kc->hdrs[i] = (struct sl_log_header){name, val, val ? size : 0};
    }
    rd_kafka_timestamp_type_t tst;
    int64_t ts = rd_kafka_message_timestamp(m, &tst);
    *rec = (struct sl_log_record){
        .topic = rd_kafka_topic_name(m->rkt),
        .partition = m->partition,
        .offset = m->offset,
        .ts_ms = ts,
        .key = m->key,
        .key_len = m->key ? m->key_len : 0,
        .value = m->payload,
        .value_len = m->payload ? m->len : 0,
        .headers = nh ? kc->hdrs : NULL,
        .n_headers = nh,
    };
    kc->cur = m;
    return 1;
  }
}

int sl_kafka_consumer_seek(struct sl_log_consumer *c, const char *topic, int32_t partition, int64_t offset,
                           struct sl_err *err) {
  struct sl_kafka_consumer *kc = (struct sl_kafka_consumer *)c;
  if (offset < 0) return sl_err_set(err, SL_EINVAL, "seek topic %s partition %d: offset %lld is negative", topic,
                                    (int)partition, (long long)offset);
  rd_kafka_topic_partition_list_t *pl = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(pl, topic, partition)->offset = offset;
  rd_kafka_error_t *er = rd_kafka_seek_partitions(kc->rk, pl, SL_KAFKA_REQUEST_MS);
  int rc = 0;
  if (er) {
    rc = sl_kafka_err_set(kc->kf, err, rd_kafka_error_code(er), "seek", topic, partition, rd_kafka_error_string(er));
    rd_kafka_error_destroy(er);
  } else if (pl->elems[0].err) {
    rd_kafka_resp_err_t e = pl->elems[0].err;
    if (e == RD_KAFKA_RESP_ERR__STATE || e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
      rc = sl_err_set(err, SL_EINVAL,
                      "seek topic %s partition %d: the partition is not assigned to this consumer%s; poll until "
                      "the group assigns it, or consume without a group",
                      topic, (int)partition, kc->group ? " (yet)" : "");
    else
      rc = sl_kafka_err_set(kc->kf, err, e, "seek", topic, partition, NULL);
  }
  rd_kafka_topic_partition_list_destroy(pl);
  return rc;
}

int sl_kafka_consumer_commit(struct sl_log_consumer *c, struct sl_err *err) {
  struct sl_kafka_consumer *kc = (struct sl_kafka_consumer *)c;
  if (!kc->group)
    return sl_err_set(err, SL_EINVAL, "commit: this consumer has no group, so it has nothing to commit; "
                                      "consume with a group to keep positions");
  rd_kafka_resp_err_t e = rd_kafka_commit(kc->rk, NULL, 0);
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR__NO_OFFSET) return 0;
  int rc = sl_kafka_err_set(kc->kf, err, e, "commit", NULL, -1, NULL);
  sl_err_prefix(err, "group %s: ", kc->group);
  return rc;
}
