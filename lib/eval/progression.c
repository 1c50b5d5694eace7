/* progression.c — phase progression (METHOD.md §5): per-frame regression targets, least
 * squares with intercept by LAPACKE_dgelsd, and sklearn's R^2.
 *
 * For a video whose labelled frames (unlabelled ones dropped first) are t = 0..L-1 with
 * phases l[t] and an action of K phases, target c (c = 0..K-2) is
 *     y_c(t) = (t - tau_c) / L,   tau_c = the last t with l[t] == c
 * (phase c absent from the video — the reference code would crash — : the last t with
 * l[t] < c, i.e. a phase of length zero, or -1 if there is none).  One linear regression
 * (with intercept) per target is fitted on all labelled frames of all training videos; the
 * score is the mean over c of R^2_c on all labelled frames of all validation videos:
 *     R^2_c = 1 - sum (y - yhat)^2 / sum (y - mean y)^2   (sklearn: 1 when both sums are 0,
 *             0 when only the denominator is).
 * The fit is sklearn LinearRegression's: columns centred, minimum-norm least squares by the
 * SVD (dgelsd, rcond = double epsilon, as scipy.linalg.lstsq), all in double.
 *
 * Not here: the classification and retrieval metrics, weighting of videos.
 */
#include <float.h>
#include <inttypes.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"

void lac_eval_progress_targets(const int32_t *labels, int64_t L, int K, double *out) {
  for (int c = 0; c + 1 < K; c++) {
    int64_t tau = -1, before = -1;
    for (int64_t t = 0; t < L; t++) {
      if (labels[t] == c) tau = t;
      if (labels[t] < c) before = t;
    }
    if (tau < 0) tau = before;
    for (int64_t t = 0; t < L; t++)
      out[t * (K - 1) + c] = ((double)t - (double)tau) / (double)L;
  }
}

lac_status lac_linreg_fit(const double *X, int64_t n, int dim, const double *Y, int m,
                          double *coef, double *intercept, lac_error *err) {
  if (n < 1 || dim < 1 || m < 1)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "linear regression: needs n >= 1, dim >= 1, m >= 1 (got %" PRId64
                         ", %d, %d)",
                         n, dim, m);
  if (n > 2147483647)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "linear regression: %" PRId64 " rows; LAPACK takes at most 2^31-1", n);
  int64_t ldb = n > dim ? n : dim;
  double *xm = calloc((size_t)dim, sizeof *xm), *ym = calloc((size_t)m, sizeof *ym);
  double *A = malloc((size_t)n * dim * sizeof *A);   /* column-major n x dim */
  double *B = calloc((size_t)ldb * m, sizeof *B);    /* column-major ldb x m */
  double *sv = malloc((size_t)(n < dim ? n : dim) * sizeof *sv);
  if (!xm || !ym || !A || !B || !sv) {
    free(xm);
    free(ym);
    free(A);
    free(B);
    free(sv);
    return lac_error_set(err, LAC_ERR_NOMEM, "linear regression: out of memory (%" PRId64
                         " x %d)", n, dim);
  }
  for (int64_t i = 0; i < n; i++) {
    for (int k = 0; k < dim; k++) xm[k] += X[i * dim + k];
    for (int j = 0; j < m; j++) ym[j] += Y[i * m + j];
  }
  for (int k = 0; k < dim; k++) xm[k] /= (double)n;
  for (int j = 0; j < m; j++) ym[j] /= (double)n;
  for (int64_t i = 0; i < n; i++) {
    for (int k = 0; k < dim; k++) A[(size_t)k * n + i] = X[i * dim + k] - xm[k];
    for (int j = 0; j < m; j++) B[(size_t)j * ldb + i] = Y[i * m + j] - ym[j];
  }
  lapack_int rank = 0;
  lapack_int info = LAPACKE_dgelsd(LAPACK_COL_MAJOR, (lapack_int)n, dim, m, A, (lapack_int)n, B,
                                   (lapack_int)ldb, sv, DBL_EPSILON, &rank);
  lac_status st = LAC_OK;
  if (info != 0) {
    st = lac_error_set(err, info > 0 ? LAC_ERR_NUMERIC : LAC_ERR_BACKEND,
                       "linear regression: LAPACKE_dgelsd returned %d%s", (int)info,
                       info > 0 ? " (the SVD did not converge)" : "");
  } else {
    for (int j = 0; j < m; j++) {
      double s = ym[j];
      for (int k = 0; k < dim; k++) {
        coef[(size_t)k * m + j] = B[(size_t)j * ldb + k];
        s -= xm[k] * B[(size_t)j * ldb + k];
      }
      intercept[j] = s;
    }
  }
  free(xm);
  free(ym);
  free(A);
  free(B);
  free(sv);
  return st;
}

