/* session.c — per-stream sessions: workspace planning, whole-clip embedding, and the
 * streaming window (a ring of per-step projections, so each frame's trunk runs once and a
 * sliding window recomputes only the transformer).
 * Not here: the layer math (encoder.c, layers/). */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

lac_session_params lac_session_default_params(void) {
  lac_session_params p;
  memset(&p, 0, sizeof p);
  p.max_batch = 16;
  p.window = 0;
  p.window_mode = LAC_WINDOW_CAUSAL;
  return p;
}

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

/* Largest activation and conv workspace (im2col panels or Winograd tiles, per
 * lac_conv2d_ws_floats) over the whole forward for nf frames. */
static void plan(const lac_model *m, int nf, size_t *act, size_t *ws) {
  const lac_infer *inf = &m->inf;
  const lac_arch *a = &m->arch;
  size_t A = 0, W = 0;
  int h = a->input_size;
  A = max_sz(A, (size_t)3 * nf * h * h);
  W = max_sz(W, lac_conv2d_ws_floats(&inf->stem, nf, h, h));
  h = lac_conv_out(h, 7, 2, 3);
  A = max_sz(A, (size_t)64 * nf * h * h);
  h = lac_conv_out(h, 3, 2, 1);
  for (int i = 0; i < inf->n_blocks; i++) {
    const lac_block_w *b = &inf->blocks[i];
    const int ho = lac_conv_out(h, 3, b->spec.stride, 1);
    A = max_sz(A, (size_t)b->spec.planes * nf * h * h); /* conv1 output at input size */
    A = max_sz(A, (size_t)b->spec.out_ch * nf * ho * ho);
    W = max_sz(W, lac_conv2d_ws_floats(&b->conv1, nf, h, h));
    W = max_sz(W, lac_conv2d_ws_floats(&b->conv2, nf, b->spec.bottleneck ? h : ho,
                                       b->spec.bottleneck ? h : ho));
    if (b->spec.bottleneck) W = max_sz(W, lac_conv2d_ws_floats(&b->conv3, nf, ho, ho));
    if (b->spec.has_down) W = max_sz(W, lac_conv2d_ws_floats(&b->down, nf, h, h));
    h = ho;
  }
  const int ct = lac_arch_trunk_channels(a), cc = a->conv_channels, ts = lac_arch_trunk_size(a);
  A = max_sz(A, (size_t)cc * nf * (ts - 2) * (ts - 2));
  if (a->context == 1) {
    W = max_sz(W, lac_conv2d_ws_floats(&inf->head1, nf, ts, ts));
    W = max_sz(W, lac_conv2d_ws_floats(&inf->head2, nf, ts - 2, ts - 2));
  } else {
    const int ng = nf / a->context;
    W = max_sz(W, lac_conv3d_ws_floats(ct, ng, a->context, ts, ts));
    W = max_sz(W, lac_conv3d_ws_floats(cc, ng, a->context, ts - 2, ts - 2));
  }
  *act = A;
  *ws = W;
}

