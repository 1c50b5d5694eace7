/* loss.cu — the device pieces of the LAC loss (lib/cuda/cuda_loss.c): everything of the loss
 * but the GEMMs (cuBLAS) and the alignments (sw_affine.cu).  Semantics: include/lac/align.h
 * (lac_loss); the oracle is the CPU loss, lib/align/loss.c.  The row pieces (labels,
 * soft-target terms, softmaxes) are the CPU loss's own code (lib/align/loss_rows.h, compiled
 * here for the device); the rest follows loss.c step by step (float products, double sums).
 *
 * Layout (kernels.h, lac_cuda_loss_shape): per pair b the valid frames of each view are
 * compacted to the front (n1, n2 of T; masked frames dropped), matrices are [B][T][T] with
 * zeros outside the valid n1 x n2 corner, and the alignment buffers use the SW kernels'
 * packed layout with pair q = 2b (1->2, n1 x n2) and q = 2b + 1 (2->1, n2 x n1) at
 * q * T * ld.  Zeros outside the valid corner are what lets the GEMMs run on whole T x T
 * blocks: a zero row or column contributes nothing.
 *
 * Every kernel is one functor (a __host__ __device__ operator() on one element or one row)
 * run by for_each: on the device as a grid-stride loop on the caller's stream, or — with
 * run->emulate — by a plain loop on the host over host pointers.  The tests run the whole
 * loss that way where there is no GPU (lac_cuda_loss_emulated), so indexing, masking and
 * formulas are proven on the CPU; a GPU run proves the launches and device arithmetic.
 * One thread per row for the row pieces: rows are short (T <= 1024) and few (2 B T), and the
 * loss is dominated by the alignments.  Not tuned for speed beyond that.
 */
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "kernels.h"
#include "../lib/align/loss_rows.h" /* the row pieces, shared with the CPU loss */

#define LK_HD __host__ __device__

namespace {

int blocks_for(size_t n) {
  size_t b = (n + 255) / 256;
  if (b > 65535) b = 65535;
  return b < 1 ? 1 : (int)b;
}

template <class F> __global__ void for_each_kernel(size_t n, F f) {
  for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < n;
       e += (size_t)gridDim.x * blockDim.x)
    f(e);
}

template <class F> int for_each(const lac_cuda_run *run, size_t n, const F &f) {
  if (n == 0) return 0;
  if (run->emulate) {
    for (size_t e = 0; e < n; e++) f(e);
    return 0;
  }
  for_each_kernel<<<blocks_for(n), 256, 0, (cudaStream_t)run->stream>>>(n, f);
  return (int)cudaGetLastError();
}

LK_HD inline void flag_max(int *flag, int v) {
#ifdef __CUDA_ARCH__
  atomicMax(flag, v);
#else
  if (*flag < v) *flag = v;
#endif
}

LK_HD inline int is_finite(double v) { return v - v == 0.0; }

/* pair q = 2b + k: rows and columns of its alignment, and its block's first cell */
struct PairDims {
  int rows, cols;
  size_t off;
};
LK_HD inline PairDims pair_dims(const lac_cuda_loss_shape &s, int q) {
  const int b = q >> 1, k = q & 1;
  PairDims p;
  p.rows = k ? s.n2[b] : s.n1[b];
  p.cols = k ? s.n1[b] : s.n2[b];
  p.off = (size_t)q * s.T * s.ld;
  return p;
}

/* ---------------------------------------------------------------- inputs */

/* x[b][i] = e1[b][r1[b][i]] for i < n1 (0 after), y likewise from e2 */
struct Gather {
  lac_cuda_loss_shape s;
  const float *e1, *e2;
  float *x, *y;
  LK_HD void operator()(size_t e) const {
    const size_t Td = (size_t)s.T * s.d, b = e / Td, t = e % Td / s.d, k = e % s.d;
    x[e] = (int)t < s.n1[b] ? e1[b * Td + (size_t)s.r1[b * s.T + t] * s.d + k] : 0.0f;
    y[e] = (int)t < s.n2[b] ? e2[b * Td + (size_t)s.r2[b * s.T + t] * s.d + k] : 0.0f;
  }
};

/* squared norms in double of the rows of x (r < rows) and y (r >= rows) */
struct Norms {
  size_t rows;
  int d;
  const float *x, *y;
  double *nx, *ny;
  LK_HD void operator()(size_t r) const {
    const bool second = r >= rows;
    const float *a = (second ? y : x) + (second ? r - rows : r) * d;
    double t = 0;
    for (int k = 0; k < d; k++) t += (double)a[k] * a[k];
    (second ? ny : nx)[second ? r - rows : r] = t;
  }
};

