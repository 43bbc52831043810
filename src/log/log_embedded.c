/* log_embedded.c: sl_log_embedded_ops, the embedded log: topics as folders under the
 * log's root, produce/flush through the partitions' group commit, and consumers that
 * read segment files directly (in this process up to the durable end; in another
 * process up to the last frame that checks).
 *
 * A flush fails when a write failure dropped any record this thread queued since its
 * last flush (tracked per thread and log), or when its own batch failed: a caller
 * never sees 0 for a record that is not durable. */
#include "log/log_int.h"

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strs.h"
#include "core/time.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct topic {
  char *name;
  char *dir;
  struct sl_log_topic_conf conf;
  struct sl_log_part *parts;
  int32_t rr; /* round-robin partition for records without key */
  struct topic *next;
};

struct emb {
  char *root;
  pthread_mutex_t mu; /* topics list, data_seq */
  pthread_cond_t data_cv;
  uint64_t data_seq;
  struct topic *topics, *dead;
};

/* Per thread: the fail generation of each partition it queued into, per log; past
 * TL_MAX partitions, one entry with p NULL compares the process-wide failure count. */
struct tl_mark {
  const struct emb *e;
  struct sl_log_part *p;
  uint64_t gen;
};
#define TL_MAX 256
static _Thread_local struct tl_mark tl_marks[TL_MAX];
static _Thread_local size_t tl_n;

static int topic_conf_read(const char *path, struct sl_log_topic_conf *c, struct sl_err *err) {
  json_error_t je;
  json_t *doc = json_load_file(path, 0, &je);
  if (!doc) return sl_err_set(err, SL_EDATA, "%s: %s; the topic's settings are unreadable", path, je.text);
  json_t *np = json_object_get(doc, "partitions");
  c->partitions = json_is_integer(np) ? (int32_t)json_integer_value(np) : 0;
  c->retention_ms = json_integer_value(json_object_get(doc, "retention_ms"));
  c->retention_bytes = json_integer_value(json_object_get(doc, "retention_bytes"));
  json_decref(doc);
  if (c->partitions < 1 || c->partitions > 100000)
    return sl_err_set(err, SL_EDATA, "%s: partitions must be 1 to 100000", path);
  return 0;
}

