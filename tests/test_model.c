/* test_model.c — model files and sessions without PyTorch: seeded init, save/load round
 * trips, the initialisation statistics PyTorch's schemes imply, every load error the
 * loader promises (missing, unknown, mis-shaped, wrong dtype, NaN, wrong metadata), session
 * argument errors, and the streaming window against whole-sequence embedding. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lac/lac.h"
#include "lac/safetensors.h"
#include "testutil.h"

static char tmpdir[256];

static lac_arch tiny_arch(void) {
  lac_arch a;
  lac_error err;
  lac_arch_preset("resnet18-112", &a, &err);
  a.input_size = 80;
  a.conv_channels = 16;
  a.fc_dim = 24;
  a.d_model = 16;
  a.n_heads = 4;
  a.ff_dim = 32;
  a.embed_dim = 8;
  a.train_len = 6;
  return a;
}

static void path_in_tmp(char *buf, size_t n, const char *name) {
  snprintf(buf, n, "%s/%s", tmpdir, name);
}

/* Rewrite `src` into `dst` changing one tensor or metadata entry through a callback. */
typedef void (*edit_fn)(lac_st_writer *w, const lac_st_tensor *t, int *skip, void *data);

static void rewrite(const char *src, const char *dst, edit_fn edit, const char *meta_key,
                    const char *meta_value) {
  lac_error err;
  lac_st_file *f;
  CHECK_OK(lac_st_read(src, &f, &err), &err);
  lac_st_writer *w;
  CHECK_OK(lac_st_writer_new(&w, &err), &err);
  for (size_t i = 0; i < lac_st_meta_count(f); i++) {
    const char *k = lac_st_meta_key(f, i), *v = lac_st_meta_value(f, i);
    if (meta_key && !strcmp(k, meta_key)) v = meta_value;
    if (v) lac_st_writer_meta(w, k, v, &err);
  }
  float *copies[512];
  int nc = 0;
  for (size_t i = 0; i < lac_st_count(f); i++) {
    const lac_st_tensor *t = lac_st_at(f, i);
    int skip = 0;
    if (edit) edit(w, t, &skip, NULL);
    if (!skip) {
      float *c = malloc(t->n_bytes + 1);
      memcpy(c, t->data, t->n_bytes);
      copies[nc++] = c;
      CHECK_OK(lac_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, c, &err), &err);
    }
  }
  CHECK_OK(lac_st_writer_write(w, dst, &err), &err);
  lac_st_writer_free(w);
  for (int i = 0; i < nc; i++) free(copies[i]);
  lac_st_free(f);
}

static float nan_buf[64 * 3 * 7 * 7];
static float wrong_shape_buf[64];

static void drop_fc(lac_st_writer *w, const lac_st_tensor *t, int *skip, void *d) {
  (void)w, (void)d;
  *skip = !strcmp(t->name, "fc_layers.4.bias");
}
static void add_unknown(lac_st_writer *w, const lac_st_tensor *t, int *skip, void *d) {
  (void)skip, (void)d;
  lac_error err;
  if (!strcmp(t->name, "embedding_layer2.bias"))
    lac_st_writer_add(w, "model.layer4.0.conv1.weight", LAC_DTYPE_F32, 1, (int64_t[]){4},
                      wrong_shape_buf, &err);
}
static void reshape(lac_st_writer *w, const lac_st_tensor *t, int *skip, void *d) {
  (void)d;
  lac_error err;
  if (!strcmp(t->name, "model.bn1.bias")) {
    *skip = 1;
    lac_st_writer_add(w, t->name, LAC_DTYPE_F32, 1, (int64_t[]){32}, wrong_shape_buf, &err);
  }
}
static void to_f64(lac_st_writer *w, const lac_st_tensor *t, int *skip, void *d) {
  (void)d;
  lac_error err;
  if (!strcmp(t->name, "model.bn1.bias")) {
    *skip = 1;
    lac_st_writer_add(w, t->name, LAC_DTYPE_F64, 1, (int64_t[]){32}, wrong_shape_buf, &err);
  }
}
static void poison(lac_st_writer *w, const lac_st_tensor *t, int *skip, void *d) {
  (void)d;
  lac_error err;
  if (!strcmp(t->name, "model.conv1.weight")) {
    *skip = 1;
    for (size_t i = 0; i < sizeof nan_buf / sizeof *nan_buf; i++) nan_buf[i] = 0.01f;
    nan_buf[17] = NAN;
    lac_st_writer_add(w, t->name, LAC_DTYPE_F32, t->ndim, t->shape, nan_buf, &err);
  }
}