/* dd[b][i][j] = |x_i - y_j|^2 from exact differences, summed in double (as the CPU loss:
 * |x|^2 + |y|^2 - 2 x.y cancels to noise for near-identical frames, which is where training
 * takes matched frames) */
struct SqDist {
  int T, d;
  const float *x, *y;
  double *dd;
  LK_HD void operator()(size_t e) const {
    const size_t TT = (size_t)T * T, b = e / TT, i = e % TT / T, j = e % T;
    const float *a = x + (b * T + i) * d, *c = y + (b * T + j) * d;
    double t = 0;
    for (int k = 0; k < d; k++) {
      const double u = (double)a[k] - c[k];
      t += u * u;
    }
    dd[e] = t;
  }
};

/* kind 2 (cosine) from the Gram entry u and the squared norms; kinds 0, 1 from dd */
LK_HD inline double sim_value(int kind, double eps, double u, double aa, double bb, double dd) {
  if (kind == 2) return u / (sqrt(aa) * sqrt(bb) + eps); /* cosine */
  if (kind == 1) return -dd;                             /* negative squared distance */
  return 1.0 / (dd + eps);                               /* inverse squared distance */
}

/* The packed S of pair q from the Gram matrix G[b] = x y^T and the norms (cosine) or the
 * squared distances dd (the others); padding 0; a non-finite similarity raises flag[0] to
 * b + 1. */
struct SimPack {
  lac_cuda_loss_shape s;
  int kind;
  double eps;
  const float *G;
  const double *nx, *ny, *dd;
  float *S;
  int *flag;
  LK_HD void operator()(size_t e) const {
    const size_t blk = (size_t)s.T * s.ld;
    const int q = (int)(e / blk), row = (int)(e % blk / s.ld), col = (int)(e % s.ld);
    const PairDims p = pair_dims(s, q);
    if (row >= p.rows) return;
    if (col >= p.cols) {
      S[e] = 0.0f;
      return;
    }
    const int b = q >> 1, i = q & 1 ? col : row, j = q & 1 ? row : col;
    const size_t T = s.T, c = b * T * T + i * T + j;
    const float v = (float)(kind == 2 ? sim_value(kind, eps, (double)G[c], nx[b * T + i],
                                                  ny[b * T + j], 0.0)
                                      : sim_value(kind, eps, 0.0, 0.0, 0.0, dd[c]));
    S[e] = v;
    if (!is_finite(v)) flag_max(flag, b + 1);
  }
};

/* Per-cell penalties gathered at the frames' positions into the packed layout:
 * 1->2 cell (i, j) = pen[r1[i]][r2[j]], 2->1 cell (j, i) = pen[r2[j]][r1[i]]; padding 0. */
struct GapPack {
  lac_cuda_loss_shape s;
  const float *go, *ge;
  float *gop, *gep;
  LK_HD void operator()(size_t e) const {
    const size_t blk = (size_t)s.T * s.ld;
    const int q = (int)(e / blk), row = (int)(e % blk / s.ld), col = (int)(e % s.ld);
    const PairDims p = pair_dims(s, q);
    if (row >= p.rows) return;
    if (col >= p.cols) {
      gop[e] = gep[e] = 0.0f;
      return;
    }
    const int b = q >> 1;
    const int *ra = (q & 1 ? s.r2 : s.r1) + (size_t)b * s.T;
    const int *rb = (q & 1 ? s.r1 : s.r2) + (size_t)b * s.T;
    const size_t c = (size_t)ra[row] * s.T + rb[col];
    gop[e] = go[c];
    gep[e] = ge[c];
  }
};

struct GapFill {
  const float *go, *ge;
  float *gop, *gep;
  LK_HD void operator()(size_t q) const {
    gop[q] = go[0];
    gep[q] = ge[0];
  }
};

/* ---------------------------------------------------------------- rows */

/* Gaussian labels of row (b, a) (lac_row_labels); zeros outside n1 x n2. */
struct Labels {
  lac_cuda_loss_shape s;
  const int64_t *s1, *s2;
  double var;
  double *lab;
  LK_HD void operator()(size_t r) const {
    const size_t T = s.T, b = r / T;
    const int a = (int)(r % T), n1 = s.n1[b], n2 = s.n2[b];
    double *row = lab + r * T;
    int from = 0;
    if (a < n1) {
      lac_row_labels(n2, (double)s1[b * T + s.r1[b * T + a]], s2 + b * T, s.r2 + b * T, var, row);
      from = n2;
    }
    for (size_t c = from; c < T; c++) row[c] = 0;
  }
};

