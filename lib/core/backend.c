/* backend.c — creating and freeing backends; the vtable itself is in lac_internal.h and
 * each backend fills it in its own folder (lib/cpu, kernels/ for CUDA). */
#include <stdlib.h>

#include "lac_internal.h"

lac_backend_params lac_backend_default_params(void) {
  lac_backend_params p = {0};
  p.kind = LAC_BACKEND_CPU;
  p.n_threads = 0;
  p.device = 0;
  p.log = NULL;
  p.log_user_data = NULL;
  p.log_level = LAC_LOG_WARNING;
  return p;
}

int lac_have_cuda(void) { return LAC_HAVE_CUDA; }

lac_status lac_backend_new(const lac_backend_params *params, lac_backend **out, lac_error *err) {
  if (!out) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_backend_new: out is NULL");
  *out = NULL;
  lac_backend_params p = params ? *params : lac_backend_default_params();
  if (p.n_threads < 0)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "n_threads must be >= 0 (0 = all cores), got %d", p.n_threads);
  lac_backend *b = calloc(1, sizeof *b);
  if (!b) return lac_error_set(err, LAC_ERR_NOMEM, "out of memory creating a backend");
  b->params = p;
  lac_status st;
  switch (p.kind) {
  case LAC_BACKEND_CPU: st = lac_backend_cpu_init(b, err); break;
  case LAC_BACKEND_CUDA:
#if LAC_HAVE_CUDA
    st = lac_backend_cuda_init(b, err);
#else
    st = lac_error_set(err, LAC_ERR_UNSUPPORTED,
                       "this lac was built without CUDA: rebuild with -Dcuda=enabled "
                       "(needs nvcc, cuBLAS and cuDNN) or use the CPU backend");
#endif
    break;
  default:
    st = lac_error_set(err, LAC_ERR_INVALID_ARG, "unknown backend kind %d", (int)p.kind);
  }
  if (st != LAC_OK) {
    free(b);
    return st;
  }
  *out = b;
  return LAC_OK;
}

void lac_backend_free(lac_backend *b) {
  if (!b) return;
  if (b->ops && b->ops->destroy) b->ops->destroy(b);
  free(b);
}

const char *lac_backend_name(const lac_backend *b) { return b && b->ops ? b->ops->name : "none"; }
