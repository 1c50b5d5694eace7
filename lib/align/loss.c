/* loss.c — the LAC loss (include/lac/align.h, METHOD.md §3) and its exact gradients:
 * lac_loss_preset and lac_loss.
 *
 * Does, per call:
 *  1. checks the options and the inputs (NaN/Inf anywhere in e1, e2, go, ge is refused);
 *  2. per pair, drops the masked frames (valid = 0) of both views: everything below runs on
 *     the n1 x n2 valid frames, so masked frames neither change the loss nor get gradient;
 *  3. builds S12 = sim(e1, e2) (lac_sim_forward: lac_similarity_matrix through a double GEMM)
 *     and S21 = S12^T (every similarity is symmetric in its arguments, bit for bit), gathers
 *     per-cell penalties at the frames' positions, and runs all 2B alignments (pair b:
 *     2b = 1->2, 2b+1 = 2->1) in ONE lac_sw_forward call;
 *  4. per pair: Gaussian labels, the contrastive KL (logits by cblas_sgemm, max-subtracted
 *     log-softmax in double), A = softmax_row(M12), Bm = softmax_row(M21), the alignment
 *     logits (matrix product by cblas_sgemm, or element-wise), the soft-target cross-entropy;
 *     and, when gradients are asked for, the adjoints of all of it back to M12/M21 (unless
 *     stop_grad_m) and to e1, e2 through the contrastive logits;
 *  5. one lac_sw_backward call (gV = beta * score_weight / B, gM = the M adjoints) and the
 *     similarity's backward (lac_sim_backward: double GEMMs) into de1, de2; gap gradients summed
 *     over pairs and directions.
 * Gradient semantics: de1, de2, dgo, dge are overwritten with dL/d(input) (not +=).
 *
 * With an aligner made on a CUDA backend (and sw_tau > 0) everything above runs on its GPU
 * instead: lac_cuda_loss_on_state (lib/cuda/cuda_loss.c), same contract.
 *
 * Memory: one workspace sized by B, T, d, kept in the aligner (grow-only,
 * lac_aligner_loss_workspace), so a warm call allocates nothing.
 *
 * Threads: the per-pair loop of step 4 runs its pairs on the aligner's threads (OpenMP),
 * each thread with its own scratch, the terms summed in pair order afterwards, so results do
 * not depend on the thread count; the alignments thread inside lac_sw_forward/backward, the
 * similarity's GEMMs inside OpenBLAS.  Keeps no values between calls.
 *
 * Numerics: the label rows are normalised after subtracting their smallest squared index
 * distance, so no valid row is 0/0 (the reference's float32 exp underflows to a zero row
 * when a frame is more than ~45 indices from every frame of the other view); every softmax
 * is max-subtracted; row sums, dot products of adjoints and loss sums are in double.
 */
#include <cblas.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
static int thread_id(void) { return omp_get_thread_num(); }
#else
static int thread_id(void) { return 0; } /* builds without OpenMP (tools/gpu-check.sh) */
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "align/loss_pieces.h"
#include "align/loss_rows.h"
#include "lac/align.h"
#include "lac_internal.h"

/* ---------------------------------------------------------------- presets */

lac_status lac_loss_preset(const char *name, lac_loss_params *out, lac_error *err) {
  if (!name || !out)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_loss_preset: name and out must be non-NULL");
  lac_loss_params p;
  memset(&p, 0, sizeof p);
  p.label_var = 10.f;
  p.temperature = 0.8f;
  p.log_eps = 1e-6f;
  p.sw_tau = 0.8f;
  p.similarity = LAC_SIM_INV_SQDIST;
  p.sim_eps = 1e-6f;
  p.logits = LAC_LOGITS_MATMUL;
  p.score_weight = 1.f;
  p.alpha = 1.f;
  p.beta = 0.01f;
  p.per_cell_gaps = 1;
  p.stop_grad_m = 0;
  if (strcmp(name, "reference") == 0) {
    /* as above: the LAC code's forward */
  } else if (strcmp(name, "paper") == 0) {
    p.logits = LAC_LOGITS_ELEMENTWISE;
    p.log_eps = 0.f;
  } else {
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_loss_preset: unknown preset '%s' (known: reference, paper)", name);
  }
  *out = p;
  return LAC_OK;
}

