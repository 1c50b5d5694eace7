/* test_loss.c — lac_loss (lib/align/loss.c) against float64 autograd reference files, finite
 * differences of the C loss itself, and one test per reference-code bug of METHOD.md §3.
 *
 * Reference files: tests/ref/loss_<case>.safetensors, made by tools/gen_loss_reference.py
 * (PyTorch float64 autograd of tools/lac_loss_torch.py, itself gradchecked and checked
 * against the LAC code's formulas written out literally).  Inputs are float32 in the files,
 * so C and PyTorch see the same numbers.
 *
 * Tolerances (float32 C against float64 autograd; the C code sums in double but its
 * similarity, alignment tables and GEMMs are float32):
 *   terms      |c - ref| <= TOL_TERM * max(|ref|, 1)
 *   gradients  max |c - ref| / max |ref| <= TOL_GRAD, per tensor (de1, de2, dgo, dge); the
 *              per-cell penalty gradients are also checked cell by cell (METHOD.md bugs 1, 3)
 *   finite differences of the C loss (central, step 1e-2 relative to the coordinate, floor
 *              1e-3): |fd - g| <= FD_REL * |g| + FD_ABS on the largest-gradient coordinates.
 *              The test shows in passing that this tolerance fails a wrong gradient: the
 *              gradient without the M path (stop_grad_m) and one with the score's sign
 *              flipped are each run through the same check and must fail it.
 * Measured errors are printed.  Usage: test_loss REF_DIR */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "align/loss_rows.h" /* the per-row pieces (internal) */
#include "lac_internal.h"         /* lac_rng */
#include "lac/align.h"
#include "lac/safetensors.h"
#include "testutil.h"

#define TOL_TERM 1e-6
#define TOL_GRAD 2e-5
#define FD_REL 1e-2
#define FD_ABS 1e-5

static const char *ref_dir;

typedef struct {
  const char *name;
  lac_st_file *f;
  int B, T, d, ng; /* ng: penalties per tensor (T*T or 1) */
  lac_loss_params p;
  float *e1, *e2, *go, *ge;
  int64_t *s1, *s2;
  uint8_t *v1, *v2;
  double terms[4];
  double *de1, *de2, *dgo, *dge;
} lcase;

/* a malloc'd copy of a tensor's data after checking its dtype and element count */
static void *tensor(lcase *c, const char *name, lac_dtype dt, size_t n) {
  const lac_st_tensor *t = lac_st_find(c->f, name);
  CHECK(t && t->dtype == dt && t->n_elements == n,
        "%s: tensor '%s' missing, or not %s with %zu elements", c->name, name, lac_dtype_name(dt),
        n);
  if (!t || t->dtype != dt || t->n_elements != n) return NULL;
  void *p = malloc(t->n_bytes ? t->n_bytes : 1);
  memcpy(p, t->data, t->n_bytes);
  return p;
}

static double meta_num(lcase *c, const char *key) {
  const char *v = lac_st_meta_get(c->f, key);
  CHECK(v != NULL, "%s: metadata '%s' missing", c->name, key);
  return v ? strtod(v, NULL) : 0;
}

