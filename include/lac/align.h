/* lac/align.h — smoothed Smith-Waterman with affine gaps (docs: SW_AFFINE semantics) and
 * the LAC loss, with exact gradients.
 *
 * Alignment of one pair, 0-based cells, every state -inf outside the matrix, smooth max
 * smax_t(v) = t * log sum exp(v / t) (plain max at t = 0):
 *   M[i,j] = S[i,j] + smax(0, M[i-1,j-1], X[i-1,j-1], Y[i-1,j-1])
 *   X[i,j] = smax(M[i,j-1] - go[i,j], X[i,j-1] - ge[i,j])
 *   Y[i,j] = smax(M[i-1,j] - go[i,j], X[i-1,j] - go[i,j], Y[i-1,j] - ge[i,j])
 *   V      = smax over all M[i,j]
 * A penalty belongs to the target cell of the move that pays it.  go/ge are one value per
 * pair (scalar) or one per cell ([n][m], per_cell_gaps = 1).
 *
 * Ownership and threading: an lac_aligner holds the workspace of the last forward (what
 * its backward needs) and a thread count; one thread at a time per aligner.  An aligner
 * made with a CUDA backend (lac_aligner_params.backend) keeps that workspace on the GPU, in
 * device and pinned host buffers it owns (grow-only, freed by lac_aligner_free), and runs on
 * a CUDA stream of its own, so aligners sharing one backend may run in different threads.
 * The backend is borrowed: it must outlive the aligner.
 */
#ifndef LAC_ALIGN_H
#define LAC_ALIGN_H

#include <stddef.h>
#include <stdint.h>

#include "lac.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The finite stand-in for -inf used inside the recurrences. */
#define LAC_SW_NEG_INF (-1e30f)

typedef struct {
  int n, m;          /* lengths, >= 1 */
  const float *S;    /* [n][m] row-major similarity */
  const float *go;   /* gap open: 1 value, or [n][m] when per_cell_gaps */
  const float *ge;   /* gap extend: likewise */
} lac_sw_pair;

typedef struct {
  float tau;         /* > 0: smoothed; 0: hard (max), with backtracking */
  int per_cell_gaps; /* 0: go/ge point to one value each; 1: to [n][m] */
} lac_sw_options;

typedef struct {
  int n_threads;     /* 0 = all cores (the CPU path) */
  /* NULL (the default) or a CPU backend: everything on the CPU.  A CUDA backend
   * (lac_backend_name(b) is "cuda"; borrowed, must outlive the aligner): lac_sw_forward with
   * tau > 0 runs on its GPU for pairs of lengths 1..1024 (a longer pair is
   * LAC_ERR_UNSUPPORTED: use a CPU aligner for it) and keeps the tables there for
   * lac_sw_backward; tau = 0 (hard alignment, lac_sw_path) runs on the aligner's CPU path. */
  lac_backend *backend;
} lac_aligner_params;

typedef struct lac_aligner lac_aligner;

lac_aligner_params lac_aligner_default_params(void);
lac_status lac_aligner_new(const lac_aligner_params *params, lac_aligner **out, lac_error *err);
void lac_aligner_free(lac_aligner *a);

/* Forward for n_pairs pairs (each with its own lengths): V[p] always; M[p] ([n][m]) when
 * M and M[p] are non-NULL.  Non-finite S, go or ge are refused (LAC_ERR_NUMERIC, naming
 * the pair and cell).  Keeps what lac_sw_backward needs until the next forward (on the
 * device for a CUDA aligner's soft forward: V and M are downloaded, the tables stay). */
lac_status lac_sw_forward(lac_aligner *a, const lac_sw_options *opt, int n_pairs,
                          const lac_sw_pair *pairs, float *V, float *const *M, lac_error *err);

/* Backward of the last forward (tau > 0: exact gradients; tau = 0: the gradient of the
 * best path).  gV[p]: incoming gradient on V (NULL = 0); gM[p]: on M ([n][m], NULL or
 * gM[p] NULL = 0).  Outputs (overwritten; NULL to skip): dS[p] [n][m], dgo[p], dge[p]
 * (1 value or [n][m], as the penalties were given). */
lac_status lac_sw_backward(lac_aligner *a, const float *gV, const float *const *gM,
                           float *const *dS, float *const *dgo, float *const *dge,
                           lac_error *err);

typedef struct {
  int i, j;
  char state;        /* 'M', 'X' or 'Y' */
} lac_sw_step;

/* The best local alignment of pair p of the last forward (which must have had tau = 0),
 * from its first to its last cell.  steps needs room for n + m entries. */
lac_status lac_sw_path(const lac_aligner *a, int p, lac_sw_step *steps, int cap, int *n_steps,
                       lac_error *err);