/* ---------------------------------------------------------------- checks */

__attribute__((format(printf, 3, 4))) static lac_status bad_param(lac_error *err, const char *who,
                                                                  const char *fmt, ...) {
  char msg[LAC_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s: %s", who, msg);
}

static lac_status check_params(const lac_loss_params *p, const char *who, lac_error *err) {
#define BAD(...) return bad_param(err, who, __VA_ARGS__)
  if (!(p->label_var > 0) || !isfinite(p->label_var))
    BAD("label_var must be finite and > 0 (got %g)", (double)p->label_var);
  if (!(p->temperature > 0) || !isfinite(p->temperature))
    BAD("temperature must be finite and > 0 (got %g)", (double)p->temperature);
  if (!(p->log_eps >= 0) || !isfinite(p->log_eps))
    BAD("log_eps must be finite and >= 0 (got %g)", (double)p->log_eps);
  if (!(p->sw_tau >= 0) || !isfinite(p->sw_tau))
    BAD("sw_tau must be finite and >= 0 (got %g)", (double)p->sw_tau);
  if (p->similarity != LAC_SIM_INV_SQDIST && p->similarity != LAC_SIM_NEG_SQDIST &&
      p->similarity != LAC_SIM_COSINE)
    BAD("unknown similarity %d (0 inverse squared distance, 1 negative squared distance, 2 cosine)",
        (int)p->similarity);
  if (!(p->sim_eps >= 0) || !isfinite(p->sim_eps))
    BAD("sim_eps must be finite and >= 0 (got %g)", (double)p->sim_eps);
  if (p->logits != LAC_LOGITS_MATMUL && p->logits != LAC_LOGITS_ELEMENTWISE)
    BAD("unknown logits mode %d (0 matrix product, 1 element-wise)", (int)p->logits);
  if (!isfinite(p->score_weight) || !isfinite(p->alpha) || !isfinite(p->beta))
    BAD("score_weight, alpha and beta must be finite");
  if (p->per_cell_gaps != 0 && p->per_cell_gaps != 1) BAD("per_cell_gaps must be 0 or 1");
  if (p->stop_grad_m != 0 && p->stop_grad_m != 1) BAD("stop_grad_m must be 0 or 1");
#undef BAD
  return LAC_OK;
}

/* The first non-finite value of x[0..n-1], or -1. */
static long first_nonfinite(const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return (long)i;
  return -1;
}

lac_status lac_loss_check_inputs(const lac_loss_params *p, int B, int T, int d, const float *e1,
                                 const float *e2, const uint8_t *valid1, const uint8_t *valid2,
                                 const float *go, const float *ge, const char *who,
                                 lac_error *err) {
  if (B < 1 || T < 1 || d < 1)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s: need B, T, d >= 1 (got %d, %d, %d)", who,
                         B, T, d);
  /* sizes: the workspace is O(B T^2 + B T d) and must stay far from size_t overflow */
  if ((double)B * T * T * 64.0 + (double)B * T * d * 16.0 > (double)(SIZE_MAX / 4))
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s: B = %d, T = %d, d = %d is too large", who,
                         B, T, d);
  lac_status st = check_params(p, who, err);
  if (st != LAC_OK) return st;
  const int pc = p->per_cell_gaps;
  const size_t TT = (size_t)T * T, Td = (size_t)T * d, ng = pc ? TT : 1;
  long bad;
  if ((bad = first_nonfinite(e1, (size_t)B * Td)) >= 0)
    return lac_error_set(err, LAC_ERR_NUMERIC,
                         "%s: e1 has a non-finite value at pair %ld, frame %ld, dim %ld", who,
                         bad / (long)Td, bad % (long)Td / d, bad % d);
  if ((bad = first_nonfinite(e2, (size_t)B * Td)) >= 0)
    return lac_error_set(err, LAC_ERR_NUMERIC,
                         "%s: e2 has a non-finite value at pair %ld, frame %ld, dim %ld", who,
                         bad / (long)Td, bad % (long)Td / d, bad % d);
  if ((bad = first_nonfinite(go, ng)) >= 0)
    return lac_error_set(err, LAC_ERR_NUMERIC, "%s: go has a non-finite value at [%ld][%ld]", who,
                         pc ? bad / T : 0, pc ? bad % T : 0);
  if ((bad = first_nonfinite(ge, ng)) >= 0)
    return lac_error_set(err, LAC_ERR_NUMERIC, "%s: ge has a non-finite value at [%ld][%ld]", who,
                         pc ? bad / T : 0, pc ? bad % T : 0);
  for (int b = 0; b < B; b++) {
    int c1 = 0, c2 = 0;
    for (int t = 0; t < T; t++) {
      c1 += !valid1 || valid1[(size_t)b * T + t];
      c2 += !valid2 || valid2[(size_t)b * T + t];
    }
    if (c1 == 0 || c2 == 0)
      return lac_error_set(err, LAC_ERR_INVALID_ARG,
                           "%s: pair %d: view %d has no valid frame (every frame masked)", who, b,
                           c1 == 0 ? 1 : 2);
  }
  return LAC_OK;
}

