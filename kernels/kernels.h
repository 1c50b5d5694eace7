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

#ifdef __cplusplus
}
#endif

#endif