static int load_case(const char *name, lcase *c) {
  char path[1024];
  lac_error err;
  memset(c, 0, sizeof *c);
  c->name = name;
  snprintf(path, sizeof path, "%s/loss_%s.safetensors", ref_dir, name);
  lac_status st = lac_st_read(path, &c->f, &err);
  CHECK(st == LAC_OK, "cannot read %s: %s", path, err.message);
  if (st != LAC_OK) return 0;
  const char *pre = lac_st_meta_get(c->f, "preset");
  CHECK(pre && lac_loss_preset(pre, &c->p, &err) == LAC_OK, "%s: preset", name);
  c->B = (int)meta_num(c, "B");
  c->T = (int)meta_num(c, "T");
  c->d = (int)meta_num(c, "d");
  c->p.label_var = (float)meta_num(c, "label_var");
  c->p.temperature = (float)meta_num(c, "temperature");
  c->p.log_eps = (float)meta_num(c, "log_eps");
  c->p.sw_tau = (float)meta_num(c, "sw_tau");
  c->p.sim_eps = (float)meta_num(c, "sim_eps");
  c->p.score_weight = (float)meta_num(c, "score_weight");
  c->p.alpha = (float)meta_num(c, "alpha");
  c->p.beta = (float)meta_num(c, "beta");
  c->p.per_cell_gaps = (int)meta_num(c, "per_cell_gaps");
  c->p.stop_grad_m = (int)meta_num(c, "stop_grad_m");
  const char *sim = lac_st_meta_get(c->f, "similarity"), *lg = lac_st_meta_get(c->f, "logits");
  CHECK(sim && lg, "%s: similarity/logits metadata missing", name);
  if (!sim || !lg) return 0;
  c->p.similarity = !strcmp(sim, "cosine")       ? LAC_SIM_COSINE
                    : !strcmp(sim, "neg_sqdist") ? LAC_SIM_NEG_SQDIST
                                                 : LAC_SIM_INV_SQDIST;
  c->p.logits = !strcmp(lg, "elementwise") ? LAC_LOGITS_ELEMENTWISE : LAC_LOGITS_MATMUL;
  size_t BT = (size_t)c->B * c->T, BTd = BT * c->d;
  c->ng = c->p.per_cell_gaps ? c->T * c->T : 1;
  c->e1 = tensor(c, "e1", LAC_DTYPE_F32, BTd);
  c->e2 = tensor(c, "e2", LAC_DTYPE_F32, BTd);
  c->go = tensor(c, "go", LAC_DTYPE_F32, c->ng);
  c->ge = tensor(c, "ge", LAC_DTYPE_F32, c->ng);
  c->s1 = tensor(c, "s1", LAC_DTYPE_I64, BT);
  c->s2 = tensor(c, "s2", LAC_DTYPE_I64, BT);
  c->v1 = tensor(c, "valid1", LAC_DTYPE_U8, BT);
  c->v2 = tensor(c, "valid2", LAC_DTYPE_U8, BT);
  double *terms = tensor(c, "terms", LAC_DTYPE_F64, 4);
  if (terms) memcpy(c->terms, terms, sizeof c->terms);
  free(terms);
  c->de1 = tensor(c, "de1", LAC_DTYPE_F64, BTd);
  c->de2 = tensor(c, "de2", LAC_DTYPE_F64, BTd);
  c->dgo = tensor(c, "dgo", LAC_DTYPE_F64, c->ng);
  c->dge = tensor(c, "dge", LAC_DTYPE_F64, c->ng);
  return c->e1 && c->e2 && c->go && c->ge && c->s1 && c->s2 && c->v1 && c->v2 && terms && c->de1 &&
         c->de2 && c->dgo && c->dge;
}

static void free_case(lcase *c) {
  free(c->e1), free(c->e2), free(c->go), free(c->ge), free(c->s1), free(c->s2);
  free(c->v1), free(c->v2), free(c->de1), free(c->de2), free(c->dgo), free(c->dge);
  lac_st_free(c->f);
}

typedef struct {
  lac_loss_terms t;
  float *de1, *de2, *dgo, *dge;
} result;

static void result_alloc(result *r, const lcase *c) {
  size_t BTd = (size_t)c->B * c->T * c->d;
  r->de1 = malloc(sizeof(float) * BTd);
  r->de2 = malloc(sizeof(float) * BTd);
  r->dgo = malloc(sizeof(float) * c->ng);
  r->dge = malloc(sizeof(float) * c->ng);
}

static void result_free(result *r) { free(r->de1), free(r->de2), free(r->dgo), free(r->dge); }

/* lac_loss on the case's inputs with parameters p (outputs poisoned first: all must be
 * overwritten) */
static lac_status run(lac_aligner *a, const lcase *c, const lac_loss_params *p, const float *e1,
                      const float *e2, const float *go, const float *ge, result *r, int grads) {
  lac_error err;
  size_t BTd = (size_t)c->B * c->T * c->d;
  if (grads) {
    for (size_t i = 0; i < BTd; i++) r->de1[i] = r->de2[i] = NAN;
    for (int i = 0; i < c->ng; i++) r->dgo[i] = r->dge[i] = NAN;
  }
  lac_status st = lac_loss(a, p, c->B, c->T, c->d, e1, e2, c->s1, c->s2, c->v1, c->v2, go, ge,
                           &r->t, grads ? r->de1 : NULL, grads ? r->de2 : NULL,
                           grads ? r->dgo : NULL, grads ? r->dge : NULL, &err);
  CHECK(st == LAC_OK, "%s: lac_loss: %s", c->name, err.message);
  return st;
}

/* max |a - b| / max |b| (floor 1e-30; a NaN fails) */
static double rel_err(const float *a, const double *b, size_t n) {
  double md = 0, mb = 1e-30;
  for (size_t i = 0; i < n; i++) {
    double dd = fabs((double)a[i] - b[i]);
    if (isnan(dd)) return INFINITY;
    if (dd > md) md = dd;
    if (fabs(b[i]) > mb) mb = fabs(b[i]);
  }
  return md / mb;
}

static double max_abs(const float *a, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++)
    if (fabs((double)a[i]) > m) m = fabs((double)a[i]);
  return m;
}

/* ---------------------------------------------------------------- the reference files */

static double worst_term, worst_grad[4], worst_cell;