/* Soft-target KL (kl) or cross-entropy of row (b, a) of logits x * xscale against the labels
 * (lac_row_soft_target); loss[r] = the row's value (0 for a >= n1); g (nullable) =
 * scale * d/dx with scale = coef / (n1 n2) (per_n2) or coef / n1, zeros outside n1 x n2. */
struct SoftRows {
  lac_cuda_loss_shape s;
  const float *x;
  float xscale;
  const double *lab;
  double eps, coef;
  int kl, per_n2;
  double *loss;
  float *g;
  LK_HD void operator()(size_t r) const {
    const size_t T = s.T, b = r / T;
    const int a = (int)(r % T), n1 = s.n1[b], n = s.n2[b];
    float *gr = g ? g + r * T : NULL;
    int from = 0;
    if (a < n1) {
      const double scale = per_n2 ? coef / ((double)n1 * n) : coef / n1;
      loss[r] = lac_row_soft_target(n, x + r * T, xscale, lab + r * T, eps, kl, scale, gr, NULL);
      from = n;
    } else {
      loss[r] = 0;
    }
    if (gr)
      for (size_t c = from; c < T; c++) gr[c] = 0.0f;
  }
};

/* P[q] = softmax over each row of the packed M of pair q (lac_row_softmax); P is
 * [2B][T][T] (row stride T), zeros outside the pair's rows x cols. */
struct SoftmaxM {
  lac_cuda_loss_shape s;
  const float *M;
  float *P;
  LK_HD void operator()(size_t r) const {
    const size_t T = s.T;
    const int q = (int)(r / T), row = (int)(r % T);
    const PairDims p = pair_dims(s, q);
    float *yr = P + r * T;
    int from = 0;
    if (row < p.rows) {
      lac_row_softmax(p.cols, M + p.off + (size_t)row * s.ld, yr, NULL);
      from = p.cols;
    }
    for (size_t c = from; c < T; c++) yr[c] = 0.0f;
  }
};

/* Matrix-product logits: Ap[b][i][t] = A[b][i][inv2[t]], Bp[b][j][t] = Bm[b][j][inv1[t]]
 * (columns at frame positions, 0 at masked ones); then logits = Ap Bp^T by GEMM. */
struct ScatterAB {
  lac_cuda_loss_shape s;
  const float *P; /* [2B][T][T]: A = P[2b], Bm = P[2b + 1] */
  float *Ap, *Bp;
  LK_HD void operator()(size_t e) const {
    const size_t T = s.T, TT = T * T, b = e / TT, i = e % TT / T, t = e % T;
    const int c2 = s.inv2[b * T + t], c1 = s.inv1[b * T + t];
    Ap[e] = (int)i < s.n1[b] && c2 >= 0 ? P[2 * b * TT + i * T + c2] : 0.0f;
    Bp[e] = (int)i < s.n2[b] && c1 >= 0 ? P[(2 * b + 1) * TT + i * T + c1] : 0.0f;
  }
};

/* Element-wise logits: lg[b][i][j] = A[i][j] * Bm[j][i] (0 outside n1 x n2) */
struct ElemLogits {
  lac_cuda_loss_shape s;
  const float *P;
  float *lg;
  LK_HD void operator()(size_t e) const {
    const size_t T = s.T, TT = T * T, b = e / TT, i = e % TT / T, j = e % T;
    lg[e] = (int)i < s.n1[b] && (int)j < s.n2[b]
                ? P[2 * b * TT + i * T + j] * P[(2 * b + 1) * TT + j * T + i]
                : 0.0f;
  }
};

/* gM of pair q (packed) = softmax backward of its row of P given the row's adjoint dy
 * (lac_row_softmax_backward).  dy: matrix product — dA[i][k] = dAp[b][i][r2[k]] (q even),
 * dBm[j][k] = dBp[b][j][r1[k]] (q odd); element-wise — dA[i][j] = glg[i][j] Bm[j][i],
 * dBm[j][i] = glg[i][j] A[i][j].  Padding columns 0. */
