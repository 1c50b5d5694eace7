/* cuda_loss.c — the LAC loss on the CUDA backend (lac_cuda_loss, lib/lac_internal.h): the
 * same semantics and outputs as lac_loss (include/lac/align.h), masks included; the CPU
 * oracle is lib/align/loss.c, whose steps this follows one by one.
 *
 * Everything runs on the device, on the backend's stream, between one upload and one
 * download:
 *   upload   frame maps (n1, n2, positions r, inverse maps inv), s1, s2, the alignments'
 *            dims, gV, go, ge, e1, e2 — one copy from the backend's pinned staging buffer;
 *   forward  compaction of the valid frames (x, y), squared norms, Gram matrices G = x y^T
 *            (one batched cuBLAS call), squared distances from exact differences (never
 *            from norms and Gram: they cancel for near-identical frames), S12 and S21 straight into the SW kernels' packed
 *            layout, penalties
 *            gathered at the frames' positions, all 2B alignments in one launch
 *            (kernels/sw_affine.cu), labels, the contrastive KL per row (logits G /
 *            temperature), row softmaxes of M12 and M21, the alignment logits (matrix
 *            product by cuBLAS, or element-wise), the cross-entropy per row;
 *   backward the logits' adjoints back to M (unless stop_grad_m), one SW backward launch
 *            (tables M, X, Y kept on the device since the forward), dS12 + dS21^T, the
 *            contrastive term's gradient by cuBLAS plus the similarity's (cosine: by cuBLAS
 *            too; distances: sums of exact differences in double, as the CPU), scattered back to the frames' positions (0 at masked frames), penalty
 *            gradients summed over pairs and directions at the frames' positions;
 *   download per-row loss values, V, a non-finite-similarity flag, de1, de2, dgo, dge — one
 *            copy, one stream synchronisation; the per-pair sums and L are formed on the host
 *            (lac_loss_finish_terms).
 * Memory and stream: lac_cuda_loss uses the backend's grow-only device and pinned scratch
 * (lac_cuda_backend_scratch), its stream and its cuBLAS handle — one caller at a time per
 * backend; lac_cuda_loss_on_state (what lac_loss calls for an aligner made on a CUDA
 * backend) uses the aligner's own buffers, stream and cuBLAS handle instead, so aligners
 * sharing a backend may compute losses in different threads.  A warm call allocates nothing.
 * Limits: sw_tau > 0 (the hard alignment runs on the CPU: lac_loss), T <= 1024 (the SW
 * kernels' length limit), |go|, |ge| < 1e20.
 *
 * lac_cuda_loss_emulated runs the same sequence on the CPU: host blocks in place of device
 * memory, the kernels' per-element code in loops (kernels/loss.cu, lac_cuda_run.emulate),
 * the SW kernels' lane emulation, cblas_sgemm in place of cuBLAS; every "device" buffer is
 * NaN-filled first, so a value read before it is written shows.  The tests run it against
 * the CPU loss on machines without a GPU.
 */
#include <cblas.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernels/kernels.h" /* kernels/ is not on the library's include path */
#include "align/loss_pieces.h"
#include "lac/align.h"
#include "lac_internal.h"

#define PEN_MAX 1e20f

/* ---------------------------------------------------------------- execution */

typedef struct {
  void *blas; /* a cuBLAS handle on run.stream (the backend's or an aligner's state's) */
  lac_cuda_run run; /* run.emulate: everything on the host */
  lac_error *err;
} lx;

static lac_status lx_fail(lx *x, const char *what, int ce) {
  return lac_error_set(x->err, LAC_ERR_BACKEND, "lac_cuda_loss: %s: %s", what,
                       cudaGetErrorString((cudaError_t)ce));
}

/* C_i[M][N] = op(A_i) op(B_i), row-major, for the B pairs (A_i = A + i sa, ...; strides in
 * floats): one cuBLAS call on the device, a loop of cblas_sgemm in the emulation */
static lac_status lx_gemm(lx *x, int ta, int tb, int M, int N, int K, const float *A, int lda,
                          size_t sa, const float *B, int ldb, size_t sb, float *C, int ldc,
                          size_t sc, int batch) {
  if (!x->run.emulate)
    return lac_cuda_sgemm_batched(x->blas, ta, tb, M, N, K, A, lda, (long long)sa, B, ldb,
                                  (long long)sb, C, ldc, (long long)sc, batch, x->err);
  for (int i = 0; i < batch; i++)
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                N, K, 1.f, A + i * sa, lda, B + i * sb, ldb, 0.f, C + i * sc, ldc);
  return LAC_OK;
}

