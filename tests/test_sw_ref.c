/* test_sw_ref.c — proves the double reference of the smoothed Smith-Waterman with affine gaps
 * (lib/align/sw_ref.c) right, by SW_AFFINE.md §4 items 1-4 (docs/alignment.md lists what each
 * part proves and the errors it measured):
 *
 *  1. brute force: every local alignment enumerated for all sizes up to 6x6, V against
 *     tau * logsumexp(score / tau), gradients against the Gibbs expected match / open /
 *     extend counts (per cell and summed), the number of alignments against a counting DP;
 *  2. finite differences (central, eps 1e-6) of gV * V + sum gM .* M for S, go, ge, per-cell
 *     and scalar, tau 0.8 and 0.3, non-zero random gV and gM; an independent pull-form
 *     backward written here; variants of it with the LAC reference code's bugs 1 and 3
 *     (METHOD.md §3), which the same checker must flag while the real backward passes;
 *  3. tau -> 0: an independent integer Gotoh DP, 0 <= V_tau - V_0 <= tau log(#alignments),
 *     lac_sw_ref_hard = the integer optimum, its path valid and scoring V, the tau = 0
 *     backward = the path's one-hot counts, the smoothed gradient converging to them; the
 *     documented tie-breaks on hand-made ties;
 *  4. invariants: V(S) = V(S^T) (and dS transposes) with scalar penalties; constant per-cell
 *     penalties = scalar ones; sum dV/dS = expected match count.
 *
 * Not here: batches (the reference has none; "batch = pairs one by one" belongs to the fast
 * paths' tests) and the float32 / CUDA comparisons (§4 item 5).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "align/sw_ref.h"
#include "testutil.h"

#define NEG LAC_SW_REF_NEG_INF

/* ---------------------------------------------------------------- small helpers */

typedef struct {
  uint64_t s;
} rng;

static double urand(rng *r) { /* uniform [0, 1), splitmix64 */
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (double)(z >> 11) * 0x1.0p-53;
}
static double uni(rng *r, double lo, double hi) { return lo + (hi - lo) * urand(r); }
static int irand(rng *r, int lo, int hi) { return lo + (int)(urand(r) * (hi - lo + 1)); }

static double maxd(double a, double b) { return a > b ? a : b; }

/* One problem: inputs and the forward's tables.  go/ge always have n*m slots; only [0] is
 * used when !per_cell. */
typedef struct {
  int n, m, per_cell;
  double *S, *go, *ge, *M, *X, *Y;
} prob;

static prob prob_new(int n, int m, int per_cell) {
  prob p = {n, m, per_cell, NULL, NULL, NULL, NULL, NULL, NULL};
  size_t nm = (size_t)n * m;
  double *b = calloc(6 * nm, sizeof *b);
  if (!b) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  p.S = b;
  p.go = b + nm;
  p.ge = b + 2 * nm;
  p.M = b + 3 * nm;
  p.X = b + 4 * nm;
  p.Y = b + 5 * nm;
  return p;
}
static void prob_free(prob *p) { free(p->S); }
static size_t nm_of(const prob *p) { return (size_t)p->n * p->m; }
static size_t ng_of(const prob *p) { return p->per_cell ? nm_of(p) : 1; }

static void prob_random(prob *p, rng *r) {
  for (size_t c = 0; c < nm_of(p); c++) {
    p->S[c] = uni(r, -1.0, 1.0);
    p->go[c] = uni(r, 0.3, 1.2);
    p->ge[c] = uni(r, 0.05, 0.5);
  }
}

static double fwd(prob *p, double tau) {
  return lac_sw_ref_forward(p->n, p->m, p->S, p->go, p->ge, p->per_cell, tau, p->M, p->X, p->Y);
}
static int bwd(prob *p, double tau, double gV, const double *gM, double *dS, double *dgo,
               double *dge) {
  return lac_sw_ref_backward(p->n, p->m, p->S, p->go, p->ge, p->per_cell, tau, p->M, p->X, p->Y,
                             gV, gM, dS, dgo, dge);
}
/* gV * V + sum gM .* M (runs the forward) */
static double objective(prob *p, double tau, double gV, const double *gM) {
  double f = gV * fwd(p, tau);
  if (gM)
    for (size_t c = 0; c < nm_of(p); c++) f += gM[c] * p->M[c];
  return f;
}

static double *dalloc(size_t k) {
  double *a = calloc(k ? k : 1, sizeof *a);
  if (!a) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return a;
}
static double max_abs_diff(const double *a, const double *b, size_t k) {
  double d = 0;
  for (size_t t = 0; t < k; t++) {
    double e = fabs(a[t] - b[t]);
    if (isnan(e)) return INFINITY;
    d = maxd(d, e);
  }
  return d;
}
static double sum_of(const double *a, size_t k) {
  double s = 0;
  for (size_t t = 0; t < k; t++) s += a[t];
  return s;
}

/* ---------------------------------------------------------------- paths */

/* Score of a path of steps (first to last) under p, or NAN when it is not a local alignment
 * of the model (starts and ends in a match, moves M->M/X/Y, X->M/X/Y, Y->M/Y, in bounds).
 * When cm/co/ce are non-NULL, adds w to the per-cell match / open / extend counts. */
