/* pgoutput.c: pgoutput protocol v1 decoding. Every read goes through a cursor that
 * checks the remaining length first, so truncated or hostile input ends in an error
 * with the offset, never in a read past the buffer. Counts from the wire (columns,
 * relations) are checked against what the remaining bytes can hold before anything is
 * allocated for them. */
#include "cdc/pgoutput.h"

#include "core/mem.h"

#include <string.h>

struct cur {
  const uint8_t *p;
  size_t len, off;
  struct sl_err *err;
  char what;
};

static int bad(struct cur *c, const char *why) {
  return sl_err_set(c->err, SL_EDATA, "pgoutput message '%c' at byte %zu: %s", c->what ? c->what : '?', c->off, why);
}

static int need(struct cur *c, size_t n) { return c->len - c->off >= n ? 0 : bad(c, "message ends early"); }

static int u8(struct cur *c, uint8_t *v) {
  if (need(c, 1)) return SL_EDATA;
  *v = c->p[c->off++];
  return 0;
}

static int u16(struct cur *c, uint16_t *v) {
  if (need(c, 2)) return SL_EDATA;
  *v = (uint16_t)(c->p[c->off] << 8 | c->p[c->off + 1]);
  c->off += 2;
  return 0;
}

static int u32(struct cur *c, uint32_t *v) {
  if (need(c, 4)) return SL_EDATA;
  const uint8_t *p = c->p + c->off;
  *v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
  c->off += 4;
  return 0;
}

static int u64(struct cur *c, uint64_t *v) {
  uint32_t hi, lo;
  if (u32(c, &hi) || u32(c, &lo)) return SL_EDATA;
  *v = (uint64_t)hi << 32 | lo;
  return 0;
}

/* A NUL-terminated string inside the buffer; *s points into it. */
static int cstr(struct cur *c, const char **s) {
  const uint8_t *end = memchr(c->p + c->off, 0, c->len - c->off);
  if (!end) return bad(c, "string without its terminating NUL");
  *s = (const char *)c->p + c->off;
  c->off = (size_t)(end - c->p) + 1;
  return 0;
}

static int tuple(struct cur *c, struct sl_pgo_tuple *t) {
  uint16_t n;
  if (u16(c, &n)) return SL_EDATA;
  if (n > c->len - c->off) return bad(c, "more columns than the message can hold");
  if (sl_array_grow(&t->v, &t->cap, (size_t)n + 1, sizeof *t->v))
    return sl_err_set(c->err, SL_ENOMEM, "out of memory");
  t->n = n;
  for (uint16_t i = 0; i < n; i++) {
    uint8_t k;
    if (u8(c, &k)) return SL_EDATA;
    struct sl_pgo_value *v = &t->v[i];
    v->kind = (char)k;
    v->len = 0;
    v->data = NULL;
    if (k == 'n' || k == 'u') continue;
    if (k != 't' && k != 'b') return bad(c, "unknown column value kind");
    uint32_t len;
    if (u32(c, &len)) return SL_EDATA;
    if (need(c, len)) return SL_EDATA;
    v->len = len;
    v->data = (const char *)c->p + c->off;
    c->off += len;
  }
  return 0;
}

static void rel_free(struct sl_pgo_relation *r) {
  for (uint16_t i = 0; r->cols && i < r->n_cols; i++) sl_free(r->cols[i].name);
  sl_free(r->cols);
  sl_free(r->schema);
  sl_free(r->name);
  memset(r, 0, sizeof *r);
}

void sl_pgo_init(struct sl_pgo_decoder *d) { memset(d, 0, sizeof *d); }

void sl_pgo_fini(struct sl_pgo_decoder *d) {
  for (size_t i = 0; i < d->n_rels; i++) rel_free(&d->rels[i]);
  sl_free(d->rels);
  sl_free(d->old_t.v);
  sl_free(d->new_t.v);
  sl_free(d->relids);
  for (int i = 0; i < 3; i++) sl_free(d->strs[i]);
  memset(d, 0, sizeof *d);
}

