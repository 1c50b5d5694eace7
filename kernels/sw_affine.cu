/* sw_affine.cu — the smoothed Smith-Waterman alignment with affine gaps on the GPU: forward
 * (M, X, Y tables and V) and exact backward (dS, dgo, dge) for many pairs of different
 * lengths (1..1024 each) in one launch.  Semantics and gradient formulas: include/lac/align.h,
 * docs SW_AFFINE.md §1-2; the oracle is lib/align/sw_ref.c.  Layout of the packed buffers:
 * kernels.h (lac_cuda_sw_dims).
 *
 * Design.  One warp (one 32-thread block) per pair.  The pair's columns are cut into bands of
 * 32*W columns, W = 1, 2, 4 or 8 chosen per pair from m (the smallest W with 32*W >= m, else
 * the largest allowed, 8 or 4 (lac_cuda_sw_opts), with several bands); bands run one after
 * the other, so no pair is padded beyond its own lengths.  In a band, lane l owns
 * the strip of W columns [band + l*W, band + l*W + W) and sweeps the rows: the forward runs
 * lane l on row s - l at step s (a wavefront along the anti-diagonal of the strips), computes
 * its W cells left to right and passes its last column's M, X, Y of the row to lane l+1 with
 * one __shfl_up_sync each (lane 0 of a later band reads them from the M, X, Y tables the
 * earlier band wrote).  The backward runs the mirror image: rows bottom-up, lanes right to
 * left, cells of a strip right to left; it recomputes every weight from the stored M, X, Y
 * with the forward's instruction sequence (never the ratio trick), keeps the adjoints that
 * row i+1 pushes into row i in registers (per column: E_M, E_X, E_Y parts), and passes the
 * left push (2 values) and the diagonal push (3 values) of its strip's first cell to lane
 * l-1 with __shfl_down_sync (lane 31 of an earlier band gets them from a per-pair scratch
 * that lane 0 of the later band wrote).  No block barriers; __syncwarp between bands.
 * Global loads of the next row are issued one step ahead (software prefetch).  Launches of
 * many pairs (lac_cuda_sw_opts.skew_min_pairs, default 512) keep X and Y in the warp's order
 * (xy_at) so that a warp's stores and loads of them are contiguous; each kernel is built for
 * both orders (template SK), and the row-major build is the kernel as it was before that
 * order.
 * The order LAC_CUDA_SW_CELLS_XEDGE (SK 3) stores X only at every 8th column of the pairs
 * wider than 128 columns; the backward recomputes the rest (xe_at, BwdLane's XE).
 * LAC_CUDA_SW_CELLS_XYEDGE (SK 4) also stores Y only at every 4th row, and the backward
 * recomputes it in blocks of rows in shared memory (yc_at, BwdLane's YC).
 * Where one warp per pair leaves the SMs short of warps (few pairs, or up to 1024 pairs of
 * 512 columns or more with scalar gaps) the same lanes run on several warps per pair, their
 * bands at the same time (sw_launch_warps, lac_cuda_sw_opts.warps; "several warps per pair"
 * below).
 *
 * Numerics: smax_t(v) = mx + t ln2 log2(sum_k 2^((v_k - mx) log2e / t)) with the ex2 / lg2 /
 * rcp approximations of the SFU (ftz; relative error ~2^-22); the two-term smax of X is
 * written as mx + t ln2 log2(1 + 2^(-|a - b| log2e / t)).  V = mx + t ln(sum exp((M - mx)/t))
 * is summed on line during the wavefront: each lane keeps a reference max (moved, with the
 * lane's double sum rescaled by an exact double exp2, only when its M passes it by 32 t)
 * and adds its row's terms in double; the lanes' sums are rescaled to the pair's max mx and
 * reduced in double.  No second pass over M.  The backward's weight of M[i,j] in V is
 * 2^((M - mx) log2e / t) / sum (vstat).  Scalar penalty gradients are summed in double.  The sentinel -1e30 stands for -inf as in the
 * reference; |S|, |go|, |ge| must stay below 1e20 so that -1e30 - pen rounds to -1e30.
 *
 * The same per-lane step functions (__host__ __device__) also run on the CPU in
 * lac_cuda_sw_emulate_*: 32 emulated lanes in lock step, the shuffles replaced by array
 * copies and exp2f / log2f / 1/x in place of the SFU.  The tests run that emulation against
 * the double reference where there is no GPU, so the indexing, masking, band and scratch
 * logic is proven on the CPU; the GPU run proves the intrinsics and the warp mechanics.
 */
#include <cuda_runtime.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "kernels.h"

#define SW_NEG (-1e30f)
#define SW_FULL 0xffffffffu
#define SW_HD __host__ __device__ __forceinline__
#ifdef __CUDA_ARCH__
#define SW_UNROLL _Pragma("unroll")
#else
#define SW_UNROLL /* the host compiler's own choice */
#endif
/* The launch settings (lac_cuda_sw_opts, passed with every launch; no process-wide state).
 * Their defaults (lac_cuda_sw_default_opts):
 * - the largest strip width of each direction, 8 (or 4).  Registers (nvcc 13.0 -Xptxas -v,
 *   sm_90, scalar / per-cell gaps): forward 80 / 128 at 8, 64 / 80 at 4; backward 241 / 255
 *   at 8, 128 / 155 at 4; no spills, no stack (the row-major builds; in the warp's order:
 *   forward 96 / 128 at 8, 64 / 96 at 4; backward 255 / 255 at 8, 128 / 163 at 4);
 * - row-major launches of at least 512 pairs store X and Y in the warp's order (xy_at),
 *   smaller ones row-major.  Measured on one H200, same call (docs/BENCHMARKS.md): at 1024
 *   and 4096 pairs, where Nsight Compute showed the kernels bound by L2 requests (L2 80 %,
 *   DRAM 36 %), the warp's order made forward + backward 1.2-1.7x faster (per-cell gaps,
 *   T = 64 and 256; scalar gaps 0.97-1.7x); at 8 and 256 pairs, where one or two warps per
 *   SM wait on their own instruction latency, its address arithmetic made it 0.8-0.95x;
 * - warps per pair (mw_plan) 0 = by the launch's shape (sw_launch_warps), else 1 (the
 *   one-warp kernels), 2, 4 or 8. */
#define SW_SKEW_PAIRS 512

