/* gstlacencoder.c — the lacencoder element: a GstBaseTransform that passes video through
 * unchanged and attaches a GstLacEmbeddingMeta (the frame's LAC embedding) to every buffer.
 *
 * Each frame is converted and scaled to the model's RGB input with a GstVideoConverter
 * (centred square crop, or squash), staged, and pushed through a lac_session, whose ring of
 * per-step projections lets the temporal window slide without recomputing the trunk.  Buffers
 * wait in a queue until their embedding exists (centred window, batching) and leave in order;
 * buffers whose frame is not embedded (frame-stride, QoS) carry the last embedding flagged
 * REUSED.  The model comes from the plugin's shared cache (gstlacmodelcache.c).
 * Not here: the model maths (lib/), the meta's definition (gst-libs/gst/lac), CUDA (this
 * version runs the encoder on the CPU backend only).
 */

/**
 * SECTION:element-lacencoder
 * @title: lacencoder
 *
 * Computes a frame-wise LAC embedding of the video and attaches it to each buffer as a
 * #GstLacEmbeddingMeta; the video itself passes unchanged.  Takes what decoders and cameras
 * produce (I420, NV12, RGB/BGR and their x/A variants, GRAY8, any size and frame rate) and
 * converts internally: by default the centred largest square is cut out and scaled to the
 * model's input size (as `lac embed --resize crop`); resize=squash scales the whole frame.
 *
 * The temporal window is causal (no latency) or centred (frame t's embedding waits for
 * window/2 later frames; the LATENCY query reports them).  The window restarts on DISCONT
 * buffers, GAP events, flushes and new segments.  With a live upstream and QoS enabled, frames
 * that arrive too late are not embedded (they carry the last embedding flagged REUSED) and a
 * QoS message reports them.  At EOS the embeddings of all frames can be written to a file
 * (embeddings-location) with their timestamps and, when the frames carry a #GstLacPhaseMeta,
 * their phase labels.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=a.webm ! decodebin ! \
 *     lacencoder model-location=m.safetensors embeddings-location=a.emb.safetensors ! fakesink
 * gst-launch-1.0 v4l2src ! lacencoder model-location=m.safetensors post-messages=true \
 *     message-interval=1000000000 ! videoconvert ! autovideosink
 * ]|
 */
#include "gstlacencoder.h"

#include <gst/lac/lacmeta.h>
#include <string.h>

#include "lac/safetensors.h"

GST_DEBUG_CATEGORY_STATIC(gst_lac_encoder_debug);
#define GST_CAT_DEFAULT gst_lac_encoder_debug

enum {
  PROP_0,
  PROP_MODEL_LOCATION,
  PROP_DEVICE,
  PROP_BATCH_SIZE,
  PROP_WINDOW,
  PROP_WINDOW_MODE,
  PROP_FRAME_STRIDE,
  PROP_THREADS,
  PROP_RESIZE,
  PROP_POST_MESSAGES,
  PROP_MESSAGE_INTERVAL,
  PROP_EMBEDDINGS_LOCATION,
  PROP_MODEL_INFO,
};

#define DEFAULT_BATCH_SIZE 1
#define DEFAULT_WINDOW 0
#define DEFAULT_FRAME_STRIDE 1
#define DEFAULT_THREADS 0

#define FORMATS "{ I420, NV12, RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, GRAY8 }"

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
                            GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(FORMATS)));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS,
                            GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(FORMATS)));

#define gst_lac_encoder_parent_class parent_class
G_DEFINE_TYPE(GstLacEncoder, gst_lac_encoder, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE(lacencoder, "lacencoder", GST_RANK_NONE, GST_TYPE_LAC_ENCODER);

GType gst_lac_device_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_LAC_DEVICE_AUTO, "The CPU (the encoder has no CUDA path yet)", "auto"},
      {GST_LAC_DEVICE_CPU, "The CPU backend (OpenBLAS)", "cpu"},
      {GST_LAC_DEVICE_CUDA, "CUDA (not available for the encoder yet: an error)", "cuda"},
      {0, NULL, NULL}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstLacEncoderDevice", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

GType gst_lac_window_mode_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {LAC_WINDOW_CAUSAL, "The window ends at the frame: no latency", "causal"},
      {LAC_WINDOW_CENTRED, "The window is centred on the frame: window/2 frames of latency",
       "centred"},
      {0, NULL, NULL}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstLacEncoderWindowMode", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

GType gst_lac_resize_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_LAC_RESIZE_CROP, "Centred largest square, scaled to the model's input", "crop"},
      {GST_LAC_RESIZE_SQUASH, "The whole frame scaled to the model's square input", "squash"},
      {0, NULL, NULL}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstLacEncoderResize", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

/* A computed embedding waiting for its buffer. */
typedef struct {
  gint64 step;
  gboolean full;
  gfloat data[]; /* dim */
} GstLacEmb;

/* ---------------------------------------------------------------- helpers */

static void held_free(gpointer p) {
  GstLacHeld *h = p;
  gst_buffer_unref(h->buf);
  g_free(h);
}

/* Frame duration from the caps (GST_CLOCK_TIME_NONE for a variable frame rate). */
static GstClockTime frame_duration(const GstLacEncoder *self) {
  if (!self->have_info || GST_VIDEO_INFO_FPS_N(&self->in_info) <= 0) return GST_CLOCK_TIME_NONE;
  return gst_util_uint64_scale(GST_SECOND, (guint64)GST_VIDEO_INFO_FPS_D(&self->in_info),
                               (guint64)GST_VIDEO_INFO_FPS_N(&self->in_info));
}

/* Frames a buffer may wait inside the element: the centred window's lead and a batch being
 * collected (one context group when the upstream is live). */