struct SoftmaxBack {
  lac_cuda_loss_shape s;
  int matmul;
  const float *P, *dAp, *dBp, *glg;
  float *gM;
  LK_HD float dy(int q, int row, int c) const {
    const size_t T = s.T, TT = T * T, b = q >> 1;
    if (matmul)
      return q & 1 ? dBp[b * TT + (size_t)row * T + s.r1[b * T + c]]
                   : dAp[b * TT + (size_t)row * T + s.r2[b * T + c]];
    if (q & 1) /* row = j, c = i */
      return glg[b * TT + (size_t)c * T + row] * P[2 * b * TT + (size_t)c * T + row];
    return glg[b * TT + (size_t)row * T + c] * P[(2 * b + 1) * TT + (size_t)c * T + row];
  }
  LK_HD void operator()(size_t r) const {
    const size_t T = s.T;
    const int q = (int)(r / T), row = (int)(r % T);
    const PairDims p = pair_dims(s, q);
    if (row >= p.rows) return;
    float *gr = gM + p.off + (size_t)row * s.ld;
    for (int c = 0; c < p.cols; c++) gr[c] = dy(q, row, c);
    lac_row_softmax_backward(p.cols, P + r * T, gr);
    for (int c = p.cols; c < s.ld; c++) gr[c] = 0.0f;
  }
};

/* ---------------------------------------------------------------- backward */

/* gS[b][i][j] = dS12[i][j] + dS21[j][i] (double sum), 0 outside n1 x n2 */
struct CombineDS {
  lac_cuda_loss_shape s;
  const float *dS;
  float *gS;
  LK_HD void operator()(size_t e) const {
    const size_t T = s.T, TT = T * T, b = e / TT, i = e % TT / T, j = e % T;
    if ((int)i >= s.n1[b] || (int)j >= s.n2[b]) {
      gS[e] = 0.0f;
      return;
    }
    const size_t blk = T * s.ld;
    gS[e] = (float)((double)dS[2 * b * blk + i * s.ld + j] +
                    (double)dS[(2 * b + 1) * blk + j * s.ld + i]);
  }
};

/* Backward of sum gS .* sim(x, y) + sum gz .* (x y^T) per pair, in two forms:
 *  cosine: dx_i = sum_j P_ij y_j + rd_i x_i, dy_j = sum_i P_ij x_i + cd_j y_j (GEMMs after),
 *    P = gz + g / den, rd = sum_j -g u nb / (den^2 na), cd likewise;
 *  squared distances: P = gz (the contrastive part, by GEMM after) and the coefficients
 *    C_ij = d sim / d dd * gS_ij (double) for DistGrad, which adds
 *    sum_j 2 C_ij (x_i - y_j) from exact differences: the GEMM form c x_i - c y_j cancels
 *    for near-identical frames, where C is largest. */
struct SimGrad {
  int kind, B, T;
  double eps;
  const float *G, *gS, *gz;
  const double *nx, *ny, *dd;
  float *P, *rd, *cd;
  double *C;
  LK_HD void operator()(size_t r) const {
    const size_t rows = (size_t)B * T, TT = (size_t)T * T;
    if (kind != 2) { /* row r of pair b: P and C; rd, cd unused */
      if (r >= rows) return;
      for (int j = 0; j < T; j++) {
        const size_t e = r * T + j;
        const double g = (double)gS[e], t = dd[e] + eps;
        C[e] = kind == 0 ? -g / (t * t) : -g;
        P[e] = gz[e];
      }
      return;
    }
    double sum = 0;
    if (r < rows) {
      const size_t b = r / T;
      const double na = sqrt(nx[r]);
      for (int j = 0; j < T; j++) {
        const size_t e = r * T + j;
        const double nb = sqrt(ny[b * T + j]), den = na * nb + eps, g = (double)gS[e];
        P[e] = (float)((double)gz[e] + g / den);
        sum += na > 0 ? -g * (double)G[e] * nb / (den * den * na) : 0;
      }
      rd[r] = (float)sum;
    } else {
      const size_t c = r - rows, b = c / T;
      const double nb = sqrt(ny[c]);
      for (int i = 0; i < T; i++) {
        const size_t e = b * TT + (size_t)i * T + c % T;
        const double na = sqrt(nx[b * T + i]), den = na * nb + eps, g = (double)gS[e];
        sum += nb > 0 ? -g * (double)G[e] * na / (den * den * nb) : 0;
      }
      cd[c] = (float)sum;
    }
  }
};

/* dx[b][i][k] += sum_j 2 C_ij (x_ik - y_jk) (e < B T d), dy[b][j][k] += sum_i 2 C_ij
 * (y_jk - x_ik) (the second half), in double from exact differences */
