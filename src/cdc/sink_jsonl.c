/* sink_jsonl.c: envelopes as JSON lines on stdout or appended to a file. A file is
 * fsynced before its LSN is confirmed; stdout is flushed (a pipe cannot be fsynced, so
 * the reader downstream owns durability from there). */
#include "cdc/cdc_int.h"

#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

struct jsonl {
  int fd;
  int own;
  char *path;
};

static int jl_write(struct sl_cdc_sink *s, const char *data, size_t len, struct sl_err *err) {
  struct jsonl *j = s->impl;
  for (size_t off = 0; off < len;) {
    ssize_t n = write(j->fd, data + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sl_err_set(err, SL_EIO, "write %s: %s (is the disk full?)", j->path, strerror(errno));
    off += (size_t)n;
  }
  return 0;
}

static int jl_sync(struct sl_cdc_sink *s, struct sl_err *err) {
  struct jsonl *j = s->impl;
  if (fsync(j->fd) && errno != EINVAL && errno != EROFS)
    return sl_err_set(err, SL_EIO, "fsync %s: %s", j->path, strerror(errno));
  return 0;
}

static void jl_close(struct sl_cdc_sink *s) {
  struct jsonl *j = s->impl;
  if (!j) return;
  if (j->own) close(j->fd);
  sl_free(j->path);
  sl_free(j);
  s->impl = NULL;
}

int sl_cdc_sink_open(const char *spec, struct sl_cdc_sink *out, struct sl_err *err) {
  memset(out, 0, sizeof *out);
  if (strncmp(spec, "jsonl", 5) || (spec[5] && spec[5] != ':'))
    return sl_err_set(err, SL_EINVAL, "--to %s: use jsonl (stdout) or jsonl:FILE", spec);
  struct jsonl *j = sl_calloc(1, sizeof *j);
  if (!j) return sl_err_set(err, SL_ENOMEM, "out of memory");
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
  out->write = jl_write;
  out->sync = jl_sync;
  out->close = jl_close;
  out->impl = j;
  return 0;
}
