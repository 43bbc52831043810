/* fs.c: atomic writes, folder creation, path joining and safety checks. */
#include "core/fs.h"

#include "core/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sl_fs_fsync_dir(const char *dir, struct sl_err *err) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sl_err_set(err, SL_EIO, "open folder %s: %s", dir, strerror(errno));
  int rc = fsync(fd);
  int e = errno;
  close(fd);
  if (rc) return sl_err_set(err, SL_EIO, "fsync folder %s: %s", dir, strerror(e));
  return 0;
}

static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return sl_strdup(".");
  if (slash == path) return sl_strdup("/");
  return sl_strndup(path, (size_t)(slash - path));
}

int sl_fs_write_atomic(const char *path, const void *data, size_t len, struct sl_err *err) {
  char *tmp = sl_asprintf("%s.tmp.%ld", path, (long)getpid());
  char *dir = dir_of(path);
  int rc = 0, fd = -1;
  if (!tmp || !dir) {
    rc = sl_err_set(err, SL_ENOMEM, "write %s: out of memory", path);
    goto out;
  }
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    rc = sl_err_set(err, SL_EIO, "create %s: %s", tmp, strerror(errno));
    goto out;
  }
  for (size_t off = 0; off < len;) {
    ssize_t n = write(fd, (const char *)data + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      rc = sl_err_set(err, SL_EIO, "write %s: %s (is the disk full?)", tmp, strerror(errno));
      goto out_unlink;
    }
    off += (size_t)n;
  }
  if (fsync(fd)) {
    rc = sl_err_set(err, SL_EIO, "fsync %s: %s", tmp, strerror(errno));
    goto out_unlink;
  }
  close(fd);
  fd = -1;
  if (rename(tmp, path)) {
    rc = sl_err_set(err, SL_EIO, "rename %s to %s: %s", tmp, path, strerror(errno));
    goto out_unlink;
  }
  rc = sl_fs_fsync_dir(dir, err);
  goto out;
out_unlink:
  if (fd >= 0) close(fd);
  fd = -1;
  unlink(tmp);
out:
  if (fd >= 0) close(fd);
  sl_free(tmp);
  sl_free(dir);
  return rc;
}

int sl_fs_read_all(const char *path, size_t max, char **out, size_t *len, struct sl_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return sl_err_set(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, "open %s: %s", path,
                      strerror(errno));
  size_t cap = 4096, n = 0;
  char *b = sl_malloc(cap);
  int rc = 0;
  while (b) {
    if (n + 1 >= cap) {
      char *nb = sl_realloc(b, cap * 2);
      if (!nb) break;
      b = nb;
      cap *= 2;
    }
    size_t got = fread(b + n, 1, cap - n - 1, f);
    n += got;
    if (n > max) {
      rc = sl_err_set(err, SL_EINVAL, "read %s: larger than %zu bytes", path, max);
      break;
    }
    if (got == 0) {
      if (ferror(f)) rc = sl_err_set(err, SL_EIO, "read %s: %s", path, strerror(errno));
      break;
    }
  }
  fclose(f);
  if (!b) return sl_err_set(err, SL_ENOMEM, "read %s: out of memory", path);
  if (rc) {
    sl_free(b);
    return rc;
  }
  b[n] = '\0';
  *out = b;
  if (len) *len = n;
  return 0;
}

int sl_fs_mkdirs(const char *path, struct sl_err *err) {
  char *p = sl_strdup(path);
  if (!p) return sl_err_set(err, SL_ENOMEM, "mkdir %s: out of memory", path);
  int rc = 0;
  for (char *s = p + 1;; s++) {
    if (*s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      if (mkdir(p, 0755) && errno != EEXIST) {
        rc = sl_err_set(err, SL_EIO, "create folder %s: %s", p, strerror(errno));
        break;
      }
      *s = c;
      if (!c) break;
    }
  }
  if (!rc && !sl_fs_is_dir(path))
    rc = sl_err_set(err, SL_EIO, "create folder %s: a file of that name is in the way", path);
  sl_free(p);
  return rc;
}

