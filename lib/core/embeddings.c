/* embeddings.c — lac embeddings files: allocation, writing and strict reading (see lac.h).
 *
 * A file is safetensors with an F32 tensor "embeddings" [n, dim], optional I64 "timestamps"
 * [n] and I64 "labels" [n], and metadata lac.format = "lac-embeddings", lac.version = "1",
 * (when known) lac.model_id and (optional) lac.phase_names, a JSON list of strings naming the
 * label values 0, 1, ...  Reading checks all of that, rejects unknown tensors and NaN/Inf,
 * and says what a wrong file seems to be (e.g. a model file).  Files without
 * lac.phase_names (older writers) read with no names.
 *
 * Deliberately not done: byte swapping (big-endian hosts are refused), conversion of other
 * dtypes, interpretation of timestamps or labels.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lac/lac.h"
#include "lac/safetensors.h"

#define FORMAT_NAME "lac-embeddings"
#define FORMAT_VERSION "1"
#define MODEL_ID_CAP sizeof(((lac_embeddings *)0)->model_id)

/* Data are stored little-endian and copied as is. */
static lac_status check_host(const char *path, lac_error *err) {
  const uint16_t one = 1;
  unsigned char b;
  memcpy(&b, &one, 1);
  return b ? LAC_OK
           : lac_error_set(err, LAC_ERR_UNSUPPORTED,
                           "%s: embeddings files are little-endian; this big-endian host is "
                           "not supported",
                           path);
}

lac_status lac_embeddings_new(int64_t n, int64_t dim, int with_timestamps, int with_labels,
                              lac_embeddings **out, lac_error *err) {
  if (!out) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_embeddings_new: out is NULL");
  *out = NULL;
  if (n < 0 || dim < 1 || (n > 0 && (uint64_t)dim > SIZE_MAX / sizeof(float) / (uint64_t)n) ||
      (uint64_t)n > SIZE_MAX / sizeof(int64_t))
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_embeddings_new: n = %" PRId64 ", dim = %" PRId64
                         ", expected n >= 0, dim >= 1 and n * dim floats fitting in memory",
                         n, dim);
  lac_embeddings *e = calloc(1, sizeof *e);
  size_t rows = n ? (size_t)n : 1; /* never calloc(0): a present array is non-NULL */
  if (e) {
    e->n = n;
    e->dim = dim;
    e->data = calloc(rows * (size_t)dim, sizeof(float));
    if (with_timestamps) e->timestamps = calloc(rows, sizeof(int64_t));
    if (with_labels) e->labels = calloc(rows, sizeof(int64_t));
  }
  if (!e || !e->data || (with_timestamps && !e->timestamps) || (with_labels && !e->labels)) {
    lac_embeddings_free(e);
    return lac_error_set(err, LAC_ERR_NOMEM,
                         "lac_embeddings_new: out of memory for %" PRId64 " x %" PRId64, n, dim);
  }
  *out = e;
  return LAC_OK;
}

