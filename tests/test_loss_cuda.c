/* test_loss_cuda.c — the CUDA loss (lib/cuda/cuda_loss.c, kernels/loss.cu) against lac_loss
 * on the CPU (lib/align/loss.c, the oracle), masks included.
 *
 * Inputs: the committed reference cases tests/ref/loss_<case>.safetensors (inputs and options
 * only; test_loss checks the CPU loss against the files' autograd values) and a random sweep
 * (B = 3, T = 37, d = 16, random masks, every similarity x logits mode x penalty kind x
 * stop_grad_m).  Compared per case: the four terms and de1, de2, dgo, dge, each as max
 * |cuda - cpu| / max |cpu| over the tensor (terms: |cuda - cpu| / max(|cpu|, 1)), tolerance
 * TOL = 1e-4; gradients are NaN-filled first (all must be overwritten).  Also: a run without
 * gradients gives the same terms; asking for one gradient alone gives the same values as
 * asking for all; refusals (sw_tau = 0, T > 1024, a view with every frame masked, a
 * non-finite similarity, a CPU backend).  Then the same through lac_loss on an aligner made
 * on the CUDA backend (lac_aligner_params.backend; with --emulation the aligner's emulation
 * hook): two reference cases and the sweep; afterwards no alignment forward remains on the
 * aligner; with sw_tau = 0 such an aligner gives the CPU loss bit for bit.
 *
 * Where: with --emulation, through lac_cuda_loss_emulated (the same sequence on the CPU: the
 * kernels' per-element code, the SW kernels' lane emulation, cblas; its "device" buffers
 * NaN-filled first) — no GPU needed, exit 0 or 1; without it, through lac_cuda_loss on a CUDA
 * backend with NaN poisoning on — exit 77 (skipped) without a GPU.
 * Usage: test_loss_cuda REF_DIR [--emulation] */
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "lac/align.h"
#include "lac/safetensors.h"
#include "lac_internal.h"
#include "testutil.h"

#define TOL 1e-4

static const void *tdata(lac_st_file *f, const char *cname, const char *name, lac_dtype dt,
                         size_t n) {
  const lac_st_tensor *t = lac_st_find(f, name);
  CHECK(t && t->dtype == dt && t->n_elements == n, "%s: tensor '%s' missing or wrong", cname,
        name);
  return t && t->dtype == dt && t->n_elements == n ? t->data : NULL;
}

static double meta_num(lac_st_file *f, const char *key) {
  const char *v = lac_st_meta_get(f, key);
  CHECK(v != NULL, "metadata '%s' missing", key);
  return v ? strtod(v, NULL) : 0;
}

static double worst[2][5]; /* [emulation, gpu][terms, de1, de2, dgo, dge] */

typedef struct {
  int B, T, d;
  const float *e1, *e2, *go, *ge;
  const int64_t *s1, *s2;
  const uint8_t *v1, *v2;
} loss_in;

/* when set: the loss through lac_loss on this aligner (made on the CUDA backend, or with the
 * emulation hook) instead of the direct call */
static lac_aligner *via;

static lac_status run_loss(lac_backend *gpu, const lac_loss_params *p, const loss_in *in,
                           lac_loss_terms *t, float *de1, float *de2, float *dgo, float *dge,
                           lac_error *err) {
  if (via)
    return lac_loss(via, p, in->B, in->T, in->d, in->e1, in->e2, in->s1, in->s2, in->v1, in->v2,
                    in->go, in->ge, t, de1, de2, dgo, dge, err);
  if (gpu)
    return lac_cuda_loss(gpu, p, in->B, in->T, in->d, in->e1, in->e2, in->s1, in->s2, in->v1,
                         in->v2, in->go, in->ge, t, de1, de2, dgo, dge, err);
  return lac_cuda_loss_emulated(p, in->B, in->T, in->d, in->e1, in->e2, in->s1, in->s2, in->v1,
                                in->v2, in->go, in->ge, t, de1, de2, dgo, dge, err);
}