/* Finds the topic (loading it from disk); NULL with SL_ENOTFOUND if it does not exist. */
static struct topic *topic_get(struct sl_log *log, const char *name, struct sl_err *err) {
  struct emb *e = log->impl;
  pthread_mutex_lock(&e->mu);
  struct topic *t = e->topics;
  while (t && strcmp(t->name, name)) t = t->next;
  if (t) {
    pthread_mutex_unlock(&e->mu);
    return t;
  }
  char *dir = sl_asprintf("%s/%s", e->root, name);
  char *cp = dir ? sl_asprintf("%s/topic.json", dir) : NULL;
  struct sl_log_topic_conf c = {0};
  int rc = 0;
  if (!cp) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  else if (!sl_fs_exists(cp))
    rc = sl_err_set(err, SL_ENOTFOUND, "topic %s does not exist in %s; create it with `sluice topic create %s`", name,
                    e->root, name);
  else rc = topic_conf_read(cp, &c, err);
  sl_free(cp);
  if (!rc) {
    t = sl_calloc(1, sizeof *t);
    if (t) t->parts = sl_calloc((size_t)c.partitions, sizeof *t->parts);
    if (!t || !t->parts) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  for (int32_t i = 0; !rc && i < c.partitions; i++)
    if (sl_log_part_init(&t->parts[i], log, e->root, name, i, c.retention_ms, c.retention_bytes))
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  if (rc) {
    if (t && t->parts)
      for (int32_t i = 0; i < c.partitions; i++)
        if (t->parts[i].dir) sl_log_part_fini(&t->parts[i]);
    if (t) sl_free(t->parts);
    sl_free(t);
    sl_free(dir);
    pthread_mutex_unlock(&e->mu);
    return NULL;
  }
  t->name = sl_strdup(name);
  t->dir = dir;
  t->conf = c;
  t->next = e->topics;
  e->topics = t;
  pthread_mutex_unlock(&e->mu);
  return t;
}

static void topic_free(struct topic *t) {
  for (int32_t i = 0; i < t->conf.partitions; i++) sl_log_part_fini(&t->parts[i]);
  sl_free(t->parts);
  sl_free(t->name);
  sl_free(t->dir);
  sl_free(t);
}

static int emb_open(struct sl_log *log, const char *url, const struct sl_log_cfg *cfg, struct sl_err *err) {
  (void)cfg;
  const char *path = strncmp(url, "file://", 7) ? url : url + 7;
  struct emb *e = sl_calloc(1, sizeof *e);
  if (!e) return sl_err_set(err, SL_ENOMEM, "out of memory");
  e->root = sl_fs_abs(path);
  int rc = e->root ? sl_fs_mkdirs(e->root, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  if (rc) {
    sl_free(e->root);
    sl_free(e);
    return sl_err_prefix(err, "log.url %s: ", url);
  }
  pthread_mutex_init(&e->mu, NULL);
  pthread_cond_init(&e->data_cv, NULL);
  log->impl = e;
  return 0;
}

static void emb_close(struct sl_log *log) {
  struct emb *e = log->impl;
  if (!e) return;
  for (struct topic *t = e->topics, *n; t; t = n) {
    n = t->next;
    topic_free(t);
  }
  for (struct topic *t = e->dead, *n; t; t = n) {
    n = t->next;
    topic_free(t);
  }
  for (size_t i = 0; i < tl_n;)
    if (tl_marks[i].e == e) tl_marks[i] = tl_marks[--tl_n];
    else i++;
  pthread_mutex_destroy(&e->mu);
  pthread_cond_destroy(&e->data_cv);
  sl_free(e->root);
  sl_free(e);
}

static int emb_topic_create(struct sl_log *log, const char *name, const struct sl_log_topic_conf *conf,
                            struct sl_err *err) {
  struct emb *e = log->impl;
  struct sl_log_topic_conf c = conf ? *conf : (struct sl_log_topic_conf){0};
  if (c.partitions <= 0) c.partitions = (int32_t)log->cfg.default_partitions;
  if (c.partitions < 1) c.partitions = 1;
  if (c.partitions > 100000) return sl_err_set(err, SL_EINVAL, "topic %s: at most 100000 partitions", name);
  if (c.retention_ms == 0) c.retention_ms = log->cfg.retention_ms;
  if (c.retention_bytes == 0) c.retention_bytes = log->cfg.retention_bytes;
  if (c.retention_ms < -1 || c.retention_bytes < -1)
    return sl_err_set(err, SL_EINVAL, "topic %s: retention must be -1 (unbounded) or positive", name);
  char *dir = sl_asprintf("%s/%s", e->root, name);
  char *cp = dir ? sl_asprintf("%s/topic.json", dir) : NULL;
  char *tmp = dir ? sl_asprintf("%s/topic.json.%d.tmp", dir, (int)getpid()) : NULL;
  int rc = cp && tmp ? sl_fs_mkdirs(dir, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  for (int32_t i = 0; !rc && i < c.partitions; i++) {
    char *pd = sl_asprintf("%s/%d", dir, i);
    rc = pd ? sl_fs_mkdirs(pd, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
    sl_free(pd);
  }
  if (!rc) {
    char text[160];
    int n = snprintf(text, sizeof text, "{\"partitions\":%d,\"retention_ms\":%lld,\"retention_bytes\":%lld}\n",
                     c.partitions, (long long)c.retention_ms, (long long)c.retention_bytes);
    rc = sl_fs_write_atomic(tmp, text, (size_t)n, err);
    /* link() makes the create atomic: of two creators exactly one wins. */
    if (!rc && link(tmp, cp)) {
      rc = errno == EEXIST ? sl_err_set(err, SL_EEXIST, "topic %s already exists", name)
                           : sl_err_set(err, SL_EIO, "create %s: %s", cp, strerror(errno));
    }
    unlink(tmp);
    if (!rc) rc = sl_fs_fsync_dir(dir, err);
  }
  sl_free(dir);
  sl_free(cp);
  sl_free(tmp);
  return rc;
}

static int emb_topic_delete(struct sl_log *log, const char *name, struct sl_err *err) {
  struct emb *e = log->impl;
  char *dir = sl_asprintf("%s/%s", e->root, name);
  char *cp = dir ? sl_asprintf("%s/topic.json", dir) : NULL;
  char uuid[37];
  sl_uuid_v4(uuid);
  /* '#' is not allowed in topic names, so the renamed folder never looks like a topic. */
  char *gone = sl_asprintf("%s/#deleted-%s-%s", e->root, name, uuid);
  int rc = 0;
  if (!cp || !gone) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  else if (!sl_fs_exists(cp)) rc = sl_err_set(err, SL_ENOTFOUND, "topic %s does not exist in %s", name, e->root);
  else if (rename(dir, gone)) rc = sl_err_set(err, SL_EIO, "delete topic %s: %s", name, strerror(errno));
  if (!rc) {
    sl_fs_fsync_dir(e->root, err);
    rc = sl_fs_remove_tree(gone, err);
    pthread_mutex_lock(&e->mu);
    for (struct topic **pp = &e->topics; *pp; pp = &(*pp)->next) {
      if (strcmp((*pp)->name, name)) continue;
      struct topic *t = *pp; /* kept until close: other threads may hold it */
      *pp = t->next;
      t->next = e->dead;
      e->dead = t;
      break;
    }
    pthread_mutex_unlock(&e->mu);
  }
  sl_free(dir);
  sl_free(cp);
  sl_free(gone);
  return rc;
}

static int emb_topic_list(struct sl_log *log, char ***names, size_t *n, struct sl_err *err) {
  struct emb *e = log->impl;
  *names = NULL;
  *n = 0;
  DIR *d = opendir(e->root);
  if (!d) return sl_err_set(err, SL_EIO, "open %s: %s", e->root, strerror(errno));
  size_t cap = 0;
  struct dirent *de;
  int rc = 0;
  while ((de = readdir(d))) {
    struct sl_err ig = {0};
    if (sl_log_topic_name_check(de->d_name, &ig)) continue;
    char *cp = sl_asprintf("%s/%s/topic.json", e->root, de->d_name);
    int ok = cp && sl_fs_exists(cp);
    sl_free(cp);
    if (!ok) continue;
    if (sl_array_grow(names, &cap, *n + 1, sizeof **names) || !((*names)[*n] = sl_strdup(de->d_name))) {
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      break;
    }
    (*n)++;
  }
  closedir(d);
  if (*n) qsort(*names, *n, sizeof **names, sl_strs_cmp);
  return rc;
}

static void part_view(struct sl_log_part *p, struct sl_log_partition_info *out) {
  pthread_mutex_lock(&p->mu);
  struct sl_err ig = {0};
  sl_log_part_load(p, &ig);
  sl_log_part_info(p, out);
  pthread_mutex_unlock(&p->mu);
}

static int emb_topic_describe(struct sl_log *log, const char *name, struct sl_log_topic_info *out,
                              struct sl_err *err) {
  struct topic *t = topic_get(log, name, err);
  if (!t) return err->code;
  int32_t np = t->conf.partitions;
  out->name = sl_strdup(name);
  out->conf = t->conf;
  out->n_parts = np;
  out->parts = sl_calloc((size_t)np, sizeof *out->parts);
  if (!out->name || !out->parts) return sl_err_set(err, SL_ENOMEM, "out of memory");
  for (int32_t i = 0; i < np; i++) part_view(&t->parts[i], &out->parts[i]);
  char **groups = NULL;
  size_t ng = 0;
  int rc = sl_log_group_list(t->dir, &groups, &ng, err);
  if (!rc && ng) {
    qsort(groups, ng, sizeof *groups, sl_strs_cmp);
    out->groups = sl_calloc(ng, sizeof *out->groups);
    if (!out->groups) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  for (size_t g = 0; !rc && g < ng; g++) {
    struct sl_log_group_lag *gl = &out->groups[out->n_groups++];
    gl->group = groups[g];
    groups[g] = NULL;
    gl->committed = sl_calloc((size_t)np, sizeof *gl->committed);
    if (!gl->committed) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    else rc = sl_log_group_load(t->dir, gl->group, np, gl->committed, err);
    for (int32_t i = 0; !rc && i < np; i++) {
      int64_t from = gl->committed[i] >= 0 ? gl->committed[i] : out->parts[i].start_offset;
      if (from < out->parts[i].start_offset) from = out->parts[i].start_offset;
      gl->lag += out->parts[i].end_offset > from ? out->parts[i].end_offset - from : 0;
    }
  }
  for (size_t g = 0; g < ng; g++) sl_free(groups[g]);
  sl_free(groups);
  return rc;
}

static void mark(const struct emb *e, struct sl_log_part *p) {
  for (size_t i = 0; i < tl_n; i++)
    if ((tl_marks[i].p == p || !tl_marks[i].p) && tl_marks[i].e == e) return;
  if (tl_n + 1 < TL_MAX) tl_marks[tl_n++] = (struct tl_mark){e, p, p->fail_gen};
  else if (tl_n + 1 == TL_MAX) tl_marks[tl_n++] = (struct tl_mark){e, NULL, __atomic_load_n(&sl_log_fail_total, __ATOMIC_SEQ_CST)};
}

static int emb_produce(struct sl_log *log, const char *topic, const struct sl_log_msg *msgs, size_t n,
                       int64_t *offsets, struct sl_err *err) {
  struct emb *e = log->impl;
  int rc = sl_log_topic_name_check(topic, err);
  struct topic *t = rc ? NULL : topic_get(log, topic, err);
  if (!t) return err->code;
  int32_t np = t->conf.partitions;
  /* Runs of messages for the same partition go in under one lock. */
  for (size_t i = 0; i < n;) {
    int32_t part = msgs[i].partition;
    if (part < 0) {
      if (msgs[i].key) part = sl_log_partition_for_key(msgs[i].key, msgs[i].key_len, np);
      else part = (int32_t)((unsigned)__atomic_fetch_add(&t->rr, 1, __ATOMIC_RELAXED) % (unsigned)np);
    }
    if (part >= np)
      return sl_err_set(err, SL_EINVAL, "topic %s has %d partitions; partition %d does not exist", topic, np, part);
    size_t j = i + 1;
    while (j < n && msgs[j].partition == part && part == msgs[i].partition) j++;
    struct sl_log_part *p = &t->parts[part];
    pthread_mutex_lock(&p->mu);
    rc = sl_log_part_writer(p, err);
    if (!rc) {
      mark(e, p);
      rc = sl_log_part_queue(p, msgs + i, j - i, offsets ? offsets + i : NULL, err);
    }
    pthread_mutex_unlock(&p->mu);
    if (rc) return rc;
    i = j;
  }
  return 0;
}

struct flush_wait {
  struct sl_log_part *p;
  int64_t target;
  uint64_t gen;
};

/* Waits for the syncs begun for w[0, n); the first failure (rc still 0) goes to err. */
static int flush_wait_all(struct flush_wait *w, size_t n, int rc, struct sl_err *err) {
  for (size_t k = 0; k < n; k++) {
    struct sl_err e2 = {0};
    int r = sl_log_part_flush_wait(w[k].p, w[k].target, w[k].gen, &e2);
    if (r && !rc) {
      rc = r;
      *err = e2;
    }
  }
  return rc;
}

static int emb_flush(struct sl_log *log, int timeout_ms, struct sl_err *err) {
  (void)timeout_ms;
  struct emb *e = log->impl;
  int rc = 0, moved = 0;
  /* Every partition this process writes (others' records queued before this call
   * are covered too, by the group commit). */
  pthread_mutex_lock(&e->mu);
  struct topic *list = e->topics;
  pthread_mutex_unlock(&e->mu);
  /* Up to 64 partitions at a time ask their writers for a sync, then wait: their
   * fsyncs run at the same time. With one partition written, the flush may lead. */
  int writing = 0;
  for (struct topic *t = list; t && writing < 2; t = t->next)
    for (int32_t i = 0; i < t->conf.partitions && writing < 2; i++) writing += t->parts[i].lock_fd >= 0;
  struct flush_wait w[64];
  size_t nw = 0;
  for (struct topic *t = list; t; t = t->next)
    for (int32_t i = 0; i < t->conf.partitions; i++) {
      struct sl_log_part *p = &t->parts[i];
      if (p->lock_fd < 0) continue;
      w[nw].p = p;
      sl_log_part_flush_begin(p, writing == 1, &w[nw].target, &w[nw].gen);
      moved = 1;
      if (++nw == sizeof w / sizeof *w) rc = flush_wait_all(w, nw, rc, err), nw = 0;
    }
  rc = flush_wait_all(w, nw, rc, err);
  for (size_t i = 0; i < tl_n;) {
    if (tl_marks[i].e != e) {
      i++;
      continue;
    }
    struct sl_log_part *p = tl_marks[i].p;
    uint64_t gen;
    if (p) {
      pthread_mutex_lock(&p->mu);
      gen = p->fail_gen;
      pthread_mutex_unlock(&p->mu);
    } else {
      gen = __atomic_load_n(&sl_log_fail_total, __ATOMIC_SEQ_CST);
    }
    if (gen != tl_marks[i].gen && !rc)
      rc = sl_err_set(err, SL_EIO, "topic %s partition %d: a write failed and records this producer queued were "
                                   "dropped; nothing since the last successful flush is acknowledged",
                      p ? p->topic : "(many)", p ? p->id : -1);
    tl_marks[i] = tl_marks[--tl_n];
  }
  if (moved) {
    pthread_mutex_lock(&e->mu);
    e->data_seq++;
    pthread_cond_broadcast(&e->data_cv);
    pthread_mutex_unlock(&e->mu);
  }
  return rc;
}

static int emb_offsets_for_time(struct sl_log *log, const char *topic, int64_t ts_ms, int64_t *offsets,
                                int32_t n_parts, struct sl_err *err) {
  struct topic *t = topic_get(log, topic, err);
  if (!t) return err->code;
  int rc = 0;
  for (int32_t i = 0; !rc && i < n_parts && i < t->conf.partitions; i++) {
    struct sl_log_part *p = &t->parts[i];
    pthread_mutex_lock(&p->mu);
    rc = sl_log_part_load(p, err);
    int64_t o = rc ? -1 : sl_log_part_offset_for_time(p, ts_ms, err);
    if (o < 0 && !rc) rc = (int)o;
    offsets[i] = o;
    pthread_mutex_unlock(&p->mu);
  }
  return rc;
}

/* ---- consumers ---- */

struct cpart {
  int owned;    /* this consumer reads it (always without a group) */
  int lock_fd;  /* the group's claim */
  int placed;   /* next is set */
  int64_t next; /* next offset to return */
  int64_t polled; /* position after the last record returned (what commit stores) */
  int fd;
  int64_t fd_base;
  uint8_t *buf;
  size_t cap, len, at;
  size_t ok;       /* buf[0, ok) is whole frames whose CRCs were checked together */
  int64_t buf_pos; /* file position of buf[0] */
};

struct ctopic {
  struct topic *t;
  struct cpart *parts;
  int member_fd, slot; /* the group member slot held (-1: none) */
};

struct sl_log_consumer {
  struct sl_log_consumer_head head;
  struct emb *e;
  char *group;
  int from;
  int64_t from_value;
  struct ctopic *topics;
  size_t n_topics;
  size_t rr_t;
  int32_t rr_p;
  int64_t last_claim_ns;
  int commits; /* it has committed: partitions handed over carry their position */
  struct sl_log_header *hdrs;
  size_t hdr_cap;
};

static void cpart_drop_buf(struct cpart *cp) {
  if (cp->fd >= 0) close(cp->fd);
  cp->fd = -1;
  cp->len = cp->at = cp->ok = 0;
}

/* Places a partition the consumer has just taken: committed offset, else `from`. */
static int cpart_place(struct sl_log_consumer *c, struct ctopic *ct, int32_t i, struct sl_err *err) {
  struct cpart *cp = &ct->parts[i];
  struct sl_log_part *p = &ct->t->parts[i];
  int64_t committed = -1;
  if (c->group) {
    int64_t *all = sl_calloc((size_t)ct->t->conf.partitions, sizeof *all);
    if (!all) return sl_err_set(err, SL_ENOMEM, "out of memory");
    int rc = sl_log_group_load(ct->t->dir, c->group, ct->t->conf.partitions, all, err);
    committed = all[i];
    sl_free(all);
    if (rc) return rc;
  }
  pthread_mutex_lock(&p->mu);
  int rc = sl_log_part_load(p, err);
  struct sl_log_partition_info pi;
  sl_log_part_info(p, &pi);
  int64_t at = pi.start_offset;
  if (!rc) {
    if (committed >= 0) at = committed;
    else if (c->from == SL_LOG_FROM_END) at = pi.end_offset;
    else if (c->from == SL_LOG_FROM_OFFSET) at = c->from_value;
    else if (c->from == SL_LOG_FROM_TIME) at = sl_log_part_offset_for_time(p, c->from_value, err);
  }
  pthread_mutex_unlock(&p->mu);
  if (rc) return rc;
  if (at < 0) return (int)at;
  cp->next = cp->polled = at;
  cp->placed = 1;
  cpart_drop_buf(cp);
  return 0;
}

/* Takes partitions of the group no live member holds, up to this member's share,
 * and hands over what is above the share (from the highest partition down). */
static int claim(struct sl_log_consumer *c, struct sl_err *err) {
  c->last_claim_ns = sl_time_mono_ns();
  for (size_t k = 0; k < c->n_topics; k++) {
    struct ctopic *ct = &c->topics[k];
    int32_t np = ct->t->conf.partitions, quota = np, owned = 0;
    if (c->group && ct->member_fd >= 0) {
      int members = sl_log_group_members(ct->t->dir, c->group, ct->slot);
      quota = (np + members - 1) / members;
    }
    for (int32_t i = 0; i < np; i++) owned += ct->parts[i].owned;
    for (int32_t i = np - 1; c->group && owned > quota && i >= 0; i--) {
      struct cpart *cp = &ct->parts[i];
      if (!cp->owned) continue;
      if (c->commits && cp->placed) { /* the next owner goes on from here */
        int64_t *v = sl_calloc((size_t)np, sizeof *v);
        if (!v) return sl_err_set(err, SL_ENOMEM, "out of memory");
        for (int32_t j = 0; j < np; j++) v[j] = j == i ? cp->polled : -1;
        int rc = sl_log_group_store(ct->t->dir, ct->t->name, c->group, np, v, err);
        sl_free(v);
        if (rc) return rc;
      }
      close(cp->lock_fd);
      cp->lock_fd = -1;
      cp->owned = cp->placed = 0;
      cpart_drop_buf(cp);
      owned--;
    }
    for (int32_t i = 0; i < np && owned < quota; i++) {
      struct cpart *cp = &ct->parts[i];
      if (cp->owned) continue;
      if (c->group) {
        cp->lock_fd = sl_log_group_claim(ct->t->dir, c->group, i);
        if (cp->lock_fd < 0) continue;
      }
      cp->owned = 1;
      owned++;
      if (!cp->placed) {
        int rc = cpart_place(c, ct, i, err);
        if (rc) return rc;
      }
    }
  }
  return 0;
}

static void emb_consumer_close(struct sl_log_consumer *c) {
  for (size_t k = 0; k < c->n_topics; k++) {
    struct ctopic *ct = &c->topics[k];
    for (int32_t i = 0; ct->parts && i < ct->t->conf.partitions; i++) {
      cpart_drop_buf(&ct->parts[i]);
      sl_free(ct->parts[i].buf);
      if (ct->parts[i].lock_fd >= 0) close(ct->parts[i].lock_fd);
    }
    sl_free(ct->parts);
    if (ct->member_fd >= 0) close(ct->member_fd);
  }
  sl_free(c->topics);
  sl_free(c->group);
  sl_free(c->hdrs);
  sl_free(c);
}

static int emb_consumer_open(struct sl_log *log, const struct sl_log_consumer_conf *conf,
                             struct sl_log_consumer **out, struct sl_err *err) {
  if (conf->group && sl_log_group_name_check(conf->group, err)) return err->code;
  if (!conf->n_topics) return sl_err_set(err, SL_EINVAL, "a consumer needs at least one topic");
  struct sl_log_consumer *c = sl_calloc(1, sizeof *c);
  if (!c) return sl_err_set(err, SL_ENOMEM, "out of memory");
  c->head.log = log;
  c->e = log->impl;
  c->from = conf->from;
  c->from_value = conf->from_value;
  c->group = conf->group ? sl_strdup(conf->group) : NULL;
  c->topics = sl_calloc(conf->n_topics, sizeof *c->topics);
  int rc = c->topics && (!conf->group || c->group) ? 0 : sl_err_set(err, SL_ENOMEM, "out of memory");
  for (size_t k = 0; !rc && k < conf->n_topics; k++) {
    struct topic *t = topic_get(log, conf->topics[k], err);
    if (!t) {
      rc = err->code;
      break;
    }
    c->topics[k].t = t;
    c->topics[k].member_fd = -1;
    c->n_topics++;
    if (c->group) c->topics[k].member_fd = sl_log_group_join(t->dir, c->group, &c->topics[k].slot);
    c->topics[k].parts = sl_calloc((size_t)t->conf.partitions, sizeof(struct cpart));
    if (!c->topics[k].parts) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int32_t i = 0; !rc && i < t->conf.partitions; i++) c->topics[k].parts[i].fd = c->topics[k].parts[i].lock_fd = -1;
  }
  if (!rc) rc = claim(c, err);
  if (rc) {
    emb_consumer_close(c);
    return rc;
  }
  *out = c;
  return 0;
}

/* Reads the record at cp->next from partition p into rec. 1: got one; 0: nothing
 * visible yet; < 0: error (a corrupt record names its offset). */
static int read_one(struct sl_log_consumer *c, struct ctopic *ct, int32_t i, struct sl_log_record *rec,
                    struct sl_err *err) {
  struct cpart *cp = &ct->parts[i];
  struct sl_log_part *p = &ct->t->parts[i];
  for (int round = 0; round < 4; round++) {
    /* From the buffer first. */
    while (cp->at < cp->len) {
      uint8_t *f = cp->buf + cp->at;
      size_t avail = cp->len - cp->at;
      if (avail < 4) break;
      uint32_t len = (uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16 | (uint32_t)f[3] << 24;
      if ((size_t)len + 4 > avail) break;
      int64_t off = avail >= 16 ? (int64_t)((uint64_t)f[8] | (uint64_t)f[9] << 8 | (uint64_t)f[10] << 16 |
                                            (uint64_t)f[11] << 24 | (uint64_t)f[12] << 32 | (uint64_t)f[13] << 40 |
                                            (uint64_t)f[14] << 48 | (uint64_t)f[15] << 56)
                                : -1;
      if (off >= 0 && off < cp->next && len >= 4 + SL_LOG_BODY_MIN && len <= SL_LOG_FRAME_MAX) {
        cp->at += (size_t)len + 4;
        continue;
      }
      size_t fl;
      int64_t o, ts;
      /* Frames whose CRC was checked with the buffer's others skip it here; their
       * layout is walked by the decode. */
      int crc = cp->at + (size_t)len + 4 > cp->ok, rc = 0;
      if (sl_log_frame_check_crc(f, avail, crc, &fl, &o, &ts) != SL_FRAME_OK || o < cp->next ||
          (rc = sl_log_frame_decode(f, fl, rec, &c->hdrs, &c->hdr_cap)) == SL_EDATA) {
        char *path = sl_log_seg_path(p->dir, cp->fd_base, "log");
        rc = sl_err_set(err, SL_EDATA,
                        "topic %s partition %d offset %lld: corrupt record (CRC32C or framing mismatch) in %s at "
                        "byte %lld; the record is not returned. Seek past it with --from offset:%lld",
                        ct->t->name, i, (long long)cp->next, path ? path : p->dir,
                        (long long)(cp->buf_pos + (int64_t)cp->at), (long long)cp->next + 1);
        sl_free(path);
        return rc;
      }
      if (rc)
        return sl_err_set(err, rc, "topic %s partition %d offset %lld: cannot decode", ct->t->name, i, (long long)o);
      rec->topic = ct->t->name;
      rec->partition = i;
      cp->at += fl;
      cp->next = o + 1;
      cp->polled = cp->next;
      return 1;
    }
    /* Refill: find the segment holding next and what of it is visible. */
    pthread_mutex_lock(&p->mu);
    int rc = sl_log_part_load(p, err);
    if (rc) {
      pthread_mutex_unlock(&p->mu);
      return rc;
    }
    struct sl_log_partition_info pi;
    sl_log_part_info(p, &pi);
    if (cp->next < pi.start_offset) {
      char a[32], b[32];
      snprintf(a, sizeof a, "%lld", (long long)cp->next);
      snprintf(b, sizeof b, "%lld", (long long)pi.start_offset);
      sl_log(SL_LOG_WARN, "log", "position was removed by retention; continuing at the start", "topic", ct->t->name,
             "position", a, "start", b, NULL);
      cp->next = pi.start_offset;
    }
    if (cp->next >= pi.end_offset) {
      pthread_mutex_unlock(&p->mu);
      cp->len = cp->at = cp->ok = 0;
      return 0;
    }
    size_t s = 0;
    while (s + 1 < p->n_segs && p->segs[s + 1].base <= cp->next) s++;
    struct sl_log_seg *sg = &p->segs[s];
    int64_t pos, at, size = sg->size, base = sg->base;
    if (cp->fd >= 0 && cp->fd_base == base && cp->len && cp->at <= cp->len &&
        cp->buf_pos + (int64_t)cp->at < size) {
      pos = cp->buf_pos + (int64_t)cp->at; /* continue where the buffer stopped */
    } else {
      sl_log_seg_lookup(sg, cp->next, &pos, &at);
    }
    pthread_mutex_unlock(&p->mu);
    if (cp->fd < 0 || cp->fd_base != base) {
      cpart_drop_buf(cp);
      char *path = sl_log_seg_path(p->dir, base, "log");
      cp->fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
      sl_free(path);
      if (cp->fd < 0) {
        if (errno == ENOENT) continue; /* removed by retention meanwhile: look again */
        return sl_err_set(err, SL_EIO, "topic %s partition %d: open segment %lld: %s", ct->t->name, i,
                          (long long)base, strerror(errno));
      }
      cp->fd_base = base;
    }
    size_t want = (size_t)(size - pos < (1 << 20) ? size - pos : (1 << 20));
    if (want == 0) { /* next lies in a later segment whose start we must find */
      cp->len = cp->at = cp->ok = 0;
      cpart_drop_buf(cp);
      return 0;
    }
    /* A frame larger than the buffer gets a buffer of its size. */
    if (cp->cap < want) {
      uint8_t *nb = sl_realloc(cp->buf, want);
      if (!nb) return sl_err_set(err, SL_ENOMEM, "out of memory");
      cp->buf = nb;
      cp->cap = want;
    }
    ssize_t got = pread(cp->fd, cp->buf, want, pos);
    if (got < 0) return sl_err_set(err, SL_EIO, "topic %s partition %d: read: %s", ct->t->name, i, strerror(errno));
    cp->len = (size_t)got;
    cp->ok = 0;
    cp->at = 0;
    cp->buf_pos = pos;
    if (got >= 4) {
      uint32_t len = (uint32_t)cp->buf[0] | (uint32_t)cp->buf[1] << 8 | (uint32_t)cp->buf[2] << 16 |
                     (uint32_t)cp->buf[3] << 24;
      if ((size_t)len + 4 > (size_t)got && len <= SL_LOG_FRAME_MAX && pos + (int64_t)len + 4 <= size) {
        uint8_t *nb = sl_realloc(cp->buf, (size_t)len + 4);
        if (!nb) return sl_err_set(err, SL_ENOMEM, "out of memory");
        cp->buf = nb;
        cp->cap = (size_t)len + 4;
        got = pread(cp->fd, cp->buf, cp->cap, pos);
        cp->len = got > 0 ? (size_t)got : 0;
      } else if ((size_t)len + 4 > (size_t)got && pos + (int64_t)got >= size) {
        /* Visible bytes end inside a frame: a framing error at next. */
        cp->len = (size_t)got;
      }
    }
    cp->ok = sl_log_frames_verified(cp->buf, cp->len);
    /* A frame that does not fit in what is visible is corrupt: report it. */
    if (cp->len && cp->len < 4 + SL_LOG_BODY_MIN) {
      return sl_err_set(err, SL_EDATA, "topic %s partition %d offset %lld: corrupt record (cut frame) at byte %lld",
                        ct->t->name, i, (long long)cp->next, (long long)pos);
    }
    if (round == 3) break;
  }
  /* The buffer holds bytes that never form the record at next. */
  return sl_err_set(err, SL_EDATA, "topic %s partition %d offset %lld: corrupt record (framing mismatch); seek past it",
                    ct->t->name, i, (long long)cp->next);
}

static int emb_consumer_poll(struct sl_log_consumer *c, int timeout_ms, struct sl_log_record *rec,
                             struct sl_err *err) {
  /* Fast path: the partition being read still has records in its buffer. */
  {
    struct ctopic *ct = &c->topics[c->rr_t];
    struct cpart *cp = &ct->parts[c->rr_p];
    if (cp->owned && cp->at < cp->len) {
      int rc = read_one(c, ct, c->rr_p, rec, err);
      if (rc) return rc;
    }
  }
  int64_t deadline = sl_time_mono_ns() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000LL;
  for (;;) {
    pthread_mutex_lock(&c->e->mu);
    uint64_t seq = c->e->data_seq;
    pthread_mutex_unlock(&c->e->mu);
    size_t total = 0;
    for (size_t k = 0; k < c->n_topics; k++) total += (size_t)c->topics[k].t->conf.partitions;
    for (size_t step = 0; step < total; step++) {
      struct ctopic *ct = &c->topics[c->rr_t];
      int32_t i = c->rr_p;
      if (++c->rr_p >= ct->t->conf.partitions) {
        c->rr_p = 0;
        c->rr_t = (c->rr_t + 1) % c->n_topics;
      }
      if (!ct->parts[i].owned) continue;
      int rc = read_one(c, ct, i, rec, err);
      if (rc) {
        /* Stay on this partition while its buffer has records. */
        if (rc == 1 && ct->parts[i].at < ct->parts[i].len) {
          c->rr_t = (size_t)(ct - c->topics);
          c->rr_p = i;
        }
        return rc;
      }
    }
    int64_t now = sl_time_mono_ns();
    if (c->group && now - c->last_claim_ns > 1000000000LL) {
      int rc = claim(c, err);
      if (rc) return rc;
    }
    if (now >= deadline) return 0;
    /* Wait for a flush in this process, or poll the files (another process). */
    int64_t wait = deadline - now < 20000000LL ? deadline - now : 20000000LL;
    pthread_mutex_lock(&c->e->mu);
    if (c->e->data_seq == seq) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += (long)wait;
      ts.tv_sec += ts.tv_nsec / 1000000000L;
      ts.tv_nsec %= 1000000000L;
      pthread_cond_timedwait(&c->e->data_cv, &c->e->mu, &ts);
    }
    pthread_mutex_unlock(&c->e->mu);
  }
}

static int emb_consumer_seek(struct sl_log_consumer *c, const char *topic, int32_t partition, int64_t offset,
                             struct sl_err *err) {
  for (size_t k = 0; k < c->n_topics; k++) {
    struct ctopic *ct = &c->topics[k];
    if (strcmp(ct->t->name, topic)) continue;
    if (partition < 0 || partition >= ct->t->conf.partitions)
      return sl_err_set(err, SL_EINVAL, "topic %s has no partition %d", topic, partition);
    struct cpart *cp = &ct->parts[partition];
    cp->next = cp->polled = offset < 0 ? 0 : offset;
    cp->placed = 1;
    cpart_drop_buf(cp);
    return 0;
  }
  return sl_err_set(err, SL_EINVAL, "the consumer does not read topic %s", topic);
}

static int emb_consumer_commit(struct sl_log_consumer *c, struct sl_err *err) {
  if (!c->group) return sl_err_set(err, SL_EINVAL, "commit needs a consumer group (--group)");
  c->commits = 1;
  for (size_t k = 0; k < c->n_topics; k++) {
    struct ctopic *ct = &c->topics[k];
    int32_t np = ct->t->conf.partitions;
    int64_t *v = sl_calloc((size_t)np, sizeof *v);
    if (!v) return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int32_t i = 0; i < np; i++) v[i] = ct->parts[i].owned && ct->parts[i].placed ? ct->parts[i].polled : -1;
    int rc = sl_log_group_store(ct->t->dir, ct->t->name, c->group, np, v, err);
    sl_free(v);
    if (rc) return rc;
  }
  return 0;
}

const struct sl_log_ops sl_log_embedded_ops = {
    .name = "embedded",
    .open = emb_open,
    .close = emb_close,
    .topic_create = emb_topic_create,
    .topic_delete = emb_topic_delete,
    .topic_list = emb_topic_list,
    .topic_describe = emb_topic_describe,
    .produce = emb_produce,
    .flush = emb_flush,
    .consumer_open = emb_consumer_open,
    .consumer_close = emb_consumer_close,
    .consumer_poll = emb_consumer_poll,
    .consumer_seek = emb_consumer_seek,
    .offsets_for_time = emb_offsets_for_time,
    .consumer_commit = emb_consumer_commit,
};
