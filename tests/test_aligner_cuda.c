/* test_aligner_cuda.c — lac_aligner's CUDA path (lib/align/sw_cpu.c dispatching to
 * lac_cuda_sw_state, lib/cuda/cuda_align.c): a soft forward that keeps the packed inputs and
 * the tables on the device, then backwards that upload only gV / gM.
 *
 * The aligner under test runs through the emulation hook (lac_aligner_use_cuda_emulation:
 * host memory, the kernels' per-lane code on the CPU) always, and through
 * lac_aligner_params.backend = a CUDA backend when a GPU is present.  For each of 4 batches
 * (scalar and per-cell penalties x tau 0.3, 1; 26 pairs of 1x1 .. 300x257, n != m for most):
 *  - forward: V and M against the double reference (lib/align/sw_ref.c) and against a CPU
 *    aligner (lac_aligner_new with default params), M[p] NULL for some pairs;
 *  - four backwards of that one forward with different gV / gM (NULL gV, NULL gM, gM[p] NULL
 *    for some pairs) and outputs (NULL arrays, NULL per pair): dS, dgo, dge against the
 *    reference and the CPU aligner; outputs passed as NULL must stay untouched; the fourth
 *    repeats the first and must give the same bits (the backward leaves the kept tables
 *    intact); the first must equal lac_cuda_sw's one-shot forward + backward bit for bit
 *    (same packing, same kernels);
 *  - a second forward with other sizes (and no M asked), then a backward: against the
 *    reference (every output and table is NaN-poisoned before each kernel run, so a stale
 *    table of the first forward would show);
 * and: tau = 0 on the CUDA-path aligner gives the CPU aligner's hard V, M, path and gradient
 * bit for bit; lac_sw_path after a soft forward fails as on the CPU; a backward before any
 * forward, or after a failed one, fails; a pair longer than 1024 is LAC_ERR_UNSUPPORTED with
 * a message naming the CPU aligner; NaN in S or gM is LAC_ERR_NUMERIC; a CPU backend in
 * lac_aligner_params.backend gives the CPU path.
 *
 * Tolerances: the model of tests/test_sw_cuda.c (float32 against double, size-scaled): with
 * L = n + m + 8 and R = max(1, tau, max |ref|) of the compared array,
 *   V, M:         max |x - ref| <= 4e-7 * L * R
 *   dS, dgo, dge: max |d - dref| <= 4e-6 * L * R
 * and the same bounds against the CPU float aligner (R from the CPU aligner's values).  The
 * run prints the largest err/tol per output and oracle (<= 1 passes).
 *
 * Without a GPU the test exits 77 (skipped) when the emulation part passed, 1 when it failed.
 */
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "align/sw_cpu.h"
#include "align/sw_ref.h"
#include "kernels.h"
#include "lac_internal.h"
#include "testutil.h"
#include "testutil_cuda.h"

#define TOL_V 4e-7
#define TOL_M 4e-7
#define TOL_G 4e-6
#define MAXP 32

/* ---------------------------------------------------------------- random numbers */

static uint64_t rng_s = 0x243f6a8885a308d3ull;
static double urand(void) { return test_urand(&rng_s); }
static float frand(float lo, float hi) { return lo + (hi - lo) * (float)urand(); }

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "test_aligner_cuda: out of memory\n");
    exit(1);
  }
  return p;
}
static float *fnan(size_t n) { /* NaN-filled */
  float *p = xmalloc(sizeof(float) * n);
  for (size_t t = 0; t < n; t++) p[t] = NAN;
  return p;
}

/* ---------------------------------------------------------------- a batch and its reference */

typedef struct {
  int np, pc;
  float tau;
  lac_sw_pair pairs[MAXP];
  float *S[MAXP], *go[MAXP], *ge[MAXP];
  double Vr[MAXP], *Mr[MAXP], *Xr[MAXP], *Yr[MAXP]; /* reference forward */
} batch;

static size_t cells(const batch *B, int p) { return (size_t)B->pairs[p].n * B->pairs[p].m; }
static size_t gcnt(const batch *B, int p) { return B->pc ? cells(B, p) : 1; }

