/* kafka_admin.c: topics on a Kafka cluster through librdkafka's Admin API and
 * metadata: create (partitions, retention.ms / retention.bytes as topic configs),
 * delete, list, describe (partitions with low/high watermarks, retention from
 * DescribeConfigs, consumer groups with committed offsets and lag) and offsets by time.
 *
 * Consumer groups: ListConsumerGroups finds them; clusters that do not implement
 * ListGroups (librdkafka's mock cluster) fall back on the groups this process consumed
 * with. Each group's offsets come from ListConsumerGroupOffsets (OffsetFetch).
 *
 * A cluster without a controller (the mock cluster) cannot create, delete or describe
 * configs; such a timeout is remembered for a minute (no_controller_until) so the calls
 * after it say so at once instead of waiting again. */
#include "kafka/kafka_int.h"

#include "core/mem.h"
#include "core/strs.h"
#include "core/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SL_KAFKA_CONFIGS_MS 2000 /* DescribeConfigs is a nicety of describe: do not wait long */
#define SL_KAFKA_NO_CONTROLLER_MS 60000 /* how long a controller timeout is believed */

static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op, int timeout_ms) {
  char es[256];
  rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
  if (!o) return NULL;
  rd_kafka_AdminOptions_set_request_timeout(o, timeout_ms, es, sizeof es);
  if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS)
    rd_kafka_AdminOptions_set_operation_timeout(o, timeout_ms, es, sizeof es);
  return o;
}

/* Waits for the one result event on q. */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q, int timeout_ms) {
  return rd_kafka_queue_poll(q, timeout_ms + 5000);
}

/* The error of a whole admin request, or 0. */
static int admin_event_err(struct sl_kafka *kf, rd_kafka_event_t *ev, const char *what, const char *topic,
                           struct sl_err *err) {
  if (!ev) return sl_kafka_err_set(kf, err, RD_KAFKA_RESP_ERR__TIMED_OUT, what, topic, -1, NULL);
  rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
  if (!e) return 0;
  const char *s = rd_kafka_event_error_string(ev);
  if (e == RD_KAFKA_RESP_ERR__TIMED_OUT && s && strstr(s, "controller")) {
    pthread_mutex_lock(&kf->mu);
    kf->no_controller_until = sl_time_mono_ns() / 1000000 + SL_KAFKA_NO_CONTROLLER_MS;
    pthread_mutex_unlock(&kf->mu);
    return sl_err_set(err, SL_EIO,
                      "%s topic %s on %s: no controller broker answered (%s); check the brokers, or use the "
                      "cluster's own tools (librdkafka's mock cluster has no controller: create its topics "
                      "when starting it)",
                      what, topic, kf->url, s);
  }
  return sl_kafka_err_set(kf, err, e, what, topic, -1, s);
}

/* Whether a controller wait timed out within the last SL_KAFKA_NO_CONTROLLER_MS. */
static int no_controller(struct sl_kafka *kf) {
  pthread_mutex_lock(&kf->mu);
  int64_t until = kf->no_controller_until;
  pthread_mutex_unlock(&kf->mu);
  return until && sl_time_mono_ns() / 1000000 < until;
}

static int refuse_no_controller(struct sl_kafka *kf, const char *what, const char *topic, struct sl_err *err) {
  return sl_err_set(err, SL_EIO,
                    "%s topic %s on %s: the cluster has no controller that answers admin requests (a request "
                    "timed out waiting for it in the last minute); check the brokers, or use the cluster's own "
                    "tools",
                    what, topic, kf->url);
}

