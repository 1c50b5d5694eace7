/* loss_rows.h — the per-row pieces of the LAC loss, written once for both losses: the CPU
 * loss (lib/align/loss.c, plain C) and the GPU loss's kernels (kernels/loss.cu, compiled by
 * nvcc for host and device, one row per thread).  So the Gaussian labels, the soft-target
 * KL / cross-entropy with their gradients and the row softmaxes are the same code on both
 * backends; only the libm of each side differs (host exp/log, the device's double exp/log).
 * Internal; header-only (static inline).  Rows are contiguous; sums are in double; every
 * softmax is max-subtracted.
 */
#ifndef LAC_LOSS_ROWS_H
#define LAC_LOSS_ROWS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __CUDACC__
#define LAC_ROW_FN static inline __host__ __device__
#else
#define LAC_ROW_FN static inline
#endif

/* One row of Gaussian labels: row[c] = exp(-(s1a - s2[r2[c]])^2 / (2 var)) / rowsum for
 * c < n2 (r2 NULL: s2[c]), computed relative to the row's smallest squared distance, so the
 * largest weight is 1 and no row is 0/0 (the reference's float32 exp underflows to a zero
 * row when a frame is more than ~45 indices from every frame of the other view). */
LAC_ROW_FN void lac_row_labels(int n2, double s1a, const int64_t *s2, const int *r2, double var,
                               double *row) {
  double mn = INFINITY, sum = 0;
  for (int c = 0; c < n2; c++) {
    const double t = s1a - (double)s2[r2 ? r2[c] : c];
    row[c] = t * t;
    if (row[c] < mn) mn = row[c];
  }
  for (int c = 0; c < n2; c++) {
    row[c] = exp(-(row[c] - mn) / (2.0 * var));
    sum += row[c];
  }
  for (int c = 0; c < n2; c++) row[c] /= sum;
}

/* Soft-target KL (kl = 1) or cross-entropy (kl = 0) of one row of logits x_c * xscale
 * (products in float) against lab: log q_c = log_softmax(x)_c, or log(softmax(x)_c + eps)
 * when eps > 0.
 *   kl = 1: returns sum_c lab_c (log lab_c - log q_c) (0 log 0 = 0)
 *   kl = 0: returns -sum_c lab_c log q_c
 * g (when non-NULL) receives scale * d(result)/dx_c (the xscale factor not included).
 * softmax(x)_c = e_c / s with e_c = exp(x_c xscale - max) and s their sum.  work: NULL, or
 * n doubles where the row's e_c are kept between the passes, so that each is computed once
 * (without it each pass computes them again: the device's one-thread-per-row kernels); the
 * results are the same either way. */
LAC_ROW_FN double lac_row_soft_target(int n, const float *x, float xscale, const double *lab,
                                      double eps, int kl, double scale, float *g,
                                      double *work) {
  float mx = x[0] * xscale;
  for (int c = 1; c < n; c++) {
    const float v = x[c] * xscale;
    if (v > mx) mx = v;
  }
#define LAC_ROW_E(c) (work ? work[c] : exp((double)(x[c] * xscale) - mx))
  double s = 0;
  for (int c = 0; c < n; c++) {
    const double e = exp((double)(x[c] * xscale) - mx);
    if (work) work[c] = e;
    s += e;
  }
  const double lse = log(s);
  double loss = 0, sum_lab = 0, sum_qp = 0;
  for (int c = 0; c < n; c++) {
    double lq = (double)(x[c] * xscale) - mx - lse;
    if (eps > 0) {
      const double p = LAC_ROW_E(c) / s;
      lq = log(p + eps);
      sum_qp += lab[c] * p / (p + eps);
    }
    if (lab[c] > 0) loss += lab[c] * ((kl ? log(lab[c]) : 0.0) - lq);
    sum_lab += lab[c];
  }
  if (!g) return loss;
  /* d/dx_k of -sum_c lab_c log q_c: with q_c = p_c + eps and r_c = lab_c p_c / (p_c + eps),
   * -r_k + p_k sum_c r_c (eps = 0: p_k sum lab - lab_k). */
  if (eps > 0) {
    for (int c = 0; c < n; c++) {
      const double p = LAC_ROW_E(c) / s;
      g[c] = (float)(scale * (p * sum_qp - lab[c] * p / (p + eps)));
    }
  } else {
    for (int c = 0; c < n; c++) {
      const double p = LAC_ROW_E(c) / s;
      g[c] = (float)(scale * (p * sum_lab - lab[c]));
    }
  }
  return loss;
#undef LAC_ROW_E
}

/* y = softmax(x) over one row of n (max-subtracted, sum in double); work: NULL or n doubles,
 * as lac_row_soft_target's */
LAC_ROW_FN void lac_row_softmax(int n, const float *x, float *y, double *work) {
  float mx = x[0];
  for (int c = 1; c < n; c++)
    if (x[c] > mx) mx = x[c];
  double s = 0;
  for (int c = 0; c < n; c++) {
    const double e = exp((double)x[c] - mx);
    if (work) work[c] = e;
    s += e;
  }
  for (int c = 0; c < n; c++) y[c] = (float)((work ? work[c] : exp((double)x[c] - mx)) / s);
}

/* In place: g holds dL/dy of y = softmax(x) on entry and dL/dx = y (dy - sum_c dy_c y_c) on
 * return (one row of n). */
LAC_ROW_FN void lac_row_softmax_backward(int n, const float *y, float *g) {
  double dot = 0;
  for (int c = 0; c < n; c++) dot += (double)g[c] * y[c];
  for (int c = 0; c < n; c++) g[c] = (float)(y[c] * ((double)g[c] - dot));
}

#endif
