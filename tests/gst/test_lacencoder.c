/* test_lacencoder.c — GstHarness and pipeline tests of the lacencoder element.
 *
 * The library is the oracle: a small random model (resnet18-112 preset at input size 80,
 * train_len 8) is saved to a temporary file, loaded by the element and, separately, by the
 * test; every meta must equal what a fresh lac_session gives for the same RGB frames (pushed
 * one at a time, causal or centred, flushed at the end).  Checked: caps negotiation for every
 * listed format and refusal of others, meta values (at the model size and through the centred
 * square crop), window flags and steps, a context-2 model, batching, frame-stride (REUSED),
 * window reset on DISCONT, GAP, new SEGMENT and flush, the centred window's held frames and
 * LATENCY answer, QoS skipping under a live upstream, element messages, the embeddings file
 * (count, timestamps, labels and phase names from lacsynthsrc), two elements sharing one
 * model, and the error paths (no model, missing file, corrupt file, not a model, device=cuda).
 * Run with GST_TRACERS=leaks and CK_FORK=no: a leak fails the binary.
 */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/lac/lacmeta.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "lac/lac.h"
#include "lac/safetensors.h"
#include "lac/synth.h"

#define S 80       /* the test model's input size */
#define TRAIN_LEN 8

static gchar *tmpdir;
static gchar *model_path;
static lac_backend *oracle_backend;
static lac_model *oracle_model;
static gchar *model2_path;    /* the same architecture with context 2 (frames per step) */
static lac_model *oracle_model2;
static const lac_model *check_model; /* the model pull_check expects (NULL: oracle_model) */
static int DIM;

/* ---------------------------------------------------------------- fixtures */

static GstHarness *held_h;
static GstElement *held_pipe;

static GstHarness *hold_harness(GstHarness *h) {
  held_h = h;
  return h;
}

static GstElement *hold_pipeline(GstElement *pipe) {
  held_pipe = pipe;
  return pipe;
}

static void teardown(void) {
  check_model = NULL;
  if (held_h) gst_harness_teardown(held_h);
  held_h = NULL;
  if (held_pipe) {
    gst_element_set_state(held_pipe, GST_STATE_NULL);
    gst_object_unref(held_pipe);
  }
  held_pipe = NULL;
}

/* lacencoder with the test model, threads=1 (as the oracle), extra properties, and src caps */
static GstHarness *encoder(const char *props, const char *caps) {
  gchar *desc = g_strdup_printf("lacencoder model-location=\"%s\" threads=1 %s", model_path,
                                props ? props : "");
  GstHarness *h = hold_harness(gst_harness_new_parse(desc));
  g_free(desc);
  gst_harness_set_src_caps_str(h, caps);
  return h;
}

/* ---------------------------------------------------------------- frames and the oracle */