static gint held_frames(GstLacEncoder *self, gboolean live) {
  GST_OBJECT_LOCK(self); /* queries come from any thread; stop() clears the session */
  gint n = 0;
  if (self->session) {
    gint lead = lac_session_latency_steps(self->session) * self->ctx;
    gint batch = live ? self->ctx : self->staging_cap;
    n = lead + batch - 1;
  }
  GST_OBJECT_UNLOCK(self);
  return n;
}

/* Empty the queue of computed embeddings. */
static void clear_ready(GstLacEncoder *self) {
  gpointer p;
  while ((p = g_queue_pop_head(&self->ready))) g_free(p);
}

/* The window starts again: nothing before this point is seen by later embeddings. */
static void reset_window(GstLacEncoder *self) {
  if (self->session) lac_session_reset(self->session);
  self->staged = 0;
  self->frames_in_session = 0;
  self->stride_count = 0;
  self->have_last = FALSE;
  clear_ready(self);
}

/* Store n session outputs in the ready queue. */
static void take_outputs(GstLacEncoder *self, gint n) {
  for (gint i = 0; i < n; i++) {
    GstLacEmb *e = g_malloc(sizeof(GstLacEmb) + sizeof(gfloat) * (gsize)self->dim);
    e->step = self->out_index[i];
    e->full = self->out_full[i] != 0;
    memcpy(e->data, self->out + (gsize)i * self->dim, sizeof(gfloat) * (gsize)self->dim);
    g_queue_push_tail(&self->ready, e);
  }
}

/* Post the library's error as an element error; returns GST_FLOW_ERROR. */
static GstFlowReturn library_error(GstLacEncoder *self, const lac_error *err) {
  if (err->code == LAC_ERR_NUMERIC)
    GST_ELEMENT_ERROR(self, STREAM, FAILED,
                      ("The embedding has NaN or Inf values: %s", err->message),
                      ("check the model file's weights and the input frames"));
  else
    GST_ELEMENT_ERROR(self, LIBRARY, FAILED, ("Embedding failed: %s", err->message), (NULL));
  return GST_FLOW_ERROR;
}

/* Run the staged frames through the session (trunk batch + window). */
static GstFlowReturn run_staged(GstLacEncoder *self) {
  if (self->staged == 0) return GST_FLOW_OK;
  lac_frames fr = {LAC_PIXELS_RGB8, self->staged, self->size, self->size,
                   (size_t)3 * self->size, self->staging};
  lac_error err;
  lac_error_clear(&err);
  gint n = 0;
  if (lac_session_push(self->session, &fr, self->out, self->out_index, self->out_full,
                       self->out_cap, &n, &err) != LAC_OK)
    return library_error(self, &err);
  self->staged = 0;
  take_outputs(self, n);
  return GST_FLOW_OK;
}

static void post_embedding_message(GstLacEncoder *self, GstBuffer *buf,
                                   const GstLacEmbeddingMeta *m) {
  GST_OBJECT_LOCK(self);
  gboolean post = self->post_messages;
  guint64 interval = self->message_interval;
  GST_OBJECT_UNLOCK(self);
  if (!post) return;
  GstClockTime ts = GST_BUFFER_PTS(buf);
  if (interval > 0 && GST_CLOCK_TIME_IS_VALID(ts) &&
      GST_CLOCK_TIME_IS_VALID(self->last_message_ts) && ts >= self->last_message_ts &&
      ts - self->last_message_ts < interval)
    return;
  self->last_message_ts = ts;
  GstClockTime rt = gst_segment_to_running_time(&GST_BASE_TRANSFORM(self)->segment,
                                                GST_FORMAT_TIME, ts);
  GstStructure *st = gst_structure_new(
      "lac-embedding", "timestamp", G_TYPE_UINT64, (guint64)ts, "running-time", G_TYPE_UINT64,
      (guint64)rt, "step", G_TYPE_UINT64, m->step, "flags", G_TYPE_UINT, (guint)m->flags,
      "reused", G_TYPE_BOOLEAN, (m->flags & GST_LAC_EMBEDDING_FLAG_REUSED) != 0,
      "window-partial", G_TYPE_BOOLEAN, (m->flags & GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL) != 0,
      "model-id", G_TYPE_STRING, m->model_id, "dim", G_TYPE_UINT, m->dim, "embedded",
      G_TYPE_UINT64, self->n_embedded, "reused-frames", G_TYPE_UINT64, self->n_reused,
      "skipped", G_TYPE_UINT64, self->n_skipped, NULL);
  GValue arr = G_VALUE_INIT;
  gst_value_array_init(&arr, m->dim);
  for (guint i = 0; i < m->dim; i++) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, G_TYPE_FLOAT);
    g_value_set_float(&v, m->data[i]);
    gst_value_array_append_and_take_value(&arr, &v);
  }
  gst_structure_take_value(st, "embedding", &arr);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), st));
}

/* Keep the row of a released buffer for embeddings-location. */
static void record(GstLacEncoder *self, GstBuffer *buf, const GstLacEmbeddingMeta *m) {
  if (!self->rec_data) return;
  g_array_append_vals(self->rec_data, m->data, m->dim);
  gint64 ts = GST_BUFFER_PTS_IS_VALID(buf) ? (gint64)GST_BUFFER_PTS(buf) : -1;
  g_array_append_val(self->rec_ts, ts);
  gint64 label = -1;
  GstLacPhaseMeta *pm = gst_buffer_get_lac_phase_meta(buf);
  if (pm) {
    self->rec_have_labels = TRUE;
    label = pm->phase;
    if (pm->phase >= 0 && pm->phase < 4096 && pm->phase_name) {
      if ((guint)pm->phase >= self->phase_names->len)
        g_ptr_array_set_size(self->phase_names, pm->phase + 1);
      g_ptr_array_index(self->phase_names, pm->phase) = (gpointer)g_intern_string(pm->phase_name);
    }
  }
  g_array_append_val(self->rec_labels, label);
}

