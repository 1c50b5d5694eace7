/* gstlacalign.c — the lacalign element: a GstAggregator with an always "sink" pad (video
 * whose buffers carry GstLacEmbeddingMeta) and a request "reference" pad (any buffers with
 * GstLacEmbeddingMeta and optionally GstLacPhaseMeta), or a reference embeddings file.
 * For every video frame it estimates on-line where in the reference the stream is
 * (aligntracker.c), draws that over the frame (aligndraw.c: attached as
 * GstVideoOverlayCompositionMeta when downstream accepts it, blended otherwise), posts a
 * "lac-alignment" element message, and at EOS writes the off-line alignment of the whole
 * stream as CSV or JSON and optionally a PNG plot.  When the reference pad carries raw
 * video it keeps a small thumbnail of every reference frame and shows the matched one.
 *
 * Not here: alignment arithmetic (aligntracker.c over the lac library), drawing
 * (aligndraw.c), computing embeddings (lacencoder).  Frames are never held back, so the
 * element adds no latency.  With a reference pad the video waits until the reference
 * stream has ended (its embeddings are the reference); the reference pad's buffers are
 * consumed, never output.
 */

/**
 * SECTION:element-lacalign
 * @title: lacalign
 *
 * Aligns the embeddings of a video (a #GstLacEmbeddingMeta on each frame, as `lacencoder`
 * attaches) against a reference action and shows where in the reference the video is:
 * the matched reference frame, progress 0..1, the phase (from the reference's labels),
 * the local alignment score and a confidence.
 *
 * The reference is an embeddings file (#GstLacAlign:reference-location, as written by
 * `lac embed` or `lacencoder embeddings-location=`; its labels are phase indices, named by
 * its lac.phase_names when present, "phase N" otherwise) or the
 * embeddings arriving on the request pad `reference` until its EOS (with a
 * #GstLacPhaseMeta on its buffers for phase indices and names).
 *
 * On-line, each frame's estimate comes from the Smith-Waterman local alignment (affine
 * gaps, similarity = cosine - #GstLacAlign:similarity-offset by default) of the last
 * #GstLacAlign:window frames against the reference: the best alignment that ends at the
 * current frame gives the matched frame and the score, the soft match probabilities of the
 * current frame (at temperature #GstLacAlign:softness) the confidence; only alignments that
 * end at a reference frame the current frame resembles (similarity at least the offset)
 * count, so that a restart of the action is followed within a frame or two instead of after
 * the previous performance's alignment has decayed.  Below
 * #GstLacAlign:min-score or #GstLacAlign:min-confidence the frame has no match (a
 * distractor, or the action has not started); so has a frame whose similarity to its
 * matched reference frame is below the offset.  The index is smoothed exponentially
 * (#GstLacAlign:smoothing) and restarts when it jumps (the action restarted).  The window
 * restarts on DISCONT buffers, flushes and new segments.  Without alignment-location and
 * plot-location the element keeps only the recent similarity rows (bounded memory on live
 * streams); with either it keeps one row per frame for the off-line alignment.
 *
 * The video passes unchanged except for the overlay (a band at the bottom: progress bar,
 * phase, score, confidence; #GstLacAlign:overlay), attached as a
 * #GstVideoOverlayCompositionMeta when downstream says in the allocation query that it
 * accepts one, else blended into the frame.  Frames without an embedding pass through
 * untouched, with one warning for the stream.
 *
 * Each frame with an embedding posts an element message `lac-alignment` (at most one per
 * #GstLacAlign:message-interval) with the fields timestamp, running-time (guint64 ns),
 * frame (guint64, counting frames with embeddings), match (gboolean), matched-index and
 * raw-index (gint, -1 without match), progress (gdouble, -1 without match), phase (gint),
 * phase-name (string or NULL), score, confidence and similarity (gdouble: the current
 * frame's similarity to the reference frame raw-index).
 *
 * At EOS, #GstLacAlign:alignment-location receives a CSV with one row per frame with an
 * embedding: timestamp, frame, the on-line match, progress, phase, score, confidence, and
 * offline-index, the frame's reference match in the hard local alignment of the whole
 * stream (-1 outside it).  A location ending in `.json` receives JSON instead: an object
 * with `reference` (frames, dim, model_id, phase_names), `parameters` (the alignment
 * properties), `offline_score` and `frames`, an array of objects with the CSV's columns as
 * fields (match as a boolean).  Either file is written to a temporary file and renamed.
 * #GstLacAlign:plot-location receives a PNG of the similarity matrix
 * (stream frames down, reference frames across) with that alignment's path in red.
 *
 * When the reference pad's caps are raw video and #GstLacAlign:thumbnail is TRUE at start,
 * every reference frame with an embedding is kept as a thumbnail 64 rows high (fewer for a
 * smaller reference), aspect kept, at most 4 times as wide: at most 64 KiB per reference
 * frame (21.8 KiB for 4:3).  The matched frame's thumbnail is drawn in the top right corner
 * of the video (at most a third of its height and half its width) while there is a match.
 *
 * Embeddings of another dimension or another model (both model ids known and different)
 * than the reference's stop the pipeline with a STREAM FORMAT error saying which.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=a.webm ! decodebin ! lacencoder model-location=m.safetensors ! \
 *     lacalign reference-location=ref.safetensors alignment-location=a.csv plot-location=a.png ! \
 *     videoconvert ! autovideosink
 * gst-launch-1.0 lacalign name=al ! videoconvert ! autovideosink \
 *     filesrc location=a.webm ! decodebin ! lacencoder model-location=m.safetensors ! al.sink \
 *     filesrc location=ref.webm ! decodebin ! lacencoder model-location=m.safetensors ! al.reference
 * ]|
 */
#include "gstlacalign.h"

#include <gst/lac/lacmeta.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aligndraw.h"

GST_DEBUG_CATEGORY_STATIC(gst_lac_align_debug);
#define GST_CAT_DEFAULT gst_lac_align_debug

enum {
  PROP_0,
  PROP_REFERENCE_LOCATION,
  PROP_WINDOW,
  PROP_SIMILARITY,
  PROP_SIMILARITY_OFFSET,
  PROP_GAP_OPEN,
  PROP_GAP_EXTEND,
  PROP_SOFTNESS,
  PROP_MIN_SCORE,
  PROP_MIN_CONFIDENCE,
  PROP_SMOOTHING,
  PROP_OVERLAY,
  PROP_POST_MESSAGES,
  PROP_MESSAGE_INTERVAL,
  PROP_ALIGNMENT_LOCATION,
  PROP_PLOT_LOCATION,
  PROP_THUMBNAIL,
};

