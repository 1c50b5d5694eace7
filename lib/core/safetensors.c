/* safetensors.c — strict safetensors reader and atomic writer (see lac/safetensors.h).
 *
 * Reader: the whole file (or a copy of the caller's buffer) goes into one allocation; the
 * JSON header is parsed with cJSON from a NUL-terminated copy and every rule of the header
 * comment is checked before a lac_st_file is returned, so callers can trust shapes, sizes and
 * data pointers.  Error messages name the source ("buffer" or the path), the entry, and what
 * was expected versus found.
 * Writer: builds the header JSON by hand (exact integers, no exponent notation), pads it with
 * spaces so the data section starts 8-byte aligned, and writes through a mkstemp temporary
 * file in the target's folder that is fsync'ed and renamed over the target.
 *
 * Deliberately not done: memory mapping, byte swapping (data is host order; little-endian
 * hosts only, which the embeddings and model code check), interpreting names or metadata.
 */
#include "lac/safetensors.h"
#include "core/fileio.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 2^53: JSON numbers at or above are rejected (doubles are no longer exact there) */
#define MAX_EXACT_INT 9007199254740992.0
#define MAX_EXACT_INT_I ((int64_t)1 << 53)

static const char *const dtype_names[] = {"F64", "F32", "F16", "BF16", "I64", "I32", "I16",
                                          "I8",  "U64", "U32", "U16",  "U8",  "BOOL"};
static const size_t dtype_sizes[] = {8, 4, 2, 2, 8, 4, 2, 1, 8, 4, 2, 1, 1};
#define N_DTYPES (sizeof dtype_sizes / sizeof dtype_sizes[0])

const char *lac_dtype_name(lac_dtype dt) {
  return (unsigned)dt < N_DTYPES ? dtype_names[dt] : NULL;
}

size_t lac_dtype_size(lac_dtype dt) { return (unsigned)dt < N_DTYPES ? dtype_sizes[dt] : 0; }

/* Element count and byte size of a shape; 0 on overflow.  A zero dim makes the count 0 even
 * when the other dims multiply past 2^64. */
static int shape_size(int ndim, const int64_t *shape, size_t elem, uint64_t *count,
                      uint64_t *bytes) {
  uint64_t n = 1;
  for (int i = 0; i < ndim; i++)
    if (shape[i] == 0) n = 0;
  for (int i = 0; i < ndim && n != 0; i++) {
    uint64_t d = (uint64_t)shape[i];
    if (n > UINT64_MAX / d) return 0;
    n *= d;
  }
  if (n != 0 && n > UINT64_MAX / elem) return 0;
  *count = n;
  *bytes = n * elem;
  return 1;
}

/* "[16, 3, 3, 3]" into buf (truncated with "..." if it does not fit). */
static const char *shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
  size_t len = (size_t)snprintf(buf, cap, "[");
  for (int i = 0; i < ndim && len < cap; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%s%" PRId64, i ? ", " : "", shape[i]);
  if (len < cap) snprintf(buf + len, cap - len, "]");
  return buf;
}

/* ================================================================ reader */

typedef struct {
  const char *key, *value; /* point into root */
} st_meta;

struct lac_st_file {
  unsigned char *buf; /* whole file */
  size_t len;
  cJSON *root;            /* parsed header; names and metadata strings point into it */
  lac_st_tensor *tensors; /* sorted by data offset */
  size_t *by_name;        /* indices into tensors, sorted by name */
  size_t n_tensors;
  st_meta *meta; /* in file order */
  size_t n_meta;
};

void lac_st_free(lac_st_file *f) {
  if (!f) return;
  cJSON_Delete(f->root);
  free(f->buf);
  free(f->tensors);
  free(f->by_name);
  free(f->meta);
  free(f);
}

static const char *json_type(const cJSON *j) {
  if (cJSON_IsObject(j)) return "an object";
  if (cJSON_IsArray(j)) return "an array";
  if (cJSON_IsString(j)) return "a string";
  if (cJSON_IsNumber(j)) return "a number";
  if (cJSON_IsBool(j)) return "a boolean";
  if (cJSON_IsNull(j)) return "null";
  return "an invalid value";
}

