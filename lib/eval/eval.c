/* eval.c — phase classification and lac_eval_all (include/lac/eval.h, METHOD.md §5).
 *
 * Classification: the training set is the labelled frames of the first
 * max(1, (int)(fraction * n_train)) training videos (the reference's truncation; fraction
 * 0.1 of 15 videos is 1 video); the classifier is fitted on them (logreg.c: multinomial
 * logistic regression; svm.c: liblinear's linear SVM) and the accuracy is the fraction of
 * all labelled validation frames, pooled over videos, whose predicted phase is right.
 *
 * lac_eval_all runs the paper's table for one action: classification with fractions 0.1,
 * 0.5, 1.0 for both classifiers, precision@5/10/15 and Kendall's tau with the stride of the
 * parameters (5), and progression (trained on all training videos).
 *
 * Not here: the solvers (logreg.c, svm.c), the other metrics (progression.c, kendall.c,
 * retrieval.c), averaging over actions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"

lac_status lac_eval_classification_ex(const lac_eval_video *train, int n_train,
                                      const lac_eval_video *val, int n_val, lac_classifier kind,
                                      double fraction, const lac_eval_params *params,
                                      double *accuracy, lac_error *err) {
  if (!accuracy)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_eval_classification: accuracy is NULL");
  *accuracy = NAN;
  lac_eval_params def = lac_eval_default_params();
  const lac_eval_params *p = params ? params : &def;
  if (kind != LAC_CLASSIFIER_LOGREG && kind != LAC_CLASSIFIER_SVM)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "classification: unknown classifier %d (LAC_CLASSIFIER_LOGREG or _SVM)",
                         (int)kind);
  if (!(fraction > 0 && fraction <= 1))
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "classification: fraction is %g, must be in (0, 1] (0.1, 0.5, 1.0)",
                         fraction);
  int dim = 0, K = 0;
  lac_status st = lac_eval_check_videos(train, n_train, "train", 1, 1, &dim, &K, err);
  if (st == LAC_OK) st = lac_eval_check_videos(val, n_val, "val", 1, 1, &dim, &K, err);
  if (st != LAC_OK) return st;
  int n_used = (int)(fraction * n_train);
  if (n_used < 1) n_used = 1;
  lac_eval_frames tr, va;
  st = lac_eval_gather(train, n_used, 1, &tr, err);
  if (st != LAC_OK) return st;
  st = lac_eval_gather(val, n_val, 1, &va, err);
  if (st != LAC_OK) {
    lac_eval_frames_free(&tr);
    return st;
  }
  lac_linear_model m;
  memset(&m, 0, sizeof m);
  double *dec = NULL;
  if (tr.n < 1) {
    st = lac_error_set(err, LAC_ERR_INVALID_ARG,
                       "classification: the first %d training videos (fraction %g of %d) have no "
                       "labelled frame",
                       n_used, fraction, n_train);
    goto done;
  }
  if (va.n < 1) {
    st = lac_error_set(err, LAC_ERR_INVALID_ARG,
                       "classification: the validation videos have no labelled frame");
    goto done;
  }
  if (kind == LAC_CLASSIFIER_LOGREG)
    st = lac_logreg_fit(tr.X, tr.y, tr.n, dim, K, p->logreg_C, p->logreg_gtol, p->logreg_max_iter,
                        &m, err);
  else
    st = lac_svm_fit(tr.X, tr.y, tr.n, dim, K, p->svm_C, p->svm_eps, &m, err);
  if (st != LAC_OK) goto done;
  dec = malloc((size_t)(m.n_rows > 0 ? m.n_rows : 1) * sizeof *dec);
  if (!dec) {
    st = lac_error_set(err, LAC_ERR_NOMEM, "classification: out of memory");
    goto done;
  }
  int64_t right = 0;
  for (int64_t i = 0; i < va.n; i++) right += lac_linear_predict(&m, va.X + i * dim, dec) == va.y[i];
  *accuracy = (double)right / (double)va.n;
done:
  free(dec);
  lac_linear_model_free(&m);
  lac_eval_frames_free(&tr);
  lac_eval_frames_free(&va);
  return st;
}

lac_status lac_eval_classification(const lac_eval_video *train, int n_train,
                                   const lac_eval_video *val, int n_val, lac_classifier kind,
                                   double fraction, double *accuracy, lac_error *err) {
  return lac_eval_classification_ex(train, n_train, val, n_val, kind, fraction, NULL, accuracy,
                                    err);
}

lac_status lac_eval_all_ex(const lac_eval_video *train, int n_train, const lac_eval_video *val,
                           int n_val, const lac_eval_params *params, lac_eval_result *out,
                           lac_error *err) {
  if (!out) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_eval_all: out is NULL");
  static const double fractions[3] = {0.1, 0.5, 1.0};
  static const int ks[3] = {5, 10, 15};
  lac_eval_params def = lac_eval_default_params();
  const lac_eval_params *p = params ? params : &def;
  lac_eval_result r;
  lac_status st = LAC_OK;
  for (int a = 0; a < 3 && st == LAC_OK; a++) {
    st = lac_eval_classification_ex(train, n_train, val, n_val, LAC_CLASSIFIER_LOGREG,
                                    fractions[a], p, &r.cls_logreg[a], err);
    if (st == LAC_OK)
      st = lac_eval_classification_ex(train, n_train, val, n_val, LAC_CLASSIFIER_SVM, fractions[a],
                                      p, &r.cls_svm[a], err);
  }
  if (st == LAC_OK)
    st = lac_eval_precision_at_k_ex(val, n_val, p->stride, ks, 3, p, r.ap, NULL, err);
  if (st == LAC_OK) st = lac_eval_progression_ex(train, n_train, val, n_val, &r.progress, NULL, err);
  if (st == LAC_OK) st = lac_eval_kendall_tau_ex(val, n_val, p->stride, p, &r.tau, NULL, NULL, err);
  if (st == LAC_OK) *out = r;
  return st;
}

lac_status lac_eval_all(const lac_eval_video *train, int n_train, const lac_eval_video *val,
                        int n_val, lac_eval_result *out, lac_error *err) {
  return lac_eval_all_ex(train, n_train, val, n_val, NULL, out, err);
}