static void free_names(char **names, int64_t n) {
  for (int64_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

lac_status lac_embeddings_set_phase_names(lac_embeddings *emb, int64_t n, const char *const *names,
                                          lac_error *err) {
  if (!emb || n < 0 || (n > 0 && !names))
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "lac_embeddings_set_phase_names: NULL embeddings or names, or n < 0");
  for (int64_t i = 0; i < n; i++)
    if (!names[i])
      return lac_error_set(err, LAC_ERR_INVALID_ARG,
                           "lac_embeddings_set_phase_names: name %" PRId64 " is NULL", i);
  char **copy = n ? calloc((size_t)n, sizeof *copy) : NULL;
  if (n && !copy) return lac_error_set(err, LAC_ERR_NOMEM, "out of memory for phase names");
  for (int64_t i = 0; i < n; i++) {
    size_t len = strlen(names[i]) + 1;
    if (!(copy[i] = malloc(len))) {
      free_names(copy, i);
      return lac_error_set(err, LAC_ERR_NOMEM, "out of memory for phase names");
    }
    memcpy(copy[i], names[i], len);
  }
  free_names(emb->phase_names, emb->n_phase_names);
  emb->phase_names = copy;
  emb->n_phase_names = n;
  return LAC_OK;
}

void lac_embeddings_free(lac_embeddings *emb) {
  if (!emb) return;
  free_names(emb->phase_names, emb->n_phase_names);
  free(emb->data);
  free(emb->timestamps);
  free(emb->labels);
  free(emb);
}

/* LAC_ERR_NUMERIC naming the first non-finite value of data (n x dim). */
static lac_status check_finite(const char *path, const float *data, int64_t n, int64_t dim,
                               lac_error *err) {
  for (int64_t r = 0; r < n; r++)
    for (int64_t c = 0; c < dim; c++) {
      float v = data[r * dim + c];
      if (!isfinite(v)) {
        const char *what = isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
        return lac_error_set(err, LAC_ERR_NUMERIC,
                             "%s: embeddings row %" PRId64 " column %" PRId64 " is %s", path, r, c,
                             what);
      }
    }
  return LAC_OK;
}

lac_status lac_embeddings_write(const char *path, const lac_embeddings *emb, lac_error *err) {
  if (!path || !emb)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_embeddings_write: NULL argument");
  lac_status st = check_host(path, err);
  if (st) return st;
  if (emb->n < 0 || emb->dim < 1 || (emb->n > 0 && !emb->data))
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "%s: embeddings n = %" PRId64 ", dim = %" PRId64 ", data %s; expected "
                         "n >= 0, dim >= 1 and data for n > 0",
                         path, emb->n, emb->dim, emb->data ? "set" : "NULL");
  if (!memchr(emb->model_id, '\0', sizeof emb->model_id))
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "%s: model_id is not NUL-terminated within %zu bytes", path,
                         sizeof emb->model_id);
  if ((st = check_finite(path, emb->data, emb->n, emb->dim, err))) return st;

  lac_st_writer *w;
  if ((st = lac_st_writer_new(&w, err))) return st;
  const int64_t shape[2] = {emb->n, emb->dim};
  st = lac_st_writer_meta(w, "lac.format", FORMAT_NAME, err);
  if (!st) st = lac_st_writer_meta(w, "lac.version", FORMAT_VERSION, err);
  if (!st && emb->model_id[0]) st = lac_st_writer_meta(w, "lac.model_id", emb->model_id, err);
  if (!st && emb->n_phase_names > 0) {
    /* a JSON list of strings as the metadata value (safetensors metadata are strings) */
    cJSON *list = cJSON_CreateArray();
    char *json = NULL;
    for (int64_t i = 0; list && i < emb->n_phase_names; i++) {
      cJSON *item = emb->phase_names[i] ? cJSON_CreateString(emb->phase_names[i]) : NULL;
      if (!item || !cJSON_AddItemToArray(list, item)) {
        cJSON_Delete(item);
        cJSON_Delete(list);
        list = NULL;
      }
    }
    if (list) json = cJSON_PrintUnformatted(list);
    cJSON_Delete(list);
    st = json ? lac_st_writer_meta(w, "lac.phase_names", json, err)
              : lac_error_set(err, LAC_ERR_INVALID_ARG,
                              "%s: phase names must be %" PRId64 " non-NULL strings", path,
                              emb->n_phase_names);
    free(json);
  }
  if (!st) st = lac_st_writer_add(w, "embeddings", LAC_DTYPE_F32, 2, shape, emb->data, err);
  if (!st && emb->timestamps)
    st = lac_st_writer_add(w, "timestamps", LAC_DTYPE_I64, 1, shape, emb->timestamps, err);
  if (!st && emb->labels)
    st = lac_st_writer_add(w, "labels", LAC_DTYPE_I64, 1, shape, emb->labels, err);
  if (!st) st = lac_st_writer_write(w, path, err);
  lac_st_writer_free(w);
  return st;
}

/* What a file that is not an embeddings file seems to be, for the error message. */
static const char *guess_kind(const lac_st_file *f) {
  const char *fmt = lac_st_meta_get(f, "lac.format");
  if (fmt && strstr(fmt, "model")) return "a lac model file";
  for (size_t i = 0; i < lac_st_meta_count(f); i++)
    if (!strncmp(lac_st_meta_key(f, i), "lac.arch.", 9)) return "a lac model file";
  if (fmt) return "a file of another lac format";
  if (lac_st_count(f) == 0) return "an empty safetensors file";
  if (lac_st_find(f, "embeddings")) return "an embeddings file from another tool";
  return "a safetensors file of weights or other tensors (e.g. a PyTorch state_dict)";
}

/* Check that tensor t has the dtype and rank expected. */
static lac_status check_tensor(const char *path, const lac_st_tensor *t, lac_dtype dtype, int ndim,
                               lac_error *err) {
  if (t->dtype != dtype || t->ndim != ndim)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: tensor '%s' is %s of rank %d, expected %s of rank %d", path, t->name,
                         lac_dtype_name(t->dtype), t->ndim, lac_dtype_name(dtype), ndim);
  return LAC_OK;
}

