/* testutil.h — the few checks our C tests share.  A failed CHECK prints where and why and
 * counts a failure; main returns test_exit() so a failing test fails its binary. */
#ifndef LAC_TESTUTIL_H
#define LAC_TESTUTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures_;
static int test_checks_;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    test_checks_++;                                                            \
    if (!(cond)) {                                                             \
      test_failures_++;                                                        \
      fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
    }                                                                          \
  } while (0)

/* Check that a lac call succeeded; prints the error message otherwise. */
#define CHECK_OK(call, errp)                                                   \
  do {                                                                         \
    lac_status st_ = (call);                                                   \
    CHECK(st_ == LAC_OK, "%s -> %s: %s", #call, lac_status_string(st_),        \
          (errp)->message);                                                    \
  } while (0)

/* max |a-b| / max(max |b|, floor): error relative to the reference tensor's scale. */
static inline double test_rel_err(const float *a, const float *b, size_t n, double floor) {
  double maxdiff = 0, maxref = floor;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - (double)b[i]);
    if (isnan(d)) return INFINITY; /* a NaN anywhere is a failure */
    if (d > maxdiff) maxdiff = d;
    if (fabs((double)b[i]) > maxref) maxref = fabs((double)b[i]);
  }
  return maxdiff / maxref;
}

/* splitmix64: a uniform double in [0, 1) from *state (advanced) */
static inline double test_urand(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static inline int test_exit(const char *name) {
  printf("%s: %d checks, %d failed\n", name, test_checks_, test_failures_);
  return test_failures_ ? 1 : 0;
}

#endif
