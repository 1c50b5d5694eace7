/* synth_internal.h — what the renderer's files share (lib/synth/): the seeded hash, the
 * canvas and its anti-aliased shapes, the per-video layout (timeline of segments), the
 * scenes' looks and the probes the tests use to find objects in the pixels.
 *
 * Coordinates: scenes work in "world" units, a unit square (x right, y down) that the
 * camera maps onto the image; a wider image shows more of the world sideways.  Shapes are
 * given in world units and drawn in pixels through the frame's camera.
 *
 * Nothing here is installed.  Not here: video encoding, GLib, threads.
 */
#ifndef LAC_SYNTH_INTERNAL_H
#define LAC_SYNTH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lac/synth.h"

/* Keep a*b+c as two roundings on compilers that would fuse it by default (clang), so the
 * bytes do not depend on the target having FMA.  GCC in ISO C mode (-std=c11) already
 * does not contract. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* ---------------------------------------------------------------- seeded hash */

/* Streams keep the draws of one aspect independent of the others: changing the camera's
 * variation does not change the colours, and so on. */
enum {
  SYN_STREAM_TEMPO = 1,
  SYN_STREAM_LOOK = 2,
  SYN_STREAM_CAMERA = 3,
  SYN_STREAM_JITTER = 4,
  SYN_STREAM_DISTRACT = 5,
  SYN_STREAM_BACKGROUND = 6,
  SYN_STREAM_PLACEMENT = 7,
};

static inline uint64_t syn_mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

/* A uniform 64-bit value for (seed, stream, index); stateless, so any frame can ask. */
static inline uint64_t syn_hash(uint64_t seed, uint32_t stream, uint64_t index) {
  return syn_mix64(seed +
                   0x9e3779b97f4a7c15ULL * (syn_mix64(((uint64_t)stream << 32) ^ index) | 1));
}

/* uniform in [0, 1) */
static inline double syn_hash_unit(uint64_t seed, uint32_t stream, uint64_t index) {
  return (double)(syn_hash(seed, stream, index) >> 11) * (1.0 / 9007199254740992.0);
}

/* A sequence of draws on one stream (used while laying a video out, not per frame). */
typedef struct {
  uint64_t seed;
  uint32_t stream;
  uint64_t next;
} syn_draws;

static inline syn_draws syn_draws_init(uint64_t seed, uint32_t stream) {
  syn_draws d = {seed, stream, 0};
  return d;
}
static inline double syn_uniform(syn_draws *d) {
  return syn_hash_unit(d->seed, d->stream, d->next++);
}
/* uniform in [a, b) */
static inline double syn_range(syn_draws *d, double a, double b) {
  return a + (b - a) * syn_uniform(d);
}
/* uniform integer in [0, n) */
static inline int syn_int(syn_draws *d, int n) {
  int k = (int)(syn_uniform(d) * n);
  return k < n ? k : n - 1;
}

/* ---------------------------------------------------------------- colours, canvas, shapes */

typedef struct {
  float r, g, b; /* 0..255 */
} syn_color;

static inline syn_color syn_rgb(float r, float g, float b) {
  syn_color c = {r, g, b};
  return c;
}
static inline syn_color syn_mix(syn_color a, syn_color b, float t) {
  return syn_rgb(a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t);
}
static inline syn_color syn_scale(syn_color a, float s) {
  syn_color c = {a.r * s, a.g * s, a.b * s};
  if (c.r > 255) c.r = 255;
  if (c.g > 255) c.g = 255;
  if (c.b > 255) c.b = 255;
  return c;
}
/* hue in [0,1), saturation and value in [0,1] -> 0..255 */
syn_color syn_hsv(float h, float s, float v);

/* Seeded appearance choices shared by the scenes, each scaled by the appearance
 * variation av in 0..1: a factor in [1/f, f] (exponent uniform), a palette entry instead of
 * the canonical colour with probability av, and a random colour mixed in by av. */
float syn_vary(syn_draws *d, double av, double f);
syn_color syn_pick(syn_draws *d, double av, syn_color canon, const syn_color *palette, int n);
syn_color syn_free_color(syn_draws *d, double av, syn_color canon, float smin, float smax,
                         float vmin, float vmax);

