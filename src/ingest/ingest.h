/* ingest.h: batch ingest of files (CSV, Parquet, JSON lines) into a lake table.
 * DuckDB reads the files and writes zstd Parquet under unique names in the table's
 * data folder; the files are fsynced and then one catalog commit makes them visible.
 * A failure or a kill at any point before the commit leaves the table exactly at its
 * previous snapshot (files written so far are removed on failure; after a kill they
 * are unreferenced orphans that no reader sees). */
#ifndef SL_INGEST_INGEST_H
#define SL_INGEST_INGEST_H

#include "catalog/catalog.h"
#include "core/config.h"
#include "lake/lake.h"
#include "sql/duck.h"

#include <stddef.h>
#include <stdint.h>

struct sl_ingest_opts {
  int64_t target_file_size; /* bytes per Parquet file before a new one is started */
  int64_t row_group_size;   /* rows per Parquet row group */
  int64_t compression_level; /* zstd level */
  int64_t commit_retries;   /* retries after a concurrent commit */
};
extern const struct sl_cfg_section sl_ingest_section;

enum sl_ingest_format { SL_FMT_AUTO, SL_FMT_CSV, SL_FMT_PARQUET, SL_FMT_JSONL };
enum sl_ingest_mode { SL_INGEST_APPEND, SL_INGEST_REPLACE };

struct sl_ingest_req {
  const char *const *files;
  size_t n_files;
  const char *ns, *table;
  enum sl_ingest_mode mode;
  enum sl_ingest_format format;
  int evolve;          /* new columns in the files are added to the table */
  const char *schema;  /* "id BIGINT, name VARCHAR" to take instead of inferring, or NULL */
  const struct sl_schema *columns; /* or the columns and types themselves (CSV only) */
  char delim;          /* CSV delimiter, 0: detect */
  int no_header;       /* CSV without a header row */
  int progress;        /* draw a progress bar (on a terminal) */
  volatile int *cancel; /* set non-zero (e.g. from a signal handler) to stop */
  const char *summary_extra; /* JSON members added to the snapshot summary ("\"source\":...") */
};

struct sl_ingest_result {
  int64_t snapshot_id;
  int64_t rows;
  int64_t bytes_in, bytes_out;
  size_t files_out;
  double seconds;
  int created; /* the table was created by this ingest */
};

int sl_ingest_files(struct sl_catalog *cat, struct sl_store *st, const struct sl_duck_opts *dopts,
                    const struct sl_ingest_opts *opts, const struct sl_ingest_req *req,
                    struct sl_ingest_result *res, struct sl_err *err);

/* Files written by DuckDB into a table's data folder. */
struct sl_ingest_written {
  char **keys, **urls, **stats;
  char **partition; /* per file: {"col":"value"} of a partitioned write, or NULL */
  int64_t *rows, *bytes;
  size_t n;
};

/* A staged write: the result of a query as fsynced Parquet files in a table's data
 * folder, invisible until sl_ingest_stage_commit publishes them in one snapshot. */
struct sl_ingest_stage {
  struct sl_ingest_written w;
  struct sl_schema schema; /* the query's columns */
  char *prefix;
  char uuid[37];
  int64_t rows, bytes;
  int committed;
  const char *operation; /* the snapshot's operation; NULL: create, replace, merge or append */
};

/* Runs `select` in d and stages its result for ns.table (files, stats, fsync). On
 * failure the files written so far are removed. */
int sl_ingest_stage_query(struct sl_duck *d, struct sl_store *st, const struct sl_ingest_opts *opts, const char *ns,
                          const char *table, const char *select, struct sl_ingest_stage *out, struct sl_err *err);
/* The same, with the files laid out by the values of column partition_col (Hive style:
 * <table>/data/<col>=<value>/<uuid>_<n>.parquet, the column kept in the files) and each
 * file's value recorded in w.partition; partition_col NULL: not partitioned. */
int sl_ingest_stage_query_by(struct sl_duck *d, struct sl_store *st, const struct sl_ingest_opts *opts, const char *ns,
                             const char *table, const char *select, const char *partition_col,
                             struct sl_ingest_stage *out, struct sl_err *err);
/* The same for a result whose columns the caller knows (schema) and that is cheap to
 * read twice (e.g. an in-memory table): column statistics come from one aggregate over
 * `select` instead of from reading the written files back. Small, frequent commits
 * (change data capture) spend most of their time there otherwise. */
int sl_ingest_stage_rows(struct sl_duck *d, struct sl_store *st, const struct sl_ingest_opts *opts, const char *ns,
                         const char *table, const char *select, const struct sl_schema *schema,
                         struct sl_ingest_stage *out, struct sl_err *err);
/* Stages the result of each of n selects as a file of its own, without column
 * statistics (e.g. a merge's position delete files): w.keys[i] holds selects[i]'s
 * rows. All are fsynced together; on failure all are removed. */
int sl_ingest_stage_each(struct sl_duck *d, struct sl_store *st, const char *ns, const char *table,
                         const char *const *selects, size_t n, struct sl_ingest_stage *out, struct sl_err *err);
/* A DuckDB relation reading the staged files (new string), for audits before publishing. */
char *sl_ingest_stage_reader(const struct sl_ingest_stage *s);
/* The same, each column cast to the type the staging query gave it (Parquet does not
 * keep every DuckDB type). */
char *sl_ingest_stage_typed_reader(const struct sl_ingest_stage *s);
/* Publishes the staged files as one snapshot on top of expected_parent (0: new table);
 * replace: the parent's files are not part of it. */
int sl_ingest_stage_commit(struct sl_catalog *cat, struct sl_ingest_stage *s, const char *ns, const char *table,
                           int64_t expected_parent, int replace, const char *summary_json, int64_t *snapshot_id,
                           struct sl_err *err);
/* Publishes the staged files as one snapshot that also drops the parent's files named
 * in remove (keys of data or delete files) and adds the delete files dels (staged
 * before, against the parent's data files): a merge that rewrote only some files and
 * hid changed rows of others. */
int sl_ingest_stage_commit_merge(struct sl_catalog *cat, struct sl_ingest_stage *s, const char *ns, const char *table,
                                 int64_t expected_parent, const char *const *remove, size_t n_remove,
                                 const struct sl_delete_file *dels, size_t n_dels, const char *summary_json,
                                 int64_t *snapshot_id, struct sl_err *err);
/* Removes the staged files unless they were committed. */
void sl_ingest_stage_discard(struct sl_store *st, struct sl_ingest_stage *s);
void sl_ingest_stage_fini(struct sl_ingest_stage *s);

/* Format from a file name's extension (.csv, .tsv, .parquet, .jsonl, .ndjson, .json,
 * optionally followed by .gz/.zst), or SL_FMT_AUTO if unknown. */
enum sl_ingest_format sl_ingest_format_of(const char *path);
int sl_ingest_format_parse(const char *s, enum sl_ingest_format *out);

#endif
