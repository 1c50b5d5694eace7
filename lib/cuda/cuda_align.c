/* cuda_align.c — the host side of the CUDA smoothed Smith-Waterman (kernels/sw_affine.cu):
 * lac_cuda_sw takes host pairs (lac_sw_pair, as lac_sw_forward does), packs them into the
 * kernels' layout (kernels.h: lac_cuda_sw_dims; rows padded to a multiple of 8 floats,
 * largest pairs first), copies them to the device, runs the forward and, when a gradient is
 * asked for, the backward, and copies V, M, dS, dgo, dge back.  Per call: the inputs are
 * checked while they are packed into the backend's pinned staging buffer, one async copy
 * takes them to the device, the kernels run on the backend's stream, one async copy brings
 * the outputs back, one stream synchronisation, then unpacking.  The device and pinned
 * buffers belong to the backend (lac_cuda_backend_scratch, cuda_backend.c: grow-only, freed
 * with the backend), so a call allocates nothing on the device once they are large enough.
 * Device outputs are not cleared (the kernels write every cell); the tests turn on NaN
 * poisoning with lac_cuda_backend_set_poison.  Not thread-safe per backend.  The training
 * path will keep its tensors on the device and call the launchers itself.
 *
 * lac_cuda_sw_emulated (a test hook, declared by the tests that use it) does the same
 * packing and runs the kernels' host emulation instead of the device.
 *
 * Runs on the backend's stream and device.  Validation as lac_sw_forward: tau > 0
 * (tau = 0, the hard alignment, runs on the CPU only), 1 <= n, m <= 1024, S, go, ge finite
 * with magnitudes below 1e20 (LAC_ERR_NUMERIC names the pair and cell).
 */
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernels/kernels.h" /* kernels/ is not on the library's include path */
#include "lac/align.h"
#include "lac_internal.h"

#define SW_VAL_MAX 1e20f

lac_status lac_cuda_sw_emulated(const lac_sw_options *opt, int n_pairs, const lac_sw_pair *pairs,
                                float *V, float *const *M, const float *gV,
                                const float *const *gM, float *const *dS, float *const *dgo,
                                float *const *dge, lac_error *err);

static int bad_value(float v) { return !isfinite(v) || fabsf(v) >= SW_VAL_MAX; }

static lac_status check_values(const char *what, int p, const float *v, int n, int m,
                               int per_cell, lac_error *err) {
  const size_t cnt = per_cell ? (size_t)n * m : 1;
  for (size_t c = 0; c < cnt; c++)
    if (bad_value(v[c])) {
      if (per_cell)
        return lac_error_set(err, LAC_ERR_NUMERIC,
                             "lac_cuda_sw: pair %d: %s[%zu][%zu] = %g is not finite or >= 1e20 "
                             "in magnitude",
                             p, what, c / (size_t)m, c % (size_t)m, (double)v[c]);
      return lac_error_set(err, LAC_ERR_NUMERIC,
                           "lac_cuda_sw: pair %d: %s = %g is not finite or >= 1e20 in magnitude",
                           p, what, (double)v[0]);
    }
  return LAC_OK;
}

/* the arguments but the values (those are checked while packing) */
static lac_status validate_args(const lac_sw_options *opt, int n_pairs, const lac_sw_pair *pairs,
                                lac_error *err) {
  if (!opt) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_cuda_sw: opt is NULL");
  if (n_pairs < 0 || (n_pairs > 0 && !pairs))
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_cuda_sw: %d pairs at %p", n_pairs,
                         (const void *)pairs);
  if (opt->tau == 0.0f)
    return lac_error_set(err, LAC_ERR_UNSUPPORTED,
                         "lac_cuda_sw: tau = 0 (hard alignment with backtracking) runs on the "
                         "CPU only (lac_sw_forward)");
  if (!(opt->tau > 0.0f) || !(opt->tau <= SW_VAL_MAX) || !isfinite(1.4426950408889634 / opt->tau) ||
      !isfinite((float)(1.4426950408889634 / opt->tau)))
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_cuda_sw: tau = %g must be in (1e-37, 1e20]",
                         (double)opt->tau);
  for (int p = 0; p < n_pairs; p++) {
    const lac_sw_pair *q = &pairs[p];
    if (q->n < 1 || q->m < 1 || q->n > LAC_CUDA_SW_MAX_LEN || q->m > LAC_CUDA_SW_MAX_LEN)
      return lac_error_set(err, LAC_ERR_INVALID_ARG,
                           "lac_cuda_sw: pair %d is %d x %d: lengths must be in 1..%d", p, q->n,
                           q->m, LAC_CUDA_SW_MAX_LEN);
    if (!q->S || !q->go || !q->ge)
      return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_cuda_sw: pair %d: S, go or ge is NULL", p);
  }
  return LAC_OK;
}

