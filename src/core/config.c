/* config.c: YAML to a positioned tree (libyaml event API), and table-driven filling of
 * each part's options. Aliases are refused: they make exponential documents possible
 * and sluice.yaml has no need for them. */
#include "core/config.h"

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/time.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define CFG_MAX_BYTES (4u << 20)
#define CFG_MAX_NODES 100000
#define CFG_MAX_DEPTH 64

static void node_free(struct sl_cfg_node *n) {
  if (!n) return;
  for (size_t i = 0; i < n->n_items; i++) node_free(n->items[i]);
  sl_free(n->items);
  sl_free(n->key);
  sl_free(n->value);
  sl_free(n);
}

void sl_cfg_doc_fini(struct sl_cfg_doc *doc) {
  node_free(doc->root);
  sl_free(doc->file);
  doc->root = NULL;
  doc->file = NULL;
}

struct parse_ctx {
  yaml_parser_t parser;
  const char *file;
  size_t nodes;
  struct sl_err *err;
};

static int node_add(struct sl_cfg_node *parent, struct sl_cfg_node *child) {
  if ((parent->n_items & (parent->n_items - 1)) == 0) {
    size_t cap = parent->n_items ? parent->n_items * 2 : 4;
    struct sl_cfg_node **it = sl_realloc(parent->items, cap * sizeof *it);
    if (!it) return -1;
    parent->items = it;
  }
  parent->items[parent->n_items++] = child;
  return 0;
}

static int next_event(struct parse_ctx *c, yaml_event_t *ev) {
  if (yaml_parser_parse(&c->parser, ev)) return 0;
  return sl_err_set(c->err, SL_ECONFIG, "%s:%zu:%zu: YAML syntax error: %s%s%s", c->file,
                    c->parser.problem_mark.line + 1, c->parser.problem_mark.column + 1,
                    c->parser.problem ? c->parser.problem : "unknown problem",
                    c->parser.context ? " " : "", c->parser.context ? c->parser.context : "");
}

static int parse_node(struct parse_ctx *c, yaml_event_t *ev, int depth, struct sl_cfg_node **out);

static int parse_children(struct parse_ctx *c, struct sl_cfg_node *n, int depth, int is_map) {
  for (;;) {
    yaml_event_t ev;
    int rc = next_event(c, &ev);
    if (rc) return rc;
    if (ev.type == (is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT)) {
      yaml_event_delete(&ev);
      return 0;
    }
    char *key = NULL;
    int kl = 0, kc = 0;
    if (is_map) {
      if (ev.type != YAML_SCALAR_EVENT) {
        rc = sl_err_set(c->err, SL_ECONFIG, "%s:%zu:%zu: map keys must be plain strings", c->file,
                        ev.start_mark.line + 1, ev.start_mark.column + 1);
        yaml_event_delete(&ev);
        return rc;
      }
      key = sl_strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
      kl = (int)ev.start_mark.line + 1;
      kc = (int)ev.start_mark.column + 1;
      yaml_event_delete(&ev);
      if (!key) return sl_err_set(c->err, SL_ENOMEM, "%s: out of memory", c->file);
      if (sl_cfg_get(n, key)) {
        rc = sl_err_set(c->err, SL_ECONFIG, "%s:%d:%d: key '%s' appears twice; keep one", c->file, kl,
                        kc, key);
        sl_free(key);
        return rc;
      }
      if ((rc = next_event(c, &ev))) {
        sl_free(key);
        return rc;
      }
    }
    struct sl_cfg_node *child = NULL;
    rc = parse_node(c, &ev, depth + 1, &child);
    yaml_event_delete(&ev);
    if (rc) {
      sl_free(key);
      return rc;
    }
    child->key = key;
    child->key_line = kl ? kl : child->line;
    child->key_col = kc ? kc : child->col;
    if (node_add(n, child)) {
      node_free(child);
      return sl_err_set(c->err, SL_ENOMEM, "%s: out of memory", c->file);
    }
  }
}