static void batch_make(batch *B, int pc, float tau, int np, const int (*shape)[2]) {
  memset(B, 0, sizeof *B);
  B->np = np;
  B->pc = pc;
  B->tau = tau;
  for (int p = 0; p < np; p++) {
    const int n = shape[p][0], m = shape[p][1];
    const size_t c = (size_t)n * m, g = pc ? c : 1;
    B->S[p] = xmalloc(sizeof(float) * c);
    B->go[p] = xmalloc(sizeof(float) * g);
    B->ge[p] = xmalloc(sizeof(float) * g);
    /* noise plus a band of high similarity along a slope */
    const double slope = (double)m / n, shift = urand() * 0.3 * m;
    for (int i = 0; i < n; i++)
      for (int j = 0; j < m; j++)
        B->S[p][(size_t)i * m + j] =
            frand(-1.0f, 0.6f) + (fabs(j - shift - slope * i) < 2.0 ? 1.5f : 0.0f);
    for (size_t t = 0; t < g; t++) {
      B->go[p][t] = frand(0.4f, 1.6f);
      B->ge[p][t] = frand(0.02f, 0.4f);
    }
    B->pairs[p] = (lac_sw_pair){n, m, B->S[p], B->go[p], B->ge[p]};
    /* the reference forward, in double */
    double *Sd = xmalloc(sizeof(double) * c), *god = xmalloc(sizeof(double) * g),
           *ged = xmalloc(sizeof(double) * g);
    for (size_t t = 0; t < c; t++) Sd[t] = B->S[p][t];
    for (size_t t = 0; t < g; t++) god[t] = B->go[p][t], ged[t] = B->ge[p][t];
    B->Mr[p] = xmalloc(sizeof(double) * c);
    B->Xr[p] = xmalloc(sizeof(double) * c);
    B->Yr[p] = xmalloc(sizeof(double) * c);
    B->Vr[p] = lac_sw_ref_forward(n, m, Sd, god, ged, pc, tau, B->Mr[p], B->Xr[p], B->Yr[p]);
    free(Sd);
    free(god);
    free(ged);
  }
}

static void batch_free(batch *B) {
  for (int p = 0; p < B->np; p++) {
    free(B->S[p]); free(B->go[p]); free(B->ge[p]);
    free(B->Mr[p]); free(B->Xr[p]); free(B->Yr[p]);
  }
}

/* one set of incoming gradients and wanted outputs */
typedef struct {
  int use_gV, use_gM, want_dS, want_dgo, want_dge;
  float gV[MAXP], *gM[MAXP];          /* gM[p] NULL for some pairs */
  int dS_skip_odd;                    /* dS[p] = NULL for odd p */
} grads;

static void grads_make(const batch *B, grads *G, int use_gV, int use_gM, int gM_holes,
                       int want_dS, int dS_skip_odd, int want_dgo, int want_dge) {
  memset(G, 0, sizeof *G);
  G->use_gV = use_gV;
  G->use_gM = use_gM;
  G->want_dS = want_dS;
  G->dS_skip_odd = dS_skip_odd;
  G->want_dgo = want_dgo;
  G->want_dge = want_dge;
  for (int p = 0; p < B->np; p++) {
    G->gV[p] = p % 7 == 3 ? 0.0f : frand(-1.0f, 1.0f);
    if (use_gM && !(gM_holes && p % 5 == 2)) {
      G->gM[p] = xmalloc(sizeof(float) * cells(B, p));
      for (size_t t = 0; t < cells(B, p); t++) G->gM[p][t] = frand(-1.0f, 1.0f);
    }
  }
}

static void grads_free(const batch *B, grads *G) {
  for (int p = 0; p < B->np; p++) free(G->gM[p]);
}

/* gradient outputs (NaN-poisoned before each call) and the reference ones */
typedef struct {
  float *dS[MAXP], *dgo[MAXP], *dge[MAXP];
} outs;

static void outs_make(const batch *B, outs *O) {
  for (int p = 0; p < B->np; p++) {
    O->dS[p] = fnan(cells(B, p));
    O->dgo[p] = fnan(gcnt(B, p));
    O->dge[p] = fnan(gcnt(B, p));
  }
}
static void outs_poison(const batch *B, outs *O) {
  for (int p = 0; p < B->np; p++) {
    for (size_t t = 0; t < cells(B, p); t++) O->dS[p][t] = NAN;
    for (size_t t = 0; t < gcnt(B, p); t++) O->dgo[p][t] = O->dge[p][t] = NAN;
  }
}
static void outs_free(const batch *B, outs *O) {
  for (int p = 0; p < B->np; p++) {
    free(O->dS[p]); free(O->dgo[p]); free(O->dge[p]);
  }
}

