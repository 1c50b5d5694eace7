/* cli_eval.c — the `lac` commands that read or write video: embed VIDEO, dataset synth and
 * eval (the paper's metrics with baselines in the same run).
 *
 *   lac embed MODEL VIDEO -o EMB.safetensors
 *   lac dataset synth --out DIR --videos N [--seed S] [--actions pour,squat] ...
 *   lac eval MODEL DATASET [--json OUT.json] [--no-baselines] ...
 *
 * Every video is decoded once (cli_video.c); its frames go in chunks through each encoder's
 * trunk and head (lac_session_project), then the transformer runs over the whole sequence
 * (lac_session_embed_projections): the same numbers as embedding the clip as one sequence,
 * without holding the frames in memory.  Metrics come from lac/eval.h, per action.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_video.h"
#include "lac/dataset.h"
#include "lac/eval.h"
#include "lac/synth.h"

/* ---------------------------------------------------------------- encoders over one video */

/* The appearance baseline: each frame box-filtered to PIX x PIX RGB in [0, 1]. */
#define PIX 8
#define PIX_DIM (PIX * PIX * 3)

typedef struct {
  const char *name;   /* row label in tables, key in JSON */
  lac_session *s;     /* NULL: the pixel baseline */
  int context, d_model, dim;
  float *proj;        /* steps x d_model (or steps x PIX_DIM for pixels) */
  int64_t steps, cap;
  float *emb;         /* steps x dim after finish */
} encoder;

static int enc_grow(encoder *e, int64_t steps, lac_error *err) {
  const int width = e->s ? e->d_model : PIX_DIM;
  if (steps <= e->cap) return 0;
  int64_t cap = e->cap ? e->cap : 256;
  while (cap < steps) cap *= 2;
  float *p = realloc(e->proj, sizeof(float) * (size_t)cap * width);
  if (!p) {
    lac_error_set(err, LAC_ERR_NOMEM, "out of memory for %" PRId64 " frames", cap);
    return -1;
  }
  e->proj = p;
  e->cap = cap;
  return 0;
}

static void pixels_feature(const uint8_t *rgb, int S, float *out) {
  for (int by = 0; by < PIX; by++)
    for (int bx = 0; bx < PIX; bx++) {
      const int y0 = by * S / PIX, y1 = (by + 1) * S / PIX, x0 = bx * S / PIX, x1 = (bx + 1) * S / PIX;
      double acc[3] = {0, 0, 0};
      for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
          for (int c = 0; c < 3; c++) acc[c] += rgb[((size_t)y * S + x) * 3 + c];
      const double n = (double)(y1 - y0) * (x1 - x0) * 255.0;
      for (int c = 0; c < 3; c++) out[(by * PIX + bx) * 3 + c] = (float)(acc[c] / n);
    }
}

/* Project n frames (a multiple of every encoder's context) through each encoder. */
static int enc_push(encoder *encs, int n_enc, const uint8_t *rgb, int n, int S, lac_error *err) {
  for (int k = 0; k < n_enc; k++) {
    encoder *e = &encs[k];
    if (e->s) {
      const int steps = n / e->context;
      if (enc_grow(e, e->steps + steps, err)) return -1;
      lac_frames fr = {LAC_PIXELS_RGB8, n, S, S, 0, rgb};
      if (lac_session_project(e->s, &fr, e->proj + (size_t)e->steps * e->d_model, err) != LAC_OK)
        return -1;
      e->steps += steps;
    } else {
      if (enc_grow(e, e->steps + n, err)) return -1;
      for (int f = 0; f < n; f++)
        pixels_feature(rgb + (size_t)f * S * S * 3, S, e->proj + (size_t)(e->steps + f) * PIX_DIM);
      e->steps += n;
    }
  }
  return 0;
}

static int enc_finish(encoder *e, lac_error *err) {
  free(e->emb);
  e->emb = NULL;
  if (!e->s) { /* the features are the embeddings */
    e->emb = e->proj;
    e->proj = NULL;
    e->cap = 0;
    return 0;
  }
  e->emb = malloc(sizeof(float) * (size_t)e->steps * e->dim);
  if (!e->emb) {
    lac_error_set(err, LAC_ERR_NOMEM, "out of memory for %" PRId64 " embeddings", e->steps);
    return -1;
  }
  return lac_session_embed_projections(e->s, e->proj, (int)e->steps, e->emb, err) == LAC_OK ? 0 : -1;
}

static void enc_reset(encoder *e) {
  e->steps = 0;
  free(e->emb);
  e->emb = NULL;
}

/* Decode `path` and run every encoder over it.  *n_frames receives the frames decoded and
 * pts (if non-NULL, grown as needed) their timestamps.  Returns 0 or -1 with msg. */