static void test_case_against_file(lac_aligner *a, lcase *c) {
  result r;
  result_alloc(&r, c);
  if (run(a, c, &c->p, c->e1, c->e2, c->go, c->ge, &r, 1) == LAC_OK) {
    double got[4] = {r.t.total, r.t.contrastive, r.t.local_ce, r.t.score};
    const char *tn[4] = {"total", "contrastive", "local_ce", "score"};
    double et = 0;
    for (int k = 0; k < 4; k++) {
      double e = fabs(got[k] - c->terms[k]) / fmax(fabs(c->terms[k]), 1.0);
      CHECK(e <= TOL_TERM, "%s: term %s %.10g vs autograd %.10g (error %.3g)", c->name, tn[k],
            got[k], c->terms[k], e);
      if (e > et) et = e;
    }
    size_t BTd = (size_t)c->B * c->T * c->d;
    double eg[4] = {rel_err(r.de1, c->de1, BTd), rel_err(r.de2, c->de2, BTd),
                    rel_err(r.dgo, c->dgo, c->ng), rel_err(r.dge, c->dge, c->ng)};
    const char *gn[4] = {"de1", "de2", "dgo", "dge"};
    for (int k = 0; k < 4; k++) {
      CHECK(eg[k] <= TOL_GRAD, "%s: %s max error %.3g relative to its largest entry", c->name,
            gn[k], eg[k]);
      if (eg[k] > worst_grad[k]) worst_grad[k] = eg[k];
    }
    /* METHOD.md bugs 1 and 3 are in the alignment's gap gradients: at tau = 0.8 with per-cell
     * penalties every cell must carry its own gradient (not its neighbour's) times the
     * incoming gradient.  Cell by cell, against the tensor's scale. */
    double mg = 0, mge = 0, ec = 0;
    for (int i = 0; i < c->ng; i++)
      mg = fmax(mg, fabs(c->dgo[i])), mge = fmax(mge, fabs(c->dge[i]));
    for (int i = 0; i < c->ng; i++) {
      double e1 = fabs(r.dgo[i] - c->dgo[i]) / mg, e2 = fabs(r.dge[i] - c->dge[i]) / mge;
      CHECK(e1 <= TOL_GRAD && e2 <= TOL_GRAD,
            "%s: penalty cell %d: dgo %.6g vs %.6g, dge %.6g vs %.6g", c->name, i, r.dgo[i],
            c->dgo[i], r.dge[i], c->dge[i]);
      ec = fmax(ec, fmax(e1, e2));
    }
    if (ec > worst_cell) worst_cell = ec;
    if (et > worst_term) worst_term = et;
    printf("  %-13s terms %.2e  de1 %.2e  de2 %.2e  dgo %.2e  dge %.2e (total %.8f)\n", c->name, et,
           eg[0], eg[1], eg[2], eg[3], r.t.total);
    /* masked frames: exactly no gradient */
    for (int b = 0; b < c->B; b++)
      for (int t = 0; t < c->T; t++)
        for (int k = 0; k < c->d; k++) {
          size_t bt = (size_t)b * c->T + t, i = bt * c->d + k;
          if (!c->v1[bt])
            CHECK(r.de1[i] == 0, "%s: masked frame %d of view 1 got gradient %g", c->name, t,
                  r.de1[i]);
          if (!c->v2[bt])
            CHECK(r.de2[i] == 0, "%s: masked frame %d of view 2 got gradient %g", c->name, t,
                  r.de2[i]);
        }
  }
  result_free(&r);
}

/* ---------------------------------------------------------------- finite differences */

/* The indices of the k largest |g[i]| (k <= 8). */
static int top_k(const float *g, int n, int k, int *idx) {
  int m = 0;
  for (int t = 0; t < k && t < n; t++) {
    int best = -1;
    for (int i = 0; i < n; i++) {
      int used = 0;
      for (int u = 0; u < m; u++) used |= idx[u] == i;
      if (!used && (best < 0 || fabs((double)g[i]) > fabs((double)g[best]))) best = i;
    }
    idx[m++] = best;
  }
  return m;
}

/* Central differences of the C loss's total on the largest-gradient coordinates of e1, e2,
 * go, ge, against the gradient g (the C loss's own, or a deliberately wrong one).  Returns
 * the number of coordinates outside FD_REL |g| + FD_ABS; *worst gets max |fd - g| / (FD_REL
 * |g| + FD_ABS).  report: CHECK each coordinate (0: just count, for the wrong gradients). */