static int lx_copy(lx *x, void *dst, const void *src, size_t bytes, int to_device) {
  if (x->run.emulate) {
    memcpy(dst, src, bytes);
    return 0;
  }
  return (int)cudaMemcpyAsync(dst, src, bytes,
                              to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost,
                              (cudaStream_t)x->run.stream);
}

static int lx_memset(lx *x, void *dst, int v, size_t bytes) {
  if (x->run.emulate) {
    memset(dst, v, bytes);
    return 0;
  }
  return (int)cudaMemsetAsync(dst, v, bytes, (cudaStream_t)x->run.stream);
}

static int lx_sw_forward(lx *x, int np, const lac_cuda_sw_dims *dims, int max_m, float tau, int pc,
                         const float *S, const float *go, const float *ge, float *M, float *X,
                         float *Y, float *V, float *vstat) {
  if (x->run.emulate)
    return lac_cuda_sw_emulate_forward(np, dims, max_m, LAC_CUDA_SW_ROWS, NULL, tau, pc, S, go,
                                       ge, M, X, Y, V, vstat);
  return lac_cuda_sw_forward(np, dims, max_m, LAC_CUDA_SW_ROWS, NULL, tau, pc, S, go, ge, M, X, Y,
                             V, vstat, x->run.stream);
}

static int lx_sw_backward(lx *x, int np, const lac_cuda_sw_dims *dims, int max_m, float tau, int pc,
                          const float *go, const float *ge, const float *M, const float *X,
                          const float *Y, const float *vstat, const float *gV, const float *gM,
                          float *dS, float *dgo, float *dge, float *work) {
  if (x->run.emulate)
    return lac_cuda_sw_emulate_backward(np, dims, max_m, LAC_CUDA_SW_ROWS, NULL, tau, pc, go, ge, M,
                                        X, Y, vstat, gV, gM, dS, dgo, dge, work);
  return lac_cuda_sw_backward(np, dims, max_m, LAC_CUDA_SW_ROWS, NULL, tau, pc, go, ge, M, X, Y,
                              vstat, gV, gM, dS, dgo, dge, work, x->run.stream);
}

/* ---------------------------------------------------------------- layout */

/* A bump allocator: a sizing pass (base NULL) then a carving pass; 256-byte sections.  With
 * sep set (the emulation's device-only buffers), every section is its own exact-size malloc,
 * so a memory checker sees an index past a section's end. */
#define MAX_SECTIONS 40
typedef struct {
  char *base;
  size_t off;
  int sep, n_own, failed;
  void *own[MAX_SECTIONS];
  size_t own_bytes[MAX_SECTIONS];
} bump;

static void *take(bump *b, size_t bytes) {
  if (b->sep) {
    void *q = b->n_own < MAX_SECTIONS ? malloc(bytes ? bytes : 1) : NULL;
    if (!q) {
      b->failed = 1;
    } else {
      b->own[b->n_own] = q;
      b->own_bytes[b->n_own++] = bytes;
    }
    return q;
  }
  size_t o = (b->off + 255) & ~(size_t)255;
  b->off = o + bytes;
  return b->base ? b->base + o : NULL;
}

static void bump_free(bump *b) {
  for (int k = 0; k < b->n_own; k++) free(b->own[k]);
  b->n_own = 0;
}

/* what goes up (one copy) */
typedef struct {
  int *n1, *n2, *r1, *r2, *inv1, *inv2;
  int64_t *s1, *s2;
  lac_cuda_sw_dims *dims;
  float *gV, *go, *ge, *e1, *e2;
} up_block;

/* what comes back (one copy; de1, de2, dgo, dge last, copied only when asked for) */
typedef struct {
  double *con, *ce;
  float *V;
  int *flag;
  float *de1, *de2, *dgo, *dge;
} down_block;

/* device-only buffers */
typedef struct {
  float *x, *y;
  double *nx, *ny, *lab, *dd, *C;
  float *G, *S, *gop, *gep, *M, *X, *Y, *vstat, *work;
  float *gz, *P, *Ap, *Bp, *lg, *glg, *dAp, *dBp, *gM, *dS, *dgop, *dgep, *gS, *Pg, *rd, *cd;
  float *dx, *dy;
} dev_block;

