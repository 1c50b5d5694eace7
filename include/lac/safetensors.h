/* lac/safetensors.h — strict reader and atomic writer for safetensors files.
 *
 * Format: 8-byte little-endian header length N, N bytes of JSON, then the packed tensor
 * data.  The reader enforces: N <= LAC_ST_HEADER_MAX, 8 + N <= file length, the header is a
 * JSON object whose values are tensor entries {"dtype", "shape", "data_offsets"} plus an
 * optional "__metadata__" object of string values; known dtypes only; no duplicate names;
 * every shape product and byte size computed with overflow checks; data_offsets[1] -
 * data_offsets[0] == element count * dtype size; the tensors, sorted by offset, cover the
 * data section with no gap and no overlap; and the file ends exactly where the data does.
 *
 * Not done here: interpreting names or metadata (the model loader and the embeddings
 * reader do that), memory mapping (files are read into one allocation).
 */
#ifndef LAC_SAFETENSORS_H
#define LAC_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "lac.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LAC_ST_HEADER_MAX (100u * 1024u * 1024u)
#define LAC_ST_MAX_DIMS 8

typedef enum {
  LAC_DTYPE_F64, LAC_DTYPE_F32, LAC_DTYPE_F16, LAC_DTYPE_BF16,
  LAC_DTYPE_I64, LAC_DTYPE_I32, LAC_DTYPE_I16, LAC_DTYPE_I8,
  LAC_DTYPE_U64, LAC_DTYPE_U32, LAC_DTYPE_U16, LAC_DTYPE_U8,
  LAC_DTYPE_BOOL,
} lac_dtype;

/* "F32", ...; NULL for an invalid value. */
const char *lac_dtype_name(lac_dtype dt);
size_t lac_dtype_size(lac_dtype dt);

typedef struct {
  const char *name;
  lac_dtype dtype;
  int ndim;                         /* 0 = scalar */
  int64_t shape[LAC_ST_MAX_DIMS];
  uint64_t n_elements;
  uint64_t n_bytes;
  const void *data;                 /* inside the file buffer; may be unaligned: memcpy it */
} lac_st_tensor;

typedef struct lac_st_file lac_st_file;

/* Read and validate a whole file.  Errors name the file and the offending entry. */
lac_status lac_st_read(const char *path, lac_st_file **out, lac_error *err);
/* Validate a buffer (copied; the caller keeps ownership of buf). */
lac_status lac_st_parse(const void *buf, size_t len, lac_st_file **out, lac_error *err);
void lac_st_free(lac_st_file *f);

/* Tensors in order of their data offsets. */
size_t lac_st_count(const lac_st_file *f);
const lac_st_tensor *lac_st_at(const lac_st_file *f, size_t i);
const lac_st_tensor *lac_st_find(const lac_st_file *f, const char *name);

size_t lac_st_meta_count(const lac_st_file *f);
const char *lac_st_meta_key(const lac_st_file *f, size_t i);
const char *lac_st_meta_value(const lac_st_file *f, size_t i);
/* NULL when absent. */
const char *lac_st_meta_get(const lac_st_file *f, const char *key);

/* Writer: collect metadata and tensors (data is borrowed until write/free), then write
 * to `path.tmp.XXXXXX` in the same folder, fsync, and rename over path. */
typedef struct lac_st_writer lac_st_writer;

lac_status lac_st_writer_new(lac_st_writer **out, lac_error *err);
void lac_st_writer_free(lac_st_writer *w);
lac_status lac_st_writer_meta(lac_st_writer *w, const char *key, const char *value, lac_error *err);
lac_status lac_st_writer_add(lac_st_writer *w, const char *name, lac_dtype dtype, int ndim,
                             const int64_t *shape, const void *data, lac_error *err);
lac_status lac_st_writer_write(lac_st_writer *w, const char *path, lac_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LAC_SAFETENSORS_H */
