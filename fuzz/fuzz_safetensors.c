/* fuzz_safetensors.c — libFuzzer target for the safetensors reader (lac_st_parse).
 *
 * Parses the input, then walks every tensor and metadata entry, touching every data byte (so
 * ASan sees any pointer outside the file) and checking the invariants the reader promises:
 * tensors in offset order tiling the data section, sizes matching shapes, names unique and
 * found by lac_st_find, metadata retrievable.  A broken invariant traps.
 * Not done here: the writer or the embeddings layer (they need files on disk).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lac/safetensors.h"

#define REQUIRE(c)                                                                                 \
  do {                                                                                             \
    if (!(c)) __builtin_trap();                                                                    \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lac_error err;
  lac_st_file *f = (lac_st_file *)&err;
  lac_status st = lac_st_parse(data, size, &f, &err);
  if (st != LAC_OK) {
    REQUIRE(f == NULL && err.code == st && memchr(err.message, '\0', sizeof err.message));
    REQUIRE(err.message[0] != '\0');
    return 0;
  }
  size_t n = lac_st_count(f);
  uint64_t total = 0;
  unsigned sum = 0;
  const unsigned char *next = NULL;
  for (size_t i = 0; i < n; i++) {
    const lac_st_tensor *t = lac_st_at(f, i);
    REQUIRE(t && t->name && t->name[0] && lac_st_find(f, t->name) == t);
    REQUIRE(t->ndim >= 0 && t->ndim <= LAC_ST_MAX_DIMS && lac_dtype_name(t->dtype));
    uint64_t count = 1;
    for (int d = 0; d < t->ndim; d++) {
      REQUIRE(t->shape[d] >= 0);
      count *= (uint64_t)t->shape[d]; /* the reader checked this does not overflow */
    }
    REQUIRE(t->n_elements == count); /* a 0 dim makes any wrapped product 0 too */
    REQUIRE(t->n_bytes == t->n_elements * lac_dtype_size(t->dtype));
    const unsigned char *p = t->data;
    REQUIRE(next == NULL || p == next);
    next = p + t->n_bytes;
    for (uint64_t b = 0; b < t->n_bytes; b++) sum += p[b];
    total += t->n_bytes;
  }
  REQUIRE(total + 8 <= size && lac_st_at(f, n) == NULL);
  for (size_t i = 0; i < lac_st_meta_count(f); i++) {
    const char *k = lac_st_meta_key(f, i), *v = lac_st_meta_value(f, i);
    REQUIRE(k && v && lac_st_meta_get(f, k));
    sum += (unsigned)strlen(k) + (unsigned)strlen(v);
  }
  lac_st_free(f);
  volatile unsigned sink = sum; /* keep the reads */
  (void)sink;
  return 0;
}