/* lac.phase_names (NULL: absent) into e: a JSON list of strings, else LAC_ERR_FORMAT. */
static lac_status read_phase_names(const char *path, const char *json, lac_embeddings *e,
                                   lac_error *err) {
  if (!json) return LAC_OK;
  cJSON *list = cJSON_Parse(json);
  int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : -1;
  for (int i = 0; i < n; i++)
    if (!cJSON_IsString(cJSON_GetArrayItem(list, i))) n = -1;
  if (n < 0) {
    cJSON_Delete(list);
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: lac.phase_names is not a JSON list of strings (it names the label "
                         "values 0, 1, ...)",
                         path);
  }
  const char **names = n ? malloc(sizeof *names * (size_t)n) : NULL;
  lac_status st = LAC_OK;
  if (n && !names) st = lac_error_set(err, LAC_ERR_NOMEM, "out of memory for phase names");
  for (int i = 0; !st && i < n; i++) names[i] = cJSON_GetArrayItem(list, i)->valuestring;
  if (!st) st = lac_embeddings_set_phase_names(e, n, names, err);
  free(names);
  cJSON_Delete(list);
  return st;
}

/* Validate the opened file and copy it into a new lac_embeddings. */
static lac_status read_file(const char *path, const lac_st_file *f, lac_embeddings **out,
                            lac_error *err) {
  const char *fmt = lac_st_meta_get(f, "lac.format");
  if (!fmt || strcmp(fmt, FORMAT_NAME))
    return lac_error_set(
        err, LAC_ERR_FORMAT,
        "%s: not a lac embeddings file: lac.format is %s%s%s, expected '" FORMAT_NAME
        "'; the file seems to be %s",
        path, fmt ? "'" : "missing", fmt ? fmt : "", fmt ? "'" : "", guess_kind(f));
  const char *ver = lac_st_meta_get(f, "lac.version");
  if (!ver)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: lac.version metadata missing, expected '" FORMAT_VERSION "'", path);
  if (strcmp(ver, FORMAT_VERSION))
    return lac_error_set(
        err, LAC_ERR_UNSUPPORTED,
        "%s: embeddings format version '%s', this library reads version '" FORMAT_VERSION "'", path,
        ver);
  const char *model_id = lac_st_meta_get(f, "lac.model_id");
  if (model_id && strlen(model_id) >= MODEL_ID_CAP)
    return lac_error_set(err, LAC_ERR_FORMAT, "%s: lac.model_id is %zu bytes, expected at most %zu",
                         path, strlen(model_id), MODEL_ID_CAP - 1);

  const lac_st_tensor *emb = NULL, *ts = NULL, *lab = NULL;
  lac_status st;
  for (size_t i = 0; i < lac_st_count(f); i++) {
    const lac_st_tensor *t = lac_st_at(f, i);
    if (!strcmp(t->name, "embeddings"))
      emb = t;
    else if (!strcmp(t->name, "timestamps"))
      ts = t;
    else if (!strcmp(t->name, "labels"))
      lab = t;
    else
      return lac_error_set(err, LAC_ERR_FORMAT,
                           "%s: unknown tensor '%s', expected only embeddings, timestamps, labels",
                           path, t->name);
  }
  if (!emb) return lac_error_set(err, LAC_ERR_FORMAT, "%s: tensor 'embeddings' missing", path);
  if ((st = check_tensor(path, emb, LAC_DTYPE_F32, 2, err))) return st;
  int64_t n = emb->shape[0], dim = emb->shape[1];
  if (dim < 1)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: tensor 'embeddings' has shape [%" PRId64 ", %" PRId64
                         "], expected dim >= 1",
                         path, n, dim);
  const lac_st_tensor *opt[2] = {ts, lab};
  for (int i = 0; i < 2; i++) {
    if (!opt[i]) continue;
    if ((st = check_tensor(path, opt[i], LAC_DTYPE_I64, 1, err))) return st;
    if (opt[i]->shape[0] != n)
      return lac_error_set(err, LAC_ERR_FORMAT,
                           "%s: tensor '%s' has %" PRId64 " entries, expected %" PRId64
                           " (one per embedding)",
                           path, opt[i]->name, opt[i]->shape[0], n);
  }

  lac_embeddings *e;
  if ((st = lac_embeddings_new(n, dim, ts != NULL, lab != NULL, &e, err))) return st;
  memcpy(e->data, emb->data, emb->n_bytes);
  if (ts) memcpy(e->timestamps, ts->data, ts->n_bytes);
  if (lab) memcpy(e->labels, lab->data, lab->n_bytes);
  if (model_id) strcpy(e->model_id, model_id);
  if ((st = check_finite(path, e->data, n, dim, err)) ||
      (st = read_phase_names(path, lac_st_meta_get(f, "lac.phase_names"), e, err))) {
    lac_embeddings_free(e);
    return st;
  }
  *out = e;
  return LAC_OK;
}

lac_status lac_embeddings_read(const char *path, lac_embeddings **out, lac_error *err) {
  if (!path || !out)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_embeddings_read: NULL argument");
  *out = NULL;
  lac_status st = check_host(path, err);
  if (st) return st;
  lac_st_file *f;
  if ((st = lac_st_read(path, &f, err))) return st;
  st = read_file(path, f, out, err);
  lac_st_free(f);
  return st;
}