/* A non-negative integral JSON number below 2^53 into *out; 0 otherwise. */
static int json_uint(const cJSON *j, uint64_t *out) {
  if (!cJSON_IsNumber(j)) return 0;
  double v = j->valuedouble;
  if (!(v >= 0 && v < MAX_EXACT_INT) || (double)(uint64_t)v != v) return 0;
  *out = (uint64_t)v;
  return 1;
}

/* What a bad number is, for messages. */
static const char *bad_uint_why(const cJSON *j) {
  if (!cJSON_IsNumber(j)) return json_type(j);
  double v = j->valuedouble;
  if (v < 0) return "negative";
  if (v >= MAX_EXACT_INT || v != v) return "too large (>= 2^53)";
  return "not an integer";
}

/* Parse one tensor entry `e` named e->string into *t and its begin offset.  data_len is the
 * size of the data section. */
static lac_status parse_tensor(const char *src, const cJSON *e, uint64_t data_len, lac_st_tensor *t,
                               uint64_t *begin_out, lac_error *err) {
  const char *name = e->string;
  if (!cJSON_IsObject(e))
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: tensor '%s': entry is %s, expected an object with dtype, shape "
                         "and data_offsets",
                         src, name, json_type(e));
  const cJSON *dtype = NULL, *shape = NULL, *offsets = NULL;
  for (const cJSON *c = e->child; c; c = c->next) {
    const cJSON **slot = !strcmp(c->string, "dtype")          ? &dtype
                         : !strcmp(c->string, "shape")        ? &shape
                         : !strcmp(c->string, "data_offsets") ? &offsets
                                                              : NULL;
    if (!slot)
      return lac_error_set(err, LAC_ERR_FORMAT,
                           "%s: tensor '%s': unknown field '%s', expected only dtype, shape, "
                           "data_offsets",
                           src, name, c->string);
    if (*slot)
      return lac_error_set(err, LAC_ERR_FORMAT, "%s: tensor '%s': field '%s' appears twice", src,
                           name, c->string);
    *slot = c;
  }
  const char *missing = !dtype ? "dtype" : !shape ? "shape" : !offsets ? "data_offsets" : NULL;
  if (missing)
    return lac_error_set(err, LAC_ERR_FORMAT, "%s: tensor '%s': missing field '%s'", src, name,
                         missing);

  if (!cJSON_IsString(dtype))
    return lac_error_set(err, LAC_ERR_FORMAT, "%s: tensor '%s': dtype is %s, expected a string",
                         src, name, json_type(dtype));
  size_t d = 0;
  while (d < N_DTYPES && strcmp(dtype->valuestring, dtype_names[d])) d++;
  if (d == N_DTYPES)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: tensor '%s': unknown dtype '%s', expected one of F64 F32 F16 BF16 "
                         "I64 I32 I16 I8 U64 U32 U16 U8 BOOL",
                         src, name, dtype->valuestring);
  t->dtype = (lac_dtype)d;

  if (!cJSON_IsArray(shape))
    return lac_error_set(err, LAC_ERR_FORMAT, "%s: tensor '%s': shape is %s, expected an array",
                         src, name, json_type(shape));
  int ndim = 0;
  for (const cJSON *c = shape->child; c; c = c->next, ndim++) {
    uint64_t v;
    if (ndim == LAC_ST_MAX_DIMS)
      return lac_error_set(err, LAC_ERR_FORMAT,
                           "%s: tensor '%s': shape has %d dims, expected at most %d", src, name,
                           cJSON_GetArraySize(shape), LAC_ST_MAX_DIMS);
    if (!json_uint(c, &v))
      return lac_error_set(err, LAC_ERR_FORMAT,
                           "%s: tensor '%s': shape[%d] is %s, expected a non-negative integer", src,
                           name, ndim, bad_uint_why(c));
    t->shape[ndim] = (int64_t)v;
  }
  t->ndim = ndim;

  uint64_t off[2];
  if (!cJSON_IsArray(offsets))
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets is %s, expected an array of 2 integers",
                         src, name, json_type(offsets));
  if (cJSON_GetArraySize(offsets) != 2)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets has %d entries, expected 2", src, name,
                         cJSON_GetArraySize(offsets));
  for (int i = 0; i < 2; i++) {
    const cJSON *c = cJSON_GetArrayItem(offsets, i);
    if (!json_uint(c, &off[i]))
      return lac_error_set(err, LAC_ERR_FORMAT,
                           "%s: tensor '%s': data_offsets[%d] is %s, expected a non-negative "
                           "integer",
                           src, name, i, bad_uint_why(c));
  }
  if (off[0] > off[1])
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                         "], expected begin <= end",
                         src, name, off[0], off[1]);

  char sbuf[200];
  if (!shape_size(ndim, t->shape, dtype_sizes[d], &t->n_elements, &t->n_bytes))
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: tensor '%s': size of %s shape %s overflows 64 bits", src, name,
                         dtype_names[d], shape_str(sbuf, sizeof sbuf, ndim, t->shape));
  if (off[1] - off[0] != t->n_bytes)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets span %" PRIu64 " bytes, expected %" PRIu64
                         " (%s shape %s)",
                         src, name, off[1] - off[0], t->n_bytes, dtype_names[d],
                         shape_str(sbuf, sizeof sbuf, ndim, t->shape));
  if (off[1] > data_len)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                         "] extend beyond the data section of %" PRIu64 " bytes",
                         src, name, off[0], off[1], data_len);
  t->name = name;
  *begin_out = off[0];
  return LAC_OK;
}