/* one case on one path (gpu NULL: the emulation) against the CPU loss */
static void compare(lac_backend *gpu, lac_aligner *a, const char *name, const lac_loss_params *p,
                    const loss_in *in) {
  const char *where = via ? (gpu ? "aligner gpu" : "aligner emu") : gpu ? "gpu" : "emulation";
  const size_t BTd = (size_t)in->B * in->T * in->d,
               ng = p->per_cell_gaps ? (size_t)in->T * in->T : 1;
  const size_t sz[4] = {BTd, BTd, ng, ng};
  float *c[4], *g[4], *o[4];
  for (int k = 0; k < 4; k++) {
    c[k] = malloc(sizeof(float) * sz[k]);
    g[k] = malloc(sizeof(float) * sz[k]);
    o[k] = malloc(sizeof(float) * sz[k]);
    for (size_t i = 0; i < sz[k]; i++) c[k][i] = g[k][i] = o[k][i] = NAN;
  }
  lac_error err;
  lac_loss_terms tc, tg, tg0;
  memset(&tg, 0, sizeof tg);
  lac_status st = run_loss(gpu, p, in, &tg, g[0], g[1], g[2], g[3], &err);
  CHECK_OK(st, &err);
  lac_status sc = lac_loss(a, p, in->B, in->T, in->d, in->e1, in->e2, in->s1, in->s2, in->v1,
                           in->v2, in->go, in->ge, &tc, c[0], c[1], c[2], c[3], &err);
  CHECK_OK(sc, &err);
  if (st == LAC_OK && sc == LAC_OK) {
    const double gt[4] = {tg.total, tg.contrastive, tg.local_ce, tg.score};
    const double ct[4] = {tc.total, tc.contrastive, tc.local_ce, tc.score};
    double et = 0, eg[4];
    for (int k = 0; k < 4; k++) {
      double e = fabs(gt[k] - ct[k]) / fmax(fabs(ct[k]), 1.0);
      if (!(e <= et)) et = e;
    }
    CHECK(et <= TOL, "%s (%s): terms differ: total %.9g vs %.9g (error %.3g)", name, where,
          tg.total, tc.total, et);
    const char *gn[4] = {"de1", "de2", "dgo", "dge"};
    double *w = worst[gpu ? 1 : 0];
    for (int k = 0; k < 4; k++) {
      eg[k] = test_rel_err(g[k], c[k], sz[k], 1e-30);
      CHECK(eg[k] <= TOL, "%s (%s): %s max error %.3g relative to its largest entry", name,
            where, gn[k], eg[k]);
      if (!(eg[k] <= w[k + 1])) w[k + 1] = eg[k];
    }
    if (!(et <= w[0])) w[0] = et;
    printf("  %-11s %-22s terms %.2e  de1 %.2e  de2 %.2e  dgo %.2e  dge %.2e (total %.8f cpu "
           "%.8f)\n",
           where, name, et, eg[0], eg[1], eg[2], eg[3], tg.total, tc.total);
    /* without gradients: the same terms */
    st = run_loss(gpu, p, in, &tg0, NULL, NULL, NULL, NULL, &err);
    CHECK_OK(st, &err);
    CHECK(st != LAC_OK || fabs(tg0.total - tg.total) <= 1e-6 * fmax(fabs(tg.total), 1.0),
          "%s (%s): total without gradients %.9g vs %.9g", name, where, tg0.total, tg.total);
    /* each gradient alone: the values of the full run */
    for (int k = 0; k < 4; k++) {
      for (size_t i = 0; i < sz[k]; i++) o[k][i] = NAN;
      st = run_loss(gpu, p, in, NULL, k == 0 ? o[0] : NULL, k == 1 ? o[1] : NULL,
                    k == 2 ? o[2] : NULL, k == 3 ? o[3] : NULL, &err);
      CHECK_OK(st, &err);
      CHECK(st != LAC_OK || test_rel_err(o[k], g[k], sz[k], 1e-30) <= 1e-6,
            "%s (%s): %s alone differs from the full run (%.3g)", name, where, gn[k],
            test_rel_err(o[k], g[k], sz[k], 1e-30));
    }
  }
  for (int k = 0; k < 4; k++) free(c[k]), free(g[k]), free(o[k]);
}

