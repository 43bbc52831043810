/* pg.c: libpq glue. Messages name the source and its host/database; the password is
 * passed to libpq as its own parameter and never appears in a message or a log line. */
#include "cdc/pg.h"

#include "core/buf.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void trim_nl(char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = '\0';
}

int sl_pg_connect(const struct sl_cdc_source *src, int replication, struct sl_pg **out, struct sl_err *err) {
  struct sl_pg *pg = sl_calloc(1, sizeof *pg);
  if (!pg) return sl_err_set(err, SL_ENOMEM, "out of memory");
  const char *keys[10], *vals[10];
  int n = 0;
  keys[n] = "dbname", vals[n++] = src->url;
  if (src->password && src->password[0]) keys[n] = "password", vals[n++] = src->password;
  keys[n] = "application_name", vals[n++] = "sluice";
  keys[n] = "connect_timeout", vals[n++] = "10";
  /* Fixed text forms for values, whatever the server's defaults are. */
  keys[n] = "options", vals[n++] = "-c DateStyle=ISO -c TimeZone=UTC -c extra_float_digits=3 -c bytea_output=hex";
  if (replication) keys[n] = "replication", vals[n++] = "database";
  keys[n] = NULL, vals[n] = NULL;
  pg->conn = PQconnectdbParams(keys, vals, 1);
  if (!pg->conn) {
    sl_free(pg);
    return sl_err_set(err, SL_ENOMEM, "source %s: out of memory", src->name);
  }
  snprintf(pg->label, sizeof pg->label, "source %s (%s:%s/%s)", src->name, PQhost(pg->conn) ? PQhost(pg->conn) : "?",
           PQport(pg->conn) ? PQport(pg->conn) : "?", PQdb(pg->conn) ? PQdb(pg->conn) : "?");
  if (PQstatus(pg->conn) != CONNECTION_OK) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg->conn));
    trim_nl(msg);
    const char *hint = strstr(msg, "password") ? "; set the password in the environment (SLUICE_SOURCES_<NAME>_PASSWORD) or password_file"
                       : strstr(msg, "Connection refused") ? "; is PostgreSQL running and listening there?"
                       : strstr(msg, "replication") ? "; the user needs the REPLICATION attribute (ALTER ROLE ... REPLICATION)"
                                                    : "";
    int rc = sl_err_set(err, SL_EIO, "%s: cannot connect: %s%s", pg->label, msg, hint);
    PQfinish(pg->conn);
    sl_free(pg);
    return rc;
  }
  *out = pg;
  return 0;
}

void sl_pg_close(struct sl_pg *pg) {
  if (!pg) return;
  PQfinish(pg->conn);
  sl_free(pg);
}

static int result_err(struct sl_pg *pg, PGresult *r, const char *sql, struct sl_err *err) {
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(pg->conn));
  trim_nl(msg);
  char ctx[120];
  snprintf(ctx, sizeof ctx, "%.*s", (int)strcspn(sql, "\n"), sql);
  int code = PQstatus(pg->conn) == CONNECTION_BAD ? SL_EIO : SL_ESQL;
  return sl_err_set(err, code, "%s: %s (in: %s)", pg->label, msg[0] ? msg : "connection lost", ctx);
}

int sl_pg_query(struct sl_pg *pg, const char *sql, int nparams, const char *const *params, PGresult **res,
                struct sl_err *err) {
  PGresult *r = nparams ? PQexecParams(pg->conn, sql, nparams, NULL, params, NULL, NULL, 0) : PQexec(pg->conn, sql);
  ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
    int rc = result_err(pg, r, sql, err);
    PQclear(r);
    return rc;
  }
  *res = r;
  return 0;
}

int sl_pg_exec(struct sl_pg *pg, const char *sql, struct sl_err *err) {
  PGresult *r = NULL;
  int rc = sl_pg_query(pg, sql, 0, NULL, &r, err);
  PQclear(r);
  return rc;
}

char *sl_pg_ident(struct sl_pg *pg, const char *name) {
  char *q = PQescapeIdentifier(pg->conn, name, strlen(name));
  char *out = q ? sl_strdup(q) : NULL;
  PQfreemem(q);
  return out;
}

char *sl_pg_qualified(struct sl_pg *pg, const char *schema, const char *table) {
  char *a = sl_pg_ident(pg, schema), *b = sl_pg_ident(pg, table);
  char *out = a && b ? sl_asprintf("%s.%s", a, b) : NULL;
  sl_free(a);
  sl_free(b);
  return out;
}

int sl_pg_split_name(const char *q, char **schema, char **table) {
  const char *dot = strchr(q, '.');
  *schema = dot ? sl_strndup(q, (size_t)(dot - q)) : sl_strdup("public");
  *table = sl_strdup(dot ? dot + 1 : q);
  return *schema && *table ? 0 : SL_ENOMEM;
}

