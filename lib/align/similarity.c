/* similarity.c — the similarity matrix between two embedding sequences, as the LAC loss and
 * the alignment tools use it: S[i][j] = sim(x[i], y[j]) for inverse squared distance,
 * negative squared distance or cosine (include/lac/align.h), and its backward.
 *
 * lac_sim_direct (lac_similarity_matrix's small calls, such as lacalign's one frame against
 * the reference) and lac_sim_backward_ref are direct loops in double: exact differences
 * rather than |x|^2 + |y|^2 - 2 x.y, which cancels for near-identical rows.  They are the
 * oracle of the GEMM path that the loss (lac_sim_forward / lac_sim_backward) and the
 * whole-sequence calls of lac_similarity_matrix (lac align) take: the same quantities
 * through double-precision GEMMs (OpenBLAS, threaded), O(n m d) flops at GEMM speed.  Squared
 * distances from the GEMM are |x|^2 + |y|^2 - 2 x.y with a double rounding error of about
 * d 2^-53 (|x|^2 + |y|^2); a pair whose distance is below SIM_CANCEL (|x|^2 + |y|^2) is
 * recomputed by the direct loop (forward) and its gradient added directly (backward), so
 * every distance keeps a relative error below ~1e-10, far under float32's 6e-8.  The same
 * rule in the gradient keeps x_i sum_j c_ij - sum_j c_ij y_j from cancelling: for the pairs
 * it leaves to the GEMM, |x_i - y_j| >= 1e-2 |x_i| or so. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lac/align.h"
#include "lac_internal.h"

/* below this fraction of |x|^2 + |y|^2 a GEMM distance is recomputed directly */
#define SIM_CANCEL 1e-4
/* lac_similarity_matrix takes the GEMM path from SIM_GEMM_MIN rows and columns on (one
 * allocation per call, SIM_GEMM_ROWS rows of x at a time); smaller calls, such as lacalign's
 * one frame against the reference, run the direct loops and allocate nothing */
#define SIM_GEMM_MIN 16
#define SIM_GEMM_ROWS 256

static double sqdist_direct(const float *a, const float *b, int d) {
  double dd = 0;
  for (int k = 0; k < d; k++) {
    double t = (double)a[k] - b[k];
    dd += t * t;
  }
  return dd;
}

static lac_status sim_check(lac_similarity kind, float eps, int n, int m, int d, int arrays,
                            lac_error *err) {
  if (n < 1 || m < 1 || d < 1 || !arrays)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "similarity: need n, m, d >= 1 and non-NULL arrays (got %d x %d x %d)", n,
                         m, d);
  if (!(eps >= 0))
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "similarity: epsilon must be >= 0");
  if (kind != LAC_SIM_COSINE && kind != LAC_SIM_NEG_SQDIST && kind != LAC_SIM_INV_SQDIST)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "similarity: unknown kind %d", (int)kind);
  return LAC_OK;
}

/* the similarity of rows i, j from their squared distance p (sqdist kinds) or their dot
 * product p and squared norms aa, bb (cosine), into *out; refuses 1/0 and non-finite values */
static lac_status sim_finish(lac_similarity kind, double eps, double p, double aa, double bb,
                             int i, int j, float *out, lac_error *err) {
  double v;
  if (kind == LAC_SIM_COSINE) {
    v = p / (sqrt(aa) * sqrt(bb) + eps);
  } else if (kind == LAC_SIM_NEG_SQDIST) {
    v = -p;
  } else {
    if (p + eps == 0)
      return lac_error_set(err, LAC_ERR_NUMERIC,
                           "similarity: rows %d and %d are identical and the epsilon is 0: "
                           "1/|x-y|^2 is infinite (use an epsilon > 0)",
                           i, j);
    v = 1.0 / (p + eps);
  }
  if (!isfinite(v))
    return lac_error_set(err, LAC_ERR_NUMERIC,
                         "similarity: non-finite value at (%d, %d): check the embeddings", i, j);
  *out = (float)v;
  return LAC_OK;
}

