/* model.h — the model object shared by model.c (files, init, folding), encoder.c (forward)
 * and session.c (streams).  Internal. */
#ifndef LAC_MODEL_H
#define LAC_MODEL_H

#include "lac_internal.h"
#include "layers/layers.h"

typedef struct {
  lac_block_spec spec;
  lac_conv2d conv1, conv2, conv3, down; /* conv3 unused for BasicBlock, down when spec.has_down */
} lac_block_w;

/* Inference weights: BatchNorm folded into the convolutions; the rest points into the
 * unfolded parameter arena. */
typedef struct {
  lac_conv2d stem;
  lac_block_w blocks[LAC_MAX_BLOCKS];
  int n_blocks;
  /* head convs: [cc][ct*9] (context 1, middle temporal slice) or [cc][ct*27] */
  const float *h1_w, *h1_b, *h2_w, *h2_b;
  /* context 1: the head convs as 2-D 3x3 convs, padding 0, with Winograd weights
   * (zeroed otherwise) */
  lac_conv2d head1, head2;
  const float *fc1_w, *fc1_b, *fc2_w, *fc2_b, *proj_w, *proj_b;
  lac_tlayer *layers; /* n_layers */
  const float *out_w, *out_b;
} lac_infer;

typedef struct {
  char name[96];
  int ndim;
  int64_t shape[LAC_ST_MAX_DIMS];
  size_t numel;
  float *data;
} lac_extra_tensor;

struct lac_model {
  lac_backend *backend;
  lac_arch arch;
  lac_tensor_desc *table;
  size_t n_tensors;
  float *params; /* unfolded, file order */
  size_t n_floats;
  float *folded;
  lac_infer inf;
  lac_extra_tensor *extras; /* optional tensors kept as they are ("go", "ge") */
  size_t n_extras;
  char **meta_keys, **meta_values;
  size_t n_meta;
  char id[17];
};

const lac_tensor_desc *lac_model_find(const lac_model *m, const char *name);

#endif

/* ---------------------------------------------------------------- per-stream state */

/* Stages timed when a session's profiling is on (bench/). */
enum {
  LAC_PROF_INPUT, LAC_PROF_STEM, LAC_PROF_MAXPOOL, LAC_PROF_LAYER1, LAC_PROF_LAYER2,
  LAC_PROF_LAYER3, LAC_PROF_HEAD_CONV1, LAC_PROF_HEAD_CONV2, LAC_PROF_MLP,
  LAC_PROF_TRANSFORMER, LAC_PROF_N
};
extern const char *const lac_prof_names[LAC_PROF_N];

struct lac_session {
  const lac_model *model;
  lac_session_params params;
  int batch;            /* frames per trunk batch (multiple of context) */
  int window;           /* transformer window, steps */
  /* trunk/head workspace, planned at creation for `batch` frames */
  float *input;         /* [3][batch][S][S] */
  float *act[5];        /* max activation each */
  size_t act_floats;
  float *ws;            /* conv workspace: im2col panels, Winograd tiles */
  size_t ws_floats;
  float *pooled, *fc_a, *fc_b; /* [groups][cc], [groups][fc] x 2 */
  /* transformer workspace, grown to the longest sequence seen */
  float *seq, *pe, *tws;
  int seq_cap;
  /* streaming */
  float *ring;          /* [window][d_model] */
  int64_t n_steps;      /* steps pushed since the last reset */
  float *pending;       /* [context-1] normalised frames waiting for their group */
  int n_pending;
  float *step_proj;     /* [batch / context][d_model]: projections of one trunk batch */
  float *win, *win_out; /* [window][d_model] gathered window, [window][embed_dim] its output */
  int profile;          /* accumulate stage times into prof[] (seconds) */
  double prof[LAC_PROF_N];
};

double lac_now(void);

/* Trunk, head, MLP and projection for frames (n multiple of context):
 * out[n/context][d_model].  Batches internally. */
lac_status lac_encoder_project(lac_session *s, const lac_frames *fr, float *out, lac_error *err);
/* The trunk output of n frames, NCHW [n][Ct][ts][ts] (for tests and tools). */
lac_status lac_encoder_trunk(lac_session *s, const lac_frames *fr, float *out, lac_error *err);
/* Positional encoding + transformer + output projection (+ L2) on x[s_len][d_model]
 * (overwritten); out[s_len][embed_dim]. */
lac_status lac_encoder_sequence(lac_session *s, const float *proj, int s_len, float *out,
                                lac_error *err);
/* Grow the transformer workspace to s_len steps (no-op when large enough). */
lac_status lac_session_grow_seq(lac_session *s, int s_len, lac_error *err);
/* Frames [first, first + n) of fr as a lac_frames view. */
lac_frames lac_frames_slice(const lac_arch *a, const lac_frames *fr, int first, int n);
/* Frame i of fr as normalised float [3][S][S]. */
void lac_frame_normalize(const lac_arch *a, const lac_frames *fr, int i, float *dst);
/* Validate frames against the model's input. */
lac_status lac_frames_check(const lac_model *m, const lac_frames *fr, lac_error *err);
