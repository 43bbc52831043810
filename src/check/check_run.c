/* check_run.c: one check as SQL. Row checks are a predicate (or, for unique, sql and
 * relationships, a query) selecting the failing rows: the count decides pass or fail
 * (with `mostly`), and a sample is kept. Aggregate checks measure one value (row count,
 * age, mean, ...) and compare it with the bounds. */
#include "check/check_int.h"

#include "core/metrics.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/progress.h"
#include "core/time.h"
#include "sql/sql.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *sl_check_status_name(enum sl_check_status s) {
  static const char *const n[] = {"pass", "warn", "fail", "error"};
  return s <= SL_CHECK_ERROR ? n[s] : "?";
}

static void literal(struct sl_buf *b, const char *v) {
  char *end;
  if (*v && (strtod(v, &end), !*end)) sl_buf_puts(b, v);
  else sl_buf_sql_str(b, v);
}

static void cols_list(struct sl_buf *b, const struct sl_check *c, const char *qual) {
  for (size_t i = 0; i < c->n_cols; i++) {
    if (i) sl_buf_puts(b, ", ");
    if (qual) sl_buf_printf(b, "%s.", qual);
    sl_buf_sql_ident(b, c->cols[i]);
  }
}

/* {{ this }} in a custom check's SQL becomes the checked relation. */
static char *render_this(const char *sql, const char *rel) {
  struct sl_buf b;
  sl_buf_init(&b);
  const char *p = sql;
  while (*p) {
    const char *o = strstr(p, "{{");
    if (!o) break;
    const char *e = strstr(o, "}}");
    if (!e) break;
    const char *s = o + 2;
    while (*s == ' ') s++;
    if (!strncmp(s, "this", 4)) {
      const char *t = s + 4;
      while (*t == ' ') t++;
      if (t == e) {
        sl_buf_append(&b, p, (size_t)(o - p));
        sl_buf_puts(&b, rel);
        p = e + 2;
        continue;
      }
    }
    sl_buf_append(&b, p, (size_t)(e + 2 - p));
    p = e + 2;
  }
  sl_buf_puts(&b, p);
  return sl_buf_take(&b);
}

char *sl_check_failing_sql(const struct sl_check *c, const char *rel) {
  struct sl_buf b;
  sl_buf_init(&b);
  const char *col = c->n_cols ? c->cols[0] : "";
  switch (c->kind) {
  case SL_CHECK_NOT_NULL:
    sl_buf_printf(&b, "SELECT * FROM %s WHERE ", rel);
    sl_buf_sql_ident(&b, col);
    sl_buf_puts(&b, " IS NULL");
    break;
  case SL_CHECK_ACCEPTED_VALUES:
    sl_buf_printf(&b, "SELECT * FROM %s WHERE ", rel);
    sl_buf_sql_ident(&b, col);
    /* String literals, which DuckDB casts to the column's type: 1.0 in a DOUBLE
     * column is the accepted value 1 (check_args.c made sure each one casts). */
    sl_buf_puts(&b, " NOT IN (");
    for (size_t i = 0; i < c->n_values; i++) {
      if (i) sl_buf_puts(&b, ", ");
      sl_buf_sql_str(&b, c->values[i]);
    }
    sl_buf_puts(&b, ")");
    break;
  case SL_CHECK_BETWEEN:
    sl_buf_printf(&b, "SELECT * FROM %s WHERE ", rel);
    if (c->min) {
      sl_buf_sql_ident(&b, col);
      sl_buf_puts(&b, " < ");
      literal(&b, c->min);
    }
    if (c->min && c->max) sl_buf_puts(&b, " OR ");
    if (c->max) {
      sl_buf_sql_ident(&b, col);
      sl_buf_puts(&b, " > ");
      literal(&b, c->max);
    }
    break;
  case SL_CHECK_REGEX:
    sl_buf_printf(&b, "SELECT * FROM %s WHERE NOT regexp_full_match(", rel);
    sl_buf_sql_ident(&b, col);
    sl_buf_puts(&b, "::VARCHAR, ");
    sl_buf_sql_str(&b, c->pattern);
    sl_buf_puts(&b, ")");
    break;
  case SL_CHECK_UNIQUE:
    /* Rows whose key (all parts non-null) appears more than once. */
    sl_buf_printf(&b, "SELECT * EXCLUDE (_sl_n) FROM (SELECT *, count(*) OVER (PARTITION BY ");
    cols_list(&b, c, NULL);
    sl_buf_printf(&b, ") AS _sl_n FROM %s WHERE ", rel);
    for (size_t i = 0; i < c->n_cols; i++) {
      if (i) sl_buf_puts(&b, " AND ");
      sl_buf_sql_ident(&b, c->cols[i]);
      sl_buf_puts(&b, " IS NOT NULL");
    }
    sl_buf_puts(&b, ") WHERE _sl_n > 1");
    break;
  case SL_CHECK_RELATIONSHIPS: {
    char *ns = NULL, *t = NULL;
    struct sl_err e;
    if (sl_catalog_name_split(c->to_table, &ns, &t, &e)) {
      sl_buf_fini(&b);
      return NULL;
    }
    sl_buf_printf(&b, "SELECT * FROM %s AS _sl_r WHERE _sl_r.", rel);
    sl_buf_sql_ident(&b, col);
    sl_buf_puts(&b, " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ");
    sl_buf_sql_ident(&b, ns);
    sl_buf_putc(&b, '.');
    sl_buf_sql_ident(&b, t);
    sl_buf_puts(&b, " AS _sl_p WHERE _sl_p.");
    sl_buf_sql_ident(&b, c->to_col);
    sl_buf_puts(&b, " = _sl_r.");
    sl_buf_sql_ident(&b, col);
    sl_buf_putc(&b, ')');
    sl_free(ns);
    sl_free(t);
    break;
  }
  case SL_CHECK_SQL: {
    char *q = render_this(c->sql, rel);
    sl_buf_puts(&b, q ? q : "");
    sl_free(q);
    break;
  }
  default: break;
  }
  return sl_buf_take(&b);
}