typedef struct {
  int B, T, d, ld, pc;
  size_t BT, TT, BTd, ng, packed, pen; /* pen: floats per packed penalty buffer */
} sizes;

static void carve_up(bump *b, up_block *u, const sizes *z) {
  u->n1 = take(b, sizeof(int) * z->B);
  u->n2 = take(b, sizeof(int) * z->B);
  u->r1 = take(b, sizeof(int) * z->BT);
  u->r2 = take(b, sizeof(int) * z->BT);
  u->inv1 = take(b, sizeof(int) * z->BT);
  u->inv2 = take(b, sizeof(int) * z->BT);
  u->s1 = take(b, sizeof(int64_t) * z->BT);
  u->s2 = take(b, sizeof(int64_t) * z->BT);
  u->dims = take(b, sizeof(lac_cuda_sw_dims) * 2 * z->B);
  u->gV = take(b, sizeof(float) * 2 * z->B);
  u->go = take(b, sizeof(float) * z->ng);
  u->ge = take(b, sizeof(float) * z->ng);
  u->e1 = take(b, sizeof(float) * z->BTd);
  u->e2 = take(b, sizeof(float) * z->BTd);
}

/* returns the bytes of the front part (without the gradients) */
static size_t carve_down(bump *b, down_block *o, const sizes *z) {
  o->con = take(b, sizeof(double) * z->BT);
  o->ce = take(b, sizeof(double) * z->BT);
  o->V = take(b, sizeof(float) * 2 * z->B);
  o->flag = take(b, sizeof(int));
  size_t front = b->off;
  o->de1 = take(b, sizeof(float) * z->BTd);
  o->de2 = take(b, sizeof(float) * z->BTd);
  o->dgo = take(b, sizeof(float) * z->ng);
  o->dge = take(b, sizeof(float) * z->ng);
  return front;
}

static void carve_dev(bump *b, dev_block *v, const sizes *z) {
  const size_t F = sizeof(float), BTT = (size_t)z->B * z->TT;
  v->x = take(b, F * z->BTd);
  v->y = take(b, F * z->BTd);
  v->nx = take(b, sizeof(double) * z->BT);
  v->ny = take(b, sizeof(double) * z->BT);
  v->lab = take(b, sizeof(double) * BTT);
  v->dd = take(b, sizeof(double) * BTT);
  v->C = take(b, sizeof(double) * BTT);
  v->G = take(b, F * BTT);
  v->S = take(b, F * z->packed);
  v->gop = take(b, F * z->pen);
  v->gep = take(b, F * z->pen);
  v->M = take(b, F * z->packed);
  v->X = take(b, F * z->packed);
  v->Y = take(b, F * z->packed);
  v->vstat = take(b, F * 4 * z->B);
  v->work = take(b, F * 20 * z->BT);
  v->gz = take(b, F * BTT);
  v->P = take(b, F * 2 * BTT);
  v->Ap = take(b, F * BTT);
  v->Bp = take(b, F * BTT);
  v->lg = take(b, F * BTT);
  v->glg = take(b, F * BTT);
  v->dAp = take(b, F * BTT);
  v->dBp = take(b, F * BTT);
  v->gM = take(b, F * z->packed);
  v->dS = take(b, F * z->packed);
  v->dgop = take(b, F * z->pen);
  v->dgep = take(b, F * z->pen);
  v->gS = take(b, F * BTT);
  v->Pg = take(b, F * BTT);
  v->rd = take(b, F * z->BT);
  v->cd = take(b, F * z->BT);
  v->dx = take(b, F * z->BTd);
  v->dy = take(b, F * z->BTd);
}

/* ---------------------------------------------------------------- the loss */

#define K(call, what)                                                                       \
  do {                                                                                      \
    int ce_ = (call);                                                                       \
    if (ce_ != 0) {                                                                         \
      st = lx_fail(&x, what, ce_);                                                          \
      goto done;                                                                            \
    }                                                                                       \
  } while (0)
#define G_(call)                                                                            \
  do {                                                                                      \
    if ((st = (call)) != LAC_OK) goto done;                                                 \
  } while (0)

/* bk: a CUDA backend (its scratch, stream and cuBLAS handle); else ss: an aligner's state (its
 * buffers, stream and cuBLAS handle); both NULL: the emulation */