static int cmp_meta(const void *a, const void *b) {
  return strcmp(((const st_meta *)a)->key, ((const st_meta *)b)->key);
}

static lac_status parse_metadata(const char *src, const cJSON *m, lac_st_file *f, lac_error *err) {
  if (!cJSON_IsObject(m))
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: __metadata__ is %s, expected an object of strings", src,
                         json_type(m));
  size_t n = 0;
  for (const cJSON *c = m->child; c; c = c->next) n++;
  f->meta = malloc((n ? n : 1) * sizeof *f->meta);
  st_meta *sorted = malloc((n ? n : 1) * sizeof *sorted);
  lac_status st = LAC_OK;
  if (!f->meta || !sorted) {
    st = lac_error_set(err, LAC_ERR_NOMEM, "%s: out of memory for metadata", src);
    goto done;
  }
  for (const cJSON *c = m->child; c; c = c->next) {
    if (!cJSON_IsString(c)) {
      st = lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: __metadata__ key '%s': value is %s, expected a string", src,
                         c->string, json_type(c));
      goto done;
    }
    f->meta[f->n_meta++] = (st_meta){c->string, c->valuestring};
  }
  memcpy(sorted, f->meta, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, cmp_meta);
  for (size_t i = 1; i < n; i++)
    if (!strcmp(sorted[i - 1].key, sorted[i].key)) {
      st = lac_error_set(err, LAC_ERR_FORMAT, "%s: __metadata__ key '%s' appears twice", src,
                         sorted[i].key);
      goto done;
    }
done:
  free(sorted);
  return st;
}

/* A tensor's data range, for sorting by (begin, end, name) and by name. */
typedef struct {
  uint64_t begin, end;
  size_t idx;
  const char *name;
} order_key;

static int cmp_offset(const void *a, const void *b) {
  const order_key *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return strcmp(x->name, y->name);
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const order_key *)a)->name, ((const order_key *)b)->name);
}

