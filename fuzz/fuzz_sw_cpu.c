/* fuzz_sw_cpu.c — libFuzzer target for the CPU alignment (lib/align/sw_cpu.c): the vector
 * paths against the scalar path, their oracle.
 *
 * The input sets a batch: 1-4 pairs of 1-24 x 1-40 cells, per-cell or scalar gaps, tau, the
 * strips per pair of the vector path (or its planner), the incoming gradients, and every S,
 * go and ge from one byte each: multiples of 1/16 in [-8, 8) (ties between the smooth
 * maximum's terms are common) and, from the top byte values, NaN, infinity, 1.5e20 (refused:
 * beyond 1e20) and +-9e19 (accepted: the largest magnitudes the library takes).  The batch
 * runs forward and backward on the scalar path and on each vector path of this CPU (AVX2,
 * AVX-512).  Required: the same status and message; M bit for bit; V within 1e-5 (|V| + tau)
 * (the vector path sums V per lane, in another order, and V = max + tau log(sum)); the
 * gradients within 1e-5 of the largest magnitude of their array; and a second backward of
 * the same forward gives the same bits.  A broken requirement traps; ASan and UBSan watch the
 * masked row loads and stores.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "align/sw_cpu.h"
#include "lac/align.h"

#define REQUIRE(c)                                                                                 \
  do {                                                                                             \
    if (!(c)) __builtin_trap();                                                                    \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAXP = 4, MAXN = 24, MAXM = 40 };

typedef struct {
  const uint8_t *p;
  size_t n;
} bytes;

static uint8_t next(bytes *b) {
  if (!b->n) return 0;
  b->n--;
  return *b->p++;
}

static float value(uint8_t v) {
  switch (v) {
  case 255: return NAN;
  case 254: return INFINITY;
  case 253: return 1.5e20f;
  case 252: return 9e19f;
  case 251: return -9e19f;
  default: return (float)((int)v - 128) / 16.0f;
  }
}

typedef struct {
  float V[MAXP];
  float *M[MAXP], *dS[MAXP], *dgo[MAXP], *dge[MAXP];
  lac_status fwd, bwd;
  char msg[256];
} run_out;

static void out_alloc(run_out *o, const lac_sw_pair *pr, int np) {
  memset(o, 0, sizeof *o);
  for (int q = 0; q < np; q++) {
    const size_t c = (size_t)pr[q].n * pr[q].m;
    o->M[q] = calloc(c, sizeof(float));
    o->dS[q] = calloc(c, sizeof(float));
    o->dgo[q] = calloc(c, sizeof(float));
    o->dge[q] = calloc(c, sizeof(float));
  }
}

static void out_free(run_out *o, int np) {
  for (int q = 0; q < np; q++) free(o->M[q]), free(o->dS[q]), free(o->dgo[q]), free(o->dge[q]);
}

static void run(lac_aligner *a, const char *path, int strips, const lac_sw_options *opt, int np,
                const lac_sw_pair *pr, const float *gV, float *const *gM, run_out *o) {
  lac_error err;
  REQUIRE(lac_sw_cpu_force(a, path, strips, &err) == LAC_OK);
  o->fwd = lac_sw_forward(a, opt, np, pr, o->V, o->M, &err);
  if (o->fwd != LAC_OK) {
    strncpy(o->msg, err.message, sizeof o->msg - 1);
    return;
  }
  o->bwd = lac_sw_backward(a, gV, (const float *const *)gM, o->dS, o->dgo, o->dge, &err);
  if (o->bwd != LAC_OK) {
    strncpy(o->msg, err.message, sizeof o->msg - 1);
    return;
  }
  /* a second backward of the same forward: the same bits */
  const size_t c0 = (size_t)pr[0].n * pr[0].m;
  float *again = malloc(sizeof(float) * c0);
  float *dS2[MAXP] = {again};
  REQUIRE(lac_sw_backward(a, gV, (const float *const *)gM, dS2, NULL, NULL, &err) == LAC_OK);
  REQUIRE(!memcmp(again, o->dS[0], sizeof(float) * c0));
  free(again);
}

