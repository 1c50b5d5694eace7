/* ops.c — the small layers: max pools, layout changes, Linear, LayerNorm and the
 * sine-cosine positional encoding, with the naive oracles the tests need.
 * Not here: attention (attention.c), convolutions (conv.c). */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "layers/layers.h"

static inline float max2(float m, float v) { return v > m ? v : m; }

void lac_maxpool3s2_cnhw(const float *x, int planes, int h, int w, float *y, int n_threads) {
  const int ho = lac_conv_out(h, 3, 2, 1), wo = lac_conv_out(w, 3, 2, 1);
  /* interior columns ox in [1, xi): window columns 2ox-1 .. 2ox+1 all inside the row */
  int xi = (w - 2) / 2 + 1;
  if (xi > wo) xi = wo;
  if (xi < 1) xi = 1;
  (void)n_threads;
#pragma omp parallel for num_threads(n_threads) schedule(static)
  for (int p = 0; p < planes; p++) {
    const float *xp = x + (size_t)p * h * w;
    float *yp = y + (size_t)p * ho * wo;
    for (int oy = 0; oy < ho; oy++) {
      int y0 = oy * 2 - 1, y1 = y0 + 3;
      if (y0 < 0) y0 = 0;
      if (y1 > h) y1 = h;
      /* the window's valid rows; a missing third (or second) row repeats one: max is
       * unchanged */
      const float *ra = xp + (size_t)y0 * w, *rb = y1 - y0 > 1 ? ra + w : ra,
                  *rc = y1 - y0 > 2 ? rb + w : rb;
      float *yr = yp + (size_t)oy * wo;
#pragma omp simd
      for (int ox = 1; ox < xi; ox++) {
        const int c = 2 * ox - 1;
        float m = max2(max2(ra[c], ra[c + 1]), ra[c + 2]);
        m = max2(m, max2(max2(rb[c], rb[c + 1]), rb[c + 2]));
        yr[ox] = max2(m, max2(max2(rc[c], rc[c + 1]), rc[c + 2]));
      }
      for (int ox = 0; ox < wo; ox = ox == 0 && xi > 1 ? xi : ox + 1) {
        int x0 = ox * 2 - 1, x1 = x0 + 3;
        if (x0 < 0) x0 = 0;
        if (x1 > w) x1 = w;
        float m = -FLT_MAX;
        for (int iy = y0; iy < y1; iy++)
          for (int ix = x0; ix < x1; ix++) m = max2(m, xp[(size_t)iy * w + ix]);
        yr[ox] = m;
      }
    }
  }
}

void lac_maxpool3s2_naive(const float *x, int planes, int h, int w, float *y) {
  const int ho = lac_conv_out(h, 3, 2, 1), wo = lac_conv_out(w, 3, 2, 1);
  for (int p = 0; p < planes; p++)
    for (int oy = 0; oy < ho; oy++)
      for (int ox = 0; ox < wo; ox++) {
        float m = -INFINITY;
        for (int ky = 0; ky < 3; ky++)
          for (int kx = 0; kx < 3; kx++) {
            int iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w && x[((size_t)p * h + iy) * w + ix] > m)
              m = x[((size_t)p * h + iy) * w + ix];
          }
        y[((size_t)p * ho + oy) * wo + ox] = m;
      }
}

void lac_global_maxpool_cnhw(const float *x, int c, int n_groups, int ctx, int hw, float *out,
                             int n_threads) {
  (void)n_threads;
#pragma omp parallel for num_threads(n_threads) schedule(static)
  for (int ch = 0; ch < c; ch++)
    for (int g = 0; g < n_groups; g++) {
      const float *p = x + ((size_t)ch * n_groups * ctx + (size_t)g * ctx) * hw;
      float m = -FLT_MAX;
      for (size_t i = 0; i < (size_t)ctx * hw; i++) m = p[i] > m ? p[i] : m;
      out[(size_t)g * c + ch] = m;
    }
}

void lac_nchw_to_cnhw(const float *x, int n, int c, int hw, float *y) {
  for (int f = 0; f < n; f++)
    for (int ch = 0; ch < c; ch++)
      memcpy(y + ((size_t)ch * n + f) * hw, x + ((size_t)f * c + ch) * hw, sizeof(float) * hw);
}

void lac_cnhw_to_nchw(const float *x, int n, int c, int hw, float *y) {
  for (int f = 0; f < n; f++)
    for (int ch = 0; ch < c; ch++)
      memcpy(y + ((size_t)f * c + ch) * hw, x + ((size_t)ch * n + f) * hw, sizeof(float) * hw);
}

void lac_linear(const float *x, int rows, int in, const float *w, const float *b, int out,
                float *y, int relu) {
  if (rows <= 0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.f, x, in, w, in, 0.f, y,
              out);
  for (int r = 0; r < rows; r++) {
    float *yr = y + (size_t)r * out;
    for (int o = 0; o < out; o++) {
      float v = yr[o] + (b ? b[o] : 0.f);
      yr[o] = (relu && v < 0.f) ? 0.f : v;
    }
  }
}

void lac_linear_naive(const float *x, int rows, int in, const float *w, const float *b, int out,
                      float *y) {
  for (int r = 0; r < rows; r++)
    for (int o = 0; o < out; o++) {
      double acc = b ? b[o] : 0.0;
      for (int i = 0; i < in; i++) acc += (double)x[(size_t)r * in + i] * w[(size_t)o * in + i];
      y[(size_t)r * out + o] = (float)acc;
    }
}

void lac_layernorm(float *x, int rows, int d, const float *gamma, const float *beta, float eps) {
  for (int r = 0; r < rows; r++) {
    float *xr = x + (size_t)r * d;
    double mean = 0, var = 0;
    for (int i = 0; i < d; i++) mean += xr[i];
    mean /= d;
    for (int i = 0; i < d; i++) var += (xr[i] - mean) * (xr[i] - mean);
    var /= d;
    const double inv = 1.0 / sqrt(var + eps);
    for (int i = 0; i < d; i++) xr[i] = (float)((xr[i] - mean) * inv) * gamma[i] + beta[i];
  }
}

void lac_posenc(float *pe, int s_len, int d, int train_len) {
  /* positions: 0..s-1 when s == train_len, else numpy.linspace(0, train_len - 1, s) */
  const double step = s_len > 1 ? (double)(train_len - 1) / (double)(s_len - 1) : 0.0;
  for (int i = 0; i < s_len; i++) {
    double pos;
    if (s_len == train_len)
      pos = i;
    else if (i == s_len - 1 && s_len > 1)
      pos = train_len - 1; /* linspace sets the endpoint exactly */
    else
      pos = i * step;
    for (int k = 0; k < d; k++) {
      double angle = pos / pow(10000.0, (double)k / (double)d);
      pe[(size_t)i * d + k] = (float)((k % 2 == 0) ? sin(angle) : cos(angle));
    }
  }
}
