/* bench_gst.c — lacencoder in a pipeline against the library's raw encoder, in one run (a
 * benchmark, not a test).
 *
 *   bench_gst MODEL VIDEO [--threads 2] [--rounds 3] [--live-frames 150]
 *
 * 1. Throughput: `filesrc ! decodebin ! lacencoder ! fakesink` frames/s (decoding, conversion
 *    and the element included) against lac_session_push over the same frames, decoded
 *    beforehand to the model's input size (the encoder alone), with the same threads and
 *    causal window; median of --rounds rounds of each, interleaved; prints the ratio.  The
 *    pipeline is timed from PLAYING after its preroll (model loaded, first frame through).
 * 2. Added latency: a live `videotestsrc is-live=true ! video/x-raw,framerate=30/1 !
 *    lacencoder ! fakesink`, each buffer timed from lacencoder's sink pad to its src pad;
 *    median and 99th percentile over --live-frames frames (the first 10 dropped as warm-up).
 *
 * GST_PLUGIN_PATH must reach the build tree's gst/encoder (bench/run_gst.sh sets it).
 */
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lac/lac.h"

#include "bench_util.h"

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Run a launch line to EOS; returns the seconds from PLAYING to EOS after a preroll in
 * PAUSED (model loading and the first frame are outside the timed window), or -1. */
static double run_pipeline(const char *desc) {
  GError *e = NULL;
  GstElement *p = gst_parse_launch(desc, &e);
  if (!p || e) {
    fprintf(stderr, "bench_gst: %s: %s\n", desc, e ? e->message : "?");
    g_clear_error(&e);
    return -1;
  }
  gst_element_set_state(p, GST_STATE_PAUSED);
  gst_element_get_state(p, NULL, NULL, GST_CLOCK_TIME_NONE);
  const double t0 = bench_now();
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m =
      gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  const double t = bench_now() - t0;
  int ok = m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS;
  if (!ok && m) {
    GError *err = NULL;
    gst_message_parse_error(m, &err, NULL);
    fprintf(stderr, "bench_gst: %s\n", err ? err->message : "error");
    g_clear_error(&err);
  }
  if (m) gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return ok ? t : -1;
}

/* Decode VIDEO to S x S RGB frames, cut to a centred square as lacencoder does. */
static uint8_t *decode_all(const char *video, int S, int *n_out) {
  gchar *desc = g_strdup_printf(
      "filesrc location=\"%s\" ! decodebin ! videoconvert ! aspectratiocrop aspect-ratio=1/1 ! "
      "videoscale ! video/x-raw,format=RGB,width=%d,height=%d,pixel-aspect-ratio=1/1 ! "
      "appsink name=sink sync=false",
      video, S, S);
  GError *e = NULL;
  GstElement *p = gst_parse_launch(desc, &e);
  g_free(desc);
  if (!p || e) {
    g_clear_error(&e);
    return NULL;
  }
  GstAppSink *sink = GST_APP_SINK(gst_bin_get_by_name(GST_BIN(p), "sink"));
  gst_element_set_state(p, GST_STATE_PLAYING);
  size_t cap = 64, n = 0, fb = (size_t)S * S * 3;
  uint8_t *all = malloc(cap * fb);
  GstSample *s;
  while (all && (s = gst_app_sink_pull_sample(sink))) {
    GstVideoInfo info;
    GstVideoFrame f;
    if (gst_video_info_from_caps(&info, gst_sample_get_caps(s)) &&
        gst_video_frame_map(&f, &info, gst_sample_get_buffer(s), GST_MAP_READ)) {
      if (n == cap) {
        uint8_t *g = realloc(all, (cap *= 2) * fb);
        if (!g) {
          free(all);
          all = NULL;
        } else {
          all = g;
        }
      }
      if (all) {
        const uint8_t *src = GST_VIDEO_FRAME_PLANE_DATA(&f, 0);
        for (int y = 0; y < S; y++)
          memcpy(all + n * fb + (size_t)y * S * 3, src + (size_t)y * GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0),
                 (size_t)S * 3);
        n++;
      }
      gst_video_frame_unmap(&f);
    }
    gst_sample_unref(s);
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(p);
  *n_out = (int)n;
  return all;
}

