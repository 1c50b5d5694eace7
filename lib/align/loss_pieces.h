/* loss_pieces.h — the host-side checks and the final sum of the LAC loss, shared by the CPU
 * loss (lib/align/loss.c) and the CUDA backend's loss (lib/cuda/cuda_loss.c).  The per-row
 * pieces both compute (labels, soft-target terms, softmaxes) are in loss_rows.h.  Internal. */
#ifndef LAC_LOSS_PIECES_H
#define LAC_LOSS_PIECES_H

#include <stdint.h>

#include "lac/align.h"

/* B, T, d in range, params valid, e1/e2 (B x T x d) and go/ge (T x T per cell, else 1)
 * finite, every view of every pair with a valid frame (valid1/valid2 [B][T], NULL = all);
 * messages start with `who` and name the value at fault. */
lac_status lac_loss_check_inputs(const lac_loss_params *p, int B, int T, int d, const float *e1,
                                 const float *e2, const uint8_t *valid1, const uint8_t *valid2,
                                 const float *go, const float *ge, const char *who,
                                 lac_error *err);

/* L = (alpha * sum_con + beta * (sum_ce + score_weight * sum_score)) / B into out (may be
 * NULL), refusing non-finite sums with a message naming `who`. */
lac_status lac_loss_finish_terms(const lac_loss_params *p, int B, double sum_con, double sum_ce,
                                 double sum_score, const char *who, lac_loss_terms *out,
                                 lac_error *err);

#endif
