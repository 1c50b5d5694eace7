/* synth.c — the renderer's public API (include/lac/synth.h): checks the parameters, lays a
 * video out (phase lengths, pauses, the distractor segment, camera path, lighting), answers
 * labels and renders frames by resolving the frame's moment and camera and calling the
 * action's scene.  Draws the distractor objects too.
 *
 * Every seeded choice is made here once, in lac_synth_new, from hashed streams of the seed;
 * rendering a frame only reads the layout, so frames can be rendered in any order.
 * Not here: the scenes' drawing (scene_pour.c, scene_figure.c), the shapes (raster.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "synth/synth_internal.h"

/* ---------------------------------------------------------------- names */

static const char *const action_names[LAC_SYNTH_N_ACTIONS] = {"pour", "jumping-jacks", "squat"};
static const int action_phases[LAC_SYNTH_N_ACTIONS] = {5, 4, 4};
static const char *const phase_names[LAC_SYNTH_N_ACTIONS][SYN_MAX_PHASES] = {
    {"approach", "tilt", "pour", "return", "rest"},
    {"raise-to-shoulder", "raise-overhead", "lower-to-shoulder", "lower-to-side"},
    {"descent-start", "descent-end", "ascent-start", "ascent-end"},
};
/* nominal share of each phase in one pass of the action */
static const double phase_share[LAC_SYNTH_N_ACTIONS][SYN_MAX_PHASES] = {
    {0.20, 0.20, 0.30, 0.20, 0.10},
    {0.25, 0.25, 0.25, 0.25, 0},
    {0.27, 0.23, 0.22, 0.28, 0},
};
static const char *const distractor_names[LAC_SYNTH_N_DISTRACTORS] = {"none", "before", "inside",
                                                                      "after", "random"};

const char *lac_synth_action_name(lac_synth_action a) {
  return (unsigned)a < LAC_SYNTH_N_ACTIONS ? action_names[a] : NULL;
}

int lac_synth_action_n_phases(lac_synth_action a) {
  return (unsigned)a < LAC_SYNTH_N_ACTIONS ? action_phases[a] : 0;
}

const char *lac_synth_action_phase_name(lac_synth_action a, int k) {
  if ((unsigned)a >= LAC_SYNTH_N_ACTIONS || k < 0 || k >= action_phases[a]) return NULL;
  return phase_names[a][k];
}

lac_status lac_synth_action_from_name(const char *name, lac_synth_action *out, lac_error *err) {
  for (int i = 0; name && i < LAC_SYNTH_N_ACTIONS; i++)
    if (strcmp(name, action_names[i]) == 0) {
      if (out) *out = (lac_synth_action)i;
      return LAC_OK;
    }
  return lac_error_set(err, LAC_ERR_INVALID_ARG,
                       "synth: unknown action '%s' (use pour, jumping-jacks or squat)",
                       name ? name : "(null)");
}

const char *lac_synth_distractor_name(lac_synth_distractor d) {
  return (unsigned)d < LAC_SYNTH_N_DISTRACTORS ? distractor_names[d] : NULL;
}

lac_status lac_synth_distractor_from_name(const char *name, lac_synth_distractor *out,
                                          lac_error *err) {
  for (int i = 0; name && i < LAC_SYNTH_N_DISTRACTORS; i++)
    if (strcmp(name, distractor_names[i]) == 0) {
      if (out) *out = (lac_synth_distractor)i;
      return LAC_OK;
    }
  return lac_error_set(err, LAC_ERR_INVALID_ARG,
                       "synth: unknown distractor placement '%s' (use none, before, inside, "
                       "after or random)",
                       name ? name : "(null)");
}

/* ---------------------------------------------------------------- parameters */

lac_synth_params lac_synth_default_params(void) {
  lac_synth_params p;
  memset(&p, 0, sizeof p);
  p.action = LAC_SYNTH_POUR;
  p.width = 112;
  p.height = 112;
  p.seed = 0;
  p.base_frames = 80;
  p.tempo_variation = 0.5;
  p.appearance_variation = 0.5;
  p.camera_variation = 0.3;
  p.distractor = LAC_SYNTH_DISTRACT_NONE;
  p.repetitions = 3;
  return p;
}

