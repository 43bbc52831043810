/* log_part.c: a partition: its segment files, the one writer (group commit, roll,
 * recovery of a torn tail, undo of a failed write), retention, and what readers need
 * to find a record (the visible segments and their bounds).
 *
 * NOTES
 * Visibility: seg->end and seg->size are the durable end (for durability none, the
 * written end); readers in this process never look past them. A writer keeps its
 * write position in w_pos/w_end and moves the visible end only after the fsync.
 * Writer thread: producers encode frames into `pending` under the mutex; the
 * partition's writer thread takes the buffer whenever it holds SL_LOG_WRITE_CHUNK
 * bytes and writes it with the mutex released, so producers encode the next records
 * while the previous ones go to the kernel. A flush asks for a sync (sync_want) and
 * waits: the writer writes what is still queued up to that point, fsyncs once,
 * publishes the new end and wakes every flusher whose records that fsync covered
 * (group commit: all flushes waiting share one fdatasync). Whoever writes holds the
 * `busy` token: a flush of one partition that finds the writer thread idle takes it
 * and writes and syncs itself, saving two thread wake-ups. A failed write or fsync
 * truncates the segment back to the durable end, drops every queued record and
 * bumps fail_gen, so every flush that covered a dropped record fails and nothing is
 * acknowledged that is not on disk. Only the token's holder touches the active
 * segment's files, so it also rolls segments (fsyncs outside the mutex) and applies
 * retention.
 * Processes: the writer holds flock(<dir>/.lock); another process only reads, and
 * re-scans the active segment's tail to see new records. */
#include "log/log_int.h"

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void handoff(struct sl_log_part *p);

int sl_log_part_init(struct sl_log_part *p, struct sl_log *log, const char *root, const char *topic, int32_t id,
                     int64_t retention_ms, int64_t retention_bytes) {
  memset(p, 0, sizeof *p);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the interval wait is on the monotonic clock */
  pthread_cond_init(&p->wr_cv, &ca);
  pthread_mutex_init(&p->wq_mu, NULL);
  pthread_condattr_destroy(&ca);
  p->log = log;
  p->id = id;
  p->topic = sl_strdup(topic);
  p->dir = sl_asprintf("%s/%s/%d", root, topic, id);
  p->lock_fd = p->fd = p->idx_fd = -1;
  p->retention_ms = retention_ms;
  p->retention_bytes = retention_bytes;
  sl_buf_init(&p->pending);
  return p->topic && p->dir ? 0 : SL_ENOMEM;
}

void sl_log_part_fini(struct sl_log_part *p) {
  if (p->wr_running) { /* it writes and syncs what is still queued, then ends */
    pthread_mutex_lock(&p->mu);
    handoff(p);
    pthread_mutex_lock(&p->wq_mu);
    p->sync_want = p->next_offset;
    p->wr_stop = 1;
    pthread_cond_signal(&p->wr_cv);
    pthread_mutex_unlock(&p->wq_mu);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->wr_thread, NULL);
    p->wr_running = 0;
  }
  if (p->fd >= 0) {
    if (p->log->cfg.durability != SL_LOG_FSYNC_NONE) fsync(p->fd);
    close(p->fd);
  }
  if (p->idx_fd >= 0) close(p->idx_fd);
  if (p->lock_fd >= 0) close(p->lock_fd);
  for (size_t i = 0; i < p->n_segs; i++) sl_log_seg_fini(&p->segs[i]);
  sl_free(p->segs);
  sl_buf_fini(&p->pending);
  for (size_t i = 0; i < p->n_ready; i++) sl_buf_fini(&p->ready[i]);
  for (size_t i = 0; i < p->n_free; i++) sl_buf_fini(&p->free_bufs[i]);
  sl_log_seg_fini(&p->wnote);
  sl_free(p->topic);
  sl_free(p->dir);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  pthread_cond_destroy(&p->wr_cv);
  pthread_mutex_destroy(&p->wq_mu);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Bases of the <base>.log files in dir, sorted. */
static int list_bases(const char *dir, int64_t **out, size_t *n, struct sl_err *err) {
  *out = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT) return 0;
    return sl_err_set(err, SL_EIO, "open folder %s: %s", dir, strerror(errno));
  }
  size_t cap = 0;
  struct dirent *de;
  int rc = 0;
  while ((de = readdir(d))) {
    size_t l = strlen(de->d_name);
    if (l != 24 || strcmp(de->d_name + 20, ".log")) continue;
    char *end;
    long long b = strtoll(de->d_name, &end, 10);
    if (end != de->d_name + 20 || b < 0) continue;
    if (sl_array_grow(out, &cap, *n + 1, sizeof **out)) {
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      break;
    }
    (*out)[(*n)++] = b;
  }
  closedir(d);
  if (*n) qsort(*out, *n, sizeof **out, cmp_i64);
  return rc;
}

