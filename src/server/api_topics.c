/* api_topics.c: the topics pages' API on the project's log (log.url: the embedded log
 * or Kafka, through src/log/log.h): topics with their size, one topic's partitions,
 * consumer groups and lag, and a page of messages from one partition. Each request
 * opens the log for itself and closes it, so the server holds no claim on it between
 * requests and `sluice topic` keeps working beside it. Consumer lag is also exported
 * as the sluice_log_consumer_lag gauge at scrape time. */
#include "server/server_int.h"

#include "cli/project.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "log/log.h"

#include <string.h>

/* Sets obj[k] to the bytes as text when they are UTF-8, else as base64 (and marks the
 * message's "encoding"). */
static void put_bytes(json_t *obj, const char *k, const void *p, size_t n) {
  if (!p) {
    json_object_set_new(obj, k, json_null());
    return;
  }
  json_t *s = json_stringn(p, n);
  if (!s) {
    struct sl_buf b;
    sl_buf_init(&b);
    sl_buf_base64(&b, p, n);
    s = json_stringn(b.data ? b.data : "", b.len);
    sl_buf_fini(&b);
    json_object_set_new(obj, "encoding", json_string("base64"));
  }
  json_object_set_new(obj, k, s);
}

static int open_log(struct sl_req *r, struct sl_log **log) {
  struct sl_err err = {0};
  if (sl_project_log_open(r->srv->p, log, &err)) {
    sl_req_error(r, 503, "cannot open the project's log (log.url): %s", err.msg);
    return -1;
  }
  return 0;
}

static int64_t topic_messages(const struct sl_log_topic_info *ti, int64_t *bytes) {
  int64_t m = 0;
  *bytes = 0;
  for (int32_t k = 0; k < ti->n_parts; k++) {
    m += ti->parts[k].end_offset - ti->parts[k].start_offset;
    if (ti->parts[k].bytes > 0) *bytes += ti->parts[k].bytes;
  }
  return m;
}

void sl_api_topics(struct sl_req *r) {
  struct sl_log *log = NULL;
  if (open_log(r, &log)) return;
  struct sl_err err = {0};
  char **names = NULL;
  size_t n = 0;
  if (sl_log_topic_list(log, &names, &n, &err)) {
    sl_log_close(log);
    return sl_req_fail(r, &err);
  }
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    struct sl_log_topic_info ti = {0};
    if (sl_log_topic_describe(log, names[i], &ti, &err)) {
      /* Deleted between list and describe: leave it out. */
      sl_err_clear(&err);
      continue;
    }
    int64_t bytes = 0, msgs = topic_messages(&ti, &bytes);
    json_array_append_new(arr, json_pack("{s:s, s:i, s:I, s:I, s:i, s:I}", "name", ti.name ? ti.name : names[i],
                                         "partitions", ti.n_parts, "messages", (json_int_t)msgs, "bytes",
                                         (json_int_t)bytes, "groups", (int)ti.n_groups, "retention_ms",
                                         (json_int_t)ti.conf.retention_ms));
    sl_log_topic_info_fini(&ti);
  }
  sl_str_list_free(names, n);
  sl_req_json(r, 200, json_pack("{s:s, s:o}", "backend", log->ops->name, "topics", arr));
  sl_log_close(log);
}

/* Opens the log and describes {name}; answers 400/404 (log closed) and returns -1 when
 * it cannot. */
static int open_topic(struct sl_req *r, struct sl_log **log, struct sl_log_topic_info *ti) {
  struct sl_err err = {0};
  const char *name = sl_route_param(&r->m, "name");
  if (open_log(r, log)) return -1;
  if (sl_log_topic_name_check(name, &err)) {
    sl_req_error(r, 400, "%s", err.msg);
  } else if (sl_log_topic_describe(*log, name, ti, &err)) {
    if (err.code == SL_ENOTFOUND) sl_req_error(r, 404, "no topic %s; GET /api/topics lists them", name);
    else sl_req_fail(r, &err);
  } else {
    return 0;
  }
  sl_log_close(*log);
  *log = NULL;
  return -1;
}

void sl_api_topic(struct sl_req *r) {
  struct sl_log *log = NULL;
  struct sl_log_topic_info ti = {0};
  if (open_topic(r, &log, &ti)) return;
  json_t *parts = json_array(), *groups = json_array();
  for (int32_t k = 0; k < ti.n_parts; k++)
    json_array_append_new(parts, json_pack("{s:i, s:I, s:I, s:I, s:I}", "partition", ti.parts[k].partition,
                                           "start_offset", (json_int_t)ti.parts[k].start_offset, "end_offset",
                                           (json_int_t)ti.parts[k].end_offset, "messages",
                                           (json_int_t)(ti.parts[k].end_offset - ti.parts[k].start_offset), "bytes",
                                           (json_int_t)ti.parts[k].bytes));
  for (size_t g = 0; g < ti.n_groups; g++) {
    json_t *committed = json_array();
    for (int32_t k = 0; k < ti.n_parts; k++) json_array_append_new(committed, json_integer(ti.groups[g].committed[k]));
    json_array_append_new(groups, json_pack("{s:s, s:I, s:o}", "group", ti.groups[g].group, "lag",
                                            (json_int_t)ti.groups[g].lag, "committed", committed));
  }
  int64_t bytes = 0, msgs = topic_messages(&ti, &bytes);
  sl_req_json(r, 200,
              json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:o}", "name", ti.name, "messages", (json_int_t)msgs, "bytes",
                        (json_int_t)bytes, "retention_ms", (json_int_t)ti.conf.retention_ms, "retention_bytes",
                        (json_int_t)ti.conf.retention_bytes, "partitions", parts, "groups", groups));
  sl_log_topic_info_fini(&ti);
  sl_log_close(log);
}

