/* test_layers.c — every CPU layer against PyTorch reference tensors (tests/ref/, made by
 * tools/gen_reference.py layers) and every optimised kernel against its naive loop oracle.
 *
 * Tolerance: max |ours - ref| / max |ref| <= 1e-4 unless a case states otherwise (float32
 * summation order differs from PyTorch's; the naive oracles accumulate in double).
 * Usage: test_layers REF_DIR */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lac/safetensors.h"
#include "lac_internal.h"
#include "layers/layers.h"
#include "testutil.h"

#define TOL 1e-4

static const char *ref_dir;

typedef struct {
  lac_st_file *f;
  float *bufs[64];
  int nbufs;
} ref;

static int ref_open(ref *r, const char *name) {
  char path[1024];
  lac_error err;
  memset(r, 0, sizeof *r);
  snprintf(path, sizeof path, "%s/%s.safetensors", ref_dir, name);
  lac_status st = lac_st_read(path, &r->f, &err);
  CHECK(st == LAC_OK, "cannot read %s: %s", path, err.message);
  return st == LAC_OK;
}

/* an aligned float copy of a tensor (NULL when missing: a failed check) */
static float *T(ref *r, const char *name, size_t *n) {
  const lac_st_tensor *t = lac_st_find(r->f, name);
  CHECK(t && t->dtype == LAC_DTYPE_F32, "reference tensor '%s' missing or not F32", name);
  if (!t || t->dtype != LAC_DTYPE_F32) return NULL;
  float *p = malloc(t->n_bytes + 4);
  memcpy(p, t->data, t->n_bytes);
  r->bufs[r->nbufs++] = p;
  if (n) *n = (size_t)t->n_elements;
  return p;
}

static const lac_st_tensor *TD(ref *r, const char *name) { return lac_st_find(r->f, name); }

static int meta_int(ref *r, const char *key) {
  const char *v = lac_st_meta_get(r->f, key);
  CHECK(v != NULL, "metadata '%s' missing", key);
  return v ? atoi(v) : 0;
}

static void ref_close(ref *r) {
  for (int i = 0; i < r->nbufs; i++) free(r->bufs[i]);
  lac_st_free(r->f);
}