namespace {

/* ---------------------------------------------------------------- math */

SW_HD float sw_ex2(float x) {
#ifdef __CUDA_ARCH__
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
#else
  return exp2f(x);
#endif
}

SW_HD float sw_lg2(float x) {
#ifdef __CUDA_ARCH__
  float y;
  asm("lg2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
#else
  return log2f(x);
#endif
}

SW_HD float sw_rcp(float x) {
#ifdef __CUDA_ARCH__
  float y;
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
#else
  return 1.0f / x;
#endif
}

/* Smooth maxima.  One core per arity computes the max mx, the terms' exponentials
 * e_k = 2^((v_k - mx) inv) and their sum s; the forward's value is mx + tl2 log2(s), the
 * backward's weights are e_k / s: the backward's weights are exactly the terms the forward's
 * value summed.  inv = log2(e) / tau, tl2 = tau ln 2.  An all-sentinel max has weights 0
 * (the backward tests mx <= sentinel).  The two-term max is written with one exponential:
 * the larger term's is 1, the other's 2^(-|a - b| inv). */
struct Sm2 {
  float mx, e, s;
  bool ga; /* a >= b: e belongs to b */
};
SW_HD Sm2 sm2_core(float a, float b, float inv) {
  Sm2 r;
  r.mx = fmaxf(a, b);
  r.e = sw_ex2(-fabsf(a - b) * inv);
  r.s = 1.0f + r.e;
  r.ga = a >= b;
  return r;
}
SW_HD float smax2(float a, float b, float inv, float tl2) {
  const Sm2 c = sm2_core(a, b, inv);
  return fmaf(tl2, sw_lg2(c.s), c.mx);
}

struct Sm3 {
  float mx, ea, eb, ec, s;
};
SW_HD Sm3 sm3_core(float a, float b, float c, float inv) {
  Sm3 r;
  r.mx = fmaxf(fmaxf(a, b), c);
  r.ea = sw_ex2((a - r.mx) * inv);
  r.eb = sw_ex2((b - r.mx) * inv);
  r.ec = sw_ex2((c - r.mx) * inv);
  r.s = (r.ea + r.eb) + r.ec;
  return r;
}
SW_HD float smax3(float a, float b, float c, float inv, float tl2) {
  const Sm3 r = sm3_core(a, b, c, inv);
  return fmaf(tl2, sw_lg2(r.s), r.mx);
}

/* smax(0, b, c, d): the match state's start term is the constant 0 (mx >= 0 > sentinel) */
SW_HD Sm3 sm4z_core(float b, float c, float d, float inv) {
  Sm3 r;
  r.mx = fmaxf(fmaxf(0.0f, b), fmaxf(c, d));
  const float e0 = sw_ex2((0.0f - r.mx) * inv);
  r.ea = sw_ex2((b - r.mx) * inv);
  r.eb = sw_ex2((c - r.mx) * inv);
  r.ec = sw_ex2((d - r.mx) * inv);
  r.s = (e0 + r.ea) + (r.eb + r.ec);
  return r;
}
SW_HD float smax4z(float b, float c, float d, float inv, float tl2) {
  const Sm3 r = sm4z_core(b, c, d, inv);
  return fmaf(tl2, sw_lg2(r.s), r.mx);
}

/* The weights of one cell's three maxima (M: of M, X, Y at the diagonal; X: of M and X at
 * the left; Y: of M, X, Y above), with one reciprocal for the three sums (s4 s2 s3 <= 64). */
struct CellW {
  float mM, mX, mY, xM, xX, yM, yX, yY;
};
SW_HD CellW cell_weights(const Sm3 &m, const Sm2 &x, const Sm3 &y) {
  const float p23 = x.s * y.s;
  const float R = sw_rcp(m.s * p23);
  const float r4 = R * p23;
  const float r2 = x.mx <= SW_NEG ? 0.0f : R * (m.s * y.s);
  const float r3 = y.mx <= SW_NEG ? 0.0f : R * (m.s * x.s);
  CellW w;
  w.mM = m.ea * r4;
  w.mX = m.eb * r4;
  w.mY = m.ec * r4;
  const float er = x.e * r2;
  w.xM = x.ga ? r2 : er;
  w.xX = x.ga ? er : r2;
  w.yM = y.ea * r3;
  w.yX = y.eb * r3;
  w.yY = y.ec * r3;
  return w;
}

/* ---------------------------------------------------------------- strips in memory */

/* W consecutive floats at p (aligned to min(W, 4) floats: kernels.h's layout rules) */
template <int W> SW_HD void ldw(const float *p, float *v) {
  if constexpr (W >= 4) {
SW_UNROLL
    for (int q = 0; q < W / 4; q++) {
      const float4 t = reinterpret_cast<const float4 *>(p)[q];
      v[4 * q] = t.x;
      v[4 * q + 1] = t.y;
      v[4 * q + 2] = t.z;
      v[4 * q + 3] = t.w;
    }
  } else if constexpr (W == 2) {
    const float2 t = *reinterpret_cast<const float2 *>(p);
    v[0] = t.x;
    v[1] = t.y;
  } else {
    v[0] = p[0];
  }
}
template <int W> SW_HD void stw(float *p, const float *v) {
  if constexpr (W >= 4) {
SW_UNROLL
    for (int q = 0; q < W / 4; q++)
      reinterpret_cast<float4 *>(p)[q] =
          make_float4(v[4 * q], v[4 * q + 1], v[4 * q + 2], v[4 * q + 3]);
  } else if constexpr (W == 2) {
    *reinterpret_cast<float2 *>(p) = make_float2(v[0], v[1]);
  } else {
    p[0] = v[0];
  }
}

SW_HD int sw_pick_w(int m, int wmax) {
  int w = m <= 32 ? 1 : m <= 64 ? 2 : m <= 128 ? 4 : 8;
  return w < wmax ? w : wmax;
}

/* ---------------------------------------------------------------- one pair's view */

struct Pair {
  int n, m, ld;
  int skew;        /* the warp's order (xy_at): 1 X and Y, 2 every per-cell buffer; 0 none */
  int xe;          /* X kept at every 8th column only (xe_at; order LAC_CUDA_SW_CELLS_XEDGE) */
  int yc, ycns;    /* Y kept at checkpoint rows only, and the checkpoint slots per band (yc_at;
                      order LAC_CUDA_SW_CELLS_XYEDGE) */
  int wl, wlg;     /* strip width of that order, sw_pick_w(m, 8), and its log2 */
  float inv, tl2;  /* log2(e) / tau, tau ln 2 */
  float vthr;      /* 32 tau: the forward's V sum rescales when M passes its max by this */
  float go, ge;    /* scalar penalties (per_cell = 0) */
  /* every per-cell pointer below is already offset to the pair's block */
  const float *S, *goc, *gec, *gM;
  float *M, *X, *Y;
  float gV, vmx, vinv; /* backward: gradient of V, max M, 1 / sum exp */
  float *dS, *dgo, *dge, *work;
  int wk; /* warps per pair (several-warp kernels, mw_plan), else 1 */
};

/* lanes of band b that own at least one column */
SW_HD int lanes_used(int m, int b, int W) {
  const int left = m - b * 32 * W;
  const int cols = left < 32 * W ? left : 32 * W;
  return (cols + W - 1) / W;
}

/* ---------------------------------------------------------------- several warps per pair
 *
 * Small launches leave most of the GPU idle, and one warp per pair waits on its own
 * instruction latency (docs/BENCHMARKS.md; the launches' default picks K from their shape,
 * sw_launch_warps).  The several-warp kernels give each pair K warps
 * (a block of 32 K threads, lac_cuda_sw_opts.warps): band b runs on warp b mod K (backward:
 * the bands in the reverse order), and the warps run their bands at the same time, band b
 * SW_MW_LEAD steps behind band b - 1, all warps stepping together with one block barrier per
 * step.  The hand-over between bands is the one-warp kernels' own, through global memory: the
 * forward's lane 0 reads the earlier band's last column from the M, X, Y tables, the
 * backward's last lane reads the later band's pushes from the scratch; the barrier makes the
 * writes of earlier steps visible to the block.
 *
 * Why the lead is enough.  Forward: lane 0 of band b reads row s + 1 of column c0 - 1 at its
 * step s (the prefetch); lane 31 of band b - 1 writes that row at its step s + 32.  Backward:
 * lane Lu - 1 of band b reads the pushes of row n - 2 - s at its step s; lane 0 of band
 * b + 1 (Lu' <= 32 lanes) writes them at its step s + Lu'.  Both are steps strictly earlier
 * on the block's clock when bands start SW_MW_LEAD = 33 steps apart.  The scratch keeps the
 * one-warp kernels' two slots (band b writes slot b & 1): every band sweeps its rows
 * bottom-up one row a step, reads row r of the later band's pushes at its step n - 2 - r and
 * writes its own row r at a step >= n - 1 - r, and a band starts after the band it reads
 * from; so whatever band next writes a slot's row r does so after that row's reader read
 * it.
 *
 * The plan.  A band lasts at most L = n + 31 steps; band q (in the order of the direction)
 * is round r = q / K on warp w = q mod K and starts at step r Lr + SW_MW_LEAD w with
 * Lr = max(L, SW_MW_LEAD K): a warp's next band starts after its last one ended, and band
 * q starts at least SW_MW_LEAD steps after band q - 1 (across a round boundary
 * Lr - SW_MW_LEAD (K - 1) >= SW_MW_LEAD). */
#define SW_MW_LEAD 33
#define SW_MW_MAX 8 /* warps per pair at most */

struct MwPlan {
  int K, Lr, total; /* warps, round length, steps of the whole pair */
};
SW_HD MwPlan mw_plan(int n, int nb, int K) {
  MwPlan pl;
  pl.K = K;
  const int L = n + 31;
  pl.Lr = L > SW_MW_LEAD * K ? L : SW_MW_LEAD * K;
  const int q = nb - 1; /* the last band ends last */
  pl.total = (q / K) * pl.Lr + SW_MW_LEAD * (q % K) + L;
  return pl;
}
/* A warp's clock: the band it runs (in the direction's order, q = w, w + K, ...) and its own
 * step s in that band (s < 0 before the warp's first band).  At block step t it reads
 * q = w + K floor(u / Lr), s = u mod Lr with u = t - SW_MW_LEAD w; mw_tick moves it to
 * t + 1 without a division.  The caller checks q < nb and s < the band's length. */
struct MwClock {
  int q, s;
};
SW_HD MwClock mw_start(int w) {
  MwClock c;
  c.q = w;
  c.s = -SW_MW_LEAD * w;
  return c;
}
SW_HD void mw_tick(const MwPlan &pl, MwClock &c) {
  if (++c.s == pl.Lr) {
    c.s = 0;
    c.q += pl.K;
  }
}
/* strips for K warps: the narrowest width whose bands are at most K (capped at wmax) */
SW_HD int mw_pick_w(int m, int K, int wmax) { return sw_pick_w((m + K - 1) / K, wmax); }

/* ---------------------------------------------------------------- the X and Y tables
 *
 * X and Y are the kernels' own (only the backward reads them), so they are stored for the
 * warp rather than row-major: cell (i, c) of band b = c / (32 wl), lane l and strip offset k
 * of the default strips (wl = sw_pick_w(m, 8), whatever width a launch is tuned to) lives at
 * row (i + l) mod n and column c, except that in a full band of wl = 8 the column is
 * b*256 + (k/4)*128 + 4l + k%4.  At a step of the wavefront every lane of a warp of width wl
 * is on row i = s - l of its strip (backward: the mirror), so the warp's 32 strips of one
 * table share one stored row: each float4 (or float2, float) the warp moves is one
 * contiguous run of 512 bytes (or 256, 128) instead of 32 scattered pieces of rows.  The
 * map is a bijection of the pair's n x ld block (rows shift by a fixed l per column; the
 * column map permutes within a full band).  A launch tuned to width 4 where wl = 8 moves
 * one float4 per strip and table. */
SW_HD bool xy_permuted(const Pair &P, int c) { /* c's band is a full band of wl = 8 */
  return P.wl == 8 && ((c >> 8) + 1) * 256 <= P.ld;
}
/* (the row-major order, P.skew = 0, is addressed by its callers directly) */
SW_HD size_t xy_at(const Pair &P, int i, int c) {
  const int l = (c >> P.wlg) & 31, k = c & (P.wl - 1);
  int r = i + l;
  if (r >= P.n) r -= P.n;
  if (r >= P.n) r %= P.n; /* n < 32 */
  const int col = xy_permuted(P, c) ? (c & ~255) + ((k >> 2) << 7) + 4 * l + (k & 3) : c;
  return (size_t)r * P.ld + col;
}

/* the W cells (i, c0 .. c0 + W - 1) of a strip, c0 a multiple of W.  W <= wl (a launch's
 * width is wl or, tuned, 4 where wl is 8), so the strip lies in one strip of the layout: its
 * cells are contiguous, or two float4 128 floats apart (W = 8 in a permuted band). */
template <int W> SW_HD void xy_store(const Pair &P, float *T, int i, int c0, const float *v) {
  const size_t a = xy_at(P, i, c0);
  if constexpr (W == 8) {
    if (xy_permuted(P, c0)) {
      stw<4>(T + a, v);
      stw<4>(T + a + 128, v + 4);
      return;
    }
  }
  stw<W>(T + a, v);
}
template <int W> SW_HD void xy_load(const Pair &P, const float *T, int i, int c0, float *v) {
  const size_t a = xy_at(P, i, c0);
  if constexpr (W == 8) {
    if (xy_permuted(P, c0)) {
      ldw<4>(T + a, v);
      ldw<4>(T + a + 128, v + 4);
      return;
    }
  }
  ldw<W>(T + a, v);
}

/* The caller's per-cell buffers (S, go, ge, gM in; M, dS, dgo, dge out): row-major, or with
 * P.skew = 2 (order LAC_CUDA_SW_CELLS) in the X and Y tables' order, so that every per-cell
 * access of a warp is contiguous.  Each takes the row-major offset q of cell (i, c) too, which
 * the row-major order uses as it is (the kernels' arithmetic for that order unchanged). */
SW_HD size_t cell_at(const Pair &P, size_t q, int i, int c) {
  return P.skew == 2 ? xy_at(P, i, c) : q;
}
template <int W>
SW_HD void cell_load(const Pair &P, const float *T, size_t q, int i, int c0, float *v) {
  if (P.skew == 2) xy_load<W>(P, T, i, c0, v);
  else ldw<W>(T + q, v);
}
template <int W>
SW_HD void cell_store(const Pair &P, float *T, size_t q, int i, int c0, const float *v) {
  if (P.skew == 2) xy_store<W>(P, T, i, c0, v);
  else stw<W>(T + q, v);
}

/* the gaps of cell (i, c): per cell, or the pair's */
SW_HD void cell_gaps(const Pair &P, int i, int c, float &g, float &e) {
  if (P.goc) {
    const size_t q = cell_at(P, (size_t)i * P.ld + c, i, c);
    g = P.goc[q];
    e = P.gec[q];
  } else {
    g = P.go;
    e = P.ge;
  }
}

/* The X edges (order LAC_CUDA_SW_CELLS_XEDGE, pairs wider than 128 columns, Pair.xe).  X runs
 * along the rows: X(i, j) = smax(M(i, j-1) - go(i, j), X(i, j-1) - ge(i, j)), so a strip's X
 * follows from its row of M and gaps and the one X at its left.  The forward then stores X only
 * at the columns 8t + 7 (the last of every 8), and the backward recomputes the others from M
 * one step before it needs them, with the forward's own instructions (bit for bit the same
 * values): 4 of the 60 bytes a cell that the kernels move with per-cell gaps become 1.  Edge t
 * of row i lives in the pair's X block at row (i + t mod 32) mod n of ld / 8 floats, so that the
 * 32 lanes of a warp with strips of 8 (at rows s - l, edges 32 b + l) store one contiguous run
 * of 128 bytes at every step, and load one in the backward. */
SW_HD size_t xe_at(const Pair &P, int i, int t) {
  int r = i + (t & 31);
  if (r >= P.n) r -= P.n;
  if (r >= P.n) r %= P.n; /* n < 32 */
  return (size_t)r * (size_t)(P.ld >> 3) + (size_t)t;
}

/* X at (i, c0 - 1), c0 > 0: the stored edge where c0 is a multiple of 8 (strips of 8 and every
 * band's first lane); strips of 1, 2 or 4 (tuned, or several warps per pair) recompute it from
 * the edge before, with loads that wait */
SW_HD float xe_left(const Pair &P, int i, int c0) {
  const int e0 = (c0 & ~7) - 1;
  float x = e0 >= 0 ? P.X[xe_at(P, i, e0 >> 3)] : SW_NEG;
  const size_t row = (size_t)i * P.ld;
  for (int c = e0 + 1; c < c0; c++) {
    const float am = c > 0 ? P.M[cell_at(P, row + c - 1, i, c - 1)] : SW_NEG;
    float g, e;
    cell_gaps(P, i, c, g, e);
    x = smax2(am - g, x - e, P.inv, P.tl2);
  }
  return x;
}

/* The Y checkpoints (order LAC_CUDA_SW_CELLS_XYEDGE, SK 4: the X edges, and Y kept only at
 * checkpoint rows in the pairs with the X edges whose checkpoint table fits in their Y block,
 * Pair.yc).  Y runs down the columns, so the backward, which sweeps the rows bottom-up, cannot
 * recompute it on its way as it does X; it recomputes it in blocks of SW_YC_R rows, top-down
 * from a stored row, into shared memory (BwdLane's YC).  The blocks follow the backward's
 * wavefront: lane l of band b (Lu lanes used) starts one at every step s = 0, R, 2R, ... and
 * takes rows i - R .. i, i = n - 1 - s + Lu - 1 - l (its rows for the next R steps, and the
 * row above them), with row i - R from the table.  So strip l's checkpoint rows are those
 * with i + l + rho = 0 (mod R), rho = -(n + Lu - 2) mod R, and the forward, which runs lane l
 * on row s - l, stores them at the steps with s + rho = 0 (mod R) in every lane of the warp
 * at once, into slot u = (i + l + rho) / R.  A slot holds Y of the strip's 8 columns and of
 * the column at its left (the diagonal of the strip's first cell, another strip's column,
 * whose checkpoint rows differ): 9 runs of 32 floats, one per column, lane l at position l,
 * so that a warp's stores and loads of a slot are 9 runs of 128 bytes. */
#define SW_YC_R 4
SW_HD int yc_slots(int n) { return (n + 33) / SW_YC_R + 1; }
SW_HD int yc_rho(int n, int Lu) { return (SW_YC_R - (n + Lu - 2) % SW_YC_R) % SW_YC_R; }
/* the first of the 9 floats of slot u of lane l in band b (the others 32 floats apart) */
SW_HD size_t yc_at(const Pair &P, int b, int u, int lane) {
  return (size_t)(b * P.ycns + u) * 288 + (size_t)lane;
}

/* ---------------------------------------------------------------- forward lane
 *
 * At step s of band b, lane l computes row i = s - l of its strip, columns
 * c0 .. c0 + W - 1 with c0 = b*32*W + l*W.  Registers: the strip's previous row (u*), the
 * left neighbour of the current row (l*: M, X, Y at (i, c0 - 1)) and of the previous row
 * (d*: at (i - 1, c0 - 1), the diagonal of the strip's first cell), the inputs of the
 * current row and of the next (prefetched). */
template <int W, bool PC, bool YC = false> struct FwdLane {
  static_assert(!YC || W == 8, "the Y checkpoints are laid out for strips of 8");
  float uM[W], uX[W], uY[W];
  float lM, lX, lY, dM, dX, dY;
  float cS[W], cG[W], cE[W], nS[W], nG[W], nE[W];
  float bM, bX, bY; /* lane 0 of a band > 0: (i + 1, c0 - 1) from the tables, prefetched */
  float bG, bE;     /* YC, lane 0 of a band > 0: the gaps at (i + 1, c0 - 1), prefetched */
  int rho;          /* YC: the band's checkpoint phase (yc_rho) */
  float vmx;        /* V: this lane's reference max (within vthr of its in-range M's max) */
  double vsum;      /* sum of 2^((M - vmx) inv) over this lane's in-range cells */

  SW_HD void begin_pair() {
    vmx = SW_NEG;
    vsum = 0.0;
  }

  /* row: the row-major offset of (i, c0) */
  SW_HD void load_in(const Pair &P, size_t row, int i, int c0, float *s, float *g, float *e) {
    cell_load<W>(P, P.S, row, i, c0, s);
    if (PC) {
      cell_load<W>(P, P.goc, row, i, c0, g);
      cell_load<W>(P, P.gec, row, i, c0, e);
    }
  }

  SW_HD void begin_band(const Pair &P, int b, int lane) {
SW_UNROLL
    for (int k = 0; k < W; k++) uM[k] = uX[k] = uY[k] = SW_NEG;
    lM = lX = lY = dM = dX = dY = SW_NEG;
    bM = bX = bY = SW_NEG;
    const int c0 = b * 32 * W + lane * W;
    if (lane == 0 && b > 0) { /* row 0's left neighbour */
      bM = P.M[cell_at(P, (size_t)(c0 - 1), 0, c0 - 1)];
      const size_t a = P.skew ? xy_at(P, 0, c0 - 1) : (size_t)(c0 - 1);
      bX = P.xe ? P.X[xe_at(P, 0, (c0 - 1) >> 3)] : P.X[a];
      if constexpr (YC) cell_gaps(P, 0, c0 - 1, bG, bE);
      else bY = P.Y[a];
    }
    if constexpr (YC) rho = yc_rho(P.n, lanes_used(P.m, b, W));
    if (c0 < P.m) load_in(P, (size_t)c0, 0, c0, cS, cG, cE); /* row 0 */
  }

  /* rM, rX, rY: lane l-1's last column after step s-1, i.e. (i, c0 - 1) */
  SW_HD void step(const Pair &P, int b, int lane, int s, float rM, float rX, float rY) {
    const int c0 = b * 32 * W + lane * W, i = s - lane;
    if (lane == 0) {
      rM = bM;
      rX = bX;
      if constexpr (YC) /* Y(i, c0 - 1) as lane 31 of band b - 1 computed it: from row i - 1 */
        rY = b > 0 ? smax3(lM - bG, lX - bG, lY - bE, P.inv, P.tl2) : SW_NEG;
      else
        rY = bY;
      if (b > 0 && i + 1 < P.n) {
        const size_t q = (size_t)(i + 1) * P.ld + c0 - 1;
        bM = P.M[cell_at(P, q, i + 1, c0 - 1)];
        const size_t a = P.skew ? xy_at(P, i + 1, c0 - 1) : q;
        bX = P.xe ? P.X[xe_at(P, i + 1, (c0 - 1) >> 3)] : P.X[a];
        if constexpr (YC) cell_gaps(P, i + 1, c0 - 1, bG, bE);
        else bY = P.Y[a];
      } else {
        bM = bX = bY = SW_NEG;
      }
    }
    dM = lM;
    dX = lX;
    dY = lY;
    lM = rM;
    lX = rX;
    lY = rY;
    if (i < 0 || i >= P.n || c0 >= P.m) return;
    const size_t row = (size_t)i * P.ld + c0;
    if (i + 1 < P.n) load_in(P, row + P.ld, i + 1, c0, nS, nG, nE);
    float pm = dM, px = dX, py = dY, am = lM, ax = lX;
SW_UNROLL
    for (int k = 0; k < W; k++) {
      const float g = PC ? cG[k] : P.go, e = PC ? cE[k] : P.ge;
      const float mm = cS[k] + smax4z(pm, px, py, P.inv, P.tl2);
      const float xx = smax2(am - g, ax - e, P.inv, P.tl2);
      const float yy = smax3(uM[k] - g, uX[k] - g, uY[k] - e, P.inv, P.tl2);
      pm = uM[k];
      px = uX[k];
      py = uY[k];
      uM[k] = mm;
      uX[k] = xx;
      uY[k] = yy;
      am = mm;
      ax = xx;
    }
    /* YC: Y at the checkpoint rows only, with the column at the left (stored here, before V:
     * after it, nvcc 13.0 gave the per-cell build 164 registers instead of 128) */
    if constexpr (YC) {
      if ((s + rho) % SW_YC_R == 0) {
        float *y = P.Y + yc_at(P, b, (s + rho) / SW_YC_R, lane);
        y[0] = lY;
SW_UNROLL
        for (int k = 0; k < W; k++) y[32 * (k + 1)] = uY[k];
      }
    }
    /* V, online: exponents relative to a lane max that moves (and rescales the sum, in
     * double) only when M passes it by 32 tau, so terms stay below 2^47 */
    float rmax = SW_NEG;
SW_UNROLL
    for (int k = 0; k < W; k++)
      if (c0 + k < P.m) rmax = fmaxf(rmax, uM[k]);
    if (rmax > vmx + P.vthr) {
      vsum *= exp2(((double)vmx - (double)rmax) * (double)P.inv);
      vmx = rmax;
    }
    float part = 0.0f;
SW_UNROLL
    for (int k = 0; k < W; k++)
      if (c0 + k < P.m) part += sw_ex2((uM[k] - vmx) * P.inv);
    vsum += (double)part;
    cell_store<W>(P, P.M, row, i, c0, uM);
    if (P.xe) { /* X at the columns 8t + 7 only (the last cell of a strip of 8) */
SW_UNROLL
      for (int k = 0; k < W; k++)
        if (W == 8 ? k == 7 : ((c0 + k) & 7) == 7) P.X[xe_at(P, i, (c0 + k) >> 3)] = uX[k];
      if constexpr (!YC) xy_store<W>(P, P.Y, i, c0, uY);
    } else if (P.skew) {
      xy_store<W>(P, P.X, i, c0, uX);
      xy_store<W>(P, P.Y, i, c0, uY);
    } else {
      stw<W>(P.X + row, uX);
      stw<W>(P.Y + row, uY);
    }
SW_UNROLL
    for (int k = 0; k < W; k++) {
      cS[k] = nS[k];
      if (PC) {
        cG[k] = nG[k];
        cE[k] = nE[k];
      }
    }
  }
};

/* ---------------------------------------------------------------- backward lane
 *
 * At step s of band b (Lu lanes used), lane l computes row i = n - 1 - s + (Lu - 1 - l),
 * columns c0 + W - 1 down to c0.  Registers: the tables of rows i (c*), i - 1 (p*) and
 * i - 2 (q*, prefetched) at columns c0 - 1 .. c0 + W - 1 (index 0 = c0 - 1), the inputs of
 * rows i and i - 1, and a*[k]: what row i + 1 pushed into cell (i, c0 + k) (diagonal and up
 * pushes), rewritten during the row with what row i pushes into row i - 1.
 * XE (the X edges, xe_at): the prefetch loads of X only qX[0] (xe_left) and, with per-cell
 * gaps, go and ge two rows ahead (q*) with the tables; at step i the lane recomputes row
 * i - 1's X (xe_row) from its M, its left X and its gaps, which arrived a step before.
 * YC (the Y checkpoints, yc_at; with XE, strips of 8): no prefetch into registers; every
 * SW_YC_R steps the lane loads M and the gaps of its next block of rows and recomputes their
 * X and Y into its part of the warp's shared memory (yc_block), and each step reads its two
 * rows from there (yc_read). */
template <int W, bool PC, bool XE = false, bool YC = false> struct BwdLane {
  static_assert(!YC || (XE && W == 8), "the Y checkpoints go with the X edges, strips of 8");
  static constexpr int WG = XE && PC ? W : 1;
  /* YC: a row of the ring in shared memory, one float per lane every 32 (rg = the ring +
   * lane): M, X, Y at c0 - 1 .. c0 + W - 1, then (per-cell gaps) go, ge at c0 .. c0 + W - 1.
   * go and ge at c0 - 1 wait in the first two Y slots (OG0, OE0) until yc_block computes Y
   * (43 floats a row with per-cell gaps: 27.5 KB a warp, 8 warps an SM as the registers) */
  enum { OX = W + 1, OY = 2 * W + 2, OG = 3 * W + 3, OE = 4 * W + 3, OG0 = OY, OE0 = OY + 1 };
  static constexpr int RE = 3 * (W + 1) + (PC ? 2 * W : 0);
  static constexpr int RING = (SW_YC_R + 1) * RE * 32; /* floats per warp */
  float *rg;
  int rho; /* YC: the band's checkpoint phase (yc_rho) */
  float cM[W + 1], cX[W + 1], cY[W + 1];
  float pM[W + 1], pX[W + 1], pY[W + 1];
  float qM[W + 1], qX[W + 1], qY[W + 1];
  float aM[W], aX[W], aY[W];
  float cG[W], cE[W], cQ[W], nG[W], nE[W], nQ[W]; /* go, ge, gM of rows i and i - 1 */
  float pG[WG], pE[WG], qG[WG], qE[WG];           /* XE: go, ge of rows i - 1 and i - 2 */
  float sLM, sLX, sDM, sDX, sDY; /* sent: left and diagonal pushes of cell (i, c0) */
  float bL[5];                   /* lane Lu-1 of a band before the last: from the scratch */
  double sgo, sge;               /* scalar penalties: this lane's sums */

  SW_HD void begin_pair() { sgo = sge = 0.0; }

  SW_HD void load_tab(const Pair &P, int i, int c0, float *tM, float *tX, float *tY) {
    if (i < 0) {
SW_UNROLL
      for (int k = 0; k <= W; k++) tM[k] = tX[k] = tY[k] = SW_NEG;
      return;
    }
    const size_t row = (size_t)i * P.ld + c0;
    if (c0 > 0) {
      tM[0] = P.M[cell_at(P, row - 1, i, c0 - 1)];
      const size_t a = P.skew ? xy_at(P, i, c0 - 1) : row - 1;
      if constexpr (XE) /* the stored edge (strips of 8), else from the edge before */
        tX[0] = W == 8 ? P.X[xe_at(P, i, (c0 - 1) >> 3)] : xe_left(P, i, c0);
      else
        tX[0] = P.X[a];
      tY[0] = P.Y[a];
    } else {
      tM[0] = tX[0] = tY[0] = SW_NEG;
    }
    cell_load<W>(P, P.M, row, i, c0, tM + 1);
    if constexpr (XE) { /* tX[1..W]: xe_row, when the row's gaps are in */
      xy_load<W>(P, P.Y, i, c0, tY + 1);
    } else if (P.skew) {
      xy_load<W>(P, P.X, i, c0, tX + 1);
      xy_load<W>(P, P.Y, i, c0, tY + 1);
    } else {
      ldw<W>(P.X + row, tX + 1);
      ldw<W>(P.Y + row, tY + 1);
    }
  }

  SW_HD void load_in(const Pair &P, int i, int c0, float *g, float *e, float *q) {
    const size_t row = (size_t)i * P.ld + c0;
    if (PC && !XE) {
      cell_load<W>(P, P.goc, row, i, c0, g);
      cell_load<W>(P, P.gec, row, i, c0, e);
    }
    if (P.gM) {
      cell_load<W>(P, P.gM, row, i, c0, q);
    } else {
SW_UNROLL
      for (int k = 0; k < W; k++) q[k] = 0.0f;
    }
  }

  /* XE, per-cell gaps: go and ge of row i (nothing for i < 0) */
  SW_HD void load_gap(const Pair &P, int i, int c0, float *g, float *e) {
    if constexpr (XE && PC) {
      if (i < 0) return;
      const size_t row = (size_t)i * P.ld + c0;
      cell_load<W>(P, P.goc, row, i, c0, g);
      cell_load<W>(P, P.gec, row, i, c0, e);
    }
  }

  /* XE: tX[1..W], X of row i at c0 .. c0 + W - 1, from the row's M (tM), its X at c0 - 1
   * (tX[0]) and its gaps: the forward's expression, cell by cell (rows i < 0 stay sentinel) */
  SW_HD void xe_row(const Pair &P, int i, const float *tM, float *tX, const float *g,
                    const float *e) {
    if constexpr (XE) {
      if (i < 0) return;
SW_UNROLL
      for (int k = 0; k < W; k++) {
        const float gg = PC ? g[k] : P.go, ee = PC ? e[k] : P.ge;
        tX[k + 1] = smax2(tM[k] - gg, tX[k] - ee, P.inv, P.tl2);
      }
    }
  }

  /* YC: the ring's row for table row r (r >= -SW_YC_R - 1) */
  SW_HD float *yc_row(int r) const {
    const int k = (r + 2 * (SW_YC_R + 1)) % (SW_YC_R + 1);
    return rg + (size_t)k * RE * 32;
  }

  /* YC: the block of rows top = i - SW_YC_R .. i that the next SW_YC_R steps read (the bottom
   * row only at a band's first step: later it is the previous block's top) into the ring, in
   * two passes.  First every load of the block at once (M, the gaps, the X edge at the left,
   * the checkpoint): rows are clamped into the pair, so no load waits on a test and the warp
   * has a block's bytes in flight.  Then, top-down: X along each row from the stored edge at
   * its left (the forward's expression, as xe_row), Y down the columns from the checkpoint at
   * the top row (or, above row 0, from the sentinel row -1, as the forward's row 0); rows < 0
   * hold the sentinel, rows >= n are left out.  The strip's left column c0 - 1 is another
   * strip's: its X is the stored edge, its Y recomputed here with the gaps at that column. */
  SW_HD void yc_block(const Pair &P, int b, int lane, int c0, int i, bool first) {
    if constexpr (YC) {
      const int top = i - SW_YC_R, rows = first ? SW_YC_R + 1 : SW_YC_R;
SW_UNROLL
      for (int t = 0; t <= SW_YC_R; t++) {
        if (t == rows) break; /* warp-uniform */
        const int r0 = top + t, r = r0 < 0 ? 0 : r0 < P.n ? r0 : P.n - 1;
        float *o = yc_row(r0);
        const size_t row = (size_t)r * P.ld + c0;
        float v[W];
        cell_load<W>(P, P.M, row, r, c0, v);
SW_UNROLL
        for (int k = 0; k < W; k++) o[32 * (1 + k)] = v[k];
        if (PC) {
          cell_load<W>(P, P.goc, row, r, c0, v);
SW_UNROLL
          for (int k = 0; k < W; k++) o[32 * (OG + k)] = v[k];
          cell_load<W>(P, P.gec, row, r, c0, v);
SW_UNROLL
          for (int k = 0; k < W; k++) o[32 * (OE + k)] = v[k];
        }
        if (c0 > 0) {
          o[0] = P.M[cell_at(P, row - 1, r, c0 - 1)];
          o[32 * OX] = P.X[xe_at(P, r, (c0 - 1) >> 3)];
          if (PC) cell_gaps(P, r, c0 - 1, o[32 * OG0], o[32 * OE0]);
        }
      }
      if (top >= 0 && top < P.n) { /* the checkpoint (over the top row's OG0, OE0: not used) */
        const float *y = P.Y + yc_at(P, b, (top + lane + rho) / SW_YC_R, lane);
        float *o = yc_row(top);
SW_UNROLL
        for (int k = 0; k <= W; k++) o[32 * (OY + k)] = y[32 * k];
      }
      float hM[W + 1], hX[W + 1], hY[W + 1]; /* the row above */
SW_UNROLL
      for (int k = 0; k <= W; k++) hM[k] = hX[k] = hY[k] = SW_NEG;
SW_UNROLL
      for (int t = 0; t <= SW_YC_R; t++) {
        const int r = top + t;
        if (t == rows || r >= P.n) break;
        float *o = yc_row(r);
        if (r < 0) {
SW_UNROLL
          for (int k = 0; k < 3 * (W + 1); k++) o[32 * k] = SW_NEG;
          continue;
        }
        float tM[W + 1], tX[W + 1], tY[W + 1], g[W], e[W];
SW_UNROLL
        for (int k = 0; k < W; k++) {
          tM[k + 1] = o[32 * (1 + k)];
          g[k] = PC ? o[32 * (OG + k)] : P.go;
          e[k] = PC ? o[32 * (OE + k)] : P.ge;
        }
        tM[0] = c0 > 0 ? o[0] : SW_NEG;
        tX[0] = c0 > 0 ? o[32 * OX] : SW_NEG;
SW_UNROLL
        for (int k = 0; k < W; k++) tX[k + 1] = smax2(tM[k] - g[k], tX[k] - e[k], P.inv, P.tl2);
        if (t == 0) { /* the top row: the checkpoint */
SW_UNROLL
          for (int k = 0; k <= W; k++) tY[k] = o[32 * (OY + k)];
        } else {
          tY[0] = SW_NEG;
          if (c0 > 0) {
            const float g0 = PC ? o[32 * OG0] : P.go, e0 = PC ? o[32 * OE0] : P.ge;
            tY[0] = smax3(hM[0] - g0, hX[0] - g0, hY[0] - e0, P.inv, P.tl2);
          }
SW_UNROLL
          for (int k = 0; k < W; k++)
            tY[k + 1] = smax3(hM[k + 1] - g[k], hX[k + 1] - g[k], hY[k + 1] - e[k], P.inv,
                              P.tl2);
        }
SW_UNROLL
        for (int k = 0; k <= W; k++) {
          o[32 * k] = tM[k];
          o[32 * (OX + k)] = tX[k];
          o[32 * (OY + k)] = tY[k];
          hM[k] = tM[k];
          hX[k] = tX[k];
          hY[k] = tY[k];
        }
      }
    }
  }

  /* YC: rows i (M, X; the gaps) and i - 1 (M, X, Y) from the ring */
  SW_HD void yc_read(int i) {
    if constexpr (YC) {
      const float *c = yc_row(i), *p = yc_row(i - 1);
SW_UNROLL
      for (int k = 0; k <= W; k++) {
        cM[k] = c[32 * k];
        cX[k] = c[32 * (OX + k)];
        pM[k] = p[32 * k];
        pX[k] = p[32 * (OX + k)];
        pY[k] = p[32 * (OY + k)];
      }
      if (PC) {
SW_UNROLL
        for (int k = 0; k < W; k++) {
          cG[k] = c[32 * (OG + k)];
          cE[k] = c[32 * (OE + k)];
        }
      }
    }
  }

  SW_HD void load_scratch(const Pair &P, int b, int nb, int i) {
    if (b + 1 < nb && i >= 0) {
      const float *w = P.work + (size_t)((b + 1) & 1) * 5 * P.n + (size_t)5 * i;
SW_UNROLL
      for (int t = 0; t < 5; t++) bL[t] = w[t];
    } else {
SW_UNROLL
      for (int t = 0; t < 5; t++) bL[t] = 0.0f;
    }
  }

  SW_HD void begin_band(const Pair &P, int b, int nb, int lane, int Lu) {
SW_UNROLL
    for (int k = 0; k < W; k++) aM[k] = aX[k] = aY[k] = 0.0f;
    sLM = sLX = sDM = sDX = sDY = 0.0f;
    const int c0 = b * 32 * W + lane * W;
    if (c0 < P.m) { /* the lane's first row is n - 1 */
      if constexpr (!YC) {
        load_tab(P, P.n - 1, c0, cM, cX, cY);
        load_tab(P, P.n - 2, c0, pM, pX, pY);
      }
      load_in(P, P.n - 1, c0, cG, cE, cQ);
      if constexpr (XE && !YC) {
        load_gap(P, P.n - 1, c0, cG, cE);
        load_gap(P, P.n - 2, c0, pG, pE);
        xe_row(P, P.n - 1, cM, cX, cG, cE);
      }
    }
    if constexpr (YC) rho = yc_rho(P.n, Lu);
    if (lane == Lu - 1) load_scratch(P, b, nb, P.n - 1);
  }

  /* r*: lane l+1's pushes of cell (i, c0 + W), sent after step s-1 */
  SW_HD void step(const Pair &P, int b, int nb, int lane, int Lu, int s, float rLM, float rLX,
                  float rDM, float rDX, float rDY) {
    const int c0 = b * 32 * W + lane * W, i = P.n - 1 - s + (Lu - 1 - lane);
    if (lane == Lu - 1) {
      rLM = bL[0];
      rLX = bL[1];
      rDM = bL[2];
      rDX = bL[3];
      rDY = bL[4];
      load_scratch(P, b, nb, i - 1);
    }
    if constexpr (YC)
      if (s % SW_YC_R == 0 && i >= 0 && c0 < P.m) yc_block(P, b, lane, c0, i, s == 0);
    if (i < 0 || i >= P.n || c0 >= P.m) {
      sLM = sLX = sDM = sDX = sDY = 0.0f;
      return;
    }
    if constexpr (YC) {
      yc_read(i);
    } else {
      load_tab(P, i - 2, c0, qM, qX, qY); /* prefetch for the next step */
      load_gap(P, i - 2, c0, qG, qE);
    }
    if (i >= 1) load_in(P, i - 1, c0, nG, nE, nQ);
    if constexpr (!YC) xe_row(P, i - 1, pM, pX, pG, pE);

    float lpM = rLM, lpX = rLX;            /* left push into (i, j) from (i, j + 1) */
    float ndM = rDM, ndX = rDX, ndY = rDY; /* diagonal push into (i - 1, j) from (i, j + 1) */
    float oS[W], oG[W], oE[W];
    float rowgo = 0.0f, rowge = 0.0f;
SW_UNROLL
    for (int k = W - 1; k >= 0; k--) {
      const bool in = c0 + k < P.m;
      const float g = PC ? cG[k] : P.go, e = PC ? cE[k] : P.ge;
      /* adjoints of cell (i, j), j = c0 + k */
      const float pv = sw_ex2((cM[k + 1] - P.vmx) * P.inv) * P.vinv;
      float EM = ((P.gV * pv + cQ[k]) + aM[k]) + lpM;
      float EX = aX[k] + lpX;
      float EY = aY[k];
      /* the weights of the cell's three smooth maxima, as the forward computed them */
      const CellW w =
          cell_weights(sm4z_core(pM[k], pX[k], pY[k], P.inv), sm2_core(cM[k] - g, cX[k] - e, P.inv),
                       sm3_core(pM[k + 1] - g, pX[k + 1] - g, pY[k + 1] - e, P.inv));
      float w4b = w.mM, w4c = w.mX, w4d = w.mY, w2a = w.xM, w2b = w.xX, w3a = w.yM, w3b = w.yX,
            w3c = w.yY;
      if (!in) { /* outside the pair: nothing flows (selects, so garbage cannot leak) */
        EM = EX = EY = 0.0f;
        w4b = w4c = w4d = w2a = w2b = w3a = w3b = w3c = 0.0f;
      }
      oS[k] = EM;
      const float cgo = -(EX * w2a + EY * (w3a + w3b));
      const float cge = -(EX * w2b + EY * w3c);
      oG[k] = cgo;
      oE[k] = cge;
      rowgo += cgo;
      rowge += cge;
      /* pushes: left into (i, j-1), up into (i-1, j), diagonal into (i-1, j-1) */
      lpM = EX * w2a;
      lpX = EX * w2b;
      aM[k] = EY * w3a + ndM;
      aX[k] = EY * w3b + ndX;
      aY[k] = EY * w3c + ndY;
      ndM = EM * w4b;
      ndX = EM * w4c;
      ndY = EM * w4d;
    }
    sLM = lpM;
    sLX = lpX;
    sDM = ndM;
    sDX = ndX;
    sDY = ndY;
    const size_t row = (size_t)i * P.ld + c0;
    if (P.dS) cell_store<W>(P, P.dS, row, i, c0, oS);
    if (PC) {
      if (P.dgo) cell_store<W>(P, P.dgo, row, i, c0, oG);
      if (P.dge) cell_store<W>(P, P.dge, row, i, c0, oE);
    } else {
      sgo += (double)rowgo;
      sge += (double)rowge;
    }
    if (lane == 0 && b > 0) { /* for lane 31 of band b - 1 */
      float *w = P.work + (size_t)(b & 1) * 5 * P.n + (size_t)5 * i;
      w[0] = lpM;
      w[1] = lpX;
      w[2] = ndM;
      w[3] = ndX;
      w[4] = ndY;
    }
    /* rotate: row i - 1 becomes the current row */
    if constexpr (!YC) {
SW_UNROLL
      for (int k = 0; k <= W; k++) {
        cM[k] = pM[k];
        cX[k] = pX[k];
        cY[k] = pY[k];
        pM[k] = qM[k];
        pX[k] = qX[k];
        pY[k] = qY[k];
      }
    }
SW_UNROLL
    for (int k = 0; k < W; k++) {
      cQ[k] = nQ[k];
      if (YC) continue; /* the gaps come from the ring */
      if (XE && PC) {
        cG[k] = pG[k % WG];
        cE[k] = pE[k % WG];
        pG[k % WG] = qG[k % WG];
        pE[k % WG] = qE[k % WG];
      } else if (PC) {
        cG[k] = nG[k];
        cE[k] = nE[k];
      }
    }
  }
};

/* ---------------------------------------------------------------- pair setup */

/* the pair's shape and order: what xy_at needs.  skew: the launch's code (sw_launch_order):
 * 0, 1, 2 as Pair.skew; 3 = 2 with the X edges for the pairs wider than 128 columns; 4 = 3
 * with the Y checkpoints where they fit */
SW_HD Pair pair_shape(const lac_cuda_sw_dims &d, int skew) {
  Pair P;
  P.n = d.n;
  P.m = d.m;
  P.ld = d.ld;
  P.skew = skew >= 3 ? 2 : skew;
  P.xe = skew >= 3 && d.m > 128;
  P.wl = sw_pick_w(d.m, 8);
  P.wlg = P.wl == 8 ? 3 : P.wl == 4 ? 2 : P.wl == 2 ? 1 : 0;
  /* the checkpoints of the nb bands (strips of 8) must fit in the pair's Y block */
  P.ycns = yc_slots(d.n);
  const size_t nb = (size_t)(d.m + 255) / 256;
  P.yc = skew == 4 && P.xe && nb * (size_t)P.ycns * 288 <= (size_t)d.n * (size_t)d.ld;
  return P;
}

SW_HD Pair make_pair(const lac_cuda_sw_dims &d, float tau, int p, int per_cell, int skew,
                     const float *S, const float *go, const float *ge, const float *M,
                     const float *X, const float *Y) {
  Pair P = pair_shape(d, skew);
  P.inv = (float)(1.4426950408889634 / (double)tau);
  P.tl2 = (float)((double)tau * 0.6931471805599453);
  P.vthr = 32.0f * tau;
  const size_t off = (size_t)d.off;
  P.S = S ? S + off : NULL;
  if (per_cell) {
    P.goc = go + off;
    P.gec = ge + off;
    P.go = P.ge = 0.0f;
  } else {
    P.goc = P.gec = NULL;
    P.go = go[p];
    P.ge = ge[p];
  }
  P.M = (float *)M + off;
  P.X = (float *)X + off;
  P.Y = (float *)Y + off;
  P.gM = NULL;
  P.gV = P.vmx = P.vinv = 0.0f;
  P.dS = P.dgo = P.dge = P.work = NULL;
  P.wk = 1;
  return P;
}

/* the backward's view of pair p: make_pair's plus the incoming gradients, V's statistics,
 * the outputs and the scratch */
SW_HD Pair make_bwd_pair(const lac_cuda_sw_dims &d, float tau, int p, int per_cell, int skew,
                         const float *go, const float *ge, const float *M, const float *X,
                         const float *Y, const float *vstat, const float *gV, const float *gM,
                         float *dS, float *dgo, float *dge, float *work) {
  Pair P = make_pair(d, tau, p, per_cell, skew, NULL, go, ge, M, X, Y);
  const size_t off = (size_t)d.off;
  P.gM = gM ? gM + off : NULL;
  P.gV = gV ? gV[p] : 0.0f;
  P.vmx = vstat[2 * p];
  P.vinv = vstat[2 * p + 1];
  P.dS = dS ? dS + off : NULL;
  if (per_cell) {
    P.dgo = dgo ? dgo + off : NULL;
    P.dge = dge ? dge + off : NULL;
  }
  P.work = work + d.woff;
  return P;
}

/* V from the lanes' (vmx, vsum): this lane's sum rescaled to the pair's max mx */
SW_HD double v_rescaled(float vmx, double vsum, float mx, float inv) {
  return vsum * exp2(((double)vmx - (double)mx) * (double)inv);
}

SW_HD void v_finish(float tau, float mx, double sum, float *V, float *vstat, int p) {
  V[p] = (float)((double)mx + (double)tau * log(sum));
  vstat[2 * p] = mx;
  vstat[2 * p + 1] = (float)(1.0 / sum);
}

/* ---------------------------------------------------------------- device drivers */

/* One wavefront step of a warp: the neighbours' values of the last step by shuffle (forward:
 * from lane l-1, M X Y of its last column; backward: from lane l+1, the left and diagonal
 * pushes of its first cell), the lane's step, and what it sends at the next one. */
template <int W, bool PC, bool YC>
__device__ __forceinline__ void fwd_warp_step(FwdLane<W, PC, YC> &L, const Pair &P, int b, int lane,
                                              int s, float &sM, float &sX, float &sY) {
  const float rM = __shfl_up_sync(SW_FULL, sM, 1);
  const float rX = __shfl_up_sync(SW_FULL, sX, 1);
  const float rY = __shfl_up_sync(SW_FULL, sY, 1);
  L.step(P, b, lane, s, rM, rX, rY);
  sM = L.uM[W - 1];
  sX = L.uX[W - 1];
  sY = L.uY[W - 1];
}

template <int W, bool PC, bool XE, bool YC>
__device__ __forceinline__ void bwd_warp_step(BwdLane<W, PC, XE, YC> &L, const Pair &P, int b,
                                              int nb, int lane, int Lu, int s, float &sLM,
                                              float &sLX, float &sDM, float &sDX, float &sDY) {
  const float rLM = __shfl_down_sync(SW_FULL, sLM, 1);
  const float rLX = __shfl_down_sync(SW_FULL, sLX, 1);
  const float rDM = __shfl_down_sync(SW_FULL, sDM, 1);
  const float rDX = __shfl_down_sync(SW_FULL, sDX, 1);
  const float rDY = __shfl_down_sync(SW_FULL, sDY, 1);
  L.step(P, b, nb, lane, Lu, s, rLM, rLX, rDM, rDX, rDY);
  sLM = L.sLM;
  sLX = L.sLX;
  sDM = L.sDM;
  sDX = L.sDX;
  sDY = L.sDY;
}

template <int W, bool PC, bool YC = false>
__device__ __forceinline__ void fwd_pair_dev(const Pair &P, int lane, float *vmx, double *vsum) {
  FwdLane<W, PC, YC> L;
  L.begin_pair();
  const int nb = (P.m + 32 * W - 1) / (32 * W);
  for (int b = 0; b < nb; b++) {
    const int Lu = lanes_used(P.m, b, W);
    L.begin_band(P, b, lane);
    float sM = SW_NEG, sX = SW_NEG, sY = SW_NEG;
    const int steps = P.n + Lu - 1;
    for (int s = 0; s < steps; s++) fwd_warp_step(L, P, b, lane, s, sM, sX, sY);
    __syncwarp(); /* the next band's lane 0 reads this band's last column */
  }
  *vmx = L.vmx;
  *vsum = L.vsum;
}

template <bool PC, int FW, int SK>
__global__ void __launch_bounds__(32) sw_fwd_kernel(int n_pairs, const lac_cuda_sw_dims *dims,
                                                     float tau, const float *S, const float *go,
                                                     const float *ge, float *M, float *X,
                                                     float *Y, float *V, float *vstat) {
  const int p = blockIdx.x, lane = threadIdx.x;
  if (p >= n_pairs) return;
  const lac_cuda_sw_dims d = dims[p];
  const Pair P = make_pair(d, tau, p, PC, SK, S, go, ge, M, X, Y);
  float vmx;
  double vsum;
  /* SK 4: the Y checkpoints where they fit (P.yc), whose strips are 8 wide (FW = 8) */
  if (SK == 4 && FW == 8 && P.yc) fwd_pair_dev<8, PC, true>(P, lane, &vmx, &vsum);
  else switch (sw_pick_w(P.m, FW)) {
    case 1: fwd_pair_dev<1, PC>(P, lane, &vmx, &vsum); break;
    case 2: fwd_pair_dev<2, PC>(P, lane, &vmx, &vsum); break;
    case 4: fwd_pair_dev<4, PC>(P, lane, &vmx, &vsum); break;
    default: fwd_pair_dev<FW, PC>(P, lane, &vmx, &vsum); break;
  }
  float mx = vmx;
SW_UNROLL
  for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(SW_FULL, mx, o));
  double sum = v_rescaled(vmx, vsum, mx, P.inv);
SW_UNROLL
  for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(SW_FULL, sum, o);
  if (lane == 0) v_finish(tau, mx, sum, V, vstat, p);
}

template <int W, bool PC, bool XE, bool YC = false>
__device__ __forceinline__ void bwd_pair_dev(const Pair &P, int lane, double *sgo, double *sge,
                                             float *ring = nullptr) {
  BwdLane<W, PC, XE, YC> L;
  L.rg = ring ? ring + lane : nullptr;
  L.begin_pair();
  const int nb = (P.m + 32 * W - 1) / (32 * W);
  for (int b = nb - 1; b >= 0; b--) {
    const int Lu = lanes_used(P.m, b, W);
    L.begin_band(P, b, nb, lane, Lu);
    float sLM = 0.0f, sLX = 0.0f, sDM = 0.0f, sDX = 0.0f, sDY = 0.0f;
    const int steps = P.n + Lu - 1;
    for (int s = 0; s < steps; s++)
      bwd_warp_step(L, P, b, nb, lane, Lu, s, sLM, sLX, sDM, sDX, sDY);
    __syncwarp(); /* the next band's lane 31 reads this band's scratch */
  }
  *sgo = L.sgo;
  *sge = L.sge;
}

template <bool PC, int FW, int SK>
__global__ void __launch_bounds__(32)
    sw_bwd_kernel(int n_pairs, const lac_cuda_sw_dims *dims, float tau, const float *go,
                  const float *ge, const float *M, const float *X, const float *Y,
                  const float *vstat, const float *gV, const float *gM, float *dS, float *dgo,
                  float *dge, float *work) {
  const int p = blockIdx.x, lane = threadIdx.x;
  if (p >= n_pairs) return;
  Pair P = make_bwd_pair(dims[p], tau, p, PC, SK, go, ge, M, X, Y, vstat, gV, gM, dS, dgo, dge,
                         work);
  double sgo = 0.0, sge = 0.0;
  /* SK 3 and 4: the X edges for the pairs wider than 128 columns (P.xe), whose strips are FW
   * wide; SK 4 (FW = 8): the Y checkpoints where they fit (P.yc), recomputed in shared memory */
  float *ring = nullptr;
  if constexpr (SK == 4 && FW == 8) {
    __shared__ float sh[BwdLane<8, PC, true, true>::RING];
    ring = sh;
  }
  if (SK == 4 && FW == 8 && P.yc) bwd_pair_dev<8, PC, true, true>(P, lane, &sgo, &sge, ring);
  else if (SK >= 3 && P.xe) bwd_pair_dev<FW, PC, true>(P, lane, &sgo, &sge);
  else switch (sw_pick_w(P.m, FW)) {
    case 1: bwd_pair_dev<1, PC, false>(P, lane, &sgo, &sge); break;
    case 2: bwd_pair_dev<2, PC, false>(P, lane, &sgo, &sge); break;
    case 4: bwd_pair_dev<4, PC, false>(P, lane, &sgo, &sge); break;
    default: bwd_pair_dev<FW, PC, false>(P, lane, &sgo, &sge); break;
  }
  if (!PC) {
SW_UNROLL
    for (int o = 16; o > 0; o >>= 1) {
      sgo += __shfl_xor_sync(SW_FULL, sgo, o);
      sge += __shfl_xor_sync(SW_FULL, sge, o);
    }
    if (lane == 0) {
      if (dgo) dgo[p] = (float)sgo;
      if (dge) dge[p] = (float)sge;
    }
  }
}

/* the several-warp drivers (mw_plan): the one-warp drivers' loops on the block's clock */
template <int W, bool PC>
__device__ __forceinline__ void fwd_pair_mw(const Pair &P, int warp, int lane, float *vmx,
                                            double *vsum) {
  FwdLane<W, PC> L;
  L.begin_pair();
  const int nb = (P.m + 32 * W - 1) / (32 * W);
  const MwPlan pl = mw_plan(P.n, nb, P.wk);
  float sM = SW_NEG, sX = SW_NEG, sY = SW_NEG;
  MwClock c = mw_start(warp);
  for (int t = 0; t < pl.total; t++, mw_tick(pl, c)) {
    const int b = c.q, s = c.s;
    if (s >= 0 && b < nb && s < P.n + lanes_used(P.m, b, W) - 1) { /* warp-uniform */
      if (s == 0) {
        L.begin_band(P, b, lane);
        sM = sX = sY = SW_NEG;
      }
      fwd_warp_step(L, P, b, lane, s, sM, sX, sY);
    }
    __syncthreads(); /* this step's tables are visible to the next band's lane 0 */
  }
  *vmx = L.vmx;
  *vsum = L.vsum;
}

template <int W, bool PC, bool XE>
__device__ __forceinline__ void bwd_pair_mw(const Pair &P, int warp, int lane, double *sgo,
                                            double *sge) {
  BwdLane<W, PC, XE> L;
  L.begin_pair();
  const int nb = (P.m + 32 * W - 1) / (32 * W);
  const MwPlan pl = mw_plan(P.n, nb, P.wk);
  float sLM = 0.0f, sLX = 0.0f, sDM = 0.0f, sDX = 0.0f, sDY = 0.0f;
  MwClock c = mw_start(warp);
  for (int t = 0; t < pl.total; t++, mw_tick(pl, c)) {
    const int q = c.q, s = c.s, b = nb - 1 - q;
    if (s >= 0 && q < nb) {
      const int Lu = lanes_used(P.m, b, W);
      if (s < P.n + Lu - 1) { /* warp-uniform */
        if (s == 0) {
          L.begin_band(P, b, nb, lane, Lu);
          sLM = sLX = sDM = sDX = sDY = 0.0f;
        }
        bwd_warp_step(L, P, b, nb, lane, Lu, s, sLM, sLX, sDM, sDX, sDY);
      }
    }
    __syncthreads(); /* this step's scratch is visible to the earlier band's last lane */
  }
  *sgo = L.sgo;
  *sge = L.sge;
}

/* block-wide sum of one double per thread (blockDim.x = 32 K), the warps' partial sums added
 * in warp order; the result in every thread */
__device__ __forceinline__ double block_sum(double v, double *sh) {
SW_UNROLL
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(SW_FULL, v, o);
  const int warp = threadIdx.x >> 5, K = blockDim.x >> 5;
  __syncthreads();
  if ((threadIdx.x & 31) == 0) sh[warp] = v;
  __syncthreads();
  double t = 0.0;
  for (int k = 0; k < K; k++) t += sh[k];
  return t;
}

template <bool PC, int FW, int SK>
__global__ void __launch_bounds__(32 * SW_MW_MAX)
    sw_fwd_mw_kernel(int n_pairs, const lac_cuda_sw_dims *dims, float tau, const float *S,
                     const float *go, const float *ge, float *M, float *X, float *Y, float *V,
                     float *vstat) {
  __shared__ double sh[SW_MW_MAX];
  __shared__ float shm[SW_MW_MAX];
  const int p = blockIdx.x, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (p >= n_pairs) return;
  Pair P = make_pair(dims[p], tau, p, PC, SK, S, go, ge, M, X, Y);
  P.wk = blockDim.x >> 5;
  float vmx;
  double vsum;
  switch (mw_pick_w(P.m, P.wk, FW)) {
    case 1: fwd_pair_mw<1, PC>(P, warp, lane, &vmx, &vsum); break;
    case 2: fwd_pair_mw<2, PC>(P, warp, lane, &vmx, &vsum); break;
    case 4: fwd_pair_mw<4, PC>(P, warp, lane, &vmx, &vsum); break;
    default: fwd_pair_mw<FW, PC>(P, warp, lane, &vmx, &vsum); break;
  }
  float mx = vmx;
SW_UNROLL
  for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(SW_FULL, mx, o));
  if (lane == 0) shm[warp] = mx;
  __syncthreads();
  for (int k = 0; k < P.wk; k++) mx = fmaxf(mx, shm[k]);
  const double sum = block_sum(v_rescaled(vmx, vsum, mx, P.inv), sh);
  if (threadIdx.x == 0) v_finish(tau, mx, sum, V, vstat, p);
}

