/* gstlacsynthsrc.c — the lacsynthsrc element: a GstPushSrc that plays procedural,
 * phase-labelled action videos rendered by lac's synth library (include/lac/synth.h), one
 * GstLacPhaseMeta per buffer, an element message at the start of each video.
 *
 * The library renders any frame on demand, so the source seeks exactly (to the frame at or
 * after the seek position) and negotiates any size; formats other than RGB go through a
 * GstVideoConverter from an RGB scratch frame.
 * Not here: rendering (lib/synth), the meta's definition (gst-libs/gst/lac).
 */

/**
 * SECTION:element-lacsynthsrc
 * @title: lacsynthsrc
 *
 * Plays videos of an action — pouring into a glass, jumping jacks or squats — drawn
 * procedurally with seeded variation of looks, camera and tempo, optionally with an
 * unlabelled distractor segment.  Every buffer carries a #GstLacPhaseMeta with the frame's
 * phase (-1 in distractor segments), and the element posts a `lac-synth-video` element
 * message when a video starts (fields: action, seed, video-index, n-frames, n-phases,
 * phase-names, repetitions, distractor, width, height, timestamp).
 *
 * The video ends with EOS after its last frame; with #GstLacSynthSrc:loop the next video
 * (seed + 1, seed + 2, ...) follows without a gap, its first buffer marked DISCONT.
 * Settings changed while playing apply from the next video on.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 lacsynthsrc action=pour seed=3 ! videoconvert ! autovideosink
 * gst-launch-1.0 lacsynthsrc action=jumping-jacks repetitions=4 distractor=inside ! \
 *     video/x-raw,width=224,height=224 ! videoconvert ! vp8enc ! webmmux ! \
 *     filesink location=jacks.webm
 * ]|
 */
#include "gstlacsynthsrc.h"

#include <gst/lac/lacmeta.h>

GST_DEBUG_CATEGORY_STATIC(gst_lac_synth_src_debug);
#define GST_CAT_DEFAULT gst_lac_synth_src_debug

enum {
  PROP_0,
  PROP_ACTION,
  PROP_SEED,
  PROP_DISTRACTOR,
  PROP_TEMPO_VARIATION,
  PROP_APPEARANCE_VARIATION,
  PROP_CAMERA_VARIATION,
  PROP_REPETITIONS,
  PROP_BASE_FRAMES,
  PROP_LOOP,
  PROP_IS_LIVE,
};

#define FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, I420, NV12 }"

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/x-raw, format = (string) " FORMATS
                    ", width = (int) [ 32, 8192 ], height = (int) [ 32, 8192 ], "
                    "framerate = (fraction) [ 1/1000, 1000/1 ], "
                    "pixel-aspect-ratio = (fraction) 1/1"));

