/* bench_sw_cuda.c — the CUDA smoothed Smith-Waterman (kernels/sw_affine.cu): forward +
 * backward cells/s for 8 pairs of T x T, T = 32 .. 1024 (the rows), 256 pairs at
 * T = 64 .. 1024, 1024 pairs at T = 64, 256 and 512, 2048 at T = 512 and 4096 pairs at T = 64,
 * 256 and 512 (does the kernel scale with more warps?) (a benchmark, not a test).  The
 * largest rows need 43 GB of device memory (rows that need over 60 % of the card are skipped)
 * and are not timed end to end.
 *
 *   bench_sw_cuda [--quick] [--tune] [--only PAIRS T]...
 *
 * kernel: the two launches (lac_cuda_sw_forward + lac_cuda_sw_backward, gM given, dS and
 *   per-cell or scalar dgo/dge written) timed with cudaEvents on device-resident buffers,
 *   median of reps after a warm-up;
 * e2e: lac_cuda_sw on host arrays (validation while packing into the backend's pinned
 *   staging, one copy each way, both kernels, unpacking), wall clock, median of reps after a
 *   warm-up call (which grows the backend's scratch); per-cell penalties, default settings.
 * cells/s = pairs * T * T / (forward + backward time).  Every row and gap kind times the
 * one-warp kernels and the several-warp ones (lac_cuda_sw_opts.warps: 2 and 4, and 8 up to
 * 64 pairs), each with its speed ratio to one warp, then the rows of the default warps (those
 * the default settings pick for the shape): "rows", the time of that variant, with the
 * end-to-end figure; "cells", timed again with every per-cell buffer in the warp's order
 * (LAC_CUDA_SW_CELLS: the buffers' contents are the same random values, read in another
 * order); "xedge", from T = 256 on, the warp's order with the X edges
 * (LAC_CUDA_SW_CELLS_XEDGE: the backward recomputes X from M; "vs cells": its speed ratio to
 * "cells"); "xyedge", with the Y checkpoints too (LAC_CUDA_SW_CELLS_XYEDGE: one warp per pair,
 * Y recomputed in shared memory; "vs cells" as for "xedge"); and last "best", whichever of
 * rows, cells and xedge lac_cuda_sw_best_order picks.  Each line also gives the bytes per
 * second that the kernels must move (BYTES_CELL_*) and their share of the device's copy
 * bandwidth, measured first.  --tune adds the strip-width variants (lac_cuda_sw_opts strip
 * widths 8/4 and 4/4: narrower strips, fewer registers, more warps per SM; one warp per
 * pair); --quick: fewer reps.
 * Lines starting "BENCH" are for tools/gpu-check.sh.  Exits 77 without a GPU.
 */
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h"
#include "lac_internal.h"
#include "bench_util.h"

#define MAXT 1024
#define MAXP 4096
/* the largest batch timed end to end (lac_cuda_sw's own staging and scratch grow with it):
 * 256 x 1024^2 = 4096 x 256^2; the kernels' buffers are sized for the largest row run */
#define E2E_MAXCELLS ((size_t)256 * 1024 * 1024)
#define COPY_CELLS E2E_MAXCELLS           /* the copy bandwidth: 1 GiB */
#define MAXWORK ((size_t)10 * 4096 * 512) /* max of pairs * 10 * T */
#define SW_MW_KMAX 8 /* the most warps per pair (lac_cuda_sw_opts.warps) */
#define PATTERN (1u << 20) /* floats of random pattern copied over the device buffers */

