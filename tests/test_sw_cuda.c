/* test_sw_cuda.c — the CUDA smoothed Smith-Waterman (kernels/sw_affine.cu through
 * lac_cuda_sw, lib/cuda/cuda_align.c) against the double reference (lib/align/sw_ref.c):
 * SW_AFFINE.md §4 item 5.
 *
 * Batches: six runs (scalar and per-cell penalties x tau 0.1, 0.8, 2), each one launch of
 * ~30 pairs of mixed shapes 1..300 (edge widths 1, 31-33, 63-65, 127-129, 255-257 included:
 * they change the strip width W and the number of bands) and two of 1024 on a side; random
 * gV per pair and gM per cell (NULL for some pairs).  Every output is poisoned with NaN
 * before each run, so an unwritten cell fails: the host outputs here, and on the GPU the
 * device outputs and tables too (lac_cuda_backend_set_poison: lac_cuda_sw keeps its device
 * buffers between calls, so an unwritten cell would otherwise show an earlier call's value).  Compared per pair: V, M, dS, dgo, dge (per
 * cell, or the per-pair sums).
 *
 * Tolerances (float32 against double, size-scaled): with L = n + m + 8 (the longest path,
 * plus a floor for tiny pairs) and the pair's scale R = max(1, tau, max |ref|) of the
 * compared array (V: max(1, tau, |Vref|)),
 *   V, M:         max |x - ref| <= 4e-7 * L * R
 *   dS, dgo, dge: max |d - dref| <= 4e-6 * L * R
 * Errors are printed as the largest ratio err / tolerance (<= 1 passes) per run and output.
 * M's float error grows with the path (each cell adds a few roundings of |M|, and the SFU's
 * lg2 an absolute ~2^-22 * tau ln 2); the gradients multiply weights along paths, each
 * weight carrying the rounding of its inputs / tau.  Measured on the CPU emulation (libm
 * exp2f/log2f): largest err/tol 0.18; with exp2f/log2f/1/x degraded on purpose to 4 ulp /
 * 2^-21 absolute / 1 ulp (worse than the SFU's documented bounds): 0.2.
 *
 * Options: --emulation runs only the emulation below (exit 0 or 1: the meson test
 * sw_cuda_emulation); --no-emulate only the GPU (exit 77 at once without one: the meson test
 * sw_cuda); with neither, both (tools/gpu-check.sh).
 * Without a GPU, the same batches run through lac_cuda_sw_emulated — the kernels' per-lane
 * code on the CPU (32 lanes in lock step) — and the test then exits 77 (skipped) if that
 * passes, 1 if it fails.  With a GPU, both run, and also: batch = pairs one by one (bit for
 * bit: one warp per pair, no cross-pair arithmetic), and the argument checks.  On both,
 * six runs also compare every per-cell buffer in the warp's order (LAC_CUDA_SW_CELLS, the
 * launchers on buffers packed here), and that order with the X edges
 * (LAC_CUDA_SW_CELLS_XEDGE: the backward recomputes X) and with the Y checkpoints too
 * (LAC_CUDA_SW_CELLS_XYEDGE, three of the runs), with row-major, bit for bit, and the
 * order's map (lac_cuda_sw_cell_index) is checked to be a bijection of each block that refuses
 * cells outside it; the launchers refuse other orders and out-of-range settings
 * (lac_cuda_sw_opts); lac_cuda_sw_best_order's rule is checked.
 */
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "align/sw_ref.h"
#include "kernels.h"
#include "lac_internal.h"
#include "testutil.h"
#include "testutil_cuda.h"

#define TOL_V 4e-7
#define TOL_M 4e-7
#define TOL_G 4e-6

/* ---------------------------------------------------------------- random numbers */

static uint64_t rng_s = 0x9e3779b97f4a7c15ull;
static double urand(void) { return test_urand(&rng_s); }
static float frand(float lo, float hi) { return lo + (hi - lo) * (float)urand(); }

/* ---------------------------------------------------------------- one batch */

typedef struct {
  int np, per_cell;
  float tau;
  lac_sw_pair *pairs;
  float **S, **go, **ge, *gV, **gM;     /* inputs (gM[p] may be NULL) */
  double *Vr, **Mr, **dSr, **dgor, **dger; /* reference */
  float *V, **M, **dS, **dgo, **dge;    /* outputs */
} batch;

static size_t cells_of(const batch *B, int p) { return (size_t)B->pairs[p].n * B->pairs[p].m; }
static size_t gcount(const batch *B, int p) { return B->per_cell ? cells_of(B, p) : 1; }

static float *fmalloc(size_t n) {
  float *p = malloc(sizeof(float) * (n ? n : 1));
  if (!p) {
    fprintf(stderr, "test_sw_cuda: out of memory\n");
    exit(1);
  }
  return p;
}
static double *dmalloc(size_t n) {
  double *p = malloc(sizeof(double) * (n ? n : 1));
  if (!p) {
    fprintf(stderr, "test_sw_cuda: out of memory\n");
    exit(1);
  }
  return p;
}

/* shapes: edge widths of the strips and bands, random ones, and the big ones */
static void make_shapes(int run, int *np, int nn[64], int mm[64]) {
  static const int fixed[][2] = {
      {1, 1},     {1, 9},     {9, 1},     {2, 3},     {31, 33},   {32, 32},   {33, 31},
      {64, 63},   {63, 65},   {65, 64},   {128, 127}, {129, 128}, {127, 129}, {256, 255},
      {255, 257}, {257, 256}, {300, 300}, {1, 300},   {300, 1},   {17, 200},  {200, 17},
      /* the Y checkpoints' table fits from 41 rows at 129 columns, from 14 at 256 */
      {40, 129},  {41, 129},  {14, 256},
  };
  int k = 0;
  for (size_t t = 0; t < sizeof fixed / sizeof fixed[0]; t++, k++) {
    nn[k] = fixed[t][0];
    mm[k] = fixed[t][1];
  }
  for (int t = 0; t < 8; t++, k++) {
    nn[k] = 1 + (int)(urand() * 300);
    mm[k] = 1 + (int)(urand() * 300);
  }
  /* two big pairs per run: always 1024 x 1024 and one rotating partner */
  static const int big[][2] = {{1024, 1024}, {1024, 300}, {300, 1024},
                               {1024, 1000}, {777, 1024}, {1024, 1}};
  nn[k] = 1024;
  mm[k] = 1024;
  k++;
  nn[k] = big[run % 6][0];
  mm[k] = big[run % 6][1];
  k++;
  *np = k;
}