#define gst_lac_synth_src_parent_class parent_class
G_DEFINE_TYPE(GstLacSynthSrc, gst_lac_synth_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE(lacsynthsrc, "lacsynthsrc", GST_RANK_NONE, GST_TYPE_LAC_SYNTH_SRC);

GType gst_lac_synth_action_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {LAC_SYNTH_POUR, "Pour into a glass (5 phases)", "pour"},
      {LAC_SYNTH_JUMPING_JACKS, "Jumping jacks (4 phases per cycle)", "jumping-jacks"},
      {LAC_SYNTH_SQUAT, "Squats (4 phases per cycle)", "squat"},
      {0, NULL, NULL}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstLacSynthAction", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

GType gst_lac_synth_distractor_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {LAC_SYNTH_DISTRACT_NONE, "No distractor", "none"},
      {LAC_SYNTH_DISTRACT_BEFORE, "Before the action", "before"},
      {LAC_SYNTH_DISTRACT_INSIDE, "Between two phases of the action", "inside"},
      {LAC_SYNTH_DISTRACT_AFTER, "After the action", "after"},
      {LAC_SYNTH_DISTRACT_RANDOM, "One of none, before, inside, after, by seed", "random"},
      {0, NULL, NULL}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstLacSynthDistractor", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

/* ---------------------------------------------------------------- videos */

/* Settings of the next video, from the properties (takes the object lock). */
static lac_synth_params current_params(GstLacSynthSrc *self, int width, int height) {
  lac_synth_params p = lac_synth_default_params();
  GST_OBJECT_LOCK(self);
  p.action = self->action;
  p.seed = self->seed + self->video_index; /* wraps around, as the seed is any uint64 */
  p.distractor = self->distractor;
  p.tempo_variation = self->tempo_variation;
  p.appearance_variation = self->appearance_variation;
  p.camera_variation = self->camera_variation;
  p.repetitions = self->repetitions;
  p.base_frames = self->base_frames;
  GST_OBJECT_UNLOCK(self);
  p.width = width;
  p.height = height;
  return p;
}

static gboolean make_video(GstLacSynthSrc *self) {
  lac_synth_params p =
      current_params(self, GST_VIDEO_INFO_WIDTH(&self->info), GST_VIDEO_INFO_HEIGHT(&self->info));
  lac_error err;
  lac_synth *s = NULL;
  lac_error_clear(&err);
  if (lac_synth_new(&p, &s, &err) != LAC_OK) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Invalid lacsynthsrc settings: %s", err.message),
                      ("video %" G_GUINT64_FORMAT, self->video_index));
    return FALSE;
  }
  lac_synth_free(self->synth);
  self->synth = s;
  GST_DEBUG_OBJECT(
      self,
      "video %" G_GUINT64_FORMAT ": %s seed %" G_GUINT64_FORMAT ", %" G_GINT64_FORMAT " frames",
      self->video_index, lac_synth_action_name(p.action), p.seed, lac_synth_n_frames(s));
  return TRUE;
}

static void post_video_message(GstLacSynthSrc *self, GstClockTime pts) {
  const lac_synth *s = self->synth;
  const lac_synth_params *p = lac_synth_get_params(s);
  int K = lac_synth_n_phases(s);
  GstStructure *st = gst_structure_new(
      "lac-synth-video", "action", G_TYPE_STRING, lac_synth_action_name(p->action), "seed",
      G_TYPE_UINT64, p->seed, "video-index", G_TYPE_UINT64, self->video_index, "n-frames",
      G_TYPE_INT64, lac_synth_n_frames(s), "n-phases", G_TYPE_INT, K, "repetitions", G_TYPE_INT,
      p->action == LAC_SYNTH_POUR ? 1 : p->repetitions, "distractor", G_TYPE_STRING,
      lac_synth_distractor_name(lac_synth_distractor_placement(s)), "width", G_TYPE_INT, p->width,
      "height", G_TYPE_INT, p->height, "timestamp", G_TYPE_UINT64, (guint64)pts, NULL);
  GValue names = G_VALUE_INIT;
  gst_value_array_init(&names, (guint)K);
  for (int k = 0; k < K; k++) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, G_TYPE_STRING);
    g_value_set_static_string(&v, lac_synth_phase_name(s, k));
    gst_value_array_append_and_take_value(&names, &v);
  }
  gst_structure_take_value(st, "phase-names", &names);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), st));
}

/* ---------------------------------------------------------------- GstBaseSrc */

static gboolean gst_lac_synth_src_start(GstBaseSrc *bsrc) {
  GstLacSynthSrc *self = GST_LAC_SYNTH_SRC(bsrc);
  /* refuse settings the library refuses now, rather than at the first buffer */
  lac_synth_params p = current_params(self, 112, 112);
  lac_synth *s = NULL;
  lac_error err;
  lac_error_clear(&err);
  if (lac_synth_new(&p, &s, &err) != LAC_OK) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Invalid lacsynthsrc settings: %s", err.message),
                      (NULL));
    return FALSE;
  }
  lac_synth_free(s);
  self->video_index = 0;
  self->frame = 0;
  self->n_out = 0;
  self->ts_offset = 0;
  self->seek_pending = FALSE;
  self->discont_next = FALSE;
  return TRUE;
}

static gboolean gst_lac_synth_src_stop(GstBaseSrc *bsrc) {
  GstLacSynthSrc *self = GST_LAC_SYNTH_SRC(bsrc);
  lac_synth_free(self->synth);
  self->synth = NULL;
  if (self->convert) gst_video_converter_free(self->convert);
  self->convert = NULL;
  gst_clear_buffer(&self->rgb);
  self->have_info = FALSE;
  return TRUE;
}