/* The image being drawn and the frame's camera: pixel = (ox + scale * wx, oy + scale * wy);
 * pixel (x, y) covers [x, x+1) x [y, y+1). */
typedef struct {
  uint8_t *rgb;
  size_t stride;
  int w, h;
  float scale, ox, oy;
} syn_canvas;

/* Every shape blends colour c with opacity alpha (0..1) weighted by the pixel's coverage
 * (anti-aliasing: 1 inside, 0 outside, linear across the one-pixel-wide edge). */
void syn_circle(const syn_canvas *cv, float x, float y, float r, syn_color c, float alpha);
/* A segment of radius r with round caps (a thick line). */
void syn_capsule(const syn_canvas *cv, float x0, float y0, float x1, float y1, float r,
                 syn_color c, float alpha);
/* A convex polygon, n <= 16 points xy[2k], xy[2k+1], either winding. */
void syn_convex(const syn_canvas *cv, const float *xy, int n, syn_color c, float alpha);
/* A soft-edged ellipse (shadows): opacity alpha * (1 - q^2), q the ellipse radius. */
void syn_soft_ellipse(const syn_canvas *cv, float x, float y, float rx, float ry, syn_color c,
                      float alpha);
/* Everything below world height y (a floor, a table's front). */
void syn_below(const syn_canvas *cv, float y, syn_color c, float alpha);

/* The wall behind a scene: a two-colour gradient and one texture. */
enum {
  SYN_TEX_PLAIN = 0,
  SYN_TEX_STRIPES = 1,
  SYN_TEX_CHECKER = 2,
  SYN_TEX_BLOBS = 3,
  SYN_N_TEX = 4
};
#define SYN_NOISE_N 8 /* value-noise lattice, tiled; a power of two */

typedef struct {
  syn_color c0, c1;      /* gradient: t = g0 + gx * wx + gy * wy, clamped to [0, 1] */
  float g0, gx, gy;
  int kind;              /* SYN_TEX_* */
  syn_color pc;          /* texture colour, blended with weight strength * pattern */
  float strength;
  float fx, fy;          /* stripes: periods per world unit along x and y */
  float freq;            /* checker cells / noise cells per world unit */
  float noise[SYN_NOISE_N * SYN_NOISE_N];
} syn_background;

/* Overwrites every pixel of the canvas. */
void syn_draw_background(const syn_canvas *cv, const syn_background *bg);
/* Seeded background for appearance variation av (0: plain canonical colours). */
void syn_background_init(syn_background *bg, uint64_t seed, double av, syn_color canon0,
                         syn_color canon1);

/* Global lighting: v -> lut[v] (contrast, brightness), then times the light gradient
 * l0 + lx * x + ly * y (pixel coordinates), rounded and clamped. */
typedef struct {
  float lut[256];
  float l0, lx, ly;
} syn_lighting;

void syn_apply_lighting(const syn_canvas *cv, const syn_lighting *lt);

/* ---------------------------------------------------------------- timeline */

/* What a frame shows: a phase of the action at progress u, or a distractor segment with
 * the actor held at a pose of the action. */
typedef struct {
  int phase;      /* 0..K-1, or -1 in a distractor segment */
  int rep;        /* cycle (periodic actions) */
  float u;        /* progress through the phase, 0..1 (eased; held during pauses) */
  float v;        /* distractor segments: progress through the segment, 0..1 */
  /* the actor's pose: phase, cycle and progress (equal to the above outside distractors) */
  int pose_phase, pose_rep;
  float pose_u;
} syn_moment;

typedef struct {
  int64_t start;
  int32_t len;       /* frames, >= 2 */
  int16_t phase;     /* -1: distractor */
  int16_t rep;
  int32_t hold_at;   /* pause: frames [hold_at, hold_at + hold_len) repeat one pose */
  int32_t hold_len;  /* 0: no pause */
  float ease;        /* 0: constant speed, 1: smoothstep */
  /* distractor segments: the pose the actor holds */
  int16_t pose_phase, pose_rep;
  float pose_u;
} syn_segment;

