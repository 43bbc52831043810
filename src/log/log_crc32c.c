/* log_crc32c.c: CRC-32C (Castagnoli), the checksum of every record frame. The SSE4.2
 * crc32 instruction is used when the CPU has it, slicing-by-8 tables otherwise; all
 * paths give the same values as RFC 3720's test vectors.
 *
 * NOTES
 * The crc32 instruction has a latency of 3 cycles and a throughput of 1 per cycle, so
 * one dependent chain runs at a third of the possible speed. Two ways around it:
 * - one large buffer (sl_log_crc32c): cut into three consecutive blocks whose CRCs
 *   run interleaved, then joined: crc(A|B) = shift(crc(A), |B|) ^ crc(B) on the raw
 *   register, where shift (appending |B| zero bytes) is linear and tabulated per byte
 *   of the register for the two block sizes used (8 KB and 256 bytes);
 * - many small frames (sl_log_crc32c_many): three frames' CRCs run interleaved over
 *   their common length, each finishing alone; no join is needed. Producers seal and
 *   consumers verify frames in threes this way. */
#include "log/log_int.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82F63B78u
#define LONG_BLOCK 8192u
#define SHORT_BLOCK 256u

static uint32_t tab[8][256];
static uint32_t shift_long[4][256], shift_short[4][256];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int have_sse42;

/* The raw register after len zero bytes (no pre- or post-inversion). */
static uint32_t zeros(uint32_t c, size_t len) {
  while (len--) c = (c >> 8) ^ tab[0][c & 0xff];
  return c;
}

static void shift_table(uint32_t t[4][256], size_t len) {
  uint32_t bit[32];
  for (int b = 0; b < 32; b++) bit[b] = zeros(1u << b, len);
  for (int k = 0; k < 4; k++)
    for (uint32_t v = 0; v < 256; v++) {
      uint32_t x = 0;
      for (int i = 0; i < 8; i++)
        if (v >> i & 1) x ^= bit[8 * k + i];
      t[k][v] = x;
    }
}

