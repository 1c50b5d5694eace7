/* test_lacsynthsrc.c — GstHarness and pipeline tests of the lacsynthsrc element and the
 * GstLacPhaseMeta.
 *
 * The library is the oracle: every buffer's pixels must equal lac_synth_render for the same
 * settings and frame, every buffer's meta lac_synth_label.  Checked: caps negotiation
 * (default fixation, several sizes, RGB / BGRx / I420), timestamps and EOS after the
 * video's frames, loop mode (next seed, DISCONT, continuous time), live mode on a test
 * clock and its latency, seeking to a frame, the meta surviving videoconvert / videoscale /
 * queue / tee in a real pipeline, the start-of-video message, the meta's own copy and
 * bad property values.  Run with GST_TRACERS=leaks and CK_FORK=no: a leak fails the binary.
 */
#include <gst/app/gstappsink.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/lac/lacmeta.h>
#include <gst/video/video.h>
#include <string.h>

#include "lac/synth.h"

/* What a test holds that streams, released by the fixture's teardown even when a check fails
 * midway: with CK_FORK=no (for the leaks tracer) a failed test would otherwise leave its
 * streaming threads running and the next test's task cleanup waiting for them. */
static GstHarness *held_h;
static GstElement *held_pipe;

static GstHarness *hold_harness(void) {
  held_h = gst_harness_new("lacsynthsrc");
  return held_h;
}

static void release_harness(void) {
  if (held_h) gst_harness_teardown(held_h);
  held_h = NULL;
}

static GstElement *hold_pipeline(GstElement *pipe) {
  held_pipe = pipe;
  return pipe;
}

static void release_pipeline(void) {
  if (held_pipe) {
    gst_element_set_state(held_pipe, GST_STATE_NULL);
    gst_object_unref(held_pipe);
  }
  held_pipe = NULL;
}

static void teardown(void) {
  release_harness();
  release_pipeline();
}

/* the library's video for the element's settings */
static lac_synth *oracle(lac_synth_action a, guint64 seed, lac_synth_distractor d, double tv,
                         int reps, int w, int h) {
  lac_synth_params p = lac_synth_default_params();
  p.action = a;
  p.seed = seed;
  p.distractor = d;
  p.tempo_variation = tv;
  p.repetitions = reps;
  p.width = w;
  p.height = h;
  lac_synth *s = NULL;
  lac_error err;
  fail_unless(lac_synth_new(&p, &s, &err) == LAC_OK, "oracle: %s", err.message);
  return s;
}

/* compares a buffer of caps-described RGB or BGRx with the library's frame f */
static void check_pixels(GstBuffer *buf, const GstVideoInfo *info, const lac_synth *s, gint64 f) {
  int w = GST_VIDEO_INFO_WIDTH(info), h = GST_VIDEO_INFO_HEIGHT(info);
  guint8 *ref = g_malloc((gsize)w * h * 3);
  lac_error err;
  fail_unless(lac_synth_render(s, f, ref, (size_t)w * 3, &err) == LAC_OK, "%s", err.message);
  GstVideoFrame vf;
  fail_unless(gst_video_frame_map(&vf, info, buf, GST_MAP_READ));
  const guint8 *data = GST_VIDEO_FRAME_PLANE_DATA(&vf, 0);
  int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&vf, 0);
  GstVideoFormat fmt = GST_VIDEO_INFO_FORMAT(info);
  int bad = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      const guint8 *r = ref + ((gsize)y * w + x) * 3;
      const guint8 *o = data + (gsize)y * stride;
      if (fmt == GST_VIDEO_FORMAT_RGB)
        bad += memcmp(o + 3 * x, r, 3) != 0;
      else /* BGRx */
        bad += o[4 * x] != r[2] || o[4 * x + 1] != r[1] || o[4 * x + 2] != r[0];
    }
  gst_video_frame_unmap(&vf);
  g_free(ref);
  fail_unless(bad == 0, "frame %" G_GINT64_FORMAT ": %d of %d pixels differ from the library", f,
              bad, w * h);
}

