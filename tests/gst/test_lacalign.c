/* test_lacalign.c — GstHarness tests of the lacalign element.
 *
 * The reference is a known trajectory: frame j of T_REF has the embedding b(j), a Gaussian
 * bump moving along the first K dimensions; the stream is a time-warped copy b(w(i)) (slow,
 * then fast) with a distractor segment (embeddings in the other dimensions) inserted, plus
 * small seeded noise.  Checked: the on-line matched index follows the known warp w(i) within
 * a tolerance and no match is reported inside the distractor; the CSV's off-line column
 * equals lac_sw_path of the library on the same similarity matrix (the library is the
 * oracle); the messages carry their fields and agree with the CSV; the overlay is blended
 * where the band is drawn (every accepted format) and attached, pixels untouched, when
 * downstream proposes GstVideoOverlayCompositionMeta; the PNG plot reads back with cairo;
 * the reference pad gives the same estimates as the file (one run keeping the whole history,
 * one only the recent windows) and the phase names of its GstLacPhaseMeta; a restart of the
 * action (index back from the end to 0) is followed within RESTART_TOL frames; the JSON
 * alignment file carries the reference's info, the parameters and one object per frame; a
 * reference pad of flat-coloured raw video shows the matched frame's colour in the overlay's
 * corner (blended) or as the composition's second rectangle (attached); errors: missing
 * reference file, no reference, dimension mismatch, model id mismatch.  Run with
 * GST_TRACERS=leaks and CK_FORK=no: a leak fails the binary.
 */
#include <cairo.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/lac/lacmeta.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lac/align.h"
#include "lac/lac.h"

#define T_REF 60
#define K 20       /* bump dimensions */
#define DIM 24     /* K + 4 distractor dimensions */
#define SIGMA 0.6  /* bump width, in dimensions */
#define MODEL "test-model-1"
#define W 64
#define H 48

/* the same settings for the element and the oracle */
#define OFFSET 0.5f
#define GAP_OPEN 0.2f
#define GAP_EXTEND 0.05f

static GstHarness *held_h, *held_h2;
static gchar *tmpdir;

/* Each test releases its harnesses itself (gst-check's per-test task cleanup runs before
 * the fixture's teardown); the fixture covers a test that failed midway. */
static void release_harnesses(void) {
  if (held_h2) gst_harness_teardown(held_h2);
  if (held_h) gst_harness_teardown(held_h);
  held_h = held_h2 = NULL;
}

static void teardown(void) {
  release_harnesses();
  if (tmpdir) {
    GDir *d = g_dir_open(tmpdir, 0, NULL);
    const gchar *name;
    while (d && (name = g_dir_read_name(d))) {
      gchar *p = g_build_filename(tmpdir, name, NULL);
      g_unlink(p);
      g_free(p);
    }
    if (d) g_dir_close(d);
    g_rmdir(tmpdir);
    g_clear_pointer(&tmpdir, g_free);
  }
}

static gchar *tmp_path(const char *name) {
  if (!tmpdir) tmpdir = g_dir_make_tmp("lacalign-XXXXXX", NULL);
  fail_unless(tmpdir != NULL);
  return g_build_filename(tmpdir, name, NULL);
}

/* b(t): bump at position t in [0, T_REF - 1] over the first K dimensions */
static void bump(double t, float *e) {
  double c = t / (T_REF - 1) * (K - 1);
  for (int k = 0; k < DIM; k++) e[k] = k < K ? (float)exp(-(c - k) * (c - k) / (2.0 * SIGMA * SIGMA)) : 0.f;
}

static int ref_phase(int j) { return j * 4 / T_REF; }
static const char *const names[] = {"reach", "grasp", "lift", "pour"};

/* The reference file: b(j), labels = 4 phases with names; returns its path. */
static gchar *write_reference(int dim, const char *model) {
  lac_embeddings *e = NULL;
  lac_error err;
  fail_unless(lac_embeddings_new(T_REF, dim, 1, 1, &e, &err) == LAC_OK, "%s", err.message);
  float v[DIM];
  for (int j = 0; j < T_REF; j++) {
    bump(j, v);
    memcpy(e->data + (gsize)j * dim, v, sizeof(float) * MIN(dim, DIM));
    e->timestamps[j] = j * (GST_SECOND / 30);
    e->labels[j] = ref_phase(j);
  }
  g_strlcpy(e->model_id, model, sizeof e->model_id);
  fail_unless(lac_embeddings_set_phase_names(e, 4, names, &err) == LAC_OK, "%s", err.message);
  gchar *path = tmp_path("reference.safetensors");
  fail_unless(lac_embeddings_write(path, e, &err) == LAC_OK, "%s", err.message);
  lac_embeddings_free(e);
  return path;
}

/* The stream: positions warp[i] (-1: distractor frame) and embeddings [n][DIM]. */
typedef struct {
  int n;
  double warp[256];
  float emb[256][DIM];
} Stream;

static void make_stream(Stream *s) {
  GRand *r = g_rand_new_with_seed(7);
  s->n = 0;
  for (double t = 0; t <= 30.0; t += 0.7) s->warp[s->n++] = t; /* slow */
  for (int k = 0; k < 20; k++) s->warp[s->n++] = -1;           /* distractor */
  for (double t = 30; t <= T_REF - 1; t += 1.4) s->warp[s->n++] = t; /* fast */
  for (int i = 0; i < s->n; i++) {
    float *e = s->emb[i];
    if (s->warp[i] >= 0) {
      bump(s->warp[i], e);
    } else {
      for (int k = 0; k < DIM; k++) e[k] = 0.f;
      for (int k = K; k < DIM; k++) e[k] = (float)g_rand_double_range(r, 0.2, 1.0);
    }
    for (int k = 0; k < DIM; k++) e[k] += (float)g_rand_double_range(r, -0.02, 0.02);
  }
  g_rand_free(r);
}

