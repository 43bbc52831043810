/* log_seg.c: one segment of a partition: the record frame (encode, check, decode),
 * the sparse offset index with a running maximum timestamp (so the same entries seek
 * by offset and by time), scanning a file to rebuild what it holds, and finding the
 * next good frame after a corrupt one.
 *
 * Invariants: a frame is trusted only after its length, CRC32C and layout check; a
 * segment's index entries are in increasing offset and position, each pointing at
 * the first byte of a frame that was valid when the entry was made. */
#include "log/log_int.h"

#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Little-endian fields; one load or store on little-endian hosts. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static uint64_t get64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
#else
static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }
#endif
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

size_t sl_log_frame_size(const struct sl_log_msg *m) {
  uint64_t n = SL_LOG_FRAME_HEAD + SL_LOG_BODY_MIN + (m->key ? m->key_len : 0) + (uint64_t)m->value_len;
  if (m->n_headers > 0xffff) return 0;
  for (size_t i = 0; i < m->n_headers; i++) {
    size_t nl = strlen(m->headers[i].name);
    if (nl > 0xffff) return 0;
    n += 6 + nl + m->headers[i].len;
  }
  if (n - 4 > SL_LOG_FRAME_MAX || (m->key && m->key_len > INT32_MAX)) return 0;
  return (size_t)n;
}

/* Writes m's frame at f (n = its size) with the CRC field left zero. */
static void frame_put(uint8_t *f, size_t n, const struct sl_log_msg *m, int64_t offset, int64_t ts_ms) {
  uint8_t *q = f + 8;
  put32(f, (uint32_t)(n - 4));
  put32(f + 4, 0);
  put64(q, (uint64_t)offset);
  put64(q + 8, (uint64_t)ts_ms);
  q += 16;
  put32(q, m->key ? (uint32_t)m->key_len : 0xffffffffu);
  q += 4;
  if (m->key && m->key_len) memcpy(q, m->key, m->key_len), q += m->key_len;
  put32(q, (uint32_t)m->value_len);
  q += 4;
  if (m->value_len) memcpy(q, m->value, m->value_len), q += m->value_len;
  q[0] = (uint8_t)(m->n_headers & 0xff);
  q[1] = (uint8_t)(m->n_headers >> 8);
  q += 2;
  for (size_t i = 0; i < m->n_headers; i++) {
    size_t nl = strlen(m->headers[i].name);
    q[0] = (uint8_t)(nl & 0xff);
    q[1] = (uint8_t)(nl >> 8);
    memcpy(q + 2, m->headers[i].name, nl);
    q += 2 + nl;
    put32(q, (uint32_t)m->headers[i].len);
    if (m->headers[i].len) memcpy(q + 4, m->headers[i].value, m->headers[i].len);
    q += 4 + m->headers[i].len;
  }
}

static int buf_reserve(struct sl_buf *b, size_t more) {
  if (b->len + more + 1 <= b->cap) return 0;
  size_t want = b->cap ? b->cap : 4096;
  while (want < b->len + more + 1) want *= 2;
  char *d = sl_realloc(b->data, want);
  if (!d) return SL_ENOMEM;
  b->data = d;
  b->cap = want;
  return 0;
}

int sl_log_frame_encode(struct sl_buf *b, const struct sl_log_msg *m, int64_t offset, int64_t ts_ms) {
  size_t n = sl_log_frame_size(m);
  if (!n) return SL_EINVAL;
  if (buf_reserve(b, n)) return SL_ENOMEM;
  uint8_t *f = (uint8_t *)b->data + b->len;
  frame_put(f, n, m, offset, ts_ms);
  put32(f + 4, sl_log_crc32c(0, f + 8, n - 8));
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int sl_log_frames_encode(struct sl_buf *b, const struct sl_log_msg *msgs, const size_t *sizes, size_t n,
                         int64_t offset, int64_t ts_now) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += sizes[i];
  if (buf_reserve(b, total)) return SL_ENOMEM;
  uint8_t *f = (uint8_t *)b->data + b->len;
  const uint8_t *body[3];
  size_t blen[3];
  uint32_t crc[3];
  uint8_t *at[3];
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t ts = msgs[i].ts_ms > 0 ? msgs[i].ts_ms : ts_now;
    frame_put(f, sizes[i], &msgs[i], offset + (int64_t)i, ts);
    at[k] = f;
    body[k] = f + 8;
    blen[k++] = sizes[i] - 8;
    if (k == 3 || i + 1 == n) {
      sl_log_crc32c_many(body, blen, crc, k);
      for (size_t j = 0; j < k; j++) put32(at[j] + 4, crc[j]);
      k = 0;
    }
    f += sizes[i];
  }
  b->len += total;
  b->data[b->len] = '\0';
  return 0;
}

