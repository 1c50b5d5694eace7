/* kernels.h — C-callable launchers of our CUDA kernels.  Pointers are device pointers;
 * `stream` is a cudaStream_t (NULL = default stream).  Each returns a cudaError_t as int
 * (0 = success); the caller turns it into an lac_status with a message. */
#ifndef LAC_KERNELS_H
#define LAC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y[c][plane] = act(y + b[c] + res[c][plane]); b and res may be NULL; relu 0/1 */
int lac_cuda_epilogue(float *y, int cout, size_t plane, const float *b, const float *res,
                      int relu, void *stream);

/* ---------------------------------------------------------------- smoothed SW-affine
 * (kernels/sw_affine.cu; semantics: include/lac/align.h, docs SW_AFFINE.md)
 *
 * Packed layout of a batch.  Every per-cell buffer (S, per-cell go/ge, M, X, Y, gM, dS, per-cell
 * dgo/dge) holds pair p's [n][ld] block at dims[p].off floats: cell (i, j) of pair p is
 * buf[off + i * ld + j] in the row-major order (the launch's `order`, below, may put the cells
 * of the block elsewhere; X and Y: the same block, in the order
 * lac_cuda_sw_opts.skew_min_pairs and `order` say; only the backward reads them).  Rules:
 * 1 <= n, m <= LAC_CUDA_SW_MAX_LEN; ld >= m and a multiple of 8; off a multiple of 4 (with the
 * buffer 16-byte aligned, as cudaMalloc gives); blocks do not overlap.
 * Columns m .. ld-1 are padding: read as inputs (any finite or not value: they never reach a
 * result) and written with unspecified values (dS, dgo, dge: 0). Per-pair buffers (V, gV, scalar
 * go/ge, scalar dgo/dge) hold one float per pair; vstat holds 2 per pair (max M, 1 / sum exp((M -
 * max) / tau): what the backward needs of V). work (backward only) holds 10 * n floats per pair at
 * dims[p].woff (scratch between bands). Values: tau > 0 with log2(e) / tau finite; |S|, |go|, |ge|
 * < 1e20 and finite (checked by the host wrapper lac_cuda_sw, not here).  Throughput is best with
 * the largest pairs first.
 */
#define LAC_CUDA_SW_MAX_LEN 1024

typedef struct {
  long long off;  /* first cell of the pair's [n][ld] block, in floats */
  long long woff; /* first float of the pair's backward scratch (10 * n floats) in work */
  int n, m;       /* lengths */
  int ld;         /* row stride in floats */
  int reserved;   /* 0 */
} lac_cuda_sw_dims;

/* The order of a launch's per-cell buffers S, go, ge, gM, M, dS, dgo, dge (the launchers'
 * `order`; a forward and its backward take the same):
 *   LAC_CUDA_SW_ROWS  row-major: cell (i, j) of pair p at buf[dims[p].off + i * ld + j];
 *   LAC_CUDA_SW_CELLS the warp's order, the one the X and Y tables use from
 *                     lac_cuda_sw_opts.skew_min_pairs on: cell (i, j) of pair p at
 *                     buf[dims[p].off + lac_cuda_sw_cell_index(&dims[p], i, j)] (padding cells
 *                     included: the map is a bijection of the pair's n x ld block), so that every
 *                     access of a warp to them is one contiguous run.
 * Results are bit for bit the same in both orders.  lac_cuda_sw_best_order says which is the
 * faster for a launch's shape, as measured; lac_cuda_sw, the aligner and the loss pack
 * row-major (their host or packing side, not the kernels, bounds them at the sizes they
 * run: docs/alignment.md). */
#define LAC_CUDA_SW_ROWS 0
#define LAC_CUDA_SW_CELLS 1
/* LAC_CUDA_SW_CELLS, and the X table of each pair wider than 128 columns holds X only at every
 * 8th column (the backward recomputes the others from M: 7/8 of X's traffic saved; results bit
 * for bit those of the other orders; kernels/sw_affine.cu, xe_at).  The per-cell buffers are
 * laid out as for LAC_CUDA_SW_CELLS.  On an H100, 1.08-1.17x the warp's order from 1024 pairs
 * of 256 on, where lac_cuda_sw_best_order picks it (docs/BENCHMARKS.md). */