static double path_score(const prob *p, const lac_sw_step *s, int len, double w, double *cm,
                         double *co, double *ce) {
  if (len < 1 || s[0].state != 'M' || s[len - 1].state != 'M') return NAN;
  double sc = 0;
  for (int k = 0; k < len; k++) {
    int i = s[k].i, j = s[k].j;
    if (i < 0 || j < 0 || i >= p->n || j >= p->m) return NAN;
    size_t c = (size_t)i * p->m + j, g = p->per_cell ? c : 0;
    char st = s[k].state;
    if (k == 0) {
      sc += p->S[c];
      if (cm) cm[c] += w;
      continue;
    }
    int pi = s[k - 1].i, pj = s[k - 1].j;
    char ps = s[k - 1].state;
    if (st == 'M') {
      if (i != pi + 1 || j != pj + 1) return NAN;
      sc += p->S[c];
      if (cm) cm[c] += w;
    } else if (st == 'X') {
      if (ps == 'Y' || i != pi || j != pj + 1) return NAN;
      if (ps == 'M') {
        sc -= p->go[g];
        if (co) co[c] += w;
      } else {
        sc -= p->ge[g];
        if (ce) ce[c] += w;
      }
    } else if (st == 'Y') {
      if (i != pi + 1 || j != pj) return NAN;
      if (ps == 'Y') {
        sc -= p->ge[g];
        if (ce) ce[c] += w;
      } else {
        sc -= p->go[g];
        if (co) co[c] += w;
      }
    } else {
      return NAN;
    }
  }
  return sc;
}

/* ---------------------------------------------------------------- 1. brute force */

typedef struct {
  const prob *p;
  double tau;
  lac_sw_step st[64];
  int len;
  int pass;      /* 0: count and max; 1: partition sum; 2: expected counts */
  long count;
  double mx, Z;
  double *em, *eo, *ee; /* expected match / open / extend counts per cell */
} bf;

static void bf_visit(bf *b) {
  double sc = path_score(b->p, b->st, b->len, 0, NULL, NULL, NULL);
  if (b->pass == 0) {
    if (b->count == 0 || sc > b->mx) b->mx = sc;
    b->count++;
  } else if (b->pass == 1) {
    b->Z += exp((sc - b->mx) / b->tau);
  } else {
    double w = exp((sc - b->mx) / b->tau) / b->Z;
    path_score(b->p, b->st, b->len, w, b->em, b->eo, b->ee);
  }
}

static void bf_push(bf *b, int i, int j, char s);

/* Every continuation of the partial alignment on the stack (an alignment may end at every
 * match state). */
static void bf_dfs(bf *b) {
  lac_sw_step t = b->st[b->len - 1];
  if (t.state == 'M') bf_visit(b);
  if (t.i + 1 < b->p->n && t.j + 1 < b->p->m) bf_push(b, t.i + 1, t.j + 1, 'M');
  if (t.state != 'Y' && t.j + 1 < b->p->m) bf_push(b, t.i, t.j + 1, 'X'); /* no Y->X */
  if (t.i + 1 < b->p->n) bf_push(b, t.i + 1, t.j, 'Y');
}
static void bf_push(bf *b, int i, int j, char s) {
  b->st[b->len].i = i;
  b->st[b->len].j = j;
  b->st[b->len].state = s;
  b->len++;
  bf_dfs(b);
  b->len--;
}
static void bf_run(bf *b, int pass) {
  b->pass = pass;
  for (int i = 0; i < b->p->n; i++)
    for (int j = 0; j < b->p->m; j++) {
      b->len = 0;
      bf_push(b, i, j, 'M');
    }
}

/* Number of local alignments by a counting DP (the recurrences with sum and 1 for start). */
static double count_alignments(int n, int m) {
  double *C = dalloc(3 * (size_t)(n + 1) * (m + 1));
  double *CM = C, *CX = C + (size_t)(n + 1) * (m + 1), *CY = C + 2 * (size_t)(n + 1) * (m + 1);
#define AT(T, i, j) T[(size_t)(i) * (m + 1) + (j)]
  double total = 0;
  for (int i = 1; i <= n; i++)
    for (int j = 1; j <= m; j++) {
      AT(CM, i, j) = 1 + AT(CM, i - 1, j - 1) + AT(CX, i - 1, j - 1) + AT(CY, i - 1, j - 1);
      AT(CX, i, j) = AT(CM, i, j - 1) + AT(CX, i, j - 1);
      AT(CY, i, j) = AT(CM, i - 1, j) + AT(CX, i - 1, j) + AT(CY, i - 1, j);
      total += AT(CM, i, j);
    }
#undef AT
  free(C);
  return total;
}

