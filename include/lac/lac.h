/* lac.h — public C API of the lac library.
 *
 * lac computes frame-wise video embeddings with the LAC encoder (a ResNet trunk, a
 * temporal conv head and a transformer over time).  This header is the whole API an
 * application or a GStreamer element needs: backends, model files, per-stream sessions
 * and embeddings files.
 *
 * Conventions
 *  - Every fallible call returns an lac_status and takes an optional `lac_error *err`
 *    (may be NULL) that receives a message saying what went wrong and what to fix.
 *  - Nothing here calls exit() or abort(), and the library holds no global state:
 *    threads, log callbacks and buffers live in the objects you create.
 *  - Tensors are row-major in PyTorch order (N, C, H, W); tensor names in model files
 *    are PyTorch state_dict names.
 *
 * Ownership and threading
 *  - lac_backend: created and freed by the caller; must outlive every model loaded on it.
 *    A backend may be shared by several threads (its calls only read its settings).
 *  - lac_model: immutable after load; share it between any number of sessions and
 *    threads.  Free it only after all its sessions are freed.
 *  - lac_session: per stream, holds all mutable buffers.  One thread at a time per
 *    session; distinct sessions may run concurrently on one model.
 *  - Returned `const char *` strings belong to the object they came from.
 */
#ifndef LAC_LAC_H
#define LAC_LAC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LAC_VERSION_MAJOR 0
#define LAC_VERSION_MINOR 1
#define LAC_VERSION_MICRO 0

/* ---------------------------------------------------------------- status, errors */

typedef enum {
  LAC_OK = 0,
  LAC_ERR_INVALID_ARG,    /* a caller-supplied value is out of range or inconsistent */
  LAC_ERR_NOMEM,          /* an allocation failed */
  LAC_ERR_IO,             /* open/read/write/rename failed */
  LAC_ERR_FORMAT,         /* a file is not valid (safetensors structure, metadata) */
  LAC_ERR_MODEL_MISMATCH, /* a file is valid but does not fit the expected model/shape */
  LAC_ERR_UNSUPPORTED,    /* the request is valid but not implemented for this backend */
  LAC_ERR_BACKEND,        /* the compute backend (BLAS, CUDA) reported a failure */
  LAC_ERR_NUMERIC,        /* NaN or Inf in inputs or results */
} lac_status;

#define LAC_ERROR_MESSAGE_MAX 512

typedef struct {
  lac_status code;
  char message[LAC_ERROR_MESSAGE_MAX];
} lac_error;

/* Short name of a status code ("invalid argument", ...).  Never NULL. */
const char *lac_status_string(lac_status s);