/* Calls lac_sw_backward with G's arrays (NULL where G says so) into O. */
static lac_status backward(lac_aligner *a, const batch *B, const grads *G, outs *O,
                           lac_error *err) {
  float *dS[MAXP];
  for (int p = 0; p < B->np; p++) dS[p] = G->dS_skip_odd && p % 2 ? NULL : O->dS[p];
  outs_poison(B, O);
  return lac_sw_backward(a, G->use_gV ? G->gV : NULL,
                         G->use_gM ? (const float *const *)G->gM : NULL, G->want_dS ? dS : NULL,
                         G->want_dgo ? O->dgo : NULL, G->want_dge ? O->dge : NULL, err);
}

typedef struct {
  double *dS[MAXP], *dgo[MAXP], *dge[MAXP];
} refgrads;

static void ref_backward(const batch *B, const grads *G, refgrads *R) {
  for (int p = 0; p < B->np; p++) {
    const int n = B->pairs[p].n, m = B->pairs[p].m;
    const size_t c = cells(B, p), g = gcnt(B, p);
    double *Sd = xmalloc(sizeof(double) * c), *god = xmalloc(sizeof(double) * g),
           *ged = xmalloc(sizeof(double) * g), *gMd = NULL;
    for (size_t t = 0; t < c; t++) Sd[t] = B->S[p][t];
    for (size_t t = 0; t < g; t++) god[t] = B->go[p][t], ged[t] = B->ge[p][t];
    if (G->use_gM && G->gM[p]) {
      gMd = xmalloc(sizeof(double) * c);
      for (size_t t = 0; t < c; t++) gMd[t] = G->gM[p][t];
    }
    R->dS[p] = xmalloc(sizeof(double) * c);
    R->dgo[p] = xmalloc(sizeof(double) * g);
    R->dge[p] = xmalloc(sizeof(double) * g);
    if (lac_sw_ref_backward(n, m, Sd, god, ged, B->pc, B->tau, B->Mr[p], B->Xr[p], B->Yr[p],
                            G->use_gV ? G->gV[p] : 0.0, gMd, R->dS[p], R->dgo[p],
                            R->dge[p]) != 0) {
      fprintf(stderr, "test_aligner_cuda: reference backward failed\n");
      exit(1);
    }
    free(Sd); free(god); free(ged); free(gMd);
  }
}

static void refgrads_free(const batch *B, refgrads *R) {
  for (int p = 0; p < B->np; p++) {
    free(R->dS[p]); free(R->dgo[p]); free(R->dge[p]);
  }
}

/* ---------------------------------------------------------------- comparisons */

enum { O_V, O_M, O_DS, O_DGO, O_DGE, O_N };
static const char *o_name[O_N] = {"V", "M", "dS", "dgo", "dge"};
enum { VS_REF, VS_CPU };

typedef struct {
  const char *label;
  double worst[2][O_N]; /* largest err / tolerance against the reference and the CPU */
} score;

/* max |a - r| over n (infinite for a NaN) and R = max(1, tau, max |r|) */
static void diff_d(const float *a, const double *r, size_t n, float tau, double *err, double *R) {
  double d = 0.0, s = fmax(1.0, tau);
  for (size_t t = 0; t < n; t++) {
    const double e = fabs((double)a[t] - r[t]);
    if (!(e <= d)) d = isnan(e) ? INFINITY : e;
    if (fabs(r[t]) > s) s = fabs(r[t]);
  }
  *err = d;
  *R = s;
}
static void diff_f(const float *a, const float *r, size_t n, float tau, double *err, double *R) {
  double d = 0.0, s = fmax(1.0, tau);
  for (size_t t = 0; t < n; t++) {
    const double e = fabs((double)a[t] - (double)r[t]);
    if (!(e <= d)) d = isnan(e) ? INFINITY : e;
    if (fabs((double)r[t]) > s) s = fabs((double)r[t]);
  }
  *err = d;
  *R = s;
}

static void judge(score *sc, int vs, int o, const batch *B, int p, double err, double R,
                  const char *what) {
  const double L = B->pairs[p].n + B->pairs[p].m + 8;
  const double tol = (o <= O_M ? (o == O_V ? TOL_V : TOL_M) : TOL_G) * L * R;
  const double q = err / tol;
  CHECK(q <= 1.0, "%s %s: per_cell=%d tau=%g pair %d (%d x %d): %s error %.3g > %.3g vs %s",
        sc->label, what, B->pc, (double)B->tau, p, B->pairs[p].n, B->pairs[p].m, o_name[o], err,
        tol, vs == VS_REF ? "the reference" : "the CPU aligner");
  if (!(q <= sc->worst[vs][o])) sc->worst[vs][o] = isnan(q) ? INFINITY : q;
}

