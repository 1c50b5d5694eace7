/* lac_internal.h — what the library's files share and the public header does not show:
 * the backend vtable, logging, the RNG, the parameter arena and the model's tensor table.
 *
 * Nothing here is installed.  Tests include it to reach the layer oracles.
 */
#ifndef LAC_INTERNAL_H
#define LAC_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "lac/lac.h"
#include "lac/safetensors.h"
#include "lac_config.h"

/* ---------------------------------------------------------------- backend */

/* The backend vtable.  Slots marked optional may be NULL: callers then report
 * LAC_ERR_UNSUPPORTED naming the backend and the operation. */
typedef struct lac_backend_ops {
  const char *name;
  void (*destroy)(lac_backend *b);
  /* Row-major C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C.  Pointers are host
   * pointers for the CPU backend and device pointers for CUDA. */
  lac_status (*gemm)(lac_backend *b, int trans_a, int trans_b, int m, int n, int k, float alpha,
                     const float *a, int lda, const float *bm, int ldb, float beta, float *c,
                     int ldc, lac_error *err);
  /* Optional: 1 when the backend runs the encoder forward (lib/model/encoder.c). */
  int runs_encoder;
} lac_backend_ops;

struct lac_backend {
  const lac_backend_ops *ops;
  lac_backend_params params;
  int n_threads;   /* resolved thread count (>= 1) */
  void *impl;      /* backend-private state */
};