/* Reference thumbnails: THUMB_HEIGHT rows (fewer for a smaller reference), the width from the
 * display aspect, at most THUMB_MAX_ASPECT times the height: at most 64 x 256 x 4 bytes =
 * 64 KiB per reference frame (21.8 KiB for 4:3). */
#define THUMB_HEIGHT 64
#define THUMB_MAX_ASPECT 4

#define FORMATS "{ I420, NV12, RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, GRAY8 }"
#define VIDEO_CAPS GST_VIDEO_CAPS_MAKE(FORMATS)

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(VIDEO_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(VIDEO_CAPS));
static GstStaticPadTemplate reference_template =
    GST_STATIC_PAD_TEMPLATE("reference", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS_ANY);

#define gst_lac_align_parent_class parent_class
G_DEFINE_TYPE(GstLacAlign, gst_lac_align, GST_TYPE_AGGREGATOR);
GST_ELEMENT_REGISTER_DEFINE(lacalign, "lacalign", GST_RANK_NONE, GST_TYPE_LAC_ALIGN);

GType gst_lac_align_similarity_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {LAC_SIM_COSINE, "Cosine similarity", "cosine"},
      {LAC_SIM_INV_SQDIST, "1 / (squared distance + eps)", "inv-sqdist"},
      {LAC_SIM_NEG_SQDIST, "Minus the squared distance", "neg-sqdist"},
      {0, NULL, NULL}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstLacAlignSimilarity", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

/* ---------------------------------------------------------------- reference */

static gboolean load_reference_file(GstLacAlign *self, const char *path) {
  lac_error err;
  lac_embeddings *e = NULL;
  lac_error_clear(&err);
  if (lac_embeddings_read(path, &e, &err) != LAC_OK) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ,
                      ("Could not read the reference embeddings file \"%s\": %s", path,
                       err.message),
                      ("set reference-location to a file written by `lac embed` or lacencoder"));
    return FALSE;
  }
  if (e->n < 1 || e->n > G_MAXINT || e->dim > G_MAXINT) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ,
                      ("The reference embeddings file \"%s\" has %" G_GINT64_FORMAT
                       " frames: it needs at least one",
                       path, e->n),
                      (NULL));
    lac_embeddings_free(e);
    return FALSE;
  }
  gint64 *labels = NULL;
  if (e->labels) {
    labels = g_new(gint64, e->n);
    for (int64_t i = 0; i < e->n; i++) labels[i] = e->labels[i];
  }
  lac_status st = align_tracker_add_reference(self->tracker, e->data, (int)e->n, (int)e->dim,
                                              labels, e->model_id, &err);
  g_free(labels);
  for (int64_t p = 0; st == LAC_OK && p < e->n_phase_names && p < G_MAXINT; p++)
    align_tracker_set_phase_name(self->tracker, (int)p, e->phase_names[p]);
  GST_INFO_OBJECT(self, "reference %s: %" G_GINT64_FORMAT " frames of dimension %" G_GINT64_FORMAT
                  ", model '%s', %s labels",
                  path, e->n, e->dim, e->model_id, e->labels ? "with" : "without");
  lac_embeddings_free(e);
  if (st != LAC_OK) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("Reference \"%s\": %s", path, err.message),
                      (NULL));
    return FALSE;
  }
  return TRUE;
}

/* Checks an embedding against the reference: FALSE after posting the error. */
static gboolean check_embedding(GstLacAlign *self, const GstLacEmbeddingMeta *meta,
                                const char *what) {
  int dim = align_tracker_dim(self->tracker);
  const char *ref_model = align_tracker_model_id(self->tracker);
  if ((int)meta->dim != dim) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                      ("Embedding dimension mismatch: the %s has %u-dimensional embeddings but "
                       "the reference has %d-dimensional ones; compute both with the same model",
                       what, meta->dim, dim),
                      ("stream model '%s', reference model '%s'",
                       meta->model_id ? meta->model_id : "", ref_model));
    return FALSE;
  }
  if (meta->model_id && meta->model_id[0] && ref_model[0] && strcmp(meta->model_id, ref_model)) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                      ("Embedding model mismatch: the %s's embeddings come from model '%s' but "
                       "the reference's from model '%s'; compute both with the same model",
                       what, meta->model_id, ref_model),
                      (NULL));
    return FALSE;
  }
  return TRUE;
}

/* The reference pad's caps: raw video gives thumbnails (when asked for), anything else none. */
static void set_reference_caps(GstLacAlign *self, GstCaps *caps) {
  g_clear_pointer(&self->thumb_conv, gst_video_converter_free);
  GstStructure *st = gst_caps_get_size(caps) ? gst_caps_get_structure(caps, 0) : NULL;
  self->have_ref_info = st && gst_structure_has_name(st, "video/x-raw") &&
                        gst_video_info_from_caps(&self->ref_info, caps) &&
                        GST_VIDEO_INFO_WIDTH(&self->ref_info) > 0 &&
                        GST_VIDEO_INFO_HEIGHT(&self->ref_info) > 0;
  if (!self->have_ref_info || !self->keep_thumbs) return;
  const GstVideoInfo *ri = &self->ref_info;
  int rw = GST_VIDEO_INFO_WIDTH(ri), rh = GST_VIDEO_INFO_HEIGHT(ri);
  int th = MIN(THUMB_HEIGHT, rh);
  double aspect = (double)rw * MAX(1, GST_VIDEO_INFO_PAR_N(ri)) /
                  ((double)rh * MAX(1, GST_VIDEO_INFO_PAR_D(ri)));
  int tw = CLAMP((int)lround(th * aspect), 1, THUMB_MAX_ASPECT * th);
  gst_video_info_set_format(&self->thumb_info, GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB,
                            (guint)tw, (guint)th);
  /* the converter changes size and format, never the frame rate or interlacing */
  GST_VIDEO_INFO_FPS_N(&self->thumb_info) = GST_VIDEO_INFO_FPS_N(ri);
  GST_VIDEO_INFO_FPS_D(&self->thumb_info) = GST_VIDEO_INFO_FPS_D(ri);
  GST_VIDEO_INFO_INTERLACE_MODE(&self->thumb_info) = GST_VIDEO_INFO_INTERLACE_MODE(ri);
  self->thumb_conv = gst_video_converter_new((GstVideoInfo *)ri, &self->thumb_info, NULL);
  if (!self->thumb_conv)
    GST_WARNING_OBJECT(self, "cannot convert the reference's %s to thumbnails",
                       gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(ri)));
  else
    GST_INFO_OBJECT(self, "reference thumbnails %dx%d", tw, th);
}