/* ---------------------------------------------------------------- scenes */

#define SYN_MAX_REPS 64
#define SYN_MAX_PHASES 5

typedef struct {
  /* table and objects, world units */
  float table_y, base_y;
  syn_color table_top, table_front;
  float glass_x, glass_wb, glass_wt, glass_h, glass_t, fill_max;
  syn_color glass, liquid;
  float bottle_x, bottle_w, bottle_h, shoulder_h, neck_w, neck_h, grip_h;
  syn_color bottle, label, cap;
  float label_lo, label_hi;  /* label band, fractions of the body's height */
  float hand_r, arm_r;
  syn_color skin, sleeve;
  float shoulder_x, shoulder_y, upper_len, fore_len;
  float rest_x, rest_y;
  float tilt1, tilt2;        /* bottle angle when liquid starts to leave / when done */
  float mouth_x, mouth_y;    /* where the mouth stays while pouring */
  float lift;                /* arc height while carrying the bottle */
} syn_pour_look;

typedef struct {
  float floor_y, cx, height;     /* feet on floor_y, centred at cx, standing height */
  float limb;                    /* limb thickness factor */
  syn_color floor, skin, shirt, pants, shoes, hair;
  int shorts;                    /* shins bare */
  float jump, spread, reach;     /* jumping jacks: hop height, leg spread, arm reach */
  float depth, lean;             /* squat: depth factor, torso lean */
} syn_figure_look;

typedef struct {
  int kind;                 /* 0 bouncing ball, 1 pendulum, 2 spinning square */
  syn_color color, color2;
  float size;
  float x0, x1;             /* horizontal path */
  float height;             /* bounce / swing amplitude */
  float cycles;             /* bounces, swings or turns over the segment */
} syn_distract_look;

struct lac_synth {
  lac_synth_params p;
  lac_synth_distractor placement;
  int n_phases;
  int reps;                 /* 1 for pour */
  int64_t n_frames;
  int n_segments;
  syn_segment *segments;
  /* look */
  syn_background bg;
  syn_lighting light;
  syn_pour_look pour;
  syn_figure_look fig;
  syn_distract_look dis;
  /* camera: centre (cam + off + pan * (t - 0.5) + jitter), zoom0 * exp(zoom_drift * (t - 0.5)),
   * t = frame / (n_frames - 1) */
  float cam_x, cam_y, cam_off_x, cam_off_y, cam_pan_x, cam_pan_y, zoom0, zoom_drift, jitter;
};

/* Resolve what frame f shows (0 <= f < n_frames). */
void syn_moment_at(const lac_synth *s, int64_t f, syn_moment *m);
/* The canvas transform of frame f. */
void syn_camera_at(const lac_synth *s, int64_t f, syn_canvas *cv);

void syn_pour_init(lac_synth *s);
void syn_pour_draw(const lac_synth *s, const syn_canvas *cv, const syn_moment *m);
float syn_pour_ground(const lac_synth *s);
void syn_figure_init(lac_synth *s);
void syn_figure_draw(const lac_synth *s, const syn_canvas *cv, const syn_moment *m);
float syn_figure_ground(const lac_synth *s);
/* Draws the distractor object of a distractor segment at progress v, ground at y. */
void syn_distract_draw(const lac_synth *s, const syn_canvas *cv, float v, float ground_y);

/* ---------------------------------------------------------------- probes (tests) */

/* Where things are in frame f, in pixels (after the camera, before lighting). */
typedef struct {
  float glass_x0, glass_x1;  /* interior at the bottom of the liquid */
  float glass_top, glass_bottom;
  float fill_y;              /* liquid surface (== glass_bottom when empty) */
  syn_color liquid;
} syn_pour_probe;

typedef struct {
  float head_x, head_y, head_r;
  float hand_x[2], hand_y[2];
  float foot_x[2], foot_y[2];
  syn_color skin;
} syn_figure_probe;

lac_status syn_probe_pour(const lac_synth *s, int64_t frame, syn_pour_probe *out, lac_error *err);
lac_status syn_probe_figure(const lac_synth *s, int64_t frame, syn_figure_probe *out,
                            lac_error *err);

#endif
