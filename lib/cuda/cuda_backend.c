/* cuda_backend.c — the CUDA backend: device selection, a cuBLAS handle and stream per
 * backend, and row-major sgemm through cuBLAS (column-major) by computing C^T = B^T A^T.
 * The encoder does not run here yet (runs_encoder = 0): loading a model on this backend
 * reports LAC_ERR_UNSUPPORTED.  Kernels of our own live in kernels/.
 * Scratch for lac_cuda_sw (lib/cuda/cuda_align.c): one device buffer and one pinned host
 * buffer per backend, grow-only, freed in cuda_destroy (lac_cuda_backend_scratch, kernels.h).
 * Not here: general memory pools, cuDNN convolutions (later issues). */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdlib.h>

#include "../../kernels/kernels.h" /* lac_cuda_scratch; kernels/ is not on the include path */
#include "lac_internal.h"

typedef struct {
  int device;
  cudaStream_t stream;
  cublasHandle_t blas;
  void *dev, *host;          /* lac_cuda_sw scratch: device, pinned host (grow-only) */
  size_t dev_cap, host_cap;  /* their sizes in bytes */
  int poison;                /* test hook, lac_cuda_backend_set_poison */
  lac_cuda_sw_opts sw;       /* the SW launches' settings, lac_cuda_backend_set_sw_opts */
} cuda_impl;

static const lac_backend_ops cuda_ops;

#define SCRATCH_GRAIN ((size_t)2 << 20)

/* grow to at least need (x1.25 slack, 2 MiB grain), contents not kept */
static size_t scratch_size(size_t need, size_t cap) {
  size_t want = need + need / 4;
  if (want < cap + cap / 2) want = cap + cap / 2;
  return (want + SCRATCH_GRAIN - 1) / SCRATCH_GRAIN * SCRATCH_GRAIN;
}

int lac_cuda_backend_scratch(struct lac_backend *b, size_t dev_bytes, size_t host_bytes,
                             lac_cuda_scratch *out) {
  cuda_impl *impl = b->impl;
  cudaError_t ce = cudaSuccess;
  if (dev_bytes > impl->dev_cap || host_bytes > impl->host_cap) {
    if ((ce = cudaStreamSynchronize(impl->stream)) != cudaSuccess) return (int)ce;
  }
  if (dev_bytes > impl->dev_cap) {
    size_t sz = scratch_size(dev_bytes, impl->dev_cap);
    if (impl->dev) cudaFree(impl->dev);
    impl->dev = NULL;
    impl->dev_cap = 0;
    if ((ce = cudaMalloc(&impl->dev, sz)) != cudaSuccess) {
      cudaGetLastError(); /* clear the sticky-free allocation error */
      impl->dev = NULL;
      if ((ce = cudaMalloc(&impl->dev, dev_bytes)) != cudaSuccess) { /* no slack */
        impl->dev = NULL;
        return (int)ce;
      }
      sz = dev_bytes;
    }
    impl->dev_cap = sz;
  }
  if (host_bytes > impl->host_cap) {
    size_t sz = scratch_size(host_bytes, impl->host_cap);
    if (impl->host) cudaFreeHost(impl->host);
    impl->host = NULL;
    impl->host_cap = 0;
    if ((ce = cudaMallocHost(&impl->host, sz)) != cudaSuccess) {
      cudaGetLastError();
      impl->host = NULL;
      if ((ce = cudaMallocHost(&impl->host, host_bytes)) != cudaSuccess) {
        impl->host = NULL;
        return (int)ce;
      }
      sz = host_bytes;
    }
    impl->host_cap = sz;
  }
  out->dev = impl->dev;
  out->host = impl->host;
  out->stream = (void *)impl->stream;
  out->poison = impl->poison;
  out->sw = impl->sw;
  return 0;
}

void lac_cuda_backend_set_poison(struct lac_backend *b, int on) {
  if (b && b->ops == &cuda_ops && b->impl)
    ((cuda_impl *)b->impl)->poison = on ? 1 : 0;
}

int lac_cuda_backend_set_sw_opts(struct lac_backend *b, const lac_cuda_sw_opts *opts) {
  const lac_cuda_sw_opts o = opts ? *opts : lac_cuda_sw_default_opts();
  if (!b || b->ops != &cuda_ops || !b->impl || !lac_cuda_sw_opts_valid(&o)) return -1;
  ((cuda_impl *)b->impl)->sw = o;
  return 0;
}

lac_status lac_cuda_sgemm(void *handle, int ta, int tb, int m, int n, int k, float alpha,
                          const float *a, int lda, const float *bm, int ldb, float beta, float *c,
                          int ldc, lac_error *err) {
  if (m < 0 || n < 0 || k < 0)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "gemm: negative size %dx%dx%d", m, n, k);
  if (m == 0 || n == 0) return LAC_OK;
  /* row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T */
  cublasStatus_t st = cublasSgemm((cublasHandle_t)handle, tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, bm, ldb, a, lda,
                                  &beta, c, ldc);
  if (st != CUBLAS_STATUS_SUCCESS)
    return lac_error_set(err, LAC_ERR_BACKEND, "cublasSgemm %dx%dx%d failed: %s", m, n, k,
                         cublasGetStatusString(st));
  return LAC_OK;
}

