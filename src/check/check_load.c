/* check_load.c: checks from YAML. A `checks:` node is a list of entries:
 *
 *   - table: silver.loan            (a lake table, or a model's name)
 *     columns:
 *       id: [not_null, unique]
 *       grade: [{accepted_values: [A, B, C]}]
 *       age: [{between: {min: 18, max: 100, mostly: 0.99, severity: warn}}]
 *     checks:
 *       - row_count: {min: 1}
 *       - unique: [person_id, id]
 *       - sql: "SELECT * FROM {{ this }} WHERE amount < 0"
 *
 * Every error names file:line:column and says what is accepted. */
#include "check/check.h"

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/strs.h"
#include "core/time.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const kind_names[SL_CHECK_N_KINDS] = {
    "not_null", "unique", "accepted_values", "between", "regex", "relationships", "sql",
    "row_count", "freshness", "schema", "mean_between", "median_between", "quantile_between",
    "not_null_proportion",
};

const char *sl_check_kind_name(enum sl_check_kind k) { return k < SL_CHECK_N_KINDS ? kind_names[k] : "?"; }

static int kind_parse(const char *s, enum sl_check_kind *out) {
  for (int i = 0; i < SL_CHECK_N_KINDS; i++)
    if (!strcmp(s, kind_names[i])) {
      *out = (enum sl_check_kind)i;
      return 0;
    }
  if (!strcmp(s, "custom_sql")) {
    *out = SL_CHECK_SQL;
    return 0;
  }
  return -1;
}

static void check_fini(struct sl_check *c) {
  sl_free(c->table);
  sl_free(c->name);
  sl_str_list_free(c->cols, c->n_cols);
  sl_str_list_free(c->values, c->n_values);
  sl_free(c->min);
  sl_free(c->max);
  sl_free(c->pattern);
  sl_free(c->to_table);
  sl_free(c->to_col);
  sl_free(c->sql);
  sl_free(c->file);
}

void sl_checks_fini(struct sl_checks *cs) {
  for (size_t i = 0; i < cs->n; i++) check_fini(&cs->v[i]);
  sl_free(cs->v);
  memset(cs, 0, sizeof *cs);
}

static int push_str(char ***v, size_t *n, const char *s) {
  char **nv = sl_realloc(*v, (*n + 2) * sizeof **v);
  if (!nv) return -1;
  *v = nv;
  if (!(nv[*n] = sl_strdup(s))) return -1;
  (*n)++;
  return 0;
}

static int is_number(const char *s) {
  char *end;
  if (!*s) return 0;
  double v = strtod(s, &end);
  return !*end && isfinite(v);
}

struct ctx {
  const struct sl_cfg_doc *doc;
  struct sl_err *err;
};

#define BAD(node, ...) sl_cfg_err_at(x->err, SL_ECONFIG, x->doc, (node), NULL, __VA_ARGS__)

static int scalar_list(struct ctx *x, const struct sl_cfg_node *n, char ***v, size_t *cnt, const char *what) {
  if (n->kind == SL_CFG_SCALAR) return push_str(v, cnt, n->value) ? sl_err_set(x->err, SL_ENOMEM, "out of memory") : 0;
  if (n->kind != SL_CFG_SEQ) return BAD(n, "%s must be a list", what);
  for (size_t i = 0; i < n->n_items; i++) {
    if (n->items[i]->kind != SL_CFG_SCALAR) return BAD(n->items[i], "%s must be a list of plain values", what);
    if (push_str(v, cnt, n->items[i]->value)) return sl_err_set(x->err, SL_ENOMEM, "out of memory");
  }
  return 0;
}

static int bound(struct ctx *x, const struct sl_cfg_node *n, char **out) {
  if (n->kind != SL_CFG_SCALAR) return BAD(n, "'%s' must be a value", n->key);
  if (!(*out = sl_strdup(n->value))) return sl_err_set(x->err, SL_ENOMEM, "out of memory");
  return 0;
}

/* An error about check c, naming what it checks: "file:line:col: between on table
 * silver.loan, column age: <fmt>" (file:line when there is no node). */