double lac_r2_score(const double *y, const double *pred, int64_t n, int64_t ld) {
  double mean = 0;
  for (int64_t i = 0; i < n; i++) mean += y[i * ld];
  mean /= (double)n;
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++) {
    double r = y[i * ld] - pred[i * ld], c = y[i * ld] - mean;
    num += r * r;
    den += c * c;
  }
  if (num == 0) return 1.0;
  if (den == 0) return 0.0;
  return 1.0 - num / den;
}

/* Targets of every video of f (rows as in f), K - 1 columns. */
static void targets_of(const lac_eval_frames *f, int K, double *Y) {
  for (int v = 0; v < f->n_videos; v++) {
    int64_t a = f->start[v], L = f->start[v + 1] - a;
    if (L > 0) lac_eval_progress_targets(f->y + a, L, K, Y + a * (K - 1));
  }
}

lac_status lac_eval_progression_ex(const lac_eval_video *train, int n_train,
                                   const lac_eval_video *val, int n_val, double *r2,
                                   double *r2_each, lac_error *err) {
  if (!r2) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_eval_progression: r2 is NULL");
  *r2 = NAN;
  int dim = 0, K = 0;
  lac_status st = lac_eval_check_videos(train, n_train, "train", 1, 1, &dim, &K, err);
  if (st == LAC_OK) st = lac_eval_check_videos(val, n_val, "val", 1, 1, &dim, &K, err);
  if (st != LAC_OK) return st;
  if (K < 2)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "progression needs an action with at least 2 phases (n_phases is %d)",
                         K);
  lac_eval_frames tr, va;
  st = lac_eval_gather(train, n_train, 1, &tr, err);
  if (st != LAC_OK) return st;
  st = lac_eval_gather(val, n_val, 1, &va, err);
  if (st != LAC_OK) {
    lac_eval_frames_free(&tr);
    return st;
  }
  const int m = K - 1;
  double *Ytr = NULL, *Yva = NULL, *P = NULL, *coef = NULL, *icp = NULL;
  if (tr.n < 1) {
    st = lac_error_set(err, LAC_ERR_INVALID_ARG,
                       "progression: the training videos have no labelled frame");
    goto done;
  }
  if (va.n < 2) {
    st = lac_error_set(err, LAC_ERR_INVALID_ARG,
                       "progression: the validation videos have %" PRId64 " labelled frames; "
                       "R^2 needs at least 2",
                       va.n);
    goto done;
  }
  Ytr = malloc((size_t)tr.n * m * sizeof *Ytr);
  Yva = malloc((size_t)va.n * m * sizeof *Yva);
  P = malloc((size_t)va.n * m * sizeof *P);
  coef = malloc((size_t)dim * m * sizeof *coef);
  icp = malloc((size_t)m * sizeof *icp);
  if (!Ytr || !Yva || !P || !coef || !icp) {
    st = lac_error_set(err, LAC_ERR_NOMEM, "progression: out of memory");
    goto done;
  }
  targets_of(&tr, K, Ytr);
  targets_of(&va, K, Yva);
  st = lac_linreg_fit(tr.X, tr.n, dim, Ytr, m, coef, icp, err);
  if (st != LAC_OK) goto done;
  for (int64_t i = 0; i < va.n; i++)
    for (int j = 0; j < m; j++) {
      double s = icp[j];
      for (int k = 0; k < dim; k++) s += va.X[i * dim + k] * coef[(size_t)k * m + j];
      P[i * m + j] = s;
    }
  double sum = 0;
  for (int j = 0; j < m; j++) {
    double r = lac_r2_score(Yva + j, P + j, va.n, m);
    if (r2_each) r2_each[j] = r;
    sum += r;
  }
  *r2 = sum / m;
done:
  free(Ytr);
  free(Yva);
  free(P);
  free(coef);
  free(icp);
  lac_eval_frames_free(&tr);
  lac_eval_frames_free(&va);
  return st;
}

lac_status lac_eval_progression(const lac_eval_video *train, int n_train,
                                const lac_eval_video *val, int n_val, double *r2, lac_error *err) {
  return lac_eval_progression_ex(train, n_train, val, n_val, r2, NULL, err);
}
