/* lac.c — the `lac` command line over the library.
 *
 *   lac model init --arch PRESET [--seed S] [options] -o MODEL
 *   lac info MODEL
 *   lac embed MODEL (VIDEO | FRAMES.safetensors | --synthetic N) -o EMB.safetensors
 *   lac align A.safetensors B.safetensors [options]
 *   lac dataset synth --out DIR --videos N [options]
 *   lac eval MODEL DATASET [options]
 *   lac --help | lac help COMMAND | lac --version
 *
 * This file holds the commands on the library alone; the ones that decode or encode video
 * (embed VIDEO, dataset, eval) live in cli_eval.c over GStreamer (cli_video.c) and exist
 * when lac is built with GStreamer.  Exit codes: 0 ok, 1 failure, 2 usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lac/align.h"
#include "lac/lac.h"
#include "lac/safetensors.h"
#include "cli.h"

static void usage_main(FILE *f) {
  fprintf(f,
          "usage: lac COMMAND [ARGS]\n"
          "\n"
          "commands:\n"
          "  model init   write a seeded, randomly initialised model file\n"
          "  info         print a model's architecture, parameter count and metadata\n"
          "  embed        embed a clip as one sequence and write an embeddings file\n"
          "  align        locally align two embeddings files (hard path, soft matches)\n"
          "  dataset      make a synthetic phase-labelled dataset (dataset synth)\n"
          "  eval         evaluate a model on a dataset (the paper's metrics, with baselines)\n"
          "  help CMD     help on one command\n"
          "\n"
          "options for every command: --threads N (0 = all cores), --verbose\n"
          "run 'lac help COMMAND' for a command's options.\n");
}

static void usage_init(FILE *f) {
  const char *const *names = lac_arch_preset_names();
  fprintf(f,
          "usage: lac model init --arch PRESET [--seed S] [--attention time|frame]\n"
          "                      [--context C] [--input-size N] [--l2-normalize]\n"
          "                      [--train-len L] [--name NAME] -o MODEL.safetensors\n"
          "\n"
          "Writes a model with PyTorch's default initialisation (torchvision's for the\n"
          "ResNet trunk), seeded by S (default 0).  Presets:");
  for (int i = 0; names[i]; i++) fprintf(f, " %s", names[i]);
  fprintf(f, "\n");
}

static void usage_info(FILE *f) {
  fprintf(f, "usage: lac info MODEL.safetensors\n\n"
             "Prints the architecture, parameter count, model id and metadata.\n");
}

static void usage_embed(FILE *f) {
  fprintf(f,
          "usage: lac embed MODEL VIDEO -o EMB.safetensors [--resize crop|squash] [--batch B]\n"
          "       lac embed MODEL (FRAMES.safetensors | --synthetic N [--seed S]) -o EMB.safetensors\n"
          "\n"
          "Embeds the whole clip as one sequence (as evaluation does) and writes an embeddings\n"
          "file (embeddings [T][d], timestamps in ns).  VIDEO is any file or URI GStreamer\n"
          "decodes; frames are cut to a centred square (--resize crop, default) or stretched\n"
          "(--resize squash, as the reference code's 224x224 resize) and scaled to the model's\n"
          "input size.  FRAMES.safetensors holds a U8 tensor \"frames\" [T][H][W][3] (RGB) at\n"
          "the model's input size; --synthetic N renders N frames of a moving test pattern.\n"
          "A progress bar is drawn on a terminal.\n");
}

static void usage_align(FILE *f) {
  fprintf(f,
          "usage: lac align A.safetensors B.safetensors [--similarity inv-sqdist|neg-sqdist|cosine]\n"
          "                 [--eps E] [--offset O] [--go G] [--ge E] [--soft-tau T]\n"
          "                 [--soft-out P.safetensors] [--path] [--device cpu|cuda]\n"
          "\n"
          "Aligns two embeddings files with Smith-Waterman and affine gaps on the similarity\n"
          "matrix S = sim(a_i, b_j) - O.  Prints the best local alignment (tau = 0): score,\n"
          "matched ranges, and with --path every step.  --soft-out writes the soft match\n"
          "probabilities dV/dS at temperature T (default 0.8) as \"match_prob\" [n][m], with\n"
          "\"similarity\".  Defaults: inv-sqdist, eps 1e-6, offset 0, go 1, ge 1 (the LAC\n"
          "loss's); with a similarity that is positive everywhere the best local alignment\n"
          "spans nearly everything: give an offset (e.g. the median similarity) to see local\n"
          "structure.  --device cuda computes the soft alignment on the GPU (lengths up to\n"
          "1024); the hard one always runs on the CPU.\n");
}

void cli_log_cb(lac_log_level level, const char *msg, void *user) {
  (void)user;
  static const char *const names[] = {"error", "warning", "info", "debug"};
  fprintf(stderr, "lac: %s: %s\n", names[level], msg);
}

int cli_make_backend(const common_opts *o, lac_backend **b) {
  lac_backend_params p = lac_backend_default_params();
  p.n_threads = o->threads;
  p.log = cli_log_cb;
  p.log_level = o->verbose ? LAC_LOG_DEBUG : LAC_LOG_WARNING;
  lac_error err;
  if (lac_backend_new(&p, b, &err) != LAC_OK) {
    fprintf(stderr, "lac: %s\n", err.message);
    return 1;
  }
  return 0;
}

int cli_parse_int(const char *opt, const char *v, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long x = v ? strtol(v, &end, 10) : 0;
  if (!v || errno || end == v || *end || x < lo || x > hi) {
    fprintf(stderr, "lac: %s needs an integer in [%ld, %ld], got '%s'\n", opt, lo, hi,
            v ? v : "(nothing)");
    return 2;
  }
  *out = x;
  return 0;
}

int cli_parse_double(const char *opt, const char *v, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double x = v ? strtod(v, &end) : 0;
  if (!v || errno || end == v || *end || !(x >= lo && x <= hi)) {
    fprintf(stderr, "lac: %s needs a number in [%g, %g], got '%s'\n", opt, lo, hi,
            v ? v : "(nothing)");
    return 2;
  }
  *out = x;
  return 0;
}

/* Common options shared by all commands; returns 1 when argv[*i] was consumed. */
int cli_common_opt(int argc, char **argv, int *i, common_opts *o, int *rc) {
  long v;
  if (!strcmp(argv[*i], "--threads")) {
    if ((*rc = cli_parse_int("--threads", *i + 1 < argc ? argv[++*i] : NULL, 0, 1024, &v)) == 0)
      o->threads = (int)v;
    return 1;
  }
  if (!strcmp(argv[*i], "--verbose") || !strcmp(argv[*i], "-v")) {
    o->verbose = 1;
    return 1;
  }
  return 0;
}