/* Validate f->buf (f->len bytes); fills f.  src names the source in messages. */
static lac_status parse_file(const char *src, lac_st_file *f, lac_error *err) {
  if (f->len < 8)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: file is %zu bytes, shorter than the 8-byte header length", src,
                         f->len);
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--) hlen = hlen << 8 | f->buf[i];
  if (hlen > LAC_ST_HEADER_MAX)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: header length %" PRIu64 " exceeds the limit of %u bytes", src, hlen,
                         LAC_ST_HEADER_MAX);
  if (hlen > f->len - 8)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: header length %" PRIu64 " extends beyond the end of the file (%zu "
                         "bytes after the length field)",
                         src, hlen, f->len - 8);
  uint64_t data_len = f->len - 8 - hlen;
  const unsigned char *data = f->buf + 8 + hlen;

  /* Parse from a NUL-terminated copy so cJSON can never read past the header. */
  char *text = malloc(hlen + 1);
  if (!text) return lac_error_set(err, LAC_ERR_NOMEM, "%s: out of memory for the header", src);
  memcpy(text, f->buf + 8, hlen);
  text[hlen] = '\0';
  const char *end = NULL;
  f->root = cJSON_ParseWithLengthOpts(text, hlen, &end, 0);
  size_t pos = end ? (size_t)(end - text) : 0;
  if (f->root) /* only JSON whitespace may follow (writers pad with spaces) */
    while (pos < hlen && text[pos] && strchr(" \t\r\n", text[pos])) pos++;
  free(text);
  if (!f->root)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: header is not valid JSON (error at byte %zu of %" PRIu64 ")", src,
                         pos, hlen);
  if (pos != hlen)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: header has non-whitespace bytes after the JSON object (at byte "
                         "%zu of %" PRIu64 ")",
                         src, pos, hlen);
  if (!cJSON_IsObject(f->root))
    return lac_error_set(err, LAC_ERR_FORMAT, "%s: header is %s, expected a JSON object", src,
                         json_type(f->root));

  size_t n = 0;
  for (const cJSON *c = f->root->child; c; c = c->next) n++;
  f->tensors = calloc(n ? n : 1, sizeof *f->tensors);
  f->by_name = calloc(n ? n : 1, sizeof *f->by_name);
  order_key *keys = calloc(n ? n : 1, sizeof *keys);
  lac_status st = LAC_OK;
  if (!f->tensors || !f->by_name || !keys) {
    st = lac_error_set(err, LAC_ERR_NOMEM, "%s: out of memory for %zu header entries", src, n);
    goto done;
  }
  int have_meta = 0;
  size_t nt = 0;
  for (const cJSON *c = f->root->child; c; c = c->next) {
    if (!strcmp(c->string, "__metadata__")) {
      if (have_meta) {
        st = lac_error_set(err, LAC_ERR_FORMAT, "%s: __metadata__ appears twice", src);
        goto done;
      }
      have_meta = 1;
      if ((st = parse_metadata(src, c, f, err))) goto done;
      continue;
    }
    if (!c->string[0]) {
      st = lac_error_set(err, LAC_ERR_FORMAT, "%s: a tensor has an empty name", src);
      goto done;
    }
    uint64_t begin;
    if ((st = parse_tensor(src, c, data_len, &f->tensors[nt], &begin, err))) goto done;
    keys[nt] = (order_key){begin, begin + f->tensors[nt].n_bytes, nt, c->string};
    nt++;
  }

  /* Duplicate names. */
  qsort(keys, nt, sizeof *keys, cmp_name);
  for (size_t i = 1; i < nt; i++)
    if (!strcmp(keys[i - 1].name, keys[i].name)) {
      st = lac_error_set(err, LAC_ERR_FORMAT, "%s: tensor '%s' appears twice", src, keys[i].name);
      goto done;
    }

  /* Tiling: sorted by offset, each tensor starts where the previous one ended. */
  qsort(keys, nt, sizeof *keys, cmp_offset);
  uint64_t at = 0;
  const char *prev = NULL;
  for (size_t i = 0; i < nt; i++) {
    if (keys[i].begin > at) {
      if (prev)
        st = lac_error_set(err, LAC_ERR_FORMAT,
                           "%s: tensor '%s': gap of %" PRIu64 " bytes before its data "
                           "(data_offsets begin at %" PRIu64 ", tensor '%s' ends at %" PRIu64 ")",
                           src, keys[i].name, keys[i].begin - at, keys[i].begin, prev, at);
      else
        st = lac_error_set(err, LAC_ERR_FORMAT,
                           "%s: tensor '%s': gap of %" PRIu64 " bytes before its data "
                           "(data_offsets begin at %" PRIu64 ", expected the first tensor at 0)",
                           src, keys[i].name, keys[i].begin, keys[i].begin);
      goto done;
    }
    if (keys[i].begin < at) {
      st = lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets begin %" PRIu64
                         " overlaps tensor '%s', which ends at %" PRIu64,
                         src, keys[i].name, keys[i].begin, prev, at);
      goto done;
    }
    at = keys[i].end;
    prev = keys[i].name;
  }
  if (at != data_len) {
    if (prev)
      st = lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: %" PRIu64 " trailing bytes after the last tensor ('%s' ends at "
                         "%" PRIu64 ", data section is %" PRIu64 " bytes)",
                         src, data_len - at, prev, at, data_len);
    else
      st = lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: %" PRIu64 " trailing bytes in the data section but no tensors", src,
                         data_len);
    goto done;
  }

  /* Reorder tensors by offset; index them by name. */
  lac_st_tensor *sorted = malloc((nt ? nt : 1) * sizeof *sorted);
  if (!sorted) {
    st = lac_error_set(err, LAC_ERR_NOMEM, "%s: out of memory", src);
    goto done;
  }
  for (size_t i = 0; i < nt; i++) {
    sorted[i] = f->tensors[keys[i].idx];
    sorted[i].data = data + keys[i].begin;
    keys[i].idx = i;
  }
  free(f->tensors);
  f->tensors = sorted;
  f->n_tensors = nt;
  qsort(keys, nt, sizeof *keys, cmp_name);
  for (size_t i = 0; i < nt; i++) f->by_name[i] = keys[i].idx;

