/* gstlacalign.h — the lacalign element (GstAggregator): aligns a stream's embeddings
 * (GstLacEmbeddingMeta) against a reference and shows and reports it.  See gstlacalign.c.
 */
#ifndef __GST_LAC_ALIGN_H__
#define __GST_LAC_ALIGN_H__

#include <gst/base/gstaggregator.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "aligntracker.h"

G_BEGIN_DECLS

#define GST_TYPE_LAC_ALIGN (gst_lac_align_get_type())
G_DECLARE_FINAL_TYPE(GstLacAlign, gst_lac_align, GST, LAC_ALIGN, GstAggregator)

GType gst_lac_align_similarity_get_type(void);

/* one stream frame's on-line result, kept for the CSV written at EOS */
typedef struct {
  GstClockTime pts;
  AlignEstimate est;
} GstLacAlignRow;

struct _GstLacAlign {
  GstAggregator parent;

  GstAggregatorPad *sinkpad; /* always: the video with embeddings */
  GstAggregatorPad *refpad;  /* request "reference", or NULL (object lock) */

  /* properties (object lock) */
  gchar *reference_location;
  gchar *alignment_location;
  gchar *plot_location;
  AlignTrackerSettings settings;
  gboolean overlay;
  gboolean post_messages;
  guint64 message_interval;
  gboolean thumbnail;

  /* streaming state (aggregate thread) */
  AlignTracker *tracker;
  gboolean ref_ready;
  gboolean use_refpad;
  GstCaps *sink_caps;
  GstVideoInfo info;
  gboolean have_info;
  gboolean attach_overlay; /* downstream accepts GstVideoOverlayCompositionMeta */
  gboolean warned_no_meta;
  GstClockTime last_message_pts;
  gboolean posted_any;
  GArray *rows; /* GstLacAlignRow per stream frame with an embedding (when keep_rows) */
  gboolean keep_rows;
  guint64 n_frames; /* frames with an embedding so far */
  /* thumbnails of the reference frames, when the reference pad carries raw video */
  gboolean keep_thumbs;      /* the thumbnail property at start */
  GstVideoInfo ref_info;     /* the reference pad's raw video */
  gboolean have_ref_info;
  GstVideoConverter *thumb_conv; /* ref_info -> thumb_info */
  GstVideoInfo thumb_info;
  GPtrArray *thumbs; /* GstBuffer * (video meta, overlay ARGB) per reference frame, or NULL */
};

GST_ELEMENT_REGISTER_DECLARE(lacalign);

G_END_DECLS

#endif
