/* test_synth.c — the procedural action renderer (include/lac/synth.h).
 *
 * Checks: names and bad parameters; determinism (same seed, same bytes; other seeds, other
 * bytes; any frame order and any number of threads give the frames of a sequential pass;
 * row padding untouched); the label sequence (phases in order, every phase >= 2 frames,
 * distractor frames -1 exactly where placed, n_frames inside the documented bounds, tempo
 * variation changing durations and adding pauses that show as held frames); and what the
 * pixels show, measured from the pixels: the glass's liquid rises monotonically through the
 * pour phase to the level the scene says, the jumping-jacks figure's hands go above its head
 * and back, the squatting figure's head goes down and up, distractor objects move.
 * Where the pixels need a location (the glass), the renderer's probe gives it; the level
 * itself is read from the pixels.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lac/synth.h"
#include "synth/synth_internal.h"
#include "testutil.h"

static lac_synth *make(lac_synth_params p) {
  lac_error err;
  lac_synth *s = NULL;
  lac_status st = lac_synth_new(&p, &s, &err);
  CHECK(st == LAC_OK, "lac_synth_new: %s", err.message);
  return st == LAC_OK ? s : NULL;
}

static uint8_t *render_all(const lac_synth *s, size_t stride) {
  const lac_synth_params *p = lac_synth_get_params(s);
  int64_t n = lac_synth_n_frames(s);
  size_t fsz = stride * (size_t)p->height;
  uint8_t *buf = malloc(fsz * (size_t)n);
  if (!buf) return NULL;
  lac_error err;
  for (int64_t f = 0; f < n; f++)
    CHECK_OK(lac_synth_render(s, f, buf + fsz * (size_t)f, stride, &err), &err);
  return buf;
}

/* ---------------------------------------------------------------- names, parameters */

static void test_names(void) {
  lac_error err;
  for (int a = 0; a < LAC_SYNTH_N_ACTIONS; a++) {
    lac_synth_action back = (lac_synth_action)99;
    const char *name = lac_synth_action_name((lac_synth_action)a);
    CHECK(name != NULL, "action %d has no name", a);
    CHECK_OK(lac_synth_action_from_name(name, &back, &err), &err);
    CHECK(back == (lac_synth_action)a, "%s -> %d", name, (int)back);
    int K = lac_synth_action_n_phases((lac_synth_action)a);
    CHECK(K >= 2 && K <= 5, "action %s has %d phases", name, K);
    for (int k = 0; k < K; k++)
      CHECK(lac_synth_action_phase_name((lac_synth_action)a, k) != NULL, "%s phase %d", name, k);
    CHECK(lac_synth_action_phase_name((lac_synth_action)a, K) == NULL, "phase past the end");
  }
  CHECK(lac_synth_action_n_phases(LAC_SYNTH_POUR) == 5, "pour has 5 phases");
  CHECK(strcmp(lac_synth_action_phase_name(LAC_SYNTH_POUR, 2), "pour") == 0, "pour phase 2");
  CHECK(lac_synth_action_name((lac_synth_action)LAC_SYNTH_N_ACTIONS) == NULL, "name past end");
  CHECK(lac_synth_action_from_name("pouring", NULL, &err) == LAC_ERR_INVALID_ARG, "bad name");
  CHECK(strstr(err.message, "jumping-jacks") != NULL, "message lists names: %s", err.message);
  CHECK(lac_synth_action_from_name(NULL, NULL, &err) == LAC_ERR_INVALID_ARG, "NULL name");
  for (int d = 0; d < LAC_SYNTH_N_DISTRACTORS; d++) {
    lac_synth_distractor back = (lac_synth_distractor)99;
    const char *name = lac_synth_distractor_name((lac_synth_distractor)d);
    CHECK(name != NULL, "distractor %d has no name", d);
    CHECK_OK(lac_synth_distractor_from_name(name, &back, &err), &err);
    CHECK(back == (lac_synth_distractor)d, "%s -> %d", name, (int)back);
  }
  CHECK(lac_synth_distractor_from_name("middle", NULL, &err) == LAC_ERR_INVALID_ARG, "bad name");
}