static lac_status loss_run(lac_backend *bk, lac_cuda_sw_state *ss, const lac_loss_params *p,
                           int B, int T, int d, const float *e1, const float *e2,
                           const int64_t *s1, const int64_t *s2, const uint8_t *valid1,
                           const uint8_t *valid2, const float *go, const float *ge,
                           lac_loss_terms *out, float *de1, float *de2, float *dgo, float *dge,
                           lac_error *err) {
  if (!p || !e1 || !e2 || !s1 || !s2 || !go || !ge)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_cuda_loss: params, e1, e2, s1, s2, go and ge must be non-NULL");
  lac_status st =
      lac_loss_check_inputs(p, B, T, d, e1, e2, valid1, valid2, go, ge, "lac_cuda_loss", err);
  if (st != LAC_OK) return st;
  if (p->sw_tau == 0.0f)
    return lac_error_set(err, LAC_ERR_UNSUPPORTED,
                         "lac_cuda_loss: sw_tau = 0 (the hard alignment) runs on the CPU only: "
                         "use a CPU aligner");
  if (T > LAC_CUDA_SW_MAX_LEN)
    return lac_error_set(err, LAC_ERR_UNSUPPORTED,
                         "lac_cuda_loss: T = %d frames per view; the GPU alignment takes at most "
                         "%d: use a CPU aligner or shorter clips",
                         T, LAC_CUDA_SW_MAX_LEN);
  sizes z;
  z.B = B, z.T = T, z.d = d, z.ld = (T + 7) & ~7, z.pc = p->per_cell_gaps;
  z.BT = (size_t)B * T, z.TT = (size_t)T * T, z.BTd = z.BT * d, z.ng = z.pc ? z.TT : 1;
  z.packed = 2 * (size_t)B * T * z.ld, z.pen = z.pc ? z.packed : 2 * (size_t)B;
  for (size_t c = 0; c < z.ng; c++)
    if (fabsf(go[c]) >= PEN_MAX || fabsf(ge[c]) >= PEN_MAX)
      return lac_error_set(err, LAC_ERR_NUMERIC,
                           "lac_cuda_loss: go or ge at [%zu][%zu] is >= 1e20 in magnitude (%g, %g)",
                           z.pc ? c / T : 0, z.pc ? c % T : 0, (double)go[c], (double)ge[c]);
  const int want_e = de1 || de2, want_g = dgo || dge, want = want_e || want_g;
  const int back_m = want && !p->stop_grad_m && p->beta != 0;
  const int matmul = p->logits == LAC_LOGITS_MATMUL;

  /* sizes of the three blocks */
  bump bu = {0}, bo = {0}, bd = {0};
  up_block hu, du;
  down_block ho, dn;
  dev_block dv;
  carve_up(&bu, &hu, &z);
  const size_t front = carve_down(&bo, &ho, &z);
  carve_dev(&bd, &dv, &z);
  const size_t up_bytes = (bu.off + 255) & ~(size_t)255, down_bytes = (bo.off + 255) & ~(size_t)255;
  const size_t host_bytes = up_bytes + down_bytes, dev_bytes = host_bytes + bd.off;

  const int on_gpu = bk || ss;
  lx x = {NULL, {NULL, on_gpu ? 0 : 1}, err};
  char *hbase = NULL, *dbase = NULL, *emu = NULL;
  int poison = 1;
  if (bk) {
    lac_cuda_scratch sc;
    cudaError_t ce = cudaSetDevice(bk->params.device);
    if (ce == cudaSuccess)
      ce = (cudaError_t)lac_cuda_backend_scratch(bk, dev_bytes, host_bytes, &sc);
    if (ce != cudaSuccess)
      return lac_error_set(err, LAC_ERR_BACKEND,
                           "lac_cuda_loss: scratch of %zu device / %zu pinned host bytes: %s",
                           dev_bytes, host_bytes, cudaGetErrorString(ce));
    hbase = sc.host;
    dbase = sc.dev;
    x.run.stream = sc.stream;
    x.blas = lac_cuda_backend_blas(bk);
    poison = sc.poison;
  } else if (ss) {
    void *dv_, *hv_;
    st = lac_cuda_sw_state_scratch(ss, dev_bytes, host_bytes, &dv_, &hv_, &x.run.stream, &poison,
                                   &x.blas, err);
    if (st != LAC_OK) return st;
    hbase = hv_;
    dbase = dv_;
  } else {
    emu = malloc(2 * host_bytes + 256); /* host staging, then the "device" up and down blocks */
    if (!emu)
      return lac_error_set(err, LAC_ERR_NOMEM, "lac_cuda_loss: cannot allocate %zu bytes",
                           host_bytes + dev_bytes);
    hbase = (char *)(((uintptr_t)emu + 255) & ~(uintptr_t)255);
    dbase = hbase + host_bytes;
  }
  bu.base = hbase, bu.off = 0;
  bo.base = hbase + up_bytes, bo.off = 0;
  carve_up(&bu, &hu, &z);
  carve_down(&bo, &ho, &z);
  bu.base = dbase, bu.off = 0;
  bo.base = dbase + up_bytes, bo.off = 0;
  bd.base = dbase + host_bytes, bd.off = 0;
  bd.sep = !on_gpu;
  carve_up(&bu, &du, &z);
  carve_down(&bo, &dn, &z);
  carve_dev(&bd, &dv, &z);
  if (bd.failed) {
    bump_free(&bd);
    free(emu);
    return lac_error_set(err, LAC_ERR_NOMEM, "lac_cuda_loss: out of memory");
  }

  /* ---- stage the inputs */
  int max_m = 0; /* the widest alignment (the SW launches pick their warps from it) */
  for (int b = 0; b < B; b++) {
    int n1 = 0, n2 = 0;
    for (int t = 0; t < T; t++) {
      const size_t i = (size_t)b * T + t;
      hu.inv1[i] = hu.inv2[i] = -1;
      if (!valid1 || valid1[i]) hu.inv1[i] = n1, hu.r1[(size_t)b * T + n1++] = t;
      if (!valid2 || valid2[i]) hu.inv2[i] = n2, hu.r2[(size_t)b * T + n2++] = t;
    }
    for (int t = n1; t < T; t++) hu.r1[(size_t)b * T + t] = 0;
    for (int t = n2; t < T; t++) hu.r2[(size_t)b * T + t] = 0;
    hu.n1[b] = n1, hu.n2[b] = n2;
    max_m = n1 > max_m ? n1 : max_m;
    max_m = n2 > max_m ? n2 : max_m;
    for (int k = 0; k < 2; k++) {
      const int q = 2 * b + k;
      hu.dims[q] = (lac_cuda_sw_dims){(long long)q * T * z.ld, (long long)q * 10 * T,
                                      k ? n2 : n1, k ? n1 : n2, z.ld, 0};
      hu.gV[q] = (float)((double)p->beta * p->score_weight / B);
    }
  }
  memcpy(hu.s1, s1, sizeof(int64_t) * z.BT);
  memcpy(hu.s2, s2, sizeof(int64_t) * z.BT);
  memcpy(hu.go, go, sizeof(float) * z.ng);
  memcpy(hu.ge, ge, sizeof(float) * z.ng);
  memcpy(hu.e1, e1, sizeof(float) * z.BTd);
  memcpy(hu.e2, e2, sizeof(float) * z.BTd);
  const lac_cuda_loss_shape sh = {B, T, d, z.ld, du.n1, du.n2, du.r1, du.r2, du.inv1, du.inv2};
  const lac_cuda_run *run = &x.run;

  K(lx_copy(&x, dbase, hbase, up_bytes, 1), "copy to the device");
  if (poison) K(lx_memset(&x, dbase + up_bytes, 0xff, on_gpu ? dev_bytes - up_bytes : down_bytes),
                "poison");
  for (int k = 0; k < bd.n_own; k++) memset(bd.own[k], 0xff, bd.own_bytes[k]);
  K(lx_memset(&x, dn.flag, 0, sizeof(int)), "clear");

  /* ---- forward */
  K(lac_cuda_loss_gather(run, &sh, du.e1, du.e2, dv.x, dv.y), "gather");
  K(lac_cuda_loss_norms(run, z.BT, d, dv.x, dv.y, dv.nx, dv.ny), "norms");
  const size_t Td = (size_t)T * d;
  G_(lx_gemm(&x, 0, 1, T, T, d, dv.x, d, Td, dv.y, d, Td, dv.G, T, z.TT, B));
  const int cosine = p->similarity == LAC_SIM_COSINE;
  if (!cosine) K(lac_cuda_loss_sqdist(run, B, T, d, dv.x, dv.y, dv.dd), "squared distances");
  K(lac_cuda_loss_sim_pack(run, &sh, (int)p->similarity, p->sim_eps, dv.G, dv.nx, dv.ny, dv.dd,
                           dv.S, dn.flag),
    "similarity");
  K(lac_cuda_loss_gap_pack(run, &sh, z.pc, du.go, du.ge, dv.gop, dv.gep), "penalties");
  K(lx_sw_forward(&x, 2 * B, du.dims, max_m, p->sw_tau, z.pc, dv.S, dv.gop, dv.gep, dv.M, dv.X,
                  dv.Y, dn.V, dv.vstat),
    "alignment forward");
  K(lac_cuda_loss_labels(run, &sh, du.s1, du.s2, p->label_var, dv.lab), "labels");
  const int con_grad = want_e && p->alpha != 0;
  K(lac_cuda_loss_soft_rows(run, &sh, dv.G, (float)(1.0 / p->temperature), dv.lab, p->log_eps, 1,
                            (double)p->alpha / ((double)B * p->temperature), 1, dn.con,
                            con_grad ? dv.gz : NULL),
    "contrastive");
  if (want_e && !con_grad) K(lx_memset(&x, dv.gz, 0, sizeof(float) * B * z.TT), "clear");
  K(lac_cuda_loss_softmax_m(run, &sh, dv.M, dv.P), "softmax");
  K(lac_cuda_loss_logits_prep(run, &sh, matmul, dv.P, dv.Ap, dv.Bp, dv.lg), "logits");
  if (matmul) G_(lx_gemm(&x, 0, 1, T, T, T, dv.Ap, T, z.TT, dv.Bp, T, z.TT, dv.lg, T, z.TT, B));
  K(lac_cuda_loss_soft_rows(run, &sh, dv.lg, 1.0f, dv.lab, 0.0, 0, (double)p->beta / B, 0, dn.ce,
                            back_m ? dv.glg : NULL),
    "cross-entropy");

  /* ---- backward */
  if (back_m) {
    if (matmul) {
      G_(lx_gemm(&x, 0, 0, T, T, T, dv.glg, T, z.TT, dv.Bp, T, z.TT, dv.dAp, T, z.TT, B));
      G_(lx_gemm(&x, 1, 0, T, T, T, dv.glg, T, z.TT, dv.Ap, T, z.TT, dv.dBp, T, z.TT, B));
    }
    K(lac_cuda_loss_softmax_back(run, &sh, matmul, dv.P, dv.dAp, dv.dBp, dv.glg, dv.gM),
      "softmax backward");
  }
  if (want) {
    K(lx_sw_backward(&x, 2 * B, du.dims, max_m, p->sw_tau, z.pc, dv.gop, dv.gep, dv.M, dv.X,
                     dv.Y, dv.vstat, du.gV, back_m ? dv.gM : NULL, want_e ? dv.dS : NULL,
                     dgo ? dv.dgop : NULL, dge ? dv.dgep : NULL, dv.work),
      "alignment backward");
  }
  if (want_e) {
    K(lac_cuda_loss_combine_ds(run, &sh, dv.dS, dv.gS), "dS");
    K(lac_cuda_loss_simgrad(run, (int)p->similarity, p->sim_eps, B, T, dv.G, dv.nx, dv.ny, dv.dd,
                            dv.gS, dv.gz, dv.Pg, dv.rd, dv.cd, dv.C),
      "similarity backward");
    G_(lx_gemm(&x, 0, 0, T, d, T, dv.Pg, T, z.TT, dv.y, d, Td, dv.dx, d, Td, B));
    G_(lx_gemm(&x, 1, 0, T, d, T, dv.Pg, T, z.TT, dv.x, d, Td, dv.dy, d, Td, B));
    if (cosine) {
      K(lac_cuda_loss_row_axpy(run, z.BT, d, dv.rd, dv.x, dv.dx), "row add");
      K(lac_cuda_loss_row_axpy(run, z.BT, d, dv.cd, dv.y, dv.dy), "row add");
    } else {
      K(lac_cuda_loss_distgrad(run, B, T, d, dv.C, dv.x, dv.y, dv.dx, dv.dy), "distance backward");
    }
    K(lac_cuda_loss_scatter(run, &sh, dv.dx, dv.dy, de1 ? dn.de1 : NULL, de2 ? dn.de2 : NULL),
      "scatter");
  }
  if (dgo) K(lac_cuda_loss_gap_sum(run, &sh, z.pc, dv.dgop, dn.dgo), "gap sums");
  if (dge) K(lac_cuda_loss_gap_sum(run, &sh, z.pc, dv.dgep, dn.dge), "gap sums");

  /* ---- results */
  K(lx_copy(&x, hbase + up_bytes, dbase + up_bytes, want ? down_bytes : front, 0),
    "copy to the host");
  if (on_gpu)
    K((int)cudaStreamSynchronize((cudaStream_t)x.run.stream), "kernels (at synchronisation)");
  if (*ho.flag > 0) {
    st = lac_error_set(err, LAC_ERR_NUMERIC,
                       "lac_cuda_loss: non-finite similarity in pair %d (identical frames with "
                       "sim_eps = 0?)",
                       *ho.flag - 1);
    goto done;
  }
  double sum_con = 0, sum_ce = 0, sum_score = 0;
  for (int b = 0; b < B; b++) {
    const int n1 = hu.n1[b], n2 = hu.n2[b];
    double con = 0, ce = 0;
    for (int a = 0; a < n1; a++) {
      con += ho.con[(size_t)b * T + a];
      ce += ho.ce[(size_t)b * T + a];
    }
    sum_con += con / ((double)n1 * n2);
    sum_ce += ce / n1;
    sum_score += (double)ho.V[2 * b] + (double)ho.V[2 * b + 1];
  }
  G_(lac_loss_finish_terms(p, B, sum_con, sum_ce, sum_score, "lac_cuda_loss", out, err));
  if (de1) memcpy(de1, ho.de1, sizeof(float) * z.BTd);
  if (de2) memcpy(de2, ho.de2, sizeof(float) * z.BTd);
  if (dgo) memcpy(dgo, ho.dgo, sizeof(float) * z.ng);
  if (dge) memcpy(dge, ho.dge, sizeof(float) * z.ng);
  st = LAC_OK;
done:
  if (on_gpu && st != LAC_OK) cudaStreamSynchronize((cudaStream_t)x.run.stream);
  bump_free(&bd);
  free(emu);
  return st;
}

