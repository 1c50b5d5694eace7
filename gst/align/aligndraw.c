/* aligndraw.c — the lacalign overlay and plot, drawn with cairo (see aligndraw.h).
 *
 * The overlay is a premultiplied ARGB band (cairo's ARGB32 is GStreamer's BGRA on little
 * endian, ARGB on big endian: GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB) across the bottom of
 * the frame: a translucent dark background, the progress bar, and one line of text with the
 * cairo "toy" font API (no Pango, so no layout beyond one line).
 * The plot maps every similarity cell to at least one pixel, up to 1024 pixels a side.
 * The thumbnail of the matched reference frame (made by gstlacalign.c from the reference
 * pad's raw video) is a second rectangle in the top right corner, scaled by the compositor.
 * Not here: alignment arithmetic, reading the reference, making thumbnails.
 */
#include "aligndraw.h"

#include <cairo.h>
#include <math.h>

guint align_draw_band_height(guint frame_height) {
  guint h = frame_height / 6;
  if (h < 16) h = MIN(16, frame_height);
  if (h > 96) h = 96;
  return h;
}

void align_draw_thumbnail_rect(guint width, guint height, guint tw, guint th, gint *x, gint *y,
                               guint *w, guint *h) {
  /* at most a third of the height and half the width, never enlarged, aspect kept */
  double s = MIN(1.0, MIN(height / 3.0 / th, width / 2.0 / tw));
  *w = MAX(1u, (guint)lround(tw * s));
  *h = MAX(1u, (guint)lround(th * s));
  guint margin = MAX(1u, height / 48);
  *x = (gint)width - (gint)*w - (gint)margin;
  *y = (gint)margin;
}

GstVideoOverlayComposition *align_draw_overlay(guint width, guint height, const AlignEstimate *est,
                                               const char *phase_name, GstBuffer *thumb) {
  guint bh = align_draw_band_height(height);
  int stride = cairo_format_stride_for_width(CAIRO_FORMAT_ARGB32, (int)width);
  GstBuffer *buf = gst_buffer_new_allocate(NULL, (gsize)stride * bh, NULL);
  GstMapInfo map;
  gst_buffer_map(buf, &map, GST_MAP_WRITE);
  cairo_surface_t *surf =
      cairo_image_surface_create_for_data(map.data, CAIRO_FORMAT_ARGB32, (int)width, (int)bh, stride);
  cairo_t *cr = cairo_create(surf);
  cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
  cairo_set_source_rgba(cr, 0, 0, 0, 0.6);
  cairo_paint(cr);
  cairo_set_operator(cr, CAIRO_OPERATOR_OVER);

  double pad = MAX(2.0, bh / 8.0);
  double bar_h = bh * 0.35, bar_w = width - 2 * pad;
  double bar_y = bh - pad - bar_h;
  /* bar outline, then the filled part */
  cairo_set_source_rgba(cr, 1, 1, 1, 0.35);
  cairo_rectangle(cr, pad, bar_y, bar_w, bar_h);
  cairo_fill(cr);
  gboolean match = est && est->match;
  if (match) {
    cairo_set_source_rgba(cr, 0.1, 0.85, 0.3, 1.0);
    cairo_rectangle(cr, pad, bar_y, bar_w * CLAMP(est->progress, 0.0, 1.0), bar_h);
    cairo_fill(cr);
  }

  char text[160];
  if (!est)
    g_snprintf(text, sizeof text, "no embedding");
  else if (!match)
    g_snprintf(text, sizeof text, "no match  score %.2f  conf %.2f", est->score, est->confidence);
  else
    g_snprintf(text, sizeof text, "%s  %3.0f%%  score %.2f  conf %.2f",
               phase_name ? phase_name : "-", 100.0 * est->progress, est->score, est->confidence);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr, MAX(6.0, bar_y - pad));
  cairo_set_source_rgba(cr, 1, 1, 1, 1);
  cairo_move_to(cr, pad, bar_y - pad);
  cairo_show_text(cr, text);

  cairo_destroy(cr);
  cairo_surface_flush(surf);
  cairo_surface_destroy(surf);
  gst_buffer_unmap(buf, &map);

  gsize offsets[GST_VIDEO_MAX_PLANES] = {0};
  gint strides[GST_VIDEO_MAX_PLANES] = {stride};
  gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE,
                                 GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, width, bh, 1, offsets,
                                 strides);
  GstVideoOverlayRectangle *rect = gst_video_overlay_rectangle_new_raw(
      buf, 0, (gint)(height - bh), width, bh, GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
  gst_buffer_unref(buf);
  GstVideoOverlayComposition *comp = gst_video_overlay_composition_new(rect);
  gst_video_overlay_rectangle_unref(rect);
  GstVideoMeta *vm = thumb ? gst_buffer_get_video_meta(thumb) : NULL;
  if (vm && vm->width > 0 && vm->height > 0) {
    gint x, y;
    guint w, h;
    align_draw_thumbnail_rect(width, height, vm->width, vm->height, &x, &y, &w, &h);
    GstVideoOverlayRectangle *tr =
        gst_video_overlay_rectangle_new_raw(thumb, x, y, w, h, GST_VIDEO_OVERLAY_FORMAT_FLAG_NONE);
    gst_video_overlay_composition_add_rectangle(comp, tr);
    gst_video_overlay_rectangle_unref(tr);
  }
  return comp;
}