/* Attach the embedding to the buffer (made writable), post and record it. */
static GstBuffer *attach(GstLacEncoder *self, GstBuffer *buf, const gfloat *data, gboolean full,
                         gboolean reused, gint64 step) {
  buf = gst_buffer_make_writable(buf);
  GstLacEmbeddingFlags flags = GST_LAC_EMBEDDING_FLAG_NONE;
  if (!full) flags |= GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL;
  if (reused) flags |= GST_LAC_EMBEDDING_FLAG_REUSED;
  GstLacEmbeddingMeta *m = gst_buffer_add_lac_embedding_meta(buf, data, (guint)self->dim,
                                                             self->model_id, flags, (guint64)step);
  if (reused)
    self->n_reused++;
  else
    self->n_embedded++;
  post_embedding_message(self, buf, m);
  record(self, buf, m);
  return buf;
}

/* Move held buffers whose embedding exists to `out`, in order.  With `final`, the rest (an
 * incomplete context group at a flush) leave too, with the last embedding (REUSED) if any. */
static void release(GstLacEncoder *self, GQueue *out, gboolean final) {
  GstLacHeld *h;
  while ((h = g_queue_peek_head(&self->held))) {
    gboolean reused;
    if (h->embed && !(self->have_last && self->last_step == h->step)) {
      GstLacEmb *e;
      while ((e = g_queue_peek_head(&self->ready)) && e->step < h->step)
        g_free(g_queue_pop_head(&self->ready));
      if (e && e->step == h->step) {
        g_queue_pop_head(&self->ready);
        memcpy(self->last, e->data, sizeof(gfloat) * (gsize)self->dim);
        self->last_step = e->step;
        self->last_full = e->full;
        self->have_last = TRUE;
        g_free(e);
        reused = FALSE;
      } else if (!final) {
        break; /* not computed yet */
      } else {
        reused = TRUE;
      }
    } else {
      reused = !h->embed;
    }
    g_queue_pop_head(&self->held);
    GstBuffer *buf = h->buf;
    h->buf = NULL;
    g_free(h);
    if (self->have_last)
      buf = attach(self, buf, self->last, self->last_full, reused, self->last_step);
    else
      GST_WARNING_OBJECT(self, "a frame leaves without an embedding (nothing computed yet)");
    g_queue_push_tail(out, buf);
  }
}

/* End of a stretch of stream (EOS, gap, new segment, DISCONT): embed what is staged, flush
 * the centred window's held-back steps, release every held buffer into `out`, reset. */
static GstFlowReturn drain(GstLacEncoder *self, GQueue *out) {
  if (!self->session) return GST_FLOW_OK;
  GstFlowReturn ret = GST_FLOW_OK;
  if (!g_queue_is_empty(&self->held)) {
    ret = run_staged(self);
    if (ret == GST_FLOW_OK) {
      lac_error err;
      lac_error_clear(&err);
      gint n = 0;
      if (lac_session_flush(self->session, self->out, self->out_index, self->out_full,
                            self->out_cap, &n, &err) != LAC_OK)
        ret = library_error(self, &err);
      else
        take_outputs(self, n);
    }
    release(self, out, TRUE);
  }
  reset_window(self);
  return ret;
}

/* Push the buffers of `q` downstream (from the streaming thread, outside the chain). */
static GstFlowReturn push_queue(GstLacEncoder *self, GQueue *q) {
  GstFlowReturn ret = GST_FLOW_OK;
  GstBuffer *b;
  while ((b = g_queue_pop_head(q))) {
    if (ret == GST_FLOW_OK)
      ret = gst_pad_push(GST_BASE_TRANSFORM_SRC_PAD(self), b);
    else
      gst_buffer_unref(b);
  }
  return ret;
}

/* Drop every held buffer and reset the window (flush). */
static void drop_held(GstLacEncoder *self) {
  g_queue_clear_full(&self->held, held_free);
  reset_window(self);
}

/* ---------------------------------------------------------------- embeddings file */

/* The embeddings file with the rows recorded since start, with the phase labels and names
 * the frames carried (GstLacPhaseMeta; names stored by the library as "lac.phase_names"). */
static gboolean write_embeddings(GstLacEncoder *self, const gchar *path) {
  const gint64 n = (gint64)self->rec_ts->len;
  lac_embeddings *emb = NULL;
  lac_error err;
  lac_error_clear(&err);
  if (lac_embeddings_new(n, self->dim, 1, self->rec_have_labels, &emb, &err) != LAC_OK) goto fail;
  if (n > 0) {
    memcpy(emb->data, self->rec_data->data, sizeof(gfloat) * (gsize)n * (gsize)self->dim);
    memcpy(emb->timestamps, self->rec_ts->data, sizeof(gint64) * (gsize)n);
    if (emb->labels) memcpy(emb->labels, self->rec_labels->data, sizeof(gint64) * (gsize)n);
  }
  g_strlcpy(emb->model_id, self->model_id, sizeof emb->model_id);
  if (self->rec_have_labels && self->phase_names->len > 0) {
    const gchar **names = g_new0(const gchar *, self->phase_names->len);
    for (guint k = 0; k < self->phase_names->len; k++) {
      const gchar *name = g_ptr_array_index(self->phase_names, k);
      names[k] = name ? name : "";
    }
    lac_status st = lac_embeddings_set_phase_names(emb, self->phase_names->len, names, &err);
    g_free(names);
    if (st != LAC_OK) goto fail;
  }
  if (lac_embeddings_write(path, emb, &err) != LAC_OK) goto fail;
  lac_embeddings_free(emb);
  GST_INFO_OBJECT(self, "wrote %" G_GINT64_FORMAT " embeddings to %s", n, path);
  return TRUE;
fail:
  lac_embeddings_free(emb);
  GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                    ("Could not write the embeddings file: %s", err.message),
                    ("embeddings-location=%s", path));
  return FALSE;
}

