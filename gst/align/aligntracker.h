/* aligntracker.h — the alignment logic of the lacalign element, apart from GStreamer:
 * a reference (T_ref x d embeddings, optional phase labels and names), the stream's
 * embeddings as they arrive, the on-line estimate for the newest frame and the off-line
 * alignment of the whole stream.  Everything numeric goes through the lac library's
 * alignment core (include/lac/align.h): similarity matrix, hard Smith-Waterman with its
 * M matrix and path, and the soft match probabilities dV/dS.
 *
 * Not here: buffers, metas, caps, drawing (aligndraw.c), messages (gstlacalign.c).
 * One thread at a time per tracker.
 */
#ifndef LAC_GST_ALIGN_TRACKER_H
#define LAC_GST_ALIGN_TRACKER_H

#include <glib.h>

#include "lac/align.h"
#include "lac/lac.h"

G_BEGIN_DECLS

typedef struct {
  lac_similarity similarity; /* cosine by default */
  float sim_eps;             /* epsilon of the similarity */
  float offset;              /* S = sim - offset */
  float gap_open, gap_extend;
  float softness;            /* tau of the soft match probabilities, > 0 */
  int window;                /* stream frames aligned on-line, >= 1 */
  float min_score;           /* hard local score under this: no match (also no match when
                              the current frame's similarity to its match is under offset) */
  float min_confidence;      /* confidence under this: no match */
  float smoothing;           /* 0: raw index; towards 1: heavier exponential smoothing */
  int confidence_radius;     /* reference frames either side of the match counted; < 0: auto */
  int keep_history;          /* 1: keep every frame's similarity row (off-line alignment) */
} AlignTrackerSettings;

void align_tracker_default_settings(AlignTrackerSettings *s);

/* The on-line estimate for one stream frame. */
typedef struct {
  gboolean match;     /* FALSE: no match (score or confidence under their thresholds) */
  int raw_index;      /* argmax_j of the hard M's last row over the reference frames the
                         current frame resembles (S >= 0; all when none): best local
                         alignment ending now */
  int index;          /* smoothed matched reference frame, -1 when no match */
  double progress;    /* index / (T_ref - 1), 0..1; -1 when no match */
  int phase;          /* label of the matched reference frame, -1 when none */
  float score;        /* hard M[last][raw_index]: score of that alignment */
  float confidence;   /* soft match probability mass of the last row within the radius (the
                         soft alignments ending now at those same reference frames) */
  float similarity;   /* sim(current frame, reference frame raw_index), offset not applied */
} AlignEstimate;

typedef struct AlignTracker AlignTracker;

/* A tracker without a reference; returns NULL and fills err on failure. */
AlignTracker *align_tracker_new(const AlignTrackerSettings *s, lac_error *err);
void align_tracker_free(AlignTracker *t);

/* Appends reference frames: emb [n][dim]; labels [n] (NULL: -1 each).  dim must match the
 * reference's so far; model_id ("" or NULL unknown) is kept from the first call. */
lac_status align_tracker_add_reference(AlignTracker *t, const float *emb, int n, int dim,
                                       const gint64 *labels, const char *model_id,
                                       lac_error *err);
/* Names phase p (copied); phases without a name read "phase <p>". */
void align_tracker_set_phase_name(AlignTracker *t, int p, const char *name);
int align_tracker_ref_len(const AlignTracker *t);
int align_tracker_dim(const AlignTracker *t);
const char *align_tracker_model_id(const AlignTracker *t);
/* The phase's name (owned by the tracker, valid until the next call that names a phase) or
 * NULL for p < 0. */
const char *align_tracker_phase_name(AlignTracker *t, int p);
/* Number of phases: 1 + the largest reference label or named phase (0 without either). */
int align_tracker_n_phases(const AlignTracker *t);
/* The settings the tracker was made with. */
const AlignTrackerSettings *align_tracker_settings(const AlignTracker *t);

/* Appends one stream frame (emb [dim], dim = the reference's) and estimates it on-line
 * from the last `window` frames.  The reference must not be empty. */
lac_status align_tracker_push(AlignTracker *t, const float *emb, AlignEstimate *out,
                              lac_error *err);
/* Forgets the on-line window and the smoothing (the off-line history stays). */
void align_tracker_reset_window(AlignTracker *t);
int align_tracker_n_frames(const AlignTracker *t);

/* Off-line (keep_history only): the hard local alignment of all pushed frames against the
 * reference.
 * matched [n_frames] receives j for frames matched in an 'M' step and -1 otherwise;
 * S_out (optional, NULL to skip) receives a newly allocated [n_frames][T_ref] similarity
 * (g_free it); steps_out/n_steps (optional) a newly allocated path (g_free it); score the
 * best local score. */
lac_status align_tracker_offline(AlignTracker *t, int *matched, float **S_out,
                                 lac_sw_step **steps_out, int *n_steps, float *score,
                                 lac_error *err);

G_END_DECLS

#endif
