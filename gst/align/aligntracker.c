/* aligntracker.c — on-line and off-line alignment of a stream's embeddings against a
 * reference (see aligntracker.h).
 *
 * On-line, for the newest stream frame n-1 with window rows W = frames [n-w, n):
 *   S = sim(W, R) - offset                           [w][T_ref] (rows kept from the history)
 *   C = {j : S[w-1][j] >= 0} (all j when empty)      candidate ends: reference frames the
 *                                                    current frame resembles
 *   hard SW (tau = 0): M                             the best local alignment ending in
 *   raw = argmax_{j in C} M[w-1][j],                 each cell; the last row ends "now"
 *   score = M[w-1][raw]
 *   soft SW (tau = softness): Ms, and                match probabilities of the soft
 *   P = d(smax_{j in C} Ms[w-1][j]) / dS             alignments that end now (backward
 *                                                    with gM[w-1][j] = softmax over C of
 *                                                    Ms[w-1]/tau, 0 outside C)
 *   confidence = sum_{|j - raw| <= r} P[w-1][j]     how concentrated the current frame's
 *                                                    match is around raw
 * No match when S[w-1][raw] < 0 (the current frame is less similar to its match than the
 * offset: a distractor shows at once, while the alignment score only decays), score <
 * min_score or confidence < min_confidence.
 * Restricting the ends to C lets a restart of the action (a jump back in the reference) be
 * followed within a few frames: the previous performance's alignment keeps a high score for
 * about half a window, but it ends at a reference frame the current frame does not resemble.
 * Smoothing: exponential on the index, restarted when the raw index jumps by more than
 * max(3, T_ref / 8) frames (the action restarted) or after a no-match.
 * Off-line: hard SW over the whole history and its path.
 *
 * Not here: GStreamer objects, drawing, files.  Similarity rows are computed once per frame
 * and kept (T_stream x T_ref floats) when the off-line alignment needs them all
 * (keep_history), otherwise only the last window's (memory stays bounded on live streams).
 */
#include "aligntracker.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct AlignTracker {
  AlignTrackerSettings s;
  lac_aligner *al;
  /* reference */
  int m, d;
  float *ref;      /* [m][d] */
  gint64 *labels;  /* [m] */
  char model_id[64];
  GPtrArray *phase_names; /* index p -> char * or NULL */
  char *scratch_name;
  /* stream */
  int n, cap;      /* frames pushed, rows allocated */
  int base;        /* frame of rows[0]: 0 with the history kept, else moves on */
  float *rows;     /* [cap][m] similarity rows S (offset applied) of frames base.. */
  int window_start; /* first frame of the current window (after a reset) */
  /* on-line scratch */
  float *M, *Ms, *G, *P; /* [window][m] */
  int scratch_m;
  gboolean have_smooth;
  double smooth;
};

void align_tracker_default_settings(AlignTrackerSettings *s) {
  s->similarity = LAC_SIM_COSINE;
  s->sim_eps = 1e-6f;
  s->offset = 0.5f;
  s->gap_open = 0.2f;
  s->gap_extend = 0.05f;
  s->softness = 0.1f;
  s->window = 32;
  s->min_score = 0.f;
  s->min_confidence = 0.5f;
  s->smoothing = 0.5f;
  s->confidence_radius = -1;
  s->keep_history = 1;
}

AlignTracker *align_tracker_new(const AlignTrackerSettings *s, lac_error *err) {
  if (s->window < 1 || !(s->softness > 0) || s->smoothing < 0 || s->smoothing >= 1) {
    lac_error_set(err, LAC_ERR_INVALID_ARG,
                  "alignment settings out of range: window %d (>= 1), softness %g (> 0), "
                  "smoothing %g (0 <= s < 1)",
                  s->window, s->softness, s->smoothing);
    return NULL;
  }
  AlignTracker *t = g_new0(AlignTracker, 1);
  t->s = *s;
  lac_aligner_params ap = lac_aligner_default_params();
  ap.n_threads = 1; /* runs in a streaming thread; the matrices are small */
  if (lac_aligner_new(&ap, &t->al, err) != LAC_OK) {
    g_free(t);
    return NULL;
  }
  t->phase_names = g_ptr_array_new_with_free_func(g_free);
  return t;
}

void align_tracker_free(AlignTracker *t) {
  if (!t) return;
  lac_aligner_free(t->al);
  g_free(t->ref);
  g_free(t->labels);
  g_ptr_array_unref(t->phase_names);
  g_free(t->scratch_name);
  g_free(t->rows);
  g_free(t->M);
  g_free(t->Ms);
  g_free(t->G);
  g_free(t->P);
  g_free(t);
}