static void check_meta(GstBuffer *buf, const lac_synth *s, gint64 f, guint64 video) {
  GstLacPhaseMeta *m = gst_buffer_get_lac_phase_meta(buf);
  fail_unless(m != NULL, "frame %" G_GINT64_FORMAT " has no phase meta", f);
  fail_unless_equals_int(m->phase, lac_synth_label(s, f));
  fail_unless_equals_int(m->repetition, lac_synth_repetition(s, f));
  fail_unless_equals_int(m->n_phases, lac_synth_n_phases(s));
  fail_unless_equals_uint64(m->frame_index, (guint64)f);
  fail_unless_equals_uint64(m->video_index, video);
  fail_unless_equals_string(m->action, lac_synth_action_name(lac_synth_get_params(s)->action));
  if (m->phase >= 0) {
    fail_unless_equals_string(m->phase_name, lac_synth_phase_name(s, m->phase));
  } else {
    fail_unless(m->phase_name == NULL);
  }
}

static GstVideoInfo harness_info(GstHarness *h) {
  GstCaps *caps = gst_pad_get_current_caps(h->sinkpad);
  GstVideoInfo info;
  fail_unless(caps != NULL);
  fail_unless(gst_video_info_from_caps(&info, caps));
  gst_caps_unref(caps);
  return info;
}

/* ---------------------------------------------------------------- negotiation */

GST_START_TEST(test_default_caps) {
  GstHarness *h = hold_harness();
  gst_harness_set_sink_caps_str(h, "video/x-raw");
  gst_harness_play(h);
  GstBuffer *buf = gst_harness_pull(h);
  GstVideoInfo info = harness_info(h);
  fail_unless_equals_int(GST_VIDEO_INFO_FORMAT(&info), GST_VIDEO_FORMAT_RGB);
  fail_unless_equals_int(GST_VIDEO_INFO_WIDTH(&info), 112);
  fail_unless_equals_int(GST_VIDEO_INFO_HEIGHT(&info), 112);
  fail_unless_equals_int(GST_VIDEO_INFO_FPS_N(&info), 25);
  fail_unless_equals_int(GST_VIDEO_INFO_FPS_D(&info), 1);
  lac_synth *s = oracle(LAC_SYNTH_POUR, 0, LAC_SYNTH_DISTRACT_NONE, 0.5, 3, 112, 112);
  check_pixels(buf, &info, s, 0);
  check_meta(buf, s, 0, 0);
  fail_unless_equals_uint64(GST_BUFFER_PTS(buf), 0);
  fail_unless_equals_uint64(GST_BUFFER_DURATION(buf), GST_SECOND / 25);
  gst_buffer_unref(buf);
  lac_synth_free(s);
  release_harness();
}
GST_END_TEST;

GST_START_TEST(test_sizes_and_formats) {
  static const struct {
    const char *format;
    int w, h;
  } cases[] = {{"RGB", 32, 32}, {"RGB", 57, 33}, {"RGB", 320, 240}, {"BGRx", 64, 48},
               {"I420", 90, 60}, {"NV12", 64, 64}};
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    GstHarness *h = hold_harness();
    gchar *caps = g_strdup_printf("video/x-raw,format=%s,width=%d,height=%d,framerate=30/1",
                                  cases[i].format, cases[i].w, cases[i].h);
    g_object_set(h->element, "action", LAC_SYNTH_SQUAT, "seed", (guint64)11, NULL);
    gst_harness_set_sink_caps_str(h, caps);
    g_free(caps);
    gst_harness_play(h);
    lac_synth *s = oracle(LAC_SYNTH_SQUAT, 11, LAC_SYNTH_DISTRACT_NONE, 0.5, 3, cases[i].w,
                          cases[i].h);
    for (gint64 f = 0; f < 3; f++) {
      GstBuffer *buf = gst_harness_pull(h);
      GstVideoInfo info = harness_info(h);
      fail_unless_equals_string(gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info)),
                                cases[i].format);
      fail_unless(gst_buffer_get_size(buf) >= GST_VIDEO_INFO_SIZE(&info));
      if (strcmp(cases[i].format, "RGB") == 0 || strcmp(cases[i].format, "BGRx") == 0)
        check_pixels(buf, &info, s, f);
      check_meta(buf, s, f, 0);
      fail_unless_equals_uint64(GST_BUFFER_PTS(buf),
                                gst_util_uint64_scale((guint64)f, GST_SECOND, 30));
      gst_buffer_unref(buf);
    }
    lac_synth_free(s);
    release_harness();
  }
}
GST_END_TEST;

