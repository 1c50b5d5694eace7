/* layers.h — the encoder's layers on the CPU, each beside its naive oracle.
 *
 * Activation layout of the convolutional trunk is "CNHW": channel-major over the whole
 * batch of frames (x[c][n][h][w]), so that a 1x1 convolution of a batch is one GEMM
 * W[Cout x Cin] * X[Cin x N*H*W] and a k x k convolution is one im2col + GEMM per chunk
 * of frames.  The *_naive functions take PyTorch's NCHW, loop directly, accumulate in
 * double, and exist only as oracles for the tests.
 *
 * All forward functions overwrite their outputs (`=`, never `+=`).  Nothing here
 * allocates: callers pass workspaces sized by the *_ws_floats functions.
 */
#ifndef LAC_LAYERS_H
#define LAC_LAYERS_H

#include <stddef.h>

/* A 2-D convolution with BatchNorm already folded into w and b.
 * w: [cout][cin*k*k] (PyTorch's [cout][cin][k][k]); b: [cout] or NULL.
 * wino: NULL (im2col + GEMM), or for a conv where lac_wino_applies, the Winograd weights
 * u[16][cout][cin] made from w by lac_wino_weights: lac_conv2d_cnhw then takes the
 * Winograd F(2x2, 3x3) path (winograd.c).  Ignored where lac_wino_applies is false. */
typedef struct {
  int cin, cout, k, stride, pad;
  const float *w;
  const float *b;
  const float *wino;
} lac_conv2d;

static inline int lac_conv_out(int in, int k, int stride, int pad) {
  return (in + 2 * pad - k) / stride + 1;
}

/* Workspace (floats) for lac_conv2d_cnhw on n frames of h x w (for the path c->wino picks). */
size_t lac_conv2d_ws_floats(const lac_conv2d *c, int n, int h, int w);

/* y[cout][n][ho][wo] = act(conv(x) + b + res), x[cin][n][h][w], res like y or NULL,
 * relu 0/1.  x, y and res must not overlap (res may equal nothing else).  Runs on n_threads
 * OpenMP threads, each calling sgemm on its own share of the work: the OpenMP build of
 * OpenBLAS runs such calls single-threaded; with n_threads = 1, OpenBLAS's own thread
 * count applies.  (With the pthreads build the calls still work, but its pool and ours
 * compete: measured 2x slower on 2 cores.) */
void lac_conv2d_cnhw(const lac_conv2d *c, const float *x, int n, int h, int w, float *y,
                     const float *res, int relu, float *ws, int n_threads);

/* Winograd F(2x2, 3x3) (winograd.c), for k = 3, stride 1, pad 0 or 1 only. */
int lac_wino_applies(const lac_conv2d *c);
/* Floats of u: 16 * cout * cin. */
size_t lac_wino_weight_floats(const lac_conv2d *c);
/* u[16][cout][cin]: xi = 4i + j holds (G g G^T)[i][j] of each 3x3 kernel g = c->w[co][ci]. */
void lac_wino_weights(const lac_conv2d *c, float *u);
/* Workspace (floats) of lac_wino_conv2d_cnhw on n frames of h x w. */
size_t lac_wino_ws_floats(const lac_conv2d *c, int n, int h, int w);
/* As lac_conv2d_cnhw, with u from lac_wino_weights (c->w and c->wino are not read). */
void lac_wino_conv2d_cnhw(const lac_conv2d *c, const float *u, const float *x, int n, int h,
                          int w, float *y, const float *res, int relu, float *ws, int n_threads);

/* Oracle: y[n][cout][ho][wo] = conv(x) + b, x[n][cin][h][w]; no activation. */
void lac_conv2d_naive_nchw(const lac_conv2d *c, const float *x, int n, int h, int w, float *y);

/* The LAC head's Conv3d: kernel 3x3x3, stride 1, padding (1, 0, 0), folded BN, ReLU, on
 * n_groups clips of `ctx` frames each.  w: [cout][cin*27] (PyTorch [cout][cin][3][3][3]).
 * x[cin][n_groups*ctx][h][w] -> y[cout][n_groups*ctx][h-2][w-2]. */
