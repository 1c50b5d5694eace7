/* eval_internal.h — what the files of lib/eval share and include/lac/eval.h does not show:
 * input checks, gathering labelled (strided) frames into double arrays, the L-BFGS
 * minimiser, the two linear classifiers behind one model type, least squares with R^2, and
 * the Kendall tau-b / nearest-neighbour kernels with their naive oracles.
 *
 * Not installed.  tests/test_metrics.c includes it to reach the solvers and the oracles.
 * Nothing here keeps state between calls.
 */
#ifndef LAC_EVAL_INTERNAL_H
#define LAC_EVAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lac/eval.h"

/* ---------------------------------------------------------------- inputs */

/* Check n videos of one set ("train"/"val"): n >= min_videos; each video has n >= 1 frames,
 * emb != NULL, dim >= 1 and equal to *dim (when *dim > 0; set otherwise), labels != NULL
 * when need_labels, labels in [-1, n_phases) with n_phases >= 1 and equal to *n_phases
 * (when *n_phases > 0; set otherwise), and finite embeddings (LAC_ERR_NUMERIC naming the
 * set, video, frame and component otherwise).  Messages say what to fix. */
lac_status lac_eval_check_videos(const lac_eval_video *v, int n, const char *what, int min_videos,
                                 int need_labels, int *dim, int *n_phases, lac_error *err);

/* The labelled frames (label >= 0; all frames where labels is NULL) of n videos, each
 * video's kept frames then subsampled as kept[0], kept[stride], ... (stride >= 1), in
 * double.  start has n + 1 entries: video i owns rows start[i] .. start[i+1]-1. */
typedef struct {
  int64_t n;        /* rows */
  int dim;
  int n_videos;
  double *X;        /* n x dim */
  int32_t *y;       /* n labels (-1 where the video had no labels) */
  int64_t *start;   /* n_videos + 1 */
} lac_eval_frames;

lac_status lac_eval_gather(const lac_eval_video *v, int n, int stride, lac_eval_frames *out,
                           lac_error *err);
void lac_eval_frames_free(lac_eval_frames *f);

/* The validation set of the pairwise metrics (Kendall's tau, precision@K): `who`'s stride
 * checked (>= 1), the videos checked (at least 2; labels when need_labels), their frames
 * gathered at that stride into f. */
lac_status lac_eval_gather_val(const lac_eval_video *val, int n_val, int stride, const char *who,
                               int need_labels, lac_eval_frames *f, lac_error *err);

/* Threads for our OpenMP loops: params->n_threads, or OpenMP's default when 0. */
int lac_eval_threads(const lac_eval_params *p);

/* The calling thread's number in an OpenMP team (0 outside one, or without OpenMP). */
int lac_eval_thread_id(void);

/* ---------------------------------------------------------------- L-BFGS */

/* Objective: returns f(x) and writes its gradient to g (both length n).  A non-finite
 * return is treated as "step too long" by the line search. */
typedef double (*lac_lbfgs_fn)(const double *x, double *g, void *user);

typedef struct {
  int m;            /* history pairs (10) */
  int max_iter;     /* iterations (100000) */
  double gtol;      /* converged when max |g_i| <= gtol */
} lac_lbfgs_opts;

typedef struct {
  int iterations;
  int evaluations;
  int converged;    /* 1 when max |g| <= gtol was reached */
  double f;         /* final objective */
  double gmax;      /* final max |g_i| */
} lac_lbfgs_info;

/* Minimise fn from x (n values, overwritten with the result).  Strong-Wolfe line search
 * (c1 = 1e-4, c2 = 0.9) by bracketing and safeguarded cubic interpolation, with an
 * approximate-Wolfe test once f no longer resolves the decrease.  Stops at gtol, at
 * max_iter, or when no step decreases f (info->converged = 0: not an error). */
lac_status lac_lbfgs_minimize(int n, double *x, lac_lbfgs_fn fn, void *user,
                              const lac_lbfgs_opts *opts, lac_lbfgs_info *info, lac_error *err);

/* ---------------------------------------------------------------- linear classifiers */

/* A linear multi-class decision function over the classes seen in training.
 *  n_rows == n_classes: predict classes[argmax_k (W_k . x + b_k)] (first maximum);
 *  n_rows == 1 (binary SVM, sklearn's convention): classes[1] if W_0 . x + b_0 > 0 else
 *  classes[0]; n_rows == 0 (one class seen): always classes[0]. */
