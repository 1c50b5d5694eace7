/* test_lacmeta.c — gst-check tests of the gstlac-1.0 metas (GstLacEmbeddingMeta,
 * GstLacPhaseMeta) on their own and through real elements.
 *
 * The oracle for "which frame is this" is the picture itself: every source frame is a flat
 * grey of its own level, so after conversion, scaling and rate changes the output's luma
 * still names its source frame independently of any meta; the meta must name the same frame.
 * Checked: add/get, values copied in (not referenced), the values freed with the meta
 * (heap in use before and after many large metas), bad arguments refused, copies on
 * gst_buffer_copy / copy_region / copy_deep / make_writable, and survival through
 * appsrc ! videoconvert ! videoscale ! videorate ! tee ! queue ! appsink with a format, size,
 * rate change (videorate duplicating, then dropping) and a mid-stream caps change; plus a
 * table of further elements (the list in docs/metas.md).  Not here: lacencoder (its own
 * tests check the values it computes).  Run with GST_TRACERS=leaks and CK_FORK=no.
 */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/check/gstcheck.h>
#include <gst/lac/lacmeta.h>
#include <gst/video/video.h>
#include <malloc.h>
#include <string.h>

/* ---------------------------------------------------------------- fixture */

/* with CK_FORK=no a failed check leaves its pipeline behind: the teardown stops it */
static GstElement *held_pipe;

static void release_pipeline(void) {
  if (held_pipe) {
    gst_element_set_state(held_pipe, GST_STATE_NULL);
    gst_object_unref(held_pipe);
  }
  held_pipe = NULL;
}

static void teardown(void) { release_pipeline(); }

/* The library logs its refusals (g_return_val_if_fail) in the "GstLac" domain, which
 * gst-check's ASSERT_CRITICAL does not watch: count them here instead. */
static guint lac_criticals;

static void count_critical(const gchar *domain, GLogLevelFlags level, const gchar *message,
                           gpointer data) {
  (void)domain;
  (void)level;
  (void)data;
  GST_INFO("expected refusal: %s", message);
  lac_criticals++;
}

