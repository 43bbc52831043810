/* local.c: the lake on a local folder. Objects are files under the root; put is an
 * atomic write; sync fsyncs files written by others (DuckDB) and their folders. */
#include "lake/lake.h"

#include "core/fs.h"
#include "core/mem.h"
#include "core/strs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int local_open(struct sl_store *s, const char *root, struct sl_err *err) {
  int rc = sl_fs_mkdirs(root, err);
  if (rc) return rc;
  s->root = sl_fs_abs(root);
  return s->root ? 0 : sl_err_set(err, SL_ENOMEM, "lake: out of memory");
}

static void local_close(struct sl_store *s) { (void)s; }

static char *local_url(struct sl_store *s, const char *key) { return sl_fs_join(s->root, key); }

static int local_prepare(struct sl_store *s, const char *prefix, struct sl_err *err) {
  char *p = local_url(s, prefix);
  if (!p) return sl_err_set(err, SL_ENOMEM, "lake: out of memory");
  int rc = sl_fs_mkdirs(p, err);
  sl_free(p);
  return rc;
}

static int local_put(struct sl_store *s, const char *key, const void *data, size_t len, struct sl_err *err) {
  char *p = local_url(s, key);
  if (!p) return sl_err_set(err, SL_ENOMEM, "lake: out of memory");
  char *slash = strrchr(p, '/');
  *slash = '\0';
  int rc = sl_fs_mkdirs(p, err);
  *slash = '/';
  if (!rc) rc = sl_fs_write_atomic(p, data, len, err);
  sl_free(p);
  return rc;
}

static int local_get(struct sl_store *s, const char *key, char **data, size_t *len, struct sl_err *err) {
  char *p = local_url(s, key);
  if (!p) return sl_err_set(err, SL_ENOMEM, "lake: out of memory");
  int rc = sl_fs_read_all(p, (size_t)1 << 31, data, len, err);
  sl_free(p);
  return rc;
}

struct keylist {
  char **keys;
  size_t n, cap;
};

static int walk(const char *root, const char *rel, struct keylist *kl, struct sl_err *err) {
  char *dir = sl_fs_join(root, rel);
  if (!dir) return sl_err_set(err, SL_ENOMEM, "lake: out of memory");
  DIR *d = opendir(dir);
  if (!d) {
    int rc = errno == ENOENT || errno == ENOTDIR ? 0 : sl_err_set(err, SL_EIO, "list %s: %s", dir, strerror(errno));
    sl_free(dir);
    return rc;
  }
  int rc = 0;
  struct dirent *de;
  while (!rc && (de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    char *sub = sl_asprintf("%s/%s", rel, de->d_name);
    char *full = sl_fs_join(dir, de->d_name);
    if (!sub || !full) rc = sl_err_set(err, SL_ENOMEM, "lake: out of memory");
    else if (sl_fs_is_dir(full)) rc = walk(root, sub, kl, err);
    else {
      if (kl->n == kl->cap) {
        size_t cap = kl->cap ? kl->cap * 2 : 16;
        char **k = sl_realloc(kl->keys, cap * sizeof *k);
        if (!k) rc = sl_err_set(err, SL_ENOMEM, "lake: out of memory");
        else {
          kl->keys = k;
          kl->cap = cap;
        }
      }
      if (!rc) {
        kl->keys[kl->n++] = sub;
        sub = NULL;
      }
    }
    sl_free(sub);
    sl_free(full);
  }
  closedir(d);
  sl_free(dir);
  return rc;
}

static int local_list(struct sl_store *s, const char *prefix, char ***keys, size_t *n, struct sl_err *err) {
  struct keylist kl = {0};
  int rc = walk(s->root, prefix, &kl, err);
  if (rc) {
    for (size_t i = 0; i < kl.n; i++) sl_free(kl.keys[i]);
    sl_free(kl.keys);
    return rc;
  }
  if (kl.n) qsort(kl.keys, kl.n, sizeof *kl.keys, sl_strs_cmp);
  *keys = kl.keys;
  *n = kl.n;
  return 0;
}

static int local_del(struct sl_store *s, const char *key, struct sl_err *err) {
  char *p = local_url(s, key);
  if (!p) return sl_err_set(err, SL_ENOMEM, "lake: out of memory");
  int rc = 0;
  if (unlink(p) && errno != ENOENT) rc = sl_err_set(err, SL_EIO, "delete %s: %s", p, strerror(errno));
  sl_free(p);
  return rc;
}

static int local_stat(struct sl_store *s, const char *key, int64_t *mtime_ms, int64_t *bytes, struct sl_err *err) {
  char *p = local_url(s, key);
  if (!p) return sl_err_set(err, SL_ENOMEM, "lake: out of memory");
  struct stat sb;
  int rc = 0;
  if (stat(p, &sb)) rc = sl_err_set(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, "stat %s: %s", p, strerror(errno));
  else {
    *mtime_ms = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
    *bytes = (int64_t)sb.st_size;
  }
  sl_free(p);
  return rc;
}

static int fsync_path(const char *p, struct sl_err *err) {
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sl_err_set(err, SL_EIO, "open %s: %s", p, strerror(errno));
  int rc = fsync(fd) ? sl_err_set(err, SL_EIO, "fsync %s: %s", p, strerror(errno)) : 0;
  close(fd);
  return rc;
}

static int local_sync(struct sl_store *s, const char *const *keys, size_t n, struct sl_err *err) {
  int rc = 0;
  char *last_dir = NULL;
  for (size_t i = 0; !rc && i < n; i++) {
    char *p = local_url(s, keys[i]);
    if (!p) return sl_err_set(err, SL_ENOMEM, "lake: out of memory");
    rc = fsync_path(p, err);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    if (!rc && (!last_dir || strcmp(last_dir, p))) {
      rc = sl_fs_fsync_dir(p, err);
      sl_free(last_dir);
      last_dir = sl_strdup(p);
    }
    sl_free(p);
  }
  sl_free(last_dir);
  return rc;
}

const struct sl_store_ops sl_store_local_ops = {
    .name = "local",
    .open = local_open,
    .close = local_close,
    .put = local_put,
    .get = local_get,
    .list = local_list,
    .del = local_del,
    .stat = local_stat,
    .url = local_url,
    .sync = local_sync,
    .prepare = local_prepare,
};
