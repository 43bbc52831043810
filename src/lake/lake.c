/* lake.c: store dispatch, key checks, and the lake's options. Every key is checked
 * here, once, so no backend can be asked for a path outside the lake. */
#include "lake/lake.h"

#include "core/mem.h"
#include "core/fs.h"

#include <stddef.h>
#include <string.h>

const struct sl_cfg_section sl_lake_section = {
    "lake",
    (const struct sl_opt[]){
        {"path", SL_OPT_STR, offsetof(struct sl_lake_opts, path), "lake", 0, -1, NULL,
         "Folder of the lake's data files (bronze/silver/gold zones), relative to the project.", 0},
        {"retention", SL_OPT_DURATION, offsetof(struct sl_lake_opts, retention_ms), "7d", 1, 0, NULL,
         "How long `sluice vacuum` keeps a snapshot after a newer one replaced it (for time travel "
         "with --as-of and for readers still reading it), and files no snapshot names (an ingest "
         "or build that was killed) for at least as long, never less than an hour. A table's "
         "current snapshot, and those its incremental models read from, are always kept.", 0},
        {"vacuum_every", SL_OPT_DURATION, offsetof(struct sl_lake_opts, vacuum_every_ms), "1h", 1, 0, NULL,
         "How often `sluice up` runs `sluice vacuum` (with lake.retention) in the background; its "
         "figures are in /metrics (sluice_vacuum_*). 0 never.", 0},
        {"compact_every", SL_OPT_DURATION, offsetof(struct sl_lake_opts, compact_every_ms), "1h", 1, 0, NULL,
         "How often `sluice up` runs `sluice compact` in the background (before vacuuming): the small "
         "files of appended tables (change data capture writes one per commit; the audit tables one per "
         "build) are rewritten into files of ingest.target_file_size. Models' tables are left to their "
         "builds, which pack them as they merge. 0 never.", 0},
        {NULL, 0, 0, NULL, 0, 0, NULL, NULL, 0},
    },
    "Where the lake's data files live.",
};

static int check_key(const char *key, struct sl_err *err) {
  if (sl_fs_rel_is_safe(key)) return 0;
  return sl_err_set(err, SL_EINVAL, "lake key '%s' is not a plain relative path inside the lake", key);
}

int sl_store_open(const char *location, struct sl_store **out, struct sl_err *err) {
  struct sl_store *s = sl_calloc(1, sizeof *s);
  if (!s) return sl_err_set(err, SL_ENOMEM, "lake: out of memory");
  if (strstr(location, "://")) {
    sl_free(s);
    return sl_err_set(err, SL_ECONFIG, "lake location %s: only local folders are supported so far", location);
  }
  s->ops = &sl_store_local_ops;
  int rc = s->ops->open(s, location, err);
  if (rc) {
    sl_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

void sl_store_close(struct sl_store *s) {
  if (!s) return;
  s->ops->close(s);
  sl_free(s->root);
  sl_free(s);
}

int sl_store_put(struct sl_store *s, const char *key, const void *data, size_t len, struct sl_err *err) {
  return check_key(key, err) ? err->code : s->ops->put(s, key, data, len, err);
}
int sl_store_get(struct sl_store *s, const char *key, char **data, size_t *len, struct sl_err *err) {
  return check_key(key, err) ? err->code : s->ops->get(s, key, data, len, err);
}
int sl_store_list(struct sl_store *s, const char *prefix, char ***keys, size_t *n, struct sl_err *err) {
  return check_key(prefix, err) ? err->code : s->ops->list(s, prefix, keys, n, err);
}
int sl_store_del(struct sl_store *s, const char *key, struct sl_err *err) {
  return check_key(key, err) ? err->code : s->ops->del(s, key, err);
}
int sl_store_stat(struct sl_store *s, const char *key, int64_t *mtime_ms, int64_t *bytes, struct sl_err *err) {
  return check_key(key, err) ? err->code : s->ops->stat(s, key, mtime_ms, bytes, err);
}
char *sl_store_url(struct sl_store *s, const char *key) {
  return sl_fs_rel_is_safe(key) ? s->ops->url(s, key) : NULL;
}
int sl_store_sync(struct sl_store *s, const char *const *keys, size_t n, struct sl_err *err) {
  for (size_t i = 0; i < n; i++)
    if (check_key(keys[i], err)) return err->code;
  return s->ops->sync(s, keys, n, err);
}
int sl_store_prepare(struct sl_store *s, const char *key_prefix, struct sl_err *err) {
  return check_key(key_prefix, err) ? err->code : s->ops->prepare(s, key_prefix, err);
}

char *sl_store_key_of(struct sl_store *s, const char *url) {
  char *base = s->ops->url(s, "x");
  if (!base) return NULL;
  size_t n = strlen(base) - 1; /* the url of the root, with its trailing '/' */
  char *key = NULL;
  if (strncmp(url, base, n) == 0 && sl_fs_rel_is_safe(url + n)) key = sl_strdup(url + n);
  sl_free(base);
  return key;
}

char *sl_lake_table_data_prefix(const char *ns, const char *table) {
  return sl_asprintf("%s/%s/data", ns, table);
}
