/* epilogue.cu — the convolution epilogue on the GPU: y = act(y + b[c] + res) over
 * channel-major planes, the CUDA twin of the CPU epilogue in lib/layers/conv.c.
 * One thread per element, grid-stride; launched on the caller's stream.
 * Not here: the convolutions themselves (cuDNN / cuBLAS, later issues). */
#include <cuda_runtime.h>

#include "kernels.h"

__global__ static void epilogue_kernel(float *y, int cout, size_t plane, const float *b,
                                       const float *res, int relu) {
  const size_t n = (size_t)cout * plane;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    float v = y[i];
    if (b) v += b[i / plane];
    if (res) v += res[i];
    y[i] = (relu && v < 0.f) ? 0.f : v;
  }
}

extern "C" int lac_cuda_epilogue(float *y, int cout, size_t plane, const float *b,
                                 const float *res, int relu, void *stream) {
  const size_t n = (size_t)cout * plane;
  if (n == 0) return 0;
  int blocks = (int)((n + 255) / 256);
  if (blocks > 65535) blocks = 65535;
  epilogue_kernel<<<blocks, 256, 0, (cudaStream_t)stream>>>(y, cout, plane, b, res, relu);
  return (int)cudaGetLastError();
}