void lac_log(const lac_backend *b, lac_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

lac_status lac_backend_cpu_init(lac_backend *b, lac_error *err);
#if LAC_HAVE_CUDA
lac_status lac_backend_cuda_init(lac_backend *b, lac_error *err);

#include "lac/align.h"
/* The smoothed Smith-Waterman on the CUDA backend b (lib/cuda/cuda_align.c): forward of
 * n_pairs host pairs (V[p]; M[p] when M and M[p] are non-NULL) and, when dS, dgo or dge is
 * non-NULL, the backward with incoming gV (NULL = 0) and gM (NULL or gM[p] NULL = 0),
 * outputs as lac_sw_backward's.  Same semantics as lac_sw_forward/backward; tau > 0 only,
 * lengths 1..1024.  Host pointers; copies, runs and synchronises on every call. */
lac_status lac_cuda_sw(lac_backend *b, const lac_sw_options *opt, int n_pairs,
                       const lac_sw_pair *pairs, float *V, float *const *M, const float *gV,
                       const float *const *gM, float *const *dS, float *const *dgo,
                       float *const *dge, lac_error *err);
/* lac_cuda_sw with the kernels' CPU emulation in place of the device (no backend, no GPU):
 * the same packing and unpacking, host memory, outputs and tables NaN-filled first, the
 * kernels' settings kopts (kernels/kernels.h; NULL: the defaults).  For tests.  Slow. */
struct lac_cuda_sw_opts;
lac_status lac_cuda_sw_emulated(const struct lac_cuda_sw_opts *kopts, const lac_sw_options *opt,
                                int n_pairs, const lac_sw_pair *pairs, float *V, float *const *M,
                                const float *gV, const float *const *gM, float *const *dS,
                                float *const *dgo, float *const *dge, lac_error *err);
/* The LAC loss on the CUDA backend b (lib/cuda/cuda_loss.c): same arguments, semantics and
 * outputs as lac_loss (host pointers), masks included; every step on the device between one
 * upload and one download (kernels/loss.cu, cuBLAS, the SW kernels), in the backend's
 * scratch.  sw_tau > 0 and T <= 1024 (else LAC_ERR_UNSUPPORTED).  Not thread-safe per
 * backend. */
lac_status lac_cuda_loss(lac_backend *b, const lac_loss_params *p, int B, int T, int d,
                         const float *e1, const float *e2, const int64_t *s1, const int64_t *s2,
                         const uint8_t *valid1, const uint8_t *valid2, const float *go,
                         const float *ge, lac_loss_terms *out, float *de1, float *de2, float *dgo,
                         float *dge, lac_error *err);
/* The same sequence on the CPU (host memory, the kernels' per-element code in loops, the SW
 * kernels' lane emulation, cblas in place of cuBLAS): for tests without a GPU.  Slow. */
lac_status lac_cuda_loss_emulated(const lac_loss_params *p, int B, int T, int d, const float *e1,
                                  const float *e2, const int64_t *s1, const int64_t *s2,
                                  const uint8_t *valid1, const uint8_t *valid2, const float *go,
                                  const float *ge, lac_loss_terms *out, float *de1, float *de2,
                                  float *dgo, float *dge, lac_error *err);
#endif

/* ---------------------------------------------------------------- the aligner's CUDA path
 * (lib/cuda/cuda_align.c, used by lib/align/sw_cpu.c).  A state keeps the packed inputs
 * and the forward's tables (M, X, Y, vstat) on the device between lac_sw_forward and
 * lac_sw_backward, in a device buffer and a pinned staging buffer of its own (grow-only,
 * freed by lac_cuda_sw_state_free) and runs on a stream of its own.  One caller at a time. */
#include "lac/align.h"
typedef struct lac_cuda_sw_state lac_cuda_sw_state;
#if LAC_HAVE_CUDA
/* b: a CUDA backend (its device; the NaN-poison test hook as it is now), or NULL for the
 * emulation (host memory, the kernels' CPU emulation, outputs and tables always poisoned). */
lac_status lac_cuda_sw_state_new(lac_backend *b, lac_cuda_sw_state **out, lac_error *err);
void lac_cuda_sw_state_free(lac_cuda_sw_state *s);
/* lac_sw_forward's contract for tau > 0 and lengths 1..LAC_CUDA_SW_MAX_LEN: V[p]; M[p] when
 * M and M[p] are non-NULL; keeps what the backward needs (until the next forward). */
lac_status lac_cuda_sw_state_forward(lac_cuda_sw_state *s, const lac_sw_options *opt,
                                     int n_pairs, const lac_sw_pair *pairs, float *V,
                                     float *const *M, lac_error *err);
/* lac_sw_backward's contract for the last successful forward: uploads gV and gM only, runs
 * the backward kernel, unpacks dS, dgo, dge (each NULL to skip).  Callable more than once. */
lac_status lac_cuda_sw_state_backward(lac_cuda_sw_state *s, const float *gV,
                                      const float *const *gM, float *const *dS,
                                      float *const *dgo, float *const *dge, lac_error *err);
/* Its buffers and stream lent to another computation (the loss, lac_cuda_loss_on_state): at
 * least dev_bytes of device memory and host_bytes of pinned memory, the state's stream, its
 * NaN-poison flag, and a cuBLAS handle (a cublasHandle_t) bound to that stream, made on
 * first use.  Drops the state's last forward (its tables get overwritten).  A state that is
 * the emulation has no device: LAC_ERR_UNSUPPORTED (check lac_cuda_sw_state_emulated). */
lac_status lac_cuda_sw_state_scratch(lac_cuda_sw_state *s, size_t dev_bytes, size_t host_bytes,
                                     void **dev, void **host, void **stream, int *poison,
                                     void **blas, lac_error *err);
int lac_cuda_sw_state_emulated(const lac_cuda_sw_state *s);
/* The LAC loss (lac_cuda_loss's contract) in the buffers and on the stream of state s (an
 * aligner's, so aligners sharing a backend can compute losses in different threads); an
 * emulated state runs lac_cuda_loss_emulated. */
lac_status lac_cuda_loss_on_state(lac_cuda_sw_state *s, const lac_loss_params *p, int B, int T,
                                  int d, const float *e1, const float *e2, const int64_t *s1,
                                  const int64_t *s2, const uint8_t *valid1,
                                  const uint8_t *valid2, const float *go, const float *ge,
                                  lac_loss_terms *out, float *de1, float *de2, float *dgo,
                                  float *dge, lac_error *err);
/* Row-major C = alpha op(A) op(B) + beta C through cuBLAS handle `handle` (device pointers,
 * the handle's stream). */
lac_status lac_cuda_sgemm(void *handle, int ta, int tb, int m, int n, int k, float alpha,
                          const float *a, int lda, const float *bm, int ldb, float beta, float *c,
                          int ldc, lac_error *err);
/* batch of them: C_i = op(A_i) op(B_i) (alpha 1, beta 0), A_i = a + i sa, B_i = bm + i sb,
 * C_i = c + i sc (strides in floats), one cuBLAS call */
lac_status lac_cuda_sgemm_batched(void *handle, int ta, int tb, int m, int n, int k,
                                  const float *a, int lda, long long sa, const float *bm, int ldb,
                                  long long sb, float *c, int ldc, long long sc, int batch,
                                  lac_error *err);
/* the cuBLAS handle (a cublasHandle_t, on the backend's stream) of a CUDA backend, else NULL */
void *lac_cuda_backend_blas(struct lac_backend *b);
#endif
/* The CPU loss's workspace in aligner a: at least `bytes`, 64-byte aligned, grow-only (kept
 * until lac_aligner_free; contents not kept between calls); NULL when out of memory. */
void *lac_aligner_loss_workspace(lac_aligner *a, size_t bytes);
/* the aligner's resolved thread count (>= 1) */
int lac_aligner_n_threads(const lac_aligner *a);
/* The aligner's CUDA state for lac_loss (lib/align/loss.c), or NULL for a CPU aligner; a
 * non-NULL answer drops the aligner's last forward (the loss overwrites its tables). */
lac_cuda_sw_state *lac_aligner_take_cuda_state(lac_aligner *a);
/* Test hook: aligner a takes the CUDA path with the emulated state (no backend, no GPU)
 * for its soft forwards (tau > 0); tau = 0 stays on its CPU path.  Replaces any CUDA state
 * the aligner had and drops its last forward.  LAC_ERR_UNSUPPORTED without CUDA. */
lac_status lac_aligner_use_cuda_emulation(lac_aligner *a, lac_error *err);

/* ---------------------------------------------------------------- the loss's similarity
 * (lib/align/similarity.c).  lac_sim_direct: lac_similarity_matrix by direct loops in double
 * (its small calls; the oracle).  lac_sim_forward: the same through a double GEMM, ws holding
 * lac_sim_ws_doubles(n, m, d) doubles.  lac_sim_backward: dx [n][d] += d/dx and
 * dy [m][d] += d/dy of sum_ij (G12[i][j] + G21[j][i]) sim(x_i, y_j) (G21 may be NULL), same
 * workspace; lac_sim_backward_ref: the same by direct loops, the oracle. */
lac_status lac_sim_direct(lac_similarity kind, float eps, int n, int m, int d, const float *x,
                          const float *y, float *S, lac_error *err);
size_t lac_sim_ws_doubles(int n, int m, int d);
lac_status lac_sim_forward(lac_similarity kind, float eps, int n, int m, int d, const float *x,
                           const float *y, float *S, double *ws, lac_error *err);
void lac_sim_backward(lac_similarity kind, double eps, int n, int m, int d, const float *x,
                      const float *y, const float *G12, const float *G21, double *dx, double *dy,
                      double *ws);
void lac_sim_backward_ref(lac_similarity kind, double eps, int n, int m, int d, const float *x,
                          const float *y, const float *G12, const float *G21, double *dx,
                          double *dy);

/* ---------------------------------------------------------------- RNG (xoshiro256**) */

typedef struct {
  uint64_t s[4];
} lac_rng;

void lac_rng_seed(lac_rng *r, uint64_t seed);
uint64_t lac_rng_next(lac_rng *r);
/* uniform in [0, 1) with 53 bits */
double lac_rng_uniform(lac_rng *r);
/* standard normal (Box-Muller, one value per call) */
double lac_rng_normal(lac_rng *r);

#include "core/fileio.h"

/* ---------------------------------------------------------------- aligned memory */

/* 64-byte aligned, zeroed; NULL on failure or n == 0 overflow */
void *lac_alloc(size_t n_bytes);
void lac_free(void *p);

/* ---------------------------------------------------------------- model tensor table */

typedef enum {
  LAC_T_PARAM = 0,   /* learnable */
  LAC_T_BUFFER = 1,  /* BatchNorm running statistics */
} lac_tensor_kind;

typedef struct {
  char name[96];
  int ndim;
  int64_t shape[LAC_ST_MAX_DIMS];
  size_t numel;
  size_t offset;     /* in floats, into the model's parameter arena */
  lac_tensor_kind kind;
} lac_tensor_desc;

/* The tensors an architecture expects, in PyTorch state_dict order.  *out is malloc'd. */
lac_status lac_arch_tensor_table(const lac_arch *arch, lac_tensor_desc **out, size_t *n_out,
                                 size_t *n_floats, lac_error *err);

/* Architecture <-> safetensors metadata ("lac.arch.*"). */
lac_status lac_arch_from_meta(const lac_st_file *f, const char *what, lac_arch *out,
                              lac_error *err);
lac_status lac_arch_to_meta(const lac_arch *arch, lac_st_writer *w, lac_error *err);

/* ResNet trunk structure */
typedef struct {
  int bottleneck;    /* 1 = Bottleneck (expansion 4), 0 = BasicBlock */
  int layer;         /* 1..3 */
  int index;         /* block index within its layer */
  int in_ch, planes, out_ch, stride, has_down;
} lac_block_spec;

#define LAC_MAX_BLOCKS 16

static inline int lac_conv_out_size(int in, int k, int stride, int pad) {
  return (in + 2 * pad - k) / stride + 1;
}
int lac_arch_blocks(const lac_arch *arch, lac_block_spec blocks[LAC_MAX_BLOCKS]);

#endif /* LAC_INTERNAL_H */