static void expect_bad(lac_synth_params p, const char *what, const char *needle) {
  lac_error err;
  lac_synth *s = (lac_synth *)&p; /* must be overwritten with NULL */
  lac_status st = lac_synth_new(&p, &s, &err);
  CHECK(st == LAC_ERR_INVALID_ARG, "%s accepted (status %d)", what, (int)st);
  CHECK(s == NULL, "%s: out not cleared", what);
  CHECK(strstr(err.message, needle) != NULL, "%s: message '%s' should name '%s'", what,
        err.message, needle);
}

static void test_bad_params(void) {
  lac_synth_params d = lac_synth_default_params(), p;
  lac_error err;
  p = d, p.action = (lac_synth_action)7, expect_bad(p, "action 7", "action");
  p = d, p.width = 31, expect_bad(p, "width 31", "width");
  p = d, p.height = 9000, expect_bad(p, "height 9000", "height");
  p = d, p.base_frames = 7, expect_bad(p, "base_frames 7", "base_frames");
  p = d, p.base_frames = 100001, expect_bad(p, "base_frames 100001", "base_frames");
  p = d, p.action = LAC_SYNTH_SQUAT, p.repetitions = 10, p.base_frames = 79;
  expect_bad(p, "too few frames for 10 cycles", "base_frames");
  p = d, p.repetitions = 0, expect_bad(p, "repetitions 0", "repetitions");
  p = d, p.repetitions = 65, expect_bad(p, "repetitions 65", "repetitions");
  p = d, p.tempo_variation = -0.1, expect_bad(p, "tempo -0.1", "tempo_variation");
  p = d, p.appearance_variation = 1.5, expect_bad(p, "appearance 1.5", "appearance_variation");
  p = d, p.camera_variation = NAN, expect_bad(p, "camera NaN", "camera_variation");
  p = d, p.distractor = (lac_synth_distractor)5, expect_bad(p, "distractor 5", "distractor");
  CHECK(lac_synth_new(NULL, NULL, &err) == LAC_ERR_INVALID_ARG, "NULL params");
  /* the smallest valid settings work */
  p = d, p.width = 32, p.height = 32, p.base_frames = 10;
  lac_synth *s = make(p);
  if (!s) return;
  uint8_t small[32 * 32 * 3];
  CHECK_OK(lac_synth_render(s, 0, small, 96, &err), &err);
  CHECK(lac_synth_render(s, 0, small, 95, &err) == LAC_ERR_INVALID_ARG, "short stride accepted");
  CHECK(lac_synth_render(s, -1, small, 96, &err) == LAC_ERR_INVALID_ARG, "frame -1 accepted");
  CHECK(lac_synth_render(s, lac_synth_n_frames(s), small, 96, &err) == LAC_ERR_INVALID_ARG,
        "frame n accepted");
  CHECK(lac_synth_render(s, 0, NULL, 96, &err) == LAC_ERR_INVALID_ARG, "NULL buffer accepted");
  CHECK(lac_synth_label(s, -1) == -1 && lac_synth_label(s, lac_synth_n_frames(s)) == -1,
        "labels outside the video are -1");
  CHECK(lac_synth_repetition(s, -1) == -1, "repetition outside the video is -1");
  lac_synth_free(s);
  lac_synth_free(NULL);
}

/* ---------------------------------------------------------------- determinism */

typedef struct {
  const lac_synth *s;
  uint8_t *out;
  int parity;
} worker_arg;

static void *worker(void *a_) {
  worker_arg *a = a_;
  const lac_synth_params *p = lac_synth_get_params(a->s);
  size_t fsz = (size_t)p->width * 3 * (size_t)p->height;
  /* each thread renders every frame, in its own order */
  int64_t n = lac_synth_n_frames(a->s);
  for (int64_t i = 0; i < n; i++) {
    int64_t f = a->parity ? n - 1 - i : (i * 7) % n;
    if (a->parity == 0 && n % 7 == 0) f = i;
    lac_synth_render(a->s, f, a->out + fsz * (size_t)f, (size_t)p->width * 3, NULL);
  }
  return NULL;
}

