/* test_sw_cpu.c — the float32 CPU Smith-Waterman (lib/align/sw_cpu.c): every code path
 * (scalar, AVX2, AVX-512 where the CPU has them) against a double reference, against each
 * other, batch against pairs one by one, hard mode and its path, and the error cases.
 *
 * The double reference here is a plain loop over the SW_AFFINE.md recurrences (true -inf
 * outside the matrix, libm exp/log, adjoints in pull form, weights recomputed per cell) and
 * is itself checked by central finite differences.  When lib/align/sw_ref.h exists (the
 * project's double reference), the float paths are also compared with it.
 *
 * Outputs are poisoned with NaN before every call, so an unwritten cell fails.
 *
 * Tolerances (float32 eps = 1.19e-7, L = n + m, A = 1 + max |M| over the pair; errors of
 * the float path grow like a random walk along the L steps of the wavefront):
 *   V, M (absolute):                                       2 eps A sqrt(L)
 *   dS, dgo, dge (relative to max |reference|, floor 1):   0.5 eps A sqrt(L) (1 + 1/tau)
 *     (a float error d in a score moves a softmax weight by about d / tau)
 *   measured worst, 120 pairs of sizes 1..70, tau 0.05..5: V 0.12, M 0.30, gradients 0.29
 *   of their tolerance (the run prints them).
 *   scalar vs vector paths, every strip count, batch vs pairs one by one: M bit-identical
 *     (same instruction sequence per cell); V and gradients within 1e-6 relative (they may
 *     differ only in the order of double sums; the run counts the bit-identical ones).
 *   hard mode on integer inputs: V and the path exact (against the test's reference and
 *     lac_sw_ref_hard), gradients 1e-6.
 *   fast exp / log against libm double on dense grids: relative error below 3e-7 / 4e-7
 *     (measured 1.6e-7 on [-87, 0] / 9.8e-8 on [1, 4]); the vector ones bit-identical to
 *     the scalar ones.
 * Errors: n, m < 1, NULL pointers, non-finite S / go / ge / gM (named by pair and cell),
 * tau < 0, NaN, inf or too small, backward without (or after a failed) forward, the path
 * after a soft forward, a cap below the path length, bad hook arguments.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lac/align.h"
#include "lac_internal.h"
#include "testutil.h"

#if defined(__has_include)
#if __has_include("align/sw_ref.h")
#include "align/sw_ref.h"
#define HAVE_SW_REF 1
#endif
#endif
#ifndef HAVE_SW_REF
#define HAVE_SW_REF 0
#endif

#include "align/sw_cpu.h" /* hooks of sw_cpu.c (not in align.h) */

#define EPS32 1.1920929e-7
#define MAXP 300

static const char *const PATHS[3] = {"scalar", "avx2", "avx512"};
static int have_path[3];

/* worst error / tolerance seen, per kind */
enum { K_V, K_M, K_DS, K_DGO, K_DGE, K_XPATH, K_BATCH, K_NK };
static const char *const KNAME[K_NK] = {"V", "M", "dS", "dgo", "dge", "paths", "batch"};
static double worst[K_NK];

static void note(int k, double ratio) {
  if (ratio > worst[k] || isnan(ratio)) worst[k] = isnan(ratio) ? INFINITY : ratio;
}

/* ---------------------------------------------------------------- data */

typedef struct {
  int n, m;
  float *S, *go, *ge; /* go/ge: n*m values (per-cell use) ; [0] is the scalar */
} tpair;

static float unif(lac_rng *r, float lo, float hi) {
  return lo + (hi - lo) * (float)lac_rng_uniform(r);
}

static void make_pair(tpair *p, lac_rng *r, int n, int m, int integer) {
  p->n = n, p->m = m;
  const size_t c = (size_t)n * m;
  p->S = malloc(sizeof(float) * c);
  p->go = malloc(sizeof(float) * c);
  p->ge = malloc(sizeof(float) * c);
  for (size_t k = 0; k < c; k++) {
    if (integer) {
      p->S[k] = (float)((int)(lac_rng_next(r) % 7) - 3);
      p->go[k] = (float)(1 + (int)(lac_rng_next(r) % 3));
      p->ge[k] = (float)(lac_rng_next(r) % 2);
    } else {
      p->S[k] = unif(r, -1.0f, 1.5f);
      p->go[k] = unif(r, 0.5f, 1.5f);
      p->ge[k] = unif(r, 0.05f, 0.5f);
    }
  }
}

static void free_pair(tpair *p) {
  free(p->S);
  free(p->go);
  free(p->ge);
}

static void to_sw(const tpair *t, int np, lac_sw_pair *out) {
  for (int p = 0; p < np; p++) out[p] = (lac_sw_pair){t[p].n, t[p].m, t[p].S, t[p].go, t[p].ge};
}

static void poison(float *x, size_t n) {
  for (size_t k = 0; k < n; k++) x[k] = NAN;
}

/* ---------------------------------------------------------------- double reference */

typedef struct {
  int n, m, pc;
  const float *S, *go, *ge;
  double tau;
  double *M, *X, *Y, *wV;
  double V;
  int bi, bj;
} dref;

static double tget(const dref *r, const double *T, int i, int j) {
  return i < 0 || j < 0 ? -INFINITY : T[(size_t)i * r->m + j];
}
static double dgo_(const dref *r, int i, int j) {
  return r->pc ? r->go[(size_t)i * r->m + j] : r->go[0];
}
static double dge_(const dref *r, int i, int j) {
  return r->pc ? r->ge[(size_t)i * r->m + j] : r->ge[0];
}

/* smooth max (tau > 0) or max with the first maximum winning (tau = 0); weights w */
static double dsmax(const double *v, int k, double tau, double *w) {
  double mx = -INFINITY;
  int arg = 0;
  for (int q = 0; q < k; q++)
    if (v[q] > mx) mx = v[q], arg = q;
  if (w)
    for (int q = 0; q < k; q++) w[q] = 0;
  if (mx == -INFINITY) return -INFINITY;
  if (tau == 0) {
    if (w) w[arg] = 1;
    return mx;
  }
  double s = 0;
  for (int q = 0; q < k; q++) s += exp((v[q] - mx) / tau);
  if (w)
    for (int q = 0; q < k; q++) w[q] = exp((v[q] - mx) / tau) / s;
  return mx + tau * log(s);
}

