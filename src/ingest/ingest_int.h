/* ingest_int.h: pieces of ingest shared between its files. */
#ifndef SL_INGEST_INT_H
#define SL_INGEST_INT_H

#include "catalog/catalog.h"
#include "core/buf.h"
#include "ingest/ingest.h"
#include "sql/duck.h"

/* The incoming columns of `reader` (a DuckDB table function call) as a schema. */
int sl_ingest_describe(struct sl_duck *d, const char *reader, struct sl_schema *out, struct sl_err *err);

/* Reconciles incoming columns with the table's schema (cur, NULL for a new table or a
 * replace). Appends the SELECT list that produces the table's columns to sel and fills
 * out with the schema to commit. */
int sl_ingest_reconcile(const struct sl_schema *cur, const struct sl_schema *in, int evolve,
                        const char *qualified, struct sl_buf *sel, struct sl_schema *out,
                        struct sl_err *err);

/* Column stats of written Parquet files as JSON ({"col":{"min":..,"max":..,"nulls":..}}),
 * one string per file (stats[i] for urls[i]). */
int sl_ingest_file_stats(struct sl_duck *d, const struct sl_schema *s, char *const *urls, size_t n,
                         char **stats, struct sl_err *err);

/* Rewrites a DuckDB reader error into a short message naming file, line and column. */
void sl_ingest_condense_error(struct sl_err *err, const char *const *files, size_t n_files);

/* What the first line of a CSV file says: its delimiter and fields. */
struct sl_ingest_csv_head {
  int known; /* 0 for compressed files, which DuckDB sniffs alone */
  char delim;
  char **names;
  size_t n;
};
int sl_ingest_csv_header(const char *path, char want_delim, struct sl_ingest_csv_head *h, struct sl_err *err);
void sl_ingest_csv_head_fini(struct sl_ingest_csv_head *h);

/* Runs COPY (select) TO the table's data folder as files named <uuid>_<n>.parquet (in
 * <col>=<value>/ folders when partition is a column) and collects what DuckDB wrote. */
int sl_ingest_copy_out(struct sl_duck *d, struct sl_store *st, const struct sl_ingest_opts *opts, const char *select,
                       const char *prefix, const char *uuid, const char *partition, struct sl_ingest_written *w,
                       struct sl_err *err);
void sl_ingest_written_free(struct sl_ingest_written *w);
/* Removes every file of one write, found by its UUID prefix: after a failed or
 * interrupted COPY, DuckDB may have left files that it never reported. */
void sl_ingest_written_remove(struct sl_store *st, const char *prefix, const char *uuid);

/* 1 if t is a type name as DuckDB prints it (no statement separators or comments). */
int sl_ingest_type_safe(const char *t);

#endif