static uint32_t shift(uint32_t t[4][256], uint32_t c) {
  return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

static void init_tables(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
    tab[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++) tab[t][i] = (tab[t - 1][i] >> 8) ^ tab[0][tab[t - 1][i] & 0xff];
  shift_table(shift_long, LONG_BLOCK);
  shift_table(shift_short, SHORT_BLOCK);
#if defined(__x86_64__)
  __builtin_cpu_init();
  have_sse42 = __builtin_cpu_supports("sse4.2");
#endif
}

static uint64_t ld64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static uint32_t crc_sw(uint32_t crc, const unsigned char *p, size_t len) {
  while (len >= 8) {
    uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    crc = tab[7][lo & 0xff] ^ tab[6][(lo >> 8) & 0xff] ^ tab[5][(lo >> 16) & 0xff] ^ tab[4][lo >> 24] ^
          tab[3][p[4]] ^ tab[2][p[5]] ^ tab[1][p[6]] ^ tab[0][p[7]];
    p += 8;
    len -= 8;
  }
  while (len--) crc = (crc >> 8) ^ tab[0][(crc ^ *p++) & 0xff];
  return crc;
}

#if defined(__x86_64__)
#define HW __attribute__((target("sse4.2")))

HW static uint32_t crc_hw1(uint32_t crc, const unsigned char *p, size_t len) {
  uint64_t c = crc;
  for (; len >= 8; p += 8, len -= 8) c = __builtin_ia32_crc32di(c, ld64(p));
  uint32_t c32 = (uint32_t)c;
  while (len--) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}

/* Three blocks of `block` bytes at a time, interleaved, joined by the shift table. */
HW static uint32_t crc_hw3(uint32_t crc, const unsigned char **pp, size_t *lenp, size_t block, uint32_t t[4][256]) {
  const unsigned char *p = *pp;
  size_t len = *lenp;
  uint64_t c0 = crc;
  while (len >= 3 * block) {
    uint64_t c1 = 0, c2 = 0;
    for (const unsigned char *end = p + block; p < end; p += 8) {
      c0 = __builtin_ia32_crc32di(c0, ld64(p));
      c1 = __builtin_ia32_crc32di(c1, ld64(p + block));
      c2 = __builtin_ia32_crc32di(c2, ld64(p + 2 * block));
    }
    c0 = shift(t, (uint32_t)c0) ^ (uint32_t)c1;
    c0 = shift(t, (uint32_t)c0) ^ (uint32_t)c2;
    p += 2 * block;
    len -= 3 * block;
  }
  *pp = p;
  *lenp = len;
  return (uint32_t)c0;
}

HW static uint32_t crc_hw(uint32_t crc, const unsigned char *p, size_t len) {
  crc = crc_hw3(crc, &p, &len, LONG_BLOCK, shift_long);
  crc = crc_hw3(crc, &p, &len, SHORT_BLOCK, shift_short);
  return crc_hw1(crc, p, len);
}

/* Three buffers from ~0 at once over their common length, then each alone. */
HW static void crc_hw_x3(const unsigned char *const *p, const size_t *len, uint32_t *out) {
  size_t m = len[0] < len[1] ? len[0] : len[1];
  if (len[2] < m) m = len[2];
  m &= ~(size_t)7;
  const unsigned char *a = p[0], *b = p[1], *c = p[2];
  uint64_t ca = 0xffffffffu, cb = 0xffffffffu, cc = 0xffffffffu;
  for (size_t i = 0; i < m; i += 8) {
    ca = __builtin_ia32_crc32di(ca, ld64(a + i));
    cb = __builtin_ia32_crc32di(cb, ld64(b + i));
    cc = __builtin_ia32_crc32di(cc, ld64(c + i));
  }
  if (len[0] == len[1] && len[1] == len[2]) { /* frames of one size: the tail interleaved too */
    uint32_t xa = (uint32_t)ca, xb = (uint32_t)cb, xc = (uint32_t)cc;
    size_t r = len[0] - m;
    if (r & 4) {
      uint32_t va, vb, vc;
      memcpy(&va, a + m, 4), memcpy(&vb, b + m, 4), memcpy(&vc, c + m, 4);
      xa = __builtin_ia32_crc32si(xa, va), xb = __builtin_ia32_crc32si(xb, vb), xc = __builtin_ia32_crc32si(xc, vc);
      m += 4;
    }
    if (r & 2) {
      uint16_t va, vb, vc;
      memcpy(&va, a + m, 2), memcpy(&vb, b + m, 2), memcpy(&vc, c + m, 2);
      xa = __builtin_ia32_crc32hi(xa, va), xb = __builtin_ia32_crc32hi(xb, vb), xc = __builtin_ia32_crc32hi(xc, vc);
      m += 2;
    }
    if (r & 1) {
      xa = __builtin_ia32_crc32qi(xa, a[m]);
      xb = __builtin_ia32_crc32qi(xb, b[m]);
      xc = __builtin_ia32_crc32qi(xc, c[m]);
    }
    out[0] = ~xa, out[1] = ~xb, out[2] = ~xc;
    return;
  }
  out[0] = ~crc_hw((uint32_t)ca, a + m, len[0] - m);
  out[1] = ~crc_hw((uint32_t)cb, b + m, len[1] - m);
  out[2] = ~crc_hw((uint32_t)cc, c + m, len[2] - m);
}
#endif

/* crc is the value of the bytes so far (0 to start). */
uint32_t sl_log_crc32c(uint32_t crc, const void *data, size_t len) {
  pthread_once(&once, init_tables);
  crc = ~crc;
#if defined(__x86_64__)
  if (have_sse42) return ~crc_hw(crc, data, len);
#endif
  return ~crc_sw(crc, data, len);
}

uint32_t sl_log_crc32c_portable(uint32_t crc, const void *data, size_t len) {
  pthread_once(&once, init_tables);
  return ~crc_sw(~crc, data, len);
}

void sl_log_crc32c_many(const uint8_t *const *data, const size_t *len, uint32_t *out, size_t n) {
  pthread_once(&once, init_tables);
  size_t i = 0;
#if defined(__x86_64__)
  if (have_sse42)
    for (; i + 3 <= n; i += 3) crc_hw_x3(data + i, len + i, out + i);
#endif
  for (; i < n; i++) out[i] = sl_log_crc32c(0, data[i], len[i]);
}