/* The one value an aggregate check measures. */
static char *measure_sql(const struct sl_check *c, const char *rel) {
  struct sl_buf b;
  sl_buf_init(&b);
  struct sl_buf col;
  sl_buf_init(&col);
  if (c->n_cols) sl_buf_sql_ident(&col, c->cols[0]);
  switch (c->kind) {
  case SL_CHECK_ROW_COUNT: sl_buf_printf(&b, "SELECT count(*)::VARCHAR FROM %s", rel); break;
  case SL_CHECK_FRESHNESS:
    sl_buf_printf(&b, "SELECT epoch_ms(max(%s)::TIMESTAMP)::VARCHAR FROM %s", col.data, rel);
    break;
  case SL_CHECK_MEAN: sl_buf_printf(&b, "SELECT avg(%s)::VARCHAR FROM %s", col.data, rel); break;
  case SL_CHECK_MEDIAN: sl_buf_printf(&b, "SELECT median(%s)::DOUBLE::VARCHAR FROM %s", col.data, rel); break;
  case SL_CHECK_QUANTILE:
    sl_buf_printf(&b, "SELECT quantile_cont(%s, %.17g)::VARCHAR FROM %s", col.data, c->quantile, rel);
    break;
  case SL_CHECK_NOT_NULL_PROPORTION:
    sl_buf_printf(&b, "SELECT (count(%s)::DOUBLE / nullif(count(*), 0))::VARCHAR FROM %s", col.data, rel);
    break;
  default: break;
  }
  sl_buf_fini(&col);
  return sl_buf_take(&b);
}

static struct sl_check_result *push(struct sl_check_results *out, const struct sl_check *c, const char *table) {
  if (sl_array_grow(&out->v, &out->cap, out->n + 1, sizeof *out->v)) return NULL;
  struct sl_check_result *r = &out->v[out->n];
  memset(r, 0, sizeof *r);
  r->check = c;
  r->table = sl_strdup(table);
  if (!r->table) return NULL;
  out->n++;
  return r;
}

static enum sl_check_status failed(const struct sl_check *c) { return c->error ? SL_CHECK_FAIL : SL_CHECK_WARN; }

static int row_check(struct sl_duck *d, const struct sl_check *c, const char *rel, struct sl_check_result *r,
                     struct sl_err *err) {
  char *fail = sl_check_failing_sql(c, rel);
  char *q = fail ? sl_asprintf("SELECT (SELECT count(*) FROM (%s)), (SELECT count(*) FROM %s)", fail, rel) : NULL;
  struct sl_duck_result res;
  int rc = q ? sl_duck_query(d, q, &res, err) : sl_err_set(err, SL_EINVAL, "check %s: bad table name '%s'", c->name,
                                                          c->to_table ? c->to_table : "");
  sl_free(q);
  if (rc) {
    sl_free(fail);
    return rc;
  }
  r->failing = duckdb_value_int64(&res.r, 0, 0);
  r->total = duckdb_value_int64(&res.r, 1, 0);
  sl_duck_result_fini(&res);
  double allowed = (1.0 - c->mostly) * (double)r->total;
  int ok = (double)r->failing <= allowed + 1e-9;
  r->status = ok ? SL_CHECK_PASS : failed(c);
  if (r->failing) {
    double pass_share = r->total ? 1.0 - (double)r->failing / (double)r->total : 0;
    r->message = sl_asprintf("%lld of %lld rows fail%s", (long long)r->failing, (long long)r->total,
                             c->mostly < 1 ? "" : "");
    if (c->mostly < 1 && r->message) {
      char *m = sl_asprintf("%s (%.4g%% pass, mostly %.4g%%)", r->message, pass_share * 100, c->mostly * 100);
      sl_free(r->message);
      r->message = m;
    }
    q = sl_asprintf("SELECT to_json(list(_sl_s))::VARCHAR FROM (SELECT * FROM (%s) LIMIT 5) AS _sl_s", fail);
    if (q && !sl_duck_query(d, q, &res, err)) {
      r->sample = sl_duck_result_text(&res, 0, 0);
      sl_duck_result_fini(&res);
    }
    sl_err_clear(err);
    sl_free(q);
  }
  sl_free(fail);
  return 0;
}

