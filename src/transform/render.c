/* render.c: a model's text with its {{ }} parts replaced: refs and sources by the
 * relation the build reads them through, {{ this }} by the model's own table,
 * config() by nothing, and one_hot('col', ref(..)) by one 0/1 column per value the
 * column holds. */
#include "transform/transform.h"

#include "core/buf.h"
#include "core/mem.h"

#include <ctype.h>
#include <string.h>

static int dep_index(const struct sl_model *m, size_t *next, const struct sl_tx *x) {
  (void)x;
  return (int)(*next)++;
}

/* The column name for one one_hot value: prefix_value, with anything but letters,
 * digits and _ turned into _. */
static void onehot_name(struct sl_buf *b, const char *prefix, const char *v) {
  struct sl_buf n;
  sl_buf_init(&n);
  sl_buf_printf(&n, "%s_", prefix);
  for (const char *p = v; *p; p++) sl_buf_putc(&n, isalnum((unsigned char)*p) ? *p : '_');
  sl_buf_sql_ident(b, n.data ? n.data : "");
  sl_buf_fini(&n);
}

static int render_expr(const struct sl_render *r, const struct sl_tx *x, int line, size_t *next, struct sl_buf *out,
                       struct sl_err *err);

static int one_hot(const struct sl_render *r, const struct sl_tx *x, int line, size_t *next, struct sl_buf *out,
                   struct sl_err *err) {
  const char *path = r->m->path;
  if (x->n < 2 || x->args[0]->kind != SL_TX_STR || (x->n > 2 && x->args[2]->kind != SL_TX_STR))
    return sl_err_set(err, SL_EINVAL, "%s:%d: one_hot takes a column and the relation holding it: "
                                      "{{ one_hot('grade', ref('loan')) }} (and optionally a prefix)", path, line);
  const char *col = x->args[0]->s, *prefix = x->n > 2 ? x->args[2]->s : col;
  struct sl_buf rel, q;
  sl_buf_init(&rel);
  sl_buf_init(&q);
  int rc = render_expr(r, x->args[1], line, next, &rel, err);
  if (rc) goto out;
  sl_buf_puts(&q, "SELECT DISTINCT ");
  sl_buf_sql_ident(&q, col);
  sl_buf_printf(&q, "::VARCHAR FROM %s WHERE ", rel.data);
  sl_buf_sql_ident(&q, col);
  sl_buf_puts(&q, " IS NOT NULL ORDER BY 1 LIMIT 1001");
  struct sl_duck_result res;
  if ((rc = sl_duck_query(r->d, q.data, &res, err))) {
    sl_err_prefix(err, "%s:%d: one_hot('%s'): ", path, line, col);
    goto out;
  }
  int64_t n = sl_duck_result_rows(&res);
  if (n > 1000) {
    sl_duck_result_fini(&res);
    rc = sl_err_set(err, SL_EINVAL, "%s:%d: one_hot('%s'): more than 1000 distinct values; one-hot encode a "
                                    "low-cardinality column", path, line, col);
    goto out;
  }
  for (int64_t i = 0; i < n; i++) {
    char *v = sl_duck_result_text(&res, 0, i);
    if (i) sl_buf_puts(out, ", ");
    /* A NULL category is no category: 0 in every column (as pandas' get_dummies). */
    sl_buf_puts(out, "CAST(coalesce(");
    sl_buf_sql_ident(out, col);
    sl_buf_puts(out, "::VARCHAR = ");
    sl_buf_sql_str(out, v ? v : "");
    sl_buf_puts(out, ", false) AS INTEGER) AS ");
    onehot_name(out, prefix, v ? v : "");
    sl_free(v);
  }
  if (!n) sl_buf_puts(out, "NULL AS _no_values");
  sl_duck_result_fini(&res);
out:
  sl_buf_fini(&rel);
  sl_buf_fini(&q);
  return rc;
}

static int render_expr(const struct sl_render *r, const struct sl_tx *x, int line, size_t *next, struct sl_buf *out,
                       struct sl_err *err) {
  const char *path = r->m->path;
  if (x->kind == SL_TX_CALL && (!strcmp(x->s, "ref") || !strcmp(x->s, "source"))) {
    int i = dep_index(r->m, next, x);
    sl_buf_puts(out, r->dep_rel[i]);
    return 0;
  }
  if (x->kind == SL_TX_CALL && !strcmp(x->s, "one_hot")) return one_hot(r, x, line, next, out, err);
  if (x->kind == SL_TX_NAME && !strcmp(x->s, "this")) {
    if (!r->this_rel)
      return sl_err_set(err, SL_EINVAL,
                        "%s:%d: {{ this }} has no table yet (this is the model's first build); use it inside "
                        "{%% if is_incremental() %%} ... {%% endif %%}, which a first build leaves out",
                        path, line);
    sl_buf_puts(out, r->this_rel);
    return 0;
  }
  if (x->kind == SL_TX_STR) {
    sl_buf_puts(out, x->s);
    return 0;
  }
  return sl_err_set(err, SL_EINVAL,
                    "%s:%d: {{ %s%s }} is not known; models use ref(), source(), this, config() and one_hot()", path,
                    line, x->s ? x->s : "...", x->kind == SL_TX_CALL ? "(...)" : "");
}

int sl_model_render(const struct sl_render *r, char **out, struct sl_err *err) {
  const struct sl_model *m = r->m;
  struct sl_buf b;
  sl_buf_init(&b);
  size_t at = 0, next = 0;
  int rc = 0;
  for (size_t i = 0; !rc && i < m->n_parts; i++) {
    const struct sl_tpl_part *p = &m->parts[i];
    sl_buf_append(&b, m->text + at, p->start - at);
    at = p->end;
    if (!p->expr || (p->expr->kind == SL_TX_CALL && !strcmp(p->expr->s, "config"))) continue;
    rc = render_expr(r, p->expr, p->line, &next, &b, err);
  }
  if (!rc) sl_buf_puts(&b, m->text + at);
  /* A trailing semicolon would end the statement we wrap the model in. */
  while (!rc && b.len && (isspace((unsigned char)b.data[b.len - 1]) || b.data[b.len - 1] == ';')) b.data[--b.len] = 0;
  if (!rc && !b.data) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  if (!rc) *out = sl_buf_take(&b);
  sl_buf_fini(&b);
  return rc;
}