int sl_fs_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

int sl_fs_is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int64_t sl_fs_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

int sl_fs_remove_tree(const char *path, struct sl_err *err) {
  struct stat st;
  if (lstat(path, &st)) return errno == ENOENT ? 0 : sl_err_set(err, SL_EIO, "stat %s: %s", path, strerror(errno));
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    if (!d) return sl_err_set(err, SL_EIO, "open folder %s: %s", path, strerror(errno));
    struct dirent *de;
    int rc = 0;
    while (!rc && (de = readdir(d))) {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
      char *sub = sl_fs_join(path, de->d_name);
      rc = sub ? sl_fs_remove_tree(sub, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
      sl_free(sub);
    }
    closedir(d);
    if (rc) return rc;
    if (rmdir(path)) return sl_err_set(err, SL_EIO, "remove folder %s: %s", path, strerror(errno));
    return 0;
  }
  if (unlink(path) && errno != ENOENT)
    return sl_err_set(err, SL_EIO, "remove %s: %s", path, strerror(errno));
  return 0;
}

int sl_fs_tree_stat(const char *path, int64_t *newest_ms, int64_t *bytes) {
  struct stat st;
  if (lstat(path, &st)) return -1;
  int64_t m = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
  if (m > *newest_ms) *newest_ms = m;
  if (!S_ISDIR(st.st_mode)) {
    *bytes += (int64_t)st.st_size;
    return 0;
  }
  DIR *d = opendir(path);
  if (!d) return -1;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    char *sub = sl_fs_join(path, de->d_name);
    if (sub) sl_fs_tree_stat(sub, newest_ms, bytes); /* an entry gone meanwhile is skipped */
    sl_free(sub);
  }
  closedir(d);
  return 0;
}

char *sl_fs_join(const char *a, const char *b) {
  size_t la = strlen(a);
  while (la > 1 && a[la - 1] == '/') la--;
  while (*b == '/') b++;
  return sl_asprintf("%.*s/%s", (int)la, a, b);
}

char *sl_fs_abs(const char *path) {
  char cwd[PATH_MAX];
  char *full;
  if (path[0] == '/') full = sl_strdup(path);
  else {
    if (!getcwd(cwd, sizeof cwd)) return NULL;
    full = sl_fs_join(cwd, path);
  }
  if (!full) return NULL;
  /* Lexical normalization in place: a stack of component starts. */
  char *out = sl_malloc(strlen(full) + 2);
  if (!out) {
    sl_free(full);
    return NULL;
  }
  size_t n = 0;
  for (char *s = full; *s;) {
    while (*s == '/') s++;
    if (!*s) break;
    char *e = s;
    while (*e && *e != '/') e++;
    size_t len = (size_t)(e - s);
    if (len == 1 && s[0] == '.') {
    } else if (len == 2 && s[0] == '.' && s[1] == '.') {
      while (n > 0 && out[n - 1] != '/') n--;
      if (n > 0) n--;
    } else {
      out[n++] = '/';
      memcpy(out + n, s, len);
      n += len;
    }
    s = e;
  }
  if (n == 0) out[n++] = '/';
  out[n] = '\0';
  sl_free(full);
  return out;
}

int sl_fs_rel_is_safe(const char *rel) {
  if (!rel || !*rel || rel[0] == '/') return 0;
  const char *s = rel;
  while (*s) {
    const char *e = s;
    while (*e && *e != '/') {
      if ((unsigned char)*e < 0x20 || *e == '\\') return 0;
      e++;
    }
    size_t len = (size_t)(e - s);
    if (len == 0) return 0;
    if (len == 2 && s[0] == '.' && s[1] == '.') return 0;
    if (len == 1 && s[0] == '.') return 0;
    s = *e ? e + 1 : e;
    if (*e && !*s) return 0; /* trailing slash */
  }
  return 1;
}
