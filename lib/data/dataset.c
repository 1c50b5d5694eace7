/* dataset.c — the dataset labels file (docs/dataset.md): load with every rule checked,
 * build in memory, write atomically.
 *
 * Reads and writes JSON with cJSON.  Does not open or decode the videos it names; frame
 * counts are what the file says (the evaluator compares them with the decoded video).
 */
#include "lac/dataset.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lac_internal.h"

/* Labels files hold one integer per frame: a few MB for the largest real datasets. */
#define LAC_DATASET_FILE_MAX (512u << 20)

static char *dup_str(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static char *join_path(const char *root, const char *path) {
  if (path[0] == '/' || !root || !root[0]) return dup_str(path);
  size_t a = strlen(root), b = strlen(path);
  char *p = malloc(a + b + 2);
  if (!p) return NULL;
  memcpy(p, root, a);
  size_t k = a;
  if (a && root[a - 1] != '/') p[k++] = '/';
  memcpy(p + k, path, b + 1);
  return p;
}

void lac_dataset_free(lac_dataset *ds) {
  if (!ds) return;
  for (int i = 0; i < ds->n_actions; i++) {
    lac_dataset_action *a = &ds->actions[i];
    for (int k = 0; k < a->n_phases; k++) free(a->phases[k]);
    free(a->phases);
    free(a->name);
  }
  free(ds->actions);
  for (int i = 0; i < ds->n_videos; i++) {
    lac_dataset_video *v = &ds->videos[i];
    free(v->id);
    free(v->path);
    free(v->full_path);
    free(v->split);
    free(v->labels);
    free(v->events);
  }
  free(ds->videos);
  free(ds->root);
  free(ds->name);
  free(ds);
}

lac_status lac_dataset_new(const char *root, const char *name, lac_dataset **out, lac_error *err) {
  if (!root || !out) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_dataset_new: NULL argument");
  *out = NULL;
  lac_dataset *ds = calloc(1, sizeof *ds);
  if (!ds || !(ds->root = dup_str(root)) || (name && !(ds->name = dup_str(name)))) {
    lac_dataset_free(ds);
    return lac_error_set(err, LAC_ERR_NOMEM, "out of memory for a dataset");
  }
  *out = ds;
  return LAC_OK;
}

lac_status lac_dataset_events_to_labels(const int64_t *events, int n_events, int64_t n_frames,
                                        int32_t *labels, lac_error *err) {
  if (n_frames < 0 || n_events < 0 || (n_events && !events) || (n_frames && !labels))
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "events_to_labels: bad arguments");
  for (int k = 0; k < n_events; k++) {
    if (events[k] < 0 || events[k] >= n_frames)
      return lac_error_set(err, LAC_ERR_INVALID_ARG,
                           "key event %d is frame %" PRId64 ", outside the video's %" PRId64
                           " frames",
                           k, events[k], n_frames);
    if (k && events[k] <= events[k - 1])
      return lac_error_set(err, LAC_ERR_INVALID_ARG,
                           "key events must be strictly increasing: event %d (%" PRId64
                           ") follows %" PRId64,
                           k, events[k], events[k - 1]);
  }
  int k = 0;
  for (int64_t t = 0; t < n_frames; t++) {
    while (k < n_events && events[k] <= t) k++;
    labels[t] = k;
  }
  return LAC_OK;
}

static int find_action(const lac_dataset *ds, const char *name) {
  for (int i = 0; i < ds->n_actions; i++)
    if (!strcmp(ds->actions[i].name, name)) return i;
  return -1;
}