/* n frames of w x h RGB, seeded noise with a moving bright square (so frames differ). */
static guint8 *make_frames(int n, int w, int h, guint32 seed) {
  guint8 *f = g_malloc((gsize)n * w * h * 3);
  GRand *r = g_rand_new_with_seed(seed);
  for (int i = 0; i < n; i++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        for (int c = 0; c < 3; c++) {
          guint8 v = (guint8)g_rand_int_range(r, 0, 256);
          if (abs(x - (10 + 5 * i) % w) < 8 && abs(y - h / 2) < 8) v = (guint8)(200 + 20 * c);
          f[(((gsize)i * h + y) * w + x) * 3 + c] = v;
        }
  g_rand_free(r);
  return f;
}

/* A buffer of one RGB frame (rows of 3w bytes, w a multiple of 4 so GStreamer's stride fits). */
static GstBuffer *rgb_buffer(const guint8 *frame, int w, int h, guint64 i) {
  GstBuffer *b = gst_buffer_new_allocate(NULL, (gsize)w * h * 3, NULL);
  gst_buffer_fill(b, 0, frame, (gsize)w * h * 3);
  GST_BUFFER_PTS(b) = i * 40 * GST_MSECOND;
  GST_BUFFER_DURATION(b) = 40 * GST_MSECOND;
  return b;
}

/* push frame i of `frames` (S x S RGB, 40 ms apart) into h; it must be accepted */
static void push_frame(GstHarness *h, const guint8 *frames, int i) {
  fail_unless_equals_int(
      gst_harness_push(h, rgb_buffer(frames + (gsize)i * S * S * 3, S, S, (guint64)i)),
      GST_FLOW_OK);
}

/* Embeddings of `n` S x S frames from a fresh session: pushed `per_push` at a time with
 * max_batch `batch`, flushed at the end.  out: n_steps x DIM by step; full: per step. */
static float *oracle_with(const lac_model *model, const guint8 *frames, int n, int window,
                          lac_window_mode mode, int batch, int per_push, int *full) {
  lac_session_params sp = lac_session_default_params();
  sp.window = window;
  sp.window_mode = mode;
  sp.max_batch = batch;
  lac_session *s = NULL;
  lac_error err;
  fail_unless(lac_session_new(model, &sp, &s, &err) == LAC_OK, "%s", err.message);
  float *res = g_new0(float, (gsize)n * DIM);
  const int cap = per_push + TRAIN_LEN + 64;
  float *o = g_new(float, (gsize)cap * DIM);
  int64_t *idx = g_new(int64_t, cap);
  int *fl = g_new(int, cap);
  int got = 0;
  for (int i = 0; i <= n; i += per_push) {
    int m = 0;
    if (i < n) {
      int k = MIN(per_push, n - i);
      lac_frames fr = {LAC_PIXELS_RGB8, k, S, S, 0, frames + (gsize)i * S * S * 3};
      fail_unless(lac_session_push(s, &fr, o, idx, fl, cap, &m, &err) == LAC_OK, "%s",
                  err.message);
    } else {
      fail_unless(lac_session_flush(s, o, idx, fl, cap, &m, &err) == LAC_OK, "%s", err.message);
    }
    for (int j = 0; j < m; j++) {
      fail_unless(idx[j] >= 0 && idx[j] < n);
      memcpy(res + idx[j] * DIM, o + (gsize)j * DIM, sizeof(float) * DIM);
      if (full) full[idx[j]] = fl[j];
      got++;
    }
  }
  fail_unless_equals_int(got, n / lac_model_arch(model)->context);
  g_free(o);
  g_free(idx);
  g_free(fl);
  lac_session_free(s);
  return res;
}

static float *oracle(const guint8 *frames, int n, int window, lac_window_mode mode, int batch,
                     int per_push, int *full) {
  return oracle_with(oracle_model, frames, n, window, mode, batch, per_push, full);
}

static double max_abs_diff(const float *a, const float *b, int n) {
  double m = 0;
  for (int i = 0; i < n; i++) {
    double d = fabs((double)a[i] - (double)b[i]);
    if (isnan(d)) return INFINITY;
    if (d > m) m = d;
  }
  return m;
}

/* The largest difference seen between a meta and the oracle, printed at the end. */
static double worst_diff;

/* Pull one buffer and check its meta against `want` (DIM floats), flags and step. */
static void pull_check(GstHarness *h, const float *want, GstLacEmbeddingFlags flags, guint64 step,
                       GstClockTime pts) {
  GstBuffer *b = gst_harness_try_pull(h);
  fail_unless(b != NULL, "no buffer out (step %" G_GUINT64_FORMAT ")", step);
  if (GST_CLOCK_TIME_IS_VALID(pts)) fail_unless_equals_uint64(GST_BUFFER_PTS(b), pts);
  GstLacEmbeddingMeta *m = gst_buffer_get_lac_embedding_meta(b);
  fail_unless(m != NULL, "buffer without an embedding meta");
  fail_unless_equals_int(m->dim, DIM);
  fail_unless_equals_string(m->model_id, lac_model_id(check_model ? check_model : oracle_model));
  fail_unless_equals_int(m->flags, flags);
  fail_unless_equals_uint64(m->step, step);
  double d = max_abs_diff(m->data, want, DIM);
  if (d > worst_diff) worst_diff = d;
  /* the same model, frames, session order and thread count: the same floats */
  fail_unless(d == 0.0, "meta differs from the library by %g at step %" G_GUINT64_FORMAT, d, step);
  gst_buffer_unref(b);
}

#define RGB_CAPS(w, h) "video/x-raw,format=RGB,width=" #w ",height=" #h ",framerate=25/1"

/* ---------------------------------------------------------------- tests */

GST_START_TEST(test_caps_every_format) {
  const char *formats[] = {"I420", "NV12", "RGB",  "BGR",  "RGBx", "BGRx",
                           "xRGB", "xBGR", "RGBA", "BGRA", "GRAY8"};
  for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
    gchar *caps = g_strdup_printf("video/x-raw,format=%s,width=96,height=64,framerate=30/1",
                                  formats[i]);
    GstHarness *h = encoder(NULL, caps);
    GstVideoInfo info;
    GstCaps *c = gst_caps_from_string(caps);
    fail_unless(gst_video_info_from_caps(&info, c));
    GstBuffer *in = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&info), NULL);
    gst_buffer_memset(in, 0, (guint8)(17 * i + 40), GST_VIDEO_INFO_SIZE(&info));
    GST_BUFFER_PTS(in) = 0;
    fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h);
    GstLacEmbeddingMeta *m = gst_buffer_get_lac_embedding_meta(out);
    fail_unless(m != NULL, "%s: no meta", formats[i]);
    fail_unless_equals_int(m->dim, DIM);
    for (int k = 0; k < DIM; k++) fail_unless(isfinite(m->data[k]));
    /* the video itself passes unchanged, with the caps it came with */
    fail_unless_equals_uint64(gst_buffer_get_size(out), GST_VIDEO_INFO_SIZE(&info));
    GstCaps *outcaps = gst_pad_get_current_caps(h->sinkpad);
    fail_unless(gst_caps_is_equal(outcaps, c), "%s: src caps differ", formats[i]);
    gst_caps_unref(outcaps);
    gst_caps_unref(c);
    gst_buffer_unref(out);
    g_free(caps);
    gst_harness_teardown(h);
    held_h = NULL;
  }
}
GST_END_TEST;