static lac_status check_params(const lac_synth_params *p, lac_error *err) {
  if ((unsigned)p->action >= LAC_SYNTH_N_ACTIONS)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "synth: action %d is not one of pour (0), jumping-jacks (1), squat (2)",
                         (int)p->action);
  if (p->width < 32 || p->width > 8192 || p->height < 32 || p->height > 8192)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "synth: width and height must be in 32..8192 (got %dx%d)", p->width,
                         p->height);
  if (p->repetitions < 1 || p->repetitions > SYN_MAX_REPS)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "synth: repetitions must be in 1..%d (got %d)",
                         SYN_MAX_REPS, p->repetitions);
  int reps = p->action == LAC_SYNTH_POUR ? 1 : p->repetitions;
  int need = 2 * action_phases[p->action] * reps;
  if (need < 8) need = 8;
  if (p->base_frames < need || p->base_frames > 100000)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "synth: base_frames must be in %d..100000 for %s with %d repetition(s) "
                         "(2 frames per phase at least; got %d)",
                         need, action_names[p->action], reps, p->base_frames);
  const struct {
    const char *name;
    double v;
  } vars[3] = {{"tempo_variation", p->tempo_variation},
               {"appearance_variation", p->appearance_variation},
               {"camera_variation", p->camera_variation}};
  for (int i = 0; i < 3; i++)
    if (!(vars[i].v >= 0 && vars[i].v <= 1))
      return lac_error_set(err, LAC_ERR_INVALID_ARG, "synth: %s must be in 0..1 (got %g)",
                           vars[i].name, vars[i].v);
  if ((unsigned)p->distractor >= LAC_SYNTH_N_DISTRACTORS)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "synth: distractor %d is not one of none (0), before (1), inside (2), "
                         "after (3), random (4)",
                         (int)p->distractor);
  return LAC_OK;
}

/* ---------------------------------------------------------------- layout */

/* Phase lengths: base * share / reps * g * p_k, g (whole video) and p_k (each phase of
 * each cycle) in [1/1.5, 1.5] and [1/1.6, 1.6] at tempo variation 1, so a phase is
 * 1/2.4 .. 2.4 times nominal; at least 2 frames.  A phase of 4 frames or more pauses with
 * probability 0.35 * tempo variation, for 15..50 % of its moving frames, strictly inside. */
static lac_status layout(lac_synth *s, lac_error *err) {
  const lac_synth_params *p = &s->p;
  const int K = s->n_phases, R = s->reps;
  const double tv = p->tempo_variation;
  syn_draws dt = syn_draws_init(p->seed, SYN_STREAM_TEMPO);
  syn_draws dp = syn_draws_init(p->seed, SYN_STREAM_PLACEMENT);

  s->placement = p->distractor;
  if (s->placement == LAC_SYNTH_DISTRACT_RANDOM)
    s->placement = (lac_synth_distractor)syn_int(&dp, 4);
  int n_dis = s->placement == LAC_SYNTH_DISTRACT_NONE ? 0 : 1;
  int n_action = K * R;
  /* the boundary after which the inside distractor goes: 1 .. n_action - 1 */
  int inside_after = 1 + syn_int(&dp, n_action - 1);
  int dis_len = (int)lround(p->base_frames * syn_range(&dp, 0.25, 0.5));
  if (dis_len < 4) dis_len = 4;

  s->n_segments = n_action + n_dis;
  s->segments = calloc((size_t)s->n_segments, sizeof *s->segments);
  if (!s->segments) return lac_error_set(err, LAC_ERR_NOMEM, "synth: out of memory");

  double g = exp(tv * log(1.5) * syn_range(&dt, -1, 1));
  int64_t t = 0;
  int idx = 0;
  for (int a = 0; a <= n_action; a++) {
    int place_here = (s->placement == LAC_SYNTH_DISTRACT_BEFORE && a == 0) ||
                     (s->placement == LAC_SYNTH_DISTRACT_INSIDE && a == inside_after) ||
                     (s->placement == LAC_SYNTH_DISTRACT_AFTER && a == n_action);
    if (place_here) {
      syn_segment *d = &s->segments[idx++];
      d->start = t;
      d->len = dis_len;
      d->phase = -1;
      d->rep = -1;
      if (a == 0) {
        d->pose_phase = 0, d->pose_rep = 0, d->pose_u = 0;
      } else {
        d->pose_phase = (int16_t)((a - 1) % K), d->pose_rep = (int16_t)((a - 1) / K);
        d->pose_u = 1;
      }
      t += dis_len;
    }
    if (a == n_action) break;
    int k = a % K, r = a / K;
    syn_segment *sg = &s->segments[idx++];
    double pk = exp(tv * log(1.6) * syn_range(&dt, -1, 1));
    double nominal = (double)p->base_frames * phase_share[p->action][k] / R;
    int len = (int)lround(nominal * g * pk);
    if (len < 2) len = 2;
    sg->start = t;
    sg->phase = (int16_t)k;
    sg->rep = (int16_t)r;
    sg->ease = (float)(0.6 + 0.4 * syn_uniform(&dt) * tv);
    double pause_draw = syn_uniform(&dt), pause_frac = syn_range(&dt, 0.15, 0.5);
    double pause_pos = syn_uniform(&dt);
    if (len >= 4 && pause_draw < 0.35 * tv) {
      int h = (int)lround(len * pause_frac);
      if (h < 1) h = 1;
      sg->hold_at = 1 + (int)(pause_pos * (len - 1)); /* 1 .. len-1 */
      if (sg->hold_at > len - 1) sg->hold_at = len - 1;
      sg->hold_len = h;
    }
    sg->len = len + sg->hold_len;
    sg->pose_phase = (int16_t)k;
    sg->pose_rep = (int16_t)r;
    t += sg->len;
  }
  s->n_frames = t;
  return LAC_OK;
}