static int embed_video(const char *path, int S, const char *resize, int batch, encoder *encs,
                       int n_enc, int context, int64_t *n_frames, int64_t **pts, const char *label,
                       char *msg, size_t msglen) {
  cli_video_reader *r = NULL;
  if (cli_video_reader_open(path, S, resize, &r, msg, msglen)) return -1;
  /* chunks hold a multiple of the context */
  const int chunk = ((batch + context - 1) / context) * context;
  uint8_t *buf = malloc((size_t)chunk * S * S * 3);
  int64_t pts_cap = 0, n = 0;
  int have = 0, rc = 0;
  lac_error err;
  cli_progress prog;
  cli_progress_begin(&prog);
  for (int k = 0; k < n_enc; k++) enc_reset(&encs[k]);
  if (!buf) {
    snprintf(msg, msglen, "out of memory for %d frames of %dx%d", chunk, S, S);
    rc = -1;
  }
  while (!rc) {
    int64_t t;
    int got = cli_video_reader_next(r, buf + (size_t)have * S * S * 3, &t, msg, msglen);
    if (got < 0) {
      rc = -1;
      break;
    }
    if (got == 1) {
      if (pts) {
        if (n >= pts_cap) {
          pts_cap = pts_cap ? 2 * pts_cap : 256;
          int64_t *p = realloc(*pts, sizeof **pts * (size_t)pts_cap);
          if (!p) {
            snprintf(msg, msglen, "out of memory");
            rc = -1;
            break;
          }
          *pts = p;
        }
        (*pts)[n] = t;
      }
      n++;
      have++;
    }
    /* run a full chunk, or at the end what is left (cut to a multiple of the context) */
    const int run = got == 1 ? (have == chunk ? have : 0) : have - have % context;
    if (run > 0) {
      if (enc_push(encs, n_enc, buf, run, S, &err)) {
        snprintf(msg, msglen, "%s: %s", path, err.message);
        rc = -1;
        break;
      }
      have = 0;
      cli_progress_update(&prog, label, cli_video_reader_progress(r), n, "frames");
    }
    if (got == 0) break;
  }
  cli_progress_end(&prog);
  cli_video_reader_close(r);
  free(buf);
  if (rc) return -1;
  if (n < context || n == 0) {
    snprintf(msg, msglen,
             "%s: decoded %" PRId64 " frame(s); the model needs at least %d (an empty or "
             "unreadable video?)",
             path, n, context > 1 ? context : 1);
    return -1;
  }
  for (int k = 0; k < n_enc; k++)
    if (enc_finish(&encs[k], &err)) {
      snprintf(msg, msglen, "%s: %s", path, err.message);
      return -1;
    }
  *n_frames = n;
  return 0;
}

/* ---------------------------------------------------------------- lac embed MODEL VIDEO */

int cli_embed_video(const char *model_path, const char *video, const char *out, const char *resize,
                    int batch, const common_opts *co) {
  lac_backend *b;
  int rc = cli_make_backend(co, &b);
  if (rc) return rc;
  lac_error err;
  lac_model *m = NULL;
  lac_embeddings *emb = NULL;
  int64_t *pts = NULL;
  char msg[1024] = "";
  encoder e = {0};
  rc = 1;
  if (lac_model_load(b, model_path, &m, &err) != LAC_OK) {
    snprintf(msg, sizeof msg, "%s", err.message);
    goto done;
  }
  const lac_arch *a = lac_model_arch(m);
  lac_session_params sp = lac_session_default_params();
  sp.max_batch = batch;
  if (lac_session_new(m, &sp, &e.s, &err) != LAC_OK) {
    snprintf(msg, sizeof msg, "%s", err.message);
    goto done;
  }
  e.name = "model";
  e.context = a->context, e.d_model = a->d_model, e.dim = a->embed_dim;
  int64_t n = 0;
  const double t0 = cli_now();
  if (embed_video(video, a->input_size, resize, batch, &e, 1, a->context, &n, &pts, "embedding",
                  msg, sizeof msg))
    goto done;
  const double sec = cli_now() - t0;
  if (lac_embeddings_new(e.steps, e.dim, 1, 0, &emb, &err) != LAC_OK) {
    snprintf(msg, sizeof msg, "%s", err.message);
    goto done;
  }
  memcpy(emb->data, e.emb, sizeof(float) * (size_t)e.steps * e.dim);
  for (int64_t i = 0; i < e.steps; i++) emb->timestamps[i] = pts[i * a->context];
  snprintf(emb->model_id, sizeof emb->model_id, "%s", lac_model_id(m));
  if (lac_embeddings_write(out, emb, &err) != LAC_OK) {
    snprintf(msg, sizeof msg, "%s", err.message);
    goto done;
  }
  printf("embedded %" PRId64 " frames of %s (%dx%d, %s) in %.2f s (%.1f frames/s) -> %s [%" PRId64
         " x %d]\n",
         n, video, a->input_size, a->input_size, resize, sec, n / sec, out, e.steps, e.dim);
  rc = 0;
done:
  if (rc) fprintf(stderr, "lac embed: %s\n", msg);
  lac_embeddings_free(emb);
  free(pts);
  free(e.proj);
  free(e.emb);
  lac_session_free(e.s);
  lac_model_free(m);
  lac_backend_free(b);
  return rc;
}