static void batch_make(batch *B, int run, int per_cell, float tau) {
  int nn[64], mm[64], np;
  make_shapes(run, &np, nn, mm);
  memset(B, 0, sizeof *B);
  B->np = np;
  B->per_cell = per_cell;
  B->tau = tau;
  B->pairs = calloc((size_t)np, sizeof *B->pairs);
#define ARR(f, T) B->f = calloc((size_t)np, sizeof(T))
  ARR(S, float *); ARR(go, float *); ARR(ge, float *); ARR(gM, float *);
  ARR(Mr, double *); ARR(dSr, double *); ARR(dgor, double *); ARR(dger, double *);
  ARR(M, float *); ARR(dS, float *); ARR(dgo, float *); ARR(dge, float *);
#undef ARR
  B->gV = fmalloc((size_t)np);
  B->V = fmalloc((size_t)np);
  B->Vr = dmalloc((size_t)np);
  for (int p = 0; p < np; p++) {
    const int n = nn[p], m = mm[p];
    const size_t c = (size_t)n * m, g = per_cell ? c : 1;
    B->S[p] = fmalloc(c);
    B->go[p] = fmalloc(g);
    B->ge[p] = fmalloc(g);
    /* similarity: noise plus a band of high similarity along a slope (a clear alignment
     * for sharp tau, many competing ones for soft tau) */
    const double slope = (double)m / n, shift = urand() * 0.3 * m;
    for (int i = 0; i < n; i++)
      for (int j = 0; j < m; j++) {
        const double dd = fabs(j - shift - slope * i);
        B->S[p][(size_t)i * m + j] = frand(-1.0f, 0.6f) + (dd < 2.0 ? 1.5f : 0.0f);
      }
    for (size_t t = 0; t < g; t++) {
      B->go[p][t] = frand(0.4f, 1.6f);
      B->ge[p][t] = frand(0.02f, 0.4f);
    }
    B->gV[p] = p % 7 == 3 ? 0.0f : frand(-1.0f, 1.0f);
    if (p % 5 != 2) {
      B->gM[p] = fmalloc(c);
      for (size_t t = 0; t < c; t++) B->gM[p][t] = frand(-1.0f, 1.0f);
    }
    B->pairs[p] = (lac_sw_pair){n, m, B->S[p], B->go[p], B->ge[p]};
    B->Mr[p] = dmalloc(c);
    B->dSr[p] = dmalloc(c);
    B->dgor[p] = dmalloc(g);
    B->dger[p] = dmalloc(g);
    B->M[p] = fmalloc(c);
    B->dS[p] = fmalloc(c);
    B->dgo[p] = fmalloc(g);
    B->dge[p] = fmalloc(g);
  }
}

static void batch_free(batch *B) {
  for (int p = 0; p < B->np; p++) {
    free(B->S[p]); free(B->go[p]); free(B->ge[p]); free(B->gM[p]);
    free(B->Mr[p]); free(B->dSr[p]); free(B->dgor[p]); free(B->dger[p]);
    free(B->M[p]); free(B->dS[p]); free(B->dgo[p]); free(B->dge[p]);
  }
  free(B->S); free(B->go); free(B->ge); free(B->gM);
  free(B->Mr); free(B->dSr); free(B->dgor); free(B->dger);
  free(B->M); free(B->dS); free(B->dgo); free(B->dge);
  free(B->gV); free(B->V); free(B->Vr); free(B->pairs);
}

static void reference(batch *B) {
  for (int p = 0; p < B->np; p++) {
    const int n = B->pairs[p].n, m = B->pairs[p].m;
    const size_t c = cells_of(B, p), g = gcount(B, p);
    double *S = dmalloc(c), *go = dmalloc(g), *ge = dmalloc(g), *gM = NULL;
    double *X = dmalloc(c), *Y = dmalloc(c);
    for (size_t t = 0; t < c; t++) S[t] = B->S[p][t];
    for (size_t t = 0; t < g; t++) {
      go[t] = B->go[p][t];
      ge[t] = B->ge[p][t];
    }
    if (B->gM[p]) {
      gM = dmalloc(c);
      for (size_t t = 0; t < c; t++) gM[t] = B->gM[p][t];
    }
    B->Vr[p] = lac_sw_ref_forward(n, m, S, go, ge, B->per_cell, B->tau, B->Mr[p], X, Y);
    if (lac_sw_ref_backward(n, m, S, go, ge, B->per_cell, B->tau, B->Mr[p], X, Y, B->gV[p], gM,
                            B->dSr[p], B->dgor[p], B->dger[p]) != 0) {
      fprintf(stderr, "test_sw_cuda: reference backward failed\n");
      exit(1);
    }
    free(S); free(go); free(ge); free(gM); free(X); free(Y);
  }
}

static void poison(batch *B) {
  for (int p = 0; p < B->np; p++) {
    const size_t c = cells_of(B, p), g = gcount(B, p);
    B->V[p] = NAN;
    for (size_t t = 0; t < c; t++) B->M[p][t] = B->dS[p][t] = NAN;
    for (size_t t = 0; t < g; t++) B->dgo[p][t] = B->dge[p][t] = NAN;
  }
}

/* max |a - r| (infinite when a has a NaN or r is not finite) and max |r| */
static void diff(const float *a, const double *r, size_t n, double *maxd, double *maxr) {
  double d = 0.0, s = 0.0;
  for (size_t t = 0; t < n; t++) {
    const double e = fabs((double)a[t] - r[t]);
    if (!(e <= d)) d = isnan(e) ? INFINITY : e;
    if (fabs(r[t]) > s) s = fabs(r[t]);
  }
  *maxd = d;
  *maxr = s;
}

enum { O_V, O_M, O_DS, O_DGO, O_DGE, O_N };
static const char *o_name[O_N] = {"V", "M", "dS", "dgo", "dge"};

typedef struct {
  double worst[O_N];     /* largest err / tolerance */
  double abs_err[O_N];   /* the error at that pair */
  int at[O_N];           /* its pair */
} score;

/* compares outputs with the reference; returns the number of failed pairs/outputs */
static int compare(const batch *B, const char *label, score *sc) {
  int fails = 0;
  for (int o = 0; o < O_N; o++) {
    sc->worst[o] = 0.0;
    sc->abs_err[o] = 0.0;
    sc->at[o] = -1;
  }
  for (int p = 0; p < B->np; p++) {
    const int n = B->pairs[p].n, m = B->pairs[p].m;
    const double L = n + m + 8, tau = B->tau > 1.0f ? B->tau : 1.0;
    const size_t c = cells_of(B, p), g = gcount(B, p);
    double err[O_N], tol[O_N], d, r;
    err[O_V] = fabs((double)B->V[p] - B->Vr[p]);
    if (isnan(err[O_V])) err[O_V] = INFINITY;
    tol[O_V] = TOL_V * L * fmax(tau, fabs(B->Vr[p]));
    diff(B->M[p], B->Mr[p], c, &d, &r);
    err[O_M] = d;
    tol[O_M] = TOL_M * L * fmax(tau, r);
    diff(B->dS[p], B->dSr[p], c, &d, &r);
    err[O_DS] = d;
    tol[O_DS] = TOL_G * L * fmax(tau, r);
    diff(B->dgo[p], B->dgor[p], g, &d, &r);
    err[O_DGO] = d;
    tol[O_DGO] = TOL_G * L * fmax(tau, r);
    diff(B->dge[p], B->dger[p], g, &d, &r);
    err[O_DGE] = d;
    tol[O_DGE] = TOL_G * L * fmax(tau, r);
    for (int o = 0; o < O_N; o++) {
      const double q = err[o] / tol[o];
      if (!(q <= 1.0)) {
        fails++;
        if (fails <= 12)
          fprintf(stderr,
                  "  FAIL %s per_cell=%d tau=%g pair %d (%d x %d): %s error %.3g > tolerance "
                  "%.3g\n",
                  label, B->per_cell, (double)B->tau, p, n, m, o_name[o], err[o], tol[o]);
      }
      if (!(q <= sc->worst[o])) {
        sc->worst[o] = isnan(q) ? INFINITY : q;
        sc->abs_err[o] = err[o];
        sc->at[o] = p;
      }
    }
  }
  return fails;
}

