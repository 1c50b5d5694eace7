/* cuda_align.c — the host side of the CUDA smoothed Smith-Waterman (kernels/sw_affine.cu),
 * in two shapes that share one plan / pack / run / unpack path:
 *
 *  - lac_cuda_sw (one shot): takes host pairs (lac_sw_pair, as lac_sw_forward does), packs
 *    them into the kernels' layout (kernels.h: lac_cuda_sw_dims; rows padded to a multiple
 *    of 8 floats, largest pairs first), copies them to the device, runs the forward and,
 *    when a gradient is asked for, the backward, and copies V, M, dS, dgo, dge back.  Per
 *    call: the inputs are checked while they are packed into the backend's pinned staging
 *    buffer, one async copy takes them to the device, the kernels run on the backend's
 *    stream, one async copy brings the outputs back, one stream synchronisation, then
 *    unpacking.  The device and pinned buffers belong to the backend
 *    (lac_cuda_backend_scratch, cuda_backend.c: grow-only, freed with the backend), so a
 *    call allocates nothing on the device once they are large enough.
 *
 *  - lac_cuda_sw_state (the CUDA path of an lac_aligner, lib/align/sw_cpu.c): the forward
 *    packs and uploads dims, S, go, ge once, runs the forward kernel, downloads V (and M when
 *    asked) and KEEPS the packed inputs and the tables M, X, Y, vstat on the device; each
 *    backward then uploads only gV and the packed gM, runs only the backward kernel and
 *    downloads dS, dgo, dge.  Its device buffer and pinned staging buffer belong to the state
 *    (grow-only, freed by lac_cuda_sw_state_free), and it runs on a stream of its own
 *    (created on the backend's device), so aligners sharing a backend neither share buffers
 *    with each other nor with lac_cuda_sw.  One caller at a time per state.
 *
 * Both have an emulated twin for the tests (no GPU): the same packing in host memory, the
 * kernels' host emulation (lac_cuda_sw_emulate_*), and a malloc'd "device" block that the
 * same copies reach by memcpy (so the emulation proves the copied ranges too).
 * lac_cuda_sw_emulated is declared in lib/lac_internal.h (for tests); the emulated state is
 * made by lac_cuda_sw_state_new(NULL, ...).
 *
 * Device outputs and tables are not cleared (the kernels write every cell).  Poisoning: the
 * emulation always fills outputs and tables with NaN (all bits set) before each kernel run;
 * on the GPU, lac_cuda_sw does so when the backend's test hook is on
 * (lac_cuda_backend_set_poison), and a state when the hook was on at lac_cuda_sw_state_new.
 * The forward poisons every output and table, the backward only dS, dgo, dge and its work
 * scratch (the kept tables must survive).  So an unwritten cell, or a table of an earlier
 * call, comes back as NaN.
 *
 * Validation as lac_sw_forward / lac_sw_backward: tau > 0 (tau = 0, the hard alignment,
 * runs on the CPU only), 1 <= n, m <= 1024, S, go, ge, gV, gM finite with magnitudes below
 * 1e20 (LAC_ERR_NUMERIC names the pair and cell).  Not here: tau = 0, longer pairs, the
 * training path (which will keep its tensors on the device and call the launchers itself).
 */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../../kernels/kernels.h" /* kernels/ is not on the library's include path */
#include "lac/align.h"
#include "lac_internal.h"

#define SW_VAL_MAX 1e20f

/* not finite, or |v| >= 1e20: one comparison (false for NaN), so the row checks vectorise */
static int bad_value(float v) { return !(fabsf(v) < SW_VAL_MAX); }

/* the first bad value of one array (cnt = n * m per cell, else 1), as an error of `who` */
static lac_status check_values(const char *who, const char *what, int p, const float *v, int n,
                               int m, int per_cell, lac_error *err) {
  const size_t cnt = per_cell ? (size_t)n * m : 1;
  for (size_t c = 0; c < cnt; c++)
    if (bad_value(v[c])) {
      if (per_cell)
        return lac_error_set(err, LAC_ERR_NUMERIC,
                             "%s: pair %d: %s[%zu][%zu] = %g is not finite or >= 1e20 "
                             "in magnitude",
                             who, p, what, c / (size_t)m, c % (size_t)m, (double)v[c]);
      return lac_error_set(err, LAC_ERR_NUMERIC,
                           "%s: pair %d: %s = %g is not finite or >= 1e20 in magnitude", who, p,
                           what, (double)v[0]);
    }
  return LAC_OK;
}

/* the arguments but the values (those are checked while packing) */
static lac_status validate_args(const char *who, const lac_sw_options *opt, int n_pairs,
                                const lac_sw_pair *pairs, lac_error *err) {
  if (!opt) return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s: opt is NULL", who);
  if (n_pairs < 0 || (n_pairs > 0 && !pairs))
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s: %d pairs at %p", who, n_pairs,
                         (const void *)pairs);
  if (opt->tau == 0.0f)
    return lac_error_set(err, LAC_ERR_UNSUPPORTED,
                         "%s: tau = 0 (hard alignment with backtracking) runs on the "
                         "CPU only (lac_sw_forward)",
                         who);
  if (!(opt->tau > 0.0f) || !(opt->tau <= SW_VAL_MAX) || !isfinite(1.4426950408889634 / opt->tau) ||
      !isfinite((float)(1.4426950408889634 / opt->tau)))
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s: tau = %g must be in (1e-37, 1e20]", who,
                         (double)opt->tau);
  for (int p = 0; p < n_pairs; p++) {
    const lac_sw_pair *q = &pairs[p];
    if (q->n < 1 || q->m < 1 || q->n > LAC_CUDA_SW_MAX_LEN || q->m > LAC_CUDA_SW_MAX_LEN)
      return lac_error_set(err, LAC_ERR_INVALID_ARG,
                           "%s: pair %d is %d x %d: lengths must be in 1..%d", who, p, q->n,
                           q->m, LAC_CUDA_SW_MAX_LEN);
    if (!q->S || !q->go || !q->ge)
      return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s: pair %d: S, go or ge is NULL", who, p);
  }
  return LAC_OK;
}