static void dterms(const dref *r, int i, int j, double vm[4], double vx[2], double vy[3]) {
  vm[0] = 0;
  vm[1] = tget(r, r->M, i - 1, j - 1), vm[2] = tget(r, r->X, i - 1, j - 1);
  vm[3] = tget(r, r->Y, i - 1, j - 1);
  vx[0] = tget(r, r->M, i, j - 1) - dgo_(r, i, j), vx[1] = tget(r, r->X, i, j - 1) - dge_(r, i, j);
  vy[0] = tget(r, r->M, i - 1, j) - dgo_(r, i, j), vy[1] = tget(r, r->X, i - 1, j) - dgo_(r, i, j);
  vy[2] = tget(r, r->Y, i - 1, j) - dge_(r, i, j);
}

static void dref_init(dref *r, const tpair *p, int pc, double tau) {
  memset(r, 0, sizeof *r);
  r->n = p->n, r->m = p->m, r->pc = pc, r->S = p->S, r->go = p->go, r->ge = p->ge, r->tau = tau;
  const size_t c = (size_t)p->n * p->m;
  r->M = malloc(sizeof(double) * c);
  r->X = malloc(sizeof(double) * c);
  r->Y = malloc(sizeof(double) * c);
  r->wV = malloc(sizeof(double) * c);
}

static void dref_free(dref *r) {
  free(r->M);
  free(r->X);
  free(r->Y);
  free(r->wV);
}

static void dref_forward(dref *r) {
  const int n = r->n, m = r->m;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++) {
      double vm[4], vx[2], vy[3];
      dterms(r, i, j, vm, vx, vy);
      const size_t k = (size_t)i * m + j;
      r->M[k] = r->S[k] + dsmax(vm, 4, r->tau, NULL);
      r->X[k] = dsmax(vx, 2, r->tau, NULL);
      r->Y[k] = dsmax(vy, 3, r->tau, NULL);
    }
  r->V = dsmax(r->M, n * m, r->tau, r->wV);
  r->bi = r->bj = 0;
  for (size_t k = 0; k < (size_t)n * m; k++)
    if (r->wV[k] == 1 && r->tau == 0) {
      r->bi = (int)(k / m), r->bj = (int)(k % m);
      break;
    }
}

/* dS, dgo, dge [n][m] (per-cell values; sum dgo/dge for scalar penalties) */
static void dref_backward(const dref *r, double gV, const float *gM, double *dS, double *dgo,
                          double *dge) {
  const int n = r->n, m = r->m;
  const size_t c = (size_t)n * m;
  double *EM = calloc(c, sizeof(double)), *EX = calloc(c, sizeof(double)),
         *EY = calloc(c, sizeof(double));
  for (int i = n - 1; i >= 0; i--)
    for (int j = m - 1; j >= 0; j--) {
      const size_t k = (size_t)i * m + j;
      double vm[4], vx[2], vy[3], wm[4], wx[2], wy[3];
      double em = (gM ? gM[k] : 0) + gV * r->wV[k], ex = 0, ey = 0;
      if (i + 1 < n && j + 1 < m) {
        dterms(r, i + 1, j + 1, vm, vx, vy);
        dsmax(vm, 4, r->tau, wm);
        const double e = EM[k + m + 1];
        em += e * wm[1], ex += e * wm[2], ey += e * wm[3];
      }
      if (j + 1 < m) {
        dterms(r, i, j + 1, vm, vx, vy);
        dsmax(vx, 2, r->tau, wx);
        em += EX[k + 1] * wx[0], ex += EX[k + 1] * wx[1];
      }
      if (i + 1 < n) {
        dterms(r, i + 1, j, vm, vx, vy);
        dsmax(vy, 3, r->tau, wy);
        const double e = EY[k + m];
        em += e * wy[0], ex += e * wy[1], ey += e * wy[2];
      }
      EM[k] = em, EX[k] = ex, EY[k] = ey;
      dterms(r, i, j, vm, vx, vy);
      dsmax(vx, 2, r->tau, wx);
      dsmax(vy, 3, r->tau, wy);
      dS[k] = em;
      dgo[k] = -(ex * wx[0] + ey * (wy[0] + wy[1]));
      dge[k] = -(ex * wx[1] + ey * wy[2]);
    }
  free(EM);
  free(EX);
  free(EY);
}

/* hard path by the reference's argmaxes: steps from first to last */
static int dref_path(const dref *r, lac_sw_step *steps) {
  int i = r->bi, j = r->bj, state = 0, len = 0;
  for (;;) {
    steps[len].i = i, steps[len].j = j, steps[len].state = "MXY"[state];
    len++;
    double vm[4], vx[2], vy[3], w[4];
    dterms(r, i, j, vm, vx, vy);
    if (state == 0) {
      dsmax(vm, 4, 0, w);
      if (w[0] == 1) break;
      state = w[1] == 1 ? 0 : w[2] == 1 ? 1 : 2;
      i--, j--;
    } else if (state == 1) {
      dsmax(vx, 2, 0, w);
      state = w[0] == 1 ? 0 : 1;
      j--;
    } else {
      dsmax(vy, 3, 0, w);
      state = w[0] == 1 ? 0 : w[1] == 1 ? 1 : 2;
      i--;
    }
  }
  for (int k = 0; k < len / 2; k++) {
    lac_sw_step t = steps[k];
    steps[k] = steps[len - 1 - k], steps[len - 1 - k] = t;
  }
  return len;
}

/* ---------------------------------------------------------------- the double reference by
 * finite differences: L = V + sum gM * M, central differences, eps 1e-6 */
static double fd_loss(const tpair *p, int pc, double tau, const float *gM) {
  dref r;
  dref_init(&r, p, pc, tau);
  dref_forward(&r);
  double L = r.V;
  for (size_t k = 0; k < (size_t)p->n * p->m; k++) L += gM[k] * r.M[k];
  dref_free(&r);
  return L;
}

/* The inputs are float arrays: the steps are +-2^-12 rounded to float, and the difference
 * quotient divides by the step actually taken. */