/* ---------------------------------------------------------------- workspace */

/* A bump allocator over one block: a sizing pass (base NULL) then a carving pass. */
typedef struct {
  char *base;
  size_t off;
} bump;

static void *take(bump *b, size_t bytes) {
  size_t o = (b->off + 63) & ~(size_t)63;
  b->off = o + bytes;
  return b->base ? b->base + o : NULL;
}

/* the per-pair loop's scratch, one copy per thread */
typedef struct {
  double *lab;      /* [T*T] labels */
  float *z, *gz;    /* [T*T] contrastive logits and their adjoint */
  float *A, *Bm;    /* [T*T] softmax of M12 (n1 x n2), of M21 (n2 x n1) */
  float *Ap, *Bp;   /* [T*T] A, Bm with columns at frame positions (n1 x T, n2 x T) */
  float *lg, *glg;  /* [T*T] alignment logits and their adjoint */
  float *dAp, *dBp; /* [T*T] adjoints of Ap, Bp */
  float *dA, *dBm;  /* [T*T] adjoints of A, Bm */
  float *g1, *g2;   /* [T][d] contrastive gradients of the compacted views */
  double *row;      /* [T] one row's exponentials (lac_row_soft_target, lac_row_softmax) */
} pair_ws;

#define PAIR_WS_FIELDS(X) \
  X(lab) X(z) X(gz) X(A) X(Bm) X(Ap) X(Bp) X(lg) X(glg) X(dAp) X(dBp) X(dA) X(dBm) X(g1) X(g2) \
  X(row)

static void carve_pair(bump *b, pair_ws *s, int T, int d) {
  const size_t TT = (size_t)T * T, Td = (size_t)T * d;
  s->lab = take(b, sizeof(double) * TT);
#define PW_TT(f) s->f = take(b, sizeof(float) * TT);
  PW_TT(z) PW_TT(gz) PW_TT(A) PW_TT(Bm) PW_TT(Ap) PW_TT(Bp) PW_TT(lg) PW_TT(glg) PW_TT(dAp)
  PW_TT(dBp) PW_TT(dA) PW_TT(dBm)
#undef PW_TT
  s->g1 = take(b, sizeof(float) * Td);
  s->g2 = take(b, sizeof(float) * Td);
  s->row = take(b, sizeof(double) * T);
}

/* thread t's copy: thread 0's pointers moved by t strides */
static pair_ws pair_ws_at(const pair_ws *s0, size_t stride, int t) {
  pair_ws s;
#define PW_AT(f) s.f = (void *)((char *)s0->f + (size_t)t * stride);
  PAIR_WS_FIELDS(PW_AT)
#undef PW_AT
  return s;
}

