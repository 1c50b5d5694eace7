/* dataset.h — phase-labelled video datasets (docs/dataset.md).
 *
 * A dataset is a folder holding one `labels.json` and the videos it names.  Per video the
 * file gives its split ("train", "val", ...), its action, and per-frame phase labels
 * (-1 = unlabelled) and/or key-event frame indices, which are turned into labels here
 * (an event frame is the first frame of the next phase).  Phase names live per action.
 * Video order is meaningful: evaluation's "first 10 % of the training videos" is file
 * order.
 *
 * This header reads, builds and writes the labels file; it does not decode video (the
 * `lac` command line and the GStreamer elements do that).
 */
#ifndef LAC_DATASET_H
#define LAC_DATASET_H

#include "lac/lac.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LAC_DATASET_FORMAT "lac-dataset"
#define LAC_DATASET_VERSION 1

typedef struct {
  char *name;      /* "pour" */
  int n_phases;    /* K */
  char **phases;   /* K names */
} lac_dataset_action;

typedef struct {
  char *id;         /* unique within the dataset */
  char *path;       /* as written in the file (relative to the folder, or absolute) */
  char *full_path;  /* path resolved against the dataset folder */
  char *split;      /* "train", "val", ... */
  int action;       /* index into lac_dataset.actions */
  double fps;       /* 0 when unknown */
  int64_t n_frames; /* frames described; labels has this many entries */
  int32_t *labels;  /* n_frames phase indices in [0, K) or -1; always set after load */
  int n_events;     /* K-1 key events when the file gave them, else 0 */
  int64_t *events;  /* NULL when the file gave labels only */
} lac_dataset_video;

typedef struct {
  char *root;     /* the folder (resolves relative video paths) */
  char *name;     /* may be NULL */
  int n_actions;
  lac_dataset_action *actions;
  int n_videos;
  lac_dataset_video *videos;
} lac_dataset;

/* Read `path` (a dataset folder, or its labels file) and check every rule of
 * docs/dataset.md; the message names the video id and field at fault. */
lac_status lac_dataset_load(const char *path, lac_dataset **out, lac_error *err);

/* An empty dataset rooted at `root` (a folder; need not exist yet). */
lac_status lac_dataset_new(const char *root, const char *name, lac_dataset **out, lac_error *err);

/* Add an action with its K phase names; *index (may be NULL) receives its index.  Adding
 * an existing name with the same phases returns that action. */
lac_status lac_dataset_add_action(lac_dataset *ds, const char *name, int n_phases,
                                  const char *const *phases, int *index, lac_error *err);

/* Add a video with per-frame labels (copied; n_frames entries, each in [-1, K)). */
lac_status lac_dataset_add_video(lac_dataset *ds, const char *id, const char *path,
                                 const char *split, int action, double fps, int64_t n_frames,
                                 const int32_t *labels, lac_error *err);

/* Write the labels file (pretty JSON) through a temporary file and a rename. */
lac_status lac_dataset_save(const lac_dataset *ds, const char *path, lac_error *err);

void lac_dataset_free(lac_dataset *ds);

/* Labels from K-1 strictly increasing key events: frame t gets the number of events
 * e <= t.  labels has n_frames entries. */
lac_status lac_dataset_events_to_labels(const int64_t *events, int n_events, int64_t n_frames,
                                        int32_t *labels, lac_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LAC_DATASET_H */
