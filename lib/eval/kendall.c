/* kendall.c — Kendall's tau-b of nearest-neighbour alignments (METHOD.md §5) and the tau-b
 * and nearest-neighbour kernels it rests on.
 *
 * Metric: every validation video is reduced to its labelled frames (all frames when labels
 * is NULL) and subsampled with `stride` (kept[0], kept[stride], ...).  For every ordered
 * pair (i, j), i != j: nn[t] = argmin_s |q_t - c_s|^2 over the frames c of j (double,
 * first minimum, as numpy argmin over scipy cdist), tau_ij = tau-b(0..n_i-1, nn).  The
 * result is the mean over the pairs whose tau is a number; a pair is dropped (NaN) when
 * video i has fewer than 2 frames, video j none, or all nn are equal.
 *
 * tau-b as scipy.stats.kendalltau(variant='b'): with tot = n(n-1)/2 pairs, xtie / ytie the
 * pairs tied in x / y, ntie those tied in both and dis the discordant pairs,
 *     tau = (tot - xtie - ytie + ntie - 2 dis) / sqrt(tot - xtie) / sqrt(tot - ytie),
 * clipped to [-1, 1], NaN when xtie == tot or ytie == tot.  Fast path: sort by (x, y), count
 * the ties from runs and the discordant pairs as the inversions of a merge sort on y (Knight's
 * method); the O(n^2) pair count stays as the oracle.
 *
 * Threads: OpenMP over query videos; the pair results are summed in pair order afterwards,
 * so the result does not depend on the thread count.
 * Not here: distances other than squared Euclidean, tau-a/tau-c, p-values.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"

typedef struct {
  int64_t x, y;
} xy_pair;

static int cmp_xy(const void *a, const void *b) {
  const xy_pair *p = a, *q = b;
  if (p->x != q->x) return p->x < q->x ? -1 : 1;
  if (p->y != q->y) return p->y < q->y ? -1 : 1;
  return 0;
}

/* Sort a[0..n) ascending (tmp: n values); returns the number of pairs i < j with a[i] > a[j]. */
static int64_t merge_count(int64_t *a, int64_t *tmp, int64_t n) {
  int64_t inv = 0;
  int64_t *src = a, *dst = tmp;
  for (int64_t w = 1; w < n; w *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * w) {
      int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      int64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (src[j] < src[i]) {
          inv += mid - i; /* src[j] jumps over every remaining left element */
          dst[k++] = src[j++];
        } else {
          dst[k++] = src[i++];
        }
      }
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    int64_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != a) memcpy(a, src, (size_t)n * sizeof *a);
  return inv;
}

static double tau_b_from_counts(int64_t n, int64_t xtie, int64_t ytie, int64_t ntie, int64_t dis) {
  int64_t tot = n * (n - 1) / 2;
  if (n < 2 || xtie == tot || ytie == tot) return NAN;
  int64_t cmd = tot - xtie - ytie + ntie - 2 * dis;
  double tau = (double)cmd / sqrt((double)(tot - xtie)) / sqrt((double)(tot - ytie));
  return tau > 1 ? 1 : tau < -1 ? -1 : tau;
}

double lac_tau_b(const int64_t *x, const int64_t *y, int64_t n, int64_t *work) {
  if (n < 2) return NAN;
  xy_pair *p = (xy_pair *)work; /* 2n values */
  int64_t *ys = work + 2 * n, *tmp = work + 3 * n;
  for (int64_t i = 0; i < n; i++) {
    p[i].x = x[i];
    p[i].y = y[i];
  }
  qsort(p, (size_t)n, sizeof *p, cmp_xy);
  int64_t xtie = 0, ntie = 0, ytie = 0;
  for (int64_t i = 0; i < n;) { /* runs of equal x, and inside them runs of equal y */
    int64_t j = i;
    while (j < n && p[j].x == p[i].x) j++;
    xtie += (j - i) * (j - i - 1) / 2;
    for (int64_t a = i; a < j;) {
      int64_t b = a;
      while (b < j && p[b].y == p[a].y) b++;
      ntie += (b - a) * (b - a - 1) / 2;
      a = b;
    }
    i = j;
  }
  for (int64_t i = 0; i < n; i++) ys[i] = p[i].y;
  int64_t dis = merge_count(ys, tmp, n);
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    while (j < n && ys[j] == ys[i]) j++;
    ytie += (j - i) * (j - i - 1) / 2;
    i = j;
  }
  return tau_b_from_counts(n, xtie, ytie, ntie, dis);
}

