/* kernels.h — C-callable launchers of our CUDA kernels.  Pointers are device pointers;
 * `stream` is a cudaStream_t (NULL = default stream).  Each returns a cudaError_t as int
 * (0 = success); the caller turns it into an lac_status with a message. */
#ifndef LAC_KERNELS_H
#define LAC_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y[c][plane] = act(y + b[c] + res[c][plane]); b and res may be NULL; relu 0/1 */
int lac_cuda_epilogue(float *y, int cout, size_t plane, const float *b, const float *res,
                      int relu, void *stream);

/* ---------------------------------------------------------------- smoothed SW-affine
 * (kernels/sw_affine.cu; semantics: include/lac/align.h, docs SW_AFFINE.md)
 *
 * Packed layout of a batch.  Every per-cell buffer (S, per-cell go/ge, M, X, Y, gM, dS,
 * per-cell dgo/dge) holds pair p's [n][ld] row-major block at dims[p].off floats: cell (i, j)
 * of pair p is buf[off + i * ld + j].  Rules: 1 <= n, m <= LAC_CUDA_SW_MAX_LEN; ld >= m and a
 * multiple of 8; off a multiple of 4 (with the buffer 16-byte aligned, as cudaMalloc gives);
 * blocks do not overlap.  Columns m .. ld-1 are padding: read as inputs (any finite or not
 * value: they never reach a result) and written with unspecified values (dS, dgo, dge: 0).
 * Per-pair buffers (V, gV, scalar go/ge, scalar dgo/dge) hold one float per pair; vstat
 * holds 2 per pair (max M, 1 / sum exp((M - max) / tau): what the backward needs of V).
 * work (backward only) holds 10 * n floats per pair at dims[p].woff (scratch between bands).
 * Values: tau > 0 with log2(e) / tau finite; |S|, |go|, |ge| < 1e20 and finite (checked by
 * the host wrapper lac_cuda_sw, not here).  Throughput is best with the largest pairs first.
 */
#define LAC_CUDA_SW_MAX_LEN 1024

typedef struct {
  long long off;  /* first cell of the pair's [n][ld] block, in floats */
  long long woff; /* first float of the pair's backward scratch (10 * n floats) in work */
  int n, m;       /* lengths */
  int ld;         /* row stride in floats */
  int reserved;   /* 0 */
} lac_cuda_sw_dims;

/* Forward: M, X, Y (every cell of each pair's block), V[p] and vstat[2p], 2p+1.  go, ge:
 * per cell (per_cell = 1) or one value per pair.  One warp per pair, grid = n_pairs. */
int lac_cuda_sw_forward(int n_pairs, const lac_cuda_sw_dims *dims, float tau, int per_cell,
                        const float *S, const float *go, const float *ge, float *M, float *X,
                        float *Y, float *V, float *vstat, void *stream);

/* Backward of L = sum_p gV[p] V[p] + sum gM .* M, from the forward's M, X, Y and vstat (same
 * dims, tau, per_cell, go, ge).  gV (NULL = 0), gM (NULL = 0).  Outputs, each NULL to skip:
 * dS per cell; dgo, dge per cell (per_cell) or one per pair (the sum over the pair's cells). */
int lac_cuda_sw_backward(int n_pairs, const lac_cuda_sw_dims *dims, float tau, int per_cell,
                         const float *go, const float *ge, const float *M, const float *X,
                         const float *Y, const float *vstat, const float *gV, const float *gM,
                         float *dS, float *dgo, float *dge, float *work, void *stream);

/* The same two on the CPU with host pointers: the kernels' per-lane code run for 32
 * emulated lanes in lock step (libm exp2f/log2f in place of the SFU).  For tests: proves the
 * wavefront, band and masking logic without a GPU.  Slow.  Return 0. */
int lac_cuda_sw_emulate_forward(int n_pairs, const lac_cuda_sw_dims *dims, float tau,
                                int per_cell, const float *S, const float *go, const float *ge,
                                float *M, float *X, float *Y, float *V, float *vstat);
