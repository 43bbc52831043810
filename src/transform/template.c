/* template.c: the {{ ... }} expressions of model files. A small grammar, not Jinja:
 *   expr := STRING | NUMBER | NAME | '[' expr,* ']' | NAME '(' (NAME '=' expr | expr),* ')'
 * {# comments #} are dropped. Of {% statements %} only dbt's incremental guard is
 * taken, {% if [not] is_incremental() %} ... [{% else %} ...] {% endif %}, with
 * is_incremental() false: sluice computes incremental deltas itself, so a model's SQL
 * is always its full computation. Other statements are refused with a clear message. */
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
      skip_ws(l);
      if (l->p < l->end && *l->p == close) { /* a trailing comma */
        l->p++;
        return 0;
      }
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

/* The text s[0..n) on one line for a message: runs of white space as one space, at
 * most cap - 4 characters, "..." when cut. */
static void one_line(const char *s, size_t n, char *out, size_t cap) {
  size_t k = 0;
  int space = 1;
  for (size_t i = 0; i < n && k + 4 < cap; i++) {
    int ws = isspace((unsigned char)s[i]);
    if (ws && space) continue;
    out[k++] = ws ? ' ' : s[i];
    space = ws;
  }
  while (k && out[k - 1] == ' ') k--;
  if (k + 4 >= cap) memcpy(out + k, "...", 3), k += 3;
  out[k] = '\0';
}

enum stmt { ST_IF, ST_IF_NOT, ST_ELSE, ST_ENDIF, ST_OTHER, ST_OPEN };

/* The {% statement %} at p (p[0..1] == "{%"); *end: just past its "%}". */
static enum stmt stmt_at(const char *p, const char **end) {
  const char *close = strstr(p + 2, "%}");
  if (!close) return ST_OPEN;
  *end = close + 2;
  char w[64];
  size_t k = 0;
  for (const char *c = p + 2; c < close; c++) {
    if (isspace((unsigned char)*c) || ((c == p + 2 || c + 1 == close) && *c == '-')) continue;
    if (k + 1 >= sizeof w) return ST_OTHER;
    w[k++] = *c;
  }
  w[k] = '\0';
  if (!strcmp(w, "ifis_incremental()")) return ST_IF;
  if (!strcmp(w, "ifnotis_incremental()")) return ST_IF_NOT;
  if (!strcmp(w, "else")) return ST_ELSE;
  if (!strcmp(w, "endif")) return ST_ENDIF;
  return ST_OTHER;
}

struct scan {
  const char *file, *text;
  struct sl_tpl_part *parts;
  size_t n, cap;
  struct sl_err *err;
};

static int scan_fail(struct scan *sc, const char *at, const char *what) {
  int rc = sl_err_set(sc->err, SL_EINVAL, "%s:%d: %s", sc->file, line_at(sc->text, (size_t)(at - sc->text)), what);
  sl_tpl_parts_free(sc->parts, sc->n);
  sc->parts = NULL;
  sc->n = 0;
  return rc;
}

static int scan_add(struct scan *sc, struct sl_tpl_part part) {
  if (sl_array_grow(&sc->parts, &sc->cap, sc->n + 1, sizeof *sc->parts)) {
    sl_tx_free(part.expr);
    return sl_err_set(sc->err, SL_ENOMEM, "out of memory");
  }
  sc->parts[sc->n++] = part;
  return 0;
}

/* Drops the text from `from` to the next {% else %} or {% endif %} (included), which
 * *found tells; another statement there fails. *p: just past it. */
static int scan_skip(struct scan *sc, const char *from, const char **p, enum stmt *found) {
  const char *q = *p, *end = NULL;
  while ((q = strstr(q, "{%"))) {
    enum stmt st = stmt_at(q, &end);
    if (st == ST_ELSE || st == ST_ENDIF) {
      *found = st;
      *p = end;
      size_t start = (size_t)(from - sc->text);
      return scan_add(sc, (struct sl_tpl_part){start, (size_t)(end - sc->text), line_at(sc->text, start), NULL});
    }
    if (st == ST_OPEN) return scan_fail(sc, q, "'{%' is never closed");
    return scan_fail(sc, q, "only {% else %} or {% endif %} may follow {% if is_incremental() %}");
  }
  return scan_fail(sc, from, "{% if is_incremental() %} has no {% endif %}");
}