static GstBuffer *video_buffer(const GstVideoInfo *info, guint8 value, int i) {
  GstBuffer *buf = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(info), NULL);
  gst_buffer_memset(buf, 0, value, GST_VIDEO_INFO_SIZE(info));
  GST_BUFFER_PTS(buf) = (GstClockTime)i * (GST_SECOND / 30);
  GST_BUFFER_DURATION(buf) = GST_SECOND / 30;
  return buf;
}

static GstBuffer *embedded_buffer(const GstVideoInfo *info, const float *e, guint dim,
                                  const char *model, int i) {
  GstBuffer *buf = video_buffer(info, 128, i);
  gst_buffer_add_lac_embedding_meta(buf, e, dim, model, GST_LAC_EMBEDDING_FLAG_NONE, (guint64)i);
  return buf;
}

static void rgb_info(GstVideoInfo *info, GstVideoFormat fmt) {
  gst_video_info_set_format(info, fmt, W, H);
  GST_VIDEO_INFO_FPS_N(info) = 30;
  GST_VIDEO_INFO_FPS_D(info) = 1;
}

/* A harness on a lacalign with the test's settings and ref as reference-location, or (ref
 * NULL) with its reference pad requested (*refpad: the pad, a reference the caller drops).
 * The harness starts the element: settings go on before. */
static guint next_window; /* > 0: the window of the next harness's element */

static GstHarness *align_harness_full(const char *ref, GstVideoFormat fmt, GstVideoInfo *info,
                                      const char *csv, const char *png, GstPad **refpad) {
  GstElement *el = gst_element_factory_make("lacalign", NULL);
  fail_unless(el != NULL);
  if (next_window) g_object_set(el, "window", next_window, NULL);
  g_object_set(el, "similarity-offset", OFFSET, "gap-open", GAP_OPEN, "gap-extend", GAP_EXTEND,
               NULL);
  if (ref) g_object_set(el, "reference-location", ref, NULL);
  if (csv) g_object_set(el, "alignment-location", csv, NULL);
  if (png) g_object_set(el, "plot-location", png, NULL);
  if (refpad) {
    *refpad = gst_element_request_pad_simple(el, "reference");
    fail_unless(*refpad != NULL);
  }
  held_h = gst_harness_new_with_element(el, "sink", "src");
  gst_object_unref(el);
  rgb_info(info, fmt);
  return held_h;
}

static GstHarness *align_harness(const char *ref, GstVideoFormat fmt, GstVideoInfo *info) {
  return align_harness_full(ref, fmt, info, NULL, NULL, NULL);
}

static void start(GstHarness *h, const GstVideoInfo *info) {
  GstCaps *caps = gst_video_info_to_caps(info);
  gst_harness_play(h);
  gst_harness_set_src_caps(h, caps);
}

/* pushes EOS and waits for it on the output */
static void finish(GstHarness *h) {
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  for (;;) {
    GstEvent *ev = gst_harness_pull_event(h);
    fail_unless(ev != NULL, "no EOS came out");
    gboolean eos = GST_EVENT_TYPE(ev) == GST_EVENT_EOS;
    gst_event_unref(ev);
    if (eos) break;
  }
}

typedef struct {
  int n;
  gboolean match[256];
  int index[256], raw[256], phase[256];
  double progress[256], score[256], conf[256];
  gchar *phase_name[256];
  guint64 frame[256], ts[256];
} Messages;

