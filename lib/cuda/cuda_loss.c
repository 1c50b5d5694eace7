/* cuda_loss.c — the LAC loss with the CUDA backend (lac_cuda_loss, lib/lac_internal.h): the
 * same semantics and outputs as lac_loss (include/lac/align.h; the CPU oracle is
 * lib/align/loss.c, whose structure this follows step by step).
 *
 * Where each piece runs:
 *  - on the device: the Gram matrices e1 e2^T (cuBLAS, one GEMM per pair through the
 *    backend's gemm), squared row norms, the similarity S12 from them (kernels/loss.cu;
 *    squared distances clamped at >= 0), S21 = S12^T (transpose kernel); in the backward,
 *    the similarity's coefficients (P, rd, cd, kernels/loss.cu) with the contrastive
 *    gradient folded into P, then de1 = P e2 + rd .* e1, de2 = P^T e1 + cd .* e2 (cuBLAS
 *    GEMMs and a row-scaled add);
 *  - the alignments: lac_cuda_sw (host pairs, copies to and from the device): once for V
 *    and M, once more (forward + backward) with the M adjoints for dS, dgo, dge;
 *  - on the host (small T x T work, as in loss.c): labels, the contrastive KL (logits =
 *    Gram / temperature), row softmax of M12/M21, the alignment logits, the cross-entropy,
 *    and their adjoints; penalty gradient sums.
 * Masks: only all-valid masks (or NULL); a mask with a 0 is LAC_ERR_UNSUPPORTED.
 * Allocates its device and host buffers per call (the backend's scratch belongs to
 * lac_cuda_sw, which this calls).  Runs on the backend's stream; not thread-safe per backend.
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

static long first_nonfinite(const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return (long)i;
  return -1;
}

/* The host pieces (labels, row softmaxes, soft-target rows) are loss.c's own
 * (align/loss_pieces.h), so both backends compute them the same way. */

/* ---------------------------------------------------------------- the loss */

#define CU(call, what)                                                                      \
  do {                                                                                      \
    cudaError_t ce_ = (cudaError_t)(call);                                                  \
    if (ce_ != cudaSuccess) {                                                               \
      st = lac_error_set(err, LAC_ERR_BACKEND, "lac_cuda_loss: %s: %s", what,               \
                         cudaGetErrorString(ce_));                                          \
      goto done;                                                                            \
    }                                                                                       \
  } while (0)