static void print_arch(const lac_arch *a) {
  printf("  trunk          %s, layer3[0:%d], input %dx%d, trunk output %dx%dx%d\n",
         lac_trunk_name(a->trunk), a->layer3_blocks, a->input_size, a->input_size,
         lac_arch_trunk_channels(a), lac_arch_trunk_size(a), lac_arch_trunk_size(a));
  printf("  head           Conv3d x2 (%d ch, context %d), max pool, MLP %d, projection %d\n",
         a->conv_channels, a->context, a->fc_dim, a->d_model);
  printf("  transformer    %d layers, %d heads, feed-forward %d, attention over %s, "
         "train_len %d\n",
         a->n_layers, a->n_heads, a->ff_dim,
         a->attention == LAC_ATTENTION_TIME ? "time" : "each frame alone (reference)",
         a->train_len);
  printf("  output         %d-d%s\n", a->embed_dim, a->l2_normalize ? ", L2-normalised" : "");
}

static int cmd_init(int argc, char **argv, common_opts *co) {
  const char *preset = NULL, *out = NULL, *name = NULL, *attention = NULL;
  long seed = 0, context = -1, input = -1, train_len = -1, v;
  int l2 = -1, rc = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (cli_common_opt(argc, argv, &i, co, &rc)) {
      if (rc) return rc;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage_init(stdout);
      return 0;
    } else if (!strcmp(a, "--arch")) {
      preset = val, i++;
    } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
      out = val, i++;
    } else if (!strcmp(a, "--name")) {
      name = val, i++;
    } else if (!strcmp(a, "--attention")) {
      attention = val, i++;
    } else if (!strcmp(a, "--l2-normalize")) {
      l2 = 1;
    } else if (!strcmp(a, "--seed")) {
      if ((rc = cli_parse_int(a, val, 0, LONG_MAX, &seed))) return rc;
      i++;
    } else if (!strcmp(a, "--context")) {
      if ((rc = cli_parse_int(a, val, 1, 64, &context))) return rc;
      i++;
    } else if (!strcmp(a, "--input-size")) {
      if ((rc = cli_parse_int(a, val, 80, 1024, &input))) return rc;
      i++;
    } else if (!strcmp(a, "--train-len")) {
      if ((rc = cli_parse_int(a, val, 1, 1 << 20, &train_len))) return rc;
      i++;
    } else {
      fprintf(stderr, "lac model init: unknown option '%s'\n", a);
      usage_init(stderr);
      return 2;
    }
  }
  (void)v;
  if (!preset || !out) {
    fprintf(stderr, "lac model init: %s is required\n", !preset ? "--arch" : "-o MODEL");
    usage_init(stderr);
    return 2;
  }
  lac_error err;
  lac_arch arch;
  if (lac_arch_preset(preset, &arch, &err) != LAC_OK) {
    fprintf(stderr, "lac model init: %s\n", err.message);
    return 2;
  }
  if (attention) {
    if (!strcmp(attention, "time")) arch.attention = LAC_ATTENTION_TIME;
    else if (!strcmp(attention, "frame")) arch.attention = LAC_ATTENTION_FRAME;
    else {
      fprintf(stderr, "lac model init: --attention takes time or frame, got '%s'\n", attention);
      return 2;
    }
  }
  if (context > 0) arch.context = (int)context;
  if (input > 0) arch.input_size = (int)input;
  if (train_len > 0) arch.train_len = (int)train_len;
  if (l2 > 0) arch.l2_normalize = 1;
  if (lac_arch_validate(&arch, &err) != LAC_OK) {
    fprintf(stderr, "lac model init: %s\n", err.message);
    return 2;
  }
  lac_backend *b;
  if ((rc = cli_make_backend(co, &b))) return rc;
  lac_model *m = NULL;
  rc = 1;
  if (lac_model_init_random(b, &arch, (uint64_t)seed, &m, &err) == LAC_OK &&
      (!name || lac_model_meta_set(m, "lac.name", name, &err) == LAC_OK) &&
      lac_model_save(m, out, &err) == LAC_OK) {
    printf("wrote %s: %s, %zu parameters, id %s\n", out, preset, lac_model_n_params(m),
           lac_model_id(m));
    rc = 0;
  } else {
    fprintf(stderr, "lac model init: %s\n", err.message);
  }
  lac_model_free(m);
  lac_backend_free(b);
  return rc;
}