double lac_tau_b_naive(const int64_t *x, const int64_t *y, int64_t n) {
  int64_t con = 0, dis = 0, xonly = 0, yonly = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i + 1; j < n; j++) {
      int dx = (x[j] > x[i]) - (x[j] < x[i]), dy = (y[j] > y[i]) - (y[j] < y[i]);
      if (dx == 0 && dy == 0) continue; /* tied in both: in neither sum */
      if (dx == 0) xonly++;
      else if (dy == 0) yonly++;
      else if (dx == dy) con++;
      else dis++;
    }
  /* pairs not tied in x: con + dis + yonly; not tied in y: con + dis + xonly */
  double a = (double)(con + dis + yonly), b = (double)(con + dis + xonly);
  if (n < 2 || a == 0 || b == 0) return NAN;
  double tau = (double)(con - dis) / sqrt(a * b);
  return tau > 1 ? 1 : tau < -1 ? -1 : tau;
}

double lac_sqdist(const double *a, const double *b, int dim) {
  double s = 0;
  for (int k = 0; k < dim; k++) {
    double d = a[k] - b[k];
    s += d * d;
  }
  return s;
}

void lac_eval_nearest(const double *q, int64_t nq, const double *c, int64_t nc, int dim,
                      int64_t *nn) {
  for (int64_t i = 0; i < nq; i++) {
    int64_t best = 0;
    double bd = lac_sqdist(q + i * dim, c, dim);
    for (int64_t j = 1; j < nc; j++) {
      double d = lac_sqdist(q + i * dim, c + j * dim, dim);
      if (d < bd) {
        bd = d;
        best = j;
      }
    }
    nn[i] = best;
  }
}

lac_status lac_eval_kendall_tau_ex(const lac_eval_video *val, int n_val, int stride,
                                   const lac_eval_params *params, double *tau,
                                   int *n_pairs_used, double *pair_tau, lac_error *err) {
  if (!tau) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_eval_kendall_tau: tau is NULL");
  *tau = NAN;
  if (n_pairs_used) *n_pairs_used = 0;
  lac_eval_frames f;
  lac_status st = lac_eval_gather_val(val, n_val, stride, "Kendall's tau", 0, &f, err);
  if (st != LAC_OK) return st;
  const int dim = f.dim;
  size_t n_pairs = (size_t)n_val * (size_t)(n_val - 1);
  double *pt = malloc(n_pairs * sizeof *pt);
  int64_t maxq = 0;
  for (int i = 0; i < n_val; i++)
    if (f.start[i + 1] - f.start[i] > maxq) maxq = f.start[i + 1] - f.start[i];
  int nt = lac_eval_threads(params);
  if (nt > n_val) nt = n_val;
  /* per thread: x (maxq), nn (maxq), tau-b work (4 maxq) */
  size_t per = (size_t)(maxq > 0 ? maxq : 1) * 6;
  int64_t *ws = malloc((size_t)nt * per * sizeof *ws);
  if (!pt || !ws) {
    free(pt);
    free(ws);
    lac_eval_frames_free(&f);
    return lac_error_set(err, LAC_ERR_NOMEM, "Kendall's tau: out of memory (%d videos)", n_val);
  }
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
  for (int i = 0; i < n_val; i++) {
    const int th = lac_eval_thread_id();
    int64_t *x = ws + (size_t)th * per, *nn = x + maxq, *work = nn + maxq;
    int64_t qa = f.start[i], nq = f.start[i + 1] - qa;
    for (int64_t t = 0; t < nq; t++) x[t] = t;
    for (int j = 0, p = 0; j < n_val; j++) {
      if (j == i) continue;
      int64_t ca = f.start[j], ncand = f.start[j + 1] - ca;
      double r = NAN;
      if (nq >= 2 && ncand >= 1) {
        lac_eval_nearest(f.X + qa * dim, nq, f.X + ca * dim, ncand, dim, nn);
        r = lac_tau_b(x, nn, nq, work);
      }
      pt[(size_t)i * (n_val - 1) + p++] = r;
    }
  }
  double sum = 0;
  int used = 0;
  for (size_t p = 0; p < n_pairs; p++)
    if (!isnan(pt[p])) {
      sum += pt[p];
      used++;
    }
  *tau = used ? sum / used : NAN;
  if (n_pairs_used) *n_pairs_used = used;
  if (pair_tau) memcpy(pair_tau, pt, n_pairs * sizeof *pt);
  free(pt);
  free(ws);
  lac_eval_frames_free(&f);
  return LAC_OK;
}

lac_status lac_eval_kendall_tau(const lac_eval_video *val, int n_val, int stride, double *tau,
                                int *n_pairs_used, lac_error *err) {
  return lac_eval_kendall_tau_ex(val, n_val, stride, NULL, tau, n_pairs_used, NULL, err);
}