/* S, go, ge: the first bad value in the caller's order */
static lac_status validate_values(const char *who, const lac_sw_options *opt, int n_pairs,
                                  const lac_sw_pair *pairs, lac_error *err) {
  for (int p = 0; p < n_pairs; p++) {
    const lac_sw_pair *q = &pairs[p];
    lac_status st = check_values(who, "S", p, q->S, q->n, q->m, 1, err);
    if (st == LAC_OK) st = check_values(who, "go", p, q->go, q->n, q->m, opt->per_cell_gaps, err);
    if (st == LAC_OK) st = check_values(who, "ge", p, q->ge, q->n, q->m, opt->per_cell_gaps, err);
    if (st != LAC_OK) return st;
  }
  return lac_error_set(err, LAC_ERR_NUMERIC, "%s: a value is not finite or >= 1e20", who);
}

/* ---------------------------------------------------------------- the packed batch
 *
 * Two contiguous staging blocks, each section 256-byte aligned:
 *   in:  dims | S | go | ge [| gV | gM]
 *   out: V [| dS | dgo | dge] | M
 * On the device the same two blocks follow each other, then the device-only tables
 * X | Y | vstat [| work].  lac_cuda_sw copies the whole in block up and the front of the out
 * block back (M last, so a call that wants no M copies only the front).  A state copies
 * dims..ge up and V (+ M) back in its forward, gV (+ gM) up and dS..dge back in its backward.
 * With a backend the host blocks live in pinned memory, the device ones in device memory;
 * emulated, both are malloc'd. */

#define SW_ALIGN 256

static size_t round_up(size_t x) { return (x + SW_ALIGN - 1) & ~(size_t)(SW_ALIGN - 1); }

enum { I_DIMS, I_S, I_GO, I_GE, I_GV, I_GM, I_N };
enum { O_V, O_DS, O_DGO, O_DGE, O_M, O_N };
enum { D_X, D_Y, D_VSTAT, D_WORK, D_N };