/* ---------------------------------------------------------------- a whole video */

GST_START_TEST(test_whole_video_eos) {
  GstHarness *h = hold_harness();
  g_object_set(h->element, "action", LAC_SYNTH_JUMPING_JACKS, "seed", (guint64)7, "distractor",
               LAC_SYNTH_DISTRACT_INSIDE, "tempo-variation", 1.0, "repetitions", 2, NULL);
  gst_harness_set_sink_caps_str(h, "video/x-raw,format=RGB,width=64,height=48,framerate=25/1");
  gst_harness_play(h);
  lac_synth *s = oracle(LAC_SYNTH_JUMPING_JACKS, 7, LAC_SYNTH_DISTRACT_INSIDE, 1.0, 2, 64, 48);
  gint64 n = lac_synth_n_frames(s), f = 0;
  int unlabelled = 0;
  GstBuffer *buf = NULL;
  while (gst_harness_pull_until_eos(h, &buf) && buf) {
    fail_unless(f < n, "more buffers than the video's %" G_GINT64_FORMAT " frames", n);
    GstVideoInfo info = harness_info(h);
    check_pixels(buf, &info, s, f);
    check_meta(buf, s, f, 0);
    unlabelled += gst_buffer_get_lac_phase_meta(buf)->phase < 0;
    fail_unless_equals_uint64(GST_BUFFER_PTS(buf),
                              gst_util_uint64_scale((guint64)f, GST_SECOND, 25));
    fail_unless_equals_uint64(GST_BUFFER_OFFSET(buf), (guint64)f);
    gst_buffer_unref(buf);
    buf = NULL;
    f++;
  }
  fail_unless_equals_int64(f, n);
  fail_unless(unlabelled > 0, "the inside distractor left no unlabelled frame");
  lac_synth_free(s);
  release_harness();
}
GST_END_TEST;

GST_START_TEST(test_loop) {
  lac_synth *s0 = oracle(LAC_SYNTH_POUR, 20, LAC_SYNTH_DISTRACT_RANDOM, 0.5, 3, 48, 48);
  lac_synth *s1 = oracle(LAC_SYNTH_POUR, 21, LAC_SYNTH_DISTRACT_RANDOM, 0.5, 3, 48, 48);
  gint64 n0 = lac_synth_n_frames(s0), n1 = lac_synth_n_frames(s1), total = n0 + n1 + 5;
  GstHarness *h = hold_harness();
  g_object_set(h->element, "seed", (guint64)20, "distractor", LAC_SYNTH_DISTRACT_RANDOM, "loop",
               TRUE, "num-buffers", (gint)total, NULL);
  gst_harness_set_sink_caps_str(h, "video/x-raw,format=RGB,width=48,height=48,framerate=10/1");
  gst_harness_play(h);
  gint64 i = 0;
  GstBuffer *buf = NULL;
  while (gst_harness_pull_until_eos(h, &buf) && buf) {
    GstVideoInfo info = harness_info(h);
    const lac_synth *s = i < n0 ? s0 : s1;
    gint64 f = i < n0 ? i : i - n0;
    guint64 video = i < n0 ? 0 : (i < n0 + n1 ? 1 : 2);
    if (video < 2) {
      check_meta(buf, s, f, video);
      if (f < 2 || f == lac_synth_n_frames(s) - 1) check_pixels(buf, &info, s, f);
    } else {
      fail_unless_equals_uint64(gst_buffer_get_lac_phase_meta(buf)->video_index, 2);
      fail_unless_equals_uint64(gst_buffer_get_lac_phase_meta(buf)->frame_index,
                                (guint64)(i - n0 - n1));
    }
    if (i == n0 || i == n0 + n1) {
      fail_unless(GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DISCONT), "new video not DISCONT");
    } else if (i > 0) {
      fail_if(GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DISCONT), "DISCONT inside a video");
    }
    /* time runs on across videos */
    fail_unless_equals_uint64(GST_BUFFER_PTS(buf),
                              gst_util_uint64_scale((guint64)i, GST_SECOND, 10));
    gst_buffer_unref(buf);
    buf = NULL;
    i++;
  }
  fail_unless_equals_int64(i, total);
  lac_synth_free(s0);
  lac_synth_free(s1);
  release_harness();
}
GST_END_TEST;