static int find_segment(const lac_synth *s, int64_t f) {
  int lo = 0, hi = s->n_segments - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (s->segments[mid].start <= f)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

void syn_moment_at(const lac_synth *s, int64_t f, syn_moment *m) {
  const syn_segment *sg = &s->segments[find_segment(s, f)];
  int i = (int)(f - sg->start);
  memset(m, 0, sizeof *m);
  if (sg->phase < 0) {
    m->phase = -1;
    m->rep = -1;
    m->v = ((float)i + 0.5f) / (float)sg->len;
    m->pose_phase = sg->pose_phase;
    m->pose_rep = sg->pose_rep;
    m->pose_u = sg->pose_u;
    return;
  }
  int moving = sg->len - sg->hold_len;
  float t;
  if (sg->hold_len > 0 && i >= sg->hold_at && i < sg->hold_at + sg->hold_len)
    t = (float)sg->hold_at / (float)moving;
  else {
    int j = (sg->hold_len > 0 && i >= sg->hold_at + sg->hold_len) ? i - sg->hold_len : i;
    t = ((float)j + 0.5f) / (float)moving;
  }
  float smooth = t * t * (3 - 2 * t);
  float u = t + (smooth - t) * sg->ease;
  m->phase = m->pose_phase = sg->phase;
  m->rep = m->pose_rep = sg->rep;
  m->u = m->pose_u = u;
}

/* ---------------------------------------------------------------- camera and lighting */

static void camera_init(lac_synth *s) {
  syn_draws d = syn_draws_init(s->p.seed, SYN_STREAM_CAMERA);
  float cv = (float)s->p.camera_variation;
  s->cam_off_x = cv * (float)syn_range(&d, -0.07, 0.07);
  s->cam_off_y = cv * (float)syn_range(&d, -0.05, 0.05);
  s->cam_pan_x = cv * (float)syn_range(&d, -0.08, 0.08);
  s->cam_pan_y = cv * (float)syn_range(&d, -0.03, 0.03);
  s->zoom0 = expf(cv * (float)syn_range(&d, -0.15, 0.18));
  s->zoom_drift = cv * (float)syn_range(&d, -0.12, 0.12);
  s->jitter = cv * (float)syn_range(&d, 0.002, 0.008);
  /* the unmoved camera frames the action's stage */
  int pour = s->p.action == LAC_SYNTH_POUR;
  s->cam_x = 0.5f;
  s->cam_y = pour ? 0.6f : 0.56f;
  s->zoom0 *= pour ? 1.35f : 1.12f;
}

/* Smooth noise in [-1, 1] over frames: hashed knots every 3 frames, smoothstep between. */
static float jitter_noise(uint64_t seed, uint32_t axis, int64_t f) {
  int64_t k = f / 3;
  float t = (float)(f - 3 * k) / 3.0f;
  float a = (float)syn_hash_unit(seed, SYN_STREAM_JITTER, (uint64_t)(2 * k + axis)) * 2 - 1;
  float b = (float)syn_hash_unit(seed, SYN_STREAM_JITTER, (uint64_t)(2 * (k + 1) + axis)) * 2 - 1;
  t = t * t * (3 - 2 * t);
  return a + (b - a) * t;
}

void syn_camera_at(const lac_synth *s, int64_t f, syn_canvas *cv) {
  float t = s->n_frames > 1 ? (float)f / (float)(s->n_frames - 1) - 0.5f : 0.0f;
  float cx = s->cam_x + s->cam_off_x + s->cam_pan_x * t;
  float cy = s->cam_y + s->cam_off_y + s->cam_pan_y * t;
  if (s->jitter > 0) {
    cx += s->jitter * jitter_noise(s->p.seed, 0, f);
    cy += s->jitter * jitter_noise(s->p.seed, 1, f);
  }
  float zoom = s->zoom0 * expf(s->zoom_drift * t);
  float side = (float)(s->p.width < s->p.height ? s->p.width : s->p.height);
  cv->w = s->p.width;
  cv->h = s->p.height;
  cv->scale = side * zoom;
  cv->ox = 0.5f * (float)s->p.width - cv->scale * cx;
  cv->oy = 0.5f * (float)s->p.height - cv->scale * cy;
}

static void lighting_init(lac_synth *s) {
  syn_draws d = syn_draws_init(s->p.seed, SYN_STREAM_LOOK + 100);
  float av = (float)s->p.appearance_variation;
  float contrast = expf(av * (float)syn_range(&d, -0.3, 0.25));
  float bright = av * (float)syn_range(&d, -0.12, 0.12);
  float strength = av * (float)syn_range(&d, 0, 0.3);
  float ang = (float)syn_range(&d, 0, 6.283185307179586);
  for (int v = 0; v < 256; v++)
    s->light.lut[v] = 255.0f * (((float)v / 255.0f - 0.5f) * contrast + 0.5f + bright);
  /* factor 1 + strength * (gradient across the image from -1 to 1) */
  float W = (float)s->p.width, H = (float)s->p.height;
  float ux = cosf(ang), uy = sinf(ang);
  s->light.lx = strength * ux * 2.0f / W;
  s->light.ly = strength * uy * 2.0f / H;
  s->light.l0 = 1.0f - strength * (ux + uy);
}

/* ---------------------------------------------------------------- distractors */

static void distract_init(lac_synth *s) {
  syn_draws d = syn_draws_init(s->p.seed, SYN_STREAM_DISTRACT);
  syn_distract_look *L = &s->dis;
  L->kind = syn_int(&d, 3);
  L->color = syn_hsv((float)syn_uniform(&d), (float)syn_range(&d, 0.6, 1.0),
                     (float)syn_range(&d, 0.6, 1.0));
  L->color2 = syn_hsv((float)syn_uniform(&d), (float)syn_range(&d, 0.3, 0.9),
                      (float)syn_range(&d, 0.2, 0.9));
  L->size = (float)syn_range(&d, 0.04, 0.07);
  int leftward = syn_uniform(&d) < 0.5;
  float a = (float)syn_range(&d, 0.05, 0.3), b = (float)syn_range(&d, 0.7, 0.95);
  L->x0 = leftward ? b : a;
  L->x1 = leftward ? a : b;
  L->height = (float)syn_range(&d, 0.15, 0.35);
  L->cycles = (float)syn_range(&d, 1.5, 4.0);
}

void syn_distract_draw(const lac_synth *s, const syn_canvas *cv, float v, float ground_y) {
  const syn_distract_look *L = &s->dis;
  float x = L->x0 + (L->x1 - L->x0) * v;
  if (L->kind == 0) { /* a ball bouncing along the ground */
    float q = L->cycles * v;
    q -= floorf(q);
    float y = ground_y - L->size - L->height * 4 * q * (1 - q);
    syn_soft_ellipse(cv, x, ground_y, L->size * 1.2f, L->size * 0.25f, syn_rgb(0, 0, 0), 0.3f);
    syn_circle(cv, x, y, L->size, L->color, 1);
    syn_circle(cv, x - 0.35f * L->size, y - 0.35f * L->size, 0.3f * L->size,
               syn_mix(L->color, syn_rgb(255, 255, 255), 0.6f), 0.8f);
  } else if (L->kind == 1) { /* a pendulum swinging from the top */
    float px = 0.5f * (L->x0 + L->x1), py = 0.02f;
    float ang = 0.9f * sinf(6.2831853f * L->cycles * v);
    float len = 0.25f + L->height;
    float bx = px + len * sinf(ang), by = py + len * cosf(ang);
    syn_capsule(cv, px, py, bx, by, 0.008f, L->color2, 1);
    syn_circle(cv, bx, by, L->size * 1.1f, L->color, 1);
  } else { /* a square spinning as it drifts across */
    float y = ground_y - 0.2f - 0.5f * L->height;
    float ang = 6.2831853f * L->cycles * 0.5f * v, c = cosf(ang), sn = sinf(ang);
    float r = L->size * 1.3f, xy[8];
    static const float corner[4][2] = {{-1, -1}, {1, -1}, {1, 1}, {-1, 1}};
    for (int i = 0; i < 4; i++) {
      xy[2 * i] = x + r * (corner[i][0] * c - corner[i][1] * sn);
      xy[2 * i + 1] = y + r * (corner[i][0] * sn + corner[i][1] * c);
    }
    syn_convex(cv, xy, 4, L->color, 1);
    syn_circle(cv, x, y, 0.35f * r, L->color2, 1);
  }
}

/* ---------------------------------------------------------------- API */

lac_status lac_synth_new(const lac_synth_params *p, lac_synth **out, lac_error *err) {
  if (!p || !out)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "synth: params and out must not be NULL");
  *out = NULL;
  lac_status st = check_params(p, err);
  if (st != LAC_OK) return st;
  lac_synth *s = calloc(1, sizeof *s);
  if (!s) return lac_error_set(err, LAC_ERR_NOMEM, "synth: out of memory");
  s->p = *p;
  s->n_phases = action_phases[p->action];
  s->reps = p->action == LAC_SYNTH_POUR ? 1 : p->repetitions;
  st = layout(s, err);
  if (st != LAC_OK) {
    lac_synth_free(s);
    return st;
  }
  camera_init(s);
  lighting_init(s);
  distract_init(s);
  if (p->action == LAC_SYNTH_POUR)
    syn_pour_init(s);
  else
    syn_figure_init(s);
  *out = s;
  return LAC_OK;
}

