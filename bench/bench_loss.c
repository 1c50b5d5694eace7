/* bench_loss.c — the whole LAC loss, forward + backward (a benchmark, not a test).
 *
 *   bench_loss [--B 2] [--T 64] [--d 128] [--threads 2] [--reps 20] [--preset reference]
 *
 * Random embeddings and sorted frame indices, per-cell gaps as the preset says; prints
 * the median time of lac_loss with every gradient requested. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lac/align.h"

#include "bench_util.h"

int main(int argc, char **argv) {
  int B = 2, T = 64, d = 128, threads = 2, reps = 20;
  const char *preset = "reference";
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) goto usage;
    if (!strcmp(argv[i], "--B")) B = atoi(v);
    else if (!strcmp(argv[i], "--T")) T = atoi(v);
    else if (!strcmp(argv[i], "--d")) d = atoi(v);
    else if (!strcmp(argv[i], "--threads")) threads = atoi(v);
    else if (!strcmp(argv[i], "--reps")) reps = atoi(v);
    else if (!strcmp(argv[i], "--preset")) preset = v;
    else goto usage;
    i++;
  }
  if (B < 1 || T < 2 || d < 1 || reps < 1) goto usage;
  lac_error err;
  lac_loss_params p;
  lac_aligner *al;
  lac_aligner_params ap = lac_aligner_default_params();
  ap.n_threads = threads;
  if (lac_loss_preset(preset, &p, &err) || lac_aligner_new(&ap, &al, &err)) {
    fprintf(stderr, "bench_loss: %s\n", err.message);
    return 1;
  }
  const size_t ne = (size_t)B * T * d, ng = p.per_cell_gaps ? (size_t)T * T : 1;
  float *e1 = malloc(4 * ne), *e2 = malloc(4 * ne), *de1 = malloc(4 * ne), *de2 = malloc(4 * ne);
  float *go = malloc(4 * ng), *ge = malloc(4 * ng), *dgo = malloc(4 * ng), *dge = malloc(4 * ng);
  int64_t *s1 = malloc(8 * (size_t)B * T), *s2 = malloc(8 * (size_t)B * T);
  unsigned x = 12345;
  for (size_t i = 0; i < ne; i++) {
    x = x * 1664525u + 1013904223u;
    e1[i] = (float)((x >> 8) / 16777216.0 - 0.5);
    x = x * 1664525u + 1013904223u;
    e2[i] = (float)((x >> 8) / 16777216.0 - 0.5);
  }
  for (size_t i = 0; i < ng; i++) go[i] = ge[i] = 1.f;
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++) {
      s1[b * T + t] = t * 3 / 2;
      s2[b * T + t] = t * 3 / 2 + (t % 3 == 0);
    }
  double *ts = malloc(sizeof(double) * reps);
  lac_loss_terms out;
  for (int r = -1; r < reps; r++) {
    double t0 = bench_now();
    if (lac_loss(al, &p, B, T, d, e1, e2, s1, s2, NULL, NULL, go, ge, &out, de1, de2, dgo, dge,
                 &err)) {
      fprintf(stderr, "bench_loss: %s\n", err.message);
      return 1;
    }
    if (r >= 0) ts[r] = bench_now() - t0;
  }
  qsort(ts, reps, sizeof *ts, bench_cmp_double);
  printf("lac loss (%s): B %d, T %d, d %d, %d threads: forward+backward median %.3f ms "
         "(min %.3f, max %.3f, %d reps); L = %.6g\n",
         preset, B, T, d, threads, 1e3 * ts[reps / 2], 1e3 * ts[0], 1e3 * ts[reps - 1], reps,
         out.total);
  lac_aligner_free(al);
  free(e1), free(e2), free(de1), free(de2), free(go), free(ge), free(dgo), free(dge);
  free(s1), free(s2), free(ts);
  return 0;
usage:
  fprintf(stderr, "usage: bench_loss [--B 2] [--T 64] [--d 128] [--threads 2] [--reps 20] [--preset reference|paper]\n");
  return 2;
}