static void collect_messages(GstBus *bus, Messages *m) {
  GstMessage *msg;
  m->n = 0;
  while ((msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure(msg);
    if (gst_structure_has_name(s, "lac-alignment") && m->n < 256) {
      int k = m->n++;
      fail_unless(gst_structure_get_boolean(s, "match", &m->match[k]));
      fail_unless(gst_structure_get_int(s, "matched-index", &m->index[k]));
      fail_unless(gst_structure_get_int(s, "raw-index", &m->raw[k]));
      fail_unless(gst_structure_get_int(s, "phase", &m->phase[k]));
      fail_unless(gst_structure_get_double(s, "progress", &m->progress[k]));
      fail_unless(gst_structure_get_double(s, "score", &m->score[k]));
      fail_unless(gst_structure_get_double(s, "confidence", &m->conf[k]));
      fail_unless(gst_structure_get_uint64(s, "frame", &m->frame[k]));
      fail_unless(gst_structure_get_uint64(s, "timestamp", &m->ts[k]));
      guint64 rt;
      fail_unless(gst_structure_get_uint64(s, "running-time", &rt));
      fail_unless(gst_structure_has_field_typed(s, "phase-name", G_TYPE_STRING));
      m->phase_name[k] = g_strdup(gst_structure_get_string(s, "phase-name"));
    }
    gst_message_unref(msg);
  }
}

static void free_messages(Messages *m) {
  for (int k = 0; k < m->n; k++) g_free(m->phase_name[k]);
}

/* the library's off-line alignment of the stream against the reference */
static void oracle_offline(const Stream *st, int *matched) {
  float ref[T_REF][DIM];
  for (int j = 0; j < T_REF; j++) bump(j, ref[j]);
  float *S = g_new(float, st->n * T_REF);
  lac_error err;
  fail_unless(lac_similarity_matrix(LAC_SIM_COSINE, 1e-6f, st->n, T_REF, DIM, &st->emb[0][0],
                                    &ref[0][0], S, &err) == LAC_OK);
  for (int k = 0; k < st->n * T_REF; k++) S[k] -= OFFSET;
  lac_aligner *al = NULL;
  lac_aligner_params ap = lac_aligner_default_params();
  fail_unless(lac_aligner_new(&ap, &al, &err) == LAC_OK, "%s", err.message);
  float go = GAP_OPEN, ge = GAP_EXTEND, V;
  lac_sw_pair pair = {st->n, T_REF, S, &go, &ge};
  lac_sw_options hard = {0.f, 0};
  lac_sw_step *steps = g_new(lac_sw_step, st->n + T_REF);
  int ns = 0;
  fail_unless(lac_sw_forward(al, &hard, 1, &pair, &V, NULL, &err) == LAC_OK, "%s", err.message);
  fail_unless(lac_sw_path(al, 0, steps, st->n + T_REF, &ns, &err) == LAC_OK, "%s", err.message);
  fail_unless(ns > 10, "the oracle's path has %d steps", ns);
  for (int i = 0; i < st->n; i++) matched[i] = -1;
  for (int k = 0; k < ns; k++)
    if (steps[k].state == 'M') matched[steps[k].i] = steps[k].j;
  g_free(steps);
  g_free(S);
  lac_aligner_free(al);
}

/* runs the stream through a harness; returns the messages */
static void run_stream(GstHarness *h, const GstVideoInfo *info, const Stream *st, GstBus *bus,
                       Messages *m) {
  start(h, info);
  for (int i = 0; i < st->n; i++) {
    fail_unless_equals_int(gst_harness_push(h, embedded_buffer(info, st->emb[i], DIM, MODEL, i)),
                           GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h);
    fail_unless(out != NULL);
    fail_unless_equals_uint64(GST_BUFFER_PTS(out), (guint64)i * (GST_SECOND / 30));
    gst_buffer_unref(out);
  }
  finish(h);
  collect_messages(bus, m);
}

static GstBus *watch(GstHarness *h) {
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  return bus;
}

/* ---------------------------------------------------------------- tests */

GST_START_TEST(test_follows_warp) {
  Stream st;
  make_stream(&st);
  gchar *ref = write_reference(DIM, MODEL);
  gchar *csv = tmp_path("align.csv"), *png = tmp_path("plot.png");
  GstVideoInfo info;
  GstHarness *h = align_harness_full(ref, GST_VIDEO_FORMAT_RGB, &info, csv, png, NULL);
  GstBus *bus = watch(h);
  Messages m;
  run_stream(h, &info, &st, bus, &m);
  fail_unless_equals_int(m.n, st.n);

  /* on-line: follows the warp outside the distractor (recovery: 3 frames after it), no match
   * inside it (the first distractor frame may still match) */
  int after = -1, worst = 0, in_distractor_matches = 0;
  for (int i = 0; i < st.n; i++) {
    fail_unless_equals_uint64(m.frame[i], (guint64)i);
    fail_unless_equals_uint64(m.ts[i], (guint64)i * (GST_SECOND / 30));
    if (st.warp[i] < 0) {
      after = 0;
      if (i > 0 && st.warp[i - 1] >= 0) continue;
      in_distractor_matches += m.match[i];
      if (!m.match[i]) {
        fail_unless_equals_int(m.index[i], -1);
        fail_unless(m.phase_name[i] == NULL);
      }
      continue;
    }
    if (after >= 0 && after++ < 3) continue;
    fail_unless(m.match[i], "frame %d (reference position %.1f) has no match, confidence %.3f", i,
                st.warp[i], m.conf[i]);
    int err = abs(m.index[i] - (int)lround(st.warp[i]));
    worst = MAX(worst, err);
    if (g_getenv("LACALIGN_TEST_VERBOSE")) err = 0;
    if (g_getenv("LACALIGN_TEST_VERBOSE"))
      g_printerr("frame %d warp %.1f raw %d index %d conf %.3f\n", i, st.warp[i], m.raw[i],
                 m.index[i], m.conf[i]);
    fail_unless(err <= 3, "frame %d: matched %d, warp %.1f", i, m.index[i], st.warp[i]);
    fail_unless(fabs(m.progress[i] - m.index[i] / (double)(T_REF - 1)) < 1e-9);
    fail_unless_equals_int(m.phase[i], ref_phase(m.index[i]));
    fail_unless_equals_string(m.phase_name[i], names[m.phase[i]]);
    fail_unless(m.conf[i] >= 0.5 && m.conf[i] <= 1.0 + 1e-4, "confidence %g", m.conf[i]);
  }
  fail_unless_equals_int(in_distractor_matches, 0);
  GST_INFO("worst on-line index error %d frames", worst);

  /* the CSV: one row per frame, on-line columns as the messages, off-line as the library */
  int oracle[256];
  oracle_offline(&st, oracle);
  gchar *text = NULL;
  fail_unless(g_file_get_contents(csv, &text, NULL, NULL));
  gchar **lines = g_strsplit(text, "\n", -1);
  fail_unless(g_str_has_prefix(lines[0], "timestamp,frame,match,online_index"));
  int rows = 0, offline_matched = 0;
  for (int i = 1; lines[i] && lines[i][0]; i++, rows++) {
    gint64 ts;
    int frame, match, idx, phase, off;
    double prog, score, conf;
    fail_unless_equals_int(sscanf(lines[i], "%" G_GINT64_FORMAT ",%d,%d,%d,%lf,%d,%lf,%lf,%d", &ts,
                                  &frame, &match, &idx, &prog, &phase, &score, &conf, &off),
                           9);
    fail_unless_equals_int(frame, i - 1);
    fail_unless_equals_int(match, m.match[i - 1]);
    fail_unless_equals_int(idx, m.index[i - 1]);
    fail_unless(fabs(score - m.score[i - 1]) <= 1e-5 * (1 + fabs(score)));
    fail_unless_equals_int(off, oracle[i - 1]);
    offline_matched += off >= 0;
  }
  fail_unless_equals_int(rows, st.n);
  fail_unless(offline_matched > st.n / 3, "off-line path matched %d frames", offline_matched);
  g_strfreev(lines);
  g_free(text);

  /* the plot: a PNG cairo reads back, one or more pixels per cell, red path pixels */
  cairo_surface_t *img = cairo_image_surface_create_from_png(png);
  fail_unless_equals_int(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
  int pw = cairo_image_surface_get_width(img), ph = cairo_image_surface_get_height(img);
  fail_unless(pw >= T_REF && pw % T_REF == 0 && ph % st.n == 0 && pw / T_REF == ph / st.n,
              "plot %dx%d for %dx%d", pw, ph, st.n, T_REF);
  cairo_surface_flush(img);
  const unsigned char *px = cairo_image_surface_get_data(img);
  int stride = cairo_image_surface_get_stride(img), red = 0;
  for (int y = 0; y < ph; y++)
    for (int x = 0; x < pw; x++) {
      guint32 v = *(const guint32 *)(px + (gsize)y * stride + 4 * x);
      red += ((v >> 16) & 0xff) > 200 && ((v >> 8) & 0xff) < 60 && (v & 0xff) < 60;
    }
  fail_unless(red > offline_matched, "only %d red pixels", red);
  cairo_surface_destroy(img);

  free_messages(&m);
  gst_element_set_bus(h->element, NULL);
  gst_object_unref(bus);
  g_free(ref);
  g_free(csv);
  g_free(png);
  release_harnesses();
}
GST_END_TEST;

/* rows [y0, y1) of plane 0 equal between a and b? (counts differing bytes) */
static int differing_bytes(GstBuffer *a, GstBuffer *b, const GstVideoInfo *info, int y0, int y1) {
  GstVideoFrame fa, fb;
  fail_unless(gst_video_frame_map(&fa, info, a, GST_MAP_READ));
  fail_unless(gst_video_frame_map(&fb, info, b, GST_MAP_READ));
  int n = 0;
  int row_bytes = GST_VIDEO_FRAME_COMP_PSTRIDE(&fa, 0) * GST_VIDEO_INFO_WIDTH(info);
  for (int y = y0; y < y1; y++) {
    const guint8 *ra = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(&fa, 0) +
                       (gsize)y * GST_VIDEO_FRAME_PLANE_STRIDE(&fa, 0);
    const guint8 *rb = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(&fb, 0) +
                       (gsize)y * GST_VIDEO_FRAME_PLANE_STRIDE(&fb, 0);
    for (int x = 0; x < row_bytes; x++) n += ra[x] != rb[x];
  }
  gst_video_frame_unmap(&fa);
  gst_video_frame_unmap(&fb);
  return n;
}

GST_START_TEST(test_overlay_blended_every_format) {
  static const GstVideoFormat formats[] = {
      GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGR,
      GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_xRGB, GST_VIDEO_FORMAT_xBGR,
      GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_GRAY8};
  gchar *ref = write_reference(DIM, MODEL);
  float e[DIM];
  bump(10, e);
  for (guint f = 0; f < G_N_ELEMENTS(formats); f++) {
    GstVideoInfo info;
    GstHarness *h = align_harness(ref, formats[f], &info);
    start(h, &info);
    GstBuffer *in = embedded_buffer(&info, e, DIM, MODEL, 0);
    GstBuffer *keep = gst_buffer_copy_deep(in);
    fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h);
    fail_unless(out != NULL);
    fail_unless(gst_buffer_get_video_overlay_composition_meta(out) == NULL);
    /* the band covers at least the bottom sixth, never the top half */
    int top = differing_bytes(out, keep, &info, 0, H / 2);
    int bottom = differing_bytes(out, keep, &info, H - H / 6, H);
    fail_unless(top == 0, "%s: %d bytes changed above the band",
                gst_video_format_to_string(formats[f]), top);
    fail_unless(bottom > W, "%s: only %d bytes changed in the band",
                gst_video_format_to_string(formats[f]), bottom);
    gst_buffer_unref(out);
    gst_buffer_unref(keep);
    gst_harness_teardown(h);
    held_h = NULL;
  }
  g_free(ref);
}
GST_END_TEST;

GST_START_TEST(test_overlay_attached) {
  gchar *ref = write_reference(DIM, MODEL);
  float e[DIM];
  bump(10, e);
  GstVideoInfo info;
  GstHarness *h = align_harness(ref, GST_VIDEO_FORMAT_RGB, &info);
  gst_harness_add_propose_allocation_meta(h, GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
  start(h, &info);
  GstBuffer *in = embedded_buffer(&info, e, DIM, MODEL, 0);
  GstBuffer *keep = gst_buffer_copy_deep(in);
  fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull(h);
  fail_unless(out != NULL);
  fail_unless_equals_int(differing_bytes(out, keep, &info, 0, H), 0);
  GstVideoOverlayCompositionMeta *cm = gst_buffer_get_video_overlay_composition_meta(out);
  fail_unless(cm != NULL, "no overlay composition meta");
  fail_unless_equals_int(gst_video_overlay_composition_n_rectangles(cm->overlay), 1);
  GstVideoOverlayRectangle *r = gst_video_overlay_composition_get_rectangle(cm->overlay, 0);
  gint x, y;
  guint rw, rh;
  gst_video_overlay_rectangle_get_render_rectangle(r, &x, &y, &rw, &rh);
  fail_unless_equals_int(x, 0);
  fail_unless_equals_int(rw, W);
  fail_unless_equals_int(y + (gint)rh, H);
  fail_unless(gst_buffer_get_lac_embedding_meta(out) != NULL);
  gst_buffer_unref(out);
  gst_buffer_unref(keep);

  /* overlay=false: nothing drawn or attached */
  g_object_set(h->element, "overlay", FALSE, NULL);
  in = embedded_buffer(&info, e, DIM, MODEL, 1);
  keep = gst_buffer_copy_deep(in);
  fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
  out = gst_harness_pull(h);
  fail_unless(gst_buffer_get_video_overlay_composition_meta(out) == NULL);
  fail_unless_equals_int(differing_bytes(out, keep, &info, 0, H), 0);
  gst_buffer_unref(out);
  gst_buffer_unref(keep);
  g_free(ref);
  release_harnesses();
}
GST_END_TEST;

GST_START_TEST(test_message_interval_and_no_meta) {
  gchar *ref = write_reference(DIM, MODEL);
  float e[DIM];
  bump(5, e);
  GstVideoInfo info;
  GstHarness *h = align_harness(ref, GST_VIDEO_FORMAT_GRAY8, &info);
  g_object_set(h->element, "message-interval", (guint64)(GST_SECOND / 10), NULL); /* mutable */
  GstBus *bus = watch(h);
  start(h, &info);
  for (int i = 0; i < 30; i++) { /* 1 s at 30 fps: messages at 0, 0.1, ... 0.9 s: 10 */
    fail_unless_equals_int(gst_harness_push(h, embedded_buffer(&info, e, DIM, MODEL, i)),
                           GST_FLOW_OK);
    gst_buffer_unref(gst_harness_pull(h));
  }
  /* the rule: a message when at least the interval has passed since the last one */
  int expected = 0;
  GstClockTime last = 0;
  for (int i = 0; i < 30; i++) {
    GstClockTime ts = (GstClockTime)i * (GST_SECOND / 30);
    if (i == 0 || ts >= last + GST_SECOND / 10) expected++, last = ts;
  }
  Messages m;
  collect_messages(bus, &m);
  fail_unless_equals_int(m.n, expected);
  fail_unless(expected >= 7 && expected <= 10);
  for (int k = 1; k < m.n; k++) fail_unless(m.ts[k] - m.ts[k - 1] >= GST_SECOND / 10);
  free_messages(&m);

  /* a frame without the meta: passes through unchanged, one warning */
  GstBuffer *in = video_buffer(&info, 77, 30), *keep = gst_buffer_copy_deep(in);
  fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull(h);
  fail_unless_equals_int(differing_bytes(out, keep, &info, 0, H), 0);
  gst_buffer_unref(out);
  gst_buffer_unref(keep);
  fail_unless_equals_int(gst_harness_push(h, video_buffer(&info, 77, 31)), GST_FLOW_OK);
  gst_buffer_unref(gst_harness_pull(h));
  int warnings = 0;
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING))) {
    warnings++;
    gst_message_unref(msg);
  }
  fail_unless_equals_int(warnings, 1);
  collect_messages(bus, &m);
  fail_unless_equals_int(m.n, 0);
  gst_element_set_bus(h->element, NULL);
  gst_object_unref(bus);
  g_free(ref);
  release_harnesses();
}
GST_END_TEST;

