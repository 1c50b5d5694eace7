/* sw_cpu.c — smoothed Smith-Waterman with affine gaps on the CPU in float32: the aligner
 * (lac_aligner_*), lac_sw_forward, lac_sw_backward and lac_sw_path of include/lac/align.h.
 * Semantics, gradient formulas and numerics: docs SW_AFFINE.md.
 *
 * Paths (chosen per aligner from the CPU at run time; all compute each cell with the same
 * float instruction sequence, so a cell's M/X/Y are bit-identical whichever path or batch
 * layout produced them; only the double reductions (V, scalar-penalty gradients) may differ
 * in summation order, and the tests find them bit-identical too):
 *  - scalar: plain row-major loops, one pair at a time.  The oracle of the vector path, the
 *    path for tiny batches (< SW_TINY_CELLS cells) and the portable fallback.  Compiled
 *    twice: with FMA (target attribute) and generic (fmaf from libm: same results, slower).
 *  - vector (AVX-512F: 16 lanes; AVX2 + FMA: 8 lanes; one template at the end of this file,
 *    instantiated twice): a "group" of P pairs x S column strips fills the L = P*S lanes.
 *    Lane (q, s) owns columns [s*w, s*w + w) of pair q and runs s rows behind lane s-1, so
 *    at time step t it computes row i = t - s: its left and diagonal neighbours at the
 *    strip's first column were made by lane s-1 one and two steps earlier and arrive by a
 *    lane shift.  Pairs of different lengths share a group: cells outside a pair (and the
 *    lag rows i < 0) get S = -1e30 and zero gaps, whose smooth-max weights are exactly 0,
 *    so they neither change the pair's values nor receive gradient.  The planner picks S
 *    (and so P) per batch to balance the groups over the threads (SWIPE-style lanes = pairs
 *    when there are many pairs, strips when there are few), counting a group whose tables
 *    outgrow the caches as slower per lane step (TABLE_CACHE_BYTES).  The caller's
 *    row-major arrays are packed into and out of the lane layout one time row at a time
 *    inside the kernels (16 x 16 / 8 x 8 register transposes, masked loads and stores,
 *    software prefetch; strips of at most VL / 2 columns put two lanes' rows in a vector
 *    and transpose the two halves, 8 x 8 / 4 x 4, at half the shuffles).
 *  - hard mode (tau = 0): scalar max/argmax per pair with a backpointer byte per cell.
 * Threads run over groups (vector) or pairs (scalar, hard): OpenMP, the aligner's n_threads.
 * The aligner's workspace grows to the largest batch seen; a warm aligner allocates nothing.
 *
 * Numerics: smax_t(v) = mx + t * log(sum exp((v_k - mx) / t)), mx = max v_k, the terms
 * sorted by a min/max network so that the largest one's exp (exactly 1) is not computed.
 * exp: range reduction by ln 2 (two-constant Cody-Waite) and a degree-5 minimax polynomial
 * with p(0) = 1 exactly; log: exponent / mantissa split and a degree-9 minimax log1p.  Fitted
 * for this file; measured against double libm (tests/test_sw_cpu.c prints it): exp max
 * relative error 1.6e-7 (1.4 ulp) on [-87, 0], log 9.8e-8 on [1, 4] (its domain here).
 * The backward recomputes every weight from the stored M/X/Y and the kept gaps with the
 * forward's instruction sequence (never the ratio exp((R' - R - S') / t)).  V and the
 * scalar-penalty gradients are summed in double.  Inputs must be finite with |x| <= 1e20
 * (so that -1e30 - x rounds to -1e30); 0 < tau <= 1e20 or tau = 0.
 *
 * CUDA: an aligner made with a CUDA backend (lac_aligner_params.backend) hands its soft
 * forwards (tau > 0, lengths <= 1024) and their backwards to lib/cuda/cuda_align.c
 * (lac_cuda_sw_state: tables kept on the device between the two); its hard forwards run
 * here.  The test hook lac_aligner_use_cuda_emulation does the same with the kernels' CPU
 * emulation.
 *
 * Not here: the double reference (sw_ref.c), the LAC loss (loss.c), the CUDA kernels and
 * their host side, dL/dtau, and a vectorised hard mode (hard mode is the scalar loop,
 * threaded over pairs).
 */
#ifndef SW_TEMPLATE /* ------------------------------------------- the file proper */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lac/align.h"
#include "lac_internal.h"
#if LAC_HAVE_CUDA
#include "../../kernels/kernels.h" /* LAC_CUDA_SW_MAX_LEN; kernels/ is not on the include path */
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>
#define SW_X86 1
#else
#define SW_X86 0
#endif

/* Every path computes a*b + c as two roundings unless it says fmaf: clang would contract. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define SW_AI inline __attribute__((always_inline))

#include "align/sw_cpu.h" /* the test and benchmark hooks */

#define NEG LAC_SW_NEG_INF
/* |S|, |go|, |ge| above this would reach the sentinel's scale (a path sums up to n + m of
 * them and -1e30 - x must round to -1e30): refused. */
#define SW_VAL_MAX 1e20f
#define SW_TAU_MAX 1e20f
#define SW_TAU_MIN 1e-37f /* 1 / tau must be finite */
/* batches with fewer cells than this run the scalar path (same results).  Measured on the
 * AVX-512 machine of docs/BENCHMARKS.md, forward + backward, M cells/s scalar / vector: 1
 * pair of 12 x 12 13.1 / 11.6, 1 of 16 x 16 10.5 / 11.2, 2 of 12 x 12 20.3 / 22.3, 8 of 8 x 8
 * 21.2 / 37.2, 8 of 12 x 12 21.2 / 58.1. */
#define SW_TINY_CELLS 256
#define SW_MAX_LANES 16

enum { PATH_SCALAR = 0, PATH_AVX2 = 1, PATH_AVX512 = 2 };

/* ---------------------------------------------------------------- scalar math
 *
 * The vector helpers below repeat these operation by operation (Intel max/min semantics:
 * max(a, b) = a > b ? a : b). */

typedef union {
  float f;
  uint32_t u;
} sw_bits;

#define EXP_LO (-88.0f)
#define EXP_ZERO (-87.0f) /* below: exp = 0 (no denormals) */
#define LOG2E 1.44269504088896341f
#define MAGIC 12582912.0f /* 1.5 * 2^23: x + MAGIC rounds x to an integer */
#define LN2_HI 0.693359375f
#define LN2_LO (-2.12194440e-4f)
/* exp(r) ~ 1 + r (EC1 + r (EC2 + ... r EC5)) on [-ln2/2, ln2/2]: minimax for the relative
 * error with the constant fixed at 1 (so exp(0) = 1 exactly), fitted for this file */
#define EC1 9.999997020e-01f
#define EC2 4.999915063e-01f
#define EC3 1.666763574e-01f
#define EC4 4.189791158e-02f
#define EC5 8.290297352e-03f
#define SQRT2F 1.41421356237f
/* log(1 + f) ~ f - f^2/2 + f^3 (LC0 + f (LC1 + ... f LC6)) on [sqrt(1/2) - 1, sqrt(2) - 1]:
 * minimax for the relative error, fitted for this file */
#define LC0 3.333390951e-01f
#define LC1 (-2.500133812e-01f)
#define LC2 1.996306479e-01f
#define LC3 (-1.657758653e-01f)
#define LC4 1.491476446e-01f
#define LC5 (-1.426747739e-01f)
#define LC6 8.700432628e-02f

static SW_AI float s_max(float a, float b) { return a > b ? a : b; }
static SW_AI float s_min(float a, float b) { return a < b ? a : b; }

/* e^x for x <= 0 (every argument here is v - max, scaled); 0 below -87 */
static SW_AI float s_exp(float x) {
  x = s_max(x, EXP_LO);
  sw_bits t = {fmaf(x, LOG2E, MAGIC)};
  const float n = t.f - MAGIC;
  float r = fmaf(n, -LN2_HI, x);
  r = fmaf(n, -LN2_LO, r);
  float q = EC5;
  q = fmaf(q, r, EC4);
  q = fmaf(q, r, EC3);
  q = fmaf(q, r, EC2);
  q = fmaf(q, r, EC1);
  sw_bits y = {fmaf(q, r, 1.0f)};
  y.u = y.u + (t.u << 23);
  return x < EXP_ZERO ? 0.0f : y.f;
}

/* log x for a positive normal x */
static SW_AI float s_log(float x) {
  sw_bits b = {x};
  int32_t e = (int32_t)(b.u >> 23) - 127;
  sw_bits mb;
  mb.u = (b.u & 0x007fffffu) | 0x3f800000u;
  float m = mb.f; /* [1, 2) */
  const int big = m > SQRT2F;
  m = big ? m * 0.5f : m;
  e = big ? e + 1 : e;
  const float f = m - 1.0f, z = f * f;
  float y = LC6;
  y = fmaf(y, f, LC5);
  y = fmaf(y, f, LC4);
  y = fmaf(y, f, LC3);
  y = fmaf(y, f, LC2);
  y = fmaf(y, f, LC1);
  y = fmaf(y, f, LC0);
  y = y * f;
  y = y * z;
  const float ef = (float)e;
  y = fmaf(ef, LN2_LO, y);
  y = fmaf(-0.5f, z, y);
  const float r = f + y;
  return fmaf(ef, LN2_HI, r);
}

/* The smooth maxima sort their terms with a min/max network so that the largest term's
 * weight (exactly 1) needs no exp; the backward recomputes the same network and maps the
 * sorted terms back to their sources (equal values have equal weights, so ties do not
 * matter).
 *
 * smax(0, a, b, c): h1 = max(0, a), l1 = min(0, a), h2 = max(b, c), l2 = min(b, c),
 * mx = max(h1, h2), m2 = min(h1, h2); s = ((1 + e(l1)) + e(l2)) + e(m2). */
typedef struct {
  float mx, s, el1, el2, em2, h1, h2;
} s_net4;

static SW_AI s_net4 s_smax4z_net(float a, float b, float c, float it) {
  s_net4 r;
  const float l1 = s_min(0.0f, a), l2 = s_min(b, c);
  r.h1 = s_max(0.0f, a), r.h2 = s_max(b, c);
  r.mx = s_max(r.h1, r.h2);
  const float m2 = s_min(r.h1, r.h2);
  r.el1 = s_exp((l1 - r.mx) * it), r.el2 = s_exp((l2 - r.mx) * it);
  r.em2 = s_exp((m2 - r.mx) * it);
  r.s = ((1.0f + r.el1) + r.el2) + r.em2;
  return r;
}

static SW_AI float s_smax4z(float a, float b, float c, float tau, float it) {
  const s_net4 r = s_smax4z_net(a, b, c, it);
  return fmaf(tau, s_log(r.s), r.mx);
}

/* smax(a, b): s = 1 + e(min - max) */
static SW_AI float s_smax2(float a, float b, float tau, float it) {
  const float mx = s_max(a, b), mn = s_min(a, b);
  const float s = 1.0f + s_exp((mn - mx) * it);
  return fmaf(tau, s_log(s), mx);
}

/* smax(a, b, c): h = max(a, b), l = min(a, b), mx = max(h, c), mid = min(h, c);
 * s = (1 + e(l)) + e(mid) */
typedef struct {
  float mx, s, el, emid, h;
} s_net3;

static SW_AI s_net3 s_smax3_net(float a, float b, float c, float it) {
  s_net3 r;
  const float l = s_min(a, b);
  r.h = s_max(a, b);
  r.mx = s_max(r.h, c);
  const float mid = s_min(r.h, c);
  r.el = s_exp((l - r.mx) * it), r.emid = s_exp((mid - r.mx) * it);
  r.s = (1.0f + r.el) + r.emid;
  return r;
}

static SW_AI float s_smax3(float a, float b, float c, float tau, float it) {
  const s_net3 r = s_smax3_net(a, b, c, it);
  return fmaf(tau, s_log(r.s), r.mx);
}

/* ---------------------------------------------------------------- state */

typedef struct {
  int n, m;
  float go_s, ge_s;     /* scalar penalties (per_cell = 0) */
  float mx;             /* max of M over the pair */
  double sum;           /* soft: sum exp((M - mx) / tau) over the pair */
  float V;
  int best_i, best_j;   /* hard: first best end cell (row-major) */
  size_t off;           /* scalar and hard paths: offset (floats) of the pair's tables */
  size_t bp_off;        /* hard: offset (bytes) of its backpointers */
} sw_pair_state;

typedef struct {
  int np;               /* pairs in the group */
  int pair[SW_MAX_LANES];
  int nmax, mmax, w, tsteps;
  size_t off;           /* floats: M, X, Y [(tsteps + 2) * w * L] each, then go, ge */
  double cost;
} sw_group;

typedef struct {
  int w, tsteps, strips, per_cell;
  float tau, inv_tau;
  float *M, *X, *Y;       /* [(tsteps + 2)][w][L]: time row t at t + 2 (rows -2, -1: -1e30) */
  float *go, *ge;         /* [tsteps][w][L] packed by the forward (per_cell) or [L] */
  float *lane_mx;         /* [L] forward: out, the max of M of the lane's pair; backward: in */
  double *lane_sum;       /* [L] forward out: sum exp((M - mx) / tau) over the lane's cells */
  const float *cv;        /* [L] gV / sum of the lane's pair */
  double *lane_dgo, *lane_dge; /* [L] scalar penalties: sums over the lane's cells */
  float *slots;           /* [3][w * 6 + 2][L] adjoint contributions in flight */
  /* The caller's arrays, packed and unpacked one time row at a time inside the kernels.
   * Lane k = q*S + s reads and writes row t - lag[k] of its pair (n[k] rows of m[k] floats;
   * n[k] = 0 for an empty slot), cnt[k] columns from its strip's first; the pointers are the
   * pair's arrays plus s*w (NULL: fill / skip). */
  int lag[SW_MAX_LANES], n[SW_MAX_LANES], m[SW_MAX_LANES], cnt[SW_MAX_LANES];
  const float *inS[SW_MAX_LANES], *ingo[SW_MAX_LANES], *inge[SW_MAX_LANES],
      *ingM[SW_MAX_LANES];
  float *outM[SW_MAX_LANES], *outdS[SW_MAX_LANES], *outdgo[SW_MAX_LANES],
      *outdge[SW_MAX_LANES];
  int any_M, any_gM, any_dS, any_dgo, any_dge;
  float *rowbuf;          /* [4][w][L] rows being packed or unpacked */
  int bad;                /* out: a packed input was not finite or beyond +-1e20 */
} sw_kargs;

