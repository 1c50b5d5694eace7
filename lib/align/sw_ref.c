/* sw_ref.c — the double-precision reference of the smoothed Smith-Waterman alignment with
 * affine gaps: forward, exact backward (explicit reverse-wavefront adjoint) and the hard
 * alignment with backtracking, for one pair.  Semantics, shapes and tie-breaks: sw_ref.h.
 *
 * Does: plain scalar loops over cells in row-major order (a valid topological order of
 * the recurrences; its reverse is a valid order for the adjoint), max-subtracted
 * log-sum-exp, the same helper (smax_w) for the forward value, the backward's weights and
 * the hard argmax, so all three agree bit for bit on what they share.
 * Does not: batch, thread, vectorise, validate values (non-finite inputs propagate), or
 * keep any state between calls.
 */
#include "align/sw_ref.h"

#include <math.h>
#include <stdlib.h>

#define NEG LAC_SW_REF_NEG_INF

/* A move's term: source state minus the penalty, or -inf (the sentinel) when the source
 * state is -inf: a penalty is never subtracted from the sentinel. */
static double term(double src, double pen) { return src <= NEG ? NEG : src - pen; }

/* T[i,j] of an [n][m] table, or the sentinel when (i, j) is outside (i < 0 or j < 0). */
static double at(const double *T, int m, int i, int j) {
  return (i < 0 || j < 0) ? NEG : T[(size_t)i * m + j];
}

/* Index of the first maximal element of v[0..k-1] (the tie-break: earlier term wins). */
static int argmax_first(const double *v, size_t k) {
  size_t a = 0;
  for (size_t t = 1; t < k; t++)
    if (v[t] > v[a]) a = t;
  return (int)a;
}

/* smax_tau of v[0..k-1], and when w is non-NULL its gradient w[t] = d smax / d v[t]:
 *   tau > 0: mx + tau * log sum_t exp((v[t] - mx) / tau), w = softmax(v / tau);
 *   tau = 0: max, w = one-hot at the first maximal term;
 *   all terms the sentinel: the sentinel, w = 0 (no alignment reaches this state). */
static double smax_w(const double *v, size_t k, double tau, double *w) {
  size_t a = (size_t)argmax_first(v, k);
  double mx = v[a];
  if (mx <= NEG) {
    if (w)
      for (size_t t = 0; t < k; t++) w[t] = 0.0;
    return NEG;
  }
  if (tau == 0.0) {
    if (w)
      for (size_t t = 0; t < k; t++) w[t] = (t == a) ? 1.0 : 0.0;
    return mx;
  }
  double sum = 0.0;
  for (size_t t = 0; t < k; t++) sum += exp((v[t] - mx) / tau);
  if (w)
    for (size_t t = 0; t < k; t++) w[t] = exp((v[t] - mx) / tau) / sum;
  return mx + tau * log(sum);
}

/* The terms of each state's smooth max, in the order of the tie-breaks. */
static void match_terms(double m_diag, double x_diag, double y_diag, double v[4]) {
  v[0] = 0.0; /* start a new alignment here */
  v[1] = m_diag;
  v[2] = x_diag;
  v[3] = y_diag;
}
static void xgap_terms(double m_left, double x_left, double go, double ge, double v[2]) {
  v[0] = term(m_left, go);
  v[1] = term(x_left, ge);
}
static void ygap_terms(double m_up, double x_up, double y_up, double go, double ge,
                       double v[3]) {
  v[0] = term(m_up, go);
  v[1] = term(x_up, go);
  v[2] = term(y_up, ge);
}

static int args_ok(int n, int m, double tau) { return n >= 1 && m >= 1 && tau >= 0.0; }

double lac_sw_ref_forward(int n, int m, const double *S, const double *go, const double *ge,
                          int per_cell, double tau, double *M, double *X, double *Y) {
  if (!args_ok(n, m, tau)) return NAN;
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < m; j++) {
      size_t c = (size_t)i * m + j;
      size_t g = per_cell ? c : 0;
      double v4[4], v2[2], v3[3];
      match_terms(at(M, m, i - 1, j - 1), at(X, m, i - 1, j - 1), at(Y, m, i - 1, j - 1), v4);
      M[c] = S[c] + smax_w(v4, 4, tau, NULL);
      xgap_terms(at(M, m, i, j - 1), at(X, m, i, j - 1), go[g], ge[g], v2);
      X[c] = smax_w(v2, 2, tau, NULL);
      ygap_terms(at(M, m, i - 1, j), at(X, m, i - 1, j), at(Y, m, i - 1, j), go[g], ge[g], v3);
      Y[c] = smax_w(v3, 3, tau, NULL);
    }
  }
  return smax_w(M, (size_t)n * m, tau, NULL);
}