/* max |x - y| <= 1e-5 max |y| (NaN fails) */
static int close_to(const float *x, const float *y, size_t n) {
  double mx = 0, e = 0;
  for (size_t k = 0; k < n; k++) {
    const double ay = fabs((double)y[k]), d = fabs((double)x[k] - (double)y[k]);
    if (!(d == d)) return 0;
    mx = ay > mx ? ay : mx;
    e = d > e ? d : e;
  }
  return e <= 1e-5 * mx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const float taus[5] = {0.05f, 0.3f, 0.8f, 1.0f, 5.0f};
  static const int strips_of[6] = {0, 1, 2, 4, 8, 16};
  bytes b = {data, size};
  const uint8_t h0 = next(&b), h1 = next(&b);
  const int np = 1 + h0 % MAXP, pc = (h0 >> 2) & 1, strips = strips_of[(h0 >> 3) % 6];
  const lac_sw_options opt = {taus[h1 % 5], pc};
  lac_sw_pair pr[MAXP];
  float *S[MAXP], *go[MAXP], *ge[MAXP], *gM[MAXP], gV[MAXP];
  for (int q = 0; q < np; q++) {
    const int n = 1 + next(&b) % MAXN, m = 1 + next(&b) % MAXM;
    const size_t c = (size_t)n * m, cg = pc ? c : 1;
    S[q] = malloc(sizeof(float) * c), gM[q] = malloc(sizeof(float) * c);
    go[q] = malloc(sizeof(float) * cg), ge[q] = malloc(sizeof(float) * cg);
    gV[q] = (float)((int)next(&b) - 128) / 64.0f;
    for (size_t k = 0; k < c; k++) S[q][k] = value(next(&b));
    for (size_t k = 0; k < cg; k++) go[q][k] = value(next(&b)), ge[q][k] = value(next(&b));
    for (size_t k = 0; k < c; k++) gM[q][k] = (float)((int)next(&b) - 128) / 256.0f;
    pr[q] = (lac_sw_pair){n, m, S[q], go[q], ge[q]};
  }
  lac_aligner_params ap = lac_aligner_default_params();
  ap.n_threads = 1;
  lac_aligner *a = NULL;
  lac_error err;
  REQUIRE(lac_aligner_new(&ap, &a, &err) == LAC_OK);
  run_out ref, vec;
  out_alloc(&ref, pr, np);
  run(a, "scalar", 0, &opt, np, pr, gV, gM, &ref);
  static const char *const vpaths[2] = {"avx2", "avx512"};
  for (int v = 0; v < 2; v++) {
    if (lac_sw_cpu_force(a, vpaths[v], 0, &err) != LAC_OK) continue; /* not on this CPU */
    const int lanes = v ? 16 : 8;
    out_alloc(&vec, pr, np);
    run(a, vpaths[v], strips <= lanes ? strips : 0, &opt, np, pr, gV, gM, &vec);
    REQUIRE(vec.fwd == ref.fwd && vec.bwd == ref.bwd && !strcmp(vec.msg, ref.msg));
    if (ref.fwd == LAC_OK && ref.bwd == LAC_OK) {
      for (int q = 0; q < np; q++) /* V = max + tau log(sum): its error scales with tau */
        REQUIRE(fabs((double)vec.V[q] - ref.V[q]) <= 1e-5 * (fabs((double)ref.V[q]) + opt.tau));
      for (int q = 0; q < np; q++) {
        const size_t c = (size_t)pr[q].n * pr[q].m, cg = pc ? c : 1;
        REQUIRE(!memcmp(vec.M[q], ref.M[q], sizeof(float) * c));
        REQUIRE(close_to(vec.dS[q], ref.dS[q], c));
        REQUIRE(close_to(vec.dgo[q], ref.dgo[q], cg));
        REQUIRE(close_to(vec.dge[q], ref.dge[q], cg));
      }
    }
    out_free(&vec, np);
  }
  out_free(&ref, np);
  lac_aligner_free(a);
  for (int q = 0; q < np; q++) free(S[q]), free(go[q]), free(ge[q]), free(gM[q]);
  return 0;
}