/* Set err (if non-NULL) and return code.  printf-style message. */
lac_status lac_error_set(lac_error *err, lac_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Clear err to LAC_OK with an empty message (err may be NULL). */
void lac_error_clear(lac_error *err);

/* ---------------------------------------------------------------- logging */

typedef enum {
  LAC_LOG_ERROR = 0,
  LAC_LOG_WARNING = 1,
  LAC_LOG_INFO = 2,
  LAC_LOG_DEBUG = 3,
} lac_log_level;

/* Called from whatever thread is running a library call.  msg has no newline. */
typedef void (*lac_log_fn)(lac_log_level level, const char *msg, void *user_data);

/* ---------------------------------------------------------------- backends */

typedef enum {
  LAC_BACKEND_CPU = 0,
  LAC_BACKEND_CUDA = 1,
} lac_backend_kind;

typedef struct {
  lac_backend_kind kind;
  int n_threads;         /* CPU threads for BLAS and our own loops; 0 = all cores */
  int device;            /* CUDA device ordinal */
  lac_log_fn log;        /* NULL = silent */
  void *log_user_data;
  lac_log_level log_level;
} lac_backend_params;

typedef struct lac_backend lac_backend;

lac_backend_params lac_backend_default_params(void);
lac_status lac_backend_new(const lac_backend_params *params, lac_backend **out, lac_error *err);
void lac_backend_free(lac_backend *backend);
const char *lac_backend_name(const lac_backend *backend);
/* 1 when the library was built with the CUDA backend (a GPU may still be absent). */
int lac_have_cuda(void);

/* ---------------------------------------------------------------- architecture */

typedef enum {
  LAC_TRUNK_RESNET18 = 0,
  LAC_TRUNK_RESNET34 = 1,
  LAC_TRUNK_RESNET50 = 2,
} lac_trunk;

typedef enum {
  /* attention over the frames of a sequence (the paper; default) */
  LAC_ATTENTION_TIME = 0,
  /* the reference code's behaviour: each frame attends only to itself */
  LAC_ATTENTION_FRAME = 1,
} lac_attention;

/* Architecture hyper-parameters.  Stored in the model file's metadata (keys "lac.arch.*"),
 * never in code: two models with different values are different files, same code. */
typedef struct {
  lac_trunk trunk;
  int layer3_blocks;   /* blocks of layer3 kept (3 = "conv4c" for ResNet-50) */
  int input_size;      /* square input, pixels (224) */
  int context;         /* c: frames stacked per embedding by the Conv3d head (1) */
  int conv_channels;   /* Conv3d head width (512) */
  int fc_dim;          /* MLP width (512) */
  int d_model;         /* projection / transformer width (256) */
  int n_heads;         /* attention heads (8) */
  int ff_dim;          /* transformer feed-forward width (1024) */
  int n_layers;        /* transformer layers (2) */
  int embed_dim;       /* output embedding size (128) */
  int train_len;       /* sequence length of the positional-encoding quirk (32) */
  lac_attention attention;
  int l2_normalize;    /* L2-normalise output embeddings (0, as the reference) */
} lac_arch;

/* Presets: "resnet50" (the paper's encoder, 224x224) and "resnet18-112" (small, live CPU). */
lac_status lac_arch_preset(const char *name, lac_arch *out, lac_error *err);
/* Names of the presets, NULL-terminated. */
const char *const *lac_arch_preset_names(void);
/* Checks every field; the message names the field and its allowed range. */
lac_status lac_arch_validate(const lac_arch *arch, lac_error *err);
/* Channels of the trunk output (1024 for ResNet-50, 256 for ResNet-18/34). */
int lac_arch_trunk_channels(const lac_arch *arch);
/* Spatial size of the trunk output (input_size / 16). */
int lac_arch_trunk_size(const lac_arch *arch);
const char *lac_trunk_name(lac_trunk trunk);

/* ---------------------------------------------------------------- models */

typedef struct lac_model lac_model;

/* Load a safetensors model file.  Checks the file (see lac/safetensors.h), reads the
 * architecture from its metadata, and checks every tensor against the table the
 * architecture expects: missing, unknown or mis-shaped tensors are errors whose message
 * says "expected X, got Y".  BatchNorm is folded for inference at load time. */
lac_status lac_model_load(lac_backend *backend, const char *path, lac_model **out, lac_error *err);

/* A model with PyTorch's default initialisation (torchvision's for the trunk), seeded. */
lac_status lac_model_init_random(lac_backend *backend, const lac_arch *arch, uint64_t seed,
                                 lac_model **out, lac_error *err);

/* Write the model (unfolded, PyTorch names) to path via a temporary file + rename. */
lac_status lac_model_save(const lac_model *model, const char *path, lac_error *err);

void lac_model_free(lac_model *model);

const lac_arch *lac_model_arch(const lac_model *model);
/* Number of learnable parameters (BatchNorm running statistics excluded). */
size_t lac_model_n_params(const lac_model *model);
size_t lac_model_n_tensors(const lac_model *model);
/* 16 hex digits identifying the weights (a hash of names, shapes and data). */
const char *lac_model_id(const lac_model *model);
/* Free-form metadata of the file (keys other than lac.arch.*); NULL when absent. */
size_t lac_model_meta_count(const lac_model *model);
const char *lac_model_meta_key(const lac_model *model, size_t i);
const char *lac_model_meta_value(const lac_model *model, size_t i);
const char *lac_model_meta_get(const lac_model *model, const char *key);
/* Set (or replace) a metadata entry kept in saved files (not lac.arch.*). */
lac_status lac_model_meta_set(lac_model *model, const char *key, const char *value, lac_error *err);

/* Tensor access by state_dict name (unfolded values, as in the file).  Returns NULL when
 * the name is unknown; shape/ndim may be NULL. */
const float *lac_model_tensor(const lac_model *model, const char *name, int *ndim, int64_t shape[8]);

/* ---------------------------------------------------------------- frames */

typedef enum {
  /* uint8 R,G,B interleaved, rows of `stride` bytes (>= 3*width); ImageNet-normalised by us */
  LAC_PIXELS_RGB8 = 0,
  /* float32 planar C,H,W, already normalised ((x/255 - mean) / std); stride ignored */
  LAC_PIXELS_F32_NORMALIZED = 1,
} lac_pixel_format;

/* n frames of the model's input size, contiguous: frame i starts at
 * data + i * frame_bytes, with frame_bytes = stride * height (RGB8) or
 * 3 * height * width * 4 (F32). */
typedef struct {
  lac_pixel_format format;
  int n;
  int width, height;   /* must equal the model's input_size */
  size_t stride;       /* bytes per row for RGB8; 0 = 3 * width */
  const void *data;
} lac_frames;

/* ---------------------------------------------------------------- sessions */

typedef enum {
  /* the embedding of frame t uses the window ending at t: no latency */
  LAC_WINDOW_CAUSAL = 0,
  /* the window is centred on t: frame t's embedding is emitted window/2 steps later */
  LAC_WINDOW_CENTRED = 1,
} lac_window_mode;

typedef struct {
  int max_batch;            /* frames run through the trunk in one batch (16) */
  int window;               /* transformer window in embedding steps; 0 = arch.train_len */
  lac_window_mode window_mode;
} lac_session_params;

typedef struct lac_session lac_session;

lac_session_params lac_session_default_params(void);
lac_status lac_session_new(const lac_model *model, const lac_session_params *params,
                           lac_session **out, lac_error *err);
void lac_session_free(lac_session *session);

/* Embed a whole clip as one sequence (what evaluation does): frames->n must be a
 * multiple of arch.context, and out receives (frames->n / context) x embed_dim floats.
 * Does not touch the streaming state. */
lac_status lac_session_embed_sequence(lac_session *session, const lac_frames *frames, float *out,
                                      lac_error *err);

/* Per-step projections ((n / context) x d_model) only: trunk, conv head, MLP, projection.
 * Exposed for tests and tools. */
lac_status lac_session_project(lac_session *session, const lac_frames *frames, float *out,
                               lac_error *err);

/* The sequence part alone: positional encoding, transformer and output layer over `steps`
 * projections (steps x d_model, as lac_session_project writes them) into out
 * (steps x embed_dim).  lac_session_project over consecutive chunks of a clip (each a
 * multiple of arch.context frames) followed by this call gives exactly
 * lac_session_embed_sequence, without holding every frame in memory at once. */
lac_status lac_session_embed_projections(lac_session *session, const float *proj, int steps,
                                         float *out, lac_error *err);

/* Streaming.  Push frames in stream order; each step's trunk+head runs once and its
 * projection enters a ring of `window` steps, so sliding the window recomputes nothing
 * but the transformer.  Embeddings that become ready are written to out (rows of
 * embed_dim) with their step indices (counted from the last reset) in out_index and a
 * flag in out_full (1 when the window held `window` steps); *n_out receives the count.
 * out must have room for out_cap rows: frames->n / context + window suffices. */
lac_status lac_session_push(lac_session *session, const lac_frames *frames, float *out,
                            int64_t *out_index, int *out_full, int out_cap, int *n_out,
                            lac_error *err);
/* End of stream: in centred mode emits the steps still held back. */
lac_status lac_session_flush(lac_session *session, float *out, int64_t *out_index, int *out_full,
                             int out_cap, int *n_out, lac_error *err);
/* Drop the window (discontinuity, flush, new segment). */
void lac_session_reset(lac_session *session);
/* Steps a centred window holds back (0 when causal): the latency in steps. */
int lac_session_latency_steps(const lac_session *session);

/* ---------------------------------------------------------------- embeddings files */

/* A T x dim float32 tensor "embeddings" with optional int64 "timestamps" (ns) and
 * int64 "labels", metadata lac.format = "lac-embeddings", lac.model_id and (optional)
 * lac.phase_names, a JSON list of strings naming label values 0, 1, ... */
typedef struct {
  int64_t n;
  int64_t dim;
  float *data;          /* n * dim */
  int64_t *timestamps;  /* n, or NULL */
  int64_t *labels;      /* n, or NULL */
  char model_id[64];    /* "" when unknown */
  char **phase_names;   /* n_phase_names names (owned; set with lac_embeddings_set_phase_names) */
  int64_t n_phase_names; /* 0: none (files without lac.phase_names) */
} lac_embeddings;

/* Allocate (zeroed) with optional arrays; free with lac_embeddings_free. */
lac_status lac_embeddings_new(int64_t n, int64_t dim, int with_timestamps, int with_labels,
                              lac_embeddings **out, lac_error *err);
void lac_embeddings_free(lac_embeddings *emb);
/* Replaces the phase names by copies of names[0..n) (n = 0 clears them); NULL names refused. */
lac_status lac_embeddings_set_phase_names(lac_embeddings *emb, int64_t n, const char *const *names,
                                          lac_error *err);
/* Written via a temporary file + rename; NaN/Inf in data is refused. */
lac_status lac_embeddings_write(const char *path, const lac_embeddings *emb, lac_error *err);
lac_status lac_embeddings_read(const char *path, lac_embeddings **out, lac_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LAC_LAC_H */