/* S, go, ge: the first bad value in the caller's order */
static lac_status validate_values(const lac_sw_options *opt, int n_pairs, const lac_sw_pair *pairs,
                                  lac_error *err) {
  for (int p = 0; p < n_pairs; p++) {
    const lac_sw_pair *q = &pairs[p];
    lac_status st = check_values("S", p, q->S, q->n, q->m, 1, err);
    if (st == LAC_OK) st = check_values("go", p, q->go, q->n, q->m, opt->per_cell_gaps, err);
    if (st == LAC_OK) st = check_values("ge", p, q->ge, q->n, q->m, opt->per_cell_gaps, err);
    if (st != LAC_OK) return st;
  }
  return LAC_OK;
}

/* ---------------------------------------------------------------- the packed batch
 *
 * Two contiguous staging blocks, each section 256-byte aligned:
 *   in:  dims | S | go | ge [| gV | gM]        (one host -> device copy)
 *   out: V [| dS | dgo | dge] | M             (one device -> host copy; M last, so a call
 *                                              that wants no M copies only the front)
 * On the device the same two blocks follow each other, then the device-only tables
 * X | Y | vstat [| work].  With a backend, the host blocks live in its pinned scratch and the
 * device ones in its device scratch (lac_cuda_backend_scratch: grow-only, kept between calls);
 * the emulation uses malloc'd blocks. */

#define SW_ALIGN 256

static size_t round_up(size_t x) { return (x + SW_ALIGN - 1) & ~(size_t)(SW_ALIGN - 1); }

enum { I_DIMS, I_S, I_GO, I_GE, I_GV, I_GM, I_N };
enum { O_V, O_DS, O_DGO, O_DGE, O_M, O_N };
enum { D_X, D_Y, D_VSTAT, D_WORK, D_N };

typedef struct {
  int np, per_cell, want_bwd, has_gM, want_M;
  int *ord;               /* ord[d] = caller's pair index of descriptor d */
  size_t cells, wfloats, gcount; /* per-cell floats, work floats, floats per penalty buffer */
  size_t in_at[I_N + 1], out_at[O_N + 1], dev_at[D_N + 1]; /* byte offsets; [N] = total */
  size_t out_copy;        /* bytes of out to copy back */
  char *in, *out;         /* host blocks */
  lac_cuda_sw_dims *dims; /* in + in_at[I_DIMS] */
  float *S, *go, *ge, *gV, *gM;  /* inputs (in the in block) */
  float *V, *M, *dS, *dgo, *dge; /* outputs (in the out block) */
} sw_batch;

typedef struct {
  long long cells;
  int p;
} sw_key;

/* largest pairs first (a long pair started last would finish last), then caller's order */
static int cmp_key(const void *a, const void *b) {
  const sw_key *x = a, *y = b;
  if (x->cells != y->cells) return x->cells > y->cells ? -1 : 1;
  return (x->p > y->p) - (x->p < y->p);
}

static void carve(size_t *at, const size_t *sz, int n) {
  size_t total = 0;
  for (int k = 0; k < n; k++) {
    at[k] = total;
    total += round_up(sz[k]);
  }
  at[n] = total;
}

