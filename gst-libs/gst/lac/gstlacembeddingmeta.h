/* gstlacembeddingmeta.h — GstLacEmbeddingMeta: the LAC embedding of a video frame.
 *
 * lacencoder attaches one to every frame it passes; lacalign, applications and Python (GObject
 * introspection, namespace GstLac) read it.  Untagged, so it survives conversion, scaling,
 * rate changes, tee and queue; copied with the buffer.  Metas do not travel through files
 * or IPC: lacencoder's embeddings-location writes an embeddings file for that.
 */
#ifndef __GST_LAC_EMBEDDING_META_H__
#define __GST_LAC_EMBEDDING_META_H__

#include <gst/gst.h>
#include <gst/lac/lac-prelude.h>

G_BEGIN_DECLS

/**
 * GstLacEmbeddingFlags:
 * @GST_LAC_EMBEDDING_FLAG_NONE: a full-window embedding computed for this frame
 * @GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL: the temporal window was not yet full (just after
 *   the start or a reset): the embedding saw fewer frames of context than configured
 * @GST_LAC_EMBEDDING_FLAG_REUSED: not computed for this frame (frame-stride, or work dropped
 *   to keep up with a live source): the last computed embedding, repeated
 */
typedef enum {
  GST_LAC_EMBEDDING_FLAG_NONE = 0,
  GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL = (1 << 0),
  GST_LAC_EMBEDDING_FLAG_REUSED = (1 << 1),
} GstLacEmbeddingFlags;

/**
 * GST_LAC_EMBEDDING_META_API_TYPE:
 *
 * The #GType of the #GstLacEmbeddingMeta API.
 */
#define GST_LAC_EMBEDDING_META_API_TYPE (gst_lac_embedding_meta_api_get_type())

/**
 * GST_LAC_EMBEDDING_META_INFO:
 *
 * The #GstMetaInfo of the #GstLacEmbeddingMeta implementation.
 */
#define GST_LAC_EMBEDDING_META_INFO (gst_lac_embedding_meta_get_info())

typedef struct _GstLacEmbeddingMeta GstLacEmbeddingMeta;

/**
 * GstLacEmbeddingMeta:
 * @meta: parent #GstMeta
 * @dim: number of values (the model's embedding size, 128)
 * @data: (array length=dim): the embedding, owned by the meta
 * @model_id: 16 hex digits identifying the model's weights (lac_model_id())
 * @flags: #GstLacEmbeddingFlags
 * @step: embedding step, counted from the last window reset
 *
 * The embedding of one video frame.  In Python read the values with get_values() (a list
 * of floats); @data is also readable there as a list.
 */
struct _GstLacEmbeddingMeta {
  GstMeta meta;

  guint dim;
  gfloat *data;
  const gchar *model_id;
  GstLacEmbeddingFlags flags;
  guint64 step;
};

GST_LAC_API
GType gst_lac_embedding_meta_api_get_type(void);

GST_LAC_API
const GstMetaInfo *gst_lac_embedding_meta_get_info(void);

GST_LAC_API
GstLacEmbeddingMeta *gst_buffer_add_lac_embedding_meta(GstBuffer *buffer, const gfloat *data,
                                                       guint dim, const gchar *model_id,
                                                       GstLacEmbeddingFlags flags, guint64 step);

GST_LAC_API
GstLacEmbeddingMeta *gst_buffer_get_lac_embedding_meta(GstBuffer *buffer);

GST_LAC_API
const gfloat *gst_lac_embedding_meta_get_values(GstLacEmbeddingMeta *meta, guint *n_values);

G_END_DECLS

#endif /* __GST_LAC_EMBEDDING_META_H__ */