static int parse_node(struct parse_ctx *c, yaml_event_t *ev, int depth, struct sl_cfg_node **out) {
  int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
  if (ev->type == YAML_ALIAS_EVENT)
    return sl_err_set(c->err, SL_ECONFIG, "%s:%d:%d: YAML aliases (*name) are not supported; write the value out",
                      c->file, line, col);
  if (depth > CFG_MAX_DEPTH)
    return sl_err_set(c->err, SL_ECONFIG, "%s:%d:%d: nested deeper than %d levels", c->file, line, col,
                      CFG_MAX_DEPTH);
  if (++c->nodes > CFG_MAX_NODES)
    return sl_err_set(c->err, SL_ECONFIG, "%s:%d:%d: more than %d values; is this the right file?",
                      c->file, line, col, CFG_MAX_NODES);
  struct sl_cfg_node *n = sl_calloc(1, sizeof *n);
  if (!n) return sl_err_set(c->err, SL_ENOMEM, "%s: out of memory", c->file);
  n->line = line;
  n->col = col;
  int rc = 0;
  switch (ev->type) {
  case YAML_SCALAR_EVENT:
    n->kind = SL_CFG_SCALAR;
    n->value = sl_strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
    if (!n->value) rc = sl_err_set(c->err, SL_ENOMEM, "%s: out of memory", c->file);
    else if (strlen(n->value) != ev->data.scalar.length)
      rc = sl_err_set(c->err, SL_ECONFIG, "%s:%d:%d: value contains a NUL character", c->file, line, col);
    break;
  case YAML_MAPPING_START_EVENT:
    n->kind = SL_CFG_MAP;
    rc = parse_children(c, n, depth, 1);
    break;
  case YAML_SEQUENCE_START_EVENT:
    n->kind = SL_CFG_SEQ;
    rc = parse_children(c, n, depth, 0);
    break;
  default:
    rc = sl_err_set(c->err, SL_ECONFIG, "%s:%d:%d: unexpected YAML event", c->file, line, col);
  }
  if (rc) {
    node_free(n);
    return rc;
  }
  *out = n;
  return 0;
}

int sl_cfg_parse(const char *file, const char *text, size_t len, struct sl_cfg_doc *doc,
                 struct sl_err *err) {
  memset(doc, 0, sizeof *doc);
  if (len > CFG_MAX_BYTES)
    return sl_err_set(err, SL_ECONFIG, "%s: larger than %u bytes; is this the right file?", file,
                      CFG_MAX_BYTES);
  struct parse_ctx c = {.file = file, .err = err};
  if (!yaml_parser_initialize(&c.parser)) return sl_err_set(err, SL_ENOMEM, "%s: out of memory", file);
  yaml_parser_set_input_string(&c.parser, (const unsigned char *)text, len);
  struct sl_cfg_node *root = NULL;
  int rc = 0, docs = 0;
  for (;;) {
    yaml_event_t ev;
    if ((rc = next_event(&c, &ev))) break;
    yaml_event_type_t t = ev.type;
    if (t == YAML_STREAM_END_EVENT) {
      yaml_event_delete(&ev);
      break;
    }
    if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
      rc = sl_err_set(err, SL_ECONFIG, "%s:%zu:%zu: only one YAML document is allowed (remove '---')",
                      file, ev.start_mark.line + 1, ev.start_mark.column + 1);
      yaml_event_delete(&ev);
      break;
    }
    if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT ||
        t == YAML_ALIAS_EVENT) {
      if (t == YAML_SCALAR_EVENT && ev.data.scalar.length == 0 && ev.data.scalar.plain_implicit) {
        yaml_event_delete(&ev); /* an empty document */
        continue;
      }
      rc = parse_node(&c, &ev, 0, &root);
      yaml_event_delete(&ev);
      if (rc) break;
      if (root->kind != SL_CFG_MAP) {
        rc = sl_err_set(err, SL_ECONFIG, "%s:%d:%d: the top level must be a map of keys (like 'lake:')",
                        file, root->line, root->col);
        break;
      }
      continue;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&c.parser);
  if (!rc && !root) {
    root = sl_calloc(1, sizeof *root);
    if (!root) rc = sl_err_set(err, SL_ENOMEM, "%s: out of memory", file);
    else {
      root->kind = SL_CFG_MAP;
      root->line = root->col = 1;
    }
  }
  doc->file = sl_strdup(file);
  if (!rc && !doc->file) rc = sl_err_set(err, SL_ENOMEM, "%s: out of memory", file);
  if (rc) {
    node_free(root);
    sl_free(doc->file);
    doc->file = NULL;
    return rc;
  }
  doc->root = root;
  return 0;
}

