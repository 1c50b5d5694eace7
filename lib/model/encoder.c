/* encoder.c — the LAC encoder forward on the CPU (METHOD.md §1), as straight-line code
 * over the layers: input normalisation, ResNet trunk, Conv3d head, max pool, MLP,
 * projection, positional encoding, transformer, output projection, optional L2.
 * All buffers come from the session's planned workspace.
 * Not here: backward/training, the CUDA path, the streaming window logic (session.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model.h"

const char *const lac_prof_names[LAC_PROF_N] = {
    "input", "stem conv", "max pool", "layer1", "layer2", "layer3",
    "head conv1", "head conv2", "pool+MLP+proj", "transformer"};

double lac_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* time a stage when profiling: PROF_BEGIN; ...; PROF_END(stage) */
#define PROF_BEGIN double prof_t0_ = s->profile ? lac_now() : 0
#define PROF_END(stage)                                  \
  do {                                                   \
    if (s->profile) {                                    \
      double t1_ = lac_now();                            \
      s->prof[stage] += t1_ - prof_t0_;                  \
      prof_t0_ = t1_;                                    \
    }                                                    \
  } while (0)

static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};

lac_status lac_frames_check(const lac_model *m, const lac_frames *fr, lac_error *err) {
  if (!fr) return lac_error_set(err, LAC_ERR_INVALID_ARG, "frames is NULL");
  const int S = m->arch.input_size;
  if (fr->n < 0) return lac_error_set(err, LAC_ERR_INVALID_ARG, "frames: n = %d is negative", fr->n);
  if (fr->n > 0 && !fr->data) return lac_error_set(err, LAC_ERR_INVALID_ARG, "frames: data is NULL");
  if (fr->width != S || fr->height != S)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "frames are %dx%d but the model takes %dx%d: scale them first", fr->width,
                         fr->height, S, S);
  if (fr->format == LAC_PIXELS_RGB8) {
    if (fr->stride != 0 && fr->stride < (size_t)3 * S)
      return lac_error_set(err, LAC_ERR_INVALID_ARG,
                           "frames: stride %zu is smaller than 3 * width = %d", fr->stride, 3 * S);
  } else if (fr->format != LAC_PIXELS_F32_NORMALIZED) {
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "frames: unknown pixel format %d",
                         (int)fr->format);
  }
  return LAC_OK;
}

static size_t rgb_stride(const lac_arch *a, const lac_frames *fr) {
  return fr->stride ? fr->stride : (size_t)3 * a->input_size;
}

lac_frames lac_frames_slice(const lac_arch *a, const lac_frames *fr, int first, int n) {
  lac_frames v = *fr;
  const size_t S = (size_t)a->input_size;
  v.n = n;
  if (fr->format == LAC_PIXELS_RGB8)
    v.data = (const unsigned char *)fr->data + (size_t)first * rgb_stride(a, fr) * S;
  else
    v.data = (const float *)fr->data + (size_t)first * 3 * S * S;
  return v;
}

/* frame i of fr -> 3 planes at dst + c * cstride, normalised */
static void frame_to_planes(const lac_arch *a, const lac_frames *fr, int i, float *dst,
                            size_t cstride) {
  const int S = a->input_size;
  const size_t plane = (size_t)S * S;
  if (fr->format == LAC_PIXELS_RGB8) {
    const size_t stride = rgb_stride(a, fr);
    const unsigned char *src = (const unsigned char *)fr->data + (size_t)i * stride * S;
    for (int y = 0; y < S; y++) {
      const unsigned char *row = src + (size_t)y * stride;
      for (int c = 0; c < 3; c++) {
        float *d = dst + c * cstride + (size_t)y * S;
        for (int x = 0; x < S; x++)
          d[x] = ((float)row[3 * x + c] / 255.0f - imagenet_mean[c]) / imagenet_std[c];
      }
    }
  } else {
    const float *src = (const float *)fr->data + (size_t)i * 3 * plane;
    for (int c = 0; c < 3; c++) memcpy(dst + c * cstride, src + c * plane, sizeof(float) * plane);
  }
}

void lac_frame_normalize(const lac_arch *a, const lac_frames *fr, int i, float *dst) {
  frame_to_planes(a, fr, i, dst, (size_t)a->input_size * a->input_size);
}

/* frames [f0, f0+nf) of fr -> dst [3][nf][S][S] (CNHW), normalised */
static lac_status load_input(const lac_model *m, const lac_frames *fr, int f0, int nf, float *dst,
                             lac_error *err) {
  const size_t plane = (size_t)m->arch.input_size * m->arch.input_size;
  for (int f = 0; f < nf; f++) frame_to_planes(&m->arch, fr, f0 + f, dst + f * plane, nf * plane);
  for (size_t i = 0; i < 3 * nf * plane; i++)
    if (!isfinite(dst[i]))
      return lac_error_set(err, LAC_ERR_NUMERIC,
                           "frame %d holds a non-finite value: check the input frames",
                           f0 + (int)((i % (nf * plane)) / plane));
  return LAC_OK;
}