static int fd_check(lac_aligner *a, const lcase *c, const lac_loss_params *p, const result *g,
                    int report, double *worst) {
  size_t BTd = (size_t)c->B * c->T * c->d;
  float *x[4] = {malloc(sizeof(float) * BTd), malloc(sizeof(float) * BTd),
                 malloc(sizeof(float) * c->ng), malloc(sizeof(float) * c->ng)};
  memcpy(x[0], c->e1, sizeof(float) * BTd);
  memcpy(x[1], c->e2, sizeof(float) * BTd);
  memcpy(x[2], c->go, sizeof(float) * c->ng);
  memcpy(x[3], c->ge, sizeof(float) * c->ng);
  const float *gr[4] = {g->de1, g->de2, g->dgo, g->dge};
  int n[4] = {(int)BTd, (int)BTd, c->ng, c->ng}, kk[4] = {5, 5, 3, 3};
  const char *nm[4] = {"e1", "e2", "go", "ge"};
  int fails = 0;
  *worst = 0;
  result r;
  memset(&r, 0, sizeof r);
  for (int t = 0; t < 4; t++) {
    int idx[8];
    int m = top_k(gr[t], n[t], kk[t], idx);
    for (int u = 0; u < m; u++) {
      int i = idx[u];
      float x0 = x[t][i];
      float h = 1e-2f * fmaxf(fabsf(x0), 1e-1f);
      volatile float xp = x0 + h, xm = x0 - h;
      double hh = (double)xp - (double)xm; /* the step actually taken, in float */
      x[t][i] = xp;
      run(a, c, p, x[0], x[1], x[2], x[3], &r, 0);
      double lp = r.t.total;
      x[t][i] = xm;
      run(a, c, p, x[0], x[1], x[2], x[3], &r, 0);
      double lm = r.t.total;
      x[t][i] = x0;
      double fd = (lp - lm) / hh, gv = gr[t][i], bound = FD_REL * fabs(gv) + FD_ABS;
      double q = fabs(fd - gv) / bound;
      if (q > *worst) *worst = q;
      if (q > 1) fails++;
      if (report)
        CHECK(q <= 1, "%s: finite difference d/d%s[%d] = %.6g, gradient %.6g", c->name, nm[t], i,
              fd, gv);
    }
  }
  for (int t = 0; t < 4; t++) free(x[t]);
  return fails;
}

/* ---------------------------------------------------------------- the bugs */

/* Bug 2: the reference ignores the gradient through M12/M21, so L_ce gives no gradient.
 * With the cross-entropy alone, stop_grad_m = 1 must give exactly zero gradients with the
 * same loss value, and stop_grad_m = 0 a non-zero gradient that matches autograd (the
 * case comparison above) and finite differences of the C loss; the zero gradient must fail
 * the finite-difference check. */
static void test_bug2(lac_aligner *a, lcase *ce, lcase *ref, lcase *sg) {
  result r0, r1;
  result_alloc(&r0, ce);
  result_alloc(&r1, ce);
  lac_loss_params p1 = ce->p;
  p1.stop_grad_m = 1;
  run(a, ce, &ce->p, ce->e1, ce->e2, ce->go, ce->ge, &r0, 1);
  run(a, ce, &p1, ce->e1, ce->e2, ce->go, ce->ge, &r1, 1);
  size_t BTd = (size_t)ce->B * ce->T * ce->d;
  CHECK(r0.t.total == r1.t.total, "bug 2: stop_grad_m changed the loss value");
  CHECK(max_abs(r1.de1, BTd) == 0 && max_abs(r1.de2, BTd) == 0 && max_abs(r1.dgo, ce->ng) == 0 &&
            max_abs(r1.dge, ce->ng) == 0,
        "bug 2: with the cross-entropy alone and stop_grad_m = 1 every gradient must be 0");
  CHECK(max_abs(r0.de1, BTd) > 1e-3 && max_abs(r0.dgo, ce->ng) > 1e-4,
        "bug 2: the cross-entropy gives no gradient (max |de1| %g, |dgo| %g)", max_abs(r0.de1, BTd),
        max_abs(r0.dgo, ce->ng));
  double w;
  int f = fd_check(a, ce, &ce->p, &r1, 0, &w);
  CHECK(f > 0, "bug 2: finite differences do not tell the stop_grad_m gradient from the true one");
  printf(
      "  bug 2: without the M path, %d of 16 finite-difference coordinates fail (worst %.1fx the "
      "tolerance)\n",
      f, w);
  result_free(&r0);
  result_free(&r1);

  /* the full reference loss: the M path changes the gradient well beyond the tolerance */
  result q0, q1;
  result_alloc(&q0, ref);
  result_alloc(&q1, ref);
  lac_loss_params ps = ref->p;
  ps.stop_grad_m = 1;
  run(a, ref, &ref->p, ref->e1, ref->e2, ref->go, ref->ge, &q0, 1);
  run(a, ref, &ps, ref->e1, ref->e2, ref->go, ref->ge, &q1, 1);
  BTd = (size_t)ref->B * ref->T * ref->d;
  double d1 = test_rel_err(q1.de1, q0.de1, BTd, 1e-30);
  double dg = test_rel_err(q1.dgo, q0.dgo, ref->ng, 1e-30);
  CHECK(d1 > 10 * TOL_GRAD && dg > 10 * TOL_GRAD,
        "bug 2: the M path changes the reference loss's gradients too little (de1 %g, dgo %g)", d1,
        dg);
  printf(
      "  bug 2: reference preset, stop_grad_m 0 vs 1: de1 differs by %.3g, dgo by %.3g "
      "(relative to max)\n",
      d1, dg);
  result_free(&q0);
  result_free(&q1);
  (void)sg; /* the stop_grad_m file itself is compared with autograd in the case loop */
}

