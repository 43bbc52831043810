/* check_args.c: a check's arguments against the relation it runs on, read from the
 * relation's DESCRIBE before the check's own query. Without it a column that is not
 * there, an accepted value or bound that is not a value of the column's type, or a
 * relationships field the target lacks would surface as DuckDB's Binder or Conversion
 * error about generated SQL; here each names the check, the table and the column.
 *
 * Accepted values and bounds are compared in the column's type (check_run.c writes
 * them as string literals, which DuckDB casts to the other side's type): a value is
 * good when it casts to that type, and for integer and decimal columns only when it
 * does so without rounding (1.5 is not an INTEGER, 1.555 not a DECIMAL(10,2)). */
#include "check/check_int.h"

#include "core/buf.h"
#include "core/mem.h"
#include "sql/sql.h"

#include <string.h>
#include <strings.h>

/* Columns listed in a message, at most; the rest are counted. */
enum { LIST_MAX = 40 };

static int is_prefix(const char *type, const char *p) { return !strncasecmp(type, p, strlen(p)); }

/* 1 for integer and decimal types (exact numbers), 2 for FLOAT and DOUBLE, else 0. */
static int numeric_kind(const char *type) {
  static const char *const exact[] = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                                      "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "DECIMAL"};
  for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
    if (is_prefix(type, exact[i]) && (!type[strlen(exact[i])] || type[strlen(exact[i])] == '(')) return 1;
  return !strcasecmp(type, "FLOAT") || !strcasecmp(type, "DOUBLE") || !strcasecmp(type, "REAL") ? 2 : 0;
}

static int missing_col(const struct sl_check *c, const char *col, const char *table, const struct sl_schema *s,
                       const char *what, struct sl_err *err) {
  struct sl_buf b;
  sl_buf_init(&b);
  for (size_t i = 0; i < s->n_cols && i < LIST_MAX; i++) sl_buf_printf(&b, "%s%s", i ? ", " : "", s->cols[i].name);
  if (s->n_cols > LIST_MAX) sl_buf_printf(&b, " and %zu more", s->n_cols - LIST_MAX);
  int rc = sl_err_set(err, SL_ECONFIG, "check %s: %s %s not in table %s; its columns are %s", c->name, what, col,
                      table, b.len ? b.data : "(none)");
  sl_buf_fini(&b);
  return rc;
}

/* 1 if value v is a value of type (see the file's comment), 0 if not, or an error. */
static int is_value_of(struct sl_duck *d, const char *v, const char *type, struct sl_err *err) {
  struct sl_buf q;
  sl_buf_init(&q);
  sl_buf_puts(&q, "SELECT (TRY_CAST(");
  sl_buf_sql_str(&q, v);
  sl_buf_printf(&q, " AS %s) IS NOT NULL", type);
  if (numeric_kind(type) == 1) {
    sl_buf_puts(&q, " AND TRY_CAST(");
    sl_buf_sql_str(&q, v);
    sl_buf_printf(&q, " AS %s) = TRY_CAST(", type);
    sl_buf_sql_str(&q, v);
    sl_buf_puts(&q, " AS DOUBLE)");
  }
  sl_buf_puts(&q, ")::INTEGER");
  int64_t ok = 0;
  int rc = q.data ? sl_duck_query_int(d, q.data, &ok, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  sl_buf_fini(&q);
  return rc ? rc : ok == 1;
}

static int between_args(struct sl_duck *d, const struct sl_check *c, const char *table, const char *type,
                        struct sl_err *err) {
  /* Numeric columns compare with the bounds as numbers of any kind (0.5 on an INTEGER
   * column), other types in the column's type (dates, times, text). */
  const char *as = numeric_kind(type) ? "DOUBLE" : type;
  const char *b[2] = {c->min, c->max}, *names[2] = {"min", "max"};
  for (int i = 0; i < 2; i++) {
    if (!b[i]) continue;
    int ok = is_value_of(d, b[i], as, err);
    if (ok < 0) return ok;
    if (!ok)
      return sl_err_set(err, SL_ECONFIG, "check %s on table %s: %s '%s' is not a value of column %s's type %s",
                        c->name, table, names[i], b[i], c->cols[0], type);
  }
  if (!c->min || !c->max) return 0;
  struct sl_buf q;
  sl_buf_init(&q);
  sl_buf_puts(&q, "SELECT (CAST(");
  sl_buf_sql_str(&q, c->min);
  sl_buf_printf(&q, " AS %s) > CAST(", as);
  sl_buf_sql_str(&q, c->max);
  sl_buf_printf(&q, " AS %s))::INTEGER", as);
  int64_t above = 0;
  int rc = q.data ? sl_duck_query_int(d, q.data, &above, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  sl_buf_fini(&q);
  if (!rc && above)
    rc = sl_err_set(err, SL_ECONFIG, "check %s on table %s, column %s: min %s is above max %s", c->name, table,
                    c->cols[0], c->min, c->max);
  return rc;
}

static int relationships_args(struct sl_duck *d, const struct sl_check *c, struct sl_err *err) {
  struct sl_buf rel;
  sl_buf_init(&rel);
  sl_buf_sql_qname(&rel, c->to_table);
  struct sl_schema s = {0};
  struct sl_err e = {0};
  int rc = !rel.data ? sl_err_set(err, SL_ENOMEM, "out of memory") : 0;
  if (!rc && !strchr(c->to_table, '.'))
    rc = sl_err_set(err, SL_ECONFIG, "check %s: to: '%s' is neither a model nor ns.table", c->name, c->to_table);
  if (!rc && sl_sql_describe(d, rel.data, &s, &e))
    rc = sl_err_set(err, SL_ENOTFOUND, "check %s: table %s (its to:) does not exist; build or ingest it first",
                    c->name, c->to_table);
  if (!rc && !sl_schema_col(&s, c->to_col)) rc = missing_col(c, c->to_col, c->to_table, &s, "field", err);
  sl_schema_fini(&s);
  sl_buf_fini(&rel);
  return rc;
}

int sl_check_args(struct sl_duck *d, const struct sl_check *c, const char *table, const char *rel,
                  struct sl_err *err) {
  if (!c->n_cols) return 0;
  struct sl_schema s = {0};
  int rc = sl_sql_describe(d, rel, &s, err);
  for (size_t i = 0; !rc && i < c->n_cols; i++)
    if (!sl_schema_col(&s, c->cols[i])) rc = missing_col(c, c->cols[i], table, &s, "column", err);
  const char *type = rc ? NULL : sl_schema_col(&s, c->cols[0])->type;
  if (!rc && c->kind == SL_CHECK_ACCEPTED_VALUES) {
    for (size_t i = 0; !rc && i < c->n_values; i++) {
      int ok = is_value_of(d, c->values[i], type, err);
      if (ok < 0) rc = ok;
      else if (!ok)
        rc = sl_err_set(err, SL_ECONFIG, "check %s on table %s: accepted value '%s' is not a value of column %s's type %s",
                        c->name, table, c->values[i], c->cols[0], type);
    }
  }
  if (!rc && c->kind == SL_CHECK_BETWEEN) rc = between_args(d, c, table, type, err);
  if (!rc && c->kind == SL_CHECK_RELATIONSHIPS) rc = relationships_args(d, c, err);
  sl_schema_fini(&s);
  return rc;
}