struct lac_aligner {
  int n_threads;
  int isa_best;      /* what the CPU runs */
  int have_fma;
  int isa;           /* forced path, or -1 = auto */
  int force_strips;
  /* metadata workspace: pair states, sort keys, groups */
  unsigned char *meta;
  size_t meta_cap;
  /* tables and scratch */
  unsigned char *ws;
  size_t ws_cap;
  /* the last forward */
  int have_fwd, hard, per_cell, path, lanes, strips;
  float tau;
  int n_pairs, n_groups;
  sw_pair_state *ps;
  sw_group *groups;
  float *tables;     /* arena of the pair/group tables */
  float *scratch;    /* n_threads x scratch_floats */
  size_t scratch_floats;
  char path_name[32];
  /* the CUDA path (lib/cuda/cuda_align.c): soft forwards of a CUDA aligner run there */
  lac_cuda_sw_state *cuda; /* NULL: CPU only */
  int cuda_emulated;       /* the state is the emulation (test hook) */
  int cuda_fwd;            /* the last forward ran on the CUDA path */
  /* the CPU loss's workspace (lac_aligner_loss_workspace), grow-only */
  unsigned char *loss_ws;
  size_t loss_cap;
};

static int thread_id(void) {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

/* ---------------------------------------------------------------- vector kernels */

/* The kernel template at the end of this file, instantiated for AVX-512 and AVX2 (the file
 * includes itself with SW_TEMPLATE set: one source for both instruction sets). */
#if SW_X86
#define SW_TEMPLATE 512
#include "sw_cpu.c"
#undef SW_TEMPLATE
#define SW_TEMPLATE 256
#include "sw_cpu.c"
#undef SW_TEMPLATE
#endif

/* ---------------------------------------------------------------- scalar soft path
 *
 * One pair, row-major tables M, X, Y [n][m]; go, ge [n][m] (pc = 1) or one value each.
 * Forward: the tables, mx = max M, sum = sum exp((M - mx) / tau) in double. */
static SW_AI void sc_fwd_body(int n, int m, const float *S, const float *go, const float *ge,
                              int pc, float tau, float it, float *Mt, float *Xt, float *Yt,
                              float *mx_out, double *sum_out) {
  float mx = NEG;
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < m; j++) {
      const size_t k = (size_t)i * m + j;
      const int up = i > 0, left = j > 0, diag = up && left;
      const float Md = diag ? Mt[k - m - 1] : NEG, Xd = diag ? Xt[k - m - 1] : NEG,
                  Yd = diag ? Yt[k - m - 1] : NEG;
      const float Ml = left ? Mt[k - 1] : NEG, Xl = left ? Xt[k - 1] : NEG;
      const float Mu = up ? Mt[k - m] : NEG, Xu = up ? Xt[k - m] : NEG, Yu = up ? Yt[k - m] : NEG;
      const float o = pc ? go[k] : go[0], e = pc ? ge[k] : ge[0];
      const float Mv = S[k] + s_smax4z(Md, Xd, Yd, tau, it);
      Mt[k] = Mv;
      Xt[k] = s_smax2(Ml - o, Xl - e, tau, it);
      Yt[k] = s_smax3(Mu - o, Xu - o, Yu - e, tau, it);
      mx = s_max(mx, Mv);
    }
  }
  double sum = 0;
  for (size_t k = 0; k < (size_t)n * m; k++) sum += (double)s_exp((Mt[k] - mx) * it);
  *mx_out = mx;
  *sum_out = sum;
}

/* Backward of one pair.  cv = gV / sum; gM [n][m] or NULL; outputs dS [n][m] (NULL: skip),
 * dgo, dge [n][m] (pc) or their sums in *sgo, *sge (double).  slots: 2 rows of [m][8]
 * floats: the adjoint contributions each cell receives from its successors (0..2: from the
 * diagonal one's M smax into M, X, Y; 3..5: from the one below's Y smax), summed in a fixed
 * order so that the vector path, which receives them in another order, matches. */
static SW_AI void sc_bwd_body(int n, int m, const float *Mt, const float *Xt, const float *Yt,
                              const float *go, const float *ge, int pc, float tau, float it,
                              float mx, float cv, const float *gM, float *dS, float *dgo,
                              float *dge, double *sgo, double *sge, float *slots) {
  (void)tau;
  float *cur = slots, *prv = slots + (size_t)m * 8;
  memset(cur, 0, sizeof(float) * m * 8);
  double ago = 0, age = 0;
  for (int i = n - 1; i >= 0; i--) {
    memset(prv, 0, sizeof(float) * m * 8);
    float lM = 0, lX = 0;
    for (int j = m - 1; j >= 0; j--) {
      const size_t k = (size_t)i * m + j;
      const float *sl = cur + (size_t)j * 8;
      const float eV = s_exp((Mt[k] - mx) * it);
      const float gm = gM ? gM[k] : 0.0f;
      const float EM = (((gm + eV * cv) + sl[0]) + lM) + sl[3];
      const float EX = (sl[1] + lX) + sl[4];
      const float EY = sl[2] + sl[5];
      const int up = i > 0, left = j > 0, diag = up && left;
      const float Md = diag ? Mt[k - m - 1] : NEG, Xd = diag ? Xt[k - m - 1] : NEG,
                  Yd = diag ? Yt[k - m - 1] : NEG;
      const float Ml = left ? Mt[k - 1] : NEG, Xl = left ? Xt[k - 1] : NEG;
      const float Mu = up ? Mt[k - m] : NEG, Xu = up ? Xt[k - m] : NEG, Yu = up ? Yt[k - m] : NEG;
      const float o = pc ? go[k] : go[0], e = pc ? ge[k] : ge[0];
      /* M: smax(0, Md, Xd, Yd); the sources' exps from the network's */
      const s_net4 n4 = s_smax4z_net(Md, Xd, Yd, it);
      const float eh1 = n4.h1 < n4.h2 ? n4.em2 : 1.0f, eh2 = n4.h1 < n4.h2 ? 1.0f : n4.em2;
      const float q = EM * (1.0f / n4.s);
      const float cMM = q * (0.0f < Md ? eh1 : n4.el1);
      const float cMX = q * (Xd < Yd ? n4.el2 : eh2), cMY = q * (Xd < Yd ? eh2 : n4.el2);
      /* X: smax(Ml - go, Xl - ge) */
      const float xa = Ml - o, xb = Xl - e;
      const float xe = s_exp((s_min(xa, xb) - s_max(xa, xb)) * it);
      const float qx = EX * (1.0f / (1.0f + xe)), qxe = qx * xe;
      const float cXM = xa >= xb ? qx : qxe, cXX = xa >= xb ? qxe : qx;
      /* Y: smax(Mu - go, Xu - go, Yu - ge) */
      const float ya = Mu - o, yb = Xu - o, yc = Yu - e;
      const s_net3 n3 = s_smax3_net(ya, yb, yc, it);
      const float eh = n3.h < yc ? n3.emid : 1.0f, ec = n3.h < yc ? 1.0f : n3.emid;
      const float qy = EY * (1.0f / n3.s);
      const float cYM = qy * (ya < yb ? n3.el : eh), cYX = qy * (ya < yb ? eh : n3.el);
      const float cYY = qy * ec;
      const float dgo_k = 0.0f - (cXM + (cYM + cYX)), dge_k = 0.0f - (cXX + cYY);
      if (dS) dS[k] = EM;
      if (pc) {
        if (dgo) dgo[k] = dgo_k;
        if (dge) dge[k] = dge_k;
      } else {
        ago += (double)dgo_k;
        age += (double)dge_k;
      }
      if (diag) {
        float *d = prv + (size_t)(j - 1) * 8;
        d[0] = cMM, d[1] = cMX, d[2] = cMY;
      }
      if (up) {
        float *u = prv + (size_t)j * 8;
        u[3] = cYM, u[4] = cYX, u[5] = cYY;
      }
      lM = cXM, lX = cXX;
    }
    float *t = cur;
    cur = prv, prv = t;
  }
  *sgo = ago;
  *sge = age;
}

#if SW_X86
__attribute__((target("fma"))) static void sc_fwd_fma(int n, int m, const float *S,
                                                      const float *go, const float *ge, int pc,
                                                      float tau, float it, float *Mt, float *Xt,
                                                      float *Yt, float *mx, double *sum) {
  sc_fwd_body(n, m, S, go, ge, pc, tau, it, Mt, Xt, Yt, mx, sum);
}
__attribute__((target("fma"))) static void sc_bwd_fma(int n, int m, const float *Mt,
                                                      const float *Xt, const float *Yt,
                                                      const float *go, const float *ge, int pc,
                                                      float tau, float it, float mx, float cv,
                                                      const float *gM, float *dS, float *dgo,
                                                      float *dge, double *sgo, double *sge,
                                                      float *slots) {
  sc_bwd_body(n, m, Mt, Xt, Yt, go, ge, pc, tau, it, mx, cv, gM, dS, dgo, dge, sgo, sge, slots);
}
#endif
static void sc_fwd_gen(int n, int m, const float *S, const float *go, const float *ge, int pc,
                       float tau, float it, float *Mt, float *Xt, float *Yt, float *mx,
                       double *sum) {
  sc_fwd_body(n, m, S, go, ge, pc, tau, it, Mt, Xt, Yt, mx, sum);
}
static void sc_bwd_gen(int n, int m, const float *Mt, const float *Xt, const float *Yt,
                       const float *go, const float *ge, int pc, float tau, float it, float mx,
                       float cv, const float *gM, float *dS, float *dgo, float *dge,
                       double *sgo, double *sge, float *slots) {
  sc_bwd_body(n, m, Mt, Xt, Yt, go, ge, pc, tau, it, mx, cv, gM, dS, dgo, dge, sgo, sge, slots);
}

/* ---------------------------------------------------------------- hard mode (tau = 0)
 *
 * Backpointer byte per cell: bits 0-1 the source of M (0 start, 1 M, 2 X, 3 Y of (i-1,j-1)),
 * bit 2 that of X (0 M, 1 X of (i,j-1)), bits 3-4 that of Y (0 M, 1 X, 2 Y of (i-1,j)).
 * Ties go to the earlier source (start > M > X > Y); the best end is the first maximum in
 * row-major order.  Tables M, X, Y [n][m] as in the soft path. */
static void hard_fwd(int n, int m, const float *S, const float *go, const float *ge, int pc,
                     float *Mt, float *Xt, float *Yt, uint8_t *bp, sw_pair_state *st) {
  float best = NEG;
  int bi = 0, bj = 0;
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < m; j++) {
      const size_t k = (size_t)i * m + j;
      const int up = i > 0, left = j > 0, diag = up && left;
      const float Md = diag ? Mt[k - m - 1] : NEG, Xd = diag ? Xt[k - m - 1] : NEG,
                  Yd = diag ? Yt[k - m - 1] : NEG;
      const float Ml = left ? Mt[k - 1] : NEG, Xl = left ? Xt[k - 1] : NEG;
      const float Mu = up ? Mt[k - m] : NEG, Xu = up ? Xt[k - m] : NEG, Yu = up ? Yt[k - m] : NEG;
      const float o = pc ? go[k] : go[0], e = pc ? ge[k] : ge[0];
      float vm = 0.0f;
      int sm = 0;
      if (Md > vm) vm = Md, sm = 1;
      if (Xd > vm) vm = Xd, sm = 2;
      if (Yd > vm) vm = Yd, sm = 3;
      const float xa = Ml - o, xb = Xl - e;
      const int sx = xb > xa;
      const float ya = Mu - o, yb = Xu - o, yc = Yu - e;
      float vy = ya;
      int sy = 0;
      if (yb > vy) vy = yb, sy = 1;
      if (yc > vy) vy = yc, sy = 2;
      Mt[k] = S[k] + vm;
      Xt[k] = sx ? xb : xa;
      Yt[k] = vy;
      bp[k] = (uint8_t)(sm | sx << 2 | sy << 3);
      if (Mt[k] > best) best = Mt[k], bi = i, bj = j;
    }
  }
  st->mx = best;
  st->V = best;
  st->best_i = bi;
  st->best_j = bj;
}

/* The gradient of the best path's score (and of M through its argmax chains).  E rows:
 * e[0..2] = E_M, E_X, E_Y of row i, e[3..5] of row i + 1, each [m]. */