#define ASSERT_LAC_CRITICAL(stmt)                                            \
  do {                                                                       \
    guint before_ = lac_criticals;                                           \
    stmt;                                                                    \
    fail_unless(lac_criticals == before_ + 1, "no critical from: %s", #stmt); \
  } while (0)

#define MODEL_ID "0123456789abcdef"

/* the embedding of source frame `frame`: values[j] = frame * 1000 + j / 8 - 3 (exact floats) */
static void frame_values(guint frame, gfloat *values, guint dim) {
  for (guint j = 0; j < dim; j++) values[j] = (gfloat)frame * 1000.0f + (gfloat)j / 8.0f - 3.0f;
}

/* ---------------------------------------------------------------- the meta alone */

GST_START_TEST(test_embedding_add_get) {
  enum { DIM = 128 };
  gfloat v[DIM];
  frame_values(7, v, DIM);
  GstBuffer *buf = gst_buffer_new_allocate(NULL, 16, NULL);
  fail_unless(gst_buffer_get_lac_embedding_meta(buf) == NULL, "a new buffer has a meta");
  GstLacEmbeddingMeta *m = gst_buffer_add_lac_embedding_meta(
      buf, v, DIM, MODEL_ID, GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL | GST_LAC_EMBEDDING_FLAG_REUSED,
      G_GUINT64_CONSTANT(1) << 40);
  fail_unless(m != NULL);
  fail_unless(gst_buffer_get_lac_embedding_meta(buf) == m);
  fail_unless_equals_int(m->dim, DIM);
  fail_unless(m->data != v, "the values are referenced, not copied");
  fail_unless(memcmp(m->data, v, sizeof v) == 0);
  fail_unless_equals_string(m->model_id, MODEL_ID);
  fail_unless(m->model_id == g_intern_string(MODEL_ID), "the model id is not interned");
  fail_unless_equals_int(m->flags,
                         GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL | GST_LAC_EMBEDDING_FLAG_REUSED);
  fail_unless_equals_uint64(m->step, G_GUINT64_CONSTANT(1) << 40);
  /* the caller's array may change or go away */
  v[0] = 12345.0f;
  fail_unless(m->data[0] == 7000.0f - 3.0f);
  guint n = 0;
  const gfloat *vals = gst_lac_embedding_meta_get_values(m, &n);
  fail_unless(vals == m->data);
  fail_unless_equals_int(n, DIM);
  fail_unless(gst_buffer_get_meta(buf, GST_LAC_EMBEDDING_META_API_TYPE) == (GstMeta *)m);
  fail_unless(((GstMeta *)m)->info == GST_LAC_EMBEDDING_META_INFO);
  const gchar *const *tags = gst_meta_api_type_get_tags(GST_LAC_EMBEDDING_META_API_TYPE);
  fail_unless(tags == NULL || tags[0] == NULL, "the API has tags: elements may drop it");

  /* no model id */
  GstBuffer *b2 = gst_buffer_new();
  m = gst_buffer_add_lac_embedding_meta(b2, v, 1, NULL, GST_LAC_EMBEDDING_FLAG_NONE, 0);
  fail_unless(m != NULL && m->model_id == NULL && m->dim == 1 && m->data[0] == 12345.0f);
  gst_buffer_unref(b2);

  /* refused: no values, a read-only buffer */
  ASSERT_LAC_CRITICAL(m = gst_buffer_add_lac_embedding_meta(buf, v, 0, NULL, 0, 0));
  ASSERT_LAC_CRITICAL(m = gst_buffer_add_lac_embedding_meta(buf, NULL, 4, NULL, 0, 0));
  gst_buffer_ref(buf);
  ASSERT_LAC_CRITICAL(m = gst_buffer_add_lac_embedding_meta(buf, v, DIM, NULL, 0, 0));
  fail_unless(m == NULL);
  gst_buffer_unref(buf);
  guint metas = 0;
  gpointer state = NULL;
  while (gst_buffer_iterate_meta(buf, &state)) metas++;
  fail_unless_equals_int(metas, 1);
  gst_buffer_unref(buf);
}
GST_END_TEST;

/* bytes the heap holds for the program (arena + mmapped chunks) */
static size_t heap_in_use(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

GST_START_TEST(test_embedding_freed) {
  /* 64 metas of 1 MiB each, on buffers and their copies: if the meta's free or the copy
   * leaked the values, the heap would grow by 128 MiB */
  enum { N = 64, DIM = 256 * 1024 };
  gfloat *v = g_new(gfloat, DIM);
  frame_values(3, v, DIM);
  /* one round first, so GStreamer's own one-off allocations do not count */
  GstBuffer *warm = gst_buffer_new();
  gst_buffer_add_lac_embedding_meta(warm, v, DIM, MODEL_ID, 0, 0);
  GstBuffer *warm2 = gst_buffer_copy(warm);
  gst_buffer_unref(warm);
  gst_buffer_unref(warm2);

  size_t before = heap_in_use();
  for (int i = 0; i < N; i++) {
    GstBuffer *b = gst_buffer_new();
    fail_unless(gst_buffer_add_lac_embedding_meta(b, v, DIM, MODEL_ID, 0, (guint64)i) != NULL);
    GstBuffer *c = gst_buffer_copy(b);
    gst_buffer_unref(b);
    GstLacEmbeddingMeta *m = gst_buffer_get_lac_embedding_meta(c);
    fail_unless(m != NULL && m->step == (guint64)i, "the copy lost its meta");
    gst_buffer_unref(c);
  }
  /* removing the meta from a buffer that lives on frees it too */
  GstBuffer *b = gst_buffer_new();
  for (int i = 0; i < N; i++) {
    GstLacEmbeddingMeta *m = gst_buffer_add_lac_embedding_meta(b, v, DIM, NULL, 0, 0);
    fail_unless(gst_buffer_remove_meta(b, (GstMeta *)m));
  }
  fail_unless(gst_buffer_get_lac_embedding_meta(b) == NULL);
  gst_buffer_unref(b);
  size_t after = heap_in_use();
  fail_unless(after < before + (size_t)DIM * sizeof(gfloat),
              "heap grew by %zu bytes over %d metas of %zu bytes", after - before, 3 * N,
              (size_t)DIM * sizeof(gfloat));
  g_free(v);
}
GST_END_TEST;

static void check_embedding_copy(GstBuffer *copy, const GstLacEmbeddingMeta *orig,
                                 const char *how) {
  GstLacEmbeddingMeta *m = gst_buffer_get_lac_embedding_meta(copy);
  fail_unless(m != NULL, "%s lost the embedding meta", how);
  fail_unless(m != orig && m->data != orig->data, "%s shares the meta's values", how);
  fail_unless_equals_int(m->dim, orig->dim);
  fail_unless(memcmp(m->data, orig->data, sizeof(gfloat) * orig->dim) == 0, "%s: values", how);
  fail_unless(m->model_id == orig->model_id, "%s: model id", how);
  fail_unless_equals_int(m->flags, orig->flags);
  fail_unless_equals_uint64(m->step, orig->step);
  guint metas = 0;
  gpointer state = NULL;
  while (gst_buffer_iterate_meta_filtered(copy, &state, GST_LAC_EMBEDDING_META_API_TYPE)) metas++;
  fail_unless_equals_int(metas, 1);
}

static void check_phase_copy(GstBuffer *copy, const char *how) {
  GstLacPhaseMeta *p = gst_buffer_get_lac_phase_meta(copy);
  fail_unless(p != NULL, "%s lost the phase meta", how);
  fail_unless_equals_int(p->phase, 2);
  fail_unless_equals_int(p->n_phases, 5);
  fail_unless_equals_string(p->phase_name, "pour");
  fail_unless_equals_string(p->action, "pour");
  fail_unless_equals_int(p->repetition, 1);
  fail_unless_equals_uint64(p->video_index, 3);
  fail_unless_equals_uint64(p->frame_index, 17);
}

GST_START_TEST(test_copies) {
  enum { DIM = 128 };
  gfloat v[DIM];
  frame_values(11, v, DIM);
  GstBuffer *a = gst_buffer_new_allocate(NULL, 64, NULL);
  GstLacEmbeddingMeta *orig = gst_buffer_add_lac_embedding_meta(
      a, v, DIM, MODEL_ID, GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL, 42);
  fail_unless(gst_buffer_add_lac_phase_meta(a, "pour", 2, 5, "pour", 1, 3, 17) != NULL);

  GstBuffer *c = gst_buffer_copy(a);
  check_embedding_copy(c, orig, "gst_buffer_copy");
  check_phase_copy(c, "gst_buffer_copy");
  gst_buffer_unref(c);

  c = gst_buffer_copy_deep(a);
  check_embedding_copy(c, orig, "gst_buffer_copy_deep");
  check_phase_copy(c, "gst_buffer_copy_deep");
  gst_buffer_unref(c);

  c = gst_buffer_copy_region(a, GST_BUFFER_COPY_ALL, 8, 16);
  check_embedding_copy(c, orig, "gst_buffer_copy_region");
  check_phase_copy(c, "gst_buffer_copy_region");
  gst_buffer_unref(c);

  /* copy_into a buffer that already has one: the copy adds a second (the caller's choice) */
  c = gst_buffer_new();
  fail_unless(gst_buffer_copy_into(c, a, GST_BUFFER_COPY_META, 0, -1));
  check_embedding_copy(c, orig, "gst_buffer_copy_into");
  gst_buffer_unref(c);

  /* make_writable on a shared buffer copies it, metas included */
  GstBuffer *shared = gst_buffer_ref(a);
  GstBuffer *w = gst_buffer_make_writable(shared);
  fail_unless(w != a, "make_writable did not copy a shared buffer");
  check_embedding_copy(w, orig, "gst_buffer_make_writable");
  check_phase_copy(w, "gst_buffer_make_writable");
  /* the copy is independent: changing it leaves the original alone */
  gst_buffer_get_lac_embedding_meta(w)->data[0] = -1.0f;
  fail_unless(orig->data[0] == v[0]);
  gst_buffer_unref(w);
  /* the original outlives the copies and still holds its values */
  fail_unless(memcmp(orig->data, v, sizeof v) == 0);
  gst_buffer_unref(a);
}
GST_END_TEST;

GST_START_TEST(test_phase_add_get) {
  GstBuffer *buf = gst_buffer_new();
  fail_unless(gst_buffer_get_lac_phase_meta(buf) == NULL);
  GstLacPhaseMeta *p = gst_buffer_add_lac_phase_meta(buf, "squat", 3, 4, "up", 2, 1, 99);
  fail_unless(p != NULL && gst_buffer_get_lac_phase_meta(buf) == p);
  fail_unless(p->action == g_intern_string("squat") && p->phase_name == g_intern_string("up"));
  fail_unless_equals_int(p->phase, 3);
  fail_unless_equals_int(p->repetition, 2);
  fail_unless_equals_uint64(p->video_index, 1);
  fail_unless_equals_uint64(p->frame_index, 99);
  const gchar *const *tags = gst_meta_api_type_get_tags(GST_LAC_PHASE_META_API_TYPE);
  fail_unless(tags == NULL || tags[0] == NULL, "the API has tags: elements may drop it");
  /* a phase outside -1 .. n_phases - 1 is refused */
  ASSERT_LAC_CRITICAL(p = gst_buffer_add_lac_phase_meta(buf, "squat", 4, 4, "x", 0, 0, 0));
  fail_unless(p == NULL);
  ASSERT_LAC_CRITICAL(p = gst_buffer_add_lac_phase_meta(buf, "squat", -2, 4, NULL, 0, 0, 0));
  /* unlabelled: no phase name */
  p = gst_buffer_add_lac_phase_meta(buf, NULL, -1, 4, "ignored", -1, 0, 0);
  fail_unless(p != NULL && p->phase_name == NULL && p->action == NULL);
  gst_buffer_unref(buf);
}
GST_END_TEST;

/* ---------------------------------------------------------------- through real elements */

/* Source frame i: flat grey of level 16 + 9 i (i < 25), RGB, w x h, PTS i / fps, with an
 * embedding meta (frame_values(i), step i) and a phase meta (frame_index i). */
#define MAX_FRAMES 25
static guint8 frame_grey(guint i) { return (guint8)(16 + 9 * i); }

static GstBuffer *make_frame(guint i, int w, int h, int fps) {
  gsize size = (gsize)GST_ROUND_UP_4(w * 3) * h;
  GstBuffer *buf = gst_buffer_new_allocate(NULL, size, NULL);
  gst_buffer_memset(buf, 0, frame_grey(i), size);
  GST_BUFFER_PTS(buf) = gst_util_uint64_scale(i, GST_SECOND, (guint64)fps);
  GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(1, GST_SECOND, (guint64)fps);
  gfloat v[16];
  frame_values(i, v, 16);
  fail_unless(gst_buffer_add_lac_embedding_meta(buf, v, 16, MODEL_ID,
                                                i < 3 ? GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL : 0,
                                                i) != NULL);
  fail_unless(gst_buffer_add_lac_phase_meta(buf, "pour", (gint)(i % 5), 5, "p", 0, 0, i) != NULL);
  return buf;
}

static GstCaps *rgb_caps(int w, int h, int fps) {
  return gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "RGB", "width", G_TYPE_INT, w,
                             "height", G_TYPE_INT, h, "framerate", GST_TYPE_FRACTION, fps, 1,
                             "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
}

/* The source frame a buffer shows, from its pixels: the frame whose grey is nearest to the
 * picture's mean luma (I420/RGB/GRAY8; the mapping grey -> luma is monotone and the levels
 * 9 apart, so the nearest is unambiguous); -1 when the picture is not flat. */
static gint frame_from_pixels(GstBuffer *buf, GstCaps *caps, guint n_frames) {
  GstVideoInfo info;
  fail_unless(gst_video_info_from_caps(&info, caps));
  GstVideoFrame vf;
  fail_unless(gst_video_frame_map(&vf, &info, buf, GST_MAP_READ));
  const guint8 *d = GST_VIDEO_FRAME_PLANE_DATA(&vf, 0);
  int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&vf, 0);
  int pstride = GST_VIDEO_FRAME_COMP_PSTRIDE(&vf, 0);
  int w = GST_VIDEO_FRAME_COMP_WIDTH(&vf, 0), h = GST_VIDEO_FRAME_COMP_HEIGHT(&vf, 0);
  int lo = 255, hi = 0;
  double sum = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int c = d[(gsize)y * stride + (gsize)x * pstride];
      lo = MIN(lo, c);
      hi = MAX(hi, c);
      sum += c;
    }
  gboolean yuv = GST_VIDEO_INFO_IS_YUV(&info);
  gst_video_frame_unmap(&vf);
  if (hi - lo > 2) return -1;
  double mean = sum / ((double)w * h);
  gint best = -1;
  double best_d = 1e9;
  for (guint i = 0; i < n_frames; i++) {
    /* limited-range luma of a flat grey (BT.601 and BT.709 agree on grey) */
    double expect = yuv ? 16.0 + frame_grey(i) * 219.0 / 255.0 : frame_grey(i);
    double dd = fabs(mean - expect);
    if (dd < best_d) {
      best_d = dd;
      best = (gint)i;
    }
  }
  return best_d < 3.0 ? best : -1;
}

