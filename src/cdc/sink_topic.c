/* sink_topic.c: changes into topics of the log (embedded or Kafka, through log/log.h).
 * Each captured table has a topic <topic_prefix>.<schema>.<table> (created when
 * missing); each change is one record: key the Debezium key JSON of the primary key
 * (no key for a truncate), value the Debezium envelope, headers cdc-pos (the
 * change's position "<commit LSN>:<change LSN>", unique and increasing within a
 * partition) and cdc-lsn (the change's LSN as X/Y). Records are flushed in batches
 * (batch_events or batch_ms, at a transaction's end); an LSN becomes durable, and is
 * confirmed to PostgreSQL, only after sl_log_flush returned 0 for everything up to it.
 *
 * Exactly once: PostgreSQL resends everything after the confirmed LSN, and some of it
 * may already be in the topics (flushed, then the process died before confirming).
 * At start the sink reads the last record of every partition of its topics and skips
 * a change whose position is at or below that partition's last position: records of
 * one partition are appended in position order, so what is at or below the last one
 * is there and what is above is not. Snapshot rows (op r) are not deduplicated: a
 * snapshot cut short is taken again as a whole. */
#include "cdc/cdc_int.h"
#include "cdc/event.h"

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pos {
  uint64_t commit, lsn;
};

struct ttopic {
  char *schema, *name, *topic;
  int32_t n_parts;
  struct pos *done; /* per partition: the last position already in the topic */
};

struct tpsink {
  const struct sl_cdc_source *src;
  const struct sl_cdc_lake *lake;
  struct sl_log *log;
  struct ttopic *t;
  size_t n, cap;
  struct sl_buf key, val;
  int64_t pending, first_ns, skipped;
  uint64_t durable, last_end;
};

static int pos_le(struct pos a, struct pos b) { return a.commit < b.commit || (a.commit == b.commit && a.lsn <= b.lsn); }

/* Reads the last record of each partition and its cdc-pos header. */
static int load_done(struct tpsink *s, struct ttopic *t, struct sl_err *err) {
  struct sl_log_topic_info info;
  int rc = sl_log_topic_describe(s->log, t->topic, &info, err);
  if (rc) return rc;
  t->n_parts = info.n_parts;
  t->done = sl_calloc((size_t)info.n_parts + 1, sizeof *t->done);
  if (!t->done) {
    sl_log_topic_info_fini(&info);
    return sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  int want = 0;
  for (int32_t i = 0; i < info.n_parts; i++) want += info.parts[i].end_offset > info.parts[i].start_offset;
  if (want) {
    const char *topics[1] = {t->topic};
    struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1, .from = SL_LOG_FROM_END};
    struct sl_log_consumer *c = NULL;
    rc = sl_log_consumer_open(s->log, &cc, &c, err);
    for (int32_t i = 0; !rc && i < info.n_parts; i++)
      if (info.parts[i].end_offset > info.parts[i].start_offset)
        rc = sl_log_consumer_seek(c, t->topic, i, info.parts[i].end_offset - 1, err);
    for (int got = 0, tries = 0; !rc && got < want && tries < 50;) {
      struct sl_log_record r;
      int k = sl_log_consumer_poll(c, 200, &r, err);
      if (k < 0) rc = k;
      if (k <= 0) {
        tries++;
        continue;
      }
      if (r.offset != info.parts[r.partition].end_offset - 1) continue;
      got++;
      for (size_t h = 0; h < r.n_headers; h++) {
        if (strcmp(r.headers[h].name, "cdc-pos")) continue;
        char b[64];
        snprintf(b, sizeof b, "%.*s", (int)(r.headers[h].len < 63 ? r.headers[h].len : 63),
                 (const char *)r.headers[h].value);
        unsigned long long a = 0, l = 0;
        if (sscanf(b, "%llu:%llu", &a, &l) == 2) t->done[r.partition] = (struct pos){a, l};
      }
    }
    sl_log_consumer_close(c);
  }
  sl_log_topic_info_fini(&info);
  if (rc) return sl_err_prefix(err, "cdc into topic %s: reading where the topic ends: ", t->topic);
  return 0;
}

static struct ttopic *topic_for(struct tpsink *s, const struct sl_pgo_relation *rel, struct sl_err *err) {
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->t[i].schema, rel->schema) && !strcmp(s->t[i].name, rel->name)) return &s->t[i];
  if (sl_array_grow(&s->t, &s->cap, s->n + 1, sizeof *s->t)) {
    sl_err_set(err, SL_ENOMEM, "out of memory");
    return NULL;
  }
  struct ttopic *t = &s->t[s->n];
  memset(t, 0, sizeof *t);
  t->schema = sl_strdup(rel->schema);
  t->name = sl_strdup(rel->name);
  t->topic = sl_asprintf("%s.%s.%s", s->src->topic_prefix, rel->schema, rel->name);
  if (!t->schema || !t->name || !t->topic) {
    sl_err_set(err, SL_ENOMEM, "out of memory");
    goto bad;
  }
  if (sl_log_topic_name_check(t->topic, err)) {
    sl_err_prefix(err, "cdc table %s.%s: ", rel->schema, rel->name);
    goto bad;
  }
  struct sl_err e2 = {0};
  int rc = sl_log_topic_create(s->log, t->topic, NULL, &e2);
  if (rc && rc != SL_EEXIST) {
    *err = e2;
    goto bad;
  }
  if (!rc) sl_log(SL_LOG_INFO, "cdc", "created topic", "topic", t->topic, NULL);
  if (load_done(s, t, err)) goto bad;
  s->n++;
  return t;
