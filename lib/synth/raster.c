/* raster.c — the renderer's drawing primitives: anti-aliased circles, thick lines, convex
 * polygons, soft ellipses and half-planes blended into an RGB8 image; the textured wall
 * behind a scene; the lighting pass.  Coverage is the signed distance to the shape's edge
 * mapped linearly across one pixel (exact for straight edges, close for curves).
 *
 * Each shape visits only the pixels of its bounding box, and the inner loops use
 * arithmetic only (one sqrt per edge pixel of round shapes, none for polygons).
 * Not here: scenes, timing, cameras (the canvas carries the frame's transform).
 */
#include <math.h>
#include <string.h>

#include "synth/synth_internal.h"

syn_color syn_hsv(float h, float s, float v) {
  float hh = (h - floorf(h)) * 6.0f;
  int i = (int)hh;
  if (i > 5) i = 5;
  float f = hh - (float)i;
  float p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  float r, g, b;
  switch (i) {
  case 0: r = v; g = t; b = p; break;
  case 1: r = q; g = v; b = p; break;
  case 2: r = p; g = v; b = t; break;
  case 3: r = p; g = q; b = v; break;
  case 4: r = t; g = p; b = v; break;
  default: r = v; g = p; b = q; break;
  }
  return syn_rgb(r * 255, g * 255, b * 255);
}

static inline void blend(uint8_t *px, syn_color c, float a) {
  px[0] = (uint8_t)(px[0] + (c.r - px[0]) * a + 0.5f);
  px[1] = (uint8_t)(px[1] + (c.g - px[1]) * a + 0.5f);
  px[2] = (uint8_t)(px[2] + (c.b - px[2]) * a + 0.5f);
}

static inline float clamp01(float x) { return x < 0 ? 0 : (x > 1 ? 1 : x); }

/* Pixel bounds [*x0, *x1) x [*y0, *y1) of a pixel-space box grown by one pixel; 0 if empty. */
static int box(const syn_canvas *cv, float minx, float miny, float maxx, float maxy, int *x0,
               int *y0, int *x1, int *y1) {
  if (!(maxx >= -1 && maxy >= -1 && minx <= cv->w + 1 && miny <= cv->h + 1)) return 0;
  float a = floorf(minx - 1), b = floorf(miny - 1), c = ceilf(maxx + 1), d = ceilf(maxy + 1);
  *x0 = a < 0 ? 0 : (int)a;
  *y0 = b < 0 ? 0 : (int)b;
  *x1 = c > cv->w ? cv->w : (int)c;
  *y1 = d > cv->h ? cv->h : (int)d;
  return *x0 < *x1 && *y0 < *y1;
}

void syn_circle(const syn_canvas *cv, float x, float y, float r, syn_color c, float alpha) {
  syn_capsule(cv, x, y, x, y, r, c, alpha);
}

void syn_capsule(const syn_canvas *cv, float x0, float y0, float x1, float y1, float r,
                 syn_color c, float alpha) {
  float ax = cv->ox + cv->scale * x0, ay = cv->oy + cv->scale * y0;
  float bx = cv->ox + cv->scale * x1, by = cv->oy + cv->scale * y1;
  float rp = cv->scale * r;
  if (!(rp > 0)) return;
  int X0, Y0, X1, Y1;
  if (!box(cv, fminf(ax, bx) - rp, fminf(ay, by) - rp, fmaxf(ax, bx) + rp, fmaxf(ay, by) + rp,
           &X0, &Y0, &X1, &Y1))
    return;
  float dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
  float inv = l2 > 1e-12f ? 1.0f / l2 : 0.0f;
  float out2 = (rp + 0.5f) * (rp + 0.5f);
  float in2 = rp > 0.5f ? (rp - 0.5f) * (rp - 0.5f) : -1.0f;
  for (int y = Y0; y < Y1; y++) {
    uint8_t *row = cv->rgb + (size_t)y * cv->stride;
    float py = (float)y + 0.5f - ay;
    for (int x = X0; x < X1; x++) {
      float px = (float)x + 0.5f - ax;
      float t = (px * dx + py * dy) * inv;
      t = t < 0 ? 0 : (t > 1 ? 1 : t);
      float ex = px - t * dx, ey = py - t * dy;
      float d2 = ex * ex + ey * ey;
      if (d2 >= out2) continue;
      float cov = d2 <= in2 ? 1.0f : clamp01(rp + 0.5f - sqrtf(d2));
      blend(row + 3 * x, c, alpha * cov);
    }
  }
}