/* The metas of an output buffer name frame `f`: embedding values, step, flags, model, phase. */
static void check_frame_metas(GstBuffer *buf, gint f, const char *where) {
  GstLacEmbeddingMeta *m = gst_buffer_get_lac_embedding_meta(buf);
  fail_unless(m != NULL, "%s: a buffer showing frame %d has no embedding meta", where, f);
  gfloat v[16];
  frame_values((guint)f, v, 16);
  fail_unless_equals_int(m->dim, 16);
  fail_unless(memcmp(m->data, v, sizeof v) == 0,
              "%s: a buffer showing frame %d carries the embedding of frame %.0f", where, f,
              (m->data[0] + 3.0f) / 1000.0f);
  fail_unless_equals_uint64(m->step, (guint64)f);
  fail_unless_equals_int(m->flags, f < 3 ? GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL : 0);
  fail_unless_equals_string(m->model_id, MODEL_ID);
  GstLacPhaseMeta *p = gst_buffer_get_lac_phase_meta(buf);
  fail_unless(p != NULL, "%s: a buffer showing frame %d has no phase meta", where, f);
  fail_unless_equals_uint64(p->frame_index, (guint64)f);
  fail_unless_equals_int(p->phase, f % 5);
  guint metas = 0;
  gpointer state = NULL;
  while (gst_buffer_iterate_meta_filtered(buf, &state, GST_LAC_EMBEDDING_META_API_TYPE)) metas++;
  fail_unless_equals_int(metas, 1);
}

