/* cpu_backend.c — the CPU backend: OpenBLAS sgemm and the thread count used by our own
 * OpenMP loops.  OpenBLAS keeps its thread count process-wide, so it is set when a CPU
 * backend is created; two CPU backends with different counts in one process share the
 * last one set (documented in README's threading notes). */
#include <cblas.h>
#include <unistd.h>

#include "lac_internal.h"

static lac_status cpu_gemm(lac_backend *b, int ta, int tb, int m, int n, int k, float alpha,
                           const float *a, int lda, const float *bm, int ldb, float beta,
                           float *c, int ldc, lac_error *err) {
  (void)b;
  if (m < 0 || n < 0 || k < 0)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "gemm: negative size %dx%dx%d", m, n, k);
  if (m == 0 || n == 0) return LAC_OK;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, alpha, a, lda, bm, ldb, beta, c, ldc);
  return LAC_OK;
}

static void cpu_destroy(lac_backend *b) { (void)b; }

static const lac_backend_ops cpu_ops = {
    .name = "cpu",
    .destroy = cpu_destroy,
    .gemm = cpu_gemm,
    .runs_encoder = 1,
};

lac_status lac_backend_cpu_init(lac_backend *b, lac_error *err) {
  (void)err;
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (ncpu < 1) ncpu = 1;
  b->n_threads = b->params.n_threads > 0 ? b->params.n_threads : (int)ncpu;
  openblas_set_num_threads(b->n_threads);
  b->ops = &cpu_ops;
  lac_log(b, LAC_LOG_INFO, "cpu backend: %d threads, OpenBLAS %s", b->n_threads,
          openblas_get_config());
  return LAC_OK;
}
