/* model.c: loading models: the .sql files under models/ (a model's name is its file
 * name), their config() call and the refs and sources they read; then resolving refs
 * into the DAG and refusing unknown refs and cycles with the file and line. */
#include "transform/transform.h"

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/strs.h"
#include "core/time.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int push_str(char ***v, size_t *n, const char *s) {
  char **nv = sl_realloc(*v, (*n + 2) * sizeof **v);
  if (!nv) return -1;
  *v = nv;
  if (!(nv[*n] = sl_strdup(s))) return -1;
  (*n)++;
  return 0;
}

static void model_fini(struct sl_model *m) {
  sl_free(m->name);
  sl_free(m->path);
  sl_free(m->text);
  sl_tpl_parts_free(m->parts, m->n_parts);
  sl_free(m->ns);
  sl_str_list_free(m->key, m->n_key);
  sl_free(m->partition);
  sl_free(m->event_time);
  sl_str_list_free(m->tags, m->n_tags);
  for (size_t i = 0; i < m->n_deps; i++) {
    sl_free(m->deps[i].model);
    sl_free(m->deps[i].table);
  }
  sl_free(m->deps);
  sl_free(m->up);
}

void sl_models_fini(struct sl_models *ms) {
  for (size_t i = 0; i < ms->n; i++) model_fini(&ms->v[i]);
  sl_free(ms->v);
  sl_free(ms->macros);
  sl_str_list_free(ms->macro_paths, ms->n_macros);
  sl_str_list_free(ms->macro_texts, ms->n_macros);
  memset(ms, 0, sizeof *ms);
}

int sl_models_find(const struct sl_models *ms, const char *name) {
  for (size_t i = 0; i < ms->n; i++)
    if (!strcmp(ms->v[i].name, name)) return (int)i;
  return -1;
}

static int str_or_list(const struct sl_tx *a, char ***v, size_t *n) {
  if (a->kind == SL_TX_STR) return push_str(v, n, a->s);
  if (a->kind != SL_TX_LIST) return -2;
  for (size_t i = 0; i < a->n; i++) {
    if (a->args[i]->kind != SL_TX_STR) return -2;
    if (push_str(v, n, a->args[i]->s)) return -1;
  }
  return 0;
}