static int all_nan(const float *x, size_t n) {
  for (size_t t = 0; t < n; t++)
    if (!isnan(x[t])) return 0;
  return 1;
}

/* gradients of the CUDA path (O) against the reference (R) and the CPU aligner (C); outputs
 * not asked for must still be NaN */
static void compare_grads(score *sc, const batch *B, const grads *G, const outs *O,
                          const refgrads *R, const outs *C, const char *what) {
  for (int p = 0; p < B->np; p++) {
    const size_t c = cells(B, p), g = gcnt(B, p);
    double e, s;
    const int want_dS = G->want_dS && !(G->dS_skip_odd && p % 2);
    if (want_dS) {
      diff_d(O->dS[p], R->dS[p], c, B->tau, &e, &s);
      judge(sc, VS_REF, O_DS, B, p, e, s, what);
      if (C) {
        diff_f(O->dS[p], C->dS[p], c, B->tau, &e, &s);
        judge(sc, VS_CPU, O_DS, B, p, e, s, what);
      }
    } else {
      CHECK(all_nan(O->dS[p], c), "%s %s: pair %d: dS written though not asked for", sc->label,
            what, p);
    }
    const float *od[2] = {O->dgo[p], O->dge[p]};
    const double *rd[2] = {R->dgo[p], R->dge[p]};
    const int want[2] = {G->want_dgo, G->want_dge};
    for (int k = 0; k < 2; k++) {
      if (!want[k]) {
        CHECK(all_nan(od[k], g), "%s %s: pair %d: %s written though not asked for", sc->label,
              what, p, o_name[O_DGO + k]);
        continue;
      }
      diff_d(od[k], rd[k], g, B->tau, &e, &s);
      judge(sc, VS_REF, O_DGO + k, B, p, e, s, what);
      if (C) {
        diff_f(od[k], k ? C->dge[p] : C->dgo[p], g, B->tau, &e, &s);
        judge(sc, VS_CPU, O_DGO + k, B, p, e, s, what);
      }
    }
  }
}

static int same_bits(const float *a, const float *b, size_t n) {
  return memcmp(a, b, sizeof(float) * n) == 0;
}

/* ---------------------------------------------------------------- the checks */

static const int shapes1[][2] = {
    {1, 1},     {1, 9},     {9, 1},     {2, 3},     {31, 33},   {32, 32},   {33, 31},
    {64, 63},   {63, 65},   {128, 127}, {129, 128}, {17, 200},  {200, 17},  {256, 255},
    {255, 257}, {300, 257}, {257, 300}, {1, 300},   {300, 1},   {100, 100}, {45, 77},
    {77, 45},   {5, 250},   {250, 5},   {150, 90},  {3, 3},
};
static const int shapes2[][2] = {
    {290, 257}, {7, 13}, {13, 7}, {1, 2}, {120, 240}, {240, 120}, {64, 64}, {40, 1},
};
#define NP1 ((int)(sizeof shapes1 / sizeof shapes1[0]))
#define NP2 ((int)(sizeof shapes2 / sizeof shapes2[0]))