/* Plans the order and the layout (no memory but ord). */
static lac_status batch_plan(sw_batch *B, const lac_sw_options *opt, int n_pairs,
                             const lac_sw_pair *pairs, const float *const *gM, float *const *M,
                             int want_bwd, lac_error *err) {
  memset(B, 0, sizeof *B);
  B->np = n_pairs;
  B->per_cell = opt->per_cell_gaps ? 1 : 0;
  B->want_bwd = want_bwd;
  B->ord = malloc(sizeof *B->ord * (size_t)n_pairs);
  sw_key *keys = malloc(sizeof *keys * (size_t)n_pairs);
  if (!B->ord || !keys) {
    free(keys);
    free(B->ord);
    B->ord = NULL;
    return lac_error_set(err, LAC_ERR_NOMEM, "lac_cuda_sw: out of memory packing %d pairs",
                         n_pairs);
  }
  for (int p = 0; p < n_pairs; p++) {
    keys[p].cells = (long long)pairs[p].n * pairs[p].m;
    keys[p].p = p;
  }
  qsort(keys, (size_t)n_pairs, sizeof *keys, cmp_key);
  for (int d = 0; d < n_pairs; d++) B->ord[d] = keys[d].p;
  free(keys);
  for (int p = 0; p < n_pairs; p++) {
    B->cells += (size_t)pairs[p].n * (size_t)((pairs[p].m + 7) & ~7);
    B->wfloats += (size_t)10 * pairs[p].n;
  }
  B->gcount = B->per_cell ? B->cells : (size_t)n_pairs;
  if (want_bwd && gM)
    for (int p = 0; p < n_pairs; p++) B->has_gM |= gM[p] != NULL;
  if (M)
    for (int p = 0; p < n_pairs; p++) B->want_M |= M[p] != NULL;
  const size_t fb = sizeof(float), np = (size_t)n_pairs, cb = B->cells * fb,
               pb = B->gcount * fb;
  const size_t isz[I_N] = {np * sizeof(lac_cuda_sw_dims), cb, pb, pb, want_bwd ? np * fb : 0,
                           B->has_gM ? cb : 0};
  const size_t osz[O_N] = {np * fb, want_bwd ? cb : 0, want_bwd ? pb : 0, want_bwd ? pb : 0, cb};
  const size_t dsz[D_N] = {cb, cb, 2 * np * fb, want_bwd ? B->wfloats * fb : 0};
  carve(B->in_at, isz, I_N);
  carve(B->out_at, osz, O_N);
  carve(B->dev_at, dsz, D_N);
  B->out_copy = B->want_M ? B->out_at[O_N] : B->out_at[O_M];
  return LAC_OK;
}

static void batch_bind(sw_batch *B, char *in, char *out) {
  B->in = in;
  B->out = out;
  B->dims = (lac_cuda_sw_dims *)(in + B->in_at[I_DIMS]);
  B->S = (float *)(in + B->in_at[I_S]);
  B->go = (float *)(in + B->in_at[I_GO]);
  B->ge = (float *)(in + B->in_at[I_GE]);
  B->gV = B->want_bwd ? (float *)(in + B->in_at[I_GV]) : NULL;
  B->gM = B->has_gM ? (float *)(in + B->in_at[I_GM]) : NULL;
  B->V = (float *)(out + B->out_at[O_V]);
  B->dS = B->want_bwd ? (float *)(out + B->out_at[O_DS]) : NULL;
  B->dgo = B->want_bwd ? (float *)(out + B->out_at[O_DGO]) : NULL;
  B->dge = B->want_bwd ? (float *)(out + B->out_at[O_DGE]) : NULL;
  B->M = (float *)(out + B->out_at[O_M]);
}

/* copies one row of m floats to a row of ld (padding columns = 0); 1 when a value is bad */
static int pack_row(float *dst, const float *src, int m, int ld, int check) {
  memcpy(dst, src, sizeof(float) * (size_t)m);
  if (ld > m) memset(dst + m, 0, sizeof(float) * (size_t)(ld - m));
  int bad = 0;
  if (check)
    for (int j = 0; j < m; j++) bad |= bad_value(dst[j]);
  return bad;
}