/* pushes the reference (bump(j) with phase metas) and EOS; returns the first bad flow */
static gpointer feed_reference(gpointer data) {
  GstHarness *h2 = data;
  GstVideoInfo rinfo;
  gst_video_info_set_format(&rinfo, GST_VIDEO_FORMAT_GRAY8, 16, 16);
  float e[DIM];
  for (int j = 0; j < T_REF; j++) {
    bump(j, e);
    GstBuffer *b = embedded_buffer(&rinfo, e, DIM, MODEL, j);
    gst_buffer_add_lac_phase_meta(b, "pour", ref_phase(j), 4, names[ref_phase(j)], 0, 0, j);
    GstFlowReturn fr = gst_harness_push(h2, b);
    if (fr != GST_FLOW_OK) return GINT_TO_POINTER(fr);
  }
  gst_harness_push_event(h2, gst_event_new_eos());
  return GINT_TO_POINTER(GST_FLOW_OK);
}

GST_START_TEST(test_reference_pad) {
  Stream st;
  make_stream(&st);
  /* file reference: the estimates to reproduce.  A window of 8: this run keeps the whole
   * history (for its CSV), the reference pad's run below only the last 4 windows (no file
   * asked for): the estimates must not depend on that. */
  next_window = 8;
  gchar *ref = write_reference(DIM, MODEL);
  gchar *csv = tmp_path("file.csv");
  GstVideoInfo info;
  GstHarness *h = align_harness_full(ref, GST_VIDEO_FORMAT_RGB, &info, csv, NULL, NULL);
  GstBus *bus = watch(h);
  Messages from_file;
  run_stream(h, &info, &st, bus, &from_file);
  gst_element_set_bus(h->element, NULL);
  gst_object_unref(bus);
  gst_harness_teardown(h);
  held_h = NULL;

  /* the same reference through the reference pad, with phase metas naming the phases */
  GstPad *refpad = NULL;
  h = align_harness_full(NULL, GST_VIDEO_FORMAT_RGB, &info, NULL, NULL, &refpad);
  held_h2 = gst_harness_new_with_element(h->element, NULL, NULL);
  gst_harness_add_element_sink_pad(held_h2, refpad);
  bus = watch(h);
  GstVideoInfo rinfo;
  gst_video_info_set_format(&rinfo, GST_VIDEO_FORMAT_GRAY8, 16, 16);
  GstCaps *rcaps = gst_video_info_to_caps(&rinfo);
  gst_harness_set_src_caps(held_h2, rcaps);
  /* the reference streams from its own thread, as in a pipeline: the aggregator takes it
   * while the video waits */
  GThread *feeder = g_thread_new("reference", feed_reference, held_h2);
  Messages from_pad;
  run_stream(h, &info, &st, bus, &from_pad);
  fail_unless(GPOINTER_TO_INT(g_thread_join(feeder)) == GST_FLOW_OK);
  fail_unless_equals_int(from_pad.n, from_file.n);
  for (int i = 0; i < st.n; i++) {
    fail_unless_equals_int(from_pad.match[i], from_file.match[i]);
    fail_unless_equals_int(from_pad.index[i], from_file.index[i]);
    fail_unless_equals_int(from_pad.phase[i], from_file.phase[i]);
    fail_unless(fabs(from_pad.score[i] - from_file.score[i]) < 1e-6);
    fail_unless_equals_string(from_pad.phase_name[i], from_file.phase_name[i]);
    if (from_pad.match[i]) fail_unless_equals_string(from_pad.phase_name[i], names[from_pad.phase[i]]);
  }
  int matched = 0;
  for (int i = 0; i < st.n; i++) matched += from_pad.match[i];
  fail_unless(matched > st.n / 2, "only %d of %d frames matched", matched, st.n);
  next_window = 0;
  g_free(csv);
  free_messages(&from_file);
  free_messages(&from_pad);
  gst_element_set_bus(h->element, NULL);
  gst_object_unref(bus);
  gst_object_unref(refpad);
  g_free(ref);
  release_harnesses();
}
GST_END_TEST;