/* one batch: forward, four backwards, a second forward of other sizes and its backward */
static void check_batch(lac_aligner *cu, lac_aligner *cpu, lac_backend *gpu, score *sc, int pc,
                        float tau) {
  lac_error err;
  batch B;
  batch_make(&B, pc, tau, NP1, shapes1);
  lac_sw_options opt = {tau, pc};
  float Vc[MAXP], Vu[MAXP], *Mc[MAXP], *Mu[MAXP], *Mask[MAXP];
  for (int p = 0; p < B.np; p++) {
    Mc[p] = fnan(cells(&B, p));
    Mu[p] = fnan(cells(&B, p));
    Mask[p] = p % 6 == 4 ? NULL : Mu[p]; /* M not asked for some pairs */
    Vu[p] = NAN;
  }
  CHECK_OK(lac_sw_forward(cpu, &opt, B.np, B.pairs, Vc, Mc, &err), &err);
  CHECK_OK(lac_sw_forward(cu, &opt, B.np, B.pairs, Vu, Mask, &err), &err);
  const char *path = lac_sw_cpu_path(cu);
  CHECK(!strcmp(path, gpu ? "cuda" : "cuda-emulated"), "%s: the soft forward ran on '%s'",
        sc->label, path);
  for (int p = 0; p < B.np; p++) {
    double e, s;
    e = fabs((double)Vu[p] - B.Vr[p]);
    judge(sc, VS_REF, O_V, &B, p, isnan(e) ? INFINITY : e, fmax(fmax(1.0, tau), fabs(B.Vr[p])),
          "forward");
    e = fabs((double)Vu[p] - Vc[p]);
    judge(sc, VS_CPU, O_V, &B, p, isnan(e) ? INFINITY : e,
          fmax(fmax(1.0, tau), fabs((double)Vc[p])), "forward");
    if (!Mask[p]) {
      CHECK(all_nan(Mu[p], cells(&B, p)), "%s: pair %d: M written though M[p] is NULL",
            sc->label, p);
      continue;
    }
    diff_d(Mu[p], B.Mr[p], cells(&B, p), tau, &e, &s);
    judge(sc, VS_REF, O_M, &B, p, e, s, "forward");
    diff_f(Mu[p], Mc[p], cells(&B, p), tau, &e, &s);
    judge(sc, VS_CPU, O_M, &B, p, e, s, "forward");
  }

  /* four backwards of the one forward */
  grads G[3];
  grads_make(&B, &G[0], 1, 1, 1, 1, 0, 1, 1); /* gV, gM with holes, every output */
  grads_make(&B, &G[1], 1, 0, 0, 1, 1, 1, 0); /* gV only; dS for even pairs, dgo */
  grads_make(&B, &G[2], 0, 1, 0, 1, 0, 0, 1); /* gM only (all pairs); dS, dge */
  outs O, C, first;
  outs_make(&B, &O);
  outs_make(&B, &C);
  outs_make(&B, &first);
  for (int k = 0; k < 4; k++) {
    const grads *g = &G[k % 3];
    char what[32];
    snprintf(what, sizeof what, "backward %d", k + 1);
    refgrads R;
    ref_backward(&B, g, &R);
    CHECK_OK(backward(cpu, &B, g, &C, &err), &err);
    CHECK_OK(backward(cu, &B, g, &O, &err), &err);
    compare_grads(sc, &B, g, &O, &R, &C, what);
    refgrads_free(&B, &R);
    if (k == 0) {
      for (int p = 0; p < B.np; p++) {
        memcpy(first.dS[p], O.dS[p], sizeof(float) * cells(&B, p));
        memcpy(first.dgo[p], O.dgo[p], sizeof(float) * gcnt(&B, p));
        memcpy(first.dge[p], O.dge[p], sizeof(float) * gcnt(&B, p));
      }
    }
    if (k == 3) { /* the first set again: the same bits */
      int same = 1;
      for (int p = 0; p < B.np; p++)
        same &= same_bits(first.dS[p], O.dS[p], cells(&B, p)) &&
                same_bits(first.dgo[p], O.dgo[p], gcnt(&B, p)) &&
                same_bits(first.dge[p], O.dge[p], gcnt(&B, p));
      CHECK(same, "%s: a repeated backward differs from the first one", sc->label);
    }
  }
  /* the one-shot lac_cuda_sw (forward + backward in one call) gives the same bits */
  {
    float V1[MAXP], *M1[MAXP];
    outs O1;
    outs_make(&B, &O1);
    for (int p = 0; p < B.np; p++) M1[p] = fnan(cells(&B, p));
    const lac_status st =
        gpu ? lac_cuda_sw(gpu, &opt, B.np, B.pairs, V1, M1, G[0].gV,
                          (const float *const *)G[0].gM, O1.dS, O1.dgo, O1.dge, &err)
            : lac_cuda_sw_emulated(NULL, &opt, B.np, B.pairs, V1, M1, G[0].gV,
                                   (const float *const *)G[0].gM, O1.dS, O1.dgo, O1.dge, &err);
    CHECK_OK(st, &err);
    int same = 1;
    for (int p = 0; p < B.np; p++) {
      same &= same_bits(&V1[p], &Vu[p], 1) &&
              (!Mask[p] || same_bits(M1[p], Mu[p], cells(&B, p))) &&
              same_bits(first.dS[p], O1.dS[p], cells(&B, p)) &&
              same_bits(first.dgo[p], O1.dgo[p], gcnt(&B, p)) &&
              same_bits(first.dge[p], O1.dge[p], gcnt(&B, p));
      free(M1[p]);
    }
    CHECK(same, "%s: the aligner's forward + backward differ from lac_cuda_sw's", sc->label);
    outs_free(&B, &O1);
  }
  for (int k = 0; k < 3; k++) grads_free(&B, &G[k]);
  outs_free(&B, &O);
  outs_free(&B, &C);
  outs_free(&B, &first);
  for (int p = 0; p < B.np; p++) {
    free(Mc[p]);
    free(Mu[p]);
  }
  batch_free(&B);

  /* a second forward, other sizes, no M asked; then a backward against the reference */
  batch B2;
  batch_make(&B2, pc, tau, NP2, shapes2);
  float V2[MAXP];
  CHECK_OK(lac_sw_forward(cu, &opt, B2.np, B2.pairs, V2, NULL, &err), &err);
  for (int p = 0; p < B2.np; p++) {
    const double e = fabs((double)V2[p] - B2.Vr[p]);
    judge(sc, VS_REF, O_V, &B2, p, isnan(e) ? INFINITY : e,
          fmax(fmax(1.0, tau), fabs(B2.Vr[p])), "second forward");
  }
  grads G2;
  grads_make(&B2, &G2, 1, 1, 1, 1, 0, 1, 1);
  outs O2;
  outs_make(&B2, &O2);
  refgrads R2;
  ref_backward(&B2, &G2, &R2);
  CHECK_OK(backward(cu, &B2, &G2, &O2, &err), &err);
  compare_grads(sc, &B2, &G2, &O2, &R2, NULL, "second backward");
  refgrads_free(&B2, &R2);
  outs_free(&B2, &O2);
  grads_free(&B2, &G2);
  batch_free(&B2);
}

