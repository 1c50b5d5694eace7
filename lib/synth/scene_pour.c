/* scene_pour.c — the pouring action: an arm reaches a bottle standing on a table, lifts and
 * tilts it over a glass until liquid leaves the mouth, pours (a falling stream, the glass
 * fills), brings the bottle back upright to its place and withdraws to rest.  Five phases,
 * split at the key events of the Pouring dataset (hand touches bottle, liquid starts to
 * leave, pouring complete, bottle back on the table).
 *
 * The pose is a continuous function of (phase, progress): every phase starts in the pose
 * the previous one ended in, so phase boundaries show no jumps.  While pouring, the bottle
 * turns about the point that keeps its mouth still above the glass.
 * Not here: timing (synth.c), camera, lighting, drawing primitives (raster.c).
 */
#include <math.h>

#include "synth/synth_internal.h"

static float clamp01(float x) { return x < 0 ? 0 : (x > 1 ? 1 : x); }
static float sstep(float x) {
  x = clamp01(x);
  return x * x * (3 - 2 * x);
}

/* size factor in [1/f, f] scaled by the appearance variation */
void syn_pour_init(lac_synth *s) {
  static const syn_color liquids[6] = {{245, 150, 30}, {70, 30, 20},  {60, 140, 230},
                                       {140, 20, 50},  {245, 245, 235}, {225, 215, 60}};
  static const syn_color bottles[4] = {
      {40, 110, 60}, {110, 60, 25}, {50, 80, 160}, {150, 175, 185}};
  static const syn_color skins[6] = {{255, 219, 172}, {241, 194, 125}, {224, 172, 105},
                                     {198, 134, 66},  {141, 85, 36},   {92, 58, 32}};
  syn_pour_look *L = &s->pour;
  double av = s->p.appearance_variation;
  syn_draws d = syn_draws_init(s->p.seed, SYN_STREAM_LOOK);

  syn_background_init(&s->bg, s->p.seed, av, syn_rgb(205, 210, 220), syn_rgb(165, 175, 190));
  L->table_y = 0.66f + (float)(av * syn_range(&d, -0.04, 0.04));
  L->base_y = L->table_y + 0.12f;
  L->table_top = syn_free_color(&d, av, syn_rgb(170, 120, 75), 0.2f, 0.7f, 0.35f, 0.85f);
  L->table_front = syn_scale(L->table_top, 0.62f);

  L->glass_x = 0.70f + (float)(av * syn_range(&d, -0.04, 0.05));
  L->glass_wb = 0.11f * syn_vary(&d, av, 1.15);
  L->glass_wt = L->glass_wb * (float)(1.35 + av * syn_range(&d, -0.15, 0.1));
  L->glass_h = 0.21f * syn_vary(&d, av, 1.12);
  L->glass_t = 0.011f;
  L->fill_max = 0.75f + (float)(av * syn_range(&d, -0.15, 0.1));
  L->glass = syn_free_color(&d, av * 0.5, syn_rgb(215, 230, 240), 0.0f, 0.25f, 0.85f, 1.0f);
  L->liquid = syn_pick(&d, av, liquids[0], liquids, 6);

  L->bottle_x = 0.30f + (float)(av * syn_range(&d, -0.05, 0.03));
  L->bottle_w = 0.085f * syn_vary(&d, av, 1.15);
  L->bottle_h = 0.19f * syn_vary(&d, av, 1.12);
  L->shoulder_h = 0.05f * syn_vary(&d, av, 1.2);
  L->neck_w = 0.032f * syn_vary(&d, av, 1.1);
  L->neck_h = 0.07f * syn_vary(&d, av, 1.15);
  L->grip_h = 0.5f * L->bottle_h;
  L->bottle = syn_pick(&d, av, bottles[0], bottles, 4);
  L->label = syn_free_color(&d, av, syn_rgb(235, 225, 200), 0.3f, 0.9f, 0.6f, 1.0f);
  L->cap = syn_scale(L->bottle, 0.6f);
  L->label_lo = 0.22f + (float)(av * syn_range(&d, -0.05, 0.05));
  L->label_hi = 0.62f + (float)(av * syn_range(&d, -0.08, 0.08));

  L->hand_r = 0.032f * syn_vary(&d, av, 1.1);
  L->arm_r = 0.026f * syn_vary(&d, av, 1.2);
  L->skin = syn_pick(&d, av, skins[2], skins, 6);
  L->sleeve = syn_free_color(&d, av, syn_rgb(60, 90, 160), 0.3f, 0.9f, 0.2f, 0.9f);
  L->shoulder_x = -0.22f;
  L->shoulder_y = 0.52f + (float)(av * syn_range(&d, -0.05, 0.05));
  L->upper_len = 0.38f;
  L->fore_len = 0.36f;
  L->rest_x = 0.15f + (float)(av * syn_range(&d, -0.02, 0.04));
  L->rest_y = L->base_y - L->hand_r;

  L->tilt1 = 1.25f + (float)(av * syn_range(&d, -0.1, 0.1));
  L->tilt2 = 1.85f + (float)(av * syn_range(&d, -0.1, 0.1));
  L->mouth_x = L->glass_x - 0.03f;
  L->mouth_y = L->base_y - L->glass_h - 0.06f;
  L->lift = 0.07f;
}

