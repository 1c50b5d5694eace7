/* gstlacencoder.h — lacencoder: video in, the same video out, each buffer carrying its LAC
 * embedding as a GstLacEmbeddingMeta (gst-libs/gst/lac).  See gstlacencoder.c.
 */
#ifndef __GST_LAC_ENCODER_H__
#define __GST_LAC_ENCODER_H__

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "gstlacmodelcache.h"
#include "lac/lac.h"

G_BEGIN_DECLS

#define GST_TYPE_LAC_ENCODER (gst_lac_encoder_get_type())
G_DECLARE_FINAL_TYPE(GstLacEncoder, gst_lac_encoder, GST, LAC_ENCODER, GstBaseTransform)

typedef enum {
  GST_LAC_DEVICE_AUTO = 0,
  GST_LAC_DEVICE_CPU = 1,
  GST_LAC_DEVICE_CUDA = 2,
} GstLacDevice;

typedef enum {
  GST_LAC_RESIZE_CROP = 0,   /* centred largest square, then scale */
  GST_LAC_RESIZE_SQUASH = 1, /* the whole frame scaled to a square */
} GstLacResize;

#define GST_TYPE_LAC_DEVICE (gst_lac_device_get_type())
GType gst_lac_device_get_type(void);
#define GST_TYPE_LAC_WINDOW_MODE (gst_lac_window_mode_get_type())
GType gst_lac_window_mode_get_type(void);
#define GST_TYPE_LAC_RESIZE (gst_lac_resize_get_type())
GType gst_lac_resize_get_type(void);

/* A buffer waiting for its embedding (centred window, batching, incomplete context group). */
typedef struct {
  GstBuffer *buf;
  gboolean embed; /* its frame went into the session; FALSE: it takes the last embedding */
  gint64 step;    /* the session step its frame belongs to (embed only) */
} GstLacHeld;

struct _GstLacEncoder {
  GstBaseTransform parent;

  /* properties (object lock) */
  gchar *model_location;
  GstLacDevice device;
  gint batch_size, window, frame_stride, threads;
  lac_window_mode window_mode;
  GstLacResize resize;
  gboolean post_messages;
  guint64 message_interval;
  gchar *embeddings_location;

  /* start() .. stop() */
  GstLacModelRef *model_ref;
  const lac_model *model;
  lac_session *session;
  gint size, dim, ctx;
  gchar *model_id;
  gfloat *out;      /* out_cap x dim: lac_session_push / flush results */
  gint64 *out_index;
  gint *out_full;
  gint out_cap;

  /* streaming thread */
  GstVideoInfo in_info, rgb_info;
  gboolean have_info;
  GstVideoConverter *convert;
  GstBuffer *scratch;       /* one model-size RGB frame, the converter's output */
  guint8 *staging;          /* staging_cap frames of S*S*3 bytes, contiguous */
  gint staged, staging_cap; /* frames waiting for the trunk; capacity (batch x context) */
  gboolean live_known, live;
  GQueue held;              /* GstLacHeld*, in stream order */
  GQueue ready;             /* computed embeddings not yet attached: GstLacEmb* by step */
  GQueue ready_out;         /* buffers with their meta, for generate_output */
  gfloat *last;             /* the last attached computed embedding (dim) */
  gboolean have_last, last_full;
  gint64 last_step;
  gint64 frames_in_session; /* frames pushed to the session since the last reset */
  guint64 stride_count;     /* frames since the last reset, for frame-stride */
  guint64 n_embedded, n_reused, n_skipped; /* since start */
  GstClockTime last_message_ts;

  /* QoS (object lock) */
  GstClockTime earliest_time;
  gdouble proportion;

  /* embeddings-location rows, in output order since start() */
  GArray *rec_data;   /* gfloat */
  GArray *rec_ts;     /* gint64 */
  GArray *rec_labels; /* gint64, -1 when the frame had no phase meta */
  gboolean rec_have_labels;
  GPtrArray *phase_names; /* index = phase, interned strings (may hold NULL gaps) */
};

GST_ELEMENT_REGISTER_DECLARE(lacencoder);

G_END_DECLS

#endif /* __GST_LAC_ENCODER_H__ */