size_t sl_log_frames_verified(const uint8_t *p, size_t avail) {
  size_t at = 0, end = 0, k = 0;
  const uint8_t *body[3];
  size_t blen[3];
  uint32_t want[3], got[3];
  for (;;) {
    int more = 0;
    if (avail - at >= 8) {
      uint32_t len = get32(p + at);
      if (len >= 4 + SL_LOG_BODY_MIN && len <= SL_LOG_FRAME_MAX && avail - at >= (size_t)len + 4) {
        body[k] = p + at + 8;
        blen[k] = len - 4;
        want[k++] = get32(p + at + 4);
        at += (size_t)len + 4;
        more = 1;
      }
    }
    if (k == 3 || (!more && k)) {
      sl_log_crc32c_many(body, blen, got, k);
      for (size_t j = 0; j < k; j++) {
        if (got[j] != want[j]) return end;
        end = (size_t)(body[j] - p) + blen[j];
      }
      k = 0;
    }
    if (!more) return end;
  }
}

/* Walks the body's layout; 0 if every length fits exactly. */
static int body_walk(const uint8_t *q, size_t n, struct sl_log_record *rec, struct sl_log_header *hdrs, size_t n_hdrs) {
  if (n < SL_LOG_BODY_MIN) return -1;
  size_t at = 16;
  uint32_t kl = get32(q + at);
  at += 4;
  if (kl != 0xffffffffu) {
    if (kl > n - at) return -1;
    if (rec) rec->key = q + at, rec->key_len = kl;
    at += kl;
  } else if (rec) {
    rec->key = NULL, rec->key_len = 0;
  }
  if (n - at < 6) return -1;
  uint32_t vl = get32(q + at);
  at += 4;
  if (vl > n - at) return -1;
  if (rec) rec->value = q + at, rec->value_len = vl;
  at += vl;
  if (n - at < 2) return -1;
  uint16_t nh = get16(q + at);
  at += 2;
  if (rec) rec->n_headers = nh;
  for (uint16_t i = 0; i < nh; i++) {
    if (n - at < 2) return -1;
    uint16_t nl = get16(q + at);
    at += 2;
    if (n - at < (size_t)nl + 4) return -1;
    const uint8_t *name = q + at;
    at += nl;
    uint32_t hl = get32(q + at);
    at += 4;
    if (hl > n - at) return -1;
    if (hdrs && i < n_hdrs) {
      hdrs[i].name = (const char *)name; /* NUL-terminated by the decoder's copy */
      hdrs[i].value = q + at;
      hdrs[i].len = hl;
      (void)nl;
    }
    at += hl;
  }
  return at == n ? 0 : -1;
}

int sl_log_frame_check(const uint8_t *p, size_t avail, size_t *frame_len, int64_t *offset, int64_t *ts) {
  return sl_log_frame_check_crc(p, avail, 1, frame_len, offset, ts);
}

int sl_log_frame_check_crc(const uint8_t *p, size_t avail, int crc, size_t *frame_len, int64_t *offset,
                           int64_t *ts) {
  if (avail < 4) return SL_FRAME_SHORT;
  uint32_t len = get32(p);
  if (len < 4 + SL_LOG_BODY_MIN || len > SL_LOG_FRAME_MAX) return SL_FRAME_BAD;
  if (avail < (size_t)len + 4) return SL_FRAME_SHORT;
  if (crc && sl_log_crc32c(0, p + 8, len - 4) != get32(p + 4)) return SL_FRAME_BAD;
  if (crc && body_walk(p + 8, len - 4, NULL, NULL, 0)) return SL_FRAME_BAD;
  *frame_len = (size_t)len + 4;
  *offset = (int64_t)get64(p + 8);
  *ts = (int64_t)get64(p + 16);
  return SL_FRAME_OK;
}

/* Header names are not NUL-terminated on disk; the decoder copies each name into a
 * small area after the header array, so callers get C strings. */
