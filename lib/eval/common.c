/* common.c — what every metric of lib/eval needs: default parameters, input checks with
 * messages that say what to fix, gathering labelled (strided) frames into double arrays,
 * the class list of a label vector, and prediction with a fitted linear model.
 *
 * Not here: any solver (logreg.c, svm.c, progression.c) or metric (eval.c, kendall.c,
 * retrieval.c, progression.c).
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "lac_config.h"

#ifdef _OPENMP
#include <omp.h>
#endif

lac_eval_params lac_eval_default_params(void) {
  lac_eval_params p;
  p.logreg_C = 1.0;
  p.logreg_gtol = 1e-6;
  p.logreg_max_iter = 100000;
  p.svm_C = 1.0;
  p.svm_eps = 1e-4;
  p.stride = 5;
  p.n_threads = 0;
  return p;
}

int lac_eval_threads(const lac_eval_params *p) {
  if (p && p->n_threads > 0) return p->n_threads;
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

int lac_eval_thread_id(void) {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

lac_status lac_eval_check_videos(const lac_eval_video *v, int n, const char *what, int min_videos,
                                 int need_labels, int *dim, int *n_phases, lac_error *err) {
  if (n < min_videos)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "%s: %d videos given, this metric needs at least %d", what, n,
                         min_videos);
  if (n > 0 && !v)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s: the video array is NULL but n = %d",
                         what, n);
  for (int i = 0; i < n; i++) {
    const lac_eval_video *x = &v[i];
    if (x->n < 1)
      return lac_error_set(err, LAC_ERR_INVALID_ARG,
                           "%s video %d has %" PRId64 " frames; every video needs at least one "
                           "(leave empty videos out)",
                           what, i, x->n);
    if (x->dim < 1)
      return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s video %d: dim is %d, must be >= 1", what,
                           i, x->dim);
    if (*dim > 0 && x->dim != *dim)
      return lac_error_set(err, LAC_ERR_INVALID_ARG,
                           "%s video %d has dim %d but the other videos have %d: all videos of "
                           "a call need the same embedding size",
                           what, i, x->dim, *dim);
    *dim = x->dim;
    if ((uint64_t)x->n > (uint64_t)INT64_MAX / 8 / (uint64_t)x->dim)
      return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s video %d: %" PRId64 " x %d is too large",
                           what, i, x->n, x->dim);
    if (!x->emb)
      return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s video %d: emb is NULL", what, i);
    if (need_labels && !x->labels)
      return lac_error_set(err, LAC_ERR_INVALID_ARG,
                           "%s video %d: labels is NULL; this metric needs phase labels", what,
                           i);
    if (x->labels) {
      if (x->n_phases < 1)
        return lac_error_set(err, LAC_ERR_INVALID_ARG,
                             "%s video %d: n_phases is %d, must be >= 1", what, i, x->n_phases);
      if (*n_phases > 0 && x->n_phases != *n_phases)
        return lac_error_set(err, LAC_ERR_INVALID_ARG,
                             "%s video %d has n_phases %d but the other videos have %d: evaluate "
                             "one action at a time",
                             what, i, x->n_phases, *n_phases);
      *n_phases = x->n_phases;
      for (int64_t t = 0; t < x->n; t++)
        if (x->labels[t] < -1 || x->labels[t] >= x->n_phases)
          return lac_error_set(err, LAC_ERR_INVALID_ARG,
                               "%s video %d frame %" PRId64 " has label %d, outside [-1, %d) "
                               "(-1 marks an unlabelled frame)",
                               what, i, t, (int)x->labels[t], x->n_phases);
    }
    const float *e = x->emb;
    for (int64_t t = 0; t < x->n; t++)
      for (int k = 0; k < x->dim; k++)
        if (!isfinite(e[t * x->dim + k]))
          return lac_error_set(err, LAC_ERR_NUMERIC,
                               "%s video %d frame %" PRId64 " component %d of the embedding is "
                               "%s: the model produced a non-finite value; fix the model or "
                               "leave the video out",
                               what, i, t, k, isnan(e[t * x->dim + k]) ? "NaN" : "Inf");
  }
  return LAC_OK;
}

void lac_eval_frames_free(lac_eval_frames *f) {
  if (!f) return;
  free(f->X);
  free(f->y);
  free(f->start);
  memset(f, 0, sizeof *f);
}

lac_status lac_eval_gather_val(const lac_eval_video *val, int n_val, int stride, const char *who,
                               int need_labels, lac_eval_frames *f, lac_error *err) {
  memset(f, 0, sizeof *f);
  if (stride < 1)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "%s: stride is %d, must be >= 1 (5)", who,
                         stride);
  int dim = 0, K = 0;
  lac_status st = lac_eval_check_videos(val, n_val, "val", 2, need_labels, &dim, &K, err);
  if (st != LAC_OK) return st;
  return lac_eval_gather(val, n_val, stride, f, err);
}

lac_status lac_eval_gather(const lac_eval_video *v, int n, int stride, lac_eval_frames *out,
                           lac_error *err) {
  memset(out, 0, sizeof *out);
  if (stride < 1)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "stride is %d, must be >= 1", stride);
  int dim = n > 0 ? v[0].dim : 1;
  /* count first: the rows kept per video */
  out->start = malloc(((size_t)n + 1) * sizeof *out->start);
  if (!out->start) return lac_error_set(err, LAC_ERR_NOMEM, "out of memory gathering frames");
  int64_t rows = 0;
  for (int i = 0; i < n; i++) {
    out->start[i] = rows;
    int64_t kept = 0;
    for (int64_t t = 0; t < v[i].n; t++)
      if (!v[i].labels || v[i].labels[t] >= 0) kept++;
    rows += (kept + stride - 1) / stride;
  }
  out->start[n] = rows;
  out->n = rows;
  out->dim = dim;
  out->n_videos = n;
  out->X = malloc((size_t)(rows > 0 ? rows : 1) * (size_t)dim * sizeof *out->X);
  out->y = malloc((size_t)(rows > 0 ? rows : 1) * sizeof *out->y);
  if (!out->X || !out->y) {
    lac_eval_frames_free(out);
    return lac_error_set(err, LAC_ERR_NOMEM, "out of memory gathering %" PRId64 " x %d frames",
                         rows, dim);
  }
  int64_t r = 0;
  for (int i = 0; i < n; i++) {
    int64_t kept = 0;
    for (int64_t t = 0; t < v[i].n; t++) {
      int32_t lab = v[i].labels ? v[i].labels[t] : -1;
      if (v[i].labels && lab < 0) continue;
      if (kept++ % stride) continue;
      const float *e = v[i].emb + t * dim;
      for (int k = 0; k < dim; k++) out->X[r * dim + k] = (double)e[k];
      out->y[r] = lab;
      r++;
    }
  }
  return LAC_OK;
}