template <bool PC, int FW, int SK>
__global__ void __launch_bounds__(32 * SW_MW_MAX)
    sw_bwd_mw_kernel(int n_pairs, const lac_cuda_sw_dims *dims, float tau, const float *go,
                     const float *ge, const float *M, const float *X, const float *Y,
                     const float *vstat, const float *gV, const float *gM, float *dS, float *dgo,
                     float *dge, float *work) {
  __shared__ double sh[SW_MW_MAX];
  const int p = blockIdx.x, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (p >= n_pairs) return;
  Pair P = make_bwd_pair(dims[p], tau, p, PC, SK, go, ge, M, X, Y, vstat, gV, gM, dS, dgo, dge,
                         work);
  P.wk = blockDim.x >> 5;
  double sgo = 0.0, sge = 0.0;
#define SW_BWD_MW(xe)                                                 \
  switch (mw_pick_w(P.m, P.wk, FW)) {                                 \
    case 1: bwd_pair_mw<1, PC, xe>(P, warp, lane, &sgo, &sge); break;  \
    case 2: bwd_pair_mw<2, PC, xe>(P, warp, lane, &sgo, &sge); break;  \
    case 4: bwd_pair_mw<4, PC, xe>(P, warp, lane, &sgo, &sge); break;  \
    default: bwd_pair_mw<FW, PC, xe>(P, warp, lane, &sgo, &sge); break; \
  }
  if (SK == 3 && P.xe) {
    SW_BWD_MW(true)
  } else {
    SW_BWD_MW(false)
  }
#undef SW_BWD_MW
  if (!PC) {
    sgo = block_sum(sgo, sh);
    sge = block_sum(sge, sh);
    if (threadIdx.x == 0) {
      if (dgo) dgo[p] = (float)sgo;
      if (dge) dge[p] = (float)sge;
    }
  }
}