gboolean align_draw_plot(const char *path, const float *S, int n, int m,
                         const lac_sw_step *steps, int n_steps, char **msg) {
  /* pixels per cell: at least 1, the larger side up to 1024 */
  int big = MAX(n, m);
  int scale = big >= 1024 ? 1 : 1024 / big;
  if (scale > 8) scale = 8;
  int W = m * scale, H = n * scale;
  cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
    *msg = g_strdup_printf("cannot make a %d x %d image: %s", W, H,
                           cairo_status_to_string(cairo_surface_status(surf)));
    cairo_surface_destroy(surf);
    return FALSE;
  }
  float lo = INFINITY, hi = -INFINITY;
  for (gsize k = 0; k < (gsize)n * m; k++) {
    lo = MIN(lo, S[k]);
    hi = MAX(hi, S[k]);
  }
  float range = hi > lo ? hi - lo : 1.f;
  cairo_surface_flush(surf);
  unsigned char *px = cairo_image_surface_get_data(surf);
  int stride = cairo_image_surface_get_stride(surf);
  for (int y = 0; y < H; y++) {
    guint32 *rowp = (guint32 *)(px + (gsize)y * stride);
    const float *srow = S + (gsize)(y / scale) * m;
    for (int x = 0; x < W; x++) {
      guint32 g = (guint32)lroundf(255.f * (srow[x / scale] - lo) / range);
      rowp[x] = (g << 16) | (g << 8) | g;
    }
  }
  cairo_surface_mark_dirty(surf);
  cairo_t *cr = cairo_create(surf);
  cairo_set_source_rgb(cr, 1, 0, 0);
  cairo_set_line_width(cr, MAX(1.0, scale / 2.0));
  for (int k = 0; k < n_steps; k++) {
    double cx = (steps[k].j + 0.5) * scale, cy = (steps[k].i + 0.5) * scale;
    if (k == 0)
      cairo_move_to(cr, cx, cy);
    else
      cairo_line_to(cr, cx, cy);
  }
  if (n_steps == 1) cairo_line_to(cr, (steps[0].j + 0.5) * scale + 0.5, (steps[0].i + 0.5) * scale);
  cairo_stroke(cr);
  cairo_destroy(cr);
  cairo_status_t cs = cairo_surface_write_to_png(surf, path);
  cairo_surface_destroy(surf);
  if (cs != CAIRO_STATUS_SUCCESS) {
    *msg = g_strdup_printf("cannot write %s: %s", path, cairo_status_to_string(cs));
    return FALSE;
  }
  return TRUE;
}