static void print_score(const batch *B, const char *label, const score *sc, double secs) {
  printf("  %-4s per_cell=%d tau=%-4g %2d pairs %6.2fs  err/tol:", label, B->per_cell,
         (double)B->tau, B->np, secs);
  for (int o = 0; o < O_N; o++)
    printf(" %s %.2g (%.2g, %dx%d)", o_name[o], sc->worst[o], sc->abs_err[o],
           sc->at[o] >= 0 ? B->pairs[sc->at[o]].n : 0, sc->at[o] >= 0 ? B->pairs[sc->at[o]].m : 0);
  printf("\n");
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef lac_status (*runner)(void *ctx, const batch *B, lac_error *err);

/* ctx: the run's kernel settings (lac_cuda_sw_opts) */
static lac_status run_emu(void *ctx, const batch *B, lac_error *err) {
  lac_sw_options o = {B->tau, B->per_cell};
  return lac_cuda_sw_emulated((const lac_cuda_sw_opts *)ctx, &o, B->np, B->pairs, B->V, B->M,
                              B->gV, (const float *const *)B->gM, B->dS, B->dgo, B->dge, err);
}
/* ctx: the backend, with the run's kernel settings (lac_cuda_backend_set_sw_opts) */
static lac_status run_gpu(void *ctx, const batch *B, lac_error *err) {
  lac_sw_options o = {B->tau, B->per_cell};
  return lac_cuda_sw((lac_backend *)ctx, &o, B->np, B->pairs, B->V, B->M, B->gV,
                     (const float *const *)B->gM, B->dS, B->dgo, B->dge, err);
}

/* batch = pairs one by one, bit for bit (GPU), with the batch launch's warps per pair
 * (warps): the default picks them from a launch's shape, and V, vstat (thus dS) and the
 * scalar penalties' gradients sum their terms in an order that follows the strips, so a pair
 * alone under the default may differ from the batch in the last bits.  The caller restores
 * the backend's settings. */
static void check_single(lac_backend *gpu, batch *B, const lac_cuda_sw_opts *run, int warps) {
  lac_cuda_sw_opts ko = *run;
  ko.warps = warps;
  CHECK(lac_cuda_backend_set_sw_opts(gpu, &ko) == 0, "lac_cuda_backend_set_sw_opts");
  const int pick[3] = {0, 16, B->np - 1};
  for (int t = 0; t < 3; t++) {
    const int p = pick[t];
    const size_t c = cells_of(B, p), g = gcount(B, p);
    float V1, *M1 = fmalloc(c), *dS1 = fmalloc(c), *dgo1 = fmalloc(g), *dge1 = fmalloc(g);
    lac_sw_options o = {B->tau, B->per_cell};
    lac_error err;
    const float *gm = B->gM[p];
    CHECK_OK(lac_cuda_sw(gpu, &o, 1, &B->pairs[p], &V1, &M1, &B->gV[p], &gm, &dS1, &dgo1, &dge1,
                         &err),
             &err);
    CHECK(memcmp(&V1, &B->V[p], sizeof V1) == 0 && memcmp(M1, B->M[p], c * sizeof(float)) == 0 &&
              memcmp(dS1, B->dS[p], c * sizeof(float)) == 0 &&
              memcmp(dgo1, B->dgo[p], g * sizeof(float)) == 0 &&
              memcmp(dge1, B->dge[p], g * sizeof(float)) == 0,
          "pair %d (%d x %d) alone differs from the same pair in the batch", p, B->pairs[p].n,
          B->pairs[p].m);
    free(M1); free(dS1); free(dgo1); free(dge1);
  }
}

/* ---------------------------------------------------------------- every per-cell buffer in
 * the warp's order (LAC_CUDA_SW_CELLS) against row-major, bit for bit: the launchers
 * (on the GPU) or their emulation on buffers packed here, once row-major and once through
 * lac_cuda_sw_cell_index, with the run's strip widths, warps per pair and X/Y order.  The
 * same cells run the same instructions, only their addresses differ. */
enum { CO_S, CO_GO, CO_GE, CO_GM, CO_M, CO_X, CO_Y, CO_DS, CO_DGO, CO_DGE, CO_N };
static const char *co_name[CO_N] = {"S", "go", "ge", "gM", "M", "X", "Y", "dS", "dgo", "dge"};

typedef struct {
  lac_cuda_sw_dims *dims;
  size_t cells, wfloats;
  int max_m, order; /* LAC_CUDA_SW_ROWS, or LAC_CUDA_SW_CELLS and its variants */
  lac_cuda_sw_opts ko; /* the run's kernel settings */
  float *h[CO_N]; /* host buffers; per pair (np floats) for go, ge, dgo, dge of scalar gaps */
  float *V, *vstat, *gV, *work;
} co_pack;

static size_t co_len(const batch *B, const co_pack *K, int k) {
  const int pair_sized = !B->per_cell && (k == CO_GO || k == CO_GE || k == CO_DGO || k == CO_DGE);
  return pair_sized ? (size_t)B->np : K->cells;
}

/* where cell (i, j) of descriptor d goes: row-major or the warp's order */
static size_t co_at(const lac_cuda_sw_dims *d, int order, int i, int j) {
  return (size_t)d->off +
         (order ? (size_t)lac_cuda_sw_cell_index(d, i, j) : (size_t)i * d->ld + j);
}

static void co_pack_make(const batch *B, int order, const lac_cuda_sw_opts *ko, co_pack *K) {
  memset(K, 0, sizeof *K);
  K->order = order;
  K->ko = *ko;
  K->dims = calloc((size_t)B->np, sizeof *K->dims);
  for (int p = 0; p < B->np; p++) {
    const int n = B->pairs[p].n, m = B->pairs[p].m, ld = (m + 7) & ~7;
    K->dims[p] = (lac_cuda_sw_dims){(long long)K->cells, (long long)K->wfloats, n, m, ld, 0};
    K->cells += (size_t)n * ld;
    K->wfloats += (size_t)10 * n;
    K->max_m = m > K->max_m ? m : K->max_m;
  }
  for (int k = 0; k < CO_N; k++) {
    const size_t len = co_len(B, K, k);
    K->h[k] = fmalloc(len);
    for (size_t t = 0; t < len; t++) K->h[k][t] = k < CO_M ? 0.0f : NAN; /* outputs poisoned */
  }
  K->V = fmalloc((size_t)B->np);
  K->vstat = fmalloc(2 * (size_t)B->np);
  K->gV = fmalloc((size_t)B->np);
  K->work = fmalloc(K->wfloats);
  for (int p = 0; p < B->np; p++) {
    const lac_cuda_sw_dims *d = &K->dims[p];
    K->V[p] = K->vstat[2 * p] = K->vstat[2 * p + 1] = NAN;
    K->gV[p] = B->gV[p];
    if (!B->per_cell) {
      K->h[CO_GO][p] = B->go[p][0];
      K->h[CO_GE][p] = B->ge[p][0];
    }
    for (int i = 0; i < d->n; i++)
      for (int j = 0; j < d->m; j++) {
        const size_t a = co_at(d, order, i, j), c = (size_t)i * d->m + j;
        K->h[CO_S][a] = B->S[p][c];
        if (B->per_cell) {
          K->h[CO_GO][a] = B->go[p][c];
          K->h[CO_GE][a] = B->ge[p][c];
        }
        if (B->gM[p]) K->h[CO_GM][a] = B->gM[p][c];
      }
  }
}

static void co_pack_free(co_pack *K) {
  for (int k = 0; k < CO_N; k++) free(K->h[k]);
  free(K->dims); free(K->V); free(K->vstat); free(K->gV); free(K->work);
}

/* forward + backward on K (gpu: through device copies), 0 on success */
static int co_run(const batch *B, co_pack *K, int gpu) {
  const int np = B->np, pc = B->per_cell;
  if (!gpu) {
    const int ef = lac_cuda_sw_emulate_forward(np, K->dims, K->max_m, K->order, &K->ko, B->tau,
                                               pc, K->h[CO_S], K->h[CO_GO], K->h[CO_GE], K->h[CO_M],
                                               K->h[CO_X], K->h[CO_Y], K->V, K->vstat);
    const int eb = ef ? ef
                      : lac_cuda_sw_emulate_backward(
                            np, K->dims, K->max_m, K->order, &K->ko, B->tau, pc, K->h[CO_GO],
                            K->h[CO_GE], K->h[CO_M], K->h[CO_X], K->h[CO_Y], K->vstat, K->gV,
                            K->h[CO_GM], K->h[CO_DS], K->h[CO_DGO], K->h[CO_DGE], K->work);
    if (eb) fprintf(stderr, "test_sw_cuda: cell order emulation refused: %d\n", eb);
    return eb != 0;
  }
  float *d[CO_N] = {0}, *dV = NULL, *dvs = NULL, *dgV = NULL, *dw = NULL;
  lac_cuda_sw_dims *ddims = NULL;
  cudaError_t e = cudaSuccess;
#define CO_CK(call) \
  if (e == cudaSuccess) e = (call)
  for (int k = 0; k < CO_N; k++) {
    const size_t bytes = sizeof(float) * co_len(B, K, k);
    CO_CK(cudaMalloc((void **)&d[k], bytes));
    CO_CK(cudaMemcpy(d[k], K->h[k], bytes, cudaMemcpyHostToDevice)); /* outputs: the poison */
  }
  CO_CK(cudaMalloc((void **)&ddims, sizeof *ddims * (size_t)np));
  CO_CK(cudaMalloc((void **)&dV, sizeof(float) * (size_t)np));
  CO_CK(cudaMalloc((void **)&dvs, 2 * sizeof(float) * (size_t)np));
  CO_CK(cudaMalloc((void **)&dgV, sizeof(float) * (size_t)np));
  CO_CK(cudaMalloc((void **)&dw, sizeof(float) * K->wfloats));
  CO_CK(cudaMemcpy(ddims, K->dims, sizeof *ddims * (size_t)np, cudaMemcpyHostToDevice));
  CO_CK(cudaMemcpy(dgV, K->gV, sizeof(float) * (size_t)np, cudaMemcpyHostToDevice));
  CO_CK((cudaError_t)lac_cuda_sw_forward(np, ddims, K->max_m, K->order, &K->ko, B->tau, pc,
                                         d[CO_S], d[CO_GO], d[CO_GE], d[CO_M], d[CO_X], d[CO_Y],
                                         dV, dvs, NULL));
  CO_CK((cudaError_t)lac_cuda_sw_backward(np, ddims, K->max_m, K->order, &K->ko, B->tau, pc,
                                          d[CO_GO], d[CO_GE], d[CO_M], d[CO_X], d[CO_Y], dvs, dgV,
                                          d[CO_GM], d[CO_DS], d[CO_DGO], d[CO_DGE], dw, NULL));
  CO_CK(cudaDeviceSynchronize());
  for (int k = CO_M; k < CO_N; k++)
    CO_CK(cudaMemcpy(K->h[k], d[k], sizeof(float) * co_len(B, K, k), cudaMemcpyDeviceToHost));
  CO_CK(cudaMemcpy(K->V, dV, sizeof(float) * (size_t)np, cudaMemcpyDeviceToHost));
  CO_CK(cudaMemcpy(K->vstat, dvs, 2 * sizeof(float) * (size_t)np, cudaMemcpyDeviceToHost));
#undef CO_CK
  for (int k = 0; k < CO_N; k++) cudaFree(d[k]);
  cudaFree(ddims); cudaFree(dV); cudaFree(dvs); cudaFree(dgV); cudaFree(dw);
  if (e != cudaSuccess) fprintf(stderr, "test_sw_cuda: cell order run: %s\n", cudaGetErrorString(e));
  return e != cudaSuccess;
}

/* lac_cuda_sw_cell_index: a bijection of each pair's n x ld block (shapes with strips of 1
 * to 8, full and partial bands, n below and above 32), and -1 outside it */
static void check_cell_index(void) {
  static const int shapes[][2] = {{1, 1}, {5, 31}, {40, 64}, {33, 200}, {300, 300}, {7, 1024}};
  for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
    const int n = shapes[t][0], m = shapes[t][1], ld = (m + 7) & ~7;
    const lac_cuda_sw_dims d = {0, 0, n, m, ld, 0};
    const size_t cells = (size_t)n * ld;
    unsigned char *seen = calloc(cells, 1);
    int bad = 0;
    for (int i = 0; i < n; i++)
      for (int j = 0; j < ld; j++) {
        const long long a = lac_cuda_sw_cell_index(&d, i, j);
        if (a < 0 || (size_t)a >= cells || seen[a]++) bad++;
      }
    CHECK(bad == 0, "lac_cuda_sw_cell_index: %d cells of %d x %d (ld %d) outside the block or "
          "shared", bad, n, m, ld);
    CHECK(lac_cuda_sw_cell_index(&d, n, 0) == -1 && lac_cuda_sw_cell_index(&d, 0, ld) == -1 &&
              lac_cuda_sw_cell_index(&d, -1, 0) == -1 && lac_cuda_sw_cell_index(NULL, 0, 0) == -1,
          "lac_cuda_sw_cell_index of %d x %d: a cell outside the block is not refused", n, m);
    free(seen);
  }
  const lac_cuda_sw_dims odd = {0, 0, 4, 10, 12, 0}; /* ld not a multiple of 8 */
  CHECK(lac_cuda_sw_cell_index(&odd, 0, 0) == -1, "lac_cuda_sw_cell_index: ld 12 not refused");
}