static void test_determinism(void) {
  for (int a = 0; a < LAC_SYNTH_N_ACTIONS; a++) {
    lac_synth_params p = lac_synth_default_params();
    p.action = (lac_synth_action)a;
    p.width = 64 + 16 * a;
    p.height = 48;
    p.seed = 1234 + (uint64_t)a;
    p.tempo_variation = p.appearance_variation = p.camera_variation = 1;
    p.distractor = LAC_SYNTH_DISTRACT_INSIDE;
    p.repetitions = 2;
    lac_synth *s1 = make(p), *s2 = make(p);
    p.seed++;
    lac_synth *s3 = make(p);
    if (!s1 || !s2 || !s3) return;
    int64_t n = lac_synth_n_frames(s1);
    CHECK(n == lac_synth_n_frames(s2), "same seed, same length");
    size_t stride = (size_t)p.width * 3, fsz = stride * (size_t)p.height;
    uint8_t *b1 = render_all(s1, stride), *b2 = render_all(s2, stride);
    CHECK(memcmp(b1, b2, fsz * (size_t)n) == 0, "%s: same seed gave different bytes",
          lac_synth_action_name(p.action));
    for (int64_t f = 0; f < n; f++)
      CHECK(lac_synth_label(s1, f) == lac_synth_label(s2, f), "same seed, same labels");

    /* another seed: other pixels (every frame), probably another length */
    uint8_t *b3 = render_all(s3, stride);
    int64_t n3 = lac_synth_n_frames(s3), same = 0;
    for (int64_t f = 0; f < n && f < n3; f++)
      same += memcmp(b1 + fsz * (size_t)f, b3 + fsz * (size_t)f, fsz) == 0;
    CHECK(same == 0, "%s: %lld frames identical across seeds", lac_synth_action_name(p.action),
          (long long)same);

    /* random access and threads: two threads, reversed and strided orders, one synth */
    uint8_t *t0 = calloc(fsz, (size_t)n), *t1 = calloc(fsz, (size_t)n);
    pthread_t th[2];
    worker_arg wa[2] = {{s1, t0, 0}, {s1, t1, 1}};
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, worker, &wa[i]);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    CHECK(memcmp(t0, b1, fsz * (size_t)n) == 0, "strided order differs from sequential");
    CHECK(memcmp(t1, b1, fsz * (size_t)n) == 0, "reverse order differs from sequential");

    /* padded rows: the padding stays, the pixels are the same */
    size_t pst = stride + 13;
    uint8_t *pad = malloc(pst * (size_t)p.height);
    lac_error err;
    int64_t f = n / 2;
    memset(pad, 0xA5, pst * (size_t)p.height);
    CHECK_OK(lac_synth_render(s1, f, pad, pst, &err), &err);
    int bad_px = 0, bad_pad = 0;
    for (int y = 0; y < p.height; y++) {
      bad_px +=
          memcmp(pad + pst * (size_t)y, b1 + fsz * (size_t)f + stride * (size_t)y, stride) != 0;
      for (size_t x = stride; x < pst; x++) bad_pad += pad[pst * (size_t)y + x] != 0xA5;
    }
    CHECK(bad_px == 0 && bad_pad == 0, "padded render: %d rows differ, %d pad bytes written",
          bad_px, bad_pad);
    free(pad);
    free(t0);
    free(t1);
    free(b1);
    free(b2);
    free(b3);
    lac_synth_free(s1);
    lac_synth_free(s2);
    lac_synth_free(s3);
  }
}

/* ---------------------------------------------------------------- labels */

