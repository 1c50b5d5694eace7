/* bench_similarity.c — the loss's similarity, forward + backward, through double GEMMs
 * (lac_sim_forward + lac_sim_backward) against the direct double loops they replaced in the
 * loss (lac_similarity_matrix + lac_sim_backward_ref), same inputs, same run (a benchmark,
 * not a test; tests/test_similarity.c checks that the two agree).
 *
 *   bench_similarity [--reps 15] [--d 128]
 *
 * One T x T pair per call, T = 64, 128, 256, 512; inverse squared distance and cosine;
 * OpenBLAS uses its default thread count (the loss's setting).  Prints medians and the ratio
 * old / new. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lac/align.h"
#include "lac_internal.h"
#include "bench_util.h"

int main(int argc, char **argv) {
  int reps = 15, d = 128;
  for (int a = 1; a < argc; a++) {
    if (!strcmp(argv[a], "--reps") && a + 1 < argc) reps = atoi(argv[++a]);
    else if (!strcmp(argv[a], "--d") && a + 1 < argc) d = atoi(argv[++a]);
    else {
      fprintf(stderr, "usage: bench_similarity [--reps 15] [--d 128]\n");
      return 2;
    }
  }
  if (reps < 1 || d < 1) {
    fprintf(stderr, "bench_similarity: --reps and --d must be >= 1\n");
    return 2;
  }
  static const int Ts[] = {64, 128, 256, 512};
  static const lac_similarity kinds[] = {LAC_SIM_INV_SQDIST, LAC_SIM_COSINE};
  printf("%-8s %5s %4s %12s %12s %8s\n", "kind", "T", "d", "direct ms", "GEMM ms", "ratio");
  unsigned s = 777;
  for (size_t ti = 0; ti < sizeof Ts / sizeof Ts[0]; ti++)
    for (int k = 0; k < 2; k++) {
      const int T = Ts[ti];
      const size_t nd = (size_t)T * d, nn = (size_t)T * T;
      float *x = malloc(4 * nd), *y = malloc(4 * nd), *S = malloc(4 * nn), *G1 = malloc(4 * nn),
            *G2 = malloc(4 * nn);
      double *dx = malloc(8 * nd), *dy = malloc(8 * nd),
             *ws = malloc(sizeof(double) * lac_sim_ws_doubles(T, T, d));
      double *t_old = malloc(sizeof(double) * reps), *t_new = malloc(sizeof(double) * reps);
      for (size_t i = 0; i < nd; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((s >> 8) / 16777216.0 - 0.5);
        s = s * 1664525u + 1013904223u;
        y[i] = (float)((s >> 8) / 16777216.0 - 0.5);
      }
      for (size_t i = 0; i < nn; i++) {
        s = s * 1664525u + 1013904223u;
        G1[i] = (float)((s >> 8) / 16777216.0 - 0.5);
        G2[i] = 0.5f * G1[(i * 7) % nn];
      }
      lac_error err;
      for (int r = -1; r < reps; r++) { /* r = -1: warm-up; old and new alternate */
        double t0 = bench_now();
        if (lac_similarity_matrix(kinds[k], 1e-6f, T, T, d, x, y, S, &err)) goto fail;
        memset(dx, 0, 8 * nd);
        memset(dy, 0, 8 * nd);
        lac_sim_backward_ref(kinds[k], 1e-6, T, T, d, x, y, G1, G2, dx, dy);
        double t1 = bench_now();
        if (lac_sim_forward(kinds[k], 1e-6f, T, T, d, x, y, S, ws, &err)) goto fail;
        memset(dx, 0, 8 * nd);
        memset(dy, 0, 8 * nd);
        lac_sim_backward(kinds[k], 1e-6, T, T, d, x, y, G1, G2, dx, dy, ws);
        double t2 = bench_now();
        if (r >= 0) t_old[r] = t1 - t0, t_new[r] = t2 - t1;
      }
      const double mo = bench_median(t_old, reps), mn = bench_median(t_new, reps);
      printf("%-8s %5d %4d %12.3f %12.3f %7.1fx\n", k ? "cosine" : "inv-sq", T, d, 1e3 * mo,
             1e3 * mn, mo / mn);
      free(x), free(y), free(S), free(G1), free(G2), free(dx), free(dy), free(ws);
      free(t_old), free(t_new);
      continue;
    fail:
      fprintf(stderr, "bench_similarity: %s\n", err.message);
      return 1;
    }
  return 0;
}