/* ---------------------------------------------------------------- lac dataset synth */

void usage_dataset(FILE *f) {
  fprintf(f,
          "usage: lac dataset synth --out DIR --videos N [--seed S] [--actions A,B,...]\n"
          "                         [--val-fraction F] [--size PIXELS] [--fps FPS]\n"
          "                         [--frames BASE] [--distractor none|before|inside|after|random]\n"
          "                         [--tempo-variation V] [--appearance-variation V]\n"
          "                         [--camera-variation V] [--repetitions R]\n"
          "\n"
          "Renders N videos per action (actions: pour, jumping-jacks, squat; default pour) with\n"
          "seeded variation, encodes them as VP8/WebM into DIR/videos/ and writes\n"
          "DIR/labels.json (docs/dataset.md) with per-frame phase labels (-1 on distractor\n"
          "frames).  The last ceil(N * F) videos of each action (F = 0.5 by default) are the\n"
          "validation split.  Defaults: 112x112 pixels, 25 fps, BASE 80 frames per action,\n"
          "distractor random, variations 0.5 / 0.5 / 0.3, 3 repetitions.\n");
}

static int mkdir_p(const char *dir) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
      *p = '/';
    }
  return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int cmd_synth(int argc, char **argv, common_opts *co) {
  const char *out = NULL, *actions = "pour", *distractor = "random";
  long videos = 0, seed = 0, size = 112, frames = 80, reps = 3;
  double val_fraction = 0.5, fps = 25, tempo = 0.5, appearance = 0.5, camera = 0.3;
  int rc = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (cli_common_opt(argc, argv, &i, co, &rc)) {
      if (rc) return rc;
      continue;
    }
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage_dataset(stdout);
      return 0;
    }
    int used = 1;
    if (!strcmp(a, "--out") || !strcmp(a, "-o")) out = val;
    else if (!strcmp(a, "--actions")) actions = val;
    else if (!strcmp(a, "--distractor")) distractor = val;
    else if (!strcmp(a, "--videos")) rc = cli_parse_int(a, val, 1, 100000, &videos);
    else if (!strcmp(a, "--seed")) rc = cli_parse_int(a, val, 0, LONG_MAX, &seed);
    else if (!strcmp(a, "--size")) rc = cli_parse_int(a, val, 32, 4096, &size);
    else if (!strcmp(a, "--frames")) rc = cli_parse_int(a, val, 8, 100000, &frames);
    else if (!strcmp(a, "--repetitions")) rc = cli_parse_int(a, val, 1, 64, &reps);
    else if (!strcmp(a, "--val-fraction")) rc = cli_parse_double(a, val, 0, 1, &val_fraction);
    else if (!strcmp(a, "--fps")) rc = cli_parse_double(a, val, 1, 240, &fps);
    else if (!strcmp(a, "--tempo-variation")) rc = cli_parse_double(a, val, 0, 1, &tempo);
    else if (!strcmp(a, "--appearance-variation")) rc = cli_parse_double(a, val, 0, 1, &appearance);
    else if (!strcmp(a, "--camera-variation")) rc = cli_parse_double(a, val, 0, 1, &camera);
    else used = 0;
    if (rc) return rc;
    if (!used) {
      fprintf(stderr, "lac dataset synth: unknown option '%s'\n", a);
      usage_dataset(stderr);
      return 2;
    }
    if (!val) {
      fprintf(stderr, "lac dataset synth: %s needs a value\n", a);
      return 2;
    }
    i++;
  }
  if (!out || !videos) {
    fprintf(stderr, "lac dataset synth: %s is required\n", !out ? "--out DIR" : "--videos N");
    usage_dataset(stderr);
    return 2;
  }
  lac_error err;
  lac_synth_distractor dist;
  if (lac_synth_distractor_from_name(distractor, &dist, &err) != LAC_OK) {
    fprintf(stderr, "lac dataset synth: --distractor: %s\n", err.message);
    return 2;
  }
  /* parse the action list */
  lac_synth_action acts[16];
  int n_act = 0;
  char list[256];
  snprintf(list, sizeof list, "%s", actions);
  for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (n_act == 16 || lac_synth_action_from_name(tok, &acts[n_act], &err) != LAC_OK) {
      fprintf(stderr, "lac dataset synth: --actions: %s\n", n_act == 16 ? "too many" : err.message);
      return 2;
    }
    n_act++;
  }
  if (!n_act) {
    fprintf(stderr, "lac dataset synth: --actions names no action\n");
    return 2;
  }
  char vdir[4096];
  snprintf(vdir, sizeof vdir, "%s/videos", out);
  if (mkdir_p(vdir)) {
    fprintf(stderr, "lac dataset synth: cannot create %s: %s\n", vdir, strerror(errno));
    return 1;
  }
  lac_dataset *ds = NULL;
  uint8_t *rgb = malloc((size_t)size * size * 3);
  int32_t *labels = NULL;
  char msg[1024] = "";
  rc = 1;
  if (!rgb || lac_dataset_new(out, "synthetic", &ds, &err) != LAC_OK) {
    snprintf(msg, sizeof msg, "%s", rgb ? err.message : "out of memory");
    goto done;
  }
  const double t0 = cli_now();
  int64_t total_frames = 0;
  const int n_val = (int)ceil(videos * val_fraction - 1e-9);
  for (int ai = 0; ai < n_act; ai++) {
    const int K = lac_synth_action_n_phases(acts[ai]);
    const char *names[64];
    for (int k = 0; k < K && k < 64; k++) names[k] = lac_synth_action_phase_name(acts[ai], k);
    int action_index;
    if (lac_dataset_add_action(ds, lac_synth_action_name(acts[ai]), K, names, &action_index, &err) !=
        LAC_OK) {
      snprintf(msg, sizeof msg, "%s", err.message);
      goto done;
    }
    for (long v = 0; v < videos; v++) {
      lac_synth_params p = lac_synth_default_params();
      p.action = acts[ai];
      p.width = p.height = (int)size;
      /* distinct, reproducible seeds per (dataset seed, action, video) */
      p.seed = (uint64_t)seed * 1000003u + (uint64_t)ai * 100003u + (uint64_t)v;
      p.base_frames = (int)frames;
      p.tempo_variation = tempo;
      p.appearance_variation = appearance;
      p.camera_variation = camera;
      p.distractor = dist;
      p.repetitions = (int)reps;
      lac_synth *s = NULL;
      if (lac_synth_new(&p, &s, &err) != LAC_OK) {
        snprintf(msg, sizeof msg, "%s", err.message);
        goto done;
      }
      const int64_t nf = lac_synth_n_frames(s);
      int32_t *grown = realloc(labels, sizeof *labels * (size_t)nf);
      if (!grown) {
        lac_synth_free(s);
        snprintf(msg, sizeof msg, "out of memory");
        goto done;
      }
      labels = grown;
      char id[128], rel[160], path[4400];
      snprintf(id, sizeof id, "%s_%04ld", lac_synth_action_name(acts[ai]), v);
      snprintf(rel, sizeof rel, "videos/%s.webm", id);
      snprintf(path, sizeof path, "%s/%s", out, rel);
      cli_video_writer *w = NULL;
      const int fps_d = fabs(fps - round(fps)) < 1e-9 ? 1 : 1000;
      int bad = cli_video_writer_open(path, (int)size, (int)size, (int)round(fps * fps_d), fps_d, &w,
                                      msg, sizeof msg);
      for (int64_t f = 0; !bad && f < nf; f++) {
        labels[f] = lac_synth_label(s, f);
        if (lac_synth_render(s, f, rgb, (size_t)size * 3, &err) != LAC_OK) {
          snprintf(msg, sizeof msg, "%s", err.message);
          bad = 1;
        } else {
          bad = cli_video_writer_push(w, rgb, msg, sizeof msg) != 0;
        }
      }
      char cmsg[1024];
      if (w && cli_video_writer_close(w, cmsg, sizeof cmsg) && !bad) {
        snprintf(msg, sizeof msg, "%s", cmsg);
        bad = 1;
      }
      lac_synth_free(s);
      if (bad) goto done;
      const char *split = v >= videos - n_val ? "val" : "train";
      if (lac_dataset_add_video(ds, id, rel, split, action_index, fps, nf, labels, &err) != LAC_OK) {
        snprintf(msg, sizeof msg, "%s", err.message);
        goto done;
      }
      total_frames += nf;
      if (co->verbose)
        fprintf(stderr, "lac: %s: %" PRId64 " frames (%s)\n", path, nf, split);
    }
  }
  char lpath[4200];
  snprintf(lpath, sizeof lpath, "%s/labels.json", out);
  if (lac_dataset_save(ds, lpath, &err) != LAC_OK) {
    snprintf(msg, sizeof msg, "%s", err.message);
    goto done;
  }
  printf("wrote %s: %d videos (%ld per action: %ld train, %d val), %" PRId64
         " frames at %ldx%ld, %.0f fps, in %.1f s\n",
         lpath, ds->n_videos, videos, videos - n_val, n_val, total_frames, size, size, fps,
         cli_now() - t0);
  rc = 0;