static int cmd_info(int argc, char **argv, common_opts *co) {
  const char *path = NULL;
  int rc = 0;
  for (int i = 0; i < argc; i++) {
    if (cli_common_opt(argc, argv, &i, co, &rc)) {
      if (rc) return rc;
    } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage_info(stdout);
      return 0;
    } else if (argv[i][0] == '-' || path) {
      fprintf(stderr, "lac info: unexpected argument '%s'\n", argv[i]);
      usage_info(stderr);
      return 2;
    } else {
      path = argv[i];
    }
  }
  if (!path) {
    usage_info(stderr);
    return 2;
  }
  lac_backend *b;
  if ((rc = cli_make_backend(co, &b))) return rc;
  lac_error err;
  lac_model *m;
  if (lac_model_load(b, path, &m, &err) != LAC_OK) {
    fprintf(stderr, "lac info: %s\n", err.message);
    lac_backend_free(b);
    return 1;
  }
  const lac_arch *a = lac_model_arch(m);
  printf("%s\n", path);
  print_arch(a);
  printf("  parameters     %zu (%.1f M) in %zu tensors\n", lac_model_n_params(m),
         lac_model_n_params(m) / 1e6, lac_model_n_tensors(m));
  printf("  model id       %s\n", lac_model_id(m));
  int64_t shape[8];
  int nd;
  for (int k = 0; k < 2; k++) {
    const char *gname = k ? "ge" : "go";
    if (lac_model_tensor(m, gname, &nd, shape))
      printf("  gap penalty    %s, %s\n", gname, nd == 0 ? "scalar" : "per cell");
  }
  for (size_t i = 0; i < lac_model_meta_count(m); i++)
    printf("  %-14s %s\n", lac_model_meta_key(m, i), lac_model_meta_value(m, i));
  lac_model_free(m);
  lac_backend_free(b);
  return 0;
}

