/* winograd.c — Winograd F(2x2, 3x3) for the 3x3 stride-1 convolutions (padding 0 or 1) on
 * CNHW activations:
 *   weights  U = G g G^T           once, at model load: u[16][cout][cin]
 *   input    V = B^T d B           4x4 input tiles at stride 2: v[16][cin][tiles]
 *   product  M_xi = U_xi * V_xi    16 sgemm calls per chunk of tiles: m[16][cout][tiles]
 *   output   Y = A^T M A           2x2 outputs per tile, fused with bias, residual and ReLU
 * Tiles are numbered (frame, ty, tx) over the whole batch and processed in chunks of whole
 * tile rows, so v and m stay bounded (and mostly in cache) whatever the batch.
 *
 *   B^T = | 1  0 -1  0 |    G = | 1    0    0  |    A^T = | 1  1  1  0 |
 *         | 0  1  1  0 |        | 1/2  1/2  1/2|          | 0  1 -1 -1 |
 *         | 0 -1  1  0 |        | 1/2 -1/2  1/2|
 *         | 0  1  0 -1 |        | 0    0    1  |
 *
 * The three phases of a chunk run on n_threads OpenMP threads: transforms split over
 * (channel, tile row), the 16 GEMMs over xi, one single-threaded sgemm each (with the
 * OpenMP build of OpenBLAS; see lac_conv2d_cnhw in layers.h).
 *
 * Not here: other kernel sizes or strides (im2col in conv.c); F(4x4, 3x3): its transforms
 * (constants up to 8 and 1/24) cost ~15x the float32 error of F(2x2) per conv (1e-5 vs
 * 7e-7 of the output's scale on the 256-1024 channel ResNet shapes), too much of the
 * parity tests' 1e-4 over a whole encoder; backward passes.  Nothing here allocates: the
 * workspace is sized by lac_wino_ws_floats.
 */
#include <cblas.h>
#include <string.h>

#include "layers/layers.h"

/* Tiles per chunk, about (whole tile rows, chunks evened out): the 16 GEMMs' N.  Measured
 * on the ResNet-50 shapes (2 threads, OpenBLAS 0.3.21, Zen 4): from 64 to 1024 channels,
 * ~1000 tiles is as fast as the whole batch or faster (64 channels: v + m, 8 MiB, stay in
 * L3, and the whole batch was 1.6x slower), and 256-400 tiles were clearly slower for the
 * 512-1024 channel head convs. */
#define WINO_CHUNK_TILES 1024

int lac_wino_applies(const lac_conv2d *c) {
  return c->k == 3 && c->stride == 1 && (c->pad == 0 || c->pad == 1);
}

size_t lac_wino_weight_floats(const lac_conv2d *c) { return (size_t)16 * c->cout * c->cin; }

/* u[16][cout][cin] = (G g G^T)[i][j] at xi = 4i + j, for g = w[co][ci] (3x3), in double. */
void lac_wino_weights(const lac_conv2d *c, float *u) {
  static const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  const size_t plane = (size_t)c->cout * c->cin;
  for (size_t oc = 0; oc < plane; oc++) {
    const float *g = c->w + oc * 9;
    double t[4][3]; /* G g */
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 3; j++)
        t[i][j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 4; j++)
        u[(size_t)(4 * i + j) * plane + oc] =
            (float)(t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2]);
  }
}

/* Floats between the 16 matrices of v or m holding `floats` each: rounded up to an odd
 * number of cache lines, so that the 16 streams a transform reads or writes at once fall
 * in different cache sets (a multiple of 4 KiB would put them all in the same sets). */
static size_t xi_stride(size_t floats) {
  size_t lines = (floats + 15) / 16;
  return 16 * (lines | 1);
}

/* Tile rows (frame, ty) per chunk for this conv on n frames of h x w. */
static int rows_per_chunk(const lac_conv2d *c, int n, int h, int w) {
  const int ho = lac_conv_out(h, 3, 1, c->pad), wo = lac_conv_out(w, 3, 1, c->pad);
  const int th = (ho + 1) / 2, tw = (wo + 1) / 2;
  if (th < 1 || tw < 1 || n < 1) return 1;
  const size_t rows = (size_t)n * th, r = (WINO_CHUNK_TILES + tw - 1) / tw;
  const size_t chunks = (rows + r - 1) / r;
  return (int)((rows + chunks - 1) / chunks); /* the same chunks, evened out */
}