float syn_pour_ground(const lac_synth *s) { return s->pour.base_y; }

/* ---------------------------------------------------------------- pose */

typedef struct {
  float gx, gy, th;   /* bottle: grip point and clockwise tilt */
  float hx, hy, hth;  /* hand centre and orientation */
  float fill;         /* glass fill, 0..fill_max of the interior height */
  float s0, s1;       /* stream drawn between curve parameters s0 < s1 */
} pour_pose;

/* distance from the grip to the mouth (top of the lip), along the bottle's axis */
static float mouth_len(const syn_pour_look *L) {
  return L->bottle_h + L->shoulder_h + L->neck_h + 0.01f - L->grip_h;
}

/* grip position that puts the mouth at (mouth_x, mouth_y) at tilt th */
static void grip_for_mouth(const syn_pour_look *L, float th, float *gx, float *gy) {
  float m = mouth_len(L);
  *gx = L->mouth_x - m * sinf(th);
  *gy = L->mouth_y + m * cosf(th);
}

static void hand_on_bottle(const syn_pour_look *L, float gx, float gy, float th, float *hx,
                           float *hy) {
  float ox = -0.5f * L->bottle_w - 0.2f * L->hand_r;
  *hx = gx + ox * cosf(th);
  *hy = gy + ox * sinf(th);
}

static void pour_pose_at(const syn_pour_look *L, int phase, float u, pour_pose *P) {
  float g0x = L->bottle_x, g0y = L->base_y - L->grip_h;
  float g1x, g1y, g2x, g2y;
  grip_for_mouth(L, L->tilt1, &g1x, &g1y);
  grip_for_mouth(L, L->tilt2, &g2x, &g2y);
  float hgx, hgy; /* hand on the bottle standing at its place */
  hand_on_bottle(L, g0x, g0y, 0, &hgx, &hgy);
  P->gx = g0x, P->gy = g0y, P->th = 0;
  P->fill = phase > 2 ? L->fill_max : 0;
  P->s0 = P->s1 = 0;
  int holding = 1;
  switch (phase) {
  case 0: { /* approach: the hand travels from rest to the bottle */
    float w = u;
    P->hx = L->rest_x + (hgx - L->rest_x) * w;
    P->hy = L->rest_y + (hgy - L->rest_y) * w - 0.08f * 4 * w * (1 - w);
    P->hth = 0;
    holding = 0;
    break;
  }
  case 1: { /* tilt: carry the bottle over the glass, then turn it until liquid leaves */
    float w = sstep(u / 0.8f);
    P->gx = g0x + (g1x - g0x) * w;
    P->gy = g0y + (g1y - g0y) * w - L->lift * 4 * w * (1 - w);
    P->th = L->tilt1 * sstep((u - 0.3f) / 0.7f);
    break;
  }
  case 2: { /* pour: the bottle turns about its still mouth, the glass fills */
    P->th = L->tilt1 + (L->tilt2 - L->tilt1) * u;
    grip_for_mouth(L, P->th, &P->gx, &P->gy);
    P->fill = L->fill_max * clamp01((u - 0.1f) / 0.88f);
    P->s1 = clamp01(u / 0.12f);
    P->s0 = clamp01((u - 0.88f) / 0.12f);
    break;
  }
  case 3: { /* return: upright again and back to its place */
    float w = sstep((u - 0.15f) / 0.85f);
    P->th = L->tilt2 * (1 - sstep(u / 0.7f));
    P->gx = g2x + (g0x - g2x) * w;
    P->gy = g2y + (g0y - g2y) * w - L->lift * 4 * w * (1 - w);
    break;
  }
  default: { /* rest: the hand lets go and goes back */
    float w = u;
    P->hx = hgx + (L->rest_x - hgx) * w;
    P->hy = hgy + (L->rest_y - hgy) * w - 0.08f * 4 * w * (1 - w);
    P->hth = 0;
    holding = 0;
    break;
  }
  }
  if (holding) {
    hand_on_bottle(L, P->gx, P->gy, P->th, &P->hx, &P->hy);
    P->hth = P->th;
  }
}