static void expect_load_error(lac_backend *b, const char *path, lac_status code, const char *needle) {
  lac_error err;
  lac_model *m = NULL;
  lac_status st = lac_model_load(b, path, &m, &err);
  CHECK(st == code, "%s: expected %s, got %s (%s)", path, lac_status_string(code),
        lac_status_string(st), err.message);
  CHECK(st == LAC_OK || strstr(err.message, needle) != NULL, "%s: message '%s' lacks '%s'", path,
        err.message, needle);
  CHECK(m == NULL || st == LAC_OK, "model handle set on failure");
  lac_model_free(m);
}

static void test_files(lac_backend *b) {
  lac_error err;
  lac_arch a = tiny_arch();
  lac_model *m, *m2, *m3;
  char p1[512], p2[512];
  path_in_tmp(p1, sizeof p1, "tiny.safetensors");
  CHECK_OK(lac_model_init_random(b, &a, 42, &m, &err), &err);
  CHECK_OK(lac_model_init_random(b, &a, 42, &m3, &err), &err);
  CHECK(!strcmp(lac_model_id(m), lac_model_id(m3)), "same seed, different weights");
  lac_model_free(m3);
  CHECK_OK(lac_model_init_random(b, &a, 43, &m3, &err), &err);
  CHECK(strcmp(lac_model_id(m), lac_model_id(m3)) != 0, "different seeds, same weights");
  lac_model_free(m3);
  CHECK_OK(lac_model_meta_set(m, "lac.name", "tiny test", &err), &err);
  CHECK(lac_model_meta_set(m, "lac.arch.d_model", "3", &err) == LAC_ERR_INVALID_ARG,
        "architecture metadata must be read-only");
  CHECK_OK(lac_model_save(m, p1, &err), &err);
  CHECK_OK(lac_model_load(b, p1, &m2, &err), &err);
  if (m2) {
    CHECK(!strcmp(lac_model_id(m), lac_model_id(m2)), "id changed across save/load");
    CHECK(!memcmp(lac_model_arch(m), lac_model_arch(m2), sizeof(lac_arch)), "arch changed");
    CHECK(lac_model_n_params(m) == lac_model_n_params(m2), "param count changed");
    CHECK(lac_model_meta_get(m2, "lac.name") && !strcmp(lac_model_meta_get(m2, "lac.name"), "tiny test"),
          "metadata lost");
    int nd;
    int64_t shape[8];
    const float *w1 = lac_model_tensor(m, "model.layer2.0.downsample.0.weight", &nd, shape);
    const float *w2 = lac_model_tensor(m2, "model.layer2.0.downsample.0.weight", NULL, NULL);
    CHECK(w1 && w2 && nd == 4 && shape[0] == 128 && shape[1] == 64, "downsample tensor shape");
    if (w1 && w2) CHECK(!memcmp(w1, w2, sizeof(float) * 128 * 64), "weights changed on save/load");
    lac_model_free(m2);
  }
  /* initialisation statistics: kaiming_normal(fan_out) on convs, U(+-1/sqrt(fan_in)) on linears */
  int nd;
  int64_t sh[8];
  const float *w = lac_model_tensor(m, "model.layer1.0.conv2.weight", &nd, sh);
  double s2 = 0;
  size_t n = (size_t)(sh[0] * sh[1] * sh[2] * sh[3]);
  for (size_t i = 0; i < n; i++) s2 += (double)w[i] * w[i];
  double std = sqrt(s2 / n), want = sqrt(2.0 / (sh[0] * 9));
  CHECK(fabs(std / want - 1) < 0.05, "conv init std %.4f, expected %.4f", std, want);
  w = lac_model_tensor(m, "fc_layers.1.weight", &nd, sh);
  double mx = 0, bound = 1.0 / sqrt((double)sh[1]);
  for (int64_t i = 0; i < sh[0] * sh[1]; i++) mx = fmax(mx, fabs(w[i]));
  CHECK(mx <= bound && mx > 0.9 * bound, "linear init max %.4f, bound %.4f", mx, bound);
  w = lac_model_tensor(m, "model.bn1.running_var", NULL, NULL);
  CHECK(w && w[0] == 1.f, "BN running_var must start at 1");

  /* every load error */
  path_in_tmp(p2, sizeof p2, "bad.safetensors");
  rewrite(p1, p2, drop_fc, NULL, NULL);
  expect_load_error(b, p2, LAC_ERR_MODEL_MISMATCH, "fc_layers.4.bias");
  rewrite(p1, p2, add_unknown, NULL, NULL);
  expect_load_error(b, p2, LAC_ERR_MODEL_MISMATCH, "unknown tensor 'model.layer4.0.conv1.weight'");
  rewrite(p1, p2, reshape, NULL, NULL);
  expect_load_error(b, p2, LAC_ERR_MODEL_MISMATCH, "expected shape [64], got [32]");
  rewrite(p1, p2, to_f64, NULL, NULL);
  expect_load_error(b, p2, LAC_ERR_MODEL_MISMATCH, "expected dtype F32, got F64");
  rewrite(p1, p2, poison, NULL, NULL);
  expect_load_error(b, p2, LAC_ERR_NUMERIC, "non-finite");
  rewrite(p1, p2, NULL, "lac.arch.d_model", "18");
  expect_load_error(b, p2, LAC_ERR_FORMAT, "multiple of n_heads");
  rewrite(p1, p2, NULL, "lac.arch.d_model", "32");
  expect_load_error(b, p2, LAC_ERR_MODEL_MISMATCH, "expected shape");
  rewrite(p1, p2, NULL, "lac.arch.trunk", "resnet50");
  expect_load_error(b, p2, LAC_ERR_MODEL_MISMATCH, "expected");
  rewrite(p1, p2, NULL, "lac.arch.attention", "sideways");
  expect_load_error(b, p2, LAC_ERR_FORMAT, "expected time or frame");
  rewrite(p1, p2, NULL, "lac.format", "lac-embeddings");
  expect_load_error(b, p2, LAC_ERR_FORMAT, "embeddings file");
  rewrite(p1, p2, NULL, "lac.version", "7");
  expect_load_error(b, p2, LAC_ERR_FORMAT, "version 7");
  rewrite(p1, p2, NULL, "lac.arch.input_size", NULL);
  expect_load_error(b, p2, LAC_ERR_FORMAT, "lac.arch.input_size");
  path_in_tmp(p2, sizeof p2, "does-not-exist.safetensors");
  expect_load_error(b, p2, LAC_ERR_IO, "does-not-exist");
  /* a failed save leaves the old file in place */
  path_in_tmp(p2, sizeof p2, "no-such-dir/model.safetensors");
  CHECK(lac_model_save(m, p2, &err) == LAC_ERR_IO, "save into a missing folder must fail");
  lac_model_free(m);
}

