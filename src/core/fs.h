/* fs.h: file system helpers. sl_fs_write_atomic is the only way sluice replaces a
 * file: temp file in the same folder, write, fsync, rename, fsync the folder, so a
 * reader or a crash sees the old content or the new, never a mix. */
#ifndef SL_CORE_FS_H
#define SL_CORE_FS_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

int sl_fs_write_atomic(const char *path, const void *data, size_t len, struct sl_err *err);
/* Reads a whole file (up to max bytes) into a new NUL-terminated buffer. */
int sl_fs_read_all(const char *path, size_t max, char **out, size_t *len, struct sl_err *err);
int sl_fs_mkdirs(const char *path, struct sl_err *err);
int sl_fs_fsync_dir(const char *dir, struct sl_err *err);
int sl_fs_exists(const char *path);
int sl_fs_is_dir(const char *path);
int64_t sl_fs_size(const char *path); /* -1 if it cannot be stat'ed */
/* Removes a file or a folder tree; missing is fine. */
int sl_fs_remove_tree(const char *path, struct sl_err *err);
/* The newest modification time (ms since the epoch) of path and everything below it,
 * and their bytes; symbolic links are not followed. -1 if path cannot be stat'ed. */
int sl_fs_tree_stat(const char *path, int64_t *newest_ms, int64_t *bytes);
/* Joins a and b with one '/'; new string. */
char *sl_fs_join(const char *a, const char *b);
/* Absolute, normalized path (no ".", "..", "//"), computed lexically against the cwd. */
char *sl_fs_abs(const char *path);
/* 1 if rel is a relative path that stays inside its root: not absolute, no ".." step,
 * no empty step, no backslash or control characters. Used for every lake key. */
int sl_fs_rel_is_safe(const char *rel);

#endif
