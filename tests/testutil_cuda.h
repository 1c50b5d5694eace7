/* testutil_cuda.h — the options and GPU detection the kernel tests share (test_sw_cuda,
 * test_aligner_cuda):
 *   (no option)    the GPU when there is one, and the kernels' CPU emulation;
 *   --emulation    the emulation only (no GPU used);
 *   --no-emulate   the GPU only (skipped, exit 77, without one). */
#ifndef LAC_TESTUTIL_CUDA_H
#define LAC_TESTUTIL_CUDA_H

#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  int emulate;        /* run the emulation */
  int emulation_only; /* --emulation */
  int have_gpu;       /* a CUDA device is there and may be used */
} cuda_test_mode;

/* Fills *m from argv; returns -1 to go on, else the exit status (2: usage, 77: skipped). */
static inline int cuda_test_args(const char *name, int argc, char **argv, cuda_test_mode *m) {
  m->emulate = 1;
  m->emulation_only = 0;
  for (int a = 1; a < argc; a++) {
    if (!strcmp(argv[a], "--emulation")) m->emulation_only = 1;
    else if (!strcmp(argv[a], "--no-emulate")) m->emulate = 0;
    else {
      fprintf(stderr, "usage: %s [--emulation | --no-emulate]\n", name);
      return 2;
    }
  }
  int count = 0;
  m->have_gpu = !m->emulation_only && cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
  if (!m->have_gpu && !m->emulation_only && !m->emulate) {
    printf("%s: no CUDA device: skipped (the emulation runs with --emulation)\n", name);
    return 77;
  }
  return -1;
}

#endif