typedef struct {
  guint outputs;                /* buffers pulled */
  guint shown[MAX_FRAMES];      /* outputs showing each source frame */
  gint last;                    /* source frame of the last output */
} pulled;

/* Pulls every sample of appsink `name` until EOS, checking each one's metas against the
 * frame its pixels show, the output caps' width/height/fps and that frames never go back. */
static pulled pull_all(GstElement *pipe, const char *name, guint n_frames, int w, int h,
                       int fps) {
  GstAppSink *sink = GST_APP_SINK(gst_bin_get_by_name(GST_BIN(pipe), name));
  pulled r;
  memset(&r, 0, sizeof r);
  r.last = -1;
  GstSample *s;
  while ((s = gst_app_sink_pull_sample(sink)) != NULL) {
    GstBuffer *buf = gst_sample_get_buffer(s);
    GstCaps *caps = gst_sample_get_caps(s);
    GstVideoInfo info;
    fail_unless(gst_video_info_from_caps(&info, caps));
    fail_unless_equals_int(GST_VIDEO_INFO_WIDTH(&info), w);
    fail_unless_equals_int(GST_VIDEO_INFO_HEIGHT(&info), h);
    if (fps > 0) fail_unless_equals_int(GST_VIDEO_INFO_FPS_N(&info), fps);
    gint f = frame_from_pixels(buf, caps, n_frames);
    fail_unless(f >= 0, "%s: output %u shows no source frame", name, r.outputs);
    fail_unless(f >= r.last, "%s: frame %d after frame %d", name, f, r.last);
    check_frame_metas(buf, f, name);
    r.shown[f]++;
    r.last = f;
    r.outputs++;
    gst_sample_unref(s);
  }
  fail_unless(gst_app_sink_is_eos(sink), "%s: no EOS", name);
  gst_object_unref(sink);
  return r;
}

