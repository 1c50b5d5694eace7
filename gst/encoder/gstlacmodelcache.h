/* gstlacmodelcache.h — the lacencoder plugin's cache of loaded models, so that every
 * lacencoder naming the same model file shares one immutable lac_model (and its backend).
 *
 * The cache is plugin state (the library keeps none): a table keyed by the file's real path,
 * size and modification time, each entry reference-counted, all under one mutex.  A file
 * rewritten in place (new size or mtime) is a new key, so a restarted element loads the new
 * weights while elements still running keep the old ones until they release them.
 * Not here: sessions (per element), CUDA (the encoder runs on the CPU backend only).
 */
#ifndef __GST_LAC_MODEL_CACHE_H__
#define __GST_LAC_MODEL_CACHE_H__

#include <glib.h>

#include "lac/lac.h"

G_BEGIN_DECLS

typedef struct _GstLacModelRef GstLacModelRef;

/* Load `path` on a CPU backend with `n_threads` (0 = all cores), or take another reference to
 * the model already loaded from the same file.  On failure returns NULL with err set (the
 * library's message, which says what to fix).  *shared_out (may be NULL) receives TRUE when
 * an existing model was reused.  A reused model keeps the thread count of its first loader. */
GstLacModelRef *gst_lac_model_cache_acquire(const gchar *path, gint n_threads,
                                            gboolean *shared_out, lac_error *err);

/* Drop one reference; the last one frees the model and its backend.  NULL is ignored. */
void gst_lac_model_cache_release(GstLacModelRef *ref);

const lac_model *gst_lac_model_ref_model(const GstLacModelRef *ref);

/* Elements currently holding this model (takes the cache lock). */
guint gst_lac_model_ref_users(const GstLacModelRef *ref);

G_END_DECLS

#endif /* __GST_LAC_MODEL_CACHE_H__ */
