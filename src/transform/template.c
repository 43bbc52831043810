/* template.c: the {{ ... }} expressions of model files. A small grammar, not Jinja:
 *   expr := STRING | NUMBER | NAME | '[' expr,* ']' | NAME '(' (NAME '=' expr | expr),* ')'
 * {# comments #} are dropped; {% statements %} are refused with a clear message,
 * since sluice computes incremental deltas itself. */
#include "transform/transform.h"

#include "core/mem.h"

#include <ctype.h>
#include <string.h>

struct lex {
  const char *p, *end;
  const char *why;
  int depth;
};

static void skip_ws(struct lex *l) {
  while (l->p < l->end && isspace((unsigned char)*l->p)) l->p++;
}

static struct sl_tx *node(enum sl_tx_kind k, const char *s, size_t n) {
  struct sl_tx *x = sl_calloc(1, sizeof *x);
  if (!x) return NULL;
  x->kind = k;
  if (s && !(x->s = sl_strndup(s, n))) {
    sl_free(x);
    return NULL;
  }
  return x;
}

void sl_tx_free(struct sl_tx *x) {
  if (!x) return;
  for (size_t i = 0; i < x->n; i++) sl_tx_free(x->args[i]);
  sl_free(x->args);
  sl_free(x->s);
  sl_free(x->key);
  sl_free(x);
}

static int add_arg(struct sl_tx *x, struct sl_tx *a) {
  struct sl_tx **v = sl_realloc(x->args, (x->n + 1) * sizeof *v);
  if (!v) return -1;
  x->args = v;
  v[x->n++] = a;
  return 0;
}

static struct sl_tx *expr(struct lex *l);

/* Items up to `close`, separated by commas; calls allow name=value. */
static int items(struct lex *l, struct sl_tx *x, char close, int kw) {
  skip_ws(l);
  if (l->p < l->end && *l->p == close) {
    l->p++;
    return 0;
  }
  for (;;) {
    char *key = NULL;
    skip_ws(l);
    if (kw) {
      const char *s = l->p;
      while (l->p < l->end && (isalnum((unsigned char)*l->p) || *l->p == '_')) l->p++;
      const char *e = l->p;
      skip_ws(l);
      if (e > s && l->p < l->end && *l->p == '=' && (l->p + 1 >= l->end || l->p[1] != '=')) {
        l->p++;
        if (!(key = sl_strndup(s, (size_t)(e - s)))) return -1;
      } else {
        l->p = s;
      }
    }
    struct sl_tx *a = expr(l);
    if (!a) {
      sl_free(key);
      return -1;
    }
    a->key = key;
    if (add_arg(x, a)) {
      sl_tx_free(a);
      return -1;
    }
    skip_ws(l);
    if (l->p < l->end && *l->p == ',') {
      l->p++;
      continue;
    }
    if (l->p < l->end && *l->p == close) {
      l->p++;
      return 0;
    }
    l->why = close == ')' ? "expected ',' or ')'" : "expected ',' or ']'";
    return -1;
  }
}