int sl_cfg_load(const char *path, struct sl_cfg_doc *doc, struct sl_err *err) {
  char *text;
  size_t len;
  int rc = sl_fs_read_all(path, CFG_MAX_BYTES + 1, &text, &len, err);
  if (rc) return rc == SL_ENOTFOUND ? sl_err_set(err, SL_ECONFIG, "%s: not found", path) : rc;
  rc = sl_cfg_parse(path, text, len, doc, err);
  sl_free(text);
  return rc;
}

const struct sl_cfg_node *sl_cfg_get(const struct sl_cfg_node *map, const char *key) {
  if (!map || map->kind != SL_CFG_MAP) return NULL;
  for (size_t i = 0; i < map->n_items; i++)
    if (map->items[i]->key && strcmp(map->items[i]->key, key) == 0) return map->items[i];
  return NULL;
}

int sl_cfg_err_at(struct sl_err *err, int code, const struct sl_cfg_doc *doc,
                  const struct sl_cfg_node *node, const char *keypath, const char *fmt, ...) {
  char what[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  const char *file = doc && doc->file ? doc->file : "sluice.yaml";
  if (!keypath) keypath = node ? node->key : NULL; /* a list item has no key */
  if (!keypath)
    return sl_err_set(err, code, "%s:%d:%d: %s", file, node ? node->line : 0, node ? node->col : 0, what);
  return sl_err_set(err, code, "%s:%d:%d: key '%s': %s", file, node ? node->line : 0, node ? node->col : 0, keypath,
                    what);
}

int sl_cfg_parse_size(const char *s, int64_t *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno || v < 0) return -1;
  while (*end == ' ') end++;
  double mul = 1;
  struct { const char *u; double m; } units[] = {
      {"", 1},         {"B", 1},        {"kB", 1e3},      {"KB", 1e3},   {"MB", 1e6},
      {"GB", 1e9},     {"TB", 1e12},    {"KiB", 1024.0},  {"MiB", 1048576.0},
      {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}, {"k", 1e3}, {"K", 1024.0}, {"M", 1048576.0},
      {"G", 1073741824.0}};
  size_t i;
  for (i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strcmp(end, units[i].u) == 0) {
      mul = units[i].m;
      break;
    }
  if (i == sizeof units / sizeof units[0]) return -1;
  if (v * mul > 9.2e18) return -1;
  *out = (int64_t)(v * mul);
  return 0;
}

static int edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63) return 99;
  int d[64][64];
  for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      int sub = d[i - 1][j - 1] + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
      int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
      d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
  return d[la][lb];
}

static int set_value(const struct sl_opt *o, void *out, const char *v) {
  char *field = (char *)out + o->offset;
  switch (o->type) {
  case SL_OPT_STR: {
    char *s = sl_strdup(v);
    if (!s) return SL_ENOMEM;
    sl_free(*(char **)field);
    *(char **)field = s;
    return 0;
  }
  case SL_OPT_INT:
  case SL_OPT_SIZE:
  case SL_OPT_DURATION: {
    int64_t x;
    if (o->type == SL_OPT_SIZE) {
      if (sl_cfg_parse_size(v, &x)) return SL_EINVAL;
    } else if (o->type == SL_OPT_DURATION) {
      if (sl_time_parse_duration(v, &x)) return SL_EINVAL;
    } else {
      char *end;
      errno = 0;
      long long ll = strtoll(v, &end, 10);
      if (end == v || *end || errno) return SL_EINVAL;
      x = ll;
    }
    if (o->min <= o->max && (x < o->min || x > o->max)) return SL_ECONFLICT; /* out of range */
    *(int64_t *)field = x;
    return 0;
  }
  case SL_OPT_BOOL:
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1")) *(int *)field = 1;
    else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0")) *(int *)field = 0;
    else return SL_EINVAL;
    return 0;
  case SL_OPT_LIST: {
    struct sl_strlist *l = (struct sl_strlist *)field;
    for (size_t i = 0; i < l->n; i++) sl_free(l->v[i]);
    sl_free(l->v);
    l->v = NULL;
    l->n = 0;
    size_t cap = 0;
    for (const char *p = v; *p;) {
      while (*p == ' ' || *p == ',') p++;
      if (!*p) break;
      const char *e = p;
      while (*e && *e != ',') e++;
      const char *t = e;
      while (t > p && t[-1] == ' ') t--;
      if (sl_array_grow(&l->v, &cap, l->n + 1, sizeof *l->v)) return SL_ENOMEM;
      if (!(l->v[l->n] = sl_strndup(p, (size_t)(t - p)))) return SL_ENOMEM;
      l->n++;
      p = e;
    }
    return 0;
  }
  case SL_OPT_ENUM: {
    int idx = 0;
    for (const char *p = o->choices; *p; idx++) {
      const char *e = strchr(p, '|');
      size_t len = e ? (size_t)(e - p) : strlen(p);
      if (strlen(v) == len && strncmp(p, v, len) == 0) {
        *(int *)field = idx;
        return 0;
      }
      p += len + (e ? 1 : 0);
    }
    return SL_EINVAL;
  }
  }
  return SL_EINVAL;
}

