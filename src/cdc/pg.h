/* pg.h: the one place sluice calls libpq. Connections to a source (normal or
 * replication), statements with libpq's errors turned into sl_err naming the source
 * (never its password), quoting, and what sluice needs to know about a table. */
#ifndef SL_CDC_PG_H
#define SL_CDC_PG_H

#include "catalog/catalog.h"
#include "cdc/cdc.h"

#include <libpq-fe.h>

struct sl_pg {
  PGconn *conn;
  char label[256]; /* "source app (127.0.0.1:5432/appdb)" for messages */
};

struct sl_pg_column {
  char *name;
  char *pg_type;  /* format_type(): "integer", "numeric(10,2)", "text[]" ... */
  unsigned type_oid;
  int typmod;      /* atttypmod: numeric's precision and scale, -1 if none */
  char *lake_type; /* the DuckDB type the column is stored as */
  int pk;          /* position in the primary key (1-based), 0 if not part of it */
};

struct sl_pg_table {
  char *schema, *name;
  struct sl_pg_column *cols;
  size_t n_cols;
  int64_t est_rows;
  char replica_identity; /* 'd' default, 'f' full, 'i' index, 'n' nothing */
};

int sl_pg_connect(const struct sl_cdc_source *src, int replication, struct sl_pg **out, struct sl_err *err);
void sl_pg_close(struct sl_pg *pg);
/* Runs a statement that returns no rows we need (or COMMAND_OK / TUPLES_OK). */
int sl_pg_exec(struct sl_pg *pg, const char *sql, struct sl_err *err);
/* Runs a parameterized statement and returns its result (PQclear it). */
int sl_pg_query(struct sl_pg *pg, const char *sql, int nparams, const char *const *params, PGresult **res,
                struct sl_err *err);
/* "schema"."table" quoted for SQL; new string. */
char *sl_pg_qualified(struct sl_pg *pg, const char *schema, const char *table);
char *sl_pg_ident(struct sl_pg *pg, const char *name);
/* Reads a table's columns, primary key, estimated rows and replica identity. */
int sl_pg_table_describe(struct sl_pg *pg, const char *schema, const char *table, struct sl_pg_table *out,
                         struct sl_err *err);
void sl_pg_table_fini(struct sl_pg_table *t);
/* The DuckDB type a PostgreSQL type is stored as in the lake. */
char *sl_pg_lake_type(const char *pg_type, unsigned oid, char typcategory);
/* Splits "schema.table" (schema defaults to public) into new strings. */
int sl_pg_split_name(const char *qualified, char **schema, char **table);

#endif