static float *falloc(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static unsigned test_rng = 12345u;
static float frand(void) { /* uniform in [-1, 1) */
  test_rng = test_rng * 1664525u + 1013904223u;
  return (float)(test_rng >> 8) / 8388608.f - 1.f;
}

/* A copy of c with Winograd weights (*u, for the caller to free). */
static lac_conv2d with_wino(const lac_conv2d *c, float **u) {
  lac_conv2d cw = *c;
  *u = falloc(lac_wino_weight_floats(c));
  lac_wino_weights(c, *u);
  cw.wino = *u;
  return cw;
}

/* A workspace of lac_conv2d_ws_floats(c, ...) floats, all NaN: nothing may read it
 * before writing it. */
static float *ws_poisoned(const lac_conv2d *c, int n, int h, int w) {
  const size_t k = lac_conv2d_ws_floats(c, n, h, w);
  float *ws = falloc(k);
  for (size_t i = 0; i < k; i++) ws[i] = NAN;
  return ws;
}

/* ---------------------------------------------------------------- convolutions */

static void test_conv(const char *name) {
  ref r;
  if (!ref_open(&r, name)) return;
  const lac_st_tensor *xi = TD(&r, "input"), *wi = TD(&r, "weight"), *yi = TD(&r, "output");
  float *x = T(&r, "input", NULL), *w = T(&r, "weight", NULL), *yref = T(&r, "output", NULL);
  float *b = TD(&r, "bias") ? T(&r, "bias", NULL) : NULL;
  if (!x || !w || !yref) goto out;
  const int n = (int)xi->shape[0], cin = (int)xi->shape[1], h = (int)xi->shape[2],
            wd = (int)xi->shape[3];
  lac_conv2d c = {cin, (int)wi->shape[0], (int)wi->shape[2], meta_int(&r, "stride"),
                  meta_int(&r, "padding"), w, b, NULL};
  const int ho = (int)yi->shape[2], wo = (int)yi->shape[3];
  CHECK(ho == lac_conv_out(h, c.k, c.stride, c.pad) && wo == lac_conv_out(wd, c.k, c.stride, c.pad),
        "%s: output size formula", name);
  const size_t ny = (size_t)yi->n_elements, nx = (size_t)xi->n_elements;
  /* naive oracle vs PyTorch */
  float *ynaive = falloc(ny);
  lac_conv2d_naive_nchw(&c, x, n, h, wd, ynaive);
  double e1 = test_rel_err(ynaive, yref, ny, 1e-6);
  CHECK(e1 <= TOL, "%s: naive vs PyTorch rel err %.3g", name, e1);
  /* im2col + GEMM (CNHW) vs the naive oracle, with a poisoned output */
  float *xc = falloc(nx), *yc = falloc(ny), *y = falloc(ny), *ws = falloc(lac_conv2d_ws_floats(&c, n, h, wd));
  for (size_t i = 0; i < ny; i++) yc[i] = NAN;
  lac_nchw_to_cnhw(x, n, cin, h * wd, xc);
  lac_conv2d_cnhw(&c, xc, n, h, wd, yc, NULL, 0, ws, 2);
  lac_cnhw_to_nchw(yc, n, c.cout, ho * wo, y);
  double e2 = test_rel_err(y, ynaive, ny, 1e-6);
  CHECK(e2 <= TOL, "%s: im2col+GEMM vs naive rel err %.3g", name, e2);
  /* fused residual + ReLU epilogue */
  float *res = falloc(ny), *yr = falloc(ny);
  for (size_t i = 0; i < ny; i++) res[i] = (float)sin((double)i);
  lac_conv2d_cnhw(&c, xc, n, h, wd, yc, res, 1, ws, 1);
  int bad = 0;
  lac_cnhw_to_nchw(res, n, c.cout, ho * wo, yr); /* res in NCHW order */
  float *yf = falloc(ny);
  lac_cnhw_to_nchw(yc, n, c.cout, ho * wo, yf);
  for (size_t i = 0; i < ny; i++) {
    float want = ynaive[i] + yr[i];
    want = want > 0 ? want : 0;
    if (fabsf(yf[i] - want) > 1e-4f * (1 + fabsf(want))) bad++;
  }
  CHECK(bad == 0, "%s: residual+ReLU epilogue wrong at %d outputs", name, bad);
  if (lac_wino_applies(&c)) {
    /* Winograd F(2x2, 3x3) vs the naive oracle and PyTorch, poisoned output and workspace */
    float *u;
    const lac_conv2d cw = with_wino(&c, &u);
    float *wws = ws_poisoned(&cw, n, h, wd);
    for (size_t i = 0; i < ny; i++) yc[i] = NAN;
    lac_conv2d_cnhw(&cw, xc, n, h, wd, yc, NULL, 0, wws, 2);
    lac_cnhw_to_nchw(yc, n, c.cout, ho * wo, y);
    double e3 = test_rel_err(y, ynaive, ny, 1e-6), e4 = test_rel_err(y, yref, ny, 1e-6);
    CHECK(e3 <= TOL, "%s: Winograd vs naive rel err %.3g", name, e3);
    CHECK(e4 <= TOL, "%s: Winograd vs PyTorch rel err %.3g", name, e4);
    for (size_t i = 0; i < ny; i++) yc[i] = NAN;
    lac_conv2d_cnhw(&cw, xc, n, h, wd, yc, res, 1, wws, 1);
    lac_cnhw_to_nchw(yc, n, c.cout, ho * wo, yf);
    bad = 0;
    for (size_t i = 0; i < ny; i++) {
      float want = ynaive[i] + yr[i];
      want = want > 0 ? want : 0;
      if (!(fabsf(yf[i] - want) <= 1e-4f * (1 + fabsf(want)))) bad++;
    }
    CHECK(bad == 0, "%s: Winograd residual+ReLU wrong at %d outputs", name, bad);
    free(u), free(wws);
  }
  free(ynaive), free(xc), free(yc), free(y), free(ws), free(res), free(yr), free(yf);
out:
  ref_close(&r);
}

static void test_conv_bn_relu(void) {
  ref r;
  if (!ref_open(&r, "conv_bn_relu")) return;
  const lac_st_tensor *xi = TD(&r, "input"), *wi = TD(&r, "conv.weight");
  float *x = T(&r, "input", NULL), *w = T(&r, "conv.weight", NULL), *yref = T(&r, "output", NULL);
  float *g = T(&r, "bn.weight", NULL), *be = T(&r, "bn.bias", NULL),
        *mu = T(&r, "bn.running_mean", NULL), *var = T(&r, "bn.running_var", NULL);
  if (!x || !w || !yref || !g || !be || !mu || !var) goto out;
  const int n = (int)xi->shape[0], cin = (int)xi->shape[1], h = (int)xi->shape[2],
            wd = (int)xi->shape[3], cout = (int)wi->shape[0];
  const size_t per = (size_t)cin * 9, ny = (size_t)n * cout * h * wd;
  float *wf = falloc(cout * per), *bf = falloc(cout);
  lac_bn_fold(w, NULL, g, be, mu, var, 1e-5f, cout, per, wf, bf);
  lac_conv2d c = {cin, cout, 3, 1, 1, wf, bf, NULL};
  float *xc = falloc((size_t)n * cin * h * wd), *yc = falloc(ny), *y = falloc(ny);
  float *ws = falloc(lac_conv2d_ws_floats(&c, n, h, wd));
  lac_nchw_to_cnhw(x, n, cin, h * wd, xc);
  lac_conv2d_cnhw(&c, xc, n, h, wd, yc, NULL, 1, ws, 2);
  lac_cnhw_to_nchw(yc, n, cout, h * wd, y);
  double e = test_rel_err(y, yref, ny, 1e-6);
  CHECK(e <= TOL, "conv+BN(folded)+ReLU vs PyTorch rel err %.3g", e);
  /* the same through Winograd, and against the naive oracle + ReLU */
  float *u, *yn = falloc(ny), *xn = falloc((size_t)n * cin * h * wd);
  const lac_conv2d cw = with_wino(&c, &u);
  float *wws = ws_poisoned(&cw, n, h, wd);
  for (size_t i = 0; i < ny; i++) yc[i] = NAN;
  lac_conv2d_cnhw(&cw, xc, n, h, wd, yc, NULL, 1, wws, 2);
  lac_cnhw_to_nchw(yc, n, cout, h * wd, y);
  e = test_rel_err(y, yref, ny, 1e-6);
  CHECK(e <= TOL, "conv+BN(folded)+ReLU, Winograd vs PyTorch rel err %.3g", e);
  memcpy(xn, x, sizeof(float) * (size_t)n * cin * h * wd);
  lac_conv2d_naive_nchw(&c, xn, n, h, wd, yn);
  for (size_t i = 0; i < ny; i++) yn[i] = yn[i] > 0 ? yn[i] : 0;
  e = test_rel_err(y, yn, ny, 1e-6);
  CHECK(e <= TOL, "conv+BN(folded)+ReLU, Winograd vs naive rel err %.3g", e);
  free(u), free(wws), free(yn), free(xn);
  free(wf), free(bf), free(xc), free(yc), free(y), free(ws);
out:
  ref_close(&r);
}

static void test_conv3d(const char *name) {
  ref r;
  if (!ref_open(&r, name)) return;
  const lac_st_tensor *xi = TD(&r, "input"), *wi = TD(&r, "conv.weight"), *yi = TD(&r, "output");
  float *x = T(&r, "input", NULL), *w = T(&r, "conv.weight", NULL), *cb = T(&r, "conv.bias", NULL),
        *yref = T(&r, "output", NULL);
  float *g = T(&r, "bn.weight", NULL), *be = T(&r, "bn.bias", NULL),
        *mu = T(&r, "bn.running_mean", NULL), *var = T(&r, "bn.running_var", NULL);
  if (!x || !w || !cb || !yref || !g || !be || !mu || !var) goto out;
  const int ng = (int)xi->shape[0], cin = (int)xi->shape[1], ctx = (int)xi->shape[2],
            h = (int)xi->shape[3], wd = (int)xi->shape[4], cout = (int)wi->shape[0];
  CHECK(ctx == meta_int(&r, "context"), "%s: context metadata", name);
  const size_t ny = (size_t)yi->n_elements, per3 = (size_t)cin * 27;
  float *wf = falloc(cout * per3), *bf = falloc(cout);
  lac_bn_fold(w, cb, g, be, mu, var, 1e-5f, cout, per3, wf, bf);
  /* naive 3-D oracle + ReLU vs PyTorch */
  float *yn = falloc(ny);
  lac_conv3d_naive(cin, cout, wf, bf, x, ng, ctx, h, wd, yn);
  for (size_t i = 0; i < ny; i++) yn[i] = yn[i] > 0 ? yn[i] : 0;
  double e1 = test_rel_err(yn, yref, ny, 1e-6);
  CHECK(e1 <= TOL, "%s: naive conv3d vs PyTorch rel err %.3g", name, e1);
  /* optimised: x[g][ci][t] is NCHW with n = g*ctx frames after a (ci, t) swap */
  const int n = ng * ctx, hw = h * wd, ho = h - 2, wo = wd - 2;
  float *xc = falloc((size_t)cin * n * hw), *yc = falloc(ny), *y = falloc(ny);
  for (int gi = 0; gi < ng; gi++)
    for (int ci = 0; ci < cin; ci++)
      for (int t = 0; t < ctx; t++)
        memcpy(xc + ((size_t)ci * n + gi * ctx + t) * hw, x + (((size_t)gi * cin + ci) * ctx + t) * hw,
               sizeof(float) * hw);
  float *ws;
  if (ctx == 1) {
    float *w2 = falloc((size_t)cout * cin * 9);
    lac_conv3d_middle_slice(cin, cout, wf, w2);
    lac_conv2d c = {cin, cout, 3, 1, 0, w2, bf, NULL};
    ws = falloc(lac_conv2d_ws_floats(&c, n, h, wd));
    lac_conv2d_cnhw(&c, xc, n, h, wd, yc, NULL, 1, ws, 2);
    /* the encoder's c = 1 head path: the same 2-D conv through Winograd; n frames of one
     * group each, so yc [cout][n][ho][wo] is also NCHW-by-group after the swap below */
    float *u, *yw = falloc(ny), *ywn = falloc(ny);
    const lac_conv2d cw = with_wino(&c, &u);
    float *wws = ws_poisoned(&cw, n, h, wd);
    for (size_t i = 0; i < ny; i++) yw[i] = NAN;
    lac_conv2d_cnhw(&cw, xc, n, h, wd, yw, NULL, 1, wws, 2);
    lac_cnhw_to_nchw(yw, n, cout, ho * wo, ywn);
    double ew = test_rel_err(ywn, yn, ny, 1e-6), ewr = test_rel_err(ywn, yref, ny, 1e-6);
    CHECK(ew <= TOL, "%s: Winograd 2-D path vs naive rel err %.3g", name, ew);
    CHECK(ewr <= TOL, "%s: Winograd 2-D path vs PyTorch rel err %.3g", name, ewr);
    free(u), free(yw), free(ywn), free(wws);
    free(w2);
  } else {
    ws = falloc(lac_conv3d_ws_floats(cin, ng, ctx, h, wd));
    lac_conv3d_cnhw(cin, cout, wf, bf, xc, ng, ctx, h, wd, yc, 1, ws, 2);
  }
  for (int gi = 0; gi < ng; gi++)
    for (int co = 0; co < cout; co++)
      for (int t = 0; t < ctx; t++)
        memcpy(y + (((size_t)gi * cout + co) * ctx + t) * ho * wo,
               yc + ((size_t)co * n + gi * ctx + t) * ho * wo, sizeof(float) * ho * wo);
  double e2 = test_rel_err(y, yn, ny, 1e-6);
  CHECK(e2 <= TOL, "%s: optimised conv3d vs naive rel err %.3g", name, e2);
  free(wf), free(bf), free(yn), free(xc), free(yc), free(y), free(ws);
out:
  ref_close(&r);
}

static void test_maxpool(void) {
  ref r;
  if (!ref_open(&r, "maxpool")) return;
  const lac_st_tensor *xi = TD(&r, "input");
  size_t ny;
  float *x = T(&r, "input", NULL), *yref = T(&r, "output", &ny);
  if (!x || !yref) goto out;
  const int planes = (int)(xi->shape[0] * xi->shape[1]), h = (int)xi->shape[2], w = (int)xi->shape[3];
  float *y1 = falloc(ny), *y2 = falloc(ny);
  lac_maxpool3s2_naive(x, planes, h, w, y1);
  lac_maxpool3s2_cnhw(x, planes, h, w, y2, 2); /* plane order does not matter */
  CHECK(test_rel_err(y1, yref, ny, 1e-6) == 0, "naive maxpool differs from PyTorch");
  CHECK(test_rel_err(y2, yref, ny, 1e-6) == 0, "maxpool differs from PyTorch");
  free(y1), free(y2);
out:
  ref_close(&r);
}

/* The max pool's interior fast path and its borders on every small size vs the oracle. */
static void test_maxpool_sizes(void) {
  for (int h = 1; h <= 12; h++)
    for (int w = 1; w <= 12; w++) {
      const int planes = 3, ho = lac_conv_out(h, 3, 2, 1), wo = lac_conv_out(w, 3, 2, 1);
      const size_t nx = (size_t)planes * h * w, ny = (size_t)planes * ho * wo;
      float *x = falloc(nx), *y1 = falloc(ny), *y2 = falloc(ny + 16);
      for (size_t i = 0; i < nx; i++) x[i] = frand();
      for (size_t i = 0; i < ny + 16; i++) y2[i] = NAN;
      lac_maxpool3s2_naive(x, planes, h, w, y1);
      lac_maxpool3s2_cnhw(x, planes, h, w, y2, 2);
      int bad = 0;
      for (size_t i = 0; i < ny; i++) bad += y1[i] != y2[i];
      for (size_t i = ny; i < ny + 16; i++) bad += !isnan(y2[i]);
      CHECK(bad == 0, "maxpool %dx%d: %d outputs differ from the oracle", h, w, bad);
      free(x), free(y1), free(y2);
    }
}

/* ---------------------------------------------------------------- residual blocks */

static void fold_named(ref *r, const char *conv, const char *bn, int stride, int pad,
                       lac_conv2d *c, float **keep) {
  char n[5][64];
  snprintf(n[0], 64, "%s.weight", conv);
  snprintf(n[1], 64, "%s.weight", bn);
  snprintf(n[2], 64, "%s.bias", bn);
  snprintf(n[3], 64, "%s.running_mean", bn);
  snprintf(n[4], 64, "%s.running_var", bn);
  const lac_st_tensor *wi = TD(r, n[0]);
  float *w = T(r, n[0], NULL), *g = T(r, n[1], NULL), *b = T(r, n[2], NULL), *m = T(r, n[3], NULL),
        *v = T(r, n[4], NULL);
  memset(c, 0, sizeof *c);
  if (!wi || !w || !g || !b || !m || !v) return;
  c->cout = (int)wi->shape[0];
  c->cin = (int)wi->shape[1];
  c->k = (int)wi->shape[2];
  c->stride = stride;
  c->pad = pad;
  const size_t per = (size_t)wi->n_elements / c->cout;
  keep[0] = falloc(wi->n_elements);
  keep[1] = falloc(c->cout);
  lac_bn_fold(w, NULL, g, b, m, v, 1e-5f, c->cout, per, keep[0], keep[1]);
  c->w = keep[0];
  c->b = keep[1];
}

/* wino: the 3x3 stride-1 convs take the Winograd path */
static void test_block(const char *name, int wino) {
  ref r;
  if (!ref_open(&r, name)) return;
  const lac_st_tensor *xi = TD(&r, "input"), *yi = TD(&r, "output");
  float *x = T(&r, "input", NULL), *yref = T(&r, "output", NULL);
  const char *kind = lac_st_meta_get(r.f, "kind");
  const int stride = meta_int(&r, "stride");
  CHECK(kind != NULL, "%s: kind metadata", name);
  if (!x || !yref || !kind) goto out;
  const int bottleneck = !strcmp(kind, "bottleneck");
  const int has_down = TD(&r, "downsample.0.weight") != NULL;
  lac_conv2d c1, c2, c3, dn;
  float *keep[8] = {0};
  fold_named(&r, "conv1", "bn1", bottleneck ? 1 : stride, bottleneck ? 0 : 1, &c1, keep);
  fold_named(&r, "conv2", "bn2", bottleneck ? stride : 1, 1, &c2, keep + 2);
  if (bottleneck) fold_named(&r, "conv3", "bn3", 1, 0, &c3, keep + 4);
  if (has_down) fold_named(&r, "downsample.0", "downsample.1", stride, 0, &dn, keep + 6);
  float *u[3] = {NULL, NULL, NULL};
  lac_conv2d *cs[3] = {&c1, &c2, &c3};
  int n_wino = 0;
  for (int i = 0; i < (bottleneck ? 3 : 2) && wino; i++)
    if (cs[i]->w && lac_wino_applies(cs[i])) {
      *cs[i] = with_wino(cs[i], &u[i]);
      n_wino++;
    }
  CHECK(!wino || n_wino > 0, "%s: no 3x3 stride-1 conv for Winograd", name);
  const int n = (int)xi->shape[0], cin = (int)xi->shape[1], h = (int)xi->shape[2];
  const int cout = (int)yi->shape[1], ho = (int)yi->shape[2];
  const size_t big = (size_t)n * 64 * h * h * 4;
  float *xc = falloc((size_t)n * cin * h * h), *t1 = falloc(big), *t2 = falloc(big),
        *rs = falloc(big), *o = falloc(big), *y = falloc(yi->n_elements);
  size_t nws = big * 9;
  for (int i = 0; i < (bottleneck ? 3 : 2); i++)
    if (cs[i]->w) {
      const size_t k = lac_conv2d_ws_floats(cs[i], n, h, h);
      nws = k > nws ? k : nws;
    }
  float *ws = falloc(nws);
  lac_nchw_to_cnhw(x, n, cin, h * h, xc);
  const float *res = xc;
  if (has_down) {
    lac_conv2d_cnhw(&dn, xc, n, h, h, rs, NULL, 0, ws, 2);
    res = rs;
  }
  lac_conv2d_cnhw(&c1, xc, n, h, h, t1, NULL, 1, ws, 2);
  if (bottleneck) {
    lac_conv2d_cnhw(&c2, t1, n, h, h, t2, NULL, 1, ws, 2);
    lac_conv2d_cnhw(&c3, t2, n, ho, ho, o, res, 1, ws, 2);
  } else {
    lac_conv2d_cnhw(&c2, t1, n, ho, ho, o, res, 1, ws, 2);
  }
  lac_cnhw_to_nchw(o, n, cout, ho * ho, y);
  double e = test_rel_err(y, yref, yi->n_elements, 1e-6);
  CHECK(e <= TOL, "%s: block%s vs PyTorch rel err %.3g", name, wino ? " (Winograd)" : "", e);
  for (int i = 0; i < 8; i++) free(keep[i]);
  for (int i = 0; i < 3; i++) free(u[i]);
  free(xc), free(t1), free(t2), free(rs), free(o), free(ws), free(y);
out:
  ref_close(&r);
}

/* ---------------------------------------------------------------- synthetic convolutions */

/* lac_conv2d_cnhw (Winograd when wino) vs the naive oracle on random data, without and with
 * residual + ReLU; outputs and workspace start as NaN and a guard after y must survive. */
static void check_conv_random(int cin, int cout, int k, int stride, int pad, int n, int h,
                              int w, int wino, int n_threads) {
  const int ho = lac_conv_out(h, k, stride, pad), wo = lac_conv_out(w, k, stride, pad);
  if (ho < 1 || wo < 1) return;
  const size_t nx = (size_t)n * cin * h * w, ny = (size_t)n * cout * ho * wo, guard = 64;
  float *wt = falloc((size_t)cout * cin * k * k), *b = falloc(cout), *x = falloc(nx),
        *xc = falloc(nx), *yn = falloc(ny), *res = falloc(ny), *resn = falloc(ny),
        *yc = falloc(ny + guard), *y = falloc(ny), *u = NULL;
  for (size_t i = 0; i < (size_t)cout * cin * k * k; i++) wt[i] = frand();
  for (int i = 0; i < cout; i++) b[i] = frand();
  for (size_t i = 0; i < nx; i++) x[i] = frand();
  for (size_t i = 0; i < ny; i++) res[i] = frand();
  lac_conv2d c = {cin, cout, k, stride, pad, wt, b, NULL};
  lac_conv2d_naive_nchw(&c, x, n, h, w, yn);
  lac_nchw_to_cnhw(x, n, cin, h * w, xc);
  lac_cnhw_to_nchw(res, n, cout, ho * wo, resn);
  if (wino) c = with_wino(&c, &u);
  float *ws = ws_poisoned(&c, n, h, w);
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < ny; i++) yc[i] = NAN;
    for (size_t i = 0; i < guard; i++) yc[ny + i] = 12345.f;
    lac_conv2d_cnhw(&c, xc, n, h, w, yc, pass ? res : NULL, pass, ws, n_threads);
    lac_cnhw_to_nchw(yc, n, cout, ho * wo, y);
    int bad_guard = 0;
    for (size_t i = 0; i < guard; i++) bad_guard += yc[ny + i] != 12345.f;
    CHECK(bad_guard == 0, "conv k%d s%d p%d %dx%d n%d%s: %d floats written past y", k, stride,
          pad, h, w, n, wino ? " Winograd" : "", bad_guard);
    if (pass) /* want = relu(naive + res), kept in yn's place for the comparison */
      for (size_t i = 0; i < ny; i++) {
        const float v = yn[i] + resn[i];
        resn[i] = v > 0.f ? v : 0.f;
      }
    const double e = test_rel_err(y, pass ? resn : yn, ny, 1e-6);
    CHECK(e <= TOL, "conv %d->%d k%d s%d p%d %dx%d n%d%s%s: vs naive rel err %.3g", cin, cout, k,
          stride, pad, h, w, n, wino ? " Winograd" : "", pass ? " +res+ReLU" : "", e);
  }
  free(wt), free(b), free(x), free(xc), free(yn), free(res), free(resn), free(yc), free(y);
  free(u), free(ws);
}

