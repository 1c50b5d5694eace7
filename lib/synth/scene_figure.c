/* scene_figure.c — the periodic body actions, drawn as a figure of thick anti-aliased limbs
 * standing on a floor: jumping jacks (front view) and squats (side view, facing right).
 *
 * One cycle is a closed curve of poses, t = (phase + progress) / 4 in [0, 1]: the openness
 * of the pose is (1 - cos 2 pi t) / 2, so the four phases are the quarter-cycles split at
 * the key poses (closed, half, open, half).  The pose at the end of a cycle equals the one
 * at its start, so repetitions join without jumps.
 * Not here: timing (synth.c), camera, lighting, drawing primitives (raster.c).
 */
#include <math.h>

#include "synth/synth_internal.h"

void syn_figure_init(lac_synth *s) {
  static const syn_color skins[6] = {{255, 219, 172}, {241, 194, 125}, {224, 172, 105},
                                     {198, 134, 66},  {141, 85, 36},   {92, 58, 32}};
  static const syn_color hairs[5] = {{60, 40, 20}, {20, 20, 20}, {150, 100, 40}, {220, 190, 120},
                                     {120, 40, 20}};
  syn_figure_look *L = &s->fig;
  double av = s->p.appearance_variation;
  syn_draws d = syn_draws_init(s->p.seed, SYN_STREAM_LOOK);
  syn_background_init(&s->bg, s->p.seed, av, syn_rgb(200, 215, 225), syn_rgb(170, 185, 200));
  L->floor_y = 0.88f + (float)(av * syn_range(&d, -0.03, 0.03));
  L->cx = 0.5f + (float)(av * syn_range(&d, -0.08, 0.08));
  L->height = 0.56f * syn_vary(&d, av, 1.12);
  L->limb = syn_vary(&d, av, 1.25);
  L->floor = syn_free_color(&d, av, syn_rgb(150, 140, 130), 0.1f, 0.6f, 0.3f, 0.8f);
  L->skin = syn_pick(&d, av, skins[2], skins, 6);
  L->shirt = syn_free_color(&d, av, syn_rgb(200, 60, 50), 0.4f, 1.0f, 0.3f, 0.95f);
  L->pants = syn_free_color(&d, av, syn_rgb(50, 60, 110), 0.2f, 0.8f, 0.15f, 0.7f);
  L->shoes = syn_free_color(&d, av, syn_rgb(40, 40, 40), 0.0f, 0.5f, 0.1f, 0.6f);
  L->hair = syn_pick(&d, av, hairs[0], hairs, 5);
  L->shorts = syn_uniform(&d) < 0.5 * av;
  L->jump = 0.045f * syn_vary(&d, av, 1.3);
  L->spread = 0.32f * syn_vary(&d, av, 1.2);
  L->reach = 0.93f + (float)(av * syn_range(&d, -0.08, 0.04));
  float depth = syn_vary(&d, av, 1.15);
  L->depth = depth > 1.05f ? 1.05f : depth;
  L->lean = 0.55f * syn_vary(&d, av, 1.2);
}

float syn_figure_ground(const lac_synth *s) { return s->fig.floor_y; }

/* ---------------------------------------------------------------- poses */

typedef struct {
  float hip[2][2], knee[2][2], ankle[2][2], toe[2][2];
  float shoulder[2][2], elbow[2][2], hand[2][2];
  float neck[2], head[2], pelvis[2];
  float shadow_rx, shadow_a;
  int side;  /* side view: limb 0 is the far one */
} figure_pose;