/* Checks the label sequence of s against its parameters; returns the number of -1 frames. */
static int64_t check_labels(const lac_synth *s) {
  const lac_synth_params *p = lac_synth_get_params(s);
  const int K = lac_synth_n_phases(s), R = p->action == LAC_SYNTH_POUR ? 1 : p->repetitions;
  const int64_t n = lac_synth_n_frames(s);
  const char *an = lac_synth_action_name(p->action);
  int64_t unl = 0, first_unl = -1, last_unl = -1;
  int expect_phase = 0, expect_rep = 0, runs = 0, run_len = 0, prev = -2, short_runs = 0;
  int order_ok = 1, rep_ok = 1;
  for (int64_t f = 0; f < n; f++) {
    int32_t l = lac_synth_label(s, f);
    int r = lac_synth_repetition(s, f);
    if (l < 0) {
      CHECK(l == -1 && r == -1, "%s seed %llu frame %lld: label %d rep %d", an,
            (unsigned long long)p->seed, (long long)f, l, r);
      if (first_unl < 0) first_unl = f;
      last_unl = f;
      unl++;
      continue;
    }
    if (l != prev) { /* a new phase run */
      if (runs > 0 && run_len < 2) short_runs++;
      if (l != expect_phase || r != expect_rep) order_ok = 0;
      expect_phase = (l + 1) % K;
      expect_rep = expect_phase == 0 ? r + 1 : r;
      runs++;
      run_len = 0;
      prev = l;
    }
    if (lac_synth_repetition(s, f) != r) rep_ok = 0;
    run_len++;
  }
  if (run_len < 2) short_runs++;
  CHECK(order_ok, "%s seed %llu: phases out of order", an, (unsigned long long)p->seed);
  CHECK(rep_ok, "%s seed %llu: repetition index inconsistent", an, (unsigned long long)p->seed);
  CHECK(runs == K * R, "%s seed %llu: %d phase runs, want %d", an, (unsigned long long)p->seed,
        runs, K * R);
  CHECK(short_runs == 0, "%s seed %llu: %d phases shorter than 2 frames", an,
        (unsigned long long)p->seed, short_runs);

  /* where the unlabelled frames are */
  lac_synth_distractor pl = lac_synth_distractor_placement(s);
  CHECK(pl != LAC_SYNTH_DISTRACT_RANDOM, "placement resolved");
  if (p->distractor != LAC_SYNTH_DISTRACT_RANDOM)
    CHECK(pl == p->distractor, "placement %d, asked %d", (int)pl, (int)p->distractor);
  if (pl == LAC_SYNTH_DISTRACT_NONE) {
    CHECK(unl == 0, "%s: %lld unlabelled frames without a distractor", an, (long long)unl);
  } else {
    CHECK(unl > 0 && last_unl - first_unl + 1 == unl, "%s: distractor frames not one run", an);
    if (pl == LAC_SYNTH_DISTRACT_BEFORE)
      CHECK(first_unl == 0, "before: starts at %lld", (long long)first_unl);
    if (pl == LAC_SYNTH_DISTRACT_AFTER)
      CHECK(last_unl == n - 1, "after: ends at %lld", (long long)last_unl);
    if (pl == LAC_SYNTH_DISTRACT_INSIDE)
      CHECK(first_unl > 0 && last_unl < n - 1, "inside: run %lld..%lld of %lld",
            (long long)first_unl, (long long)last_unl, (long long)n);
    /* documented: max(4, round(base * [0.25, 0.5])) */
    CHECK(unl >= 4 && unl >= (int64_t)(0.25 * p->base_frames - 0.5) &&
              unl <= (int64_t)(0.5 * p->base_frames + 0.5),
          "%s: %lld distractor frames for base %d", an, (long long)unl, p->base_frames);
  }
  /* documented bounds of the action's frames */
  int64_t act = n - unl;
  double lo = p->base_frames / 2.4 - 0.5 * K * R, hi = 3.6 * p->base_frames + 1.25 * K * R;
  if (lo < 2.0 * K * R) lo = 2.0 * K * R;
  CHECK(act >= lo && act <= hi, "%s seed %llu: %lld action frames outside [%.1f, %.1f]", an,
        (unsigned long long)p->seed, (long long)act, lo, hi);
  return unl;
}

