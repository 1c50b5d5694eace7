/* conv.c — 2-D and 3-D convolutions on the CPU: im2col + OpenBLAS sgemm over CNHW
 * activations, a fused bias/residual/ReLU epilogue, BatchNorm folding, and the direct-loop
 * oracles the tests compare them with.
 *
 * 2-D convs run in blocks of output columns (frame, oy, ox): each thread packs its block
 * (im2col, skipped for 1x1 stride-1 convs, whose input already is the GEMM's), multiplies
 * it with one single-threaded sgemm and applies the epilogue while the block is in cache.
 *
 * 3x3 stride-1 convs whose lac_conv2d carries Winograd weights are handed to winograd.c.
 * The Conv3d head (context > 1) still packs whole chunks of groups and finishes in a
 * separate epilogue pass.
 * Not here: the Winograd transforms (winograd.c), FFT convolutions, backward passes
 * (training lands later).
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "layers/layers.h"

/* Conv3d im2col chunks hold at most this many floats (groups are gathered up to it) */
#define CHUNK_FLOATS ((size_t)64 << 20)

static int frames_per_chunk(size_t col_floats_per_frame, int n) {
  size_t f = CHUNK_FLOATS / (col_floats_per_frame ? col_floats_per_frame : 1);
  if (f < 1) f = 1;
  if (f > (size_t)n) f = (size_t)n;
  return (int)f;
}

/* Columns per block: each thread packs (im2col), multiplies (one single-threaded sgemm)
 * and finishes (bias/residual/ReLU) one block of output columns at a time, so the
 * block's kk x nb GEMM input and cout x nb outputs are still in cache (L2 here: 1 MiB a
 * core, L3 32 MiB) when they are used.  Measured on the ResNet-50 shapes, 2 threads:
 * about 256 Ki floats of each, at least 512 columns (narrower blocks repack the weights
 * too often), at most 4096. */
static int block_cols(int cout, int kk) {
  const int big = cout > kk ? cout : kk;
  int nb = (256 << 10) / (big > 0 ? big : 1);
  nb = nb < 512 ? 512 : nb > 4096 ? 4096 : nb;
  return nb & ~15;
}

/* Blocks packed per round: the workspace holds this many kk x nb panels (one per block in
 * flight), whatever the batch; rounds are separated by a barrier. */
#define ROUND_BLOCKS 32

size_t lac_conv2d_ws_floats(const lac_conv2d *c, int n, int h, int w) {
  if (c->wino && lac_wino_applies(c)) return lac_wino_ws_floats(c, n, h, w);
  if (c->k == 1 && c->stride == 1 && c->pad == 0) return 0;
  const int ho = lac_conv_out(h, c->k, c->stride, c->pad);
  const int wo = lac_conv_out(w, c->k, c->stride, c->pad);
  const size_t kk = (size_t)c->cin * c->k * c->k, ncols = (size_t)n * ho * wo;
  const size_t nb = (size_t)block_cols(c->cout, (int)kk);
  size_t blocks = (ncols + nb - 1) / nb;
  if (blocks > ROUND_BLOCKS) blocks = ROUND_BLOCKS;
  return kk * nb * blocks;
}

/* col[r][0..nb) = im2col rows r = (ci, ky, kx) for the output columns [j0, j0 + nb) of the
 * batch's (frame, oy, ox) order; zeros for padding. */
static void im2col_block(const lac_conv2d *c, const float *x, int n, int h, int w,
                         int ho, int wo, size_t j0, int nb, float *col) {
  const int k = c->k, s = c->stride, p = c->pad;
  const int rows = c->cin * k * k;
  const size_t plane = (size_t)ho * wo;
  for (int r = 0; r < rows; r++) {
    const int ci = r / (k * k), ky = (r / k) % k, kx = r % k;
    /* valid ox: 0 <= ox * s - p + kx < w, i.e. ox in [lo, hi) */
    const int lo = p - kx > 0 ? (p - kx + s - 1) / s : 0;
    int hi = w - 1 + p - kx >= 0 ? (w - 1 + p - kx) / s + 1 : 0;
    if (hi > wo) hi = wo;
    float *dst = col + (size_t)r * nb;
    size_t j = j0;
    int done = 0;
    while (done < nb) {
      const int f = (int)(j / plane), oy = (int)(j % plane) / wo, ox0 = (int)(j % plane) % wo;
      const int seg = wo - ox0 < nb - done ? wo - ox0 : nb - done; /* ox in [ox0, ox0 + seg) */
      float *d = dst + done; /* d[ox - ox0] */
      const int iy = oy * s - p + ky;
      int a = ox0 > lo ? ox0 : lo, b = ox0 + seg < hi ? ox0 + seg : hi;
      if (iy < 0 || iy >= h || b < a) a = b = ox0 + seg;
      for (int ox = ox0; ox < a; ox++) d[ox - ox0] = 0.f;
      if (b > a) {
        /* ox in [a, b) reads x[ci][f][iy][ix0 + (ox - a) * s] */
        const float *src = x + (((size_t)ci * n + f) * h + iy) * w + (a * s - p + kx);
        float *da = d + (a - ox0);
        if (s == 1) {
          memcpy(da, src, sizeof(float) * (size_t)(b - a));
        } else {
#pragma omp simd
          for (int i = 0; i < b - a; i++) da[i] = src[(size_t)i * s];
        }
      }
      for (int ox = b > a ? b : a; ox < ox0 + seg; ox++) d[ox - ox0] = 0.f;
      done += seg;
      j += (size_t)seg;
    }
  }
}