/* A moving test pattern: a bright disc orbiting over a gradient that slowly shifts hue. */
static void render_synthetic(unsigned char *rgb, int n, int s, uint64_t seed) {
  const double phase0 = (double)(seed % 1000) / 1000.0 * 6.283185307;
  for (int f = 0; f < n; f++) {
    const double t = (double)f / (n > 1 ? n - 1 : 1);
    const double cx = s * (0.5 + 0.3 * cos(phase0 + 6.283185307 * t));
    const double cy = s * (0.5 + 0.3 * sin(phase0 + 6.283185307 * t));
    for (int y = 0; y < s; y++)
      for (int x = 0; x < s; x++) {
        unsigned char *p = rgb + (((size_t)f * s + y) * s + x) * 3;
        const double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
        const int in = d2 < (s * 0.12) * (s * 0.12);
        p[0] = in ? 250 : (unsigned char)(255.0 * x / s);
        p[1] = in ? 220 : (unsigned char)(255.0 * y / s * (1 - t));
        p[2] = in ? 40 : (unsigned char)(255.0 * t);
      }
  }
}

static int cmd_embed(int argc, char **argv, common_opts *co) {
  const char *model_path = NULL, *frames_path = NULL, *out = NULL, *resize = "crop";
  long synthetic = 0, seed = 0, batch = 16;
  int rc = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (cli_common_opt(argc, argv, &i, co, &rc)) {
      if (rc) return rc;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage_embed(stdout);
      return 0;
    } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
      out = val, i++;
    } else if (!strcmp(a, "--resize")) {
      if (!val || (strcmp(val, "crop") && strcmp(val, "squash"))) {
        fprintf(stderr, "lac embed: --resize takes crop or squash, got '%s'\n", val ? val : "");
        return 2;
      }
      resize = val, i++;
    } else if (!strcmp(a, "--synthetic")) {
      if ((rc = cli_parse_int(a, val, 1, 100000, &synthetic))) return rc;
      i++;
    } else if (!strcmp(a, "--seed")) {
      if ((rc = cli_parse_int(a, val, 0, LONG_MAX, &seed))) return rc;
      i++;
    } else if (!strcmp(a, "--batch")) {
      if ((rc = cli_parse_int(a, val, 1, 4096, &batch))) return rc;
      i++;
    } else if (a[0] == '-') {
      fprintf(stderr, "lac embed: unknown option '%s'\n", a);
      usage_embed(stderr);
      return 2;
    } else if (!model_path) {
      model_path = a;
    } else if (!frames_path) {
      frames_path = a;
    } else {
      fprintf(stderr, "lac embed: unexpected argument '%s'\n", a);
      return 2;
    }
  }
  if (!model_path || !out || (!frames_path == !synthetic)) {
    fprintf(stderr, "lac embed: give MODEL, exactly one of --synthetic N or FRAMES, and -o\n");
    usage_embed(stderr);
    return 2;
  }
  const size_t fl = frames_path ? strlen(frames_path) : 0;
  if (frames_path && (fl < 12 || strcmp(frames_path + fl - 12, ".safetensors") != 0)) {
#if LAC_CLI_GST
    return cli_embed_video(model_path, frames_path, out, resize, (int)batch, co);
#else
    (void)resize; /* only the GStreamer reader crops or squashes */
    fprintf(stderr, "lac embed: this lac was built without GStreamer, so it cannot decode '%s'; "
                    "give a FRAMES.safetensors file or rebuild with -Dgst=enabled\n",
            frames_path);
    return 2;
#endif
  }
  lac_backend *b;
  if ((rc = cli_make_backend(co, &b))) return rc;
  lac_error err;
  lac_model *m = NULL;
  lac_session *s = NULL;
  lac_st_file *ff = NULL;
  unsigned char *rgb = NULL;
  lac_embeddings *emb = NULL;
  rc = 1;
  if (lac_model_load(b, model_path, &m, &err) != LAC_OK) goto fail;
  const lac_arch *arch = lac_model_arch(m);
  const int S = arch->input_size;
  lac_frames fr = {LAC_PIXELS_RGB8, 0, S, S, 0, NULL};
  if (synthetic) {
    rgb = malloc((size_t)synthetic * S * S * 3);
    if (!rgb) {
      lac_error_set(&err, LAC_ERR_NOMEM, "out of memory for %ld frames", synthetic);
      goto fail;
    }
    render_synthetic(rgb, (int)synthetic, S, (uint64_t)seed);
    fr.n = (int)synthetic;
    fr.data = rgb;
  } else {
    if (lac_st_read(frames_path, &ff, &err) != LAC_OK) goto fail;
    const lac_st_tensor *t = lac_st_find(ff, "frames");
    if (!t || t->dtype != LAC_DTYPE_U8 || t->ndim != 4 || t->shape[1] != S || t->shape[2] != S ||
        t->shape[3] != 3) {
      lac_error_set(&err, LAC_ERR_INVALID_ARG,
                    "%s: expected a U8 tensor \"frames\" of shape [T, %d, %d, 3] (RGB at the "
                    "model's input size)",
                    frames_path, S, S);
      goto fail;
    }
    fr.n = (int)t->shape[0];
    fr.data = t->data; /* bytes: alignment does not matter */
  }
  if (fr.n < arch->context) {
    lac_error_set(&err, LAC_ERR_INVALID_ARG, "the clip has %d frame(s); the model needs at least %d",
                  fr.n, arch->context);
    goto fail;
  }
  fr.n -= fr.n % arch->context;
  lac_session_params sp = lac_session_default_params();
  sp.max_batch = (int)batch;
  if (lac_session_new(m, &sp, &s, &err) != LAC_OK) goto fail;
  const int steps = fr.n / arch->context;
  if (lac_embeddings_new(steps, arch->embed_dim, 0, 0, &emb, &err) != LAC_OK) goto fail;
  snprintf(emb->model_id, sizeof emb->model_id, "%s", lac_model_id(m));
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (lac_session_embed_sequence(s, &fr, emb->data, &err) != LAC_OK) goto fail;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  const double sec = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
  if (lac_embeddings_write(out, emb, &err) != LAC_OK) goto fail;
  printf("embedded %d frames (%d x %d) in %.2f s (%.1f frames/s) -> %s [%d x %d]\n", fr.n, S, S,
         sec, fr.n / sec, out, steps, arch->embed_dim);
  rc = 0;