static void test_reference_fd(void) {
  lac_rng r;
  lac_rng_seed(&r, 7);
  const double taus[2] = {0.3, 2.0};
  for (int ti = 0; ti < 2; ti++) {
    tpair p;
    make_pair(&p, &r, 5, 6, 0);
    const size_t c = 30;
    float gM[30];
    for (size_t k = 0; k < c; k++) gM[k] = unif(&r, -0.5f, 0.5f);
    dref ref;
    dref_init(&ref, &p, 1, taus[ti]);
    dref_forward(&ref);
    double dS[30], dgo[30], dge[30];
    dref_backward(&ref, 1.0, gM, dS, dgo, dge);
    const float h = 1.0f / 4096;
    double maxerr = 0;
    float *arrs[3] = {p.S, p.go, p.ge};
    double *grads[3] = {dS, dgo, dge};
    for (int a = 0; a < 3; a++)
      for (size_t k = 0; k < c; k++) {
        const float v = arrs[a][k], vp = v + h, vm = v - h;
        arrs[a][k] = vp;
        const double lp = fd_loss(&p, 1, taus[ti], gM);
        arrs[a][k] = vm;
        const double lm = fd_loss(&p, 1, taus[ti], gM);
        arrs[a][k] = v;
        const double fd = (lp - lm) / ((double)vp - (double)vm), e = fabs(fd - grads[a][k]);
        if (e > maxerr) maxerr = e;
      }
    CHECK(maxerr < 2e-5, "double reference vs finite differences, tau %g: max error %.3g", taus[ti],
          maxerr);
    dref_free(&ref);
    free_pair(&p);
  }
}

/* ---------------------------------------------------------------- fast exp/log */
static void test_math(void) {
  const int N = 1 << 20;
  float *x = malloc(sizeof(float) * N), *y = malloc(sizeof(float) * N),
        *y0 = malloc(sizeof(float) * N);
  lac_error err;
  for (int which = 0; which < 2; which++) {
    for (int k = 0; k < N; k++)
      x[k] = which ? 1.0f + 3.0f * (float)k / (N - 1) : -87.0f + 87.0f * (float)k / (N - 1);
    CHECK_OK(lac_sw_cpu_math("scalar", which, N, x, y0, &err), &err);
    double maxrel = 0;
    for (int k = 0; k < N; k++) {
      const double ref = which ? log((double)x[k]) : exp((double)x[k]);
      if (which && ref == 0) continue;
      const double rel = fabs(y0[k] - ref) / fabs(ref);
      if (rel > maxrel) maxrel = rel;
    }
    /* log near 1 is small: judge its absolute error there, against log's scale at 2 */
    printf("  fast %s: max relative error %.3g (%s)\n", which ? "log on [1, 4]" : "exp on [-87, 0]",
           maxrel, which ? "x != 1" : "all");
    CHECK(maxrel < (which ? 4e-7 : 3e-7), "fast %s relative error %.3g", which ? "log" : "exp",
          maxrel);
    for (int pi = 1; pi < 3; pi++) {
      if (!have_path[pi]) continue;
      CHECK_OK(lac_sw_cpu_math(PATHS[pi], which, N, x, y, &err), &err);
      CHECK(!memcmp(y, y0, sizeof(float) * N), "%s %s differs from the scalar one", PATHS[pi],
            which ? "log" : "exp");
    }
  }
  /* exp below the cut is 0, exp(0) is exactly 1, sentinels give 0 */
  float xs[4] = {-87.5f, 0.0f, -1e30f, -1e38f}, ys[4];
  CHECK_OK(lac_sw_cpu_math("scalar", 0, 4, xs, ys, &err), &err);
  CHECK(ys[0] == 0 && ys[1] == 1 && ys[2] == 0 && ys[3] == 0, "exp edge values %g %g %g %g",
        ys[0], ys[1], ys[2], ys[3]);
  free(x);
  free(y);
  free(y0);
}

/* ---------------------------------------------------------------- one run of a path */

typedef struct {
  float V[MAXP];
  float *M[MAXP], *dS[MAXP], *dgo[MAXP], *dge[MAXP];
} result;

static void result_alloc(result *res, const tpair *t, int np) {
  for (int p = 0; p < np; p++) {
    const size_t c = (size_t)t[p].n * t[p].m;
    res->M[p] = malloc(sizeof(float) * c);
    res->dS[p] = malloc(sizeof(float) * c);
    res->dgo[p] = malloc(sizeof(float) * c);
    res->dge[p] = malloc(sizeof(float) * c);
  }
}

static void result_free(result *res, int np) {
  for (int p = 0; p < np; p++) {
    free(res->M[p]);
    free(res->dS[p]);
    free(res->dgo[p]);
    free(res->dge[p]);
  }
}

/* forward + backward of np pairs on `path` (strips: 0 = planner); 0 on success */
static int run(lac_aligner *a, const char *path, int strips, const tpair *t, int np, int pc,
               float tau, const float *gV, float *const *gM, result *res) {
  lac_error err;
  lac_sw_pair pairs[MAXP];
  to_sw(t, np, pairs);
  lac_sw_options opt = {tau, pc};
  if (lac_sw_cpu_force(a, path, strips, &err)) {
    CHECK(0, "force %s: %s", path, err.message);
    return 1;
  }
  poison(res->V, np);
  for (int p = 0; p < np; p++) {
    const size_t c = (size_t)t[p].n * t[p].m;
    poison(res->M[p], c);
    poison(res->dS[p], c);
    poison(res->dgo[p], c);
    poison(res->dge[p], c);
  }
  lac_status st = lac_sw_forward(a, &opt, np, pairs, res->V, res->M, &err);
  CHECK(st == LAC_OK, "forward %s: %s", path, err.message);
  if (st) return 1;
  st = lac_sw_backward(a, gV, (const float *const *)gM, res->dS, res->dgo, res->dge, &err);
  CHECK(st == LAC_OK, "backward %s: %s", path, err.message);
  return st != LAC_OK;
}

static double maxabs_d(const double *x, size_t n) {
  double m = 0;
  for (size_t k = 0; k < n; k++) m = fabs(x[k]) > m ? fabs(x[k]) : m;
  return m;
}

/* max |a - b| / max(max |b|, 1) */
static double relerr_fd(const float *a, const double *b, size_t n) {
  double md = 0, mb = 1;
  for (size_t k = 0; k < n; k++) {
    const double d = fabs((double)a[k] - b[k]);
    if (isnan(d)) return INFINITY;
    md = d > md ? d : md;
    mb = fabs(b[k]) > mb ? fabs(b[k]) : mb;
  }
  return md / mb;
}