/* an order other than LAC_CUDA_SW_ROWS / _CELLS / _CELLS_XEDGE / _CELLS_XYEDGE, kernel
 * settings out of range, or settings that LAC_CUDA_SW_CELLS_XYEDGE cannot run (strips of 4,
 * several warps per pair): cudaErrorInvalidValue from the launchers (on the GPU) and their
 * emulation, with nothing written; NULL settings run with the defaults */
static void check_refusals(int gpu) {
  const lac_cuda_sw_dims d = {0, 0, 2, 3, 8, 0};
  float S[16] = {0}, M[16], X[16], Y[16], dS[16], go = 1.0f, ge = 0.5f, V = -7.0f, vs[2] = {0},
        dgo = 0, dge = 0, work[20];
  for (int t = 0; t < 16; t++) M[t] = dS[t] = -7.0f;
  const lac_cuda_sw_opts def = lac_cuda_sw_default_opts();
  lac_cuda_sw_opts bad_ko[8] = {def, def, def, def, def, def, def, def};
  bad_ko[0].fwd_wmax = 6;
  bad_ko[1].bwd_wmax = 2;
  bad_ko[2].warps = 3;
  bad_ko[3].warps = 16;
  bad_ko[4].skew_min_pairs = -1;
  bad_ko[5].fwd_wmax = 4; /* allowed, but not with the Y checkpoints */
  bad_ko[6].bwd_wmax = 4;
  bad_ko[7].warps = 2;
  for (int t = 0; t < 10; t++) {
    /* t < 2: orders -1 and 4 with the defaults; then valid orders with bad settings; t >= 7:
     * the Y checkpoints with settings that other orders run */
    const int order = t == 0 ? -1 : t == 1 ? 4 : t < 7 ? t % 4 : LAC_CUDA_SW_CELLS_XYEDGE;
    const lac_cuda_sw_opts *ko = t < 2 ? NULL : &bad_ko[t - 2];
    const int ef = lac_cuda_sw_emulate_forward(1, &d, 3, order, ko, 1.0f, 0, S, &go, &ge, M, X,
                                               Y, &V, vs);
    const int eb = lac_cuda_sw_emulate_backward(1, &d, 3, order, ko, 1.0f, 0, &go, &ge, M, X, Y,
                                                vs, NULL, NULL, dS, &dgo, &dge, work);
    CHECK(ef == (int)cudaErrorInvalidValue && eb == (int)cudaErrorInvalidValue && V == -7.0f &&
              M[0] == -7.0f && dS[0] == -7.0f,
          "emulation with order %d, settings %d: %d / %d (expected cudaErrorInvalidValue), "
          "outputs %s", order, t - 2, ef, eb,
          V == -7.0f && M[0] == -7.0f && dS[0] == -7.0f ? "kept" : "written");
    if (gpu) {
      /* refused before anything touches the (here host) pointers */
      const int gf = lac_cuda_sw_forward(1, &d, 3, order, ko, 1.0f, 0, S, &go, &ge, M, X, Y, &V,
                                         vs, NULL);
      const int gb = lac_cuda_sw_backward(1, &d, 3, order, ko, 1.0f, 0, &go, &ge, M, X, Y, vs,
                                          NULL, NULL, dS, &dgo, &dge, work, NULL);
      CHECK(gf == (int)cudaErrorInvalidValue && gb == (int)cudaErrorInvalidValue,
            "launchers with order %d, settings %d: %d / %d, expected cudaErrorInvalidValue",
            order, t - 2, gf, gb);
    }
    if (t >= 2 && t < 7)
      CHECK(!lac_cuda_sw_opts_valid(ko) && lac_cuda_sw_launch_warps(ko, 8, 1024, 1) == -1,
            "settings %d accepted", t - 2);
  }
  CHECK(!lac_cuda_sw_opts_valid(NULL) && lac_cuda_sw_opts_valid(&def) && def.fwd_wmax == 8 &&
            def.bwd_wmax == 8 && def.warps == 0 && def.skew_min_pairs == 512,
        "lac_cuda_sw_default_opts: %d/%d, warps %d, skew from %d", def.fwd_wmax, def.bwd_wmax,
        def.warps, def.skew_min_pairs);
  /* the defaults with NULL: the same bits as with the default settings given */
  float V2 = -7.0f, M2[16], X2[16], Y2[16], vs2[2];
  const int e1 = lac_cuda_sw_emulate_forward(1, &d, 3, 0, NULL, 1.0f, 0, S, &go, &ge, M, X, Y, &V,
                                             vs);
  const int e2 = lac_cuda_sw_emulate_forward(1, &d, 3, 0, &def, 1.0f, 0, S, &go, &ge, M2, X2, Y2,
                                             &V2, vs2);
  CHECK(e1 == 0 && e2 == 0 && memcmp(&V, &V2, sizeof V) == 0 && memcmp(M, M2, 3 * sizeof *M) == 0,
        "emulated forward with NULL settings: %d, with the defaults: %d, V %g / %g", e1, e2,
        (double)V, (double)V2);
}

