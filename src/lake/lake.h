/* lake.h: the lake's object store. Keys are relative paths ("bronze/trips/data/x.parquet")
 * that can never escape the lake (sl_fs_rel_is_safe is checked on every key). Backends
 * implement struct sl_store_ops: local.c (a folder) now, S3 later. DuckDB reads and
 * writes data files through the URL that sl_store_url gives (a local path, or s3://). */
#ifndef SL_LAKE_LAKE_H
#define SL_LAKE_LAKE_H

#include "core/config.h"
#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

struct sl_lake_opts {
  char *path; /* the lake's root folder, relative to the project */
  int64_t retention_ms; /* how long replaced snapshots and their files are kept */
  int64_t vacuum_every_ms; /* how often `sluice up` vacuums; 0: never */
  int64_t compact_every_ms; /* how often `sluice up` compacts; 0: never */
};
extern const struct sl_cfg_section sl_lake_section;

struct sl_store;

struct sl_store_ops {
  const char *name;
  int (*open)(struct sl_store *s, const char *root, struct sl_err *err);
  void (*close)(struct sl_store *s);
  int (*put)(struct sl_store *s, const char *key, const void *data, size_t len, struct sl_err *err);
  int (*get)(struct sl_store *s, const char *key, char **data, size_t *len, struct sl_err *err);
  /* Keys under prefix (a folder-like prefix without trailing slash), sorted. */
  int (*list)(struct sl_store *s, const char *prefix, char ***keys, size_t *n, struct sl_err *err);
  int (*del)(struct sl_store *s, const char *key, struct sl_err *err);
  /* When the object was last written (ms since the epoch), and its size. */
  int (*stat)(struct sl_store *s, const char *key, int64_t *mtime_ms, int64_t *bytes, struct sl_err *err);
  /* Where a writer (DuckDB) puts a new object with this key; new string. */
  char *(*url)(struct sl_store *s, const char *key);
  /* Makes objects written through url() durable (fsync files and folder). */
  int (*sync)(struct sl_store *s, const char *const *keys, size_t n, struct sl_err *err);
  /* Prepares the folder of key for a writer (creates it on a local disk). */
  int (*prepare)(struct sl_store *s, const char *key_prefix, struct sl_err *err);
};

struct sl_store {
  const struct sl_store_ops *ops;
  char *root;
  void *impl;
};

extern const struct sl_store_ops sl_store_local_ops;

/* Opens the store for a lake location: a folder path (absolute) for now. */
int sl_store_open(const char *location, struct sl_store **out, struct sl_err *err);
void sl_store_close(struct sl_store *s);
int sl_store_put(struct sl_store *s, const char *key, const void *data, size_t len, struct sl_err *err);
int sl_store_get(struct sl_store *s, const char *key, char **data, size_t *len, struct sl_err *err);
int sl_store_list(struct sl_store *s, const char *prefix, char ***keys, size_t *n, struct sl_err *err);
int sl_store_del(struct sl_store *s, const char *key, struct sl_err *err);
int sl_store_stat(struct sl_store *s, const char *key, int64_t *mtime_ms, int64_t *bytes, struct sl_err *err);
char *sl_store_url(struct sl_store *s, const char *key);
int sl_store_sync(struct sl_store *s, const char *const *keys, size_t n, struct sl_err *err);
int sl_store_prepare(struct sl_store *s, const char *key_prefix, struct sl_err *err);
/* The key of a URL returned by sl_store_url (NULL if it is not inside this store). */
char *sl_store_key_of(struct sl_store *s, const char *url);

/* "<ns>/<table>/data" */
char *sl_lake_table_data_prefix(const char *ns, const char *table);

#endif