/* Packs the inputs into the bound in block, checking S, go, ge on the way (one pass over the
 * caller's memory); returns 1 when a value is bad (the caller then reports it). */
static int batch_pack(sw_batch *B, const lac_sw_pair *pairs, const float *gV,
                      const float *const *gM) {
  int bad = 0;
  size_t off = 0, woff = 0;
  for (int d = 0; d < B->np; d++) {
    const int p = B->ord[d];
    const lac_sw_pair *q = &pairs[p];
    lac_cuda_sw_dims *D = &B->dims[d];
    D->n = q->n;
    D->m = q->m;
    D->ld = (q->m + 7) & ~7;
    D->off = (long long)off;
    D->woff = (long long)woff;
    D->reserved = 0;
    off += (size_t)q->n * (size_t)D->ld;
    woff += (size_t)10 * q->n;
    const float *gm = B->has_gM ? gM[p] : NULL;
    for (int i = 0; i < q->n; i++) {
      const size_t src = (size_t)i * q->m, dst = (size_t)D->off + (size_t)i * D->ld;
      bad |= pack_row(B->S + dst, q->S + src, q->m, D->ld, 1);
      if (B->per_cell) {
        bad |= pack_row(B->go + dst, q->go + src, q->m, D->ld, 1);
        bad |= pack_row(B->ge + dst, q->ge + src, q->m, D->ld, 1);
      }
      if (gm) pack_row(B->gM + dst, gm + src, q->m, D->ld, 0);
      else if (B->has_gM) memset(B->gM + dst, 0, sizeof(float) * (size_t)D->ld);
    }
    if (!B->per_cell) {
      B->go[d] = q->go[0];
      B->ge[d] = q->ge[0];
      bad |= bad_value(q->go[0]) | bad_value(q->ge[0]);
    }
    if (B->want_bwd) B->gV[d] = gV ? gV[p] : 0.0f;
  }
  return bad;
}

/* Copies the packed outputs back to the caller's arrays. */
static void batch_unpack(const sw_batch *B, const lac_sw_pair *pairs, float *V, float *const *M,
                         float *const *dS, float *const *dgo, float *const *dge) {
  for (int d = 0; d < B->np; d++) {
    const int p = B->ord[d];
    const lac_sw_pair *q = &pairs[p];
    const lac_cuda_sw_dims *D = &B->dims[d];
    const size_t row = sizeof(float) * (size_t)q->m;
    if (V) V[p] = B->V[d];
    float *Mp = M ? M[p] : NULL, *dSp = B->want_bwd && dS ? dS[p] : NULL;
    float *dgop = B->want_bwd && B->per_cell && dgo ? dgo[p] : NULL;
    float *dgep = B->want_bwd && B->per_cell && dge ? dge[p] : NULL;
    if (Mp || dSp || dgop || dgep)
      for (int i = 0; i < q->n; i++) {
        const size_t src = (size_t)D->off + (size_t)i * D->ld, dst = (size_t)i * q->m;
        if (Mp) memcpy(Mp + dst, B->M + src, row);
        if (dSp) memcpy(dSp + dst, B->dS + src, row);
        if (dgop) memcpy(dgop + dst, B->dgo + src, row);
        if (dgep) memcpy(dgep + dst, B->dge + src, row);
      }
    if (B->want_bwd && !B->per_cell) {
      if (dgo && dgo[p]) dgo[p][0] = B->dgo[d];
      if (dge && dge[p]) dge[p][0] = B->dge[d];
    }
  }
}

/* ---------------------------------------------------------------- device run */

static lac_status cuda_fail(lac_error *err, const char *what, cudaError_t ce) {
  return lac_error_set(err, LAC_ERR_BACKEND, "lac_cuda_sw: %s: %s", what, cudaGetErrorString(ce));
}