static lac_status sim_forward_rows(lac_similarity kind, float eps, int r0, int n, int m, int d,
                                   const float *x, const float *y, float *S, double *ws,
                                   lac_error *err);

lac_status lac_similarity_matrix(lac_similarity kind, float eps, int n, int m, int d,
                                 const float *x, const float *y, float *S, lac_error *err) {
  const lac_status sc = sim_check(kind, eps, n, m, d, x && y && S, err);
  if (sc != LAC_OK) return sc;
  if (n >= SIM_GEMM_MIN && m >= SIM_GEMM_MIN) {
    /* whole sequences: the GEMM path, SIM_GEMM_ROWS rows of x at a time */
    const int rows = n < SIM_GEMM_ROWS ? n : SIM_GEMM_ROWS;
    double *ws = malloc(sizeof(double) * lac_sim_ws_doubles(rows, m, d));
    if (ws) {
      lac_status st = LAC_OK;
      for (int r0 = 0; r0 < n && st == LAC_OK; r0 += rows) {
        const int k = n - r0 < rows ? n - r0 : rows;
        st = sim_forward_rows(kind, eps, r0, k, m, d, x + (size_t)r0 * d, y, S + (size_t)r0 * m,
                              ws, err);
      }
      free(ws);
      return st;
    } /* no memory for the workspace: the direct loops need none */
  }
  return lac_sim_direct(kind, eps, n, m, d, x, y, S, err);
}

lac_status lac_sim_direct(lac_similarity kind, float eps, int n, int m, int d, const float *x,
                          const float *y, float *S, lac_error *err) {
  const lac_status sc = sim_check(kind, eps, n, m, d, x && y && S, err);
  if (sc != LAC_OK) return sc;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++) {
      const float *a = x + (size_t)i * d, *b = y + (size_t)j * d;
      double p = 0, aa = 0, bb = 0;
      if (kind == LAC_SIM_COSINE) {
        for (int k = 0; k < d; k++) {
          p += (double)a[k] * b[k];
          aa += (double)a[k] * a[k];
          bb += (double)b[k] * b[k];
        }
      } else {
        p = sqdist_direct(a, b, d);
      }
      const lac_status st = sim_finish(kind, eps, p, aa, bb, i, j, &S[(size_t)i * m + j], err);
      if (st != LAC_OK) return st;
    }
  return LAC_OK;
}

/* ---------------------------------------------------------------- the oracle of the backward */

void lac_sim_backward_ref(lac_similarity kind, double eps, int n, int m, int d, const float *x,
                          const float *y, const float *G12, const float *G21, double *dx,
                          double *dy) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++) {
      /* dL/dS12[i][j] + dL/dS21[j][i] */
      double g = (double)G12[(size_t)i * m + j] + (G21 ? (double)G21[(size_t)j * n + i] : 0.0);
      if (g == 0) continue;
      const float *a = x + (size_t)i * d, *b = y + (size_t)j * d;
      double *da = dx + (size_t)i * d, *db = dy + (size_t)j * d;
      if (kind == LAC_SIM_COSINE) {
        double u = 0, aa = 0, bb = 0;
        for (int k = 0; k < d; k++) {
          u += (double)a[k] * b[k];
          aa += (double)a[k] * a[k];
          bb += (double)b[k] * b[k];
        }
        double na = sqrt(aa), nb = sqrt(bb), den = na * nb + eps;
        /* s = u / den: ds/da = b / den - u nb / den^2 * a / na, and symmetrically */
        double ca = na > 0 ? u * nb / (den * den * na) : 0,
               cb = nb > 0 ? u * na / (den * den * nb) : 0;
        for (int k = 0; k < d; k++) {
          da[k] += g * ((double)b[k] / den - ca * a[k]);
          db[k] += g * ((double)a[k] / den - cb * b[k]);
        }
      } else {
        const double dd = sqdist_direct(a, b, d);
        /* s = 1 / (dd + eps): ds/d(dd) = -s^2; s = -dd: -1; d(dd)/da = 2 (a - b) */
        double c = kind == LAC_SIM_INV_SQDIST ? -2.0 * g / ((dd + eps) * (dd + eps)) : -2.0 * g;
        for (int k = 0; k < d; k++) {
          double t = c * ((double)a[k] - b[k]);
          da[k] += t;
          db[k] -= t;
        }
      }
    }
}