done:
  if (rc) fprintf(stderr, "lac dataset synth: %s\n", msg);
  lac_dataset_free(ds);
  free(labels);
  free(rgb);
  return rc;
}

int cmd_dataset(int argc, char **argv, common_opts *co) {
  if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
    usage_dataset(argc < 1 ? stderr : stdout);
    return argc < 1 ? 2 : 0;
  }
  if (!strcmp(argv[0], "synth")) return cmd_synth(argc - 1, argv + 1, co);
  fprintf(stderr, "lac dataset: unknown subcommand '%s' (available: synth)\n", argv[0]);
  return 2;
}

/* ---------------------------------------------------------------- lac eval */

void usage_eval(FILE *f) {
  fprintf(f,
          "usage: lac eval MODEL DATASET [--json OUT.json] [--action NAME] [--no-baselines]\n"
          "                [--baseline-seed S] [--resize crop|squash] [--batch B]\n"
          "\n"
          "Embeds every video of DATASET (a folder with labels.json, docs/dataset.md) as one\n"
          "sequence and reports, per action, the paper's measurements (docs/evaluation.md):\n"
          "phase classification with 10/50/100 %% of the training videos (logistic regression,\n"
          "as the reference code, and a linear SVM, as the paper says), AP@5/10/15, phase\n"
          "progression (R^2) and Kendall's tau — in percent.  Two baselines run in the same\n"
          "pass unless --no-baselines: an encoder of the same architecture with random weights\n"
          "(seed S, default 0) and the frames' pixels downscaled to 8x8.  --json writes every\n"
          "number to a file.\n");
}