/* tau = 0 on the CUDA-path aligner = the CPU aligner's hard path, bit for bit */
static void check_hard(lac_aligner *cu, lac_aligner *cpu, const char *label) {
  lac_error err;
  const int shp[][2] = {{12, 9}, {1, 1}, {40, 33}, {1025, 7}}; /* 1025: the CPU runs it */
  batch B;
  batch_make(&B, 1, 0.0f, 4, shp);
  lac_sw_options opt = {0.0f, 1};
  float Vc[4], Vu[4], *Mc[4], *Mu[4];
  for (int p = 0; p < 4; p++) {
    Mc[p] = fnan(cells(&B, p));
    Mu[p] = fnan(cells(&B, p));
  }
  CHECK_OK(lac_sw_forward(cpu, &opt, 4, B.pairs, Vc, Mc, &err), &err);
  CHECK_OK(lac_sw_forward(cu, &opt, 4, B.pairs, Vu, Mu, &err), &err);
  CHECK(!strcmp(lac_sw_cpu_path(cu), "hard"), "%s: tau = 0 ran on '%s'", label,
        lac_sw_cpu_path(cu));
  for (int p = 0; p < 4; p++) {
    CHECK(same_bits(&Vc[p], &Vu[p], 1) && same_bits(Mc[p], Mu[p], cells(&B, p)),
          "%s: hard pair %d: V or M differs from the CPU aligner's", label, p);
    CHECK(fabs((double)Vu[p] - B.Vr[p]) <= 1e-4 * fmax(1.0, fabs(B.Vr[p])),
          "%s: hard pair %d: V %.9g vs the reference %.9g", label, p, (double)Vu[p], B.Vr[p]);
    lac_sw_step sc_[1100], su[1100];
    int nc = 0, nu = 0;
    CHECK_OK(lac_sw_path(cpu, p, sc_, 1100, &nc, &err), &err);
    CHECK_OK(lac_sw_path(cu, p, su, 1100, &nu, &err), &err);
    int same = nc == nu && nu > 0;
    for (int k = 0; same && k < nu; k++) /* field by field: the struct has padding */
      same = sc_[k].i == su[k].i && sc_[k].j == su[k].j && sc_[k].state == su[k].state;
    CHECK(same, "%s: hard pair %d: the path differs (%d vs %d steps)", label, p, nu, nc);
  }
  grads G;
  grads_make(&B, &G, 1, 1, 1, 1, 0, 1, 1);
  outs O, C;
  outs_make(&B, &O);
  outs_make(&B, &C);
  CHECK_OK(backward(cpu, &B, &G, &C, &err), &err);
  CHECK_OK(backward(cu, &B, &G, &O, &err), &err);
  int same = 1;
  for (int p = 0; p < 4; p++)
    same &= same_bits(O.dS[p], C.dS[p], cells(&B, p)) &&
            same_bits(O.dgo[p], C.dgo[p], gcnt(&B, p)) &&
            same_bits(O.dge[p], C.dge[p], gcnt(&B, p));
  CHECK(same, "%s: the hard backward differs from the CPU aligner's", label);
  /* a soft forward, then the path: the CPU's error, word for word */
  lac_sw_options soft = {0.5f, 1};
  lac_sw_step st[64];
  int ns = 0;
  lac_error e1, e2;
  CHECK_OK(lac_sw_forward(cpu, &soft, 2, B.pairs, Vc, NULL, &err), &err);
  CHECK_OK(lac_sw_forward(cu, &soft, 2, B.pairs, Vu, NULL, &err), &err);
  const lac_status s1 = lac_sw_path(cpu, 0, st, 64, &ns, &e1);
  const lac_status s2 = lac_sw_path(cu, 0, st, 64, &ns, &e2);
  CHECK(s2 != LAC_OK && s1 == s2 && !strcmp(e1.message, e2.message),
        "%s: lac_sw_path after a soft forward: %s '%s' (CPU: %s '%s')", label,
        lac_status_string(s2), e2.message, lac_status_string(s1), e1.message);
  outs_free(&B, &O);
  outs_free(&B, &C);
  grads_free(&B, &G);
  for (int p = 0; p < 4; p++) {
    free(Mc[p]);
    free(Mu[p]);
  }
  batch_free(&B);
}