typedef struct {
  const char *who;        /* the API function named in messages */
  int np, per_cell, want_bwd, want_M;
  int max_m;              /* the widest pair's m (the launches pick their warps from it) */
  int nt;                 /* host threads for packing and unpacking (>= 1) */
  int gM_room;            /* the layout has the gM section */
  int has_gM;             /* this run's gM is not all NULL (gM_room implied) */
  int *ord;               /* ord[d] = caller's pair index of descriptor d */
  size_t cells, wfloats, gcount; /* per-cell floats, work floats, floats per penalty buffer */
  size_t in_at[I_N + 1], out_at[O_N + 1], dev_at[D_N + 1]; /* byte offsets; [N] = total */
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

/* Plans the order and the layout (no memory but ord, which the caller frees).  want_bwd:
 * room for gV, dS, dgo, dge and work; gM_room: room for gM; want_M: M comes back. */
static lac_status batch_plan(sw_batch *B, const char *who, const lac_sw_options *opt,
                             int n_pairs, const lac_sw_pair *pairs, int want_M, int want_bwd,
                             int gM_room, lac_error *err) {
  memset(B, 0, sizeof *B);
  B->who = who;
  B->np = n_pairs;
  B->per_cell = opt->per_cell_gaps ? 1 : 0;
  B->want_bwd = want_bwd;
  B->want_M = want_M;
  B->gM_room = want_bwd && gM_room;
  B->nt = 1; /* the callers set their own */
  B->ord = malloc(sizeof *B->ord * (size_t)(n_pairs > 0 ? n_pairs : 1));
  sw_key *keys = malloc(sizeof *keys * (size_t)(n_pairs > 0 ? n_pairs : 1));
  if (!B->ord || !keys) {
    free(keys);
    free(B->ord);
    B->ord = NULL;
    return lac_error_set(err, LAC_ERR_NOMEM, "%s: out of memory packing %d pairs", who, n_pairs);
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
    if (pairs[p].m > B->max_m) B->max_m = pairs[p].m;
  }
  B->gcount = B->per_cell ? B->cells : (size_t)n_pairs;
  const size_t fb = sizeof(float), np = (size_t)n_pairs, cb = B->cells * fb,
               pb = B->gcount * fb;
  const size_t isz[I_N] = {np * sizeof(lac_cuda_sw_dims), cb, pb, pb, want_bwd ? np * fb : 0,
                           B->gM_room ? cb : 0};
  const size_t osz[O_N] = {np * fb, want_bwd ? cb : 0, want_bwd ? pb : 0, want_bwd ? pb : 0, cb};
  const size_t dsz[D_N] = {cb, cb, 2 * np * fb, want_bwd ? B->wfloats * fb : 0};
  carve(B->in_at, isz, I_N);
  carve(B->out_at, osz, O_N);
  carve(B->dev_at, dsz, D_N);
  return LAC_OK;
}

/* host bytes (in | out) and device bytes (in | out | tables) of a plan */
static size_t host_bytes(const sw_batch *B) { return B->in_at[I_N] + B->out_at[O_N]; }
static size_t dev_bytes(const sw_batch *B) { return host_bytes(B) + B->dev_at[D_N]; }

/* points B's arrays into the host block blk (host_bytes(B) long) */
static void batch_bind(sw_batch *B, char *blk) {
  char *in = blk, *out = blk + B->in_at[I_N];
  B->in = in;
  B->out = out;
  B->dims = (lac_cuda_sw_dims *)(in + B->in_at[I_DIMS]);
  B->S = (float *)(in + B->in_at[I_S]);
  B->go = (float *)(in + B->in_at[I_GO]);
  B->ge = (float *)(in + B->in_at[I_GE]);
  B->gV = B->want_bwd ? (float *)(in + B->in_at[I_GV]) : NULL;
  B->gM = B->gM_room ? (float *)(in + B->in_at[I_GM]) : NULL;
  B->V = (float *)(out + B->out_at[O_V]);
  B->dS = B->want_bwd ? (float *)(out + B->out_at[O_DS]) : NULL;
  B->dgo = B->want_bwd ? (float *)(out + B->out_at[O_DGO]) : NULL;
  B->dge = B->want_bwd ? (float *)(out + B->out_at[O_DGE]) : NULL;
  B->M = (float *)(out + B->out_at[O_M]);
}

/* copies one row of m floats to a row of ld (padding columns = 0); 1 when a value is bad */
static int pack_row(float *dst, const float *src, int m, int ld) {
  int bad = 0;
#pragma omp simd reduction(| : bad)
  for (int j = 0; j < m; j++) {
    dst[j] = src[j];
    bad |= bad_value(src[j]);
  }
  if (ld > m) memset(dst + m, 0, sizeof(float) * (size_t)(ld - m));
  return bad;
}

/* host threads for packing and unpacking: the backend's n_threads, 0 (or no backend: the
 * emulation) = OpenMP's default */
static int pack_threads(const lac_backend *b) {
  int nt = b ? b->params.n_threads : 0;
#ifdef _OPENMP
  if (nt <= 0) nt = omp_get_max_threads();
#endif
  return nt > 0 ? nt : 1;
}

/* Packing and unpacking run on B->nt threads (OpenMP) once a batch has PACK_PAR_CELLS cells:
 * every thread walks the pairs in order and takes its share of each pair's rows (no barrier
 * between pairs), so one large pair and many small ones both spread over the threads. */
#define PACK_PAR_CELLS 65536

/* Packs dims, S, go, ge into the bound in block, checking the values on the way (one pass
 * over the caller's memory); returns 1 when a value is bad (the caller then reports it). */
static int batch_pack_inputs(sw_batch *B, const lac_sw_pair *pairs) {
  int bad = 0;
  size_t off = 0, woff = 0;
  for (int d = 0; d < B->np; d++) {
    const lac_sw_pair *q = &pairs[B->ord[d]];
    lac_cuda_sw_dims *D = &B->dims[d];
    D->n = q->n;
    D->m = q->m;
    D->ld = (q->m + 7) & ~7;
    D->off = (long long)off;
    D->woff = (long long)woff;
    D->reserved = 0;
    off += (size_t)q->n * (size_t)D->ld;
    woff += (size_t)10 * q->n;
    if (!B->per_cell) {
      B->go[d] = q->go[0];
      B->ge[d] = q->ge[0];
      bad |= bad_value(q->go[0]) | bad_value(q->ge[0]);
    }
  }
#pragma omp parallel num_threads(B->nt) if (B->cells >= PACK_PAR_CELLS) reduction(| : bad)
  for (int d = 0; d < B->np; d++) {
    const lac_sw_pair *q = &pairs[B->ord[d]];
    const lac_cuda_sw_dims *D = &B->dims[d];
#pragma omp for schedule(static) nowait
    for (int i = 0; i < q->n; i++) {
      const size_t src = (size_t)i * q->m, dst = (size_t)D->off + (size_t)i * D->ld;
      bad |= pack_row(B->S + dst, q->S + src, q->m, D->ld);
      if (B->per_cell) {
        bad |= pack_row(B->go + dst, q->go + src, q->m, D->ld);
        bad |= pack_row(B->ge + dst, q->ge + src, q->m, D->ld);
      }
    }
  }
  return bad;
}

/* Packs gV (NULL = 0) and gM (NULL or gM[p] NULL = 0) after batch_pack_inputs (the dims
 * give the shapes); sets has_gM.  Returns 1 when a value is bad. */
static int batch_pack_grads(sw_batch *B, const float *gV, const float *const *gM) {
  int bad = 0;
  B->has_gM = 0;
  if (B->gM_room && gM)
    for (int p = 0; p < B->np; p++) B->has_gM |= gM[p] != NULL;
  for (int d = 0; d < B->np; d++) {
    B->gV[d] = gV ? gV[B->ord[d]] : 0.0f;
    bad |= bad_value(B->gV[d]);
  }
  if (!B->has_gM) return bad;
#pragma omp parallel num_threads(B->nt) if (B->cells >= PACK_PAR_CELLS) reduction(| : bad)
  for (int d = 0; d < B->np; d++) {
    const lac_cuda_sw_dims *D = &B->dims[d];
    const float *gm = gM[B->ord[d]];
#pragma omp for schedule(static) nowait
    for (int i = 0; i < D->n; i++) {
      float *dst = B->gM + (size_t)D->off + (size_t)i * D->ld;
      if (gm) bad |= pack_row(dst, gm + (size_t)i * D->m, D->m, D->ld);
      else memset(dst, 0, sizeof(float) * (size_t)D->ld);
    }
  }
  return bad;
}

/* the first bad gV or gM value in the caller's order (after batch_pack_grads saw one) */
static lac_status report_bad_grads(const sw_batch *B, const float *gV, const float *const *gM,
                                   lac_error *err) {
  for (int p = 0; p < B->np; p++) {
    if (gV && bad_value(gV[p]))
      return lac_error_set(err, LAC_ERR_NUMERIC, "%s: gV[%d] = %g is not finite or >= 1e20 in "
                           "magnitude", B->who, p, (double)gV[p]);
    if (!gM || !gM[p]) continue;
    for (int d = 0; d < B->np; d++)
      if (B->ord[d] == p) {
        lac_status st = check_values(B->who, "gM", p, gM[p], B->dims[d].n, B->dims[d].m, 1, err);
        if (st != LAC_OK) return st;
      }
  }
  return lac_error_set(err, LAC_ERR_NUMERIC, "%s: gV or gM is not finite or >= 1e20", B->who);
}

/* Copies V and M (each NULL to skip; M[p] NULL skips pair p) back to the caller's arrays. */
static void batch_unpack_fwd(const sw_batch *B, float *V, float *const *M) {
  if (V)
    for (int d = 0; d < B->np; d++) V[B->ord[d]] = B->V[d];
  if (!B->want_M || !M) return;
#pragma omp parallel num_threads(B->nt) if (B->cells >= PACK_PAR_CELLS)
  for (int d = 0; d < B->np; d++) {
    const lac_cuda_sw_dims *D = &B->dims[d];
    float *Mp = M[B->ord[d]];
    if (!Mp) continue;
#pragma omp for schedule(static) nowait
    for (int i = 0; i < D->n; i++)
      memcpy(Mp + (size_t)i * D->m, B->M + (size_t)D->off + (size_t)i * D->ld,
             sizeof(float) * (size_t)D->m);
  }
}

/* Copies dS, dgo, dge (each NULL to skip, or per pair) back to the caller's arrays. */
static void batch_unpack_bwd(const sw_batch *B, float *const *dS, float *const *dgo,
                             float *const *dge) {
  if (!B->per_cell)
    for (int d = 0; d < B->np; d++) {
      const int p = B->ord[d];
      if (dgo && dgo[p]) dgo[p][0] = B->dgo[d];
      if (dge && dge[p]) dge[p][0] = B->dge[d];
    }
#pragma omp parallel num_threads(B->nt) if (B->cells >= PACK_PAR_CELLS)
  for (int d = 0; d < B->np; d++) {
    const int p = B->ord[d];
    const lac_cuda_sw_dims *D = &B->dims[d];
    const size_t row = sizeof(float) * (size_t)D->m;
    float *dSp = dS ? dS[p] : NULL;
    float *dgop = B->per_cell && dgo ? dgo[p] : NULL;
    float *dgep = B->per_cell && dge ? dge[p] : NULL;
    if (!dSp && !dgop && !dgep) continue;
#pragma omp for schedule(static) nowait
    for (int i = 0; i < D->n; i++) {
      const size_t src = (size_t)D->off + (size_t)i * D->ld, dst = (size_t)i * D->m;
      if (dSp) memcpy(dSp + dst, B->dS + src, row);
      if (dgop) memcpy(dgop + dst, B->dgo + src, row);
      if (dgep) memcpy(dgep + dst, B->dge + src, row);
    }
  }
}

/* ---------------------------------------------------------------- running a plan
 *
 * An executor: the host block [in | out] and the device block [in | out | tables] (two
 * malloc'd blocks when emulating, copies by memcpy: so the emulation also proves which
 * ranges go up and come back), a stream, the poison flag.  Steps are queued on the stream;
 * the first failure is kept (what + cudaError_t) and makes the later steps no-ops;
 * ex_finish synchronises and reports it. */

typedef struct {
  int emulate;
  char *host, *dev;
  cudaStream_t stream;
  int poison;
  cudaError_t ce;
  const char *what;
  lac_cuda_sw_opts ko; /* the kernels' settings */
} sw_exec;

static void ex_fail(sw_exec *E, cudaError_t ce, const char *what) {
  if (ce != cudaSuccess && E->ce == cudaSuccess) {
    E->ce = ce;
    E->what = what;
  }
}

/* bytes [off, off + len) of the in | out part, host -> device (up = 1) or back */
static void ex_copy(sw_exec *E, int up, size_t off, size_t len) {
  if (E->ce != cudaSuccess || len == 0) return;
  if (E->emulate)
    memcpy(up ? E->dev + off : E->host + off, up ? E->host + off : E->dev + off, len);
  else if (up)
    ex_fail(E, cudaMemcpyAsync(E->dev + off, E->host + off, len, cudaMemcpyHostToDevice, E->stream),
            "cudaMemcpyAsync to the device");
  else
    ex_fail(E, cudaMemcpyAsync(E->host + off, E->dev + off, len, cudaMemcpyDeviceToHost, E->stream),
            "cudaMemcpyAsync to the host");
}

/* NaN (all bits set) in device bytes [off, off + len) when poisoning */
static void ex_poison(sw_exec *E, size_t off, size_t len) {
  if (!E->poison || E->ce != cudaSuccess || len == 0) return;
  if (E->emulate) memset(E->dev + off, 0xff, len);
  else ex_fail(E, cudaMemsetAsync(E->dev + off, 0xff, len, E->stream), "cudaMemsetAsync");
}

/* device offsets of the out block and the tables */
static size_t out_base(const sw_batch *B) { return B->in_at[I_N]; }
static size_t tab_base(const sw_batch *B) { return B->in_at[I_N] + B->out_at[O_N]; }

#define DI(E, B, k) ((float *)((E)->dev + (B)->in_at[k]))
#define DO(E, B, k) ((float *)((E)->dev + out_base(B) + (B)->out_at[k]))
#define DT(E, B, k) ((float *)((E)->dev + tab_base(B) + (B)->dev_at[k]))

static void ex_forward(sw_exec *E, const sw_batch *B, float tau) {
  if (E->ce != cudaSuccess) return;
  const lac_cuda_sw_dims *dims = (const lac_cuda_sw_dims *)(E->dev + B->in_at[I_DIMS]);
  if (E->emulate)
    ex_fail(E,
            (cudaError_t)lac_cuda_sw_emulate_forward(
                B->np, dims, B->max_m, LAC_CUDA_SW_ROWS, &E->ko, tau, B->per_cell, DI(E, B, I_S),
                DI(E, B, I_GO), DI(E, B, I_GE), DO(E, B, O_M), DT(E, B, D_X), DT(E, B, D_Y),
                DO(E, B, O_V), DT(E, B, D_VSTAT)),
            "emulated forward");
  else
    ex_fail(E,
            (cudaError_t)lac_cuda_sw_forward(
                B->np, dims, B->max_m, LAC_CUDA_SW_ROWS, &E->ko, tau, B->per_cell, DI(E, B, I_S),
                DI(E, B, I_GO), DI(E, B, I_GE), DO(E, B, O_M), DT(E, B, D_X), DT(E, B, D_Y),
                DO(E, B, O_V), DT(E, B, D_VSTAT), E->stream),
            "forward kernel launch");
}

static void ex_backward(sw_exec *E, const sw_batch *B, float tau) {
  if (E->ce != cudaSuccess) return;
  const lac_cuda_sw_dims *dims = (const lac_cuda_sw_dims *)(E->dev + B->in_at[I_DIMS]);
  const float *gM = B->has_gM ? DI(E, B, I_GM) : NULL;
  if (E->emulate)
    ex_fail(E,
            (cudaError_t)lac_cuda_sw_emulate_backward(
                B->np, dims, B->max_m, LAC_CUDA_SW_ROWS, &E->ko, tau, B->per_cell, DI(E, B, I_GO),
                DI(E, B, I_GE), DO(E, B, O_M), DT(E, B, D_X), DT(E, B, D_Y), DT(E, B, D_VSTAT),
                DI(E, B, I_GV), gM, DO(E, B, O_DS), DO(E, B, O_DGO), DO(E, B, O_DGE),
                DT(E, B, D_WORK)),
            "emulated backward");
  else
    ex_fail(E,
            (cudaError_t)lac_cuda_sw_backward(
                B->np, dims, B->max_m, LAC_CUDA_SW_ROWS, &E->ko, tau, B->per_cell, DI(E, B, I_GO),
                DI(E, B, I_GE), DO(E, B, O_M), DT(E, B, D_X), DT(E, B, D_Y), DT(E, B, D_VSTAT),
                DI(E, B, I_GV), gM, DO(E, B, O_DS), DO(E, B, O_DGO), DO(E, B, O_DGE),
                DT(E, B, D_WORK), E->stream),
            "backward kernel launch");
}

#undef DI
#undef DO
#undef DT

/* waits for the stream (also after a failure: nothing left in flight on the buffers) */
static lac_status ex_finish(sw_exec *E, lac_error *err, const char *who) {
  if (!E->emulate) {
    cudaError_t ce = cudaStreamSynchronize(E->stream);
    ex_fail(E, ce, "kernels or copies (at synchronisation)");
  }
  if (E->ce != cudaSuccess)
    return lac_error_set(err, LAC_ERR_BACKEND, "%s: %s: %s", who, E->what,
                         cudaGetErrorString(E->ce));
  return LAC_OK;
}

/* The forward of a packed batch: the inputs [dims .. ge] (or the whole in block: all_in) up,
 * outputs and tables poisoned, the forward kernel. */
static void ex_run_forward(sw_exec *E, const sw_batch *B, float tau, int all_in) {
  ex_copy(E, 1, 0, all_in ? B->in_at[I_N] : B->in_at[I_GV]);
  ex_poison(E, out_base(B), B->out_at[O_N] + B->dev_at[D_N]);
  ex_forward(E, B, tau);
}

/* ---------------------------------------------------------------- lac_cuda_sw */

static lac_status sw_run(lac_backend *b, const lac_cuda_sw_opts *ko, const lac_sw_options *opt,
                         int n_pairs, const lac_sw_pair *pairs, float *V, float *const *M,
                         const float *gV, const float *const *gM, float *const *dS,
                         float *const *dgo, float *const *dge, lac_error *err) {
  const char *who = "lac_cuda_sw";
  if (ko && !lac_cuda_sw_opts_valid(ko))
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "%s: kernel settings out of range: strip widths %d/%d (each 4 or 8), "
                         "warps %d (0, 1, 2, 4 or 8), skew_min_pairs %d (0 or more)",
                         who, ko->fwd_wmax, ko->bwd_wmax, ko->warps, ko->skew_min_pairs);
  lac_status st = validate_args(who, opt, n_pairs, pairs, err);
  if (st != LAC_OK) return st;
  if (n_pairs == 0) return LAC_OK;
  const int want_bwd = dS || dgo || dge;
  int want_M = 0, any_gM = 0;
  for (int p = 0; p < n_pairs; p++) {
    want_M |= M && M[p];
    any_gM |= gM && gM[p];
  }
  sw_batch B;
  if ((st = batch_plan(&B, who, opt, n_pairs, pairs, want_M, want_bwd, any_gM, err)) != LAC_OK)
    return st;
  B.nt = pack_threads(b);
  sw_exec E = {0};
  char *blk = NULL;
  if (b) {
    lac_cuda_scratch sc = {0};
    cudaError_t ce = cudaSetDevice(b->params.device);
    if (ce != cudaSuccess) {
      st = lac_error_set(err, LAC_ERR_BACKEND, "%s: cudaSetDevice: %s", who,
                         cudaGetErrorString(ce));
    } else if ((ce = (cudaError_t)lac_cuda_backend_scratch(b, dev_bytes(&B), host_bytes(&B),
                                                           &sc)) != cudaSuccess) {
      st = lac_error_set(err, LAC_ERR_BACKEND,
                         "%s: scratch of %zu device / %zu pinned host bytes: %s", who,
                         dev_bytes(&B), host_bytes(&B), cudaGetErrorString(ce));
    } else {
      E = (sw_exec){0, sc.host, sc.dev, (cudaStream_t)sc.stream, sc.poison, cudaSuccess, NULL,
                    sc.sw};
    }
  } else {
    blk = malloc(host_bytes(&B) + dev_bytes(&B)); /* host_bytes: a multiple of 256 */
    if (!blk) st = lac_error_set(err, LAC_ERR_NOMEM, "%s: out of memory packing %d pairs", who,
                                 n_pairs);
    else
      E = (sw_exec){1, blk, blk + host_bytes(&B), NULL, 1, cudaSuccess, NULL,
                    ko ? *ko : lac_cuda_sw_default_opts()};
  }
  if (st == LAC_OK) {
    batch_bind(&B, E.host);
    if (batch_pack_inputs(&B, pairs)) st = validate_values(who, opt, n_pairs, pairs, err);
    else if (want_bwd && batch_pack_grads(&B, gV, gM)) st = report_bad_grads(&B, gV, gM, err);
  }
  if (st == LAC_OK) {
    ex_run_forward(&E, &B, opt->tau, 1);
    if (want_bwd) ex_backward(&E, &B, opt->tau);
    /* V [dS dgo dge] [M]: the front of the out block, M last */
    ex_copy(&E, 0, out_base(&B), want_M ? B.out_at[O_N] : B.out_at[O_M]);
    st = ex_finish(&E, err, who);
  }
  if (st == LAC_OK) {
    batch_unpack_fwd(&B, V, M);
    if (want_bwd) batch_unpack_bwd(&B, dS, dgo, dge);
  }
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
  return sw_run(b, NULL, opt, n_pairs, pairs, V, M, gV, gM, dS, dgo, dge, err);
}