GST_START_TEST(test_caps_refused) {
  /* YUY2 and 16-bit formats are not in the template: negotiation fails */
  const char *bad[] = {"YUY2", "GRAY16_LE", "UYVY"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    gchar *caps =
        g_strdup_printf("video/x-raw,format=%s,width=64,height=64,framerate=30/1", bad[i]);
    GstHarness *h = encoder(NULL, caps);
    GstBuffer *in = gst_buffer_new_allocate(NULL, 64 * 64 * 2, NULL);
    gst_buffer_memset(in, 0, 0, 64 * 64 * 2);
    fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_NOT_NEGOTIATED);
    g_free(caps);
    gst_harness_teardown(h);
    held_h = NULL;
  }
}
GST_END_TEST;

/* Frames at the model size: the meta equals the library's streaming output. */
GST_START_TEST(test_values_causal) {
  const int n = 12;
  guint8 *f = make_frames(n, S, S, 1);
  int full[12];
  float *want = oracle(f, n, 0, LAC_WINDOW_CAUSAL, 1, 1, full);
  GstHarness *h = encoder(NULL, RGB_CAPS(80, 80));
  for (int i = 0; i < n; i++) {
    push_frame(h, f, i);
    /* causal: each frame leaves at once */
    fail_unless_equals_int(gst_harness_buffers_in_queue(h), 1);
    GstLacEmbeddingFlags fl = i < TRAIN_LEN - 1 ? GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL : 0;
    fail_unless_equals_int(full[i], i >= TRAIN_LEN - 1);
    pull_check(h, want + (gsize)i * DIM, fl, (guint64)i, (GstClockTime)i * 40 * GST_MSECOND);
  }
  fail_unless_equals_uint64(gst_harness_query_latency(h), 0);
  g_free(want);
  g_free(f);
}
GST_END_TEST;

/* A wider frame: the centred S x S square is what the model sees (no scaling here). */
GST_START_TEST(test_values_centred_crop) {
  const int n = 4, W = 2 * S;
  guint8 *wide = make_frames(n, W, S, 2);
  guint8 *crop = g_malloc((gsize)n * S * S * 3);
  for (int i = 0; i < n; i++)
    for (int y = 0; y < S; y++)
      memcpy(crop + (((gsize)i * S + y) * S) * 3, wide + (((gsize)i * S + y) * W + S / 2) * 3,
             (gsize)S * 3);
  float *want = oracle(crop, n, 0, LAC_WINDOW_CAUSAL, 1, 1, NULL);
  GstHarness *h = encoder("resize=crop", RGB_CAPS(160, 80));
  for (int i = 0; i < n; i++) {
    fail_unless_equals_int(gst_harness_push(h, rgb_buffer(wide + (gsize)i * W * S * 3, W, S, i)),
                           GST_FLOW_OK);
    pull_check(h, want + (gsize)i * DIM, GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL, (guint64)i,
               GST_CLOCK_TIME_NONE);
  }
  g_free(want);
  g_free(crop);
  g_free(wide);
}
GST_END_TEST;

/* window=4 centred: frame t leaves when t+2 arrived; LATENCY adds 2 frames; EOS releases the
 * rest, each equal to the library's push + flush. */
GST_START_TEST(test_centred_window) {
  const int n = 9;
  guint8 *f = make_frames(n, S, S, 3);
  int full[9];
  float *want = oracle(f, n, 4, LAC_WINDOW_CENTRED, 1, 1, full);
  GstHarness *h = encoder("window=4 window-mode=centred", RGB_CAPS(80, 80));
  gst_harness_set_upstream_latency(h, 10 * GST_MSECOND);
  fail_unless_equals_uint64(gst_harness_query_latency(h), 10 * GST_MSECOND + 2 * 40 * GST_MSECOND);
  int pulled = 0;
  for (int i = 0; i < n; i++) {
    push_frame(h, f, i);
    fail_unless_equals_int(gst_harness_buffers_in_queue(h), i >= 2 ? 1 : 0);
    while (gst_harness_buffers_in_queue(h) > 0) {
      pull_check(h, want + (gsize)pulled * DIM,
                 full[pulled] ? 0 : GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL, (guint64)pulled,
                 (GstClockTime)pulled * 40 * GST_MSECOND);
      pulled++;
    }
  }
  fail_unless_equals_int(pulled, n - 2);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  for (; pulled < n; pulled++)
    pull_check(h, want + (gsize)pulled * DIM,
               full[pulled] ? 0 : GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL, (guint64)pulled,
               (GstClockTime)pulled * 40 * GST_MSECOND);
  fail_unless_equals_int(gst_harness_buffers_in_queue(h), 0);
  g_free(want);
  g_free(f);
}
GST_END_TEST;

