/* svm.c — the linear SVM classifier through Debian's liblinear, set up as sklearn's
 * LinearSVC() with its defaults (which is liblinear too): L2-regularised squared hinge
 * loss solved in the dual (solver L2R_L2LOSS_SVC_DUAL), C = 1, tol 1e-4, one-vs-rest over
 * the classes present, intercept by a constant feature of value 1 (intercept_scaling 1)
 * whose weight is regularised like the others.  The fitted weights are copied out through
 * get_decfun_coef/get_decfun_bias into a lac_linear_model in sklearn's convention (one row
 * for two classes, positive = the larger class); we never call liblinear's predict.
 *
 * liblinear quirks that are global to the process (gaps, documented in docs/evaluation.md):
 *  - its print hook: we install a silent one before every train() (liblinear prints the
 *    iteration dots to stdout otherwise);
 *  - its dual coordinate descent shuffles with libc rand(); we do not reseed, so two calls
 *    can stop at slightly different points within eps (sklearn seeds its own copy);
 *  - it has a fixed limit of 1000 passes (the same as LinearSVC's max_iter).
 *
 * Not here: class weights, L1 penalties, other liblinear solvers, sparse inputs.
 */
#include <linear.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"

static void silent_print(const char *s) { (void)s; }

lac_status lac_svm_fit(const double *X, const int32_t *y, int64_t n, int dim, int n_phases,
                       double C, double eps, lac_linear_model *out, lac_error *err) {
  memset(out, 0, sizeof *out);
  if (n < 1 || dim < 1 || n_phases < 1 || !(C > 0) || !(eps > 0))
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "linear SVM: needs >= 1 training frame, dim >= 1, C > 0, eps > 0 (got "
                         "n %lld, dim %d, C %g, eps %g)",
                         (long long)n, dim, C, eps);
  if (n > 2147483647 || dim > 2147483647 - 2)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "linear SVM: %lld frames x %d dims; liblinear takes int sizes",
                         (long long)n, dim);
  out->classes = malloc((size_t)n_phases * sizeof *out->classes);
  if (!out->classes) return lac_error_set(err, LAC_ERR_NOMEM, "linear SVM: out of memory");
  int nc = lac_eval_classes(y, n, n_phases, out->classes, NULL);
  out->n_classes = nc;
  out->dim = dim;
  out->converged = 1;
  if (nc == 1) return LAC_OK; /* one class: nothing to fit, always predicted */

  /* dense rows as liblinear feature nodes: dim features (index 1..dim), the bias feature
   * (index dim + 1, value prob.bias), the -1 terminator */
  size_t row = (size_t)dim + 2;
  struct feature_node *nodes = malloc((size_t)n * row * sizeof *nodes);
  struct feature_node **xs = malloc((size_t)n * sizeof *xs);
  double *ys = malloc((size_t)n * sizeof *ys);
  if (!nodes || !xs || !ys) {
    free(nodes);
    free(xs);
    free(ys);
    lac_linear_model_free(out);
    return lac_error_set(err, LAC_ERR_NOMEM, "linear SVM: out of memory (%lld x %d)",
                         (long long)n, dim);
  }
  const double bias = 1.0;
  for (int64_t i = 0; i < n; i++) {
    struct feature_node *r = nodes + (size_t)i * row;
    for (int k = 0; k < dim; k++) {
      r[k].index = k + 1;
      r[k].value = X[i * dim + k];
    }
    r[dim].index = dim + 1;
    r[dim].value = bias;
    r[dim + 1].index = -1;
    r[dim + 1].value = 0;
    xs[i] = r;
    ys[i] = (double)y[i];
  }
  struct problem prob;
  prob.l = (int)n;
  prob.n = dim + 1;
  prob.y = ys;
  prob.x = xs;
  prob.bias = bias;
  struct parameter param;
  memset(&param, 0, sizeof param);
  param.solver_type = L2R_L2LOSS_SVC_DUAL;
  param.eps = eps;
  param.C = C;
  param.nr_weight = 0;
  param.weight_label = NULL;
  param.weight = NULL;
  param.p = 0.1;
  param.init_sol = NULL;
  lac_status st = LAC_OK;
  const char *msg = check_parameter(&prob, &param);
  if (msg) {
    st = lac_error_set(err, LAC_ERR_BACKEND, "liblinear refused the SVM parameters: %s", msg);
  } else {
    set_print_string_function(silent_print);
    struct model *mdl = train(&prob, &param);
    if (!mdl) {
      st = lac_error_set(err, LAC_ERR_BACKEND, "liblinear train() failed (out of memory?)");
    } else if (get_nr_class(mdl) != nc || get_nr_feature(mdl) != dim) {
      st = lac_error_set(err, LAC_ERR_BACKEND,
                         "liblinear returned %d classes x %d features, expected %d x %d",
                         get_nr_class(mdl), get_nr_feature(mdl), nc, dim);
    } else {
      int *lab = malloc((size_t)nc * sizeof *lab);
      int rows = nc == 2 ? 1 : nc;
      out->W = malloc((size_t)rows * dim * sizeof *out->W);
      out->b = malloc((size_t)rows * sizeof *out->b);
      if (!lab || !out->W || !out->b) {
        st = lac_error_set(err, LAC_ERR_NOMEM, "linear SVM: out of memory");
      } else {
        get_labels(mdl, lab);
        out->n_rows = rows;
        for (int r = 0; r < rows; r++) {
          /* row r scores classes[r] (or classes[1] when binary); find its liblinear index */
          int32_t want = out->classes[nc == 2 ? 1 : r];
          int li = 0;
          while (li < nc && lab[li] != want) li++;
          if (li == nc) {
            st = lac_error_set(err, LAC_ERR_BACKEND, "liblinear lost class %d", (int)want);
            break;
          }
          for (int k = 0; k < dim; k++) out->W[(size_t)r * dim + k] = get_decfun_coef(mdl, k + 1, li);
          out->b[r] = get_decfun_bias(mdl, li);
        }
      }
      free(lab);
    }
    if (mdl) free_and_destroy_model(&mdl);
  }
  free(nodes);
  free(xs);
  free(ys);
  if (st != LAC_OK) lac_linear_model_free(out);
  return st;
}