/* errors: before any forward, lengths > 1024, NaN in S and gM */
static void check_errors(lac_aligner *fresh, const char *label) {
  lac_error err;
  lac_status st = lac_sw_backward(fresh, NULL, NULL, NULL, NULL, NULL, &err);
  CHECK(st == LAC_ERR_INVALID_ARG, "%s: backward before any forward gave %s", label,
        lac_status_string(st));
  const int shp[][2] = {{3, 4}, {1025, 10}};
  batch B;
  batch_make(&B, 0, 0.5f, 2, shp);
  lac_sw_options opt = {0.5f, 0};
  float V[2], dS0[12];
  float *dS[2] = {dS0, NULL};
  st = lac_sw_forward(fresh, &opt, 2, B.pairs, V, NULL, &err);
  CHECK(st == LAC_ERR_UNSUPPORTED && strstr(err.message, "CPU aligner") &&
            strstr(err.message, "1024"),
        "%s: a 1025 x 10 pair gave %s '%s'", label, lac_status_string(st), err.message);
  printf("  %s: 1025 x 10: %s: %s\n", label, lac_status_string(st), err.message);
  st = lac_sw_backward(fresh, NULL, NULL, dS, NULL, NULL, &err);
  CHECK(st == LAC_ERR_INVALID_ARG, "%s: backward after a failed forward gave %s", label,
        lac_status_string(st));
  /* the first pair alone runs; then a NaN in gM and in S */
  CHECK_OK(lac_sw_forward(fresh, &opt, 1, B.pairs, V, NULL, &err), &err);
  float gM0[12];
  for (int t = 0; t < 12; t++) gM0[t] = 0.25f;
  gM0[7] = NAN;
  const float *gM[1] = {gM0};
  st = lac_sw_backward(fresh, NULL, gM, dS, NULL, NULL, &err);
  CHECK(st == LAC_ERR_NUMERIC && strstr(err.message, "gM[1][3]"), "%s: NaN in gM gave %s '%s'",
        label, lac_status_string(st), err.message);
  gM0[7] = 0.25f;
  CHECK_OK(lac_sw_backward(fresh, NULL, gM, dS, NULL, NULL, &err), &err);
  B.S[0][5] = INFINITY;
  st = lac_sw_forward(fresh, &opt, 1, B.pairs, V, NULL, &err);
  CHECK(st == LAC_ERR_NUMERIC && strstr(err.message, "S[1][1]"), "%s: inf in S gave %s '%s'",
        label, lac_status_string(st), err.message);
  st = lac_sw_backward(fresh, NULL, NULL, dS, NULL, NULL, &err);
  CHECK(st == LAC_ERR_INVALID_ARG, "%s: backward after a refused forward gave %s", label,
        lac_status_string(st));
  batch_free(&B);
}

static void print_score(const score *sc) {
  for (int vs = 0; vs < 2; vs++) {
    printf("  %s, largest err/tol against %s:", sc->label,
           vs == VS_REF ? "the double reference" : "the CPU aligner");
    for (int o = 0; o < O_N; o++) printf(" %s %.3g", o_name[o], sc->worst[vs][o]);
    printf("\n");
  }
}