void syn_convex(const syn_canvas *cv, const float *xy, int n, syn_color c, float alpha) {
  if (n < 3 || n > 16) return;
  float px[16], py[16], nx[16], ny[16], nc[16];
  float minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY, area = 0;
  for (int i = 0; i < n; i++) {
    px[i] = cv->ox + cv->scale * xy[2 * i];
    py[i] = cv->oy + cv->scale * xy[2 * i + 1];
    minx = fminf(minx, px[i]);
    maxx = fmaxf(maxx, px[i]);
    miny = fminf(miny, py[i]);
    maxy = fmaxf(maxy, py[i]);
  }
  for (int i = 0; i < n; i++) {
    int j = (i + 1) % n;
    area += px[i] * py[j] - px[j] * py[i];
  }
  if (!(fabsf(area) > 1e-6f)) return;
  float sgn = area > 0 ? 1.0f : -1.0f;
  int m = 0;
  for (int i = 0; i < n; i++) {
    int j = (i + 1) % n;
    float ex = px[j] - px[i], ey = py[j] - py[i], l = sqrtf(ex * ex + ey * ey);
    if (!(l > 1e-6f)) continue;
    /* outward normal for either winding */
    nx[m] = sgn * ey / l;
    ny[m] = -sgn * ex / l;
    nc[m] = nx[m] * px[i] + ny[m] * py[i];
    m++;
  }
  int X0, Y0, X1, Y1;
  if (!box(cv, minx, miny, maxx, maxy, &X0, &Y0, &X1, &Y1)) return;
  for (int y = Y0; y < Y1; y++) {
    uint8_t *row = cv->rgb + (size_t)y * cv->stride;
    float cy = (float)y + 0.5f;
    float e[16];
    for (int k = 0; k < m; k++) e[k] = nx[k] * ((float)X0 + 0.5f) + ny[k] * cy - nc[k];
    for (int x = X0; x < X1; x++) {
      float d = e[0];
      for (int k = 1; k < m; k++) d = fmaxf(d, e[k]);
      for (int k = 0; k < m; k++) e[k] += nx[k];
      if (d >= 0.5f) continue;
      blend(row + 3 * x, c, alpha * (d <= -0.5f ? 1.0f : 0.5f - d));
    }
  }
}

void syn_soft_ellipse(const syn_canvas *cv, float x, float y, float rx, float ry, syn_color c,
                      float alpha) {
  float cx = cv->ox + cv->scale * x, cy = cv->oy + cv->scale * y;
  float ax = cv->scale * rx, ay = cv->scale * ry;
  if (!(ax > 0.25f && ay > 0.25f)) return;
  int X0, Y0, X1, Y1;
  if (!box(cv, cx - ax, cy - ay, cx + ax, cy + ay, &X0, &Y0, &X1, &Y1)) return;
  float iax = 1.0f / ax, iay = 1.0f / ay;
  for (int yy = Y0; yy < Y1; yy++) {
    uint8_t *row = cv->rgb + (size_t)yy * cv->stride;
    float qy = ((float)yy + 0.5f - cy) * iay;
    for (int xx = X0; xx < X1; xx++) {
      float qx = ((float)xx + 0.5f - cx) * iax;
      float q2 = qx * qx + qy * qy;
      if (q2 >= 1.0f) continue;
      blend(row + 3 * xx, c, alpha * (1.0f - q2));
    }
  }
}

void syn_below(const syn_canvas *cv, float y, syn_color c, float alpha) {
  float py = cv->oy + cv->scale * y;
  int y0 = (int)floorf(py);
  if (y0 < 0) y0 = 0;
  for (int yy = y0; yy < cv->h; yy++) {
    float cov = clamp01((float)yy + 1.0f - py);
    if (cov <= 0) continue;
    uint8_t *row = cv->rgb + (size_t)yy * cv->stride;
    for (int x = 0; x < cv->w; x++) blend(row + 3 * x, c, alpha * cov);
  }
}

/* ---------------------------------------------------------------- background */

static inline float fract(float x) { return x - floorf(x); }

void syn_draw_background(const syn_canvas *cv, const syn_background *bg) {
  const float inv = 1.0f / cv->scale;
  const float sharp = 3.0f;
  for (int y = 0; y < cv->h; y++) {
    uint8_t *row = cv->rgb + (size_t)y * cv->stride;
    float wy = ((float)y + 0.5f - cv->oy) * inv;
    for (int x = 0; x < cv->w; x++) {
      float wx = ((float)x + 0.5f - cv->ox) * inv;
      syn_color col = syn_mix(bg->c0, bg->c1, clamp01(bg->g0 + bg->gx * wx + bg->gy * wy));
      float p = 0;
      switch (bg->kind) {
      case SYN_TEX_STRIPES: {
        float tri = fabsf(2.0f * fract(bg->fx * wx + bg->fy * wy) - 1.0f);
        p = clamp01((tri - 0.5f) * sharp + 0.5f);
        break;
      }
      case SYN_TEX_CHECKER: {
        float tx = (fabsf(2.0f * fract(bg->freq * wx) - 1.0f) - 0.5f) * sharp;
        float ty = (fabsf(2.0f * fract(bg->freq * wy) - 1.0f) - 0.5f) * sharp;
        tx = tx < -0.5f ? -0.5f : (tx > 0.5f ? 0.5f : tx);
        ty = ty < -0.5f ? -0.5f : (ty > 0.5f ? 0.5f : ty);
        p = 0.5f + 2.0f * tx * ty;
        break;
      }
      case SYN_TEX_BLOBS: {
        float nx = bg->freq * wx, ny = bg->freq * wy;
        float fx = floorf(nx), fy = floorf(ny);
        float tx = nx - fx, ty = ny - fy;
        tx = tx * tx * (3 - 2 * tx);
        ty = ty * ty * (3 - 2 * ty);
        int ix = (int)fx & (SYN_NOISE_N - 1), iy = (int)fy & (SYN_NOISE_N - 1);
        int jx = (ix + 1) & (SYN_NOISE_N - 1), jy = (iy + 1) & (SYN_NOISE_N - 1);
        const float *L = bg->noise;
        float a =
            L[iy * SYN_NOISE_N + ix] + (L[iy * SYN_NOISE_N + jx] - L[iy * SYN_NOISE_N + ix]) * tx;
        float b =
            L[jy * SYN_NOISE_N + ix] + (L[jy * SYN_NOISE_N + jx] - L[jy * SYN_NOISE_N + ix]) * tx;
        p = clamp01(((a + (b - a) * ty) - 0.5f) * 2.5f + 0.5f);
        break;
      }
      default: break;
      }
      float w = bg->strength * p;
      uint8_t *px = row + 3 * x;
      px[0] = (uint8_t)(col.r + (bg->pc.r - col.r) * w + 0.5f);
      px[1] = (uint8_t)(col.g + (bg->pc.g - col.g) * w + 0.5f);
      px[2] = (uint8_t)(col.b + (bg->pc.b - col.b) * w + 0.5f);
    }
  }
}