static void test_brute_force(void) {
  const double taus[] = {1e-3, 0.1, 0.8, 1.0, 10.0};
  const int NT = (int)(sizeof taus / sizeof taus[0]);
  double errV = 0, errS = 0, errgo = 0, errge = 0, errsum = 0;
  int cases = 0, count_ok = 1;
  long count66 = 0;
  rng r = {1234};
  for (int per_cell = 0; per_cell <= 1; per_cell++)
    for (int n = 1; n <= 6; n++)
      for (int m = 1; m <= 6; m++) {
        prob p = prob_new(n, m, per_cell);
        prob_random(&p, &r);
        size_t nm = nm_of(&p), ng = ng_of(&p);
        double *dS = dalloc(nm), *dgo = dalloc(ng), *dge = dalloc(ng);
        double *em = dalloc(nm), *eo = dalloc(nm), *ee = dalloc(nm);
        for (int t = 0; t < NT; t++) {
          double tau = taus[t];
          double V = fwd(&p, tau);
          CHECK(bwd(&p, tau, 1.0, NULL, dS, dgo, dge) == 0, "backward failed");
          memset(em, 0, nm * sizeof *em);
          memset(eo, 0, nm * sizeof *eo);
          memset(ee, 0, nm * sizeof *ee);
          bf b = {&p, tau, {{0, 0, 0}}, 0, 0, 0, 0, 0, em, eo, ee};
          bf_run(&b, 0);
          bf_run(&b, 1);
          bf_run(&b, 2);
          double Vbf = b.mx + tau * log(b.Z);
          double e = fabs(V - Vbf) / maxd(fabs(Vbf), 1e-300);
          errV = maxd(errV, e);
          CHECK(e <= 1e-12, "%dx%d per_cell %d tau %g: V %.17g brute force %.17g (rel %.3g)", n,
                m, per_cell, tau, V, Vbf, e);
          if ((double)b.count != count_alignments(n, m)) count_ok = 0;
          if (n == 6 && m == 6) count66 = b.count;

          /* dV/dS = P(cell matched); -dV/dgo, -dV/dge = expected open / extend counts */
          double eS = max_abs_diff(dS, em, nm), ego, ege;
          if (per_cell) {
            for (size_t c = 0; c < nm; c++) {
              eo[c] = -eo[c];
              ee[c] = -ee[c];
            }
            ego = max_abs_diff(dgo, eo, nm);
            ege = max_abs_diff(dge, ee, nm);
          } else {
            ego = fabs(dgo[0] + sum_of(eo, nm));
            ege = fabs(dge[0] + sum_of(ee, nm));
          }
          /* invariant: sum of dV/dS = expected number of matches */
          double es = fabs(sum_of(dS, nm) - sum_of(em, nm));
          errS = maxd(errS, eS);
          errgo = maxd(errgo, ego);
          errge = maxd(errge, ege);
          errsum = maxd(errsum, es);
          CHECK(eS <= 1e-12 && ego <= 1e-12 && ege <= 1e-12 && es <= 1e-12,
                "%dx%d per_cell %d tau %g: |dS - E[match]| %.3g, |dgo + E[open]| %.3g, "
                "|dge + E[extend]| %.3g, |sum dS - E[#match]| %.3g",
                n, m, per_cell, tau, eS, ego, ege, es);
          cases++;
        }
        free(dS), free(dgo), free(dge), free(em), free(eo), free(ee);
        prob_free(&p);
      }
  CHECK(count_ok, "brute-force alignment counts differ from the counting DP");
  CHECK(count66 == 923, "6x6 has %ld local alignments, SW_AFFINE.md says 923", count66);
  printf("brute force (all n, m <= 6, %d cases, %ld alignments at 6x6): max rel err V %.3g; "
         "max abs err dS %.3g, dgo %.3g, dge %.3g, sum dS %.3g\n",
         cases, count66, errV, errS, errgo, errge, errsum);
}

/* ---------------------------------------------------------------- 2. an independent backward,
 * and the LAC reference code's bugs */

enum { BUG_NONE = 0, BUG_1 = 1, BUG_3 = 3 };

/* The weights of state smax's at (i, j) from the stored tables, as softmax(v / tw) (tw = tau:
 * correct; tw = 1: the reference code's bug 1).  Zeros outside the matrix. */
static void weights_at(const prob *p, double tw, int i, int j, double wM[4], double wX[2],
                       double wY[3]) {
  memset(wM, 0, 4 * sizeof *wM);
  memset(wX, 0, 2 * sizeof *wX);
  memset(wY, 0, 3 * sizeof *wY);
  if (i < 0 || j < 0 || i >= p->n || j >= p->m) return;
  int m = p->m;
  size_t c = (size_t)i * m + j, g = p->per_cell ? c : 0;
  double v[4];
  int k;
  double *w;
  for (int s = 0; s < 3; s++) {
    if (s == 0) { /* M */
      v[0] = 0;
      v[1] = (i > 0 && j > 0) ? p->M[c - m - 1] : NEG;
      v[2] = (i > 0 && j > 0) ? p->X[c - m - 1] : NEG;
      v[3] = (i > 0 && j > 0) ? p->Y[c - m - 1] : NEG;
      k = 4;
      w = wM;
    } else if (s == 1) { /* X */
      v[0] = (j > 0) ? p->M[c - 1] - p->go[g] : NEG;
      v[1] = (j > 0 && p->X[c - 1] > NEG) ? p->X[c - 1] - p->ge[g] : NEG;
      k = 2;
      w = wX;
    } else { /* Y */
      v[0] = (i > 0) ? p->M[c - m] - p->go[g] : NEG;
      v[1] = (i > 0 && p->X[c - m] > NEG) ? p->X[c - m] - p->go[g] : NEG;
      v[2] = (i > 0 && p->Y[c - m] > NEG) ? p->Y[c - m] - p->ge[g] : NEG;
      k = 3;
      w = wY;
    }
    double mx = v[0];
    for (int t = 1; t < k; t++) mx = maxd(mx, v[t]);
    if (mx <= NEG) continue;
    double z = 0;
    for (int t = 0; t < k; t++) z += exp((v[t] - mx) / tw);
    for (int t = 0; t < k; t++) w[t] = exp((v[t] - mx) / tw) / z;
  }
}

/* Pull-form adjoints, literally SW_AFFINE.md §2, with weights at temperature tw. */
static void adjoints(const prob *p, double tw, double gV, const double *gM, double *EM,
                     double *EX, double *EY) {
  int n = p->n, m = p->m;
  size_t nm = nm_of(p);
  double mx = p->M[0], z = 0;
  for (size_t c = 1; c < nm; c++) mx = maxd(mx, p->M[c]);
  for (size_t c = 0; c < nm; c++) z += exp((p->M[c] - mx) / tw);
  for (int i = n - 1; i >= 0; i--)
    for (int j = m - 1; j >= 0; j--) {
      size_t c = (size_t)i * m + j;
      /* of M[i+1,j+1], X[i,j+1], Y[i+1,j] (the states that read (i, j)); the other two
       * weight vectors each call returns are not needed */
      double dM[4], dX[2], dY[3], rM[4], rX[2], rY[3], uM[4], uX[2], uY[3];
      weights_at(p, tw, i + 1, j + 1, dM, dX, dY);
      weights_at(p, tw, i, j + 1, rM, rX, rY);
      weights_at(p, tw, i + 1, j, uM, uX, uY);
      double eMd = (i + 1 < n && j + 1 < m) ? EM[c + m + 1] : 0;
      double eXr = (j + 1 < m) ? EX[c + 1] : 0;
      double eYd = (i + 1 < n) ? EY[c + m] : 0;
      EM[c] = gV * exp((p->M[c] - mx) / tw) / z + (gM ? gM[c] : 0) + eMd * dM[1] +
              eXr * rX[0] + eYd * uY[0];
      EX[c] = eMd * dM[2] + eXr * rX[1] + eYd * uY[1];
      EY[c] = eMd * dM[3] + eYd * uY[2];
    }
}