static void hard_bwd(int n, int m, const uint8_t *bp, const sw_pair_state *st, float gV,
                     const float *gM, float *dS, float *dgo, float *dge, int pc, double *sgo,
                     double *sge, float *rows) {
  float *EMc = rows, *EXc = rows + m, *EYc = rows + 2 * (size_t)m;
  float *EMn = rows + 3 * (size_t)m, *EXn = rows + 4 * (size_t)m, *EYn = rows + 5 * (size_t)m;
  memset(EMn, 0, sizeof(float) * 3 * m);
  double ago = 0, age = 0;
  for (int i = n - 1; i >= 0; i--) {
    for (int j = m - 1; j >= 0; j--) {
      const size_t k = (size_t)i * m + j;
      float em = (gM ? gM[k] : 0.0f) + (i == st->best_i && j == st->best_j ? gV : 0.0f);
      float ex = 0, ey = 0;
      if (i + 1 < n && j + 1 < m) {
        const int s = bp[k + m + 1] & 3;
        if (s == 1) em += EMn[j + 1];
        if (s == 2) ex += EMn[j + 1];
        if (s == 3) ey += EMn[j + 1];
      }
      if (j + 1 < m) {
        const int s = bp[k + 1] >> 2 & 1;
        if (s == 0) em += EXc[j + 1];
        else ex += EXc[j + 1];
      }
      if (i + 1 < n) {
        const int s = bp[k + m] >> 3 & 3;
        if (s == 0) em += EYn[j];
        if (s == 1) ex += EYn[j];
        if (s == 2) ey += EYn[j];
      }
      EMc[j] = em, EXc[j] = ex, EYc[j] = ey;
      const int sx = bp[k] >> 2 & 1, sy = bp[k] >> 3 & 3;
      const float dgo_k = 0.0f - ((sx == 0 ? ex : 0.0f) + (sy <= 1 ? ey : 0.0f));
      const float dge_k = 0.0f - ((sx == 1 ? ex : 0.0f) + (sy == 2 ? ey : 0.0f));
      if (dS) dS[k] = em;
      if (pc) {
        if (dgo) dgo[k] = dgo_k;
        if (dge) dge[k] = dge_k;
      } else {
        ago += dgo_k;
        age += dge_k;
      }
    }
    float *t;
    t = EMc, EMc = EMn, EMn = t;
    t = EXc, EXc = EXn, EXn = t;
    t = EYc, EYc = EYn, EYn = t;
  }
  *sgo = ago;
  *sge = age;
}

/* ---------------------------------------------------------------- planning, packing */

/* Per time row, the vector kernels pack and unpack the row (lane set-up, transposes, the
 * prefetches) and shift lanes: about this many column steps' worth of work (measured: 8
 * pairs of 128 x 128, one thread, 16 strips of 8 columns run 1.6x slower than 2 of 64). */
#define ROW_OVERHEAD 4.0
/* A group whose tables (what its forward keeps for its backward: M, X, Y and the packed
 * gaps) are larger than this no longer finds them in the caches when its backward reads
 * them back, and runs about this much slower per cell.  Measured on the 2-core AVX-512
 * machine of docs/BENCHMARKS.md (1 MiB of L2 per core): one group on one thread, per lane
 * step, 1.1-1.5e8 with tables up to 2.6 MB against 0.7-1.0e8 from 5 MB on. */
#define TABLE_CACHE_BYTES (2.0 * 1024 * 1024)
#define TABLE_MISS_FACTOR 1.6

typedef struct {
  double key;
  int idx;
} sw_sortkey;

static int cmp_key_desc(const void *x, const void *y) {
  const sw_sortkey *a = x, *b = y;
  if (a->key != b->key) return a->key < b->key ? 1 : -1;
  return (a->idx > b->idx) - (a->idx < b->idx);
}

static int cmp_double_desc(const void *x, const void *y) {
  const double a = *(const double *)x, b = *(const double *)y;
  return (a < b) - (a > b);
}

static int cmp_group_cost(const void *x, const void *y) {
  const sw_group *a = x, *b = y;
  if (a->cost != b->cost) return a->cost < b->cost ? 1 : -1;
  return (a->pair[0] > b->pair[0]) - (a->pair[0] < b->pair[0]);
}

/* In-place Shell sort (qsort may allocate, and a warm aligner allocates nothing).  tmp:
 * room for one element. */
static void sort_inplace(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *),
                         void *tmp) {
  static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
  unsigned char *b = base;
  for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
    const size_t h = gaps[g];
    for (size_t i = h; i < n; i++) {
      memcpy(tmp, b + i * size, size);
      size_t j = i;
      for (; j >= h && cmp(b + (j - h) * size, tmp) > 0; j -= h)
        memcpy(b + j * size, b + (j - h) * size, size);
      memcpy(b + j * size, tmp, size);
    }
  }
}

static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

static size_t group_table_floats(const sw_group *G, int L, int pc) {
  const size_t row = (size_t)G->w * L;
  return align16(3 * (size_t)(G->tsteps + 2) * row +
                 (pc ? 2 * (size_t)G->tsteps * row : 2 * (size_t)L));
}

/* Groups of P = L / S consecutive pairs of `order` (largest first), each with its cost: lane
 * steps, the per-row overhead, and the cache term (TABLE_CACHE_BYTES). */
static int make_groups(const sw_pair_state *ps, const sw_sortkey *order, int n_pairs, int L,
                       int S, int pc, sw_group *g) {
  const int P = L / S;
  int ng = 0;
  for (int first = 0; first < n_pairs; first += P, ng++) {
    sw_group *G = &g[ng];
    memset(G, 0, sizeof *G);
    for (int q = 0; q < P && first + q < n_pairs; q++) {
      const int p = order[first + q].idx;
      G->pair[G->np++] = p;
      if (ps[p].n > G->nmax) G->nmax = ps[p].n;
      if (ps[p].m > G->mmax) G->mmax = ps[p].m;
    }
    G->w = (G->mmax + S - 1) / S;
    G->tsteps = G->nmax + S - 1;
    G->cost = (double)G->tsteps * (G->w + ROW_OVERHEAD);
    if (sizeof(float) * (double)group_table_floats(G, L, pc) > TABLE_CACHE_BYTES)
      G->cost *= TABLE_MISS_FACTOR;
  }
  return ng;
}

/* Longest thread's work when the groups (costs sorted in place, largest first) are handed
 * to nt threads in that order, each to the least loaded one. */
static double makespan(double *cost, int ng, int nt, double *load) {
  double tmp;
  sort_inplace(cost, (size_t)ng, sizeof *cost, cmp_double_desc, &tmp);
  for (int t = 0; t < nt; t++) load[t] = 0;
  for (int i = 0; i < ng; i++) {
    int best = 0;
    for (int t = 1; t < nt; t++)
      if (load[t] < load[best]) best = t;
    load[best] += cost[i];
  }
  double mx = 0;
  for (int t = 0; t < nt; t++) mx = load[t] > mx ? load[t] : mx;
  return mx;
}

/* The first offending value of the batch, in pair, array, row-major order. */
static lac_status report_bad_input(const lac_sw_pair *pairs, int n_pairs, int per_cell,
                                   lac_error *err) {
  for (int p = 0; p < n_pairs; p++) {
    const lac_sw_pair *P = &pairs[p];
    const size_t cells = (size_t)P->n * P->m;
    const float *arr[3] = {P->S, P->go, P->ge};
    const char *name[3] = {"S", "go", "ge"};
    for (int a = 0; a < 3; a++) {
      const size_t cnt = a == 0 || per_cell ? cells : 1;
      for (size_t k = 0; k < cnt; k++) {
        const float v = arr[a][k];
        if (fabsf(v) <= SW_VAL_MAX) continue;
        if (a > 0 && !per_cell)
          return lac_error_set(err, LAC_ERR_NUMERIC,
                               "lac_sw_forward: pair %d: %s = %g is %s", p, name[a], (double)v,
                               isfinite(v) ? "beyond the +-1e20 the recurrences support"
                                           : "not finite");
        return lac_error_set(err, LAC_ERR_NUMERIC,
                             "lac_sw_forward: pair %d: %s[%d][%d] = %g is %s", p, name[a],
                             (int)(k / P->m), (int)(k % P->m), (double)v,
                             isfinite(v) ? "beyond the +-1e20 the recurrences support"
                                         : "not finite");
      }
    }
  }
  return lac_error_set(err, LAC_ERR_NUMERIC, "lac_sw_forward: an input is not finite");
}

static int check_finite(const float *x, size_t n) {
  int bad = 0;
  for (size_t k = 0; k < n; k++) bad |= !(fabsf(x[k]) <= SW_VAL_MAX);
  return bad;
}

/* Grow a buffer (64-byte aligned) to at least `need` bytes; contents are not kept. */
static int grow(unsigned char **buf, size_t *cap, size_t need) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : 4096;
  while (c < need) c = c > SIZE_MAX / 2 ? need : c * 2;
  unsigned char *nb = lac_alloc(c);
  if (!nb) return -1;
  lac_free(*buf);
  *buf = nb;
  *cap = c;
  return 0;
}

/* ---------------------------------------------------------------- aligner */

lac_aligner_params lac_aligner_default_params(void) {
  lac_aligner_params p = {0};
  return p;
}

lac_status lac_aligner_new(const lac_aligner_params *params, lac_aligner **out, lac_error *err) {
  if (!out) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_aligner_new: out is NULL");
  *out = NULL;
  lac_aligner_params p = params ? *params : lac_aligner_default_params();
  if (p.n_threads < 0 || p.n_threads > 4096)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_aligner_new: n_threads = %d; use 0 (all cores) to 4096",
                         p.n_threads);
  lac_aligner *a = calloc(1, sizeof *a);
  if (!a) return lac_error_set(err, LAC_ERR_NOMEM, "lac_aligner_new: out of memory");
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  a->n_threads = p.n_threads > 0 ? p.n_threads : ncpu > 0 ? (int)ncpu : 1;
  a->isa_best = PATH_SCALAR;
#if SW_X86
  __builtin_cpu_init();
  a->have_fma = __builtin_cpu_supports("fma") != 0;
  if (__builtin_cpu_supports("avx512f") && a->have_fma)
    a->isa_best = PATH_AVX512;
  else if (__builtin_cpu_supports("avx2") && a->have_fma)
    a->isa_best = PATH_AVX2;
#endif
  a->isa = -1;
  if (p.backend && !strcmp(lac_backend_name(p.backend), "cuda")) {
#if LAC_HAVE_CUDA
    lac_status st = lac_cuda_sw_state_new(p.backend, &a->cuda, err);
    if (st) {
      free(a);
      return st;
    }
#else /* not reached: a build without CUDA makes no CUDA backend */
    free(a);
    return lac_error_set(err, LAC_ERR_UNSUPPORTED,
                         "lac_aligner_new: this build of lac has no CUDA; leave backend NULL");
#endif
  }
  *out = a;
  lac_error_clear(err);
  return LAC_OK;
}

void lac_aligner_free(lac_aligner *a) {
  if (!a) return;
#if LAC_HAVE_CUDA
  lac_cuda_sw_state_free(a->cuda);
#endif
  lac_free(a->meta);
  lac_free(a->ws);
  lac_free(a->loss_ws);
  free(a);
}

int lac_aligner_n_threads(const lac_aligner *a) { return a->n_threads; }

void *lac_aligner_loss_workspace(lac_aligner *a, size_t bytes) {
  if (!a || grow(&a->loss_ws, &a->loss_cap, bytes)) return NULL;
  return a->loss_ws;
}

lac_cuda_sw_state *lac_aligner_take_cuda_state(lac_aligner *a) {
  if (!a || !a->cuda) return NULL;
  a->have_fwd = 0;
  a->cuda_fwd = 0;
  a->path_name[0] = 0;
  return a->cuda;
}

lac_status lac_aligner_use_cuda_emulation(lac_aligner *a, lac_error *err) {
  if (!a)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_aligner_use_cuda_emulation: aligner is NULL");
#if LAC_HAVE_CUDA
  lac_cuda_sw_state *s = NULL;
  lac_status st = lac_cuda_sw_state_new(NULL, &s, err);
  if (st) return st;
  lac_cuda_sw_state_free(a->cuda);
  a->cuda = s;
  a->cuda_emulated = 1;
  a->have_fwd = 0;
  a->cuda_fwd = 0;
  lac_error_clear(err);
  return LAC_OK;
#else
  return lac_error_set(err, LAC_ERR_UNSUPPORTED,
                       "lac_aligner_use_cuda_emulation: this build of lac has no CUDA");
#endif
}

lac_status lac_sw_cpu_force(lac_aligner *a, const char *path, int strips, lac_error *err) {
  if (!a || !path)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_sw_cpu_force: NULL argument");
  int isa;
  if (!strcmp(path, "auto")) isa = -1;
  else if (!strcmp(path, "scalar")) isa = PATH_SCALAR;
  else if (!strcmp(path, "avx2")) isa = PATH_AVX2;
  else if (!strcmp(path, "avx512")) isa = PATH_AVX512;
  else
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_sw_cpu_force: unknown path '%s' (auto, scalar, avx2, avx512)", path);
  if (isa > a->isa_best)
    return lac_error_set(err, LAC_ERR_UNSUPPORTED, "lac_sw_cpu_force: this CPU cannot run '%s'",
                         path);
  if (strips < 0 || strips > SW_MAX_LANES || (strips & (strips - 1)))
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_sw_cpu_force: strips = %d; use 0 (planner) or a power of two <= 16",
                         strips);
  a->isa = isa;
  a->force_strips = strips;
  lac_error_clear(err);
  return LAC_OK;
}

const char *lac_sw_cpu_path(const lac_aligner *a) { return a ? a->path_name : ""; }

