/* bench_sw.c — smoothed Smith-Waterman forward+backward cells/s on the CPU (a benchmark,
 * not a test).
 *
 *   bench_sw [--pairs 8] [--sizes 32,64,128,256,512] [--tau 0.8] [--threads 2] [--reps 7]
 *            [--path auto] [--strips 0] [--gaps per-cell|scalar] [--no-scalar] [--json FILE]
 *
 * For each T: --pairs pairs of T x T random S (uniform [-1, 1.5]), per-cell gaps (or one
 * go and ge a pair, --gaps scalar: smaller tables, other gradients), incoming
 * gradients gV = 1 and a random gM (what the LAC loss feeds back), one forward plus one
 * backward per repetition; prints the median over --reps repetitions (after a warm-up) as
 * cells/s (and the fastest repetition's, for comparing variants on a busy machine), where
 * cells = pairs * T * T, for the fast path and for the scalar path (the
 * oracle, also threaded over pairs) and their ratio.  --strips forces the vector path's
 * strips per pair (0: its planner).  bench/run_sw.sh runs it beside the
 * PyTorch implementation (tools/sw_torch.py).  Does not check results (tests/test_sw_cpu.c
 * does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lac/align.h"
#include "lac_internal.h"

#include "align/sw_cpu.h" /* hooks of lib/align/sw_cpu.c (not in align.h) */

#include "bench_util.h"

typedef struct {
  int np, T;
  lac_sw_pair *pairs;
  float *V, *gV;
  float **M, **gM, **dS, **dgo, **dge;
} batch;

static void batch_make(batch *b, int np, int T, lac_rng *r) {
  const size_t c = (size_t)T * T;
  b->np = np, b->T = T;
  b->pairs = calloc(np, sizeof *b->pairs);
  b->V = calloc(np, sizeof(float));
  b->gV = calloc(np, sizeof(float));
  float ***arrs[5] = {&b->M, &b->gM, &b->dS, &b->dgo, &b->dge};
  for (int k = 0; k < 5; k++) *arrs[k] = calloc(np, sizeof(float *));
  for (int p = 0; p < np; p++) {
    float *S = malloc(sizeof(float) * c), *go = malloc(sizeof(float) * c),
          *ge = malloc(sizeof(float) * c);
    for (size_t k = 0; k < c; k++) {
      S[k] = (float)(-1.0 + 2.5 * lac_rng_uniform(r));
      go[k] = (float)(0.5 + lac_rng_uniform(r));
      ge[k] = (float)(0.05 + 0.45 * lac_rng_uniform(r));
    }
    b->pairs[p] = (lac_sw_pair){T, T, S, go, ge};
    b->gV[p] = 1.0f;
    for (int k = 0; k < 5; k++) (*arrs[k])[p] = malloc(sizeof(float) * c);
    for (size_t k = 0; k < c; k++) b->gM[p][k] = (float)(0.01 * (lac_rng_uniform(r) - 0.5));
  }
}

static void batch_free(batch *b) {
  for (int p = 0; p < b->np; p++) {
    free((void *)b->pairs[p].S), free((void *)b->pairs[p].go), free((void *)b->pairs[p].ge);
    free(b->M[p]), free(b->gM[p]), free(b->dS[p]), free(b->dgo[p]), free(b->dge[p]);
  }
  free(b->pairs), free(b->V), free(b->gV);
  free(b->M), free(b->gM), free(b->dS), free(b->dgo), free(b->dge);
}

/* median seconds of one forward + backward, the forward's median, the fastest repetition */
static int time_fb(lac_aligner *a, const batch *b, float tau, int pc, int reps, double *med,
                   double *fwd_med, double *best) {
  lac_error err;
  lac_sw_options opt = {tau, pc};
  double *t = malloc(sizeof(double) * (reps + 1)), *tf = malloc(sizeof(double) * (reps + 1));
  for (int r = 0; r <= reps; r++) { /* r = 0: warm-up (the workspace grows) */
    const double t0 = bench_now();
    if (lac_sw_forward(a, &opt, b->np, b->pairs, b->V, b->M, &err)) goto fail;
    const double t1 = bench_now();
    if (lac_sw_backward(a, b->gV, (const float *const *)b->gM, b->dS, b->dgo, b->dge, &err))
      goto fail;
    const double t2 = bench_now();
    if (r > 0) t[r - 1] = t2 - t0, tf[r - 1] = t1 - t0;
  }
  qsort(t, reps, sizeof(double), bench_cmp_double);
  qsort(tf, reps, sizeof(double), bench_cmp_double);
  *med = t[reps / 2];
  *fwd_med = tf[reps / 2];
  *best = t[0];
  free(t), free(tf);
  return 0;
fail:
  fprintf(stderr, "bench_sw: %s\n", err.message);
  free(t), free(tf);
  return 1;
}