lac_status lac_cuda_loss(lac_backend *b, const lac_loss_params *p, int B, int T, int d,
                         const float *e1, const float *e2, const int64_t *s1, const int64_t *s2,
                         const uint8_t *valid1, const uint8_t *valid2, const float *go,
                         const float *ge, lac_loss_terms *out, float *de1, float *de2, float *dgo,
                         float *dge, lac_error *err) {
  if (!b || !b->ops || !b->ops->name || strcmp(b->ops->name, "cuda") != 0)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_cuda_loss: needs a CUDA backend (got %s)",
                         b && b->ops && b->ops->name ? b->ops->name : "none");
  return loss_run(b, NULL, p, B, T, d, e1, e2, s1, s2, valid1, valid2, go, ge, out, de1, de2, dgo,
                  dge, err);
}

lac_status lac_cuda_loss_emulated(const lac_loss_params *p, int B, int T, int d, const float *e1,
                                  const float *e2, const int64_t *s1, const int64_t *s2,
                                  const uint8_t *valid1, const uint8_t *valid2, const float *go,
                                  const float *ge, lac_loss_terms *out, float *de1, float *de2,
                                  float *dgo, float *dge, lac_error *err) {
  return loss_run(NULL, NULL, p, B, T, d, e1, e2, s1, s2, valid1, valid2, go, ge, out, de1, de2,
                  dgo, dge, err);
}

lac_status lac_cuda_loss_on_state(lac_cuda_sw_state *s, const lac_loss_params *p, int B, int T,
                                  int d, const float *e1, const float *e2, const int64_t *s1,
                                  const int64_t *s2, const uint8_t *valid1,
                                  const uint8_t *valid2, const float *go, const float *ge,
                                  lac_loss_terms *out, float *de1, float *de2, float *dgo,
                                  float *dge, lac_error *err) {
  if (!s) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_cuda_loss: no CUDA state");
  return loss_run(NULL, lac_cuda_sw_state_emulated(s) ? NULL : s, p, B, T, d, e1, e2, s1, s2,
                  valid1, valid2, go, ge, out, de1, de2, dgo, dge, err);
}