/* ---------------------------------------------------------------- drawing */

/* interior half-width of the glass at height y */
static float glass_half(const syn_pour_look *L, float y) {
  float up = (L->base_y - y) / L->glass_h;
  return 0.5f * L->glass_wb - L->glass_t + 0.5f * (L->glass_wt - L->glass_wb) * up;
}

static float glass_inner_bottom(const syn_pour_look *L) { return L->base_y - 0.018f; }

static float liquid_surface(const syn_pour_look *L, float fill) {
  float yb = glass_inner_bottom(L), yt = L->base_y - L->glass_h;
  return yb - fill * (yb - yt);
}

static void draw_stream(const syn_canvas *cv, const syn_pour_look *L, const pour_pose *P,
                        float mx, float my) {
  if (!(P->s1 > P->s0)) return;
  float sy = liquid_surface(L, P->fill);
  float x0 = mx, y0 = my, x1 = mx + 0.03f, y1 = my + 0.01f, x2 = mx + 0.035f, y2 = sy;
  const int n = 6;
  float px = 0, py = 0;
  for (int i = 0; i <= n; i++) {
    float t = P->s0 + (P->s1 - P->s0) * (float)i / (float)n, a = 1 - t;
    float x = a * a * x0 + 2 * a * t * x1 + t * t * x2;
    float y = a * a * y0 + 2 * a * t * y1 + t * t * y2;
    if (i > 0) syn_capsule(cv, px, py, x, y, 0.0085f - 0.002f * t, L->liquid, 1);
    px = x, py = y;
  }
}

static void draw_glass_back(const syn_canvas *cv, const syn_pour_look *L, const pour_pose *P) {
  float gx = L->glass_x, yb = glass_inner_bottom(L), yt = L->base_y - L->glass_h;
  syn_soft_ellipse(cv, gx, L->base_y, 0.6f * L->glass_wt, 0.018f, syn_rgb(0, 0, 0), 0.3f);
  float hb = glass_half(L, yb), ht = glass_half(L, yt);
  float in[8] = {gx - hb, yb, gx + hb, yb, gx + ht, yt, gx - ht, yt};
  syn_convex(cv, in, 4, L->glass, 0.22f);
  if (P->fill > 0.002f) {
    float ys = liquid_surface(L, P->fill), hs = glass_half(L, ys);
    float liq[8] = {gx - hb, yb, gx + hb, yb, gx + hs, ys, gx - hs, ys};
    syn_convex(cv, liq, 4, L->liquid, 1);
    syn_capsule(cv, gx - hs + 0.004f, ys, gx + hs - 0.004f, ys, 0.004f,
                syn_mix(L->liquid, syn_rgb(255, 255, 255), 0.35f), 0.7f);
  }
}