lac_status lac_sw_cpu_math(const char *path, int which, int n, const float *x, float *y,
                           lac_error *err) {
  if (!path || (n > 0 && (!x || !y)) || n < 0 || (which != 0 && which != 1))
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_sw_cpu_math: bad argument");
  lac_error_clear(err);
  if (!strcmp(path, "scalar")) {
    for (int k = 0; k < n; k++) y[k] = which ? s_log(x[k]) : s_exp(x[k]);
    return LAC_OK;
  }
#if SW_X86
  __builtin_cpu_init();
  const int fma = __builtin_cpu_supports("fma") != 0;
  if (!strcmp(path, "avx512") && fma && __builtin_cpu_supports("avx512f")) {
    sw_math_512(which, n, x, y);
    return LAC_OK;
  }
  if (!strcmp(path, "avx2") && fma && __builtin_cpu_supports("avx2")) {
    sw_math_256(which, n, x, y);
    return LAC_OK;
  }
#endif
  return lac_error_set(err, LAC_ERR_UNSUPPORTED, "lac_sw_cpu_math: path '%s' not available", path);
}

/* Validates the batch; fills the pair states.  Returns the total cell count via *cells. */
static lac_status check_batch(lac_aligner *a, const lac_sw_options *opt, int n_pairs,
                              const lac_sw_pair *pairs, const float *V, size_t *cells,
                              lac_error *err) {
  if (!opt) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_sw_forward: opt is NULL");
  if (n_pairs < 0)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_sw_forward: n_pairs = %d < 0", n_pairs);
  if (n_pairs > 0 && (!pairs || !V))
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_sw_forward: %s is NULL",
                         !pairs ? "pairs" : "V");
  const float tau = opt->tau;
  if (!(tau == 0.0f || (tau >= SW_TAU_MIN && tau <= SW_TAU_MAX)))
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_sw_forward: tau = %g; use 0 (hard) or a value in [1e-37, 1e20]",
                         (double)tau);
  if (opt->per_cell_gaps != 0 && opt->per_cell_gaps != 1)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_sw_forward: per_cell_gaps = %d; use 0 or 1", opt->per_cell_gaps);
  size_t total = 0;
  for (int p = 0; p < n_pairs; p++) {
    const lac_sw_pair *P = &pairs[p];
    if (P->n < 1 || P->m < 1 || P->n > (1 << 20) || P->m > (1 << 20))
      return lac_error_set(err, LAC_ERR_INVALID_ARG,
                           "lac_sw_forward: pair %d: n = %d, m = %d; lengths must be in [1, 2^20]",
                           p, P->n, P->m);
    if (!P->S || !P->go || !P->ge)
      return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_sw_forward: pair %d: %s is NULL", p,
                           !P->S ? "S" : !P->go ? "go" : "ge");
    total += (size_t)P->n * P->m;
  }
  if (grow(&a->meta, &a->meta_cap,
           (size_t)n_pairs * (sizeof(sw_pair_state) + sizeof(sw_sortkey) + sizeof(sw_group) +
                              sizeof(double)) +
               sizeof(double) * (size_t)a->n_threads + 256))
    return lac_error_set(err, LAC_ERR_NOMEM, "lac_sw_forward: out of memory (%d pairs)",
                         n_pairs);
  a->ps = (sw_pair_state *)a->meta;
  for (int p = 0; p < n_pairs; p++) {
    sw_pair_state *st = &a->ps[p];
    memset(st, 0, sizeof *st);
    st->n = pairs[p].n;
    st->m = pairs[p].m;
    st->go_s = opt->per_cell_gaps ? 0.0f : pairs[p].go[0];
    st->ge_s = opt->per_cell_gaps ? 0.0f : pairs[p].ge[0];
  }
  *cells = total;
  return LAC_OK;
}

/* ---------------------------------------------------------------- forward */

/* the vector path's functions for one instruction set */
typedef struct {
  void (*fwd)(sw_kargs *);
  void (*bwd)(sw_kargs *);
} sw_vec_ops;

static sw_vec_ops vec_ops(int isa) {
  sw_vec_ops o = {0};
#if SW_X86
  if (isa == PATH_AVX512) o = (sw_vec_ops){sw_fwd_512, sw_bwd_512};
  if (isa == PATH_AVX2) o = (sw_vec_ops){sw_fwd_256, sw_bwd_256};
#endif
  (void)isa;
  return o;
}

/* per-thread scratch of the vector path: packing rows, the adjoint slots, lane arrays */
typedef struct {
  float *rowbuf, *slots;
  float *lane_mx, *cv;
  double *lane_sum, *lane_dgo, *lane_dge;
} sw_scratch;

static size_t scratch_floats_for(int max_w, int L) {
  return align16((size_t)4 * max_w * L) + align16((size_t)3 * (6 * max_w + 2) * L) +
         8 * SW_MAX_LANES;
}

static sw_scratch scratch_of(const lac_aligner *a, int tid, int max_w) {
  sw_scratch s;
  float *p = a->scratch + (size_t)tid * a->scratch_floats;
  s.rowbuf = p, p += align16((size_t)4 * max_w * a->lanes);
  s.slots = p, p += align16((size_t)3 * (6 * max_w + 2) * a->lanes);
  s.lane_mx = p, p += SW_MAX_LANES;
  s.cv = p, p += SW_MAX_LANES;
  s.lane_sum = (double *)p, p += 2 * SW_MAX_LANES;
  s.lane_dgo = (double *)p, p += 2 * SW_MAX_LANES;
  s.lane_dge = (double *)p;
  return s;
}

static int groups_max_w(const lac_aligner *a) {
  int w = 0;
  for (int g = 0; g < a->n_groups; g++) w = a->groups[g].w > w ? a->groups[g].w : w;
  return w;
}

/* The kernel arguments of group G that do not depend on the direction: geometry, tables,
 * lane map. */
static void group_kargs(const lac_aligner *a, const sw_group *G, const sw_scratch *sc,
                        sw_kargs *ka) {
  const int L = a->lanes, S = a->strips, pc = a->per_cell;
  const size_t row = (size_t)G->w * L, tsz = (size_t)(G->tsteps + 2) * row;
  memset(ka, 0, sizeof *ka);
  ka->w = G->w, ka->tsteps = G->tsteps, ka->strips = S, ka->per_cell = pc;
  ka->tau = a->tau, ka->inv_tau = 1.0f / a->tau;
  ka->M = a->tables + G->off, ka->X = ka->M + tsz, ka->Y = ka->X + tsz, ka->go = ka->Y + tsz;
  ka->ge = ka->go + (pc ? (size_t)G->tsteps * row : (size_t)L);
  ka->lane_mx = sc->lane_mx, ka->lane_sum = sc->lane_sum, ka->cv = sc->cv;
  ka->lane_dgo = sc->lane_dgo, ka->lane_dge = sc->lane_dge;
  ka->slots = sc->slots, ka->rowbuf = sc->rowbuf;
  for (int k = 0; k < L; k++) {
    const int q = k / S, s = k % S;
    ka->lag[k] = s;
    if (q < G->np) {
      const sw_pair_state *st = &a->ps[G->pair[q]];
      const int c = st->m - s * G->w;
      ka->n[k] = st->n, ka->m[k] = st->m;
      ka->cnt[k] = c < 0 ? 0 : c > G->w ? G->w : c;
    }
  }
}

/* lane pointers: arr[p] + s*w for pair p of lane k's slot (NULL when arr or arr[p] is) */
static void lane_ptrs(const lac_aligner *a, const sw_group *G, const float *const *arr,
                      const float **out, int *any) {
  const int S = a->strips;
  *any = 0;
  for (int k = 0; k < a->lanes; k++) {
    const int q = k / S;
    out[k] = NULL;
    if (q < G->np && arr && arr[G->pair[q]] && (k % S) * G->w < a->ps[G->pair[q]].m) {
      out[k] = arr[G->pair[q]] + (size_t)(k % S) * G->w;
      *any = 1;
    }
  }
}

static lac_status fwd_vector(lac_aligner *a, const lac_sw_options *opt, int n_pairs,
                             const lac_sw_pair *pairs, float *V, float *const *M, int isa,
                             lac_error *err) {
  const int L = isa == PATH_AVX512 ? 16 : 8, nt = a->n_threads, pc = opt->per_cell_gaps;
  sw_pair_state *ps = a->ps;
  sw_sortkey *keys = (sw_sortkey *)(ps + n_pairs);
  sw_group *groups = (sw_group *)(keys + n_pairs);
  double *costs = (double *)(groups + n_pairs), *loads = costs + n_pairs;
  for (int p = 0; p < n_pairs; p++) keys[p].key = (double)ps[p].n * ps[p].m, keys[p].idx = p;
  sw_sortkey ktmp;
  sort_inplace(keys, (size_t)n_pairs, sizeof *keys, cmp_key_desc, &ktmp);
  /* strips per pair: the fewest-steps plan over the threads (ties: more strips, smaller groups) */
  int best_S = a->force_strips && a->force_strips <= L ? a->force_strips : 0;
  if (!best_S) {
    double best = INFINITY;
    for (int S = L; S >= 1; S /= 2) {
      const int ng = make_groups(ps, keys, n_pairs, L, S, pc, groups);
      for (int g = 0; g < ng; g++) costs[g] = groups[g].cost;
      const double ms = makespan(costs, ng, nt, loads);
      if (ms < best * 0.999) best = ms, best_S = S;
    }
  }
  const int S = best_S;
  const int ng = make_groups(ps, keys, n_pairs, L, S, pc, groups);
  sw_group gtmp;
  sort_inplace(groups, (size_t)ng, sizeof *groups, cmp_group_cost, &gtmp);
  a->groups = groups, a->n_groups = ng, a->lanes = L, a->strips = S;
  a->per_cell = pc, a->tau = opt->tau;
  size_t tab = 0;
  for (int g = 0; g < ng; g++) {
    groups[g].off = tab;
    tab += group_table_floats(&groups[g], L, pc);
  }
  const int max_w = groups_max_w(a);
  a->scratch_floats = scratch_floats_for(max_w, L);
  if (grow(&a->ws, &a->ws_cap, sizeof(float) * (tab + (size_t)nt * a->scratch_floats)))
    return lac_error_set(err, LAC_ERR_NOMEM, "lac_sw_forward: out of memory (%zu MiB of tables)",
                         (sizeof(float) * tab) >> 20);
  a->tables = (float *)a->ws;
  a->scratch = a->tables + tab;
  const sw_vec_ops ops = vec_ops(isa);
  int bad = 0;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) reduction(| : bad)
  for (int g = 0; g < ng; g++) {
    const sw_group *G = &groups[g];
    const sw_scratch sc = scratch_of(a, thread_id(), max_w);
    sw_kargs ka;
    group_kargs(a, G, &sc, &ka);
    int any;
    for (int k = 0; k < L; k++) {
      const int q = k / S, s = k % S;
      const int live = q < G->np && s * G->w < ps[G->pair[q]].m;
      const lac_sw_pair *P = live ? &pairs[G->pair[q]] : NULL;
      ka.inS[k] = live ? P->S + (size_t)s * G->w : NULL;
      ka.ingo[k] = live && pc ? P->go + (size_t)s * G->w : NULL;
      ka.inge[k] = live && pc ? P->ge + (size_t)s * G->w : NULL;
    }
    if (!pc) {
      for (int k = 0; k < L; k++) {
        const int q = k / S;
        ka.go[k] = q < G->np ? ps[G->pair[q]].go_s : 0.0f;
        ka.ge[k] = q < G->np ? ps[G->pair[q]].ge_s : 0.0f;
        ka.bad |= !(fabsf(ka.go[k]) <= SW_VAL_MAX) || !(fabsf(ka.ge[k]) <= SW_VAL_MAX);
      }
    }
    lane_ptrs(a, G, (const float *const *)M, (const float **)ka.outM, &any);
    ka.any_M = any;
    ops.fwd(&ka);
    if (ka.bad) {
      bad = 1;
      continue;
    }
    for (int q = 0; q < G->np; q++) {
      sw_pair_state *st = &ps[G->pair[q]];
      st->mx = sc.lane_mx[q * S];
      double sum = 0;
      for (int s = 0; s < S; s++) sum += sc.lane_sum[q * S + s];
      st->sum = sum;
    }
  }
  if (bad) return report_bad_input(pairs, n_pairs, pc, err);
  for (int p = 0; p < n_pairs; p++) {
    ps[p].V = (float)((double)ps[p].mx + (double)opt->tau * log(ps[p].sum));
    V[p] = ps[p].V;
  }
  return LAC_OK;
}