/* y = act(y + b + res) on rows [0, cout) x columns [0, nb) of y and res (row stride ld). */
static void epilogue_block(float *y, size_t ld, int cout, int nb, const float *b,
                           const float *res, int relu) {
  for (int co = 0; co < cout; co++) {
    float *yc = y + (size_t)co * ld;
    const float bias = b ? b[co] : 0.f;
    const float *rc = res ? res + (size_t)co * ld : NULL;
    if (rc) {
      if (relu) {
#pragma omp simd
        for (int i = 0; i < nb; i++) {
          const float v = yc[i] + bias + rc[i];
          yc[i] = v > 0.f ? v : 0.f;
        }
      } else {
#pragma omp simd
        for (int i = 0; i < nb; i++) yc[i] += bias + rc[i];
      }
    } else if (relu) {
#pragma omp simd
      for (int i = 0; i < nb; i++) {
        const float v = yc[i] + bias;
        yc[i] = v > 0.f ? v : 0.f;
      }
    } else if (bias != 0.f) {
#pragma omp simd
      for (int i = 0; i < nb; i++) yc[i] += bias;
    }
  }
}

/* y = act(y + b) over cout planes of `plane` floats (the Conv3d head). */
static void epilogue(float *y, int cout, size_t plane, const float *b, int relu, int n_threads) {
  (void)n_threads;
#pragma omp parallel for num_threads(n_threads) schedule(static)
  for (int co = 0; co < cout; co++)
    epilogue_block(y + (size_t)co * plane, plane, 1, (int)plane, b ? b + co : NULL, NULL, relu);
}

void lac_conv2d_cnhw(const lac_conv2d *c, const float *x, int n, int h, int w, float *y,
                     const float *res, int relu, float *ws, int n_threads) {
  if (c->wino && lac_wino_applies(c)) {
    lac_wino_conv2d_cnhw(c, c->wino, x, n, h, w, y, res, relu, ws, n_threads);
    return;
  }
  const int ho = lac_conv_out(h, c->k, c->stride, c->pad);
  const int wo = lac_conv_out(w, c->k, c->stride, c->pad);
  const size_t ncols = (size_t)n * ho * wo; /* y[cout][ncols] */
  const int kk = c->cin * c->k * c->k;
  const int direct = c->k == 1 && c->stride == 1 && c->pad == 0; /* x is already [kk][ncols] */
  const int nb = block_cols(c->cout, kk);
  const long n_blocks = (long)((ncols + nb - 1) / nb);
  const long per_round = direct ? n_blocks : ROUND_BLOCKS;
  (void)n_threads;
  for (long r0 = 0; r0 < n_blocks; r0 += per_round) {
    const long r1 = r0 + per_round < n_blocks ? r0 + per_round : n_blocks;
    /* inside a parallel region OpenBLAS (OpenMP build) runs each call on one thread */
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (long bi = r0; bi < r1; bi++) {
      const size_t j0 = (size_t)bi * nb;
      const int m = ncols - j0 < (size_t)nb ? (int)(ncols - j0) : nb; /* columns [j0, j0+m) */
      const float *bm = x + j0;
      int ldb = (int)ncols;
      if (!direct) {
        float *col = ws + (size_t)kk * nb * (size_t)(bi - r0); /* [kk][m] */
        im2col_block(c, x, n, h, w, ho, wo, j0, m, col);
        bm = col;
        ldb = m;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->cout, m, kk, 1.f, c->w, kk, bm,
                  ldb, 0.f, y + j0, (int)ncols);
      epilogue_block(y + j0, ncols, c->cout, m, c->b, res ? res + j0 : NULL, relu);
    }
  }
}

void lac_conv2d_naive_nchw(const lac_conv2d *c, const float *x, int n, int h, int w, float *y) {
  const int ho = lac_conv_out(h, c->k, c->stride, c->pad);
  const int wo = lac_conv_out(w, c->k, c->stride, c->pad);
  for (int f = 0; f < n; f++)
    for (int co = 0; co < c->cout; co++)
      for (int oy = 0; oy < ho; oy++)
        for (int ox = 0; ox < wo; ox++) {
          double acc = c->b ? c->b[co] : 0.0;
          for (int ci = 0; ci < c->cin; ci++)
            for (int ky = 0; ky < c->k; ky++)
              for (int kx = 0; kx < c->k; kx++) {
                int iy = oy * c->stride - c->pad + ky, ix = ox * c->stride - c->pad + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                acc += (double)c->w[((size_t)co * c->cin + ci) * c->k * c->k + ky * c->k + kx] *
                       x[(((size_t)f * c->cin + ci) * h + iy) * w + ix];
              }
          y[(((size_t)f * c->cout + co) * ho + oy) * wo + ox] = (float)acc;
        }
}