static void test_labels(void) {
  int placements_seen[4] = {0};
  for (int a = 0; a < LAC_SYNTH_N_ACTIONS; a++)
    for (uint64_t seed = 0; seed < 40; seed++) {
      lac_synth_params p = lac_synth_default_params();
      p.action = (lac_synth_action)a;
      p.width = p.height = 32;
      p.seed = seed;
      p.tempo_variation = seed % 3 == 0 ? 0.3 : 1.0;
      p.distractor = (lac_synth_distractor)(seed % LAC_SYNTH_N_DISTRACTORS);
      p.repetitions = 1 + (int)(seed % 4);
      p.base_frames = 40 + (int)(seed * 7 % 100);
      lac_synth *s = make(p);
      if (!s) continue;
      check_labels(s);
      if (p.distractor == LAC_SYNTH_DISTRACT_RANDOM)
        placements_seen[lac_synth_distractor_placement(s)]++;
      lac_synth_free(s);
    }
  int kinds = 0;
  for (int i = 0; i < 4; i++) kinds += placements_seen[i] > 0;
  CHECK(kinds >= 3, "random placement used only %d of 4 placements", kinds);
}

/* phase lengths (frames per run) of s, into len[]; returns the number of runs */
static int phase_lengths(const lac_synth *s, int *len, int max) {
  int runs = 0;
  int32_t prev = -2;
  for (int64_t f = 0; f < lac_synth_n_frames(s); f++) {
    int32_t l = lac_synth_label(s, f);
    if (l < 0) continue;
    if (l != prev && runs < max) len[runs++] = 0;
    len[runs - 1]++;
    prev = l;
  }
  return runs;
}

/* consecutive identical frames inside phases (held poses; the camera must be still) */
static int held_frames(const lac_synth *s) {
  const lac_synth_params *p = lac_synth_get_params(s);
  size_t stride = (size_t)p->width * 3, fsz = stride * (size_t)p->height;
  uint8_t *b = render_all(s, stride);
  int held = 0;
  for (int64_t f = 1; f < lac_synth_n_frames(s); f++)
    if (lac_synth_label(s, f) == lac_synth_label(s, f - 1) && lac_synth_label(s, f) >= 0)
      held += memcmp(b + fsz * (size_t)f, b + fsz * (size_t)(f - 1), fsz) == 0;
  free(b);
  return held;
}

static void test_tempo(void) {
  for (int a = 0; a < LAC_SYNTH_N_ACTIONS; a++) {
    lac_synth_params p = lac_synth_default_params();
    p.action = (lac_synth_action)a;
    p.width = p.height = 48;
    p.camera_variation = 0;
    p.repetitions = 2;
    p.base_frames = 96;
    /* no tempo variation: the nominal lengths, whatever the seed, and no pauses */
    p.tempo_variation = 0;
    int ref[16], len[16], nref = 0;
    for (uint64_t seed = 0; seed < 5; seed++) {
      p.seed = seed;
      lac_synth *s = make(p);
      if (!s) return;
      int nr = phase_lengths(s, len, 16);
      if (seed == 0) {
        memcpy(ref, len, sizeof len);
        nref = nr;
        int64_t sum = 0;
        for (int i = 0; i < nr; i++) sum += len[i];
        CHECK(sum == lac_synth_n_frames(s), "lengths add up");
        int R = a == LAC_SYNTH_POUR ? 1 : 2, K = lac_synth_n_phases(s);
        /* the nominal length: within half a frame per phase of base_frames */
        CHECK(llabs(sum - p.base_frames) <= (K * R + 1) / 2, "%s: %lld frames at tempo 0, base %d",
              lac_synth_action_name(p.action), (long long)sum, p.base_frames);
      } else {
        CHECK(nr == nref && memcmp(len, ref, sizeof(int) * (size_t)nr) == 0,
              "%s: tempo 0 lengths depend on the seed", lac_synth_action_name(p.action));
      }
      if (seed < 2)
        CHECK(held_frames(s) == 0, "%s seed %llu: held frames at tempo 0",
              lac_synth_action_name(p.action), (unsigned long long)seed);
      lac_synth_free(s);
    }
    /* full tempo variation: lengths differ between seeds, and some videos pause */
    p.tempo_variation = 1;
    int differ = 0, held_total = 0, min_len = 1 << 30, max_len = 0;
    for (uint64_t seed = 0; seed < 12; seed++) {
      p.seed = seed;
      lac_synth *s = make(p);
      if (!s) return;
      int nr = phase_lengths(s, len, 16);
      differ += nr != nref || memcmp(len, ref, sizeof(int) * (size_t)nr) != 0;
      for (int i = 0; i < nr; i++) {
        min_len = len[i] < min_len ? len[i] : min_len;
        max_len = len[i] > max_len ? len[i] : max_len;
      }
      if (seed < 6) held_total += held_frames(s);
      lac_synth_free(s);
    }
    CHECK(differ == 12, "%s: only %d of 12 seeds changed the phase lengths",
          lac_synth_action_name(p.action), differ);
    CHECK(max_len >= 2 * min_len, "%s: phase lengths only range %d..%d",
          lac_synth_action_name(p.action), min_len, max_len);
    CHECK(held_total > 0, "%s: no held frames (pauses) in 6 videos at tempo 1",
          lac_synth_action_name(p.action));
  }
}