/* ---------------------------------------------------------------- host emulation */

template <int W, bool PC, bool YC = false>
void fwd_pair_emu(const Pair &P, float *mxo, double *sumo) {
  FwdLane<W, PC, YC> *L = new FwdLane<W, PC, YC>[32];
  for (int l = 0; l < 32; l++) L[l].begin_pair();
  const int nb = (P.m + 32 * W - 1) / (32 * W);
  float sM[32], sX[32], sY[32];
  for (int b = 0; b < nb; b++) {
    const int Lu = lanes_used(P.m, b, W);
    for (int l = 0; l < 32; l++) {
      L[l].begin_band(P, b, l);
      sM[l] = sX[l] = sY[l] = SW_NEG;
    }
    for (int s = 0; s < P.n + Lu - 1; s++) {
      for (int l = 0; l < 32; l++) { /* __shfl_up_sync(., 1): lane 0 gets its own value */
        const int src = l > 0 ? l - 1 : 0;
        L[l].step(P, b, l, s, sM[src], sX[src], sY[src]);
      }
      for (int l = 0; l < 32; l++) {
        sM[l] = L[l].uM[W - 1];
        sX[l] = L[l].uX[W - 1];
        sY[l] = L[l].uY[W - 1];
      }
    }
  }
  float mx = SW_NEG;
  for (int l = 0; l < 32; l++) mx = fmaxf(mx, L[l].vmx);
  double sum = 0.0;
  for (int l = 0; l < 32; l++) sum += v_rescaled(L[l].vmx, L[l].vsum, mx, P.inv);
  delete[] L;
  *mxo = mx;
  *sumo = sum;
}