static void draw_glass_front(const syn_canvas *cv, const syn_pour_look *L) {
  float gx = L->glass_x, yb = L->base_y, yt = L->base_y - L->glass_h, t = L->glass_t;
  float ob = 0.5f * L->glass_wb, ot = 0.5f * L->glass_wt;
  float left[8] = {gx - ob, yb, gx - ob + t, yb, gx - ot + t, yt, gx - ot, yt};
  float right[8] = {gx + ob - t, yb, gx + ob, yb, gx + ot, yt, gx + ot - t, yt};
  float base[8] = {gx - ob, yb, gx + ob, yb, gx + ob - 0.002f, glass_inner_bottom(L),
                   gx - ob + 0.002f, glass_inner_bottom(L)};
  syn_color edge = syn_scale(L->glass, 0.8f);
  syn_convex(cv, left, 4, edge, 0.8f);
  syn_convex(cv, right, 4, edge, 0.8f);
  syn_convex(cv, base, 4, edge, 0.85f);
  syn_capsule(cv, gx - ot + 0.5f * t, yt, gx + ot - 0.5f * t, yt, 0.003f, syn_rgb(255, 255, 255),
              0.5f);
}

/* local bottle coordinates (x across, y down along the axis, origin at the grip) -> world */
typedef struct {
  float gx, gy, c, s;
} frame2;

static void put(const frame2 *f, float x, float y, float *out) {
  out[0] = f->gx + x * f->c - y * f->s;
  out[1] = f->gy + x * f->s + y * f->c;
}

static void local_rect(const syn_canvas *cv, const frame2 *f, float x0, float y0, float x1,
                       float y1, syn_color col, float a) {
  float xy[8];
  put(f, x0, y0, xy);
  put(f, x1, y0, xy + 2);
  put(f, x1, y1, xy + 4);
  put(f, x0, y1, xy + 6);
  syn_convex(cv, xy, 4, col, a);
}

static void draw_bottle(const syn_canvas *cv, const syn_pour_look *L, const pour_pose *P,
                        float *mx, float *my) {
  frame2 f = {P->gx, P->gy, cosf(P->th), sinf(P->th)};
  float bw = 0.5f * L->bottle_w, nw = 0.5f * L->neck_w;
  float y_base = L->grip_h, y_body = L->grip_h - L->bottle_h;
  float y_sh = y_body - L->shoulder_h, y_neck = y_sh - L->neck_h, y_lip = y_neck - 0.01f;
  if (P->th < 0.05f) /* standing: its shadow on the table */
    syn_soft_ellipse(cv, P->gx, P->gy + L->grip_h, 0.9f * L->bottle_w, 0.016f, syn_rgb(0, 0, 0),
                     0.3f);
  /* pieces overlap a little so their anti-aliased seams do not show */
  local_rect(cv, &f, -bw, y_base, bw, y_body - 0.004f, L->bottle, 1);
  float sh[8];
  put(&f, -bw, y_body, sh);
  put(&f, bw, y_body, sh + 2);
  put(&f, nw, y_sh - 0.004f, sh + 4);
  put(&f, -nw, y_sh - 0.004f, sh + 6);
  syn_convex(cv, sh, 4, L->bottle, 1);
  local_rect(cv, &f, -nw, y_sh + 0.002f, nw, y_neck, L->bottle, 1);
  local_rect(cv, &f, -1.25f * nw, y_neck + 0.002f, 1.25f * nw, y_lip, L->cap, 1);
  float lo = y_base - L->label_lo * L->bottle_h, hi = y_base - L->label_hi * L->bottle_h;
  local_rect(cv, &f, -bw, lo, bw, hi, L->label, 1);
  float a[2], b[2];
  put(&f, 0.5f * bw, y_base - 0.08f * L->bottle_h, a);
  put(&f, 0.5f * bw, y_body + 0.05f * L->bottle_h, b);
  syn_capsule(cv, a[0], a[1], b[0], b[1], 0.006f, syn_rgb(255, 255, 255), 0.25f);
  put(&f, 0, y_lip, a);
  *mx = a[0], *my = a[1];
}

