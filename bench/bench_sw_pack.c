/* bench_sw_pack.c — the host side of lac_cuda_sw (lib/cuda/cuda_align.c): packing the
 * caller's pairs into the kernels' layout with the value checks (S, go, ge; gV, gM) and
 * unpacking the results (M; dS, dgo, dge), per-cell penalties, on one thread against all of
 * them in the same run (a benchmark, not a test).  No GPU: the functions run on a malloc'd
 * block in place of the pinned staging buffer.  White-box: this file compiles
 * lib/cuda/cuda_align.c itself to reach its static functions.
 *
 *   bench_sw_pack [--pairs 8] [--T 256] [--reps 7]
 *
 * Prints, per thread count, the median over reps of each step and their sum, and the ratio
 * of the sums.
 */
#include "../lib/cuda/cuda_align.c"

#include <stdio.h>

#include "bench_util.h"

static float *alloc_filled(size_t n, float v) {
  float *p = malloc(sizeof(float) * n);
  if (!p) {
    fprintf(stderr, "bench_sw_pack: out of memory\n");
    exit(1);
  }
  for (size_t t = 0; t < n; t++) p[t] = v + 1e-3f * (float)(t % 97);
  return p;
}

int main(int argc, char **argv) {
  int np = 8, T = 256, reps = 7;
  for (int a = 1; a < argc; a++) {
    if (!strcmp(argv[a], "--pairs") && a + 1 < argc) np = atoi(argv[++a]);
    else if (!strcmp(argv[a], "--T") && a + 1 < argc) T = atoi(argv[++a]);
    else if (!strcmp(argv[a], "--reps") && a + 1 < argc) reps = atoi(argv[++a]);
    else {
      fprintf(stderr, "usage: bench_sw_pack [--pairs 8] [--T 256] [--reps 7]\n");
      return 2;
    }
  }
  if (np < 1 || T < 1 || T > LAC_CUDA_SW_MAX_LEN || reps < 1 || reps > 64) {
    fprintf(stderr, "bench_sw_pack: need pairs >= 1, 1 <= T <= %d, 1 <= reps <= 64\n",
            LAC_CUDA_SW_MAX_LEN);
    return 2;
  }
  const size_t c = (size_t)T * T;
  lac_sw_pair *pairs = calloc((size_t)np, sizeof *pairs);
  float **arr[5]; /* M, dS, dgo, dge, gM */
  for (int k = 0; k < 5; k++) arr[k] = calloc((size_t)np, sizeof(float *));
  float *gV = alloc_filled((size_t)np, 1.0f), *V = alloc_filled((size_t)np, 0.0f);
  for (int p = 0; p < np; p++) {
    pairs[p] = (lac_sw_pair){T, T, alloc_filled(c, 0.1f), alloc_filled(c, 1.0f),
                             alloc_filled(c, 0.1f)};
    for (int k = 0; k < 5; k++) arr[k][p] = alloc_filled(c, 0.0f);
  }
  lac_sw_options o = {0.8f, 1};
  lac_error err;
  const int nts[2] = {1, pack_threads(NULL)};
  double total[2];
  printf("bench_sw_pack: %d pairs of %d x %d, per-cell gaps, median of %d reps (ms)\n", np, T, T,
         reps);
  for (int v = 0; v < 2; v++) {
    double t[4][64];
    for (int r = 0; r < reps; r++) {
      sw_batch B;
      if (batch_plan(&B, "bench_sw_pack", &o, np, pairs, 1, 1, 1, &err) != LAC_OK) {
        fprintf(stderr, "bench_sw_pack: %s\n", err.message);
        return 1;
      }
      B.nt = nts[v];
      char *blk = malloc(host_bytes(&B));
      if (!blk) {
        fprintf(stderr, "bench_sw_pack: out of memory\n");
        return 1;
      }
      memset(blk, 0, host_bytes(&B)); /* pinned staging is resident too */
      batch_bind(&B, blk);
      const double t0 = bench_now();
      int bad = batch_pack_inputs(&B, pairs);
      const double t1 = bench_now();
      bad |= batch_pack_grads(&B, gV, (const float *const *)arr[4]);
      const double t2 = bench_now();
      batch_unpack_fwd(&B, V, arr[0]);
      const double t3 = bench_now();
      batch_unpack_bwd(&B, arr[1], arr[2], arr[3]);
      const double t4 = bench_now();
      if (bad) {
        fprintf(stderr, "bench_sw_pack: the checks flagged a finite input\n");
        return 1;
      }
      t[0][r] = (t1 - t0) * 1e3;
      t[1][r] = (t2 - t1) * 1e3;
      t[2][r] = (t3 - t2) * 1e3;
      t[3][r] = (t4 - t3) * 1e3;
      free(blk);
      free(B.ord);
    }
    double med[4];
    for (int k = 0; k < 4; k++) med[k] = bench_median(t[k], reps);
    total[v] = med[0] + med[1] + med[2] + med[3];
    printf("%2d thread(s): pack S/go/ge %.3f, pack gV/gM %.3f, unpack M %.3f, unpack "
           "dS/dgo/dge %.3f, total %.3f\n",
           nts[v], med[0], med[1], med[2], med[3], total[v]);
  }
  printf("ratio 1 thread / %d threads: %.2f\n", nts[1], total[0] / total[1]);
  for (int p = 0; p < np; p++) {
    free((void *)pairs[p].S);
    free((void *)pairs[p].go);
    free((void *)pairs[p].ge);
    for (int k = 0; k < 5; k++) free(arr[k][p]);
  }
  for (int k = 0; k < 5; k++) free(arr[k]);
  free(pairs);
  free(gV);
  free(V);
  return 0;
}