int lac_eval_classes(const int32_t *y, int64_t n, int n_phases, int32_t *classes, int32_t *yi) {
  /* presence table over [0, n_phases), then ranks */
  int nc = 0;
  for (int c = 0; c < n_phases; c++) classes[c] = -1;
  for (int64_t i = 0; i < n; i++) classes[y[i]] = y[i];
  for (int c = 0; c < n_phases; c++)
    if (classes[c] >= 0) classes[nc++] = c;
  if (yi) {
    /* rank of each class: a small linear search over nc <= n_phases entries */
    for (int64_t i = 0; i < n; i++) {
      int k = 0;
      while (classes[k] != y[i]) k++;
      yi[i] = k;
    }
  }
  return nc;
}

void lac_linear_model_free(lac_linear_model *m) {
  if (!m) return;
  free(m->classes);
  free(m->W);
  free(m->b);
  memset(m, 0, sizeof *m);
}

void lac_linear_decision(const lac_linear_model *m, const double *x, double *dec) {
  for (int r = 0; r < m->n_rows; r++) {
    const double *w = m->W + (size_t)r * m->dim;
    double s = 0;
    for (int k = 0; k < m->dim; k++) s += w[k] * x[k];
    dec[r] = s + m->b[r];
  }
}

int32_t lac_linear_predict(const lac_linear_model *m, const double *x, double *dec) {
  if (m->n_rows == 0) return m->classes[0];
  lac_linear_decision(m, x, dec);
  if (m->n_rows == 1) return m->classes[dec[0] > 0 ? 1 : 0];
  int best = 0;
  for (int r = 1; r < m->n_rows; r++)
    if (dec[r] > dec[best]) best = r;
  return m->classes[best];
}