static void draw_arm(const syn_canvas *cv, const syn_pour_look *L, const pour_pose *P) {
  float sx = L->shoulder_x, sy = L->shoulder_y;
  float dx = P->hx - sx, dy = P->hy - sy, d = sqrtf(dx * dx + dy * dy);
  float l1 = L->upper_len, l2 = L->fore_len;
  float dmax = l1 + l2 - 1e-3f, dmin = fabsf(l1 - l2) + 1e-3f;
  float dc = d < dmin ? dmin : (d > dmax ? dmax : d);
  float a = (l1 * l1 - l2 * l2 + dc * dc) / (2 * dc);
  float h = sqrtf(fmaxf(0.0f, l1 * l1 - a * a));
  float ux = d > 1e-6f ? dx / d : 1, uy = d > 1e-6f ? dy / d : 0;
  /* of the two elbow positions, the lower one (a hanging elbow) */
  float ex = sx + a * ux, ey = sy + a * uy, px = -uy, py = ux;
  if (py < 0) px = -px, py = -py;
  ex += h * px, ey += h * py;
  /* the upper arm runs on past the shoulder, so that the arm enters from outside the
   * picture however wide it is */
  float bx = sx - ex, by = sy - ey, bl = sqrtf(bx * bx + by * by) + 1e-6f;
  syn_capsule(cv, sx + bx / bl, sy + by / bl, ex, ey, 1.2f * L->arm_r, L->sleeve, 1);
  syn_capsule(cv, ex, ey, P->hx, P->hy, L->arm_r, L->skin, 1);
  syn_capsule(cv, ex + (P->hx - ex) * 0.1f, ey + (P->hy - ey) * 0.1f, ex, ey, 1.15f * L->arm_r,
              L->sleeve, 1);
  syn_circle(cv, P->hx, P->hy, L->hand_r, L->skin, 1);
  /* thumb across the bottle (or pointing ahead when free) */
  float c = cosf(P->hth), s = sinf(P->hth), r = L->hand_r;
  float t0x = 0.3f * r, t0y = -0.7f * r, t1x = 1.2f * r, t1y = -0.8f * r;
  syn_capsule(cv, P->hx + t0x * c - t0y * s, P->hy + t0x * s + t0y * c,
              P->hx + t1x * c - t1y * s, P->hy + t1x * s + t1y * c, 0.35f * r,
              syn_scale(L->skin, 0.92f), 1);
}

void syn_pour_draw(const lac_synth *s, const syn_canvas *cv, const syn_moment *m) {
  const syn_pour_look *L = &s->pour;
  syn_below(cv, L->table_y, L->table_top, 1);
  syn_below(cv, L->table_y, syn_scale(L->table_top, 1.15f), 0.5f);
  syn_below(cv, L->table_y + 0.006f, L->table_top, 1);
  syn_below(cv, L->base_y + 0.10f, L->table_front, 1);
  if (m->phase < 0) syn_distract_draw(s, cv, m->v, L->base_y);
  pour_pose P;
  pour_pose_at(L, m->pose_phase, m->pose_u, &P);
  draw_glass_back(cv, L, &P);
  float mx, my;
  /* the stream needs the mouth; the bottle is drawn over the glass after it */
  {
    float mlen = mouth_len(L);
    mx = P.gx + mlen * sinf(P.th);
    my = P.gy - mlen * cosf(P.th);
  }
  draw_stream(cv, L, &P, mx, my);
  draw_glass_front(cv, L);
  draw_bottle(cv, L, &P, &mx, &my);
  draw_arm(cv, L, &P);
}

lac_status syn_probe_pour(const lac_synth *s, int64_t frame, syn_pour_probe *out, lac_error *err) {
  if (s->p.action != LAC_SYNTH_POUR)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "synth: pour probe on another action");
  if (frame < 0 || frame >= s->n_frames)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "synth: probe frame out of range");
  const syn_pour_look *L = &s->pour;
  syn_moment m;
  syn_canvas cv;
  syn_moment_at(s, frame, &m);
  syn_camera_at(s, frame, &cv);
  pour_pose P;
  pour_pose_at(L, m.pose_phase, m.pose_u, &P);
  float yb = glass_inner_bottom(L), hb = glass_half(L, yb);
  out->glass_x0 = cv.ox + cv.scale * (L->glass_x - hb);
  out->glass_x1 = cv.ox + cv.scale * (L->glass_x + hb);
  out->glass_bottom = cv.oy + cv.scale * yb;
  out->glass_top = cv.oy + cv.scale * (L->base_y - L->glass_h);
  out->fill_y = cv.oy + cv.scale * liquid_surface(L, P.fill);
  out->liquid = L->liquid;
  return LAC_OK;
}
