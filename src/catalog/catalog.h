/* catalog.h: the lake's catalog. Namespaces (bronze, silver, gold, ...), tables with
 * schema versions (columns keep stable field ids), snapshots (parent, time, operation,
 * summary) and the data files each snapshot sees. A commit is one transaction that
 * checks the expected parent snapshot: the optimistic concurrency that makes a commit
 * atomic on any object store. Backends (sqlite.c now, PostgreSQL later) implement
 * struct sl_catalog_ops; callers only use the sl_catalog_* functions below.
 *
 * Snapshot ids are global and increase with every commit; a table's snapshots form a
 * chain (each commit's parent is the table's current snapshot), so the files a snapshot
 * sees are those added at or before it and not removed at or before it.
 *
 * Position delete files (merge-on-read) hide rows of one data file each: a Parquet file
 * of (file_path, pos) pairs, the columns of Iceberg v2's position deletes, pos being the
 * row's number in the data file. A snapshot's rows are its data files' rows less those
 * its delete files name; removing a data file retires its delete files with it. */
#ifndef SL_CATALOG_CATALOG_H
#define SL_CATALOG_CATALOG_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

struct sl_column {
  char *name;
  char *type; /* DuckDB type name: BIGINT, DOUBLE, VARCHAR, TIMESTAMP, ... */
  int field_id;
  int nullable;
};

struct sl_schema {
  int64_t schema_id;
  size_t n_cols;
  struct sl_column *cols;
};

struct sl_table_info {
  int64_t table_id;
  char *ns, *name;
  int64_t current_snapshot; /* 0: no snapshot yet */
  int64_t schema_id;
  int64_t created_ms;
  int64_t rows, bytes, files; /* totals at the current snapshot */
};

struct sl_snapshot {
  int64_t snapshot_id, parent_id, table_id, schema_id, ts_ms;
  char *operation;    /* create, append, replace */
  char *summary_json; /* {"added-rows":..,"source":..} */
  int64_t rows;       /* total rows visible at this snapshot */
  int64_t expired_ms; /* when `sluice vacuum` expired it (its files may be gone), or 0 */
};

struct sl_data_file {
  char *path; /* key relative to the lake root */
  int64_t rows, bytes;
  char *stats_json; /* {"col":{"min":..,"max":..,"nulls":..},...} or NULL */
  char *partition;  /* partition values as text, or NULL */
};

struct sl_delete_file {
  char *path;      /* key of the delete file */
  char *data_path; /* key of the data file whose rows it hides */
  int64_t rows, bytes; /* rows: distinct positions it names */
};

struct sl_commit {
  const char *ns, *table;
  int64_t expected_parent; /* the table's current snapshot as the writer saw it; 0 = new table */
  const char *operation;
  const char *summary_json;          /* may be NULL */
  const struct sl_schema *schema;    /* the data's schema; a new version is recorded if it differs */
  const struct sl_data_file *add;
  size_t n_add;
  int replace; /* files of the parent snapshot are not part of the new one */
  const char *const *remove; /* or only these files of the parent (keys of data or delete files) */
  size_t n_remove;
  const struct sl_delete_file *add_deletes; /* position deletes against live data files */
  size_t n_add_deletes;
};

struct sl_catalog;

struct sl_catalog_ops {
  const char *name;
  int (*open)(struct sl_catalog *cat, const char *url, struct sl_err *err);
  void (*close)(struct sl_catalog *cat);
  int (*ns_create)(struct sl_catalog *cat, const char *ns, struct sl_err *err);
  int (*ns_list)(struct sl_catalog *cat, char ***out, size_t *n, struct sl_err *err);
  int (*table_get)(struct sl_catalog *cat, const char *ns, const char *name,
                   struct sl_table_info *out, struct sl_err *err);
  int (*table_list)(struct sl_catalog *cat, const char *ns, struct sl_table_info **out,
                    size_t *n, struct sl_err *err);
  int (*table_drop)(struct sl_catalog *cat, const char *ns, const char *name, struct sl_err *err);
  int (*schema_get)(struct sl_catalog *cat, int64_t table_id, int64_t schema_id,
                    struct sl_schema *out, struct sl_err *err);
  /* The table's snapshot current at time ts_ms (the last committed at or before it). */
  int (*snapshot_at)(struct sl_catalog *cat, int64_t table_id, int64_t ts_ms,
                     int64_t *snapshot_id, struct sl_err *err);
  int (*files_at)(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id,
                  struct sl_data_file **out, size_t *n, struct sl_err *err);
  int (*deletes_at)(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id, struct sl_delete_file **out,
                    size_t *n, struct sl_err *err);
  int (*commit)(struct sl_catalog *cat, const struct sl_commit *c, int64_t *snapshot_id,
                struct sl_err *err);
  int (*expire)(struct sl_catalog *cat, int64_t table_id, const int64_t *ids, size_t n_ids, int64_t now_ms, int dry_run,
                struct sl_data_file **gone, size_t *n_gone, struct sl_err *err);
  int (*paths)(struct sl_catalog *cat, int64_t table_id, char ***out, size_t *n, struct sl_err *err);
  int (*snapshot_range)(struct sl_catalog *cat, int64_t table_id, int64_t after, int64_t upto, struct sl_snapshot **out,
                        size_t *n, struct sl_err *err);
  int (*snapshot_get)(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id, struct sl_snapshot *out,
                      struct sl_err *err);
  int (*snapshot_files)(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id, char ***added, size_t *n_added,
                        char ***removed, size_t *n_removed, struct sl_err *err);
};

