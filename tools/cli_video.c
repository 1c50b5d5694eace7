/* cli_video.c — GStreamer decoding to fixed-size RGB frames and VP8/WebM encoding for the
 * `lac` command line (see cli_video.h).
 *
 * Reader: uridecodebin (video streams only) ! videoconvert ! [aspectratiocrop 1/1] !
 * videoscale ! video/x-raw,format=RGB,width=S,height=S,pixel-aspect-ratio=1/1 ! appsink.
 * Writer: appsrc ! videoconvert ! vp8enc ! webmmux ! filesink (temporary name, renamed).
 * Errors from the bus become messages that name the file and say what is missing (a
 * decoder, most often).  Not a general media layer: one video stream in, one out.
 */
#include "cli_video.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double cli_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* The first error waiting on the bus, as "what: message"; a missing decoder reported by
 * decodebin before the error is named, with the package that usually brings it. */
static int bus_error(GstElement *pipeline, char *msg, size_t msglen, const char *what) {
  GstBus *bus = gst_element_get_bus(pipeline);
  gchar *missing = NULL;
  int found = 0;
  GstMessage *m;
  while (!found && (m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT))) {
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT) {
      if (!missing && gst_is_missing_plugin_message(m))
        missing = gst_missing_plugin_message_get_description(m);
    } else {
      GError *e = NULL;
      gst_message_parse_error(m, &e, NULL);
      if (missing)
        snprintf(msg, msglen,
                 "%s: GStreamer has no %s here (install gstreamer1.0-libav, "
                 "gstreamer1.0-plugins-good or -bad, or convert the file)",
                 what, missing);
      else
        snprintf(msg, msglen, "%s: %s", what, e ? e->message : "unknown error");
      g_clear_error(&e);
      found = 1;
    }
    gst_message_unref(m);
  }
  g_free(missing);
  gst_object_unref(bus);
  return found;
}

/* ---------------------------------------------------------------- reader */

struct cli_video_reader {
  GstElement *pipeline;
  GstAppSink *sink;
  int size;
  double fps;
  char *what;
};

static int ensure_gst(char *msg, size_t msglen) {
  GError *e = NULL;
  if (!gst_init_check(NULL, NULL, &e)) {
    snprintf(msg, msglen, "cannot initialise GStreamer: %s", e ? e->message : "?");
    g_clear_error(&e);
    return -1;
  }
  return 0;
}

