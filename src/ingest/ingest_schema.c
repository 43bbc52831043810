/* ingest_schema.c: what the files contain, and how it maps onto the table. Columns are
 * matched by name (case-sensitive); order in the files does not matter. Safe numeric
 * widenings are cast; other type changes, and new columns without --evolve, are errors
 * that say what to do. Columns the table has and the files lack are NULL. */
#include "ingest/ingest_int.h"

#include "core/mem.h"
#include "sql/sql.h"

#include <string.h>

int sl_ingest_type_safe(const char *t) {
  if (!t || !*t) return 0;
  int in_q = 0;
  for (const char *p = t; *p; p++) {
    if (*p == '"') in_q = !in_q;
    if (in_q) continue;
    if (*p == ';' || (*p == '-' && p[1] == '-') || (*p == '/' && p[1] == '*')) return 0;
  }
  return !in_q;
}

int sl_ingest_describe(struct sl_duck *d, const char *reader, struct sl_schema *out, struct sl_err *err) {
  int rc = sl_sql_describe(d, reader, out, err);
  if (rc) return rc;
  for (size_t i = 0; !rc && i < out->n_cols; i++)
    if (!sl_ingest_type_safe(out->cols[i].type))
      rc = sl_err_set(err, SL_EDATA, "column '%s' has a type sluice cannot record: %s", out->cols[i].name, out->cols[i].type);
  if (!rc && out->n_cols == 0) rc = sl_err_set(err, SL_EDATA, "the files have no columns");
  if (rc) sl_schema_fini(out);
  return rc;
}

static int rank_of(const char *t) {
  static const char *order[] = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", NULL};
  for (int i = 0; order[i]; i++)
    if (!strcmp(t, order[i])) return i;
  return -1;
}

/* 1 if a value of type from can be stored as type to without loss of meaning. */
static int widens(const char *from, const char *to) {
  if (!strcmp(from, to)) return 1;
  int rf = rank_of(from), rt = rank_of(to);
  if (rf >= 0 && rt >= 0) return rf <= rt;
  if (rf >= 0 && !strcmp(to, "DOUBLE")) return 1;
  if (!strcmp(from, "FLOAT") && !strcmp(to, "DOUBLE")) return 1;
  if ((!strcmp(from, "UTINYINT") || !strcmp(from, "USMALLINT") || !strcmp(from, "UINTEGER")) &&
      (!strcmp(to, "BIGINT") || !strcmp(to, "HUGEINT") || !strcmp(to, "DOUBLE")))
    return 1;
  if (!strcmp(from, "DATE") && (!strcmp(to, "TIMESTAMP") || !strcmp(to, "TIMESTAMP WITH TIME ZONE"))) return 1;
  if (!strcmp(from, "\"NULL\"") || !strcmp(from, "NULL")) return 1; /* an all-null JSON column */
  return 0;
}

static int copy_col(struct sl_column *dst, const struct sl_column *src) {
  dst->name = sl_strdup(src->name);
  dst->type = sl_strdup(src->type);
  dst->field_id = src->field_id;
  dst->nullable = src->nullable;
  return dst->name && dst->type ? 0 : SL_ENOMEM;
}

int sl_ingest_reconcile(const struct sl_schema *cur, const struct sl_schema *in, int evolve,
                        const char *qualified, struct sl_buf *sel, struct sl_schema *out,
                        struct sl_err *err) {
  memset(out, 0, sizeof *out);
  size_t cap = (cur ? cur->n_cols : 0) + in->n_cols + 1;
  out->cols = sl_calloc(cap, sizeof *out->cols);
  if (!out->cols) return sl_err_set(err, SL_ENOMEM, "out of memory");
  int rc = 0;
  /* Columns with the same name twice (CSV headers allow it) would be ambiguous. */
  for (size_t i = 0; i < in->n_cols; i++)
    for (size_t j = i + 1; j < in->n_cols; j++)
      if (!strcmp(in->cols[i].name, in->cols[j].name)) {
        rc = sl_err_set(err, SL_EDATA, "the files have column '%s' twice; rename one", in->cols[i].name);
        goto out;
      }
  if (!cur) {
    for (size_t i = 0; i < in->n_cols; i++) {
      if (copy_col(&out->cols[out->n_cols++], &in->cols[i])) goto nomem;
      if (i) sl_buf_puts(sel, ", ");
      sl_buf_sql_ident(sel, in->cols[i].name);
    }
    goto out;
  }
  struct sl_buf extra;
  sl_buf_init(&extra);
  for (size_t i = 0; i < in->n_cols; i++)
    if (!sl_schema_col(cur, in->cols[i].name)) {
      if (extra.len) sl_buf_puts(&extra, ", ");
      sl_buf_puts(&extra, in->cols[i].name);
    }
  if (extra.len && !evolve) {
    rc = sl_err_set(err, SL_ESCHEMA,
                    "the files have columns that %s does not: %s; pass --evolve to add them to the table, "
                    "or --mode replace to replace the table",
                    qualified, extra.data);
    sl_buf_fini(&extra);
    goto out;
  }
  sl_buf_fini(&extra);
  for (size_t i = 0; i < cur->n_cols; i++) {
    const struct sl_column *tc = &cur->cols[i];
    const struct sl_column *ic = sl_schema_col(in, tc->name);
    if (copy_col(&out->cols[out->n_cols++], tc)) goto nomem;
    if (i) sl_buf_puts(sel, ", ");
    if (!ic) {
      sl_buf_printf(sel, "CAST(NULL AS %s) AS ", tc->type);
      sl_buf_sql_ident(sel, tc->name);
    } else if (!strcmp(ic->type, tc->type)) {
      sl_buf_sql_ident(sel, tc->name);
    } else if (widens(ic->type, tc->type)) {
      sl_buf_puts(sel, "CAST(");
      sl_buf_sql_ident(sel, tc->name);
      sl_buf_printf(sel, " AS %s) AS ", tc->type);
      sl_buf_sql_ident(sel, tc->name);
    } else {
      rc = sl_err_set(err, SL_ESCHEMA,
                      "column '%s' is %s in the files but %s in %s; fix the files, pass --schema to read it as %s, "
                      "or --mode replace to replace the table",
                      tc->name, ic->type, tc->type, qualified, tc->type);
      goto out;
    }
  }
  for (size_t i = 0; i < in->n_cols; i++)
    if (!sl_schema_col(cur, in->cols[i].name)) {
      if (copy_col(&out->cols[out->n_cols++], &in->cols[i])) goto nomem;
      sl_buf_puts(sel, ", ");
      sl_buf_sql_ident(sel, in->cols[i].name);
    }
  goto out;
nomem:
  rc = sl_err_set(err, SL_ENOMEM, "out of memory");
out:
  if (rc) sl_schema_fini(out);
  return rc;
}
