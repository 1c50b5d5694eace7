/* logreg.c — multinomial logistic regression, the classifier of the reference protocol
 * (sklearn LogisticRegression(solver='lbfgs', multi_class='multinomial', C=1)), fitted by
 * our L-BFGS (lbfgs.c) in double precision.
 *
 * Objective (sklearn 1.2's for lbfgs, summed over frames, intercept not penalised):
 *     f(W, b) = sum_i [ logsumexp_k z_ik - z_i,y_i ] + 1/(2C) ||W||_F^2,
 *     z_ik = W_k . x_i + b_k,  k over the classes present in the training labels.
 * Gradient: G = softmax(Z) - onehot(y) (n x nc);  dW = G^T X + W / C;  db = colsum(G).
 * Convex; W is unique (strictly convex in W) and so are the probabilities; b is unique up
 * to a common shift, and starting from 0 every L-BFGS step keeps sum_k b_k = 0 (each
 * gradient has colsum 0 over classes in b), as sklearn's does.
 *
 * Classes absent from the training labels get no row (they could only be fitted by sending
 * their intercept to -inf); with a single class present there is nothing to fit and the
 * model predicts that class.
 *
 * Not here: penalties other than L2, class or sample weights, one-vs-rest.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"

double lac_logreg_loss(const double *X, const int32_t *yi, int64_t n, int dim, int nc, double C,
                       const double *theta, double *grad, double *Z) {
  const double *W = theta, *b = theta + (size_t)nc * dim;
  /* Z = X W^T (n x nc) */
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, nc, dim, 1.0, X, dim, W, dim, 0.0,
              Z, nc);
  double f = 0;
  for (int64_t i = 0; i < n; i++) {
    double *z = Z + i * nc;
    double mx = -INFINITY;
    for (int k = 0; k < nc; k++) {
      z[k] += b[k];
      if (z[k] > mx) mx = z[k];
    }
    double s = 0;
    for (int k = 0; k < nc; k++) s += exp(z[k] - mx);
    f += mx + log(s) - z[yi[i]];
    if (grad) { /* Z row <- softmax - onehot */
      for (int k = 0; k < nc; k++) z[k] = exp(z[k] - mx) / s;
      z[yi[i]] -= 1.0;
    }
  }
  double ww = 0;
  for (size_t j = 0; j < (size_t)nc * dim; j++) ww += W[j] * W[j];
  f += 0.5 / C * ww;
  if (grad) {
    double *gW = grad, *gb = grad + (size_t)nc * dim;
    /* gW = G^T X (nc x dim) + W / C */
    for (size_t j = 0; j < (size_t)nc * dim; j++) gW[j] = W[j] / C;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nc, dim, (int)n, 1.0, Z, nc, X, dim, 1.0,
                gW, dim);
    for (int k = 0; k < nc; k++) gb[k] = 0;
    for (int64_t i = 0; i < n; i++)
      for (int k = 0; k < nc; k++) gb[k] += Z[i * nc + k];
  }
  return f;
}

typedef struct {
  const double *X;
  const int32_t *yi;
  int64_t n;
  int dim, nc;
  double C;
  double *Z;
} lr_problem;

static double lr_objective(const double *theta, double *g, void *user) {
  lr_problem *p = user;
  return lac_logreg_loss(p->X, p->yi, p->n, p->dim, p->nc, p->C, theta, g, p->Z);
}

lac_status lac_logreg_fit(const double *X, const int32_t *y, int64_t n, int dim, int n_phases,
                          double C, double gtol, int max_iter, lac_linear_model *out,
                          lac_error *err) {
  memset(out, 0, sizeof *out);
  if (n < 1 || dim < 1 || n_phases < 1 || !(C > 0) || !(gtol >= 0) || max_iter < 0)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "logistic regression: needs >= 1 training frame, dim >= 1, C > 0, "
                         "gtol >= 0, max_iter >= 0 (got n %lld, dim %d, C %g, gtol %g, "
                         "max_iter %d)",
                         (long long)n, dim, C, gtol, max_iter);
  if (n > 2147483647)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "logistic regression: %lld training frames; BLAS takes at most 2^31-1",
                         (long long)n);
  out->classes = malloc((size_t)n_phases * sizeof *out->classes);
  int32_t *yi = malloc((size_t)n * sizeof *yi);
  if (!out->classes || !yi) {
    free(yi);
    lac_linear_model_free(out);
    return lac_error_set(err, LAC_ERR_NOMEM, "logistic regression: out of memory");
  }
  int nc = lac_eval_classes(y, n, n_phases, out->classes, yi);
  out->n_classes = nc;
  out->dim = dim;
  out->converged = 1;
  if (nc == 1) { /* nothing to fit */
    free(yi);
    return LAC_OK;
  }
  size_t np = (size_t)nc * dim + (size_t)nc;
  double *theta = calloc(np, sizeof *theta);
  double *Z = malloc((size_t)n * (size_t)nc * sizeof *Z);
  out->W = malloc((size_t)nc * dim * sizeof *out->W);
  out->b = malloc((size_t)nc * sizeof *out->b);
  if (!theta || !Z || !out->W || !out->b) {
    free(theta);
    free(Z);
    free(yi);
    lac_linear_model_free(out);
    return lac_error_set(err, LAC_ERR_NOMEM,
                         "logistic regression: out of memory (%lld frames x %d classes)",
                         (long long)n, nc);
  }
  lr_problem p = {X, yi, n, dim, nc, C, Z};
  lac_lbfgs_opts o = {10, max_iter, gtol};
  lac_lbfgs_info info;
  lac_status st = lac_lbfgs_minimize((int)np, theta, lr_objective, &p, &o, &info, err);
  if (st == LAC_OK) {
    memcpy(out->W, theta, (size_t)nc * dim * sizeof *out->W);
    memcpy(out->b, theta + (size_t)nc * dim, (size_t)nc * sizeof *out->b);
    out->n_rows = nc;
    out->iterations = info.iterations;
    out->converged = info.converged;
  }
  free(theta);
  free(Z);
  free(yi);
  if (st != LAC_OK) lac_linear_model_free(out);
  return st;
}