/* alignment-location ending in .json: the reference's frame count, model and phase names
 * (from the file's lac.phase_names), the parameters as set, one object per frame; nothing but
 * the JSON left beside the reference (written through a temporary file and a rename).  The
 * per-frame fields are compared with the CSV in test_align_e2e.sh (Python's json module). */
GST_START_TEST(test_json) {
  gchar *ref = write_reference(DIM, MODEL);
  gchar *json = tmp_path("align.JSON");
  GstVideoInfo info;
  GstHarness *h = align_harness_full(ref, GST_VIDEO_FORMAT_RGB, &info, json, NULL, NULL);
  start(h, &info);
  for (int i = 0; i < 5; i++) {
    float e[DIM];
    bump(2 * i, e);
    fail_unless_equals_int(gst_harness_push(h, embedded_buffer(&info, e, DIM, MODEL, i)),
                           GST_FLOW_OK);
    gst_buffer_unref(gst_harness_pull(h));
  }
  finish(h);
  gchar *text = NULL;
  fail_unless(g_file_get_contents(json, &text, NULL, NULL));
  fail_unless(text[0] == '{');
  fail_unless(strstr(text, "\"reference\": {\"frames\": 60, \"dim\": 24, \"model_id\": "
                           "\"test-model-1\", \"phase_names\": [\"reach\", \"grasp\", \"lift\", "
                           "\"pour\"]}") != NULL, "%s", text);
  fail_unless(strstr(text, "\"similarity\": \"cosine\", \"similarity_offset\": 0.5, ") != NULL);
  fail_unless(strstr(text, "\"window\": 32,") != NULL);
  int frames = 0;
  for (const char *p = text; (p = strstr(p, "{\"timestamp\": ")); p++) frames++;
  fail_unless_equals_int(frames, 5);
  fail_unless(strstr(text, "\"frame\": 4, \"match\": ") != NULL);
  fail_unless(strstr(text, "timestamp,frame") == NULL, "CSV written instead of JSON");
  GDir *d = g_dir_open(tmpdir, 0, NULL);
  int files = 0;
  while (g_dir_read_name(d)) files++;
  g_dir_close(d);
  fail_unless_equals_int(files, 2); /* the reference and the JSON */
  g_free(text);
  g_free(json);
  g_free(ref);
  release_harnesses();
}
GST_END_TEST;