int cli_video_reader_open(const char *path, int size, const char *resize, cli_video_reader **out,
                          char *msg, size_t msglen) {
  *out = NULL;
  if (ensure_gst(msg, msglen)) return -1;
  const int crop = !resize || !strcmp(resize, "crop");
  gchar *uri = NULL;
  if (gst_uri_is_valid(path)) {
    uri = g_strdup(path);
  } else {
    if (access(path, R_OK) != 0) {
      snprintf(msg, msglen, "%s: cannot read the video file", path);
      return -1;
    }
    GError *e = NULL;
    uri = gst_filename_to_uri(path, &e);
    if (!uri) {
      snprintf(msg, msglen, "%s: %s", path, e ? e->message : "not a usable path");
      g_clear_error(&e);
      return -1;
    }
  }
  /* gst_parse_launch links the first video pad uridecodebin exposes; other streams (audio)
   * stay unlinked, which the demuxer tolerates while the video pad is linked */
  gchar *desc = g_strdup_printf(
      "uridecodebin name=dec ! videoconvert ! %s"
      "videoscale ! video/x-raw,format=RGB,width=%d,height=%d,pixel-aspect-ratio=1/1 ! "
      "appsink name=sink sync=false max-buffers=16 enable-last-sample=false",
      crop ? "aspectratiocrop aspect-ratio=1/1 ! " : "", size, size);
  GError *e = NULL;
  GstElement *p = gst_parse_launch(desc, &e);
  g_free(desc);
  if (!p || e) {
    snprintf(msg, msglen, "cannot build the decoding pipeline: %s (install gstreamer1.0-plugins-base "
                          "and -good)",
             e ? e->message : "?");
    g_clear_error(&e);
    if (p) gst_object_unref(p);
    g_free(uri);
    return -1;
  }
  GstElement *dec = gst_bin_get_by_name(GST_BIN(p), "dec");
  g_object_set(dec, "uri", uri, NULL);
  gst_object_unref(dec);
  g_free(uri);
  cli_video_reader *r = g_new0(cli_video_reader, 1);
  r->pipeline = p;
  r->sink = GST_APP_SINK(gst_bin_get_by_name(GST_BIN(p), "sink"));
  r->size = size;
  r->what = g_strdup(path);
  if (gst_element_set_state(p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    if (!bus_error(p, msg, msglen, path)) snprintf(msg, msglen, "%s: cannot start decoding", path);
    cli_video_reader_close(r);
    return -1;
  }
  *out = r;
  return 0;
}

int cli_video_reader_next(cli_video_reader *r, uint8_t *rgb, int64_t *pts_ns, char *msg,
                          size_t msglen) {
  for (;;) {
    GstSample *s = gst_app_sink_try_pull_sample(r->sink, 100 * GST_MSECOND);
    if (!s) {
      if (bus_error(r->pipeline, msg, msglen, r->what)) return -1;
      if (gst_app_sink_is_eos(r->sink)) return 0;
      continue;
    }
    GstVideoInfo info;
    GstVideoFrame frame;
    GstBuffer *buf = gst_sample_get_buffer(s);
    int ok = gst_video_info_from_caps(&info, gst_sample_get_caps(s)) &&
             GST_VIDEO_INFO_WIDTH(&info) == r->size && GST_VIDEO_INFO_HEIGHT(&info) == r->size &&
             gst_video_frame_map(&frame, &info, buf, GST_MAP_READ);
    if (!ok) {
      gst_sample_unref(s);
      snprintf(msg, msglen, "%s: the decoder produced a frame that cannot be read", r->what);
      return -1;
    }
    if (r->fps == 0 && GST_VIDEO_INFO_FPS_N(&info) > 0 && GST_VIDEO_INFO_FPS_D(&info) > 0)
      r->fps = (double)GST_VIDEO_INFO_FPS_N(&info) / GST_VIDEO_INFO_FPS_D(&info);
    const uint8_t *src = GST_VIDEO_FRAME_PLANE_DATA(&frame, 0);
    const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
    for (int y = 0; y < r->size; y++)
      memcpy(rgb + (size_t)y * r->size * 3, src + (size_t)y * stride, (size_t)r->size * 3);
    if (pts_ns) *pts_ns = GST_BUFFER_PTS_IS_VALID(buf) ? (int64_t)GST_BUFFER_PTS(buf) : -1;
    gst_video_frame_unmap(&frame);
    gst_sample_unref(s);
    return 1;
  }
}

double cli_video_reader_progress(cli_video_reader *r) {
  gint64 pos = 0, dur = 0;
  if (!gst_element_query_position(r->pipeline, GST_FORMAT_TIME, &pos) ||
      !gst_element_query_duration(r->pipeline, GST_FORMAT_TIME, &dur) || dur <= 0)
    return -1;
  double f = (double)pos / (double)dur;
  return f < 0 ? 0 : f > 1 ? 1 : f;
}

double cli_video_reader_fps(const cli_video_reader *r) { return r->fps; }

void cli_video_reader_close(cli_video_reader *r) {
  if (!r) return;
  gst_element_set_state(r->pipeline, GST_STATE_NULL);
  gst_object_unref(r->sink);
  gst_object_unref(r->pipeline);
  g_free(r->what);
  g_free(r);
}

/* ---------------------------------------------------------------- writer */

struct cli_video_writer {
  GstElement *pipeline;
  GstAppSrc *src;
  int width, height, fps_n, fps_d;
  int64_t n;
  char *path, *tmp;
};

int cli_video_writer_open(const char *path, int width, int height, int fps_n, int fps_d,
                          cli_video_writer **out, char *msg, size_t msglen) {
  *out = NULL;
  if (ensure_gst(msg, msglen)) return -1;
  cli_video_writer *w = g_new0(cli_video_writer, 1);
  w->path = g_strdup(path);
  w->tmp = g_strdup_printf("%s.tmp-%d", path, (int)getpid());
  w->width = width, w->height = height, w->fps_n = fps_n, w->fps_d = fps_d;
  gchar *desc = g_strdup_printf(
      "appsrc name=src format=time is-live=false block=true max-bytes=4000000 "
      "caps=video/x-raw,format=RGB,width=%d,height=%d,framerate=%d/%d,pixel-aspect-ratio=1/1 ! "
      "videoconvert ! vp8enc deadline=1 cpu-used=4 threads=2 target-bitrate=%d ! webmmux ! "
      "filesink name=sink",
      width, height, fps_n, fps_d,
      /* ~0.1 bit per pixel per frame at 25 fps, at least 200 kbit/s: small files, few artefacts */
      (int)fmax(200000.0, 0.1 * width * height * 25 * 8));
  GError *e = NULL;
  w->pipeline = gst_parse_launch(desc, &e);
  g_free(desc);
  if (!w->pipeline || e) {
    snprintf(msg, msglen, "cannot build the VP8/WebM encoder (install gstreamer1.0-plugins-good): %s",
             e ? e->message : "?");
    g_clear_error(&e);
    if (w->pipeline) gst_object_unref(w->pipeline);
    g_free(w->path);
    g_free(w->tmp);
    g_free(w);
    return -1;
  }
  GstElement *sink = gst_bin_get_by_name(GST_BIN(w->pipeline), "sink");
  g_object_set(sink, "location", w->tmp, NULL);
  gst_object_unref(sink);
  w->src = GST_APP_SRC(gst_bin_get_by_name(GST_BIN(w->pipeline), "src"));
  if (gst_element_set_state(w->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    if (!bus_error(w->pipeline, msg, msglen, path)) snprintf(msg, msglen, "%s: cannot start encoding", path);
    gst_element_set_state(w->pipeline, GST_STATE_NULL);
    gst_object_unref(w->src);
    gst_object_unref(w->pipeline);
    unlink(w->tmp);
    g_free(w->path);
    g_free(w->tmp);
    g_free(w);
    return -1;
  }
  *out = w;
  return 0;
}

int cli_video_writer_push(cli_video_writer *w, const uint8_t *rgb, char *msg, size_t msglen) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_RGB, w->width, w->height);
  GstBuffer *buf = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&info), NULL);
  GstVideoFrame frame;
  if (!buf || !gst_video_frame_map(&frame, &info, buf, GST_MAP_WRITE)) {
    if (buf) gst_buffer_unref(buf);
    snprintf(msg, msglen, "%s: out of memory for a frame", w->path);
    return -1;
  }
  uint8_t *dst = GST_VIDEO_FRAME_PLANE_DATA(&frame, 0);
  const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
  for (int y = 0; y < w->height; y++)
    memcpy(dst + (size_t)y * stride, rgb + (size_t)y * w->width * 3, (size_t)w->width * 3);
  gst_video_frame_unmap(&frame);
  GST_BUFFER_PTS(buf) = gst_util_uint64_scale(w->n, GST_SECOND * (guint64)w->fps_d, w->fps_n);
  GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(1, GST_SECOND * (guint64)w->fps_d, w->fps_n);
  w->n++;
  if (gst_app_src_push_buffer(w->src, buf) != GST_FLOW_OK) {
    if (!bus_error(w->pipeline, msg, msglen, w->path)) snprintf(msg, msglen, "%s: the encoder stopped", w->path);
    return -1;
  }
  return 0;
}