/* ---------------------------------------------------------------- GstBaseTransform */

static gboolean gst_lac_encoder_start(GstBaseTransform *trans) {
  GstLacEncoder *self = GST_LAC_ENCODER(trans);
  GST_OBJECT_LOCK(self);
  gchar *location = g_strdup(self->model_location);
  GstLacDevice device = self->device;
  gint threads = self->threads, batch = self->batch_size, window = self->window;
  lac_window_mode mode = self->window_mode;
  gboolean want_file = self->embeddings_location != NULL;
  GST_OBJECT_UNLOCK(self);

  if (!location || !*location) {
    g_free(location);
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No model: set model-location"),
                      ("lacencoder needs model-location=FILE, a lac model file (.safetensors), "
                       "e.g. one written by `lac train` or lac_model_save"));
    return FALSE;
  }
  if (device == GST_LAC_DEVICE_CUDA) {
    g_free(location);
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                      ("The CUDA encoder path is not available yet: use device=cpu or auto"),
                      ("this version of lacencoder runs the encoder on the CPU backend only"));
    return FALSE;
  }
  if (device == GST_LAC_DEVICE_AUTO)
    GST_INFO_OBJECT(self, "device=auto: using the CPU backend (%s)",
                    lac_have_cuda() ? "the encoder has no CUDA path in this version"
                                    : "lac was built without CUDA");

  lac_error err;
  lac_error_clear(&err);
  gboolean shared = FALSE;
  GstLacModelRef *ref = gst_lac_model_cache_acquire(location, threads, &shared, &err);
  if (!ref) {
    if (err.code == LAC_ERR_IO)
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("Could not load the model: %s", err.message),
                        ("model-location=%s", location));
    else
      GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Could not load the model: %s", err.message),
                        ("model-location=%s (%s)", location, lac_status_string(err.code)));
    g_free(location);
    return FALSE;
  }
  const lac_model *model = gst_lac_model_ref_model(ref);
  GST_INFO_OBJECT(self, "%s model %s from %s (users %u)", shared ? "sharing" : "loaded",
                  lac_model_id(model), location, gst_lac_model_ref_users(ref));
  g_free(location);

  lac_session_params sp = lac_session_default_params();
  sp.max_batch = batch;
  sp.window = window;
  sp.window_mode = mode;
  lac_session *session = NULL;
  if (lac_session_new(model, &sp, &session, &err) != LAC_OK) {
    gst_lac_model_cache_release(ref);
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Invalid settings for this model: %s",
                                                 err.message), (NULL));
    return FALSE;
  }
  const lac_arch *a = lac_model_arch(model);
  GST_OBJECT_LOCK(self);
  self->model_ref = ref;
  self->model = model;
  self->session = session;
  GST_OBJECT_UNLOCK(self);
  self->size = a->input_size;
  self->dim = a->embed_dim;
  self->ctx = a->context;
  self->model_id = g_strdup(lac_model_id(model));
  self->staging_cap = batch * a->context;
  self->staging = g_malloc((gsize)self->staging_cap * 3 * self->size * self->size);
  self->staged = 0;
  gint win = window > 0 ? window : a->train_len;
  self->out_cap = self->staging_cap / a->context + win + 1;
  self->out = g_new(gfloat, (gsize)self->out_cap * self->dim);
  self->out_index = g_new(gint64, self->out_cap);
  self->out_full = g_new(gint, self->out_cap);
  self->last = g_new0(gfloat, self->dim);
  self->live_known = FALSE;
  self->live = FALSE;
  self->n_embedded = self->n_reused = self->n_skipped = 0;
  self->last_message_ts = GST_CLOCK_TIME_NONE;
  GST_OBJECT_LOCK(self);
  self->earliest_time = GST_CLOCK_TIME_NONE;
  self->proportion = 1.0;
  GST_OBJECT_UNLOCK(self);
  reset_window(self);
  if (want_file) {
    self->rec_data = g_array_new(FALSE, FALSE, sizeof(gfloat));
    self->rec_ts = g_array_new(FALSE, FALSE, sizeof(gint64));
    self->rec_labels = g_array_new(FALSE, FALSE, sizeof(gint64));
    self->phase_names = g_ptr_array_new();
    self->rec_have_labels = FALSE;
  }
  return TRUE;
}

static gboolean gst_lac_encoder_stop(GstBaseTransform *trans) {
  GstLacEncoder *self = GST_LAC_ENCODER(trans);
  g_queue_clear_full(&self->held, held_free);
  g_queue_clear_full(&self->ready_out, (GDestroyNotify)gst_buffer_unref);
  clear_ready(self);
  GST_OBJECT_LOCK(self);
  GstLacModelRef *ref = self->model_ref;
  lac_session *session = self->session;
  self->session = NULL;
  self->model = NULL;
  self->model_ref = NULL;
  GST_OBJECT_UNLOCK(self);
  lac_session_free(session);
  gst_lac_model_cache_release(ref);
  g_clear_pointer(&self->model_id, g_free);
  g_clear_pointer(&self->staging, g_free);
  g_clear_pointer(&self->out, g_free);
  g_clear_pointer(&self->out_index, g_free);
  g_clear_pointer(&self->out_full, g_free);
  g_clear_pointer(&self->last, g_free);
  if (self->convert) gst_video_converter_free(self->convert);
  self->convert = NULL;
  gst_clear_buffer(&self->scratch);
  self->have_info = FALSE;
  if (self->rec_data) g_array_unref(self->rec_data);
  if (self->rec_ts) g_array_unref(self->rec_ts);
  if (self->rec_labels) g_array_unref(self->rec_labels);
  if (self->phase_names) g_ptr_array_unref(self->phase_names);
  self->rec_data = self->rec_ts = self->rec_labels = NULL;
  self->phase_names = NULL;
  return TRUE;
}

