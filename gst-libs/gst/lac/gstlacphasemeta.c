/* gstlacphasemeta.c — registration, copying and accessors of GstLacPhaseMeta.
 *
 * The API is registered with no tags: the label describes what a frame shows in time,
 * which neither a change of format, size or memory nor a copy alters, so elements that
 * copy untagged metas keep it, and its transform copies it for every transform type.
 * Strings are interned (g_intern_string), so copies share them and nothing is freed.
 * Not here: any policy on where labels come from (lacsynthsrc sets them).
 */
#include "gstlacphasemeta.h"

/**
 * SECTION:gstlacphasemeta
 * @title: GstLacPhaseMeta
 * @short_description: phase label of a video frame
 *
 * #GstLacPhaseMeta says which phase of an action a frame shows.  `lacsynthsrc` attaches it
 * to every buffer; read it with gst_buffer_get_lac_phase_meta().
 */

/**
 * gst_lac_phase_meta_api_get_type:
 *
 * Returns: the #GType of the GstLacPhaseMeta API (no tags: kept by every transform).
 */
GType gst_lac_phase_meta_api_get_type(void) {
  static GType type = 0;
  static const gchar *tags[] = {NULL};

  if (g_once_init_enter(&type)) {
    GType t = gst_meta_api_type_register("GstLacPhaseMetaAPI", tags);
    g_once_init_leave(&type, t);
  }
  return type;
}

static gboolean gst_lac_phase_meta_init(GstMeta *meta, gpointer params, GstBuffer *buffer) {
  GstLacPhaseMeta *m = (GstLacPhaseMeta *)meta;

  (void)params;
  (void)buffer;
  m->phase = -1;
  m->n_phases = 0;
  m->phase_name = NULL;
  m->action = NULL;
  m->repetition = -1;
  m->video_index = 0;
  m->frame_index = 0;
  return TRUE;
}

static gboolean gst_lac_phase_meta_transform(GstBuffer *dest, GstMeta *meta, GstBuffer *buffer,
                                             GQuark type, gpointer data) {
  GstLacPhaseMeta *m = (GstLacPhaseMeta *)meta;

  (void)buffer;
  (void)type;
  (void)data;
  /* copies, region copies, scaling, conversion: the label is unchanged */
  return gst_buffer_add_lac_phase_meta(dest, m->action, m->phase, m->n_phases, m->phase_name,
                                       m->repetition, m->video_index, m->frame_index) != NULL;
}

/**
 * gst_lac_phase_meta_get_info:
 *
 * Returns: the #GstMetaInfo of GstLacPhaseMeta.
 */
const GstMetaInfo *gst_lac_phase_meta_get_info(void) {
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter((GstMetaInfo **)&info)) {
    const GstMetaInfo *mi =
        gst_meta_register(GST_LAC_PHASE_META_API_TYPE, "GstLacPhaseMeta", sizeof(GstLacPhaseMeta),
                          gst_lac_phase_meta_init, NULL, gst_lac_phase_meta_transform);
    g_once_init_leave((GstMetaInfo **)&info, (GstMetaInfo *)mi);
  }
  return info;
}

/**
 * gst_buffer_add_lac_phase_meta:
 * @buffer: a writable #GstBuffer
 * @action: (nullable): the action's name
 * @phase: the frame's phase, or -1 when unlabelled
 * @n_phases: phases of the action
 * @phase_name: (nullable): name of @phase (%NULL when unlabelled)
 * @repetition: cycle of a periodic action, 0 otherwise, -1 when unlabelled
 * @video_index: index of the frame's video in the stream
 * @frame_index: index of the frame in its video
 *
 * Attaches a #GstLacPhaseMeta to @buffer.  The strings are interned.
 *
 * Returns: (transfer none) (nullable): the meta, or %NULL when @buffer is not writable
 *   or @phase is not -1 .. @n_phases - 1.
 */
GstLacPhaseMeta *gst_buffer_add_lac_phase_meta(GstBuffer *buffer, const gchar *action, gint phase,
                                               guint n_phases, const gchar *phase_name,
                                               gint repetition, guint64 video_index,
                                               guint64 frame_index) {
  GstLacPhaseMeta *m;

  g_return_val_if_fail(GST_IS_BUFFER(buffer), NULL);
  g_return_val_if_fail(gst_buffer_is_writable(buffer), NULL);
  g_return_val_if_fail(phase >= -1 && (phase < 0 || (guint)phase < n_phases), NULL);

  m = (GstLacPhaseMeta *)gst_buffer_add_meta(buffer, GST_LAC_PHASE_META_INFO, NULL);
  if (!m) return NULL;
  m->phase = phase;
  m->n_phases = n_phases;
  m->phase_name = phase >= 0 && phase_name ? g_intern_string(phase_name) : NULL;
  m->action = action ? g_intern_string(action) : NULL;
  m->repetition = repetition;
  m->video_index = video_index;
  m->frame_index = frame_index;
  return m;
}

/**
 * gst_buffer_get_lac_phase_meta:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer none) (nullable): the #GstLacPhaseMeta of @buffer, or %NULL.
 */
GstLacPhaseMeta *gst_buffer_get_lac_phase_meta(GstBuffer *buffer) {
  return (GstLacPhaseMeta *)gst_buffer_get_meta(buffer, GST_LAC_PHASE_META_API_TYPE);
}