struct sl_catalog {
  const struct sl_catalog_ops *ops;
  void *impl;
  char *url;
};

/* Opens a catalog by URL: "sqlite:PATH" (or a plain path ending in .db). */
int sl_catalog_open(const char *url, struct sl_catalog **out, struct sl_err *err);
void sl_catalog_close(struct sl_catalog *cat);

int sl_catalog_ns_create(struct sl_catalog *cat, const char *ns, struct sl_err *err);
int sl_catalog_ns_list(struct sl_catalog *cat, char ***out, size_t *n, struct sl_err *err);
int sl_catalog_table_get(struct sl_catalog *cat, const char *ns, const char *name,
                         struct sl_table_info *out, struct sl_err *err);
int sl_catalog_table_list(struct sl_catalog *cat, const char *ns, struct sl_table_info **out,
                          size_t *n, struct sl_err *err);
int sl_catalog_table_drop(struct sl_catalog *cat, const char *ns, const char *name, struct sl_err *err);
int sl_catalog_schema_get(struct sl_catalog *cat, int64_t table_id, int64_t schema_id,
                          struct sl_schema *out, struct sl_err *err);
int sl_catalog_snapshot_list(struct sl_catalog *cat, int64_t table_id, struct sl_snapshot **out,
                             size_t *n, struct sl_err *err);
int sl_catalog_snapshot_at(struct sl_catalog *cat, int64_t table_id, int64_t ts_ms,
                           int64_t *snapshot_id, struct sl_err *err);
int sl_catalog_files_at(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id,
                        struct sl_data_file **out, size_t *n, struct sl_err *err);
/* The position delete files a snapshot sees (for its data files). */
int sl_catalog_deletes_at(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id,
                          struct sl_delete_file **out, size_t *n, struct sl_err *err);
int sl_catalog_commit(struct sl_catalog *cat, const struct sl_commit *c, int64_t *snapshot_id,
                      struct sl_err *err);

/* Expires the table's snapshots ids (never its current one) in one transaction and
 * forgets the data and delete files no snapshot kept sees any more: *gone lists them
 * (path, rows, bytes), for the caller to delete from the store after this returns. An
 * expired snapshot stays listed (expired_ms set); reading it is an error. dry_run: the
 * same answer, nothing changed. */
int sl_catalog_expire(struct sl_catalog *cat, int64_t table_id, const int64_t *ids, size_t n_ids, int64_t now_ms, int dry_run,
                      struct sl_data_file **gone, size_t *n_gone, struct sl_err *err);
/* Every file (data or delete) the catalog names for the table, in any snapshot, sorted. */
int sl_catalog_paths(struct sl_catalog *cat, int64_t table_id, char ***out, size_t *n, struct sl_err *err);

/* The table's snapshots with after < id <= upto, oldest first. */
int sl_catalog_snapshot_range(struct sl_catalog *cat, int64_t table_id, int64_t after, int64_t upto,
                              struct sl_snapshot **out, size_t *n, struct sl_err *err);
/* One snapshot of the table (snapshot_id 0: its first), without listing the others;
 * SL_ENOTFOUND if it has no such snapshot. Free with sl_snapshot_fini. */
int sl_catalog_snapshot_get(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id, struct sl_snapshot *out,
                            struct sl_err *err);
/* The data files a snapshot added and those it removed (keys, sorted). */
int sl_catalog_snapshot_files(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id, char ***added,
                              size_t *n_added, char ***removed, size_t *n_removed, struct sl_err *err);

/* Splits "ns.table" into its parts (new strings); checks both are valid names. */
int sl_catalog_name_split(const char *qualified, char **ns, char **table, struct sl_err *err);
/* 1 if qualified ("ns.table") names table name of namespace ns. */
int sl_catalog_name_is(const char *qualified, const char *ns, const char *name);
/* 1 if names[0..n) ("ns.table") is empty (every table) or names ns.name. */
int sl_catalog_names_select(const char *const *names, size_t n, const char *ns, const char *name);
/* SL_ENOTFOUND naming the first of names[0..n) ("ns.table") that is not among the
 * tables ts[0..nt), prefixed by cmd; else 0. */
int sl_catalog_names_known(const struct sl_table_info *ts, size_t nt, const char *const *names, size_t n,
                           const char *cmd, struct sl_err *err);
/* Names are [A-Za-z_][A-Za-z0-9_]{0,62}: safe as folder names and SQL identifiers. */
int sl_catalog_name_valid(const char *name);

void sl_schema_fini(struct sl_schema *s);
/* The column of s named name, or NULL (also for s NULL). */
const struct sl_column *sl_schema_col(const struct sl_schema *s, const char *name);
/* 1 if a and b have the same columns (names and types) in the same order. */
int sl_schema_same(const struct sl_schema *a, const struct sl_schema *b);
void sl_table_info_fini(struct sl_table_info *t);
void sl_table_list_free(struct sl_table_info *t, size_t n);
void sl_snapshot_list_free(struct sl_snapshot *s, size_t n);
void sl_snapshot_fini(struct sl_snapshot *s);
void sl_data_file_list_free(struct sl_data_file *f, size_t n);
void sl_delete_file_list_free(struct sl_delete_file *f, size_t n);
void sl_str_list_free(char **s, size_t n);

#endif