static uint64_t rng_s = 12345;
static float frand(float lo, float hi) {
  uint64_t z = (rng_s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return lo + (hi - lo) * (float)((double)(z >> 11) * (1.0 / 9007199254740992.0));
}

/* the rows of the table: pairs x T */
static const struct {
  int np, T;
} cfg[] = {{8, 32},     {8, 64},     {8, 128},    {8, 256},   {8, 512},   {8, 1024},
           {256, 64},   {256, 128},  {256, 256},  {256, 512}, {256, 1024}, {1024, 64},
           {1024, 256}, {1024, 512}, {4096, 64},  {4096, 256}, {2048, 512}, {4096, 512}};
#define N_CFG (sizeof cfg / sizeof cfg[0])

#define CK(call)                                                                    \
  do {                                                                              \
    cudaError_t e_ = (cudaError_t)(call);                                           \
    if (e_ != cudaSuccess) {                                                        \
      fprintf(stderr, "bench_sw_cuda: %s: %s\n", #call, cudaGetErrorString(e_));    \
      exit(1);                                                                      \
    }                                                                               \
  } while (0)

typedef struct {
  float *S, *go, *ge, *M, *X, *Y, *gM, *dS, *dgo, *dge, *work, *V, *vstat, *gV, *sgo, *sge;
  float *sdgo, *sdge; /* scalar-mode outputs */
  lac_cuda_sw_dims *dims;
} dbuf;

static void fill_device(float *d, size_t n, const float *pat) {
  for (size_t at = 0; at < n; at += PATTERN) {
    const size_t k = n - at < PATTERN ? n - at : PATTERN;
    CK(cudaMemcpy(d + at, pat, k * sizeof(float), cudaMemcpyHostToDevice));
  }
}

/* kernel time (ms) of one forward + backward, median over reps; fwd/bwd medians too */
static void time_kernels(const dbuf *B, int np, int T, int per_cell, int order,
                         const lac_cuda_sw_opts *ko, int reps, double *fwd_ms, double *bwd_ms,
                         double *tot_ms) {
  lac_cuda_sw_dims dims[MAXP];
  for (int p = 0; p < np; p++) {
    dims[p].off = (long long)p * T * T;
    dims[p].woff = (long long)p * 10 * T;
    dims[p].n = dims[p].m = T;
    dims[p].ld = T;
    dims[p].reserved = 0;
  }
  CK(cudaMemcpy(B->dims, dims, sizeof(lac_cuda_sw_dims) * np, cudaMemcpyHostToDevice));
  const float tau = 0.8f;
  const float *go = per_cell ? B->go : B->sgo, *ge = per_cell ? B->ge : B->sge;
  float *dgo = per_cell ? B->dgo : B->sdgo, *dge = per_cell ? B->dge : B->sdge;
  cudaEvent_t e0, e1, e2;
  CK(cudaEventCreate(&e0));
  CK(cudaEventCreate(&e1));
  CK(cudaEventCreate(&e2));
  double f[64], b[64], t[64];
  for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
    CK(cudaEventRecord(e0, 0));
    CK(lac_cuda_sw_forward(np, B->dims, T, order, ko, tau, per_cell, B->S, go, ge, B->M, B->X,
                           B->Y, B->V, B->vstat, NULL));
    CK(cudaEventRecord(e1, 0));
    CK(lac_cuda_sw_backward(np, B->dims, T, order, ko, tau, per_cell, go, ge, B->M, B->X, B->Y,
                            B->vstat, B->gV, B->gM, B->dS, dgo, dge, B->work, NULL));
    CK(cudaEventRecord(e2, 0));
    CK(cudaEventSynchronize(e2));
    float a, c;
    CK(cudaEventElapsedTime(&a, e0, e1));
    CK(cudaEventElapsedTime(&c, e1, e2));
    if (r >= 0) {
      f[r] = a;
      b[r] = c;
      t[r] = (double)a + c;
    }
  }
  *fwd_ms = bench_median(f, reps);
  *bwd_ms = bench_median(b, reps);
  *tot_ms = bench_median(t, reps);
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  cudaEventDestroy(e2);
  /* sanity: V finite */
  float V[MAXP];
  CK(cudaMemcpy(V, B->V, sizeof(float) * np, cudaMemcpyDeviceToHost));
  for (int p = 0; p < np; p++)
    if (!isfinite(V[p])) {
      fprintf(stderr, "bench_sw_cuda: V[%d] = %g is not finite (T = %d)\n", p, (double)V[p], T);
      exit(1);
    }
}

/* The bytes per cell the forward and the backward must move, whatever the order: forward S,
 * go, ge in, M, X, Y out; backward go, ge, M, X, Y, gM in, dS, dgo, dge out (4 bytes each;
 * scalar gaps: no go, ge, dgo, dge per cell).  The pairs' scratch and per-pair values are
 * left out. */
#define BYTES_CELL_PC 60
#define BYTES_CELL_SC 36
/* with the X edges (pairs wider than 128 columns): X written and read at 1 cell of 8 */
#define BYTES_CELL_XE_SAVED 7
/* and with the Y checkpoints: Y written and read at 9 floats of 32 (Y's 8 bytes a cell become
 * 2.25) */
#define BYTES_CELL_YC_SAVED 5.75

/* device-to-device copy bandwidth, GB/s counting the bytes read and written, median of reps */
static double copy_bandwidth(float *dst, const float *src, size_t bytes, int reps) {
  cudaEvent_t e0, e1;
  CK(cudaEventCreate(&e0));
  CK(cudaEventCreate(&e1));
  double g[16];
  for (int r = -1; r < reps; r++) {
    CK(cudaEventRecord(e0, 0));
    CK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, 0));
    CK(cudaEventRecord(e1, 0));
    CK(cudaEventSynchronize(e1));
    float ms;
    CK(cudaEventElapsedTime(&ms, e0, e1));
    if (r >= 0) g[r] = 2.0 * (double)bytes / (ms * 1e-3) * 1e-9;
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  return bench_median(g, reps);
}