int cli_video_writer_close(cli_video_writer *w, char *msg, size_t msglen) {
  if (!w) return 0;
  int rc = 0;
  gst_app_src_end_of_stream(w->src);
  GstBus *bus = gst_element_get_bus(w->pipeline);
  GstMessage *m = gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND,
                                             GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (!m) {
    snprintf(msg, msglen, "%s: the encoder did not finish within 120 s", w->path);
    rc = -1;
  } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gst_message_parse_error(m, &e, NULL);
    snprintf(msg, msglen, "%s: %s", w->path, e ? e->message : "encoding failed");
    g_clear_error(&e);
    rc = -1;
  }
  if (m) gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(w->pipeline, GST_STATE_NULL);
  if (rc == 0 && rename(w->tmp, w->path) != 0) {
    snprintf(msg, msglen, "%s: cannot rename %s into place", w->path, w->tmp);
    rc = -1;
  }
  if (rc) unlink(w->tmp);
  gst_object_unref(w->src);
  gst_object_unref(w->pipeline);
  g_free(w->path);
  g_free(w->tmp);
  g_free(w);
  return rc;
}

/* ---------------------------------------------------------------- progress */

void cli_progress_begin(cli_progress *p) {
  p->enabled = isatty(2);
  p->t0 = cli_now();
  p->last = 0;
}

void cli_progress_update(cli_progress *p, const char *what, double fraction, int64_t count,
                         const char *unit) {
  if (!p->enabled) return;
  const double now = cli_now();
  if (now - p->last < 0.1 && fraction < 1) return;
  p->last = now;
  const double rate = count / fmax(now - p->t0, 1e-6);
  char bar[31];
  const int width = 30;
  if (fraction >= 0) {
    int filled = (int)(fraction * width + 0.5);
    for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r%-24.24s [%s] %3.0f%%  %lld %s (%.1f/s)  ", what, bar, 100 * fraction,
            (long long)count, unit, rate);
  } else {
    fprintf(stderr, "\r%-24.24s %lld %s (%.1f/s)  ", what, (long long)count, unit, rate);
  }
  fflush(stderr);
}

void cli_progress_end(cli_progress *p) {
  if (!p->enabled) return;
  fprintf(stderr, "\r%78s\r", "");
  fflush(stderr);
}