/* ---------------------------------------------------------------- through GEMMs */

size_t lac_sim_ws_doubles(int n, int m, int d) {
  return (size_t)(n + m) * (size_t)d + 2 * (size_t)n * (size_t)m + (size_t)n + (size_t)m;
}

typedef struct {
  double *xd, *yd; /* [n][d], [m][d]: the rows in double */
  double *nx, *ny; /* [n], [m]: squared norms */
  double *P;       /* [n][m]: squared distances (sqdist kinds) or dot products (cosine) */
  double *C;       /* [n][m]: the backward's coefficients */
} sim_ws;

/* the pair table P (and the rows in double, their squared norms) */
static sim_ws pair_table(lac_similarity kind, int n, int m, int d, const float *x, const float *y,
                         double *ws) {
  sim_ws w;
  w.xd = ws;
  w.yd = w.xd + (size_t)n * d;
  w.nx = w.yd + (size_t)m * d;
  w.ny = w.nx + n;
  w.P = w.ny + m;
  w.C = w.P + (size_t)n * m;
  for (size_t t = 0; t < (size_t)n * d; t++) w.xd[t] = x[t];
  for (size_t t = 0; t < (size_t)m * d; t++) w.yd[t] = y[t];
  for (int i = 0; i < n; i++) {
    const double *a = w.xd + (size_t)i * d;
    double s = 0;
    for (int k = 0; k < d; k++) s += a[k] * a[k];
    w.nx[i] = s;
  }
  for (int j = 0; j < m; j++) {
    const double *b = w.yd + (size_t)j * d;
    double s = 0;
    for (int k = 0; k < d; k++) s += b[k] * b[k];
    w.ny[j] = s;
  }
  const int sq = kind != LAC_SIM_COSINE;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, m, d, sq ? -2.0 : 1.0, w.xd, d, w.yd, d,
              0.0, w.P, m);
  if (sq)
    for (int i = 0; i < n; i++)
      for (int j = 0; j < m; j++) {
        double *p = &w.P[(size_t)i * m + j];
        const double r = w.nx[i] + w.ny[j];
        *p += r;
        if (*p < SIM_CANCEL * r) *p = sqdist_direct(x + (size_t)i * d, y + (size_t)j * d, d);
      }
  return w;
}

/* rows r0 .. r0 + n - 1 of S through the GEMM path (x, S at those rows; errors name the rows
 * of the whole matrix) */
static lac_status sim_forward_rows(lac_similarity kind, float eps, int r0, int n, int m, int d,
                                   const float *x, const float *y, float *S, double *ws,
                                   lac_error *err) {
  const sim_ws w = pair_table(kind, n, m, d, x, y, ws);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++) {
      const lac_status st = sim_finish(kind, eps, w.P[(size_t)i * m + j], w.nx[i], w.ny[j],
                                       r0 + i, j, &S[(size_t)i * m + j], err);
      if (st != LAC_OK) return st;
    }
  return LAC_OK;
}

lac_status lac_sim_forward(lac_similarity kind, float eps, int n, int m, int d, const float *x,
                           const float *y, float *S, double *ws, lac_error *err) {
  const lac_status sc = sim_check(kind, eps, n, m, d, x && y && S && ws, err);
  if (sc != LAC_OK) return sc;
  return sim_forward_rows(kind, eps, 0, n, m, d, x, y, S, ws, err);
}

/* out[j] = sum_i A[i][j] of an n x m matrix */
static void col_sums(int n, int m, const double *A, double *out) {
  for (int j = 0; j < m; j++) out[j] = 0.0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++) out[j] += A[(size_t)i * m + j];
}