/* compare a result with the double reference; gV, gM as given to the run */
static void compare_ref(const char *what, const tpair *t, int np, int pc, float tau,
                        const float *gV, float *const *gM, const result *res) {
  for (int p = 0; p < np; p++) {
    const int n = t[p].n, m = t[p].m;
    const size_t c = (size_t)n * m;
    dref r;
    dref_init(&r, &t[p], pc, tau);
    dref_forward(&r);
    double *dS = malloc(sizeof(double) * c), *dgo = malloc(sizeof(double) * c),
           *dge = malloc(sizeof(double) * c);
    dref_backward(&r, gV ? gV[p] : 0, gM ? gM[p] : NULL, dS, dgo, dge);
    const double A = 1 + maxabs_d(r.M, c), L = n + m;
    const double tolv = 2 * EPS32 * A * sqrt(L), tolg = 0.5 * EPS32 * A * sqrt(L) * (1 + 1 / tau);
    const double ev = fabs(res->V[p] - r.V);
    double em = 0;
    for (size_t k = 0; k < c; k++) {
      const double d = fabs(res->M[p][k] - r.M[k]);
      em = isnan(d) ? INFINITY : d > em ? d : em;
    }
    const double eds = relerr_fd(res->dS[p], dS, c);
    double edo, ede;
    if (pc) {
      edo = relerr_fd(res->dgo[p], dgo, c);
      ede = relerr_fd(res->dge[p], dge, c);
    } else {
      double so = 0, se = 0;
      for (size_t k = 0; k < c; k++) so += dgo[k], se += dge[k];
      edo = relerr_fd(res->dgo[p], &so, 1);
      ede = relerr_fd(res->dge[p], &se, 1);
    }
    note(K_V, ev / tolv);
    note(K_M, em / tolv);
    note(K_DS, eds / tolg);
    note(K_DGO, edo / tolg);
    note(K_DGE, ede / tolg);
    CHECK(ev <= tolv && em <= tolv,
          "%s pair %d (%dx%d, tau %g, pc %d): V err %.3g, M err %.3g, tol %.3g", what, p, n, m,
          tau, pc, ev, em, tolv);
    CHECK(eds <= tolg && edo <= tolg && ede <= tolg,
          "%s pair %d (%dx%d, tau %g, pc %d): dS %.3g dgo %.3g dge %.3g, tol %.3g", what, p, n, m,
          tau, pc, eds, edo, ede, tolg);
#if HAVE_SW_REF
    {
      double *Sd = malloc(sizeof(double) * c), *god = malloc(sizeof(double) * c),
             *ged = malloc(sizeof(double) * c), *Md = malloc(sizeof(double) * c),
             *Xd = malloc(sizeof(double) * c), *Yd = malloc(sizeof(double) * c),
             *gMd = calloc(c, sizeof(double)), *rS = malloc(sizeof(double) * c),
             *ro = calloc(c, sizeof(double)), *re = calloc(c, sizeof(double));
      for (size_t k = 0; k < c; k++) {
        Sd[k] = t[p].S[k], god[k] = t[p].go[k], ged[k] = t[p].ge[k];
        if (gM && gM[p]) gMd[k] = gM[p][k];
      }
      const double Vr = lac_sw_ref_forward(n, m, Sd, god, ged, pc, tau, Md, Xd, Yd);
      lac_sw_ref_backward(n, m, Sd, god, ged, pc, tau, Md, Xd, Yd, gV ? gV[p] : 0, gMd, rS, ro, re);
      CHECK(fabs(Vr - r.V) <= 1e-9 * (1 + fabs(r.V)), "sw_ref V %.12g vs test reference %.12g", Vr,
            r.V);
      CHECK(fabs(res->V[p] - Vr) <= tolv, "%s vs sw_ref: V %.9g vs %.9g", what, res->V[p], Vr);
      CHECK(relerr_fd(res->dS[p], rS, c) <= tolg, "%s vs sw_ref: dS err %.3g", what,
            relerr_fd(res->dS[p], rS, c));
      CHECK(relerr_fd(res->dgo[p], ro, pc ? c : 1) <= tolg, "%s vs sw_ref: dgo", what);
      CHECK(relerr_fd(res->dge[p], re, pc ? c : 1) <= tolg, "%s vs sw_ref: dge", what);
      free(Sd), free(god), free(ged), free(Md), free(Xd), free(Yd), free(gMd), free(rS), free(ro),
          free(re);
    }
#endif
    free(dS);
    free(dgo);
    free(dge);
    dref_free(&r);
  }
}

/* a vs b: M bit-identical, V and gradients within 1e-6 relative; counts exact matches */
static long n_exact, n_compared;
static void compare_runs(const char *what, const tpair *t, int np, int pc, const result *x,
                         const result *y, int kind) {
  for (int p = 0; p < np; p++) {
    const size_t c = (size_t)t[p].n * t[p].m, cg = pc ? c : 1;
    CHECK(!memcmp(x->M[p], y->M[p], sizeof(float) * c), "%s pair %d: M not bit-identical", what, p);
    const double ev = fabs(x->V[p] - y->V[p]) / (1 + fabs(y->V[p]));
    const double e1 = test_rel_err(x->dS[p], y->dS[p], c, 1.0);
    const double e2 = test_rel_err(x->dgo[p], y->dgo[p], cg, 1.0);
    const double e3 = test_rel_err(x->dge[p], y->dge[p], cg, 1.0);
    double e = ev > e1 ? ev : e1;
    e = e2 > e ? e2 : e, e = e3 > e ? e3 : e;
    note(kind, e / 1e-6);
    CHECK(e <= 1e-6, "%s pair %d: V/gradients differ by %.3g (V %.3g dS %.3g dgo %.3g dge %.3g)",
          what, p, e, ev, e1, e2, e3);
    n_compared += 4;
    n_exact += (x->V[p] == y->V[p]) + !memcmp(x->dS[p], y->dS[p], sizeof(float) * c) +
               !memcmp(x->dgo[p], y->dgo[p], sizeof(float) * cg) +
               !memcmp(x->dge[p], y->dge[p], sizeof(float) * cg);
  }
}

/* ---------------------------------------------------------------- soft mode */