static GstElement *launch(const char *desc) {
  GError *error = NULL;
  held_pipe = gst_parse_launch(desc, &error);
  fail_unless(held_pipe != NULL && error == NULL, "%s: %s", desc, error ? error->message : "");
  return held_pipe;
}

/* pushes frames [from, to) of size w x h at fps through appsrc "src" with caps set first */
static void push_frames(GstElement *pipe, guint from, guint to, int w, int h, int fps) {
  GstAppSrc *src = GST_APP_SRC(gst_bin_get_by_name(GST_BIN(pipe), "src"));
  GstCaps *caps = rgb_caps(w, h, fps);
  gst_app_src_set_caps(src, caps);
  gst_caps_unref(caps);
  for (guint i = from; i < to; i++)
    fail_unless_equals_int(gst_app_src_push_buffer(src, make_frame(i, w, h, fps)), GST_FLOW_OK);
  gst_object_unref(src);
}

static void end_stream(GstElement *pipe) {
  GstAppSrc *src = GST_APP_SRC(gst_bin_get_by_name(GST_BIN(pipe), "src"));
  fail_unless_equals_int(gst_app_src_end_of_stream(src), GST_FLOW_OK);
  gst_object_unref(src);
}

static void check_no_error(GstElement *pipe) {
  GstBus *bus = gst_element_get_bus(pipe);
  GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  if (msg) {
    GError *e = NULL;
    gst_message_parse_error(msg, &e, NULL);
    fail("error on the bus: %s", e->message);
  }
  gst_object_unref(bus);
}