/* The thumbnail of one reference frame (NULL when the reference is not raw video or the
 * frame cannot be mapped). */
static GstBuffer *make_thumbnail(GstLacAlign *self, GstBuffer *buf) {
  if (!self->thumb_conv) return NULL;
  GstVideoFrame in, out;
  if (!gst_video_frame_map(&in, &self->ref_info, buf, GST_MAP_READ)) {
    GST_DEBUG_OBJECT(self, "reference frame not mappable: no thumbnail");
    return NULL;
  }
  GstBuffer *t = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&self->thumb_info), NULL);
  if (!gst_video_frame_map(&out, &self->thumb_info, t, GST_MAP_WRITE)) {
    gst_video_frame_unmap(&in);
    gst_buffer_unref(t);
    return NULL;
  }
  gst_video_converter_frame(self->thumb_conv, &in, &out);
  gst_video_frame_unmap(&out);
  gst_video_frame_unmap(&in);
  gst_buffer_add_video_meta_full(t, GST_VIDEO_FRAME_FLAG_NONE,
                                 GST_VIDEO_INFO_FORMAT(&self->thumb_info),
                                 GST_VIDEO_INFO_WIDTH(&self->thumb_info),
                                 GST_VIDEO_INFO_HEIGHT(&self->thumb_info), 1,
                                 self->thumb_info.offset, self->thumb_info.stride);
  return t;
}

/* Takes what the reference pad holds; TRUE when the reference is complete (its EOS). */
static GstFlowReturn collect_reference(GstLacAlign *self, GstAggregatorPad *pad) {
  GstBuffer *buf;
  lac_error err;
  lac_error_clear(&err);
  while ((buf = gst_aggregator_pad_pop_buffer(pad))) {
    GstLacEmbeddingMeta *meta = gst_buffer_get_lac_embedding_meta(buf);
    if (!meta) {
      GST_DEBUG_OBJECT(self, "reference buffer without embedding, skipped");
      gst_buffer_unref(buf);
      continue;
    }
    if (align_tracker_ref_len(self->tracker) > 0 && !check_embedding(self, meta, "reference stream")) {
      gst_buffer_unref(buf);
      return GST_FLOW_ERROR;
    }
    GstLacPhaseMeta *ph = gst_buffer_get_lac_phase_meta(buf);
    gint64 label = ph ? ph->phase : -1;
    if (ph && ph->phase >= 0 && ph->phase_name)
      align_tracker_set_phase_name(self->tracker, ph->phase, ph->phase_name);
    lac_status st = align_tracker_add_reference(self->tracker, meta->data, 1, (int)meta->dim,
                                                &label, meta->model_id, &err);
    if (st == LAC_OK && self->keep_thumbs) {
      /* one entry per reference frame (NULL where none could be made) */
      if (!self->thumbs)
        self->thumbs = g_ptr_array_new_with_free_func((GDestroyNotify)gst_buffer_unref);
      g_ptr_array_add(self->thumbs, make_thumbnail(self, buf));
    }
    gst_buffer_unref(buf);
    if (st != LAC_OK) {
      GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Reference stream: %s", err.message), (NULL));
      return GST_FLOW_ERROR;
    }
  }
  if (!gst_aggregator_pad_is_eos(pad)) return GST_AGGREGATOR_FLOW_NEED_DATA;
  if (align_tracker_ref_len(self->tracker) < 1) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                      ("The reference pad's stream ended without any frame carrying an "
                       "embedding; feed it through lacencoder"),
                      (NULL));
    return GST_FLOW_ERROR;
  }
  GST_INFO_OBJECT(self, "reference stream complete: %d frames", align_tracker_ref_len(self->tracker));
  self->ref_ready = TRUE;
  return GST_FLOW_OK;
}

/* ---------------------------------------------------------------- outputs */

static void post_message(GstLacAlign *self, GstClockTime pts, guint64 frame,
                         const AlignEstimate *est) {
  GstAggregatorPad *sp = self->sinkpad;
  GstClockTime rt = GST_CLOCK_TIME_IS_VALID(pts)
                        ? gst_segment_to_running_time(&sp->segment, GST_FORMAT_TIME, pts)
                        : GST_CLOCK_TIME_NONE;
  GstStructure *s = gst_structure_new(
      "lac-alignment", "timestamp", G_TYPE_UINT64, (guint64)pts, "running-time", G_TYPE_UINT64,
      (guint64)rt, "frame", G_TYPE_UINT64, frame, "match", G_TYPE_BOOLEAN, est->match,
      "matched-index", G_TYPE_INT, est->index, "raw-index", G_TYPE_INT,
      est->match ? est->raw_index : -1, "progress", G_TYPE_DOUBLE, est->progress, "phase",
      G_TYPE_INT, est->phase, "phase-name", G_TYPE_STRING,
      align_tracker_phase_name(self->tracker, est->phase), "score", G_TYPE_DOUBLE,
      (double)est->score, "confidence", G_TYPE_DOUBLE, (double)est->confidence, "similarity",
      G_TYPE_DOUBLE, (double)est->similarity, NULL);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

static GstBuffer *draw_overlay(GstLacAlign *self, GstBuffer *buf, const AlignEstimate *est,
                               gboolean thumbnail) {
  const char *name = est->match ? align_tracker_phase_name(self->tracker, est->phase) : NULL;
  GstBuffer *thumb = NULL;
  if (thumbnail && est->match && self->thumbs && est->index >= 0 &&
      (guint)est->index < self->thumbs->len)
    thumb = g_ptr_array_index(self->thumbs, est->index);
  GstVideoOverlayComposition *comp = align_draw_overlay(
      GST_VIDEO_INFO_WIDTH(&self->info), GST_VIDEO_INFO_HEIGHT(&self->info), est, name, thumb);
  buf = gst_buffer_make_writable(buf);
  if (self->attach_overlay) {
    gst_buffer_add_video_overlay_composition_meta(buf, comp);
  } else {
    GstVideoFrame frame;
    if (gst_video_frame_map(&frame, &self->info, buf, GST_MAP_READWRITE)) {
      if (!gst_video_overlay_composition_blend(comp, &frame))
        GST_WARNING_OBJECT(self, "could not blend the overlay into the frame");
      gst_video_frame_unmap(&frame);
    } else {
      GST_WARNING_OBJECT(self, "could not map the frame to blend the overlay");
    }
  }
  gst_video_overlay_composition_unref(comp);
  return buf;
}

static GString *alignment_json(GstLacAlign *self, const int *offline, float offline_score);

/* Writes the alignment file: JSON when path ends in ".json" (any case), CSV otherwise.
 * g_file_set_contents writes a temporary file beside it and renames it over path, so a
 * reader never sees a half-written file. */
static gboolean write_alignment(GstLacAlign *self, const char *path, const int *offline,
                                float offline_score) {
  gchar *lower = g_ascii_strdown(path, -1);
  gboolean json = g_str_has_suffix(lower, ".json");
  g_free(lower);
  GString *s = json ? alignment_json(self, offline, offline_score) : g_string_new(
      "timestamp,frame,match,online_index,online_progress,online_phase,score,confidence,"
      "offline_index\n");
  for (guint i = 0; !json && i < self->rows->len; i++) {
    const GstLacAlignRow *r = &g_array_index(self->rows, GstLacAlignRow, i);
    g_string_append_printf(s, "%" G_GINT64_FORMAT ",%u,%d,%d,%.6f,%d,%.6g,%.6g,%d\n",
                           GST_CLOCK_TIME_IS_VALID(r->pts) ? (gint64)r->pts : (gint64)-1, i,
                           r->est.match ? 1 : 0, r->est.index, r->est.progress, r->est.phase,
                           r->est.score, r->est.confidence, offline[i]);
  }
  GError *gerr = NULL;
  gboolean ok = g_file_set_contents(path, s->str, (gssize)s->len, &gerr);
  g_string_free(s, TRUE);
  if (!ok) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                      ("Could not write the alignment file \"%s\": %s", path, gerr->message),
                      ("check alignment-location"));
    g_error_free(gerr);
  }
  return ok;
}