static GstCaps *gst_lac_synth_src_fixate(GstBaseSrc *bsrc, GstCaps *caps) {
  caps = gst_caps_make_writable(caps);
  caps = gst_caps_truncate(caps);
  GstStructure *st = gst_caps_get_structure(caps, 0);
  gst_structure_fixate_field_string(st, "format", "RGB"); /* the renderer's own format */
  gst_structure_fixate_field_nearest_int(st, "width", 112);
  gst_structure_fixate_field_nearest_int(st, "height", 112);
  gst_structure_fixate_field_nearest_fraction(st, "framerate", 25, 1);
  return GST_BASE_SRC_CLASS(parent_class)->fixate(bsrc, caps);
}

static gboolean gst_lac_synth_src_set_caps(GstBaseSrc *bsrc, GstCaps *caps) {
  GstLacSynthSrc *self = GST_LAC_SYNTH_SRC(bsrc);
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps) || GST_VIDEO_INFO_FPS_N(&info) <= 0) {
    GST_ERROR_OBJECT(self, "cannot use caps %" GST_PTR_FORMAT, caps);
    return FALSE;
  }
  if (self->convert) gst_video_converter_free(self->convert);
  self->convert = NULL;
  gst_clear_buffer(&self->rgb);
  if (GST_VIDEO_INFO_FORMAT(&info) != GST_VIDEO_FORMAT_RGB) {
    gst_video_info_set_format(&self->rgb_info, GST_VIDEO_FORMAT_RGB, GST_VIDEO_INFO_WIDTH(&info),
                              GST_VIDEO_INFO_HEIGHT(&info));
    GST_VIDEO_INFO_FPS_N(&self->rgb_info) = GST_VIDEO_INFO_FPS_N(&info);
    GST_VIDEO_INFO_FPS_D(&self->rgb_info) = GST_VIDEO_INFO_FPS_D(&info);
    GST_VIDEO_INFO_PAR_N(&self->rgb_info) = GST_VIDEO_INFO_PAR_N(&info);
    GST_VIDEO_INFO_PAR_D(&self->rgb_info) = GST_VIDEO_INFO_PAR_D(&info);
    self->convert = gst_video_converter_new(&self->rgb_info, &info, NULL);
    self->rgb = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&self->rgb_info), NULL);
    if (!self->convert || !self->rgb) {
      GST_ERROR_OBJECT(self, "cannot convert RGB to %s",
                       gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info)));
      return FALSE;
    }
  }
  self->info = info;
  self->have_info = TRUE;
  /* the next buffer renders at the new size, same video, same frame */
  lac_synth_free(self->synth);
  self->synth = NULL;
  GST_DEBUG_OBJECT(self, "caps %" GST_PTR_FORMAT, caps);
  return TRUE;
}

static gboolean gst_lac_synth_src_decide_allocation(GstBaseSrc *bsrc, GstQuery *query) {
  GstCaps *caps = NULL;
  GstVideoInfo info;
  GstBufferPool *pool = NULL;
  guint size = 0, min = 0, max = 0;
  gst_query_parse_allocation(query, &caps, NULL);
  if (!caps || !gst_video_info_from_caps(&info, caps)) return FALSE;
  gboolean update = gst_query_get_n_allocation_pools(query) > 0;
  if (update) gst_query_parse_nth_allocation_pool(query, 0, &pool, &size, &min, &max);
  size = MAX(size, (guint)GST_VIDEO_INFO_SIZE(&info));
  if (!pool) pool = gst_video_buffer_pool_new();
  GstStructure *config = gst_buffer_pool_get_config(pool);
  gst_buffer_pool_config_set_params(config, caps, size, min, max);
  if (gst_query_find_allocation_meta(query, GST_VIDEO_META_API_TYPE, NULL))
    gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (!gst_buffer_pool_set_config(pool, config)) {
    /* the pool changed the configuration: take it if it still fits */
    config = gst_buffer_pool_get_config(pool);
    gboolean ok = gst_buffer_pool_config_validate_params(config, caps, size, min, max) &&
                  gst_buffer_pool_set_config(pool, config);
    if (!ok) {
      gst_object_unref(pool);
      pool = gst_video_buffer_pool_new();
      config = gst_buffer_pool_get_config(pool);
      gst_buffer_pool_config_set_params(config, caps, size, min, max);
      gst_buffer_pool_set_config(pool, config);
    }
  }
  if (update)
    gst_query_set_nth_allocation_pool(query, 0, pool, size, min, max);
  else
    gst_query_add_allocation_pool(query, pool, size, min, max);
  gst_object_unref(pool);
  return GST_BASE_SRC_CLASS(parent_class)->decide_allocation(bsrc, query);
}