static void test_soft(lac_aligner *a) {
  const float taus[5] = {0.05f, 0.3f, 0.8f, 1.0f, 5.0f};
  lac_rng r;
  lac_rng_seed(&r, 42);
  const int np = 12;
  for (int pc = 0; pc <= 1; pc++) {
    for (int ti = 0; ti < 5; ti++) {
      const float tau = taus[ti];
      tpair t[MAXP];
      float gV[MAXP], *gM[MAXP];
      for (int p = 0; p < np; p++) {
        /* sizes 1..70 mixed; a few very thin ones */
        int n = 1 + (int)(lac_rng_next(&r) % 70), m = 1 + (int)(lac_rng_next(&r) % 70);
        if (p == 0) n = 1, m = 1;
        if (p == 1) n = 70, m = 3;
        if (p == 2) n = 2, m = 70;
        make_pair(&t[p], &r, n, m, 0);
        gV[p] = unif(&r, 0.5f, 1.5f);
        gM[p] = malloc(sizeof(float) * n * m);
        for (int k = 0; k < n * m; k++) gM[p][k] = unif(&r, -0.2f, 0.2f);
      }
      free(gM[3]);
      gM[3] = NULL; /* a pair without gM */
      result res[3];
      int ok[3] = {0};
      for (int pi = 0; pi < 3; pi++) {
        if (!have_path[pi]) continue;
        result_alloc(&res[pi], t, np);
        char what[64];
        snprintf(what, sizeof what, "%s", PATHS[pi]);
        ok[pi] = !run(a, PATHS[pi], 0, t, np, pc, tau, gV, gM, &res[pi]);
        if (ok[pi]) compare_ref(what, t, np, pc, tau, gV, gM, &res[pi]);
        if (ok[pi] && pi > 0 && ok[0]) compare_runs(what, t, np, pc, &res[pi], &res[0], K_XPATH);
      }
      /* every strip count of the best vector path, and the pairs one by one */
      const int best = have_path[2] ? 2 : have_path[1] ? 1 : 0;
      if (best > 0 && ok[best]) {
        result tmp;
        result_alloc(&tmp, t, np);
        for (int S = 1; S <= (best == 2 ? 16 : 8); S *= 2) {
          char what[64];
          snprintf(what, sizeof what, "%s strips %d", PATHS[best], S);
          if (!run(a, PATHS[best], S, t, np, pc, tau, gV, gM, &tmp))
            compare_runs(what, t, np, pc, &tmp, &res[0], K_XPATH);
        }
        for (int p = 0; p < np; p++) {
          result one;
          result_alloc(&one, &t[p], 1);
          if (!run(a, "auto", 0, &t[p], 1, pc, tau, &gV[p], &gM[p], &one)) {
            result view = {{0}, {0}, {0}, {0}, {0}};
            view.V[0] = res[best].V[p];
            view.M[0] = res[best].M[p], view.dS[0] = res[best].dS[p];
            view.dgo[0] = res[best].dgo[p], view.dge[0] = res[best].dge[p];
            compare_runs("batch vs one by one", &t[p], 1, pc, &view, &one, K_BATCH);
          }
          result_free(&one, 1);
        }
        result_free(&tmp, np);
      }
      for (int pi = 0; pi < 3; pi++)
        if (have_path[pi]) result_free(&res[pi], np);
      for (int p = 0; p < np; p++) {
        free_pair(&t[p]);
        free(gM[p]);
      }
    }
  }
}

/* A large batch of small pairs (the planner's sort and grouping at scale): every vector
 * path equals the scalar one, and the double reference on a sample. */
static void test_many(lac_aligner *a) {
  lac_rng r;
  lac_rng_seed(&r, 17);
  const int np = MAXP;
  static tpair t[MAXP];
  static float gV[MAXP], *gM[MAXP];
  for (int p = 0; p < np; p++) {
    make_pair(&t[p], &r, 1 + (int)(lac_rng_next(&r) % 24), 1 + (int)(lac_rng_next(&r) % 24), 0);
    gV[p] = unif(&r, -1.0f, 1.0f);
    gM[p] = malloc(sizeof(float) * t[p].n * t[p].m);
    for (int k = 0; k < t[p].n * t[p].m; k++) gM[p][k] = unif(&r, -0.2f, 0.2f);
  }
  static result res[3];
  int ok[3] = {0};
  for (int pi = 0; pi < 3; pi++) {
    if (!have_path[pi]) continue;
    result_alloc(&res[pi], t, np);
    ok[pi] = !run(a, PATHS[pi], 0, t, np, 1, 0.6f, gV, gM, &res[pi]);
    if (ok[pi] && pi > 0 && ok[0]) compare_runs("many pairs", t, np, 1, &res[pi], &res[0], K_XPATH);
  }
  if (ok[0]) compare_ref("many pairs (scalar)", t, 20, 1, 0.6f, gV, gM, &res[0]);
  for (int pi = 0; pi < 3; pi++)
    if (have_path[pi]) result_free(&res[pi], np);
  for (int p = 0; p < np; p++) {
    free_pair(&t[p]);
    free(gM[p]);
  }
}

/* The planner's cache term (TABLE_CACHE_BYTES in sw_cpu.c): on 2 threads, 8 pairs of 128 x
 * 128 keep the fewest-steps plan (4 strips of 32 columns on 16 lanes: tables of 1.3 MB a
 * group), while 8 pairs of 256 x 256, whose tables would be 5 MB a group with 4 strips, take
 * one pair a group (16 strips of 16 columns: 1.3 MB); on 8 lanes 2 and 8 strips likewise.
 * The planned run agrees with the one forced to the fewest-steps plan (compare_runs: M bit for
 * bit, V and the gradients within 1e-6). */
static void test_plan(lac_aligner *a) {
  static const struct {
    int path, strips_small, strips_cached;
  } want[2] = {{1, 2, 8}, {2, 4, 16}};
  lac_rng r;
  lac_rng_seed(&r, 29);
  enum { NP = 8 };
  for (int w = 0; w < 2; w++) {
    const int pi = want[w].path;
    if (!have_path[pi]) continue;
    for (int big = 0; big < 2; big++) {
      const int T = big ? 256 : 128;
      tpair t[NP];
      float gV[NP], *gM[NP];
      for (int p = 0; p < NP; p++) {
        make_pair(&t[p], &r, T, T, 0);
        gV[p] = unif(&r, -1.0f, 1.0f);
        gM[p] = malloc(sizeof(float) * T * T);
        for (int k = 0; k < T * T; k++) gM[p][k] = unif(&r, -0.2f, 0.2f);
      }
      result planned, forced;
      result_alloc(&planned, t, NP);
      result_alloc(&forced, t, NP);
      char want_path[32], what[64];
      snprintf(want_path, sizeof want_path, "%s/%d", PATHS[pi],
               big ? want[w].strips_cached : want[w].strips_small);
      snprintf(what, sizeof what, "plan %s %dx%d", PATHS[pi], T, T);
      if (!run(a, PATHS[pi], 0, t, NP, 1, 0.8f, gV, gM, &planned)) {
        CHECK(!strcmp(lac_sw_cpu_path(a), want_path), "%s: planned %s, expected %s", what,
              lac_sw_cpu_path(a), want_path);
        if (!run(a, PATHS[pi], want[w].strips_small, t, NP, 1, 0.8f, gV, gM, &forced))
          compare_runs(what, t, NP, 1, &planned, &forced, K_XPATH);
      }
      result_free(&planned, NP);
      result_free(&forced, NP);
      for (int p = 0; p < NP; p++) {
        free_pair(&t[p]);
        free(gM[p]);
      }
    }
  }
  lac_error err;
  lac_sw_cpu_force(a, "auto", 0, &err);
}

