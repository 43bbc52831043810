/* build_probe.c: what DuckDB's plan of a model tells about reading only part of a
 * changed input. The input is replaced by an empty stand-in table, _sl_probe, and the
 * model's plan is read back as JSON.
 * - An input that holds the model's unique key is read as every row of each changed
 *   key. That is right only when the model's rows of a key come from that key's input
 *   rows alone: then a filter on the key over the model's output reaches the input's
 *   scan as a filter on the same column. DuckDB's optimizer moves a filter below a
 *   window or an aggregate only when it partitions or groups by that column, follows
 *   it through renames, and never moves it below a limit, a global aggregate or a
 *   window over other columns, so its plan answers for whatever SQL the model holds.
 * - An input without the key is read as its new rows only: right for a model that maps
 *   rows, not for one that groups, windows or limits them, which the unoptimized plan
 *   shows as such an operator above the stand-in's scan, nor for one that reads it on
 *   the looked-up side of an outer, semi, anti, mark or single join (new rows there
 *   change rows built before). */
#include "transform/build_int.h"

#include "core/buf.h"
#include "core/mem.h"
#include "sql/sql.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* The stand-in for input i: an empty table of its columns; cols: those, when wanted. */
static int probe_make(struct sl_bctx *x, const struct sl_model *m, size_t i, struct sl_schema *cols,
                      struct sl_err *err) {
  struct sl_buf b;
  sl_buf_init(&b);
  sl_buf_puts(&b, "CREATE OR REPLACE TEMP TABLE _sl_probe AS SELECT * FROM ");
  sl_buf_sql_qname(&b, m->deps[i].table);
  int rc = sl_buf_puts(&b, " LIMIT 0") ? sl_err_set(err, SL_ENOMEM, "out of memory") : sl_duck_exec(x->d, b.data, err);
  if (!rc && cols) rc = sl_sql_describe(x->d, "_sl_probe", cols, err);
  sl_buf_fini(&b);
  return rc;
}

/* The model's plan with input i read from the stand-in, as parsed JSON. optimize: 0
 * for the plan as written; 1 for the optimized one, except that the stand-in's (empty)
 * statistics do not fold filters away. */
static int probe_plan(struct sl_bctx *x, const struct sl_model *m, char **rels, size_t i, const char *this_rel,
                      const char *where, int optimize, json_t **tree, struct sl_err *err) {
  *tree = NULL;
  char *saved = rels[i], probe[] = "_sl_probe", *sql = NULL, *q = NULL, *plan = NULL;
  rels[i] = probe;
  struct sl_render rd = {x->ms, m, rels, this_rel, x->d};
  int rc = sl_model_render(&rd, &sql, err);
  rels[i] = saved;
  if (!rc && !(q = sl_asprintf("EXPLAIN (FORMAT JSON) SELECT * FROM (\n%s\n)%s%s", sql, where ? " WHERE " : "",
                               where ? where : "")))
    rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  const char *off = optimize ? "SET disabled_optimizers = 'statistics_propagation'" : "PRAGMA disable_optimizer";
  const char *on = optimize ? "RESET disabled_optimizers" : "PRAGMA enable_optimizer";
  if (!rc && !(rc = sl_duck_exec(x->d, off, err))) {
    struct sl_duck_result r;
    if ((rc = sl_duck_query(x->d, q, &r, err))) sl_err_prefix(err, "%s: ", m->path);
    struct sl_err e2;
    int rc2 = sl_duck_exec(x->d, on, &e2);
    if (!rc) {
      plan = sl_duck_result_rows(&r) ? sl_duck_result_text(&r, 1, 0) : NULL;
      sl_duck_result_fini(&r);
      if (rc2) rc = sl_err_set(err, e2.code, "%s", e2.msg);
    }
  }
  if (!rc && !(*tree = plan ? json_loads(plan, 0, NULL) : NULL))
    rc = sl_err_set(err, SL_EINTERNAL, "%s: DuckDB's plan of the model is not JSON", m->path);
  sl_free(plan);
  sl_free(q);
  sl_free(sql);
  return rc;
}