static gboolean gst_lac_synth_src_is_seekable(GstBaseSrc *bsrc) {
  GstLacSynthSrc *self = GST_LAC_SYNTH_SRC(bsrc);
  GST_OBJECT_LOCK(self);
  gboolean loop = self->loop;
  GST_OBJECT_UNLOCK(self);
  return !loop; /* one video: any frame on demand */
}

static gboolean gst_lac_synth_src_do_seek(GstBaseSrc *bsrc, GstSegment *segment) {
  GstLacSynthSrc *self = GST_LAC_SYNTH_SRC(bsrc);
  if (segment->rate < 0) {
    GST_WARNING_OBJECT(self, "reverse playback is not supported");
    return FALSE;
  }
  segment->time = segment->start;
  self->seek_time = segment->position;
  self->seek_pending = TRUE;
  return TRUE;
}

static GstClockTime frame_time(const GstLacSynthSrc *self, guint64 n) {
  return gst_util_uint64_scale(n, (guint64)GST_VIDEO_INFO_FPS_D(&self->info) * GST_SECOND,
                               (guint64)GST_VIDEO_INFO_FPS_N(&self->info));
}

static gboolean gst_lac_synth_src_query(GstBaseSrc *bsrc, GstQuery *query) {
  GstLacSynthSrc *self = GST_LAC_SYNTH_SRC(bsrc);
  switch (GST_QUERY_TYPE(query)) {
  case GST_QUERY_LATENCY: {
    if (!self->have_info) break;
    gboolean live = gst_base_src_is_live(bsrc);
    GstClockTime lat = live ? frame_time(self, 1) : 0;
    gst_query_set_latency(query, live, lat, lat);
    return TRUE;
  }
  case GST_QUERY_DURATION: {
    GstFormat fmt;
    gst_query_parse_duration(query, &fmt, NULL);
    if (fmt != GST_FORMAT_TIME || !self->have_info) break;
    GST_OBJECT_LOCK(self);
    gboolean loop = self->loop;
    GST_OBJECT_UNLOCK(self);
    if (loop) {
      gst_query_set_duration(query, fmt, GST_CLOCK_TIME_NONE);
      return TRUE;
    }
    /* the length of the current video (the first one until the stream starts) */
    lac_synth_params p = current_params(self, GST_VIDEO_INFO_WIDTH(&self->info),
                                        GST_VIDEO_INFO_HEIGHT(&self->info));
    lac_synth *s = NULL;
    if (lac_synth_new(&p, &s, NULL) != LAC_OK) break;
    gst_query_set_duration(query, fmt, frame_time(self, (guint64)lac_synth_n_frames(s)));
    lac_synth_free(s);
    return TRUE;
  }
  default:
    break;
  }
  return GST_BASE_SRC_CLASS(parent_class)->query(bsrc, query);
}

static void gst_lac_synth_src_get_times(GstBaseSrc *bsrc, GstBuffer *buf, GstClockTime *start,
                                        GstClockTime *end) {
  /* a live source waits for each buffer's time on the clock */
  if (gst_base_src_is_live(bsrc) && GST_BUFFER_PTS_IS_VALID(buf)) {
    *start = GST_BUFFER_PTS(buf);
    *end =
        GST_BUFFER_DURATION_IS_VALID(buf) ? *start + GST_BUFFER_DURATION(buf) : GST_CLOCK_TIME_NONE;
  } else {
    *start = *end = GST_CLOCK_TIME_NONE;
  }
}

/* ---------------------------------------------------------------- GstPushSrc */