/* A size limit as written in sluice.yaml: 1MiB, 4GiB, 1TiB, 512KiB, or bytes. */
static void size_text(int64_t v, char *out, size_t cap) {
  static const char *const units[] = {"TiB", "GiB", "MiB", "KiB"};
  for (int k = 0; k < 4; k++) {
    int64_t u = (int64_t)1 << (10 * (4 - k));
    if (v >= u && v % u == 0) {
      snprintf(out, cap, "%lld%s", (long long)(v / u), units[k]);
      return;
    }
  }
  snprintf(out, cap, "%lld bytes", (long long)v);
}

static const char *type_desc(const struct sl_opt *o, char *buf, size_t cap) {
  switch (o->type) {
  case SL_OPT_STR: return "a string";
  case SL_OPT_BOOL: return "true or false";
  case SL_OPT_ENUM: snprintf(buf, cap, "one of %s", o->choices); return buf;
  case SL_OPT_INT:
    if (o->min <= o->max) snprintf(buf, cap, "an integer from %lld to %lld", (long long)o->min, (long long)o->max);
    else snprintf(buf, cap, "an integer");
    return buf;
  case SL_OPT_SIZE: {
    char lo[32], hi[32];
    size_text(o->min, lo, sizeof lo);
    size_text(o->max, hi, sizeof hi);
    if (o->min <= o->max) snprintf(buf, cap, "a size such as 64MB or 1GiB, from %s to %s", lo, hi);
    else snprintf(buf, cap, "a size such as 64MB or 1GiB");
    return buf;
  }
  case SL_OPT_DURATION: return "a duration such as 90s, 15m, 12h or 7d";
  case SL_OPT_LIST: return "a list of strings";
  }
  return "a value";
}

static void keypath(char *out, size_t cap, const struct sl_cfg_section *sec, const char *name) {
  if (sec->name[0]) snprintf(out, cap, "%s.%s", sec->name, name);
  else snprintf(out, cap, "%s", name);
}

static void env_name(char *out, size_t cap, const struct sl_cfg_section *sec, const struct sl_opt *o) {
  snprintf(out, cap, "SLUICE_%s%s%s", sec->name, sec->name[0] ? "_" : "", o->name);
  for (char *p = out; *p; p++) *p = *p == '-' || *p == '.' ? '_' : (char)toupper((unsigned char)*p);
}