lac_status align_tracker_add_reference(AlignTracker *t, const float *emb, int n, int dim,
                                       const gint64 *labels, const char *model_id,
                                       lac_error *err) {
  if (n < 0 || dim < 1) return lac_error_set(err, LAC_ERR_INVALID_ARG, "reference: %d frames of dimension %d", n, dim);
  if (t->n > 0)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "the reference cannot grow after stream frames were aligned");
  if (t->m > 0 && dim != t->d)
    return lac_error_set(err, LAC_ERR_MODEL_MISMATCH,
                         "reference frame of dimension %d after frames of dimension %d", dim,
                         t->d);
  if (t->m == 0) {
    t->d = dim;
    g_strlcpy(t->model_id, model_id ? model_id : "", sizeof t->model_id);
  }
  t->ref = g_renew(float, t->ref, (gsize)(t->m + n) * dim);
  t->labels = g_renew(gint64, t->labels, t->m + n);
  memcpy(t->ref + (gsize)t->m * dim, emb, sizeof(float) * n * dim);
  for (int i = 0; i < n; i++) t->labels[t->m + i] = labels ? labels[i] : -1;
  t->m += n;
  return LAC_OK;
}

void align_tracker_set_phase_name(AlignTracker *t, int p, const char *name) {
  if (p < 0 || !name) return;
  if ((guint)p >= t->phase_names->len) g_ptr_array_set_size(t->phase_names, p + 1);
  g_free(g_ptr_array_index(t->phase_names, p));
  g_ptr_array_index(t->phase_names, p) = g_strdup(name);
}

int align_tracker_ref_len(const AlignTracker *t) { return t->m; }
int align_tracker_dim(const AlignTracker *t) { return t->d; }
const char *align_tracker_model_id(const AlignTracker *t) { return t->model_id; }
int align_tracker_n_frames(const AlignTracker *t) { return t->n; }
const AlignTrackerSettings *align_tracker_settings(const AlignTracker *t) { return &t->s; }

int align_tracker_n_phases(const AlignTracker *t) {
  gint64 n = t->phase_names->len;
  for (int j = 0; j < t->m; j++) n = MAX(n, t->labels[j] + 1);
  return (int)MIN(n, G_MAXINT);
}

const char *align_tracker_phase_name(AlignTracker *t, int p) {
  if (p < 0) return NULL;
  if ((guint)p < t->phase_names->len && g_ptr_array_index(t->phase_names, p))
    return g_ptr_array_index(t->phase_names, p);
  g_free(t->scratch_name);
  t->scratch_name = g_strdup_printf("phase %d", p);
  return t->scratch_name;
}

void align_tracker_reset_window(AlignTracker *t) {
  t->window_start = t->n;
  t->have_smooth = FALSE;
}

