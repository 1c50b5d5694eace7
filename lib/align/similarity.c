/* similarity.c — the similarity matrix between two embedding sequences, as the LAC loss and
 * the alignment tools use it: S[i][j] = sim(x[i], y[j]) for inverse squared distance,
 * negative squared distance or cosine (include/lac/align.h).  Direct loops: exact
 * differences rather than |x|^2 + |y|^2 - 2 x.y, which cancels for near-identical rows.
 * Not here: gradients (the loss computes them). */
#include <math.h>

#include "lac/align.h"

lac_status lac_similarity_matrix(lac_similarity kind, float eps, int n, int m, int d,
                                 const float *x, const float *y, float *S, lac_error *err) {
  if (n < 1 || m < 1 || d < 1 || !x || !y || !S)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "similarity: need n, m, d >= 1 and non-NULL arrays (got %d x %d x %d)", n,
                         m, d);
  if (!(eps >= 0))
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "similarity: epsilon must be >= 0");
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++) {
      const float *a = x + (size_t)i * d, *b = y + (size_t)j * d;
      double v;
      if (kind == LAC_SIM_COSINE) {
        double ab = 0, aa = 0, bb = 0;
        for (int k = 0; k < d; k++) {
          ab += (double)a[k] * b[k];
          aa += (double)a[k] * a[k];
          bb += (double)b[k] * b[k];
        }
        v = ab / (sqrt(aa) * sqrt(bb) + eps);
      } else {
        double dd = 0;
        for (int k = 0; k < d; k++) {
          double t = (double)a[k] - b[k];
          dd += t * t;
        }
        if (kind == LAC_SIM_NEG_SQDIST) {
          v = -dd;
        } else if (kind == LAC_SIM_INV_SQDIST) {
          if (dd + eps == 0)
            return lac_error_set(err, LAC_ERR_NUMERIC,
                                 "similarity: rows %d and %d are identical and the epsilon is 0: "
                                 "1/|x-y|^2 is infinite (use an epsilon > 0)",
                                 i, j);
          v = 1.0 / (dd + eps);
        } else {
          return lac_error_set(err, LAC_ERR_INVALID_ARG, "similarity: unknown kind %d", (int)kind);
        }
      }
      if (!isfinite(v))
        return lac_error_set(err, LAC_ERR_NUMERIC,
                             "similarity: non-finite value at (%d, %d): check the embeddings", i, j);
      S[(size_t)i * m + j] = (float)v;
    }
  return LAC_OK;
}