/* frame-stride=3: frames 0, 3, 6 are embedded (as a session fed only those), the others carry
 * the previous one flagged REUSED. */
GST_START_TEST(test_frame_stride) {
  const int n = 8;
  guint8 *f = make_frames(n, S, S, 4);
  guint8 *sub = g_malloc((gsize)3 * S * S * 3);
  for (int k = 0; k < 3; k++)
    memcpy(sub + (gsize)k * S * S * 3, f + (gsize)(3 * k) * S * S * 3, (gsize)S * S * 3);
  float *want = oracle(sub, 3, 0, LAC_WINDOW_CAUSAL, 1, 1, NULL);
  GstHarness *h = encoder("frame-stride=3", RGB_CAPS(80, 80));
  for (int i = 0; i < n; i++) {
    push_frame(h, f, i);
    GstLacEmbeddingFlags fl = GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL;
    if (i % 3) fl |= GST_LAC_EMBEDDING_FLAG_REUSED;
    pull_check(h, want + (gsize)(i / 3) * DIM, fl, (guint64)(i / 3),
               (GstClockTime)i * 40 * GST_MSECOND);
  }
  g_free(want);
  g_free(sub);
  g_free(f);
}
GST_END_TEST;

/* A DISCONT buffer restarts the window: what follows equals a fresh session's output. */
GST_START_TEST(test_discont_reset) {
  const int n = 10, cut = 6;
  guint8 *f = make_frames(n, S, S, 5);
  float *a = oracle(f, cut, 0, LAC_WINDOW_CAUSAL, 1, 1, NULL);
  float *b = oracle(f + (gsize)cut * S * S * 3, n - cut, 0, LAC_WINDOW_CAUSAL, 1, 1, NULL);
  GstHarness *h = encoder(NULL, RGB_CAPS(80, 80));
  for (int i = 0; i < n; i++) {
    GstBuffer *buf = rgb_buffer(f + (gsize)i * S * S * 3, S, S, i);
    if (i == cut) GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
    fail_unless_equals_int(gst_harness_push(h, buf), GST_FLOW_OK);
    const float *w = i < cut ? a + (gsize)i * DIM : b + (gsize)(i - cut) * DIM;
    pull_check(h, w, GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL, (guint64)(i < cut ? i : i - cut),
               GST_CLOCK_TIME_NONE);
  }
  g_free(a);
  g_free(b);
  g_free(f);
}
GST_END_TEST;

/* A GAP event and a new SEGMENT event each restart the window: the frames after each equal a
 * fresh session's output, steps counted from 0 again. */
GST_START_TEST(test_gap_and_segment_reset) {
  const int per = 3;
  guint8 *f = make_frames(3 * per, S, S, 10);
  float *want[3];
  for (int k = 0; k < 3; k++)
    want[k] = oracle(f + (gsize)k * per * S * S * 3, per, 0, LAC_WINDOW_CAUSAL, 1, 1, NULL);
  GstHarness *h = encoder(NULL, RGB_CAPS(80, 80));
  for (int k = 0; k < 3; k++) {
    if (k == 1)
      fail_unless(gst_harness_push_event(h, gst_event_new_gap(per * 40 * GST_MSECOND, 0)));
    if (k == 2) {
      GstSegment seg;
      gst_segment_init(&seg, GST_FORMAT_TIME);
      fail_unless(gst_harness_push_event(h, gst_event_new_segment(&seg)));
    }
    for (int i = 0; i < per; i++) {
      const int j = k * per + i;
      fail_unless_equals_int(
          gst_harness_push(h, rgb_buffer(f + (gsize)j * S * S * 3, S, S, (guint64)j)),
          GST_FLOW_OK);
      pull_check(h, want[k] + (gsize)i * DIM, GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL, (guint64)i,
                 (GstClockTime)j * 40 * GST_MSECOND);
    }
  }
  for (int k = 0; k < 3; k++) g_free(want[k]);
  g_free(f);
}
GST_END_TEST;

/* A model whose steps are 2 frames (context 2): both frames of a step carry its embedding, the
 * first waits for the second (one frame of latency); values equal the library's. */
GST_START_TEST(test_context_two) {
  const int n = 8;
  guint8 *f = make_frames(n, S, S, 11);
  int full[4];
  float *want = oracle_with(oracle_model2, f, n, 0, LAC_WINDOW_CAUSAL, 1, 2, full);
  check_model = oracle_model2;
  gchar *desc = g_strdup_printf("lacencoder model-location=\"%s\" threads=1", model2_path);
  GstHarness *h = hold_harness(gst_harness_new_parse(desc));
  g_free(desc);
  gst_harness_set_src_caps_str(h, RGB_CAPS(80, 80));
  fail_unless_equals_uint64(gst_harness_query_latency(h), 40 * GST_MSECOND);
  for (int i = 0; i < n; i++) {
    push_frame(h, f, i);
    fail_unless_equals_int(gst_harness_buffers_in_queue(h), i % 2 ? 2 : 0);
    if (i % 2 == 0) continue;
    for (int j = i - 1; j <= i; j++)
      pull_check(h, want + (gsize)(j / 2) * DIM,
                 full[j / 2] ? 0 : GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL, (guint64)(j / 2),
                 (GstClockTime)j * 40 * GST_MSECOND);
  }
  g_free(want);
  g_free(f);
}
GST_END_TEST;