typedef struct {
  int n_videos;
  lac_eval_video *train, *val;
  int n_train, n_val;
} split_sets;

static void print_header(void) {
  printf("  %-22s %6s %6s %6s %6s %6s %6s %8s %6s   %6s %6s %6s\n", "encoder", "Cls10", "Cls50",
         "Cls100", "AP@5", "AP@10", "AP@15", "Progress", "tau", "SVM10", "SVM50", "SVM100");
}

static void print_row(const char *name, const lac_eval_result *r) {
  printf("  %-22s %6.2f %6.2f %6.2f %6.2f %6.2f %6.2f %8.2f %6.2f   %6.2f %6.2f %6.2f\n", name,
         100 * r->cls_logreg[0], 100 * r->cls_logreg[1], 100 * r->cls_logreg[2], 100 * r->ap[0],
         100 * r->ap[1], 100 * r->ap[2], 100 * r->progress, 100 * r->tau, 100 * r->cls_svm[0],
         100 * r->cls_svm[1], 100 * r->cls_svm[2]);
}

static cJSON *result_json(const lac_eval_result *r) {
  cJSON *o = cJSON_CreateObject();
  const char *cls[3] = {"cls10", "cls50", "cls100"}, *svm[3] = {"svm10", "svm50", "svm100"},
             *ap[3] = {"ap5", "ap10", "ap15"};
  for (int i = 0; i < 3; i++) {
    cJSON_AddNumberToObject(o, cls[i], 100 * r->cls_logreg[i]);
    cJSON_AddNumberToObject(o, svm[i], 100 * r->cls_svm[i]);
    cJSON_AddNumberToObject(o, ap[i], 100 * r->ap[i]);
  }
  cJSON_AddNumberToObject(o, "progress", 100 * r->progress);
  cJSON_AddNumberToObject(o, "tau", 100 * r->tau);
  return o;
}

static void result_add(lac_eval_result *acc, const lac_eval_result *r) {
  for (int i = 0; i < 3; i++) {
    acc->cls_logreg[i] += r->cls_logreg[i];
    acc->cls_svm[i] += r->cls_svm[i];
    acc->ap[i] += r->ap[i];
  }
  acc->progress += r->progress;
  acc->tau += r->tau;
}

static void result_scale(lac_eval_result *r, double s) {
  for (int i = 0; i < 3; i++) r->cls_logreg[i] *= s, r->cls_svm[i] *= s, r->ap[i] *= s;
  r->progress *= s;
  r->tau *= s;
}