lac_status lac_cuda_sw_emulated(const lac_cuda_sw_opts *kopts, const lac_sw_options *opt,
                                int n_pairs, const lac_sw_pair *pairs, float *V, float *const *M,
                                const float *gV, const float *const *gM, float *const *dS,
                                float *const *dgo, float *const *dge, lac_error *err) {
  return sw_run(NULL, kopts, opt, n_pairs, pairs, V, M, gV, gM, dS, dgo, dge, err);
}

/* ---------------------------------------------------------------- the aligner's state */

struct lac_cuda_sw_state {
  int emulate;           /* 1: host memory and the emulated kernels */
  int device;            /* the backend's device */
  cudaStream_t stream;   /* our own (non-blocking), on that device */
  int poison;            /* NaN-fill before each kernel run (always when emulating) */
  lac_cuda_sw_opts ko;   /* the kernels' settings: the backend's at lac_cuda_sw_state_new */
  char *dev, *host;      /* [in | out | tables] and [in | out] (both malloc'd emulated) */
  size_t dev_cap, host_cap;
  sw_batch B;            /* the last forward's plan; B.ord owned */
  float tau;
  int have;              /* the device holds the tables of a successful forward */
  int nt;                /* host threads for packing (pack_threads) */
  cublasHandle_t blas;   /* on stream, for the loss (lac_cuda_sw_state_scratch); NULL until then */
};