/* Reference frames of known flat colours: frame j is RGB (4j, 255 - 4j, 37j mod 256), so
 * neighbouring frames differ by 4 in red and green. */
#define RW_REF 32
#define RH_REF 24
static void ref_colour(int j, guint8 rgb[3]) {
  rgb[0] = (guint8)(4 * j);
  rgb[1] = (guint8)(255 - 4 * j);
  rgb[2] = (guint8)((37 * j) % 256);
}

static gpointer feed_coloured_reference(gpointer data) {
  GstHarness *h2 = data;
  GstVideoInfo rinfo;
  gst_video_info_set_format(&rinfo, GST_VIDEO_FORMAT_RGB, RW_REF, RH_REF);
  float e[DIM];
  for (int j = 0; j < T_REF; j++) {
    bump(j, e);
    GstBuffer *b = embedded_buffer(&rinfo, e, DIM, MODEL, j);
    GstVideoFrame f;
    guint8 c[3];
    ref_colour(j, c);
    if (!gst_video_frame_map(&f, &rinfo, b, GST_MAP_WRITE)) return GINT_TO_POINTER(GST_FLOW_ERROR);
    for (int y = 0; y < RH_REF; y++) {
      guint8 *row = (guint8 *)GST_VIDEO_FRAME_PLANE_DATA(&f, 0) +
                    (gsize)y * GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0);
      for (int x = 0; x < RW_REF; x++) memcpy(row + 3 * x, c, 3);
    }
    gst_video_frame_unmap(&f);
    GstFlowReturn fr = gst_harness_push(h2, b);
    if (fr != GST_FLOW_OK) return GINT_TO_POINTER(fr);
  }
  gst_harness_push_event(h2, gst_event_new_eos());
  return GINT_TO_POINTER(GST_FLOW_OK);
}