template <int W, bool PC, bool XE, bool YC = false>
void bwd_pair_emu(const Pair &P, double *sgo, double *sge) {
  typedef BwdLane<W, PC, XE, YC> Lane;
  Lane *L = new Lane[32];
  float *ring = YC ? new float[Lane::RING] : nullptr; /* the warp's shared memory */
  for (int l = 0; l < 32; l++) {
    L[l].rg = ring ? ring + l : nullptr;
    L[l].begin_pair();
  }
  const int nb = (P.m + 32 * W - 1) / (32 * W);
  float s[5][32], r[5][32];
  for (int b = nb - 1; b >= 0; b--) {
    const int Lu = lanes_used(P.m, b, W);
    for (int l = 0; l < 32; l++) {
      L[l].begin_band(P, b, nb, l, Lu);
      for (int t = 0; t < 5; t++) s[t][l] = 0.0f;
    }
    for (int st = 0; st < P.n + Lu - 1; st++) {
      for (int l = 0; l < 32; l++) { /* __shfl_down_sync(., 1): lane 31 gets its own */
        const int src = l < 31 ? l + 1 : 31;
        for (int t = 0; t < 5; t++) r[t][l] = s[t][src];
      }
      for (int l = 0; l < 32; l++) {
        L[l].step(P, b, nb, l, Lu, st, r[0][l], r[1][l], r[2][l], r[3][l], r[4][l]);
        s[0][l] = L[l].sLM;
        s[1][l] = L[l].sLX;
        s[2][l] = L[l].sDM;
        s[3][l] = L[l].sDX;
        s[4][l] = L[l].sDY;
      }
    }
  }
  double a = 0.0, c = 0.0;
  for (int l = 0; l < 32; l++) {
    a += L[l].sgo;
    c += L[l].sge;
  }
  *sgo = a;
  *sge = c;
  delete[] L;
  delete[] ring;
}