/* skew_min_pairs is honoured: a row-major launch of one pair keeps X and Y row-major with the
 * default (from 512 pairs on) and in the warp's order with 0, the same values bit for bit at
 * lac_cuda_sw_cell_index's cells (emulation) */
static void check_skew_setting(void) {
  const int n = 40, m = 300, ld = 304;
  const lac_cuda_sw_dims d = {0, 0, n, m, ld, 0};
  const size_t c = (size_t)n * ld;
  float *buf = fmalloc(9 * c), V[2], vs[4];
  float *S = buf, *go = buf + c, *ge = buf + 2 * c, *M[2] = {buf + 3 * c, buf + 4 * c},
        *X[2] = {buf + 5 * c, buf + 6 * c}, *Y[2] = {buf + 7 * c, buf + 8 * c};
  for (size_t t = 0; t < c; t++) {
    S[t] = frand(-1.0f, 1.0f);
    go[t] = frand(0.4f, 1.6f);
    ge[t] = frand(0.02f, 0.4f);
  }
  lac_cuda_sw_opts ko = lac_cuda_sw_default_opts();
  int rc = 0;
  for (int k = 0; k < 2; k++) {
    ko.skew_min_pairs = k ? 0 : 512;
    rc |= lac_cuda_sw_emulate_forward(1, &d, m, LAC_CUDA_SW_ROWS, &ko, 0.8f, 1, S, go, ge, M[k],
                                      X[k], Y[k], &V[k], &vs[2 * k]);
  }
  int bad = 0, moved = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++) {
      const size_t r = (size_t)i * ld + j, w = (size_t)lac_cuda_sw_cell_index(&d, i, j);
      bad += memcmp(&X[0][r], &X[1][w], sizeof(float)) != 0 ||
             memcmp(&Y[0][r], &Y[1][w], sizeof(float)) != 0 ||
             memcmp(&M[0][r], &M[1][r], sizeof(float)) != 0;
      moved += r != w && memcmp(&X[0][r], &X[1][r], sizeof(float)) != 0;
    }
  CHECK(rc == 0 && bad == 0 && moved > 0 && memcmp(&V[0], &V[1], sizeof(float)) == 0,
        "skew_min_pairs 0 vs 512 on one pair of %d x %d: launches %d, %d cells differ, X moved "
        "at %d cells", n, m, rc, bad, moved);
  free(buf);
}

/* returns the number of pairs whose results differ in order (LAC_CUDA_SW_CELLS,
 * LAC_CUDA_SW_CELLS_XEDGE or LAC_CUDA_SW_CELLS_XYEDGE) from row-major */