lac_status lac_cuda_loss(lac_backend *b, const lac_loss_params *p, int B, int T, int d,
                         const float *e1, const float *e2, const int64_t *s1, const int64_t *s2,
                         const uint8_t *valid1, const uint8_t *valid2, const float *go,
                         const float *ge, lac_loss_terms *out, float *de1, float *de2, float *dgo,
                         float *dge, lac_error *err) {
  if (!b || !b->ops || !b->ops->name || strcmp(b->ops->name, "cuda") != 0)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_cuda_loss: needs a CUDA backend (got %s)",
                         b && b->ops && b->ops->name ? b->ops->name : "none");
  if (!p || !e1 || !e2 || !s1 || !s2 || !go || !ge)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_cuda_loss: params, e1, e2, s1, s2, go and ge must be non-NULL");
  lac_status st = lac_loss_check_inputs(p, B, T, d, e1, e2, go, ge, "lac_cuda_loss", err);
  if (st != LAC_OK) return st;
  const int pc = p->per_cell_gaps;
  const size_t TT = (size_t)T * T, Td = (size_t)T * d, ng = pc ? TT : 1;
  const size_t BTT = (size_t)B * TT, BTd = (size_t)B * Td, BT = (size_t)B * T;
  long bad;
  for (size_t t = 0; t < BT; t++)
    if ((valid1 && !valid1[t]) || (valid2 && !valid2[t]))
      return lac_error_set(err, LAC_ERR_UNSUPPORTED,
                           "lac_cuda_loss: masked frames (valid = 0, pair %zu frame %zu) are not "
                           "supported on the GPU yet: use lac_loss",
                           t / T, t % T);

  const int want_e = de1 || de2, want_g = dgo || dge, want = want_e || want_g;
  const int back_m = want && !p->stop_grad_m && p->beta != 0;
  lac_cuda_scratch sc;
  cudaStream_t stream = NULL;
  void *dblock = NULL;
  char *hblock = NULL;
  st = LAC_OK;
  CU(lac_cuda_backend_scratch(b, 0, 0, &sc), "backend stream");
  stream = (cudaStream_t)sc.stream;

  /* device: e1, e2, G, S12, S21, gS, gz, P [BTT] floats; de1, de2 [BTd]; rd, cd [BT]
   * floats; n1, n2 [BT] doubles (doubles first for alignment) */
  size_t dbytes = sizeof(double) * 2 * BT + sizeof(float) * (4 * BTd + 6 * BTT + 2 * BT);
  CU(cudaMalloc(&dblock, dbytes), "cudaMalloc");
  double *dn1 = dblock, *dn2 = dn1 + BT;
  float *de1d = (float *)(dn2 + BT), *de2d = de1d + BTd, *dx = de2d + BTd, *dy = dx + BTd;
  float *dG = dy + BTd, *dS12 = dG + BTT, *dS21 = dS12 + BTT, *dgS = dS21 + BTT, *dgz = dgS + BTT,
        *dP = dgz + BTT, *drd = dP + BTT, *dcd = drd + BT;

  /* host: pairs and pointers [2B]; lab, acc [TT] doubles; G, gS, gz [BTT], S, M, gM, dS
   * [2][BTT]; dgaps [2B][2][ng]; scratch [10][TT]; V, gV [2B] floats */
  size_t hfloats = 11 * BTT + 4 * (size_t)B * ng + 10 * TT + 4 * (size_t)B;
  hblock = malloc((sizeof(lac_sw_pair) + 5 * sizeof(float *)) * 2 * B + sizeof(double) * 2 * TT +
                  sizeof(float) * hfloats);
  if (!hblock) {
    st = lac_error_set(err, LAC_ERR_NOMEM, "lac_cuda_loss: out of host memory");
    goto done;
  }
  lac_sw_pair *pairs = (lac_sw_pair *)hblock;
  float **Mp = (float **)(pairs + 2 * B), **gMp = Mp + 2 * B, **dSp = gMp + 2 * B,
        **dgop = dSp + 2 * B, **dgep = dgop + 2 * B;
  double *lab = (double *)(dgep + 2 * B), *acc = lab + TT;
  float *G = (float *)(acc + TT), *S = G + BTT, *M = S + 2 * BTT, *gM = M + 2 * BTT,
        *dS = gM + 2 * BTT, *gS = dS + 2 * BTT, *gz = gS + BTT;
  float *dgaps = gz + BTT, *z = dgaps + 4 * (size_t)B * ng, *A = z + TT, *Bm = A + TT,
        *lg = Bm + TT, *glg = lg + TT, *dAp = glg + TT, *dBp = dAp + TT, *dA = dBp + TT,
        *dBm = dA + TT, *gzt = dBm + TT;
  float *V = gzt + TT, *gV = V + 2 * B;
  (void)gzt;

  if (de1) memset(de1, 0, sizeof(float) * BTd);
  if (de2) memset(de2, 0, sizeof(float) * BTd);

  /* ---- similarities on the device */
  CU(cudaMemcpyAsync(dx, e1, sizeof(float) * BTd, cudaMemcpyHostToDevice, stream), "copy e1");
  CU(cudaMemcpyAsync(dy, e2, sizeof(float) * BTd, cudaMemcpyHostToDevice, stream), "copy e2");
  CU(lac_cuda_loss_norms(dx, BT, d, dn1, stream), "norms");
  CU(lac_cuda_loss_norms(dy, BT, d, dn2, stream), "norms");
  for (int q = 0; q < B; q++) {
    st = b->ops->gemm(b, 0, 1, T, T, d, 1.f, dx + q * Td, d, dy + q * Td, d, 0.f, dG + q * TT, T,
                      err);
    if (st != LAC_OK) goto done;
  }
  CU(lac_cuda_loss_sim((int)p->similarity, p->sim_eps, B, T, dG, dn1, dn2, dS12, stream), "sim");
  CU(lac_cuda_loss_transpose(B, T, dS12, dS21, stream), "transpose");
  CU(cudaMemcpyAsync(G, dG, sizeof(float) * BTT, cudaMemcpyDeviceToHost, stream), "copy G");
  for (int q = 0; q < B; q++) {
    CU(cudaMemcpyAsync(S + 2 * q * TT, dS12 + q * TT, sizeof(float) * TT, cudaMemcpyDeviceToHost,
                       stream),
       "copy S12");
    CU(cudaMemcpyAsync(S + (2 * q + 1) * TT, dS21 + q * TT, sizeof(float) * TT,
                       cudaMemcpyDeviceToHost, stream),
       "copy S21");
  }
  CU(cudaStreamSynchronize(stream), "similarity");
  if ((bad = first_nonfinite(S, 2 * BTT)) >= 0) {
    st = lac_error_set(err, LAC_ERR_NUMERIC,
                       "lac_cuda_loss: non-finite similarity %g in pair %ld (identical rows with "
                       "sim_eps = 0?)",
                       (double)S[bad], bad / (long)(2 * TT));
    goto done;
  }
  for (int q = 0; q < 2 * B; q++) {
    pairs[q] = (lac_sw_pair){T, T, S + q * TT, go, ge};
    Mp[q] = M + q * TT;
    gMp[q] = gM + q * TT;
    dSp[q] = dS + q * TT;
    dgop[q] = dgaps + (size_t)q * 2 * ng;
    dgep[q] = dgaps + (size_t)q * 2 * ng + ng;
  }

  /* ---- all 2B alignments at once */
  lac_sw_options so = {p->sw_tau, pc};
  st = lac_cuda_sw(b, &so, 2 * B, pairs, V, Mp, NULL, NULL, NULL, NULL, NULL, err);
  if (st != LAC_OK) goto done;

  /* ---- per pair on the host */
  double sum_con = 0, sum_ce = 0, sum_score = 0;
  const double temp = p->temperature, eps_log = p->log_eps;
  const float itemp = (float)(1.0 / temp);
  const int n = T;
  for (int q = 0; q < B; q++) {
    lac_loss_make_labels(n, n, s1 + (size_t)q * T, NULL, s2 + (size_t)q * T, NULL, p->label_var, lab);
    const float *Gq = G + q * TT;
    for (size_t c = 0; c < TT; c++) z[c] = Gq[c] * itemp;
    float *gzq = gz + q * TT;
    double con = 0, gscale = (double)p->alpha / ((double)B * n * n);
    for (int i = 0; i < n; i++)
      con += lac_loss_soft_target_row(n, z + (size_t)i * n, lab + (size_t)i * n, eps_log, 1, gscale / temp,
                             want_e ? gzq + (size_t)i * n : NULL);
    con /= (double)n * n;
    if (!want_e || p->alpha == 0) memset(gzq, 0, sizeof(float) * TT);

    const float *M12 = Mp[2 * q], *M21 = Mp[2 * q + 1];
    lac_loss_softmax_rows(n, n, M12, A);
    lac_loss_softmax_rows(n, n, M21, Bm);
    if (p->logits == LAC_LOGITS_MATMUL) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, T, 1.f, A, T, Bm, T, 0.f, lg, n);
    } else {
      for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) lg[(size_t)i * n + j] = A[(size_t)i * n + j] * Bm[(size_t)j * n + i];
    }
    double ce = 0, cscale = (double)p->beta / ((double)B * n);
    for (int i = 0; i < n; i++)
      ce += lac_loss_soft_target_row(n, lg + (size_t)i * n, lab + (size_t)i * n, 0.0, 0, cscale,
                            back_m ? glg + (size_t)i * n : NULL);
    ce /= n;
    if (back_m) {
      if (p->logits == LAC_LOGITS_MATMUL) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, T, n, 1.f, glg, n, Bm, T, 0.f,
                    dAp, T);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, T, n, 1.f, glg, n, A, T, 0.f, dBp,
                    T);
        memcpy(dA, dAp, sizeof(float) * TT);
        memcpy(dBm, dBp, sizeof(float) * TT);
      } else {
        for (int i = 0; i < n; i++)
          for (int j = 0; j < n; j++) {
            float g = glg[(size_t)i * n + j];
            dA[(size_t)i * n + j] = g * Bm[(size_t)j * n + i];
            dBm[(size_t)j * n + i] = g * A[(size_t)i * n + j];
          }
      }
      lac_loss_softmax_rows_backward(n, n, A, dA, gMp[2 * q]);
      lac_loss_softmax_rows_backward(n, n, Bm, dBm, gMp[2 * q + 1]);
    }
    sum_con += con;
    sum_ce += ce;
    sum_score += (double)V[2 * q] + (double)V[2 * q + 1];
  }
  st = lac_loss_finish_terms(p, B, sum_con, sum_ce, sum_score, "lac_cuda_loss", out, err);
  if (st != LAC_OK) goto done;

  /* ---- backward through the alignments and the similarity */
  if (want) {
    for (int q = 0; q < 2 * B; q++) gV[q] = (float)((double)p->beta * p->score_weight / B);
    st = lac_cuda_sw(b, &so, 2 * B, pairs, V, NULL, gV, back_m ? (const float *const *)gMp : NULL,
                     want_e ? dSp : NULL, dgo ? dgop : NULL, dge ? dgep : NULL, err);
    if (st != LAC_OK) goto done;
    if (want_e) {
      /* gS[b][i][j] = dL/dS12[i][j] + dL/dS21[j][i] */
      for (int q = 0; q < B; q++) {
        const float *f12 = dSp[2 * q], *f21 = dSp[2 * q + 1];
        float *g = gS + q * TT;
        for (int i = 0; i < T; i++)
          for (int j = 0; j < T; j++)
            g[(size_t)i * T + j] =
                (float)((double)f12[(size_t)i * T + j] + (double)f21[(size_t)j * T + i]);
      }
      CU(cudaMemcpyAsync(dgS, gS, sizeof(float) * BTT, cudaMemcpyHostToDevice, stream), "copy gS");
      CU(cudaMemcpyAsync(dgz, gz, sizeof(float) * BTT, cudaMemcpyHostToDevice, stream), "copy gz");
      CU(lac_cuda_loss_simgrad((int)p->similarity, p->sim_eps, B, T, dG, dn1, dn2, dgS, dgz, dP,
                               drd, dcd, stream),
         "similarity backward");
      for (int q = 0; q < B; q++) {
        st = b->ops->gemm(b, 0, 0, T, d, T, 1.f, dP + q * TT, T, dy + q * Td, d, 0.f,
                          de1d + q * Td, d, err);
        if (st == LAC_OK)
          st = b->ops->gemm(b, 1, 0, T, d, T, 1.f, dP + q * TT, T, dx + q * Td, d, 0.f,
                            de2d + q * Td, d, err);
        if (st != LAC_OK) goto done;
      }
      CU(lac_cuda_loss_row_axpy(BT, d, drd, dx, de1d, stream), "row add");
      CU(lac_cuda_loss_row_axpy(BT, d, dcd, dy, de2d, stream), "row add");
      if (de1)
        CU(cudaMemcpyAsync(de1, de1d, sizeof(float) * BTd, cudaMemcpyDeviceToHost, stream),
           "copy de1");
      if (de2)
        CU(cudaMemcpyAsync(de2, de2d, sizeof(float) * BTd, cudaMemcpyDeviceToHost, stream),
           "copy de2");
      CU(cudaStreamSynchronize(stream), "similarity backward");
    }
    for (int g = 0; g < 2; g++) {
      float *dst = g == 0 ? dgo : dge;
      if (!dst) continue;
      float *const *src = g == 0 ? dgop : dgep;
      if (!pc) {
        double s = 0;
        for (int q = 0; q < 2 * B; q++) s += src[q][0];
        dst[0] = (float)s;
        continue;
      }
      memset(acc, 0, sizeof(double) * TT);
      for (int q = 0; q < B; q++) {
        const float *f12 = src[2 * q], *f21 = src[2 * q + 1];
        for (int i = 0; i < T; i++)
          for (int j = 0; j < T; j++) {
            acc[(size_t)i * T + j] += f12[(size_t)i * T + j];
            acc[(size_t)j * T + i] += f21[(size_t)j * T + i];
          }
      }
      for (size_t t = 0; t < TT; t++) dst[t] = (float)acc[t];
    }
  }
  st = LAC_OK;
done:
  if (dblock) {
    cudaStreamSynchronize(stream);
    cudaFree(dblock);
  }
  free(hblock);
  return st;
}