size_t lac_conv3d_ws_floats(int cin, int n_groups, int ctx, int h, int w);
void lac_conv3d_cnhw(int cin, int cout, const float *w3, const float *b, const float *x,
                     int n_groups, int ctx, int h, int w, float *y, int relu, float *ws,
                     int n_threads);
/* Oracle: x[g][cin][ctx][h][w] -> y[g][cout][ctx][h-2][w-2] = conv3d(x) + b. */
void lac_conv3d_naive(int cin, int cout, const float *w3, const float *b, const float *x,
                      int n_groups, int ctx, int h, int w, float *y);
/* The 3x3 middle temporal slice w3[:, :, 1] as a 2-D kernel [cout][cin*9] (c = 1 path). */
void lac_conv3d_middle_slice(int cin, int cout, const float *w3, float *w2);

/* Fold eval-mode BatchNorm into the preceding conv: w_out = w * g/sqrt(v+eps),
 * b_out = (b - m) * g/sqrt(v+eps) + beta.  per_out = weights per output channel. */
void lac_bn_fold(const float *w, const float *b, const float *gamma, const float *beta,
                 const float *mean, const float *var, float eps, int cout, size_t per_out,
                 float *w_out, float *b_out);

/* MaxPool 3x3 stride 2 padding 1 on CNHW (c*n planes). */
void lac_maxpool3s2_cnhw(const float *x, int planes, int h, int w, float *y, int n_threads);
void lac_maxpool3s2_naive(const float *x, int planes, int h, int w, float *y);

/* out[g][c] = max over ctx frames and h x w of x[c][g*ctx + t][h][w]. */
void lac_global_maxpool_cnhw(const float *x, int c, int n_groups, int ctx, int hw, float *out,
                             int n_threads);

/* Layout changes for n planes-per-frame tensors: NCHW <-> CNHW. */
void lac_nchw_to_cnhw(const float *x, int n, int c, int hw, float *y);
void lac_cnhw_to_nchw(const float *x, int n, int c, int hw, float *y);

/* Linear: y[rows][out] = x[rows][in] * W^T + b (W [out][in], PyTorch), optional ReLU.
 * Uses BLAS; y must not alias x. */
void lac_linear(const float *x, int rows, int in, const float *w, const float *b, int out,
                float *y, int relu);
void lac_linear_naive(const float *x, int rows, int in, const float *w, const float *b, int out,
                      float *y);

/* In-place LayerNorm over the last dim d of rows vectors. */
void lac_layernorm(float *x, int rows, int d, const float *gamma, const float *beta, float eps);

/* The reference's sine-cosine encoding for a sequence of s_len steps (see METHOD.md §1):
 * pe[s_len][d], computed in double, stored as float. */
void lac_posenc(float *pe, int s_len, int d, int train_len);

/* Multi-head self-attention (PyTorch nn.MultiheadAttention, eval) over one sequence.
 * in_w [3d][d], in_b [3d], out_w [d][d], out_b [d].  x[s][d] -> y[s][d].
 * per_token != 0: each token attends only to itself (the reference's behaviour).
 * ws: lac_mha_ws_floats(s, d) floats. */
typedef struct {
  const float *in_w, *in_b, *out_w, *out_b;
  const float *l1_w, *l1_b, *l2_w, *l2_b;
  const float *n1_w, *n1_b, *n2_w, *n2_b;
  int d, n_heads, ff;
} lac_tlayer;

size_t lac_mha_ws_floats(int s, int d);
void lac_mha(const lac_tlayer *t, const float *x, int s, int per_token, float *y, float *ws);
/* Oracle: direct loops in double. */
void lac_mha_naive(const lac_tlayer *t, const float *x, int s, int per_token, float *y);

/* Post-norm transformer encoder layer, in place on x[s][d]. */
size_t lac_tlayer_ws_floats(int s, int d, int ff);
void lac_tlayer_forward(const lac_tlayer *t, float *x, int s, int per_token, float *ws);

#endif /* LAC_LAYERS_H */