/* A backward written independently of the library's (pull form), exact for bug = BUG_NONE;
 * BUG_1: every softmax without 1/tau (as the LAC code: softmax(x), also for V's weights);
 * BUG_3: per-cell gap gradients of cell (i,j) taken from X[i,j+1] and Y[i+1,j] (shifted by one
 * cell) and from adjoints of a unit gV without gM (not multiplied by the incoming gradient),
 * as the LAC code does; dS stays exact. */
static void test_backward(const prob *p, double tau, double gV, const double *gM, int bug,
                          double *dS, double *dgo, double *dge) {
  int n = p->n, m = p->m;
  size_t nm = nm_of(p);
  double tw = (bug == BUG_1) ? 1.0 : tau;
  double *EM = dalloc(nm), *EX = dalloc(nm), *EY = dalloc(nm);
  adjoints(p, tw, gV, gM, EM, EX, EY);
  memcpy(dS, EM, nm * sizeof *dS);
  if (bug == BUG_3) adjoints(p, tw, 1.0, NULL, EM, EX, EY);
  double sgo = 0, sge = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++) {
      size_t c = (size_t)i * m + j;
      double wM[4], wX[2], wY[3], go_, ge_;
      if (bug == BUG_3) {
        double uM[4], uX[2], uY[3];
        weights_at(p, tw, i, j + 1, wM, wX, wY);
        weights_at(p, tw, i + 1, j, uM, uX, uY);
        double ex = (j + 1 < m) ? EX[c + 1] : 0, ey = (i + 1 < n) ? EY[c + m] : 0;
        go_ = -(ex * wX[0] + ey * (uY[0] + uY[1]));
        ge_ = -(ex * wX[1] + ey * uY[2]);
      } else {
        weights_at(p, tw, i, j, wM, wX, wY);
        go_ = -(EX[c] * wX[0] + EY[c] * (wY[0] + wY[1]));
        ge_ = -(EX[c] * wX[1] + EY[c] * wY[2]);
      }
      if (p->per_cell) {
        dgo[c] = go_;
        dge[c] = ge_;
      } else {
        sgo += go_;
        sge += ge_;
      }
    }
  if (!p->per_cell) {
    dgo[0] = sgo;
    dge[0] = sge;
  }
  free(EM), free(EY), free(EX);
}

/* ---------------------------------------------------------------- 2. finite differences */

typedef struct {
  double *S, *go, *ge; /* central differences of gV * V + sum gM .* M */
} fd_grad;

static fd_grad fd_compute(prob *p, double tau, double gV, const double *gM) {
  const double eps = 1e-6;
  fd_grad f = {dalloc(nm_of(p)), dalloc(ng_of(p)), dalloc(ng_of(p))};
  double *par[3] = {p->S, p->go, p->ge}, *out[3] = {f.S, f.go, f.ge};
  size_t cnt[3] = {nm_of(p), ng_of(p), ng_of(p)};
  for (int t = 0; t < 3; t++)
    for (size_t k = 0; k < cnt[t]; k++) {
      double x = par[t][k];
      par[t][k] = x + eps;
      double fp = objective(p, tau, gV, gM);
      par[t][k] = x - eps;
      double fm = objective(p, tau, gV, gM);
      par[t][k] = x;
      out[t][k] = (fp - fm) / (2 * eps);
    }
  fwd(p, tau); /* restore the tables of the unperturbed inputs */
  return f;
}
static void fd_free(fd_grad *f) { free(f->S), free(f->go), free(f->ge); }

/* The checker: max |g - fd| / max(max |fd|, 1e-6) for S, go, ge; returns the largest. */
static double fd_err(const prob *p, const fd_grad *f, const double *dS, const double *dgo,
                     const double *dge, double err[3]) {
  const double *a[3] = {dS, dgo, dge}, *b[3] = {f->S, f->go, f->ge};
  size_t cnt[3] = {nm_of(p), ng_of(p), ng_of(p)};
  double worst = 0;
  for (int t = 0; t < 3; t++) {
    double scale = 1e-6;
    for (size_t k = 0; k < cnt[t]; k++) scale = maxd(scale, fabs(b[t][k]));
    err[t] = max_abs_diff(a[t], b[t], cnt[t]) / scale;
    worst = maxd(worst, err[t]);
  }
  return worst;
}

#define FD_TOL 1e-6