/* Runs the trunk on s->input (nf frames); returns the buffer holding [Ct][nf][ts][ts]. */
static float *run_trunk(lac_session *s, int nf) {
  const lac_infer *inf = &s->model->inf;
  const int nt = s->model->backend->n_threads;
  int h = s->model->arch.input_size, w = h;
  float **A = s->act;
  PROF_BEGIN;
  lac_conv2d_cnhw(&inf->stem, s->input, nf, h, w, A[1], NULL, 1, s->ws, nt);
  PROF_END(LAC_PROF_STEM);
  h = lac_conv_out(h, 7, 2, 3);
  w = h;
  lac_maxpool3s2_cnhw(A[1], 64 * nf, h, w, A[0], nt);
  PROF_END(LAC_PROF_MAXPOOL);
  h = lac_conv_out(h, 3, 2, 1);
  w = h;
  float *x = A[0], *t1 = A[1], *t2 = A[2], *r = A[3], *o = A[4];
  for (int i = 0; i < inf->n_blocks; i++) {
    const lac_block_w *b = &inf->blocks[i];
    const int ho = lac_conv_out(h, 3, b->spec.stride, 1);
    const float *res = x;
    if (b->spec.has_down) {
      lac_conv2d_cnhw(&b->down, x, nf, h, w, r, NULL, 0, s->ws, nt);
      res = r;
    }
    if (b->spec.bottleneck) {
      lac_conv2d_cnhw(&b->conv1, x, nf, h, w, t1, NULL, 1, s->ws, nt);
      lac_conv2d_cnhw(&b->conv2, t1, nf, h, w, t2, NULL, 1, s->ws, nt);
      lac_conv2d_cnhw(&b->conv3, t2, nf, ho, ho, o, res, 1, s->ws, nt);
    } else {
      lac_conv2d_cnhw(&b->conv1, x, nf, h, w, t1, NULL, 1, s->ws, nt);
      lac_conv2d_cnhw(&b->conv2, t1, nf, ho, ho, o, res, 1, s->ws, nt);
    }
    float *tmp = x;
    x = o;
    o = tmp;
    h = w = ho;
    PROF_END(LAC_PROF_LAYER1 + b->spec.layer - 1);
  }
  return x;
}

/* Head on trunk features x [Ct][nf][ts][ts] -> out [nf/ctx][d_model]. */
static void run_head(lac_session *s, float *x, int nf, float *out) {
  const lac_model *m = s->model;
  const lac_infer *inf = &m->inf;
  const lac_arch *a = &m->arch;
  const int nt = m->backend->n_threads;
  const int ct = lac_arch_trunk_channels(a), cc = a->conv_channels, ts = lac_arch_trunk_size(a);
  const int ctx = a->context, ng = nf / ctx;
  float *y1 = (x == s->act[0]) ? s->act[1] : s->act[0];
  float *y2 = (x == s->act[2]) ? s->act[3] : s->act[2];
  PROF_BEGIN;
  if (ctx == 1) {
    lac_conv2d_cnhw(&inf->head1, x, nf, ts, ts, y1, NULL, 1, s->ws, nt);
    PROF_END(LAC_PROF_HEAD_CONV1);
    lac_conv2d_cnhw(&inf->head2, y1, nf, ts - 2, ts - 2, y2, NULL, 1, s->ws, nt);
  } else {
    lac_conv3d_cnhw(ct, cc, inf->h1_w, inf->h1_b, x, ng, ctx, ts, ts, y1, 1, s->ws, nt);
    PROF_END(LAC_PROF_HEAD_CONV1);
    lac_conv3d_cnhw(cc, cc, inf->h2_w, inf->h2_b, y1, ng, ctx, ts - 2, ts - 2, y2, 1, s->ws, nt);
  }
  PROF_END(LAC_PROF_HEAD_CONV2);
  lac_global_maxpool_cnhw(y2, cc, ng, ctx, (ts - 4) * (ts - 4), s->pooled, nt);
  lac_linear(s->pooled, ng, cc, inf->fc1_w, inf->fc1_b, a->fc_dim, s->fc_a, 1);
  lac_linear(s->fc_a, ng, a->fc_dim, inf->fc2_w, inf->fc2_b, a->fc_dim, s->fc_b, 1);
  lac_linear(s->fc_b, ng, a->fc_dim, inf->proj_w, inf->proj_b, a->d_model, out, 0);
  PROF_END(LAC_PROF_MLP);
}

