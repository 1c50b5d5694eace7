/* test_safetensors.c — tests of the safetensors reader and writer (lac/safetensors.h).
 *
 * Covers: writer/reader round trips (every dtype, scalar and zero-size tensors, metadata with
 * characters that need escaping, 8-byte alignment of the data section), hand-made valid files
 * (unaligned data, padding, zero-size tensors between others), a corrupt-file suite built in
 * memory where each case must fail with LAC_ERR_FORMAT and a telling message, read errors,
 * writer argument checks, and the atomic write (nothing left behind, old file kept).
 * Not covered here: model or embeddings semantics (test_embeddings.c, model tests).
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lac/safetensors.h"
#include "testutil.h"

static char tmpdir[] = "/tmp/lac_test_st_XXXXXX";

/* tmpdir + "/" + name in a static buffer (one at a time is enough here). */
static const char *tpath(const char *name) {
  static char buf[256];
  snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
  return buf;
}

/* 8-byte length field `hlen`, `header_bytes` of header text, then data_len bytes (i & 0xff). */
static unsigned char *make_raw(uint64_t hlen, const char *header, size_t header_bytes,
                               size_t data_len, size_t *len) {
  *len = 8 + header_bytes + data_len;
  unsigned char *b = malloc(*len);
  for (int i = 0; i < 8; i++) b[i] = (unsigned char)(hlen >> (8 * i));
  memcpy(b + 8, header, header_bytes);
  for (size_t i = 0; i < data_len; i++) b[8 + header_bytes + i] = (unsigned char)i;
  return b;
}

static unsigned char *make_file(const char *header, size_t data_len, size_t *len) {
  return make_raw(strlen(header), header, strlen(header), data_len, len);
}

/* Parse buf and expect LAC_ERR_FORMAT with "buffer" and `want` in the message. */
static void expect_bad_buf(int line, const unsigned char *buf, size_t len, const char *want) {
  lac_error err = {0};
  lac_st_file *f = (lac_st_file *)&err; /* must be reset to NULL on failure */
  lac_status st = lac_st_parse(buf, len, &f, &err);
  CHECK(st == LAC_ERR_FORMAT, "line %d: status %s, expected format error (%s)", line,
        lac_status_string(st), err.message);
  CHECK(f == NULL, "line %d: *out not NULL on failure", line);
  CHECK(err.code == st, "line %d: err.code %d != status %d", line, err.code, st);
  CHECK(strstr(err.message, "buffer") && strstr(err.message, want),
        "line %d: message '%s' lacks 'buffer' or '%s'", line, err.message, want);
  if (st == LAC_OK) lac_st_free(f);
  if (getenv("LAC_TEST_VERBOSE")) printf("line %d: %s\n", line, err.message);
}

static void expect_bad_(int line, const char *header, size_t data_len, const char *want) {
  size_t len;
  unsigned char *b = make_file(header, data_len, &len);
  expect_bad_buf(line, b, len, want);
  free(b);
}
#define EXPECT_BAD(header, data_len, want) expect_bad_(__LINE__, header, data_len, want)

static lac_st_file *parse_ok_(int line, const char *header, size_t data_len) {
  size_t len;
  unsigned char *b = make_file(header, data_len, &len);
  lac_error err = {0};
  lac_st_file *f = NULL;
  lac_status st = lac_st_parse(b, len, &f, &err);
  CHECK(st == LAC_OK, "line %d: parse failed: %s", line, err.message);
  free(b);
  return f;
}
#define PARSE_OK(header, data_len) parse_ok_(__LINE__, header, data_len)

#define T(name, dtype, shape, b, e)                                                                \
  "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