/* ---------------------------------------------------------------- Conv3d head (ctx > 1) */

size_t lac_conv3d_ws_floats(int cin, int n_groups, int ctx, int h, int w) {
  size_t per_group = (size_t)cin * 27 * ctx * (size_t)(h - 2) * (w - 2);
  return per_group * (size_t)frames_per_chunk(per_group, n_groups);
}

void lac_conv3d_cnhw(int cin, int cout, const float *w3, const float *b, const float *x,
                     int n_groups, int ctx, int h, int w, float *y, int relu, float *ws,
                     int n_threads) {
  const int ho = h - 2, wo = w - 2;
  const size_t plane = (size_t)ho * wo;
  const int n = n_groups * ctx;
  const size_t ncols = (size_t)n * plane;
  const int kk = cin * 27;
  const size_t per_group = (size_t)kk * ctx * plane;
  const int gpc = frames_per_chunk(per_group, n_groups);
  (void)n_threads;
  for (int g0 = 0; g0 < n_groups; g0 += gpc) {
    const int ng = (g0 + gpc <= n_groups) ? gpc : n_groups - g0;
    const size_t cols = (size_t)ng * ctx * plane;
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (int r = 0; r < kk; r++) {
      const int ci = r / 27, kt = (r / 9) % 3, ky = (r / 3) % 3, kx = r % 3;
      float *dst = ws + (size_t)r * cols;
      for (int g = 0; g < ng; g++)
        for (int t = 0; t < ctx; t++) {
          float *d = dst + ((size_t)g * ctx + t) * plane;
          const int ti = t + kt - 1;
          if (ti < 0 || ti >= ctx) {
            memset(d, 0, sizeof(float) * plane);
            continue;
          }
          const float *src = x + ((size_t)ci * n + (size_t)(g0 + g) * ctx + ti) * h * w;
          for (int oy = 0; oy < ho; oy++)
            memcpy(d + (size_t)oy * wo, src + (size_t)(oy + ky) * w + kx, sizeof(float) * wo);
        }
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cout, (int)cols, kk, 1.f, w3, kk, ws,
                (int)cols, 0.f, y + (size_t)g0 * ctx * plane, (int)ncols);
  }
  epilogue(y, cout, ncols, b, relu, n_threads);
}

void lac_conv3d_naive(int cin, int cout, const float *w3, const float *b, const float *x,
                      int n_groups, int ctx, int h, int w, float *y) {
  const int ho = h - 2, wo = w - 2;
  for (int g = 0; g < n_groups; g++)
    for (int co = 0; co < cout; co++)
      for (int t = 0; t < ctx; t++)
        for (int oy = 0; oy < ho; oy++)
          for (int ox = 0; ox < wo; ox++) {
            double acc = b ? b[co] : 0.0;
            for (int ci = 0; ci < cin; ci++)
              for (int kt = 0; kt < 3; kt++) {
                int ti = t + kt - 1;
                if (ti < 0 || ti >= ctx) continue;
                for (int ky = 0; ky < 3; ky++)
                  for (int kx = 0; kx < 3; kx++)
                    acc += (double)w3[(((size_t)co * cin + ci) * 3 + kt) * 9 + ky * 3 + kx] *
                           x[((((size_t)g * cin + ci) * ctx + ti) * h + oy + ky) * w + ox + kx];
              }
            y[((((size_t)g * cout + co) * ctx + t) * ho + oy) * wo + ox] = (float)acc;
          }
}

void lac_conv3d_middle_slice(int cin, int cout, const float *w3, float *w2) {
  for (size_t oc = 0; oc < (size_t)cout * cin; oc++)
    memcpy(w2 + oc * 9, w3 + oc * 27 + 9, sizeof(float) * 9);
}

void lac_bn_fold(const float *w, const float *b, const float *gamma, const float *beta,
                 const float *mean, const float *var, float eps, int cout, size_t per_out,
                 float *w_out, float *b_out) {
  for (int co = 0; co < cout; co++) {
    double scale = (double)gamma[co] / sqrt((double)var[co] + (double)eps);
    for (size_t i = 0; i < per_out; i++)
      w_out[(size_t)co * per_out + i] = (float)(w[(size_t)co * per_out + i] * scale);
    b_out[co] = (float)(((b ? (double)b[co] : 0.0) - mean[co]) * scale + beta[co]);
  }
}