size_t lac_wino_ws_floats(const lac_conv2d *c, int n, int h, int w) {
  const int wo = lac_conv_out(w, 3, 1, c->pad);
  const int tw = (wo + 1) / 2;
  const size_t nt = (size_t)tw * rows_per_chunk(c, n, h, w);
  return 16 * (xi_stride((size_t)c->cin * nt) + xi_stride((size_t)c->cout * nt));
}

/* ---------------------------------------------------------------- input transform */

/* d[4][4] -> B^T d B, stored at v[(4i + j) * xs]. */
static inline void tile_in(float d[4][4], float *v, size_t xs) {
  float t[4][4];
  for (int j = 0; j < 4; j++) {
    t[0][j] = d[0][j] - d[2][j];
    t[1][j] = d[1][j] + d[2][j];
    t[2][j] = d[2][j] - d[1][j];
    t[3][j] = d[1][j] - d[3][j];
  }
  for (int i = 0; i < 4; i++) {
    v[(4 * i + 0) * xs] = t[i][0] - t[i][2];
    v[(4 * i + 1) * xs] = t[i][1] + t[i][2];
    v[(4 * i + 2) * xs] = t[i][2] - t[i][1];
    v[(4 * i + 3) * xs] = t[i][1] - t[i][3];
  }
}

/* Zeros standing in for the padding rows above and below planes up to this wide. */
#define ZERO_ROW 4096
static const float zero_row[ZERO_ROW];

/* One tile at input column ix0 of the four input rows r[i] (NULL: a padding row), zeros
 * outside [0, w). */
static void tile_in_border(const float *const r[4], int w, int ix0, float *v, size_t xs) {
  float d[4][4];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      const int ix = ix0 + j;
      d[i][j] = r[i] && ix >= 0 && ix < w ? r[i][ix] : 0.f;
    }
  tile_in(d, v, xs);
}

/* The tw tiles of tile row ty of plane xp [h][w] (padding p) -> v[xi * xs + tx]. */
static void input_row(const float *xp, int h, int w, int p, int ty, int tw, float *v, size_t xs) {
  const int iy0 = 2 * ty - p;
  const float *r[4]; /* the tiles' input rows iy0 .. iy0 + 3 */
  int inside = 1;
  for (int i = 0; i < 4; i++) {
    const int iy = iy0 + i;
    r[i] = iy >= 0 && iy < h ? xp + (size_t)iy * w : w <= ZERO_ROW ? zero_row : NULL;
    inside &= r[i] != NULL;
  }
  /* tiles [a, b) lie wholly inside the plane horizontally: 0 <= 2tx - p, 2tx - p + 3 < w */
  int a = (p + 1) / 2, b = w + p - 4 >= 0 ? (w + p - 4) / 2 + 1 : 0;
  if (!inside) a = b = tw; /* a padding row wider than zero_row: all tiles the slow way */
  if (a > tw) a = tw;
  if (b > tw) b = tw;
  if (b < a) b = a;
  int tx = 0;
  for (; tx < a; tx++) tile_in_border(r, w, 2 * tx - p, v + tx, xs);
  if (tx < b) {
    /* tile t in [a, b) reads columns 2 (t - a) + j of rows r_i (input column 2t - p + j) */
    const int c0 = 2 * a - p;
    const float *r0 = r[0] + c0, *r1 = r[1] + c0, *r2 = r[2] + c0, *r3 = r[3] + c0;
    float *v0 = v + a, *v1 = v0 + xs, *v2 = v1 + xs, *v3 = v2 + xs, *v4 = v3 + xs,
          *v5 = v4 + xs, *v6 = v5 + xs, *v7 = v6 + xs, *v8 = v7 + xs, *v9 = v8 + xs,
          *v10 = v9 + xs, *v11 = v10 + xs, *v12 = v11 + xs, *v13 = v12 + xs, *v14 = v13 + xs,
          *v15 = v14 + xs;
#pragma omp simd
    for (int t = 0; t < b - a; t++) {
      const int x = 2 * t;
      const float a00 = r0[x], a01 = r0[x + 1], a02 = r0[x + 2], a03 = r0[x + 3];
      const float a10 = r1[x], a11 = r1[x + 1], a12 = r1[x + 2], a13 = r1[x + 3];
      const float a20 = r2[x], a21 = r2[x + 1], a22 = r2[x + 2], a23 = r2[x + 3];
      const float a30 = r3[x], a31 = r3[x + 1], a32 = r3[x + 2], a33 = r3[x + 3];
      /* rows: t_i = (B^T d)_i */
      const float t00 = a00 - a20, t01 = a01 - a21, t02 = a02 - a22, t03 = a03 - a23;
      const float t10 = a10 + a20, t11 = a11 + a21, t12 = a12 + a22, t13 = a13 + a23;
      const float t20 = a20 - a10, t21 = a21 - a11, t22 = a22 - a12, t23 = a23 - a13;
      const float t30 = a10 - a30, t31 = a11 - a31, t32 = a12 - a32, t33 = a13 - a33;
      v0[t] = t00 - t02, v1[t] = t01 + t02, v2[t] = t02 - t01, v3[t] = t01 - t03;
      v4[t] = t10 - t12, v5[t] = t11 + t12, v6[t] = t12 - t11, v7[t] = t11 - t13;
      v8[t] = t20 - t22, v9[t] = t21 + t22, v10[t] = t22 - t21, v11[t] = t21 - t23;
      v12[t] = t30 - t32, v13[t] = t31 + t32, v14[t] = t32 - t31, v15[t] = t31 - t33;
    }
    tx = b;
  }
  for (; tx < tw; tx++) tile_in_border(r, w, 2 * tx - p, v + tx, xs);
}