/* Binds B to the backend's pinned scratch (before packing). */
static lac_status bind_device(lac_backend *b, sw_batch *B, lac_cuda_scratch *sc, lac_error *err) {
  cudaError_t ce = cudaSetDevice(b->params.device);
  if (ce != cudaSuccess) return cuda_fail(err, "cudaSetDevice", ce);
  const size_t host = B->in_at[I_N] + B->out_at[O_N];
  const size_t dev = host + B->dev_at[D_N];
  if ((ce = (cudaError_t)lac_cuda_backend_scratch(b, dev, host, sc)) != cudaSuccess)
    return lac_error_set(err, LAC_ERR_BACKEND,
                         "lac_cuda_sw: scratch of %zu device / %zu pinned host bytes: %s", dev,
                         host, cudaGetErrorString(ce));
  batch_bind(B, (char *)sc->host, (char *)sc->host + B->in_at[I_N]);
  return LAC_OK;
}

/* One copy in, (poison,) forward [+ backward], one copy out, one synchronisation. */
static lac_status run_device(const sw_batch *B, const lac_cuda_scratch *sc, float tau,
                             lac_error *err) {
  cudaStream_t st = (cudaStream_t)sc->stream;
  char *din = (char *)sc->dev, *dout = din + B->in_at[I_N], *dtab = dout + B->out_at[O_N];
#define DI(k) ((float *)(din + B->in_at[k]))
#define DO(k) ((float *)(dout + B->out_at[k]))
#define DT(k) ((float *)(dtab + B->dev_at[k]))
  const lac_cuda_sw_dims *d_dims = (const lac_cuda_sw_dims *)(din + B->in_at[I_DIMS]);
  const char *what = "cudaMemcpyAsync to the device";
  cudaError_t ce = cudaMemcpyAsync(din, B->in, B->in_at[I_N], cudaMemcpyHostToDevice, st);
  if (ce != cudaSuccess) goto fail;
  if (sc->poison) { /* test hook: outputs and tables NaN, so an unwritten cell fails */
    what = "cudaMemsetAsync";
    if ((ce = cudaMemsetAsync(dout, 0xff, B->out_at[O_N] + B->dev_at[D_N], st)) != cudaSuccess)
      goto fail;
  }
  what = "forward kernel launch";
  ce = (cudaError_t)lac_cuda_sw_forward(B->np, d_dims, tau, B->per_cell, DI(I_S), DI(I_GO),
                                        DI(I_GE), DO(O_M), DT(D_X), DT(D_Y), DO(O_V),
                                        DT(D_VSTAT), st);
  if (ce != cudaSuccess) goto fail;
  if (B->want_bwd) {
    what = "backward kernel launch";
    ce = (cudaError_t)lac_cuda_sw_backward(B->np, d_dims, tau, B->per_cell, DI(I_GO), DI(I_GE),
                                           DO(O_M), DT(D_X), DT(D_Y), DT(D_VSTAT), DI(I_GV),
                                           B->has_gM ? DI(I_GM) : NULL, DO(O_DS), DO(O_DGO),
                                           DO(O_DGE), DT(D_WORK), st);
    if (ce != cudaSuccess) goto fail;
  }
  what = "cudaMemcpyAsync to the host";
  if ((ce = cudaMemcpyAsync(B->out, dout, B->out_copy, cudaMemcpyDeviceToHost, st)) !=
      cudaSuccess)
    goto fail;
  what = "kernels or copies (at synchronisation)";
  if ((ce = cudaStreamSynchronize(st)) != cudaSuccess) goto fail;
  return LAC_OK;
fail:
  cudaStreamSynchronize(st); /* nothing of this call left in flight on the scratch */
  return cuda_fail(err, what, ce);
#undef DI
#undef DO
#undef DT
}