static void test_finite_differences(void) {
  const int sizes[][2] = {{7, 9}, {12, 5}};
  const double taus[] = {0.8, 0.3};
  double worst = 0, worst_indep = 0;
  rng r = {777};
  for (int sz = 0; sz < 2; sz++)
    for (int per_cell = 1; per_cell >= 0; per_cell--)
      for (int t = 0; t < 2; t++) {
        int n = sizes[sz][0], m = sizes[sz][1];
        double tau = taus[t];
        prob p = prob_new(n, m, per_cell);
        prob_random(&p, &r);
        size_t nm = nm_of(&p), ng = ng_of(&p);
        double gV = uni(&r, 0.5, 1.5) * (urand(&r) < 0.5 ? -1 : 1);
        double *gM = dalloc(nm);
        for (size_t c = 0; c < nm; c++) gM[c] = uni(&r, -1, 1);
        double *dS = dalloc(nm), *dgo = dalloc(ng), *dge = dalloc(ng);
        double *tS = dalloc(nm), *tgo = dalloc(ng), *tge = dalloc(ng);
        fwd(&p, tau);
        CHECK(bwd(&p, tau, gV, gM, dS, dgo, dge) == 0, "backward failed");
        test_backward(&p, tau, gV, gM, BUG_NONE, tS, tgo, tge);
        fd_grad f = fd_compute(&p, tau, gV, gM);
        double err[3];
        double e = fd_err(&p, &f, dS, dgo, dge, err);
        worst = maxd(worst, e);
        CHECK(e <= FD_TOL, "%dx%d per_cell %d tau %g: FD rel err dS %.3g dgo %.3g dge %.3g", n, m,
              per_cell, tau, err[0], err[1], err[2]);
        /* the independent pull-form backward agrees with the library's */
        double ei = maxd(max_abs_diff(dS, tS, nm),
                         maxd(max_abs_diff(dgo, tgo, ng), max_abs_diff(dge, tge, ng)));
        worst_indep = maxd(worst_indep, ei);
        CHECK(ei <= 1e-12, "%dx%d per_cell %d tau %g: pull-form backward differs by %.3g", n, m,
              per_cell, tau, ei);
        printf("finite differences %2dx%-2d %s tau %.1f gV %+.2f: rel err dS %.2e dgo %.2e "
               "dge %.2e\n",
               n, m, per_cell ? "per-cell" : "scalar  ", tau, gV, err[0], err[1], err[2]);
        fd_free(&f);
        free(gM), free(dS), free(dgo), free(dge), free(tS), free(tgo), free(tge);
        prob_free(&p);
      }
  printf("finite differences: max rel err %.3g (tolerance %g); pull-form vs library backward "
         "max abs diff %.3g\n",
         worst, FD_TOL, worst_indep);
}

/* The LAC code's bugs 1 and 3, each a variant of the backward that the FD checker must flag. */
static void test_reference_bugs(void) {
  rng r = {4242};
  size_t nm;
  /* per-cell, tau 0.8, non-zero gV != 1 and gM */
  {
    prob p = prob_new(7, 9, 1);
    prob_random(&p, &r);
    nm = nm_of(&p);
    double gV = 0.7, *gM = dalloc(nm);
    for (size_t c = 0; c < nm; c++) gM[c] = uni(&r, -1, 1);
    double *dS = dalloc(nm), *dgo = dalloc(nm), *dge = dalloc(nm), err[3];
    const double taus[] = {0.8, 1.0};
    for (int t = 0; t < 2; t++) {
      double tau = taus[t];
      fwd(&p, tau);
      fd_grad f = fd_compute(&p, tau, gV, gM);
      CHECK(bwd(&p, tau, gV, gM, dS, dgo, dge) == 0, "backward failed");
      double e0 = fd_err(&p, &f, dS, dgo, dge, err);
      CHECK(e0 <= FD_TOL, "real backward at tau %g: FD rel err %.3g", tau, e0);
      test_backward(&p, tau, gV, gM, BUG_1, dS, dgo, dge);
      double e1 = fd_err(&p, &f, dS, dgo, dge, err);
      printf("bug 1 (softmax(x) for softmax(x/tau)), 7x9 per-cell, tau %.1f: FD rel err dS %.3g "
             "dgo %.3g dge %.3g (real backward %.2e)\n",
             tau, err[0], err[1], err[2], e0);
      if (tau != 1.0)
        CHECK(err[0] >= 1e-2 && e1 >= 1e4 * FD_TOL, "bug 1 not detected at tau %g: %.3g", tau, e1);
      else /* the variant is the bug and nothing else: invisible at tau = 1 */
        CHECK(e1 <= FD_TOL, "bug-1 variant differs at tau = 1: %.3g", e1);
      test_backward(&p, tau, gV, gM, BUG_3, dS, dgo, dge);
      double e3 = fd_err(&p, &f, dS, dgo, dge, err);
      printf("bug 3 (gap gradients shifted one cell, no incoming gradient), 7x9 per-cell, tau "
             "%.1f: FD rel err dS %.3g dgo %.3g dge %.3g\n",
             tau, err[0], err[1], err[2]);
      CHECK(err[1] >= 1e-1 && err[2] >= 1e-1 && e3 >= 1e4 * FD_TOL,
            "bug 3 not detected at tau %g: dgo %.3g dge %.3g", tau, err[1], err[2]);
      fd_free(&f);
    }
    free(gM), free(dS), free(dgo), free(dge);
    prob_free(&p);
  }
  /* scalar penalties: bug 3 is invisible with gV = 1, gM = 0 (the shift only moves terms
   * between cells), visible as soon as the incoming gradient is not 1 */
  {
    prob p = prob_new(7, 9, 0);
    prob_random(&p, &r);
    nm = nm_of(&p);
    double *gM = dalloc(nm), *dS = dalloc(nm), dgo, dge, err[3];
    for (size_t c = 0; c < nm; c++) gM[c] = uni(&r, -1, 1);
    double tau = 0.8;
    fwd(&p, tau);
    fd_grad f1 = fd_compute(&p, tau, 1.0, NULL);
    test_backward(&p, tau, 1.0, NULL, BUG_3, dS, &dgo, &dge);
    double e_inv = fd_err(&p, &f1, dS, &dgo, &dge, err);
    CHECK(e_inv <= FD_TOL, "bug 3 should be invisible with scalar gaps, gV 1, gM 0: %.3g", e_inv);
    fd_grad f2 = fd_compute(&p, tau, 0.7, gM);
    test_backward(&p, tau, 0.7, gM, BUG_3, dS, &dgo, &dge);
    double e_vis = fd_err(&p, &f2, dS, &dgo, &dge, err);
    CHECK(e_vis >= 1e-1, "bug 3 not detected with scalar gaps and gV 0.7, gM != 0: %.3g", e_vis);
    printf("bug 3 with scalar gaps, tau 0.8: FD rel err %.2e at gV 1, gM 0 (invisible); %.3g at "
           "gV 0.7, gM != 0\n",
           e_inv, e_vis);
    fd_free(&f1), fd_free(&f2);
    free(gM), free(dS);
    prob_free(&p);
  }
}