/* ---------------------------------------------------------------- output transform */

/* Tiles [0, nf) of a tile row, all four outputs inside the plane: m[xi * xs + tx] ->
 * y0[2tx..2tx+1], y1[2tx..2tx+1] (two output rows), residual rows q0, q1 when has_res.
 * has_res and relu are constants at each call, so each variant is its own simple loop. */
static inline void output_full(const float *m, size_t xs, int nf, float bias, const float *q0,
                               const float *q1, int has_res, int relu, float *y0, float *y1) {
  const float *m0 = m, *m1 = m + xs, *m2 = m + 2 * xs, *m3 = m + 3 * xs, *m4 = m + 4 * xs,
              *m5 = m + 5 * xs, *m6 = m + 6 * xs, *m7 = m + 7 * xs, *m8 = m + 8 * xs,
              *m9 = m + 9 * xs, *m10 = m + 10 * xs, *m11 = m + 11 * xs, *m12 = m + 12 * xs,
              *m13 = m + 13 * xs, *m14 = m + 14 * xs, *m15 = m + 15 * xs;
#pragma omp simd
  for (int t = 0; t < nf; t++) {
    /* s_a = (A^T M)_a */
    const float s00 = m0[t] + m4[t] + m8[t], s01 = m1[t] + m5[t] + m9[t],
                s02 = m2[t] + m6[t] + m10[t], s03 = m3[t] + m7[t] + m11[t];
    const float s10 = m4[t] - m8[t] - m12[t], s11 = m5[t] - m9[t] - m13[t],
                s12 = m6[t] - m10[t] - m14[t], s13 = m7[t] - m11[t] - m15[t];
    float o00 = s00 + s01 + s02 + bias, o01 = s01 - s02 - s03 + bias;
    float o10 = s10 + s11 + s12 + bias, o11 = s11 - s12 - s13 + bias;
    if (has_res) {
      o00 += q0[2 * t], o01 += q0[2 * t + 1];
      o10 += q1[2 * t], o11 += q1[2 * t + 1];
    }
    if (relu) {
      o00 = o00 > 0.f ? o00 : 0.f, o01 = o01 > 0.f ? o01 : 0.f;
      o10 = o10 > 0.f ? o10 : 0.f, o11 = o11 > 0.f ? o11 : 0.f;
    }
    y0[2 * t] = o00, y0[2 * t + 1] = o01;
    y1[2 * t] = o10, y1[2 * t + 1] = o11;
  }
}

static inline float act(float v, int relu) { return relu && !(v > 0.f) ? 0.f : v; }

/* One tile at column tx, clipped to the plane: outputs (oy + i, 2tx + j) for i < rows,
 * 2tx + j < wo. */
static void output_clipped(const float *m, size_t xs, int tx, int rows, int wo, float bias,
                           const float *q0, const float *q1, int relu, float *y0, float *y1) {
  float s[2][4];
  for (int j = 0; j < 4; j++) {
    const float a0 = m[(size_t)j * xs + tx], a1 = m[(size_t)(4 + j) * xs + tx],
                a2 = m[(size_t)(8 + j) * xs + tx], a3 = m[(size_t)(12 + j) * xs + tx];
    s[0][j] = a0 + a1 + a2;
    s[1][j] = a1 - a2 - a3;
  }
  float *yr[2] = {y0, y1};
  const float *qr[2] = {q0, q1};
  for (int i = 0; i < rows; i++) {
    const float o[2] = {s[i][0] + s[i][1] + s[i][2] + bias, s[i][1] - s[i][2] - s[i][3] + bias};
    for (int j = 0; j < 2 && 2 * tx + j < wo; j++)
      yr[i][2 * tx + j] = act(o[j] + (qr[i] ? qr[i][2 * tx + j] : 0.f), relu);
  }
}