lac_status lac_cuda_sgemm_batched(void *handle, int ta, int tb, int m, int n, int k,
                                  const float *a, int lda, long long sa, const float *bm, int ldb,
                                  long long sb, float *c, int ldc, long long sc, int batch,
                                  lac_error *err) {
  if (m < 0 || n < 0 || k < 0 || batch < 0)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "gemm: negative size %dx%dx%d x %d", m, n, k,
                         batch);
  if (m == 0 || n == 0 || batch == 0) return LAC_OK;
  const float one = 1.f, zero = 0.f;
  /* per batch entry as lac_cuda_sgemm: column-major C^T = op(B)^T op(A)^T */
  cublasStatus_t st = cublasSgemmStridedBatched(
      (cublasHandle_t)handle, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m,
      k, &one, bm, ldb, sb, a, lda, sa, &zero, c, ldc, sc, batch);
  if (st != CUBLAS_STATUS_SUCCESS)
    return lac_error_set(err, LAC_ERR_BACKEND, "cublasSgemmStridedBatched %dx%dx%d x %d failed: %s",
                         m, n, k, batch, cublasGetStatusString(st));
  return LAC_OK;
}

void *lac_cuda_backend_blas(struct lac_backend *b) {
  return b && b->ops == &cuda_ops && b->impl ? (void *)((cuda_impl *)b->impl)->blas : NULL;
}

static lac_status cuda_gemm(lac_backend *b, int ta, int tb, int m, int n, int k, float alpha,
                            const float *a, int lda, const float *bm, int ldb, float beta, float *c,
                            int ldc, lac_error *err) {
  cuda_impl *impl = b->impl;
  cudaSetDevice(impl->device);
  return lac_cuda_sgemm(impl->blas, ta, tb, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc, err);
}

static void cuda_destroy(lac_backend *b) {
  cuda_impl *impl = b->impl;
  if (!impl) return;
  if (impl->dev || impl->host) {
    cudaSetDevice(impl->device);
    if (impl->stream) cudaStreamSynchronize(impl->stream);
    if (impl->dev) cudaFree(impl->dev);
    if (impl->host) cudaFreeHost(impl->host);
  }
  if (impl->blas) cublasDestroy(impl->blas);
  if (impl->stream) cudaStreamDestroy(impl->stream);
  free(impl);
  b->impl = NULL;
}

static const lac_backend_ops cuda_ops = {
    .name = "cuda",
    .destroy = cuda_destroy,
    .gemm = cuda_gemm,
    .runs_encoder = 0,
};

lac_status lac_backend_cuda_init(lac_backend *b, lac_error *err) {
  int count = 0;
  cudaError_t ce = cudaGetDeviceCount(&count);
  if (ce != cudaSuccess || count == 0)
    return lac_error_set(err, LAC_ERR_UNSUPPORTED, "no CUDA device available (%s): use the CPU backend",
                         ce != cudaSuccess ? cudaGetErrorString(ce) : "0 devices");
  if (b->params.device < 0 || b->params.device >= count)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "CUDA device %d does not exist (%d found)",
                         b->params.device, count);
  cuda_impl *impl = calloc(1, sizeof *impl);
  if (!impl) return lac_error_set(err, LAC_ERR_NOMEM, "out of memory");
  impl->device = b->params.device;
  impl->sw = lac_cuda_sw_default_opts();
  b->impl = impl;
  b->ops = &cuda_ops;
  b->n_threads = 1;
  if ((ce = cudaSetDevice(impl->device)) != cudaSuccess ||
      (ce = cudaStreamCreateWithFlags(&impl->stream, cudaStreamNonBlocking)) != cudaSuccess) {
    cuda_destroy(b);
    return lac_error_set(err, LAC_ERR_BACKEND, "CUDA device %d: %s", b->params.device,
                         cudaGetErrorString(ce));
  }
  cublasStatus_t bs = cublasCreate(&impl->blas);
  if (bs == CUBLAS_STATUS_SUCCESS) bs = cublasSetStream(impl->blas, impl->stream);
  if (bs != CUBLAS_STATUS_SUCCESS) {
    cuda_destroy(b);
    return lac_error_set(err, LAC_ERR_BACKEND, "cuBLAS: %s", cublasGetStatusString(bs));
  }
  struct cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, impl->device) == cudaSuccess)
    lac_log(b, LAC_LOG_INFO, "cuda backend: device %d, %s, sm_%d%d", impl->device, prop.name,
            prop.major, prop.minor);
  return LAC_OK;
}