/* Scalar soft and hard paths: tables per pair; hard adds a backpointer byte per cell. */
static lac_status fwd_pairs(lac_aligner *a, const lac_sw_options *opt, int n_pairs,
                            const lac_sw_pair *pairs, float *V, float *const *M, int hard,
                            lac_error *err) {
  const int pc = opt->per_cell_gaps, nt = a->n_threads;
  sw_pair_state *ps = a->ps;
  size_t tab = 0, bps = 0;
  int max_m = 0;
  for (int p = 0; p < n_pairs; p++) {
    const size_t cells = (size_t)ps[p].n * ps[p].m;
    ps[p].off = tab;
    tab += align16(cells * (pc ? 5 : 3) + 2);
    ps[p].bp_off = bps;
    if (hard) bps += (cells + 63) & ~(size_t)63;
    if (ps[p].m > max_m) max_m = ps[p].m;
  }
  a->scratch_floats = align16((size_t)16 * max_m);
  if (grow(&a->ws, &a->ws_cap,
           sizeof(float) * (tab + (size_t)nt * a->scratch_floats) + bps))
    return lac_error_set(err, LAC_ERR_NOMEM, "lac_sw_forward: out of memory (%zu MiB of tables)",
                         (sizeof(float) * tab + bps) >> 20);
  a->tables = (float *)a->ws;
  a->scratch = a->tables + tab;
  uint8_t *bp0 = (uint8_t *)(a->scratch + (size_t)nt * a->scratch_floats);
  const float tau = opt->tau, it = hard ? 0.0f : 1.0f / tau;
  const int use_fma = a->have_fma;
  int bad = 0;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) reduction(| : bad)
  for (int p = 0; p < n_pairs; p++) {
    sw_pair_state *st = &ps[p];
    const int n = st->n, m = st->m;
    const size_t cells = (size_t)n * m;
    float *Mt = a->tables + st->off, *Xt = Mt + cells, *Yt = Xt + cells, *go = Yt + cells;
    float *ge = go + (pc ? cells : 1);
    int b = check_finite(pairs[p].S, cells);
    if (pc) {
      memcpy(go, pairs[p].go, sizeof(float) * cells);
      memcpy(ge, pairs[p].ge, sizeof(float) * cells);
      b |= check_finite(go, cells) | check_finite(ge, cells);
    } else {
      go[0] = st->go_s, ge[0] = st->ge_s;
      b |= check_finite(go, 1) | check_finite(ge, 1);
    }
    if (b) {
      bad = 1;
      continue;
    }
    if (hard) {
      hard_fwd(n, m, pairs[p].S, go, ge, pc, Mt, Xt, Yt, bp0 + st->bp_off, st);
    } else {
#if SW_X86
      if (use_fma)
        sc_fwd_fma(n, m, pairs[p].S, go, ge, pc, tau, it, Mt, Xt, Yt, &st->mx, &st->sum);
      else
#endif
        sc_fwd_gen(n, m, pairs[p].S, go, ge, pc, tau, it, Mt, Xt, Yt, &st->mx, &st->sum);
    }
    if (M && M[p]) memcpy(M[p], Mt, sizeof(float) * cells);
  }
  (void)use_fma;
  if (bad) return report_bad_input(pairs, n_pairs, pc, err);
  for (int p = 0; p < n_pairs; p++) {
    if (!hard) ps[p].V = (float)((double)ps[p].mx + (double)tau * log(ps[p].sum));
    V[p] = ps[p].V;
  }
  return LAC_OK;
}

lac_status lac_sw_forward(lac_aligner *a, const lac_sw_options *opt, int n_pairs,
                          const lac_sw_pair *pairs, float *V, float *const *M, lac_error *err) {
  if (!a) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_sw_forward: aligner is NULL");
  a->have_fwd = 0;
  a->cuda_fwd = 0;
  a->path_name[0] = 0;
  size_t cells = 0;
  lac_status st = check_batch(a, opt, n_pairs, pairs, V, &cells, err);
  if (st) return st;
  const int hard = opt->tau == 0.0f;
#if LAC_HAVE_CUDA
  if (a->cuda && !hard) {
    for (int p = 0; p < n_pairs; p++)
      if (pairs[p].n > LAC_CUDA_SW_MAX_LEN || pairs[p].m > LAC_CUDA_SW_MAX_LEN)
        return lac_error_set(err, LAC_ERR_UNSUPPORTED,
                             "lac_sw_forward: pair %d is %d x %d: the CUDA aligner takes lengths "
                             "up to %d; use a CPU aligner (lac_aligner_params.backend = NULL) "
                             "for longer pairs",
                             p, pairs[p].n, pairs[p].m, LAC_CUDA_SW_MAX_LEN);
    st = lac_cuda_sw_state_forward(a->cuda, opt, n_pairs, pairs, V, M, err);
    if (st) return st;
    a->hard = 0, a->per_cell = opt->per_cell_gaps, a->tau = opt->tau, a->path = PATH_SCALAR;
    a->n_pairs = n_pairs;
    a->n_groups = 0;
    snprintf(a->path_name, sizeof a->path_name, "%s", a->cuda_emulated ? "cuda-emulated" : "cuda");
    a->cuda_fwd = 1;
    a->have_fwd = 1;
    lac_error_clear(err);
    return LAC_OK;
  }
#endif
  int isa = a->isa >= 0 ? a->isa : cells < SW_TINY_CELLS ? PATH_SCALAR : a->isa_best;
  if (hard) isa = PATH_SCALAR;
  a->n_groups = 0;
  if (n_pairs > 0) {
    st = isa == PATH_SCALAR ? fwd_pairs(a, opt, n_pairs, pairs, V, M, hard, err)
                            : fwd_vector(a, opt, n_pairs, pairs, V, M, isa, err);
    if (st) return st;
  }
  a->hard = hard, a->per_cell = opt->per_cell_gaps, a->tau = opt->tau, a->path = isa;
  a->n_pairs = n_pairs;
  const char *name = hard ? "hard"
                     : isa == PATH_AVX512 ? "avx512"
                     : isa == PATH_AVX2   ? "avx2"
                     : a->have_fma        ? "scalar-fma"
                                          : "scalar";
  if (isa == PATH_SCALAR)
    snprintf(a->path_name, sizeof a->path_name, "%s", name);
  else
    snprintf(a->path_name, sizeof a->path_name, "%s/%d", name, a->strips);
  a->have_fwd = 1;
  lac_error_clear(err);
  return LAC_OK;
}

/* ---------------------------------------------------------------- backward */

/* The first gV or gM value that is not finite or beyond +-1e20, as an error. */
static lac_status check_grads(const lac_aligner *a, const float *gV, const float *const *gM,
                              lac_error *err) {
  for (int p = 0; p < a->n_pairs; p++) {
    if (gV && !(fabsf(gV[p]) <= SW_VAL_MAX))
      return lac_error_set(err, LAC_ERR_NUMERIC, "lac_sw_backward: gV[%d] = %g is %s", p,
                           (double)gV[p], isfinite(gV[p]) ? "beyond +-1e20" : "not finite");
    if (gM && gM[p]) {
      const int m = a->ps[p].m;
      const size_t cells = (size_t)a->ps[p].n * m;
      for (size_t k = 0; k < cells; k++)
        if (!(fabsf(gM[p][k]) <= SW_VAL_MAX))
          return lac_error_set(err, LAC_ERR_NUMERIC,
                               "lac_sw_backward: pair %d: gM[%d][%d] = %g is %s", p,
                               (int)(k / m), (int)(k % m), (double)gM[p][k],
                               isfinite(gM[p][k]) ? "beyond +-1e20" : "not finite");
    }
  }
  return LAC_OK;
}

/* returns 1 when a gM value is not finite (or beyond +-1e20); outputs are then undefined */
static int bwd_vector(lac_aligner *a, const float *gV, const float *const *gM,
                      float *const *dS, float *const *dgo, float *const *dge) {
  const int L = a->lanes, S = a->strips, pc = a->per_cell, nt = a->n_threads;
  const sw_pair_state *ps = a->ps;
  const sw_vec_ops ops = vec_ops(a->path);
  const int max_w = groups_max_w(a);
  int bad = 0;
  (void)nt; /* without OpenMP */
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) reduction(| : bad)
  for (int g = 0; g < a->n_groups; g++) {
    const sw_group *G = &a->groups[g];
    const sw_scratch sc = scratch_of(a, thread_id(), max_w);
    sw_kargs ka;
    group_kargs(a, G, &sc, &ka);
    for (int k = 0; k < L; k++) {
      const int q = k / S;
      if (q < G->np) {
        const sw_pair_state *st = &ps[G->pair[q]];
        sc.lane_mx[k] = st->mx;
        sc.cv[k] = gV ? (float)((double)gV[G->pair[q]] / st->sum) : 0.0f;
      } else {
        sc.lane_mx[k] = NEG, sc.cv[k] = 0.0f;
      }
    }
    lane_ptrs(a, G, gM, ka.ingM, &ka.any_gM);
    lane_ptrs(a, G, (const float *const *)dS, (const float **)ka.outdS, &ka.any_dS);
    if (pc) {
      lane_ptrs(a, G, (const float *const *)dgo, (const float **)ka.outdgo, &ka.any_dgo);
      lane_ptrs(a, G, (const float *const *)dge, (const float **)ka.outdge, &ka.any_dge);
    }
    ops.bwd(&ka);
    if (ka.bad) {
      bad = 1;
      continue;
    }
    if (!pc) {
      for (int q = 0; q < G->np; q++) {
        const int p = G->pair[q];
        double so = 0, se = 0;
        for (int s = 0; s < S; s++) so += sc.lane_dgo[q * S + s], se += sc.lane_dge[q * S + s];
        if (dgo && dgo[p]) dgo[p][0] = (float)so;
        if (dge && dge[p]) dge[p][0] = (float)se;
      }
    }
  }
  return bad;
}

static void bwd_pairs(lac_aligner *a, const float *gV, const float *const *gM, float *const *dS,
                      float *const *dgo, float *const *dge) {
  const int pc = a->per_cell, nt = a->n_threads, hard = a->hard, use_fma = a->have_fma;
  const sw_pair_state *ps = a->ps;
  const uint8_t *bp0 = (const uint8_t *)(a->scratch + (size_t)nt * a->scratch_floats);
  const float tau = a->tau, it = hard ? 0.0f : 1.0f / tau;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
  for (int p = 0; p < a->n_pairs; p++) {
    const sw_pair_state *st = &ps[p];
    const int n = st->n, m = st->m;
    const size_t cells = (size_t)n * m;
    const float *Mt = a->tables + st->off, *Xt = Mt + cells, *Yt = Xt + cells, *go = Yt + cells;
    const float *ge = go + (pc ? cells : 1);
    float *scr = a->scratch + (size_t)thread_id() * a->scratch_floats;
    const float *g = gM ? gM[p] : NULL;
    float *o_s = dS ? dS[p] : NULL, *o_o = dgo ? dgo[p] : NULL, *o_e = dge ? dge[p] : NULL;
    double so = 0, se = 0;
    if (hard) {
      hard_bwd(n, m, bp0 + st->bp_off, st, gV ? gV[p] : 0.0f, g, o_s, o_o, o_e, pc, &so, &se,
               scr);
    } else {
      const float cv = gV ? (float)((double)gV[p] / st->sum) : 0.0f;
#if SW_X86
      if (use_fma)
        sc_bwd_fma(n, m, Mt, Xt, Yt, go, ge, pc, tau, it, st->mx, cv, g, o_s, o_o, o_e, &so, &se,
                   scr);
      else
#endif
        sc_bwd_gen(n, m, Mt, Xt, Yt, go, ge, pc, tau, it, st->mx, cv, g, o_s, o_o, o_e, &so, &se,
                   scr);
    }
    if (!pc) {
      if (o_o) o_o[0] = (float)so;
      if (o_e) o_e[0] = (float)se;
    }
  }
  (void)use_fma;
}

lac_status lac_sw_backward(lac_aligner *a, const float *gV, const float *const *gM,
                           float *const *dS, float *const *dgo, float *const *dge,
                           lac_error *err) {
  if (!a) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_sw_backward: aligner is NULL");
  if (!a->have_fwd)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_sw_backward: no forward to differentiate; call lac_sw_forward first "
                         "(a failed forward leaves none)");
#if LAC_HAVE_CUDA
  if (a->cuda_fwd) {
    lac_status st = lac_cuda_sw_state_backward(a->cuda, gV, gM, dS, dgo, dge, err);
    if (st == LAC_OK) lac_error_clear(err);
    return st;
  }
#endif
  for (int p = 0; gV && p < a->n_pairs; p++)
    if (!(fabsf(gV[p]) <= SW_VAL_MAX))
      return check_grads(a, gV, NULL, err);
  if (a->n_pairs > 0) {
    if (a->path == PATH_SCALAR) {
      /* the oracle checks up front; the vector path while packing gM */
      lac_status st = check_grads(a, gV, gM, err);
      if (st) return st;
      bwd_pairs(a, gV, gM, dS, dgo, dge);
    } else if (bwd_vector(a, gV, gM, dS, dgo, dge)) {
      lac_status st = check_grads(a, gV, gM, err);
      return st ? st : lac_error_set(err, LAC_ERR_NUMERIC, "lac_sw_backward: gM is not finite");
    }
  }
  lac_error_clear(err);
  return LAC_OK;
}

/* ---------------------------------------------------------------- path */

lac_status lac_sw_path(const lac_aligner *a, int p, lac_sw_step *steps, int cap, int *n_steps,
                       lac_error *err) {
  if (!a || !steps || !n_steps)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_sw_path: %s is NULL",
                         !a ? "aligner" : !steps ? "steps" : "n_steps");
  if (!a->have_fwd)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_sw_path: no forward; run lac_sw_forward "
                                                   "with tau = 0 first");
  if (!a->hard)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_sw_path: the last forward was soft (tau = %g); the path needs a "
                         "hard forward (tau = 0)",
                         (double)a->tau);
  if (p < 0 || p >= a->n_pairs)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_sw_path: pair %d not in [0, %d)", p,
                         a->n_pairs);
  const sw_pair_state *st = &a->ps[p];
  const int m = st->m;
  const uint8_t *bp =
      (const uint8_t *)(a->scratch + (size_t)a->n_threads * a->scratch_floats) + st->bp_off;
  /* walk back from the best end, then reverse */
  int i = st->best_i, j = st->best_j, state = 0, len = 0; /* state 0 M, 1 X, 2 Y */
  for (;;) {
    if (len >= cap) {
      /* count the rest to say how much room is needed */
      return lac_error_set(err, LAC_ERR_INVALID_ARG,
                           "lac_sw_path: cap = %d is too small; give room for n + m = %d steps",
                           cap, st->n + m);
    }
    steps[len].i = i, steps[len].j = j, steps[len].state = "MXY"[state];
    len++;
    const int b = bp[(size_t)i * m + j];
    if (state == 0) {
      const int s = b & 3;
      if (s == 0) break;
      i--, j--, state = s - 1;
    } else if (state == 1) {
      state = (b >> 2 & 1) ? 1 : 0;
      j--;
    } else {
      const int s = b >> 3 & 3;
      state = s;
      i--;
    }
    if (i < 0 || j < 0) break; /* not reached: paths start in a match */
  }
  for (int k = 0; k < len / 2; k++) {
    lac_sw_step t = steps[k];
    steps[k] = steps[len - 1 - k];
    steps[len - 1 - k] = t;
  }
  *n_steps = len;
  lac_error_clear(err);
  return LAC_OK;
}