/* Appends v as a JSON string (quotes, backslash and control characters escaped; NULL: null). */
static void json_string(GString *s, const char *v) {
  if (!v) {
    g_string_append(s, "null");
    return;
  }
  g_string_append_c(s, '"');
  for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
    if (*c == '"' || *c == '\\')
      g_string_append_printf(s, "\\%c", *c);
    else if (*c < 0x20)
      g_string_append_printf(s, "\\u%04x", *c);
    else
      g_string_append_c(s, (char)*c);
  }
  g_string_append_c(s, '"');
}

/* Appends v as a JSON number, null when it is not finite (JSON has no NaN or infinity). */
static void json_number(GString *s, double v) {
  if (isfinite(v))
    g_string_append_printf(s, "%.9g", v);
  else
    g_string_append(s, "null");
}

/* Appends the text `before` (a separator and a key), then v as json_number does. */
static void json_member(GString *s, const char *before, double v) {
  g_string_append(s, before);
  json_number(s, v);
}

/* The JSON form of the alignment file: {"reference": {frames, dim, model_id, phase_names},
 * "parameters": {...}, "offline_score", "frames": [{the CSV's columns}]}. */
static GString *alignment_json(GstLacAlign *self, const int *offline, float offline_score) {
  AlignTracker *t = self->tracker;
  const AlignTrackerSettings *p = align_tracker_settings(t);
  GString *s = g_string_new("{\n  \"reference\": {\"frames\": ");
  g_string_append_printf(s, "%d, \"dim\": %d, \"model_id\": ", align_tracker_ref_len(t),
                         align_tracker_dim(t));
  json_string(s, align_tracker_model_id(t));
  g_string_append(s, ", \"phase_names\": [");
  for (int k = 0, np = align_tracker_n_phases(t); k < np; k++) {
    if (k) g_string_append(s, ", ");
    json_string(s, align_tracker_phase_name(t, k));
  }
  GEnumClass *ec = g_type_class_ref(gst_lac_align_similarity_get_type());
  GEnumValue *ev = g_enum_get_value(ec, p->similarity);
  g_string_append(s, "]},\n  \"parameters\": {\"similarity\": ");
  json_string(s, ev ? ev->value_nick : NULL);
  g_type_class_unref(ec);
  json_member(s, ", \"similarity_offset\": ", p->offset);
  json_member(s, ", \"gap_open\": ", p->gap_open);
  json_member(s, ", \"gap_extend\": ", p->gap_extend);
  json_member(s, ", \"softness\": ", p->softness);
  g_string_append_printf(s, ", \"window\": %d, \"min_score\": ", p->window);
  json_number(s, p->min_score);
  json_member(s, ", \"min_confidence\": ", p->min_confidence);
  json_member(s, ", \"smoothing\": ", p->smoothing);
  json_member(s, "},\n  \"offline_score\": ", offline_score);
  g_string_append(s, ",\n  \"frames\": [");
  for (guint i = 0; i < self->rows->len; i++) {
    const GstLacAlignRow *r = &g_array_index(self->rows, GstLacAlignRow, i);
    g_string_append_printf(
        s, "%s\n    {\"timestamp\": %" G_GINT64_FORMAT ", \"frame\": %u, \"match\": %s, "
        "\"online_index\": %d, \"online_progress\": ",
        i ? "," : "", GST_CLOCK_TIME_IS_VALID(r->pts) ? (gint64)r->pts : (gint64)-1, i,
        r->est.match ? "true" : "false", r->est.index);
    json_number(s, r->est.progress);
    g_string_append_printf(s, ", \"online_phase\": %d, \"score\": ", r->est.phase);
    json_number(s, r->est.score);
    json_member(s, ", \"confidence\": ", r->est.confidence);
    g_string_append_printf(s, ", \"offline_index\": %d}", offline[i]);
  }
  g_string_append(s, "\n  ]\n}\n");
  return s;
}