/* A flush drops the frames a centred window holds and restarts the window. */
GST_START_TEST(test_flush_reset) {
  const int n = 5;
  guint8 *f = make_frames(2 * n, S, S, 6);
  int full[5];
  float *b = oracle(f + (gsize)n * S * S * 3, n, 4, LAC_WINDOW_CENTRED, 1, 1, full);
  GstHarness *h = encoder("window=4 window-mode=centred", RGB_CAPS(80, 80));
  for (int i = 0; i < n; i++)
    push_frame(h, f, i);
  fail_unless_equals_int(gst_harness_buffers_in_queue(h), n - 2);
  for (int i = 0; i < n - 2; i++) gst_buffer_unref(gst_harness_pull(h));
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_start()));
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  fail_unless(gst_harness_push_event(h, gst_event_new_segment(&seg)));
  for (int i = 0; i < n; i++)
    fail_unless_equals_int(
        gst_harness_push(h, rgb_buffer(f + (gsize)(n + i) * S * S * 3, S, S, i)), GST_FLOW_OK);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  /* the two held frames of before the flush never come out */
  fail_unless_equals_int(gst_harness_buffers_in_queue(h), n);
  for (int i = 0; i < n; i++)
    pull_check(h, b + (gsize)i * DIM, full[i] ? 0 : GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL,
               (guint64)i, (GstClockTime)i * 40 * GST_MSECOND);
  g_free(b);
  g_free(f);
}
GST_END_TEST;

/* Under a live upstream (the harness is live), frames later than a QoS event's deadline are not
 * embedded: REUSED, and a QoS message counts them. */
GST_START_TEST(test_qos_skips_late_frames) {
  const int n = 6;
  guint8 *f = make_frames(n, S, S, 7);
  float *want = oracle(f, 1, 0, LAC_WINDOW_CAUSAL, 1, 1, NULL);
  GstHarness *h = encoder("post-messages=true", RGB_CAPS(80, 80));
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  fail_unless_equals_int(gst_harness_push(h, rgb_buffer(f, S, S, 0)), GST_FLOW_OK);
  pull_check(h, want, GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL, 0, 0);
  /* the sink says: 1 s late at 0 ms -> everything before 2 s is dropped work */
  fail_unless(gst_harness_push_upstream_event(
      h, gst_event_new_qos(GST_QOS_TYPE_UNDERFLOW, 0.5, (GstClockTimeDiff)GST_SECOND, 0)));
  for (int i = 1; i < n; i++) {
    push_frame(h, f, i);
    pull_check(h, want, GST_LAC_EMBEDDING_FLAG_WINDOW_PARTIAL | GST_LAC_EMBEDDING_FLAG_REUSED, 0,
               (GstClockTime)i * 40 * GST_MSECOND);
  }
  int n_qos = 0, n_emb = 0;
  guint64 last_skipped = 0, dropped = 0;
  GstMessage *msg;
  while ((msg = gst_bus_pop(bus))) {
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_QOS) {
      GstFormat fmt;
      guint64 processed;
      gst_message_parse_qos_stats(msg, &fmt, &processed, &dropped);
      fail_unless_equals_int(fmt, GST_FORMAT_BUFFERS);
      n_qos++;
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT &&
               gst_message_has_name(msg, "lac-embedding")) {
      fail_unless(gst_structure_get_uint64(gst_message_get_structure(msg), "skipped",
                                           &last_skipped));
      n_emb++;
    }
    gst_message_unref(msg);
  }
  fail_unless_equals_int(n_qos, n - 1);
  fail_unless_equals_uint64(dropped, n - 1);
  fail_unless_equals_int(n_emb, n);
  fail_unless_equals_uint64(last_skipped, n - 1);
  gst_element_set_bus(h->element, NULL);
  gst_object_unref(bus);
  g_free(want);
  g_free(f);
}
GST_END_TEST;

/* post-messages: one lac-embedding message per frame carrying the meta's values; with
 * message-interval 100 ms, one per 100 ms of timestamps. */