lac_status lac_dataset_add_action(lac_dataset *ds, const char *name, int n_phases,
                                  const char *const *phases, int *index, lac_error *err) {
  if (!ds || !name || !name[0] || n_phases < 1 || !phases)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "an action needs a non-empty name and at least one phase name");
  int at = find_action(ds, name);
  if (at >= 0) {
    const lac_dataset_action *a = &ds->actions[at];
    int same = a->n_phases == n_phases;
    for (int k = 0; same && k < n_phases; k++) same = phases[k] && !strcmp(a->phases[k], phases[k]);
    if (!same)
      return lac_error_set(err, LAC_ERR_INVALID_ARG,
                           "action '%s' is already defined with other phases", name);
    if (index) *index = at;
    return LAC_OK;
  }
  for (int k = 0; k < n_phases; k++)
    if (!phases[k] || !phases[k][0])
      return lac_error_set(err, LAC_ERR_INVALID_ARG, "action '%s': phase %d has no name", name, k);
  lac_dataset_action *grown = realloc(ds->actions, sizeof *grown * (size_t)(ds->n_actions + 1));
  if (!grown) return lac_error_set(err, LAC_ERR_NOMEM, "out of memory for action '%s'", name);
  ds->actions = grown;
  lac_dataset_action *a = &ds->actions[ds->n_actions];
  memset(a, 0, sizeof *a);
  a->name = dup_str(name);
  a->phases = calloc((size_t)n_phases, sizeof *a->phases);
  int ok = a->name && a->phases;
  for (int k = 0; ok && k < n_phases; k++) ok = (a->phases[k] = dup_str(phases[k])) != NULL;
  if (!ok) {
    if (a->phases)
      for (int k = 0; k < n_phases; k++) free(a->phases[k]);
    free(a->phases);
    free(a->name);
    return lac_error_set(err, LAC_ERR_NOMEM, "out of memory for action '%s'", name);
  }
  a->n_phases = n_phases;
  if (index) *index = ds->n_actions;
  ds->n_actions++;
  return LAC_OK;
}

static lac_status check_labels(const char *id, const int32_t *labels, int64_t n, int K,
                               lac_error *err) {
  for (int64_t t = 0; t < n; t++)
    if (labels[t] < -1 || labels[t] >= K)
      return lac_error_set(err, LAC_ERR_FORMAT,
                           "video '%s': label %" PRId32 " at frame %" PRId64
                           " is outside [-1, %d) (its action has %d phases)",
                           id, labels[t], t, K, K);
  return LAC_OK;
}

/* Append a video, taking ownership of labels/events (freed on failure too). */
static lac_status push_video(lac_dataset *ds, const char *id, const char *path, const char *split,
                             int action, double fps, int64_t n_frames, int32_t *labels,
                             int64_t *events, int n_events, lac_error *err) {
  for (int i = 0; i < ds->n_videos; i++)
    if (!strcmp(ds->videos[i].id, id)) {
      free(labels);
      free(events);
      return lac_error_set(err, LAC_ERR_FORMAT, "video id '%s' appears twice: ids must be unique",
                           id);
    }
  lac_dataset_video *grown = realloc(ds->videos, sizeof *grown * (size_t)(ds->n_videos + 1));
  if (!grown) {
    free(labels);
    free(events);
    return lac_error_set(err, LAC_ERR_NOMEM, "out of memory for video '%s'", id);
  }
  ds->videos = grown;
  lac_dataset_video *v = &ds->videos[ds->n_videos];
  memset(v, 0, sizeof *v);
  v->labels = labels;
  v->events = events;
  v->n_events = n_events;
  v->id = dup_str(id);
  v->path = dup_str(path);
  v->full_path = join_path(ds->root, path);
  v->split = dup_str(split);
  if (!v->id || !v->path || !v->full_path || !v->split) {
    free(v->id);
    free(v->path);
    free(v->full_path);
    free(v->split);
    free(labels);
    free(events);
    return lac_error_set(err, LAC_ERR_NOMEM, "out of memory for video '%s'", id);
  }
  v->action = action;
  v->fps = fps;
  v->n_frames = n_frames;
  ds->n_videos++;
  return LAC_OK;
}