/* everything above for one CUDA-path aligner maker */
typedef lac_status (*maker)(lac_backend *gpu, lac_aligner **out, lac_error *err);

static lac_status make_emulated(lac_backend *gpu, lac_aligner **out, lac_error *err) {
  (void)gpu;
  lac_status st = lac_aligner_new(NULL, out, err);
  if (st == LAC_OK && (st = lac_aligner_use_cuda_emulation(*out, err)) != LAC_OK) {
    lac_aligner_free(*out);
    *out = NULL;
  }
  return st;
}
static lac_status make_gpu(lac_backend *gpu, lac_aligner **out, lac_error *err) {
  lac_aligner_params ap = lac_aligner_default_params();
  ap.backend = gpu;
  return lac_aligner_new(&ap, out, err);
}

static void suite(const char *label, maker mk, lac_backend *gpu) {
  lac_error err;
  lac_aligner *cu = NULL, *cpu = NULL, *fresh = NULL;
  CHECK_OK(mk(gpu, &cu, &err), &err);
  CHECK_OK(lac_aligner_new(NULL, &cpu, &err), &err);
  CHECK_OK(mk(gpu, &fresh, &err), &err);
  if (!cu || !cpu || !fresh) return;
  score sc;
  memset(&sc, 0, sizeof sc);
  sc.label = label;
  const struct {
    int pc;
    float tau;
  } runs[4] = {{0, 0.3f}, {1, 0.3f}, {0, 1.0f}, {1, 1.0f}};
  for (int r = 0; r < 4; r++) check_batch(cu, cpu, gpu, &sc, runs[r].pc, runs[r].tau);
  print_score(&sc);
  check_hard(cu, cpu, label);
  check_errors(fresh, label);
  lac_aligner_free(cu);
  lac_aligner_free(cpu);
  lac_aligner_free(fresh);
}

int main(int argc, char **argv) {
  cuda_test_mode mode;
  const int rc = cuda_test_args("test_aligner_cuda", argc, argv, &mode);
  if (rc >= 0) return rc;
  const int emulate = mode.emulate;
  const int emulation_only = mode.emulation_only, have_gpu = mode.have_gpu;
  lac_error err;
  printf("tolerances: V %.0e*L*R, M %.0e*L*R, dS/dgo/dge %.0e*L*R (L = n+m+8, R = max(1, tau, "
         "max|ref|)), against the double reference and against the CPU aligner\n",
         TOL_V, TOL_M, TOL_G);
  if (emulate) suite("emulation", make_emulated, NULL);

  /* a CPU backend in the params: the CPU path */
  {
    lac_backend_params bp = lac_backend_default_params();
    lac_backend *cpub = NULL;
    CHECK_OK(lac_backend_new(&bp, &cpub, &err), &err);
    lac_aligner_params ap = lac_aligner_default_params();
    ap.backend = cpub;
    lac_aligner *a = NULL;
    CHECK_OK(lac_aligner_new(&ap, &a, &err), &err);
    if (a) {
      float S[6] = {1, -1, 0.5f, 2, 0, 1}, go = 1, ge = 0.1f, V;
      lac_sw_pair p = {2, 3, S, &go, &ge};
      lac_sw_options o = {0.5f, 0};
      CHECK_OK(lac_sw_forward(a, &o, 1, &p, &V, NULL, &err), &err);
      CHECK(strncmp(lac_sw_cpu_path(a), "cuda", 4) != 0, "a CPU backend ran on '%s'",
            lac_sw_cpu_path(a));
    }
    lac_aligner_free(a);
    lac_backend_free(cpub);
  }

  if (emulation_only) return test_exit("test_aligner_cuda (emulation)");
  if (!have_gpu) {
    const int rc = test_exit("test_aligner_cuda (emulation)");
    if (rc) return rc;
    printf("test_aligner_cuda: no CUDA device: the device part skipped\n");
    return 77;
  }
  lac_backend_params p = lac_backend_default_params();
  p.kind = LAC_BACKEND_CUDA;
  lac_backend *gpu = NULL;
  CHECK_OK(lac_backend_new(&p, &gpu, &err), &err);
  if (!gpu) return test_exit("test_aligner_cuda");
  lac_cuda_backend_set_poison(gpu, 1); /* before the aligners: they take the flag then */
  struct cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
    printf("test_aligner_cuda: device %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
  suite("gpu", make_gpu, gpu);
  lac_backend_free(gpu);
  return test_exit("test_aligner_cuda");
}