/* Winograd on every small size, odd and even, both paddings: partial tiles at the right
 * and bottom edges, planes smaller than one tile, borders on all sides. */
static void test_wino_sizes(void) {
  for (int pad = 0; pad <= 1; pad++)
    for (int h = 1; h <= 9; h++)
      for (int w = 1; w <= 9; w++) check_conv_random(3, 4, 3, 1, pad, 2, h, w, 1, (h + w) % 3 + 1);
}

/* Winograd over several chunks of tile rows, chunks starting mid-frame. */
static void test_wino_chunks(void) {
  check_conv_random(5, 6, 3, 1, 1, 3, 69, 71, 1, 2);
  check_conv_random(4, 3, 3, 1, 0, 3, 70, 67, 1, 3);
}

/* The im2col path with many column blocks, blocks spanning rows and frames, and more
 * blocks than one round; every kernel shape the encoder has, and 3x3 stride 1 without
 * Winograd. */
static void test_im2col_blocks(void) {
  check_conv_random(3, 8, 7, 2, 3, 3, 101, 99, 0, 2);
  check_conv_random(5, 7, 3, 2, 1, 2, 61, 64, 0, 3);
  check_conv_random(6, 9, 1, 2, 0, 2, 91, 90, 0, 2);
  check_conv_random(6, 9, 1, 1, 0, 3, 50, 51, 0, 2);
  check_conv_random(4, 5, 3, 1, 1, 2, 45, 47, 0, 2);
  check_conv_random(4, 5, 3, 1, 0, 2, 45, 47, 0, 1);
  check_conv_random(2, 4, 1, 2, 0, 14, 200, 200, 0, 2); /* 35 blocks: two rounds */
}