/* Push form of the adjoint of SW_AFFINE.md §2: cells are visited in reverse row-major
 * order; when (i, j) is reached its adjoints E_M, E_X, E_Y are complete (every state that
 * reads them lies later in row-major order), so the cell recomputes its three weight
 * vectors once from the stored tables and adds E_target * w(target <- source) into each
 * source's adjoint.  Summing those pushes gives exactly the document's E formulas. */
int lac_sw_ref_backward(int n, int m, const double *S, const double *go, const double *ge,
                        int per_cell, double tau, const double *M, const double *X,
                        const double *Y, double gV, const double *gM, double *dS, double *dgo,
                        double *dge) {
  (void)S; /* dM/dS = 1: S is not needed beyond the stored tables */
  if (!args_ok(n, m, tau)) return -1;
  size_t nm = (size_t)n * m;
  double *E = malloc(3 * nm * sizeof *E);
  if (!E) return -1;
  double *EM = E, *EX = E + nm, *EY = E + 2 * nm;

  /* E_M starts at g_V * (weight of M[i,j] in V) + g_M[i,j]; E_X, E_Y at 0. */
  smax_w(M, nm, tau, EM);
  for (size_t c = 0; c < nm; c++) {
    EM[c] = gV * EM[c] + (gM ? gM[c] : 0.0);
    EX[c] = 0.0;
    EY[c] = 0.0;
  }

  double sum_go = 0.0, sum_ge = 0.0; /* scalar penalties: sums over cells */
  for (int i = n - 1; i >= 0; i--) {
    for (int j = m - 1; j >= 0; j--) {
      size_t c = (size_t)i * m + j;
      size_t g = per_cell ? c : 0;
      double v4[4], v2[2], v3[3], w4[4], w2[2], w3[3];

      /* M[i,j] = S[i,j] + smax(0, M, X, Y at (i-1, j-1)) */
      if (dS) dS[c] = EM[c];
      match_terms(at(M, m, i - 1, j - 1), at(X, m, i - 1, j - 1), at(Y, m, i - 1, j - 1), v4);
      smax_w(v4, 4, tau, w4);
      if (i > 0 && j > 0) {
        size_t d = c - (size_t)m - 1;
        EM[d] += EM[c] * w4[1];
        EX[d] += EM[c] * w4[2];
        EY[d] += EM[c] * w4[3];
      }

      /* X[i,j] = smax(M[i,j-1] - go[i,j], X[i,j-1] - ge[i,j]) */
      xgap_terms(at(M, m, i, j - 1), at(X, m, i, j - 1), go[g], ge[g], v2);
      smax_w(v2, 2, tau, w2);
      if (j > 0) {
        EM[c - 1] += EX[c] * w2[0];
        EX[c - 1] += EX[c] * w2[1];
      }
      double cgo = -EX[c] * w2[0];
      double cge = -EX[c] * w2[1];

      /* Y[i,j] = smax(M[i-1,j] - go[i,j], X[i-1,j] - go[i,j], Y[i-1,j] - ge[i,j]) */
      ygap_terms(at(M, m, i - 1, j), at(X, m, i - 1, j), at(Y, m, i - 1, j), go[g], ge[g], v3);
      smax_w(v3, 3, tau, w3);
      if (i > 0) {
        size_t u = c - (size_t)m;
        EM[u] += EY[c] * w3[0];
        EX[u] += EY[c] * w3[1];
        EY[u] += EY[c] * w3[2];
      }
      cgo -= EY[c] * (w3[0] + w3[1]);
      cge -= EY[c] * w3[2];

      if (per_cell) {
        if (dgo) dgo[c] = cgo;
        if (dge) dge[c] = cge;
      } else {
        sum_go += cgo;
        sum_ge += cge;
      }
    }
  }
  if (!per_cell) {
    if (dgo) dgo[0] = sum_go;
    if (dge) dge[0] = sum_ge;
  }
  free(E);
  return 0;
}

/* Backpointer byte of a cell: bits 0-1 the source of M (0 start, 1 M, 2 X, 3 Y), bit 2 the
 * source of X (0 M, 1 X), bits 3-4 the source of Y (0 M, 1 X, 2 Y). */