typedef struct {
  /* per pair b */
  int *n1, *n2;     /* [B] valid frames per view */
  int *r1, *r2;     /* [B][T] positions of the valid frames */
  float *e1c, *e2c; /* [B][T][d] valid frames, compacted */
  /* per direction p = 2b + k */
  lac_sw_pair *pairs;                       /* [2B] */
  float *V;                                 /* [2B] */
  float **Mp, **gMp, **dSp, **dgop, **dgep; /* [2B] pointers */
  float *S, *M, *gM, *dS;                   /* [2B][T*T] */
  float *gaps;                              /* per-cell: [2B][2][T*T] gathered go, ge */
  float *dgaps;                             /* [2B][2][T*T] (per-cell) or [2B][2] (scalar) */
  float *gV;                                /* [2B] */
  double *terms;    /* [B][3]: contrastive, cross-entropy and score terms of each pair */
  double *dx, *dy;  /* [T][d] similarity gradients of the compacted views */
  double *sim;      /* lac_sim_ws_doubles(T, T, d): the similarity's GEMM workspace */
  /* scratch of the per-pair loop: one per thread, pair_ws_at(&w->pw, w->pw_stride, t) */
  pair_ws pw;
  size_t pw_stride;
} loss_ws;

static void carve(bump *b, loss_ws *w, int B, int T, int d, int per_cell, int nt) {
  size_t TT = (size_t)T * T, Td = (size_t)T * d, P = 2 * (size_t)B;
  w->n1 = take(b, sizeof(int) * B);
  w->n2 = take(b, sizeof(int) * B);
  w->r1 = take(b, sizeof(int) * B * T);
  w->r2 = take(b, sizeof(int) * B * T);
  w->e1c = take(b, sizeof(float) * B * Td);
  w->e2c = take(b, sizeof(float) * B * Td);
  w->pairs = take(b, sizeof(lac_sw_pair) * P);
  w->V = take(b, sizeof(float) * P);
  w->gV = take(b, sizeof(float) * P);
  w->Mp = take(b, sizeof(float *) * P);
  w->gMp = take(b, sizeof(float *) * P);
  w->dSp = take(b, sizeof(float *) * P);
  w->dgop = take(b, sizeof(float *) * P);
  w->dgep = take(b, sizeof(float *) * P);
  w->S = take(b, sizeof(float) * P * TT);
  w->M = take(b, sizeof(float) * P * TT);
  w->gM = take(b, sizeof(float) * P * TT);
  w->dS = take(b, sizeof(float) * P * TT);
  w->gaps = per_cell ? take(b, sizeof(float) * P * 2 * TT) : NULL;
  w->dgaps = take(b, sizeof(float) * P * 2 * (per_cell ? TT : 1));
  w->dx = take(b, sizeof(double) * Td);
  w->dy = take(b, sizeof(double) * Td);
  w->sim = take(b, sizeof(double) * lac_sim_ws_doubles(T, T, d));
  w->terms = take(b, sizeof(double) * 3 * (size_t)B);
  /* the per-pair scratch: thread 0's, then nt - 1 more at a 64-byte multiple stride */
  b->off = (b->off + 63) & ~(size_t)63;
  const size_t start = b->off;
  carve_pair(b, &w->pw, T, d);
  w->pw_stride = (b->off - start + 63) & ~(size_t)63;
  b->off = start + (size_t)nt * w->pw_stride;
}

/* ---------------------------------------------------------------- pieces */

lac_status lac_loss_finish_terms(const lac_loss_params *p, int B, double sum_con, double sum_ce,
                                 double sum_score, const char *who, lac_loss_terms *out,
                                 lac_error *err) {
  const double total =
      ((double)p->alpha * sum_con + (double)p->beta * (sum_ce + (double)p->score_weight * sum_score)) /
      B;
  if (!isfinite(total) || !isfinite(sum_con) || !isfinite(sum_ce) || !isfinite(sum_score))
    return lac_error_set(err, LAC_ERR_NUMERIC,
                         "%s: non-finite loss (contrastive %g, cross-entropy %g, score %g)", who,
                         sum_con / B, sum_ce / B, sum_score / B);
  if (out) {
    out->total = total;
    out->contrastive = sum_con / B;
    out->local_ce = sum_ce / B;
    out->score = sum_score / B;
  }
  return LAC_OK;
}