int sl_tpl_scan(const char *file, const char *text, struct sl_tpl_part **parts, size_t *n, struct sl_err *err) {
  struct scan sc = {file, text, NULL, 0, 0, err};
  const char *p = text, *open_if = NULL, *end = NULL;
  enum { OUT, KEEP_IF, KEEP_ELSE } state = OUT;
  int rc = 0;
  *parts = NULL;
  *n = 0;
  while (!rc && (p = strchr(p, '{'))) {
    if (p[1] == '%') {
      enum stmt st = stmt_at(p, &end);
      if (st == ST_OPEN) return scan_fail(&sc, p, "'{%' is never closed");
      size_t start = (size_t)(p - text);
      struct sl_tpl_part tag = {start, (size_t)(end - text), line_at(text, start), NULL};
      if (st == ST_OTHER)
        return scan_fail(&sc, p,
                         "{% ... %} statements are not supported, except {% if is_incremental() %} ... {% else %} ... "
                         "{% endif %} (taken as false: sluice computes incremental changes itself, see "
                         "materialized='incremental')");
      if ((st == ST_IF || st == ST_IF_NOT) && state != OUT) return scan_fail(&sc, p, "{% if %} blocks do not nest");
      if ((st == ST_ELSE || st == ST_ENDIF) && state == OUT)
        return scan_fail(&sc, p, st == ST_ELSE ? "{% else %} without {% if is_incremental() %}"
                                               : "{% endif %} without {% if is_incremental() %}");
      if (st == ST_ELSE && state == KEEP_ELSE) return scan_fail(&sc, p, "a second {% else %}");
      if (st == ST_IF || st == ST_ELSE) {
        /* is_incremental() is false: this branch is dropped up to the next tag. */
        enum stmt found = ST_OTHER;
        if (st == ST_IF) open_if = p;
        const char *from = p;
        p = end;
        if ((rc = scan_skip(&sc, from, &p, &found))) break;
        state = found == ST_ELSE && st == ST_IF ? KEEP_ELSE : OUT;
        if (found == ST_ELSE && st == ST_ELSE) return scan_fail(&sc, p, "a second {% else %}");
        continue;
      }
      if (st == ST_IF_NOT) open_if = p;
      state = st == ST_IF_NOT ? KEEP_IF : OUT;
      rc = scan_add(&sc, tag);
      p = end;
      continue;
    }
    if (p[1] != '{' && p[1] != '#') {
      p++;
      continue;
    }
    const char *close = strstr(p + 2, p[1] == '{' ? "}}" : "#}");
    size_t start = (size_t)(p - text);
    if (!close) return scan_fail(&sc, p, p[1] == '{' ? "'{{' is never closed" : "'{#' is never closed");
    struct sl_tpl_part part = {start, (size_t)(close + 2 - text), line_at(text, start), NULL};
    if (p[1] == '{') {
      /* Jinja's whitespace control, {{- ... -}}, changes nothing in SQL. */
      const char *from = p + 2 + (p[2] == '-'), *to = close - (close > from && close[-1] == '-');
      const char *why = NULL;
      if (sl_tx_parse(from, (size_t)(to - from), &part.expr, &why)) {
        char shown[64];
        one_line(from, (size_t)(to - from), shown, sizeof shown);
        rc = sl_err_set(err, SL_EINVAL, "%s:%d: {{ %s }}: %s", file, part.line, shown, why ? why : "cannot parse");
        sl_tpl_parts_free(sc.parts, sc.n);
        return rc;
      }
    }
    rc = scan_add(&sc, part);
    p = close + 2;
  }
  if (!rc && state != OUT) return scan_fail(&sc, open_if, "{% if is_incremental() %} has no {% endif %}");
  if (rc) {
    sl_tpl_parts_free(sc.parts, sc.n);
    return rc;
  }
  *parts = sc.parts;
  *n = sc.n;
  return 0;
}