static int is_probe_scan(json_t *node) {
  const char *t = json_string_value(json_object_get(json_object_get(node, "extra_info"), "Table"));
  return t && !strcmp(t, "_sl_probe");
}

/* ---- inputs without the key: no set operator above their rows ---- */

/* Operators that need all of a group's rows, not only the new ones. */
static const char *const set_ops[] = {"HASH_GROUP_BY", "PERFECT_HASH_GROUP_BY", "UNGROUPED_AGGREGATE", "WINDOW",
                                      "STREAMING_WINDOW", "TOP_N", "LIMIT", "STREAMING_LIMIT", "RESERVOIR_SAMPLE",
                                      "STREAMING_SAMPLE", NULL};

/* The walk of a plan: the first operator found over the probe, and the materialized
 * CTEs (by index) whose definition reads it, so that their scans count as its. */
struct walk {
  const char *op;
  const char *cte[32];
  size_t n_cte;
  int overflow;
  char side[96]; /* for op "SIDE": the join and the side the probe is on */
};

/* 1 if a join (name, Join Type jt) may read the new rows of an input on child idx as
 * they are: every output row they give is new and no row built before changes. That
 * holds for either side of an inner join, and for the side an outer, semi, anti, mark
 * or single (scalar subquery) join keeps or filters; not for the side whose rows the
 * other side's rows look up (a new row there changes or removes rows built before). */
static int join_side_ok(const char *name, const char *jt, size_t idx) {
  if (!strncmp(name, "ASOF", 4)) return idx == 0;
  if (!jt || !strcmp(jt, "INNER")) return 1;
  static const char *const left[] = {"LEFT", "SEMI", "ANTI", "MARK", "SINGLE", NULL};
  static const char *const right[] = {"RIGHT", "RIGHT_SEMI", "RIGHT_ANTI", NULL};
  for (int k = 0; left[k]; k++)
    if (!strcmp(jt, left[k])) return idx == 0;
  for (int k = 0; right[k]; k++)
    if (!strcmp(jt, right[k])) return idx == 1;
  return 0; /* FULL, OUTER, or one not known here */
}

static int reads_probe_here(json_t *node, const struct walk *w) {
  if (is_probe_scan(node)) return 1;
  const char *name = json_string_value(json_object_get(node, "name"));
  const char *ix = json_string_value(json_object_get(json_object_get(node, "extra_info"), "CTE Index"));
  if (!name || strncmp(name, "CTE_SCAN", 8) || !ix) return 0;
  for (size_t k = 0; k < w->n_cte; k++)
    if (!strcmp(w->cte[k], ix)) return 1;
  return 0;
}

/* 1 if the plan node reads _sl_probe; w->op: the first such operator above that scan,
 * or "JOIN" for a join with the probe on two sides (new rows would meet only new rows;
 * "CTE" when there are more CTEs than the walk follows). */
static int plan_reads_probe(json_t *node, struct walk *w) {
  int found = 0, sides = 0;
  const char *name = json_string_value(json_object_get(node, "name"));
  int is_cte = name && !strncmp(name, "CTE", 3) && name[3 + strspn(name + 3, " ")] == '\0';
  int is_join = name && (strstr(name, "JOIN") || strstr(name, "CROSS_PRODUCT"));
  const char *jt = json_string_value(json_object_get(json_object_get(node, "extra_info"), "Join Type"));
  size_t i;
  json_t *kid;
  json_array_foreach(json_object_get(node, "children"), i, kid) {
    int f = plan_reads_probe(kid, w);
    found |= f;
    sides += f;
    if (f && is_join && !w->op && !join_side_ok(name, jt, i)) {
      w->op = "SIDE";
      snprintf(w->side, sizeof w->side, "%s join (%s)", jt ? jt : "an", name);
    }
    /* A CTE's first child defines it; the others may scan it. */
    const char *ix = json_string_value(json_object_get(json_object_get(node, "extra_info"), "Table Index"));
    if (is_cte && i == 0 && f && ix) {
      if (w->n_cte < sizeof w->cte / sizeof *w->cte) w->cte[w->n_cte++] = ix;
      else w->overflow = 1;
    }
  }
  found |= reads_probe_here(node, w);
  if (sides > 1 && name && !w->op && (strstr(name, "JOIN") || strstr(name, "CROSS_PRODUCT")))
    w->op = "JOIN";
  for (int k = 0; found && name && !w->op && set_ops[k]; k++) {
    size_t n = strlen(set_ops[k]);
    if (!strncmp(name, set_ops[k], n) && name[n + strspn(name + n, " ")] == '\0') w->op = set_ops[k];
  }
  return found;
}