/* EOS of the video: the off-line alignment and its files. */
static gboolean finish_stream(GstLacAlign *self) {
  gchar *csv, *png;
  GST_OBJECT_LOCK(self);
  csv = g_strdup(self->alignment_location);
  png = g_strdup(self->plot_location);
  GST_OBJECT_UNLOCK(self);
  gboolean ok = TRUE;
  int n = align_tracker_n_frames(self->tracker);
  if ((csv || png) && n > 0) {
    int *offline = g_new(int, n);
    float *S = NULL, score = 0;
    lac_sw_step *steps = NULL;
    int n_steps = 0;
    lac_error err;
    lac_error_clear(&err);
    if (align_tracker_offline(self->tracker, offline, png ? &S : NULL, &steps, &n_steps, &score,
                              &err) != LAC_OK) {
      GST_ELEMENT_ERROR(self, LIBRARY, FAILED, ("Off-line alignment failed: %s", err.message),
                        (NULL));
      ok = FALSE;
    } else {
      GST_INFO_OBJECT(self, "off-line alignment of %d frames: score %g, %d steps", n, score,
                      n_steps);
      if (csv) ok = write_alignment(self, csv, offline, score);
      char *msg = NULL;
      if (ok && png &&
          !align_draw_plot(png, S, n, align_tracker_ref_len(self->tracker), steps, n_steps, &msg)) {
        GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE, ("Could not write the plot: %s", msg),
                          ("check plot-location"));
        g_free(msg);
        ok = FALSE;
      }
    }
    g_free(offline);
    g_free(S);
    g_free(steps);
  } else if (csv || png) {
    GST_ELEMENT_WARNING(self, STREAM, FORMAT,
                        ("No frame carried an embedding: no alignment written"), (NULL));
  }
  g_free(csv);
  g_free(png);
  return ok;
}

/* ---------------------------------------------------------------- aggregation */

static GstFlowReturn gst_lac_align_aggregate(GstAggregator *agg, gboolean timeout) {
  GstLacAlign *self = GST_LAC_ALIGN(agg);
  (void)timeout;

  if (!self->ref_ready) {
    GstAggregatorPad *rp = NULL;
    GST_OBJECT_LOCK(self);
    if (self->refpad) rp = gst_object_ref(self->refpad);
    GST_OBJECT_UNLOCK(self);
    if (!rp) {
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("The reference pad was released"),
                        ("set reference-location or keep the reference pad linked"));
      return GST_FLOW_ERROR;
    }
    GstFlowReturn fr = collect_reference(self, rp);
    gst_object_unref(rp);
    /* the video waits (its pad's queue blocks upstream) until the reference has ended */
    if (fr == GST_AGGREGATOR_FLOW_NEED_DATA) return GST_FLOW_OK;
    if (fr != GST_FLOW_OK) return fr;
  } else {
    /* a reference pad requested after the file was loaded, or more after its EOS: drained so
     * that its upstream never blocks */
    GstAggregatorPad *rp = NULL;
    GstBuffer *rb;
    GST_OBJECT_LOCK(self);
    if (self->refpad) rp = gst_object_ref(self->refpad);
    GST_OBJECT_UNLOCK(self);
    while (rp && (rb = gst_aggregator_pad_pop_buffer(rp))) gst_buffer_unref(rb);
    if (rp) gst_object_unref(rp);
  }

  GstBuffer *buf = gst_aggregator_pad_pop_buffer(self->sinkpad);
  if (!buf) {
    if (gst_aggregator_pad_is_eos(self->sinkpad)) {
      return finish_stream(self) ? GST_FLOW_EOS : GST_FLOW_ERROR;
    }
    return GST_FLOW_OK;
  }
  gst_aggregator_selected_samples(agg, GST_BUFFER_PTS(buf), GST_BUFFER_DTS(buf),
                                  GST_BUFFER_DURATION(buf), NULL);

  gboolean overlay, post, thumbnail;
  guint64 interval;
  GST_OBJECT_LOCK(self);
  overlay = self->overlay;
  thumbnail = self->thumbnail;
  post = self->post_messages;
  interval = self->message_interval;
  GST_OBJECT_UNLOCK(self);

  GstLacEmbeddingMeta *meta = gst_buffer_get_lac_embedding_meta(buf);
  if (!meta) {
    if (!self->warned_no_meta) {
      GST_ELEMENT_WARNING(self, STREAM, FORMAT,
                          ("Frames without an embedding: they pass through without alignment"),
                          ("put lacencoder before lacalign"));
      self->warned_no_meta = TRUE;
    }
  } else {
    if (!check_embedding(self, meta, "video")) {
      gst_buffer_unref(buf);
      return GST_FLOW_ERROR;
    }
    if (GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DISCONT))
      align_tracker_reset_window(self->tracker);
    AlignEstimate est;
    lac_error err;
    lac_error_clear(&err);
    if (align_tracker_push(self->tracker, meta->data, &est, &err) != LAC_OK) {
      GST_ELEMENT_ERROR(self, LIBRARY, FAILED, ("Alignment failed: %s", err.message), (NULL));
      gst_buffer_unref(buf);
      return GST_FLOW_ERROR;
    }
    GstClockTime pts = GST_BUFFER_PTS(buf);
    GstLacAlignRow row = {pts, est};
    if (self->keep_rows) g_array_append_val(self->rows, row);
    guint64 frame = self->n_frames++;
    if (post && (!self->posted_any || interval == 0 || !GST_CLOCK_TIME_IS_VALID(pts) ||
                 !GST_CLOCK_TIME_IS_VALID(self->last_message_pts) ||
                 pts >= self->last_message_pts + interval || pts < self->last_message_pts)) {
      post_message(self, pts, frame, &est);
      self->last_message_pts = pts;
      self->posted_any = TRUE;
    }
    if (overlay && self->have_info) buf = draw_overlay(self, buf, &est, thumbnail);
  }

  GstAggregatorPad *srcpad = GST_AGGREGATOR_PAD(agg->srcpad);
  if (GST_BUFFER_PTS_IS_VALID(buf))
    srcpad->segment.position = GST_BUFFER_PTS(buf) +
                               (GST_BUFFER_DURATION_IS_VALID(buf) ? GST_BUFFER_DURATION(buf) : 0);
  return gst_aggregator_finish_buffer(agg, buf);
}

static gboolean gst_lac_align_sink_event(GstAggregator *agg, GstAggregatorPad *pad,
                                         GstEvent *event) {
  GstLacAlign *self = GST_LAC_ALIGN(agg);
  if (pad == self->sinkpad) {
    switch (GST_EVENT_TYPE(event)) {
      case GST_EVENT_CAPS: {
        GstCaps *caps;
        gst_event_parse_caps(event, &caps);
        if (!gst_video_info_from_caps(&self->info, caps)) {
          GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Invalid video caps %" GST_PTR_FORMAT, caps),
                            (NULL));
          gst_event_unref(event);
          return FALSE;
        }
        self->have_info = TRUE;
        gst_caps_replace(&self->sink_caps, caps);
        gst_pad_mark_reconfigure(agg->srcpad);
        break;
      }
      case GST_EVENT_SEGMENT: {
        const GstSegment *seg;
        gst_event_parse_segment(event, &seg);
        gst_aggregator_update_segment(agg, seg);
        if (self->tracker) align_tracker_reset_window(self->tracker);
        break;
      }
      default:
        break;
    }
  } else if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
    /* the reference pad (serialized with its buffers) */
    GstCaps *caps;
    gst_event_parse_caps(event, &caps);
    set_reference_caps(self, caps);
  }
  return GST_AGGREGATOR_CLASS(parent_class)->sink_event(agg, pad, event);
}

