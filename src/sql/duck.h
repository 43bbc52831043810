/* duck.h: the one place sluice calls DuckDB. A struct sl_duck is a database (in memory
 * unless a path is given) with one connection; DuckDB's errors become sl_err here,
 * with the failing statement's first line as context. Not thread-safe: one sl_duck per
 * thread, or use sl_duck_interrupt/sl_duck_progress from another thread only. */
#ifndef SL_SQL_DUCK_H
#define SL_SQL_DUCK_H

#include "core/err.h"

#include <duckdb.h>
#include <stdint.h>

struct sl_duck_opts {
  int threads;           /* 0: DuckDB's default (all cores) */
  const char *memory_limit; /* "4GB", or NULL for DuckDB's default */
  const char *temp_dir;  /* spill folder, or NULL */
};

struct sl_duck {
  duckdb_database db;
  duckdb_connection con;
  uint64_t *once; /* hashes of the texts sl_duck_exec_once ran */
  size_t n_once, cap_once;
};

struct sl_duck_result {
  duckdb_result r;
  int valid;
};

int sl_duck_open(const char *path, const struct sl_duck_opts *opts, struct sl_duck **out,
                 struct sl_err *err);
void sl_duck_close(struct sl_duck *d);
/* Runs one or more statements, discarding results. */
int sl_duck_exec(struct sl_duck *d, const char *sql, struct sl_err *err);
/* sl_duck_exec, unless this connection already ran the same text with success: for
 * definitions (macros) a reused session needs once. */
int sl_duck_exec_once(struct sl_duck *d, const char *sql, struct sl_err *err);
/* Runs a statement and keeps its materialized result (free with sl_duck_result_fini). */
int sl_duck_query(struct sl_duck *d, const char *sql, struct sl_duck_result *res, struct sl_err *err);
/* Like sl_duck_query, but a single SELECT has every value of its result cast to text
 * (so values of any type, UUIDs and nested ones included, can be read with
 * sl_duck_result_text). types (new array, sl_free) gets the columns' original types. */
int sl_duck_query_text(struct sl_duck *d, const char *sql, struct sl_duck_result *res, duckdb_type **types,
                       struct sl_err *err);
/* Like sl_duck_query_text; limit > 0 caps the rows of a single SELECT (other
 * statements return all their rows). */
int sl_duck_query_text_limit(struct sl_duck *d, const char *sql, int64_t limit, struct sl_duck_result *res,
                             duckdb_type **types, struct sl_err *err);
/* 1 if sql is exactly one statement that only reads (SELECT, EXPLAIN), 0 if it is
 * something else or several statements, -1 if it does not parse (run it to get the
 * error). */
int sl_duck_is_read_only(struct sl_duck *d, const char *sql);
void sl_duck_result_fini(struct sl_duck_result *res);
int64_t sl_duck_result_rows(struct sl_duck_result *res);
int64_t sl_duck_result_cols(struct sl_duck_result *res);
const char *sl_duck_result_name(struct sl_duck_result *res, int64_t col);
duckdb_type sl_duck_result_type(struct sl_duck_result *res, int64_t col);
/* Value as text (new string, free with sl_free), or NULL for SQL NULL. */
char *sl_duck_result_text(struct sl_duck_result *res, int64_t col, int64_t row);
int sl_duck_result_is_null(struct sl_duck_result *res, int64_t col, int64_t row);
/* First column of the first row as an integer (e.g. a COUNT). */
int sl_duck_query_int(struct sl_duck *d, const char *sql, int64_t *out, struct sl_err *err);
/* Progress of the running query in [0,1], or -1 if unknown. Safe from another thread. */
double sl_duck_progress(struct sl_duck *d);
void sl_duck_interrupt(struct sl_duck *d);

#endif
