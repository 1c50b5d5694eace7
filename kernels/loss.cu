/* loss.cu — the device pieces of the LAC loss on the GPU (lib/cuda/cuda_loss.c): squared
 * row norms, the similarity from a Gram matrix and the norms, a batched transpose, the
 * similarity's backward coefficients, and a row-scaled add.  Semantics: include/lac/align.h
 * (lac_similarity); the CPU oracle is lib/align/loss.c.  Batches are [B][T][T] (square, T
 * frames per view) and [B][T][d]; one thread per element or per row; launched on the
 * caller's stream. */
#include <cuda_runtime.h>

#include "kernels.h"

static int blocks_for(size_t n) {
  size_t b = (n + 255) / 256;
  if (b > 65535) b = 65535;
  return b < 1 ? 1 : (int)b;
}

__global__ static void norms_kernel(const float *x, size_t rows, int d, double *nrm) {
  for (size_t r = blockIdx.x * (size_t)blockDim.x + threadIdx.x; r < rows;
       r += (size_t)gridDim.x * blockDim.x) {
    const float *a = x + r * d;
    double s = 0;
    for (int k = 0; k < d; k++) s += (double)a[k] * a[k];
    nrm[r] = s;
  }
}

extern "C" int lac_cuda_loss_norms(const float *x, size_t rows, int d, double *nrm, void *stream) {
  if (rows == 0) return 0;
  norms_kernel<<<blocks_for(rows), 256, 0, (cudaStream_t)stream>>>(x, rows, d, nrm);
  return (int)cudaGetLastError();
}

__device__ static double sim_value(int kind, double eps, double u, double aa, double bb) {
  if (kind == 2) return u / (sqrt(aa) * sqrt(bb) + eps); /* cosine */
  double dd = aa + bb - 2.0 * u;
  if (dd < 0) dd = 0;
  if (kind == 1) return -dd;  /* negative squared distance */
  return 1.0 / (dd + eps);    /* inverse squared distance */
}

__global__ static void sim_kernel(int kind, double eps, int B, int T, const float *G,
                                  const double *n1, const double *n2, float *S) {
  const size_t TT = (size_t)T * T, n = (size_t)B * TT;
  for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < n;
       e += (size_t)gridDim.x * blockDim.x) {
    const size_t b = e / TT, i = e % TT / T, j = e % T;
    S[e] = (float)sim_value(kind, eps, (double)G[e], n1[b * T + i], n2[b * T + j]);
  }
}

extern "C" int lac_cuda_loss_sim(int kind, double eps, int B, int T, const float *G,
                                 const double *n1, const double *n2, float *S, void *stream) {
  const size_t n = (size_t)B * T * T;
  if (n == 0) return 0;
  sim_kernel<<<blocks_for(n), 256, 0, (cudaStream_t)stream>>>(kind, eps, B, T, G, n1, n2, S);
  return (int)cudaGetLastError();
}

__global__ static void transpose_kernel(int B, int T, const float *in, float *out) {
  const size_t TT = (size_t)T * T, n = (size_t)B * TT;
  for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < n;
       e += (size_t)gridDim.x * blockDim.x) {
    const size_t b = e / TT, i = e % TT / T, j = e % T;
    out[b * TT + j * T + i] = in[e];
  }
}

extern "C" int lac_cuda_loss_transpose(int B, int T, const float *in, float *out, void *stream) {
  const size_t n = (size_t)B * T * T;
  if (n == 0) return 0;
  transpose_kernel<<<blocks_for(n), 256, 0, (cudaStream_t)stream>>>(B, T, in, out);
  return (int)cudaGetLastError();
}

/* For cell (i, j) with incoming gradient g on the similarity: the coefficient p of y_j in
 * dx_i (and of x_i in dy_j), and the coefficients cx of x_i in dx_i and cy of y_j in dy_j. */