/* The several-warp schedule on the CPU: K warps of 32 lanes on the block's clock.  Within a
 * step the warps run in the order that would expose a missing lead: a band reading another
 * band's output runs before it (forward: higher bands first; backward: lower bands first),
 * so a value written in the same step is seen stale and the test fails. */
struct MwOrder {
  int w[SW_MW_MAX], b[SW_MW_MAX], s[SW_MW_MAX], n;
};
/* the active warps at their clocks' step (then ticked), sorted by band (descending: forward,
 * ascending: backward) */
static MwOrder mw_active(const MwPlan &pl, const Pair &P, int W, int nb, MwClock *clk, bool fwd) {
  MwOrder o;
  o.n = 0;
  for (int w = 0; w < pl.K; w++) {
    const int q = clk[w].q, s = clk[w].s;
    mw_tick(pl, clk[w]);
    if (s < 0 || q >= nb) continue;
    const int b = fwd ? q : nb - 1 - q;
    if (s >= P.n + lanes_used(P.m, b, W) - 1) continue;
    int k = o.n++;
    for (; k > 0 && (fwd ? o.b[k - 1] < b : o.b[k - 1] > b); k--) {
      o.w[k] = o.w[k - 1];
      o.b[k] = o.b[k - 1];
      o.s[k] = o.s[k - 1];
    }
    o.w[k] = w;
    o.b[k] = b;
    o.s[k] = s;
  }
  return o;
}