done:
  free(keys);
  return st;
}

/* Takes ownership of buf. */
static lac_status parse_owned(const char *src, unsigned char *buf, size_t len, lac_st_file **out,
                              lac_error *err) {
  lac_st_file *f = calloc(1, sizeof *f);
  if (!f) {
    free(buf);
    return lac_error_set(err, LAC_ERR_NOMEM, "%s: out of memory", src);
  }
  f->buf = buf;
  f->len = len;
  lac_status st = parse_file(src, f, err);
  if (st) {
    lac_st_free(f);
    return st;
  }
  *out = f;
  return LAC_OK;
}

lac_status lac_st_parse(const void *buf, size_t len, lac_st_file **out, lac_error *err) {
  if (!out || (!buf && len))
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_st_parse: NULL argument");
  *out = NULL;
  unsigned char *copy = malloc(len ? len : 1);
  if (!copy) return lac_error_set(err, LAC_ERR_NOMEM, "buffer: out of memory for %zu bytes", len);
  if (len) memcpy(copy, buf, len);
  return parse_owned("buffer", copy, len, out, err);
}

lac_status lac_st_read(const char *path, lac_st_file **out, lac_error *err) {
  if (!path || !out) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_st_read: NULL argument");
  *out = NULL;
  FILE *fp = fopen(path, "rb");
  if (!fp) return lac_error_set(err, LAC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    lac_status st = lac_error_set(err, LAC_ERR_IO, "%s: not a regular file", path);
    fclose(fp);
    return st;
  }
  if ((uint64_t)sb.st_size > SIZE_MAX - 1) {
    fclose(fp);
    return lac_error_set(err, LAC_ERR_IO, "%s: file too large", path);
  }
  size_t len = (size_t)sb.st_size;
  unsigned char *buf = malloc(len ? len : 1);
  if (!buf) {
    fclose(fp);
    return lac_error_set(err, LAC_ERR_NOMEM, "%s: out of memory for %zu bytes", path, len);
  }
  size_t got = fread(buf, 1, len, fp);
  int read_err = ferror(fp) ? errno : 0;
  fclose(fp);
  if (got != len) {
    free(buf);
    return lac_error_set(err, LAC_ERR_IO, "%s: read %zu of %zu bytes: %s", path, got, len,
                         read_err ? strerror(read_err) : "file shrank while reading");
  }
  return parse_owned(path, buf, len, out, err);
}

size_t lac_st_count(const lac_st_file *f) { return f ? f->n_tensors : 0; }

const lac_st_tensor *lac_st_at(const lac_st_file *f, size_t i) {
  return f && i < f->n_tensors ? &f->tensors[i] : NULL;
}