/* pixel (x, y) of an RGB frame */
static void rgb_pixel(GstBuffer *buf, const GstVideoInfo *info, int x, int y, guint8 rgb[3]) {
  GstVideoFrame f;
  fail_unless(gst_video_frame_map(&f, info, buf, GST_MAP_READ));
  memcpy(rgb, (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(&f, 0) +
                  (gsize)y * GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0) + 3 * x, 3);
  gst_video_frame_unmap(&f);
}

/* The reference pad fed with raw video of flat colours: the overlay's top right corner shows
 * the colour of the matched reference frame (blended, every frame with a match), the frame's
 * own pixels without a match or with thumbnail=false; attached, the composition has the
 * thumbnail as its second rectangle in that corner. */
GST_START_TEST(test_thumbnail) {
  for (int attach = 0; attach < 2; attach++) {
    GstPad *refpad = NULL;
    GstVideoInfo info;
    GstHarness *h = align_harness_full(NULL, GST_VIDEO_FORMAT_RGB, &info, NULL, NULL, &refpad);
    if (attach)
      gst_harness_add_propose_allocation_meta(h, GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
    held_h2 = gst_harness_new_with_element(h->element, NULL, NULL);
    gst_harness_add_element_sink_pad(held_h2, refpad);
    GstBus *bus = watch(h);
    GstVideoInfo rinfo;
    gst_video_info_set_format(&rinfo, GST_VIDEO_FORMAT_RGB, RW_REF, RH_REF);
    GST_VIDEO_INFO_FPS_N(&rinfo) = 30; /* as from a decoder: a frame rate */
    GST_VIDEO_INFO_FPS_D(&rinfo) = 1;
    gst_harness_set_src_caps(held_h2, gst_video_info_to_caps(&rinfo));
    GThread *feeder = g_thread_new("reference", feed_coloured_reference, held_h2);
    start(h, &info);
    GRand *r = g_rand_new_with_seed(3);
    int checked = 0, worst = 0;
    const int cx = W - 10, cy = 8; /* inside the corner rectangle */
    for (int i = 0; i < 50; i++) {
      float e[DIM];
      bump(i < 40 ? 1.2 * i : T_REF - 1, e);
      for (int k = 0; k < DIM; k++) e[k] += (float)g_rand_double_range(r, -0.02, 0.02);
      if (i == 45) g_object_set(h->element, "thumbnail", FALSE, NULL);
      fail_unless_equals_int(gst_harness_push(h, embedded_buffer(&info, e, DIM, MODEL, i)),
                             GST_FLOW_OK);
      GstBuffer *out = gst_harness_pull(h);
      fail_unless(out != NULL);
      Messages m;
      collect_messages(bus, &m);
      fail_unless_equals_int(m.n, 1);
      guint8 px[3];
      if (attach) {
        GstVideoOverlayCompositionMeta *cm = gst_buffer_get_video_overlay_composition_meta(out);
        fail_unless(cm != NULL);
        guint nr = gst_video_overlay_composition_n_rectangles(cm->overlay);
        fail_unless_equals_int(nr, m.match[0] && i < 45 ? 2 : 1);
        if (nr == 2) {
          GstVideoOverlayRectangle *tr =
              gst_video_overlay_composition_get_rectangle(cm->overlay, 1);
          gint x, y;
          guint rw, rh;
          gst_video_overlay_rectangle_get_render_rectangle(tr, &x, &y, &rw, &rh);
          fail_unless(x <= cx && cx < x + (gint)rw && y <= cy && cy < y + (gint)rh,
                      "thumbnail at %d,%d %ux%u", x, y, rw, rh);
          fail_unless(x + (gint)rw <= W && y >= 0 && rh <= H / 3 + 1);
          checked++;
        }
        rgb_pixel(out, &info, cx, cy, px); /* attached: the frame itself is untouched */
        fail_unless(px[0] == 128 && px[1] == 128 && px[2] == 128);
      } else {
        rgb_pixel(out, &info, cx, cy, px);
        if (m.match[0] && i < 45) {
          guint8 want[3];
          ref_colour(m.index[0], want);
          for (int c = 0; c < 3; c++) {
            int d = abs((int)px[c] - (int)want[c]);
            worst = MAX(worst, d);
            fail_unless(d <= 1, "frame %d: corner (%u,%u,%u), matched frame %d is (%u,%u,%u)", i,
                        px[0], px[1], px[2], m.index[0], want[0], want[1], want[2]);
          }
          checked++;
        } else {
          fail_unless(px[0] == 128 && px[1] == 128 && px[2] == 128,
                      "frame %d (match %d): corner drawn over", i, m.match[0]);
        }
      }
      free_messages(&m);
      gst_buffer_unref(out);
    }
    g_rand_free(r);
    fail_unless(checked >= 40, "only %d frames showed a thumbnail", checked);
    GST_INFO("attach %d: %d thumbnails, worst channel difference %d", attach, checked, worst);
    finish(h);
    fail_unless(GPOINTER_TO_INT(g_thread_join(feeder)) == GST_FLOW_OK);
    gst_element_set_bus(h->element, NULL);
    gst_object_unref(bus);
    gst_object_unref(refpad);
    release_harnesses();
  }
}
GST_END_TEST;

/* The action performed once at reference speed, then restarted from its beginning (the
 * reference index jumps back from T_REF - 1 to 0): after the restart the on-line matched
 * index must follow the second performance within RESTART_TOL frames, and from then on stay
 * within 3 reference frames of it. */
#define RESTART_TOL 2
GST_START_TEST(test_restart) {
  Stream st;
  GRand *r = g_rand_new_with_seed(11);
  st.n = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int j = 0; j < T_REF; j++) st.warp[st.n++] = j;
  for (int i = 0; i < st.n; i++) {
    bump(st.warp[i], st.emb[i]);
    for (int k = 0; k < DIM; k++) st.emb[i][k] += (float)g_rand_double_range(r, -0.02, 0.02);
  }
  g_rand_free(r);
  gchar *ref = write_reference(DIM, MODEL);
  GstVideoInfo info;
  GstHarness *h = align_harness(ref, GST_VIDEO_FORMAT_RGB, &info);
  GstBus *bus = watch(h);
  Messages m;
  run_stream(h, &info, &st, bus, &m);
  fail_unless_equals_int(m.n, st.n);
  /* first performance: followed after 3 frames */
  for (int i = 3; i < T_REF; i++)
    fail_unless(m.match[i] && abs(m.index[i] - (int)st.warp[i]) <= 3,
                "first pass, frame %d: match %d index %d, warp %.0f", i, m.match[i], m.index[i],
                st.warp[i]);
  /* the restart: the first frame from which every later one follows */
  int settled = st.n;
  for (int i = st.n - 1; i >= T_REF; i--) {
    if (!m.match[i] || abs(m.index[i] - (int)st.warp[i]) > 3) break;
    settled = i;
  }
  int lag = settled - T_REF;
  if (g_getenv("LACALIGN_TEST_VERBOSE"))
    for (int i = T_REF - 2; i < T_REF + 24; i++)
      g_printerr("frame %d warp %.0f match %d raw %d index %d score %.2f conf %.3f\n", i,
                 st.warp[i], m.match[i], m.raw[i], m.index[i], m.score[i], m.conf[i]);
  GST_INFO("restart followed after %d frames", lag);
  fail_unless(lag <= RESTART_TOL, "the restart was followed only after %d frames (tolerance %d)",
              lag, RESTART_TOL);
  free_messages(&m);
  gst_element_set_bus(h->element, NULL);
  gst_object_unref(bus);
  g_free(ref);
  release_harnesses();
}
GST_END_TEST;