static gboolean gst_lac_encoder_set_caps(GstBaseTransform *trans, GstCaps *incaps,
                                         GstCaps *outcaps) {
  GstLacEncoder *self = GST_LAC_ENCODER(trans);
  (void)outcaps;
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, incaps)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("lacencoder cannot use these caps"),
                      ("caps %" GST_PTR_FORMAT, incaps));
    return FALSE;
  }
  if (!self->session) return FALSE;
  const gint w = GST_VIDEO_INFO_WIDTH(&info), h = GST_VIDEO_INFO_HEIGHT(&info);
  GST_OBJECT_LOCK(self);
  GstLacResize resize = self->resize;
  gint threads = self->threads;
  GST_OBJECT_UNLOCK(self);
  gint sx = 0, sy = 0, sw = w, sh = h;
  if (resize == GST_LAC_RESIZE_CROP) {
    gint side = MIN(w, h);
    sx = (w - side) / 2;
    sy = (h - side) / 2;
    if (GST_VIDEO_INFO_IS_YUV(&info)) { /* chroma-sited offsets */
      sx &= ~1;
      sy &= ~1;
    }
    sw = sh = side;
  }
  gst_video_info_set_format(&self->rgb_info, GST_VIDEO_FORMAT_RGB, (guint)self->size,
                            (guint)self->size);
  /* the converter wants the same rate and interlacing on both sides */
  GST_VIDEO_INFO_FPS_N(&self->rgb_info) = GST_VIDEO_INFO_FPS_N(&info);
  GST_VIDEO_INFO_FPS_D(&self->rgb_info) = GST_VIDEO_INFO_FPS_D(&info);
  GST_VIDEO_INFO_INTERLACE_MODE(&self->rgb_info) = GST_VIDEO_INFO_INTERLACE_MODE(&info);
  GstStructure *opts = gst_structure_new(
      "lacencoder-convert", GST_VIDEO_CONVERTER_OPT_SRC_X, G_TYPE_INT, sx,
      GST_VIDEO_CONVERTER_OPT_SRC_Y, G_TYPE_INT, sy, GST_VIDEO_CONVERTER_OPT_SRC_WIDTH, G_TYPE_INT,
      sw, GST_VIDEO_CONVERTER_OPT_SRC_HEIGHT, G_TYPE_INT, sh, GST_VIDEO_CONVERTER_OPT_THREADS,
      G_TYPE_UINT, (guint)(threads > 0 ? threads : 1), NULL);
  GstVideoConverter *conv = gst_video_converter_new(&info, &self->rgb_info, opts);
  if (!conv) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("lacencoder cannot convert %s %dx%d to the model's RGB input",
                       gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info)), w, h),
                      (NULL));
    return FALSE;
  }
  if (self->convert) gst_video_converter_free(self->convert);
  self->convert = conv;
  if (!self->scratch)
    self->scratch = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&self->rgb_info), NULL);
  self->in_info = info;
  self->have_info = TRUE;
  GST_DEBUG_OBJECT(self, "%s %dx%d: source rectangle %d,%d %dx%d -> RGB %dx%d",
                   gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info)), w, h, sx, sy, sw,
                   sh, self->size, self->size);
  return TRUE;
}

/* Convert buf's frame into the next staging slot. */
static gboolean stage_frame(GstLacEncoder *self, GstBuffer *buf) {
  GstVideoFrame in, out;
  if (!gst_video_frame_map(&in, &self->in_info, buf, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the video frame"),
                      ("the buffer does not match the negotiated caps"));
    return FALSE;
  }
  if (!gst_video_frame_map(&out, &self->rgb_info, self->scratch, GST_MAP_WRITE)) {
    gst_video_frame_unmap(&in);
    GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Could not map the scratch frame"), (NULL));
    return FALSE;
  }
  gst_video_converter_frame(self->convert, &in, &out);
  const gsize row = (gsize)3 * self->size;
  guint8 *dst = self->staging + (gsize)self->staged * row * self->size;
  const guint8 *src = GST_VIDEO_FRAME_PLANE_DATA(&out, 0);
  const gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(&out, 0);
  for (gint y = 0; y < self->size; y++) memcpy(dst + y * row, src + (gsize)y * stride, row);
  gst_video_frame_unmap(&out);
  gst_video_frame_unmap(&in);
  self->staged++;
  return TRUE;
}