typedef struct {
  int n_classes;
  int n_rows;
  int dim;
  int32_t *classes;  /* n_classes, ascending */
  double *W;         /* n_rows x dim */
  double *b;         /* n_rows */
  int iterations;    /* solver iterations (L-BFGS; 0 for liblinear, which does not say) */
  int converged;
} lac_linear_model;

void lac_linear_model_free(lac_linear_model *m);
/* dec: n_rows values for one x (dim values). */
void lac_linear_decision(const lac_linear_model *m, const double *x, double *dec);
int32_t lac_linear_predict(const lac_linear_model *m, const double *x, double *dec);

/* The classes present in y (n labels >= 0): sorted into classes (capacity n_phases),
 * count returned; yi[i] receives y[i]'s index among them (yi may be NULL). */
int lac_eval_classes(const int32_t *y, int64_t n, int n_phases, int32_t *classes, int32_t *yi);

/* Multinomial logistic regression objective (sklearn's, lbfgs/multinomial):
 *   f = sum_i [ logsumexp_k z_ik - z_i,yi ] + 1/(2C) ||W||_F^2,  z_ik = W_k . x_i + b_k
 * theta = [W (nc x dim, row-major) | b (nc)]; grad (same layout) may be NULL.
 * X: n x dim; yi: n class indices in [0, nc); Z: n x nc workspace. */
double lac_logreg_loss(const double *X, const int32_t *yi, int64_t n, int dim, int nc, double C,
                       const double *theta, double *grad, double *Z);

/* Fit on rows of X with labels y in [0, n_phases): classes are those present in y. */
lac_status lac_logreg_fit(const double *X, const int32_t *y, int64_t n, int dim, int n_phases,
                          double C, double gtol, int max_iter, lac_linear_model *out,
                          lac_error *err);

/* liblinear L2-regularised squared-hinge dual (LinearSVC's defaults: one-vs-rest, bias 1
 * appended as a regularised feature), C and eps as given. */
lac_status lac_svm_fit(const double *X, const int32_t *y, int64_t n, int dim, int n_phases,
                       double C, double eps, lac_linear_model *out, lac_error *err);

/* ---------------------------------------------------------------- progression */

/* Targets of one video's labelled frames (labels[0..L-1], each in [0, K)), L x (K-1),
 * row-major: out[t][c] = (t - tau_c) / L with tau_c the last t where labels[t] == c (if c
 * never occurs: the last t with labels[t] < c, else -1). */
void lac_eval_progress_targets(const int32_t *labels, int64_t L, int K, double *out);

/* Least squares with intercept (sklearn LinearRegression): centre X (n x dim) and Y
 * (n x m) by their column means, solve by LAPACKE_dgelsd (minimum norm, rcond = machine
 * epsilon, as scipy.linalg.lstsq), intercept = mean(Y) - mean(X) . coef.
 * coef: dim x m, intercept: m. */
lac_status lac_linreg_fit(const double *X, int64_t n, int dim, const double *Y, int m,
                          double *coef, double *intercept, lac_error *err);

/* sklearn r2_score of one column: y, pred read with element stride ld. n >= 1.
 * 1 - SS_res/SS_tot; SS_tot == 0: 1 if SS_res == 0 else 0. */
double lac_r2_score(const double *y, const double *pred, int64_t n, int64_t ld);

/* ---------------------------------------------------------------- Kendall, neighbours */

/* tau-b as scipy.stats.kendalltau (variant b, clipped to [-1, 1]); NaN when n < 2 or x or
 * y is constant.  Fast: O(n log n) (sort and merge-count); work: 4 n int64 values. */
double lac_tau_b(const int64_t *x, const int64_t *y, int64_t n, int64_t *work);
/* The O(n^2) oracle: counts every pair. */
double lac_tau_b_naive(const int64_t *x, const int64_t *y, int64_t n);

/* Squared Euclidean distance in double, summed over k = 0..dim-1 in order (bit-identical to
 * scipy's cdist 'sqeuclidean'). */
double lac_sqdist(const double *a, const double *b, int dim);
/* nn[i] = argmin_j |q_i - c_j|^2 (first minimum), q: nq x dim, c: nc x dim, nc >= 1. */
void lac_eval_nearest(const double *q, int64_t nq, const double *c, int64_t nc, int dim,
                      int64_t *nn);

#endif /* LAC_EVAL_INTERNAL_H */