/* Bug 4: the score enters with a signed weight.  The gradient is affine in score_weight,
 * so g(+1) - g(0) = -(g(-1) - g(0)) != 0, and the total moves by beta * score. */
static void test_bug4(lac_aligner *a, lcase *c) {
  result r[3];
  float w[3] = {1.f, 0.f, -1.f};
  for (int k = 0; k < 3; k++) {
    lac_loss_params p = c->p;
    p.score_weight = w[k];
    result_alloc(&r[k], c);
    run(a, c, &p, c->e1, c->e2, c->go, c->ge, &r[k], 1);
  }
  size_t BTd = (size_t)c->B * c->T * c->d;
  double worst = 0, scale = 0;
  float *gs[3][4] = {{r[0].de1, r[0].de2, r[0].dgo, r[0].dge},
                     {r[1].de1, r[1].de2, r[1].dgo, r[1].dge},
                     {r[2].de1, r[2].de2, r[2].dgo, r[2].dge}};
  size_t ns[4] = {BTd, BTd, (size_t)c->ng, (size_t)c->ng};
  for (int t = 0; t < 4; t++) {
    double sc = 0, e = 0;
    for (size_t i = 0; i < ns[t]; i++) {
      double up = (double)gs[0][t][i] - gs[1][t][i], dn = (double)gs[2][t][i] - gs[1][t][i];
      sc = fmax(sc, fabs(up));
      e = fmax(e, fabs(up + dn));
    }
    CHECK(sc > 0, "bug 4: score_weight does not change gradient %d", t);
    worst = fmax(worst, e / fmax(sc, 1e-30));
    scale = fmax(scale, sc);
  }
  CHECK(worst <= 1e-3, "bug 4: the score term's gradient does not flip with score_weight (%g)",
        worst);
  double dt = r[0].t.total - r[2].t.total, want = 2.0 * c->p.beta * r[1].t.score;
  CHECK(fabs(dt - want) <= 1e-6 * fmax(1, fabs(want)),
        "bug 4: total(+1) - total(-1) = %.9g, want %.9g", dt, want);
  /* a sign error in the score's gradient fails the finite-difference check */
  double wq;
  int f = fd_check(a, c, &c->p, &r[2], 0, &wq);
  CHECK(f > 0, "bug 4: finite differences do not see the score's sign");
  printf(
      "  bug 4: score term's gradient flips with the sign (asymmetry %.2e); the flipped gradient "
      "fails %d of 16 finite-difference coordinates\n",
      worst, f);
  for (int k = 0; k < 3; k++) result_free(&r[k]);
}

/* ---------------------------------------------------------------- other properties */

/* B pairs in one call = the pairs one by one (the 2B alignments share one SW call). */
static void test_batch_equals_single(lac_aligner *a, lcase *c) {
  result all;
  result_alloc(&all, c);
  run(a, c, &c->p, c->e1, c->e2, c->go, c->ge, &all, 1);
  double tot = 0, sc = 0;
  double *go_sum = calloc((size_t)c->ng, sizeof(double));
  size_t Td = (size_t)c->T * c->d;
  double eg = 0;
  for (int b = 0; b < c->B; b++) {
    lcase one = *c;
    one.B = 1;
    one.e1 = c->e1 + b * Td, one.e2 = c->e2 + b * Td;
    one.s1 = c->s1 + (size_t)b * c->T, one.s2 = c->s2 + (size_t)b * c->T;
    one.v1 = c->v1 + (size_t)b * c->T, one.v2 = c->v2 + (size_t)b * c->T;
    result r;
    result_alloc(&r, &one);
    run(a, &one, &c->p, one.e1, one.e2, c->go, c->ge, &r, 1);
    tot += r.t.total / c->B;
    sc += r.t.score / c->B;
    for (size_t i = 0; i < Td; i++) {
      /* a pair alone has L = B * (its share of the mean): its gradient is B times larger */
      eg = fmax(eg, fabs((double)r.de1[i] / c->B - all.de1[b * Td + i]));
      eg = fmax(eg, fabs((double)r.de2[i] / c->B - all.de2[b * Td + i]));
    }
    for (int i = 0; i < c->ng; i++) go_sum[i] += (double)r.dgo[i] / c->B;
    result_free(&r);
  }
  double egn = 0;
  for (int i = 0; i < c->ng; i++) egn = fmax(egn, fabs(go_sum[i] - all.dgo[i]));
  CHECK(fabs(tot - all.t.total) <= 1e-6 * fmax(1, fabs(tot)) &&
            fabs(sc - all.t.score) <= 1e-6 * fmax(1, fabs(sc)),
        "batch: %d pairs in one call %.9g (score %.9g), one by one %.9g (%.9g)", c->B, all.t.total,
        all.t.score, tot, sc);
  CHECK(eg <= 1e-6 * max_abs(all.de1, c->B * Td) && egn <= 1e-6 * max_abs(all.dgo, c->ng),
        "batch: gradients differ from the pairs one by one (%g, %g)", eg, egn);
  free(go_sum);
  result_free(&all);
}