void sl_api_topic_messages(struct sl_req *r) {
  int64_t part = sl_req_int(r, "partition", 0, INT32_MAX);
  if (part < 0) return;
  int64_t offset = sl_req_int(r, "offset", 0, INT64_MAX / 2);
  if (offset < 0) return;
  int64_t limit = sl_req_int(r, "limit", 50, 1000);
  if (limit < 0) return;
  struct sl_log *log = NULL;
  struct sl_log_topic_info ti = {0};
  if (open_topic(r, &log, &ti)) return;
  if (part >= ti.n_parts) {
    sl_req_error(r, 404, "topic %s has partitions 0 to %d, not %lld", ti.name, ti.n_parts - 1, (long long)part);
    sl_log_topic_info_fini(&ti);
    sl_log_close(log);
    return;
  }
  const struct sl_log_partition_info *pi = &ti.parts[part];
  /* Below the start, retention removed the records: start at the first one held. */
  if (offset < pi->start_offset) offset = pi->start_offset;
  int64_t end = pi->end_offset;
  json_t *msgs = json_array();
  struct sl_err err = {0};
  int rc = 0;
  if (offset < end && limit > 0) {
    const char *topics[1] = {ti.name};
    /* No group: nothing is committed. Every partition starts at its end but the one
     * asked for, which is moved to the offset. */
    struct sl_log_consumer_conf cc = {.group = NULL, .topics = topics, .n_topics = 1, .from = SL_LOG_FROM_END};
    struct sl_log_consumer *c = NULL;
    rc = sl_log_consumer_open(log, &cc, &c, &err);
    if (!rc) rc = sl_log_consumer_seek(c, ti.name, (int32_t)part, offset, &err);
    while (!rc && (int64_t)json_array_size(msgs) < limit) {
      struct sl_log_record rec;
      int got = sl_log_consumer_poll(c, 500, &rec, &err);
      if (got < 0) rc = got;
      if (got <= 0) break;
      if (rec.partition != part) continue;
      json_t *m = json_pack("{s:i, s:I, s:I}", "partition", rec.partition, "offset", (json_int_t)rec.offset, "ts_ms",
                            (json_int_t)rec.ts_ms);
      put_bytes(m, "key", rec.key, rec.key_len);
      put_bytes(m, "value", rec.value, rec.value_len);
      if (rec.n_headers) {
        json_t *hs = json_object();
        for (size_t h = 0; h < rec.n_headers; h++) {
          json_t *v = json_stringn(rec.headers[h].value, rec.headers[h].len);
          json_object_set_new(hs, rec.headers[h].name, v ? v : json_null());
        }
        json_object_set_new(m, "headers", hs);
      }
      json_array_append_new(msgs, m);
      if (rec.offset + 1 >= end) break;
    }
    sl_log_consumer_close(c);
  }
  if (rc) {
    json_decref(msgs);
    sl_req_fail(r, &err);
  } else {
    int64_t next = json_array_size(msgs) ? json_integer_value(json_object_get(json_array_get(msgs, json_array_size(msgs) - 1), "offset")) + 1 : offset;
    sl_req_json(r, 200,
                json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "topic", ti.name, "partition", (json_int_t)part, "offset",
                          (json_int_t)offset, "next_offset", (json_int_t)next, "start_offset",
                          (json_int_t)pi->start_offset, "end_offset", (json_int_t)end, "messages", msgs));
  }
  sl_log_topic_info_fini(&ti);
  sl_log_close(log);
}

void sl_log_metrics_collect(void *arg) {
  struct sl_server *srv = arg;
  struct sl_log *log = NULL;
  struct sl_err err = {0};
  const char *u = srv->p->log.url && srv->p->log.url[0] ? srv->p->log.url : ".sluice/log";
  if (strncmp(u, "kafka://", 8)) {
    /* An embedded log nobody created yet has no lag; do not create it by looking. */
    if (!strncmp(u, "file://", 7)) u += 7;
    char *path = u[0] == '/' ? sl_strdup(u) : sl_fs_join(srv->p->root, u);
    int there = path && sl_fs_is_dir(path);
    sl_free(path);
    if (!there) return;
  }
  if (sl_project_log_open(srv->p, &log, &err)) return;
  char **names = NULL;
  size_t n = 0;
  if (!sl_log_topic_list(log, &names, &n, &err))
    for (size_t i = 0; i < n; i++) {
      struct sl_log_topic_info ti = {0};
      if (sl_log_topic_describe(log, names[i], &ti, &err)) continue;
      for (size_t g = 0; g < ti.n_groups; g++) {
        char t[256], gr[256], labels[600];
        sl_metric_label_escape(names[i], t, sizeof t);
        sl_metric_label_escape(ti.groups[g].group, gr, sizeof gr);
        snprintf(labels, sizeof labels, "topic=\"%s\",group=\"%s\"", t, gr);
        sl_metric_gauge_set("sluice_log_consumer_lag", labels, (double)ti.groups[g].lag);
      }
      sl_log_topic_info_fini(&ti);
    }
  sl_str_list_free(names, n);
  sl_log_close(log);
}