/* One pair on K emulated warps of NV values sent per lane and step: fwd (band order =
 * band), begin(lane, b, l, Lu), step(lane, b, l, Lu, s, received[NV]) and send(lane, out[NV]).
 * The send direction is the shuffle's: up (from lane l-1; lane 0 its own) in the forward,
 * down (from lane l+1; lane 31 its own) in the backward. */
template <class Lane, int NV, class Begin, class Step, class Send>
void emu_mw(const Pair &P, int W, bool fwd, Lane *L, Begin begin, Step step, Send send) {
  const int K = P.wk;
  float *sv = new float[NV * 32 * K], r[NV];
  const int nb = (P.m + 32 * W - 1) / (32 * W);
  const MwPlan pl = mw_plan(P.n, nb, K);
  MwClock clk[SW_MW_MAX];
  for (int w = 0; w < K; w++) clk[w] = mw_start(w);
  for (int t = 0; t < pl.total; t++) {
    const MwOrder o = mw_active(pl, P, W, nb, clk, fwd);
    for (int a = 0; a < o.n; a++) {
      Lane *Lw = L + 32 * o.w[a];
      float *sw = sv + NV * 32 * o.w[a]; /* [NV][32]: what each lane sent last step */
      const int b = o.b[a], Lu = lanes_used(P.m, b, W);
      if (o.s[a] == 0)
        for (int l = 0; l < 32; l++) {
          begin(Lw[l], b, l, Lu);
          for (int v = 0; v < NV; v++) sw[32 * v + l] = fwd ? SW_NEG : 0.0f;
        }
      float got[NV][32];
      for (int l = 0; l < 32; l++) {
        const int src = fwd ? (l > 0 ? l - 1 : 0) : (l < 31 ? l + 1 : 31);
        for (int v = 0; v < NV; v++) got[v][l] = sw[32 * v + src];
      }
      for (int l = 0; l < 32; l++) {
        for (int v = 0; v < NV; v++) r[v] = got[v][l];
        step(Lw[l], b, l, Lu, o.s[a], r);
        float out[NV];
        send(Lw[l], out);
        for (int v = 0; v < NV; v++) sw[32 * v + l] = out[v];
      }
    }
  }
  delete[] sv;
}

template <int W, bool PC> void fwd_pair_emu_mw(const Pair &P, float *mxo, double *sumo) {
  const int nl = 32 * P.wk;
  FwdLane<W, PC> *L = new FwdLane<W, PC>[nl];
  for (int l = 0; l < nl; l++) L[l].begin_pair();
  emu_mw<FwdLane<W, PC>, 3>(
      P, W, true, L,
      [&](FwdLane<W, PC> &x, int b, int l, int) { x.begin_band(P, b, l); },
      [&](FwdLane<W, PC> &x, int b, int l, int, int s, const float *r) {
        x.step(P, b, l, s, r[0], r[1], r[2]);
      },
      [](const FwdLane<W, PC> &x, float *out) {
        out[0] = x.uM[W - 1];
        out[1] = x.uX[W - 1];
        out[2] = x.uY[W - 1];
      });
  float mx = SW_NEG;
  for (int l = 0; l < nl; l++) mx = fmaxf(mx, L[l].vmx);
  double sum = 0.0;
  for (int l = 0; l < nl; l++) sum += v_rescaled(L[l].vmx, L[l].vsum, mx, P.inv);
  delete[] L;
  *mxo = mx;
  *sumo = sum;
}

template <int W, bool PC, bool XE>
void bwd_pair_emu_mw(const Pair &P, double *sgo, double *sge) {
  typedef BwdLane<W, PC, XE> Lane;
  const int nl = 32 * P.wk, nb = (P.m + 32 * W - 1) / (32 * W);
  Lane *L = new Lane[nl];
  for (int l = 0; l < nl; l++) L[l].begin_pair();
  emu_mw<Lane, 5>(
      P, W, false, L, [&](Lane &x, int b, int l, int Lu) { x.begin_band(P, b, nb, l, Lu); },
      [&](Lane &x, int b, int l, int Lu, int s, const float *r) {
        x.step(P, b, nb, l, Lu, s, r[0], r[1], r[2], r[3], r[4]);
      },
      [](const Lane &x, float *out) {
        out[0] = x.sLM;
        out[1] = x.sLX;
        out[2] = x.sDM;
        out[3] = x.sDX;
        out[4] = x.sDY;
      });
  double a = 0.0, c = 0.0;
  for (int l = 0; l < nl; l++) {
    a += L[l].sgo;
    c += L[l].sge;
  }
  *sgo = a;
  *sge = c;
  delete[] L;
}

}  // namespace

/* ---------------------------------------------------------------- launchers */

/* the order of a launch's tables and buffers (the kernels' SK, pair_shape): every per-cell
 * buffer in the warp's order when the caller keeps them so (order LAC_CUDA_SW_CELLS; 3: with
 * the X edges, LAC_CUDA_SW_CELLS_XEDGE; 4: and the Y checkpoints, LAC_CUDA_SW_CELLS_XYEDGE),
 * else X and Y from o.skew_min_pairs pairs on */
static int sw_launch_order(const lac_cuda_sw_opts &o, int n_pairs, int order) {
  if (order == LAC_CUDA_SW_CELLS_XYEDGE) return 4;
  if (order == LAC_CUDA_SW_CELLS_XEDGE) return 3;
  return order == LAC_CUDA_SW_CELLS ? 2 : n_pairs >= o.skew_min_pairs;
}
static bool sw_order_ok(int order) {
  return order == LAC_CUDA_SW_ROWS || order == LAC_CUDA_SW_CELLS ||
         order == LAC_CUDA_SW_CELLS_XEDGE || order == LAC_CUDA_SW_CELLS_XYEDGE;
}

extern "C" lac_cuda_sw_opts lac_cuda_sw_default_opts(void) {
  lac_cuda_sw_opts o;
  o.fwd_wmax = o.bwd_wmax = 8;
  o.warps = 0;
  o.skew_min_pairs = SW_SKEW_PAIRS;
  return o;
}

extern "C" int lac_cuda_sw_opts_valid(const lac_cuda_sw_opts *o) {
  return o && (o->fwd_wmax == 4 || o->fwd_wmax == 8) && (o->bwd_wmax == 4 || o->bwd_wmax == 8) &&
         (o->warps == 0 || o->warps == 1 || o->warps == 2 || o->warps == 4 ||
          o->warps == SW_MW_MAX) &&
         o->skew_min_pairs >= 0;
}

/* a launch's settings: *opts, or the defaults for NULL; false (nothing to launch) for an
 * invalid order or settings (order LAC_CUDA_SW_CELLS_XYEDGE: strips of 8 both ways and 0 or 1
 * warps, which it runs as 1) */
static bool sw_launch_args(int order, const lac_cuda_sw_opts *opts, lac_cuda_sw_opts *o) {
  *o = opts ? *opts : lac_cuda_sw_default_opts();
  if (order == LAC_CUDA_SW_CELLS_XYEDGE) { /* the checkpoints' strips: 8, one warp per pair */
    if (o->fwd_wmax != 8 || o->bwd_wmax != 8 || o->warps > 1) return false;
    o->warps = 1;
  }
  return sw_order_ok(order) && lac_cuda_sw_opts_valid(o);
}

/* warps per pair of a launch of n_pairs pairs, the widest with max_m columns
 * (lac_cuda_sw_opts.warps): the setting, or with 0 the rule that the H100 measurements in
 * docs/BENCHMARKS.md support (bench_sw_cuda, every row timed with 1, 2, 4 and 8 warps).  More
 * warps pay where one warp per pair leaves the SMs short of warps and each warp keeps a wide
 * band: up to 4 warps for at most 64 pairs while a warp keeps 128 columns (8 pairs: 1.05-1.15x
 * at T = 256, 1.8-2.0x at 512, 2.8x at 1024; at T <= 128, 0.64-1.0x); up to 2 for at most 256
 * pairs, and for at most 1024 pairs with scalar gaps, while a warp keeps 256 columns (256
 * pairs: 1.12-1.34x at T = 512 and 1024, where 4 warps measured 0.82-1.27x; 1024 pairs of
 * 512^2: 1.27x scalar, 0.92x per-cell); one warp otherwise (4096 pairs: 0.22-0.59x). */
static int sw_launch_warps(const lac_cuda_sw_opts &o, int n_pairs, int max_m, int per_cell) {
  if (o.warps) return o.warps;
  const int cap = n_pairs <= 64 ? 4 : n_pairs <= 256 || (n_pairs <= 1024 && !per_cell) ? 2 : 1;
  const int cols = n_pairs <= 64 ? 128 : 256; /* the fewest columns per warp */
  int K = 1;
  while (2 * K <= cap && max_m >= 2 * K * cols) K *= 2;
  return K;
}