#define LAC_CUDA_SW_CELLS_XEDGE 2
/* LAC_CUDA_SW_CELLS_XEDGE, and the Y table of each such pair holds Y only at every 4th row
 * (where the table of these checkpoints fits in the pair's Y block; the backward recomputes
 * the rest in shared memory, 27.5 KB a block with per-cell gaps: 5.75 of Y's 8 bytes a cell
 * saved; results bit for bit those of the other orders; kernels/sw_affine.cu, yc_at).  Runs one
 * warp per pair with strips of 8: settings with other strip widths or warps are refused.  On an
 * H100 its backward is bound by the recomputation, not the memory: 0.31-0.84x the warp's
 * order from 256 pairs of 256 on (0.15-0.62x at 8 pairs); lac_cuda_sw_best_order does not
 * pick it (docs/BENCHMARKS.md). */
#define LAC_CUDA_SW_CELLS_XYEDGE 3

/* A launch's settings (tests and benchmarks; NULL in a launcher = lac_cuda_sw_default_opts,
 * the settings the H100 measurements in docs/BENCHMARKS.md support).  Results are the same up
 * to float rounding whatever they are (V and the scalar penalties' gradients sum their terms
 * in an order that follows the strips); speed and registers differ.  A forward and its
 * backward may differ in them, except skew_min_pairs. */
typedef struct lac_cuda_sw_opts {
  int fwd_wmax, bwd_wmax; /* the largest strip width of each direction: 8 (default) or 4 */
  int warps;              /* warps per pair: 0 (default: from the launch's pair count, widest
                             pair and gap kind: up to 4 warps for few long pairs, 2 for a few
                             hundred pairs of 512 columns or more, else 1; kernels/sw_affine.cu,
                             sw_launch_warps), or always 1 (the one-warp kernels), 2, 4 or 8
                             (the several-warp kernels: a pair's bands run at the same time on
                             the block's warps) */
  int skew_min_pairs;     /* LAC_CUDA_SW_ROWS launches of at least this many pairs keep the X
                             and Y tables in the warp's order (kernels/sw_affine.cu, xy_at):
                             default 512, 0 = always */
} lac_cuda_sw_opts;
lac_cuda_sw_opts lac_cuda_sw_default_opts(void);
/* 1 when o is not NULL and every field holds an allowed value, else 0 */
int lac_cuda_sw_opts_valid(const lac_cuda_sw_opts *o);

/* Forward: M, X, Y (every cell of each pair's block), V[p] and vstat[2p], 2p+1.  go, ge:
 * per cell (per_cell = 1) or one value per pair.  max_m: the largest dims[p].m of the launch,
 * a hint from which (with the pair count and the gap kind) the launch picks its warps per
 * pair (lac_cuda_sw_launch_warps); any value gives correct results, 0 gives one warp per
 * pair.  order: LAC_CUDA_SW_ROWS, LAC_CUDA_SW_CELLS, LAC_CUDA_SW_CELLS_XEDGE or
 * LAC_CUDA_SW_CELLS_XYEDGE; opts: the launch's settings (NULL: the defaults).  Another order,
 * or settings that lac_cuda_sw_opts_valid (or the order) refuses: cudaErrorInvalidValue,
 * nothing launched.  One block per pair (grid = n_pairs). */
int lac_cuda_sw_forward(int n_pairs, const lac_cuda_sw_dims *dims, int max_m, int order,
                        const lac_cuda_sw_opts *opts, float tau, int per_cell, const float *S,
                        const float *go, const float *ge, float *M, float *X, float *Y, float *V,
                        float *vstat, void *stream);

/* Backward of L = sum_p gV[p] V[p] + sum gM .* M, from the forward's M, X, Y and vstat (same
 * dims, order, tau, per_cell, go, ge and opts->skew_min_pairs; max_m and the other settings
 * as in the forward, though the two may differ).
 * gV (NULL = 0), gM (NULL = 0).  Outputs, each NULL to skip: dS per cell; dgo, dge per cell
 * (per_cell) or one per pair (the sum over the pair's cells). */
