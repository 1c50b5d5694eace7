/* retrieval.c — precision@K retrieval (the paper's "AP@K", METHOD.md §5).
 *
 * Every validation video is reduced to its labelled frames and subsampled with `stride`.
 * For video i, each of its frames q (label l_q) is a query against the candidates: the
 * subsampled frames of all other videos, concatenated in video order.  With N_K(q) the K
 * candidates nearest to q in squared Euclidean distance (double; equal distances: the lower
 * candidate index first, i.e. a stable sort; fewer than K candidates: all of them),
 *     P@K(q) = |{c in N_K(q): l_c == l_q}| / |N_K(q)|,
 *     P@K(i) = mean over the queries of i,   P@K = mean over the videos with a number.
 * A video with no labelled frame, or with no candidate, gives NaN and is left out.
 * One pass over the candidates keeps the max(ks) nearest sorted, so all K share it.
 *
 * Threads: OpenMP over query videos; the video means are summed in video order afterwards.
 * Not here: mean average precision proper (ranked precision), other distances.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"

/* Insert (d, idx) into the sorted top list (cnt entries, capacity cap); candidates arrive
 * in increasing idx, so an equal distance goes after the entries already there. */
static void top_insert(double *bd, int64_t *bi, int *cnt, int cap, double d, int64_t idx) {
  if (*cnt == cap && !(d < bd[cap - 1])) return;
  int p = *cnt < cap ? (*cnt)++ : cap - 1;
  while (p > 0 && bd[p - 1] > d) {
    bd[p] = bd[p - 1];
    bi[p] = bi[p - 1];
    p--;
  }
  bd[p] = d;
  bi[p] = idx;
}

lac_status lac_eval_precision_at_k_ex(const lac_eval_video *val, int n_val, int stride,
                                      const int *ks, int n_k, const lac_eval_params *params,
                                      double *out, double *per_video, lac_error *err) {
  if (!out || !ks || n_k < 1)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "precision@K: out and ks must be non-NULL and n_k >= 1 (got %d)", n_k);
  for (int a = 0; a < n_k; a++) out[a] = NAN;
  int kmax = 0;
  for (int a = 0; a < n_k; a++) {
    if (ks[a] < 1)
      return lac_error_set(err, LAC_ERR_INVALID_ARG, "precision@K: ks[%d] is %d, must be >= 1", a,
                           ks[a]);
    if (ks[a] > kmax) kmax = ks[a];
  }
  lac_eval_frames f;
  lac_status st = lac_eval_gather_val(val, n_val, stride, "precision@K", 1, &f, err);
  if (st != LAC_OK) return st;
  const int dim = f.dim;
  int nt = lac_eval_threads(params);
  if (nt > n_val) nt = n_val;
  double *pv = malloc((size_t)n_k * n_val * sizeof *pv);
  double *bd = malloc((size_t)nt * kmax * sizeof *bd);
  int64_t *bi = malloc((size_t)nt * kmax * sizeof *bi);
  if (!pv || !bd || !bi) {
    free(pv);
    free(bd);
    free(bi);
    lac_eval_frames_free(&f);
    return lac_error_set(err, LAC_ERR_NOMEM, "precision@K: out of memory");
  }
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
  for (int i = 0; i < n_val; i++) {
    const int th = lac_eval_thread_id();
    double *tbd = bd + (size_t)th * kmax;
    int64_t *tbi = bi + (size_t)th * kmax;
    int64_t qa = f.start[i], qb = f.start[i + 1], nq = qb - qa, ncand = f.n - nq;
    for (int a = 0; a < n_k; a++) pv[(size_t)a * n_val + i] = NAN;
    if (nq < 1 || ncand < 1) continue;
    for (int a = 0; a < n_k; a++) pv[(size_t)a * n_val + i] = 0;
    for (int64_t q = qa; q < qb; q++) {
      int cnt = 0;
      for (int64_t c = 0; c < f.n; c++) {
        if (c == qa) c = qb; /* skip the query's own video */
        if (c >= f.n) break;
        top_insert(tbd, tbi, &cnt, kmax, lac_sqdist(f.X + q * dim, f.X + c * dim, dim), c);
      }
      for (int a = 0; a < n_k; a++) {
        int kk = ks[a] < cnt ? ks[a] : cnt, hit = 0;
        for (int r = 0; r < kk; r++) hit += f.y[tbi[r]] == f.y[q];
        pv[(size_t)a * n_val + i] += (double)hit / kk;
      }
    }
    for (int a = 0; a < n_k; a++) pv[(size_t)a * n_val + i] /= (double)nq;
  }
  for (int a = 0; a < n_k; a++) {
    double sum = 0;
    int used = 0;
    for (int i = 0; i < n_val; i++)
      if (!isnan(pv[(size_t)a * n_val + i])) {
        sum += pv[(size_t)a * n_val + i];
        used++;
      }
    out[a] = used ? sum / used : NAN;
  }
  if (per_video) memcpy(per_video, pv, (size_t)n_k * n_val * sizeof *pv);
  free(pv);
  free(bd);
  free(bi);
  lac_eval_frames_free(&f);
  return LAC_OK;
}

lac_status lac_eval_precision_at_k(const lac_eval_video *val, int n_val, int stride,
                                   const int *ks, int n_k, double *out, lac_error *err) {
  return lac_eval_precision_at_k_ex(val, n_val, stride, ks, n_k, NULL, out, NULL, err);
}
