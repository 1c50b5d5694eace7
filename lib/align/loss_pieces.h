/* loss_pieces.h — the small host-side pieces of the LAC loss (lib/align/loss.c), shared by
 * the CPU loss and the CUDA backend's loss (lib/cuda/cuda_loss.c) so both compute labels,
 * softmaxes and soft-target terms with the same code.  Internal. */
#ifndef LAC_LOSS_PIECES_H
#define LAC_LOSS_PIECES_H

#include <stdint.h>

#include "lac/align.h"

/* label[a][c] for n1 x n2 frames s1[r1[a]], s2[r2[c]] (r1/r2 NULL = identity):
 * exp(-(s1 - s2)^2 / (2 var)) normalised per row (computed relative to the row's smallest
 * distance, so no row underflows to 0/0).  lab: [n1][n2] doubles. */
void lac_loss_make_labels(int n1, int n2, const int64_t *s1, const int *r1, const int64_t *s2,
                          const int *r2, double var, double *lab);
/* y = softmax over each row of x [rows][cols] (max-subtracted, sums in double). */
void lac_loss_softmax_rows(int rows, int cols, const float *x, float *y);
/* g = dL/dx of y = softmax_row(x) given dy = dL/dy. */
void lac_loss_softmax_rows_backward(int rows, int cols, const float *y, const float *dy,
                                    float *g);
/* Soft-target KL (kl = 1) or cross-entropy (kl = 0) of one row of logits x against lab,
 * with log q = log(softmax(x) + eps) when eps > 0; g (nullable) = scale * d/dx. */
double lac_loss_soft_target_row(int n, const float *x, const double *lab, double eps, int kl,
                                double scale, float *g);

/* B, T, d in range, params valid, e1/e2 (B x T x d) and go/ge (T x T per cell, else 1)
 * finite; messages start with `who` and name the value at fault. */
lac_status lac_loss_check_inputs(const lac_loss_params *p, int B, int T, int d, const float *e1,
                                 const float *e2, const float *go, const float *ge,
                                 const char *who, lac_error *err);

/* L = (alpha * sum_con + beta * (sum_ce + score_weight * sum_score)) / B into out (may be
 * NULL), refusing non-finite sums with a message naming `who`. */
lac_status lac_loss_finish_terms(const lac_loss_params *p, int B, double sum_con, double sum_ce,
                                 double sum_score, const char *who, lac_loss_terms *out,
                                 lac_error *err);

#endif