/* Buffer timing across lacencoder: sink-pad arrival by PTS, src-pad departure. */
typedef struct {
  GHashTable *in;  /* PTS -> arrival time (ns, monotonic) */
  double *lat;
  int n, cap;
} lat_probe;

static GstPadProbeReturn probe_in(GstPad *pad, GstPadProbeInfo *info, gpointer user) {
  (void)pad;
  lat_probe *lp = user;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
  g_hash_table_insert(lp->in, GSIZE_TO_POINTER((gsize)GST_BUFFER_PTS(b) + 1),
                      GSIZE_TO_POINTER((gsize)g_get_monotonic_time()));
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn probe_out(GstPad *pad, GstPadProbeInfo *info, gpointer user) {
  (void)pad;
  lat_probe *lp = user;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
  gpointer t0 = g_hash_table_lookup(lp->in, GSIZE_TO_POINTER((gsize)GST_BUFFER_PTS(b) + 1));
  if (t0 && lp->n < lp->cap)
    lp->lat[lp->n++] = (double)(g_get_monotonic_time() - (gint64)GPOINTER_TO_SIZE(t0)) / 1000.0;
  return GST_PAD_PROBE_OK;
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc < 3) {
    fprintf(stderr, "usage: bench_gst MODEL VIDEO [--threads T] [--rounds R] [--live-frames N]\n");
    return 2;
  }
  const char *model_path = argv[1], *video = argv[2];
  int threads = 2, rounds = 3, live_frames = 150;
  for (int i = 3; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(argv[i], "--threads") && v) threads = atoi(v), i++;
    else if (!strcmp(argv[i], "--rounds") && v) rounds = atoi(v), i++;
    else if (!strcmp(argv[i], "--live-frames") && v) live_frames = atoi(v), i++;
    else {
      fprintf(stderr, "bench_gst: unknown option '%s'\n", argv[i]);
      return 2;
    }
  }
  if (rounds < 1 || rounds > 100 || live_frames < 20) {
    fprintf(stderr, "bench_gst: --rounds in [1, 100], --live-frames >= 20\n");
    return 2;
  }
  lac_error err;
  lac_backend_params bp = lac_backend_default_params();
  bp.n_threads = threads;
  lac_backend *b = NULL;
  lac_model *m = NULL;
  if (lac_backend_new(&bp, &b, &err) != LAC_OK || lac_model_load(b, model_path, &m, &err) != LAC_OK) {
    fprintf(stderr, "bench_gst: %s\n", err.message);
    return 1;
  }
  const lac_arch *a = lac_model_arch(m);
  const int S = a->input_size;
  int n = 0;
  uint8_t *frames = decode_all(video, S, &n);
  if (!frames) {
    fprintf(stderr, "bench_gst: cannot decode %s (is it a video GStreamer can play?)\n", video);
    return 1;
  }
  if (n < a->context) {
    fprintf(stderr, "bench_gst: %s has %d frames; the model's context needs at least %d\n", video,
            n, a->context);
    free(frames);
    return 1;
  }
  printf("bench_gst: %s (%s %dx%d), %s: %d frames, %d threads, %d rounds\n", model_path,
         lac_trunk_name(a->trunk), S, S, video, n, threads, rounds);

  /* the library alone: streaming pushes of one frame at a time (as lacencoder with
   * batch-size 1 does), causal window of the model's train_len */
  lac_session_params sp = lac_session_default_params();
  sp.max_batch = 1;
  lac_session *s = NULL;
  float *out = malloc(sizeof(float) * (size_t)(a->train_len + 2) * a->embed_dim);
  int64_t idx[64 + 2];
  int full[64 + 2];
  if (a->train_len > 64 || lac_session_new(m, &sp, &s, &err) != LAC_OK) {
    fprintf(stderr, "bench_gst: %s\n", err.message);
    return 1;
  }
  gchar *desc = g_strdup_printf(
      "filesrc location=\"%s\" ! decodebin ! lacencoder model-location=\"%s\" threads=%d "
      "batch-size=1 ! fakesink sync=false",
      video, model_path, threads);
  double *t_lib = calloc((size_t)rounds, sizeof(double)), *t_gst = calloc((size_t)rounds, sizeof(double));
  const size_t fb = (size_t)S * S * 3;
  run_pipeline(desc); /* warm-up: plugin loading, page cache */
  for (int r = 0; r < rounds; r++) {
    lac_session_reset(s);
    const double t0 = bench_now();
    int n_out;
    for (int f = 0; f < n; f++) {
      lac_frames fr = {LAC_PIXELS_RGB8, 1, S, S, 0, frames + (size_t)f * fb};
      if (lac_session_push(s, &fr, out, idx, full, a->train_len + 2, &n_out, &err) != LAC_OK) {
        fprintf(stderr, "bench_gst: %s\n", err.message);
        return 1;
      }
    }
    t_lib[r] = n / (bench_now() - t0);
    const double tg = run_pipeline(desc);
    if (tg < 0) return 1;
    t_gst[r] = (n - 1) / tg; /* the prerolled frame was embedded before the clock started */
    printf("  round %d: library %.1f frames/s, pipeline %.1f frames/s (%.3f)\n", r + 1, t_lib[r],
           t_gst[r], t_gst[r] / t_lib[r]);
  }
  const double ml = median(t_lib, rounds), mg = median(t_gst, rounds);
  printf("throughput: library %.1f frames/s, filesrc ! decodebin ! lacencoder ! fakesink %.1f "
         "frames/s: ratio %.3f (median of %d)\n",
         ml, mg, mg / ml, rounds);
  g_free(desc);

  /* added latency under a live 30 fps source */
  desc = g_strdup_printf(
      "videotestsrc is-live=true num-buffers=%d ! video/x-raw,width=320,height=240,framerate=30/1 ! "
      "lacencoder name=enc model-location=\"%s\" threads=%d ! fakesink sync=true",
      live_frames, model_path, threads);
  GError *e = NULL;
  GstElement *p = gst_parse_launch(desc, &e);
  g_free(desc);
  if (!p || e) {
    fprintf(stderr, "bench_gst: %s\n", e ? e->message : "?");
    return 1;
  }
  lat_probe lp = {g_hash_table_new(g_direct_hash, g_direct_equal), calloc((size_t)live_frames, sizeof(double)), 0,
                  live_frames};
  GstElement *enc = gst_bin_get_by_name(GST_BIN(p), "enc");
  GstPad *sinkpad = gst_element_get_static_pad(enc, "sink"), *srcpad = gst_element_get_static_pad(enc, "src");
  gst_pad_add_probe(sinkpad, GST_PAD_PROBE_TYPE_BUFFER, probe_in, &lp, NULL);
  gst_pad_add_probe(srcpad, GST_PAD_PROBE_TYPE_BUFFER, probe_out, &lp, NULL);
  gst_object_unref(sinkpad);
  gst_object_unref(srcpad);
  gst_object_unref(enc);
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *msg = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  if (lp.n > 20) {
    double *v = lp.lat + 10;
    const int k = lp.n - 10;
    qsort(v, (size_t)k, sizeof *v, bench_cmp_double);
    printf("latency added by lacencoder (live 30 fps, %d frames): median %.2f ms, p99 %.2f ms, "
           "max %.2f ms\n",
           k, median(v, k), v[(int)floor(0.99 * (k - 1))], v[k - 1]);
  } else {
    printf("latency: only %d frames timed\n", lp.n);
  }
  g_hash_table_destroy(lp.in);
  free(lp.lat);
  free(t_lib);
  free(t_gst);
  free(out);
  free(frames);
  lac_session_free(s);
  lac_model_free(m);
  lac_backend_free(b);
  return 0;
}