static void jacks_pose(const syn_figure_look *L, float t, figure_pose *P) {
  const float H = L->height;
  float c2 = cosf(6.2831853f * t), s2 = sinf(6.2831853f * t);
  float open = 0.5f * (1 - c2);
  float hop = L->jump * fabsf(s2);
  float beta = L->spread * open, cb = cosf(beta), sb = sinf(beta);
  float leg = 0.47f * H;
  float hip_y = L->floor_y - 0.50f * H + leg * (1 - cb) - hop;
  float alpha = 3.14159265f * L->reach * open;
  float ca = cosf(alpha), sa = sinf(alpha);
  float af = alpha + 0.25f * sa, caf = cosf(af), saf = sinf(af);
  P->side = 0;
  for (int i = 0; i < 2; i++) {
    float sg = i == 0 ? -1.0f : 1.0f;
    P->hip[i][0] = L->cx + sg * 0.05f * H;
    P->hip[i][1] = hip_y;
    P->knee[i][0] = P->hip[i][0] + sg * sb * 0.235f * H;
    P->knee[i][1] = hip_y + cb * 0.235f * H;
    P->ankle[i][0] = P->knee[i][0] + sg * sb * 0.235f * H;
    P->ankle[i][1] = P->knee[i][1] + cb * 0.235f * H;
    P->toe[i][0] = P->ankle[i][0] + sg * 0.045f * H;
    P->toe[i][1] = P->ankle[i][1] + 0.01f * H;
    P->shoulder[i][0] = L->cx + sg * 0.105f * H;
    P->shoulder[i][1] = hip_y - 0.30f * H;
    P->elbow[i][0] = P->shoulder[i][0] + sg * sa * 0.17f * H;
    P->elbow[i][1] = P->shoulder[i][1] + ca * 0.17f * H;
    P->hand[i][0] = P->elbow[i][0] + sg * saf * 0.16f * H;
    P->hand[i][1] = P->elbow[i][1] + caf * 0.16f * H;
  }
  P->pelvis[0] = L->cx;
  P->pelvis[1] = hip_y;
  P->neck[0] = L->cx;
  P->neck[1] = hip_y - 0.34f * H;
  P->head[0] = L->cx;
  P->head[1] = hip_y - 0.425f * H;
  P->shadow_rx = 0.12f * H + 0.5f * (P->ankle[1][0] - P->ankle[0][0]);
  P->shadow_a = 0.35f * (1 - 0.5f * hop / (L->jump + 1e-6f));
}

static void squat_pose(const syn_figure_look *L, float t, figure_pose *P) {
  const float H = L->height;
  float d = L->depth * 0.5f * (1 - cosf(6.2831853f * t));
  float ps = 0.62f * d, pt = 1.5f * d, pb = L->lean * d, pa = 1.45f * d;
  float ax = L->cx + 0.03f * H, ay = L->floor_y - 0.03f * H;
  P->side = 1;
  for (int i = 0; i < 2; i++) {
    float off = i == 0 ? -0.025f * H : 0; /* the far limbs a little behind */
    float kx = ax + off + 0.235f * H * sinf(ps), ky = ay - 0.235f * H * cosf(ps);
    float hx = kx - 0.235f * H * sinf(pt), hy = ky - 0.235f * H * cosf(pt);
    P->ankle[i][0] = ax + off, P->ankle[i][1] = ay;
    P->toe[i][0] = ax + off + 0.08f * H, P->toe[i][1] = ay + 0.012f * H;
    P->knee[i][0] = kx, P->knee[i][1] = ky;
    P->hip[i][0] = hx, P->hip[i][1] = hy;
  }
  float hx = P->hip[1][0], hy = P->hip[1][1], bx = sinf(pb), by = -cosf(pb);
  P->pelvis[0] = hx, P->pelvis[1] = hy;
  P->neck[0] = hx + 0.34f * H * bx, P->neck[1] = hy + 0.34f * H * by;
  P->head[0] = hx + 0.425f * H * bx + 0.01f * H, P->head[1] = hy + 0.425f * H * by;
  float ua = sinf(pa), va = cosf(pa), uf = sinf(pa + 0.15f * d), vf = cosf(pa + 0.15f * d);
  for (int i = 0; i < 2; i++) {
    float off = i == 0 ? -0.02f * H : 0;
    P->shoulder[i][0] = hx + 0.30f * H * bx + off, P->shoulder[i][1] = hy + 0.30f * H * by;
    P->elbow[i][0] = P->shoulder[i][0] + 0.17f * H * ua;
    P->elbow[i][1] = P->shoulder[i][1] + 0.17f * H * va;
    P->hand[i][0] = P->elbow[i][0] + 0.16f * H * uf;
    P->hand[i][1] = P->elbow[i][1] + 0.16f * H * vf;
  }
  P->shadow_rx = 0.14f * H;
  P->shadow_a = 0.35f;
}