/* ---------------------------------------------------------------- dense layers */

static void test_linear(void) {
  ref r;
  if (!ref_open(&r, "linear")) return;
  const lac_st_tensor *xi = TD(&r, "input"), *wi = TD(&r, "weight");
  size_t ny;
  float *x = T(&r, "input", NULL), *w = T(&r, "weight", NULL), *b = T(&r, "bias", NULL),
        *yref = T(&r, "output", &ny);
  if (!x || !w || !b || !yref) goto out;
  const int rows = (int)xi->shape[0], in = (int)xi->shape[1], outd = (int)wi->shape[0];
  float *y1 = falloc(ny), *y2 = falloc(ny);
  lac_linear_naive(x, rows, in, w, b, outd, y1);
  lac_linear(x, rows, in, w, b, outd, y2, 0);
  CHECK(test_rel_err(y1, yref, ny, 1e-6) <= TOL, "naive linear vs PyTorch");
  CHECK(test_rel_err(y2, y1, ny, 1e-6) <= TOL, "BLAS linear vs naive");
  lac_linear(x, rows, in, w, b, outd, y2, 1);
  int bad = 0;
  for (size_t i = 0; i < ny; i++) bad += fabsf(y2[i] - fmaxf(y1[i], 0.f)) > 1e-5f;
  CHECK(bad == 0, "linear+ReLU wrong at %d outputs", bad);
  free(y1), free(y2);
out:
  ref_close(&r);
}

