/* gstlacmodelcache.c — plugin-wide cache of loaded lac models shared by lacencoder elements.
 *
 * One GHashTable (key "realpath|size|mtime_ns" -> entry) under one GMutex; an entry holds a
 * CPU lac_backend, the lac_model loaded on it and a user count.  Loading happens under the
 * lock, so two elements starting together load a file once.  The table itself lives as long
 * as the plugin is loaded (it is never torn down: GStreamer never unloads plugins).
 * Not here: sessions and streaming (gstlacencoder.c).
 */
#include "gstlacmodelcache.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct _GstLacModelRef {
  gchar *key;
  lac_backend *backend;
  lac_model *model;
  guint users; /* under cache_lock */
};

static GMutex cache_lock;
static GHashTable *cache; /* key -> GstLacModelRef*, under cache_lock */

/* "realpath|size|mtime" for path, or NULL with err set when the file cannot be read. */
static gchar *make_key(const gchar *path, lac_error *err) {
  char *real = realpath(path, NULL);
  if (!real) {
    lac_error_set(err, LAC_ERR_IO, "%s: cannot open the model file (%s): check model-location",
                  path, g_strerror(errno));
    return NULL;
  }
  GStatBuf sb;
  if (g_stat(real, &sb) != 0) {
    lac_error_set(err, LAC_ERR_IO, "%s: cannot stat the model file (%s)", real,
                  g_strerror(errno));
    free(real);
    return NULL;
  }
  gchar *key = g_strdup_printf("%s|%" G_GINT64_FORMAT "|%" G_GINT64_FORMAT ".%09ld", real,
                               (gint64)sb.st_size, (gint64)sb.st_mtim.tv_sec,
                               (long)sb.st_mtim.tv_nsec);
  free(real);
  return key;
}

GstLacModelRef *gst_lac_model_cache_acquire(const gchar *path, gint n_threads,
                                            gboolean *shared_out, lac_error *err) {
  if (shared_out) *shared_out = FALSE;
  gchar *key = make_key(path, err);
  if (!key) return NULL;
  g_mutex_lock(&cache_lock);
  if (!cache) cache = g_hash_table_new(g_str_hash, g_str_equal);
  GstLacModelRef *ref = g_hash_table_lookup(cache, key);
  if (ref) {
    ref->users++;
    if (shared_out) *shared_out = TRUE;
    g_free(key);
    g_mutex_unlock(&cache_lock);
    return ref;
  }
  lac_backend_params bp = lac_backend_default_params();
  bp.kind = LAC_BACKEND_CPU;
  bp.n_threads = n_threads;
  lac_backend *backend = NULL;
  lac_model *model = NULL;
  if (lac_backend_new(&bp, &backend, err) != LAC_OK ||
      lac_model_load(backend, path, &model, err) != LAC_OK) {
    lac_backend_free(backend);
    g_free(key);
    g_mutex_unlock(&cache_lock);
    return NULL;
  }
  ref = g_new0(GstLacModelRef, 1);
  ref->key = key;
  ref->backend = backend;
  ref->model = model;
  ref->users = 1;
  g_hash_table_insert(cache, ref->key, ref);
  g_mutex_unlock(&cache_lock);
  return ref;
}

void gst_lac_model_cache_release(GstLacModelRef *ref) {
  if (!ref) return;
  g_mutex_lock(&cache_lock);
  gboolean last = --ref->users == 0;
  if (last) g_hash_table_remove(cache, ref->key);
  g_mutex_unlock(&cache_lock);
  if (last) {
    lac_model_free(ref->model);
    lac_backend_free(ref->backend);
    g_free(ref->key);
    g_free(ref);
  }
}

const lac_model *gst_lac_model_ref_model(const GstLacModelRef *ref) { return ref->model; }

guint gst_lac_model_ref_users(const GstLacModelRef *ref) {
  g_mutex_lock(&cache_lock);
  guint n = ref->users;
  g_mutex_unlock(&cache_lock);
  return n;
}