/* ---------------------------------------------------------------- 3. tau -> 0 */

/* Integer Gotoh / Smith-Waterman on the same model, 1-based with a border row and column of
 * -inf, written independently of the library; also counts the optimal alignments. */
typedef struct {
  long best;
  double n_best;
} int_sw;

static int_sw int_gotoh(int n, int m, const int *S, const int *go, const int *ge, int per_cell) {
  const long NI = -(1L << 40);
  size_t W = (size_t)m + 1, sz = (size_t)(n + 1) * W;
  long *H = malloc(3 * sz * sizeof *H);
  double *C = calloc(3 * sz, sizeof *C);
  if (!H || !C) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  long *E = H + sz, *F = H + 2 * sz;
  double *CH = C, *CE = C + sz, *CF = C + 2 * sz;
  for (size_t k = 0; k < 3 * sz; k++) H[k] = NI;
  int_sw out = {NI, 0};
  for (int i = 1; i <= n; i++)
    for (int j = 1; j <= m; j++) {
      size_t k = (size_t)i * W + j, d = k - W - 1, l = k - 1, u = k - W;
      int c = (i - 1) * m + (j - 1), g = per_cell ? c : 0;
      /* match: start (0) or continue from the diagonal */
      long h = 0;
      if (H[d] > h) h = H[d];
      if (E[d] > h) h = E[d];
      if (F[d] > h) h = F[d];
      H[k] = S[c] + h;
      CH[k] = (h == 0) + (H[d] == h ? CH[d] : 0) + (E[d] == h ? CE[d] : 0) +
              (F[d] == h ? CF[d] : 0);
      /* gap in j: open from a match, extend a j-gap */
      long eo = H[l] > NI ? H[l] - go[g] : NI, ee = E[l] > NI ? E[l] - ge[g] : NI;
      E[k] = eo > ee ? eo : ee;
      CE[k] = E[k] > NI ? (eo == E[k] ? CH[l] : 0) + (ee == E[k] ? CE[l] : 0) : 0;
      /* gap in i: open from a match or a j-gap, extend an i-gap */
      long fo = H[u] > NI ? H[u] - go[g] : NI, fx = E[u] > NI ? E[u] - go[g] : NI,
           fe = F[u] > NI ? F[u] - ge[g] : NI;
      long f = fo > fx ? fo : fx;
      if (fe > f) f = fe;
      F[k] = f;
      CF[k] = f > NI ? (fo == f ? CH[u] : 0) + (fx == f ? CE[u] : 0) + (fe == f ? CF[u] : 0) : 0;
    }
  for (int i = 1; i <= n; i++)
    for (int j = 1; j <= m; j++) {
      size_t k = (size_t)i * W + j;
      if (H[k] > out.best) {
        out.best = H[k];
        out.n_best = 0;
      }
      if (H[k] == out.best) out.n_best += CH[k];
    }
  free(H), free(C);
  return out;
}

