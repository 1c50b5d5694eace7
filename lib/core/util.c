/* util.c — logging through the backend's callback, the seeded RNG, aligned allocation.
 * No global state: the RNG state and the log callback live in caller-owned objects. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lac_internal.h"

void lac_log(const lac_backend *b, lac_log_level level, const char *fmt, ...) {
  if (!b || !b->params.log || level > b->params.log_level) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  b->params.log(level, msg, b->params.log_user_data);
}

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void lac_rng_seed(lac_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t lac_rng_next(lac_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double lac_rng_uniform(lac_rng *r) { return (double)(lac_rng_next(r) >> 11) * 0x1.0p-53; }

double lac_rng_normal(lac_rng *r) {
  double u1 = lac_rng_uniform(r), u2 = lac_rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void *lac_alloc(size_t n_bytes) {
  if (n_bytes == 0) n_bytes = 64;
  size_t rounded = (n_bytes + 63) & ~(size_t)63;
  if (rounded < n_bytes) return NULL;
  void *p = aligned_alloc(64, rounded);
  if (p) memset(p, 0, rounded);
  return p;
}

void lac_free(void *p) { free(p); }