/* Masked frames do not influence anything: changing their embeddings changes nothing. */
static void test_mask_independence(lac_aligner *a, lcase *c) {
  result r0, r1;
  result_alloc(&r0, c);
  result_alloc(&r1, c);
  size_t BTd = (size_t)c->B * c->T * c->d;
  float *e1 = malloc(sizeof(float) * BTd), *e2 = malloc(sizeof(float) * BTd);
  memcpy(e1, c->e1, sizeof(float) * BTd);
  memcpy(e2, c->e2, sizeof(float) * BTd);
  int changed = 0;
  for (size_t bt = 0; bt < (size_t)c->B * c->T; bt++)
    for (int k = 0; k < c->d; k++) {
      if (!c->v1[bt]) e1[bt * c->d + k] = 3.f + (float)k, changed++;
      if (!c->v2[bt]) e2[bt * c->d + k] = -2.f - (float)k, changed++;
    }
  CHECK(changed > 0, "%s: the masked case has no masked frame", c->name);
  run(a, c, &c->p, c->e1, c->e2, c->go, c->ge, &r0, 1);
  run(a, c, &c->p, e1, e2, c->go, c->ge, &r1, 1);
  CHECK(r0.t.total == r1.t.total && r0.t.score == r1.t.score,
        "%s: the masked frames' embeddings changed the loss (%.9g vs %.9g)", c->name, r0.t.total,
        r1.t.total);
  CHECK(test_rel_err(r1.dgo, r0.dgo, c->ng, 1e-30) == 0, "%s: masked frames changed dgo",
        c->name);
  free(e1);
  free(e2);
  result_free(&r0);
  result_free(&r1);
}

/* The aligner's workspace is reused across calls (grow-only, contents not cleared): a loss on
 * a warm aligner that has computed other cases of other sizes equals the same loss on a
 * fresh aligner bit for bit; and on a fresh aligner of threads threads (0: all cores), since
 * the per-pair loop's threads must not change the result either. */
static void test_workspace_reuse(lac_aligner *warm, lcase *c, int threads) {
  lac_error err;
  lac_aligner *fresh = NULL;
  lac_aligner_params ap = lac_aligner_default_params();
  ap.n_threads = threads;
  CHECK_OK(lac_aligner_new(&ap, &fresh, &err), &err);
  if (!fresh) return;
  result r1, r2;
  result_alloc(&r1, c);
  result_alloc(&r2, c);
  if (run(warm, c, &c->p, c->e1, c->e2, c->go, c->ge, &r1, 1) == LAC_OK &&
      run(fresh, c, &c->p, c->e1, c->e2, c->go, c->ge, &r2, 1) == LAC_OK) {
    const size_t BTd = (size_t)c->B * c->T * c->d;
    CHECK(r1.t.total == r2.t.total && !memcmp(r1.de1, r2.de1, sizeof(float) * BTd) &&
              !memcmp(r1.de2, r2.de2, sizeof(float) * BTd) &&
              !memcmp(r1.dgo, r2.dgo, sizeof(float) * c->ng) &&
              !memcmp(r1.dge, r2.dge, sizeof(float) * c->ng),
          "%s: a warm aligner's loss differs from a fresh one's of %d threads (%.9g vs %.9g)",
          c->name, threads, r1.t.total, r2.t.total);
  }
  result_free(&r1);
  result_free(&r2);
  lac_aligner_free(fresh);
}

/* The row pieces with a row of scratch (the CPU loss) and without (the device kernels, which
 * compute each exponential again) give the same bits: values, gradients and softmaxes, for
 * KL and cross-entropy, with and without the log's epsilon, on rows whose logits span from
 * ties to exponentials that underflow. */