struct DistGrad {
  int B, T, d;
  const double *C;
  const float *x, *y;
  float *dx, *dy;
  LK_HD void operator()(size_t e) const {
    const size_t n = (size_t)B * T * d, TT = (size_t)T * T;
    const bool second = e >= n;
    const size_t f = second ? e - n : e, b = f / ((size_t)T * d), i = f / d % T, k = f % d;
    double acc = 0;
    if (!second) {
      const double xv = x[f];
      for (int j = 0; j < T; j++)
        acc += C[b * TT + i * T + j] * (xv - (double)y[(b * T + j) * d + k]);
      dx[f] += (float)(2.0 * acc);
    } else {
      const double yv = y[f];
      for (int r = 0; r < T; r++)
        acc += C[b * TT + (size_t)r * T + i] * (yv - (double)x[(b * T + r) * d + k]);
      dy[f] += (float)(2.0 * acc);
    }
  }
};

/* y[e] += r[row] * x[e] for rows of d */
struct RowAxpy {
  int d;
  const float *r, *x;
  float *y;
  LK_HD void operator()(size_t e) const { y[e] += r[e / d] * x[e]; }
};

/* de1[b][t] = dx[b][inv1[t]] (0 at masked frames), de2 likewise; either may be NULL */
struct Scatter {
  lac_cuda_loss_shape s;
  const float *dx, *dy;
  float *de1, *de2;
  LK_HD void operator()(size_t e) const {
    const size_t Td = (size_t)s.T * s.d, b = e / Td, t = e % Td / s.d, k = e % s.d;
    const int i1 = s.inv1[b * s.T + t], i2 = s.inv2[b * s.T + t];
    if (de1) de1[e] = i1 >= 0 ? dx[b * Td + (size_t)i1 * s.d + k] : 0.0f;
    if (de2) de2[e] = i2 >= 0 ? dy[b * Td + (size_t)i2 * s.d + k] : 0.0f;
  }
};

/* dpen[u][v] = sum over pairs of the 1->2 cell at positions (u, v) and the 2->1 cell at
 * (u, v) (double), from the packed per-cell gradients f */
struct GapSum {
  lac_cuda_loss_shape s;
  const float *f;
  float *dpen;
  LK_HD void operator()(size_t e) const {
    const size_t T = s.T, u = e / T, v = e % T, blk = T * s.ld;
    double acc = 0;
    for (int b = 0; b < s.B; b++) {
      const int a1 = s.inv1[b * T + u], a2 = s.inv2[b * T + v];
      const int c2 = s.inv2[b * T + u], c1 = s.inv1[b * T + v];
      if (a1 >= 0 && a2 >= 0) acc += f[2 * b * blk + (size_t)a1 * s.ld + a2];
      if (c2 >= 0 && c1 >= 0) acc += f[(2 * b + 1) * blk + (size_t)c2 * s.ld + c1];
    }
    dpen[e] = (float)acc;
  }
};

struct ScalarSum {
  int n;
  const float *f;
  float *out;
  LK_HD void operator()(size_t) const {
    double acc = 0;
    for (int q = 0; q < n; q++) acc += f[q];
    out[0] = (float)acc;
  }
};

} // namespace

/* ---------------------------------------------------------------- launchers */

static size_t TTof(const lac_cuda_loss_shape *s) { return (size_t)s->T * s->T; }
static size_t packed(const lac_cuda_loss_shape *s) { return 2 * (size_t)s->B * s->T * s->ld; }

extern "C" int lac_cuda_loss_gather(const lac_cuda_run *run, const lac_cuda_loss_shape *s,
                                    const float *e1, const float *e2, float *x, float *y) {
  return for_each(run, (size_t)s->B * s->T * s->d, Gather{*s, e1, e2, x, y});
}

extern "C" int lac_cuda_loss_norms(const lac_cuda_run *run, size_t rows, int d, const float *x,
                                   const float *y, double *nx, double *ny) {
  return for_each(run, 2 * rows, Norms{rows, d, x, y, nx, ny});
}

extern "C" int lac_cuda_loss_sqdist(const lac_cuda_run *run, int B, int T, int d, const float *x,
                                    const float *y, double *dd) {
  return for_each(run, (size_t)B * T * T, SqDist{T, d, x, y, dd});
}