int sl_kafka_topic_create(struct sl_log *log, const char *topic, const struct sl_log_topic_conf *conf,
                          struct sl_err *err) {
  struct sl_kafka *kf = sl_kafka_of(log);
  /* An existing topic is known from the metadata, without the controller (which a
   * cluster may not have, like librdkafka's mock one). */
  char **names = NULL;
  size_t n_names = 0;
  int exists = 0;
  if (sl_kafka_topic_list(log, &names, &n_names, &(struct sl_err){0}) == 0)
    for (size_t i = 0; i < n_names; i++) exists |= !strcmp(names[i], topic);
  for (size_t i = 0; i < n_names; i++) sl_free(names[i]);
  sl_free(names);
  if (exists) return sl_err_set(err, SL_EEXIST, "topic %s already exists on %s", topic, kf->url);
  if (no_controller(kf)) return refuse_no_controller(kf, "create", topic, err);
  int32_t parts = conf && conf->partitions > 0 ? conf->partitions : (int32_t)log->cfg.default_partitions;
  int64_t rms = conf && conf->retention_ms ? conf->retention_ms : log->cfg.retention_ms;
  int64_t rbytes = conf && conf->retention_bytes ? conf->retention_bytes : log->cfg.retention_bytes;
  if (parts <= 0) parts = 1;
  char es[512], v[32];
  rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, parts, -1, es, sizeof es);
  if (!nt) return sl_err_set(err, SL_EINVAL, "create topic %s on %s: %s", topic, kf->url, es);
  snprintf(v, sizeof v, "%lld", (long long)(rms == 0 ? -1 : rms));
  rd_kafka_NewTopic_set_config(nt, "retention.ms", v);
  snprintf(v, sizeof v, "%lld", (long long)(rbytes == 0 ? -1 : rbytes));
  rd_kafka_NewTopic_set_config(nt, "retention.bytes", v);
  rd_kafka_queue_t *q = rd_kafka_queue_new(kf->rk);
  rd_kafka_AdminOptions_t *o = admin_options(kf->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, SL_KAFKA_REQUEST_MS);
  rd_kafka_CreateTopics(kf->rk, &nt, 1, o, q);
  rd_kafka_event_t *ev = admin_wait(q, SL_KAFKA_REQUEST_MS);
  int rc = admin_event_err(kf, ev, "create", topic, err);
  if (!rc) {
    size_t n = 0;
    const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n && !rc; i++)
      if (rd_kafka_topic_result_error(tr[i]))
        rc = sl_kafka_err_set(kf, err, rd_kafka_topic_result_error(tr[i]), "create", topic, -1,
                              rd_kafka_topic_result_error_string(tr[i]));
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  sl_kafka_topic_forget(kf, topic);
  return rc;
}