lac_status lac_dataset_add_video(lac_dataset *ds, const char *id, const char *path,
                                 const char *split, int action, double fps, int64_t n_frames,
                                 const int32_t *labels, lac_error *err) {
  if (!ds || !id || !id[0] || !path || !path[0] || !split || !split[0] || !labels || n_frames < 1)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "a video needs an id, a path, a split and at least one labelled frame");
  if (action < 0 || action >= ds->n_actions)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "video '%s': action index %d is not defined",
                         id, action);
  if (!(fps >= 0) || !isfinite(fps))
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "video '%s': fps must be >= 0", id);
  lac_status st = check_labels(id, labels, n_frames, ds->actions[action].n_phases, err);
  if (st != LAC_OK) return st;
  int32_t *copy = malloc(sizeof *copy * (size_t)n_frames);
  if (!copy) return lac_error_set(err, LAC_ERR_NOMEM, "out of memory for video '%s'", id);
  memcpy(copy, labels, sizeof *copy * (size_t)n_frames);
  return push_video(ds, id, path, split, action, fps, n_frames, copy, NULL, 0, err);
}

/* ---------------------------------------------------------------- load */

static lac_status read_text(const char *path, char **out, lac_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return lac_error_set(err, LAC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  lac_status st = LAC_OK;
  char *buf = NULL;
  long n = -1;
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    st = lac_error_set(err, LAC_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
  } else if ((unsigned long)n > LAC_DATASET_FILE_MAX) {
    st = lac_error_set(err, LAC_ERR_FORMAT, "%s: %ld bytes is more than a labels file can be (%u)",
                       path, n, LAC_DATASET_FILE_MAX);
  } else if (!(buf = malloc((size_t)n + 1))) {
    st = lac_error_set(err, LAC_ERR_NOMEM, "%s: out of memory", path);
  } else if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
    st = lac_error_set(err, LAC_ERR_IO, "%s: short read", path);
  } else {
    buf[n] = '\0';
  }
  fclose(f);
  if (st != LAC_OK) {
    free(buf);
    return st;
  }
  *out = buf;
  return LAC_OK;
}

static const char *get_string(const cJSON *obj, const char *key) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(x) && x->valuestring ? x->valuestring : NULL;
}

/* An integer-valued JSON number in [lo, hi]. */
static int get_int(const cJSON *x, int64_t lo, int64_t hi, int64_t *out) {
  if (!cJSON_IsNumber(x)) return 0;
  double d = x->valuedouble;
  if (!(d >= (double)lo && d <= (double)hi) || d != floor(d)) return 0;
  *out = (int64_t)d;
  return 1;
}

static lac_status load_actions(lac_dataset *ds, const cJSON *actions, const char *path,
                               lac_error *err) {
  if (!cJSON_IsObject(actions) || !actions->child)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: \"actions\" must be an object mapping each action name to "
                         "{\"phases\": [names]}",
                         path);
  for (const cJSON *a = actions->child; a; a = a->next) {
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(a, "phases");
    int K = cJSON_IsArray(ph) ? cJSON_GetArraySize(ph) : 0;
    if (K < 1)
      return lac_error_set(err, LAC_ERR_FORMAT,
                           "%s: action '%s' needs \"phases\": a non-empty list of phase names",
                           path, a->string);
    const char **names = calloc((size_t)K, sizeof *names);
    if (!names) return lac_error_set(err, LAC_ERR_NOMEM, "out of memory");
    int k = 0;
    for (const cJSON *p = ph->child; p; p = p->next, k++) names[k] = cJSON_IsString(p) ? p->valuestring : NULL;
    for (k = 0; k < K; k++)
      if (!names[k] || !names[k][0]) break;
    lac_status st;
    if (k < K)
      st = lac_error_set(err, LAC_ERR_FORMAT, "%s: action '%s': phase %d is not a non-empty string",
                         path, a->string, k);
    else if (find_action(ds, a->string) >= 0)
      st = lac_error_set(err, LAC_ERR_FORMAT, "%s: action '%s' is defined twice", path, a->string);
    else
      st = lac_dataset_add_action(ds, a->string, K, names, NULL, err);
    free(names);
    if (st != LAC_OK) return st;
  }
  return LAC_OK;
}