#else /* SW_TEMPLATE ---------------------------------------------------------------------
 *
 * The vector kernels, instantiated once per instruction set by the includes above
 * (SW_TEMPLATE = 512: AVX-512F, 16 lanes; 256: AVX2 + FMA, 8 lanes).  Each helper repeats
 * the scalar one of the same name operation by operation.
 */

#define SW_CAT_(a, b) a##_##b
#define SW_CAT(a, b) SW_CAT_(a, b)
#define V(name) SW_CAT(name, SW_TEMPLATE)

#if SW_TEMPLATE == 512
#define VL 16
#define VTARGET __attribute__((target("avx512f,avx2,fma,prfchw")))
#define VHELP static inline __attribute__((always_inline, target("avx512f,avx2,fma,prfchw")))
#define vf __m512
#define vi __m512i
#define vmask __mmask16
#define vd __m512d

VHELP vf V(ld)(const float *p) { return _mm512_load_ps(p); }
VHELP void V(st)(float *p, vf x) { _mm512_store_ps(p, x); }
VHELP vf V(set1)(float x) { return _mm512_set1_ps(x); }
VHELP vf V(add)(vf a, vf b) { return _mm512_add_ps(a, b); }
VHELP vf V(sub)(vf a, vf b) { return _mm512_sub_ps(a, b); }
VHELP vf V(mul)(vf a, vf b) { return _mm512_mul_ps(a, b); }
VHELP vf V(div)(vf a, vf b) { return _mm512_div_ps(a, b); }
VHELP vf V(fma)(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
VHELP vf V(max)(vf a, vf b) { return _mm512_max_ps(a, b); }
VHELP vf V(min)(vf a, vf b) { return _mm512_min_ps(a, b); }
VHELP vmask V(ge)(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
VHELP vmask V(gt)(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
VHELP vmask V(lt)(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
/* m ? t : f */
VHELP vf V(sel)(vmask m, vf t, vf f) { return _mm512_mask_blend_ps(m, f, t); }
VHELP vi V(as_i)(vf x) { return _mm512_castps_si512(x); }
VHELP vf V(as_f)(vi x) { return _mm512_castsi512_ps(x); }
VHELP vi V(iadd)(vi a, vi b) { return _mm512_add_epi32(a, b); }
VHELP vi V(iset1)(int x) { return _mm512_set1_epi32(x); }
VHELP vi V(shl23)(vi a) { return _mm512_slli_epi32(a, 23); }
VHELP vi V(shr23)(vi a) { return _mm512_srli_epi32(a, 23); }
VHELP vi V(iand)(vi a, vi b) { return _mm512_and_si512(a, b); }
VHELP vi V(ior)(vi a, vi b) { return _mm512_or_si512(a, b); }
VHELP vf V(i2f)(vi a) { return _mm512_cvtepi32_ps(a); }
/* a + 1 where m */
VHELP vi V(inc_if)(vmask m, vi a) { return _mm512_mask_add_epi32(a, m, a, _mm512_set1_epi32(1)); }
VHELP vd V(dzero)(void) { return _mm512_setzero_pd(); }
/* lo += x[0 .. VL/2), hi += x[VL/2 .. VL) in double */
VHELP void V(dacc)(vd *lo, vd *hi, vf x) {
  *lo = _mm512_add_pd(*lo, _mm512_cvtps_pd(_mm512_castps512_ps256(x)));
  *hi = _mm512_add_pd(*hi, _mm512_cvtps_pd(_mm256_castpd_ps(
                              _mm512_extractf64x4_pd(_mm512_castps_pd(x), 1))));
}
VHELP void V(dst)(double *p, vd lo, vd hi) {
  _mm512_storeu_pd(p, lo);
  _mm512_storeu_pd(p + VL / 2, hi);
}
/* lane shifts within segments of S lanes: up (lane k gets lane k-1, segment starts get
 * `fill`), down (lane k gets lane k+1, segment ends get 0) */
typedef struct {
  vi up, dn;
  vmask kup, kdn;
} V(shift_t);
VHELP V(shift_t) V(shift_make)(int S) {
  int32_t up[VL], dn[VL];
  unsigned kup = 0, kdn = 0;
  for (int k = 0; k < VL; k++) {
    up[k] = k % S ? k - 1 : k;
    dn[k] = k % S != S - 1 ? k + 1 : k;
    kup |= (unsigned)(k % S != 0) << k;
    kdn |= (unsigned)(k % S != S - 1) << k;
  }
  V(shift_t) sh;
  sh.up = _mm512_loadu_si512(up);
  sh.dn = _mm512_loadu_si512(dn);
  sh.kup = (vmask)kup;
  sh.kdn = (vmask)kdn;
  return sh;
}
VHELP vf V(shup)(const V(shift_t) *sh, vf x, vf fill) {
  return _mm512_mask_permutexvar_ps(fill, sh->kup, sh->up, x);
}
VHELP vf V(shdn)(const V(shift_t) *sh, vf x) {
  return _mm512_maskz_permutexvar_ps(sh->kdn, sh->dn, x);
}
/* the first nv (1..VL) floats at p, `fill` after them; *bad gets bits for those that fail
 * |v| <= SW_VAL_MAX */
VHELP vf V(ldn)(const float *p, int nv, vf fill, unsigned *bad) {
  const __mmask16 m = (__mmask16)((1u << nv) - 1);
  const vf x = _mm512_mask_loadu_ps(fill, m, p);
  *bad |= _mm512_mask_cmp_ps_mask(m, _mm512_abs_ps(x), _mm512_set1_ps(SW_VAL_MAX), _CMP_NLE_UQ);
  return x;
}
VHELP void V(stn)(float *p, int nv, vf x) {
  _mm512_mask_storeu_ps(p, (__mmask16)((1u << nv) - 1), x);
}
/* The 4 x 4 transposes inside each 128-bit lane of r[4b .. 4b+3], for every b < n / 4:
 * r[4b + c] then holds, in 128-bit lane L, column 4L + c of rows 4b .. 4b+3 */
VHELP void V(transpose_4x4)(vf *r, int n) {
  vf t[VL];
  for (int i = 0; i < n; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < n; i += 4) {
    const __m512d a0 = _mm512_castps_pd(t[i]), a1 = _mm512_castps_pd(t[i + 1]),
                  a2 = _mm512_castps_pd(t[i + 2]), a3 = _mm512_castps_pd(t[i + 3]);
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
  }
}
/* r[k][c] -> r[c][k], 16 x 16 */
VHELP void V(transpose)(vf r[VL]) {
  vf t[VL];
  V(transpose_4x4)(r, VL);
  for (int c = 0; c < 4; c++) {
    t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
    t[4 + c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xdd);
    t[8 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
    t[12 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xdd);
  }
  for (int c = 0; c < 8; c++) {
    r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xdd);
  }
}
/* Rows of at most VL / 2 floats, two to a vector: lanes 0..7 hold the first n0 (1..8) floats at
 * p0, lanes 8..15 the first n1 at p1, `fill` elsewhere (n = 0: none, p unused); *bad as
 * V(ldn).  The second load is masked to lanes 8..15 from p1 - 8: it reads only p1[0 .. n1). */
VHELP vf V(ld2)(const float *p0, int n0, const float *p1, int n1, vf fill, unsigned *bad) {
  const __mmask16 m0 = (__mmask16)((1u << n0) - 1), m1 = (__mmask16)(((1u << n1) - 1) << 8);
  vf x = fill;
  if (n0 > 0) x = _mm512_mask_loadu_ps(x, m0, p0);
  if (n1 > 0) x = _mm512_mask_loadu_ps(x, m1, (const float *)((uintptr_t)p1 - 8 * sizeof(float)));
  *bad |= _mm512_mask_cmp_ps_mask(m0 | m1, _mm512_abs_ps(x), _mm512_set1_ps(SW_VAL_MAX),
                                  _CMP_NLE_UQ);
  return x;
}
/* the inverse: p0[0 .. n0) = lanes 0 .. n0, p1[0 .. n1) = lanes 8 .. 8 + n1 */
VHELP void V(st2)(float *p0, int n0, float *p1, int n1, vf x) {
  if (n0 > 0) _mm512_mask_storeu_ps(p0, (__mmask16)((1u << n0) - 1), x);
  if (n1 > 0)
    _mm512_mask_storeu_ps((float *)((uintptr_t)p1 - 8 * sizeof(float)),
                          (__mmask16)(((1u << n1) - 1) << 8), x);
}
/* r[k][c] -> r[c][k] in each half separately (two 8 x 8 blocks): for r[k] = (a_k | b_k),
 * r[c] = (a_0[c] .. a_7[c] | b_0[c] .. b_7[c]).  Its own inverse. */
VHELP void V(transpose_half)(vf r[VL / 2]) {
  vf t[VL / 2];
  V(transpose_4x4)(r, VL / 2);
  /* in the halves' terms: r[4b + c] holds, in 128-bit lane L, column 4 (L % 2) + c of rows
   * 4b .. 4b+3 of half L / 2; the columns' 128-bit lanes pair up across r[c] and r[4 + c] */
  const __m512i lo = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
  const __m512i hi = _mm512_setr_epi32(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
  for (int c = 0; c < 4; c++) {
    t[c] = _mm512_permutex2var_ps(r[c], lo, r[4 + c]);
    t[4 + c] = _mm512_permutex2var_ps(r[c], hi, r[4 + c]);
  }
  for (int c = 0; c < VL / 2; c++) r[c] = t[c];
}

#elif SW_TEMPLATE == 256
#define VL 8
#define VTARGET __attribute__((target("avx2,fma,prfchw")))
#define VHELP static inline __attribute__((always_inline, target("avx2,fma,prfchw")))
#define vf __m256
#define vi __m256i
#define vmask __m256
#define vd __m256d

VHELP vf V(ld)(const float *p) { return _mm256_load_ps(p); }
VHELP void V(st)(float *p, vf x) { _mm256_store_ps(p, x); }
VHELP vf V(set1)(float x) { return _mm256_set1_ps(x); }
VHELP vf V(add)(vf a, vf b) { return _mm256_add_ps(a, b); }
VHELP vf V(sub)(vf a, vf b) { return _mm256_sub_ps(a, b); }
VHELP vf V(mul)(vf a, vf b) { return _mm256_mul_ps(a, b); }
VHELP vf V(div)(vf a, vf b) { return _mm256_div_ps(a, b); }
VHELP vf V(fma)(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
VHELP vf V(max)(vf a, vf b) { return _mm256_max_ps(a, b); }
VHELP vf V(min)(vf a, vf b) { return _mm256_min_ps(a, b); }
VHELP vmask V(ge)(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
VHELP vmask V(gt)(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
VHELP vmask V(lt)(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
VHELP vf V(sel)(vmask m, vf t, vf f) { return _mm256_blendv_ps(f, t, m); }
VHELP vi V(as_i)(vf x) { return _mm256_castps_si256(x); }
VHELP vf V(as_f)(vi x) { return _mm256_castsi256_ps(x); }
VHELP vi V(iadd)(vi a, vi b) { return _mm256_add_epi32(a, b); }
VHELP vi V(iset1)(int x) { return _mm256_set1_epi32(x); }
VHELP vi V(shl23)(vi a) { return _mm256_slli_epi32(a, 23); }
VHELP vi V(shr23)(vi a) { return _mm256_srli_epi32(a, 23); }
VHELP vi V(iand)(vi a, vi b) { return _mm256_and_si256(a, b); }
VHELP vi V(ior)(vi a, vi b) { return _mm256_or_si256(a, b); }
VHELP vf V(i2f)(vi a) { return _mm256_cvtepi32_ps(a); }
VHELP vi V(inc_if)(vmask m, vi a) { return _mm256_sub_epi32(a, _mm256_castps_si256(m)); }
VHELP vd V(dzero)(void) { return _mm256_setzero_pd(); }
VHELP void V(dacc)(vd *lo, vd *hi, vf x) {
  *lo = _mm256_add_pd(*lo, _mm256_cvtps_pd(_mm256_castps256_ps128(x)));
  *hi = _mm256_add_pd(*hi, _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)));
}
VHELP void V(dst)(double *p, vd lo, vd hi) {
  _mm256_storeu_pd(p, lo);
  _mm256_storeu_pd(p + VL / 2, hi);
}
typedef struct {
  vi up, dn;
  vf kup, kdn;
} V(shift_t);
VHELP V(shift_t) V(shift_make)(int S) {
  int32_t up[VL], dn[VL], kup[VL], kdn[VL];
  for (int k = 0; k < VL; k++) {
    up[k] = k % S ? k - 1 : k;
    dn[k] = k % S != S - 1 ? k + 1 : k;
    kup[k] = k % S != 0 ? -1 : 0;
    kdn[k] = k % S != S - 1 ? -1 : 0;
  }
  V(shift_t) sh;
  sh.up = _mm256_loadu_si256((const __m256i *)up);
  sh.dn = _mm256_loadu_si256((const __m256i *)dn);
  sh.kup = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)kup));
  sh.kdn = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)kdn));
  return sh;
}
VHELP vf V(shup)(const V(shift_t) *sh, vf x, vf fill) {
  return _mm256_blendv_ps(fill, _mm256_permutevar8x32_ps(x, sh->up), sh->kup);
}
VHELP vf V(shdn)(const V(shift_t) *sh, vf x) {
  return _mm256_and_ps(_mm256_permutevar8x32_ps(x, sh->dn), sh->kdn);
}
VHELP __m256i V(lanemask)(int nv) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(nv), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
VHELP vf V(ldn)(const float *p, int nv, vf fill, unsigned *bad) {
  const __m256i m = V(lanemask)(nv);
  const vf x = _mm256_blendv_ps(fill, _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  const vf ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const vf nok = _mm256_cmp_ps(ax, _mm256_set1_ps(SW_VAL_MAX), _CMP_NLE_UQ);
  *bad |= (unsigned)_mm256_movemask_ps(_mm256_and_ps(nok, _mm256_castsi256_ps(m)));
  return x;
}
VHELP void V(stn)(float *p, int nv, vf x) { _mm256_maskstore_ps(p, V(lanemask)(nv), x); }
VHELP void V(transpose)(vf r[VL]) {
  vf t[VL], u[VL];
  for (int i = 0; i < VL; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < VL; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
  for (int c = 0; c < 4; c++) {
    r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
  }
}
/* as the AVX-512 ones, with halves of 4 lanes */
VHELP vf V(ld2)(const float *p0, int n0, const float *p1, int n1, vf fill, unsigned *bad) {
  const __m256i m0 = V(lanemask)(n0),
                m1 = _mm256_andnot_si256(V(lanemask)(4), V(lanemask)(4 + n1));
  vf x = fill;
  if (n0 > 0) x = _mm256_blendv_ps(x, _mm256_maskload_ps(p0, m0), _mm256_castsi256_ps(m0));
  if (n1 > 0)
    x = _mm256_blendv_ps(
        x, _mm256_maskload_ps((const float *)((uintptr_t)p1 - 4 * sizeof(float)), m1),
        _mm256_castsi256_ps(m1));
  const vf ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const vf nok = _mm256_cmp_ps(ax, _mm256_set1_ps(SW_VAL_MAX), _CMP_NLE_UQ);
  *bad |= (unsigned)_mm256_movemask_ps(
      _mm256_and_ps(nok, _mm256_castsi256_ps(_mm256_or_si256(m0, m1))));
  return x;
}
VHELP void V(st2)(float *p0, int n0, float *p1, int n1, vf x) {
  if (n0 > 0) _mm256_maskstore_ps(p0, V(lanemask)(n0), x);
  if (n1 > 0)
    _mm256_maskstore_ps((float *)((uintptr_t)p1 - 4 * sizeof(float)),
                        _mm256_andnot_si256(V(lanemask)(4), V(lanemask)(4 + n1)), x);
}
VHELP void V(transpose_half)(vf r[VL / 2]) {
  const vf t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const vf t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  r[0] = _mm256_shuffle_ps(t0, t2, 0x44);
  r[1] = _mm256_shuffle_ps(t0, t2, 0xee);
  r[2] = _mm256_shuffle_ps(t1, t3, 0x44);
  r[3] = _mm256_shuffle_ps(t1, t3, 0xee);
}
#else
#error "SW_TEMPLATE must be 512 or 256"
#endif

/* ---- math: s_exp, s_log and the smooth maxima, lane-wise */

VHELP vf V(exp)(vf x) {
  x = V(max)(x, V(set1)(EXP_LO));
  const vf magic = V(set1)(MAGIC);
  const vf t = V(fma)(x, V(set1)(LOG2E), magic);
  const vf n = V(sub)(t, magic);
  vf r = V(fma)(n, V(set1)(-LN2_HI), x);
  r = V(fma)(n, V(set1)(-LN2_LO), r);
  vf q = V(set1)(EC5);
  q = V(fma)(q, r, V(set1)(EC4));
  q = V(fma)(q, r, V(set1)(EC3));
  q = V(fma)(q, r, V(set1)(EC2));
  q = V(fma)(q, r, V(set1)(EC1));
  const vf p = V(fma)(q, r, V(set1)(1.0f));
  const vf y = V(as_f)(V(iadd)(V(as_i)(p), V(shl23)(V(as_i)(t))));
  return V(sel)(V(ge)(x, V(set1)(EXP_ZERO)), y, V(set1)(0.0f));
}

VHELP vf V(log)(vf x) {
  const vi b = V(as_i)(x);
  vi e = V(iadd)(V(shr23)(b), V(iset1)(-127));
  vf m = V(as_f)(V(ior)(V(iand)(b, V(iset1)(0x007fffff)), V(iset1)(0x3f800000)));
  const vmask big = V(gt)(m, V(set1)(SQRT2F));
  m = V(sel)(big, V(mul)(m, V(set1)(0.5f)), m);
  e = V(inc_if)(big, e);
  const vf f = V(sub)(m, V(set1)(1.0f));
  const vf z = V(mul)(f, f);
  vf y = V(set1)(LC6);
  y = V(fma)(y, f, V(set1)(LC5));
  y = V(fma)(y, f, V(set1)(LC4));
  y = V(fma)(y, f, V(set1)(LC3));
  y = V(fma)(y, f, V(set1)(LC2));
  y = V(fma)(y, f, V(set1)(LC1));
  y = V(fma)(y, f, V(set1)(LC0));
  y = V(mul)(y, f);
  y = V(mul)(y, z);
  const vf ef = V(i2f)(e);
  y = V(fma)(ef, V(set1)(LN2_LO), y);
  y = V(fma)(V(set1)(-0.5f), z, y);
  const vf r = V(add)(f, y);
  return V(fma)(ef, V(set1)(LN2_HI), r);
}

/* (v - mx) * it, then exp */
VHELP vf V(ew)(vf v, vf mx, vf it) { return V(exp)(V(mul)(V(sub)(v, mx), it)); }

typedef struct {
  vf mx, s, el1, el2, em2, h1, h2;
} V(net4);

VHELP V(net4) V(smax4z_net)(vf a, vf b, vf c, vf it) {
  V(net4) r;
  const vf z = V(set1)(0.0f);
  const vf l1 = V(min)(z, a), l2 = V(min)(b, c);
  r.h1 = V(max)(z, a), r.h2 = V(max)(b, c);
  r.mx = V(max)(r.h1, r.h2);
  const vf m2 = V(min)(r.h1, r.h2);
  r.el1 = V(ew)(l1, r.mx, it), r.el2 = V(ew)(l2, r.mx, it), r.em2 = V(ew)(m2, r.mx, it);
  r.s = V(add)(V(add)(V(add)(V(set1)(1.0f), r.el1), r.el2), r.em2);
  return r;
}

VHELP vf V(smax4z)(vf a, vf b, vf c, vf tau, vf it) {
  const V(net4) r = V(smax4z_net)(a, b, c, it);
  return V(fma)(tau, V(log)(r.s), r.mx);
}

VHELP vf V(smax2)(vf a, vf b, vf tau, vf it) {
  const vf mx = V(max)(a, b), mn = V(min)(a, b);
  const vf s = V(add)(V(set1)(1.0f), V(ew)(mn, mx, it));
  return V(fma)(tau, V(log)(s), mx);
}

typedef struct {
  vf mx, s, el, emid, h;
} V(net3);

VHELP V(net3) V(smax3_net)(vf a, vf b, vf c, vf it) {
  V(net3) r;
  const vf l = V(min)(a, b);
  r.h = V(max)(a, b);
  r.mx = V(max)(r.h, c);
  const vf mid = V(min)(r.h, c);
  r.el = V(ew)(l, r.mx, it), r.emid = V(ew)(mid, r.mx, it);
  r.s = V(add)(V(add)(V(set1)(1.0f), r.el), r.emid);
  return r;
}

VHELP vf V(smax3)(vf a, vf b, vf c, vf tau, vf it) {
  const V(net3) r = V(smax3_net)(a, b, c, it);
  return V(fma)(tau, V(log)(r.s), r.mx);
}

/* ---- packing into the strip layout and back, one time row at a time, by VL x VL transposes
 * in registers */

/* Rows this many time steps ahead are prefetched (the caller's arrays are read and written
 * in 16 row streams at once, too many for the hardware prefetchers). */
#define SW_PREFETCH_ROWS 3
/* the backward prefetches the tables this many time rows ahead */
#define SW_BWD_PREFETCH 2

/* lane k's row pointer at time t (NULL when off the pair) and its column count */
VHELP const float *V(lane_row)(const sw_kargs *a, const float *base, int k, int t, int *cnt) {
  const int i = t - a->lag[k];
  if (!base || i < 0 || i >= a->n[k]) {
    *cnt = 0;
    return NULL;
  }
  *cnt = a->cnt[k];
  return base + (size_t)i * a->m[k];
}

VHELP void V(prefetch_rows)(const sw_kargs *a, const float *const *base, int t, int write) {
  for (int k = 0; k < VL; k++) {
    int cnt;
    const float *r = V(lane_row)(a, base[k], k, t, &cnt);
    for (int c = 0; c < cnt; c += 16) {
      if (write)
        _mm_prefetch((const char *)(r + c), _MM_HINT_ET0);
      else
        _mm_prefetch((const char *)(r + c), _MM_HINT_T0);
    }
  }
}

/* drow[c][k] = in[k][(t - lag[k]) * m[k] + c] for c < cnt[k] on the lane's rows, `fill`
 * elsewhere (lag rows, rows and columns past the pair's end, empty slots, NULL pointers).
 * Sets a->bad when a copied value is not finite or beyond +-SW_VAL_MAX.  dir: the
 * direction the caller walks t in (for the prefetch). */
VHELP void V(pack_row)(sw_kargs *a, const float *const *in, int t, int dir, float fill,
                       float *drow) {
  const int w = a->w;
  const float *rows[VL];
  int cnt[VL];
  for (int k = 0; k < VL; k++) rows[k] = V(lane_row)(a, in[k], k, t, &cnt[k]);
  V(prefetch_rows)(a, in, t + dir * SW_PREFETCH_ROWS, 0);
  const vf fv = V(set1)(fill);
  unsigned bad = 0;
  if (w <= VL / 2) { /* narrow strips: two lanes' rows to a vector, half the shuffles */
    vf r[VL / 2];
    for (int k = 0; k < VL / 2; k++)
      r[k] = V(ld2)(rows[k], cnt[k], rows[k + VL / 2], cnt[k + VL / 2], fv, &bad);
    V(transpose_half)(r);
    for (int c = 0; c < w; c++) V(st)(drow + (size_t)c * VL, r[c]);
    a->bad |= bad != 0;
    return;
  }
  for (int c0 = 0; c0 < w; c0 += VL) {
    vf r[VL];
    for (int k = 0; k < VL; k++) {
      int nv = cnt[k] - c0;
      nv = nv > VL ? VL : nv;
      r[k] = nv > 0 ? V(ldn)(rows[k] + c0, nv, fv, &bad) : fv;
    }
    V(transpose)(r);
    float *d = drow + (size_t)c0 * VL;
    if (w - c0 >= VL) {
#pragma GCC unroll 16
      for (int c = 0; c < VL; c++) V(st)(d + (size_t)c * VL, r[c]);
    } else {
      for (int c = 0; c < w - c0; c++) V(st)(d + (size_t)c * VL, r[c]);
    }
  }
  a->bad |= bad != 0;
}

/* out[k][(t - lag[k]) * m[k] + c] = srow[c][k] for c < cnt[k] on the lane's rows */
VHELP void V(unpack_row)(const sw_kargs *a, float *const *out, int t, int dir,
                         const float *srow) {
  const int w = a->w;
  float *rows[VL];
  int cnt[VL], any = 0;
  for (int k = 0; k < VL; k++) {
    rows[k] = (float *)V(lane_row)(a, out[k], k, t, &cnt[k]);
    any |= cnt[k] > 0;
  }
  if (!any) return;
  V(prefetch_rows)(a, (const float *const *)out, t + dir * SW_PREFETCH_ROWS, 1);
  if (w <= VL / 2) { /* narrow strips: as pack_row */
    vf r[VL / 2];
    for (int c = 0; c < VL / 2; c++) r[c] = c < w ? V(ld)(srow + (size_t)c * VL) : V(set1)(0.0f);
    V(transpose_half)(r);
    for (int k = 0; k < VL / 2; k++)
      V(st2)(rows[k], cnt[k], rows[k + VL / 2], cnt[k + VL / 2], r[k]);
    return;
  }
  for (int c0 = 0; c0 < w; c0 += VL) {
    vf r[VL];
    const float *sr = srow + (size_t)c0 * VL;
    if (w - c0 >= VL) {
#pragma GCC unroll 16
      for (int c = 0; c < VL; c++) r[c] = V(ld)(sr + (size_t)c * VL);
    } else {
      for (int c = 0; c < VL; c++) r[c] = c < w - c0 ? V(ld)(sr + (size_t)c * VL) : V(set1)(0.0f);
    }
    V(transpose)(r);
    for (int k = 0; k < VL; k++) {
      const int nv = cnt[k] - c0;
      if (nv > 0) V(stn)(rows[k] + c0, nv > VL ? VL : nv, r[k]);
    }
  }
}


/* ---- y = exp(x) or log(x) over an array (the math hook) */
static VTARGET void V(sw_math)(int which, int n, const float *x, float *y) {
  float buf[VL] __attribute__((aligned(64)));
  for (int k0 = 0; k0 < n; k0 += VL) {
    for (int k = 0; k < VL; k++) buf[k] = k0 + k < n ? x[k0 + k] : 1.0f;
    V(st)(buf, which ? V(log)(V(ld)(buf)) : V(exp)(V(ld)(buf)));
    for (int k = 0; k < VL && k0 + k < n; k++) y[k0 + k] = buf[k];
  }
}

/* ---- forward of one group (layout: see sw_kargs and the file's opening comment) */

static VTARGET void V(sw_fwd)(sw_kargs *a) {
  const int w = a->w, T = a->tsteps;
  const size_t row = (size_t)w * VL;
  float *Sr = a->rowbuf;
  const V(shift_t) sh = V(shift_make)(a->strips);
  const vf neg = V(set1)(NEG), tau = V(set1)(a->tau), it = V(set1)(a->inv_tau);
  for (size_t k = 0; k < 2 * row; k += VL) {
    V(st)(a->M + k, neg);
    V(st)(a->X + k, neg);
    V(st)(a->Y + k, neg);
  }
  const size_t gstep = a->per_cell ? VL : 0;
  vf mxacc = neg;
  for (int t = 0; t < T; t++) {
    float *Mc = a->M + (size_t)(t + 2) * row, *Xc = a->X + (size_t)(t + 2) * row,
          *Yc = a->Y + (size_t)(t + 2) * row;
    const float *Mp = Mc - row, *Xp = Xc - row, *Yp = Yc - row;
    const float *Mpp = Mp - row, *Xpp = Xp - row, *Ypp = Yp - row;
    float *gor = a->go + (a->per_cell ? (size_t)t * row : 0);
    float *ger = a->ge + (a->per_cell ? (size_t)t * row : 0);
    V(pack_row)(a, a->inS, t, 1, NEG, Sr);
    if (a->per_cell) {
      V(pack_row)(a, a->ingo, t, 1, 0.0f, gor);
      V(pack_row)(a, a->inge, t, 1, 0.0f, ger);
    }
    /* column 0: the left and diagonal neighbours are lane s-1's last column */
    vf Ml = V(shup)(&sh, V(ld)(Mp + row - VL), neg), Xl = V(shup)(&sh, V(ld)(Xp + row - VL), neg);
    vf Md = V(shup)(&sh, V(ld)(Mpp + row - VL), neg), Xd = V(shup)(&sh, V(ld)(Xpp + row - VL), neg),
       Yd = V(shup)(&sh, V(ld)(Ypp + row - VL), neg);
    for (int c = 0; c < w; c++) {
      const size_t o = (size_t)c * VL;
      const vf Mu = V(ld)(Mp + o), Xu = V(ld)(Xp + o), Yu = V(ld)(Yp + o);
      const vf go = V(ld)(gor + c * gstep), ge = V(ld)(ger + c * gstep);
      const vf M = V(add)(V(ld)(Sr + o), V(smax4z)(Md, Xd, Yd, tau, it));
      const vf X = V(smax2)(V(sub)(Ml, go), V(sub)(Xl, ge), tau, it);
      const vf Y = V(smax3)(V(sub)(Mu, go), V(sub)(Xu, go), V(sub)(Yu, ge), tau, it);
      V(st)(Mc + o, M);
      V(st)(Xc + o, X);
      V(st)(Yc + o, Y);
      mxacc = V(max)(mxacc, M);
      Md = Mu, Xd = Xu, Yd = Yu, Ml = M, Xl = X;
    }
    if (a->any_M) V(unpack_row)(a, a->outM, t, 1, Mc);
  }
  /* the pair's max: over its S lanes */
  float lm[VL] __attribute__((aligned(64)));
  V(st)(lm, mxacc);
  const int S = a->strips;
  for (int k0 = 0; k0 < VL; k0 += S) {
    float mx = lm[k0];
    for (int s = 1; s < S; s++) mx = s_max(mx, lm[k0 + s]);
    for (int s = 0; s < S; s++) lm[k0 + s] = mx;
  }
  const vf mxv = V(ld)(lm);
  vd lo = V(dzero)(), hi = V(dzero)();
  for (int t = 0; t < T; t++) {
    const float *Mc = a->M + (size_t)(t + 2) * row;
    for (int c = 0; c < w; c++) V(dacc)(&lo, &hi, V(ew)(V(ld)(Mc + (size_t)c * VL), mxv, it));
  }
  V(dst)(a->lane_sum, lo, hi);
  V(st)(a->lane_mx, mxv);
}

/* ---- backward of one group.  Slots, per time row ([3 rows] rotating): [w][6][VL], the
 * contributions a cell receives from its successors (0..2 from the diagonal one's M smax,
 * into M, X, Y; 3..5 from the one below's Y smax), then [2][VL], those the strip's last
 * column receives from the right one's X smax, which lies in the next strip (inside a strip
 * they pass in registers). */

static VTARGET void V(sw_bwd)(sw_kargs *a) {
  const int w = a->w, T = a->tsteps;
  const size_t row = (size_t)w * VL, brow = (size_t)w * 6 * VL + 2 * VL;
  float *gmr = a->any_gM ? a->rowbuf : NULL, *dsr = a->rowbuf + row;
  float *dgor = a->rowbuf + 2 * row, *dger = a->rowbuf + 3 * row;
  const V(shift_t) sh = V(shift_make)(a->strips);
  const vf neg = V(set1)(NEG), zero = V(set1)(0.0f), one = V(set1)(1.0f);
  const vf it = V(set1)(a->inv_tau);
  const vf mxv = V(ld)(a->lane_mx), cv = V(ld)(a->cv);
  const size_t gstep = a->per_cell ? VL : 0;
  /* Every slot is written before it is read, except those of the last two rows, which have
   * no successors: zero the three buffers once. */
  for (size_t k = 0; k < 3 * brow; k += VL) V(st)(a->slots + k, zero);
  vd olo = V(dzero)(), ohi = V(dzero)(), elo = V(dzero)(), ehi = V(dzero)();
  for (int t = T - 1; t >= 0; t--) {
    float *b0 = a->slots + (size_t)(t % 3) * brow;       /* row t */
    float *b1 = a->slots + (size_t)((t + 2) % 3) * brow; /* row t - 1 */
    float *b2 = a->slots + (size_t)((t + 1) % 3) * brow; /* row t - 2 (held row t + 1) */
    const float *Mc = a->M + (size_t)(t + 2) * row, *Xc = a->X + (size_t)(t + 2) * row;
    const float *Mp = Mc - row, *Xp = Xc - row, *Yp = a->Y + (size_t)(t + 1) * row;
    const float *Mpp = Mp - row, *Xpp = Xp - row, *Ypp = Yp - row;
    const float *gor = a->go + (a->per_cell ? (size_t)t * row : 0);
    const float *ger = a->ge + (a->per_cell ? (size_t)t * row : 0);
    if (gmr) V(pack_row)(a, a->ingM, t, -1, 0.0f, gmr);
    /* the rows this loop will need SW_BWD_PREFETCH rows from now (the hardware prefetchers
     * miss these descending streams): M, X, Y of row t - 2 - d and go, ge of row t - d */
    const int tp = t - 2 - SW_BWD_PREFETCH;
    const float *pfM = tp >= -2 ? a->M + (size_t)(tp + 2) * row : NULL;
    const float *pfX = tp >= -2 ? a->X + (size_t)(tp + 2) * row : NULL;
    const float *pfY = tp >= -2 ? a->Y + (size_t)(tp + 2) * row : NULL;
    const float *pfo = a->per_cell && t - SW_BWD_PREFETCH >= 0 ? gor - SW_BWD_PREFETCH * row : NULL;
    const float *pfe = a->per_cell && t - SW_BWD_PREFETCH >= 0 ? ger - SW_BWD_PREFETCH * row : NULL;
    vf lM = V(ld)(b0 + (size_t)w * 6 * VL), lX = V(ld)(b0 + (size_t)w * 6 * VL + VL);
    for (int c = w - 1; c >= 0; c--) {
      const size_t o = (size_t)c * VL;
      const float *sl = b0 + (size_t)c * 6 * VL;
      if (pfM) {
        _mm_prefetch((const char *)(pfM + o), _MM_HINT_T0);
        _mm_prefetch((const char *)(pfX + o), _MM_HINT_T0);
        _mm_prefetch((const char *)(pfY + o), _MM_HINT_T0);
      }
      if (pfo) {
        _mm_prefetch((const char *)(pfo + o), _MM_HINT_T0);
        _mm_prefetch((const char *)(pfe + o), _MM_HINT_T0);
      }
      const vf eV = V(ew)(V(ld)(Mc + o), mxv, it);
      const vf gm = gmr ? V(ld)(gmr + o) : zero;
      const vf EM = V(add)(V(add)(V(add)(V(add)(gm, V(mul)(eV, cv)), V(ld)(sl)), lM),
                           V(ld)(sl + 3 * VL));
      const vf EX = V(add)(V(add)(V(ld)(sl + VL), lX), V(ld)(sl + 4 * VL));
      const vf EY = V(add)(V(ld)(sl + 2 * VL), V(ld)(sl + 5 * VL));
      const vf Mu = V(ld)(Mp + o), Xu = V(ld)(Xp + o), Yu = V(ld)(Yp + o);
      vf Md, Xd, Yd, Ml, Xl;
      if (c > 0) {
        Md = V(ld)(Mp + o - VL), Xd = V(ld)(Xp + o - VL), Yd = V(ld)(Yp + o - VL);
        Ml = V(ld)(Mc + o - VL), Xl = V(ld)(Xc + o - VL);
      } else {
        Md = V(shup)(&sh, V(ld)(Mpp + row - VL), neg);
        Xd = V(shup)(&sh, V(ld)(Xpp + row - VL), neg);
        Yd = V(shup)(&sh, V(ld)(Ypp + row - VL), neg);
        Ml = V(shup)(&sh, V(ld)(Mp + row - VL), neg);
        Xl = V(shup)(&sh, V(ld)(Xp + row - VL), neg);
      }
      const vf go = V(ld)(gor + c * gstep), ge = V(ld)(ger + c * gstep);
      /* M: smax(0, Md, Xd, Yd); the sources' exps from the network's (see s_smax4z_net) */
      const V(net4) n4 = V(smax4z_net)(Md, Xd, Yd, it);
      const vmask h12 = V(lt)(n4.h1, n4.h2), bc = V(lt)(Xd, Yd);
      const vf eh1 = V(sel)(h12, n4.em2, one), eh2 = V(sel)(h12, one, n4.em2);
      const vf q = V(mul)(EM, V(div)(one, n4.s));
      const vf cMM = V(mul)(q, V(sel)(V(lt)(zero, Md), eh1, n4.el1));
      const vf cMX = V(mul)(q, V(sel)(bc, n4.el2, eh2)), cMY = V(mul)(q, V(sel)(bc, eh2, n4.el2));
      /* X: smax(Ml - go, Xl - ge) */
      const vf xa = V(sub)(Ml, go), xb = V(sub)(Xl, ge);
      const vf xe = V(ew)(V(min)(xa, xb), V(max)(xa, xb), it);
      const vf qx = V(mul)(EX, V(div)(one, V(add)(one, xe))), qxe = V(mul)(qx, xe);
      const vmask xge = V(ge)(xa, xb);
      const vf cXM = V(sel)(xge, qx, qxe), cXX = V(sel)(xge, qxe, qx);
      /* Y: smax(Mu - go, Xu - go, Yu - ge) */
      const vf ya = V(sub)(Mu, go), yb = V(sub)(Xu, go), yc = V(sub)(Yu, ge);
      const V(net3) n3 = V(smax3_net)(ya, yb, yc, it);
      const vmask hc = V(lt)(n3.h, yc), ab = V(lt)(ya, yb);
      const vf eh = V(sel)(hc, n3.emid, one), ec = V(sel)(hc, one, n3.emid);
      const vf qy = V(mul)(EY, V(div)(one, n3.s));
      const vf cYM = V(mul)(qy, V(sel)(ab, n3.el, eh)), cYX = V(mul)(qy, V(sel)(ab, eh, n3.el));
      const vf cYY = V(mul)(qy, ec);
      const vf dgo = V(sub)(zero, V(add)(cXM, V(add)(cYM, cYX)));
      const vf dge = V(sub)(zero, V(add)(cXX, cYY));
      V(st)(dsr + o, EM);
      if (a->per_cell) {
        V(st)(dgor + o, dgo);
        V(st)(dger + o, dge);
      } else {
        V(dacc)(&olo, &ohi, dgo);
        V(dacc)(&elo, &ehi, dge);
      }
      float *u = b1 + (size_t)c * 6 * VL;
      V(st)(u + 3 * VL, cYM);
      V(st)(u + 4 * VL, cYX);
      V(st)(u + 5 * VL, cYY);
      if (c > 0) {
        float *d = b1 + (size_t)(c - 1) * 6 * VL;
        V(st)(d, cMM);
        V(st)(d + VL, cMX);
        V(st)(d + 2 * VL, cMY);
        lM = cXM, lX = cXX;
      } else {
        float *d = b2 + (size_t)(w - 1) * 6 * VL, *l = b1 + (size_t)w * 6 * VL;
        V(st)(d, V(shdn)(&sh, cMM));
        V(st)(d + VL, V(shdn)(&sh, cMX));
        V(st)(d + 2 * VL, V(shdn)(&sh, cMY));
        V(st)(l, V(shdn)(&sh, cXM));
        V(st)(l + VL, V(shdn)(&sh, cXX));
      }
    }
    if (a->any_dS) V(unpack_row)(a, a->outdS, t, -1, dsr);
    if (a->any_dgo) V(unpack_row)(a, a->outdgo, t, -1, dgor);
    if (a->any_dge) V(unpack_row)(a, a->outdge, t, -1, dger);
  }
  if (!a->per_cell) {
    V(dst)(a->lane_dgo, olo, ohi);
    V(dst)(a->lane_dge, elo, ehi);
  }
}

#undef VL
#undef VTARGET
#undef VHELP
#undef vf
#undef vi
#undef vmask
#undef vd
#undef V
#undef SW_CAT
#undef SW_CAT_
#endif /* SW_TEMPLATE */