lac_status lac_cuda_sw_state_new(lac_backend *b, lac_cuda_sw_state **out, lac_error *err) {
  const char *who = "lac_aligner_new";
  if (!out) return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s: out is NULL", who);
  *out = NULL;
  if (b && (!b->ops || !b->ops->name || strcmp(b->ops->name, "cuda") != 0))
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s: the CUDA aligner needs a CUDA backend "
                         "(got %s)", who, b->ops && b->ops->name ? b->ops->name : "none");
  lac_cuda_sw_state *s = calloc(1, sizeof *s);
  if (!s) return lac_error_set(err, LAC_ERR_NOMEM, "%s: out of memory", who);
  s->emulate = b == NULL;
  s->poison = 1;
  s->ko = lac_cuda_sw_default_opts();
  s->nt = pack_threads(b);
  if (b) {
    lac_cuda_scratch sc = {0};
    cudaError_t ce;
    s->device = b->params.device;
    if ((ce = cudaSetDevice(s->device)) != cudaSuccess ||
        (ce = (cudaError_t)lac_cuda_backend_scratch(b, 0, 0, &sc)) != cudaSuccess ||
        (ce = cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking)) != cudaSuccess) {
      free(s);
      return lac_error_set(err, LAC_ERR_BACKEND, "%s: CUDA device %d: %s", who, b->params.device,
                           cudaGetErrorString(ce));
    }
    s->poison = sc.poison;
    s->ko = sc.sw;
  }
  *out = s;
  return LAC_OK;
}