void lac_synth_free(lac_synth *s) {
  if (!s) return;
  free(s->segments);
  free(s);
}

const lac_synth_params *lac_synth_get_params(const lac_synth *s) { return &s->p; }
lac_synth_distractor lac_synth_distractor_placement(const lac_synth *s) { return s->placement; }
int64_t lac_synth_n_frames(const lac_synth *s) { return s->n_frames; }
int lac_synth_n_phases(const lac_synth *s) { return s->n_phases; }

const char *lac_synth_phase_name(const lac_synth *s, int k) {
  return lac_synth_action_phase_name(s->p.action, k);
}

int32_t lac_synth_label(const lac_synth *s, int64_t frame) {
  if (frame < 0 || frame >= s->n_frames) return -1;
  return s->segments[find_segment(s, frame)].phase;
}

int lac_synth_repetition(const lac_synth *s, int64_t frame) {
  if (frame < 0 || frame >= s->n_frames) return -1;
  return s->segments[find_segment(s, frame)].rep;
}

lac_status lac_synth_render(const lac_synth *s, int64_t frame, uint8_t *rgb, size_t stride,
                            lac_error *err) {
  if (!s || !rgb)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "synth: render needs a synth and a buffer");
  if (frame < 0 || frame >= s->n_frames)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "synth: frame %lld is outside 0..%lld (lac_synth_n_frames)",
                         (long long)frame, (long long)s->n_frames - 1);
  if (stride < (size_t)3 * (size_t)s->p.width)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "synth: row stride %zu is less than 3 * width = %d bytes", stride,
                         3 * s->p.width);
  syn_moment m;
  syn_canvas cv;
  syn_moment_at(s, frame, &m);
  syn_camera_at(s, frame, &cv);
  cv.rgb = rgb;
  cv.stride = stride;
  syn_draw_background(&cv, &s->bg);
  if (s->p.action == LAC_SYNTH_POUR)
    syn_pour_draw(s, &cv, &m);
  else
    syn_figure_draw(s, &cv, &m);
  syn_apply_lighting(&cv, &s->light);
  return LAC_OK;
}