/* Labels per embedding step: the step's middle frame's label (context 1: the frame's).  A
 * decoded length that differs from the labels file by a few frames (decoders disagree on the
 * last frames) is cut to the shorter; more is an error. */
static int step_labels(const lac_dataset_video *v, int64_t decoded, int context, int64_t steps,
                       int32_t **out, char *msg, size_t msglen, int verbose) {
  const int64_t tol = v->n_frames / 50 > 2 ? v->n_frames / 50 : 2;
  if (llabs((long long)(decoded - v->n_frames)) > tol) {
    snprintf(msg, msglen,
             "video '%s' (%s): decoded %" PRId64 " frames but the labels file describes %" PRId64
             ": is it the right file?",
             v->id, v->full_path, decoded, v->n_frames);
    return -1;
  }
  if (decoded != v->n_frames && verbose)
    fprintf(stderr, "lac: video '%s': decoded %" PRId64 " frames, labels for %" PRId64
                    "; using the first %" PRId64 "\n",
            v->id, decoded, v->n_frames, decoded < v->n_frames ? decoded : v->n_frames);
  int32_t *l = malloc(sizeof *l * (size_t)steps);
  if (!l) {
    snprintf(msg, msglen, "out of memory");
    return -1;
  }
  for (int64_t s = 0; s < steps; s++) {
    const int64_t f = s * context + context / 2;
    l[s] = f < v->n_frames ? v->labels[f] : -1;
  }
  *out = l;
  return 0;
}

