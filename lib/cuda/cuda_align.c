/* cuda_align.c — the host side of the CUDA smoothed Smith-Waterman (kernels/sw_affine.cu):
 * lac_cuda_sw takes host pairs (lac_sw_pair, as lac_sw_forward does), packs them into the
 * kernels' layout (kernels.h: lac_cuda_sw_dims; rows padded to a multiple of 8 floats,
 * largest pairs first), copies them to the device, runs the forward and, when a gradient is
 * asked for, the backward, and copies V, M, dS, dgo, dge back.  For tests and the CLI: every
 * call allocates and frees its device memory and synchronises; the training path will keep
 * its tensors on the device and call the launchers itself.
 *
 * lac_cuda_sw_emulated (a test hook, declared by the tests that use it) does the same
 * packing and runs the kernels' host emulation instead of the device.
 *
 * Runs on the default stream of the backend's device.  Validation as lac_sw_forward: tau > 0
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

static lac_status validate(const lac_sw_options *opt, int n_pairs, const lac_sw_pair *pairs,
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
    lac_status st = check_values("S", p, q->S, q->n, q->m, 1, err);
    if (st == LAC_OK) st = check_values("go", p, q->go, q->n, q->m, opt->per_cell_gaps, err);
    if (st == LAC_OK) st = check_values("ge", p, q->ge, q->n, q->m, opt->per_cell_gaps, err);
    if (st != LAC_OK) return st;
  }
  return LAC_OK;
}

/* ---------------------------------------------------------------- the packed batch */