char *sl_pg_lake_type(const char *t, unsigned oid, char cat) {
  (void)oid;
  if (cat == 'A') return sl_strdup("VARCHAR"); /* arrays keep PostgreSQL's text form: {1,2,3} */
  if (cat == 'E') return sl_strdup("VARCHAR"); /* enums */
  static const struct { const char *pg, *lake; } map[] = {
      {"smallint", "SMALLINT"}, {"integer", "INTEGER"}, {"bigint", "BIGINT"}, {"real", "FLOAT"},
      {"double precision", "DOUBLE"}, {"boolean", "BOOLEAN"}, {"text", "VARCHAR"}, {"date", "DATE"},
      {"uuid", "UUID"}, {"json", "JSON"}, {"jsonb", "JSON"}, {"bytea", "VARCHAR"}, {"numeric", "DOUBLE"},
      {"timestamp without time zone", "TIMESTAMP"}, {"timestamp with time zone", "TIMESTAMPTZ"},
      {"time without time zone", "TIME"}, {"oid", "BIGINT"}, {"name", "VARCHAR"}, {"\"char\"", "VARCHAR"},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (!strcmp(t, map[i].pg)) return sl_strdup(map[i].lake);
  int p, s;
  if (sscanf(t, "numeric(%d,%d)", &p, &s) == 2 && p <= 38) return sl_asprintf("DECIMAL(%d,%d)", p, s);
  if (!strncmp(t, "numeric", 7)) return sl_strdup("DOUBLE");
  if (!strncmp(t, "timestamp(", 10)) return sl_strdup(strstr(t, "with time zone") && !strstr(t, "without") ? "TIMESTAMPTZ" : "TIMESTAMP");
  if (!strncmp(t, "time(", 5) && strstr(t, "without")) return sl_strdup("TIME");
  /* character varying(n), character(n), interval, money, inet, time with time zone, ...: text */
  return sl_strdup("VARCHAR");
}

int sl_pg_table_describe(struct sl_pg *pg, const char *schema, const char *table, struct sl_pg_table *out,
                         struct sl_err *err) {
  memset(out, 0, sizeof *out);
  const char *params[2] = {schema, table};
  PGresult *r = NULL;
  int rc = sl_pg_query(pg,
                       "SELECT c.relreplident, greatest(c.reltuples, 0)::bigint FROM pg_class c"
                       " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2"
                       " AND c.relkind IN ('r', 'p')",
                       2, params, &r, err);
  if (rc) return rc;
  if (PQntuples(r) != 1) {
    PQclear(r);
    return sl_err_set(err, SL_ENOTFOUND, "%s: table %s.%s does not exist (or is not a table); check tables: in sluice.yaml",
                      pg->label, schema, table);
  }
  out->replica_identity = PQgetvalue(r, 0, 0)[0];
  out->est_rows = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
  PQclear(r);
  rc = sl_pg_query(pg,
                   "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid, t.typcategory, a.atttypmod,"
                   " coalesce((SELECT k.n FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(att, n) WHERE k.att = a.attnum), 0)"
                   " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                   " JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid"
                   " LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary"
                   " WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                   2, params, &r, err);
  if (rc) return rc;
  int n = PQntuples(r);
  out->cols = sl_calloc((size_t)n + 1, sizeof *out->cols);
  out->schema = sl_strdup(schema);
  out->name = sl_strdup(table);
  if (!out->cols || !out->schema || !out->name) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  for (int i = 0; !rc && i < n; i++) {
    struct sl_pg_column *c = &out->cols[out->n_cols++];
    c->name = sl_strdup(PQgetvalue(r, i, 0));
    c->pg_type = sl_strdup(PQgetvalue(r, i, 1));
    c->type_oid = (unsigned)strtoul(PQgetvalue(r, i, 2), NULL, 10);
    c->pk = atoi(PQgetvalue(r, i, 5));
    c->typmod = atoi(PQgetvalue(r, i, 4));
    c->lake_type = sl_pg_lake_type(c->pg_type ? c->pg_type : "", c->type_oid, PQgetvalue(r, i, 3)[0]);
    if (!c->name || !c->pg_type || !c->lake_type) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  PQclear(r);
  if (rc) sl_pg_table_fini(out);
  return rc;
}

void sl_pg_table_fini(struct sl_pg_table *t) {
  for (size_t i = 0; t->cols && i < t->n_cols; i++) {
    sl_free(t->cols[i].name);
    sl_free(t->cols[i].pg_type);
    sl_free(t->cols[i].lake_type);
  }
  sl_free(t->cols);
  sl_free(t->schema);
  sl_free(t->name);
  memset(t, 0, sizeof *t);
}