static lac_status run_emulated(const sw_batch *B, float tau, lac_error *err) {
  const size_t cells = B->cells ? B->cells : 1, np = B->np ? (size_t)B->np : 1;
  float *X = malloc(sizeof(float) * cells), *Y = malloc(sizeof(float) * cells);
  float *vstat = malloc(sizeof(float) * 2 * np);
  float *work = malloc(sizeof(float) * (B->wfloats ? B->wfloats : 1));
  lac_status st = LAC_OK;
  if (!X || !Y || !vstat || !work) {
    st = lac_error_set(err, LAC_ERR_NOMEM, "lac_cuda_sw_emulated: out of memory");
  } else {
    /* poisoned like the device buffers under the test hook */
    for (size_t c = 0; c < B->cells; c++) X[c] = Y[c] = B->M[c] = NAN;
    for (size_t c = 0; c < B->wfloats; c++) work[c] = NAN;
    for (size_t p = 0; p < (size_t)B->np; p++) B->V[p] = vstat[2 * p] = vstat[2 * p + 1] = NAN;
    if (B->want_bwd) {
      for (size_t c = 0; c < B->cells; c++) B->dS[c] = NAN;
      for (size_t c = 0; c < B->gcount; c++) B->dgo[c] = B->dge[c] = NAN;
    }
    lac_cuda_sw_emulate_forward(B->np, B->dims, tau, B->per_cell, B->S, B->go, B->ge, B->M, X, Y,
                                B->V, vstat);
    if (B->want_bwd)
      lac_cuda_sw_emulate_backward(B->np, B->dims, tau, B->per_cell, B->go, B->ge, B->M, X, Y,
                                   vstat, B->gV, B->gM, B->dS, B->dgo, B->dge, work);
  }
  free(X);
  free(Y);
  free(vstat);
  free(work);
  return st;
}

static lac_status sw_run(lac_backend *b, const lac_sw_options *opt, int n_pairs,
                         const lac_sw_pair *pairs, float *V, float *const *M, const float *gV,
                         const float *const *gM, float *const *dS, float *const *dgo,
                         float *const *dge, lac_error *err) {
  lac_status st = validate_args(opt, n_pairs, pairs, err);
  if (st != LAC_OK) return st;
  if (n_pairs == 0) return LAC_OK;
  const int want_bwd = dS || dgo || dge;
  sw_batch B;
  if ((st = batch_plan(&B, opt, n_pairs, pairs, gM, M, want_bwd, err)) != LAC_OK) return st;
  lac_cuda_scratch sc = {0};
  char *blk = NULL;
  if (b) {
    st = bind_device(b, &B, &sc, err);
  } else {
    blk = malloc(B.in_at[I_N] + B.out_at[O_N]);
    if (!blk) st = lac_error_set(err, LAC_ERR_NOMEM, "lac_cuda_sw: out of memory packing %d pairs",
                                 n_pairs);
    else batch_bind(&B, blk, blk + B.in_at[I_N]);
  }
  if (st == LAC_OK && batch_pack(&B, pairs, gV, gM)) {
    st = validate_values(opt, n_pairs, pairs, err); /* names the first bad value */
    if (st == LAC_OK) /* cannot happen: the pack saw what validate_values checks */
      st = lac_error_set(err, LAC_ERR_NUMERIC, "lac_cuda_sw: a value is not finite or >= 1e20");
  }
  if (st == LAC_OK) st = b ? run_device(&B, &sc, opt->tau, err) : run_emulated(&B, opt->tau, err);
  if (st == LAC_OK) batch_unpack(&B, pairs, V, M, dS, dgo, dge);
  free(blk);
  free(B.ord);
  return st;
}

lac_status lac_cuda_sw(lac_backend *b, const lac_sw_options *opt, int n_pairs,
                       const lac_sw_pair *pairs, float *V, float *const *M, const float *gV,
                       const float *const *gM, float *const *dS, float *const *dgo,
                       float *const *dge, lac_error *err) {
  if (!b || !b->ops || !b->ops->name || strcmp(b->ops->name, "cuda") != 0)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_cuda_sw: needs a CUDA backend (got %s)",
                         b && b->ops && b->ops->name ? b->ops->name : "none");
  return sw_run(b, opt, n_pairs, pairs, V, M, gV, gM, dS, dgo, dge, err);
}

lac_status lac_cuda_sw_emulated(const lac_sw_options *opt, int n_pairs, const lac_sw_pair *pairs,
                                float *V, float *const *M, const float *gV,
                                const float *const *gM, float *const *dS, float *const *dgo,
                                float *const *dge, lac_error *err) {
  return sw_run(NULL, opt, n_pairs, pairs, V, M, gV, gM, dS, dgo, dge, err);
}