static int check_err(struct ctx *x, const struct sl_check *c, const struct sl_cfg_node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int check_err(struct ctx *x, const struct sl_check *c, const struct sl_cfg_node *at, const char *fmt, ...) {
  struct sl_buf b;
  sl_buf_init(&b);
  sl_buf_printf(&b, "%s on table %s", kind_names[c->kind], c->table);
  for (size_t i = 0; i < c->n_cols; i++)
    sl_buf_printf(&b, "%s%s", i ? ", " : c->n_cols > 1 ? ", columns " : ", column ", c->cols[i]);
  sl_buf_puts(&b, ": ");
  va_list ap;
  va_start(ap, fmt);
  sl_buf_vprintf(&b, fmt, ap);
  va_end(ap);
  int rc = at ? BAD(at, "%s", b.data ? b.data : "")
              : sl_err_set(x->err, SL_ECONFIG, "%s:%d: %s", x->doc->file, c->line, b.data ? b.data : "");
  sl_buf_fini(&b);
  return rc;
}

/* Schema's expected columns: every key of map m is a column, its value a type. */
static int schema_cols(struct ctx *x, struct sl_check *c, const struct sl_cfg_node *m) {
  if (m->kind != SL_CFG_MAP) return BAD(m, "schema columns is a map of column: TYPE");
  for (size_t j = 0; j < m->n_items; j++) {
    if (m->items[j]->kind != SL_CFG_SCALAR) return BAD(m->items[j], "a column's type is a DuckDB type name");
    if (push_str(&c->values, &c->n_values, m->items[j]->key) || push_str(&c->values, &c->n_values, m->items[j]->value))
      return sl_err_set(x->err, SL_ENOMEM, "out of memory");
  }
  return 0;
}

/* The parameters of one check: p is the node after "kind:" (or NULL for a bare kind). */
static int params(struct ctx *x, struct sl_check *c, const struct sl_cfg_node *p, int table_level) {
  const struct sl_cfg_node *at = p;
  /* Shorthand values. */
  if (p && p->kind != SL_CFG_MAP) {
    int rc = 0;
    switch (c->kind) {
    case SL_CHECK_UNIQUE:
      if (!table_level) return BAD(p, "unique on a column takes no value; list column sets under the table's checks:");
      rc = scalar_list(x, p, &c->cols, &c->n_cols, "unique");
      break;
    case SL_CHECK_ACCEPTED_VALUES: rc = scalar_list(x, p, &c->values, &c->n_values, "accepted_values"); break;
    case SL_CHECK_REGEX:
      if (p->kind != SL_CFG_SCALAR) return BAD(p, "regex takes a pattern");
      if (!(c->pattern = sl_strdup(p->value))) rc = sl_err_set(x->err, SL_ENOMEM, "out of memory");
      break;
    case SL_CHECK_SQL:
      if (p->kind != SL_CFG_SCALAR) return BAD(p, "sql takes a SELECT returning the failing rows");
      if (!(c->sql = sl_strdup(p->value))) rc = sl_err_set(x->err, SL_ENOMEM, "out of memory");
      break;
    default:
      if (p->kind == SL_CFG_SCALAR && !*p->value) break;
      return BAD(p, "%s takes a map of options (e.g. {min: 0, max: 1})", kind_names[c->kind]);
    }
    if (rc) return rc;
    p = NULL;
  } else if (p && c->kind == SL_CHECK_SCHEMA) {
    /* The short form maps every key to a column's type, so that a column may be named
     * name or severity; options go with the long form {columns: {...}, severity: warn}. */
    const struct sl_cfg_node *cols = sl_cfg_get(p, "columns");
    if (!cols || cols->kind != SL_CFG_MAP) {
      int rc = schema_cols(x, c, p);
      if (rc) return rc;
      p = NULL;
    }
  }
  for (size_t i = 0; p && i < p->n_items; i++) {
    const struct sl_cfg_node *o = p->items[i];
    const char *k = o->key;
    int rc = 0;
    if (!strcmp(k, "severity")) {
      if (o->kind != SL_CFG_SCALAR || (strcmp(o->value, "warn") && strcmp(o->value, "error")))
        return BAD(o, "severity is warn or error");
      c->error = !strcmp(o->value, "error");
    } else if (!strcmp(k, "mostly")) {
      char *end;
      double v = o->kind == SL_CFG_SCALAR ? strtod(o->value, &end) : -1;
      if (o->kind != SL_CFG_SCALAR || *end || !(v > 0 && v <= 1)) return BAD(o, "mostly is a share in (0, 1], e.g. 0.95");
      c->mostly = v;
    } else if (!strcmp(k, "name")) {
      rc = bound(x, o, &c->name);
    } else if (!strcmp(k, "column") && table_level && c->kind != SL_CHECK_SCHEMA) {
      rc = scalar_list(x, o, &c->cols, &c->n_cols, "column");
    } else if (!strcmp(k, "columns") && c->kind == SL_CHECK_UNIQUE) {
      rc = scalar_list(x, o, &c->cols, &c->n_cols, "columns");
    } else if (!strcmp(k, "columns") && c->kind == SL_CHECK_SCHEMA) {
      rc = schema_cols(x, c, o);
    } else if (!strcmp(k, "values") && c->kind == SL_CHECK_ACCEPTED_VALUES) {
      rc = scalar_list(x, o, &c->values, &c->n_values, "values");
    } else if (!strcmp(k, "pattern") && c->kind == SL_CHECK_REGEX) {
      rc = bound(x, o, &c->pattern);
    } else if (!strcmp(k, "sql") && c->kind == SL_CHECK_SQL) {
      rc = bound(x, o, &c->sql);
    } else if ((!strcmp(k, "min") || !strcmp(k, "max")) &&
               (c->kind == SL_CHECK_BETWEEN || c->kind >= SL_CHECK_ROW_COUNT) && c->kind != SL_CHECK_FRESHNESS &&
               c->kind != SL_CHECK_SCHEMA) {
      rc = bound(x, o, k[1] == 'i' ? &c->min : &c->max);
      if (!rc && c->kind != SL_CHECK_BETWEEN && !is_number(o->value)) return BAD(o, "%s must be a number", k);
    } else if (!strcmp(k, "quantile") && c->kind == SL_CHECK_QUANTILE) {
      char *end;
      c->quantile = o->kind == SL_CFG_SCALAR ? strtod(o->value, &end) : -1;
      if (o->kind != SL_CFG_SCALAR || *end || !(c->quantile >= 0 && c->quantile <= 1))
        return BAD(o, "quantile is in [0, 1], e.g. 0.9");
    } else if (!strcmp(k, "max_age") && c->kind == SL_CHECK_FRESHNESS) {
      if (o->kind != SL_CFG_SCALAR || sl_time_parse_duration(o->value, &c->max_age_ms))
        return BAD(o, "max_age is a duration like 90s, 15m, 24h or 7d");
      if (c->max_age_ms <= 0)
        return BAD(o, "max_age must be a positive duration like 90s, 15m, 24h or 7d, not '%s'", o->value);
    } else if (!strcmp(k, "to") && c->kind == SL_CHECK_RELATIONSHIPS) {
      rc = bound(x, o, &c->to_table);
    } else if (!strcmp(k, "field") && c->kind == SL_CHECK_RELATIONSHIPS) {
      rc = bound(x, o, &c->to_col);
    } else if (c->kind == SL_CHECK_SCHEMA) {
      return BAD(o, "schema has no option '%s'; with columns: given, the columns and their types go under it", k);
    } else {
      return BAD(o, "%s has no option '%s'", kind_names[c->kind], k);
    }
    if (rc) return rc;
  }
  /* What each kind needs. */
  int need_col = c->kind != SL_CHECK_SQL && c->kind != SL_CHECK_ROW_COUNT && c->kind != SL_CHECK_SCHEMA;
  const char *need = NULL;
  if (need_col && !c->n_cols) need = "a column (declare it under columns:, or give column:)";
  else if (c->kind == SL_CHECK_ACCEPTED_VALUES && !c->n_values) need = "at least one value, e.g. [A, B, C]";
  else if (c->kind == SL_CHECK_REGEX && !c->pattern) need = "a pattern";
  else if (c->kind == SL_CHECK_SQL && !c->sql) need = "a SELECT returning the failing rows";
  else if (c->kind == SL_CHECK_RELATIONSHIPS && (!c->to_table || !c->to_col))
    need = "to: <ns.table or model> and field: <column>";
  else if (c->kind == SL_CHECK_FRESHNESS && !c->max_age_ms) need = "max_age: a duration like 90s, 15m, 24h or 7d";
  else if (c->kind == SL_CHECK_SCHEMA && !c->n_values) need = "the expected columns and types";
  else if ((c->kind == SL_CHECK_BETWEEN || (c->kind >= SL_CHECK_ROW_COUNT && c->kind != SL_CHECK_FRESHNESS &&
                                            c->kind != SL_CHECK_SCHEMA)) && !c->min && !c->max)
    need = "min, max or both";
  if (need) return check_err(x, c, at, "needs %s", need);
  /* Bounds that are both numbers are compared here; others (dates, text) by the
   * column's type when the check runs. */
  if (c->min && c->max && is_number(c->min) && is_number(c->max) && strtod(c->min, NULL) > strtod(c->max, NULL))
    return check_err(x, c, at, "min %s is above max %s", c->min, c->max);
  return 0;
}

static int one_check(struct ctx *x, struct sl_checks *out, const char *table, const char *column,
                     const struct sl_cfg_node *item) {
  const struct sl_cfg_node *kn = item, *p = NULL;
  const char *kname = item->kind == SL_CFG_SCALAR ? item->value : NULL;
  if (item->kind == SL_CFG_MAP) {
    if (item->n_items != 1)
      return BAD(item, "a check is one kind with its options, e.g. `- between: {min: 0, max: 1}`");
    kname = item->items[0]->key;
    p = item->items[0];
    kn = p;
  }
  if (!kname) return BAD(item, "a check is a kind name (not_null, unique, ...) or a map of one kind to its options");
  if (sl_array_grow(&out->v, &out->cap, out->n + 1, sizeof *out->v))
    return sl_err_set(x->err, SL_ENOMEM, "out of memory");
  struct sl_check *c = &out->v[out->n];
  memset(c, 0, sizeof *c);
  c->error = 1;
  c->mostly = 1.0;
  c->line = kn->line;
  c->file = sl_strdup(x->doc->file);
  c->table = sl_strdup(table);
  int rc = !c->file || !c->table ? sl_err_set(x->err, SL_ENOMEM, "out of memory") : 0;
  if (!rc && kind_parse(kname, &c->kind))
    rc = BAD(kn, "unknown check '%s'; known: not_null, unique, accepted_values, between, regex, relationships, sql, "
                 "row_count, freshness, schema, mean_between, median_between, quantile_between, not_null_proportion",
             kname);
  if (!rc && column && push_str(&c->cols, &c->n_cols, column)) rc = sl_err_set(x->err, SL_ENOMEM, "out of memory");
  if (!rc && column && (c->kind == SL_CHECK_ROW_COUNT || c->kind == SL_CHECK_SCHEMA || c->kind == SL_CHECK_SQL))
    rc = BAD(kn, "%s is a table check; list it under the table's checks:", kname);
  if (!rc) rc = params(x, c, p, column == NULL);
  if (!rc && !c->name) {
    struct sl_buf b;
    sl_buf_init(&b);
    sl_buf_puts(&b, kind_names[c->kind]);
    if (c->n_cols) {
      sl_buf_putc(&b, '(');
      for (size_t i = 0; i < c->n_cols; i++) sl_buf_printf(&b, "%s%s", i ? "," : "", c->cols[i]);
      sl_buf_putc(&b, ')');
    }
    if (!(c->name = sl_buf_take(&b))) rc = sl_err_set(x->err, SL_ENOMEM, "out of memory");
  }
  if (rc) {
    check_fini(c);
    return rc;
  }
  out->n++;
  return 0;
}

int sl_checks_load_node(const struct sl_cfg_doc *doc, const struct sl_cfg_node *checks, struct sl_checks *out,
                        struct sl_err *err) {
  struct ctx cx = {doc, err}, *x = &cx;
  if (!checks) return 0;
  if (checks->kind != SL_CFG_SEQ) return BAD(checks, "checks: is a list of entries, each with table: and its checks");
  for (size_t i = 0; i < checks->n_items; i++) {
    const struct sl_cfg_node *e = checks->items[i];
    if (e->kind != SL_CFG_MAP) return BAD(e, "a checks entry is a map with table:, columns: and checks:");
    const struct sl_cfg_node *t = sl_cfg_get(e, "table");
    if (!t) t = sl_cfg_get(e, "model");
    if (!t || t->kind != SL_CFG_SCALAR || !*t->value) return BAD(e, "a checks entry needs table: <ns.table or model>");
    for (size_t j = 0; j < e->n_items; j++) {
      const struct sl_cfg_node *k = e->items[j];
      int rc = 0;
      if (!strcmp(k->key, "table") || !strcmp(k->key, "model")) continue;
      if (!strcmp(k->key, "columns")) {
        if (k->kind != SL_CFG_MAP) return BAD(k, "columns: maps each column to a list of checks");
        for (size_t m = 0; m < k->n_items && !rc; m++) {
          const struct sl_cfg_node *col = k->items[m];
          if (col->kind == SL_CFG_SEQ) {
            for (size_t q = 0; q < col->n_items && !rc; q++) rc = one_check(x, out, t->value, col->key, col->items[q]);
          } else {
            rc = one_check(x, out, t->value, col->key, col);
          }
        }
      } else if (!strcmp(k->key, "checks")) {
        if (k->kind != SL_CFG_SEQ) return BAD(k, "checks: is a list");
        for (size_t q = 0; q < k->n_items && !rc; q++) rc = one_check(x, out, t->value, NULL, k->items[q]);
      } else {
        return BAD(k, "unknown key '%s' in a checks entry; known: table, columns, checks", k->key);
      }
      if (rc) return rc;
    }
  }
  return 0;
}

/* A .yml file in a checks folder holds checks, under a top-level checks: list: one
 * with other keys only (a dbt schema file, say) would otherwise be skipped without a
 * word. An empty file declares nothing. */
static int file_checks(const struct sl_cfg_doc *doc, struct sl_checks *out, struct sl_err *err) {
  const struct sl_cfg_node *checks = sl_cfg_get(doc->root, "checks");
  if (checks || !doc->root->n_items) return sl_checks_load_node(doc, checks, out, err);
  struct sl_buf keys;
  sl_buf_init(&keys);
  for (size_t i = 0; i < doc->root->n_items && i < 5; i++)
    sl_buf_printf(&keys, "%s%s", i ? ", " : "", doc->root->items[i]->key);
  if (doc->root->n_items > 5) sl_buf_puts(&keys, ", ...");
  int rc = sl_err_set(err, SL_ECONFIG,
                      "%s: not a sluice checks file: it has no top-level checks: list (its keys: %s). .yml files "
                      "under the models and checks folders declare checks as `checks:` followed by entries "
                      "`- table: <ns.table or model>`; move other YAML out of these folders",
                      doc->file, keys.data ? keys.data : "");
  sl_buf_fini(&keys);
  return rc;
}

static int walk(const char *dir, struct sl_checks *out, struct sl_err *err) {
  DIR *dh = opendir(dir);
  if (!dh) return errno == ENOENT ? 0 : sl_err_set(err, SL_EIO, "%s: %s", dir, strerror(errno));
  char **names = NULL;
  size_t n = 0;
  int rc = 0;
  struct dirent *de;
  while (!rc && (de = readdir(dh))) {
    if (de->d_name[0] == '.') continue;
    if (push_str(&names, &n, de->d_name)) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  closedir(dh);
  if (n) qsort(names, n, sizeof *names, sl_strs_cmp);
  for (size_t i = 0; !rc && i < n; i++) {
    char *path = sl_asprintf("%s/%s", dir, names[i]);
    if (!path) {
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      break;
    }
    size_t len = strlen(path);
    if (sl_fs_is_dir(path)) {
      rc = walk(path, out, err);
    } else if ((len > 4 && !strcmp(path + len - 4, ".yml")) || (len > 5 && !strcmp(path + len - 5, ".yaml"))) {
      struct sl_cfg_doc doc = {0};
      rc = sl_cfg_load(path, &doc, err);
      if (!rc) rc = file_checks(&doc, out, err);
      sl_cfg_doc_fini(&doc);
    }
    sl_free(path);
  }
  sl_str_list_free(names, n);
  return rc;
}

int sl_checks_load_dir(const char *dir, struct sl_checks *out, struct sl_err *err) { return walk(dir, out, err); }