int sl_kafka_topic_delete(struct sl_log *log, const char *topic, struct sl_err *err) {
  struct sl_kafka *kf = sl_kafka_of(log);
  int32_t parts;
  int rc = sl_kafka_topic_parts(kf, "delete", topic, &parts, err); /* a clear "does not exist" first */
  sl_kafka_topic_forget(kf, topic);
  if (rc) return rc;
  if (no_controller(kf)) return refuse_no_controller(kf, "delete", topic, err);
  rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
  rd_kafka_queue_t *q = rd_kafka_queue_new(kf->rk);
  rd_kafka_AdminOptions_t *o = admin_options(kf->rk, RD_KAFKA_ADMIN_OP_DELETETOPICS, SL_KAFKA_REQUEST_MS);
  rd_kafka_DeleteTopics(kf->rk, &dt, 1, o, q);
  rd_kafka_event_t *ev = admin_wait(q, SL_KAFKA_REQUEST_MS);
  rc = admin_event_err(kf, ev, "delete", topic, err);
  if (!rc) {
    size_t n = 0;
    const rd_kafka_topic_result_t **tr = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    for (size_t i = 0; i < n && !rc; i++)
      if (rd_kafka_topic_result_error(tr[i]))
        rc = sl_kafka_err_set(kf, err, rd_kafka_topic_result_error(tr[i]), "delete", topic, -1,
                              rd_kafka_topic_result_error_string(tr[i]));
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_DeleteTopic_destroy(dt);
  rd_kafka_queue_destroy(q);
  return rc;
}

int sl_kafka_topic_list(struct sl_log *log, char ***names, size_t *n, struct sl_err *err) {
  struct sl_kafka *kf = sl_kafka_of(log);
  *names = NULL;
  *n = 0;
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_resp_err_t e = rd_kafka_metadata(kf->rk, 1, NULL, &md, SL_KAFKA_REQUEST_MS);
  if (e) return sl_kafka_err_set(kf, err, e, "list topics", NULL, -1, NULL);
  char **v = sl_calloc((size_t)md->topic_cnt + 1, sizeof *v);
  size_t k = 0;
  int rc = v ? 0 : sl_err_set(err, SL_ENOMEM, "list topics: out of memory");
  for (int t = 0; !rc && t < md->topic_cnt; t++) {
    const char *name = md->topics[t].topic;
    if (!strncmp(name, "__", 2) || md->topics[t].err) continue; /* internal topics, vanished ones */
    if (!(v[k++] = sl_strdup(name))) rc = sl_err_set(err, SL_ENOMEM, "list topics: out of memory");
  }
  rd_kafka_metadata_destroy(md);
  if (rc) {
    for (size_t i = 0; v && i < k; i++) sl_free(v[i]);
    sl_free(v);
    return rc;
  }
  qsort(v, k, sizeof *v, sl_strs_cmp);
  *names = v;
  *n = k;
  return 0;
}

/* retention.ms and retention.bytes of the topic; left as they are when the cluster
 * does not answer DescribeConfigs (they stay 0: "not known"). */
static void describe_configs(struct sl_kafka *kf, const char *topic, struct sl_log_topic_conf *conf) {
  if (no_controller(kf)) return;
  rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
  rd_kafka_queue_t *q = rd_kafka_queue_new(kf->rk);
  rd_kafka_AdminOptions_t *o = admin_options(kf->rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, SL_KAFKA_CONFIGS_MS);
  rd_kafka_DescribeConfigs(kf->rk, &cr, 1, o, q);
  rd_kafka_event_t *ev = admin_wait(q, SL_KAFKA_CONFIGS_MS);
  struct sl_err ignored;
  if (ev && !admin_event_err(kf, ev, "describe", topic, &ignored)) {
    size_t nr = 0;
    const rd_kafka_ConfigResource_t **rs =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &nr);
    for (size_t r = 0; r < nr; r++) {
      if (rd_kafka_ConfigResource_error(rs[r])) continue;
      size_t ne = 0;
      const rd_kafka_ConfigEntry_t **es = rd_kafka_ConfigResource_configs(rs[r], &ne);
      for (size_t i = 0; i < ne; i++) {
        const char *name = rd_kafka_ConfigEntry_name(es[i]), *val = rd_kafka_ConfigEntry_value(es[i]);
        if (!val) continue;
        if (!strcmp(name, "retention.ms")) conf->retention_ms = strtoll(val, NULL, 10);
        if (!strcmp(name, "retention.bytes")) conf->retention_bytes = strtoll(val, NULL, 10);
      }
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_ConfigResource_destroy(cr);
  rd_kafka_queue_destroy(q);
}

/* Names of the cluster's consumer groups plus those this process used; *names is a
 * new array of new strings. Listing failures leave only the local ones. */
static int group_names(struct sl_kafka *kf, char ***names, size_t *n) {
  char **v = NULL;
  size_t k = 0, cap = 0;
  rd_kafka_queue_t *q = rd_kafka_queue_new(kf->rk);
  rd_kafka_AdminOptions_t *o = admin_options(kf->rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, SL_KAFKA_REQUEST_MS);
  rd_kafka_ListConsumerGroups(kf->rk, o, q);
  rd_kafka_event_t *ev = admin_wait(q, SL_KAFKA_REQUEST_MS);
  if (ev && !rd_kafka_event_error(ev)) {
    size_t ng = 0;
    const rd_kafka_ConsumerGroupListing_t **gl =
        rd_kafka_ListConsumerGroups_result_valid(rd_kafka_event_ListConsumerGroups_result(ev), &ng);
    for (size_t i = 0; i < ng; i++) {
      if (sl_array_grow(&v, &cap, k + 1, sizeof *v)) break;
      char *g = sl_strdup(rd_kafka_ConsumerGroupListing_group_id(gl[i]));
      if (g) v[k++] = g;
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_queue_destroy(q);
  pthread_mutex_lock(&kf->mu);
  for (size_t i = 0; i < kf->n_groups; i++) {
    size_t j = 0;
    while (j < k && strcmp(v[j], kf->groups[i])) j++;
    if (j < k || sl_array_grow(&v, &cap, k + 1, sizeof *v)) continue;
    char *g = sl_strdup(kf->groups[i]);
    if (g) v[k++] = g;
  }
  pthread_mutex_unlock(&kf->mu);
  if (k) qsort(v, k, sizeof *v, sl_strs_cmp);
  *names = v;
  *n = k;
  return 0;
}

/* Committed offsets of group on topic's partitions (-1 where none); 1 if the group has
 * any, 0 if none, < 0 on error. */
static int group_offsets(struct sl_kafka *kf, const char *group, const char *topic, int32_t n_parts,
                         int64_t *committed, struct sl_err *err) {
  rd_kafka_topic_partition_list_t *pl = rd_kafka_topic_partition_list_new(n_parts);
  for (int32_t p = 0; p < n_parts; p++) rd_kafka_topic_partition_list_add(pl, topic, p);
  rd_kafka_ListConsumerGroupOffsets_t *lo = rd_kafka_ListConsumerGroupOffsets_new(group, pl);
  rd_kafka_topic_partition_list_destroy(pl);
  rd_kafka_queue_t *q = rd_kafka_queue_new(kf->rk);
  rd_kafka_AdminOptions_t *o =
      admin_options(kf->rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, SL_KAFKA_REQUEST_MS);
  rd_kafka_ListConsumerGroupOffsets(kf->rk, &lo, 1, o, q);
  rd_kafka_event_t *ev = admin_wait(q, SL_KAFKA_REQUEST_MS);
  int rc = admin_event_err(kf, ev, "describe group offsets", topic, err);
  int any = 0;
  for (int32_t p = 0; p < n_parts; p++) committed[p] = -1;
  if (!rc) {
    size_t ng = 0;
    const rd_kafka_group_result_t **gr =
        rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev), &ng);
    for (size_t i = 0; i < ng && !rc; i++) {
      const rd_kafka_error_t *ge = rd_kafka_group_result_error(gr[i]);
      if (ge) {
        rc = sl_kafka_err_set(kf, err, rd_kafka_error_code(ge), "describe group offsets", topic, -1,
                              rd_kafka_error_string(ge));
        if (err) sl_err_prefix(err, "group %s: ", group);
        break;
      }
      const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(gr[i]);
      for (int j = 0; parts && j < parts->cnt; j++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[j];
        if (strcmp(tp->topic, topic) || tp->partition < 0 || tp->partition >= n_parts || tp->err) continue;
        if (tp->offset >= 0) {
          committed[tp->partition] = tp->offset;
          any = 1;
        }
      }
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_ListConsumerGroupOffsets_destroy(lo);
  rd_kafka_queue_destroy(q);
  return rc ? rc : any;
}

int sl_kafka_topic_describe(struct sl_log *log, const char *topic, struct sl_log_topic_info *out,
                            struct sl_err *err) {
  struct sl_kafka *kf = sl_kafka_of(log);
  memset(out, 0, sizeof *out);
  sl_kafka_topic_forget(kf, topic); /* describe shows the cluster as it is now */
  int32_t n_parts;
  int rc = sl_kafka_topic_parts(kf, "describe", topic, &n_parts, err);
  if (rc) return rc;
  out->name = sl_strdup(topic);
  out->parts = sl_calloc((size_t)(n_parts > 0 ? n_parts : 1), sizeof *out->parts);
  if (!out->name || !out->parts) {
    rc = sl_err_set(err, SL_ENOMEM, "describe topic %s: out of memory", topic);
    goto out_fail;
  }
  out->n_parts = n_parts;
  out->conf.partitions = n_parts;
  for (int32_t p = 0; p < n_parts; p++) {
    int64_t lo = -1, hi = -1;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(kf->rk, topic, p, &lo, &hi, SL_KAFKA_REQUEST_MS);
    if (e) {
      rc = sl_kafka_err_set(kf, err, e, "describe", topic, p, NULL);
      goto out_fail;
    }
    out->parts[p] = (struct sl_log_partition_info){p, lo, hi, -1};
  }
  describe_configs(kf, topic, &out->conf);

  char **groups;
  size_t ng;
  group_names(kf, &groups, &ng);
  for (size_t g = 0; g < ng && !rc; g++) {
    int64_t *committed = sl_calloc((size_t)(n_parts > 0 ? n_parts : 1), sizeof *committed);
    if (!committed || sl_array_grow(&out->groups, &(size_t){out->n_groups}, out->n_groups + 1, sizeof *out->groups)) {
      sl_free(committed);
      rc = sl_err_set(err, SL_ENOMEM, "describe topic %s: out of memory", topic);
      break;
    }
    int any = group_offsets(kf, groups[g], topic, n_parts, committed, err);
    if (any <= 0) {
      sl_free(committed);
      rc = any;
      continue;
    }
    int64_t lag = 0;
    for (int32_t p = 0; p < n_parts; p++) {
      int64_t from = committed[p] >= 0 ? committed[p] : out->parts[p].start_offset;
      if (out->parts[p].end_offset > from) lag += out->parts[p].end_offset - from;
    }
    out->groups[out->n_groups++] = (struct sl_log_group_lag){groups[g], committed, lag};
    groups[g] = NULL;
  }
  for (size_t g = 0; g < ng; g++) sl_free(groups[g]);
  sl_free(groups);
  if (rc) goto out_fail;
  return 0;
out_fail:
  sl_log_topic_info_fini(out);
  return rc;
}

int sl_kafka_offsets_for_time_rk(struct sl_kafka *kf, rd_kafka_t *rk, const char *topic, int64_t ts_ms,
                                 int64_t *offsets, int32_t n_parts, struct sl_err *err) {
  rd_kafka_topic_partition_list_t *pl = rd_kafka_topic_partition_list_new(n_parts);
  for (int32_t p = 0; p < n_parts; p++) rd_kafka_topic_partition_list_add(pl, topic, p)->offset = ts_ms;
  rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, pl, SL_KAFKA_REQUEST_MS);
  int rc = e ? sl_kafka_err_set(kf, err, e, "offsets for time", topic, -1, NULL) : 0;
  for (int i = 0; !rc && i < pl->cnt; i++) {
    const rd_kafka_topic_partition_t *tp = &pl->elems[i];
    if (tp->err) {
      rc = sl_kafka_err_set(kf, err, tp->err, "offsets for time", topic, tp->partition, NULL);
      break;
    }
    int64_t off = tp->offset;
    if (off < 0) { /* no record at or after ts_ms: the end */
      int64_t lo, hi;
      e = rd_kafka_query_watermark_offsets(rk, topic, tp->partition, &lo, &hi, SL_KAFKA_REQUEST_MS);
      if (e) {
        rc = sl_kafka_err_set(kf, err, e, "offsets for time", topic, tp->partition, NULL);
        break;
      }
      off = hi;
    }
    offsets[tp->partition] = off;
  }
  rd_kafka_topic_partition_list_destroy(pl);
  return rc;
}

int sl_kafka_offsets_for_time(struct sl_log *log, const char *topic, int64_t ts_ms, int64_t *offsets,
                              int32_t n_parts, struct sl_err *err) {
  struct sl_kafka *kf = sl_kafka_of(log);
  int32_t have;
  int rc = sl_kafka_topic_parts(kf, "offsets for time", topic, &have, err);
  if (rc) return rc;
  if (n_parts > have)
    return sl_err_set(err, SL_EINVAL, "offsets for time: topic %s has %d partitions on %s, not %d", topic, (int)have,
                      kf->url, (int)n_parts);
  return sl_kafka_offsets_for_time_rk(kf, kf->rk, topic, ts_ms, offsets, n_parts, err);
}