static void pose_at(const lac_synth *s, const syn_moment *m, figure_pose *P) {
  float t = ((float)m->pose_phase + m->pose_u) / 4.0f;
  if (s->p.action == LAC_SYNTH_JUMPING_JACKS)
    jacks_pose(&s->fig, t, P);
  else
    squat_pose(&s->fig, t, P);
}

/* ---------------------------------------------------------------- drawing */

static void limb(const syn_canvas *cv, const float *a, const float *b, float r, syn_color c) {
  syn_capsule(cv, a[0], a[1], b[0], b[1], r, c, 1);
}

static void draw_leg(const syn_canvas *cv, const syn_figure_look *L, const figure_pose *P, int i,
                     float shade) {
  float H = L->height, k = L->limb;
  syn_color pants = syn_scale(L->pants, shade), skin = syn_scale(L->skin, shade);
  limb(cv, P->ankle[i], P->toe[i], 0.026f * H, syn_scale(L->shoes, shade));
  limb(cv, P->knee[i], P->ankle[i], 0.036f * H * k, L->shorts ? skin : pants);
  limb(cv, P->hip[i], P->knee[i], 0.044f * H * k, pants);
}

static void draw_arm(const syn_canvas *cv, const syn_figure_look *L, const figure_pose *P, int i,
                     float shade) {
  float H = L->height, k = L->limb;
  syn_color skin = syn_scale(L->skin, shade);
  limb(cv, P->elbow[i], P->hand[i], 0.029f * H * k, skin);
  syn_circle(cv, P->hand[i][0], P->hand[i][1], 0.034f * H, skin, 1);
  limb(cv, P->shoulder[i], P->elbow[i], 0.036f * H * k, syn_scale(L->shirt, shade));
}

static void draw_head(const syn_canvas *cv, const syn_figure_look *L, const figure_pose *P) {
  float H = L->height, r = 0.075f * H;
  limb(cv, P->neck, P->head, 0.03f * H, L->skin);
  if (P->side) {
    syn_circle(cv, P->head[0] - 0.25f * r, P->head[1] - 0.15f * r, 0.98f * r, L->hair, 1);
    syn_circle(cv, P->head[0], P->head[1], r, L->skin, 1);
    syn_circle(cv, P->head[0] - 0.2f * r, P->head[1] - 0.45f * r, 0.75f * r, L->hair, 1);
    syn_circle(cv, P->head[0] + 0.5f * r, P->head[1] - 0.1f * r, 0.1f * r, syn_rgb(30, 30, 30), 1);
  } else {
    syn_circle(cv, P->head[0], P->head[1] - 0.22f * r, 1.02f * r, L->hair, 1);
    syn_circle(cv, P->head[0], P->head[1] + 0.06f * r, 0.96f * r, L->skin, 1);
    for (int e = -1; e <= 1; e += 2)
      syn_circle(cv, P->head[0] + 0.35f * r * (float)e, P->head[1] + 0.05f * r, 0.1f * r,
                 syn_rgb(30, 30, 30), 1);
  }
}