uint64_t sl_log_fail_total;

static void fmt_i64(char *b, size_t n, int64_t v) { snprintf(b, n, "%lld", (long long)v); }

/* Reads a segment's extent: its index (sealed ones) and a scan of what the index does
 * not cover. torn_pos gets the position of a torn tail, or -1. */
static int seg_open(struct sl_log_part *p, struct sl_log_seg *s, int active, int64_t *torn_pos, struct sl_err *err) {
  char *path = sl_log_seg_path(p->dir, s->base, "log");
  if (!path) return sl_err_set(err, SL_ENOMEM, "out of memory");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  int rc = 0;
  if (fd < 0) {
    rc = errno == ENOENT ? SL_ENOTFOUND : sl_err_set(err, SL_EIO, "open %s: %s", path, strerror(errno));
    sl_free(path);
    return rc;
  }
  int64_t interval = p->log->cfg.index_interval_bytes;
  s->n_idx = 0;
  s->idx_last_pos = -1;
  s->idx_max_ts = s->max_ts = INT64_MIN;
  int64_t pos = 0, at = s->base;
  if (!active) {
    char *ip = sl_log_seg_path(p->dir, s->base, "index");
    s->size = sl_fs_size(path);
    if (ip && sl_log_seg_index_load(ip, s) == 0 && s->n_idx) {
      struct sl_log_idx *last = &s->idx[s->n_idx - 1];
      pos = last->pos;
      at = s->base + last->rel;
      s->idx_last_pos = pos;
      s->idx_max_ts = s->max_ts = last->max_ts;
      s->n_idx--; /* the scan puts it back */
      s->idx_last_pos = s->n_idx ? (int64_t)s->idx[s->n_idx - 1].pos : -1;
    } else {
      s->n_idx = 0;
    }
    sl_free(ip);
  }
  int torn = 0;
  rc = sl_log_seg_scan(fd, path, s, pos, at, interval, &torn, torn_pos, err);
  if (!rc && torn && pos > 0) {
    /* The index pointed somewhere the data does not support: rebuild from the start. */
    s->n_idx = 0;
    s->idx_last_pos = -1;
    s->idx_max_ts = s->max_ts = INT64_MIN;
    rc = sl_log_seg_scan(fd, path, s, 0, s->base, interval, &torn, torn_pos, err);
  }
  if (!torn) *torn_pos = -1;
  close(fd);
  sl_free(path);
  return rc;
}

static int add_seg(struct sl_log_part *p, int64_t base, struct sl_err *err) {
  if (sl_array_grow(&p->segs, &p->cap_segs, p->n_segs + 1, sizeof *p->segs))
    return sl_err_set(err, SL_ENOMEM, "out of memory");
  struct sl_log_seg *s = &p->segs[p->n_segs++];
  memset(s, 0, sizeof *s);
  s->base = s->end = base;
  s->max_ts = s->idx_max_ts = INT64_MIN;
  s->idx_last_pos = -1;
  return 0;
}

int sl_log_part_load(struct sl_log_part *p, struct sl_err *err) {
  if (p->lock_fd >= 0) return 0; /* the writer knows its own files */
  int64_t *bases = NULL;
  size_t n = 0;
  int rc = list_bases(p->dir, &bases, &n, err);
  if (rc) return rc;
  /* Drop segments retention removed (they are gone from the folder). */
  size_t drop = 0;
  while (drop < p->n_segs && drop + 1 < p->n_segs) {
    int present = 0;
    for (size_t i = 0; i < n && !present; i++) present = bases[i] == p->segs[drop].base;
    if (present) break;
    sl_log_seg_fini(&p->segs[drop]);
    drop++;
  }
  if (drop) {
    memmove(p->segs, p->segs + drop, (p->n_segs - drop) * sizeof *p->segs);
    p->n_segs -= drop;
  }
  p->torn_pos = -1;
  /* Re-scan the last known segment's tail, then add the newer ones. */
  if (p->n_segs) {
    struct sl_log_seg *s = &p->segs[p->n_segs - 1];
    char *path = sl_log_seg_path(p->dir, s->base, "log");
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
      int torn;
      int64_t tp;
      rc = sl_log_seg_scan(fd, path, s, s->size, s->end, p->log->cfg.index_interval_bytes, &torn, &tp, err);
      if (torn) p->torn_pos = tp;
      close(fd);
    }
    sl_free(path);
  }
  int64_t last = p->n_segs ? p->segs[p->n_segs - 1].base : -1;
  for (size_t i = 0; !rc && i < n; i++) {
    if (bases[i] <= last) continue;
    if ((rc = add_seg(p, bases[i], err))) break;
    int64_t tp = -1;
    rc = seg_open(p, &p->segs[p->n_segs - 1], i + 1 == n, &tp, err);
    if (rc == SL_ENOTFOUND) { /* removed under us */
      p->n_segs--;
      rc = 0;
      continue;
    }
    p->torn_pos = i + 1 == n ? tp : -1;
    /* A sealed segment ends where the next begins. */
    if (p->n_segs > 1) {
      struct sl_log_seg *prev = &p->segs[p->n_segs - 2];
      if (prev->end < bases[i]) prev->end = bases[i];
    }
  }
  sl_free(bases);
  p->loaded = 1;
  return rc;
}