/* end to end through lac_cuda_sw (per-cell penalties), ms, median over reps */
static double time_e2e(lac_backend *gpu, int np, int T, int reps, float *hS, float *hgo,
                       float *hge, float *hgM, float *hM, float *hdS, float *hdgo, float *hdge) {
  lac_sw_pair pairs[MAXP];
  float gV[MAXP], V[MAXP];
  float *M[MAXP], *dS[MAXP], *dgo[MAXP], *dge[MAXP];
  const float *gM[MAXP];
  const size_t c = (size_t)T * T;
  for (int p = 0; p < np; p++) {
    pairs[p] = (lac_sw_pair){T, T, hS + p * c, hgo + p * c, hge + p * c};
    gM[p] = hgM + p * c;
    M[p] = hM + p * c;
    dS[p] = hdS + p * c;
    dgo[p] = hdgo + p * c;
    dge[p] = hdge + p * c;
    gV[p] = 1.0f;
  }
  lac_sw_options o = {0.8f, 1};
  lac_error err;
  double t[64];
  for (int r = -1; r < reps; r++) {
    const double t0 = bench_now();
    if (lac_cuda_sw(gpu, &o, np, pairs, V, M, gV, gM, dS, dgo, dge, &err) != LAC_OK) {
      fprintf(stderr, "bench_sw_cuda: lac_cuda_sw: %s\n", err.message);
      exit(1);
    }
    if (r >= 0) t[r] = (bench_now() - t0) * 1e3;
  }
  return bench_median(t, reps);
}