static void state_release(lac_cuda_sw_state *s) {
  if (s->emulate) {
    free(s->dev);
    free(s->host);
  } else {
    if (s->dev) cudaFree(s->dev);
    if (s->host) cudaFreeHost(s->host);
  }
  s->dev = s->host = NULL;
  s->dev_cap = s->host_cap = 0;
}

void lac_cuda_sw_state_free(lac_cuda_sw_state *s) {
  if (!s) return;
  if (!s->emulate) {
    cudaSetDevice(s->device);
    cudaStreamSynchronize(s->stream);
  }
  state_release(s);
  if (s->blas) cublasDestroy(s->blas);
  if (!s->emulate) cudaStreamDestroy(s->stream);
  free(s->B.ord);
  free(s);
}

/* *buf (device memory, or pinned host memory with host = 1) to want bytes when it holds
 * fewer than need (contents not kept) */
static lac_status grow_buffer(char **buf, size_t *cap, size_t need, size_t want, int host,
                              lac_error *err) {
  if (need <= *cap) return LAC_OK;
  if (*buf) {
    if (host) cudaFreeHost(*buf);
    else cudaFree(*buf);
  }
  *buf = NULL;
  *cap = 0;
  const cudaError_t ce =
      host ? cudaMallocHost((void **)buf, want) : cudaMalloc((void **)buf, want);
  if (ce != cudaSuccess) {
    *buf = NULL;
    return lac_error_set(err, LAC_ERR_BACKEND, "lac_cuda_sw_state: %zu %s bytes for the CUDA "
                         "aligner: %s", want, host ? "pinned host" : "device",
                         cudaGetErrorString(ce));
  }
  *cap = want;
  return LAC_OK;
}