int sl_log_frame_decode(const uint8_t *p, size_t frame_len, struct sl_log_record *rec, struct sl_log_header **hdrs,
                        size_t *hdr_cap) {
  const uint8_t *q = p + 8;
  size_t n = frame_len - 8;
  rec->offset = (int64_t)get64(q);
  rec->ts_ms = (int64_t)get64(q + 8);
  if (body_walk(q, n, rec, NULL, 0)) return SL_EDATA;
  size_t nh = rec->n_headers;
  if (!nh) {
    rec->headers = NULL;
    return 0;
  }
  /* Room: the header array plus every name with its NUL (names total < frame_len). */
  size_t need = nh * sizeof(struct sl_log_header) + frame_len + nh;
  if (*hdr_cap < need) {
    void *h = sl_realloc(*hdrs, need);
    if (!h) return SL_ENOMEM;
    *hdrs = h;
    *hdr_cap = need;
  }
  struct sl_log_header *h = *hdrs;
  if (body_walk(q, n, rec, h, nh)) return SL_EDATA;
  char *names = (char *)(h + nh);
  for (size_t i = 0; i < nh; i++) {
    const uint8_t *nm = (const uint8_t *)h[i].name;
    size_t nl = get16(nm - 2);
    memcpy(names, nm, nl);
    names[nl] = '\0';
    h[i].name = names;
    names += nl + 1;
  }
  rec->headers = h;
  return 0;
}

char *sl_log_seg_path(const char *dir, int64_t base, const char *ext) {
  return sl_asprintf("%s/%020lld.%s", dir, (long long)base, ext);
}

void sl_log_seg_fini(struct sl_log_seg *s) {
  sl_free(s->idx);
  memset(s, 0, sizeof *s);
}

int sl_log_seg_note(struct sl_log_seg *s, int64_t pos, int64_t offset, int64_t ts, int64_t interval) {
  if (s->idx_last_pos < 0 || pos - s->idx_last_pos >= interval) {
    if (sl_array_grow(&s->idx, &s->cap_idx, s->n_idx + 1, sizeof *s->idx)) return SL_ENOMEM;
    s->idx[s->n_idx++] = (struct sl_log_idx){(uint32_t)(offset - s->base), (uint32_t)pos, s->idx_max_ts};
    s->idx_last_pos = pos;
  }
  if (ts > s->idx_max_ts) s->idx_max_ts = ts;
  if (ts > s->max_ts) s->max_ts = ts;
  return 0;
}

int64_t sl_log_seg_resync(int fd, int64_t from, int64_t to, int64_t want) {
  enum { WIN = 1 << 16 };
  uint8_t *buf = sl_malloc(WIN + 32);
  if (!buf) return -1;
  int64_t found = -1;
  for (int64_t at = from; at + 8 + SL_LOG_BODY_MIN <= to && found < 0;) {
    ssize_t got = pread(fd, buf, WIN + 32, at);
    if (got <= 16) break;
    for (ssize_t i = 0; i + 16 <= got && found < 0; i++) {
      if ((int64_t)get64(buf + i + 8) != want) continue;
      uint32_t len = get32(buf + i);
      if (len < 4 + SL_LOG_BODY_MIN || len > SL_LOG_FRAME_MAX || at + i + 4 + (int64_t)len > to) continue;
      uint8_t *f = sl_malloc((size_t)len + 4);
      if (!f) break;
      size_t fl;
      int64_t o, t;
      if (pread(fd, f, (size_t)len + 4, at + i) == (ssize_t)len + 4 &&
          sl_log_frame_check(f, (size_t)len + 4, &fl, &o, &t) == SL_FRAME_OK && o == want)
        found = at + i;
      sl_free(f);
    }
    at += WIN;
  }
  sl_free(buf);
  return found;
}