static gboolean render(GstLacSynthSrc *self, GstBuffer *buf) {
  GstVideoFrame out;
  lac_error err;
  lac_error_clear(&err);
  if (!gst_video_frame_map(&out, &self->info, buf, GST_MAP_WRITE)) {
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("Could not map the output buffer"), (NULL));
    return FALSE;
  }
  lac_status st;
  if (!self->convert) {
    st = lac_synth_render(self->synth, self->frame, GST_VIDEO_FRAME_PLANE_DATA(&out, 0),
                          (size_t)GST_VIDEO_FRAME_PLANE_STRIDE(&out, 0), &err);
  } else {
    GstVideoFrame in;
    if (!gst_video_frame_map(&in, &self->rgb_info, self->rgb, GST_MAP_READWRITE)) {
      gst_video_frame_unmap(&out);
      GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("Could not map the scratch frame"), (NULL));
      return FALSE;
    }
    st = lac_synth_render(self->synth, self->frame, GST_VIDEO_FRAME_PLANE_DATA(&in, 0),
                          (size_t)GST_VIDEO_FRAME_PLANE_STRIDE(&in, 0), &err);
    if (st == LAC_OK) gst_video_converter_frame(self->convert, &in, &out);
    gst_video_frame_unmap(&in);
  }
  gst_video_frame_unmap(&out);
  if (st != LAC_OK) {
    GST_ELEMENT_ERROR(self, LIBRARY, FAILED, ("Rendering failed: %s", err.message), (NULL));
    return FALSE;
  }
  return TRUE;
}