bad:
  sl_free(t->schema);
  sl_free(t->name);
  sl_free(t->topic);
  sl_free(t->done);
  return NULL;
}

static int tp_event(struct sl_cdc_sink *sk, const struct sl_cdc_event_src *es, const struct sl_pgo_relation *rel,
                    char op, const struct sl_pgo_tuple *before, const struct sl_pgo_tuple *after, struct sl_err *err) {
  struct tpsink *s = sk->impl;
  struct ttopic *t = topic_for(s, rel, err);
  if (!t) return err->code;
  const struct sl_pgo_tuple *row = after ? after : before;
  sl_buf_reset(&s->key);
  sl_buf_reset(&s->val);
  int has_key = row && op != 't';
  if ((has_key && sl_cdc_key_json(&s->key, rel, row)) ||
      sl_cdc_envelope(&s->val, es, rel, op, before, after, sl_time_now_ms()))
    return sl_err_set(err, SL_ENOMEM, "out of memory");
  int32_t part = has_key ? sl_log_partition_for_key(s->key.data, s->key.len, t->n_parts) : 0;
  struct pos p = {es->commit_lsn, es->lsn};
  if (op != 'r' && pos_le(p, t->done[part])) {
    s->skipped++;
    return 0; /* already in the topic before a restart */
  }
  char pos[48], lsn[32];
  snprintf(pos, sizeof pos, "%" PRIu64 ":%" PRIu64, p.commit, p.lsn);
  sl_cdc_lsn_text(es->lsn, lsn);
  struct sl_log_header h[2] = {{"cdc-pos", pos, strlen(pos)}, {"cdc-lsn", lsn, strlen(lsn)}};
  struct sl_log_msg m = {.partition = part, .ts_ms = es->ts_ms > 0 ? es->ts_ms : 0, .key = has_key ? s->key.data : NULL,
                         .key_len = has_key ? s->key.len : 0, .value = s->val.data, .value_len = s->val.len,
                         .headers = h, .n_headers = 2};
  int rc = sl_log_produce(s->log, t->topic, &m, 1, NULL, err);
  if (rc) return sl_err_prefix(err, "cdc into topic %s: ", t->topic);
  if (op != 'r') t->done[part] = p;
  if (!s->pending++) s->first_ns = sl_time_mono_ns();
  return 0;
}

static int tp_boundary(struct sl_cdc_sink *sk, uint64_t end_lsn, int force, uint64_t *durable, struct sl_err *err) {
  struct tpsink *s = sk->impl;
  if (end_lsn > s->last_end) s->last_end = end_lsn;
  if (!s->pending) {
    if (end_lsn > s->durable) s->durable = end_lsn; /* nothing held */
    *durable = s->durable;
    return 0;
  }
  int due = force || s->pending >= s->lake->batch_events ||
            sl_time_mono_ns() - s->first_ns >= s->lake->batch_ms * 1000000LL;
  if (due) {
    int rc = sl_log_flush(s->log, 30000, err);
    if (rc) {
      char l[32];
      sl_cdc_lsn_text(s->last_end, l);
      return sl_err_prefix(err, "cdc into topics (source %s, before LSN %s): ", s->src->name, l);
    }
    s->pending = 0;
    uint64_t lsn = end_lsn ? end_lsn : s->last_end;
    if (lsn > s->durable) s->durable = lsn;
  }
  *durable = s->durable;
  return 0;
}

static int tp_pending(struct sl_cdc_sink *sk) { return ((struct tpsink *)sk->impl)->pending > 0; }

static void tp_close(struct sl_cdc_sink *sk) {
  struct tpsink *s = sk->impl;
  if (!s) return;
  if (s->skipped) {
    char n[32];
    snprintf(n, sizeof n, "%lld", (long long)s->skipped);
    sl_log(SL_LOG_INFO, "cdc", "changes already in the topics were skipped", "source", s->src->name, "changes", n, NULL);
  }
  for (size_t i = 0; i < s->n; i++) {
    sl_free(s->t[i].schema);
    sl_free(s->t[i].name);
    sl_free(s->t[i].topic);
    sl_free(s->t[i].done);
  }
  sl_free(s->t);
  sl_buf_fini(&s->key);
  sl_buf_fini(&s->val);
  sl_free(s);
  sk->impl = NULL;
}

int sl_cdc_sink_topic_open(const struct sl_cdc_source *src, const struct sl_cdc_lake *lake, struct sl_log *log,
                           struct sl_cdc_sink *out, struct sl_err *err) {
  memset(out, 0, sizeof *out);
  if (!log) return sl_err_set(err, SL_EINVAL, "--to topics needs the project's log (log: in sluice.yaml)");
  struct tpsink *s = sl_calloc(1, sizeof *s);
  if (!s) return sl_err_set(err, SL_ENOMEM, "out of memory");
  s->src = src;
  s->lake = lake;
  s->log = log;
  sl_buf_init(&s->key);
  sl_buf_init(&s->val);
  out->name = "topics";
  out->event = tp_event;
  out->boundary = tp_boundary;
  out->pending = tp_pending;
  out->close = tp_close;
  out->impl = s;
  /* Every table's topic exists (and its end is known) before the stream starts. */
  for (size_t i = 0; i < src->tables.n; i++) {
    struct sl_pgo_relation rel = {0};
    if (sl_pg_split_name(src->tables.v[i], &rel.schema, &rel.name)) return sl_err_set(err, SL_ENOMEM, "out of memory");
    struct ttopic *t = topic_for(s, &rel, err);
    sl_free(rel.schema);
    sl_free(rel.name);
    if (!t) return err->code;
  }
  return 0;
}