int lac_cuda_sw_emulate_backward(int n_pairs, const lac_cuda_sw_dims *dims, float tau,
                                 int per_cell, const float *go, const float *ge, const float *M,
                                 const float *X, const float *Y, const float *vstat,
                                 const float *gV, const float *gM, float *dS, float *dgo,
                                 float *dge, float *work);

/* Test and benchmark hook: the largest strip width (4 or 8, default 8) of the forward and
 * of the backward, for the launchers and the emulation that follow (process-wide, not
 * thread-safe).  Results are the same up to float rounding; speed and registers differ.
 * Returns 0, or -1 (nothing changed) for other values. */
int lac_cuda_sw_tune(int fwd_wmax, int bwd_wmax);

/* ---------------------------------------------------------------- CUDA backend scratch
 * (lib/cuda/cuda_backend.c; host side only, for lib/cuda/cuda_align.c and the tests).
 * A CUDA backend keeps one device buffer and one pinned host buffer, grow-only, freed by
 * lac_backend_free; lac_cuda_backend_scratch makes them at least dev_bytes / host_bytes
 * (growing waits for the backend's stream) and returns them with the backend's stream
 * (a cudaStream_t) and the poison flag.  Not thread-safe per backend: one caller at a time.
 * Returns a cudaError_t as int (0 = success). */
struct lac_backend;
typedef struct {
  void *dev;    /* >= dev_bytes, 256-byte aligned */
  void *host;   /* pinned, >= host_bytes */
  void *stream; /* the backend's stream */
  int poison;   /* test hook: fill device outputs and tables with NaN before each run */
} lac_cuda_scratch;
int lac_cuda_backend_scratch(struct lac_backend *b, size_t dev_bytes, size_t host_bytes,
                             lac_cuda_scratch *out);
/* Test hook: with on = 1, lac_cuda_sw fills its device outputs and tables with NaN (all bits
 * set) before the kernels run, so a cell the kernels leave unwritten comes back as NaN
 * rather than as a stale value of an earlier call.  Off by default (the library path). */
void lac_cuda_backend_set_poison(struct lac_backend *b, int on);

/* ---------------------------------------------------------------- LAC loss pieces
 * (kernels/loss.cu, for lib/cuda/cuda_loss.c).  Batches: [B][T][T] matrices, [B*T] rows.
 * kind: lac_similarity (0 inverse squared distance, 1 negative squared distance, 2 cosine). */
/* nrm[r] = sum_k x[r][k]^2 (double) for rows r of x [rows][d] */
int lac_cuda_loss_norms(const float *x, size_t rows, int d, double *nrm, void *stream);
/* S[b][i][j] = sim from the Gram G[b][i][j] = x_i . y_j and the squared norms n1, n2 ([B][T]);
 * squared distances are n1 + n2 - 2 G clamped at >= 0 */
int lac_cuda_loss_sim(int kind, double eps, int B, int T, const float *G, const double *n1,
                      const double *n2, float *S, void *stream);
/* out[b][j][i] = in[b][i][j] */
int lac_cuda_loss_transpose(int B, int T, const float *in, float *out, void *stream);
/* Backward of sum gS .* sim(x, y) plus the contrastive sum gz .* (x y^T) as
 *   dx = P y + rd .* x,  dy = P^T x + cd .* y  (per pair; P [B][T][T], rd, cd [B][T]) */
int lac_cuda_loss_simgrad(int kind, double eps, int B, int T, const float *G, const double *n1,
                          const double *n2, const float *gS, const float *gz, float *P, float *rd,
                          float *cd, void *stream);
/* y[r][k] += r[r] * x[r][k] for rows x [rows][d] */
int lac_cuda_loss_row_axpy(size_t rows, int d, const float *r, const float *x, float *y,
                           void *stream);

#ifdef __cplusplus
}
#endif

#endif