int main(int argc, char **argv) {
  int quick = 0, tune = 0, n_only = 0;
  char only[N_CFG] = {0}; /* --only: the rows asked for */
  for (int a = 1; a < argc; a++) {
    if (!strcmp(argv[a], "--quick")) quick = 1;
    else if (!strcmp(argv[a], "--tune")) tune = 1;
    else if (!strcmp(argv[a], "--only") && a + 2 < argc) {
      const int only_np = atoi(argv[a + 1]), only_T = atoi(argv[a + 2]);
      a += 2;
      int row = 0;
      for (size_t c = 0; c < N_CFG; c++)
        if (cfg[c].np == only_np && cfg[c].T == only_T) only[c] = 1, row = 1;
      n_only++;
      if (!row) {
        fprintf(stderr, "bench_sw_cuda: --only %s %s is not a row of the table; rows (pairs T):",
                argv[a - 1], argv[a]);
        for (size_t c = 0; c < N_CFG; c++)
          fprintf(stderr, "%s %d %d", c ? "," : "", cfg[c].np, cfg[c].T);
        fprintf(stderr, "\n");
        return 2;
      }
    } else {
      fprintf(stderr, "usage: bench_sw_cuda [--quick] [--tune] [--only PAIRS T]... (--only: a "
                      "row of the benchmark's table, e.g. --only 1024 256, for a profiler; "
                      "repeatable)\n");
      return 2;
    }
  }
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    printf("bench_sw_cuda: no CUDA device, skipped\n");
    return 77;
  }
  struct cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, 0));
  lac_error err;
  lac_backend_params bp = lac_backend_default_params();
  bp.kind = LAC_BACKEND_CUDA;
  lac_backend *gpu = NULL;
  if (lac_backend_new(&bp, &gpu, &err) != LAC_OK) {
    fprintf(stderr, "bench_sw_cuda: %s\n", err.message);
    return 1;
  }
  /* the kernels' buffers: the largest row to run, up to 60 % of the card for the 10 of them
   * (rows beyond are skipped, said below) */
  size_t cells = COPY_CELLS;
  for (size_t a = 0; a < N_CFG; a++)
    if (!n_only || only[a])
      if ((size_t)cfg[a].np * cfg[a].T * cfg[a].T > cells)
        cells = (size_t)cfg[a].np * cfg[a].T * cfg[a].T;
  const size_t fit = (size_t)(0.6 * (double)prop.totalGlobalMem) / (10 * sizeof(float));
  if (cells > fit) cells = fit < COPY_CELLS ? COPY_CELLS : fit;
  dbuf B;
  float **slots[] = {&B.S, &B.go, &B.ge, &B.M, &B.X, &B.Y, &B.gM, &B.dS, &B.dgo, &B.dge};
  for (size_t k = 0; k < sizeof slots / sizeof slots[0]; k++)
    CK(cudaMalloc((void **)slots[k], cells * sizeof(float)));
  CK(cudaMalloc((void **)&B.work, MAXWORK * sizeof(float)));
  float **small[] = {&B.V, &B.vstat, &B.gV, &B.sgo, &B.sge, &B.sdgo, &B.sdge};
  for (size_t k = 0; k < sizeof small / sizeof small[0]; k++)
    CK(cudaMalloc((void **)small[k], 2 * MAXP * sizeof(float)));
  CK(cudaMalloc((void **)&B.dims, MAXP * sizeof(lac_cuda_sw_dims)));
  float *pat = malloc(PATTERN * sizeof(float));
  for (int which = 0; which < 4; which++) {
    const float lo[4] = {-1.0f, 0.4f, 0.02f, -1.0f}, hi[4] = {1.1f, 1.6f, 0.4f, 1.0f};
    float *dst[4] = {B.S, B.go, B.ge, B.gM};
    for (size_t t = 0; t < PATTERN; t++) pat[t] = frand(lo[which], hi[which]);
    fill_device(dst[which], cells, pat);
  }
  {
    float h[2 * MAXP];
    for (int p = 0; p < 2 * MAXP; p++) h[p] = frand(0.4f, 1.6f);
    CK(cudaMemcpy(B.sgo, h, sizeof h, cudaMemcpyHostToDevice));
    for (int p = 0; p < 2 * MAXP; p++) h[p] = frand(0.02f, 0.4f);
    CK(cudaMemcpy(B.sge, h, sizeof h, cudaMemcpyHostToDevice));
    for (int p = 0; p < 2 * MAXP; p++) h[p] = frand(-1.0f, 1.0f);
    CK(cudaMemcpy(B.gV, h, sizeof h, cudaMemcpyHostToDevice));
  }
  /* host arrays for the end-to-end runs (the largest batch is E2E_MAXCELLS) */
  const size_t hcells = cells < E2E_MAXCELLS ? cells : E2E_MAXCELLS;
  float *hbuf[8];
  for (int k = 0; k < 8; k++) {
    hbuf[k] = malloc(hcells * sizeof(float));
    if (!hbuf[k]) {
      fprintf(stderr, "bench_sw_cuda: out of host memory\n");
      return 1;
    }
  }
  for (size_t t = 0; t < hcells; t++) {
    const float v = pat[t % PATTERN];
    hbuf[0][t] = v;                   /* S */
    hbuf[1][t] = 1.0f + 0.5f * v;     /* go */
    hbuf[2][t] = 0.2f + 0.1f * v;     /* ge */
    hbuf[3][t] = v;                   /* gM */
  }

  printf("bench_sw_cuda: %s (sm_%d%d, %d SMs), tau 0.8, gM given; kernel = fwd + bwd launches "
         "(cudaEvents, median), e2e = lac_cuda_sw with host copies (per-cell gaps)\n",
         prop.name, prop.major, prop.minor, prop.multiProcessorCount);
  const double copy_gbps = copy_bandwidth(B.M, B.dS, COPY_CELLS * sizeof(float), quick ? 3 : 7);
  printf("bench_sw_cuda: device copy bandwidth %.0f GB/s (cudaMemcpy device to device of %zu MiB, "
         "read + write, median); GB/s below = the kernels' compulsory bytes (%d per cell with "
         "per-cell gaps, %d scalar; %d fewer with the X edges, %g fewer still with the Y "
         "checkpoints) over the kernel time, and its share of that copy bandwidth\n",
         copy_gbps, COPY_CELLS * sizeof(float) >> 20, BYTES_CELL_PC, BYTES_CELL_SC,
         BYTES_CELL_XE_SAVED, BYTES_CELL_YC_SAVED);
  printf("BENCH copy gbps=%.1f\n", copy_gbps);
  printf("%5s %5s %-9s %-8s %-6s %5s %5s %10s %10s %14s %12s %8s %7s %6s %8s\n", "pairs", "T",
         "gaps", "run", "order", "Wmax", "warps", "fwd ms", "bwd ms", "kernel Gc/s", "e2e Gc/s",
         "vs 1 warp", "GB/s", "/copy", "vs cells");
  for (size_t a = 0; a < N_CFG; a++) {
    if (n_only && !only[a]) continue;
    {
      const int np = cfg[a].np, T = cfg[a].T;
      if ((size_t)np * T * T > cells) {
        printf("bench_sw_cuda: %d pairs x %d^2 skipped: %.1f GB of buffers, over 60 %% of the "
               "card's %.1f GB\n", np, T, (double)np * T * T * 10 * sizeof(float) * 1e-9,
               (double)prop.totalGlobalMem * 1e-9);
        continue;
      }
      if ((size_t)np * 10 * T > MAXWORK || np > MAXP) {
        fprintf(stderr, "bench_sw_cuda: %d pairs x %d^2 exceed the buffers\n", np, T);
        return 1;
      }
      const double gcells = (double)np * T * T * 1e-9;
      for (int per_cell = 1; per_cell >= 0; per_cell--) {
        /* variants (row-major): 0 one warp per pair; 1, 2 strip widths 8/4, 4/4 (--tune); 3,
         * 4, 5 several warps per pair: 2, 4 and (up to 64 pairs) 8; then the default warps
         * (those the default settings pick for this shape): 6 row-major (one of the
         * variants, not timed again) with the end-to-end time, 7 every per-cell buffer in the
         * warp's order; 9 the warp's order with the X edges (T > 128: narrower pairs keep all
         * of X); 10 and the Y checkpoints (T > 128; one warp per pair); last, 8 "best": the
         * order lac_cuda_sw_best_order picks (6, 7 or 9, not timed again) */
        double kf[SW_MW_KMAX + 1], kb[SW_MW_KMAX + 1], kt[SW_MW_KMAX + 1];
        double of[3] = {NAN, NAN, NAN}, ob[3] = {NAN, NAN, NAN}, ot[3] = {NAN, NAN, NAN};
        for (int k = 0; k <= SW_MW_KMAX; k++) kf[k] = kb[k] = kt[k] = NAN;
        static const int vorder[] = {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 8};
        for (int vi = 0; vi < 11; vi++) {
          const int v = vorder[vi];
          if ((v == 1 || v == 2) && !tune) continue;
          if (v >= 9 && T <= 128) continue;
          if (v == 5 && np > 64) continue;
          const int fw = v == 2 ? 4 : 8, bw = v == 1 || v == 2 ? 4 : 8;
          lac_cuda_sw_opts ko = lac_cuda_sw_default_opts();
          ko.fwd_wmax = fw;
          ko.bwd_wmax = bw;
          ko.warps = v < 3 || v == 10 ? 1 : v == 3 ? 2 : v == 4 ? 4 : v == 5 ? 8 : 0;
          const int order = v == 7    ? LAC_CUDA_SW_CELLS
                            : v == 8  ? lac_cuda_sw_best_order(np, T)
                            : v == 9  ? LAC_CUDA_SW_CELLS_XEDGE
                            : v == 10 ? LAC_CUDA_SW_CELLS_XYEDGE
                                      : LAC_CUDA_SW_ROWS;
          static const char *const oname[] = {"rows", "cells", "xedge", "xyedge"};
          const int warps = lac_cuda_sw_launch_warps(&ko, np, T, per_cell);
          double f = NAN, b = NAN, tot = NAN, e2e = NAN;
          if (v == 8 && order <= LAC_CUDA_SW_CELLS_XEDGE) /* rows, cells, X edges: timed */
            f = of[order], b = ob[order], tot = ot[order];
          if (v == 6) { /* the default warps, row-major */
            f = kf[warps], b = kb[warps], tot = kt[warps];
            if (per_cell && (size_t)np * T * T <= E2E_MAXCELLS) {
              const int er = quick || gcells > 0.05 ? 3 : 7;
              e2e = time_e2e(gpu, np, T, er, hbuf[0], hbuf[1], hbuf[2], hbuf[3], hbuf[4],
                             hbuf[5], hbuf[6], hbuf[7]);
            }
          }
          if (isnan(tot)) {
            /* reps: enough for ~0.3 s of kernels, 3..25 */
            time_kernels(&B, np, T, per_cell, order, &ko, 3, &f, &b, &tot);
            int reps = (int)(300.0 / (tot + 1e-3));
            reps = reps < 3 ? 3 : reps > 25 ? 25 : reps;
            if (quick) reps = 3;
            time_kernels(&B, np, T, per_cell, order, &ko, reps, &f, &b, &tot);
          }
          if (fw == 8 && bw == 8 && v < 6) kf[warps] = f, kb[warps] = b, kt[warps] = tot;
          if (v == 6 || v == 7 || v == 9) /* the default warps in rows, cells, X edges */
            of[order] = f, ob[order] = b, ot[order] = tot;
          /* the bytes the two kernels must move per cell, over the kernel time */
          const double bytes =
              (per_cell ? BYTES_CELL_PC : BYTES_CELL_SC) -
              (order == LAC_CUDA_SW_CELLS_XEDGE || order == LAC_CUDA_SW_CELLS_XYEDGE
                   ? BYTES_CELL_XE_SAVED
                   : 0) -
              (order == LAC_CUDA_SW_CELLS_XYEDGE ? BYTES_CELL_YC_SAVED : 0);
          const double gbps = gcells * bytes / (tot * 1e-3);
          static const char *const run[] = {"variant", "variant", "variant", "variant", "variant",
                                            "variant", "rows",    "cells",   "best",    "xedge",
                                            "xyedge"};
          const double vs1 = kt[1] / tot, vsc = v >= 9 ? ot[1] / tot : NAN;
          char wm[8];
          snprintf(wm, sizeof wm, "%d/%d", fw, bw);
          printf("%5d %5d %-9s %-8s %-6s %5s %5d %10.3f %10.3f %14.2f %12.3f %8.2f %7.0f %6.2f "
                 "%8.2f\n",
                 np, T, per_cell ? "per-cell" : "scalar", run[v], oname[order], wm, warps, f, b,
                 gcells / (tot * 1e-3), gcells / (e2e * 1e-3), vs1, gbps, gbps / copy_gbps, vsc);
          printf("BENCH pairs=%d T=%d gaps=%s run=%s default=%d order=%s wmax=%s warps=%d "
                 "fwd_ms=%.4f bwd_ms=%.4f kernel_gcps=%.3f e2e_gcps=%.4f vs_one_warp=%.3f "
                 "gbps=%.1f of_copy=%.3f vs_cells=%.3f\n",
                 np, T, per_cell ? "cell" : "scalar", run[v], v == 8, oname[order], wm, warps, f, b,
                 gcells / (tot * 1e-3), gcells / (e2e * 1e-3), vs1, gbps, gbps / copy_gbps, vsc);
          fflush(stdout);
        }
      }
    }
  }
  for (size_t k = 0; k < sizeof slots / sizeof slots[0]; k++) cudaFree(*slots[k]);
  for (size_t k = 0; k < sizeof small / sizeof small[0]; k++) cudaFree(*small[k]);
  cudaFree(B.work);
  cudaFree(B.dims);
  for (int k = 0; k < 8; k++) free(hbuf[k]);
  free(pat);
  lac_backend_free(gpu);
  return 0;
}
