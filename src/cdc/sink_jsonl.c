/* sink_jsonl.c: envelopes as JSON lines on stdout or appended to a file. Events are
 * rendered into a buffer that goes to the file every 8 MB; at a transaction's end the
 * rest is written and the file fsynced, and only then is the position durable. stdout
 * is flushed, not synced (a pipe cannot be; its reader owns durability from there). */
#include "cdc/cdc_int.h"
#include "cdc/event.h"

#include "core/buf.h"
#include "core/mem.h"
#include "core/time.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

struct jsonl {
  int fd;
  int own;
  char *path;
  struct sl_buf buf;
  int unsynced;
};

static int jl_drain(struct jsonl *j, struct sl_err *err) {
  for (size_t off = 0; off < j->buf.len;) {
    ssize_t n = write(j->fd, j->buf.data + off, j->buf.len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sl_err_set(err, SL_EIO, "write %s: %s (is the disk full?)", j->path, strerror(errno));
    off += (size_t)n;
  }
  sl_buf_reset(&j->buf);
  return 0;
}

static int jl_event(struct sl_cdc_sink *s, const struct sl_cdc_event_src *es, const struct sl_pgo_relation *rel, char op,
                    const struct sl_pgo_tuple *before, const struct sl_pgo_tuple *after, struct sl_err *err) {
  struct jsonl *j = s->impl;
  if (sl_cdc_envelope(&j->buf, es, rel, op, before, after, sl_time_now_ms()) || sl_buf_putc(&j->buf, '\n'))
    return sl_err_set(err, SL_ENOMEM, "out of memory");
  j->unsynced = 1;
  return j->buf.len >= (8u << 20) ? jl_drain(j, err) : 0;
}

static int jl_boundary(struct sl_cdc_sink *s, uint64_t end_lsn, int force, uint64_t *durable, struct sl_err *err) {
  (void)force;
  struct jsonl *j = s->impl;
  if (j->unsynced) {
    int rc = jl_drain(j, err);
    if (rc) return rc;
    if (fsync(j->fd) && errno != EINVAL && errno != EROFS)
      return sl_err_set(err, SL_EIO, "fsync %s: %s", j->path, strerror(errno));
    j->unsynced = 0;
  }
  if (end_lsn > *durable) *durable = end_lsn;
  return 0;
}

static int jl_pending(struct sl_cdc_sink *s) { return ((struct jsonl *)s->impl)->unsynced; }

static void jl_close(struct sl_cdc_sink *s) {
  struct jsonl *j = s->impl;
  if (!j) return;
  if (j->own) close(j->fd);
  sl_buf_fini(&j->buf);
  sl_free(j->path);
  sl_free(j);
  s->impl = NULL;
}

int sl_cdc_sink_jsonl_open(const char *spec, struct sl_cdc_sink *out, struct sl_err *err) {
  memset(out, 0, sizeof *out);
  if (strncmp(spec, "jsonl", 5) || (spec[5] && spec[5] != ':'))
    return sl_err_set(err, SL_EINVAL, "--to %s: use table, jsonl (stdout) or jsonl:FILE", spec);
  struct jsonl *j = sl_calloc(1, sizeof *j);
  if (!j) return sl_err_set(err, SL_ENOMEM, "out of memory");
  sl_buf_init(&j->buf);
  const char *path = spec[5] == ':' ? spec + 6 : "-";
  if (!strcmp(path, "-")) {
    j->fd = STDOUT_FILENO;
    j->path = sl_strdup("stdout");
  } else {
    j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    j->own = 1;
    j->path = sl_strdup(path);
    if (j->fd < 0) {
      int rc = sl_err_set(err, SL_EIO, "open %s: %s", path, strerror(errno));
      sl_free(j->path);
      sl_free(j);
      return rc;
    }
  }
  out->name = "jsonl";
  out->event = jl_event;
  out->boundary = jl_boundary;
  out->pending = jl_pending;
  out->close = jl_close;
  out->impl = j;
  return 0;
}