const struct sl_pgo_relation *sl_pgo_relation(const struct sl_pgo_decoder *d, uint32_t relid) {
  for (size_t i = 0; i < d->n_rels; i++)
    if (d->rels[i].relid == relid) return &d->rels[i];
  return NULL;
}

static int relation(struct sl_pgo_decoder *d, struct cur *c, struct sl_pgo_msg *m) {
  struct sl_pgo_relation r = {0};
  const char *ns = NULL, *name = NULL;
  uint8_t ident;
  if (u32(c, &r.relid) || cstr(c, &ns) || cstr(c, &name) || u8(c, &ident) || u16(c, &r.n_cols)) return SL_EDATA;
  r.replident = (char)ident;
  /* each column takes at least 10 bytes: flags, a NUL, type oid, typmod */
  if ((size_t)r.n_cols * 10 > c->len - c->off) return bad(c, "more columns than the message can hold");
  r.cols = sl_calloc((size_t)r.n_cols + 1, sizeof *r.cols);
  r.schema = sl_strdup(ns);
  r.name = sl_strdup(name);
  if (!r.cols || !r.schema || !r.name) {
    rel_free(&r);
    return sl_err_set(c->err, SL_ENOMEM, "out of memory");
  }
  for (uint16_t i = 0; i < r.n_cols; i++) {
    uint8_t flags = 0;
    const char *cn = NULL;
    uint32_t typmod = 0;
    if (u8(c, &flags) || cstr(c, &cn) || u32(c, &r.cols[i].type_oid) || u32(c, &typmod)) {
      rel_free(&r);
      return SL_EDATA;
    }
    r.cols[i].key = flags & 1;
    r.cols[i].typmod = (int32_t)typmod;
    if (!(r.cols[i].name = sl_strdup(cn))) {
      rel_free(&r);
      return sl_err_set(c->err, SL_ENOMEM, "out of memory");
    }
  }
  for (size_t i = 0; i < d->n_rels; i++)
    if (d->rels[i].relid == r.relid) {
      struct sl_pgo_relation *old = &d->rels[i];
      int changed = old->n_cols != r.n_cols;
      for (uint16_t k = 0; !changed && k < r.n_cols; k++)
        changed = strcmp(old->cols[k].name, r.cols[k].name) || old->cols[k].type_oid != r.cols[k].type_oid;
      rel_free(old);
      *old = r;
      m->rel = old;
      m->rel_changed = changed;
      return 0;
    }
  if (sl_array_grow(&d->rels, &d->cap_rels, d->n_rels + 1, sizeof *d->rels)) {
    rel_free(&r);
    return sl_err_set(c->err, SL_ENOMEM, "out of memory");
  }
  d->rels[d->n_rels] = r;
  m->rel = &d->rels[d->n_rels++];
  return 0;
}

static int dml_rel(struct sl_pgo_decoder *d, struct cur *c, struct sl_pgo_msg *m) {
  uint32_t relid;
  if (u32(c, &relid)) return SL_EDATA;
  m->rel = sl_pgo_relation(d, relid);
  if (!m->rel) return bad(c, "row for a relation that was never described");
  return 0;
}

static int check_cols(struct cur *c, const struct sl_pgo_msg *m, const struct sl_pgo_tuple *t) {
  return t->n == m->rel->n_cols ? 0 : bad(c, "row has another number of columns than its relation");
}

static int keep_str(struct sl_pgo_decoder *d, int slot, const char *s, const char **out, struct sl_err *err) {
  sl_free(d->strs[slot]);
  d->strs[slot] = sl_strdup(s);
  if (!d->strs[slot]) return sl_err_set(err, SL_ENOMEM, "out of memory");
  *out = d->strs[slot];
  return 0;
}