static void test_tau_to_zero(void) {
  const int sizes[][2] = {{6, 6}, {9, 11}, {12, 5}, {16, 16}};
  const double taus[] = {1.0, 0.3, 0.1, 0.03, 0.01, 3e-3, 1e-3};
  const int NT = (int)(sizeof taus / sizeof taus[0]);
  rng r = {99};
  int n_unique = 0, n_cases = 0;
  double worst_bound = 0, conv_err[7] = {0};
  for (int sz = 0; sz < 4; sz++)
    for (int per_cell = 0; per_cell <= 1; per_cell++)
      for (int rep = 0; rep < 4; rep++) {
        int n = sizes[sz][0], m = sizes[sz][1];
        size_t nm = (size_t)n * m;
        prob p = prob_new(n, m, per_cell);
        int *iS = malloc(3 * nm * sizeof *iS);
        if (!iS) exit(2);
        int *igo = iS + nm, *ige = iS + 2 * nm;
        for (size_t c = 0; c < nm; c++) {
          iS[c] = irand(&r, -4, 3);
          igo[c] = irand(&r, 1, 4);
          ige[c] = irand(&r, 0, 2);
          p.S[c] = iS[c];
          p.go[c] = igo[c];
          p.ge[c] = ige[c];
        }
        int_sw ref = int_gotoh(n, m, iS, igo, ige, per_cell);
        double V0 = (double)ref.best, n_al = count_alignments(n, m);
        n_cases++;

        /* the forward at tau = 0 and the hard alignment: exactly the integer optimum */
        double Vf0 = fwd(&p, 0.0);
        CHECK(Vf0 == V0, "%dx%d: forward at tau 0 gives %.17g, integer Gotoh %ld", n, m, Vf0,
              ref.best);
        lac_sw_step *path = malloc((size_t)(n + m) * sizeof *path);
        if (!path) exit(2);
        int len = -2, len_q = -2;
        double Vh = lac_sw_ref_hard(n, m, p.S, p.go, p.ge, per_cell, path, n + m, &len);
        lac_sw_ref_hard(n, m, p.S, p.go, p.ge, per_cell, NULL, 0, &len_q);
        CHECK(Vh == V0 && len >= 1 && len <= n + m - 1 && len_q == len,
              "%dx%d: hard V %.17g (integer %ld), %d steps (length query %d)", n, m, Vh, ref.best,
              len, len_q);
        double *cm = dalloc(nm), *co = dalloc(nm), *ce = dalloc(nm);
        double ps = path_score(&p, path, len, 1.0, cm, co, ce);
        CHECK(ps == Vh, "%dx%d: the hard path scores %.17g, V %.17g", n, m, ps, Vh);

        /* the tau = 0 backward is the path's one-hot match / open / extend counts */
        size_t ng = ng_of(&p);
        double *dS = dalloc(nm), *dgo = dalloc(ng), *dge = dalloc(ng);
        CHECK(bwd(&p, 0.0, 1.0, NULL, dS, dgo, dge) == 0, "backward failed");
        double e0 = max_abs_diff(dS, cm, nm);
        if (per_cell) {
          for (size_t c = 0; c < nm; c++) co[c] = -co[c], ce[c] = -ce[c];
          e0 = maxd(e0, maxd(max_abs_diff(dgo, co, nm), max_abs_diff(dge, ce, nm)));
        } else {
          e0 = maxd(e0, maxd(fabs(dgo[0] + sum_of(co, nm)), fabs(dge[0] + sum_of(ce, nm))));
          double s_o = -sum_of(co, nm), s_e = -sum_of(ce, nm);
          memset(co, 0, nm * sizeof *co), memset(ce, 0, nm * sizeof *ce);
          co[0] = s_o, ce[0] = s_e;
        }
        CHECK(e0 == 0, "%dx%d: tau 0 backward differs from the hard path's counts by %.3g", n, m,
              e0);

        /* smoothed V: 0 <= V_tau - V_0 <= tau log(#alignments), and the gradient -> one-hot
         * when the optimum is unique */
        int unique = ref.n_best == 1.0;
        n_unique += unique;
        for (int t = 0; t < NT; t++) {
          double tau = taus[t], Vt = fwd(&p, tau), gap = Vt - V0, bound = tau * log(n_al);
          worst_bound = maxd(worst_bound, gap / bound);
          CHECK(gap >= 0 && gap <= bound, "%dx%d tau %g: V_tau - V_0 = %.3g, bound %.3g", n, m,
                tau, gap, bound);
          if (unique) {
            CHECK(bwd(&p, tau, 1.0, NULL, dS, dgo, dge) == 0, "backward failed");
            double e = maxd(max_abs_diff(dS, cm, nm),
                            maxd(max_abs_diff(dgo, co, ng), max_abs_diff(dge, ce, ng)));
            conv_err[t] = maxd(conv_err[t], e);
          }
        }
        free(cm), free(co), free(ce), free(dS), free(dgo), free(dge), free(path), free(iS);
        prob_free(&p);
      }
  CHECK(n_unique >= 8, "only %d instances with a unique optimum", n_unique);
  CHECK(conv_err[NT - 1] <= 1e-12 && conv_err[NT - 3] <= 1e-9,
        "smoothed gradient does not converge to the one-hot path: %.3g at tau %g", conv_err[NT - 1],
        taus[NT - 1]);
  for (int t = 1; t < NT; t++)
    CHECK(conv_err[t] <= conv_err[t - 1] + 1e-15, "convergence not monotone at tau %g", taus[t]);
  printf("tau -> 0 (%d integer instances up to 16x16, %d with a unique optimum): hard V = "
         "integer Gotoh, path score = V, tau-0 backward = one-hot path; max (V_tau - V_0) / "
         "(tau log #alignments) %.3f\n",
         n_cases, n_unique, worst_bound);
  printf("  max |gradient - one-hot path| at tau");
  for (int t = 0; t < NT; t++) printf(" %g: %.2e%s", taus[t], conv_err[t], t + 1 < NT ? "," : "\n");
}