fail:
  if (rc) fprintf(stderr, "lac embed: %s\n", err.message);
  lac_embeddings_free(emb);
  lac_session_free(s);
  lac_st_free(ff);
  free(rgb);
  lac_model_free(m);
  lac_backend_free(b);
  return rc;
}

static int parse_float(const char *opt, const char *v, float *out) {
  char *end;
  errno = 0;
  double x = v ? strtod(v, &end) : 0;
  if (!v || errno || end == v || *end || !isfinite(x)) {
    fprintf(stderr, "lac: %s needs a number, got '%s'\n", opt, v ? v : "(nothing)");
    return 2;
  }
  *out = (float)x;
  return 0;
}

static int cmd_align(int argc, char **argv, common_opts *co) {
  const char *pa = NULL, *pb = NULL, *soft_out = NULL, *simname = "inv-sqdist", *device = "cpu";
  float eps = 1e-6f, offset = 0, go = 1, ge = 1, soft_tau = 0.8f;
  int show_path = 0, rc = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (cli_common_opt(argc, argv, &i, co, &rc)) {
      if (rc) return rc;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage_align(stdout);
      return 0;
    } else if (!strcmp(a, "--similarity")) {
      simname = val, i++;
    } else if (!strcmp(a, "--soft-out")) {
      soft_out = val, i++;
    } else if (!strcmp(a, "--device")) {
      if (!val || (strcmp(val, "cpu") && strcmp(val, "cuda"))) {
        fprintf(stderr, "lac align: --device takes cpu or cuda, got '%s'\n", val ? val : "");
        return 2;
      }
      device = val, i++;
    } else if (!strcmp(a, "--path")) {
      show_path = 1;
    } else if (!strcmp(a, "--eps") || !strcmp(a, "--offset") || !strcmp(a, "--go") ||
               !strcmp(a, "--ge") || !strcmp(a, "--soft-tau")) {
      float *dst = !strcmp(a, "--eps") ? &eps : !strcmp(a, "--offset") ? &offset
                 : !strcmp(a, "--go") ? &go : !strcmp(a, "--ge") ? &ge : &soft_tau;
      if ((rc = parse_float(a, val, dst))) return rc;
      i++;
    } else if (a[0] == '-') {
      fprintf(stderr, "lac align: unknown option '%s'\n", a);
      usage_align(stderr);
      return 2;
    } else if (!pa) {
      pa = a;
    } else if (!pb) {
      pb = a;
    } else {
      fprintf(stderr, "lac align: unexpected argument '%s'\n", a);
      return 2;
    }
  }
  if (!pa || !pb) {
    fprintf(stderr, "lac align: give two embeddings files\n");
    usage_align(stderr);
    return 2;
  }
  lac_similarity kind;
  if (!strcmp(simname, "inv-sqdist")) kind = LAC_SIM_INV_SQDIST;
  else if (!strcmp(simname, "neg-sqdist")) kind = LAC_SIM_NEG_SQDIST;
  else if (!strcmp(simname, "cosine")) kind = LAC_SIM_COSINE;
  else {
    fprintf(stderr, "lac align: --similarity takes inv-sqdist, neg-sqdist or cosine, got '%s'\n", simname);
    return 2;
  }
  if (!(soft_tau > 0)) {
    fprintf(stderr, "lac align: --soft-tau must be > 0\n");
    return 2;
  }
  lac_error err;
  lac_embeddings *ea = NULL, *eb = NULL;
  lac_aligner *al = NULL;
  lac_backend *gpu = NULL;
  float *S = NULL, *P = NULL;
  lac_sw_step *steps = NULL;
  rc = 1;
  if (lac_embeddings_read(pa, &ea, &err) != LAC_OK || lac_embeddings_read(pb, &eb, &err) != LAC_OK)
    goto done;
  if (ea->dim != eb->dim) {
    lac_error_set(&err, LAC_ERR_MODEL_MISMATCH, "%s has %lld-d embeddings but %s has %lld-d: embed both with the same model",
                  pa, (long long)ea->dim, pb, (long long)eb->dim);
    goto done;
  }
  if (ea->model_id[0] && eb->model_id[0] && strcmp(ea->model_id, eb->model_id) != 0)
    fprintf(stderr, "lac align: warning: the files come from different models (%s, %s)\n", ea->model_id, eb->model_id);
  if (ea->n < 1 || eb->n < 1) {
    lac_error_set(&err, LAC_ERR_INVALID_ARG, "%s is empty: nothing to align", ea->n < 1 ? pa : pb);
    goto done;
  }
  const int n = (int)ea->n, m = (int)eb->n, d = (int)ea->dim;
  S = malloc(sizeof(float) * n * m);
  P = malloc(sizeof(float) * n * m);
  steps = malloc(sizeof(lac_sw_step) * (n + m));
  if (!S || !P || !steps) {
    lac_error_set(&err, LAC_ERR_NOMEM, "out of memory for a %d x %d alignment", n, m);
    goto done;
  }
  if (lac_similarity_matrix(kind, eps, n, m, d, ea->data, eb->data, S, &err) != LAC_OK) goto done;
  for (size_t k = 0; k < (size_t)n * m; k++) S[k] -= offset;
  lac_aligner_params ap = lac_aligner_default_params();
  ap.n_threads = co->threads;
  if (!strcmp(device, "cuda")) {
    lac_backend_params bp = lac_backend_default_params();
    bp.kind = LAC_BACKEND_CUDA;
    if (!lac_have_cuda()) {
      lac_error_set(&err, LAC_ERR_UNSUPPORTED,
                    "this lac was built without CUDA: use --device cpu");
      goto done;
    }
    if (lac_backend_new(&bp, &gpu, &err) != LAC_OK) goto done;
    ap.backend = gpu;
  }
  if (lac_aligner_new(&ap, &al, &err) != LAC_OK) goto done;
  lac_sw_pair pair = {n, m, S, &go, &ge};
  lac_sw_options hard = {0.f, 0};
  float V;
  int nsteps = 0;
  if (lac_sw_forward(al, &hard, 1, &pair, &V, NULL, &err) != LAC_OK ||
      lac_sw_path(al, 0, steps, n + m, &nsteps, &err) != LAC_OK)
    goto done;
  int matches = 0;
  for (int k = 0; k < nsteps; k++) matches += steps[k].state == 'M';
  printf("%s (%d) vs %s (%d): %s similarity, offset %g, go %g, ge %g\n", pa, n, pb, m, simname,
         offset, go, ge);
  printf("best local alignment: score %.6g, %d steps, %d matches\n", V, nsteps, matches);
  if (nsteps > 0)
    printf("matched ranges: %s[%d..%d] <-> %s[%d..%d]\n", pa, steps[0].i, steps[nsteps - 1].i, pb,
           steps[0].j, steps[nsteps - 1].j);
  if (show_path)
    for (int k = 0; k < nsteps; k++) printf("  %d %d %c\n", steps[k].i, steps[k].j, steps[k].state);
  if (soft_out) {
    lac_sw_options soft = {soft_tau, 0};
    float Vs, one = 1.f;
    float *dS[1] = {P};
    if (lac_sw_forward(al, &soft, 1, &pair, &Vs, NULL, &err) != LAC_OK ||
        lac_sw_backward(al, &one, NULL, dS, NULL, NULL, &err) != LAC_OK)
      goto done;
    lac_st_writer *w;
    if (lac_st_writer_new(&w, &err) != LAC_OK) goto done;
    char buf[64];
    const int64_t shape[2] = {n, m};
    snprintf(buf, sizeof buf, "%g", soft_tau);
    lac_status st = lac_st_writer_meta(w, "lac.format", "lac-alignment", &err);
    if (st == LAC_OK) st = lac_st_writer_meta(w, "lac.tau", buf, &err);
    if (st == LAC_OK) st = lac_st_writer_add(w, "match_prob", LAC_DTYPE_F32, 2, shape, P, &err);
    if (st == LAC_OK) st = lac_st_writer_add(w, "similarity", LAC_DTYPE_F32, 2, shape, S, &err);
    if (st == LAC_OK) st = lac_st_writer_write(w, soft_out, &err);
    lac_st_writer_free(w);
    if (st != LAC_OK) goto done;
    double expected = 0;
    for (size_t k = 0; k < (size_t)n * m; k++) expected += P[k];
    printf("soft alignment (tau %g): score %.6g, expected matches %.2f -> %s\n", soft_tau, Vs,
           expected, soft_out);
  }
  rc = 0;
