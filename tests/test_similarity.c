/* test_similarity.c — the similarity through double GEMMs (lac_sim_forward, lac_sim_backward
 * and lac_similarity_matrix's whole-sequence path, lib/align/similarity.c) against the direct
 * double loops (lac_sim_direct, lac_sim_backward_ref), for the three kinds, on shapes from
 * 1 x 1 to 300 x 70 (lac_similarity_matrix in row blocks of 256) and inputs built to make
 * |x|^2 + |y|^2 - 2 x.y cancel: rows of norm 1 and 1000,
 * rows of y that are copies of rows of x or copies moved by 1e-2 .. 1e-7 of their scale,
 * zero rows (cosine), a zero incoming gradient on some cells.  Passing needs the GEMM path
 * to keep float32's accuracy in S (2 ulp) and the gradients within 1e-9 of their largest
 * value, i.e. the cancellation guard to catch every near-identical pair. */
#include <float.h>

#include "lac/align.h"
#include "lac_internal.h"
#include "testutil.h"

static uint64_t rng = 20261126;
static double urand(void) { return test_urand(&rng); }

/* x [n][d] random of the given scale; y [m][d]: every third row random, the others copies
 * of a row of x moved by scale * 10^-(2..7) (one in five exact copies); with zero_rows, row
 * 0 of x and row m-1 of y are 0 */
static void make_rows(int n, int m, int d, double scale, int zero_rows, float *x, float *y) {
  for (size_t t = 0; t < (size_t)n * d; t++) x[t] = (float)(scale * (2 * urand() - 1));
  for (int j = 0; j < m; j++) {
    float *b = y + (size_t)j * d;
    if (j % 3 == 0) {
      for (int k = 0; k < d; k++) b[k] = (float)(scale * (2 * urand() - 1));
      continue;
    }
    const float *a = x + (size_t)(j % n) * d;
    const double shift = j % 5 == 4 ? 0.0 : scale * pow(10.0, -2.0 - (j % 6));
    for (int k = 0; k < d; k++) b[k] = (float)(a[k] + shift * (2 * urand() - 1));
  }
  if (zero_rows) {
    memset(x, 0, sizeof(float) * d);
    memset(y + (size_t)(m - 1) * d, 0, sizeof(float) * d);
  }
}

/* largest |a - b| over max |b| (doubles), NaN-safe */
static double rel_err_d(const double *a, const double *b, size_t n) {
  double md = 0, mr = DBL_MIN;
  for (size_t t = 0; t < n; t++) {
    const double e = fabs(a[t] - b[t]);
    if (!(e <= md)) md = e;
    if (fabs(b[t]) > mr) mr = fabs(b[t]);
  }
  return md / mr;
}

/* largest |a - b| / |b| in ulps of float (|b| >= FLT_MIN) */
static double ulps(const float *a, const float *b, size_t n) {
  double w = 0;
  for (size_t t = 0; t < n; t++) {
    const double r = fabs((double)b[t]) > FLT_MIN ? fabs((double)b[t]) : FLT_MIN;
    const double e = fabs((double)a[t] - (double)b[t]) / (r * FLT_EPSILON);
    if (!(e <= w)) w = e;
  }
  return w;
}