/* ---------------------------------------------------------------- pixels */

static int pixdiff(const uint8_t *a, const uint8_t *b) {
  return abs(a[0] - b[0]) + abs(a[1] - b[1]) + abs(a[2] - b[2]);
}

static void test_not_flat(void) {
  for (int a = 0; a < LAC_SYNTH_N_ACTIONS; a++) {
    lac_synth_params p = lac_synth_default_params();
    p.action = (lac_synth_action)a;
    p.seed = 99;
    p.appearance_variation = 1;
    p.distractor = LAC_SYNTH_DISTRACT_BEFORE;
    lac_synth *s = make(p);
    if (!s) return;
    size_t stride = (size_t)p.width * 3, fsz = stride * (size_t)p.height;
    uint8_t *b = render_all(s, stride);
    int64_t n = lac_synth_n_frames(s);
    int flat = 0;
    for (int64_t f = 0; f < n; f++) {
      int lo = 255, hi = 0;
      for (size_t i = 0; i < fsz; i += 3) {
        int l = (b[fsz * f + i] + b[fsz * f + i + 1] + b[fsz * f + i + 2]) / 3;
        lo = l < lo ? l : lo;
        hi = l > hi ? l : hi;
      }
      flat += hi - lo < 40;
    }
    CHECK(flat == 0, "%s: %d nearly flat frames", lac_synth_action_name(p.action), flat);
    /* the middle frames of consecutive phases differ clearly */
    int K = lac_synth_n_phases(s);
    int64_t mid[5] = {0};
    for (int k = 0; k < K; k++) {
      int64_t first = -1, last = -1;
      for (int64_t f = 0; f < n; f++)
        if (lac_synth_label(s, f) == k && lac_synth_repetition(s, f) == 0) {
          if (first < 0) first = f;
          last = f;
        }
      mid[k] = (first + last) / 2;
    }
    for (int k = 0; k + 1 < K; k++) {
      long sum = 0;
      int big = 0;
      for (size_t i = 0; i < fsz; i += 3) {
        int d = pixdiff(b + fsz * mid[k] + i, b + fsz * mid[k + 1] + i);
        sum += d;
        big += d > 60;
      }
      CHECK(big >= 40, "%s: middles of phases %d and %d differ in only %d pixels (sum %ld)",
            lac_synth_action_name(p.action), k, k + 1, big, sum);
    }
    /* distractor frames: the object moves while the actor waits */
    int moving = 0, nd = 0;
    for (int64_t f = 1; f < n && lac_synth_label(s, f) < 0; f++, nd++)
      moving += memcmp(b + fsz * f, b + fsz * (f - 1), fsz) != 0;
    CHECK(nd > 0 && moving >= nd * 8 / 10, "%s: %d of %d distractor frames move",
          lac_synth_action_name(p.action), moving, nd);
    free(b);
    lac_synth_free(s);
  }
}

/* rows of liquid counted up from the glass bottom in one column, against an empty glass */
static int liquid_rows(const uint8_t *img, const uint8_t *empty, size_t stride, int x, int ybot,
                       int ytop) {
  int rows = 0;
  for (int y = ybot; y >= ytop; y--) {
    if (pixdiff(img + stride * (size_t)y + 3 * (size_t)x,
                empty + stride * (size_t)y + 3 * (size_t)x) <= 30)
      break;
    rows++;
  }
  return rows;
}