static void draw_torso(const syn_canvas *cv, const syn_figure_look *L, const figure_pose *P) {
  float H = L->height;
  if (P->side) {
    limb(cv, P->pelvis, P->hip[1], 0.06f * H, L->pants);
    float sx = 0.5f * (P->shoulder[1][0] + P->neck[0]),
          sy = 0.5f * (P->shoulder[1][1] + P->neck[1]);
    syn_capsule(cv, P->pelvis[0], P->pelvis[1], sx, sy, 0.072f * H, L->shirt, 1);
    syn_capsule(cv, P->pelvis[0], P->pelvis[1], P->pelvis[0] + 0.2f * (sx - P->pelvis[0]),
                P->pelvis[1] + 0.2f * (sy - P->pelvis[1]), 0.07f * H, L->pants, 1);
    return;
  }
  float x = P->pelvis[0], y = P->pelvis[1], top = P->shoulder[0][1] - 0.01f * H;
  float belt[8] = {x - 0.09f * H, y - 0.03f * H, x + 0.09f * H, y - 0.03f * H,
                   x + 0.095f * H, y + 0.05f * H, x - 0.095f * H, y + 0.05f * H};
  float torso[8] = {x - 0.115f * H, top, x + 0.115f * H, top, x + 0.088f * H, y + 0.005f * H,
                    x - 0.088f * H, y + 0.005f * H};
  syn_convex(cv, belt, 4, L->pants, 1);
  syn_convex(cv, torso, 4, L->shirt, 1);
  syn_capsule(cv, x - 0.1f * H, top + 0.02f * H, x + 0.1f * H, top + 0.02f * H, 0.022f * H,
              L->shirt, 1);
}

void syn_figure_draw(const lac_synth *s, const syn_canvas *cv, const syn_moment *m) {
  const syn_figure_look *L = &s->fig;
  syn_below(cv, L->floor_y - 0.02f, syn_scale(L->floor, 0.7f), 1);
  syn_below(cv, L->floor_y - 0.012f, L->floor, 1);
  if (m->phase < 0) syn_distract_draw(s, cv, m->v, L->floor_y);
  figure_pose P;
  pose_at(s, m, &P);
  syn_soft_ellipse(cv, P.pelvis[0], L->floor_y, P.shadow_rx, 0.022f, syn_rgb(0, 0, 0), P.shadow_a);
  if (P.side) {
    draw_arm(cv, L, &P, 0, 0.72f);
    draw_leg(cv, L, &P, 0, 0.72f);
    draw_leg(cv, L, &P, 1, 1.0f);
    draw_torso(cv, L, &P);
    draw_head(cv, L, &P);
    draw_arm(cv, L, &P, 1, 1.0f);
  } else {
    draw_leg(cv, L, &P, 0, 1.0f);
    draw_leg(cv, L, &P, 1, 1.0f);
    draw_torso(cv, L, &P);
    draw_arm(cv, L, &P, 0, 1.0f);
    draw_arm(cv, L, &P, 1, 1.0f);
    draw_head(cv, L, &P);
  }
}

lac_status syn_probe_figure(const lac_synth *s, int64_t frame, syn_figure_probe *out,
                            lac_error *err) {
  if (s->p.action == LAC_SYNTH_POUR)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "synth: figure probe on the pour action");
  if (frame < 0 || frame >= s->n_frames)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "synth: probe frame out of range");
  syn_moment m;
  syn_canvas cv;
  figure_pose P;
  syn_moment_at(s, frame, &m);
  syn_camera_at(s, frame, &cv);
  pose_at(s, &m, &P);
  out->head_x = cv.ox + cv.scale * P.head[0];
  out->head_y = cv.oy + cv.scale * P.head[1];
  out->head_r = cv.scale * 0.075f * s->fig.height;
  for (int i = 0; i < 2; i++) {
    out->hand_x[i] = cv.ox + cv.scale * P.hand[i][0];
    out->hand_y[i] = cv.oy + cv.scale * P.hand[i][1];
    out->foot_x[i] = cv.ox + cv.scale * P.ankle[i][0];
    out->foot_y[i] = cv.oy + cv.scale * P.ankle[i][1];
  }
  out->skin = s->fig.skin;
  return LAC_OK;
}