/* The documented tie-breaks on hand-made ties. */
static void test_tie_breaks(void) {
  lac_sw_step path[8];
  int len;
  double go = 1, ge = 0.5;
  /* equal best ends: the first in row-major order */
  {
    double S[2] = {1, 1};
    double V = lac_sw_ref_hard(1, 2, S, &go, &ge, 0, path, 8, &len);
    CHECK(V == 1 && len == 1 && path[0].i == 0 && path[0].j == 0 && path[0].state == 'M',
          "row-major end tie-break: V %g, %d steps, first (%d,%d)", V, len, path[0].i, path[0].j);
  }
  /* start (0) against a diagonal M of 0: start wins */
  {
    double S[4] = {0, -10, -10, 1};
    double V = lac_sw_ref_hard(2, 2, S, &go, &ge, 0, path, 8, &len);
    CHECK(V == 1 && len == 1 && path[0].i == 1 && path[0].j == 1,
          "start > M tie-break: V %g, %d steps", V, len);
  }
  /* M[0,1] = 1 against X[0,1] = M[0,0] - go = 1 into M[1,2]: M wins */
  {
    double S[6] = {2, 1, -10, -10, -10, 5};
    double V = lac_sw_ref_hard(2, 3, S, &go, &ge, 0, path, 8, &len);
    CHECK(V == 6 && len == 2 && path[0].i == 0 && path[0].j == 1 && path[0].state == 'M' &&
              path[1].i == 1 && path[1].j == 2,
          "M > X tie-break: V %g, %d steps, first (%d,%d,%c)", V, len, path[0].i, path[0].j,
          path[0].state);
    /* and the tau = 0 backward follows the same path */
    double M[6], X[6], Y[6], dS[6];
    lac_sw_ref_forward(2, 3, S, &go, &ge, 0, 0.0, M, X, Y);
    CHECK(lac_sw_ref_backward(2, 3, S, &go, &ge, 0, 0.0, M, X, Y, 1.0, NULL, dS, NULL, NULL) ==
                  0 &&
              dS[0] == 0 && dS[1] == 1 && dS[5] == 1,
          "tau 0 backward does not follow the tie-break");
  }
  /* Y[1,2] ties M[0,2] - go = 1 against X[0,2] - go = 1 (X[0,2] = M[0,1] - go): M wins */
  {
    double S[12] = {-10, 3, 2, -10, -10, -10, -10, -10, -10, -10, -10, 5};
    double V = lac_sw_ref_hard(3, 4, S, &go, &ge, 0, path, 8, &len);
    CHECK(V == 6 && len == 3 && path[0].i == 0 && path[0].j == 2 && path[0].state == 'M' &&
              path[1].i == 1 && path[1].j == 2 && path[1].state == 'Y' && path[2].i == 2 &&
              path[2].j == 3 && path[2].state == 'M',
          "M > X tie-break in Y: V %g, %d steps, first (%d,%d,%c)", V, len, path[0].i, path[0].j,
          path[0].state);
  }
  /* invalid arguments: NaN / -1, no crash */
  {
    double S[1] = {1}, M[1], X[1], Y[1];
    CHECK(isnan(lac_sw_ref_forward(0, 1, S, &go, &ge, 0, 0.5, M, X, Y)), "n = 0 accepted");
    CHECK(isnan(lac_sw_ref_forward(1, 1, S, &go, &ge, 0, -1, M, X, Y)), "tau < 0 accepted");
    CHECK(lac_sw_ref_backward(1, 0, S, &go, &ge, 0, 0.5, M, X, Y, 1, NULL, NULL, NULL, NULL) ==
              -1,
          "m = 0 accepted");
    CHECK(isnan(lac_sw_ref_hard(1, 0, S, &go, &ge, 0, path, 8, &len)) && len == -1,
          "hard m = 0 accepted");
  }
}

/* ---------------------------------------------------------------- 4. invariants */

static void test_invariants(void) {
  rng r = {31337};
  const double taus[] = {0.0, 0.1, 0.8, 1.0, 10.0};
  double errT = 0, errTg = 0, errC = 0;
  for (int t = 0; t < 5; t++) {
    double tau = taus[t];
    int n = 7, m = 9;
    size_t nm = (size_t)n * m;
    prob p = prob_new(n, m, 0), q = prob_new(m, n, 0), pc = prob_new(n, m, 1);
    prob_random(&p, &r);
    for (int i = 0; i < n; i++)
      for (int j = 0; j < m; j++) q.S[(size_t)j * n + i] = p.S[(size_t)i * m + j];
    q.go[0] = p.go[0], q.ge[0] = p.ge[0];
    memcpy(pc.S, p.S, nm * sizeof *p.S);
    for (size_t c = 0; c < nm; c++) pc.go[c] = p.go[0], pc.ge[c] = p.ge[0];

    /* V(S) = V(S^T) with scalar penalties, and dS(S^T) = dS(S)^T */
    double Vp = fwd(&p, tau), Vq = fwd(&q, tau);
    double e = fabs(Vp - Vq) / fabs(Vp);
    errT = maxd(errT, e);
    CHECK(e <= 1e-12, "tau %g: V(S) %.17g, V(S^T) %.17g", tau, Vp, Vq);
    double *dp = dalloc(nm), *dq = dalloc(nm), gp[2], gq[2];
    CHECK(bwd(&p, tau, 1.0, NULL, dp, gp, gp + 1) == 0 &&
              bwd(&q, tau, 1.0, NULL, dq, gq, gq + 1) == 0,
          "backward failed");
    double eg = maxd(fabs(gp[0] - gq[0]), fabs(gp[1] - gq[1]));
    for (int i = 0; i < n; i++)
      for (int j = 0; j < m; j++)
        eg = maxd(eg, fabs(dp[(size_t)i * m + j] - dq[(size_t)j * n + i]));
    errTg = maxd(errTg, eg);
    CHECK(eg <= 1e-12, "tau %g: gradients of S and S^T differ by %.3g", tau, eg);

    /* constant per-cell penalties = scalar penalties (gap gradients summed) */
    double Vc = fwd(&pc, tau);
    double *dc = dalloc(nm), *cgo = dalloc(nm), *cge = dalloc(nm);
    CHECK(bwd(&pc, tau, 1.0, NULL, dc, cgo, cge) == 0, "backward failed");
    double ec = maxd(fabs(Vc - Vp), maxd(max_abs_diff(dc, dp, nm),
                                         maxd(fabs(sum_of(cgo, nm) - gp[0]),
                                              fabs(sum_of(cge, nm) - gp[1]))));
    errC = maxd(errC, ec);
    CHECK(ec <= 1e-12, "tau %g: constant per-cell penalties differ from scalar by %.3g", tau, ec);
    free(dp), free(dq), free(dc), free(cgo), free(cge);
    prob_free(&p), prob_free(&q), prob_free(&pc);
  }
  printf("invariants (7x9, tau 0 .. 10): V(S) vs V(S^T) max rel err %.3g, gradients %.3g; "
         "constant per-cell = scalar penalties %.3g\n",
         errT, errTg, errC);
}

int main(void) {
  clock_t t0 = clock();
  test_brute_force();
  test_finite_differences();
  test_reference_bugs();
  test_tau_to_zero();
  test_tie_breaks();
  test_invariants();
  printf("cpu time %.2f s\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
  return test_exit("sw_ref");
}