typedef struct {
  int np, per_cell, want_bwd, has_gM;
  int *ord;               /* ord[d] = caller's pair index of descriptor d */
  lac_cuda_sw_dims *dims; /* [np] */
  size_t cells, wfloats, gcount; /* per-cell floats, work floats, floats per penalty buffer */
  /* host staging (packed layout) */
  float *S, *go, *ge, *gV, *gM;  /* inputs */
  float *V, *M, *dS, *dgo, *dge; /* outputs */
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

static void batch_free(sw_batch *B) {
  free(B->ord);
  free(B->dims);
  free(B->S);
  free(B->go);
  free(B->ge);
  free(B->gV);
  free(B->gM);
  free(B->V);
  free(B->M);
  free(B->dS);
  free(B->dgo);
  free(B->dge);
  memset(B, 0, sizeof *B);
}

/* Plans the layout and packs the inputs (padding = 0). */
static lac_status batch_pack(sw_batch *B, const lac_sw_options *opt, int n_pairs,
                             const lac_sw_pair *pairs, const float *gV, const float *const *gM,
                             int want_bwd, lac_error *err) {
  memset(B, 0, sizeof *B);
  B->np = n_pairs;
  B->per_cell = opt->per_cell_gaps ? 1 : 0;
  B->want_bwd = want_bwd;
  B->ord = malloc(sizeof *B->ord * (size_t)n_pairs);
  B->dims = malloc(sizeof *B->dims * (size_t)n_pairs);
  if (!B->ord || !B->dims) goto nomem;
  {
    sw_key *keys = malloc(sizeof *keys * (size_t)n_pairs);
    if (!keys) goto nomem;
    for (int p = 0; p < n_pairs; p++) {
      keys[p].cells = (long long)pairs[p].n * pairs[p].m;
      keys[p].p = p;
    }
    qsort(keys, (size_t)n_pairs, sizeof *keys, cmp_key);
    for (int d = 0; d < n_pairs; d++) B->ord[d] = keys[d].p;
    free(keys);
  }
  for (int d = 0; d < n_pairs; d++) {
    const lac_sw_pair *q = &pairs[B->ord[d]];
    lac_cuda_sw_dims *D = &B->dims[d];
    D->n = q->n;
    D->m = q->m;
    D->ld = (q->m + 7) & ~7;
    D->off = (long long)B->cells;
    D->woff = (long long)B->wfloats;
    D->reserved = 0;
    B->cells += (size_t)q->n * (size_t)D->ld;
    B->wfloats += (size_t)10 * q->n;
  }
  B->gcount = B->per_cell ? B->cells : (size_t)n_pairs;
  const size_t cells = B->cells ? B->cells : 1, np = n_pairs ? (size_t)n_pairs : 1;
  const size_t gcount = B->gcount ? B->gcount : 1;
  B->S = calloc(cells, sizeof(float));
  B->go = calloc(gcount, sizeof(float));
  B->ge = calloc(gcount, sizeof(float));
  B->V = calloc(np, sizeof(float));
  B->M = calloc(cells, sizeof(float));
  if (!B->S || !B->go || !B->ge || !B->V || !B->M) goto nomem;
  if (want_bwd) {
    B->gV = calloc(np, sizeof(float));
    B->dS = calloc(cells, sizeof(float));
    B->dgo = calloc(gcount, sizeof(float));
    B->dge = calloc(gcount, sizeof(float));
    if (!B->gV || !B->dS || !B->dgo || !B->dge) goto nomem;
    if (gM)
      for (int p = 0; p < n_pairs; p++) B->has_gM |= gM[p] != NULL;
    if (B->has_gM && !(B->gM = calloc(cells, sizeof(float)))) goto nomem;
  }
  for (int d = 0; d < n_pairs; d++) {
    const int p = B->ord[d];
    const lac_sw_pair *q = &pairs[p];
    const lac_cuda_sw_dims *D = &B->dims[d];
    for (int i = 0; i < q->n; i++) {
      const size_t src = (size_t)i * q->m, dst = (size_t)D->off + (size_t)i * D->ld;
      memcpy(B->S + dst, q->S + src, sizeof(float) * q->m);
      if (B->per_cell) {
        memcpy(B->go + dst, q->go + src, sizeof(float) * q->m);
        memcpy(B->ge + dst, q->ge + src, sizeof(float) * q->m);
      }
      if (B->has_gM && gM[p]) memcpy(B->gM + dst, gM[p] + src, sizeof(float) * q->m);
    }
    if (!B->per_cell) {
      B->go[d] = q->go[0];
      B->ge[d] = q->ge[0];
    }
    if (want_bwd) B->gV[d] = gV ? gV[p] : 0.0f;
  }
  return LAC_OK;
nomem:
  batch_free(B);
  return lac_error_set(err, LAC_ERR_NOMEM, "lac_cuda_sw: out of memory packing %d pairs", n_pairs);
}

/* Copies the packed outputs back to the caller's arrays. */
static void batch_unpack(const sw_batch *B, const lac_sw_pair *pairs, float *V, float *const *M,
                         float *const *dS, float *const *dgo, float *const *dge) {
  for (int d = 0; d < B->np; d++) {
    const int p = B->ord[d];
    const lac_sw_pair *q = &pairs[p];
    const lac_cuda_sw_dims *D = &B->dims[d];
    if (V) V[p] = B->V[d];
    for (int i = 0; i < q->n; i++) {
      const size_t src = (size_t)D->off + (size_t)i * D->ld, dst = (size_t)i * q->m;
      if (M && M[p]) memcpy(M[p] + dst, B->M + src, sizeof(float) * q->m);
      if (!B->want_bwd) continue;
      if (dS && dS[p]) memcpy(dS[p] + dst, B->dS + src, sizeof(float) * q->m);
      if (B->per_cell) {
        if (dgo && dgo[p]) memcpy(dgo[p] + dst, B->dgo + src, sizeof(float) * q->m);
        if (dge && dge[p]) memcpy(dge[p] + dst, B->dge + src, sizeof(float) * q->m);
      }
    }
    if (B->want_bwd && !B->per_cell) {
      if (dgo && dgo[p]) dgo[p][0] = B->dgo[d];
      if (dge && dge[p]) dge[p][0] = B->dge[d];
    }
  }
}

/* ---------------------------------------------------------------- device run */

#define SW_ALIGN 256

static size_t round_up(size_t x) { return (x + SW_ALIGN - 1) & ~(size_t)(SW_ALIGN - 1); }

static lac_status cuda_fail(lac_error *err, const char *what, cudaError_t ce) {
  return lac_error_set(err, LAC_ERR_BACKEND, "lac_cuda_sw: %s: %s", what, cudaGetErrorString(ce));
}

static lac_status run_device(lac_backend *b, const sw_batch *B, float tau, lac_error *err) {
  cudaError_t ce = cudaSetDevice(b->params.device);
  if (ce != cudaSuccess) return cuda_fail(err, "cudaSetDevice", ce);
  const size_t fb = sizeof(float), np = (size_t)B->np;
  const size_t cells = B->cells * fb, pen = B->gcount * fb;
  /* one allocation, carved: dims, S, go, ge, M, X, Y, V, vstat [, gV, gM, dS, dgo, dge, work] */
  size_t sz[15] = {np * sizeof(lac_cuda_sw_dims), cells, pen, pen, cells, cells, cells, np * fb,
                   2 * np * fb, 0, 0, 0, 0, 0, 0};
  if (B->want_bwd) {
    sz[9] = np * fb;
    sz[10] = B->has_gM ? cells : 0;
    sz[11] = cells;
    sz[12] = pen;
    sz[13] = pen;
    sz[14] = B->wfloats * fb;
  }
  size_t at[15], total = 0;
  for (int k = 0; k < 15; k++) {
    at[k] = total;
    total += round_up(sz[k]);
  }
  char *base = NULL;
  if ((ce = cudaMalloc((void **)&base, total ? total : SW_ALIGN)) != cudaSuccess)
    return lac_error_set(err, LAC_ERR_BACKEND, "lac_cuda_sw: cudaMalloc of %zu bytes: %s", total,
                         cudaGetErrorString(ce));
#define DP(k) ((float *)(base + at[k]))
  lac_cuda_sw_dims *d_dims = (lac_cuda_sw_dims *)(base + at[0]);
  lac_status st = LAC_OK;
  const char *what = "cudaMemcpy to the device";
  if ((ce = cudaMemcpy(d_dims, B->dims, sz[0], cudaMemcpyHostToDevice)) != cudaSuccess ||
      (ce = cudaMemcpy(DP(1), B->S, sz[1], cudaMemcpyHostToDevice)) != cudaSuccess ||
      (ce = cudaMemcpy(DP(2), B->go, sz[2], cudaMemcpyHostToDevice)) != cudaSuccess ||
      (ce = cudaMemcpy(DP(3), B->ge, sz[3], cudaMemcpyHostToDevice)) != cudaSuccess)
    goto fail;
  /* outputs and tables poisoned with NaN (all bits set): a cell a kernel leaves unwritten
   * comes back as NaN, and the tests fail on it */
  what = "cudaMemset";
  for (int k = 4; k <= 8; k++)
    if ((ce = cudaMemset(DP(k), 0xff, sz[k])) != cudaSuccess) goto fail;
  for (int k = 11; k <= 14 && B->want_bwd; k++)
    if ((ce = cudaMemset(DP(k), 0xff, sz[k])) != cudaSuccess) goto fail;
  what = "cudaMemcpy to the device";
  if (B->want_bwd &&
      ((ce = cudaMemcpy(DP(9), B->gV, sz[9], cudaMemcpyHostToDevice)) != cudaSuccess ||
       (B->has_gM &&
        (ce = cudaMemcpy(DP(10), B->gM, sz[10], cudaMemcpyHostToDevice)) != cudaSuccess)))
    goto fail;
  what = "forward kernel launch";
  ce = (cudaError_t)lac_cuda_sw_forward(B->np, d_dims, tau, B->per_cell, DP(1), DP(2), DP(3),
                                        DP(4), DP(5), DP(6), DP(7), DP(8), NULL);
  if (ce != cudaSuccess) goto fail;
  if (B->want_bwd) {
    what = "backward kernel launch";
    ce = (cudaError_t)lac_cuda_sw_backward(B->np, d_dims, tau, B->per_cell, DP(2), DP(3), DP(4),
                                           DP(5), DP(6), DP(8), DP(9),
                                           B->has_gM ? DP(10) : NULL, DP(11), DP(12), DP(13),
                                           DP(14), NULL);
    if (ce != cudaSuccess) goto fail;
  }
  what = "kernels (at synchronisation)";
  if ((ce = cudaDeviceSynchronize()) != cudaSuccess) goto fail;
  what = "cudaMemcpy to the host";
  if ((ce = cudaMemcpy(B->V, DP(7), sz[7], cudaMemcpyDeviceToHost)) != cudaSuccess ||
      (ce = cudaMemcpy(B->M, DP(4), sz[4], cudaMemcpyDeviceToHost)) != cudaSuccess)
    goto fail;
  if (B->want_bwd &&
      ((ce = cudaMemcpy(B->dS, DP(11), sz[11], cudaMemcpyDeviceToHost)) != cudaSuccess ||
       (ce = cudaMemcpy(B->dgo, DP(12), sz[12], cudaMemcpyDeviceToHost)) != cudaSuccess ||
       (ce = cudaMemcpy(B->dge, DP(13), sz[13], cudaMemcpyDeviceToHost)) != cudaSuccess))
    goto fail;
  cudaFree(base);
  return LAC_OK;
fail:
  st = cuda_fail(err, what, ce);
  cudaFree(base);
  return st;
#undef DP
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
    /* poisoned like the device buffers */
    for (size_t c = 0; c < cells; c++) X[c] = Y[c] = B->M[c] = NAN;
    for (size_t c = 0; c < B->wfloats; c++) work[c] = NAN;
    for (size_t p = 0; p < np; p++) B->V[p] = vstat[2 * p] = vstat[2 * p + 1] = NAN;
    if (B->want_bwd) {
      for (size_t c = 0; c < cells; c++) B->dS[c] = NAN;
      for (size_t c = 0; c < B->gcount; c++) B->dgo[c] = B->dge[c] = NAN;
    }
    lac_cuda_sw_emulate_forward(B->np, B->dims, tau, B->per_cell, B->S, B->go, B->ge, B->M, X, Y,
                                B->V, vstat);
    if (B->want_bwd)
      lac_cuda_sw_emulate_backward(B->np, B->dims, tau, B->per_cell, B->go, B->ge, B->M, X, Y,
                                   vstat, B->gV, B->has_gM ? B->gM : NULL, B->dS, B->dgo, B->dge,
                                   work);
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
  lac_status st = validate(opt, n_pairs, pairs, err);
  if (st != LAC_OK) return st;
  if (n_pairs == 0) return LAC_OK;
  const int want_bwd = dS || dgo || dge;
  sw_batch B;
  if ((st = batch_pack(&B, opt, n_pairs, pairs, gV, gM, want_bwd, err)) != LAC_OK) return st;
  st = b ? run_device(b, &B, opt->tau, err) : run_emulated(&B, opt->tau, err);
  if (st == LAC_OK) batch_unpack(&B, pairs, V, M, dS, dgo, dge);
  batch_free(&B);
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