#define CHAIN_LAUNCH                                                                        \
  "appsrc name=src format=time ! videoconvert ! video/x-raw,format=I420 ! videoscale "     \
  "! video/x-raw,width=40,height=30 ! videorate ! video/x-raw,framerate=%d/1 ! tee name=t " \
  "t. ! queue ! appsink name=sink sync=false t. ! queue ! appsink name=sink2 sync=false"

/* 10 fps in, 25 fps out: videorate duplicates, and every duplicate carries its frame's metas;
 * halfway the source switches from 64x48 to 80x60 and the chain renegotiates */
GST_START_TEST(test_chain_duplicates) {
  gchar *desc = g_strdup_printf(CHAIN_LAUNCH, 25);
  GstElement *pipe = launch(desc);
  g_free(desc);
  fail_unless(gst_element_set_state(pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  enum { N = 12 };
  push_frames(pipe, 0, N / 2, 64, 48, 10);
  push_frames(pipe, N / 2, N, 80, 60, 10);
  end_stream(pipe);
  pulled a = pull_all(pipe, "sink", N, 40, 30, 25);
  pulled b = pull_all(pipe, "sink2", N, 40, 30, 25);
  check_no_error(pipe);
  /* 1.2 s of video at 25 fps */
  fail_unless(a.outputs >= 28 && a.outputs <= 31, "%u outputs for 1.2 s at 25 fps", a.outputs);
  fail_unless_equals_int(b.outputs, a.outputs);
  guint dup = 0;
  for (int i = 0; i < N; i++) {
    fail_unless(a.shown[i] >= 1, "frame %d never shown", i);
    fail_unless_equals_int(b.shown[i], a.shown[i]);
    dup += a.shown[i] > 1;
  }
  fail_unless(dup >= N / 2, "videorate duplicated only %u frames", dup);
  g_print("10 -> 25 fps: %u outputs from %d frames, %u frames duplicated\n", a.outputs, N, dup);
  release_pipeline();
}
GST_END_TEST;

/* 25 fps in, 10 fps out: videorate drops, and what it keeps carries its own frame's metas */
GST_START_TEST(test_chain_drops) {
  gchar *desc = g_strdup_printf(CHAIN_LAUNCH, 10);
  GstElement *pipe = launch(desc);
  g_free(desc);
  fail_unless(gst_element_set_state(pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  push_frames(pipe, 0, MAX_FRAMES, 64, 48, 25);
  end_stream(pipe);
  pulled a = pull_all(pipe, "sink", MAX_FRAMES, 40, 30, 10);
  pulled b = pull_all(pipe, "sink2", MAX_FRAMES, 40, 30, 10);
  check_no_error(pipe);
  fail_unless(a.outputs >= 9 && a.outputs <= 11, "%u outputs for 1 s at 10 fps", a.outputs);
  fail_unless_equals_int(b.outputs, a.outputs);
  guint dropped = 0;
  for (int i = 0; i < MAX_FRAMES; i++) {
    fail_unless(a.shown[i] <= 1, "frame %d shown %u times while dropping", i, a.shown[i]);
    dropped += a.shown[i] == 0;
  }
  fail_unless(dropped >= 13, "videorate dropped only %u of 25 frames", dropped);
  g_print("25 -> 10 fps: %u outputs from %d frames, %u dropped\n", a.outputs, MAX_FRAMES, dropped);
  release_pipeline();
}
GST_END_TEST;

/* Further elements, each between an RGB 64x48 appsrc and an appsink: every output must carry
 * the metas of the frame it shows.  This is the list docs/metas.md gives as "keeps the metas"
 * (measured on Debian 12, GStreamer 1.22); an element missing on the machine is skipped. */
static const struct {
  const char *launch; /* between appsrc and appsink */
  const char *needs;  /* element factory that must exist */
  int w, h;           /* output size */
} kept[] = {
    {"videoconvert ! video/x-raw,format=NV12", "videoconvert", 64, 48},
    {"videoconvert ! video/x-raw,format=GRAY8", "videoconvert", 64, 48},
    {"videoscale ! video/x-raw,width=32,height=24", "videoscale", 32, 24},
    {"videoflip video-direction=180", "videoflip", 64, 48},
    {"videoflip video-direction=90r", "videoflip", 48, 64},
    {"videocrop left=8 right=8 top=4 bottom=4 ! videoconvert", "videocrop", 48, 40},
    {"videobox left=-4 right=-4 fill=black ! videocrop left=4 right=4 ! videoconvert", "videobox",
     64, 48},
    {"videobalance saturation=0.5 ! videoconvert ! video/x-raw,format=RGB", "videobalance", 64, 48},
    {"queue ! identity ! queue2", "queue2", 64, 48},
    {"videoconvert ! jpegenc ! jpegdec ! videoconvert ! video/x-raw,format=GRAY8", "jpegenc", 64,
     48},
    {"videoconvert ! vp8enc deadline=1 keyframe-max-dist=1 ! vp8dec", "vp8enc", 64, 48},
};

GST_START_TEST(test_more_elements) {
  enum { N = 8 };
  for (guint k = 0; k < G_N_ELEMENTS(kept); k++) {
    GstElementFactory *fac = gst_element_factory_find(kept[k].needs);
    if (!fac) {
      GST_WARNING("%s missing: not checked", kept[k].needs);
      continue;
    }
    gst_object_unref(fac);
    gchar *desc = g_strdup_printf(
        "appsrc name=src format=time ! %s ! appsink name=sink sync=false", kept[k].launch);
    GstElement *pipe = launch(desc);
    fail_unless(gst_element_set_state(pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    push_frames(pipe, 0, N, 64, 48, 10);
    end_stream(pipe);
    pulled r = pull_all(pipe, "sink", N, kept[k].w, kept[k].h, 0);
    check_no_error(pipe);
    fail_unless_equals_int(r.outputs, N);
    for (int i = 0; i < N; i++) fail_unless_equals_int(r.shown[i], 1);
    g_print("metas kept by: %s\n", kept[k].launch);
    g_free(desc);
    release_pipeline();
  }
}
GST_END_TEST;

static Suite *lacmeta_suite(void) {
  g_log_set_handler("GstLac", G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING, count_critical, NULL);
  Suite *s = suite_create("lacmeta");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_set_timeout(tc, 120);
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, test_embedding_add_get);
  tcase_add_test(tc, test_embedding_freed);
  tcase_add_test(tc, test_copies);
  tcase_add_test(tc, test_phase_add_get);
  tcase_add_test(tc, test_chain_duplicates);
  tcase_add_test(tc, test_chain_drops);
  tcase_add_test(tc, test_more_elements);
  return s;
}

/* gst_check_run_suite ends with gst_deinit, where the leaks tracer reports: a leak then
 * fails the binary. */
GST_CHECK_MAIN(lacmeta);
