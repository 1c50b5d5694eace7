/* gstlacphasemeta.h — GstLacPhaseMeta: which phase of an action a video frame shows.
 *
 * Attached by lacsynthsrc to every buffer it makes, read by applications, tests and (later)
 * the training and evaluation elements.  The meta is untagged and copies itself on every
 * transform, so it survives videoconvert, videoscale, queues, tees and buffer copies; it
 * does not survive encoding to a file (metas never do in GStreamer 1.22).
 * Not here: embeddings (a separate meta of this library).
 */
#ifndef __GST_LAC_PHASE_META_H__
#define __GST_LAC_PHASE_META_H__

#include <gst/gst.h>
#include <gst/lac/lac-prelude.h>

G_BEGIN_DECLS

/**
 * GST_LAC_PHASE_META_API_TYPE:
 *
 * The #GType of the #GstLacPhaseMeta API.
 */
#define GST_LAC_PHASE_META_API_TYPE (gst_lac_phase_meta_api_get_type())

/**
 * GST_LAC_PHASE_META_INFO:
 *
 * The #GstMetaInfo of the #GstLacPhaseMeta implementation.
 */
#define GST_LAC_PHASE_META_INFO (gst_lac_phase_meta_get_info())

typedef struct _GstLacPhaseMeta GstLacPhaseMeta;

/**
 * GstLacPhaseMeta:
 * @meta: parent #GstMeta
 * @phase: the frame's phase, 0 .. @n_phases - 1, or -1 for an unlabelled frame
 *   (a distractor segment)
 * @n_phases: phases of the action (of one cycle for a periodic action)
 * @phase_name: (nullable): name of @phase (an interned string), %NULL when @phase < 0
 * @action: name of the action (an interned string), e.g. "pour"
 * @repetition: cycle of a periodic action (0 for one-pass actions), -1 when unlabelled
 * @video_index: which video of the stream the frame belongs to (0, 1, ... when a source
 *   plays several videos one after the other)
 * @frame_index: the frame's index within its video
 *
 * The phase label of one video frame.
 */
struct _GstLacPhaseMeta {
  GstMeta meta;

  gint phase;
  guint n_phases;
  const gchar *phase_name;
  const gchar *action;
  gint repetition;
  guint64 video_index;
  guint64 frame_index;
};

GST_LAC_API
GType gst_lac_phase_meta_api_get_type(void);

GST_LAC_API
const GstMetaInfo *gst_lac_phase_meta_get_info(void);

GST_LAC_API
GstLacPhaseMeta *gst_buffer_add_lac_phase_meta(GstBuffer *buffer, const gchar *action, gint phase,
                                               guint n_phases, const gchar *phase_name,
                                               gint repetition, guint64 video_index,
                                               guint64 frame_index);

GST_LAC_API
GstLacPhaseMeta *gst_buffer_get_lac_phase_meta(GstBuffer *buffer);

G_END_DECLS

#endif /* __GST_LAC_PHASE_META_H__ */