void syn_background_init(syn_background *bg, uint64_t seed, double av, syn_color canon0,
                         syn_color canon1) {
  syn_draws d = syn_draws_init(seed, SYN_STREAM_BACKGROUND);
  memset(bg, 0, sizeof *bg);
  float t = (float)av;
  syn_color r0 = syn_hsv((float)syn_uniform(&d), (float)syn_range(&d, 0.05, 0.55),
                         (float)syn_range(&d, 0.45, 0.95));
  syn_color r1 = syn_hsv((float)syn_uniform(&d), (float)syn_range(&d, 0.05, 0.55),
                         (float)syn_range(&d, 0.35, 0.95));
  bg->c0 = syn_mix(canon0, r0, t);
  bg->c1 = syn_mix(canon1, r1, t);
  /* gradient direction: one of 8, over about one world unit */
  static const float dirs[8][2] = {{0, 1}, {0.7071f, 0.7071f}, {1, 0}, {0.7071f, -0.7071f},
                                   {0, -1}, {-0.7071f, -0.7071f}, {-1, 0}, {-0.7071f, 0.7071f}};
  int k = syn_int(&d, 8);
  int canon_dir = 0;
  const float *g = syn_uniform(&d) < av ? dirs[k] : dirs[canon_dir];
  bg->gx = g[0];
  bg->gy = g[1];
  bg->g0 = 0.5f - 0.5f * (g[0] + g[1]);
  bg->kind = syn_int(&d, SYN_N_TEX);
  bg->pc = syn_hsv((float)syn_uniform(&d), (float)syn_range(&d, 0.1, 0.7),
                   (float)syn_range(&d, 0.3, 1.0));
  bg->strength = bg->kind == SYN_TEX_PLAIN ? 0.0f : (float)(av * syn_range(&d, 0.25, 0.6));
  float ang = (float)syn_range(&d, 0, 3.14159265358979);
  float per = (float)syn_range(&d, 5, 14); /* stripes per world unit */
  bg->fx = per * cosf(ang);
  bg->fy = per * sinf(ang);
  bg->freq = (float)syn_range(&d, 3, 8);
  for (int i = 0; i < SYN_NOISE_N * SYN_NOISE_N; i++) bg->noise[i] = (float)syn_uniform(&d);
}

/* ---------------------------------------------------------------- lighting */

void syn_apply_lighting(const syn_canvas *cv, const syn_lighting *lt) {
  for (int y = 0; y < cv->h; y++) {
    uint8_t *row = cv->rgb + (size_t)y * cv->stride;
    float l = lt->l0 + lt->ly * ((float)y + 0.5f) + lt->lx * 0.5f;
    for (int x = 0; x < cv->w; x++) {
      for (int c = 0; c < 3; c++) {
        float v = lt->lut[row[3 * x + c]] * l + 0.5f;
        row[3 * x + c] = v <= 0 ? 0 : (v >= 255 ? 255 : (uint8_t)v);
      }
      l += lt->lx;
    }
  }
}

/* ---------------------------------------------------------------- seeded appearance */

float syn_vary(syn_draws *d, double av, double f) {
  return (float)exp(av * log(f) * syn_range(d, -1, 1));
}

syn_color syn_pick(syn_draws *d, double av, syn_color canon, const syn_color *palette, int n) {
  int k = syn_int(d, n);
  return syn_uniform(d) < av ? palette[k] : canon;
}

syn_color syn_free_color(syn_draws *d, double av, syn_color canon, float smin, float smax,
                         float vmin, float vmax) {
  syn_color r = syn_hsv((float)syn_uniform(d), (float)syn_range(d, smin, smax),
                        (float)syn_range(d, vmin, vmax));
  return syn_mix(canon, r, (float)av);
}