/* NULL gradients and outputs: skipped outputs stay as they were, NULL gV / gM are zeros */
static void test_null_grads(lac_aligner *a) {
  lac_rng r;
  lac_rng_seed(&r, 3);
  tpair t[2];
  make_pair(&t[0], &r, 40, 33, 0);
  make_pair(&t[1], &r, 20, 50, 0);
  lac_sw_pair pairs[2];
  to_sw(t, 2, pairs);
  lac_error err;
  for (int pi = 0; pi < 3; pi++) {
    if (!have_path[pi]) continue;
    CHECK_OK(lac_sw_cpu_force(a, PATHS[pi], 0, &err), &err);
    lac_sw_options opt = {0.5f, 1};
    float V[2];
    CHECK_OK(lac_sw_forward(a, &opt, 2, pairs, V, NULL, &err), &err);
    float *dS[2] = {malloc(sizeof(float) * 40 * 33), NULL};
    float *dgo[2] = {NULL, malloc(sizeof(float) * 20 * 50)};
    poison(dS[0], 40 * 33);
    poison(dgo[1], 20 * 50);
    CHECK_OK(lac_sw_backward(a, NULL, NULL, dS, dgo, NULL, &err), &err);
    double mx = 0;
    for (int k = 0; k < 40 * 33; k++) mx = fabs(dS[0][k]) > mx ? fabs(dS[0][k]) : mx;
    for (int k = 0; k < 20 * 50; k++) mx = fabs(dgo[1][k]) > mx ? fabs(dgo[1][k]) : mx;
    CHECK(mx == 0, "%s: zero incoming gradients give %g", PATHS[pi], mx);
    /* a second backward of the same forward gives the same result */
    const float gV[2] = {1, -2};
    float *dS2[2] = {malloc(sizeof(float) * 40 * 33), malloc(sizeof(float) * 20 * 50)};
    CHECK_OK(lac_sw_backward(a, gV, NULL, dS, NULL, NULL, &err), &err);
    CHECK_OK(lac_sw_backward(a, gV, NULL, dS2, NULL, NULL, &err), &err);
    CHECK(!memcmp(dS[0], dS2[0], sizeof(float) * 40 * 33), "%s: backward not repeatable",
          PATHS[pi]);
    /* sum of dV/dS = expected number of matches >= 0 */
    double sum = 0;
    for (int k = 0; k < 40 * 33; k++) sum += dS[0][k];
    CHECK(sum > 0, "%s: expected match count %g", PATHS[pi], sum);
    free(dS[0]), free(dgo[1]), free(dS2[0]), free(dS2[1]);
  }
  free_pair(&t[0]);
  free_pair(&t[1]);
}

/* ---------------------------------------------------------------- hard mode */