int main(int argc, char **argv) {
  const char *json = NULL, *path = "auto", *sizes = "32,64,128,256,512";
  int np = 8, threads = 2, reps = 7, scalar = 1, strips = 0, pc = 1;
  float tau = 0.8f;
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(argv[i], "--pairs") && v) np = atoi(v), i++;
    else if (!strcmp(argv[i], "--sizes") && v) sizes = v, i++;
    else if (!strcmp(argv[i], "--tau") && v) tau = (float)atof(v), i++;
    else if (!strcmp(argv[i], "--threads") && v) threads = atoi(v), i++;
    else if (!strcmp(argv[i], "--reps") && v) reps = atoi(v), i++;
    else if (!strcmp(argv[i], "--path") && v) path = v, i++;
    else if (!strcmp(argv[i], "--strips") && v) strips = atoi(v), i++;
    else if (!strcmp(argv[i], "--json") && v) json = v, i++;
    else if (!strcmp(argv[i], "--gaps") && v && (!strcmp(v, "per-cell") || !strcmp(v, "scalar")))
      pc = !strcmp(v, "per-cell"), i++;
    else if (!strcmp(argv[i], "--no-scalar")) scalar = 0;
    else {
      fprintf(stderr, "usage: bench_sw [--pairs N] [--sizes 32,64,...] [--tau T] [--threads N] "
                      "[--reps R] [--path auto|scalar|avx2|avx512] [--strips S] "
                      "[--gaps per-cell|scalar] [--no-scalar] [--json FILE]\n");
      return 2;
    }
  }
  if (np < 1 || reps < 1 || reps > 1000 || threads < 1 || !(tau > 0)) {
    fprintf(stderr,
            "bench_sw: --pairs, --threads and --tau must be positive, --reps in [1, 1000]\n");
    return 2;
  }
  int Ts[32], nT = 0;
  for (const char *s = sizes; *s && nT < 32;) {
    Ts[nT] = atoi(s);
    if (Ts[nT] < 1) {
      fprintf(stderr, "bench_sw: bad --sizes '%s'\n", sizes);
      return 2;
    }
    nT++;
    s = strchr(s, ',');
    if (!s) break;
    s++;
  }
  lac_error err;
  lac_aligner *a = NULL, *as = NULL;
  lac_aligner_params ap = lac_aligner_default_params();
  ap.n_threads = threads;
  if (lac_aligner_new(&ap, &a, &err) || lac_aligner_new(&ap, &as, &err) ||
      lac_sw_cpu_force(a, path, strips, &err) || lac_sw_cpu_force(as, "scalar", 0, &err)) {
    fprintf(stderr, "bench_sw: %s\n", err.message);
    return 1;
  }
  FILE *jf = json ? fopen(json, "w") : NULL;
  if (json && !jf) {
    fprintf(stderr, "bench_sw: cannot write %s\n", json);
    return 1;
  }
  if (jf)
    fprintf(jf, "{\"pairs\": %d, \"tau\": %g, \"threads\": %d, \"per_cell_gaps\": %d, "
                "\"results\": [", np, tau, threads, pc);
  printf("smoothed SW forward+backward, %d pairs of T x T, %s gaps, tau %g, %d threads, "
         "median of %d\n", np, pc ? "per-cell" : "scalar", tau, threads, reps);
  printf("%6s %10s %12s %12s %9s %14s %9s\n", "T", "path", "cells/s", "(best rep)", "fwd share",
         "scalar cells/s", "speed-up");
  lac_rng r;
  lac_rng_seed(&r, 1);
  int rc = 0;
  for (int k = 0; k < nT; k++) {
    batch b;
    batch_make(&b, np, Ts[k], &r);
    const double cells = (double)np * Ts[k] * Ts[k];
    double med, fmed, best, smed = 0, sfmed, sbest;
    if (time_fb(a, &b, tau, pc, reps, &med, &fmed, &best)) {
      rc = 1;
      batch_free(&b);
      break;
    }
    const char *pname = lac_sw_cpu_path(a);
    /* the scalar path: fewer repetitions on large sizes */
    const int sreps = cells > 1e6 ? (reps < 3 ? reps : 3) : reps;
    if (scalar && time_fb(as, &b, tau, pc, sreps, &smed, &sfmed, &sbest)) {
      rc = 1;
      batch_free(&b);
      break;
    }
    printf("%6d %10s %12.4g %12.4g %8.0f%% %14.4g %8.1fx\n", Ts[k], pname, cells / med,
           cells / best, 100 * fmed / med, scalar ? cells / smed : 0.0, scalar ? smed / med : 0.0);
    fflush(stdout);
    if (jf)
      fprintf(jf, "%s{\"T\": %d, \"path\": \"%s\", \"cells_per_s\": %.6g, \"fwd_s\": %.6g, "
                  "\"fwd_bwd_s\": %.6g, \"scalar_cells_per_s\": %.6g}",
              k ? ", " : "", Ts[k], pname, cells / med, fmed, med, scalar ? cells / smed : 0.0);
    batch_free(&b);
  }
  if (jf) {
    fprintf(jf, "]}\n");
    fclose(jf);
  }
  lac_aligner_free(a);
  lac_aligner_free(as);
  return rc;
}