lac_status align_tracker_push(AlignTracker *t, const float *emb, AlignEstimate *out,
                              lac_error *err) {
  const int m = t->m;
  if (m < 1) return lac_error_set(err, LAC_ERR_INVALID_ARG, "the reference has no frames yet");
  if (!t->s.keep_history && t->n - t->base >= 4 * t->s.window) {
    /* only the window is needed: move its rows to the front */
    int keep = t->s.window, from = t->n - keep;
    memmove(t->rows, t->rows + (gsize)(from - t->base) * m, sizeof(float) * (gsize)keep * m);
    t->base = from;
  }
  if (t->n - t->base == t->cap) {
    t->cap = t->cap ? 2 * t->cap : MAX(256, 4 * t->s.window);
    t->rows = g_renew(float, t->rows, (gsize)t->cap * m);
  }
  float *row = t->rows + (gsize)(t->n - t->base) * m;
  lac_status st = lac_similarity_matrix(t->s.similarity, t->s.sim_eps, 1, m, t->d, emb, t->ref,
                                        row, err);
  if (st) return st;
  for (int j = 0; j < m; j++) row[j] -= t->s.offset;
  t->n++;

  int first = MAX(MAX(t->window_start, t->base), t->n - t->s.window);
  int w = t->n - first;
  if (t->scratch_m != m || !t->M) {
    g_free(t->M);
    g_free(t->Ms);
    g_free(t->G);
    g_free(t->P);
    t->M = g_new(float, (gsize)t->s.window * m);
    t->Ms = g_new(float, (gsize)t->s.window * m);
    t->G = g_new0(float, (gsize)t->s.window * m);
    t->P = g_new(float, (gsize)t->s.window * m);
    t->scratch_m = m;
  }
  lac_sw_pair pair = {w, m, t->rows + (gsize)(first - t->base) * m, &t->s.gap_open,
                      &t->s.gap_extend};
  lac_sw_options hard = {0.f, 0}, soft = {t->s.softness, 0};
  float V, Vs;
  float *Mp[1] = {t->M}, *Msp[1] = {t->Ms}, *Pp[1] = {t->P};
  const float *Gp[1] = {t->G};
  st = lac_sw_forward(t->al, &hard, 1, &pair, &V, Mp, err);
  if (!st) st = lac_sw_forward(t->al, &soft, 1, &pair, &Vs, Msp, err);
  if (st) return st;
  /* Candidate ends: the reference frames the current frame resembles (S >= 0).  An
   * alignment that ends at a frame it does not resemble is an earlier performance still
   * decaying (after a restart of the action its score stays high for about half a window);
   * when no frame qualifies every column is a candidate (and the frame has no match). */
  const float *Slast = t->rows + (gsize)(t->n - 1 - t->base) * m;
  gboolean any = FALSE;
  for (int j = 0; j < m && !any; j++) any = Slast[j] >= 0;
#define CANDIDATE(j) (!any || Slast[j] >= 0)
  /* incoming gradient: the softmax over the candidates of the soft M's last row, zero
   * elsewhere */
  memset(t->G, 0, sizeof(float) * (gsize)w * m);
  float *Glast = t->G + (gsize)(w - 1) * m;
  const float *Mslast = t->Ms + (gsize)(w - 1) * m;
  float mx = -INFINITY;
  for (int j = 0; j < m; j++)
    if (CANDIDATE(j)) mx = MAX(mx, Mslast[j]);
  double z = 0;
  for (int j = 0; j < m; j++)
    z += Glast[j] = CANDIDATE(j) ? expf((Mslast[j] - mx) / t->s.softness) : 0.f;
  for (int j = 0; j < m; j++) Glast[j] = (float)(Glast[j] / z);
  st = lac_sw_backward(t->al, NULL, Gp, Pp, NULL, NULL, err);
  if (st) return st;

  const float *Mlast = t->M + (gsize)(w - 1) * m, *Plast = t->P + (gsize)(w - 1) * m;
  int raw = -1;
  for (int j = 0; j < m; j++)
    if (CANDIDATE(j) && (raw < 0 || Mlast[j] > Mlast[raw])) raw = j;
#undef CANDIDATE
  int r = t->s.confidence_radius >= 0 ? t->s.confidence_radius : MAX(2, m / 10);
  double conf = 0;
  for (int j = MAX(0, raw - r); j <= MIN(m - 1, raw + r); j++) conf += Plast[j];

  out->raw_index = raw;
  out->score = Mlast[raw];
  out->confidence = (float)conf;
  out->similarity = Slast[raw] + t->s.offset;
  out->match = Slast[raw] >= 0 && out->score >= t->s.min_score &&
               out->confidence >= t->s.min_confidence;
  if (!out->match) {
    t->have_smooth = FALSE;
    out->index = -1;
    out->progress = -1;
    out->phase = -1;
    return LAC_OK;
  }
  double jump = MAX(3.0, m / 8.0);
  if (!t->have_smooth || fabs(raw - t->smooth) > jump)
    t->smooth = raw;
  else
    t->smooth = t->s.smoothing * t->smooth + (1.0 - t->s.smoothing) * raw;
  t->have_smooth = TRUE;
  out->index = CLAMP((int)lround(t->smooth), 0, m - 1);
  out->progress = m > 1 ? (double)out->index / (m - 1) : 1.0;
  out->phase = (int)t->labels[out->index];
  return LAC_OK;
}

lac_status align_tracker_offline(AlignTracker *t, int *matched, float **S_out,
                                 lac_sw_step **steps_out, int *n_steps, float *score,
                                 lac_error *err) {
  const int n = t->n, m = t->m;
  if (S_out) *S_out = NULL;
  if (steps_out) *steps_out = NULL;
  if (n < 1 || m < 1)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "nothing to align: %d stream frames, %d reference frames", n, m);
  if (t->base != 0)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "the off-line alignment needs the tracker made with keep_history");
  lac_sw_pair pair = {n, m, t->rows, &t->s.gap_open, &t->s.gap_extend};
  lac_sw_options hard = {0.f, 0};
  float V;
  lac_sw_step *steps = g_new(lac_sw_step, n + m);
  int ns = 0;
  lac_status st = lac_sw_forward(t->al, &hard, 1, &pair, &V, NULL, err);
  if (!st) st = lac_sw_path(t->al, 0, steps, n + m, &ns, err);
  if (st) {
    g_free(steps);
    return st;
  }
  for (int i = 0; i < n; i++) matched[i] = -1;
  for (int k = 0; k < ns; k++)
    if (steps[k].state == 'M') matched[steps[k].i] = steps[k].j;
  if (score) *score = V;
  if (S_out) *S_out = g_memdup2(t->rows, sizeof(float) * (gsize)n * m);
  if (steps_out) {
    *steps_out = steps;
    if (n_steps) *n_steps = ns;
  } else {
    g_free(steps);
    if (n_steps) *n_steps = ns;
  }
  return LAC_OK;
}