/* ---------------------------------------------------------------- live */

GST_START_TEST(test_live_timestamps) {
  GstHarness *h = hold_harness();
  g_object_set(h->element, "is-live", TRUE, NULL);
  gst_harness_use_testclock(h);
  gst_harness_set_sink_caps_str(h, "video/x-raw,format=RGB,width=32,height=32,framerate=20/1");
  gst_harness_play(h);
  GstTestClock *clock = gst_harness_get_testclock(h);
  for (guint64 i = 0; i < 5; i++) {
    /* the source waits on the clock for each frame's time: release one wait, get one frame */
    fail_unless(gst_harness_crank_single_clock_wait(h));
    GstBuffer *buf = gst_harness_pull(h);
    GstClockTime want = gst_util_uint64_scale(i, GST_SECOND, 20);
    fail_unless_equals_uint64(GST_BUFFER_PTS(buf), want);
    fail_unless_equals_uint64(GST_BUFFER_DURATION(buf), GST_SECOND / 20);
    fail_unless_equals_uint64(gst_clock_get_time(GST_CLOCK(clock)),
                              want + gst_element_get_base_time(h->element));
    gst_buffer_unref(buf);
  }
  GstQuery *q = gst_query_new_latency();
  GstPad *pad = gst_element_get_static_pad(h->element, "src");
  fail_unless(gst_pad_query(pad, q));
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency(q, &live, &min, &max);
  fail_unless(live);
  fail_unless_equals_uint64(min, GST_SECOND / 20);
  gst_query_unref(q);
  gst_object_unref(pad);
  gst_object_unref(clock);
  release_harness();
}
GST_END_TEST;

/* ---------------------------------------------------------------- pipelines */

typedef struct {
  GstElement *pipe;
  GstAppSink *sink;
} pipeline;

static pipeline launch(const char *desc) {
  GError *error = NULL;
  pipeline p;
  p.pipe = hold_pipeline(gst_parse_launch(desc, &error));
  fail_unless(p.pipe != NULL && error == NULL, "%s: %s", desc, error ? error->message : "");
  p.sink = GST_APP_SINK(gst_bin_get_by_name(GST_BIN(p.pipe), "sink"));
  return p;
}

static void close_pipeline(pipeline *p) {
  gst_object_unref(p->sink);
  release_pipeline();
}

