/* lbfgs.c — limited-memory BFGS for smooth unconstrained minimisation in double precision
 * (used by the multinomial logistic regression of logreg.c).
 *
 * Each iteration: the two-loop recursion over the last m (s, y) pairs with initial scaling
 * gamma = s.y / y.y gives the direction d; a line search finds a step a with the strong
 * Wolfe conditions
 *     f(x + a d) <= f(x) + c1 a g.d,   |g(x + a d).d| <= c2 |g.d|,   c1 = 1e-4, c2 = 0.9,
 * by bracketing (doubling a) and zooming with safeguarded cubic interpolation.  Near the
 * optimum f stops resolving the decrease (it is a sum over many frames); there we accept the
 * approximate Wolfe test of Hager and Zhang: f(x + a d) <= f(x) + 1e-12 (1 + |f(x)|) and
 * g(x + a d).d <= (2 c1 - 1) g.d (with the curvature condition).  Pairs with s.y <= 0
 * are not stored.  A failed line search resets the history once (steepest descent); a second
 * failure ends the run.  The first step (and the first after a reset) is 1 / |g|_2.
 *
 * Not here: bounds, constraints, preconditioning, parallelism (the objective decides).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"

#define LS_C1 1e-4
#define LS_C2 0.9
#define LS_FEPS 1e-12
#define LS_MAX_BRACKET 60
#define LS_MAX_ZOOM 60

static double dot(int n, const double *a, const double *b) {
  double s = 0;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

static double amax(int n, const double *a) {
  double m = 0;
  for (int i = 0; i < n; i++)
    if (fabs(a[i]) > m) m = fabs(a[i]);
  return m;
}

typedef struct {
  int n;
  const double *x, *d;
  double f0, dg0;
  lac_lbfgs_fn fn;
  void *user;
  double *xt, *gt; /* the last evaluated point and its gradient */
  double ft, a_last;
  int evals;
} ls_ctx;

/* phi(a) = f(x + a d), dphi(a) = g(x + a d).d; non-finite f -> +inf, dphi NaN */
static void ls_eval(ls_ctx *c, double a, double *phi, double *dphi) {
  for (int i = 0; i < c->n; i++) c->xt[i] = c->x[i] + a * c->d[i];
  c->ft = c->fn(c->xt, c->gt, c->user);
  c->evals++;
  c->a_last = a;
  if (isfinite(c->ft)) {
    *phi = c->ft;
    *dphi = dot(c->n, c->gt, c->d);
  } else {
    *phi = INFINITY;
    *dphi = NAN;
  }
}

static int ls_decrease_ok(const ls_ctx *c, double a, double phi, double dphi) {
  if (phi <= c->f0 + LS_C1 * a * c->dg0) return 1;
  return phi <= c->f0 + LS_FEPS * (1 + fabs(c->f0)) && dphi <= (2 * LS_C1 - 1) * c->dg0;
}

/* phi above f by more than f's resolution (below it, the derivative decides) */
static int ls_worse(const ls_ctx *c, double phi, double f) {
  return phi > f + LS_FEPS * (1 + fabs(c->f0));
}

static int ls_curvature_ok(const ls_ctx *c, double dphi) {
  return fabs(dphi) <= -LS_C2 * c->dg0;
}

/* Minimiser of the cubic through (a0, f0, d0), (a1, f1, d1); NaN when it has none. */
static double cubic_min(double a0, double f0, double d0, double a1, double f1, double d1) {
  double t1 = d0 + d1 - 3 * (f0 - f1) / (a0 - a1);
  double disc = t1 * t1 - d0 * d1;
  if (!(disc >= 0)) return NAN;
  double t2 = sqrt(disc);
  if (a1 < a0) t2 = -t2;
  double den = d1 - d0 + 2 * t2;
  if (den == 0) return NAN;
  return a1 - (a1 - a0) * (d1 + t2 - t1) / den;
}

/* Zoom between lo (decrease holds, lowest f so far) and hi.  Returns 1 with the accepted
 * step in *a_out (c->xt/gt/ft hold it), 0 on failure. */
static int ls_zoom(ls_ctx *c, double lo, double f_lo, double d_lo, double hi, double f_hi,
                   double d_hi, double *a_out) {
  for (int j = 0; j < LS_MAX_ZOOM; j++) {
    double left = fmin(lo, hi), right = fmax(lo, hi), w = right - left;
    if (w <= 1e-16 * right) break;
    double a = NAN;
    if (isfinite(f_hi) && isfinite(d_hi)) a = cubic_min(lo, f_lo, d_lo, hi, f_hi, d_hi);
    if (!(a >= left + 0.1 * w && a <= right - 0.1 * w)) a = 0.5 * (lo + hi);
    double phi, dphi;
    ls_eval(c, a, &phi, &dphi);
    if (!ls_decrease_ok(c, a, phi, dphi) || ls_worse(c, phi, f_lo)) {
      hi = a;
      f_hi = phi;
      d_hi = dphi;
    } else {
      if (ls_curvature_ok(c, dphi)) {
        *a_out = a;
        return 1;
      }
      if (dphi * (hi - lo) >= 0) {
        hi = lo;
        f_hi = f_lo;
        d_hi = d_lo;
      }
      lo = a;
      f_lo = phi;
      d_lo = dphi;
    }
  }
  /* no point with the curvature condition: take lo if it decreased f */
  if (lo > 0 && f_lo < c->f0) {
    if (c->a_last != lo) {
      double phi, dphi;
      ls_eval(c, lo, &phi, &dphi);
    }
    *a_out = lo;
    return 1;
  }
  return 0;
}