static void test_rows_scratch(void) {
  enum { N = 67 };
  lac_rng r;
  lac_rng_seed(&r, 41);
  float x[N], g1[N], g2[N], y1[N], y2[N];
  double lab[N], work[N], lsum = 0;
  int same = 0, runs = 0;
  for (int c = 0; c < N; c++) {
    lab[c] = c % 5 == 0 ? 0.0 : lac_rng_uniform(&r);
    lsum += lab[c];
  }
  for (int c = 0; c < N; c++) lab[c] /= lsum;
  for (int k = 0; k < 4; k++) {
    const float spread = k == 0 ? 0.0f : k == 1 ? 1.0f : k == 2 ? 30.0f : 300.0f;
    for (int c = 0; c < N; c++) x[c] = spread * (float)(lac_rng_uniform(&r) - 0.5);
    for (int v = 0; v < 4; v++) {
      const double eps = v & 1 ? 1e-6 : 0.0;
      const int kl = v >> 1;
      const double a = lac_row_soft_target(N, x, 1.25f, lab, eps, kl, 0.3, g1, NULL);
      const double b = lac_row_soft_target(N, x, 1.25f, lab, eps, kl, 0.3, g2, work);
      const double a0 = lac_row_soft_target(N, x, 1.25f, lab, eps, kl, 0.3, NULL, NULL);
      const double b0 = lac_row_soft_target(N, x, 1.25f, lab, eps, kl, 0.3, NULL, work);
      runs++;
      same += a == b && a0 == b0 && a == a0 && !memcmp(g1, g2, sizeof g1);
      CHECK(isfinite(a), "spread %g eps %g kl %d: soft target %g", spread, eps, kl, a);
    }
    lac_row_softmax(N, x, y1, NULL);
    lac_row_softmax(N, x, y2, work);
    runs++;
    same += !memcmp(y1, y2, sizeof y1);
  }
  CHECK(same == runs, "row pieces with and without scratch: %d of %d runs bit for bit", same,
        runs);
}

static void test_presets(void) {
  lac_loss_params p;
  lac_error err;
  CHECK_OK(lac_loss_preset("reference", &p, &err), &err);
  CHECK(p.logits == LAC_LOGITS_MATMUL && p.score_weight == 1.f && p.per_cell_gaps == 1 &&
            p.temperature == 0.8f && p.sw_tau == 0.8f && p.log_eps == 1e-6f && p.alpha == 1.f &&
            p.beta == 0.01f && p.stop_grad_m == 0 && p.label_var == 10.f &&
            p.similarity == LAC_SIM_INV_SQDIST && p.sim_eps == 1e-6f,
        "reference preset fields");
  CHECK_OK(lac_loss_preset("paper", &p, &err), &err);
  CHECK(p.logits == LAC_LOGITS_ELEMENTWISE && p.log_eps == 0.f && p.score_weight == 1.f &&
            p.per_cell_gaps == 1 && p.beta == 0.01f,
        "paper preset fields");
  CHECK(
      lac_loss_preset("carl", &p, &err) == LAC_ERR_INVALID_ARG && strstr(err.message, "reference"),
      "unknown preset: %s", err.message);
}

