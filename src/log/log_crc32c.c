/* log_crc32c.c: CRC-32C (Castagnoli), the checksum of every record frame. The SSE4.2
 * instruction is used when the CPU has it, slicing-by-8 tables otherwise; both give
 * the same values as RFC 3720's test vectors. */
#include "log/log_int.h"

#include <pthread.h>
#include <string.h>

static uint32_t tab[8][256];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int have_sse42;

static void init_tables(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    tab[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++) tab[t][i] = (tab[t - 1][i] >> 8) ^ tab[0][tab[t - 1][i] & 0xff];
#if defined(__x86_64__)
  __builtin_cpu_init();
  have_sse42 = __builtin_cpu_supports("sse4.2");
#endif
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const unsigned char *p, size_t len) {
  uint64_t c = crc;
  while (len >= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
    p += 8;
    len -= 8;
  }
  uint32_t c32 = (uint32_t)c;
  while (len--) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}
#endif

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

/* crc is the value of the bytes so far (0 to start). */
uint32_t sl_log_crc32c(uint32_t crc, const void *data, size_t len) {
  pthread_once(&once, init_tables);
  crc = ~crc;
#if defined(__x86_64__)
  if (have_sse42) return ~crc_hw(crc, data, len);
#endif
  return ~crc_sw(crc, data, len);
}
