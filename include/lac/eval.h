/* lac/eval.h — the evaluation metrics of the LAC paper's tables (METHOD.md §5), computed on
 * per-frame embeddings that the caller already has: phase classification (multinomial
 * logistic regression and a linear SVM), phase progression (linear regression, R^2),
 * Kendall's tau-b of nearest-neighbour alignments, and precision@K retrieval.
 *
 * Protocol (docs/evaluation.md has the formulas and the differences from the reference code):
 *  - Frames whose label is -1 are dropped from every video first; strides, frame indices
 *    and video lengths below all count the remaining (labelled) frames only.
 *  - Classification trains on the labelled frames of the first max(1, (int)(fraction *
 *    n_train)) training videos (in the order given) and reports the accuracy over all
 *    labelled validation frames together.
 *  - Progression trains on all training videos; Kendall's tau and precision@K use only the
 *    validation videos, subsampled with `stride` (5) after dropping unlabelled frames.
 *  - Every video of one call belongs to one action: same dim, same n_phases.
 *
 * Not done here: embedding videos (lac_session_embed_sequence does that), reading datasets,
 * averaging over actions, printing.  All results are fractions in [0, 1] (tau in [-1, 1]).
 *
 * Threads: the functions keep no state between calls and may run concurrently, except that
 * the SVM goes through Debian's liblinear, whose print hook is process-global (we install a
 * silent one on every call) and whose coordinate-descent order comes from libc rand() (we do
 * not reseed it, so the SVM's solution can move within its tolerance from call to call).
 */
#ifndef LAC_EVAL_H
#define LAC_EVAL_H

#include <stdint.h>

#include "lac.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One video's per-frame embeddings and phase labels (label -1 = unlabelled, dropped). */
typedef struct {
  int64_t n;              /* frames */
  int dim;                /* embedding size (same for all videos of a call) */
  const float *emb;       /* n x dim, row-major */
  const int32_t *labels;  /* n; phase index in [0, n_phases) or -1 */
  int n_phases;           /* K of this video's action */
} lac_eval_video;

typedef enum { LAC_CLASSIFIER_LOGREG = 0, LAC_CLASSIFIER_SVM = 1 } lac_classifier;

/* Solver settings.  The defaults are the reference protocol's (sklearn LogisticRegression
 * lbfgs C = 1, sklearn LinearSVC defaults, stride 5), with our L-BFGS run to a tighter
 * tolerance than sklearn's so that the (unique) optimum is reached. */
typedef struct {
  double logreg_C;       /* inverse L2 strength of the multinomial logistic regression (1) */
  double logreg_gtol;    /* L-BFGS stops when max |gradient| <= gtol; objective is summed over
                          * frames, so this is an absolute tolerance (1e-6) */
  int logreg_max_iter;   /* L-BFGS iterations (100000, as the reference code) */
  double svm_C;          /* liblinear's C (1) */
  double svm_eps;        /* liblinear's stopping tolerance (1e-4 = LinearSVC's tol) */
  int stride;            /* frame stride of Kendall's tau and precision@K (5) */
  int n_threads;         /* threads of our own loops; 0 = OpenMP's default */
} lac_eval_params;

lac_eval_params lac_eval_default_params(void);

/* Frame accuracy on all labelled val frames of a classifier trained on the labelled frames
 * of the first `fraction` of train videos (in the order given; at least one video).
 * fraction in (0, 1].  Classes absent from those training frames are never predicted; when
 * only one class is present, every frame is predicted as that class. */
lac_status lac_eval_classification(const lac_eval_video *train, int n_train,
                                   const lac_eval_video *val, int n_val,
                                   lac_classifier kind, double fraction, double *accuracy, lac_error *err);
lac_status lac_eval_classification_ex(const lac_eval_video *train, int n_train,
                                      const lac_eval_video *val, int n_val, lac_classifier kind,
                                      double fraction, const lac_eval_params *params,
                                      double *accuracy, lac_error *err);

/* Phase progression: mean R^2 over the K-1 targets (METHOD.md §5), trained on train, scored on val.
 * Needs n_phases >= 2 and at least 2 labelled validation frames.  R^2 may be negative. */
lac_status lac_eval_progression(const lac_eval_video *train, int n_train,
                                const lac_eval_video *val, int n_val, double *r2, lac_error *err);
/* The same with the R^2 of each target c = 0..K-2 in r2_each (K-1 values; may be NULL). */
lac_status lac_eval_progression_ex(const lac_eval_video *train, int n_train,
                                   const lac_eval_video *val, int n_val, double *r2,
                                   double *r2_each, lac_error *err);

/* Kendall's tau-b, mean over ordered val pairs, stride (5), NaNs dropped; *n_pairs_used may be NULL.
 * Needs n_val >= 2.  labels may be NULL here (every frame kept).  A pair whose tau is
 * undefined (fewer than 2 query frames, no candidate frames, all neighbours equal) is
 * dropped; when all are, *tau = NaN, *n_pairs_used = 0 and the call still returns LAC_OK.
 * pair_tau (optional, n_val * (n_val - 1) values, NaN for dropped pairs) receives each
 * pair's tau in the order i = 0.., j = 0.. (j != i). */
lac_status lac_eval_kendall_tau(const lac_eval_video *val, int n_val, int stride, double *tau,
                                int *n_pairs_used, lac_error *err);
lac_status lac_eval_kendall_tau_ex(const lac_eval_video *val, int n_val, int stride,
                                   const lac_eval_params *params, double *tau,
                                   int *n_pairs_used, double *pair_tau, lac_error *err);

/* precision@K for each ks[i] (5, 10, 15), stride (5), mean over queries then videos.
 * Needs n_val >= 2, ks[i] >= 1.  Neighbours are the K nearest stride frames of all other
 * val videos (squared Euclidean; equal distances: lower candidate index first, candidates
 * ordered by video then frame); with fewer than K candidates, all of them.  Videos with no
 * labelled frame (or no candidate) are dropped; all dropped: NaN, still LAC_OK.
 * per_video (optional, n_k x n_val values, NaN for dropped videos) receives each video's
 * mean over its queries. */
lac_status lac_eval_precision_at_k(const lac_eval_video *val, int n_val, int stride,
                                   const int *ks, int n_k, double *out, lac_error *err);
lac_status lac_eval_precision_at_k_ex(const lac_eval_video *val, int n_val, int stride,
                                      const int *ks, int n_k, const lac_eval_params *params,
                                      double *out, double *per_video, lac_error *err);

/* Everything the paper's table reports, for one action: */
typedef struct {
  double cls_logreg[3];   /* fractions 0.1, 0.5, 1.0 */
  double cls_svm[3];
  double ap[3];           /* K = 5, 10, 15 */
  double progress;        /* mean R^2 */
  double tau;             /* Kendall's tau-b */
} lac_eval_result;
lac_status lac_eval_all(const lac_eval_video *train, int n_train, const lac_eval_video *val,
                        int n_val, lac_eval_result *out, lac_error *err);
/* params NULL = lac_eval_default_params(). */
lac_status lac_eval_all_ex(const lac_eval_video *train, int n_train, const lac_eval_video *val,
                           int n_val, const lac_eval_params *params, lac_eval_result *out,
                           lac_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LAC_EVAL_H */