/* The tw tiles of tile row ty from m[xi * xs + tx] -> A^T M A + bias (+ res), ReLU, into the
 * plane yp [ho][wo] (res plane rp or NULL), clipping the last row/column of odd sizes. */
static void output_row(const float *m, size_t xs, int tw, int ty, int ho, int wo, float bias,
                       const float *rp, int relu, float *yp) {
  const int oy = 2 * ty, rows = oy + 1 < ho ? 2 : 1;
  float *y0 = yp + (size_t)oy * wo, *y1 = rows == 2 ? y0 + wo : NULL;
  const float *q0 = rp ? rp + (size_t)oy * wo : NULL, *q1 = rp && rows == 2 ? q0 + wo : NULL;
  const int nf = rows == 2 ? wo / 2 : 0; /* tiles with all four outputs inside */
  if (rp) {
    if (relu) output_full(m, xs, nf, bias, q0, q1, 1, 1, y0, y1);
    else output_full(m, xs, nf, bias, q0, q1, 1, 0, y0, y1);
  } else {
    if (relu) output_full(m, xs, nf, bias, NULL, NULL, 0, 1, y0, y1);
    else output_full(m, xs, nf, bias, NULL, NULL, 0, 0, y0, y1);
  }
  for (int tx = nf; tx < tw; tx++)
    output_clipped(m, xs, tx, rows, wo, bias, q0, q1, relu, y0, y1);
}

/* ---------------------------------------------------------------- forward */

void lac_wino_conv2d_cnhw(const lac_conv2d *c, const float *u, const float *x, int n, int h,
                          int w, float *y, const float *res, int relu, float *ws, int n_threads) {
  const int cin = c->cin, cout = c->cout, p = c->pad;
  const int ho = lac_conv_out(h, 3, 1, p), wo = lac_conv_out(w, 3, 1, p);
  const int th = (ho + 1) / 2, tw = (wo + 1) / 2;
  const int n_rows = n * th; /* tile rows (frame, ty) over the batch */
  const int rpc = rows_per_chunk(c, n, h, w);
  const size_t in_plane = (size_t)h * w, out_plane = (size_t)ho * wo;
  (void)n_threads;
  for (int r0 = 0; r0 < n_rows; r0 += rpc) {
    const int nr = r0 + rpc <= n_rows ? rpc : n_rows - r0;
    const int nt = nr * tw; /* tiles in this chunk: the GEMMs' N */
    /* v[16][cin][nt] and m[16][cout][nt], matrix xi at v + xi * vs, m + xi * ms */
    const size_t vs = xi_stride((size_t)cin * nt), ms = xi_stride((size_t)cout * nt);
    float *v = ws, *m = ws + 16 * vs;
#pragma omp parallel num_threads(n_threads)
    {
#pragma omp for schedule(static)
      for (int job = 0; job < cin * nr; job++) {
        const int ci = job / nr, r = job % nr, f = (r0 + r) / th, ty = (r0 + r) % th;
        input_row(x + ((size_t)ci * n + f) * in_plane, h, w, p, ty, tw,
                  v + (size_t)ci * nt + (size_t)r * tw, vs);
      }
      /* inside a parallel region OpenBLAS (OpenMP build) runs each call on one thread */
#pragma omp for schedule(static)
      for (int xi = 0; xi < 16; xi++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cout, nt, cin, 1.f,
                    u + (size_t)xi * cout * cin, cin, v + xi * vs, nt, 0.f, m + xi * ms, nt);
#pragma omp for schedule(static)
      for (int job = 0; job < cout * nr; job++) {
        const int co = job / nr, r = job % nr, f = (r0 + r) / th, ty = (r0 + r) % th;
        const size_t po = ((size_t)co * n + f) * out_plane;
        output_row(m + (size_t)co * nt + (size_t)r * tw, ms, tw, ty, ho, wo,
                   c->b ? c->b[co] : 0.f, res ? res + po : NULL, relu, y + po);
      }
    }
  }
}