extern "C" int lac_cuda_sw_forward(int n_pairs, const lac_cuda_sw_dims *dims, int max_m, int order,
                                   const lac_cuda_sw_opts *opts, float tau, int per_cell,
                                   const float *S, const float *go, const float *ge, float *M,
                                   float *X, float *Y, float *V, float *vstat, void *stream) {
  lac_cuda_sw_opts o;
  if (!sw_launch_args(order, opts, &o)) return (int)cudaErrorInvalidValue;
  if (n_pairs <= 0) return 0;
  cudaStream_t st = (cudaStream_t)stream;
  const int skew = sw_launch_order(o, n_pairs, order);
  const int K = sw_launch_warps(o, n_pairs, max_m, per_cell);
#define SW_LAUNCH_F(pc, fw, sk)                                                                \
  do {                                                                                         \
    if (K > 1)                                                                                 \
      sw_fwd_mw_kernel<pc, fw, sk><<<n_pairs, 32 * K, 0, st>>>(n_pairs, dims, tau, S, go, ge, M, \
                                                               X, Y, V, vstat);                \
    else                                                                                       \
      sw_fwd_kernel<pc, fw, sk><<<n_pairs, 32, 0, st>>>(n_pairs, dims, tau, S, go, ge, M, X, Y, \
                                                        V, vstat);                             \
  } while (0)
#define SW_LAUNCH_F4(pc) /* one warp, strips of 8 (sw_launch_args) */                           \
  sw_fwd_kernel<pc, 8, 4><<<n_pairs, 32, 0, st>>>(n_pairs, dims, tau, S, go, ge, M, X, Y, V, vstat)
#define SW_LAUNCH_F2(pc, fw)                        \
  do {                                              \
    if (skew == 4) SW_LAUNCH_F4(pc);                \
    else if (skew == 3) SW_LAUNCH_F(pc, fw, 3);     \
    else if (skew == 2) SW_LAUNCH_F(pc, fw, 2);     \
    else if (skew == 1) SW_LAUNCH_F(pc, fw, 1);     \
    else SW_LAUNCH_F(pc, fw, 0);                    \
  } while (0)
  if (per_cell) {
    if (o.fwd_wmax == 4) SW_LAUNCH_F2(true, 4);
    else SW_LAUNCH_F2(true, 8);
  } else {
    if (o.fwd_wmax == 4) SW_LAUNCH_F2(false, 4);
    else SW_LAUNCH_F2(false, 8);
  }
#undef SW_LAUNCH_F2
#undef SW_LAUNCH_F4
#undef SW_LAUNCH_F
  return (int)cudaGetLastError();
}

extern "C" int lac_cuda_sw_backward(int n_pairs, const lac_cuda_sw_dims *dims, int max_m, int order,
                                    const lac_cuda_sw_opts *opts, float tau, int per_cell,
                                    const float *go, const float *ge, const float *M,
                                    const float *X, const float *Y, const float *vstat,
                                    const float *gV, const float *gM, float *dS, float *dgo,
                                    float *dge, float *work, void *stream) {
  lac_cuda_sw_opts o;
  if (!sw_launch_args(order, opts, &o)) return (int)cudaErrorInvalidValue;
  if (n_pairs <= 0) return 0;
  cudaStream_t st = (cudaStream_t)stream;
  const int skew = sw_launch_order(o, n_pairs, order);
  const int K = sw_launch_warps(o, n_pairs, max_m, per_cell);
#define SW_LAUNCH_B(pc, fw, sk)                                                                \
  do {                                                                                         \
    if (K > 1)                                                                                 \
      sw_bwd_mw_kernel<pc, fw, sk><<<n_pairs, 32 * K, 0, st>>>(                                \
          n_pairs, dims, tau, go, ge, M, X, Y, vstat, gV, gM, dS, dgo, dge, work);             \
    else                                                                                       \
      sw_bwd_kernel<pc, fw, sk><<<n_pairs, 32, 0, st>>>(n_pairs, dims, tau, go, ge, M, X, Y,    \
                                                        vstat, gV, gM, dS, dgo, dge, work);    \
  } while (0)
#define SW_LAUNCH_B4(pc) /* one warp, strips of 8 (sw_launch_args) */                        \
  sw_bwd_kernel<pc, 8, 4><<<n_pairs, 32, 0, st>>>(n_pairs, dims, tau, go, ge, M, X, Y, vstat, gV, \
                                                  gM, dS, dgo, dge, work)
#define SW_LAUNCH_B2(pc, fw)                        \
  do {                                              \
    if (skew == 4) SW_LAUNCH_B4(pc);                \
    else if (skew == 3) SW_LAUNCH_B(pc, fw, 3);     \
    else if (skew == 2) SW_LAUNCH_B(pc, fw, 2);     \
    else if (skew == 1) SW_LAUNCH_B(pc, fw, 1);     \
    else SW_LAUNCH_B(pc, fw, 0);                    \
  } while (0)
  if (per_cell) {
    if (o.bwd_wmax == 4) SW_LAUNCH_B2(true, 4);
    else SW_LAUNCH_B2(true, 8);
  } else {
    if (o.bwd_wmax == 4) SW_LAUNCH_B2(false, 4);
    else SW_LAUNCH_B2(false, 8);
  }
#undef SW_LAUNCH_B2
#undef SW_LAUNCH_B4
#undef SW_LAUNCH_B
  return (int)cudaGetLastError();
}

extern "C" int lac_cuda_sw_emulate_forward(int n_pairs, const lac_cuda_sw_dims *dims, int max_m,
                                           int order, const lac_cuda_sw_opts *opts, float tau,
                                           int per_cell, const float *S, const float *go,
                                           const float *ge, float *M, float *X, float *Y,
                                           float *V, float *vstat) {
  lac_cuda_sw_opts o;
  if (!sw_launch_args(order, opts, &o)) return (int)cudaErrorInvalidValue;
  const int skew = sw_launch_order(o, n_pairs, order);
  const int K = sw_launch_warps(o, n_pairs, max_m, per_cell);
  for (int p = 0; p < n_pairs; p++) {
    Pair P = make_pair(dims[p], tau, p, per_cell, skew, S, go, ge, M, X, Y);
    P.wk = K;
    float mx;
    double sum;
    const int W = K > 1 ? mw_pick_w(P.m, K, o.fwd_wmax) : sw_pick_w(P.m, o.fwd_wmax);
#define SW_EMU_F(w)                                                                      \
  if (K > 1 && per_cell) fwd_pair_emu_mw<w, true>(P, &mx, &sum);                         \
  else if (K > 1) fwd_pair_emu_mw<w, false>(P, &mx, &sum);                               \
  else if (per_cell) fwd_pair_emu<w, true>(P, &mx, &sum);                                \
  else fwd_pair_emu<w, false>(P, &mx, &sum)
    if (P.yc && per_cell) fwd_pair_emu<8, true, true>(P, &mx, &sum); /* K = 1, W = 8 */
    else if (P.yc) fwd_pair_emu<8, false, true>(P, &mx, &sum);
    else if (W == 1) { SW_EMU_F(1); }
    else if (W == 2) { SW_EMU_F(2); }
    else if (W == 4) { SW_EMU_F(4); }
    else { SW_EMU_F(8); }
#undef SW_EMU_F
    v_finish(tau, mx, sum, V, vstat, p);
  }
  return 0;
}

extern "C" int lac_cuda_sw_emulate_backward(int n_pairs, const lac_cuda_sw_dims *dims, int max_m,
                                            int order, const lac_cuda_sw_opts *opts, float tau,
                                            int per_cell, const float *go, const float *ge,
                                            const float *M, const float *X, const float *Y,
                                            const float *vstat, const float *gV, const float *gM,
                                            float *dS, float *dgo, float *dge, float *work) {
  lac_cuda_sw_opts o;
  if (!sw_launch_args(order, opts, &o)) return (int)cudaErrorInvalidValue;
  const int skew = sw_launch_order(o, n_pairs, order);
  const int K = sw_launch_warps(o, n_pairs, max_m, per_cell);
  for (int p = 0; p < n_pairs; p++) {
    Pair P = make_bwd_pair(dims[p], tau, p, per_cell, skew, go, ge, M, X, Y, vstat, gV, gM, dS,
                           dgo, dge, work);
    P.wk = K;
    double sgo = 0.0, sge = 0.0;
    const int W = K > 1 ? mw_pick_w(P.m, K, o.bwd_wmax) : sw_pick_w(P.m, o.bwd_wmax);
#define SW_EMU_B2(w, xe)                                                                 \
  if (K > 1 && per_cell) bwd_pair_emu_mw<w, true, xe>(P, &sgo, &sge);                    \
  else if (K > 1) bwd_pair_emu_mw<w, false, xe>(P, &sgo, &sge);                          \
  else if (per_cell) bwd_pair_emu<w, true, xe>(P, &sgo, &sge);                           \
  else bwd_pair_emu<w, false, xe>(P, &sgo, &sge)
#define SW_EMU_B(w)         \
  if (P.xe) {               \
    SW_EMU_B2(w, true);     \
  } else {                  \
    SW_EMU_B2(w, false);    \
  }
    if (P.yc && per_cell) bwd_pair_emu<8, true, true, true>(P, &sgo, &sge); /* K = 1, W = 8 */
    else if (P.yc) bwd_pair_emu<8, false, true, true>(P, &sgo, &sge);
    else if (W == 1) { SW_EMU_B(1); }
    else if (W == 2) { SW_EMU_B(2); }
    else if (W == 4) { SW_EMU_B(4); }
    else { SW_EMU_B(8); }
#undef SW_EMU_B
#undef SW_EMU_B2
    if (!per_cell) {
      if (dgo) dgo[p] = (float)sgo;
      if (dge) dge[p] = (float)sge;
    }
  }
  return 0;
}

/* The order a caller that packs its own buffers should choose (lac_cuda_sw_best_order), from
 * the H100 measurements in docs/BENCHMARKS.md (bench_sw_cuda, every order timed on every row
 * with the default warps, forward + backward).  The warp's order paid from about 4 M cells of
 * the widest pair's square on (1.15-1.30x at 8 pairs of 1024, 1.6-1.7x at 256 of 128,
 * 1.36-1.88x at 1024 of 64, 1.48-1.55x at 256 of 512 and 1024, 1.29-1.56x at 1024 of 256
 * and 512, 1.7-2.4x at 4096 pairs; at 256 pairs of 256, 0.96-0.99x), and cost below it (8
 * pairs of T <= 512: 0.66-0.99x; 256 of 64: 0.94-1.03x), where one or two warps per SM wait
 * on their own latency and its address arithmetic lengthens each step.  The X edges (pairs
 * wider than 128 columns) paid from 1024 pairs on, where the card's bandwidth bounds the
 * kernels (1.08-1.17x at 1024, 2048 and 4096 pairs of 256 and 512, both gap kinds), and not
 * below (256 pairs of 256 to 1024: 0.92-1.02x; 8 pairs: 0.61-0.87x): their backward's extra
 * smooth maximum per cell costs more than its 7 bytes save where latency bounds. */
extern "C" int lac_cuda_sw_best_order(int n_pairs, int max_m) {
  const long long cells = (long long)n_pairs * max_m * max_m;
  if (n_pairs <= 0 || max_m <= 0 || cells < (1LL << 22)) return LAC_CUDA_SW_ROWS;
  return n_pairs >= 1024 && max_m > 128 ? LAC_CUDA_SW_CELLS_XEDGE : LAC_CUDA_SW_CELLS;
}

extern "C" long long lac_cuda_sw_cell_index(const lac_cuda_sw_dims *d, int i, int j) {
  if (!d || d->n < 1 || d->m < 1 || d->ld < d->m || d->ld % 8 || i < 0 || i >= d->n || j < 0 ||
      j >= d->ld)
    return -1;
  return (long long)xy_at(pair_shape(*d, 2), i, j);
}

extern "C" int lac_cuda_sw_launch_warps(const lac_cuda_sw_opts *opts, int n_pairs, int max_m,
                                        int per_cell) {
  const lac_cuda_sw_opts o = opts ? *opts : lac_cuda_sw_default_opts();
  return lac_cuda_sw_opts_valid(&o) ? sw_launch_warps(o, n_pairs, max_m, per_cell) : -1;
}