/* grows the buffers to the plan B (grow-only, x1.25 slack; contents not kept) */
static lac_status state_reserve(lac_cuda_sw_state *s, size_t need_dev, size_t need_host,
                                lac_error *err) {
  if (need_dev <= s->dev_cap && need_host <= s->host_cap) return LAC_OK;
  const size_t want_dev = need_dev + need_dev / 4, want_host = need_host + need_host / 4;
  if (s->emulate) {
    state_release(s);
    s->dev = malloc(want_dev);
    s->host = malloc(want_host);
    if (!s->dev || !s->host) {
      state_release(s);
      return lac_error_set(err, LAC_ERR_NOMEM, "lac_cuda_sw_state: out of memory (%zu bytes)",
                           want_dev + want_host);
    }
    s->dev_cap = want_dev;
    s->host_cap = want_host;
    return LAC_OK;
  }
  lac_status st = grow_buffer(&s->dev, &s->dev_cap, need_dev, want_dev, 0, err);
  if (st == LAC_OK) st = grow_buffer(&s->host, &s->host_cap, need_host, want_host, 1, err);
  return st;
}

static sw_exec state_exec(const lac_cuda_sw_state *s) {
  return (sw_exec){s->emulate, s->host, s->dev, s->stream, s->emulate ? 1 : s->poison,
                   cudaSuccess, NULL, s->ko};
}