int lac_cuda_sw_backward(int n_pairs, const lac_cuda_sw_dims *dims, int max_m, int order,
                         const lac_cuda_sw_opts *opts, float tau, int per_cell, const float *go,
                         const float *ge, const float *M, const float *X, const float *Y,
                         const float *vstat, const float *gV, const float *gM, float *dS,
                         float *dgo, float *dge, float *work, void *stream);

/* The same two on the CPU with host pointers: the kernels' per-lane code run for 32
 * emulated lanes in lock step (libm exp2f/log2f in place of the SFU).  For tests: proves the
 * wavefront, band and masking logic without a GPU.  Slow.  Return 0 (an invalid order or
 * settings: cudaErrorInvalidValue, nothing computed). */
int lac_cuda_sw_emulate_forward(int n_pairs, const lac_cuda_sw_dims *dims, int max_m,
                                int order, const lac_cuda_sw_opts *opts, float tau, int per_cell,
                                const float *S, const float *go, const float *ge, float *M,
                                float *X, float *Y, float *V, float *vstat);
int lac_cuda_sw_emulate_backward(int n_pairs, const lac_cuda_sw_dims *dims, int max_m,
                                 int order, const lac_cuda_sw_opts *opts, float tau,
                                 int per_cell, const float *go, const float *ge, const float *M,
                                 const float *X, const float *Y, const float *vstat,
                                 const float *gV, const float *gM, float *dS, float *dgo,
                                 float *dge, float *work);

/* the faster order (LAC_CUDA_SW_ROWS, LAC_CUDA_SW_CELLS or LAC_CUDA_SW_CELLS_XEDGE) for a
 * launch of n_pairs pairs, the widest of max_m columns, as measured on an H100 with the default
 * warps per pair (kernels/sw_affine.cu): the warp's order from n_pairs * max_m^2 >= 2^22 on,
 * with the X edges from 1024 pairs wider than 128 columns on */
int lac_cuda_sw_best_order(int n_pairs, int max_m);
/* where cell (i, j), 0 <= i < n, 0 <= j < ld, of the pair d lives in the order
 * LAC_CUDA_SW_CELLS, relative to d->off (host code); -1 for a cell outside the block or d NULL
 * or not a valid shape (n, m >= 1, ld >= m and a multiple of 8) */
long long lac_cuda_sw_cell_index(const lac_cuda_sw_dims *d, int i, int j);

/* the warps per pair that a launch of n_pairs pairs, the widest of max_m columns, with
 * per-cell (1) or scalar (0) gaps and the settings opts (NULL: the defaults) uses; -1 for
 * settings that lac_cuda_sw_opts_valid refuses */
int lac_cuda_sw_launch_warps(const lac_cuda_sw_opts *opts, int n_pairs, int max_m, int per_cell);

/* ---------------------------------------------------------------- CUDA backend scratch
 * (lib/cuda/cuda_backend.c; host side only, for lib/cuda/cuda_align.c and the tests).
 * A CUDA backend keeps one device buffer and one pinned host buffer, grow-only, freed by
 * lac_backend_free; lac_cuda_backend_scratch makes them at least dev_bytes / host_bytes
 * (growing waits for the backend's stream) and returns them with the backend's stream
 * (a cudaStream_t), the poison flag and the SW kernels' settings.  Not thread-safe per
 * backend: one caller at a time.  Returns a cudaError_t as int (0 = success). */
struct lac_backend;
typedef struct {
  void *dev;    /* >= dev_bytes, 256-byte aligned */
  void *host;   /* pinned, >= host_bytes */
  void *stream; /* the backend's stream */
  int poison;   /* test hook: fill device outputs and tables with NaN before each run */
  lac_cuda_sw_opts sw; /* the SW launches' settings (lac_cuda_backend_set_sw_opts) */
} lac_cuda_scratch;
int lac_cuda_backend_scratch(struct lac_backend *b, size_t dev_bytes, size_t host_bytes,
                             lac_cuda_scratch *out);
/* Test hook: with on = 1, lac_cuda_sw fills its device outputs and tables with NaN (all bits
 * set) before the kernels run, so a cell the kernels leave unwritten comes back as NaN
 * rather than as a stale value of an earlier call.  Off by default (the library path). */