static int write_index_all(struct sl_log_part *p, struct sl_log_seg *s, struct sl_err *err) {
  uint8_t e[SL_LOG_INDEX_ENTRY];
  if (ftruncate(p->idx_fd, 0)) return sl_err_set(err, SL_EIO, "truncate index of %s: %s", p->dir, strerror(errno));
  for (size_t i = 0; i < s->n_idx; i++) {
    struct sl_log_idx *x = &s->idx[i];
    for (int k = 0; k < 4; k++) e[k] = (uint8_t)(x->rel >> (8 * k)), e[4 + k] = (uint8_t)(x->pos >> (8 * k));
    for (int k = 0; k < 8; k++) e[8 + k] = (uint8_t)((uint64_t)x->max_ts >> (8 * k));
    if (pwrite(p->idx_fd, e, sizeof e, (off_t)(i * sizeof e)) != (ssize_t)sizeof e)
      return sl_err_set(err, SL_EIO, "write index of %s: %s", p->dir, strerror(errno));
  }
  return 0;
}

/* Writes s's entries from `from` on at entry file_base + from of the index file, in
 * one write per 256 entries. */
static int write_index_from(struct sl_log_part *p, const struct sl_log_seg *s, size_t from, size_t file_base) {
  uint8_t e[256 * SL_LOG_INDEX_ENTRY];
  for (size_t i = from; i < s->n_idx;) {
    size_t n = 0;
    for (; n < 256 && i + n < s->n_idx; n++) {
      struct sl_log_idx *x = &s->idx[i + n];
      uint8_t *q = e + n * SL_LOG_INDEX_ENTRY;
      for (int k = 0; k < 4; k++) q[k] = (uint8_t)(x->rel >> (8 * k)), q[4 + k] = (uint8_t)(x->pos >> (8 * k));
      for (int k = 0; k < 8; k++) q[8 + k] = (uint8_t)((uint64_t)x->max_ts >> (8 * k));
    }
    size_t len = n * SL_LOG_INDEX_ENTRY;
    if (pwrite(p->idx_fd, e, len, (off_t)((file_base + i) * SL_LOG_INDEX_ENTRY)) != (ssize_t)len) return -1;
    i += n;
  }
  return 0;
}