static void test_sessions(lac_backend *b) {
  lac_error err;
  lac_arch a = tiny_arch();
  lac_model *m;
  CHECK_OK(lac_model_init_random(b, &a, 7, &m, &err), &err);
  if (!m) return;
  const int S = a.input_size, T = 11, D = a.embed_dim;
  unsigned char *rgb = malloc((size_t)T * S * S * 3);
  for (size_t i = 0; i < (size_t)T * S * S * 3; i++) rgb[i] = (unsigned char)((i * 2654435761u) >> 13);
  lac_session *s;
  lac_session_params sp = lac_session_default_params();
  sp.max_batch = 4; /* forces several trunk batches */
  CHECK_OK(lac_session_new(m, &sp, &s, &err), &err);
  /* argument errors */
  lac_frames bad = {LAC_PIXELS_RGB8, 2, S + 1, S, 0, rgb};
  float *out = calloc((size_t)(T + 64) * D, sizeof(float));
  CHECK(lac_session_embed_sequence(s, &bad, out, &err) == LAC_ERR_INVALID_ARG &&
            strstr(err.message, "scale them"),
        "wrong frame size: %s", err.message);
  lac_frames empty = {LAC_PIXELS_RGB8, 0, S, S, 0, rgb};
  CHECK(lac_session_embed_sequence(s, &empty, out, &err) == LAC_ERR_INVALID_ARG, "empty clip");
  lac_frames shortstride = {LAC_PIXELS_RGB8, 1, S, S, 10, rgb};
  CHECK(lac_session_embed_sequence(s, &shortstride, out, &err) == LAC_ERR_INVALID_ARG, "stride");
  float *nanf = calloc((size_t)3 * S * S, sizeof(float));
  nanf[5] = NAN;
  lac_frames nanfr = {LAC_PIXELS_F32_NORMALIZED, 1, S, S, 0, nanf};
  CHECK(lac_session_embed_sequence(s, &nanfr, out, &err) == LAC_ERR_NUMERIC, "NaN input");
  sp.max_batch = 0;
  lac_session *s2 = NULL;
  CHECK(lac_session_new(m, &sp, &s2, &err) == LAC_ERR_INVALID_ARG && !s2, "max_batch 0");

  /* the sequence embedding: batching must not change it */
  lac_frames fr = {LAC_PIXELS_RGB8, T, S, S, 0, rgb};
  float *ref = calloc((size_t)T * D, sizeof(float));
  CHECK_OK(lac_session_embed_sequence(s, &fr, ref, &err), &err);
  sp.max_batch = 16;
  CHECK_OK(lac_session_new(m, &sp, &s2, &err), &err);
  CHECK_OK(lac_session_embed_sequence(s2, &fr, out, &err), &err);
  CHECK(test_rel_err(out, ref, (size_t)T * D, 1e-6) <= 1e-5, "batch size changed the output");
  /* projecting in chunks (5 + 6 frames) then embedding the projections = the whole sequence */
  {
    float *proj = calloc((size_t)T * a.d_model, sizeof(float));
    lac_frames c1 = {LAC_PIXELS_RGB8, 5, S, S, 0, rgb};
    lac_frames c2 = {LAC_PIXELS_RGB8, T - 5, S, S, 0, rgb + (size_t)5 * S * S * 3};
    CHECK_OK(lac_session_project(s2, &c1, proj, &err), &err);
    CHECK_OK(lac_session_project(s2, &c2, proj + (size_t)5 * a.d_model, &err), &err);
    memset(out, 0, sizeof(float) * (size_t)T * D);
    CHECK_OK(lac_session_embed_projections(s2, proj, T, out, &err), &err);
    CHECK(test_rel_err(out, ref, (size_t)T * D, 1e-6) <= 1e-5,
          "chunked projections + embed_projections differ from embed_sequence");
    CHECK(lac_session_embed_projections(s2, proj, 0, out, &err) == LAC_ERR_INVALID_ARG,
          "0 steps must be refused");
    free(proj);
  }
  lac_session_free(s2);

  /* streaming, causal window W: step t's embedding = last row of embed_sequence(t-W+1..t) */
  for (int mode = 0; mode < 2; mode++) {
    sp.max_batch = 3;
    sp.window = 4;
    sp.window_mode = mode ? LAC_WINDOW_CENTRED : LAC_WINDOW_CAUSAL;
    CHECK_OK(lac_session_new(m, &sp, &s2, &err), &err);
    const int lead = lac_session_latency_steps(s2);
    CHECK(lead == (mode ? 2 : 0), "latency steps %d", lead);
    float *st_out = calloc((size_t)(T + 8) * D, sizeof(float));
    int64_t idx[64];
    int full[64], got = 0, n;
    /* push in uneven chunks: 1, 4, 2, 4 frames */
    const int chunks[] = {1, 4, 2, 4};
    int f0 = 0;
    for (int c = 0; c < 4; c++) {
      lac_frames part = {LAC_PIXELS_RGB8, chunks[c], S, S, 0, rgb + (size_t)f0 * S * S * 3};
      CHECK_OK(lac_session_push(s2, &part, st_out + (size_t)got * D, idx + got, full + got, 64 - got, &n, &err), &err);
      got += n;
      f0 += chunks[c];
    }
    CHECK(got == T - lead, "mode %d: %d embeddings before flush, expected %d", mode, got, T - lead);
    CHECK_OK(lac_session_flush(s2, st_out + (size_t)got * D, idx + got, full + got, 64 - got, &n, &err), &err);
    got += n;
    CHECK(got == T, "mode %d: %d embeddings after flush, expected %d", mode, got, T);
    float *win = calloc((size_t)4 * D, sizeof(float));
    for (int k = 0; k < got; k++) {
      const int64_t t = idx[k];
      CHECK(t == k, "steps out of order: %lld at %d", (long long)t, k);
      int64_t hi = mode ? t + lead : t;
      if (hi > T - 1) hi = T - 1;
      int64_t lo = hi - 3;
      if (lo < 0) lo = 0;
      lac_frames wf = {LAC_PIXELS_RGB8, (int)(hi - lo + 1), S, S, 0, rgb + (size_t)lo * S * S * 3};
      CHECK_OK(lac_session_embed_sequence(s, &wf, win, &err), &err);
      double e = test_rel_err(st_out + (size_t)k * D, win + (size_t)(t - lo) * D, D, 1e-6);
      CHECK(e <= 1e-5, "mode %d step %lld: streaming differs from the window's sequence (%.3g)",
            mode, (long long)t, e);
      CHECK(full[k] == (hi - lo + 1 == 4), "full flag at step %lld", (long long)t);
    }
    /* reset drops the window: the next step starts a new one */
    lac_session_reset(s2);
    lac_frames one = {LAC_PIXELS_RGB8, 1, S, S, 0, rgb};
    CHECK_OK(lac_session_push(s2, &one, st_out, idx, full, 64, &n, &err), &err);
    if (!mode) {
      CHECK(n == 1 && idx[0] == 0 && full[0] == 0, "after reset: n=%d idx=%lld", n, (long long)idx[0]);
    }
    free(win);
    free(st_out);
    lac_session_free(s2);
  }
  free(ref);
  free(nanf);
  free(out);
  free(rgb);
  lac_session_free(s);
  lac_model_free(m);
}