static int schema_check(struct sl_duck *d, const struct sl_check *c, const char *rel, struct sl_check_result *r,
                        struct sl_err *err) {
  struct sl_schema s = {0};
  int rc = sl_sql_describe(d, rel, &s, err);
  if (rc) return rc;
  struct sl_buf m;
  sl_buf_init(&m);
  for (size_t i = 0; i + 1 < c->n_values; i += 2) {
    const char *want = c->values[i + 1], *have = NULL;
    for (size_t k = 0; k < s.n_cols && !have; k++)
      if (!strcmp(s.cols[k].name, c->values[i])) have = s.cols[k].type;
    if (!have) sl_buf_printf(&m, "%scolumn %s is missing", m.len ? "; " : "", c->values[i]);
    else if (strcasecmp(have, want)) sl_buf_printf(&m, "%scolumn %s is %s, not %s", m.len ? "; " : "", c->values[i], have, want);
  }
  sl_schema_fini(&s);
  r->status = m.len ? failed(c) : SL_CHECK_PASS;
  r->message = m.len ? sl_buf_take(&m) : NULL;
  sl_buf_fini(&m);
  return 0;
}

static int aggregate_check(struct sl_duck *d, const struct sl_check *c, const char *rel, struct sl_check_result *r,
                           struct sl_err *err) {
  if (c->kind == SL_CHECK_SCHEMA) return schema_check(d, c, rel, r, err);
  char *q = measure_sql(c, rel);
  struct sl_duck_result res;
  int rc = q ? sl_duck_query(d, q, &res, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  sl_free(q);
  if (rc) return rc;
  char *v = sl_duck_result_text(&res, 0, 0);
  sl_duck_result_fini(&res);
  if (c->kind == SL_CHECK_FRESHNESS) {
    if (!v) {
      r->status = failed(c);
      r->message = sl_strdup("no rows with a value: nothing is fresh");
      return 0;
    }
    int64_t age = sl_time_now_ms() - strtoll(v, NULL, 10);
    sl_free(v);
    r->observed = sl_asprintf("%lld", (long long)(age / 1000));
    int ok = age <= c->max_age_ms;
    r->status = ok ? SL_CHECK_PASS : failed(c);
    char have[32], allowed[32];
    sl_human_duration(age / 1000, have, sizeof have);
    sl_human_duration(c->max_age_ms / 1000, allowed, sizeof allowed);
    if (!ok) r->message = sl_asprintf("the newest row is %s old; at most %s allowed", have, allowed);
    return 0;
  }
  r->observed = v;
  if (!v) {
    r->status = failed(c);
    r->message = sl_strdup("no value (no non-null rows)");
    return 0;
  }
  double x = strtod(v, NULL);
  int ok = (!c->min || x >= strtod(c->min, NULL)) && (!c->max || x <= strtod(c->max, NULL));
  r->status = ok ? SL_CHECK_PASS : failed(c);
  if (!ok)
    r->message = sl_asprintf("%s is %s, expected %s%s%s%s%s", sl_check_kind_name(c->kind), v, c->min ? ">= " : "",
                             c->min ? c->min : "", c->min && c->max ? " and " : "", c->max ? "<= " : "",
                             c->max ? c->max : "");
  return 0;
}

int sl_check_run(struct sl_duck *d, const struct sl_check *c, const char *table, const char *rel,
                 struct sl_check_results *out, struct sl_err *err) {
  struct sl_check_result *r = push(out, c, table);
  if (!r) return sl_err_set(err, SL_ENOMEM, "out of memory");
  struct sl_err e = {0};
  int rc = sl_check_args(d, c, table, rel, &e);
  if (!rc) rc = c->kind < SL_CHECK_ROW_COUNT ? row_check(d, c, rel, r, &e) : aggregate_check(d, c, rel, r, &e);
  if (rc) {
    r->status = SL_CHECK_ERROR;
    sl_free(r->message);
    r->message = sl_asprintf("%s:%d: %s", c->file, c->line, e.msg);
  }
  sl_metric_counter_add("sluice_checks_total", r->status == SL_CHECK_PASS ? "status=\"pass\"" : r->status == SL_CHECK_WARN ? "status=\"warn\"" : r->status == SL_CHECK_FAIL ? "status=\"fail\"" : "status=\"error\"", 1);
  return 0;
}

void sl_check_results_fini(struct sl_check_results *rs) {
  for (size_t i = 0; i < rs->n; i++) {
    sl_free(rs->v[i].table);
    sl_free(rs->v[i].observed);
    sl_free(rs->v[i].message);
    sl_free(rs->v[i].sample);
  }
  sl_free(rs->v);
  memset(rs, 0, sizeof *rs);
}

int sl_check_results_blocking(const struct sl_check_results *rs, size_t from) {
  for (size_t i = from; i < rs->n; i++)
    if (rs->v[i].status == SL_CHECK_FAIL || (rs->v[i].status == SL_CHECK_ERROR && rs->v[i].check->error)) return 1;
  return 0;
}