done:
  if (rc) fprintf(stderr, "lac align: %s\n", err.message);
  lac_aligner_free(al);
  lac_backend_free(gpu); /* after the aligner, which borrows it */
  lac_embeddings_free(ea);
  lac_embeddings_free(eb);
  free(S);
  free(P);
  free(steps);
  return rc;
}

int main(int argc, char **argv) {
  common_opts co = {0, 0};
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage_main(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("lac %d.%d.%d%s\n", LAC_VERSION_MAJOR, LAC_VERSION_MINOR, LAC_VERSION_MICRO,
           lac_have_cuda() ? " (with CUDA)" : "");
    return 0;
  }
  if (!strcmp(argv[1], "help")) {
    const char *c = argc > 2 ? argv[2] : "";
    if (!strcmp(c, "model") || !strcmp(c, "init")) usage_init(stdout);
    else if (!strcmp(c, "info")) usage_info(stdout);
    else if (!strcmp(c, "embed")) usage_embed(stdout);
    else if (!strcmp(c, "align")) usage_align(stdout);
#if LAC_CLI_GST
    else if (!strcmp(c, "dataset")) usage_dataset(stdout);
    else if (!strcmp(c, "eval")) usage_eval(stdout);
#endif
    else usage_main(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "model")) {
    if (argc < 3 || strcmp(argv[2], "init") != 0) {
      fprintf(stderr, "lac model: unknown subcommand '%s' (available: init)\n",
              argc < 3 ? "" : argv[2]);
      return 2;
    }
    return cmd_init(argc - 3, argv + 3, &co);
  }
  if (!strcmp(argv[1], "info")) return cmd_info(argc - 2, argv + 2, &co);
  if (!strcmp(argv[1], "embed")) return cmd_embed(argc - 2, argv + 2, &co);
  if (!strcmp(argv[1], "align")) return cmd_align(argc - 2, argv + 2, &co);
  if (!strcmp(argv[1], "dataset") || !strcmp(argv[1], "eval")) {
#if LAC_CLI_GST
    return argv[1][0] == 'd' ? cmd_dataset(argc - 2, argv + 2, &co) : cmd_eval(argc - 2, argv + 2, &co);
#else
    fprintf(stderr, "lac %s: this lac was built without GStreamer (rebuild with -Dgst=enabled)\n",
            argv[1]);
    return 2;
#endif
  }
  fprintf(stderr, "lac: unknown command '%s'\n\n", argv[1]);
  usage_main(stderr);
  return 2;
}
