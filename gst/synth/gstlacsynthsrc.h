/* gstlacsynthsrc.h — lacsynthsrc, a video source of procedural phase-labelled actions
 * (lib/synth through include/lac/synth.h).  Each buffer carries a GstLacPhaseMeta.
 */
#ifndef __GST_LAC_SYNTH_SRC_H__
#define __GST_LAC_SYNTH_SRC_H__

#include <gst/base/gstpushsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "lac/synth.h"

G_BEGIN_DECLS

#define GST_TYPE_LAC_SYNTH_SRC (gst_lac_synth_src_get_type())
G_DECLARE_FINAL_TYPE(GstLacSynthSrc, gst_lac_synth_src, GST, LAC_SYNTH_SRC, GstPushSrc)

#define GST_TYPE_LAC_SYNTH_ACTION (gst_lac_synth_action_get_type())
GType gst_lac_synth_action_get_type(void);
#define GST_TYPE_LAC_SYNTH_DISTRACTOR (gst_lac_synth_distractor_get_type())
GType gst_lac_synth_distractor_get_type(void);

struct _GstLacSynthSrc {
  GstPushSrc parent;

  /* properties (object lock) */
  lac_synth_action action;
  guint64 seed;
  lac_synth_distractor distractor;
  gdouble tempo_variation, appearance_variation, camera_variation;
  gint repetitions, base_frames;
  gboolean loop;

  /* streaming thread */
  GstVideoInfo info;          /* negotiated output */
  gboolean have_info;
  lac_synth *synth;           /* the current video */
  guint64 video_index;        /* videos started since start() */
  gint64 frame;               /* next frame of the current video */
  guint64 n_out;              /* frames since the segment start: timestamps */
  GstClockTime ts_offset;     /* time of frame 0 of the stream (seeks) */
  gboolean seek_pending;      /* a seek set seek_time; frame and n_out follow at next fill */
  GstClockTime seek_time;
  gboolean discont_next;      /* mark the first buffer of a looped video */
  GstVideoConverter *convert; /* RGB -> negotiated format, when it is not RGB */
  GstVideoInfo rgb_info;
  GstBuffer *rgb;             /* scratch RGB frame for the converter */
};

GST_ELEMENT_REGISTER_DECLARE(lacsynthsrc);

G_END_DECLS

#endif /* __GST_LAC_SYNTH_SRC_H__ */
