/* sw_ref.h — the double-precision reference (oracle) of the smoothed Smith-Waterman
 * alignment with affine gaps (docs/alignment.md, /work/shared/docs/SW_AFFINE.md): one pair,
 * forward, exact backward, and the hard (max-plus) alignment with its path.
 *
 * What it is: plain scalar loops in double that every fast path (float32 SIMD CPU, CUDA)
 * is compared with.  Clarity beats speed here.
 * What it is not: not batched, not threaded, no input validation beyond what keeps it from
 * crashing (non-finite S/go/ge give non-finite results: the public API refuses them before
 * they get here), not installed (internal header; the tests include it).
 *
 * Semantics (0-based cells; every state is -inf outside the matrix, represented by the
 * finite sentinel LAC_SW_REF_NEG_INF; smax_t(v) = t * log sum_k exp(v_k / t), max at t = 0,
 * and an smax whose terms are all the sentinel returns the sentinel):
 *   M[i,j] = S[i,j] + smax(0, M[i-1,j-1], X[i-1,j-1], Y[i-1,j-1])
 *   X[i,j] = smax(M[i,j-1] - go[i,j], X[i,j-1] - ge[i,j])
 *   Y[i,j] = smax(M[i-1,j] - go[i,j], X[i-1,j] - go[i,j], Y[i-1,j] - ge[i,j])
 *   V      = smax over all M[i,j]
 * A term whose source state is the sentinel is the sentinel (the penalty is not subtracted
 * from -inf).  go/ge: one value each (per_cell = 0) or [n*m] row-major (per_cell = 1); a
 * penalty belongs to the target cell of the move that pays it.
 *
 * Tie-breaks at tau = 0 (forward, backward and lac_sw_ref_hard agree): within a max the
 * first maximal term in the order written above wins, i.e. start(0) > M > X > Y; the end of
 * the best alignment is the first maximal M cell in row-major order.
 *
 * Nothing here holds state; every function may run concurrently on distinct outputs.
 */
#ifndef LAC_SW_REF_H
#define LAC_SW_REF_H

#include "lac/align.h" /* lac_sw_step */

/* The finite stand-in for -inf, in double (LAC_SW_NEG_INF is its float twin). */
#define LAC_SW_REF_NEG_INF (-1e30)

/* Forward.  S: [n*m] row-major; go, ge: 1 value or [n*m] (per_cell); tau >= 0.
 * M, X, Y: [n*m] caller-allocated, overwritten with the state tables (what the backward
 * needs; X[i,0] and Y[0,j] are the sentinel).  Returns V, or NaN when n < 1, m < 1 or tau is
 * not >= 0 (tables then unwritten).  Allocates nothing. */
double lac_sw_ref_forward(int n, int m, const double *S, const double *go, const double *ge,
                          int per_cell, double tau, double *M, double *X, double *Y);

/* Backward of L = gV * V + sum_ij gM[i,j] * M[i,j], given the tables of the forward with the
 * same inputs.  gM: [n*m] or NULL (= 0).  Outputs, overwritten, each NULL to skip:
 * dS [n*m]; dgo, dge [n*m] when per_cell, else 1 value (the sum over cells).
 * tau > 0: exact gradients, by the reverse-wavefront adjoint of SW_AFFINE.md §2 with the
 * softmax(v / tau) weights recomputed from the stored tables; tau = 0: the gradient of the
 * best path (one-hot weights by the tie-breaks above).
 * Mallocs three [n*m] adjoint tables and frees them.  Returns 0, or -1 when the arguments
 * are invalid (as for the forward) or an allocation fails (outputs then unwritten). */
int lac_sw_ref_backward(int n, int m, const double *S, const double *go, const double *ge,
                        int per_cell, double tau, const double *M, const double *X,
                        const double *Y, double gV, const double *gM, double *dS, double *dgo,
                        double *dge);

/* Hard (max-plus) alignment: the tau = 0 recurrences with backpointers, then a backtrack from
 * the best end cell.  Writes the best local alignment into path as (i, j, state) steps from
 * its first cell (a match) to its last (a match), at most n + m - 1 steps; *n_steps receives
 * the path's length even when cap is smaller (then only its first cap steps are written;
 * path may be NULL with cap = 0 to ask the length).  Returns V (equal to
 * lac_sw_ref_forward at tau = 0).  Mallocs one backpointer byte per cell and six rows of m
 * doubles; on an allocation failure or invalid n, m returns NaN with *n_steps = -1. */
double lac_sw_ref_hard(int n, int m, const double *S, const double *go, const double *ge,
                       int per_cell, lac_sw_step *path, int cap, int *n_steps);

#endif /* LAC_SW_REF_H */