int cmd_eval(int argc, char **argv, common_opts *co) {
  const char *model_path = NULL, *ds_path = NULL, *json_path = NULL, *only = NULL,
             *resize = "crop";
  long batch = 16, bseed = 0;
  int baselines = 1, rc = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (cli_common_opt(argc, argv, &i, co, &rc)) {
      if (rc) return rc;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage_eval(stdout);
      return 0;
    } else if (!strcmp(a, "--json")) {
      json_path = val, i++;
    } else if (!strcmp(a, "--action")) {
      only = val, i++;
    } else if (!strcmp(a, "--no-baselines")) {
      baselines = 0;
    } else if (!strcmp(a, "--resize")) {
      if (!val || (strcmp(val, "crop") && strcmp(val, "squash"))) {
        fprintf(stderr, "lac eval: --resize takes crop or squash, got '%s'\n", val ? val : "");
        return 2;
      }
      resize = val, i++;
    } else if (!strcmp(a, "--batch")) {
      if ((rc = cli_parse_int(a, val, 1, 4096, &batch))) return rc;
      i++;
    } else if (!strcmp(a, "--baseline-seed")) {
      if ((rc = cli_parse_int(a, val, 0, LONG_MAX, &bseed))) return rc;
      i++;
    } else if (a[0] == '-') {
      fprintf(stderr, "lac eval: unknown option '%s'\n", a);
      usage_eval(stderr);
      return 2;
    } else if (!model_path) {
      model_path = a;
    } else if (!ds_path) {
      ds_path = a;
    } else {
      fprintf(stderr, "lac eval: unexpected argument '%s'\n", a);
      return 2;
    }
  }
  if (!model_path || !ds_path) {
    fprintf(stderr, "lac eval: give MODEL and DATASET\n");
    usage_eval(stderr);
    return 2;
  }
  if ((json_path && !json_path[0]) || (only && !only[0])) {
    fprintf(stderr, "lac eval: --json and --action need a value\n");
    return 2;
  }
  lac_backend *b;
  if ((rc = cli_make_backend(co, &b))) return rc;
  lac_error err;
  lac_model *m = NULL, *rnd = NULL;
  lac_dataset *ds = NULL;
  char msg[1024] = "";
  encoder encs[3];
  memset(encs, 0, sizeof encs);
  int n_enc = 0;
  float **embs = NULL;      /* [video][encoder] */
  int64_t *steps = NULL;    /* per video */
  int32_t **labels = NULL;  /* per video */
  cJSON *jroot = cJSON_CreateObject(), *jactions = cJSON_AddObjectToObject(jroot, "actions");
  rc = 1;
  if (lac_model_load(b, model_path, &m, &err) != LAC_OK ||
      lac_dataset_load(ds_path, &ds, &err) != LAC_OK) {
    snprintf(msg, sizeof msg, "%s", err.message);
    goto done;
  }
  const lac_arch *arch = lac_model_arch(m);
  if (only) {
    int found = 0;
    for (int a = 0; a < ds->n_actions; a++) found |= !strcmp(ds->actions[a].name, only);
    if (!found) {
      snprintf(msg, sizeof msg, "--action %s: the dataset has no such action", only);
      goto done;
    }
  }
  lac_session_params sp = lac_session_default_params();
  sp.max_batch = (int)batch;
  char model_row[64];
  snprintf(model_row, sizeof model_row, "model %.8s", lac_model_id(m));
  encs[n_enc] = (encoder){.name = model_row, .context = arch->context, .d_model = arch->d_model,
                          .dim = arch->embed_dim};
  if (lac_session_new(m, &sp, &encs[n_enc].s, &err) != LAC_OK) goto model_fail;
  n_enc++;
  char rnd_row[64];
  if (baselines) {
    snprintf(rnd_row, sizeof rnd_row, "random init (seed %ld)", bseed);
    if (lac_model_init_random(b, arch, (uint64_t)bseed, &rnd, &err) != LAC_OK) goto model_fail;
    encs[n_enc] = (encoder){.name = rnd_row, .context = arch->context, .d_model = arch->d_model,
                            .dim = arch->embed_dim};
    if (lac_session_new(rnd, &sp, &encs[n_enc].s, &err) != LAC_OK) goto model_fail;
    n_enc++;
    encs[n_enc] = (encoder){.name = "pixels 8x8", .context = 1, .dim = PIX_DIM};
    n_enc++;
  }
  embs = calloc((size_t)ds->n_videos * n_enc, sizeof *embs);
  steps = calloc((size_t)ds->n_videos, sizeof *steps);
  labels = calloc((size_t)ds->n_videos, sizeof *labels);
  if (!embs || !steps || !labels) {
    snprintf(msg, sizeof msg, "out of memory");
    goto done;
  }
  printf("lac eval: %s on %s (%d videos, %d action%s), %s at %dx%d\n", model_path, ds_path,
         ds->n_videos, ds->n_actions, ds->n_actions == 1 ? "" : "s", lac_trunk_name(arch->trunk),
         arch->input_size, arch->input_size);
  const double t0 = cli_now();
  int64_t total = 0;
  /* embed every video that an evaluated action uses */
  for (int v = 0; v < ds->n_videos; v++) {
    const lac_dataset_video *dv = &ds->videos[v];
    if (only && strcmp(ds->actions[dv->action].name, only)) continue;
    if (strcmp(dv->split, "train") && strcmp(dv->split, "val")) continue;
    char label[64];
    snprintf(label, sizeof label, "%d/%d %s", v + 1, ds->n_videos, dv->id);
    int64_t n = 0;
    if (embed_video(dv->full_path, arch->input_size, resize, (int)batch, encs, n_enc, arch->context,
                    &n, NULL, label, msg, sizeof msg))
      goto done;
    total += n;
    steps[v] = encs[0].steps;
    for (int k = 0; k < n_enc; k++) {
      embs[(size_t)v * n_enc + k] = encs[k].emb;
      encs[k].emb = NULL;
    }
    if (step_labels(dv, n, arch->context, steps[v], &labels[v], msg, sizeof msg, co->verbose))
      goto done;
    /* the pixel baseline has one row per frame: keep the rows of each step's middle frame */
    if (baselines && arch->context > 1) {
      float *px = embs[(size_t)v * n_enc + 2];
      for (int64_t s = 0; s < steps[v]; s++)
        memmove(px + (size_t)s * PIX_DIM, px + (size_t)(s * arch->context + arch->context / 2) * PIX_DIM,
                sizeof(float) * PIX_DIM);
    }
  }
  const double embed_sec = cli_now() - t0;
  printf("embedded %" PRId64 " frames in %.1f s (%.1f frames/s, %d encoder%s)\n\n", total,
         embed_sec, total / fmax(embed_sec, 1e-9), n_enc, n_enc == 1 ? "" : "s");

  lac_eval_result mean[3];
  memset(mean, 0, sizeof mean);
  int n_eval = 0;
  for (int a = 0; a < ds->n_actions; a++) {
    const lac_dataset_action *act = &ds->actions[a];
    if (only && strcmp(act->name, only)) continue;
    int n_tr = 0, n_va = 0;
    for (int v = 0; v < ds->n_videos; v++)
      if (ds->videos[v].action == a) {
        n_tr += !strcmp(ds->videos[v].split, "train");
        n_va += !strcmp(ds->videos[v].split, "val");
      }
    if (n_tr < 1 || n_va < 2) {
      fprintf(stderr,
              "lac eval: skipping action '%s': it needs at least 1 train and 2 val videos, has %d "
              "and %d\n",
              act->name, n_tr, n_va);
      continue;
    }
    printf("%s: %d phases, %d train / %d val videos\n", act->name, act->n_phases, n_tr, n_va);
    print_header();
    cJSON *ja = cJSON_AddObjectToObject(jactions, act->name);
    cJSON_AddNumberToObject(ja, "n_phases", act->n_phases);
    cJSON_AddNumberToObject(ja, "n_train", n_tr);
    cJSON_AddNumberToObject(ja, "n_val", n_va);
    cJSON *jr = cJSON_AddObjectToObject(ja, "results");
    lac_eval_video *tr = calloc((size_t)n_tr, sizeof *tr), *va = calloc((size_t)n_va, sizeof *va);
    if (!tr || !va) {
      free(tr);
      free(va);
      snprintf(msg, sizeof msg, "out of memory");
      goto done;
    }
    for (int k = 0; k < n_enc; k++) {
      int it = 0, iv = 0;
      for (int v = 0; v < ds->n_videos; v++) {
        const lac_dataset_video *dv = &ds->videos[v];
        if (dv->action != a) continue;
        const int is_tr = !strcmp(dv->split, "train"), is_va = !strcmp(dv->split, "val");
        if (!is_tr && !is_va) continue;
        lac_eval_video ev = {steps[v], encs[k].dim, embs[(size_t)v * n_enc + k], labels[v],
                             act->n_phases};
        if (is_tr) tr[it++] = ev;
        else va[iv++] = ev;
      }
      lac_eval_result r;
      if (lac_eval_all(tr, n_tr, va, n_va, &r, &err) != LAC_OK) {
        free(tr);
        free(va);
        snprintf(msg, sizeof msg, "action '%s', %s: %s", act->name, encs[k].name, err.message);
        goto done;
      }
      print_row(encs[k].name, &r);
      cJSON_AddItemToObject(jr, k == 0 ? "model" : k == 1 ? "random_init" : "pixels",
                            result_json(&r));
      result_add(&mean[k], &r);
    }
    free(tr);
    free(va);
    n_eval++;
    printf("\n");
  }
  if (!n_eval) {
    snprintf(msg, sizeof msg,
             "no action could be evaluated: each needs videos with split \"train\" and at least "
             "two with split \"val\"");
    goto done;
  }
  if (n_eval > 1) {
    printf("mean over %d actions\n", n_eval);
    print_header();
    cJSON *jm = cJSON_AddObjectToObject(jroot, "mean");
    for (int k = 0; k < n_enc; k++) {
      result_scale(&mean[k], 1.0 / n_eval);
      print_row(encs[k].name, &mean[k]);
      cJSON_AddItemToObject(jm, k == 0 ? "model" : k == 1 ? "random_init" : "pixels",
                            result_json(&mean[k]));
    }
    printf("\n");
  }
  printf("(percent; Cls = logistic regression as the reference code, SVM = linear SVM as the "
         "paper; docs/evaluation.md)\n");
  if (json_path) {
    cJSON_AddStringToObject(jroot, "model", model_path);
    cJSON_AddStringToObject(jroot, "model_id", lac_model_id(m));
    cJSON_AddStringToObject(jroot, "dataset", ds_path);
    cJSON_AddStringToObject(jroot, "resize", resize);
    cJSON_AddNumberToObject(jroot, "frames", (double)total);
    cJSON_AddNumberToObject(jroot, "embed_seconds", embed_sec);
    if (baselines) cJSON_AddNumberToObject(jroot, "baseline_seed", (double)bseed);
    char *text = cJSON_Print(jroot);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", json_path, (int)getpid());
    FILE *f = text ? fopen(tmp, "w") : NULL;
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) ok = 0;
    if (ok && rename(tmp, json_path) != 0) ok = 0;
    cJSON_free(text);
    if (!ok) {
      unlink(tmp);
      snprintf(msg, sizeof msg, "%s: cannot write the results: %s", json_path, strerror(errno));
      goto done;
    }
    printf("wrote %s\n", json_path);
  }
  rc = 0;
  goto done;
model_fail:
  snprintf(msg, sizeof msg, "%s", err.message);
done:
  if (rc) fprintf(stderr, "lac eval: %s\n", msg);
  cJSON_Delete(jroot);
  if (ds) {
    for (int v = 0; v < ds->n_videos; v++) {
      if (embs)
        for (int k = 0; k < n_enc; k++) free(embs[(size_t)v * n_enc + k]);
      if (labels) free(labels[v]);
    }
  }
  free(embs);
  free(steps);
  free(labels);
  for (int k = 0; k < 3; k++) {
    free(encs[k].proj);
    free(encs[k].emb);
    lac_session_free(encs[k].s);
  }
  lac_model_free(rnd);
  lac_model_free(m);
  lac_dataset_free(ds);
  lac_backend_free(b);
  return rc;
}