/* Is the buffer too late to embed (QoS, live upstream only)? */
static gboolean too_late(GstLacEncoder *self, GstBuffer *buf) {
  GstBaseTransform *trans = GST_BASE_TRANSFORM(self);
  if (!self->live || self->frames_in_session == 0 || !gst_base_transform_is_qos_enabled(trans))
    return FALSE;
  if (trans->segment.format != GST_FORMAT_TIME || !GST_BUFFER_PTS_IS_VALID(buf)) return FALSE;
  GstClockTime rt =
      gst_segment_to_running_time(&trans->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
  GST_OBJECT_LOCK(self);
  GstClockTime earliest = self->earliest_time;
  GST_OBJECT_UNLOCK(self);
  return GST_CLOCK_TIME_IS_VALID(rt) && GST_CLOCK_TIME_IS_VALID(earliest) && rt <= earliest;
}

static void post_qos(GstLacEncoder *self, GstBuffer *buf) {
  GstBaseTransform *trans = GST_BASE_TRANSFORM(self);
  GstClockTime ts = GST_BUFFER_PTS(buf);
  GstClockTime rt = gst_segment_to_running_time(&trans->segment, GST_FORMAT_TIME, ts);
  GstClockTime stream_time = gst_segment_to_stream_time(&trans->segment, GST_FORMAT_TIME, ts);
  GST_OBJECT_LOCK(self);
  GstClockTime earliest = self->earliest_time;
  gdouble proportion = self->proportion;
  GST_OBJECT_UNLOCK(self);
  GstMessage *msg = gst_message_new_qos(GST_OBJECT(self), self->live, rt, stream_time, ts,
                                        GST_BUFFER_DURATION(buf));
  gst_message_set_qos_values(msg, (gint64)earliest - (gint64)rt, proportion, 1000000);
  gst_message_set_qos_stats(msg, GST_FORMAT_BUFFERS, self->n_embedded, self->n_skipped);
  gst_element_post_message(GST_ELEMENT(self), msg);
}

static GstFlowReturn gst_lac_encoder_submit_input_buffer(GstBaseTransform *trans,
                                                         gboolean is_discont, GstBuffer *buf) {
  GstLacEncoder *self = GST_LAC_ENCODER(trans);
  (void)is_discont;
  if (!self->have_info || !self->session) {
    gst_buffer_unref(buf);
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (NULL), ("format was not negotiated"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (!self->live_known) {
    GstQuery *q = gst_query_new_latency();
    if (gst_pad_peer_query(GST_BASE_TRANSFORM_SINK_PAD(trans), q))
      gst_query_parse_latency(q, &self->live, NULL, NULL);
    gst_query_unref(q);
    self->live_known = TRUE;
    GST_DEBUG_OBJECT(self, "upstream is %slive", self->live ? "" : "not ");
  }
  GQueue out = G_QUEUE_INIT;
  GstFlowReturn ret = GST_FLOW_OK;
  if (GST_BUFFER_IS_DISCONT(buf) && (self->frames_in_session > 0 || self->stride_count > 0)) {
    GST_DEBUG_OBJECT(self, "DISCONT: window reset");
    ret = drain(self, &out);
  }
  GST_OBJECT_LOCK(self);
  guint64 stride = (guint64)self->frame_stride;
  GST_OBJECT_UNLOCK(self);

  GstLacHeld *h = g_new0(GstLacHeld, 1);
  h->buf = buf;
  gboolean by_stride = self->stride_count % stride == 0 || self->frames_in_session == 0;
  self->stride_count++;
  if (ret == GST_FLOW_OK && by_stride && too_late(self, buf)) {
    self->n_skipped++;
    GST_DEBUG_OBJECT(self, "late frame %" GST_TIME_FORMAT ": not embedded (QoS)",
                     GST_TIME_ARGS(GST_BUFFER_PTS(buf)));
    post_qos(self, buf);
    by_stride = FALSE;
  }
  if (ret == GST_FLOW_OK && by_stride) {
    if (!stage_frame(self, buf)) {
      held_free(h);
      g_queue_clear_full(&out, (GDestroyNotify)gst_buffer_unref);
      return GST_FLOW_ERROR;
    }
    h->embed = TRUE;
    h->step = self->frames_in_session / self->ctx;
    self->frames_in_session++;
    /* a live upstream: run each context group at once; else fill the batch first */
    gint want = self->live ? self->ctx : self->staging_cap;
    if (self->staged >= want) ret = run_staged(self);
  }
  /* a reused frame always follows an embedded one since the reset: it leaves after it */
  g_queue_push_tail(&self->held, h);
  if (ret == GST_FLOW_OK) release(self, &out, FALSE);
  /* the chain loop pulls them one by one through generate_output */
  GstBuffer *b;
  while ((b = g_queue_pop_head(&out))) g_queue_push_tail(&self->ready_out, b);
  return ret;
}

static GstFlowReturn gst_lac_encoder_generate_output(GstBaseTransform *trans,
                                                     GstBuffer **outbuf) {
  GstLacEncoder *self = GST_LAC_ENCODER(trans);
  *outbuf = g_queue_pop_head(&self->ready_out);
  return GST_FLOW_OK;
}

static gboolean gst_lac_encoder_sink_event(GstBaseTransform *trans, GstEvent *event) {
  GstLacEncoder *self = GST_LAC_ENCODER(trans);
  switch (GST_EVENT_TYPE(event)) {
  case GST_EVENT_FLUSH_STOP:
    GST_DEBUG_OBJECT(self, "flush: %u held buffers dropped, window reset",
                     g_queue_get_length(&self->held));
    drop_held(self);
    g_queue_clear_full(&self->ready_out, (GDestroyNotify)gst_buffer_unref);
    GST_OBJECT_LOCK(self);
    self->earliest_time = GST_CLOCK_TIME_NONE;
    GST_OBJECT_UNLOCK(self);
    break;
  case GST_EVENT_EOS:
  case GST_EVENT_GAP:
  case GST_EVENT_SEGMENT: {
    GQueue out = G_QUEUE_INIT;
    GstFlowReturn ret = drain(self, &out);
    GST_DEBUG_OBJECT(self, "%s: %u buffers released, window reset", GST_EVENT_TYPE_NAME(event),
                     g_queue_get_length(&out));
    GstFlowReturn pret = push_queue(self, &out);
    if (ret == GST_FLOW_OK) ret = pret;
    if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && self->rec_data) {
      GST_OBJECT_LOCK(self);
      gchar *path = g_strdup(self->embeddings_location);
      GST_OBJECT_UNLOCK(self);
      gboolean ok = !path || write_embeddings(self, path);
      g_free(path);
      if (!ok) {
        gst_event_unref(event);
        return FALSE;
      }
    }
    if (ret == GST_FLOW_ERROR) {
      gst_event_unref(event);
      return FALSE;
    }
    break;
  }
  default:
    break;
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->sink_event(trans, event);
}

static gboolean gst_lac_encoder_src_event(GstBaseTransform *trans, GstEvent *event) {
  GstLacEncoder *self = GST_LAC_ENCODER(trans);
  if (GST_EVENT_TYPE(event) == GST_EVENT_QOS) {
    GstQOSType type;
    gdouble proportion;
    GstClockTimeDiff diff;
    GstClockTime timestamp;
    gst_event_parse_qos(event, &type, &proportion, &diff, &timestamp);
    GST_OBJECT_LOCK(self);
    self->proportion = proportion;
    if (GST_CLOCK_TIME_IS_VALID(timestamp)) {
      /* late (diff > 0): skip until the lateness is caught up twice over */
      if (diff > 0)
        self->earliest_time = timestamp + 2 * (GstClockTime)diff;
      else
        self->earliest_time = timestamp + diff > 0 ? timestamp + diff : 0;
    }
    GST_OBJECT_UNLOCK(self);
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->src_event(trans, event);
}

static gboolean gst_lac_encoder_query(GstBaseTransform *trans, GstPadDirection direction,
                                      GstQuery *query) {
  GstLacEncoder *self = GST_LAC_ENCODER(trans);
  if (direction == GST_PAD_SRC && GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    if (!gst_pad_peer_query(GST_BASE_TRANSFORM_SINK_PAD(trans), query)) return FALSE;
    gboolean live;
    GstClockTime min, max;
    gst_query_parse_latency(query, &live, &min, &max);
    gint frames = held_frames(self, live);
    GstClockTime dur = frame_duration(self);
    if (frames > 0) {
      if (!GST_CLOCK_TIME_IS_VALID(dur)) {
        GST_WARNING_OBJECT(self, "variable frame rate: cannot express %d held frames as latency",
                           frames);
      } else {
        GstClockTime add = dur * (GstClockTime)frames;
        min += add;
        if (GST_CLOCK_TIME_IS_VALID(max)) max += add;
      }
    }
    GST_DEBUG_OBJECT(self, "latency: live %d, %d held frames, min %" GST_TIME_FORMAT, live,
                     frames, GST_TIME_ARGS(min));
    gst_query_set_latency(query, live, min, max);
    return TRUE;
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->query(trans, direction, query);
}

/* ---------------------------------------------------------------- GObject */

static gchar *model_info(GstLacEncoder *self) {
  GST_OBJECT_LOCK(self);
  gchar *s;
  if (!self->model) {
    s = g_strdup("");
  } else {
    const lac_arch *a = lac_model_arch(self->model);
    s = g_strdup_printf("architecture=%s input-size=%d embed-dim=%d context=%d train-len=%d "
                        "model-id=%s users=%u",
                        lac_trunk_name(a->trunk), a->input_size, a->embed_dim, a->context,
                        a->train_len, lac_model_id(self->model),
                        gst_lac_model_ref_users(self->model_ref));
  }
  GST_OBJECT_UNLOCK(self);
  return s;
}

static void gst_lac_encoder_set_property(GObject *object, guint prop_id, const GValue *value,
                                         GParamSpec *pspec) {
  GstLacEncoder *self = GST_LAC_ENCODER(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
  case PROP_MODEL_LOCATION:
    g_free(self->model_location);
    self->model_location = g_value_dup_string(value);
    break;
  case PROP_DEVICE: self->device = (GstLacDevice)g_value_get_enum(value); break;
  case PROP_BATCH_SIZE: self->batch_size = g_value_get_int(value); break;
  case PROP_WINDOW: self->window = g_value_get_int(value); break;
  case PROP_WINDOW_MODE: self->window_mode = (lac_window_mode)g_value_get_enum(value); break;
  case PROP_FRAME_STRIDE: self->frame_stride = g_value_get_int(value); break;
  case PROP_THREADS: self->threads = g_value_get_int(value); break;
  case PROP_RESIZE: self->resize = (GstLacResize)g_value_get_enum(value); break;
  case PROP_POST_MESSAGES: self->post_messages = g_value_get_boolean(value); break;
  case PROP_MESSAGE_INTERVAL: self->message_interval = g_value_get_uint64(value); break;
  case PROP_EMBEDDINGS_LOCATION:
    g_free(self->embeddings_location);
    self->embeddings_location = g_value_dup_string(value);
    break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_lac_encoder_get_property(GObject *object, guint prop_id, GValue *value,
                                         GParamSpec *pspec) {
  GstLacEncoder *self = GST_LAC_ENCODER(object);
  if (prop_id == PROP_MODEL_INFO) {
    g_value_take_string(value, model_info(self));
    return;
  }
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
  case PROP_MODEL_LOCATION: g_value_set_string(value, self->model_location); break;
  case PROP_DEVICE: g_value_set_enum(value, (gint)self->device); break;
  case PROP_BATCH_SIZE: g_value_set_int(value, self->batch_size); break;
  case PROP_WINDOW: g_value_set_int(value, self->window); break;
  case PROP_WINDOW_MODE: g_value_set_enum(value, (gint)self->window_mode); break;
  case PROP_FRAME_STRIDE: g_value_set_int(value, self->frame_stride); break;
  case PROP_THREADS: g_value_set_int(value, self->threads); break;
  case PROP_RESIZE: g_value_set_enum(value, (gint)self->resize); break;
  case PROP_POST_MESSAGES: g_value_set_boolean(value, self->post_messages); break;
  case PROP_MESSAGE_INTERVAL: g_value_set_uint64(value, self->message_interval); break;
  case PROP_EMBEDDINGS_LOCATION: g_value_set_string(value, self->embeddings_location); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_lac_encoder_finalize(GObject *object) {
  GstLacEncoder *self = GST_LAC_ENCODER(object);
  g_free(self->model_location);
  g_free(self->embeddings_location);
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_lac_encoder_init(GstLacEncoder *self) {
  self->batch_size = DEFAULT_BATCH_SIZE;
  self->window = DEFAULT_WINDOW;
  self->window_mode = LAC_WINDOW_CAUSAL;
  self->frame_stride = DEFAULT_FRAME_STRIDE;
  self->threads = DEFAULT_THREADS;
  self->device = GST_LAC_DEVICE_AUTO;
  self->resize = GST_LAC_RESIZE_CROP;
  g_queue_init(&self->held);
  g_queue_init(&self->ready);
  g_queue_init(&self->ready_out);
  self->earliest_time = GST_CLOCK_TIME_NONE;
  self->proportion = 1.0;
  /* attaching a meta is a change: never passthrough; QoS on, as video filters do */
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), FALSE);
  gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(self), TRUE);
}

static void gst_lac_encoder_class_init(GstLacEncoderClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  const GParamFlags ready = rw | GST_PARAM_MUTABLE_READY;
  const GParamFlags playing = rw | GST_PARAM_MUTABLE_PLAYING;

  gobject_class->set_property = gst_lac_encoder_set_property;
  gobject_class->get_property = gst_lac_encoder_get_property;
  gobject_class->finalize = gst_lac_encoder_finalize;

  g_object_class_install_property(
      gobject_class, PROP_MODEL_LOCATION,
      g_param_spec_string("model-location", "Model location",
                          "The lac model file (.safetensors); required", NULL, ready));
  g_object_class_install_property(
      gobject_class, PROP_DEVICE,
      g_param_spec_enum("device", "Device",
                        "Where the encoder runs: auto and cpu use the CPU backend; cuda is an "
                        "error in this version (no CUDA encoder path yet)",
                        GST_TYPE_LAC_DEVICE, GST_LAC_DEVICE_AUTO, ready));
  g_object_class_install_property(
      gobject_class, PROP_BATCH_SIZE,
      g_param_spec_int("batch-size", "Batch size",
                       "Steps run through the trunk together; buffers wait for a full batch "
                       "(added to the latency) unless the upstream is live",
                       1, 256, DEFAULT_BATCH_SIZE, ready));
  g_object_class_install_property(
      gobject_class, PROP_WINDOW,
      g_param_spec_int("window", "Window",
                       "Steps of temporal context seen by the transformer; 0 = the model's "
                       "train_len",
                       0, 4096, DEFAULT_WINDOW, ready));
  g_object_class_install_property(
      gobject_class, PROP_WINDOW_MODE,
      g_param_spec_enum("window-mode", "Window mode",
                        "causal: the window ends at the frame (no latency); centred: the frame "
                        "waits for window/2 later steps (reported as latency)",
                        GST_TYPE_LAC_WINDOW_MODE, LAC_WINDOW_CAUSAL, ready));
  g_object_class_install_property(
      gobject_class, PROP_FRAME_STRIDE,
      g_param_spec_int("frame-stride", "Frame stride",
                       "Embed every k-th frame; the others carry the last embedding flagged "
                       "REUSED",
                       1, 1000, DEFAULT_FRAME_STRIDE, playing));
  g_object_class_install_property(
      gobject_class, PROP_THREADS,
      g_param_spec_int("threads", "Threads",
                       "CPU threads of the backend loading the model (0 = all cores); a model "
                       "shared with another lacencoder keeps the threads of its first loader",
                       0, 1024, DEFAULT_THREADS, ready));
  g_object_class_install_property(
      gobject_class, PROP_RESIZE,
      g_param_spec_enum("resize", "Resize",
                        "How frames become the model's square input: crop (the centred largest "
                        "square, as `lac embed --resize crop`) or squash (the whole frame)",
                        GST_TYPE_LAC_RESIZE, GST_LAC_RESIZE_CROP, ready));
  g_object_class_install_property(
      gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean("post-messages", "Post messages",
                           "Post a lac-embedding element message per frame (or per "
                           "message-interval)",
                           FALSE, playing));
  g_object_class_install_property(
      gobject_class, PROP_MESSAGE_INTERVAL,
      g_param_spec_uint64("message-interval", "Message interval",
                          "Least time between two lac-embedding messages (ns, by buffer "
                          "timestamps); 0 = every frame",
                          0, G_MAXUINT64, 0, playing));
  g_object_class_install_property(
      gobject_class, PROP_EMBEDDINGS_LOCATION,
      g_param_spec_string("embeddings-location", "Embeddings location",
                          "At EOS write every frame's embedding, timestamp and phase label (from "
                          "GstLacPhaseMeta) to this embeddings file (.safetensors)",
                          NULL, ready));
  g_object_class_install_property(
      gobject_class, PROP_MODEL_INFO,
      g_param_spec_string("model-info", "Model info",
                          "The loaded model (from READY to PAUSED on): architecture, input size, "
                          "embedding size, context, train_len, model id, elements sharing it",
                          NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "LAC video encoder", "Filter/Analyzer/Video",
      "Attaches the frame-wise LAC embedding of the video to every buffer (GstLacEmbeddingMeta)",
      "lac");

  trans_class->start = GST_DEBUG_FUNCPTR(gst_lac_encoder_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_lac_encoder_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_lac_encoder_set_caps);
  trans_class->submit_input_buffer = GST_DEBUG_FUNCPTR(gst_lac_encoder_submit_input_buffer);
  trans_class->generate_output = GST_DEBUG_FUNCPTR(gst_lac_encoder_generate_output);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_lac_encoder_sink_event);
  trans_class->src_event = GST_DEBUG_FUNCPTR(gst_lac_encoder_src_event);
  trans_class->query = GST_DEBUG_FUNCPTR(gst_lac_encoder_query);
  trans_class->passthrough_on_same_caps = FALSE;

  gst_type_mark_as_plugin_api(GST_TYPE_LAC_DEVICE, 0);
  gst_type_mark_as_plugin_api(GST_TYPE_LAC_WINDOW_MODE, 0);
  gst_type_mark_as_plugin_api(GST_TYPE_LAC_RESIZE, 0);
  GST_DEBUG_CATEGORY_INIT(gst_lac_encoder_debug, "lacencoder", 0, "LAC video encoder");
}