const lac_st_tensor *lac_st_find(const lac_st_file *f, const char *name) {
  if (!f || !name) return NULL;
  size_t lo = 0, hi = f->n_tensors;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const lac_st_tensor *t = &f->tensors[f->by_name[mid]];
    int c = strcmp(name, t->name);
    if (c == 0) return t;
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

size_t lac_st_meta_count(const lac_st_file *f) { return f ? f->n_meta : 0; }

const char *lac_st_meta_key(const lac_st_file *f, size_t i) {
  return f && i < f->n_meta ? f->meta[i].key : NULL;
}

const char *lac_st_meta_value(const lac_st_file *f, size_t i) {
  return f && i < f->n_meta ? f->meta[i].value : NULL;
}

const char *lac_st_meta_get(const lac_st_file *f, const char *key) {
  if (!f || !key) return NULL;
  for (size_t i = 0; i < f->n_meta; i++)
    if (!strcmp(f->meta[i].key, key)) return f->meta[i].value;
  return NULL;
}

/* ================================================================ writer */

typedef struct {
  char *name;
  lac_dtype dtype;
  int ndim;
  int64_t shape[LAC_ST_MAX_DIMS];
  uint64_t n_bytes;
  const void *data;
} wtensor;

struct lac_st_writer {
  wtensor *t;
  size_t n, cap;
  char **meta; /* key, value pairs */
  size_t n_meta, meta_cap;
  uint64_t total; /* data bytes so far */
};

lac_status lac_st_writer_new(lac_st_writer **out, lac_error *err) {
  if (!out) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_st_writer_new: NULL argument");
  *out = calloc(1, sizeof **out);
  return *out ? LAC_OK : lac_error_set(err, LAC_ERR_NOMEM, "safetensors writer: out of memory");
}

void lac_st_writer_free(lac_st_writer *w) {
  if (!w) return;
  for (size_t i = 0; i < w->n; i++) free(w->t[i].name);
  for (size_t i = 0; i < 2 * w->n_meta; i++) free(w->meta[i]);
  free(w->t);
  free(w->meta);
  free(w);
}

lac_status lac_st_writer_meta(lac_st_writer *w, const char *key, const char *value,
                              lac_error *err) {
  if (!w || !key || !value)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_st_writer_meta: NULL argument");
  for (size_t i = 0; i < w->n_meta; i++)
    if (!strcmp(w->meta[2 * i], key))
      return lac_error_set(err, LAC_ERR_INVALID_ARG,
                           "safetensors writer: metadata key '%s' set twice", key);
  if (w->n_meta == w->meta_cap) {
    size_t cap = w->meta_cap ? 2 * w->meta_cap : 8;
    char **p = realloc(w->meta, 2 * cap * sizeof *p);
    if (!p) return lac_error_set(err, LAC_ERR_NOMEM, "safetensors writer: out of memory");
    w->meta = p;
    w->meta_cap = cap;
  }
  char *k = strdup(key), *v = strdup(value);
  if (!k || !v) {
    free(k);
    free(v);
    return lac_error_set(err, LAC_ERR_NOMEM, "safetensors writer: out of memory");
  }
  w->meta[2 * w->n_meta] = k;
  w->meta[2 * w->n_meta + 1] = v;
  w->n_meta++;
  return LAC_OK;
}

lac_status lac_st_writer_add(lac_st_writer *w, const char *name, lac_dtype dtype, int ndim,
                             const int64_t *shape, const void *data, lac_error *err) {
  if (!w || !name)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_st_writer_add: NULL argument");
  if (!name[0] || !strcmp(name, "__metadata__"))
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "safetensors writer: invalid tensor name '%s'",
                         name);
  if (!lac_dtype_name(dtype))
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "safetensors writer: tensor '%s': invalid dtype %d", name, (int)dtype);
  if (ndim < 0 || ndim > LAC_ST_MAX_DIMS || (ndim > 0 && !shape))
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "safetensors writer: tensor '%s': ndim %d, expected 0..%d with a shape",
                         name, ndim, LAC_ST_MAX_DIMS);
  for (int i = 0; i < ndim; i++)
    if (shape[i] < 0 || shape[i] >= MAX_EXACT_INT_I)
      return lac_error_set(err, LAC_ERR_INVALID_ARG,
                           "safetensors writer: tensor '%s': shape[%d] = %" PRId64
                           ", expected 0 <= dim < 2^53",
                           name, i, shape[i]);
  for (size_t i = 0; i < w->n; i++)
    if (!strcmp(w->t[i].name, name))
      return lac_error_set(err, LAC_ERR_INVALID_ARG, "safetensors writer: tensor '%s' added twice",
                           name);
  wtensor t = {.dtype = dtype, .ndim = ndim, .data = data};
  if (ndim) memcpy(t.shape, shape, (size_t)ndim * sizeof *shape);
  uint64_t count;
  char sbuf[200];
  if (!shape_size(ndim, t.shape, lac_dtype_size(dtype), &count, &t.n_bytes) ||
      t.n_bytes > SIZE_MAX || t.n_bytes >= MAX_EXACT_INT_I - w->total)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "safetensors writer: tensor '%s': %s shape %s is too large", name,
                         lac_dtype_name(dtype), shape_str(sbuf, sizeof sbuf, ndim, t.shape));
  if (!data && t.n_bytes)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "safetensors writer: tensor '%s': NULL data for %" PRIu64 " bytes", name,
                         t.n_bytes);
  if (w->n == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 16;
    wtensor *p = realloc(w->t, cap * sizeof *p);
    if (!p) return lac_error_set(err, LAC_ERR_NOMEM, "safetensors writer: out of memory");
    w->t = p;
    w->cap = cap;
  }
  if (!(t.name = strdup(name)))
    return lac_error_set(err, LAC_ERR_NOMEM, "safetensors writer: out of memory");
  w->t[w->n++] = t;
  w->total += t.n_bytes;
  return LAC_OK;
}