static void test_layernorm(void) {
  ref r;
  if (!ref_open(&r, "layernorm")) return;
  const lac_st_tensor *xi = TD(&r, "input");
  size_t n;
  float *x = T(&r, "input", &n), *g = T(&r, "weight", NULL), *b = T(&r, "bias", NULL),
        *yref = T(&r, "output", NULL);
  if (!x || !g || !b || !yref) goto out;
  lac_layernorm(x, (int)xi->shape[0], (int)xi->shape[1], g, b, 1e-5f);
  double e = test_rel_err(x, yref, n, 1e-6);
  CHECK(e <= TOL, "layernorm vs PyTorch rel err %.3g", e);
out:
  ref_close(&r);
}

static void test_posenc(void) {
  ref r;
  if (!ref_open(&r, "posenc")) return;
  const int d = meta_int(&r, "d"), tl = meta_int(&r, "train_len");
  const int lens[] = {32, 5, 1, 64, 100};
  for (int i = 0; i < 5; i++) {
    char name[32];
    snprintf(name, sizeof name, "pe_%d", lens[i]);
    size_t n;
    float *ref_pe = T(&r, name, &n);
    if (!ref_pe) continue;
    CHECK(n == (size_t)lens[i] * d, "%s size", name);
    float *pe = falloc(n);
    lac_posenc(pe, lens[i], d, tl);
    double maxd = 0;
    for (size_t k = 0; k < n; k++) maxd = fmax(maxd, fabs((double)pe[k] - ref_pe[k]));
    /* both are float32 roundings of the same double values */
    CHECK(maxd <= 1e-6, "%s: max abs diff %.3g", name, maxd);
    free(pe);
  }
  ref_close(&r);
}