/* Refusals: every error has a status and a message. */
static void test_errors(lac_aligner *a, lcase *c) {
  lac_error err;
  lac_loss_terms t;
  size_t BTd = (size_t)c->B * c->T * c->d;
  float *e1 = malloc(sizeof(float) * BTd), *go = malloc(sizeof(float) * c->ng);
  memcpy(e1, c->e1, sizeof(float) * BTd);
  memcpy(go, c->go, sizeof(float) * c->ng);
#define CALL(P, E1, GO, V1)                                                                       \
  lac_loss(a, P, c->B, c->T, c->d, E1, c->e2, c->s1, c->s2, V1, c->v2, GO, c->ge, &t, NULL, NULL, \
           NULL, NULL, &err)
  e1[7] = NAN;
  CHECK(CALL(&c->p, e1, go, c->v1) == LAC_ERR_NUMERIC && strstr(err.message, "e1"), "NaN in e1: %s",
        err.message);
  e1[7] = c->e1[7];
  go[c->ng - 1] = INFINITY;
  CHECK(CALL(&c->p, e1, go, c->v1) == LAC_ERR_NUMERIC && strstr(err.message, "go"), "Inf in go: %s",
        err.message);
  go[c->ng - 1] = c->go[c->ng - 1];
  uint8_t *v = calloc((size_t)c->B * c->T, 1);
  CHECK(CALL(&c->p, e1, go, v) == LAC_ERR_INVALID_ARG && strstr(err.message, "valid"),
        "all frames masked: %s", err.message);
  free(v);
  lac_loss_params p = c->p;
  p.temperature = 0;
  CHECK(CALL(&p, e1, go, c->v1) == LAC_ERR_INVALID_ARG && strstr(err.message, "temperature"),
        "temperature 0: %s", err.message);
  p = c->p;
  p.label_var = NAN;
  CHECK(CALL(&p, e1, go, c->v1) == LAC_ERR_INVALID_ARG, "label_var NaN: %s", err.message);
  p = c->p;
  p.logits = (lac_logits_mode)7;
  CHECK(CALL(&p, e1, go, c->v1) == LAC_ERR_INVALID_ARG, "logits 7: %s", err.message);
  /* identical frames with 1/d^2 and no epsilon: infinite similarity, refused */
  p = c->p;
  p.similarity = LAC_SIM_INV_SQDIST;
  p.sim_eps = 0;
  memcpy(e1, c->e2, sizeof(float) * c->d); /* e1[0][0] = e2[0][0] */
  CHECK(CALL(&p, e1, go, NULL) == LAC_ERR_NUMERIC, "1/0 similarity: %s", err.message);
  CHECK(lac_loss(a, &c->p, 0, c->T, c->d, c->e1, c->e2, c->s1, c->s2, NULL, NULL, c->go, c->ge, &t,
                 NULL, NULL, NULL, NULL, &err) == LAC_ERR_INVALID_ARG,
        "B = 0: %s", err.message);
  CHECK(lac_loss(a, &c->p, c->B, c->T, c->d, NULL, c->e2, c->s1, c->s2, NULL, NULL, c->go, c->ge,
                 &t, NULL, NULL, NULL, NULL, &err) == LAC_ERR_INVALID_ARG,
        "NULL e1: %s", err.message);
#undef CALL
  free(e1);
  free(go);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s REF_DIR\n", argv[0]);
    return 2;
  }
  ref_dir = argv[1];
  lac_error err;
  lac_aligner *a = NULL;
  lac_aligner_params ap = lac_aligner_default_params();
  CHECK_OK(lac_aligner_new(&ap, &a, &err), &err);
  if (!a) return test_exit("loss");
  test_presets();
  test_rows_scratch();

  const char *names[] = {"reference",  "paper",  "stop_grad_m",  "scalar_gaps", "cosine",
                         "neg_sqdist", "masked", "masked_paper", "ce_only",     "score_minus"};
  enum { NC = sizeof names / sizeof names[0] };
  lcase cs[NC];
  int ok[NC];
  printf("against float64 autograd (max error relative to each tensor's largest entry):\n");
  for (int i = 0; i < NC; i++) {
    ok[i] = load_case(names[i], &cs[i]);
    if (ok[i]) test_case_against_file(a, &cs[i]);
  }
  printf(
      "  worst: terms %.2e, de1 %.2e, de2 %.2e, dgo %.2e, dge %.2e, per cell %.2e "
      "(tolerances %.0e, %.0e)\n",
      worst_term, worst_grad[0], worst_grad[1], worst_grad[2], worst_grad[3], worst_cell, TOL_TERM,
      TOL_GRAD);

  printf("finite differences of the C loss (worst |fd - g| / (%.0e |g| + %.0e)):\n", FD_REL,
         FD_ABS);
  for (int i = 0; i < NC; i++) {
    if (!ok[i] || cs[i].p.stop_grad_m) continue; /* stop_grad_m is not the forward's gradient */
    result r;
    result_alloc(&r, &cs[i]);
    if (run(a, &cs[i], &cs[i].p, cs[i].e1, cs[i].e2, cs[i].go, cs[i].ge, &r, 1) == LAC_OK) {
      double w;
      fd_check(a, &cs[i], &cs[i].p, &r, 1, &w);
      printf("  %-13s %.3f\n", names[i], w);
    }
    result_free(&r);
  }

  if (ok[0] && ok[2] && ok[8]) test_bug2(a, &cs[8], &cs[0], &cs[2]);
  if (ok[0]) test_bug4(a, &cs[0]);
  if (ok[0]) test_batch_equals_single(a, &cs[0]);
  if (ok[6]) test_batch_equals_single(a, &cs[6]);
  if (ok[6]) test_mask_independence(a, &cs[6]);
  if (ok[7]) test_mask_independence(a, &cs[7]);
  if (ok[0]) test_errors(a, &cs[0]);
  { /* warm the aligner with a larger loss first (B 3, T 20, d 16, masks), then each case */
    enum { WB = 3, WT = 20, WD = 16 };
    static float w1[WB * WT * WD], w2[WB * WT * WD], wgo[WT * WT], wge[WT * WT], g[WB * WT * WD];
    static int64_t ws[WB * WT];
    static uint8_t wv[WB * WT];
    for (int i = 0; i < WB * WT * WD; i++) w1[i] = (float)sin(0.37 * i), w2[i] = (float)cos(0.11 * i);
    for (int i = 0; i < WT * WT; i++) wgo[i] = 0.4f, wge[i] = 0.1f;
    for (int i = 0; i < WB * WT; i++) ws[i] = i % WT, wv[i] = i % 7 != 3;
    lac_loss_params wp;
    lac_loss_preset("reference", &wp, &err);
    CHECK_OK(lac_loss(a, &wp, WB, WT, WD, w1, w2, ws, ws, wv, NULL, wgo, wge, NULL, g, g, NULL,
                      NULL, &err), &err);
    for (int i = NC - 1; i >= 0; i--)
      if (ok[i]) test_workspace_reuse(a, &cs[i], i % 3 == 0 ? 1 : i % 3 == 1 ? 0 : 3);
  }

  for (int i = 0; i < NC; i++)
    if (ok[i]) free_case(&cs[i]);
  lac_aligner_free(a);
  return test_exit("loss");
}