static int check_cell_order_one(const batch *B, int order, const lac_cuda_sw_opts *ko, int gpu) {
  co_pack R, W;
  co_pack_make(B, LAC_CUDA_SW_ROWS, ko, &R);
  co_pack_make(B, order, ko, &W);
  int fails = co_run(B, &R, gpu);
  fails += co_run(B, &W, gpu);
  CHECK(fails == 0, "%s: a launch of the cell order check (order %d) failed",
        gpu ? "gpu" : "emu", order);
  for (int p = 0; p < B->np && !fails; p++) {
    const lac_cuda_sw_dims *d = &R.dims[p];
    int bad = memcmp(&R.V[p], &W.V[p], sizeof(float)) != 0 ||
              memcmp(&R.vstat[2 * p], &W.vstat[2 * p], 2 * sizeof(float)) != 0;
    const char *what = bad ? "V" : NULL;
    const int outs[4] = {CO_M, CO_DS, CO_DGO, CO_DGE};
    for (int o = 0; o < 4 && !bad; o++) {
      const int k = outs[o];
      if (co_len(B, &R, k) == (size_t)B->np) { /* scalar gaps: one per pair */
        bad = memcmp(&R.h[k][p], &W.h[k][p], sizeof(float)) != 0;
      } else {
        for (int i = 0; i < d->n && !bad; i++)
          for (int j = 0; j < d->m && !bad; j++)
            bad = memcmp(&R.h[k][co_at(d, 0, i, j)], &W.h[k][co_at(d, 1, i, j)],
                         sizeof(float)) != 0;
      }
      if (bad) what = co_name[k];
    }
    if (!bad && order == LAC_CUDA_SW_CELLS_XYEDGE && d->m > 128) {
      /* the checkpoints are in use where their table fits in the pair's Y block (a slot of
       * 9 x 32 floats per band, every 4th row of (n + 33) / 4 + 1 slots: kernels/sw_affine.cu,
       * pair_shape): then most of the Y table keeps its poison (a slot every 4th row of each
       * strip of 8: about 9 / 32 of the cells written), else every cell of the pair is
       * written (the X edges' order) */
      const size_t cells = (size_t)d->n * d->ld, nb = (size_t)(d->m + 255) / 256;
      const int fits = nb * (size_t)((d->n + 33) / 4 + 1) * 288 <= cells;
      size_t written = 0;
      for (size_t t = 0; t < cells; t++) written += !isnan(W.h[CO_Y][d->off + t]);
      CHECK(fits ? written * 3 < cells : written >= (size_t)d->n * d->m,
            "%s: pair %d (%d x %d): %zu of %zu cells of the Y table written with the Y "
            "checkpoints (the table %s)", gpu ? "gpu" : "emu", p, d->n, d->m, written, cells,
            fits ? "fits: expected fewer than a third" : "does not fit: expected all");
    }
    CHECK(!bad, "%s: pair %d (%d x %d): %s in the warp's order%s differs from row-major",
          gpu ? "gpu" : "emu", p, d->n, d->m, what,
          order == LAC_CUDA_SW_CELLS_XEDGE    ? " with the X edges"
          : order == LAC_CUDA_SW_CELLS_XYEDGE ? " with the X edges and Y checkpoints"
                                              : "");
    fails += bad;
  }
  co_pack_free(&R);
  co_pack_free(&W);
  return fails;
}

/* the other orders against row-major.  With the X edges the X table's other cells keep their
 * NaN poison (co_pack_make), and with the Y checkpoints the Y table's, so a backward that
 * read one of them instead of recomputing it would differ.  The Y checkpoints run only with
 * strips of 8 both ways on one warp per pair (check_refusals), warps 0 as 1: row-major runs
 * with 1 then, since V's sum follows the warps' strips */
static int check_cell_order(const batch *B, const lac_cuda_sw_opts *ko, int gpu) {
  int f = check_cell_order_one(B, LAC_CUDA_SW_CELLS, ko, gpu) +
          check_cell_order_one(B, LAC_CUDA_SW_CELLS_XEDGE, ko, gpu);
  if (ko->fwd_wmax == 8 && ko->bwd_wmax == 8 && ko->warps <= 1) {
    lac_cuda_sw_opts one = *ko;
    one.warps = 1;
    f += check_cell_order_one(B, LAC_CUDA_SW_CELLS_XYEDGE, &one, gpu);
  }
  return f;
}

/* argument checks (lengths, tau and NULLs run before anything touches the device; the
 * values are checked while packing into the backend's pinned staging) */
static void check_args(lac_backend *gpu, int emulate_args) {
  float S[4] = {1, 2, 3, 4}, go = 1, ge = 0.1f, V;
  lac_sw_pair p = {2, 2, S, &go, &ge};
  lac_sw_options o = {0.5f, 0};
  lac_error err;
  lac_status st;
#define RUN(b)                                                                               \
  ((b) ? lac_cuda_sw((b), &o, 1, &p, &V, NULL, NULL, NULL, NULL, NULL, NULL, &err)           \
       : lac_cuda_sw_emulated(NULL, &o, 1, &p, &V, NULL, NULL, NULL, NULL, NULL, NULL, &err))
  {
    lac_cuda_sw_opts bad = lac_cuda_sw_default_opts();
    bad.bwd_wmax = 16;
    st = lac_cuda_sw_emulated(&bad, &o, 1, &p, &V, NULL, NULL, NULL, NULL, NULL, NULL, &err);
    CHECK(st == LAC_ERR_INVALID_ARG && strstr(err.message, "16"),
          "emulated with a backward strip width of 16 gave %s (%s)", lac_status_string(st),
          err.message);
  }
  o.tau = 0.0f;
  st = RUN(gpu);
  CHECK(st == LAC_ERR_UNSUPPORTED, "tau = 0 gave %s", lac_status_string(st));
  o.tau = -1.0f;
  st = RUN(gpu);
  CHECK(st == LAC_ERR_INVALID_ARG, "tau < 0 gave %s", lac_status_string(st));
  o.tau = 0.5f;
  p.n = 1025;
  st = RUN(gpu);
  CHECK(st == LAC_ERR_INVALID_ARG, "n = 1025 gave %s", lac_status_string(st));
  p.n = 2;
  S[3] = NAN;
  st = RUN(gpu);
  CHECK(st == LAC_ERR_NUMERIC, "NaN in S gave %s", lac_status_string(st));
  S[3] = 4;
  go = INFINITY;
  st = RUN(gpu);
  CHECK(st == LAC_ERR_NUMERIC, "infinite go gave %s", lac_status_string(st));
  go = 1;
  st = RUN(gpu);
  CHECK_OK(st, &err);
#undef RUN
  /* a batch large enough to be packed on several threads (cuda_align.c, PACK_PAR_CELLS): a
   * bad value deep in the second pair's per-cell ge, then one of exactly 1e20 in its gM,
   * each reported with its pair and cell */
  {
    const int n = 300, m = 300;
    const size_t c = (size_t)n * m;
    float *buf[6];
    for (int k = 0; k < 6; k++) buf[k] = fmalloc(c);
    for (size_t t = 0; t < c; t++) {
      buf[0][t] = buf[3][t] = 0.1f * (float)(t % 7);
      buf[1][t] = buf[4][t] = 1.0f;
      buf[2][t] = buf[5][t] = 0.1f;
    }
    lac_sw_pair big[2] = {{n, m, buf[0], buf[1], buf[2]}, {n, m, buf[3], buf[4], buf[5]}};
    lac_sw_options oc = {0.8f, 1};
    float Vb[2], gVb[2] = {1.0f, 1.0f}, *dSb[2] = {fmalloc(c), fmalloc(c)};
    float *gMb = fmalloc(c);
    for (size_t t = 0; t < c; t++) gMb[t] = 0.5f;
    const float *gMs[2] = {NULL, gMb};
    for (int g = 0; g < 2; g++) {
      if (g == 0 ? !emulate_args : !gpu) continue;
      lac_backend *b = g ? gpu : NULL;
#define RUN_BIG(gm)                                                                             \
  (b ? lac_cuda_sw(b, &oc, 2, big, Vb, NULL, gVb, (gm), dSb, NULL, NULL, &err)                \
     : lac_cuda_sw_emulated(NULL, &oc, 2, big, Vb, NULL, gVb, (gm), dSb, NULL, NULL, &err))
      buf[5][(size_t)123 * m + 45] = NAN;
      st = RUN_BIG(NULL);
      CHECK(st == LAC_ERR_NUMERIC && strstr(err.message, "pair 1") &&
                strstr(err.message, "ge[123][45]"),
            "%s: NaN in a large batch's ge gave %s: %s", g ? "gpu" : "emu", lac_status_string(st),
            err.message);
      buf[5][(size_t)123 * m + 45] = 0.1f;
      gMb[(size_t)299 * m + 7] = 1e20f;
      st = RUN_BIG(gMs);
      CHECK(st == LAC_ERR_NUMERIC && strstr(err.message, "pair 1") &&
                strstr(err.message, "gM[299][7]"),
            "%s: gM = 1e20 in a large batch gave %s: %s", g ? "gpu" : "emu",
            lac_status_string(st), err.message);
      gMb[(size_t)299 * m + 7] = 0.5f;
      st = RUN_BIG(gMs);
      CHECK_OK(st, &err);
#undef RUN_BIG
    }
    for (int k = 0; k < 6; k++) free(buf[k]);
    free(dSb[0]);
    free(dSb[1]);
    free(gMb);
  }
  if (gpu) {
    lac_backend_params bp = lac_backend_default_params();
    lac_backend *cpu = NULL;
    if (lac_backend_new(&bp, &cpu, &err) == LAC_OK) {
      st = lac_cuda_sw(cpu, &o, 1, &p, &V, NULL, NULL, NULL, NULL, NULL, NULL, &err);
      CHECK(st == LAC_ERR_INVALID_ARG, "a CPU backend gave %s", lac_status_string(st));
      lac_backend_free(cpu);
    }
  }
}

