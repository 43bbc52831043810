/* log_group.c: consumer groups of the embedded log. A group's committed offsets for a
 * topic live in <topic>/groups/<group>.json ({"group","offsets":[...]}, -1 where
 * nothing is committed), replaced atomically (core/fs.h) under an flock of
 * <group>.lock so members committing at once do not lose each other's partitions. A
 * member reads a partition only while it holds <group>.<partition>.lock, so two
 * members (threads or processes) never read the same partition; a member that dies
 * releases its partitions to the others at once. Members also hold one of
 * <group>.m<k>.lock; the number of held slots is the group's size, and a member
 * keeps at most ceil(partitions / size) partitions, handing the rest over. */
#include "log/log_int.h"

#include "core/fs.h"
#include "core/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int sl_log_group_name_check(const char *group, struct sl_err *err) {
  struct sl_err e = {0};
  if (sl_log_topic_name_check(group, &e))
    return sl_err_set(err, SL_EINVAL, "consumer group '%s': use 1 to 249 letters, digits, '.', '_' or '-'", group);
  return 0;
}

static char *group_path(const char *topic_dir, const char *group, const char *ext) {
  return sl_asprintf("%s/groups/%s%s", topic_dir, group, ext);
}

int sl_log_group_load(const char *topic_dir, const char *group, int32_t n_parts, int64_t *committed,
                      struct sl_err *err) {
  for (int32_t i = 0; i < n_parts; i++) committed[i] = -1;
  char *path = group_path(topic_dir, group, ".json");
  if (!path) return sl_err_set(err, SL_ENOMEM, "out of memory");
  if (!sl_fs_exists(path)) {
    sl_free(path);
    return 0;
  }
  json_error_t je;
  json_t *doc = json_load_file(path, 0, &je);
  json_t *offs = doc ? json_object_get(doc, "offsets") : NULL;
  int rc = 0;
  if (!json_is_array(offs)) {
    rc = sl_err_set(err, SL_EDATA, "%s: not a committed-offsets file (%s); remove it to reset the group", path,
                    doc ? "no offsets array" : je.text);
  } else {
    for (size_t i = 0; i < json_array_size(offs) && (int32_t)i < n_parts; i++) {
      json_t *v = json_array_get(offs, i);
      committed[i] = json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
    }
  }
  json_decref(doc);
  sl_free(path);
  return rc;
}

int sl_log_group_store(const char *topic_dir, const char *topic, const char *group, int32_t n_parts,
                       const int64_t *committed, struct sl_err *err) {
  char *dir = sl_asprintf("%s/groups", topic_dir);
  char *lp = group_path(topic_dir, group, ".lock");
  int rc = dir && lp ? sl_fs_mkdirs(dir, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  int lfd = rc ? -1 : open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (!rc && (lfd < 0 || flock(lfd, LOCK_EX))) rc = sl_err_set(err, SL_EIO, "lock %s: %s", lp, strerror(errno));
  int64_t *cur = rc ? NULL : sl_calloc((size_t)n_parts + 1, sizeof *cur);
  if (!rc && !cur) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  if (!rc) rc = sl_log_group_load(topic_dir, group, n_parts, cur, err);
  if (!rc) {
    json_t *arr = json_array();
    for (int32_t i = 0; i < n_parts; i++) {
      int64_t v = committed[i] >= 0 ? committed[i] : cur[i];
      json_array_append_new(arr, json_integer(v));
    }
    json_t *doc = json_pack("{s:s, s:s, s:o}", "topic", topic, "group", group, "offsets", arr);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    char *path = group_path(topic_dir, group, ".json");
    rc = text && path ? sl_fs_write_atomic(path, text, strlen(text), err) : sl_err_set(err, SL_ENOMEM, "out of memory");
    free(text);
    sl_free(path);
    json_decref(doc);
  }
  if (lfd >= 0) close(lfd);
  sl_free(cur);
  sl_free(dir);
  sl_free(lp);
  return rc;
}

int sl_log_group_list(const char *topic_dir, char ***names, size_t *n, struct sl_err *err) {
  *names = NULL;
  *n = 0;
  char *dir = sl_asprintf("%s/groups", topic_dir);
  DIR *d = dir ? opendir(dir) : NULL;
  sl_free(dir);
  if (!d) return 0;
  size_t cap = 0;
  struct dirent *de;
  int rc = 0;
  while ((de = readdir(d))) {
    size_t l = strlen(de->d_name);
    if (l <= 5 || strcmp(de->d_name + l - 5, ".json")) continue;
    if (sl_array_grow(names, &cap, *n + 1, sizeof **names) || !((*names)[*n] = sl_strndup(de->d_name, l - 5))) {
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      break;
    }
    (*n)++;
  }
  closedir(d);
  return rc;
}

int sl_log_group_claim(const char *topic_dir, const char *group, int32_t part) {
  char *dir = sl_asprintf("%s/groups", topic_dir);
  char *lp = sl_asprintf("%s/groups/%s.%d.lock", topic_dir, group, part);
  struct sl_err e = {0};
  int fd = -1;
  if (dir && lp && !sl_fs_mkdirs(dir, &e)) {
    fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB)) {
      close(fd);
      fd = -1;
    }
  }
  sl_free(dir);
  sl_free(lp);
  return fd;
}

#define MEMBER_SLOTS 256

static char *slot_path(const char *topic_dir, const char *group, int k) {
  return sl_asprintf("%s/groups/%s.m%d.lock", topic_dir, group, k);
}

int sl_log_group_join(const char *topic_dir, const char *group, int *slot) {
  char *dir = sl_asprintf("%s/groups", topic_dir);
  struct sl_err e = {0};
  int fd = -1;
  if (dir && !sl_fs_mkdirs(dir, &e)) {
    for (int k = 0; k < MEMBER_SLOTS && fd < 0; k++) {
      char *p = slot_path(topic_dir, group, k);
      fd = p ? open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
      sl_free(p);
      if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB)) {
        close(fd);
        fd = -1;
      } else if (fd >= 0) {
        *slot = k;
      }
    }
  }
  sl_free(dir);
  return fd;
}

int sl_log_group_members(const char *topic_dir, const char *group, int slot) {
  int n = 0;
  for (int k = 0; k < MEMBER_SLOTS; k++) {
    if (k == slot) {
      n++;
      continue;
    }
    char *p = slot_path(topic_dir, group, k);
    int fd = p ? open(p, O_RDWR | O_CLOEXEC) : -1;
    sl_free(p);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB)) n++; /* held: a live member */
    close(fd);
  }
  return n ? n : 1;
}
