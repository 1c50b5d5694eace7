/* test_encoder.c — the whole encoder against PyTorch: a model file and an io file written
 * by `tools/gen_reference.py encoder` (or `checkpoint` + tools/convert.py).  Compares the
 * trunk output, the per-step projection, the final embeddings for float input, and the
 * embeddings for uint8 RGB input (our normalisation against PyTorch's).
 *
 * Tolerance: max |ours - ref| / max |ref| <= 1e-4 for every tensor (float32 sums in a
 * different order than PyTorch over ~50 layers).  Usage: test_encoder MODEL IO [THREADS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lac/safetensors.h"
#include "model/model.h"
#include "testutil.h"

#define TOL 1e-4

static float *copy_f32(const lac_st_file *f, const char *name, size_t *n) {
  const lac_st_tensor *t = lac_st_find(f, name);
  if (!t || t->dtype != LAC_DTYPE_F32) return NULL;
  float *p = malloc(t->n_bytes + 4);
  memcpy(p, t->data, t->n_bytes);
  if (n) *n = (size_t)t->n_elements;
  return p;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: test_encoder MODEL IO [THREADS]\n");
    return 2;
  }
  lac_error err;
  lac_backend_params bp = lac_backend_default_params();
  bp.n_threads = argc > 3 ? atoi(argv[3]) : 2;
  lac_backend *b;
  CHECK_OK(lac_backend_new(&bp, &b, &err), &err);
  lac_model *m = NULL;
  lac_st_file *io = NULL;
  CHECK_OK(lac_model_load(b, argv[1], &m, &err), &err);
  CHECK_OK(lac_st_read(argv[2], &io, &err), &err);
  if (!m || !io) return test_exit("test_encoder");
  const lac_arch *a = lac_model_arch(m);
  const lac_st_tensor *ti = lac_st_find(io, "input");
  CHECK(ti && ti->ndim == 4 && ti->shape[2] == a->input_size, "io file: input");
  if (!ti) return test_exit("test_encoder");
  const int T = (int)ti->shape[0], S = a->input_size, steps = T / a->context;
  float *input = copy_f32(io, "input", NULL);
  lac_session *s;
  lac_session_params sp = lac_session_default_params();
  sp.max_batch = T > 2 ? T - 1 : T; /* exercise a partial second batch when possible */
  sp.max_batch -= sp.max_batch % a->context;
  if (sp.max_batch < a->context) sp.max_batch = a->context;
  CHECK_OK(lac_session_new(m, &sp, &s, &err), &err);
  lac_frames fr = {LAC_PIXELS_F32_NORMALIZED, T, S, S, 0, input};

  size_t n_trunk = 0, n_head = 0, n_out = 0;
  float *ref_trunk = copy_f32(io, "trunk", &n_trunk);
  float *ref_head = copy_f32(io, "head", &n_head);
  float *ref_out = copy_f32(io, "output", &n_out);
  /* trunk and head are optional (a converted reference checkpoint has only the output) */
  CHECK(ref_out != NULL, "io file lacks the output");
  if (ref_trunk) {
    float *trunk = calloc(n_trunk, sizeof(float));
    CHECK(n_trunk == (size_t)T * lac_arch_trunk_channels(a) * lac_arch_trunk_size(a) * lac_arch_trunk_size(a),
          "trunk size");
    CHECK_OK(lac_encoder_trunk(s, &fr, trunk, &err), &err);
    double e = test_rel_err(trunk, ref_trunk, n_trunk, 1e-6);
    printf("trunk       rel err %.3g\n", e);
    CHECK(e <= TOL, "trunk rel err %.3g", e);
    free(trunk);
  }
  if (ref_head) {
    float *head = calloc(n_head, sizeof(float));
    CHECK(n_head == (size_t)steps * a->d_model, "head size");
    CHECK_OK(lac_session_project(s, &fr, head, &err), &err);
    double e = test_rel_err(head, ref_head, n_head, 1e-6);
    printf("projection  rel err %.3g\n", e);
    CHECK(e <= TOL, "projection rel err %.3g", e);
    free(head);
  }
  if (ref_out) {
    float *out = calloc(n_out, sizeof(float));
    CHECK(n_out == (size_t)steps * a->embed_dim, "output size");
    for (size_t i = 0; i < n_out; i++) out[i] = 1e30f; /* poisoned */
    CHECK_OK(lac_session_embed_sequence(s, &fr, out, &err), &err);
    double e = test_rel_err(out, ref_out, n_out, 1e-6);
    printf("embeddings  rel err %.3g\n", e);
    CHECK(e <= TOL, "embedding rel err %.3g", e);
    free(out);
  }
  const lac_st_tensor *tr = lac_st_find(io, "rgb8");
  size_t n_out8;
  float *ref_out8 = copy_f32(io, "output_rgb8", &n_out8);
  if (tr && ref_out8) {
    CHECK(tr->dtype == LAC_DTYPE_U8 && tr->ndim == 4 && tr->shape[3] == 3, "rgb8 tensor");
    lac_frames f8 = {LAC_PIXELS_RGB8, T, S, S, 0, tr->data};
    float *out = calloc(n_out8, sizeof(float));
    CHECK_OK(lac_session_embed_sequence(s, &f8, out, &err), &err);
    double e = test_rel_err(out, ref_out8, n_out8, 1e-6);
    printf("rgb8 input  rel err %.3g\n", e);
    CHECK(e <= TOL, "rgb8 embedding rel err %.3g", e);
    free(out);
  }
  free(ref_out8);
  free(ref_trunk);
  free(ref_head);
  free(ref_out);
  free(input);
  lac_session_free(s);
  lac_st_free(io);
  lac_model_free(m);
  lac_backend_free(b);
  return test_exit("test_encoder");
}