int sl_build_probe_row_wise(struct sl_bctx *x, const struct sl_model *m, char **rels, size_t i, const char *this_rel,
                            char **why, struct sl_err *err) {
  json_t *tree = NULL;
  int rc = probe_make(x, m, i, NULL, err);
  if (!rc) rc = probe_plan(x, m, rels, i, this_rel, NULL, 0, &tree, err);
  struct walk w = {0};
  size_t k;
  json_t *node;
  json_array_foreach(tree, k, node) plan_reads_probe(node, &w);
  const char *op = w.overflow && !w.op ? "CTE" : w.op, *t = m->deps[i].table;
  if (!rc && op && !strcmp(op, "SIDE"))
    *why = sl_asprintf("input %s is read by a %s on the side the other rows look up: its new rows change rows "
                       "built before (an outer join's optional side, IN, EXISTS, EXCEPT or a scalar subquery)",
                       t, w.side);
  else if (!rc && op && !strcmp(op, "JOIN"))
    *why = m->n_key ? sl_asprintf("input %s lacks a column of the unique key and the model joins it with itself", t)
                    : sl_asprintf("the model has no unique_key and joins input %s with itself", t);
  else if (!rc && op)
    *why = m->n_key ? sl_asprintf("input %s lacks a column of the unique key and the model's plan has %s over it", t, op)
                    : sl_asprintf("the model has no unique_key and its plan has %s over input %s", op, t);
  json_decref(tree);
  return rc;
}

/* ---- inputs with the key: a filter on the key reaches their scan ---- */

static int is_int_type(const char *t) {
  static const char *const ints[] = {"TINYINT",  "SMALLINT", "INTEGER",  "BIGINT",  "HUGEINT", "UTINYINT",
                                     "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", NULL};
  for (int k = 0; ints[k]; k++)
    if (!strcmp(t, ints[k])) return 1;
  return 0;
}

/* A value of the key's type to filter by (each holds "113", looked for in the plan),
 * or NULL for a type without one. */
static const char *probe_value(const char *t) {
  if (is_int_type(t) || !strncmp(t, "DECIMAL", 7)) return "113";
  if (!strcmp(t, "VARCHAR")) return "_sl_113";
  if (!strcmp(t, "DATE")) return "2113-01-13";
  if (!strncmp(t, "TIMESTAMP", 9)) return "2113-01-13 01:13:00";
  if (!strcmp(t, "UUID")) return "00000000-0000-0000-0000-000000000113";
  return NULL;
}

/* 1 if a cast of the key from type `from` to type `to` keeps different keys apart
 * (DuckDB fails a narrowing integer cast that overflows rather than wrapping it). */
static int cast_keeps_keys(const char *from, const char *to) {
  if (!strcmp(from, to)) return 1;
  if (is_int_type(from)) return is_int_type(to) || !strcmp(to, "VARCHAR");
  if (!strcmp(from, "DATE")) return !strncmp(to, "TIMESTAMP", 9);
  return 0;
}

/* 1 if the conjunct c (length n) is `col=<value>` or `(CAST(col AS T) = <value>)`
 * with a cast that keeps keys apart, the value holding "113". */
static int conjunct_fixes(const char *c, size_t n, const char *col, const char *type) {
  size_t cl = strlen(col);
  const char *rest = NULL;
  if (n > cl && !strncmp(c, col, cl) && c[cl] == '=') {
    rest = c + cl + 1;
  } else if (n > 6 + cl + 4 && !strncmp(c, "(CAST(", 6) && !strncmp(c + 6, col, cl) && !strncmp(c + 6 + cl, " AS ", 4)) {
    const char *to = c + 6 + cl + 4, *end = strstr(to, ") = ");
    if (!end || end >= c + n) return 0;
    char *t = sl_strndup(to, (size_t)(end - to));
    int ok = t && cast_keeps_keys(type, t);
    sl_free(t);
    if (!ok) return 0;
    rest = end + 4;
  }
  if (!rest) return 0;
  const char *hit = strstr(rest, "113");
  return hit && hit < c + n;
}

