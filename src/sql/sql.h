/* sql.h: SQL over the lake. sl_sql_attach makes every catalog table queryable in a
 * DuckDB connection as "namespace"."table": a view over the Parquet files of the
 * table's current snapshot, or of the snapshot picked by an as-of point. */
#ifndef SL_SQL_SQL_H
#define SL_SQL_SQL_H

#include "catalog/catalog.h"
#include "core/buf.h"
#include "core/config.h"
#include "lake/lake.h"
#include "sql/duck.h"

#include <jansson.h>

struct sl_sql_opts {
  int64_t threads;     /* 0: all cores */
  char *memory_limit;  /* "" : DuckDB's default (80% of RAM) */
  char *temp_dir;      /* spill folder, relative to the project; "" : DuckDB's default */
};
extern const struct sl_cfg_section sl_sql_section;

/* A point in the lake's history. Snapshot ids are global, so "as of snapshot S" is the
 * whole lake right after commit S: each table at its last snapshot <= S. */
struct sl_sql_asof {
  int64_t snapshot_id; /* 0: not set */
  int64_t ts_ms;       /* 0: not set */
};

/* The columns (names and DuckDB type names) that `SELECT * FROM <from>` returns. */
int sl_sql_describe(struct sl_duck *d, const char *from, struct sl_schema *out, struct sl_err *err);

/* Appends "CAST(c AS T) AS c, ..." for every column of want (names and types from the
 * catalog); with present, a column it lacks reads as NULL (a file older than the
 * column). */
void sl_sql_cast_columns(struct sl_buf *b, const struct sl_schema *want, const struct sl_schema *present);

/* Parses "--as-of" text: a snapshot id (digits) or a time (ISO-8601). */
int sl_sql_asof_parse(const char *s, struct sl_sql_asof *out, struct sl_err *err);

/* Creates a schema per namespace and a view per table. Tables that did not exist at
 * the as-of point are left out. */
int sl_sql_attach(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st,
                  const struct sl_sql_asof *asof, struct sl_err *err);

/* The views a session holds: each table's name and the snapshot its view reads. */
struct sl_sql_views {
  struct sl_sql_view {
    char *ns, *table;
    int64_t snap;
  } *v;
  size_t n, cap;
};
/* sl_sql_attach at the current snapshots for a session that keeps its views: only the
 * views of tables with another snapshot than in *views are made again (and those of
 * tables gone are dropped), so attaching before each of many models costs little. */
int sl_sql_attach_again(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st, struct sl_sql_views *views,
                        struct sl_err *err);
void sl_sql_views_fini(struct sl_sql_views *views);
/* The SELECT text (new string) reading one table at one snapshot, with the columns of
 * that snapshot's schema in order (columns missing from older files read as NULL). */
int sl_sql_table_select(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st,
                        const struct sl_table_info *t, int64_t snapshot_id, char **out,
                        struct sl_err *err);

/* The summary of one snapshot of a table, parsed (NULL if it has none or the catalog
 * cannot be read). */
json_t *sl_sql_snapshot_summary(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id);

/* A relation (new string) reading data files with the rows their position delete
 * files name left out: read_parquet of the files, or, when deletes apply, the files
 * without deletes read as they are and the others anti-joined on (file, row number).
 * Columns as in the files (union by name); NULL with err set if a key is not inside
 * the lake. n must be > 0. */
char *sl_sql_files_reader(struct sl_store *st, const char *const *keys, size_t n, const struct sl_delete_file *dels,
                          size_t n_dels, struct sl_err *err);

/* Like sl_sql_table_select, but reading only the files added after snapshot `since`
 * (0: all); removed (if non-NULL) gets how many files `since` had that snapshot_id has
 * not, plus the delete files added since (a rewrite or delete, which no delta of added
 * files can show). */
int sl_sql_table_delta_select(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st,
                              const struct sl_table_info *t, int64_t snapshot_id, int64_t since, char **out,
                              int64_t *removed, struct sl_err *err);

#endif