/* Growable string for the header. */
typedef struct {
  char *p;
  size_t len, cap;
  int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (b->len + n + 1 > cap) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_u64(sbuf *b, uint64_t v) {
  char tmp[24];
  sb_add(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "%" PRIu64, v));
}

/* A JSON string literal: escapes quote, backslash and control bytes; other bytes as is. */
static void sb_json(sbuf *b, const char *s) {
  sb_add(b, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    char tmp[8];
    if (c == '"' || c == '\\') {
      tmp[0] = '\\';
      tmp[1] = (char)c;
      sb_add(b, tmp, 2);
    } else if (c < 0x20) {
      sb_add(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "\\u%04x", c));
    } else {
      sb_add(b, (const char *)&c, 1);
    }
  }
  sb_add(b, "\"", 1);
}

static char *build_header(const lac_st_writer *w, size_t *len) {
  sbuf b = {0};
  sb_str(&b, "{");
  if (w->n_meta) {
    sb_str(&b, "\"__metadata__\":{");
    for (size_t i = 0; i < w->n_meta; i++) {
      if (i) sb_str(&b, ",");
      sb_json(&b, w->meta[2 * i]);
      sb_str(&b, ":");
      sb_json(&b, w->meta[2 * i + 1]);
    }
    sb_str(&b, "}");
  }
  uint64_t at = 0;
  for (size_t i = 0; i < w->n; i++) {
    const wtensor *t = &w->t[i];
    if (i || w->n_meta) sb_str(&b, ",");
    sb_json(&b, t->name);
    sb_str(&b, ":{\"dtype\":\"");
    sb_str(&b, lac_dtype_name(t->dtype));
    sb_str(&b, "\",\"shape\":[");
    for (int d = 0; d < t->ndim; d++) {
      if (d) sb_str(&b, ",");
      sb_u64(&b, (uint64_t)t->shape[d]);
    }
    sb_str(&b, "],\"data_offsets\":[");
    sb_u64(&b, at);
    sb_str(&b, ",");
    sb_u64(&b, at + t->n_bytes);
    sb_str(&b, "]}");
    at += t->n_bytes;
  }
  sb_str(&b, "}");
  while (!b.oom && b.len % 8) sb_str(&b, " "); /* data then starts at 8 + len */
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  *len = b.len;
  return b.p;
}

typedef struct {
  const lac_st_writer *w;
  const char *header;
  size_t hlen;
} st_write_ctx;

static int st_write_body(FILE *fp, void *user) {
  const st_write_ctx *c = user;
  unsigned char lenbuf[8];
  for (int i = 0; i < 8; i++) lenbuf[i] = (unsigned char)((uint64_t)c->hlen >> (8 * i));
  int ok = fwrite(lenbuf, 1, 8, fp) == 8 && fwrite(c->header, 1, c->hlen, fp) == c->hlen;
  for (size_t i = 0; ok && i < c->w->n; i++)
    if (c->w->t[i].n_bytes)
      ok = fwrite(c->w->t[i].data, 1, c->w->t[i].n_bytes, fp) == c->w->t[i].n_bytes;
  return ok;
}

lac_status lac_st_writer_write(lac_st_writer *w, const char *path, lac_error *err) {
  if (!w || !path)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_st_writer_write: NULL argument");
  size_t hlen;
  char *header = build_header(w, &hlen);
  if (!header) return lac_error_set(err, LAC_ERR_NOMEM, "%s: out of memory for the header", path);
  if (hlen > LAC_ST_HEADER_MAX) {
    free(header);
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "%s: header of %zu bytes exceeds the limit of %u", path, hlen,
                         LAC_ST_HEADER_MAX);
  }
  st_write_ctx ctx = {w, header, hlen};
  lac_status st = lac_write_file_atomic(path, st_write_body, &ctx, err);
  free(header);
  return st;
}