/* Opens the active segment (creating it at base when absent) for appending. */
static int open_active(struct sl_log_part *p, struct sl_err *err) {
  struct sl_log_seg *s = &p->segs[p->n_segs - 1];
  char *path = sl_log_seg_path(p->dir, s->base, "log");
  char *ip = sl_log_seg_path(p->dir, s->base, "index");
  int rc = 0;
  if (!path || !ip) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  if (!rc) {
    p->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    p->idx_fd = p->fd >= 0 ? open(ip, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
    if (p->fd < 0 || p->idx_fd < 0) rc = sl_err_set(err, SL_EIO, "open %s: %s", path, strerror(errno));
  }
  if (!rc) rc = write_index_all(p, s, err);
  sl_free(path);
  sl_free(ip);
  return rc;
}

static int writer_start(struct sl_log_part *p, struct sl_err *err);

int sl_log_part_writer(struct sl_log_part *p, struct sl_err *err) {
  if (p->lock_fd >= 0) return writer_start(p, err);
  int rc = sl_fs_mkdirs(p->dir, err);
  if (rc) return rc;
  char *lp = sl_asprintf("%s/.lock", p->dir);
  if (!lp) return sl_err_set(err, SL_ENOMEM, "out of memory");
  int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    rc = sl_err_set(err, SL_EIO, "open %s: %s", lp, strerror(errno));
    sl_free(lp);
    return rc;
  }
  /* Another process may be writing: wait a little for it (a killed writer's lock
   * goes away at once), then say who holds it. */
  for (int tries = 0; flock(fd, LOCK_EX | LOCK_NB); tries++) {
    if (errno != EWOULDBLOCK || tries >= 100) {
      rc = sl_err_set(err, SL_ECONFLICT,
                      "topic %s partition %d is being written by another process (lock %s); stop it, or produce "
                      "through that process",
                      p->topic, p->id, lp);
      close(fd);
      sl_free(lp);
      return rc;
    }
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  sl_free(lp);
  /* Catch up with what the previous writer left, then cut a torn tail. */
  rc = sl_log_part_load(p, err);
  if (rc) {
    close(fd);
    return rc;
  }
  if (!p->n_segs && (rc = add_seg(p, 0, err))) {
    close(fd);
    return rc;
  }
  struct sl_log_seg *s = &p->segs[p->n_segs - 1];
  if (p->torn_pos >= 0) {
    char *path = sl_log_seg_path(p->dir, s->base, "log");
    char o[32], pos[32], cut[32];
    fmt_i64(o, sizeof o, s->end);
    fmt_i64(pos, sizeof pos, p->torn_pos);
    fmt_i64(cut, sizeof cut, sl_fs_size(path) - p->torn_pos);
    sl_log(SL_LOG_WARN, "log", "torn or corrupt tail truncated", "file", path, "offset", o, "position", pos, "bytes",
           cut, NULL);
    if (truncate(path, p->torn_pos)) rc = sl_err_set(err, SL_EIO, "truncate %s: %s", path, strerror(errno));
    sl_free(path);
    p->torn_pos = -1;
  }
  p->lock_fd = fd;
  if (!rc) rc = open_active(p, err);
  if (rc) {
    if (p->fd >= 0) close(p->fd);
    if (p->idx_fd >= 0) close(p->idx_fd);
    p->fd = p->idx_fd = -1;
    close(fd);
    p->lock_fd = -1;
    return rc;
  }
  p->next_offset = s->end;
  p->w_pos = s->size;
  p->w_end = s->end;
  p->w_max_ts = s->max_ts;
  p->last_sync_ns = sl_time_mono_ns();
  /* Retention first: from here on the writer thread alone changes the segment list. */
  rc = sl_log_part_retain(p, err);
  struct sl_err ig = {0};
  int rs = writer_start(p, rc ? &ig : err);
  return rc ? rc : rs;
}

static int do_sync(struct sl_log_part *p, int fd) {
  if (p->log->cfg.durability == SL_LOG_FSYNC_NONE) return 0;
  return fdatasync(fd);
}

/* Index entries the writer made since the last publish go to the active segment's
 * list, where readers look (p->mu held). */
static int notes_publish(struct sl_log_part *p, struct sl_log_seg *s) {
  struct sl_log_seg *w = &p->wnote;
  if (w->n_idx && sl_array_grow(&s->idx, &s->cap_idx, s->n_idx + w->n_idx, sizeof *s->idx)) return SL_ENOMEM;
  if (w->n_idx) memcpy(s->idx + s->n_idx, w->idx, w->n_idx * sizeof *w->idx);
  s->n_idx += w->n_idx;
  w->n_idx = 0;
  s->idx_last_pos = w->idx_last_pos;
  s->idx_max_ts = w->idx_max_ts;
  return 0;
}

static void notes_reset(struct sl_log_part *p, const struct sl_log_seg *s) {
  p->wnote.base = s->base;
  p->wnote.n_idx = 0;
  p->wnote.idx_last_pos = s->idx_last_pos;
  p->wnote.idx_max_ts = s->idx_max_ts;
  p->wnote.max_ts = s->max_ts;
}

/* Moves the queued frames to the writer (p->mu held). */
static void handoff(struct sl_log_part *p) {
  if (!p->pending.len) return;
  pthread_mutex_lock(&p->wq_mu);
  if (p->n_ready < SL_LOG_READY_MAX) { /* else they go with the next one (the writer is busy) */
    p->ready[p->n_ready++] = p->pending;
    if (p->n_free) p->pending = p->free_bufs[--p->n_free];
    else sl_buf_init(&p->pending);
    pthread_cond_signal(&p->wr_cv);
  }
  pthread_mutex_unlock(&p->wq_mu);
}

/* Undoes a failed write: back to the durable end; drops everything queued (p->mu held;
 * the writer thread's). */
static void undo(struct sl_log_part *p) {
  struct sl_log_seg *s = &p->segs[p->n_segs - 1];
  if (p->fd >= 0 && ftruncate(p->fd, s->size)) {
    char *path = sl_log_seg_path(p->dir, s->base, "log");
    sl_log(SL_LOG_ERROR, "log", "cannot truncate after a failed write; reopen the log to recover", "file", path,
           "error", strerror(errno), NULL);
    sl_free(path);
  }
  if (p->idx_fd >= 0 && ftruncate(p->idx_fd, (off_t)(s->n_idx * SL_LOG_INDEX_ENTRY))) { /* rebuilt on open */
  }
  notes_reset(p, s);
  sl_buf_reset(&p->pending);
  pthread_mutex_lock(&p->wq_mu);
  for (size_t i = 0; i < p->n_ready; i++) sl_buf_fini(&p->ready[i]);
  p->n_ready = 0;
  p->sync_want = 0;
  pthread_mutex_unlock(&p->wq_mu);
  p->next_offset = s->end;
  p->w_pos = s->size;
  p->w_end = s->end;
  p->w_max_ts = s->max_ts;
  p->fail_gen++;
  __atomic_fetch_add(&sl_log_fail_total, 1, __ATOMIC_SEQ_CST);
  pthread_cond_broadcast(&p->cv);
}

/* A write or fsync failed: why, then the undo (the writer thread, no lock held). */
static void fail(struct sl_log_part *p, const struct sl_err *why) {
  pthread_mutex_lock(&p->mu);
  p->wr_err = *why;
  undo(p);
  pthread_mutex_unlock(&p->mu);
}

/* Closes the active segment (durable, visible) and starts a new one at the written
 * end (the writer thread, no lock held). */
static int roll(struct sl_log_part *p, struct sl_err *err) {
  int serr = do_sync(p, p->fd) || (p->log->cfg.durability != SL_LOG_FSYNC_NONE && fsync(p->idx_fd)) ? errno : 0;
  pthread_mutex_lock(&p->mu);
  struct sl_log_seg *s = &p->segs[p->n_segs - 1];
  int rc = 0;
  if (serr) rc = sl_err_set(err, SL_EIO, "fsync %s segment %lld: %s", p->dir, (long long)s->base, strerror(serr));
  else if (notes_publish(p, s)) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  if (!rc) {
    s->size = p->w_pos;
    s->end = p->w_end;
    s->max_ts = s->idx_max_ts = p->w_max_ts;
    close(p->fd);
    close(p->idx_fd);
    p->fd = p->idx_fd = -1;
    rc = add_seg(p, p->w_end, err);
    if (!rc) rc = open_active(p, err);
    if (!rc) notes_reset(p, &p->segs[p->n_segs - 1]);
    pthread_cond_broadcast(&p->cv); /* the sealed segment's records are durable */
  }
  pthread_mutex_unlock(&p->mu);
  if (!rc) rc = sl_fs_fsync_dir(p->dir, err);
  if (!rc) {
    p->w_pos = 0;
    p->w_max_ts = INT64_MIN;
  }
  return rc;
}

static uint32_t rd32(const char *p) {
  const uint8_t *u = (const uint8_t *)p;
  return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}
static int64_t rd64(const char *p) { return (int64_t)((uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32); }

/* Appends b (whole frames, offsets from the written end on) to the active segment at
 * the written end, rolling as needed: the writer thread, no lock held. Moves the
 * written end (w_pos/w_end/w_max_ts) and notes index entries in wnote; readers see
 * none of it before sync_publish. */
static int write_frames(struct sl_log_part *p, const struct sl_buf *b, struct sl_err *err) {
  int64_t seg_bytes = p->log->cfg.segment_bytes, interval = p->log->cfg.index_interval_bytes;
  size_t i = 0;
  while (i < b->len) {
    int64_t w_pos = p->w_pos;
    size_t j = i;
    if (w_pos + (int64_t)(b->len - i) <= seg_bytes) j = b->len; /* all of it fits: no walk */
    while (j < b->len) {
      size_t fl = rd32(b->data + j) + 4u;
      if (w_pos + (int64_t)(j - i + fl) > seg_bytes && w_pos + (int64_t)(j - i) > 0) break;
      j += fl;
    }
    if (j == i) {
      int rc = roll(p, err);
      if (rc) return rc;
      continue;
    }
    size_t done = 0;
    int werr = 0;
    while (done < j - i) {
      ssize_t wn = pwrite(p->fd, b->data + i + done, j - i - done, (off_t)(w_pos + (int64_t)done));
      if (wn < 0 && errno == EINTR) continue;
      if (wn <= 0) {
        werr = wn < 0 ? errno : ENOSPC;
        break;
      }
      done += (size_t)wn;
    }
    if (werr) {
      char *path = sl_log_seg_path(p->dir, p->wnote.base, "log");
      int rc = sl_err_set(err, SL_EIO, "write %s: %s; the batch was refused (nothing acknowledged)%s",
                          path ? path : p->dir, strerror(werr), werr == ENOSPC ? "; free disk space" : "");
      sl_free(path);
      return rc;
    }
    /* Index entries: in the file now (readers ignore those past the visible size),
     * in the segment's list at the publish. */
    struct sl_log_seg *w = &p->wnote;
    size_t from = w->n_idx;
    for (size_t k = i; k < j;) {
      size_t fl = rd32(b->data + k) + 4u;
      int64_t off = rd64(b->data + k + 8), ts = rd64(b->data + k + 16);
      if (sl_log_seg_note(w, w_pos + (int64_t)(k - i), off, ts, interval))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
      if (ts > p->w_max_ts) p->w_max_ts = ts;
      p->w_end = off + 1;
      k += fl;
    }
    if (write_index_from(p, w, from, p->segs[p->n_segs - 1].n_idx))
      return sl_err_set(err, SL_EIO, "write index in %s: %s", p->dir, strerror(errno ? errno : ENOSPC));
    p->w_pos = w_pos + (int64_t)(j - i);
    i = j;
  }
  return 0;
}

/* Fsyncs what was written and publishes it as the visible end (the writer thread, no
 * lock held); applies retention about once a second. */
static int sync_publish(struct sl_log_part *p) {
  int serr = do_sync(p, p->fd) ? errno : 0;
  pthread_mutex_lock(&p->mu);
  struct sl_log_seg *s = &p->segs[p->n_segs - 1];
  int rc = 0;
  if (serr) {
    sl_err_set(&p->wr_err, SL_EIO, "fsync %s: %s; the batch was refused (nothing acknowledged)", p->dir,
               strerror(serr));
    undo(p);
    rc = SL_EIO;
  } else if (notes_publish(p, s)) {
    sl_err_set(&p->wr_err, SL_ENOMEM, "out of memory");
    undo(p);
    rc = SL_ENOMEM;
  } else {
    p->last_sync_ns = sl_time_mono_ns();
    s->size = p->w_pos;
    s->end = p->w_end;
    s->max_ts = p->w_max_ts;
    pthread_cond_broadcast(&p->cv);
    if (p->last_sync_ns - p->last_retention_ns > 1000000000LL) {
      struct sl_err err = {0};
      if (sl_log_part_retain(p, &err))
        sl_log(SL_LOG_WARN, "log", "retention failed; tried again after the next sync", "topic", p->topic, "error",
               err.msg, NULL);
    }
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}

/* Written buffers are kept for producers to queue into (their pages stay mapped). */
static void recycle(struct sl_log_part *p, struct sl_buf *b) {
  if (b->cap <= (64u << 20) && p->n_free < sizeof p->free_bufs / sizeof *p->free_bufs) {
    sl_buf_reset(b);
    p->free_bufs[p->n_free++] = *b;
  } else {
    sl_buf_fini(b);
  }
}

/* The writer's work, while there is some: writes what was handed over, syncs for the
 * waiting flushes. Run by whoever holds the `busy` token (the writer thread, or a
 * flushing thread that found it idle: then the batch's write and fsync need no
 * thread hops), with wq_mu held on entry and return. Sets *due when it stopped to
 * let the interval pass (durability interval). A leading flush stops once its own
 * records (below `until`) are durable and leaves the rest to the thread. */
static void serve(struct sl_log_part *p, int64_t *due, int64_t until) {
  int pulled = 0;
  *due = 0;
  for (;;) {
    if (p->segs[p->n_segs - 1].end >= until) return;
    if (p->n_ready) {
      pulled = 0;
      struct sl_buf b = p->ready[0];
      memmove(p->ready, p->ready + 1, --p->n_ready * sizeof *p->ready);
      pthread_mutex_unlock(&p->wq_mu);
      struct sl_err err = {0};
      if (write_frames(p, &b, &err)) fail(p, &err);
      pthread_mutex_lock(&p->wq_mu);
      recycle(p, &b);
      continue;
    }
    /* Everything handed over is written. A flush normally hands over what it needs;
     * if that could not be (the ready list was full), the writer takes it. */
    int64_t durable = p->segs[p->n_segs - 1].end;
    if (p->sync_want > p->w_end && !pulled) {
      pthread_mutex_unlock(&p->wq_mu);
      pthread_mutex_lock(&p->mu);
      handoff(p);
      pthread_mutex_unlock(&p->mu);
      pthread_mutex_lock(&p->wq_mu);
      pulled = 1;
      continue;
    }
    if (p->sync_want > durable && p->w_end > durable) {
      if (p->log->cfg.durability == SL_LOG_FSYNC_INTERVAL && !p->wr_stop) {
        int64_t at = p->last_sync_ns + p->log->cfg.fsync_interval_ms * 1000000LL;
        if (sl_time_mono_ns() < at) { /* records handed over meanwhile are written */
          *due = at;
          return;
        }
      }
      pthread_mutex_unlock(&p->wq_mu);
      sync_publish(p);
      pthread_mutex_lock(&p->wq_mu);
      continue;
    }
    return;
  }
}

static void *writer_main(void *arg) {
  struct sl_log_part *p = arg;
  pthread_mutex_lock(&p->wq_mu);
  for (;;) {
    if (!p->busy) {
      int64_t due;
      p->busy = 1;
      serve(p, &due, INT64_MAX);
      p->busy = 0;
      if (due) {
        struct timespec ts = {due / 1000000000LL, due % 1000000000LL};
        pthread_cond_timedwait(&p->wr_cv, &p->wq_mu, &ts);
        continue;
      }
      if (p->wr_stop) break;
    }
    pthread_cond_wait(&p->wr_cv, &p->wq_mu);
  }
  pthread_mutex_unlock(&p->wq_mu);
  return NULL;
}

static int writer_start(struct sl_log_part *p, struct sl_err *err) {
  if (p->wr_running) return 0;
  notes_reset(p, &p->segs[p->n_segs - 1]);
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 256u << 10); /* one per written partition: small stacks */
  int e = pthread_create(&p->wr_thread, &a, writer_main, p);
  pthread_attr_destroy(&a);
  if (e)
    return sl_err_set(err, SL_EIO, "topic %s partition %d: cannot start its writer thread: %s", p->topic, p->id,
                      strerror(e));
  p->wr_running = 1;
  return 0;
}

/* Queued bytes handed to the writer thread at once; a flush hands over the rest. */
#define SL_LOG_WRITE_CHUNK (1u << 20)

int sl_log_part_queue(struct sl_log_part *p, const struct sl_log_msg *msgs, size_t n, int64_t *offsets,
                      struct sl_err *err) {
  /* Sizes first: a call is refused whole, or queued (only running out of memory
   * can stop it half way). */
  for (size_t i = 0; i < n; i++)
    if (!sl_log_frame_size_fast(&msgs[i]))
      return sl_err_set(err, SL_EINVAL, "topic %s: record %zu is too large (more than %u bytes with key and headers)",
                        p->topic, i, SL_LOG_FRAME_MAX);
  int64_t now = 0;
  for (size_t i = 0; i < n && !now; i++)
    if (msgs[i].ts_ms <= 0) now = sl_time_now_ms();
  size_t sizes[256];
  struct sl_buf *b = &p->pending;
  size_t before = b->len;
  for (size_t i = 0; i < n;) {
    size_t k = n - i < 256 ? n - i : 256;
    for (size_t j = 0; j < k; j++) sizes[j] = sl_log_frame_size_fast(&msgs[i + j]);
    if (sl_log_frames_encode(b, msgs + i, sizes, k, p->next_offset, now)) {
      if (i) { /* what was queued of this call goes on; flushes covering it fail */
        sl_err_set(&p->wr_err, SL_ENOMEM, "out of memory queueing records for topic %s", p->topic);
        p->fail_gen++;
        __atomic_fetch_add(&sl_log_fail_total, 1, __ATOMIC_SEQ_CST);
        pthread_cond_broadcast(&p->cv);
      } else {
        b->len = before;
      }
      return sl_err_set(err, SL_ENOMEM, "out of memory queueing records for topic %s", p->topic);
    }
    for (size_t j = 0; offsets && j < k; j++) offsets[i + j] = p->next_offset + (int64_t)j;
    p->next_offset += (int64_t)k;
    i += k;
    if (b->len >= SL_LOG_WRITE_CHUNK) handoff(p);
  }
  return 0;
}

void sl_log_part_flush_begin(struct sl_log_part *p, int lead, int64_t *target, uint64_t *gen) {
  pthread_mutex_lock(&p->mu);
  *target = p->next_offset;
  *gen = p->fail_gen;
  int leader = 0;
  if (p->lock_fd >= 0 && p->segs[p->n_segs - 1].end < *target) {
    handoff(p);
    pthread_mutex_lock(&p->wq_mu);
    if (p->sync_want < *target) p->sync_want = *target;
    if (lead && !p->busy && p->wr_running && p->log->cfg.durability != SL_LOG_FSYNC_INTERVAL)
      p->busy = leader = 1;
    else
      pthread_cond_signal(&p->wr_cv);
    pthread_mutex_unlock(&p->wq_mu);
  }
  pthread_mutex_unlock(&p->mu);
  if (leader) { /* the writer thread is idle: write and sync here */
    int64_t due;
    pthread_mutex_lock(&p->wq_mu);
    serve(p, &due, *target);
    p->busy = 0;
    pthread_cond_signal(&p->wr_cv); /* whatever arrived meanwhile is the thread's again */
    pthread_mutex_unlock(&p->wq_mu);
  }
}

int sl_log_part_flush_wait(struct sl_log_part *p, int64_t target, uint64_t gen, struct sl_err *err) {
  pthread_mutex_lock(&p->mu);
  int rc = 0;
  while (p->lock_fd >= 0 && p->segs[p->n_segs - 1].end < target) {
    if (p->fail_gen != gen) {
      rc = sl_err_set(err, SL_EIO, "topic %s partition %d: %s; records queued before it were dropped (nothing of "
                                   "them acknowledged)", p->topic, p->id, p->wr_err.msg);
      break;
    }
    pthread_cond_wait(&p->cv, &p->mu);
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}

int sl_log_part_flush(struct sl_log_part *p, struct sl_err *err) {
  int64_t target;
  uint64_t gen;
  sl_log_part_flush_begin(p, 1, &target, &gen);
  return sl_log_part_flush_wait(p, target, gen, err);
}

int sl_log_part_retain(struct sl_log_part *p, struct sl_err *err) {
  p->last_retention_ns = sl_time_mono_ns();
  int64_t total = 0;
  for (size_t i = 0; i < p->n_segs; i++) total += p->segs[i].size;
  int64_t now = sl_time_now_ms();
  size_t drop = 0;
  while (drop + 1 < p->n_segs) {
    struct sl_log_seg *s = &p->segs[drop];
    int old = p->retention_ms >= 0 && s->max_ts < now - p->retention_ms;
    int big = p->retention_bytes >= 0 && total - s->size >= p->retention_bytes;
    if (!old && !big) break;
    char *lp = sl_log_seg_path(p->dir, s->base, "log"), *ip = sl_log_seg_path(p->dir, s->base, "index");
    if (!lp || !ip || (unlink(lp) && errno != ENOENT)) {
      int rc = sl_err_set(err, SL_EIO, "retention: remove %s: %s", lp ? lp : p->dir, strerror(errno));
      sl_free(lp);
      sl_free(ip);
      return rc;
    }
    unlink(ip);
    char b[32], e[32];
    fmt_i64(b, sizeof b, s->base);
    fmt_i64(e, sizeof e, s->end);
    sl_log(SL_LOG_INFO, "log", "retention removed a segment", "topic", p->topic, "file", lp, "from", b, "to", e,
           "reason", old ? "time" : "size", NULL);
    sl_free(lp);
    sl_free(ip);
    total -= s->size;
    sl_log_seg_fini(s);
    drop++;
  }
  if (drop) {
    memmove(p->segs, p->segs + drop, (p->n_segs - drop) * sizeof *p->segs);
    p->n_segs -= drop;
  }
  return 0;
}

void sl_log_part_info(struct sl_log_part *p, struct sl_log_partition_info *out) {
  out->partition = p->id;
  out->start_offset = p->n_segs ? p->segs[0].base : 0;
  out->end_offset = p->n_segs ? p->segs[p->n_segs - 1].end : 0;
  out->bytes = 0;
  for (size_t i = 0; i < p->n_segs; i++) out->bytes += p->segs[i].size;
}

/* With p->mu held. */
int64_t sl_log_part_offset_for_time(struct sl_log_part *p, int64_t ts_ms, struct sl_err *err) {
  for (size_t i = 0; i < p->n_segs; i++) {
    struct sl_log_seg *s = &p->segs[i];
    if (s->max_ts < ts_ms || s->end == s->base) continue;
    int64_t pos, at;
    sl_log_seg_lookup_time(s, ts_ms, &pos, &at);
    char *path = sl_log_seg_path(p->dir, s->base, "log");
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    sl_free(path);
    if (fd < 0) return sl_err_set(err, SL_EIO, "topic %s partition %d: cannot open segment %lld", p->topic, p->id,
                                  (long long)s->base);
    uint8_t hdr[24];
    int64_t found = -1;
    while (pos < s->size && found < 0) {
      if (pread(fd, hdr, sizeof hdr, pos) != (ssize_t)sizeof hdr) break;
      uint32_t len = rd32((const char *)hdr);
      int64_t ts = rd64((const char *)hdr + 16), off = rd64((const char *)hdr + 8);
      if (ts >= ts_ms) found = off;
      pos += (int64_t)len + 4;
    }
    close(fd);
    if (found >= 0) return found;
  }
  return p->n_segs ? p->segs[p->n_segs - 1].end : 0;
}
