/* conv.c — 2-D and 3-D convolutions on the CPU: im2col + OpenBLAS sgemm over CNHW
 * activations, a fused bias/residual/ReLU epilogue, BatchNorm folding, and the direct-loop
 * oracles the tests compare them with.
 *
 * Not here: Winograd or FFT convolutions, backward passes (training lands later).
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "layers/layers.h"

/* im2col chunks hold at most this many floats (frames are grouped up to it) */
#define CHUNK_FLOATS ((size_t)64 << 20)

static int frames_per_chunk(size_t col_floats_per_frame, int n) {
  size_t f = CHUNK_FLOATS / (col_floats_per_frame ? col_floats_per_frame : 1);
  if (f < 1) f = 1;
  if (f > (size_t)n) f = (size_t)n;
  return (int)f;
}

size_t lac_conv2d_ws_floats(const lac_conv2d *c, int n, int h, int w) {
  int ho = lac_conv_out(h, c->k, c->stride, c->pad), wo = lac_conv_out(w, c->k, c->stride, c->pad);
  size_t plane = (size_t)ho * wo;
  if (c->k == 1 && c->stride == 1 && c->pad == 0) return 0;
  size_t per_frame = (size_t)c->cin * c->k * c->k * plane;
  return per_frame * (size_t)frames_per_chunk(per_frame, n);
}

/* col[r][j] for rows r = (ci, ky, kx) and columns j = (frame f0..f0+nf, oy, ox). */
static void im2col_cnhw(const lac_conv2d *c, const float *x, int n, int h, int w, int f0, int nf,
                        int ho, int wo, float *col, int n_threads) {
  const int k = c->k, s = c->stride, p = c->pad;
  const int rows = c->cin * k * k;
  const size_t ncols = (size_t)nf * ho * wo;
  (void)n_threads;
#pragma omp parallel for num_threads(n_threads) schedule(static)
  for (int r = 0; r < rows; r++) {
    const int ci = r / (k * k), ky = (r / k) % k, kx = r % k;
    float *dst = col + (size_t)r * ncols;
    for (int f = 0; f < nf; f++) {
      const float *src = x + ((size_t)ci * n + f0 + f) * h * w;
      for (int oy = 0; oy < ho; oy++) {
        const int iy = oy * s - p + ky;
        float *d = dst + ((size_t)f * ho + oy) * wo;
        if (iy < 0 || iy >= h) {
          memset(d, 0, sizeof(float) * wo);
          continue;
        }
        const float *srow = src + (size_t)iy * w;
        if (s == 1) {
          /* valid ox: 0 <= ox - p + kx < w */
          int lo = p - kx, hi = w + p - kx; /* ox in [lo, hi) */
          if (lo < 0) lo = 0;
          if (hi > wo) hi = wo;
          if (hi < lo) hi = lo;
          for (int ox = 0; ox < lo; ox++) d[ox] = 0.f;
          if (hi > lo) memcpy(d + lo, srow + lo - p + kx, sizeof(float) * (hi - lo));
          for (int ox = hi; ox < wo; ox++) d[ox] = 0.f;
        } else {
          for (int ox = 0; ox < wo; ox++) {
            const int ix = ox * s - p + kx;
            d[ox] = (ix >= 0 && ix < w) ? srow[ix] : 0.f;
          }
        }
      }
    }
  }
}

/* y = act(y + b + res) over cout planes of `plane` floats. */
static void epilogue(float *y, int cout, size_t plane, const float *b, const float *res, int relu,
                     int n_threads) {
  (void)n_threads;
#pragma omp parallel for num_threads(n_threads) schedule(static)
  for (int co = 0; co < cout; co++) {
    float *yc = y + (size_t)co * plane;
    const float bias = b ? b[co] : 0.f;
    const float *rc = res ? res + (size_t)co * plane : NULL;
    if (rc) {
      if (relu)
        for (size_t i = 0; i < plane; i++) {
          float v = yc[i] + bias + rc[i];
          yc[i] = v > 0.f ? v : 0.f;
        }
      else
        for (size_t i = 0; i < plane; i++) yc[i] += bias + rc[i];
    } else if (relu) {
      for (size_t i = 0; i < plane; i++) {
        float v = yc[i] + bias;
        yc[i] = v > 0.f ? v : 0.f;
      }
    } else if (bias != 0.f) {
      for (size_t i = 0; i < plane; i++) yc[i] += bias;
    }
  }
}

void lac_conv2d_cnhw(const lac_conv2d *c, const float *x, int n, int h, int w, float *y,
                     const float *res, int relu, float *ws, int n_threads) {
  const int ho = lac_conv_out(h, c->k, c->stride, c->pad);
  const int wo = lac_conv_out(w, c->k, c->stride, c->pad);
  const size_t plane_out = (size_t)ho * wo;
  const size_t ncols = (size_t)n * plane_out;
  const int kk = c->cin * c->k * c->k;

  if (c->k == 1 && c->stride == 1 && c->pad == 0) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->cout, (int)ncols, c->cin, 1.f, c->w,
                c->cin, x, (int)ncols, 0.f, y, (int)ncols);
  } else {
    const size_t per_frame = (size_t)kk * plane_out;
    const int fpc = frames_per_chunk(per_frame, n);
    for (int f0 = 0; f0 < n; f0 += fpc) {
      const int nf = (f0 + fpc <= n) ? fpc : n - f0;
      const size_t cols = (size_t)nf * plane_out;
      im2col_cnhw(c, x, n, h, w, f0, nf, ho, wo, ws, n_threads);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->cout, (int)cols, kk, 1.f, c->w, kk,
                  ws, (int)cols, 0.f, y + (size_t)f0 * plane_out, (int)ncols);
    }
  }
  epilogue(y, c->cout, ncols, c->b, res, relu, n_threads);
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
  epilogue(y, cout, ncols, b, NULL, relu, n_threads);
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