static lac_status load_video(lac_dataset *ds, const cJSON *v, int index, const char *path,
                             lac_error *err) {
  if (!cJSON_IsObject(v))
    return lac_error_set(err, LAC_ERR_FORMAT, "%s: videos[%d] is not an object", path, index);
  const char *id = get_string(v, "id");
  if (!id || !id[0])
    return lac_error_set(err, LAC_ERR_FORMAT, "%s: videos[%d] needs a non-empty string \"id\"",
                         path, index);
  const char *vpath = get_string(v, "path"), *split = get_string(v, "split"),
             *action = get_string(v, "action");
  if (!vpath || !vpath[0] || !split || !split[0] || !action)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: video '%s' needs string fields \"path\", \"split\" and \"action\"",
                         path, id);
  int ai = find_action(ds, action);
  if (ai < 0)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: video '%s' names action '%s', which \"actions\" does not define",
                         path, id, action);
  const int K = ds->actions[ai].n_phases;
  double fps = 0;
  const cJSON *jf = cJSON_GetObjectItemCaseSensitive(v, "fps");
  if (jf) {
    if (!cJSON_IsNumber(jf) || !(jf->valuedouble > 0) || !isfinite(jf->valuedouble))
      return lac_error_set(err, LAC_ERR_FORMAT, "%s: video '%s': \"fps\" must be a positive number",
                           path, id);
    fps = jf->valuedouble;
  }
  int64_t n_frames = -1;
  const cJSON *jn = cJSON_GetObjectItemCaseSensitive(v, "n_frames");
  if (jn && !get_int(jn, 1, INT64_C(1) << 40, &n_frames))
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: video '%s': \"n_frames\" must be a positive integer", path, id);
  const cJSON *jl = cJSON_GetObjectItemCaseSensitive(v, "labels");
  const cJSON *je = cJSON_GetObjectItemCaseSensitive(v, "events");
  if (!jl && !je)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: video '%s' has neither \"labels\" (per-frame phases) nor \"events\" "
                         "(key-event frames): give one",
                         path, id);
  int32_t *labels = NULL;
  int64_t *events = NULL;
  int n_events = 0;
  lac_status st = LAC_OK;
  if (jl) {
    int64_t n = cJSON_IsArray(jl) ? cJSON_GetArraySize(jl) : -1;
    if (n < 1)
      return lac_error_set(err, LAC_ERR_FORMAT,
                           "%s: video '%s': \"labels\" must be a non-empty list of integers", path,
                           id);
    if (n_frames >= 0 && n != n_frames)
      return lac_error_set(err, LAC_ERR_FORMAT,
                           "%s: video '%s': %" PRId64 " labels for \"n_frames\" %" PRId64
                           ": give one label per frame",
                           path, id, n, n_frames);
    n_frames = n;
    if (!(labels = malloc(sizeof *labels * (size_t)n)))
      return lac_error_set(err, LAC_ERR_NOMEM, "out of memory for video '%s'", id);
    int64_t t = 0, x;
    for (const cJSON *e = jl->child; e; e = e->next, t++) {
      if (!get_int(e, -1, K - 1, &x)) {
        free(labels);
        return lac_error_set(err, LAC_ERR_FORMAT,
                             "%s: video '%s': label at frame %" PRId64
                             " must be an integer in [-1, %d) (action '%s' has %d phases)",
                             path, id, t, K, action, K);
      }
      labels[t] = (int32_t)x;
    }
  }
  if (je) {
    n_events = cJSON_IsArray(je) ? cJSON_GetArraySize(je) : -1;
    if (n_events != K - 1) {
      free(labels);
      return lac_error_set(err, LAC_ERR_FORMAT,
                           "%s: video '%s': \"events\" must list %d key-event frames (action '%s' "
                           "has %d phases), got %d",
                           path, id, K - 1, action, K, n_events < 0 ? 0 : n_events);
    }
    if (n_frames < 0) {
      free(labels);
      return lac_error_set(err, LAC_ERR_FORMAT,
                           "%s: video '%s': \"events\" without \"labels\" needs \"n_frames\"", path,
                           id);
    }
    if (n_events && !(events = malloc(sizeof *events * (size_t)n_events))) {
      free(labels);
      return lac_error_set(err, LAC_ERR_NOMEM, "out of memory for video '%s'", id);
    }
    int k = 0;
    for (const cJSON *e = je->child; e; e = e->next, k++)
      if (!get_int(e, 0, INT64_C(1) << 40, &events[k])) {
        free(labels);
        free(events);
        return lac_error_set(err, LAC_ERR_FORMAT,
                             "%s: video '%s': key event %d is not a non-negative integer", path, id,
                             k);
      }
    int32_t *from_events = malloc(sizeof *from_events * (size_t)n_frames);
    if (!from_events) {
      free(labels);
      free(events);
      return lac_error_set(err, LAC_ERR_NOMEM, "out of memory for video '%s'", id);
    }
    lac_error e2;
    st = lac_dataset_events_to_labels(events, n_events, n_frames, from_events, &e2);
    if (st != LAC_OK) {
      st = lac_error_set(err, LAC_ERR_FORMAT, "%s: video '%s': %s", path, id, e2.message);
    } else if (labels) {
      /* both given: they must describe the same phases where the labels say anything */
      for (int64_t t = 0; t < n_frames; t++)
        if (labels[t] >= 0 && labels[t] != from_events[t]) {
          st = lac_error_set(err, LAC_ERR_FORMAT,
                             "%s: video '%s': \"labels\" and \"events\" disagree at frame %" PRId64
                             " (label %" PRId32 ", events give %" PRId32 ")",
                             path, id, t, labels[t], from_events[t]);
          break;
        }
    }
    if (st != LAC_OK || labels) {
      free(from_events);
    } else {
      labels = from_events;
    }
    if (st != LAC_OK) {
      free(labels);
      free(events);
      return st;
    }
  }
  return push_video(ds, id, vpath, split, ai, fps, n_frames, labels, events, n_events, err);
}

