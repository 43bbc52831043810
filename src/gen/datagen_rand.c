/* datagen_rand.c: the generators' random numbers. xoshiro256** is fast and has no
 * state beyond 32 bytes; normals come from the polar Box-Muller method. */
#include "gen/datagen.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void sl_gen_rng_seed(struct sl_gen_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
  r->have_spare = 0;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sl_gen_u64(struct sl_gen_rng *r) {
  uint64_t *s = r->s;
  uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return out;
}

double sl_gen_unit(struct sl_gen_rng *r) { return (double)(sl_gen_u64(r) >> 11) * 0x1.0p-53; }

double sl_gen_normal(struct sl_gen_rng *r, double mean, double sd) {
  if (r->have_spare) {
    r->have_spare = 0;
    return mean + sd * r->spare;
  }
  double u, v, s;
  do {
    u = sl_gen_unit(r) * 2 - 1;
    v = sl_gen_unit(r) * 2 - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  double m = sqrt(-2 * log(s) / s);
  r->spare = v * m;
  r->have_spare = 1;
  return mean + sd * u * m;
}

int64_t sl_gen_range(struct sl_gen_rng *r, int64_t lo, int64_t hi) {
  return lo + (int64_t)(sl_gen_u64(r) % (uint64_t)(hi - lo + 1));
}

int sl_gen_pick(struct sl_gen_rng *r, const double *cum, int n) {
  double x = sl_gen_unit(r) * cum[n - 1];
  for (int i = 0; i < n; i++)
    if (x < cum[i]) return i;
  return n - 1;
}