/* the first error on the bus, or NULL after 10 s */
static GstMessage *wait_error(GstBus *bus) {
  return gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND, GST_MESSAGE_ERROR);
}

static void check_error(GstMessage *msg, GQuark domain, gint code, const char *needle) {
  fail_unless(msg != NULL, "no error posted");
  GError *gerr = NULL;
  gchar *dbg = NULL;
  gst_message_parse_error(msg, &gerr, &dbg);
  fail_unless(gerr->domain == domain && gerr->code == code, "error %s %d: %s",
              g_quark_to_string(gerr->domain), gerr->code, gerr->message);
  fail_unless(strstr(gerr->message, needle) != NULL, "error '%s' does not say '%s'",
              gerr->message, needle);
  g_error_free(gerr);
  g_free(dbg);
  gst_message_unref(msg);
}

GST_START_TEST(test_errors_reference) {
  /* missing file */
  GstElement *el = gst_element_factory_make("lacalign", NULL);
  fail_unless(el != NULL);
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(el, bus);
  g_object_set(el, "reference-location", "/nonexistent/ref.safetensors", NULL);
  fail_unless_equals_int(gst_element_set_state(el, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  check_error(wait_error(bus), GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
              "/nonexistent/ref.safetensors");
  /* no reference at all */
  g_object_set(el, "reference-location", NULL, NULL);
  fail_unless_equals_int(gst_element_set_state(el, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  check_error(wait_error(bus), GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "No reference");
  gst_element_set_state(el, GST_STATE_NULL);
  gst_element_set_bus(el, NULL);
  gst_object_unref(bus);
  gst_object_unref(el);
}
GST_END_TEST;

static void mismatch(guint dim, const char *model, const char *needle) {
  gchar *ref = write_reference(DIM, MODEL);
  GstVideoInfo info;
  GstHarness *h = align_harness(ref, GST_VIDEO_FORMAT_RGB, &info);
  GstBus *bus = watch(h);
  start(h, &info);
  float e[DIM + 8] = {0};
  bump(3, e);
  gst_harness_push(h, embedded_buffer(&info, e, dim, model, 0));
  check_error(wait_error(bus), GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT, needle);
  gst_element_set_bus(h->element, NULL);
  gst_object_unref(bus);
  gst_harness_teardown(h);
  held_h = NULL;
  g_free(ref);
}

GST_START_TEST(test_errors_mismatch) {
  mismatch(DIM - 8, MODEL, "dimension mismatch");
  mismatch(DIM, "another-model", "model mismatch");
}
GST_END_TEST;

static Suite *lacalign_suite(void) {
  Suite *s = suite_create("lacalign");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_set_timeout(tc, 120);
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, test_follows_warp);
  tcase_add_test(tc, test_overlay_blended_every_format);
  tcase_add_test(tc, test_overlay_attached);
  tcase_add_test(tc, test_message_interval_and_no_meta);
  tcase_add_test(tc, test_reference_pad);
  tcase_add_test(tc, test_restart);
  tcase_add_test(tc, test_thumbnail);
  tcase_add_test(tc, test_json);
  tcase_add_test(tc, test_errors_reference);
  tcase_add_test(tc, test_errors_mismatch);
  return s;
}

/* gst_check_run_suite ends with gst_deinit, where the leaks tracer (GST_TRACERS=leaks)
 * reports: a leak then fails the binary. */
GST_CHECK_MAIN(lacalign);
