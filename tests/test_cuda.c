/* test_cuda.c — the CUDA backend against the CPU: cuBLAS sgemm (single, and the strided
 * batched helper of the loss) in all four transpose combinations against OpenBLAS, and the
 * epilogue kernel against its CPU twin, on poisoned outputs.  Exits 77 (skipped) when no GPU
 * is present. */
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "lac_internal.h"
#include "testutil.h"

static void fill(float *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) p[i] = (float)sin(seed * 0.7 + i * 0.37);
}

int main(void) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    printf("test_cuda: no CUDA device, skipped\n");
    return 77;
  }
  lac_error err;
  lac_backend_params p = lac_backend_default_params();
  lac_backend *cpu, *gpu;
  CHECK_OK(lac_backend_new(&p, &cpu, &err), &err);
  p.kind = LAC_BACKEND_CUDA;
  CHECK_OK(lac_backend_new(&p, &gpu, &err), &err);
  if (!gpu) return test_exit("test_cuda");
  const int M = 67, N = 129, K = 45;
  float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
  float *C0 = malloc(sizeof(float) * M * N), *C1 = malloc(sizeof(float) * M * N);
  fill(A, (size_t)M * K, 1);
  fill(B, (size_t)K * N, 2);
  float *dA, *dB, *dC;
  cudaMalloc((void **)&dA, sizeof(float) * M * K);
  cudaMalloc((void **)&dB, sizeof(float) * K * N);
  cudaMalloc((void **)&dC, sizeof(float) * M * N);
  cudaMemcpy(dA, A, sizeof(float) * M * K, cudaMemcpyHostToDevice);
  cudaMemcpy(dB, B, sizeof(float) * K * N, cudaMemcpyHostToDevice);
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) {
      /* the same buffers read as op(A) [M x K] and op(B) [K x N] */
      const int lda = ta ? M : K, ldb = tb ? K : N;
      fill(C0, (size_t)M * N, 3);
      CHECK_OK(cpu->ops->gemm(cpu, ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 0.25f, C0, N, &err), &err);
      fill(C1, (size_t)M * N, 3);
      cudaMemcpy(dC, C1, sizeof(float) * M * N, cudaMemcpyHostToDevice);
      CHECK_OK(gpu->ops->gemm(gpu, ta, tb, M, N, K, 0.5f, dA, lda, dB, ldb, 0.25f, dC, N, &err), &err);
      cudaDeviceSynchronize();
      cudaMemcpy(C1, dC, sizeof(float) * M * N, cudaMemcpyDeviceToHost);
      double e = test_rel_err(C1, C0, (size_t)M * N, 1e-6);
      CHECK(e <= 1e-5, "gemm ta=%d tb=%d rel err %.3g", ta, tb, e);
    }
  /* strided batched (lac_cuda_sgemm_batched, alpha 1, beta 0): 3 products of 13 x 9 x 7,
   * operands spaced wider than their size (strides 100, 80, 150 floats) */
  {
    enum { NB = 3, m = 13, nn = 9, k = 7, SA = 100, SB = 80, SC = 150 };
    float ha[NB * SA], hb[NB * SB], hc[NB * SC], want_c[NB * SC];
    float *da, *dbb, *dcc;
    cudaMalloc((void **)&da, sizeof ha);
    cudaMalloc((void **)&dbb, sizeof hb);
    cudaMalloc((void **)&dcc, sizeof hc);
    fill(ha, NB * SA, 7);
    fill(hb, NB * SB, 8);
    cudaMemcpy(da, ha, sizeof ha, cudaMemcpyHostToDevice);
    cudaMemcpy(dbb, hb, sizeof hb, cudaMemcpyHostToDevice);
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++) {
        const int lda = ta ? m : k, ldb = tb ? k : nn;
        for (int i = 0; i < NB * SC; i++) hc[i] = want_c[i] = NAN;
        cudaMemcpy(dcc, hc, sizeof hc, cudaMemcpyHostToDevice);
        for (int i = 0; i < NB; i++)
          CHECK_OK(cpu->ops->gemm(cpu, ta, tb, m, nn, k, 1.f, ha + i * SA, lda, hb + i * SB, ldb,
                                  0.f, want_c + i * SC, nn, &err), &err);
        CHECK_OK(lac_cuda_sgemm_batched(lac_cuda_backend_blas(gpu), ta, tb, m, nn, k, da, lda, SA,
                                        dbb, ldb, SB, dcc, nn, SC, NB, &err), &err);
        cudaDeviceSynchronize();
        cudaMemcpy(hc, dcc, sizeof hc, cudaMemcpyDeviceToHost);
        double worst = 0;
        for (int i = 0; i < NB; i++) {
          double e = test_rel_err(hc + i * SC, want_c + i * SC, m * nn, 1e-6);
          if (!(e <= worst)) worst = e;
        }
        CHECK(worst <= 1e-5, "batched gemm ta=%d tb=%d rel err %.3g", ta, tb, worst);
      }
    cudaFree(da), cudaFree(dbb), cudaFree(dcc);
  }
  /* epilogue: 5 channels x 1000, bias + residual + ReLU */
  const int C = 5;
  const size_t P = 1000, n = C * P;
  float *y = malloc(sizeof(float) * n), *r = malloc(sizeof(float) * n), *bias = malloc(sizeof(float) * C);
  float *want = malloc(sizeof(float) * n), *got = malloc(sizeof(float) * n);
  fill(y, n, 4);
  fill(r, n, 5);
  fill(bias, C, 6);
  for (size_t i = 0; i < n; i++) want[i] = fmaxf(0.f, y[i] + bias[i / P] + r[i]);
  float *dy, *dr, *db;
  cudaMalloc((void **)&dy, sizeof(float) * n);
  cudaMalloc((void **)&dr, sizeof(float) * n);
  cudaMalloc((void **)&db, sizeof(float) * C);
  cudaMemcpy(dy, y, sizeof(float) * n, cudaMemcpyHostToDevice);
  cudaMemcpy(dr, r, sizeof(float) * n, cudaMemcpyHostToDevice);
  cudaMemcpy(db, bias, sizeof(float) * C, cudaMemcpyHostToDevice);
  CHECK(lac_cuda_epilogue(dy, C, P, db, dr, 1, NULL) == 0, "epilogue launch");
  cudaDeviceSynchronize();
  for (size_t i = 0; i < n; i++) got[i] = NAN;
  cudaMemcpy(got, dy, sizeof(float) * n, cudaMemcpyDeviceToHost);
  CHECK(test_rel_err(got, want, n, 1e-6) <= 1e-6, "epilogue differs from the CPU");
  cudaFree(dA), cudaFree(dB), cudaFree(dC), cudaFree(dy), cudaFree(dr), cudaFree(db);
  free(A), free(B), free(C0), free(C1), free(y), free(r), free(bias), free(want), free(got);
  lac_backend_free(gpu);
  lac_backend_free(cpu);
  return test_exit("test_cuda");
}