static void test_arch(void) {
  lac_error err;
  lac_arch a;
  CHECK(lac_arch_preset("resnet101", &a, &err) == LAC_ERR_INVALID_ARG && strstr(err.message, "resnet50"),
        "unknown preset message: %s", err.message);
  CHECK_OK(lac_arch_preset("resnet50", &a, &err), &err);
  CHECK(lac_arch_trunk_channels(&a) == 1024 && lac_arch_trunk_size(&a) == 14, "resnet50 trunk");
  a.input_size = 64;
  CHECK(lac_arch_validate(&a, &err) == LAC_ERR_INVALID_ARG, "input 64 must be refused");
  CHECK_OK(lac_arch_preset("resnet18-112", &a, &err), &err);
  CHECK(lac_arch_trunk_channels(&a) == 256 && lac_arch_trunk_size(&a) == 7, "resnet18 trunk");
  a.layer3_blocks = 3;
  CHECK(lac_arch_validate(&a, &err) == LAC_ERR_INVALID_ARG && strstr(err.message, "layer3_blocks"),
        "resnet18 has 2 layer3 blocks: %s", err.message);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lac-test-model-XXXXXX");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  lac_error err;
  lac_backend *b;
  lac_backend_params bp = lac_backend_default_params();
  bp.n_threads = 2;
  CHECK_OK(lac_backend_new(&bp, &b, &err), &err);
  bp.kind = LAC_BACKEND_CUDA;
  lac_backend *cb = NULL;
  lac_status st = lac_backend_new(&bp, &cb, &err);
  if (!lac_have_cuda())
    CHECK(st == LAC_ERR_UNSUPPORTED && strstr(err.message, "without CUDA"), "cuda backend: %s", err.message);
  lac_backend_free(cb);
  test_arch();
  test_files(b);
  test_sessions(b);
  lac_backend_free(b);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_exit("test_model");
}