void lac_cuda_backend_set_poison(struct lac_backend *b, int on);
/* Test and benchmark hook: the settings of this backend's SW launches from now on
 * (lac_cuda_sw, and the CUDA aligners made on it after this call; NULL: the defaults, which a
 * new backend starts with; the loss always runs with the defaults).  Returns 0, or -1
 * (nothing changed) for settings that lac_cuda_sw_opts_valid refuses or a backend that is not
 * a CUDA one. */
int lac_cuda_backend_set_sw_opts(struct lac_backend *b, const lac_cuda_sw_opts *opts);

/* ---------------------------------------------------------------- LAC loss pieces
 * (kernels/loss.cu, for lib/cuda/cuda_loss.c; semantics: include/lac/align.h, lac_loss).
 *
 * Every launcher runs on run->stream with device pointers, or, with run->emulate = 1, on the
 * CPU with host pointers (the same per-element code: tests without a GPU).  Shapes: per pair
 * b the valid frames of each view are compacted to the front (n1[b], n2[b] of T); matrices
 * are [B][T][T] (row stride T) with zeros outside the valid n1 x n2 corner; per-frame arrays
 * [B][T]; embeddings [B][T][d].  Alignment buffers use the SW kernels' packed layout (above)
 * for 2B pairs: q = 2b is 1->2 (n1 x n2), q = 2b + 1 is 2->1 (n2 x n1), block at q * T * ld,
 * ld = T rounded up to a multiple of 8; padding columns are written 0.
 * kind: lac_similarity (0 inverse squared distance, 1 negative squared distance, 2 cosine).
 * Each returns a cudaError_t as int (0 = success). */
typedef struct {
  void *stream; /* cudaStream_t */
  int emulate;  /* 1: run on the CPU, host pointers */
} lac_cuda_run;

typedef struct {
  int B, T, d;
  int ld;                 /* packed row stride: T rounded up to a multiple of 8 */
  const int *n1, *n2;     /* [B] valid frames of view 1, view 2 */
  const int *r1, *r2;     /* [B][T] position of the i-th valid frame (first n entries) */
  const int *inv1, *inv2; /* [B][T] compact index of each position, -1 when masked */
} lac_cuda_loss_shape;

/* x[b][i] = e1[b][r1[b][i]] (i < n1; 0 after), y likewise from e2 */
int lac_cuda_loss_gather(const lac_cuda_run *run, const lac_cuda_loss_shape *s, const float *e1,
                         const float *e2, float *x, float *y);
/* nx[r] = sum_k x[r][k]^2, ny[r] likewise (double), rows of d floats */
int lac_cuda_loss_norms(const lac_cuda_run *run, size_t rows, int d, const float *x,
                        const float *y, double *nx, double *ny);
/* dd[b][i][j] = |x_i - y_j|^2 from exact differences, in double (for kinds 0, 1) */
int lac_cuda_loss_sqdist(const lac_cuda_run *run, int B, int T, int d, const float *x,
                         const float *y, double *dd);
/* packed S of the 2B alignments: cosine from the Gram G[b] = x y^T and the squared norms,
 * the distance kinds from dd; a non-finite value sets *flag to max(*flag, b+1) */
int lac_cuda_loss_sim_pack(const lac_cuda_run *run, const lac_cuda_loss_shape *s, int kind,
                           double eps, const float *G, const double *nx, const double *ny,
                           const double *dd, float *S, int *flag);
/* packed penalties: per cell, the 1->2 cell (i, j) = pen[r1[i]][r2[j]] and the 2->1 cell
 * (j, i) = pen[r2[j]][r1[i]] of the [T][T] go, ge; scalar: gop[q] = go[0], gep[q] = ge[0] */
int lac_cuda_loss_gap_pack(const lac_cuda_run *run, const lac_cuda_loss_shape *s, int per_cell,
                           const float *go, const float *ge, float *gop, float *gep);
/* lab [B][T][T] doubles: the Gaussian labels of the valid frames (lac_row_labels, lib/align/loss_rows.h) */
int lac_cuda_loss_labels(const lac_cuda_run *run, const lac_cuda_loss_shape *s,
                         const int64_t *s1, const int64_t *s2, double var, double *lab);