GST_START_TEST(test_meta_through_pipeline) {
  pipeline p = launch(
      "lacsynthsrc seed=5 action=pour distractor=before tempo-variation=1.0 "
      "! video/x-raw,format=RGB,width=112,height=112 ! videoconvert ! video/x-raw,format=I420 "
      "! videoscale ! video/x-raw,width=64,height=48 ! queue ! tee name=t "
      "t. ! queue ! appsink name=sink sync=false t. ! queue ! fakesink sync=false");
  lac_synth *s = oracle(LAC_SYNTH_POUR, 5, LAC_SYNTH_DISTRACT_BEFORE, 1.0, 3, 112, 112);
  fail_unless(gst_element_set_state(p.pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  gint64 f = 0;
  GstSample *sample;
  while ((sample = gst_app_sink_pull_sample(p.sink)) != NULL) {
    GstBuffer *buf = gst_sample_get_buffer(sample);
    GstVideoInfo info;
    fail_unless(gst_video_info_from_caps(&info, gst_sample_get_caps(sample)));
    fail_unless_equals_int(GST_VIDEO_INFO_WIDTH(&info), 64);
    fail_unless_equals_int(GST_VIDEO_INFO_FORMAT(&info), GST_VIDEO_FORMAT_I420);
    check_meta(buf, s, f, 0);
    gst_sample_unref(sample);
    f++;
  }
  fail_unless(gst_app_sink_is_eos(p.sink));
  fail_unless_equals_int64(f, lac_synth_n_frames(s));

  /* the start-of-video message */
  GstBus *bus = gst_element_get_bus(p.pipe);
  GstMessage *msg;
  int seen = 0;
  while ((msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR)) != NULL) {
    fail_if(GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR, "error on the bus");
    const GstStructure *st = gst_message_get_structure(msg);
    if (gst_structure_has_name(st, "lac-synth-video")) {
      gint64 n = 0;
      guint64 seed = 0;
      fail_unless(gst_structure_get_int64(st, "n-frames", &n));
      fail_unless(gst_structure_get_uint64(st, "seed", &seed));
      fail_unless_equals_int64(n, lac_synth_n_frames(s));
      fail_unless_equals_uint64(seed, 5);
      fail_unless_equals_string(gst_structure_get_string(st, "action"), "pour");
      fail_unless_equals_string(gst_structure_get_string(st, "distractor"), "before");
      const GValue *names = gst_structure_get_value(st, "phase-names");
      fail_unless(names != NULL && GST_VALUE_HOLDS_ARRAY(names));
      fail_unless_equals_int(gst_value_array_get_size(names), 5);
      fail_unless_equals_string(g_value_get_string(gst_value_array_get_value(names, 2)), "pour");
      seen++;
    }
    gst_message_unref(msg);
  }
  fail_unless_equals_int(seen, 1);
  gst_object_unref(bus);
  lac_synth_free(s);
  close_pipeline(&p);
}
GST_END_TEST;

GST_START_TEST(test_seek) {
  pipeline p = launch(
      "lacsynthsrc seed=9 action=squat ! video/x-raw,format=RGB,width=48,height=40,"
      "framerate=25/1 ! appsink name=sink sync=false");
  lac_synth *s = oracle(LAC_SYNTH_SQUAT, 9, LAC_SYNTH_DISTRACT_NONE, 0.5, 3, 48, 40);
  fail_unless(gst_element_set_state(p.pipe, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
  fail_unless(gst_element_get_state(p.pipe, NULL, NULL, GST_CLOCK_TIME_NONE) ==
              GST_STATE_CHANGE_SUCCESS);
  gint64 dur = 0;
  fail_unless(gst_element_query_duration(p.pipe, GST_FORMAT_TIME, &dur));
  fail_unless_equals_int64(
      dur, (gint64)gst_util_uint64_scale((guint64)lac_synth_n_frames(s), GST_SECOND, 25));
  /* 10 frames and a bit: the next frame, 11, comes first */
  fail_unless(gst_element_seek_simple(p.pipe, GST_FORMAT_TIME,
                                      GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
                                      10 * GST_SECOND / 25 + GST_MSECOND));
  fail_unless(gst_element_get_state(p.pipe, NULL, NULL, GST_CLOCK_TIME_NONE) ==
              GST_STATE_CHANGE_SUCCESS);
  GstSample *sample = gst_app_sink_pull_preroll(p.sink);
  fail_unless(sample != NULL);
  GstBuffer *buf = gst_sample_get_buffer(sample);
  GstVideoInfo info;
  fail_unless(gst_video_info_from_caps(&info, gst_sample_get_caps(sample)));
  check_meta(buf, s, 11, 0);
  check_pixels(buf, &info, s, 11);
  fail_unless_equals_uint64(GST_BUFFER_PTS(buf), 11 * GST_SECOND / 25);
  gst_sample_unref(sample);
  lac_synth_free(s);
  close_pipeline(&p);
}
GST_END_TEST;

/* ---------------------------------------------------------------- the meta itself */

GST_START_TEST(test_meta_copy) {
  GstBuffer *a = gst_buffer_new_allocate(NULL, 16, NULL);
  fail_unless(gst_buffer_add_lac_phase_meta(a, "pour", 2, 5, "pour", 0, 3, 17) != NULL);
  GstBuffer *b = gst_buffer_copy(a);
  GstLacPhaseMeta *m = gst_buffer_get_lac_phase_meta(b);
  fail_unless(m != NULL, "meta lost in a copy");
  fail_unless_equals_int(m->phase, 2);
  fail_unless_equals_int(m->n_phases, 5);
  fail_unless_equals_string(m->phase_name, "pour");
  fail_unless_equals_uint64(m->video_index, 3);
  fail_unless_equals_uint64(m->frame_index, 17);
  const gchar *const *tags = gst_meta_api_type_get_tags(GST_LAC_PHASE_META_API_TYPE);
  fail_unless(tags == NULL || tags[0] == NULL, "the API has tags: elements may drop it");
  GstBuffer *c = gst_buffer_new_allocate(NULL, 16, NULL);
  fail_unless(gst_buffer_add_lac_phase_meta(c, "squat", -1, 4, "ignored", -1, 0, 0) != NULL);
  fail_unless(gst_buffer_get_lac_phase_meta(c)->phase_name == NULL);
  gst_buffer_unref(a);
  gst_buffer_unref(b);
  gst_buffer_unref(c);
}
GST_END_TEST;

/* ---------------------------------------------------------------- bad settings */

static gboolean error_on_bus(GstElement *pipe, const char *needle) {
  GstBus *bus = gst_element_get_bus(pipe);
  GstMessage *msg = gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND, GST_MESSAGE_ERROR);
  gboolean found = FALSE;
  if (msg) {
    GError *e = NULL;
    gchar *dbg = NULL;
    gst_message_parse_error(msg, &e, &dbg);
    found = !needle || strstr(e->message, needle) || (dbg && strstr(dbg, needle));
    if (!found) GST_ERROR("error without '%s': %s (%s)", needle, e->message, dbg);
    g_error_free(e);
    g_free(dbg);
    gst_message_unref(msg);
  }
  gst_object_unref(bus);
  return found;
}

GST_START_TEST(test_bad_properties) {
  GstElement *e = gst_element_factory_make("lacsynthsrc", NULL);
  gint reps = 0;
  gdouble tv = 0;
  ASSERT_WARNING(g_object_set(e, "repetitions", 0, NULL));
  ASSERT_WARNING(g_object_set(e, "tempo-variation", 1.5, NULL));
  ASSERT_WARNING(g_object_set(e, "base-frames", 7, NULL));
  g_object_get(e, "repetitions", &reps, "tempo-variation", &tv, NULL);
  fail_unless_equals_int(reps, 3);
  fail_unless(tv == 0.5);
  gst_object_unref(e);

  GError *error = NULL;
  GstElement *pipe = gst_parse_launch("lacsynthsrc action=swim ! fakesink", &error);
  fail_unless(error != NULL, "action=swim accepted");
  g_clear_error(&error);
  if (pipe) gst_object_unref(pipe);

  /* in range one by one, refused together: 10 squats need 80 frames */
  pipe = hold_pipeline(gst_parse_launch(
      "lacsynthsrc action=squat repetitions=10 base-frames=40 ! fakesink", &error));
  fail_unless(pipe != NULL && error == NULL);
  fail_unless(gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
  fail_unless(error_on_bus(pipe, "base_frames"), "no error naming base_frames");
  release_pipeline();

  /* a size outside 32..8192 cannot be negotiated */
  pipe = hold_pipeline(
      gst_parse_launch("lacsynthsrc ! video/x-raw,width=16,height=16 ! fakesink", &error));
  if (pipe) {
    g_clear_error(&error);
    gst_element_set_state(pipe, GST_STATE_PLAYING);
    fail_unless(error_on_bus(pipe, NULL), "16x16 negotiated");
    release_pipeline();
  } else {
    fail_unless(error != NULL);
    g_clear_error(&error);
  }
}
GST_END_TEST;

static Suite *lacsynthsrc_suite(void) {
  Suite *s = suite_create("lacsynthsrc");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_set_timeout(tc, 120);
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, test_default_caps);
  tcase_add_test(tc, test_sizes_and_formats);
  tcase_add_test(tc, test_whole_video_eos);
  tcase_add_test(tc, test_loop);
  tcase_add_test(tc, test_live_timestamps);
  tcase_add_test(tc, test_meta_through_pipeline);
  tcase_add_test(tc, test_seek);
  tcase_add_test(tc, test_meta_copy);
  tcase_add_test(tc, test_bad_properties);
  return s;
}

/* gst_check_run_suite ends with gst_deinit, where the leaks tracer (GST_TRACERS=leaks)
 * reports: a leak then fails the binary. */
GST_CHECK_MAIN(lacsynthsrc);
