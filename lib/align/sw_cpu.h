/* sw_cpu.h — test and benchmark hooks of the CPU alignment (lib/align/sw_cpu.c), not part
 * of the public API.
 *  lac_sw_cpu_force: path "auto" (the default), "scalar", "avx2" or "avx512" (refused when
 *    the CPU lacks it); strips > 0 forces the strips per pair of the vector path (a power of
 *    two <= the lane count), 0 lets the planner choose.
 *  lac_sw_cpu_path: the path the last forward ran ("avx512/S" or "avx2/S" with S strips per
 *    pair, "scalar-fma", "scalar", "hard"; "cuda" / "cuda-emulated" for a CUDA aligner's
 *    soft forward; "" before any).
 *  lac_sw_cpu_math: y[k] = exp(x[k]) (which = 0) or log(x[k]) (which = 1) by the fast
 *    exp/log of `path`. */
#ifndef LAC_SW_CPU_H
#define LAC_SW_CPU_H

#include "lac/align.h"

lac_status lac_sw_cpu_force(lac_aligner *a, const char *path, int strips, lac_error *err);
const char *lac_sw_cpu_path(const lac_aligner *a);
lac_status lac_sw_cpu_math(const char *path, int which, int n, const float *x, float *y,
                           lac_error *err);

#endif