lac_status lac_dataset_load(const char *path, lac_dataset **out, lac_error *err) {
  if (!path || !out) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_dataset_load: NULL argument");
  *out = NULL;
  struct stat sb;
  if (stat(path, &sb) != 0)
    return lac_error_set(err, LAC_ERR_IO, "%s: %s (give a dataset folder or its labels.json)", path,
                         strerror(errno));
  char *file, *root;
  if (S_ISDIR(sb.st_mode)) {
    root = dup_str(path);
    file = join_path(path, "labels.json");
  } else {
    file = dup_str(path);
    root = dup_str(path);
    if (root) {
      char *slash = strrchr(root, '/');
      if (slash) slash[slash == root ? 1 : 0] = '\0';
      else strcpy(root, ".");
    }
  }
  char *text = NULL;
  cJSON *j = NULL;
  lac_dataset *ds = NULL;
  lac_status st = LAC_OK;
  if (!file || !root) {
    st = lac_error_set(err, LAC_ERR_NOMEM, "out of memory");
    goto done;
  }
  if ((st = read_text(file, &text, err)) != LAC_OK) goto done;
  if (!(j = cJSON_Parse(text)) || !cJSON_IsObject(j)) {
    st = lac_error_set(err, LAC_ERR_FORMAT, "%s: not a JSON object (a lac dataset labels file)",
                       file);
    goto done;
  }
  const char *fmt = get_string(j, "format");
  if (!fmt || strcmp(fmt, LAC_DATASET_FORMAT) != 0) {
    st = lac_error_set(err, LAC_ERR_FORMAT,
                       "%s: \"format\" is '%s', expected '" LAC_DATASET_FORMAT
                       "' (see docs/dataset.md; tools/import_dataset.py converts CARL/TCC files)",
                       file, fmt ? fmt : "(missing)");
    goto done;
  }
  int64_t version;
  if (!get_int(cJSON_GetObjectItemCaseSensitive(j, "version"), 1, 1 << 20, &version) ||
      version != LAC_DATASET_VERSION) {
    st = lac_error_set(err, LAC_ERR_FORMAT,
                       "%s: unsupported \"version\" (this build reads version %d)", file,
                       LAC_DATASET_VERSION);
    goto done;
  }
  if ((st = lac_dataset_new(root, get_string(j, "name"), &ds, err)) != LAC_OK) goto done;
  if ((st = load_actions(ds, cJSON_GetObjectItemCaseSensitive(j, "actions"), file, err)) != LAC_OK)
    goto done;
  const cJSON *videos = cJSON_GetObjectItemCaseSensitive(j, "videos");
  if (!cJSON_IsArray(videos)) {
    st = lac_error_set(err, LAC_ERR_FORMAT, "%s: \"videos\" must be a list", file);
    goto done;
  }
  int i = 0;
  for (const cJSON *v = videos->child; v; v = v->next, i++)
    if ((st = load_video(ds, v, i, file, err)) != LAC_OK) goto done;
done:
  cJSON_Delete(j);
  free(text);
  free(file);
  free(root);
  if (st != LAC_OK) {
    lac_dataset_free(ds);
    return st;
  }
  *out = ds;
  return LAC_OK;
}

