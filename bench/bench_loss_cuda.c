/* bench_loss_cuda.c — the whole LAC loss, forward + backward, on the GPU (lac_cuda_loss) and
 * on the CPU (lac_loss) in the same run (a benchmark, not a test).
 *
 *   bench_loss_cuda [--reps 20] [--threads 0]
 *
 * Per configuration (B pairs of T frames, d = 128, the reference preset, per-cell gaps, every
 * gradient asked for; random embeddings, sorted frame indices, no masks, then the same with
 * a quarter of each view's frames masked): wall-clock median over reps after a warm-up call
 * (the warm-up grows the backend's scratch), host arrays in and out — so the GPU time
 * includes the one upload, the one download and the synchronisation.  Prints the CPU/GPU
 * ratio.  Lines starting "BENCH" are for tools/gpu-check.sh.  Exits 77 without a GPU.
 */
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lac/align.h"
#include "lac_internal.h"

#include "bench_util.h"

static uint64_t rng = 88172645463325252ull;
static float frand(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (float)((double)(rng >> 11) / 9007199254740992.0);
}

int main(int argc, char **argv) {
  int reps = 20, threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    else {
      fprintf(stderr, "usage: bench_loss_cuda [--reps 20] [--threads 0]\n");
      return 2;
    }
  }
  if (reps < 1) reps = 1;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count < 1) {
    printf("bench_loss_cuda: no CUDA device: skipped\n");
    return 77;
  }
  lac_error err;
  lac_backend_params bp = lac_backend_default_params();
  bp.kind = LAC_BACKEND_CUDA;
  lac_backend *gpu = NULL;
  lac_aligner *cpu = NULL;
  lac_aligner_params ap = lac_aligner_default_params();
  ap.n_threads = threads;
  if (lac_backend_new(&bp, &gpu, &err) != LAC_OK || lac_aligner_new(&ap, &cpu, &err) != LAC_OK) {
    fprintf(stderr, "bench_loss_cuda: %s\n", err.message);
    return 1;
  }
  struct cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) printf("device: %s\n", prop.name);
  lac_loss_params p;
  lac_loss_preset("reference", &p, &err);
  static const int cfg[][2] = {{2, 64}, {8, 64}, {8, 128}, {32, 128}, {16, 256}};
  const int d = 128, ncfg = (int)(sizeof cfg / sizeof cfg[0]);
  double *tg = malloc(sizeof(double) * reps), *tc = malloc(sizeof(double) * reps);
  int rc = 0;
  for (int c = 0; c < ncfg && !rc; c++)
    for (int masked = 0; masked < 2 && !rc; masked++) {
      const int B = cfg[c][0], T = cfg[c][1];
      const size_t BT = (size_t)B * T, BTd = BT * d, TT = (size_t)T * T;
      float *e1 = malloc(sizeof(float) * BTd), *e2 = malloc(sizeof(float) * BTd);
      float *g[4] = {malloc(sizeof(float) * BTd), malloc(sizeof(float) * BTd),
                     malloc(sizeof(float) * TT), malloc(sizeof(float) * TT)};
      float *go = malloc(sizeof(float) * TT), *ge = malloc(sizeof(float) * TT);
      int64_t *s1 = malloc(sizeof(int64_t) * BT), *s2 = malloc(sizeof(int64_t) * BT);
      uint8_t *v1 = malloc(BT), *v2 = malloc(BT);
      for (size_t i = 0; i < BTd; i++) e1[i] = frand() - 0.5f, e2[i] = frand() - 0.5f;
      for (size_t i = 0; i < TT; i++) go[i] = 0.2f + 0.5f * frand(), ge[i] = 0.05f + 0.2f * frand();
      for (size_t i = 0; i < BT; i++) {
        s1[i] = (int64_t)(i % T) * 2, s2[i] = (int64_t)(i % T) * 3 / 2;
        v1[i] = !masked || frand() >= 0.25f, v2[i] = !masked || frand() >= 0.25f;
        if (i % T == 0) v1[i] = v2[i] = 1;
      }
      lac_loss_terms t;
      for (int r = -1; r < reps && !rc; r++) {
        double t0 = bench_now();
        if (lac_cuda_loss(gpu, &p, B, T, d, e1, e2, s1, s2, v1, v2, go, ge, &t, g[0], g[1], g[2],
                          g[3], &err) != LAC_OK)
          rc = 1;
        double t1 = bench_now();
        if (!rc && lac_loss(cpu, &p, B, T, d, e1, e2, s1, s2, v1, v2, go, ge, &t, g[0], g[1],
                            g[2], g[3], &err) != LAC_OK)
          rc = 1;
        double t2 = bench_now();
        if (r >= 0) tg[r] = t1 - t0, tc[r] = t2 - t1;
      }
      if (rc) {
        fprintf(stderr, "bench_loss_cuda: %s\n", err.message);
      } else {
        qsort(tg, (size_t)reps, sizeof(double), bench_cmp_double);
        qsort(tc, (size_t)reps, sizeof(double), bench_cmp_double);
        const double mg = tg[reps / 2] * 1e3, mc = tc[reps / 2] * 1e3;
        printf("B %2d T %4d d %d %-8s gpu %8.3f ms  cpu %8.3f ms  cpu/gpu %.2fx\n", B, T, d,
               masked ? "masked" : "full", mg, mc, mc / mg);
        printf("BENCH loss B=%d T=%d masked=%d gpu_ms=%.4f cpu_ms=%.4f ratio=%.3f\n", B, T, masked,
               mg, mc, mc / mg);
      }
      free(e1), free(e2), free(go), free(ge), free(s1), free(s2), free(v1), free(v2);
      for (int k = 0; k < 4; k++) free(g[k]);
    }
  free(tg);
  free(tc);
  lac_aligner_free(cpu);
  lac_backend_free(gpu);
  return rc;
}