/* y = softmax over each row of x [rows][cols]; work: cols doubles */
static void softmax_rows(int rows, int cols, const float *x, float *y, double *work) {
  for (int a = 0; a < rows; a++)
    lac_row_softmax(cols, x + (size_t)a * cols, y + (size_t)a * cols, work);
}

/* g = dL/dx of y = softmax_row(x) given dy = dL/dy (g and dy distinct) */
static void softmax_rows_backward(int rows, int cols, const float *y, const float *dy, float *g) {
  memcpy(g, dy, sizeof(float) * (size_t)rows * cols);
  for (int a = 0; a < rows; a++)
    lac_row_softmax_backward(cols, y + (size_t)a * cols, g + (size_t)a * cols);
}

/* ---------------------------------------------------------------- the loss */

lac_status lac_loss(lac_aligner *a, const lac_loss_params *p, int B, int T, int d, const float *e1,
                    const float *e2, const int64_t *s1, const int64_t *s2, const uint8_t *valid1,
                    const uint8_t *valid2, const float *go, const float *ge, lac_loss_terms *out,
                    float *de1, float *de2, float *dgo, float *dge, lac_error *err) {
  if (!a || !p || !e1 || !e2 || !s1 || !s2 || !go || !ge)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_loss: aligner, params, e1, e2, s1, s2, go and ge must be non-NULL");
  lac_status st =
      lac_loss_check_inputs(p, B, T, d, e1, e2, valid1, valid2, go, ge, "lac_loss", err);
  if (st != LAC_OK) return st;
#if LAC_HAVE_CUDA
  /* a CUDA aligner: the whole loss on its device (hard alignments stay here) */
  lac_cuda_sw_state *cs = p->sw_tau > 0 ? lac_aligner_take_cuda_state(a) : NULL;
  if (cs)
    return lac_cuda_loss_on_state(cs, p, B, T, d, e1, e2, s1, s2, valid1, valid2, go, ge, out,
                                  de1, de2, dgo, dge, err);
#endif
  const int pc = p->per_cell_gaps;
  const size_t TT = (size_t)T * T, Td = (size_t)T * d, ng = pc ? TT : 1;

  const int want_e = de1 || de2, want_g = dgo || dge, want = want_e || want_g;
  /* the per-pair loop runs on the aligner's threads (the GEMMs inside it then on one) */
  const int nt = B < lac_aligner_n_threads(a) ? B : lac_aligner_n_threads(a);
  bump bp = {NULL, 0};
  loss_ws w;
  carve(&bp, &w, B, T, d, pc, nt);
  const size_t ws_bytes = bp.off;
  bp.base = lac_aligner_loss_workspace(a, ws_bytes);
  if (!bp.base)
    return lac_error_set(err, LAC_ERR_NOMEM, "lac_loss: cannot allocate %zu bytes of workspace",
                         ws_bytes);
  bp.off = 0;
  carve(&bp, &w, B, T, d, pc, nt);

  if (de1) memset(de1, 0, sizeof(float) * B * Td);
  if (de2) memset(de2, 0, sizeof(float) * B * Td);

  /* ---- gather valid frames, similarities, penalties */
  for (int b = 0; b < B; b++) {
    int *r1 = w.r1 + (size_t)b * T, *r2 = w.r2 + (size_t)b * T, n1 = 0, n2 = 0;
    for (int t = 0; t < T; t++) {
      if (!valid1 || valid1[(size_t)b * T + t]) r1[n1++] = t;
      if (!valid2 || valid2[(size_t)b * T + t]) r2[n2++] = t;
    }
    w.n1[b] = n1;
    w.n2[b] = n2;
    float *x = w.e1c + (size_t)b * Td, *y = w.e2c + (size_t)b * Td;
    for (int i = 0; i < n1; i++)
      memcpy(x + (size_t)i * d, e1 + (size_t)b * Td + (size_t)r1[i] * d, sizeof(float) * d);
    for (int j = 0; j < n2; j++)
      memcpy(y + (size_t)j * d, e2 + (size_t)b * Td + (size_t)r2[j] * d, sizeof(float) * d);
    float *S12 = w.S + (2 * (size_t)b) * TT, *S21 = w.S + (2 * (size_t)b + 1) * TT;
    st = lac_sim_forward(p->similarity, p->sim_eps, n1, n2, d, x, y, S12, w.sim, err);
    if (st != LAC_OK) goto done;
    for (int i = 0; i < n1; i++)
      for (int j = 0; j < n2; j++) S21[(size_t)j * n1 + i] = S12[(size_t)i * n2 + j];
    const float *o12 = go, *x12 = ge, *o21 = go, *x21 = ge;
    if (pc && !(n1 == T && n2 == T)) {
      float *g = w.gaps + (2 * (size_t)b) * 2 * TT;
      float *go12 = g, *ge12 = g + TT, *go21 = g + 2 * TT, *ge21 = g + 3 * TT;
      for (int i = 0; i < n1; i++)
        for (int j = 0; j < n2; j++) {
          go12[(size_t)i * n2 + j] = go[(size_t)r1[i] * T + r2[j]];
          ge12[(size_t)i * n2 + j] = ge[(size_t)r1[i] * T + r2[j]];
          go21[(size_t)j * n1 + i] = go[(size_t)r2[j] * T + r1[i]];
          ge21[(size_t)j * n1 + i] = ge[(size_t)r2[j] * T + r1[i]];
        }
      o12 = go12, x12 = ge12, o21 = go21, x21 = ge21;
    }
    w.pairs[2 * b] = (lac_sw_pair){n1, n2, S12, o12, x12};
    w.pairs[2 * b + 1] = (lac_sw_pair){n2, n1, S21, o21, x21};
  }
  for (int q = 0; q < 2 * B; q++) {
    w.Mp[q] = w.M + (size_t)q * TT;
    w.gMp[q] = w.gM + (size_t)q * TT;
    w.dSp[q] = w.dS + (size_t)q * TT;
    w.dgop[q] = w.dgaps + (size_t)q * 2 * ng;
    w.dgep[q] = w.dgaps + (size_t)q * 2 * ng + ng;
  }

  /* ---- all 2B alignments at once */
  lac_sw_options so = {p->sw_tau, pc};
  st = lac_sw_forward(a, &so, 2 * B, w.pairs, w.V, w.Mp, err);
  if (st != LAC_OK) goto done;

  /* ---- per pair: labels, contrastive term, alignment cross-entropy, adjoints.  Pairs are
   * independent (each writes its own rows of de1, de2 and its own gM); on nt threads, each
   * with its own scratch; the terms are summed in pair order afterwards. */
  const double temp = p->temperature, eps_log = p->log_eps;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
  for (int b = 0; b < B; b++) {
    const pair_ws s = pair_ws_at(&w.pw, w.pw_stride, thread_id());
    const int n1 = w.n1[b], n2 = w.n2[b];
    const int *r1 = w.r1 + (size_t)b * T, *r2 = w.r2 + (size_t)b * T;
    const float *x = w.e1c + (size_t)b * Td, *y = w.e2c + (size_t)b * Td;
    for (int i = 0; i < n1; i++)
      lac_row_labels(n2, (double)s1[(size_t)b * T + r1[i]], s2 + (size_t)b * T, r2, p->label_var,
                     s.lab + (size_t)i * n2);

    /* contrastive: z = x y^T / temperature, KL per row, / (n1 n2) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n1, n2, d, (float)(1.0 / temp), x, d, y, d,
                0.f, s.z, n2);
    double con = 0, gscale = (double)p->alpha / ((double)B * n1 * n2);
    for (int i = 0; i < n1; i++)
      con += lac_row_soft_target(n2, s.z + (size_t)i * n2, 1.0f, s.lab + (size_t)i * n2, eps_log,
                                 1, gscale / temp, want_e ? s.gz + (size_t)i * n2 : NULL, s.row);
    con /= (double)n1 * n2;
    if (want_e && p->alpha != 0) {
      /* dx = gz y, dy = gz^T x (gz already holds alpha / (B n1 n2 temperature)) */
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n1, d, n2, 1.f, s.gz, n2, y, d, 0.f,
                  s.g1, d);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n2, d, n1, 1.f, s.gz, n2, x, d, 0.f,
                  s.g2, d);
      if (de1)
        for (int i = 0; i < n1; i++)
          for (int k = 0; k < d; k++)
            de1[(size_t)b * Td + (size_t)r1[i] * d + k] += s.g1[(size_t)i * d + k];
      if (de2)
        for (int j = 0; j < n2; j++)
          for (int k = 0; k < d; k++)
            de2[(size_t)b * Td + (size_t)r2[j] * d + k] += s.g2[(size_t)j * d + k];
    }

    /* alignment logits from A = softmax_row(M12) (n1 x n2), Bm = softmax_row(M21) (n2 x n1) */
    const float *M12 = w.Mp[2 * b], *M21 = w.Mp[2 * b + 1];
    softmax_rows(n1, n2, M12, s.A, s.row);
    softmax_rows(n2, n1, M21, s.Bm, s.row);
    if (p->logits == LAC_LOGITS_MATMUL) {
      /* columns at their frame positions, zeros at masked frames: logits[a][c] =
       * sum_t A[a][t] Bm[c][t] over positions t valid in both views */
      memset(s.Ap, 0, sizeof(float) * (size_t)n1 * T);
      memset(s.Bp, 0, sizeof(float) * (size_t)n2 * T);
      for (int i = 0; i < n1; i++)
        for (int k = 0; k < n2; k++) s.Ap[(size_t)i * T + r2[k]] = s.A[(size_t)i * n2 + k];
      for (int j = 0; j < n2; j++)
        for (int k = 0; k < n1; k++) s.Bp[(size_t)j * T + r1[k]] = s.Bm[(size_t)j * n1 + k];
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n1, n2, T, 1.f, s.Ap, T, s.Bp, T, 0.f,
                  s.lg, n2);
    } else {
      for (int i = 0; i < n1; i++)
        for (int j = 0; j < n2; j++)
          s.lg[(size_t)i * n2 + j] = s.A[(size_t)i * n2 + j] * s.Bm[(size_t)j * n1 + i];
    }
    const int back_m = want && !p->stop_grad_m && p->beta != 0;
    double ce = 0, cscale = (double)p->beta / ((double)B * n1);
    for (int i = 0; i < n1; i++)
      ce += lac_row_soft_target(n2, s.lg + (size_t)i * n2, 1.0f, s.lab + (size_t)i * n2, 0.0, 0,
                                cscale, back_m ? s.glg + (size_t)i * n2 : NULL, s.row);
    ce /= n1;
    float *gM12 = w.gMp[2 * b], *gM21 = w.gMp[2 * b + 1];
    if (back_m) {
      if (p->logits == LAC_LOGITS_MATMUL) {
        /* dAp = glg Bp (n1 x T), dBp = glg^T Ap (n2 x T) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n1, T, n2, 1.f, s.glg, n2, s.Bp, T,
                    0.f, s.dAp, T);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n2, T, n1, 1.f, s.glg, n2, s.Ap, T,
                    0.f, s.dBp, T);
        for (int i = 0; i < n1; i++)
          for (int k = 0; k < n2; k++) s.dA[(size_t)i * n2 + k] = s.dAp[(size_t)i * T + r2[k]];
        for (int j = 0; j < n2; j++)
          for (int k = 0; k < n1; k++) s.dBm[(size_t)j * n1 + k] = s.dBp[(size_t)j * T + r1[k]];
      } else {
        for (int i = 0; i < n1; i++)
          for (int j = 0; j < n2; j++) {
            float g = s.glg[(size_t)i * n2 + j];
            s.dA[(size_t)i * n2 + j] = g * s.Bm[(size_t)j * n1 + i];
            s.dBm[(size_t)j * n1 + i] = g * s.A[(size_t)i * n2 + j];
          }
      }
      softmax_rows_backward(n1, n2, s.A, s.dA, gM12);
      softmax_rows_backward(n2, n1, s.Bm, s.dBm, gM21);
    }
    w.terms[3 * b] = con;
    w.terms[3 * b + 1] = ce;
    w.terms[3 * b + 2] = (double)w.V[2 * b] + (double)w.V[2 * b + 1];
  }
  double sum_con = 0, sum_ce = 0, sum_score = 0;
  for (int b = 0; b < B; b++) {
    sum_con += w.terms[3 * b];
    sum_ce += w.terms[3 * b + 1];
    sum_score += w.terms[3 * b + 2];
  }
  st = lac_loss_finish_terms(p, B, sum_con, sum_ce, sum_score, "lac_loss", out, err);
  if (st != LAC_OK) goto done;

  /* ---- backward through the alignments and the similarity */
  if (want) {
    const int back_m = !p->stop_grad_m && p->beta != 0;
    for (int q = 0; q < 2 * B; q++) w.gV[q] = (float)((double)p->beta * p->score_weight / B);
    st = lac_sw_backward(a, w.gV, back_m ? (const float *const *)w.gMp : NULL,
                         want_e ? w.dSp : NULL, dgo ? w.dgop : NULL, dge ? w.dgep : NULL, err);
    if (st != LAC_OK) goto done;
    if (want_e)
      for (int b = 0; b < B; b++) {
        const int n1 = w.n1[b], n2 = w.n2[b];
        const int *r1 = w.r1 + (size_t)b * T, *r2 = w.r2 + (size_t)b * T;
        memset(w.dx, 0, sizeof(double) * (size_t)n1 * d);
        memset(w.dy, 0, sizeof(double) * (size_t)n2 * d);
        lac_sim_backward(p->similarity, p->sim_eps, n1, n2, d, w.e1c + (size_t)b * Td,
                         w.e2c + (size_t)b * Td, w.dSp[2 * b], w.dSp[2 * b + 1], w.dx, w.dy, w.sim);
        if (de1)
          for (int i = 0; i < n1; i++)
            for (int k = 0; k < d; k++)
              de1[(size_t)b * Td + (size_t)r1[i] * d + k] += (float)w.dx[(size_t)i * d + k];
        if (de2)
          for (int j = 0; j < n2; j++)
            for (int k = 0; k < d; k++)
              de2[(size_t)b * Td + (size_t)r2[j] * d + k] += (float)w.dy[(size_t)j * d + k];
      }
    /* penalties: sum over pairs and both directions, each cell at its frames' positions */
    for (int g = 0; g < 2; g++) {
      float *dst = g == 0 ? dgo : dge;
      if (!dst) continue;
      float *const *src = g == 0 ? w.dgop : w.dgep;
      if (!pc) {
        double s = 0;
        for (int q = 0; q < 2 * B; q++) s += src[q][0];
        dst[0] = (float)s;
        continue;
      }
      /* accumulate in double in the (unused by now) label scratch: T*T doubles */
      double *acc = w.pw.lab;
      memset(acc, 0, sizeof(double) * TT);
      for (int b = 0; b < B; b++) {
        const int n1 = w.n1[b], n2 = w.n2[b];
        const int *r1 = w.r1 + (size_t)b * T, *r2 = w.r2 + (size_t)b * T;
        const float *f12 = src[2 * b], *f21 = src[2 * b + 1];
        for (int i = 0; i < n1; i++)
          for (int j = 0; j < n2; j++) {
            acc[(size_t)r1[i] * T + r2[j]] += f12[(size_t)i * n2 + j];
            acc[(size_t)r2[j] * T + r1[i]] += f21[(size_t)j * n1 + i];
          }
      }
      for (size_t t = 0; t < TT; t++) dst[t] = (float)acc[t];
    }
  }
  st = LAC_OK;
done:
  return st;
}