static void test_hard(lac_aligner *a) {
  lac_rng r;
  lac_rng_seed(&r, 11);
  lac_error err;
  for (int pc = 0; pc <= 1; pc++) {
    const int np = 10;
    tpair t[MAXP];
    float gV[MAXP], *gM[MAXP];
    for (int p = 0; p < np; p++) {
      const int n = 1 + (int)(lac_rng_next(&r) % 40), m = 1 + (int)(lac_rng_next(&r) % 40);
      make_pair(&t[p], &r, n, m, 1);
      if (!pc) t[p].go[0] = 2, t[p].ge[0] = 1; /* integer scalars */
      gV[p] = 1.5f;
      gM[p] = malloc(sizeof(float) * n * m);
      for (int k = 0; k < n * m; k++) gM[p][k] = (p & 1) ? unif(&r, -0.3f, 0.3f) : 0.0f;
    }
    result res;
    result_alloc(&res, t, np);
    if (run(a, "auto", 0, t, np, pc, 0.0f, gV, gM, &res)) {
      result_free(&res, np);
      continue;
    }
    CHECK(!strcmp(lac_sw_cpu_path(a), "hard"), "hard forward ran '%s'", lac_sw_cpu_path(a));
    for (int p = 0; p < np; p++) {
      const int n = t[p].n, m = t[p].m;
      const size_t c = (size_t)n * m;
      dref d;
      dref_init(&d, &t[p], pc, 0.0);
      dref_forward(&d);
      CHECK(res.V[p] == d.V, "hard pair %d: V %g vs %g", p, res.V[p], d.V);
      int mok = 1;
      for (size_t k = 0; k < c; k++) mok &= res.M[p][k] == d.M[k];
      CHECK(mok, "hard pair %d: M differs", p);
      lac_sw_step *ps = malloc(sizeof(lac_sw_step) * (n + m)),
                  *pr = malloc(sizeof(lac_sw_step) * (n + m));
      int ns = -1;
      CHECK_OK(lac_sw_path(a, p, ps, n + m, &ns, &err), &err);
      const int nr = dref_path(&d, pr);
      int same = ns == nr;
      for (int k = 0; same && k < ns; k++)
        same = ps[k].i == pr[k].i && ps[k].j == pr[k].j && ps[k].state == pr[k].state;
      CHECK(same, "hard pair %d (%dx%d): path differs from the reference (%d vs %d steps)", p, n,
            m, ns, nr);
#if HAVE_SW_REF
      {
        double *Sd = malloc(sizeof(double) * c), *od = malloc(sizeof(double) * c),
               *ed = malloc(sizeof(double) * c);
        for (size_t k = 0; k < c; k++) Sd[k] = t[p].S[k], od[k] = t[p].go[k], ed[k] = t[p].ge[k];
        lac_sw_step *pw = malloc(sizeof(lac_sw_step) * (n + m));
        int nw = -1;
        const double Vw = lac_sw_ref_hard(n, m, Sd, od, ed, pc, pw, n + m, &nw);
        int same_ref = nw == ns && Vw == res.V[p];
        for (int k = 0; same_ref && k < ns; k++)
          same_ref = ps[k].i == pw[k].i && ps[k].j == pw[k].j && ps[k].state == pw[k].state;
        CHECK(same_ref, "hard pair %d (%dx%d): path or V differs from lac_sw_ref_hard", p, n, m);
        free(Sd), free(od), free(ed), free(pw);
      }
#endif
      /* the path's score is V */
      double score = 0;
      for (int k = 0; k < ns; k++) {
        const size_t q = (size_t)ps[k].i * m + ps[k].j;
        const double o = pc ? t[p].go[q] : t[p].go[0], e = pc ? t[p].ge[q] : t[p].ge[0];
        if (ps[k].state == 'M') score += t[p].S[q];
        else if (k > 0 && ps[k - 1].state == ps[k].state) score -= e;
        else score -= o;
      }
      CHECK(score == res.V[p], "hard pair %d: path score %g, V %g", p, score, res.V[p]);
      CHECK(ps[0].state == 'M' && ps[ns - 1].state == 'M',
            "hard pair %d: path must start and end in M", p);
      /* gradients: the reference's one-hot backward */
      double *dS = malloc(sizeof(double) * c), *dgo = malloc(sizeof(double) * c),
             *dge = malloc(sizeof(double) * c);
      dref_backward(&d, gV[p], gM[p], dS, dgo, dge);
      double e1 = relerr_fd(res.dS[p], dS, c), e2, e3;
      if (pc) {
        e2 = relerr_fd(res.dgo[p], dgo, c), e3 = relerr_fd(res.dge[p], dge, c);
      } else {
        double so = 0, se = 0;
        for (size_t k = 0; k < c; k++) so += dgo[k], se += dge[k];
        e2 = relerr_fd(res.dgo[p], &so, 1), e3 = relerr_fd(res.dge[p], &se, 1);
      }
      CHECK(e1 <= 1e-6 && e2 <= 1e-6 && e3 <= 1e-6, "hard pair %d: gradient errors %.3g %.3g %.3g",
            p, e1, e2, e3);
      if (!(p & 1)) {
        /* without gM the gradient is the path: gV on its match cells, 0 elsewhere */
        float *ind = calloc(c, sizeof(float));
        for (int k = 0; k < ns; k++)
          if (ps[k].state == 'M') ind[(size_t)ps[k].i * m + ps[k].j] = gV[p];
        CHECK(!memcmp(ind, res.dS[p], sizeof(float) * c), "hard pair %d: dS is not the path", p);
        free(ind);
      }
      /* a cap below the path length is refused */
      if (ns > 1) {
        lac_status st = lac_sw_path(a, p, ps, ns - 1, &ns, &err);
        CHECK(st == LAC_ERR_INVALID_ARG, "cap too small accepted");
      }
      free(ps), free(pr), free(dS), free(dgo), free(dge);
      dref_free(&d);
    }
    result_free(&res, np);
    for (int p = 0; p < np; p++) {
      free_pair(&t[p]);
      free(gM[p]);
    }
  }
}

/* ---------------------------------------------------------------- errors */