static void run_case(lac_backend *gpu, lac_aligner *a, const char *dir, const char *name) {
  char path[1024];
  lac_error err;
  lac_st_file *f = NULL;
  snprintf(path, sizeof path, "%s/loss_%s.safetensors", dir, name);
  lac_status st = lac_st_read(path, &f, &err);
  CHECK(st == LAC_OK, "cannot read %s: %s", path, err.message);
  if (st != LAC_OK) return;
  lac_loss_params p;
  const char *pre = lac_st_meta_get(f, "preset");
  CHECK(pre && lac_loss_preset(pre, &p, &err) == LAC_OK, "%s: preset", name);
  const int B = (int)meta_num(f, "B"), T = (int)meta_num(f, "T"), d = (int)meta_num(f, "d");
  p.label_var = (float)meta_num(f, "label_var");
  p.temperature = (float)meta_num(f, "temperature");
  p.log_eps = (float)meta_num(f, "log_eps");
  p.sw_tau = (float)meta_num(f, "sw_tau");
  p.sim_eps = (float)meta_num(f, "sim_eps");
  p.score_weight = (float)meta_num(f, "score_weight");
  p.alpha = (float)meta_num(f, "alpha");
  p.beta = (float)meta_num(f, "beta");
  p.per_cell_gaps = (int)meta_num(f, "per_cell_gaps");
  p.stop_grad_m = (int)meta_num(f, "stop_grad_m");
  const char *sim = lac_st_meta_get(f, "similarity"), *lg = lac_st_meta_get(f, "logits");
  CHECK(sim && lg, "%s: similarity/logits metadata missing", name);
  if (!sim || !lg) {
    lac_st_free(f);
    return;
  }
  p.similarity = !strcmp(sim, "cosine")       ? LAC_SIM_COSINE
                 : !strcmp(sim, "neg_sqdist") ? LAC_SIM_NEG_SQDIST
                                              : LAC_SIM_INV_SQDIST;
  p.logits = !strcmp(lg, "elementwise") ? LAC_LOGITS_ELEMENTWISE : LAC_LOGITS_MATMUL;
  const size_t BT = (size_t)B * T, BTd = BT * d, ng = p.per_cell_gaps ? (size_t)T * T : 1;
  loss_in in = {B, T, d,
                tdata(f, name, "e1", LAC_DTYPE_F32, BTd),
                tdata(f, name, "e2", LAC_DTYPE_F32, BTd),
                tdata(f, name, "go", LAC_DTYPE_F32, ng),
                tdata(f, name, "ge", LAC_DTYPE_F32, ng),
                tdata(f, name, "s1", LAC_DTYPE_I64, BT),
                tdata(f, name, "s2", LAC_DTYPE_I64, BT),
                tdata(f, name, "valid1", LAC_DTYPE_U8, BT),
                tdata(f, name, "valid2", LAC_DTYPE_U8, BT)};
  if (in.e1 && in.e2 && in.go && in.ge && in.s1 && in.s2 && in.v1 && in.v2)
    compare(gpu, a, name, &p, &in);
  lac_st_free(f);
}

/* ---------------------------------------------------------------- random sweep */