/* dx += diag(nx) X + s C Y, dy += diag(ny) Y + s C^T X (nx, ny holding the diagonals) */
static void sim_apply(const sim_ws *w, int n, int m, int d, double s, double *dx, double *dy) {
  for (int pass = 0; pass < 2; pass++) {
    const int rows = pass ? m : n;
    const double *r = pass ? w->ny : w->nx, *src = pass ? w->yd : w->xd;
    double *dst = pass ? dy : dx;
    for (int i = 0; i < rows; i++)
      if (r[i] != 0)
        for (int k = 0; k < d; k++) dst[(size_t)i * d + k] += r[i] * src[(size_t)i * d + k];
  }
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, m, s, w->C, m, w->yd, d, 1.0, dx, d);
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, d, n, s, w->C, m, w->xd, d, 1.0, dy, d);
}

void lac_sim_backward(lac_similarity kind, double eps, int n, int m, int d, const float *x,
                      const float *y, const float *G12, const float *G21, double *dx, double *dy,
                      double *ws) {
  const sim_ws w = pair_table(kind, n, m, d, x, y, ws);
  const int cos = kind == LAC_SIM_COSINE;
  /* sqdist: dx_i += sum_j c_ij (x_i - y_j), dy_j -= sum_i c_ij (x_i - y_j);
   * cosine: dx_i += sum_j (g_ij / den_ij) y_j - (sum_j g_ij ca_ij) x_i, and symmetrically */
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++) {
      const size_t ij = (size_t)i * m + j;
      const double g = (double)G12[ij] + (G21 ? (double)G21[(size_t)j * n + i] : 0.0);
      double c = 0.0;
      if (g != 0 && !cos) {
        const double dd = w.P[ij];
        c = kind == LAC_SIM_INV_SQDIST ? -2.0 * g / ((dd + eps) * (dd + eps)) : -2.0 * g;
        if (dd < SIM_CANCEL * (w.nx[i] + w.ny[j])) { /* near-identical rows: directly */
          const float *a = x + (size_t)i * d, *b = y + (size_t)j * d;
          double *da = dx + (size_t)i * d, *db = dy + (size_t)j * d;
          for (int k = 0; k < d; k++) {
            const double t = c * ((double)a[k] - b[k]);
            da[k] += t;
            db[k] -= t;
          }
          c = 0.0;
        }
      }
      w.C[ij] = c;
    }
  if (!cos) {
    /* dx += diag(rowsum C) X - C Y;  dy += diag(colsum C) Y - C^T X (sums in nx, ny) */
    for (int i = 0; i < n; i++) {
      double r = 0;
      for (int j = 0; j < m; j++) r += w.C[(size_t)i * m + j];
      w.nx[i] = r;
    }
    col_sums(n, m, w.C, w.ny);
    sim_apply(&w, n, m, d, -1.0, dx, dy);
    return;
  }
  /* cosine: C = g / den; dx += C Y - diag(ra) X, dy += C^T X - diag(rb) Y with ra, rb the
   * sums of the diagonal terms (rows: kept in nx once row i is done; columns: in P, then ny) */
  for (int i = 0; i < n; i++) w.nx[i] = sqrt(w.nx[i]);
  for (int j = 0; j < m; j++) w.ny[j] = sqrt(w.ny[j]);
  for (int i = 0; i < n; i++) {
    double ra = 0;
    for (int j = 0; j < m; j++) {
      const size_t ij = (size_t)i * m + j;
      const double g = (double)G12[ij] + (G21 ? (double)G21[(size_t)j * n + i] : 0.0);
      if (g == 0) {
        w.C[ij] = w.P[ij] = 0.0;
        continue;
      }
      const double u = w.P[ij], nxa = w.nx[i], nyb = w.ny[j], den = nxa * nyb + eps;
      w.C[ij] = g / den;
      ra -= nxa > 0 ? g * u * nyb / (den * den * nxa) : 0.0;
      w.P[ij] = nyb > 0 ? -g * u * nxa / (den * den * nyb) : 0.0;
    }
    w.nx[i] = ra;
  }
  col_sums(n, m, w.P, w.ny);
  sim_apply(&w, n, m, d, 1.0, dx, dy);
}