GST_START_TEST(test_messages) {
  const int n = 6;
  guint8 *f = make_frames(n, S, S, 8);
  float *want = oracle(f, n, 0, LAC_WINDOW_CAUSAL, 1, 1, NULL);
  for (int pass = 0; pass < 2; pass++) {
    GstHarness *h =
        encoder(pass ? "post-messages=true message-interval=100000000" : "post-messages=true",
                RGB_CAPS(80, 80));
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(h->element, bus);
    for (int i = 0; i < n; i++) {
      push_frame(h, f, i);
      gst_buffer_unref(gst_harness_pull(h));
    }
    GstMessage *msg;
    int k = 0;
    while ((msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT))) {
      const GstStructure *st = gst_message_get_structure(msg);
      fail_unless(gst_structure_has_name(st, "lac-embedding"));
      guint64 ts, step;
      fail_unless(gst_structure_get_uint64(st, "timestamp", &ts));
      fail_unless(gst_structure_get_uint64(st, "step", &step));
      /* every frame, or frames 0, 3 (120 ms) at a 100 ms interval with 40 ms frames */
      guint64 frame = pass ? (guint64)k * 3 : (guint64)k;
      fail_unless_equals_uint64(ts, frame * 40 * GST_MSECOND);
      fail_unless_equals_uint64(step, frame);
      const GValue *arr = gst_structure_get_value(st, "embedding");
      fail_unless(arr && GST_VALUE_HOLDS_ARRAY(arr));
      fail_unless_equals_int(gst_value_array_get_size(arr), DIM);
      for (int j = 0; j < DIM; j++)
        fail_unless(g_value_get_float(gst_value_array_get_value(arr, j)) ==
                    want[frame * DIM + j]);
      gst_message_unref(msg);
      k++;
    }
    fail_unless_equals_int(k, pass ? 2 : n);
    gst_element_set_bus(h->element, NULL);
    gst_object_unref(bus);
    gst_harness_teardown(h);
    held_h = NULL;
  }
  g_free(want);
  g_free(f);
}
GST_END_TEST;

/* batch-size=4 behind a non-live appsrc: frames wait for a full batch, values equal the library
 * run with max_batch 4; the remainder leaves at EOS. */
GST_START_TEST(test_batching) {
  const int n = 10;
  guint8 *f = make_frames(n, S, S, 9);
  float *want = oracle(f, n, 0, LAC_WINDOW_CAUSAL, 4, 4, NULL);
  gchar *desc = g_strdup_printf(
      "appsrc name=src is-live=false format=time caps=\"" RGB_CAPS(80, 80) "\" ! "
      "lacencoder model-location=\"%s\" threads=1 batch-size=4 ! "
      "appsink name=sink sync=false",
      model_path);
  GError *e = NULL;
  GstElement *pipe = hold_pipeline(gst_parse_launch(desc, &e));
  g_free(desc);
  fail_unless(pipe && !e);
  GstElement *src = gst_bin_get_by_name(GST_BIN(pipe), "src");
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
  fail_unless(gst_element_set_state(pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  for (int i = 0; i < n; i++)
    fail_unless_equals_int(
        gst_app_src_push_buffer(GST_APP_SRC(src), rgb_buffer(f + (gsize)i * S * S * 3, S, S, i)),
        GST_FLOW_OK);
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  for (int i = 0; i < n; i++) {
    GstSample *smp = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 30 * GST_SECOND);
    fail_unless(smp != NULL, "sample %d missing", i);
    GstBuffer *b = gst_sample_get_buffer(smp);
    fail_unless_equals_uint64(GST_BUFFER_PTS(b), (guint64)i * 40 * GST_MSECOND);
    GstLacEmbeddingMeta *m = gst_buffer_get_lac_embedding_meta(b);
    fail_unless(m != NULL);
    fail_unless_equals_uint64(m->step, i);
    double d = max_abs_diff(m->data, want + (gsize)i * DIM, DIM);
    if (d > worst_diff) worst_diff = d;
    fail_unless(d == 0.0, "batched meta differs by %g at %d", d, i);
    gst_sample_unref(smp);
  }
  fail_unless(gst_app_sink_is_eos(GST_APP_SINK(sink)) ||
              gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 5 * GST_SECOND) == NULL);
  /* the latency answer counts the 3 frames a batch of 4 may hold back */
  GstQuery *q = gst_query_new_latency();
  GstPad *sinkpad = gst_element_get_static_pad(sink, "sink");
  fail_unless(gst_pad_peer_query(sinkpad, q));
  gst_object_unref(sinkpad);
  gboolean live;
  GstClockTime min;
  gst_query_parse_latency(q, &live, &min, NULL);
  fail_unless(!live);
  fail_unless_equals_uint64(min, 3 * 40 * GST_MSECOND);
  gst_query_unref(q);
  gst_object_unref(src);
  gst_object_unref(sink);
  /* stop the streaming threads before gst-check's task cleanup waits for them */
  gst_element_set_state(pipe, GST_STATE_NULL);
  g_free(want);
  g_free(f);
}
GST_END_TEST;

/* lacsynthsrc ! lacencoder embeddings-location: one row per frame with its timestamp and the
 * phase label of its GstLacPhaseMeta; phase names in the metadata. */