extern "C" int lac_cuda_loss_sim_pack(const lac_cuda_run *run, const lac_cuda_loss_shape *s,
                                      int kind, double eps, const float *G, const double *nx,
                                      const double *ny, const double *dd, float *S, int *flag) {
  return for_each(run, packed(s), SimPack{*s, kind, eps, G, nx, ny, dd, S, flag});
}

extern "C" int lac_cuda_loss_gap_pack(const lac_cuda_run *run, const lac_cuda_loss_shape *s,
                                      int per_cell, const float *go, const float *ge, float *gop,
                                      float *gep) {
  if (per_cell) return for_each(run, packed(s), GapPack{*s, go, ge, gop, gep});
  return for_each(run, 2 * (size_t)s->B, GapFill{go, ge, gop, gep});
}

extern "C" int lac_cuda_loss_labels(const lac_cuda_run *run, const lac_cuda_loss_shape *s,
                                    const int64_t *s1, const int64_t *s2, double var,
                                    double *lab) {
  return for_each(run, (size_t)s->B * s->T, Labels{*s, s1, s2, var, lab});
}

extern "C" int lac_cuda_loss_soft_rows(const lac_cuda_run *run, const lac_cuda_loss_shape *s,
                                       const float *x, float xscale, const double *lab,
                                       double eps, int kl, double coef, int per_n2, double *loss,
                                       float *g) {
  return for_each(run, (size_t)s->B * s->T,
                  SoftRows{*s, x, xscale, lab, eps, coef, kl, per_n2, loss, g});
}

extern "C" int lac_cuda_loss_softmax_m(const lac_cuda_run *run, const lac_cuda_loss_shape *s,
                                       const float *M, float *P) {
  return for_each(run, 2 * (size_t)s->B * s->T, SoftmaxM{*s, M, P});
}

extern "C" int lac_cuda_loss_logits_prep(const lac_cuda_run *run, const lac_cuda_loss_shape *s,
                                         int matmul, const float *P, float *Ap, float *Bp,
                                         float *lg) {
  const size_t n = (size_t)s->B * TTof(s);
  if (matmul) return for_each(run, n, ScatterAB{*s, P, Ap, Bp});
  return for_each(run, n, ElemLogits{*s, P, lg});
}

extern "C" int lac_cuda_loss_softmax_back(const lac_cuda_run *run, const lac_cuda_loss_shape *s,
                                          int matmul, const float *P, const float *dAp,
                                          const float *dBp, const float *glg, float *gM) {
  return for_each(run, 2 * (size_t)s->B * s->T, SoftmaxBack{*s, matmul, P, dAp, dBp, glg, gM});
}

extern "C" int lac_cuda_loss_combine_ds(const lac_cuda_run *run, const lac_cuda_loss_shape *s,
                                        const float *dS, float *gS) {
  return for_each(run, (size_t)s->B * TTof(s), CombineDS{*s, dS, gS});
}

extern "C" int lac_cuda_loss_simgrad(const lac_cuda_run *run, int kind, double eps, int B, int T,
                                     const float *G, const double *nx, const double *ny,
                                     const double *dd, const float *gS, const float *gz,
                                     float *P, float *rd, float *cd, double *C) {
  return for_each(run, 2 * (size_t)B * T,
                  SimGrad{kind, B, T, eps, G, gS, gz, nx, ny, dd, P, rd, cd, C});
}

extern "C" int lac_cuda_loss_distgrad(const lac_cuda_run *run, int B, int T, int d,
                                      const double *C, const float *x, const float *y, float *dx,
                                      float *dy) {
  return for_each(run, 2 * (size_t)B * T * d, DistGrad{B, T, d, C, x, y, dx, dy});
}

extern "C" int lac_cuda_loss_row_axpy(const lac_cuda_run *run, size_t rows, int d, const float *r,
                                      const float *x, float *y) {
  return for_each(run, rows * d, RowAxpy{d, r, x, y});
}

extern "C" int lac_cuda_loss_scatter(const lac_cuda_run *run, const lac_cuda_loss_shape *s,
                                     const float *dx, const float *dy, float *de1, float *de2) {
  return for_each(run, (size_t)s->B * s->T * s->d, Scatter{*s, dx, dy, de1, de2});
}

extern "C" int lac_cuda_loss_gap_sum(const lac_cuda_run *run, const lac_cuda_loss_shape *s,
                                     int per_cell, const float *f, float *dpen) {
  if (per_cell) return for_each(run, TTof(s), GapSum{*s, f, dpen});
  return for_each(run, 1, ScalarSum{2 * s->B, f, dpen});
}