lac_status lac_session_new(const lac_model *m, const lac_session_params *params,
                           lac_session **out, lac_error *err) {
  if (!m || !out) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_session_new: NULL argument");
  *out = NULL;
  lac_session_params p = params ? *params : lac_session_default_params();
  const lac_arch *a = &m->arch;
  if (p.max_batch < 1 || p.max_batch > 4096)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "max_batch must be in [1, 4096], got %d",
                         p.max_batch);
  if (p.window < 0 || p.window > 65536)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "window must be in [0, 65536] steps (0 = train_len), got %d", p.window);
  if (p.window_mode != LAC_WINDOW_CAUSAL && p.window_mode != LAC_WINDOW_CENTRED)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "unknown window mode %d", (int)p.window_mode);
  lac_session *s = calloc(1, sizeof *s);
  if (!s) return lac_error_set(err, LAC_ERR_NOMEM, "out of memory");
  s->model = m;
  s->params = p;
  s->batch = ((p.max_batch + a->context - 1) / a->context) * a->context;
  s->window = p.window ? p.window : a->train_len;
  plan(m, s->batch, &s->act_floats, &s->ws_floats);
  const int S = a->input_size, ng = s->batch / a->context;
  s->input = lac_alloc(sizeof(float) * 3 * (size_t)s->batch * S * S);
  for (int i = 0; i < 5; i++) s->act[i] = lac_alloc(sizeof(float) * s->act_floats);
  s->ws = lac_alloc(sizeof(float) * (s->ws_floats ? s->ws_floats : 1));
  s->pooled = lac_alloc(sizeof(float) * (size_t)ng * a->conv_channels);
  s->fc_a = lac_alloc(sizeof(float) * (size_t)ng * a->fc_dim);
  s->fc_b = lac_alloc(sizeof(float) * (size_t)ng * a->fc_dim);
  s->ring = lac_alloc(sizeof(float) * (size_t)s->window * a->d_model);
  s->pending = lac_alloc(sizeof(float) * (size_t)a->context * 3 * S * S);
  s->step_proj = lac_alloc(sizeof(float) * (size_t)ng * a->d_model);
  s->win = lac_alloc(sizeof(float) * (size_t)s->window * a->d_model);
  s->win_out = lac_alloc(sizeof(float) * (size_t)s->window * a->embed_dim);
  int ok = s->input && s->ws && s->pooled && s->fc_a && s->fc_b && s->ring && s->pending &&
           s->step_proj && s->win && s->win_out && lac_session_grow_seq(s, s->window, NULL) == LAC_OK;
  for (int i = 0; i < 5; i++) ok = ok && s->act[i];
  if (!ok) {
    size_t mb = (sizeof(float) * (5 * s->act_floats + s->ws_floats)) >> 20;
    lac_session_free(s);
    return lac_error_set(err, LAC_ERR_NOMEM,
                         "out of memory for a session of batch %d (about %zu MiB): lower max_batch",
                         p.max_batch, mb);
  }
  lac_log(m->backend, LAC_LOG_DEBUG, "session: batch %d, window %d, workspace %zu MiB",
          s->batch, s->window, (sizeof(float) * (5 * s->act_floats + s->ws_floats)) >> 20);
  *out = s;
  return LAC_OK;
}

void lac_session_free(lac_session *s) {
  if (!s) return;
  lac_free(s->input);
  for (int i = 0; i < 5; i++) lac_free(s->act[i]);
  lac_free(s->ws);
  lac_free(s->pooled);
  lac_free(s->fc_a);
  lac_free(s->fc_b);
  lac_free(s->seq);
  lac_free(s->pe);
  lac_free(s->tws);
  lac_free(s->ring);
  lac_free(s->pending);
  lac_free(s->step_proj);
  lac_free(s->win);
  lac_free(s->win_out);
  free(s);
}

lac_status lac_session_project(lac_session *s, const lac_frames *fr, float *out, lac_error *err) {
  if (!s || !out) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_session_project: NULL argument");
  return lac_encoder_project(s, fr, out, err);
}

lac_status lac_session_embed_sequence(lac_session *s, const lac_frames *fr, float *out,
                                      lac_error *err) {
  if (!s || !out)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_session_embed_sequence: NULL argument");
  lac_status st = lac_frames_check(s->model, fr, err);
  if (st != LAC_OK) return st;
  if (fr->n == 0)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "cannot embed an empty clip (0 frames)");
  const lac_arch *a = &s->model->arch;
  const int steps = fr->n / a->context;
  float *proj = lac_alloc(sizeof(float) * (size_t)steps * a->d_model);
  if (!proj) return lac_error_set(err, LAC_ERR_NOMEM, "out of memory for %d steps", steps);
  st = lac_encoder_project(s, fr, proj, err);
  if (st == LAC_OK) st = lac_encoder_sequence(s, proj, steps, out, err);
  lac_free(proj);
  return st;
}

lac_status lac_session_embed_projections(lac_session *s, const float *proj, int steps, float *out,
                                         lac_error *err) {
  if (!s || !proj || !out)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_session_embed_projections: NULL argument");
  if (steps < 1)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "cannot embed an empty sequence (%d steps)",
                         steps);
  return lac_encoder_sequence(s, proj, steps, out, err);
}

/* ---------------------------------------------------------------- streaming */

int lac_session_latency_steps(const lac_session *s) {
  return s->params.window_mode == LAC_WINDOW_CENTRED ? s->window / 2 : 0;
}

void lac_session_reset(lac_session *s) {
  if (!s) return;
  s->n_steps = 0;
  s->n_pending = 0;
}