static gboolean gst_lac_align_sink_query(GstAggregator *agg, GstAggregatorPad *pad,
                                         GstQuery *query) {
  GstLacAlign *self = GST_LAC_ALIGN(agg);
  gboolean is_video = pad == self->sinkpad;
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_CAPS: {
      GstCaps *filter, *templ = gst_pad_get_pad_template_caps(GST_PAD(pad)), *res;
      gst_query_parse_caps(query, &filter);
      if (is_video) {
        /* what downstream takes, within our formats */
        GstCaps *f = filter ? gst_caps_intersect_full(filter, templ, GST_CAPS_INTERSECT_FIRST)
                            : gst_caps_ref(templ);
        GstCaps *peer = gst_pad_peer_query_caps(agg->srcpad, f);
        res = gst_caps_intersect_full(peer, templ, GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref(peer);
        gst_caps_unref(f);
      } else {
        res = filter ? gst_caps_intersect_full(filter, templ, GST_CAPS_INTERSECT_FIRST)
                     : gst_caps_ref(templ);
      }
      gst_query_set_caps_result(query, res);
      gst_caps_unref(res);
      gst_caps_unref(templ);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS: {
      GstCaps *caps, *templ = gst_pad_get_pad_template_caps(GST_PAD(pad));
      gst_query_parse_accept_caps(query, &caps);
      gst_query_set_accept_caps_result(query, gst_caps_is_subset(caps, templ));
      gst_caps_unref(templ);
      return TRUE;
    }
    case GST_QUERY_ALLOCATION:
      if (!is_video) return FALSE;
      /* the video's buffers go downstream as they are: let downstream answer */
      return gst_pad_peer_query(agg->srcpad, query);
    default:
      return GST_AGGREGATOR_CLASS(parent_class)->sink_query(agg, pad, query);
  }
}

static GstFlowReturn gst_lac_align_update_src_caps(GstAggregator *agg, GstCaps *downstream,
                                                   GstCaps **ret) {
  GstLacAlign *self = GST_LAC_ALIGN(agg);
  if (!self->sink_caps) return GST_AGGREGATOR_FLOW_NEED_DATA;
  if (!gst_caps_can_intersect(downstream, self->sink_caps)) {
    GST_WARNING_OBJECT(self, "downstream does not take %" GST_PTR_FORMAT, self->sink_caps);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  *ret = gst_caps_ref(self->sink_caps);
  return GST_FLOW_OK;
}

static gboolean gst_lac_align_decide_allocation(GstAggregator *agg, GstQuery *query) {
  GstLacAlign *self = GST_LAC_ALIGN(agg);
  self->attach_overlay =
      gst_query_find_allocation_meta(query, GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
  GST_DEBUG_OBJECT(self, "downstream %s the overlay composition meta: %s",
                   self->attach_overlay ? "accepts" : "does not accept",
                   self->attach_overlay ? "attaching" : "blending");
  return TRUE;
}

static void reset_stream(GstLacAlign *self) {
  align_tracker_free(self->tracker);
  self->tracker = NULL;
  self->ref_ready = FALSE;
  gst_caps_replace(&self->sink_caps, NULL);
  self->have_info = FALSE;
  self->attach_overlay = FALSE;
  self->warned_no_meta = FALSE;
  self->last_message_pts = GST_CLOCK_TIME_NONE;
  self->posted_any = FALSE;
  self->n_frames = 0;
  g_array_set_size(self->rows, 0);
  g_clear_pointer(&self->thumbs, g_ptr_array_unref);
  g_clear_pointer(&self->thumb_conv, gst_video_converter_free);
  self->have_ref_info = FALSE;
}

static gboolean gst_lac_align_start(GstAggregator *agg) {
  GstLacAlign *self = GST_LAC_ALIGN(agg);
  reset_stream(self);
  AlignTrackerSettings s;
  gchar *loc;
  gboolean have_pad;
  GST_OBJECT_LOCK(self);
  s = self->settings;
  loc = g_strdup(self->reference_location);
  have_pad = self->refpad != NULL;
  /* the whole history only when a file at EOS needs it: live streams stay bounded */
  s.keep_history = self->alignment_location || self->plot_location;
  self->keep_rows = self->alignment_location != NULL;
  self->keep_thumbs = self->thumbnail && have_pad;
  GST_OBJECT_UNLOCK(self);
  lac_error err;
  lac_error_clear(&err);
  self->tracker = align_tracker_new(&s, &err);
  if (!self->tracker) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Invalid lacalign settings: %s", err.message),
                      (NULL));
    g_free(loc);
    return FALSE;
  }
  gboolean ok = TRUE;
  if (loc && have_pad) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                      ("Both reference-location and a reference pad are set"),
                      ("use one: unset reference-location or release the reference pad"));
    ok = FALSE;
  } else if (loc) {
    ok = load_reference_file(self, loc);
    self->ref_ready = ok;
  } else if (!have_pad) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No reference"),
                      ("set reference-location to an embeddings file, or link the reference pad"));
    ok = FALSE;
  }
  self->use_refpad = have_pad;
  g_free(loc);
  return ok;
}

static gboolean gst_lac_align_stop(GstAggregator *agg) {
  reset_stream(GST_LAC_ALIGN(agg));
  return TRUE;
}

static GstFlowReturn gst_lac_align_flush(GstAggregator *agg) {
  GstLacAlign *self = GST_LAC_ALIGN(agg);
  if (self->tracker) align_tracker_reset_window(self->tracker);
  GST_AGGREGATOR_PAD(agg->srcpad)->segment.position = GST_CLOCK_TIME_NONE;
  return GST_FLOW_OK;
}