__device__ static void sim_grad_cell(int kind, double eps, double u, double aa, double bb,
                                     double g, double *p, double *cx, double *cy) {
  if (kind == 2) {
    double na = sqrt(aa), nb = sqrt(bb), den = na * nb + eps;
    double ca = na > 0 ? u * nb / (den * den * na) : 0, cb = nb > 0 ? u * na / (den * den * nb) : 0;
    *p = g / den;
    *cx = -g * ca;
    *cy = -g * cb;
  } else {
    double dd = aa + bb - 2.0 * u;
    if (dd < 0) dd = 0;
    double c = kind == 0 ? -2.0 * g / ((dd + eps) * (dd + eps)) : -2.0 * g;
    *p = -c;
    *cx = c;
    *cy = c;
  }
}

/* rows: thread (b, i) writes P[b][i][:] = gz + p and rd[b][i] = sum_j cx */
__global__ static void simgrad_rows_kernel(int kind, double eps, int B, int T, const float *G,
                                           const double *n1, const double *n2, const float *gS,
                                           const float *gz, float *P, float *rd) {
  const size_t rows = (size_t)B * T, TT = (size_t)T * T;
  for (size_t r = blockIdx.x * (size_t)blockDim.x + threadIdx.x; r < rows;
       r += (size_t)gridDim.x * blockDim.x) {
    const size_t b = r / T;
    double s = 0;
    for (int j = 0; j < T; j++) {
      const size_t e = r * T + j;
      double p, cx, cy;
      sim_grad_cell(kind, eps, (double)G[e], n1[r], n2[b * T + j], (double)gS[e], &p, &cx, &cy);
      P[e] = (float)((double)gz[e] + p);
      s += cx;
    }
    rd[r] = (float)s;
    (void)TT;
  }
}

/* columns: thread (b, j) writes cd[b][j] = sum_i cy */
__global__ static void simgrad_cols_kernel(int kind, double eps, int B, int T, const float *G,
                                           const double *n1, const double *n2, const float *gS,
                                           float *cd) {
  const size_t cols = (size_t)B * T, TT = (size_t)T * T;
  for (size_t c = blockIdx.x * (size_t)blockDim.x + threadIdx.x; c < cols;
       c += (size_t)gridDim.x * blockDim.x) {
    const size_t b = c / T, j = c % T;
    double s = 0;
    for (int i = 0; i < T; i++) {
      const size_t e = b * TT + (size_t)i * T + j;
      double p, cx, cy;
      sim_grad_cell(kind, eps, (double)G[e], n1[b * T + i], n2[c], (double)gS[e], &p, &cx, &cy);
      s += cy;
    }
    cd[c] = (float)s;
  }
}

extern "C" int lac_cuda_loss_simgrad(int kind, double eps, int B, int T, const float *G,
                                     const double *n1, const double *n2, const float *gS,
                                     const float *gz, float *P, float *rd, float *cd,
                                     void *stream) {
  const size_t rows = (size_t)B * T;
  if (rows == 0) return 0;
  simgrad_rows_kernel<<<blocks_for(rows), 256, 0, (cudaStream_t)stream>>>(kind, eps, B, T, G, n1,
                                                                          n2, gS, gz, P, rd);
  simgrad_cols_kernel<<<blocks_for(rows), 256, 0, (cudaStream_t)stream>>>(kind, eps, B, T, G, n1,
                                                                          n2, gS, cd);
  return (int)cudaGetLastError();
}

__global__ static void row_axpy_kernel(size_t rows, int d, const float *r, const float *x,
                                       float *y) {
  const size_t n = rows * d;
  for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < n;
       e += (size_t)gridDim.x * blockDim.x)
    y[e] += r[e / d] * x[e];
}

extern "C" int lac_cuda_loss_row_axpy(size_t rows, int d, const float *r, const float *x, float *y,
                                      void *stream) {
  if (rows == 0) return 0;
  row_axpy_kernel<<<blocks_for(rows * d), 256, 0, (cudaStream_t)stream>>>(rows, d, r, x, y);
  return (int)cudaGetLastError();
}