static int apply_config(struct sl_model *m, const struct sl_tpl_part *p, struct sl_err *err) {
  const struct sl_tx *c = p->expr;
  for (size_t i = 0; i < c->n; i++) {
    const struct sl_tx *a = c->args[i];
    const char *k = a->key ? a->key : "";
    int rc = 0;
    if (!strcmp(k, "materialized")) {
      if (a->kind != SL_TX_STR) rc = -2;
      else if (!strcmp(a->s, "table")) m->mat = SL_MAT_TABLE;
      else if (!strcmp(a->s, "view")) m->mat = SL_MAT_VIEW;
      else if (!strcmp(a->s, "incremental")) m->mat = SL_MAT_INCREMENTAL;
      else
        return sl_err_set(err, SL_EINVAL, "%s:%d: materialized='%s'; it is table, view or incremental", m->path,
                          p->line, a->s);
    } else if (!strcmp(k, "namespace") || !strcmp(k, "schema")) {
      if (a->kind != SL_TX_STR || !sl_catalog_name_valid(a->s))
        return sl_err_set(err, SL_EINVAL, "%s:%d: %s must be a name like silver or gold", m->path, p->line, k);
      if (!strcmp(a->s, "audit") || !strcmp(a->s, "quarantine"))
        return sl_err_set(err, SL_EINVAL, "%s:%d: %s '%s' holds sluice's own build and check records; models "
                          "write to other namespaces, e.g. silver or gold", m->path, p->line, k, a->s);
      sl_free(m->ns);
      m->ns = sl_strdup(a->s);
    } else if (!strcmp(k, "unique_key")) {
      sl_str_list_free(m->key, m->n_key);
      m->key = NULL;
      m->n_key = 0;
      rc = str_or_list(a, &m->key, &m->n_key);
    } else if (!strcmp(k, "tags")) {
      rc = str_or_list(a, &m->tags, &m->n_tags);
    } else if (!strcmp(k, "partition") || !strcmp(k, "partition_by")) {
      if (a->kind != SL_TX_STR) rc = -2;
      else m->partition = sl_strdup(a->s);
    } else if (!strcmp(k, "event_time")) {
      if (a->kind != SL_TX_STR) rc = -2;
      else m->event_time = sl_strdup(a->s);
    } else if (!strcmp(k, "lookback")) {
      if ((a->kind != SL_TX_STR && a->kind != SL_TX_NUM) || sl_time_parse_duration(a->s, &m->lookback_ms))
        return sl_err_set(err, SL_EINVAL, "%s:%d: lookback is a duration like '3d' or '12h'", m->path, p->line);
    } else {
      return sl_err_set(err, SL_EINVAL,
                        "%s:%d: config(%s=...) is not an option; known: materialized, namespace, unique_key, "
                        "partition, tags, event_time, lookback",
                        m->path, p->line, a->key ? a->key : "<positional>");
    }
    if (rc == -2)
      return sl_err_set(err, SL_EINVAL, "%s:%d: config %s= takes a quoted string%s", m->path, p->line, k,
                        !strcmp(k, "unique_key") || !strcmp(k, "tags") ? " or a list of them" : "");
    if (rc) return sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  return 0;
}

/* Records ref() and source() calls anywhere in an expression (one_hot may hold one). */
static int collect(struct sl_model *m, const struct sl_tx *x, int line, struct sl_err *err) {
  if (x->kind == SL_TX_CALL && (!strcmp(x->s, "ref") || !strcmp(x->s, "source"))) {
    int is_ref = !strcmp(x->s, "ref");
    size_t want = is_ref ? 1 : 2;
    for (size_t i = 0; i < x->n; i++)
      if (x->args[i]->kind != SL_TX_STR || x->args[i]->key) want = 99;
    if (x->n != want)
      return sl_err_set(err, SL_EINVAL, "%s:%d: %s", m->path, line,
                        is_ref ? "ref takes one quoted model name: {{ ref('loan') }}"
                               : "source takes two quoted names: {{ source('bronze', 'loan') }}");
    struct sl_model_dep *d = sl_realloc(m->deps, (m->n_deps + 1) * sizeof *d);
    if (!d) return sl_err_set(err, SL_ENOMEM, "out of memory");
    m->deps = d;
    d = &m->deps[m->n_deps++];
    memset(d, 0, sizeof *d);
    d->line = line;
    d->model = is_ref ? sl_strdup(x->args[0]->s) : NULL;
    d->table = is_ref ? NULL : sl_asprintf("%s.%s", x->args[0]->s, x->args[1]->s);
    if (!d->model && !d->table) return sl_err_set(err, SL_ENOMEM, "out of memory");
    return 0;
  }
  for (size_t i = 0; i < x->n; i++) {
    int rc = collect(m, x->args[i], line, err);
    if (rc) return rc;
  }
  return 0;
}

/* 1 if the model's text holds something besides {{ }} parts, white space and SQL
 * comments. */
static int has_sql(const struct sl_model *m) {
  const char *t = m->text;
  size_t n = strlen(t), k = 0;
  for (size_t i = 0; i < n; i++) {
    while (k < m->n_parts && m->parts[k].end <= i) k++;
    if (k < m->n_parts && i >= m->parts[k].start) {
      i = m->parts[k].end - 1;
      continue;
    }
    if (isspace((unsigned char)t[i])) continue;
    if (t[i] == '-' && t[i + 1] == '-') {
      while (i < n && t[i] != '\n') i++;
      continue;
    }
    if (t[i] == '/' && t[i + 1] == '*') {
      const char *e = strstr(t + i + 2, "*/");
      if (!e) return 1; /* unclosed: DuckDB says so */
      i = (size_t)(e - t) + 1;
      continue;
    }
    return 1;
  }
  return 0;
}

static int load_one(const char *root, const char *path, const char *default_ns, struct sl_model *m,
                    struct sl_err *err) {
  memset(m, 0, sizeof *m);
  size_t rl = strlen(root);
  m->path = sl_strdup(!strncmp(path, root, rl) && path[rl] == '/' ? path + rl + 1 : path);
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  m->name = sl_strndup(base, strlen(base) - 4);
  m->ns = sl_strdup(default_ns);
  if (!m->path || !m->name || !m->ns) return sl_err_set(err, SL_ENOMEM, "out of memory");
  if (!sl_catalog_name_valid(m->name))
    return sl_err_set(err, SL_EINVAL, "%s: '%s' is not a valid model name; use letters, digits and _ (the file name is the model's name)",
                      m->path, m->name);
  size_t len = 0;
  int rc = sl_fs_read_all(path, 16 << 20, &m->text, &len, err);
  if (rc) return rc;
  if (strlen(m->text) != len) return sl_err_set(err, SL_EINVAL, "%s: the file holds a NUL byte; a model is SQL text", m->path);
  if ((rc = sl_tpl_scan(m->path, m->text, &m->parts, &m->n_parts, err))) return rc;
  int configs = 0;
  for (size_t i = 0; i < m->n_parts; i++) {
    const struct sl_tpl_part *p = &m->parts[i];
    if (!p->expr) continue;
    if (p->expr->kind == SL_TX_CALL && !strcmp(p->expr->s, "config")) {
      if (configs++) return sl_err_set(err, SL_EINVAL, "%s:%d: a model has one config() call", m->path, p->line);
      if ((rc = apply_config(m, p, err))) return rc;
    } else if ((rc = collect(m, p->expr, p->line, err))) {
      return rc;
    }
  }
  if (m->mat == SL_MAT_VIEW && (m->partition || m->n_key || m->event_time))
    return sl_err_set(err, SL_EINVAL, "%s: %s applies to tables; a view has no files or merges (use "
                      "materialized='table' or 'incremental')", m->path,
                      m->partition ? "partition" : m->n_key ? "unique_key" : "event_time");
  if (!has_sql(m))
    return sl_err_set(err, SL_EINVAL, "%s: the model has no SQL; a model is one SELECT (after its config())", m->path);
  if (m->lookback_ms && !m->n_key)
    return sl_err_set(err, SL_EINVAL,
                      "%s: lookback needs unique_key (rows within it are computed again and replace their key's; "
                      "without a key they would be appended twice)",
                      m->path);
  if (m->lookback_ms && !m->event_time)
    return sl_err_set(err, SL_EINVAL, "%s: lookback needs event_time (the column late rows are found by)", m->path);
  return 0;
}

/* Every file under dir ending in ext, sorted. */
static int list_files(const char *dir, const char *ext, char ***out, size_t *n, struct sl_err *err) {
  DIR *dh = opendir(dir);
  if (!dh) return errno == ENOENT ? 0 : sl_err_set(err, SL_EIO, "%s: %s", dir, strerror(errno));
  int rc = 0;
  struct dirent *de;
  size_t el = strlen(ext);
  while (!rc && (de = readdir(dh))) {
    if (de->d_name[0] == '.') continue;
    char *p = sl_asprintf("%s/%s", dir, de->d_name);
    if (!p) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    else if (sl_fs_is_dir(p)) rc = list_files(p, ext, out, n, err);
    else if (strlen(p) > el && !strcmp(p + strlen(p) - el, ext) && push_str(out, n, p))
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    sl_free(p);
  }
  closedir(dh);
  if (*n) qsort(*out, *n, sizeof **out, sl_strs_cmp);
  return rc;
}

int sl_models_load_macros(const char *root, struct sl_models *out, struct sl_err *err) {
  char **macros = NULL;
  size_t nm = 0;
  char *macdir = sl_asprintf("%s/macros", root);
  int rc = macdir ? list_files(macdir, ".sql", &macros, &nm, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  if (!rc && nm) {
    out->macro_paths = sl_calloc(nm + 1, sizeof *out->macro_paths);
    out->macro_texts = sl_calloc(nm + 1, sizeof *out->macro_texts);
    if (!out->macro_paths || !out->macro_texts) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  struct sl_buf b;
  sl_buf_init(&b);
  size_t rl = strlen(root);
  for (size_t i = 0; !rc && i < nm; i++) {
    char *text = NULL;
    size_t len = 0;
    if (!(rc = sl_fs_read_all(macros[i], 16 << 20, &text, &len, err))) {
      sl_buf_printf(&b, "%s;\n", text);
      out->macro_texts[out->n_macros] = text;
      out->macro_paths[out->n_macros++] = sl_strdup(macros[i] + rl + (macros[i][rl] == '/'));
    }
  }
  sl_free(out->macros);
  out->macros = sl_buf_take(&b);
  sl_str_list_free(macros, nm);
  sl_free(macdir);
  return rc;
}

int sl_models_load(const char *root, const char *models_dir, const char *default_ns, struct sl_models *out,
                   struct sl_err *err) {
  memset(out, 0, sizeof *out);
  char **files = NULL;
  size_t nf = 0;
  char *mdir = sl_asprintf("%s/%s", root, models_dir);
  int rc = !mdir ? sl_err_set(err, SL_ENOMEM, "out of memory") : 0;
  if (!rc) rc = list_files(mdir, ".sql", &files, &nf, err);
  if (!rc && nf) {
    out->v = sl_calloc(nf, sizeof *out->v);
    if (!out->v) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  for (size_t i = 0; !rc && i < nf; i++) {
    rc = load_one(root, files[i], default_ns, &out->v[out->n], err);
    out->n++;
    for (size_t j = 0; !rc && j + 1 < out->n; j++)
      if (!strcasecmp(out->v[j].name, out->v[out->n - 1].name))
        rc = sl_err_set(err, SL_EINVAL, "%s and %s both define model '%s'; model names are file names and must be "
                        "unique (letter case aside: the lake's SQL does not tell them apart)",
                        out->v[j].path, out->v[out->n - 1].path, out->v[out->n - 1].name);
  }
  if (!rc) rc = sl_models_load_macros(root, out, err);
  sl_str_list_free(files, nf);
  sl_free(mdir);
  if (rc) sl_models_fini(out);
  return rc;
}

/* Depth-first search for a cycle; state 0 new, 1 on the path, 2 done. */
static int visit(const struct sl_models *ms, size_t i, unsigned char *state, size_t *path, size_t depth,
                 struct sl_err *err) {
  if (state[i] == 2) return 0;
  path[depth] = i;
  if (state[i] == 1) {
    struct sl_buf b;
    sl_buf_init(&b);
    size_t from = 0;
    while (path[from] != i) from++;
    for (size_t k = from; k <= depth; k++) sl_buf_printf(&b, "%s%s", k > from ? " -> " : "", ms->v[path[k]].name);
    const struct sl_model *m = &ms->v[path[depth - 1]];
    int line = 0;
    for (size_t k = 0; k < m->n_deps; k++)
      if (m->deps[k].model && !strcmp(m->deps[k].model, ms->v[i].name)) line = m->deps[k].line;
    int rc = line ? sl_err_set(err, SL_EINVAL, "%s:%d: models form a cycle: %s; a model cannot read itself through "
                               "refs", m->path, line, b.data ? b.data : "")
                  : sl_err_set(err, SL_EINVAL, "%s: models form a cycle: %s (a check of %s reads %s, so %s "
                               "comes first); a model cannot read itself through refs and checks",
                               m->path, b.data ? b.data : "", m->name, ms->v[i].name, ms->v[i].name);
    sl_buf_fini(&b);
    return rc;
  }
  state[i] = 1;
  for (size_t k = 0; k < ms->v[i].n_up; k++) {
    int rc = visit(ms, ms->v[i].up[k], state, path, depth + 1, err);
    if (rc) return rc;
  }
  state[i] = 2;
  return 0;
}

int sl_models_resolve(struct sl_models *ms, sl_source_fn source, void *ctx, struct sl_err *err) {
  for (size_t i = 0; i < ms->n; i++) {
    struct sl_model *m = &ms->v[i];
    m->up = sl_calloc(m->n_deps + 1, sizeof *m->up);
    if (!m->up) return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (size_t k = 0; k < m->n_deps; k++) {
      struct sl_model_dep *d = &m->deps[k];
      if (d->model) {
        int j = sl_models_find(ms, d->model);
        if (j < 0)
          return sl_err_set(err, SL_EINVAL,
                            "%s:%d: ref('%s') names no model; models are the .sql files under models/ (for a lake "
                            "table use source('bronze', '%s'))",
                            m->path, d->line, d->model, d->model);
        d->table = sl_asprintf("%s.%s", ms->v[j].ns, ms->v[j].name);
        if (!d->table) return sl_err_set(err, SL_ENOMEM, "out of memory");
        int seen = 0;
        for (size_t q = 0; q < m->n_up; q++) seen |= m->up[q] == (size_t)j;
        if (!seen) m->up[m->n_up++] = (size_t)j;
      } else {
        char *dot = strchr(d->table, '.');
        *dot = 0;
        char *t = source(ctx, d->table, dot + 1, err);
        *dot = '.';
        if (!t) return sl_err_prefix(err, "%s:%d: ", m->path, d->line), err->code;
        sl_free(d->table);
        d->table = t;
      }
    }
  }
  return sl_models_check_cycles(ms, err);
}

int sl_models_check_cycles(const struct sl_models *ms, struct sl_err *err) {
  unsigned char *state = sl_calloc(ms->n + 1, 1);
  size_t *path = sl_calloc(ms->n + 2, sizeof *path);
  int rc = !state || !path ? sl_err_set(err, SL_ENOMEM, "out of memory") : 0;
  for (size_t i = 0; !rc && i < ms->n; i++) rc = visit(ms, i, state, path, 0, err);
  sl_free(state);
  sl_free(path);
  return rc;
}

int sl_models_add_up(struct sl_models *ms, size_t i, size_t up) {
  struct sl_model *m = &ms->v[i];
  for (size_t q = 0; q < m->n_up; q++)
    if (m->up[q] == up) return 0;
  size_t *v = sl_realloc(m->up, (m->n_up + 1) * sizeof *v);
  if (!v) return -1;
  m->up = v;
  m->up[m->n_up++] = up;
  return 0;
}

static void mark_up(const struct sl_models *ms, size_t i, unsigned char *picked) {
  picked[i] = 1;
  for (size_t k = 0; k < ms->v[i].n_up; k++)
    if (!picked[ms->v[i].up[k]]) mark_up(ms, ms->v[i].up[k], picked);
}

static void mark_down(const struct sl_models *ms, size_t i, unsigned char *picked) {
  picked[i] = 1;
  for (size_t j = 0; j < ms->n; j++)
    for (size_t k = 0; k < ms->v[j].n_up; k++)
      if (ms->v[j].up[k] == i && !picked[j]) mark_down(ms, j, picked);
}

/* Marks in picked the models one selector (name, +name, name+, tag:x, path:p) takes. */
static int select_one(const struct sl_models *ms, const char *x, size_t len, unsigned char *picked,
                      struct sl_err *err) {
  int up = x[0] == '+', down = len > 1 && x[len - 1] == '+';
  char *name = sl_strndup(x + up, len - (size_t)up - (size_t)down);
  if (!name) return sl_err_set(err, SL_ENOMEM, "out of memory");
  int any = 0;
  for (size_t i = 0; i < ms->n; i++) {
    const struct sl_model *m = &ms->v[i];
    int hit = !strcmp(m->name, name);
    if (!strncmp(name, "tag:", 4))
      for (size_t t = 0; t < m->n_tags; t++) hit |= !strcmp(m->tags[t], name + 4);
    if (!strncmp(name, "path:", 5)) hit = !strncmp(m->path, name + 5, strlen(name + 5));
    if (!hit) continue;
    any = 1;
    picked[i] = 1;
    if (up) mark_up(ms, i, picked);
    if (down) mark_down(ms, i, picked);
  }
  int rc = any ? 0 : sl_err_set(err, SL_EINVAL, "--select %.*s matches no model; `sluice lineage` lists them", (int)len, x);
  sl_free(name);
  return rc;
}

int sl_models_select(const struct sl_models *ms, char *const *sel, size_t n, unsigned char *picked,
                     struct sl_err *err) {
  memset(picked, n ? 0 : 1, ms->n);
  unsigned char *all = sl_calloc(ms->n + 1, 1), *one = sl_calloc(ms->n + 1, 1);
  int rc = !all || !one ? sl_err_set(err, SL_ENOMEM, "out of memory") : 0;
  /* Selectors are a union; a selector of comma-joined parts (tag:daily,gold_loans+) is
   * the intersection of its parts, as in dbt. */
  for (size_t s = 0; !rc && s < n; s++) {
    memset(all, 1, ms->n);
    for (const char *x = sel[s]; !rc && *x;) {
      size_t len = strcspn(x, ",");
      if (len) {
        memset(one, 0, ms->n);
        rc = select_one(ms, x, len, one, err);
        for (size_t i = 0; i < ms->n; i++) all[i] &= one[i];
      }
      x += len + (x[len] == ',');
    }
    for (size_t i = 0; !rc && i < ms->n; i++) picked[i] |= all[i];
  }
  sl_free(all);
  sl_free(one);
  return rc;
}