int sl_log_seg_scan(int fd, const char *path, struct sl_log_seg *s, int64_t pos, int64_t offset, int64_t interval,
                    int *torn, int64_t *torn_pos, struct sl_err *err) {
  *torn = 0;
  *torn_pos = -1;
  off_t fsize = lseek(fd, 0, SEEK_END);
  if (fsize < 0) return sl_err_set(err, SL_EIO, "seek %s: %s", path, strerror(errno));
  size_t cap = 1 << 20;
  uint8_t *buf = sl_malloc(cap);
  if (!buf) return sl_err_set(err, SL_ENOMEM, "out of memory");
  int rc = 0;
  while (pos < fsize) {
    size_t want = (size_t)(fsize - pos < (int64_t)cap ? fsize - pos : (int64_t)cap);
    ssize_t got = pread(fd, buf, want, pos);
    if (got < 0) {
      rc = sl_err_set(err, SL_EIO, "read %s: %s", path, strerror(errno));
      break;
    }
    size_t at = 0;
    int stop = 0;
    while (at < (size_t)got) {
      size_t fl;
      int64_t o, t;
      int k = sl_log_frame_check(buf + at, (size_t)got - at, &fl, &o, &t);
      if (k == SL_FRAME_SHORT && (size_t)got == cap && at > 0) break; /* read further */
      if (k == SL_FRAME_SHORT && (size_t)got == cap) {
        /* One frame larger than the buffer: grow it. */
        uint32_t len = get32(buf);
        if (len + 4u > cap && len <= SL_LOG_FRAME_MAX) {
          uint8_t *nb = sl_realloc(buf, (size_t)len + 4);
          if (!nb) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            stop = 1;
            break;
          }
          buf = nb;
          cap = (size_t)len + 4;
          break;
        }
      }
      if (k == SL_FRAME_OK && o == offset) {
        if ((rc = sl_log_seg_note(s, pos + (int64_t)at, o, t, interval))) {
          stop = 1;
          break;
        }
        offset++;
        at += fl;
        continue;
      }
      /* Cut or corrupt here: a corrupt record in the middle if the next one follows. */
      int64_t bad = pos + (int64_t)at;
      int64_t next = sl_log_seg_resync(fd, bad + 1, fsize, offset + 1);
      char o1[32], p1[32];
      snprintf(o1, sizeof o1, "%lld", (long long)offset);
      snprintf(p1, sizeof p1, "%lld", (long long)bad);
      if (next < 0) {
        *torn = 1;
        *torn_pos = bad;
        stop = 1;
        break;
      }
      sl_log(SL_LOG_ERROR, "log", "corrupt record in the middle of a segment; reading it will fail", "file", path,
             "offset", o1, "position", p1, NULL);
      /* Every offset up to the next good frame counts as the corrupt record. */
      offset++;
      s->idx_last_pos = -1; /* force an entry at the next good frame */
      pos = next;
      at = 0;
      got = 0;
      stop = 2;
      break;
    }
    if (stop == 1) break;
    if (stop == 2) continue;
    pos += (int64_t)at;
  }
  sl_free(buf);
  s->end = offset;
  s->size = *torn ? *torn_pos : (pos < fsize ? pos : fsize);
  return rc;
}

int sl_log_seg_index_load(const char *path, struct sl_log_seg *s) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  off_t n = lseek(fd, 0, SEEK_END);
  size_t cnt = n > 0 ? (size_t)n / SL_LOG_INDEX_ENTRY : 0;
  uint8_t *raw = cnt ? sl_malloc(cnt * SL_LOG_INDEX_ENTRY) : NULL;
  if (cnt && (!raw || pread(fd, raw, cnt * SL_LOG_INDEX_ENTRY, 0) != (ssize_t)(cnt * SL_LOG_INDEX_ENTRY))) cnt = 0;
  close(fd);
  s->n_idx = 0;
  if (cnt && sl_array_grow(&s->idx, &s->cap_idx, cnt, sizeof *s->idx)) cnt = 0;
  for (size_t i = 0; i < cnt; i++) {
    struct sl_log_idx e = {get32(raw + i * 16), get32(raw + i * 16 + 4), (int64_t)get64(raw + i * 16 + 8)};
    if (s->n_idx && (e.rel <= s->idx[s->n_idx - 1].rel || e.pos <= s->idx[s->n_idx - 1].pos)) break;
    if ((int64_t)e.pos >= s->size && s->size >= 0) break;
    s->idx[s->n_idx++] = e;
  }
  sl_free(raw);
  return 0;
}

void sl_log_seg_lookup(const struct sl_log_seg *s, int64_t offset, int64_t *pos, int64_t *at) {
  size_t lo = 0, hi = s->n_idx;
  while (lo < hi) { /* first entry with rel > offset - base */
    size_t mid = (lo + hi) / 2;
    if ((int64_t)s->idx[mid].rel + s->base <= offset) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) {
    *pos = 0;
    *at = s->base;
  } else {
    *pos = s->idx[lo - 1].pos;
    *at = s->base + s->idx[lo - 1].rel;
  }
}

void sl_log_seg_lookup_time(const struct sl_log_seg *s, int64_t ts_ms, int64_t *pos, int64_t *at) {
  /* The last entry whose earlier records are all older than ts_ms. */
  size_t lo = 0, hi = s->n_idx;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (s->idx[mid].max_ts < ts_ms) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) {
    *pos = 0;
    *at = s->base;
  } else {
    *pos = s->idx[lo - 1].pos;
    *at = s->base + s->idx[lo - 1].rel;
  }
}
