/* lac/synth.h — procedural, phase-labelled action videos for tests and evaluation.
 *
 * A lac_synth renders one video of one action (pouring into a glass, jumping jacks, squats)
 * with seeded variation of appearance, camera and tempo, and labels every frame with the
 * phase of the action it shows (docs/synth.md).  The paper's datasets are out of reach
 * from our machines; these videos make alignment non-trivial in the same ways: phases of
 * varying length, pauses, different looks, a moving camera, and unlabelled distractor
 * segments where the actor is idle and something unrelated moves.
 *
 * Labels
 *  - Frames of the action carry the index of their phase, 0 .. n_phases-1, in order.
 *  - A periodic action (jumping jacks, squats) repeats one cycle `repetitions` times; its
 *    labels are the phase within the cycle (0,1,2,3,0,1,2,3,...), as Penn Action labels
 *    repeated motions.  lac_synth_repetition() says which cycle a frame belongs to.
 *  - Distractor frames carry -1 ("unlabelled"), as evaluation drops labels < 0.
 *
 * Determinism: the pixels and labels of frame k depend only on (params, k) — not on which
 * frames were rendered before, nor on threads (rendering is single-threaded per call).
 * The same build gives the same bytes on every run; builds on other machines give the same
 * bytes where libm's sin/cos/exp/sqrt round alike (glibc on x86-64 and aarch64 do).
 *
 * Ownership and threading: a lac_synth is immutable after lac_synth_new; any number of
 * threads may call its functions at once (each render writes only the caller's buffer).
 * Returned strings are static or belong to the lac_synth.
 */
#ifndef LAC_SYNTH_H
#define LAC_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "lac.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  LAC_SYNTH_POUR = 0,          /* 5 phases: approach, tilt, pour, return, rest */
  LAC_SYNTH_JUMPING_JACKS = 1, /* periodic, 4 phases per cycle (front view) */
  LAC_SYNTH_SQUAT = 2,         /* periodic, 4 phases per cycle (side view) */
} lac_synth_action;

#define LAC_SYNTH_N_ACTIONS 3

/* Where unlabelled distractor segments go.  RANDOM picks one of NONE, BEFORE, INSIDE,
 * AFTER from the seed (uniformly), so a dataset made with RANDOM mixes all four. */
typedef enum {
  LAC_SYNTH_DISTRACT_NONE = 0,
  LAC_SYNTH_DISTRACT_BEFORE = 1, /* before the action */
  LAC_SYNTH_DISTRACT_INSIDE = 2, /* between two phases (or two cycles) of the action */
  LAC_SYNTH_DISTRACT_AFTER = 3,  /* after the action */
  LAC_SYNTH_DISTRACT_RANDOM = 4,
} lac_synth_distractor;

#define LAC_SYNTH_N_DISTRACTORS 5

typedef struct {
  lac_synth_action action;
  int width, height;           /* output size, 32 .. 8192 each */
  uint64_t seed;               /* every seeded choice derives from it */
  int base_frames;             /* nominal length of the whole action (all repetitions) at
                                * tempo_variation 0, 8 .. 100000; >= 2 * phases * repetitions */
  double tempo_variation;      /* 0..1: phase durations, overall speed, pauses */
  double appearance_variation; /* 0..1: colours, sizes, background texture, lighting */
  double camera_variation;     /* 0..1: offset, zoom, slow pan, jitter */
  lac_synth_distractor distractor;
  int repetitions;             /* cycles of a periodic action, 1 .. 64; pour ignores it */
} lac_synth_params;

typedef struct lac_synth lac_synth;

/* pour, 112x112, seed 0, base_frames 80, variations 0.5 / 0.5 / 0.3, no distractor,
 * 3 repetitions. */
lac_synth_params lac_synth_default_params(void);

/* Validates p (the message names the field and its range) and lays out the video: its
 * length, the phases' spans, the distractor, the look and the camera path. */
lac_status lac_synth_new(const lac_synth_params *p, lac_synth **out, lac_error *err);
void lac_synth_free(lac_synth *s);

/* The parameters s was made with (distractor as given, RANDOM included). */
const lac_synth_params *lac_synth_get_params(const lac_synth *s);
/* The distractor placement actually used (never RANDOM). */
lac_synth_distractor lac_synth_distractor_placement(const lac_synth *s);

/* Frames in the video, fixed by the params (seed included).  Bounds: docs/synth.md. */
int64_t lac_synth_n_frames(const lac_synth *s);
/* Phases of the action (of one cycle for a periodic action). */
int lac_synth_n_phases(const lac_synth *s);
/* Name of phase k (0 <= k < n_phases), NULL otherwise. */
const char *lac_synth_phase_name(const lac_synth *s, int k);
/* Label of a frame: its phase 0..n_phases-1, or -1 for distractor frames and for frames
 * outside 0..n_frames-1. */
int32_t lac_synth_label(const lac_synth *s, int64_t frame);
/* Cycle of a frame, 0..repetitions-1 (0 for pour); -1 for distractor or out-of-range frames. */
int lac_synth_repetition(const lac_synth *s, int64_t frame);

/* Renders frame 0 <= frame < n_frames as interleaved RGB8: rgb[y * stride + 3 * x + c],
 * y < height, x < width, c = R, G, B; stride >= 3 * width bytes.  Bytes of a row beyond
 * 3 * width are left alone. */
lac_status lac_synth_render(const lac_synth *s, int64_t frame, uint8_t *rgb, size_t stride,
                            lac_error *err);

/* Names: "pour", "jumping-jacks", "squat"; "none", "before", "inside", "after", "random".
 * NULL for values out of range.  *_from_name accept exactly these names. */
const char *lac_synth_action_name(lac_synth_action a);
lac_status lac_synth_action_from_name(const char *name, lac_synth_action *out, lac_error *err);
const char *lac_synth_distractor_name(lac_synth_distractor d);
lac_status lac_synth_distractor_from_name(const char *name, lac_synth_distractor *out,
                                          lac_error *err);
/* Phases of an action without making a lac_synth (0 for out-of-range actions), and their
 * names (NULL when k is out of range). */
int lac_synth_action_n_phases(lac_synth_action a);
const char *lac_synth_action_phase_name(lac_synth_action a, int k);

#ifdef __cplusplus
}
#endif

#endif