GST_START_TEST(test_embeddings_file) {
  gchar *path = g_build_filename(tmpdir, "synth.emb.safetensors", NULL);
  gchar *desc = g_strdup_printf("lacsynthsrc action=squat seed=5 repetitions=1 ! "
                                "video/x-raw,width=96,height=72,format=I420 ! "
                                "lacencoder model-location=\"%s\" embeddings-location=\"%s\" ! "
                                "fakesink",
                                model_path, path);
  GError *e = NULL;
  GstElement *pipe = hold_pipeline(gst_parse_launch(desc, &e));
  g_free(desc);
  fail_unless(pipe && !e, "%s", e ? e->message : "");
  fail_unless(gst_element_set_state(pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus(pipe);
  GstMessage *msg = gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND,
                                               GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless(msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS, "no EOS");
  gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipe, GST_STATE_NULL);

  lac_synth_params p = lac_synth_default_params();
  p.action = LAC_SYNTH_SQUAT;
  p.seed = 5;
  p.repetitions = 1;
  p.width = 96;
  p.height = 72;
  lac_synth *s = NULL;
  lac_error err;
  fail_unless(lac_synth_new(&p, &s, &err) == LAC_OK, "%s", err.message);
  const gint64 n = lac_synth_n_frames(s);
  lac_embeddings *emb = NULL;
  fail_unless(lac_embeddings_read(path, &emb, &err) == LAC_OK, "%s", err.message);
  fail_unless_equals_int64(emb->n, n);
  fail_unless_equals_int64(emb->dim, DIM);
  fail_unless_equals_string(emb->model_id, lac_model_id(oracle_model));
  fail_unless(emb->timestamps && emb->labels);
  for (gint64 i = 0; i < n; i++) {
    fail_unless_equals_int64(emb->timestamps[i], i * 40 * (gint64)GST_MSECOND); /* 25 fps */
    fail_unless_equals_int64(emb->labels[i], lac_synth_label(s, i));
  }
  /* the phase names, read back through the library (metadata "lac.phase_names") */
  fail_unless_equals_int64(emb->n_phase_names, lac_synth_n_phases(s));
  for (int k = 0; k < lac_synth_n_phases(s); k++)
    fail_unless_equals_string(emb->phase_names[k], lac_synth_phase_name(s, k));
  lac_embeddings_free(emb);
  lac_synth_free(s);
  g_unlink(path);
  g_free(path);
}
GST_END_TEST;

/* Two lacencoders naming the same file share one model (users=2 in model-info); a copy of the
 * file under another name is another model entry. */
GST_START_TEST(test_shared_model) {
  gchar *copy = g_build_filename(tmpdir, "copy.safetensors", NULL);
  gchar *data = NULL;
  gsize len = 0;
  fail_unless(g_file_get_contents(model_path, &data, &len, NULL));
  fail_unless(g_file_set_contents(copy, data, (gssize)len, NULL));
  g_free(data);
  gchar *desc = g_strdup_printf(
      "videotestsrc num-buffers=3 ! tee name=t "
      "t. ! queue ! lacencoder name=a model-location=\"%s\" ! fakesink "
      "t. ! queue ! lacencoder name=b model-location=\"%s\" ! fakesink "
      "t. ! queue ! lacencoder name=c model-location=\"%s\" ! fakesink",
      model_path, model_path, copy);
  GstElement *pipe = hold_pipeline(gst_parse_launch(desc, NULL));
  g_free(desc);
  fail_unless(pipe != NULL);
  fail_unless(gst_element_set_state(pipe, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int(gst_element_get_state(pipe, NULL, NULL, 60 * GST_SECOND),
                         GST_STATE_CHANGE_SUCCESS);
  const char *names[] = {"a", "b", "c"};
  const char *users[] = {"users=2", "users=2", "users=1"};
  for (int i = 0; i < 3; i++) {
    GstElement *e = gst_bin_get_by_name(GST_BIN(pipe), names[i]);
    gchar *info = NULL;
    g_object_get(e, "model-info", &info, NULL);
    fail_unless(info && strstr(info, users[i]), "%s: model-info '%s'", names[i], info);
    fail_unless(strstr(info, lac_model_id(oracle_model)) != NULL);
    fail_unless(strstr(info, "input-size=80") && strstr(info, "architecture=resnet18"));
    g_free(info);
    gst_object_unref(e);
  }
  gst_element_set_state(pipe, GST_STATE_NULL);
  g_unlink(copy);
  g_free(copy);
}
GST_END_TEST;

/* The element fails to start with an error message that contains `needle`. */
static void expect_start_error(const char *location, const char *props, const char *needle) {
  GstElement *e = gst_element_factory_make("lacencoder", NULL);
  fail_unless(e != NULL);
  if (location) g_object_set(e, "model-location", location, NULL);
  if (props) gst_util_set_object_arg(G_OBJECT(e), "device", props);
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  fail_unless_equals_int(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(msg != NULL, "no error message");
  GError *gerr = NULL;
  gchar *dbg = NULL;
  gst_message_parse_error(msg, &gerr, &dbg);
  gchar *all = g_strdup_printf("%s | %s", gerr->message, dbg ? dbg : "");
  fail_unless(strstr(all, needle) != NULL, "error '%s' lacks '%s'", all, needle);
  g_free(all);
  g_free(dbg);
  g_error_free(gerr);
  gst_message_unref(msg);
  gst_element_set_state(e, GST_STATE_NULL);
  gst_element_set_bus(e, NULL);
  gst_object_unref(bus);
  gst_object_unref(e);
}

GST_START_TEST(test_errors) {
  expect_start_error(NULL, NULL, "model-location");
  gchar *missing = g_build_filename(tmpdir, "no-such-model.safetensors", NULL);
  expect_start_error(missing, NULL, "cannot open the model file");
  g_free(missing);
  gchar *corrupt = g_build_filename(tmpdir, "corrupt.safetensors", NULL);
  fail_unless(g_file_set_contents(corrupt, "this is not a safetensors file at all", -1, NULL));
  expect_start_error(corrupt, NULL, "Could not load the model");
  g_unlink(corrupt);
  g_free(corrupt);
  /* an embeddings file is a valid safetensors file but not a model */
  gchar *emb_path = g_build_filename(tmpdir, "not-a-model.safetensors", NULL);
  lac_embeddings *emb = NULL;
  lac_error err;
  fail_unless(lac_embeddings_new(2, 4, 0, 0, &emb, &err) == LAC_OK);
  fail_unless(lac_embeddings_write(emb_path, emb, &err) == LAC_OK, "%s", err.message);
  lac_embeddings_free(emb);
  expect_start_error(emb_path, NULL, "Could not load the model");
  g_unlink(emb_path);
  g_free(emb_path);
  expect_start_error(model_path, "cuda", "CUDA encoder path is not available");
}
GST_END_TEST;

static Suite *lacencoder_suite(void) {
  Suite *s = suite_create("lacencoder");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_set_timeout(tc, 240);
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, test_caps_every_format);
  tcase_add_test(tc, test_caps_refused);
  tcase_add_test(tc, test_values_causal);
  tcase_add_test(tc, test_values_centred_crop);
  tcase_add_test(tc, test_centred_window);
  tcase_add_test(tc, test_frame_stride);
  tcase_add_test(tc, test_discont_reset);
  tcase_add_test(tc, test_flush_reset);
  tcase_add_test(tc, test_gap_and_segment_reset);
  tcase_add_test(tc, test_context_two);
  tcase_add_test(tc, test_qos_skips_late_frames);
  tcase_add_test(tc, test_messages);
  tcase_add_test(tc, test_batching);
  tcase_add_test(tc, test_embeddings_file);
  tcase_add_test(tc, test_shared_model);
  tcase_add_test(tc, test_errors);
  return s;
}

/* The test models: resnet18-112 at input size 80, train_len 8, seeded (and a second one with
 * context 2); saved to a temporary folder, then loaded back from the files as the element
 * loads them (BatchNorm folded). */
static int make_model(void) {
  lac_error err;
  lac_arch a;
  lac_backend_params bp = lac_backend_default_params();
  bp.n_threads = 1;
  lac_model *m = NULL;
  tmpdir = g_dir_make_tmp("lacencoder-XXXXXX", NULL);
  if (!tmpdir) return 0;
  model_path = g_build_filename(tmpdir, "model.safetensors", NULL);
  if (lac_arch_preset("resnet18-112", &a, &err) != LAC_OK) goto fail;
  a.input_size = S;
  a.train_len = TRAIN_LEN;
  if (lac_backend_new(&bp, &oracle_backend, &err) != LAC_OK ||
      lac_model_init_random(oracle_backend, &a, 7, &m, &err) != LAC_OK ||
      lac_model_save(m, model_path, &err) != LAC_OK ||
      lac_model_load(oracle_backend, model_path, &oracle_model, &err) != LAC_OK)
    goto fail;
  lac_model_free(m);
  m = NULL;
  model2_path = g_build_filename(tmpdir, "model-context2.safetensors", NULL);
  a.context = 2;
  if (lac_model_init_random(oracle_backend, &a, 8, &m, &err) != LAC_OK ||
      lac_model_save(m, model2_path, &err) != LAC_OK ||
      lac_model_load(oracle_backend, model2_path, &oracle_model2, &err) != LAC_OK)
    goto fail;
  lac_model_free(m);
  DIM = lac_model_arch(oracle_model)->embed_dim;
  return 1;
fail:
  fprintf(stderr, "cannot make the test model: %s\n", err.message);
  lac_model_free(m);
  return 0;
}

int main(int argc, char **argv) {
  gst_check_init(&argc, &argv);
  if (!make_model()) return 1;
  int failed = gst_check_run_suite(lacencoder_suite(), "lacencoder", __FILE__);
  printf("largest meta - library difference: %g\n", worst_diff);
  lac_model_free(oracle_model);
  lac_model_free(oracle_model2);
  lac_backend_free(oracle_backend);
  g_unlink(model_path);
  g_unlink(model2_path);
  g_free(model2_path);
  g_rmdir(tmpdir);
  g_free(model_path);
  g_free(tmpdir);
  return failed == 0 ? 0 : 1;
}
