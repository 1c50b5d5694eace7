/* gstlacembeddingmeta.c — registration, copying and accessors of GstLacEmbeddingMeta.
 *
 * The values are copied into the meta (one allocation per meta, freed with it); the model id
 * is an interned string.  Every transform (copy, region copy, scale, conversion) copies the
 * meta unchanged: the embedding describes the frame's content, not its pixels.
 */
#include "gstlacembeddingmeta.h"

#include <string.h>

/**
 * SECTION:gstlacembeddingmeta
 * @title: GstLacEmbeddingMeta
 * @short_description: the LAC embedding of a video frame
 *
 * #GstLacEmbeddingMeta carries a frame's embedding: @dim floats, the id of the model that
 * computed them, #GstLacEmbeddingFlags and the step since the last window reset.
 * `lacencoder` attaches one to every frame; read it with gst_buffer_get_lac_embedding_meta()
 * (Python: `GstLac.buffer_get_lac_embedding_meta(buf).get_values()`).
 */

/**
 * gst_lac_embedding_meta_api_get_type:
 *
 * Returns: the #GType of the GstLacEmbeddingMeta API (no tags: kept by every transform).
 */
GType gst_lac_embedding_meta_api_get_type(void) {
  static GType type = 0;
  static const gchar *tags[] = {NULL};

  if (g_once_init_enter(&type)) {
    GType t = gst_meta_api_type_register("GstLacEmbeddingMetaAPI", tags);
    g_once_init_leave(&type, t);
  }
  return type;
}

static gboolean gst_lac_embedding_meta_init(GstMeta *meta, gpointer params, GstBuffer *buffer) {
  GstLacEmbeddingMeta *m = (GstLacEmbeddingMeta *)meta;

  (void)params;
  (void)buffer;
  m->dim = 0;
  m->data = NULL;
  m->model_id = NULL;
  m->flags = GST_LAC_EMBEDDING_FLAG_NONE;
  m->step = 0;
  return TRUE;
}

static void gst_lac_embedding_meta_free(GstMeta *meta, GstBuffer *buffer) {
  GstLacEmbeddingMeta *m = (GstLacEmbeddingMeta *)meta;

  (void)buffer;
  g_free(m->data);
  m->data = NULL;
}

static gboolean gst_lac_embedding_meta_transform(GstBuffer *dest, GstMeta *meta, GstBuffer *buffer,
                                                 GQuark type, gpointer data) {
  GstLacEmbeddingMeta *m = (GstLacEmbeddingMeta *)meta;

  (void)buffer;
  (void)type;
  (void)data;
  return gst_buffer_add_lac_embedding_meta(dest, m->data, m->dim, m->model_id, m->flags,
                                           m->step) != NULL;
}

/**
 * gst_lac_embedding_meta_get_info:
 *
 * Returns: the #GstMetaInfo of GstLacEmbeddingMeta.
 */
const GstMetaInfo *gst_lac_embedding_meta_get_info(void) {
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter((GstMetaInfo **)&info)) {
    const GstMetaInfo *mi = gst_meta_register(
        GST_LAC_EMBEDDING_META_API_TYPE, "GstLacEmbeddingMeta", sizeof(GstLacEmbeddingMeta),
        gst_lac_embedding_meta_init, gst_lac_embedding_meta_free, gst_lac_embedding_meta_transform);
    g_once_init_leave((GstMetaInfo **)&info, (GstMetaInfo *)mi);
  }
  return info;
}

/**
 * gst_buffer_add_lac_embedding_meta:
 * @buffer: a writable #GstBuffer
 * @data: (array length=dim): the embedding (copied)
 * @dim: number of values, > 0
 * @model_id: (nullable): the model's id (lac_model_id())
 * @flags: #GstLacEmbeddingFlags
 * @step: embedding step since the last window reset
 *
 * Returns: (transfer none) (nullable): the meta added to @buffer.
 */
GstLacEmbeddingMeta *gst_buffer_add_lac_embedding_meta(GstBuffer *buffer, const gfloat *data,
                                                       guint dim, const gchar *model_id,
                                                       GstLacEmbeddingFlags flags, guint64 step) {
  GstLacEmbeddingMeta *m;

  g_return_val_if_fail(GST_IS_BUFFER(buffer), NULL);
  g_return_val_if_fail(gst_buffer_is_writable(buffer), NULL);
  g_return_val_if_fail(data != NULL && dim > 0, NULL);

  m = (GstLacEmbeddingMeta *)gst_buffer_add_meta(buffer, GST_LAC_EMBEDDING_META_INFO, NULL);
  if (!m) return NULL;
  m->data = g_memdup2(data, sizeof(gfloat) * dim);
  m->dim = dim;
  m->model_id = model_id ? g_intern_string(model_id) : NULL;
  m->flags = flags;
  m->step = step;
  return m;
}

/**
 * gst_buffer_get_lac_embedding_meta:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer none) (nullable): the buffer's GstLacEmbeddingMeta, or %NULL.
 */
GstLacEmbeddingMeta *gst_buffer_get_lac_embedding_meta(GstBuffer *buffer) {
  return (GstLacEmbeddingMeta *)gst_buffer_get_meta(buffer, GST_LAC_EMBEDDING_META_API_TYPE);
}

/**
 * gst_lac_embedding_meta_get_values:
 * @meta: a #GstLacEmbeddingMeta
 * @n_values: (out): number of values
 *
 * The embedding's values, for bindings (Python: `meta.get_values()` gives a list of floats).
 *
 * Returns: (array length=n_values) (transfer none): the values, owned by @meta.
 */
const gfloat *gst_lac_embedding_meta_get_values(GstLacEmbeddingMeta *meta, guint *n_values) {
  g_return_val_if_fail(meta != NULL, NULL);
  if (n_values) *n_values = meta->dim;
  return meta->data;
}