/* 1 if the filter text f (conjuncts joined by " AND ") fixes col. */
static int filter_fixes(const char *f, const char *col, const char *type) {
  while (*f) {
    const char *end = f;
    int depth = 0;
    for (; *end; end++) {
      if (*end == '(') depth++;
      else if (*end == ')') depth--;
      else if (!depth && !strncmp(end, " AND ", 5)) break;
    }
    if (conjunct_fixes(f, (size_t)(end - f), col, type)) return 1;
    f = *end ? end + 5 : end;
  }
  return 0;
}

/* 1 if every scan of _sl_probe under node is filtered on each key column. */
static int probe_scans_fixed(json_t *node, const struct sl_model *m, const struct sl_schema *cols) {
  size_t i;
  json_t *kid;
  json_array_foreach(json_object_get(node, "children"), i, kid) if (!probe_scans_fixed(kid, m, cols)) return 0;
  if (!is_probe_scan(node)) return 1;
  json_t *fs = json_object_get(json_object_get(node, "extra_info"), "Filters");
  for (size_t k = 0; k < m->n_key; k++) {
    const struct sl_column *kc = sl_schema_col(cols, m->key[k]);
    if (!kc) return 0;
    const char *type = kc->type;
    int fixed = json_is_string(fs) && filter_fixes(json_string_value(fs), m->key[k], type);
    json_t *f;
    json_array_foreach(json_is_array(fs) ? fs : NULL, i, f) fixed |=
        json_is_string(f) && filter_fixes(json_string_value(f), m->key[k], type);
    if (!fixed) return 0;
  }
  return 1;
}

int sl_build_probe_key_local(struct sl_bctx *x, const struct sl_model *m, char **rels, size_t i, const char *this_rel,
                             char **why, struct sl_err *err) {
  struct sl_schema cols = {0};
  json_t *tree = NULL;
  int rc = probe_make(x, m, i, &cols, err);
  struct sl_buf w;
  sl_buf_init(&w);
  const char *bad = NULL;
  for (size_t k = 0; !rc && k < m->n_key && !bad; k++) {
    const struct sl_column *kc = sl_schema_col(&cols, m->key[k]);
    const char *type = kc ? kc->type : NULL;
    const char *v = type ? probe_value(type) : NULL;
    if (!v) {
      bad = m->key[k];
      break;
    }
    if (k) sl_buf_puts(&w, " AND ");
    sl_buf_sql_ident(&w, m->key[k]);
    sl_buf_puts(&w, " = CAST(");
    sl_buf_sql_str(&w, v);
    sl_buf_printf(&w, " AS %s)", type); /* a type DuckDB itself named */
  }
  if (!rc && bad) {
    *why = sl_asprintf("the type of input %s's key column %s cannot show whether the model keeps its keys apart",
                       m->deps[i].table, bad);
  } else if (!rc && probe_plan(x, m, rels, i, this_rel, w.data, 1, &tree, err)) {
    /* E.g. a key the model turns into a type the value does not compare with: the
     * full build then runs the model as written (and reports its own errors). */
    *why = sl_asprintf("DuckDB cannot plan the model with a filter on its unique key (%.*s)",
                       (int)strcspn(err->msg, "\n"), err->msg);
    sl_err_clear(err);
  } else if (!rc) {
    size_t k;
    json_t *node;
    int fixed = 1;
    json_array_foreach(tree, k, node) fixed &= probe_scans_fixed(node, m, &cols);
    if (!fixed)
      *why = sl_asprintf("the model's rows of a key depend on other keys' rows of input %s (a filter on the unique "
                         "key does not reach its scan: a window, aggregate, join or limit over other columns)",
                         m->deps[i].table);
  }
  json_decref(tree);
  sl_buf_fini(&w);
  sl_schema_fini(&cols);
  return rc;
}