static lac_status check_batch(lac_session *s, const lac_frames *fr, lac_error *err) {
  lac_status st = lac_frames_check(s->model, fr, err);
  if (st != LAC_OK) return st;
  if (fr->n % s->model->arch.context != 0)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "%d frames is not a multiple of the model's context (%d frames per "
                         "embedding)",
                         fr->n, s->model->arch.context);
  return LAC_OK;
}

lac_status lac_encoder_project(lac_session *s, const lac_frames *fr, float *out, lac_error *err) {
  lac_status st = check_batch(s, fr, err);
  if (st != LAC_OK) return st;
  const lac_arch *a = &s->model->arch;
  for (int f0 = 0; f0 < fr->n; f0 += s->batch) {
    const int nf = f0 + s->batch <= fr->n ? s->batch : fr->n - f0;
    PROF_BEGIN;
    if ((st = load_input(s->model, fr, f0, nf, s->input, err)) != LAC_OK) return st;
    PROF_END(LAC_PROF_INPUT);
    float *x = run_trunk(s, nf);
    run_head(s, x, nf, out + (size_t)(f0 / a->context) * a->d_model);
  }
  const size_t n = (size_t)(fr->n / a->context) * a->d_model;
  for (size_t i = 0; i < n; i++)
    if (!isfinite(out[i]))
      return lac_error_set(err, LAC_ERR_NUMERIC,
                           "the encoder produced a non-finite value (step %zu): the model "
                           "weights are unusable",
                           i / a->d_model);
  return LAC_OK;
}

lac_status lac_encoder_trunk(lac_session *s, const lac_frames *fr, float *out, lac_error *err) {
  lac_status st = check_batch(s, fr, err);
  if (st != LAC_OK) return st;
  const lac_arch *a = &s->model->arch;
  const int ct = lac_arch_trunk_channels(a), ts = lac_arch_trunk_size(a);
  const size_t per = (size_t)ct * ts * ts;
  for (int f0 = 0; f0 < fr->n; f0 += s->batch) {
    const int nf = f0 + s->batch <= fr->n ? s->batch : fr->n - f0;
    if ((st = load_input(s->model, fr, f0, nf, s->input, err)) != LAC_OK) return st;
    float *x = run_trunk(s, nf);
    lac_cnhw_to_nchw(x, nf, ct, ts * ts, out + (size_t)f0 * per);
  }
  return LAC_OK;
}

lac_status lac_session_grow_seq(lac_session *s, int s_len, lac_error *err) {
  if (s_len <= s->seq_cap) return LAC_OK;
  const lac_arch *a = &s->model->arch;
  lac_free(s->seq);
  lac_free(s->pe);
  lac_free(s->tws);
  s->seq = lac_alloc(sizeof(float) * (size_t)s_len * a->d_model);
  s->pe = lac_alloc(sizeof(float) * (size_t)s_len * a->d_model);
  s->tws = lac_alloc(sizeof(float) * lac_tlayer_ws_floats(s_len, a->d_model, a->ff_dim));
  if (!s->seq || !s->pe || !s->tws) {
    s->seq_cap = 0;
    return lac_error_set(err, LAC_ERR_NOMEM, "out of memory for a %d-step sequence", s_len);
  }
  s->seq_cap = s_len;
  return LAC_OK;
}

lac_status lac_encoder_sequence(lac_session *s, const float *proj, int s_len, float *out,
                                lac_error *err) {
  const lac_arch *a = &s->model->arch;
  const lac_infer *inf = &s->model->inf;
  if (s_len <= 0) return LAC_OK;
  lac_status st = lac_session_grow_seq(s, s_len, err);
  if (st != LAC_OK) return st;
  PROF_BEGIN;
  const size_t n = (size_t)s_len * a->d_model;
  lac_posenc(s->pe, s_len, a->d_model, a->train_len);
  for (size_t i = 0; i < n; i++) s->seq[i] = proj[i] + s->pe[i];
  const int per_token = a->attention == LAC_ATTENTION_FRAME;
  for (int l = 0; l < a->n_layers; l++) lac_tlayer_forward(&inf->layers[l], s->seq, s_len, per_token, s->tws);
  lac_linear(s->seq, s_len, a->d_model, inf->out_w, inf->out_b, a->embed_dim, out, 0);
  if (a->l2_normalize)
    for (int i = 0; i < s_len; i++) {
      float *r = out + (size_t)i * a->embed_dim;
      double nrm = 0;
      for (int k = 0; k < a->embed_dim; k++) nrm += (double)r[k] * r[k];
      const float inv = (float)(1.0 / fmax(sqrt(nrm), 1e-12));
      for (int k = 0; k < a->embed_dim; k++) r[k] *= inv;
    }
  PROF_END(LAC_PROF_TRANSFORMER);
  for (size_t i = 0; i < (size_t)s_len * a->embed_dim; i++)
    if (!isfinite(out[i]))
      return lac_error_set(err, LAC_ERR_NUMERIC, "the transformer produced a non-finite value");
  return LAC_OK;
}