int sl_cfg_fill(const struct sl_cfg_doc *doc, const struct sl_cfg_node *node,
                const struct sl_cfg_section *sec, void *out, struct sl_err *err) {
  char kp[256], tb[128];
  for (const struct sl_opt *o = sec->opts; o->name; o++)
    if (o->def && set_value(o, out, o->def)) return sl_err_set(err, SL_EINTERNAL, "bad default for %s", o->name);
  if (node && node->kind != SL_CFG_MAP)
    return sl_cfg_err_at(err, SL_ECONFIG, doc, node, sec->name, "expected a map of options (like '%s:' then indented keys)", sec->name);
  for (size_t i = 0; node && i < node->n_items; i++) {
    const struct sl_cfg_node *item = node->items[i];
    const struct sl_opt *o = sec->opts;
    while (o->name && strcmp(o->name, item->key)) o++;
    keypath(kp, sizeof kp, sec, item->key);
    if (!o->name) {
      const char *best = NULL;
      int bd = 3;
      for (const struct sl_opt *q = sec->opts; q->name; q++) {
        int d = edit_distance(item->key, q->name);
        if (d < bd) {
          bd = d;
          best = q->name;
        }
      }
      struct sl_cfg_node pos = *item;
      pos.line = item->key_line;
      pos.col = item->key_col;
      return sl_cfg_err_at(err, SL_ECONFIG, doc, &pos, kp, "unknown option%s%s%s", best ? "; did you mean '" : "",
                           best ? best : "", best ? "'?" : "");
    }
    if (o->type == SL_OPT_LIST && item->kind == SL_CFG_SEQ) {
      struct sl_buf joined;
      sl_buf_init(&joined);
      for (size_t k = 0; k < item->n_items; k++) {
        if (item->items[k]->kind != SL_CFG_SCALAR) {
          sl_buf_fini(&joined);
          return sl_cfg_err_at(err, SL_ECONFIG, doc, item->items[k], kp, "list items must be plain strings");
        }
        if (strchr(item->items[k]->value, ',')) {
          sl_buf_fini(&joined);
          return sl_cfg_err_at(err, SL_ECONFIG, doc, item->items[k], kp, "list items cannot contain ','");
        }
        if (k) sl_buf_putc(&joined, ',');
        sl_buf_puts(&joined, item->items[k]->value);
      }
      int rc = set_value(o, out, joined.data ? joined.data : "");
      sl_buf_fini(&joined);
      if (rc) return sl_err_set(err, SL_ENOMEM, "out of memory");
      continue;
    }
    if (item->kind != SL_CFG_SCALAR)
      return sl_cfg_err_at(err, SL_ECONFIG, doc, item, kp, "expected %s, found a %s", type_desc(o, tb, sizeof tb),
                           item->kind == SL_CFG_MAP ? "map" : "list");
    int rc = set_value(o, out, item->value);
    if (rc == SL_ENOMEM) return sl_err_set(err, SL_ENOMEM, "out of memory");
    if (rc) return sl_cfg_err_at(err, SL_ECONFIG, doc, item, kp, "'%s' is not %s", item->value, type_desc(o, tb, sizeof tb));
  }
  for (const struct sl_opt *o = sec->opts; o->name; o++) {
    char en[128];
    env_name(en, sizeof en, sec, o);
    const char *v = getenv(en);
    if (!v) continue;
    int rc = set_value(o, out, v);
    if (rc == SL_ENOMEM) return sl_err_set(err, SL_ENOMEM, "out of memory");
    if (rc)
      return sl_err_set(err, SL_ECONFIG, "environment %s: %s is not %s", en, o->secret ? "the value" : v,
                        type_desc(o, tb, sizeof tb));
  }
  return 0;
}

void sl_cfg_section_fini(const struct sl_cfg_section *sec, void *out) {
  for (const struct sl_opt *o = sec->opts; o->name; o++)
    if (o->type == SL_OPT_STR) {
      char **f = (char **)((char *)out + o->offset);
      sl_free(*f);
      *f = NULL;
    } else if (o->type == SL_OPT_LIST) {
      struct sl_strlist *l = (struct sl_strlist *)((char *)out + o->offset);
      for (size_t i = 0; i < l->n; i++) sl_free(l->v[i]);
      sl_free(l->v);
      l->v = NULL;
      l->n = 0;
    }
}

char *sl_cfg_reference_md(const struct sl_cfg_section *const *secs, size_t n) {
  struct sl_buf b;
  sl_buf_init(&b);
  char tb[128], en[128];
  for (size_t i = 0; i < n; i++) {
    const struct sl_cfg_section *s = secs[i];
    sl_buf_printf(&b, "## %s\n\n%s\n\n| key | type | default | environment | description |\n|---|---|---|---|---|\n",
                  s->name[0] ? s->name : "top level", s->doc);
    for (const struct sl_opt *o = s->opts; o->name; o++) {
      keypath(tb, sizeof tb, s, o->name);
      env_name(en, sizeof en, s, o);
      char ty[128];
      sl_buf_printf(&b, "| `%s` | %s | %s%s%s | `%s` | %s%s |\n", tb, type_desc(o, ty, sizeof ty),
                    o->def ? "`" : "", o->def ? (o->def[0] ? o->def : "\"\"") : "—", o->def ? "`" : "", en, o->doc,
                    o->secret ? " Secret: never logged." : "");
    }
    sl_buf_puts(&b, "\n");
  }
  return sl_buf_take(&b);
}