int sl_pgo_decode(struct sl_pgo_decoder *d, const uint8_t *buf, size_t len, struct sl_pgo_msg *m, struct sl_err *err) {
  memset(m, 0, sizeof *m);
  struct cur c = {.p = buf, .len = len, .err = err};
  uint8_t t;
  if (u8(&c, &t)) return SL_EDATA;
  c.what = (char)t;
  m->type = (char)t;
  uint64_t ts = 0;
  const char *s = NULL;
  int rc = 0;
  switch (t) {
  case 'B':
    if (u64(&c, &m->lsn) || u64(&c, &ts) || u32(&c, &m->xid)) return SL_EDATA;
    m->ts_us = (int64_t)ts;
    break;
  case 'C': {
    uint8_t flags;
    if (u8(&c, &flags) || u64(&c, &m->lsn) || u64(&c, &m->end_lsn) || u64(&c, &ts)) return SL_EDATA;
    m->ts_us = (int64_t)ts;
    break;
  }
  case 'O':
    if (u64(&c, &m->lsn) || cstr(&c, &s)) return SL_EDATA;
    rc = keep_str(d, 0, s, &m->name, err);
    break;
  case 'R': rc = relation(d, &c, m); break;
  case 'Y': {
    const char *ns = NULL, *name = NULL;
    if (u32(&c, &m->type_oid) || cstr(&c, &ns) || cstr(&c, &name)) return SL_EDATA;
    if (!(rc = keep_str(d, 0, ns, &m->type_schema, err))) rc = keep_str(d, 1, name, &m->name, err);
    break;
  }
  case 'I': {
    uint8_t k;
    if ((rc = dml_rel(d, &c, m)) || u8(&c, &k)) return rc ? rc : SL_EDATA;
    if (k != 'N') return bad(&c, "insert without a new row");
    if ((rc = tuple(&c, &d->new_t)) || (rc = check_cols(&c, m, &d->new_t))) return rc;
    m->new_tuple = &d->new_t;
    break;
  }
  case 'U': {
    uint8_t k;
    if ((rc = dml_rel(d, &c, m)) || u8(&c, &k)) return rc ? rc : SL_EDATA;
    if (k == 'K' || k == 'O') {
      m->old_kind = (char)k;
      if ((rc = tuple(&c, &d->old_t)) || (rc = check_cols(&c, m, &d->old_t))) return rc;
      m->old_tuple = &d->old_t;
      if (u8(&c, &k)) return SL_EDATA;
    }
    if (k != 'N') return bad(&c, "update without a new row");
    if ((rc = tuple(&c, &d->new_t)) || (rc = check_cols(&c, m, &d->new_t))) return rc;
    m->new_tuple = &d->new_t;
    break;
  }
  case 'D': {
    uint8_t k;
    if ((rc = dml_rel(d, &c, m)) || u8(&c, &k)) return rc ? rc : SL_EDATA;
    if (k != 'K' && k != 'O') return bad(&c, "delete without the old key or row");
    m->old_kind = (char)k;
    if ((rc = tuple(&c, &d->old_t)) || (rc = check_cols(&c, m, &d->old_t))) return rc;
    m->old_tuple = &d->old_t;
    break;
  }
  case 'T': {
    uint32_t n;
    uint8_t opts;
    if (u32(&c, &n) || u8(&c, &opts)) return SL_EDATA;
    if ((size_t)n * 4 > c.len - c.off) return bad(&c, "more relations than the message can hold");
    if (sl_array_grow(&d->relids, &d->cap_relids, (size_t)n + 1, sizeof *d->relids))
      return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++)
      if (u32(&c, &d->relids[i])) return SL_EDATA;
    m->n_relids = n;
    m->relids = d->relids;
    m->truncate_flags = opts;
    break;
  }
  case 'M': {
    uint8_t flags;
    uint32_t n;
    if (u8(&c, &flags) || u64(&c, &m->lsn) || cstr(&c, &s) || u32(&c, &n) || need(&c, n)) return SL_EDATA;
    m->transactional = flags & 1;
    if ((rc = keep_str(d, 2, s, &m->name, err))) return rc;
    m->content = (const char *)buf + c.off;
    m->content_len = n;
    c.off += n;
    break;
  }
  default: return bad(&c, "unknown message type");
  }
  if (rc) return rc;
  if (c.off != c.len) return bad(&c, "bytes left over after the message");
  return 0;
}