/* ---------------------------------------------------------------- save */

static int write_json(FILE *fp, void *user) {
  const char *s = user;
  size_t n = strlen(s);
  return fwrite(s, 1, n, fp) == n && fputc('\n', fp) != EOF;
}

lac_status lac_dataset_save(const lac_dataset *ds, const char *path, lac_error *err) {
  if (!ds || !path) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_dataset_save: NULL argument");
  cJSON *j = cJSON_CreateObject();
  int ok = j != NULL;
  ok = ok && cJSON_AddStringToObject(j, "format", LAC_DATASET_FORMAT);
  ok = ok && cJSON_AddNumberToObject(j, "version", LAC_DATASET_VERSION);
  if (ok && ds->name) ok = cJSON_AddStringToObject(j, "name", ds->name) != NULL;
  cJSON *actions = ok ? cJSON_AddObjectToObject(j, "actions") : NULL;
  ok = ok && actions;
  for (int i = 0; ok && i < ds->n_actions; i++) {
    cJSON *a = cJSON_AddObjectToObject(actions, ds->actions[i].name);
    cJSON *ph = a ? cJSON_CreateStringArray((const char *const *)ds->actions[i].phases,
                                            ds->actions[i].n_phases)
                  : NULL;
    ok = a && ph && cJSON_AddItemToObject(a, "phases", ph);
  }
  cJSON *videos = ok ? cJSON_AddArrayToObject(j, "videos") : NULL;
  ok = ok && videos;
  for (int i = 0; ok && i < ds->n_videos; i++) {
    const lac_dataset_video *v = &ds->videos[i];
    cJSON *o = cJSON_CreateObject();
    ok = o && cJSON_AddItemToArray(videos, o);
    ok = ok && cJSON_AddStringToObject(o, "id", v->id);
    ok = ok && cJSON_AddStringToObject(o, "path", v->path);
    ok = ok && cJSON_AddStringToObject(o, "split", v->split);
    ok = ok && cJSON_AddStringToObject(o, "action", ds->actions[v->action].name);
    ok = ok && cJSON_AddNumberToObject(o, "n_frames", (double)v->n_frames);
    if (ok && v->fps > 0) ok = cJSON_AddNumberToObject(o, "fps", v->fps) != NULL;
    cJSON *l = ok ? cJSON_AddArrayToObject(o, "labels") : NULL;
    ok = ok && l;
    for (int64_t t = 0; ok && t < v->n_frames; t++)
      ok = cJSON_AddItemToArray(l, cJSON_CreateNumber(v->labels[t]));
    if (ok && v->events) {
      cJSON *e = cJSON_AddArrayToObject(o, "events");
      ok = e != NULL;
      for (int k = 0; ok && k < v->n_events; k++)
        ok = cJSON_AddItemToArray(e, cJSON_CreateNumber((double)v->events[k]));
    }
  }
  /* unformatted keeps the per-frame label lists on one line each; still readable JSON */
  char *text = ok ? cJSON_PrintUnformatted(j) : NULL;
  cJSON_Delete(j);
  if (!text) return lac_error_set(err, LAC_ERR_NOMEM, "%s: out of memory building the labels file", path);
  lac_status st = lac_write_file_atomic(path, write_json, text, err);
  cJSON_free(text);
  return st;
}