static struct sl_tx *expr(struct lex *l) {
  skip_ws(l);
  if (l->p >= l->end) {
    l->why = "expected a value";
    return NULL;
  }
  if (++l->depth > 32) {
    l->why = "nested too deeply";
    return NULL;
  }
  struct sl_tx *x = NULL;
  char c = *l->p;
  if (c == '\'' || c == '"') {
    const char *s = ++l->p;
    while (l->p < l->end && *l->p != c) l->p++;
    if (l->p >= l->end) {
      l->why = "unterminated string";
      return NULL;
    }
    x = node(SL_TX_STR, s, (size_t)(l->p - s));
    l->p++;
  } else if (isdigit((unsigned char)c) || c == '-' || c == '.') {
    const char *s = l->p++;
    while (l->p < l->end && (isalnum((unsigned char)*l->p) || *l->p == '.')) l->p++;
    x = node(SL_TX_NUM, s, (size_t)(l->p - s));
  } else if (c == '[') {
    l->p++;
    x = node(SL_TX_LIST, NULL, 0);
    if (x && items(l, x, ']', 0)) {
      sl_tx_free(x);
      x = NULL;
    }
  } else if (isalpha((unsigned char)c) || c == '_') {
    const char *s = l->p;
    while (l->p < l->end && (isalnum((unsigned char)*l->p) || *l->p == '_')) l->p++;
    size_t n = (size_t)(l->p - s);
    skip_ws(l);
    if (l->p < l->end && *l->p == '(') {
      l->p++;
      x = node(SL_TX_CALL, s, n);
      if (x && items(l, x, ')', 1)) {
        sl_tx_free(x);
        x = NULL;
      }
    } else {
      x = node(SL_TX_NAME, s, n);
    }
  } else {
    l->why = "expected a string, number, list, name or call";
  }
  l->depth--;
  if (!x && !l->why) l->why = "out of memory";
  return x;
}

int sl_tx_parse(const char *s, size_t n, struct sl_tx **out, const char **why) {
  struct lex l = {s, s + n, NULL, 0};
  *out = expr(&l);
  if (*out) {
    skip_ws(&l);
    if (l.p < l.end) {
      l.why = "unexpected text after the expression";
      sl_tx_free(*out);
      *out = NULL;
    }
  }
  if (why) *why = l.why;
  return *out ? 0 : -1;
}

static int line_at(const char *text, size_t off) {
  int line = 1;
  for (size_t i = 0; i < off; i++) line += text[i] == '\n';
  return line;
}

void sl_tpl_parts_free(struct sl_tpl_part *p, size_t n) {
  for (size_t i = 0; i < n; i++) sl_tx_free(p[i].expr);
  sl_free(p);
}

int sl_tpl_scan(const char *file, const char *text, struct sl_tpl_part **parts, size_t *n, struct sl_err *err) {
  *parts = NULL;
  *n = 0;
  size_t cap = 0;
  const char *p = text;
  while ((p = strchr(p, '{'))) {
    if (p[1] == '%') {
      int rc = sl_err_set(err, SL_EINVAL,
                          "%s:%d: {%% ... %%} statements are not supported; sluice computes incremental changes "
                          "itself (see materialized='incremental')",
                          file, line_at(text, (size_t)(p - text)));
      sl_tpl_parts_free(*parts, *n);
      *parts = NULL;
      *n = 0;
      return rc;
    }
    if (p[1] != '{' && p[1] != '#') {
      p++;
      continue;
    }
    const char *close = strstr(p + 2, p[1] == '{' ? "}}" : "#}");
    size_t start = (size_t)(p - text);
    if (!close) {
      int rc = sl_err_set(err, SL_EINVAL, "%s:%d: '%s' is never closed", file, line_at(text, start),
                          p[1] == '{' ? "{{" : "{#");
      sl_tpl_parts_free(*parts, *n);
      *parts = NULL;
      *n = 0;
      return rc;
    }
    struct sl_tpl_part part = {start, (size_t)(close + 2 - text), line_at(text, start), NULL};
    if (p[1] == '{') {
      const char *why = NULL;
      if (sl_tx_parse(p + 2, (size_t)(close - p - 2), &part.expr, &why)) {
        int rc = sl_err_set(err, SL_EINVAL, "%s:%d: {{ %.*s }}: %s", file, part.line, (int)(close - p - 2 > 60 ? 60 : close - p - 2),
                            p + 2, why ? why : "cannot parse");
        sl_tpl_parts_free(*parts, *n);
        *parts = NULL;
        *n = 0;
        return rc;
      }
    }
    if (sl_array_grow(parts, &cap, *n + 1, sizeof **parts)) {
      sl_tx_free(part.expr);
      return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    (*parts)[(*n)++] = part;
    p = close + 2;
  }
  return 0;
}