static GstAggregatorPad *gst_lac_align_create_new_pad(GstAggregator *agg, GstPadTemplate *templ,
                                                      const gchar *req_name,
                                                      const GstCaps *caps) {
  GstLacAlign *self = GST_LAC_ALIGN(agg);
  (void)req_name;
  (void)caps;
  if (templ->direction != GST_PAD_SINK || templ->presence != GST_PAD_REQUEST ||
      strcmp(templ->name_template, "reference") != 0)
    return NULL;
  GST_OBJECT_LOCK(self);
  if (self->refpad) {
    GST_OBJECT_UNLOCK(self);
    GST_WARNING_OBJECT(self, "there is already a reference pad");
    return NULL;
  }
  GstAggregatorPad *pad = g_object_new(GST_TYPE_AGGREGATOR_PAD, "name", "reference", "direction",
                                       GST_PAD_SINK, "template", templ, NULL);
  self->refpad = gst_object_ref(pad);
  GST_OBJECT_UNLOCK(self);
  return pad;
}

static void gst_lac_align_release_pad(GstElement *element, GstPad *pad) {
  GstLacAlign *self = GST_LAC_ALIGN(element);
  GST_OBJECT_LOCK(self);
  if (pad == GST_PAD_CAST(self->refpad)) gst_clear_object(&self->refpad);
  GST_OBJECT_UNLOCK(self);
  GST_ELEMENT_CLASS(parent_class)->release_pad(element, pad);
}

/* ---------------------------------------------------------------- properties */