static GstFlowReturn gst_lac_synth_src_fill(GstPushSrc *psrc, GstBuffer *buf) {
  GstLacSynthSrc *self = GST_LAC_SYNTH_SRC(psrc);
  if (!self->have_info) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (NULL), ("format was not negotiated"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (!self->synth && !make_video(self)) return GST_FLOW_ERROR;
  if (self->seek_pending) {
    /* the first frame at or after the position; timestamps are the frames' own */
    guint64 f =
        gst_util_uint64_scale_ceil(self->seek_time, (guint64)GST_VIDEO_INFO_FPS_N(&self->info),
                                   (guint64)GST_VIDEO_INFO_FPS_D(&self->info) * GST_SECOND);
    self->seek_pending = FALSE;
    self->frame = (gint64)MIN(f, (guint64)G_MAXINT64);
    self->n_out = f;
    self->ts_offset = 0;
  }
  if (self->frame >= lac_synth_n_frames(self->synth)) {
    GST_OBJECT_LOCK(self);
    gboolean loop = self->loop;
    GST_OBJECT_UNLOCK(self);
    if (!loop) {
      GST_DEBUG_OBJECT(self, "end of the video: EOS");
      return GST_FLOW_EOS;
    }
    self->video_index++;
    if (!make_video(self)) return GST_FLOW_ERROR;
    self->frame = 0;
    self->discont_next = TRUE;
  }

  GstClockTime pts = self->ts_offset + frame_time(self, self->n_out);
  GstClockTime next = self->ts_offset + frame_time(self, self->n_out + 1);
  if (self->frame == 0) post_video_message(self, pts);
  if (!render(self, buf)) return GST_FLOW_ERROR;

  GST_BUFFER_PTS(buf) = pts;
  GST_BUFFER_DTS(buf) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(buf) = next - pts;
  GST_BUFFER_OFFSET(buf) = self->n_out;
  GST_BUFFER_OFFSET_END(buf) = self->n_out + 1;
  if (self->discont_next) {
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
    self->discont_next = FALSE;
  }
  const lac_synth *s = self->synth;
  int32_t label = lac_synth_label(s, self->frame);
  gst_buffer_add_lac_phase_meta(buf, lac_synth_action_name(lac_synth_get_params(s)->action), label,
                                (guint)lac_synth_n_phases(s), lac_synth_phase_name(s, label),
                                lac_synth_repetition(s, self->frame), self->video_index,
                                (guint64)self->frame);
  self->frame++;
  self->n_out++;
  return GST_FLOW_OK;
}

/* ---------------------------------------------------------------- GObject */

static void gst_lac_synth_src_set_property(GObject *object, guint prop_id, const GValue *value,
                                           GParamSpec *pspec) {
  GstLacSynthSrc *self = GST_LAC_SYNTH_SRC(object);
  if (prop_id == PROP_IS_LIVE) {
    gst_base_src_set_live(GST_BASE_SRC(self), g_value_get_boolean(value));
    return;
  }
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
  case PROP_ACTION: self->action = (lac_synth_action)g_value_get_enum(value); break;
  case PROP_SEED: self->seed = g_value_get_uint64(value); break;
  case PROP_DISTRACTOR: self->distractor = (lac_synth_distractor)g_value_get_enum(value); break;
  case PROP_TEMPO_VARIATION: self->tempo_variation = g_value_get_double(value); break;
  case PROP_APPEARANCE_VARIATION: self->appearance_variation = g_value_get_double(value); break;
  case PROP_CAMERA_VARIATION: self->camera_variation = g_value_get_double(value); break;
  case PROP_REPETITIONS: self->repetitions = g_value_get_int(value); break;
  case PROP_BASE_FRAMES: self->base_frames = g_value_get_int(value); break;
  case PROP_LOOP: self->loop = g_value_get_boolean(value); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_lac_synth_src_get_property(GObject *object, guint prop_id, GValue *value,
                                           GParamSpec *pspec) {
  GstLacSynthSrc *self = GST_LAC_SYNTH_SRC(object);
  if (prop_id == PROP_IS_LIVE) {
    g_value_set_boolean(value, gst_base_src_is_live(GST_BASE_SRC(self)));
    return;
  }
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
  case PROP_ACTION: g_value_set_enum(value, (gint)self->action); break;
  case PROP_SEED: g_value_set_uint64(value, self->seed); break;
  case PROP_DISTRACTOR: g_value_set_enum(value, (gint)self->distractor); break;
  case PROP_TEMPO_VARIATION: g_value_set_double(value, self->tempo_variation); break;
  case PROP_APPEARANCE_VARIATION: g_value_set_double(value, self->appearance_variation); break;
  case PROP_CAMERA_VARIATION: g_value_set_double(value, self->camera_variation); break;
  case PROP_REPETITIONS: g_value_set_int(value, self->repetitions); break;
  case PROP_BASE_FRAMES: g_value_set_int(value, self->base_frames); break;
  case PROP_LOOP: g_value_set_boolean(value, self->loop); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_lac_synth_src_finalize(GObject *object) {
  GstLacSynthSrc *self = GST_LAC_SYNTH_SRC(object);
  lac_synth_free(self->synth);
  if (self->convert) gst_video_converter_free(self->convert);
  gst_clear_buffer(&self->rgb);
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_lac_synth_src_class_init(GstLacSynthSrcClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSrcClass *bsrc_class = GST_BASE_SRC_CLASS(klass);
  GstPushSrcClass *psrc_class = GST_PUSH_SRC_CLASS(klass);
  const lac_synth_params d = lac_synth_default_params();
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  /* synth settings may change while playing: they apply from the next video on */
  const GParamFlags next = rw | GST_PARAM_MUTABLE_PLAYING;

  gobject_class->set_property = gst_lac_synth_src_set_property;
  gobject_class->get_property = gst_lac_synth_src_get_property;
  gobject_class->finalize = gst_lac_synth_src_finalize;

  g_object_class_install_property(
      gobject_class, PROP_ACTION,
      g_param_spec_enum("action", "Action", "The action the videos show",
                        GST_TYPE_LAC_SYNTH_ACTION, d.action, next));
  g_object_class_install_property(
      gobject_class, PROP_SEED,
      g_param_spec_uint64("seed", "Seed",
                          "Seed of the first video; every seeded choice (look, camera, tempo, "
                          "distractor) derives from it; looped videos use seed + 1, seed + 2, ...",
                          0, G_MAXUINT64, d.seed, next));
  g_object_class_install_property(
      gobject_class, PROP_DISTRACTOR,
      g_param_spec_enum("distractor", "Distractor",
                        "Where an unlabelled segment of unrelated motion goes (phase -1)",
                        GST_TYPE_LAC_SYNTH_DISTRACTOR, d.distractor, next));
  g_object_class_install_property(
      gobject_class, PROP_TEMPO_VARIATION,
      g_param_spec_double("tempo-variation", "Tempo variation",
                          "How much phase durations, overall speed and pauses vary (0 = nominal)",
                          0.0, 1.0, d.tempo_variation, next));
  g_object_class_install_property(
      gobject_class, PROP_APPEARANCE_VARIATION,
      g_param_spec_double("appearance-variation", "Appearance variation",
                          "How much colours, sizes, background texture and lighting vary "
                          "(0 = the canonical look)",
                          0.0, 1.0, d.appearance_variation, next));
  g_object_class_install_property(
      gobject_class, PROP_CAMERA_VARIATION,
      g_param_spec_double("camera-variation", "Camera variation",
                          "How much the camera's offset, zoom, pan and jitter vary (0 = still)",
                          0.0, 1.0, d.camera_variation, next));
  g_object_class_install_property(
      gobject_class, PROP_REPETITIONS,
      g_param_spec_int("repetitions", "Repetitions",
                       "Cycles of a periodic action (jumping-jacks, squat); pour ignores it", 1,
                       64, d.repetitions, next));
  g_object_class_install_property(
      gobject_class, PROP_BASE_FRAMES,
      g_param_spec_int("base-frames", "Base frames",
                       "Nominal length of the whole action in frames (all repetitions), before "
                       "tempo variation; at least 2 per phase and repetition",
                       8, 100000, d.base_frames, next));
  g_object_class_install_property(
      gobject_class, PROP_LOOP,
      g_param_spec_boolean("loop", "Loop",
                           "After a video, play the next one (next seed) instead of EOS", FALSE,
                           rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_IS_LIVE,
      g_param_spec_boolean("is-live", "Is live",
                           "Act as a live source: produce frames at the clock's pace", FALSE,
                           rw | GST_PARAM_MUTABLE_READY));

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "LAC synthetic action source", "Source/Video",
      "Procedural phase-labelled action videos (pour, jumping jacks, squats) with a phase "
      "label meta on every frame",
      "lac developers");

  bsrc_class->start = GST_DEBUG_FUNCPTR(gst_lac_synth_src_start);
  bsrc_class->stop = GST_DEBUG_FUNCPTR(gst_lac_synth_src_stop);
  bsrc_class->fixate = GST_DEBUG_FUNCPTR(gst_lac_synth_src_fixate);
  bsrc_class->set_caps = GST_DEBUG_FUNCPTR(gst_lac_synth_src_set_caps);
  bsrc_class->decide_allocation = GST_DEBUG_FUNCPTR(gst_lac_synth_src_decide_allocation);
  bsrc_class->is_seekable = GST_DEBUG_FUNCPTR(gst_lac_synth_src_is_seekable);
  bsrc_class->do_seek = GST_DEBUG_FUNCPTR(gst_lac_synth_src_do_seek);
  bsrc_class->query = GST_DEBUG_FUNCPTR(gst_lac_synth_src_query);
  bsrc_class->get_times = GST_DEBUG_FUNCPTR(gst_lac_synth_src_get_times);
  psrc_class->fill = GST_DEBUG_FUNCPTR(gst_lac_synth_src_fill);

  GST_DEBUG_CATEGORY_INIT(gst_lac_synth_src_debug, "lacsynthsrc", 0,
                          "LAC synthetic action source");
  gst_type_mark_as_plugin_api(GST_TYPE_LAC_SYNTH_ACTION, 0);
  gst_type_mark_as_plugin_api(GST_TYPE_LAC_SYNTH_DISTRACTOR, 0);
}

static void gst_lac_synth_src_init(GstLacSynthSrc *self) {
  const lac_synth_params d = lac_synth_default_params();
  self->action = d.action;
  self->seed = d.seed;
  self->distractor = d.distractor;
  self->tempo_variation = d.tempo_variation;
  self->appearance_variation = d.appearance_variation;
  self->camera_variation = d.camera_variation;
  self->repetitions = d.repetitions;
  self->base_frames = d.base_frames;
  self->loop = FALSE;
  gst_video_info_init(&self->info);
  gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
  gst_base_src_set_live(GST_BASE_SRC(self), FALSE);
}