static void test_corrupt(void) {
  size_t len;
  unsigned char *b;

  /* Framing. */
  expect_bad_buf(__LINE__, (const unsigned char *)"\x02\0\0", 3, "shorter than the 8-byte");
  expect_bad_buf(__LINE__, (const unsigned char *)"", 0, "file is 0 bytes");
  b = make_raw((uint64_t)LAC_ST_HEADER_MAX + 1, "", 0, 0, &len);
  expect_bad_buf(__LINE__, b, len, "exceeds the limit");
  free(b);
  b = make_raw(UINT64_MAX, "{}", 2, 0, &len);
  expect_bad_buf(__LINE__, b, len, "exceeds the limit");
  free(b);
  b = make_raw(100, "{\"a\":1}   ", 10, 0, &len);
  expect_bad_buf(__LINE__, b, len, "beyond the end of the file");
  free(b);

  /* Header JSON. */
  EXPECT_BAD("{\"a\":", 0, "not valid JSON");
  EXPECT_BAD("", 0, "not valid JSON");
  EXPECT_BAD("[1, 2]", 0, "header is an array, expected a JSON object");
  EXPECT_BAD("\"x\"", 0, "header is a string");
  EXPECT_BAD("{}x", 0, "non-whitespace bytes after the JSON");
  b = make_raw(3, "{}\0", 3, 0, &len);
  expect_bad_buf(__LINE__, b, len, "after the JSON");
  free(b);

  /* Tensor entries. */
  EXPECT_BAD("{\"t\":5}", 0, "tensor 't': entry is a number, expected an object");
  EXPECT_BAD("{\"t\":[]}", 0, "tensor 't': entry is an array");
  EXPECT_BAD("{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
             "tensor 't': missing field 'dtype'");
  EXPECT_BAD("{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "missing field 'shape'");
  EXPECT_BAD("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "missing field 'data_offsets'");
  EXPECT_BAD("{" T("t", "F8", "[1]", 0, 1) "}", 1, "tensor 't': unknown dtype 'F8'");
  EXPECT_BAD("{" T("t", "f32", "[1]", 0, 4) "}", 4, "unknown dtype 'f32'");
  EXPECT_BAD("{\"t\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
             "dtype is a number, expected a string");
  EXPECT_BAD("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", 4,
             "tensor 't': unknown field 'extra'");
  EXPECT_BAD("{\"t\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
             4, "field 'dtype' appears twice");

  /* Shapes. */
  EXPECT_BAD("{" T("t", "F32", "[-1]", 0, 4) "}", 4, "tensor 't': shape[0] is negative");
  EXPECT_BAD("{" T("t", "F32", "[2, 1.5]", 0, 12) "}", 12, "shape[1] is not an integer");
  EXPECT_BAD("{" T("t", "F32", "[\"2\"]", 0, 8) "}", 8, "shape[0] is a string");
  EXPECT_BAD("{" T("t", "F32", "[1e300]", 0, 8) "}", 8, "shape[0] is too large");
  EXPECT_BAD("{\"t\":{\"dtype\":\"F32\",\"shape\":{},\"data_offsets\":[0,4]}}", 4,
             "shape is an object, expected an array");
  EXPECT_BAD("{" T("t", "U8", "[1,1,1,1,1,1,1,1,1]", 0, 1) "}", 1,
             "shape has 9 dims, expected at most 8");
  EXPECT_BAD("{" T("t", "U8", "[4294967296,4294967296,1]", 0, 1) "}", 1, "overflows 64 bits");
  EXPECT_BAD("{" T("t", "F64", "[4294967296,1073741824]", 0, 1) "}", 1, "overflows 64 bits");

  /* data_offsets. */
  EXPECT_BAD("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1,
             "tensor 't': data_offsets has 1 entries, expected 2");
  EXPECT_BAD("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1,
             "data_offsets has 3 entries, expected 2");
  EXPECT_BAD("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":\"0,1\"}}", 1,
             "data_offsets is a string");
  EXPECT_BAD("{" T("t", "U8", "[1]", -1, 0) "}", 1, "data_offsets[0] is negative");
  EXPECT_BAD("{" T("t", "U8", "[1]", 0, 1.5) "}", 1, "data_offsets[1] is not an integer");
  EXPECT_BAD("{" T("t", "U8", "[0]", 4, 0) "}", 4, "data_offsets [4, 0], expected begin <= end");
  EXPECT_BAD("{" T("t", "F32", "[2]", 0, 8) "}", 4,
             "tensor 't': data_offsets [0, 8] extend beyond the data section of 4 bytes");
  EXPECT_BAD("{" T("t", "U8", "[3]", 18446744073709551612, 18446744073709551615) "}", 3,
             "data_offsets[0] is too large");
  EXPECT_BAD("{" T("t", "U8", "[1]", 9007199254740991, 9007199254740992) "}", 1,
             "data_offsets[1] is too large");
  EXPECT_BAD("{\"conv1.weight\":{\"dtype\":\"F32\",\"shape\":[16,3,3,3],\"data_offsets\":[0,100]}}",
             100,
             "tensor 'conv1.weight': data_offsets span 100 bytes, expected 1728 (F32 shape [16, 3, "
             "3, 3])");

  /* Tiling. */
  EXPECT_BAD("{" T("a", "F32", "[1]", 0, 4) "," T("b", "F32", "[1]", 8, 12) "}", 12,
             "tensor 'b': gap of 4 bytes");
  EXPECT_BAD("{" T("b", "F32", "[1]", 4, 8) "}", 8, "tensor 'b': gap of 4 bytes");
  EXPECT_BAD("{" T("a", "F32", "[2]", 0, 8) "," T("b", "F32", "[1]", 4, 8) "}", 8,
             "tensor 'b': data_offsets begin 4 overlaps tensor 'a'");
  EXPECT_BAD("{" T("a", "F32", "[1]", 0, 4) "," T("b", "F32", "[1]", 0, 4) "}", 4,
             "overlaps tensor");
  EXPECT_BAD("{" T("a", "F32", "[2]", 0, 8) "," T("z", "U8", "[0]", 4, 4) "}", 8,
             "tensor 'z': data_offsets begin 4 overlaps tensor 'a'");
  EXPECT_BAD("{" T("a", "F32", "[1]", 0, 4) "}", 8, "4 trailing bytes after the last tensor");
  EXPECT_BAD("{}", 3, "3 trailing bytes in the data section but no tensors");

  /* Names and metadata. */
  EXPECT_BAD("{" T("a", "F32", "[1]", 0, 4) "," T("a", "F32", "[1]", 4, 8) "}", 8,
             "tensor 'a' appears twice");
  EXPECT_BAD("{\"__metadata__\":{\"k\":\"1\",\"j\":\"2\",\"k\":\"3\"}}", 0,
             "__metadata__ key 'k' appears twice");
  EXPECT_BAD("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "__metadata__ appears twice");
  EXPECT_BAD("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ key 'k': value is a number");
  EXPECT_BAD("{\"__metadata__\":{\"k\":null}}", 0, "value is null");
  EXPECT_BAD("{\"__metadata__\":[\"k\"]}", 0, "__metadata__ is an array, expected an object");
  EXPECT_BAD("{\"__metadata__\":\"k\"}", 0, "__metadata__ is a string");
  EXPECT_BAD("{" T("", "F32", "[1]", 0, 4) "}", 4, "empty name");
}

static void test_parse_valid(void) {
  lac_error err = {0};
  /* Empty header, with trailing padding. */
  lac_st_file *f = PARSE_OK("{}      ", 0);
  CHECK(f && lac_st_count(f) == 0 && lac_st_meta_count(f) == 0, "empty file");
  CHECK(lac_st_at(f, 0) == NULL && lac_st_find(f, "x") == NULL, "lookups in an empty file");
  lac_st_free(f);

  /* Odd header length (unaligned data), entries out of offset order, zero-size tensors at the
   * start, between others and at the end, a scalar, metadata, a trailing newline. */
  f = PARSE_OK(
      "{\"b\":{\"data_offsets\":[4,10],\"dtype\":\"I16\",\"shape\":[3]}," T(
          "z0", "F32", "[0,7]", 0,
          0) "," T("a", "F32", "[]", 0,
                   4) "," T("z1", "U8", "[0]", 4,
                            4) "," T("z2", "BOOL", "[2,0]", 10,
                                     10) ",\"__metadata__\":{\"k2\":\"v2\",\"k1\":\"\"}}\n",
      10);
  CHECK(f != NULL, "valid file parsed");
  if (f) {
    const char *order[] = {"z0", "a", "z1", "b", "z2"};
    CHECK(lac_st_count(f) == 5, "count %zu", lac_st_count(f));
    for (size_t i = 0; i < 5 && i < lac_st_count(f); i++)
      CHECK(!strcmp(lac_st_at(f, i)->name, order[i]), "at(%zu) = %s, expected %s", i,
            lac_st_at(f, i)->name, order[i]);
    const lac_st_tensor *a = lac_st_find(f, "a"), *b = lac_st_find(f, "b");
    CHECK(a && a->ndim == 0 && a->n_elements == 1 && a->n_bytes == 4 && a->dtype == LAC_DTYPE_F32,
          "scalar a");
    CHECK(b && b->ndim == 1 && b->shape[0] == 3 && b->n_bytes == 6 && b->dtype == LAC_DTYPE_I16,
          "b");
    const lac_st_tensor *z0 = lac_st_find(f, "z0");
    CHECK(z0 && z0->ndim == 2 && z0->shape[1] == 7 && z0->n_elements == 0 && z0->n_bytes == 0,
          "z0");
    if (a && b) {
      unsigned char ab[4], bb[6];
      memcpy(ab, a->data, 4);
      memcpy(bb, b->data, 6);
      CHECK(ab[0] == 0 && ab[3] == 3 && bb[0] == 4 && bb[5] == 9, "data bytes");
      CHECK((const unsigned char *)b->data - (const unsigned char *)a->data == 4, "data layout");
    }
    CHECK(lac_st_find(f, "c") == NULL && lac_st_find(f, "__metadata__") == NULL, "absent names");
    CHECK(lac_st_meta_count(f) == 2, "meta count");
    CHECK(!strcmp(lac_st_meta_key(f, 0), "k2") && !strcmp(lac_st_meta_value(f, 0), "v2"),
          "metadata in file order");
    CHECK(lac_st_meta_get(f, "k1") && !strcmp(lac_st_meta_get(f, "k1"), ""), "empty value");
    CHECK(lac_st_meta_get(f, "nope") == NULL && lac_st_meta_key(f, 2) == NULL, "absent meta");
  }
  lac_st_free(f);

  /* The caller keeps its buffer: the file must hold a copy. */
  size_t len;
  unsigned char *buf = make_file("{" T("x", "U8", "[2]", 0, 2) "}", 2, &len);
  f = NULL;
  CHECK_OK(lac_st_parse(buf, len, &f, &err), &err);
  memset(buf, 0xff, len);
  free(buf);
  const lac_st_tensor *x = lac_st_find(f, "x");
  CHECK(x && ((const unsigned char *)x->data)[1] == 1, "parse copies its input");
  lac_st_free(f);

  CHECK(lac_st_parse(NULL, 5, &f, &err) == LAC_ERR_INVALID_ARG, "NULL buffer");
  lac_st_free(NULL);
}

static const lac_dtype all_dtypes[] = {LAC_DTYPE_F64, LAC_DTYPE_F32, LAC_DTYPE_F16, LAC_DTYPE_BF16,
                                       LAC_DTYPE_I64, LAC_DTYPE_I32, LAC_DTYPE_I16, LAC_DTYPE_I8,
                                       LAC_DTYPE_U64, LAC_DTYPE_U32, LAC_DTYPE_U16, LAC_DTYPE_U8,
                                       LAC_DTYPE_BOOL};
#define N_ALL (sizeof all_dtypes / sizeof all_dtypes[0])

static void test_dtypes(void) {
  const char *names[] = {"F64", "F32", "F16", "BF16", "I64", "I32", "I16",
                         "I8",  "U64", "U32", "U16",  "U8",  "BOOL"};
  const size_t sizes[] = {8, 4, 2, 2, 8, 4, 2, 1, 8, 4, 2, 1, 1};
  for (size_t i = 0; i < N_ALL; i++) {
    CHECK(!strcmp(lac_dtype_name(all_dtypes[i]), names[i]), "dtype name %zu", i);
    CHECK(lac_dtype_size(all_dtypes[i]) == sizes[i], "dtype size %zu", i);
  }
  CHECK(lac_dtype_name((lac_dtype)99) == NULL && lac_dtype_size((lac_dtype)99) == 0,
        "invalid dtype");
  CHECK(lac_dtype_name((lac_dtype)-1) == NULL, "negative dtype");
}

static void test_round_trip(void) {
  lac_error err = {0};
  lac_st_writer *w = NULL;
  CHECK_OK(lac_st_writer_new(&w, &err), &err);
  unsigned char data[N_ALL][2 * 3 * 8];
  for (size_t i = 0; i < N_ALL; i++)
    for (size_t j = 0; j < sizeof data[i]; j++) data[i][j] = (unsigned char)(i * 31 + j);
  const int64_t shape23[2] = {2, 3}, shape0[3] = {4, 0, 2};
  const double scalar = 3.25;
  CHECK_OK(lac_st_writer_meta(w, "plain", "value", &err), &err);
  CHECK_OK(lac_st_writer_meta(w, "tricky \"key\"", "back\\slash\nnew line \x01 caf\xc3\xa9", &err),
           &err);
  CHECK_OK(lac_st_writer_add(w, "empty_first", LAC_DTYPE_F32, 3, shape0, NULL, &err), &err);
  for (size_t i = 0; i < N_ALL; i++) {
    char name[32];
    snprintf(name, sizeof name, "t%02zu.%s", i, lac_dtype_name(all_dtypes[i]));
    CHECK_OK(lac_st_writer_add(w, name, all_dtypes[i], 2, shape23, data[i], &err), &err);
  }
  CHECK_OK(lac_st_writer_add(w, "u_scalar", LAC_DTYPE_F64, 0, NULL, &scalar, &err), &err);
  CHECK_OK(lac_st_writer_add(w, "v_empty_last", LAC_DTYPE_I8, 1, (int64_t[]){0}, NULL, &err), &err);
  /* Writer argument checks: none of these changes what gets written. */
  CHECK(lac_st_writer_add(w, "t00.F64", LAC_DTYPE_U8, 0, NULL, data[0], &err) ==
                LAC_ERR_INVALID_ARG &&
            strstr(err.message, "added twice"),
        "duplicate name: %s", err.message);
  int64_t big[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  CHECK(lac_st_writer_add(w, "nine", LAC_DTYPE_U8, 9, big, data[0], &err) == LAC_ERR_INVALID_ARG,
        "ndim 9");
  CHECK(lac_st_writer_add(w, "neg", LAC_DTYPE_U8, 1, (int64_t[]){-2}, data[0], &err) ==
                LAC_ERR_INVALID_ARG &&
            strstr(err.message, "shape[0] = -2"),
        "negative dim: %s", err.message);
  CHECK(lac_st_writer_add(w, "null", LAC_DTYPE_U8, 1, (int64_t[]){3}, NULL, &err) ==
                LAC_ERR_INVALID_ARG &&
            strstr(err.message, "NULL data"),
        "NULL data: %s", err.message);
  CHECK(lac_st_writer_add(w, "", LAC_DTYPE_U8, 0, NULL, data[0], &err) == LAC_ERR_INVALID_ARG,
        "empty name");
  CHECK(lac_st_writer_add(w, "__metadata__", LAC_DTYPE_U8, 0, NULL, data[0], &err) ==
            LAC_ERR_INVALID_ARG,
        "reserved name");
  CHECK(lac_st_writer_add(w, "bad", (lac_dtype)42, 0, NULL, data[0], &err) == LAC_ERR_INVALID_ARG,
        "bad dtype");
  CHECK(lac_st_writer_add(w, "huge", LAC_DTYPE_F64, 2, (int64_t[]){1 << 30, 1 << 30}, data[0],
                          &err) == LAC_ERR_INVALID_ARG,
        "huge tensor (>= 2^53 bytes)");
  CHECK(lac_st_writer_meta(w, "plain", "again", &err) == LAC_ERR_INVALID_ARG, "duplicate meta");

  const char *path = tpath("rt.safetensors");
  CHECK_OK(lac_st_writer_write(w, path, &err), &err);
  lac_st_writer_free(w);

  /* Raw layout: header length multiple of 8, file = 8 + N + data. */
  FILE *fp = fopen(path, "rb");
  unsigned char raw[8] = {0};
  CHECK(fp && fread(raw, 1, 8, fp) == 8, "read length field");
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--) hlen = hlen << 8 | raw[i];
  if (fp) fclose(fp);
  struct stat sb;
  CHECK(stat(path, &sb) == 0, "stat");
  CHECK((8 + hlen) % 8 == 0, "data section at offset %llu, not 8-aligned",
        (unsigned long long)(8 + hlen));
  uint64_t data_bytes = sizeof scalar;
  for (size_t i = 0; i < N_ALL; i++) data_bytes += 6 * lac_dtype_size(all_dtypes[i]);
  CHECK((uint64_t)sb.st_size == 8 + hlen + data_bytes, "file size %lld", (long long)sb.st_size);
  CHECK((sb.st_mode & 0777) == 0644, "mode %o", (unsigned)(sb.st_mode & 0777));

  lac_st_file *f = NULL;
  CHECK_OK(lac_st_read(path, &f, &err), &err);
  if (!f) return;
  CHECK(lac_st_count(f) == N_ALL + 3, "count %zu", lac_st_count(f));
  CHECK(!strcmp(lac_st_at(f, 0)->name, "empty_first"), "first");
  const lac_st_tensor *e = lac_st_at(f, 0);
  CHECK(e->ndim == 3 && e->shape[0] == 4 && e->shape[1] == 0 && e->n_bytes == 0, "zero-size");
  for (size_t i = 0; i < N_ALL; i++) {
    const lac_st_tensor *t = lac_st_at(f, i + 1);
    size_t nb = 6 * lac_dtype_size(all_dtypes[i]);
    CHECK(t->dtype == all_dtypes[i] && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 &&
              t->n_elements == 6 && t->n_bytes == nb,
          "tensor %s header", t->name);
    CHECK(memcmp(t->data, data[i], nb) == 0, "tensor %s data", t->name);
    CHECK(lac_st_find(f, t->name) == t, "find %s", t->name);
  }
  const lac_st_tensor *s = lac_st_find(f, "u_scalar");
  double sv = 0;
  if (s) memcpy(&sv, s->data, 8);
  CHECK(s && s->ndim == 0 && s->n_elements == 1 && sv == 3.25, "scalar");
  CHECK(lac_st_at(f, N_ALL + 2) == lac_st_find(f, "v_empty_last"), "last");
  CHECK(lac_st_meta_count(f) == 2, "meta count");
  const char *v = lac_st_meta_get(f, "tricky \"key\"");
  CHECK(v && !strcmp(v, "back\\slash\nnew line \x01 caf\xc3\xa9"), "escaped metadata '%s'",
        v ? v : "(null)");
  CHECK(!strcmp(lac_st_meta_value(f, 0), "value"), "meta order");
  lac_st_free(f);
  unlink(path);

  /* Empty writer: "{}" padded, no data. */
  CHECK_OK(lac_st_writer_new(&w, &err), &err);
  CHECK_OK(lac_st_writer_write(w, path, &err), &err);
  lac_st_writer_free(w);
  CHECK_OK(lac_st_read(path, &f, &err), &err);
  CHECK(f && lac_st_count(f) == 0 && lac_st_meta_count(f) == 0, "empty file round trip");
  lac_st_free(f);
  unlink(path);
}

/* Names in tmpdir containing ".tmp." (leftover temporary files). */
static int count_tmp_files(void) {
  int n = 0;
  DIR *d = opendir(tmpdir);
  for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
  if (d) closedir(d);
  return n;
}

static void test_io(void) {
  lac_error err = {0};
  lac_st_file *f = NULL;
  const char *missing = tpath("missing.safetensors");
  CHECK(lac_st_read(missing, &f, &err) == LAC_ERR_IO && strstr(err.message, missing) && !f,
        "missing file: %s", err.message);
  CHECK(lac_st_read(tmpdir, &f, &err) == LAC_ERR_IO && strstr(err.message, tmpdir), "directory: %s",
        err.message);

  /* A file of the corrupt suite read from disk names the path. */
  char path[256];
  snprintf(path, sizeof path, "%s", tpath("bad.safetensors"));
  size_t len;
  unsigned char *b = make_file("{" T("w", "F32", "[2]", 0, 4) "}", 4, &len);
  FILE *fp = fopen(path, "wb");
  CHECK(fp && fwrite(b, 1, len, fp) == len, "write bad file");
  if (fp) fclose(fp);
  free(b);
  CHECK(lac_st_read(path, &f, &err) == LAC_ERR_FORMAT && strstr(err.message, path) &&
            strstr(err.message, "tensor 'w'"),
        "file error names path: %s", err.message);
  unlink(path);
  fp = fopen(path, "wb");
  if (fp) fclose(fp);
  CHECK(lac_st_read(path, &f, &err) == LAC_ERR_FORMAT && strstr(err.message, "0 bytes"),
        "empty file on disk: %s", err.message);
  unlink(path);

  /* Writing into a missing folder fails and leaves nothing. */
  lac_st_writer *w = NULL;
  const uint8_t one = 1;
  CHECK_OK(lac_st_writer_new(&w, &err), &err);
  CHECK_OK(lac_st_writer_add(w, "x", LAC_DTYPE_U8, 0, NULL, &one, &err), &err);
  snprintf(path, sizeof path, "%s", tpath("nodir/x.safetensors"));
  CHECK(lac_st_writer_write(w, path, &err) == LAC_ERR_IO && strstr(err.message, path),
        "missing folder: %s", err.message);
  struct stat sb;
  CHECK(stat(tpath("nodir"), &sb) != 0, "folder created");

  /* An existing file survives a writer that rejected a tensor and is not written. */
  snprintf(path, sizeof path, "%s", tpath("keep.safetensors"));
  CHECK_OK(lac_st_writer_write(w, path, &err), &err);
  lac_st_writer_free(w);
  CHECK_OK(lac_st_writer_new(&w, &err), &err);
  CHECK(lac_st_writer_add(w, "x", LAC_DTYPE_U8, 1, (int64_t[]){-1}, &one, &err) ==
            LAC_ERR_INVALID_ARG,
        "rejected");
  lac_st_writer_free(w);
  CHECK_OK(lac_st_read(path, &f, &err), &err);
  CHECK(f && lac_st_count(f) == 1 && lac_st_find(f, "x"), "old file intact");
  lac_st_free(f);

  /* A write whose rename fails (the target is a folder) removes its temporary file. */
  char dir[256];
  snprintf(dir, sizeof dir, "%s", tpath("target.safetensors"));
  CHECK(mkdir(dir, 0755) == 0, "mkdir");
  snprintf(path, sizeof path, "%s", tpath("target.safetensors/inner"));
  fp = fopen(path, "wb");
  if (fp) fclose(fp);
  CHECK_OK(lac_st_writer_new(&w, &err), &err);
  CHECK_OK(lac_st_writer_add(w, "x", LAC_DTYPE_U8, 0, NULL, &one, &err), &err);
  CHECK(lac_st_writer_write(w, dir, &err) == LAC_ERR_IO && strstr(err.message, "rename"),
        "rename over a folder: %s", err.message);
  CHECK(count_tmp_files() == 0, "temporary file left behind");
  CHECK(stat(path, &sb) == 0, "folder content kept");

  /* Overwriting an existing file replaces it (and keeps its mode). */
  snprintf(path, sizeof path, "%s", tpath("keep.safetensors"));
  CHECK(chmod(path, 0640) == 0, "chmod");
  const uint8_t two[2] = {7, 8};
  CHECK_OK(lac_st_writer_add(w, "y", LAC_DTYPE_U8, 1, (int64_t[]){2}, two, &err), &err);
  CHECK_OK(lac_st_writer_write(w, path, &err), &err);
  lac_st_writer_free(w);
  CHECK_OK(lac_st_read(path, &f, &err), &err);
  CHECK(f && lac_st_count(f) == 2 && lac_st_find(f, "y"), "file replaced");
  lac_st_free(f);
  CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640, "mode kept");
  CHECK(count_tmp_files() == 0, "temporary file left behind");

  /* A write that fails midway (file size limit) keeps the old file and removes the temporary. */
  static unsigned char big[1 << 16];
  struct rlimit old_lim, lim;
  CHECK(getrlimit(RLIMIT_FSIZE, &old_lim) == 0, "getrlimit");
  lim = old_lim;
  lim.rlim_cur = 4096;
  void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
  CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0, "setrlimit");
  CHECK_OK(lac_st_writer_new(&w, &err), &err);
  CHECK_OK(lac_st_writer_add(w, "big", LAC_DTYPE_U8, 1, (int64_t[]){sizeof big}, big, &err), &err);
  CHECK(lac_st_writer_write(w, path, &err) == LAC_ERR_IO && strstr(err.message, "write failed"),
        "write past the size limit: %s", err.message);
  lac_st_writer_free(w);
  setrlimit(RLIMIT_FSIZE, &old_lim);
  signal(SIGXFSZ, old_sig);
  CHECK_OK(lac_st_read(path, &f, &err), &err);
  CHECK(f && lac_st_count(f) == 2 && lac_st_find(f, "y"), "file kept after a failed write");
  lac_st_free(f);
  CHECK(count_tmp_files() == 0, "temporary file left behind");

  unlink(path);
  snprintf(path, sizeof path, "%s", tpath("target.safetensors/inner"));
  unlink(path);
  rmdir(dir);
}

int main(void) {
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  test_dtypes();
  test_corrupt();
  test_parse_valid();
  test_round_trip();
  test_io();
  rmdir(tmpdir);
  return test_exit("test_safetensors");
}