lac_status lac_cuda_sw_state_forward(lac_cuda_sw_state *s, const lac_sw_options *opt,
                                     int n_pairs, const lac_sw_pair *pairs, float *V,
                                     float *const *M, lac_error *err) {
  const char *who = "lac_sw_forward";
  if (!s) return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s: no CUDA state", who);
  s->have = 0;
  lac_status st = validate_args(who, opt, n_pairs, pairs, err);
  if (st != LAC_OK) return st;
  if (n_pairs > 0 && !V) return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s: V is NULL", who);
  int want_M = 0;
  for (int p = 0; p < n_pairs; p++) want_M |= M && M[p];
  free(s->B.ord);
  s->B.ord = NULL;
  /* room for the backward (gV, gM, dS, dgo, dge, work) now: it reuses this layout */
  if ((st = batch_plan(&s->B, who, opt, n_pairs, pairs, want_M, 1, 1, err)) != LAC_OK) return st;
  sw_batch *B = &s->B;
  B->nt = s->nt;
  if (!s->emulate && cudaSetDevice(s->device) != cudaSuccess)
    return lac_error_set(err, LAC_ERR_BACKEND, "%s: cudaSetDevice(%d) failed", who, s->device);
  if (n_pairs > 0 && (st = state_reserve(s, dev_bytes(B), host_bytes(B), err)) != LAC_OK)
    return st;
  s->tau = opt->tau;
  if (n_pairs == 0) {
    s->have = 1;
    return LAC_OK;
  }
  batch_bind(B, s->host);
  if (batch_pack_inputs(B, pairs)) return validate_values(who, opt, n_pairs, pairs, err);
  sw_exec E = state_exec(s);
  ex_run_forward(&E, B, opt->tau, 0);
  ex_copy(&E, 0, out_base(B) + B->out_at[O_V], B->out_at[O_DS] - B->out_at[O_V]);
  if (want_M) ex_copy(&E, 0, out_base(B) + B->out_at[O_M], B->out_at[O_N] - B->out_at[O_M]);
  if ((st = ex_finish(&E, err, who)) != LAC_OK) return st;
  batch_unpack_fwd(B, V, M);
  s->have = 1;
  return LAC_OK;
}

lac_status lac_cuda_sw_state_backward(lac_cuda_sw_state *s, const float *gV,
                                      const float *const *gM, float *const *dS,
                                      float *const *dgo, float *const *dge, lac_error *err) {
  const char *who = "lac_sw_backward";
  if (!s || !s->have)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "%s: no forward to differentiate; call lac_sw_forward first (a failed "
                         "forward leaves none)", who);
  sw_batch *B = &s->B;
  if (B->np == 0) return LAC_OK;
  B->who = who;
  if (batch_pack_grads(B, gV, gM)) return report_bad_grads(B, gV, gM, err);
  if (!dS && !dgo && !dge) return LAC_OK;
  if (!s->emulate && cudaSetDevice(s->device) != cudaSuccess)
    return lac_error_set(err, LAC_ERR_BACKEND, "%s: cudaSetDevice(%d) failed", who, s->device);
  sw_exec E = state_exec(s);
  /* gV [| gM] up; dS..dge and the work scratch poisoned (M, X, Y, vstat are kept) */
  ex_copy(&E, 1, B->in_at[I_GV], (B->has_gM ? B->in_at[I_N] : B->in_at[I_GM]) - B->in_at[I_GV]);
  ex_poison(&E, out_base(B) + B->out_at[O_DS], B->out_at[O_M] - B->out_at[O_DS]);
  ex_poison(&E, tab_base(B) + B->dev_at[D_WORK], B->dev_at[D_N] - B->dev_at[D_WORK]);
  ex_backward(&E, B, s->tau);
  ex_copy(&E, 0, out_base(B) + B->out_at[O_DS], B->out_at[O_M] - B->out_at[O_DS]);
  lac_status st = ex_finish(&E, err, who);
  if (st != LAC_OK) {
    s->have = 0; /* the device may have lost the tables */
    return st;
  }
  batch_unpack_bwd(B, dS, dgo, dge);
  return LAC_OK;
}

int lac_cuda_sw_state_emulated(const lac_cuda_sw_state *s) { return s && s->emulate; }

lac_status lac_cuda_sw_state_scratch(lac_cuda_sw_state *s, size_t dev_bytes, size_t host_bytes,
                                     void **dev, void **host, void **stream, int *poison,
                                     void **blas, lac_error *err) {
  if (!s || s->emulate)
    return lac_error_set(err, LAC_ERR_UNSUPPORTED,
                         "lac_cuda_sw_state_scratch: the emulated state has no device");
  s->have = 0;
  cudaError_t ce = cudaSetDevice(s->device);
  if (ce != cudaSuccess)
    return lac_error_set(err, LAC_ERR_BACKEND, "cudaSetDevice(%d): %s", s->device,
                         cudaGetErrorString(ce));
  /* the buffers may be in use by this stream's earlier work: wait before they move */
  if ((dev_bytes > s->dev_cap || host_bytes > s->host_cap) &&
      (ce = cudaStreamSynchronize(s->stream)) != cudaSuccess)
    return lac_error_set(err, LAC_ERR_BACKEND, "the CUDA aligner's stream: %s",
                         cudaGetErrorString(ce));
  lac_status st = state_reserve(s, dev_bytes, host_bytes, err);
  if (st != LAC_OK) return st;
  if (!s->blas) {
    cublasStatus_t bs = cublasCreate(&s->blas);
    if (bs == CUBLAS_STATUS_SUCCESS) bs = cublasSetStream(s->blas, s->stream);
    if (bs != CUBLAS_STATUS_SUCCESS) {
      if (s->blas) cublasDestroy(s->blas);
      s->blas = NULL;
      return lac_error_set(err, LAC_ERR_BACKEND, "cuBLAS for the CUDA aligner: %s",
                           cublasGetStatusString(bs));
    }
  }
  *dev = s->dev;
  *host = s->host;
  *stream = (void *)s->stream;
  *poison = s->poison;
  *blas = (void *)s->blas;
  return LAC_OK;
}