static uint64_t rng = 0x2545f4914f6cdd1dull;
static double urand(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

static void sweep(lac_backend *gpu, lac_aligner *a) {
  enum { B = 3, T = 37, d = 16 };
  static float e1[B * T * d], e2[B * T * d], go[T * T], ge[T * T];
  static int64_t s1[B * T], s2[B * T];
  static uint8_t v1[B * T], v2[B * T];
  rng = 0x2545f4914f6cdd1dull; /* the same inputs on both paths */
  for (int i = 0; i < B * T * d; i++) {
    e1[i] = (float)(urand() - 0.5);
    e2[i] = (float)(urand() - 0.5);
  }
  for (int i = 0; i < T * T; i++) {
    go[i] = (float)(0.2 + 0.5 * urand());
    ge[i] = (float)(0.05 + 0.2 * urand());
  }
  for (int b = 0; b < B; b++) {
    int t1 = (int)(urand() * 20), t2 = (int)(urand() * 20);
    for (int t = 0; t < T; t++) {
      t1 += 1 + (int)(urand() * 3), t2 += 1 + (int)(urand() * 3);
      s1[b * T + t] = t1, s2[b * T + t] = t2;
      /* pair 0 all valid; pair 1 a masked tail and holes; pair 2 one valid frame in view 2 */
      v1[b * T + t] = b == 0 || (b == 1 ? t < 30 && t % 7 != 3 : urand() < 0.6);
      v2[b * T + t] = b == 0 || (b == 1 ? t > 2 && t % 5 != 1 : t == 17);
    }
    v1[b * T + 5] = 1;
  }
  loss_in in = {B, T, d, e1, e2, go, ge, s1, s2, v1, v2};
  lac_error err;
  const char *sims[3] = {"inv_sqdist", "neg_sqdist", "cosine"};
  for (int sim = 0; sim < 3; sim++)
    for (int lgm = 0; lgm < 2; lgm++)
      for (int pc = 0; pc < 2; pc++)
        for (int sg = 0; sg < 2; sg++) {
          if (sim != 0 && sg) continue; /* stop_grad_m once per logits mode and penalties */
          lac_loss_params p;
          lac_loss_preset("reference", &p, &err);
          p.similarity = (lac_similarity)sim;
          p.logits = lgm ? LAC_LOGITS_ELEMENTWISE : LAC_LOGITS_MATMUL;
          p.per_cell_gaps = pc;
          p.stop_grad_m = sg;
          p.beta = 0.5f; /* the alignment terms weigh as much as the contrastive one */
          p.score_weight = sim == 1 ? -1.f : 1.f;
          char name[64];
          snprintf(name, sizeof name, "sweep %s %s %s%s", sims[sim], lgm ? "elem" : "matmul",
                   pc ? "cell" : "scalar", sg ? " sg" : "");
          compare(gpu, a, name, &p, &in);
        }
}

/* Near-duplicate views, as training produces: e2 = e1 + 1e-3 noise with |e| ~ 7, so squared
 * distances (~1e-5) are tiny next to the norms (~50).  |x|^2 + |y|^2 - 2 x.y with a float
 * Gram matrix cancels to noise there; the loss must take the distances as the CPU does. */
static void near_duplicates(lac_backend *gpu, lac_aligner *a) {
  enum { B = 2, T = 24, d = 16 };
  static float e1[B * T * d], e2[B * T * d], go[T * T], ge[T * T];
  static int64_t s1[B * T], s2[B * T];
  rng = 0x853c49e6748fea9bull;
  for (int i = 0; i < B * T * d; i++) {
    e1[i] = (float)(6.0 * (urand() - 0.5) + (i % d == 0 ? 5.0 : 0.0));
    e2[i] = e1[i] + (float)(2e-3 * (urand() - 0.5));
  }
  for (int i = 0; i < T * T; i++) go[i] = 0.5f, ge[i] = 0.1f;
  for (int i = 0; i < B * T; i++) s1[i] = s2[i] = i % T;
  loss_in in = {B, T, d, e1, e2, go, ge, s1, s2, NULL, NULL};
  lac_error err;
  const char *names[3] = {"near-dup inv_sqdist", "near-dup neg_sqdist", "near-dup cosine"};
  for (int sim = 0; sim < 3; sim++)
    for (int local_only = 0; local_only < 2; local_only++) {
      lac_loss_params p;
      lac_loss_preset("reference", &p, &err);
      p.similarity = (lac_similarity)sim;
      p.sim_eps = 1e-6f;
      if (local_only) p.alpha = 0; /* only the alignment terms: the similarity's own gradient */
      char name[64];
      snprintf(name, sizeof name, "%s%s", names[sim], local_only ? " local" : "");
      compare(gpu, a, name, &p, &in);
    }
}

/* ---------------------------------------------------------------- refusals */

static void refusals(lac_backend *gpu) {
  const char *where = gpu ? "gpu" : "emulation";
  lac_error err;
  lac_loss_params p;
  lac_loss_preset("reference", &p, &err);
  p.per_cell_gaps = 0;
  enum { T = 4, d = 3 };
  float e1[T * d], e2[T * d], go = 0.5f, ge = 0.1f, g[T * d];
  int64_t s[T] = {0, 1, 2, 3};
  uint8_t none[T] = {0, 0, 0, 0};
  for (int i = 0; i < T * d; i++) e1[i] = (float)i, e2[i] = (float)(i % 5);
  loss_in in = {1, T, d, e1, e2, &go, &ge, s, s, NULL, NULL};
  lac_loss_terms t;
  p.sw_tau = 0;
  CHECK(run_loss(gpu, &p, &in, &t, g, NULL, NULL, NULL, &err) == LAC_ERR_UNSUPPORTED,
        "%s: sw_tau = 0 must be refused", where);
  p.sw_tau = 0.8f;
  in.v2 = none;
  CHECK(run_loss(gpu, &p, &in, &t, g, NULL, NULL, NULL, &err) == LAC_ERR_INVALID_ARG &&
            strstr(err.message, "no valid frame"),
        "%s: an all-masked view must be refused: %s", where, err.message);
  in.v2 = NULL;
  p.sim_eps = 0; /* e1 row 0 == e2 row 0 only if equal: make frame 0 identical */
  e2[0] = e1[0], e2[1] = e1[1], e2[2] = e1[2];
  CHECK(run_loss(gpu, &p, &in, &t, g, NULL, NULL, NULL, &err) == LAC_ERR_NUMERIC &&
            strstr(err.message, "non-finite similarity"),
        "%s: an infinite similarity must be refused: %s", where, err.message);
  p.sim_eps = 1e-6f;
  go = 1e21f;
  CHECK(run_loss(gpu, &p, &in, &t, g, NULL, NULL, NULL, &err) == LAC_ERR_NUMERIC,
        "%s: a penalty of 1e21 must be refused", where);
  go = 0.5f;
  /* T > 1024: refused before anything is read */
  in.T = LAC_CUDA_SW_MAX_LEN + 1;
  float *big = calloc((size_t)in.T * d, sizeof(float));
  int64_t *bs = calloc((size_t)in.T, sizeof(int64_t));
  in.e1 = in.e2 = big, in.s1 = in.s2 = bs;
  CHECK(run_loss(gpu, &p, &in, &t, NULL, NULL, NULL, NULL, &err) == LAC_ERR_UNSUPPORTED,
        "%s: T > %d must be refused", where, LAC_CUDA_SW_MAX_LEN);
  free(big);
  free(bs);
}

int main(int argc, char **argv) {
  if (argc < 2 || (argc > 2 && strcmp(argv[2], "--emulation") != 0) || argc > 3) {
    fprintf(stderr, "usage: %s REF_DIR [--emulation]\n", argv[0]);
    return 2;
  }
  const int emulation = argc > 2;
  lac_error err;
  lac_aligner *a = NULL;
  lac_aligner_params ap = lac_aligner_default_params();
  CHECK_OK(lac_aligner_new(&ap, &a, &err), &err);
  if (!a) return test_exit("test_loss_cuda");
  int count = 0;
  const int have_gpu = !emulation && cudaGetDeviceCount(&count) == cudaSuccess && count >= 1;
  if (!emulation && !have_gpu) {
    printf("test_loss_cuda: no CUDA device: skipped (the emulation runs with --emulation)\n");
    lac_aligner_free(a);
    return 77;
  }
  lac_backend *gpu = NULL;
  if (have_gpu) {
    lac_backend_params bp = lac_backend_default_params();
    bp.kind = LAC_BACKEND_CUDA;
    CHECK_OK(lac_backend_new(&bp, &gpu, &err), &err);
    if (gpu) lac_cuda_backend_set_poison(gpu, 1);
    struct cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
      printf("test_loss_cuda: device %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
  }
  printf("CUDA loss vs lac_loss (CPU): max error relative to each tensor's largest entry "
         "(terms: to max(|cpu|, 1)), tolerance %.0e\n",
         TOL);
  const char *names[] = {"reference",  "paper",  "stop_grad_m",  "scalar_gaps", "cosine",
                         "neg_sqdist", "masked", "masked_paper", "ce_only",     "score_minus"};
  if (have_gpu && !gpu) return test_exit("test_loss_cuda");
  for (int path = gpu ? 1 : 0; path < (gpu ? 2 : 1); path++) {
    lac_backend *bk = path ? gpu : NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) run_case(bk, a, argv[1], names[i]);
    sweep(bk, a);
    near_duplicates(bk, a);
    refusals(bk);
    /* the same through lac_loss on a CUDA aligner (its own buffers and stream) */
    lac_aligner_params vp = lac_aligner_default_params();
    vp.backend = bk;
    CHECK_OK(lac_aligner_new(&vp, &via, &err), &err);
    if (via && !bk) CHECK_OK(lac_aligner_use_cuda_emulation(via, &err), &err);
    if (via) {
      run_case(bk, a, argv[1], "reference");
      run_case(bk, a, argv[1], "masked_paper");
      sweep(bk, a);
      /* the loss dropped the aligner's last alignment forward */
      float gv = 1, ds = 0;
      float *dsp = &ds;
      CHECK(lac_sw_backward(via, &gv, NULL, &dsp, NULL, NULL, &err) == LAC_ERR_INVALID_ARG,
            "after lac_loss on a CUDA aligner no alignment forward must remain");
      /* sw_tau = 0 on a CUDA aligner runs the CPU loss: the CPU's values exactly */
      lac_loss_params hp;
      lac_loss_preset("paper", &hp, &err);
      hp.sw_tau = 0;
      enum { T = 9, d = 5 };
      float e1[T * d], e2[T * d], go[T * T], ge[T * T], g1[T * d], g2[T * d];
      int64_t s1[T], s2[T];
      for (int i = 0; i < T * d; i++) e1[i] = (float)sin(i), e2[i] = (float)cos(0.7 * i);
      for (int i = 0; i < T * T; i++) go[i] = 0.3f, ge[i] = 0.1f;
      for (int t = 0; t < T; t++) s1[t] = t, s2[t] = 2 * t;
      lac_loss_terms t1, t2;
      CHECK_OK(lac_loss(via, &hp, 1, T, d, e1, e2, s1, s2, NULL, NULL, go, ge, &t1, g1, NULL,
                        NULL, NULL, &err), &err);
      CHECK_OK(lac_loss(a, &hp, 1, T, d, e1, e2, s1, s2, NULL, NULL, go, ge, &t2, g2, NULL, NULL,
                        NULL, &err), &err);
      CHECK(t1.total == t2.total && !memcmp(g1, g2, sizeof g1),
            "hard loss on a CUDA aligner: %.9g vs the CPU's %.9g", t1.total, t2.total);
      lac_aligner_free(via);
      via = NULL;
    }
    printf("summary (%s): worst terms %.2e, de1 %.2e, de2 %.2e, dgo %.2e, dge %.2e (tolerance "
           "%.0e)\n",
           path ? "gpu" : "emulation", worst[path][0], worst[path][1], worst[path][2],
           worst[path][3], worst[path][4], TOL);
  }
  /* a CPU backend is refused */
  lac_backend_params cp = lac_backend_default_params();
  lac_backend *cpu = NULL;
  if (lac_backend_new(&cp, &cpu, &err) == LAC_OK) {
    lac_loss_params p;
    lac_loss_preset("reference", &p, &err);
    float x[4] = {0}, gg = 1;
    int64_t s[1] = {0};
    CHECK(lac_cuda_loss(cpu, &p, 1, 1, 4, x, x, s, s, NULL, NULL, &gg, &gg, NULL, NULL, NULL,
                        NULL, NULL, &err) == LAC_ERR_INVALID_ARG,
          "lac_cuda_loss on a CPU backend must be refused");
    lac_backend_free(cpu);
  }
  lac_aligner_free(a);
  lac_backend_free(gpu);
  return test_exit("test_loss_cuda");
}