static void test_pour_fill(void) {
  for (uint64_t seed = 0; seed < 6; seed++) {
    lac_synth_params p = lac_synth_default_params();
    p.seed = 500 + seed;
    p.appearance_variation = seed % 2 ? 1.0 : 0.0;
    p.camera_variation = 0; /* one camera for the whole video: the empty glass is a reference */
    p.tempo_variation = 1;
    p.width = seed % 3 == 2 ? 160 : 112;
    lac_synth *s = make(p);
    if (!s) return;
    int64_t n = lac_synth_n_frames(s), first = -1, last = -1;
    for (int64_t f = 0; f < n; f++)
      if (lac_synth_label(s, f) == 2) {
        if (first < 0) first = f;
        last = f;
      }
    size_t stride = (size_t)p.width * 3, fsz = stride * (size_t)p.height;
    uint8_t *b = render_all(s, stride);
    lac_error err;
    syn_pour_probe pr;
    CHECK_OK(syn_probe_pour(s, first, &pr, &err), &err);
    const uint8_t *empty = b + fsz * (size_t)(first - 1); /* last frame of the tilt */
    int xa = (int)(pr.glass_x0 + 0.3f * (pr.glass_x1 - pr.glass_x0));
    int xb = (int)(pr.glass_x0 + 0.7f * (pr.glass_x1 - pr.glass_x0));
    int ybot = (int)(pr.glass_bottom - 1.0f), ytop = (int)(pr.glass_top + 1.0f);
    int prev = 0, drops = 0, mismatch = 0, worst = 0, level = 0;
    for (int64_t f = first; f <= last + 3 && f < n; f++) {
      const uint8_t *img = b + fsz * (size_t)f;
      int ra = liquid_rows(img, empty, stride, xa, ybot, ytop);
      int rb = liquid_rows(img, empty, stride, xb, ybot, ytop);
      level = ra < rb ? ra : rb; /* the stream can cross one column, not both */
      if (f <= last && level < prev) drops++;
      prev = level;
      CHECK_OK(syn_probe_pour(s, f, &pr, &err), &err);
      float model = pr.glass_bottom - pr.fill_y; /* pixels of liquid the scene drew */
      float d = fabsf((float)level - model);
      if (d > 1.5f) mismatch++;
      if (d > worst) worst = (int)ceilf(d);
    }
    float inner = pr.glass_bottom - pr.glass_top;
    CHECK(drops == 0, "seed %llu: measured level fell %d times during the pour",
          (unsigned long long)p.seed, drops);
    CHECK(mismatch == 0, "seed %llu: level off the scene's by > 1.5 px in %d frames (worst %d)",
          (unsigned long long)p.seed, mismatch, worst);
    CHECK(level >= 0.5f * inner, "seed %llu: glass only %d of %.0f px full after pouring",
          (unsigned long long)p.seed, level, inner);
    /* before the pour the glass is empty; after it, it stays full */
    int before = liquid_rows(b + fsz * 2, empty, stride, xa, ybot, ytop);
    int after = liquid_rows(b + fsz * (size_t)(n - 1), empty, stride, xa, ybot, ytop);
    CHECK(before == 0, "seed %llu: %d rows differ in the glass at frame 2",
          (unsigned long long)p.seed, before);
    CHECK(abs(after - level) <= 1, "seed %llu: level %d at the end, %d after pouring",
          (unsigned long long)p.seed, after, level);
    free(b);
    lac_synth_free(s);
  }
}

/* pixels of colour c (within tol) in rows [y0, y1) */
static int count_color(const uint8_t *img, size_t stride, int w, int y0, int y1, syn_color c,
                       int tol) {
  int n = 0;
  uint8_t ref[3] = {(uint8_t)(c.r + 0.5f), (uint8_t)(c.g + 0.5f), (uint8_t)(c.b + 0.5f)};
  if (y0 < 0) y0 = 0;
  for (int y = y0; y < y1; y++)
    for (int x = 0; x < w; x++) n += pixdiff(img + stride * (size_t)y + 3 * (size_t)x, ref) <= tol;
  return n;
}