static void test_attention(void) {
  ref r;
  if (!ref_open(&r, "mha")) return;
  const lac_st_tensor *xi = TD(&r, "input"), *wi = TD(&r, "out_proj.weight");
  size_t n;
  float *x = T(&r, "input", &n), *yref = T(&r, "output", NULL);
  lac_tlayer t = {0};
  t.in_w = T(&r, "in_proj_weight", NULL);
  t.in_b = T(&r, "in_proj_bias", NULL);
  t.out_w = T(&r, "out_proj.weight", NULL);
  t.out_b = T(&r, "out_proj.bias", NULL);
  if (!x || !yref || !t.in_w || !t.in_b || !t.out_w || !t.out_b || !wi) goto out;
  const int s = (int)xi->shape[0];
  t.d = (int)wi->shape[0];
  t.n_heads = meta_int(&r, "n_heads");
  float *y1 = falloc(n), *y2 = falloc(n), *ws = falloc(lac_mha_ws_floats(s, t.d));
  for (int per_token = 0; per_token < 2; per_token++) {
    lac_mha_naive(&t, x, s, per_token, y1);
    lac_mha(&t, x, s, per_token, y2, ws);
    double e = test_rel_err(y2, y1, n, 1e-6);
    CHECK(e <= TOL, "mha (per_token=%d) vs naive rel err %.3g", per_token, e);
    if (!per_token) {
      double e2 = test_rel_err(y1, yref, n, 1e-6);
      CHECK(e2 <= TOL, "naive mha vs PyTorch rel err %.3g", e2);
    }
  }
  free(y1), free(y2), free(ws);
out:
  ref_close(&r);
}

