/* aligndraw.h — cairo drawing for lacalign: the per-frame overlay (a progress bar through
 * the reference, the phase name, score and confidence) as a GstVideoOverlayComposition, and
 * the end-of-stream plot (similarity matrix with the alignment path) as a PNG.
 * Not here: deciding whether to attach or blend (gstlacalign.c), any alignment arithmetic.
 */
#ifndef LAC_GST_ALIGN_DRAW_H
#define LAC_GST_ALIGN_DRAW_H

#include <gst/video/video.h>

#include "aligntracker.h"

G_BEGIN_DECLS

/* The band's height for a frame of the given height (rows at the bottom of the frame). */
guint align_draw_band_height(guint frame_height);

/* A composition with one rectangle covering the bottom band of a width x height frame;
 * est NULL draws "no embedding".  thumb (NULL: none), a buffer with a GstVideoMeta in
 * GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB (the matched reference frame), adds a second
 * rectangle in the top right corner, shown at most a third of the frame's height and half
 * its width (aspect kept).  Returns a new reference. */
GstVideoOverlayComposition *align_draw_overlay(guint width, guint height, const AlignEstimate *est,
                                               const char *phase_name, GstBuffer *thumb);

/* The corner rectangle where align_draw_overlay shows a tw x th thumbnail in a width x height
 * frame: *x, *y, *w, *h (w, h >= 1). */
void align_draw_thumbnail_rect(guint width, guint height, guint tw, guint th, gint *x, gint *y,
                               guint *w, guint *h);

/* Writes a PNG of S [n][m] (rows: stream frames, top to bottom; columns: reference frames)
 * in grey (white = most similar) with the path steps[n_steps] in red.  Returns FALSE with
 * a message in *msg (g_free it) on failure. */
gboolean align_draw_plot(const char *path, const float *S, int n, int m,
                         const lac_sw_step *steps, int n_steps, char **msg);

G_END_DECLS

#endif