static int line_search(ls_ctx *c, double a_init, double *a_out) {
  double a_prev = 0, f_prev = c->f0, d_prev = c->dg0;
  double a = a_init;
  for (int i = 0; i < LS_MAX_BRACKET; i++) {
    double phi, dphi;
    ls_eval(c, a, &phi, &dphi);
    if (!ls_decrease_ok(c, a, phi, dphi) || (i > 0 && ls_worse(c, phi, f_prev)))
      return ls_zoom(c, a_prev, f_prev, d_prev, a, phi, dphi, a_out);
    if (ls_curvature_ok(c, dphi)) {
      *a_out = a;
      return 1;
    }
    if (dphi >= 0) return ls_zoom(c, a, phi, dphi, a_prev, f_prev, d_prev, a_out);
    a_prev = a;
    f_prev = phi;
    d_prev = dphi;
    a *= 2;
  }
  return 0;
}

lac_status lac_lbfgs_minimize(int n, double *x, lac_lbfgs_fn fn, void *user,
                              const lac_lbfgs_opts *opts, lac_lbfgs_info *info, lac_error *err) {
  lac_lbfgs_info inf;
  memset(&inf, 0, sizeof inf);
  if (n < 1 || !x || !fn || !opts || opts->m < 1 || opts->max_iter < 0 || !(opts->gtol >= 0))
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_lbfgs_minimize: needs n >= 1, x, fn, m >= 1, max_iter >= 0, "
                         "gtol >= 0");
  const int m = opts->m;
  size_t nn = (size_t)n;
  double *buf = malloc(sizeof(double) * (nn * (4 + 2 * (size_t)m) + 2 * (size_t)m));
  if (!buf) return lac_error_set(err, LAC_ERR_NOMEM, "L-BFGS: out of memory (%d unknowns)", n);
  double *g = buf, *d = g + nn, *xt = d + nn, *gt = xt + nn, *S = gt + nn, *Y = S + nn * m;
  double *rho = Y + nn * m, *alpha = rho + m;
  int hist = 0, head = 0; /* pairs stored; slot of the next pair */
  double f = fn(x, g, user);
  inf.evaluations = 1;
  if (!isfinite(f)) {
    free(buf);
    return lac_error_set(err, LAC_ERR_NUMERIC, "L-BFGS: the objective is not finite at the start");
  }
  double gmax = amax(n, g);
  int failures = 0;
  while (gmax > opts->gtol && inf.iterations < opts->max_iter) {
    /* direction: d = -H g by the two-loop recursion */
    memcpy(d, g, nn * sizeof *d);
    for (int j = 0; j < hist; j++) {
      int s = (head - 1 - j + m) % m;
      alpha[s] = rho[s] * dot(n, S + (size_t)s * nn, d);
      for (int i = 0; i < n; i++) d[i] -= alpha[s] * Y[(size_t)s * nn + i];
    }
    if (hist > 0) {
      int s = (head - 1 + m) % m;
      double yy = dot(n, Y + (size_t)s * nn, Y + (size_t)s * nn);
      double gamma = 1.0 / (rho[s] * yy);
      for (int i = 0; i < n; i++) d[i] *= gamma;
    }
    for (int j = hist - 1; j >= 0; j--) {
      int s = (head - 1 - j + m) % m;
      double beta = rho[s] * dot(n, Y + (size_t)s * nn, d);
      for (int i = 0; i < n; i++) d[i] += S[(size_t)s * nn + i] * (alpha[s] - beta);
    }
    for (int i = 0; i < n; i++) d[i] = -d[i];
    double dg = dot(n, g, d);
    if (!(dg < 0)) { /* not a descent direction: restart from steepest descent */
      hist = 0;
      for (int i = 0; i < n; i++) d[i] = -g[i];
      dg = dot(n, g, d);
    }
    double a0 = hist == 0 ? 1.0 / sqrt(-dg) : 1.0; /* |d| = |g| when hist == 0 */
    ls_ctx c = {n, x, d, f, dg, fn, user, xt, gt, 0, 0, 0};
    double a = 0;
    int ok = line_search(&c, a0, &a);
    inf.evaluations += c.evals;
    if (!ok) {
      if (hist == 0 || ++failures > 1) break;
      hist = 0; /* retry from steepest descent */
      continue;
    }
    failures = 0;
    /* new pair s = a d, y = g(x + s) - g(x) */
    double *s = S + (size_t)head * nn, *yv = Y + (size_t)head * nn;
    for (int i = 0; i < n; i++) {
      s[i] = a * d[i];
      yv[i] = gt[i] - g[i];
    }
    double sy = dot(n, s, yv);
    if (sy > 0) {
      rho[head] = 1.0 / sy;
      head = (head + 1) % m;
      if (hist < m) hist++;
    }
    memcpy(x, xt, nn * sizeof *x);
    memcpy(g, gt, nn * sizeof *g);
    f = c.ft;
    gmax = amax(n, g);
    inf.iterations++;
  }
  inf.f = f;
  inf.gmax = gmax;
  inf.converged = gmax <= opts->gtol;
  if (info) *info = inf;
  free(buf);
  return LAC_OK;
}