static void test_transformer_layer(void) {
  ref r;
  if (!ref_open(&r, "transformer_layer")) return;
  const lac_st_tensor *xi = TD(&r, "input"), *l1 = TD(&r, "linear1.weight");
  size_t n;
  float *x = T(&r, "input", &n), *yref = T(&r, "output", NULL);
  lac_tlayer t = {0};
  t.in_w = T(&r, "self_attn.in_proj_weight", NULL);
  t.in_b = T(&r, "self_attn.in_proj_bias", NULL);
  t.out_w = T(&r, "self_attn.out_proj.weight", NULL);
  t.out_b = T(&r, "self_attn.out_proj.bias", NULL);
  t.l1_w = T(&r, "linear1.weight", NULL);
  t.l1_b = T(&r, "linear1.bias", NULL);
  t.l2_w = T(&r, "linear2.weight", NULL);
  t.l2_b = T(&r, "linear2.bias", NULL);
  t.n1_w = T(&r, "norm1.weight", NULL);
  t.n1_b = T(&r, "norm1.bias", NULL);
  t.n2_w = T(&r, "norm2.weight", NULL);
  t.n2_b = T(&r, "norm2.bias", NULL);
  if (!x || !yref || !l1 || !t.n2_b) goto out;
  const int s = (int)xi->shape[0];
  t.d = (int)xi->shape[1];
  t.ff = (int)l1->shape[0];
  t.n_heads = meta_int(&r, "n_heads");
  float *ws = falloc(lac_tlayer_ws_floats(s, t.d, t.ff));
  lac_tlayer_forward(&t, x, s, 0, ws);
  double e = test_rel_err(x, yref, n, 1e-6);
  CHECK(e <= TOL, "transformer layer vs PyTorch rel err %.3g", e);
  free(ws);
out:
  ref_close(&r);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_layers REF_DIR\n");
    return 2;
  }
  ref_dir = argv[1];
  const char *convs[] = {"conv_k7s2p3", "conv_k3s1p1", "conv_k3s2p1", "conv_k1s1p0",
                         "conv_k1s2p0", "conv_k3s1p0_bias"};
  for (int i = 0; i < 6; i++) test_conv(convs[i]);
  test_conv_bn_relu();
  test_conv3d("conv3d_c1");
  test_conv3d("conv3d_c3");
  test_maxpool();
  test_maxpool_sizes();
  const char *blocks[] = {"block_bottleneck_down", "block_bottleneck_id", "block_basic_down",
                          "block_basic_id"};
  for (int i = 0; i < 4; i++) {
    test_block(blocks[i], 0);
    if (strcmp(blocks[i], "block_bottleneck_down") != 0) /* its only 3x3 conv has stride 2 */
      test_block(blocks[i], 1);
  }
  test_wino_sizes();
  test_wino_chunks();
  test_im2col_blocks();
  test_linear();
  test_layernorm();
  test_posenc();
  test_attention();
  test_transformer_layer();
  return test_exit("test_layers");
}