int main(void) {
  static const int shapes[][3] = {{1, 1, 1},     {1, 7, 3},     {5, 1, 16}, {37, 29, 128},
                                  {64, 64, 128}, {130, 70, 33}, {3, 200, 8}, {300, 40, 24}};
  static const lac_similarity kinds[] = {LAC_SIM_INV_SQDIST, LAC_SIM_NEG_SQDIST, LAC_SIM_COSINE};
  static const char *kname[] = {"inverse squared distance", "negative squared distance",
                                "cosine"};
  double worst_s = 0, worst_g = 0;
  for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++)
    for (int scale_k = 0; scale_k < 2; scale_k++)
      for (int kk = 0; kk < 3; kk++) {
        const int n = shapes[sh][0], m = shapes[sh][1], d = shapes[sh][2];
        const double scale = scale_k ? 1000.0 : 1.0;
        const lac_similarity kind = kinds[kk];
        const float eps = 1e-6f;
        float *x = malloc(sizeof(float) * n * d), *y = malloc(sizeof(float) * m * d);
        float *S = malloc(sizeof(float) * n * m), *Sr = malloc(sizeof(float) * n * m);
        float *G12 = malloc(sizeof(float) * n * m), *G21 = malloc(sizeof(float) * n * m);
        double *dx = malloc(sizeof(double) * n * d), *dy = malloc(sizeof(double) * m * d);
        double *dxr = malloc(sizeof(double) * n * d), *dyr = malloc(sizeof(double) * m * d);
        double *ws = malloc(sizeof(double) * lac_sim_ws_doubles(n, m, d));
        make_rows(n, m, d, scale, kind == LAC_SIM_COSINE, x, y);
        lac_error err;
        CHECK_OK(lac_sim_direct(kind, eps, n, m, d, x, y, Sr, &err), &err);
        for (int pub = 0; pub < 2; pub++) { /* lac_sim_forward, then lac_similarity_matrix */
          for (size_t t = 0; t < (size_t)n * m; t++) S[t] = NAN;
          if (pub) CHECK_OK(lac_similarity_matrix(kind, eps, n, m, d, x, y, S, &err), &err);
          else CHECK_OK(lac_sim_forward(kind, eps, n, m, d, x, y, S, ws, &err), &err);
          const double us = ulps(S, Sr, (size_t)n * m);
          CHECK(us <= 2.0, "%s, %d x %d x %d, scale %g: %s's S differs by %.3g ulp", kname[kk], n,
                m, d, scale, pub ? "lac_similarity_matrix" : "lac_sim_forward", us);
          if (us > worst_s) worst_s = us;
        }
        /* incoming gradients of the scale of 1 / S (so every kind's terms are O(1)), some 0 */
        for (size_t t = 0; t < (size_t)n * m; t++) {
          const double r = fabs((double)Sr[t]) > 1e-30 ? 1.0 / fabs((double)Sr[t]) : 1.0;
          G12[t] = t % 7 == 3 ? 0.0f : (float)((2 * urand() - 1) * (r < 1e6 ? r : 1e6));
          G21[t] = t % 5 == 1 ? 0.0f : (float)(2 * urand() - 1);
        }
        for (int with21 = 0; with21 < 2; with21++) {
          const float *g21 = with21 ? G21 : NULL;
          for (size_t t = 0; t < (size_t)n * d; t++) dx[t] = dxr[t] = 0.25 * (double)(t % 3);
          for (size_t t = 0; t < (size_t)m * d; t++) dy[t] = dyr[t] = -0.5 * (double)(t % 2);
          lac_sim_backward(kind, eps, n, m, d, x, y, G12, g21, dx, dy, ws);
          lac_sim_backward_ref(kind, eps, n, m, d, x, y, G12, g21, dxr, dyr);
          const double ex = rel_err_d(dx, dxr, (size_t)n * d),
                       ey = rel_err_d(dy, dyr, (size_t)m * d);
          CHECK(ex <= 1e-9 && ey <= 1e-9,
                "%s, %d x %d x %d, scale %g, G21 %s: gradient error dx %.3g dy %.3g", kname[kk], n,
                m, d, scale, with21 ? "given" : "NULL", ex, ey);
          if (ex > worst_g) worst_g = ex;
          if (ey > worst_g) worst_g = ey;
        }
        free(x), free(y), free(S), free(Sr), free(G12), free(G21);
        free(dx), free(dy), free(dxr), free(dyr), free(ws);
      }
  printf("largest S difference %.3g ulp (limit 2), largest gradient error %.3g of the largest "
         "value (limit 1e-9)\n",
         worst_s, worst_g);
  /* bad input: the same errors on both paths; a row index in the error names the row of the
   * whole matrix, also in lac_similarity_matrix's second block of 256 rows */
  {
    enum { N = 300, M = 20, D = 4 };
    static float x[N * D], y[M * D], S[N * M];
    for (int t = 0; t < N * D; t++) x[t] = (float)t * 0.001f; /* every row distinct */
    for (int t = 0; t < M * D; t++) y[t] = (float)(t % 13) * 0.5f + 100.0f;
    memcpy(y + 5 * D, x + 270 * D, sizeof(float) * D); /* row 270 of x = row 5 of y */
    lac_error err;
    for (int pub = 0; pub < 2; pub++) {
      const lac_status st = pub ? lac_similarity_matrix(LAC_SIM_INV_SQDIST, 0.0f, N, M, D, x, y,
                                                        S, &err)
                                : lac_sim_direct(LAC_SIM_INV_SQDIST, 0.0f, N, M, D, x, y, S, &err);
      CHECK(st == LAC_ERR_NUMERIC && strstr(err.message, "rows 270 and 5") != NULL,
            "%s, identical rows 270 and 5 with epsilon 0: %s", pub ? "public" : "direct",
            err.message);
    }
  }
  {
    float x[4] = {1, 2, 3, 4}, S[4];
    double ws[64];
    lac_error err;
    CHECK(lac_sim_forward(LAC_SIM_INV_SQDIST, 0.0f, 2, 2, 2, x, x, S, ws, &err) ==
                  LAC_ERR_NUMERIC &&
              strstr(err.message, "identical") != NULL,
          "identical rows with epsilon 0: %s", err.message);
    CHECK(lac_sim_forward((lac_similarity)7, 0.0f, 2, 2, 2, x, x, S, ws, &err) ==
              LAC_ERR_INVALID_ARG,
          "unknown kind refused");
    x[1] = NAN;
    CHECK(lac_sim_forward(LAC_SIM_NEG_SQDIST, 0.0f, 2, 2, 2, x, x, S, ws, &err) ==
                  LAC_ERR_NUMERIC &&
              strstr(err.message, "non-finite") != NULL,
          "a NaN embedding: %s", err.message);
  }
  return test_exit("test_similarity");
}