static void gst_lac_align_set_property(GObject *object, guint prop_id, const GValue *value,
                                       GParamSpec *pspec) {
  GstLacAlign *self = GST_LAC_ALIGN(object);
  GST_OBJECT_LOCK(self);
  AlignTrackerSettings *s = &self->settings;
  switch (prop_id) {
    case PROP_REFERENCE_LOCATION:
      g_free(self->reference_location);
      self->reference_location = g_value_dup_string(value);
      break;
    case PROP_WINDOW: s->window = (int)g_value_get_uint(value); break;
    case PROP_SIMILARITY: s->similarity = g_value_get_enum(value); break;
    case PROP_SIMILARITY_OFFSET: s->offset = g_value_get_float(value); break;
    case PROP_GAP_OPEN: s->gap_open = g_value_get_float(value); break;
    case PROP_GAP_EXTEND: s->gap_extend = g_value_get_float(value); break;
    case PROP_SOFTNESS: s->softness = g_value_get_float(value); break;
    case PROP_MIN_SCORE: s->min_score = g_value_get_float(value); break;
    case PROP_MIN_CONFIDENCE: s->min_confidence = g_value_get_float(value); break;
    case PROP_SMOOTHING: s->smoothing = g_value_get_float(value); break;
    case PROP_OVERLAY: self->overlay = g_value_get_boolean(value); break;
    case PROP_POST_MESSAGES: self->post_messages = g_value_get_boolean(value); break;
    case PROP_MESSAGE_INTERVAL: self->message_interval = g_value_get_uint64(value); break;
    case PROP_THUMBNAIL: self->thumbnail = g_value_get_boolean(value); break;
    case PROP_ALIGNMENT_LOCATION:
      g_free(self->alignment_location);
      self->alignment_location = g_value_dup_string(value);
      break;
    case PROP_PLOT_LOCATION:
      g_free(self->plot_location);
      self->plot_location = g_value_dup_string(value);
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_lac_align_get_property(GObject *object, guint prop_id, GValue *value,
                                       GParamSpec *pspec) {
  GstLacAlign *self = GST_LAC_ALIGN(object);
  GST_OBJECT_LOCK(self);
  const AlignTrackerSettings *s = &self->settings;
  switch (prop_id) {
    case PROP_REFERENCE_LOCATION: g_value_set_string(value, self->reference_location); break;
    case PROP_WINDOW: g_value_set_uint(value, (guint)s->window); break;
    case PROP_SIMILARITY: g_value_set_enum(value, s->similarity); break;
    case PROP_SIMILARITY_OFFSET: g_value_set_float(value, s->offset); break;
    case PROP_GAP_OPEN: g_value_set_float(value, s->gap_open); break;
    case PROP_GAP_EXTEND: g_value_set_float(value, s->gap_extend); break;
    case PROP_SOFTNESS: g_value_set_float(value, s->softness); break;
    case PROP_MIN_SCORE: g_value_set_float(value, s->min_score); break;
    case PROP_MIN_CONFIDENCE: g_value_set_float(value, s->min_confidence); break;
    case PROP_SMOOTHING: g_value_set_float(value, s->smoothing); break;
    case PROP_OVERLAY: g_value_set_boolean(value, self->overlay); break;
    case PROP_POST_MESSAGES: g_value_set_boolean(value, self->post_messages); break;
    case PROP_MESSAGE_INTERVAL: g_value_set_uint64(value, self->message_interval); break;
    case PROP_THUMBNAIL: g_value_set_boolean(value, self->thumbnail); break;
    case PROP_ALIGNMENT_LOCATION: g_value_set_string(value, self->alignment_location); break;
    case PROP_PLOT_LOCATION: g_value_set_string(value, self->plot_location); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_lac_align_finalize(GObject *object) {
  GstLacAlign *self = GST_LAC_ALIGN(object);
  reset_stream(self);
  g_array_unref(self->rows);
  gst_clear_object(&self->refpad);
  g_free(self->reference_location);
  g_free(self->alignment_location);
  g_free(self->plot_location);
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_lac_align_init(GstLacAlign *self) {
  GstPadTemplate *templ =
      gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "sink");
  self->sinkpad = GST_AGGREGATOR_PAD(
      g_object_new(GST_TYPE_AGGREGATOR_PAD, "name", "sink", "direction", GST_PAD_SINK,
                   "template", templ, NULL));
  gst_element_add_pad(GST_ELEMENT(self), GST_PAD(self->sinkpad));
  align_tracker_default_settings(&self->settings);
  self->overlay = TRUE;
  self->post_messages = TRUE;
  self->message_interval = 0;
  self->thumbnail = TRUE;
  self->rows = g_array_new(FALSE, FALSE, sizeof(GstLacAlignRow));
  self->last_message_pts = GST_CLOCK_TIME_NONE;
}

#define RW (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)
#define RW_READY (RW | GST_PARAM_MUTABLE_READY)
#define RW_PLAYING (RW | GST_PARAM_MUTABLE_PLAYING)

static void gst_lac_align_class_init(GstLacAlignClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstAggregatorClass *agg_class = GST_AGGREGATOR_CLASS(klass);
  AlignTrackerSettings d;
  align_tracker_default_settings(&d);

  GST_DEBUG_CATEGORY_INIT(gst_lac_align_debug, "lacalign", 0,
                          "aligns LAC embeddings against a reference");

  gobject_class->set_property = gst_lac_align_set_property;
  gobject_class->get_property = gst_lac_align_get_property;
  gobject_class->finalize = gst_lac_align_finalize;

  g_object_class_install_property(
      gobject_class, PROP_REFERENCE_LOCATION,
      g_param_spec_string("reference-location", "Reference location",
                          "Embeddings file of the reference action (lac embed, lacencoder "
                          "embeddings-location); its labels are phase indices.  Leave unset "
                          "when the reference pad is used",
                          NULL, RW_READY));
  g_object_class_install_property(
      gobject_class, PROP_WINDOW,
      g_param_spec_uint("window", "Window", "Recent stream frames aligned for each estimate", 1,
                        4096, (guint)d.window, RW_READY));
  g_object_class_install_property(
      gobject_class, PROP_SIMILARITY,
      g_param_spec_enum("similarity", "Similarity", "Similarity of two embeddings",
                        gst_lac_align_similarity_get_type(), d.similarity, RW_READY));
  g_object_class_install_property(
      gobject_class, PROP_SIMILARITY_OFFSET,
      g_param_spec_float("similarity-offset", "Similarity offset",
                         "Subtracted from every similarity: pairs less similar than this count "
                         "against an alignment, and a frame less similar than this to its match "
                         "has no match",
                         -G_MAXFLOAT, G_MAXFLOAT, d.offset, RW_READY));
  g_object_class_install_property(
      gobject_class, PROP_GAP_OPEN,
      g_param_spec_float("gap-open", "Gap open", "Penalty for opening a gap", 0, G_MAXFLOAT,
                         d.gap_open, RW_READY));
  g_object_class_install_property(
      gobject_class, PROP_GAP_EXTEND,
      g_param_spec_float("gap-extend", "Gap extend", "Penalty for extending a gap", 0,
                         G_MAXFLOAT, d.gap_extend, RW_READY));
  g_object_class_install_property(
      gobject_class, PROP_SOFTNESS,
      g_param_spec_float("softness", "Softness",
                         "Temperature of the soft alignment whose match probabilities give the "
                         "confidence",
                         1e-4f, 100.f, d.softness, RW_READY));
  g_object_class_install_property(
      gobject_class, PROP_MIN_SCORE,
      g_param_spec_float("min-score", "Minimum score",
                         "Scores of the best local alignment ending at the current frame below "
                         "this report no match",
                         -G_MAXFLOAT,
                         G_MAXFLOAT, d.min_score, RW_READY));
  g_object_class_install_property(
      gobject_class, PROP_MIN_CONFIDENCE,
      g_param_spec_float("min-confidence", "Minimum confidence",
                         "Confidences (soft match probability mass near the current frame's "
                         "match, over the alignments that end at it) below this report no match",
                         0, 1, d.min_confidence, RW_READY));
  g_object_class_install_property(
      gobject_class, PROP_SMOOTHING,
      g_param_spec_float("smoothing", "Smoothing",
                         "Exponential smoothing of the matched index (0: none); it restarts "
                         "when the index jumps",
                         0, 0.99f, d.smoothing, RW_READY));
  g_object_class_install_property(
      gobject_class, PROP_OVERLAY,
      g_param_spec_boolean("overlay", "Overlay", "Draw progress, phase and score over the video",
                           TRUE, RW_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean("post-messages", "Post messages",
                           "Post lac-alignment element messages", TRUE, RW_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_MESSAGE_INTERVAL,
      g_param_spec_uint64("message-interval", "Message interval",
                          "At most one message per this many nanoseconds of stream time (0: "
                          "every frame)",
                          0, G_MAXUINT64, 0, RW_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_ALIGNMENT_LOCATION,
      g_param_spec_string("alignment-location", "Alignment location",
                          "File written at EOS: on-line and off-line match of every frame; "
                          "JSON when the name ends in .json, CSV otherwise",
                          NULL, RW_READY));
  g_object_class_install_property(
      gobject_class, PROP_PLOT_LOCATION,
      g_param_spec_string("plot-location", "Plot location",
                          "PNG written at EOS: similarity matrix with the off-line alignment "
                          "path",
                          NULL, RW_READY));

  g_object_class_install_property(
      gobject_class, PROP_THUMBNAIL,
      g_param_spec_boolean("thumbnail", "Thumbnail",
                           "When the reference pad carries raw video: keep a thumbnail (64 rows, "
                           "at most 64 KiB) of every reference frame and draw the matched one in "
                           "the overlay's top right corner.  Read at start for keeping, at each "
                           "frame for drawing",
                           TRUE, RW_PLAYING));
  gst_element_class_add_static_pad_template_with_gtype(element_class, &sink_template,
                                                       GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_add_static_pad_template_with_gtype(element_class, &reference_template,
                                                       GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_add_static_pad_template_with_gtype(element_class, &src_template,
                                                       GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_set_static_metadata(
      element_class, "LAC alignment", "Filter/Analyzer/Video",
      "Aligns a video's LAC embeddings against a reference: progress, phase, score as overlay, "
      "messages and files",
      "lac");

  element_class->release_pad = GST_DEBUG_FUNCPTR(gst_lac_align_release_pad);
  agg_class->aggregate = GST_DEBUG_FUNCPTR(gst_lac_align_aggregate);
  agg_class->sink_event = GST_DEBUG_FUNCPTR(gst_lac_align_sink_event);
  agg_class->sink_query = GST_DEBUG_FUNCPTR(gst_lac_align_sink_query);
  agg_class->update_src_caps = GST_DEBUG_FUNCPTR(gst_lac_align_update_src_caps);
  agg_class->decide_allocation = GST_DEBUG_FUNCPTR(gst_lac_align_decide_allocation);
  agg_class->start = GST_DEBUG_FUNCPTR(gst_lac_align_start);
  agg_class->stop = GST_DEBUG_FUNCPTR(gst_lac_align_stop);
  agg_class->flush = GST_DEBUG_FUNCPTR(gst_lac_align_flush);
  agg_class->create_new_pad = GST_DEBUG_FUNCPTR(gst_lac_align_create_new_pad);

  gst_type_mark_as_plugin_api(gst_lac_align_similarity_get_type(), 0);
}