/* first frame of phase k in cycle r */
static int64_t phase_start(const lac_synth *s, int k, int r) {
  for (int64_t f = 0; f < lac_synth_n_frames(s); f++)
    if (lac_synth_label(s, f) == k && lac_synth_repetition(s, f) == r) return f;
  return -1;
}

static void test_figures(void) {
  lac_error err;
  for (uint64_t seed = 0; seed < 4; seed++) {
    /* jumping jacks, plain look (colours exact), still camera */
    lac_synth_params p = lac_synth_default_params();
    p.action = LAC_SYNTH_JUMPING_JACKS;
    p.seed = 40 + seed;
    p.appearance_variation = 0;
    p.camera_variation = 0;
    p.tempo_variation = 1;
    lac_synth *s = make(p);
    if (!s) return;
    size_t stride = (size_t)p.width * 3, fsz = stride * (size_t)p.height;
    uint8_t *img = malloc(fsz);
    for (int r = 0; r < p.repetitions; r++) {
      int64_t down = phase_start(s, 0, r), up = phase_start(s, 2, r) - 1; /* arms overhead */
      syn_figure_probe pd, pu;
      CHECK_OK(syn_probe_figure(s, down, &pd, &err), &err);
      CHECK_OK(syn_probe_figure(s, up, &pu, &err), &err);
      int above = (int)(pu.head_y - 1.4f * pu.head_r); /* above the hair */
      CHECK_OK(lac_synth_render(s, down, img, stride, &err), &err);
      int skin_down = count_color(img, stride, p.width, 0, above, pd.skin, 6);
      int hand_px = pixdiff(img + stride * (size_t)pd.hand_y[0] + 3 * (size_t)pd.hand_x[0],
                            (uint8_t[3]){(uint8_t)(pd.skin.r + 0.5f), (uint8_t)(pd.skin.g + 0.5f),
                                         (uint8_t)(pd.skin.b + 0.5f)});
      CHECK_OK(lac_synth_render(s, up, img, stride, &err), &err);
      int skin_up = count_color(img, stride, p.width, 0, above, pu.skin, 6);
      CHECK(skin_down == 0, "jacks seed %llu cycle %d: %d skin pixels above the head, arms down",
            (unsigned long long)p.seed, r, skin_down);
      CHECK(skin_up >= 12, "jacks seed %llu cycle %d: %d skin pixels above the head, arms up",
            (unsigned long long)p.seed, r, skin_up);
      CHECK(hand_px <= 6, "jacks: the hand's pixel is not skin (diff %d)", hand_px);
      CHECK(pu.hand_y[0] < pu.head_y && pu.hand_y[1] < pu.head_y && pd.hand_y[0] > pd.head_y,
            "jacks: probe hands not above / below the head");
    }
    free(img);
    lac_synth_free(s);

    /* squat: the top of the figure (first row that is not the plain wall) goes down by a
     * good part of the frame at the bottom of the cycle and comes back */
    p.action = LAC_SYNTH_SQUAT;
    s = make(p);
    if (!s) return;
    img = malloc(fsz);
    int tops[3];
    int64_t frames[3] = {phase_start(s, 0, 0), phase_start(s, 2, 0), phase_start(s, 0, 1)};
    for (int i = 0; i < 3; i++) {
      CHECK_OK(lac_synth_render(s, frames[i], img, stride, &err), &err);
      tops[i] = -1;
      for (int y = 0; y < p.height && tops[i] < 0; y++)
        for (int x = 1; x < p.width; x++)
          if (pixdiff(img + stride * (size_t)y + 3 * (size_t)x, img + stride * (size_t)y) > 12) {
            tops[i] = y;
            break;
          }
    }
    CHECK(tops[1] - tops[0] >= p.height / 8, "squat seed %llu: top %d standing, %d at the bottom",
          (unsigned long long)p.seed, tops[0], tops[1]);
    CHECK(abs(tops[2] - tops[0]) <= 2, "squat: top %d at the next cycle, %d at the first",
          tops[2], tops[0]);
    free(img);
    lac_synth_free(s);
  }
}

int main(void) {
  test_names();
  test_bad_params();
  test_determinism();
  test_labels();
  test_tempo();
  test_not_flat();
  test_pour_fill();
  test_figures();
  return test_exit("synth");
}