/* ---------------------------------------------------------------- the LAC loss
 *
 * For each of B pairs of views e1, e2 (T x d each) with sampled frame indices s1, s2 and
 * validity masks (METHOD.md §3):
 *   label[a,c] = w / rowsum(w), w = exp(-(s1[a]-s2[c])^2 / (2 var)), masked rows/cols 0
 *   L_con   = sum label * (log label - log(softmax_row(e1 e2^T / temperature) + log_eps)) / T^2
 *   S12     = sim(e1, e2), S21 = sim(e2, e1); (V12, M12) = SW(S12), (V21, M21) = SW(S21)
 *   A = softmax_row(M12), Bm = softmax_row(M21)
 *   logits  = A * Bm^T (matrix product, the reference code) or A .* Bm^T (element-wise, the paper)
 *   L_ce    = mean_a CE(logits[a,:], label[a,:]) (soft targets, log_softmax of the logits)
 *   L_local = L_ce + score_weight * (V12 + V21)
 *   L       = mean over pairs of alpha * L_con + beta * L_local
 * Gradients are exact for the forward each option set defines.
 * Masks (valid = 0): a pair's masked frames are dropped before anything is computed, so
 * they neither change L nor get gradient.  With n1, n2 valid frames, T^2 in L_con becomes
 * n1 * n2, the mean in L_ce runs over the n1 valid rows, the alignments are n1 x n2 and
 * n2 x n1 with per-cell penalties taken at the frames' positions (go[r1[i]][r2[j]] for
 * 1->2, go[r2[j]][r1[i]] for 2->1, r = positions of the valid frames), and the matrix
 * product's shared index runs over the frame positions valid in both views.  Without masks
 * these are the formulas above.  A view with no valid frame is refused. */

typedef enum {
  LAC_SIM_INV_SQDIST = 0, /* 1 / (|x - y|^2 + sim_eps) (the reference has no epsilon) */
  LAC_SIM_NEG_SQDIST = 1, /* -|x - y|^2 */
  LAC_SIM_COSINE = 2,     /* x.y / (|x| |y| + sim_eps) */
} lac_similarity;

typedef enum {
  LAC_LOGITS_MATMUL = 0,      /* A Bm^T: the reference code */
  LAC_LOGITS_ELEMENTWISE = 1, /* A .* Bm^T: the paper's text */
} lac_logits_mode;

typedef struct {
  float label_var;      /* variance of the Gaussian labels, frame-index units (10) */
  float temperature;    /* contrastive softmax temperature (0.8 reference, 0.1 CARL) */
  float log_eps;        /* added inside log p of the KL (1e-6 reference; 0 = exact) */
  float sw_tau;         /* alignment smoothing temperature (0.8; 0: hard, best-path gradient) */
  lac_similarity similarity;
  float sim_eps;        /* documented epsilon of the similarity (1e-6) */
  lac_logits_mode logits;
  float score_weight;   /* signed weight of (V12 + V21) in L_local (+1 reference) */
  float alpha, beta;    /* weights of L_con and L_local (1, 0.01) */
  int per_cell_gaps;    /* go/ge are [T][T] (reference) or scalars */
  int stop_grad_m;      /* 1: no gradient through M12/M21 (the reference's training) */
} lac_loss_params;

/* S[n][m] = sim(x[i], y[j]) for x [n][d], y [m][d], computed in double and rounded to float:
 * direct loops for small inputs; from 16 rows and 16 columns on, double-precision GEMMs with
 * near-identical rows recomputed directly (lib/align/similarity.c), one allocation per call. */
lac_status lac_similarity_matrix(lac_similarity kind, float eps, int n, int m, int d,
                                 const float *x, const float *y, float *S, lac_error *err);

/* "reference" (the LAC code's forward) and "paper" (element-wise logits). */
lac_status lac_loss_preset(const char *name, lac_loss_params *out, lac_error *err);

typedef struct {
  double total;         /* L */
  double contrastive;   /* mean over pairs of L_con */
  double local_ce;      /* mean over pairs of L_ce */
  double score;         /* mean over pairs of V12 + V21 */
} lac_loss_terms;

/* e1, e2: [B][T][d]; s1, s2: [B][T] frame indices; valid1, valid2: [B][T] (NULL = all);
 * go, ge: [T][T] or 1 value; out: NULL to skip.  NaN/Inf in e1, e2, go, ge: LAC_ERR_NUMERIC.
 * Gradients (NULL to skip, overwritten): de1, de2 [B][T][d], dgo, dge like go, ge: each is
 * dL/d(input) of the L above (its 1/B included; penalty gradients summed over pairs and
 * both directions).  On a CPU aligner: works in a grow-only workspace the aligner keeps (no
 * allocation once warm) and leaves the 2B alignments as the aligner's last forward.  On an aligner made
 * with a CUDA backend and sw_tau > 0: the whole loss runs on its GPU (same results up to
 * float rounding; T <= 1024, else LAC_ERR_UNSUPPORTED) in the aligner's own buffers and
 * stream, and afterwards the aligner holds no alignment forward; with sw_tau = 0 it runs on
 * the CPU as above. */
lac_status lac_loss(lac_aligner *a, const lac_loss_params *p, int B, int T, int d,
                    const float *e1, const float *e2, const int64_t *s1, const int64_t *s2,
                    const uint8_t *valid1, const uint8_t *valid2, const float *go,
                    const float *ge, lac_loss_terms *out, float *de1, float *de2, float *dgo,
                    float *dge, lac_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LAC_ALIGN_H */