int main(int argc, char **argv) {
  cuda_test_mode mode;
  const int rc = cuda_test_args("test_sw_cuda", argc, argv, &mode);
  if (rc >= 0) return rc;
  const int emulate = mode.emulate;
  const int emulation_only = mode.emulation_only, have_gpu = mode.have_gpu;
  lac_backend *gpu = NULL;
  lac_error err;
  if (have_gpu) {
    lac_backend_params p = lac_backend_default_params();
    p.kind = LAC_BACKEND_CUDA;
    CHECK_OK(lac_backend_new(&p, &gpu, &err), &err);
    if (!gpu) return test_exit("test_sw_cuda");
    lac_cuda_backend_set_poison(gpu, 1);
    struct cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
      printf("test_sw_cuda: device %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
  } else {
    printf("test_sw_cuda: no CUDA device: checking the kernels' CPU emulation only\n");
  }
  printf("tolerances: V %.0e*L*R, M %.0e*L*R, dS/dgo/dge %.0e*L*R (L = n+m+8, R = max(1, tau, "
         "max|ref|)); err/tol <= 1 passes, (abs err, shape) of the worst pair\n",
         TOL_V, TOL_M, TOL_G);
  /* runs (kernel settings lac_cuda_sw_opts, given to the emulation and set on the backend):
   * per_cell x tau with the default strip widths (8/8), then two with the narrower widths
   * (more bands per pair: m > 128 has 2-8 of them); the last four again with X, Y in the
   * warp's order (skew_min_pairs 0; by default only launches of 512 pairs or more use it),
   * including strips of 4 in a layout of 8; the last four with several warps per pair (8; 2
   * with strips of 4, where the 1024-column pairs run 8 bands in 4 rounds and reuse every
   * scratch slot; 4 in the warp's order; 0, by the pair count) */
  const struct {
    int per_cell;
    float tau;
    int fw, bw, skew, warps;
  } runs[] = {{0, 0.1f, 8, 8, 0, 1}, {0, 0.8f, 8, 8, 0, 1}, {0, 2.0f, 8, 8, 0, 1},
              {1, 0.1f, 8, 8, 0, 1}, {1, 0.8f, 8, 8, 0, 1}, {1, 2.0f, 8, 8, 0, 1},
              {1, 0.8f, 4, 4, 0, 1}, {0, 2.0f, 8, 4, 0, 1}, {1, 0.8f, 8, 8, 1, 1},
              {0, 2.0f, 8, 8, 1, 1}, {1, 0.8f, 4, 4, 1, 1}, {1, 0.8f, 8, 4, 1, 1},
              {1, 0.8f, 8, 8, 0, 8}, {0, 2.0f, 4, 4, 0, 2}, {1, 0.1f, 8, 4, 1, 4},
              {0, 0.8f, 8, 8, 0, 0}};
  const int n_runs = (int)(sizeof runs / sizeof runs[0]);
  int fails_emu = 0, fails_gpu = 0;
  double worst_emu[O_N] = {0}, worst_gpu[O_N] = {0};
  for (int run = 0; run < n_runs; run++) {
    const int per_cell = runs[run].per_cell;
    const float tau = runs[run].tau;
    const lac_cuda_sw_opts ko = {runs[run].fw, runs[run].bw, runs[run].warps,
                                 runs[run].skew ? 0 : 512};
    if (gpu) CHECK(lac_cuda_backend_set_sw_opts(gpu, &ko) == 0, "lac_cuda_backend_set_sw_opts");
    batch B;
    batch_make(&B, run, per_cell, tau);
    double t0 = now();
    reference(&B);
    int max_m = 0;
    for (int p = 0; p < B.np; p++) max_m = B.pairs[p].m > max_m ? B.pairs[p].m : max_m;
    printf("run %d: per_cell=%d tau=%g, strip widths <= %d (forward) / %d (backward), X/Y %s, "
           "%d warp(s) per pair, %d pairs, reference %.2fs\n",
           run, per_cell, (double)tau, runs[run].fw, runs[run].bw,
           runs[run].skew ? "in the warp's order" : "row-major",
           lac_cuda_sw_launch_warps(&ko, B.np, max_m, per_cell), B.np, now() - t0);
    score sc;
    struct {
      const char *label;
      runner fn;
      void *ctx;
      int on;
      int *fails;
      double *worst;
    } rs[2] = {{"emu", run_emu, (void *)&ko, emulate, &fails_emu, worst_emu},
               {"gpu", run_gpu, gpu, have_gpu, &fails_gpu, worst_gpu}};
    for (int r = 0; r < 2; r++) {
      if (!rs[r].on) continue;
      poison(&B);
      t0 = now();
      const lac_status st = rs[r].fn(rs[r].ctx, &B, &err);
      const double secs = now() - t0;
      CHECK_OK(st, &err);
      if (st != LAC_OK) {
        (*rs[r].fails)++;
        continue;
      }
      const int f = compare(&B, rs[r].label, &sc);
      CHECK(f == 0, "%s: %d outputs out of tolerance (run %d: per_cell=%d tau=%g)", rs[r].label,
            f, run, per_cell, (double)tau);
      *rs[r].fails += f;
      for (int o = 0; o < O_N; o++)
        if (!(sc.worst[o] <= rs[r].worst[o])) rs[r].worst[o] = sc.worst[o];
      print_score(&B, rs[r].label, &sc, secs);
      if (r == 1) {
        check_single(gpu, &B, &ko, lac_cuda_sw_launch_warps(&ko, B.np, max_m, per_cell));
        lac_cuda_backend_set_sw_opts(gpu, &ko);
      }
    }
    /* every per-cell buffer in the warp's order = row-major, bit for bit, with this run's
     * settings: strips 8/8, 1 warp, row-major X/Y (run 4); X/Y in the warp's order (9);
     * strips 8/4 on 1 warp (11); 4/4 on 2 warps (13); 8/4 on 4 warps, X/Y in the warp's
     * order (14); scalar gaps, warps by the pair count (15).  With the X edges, the
     * backward's strips of 4 (11, 13, 14) recompute the X at their left from the edge before;
     * the Y checkpoints run on 4, 9 and 15 (one warp, strips of 8) */
    if (run == 4 || run == 9 || run == 11 || run == 13 || run == 14 || run == 15) {
      if (emulate) fails_emu += check_cell_order(&B, &ko, 0);
      if (have_gpu) fails_gpu += check_cell_order(&B, &ko, 1);
    }
    batch_free(&B);
  }
  if (gpu) {
    /* the backend's settings: refused out of range (kept), NULL = the defaults */
    lac_cuda_sw_opts one = lac_cuda_sw_default_opts(), bad = one;
    one.warps = 1;
    bad.warps = 3;
    CHECK(lac_cuda_backend_set_sw_opts(gpu, &one) == 0 &&
              lac_cuda_backend_set_sw_opts(gpu, &bad) == -1 &&
              lac_cuda_backend_set_sw_opts(NULL, &one) == -1,
          "lac_cuda_backend_set_sw_opts accepts warps 1 and refuses warps 3 and no backend");
    lac_cuda_scratch sc;
    CHECK(lac_cuda_backend_scratch(gpu, 0, 0, &sc) == 0 && sc.sw.warps == 1,
          "the backend keeps its settings after a refused change");
    CHECK(lac_cuda_backend_set_sw_opts(gpu, NULL) == 0 &&
              lac_cuda_backend_scratch(gpu, 0, 0, &sc) == 0 && sc.sw.warps == 0 &&
              sc.sw.skew_min_pairs == 512,
          "lac_cuda_backend_set_sw_opts(NULL) restores the defaults");
  }
  /* the default rule (kernels/sw_affine.cu, sw_launch_warps): pairs, widest m, per-cell gaps
   * -> warps per pair; a setting overrides it */
  lac_cuda_sw_opts four = lac_cuda_sw_default_opts();
  four.warps = 4;
  CHECK(lac_cuda_sw_launch_warps(&four, 4096, 64, 1) == 4, "warps 4 set, launch of 4096 x 64");
  static const int rule[][4] = {
      {8, 64, 1, 1},     {8, 128, 0, 1},    {8, 255, 1, 1},     {8, 256, 1, 2},
      {8, 511, 0, 2},    {8, 512, 0, 4},    {8, 1024, 1, 4},    {64, 512, 1, 4},
      {65, 512, 1, 2},   {256, 256, 0, 1},  {256, 512, 1, 2},   {256, 1024, 0, 2},
      {257, 512, 1, 1},  {1024, 512, 0, 2}, {1024, 1024, 1, 1}, {1025, 1024, 0, 1},
      {4096, 512, 0, 1}, {8, 0, 1, 1},
  };
  for (size_t k = 0; k < sizeof rule / sizeof rule[0]; k++)
    CHECK(lac_cuda_sw_launch_warps(NULL, rule[k][0], rule[k][1], rule[k][2]) == rule[k][3],
          "default warps per pair for %d pairs, widest %d, per_cell %d: %d, expected %d",
          rule[k][0], rule[k][1], rule[k][2],
          lac_cuda_sw_launch_warps(NULL, rule[k][0], rule[k][1], rule[k][2]), rule[k][3]);
  /* the measured order rule (kernels/sw_affine.cu, lac_cuda_sw_best_order): pairs, widest m
   * -> LAC_CUDA_SW_CELLS from 2^22 cells of the widest square on, LAC_CUDA_SW_CELLS_XEDGE
   * from 1024 pairs wider than 128 columns on (0 rows, 1 cells, 2 X edges) */
  static const int orule[][3] = {
      {8, 512, 0},    {8, 1024, 1},   {256, 64, 0},   {256, 127, 0},  {256, 128, 1},
      {1023, 64, 0},  {1024, 64, 1},  {4096, 32, 1},  {4096, 31, 0},  {1, 1024, 0},
      {0, 1024, 0},   {1024, 0, 0},   {16, 1024, 1},  {4, 1024, 1},   {3, 1024, 0},
      {256, 1024, 1}, {1023, 256, 1}, {1024, 128, 1}, {1024, 129, 2}, {1024, 256, 2},
      {4096, 512, 2}, {4096, 128, 1}, {2048, 129, 2}, {-1, 256, 0},
  };
  static const int order_of[3] = {LAC_CUDA_SW_ROWS, LAC_CUDA_SW_CELLS,
                                  LAC_CUDA_SW_CELLS_XEDGE};
  for (size_t k = 0; k < sizeof orule / sizeof orule[0]; k++)
    CHECK(lac_cuda_sw_best_order(orule[k][0], orule[k][1]) == order_of[orule[k][2]],
          "best order for %d pairs, widest %d: %d, expected %d", orule[k][0], orule[k][1],
          lac_cuda_sw_best_order(orule[k][0], orule[k][1]), order_of[orule[k][2]]);
  check_refusals(have_gpu);
  check_skew_setting();
  check_args(gpu, emulate);
  check_cell_index();
  printf("summary: largest err/tol over all runs:");
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 0 ? !emulate : !have_gpu) continue;
    printf("  %s", pass == 0 ? "emulation" : "GPU");
    for (int o = 0; o < O_N; o++)
      printf(" %s %.2g", o_name[o], pass == 0 ? worst_emu[o] : worst_gpu[o]);
    printf(" (%d failures);", pass == 0 ? fails_emu : fails_gpu);
  }
  printf("\n");
  if (gpu) lac_backend_free(gpu);
  if (!have_gpu && !emulation_only) {
    const int rc = test_exit("test_sw_cuda (emulation)");
    if (rc) return rc;
    printf("test_sw_cuda: no CUDA device: GPU part skipped\n");
    return 77;
  }
  return test_exit(emulation_only ? "test_sw_cuda (emulation)" : "test_sw_cuda");
}