/* per row (b, a < n1): soft-target KL (kl = 1, log(q + eps) when eps > 0) or cross-entropy
 * (kl = 0) of the logits x[b][a][:n2] * xscale against lab (lac_row_soft_target);
 * loss[b T + a] = the row's value (0 for a >= n1); g (NULL to skip) = coef / (n1 n2)
 * (per_n2 = 1) or coef / n1 times its gradient, 0 outside n1 x n2 */
int lac_cuda_loss_soft_rows(const lac_cuda_run *run, const lac_cuda_loss_shape *s,
                            const float *x, float xscale, const double *lab, double eps, int kl,
                            double coef, int per_n2, double *loss, float *g);
/* P [2B][T][T]: row softmax of each pair's packed M (A = P[2b], Bm = P[2b+1]) */
int lac_cuda_loss_softmax_m(const lac_cuda_run *run, const lac_cuda_loss_shape *s,
                            const float *M, float *P);
/* matmul = 1: Ap[b][i][t] = A[b][i][inv2[t]], Bp[b][j][t] = Bm[b][j][inv1[t]] (0 at masked
 * positions; the logits are then Ap Bp^T); matmul = 0: lg[b][i][j] = A[i][j] Bm[j][i] */
int lac_cuda_loss_logits_prep(const lac_cuda_run *run, const lac_cuda_loss_shape *s, int matmul,
                              const float *P, float *Ap, float *Bp, float *lg);
/* packed gM = the row-softmax backward of P given the logits' adjoint: dAp = glg Bp and
 * dBp = glg^T Ap (matmul), or glg itself (element-wise) */
int lac_cuda_loss_softmax_back(const lac_cuda_run *run, const lac_cuda_loss_shape *s, int matmul,
                               const float *P, const float *dAp, const float *dBp,
                               const float *glg, float *gM);
/* gS[b][i][j] = dS12[i][j] + dS21[j][i] from the packed dS, 0 outside n1 x n2 */
int lac_cuda_loss_combine_ds(const lac_cuda_run *run, const lac_cuda_loss_shape *s,
                             const float *dS, float *gS);
/* Backward of sum gS .* sim(x, y) plus the contrastive sum gz .* (x y^T), per pair:
 *   cosine:    dx = P y + rd .* x,  dy = P^T x + cd .* y  (P [B][T][T], rd, cd [B][T]);
 *   distances: dx = P y, dy = P^T x (P = gz, the contrastive part; rd, cd unused) and C
 *              [B][T][T] (double) for lac_cuda_loss_distgrad, which adds the distance part
 *              from exact differences */
int lac_cuda_loss_simgrad(const lac_cuda_run *run, int kind, double eps, int B, int T,
                          const float *G, const double *nx, const double *ny, const double *dd,
                          const float *gS, const float *gz, float *P, float *rd, float *cd,
                          double *C);
/* dx[b][i] += sum_j 2 C_ij (x_i - y_j), dy[b][j] += sum_i 2 C_ij (y_j - x_i) (double sums of
 * exact differences; x, y, dx, dy [B][T][d]) */
int lac_cuda_loss_distgrad(const lac_cuda_run *run, int B, int T, int d, const double *C,
                           const float *x, const float *y, float *dx, float *dy);
/* y[r][k] += r[r] * x[r][k] for rows x [rows][d] */
int lac_cuda_loss_row_axpy(const lac_cuda_run *run, size_t rows, int d, const float *r,
                           const float *x, float *y);
/* de1[b][t] = dx[b][inv1[b][t]] (0 at masked frames), de2 likewise; either may be NULL */
int lac_cuda_loss_scatter(const lac_cuda_run *run, const lac_cuda_loss_shape *s, const float *dx,
                          const float *dy, float *de1, float *de2);
/* per cell: dpen [T][T] = sum over pairs and directions of the packed per-cell gradients f at
 * the frames' positions (double sums); scalar: dpen[0] = sum of the 2B values of f */
int lac_cuda_loss_gap_sum(const lac_cuda_run *run, const lac_cuda_loss_shape *s, int per_cell,
                          const float *f, float *dpen);

#ifdef __cplusplus
}
#endif

#endif