static void test_errors(lac_aligner *a0) {
  lac_error err;
  lac_aligner *a = NULL;
  CHECK_OK(lac_aligner_new(NULL, &a, &err), &err);
  lac_rng r;
  lac_rng_seed(&r, 5);
  tpair t[2];
  make_pair(&t[0], &r, 6, 7, 0);
  make_pair(&t[1], &r, 5, 4, 0);
  lac_sw_pair pairs[2];
  to_sw(t, 2, pairs);
  float V[2], dS0[42];
  float *dS[2] = {dS0, NULL};
  lac_sw_options opt = {0.8f, 1};
  lac_sw_step steps[16];
  int ns;

  CHECK(lac_sw_backward(a, NULL, NULL, dS, NULL, NULL, &err) == LAC_ERR_INVALID_ARG,
        "backward without a forward accepted");
  printf("  backward without forward: %s\n", err.message);
  CHECK(lac_sw_path(a, 0, steps, 16, &ns, &err) == LAC_ERR_INVALID_ARG, "path without forward");
  CHECK(lac_sw_forward(NULL, &opt, 2, pairs, V, NULL, &err) == LAC_ERR_INVALID_ARG, "NULL aligner");
  CHECK(lac_sw_forward(a, NULL, 2, pairs, V, NULL, &err) == LAC_ERR_INVALID_ARG, "NULL opt");
  CHECK(lac_sw_forward(a, &opt, 2, NULL, V, NULL, &err) == LAC_ERR_INVALID_ARG, "NULL pairs");
  CHECK(lac_sw_forward(a, &opt, 2, pairs, NULL, NULL, &err) == LAC_ERR_INVALID_ARG, "NULL V");
  CHECK(lac_sw_forward(a, &opt, -1, pairs, V, NULL, &err) == LAC_ERR_INVALID_ARG, "n_pairs < 0");
  lac_sw_pair bad[2];
  memcpy(bad, pairs, sizeof bad);
  bad[1].n = 0;
  CHECK(lac_sw_forward(a, &opt, 2, bad, V, NULL, &err) == LAC_ERR_INVALID_ARG, "n = 0 accepted");
  printf("  n = 0: %s\n", err.message);
  bad[1].n = 5, bad[1].m = -3;
  CHECK(lac_sw_forward(a, &opt, 2, bad, V, NULL, &err) == LAC_ERR_INVALID_ARG, "m < 0 accepted");
  bad[1].m = 4, bad[1].ge = NULL;
  CHECK(lac_sw_forward(a, &opt, 2, bad, V, NULL, &err) == LAC_ERR_INVALID_ARG, "NULL ge accepted");
  printf("  NULL ge: %s\n", err.message);
  const float taus[4] = {-0.5f, NAN, INFINITY, 1e-40f};
  for (int k = 0; k < 4; k++) {
    lac_sw_options o = {taus[k], 1};
    CHECK(lac_sw_forward(a, &o, 2, pairs, V, NULL, &err) == LAC_ERR_INVALID_ARG,
          "tau %g accepted", taus[k]);
    if (k == 0) printf("  tau < 0: %s\n", err.message);
  }
  lac_sw_options o2 = {0.8f, 2};
  CHECK(lac_sw_forward(a, &o2, 2, pairs, V, NULL, &err) == LAC_ERR_INVALID_ARG, "per_cell_gaps 2");
  /* non-finite inputs, named by pair and cell, on every path; on the vector paths with the
   * planner's strips and with 2 and 8, so that the bad cells reach lanes of both halves of a
   * vector (the narrow strips' loads, ld2) */
  for (int pi = 0; pi < 3; pi++) {
    if (!have_path[pi]) continue;
    static const int strips[3] = {0, 2, 8};
    for (int sk = 0; sk < (pi ? 3 : 1); sk++) {
      CHECK_OK(lac_sw_cpu_force(a, PATHS[pi], strips[sk], &err), &err);
      t[1].S[2 * 4 + 3] = NAN;
      CHECK(lac_sw_forward(a, &opt, 2, pairs, V, NULL, &err) == LAC_ERR_NUMERIC,
            "%s strips %d: NaN S accepted", PATHS[pi], strips[sk]);
      CHECK(strstr(err.message, "pair 1") && strstr(err.message, "S[2][3]"), "message: %s",
            err.message);
      if (pi == 2 && sk == 0) printf("  NaN in S: %s\n", err.message);
      t[1].S[2 * 4 + 3] = 0.5f;
      CHECK(lac_sw_backward(a, NULL, NULL, dS, NULL, NULL, &err) == LAC_ERR_INVALID_ARG,
            "backward after a failed forward accepted");
      t[0].go[9] = INFINITY;
      CHECK(lac_sw_forward(a, &opt, 2, pairs, V, NULL, &err) == LAC_ERR_NUMERIC,
            "%s strips %d: inf go accepted", PATHS[pi], strips[sk]);
      CHECK(strstr(err.message, "pair 0") && strstr(err.message, "go[1][2]"), "message: %s",
            err.message);
      t[0].go[9] = 1.0f;
      t[0].ge[0] = 1e25f;
      CHECK(lac_sw_forward(a, &opt, 2, pairs, V, NULL, &err) == LAC_ERR_NUMERIC,
            "%s strips %d: huge ge accepted", PATHS[pi], strips[sk]);
      t[0].ge[0] = 0.2f;
      t[1].ge[3 * 4 + 1] = -1e25f;
      CHECK(lac_sw_forward(a, &opt, 2, pairs, V, NULL, &err) == LAC_ERR_NUMERIC,
            "%s strips %d: huge ge of pair 1 accepted", PATHS[pi], strips[sk]);
      t[1].ge[3 * 4 + 1] = 0.2f;
    }
    CHECK_OK(lac_sw_cpu_force(a, PATHS[pi], 0, &err), &err);
    lac_sw_options os = {0.8f, 0};
    t[1].ge[0] = NAN;
    CHECK(lac_sw_forward(a, &os, 2, pairs, V, NULL, &err) == LAC_ERR_NUMERIC, "NaN scalar ge");
    CHECK(strstr(err.message, "pair 1") && strstr(err.message, "ge"), "message: %s", err.message);
    t[1].ge[0] = 0.2f;
    /* gradients: NaN gM, named */
    CHECK_OK(lac_sw_forward(a, &opt, 2, pairs, V, NULL, &err), &err);
    float gMa[20] = {0};
    gMa[13] = NAN;
    const float *gM[2] = {NULL, gMa};
    CHECK(lac_sw_backward(a, NULL, gM, dS, NULL, NULL, &err) == LAC_ERR_NUMERIC, "NaN gM accepted");
    CHECK(strstr(err.message, "pair 1") && strstr(err.message, "gM[3][1]"), "message: %s",
          err.message);
    /* path after a soft forward */
    CHECK(lac_sw_path(a, 0, steps, 16, &ns, &err) == LAC_ERR_INVALID_ARG,
          "path after soft forward");
    if (pi == 0) printf("  path after soft: %s\n", err.message);
  }
  CHECK(lac_sw_cpu_force(a, "sse9", 0, &err) == LAC_ERR_INVALID_ARG, "unknown path accepted");
  CHECK(lac_sw_cpu_force(a, "auto", 3, &err) == LAC_ERR_INVALID_ARG, "strips 3 accepted");
  /* hard path: p out of range */
  lac_sw_options oh = {0.0f, 1};
  CHECK_OK(lac_sw_cpu_force(a, "auto", 0, &err), &err);
  CHECK_OK(lac_sw_forward(a, &oh, 2, pairs, V, NULL, &err), &err);
  CHECK(lac_sw_path(a, 2, steps, 16, &ns, &err) == LAC_ERR_INVALID_ARG, "pair 2 of 2 accepted");
  CHECK(lac_sw_path(a, 0, NULL, 16, &ns, &err) == LAC_ERR_INVALID_ARG, "NULL steps accepted");
  lac_aligner_params bp = {-1, NULL};
  lac_aligner *b = NULL;
  CHECK(lac_aligner_new(&bp, &b, &err) == LAC_ERR_INVALID_ARG && !b, "n_threads -1 accepted");
  lac_aligner_free(a);
  lac_aligner_free(NULL);
  free_pair(&t[0]);
  free_pair(&t[1]);
  (void)a0;
}

int main(void) {
  lac_error err;
  lac_aligner *a = NULL;
  lac_aligner_params ap = lac_aligner_default_params();
  ap.n_threads = 2;
  CHECK_OK(lac_aligner_new(&ap, &a, &err), &err);
  if (!a) return test_exit("sw_cpu");
  for (int pi = 0; pi < 3; pi++) have_path[pi] = lac_sw_cpu_force(a, PATHS[pi], 0, &err) == LAC_OK;
  printf("paths: scalar%s%s; double reference: test loop%s\n", have_path[1] ? ", avx2" : "",
         have_path[2] ? ", avx512" : "", HAVE_SW_REF ? " and lib/align/sw_ref.c" : "");
  test_reference_fd();
  test_math();
  test_soft(a);
  test_many(a);
  test_plan(a);
  test_null_grads(a);
  test_hard(a);
  test_errors(a);
  printf("worst error / tolerance:");
  for (int k = 0; k < K_NK; k++) printf(" %s %.3g", KNAME[k], worst[k]);
  printf("\nvector vs scalar and batch vs single: %ld of %ld V/gradient arrays bit-identical\n",
         n_exact, n_compared);
  lac_aligner_free(a);
  return test_exit("sw_cpu");
}