/* Emit step t using the window of steps [lo, hi] (hi - lo < window, all in the ring). */
static lac_status emit(lac_session *s, int64_t t, int64_t lo, int64_t hi, float *out,
                       int64_t *out_index, int *out_full, int *n_out, int out_cap, lac_error *err) {
  const lac_arch *a = &s->model->arch;
  if (*n_out >= out_cap)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "output has room for %d embeddings, more are ready: give out_cap >= "
                         "frames / context + window",
                         out_cap);
  const int len = (int)(hi - lo + 1);
  for (int64_t k = lo; k <= hi; k++)
    memcpy(s->win + (size_t)(k - lo) * a->d_model, s->ring + (size_t)(k % s->window) * a->d_model,
           sizeof(float) * a->d_model);
  lac_status st = lac_encoder_sequence(s, s->win, len, s->win_out, err);
  if (st != LAC_OK) return st;
  memcpy(out + (size_t)*n_out * a->embed_dim, s->win_out + (size_t)(t - lo) * a->embed_dim,
         sizeof(float) * a->embed_dim);
  if (out_index) out_index[*n_out] = t;
  if (out_full) out_full[*n_out] = len == s->window;
  (*n_out)++;
  return LAC_OK;
}

lac_status lac_session_push(lac_session *s, const lac_frames *fr, float *out, int64_t *out_index,
                            int *out_full, int out_cap, int *n_out, lac_error *err) {
  if (!s || !out || !n_out)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_session_push: NULL argument");
  *n_out = 0;
  lac_status st = lac_frames_check(s->model, fr, err);
  if (st != LAC_OK) return st;
  const lac_arch *a = &s->model->arch;
  const int ctx = a->context, S = a->input_size, lead = lac_session_latency_steps(s);
  const size_t fsz = (size_t)3 * S * S;
  int next = 0; /* next frame of fr to use */
  while (next < fr->n) {
    int64_t n_proj;
    if (s->n_pending == 0 && fr->n - next >= ctx) {
      /* whole groups straight from the caller's frames, up to one trunk batch */
      int nf = ((fr->n - next) / ctx) * ctx;
      if (nf > s->batch) nf = s->batch;
      lac_frames part = lac_frames_slice(a, fr, next, nf);
      if ((st = lac_encoder_project(s, &part, s->step_proj, err)) != LAC_OK) return st;
      next += nf;
      n_proj = nf / ctx;
    } else {
      /* an incomplete context group: collect its frames as normalised floats */
      while (s->n_pending < ctx && next < fr->n)
        lac_frame_normalize(a, fr, next++, s->pending + (size_t)s->n_pending++ * fsz);
      if (s->n_pending < ctx) break;
      lac_frames grp = {LAC_PIXELS_F32_NORMALIZED, ctx, S, S, 0, s->pending};
      if ((st = lac_encoder_project(s, &grp, s->step_proj, err)) != LAC_OK) return st;
      s->n_pending = 0;
      n_proj = 1;
    }
    for (int64_t i = 0; i < n_proj; i++) {
      const int64_t t = s->n_steps++;
      memcpy(s->ring + (size_t)(t % s->window) * a->d_model, s->step_proj + i * a->d_model,
             sizeof(float) * a->d_model);
      /* the step that becomes ready now: t itself (causal) or t - lead (centred) */
      if (t - lead < 0) continue;
      int64_t lo = t - s->window + 1;
      if (lo < 0) lo = 0;
      if ((st = emit(s, t - lead, lo, t, out, out_index, out_full, n_out, out_cap, err)) != LAC_OK)
        return st;
    }
  }
  return LAC_OK;
}

lac_status lac_session_flush(lac_session *s, float *out, int64_t *out_index, int *out_full,
                             int out_cap, int *n_out, lac_error *err) {
  if (!s || !out || !n_out) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_session_flush: NULL argument");
  *n_out = 0;
  lac_status st;
  const int lead = lac_session_latency_steps(s);
  const int64_t n = s->n_steps;
  int64_t first = n - lead;
  if (first < 0) first = 0;
  for (int64_t t = first; t < n; t++) {
    int64_t lo = n - s->window;
    if (lo < 0) lo = 0;
    if ((st = emit(s, t, lo, n - 1, out, out_index, out_full, n_out, out_cap, err)) != LAC_OK)
      return st;
  }
  s->n_pending = 0; /* an incomplete context group at the end has no embedding */
  return LAC_OK;
}