enum { BP_M_SHIFT = 0, BP_X_SHIFT = 2, BP_Y_SHIFT = 3 };

/* One step of the backtrack from state *s at (*i, *j) to its predecessor; returns 0 when
 * the alignment starts here (a match whose best source is "start"). */
static int back_step(const unsigned char *bp, int m, int *i, int *j, char *s) {
  unsigned b = bp[(size_t)*i * m + *j];
  static const char from_m[4] = {0, 'M', 'X', 'Y'};
  static const char from_x[2] = {'M', 'X'};
  static const char from_y[3] = {'M', 'X', 'Y'};
  switch (*s) {
    case 'M': {
      unsigned a = (b >> BP_M_SHIFT) & 3u;
      if (a == 0) return 0;
      *s = from_m[a];
      (*i)--;
      (*j)--;
      break;
    }
    case 'X':
      *s = from_x[(b >> BP_X_SHIFT) & 1u];
      (*j)--;
      break;
    default: /* 'Y' */
      *s = from_y[(b >> BP_Y_SHIFT) & 3u];
      (*i)--;
      break;
  }
  /* Unreachable for finite inputs (sentinel states never win a max against a finite
   * term); kept so that no input can walk the backtrack out of the matrix. */
  return (*i >= 0 && *j >= 0) ? 1 : 0;
}

double lac_sw_ref_hard(int n, int m, const double *S, const double *go, const double *ge,
                       int per_cell, lac_sw_step *path, int cap, int *n_steps) {
  if (n_steps) *n_steps = -1;
  if (!args_ok(n, m, 0.0)) return NAN;
  unsigned char *bp = malloc((size_t)n * m);
  double *rows = malloc(6 * (size_t)m * sizeof *rows);
  if (!bp || !rows) {
    free(bp);
    free(rows);
    return NAN;
  }
  /* rolling rows: previous (i - 1) and current (i) values of M, X, Y */
  double *Mp = rows, *Xp = rows + m, *Yp = rows + 2 * (size_t)m;
  double *Mc = rows + 3 * (size_t)m, *Xc = rows + 4 * (size_t)m, *Yc = rows + 5 * (size_t)m;
  for (int j = 0; j < m; j++) Mp[j] = Xp[j] = Yp[j] = NEG; /* row -1 */

  double best = NEG;
  int bi = 0, bj = 0;
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < m; j++) {
      size_t c = (size_t)i * m + j;
      size_t g = per_cell ? c : 0;
      double v4[4], v2[2], v3[3];
      match_terms(j > 0 ? Mp[j - 1] : NEG, j > 0 ? Xp[j - 1] : NEG, j > 0 ? Yp[j - 1] : NEG,
                  v4);
      Mc[j] = S[c] + smax_w(v4, 4, 0.0, NULL);
      xgap_terms(j > 0 ? Mc[j - 1] : NEG, j > 0 ? Xc[j - 1] : NEG, go[g], ge[g], v2);
      Xc[j] = smax_w(v2, 2, 0.0, NULL);
      ygap_terms(Mp[j], Xp[j], Yp[j], go[g], ge[g], v3);
      Yc[j] = smax_w(v3, 3, 0.0, NULL);
      bp[c] = (unsigned char)(((unsigned)argmax_first(v4, 4) << BP_M_SHIFT) |
                              ((unsigned)argmax_first(v2, 2) << BP_X_SHIFT) |
                              ((unsigned)argmax_first(v3, 3) << BP_Y_SHIFT));
      if (c == 0 || Mc[j] > best) { /* strict: the first best end in row-major order */
        best = Mc[j];
        bi = i;
        bj = j;
      }
    }
    double *t;
    t = Mp; Mp = Mc; Mc = t;
    t = Xp; Xp = Xc; Xc = t;
    t = Yp; Yp = Yc; Yc = t;
  }

  /* Backtrack twice: once to count the steps, once to write them first-to-last. */
  int len = 0;
  {
    int i = bi, j = bj;
    char s = 'M';
    do len++;
    while (back_step(bp, m, &i, &j, &s));
  }
  {
    int i = bi, j = bj, k = len - 1;
    char s = 'M';
    for (;;) {
      if (path && k < cap) {
        path[k].i = i;
        path[k].j = j;
        path[k].state = s;
      }
      k--;
      if (!back_step(bp, m, &i, &j, &s)) break;
    }
  }
  if (n_steps) *n_steps = len;
  free(bp);
  free(rows);
  return best;
}
