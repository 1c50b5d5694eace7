/* test_embeddings.c — tests of embeddings files (lac_embeddings_* in lac.h).
 *
 * Covers: round trips with and without timestamps, labels and model_id (and n = 0); NaN/Inf
 * refused on write without touching an existing file; files that are safetensors but not
 * valid embeddings files (a model file, no lac metadata, wrong version, wrong dtypes or ranks,
 * length mismatches, unknown or missing tensors, long model_id, NaN stored in the file), each
 * failing with a message that names the problem; phase names (lac.phase_names) written, read
 * back, absent in older files and refused when malformed.
 * Not covered here: the safetensors layer itself (test_safetensors.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lac/lac.h"
#include "lac/safetensors.h"
#include "testutil.h"

static char tmpdir[] = "/tmp/lac_test_emb_XXXXXX";

/* tmpdir + "/" + name in a static buffer: copy it before the next call. */
static const char *tpath(const char *name) {
  static char buf[256];
  snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
  return buf;
}

static void fill(lac_embeddings *e) {
  for (int64_t i = 0; i < e->n * e->dim; i++) e->data[i] = (float)i * 0.5f - 3.0f;
  for (int64_t i = 0; i < e->n; i++) {
    if (e->timestamps) e->timestamps[i] = 1000000000LL * i + 7;
    if (e->labels) e->labels[i] = i % 3 - 1;
  }
}

static void round_trip(int64_t n, int64_t dim, int ts, int labels, const char *model_id) {
  lac_error err = {0};
  lac_embeddings *e = NULL, *r = NULL;
  CHECK_OK(lac_embeddings_new(n, dim, ts, labels, &e, &err), &err);
  if (!e) return;
  CHECK(e->data && (!ts || e->timestamps) && (!labels || e->labels), "arrays allocated");
  CHECK((ts || !e->timestamps) && (labels || !e->labels), "absent arrays are NULL");
  fill(e);
  snprintf(e->model_id, sizeof e->model_id, "%s", model_id);
  const char *path = tpath("rt.safetensors");
  CHECK_OK(lac_embeddings_write(path, e, &err), &err);
  CHECK_OK(lac_embeddings_read(path, &r, &err), &err);
  if (r) {
    CHECK(r->n == n && r->dim == dim, "shape %lld x %lld", (long long)r->n, (long long)r->dim);
    CHECK(memcmp(r->data, e->data, (size_t)(n * dim) * sizeof(float)) == 0, "data");
    CHECK(!ts == !r->timestamps && !labels == !r->labels, "optional arrays present as written");
    if (ts && r->timestamps)
      CHECK(memcmp(r->timestamps, e->timestamps, (size_t)n * 8) == 0, "timestamps");
    if (labels && r->labels) CHECK(memcmp(r->labels, e->labels, (size_t)n * 8) == 0, "labels");
    CHECK(!strcmp(r->model_id, model_id), "model_id '%s'", r->model_id);
  }
  /* The file carries the expected metadata. */
  lac_st_file *f = NULL;
  CHECK_OK(lac_st_read(path, &f, &err), &err);
  const char *fmt = lac_st_meta_get(f, "lac.format"), *ver = lac_st_meta_get(f, "lac.version");
  CHECK(fmt && !strcmp(fmt, "lac-embeddings") && ver && !strcmp(ver, "1"), "format metadata");
  CHECK(!lac_st_meta_get(f, "lac.model_id") == !model_id[0], "model_id only when set");
  lac_st_free(f);
  lac_embeddings_free(e);
  lac_embeddings_free(r);
  unlink(path);
}

/* Write a raw safetensors file from parts; shapes fixed at n = 4, dim = 2 unless overridden. */
typedef struct {
  const char *format, *version, *model_id, *extra_meta_key;
  lac_dtype emb_dtype, ts_dtype, lab_dtype;
  int emb_ndim, with_emb, with_ts, with_lab;
  int64_t ts_len, lab_len;
  const char *extra_tensor;
  float poison; /* stored at row 2 column 1 when non-zero */
} spec;

static spec good_spec(void) {
  return (spec){.format = "lac-embeddings",
                .version = "1",
                .emb_dtype = LAC_DTYPE_F32,
                .ts_dtype = LAC_DTYPE_I64,
                .lab_dtype = LAC_DTYPE_I64,
                .emb_ndim = 2,
                .with_emb = 1,
                .with_ts = 1,
                .with_lab = 1,
                .ts_len = 4,
                .lab_len = 4};
}

static void write_spec(const char *path, const spec *s) {
  lac_error err = {0};
  lac_st_writer *w = NULL;
  float data[16] = {1, 2, 3, 4, 5, 6, 7, 8}; /* room for the F64 case */
  int64_t ints[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  if (s->poison != 0) data[2 * 2 + 1] = s->poison;
  CHECK_OK(lac_st_writer_new(&w, &err), &err);
  if (s->format) CHECK_OK(lac_st_writer_meta(w, "lac.format", s->format, &err), &err);
  if (s->version) CHECK_OK(lac_st_writer_meta(w, "lac.version", s->version, &err), &err);
  if (s->model_id) CHECK_OK(lac_st_writer_meta(w, "lac.model_id", s->model_id, &err), &err);
  if (s->extra_meta_key) CHECK_OK(lac_st_writer_meta(w, s->extra_meta_key, "x", &err), &err);
  int64_t eshape[2] = {4, 2};
  if (s->emb_ndim == 1) eshape[0] = 8;
  if (s->with_emb)
    CHECK_OK(lac_st_writer_add(w, "embeddings", s->emb_dtype, s->emb_ndim, eshape, data, &err),
             &err);
  if (s->with_ts)
    CHECK_OK(lac_st_writer_add(w, "timestamps", s->ts_dtype, 1, &s->ts_len, ints, &err), &err);
  if (s->with_lab)
    CHECK_OK(lac_st_writer_add(w, "labels", s->lab_dtype, 1, &s->lab_len, ints, &err), &err);
  if (s->extra_tensor)
    CHECK_OK(lac_st_writer_add(w, s->extra_tensor, LAC_DTYPE_F32, 1, (int64_t[]){2}, data, &err),
             &err);
  CHECK_OK(lac_st_writer_write(w, path, &err), &err);
  lac_st_writer_free(w);
}

/* Write s, read it back, expect `code` with `want` (and the path) in the message. */
static void expect_read_(int line, const spec *s, lac_status code, const char *want) {
  const char *path = tpath("bad.safetensors");
  write_spec(path, s);
  lac_error err = {0};
  lac_embeddings *e = (lac_embeddings *)&err; /* must be reset to NULL */
  lac_status st = lac_embeddings_read(path, &e, &err);
  CHECK(st == code, "line %d: status %s, expected %s (%s)", line, lac_status_string(st),
        lac_status_string(code), err.message);
  CHECK(code != LAC_OK || e != NULL, "line %d: no result", line);
  CHECK(code == LAC_OK || e == NULL, "line %d: *out not NULL on failure", line);
  CHECK(code == LAC_OK || (strstr(err.message, path) && strstr(err.message, want)),
        "line %d: message '%s' lacks the path or '%s'", line, err.message, want);
  if (getenv("LAC_TEST_VERBOSE")) printf("line %d: %s\n", line, err.message);
  if (st == LAC_OK) lac_embeddings_free(e);
  unlink(path);
}
#define EXPECT_READ(s, code, want) expect_read_(__LINE__, &(s), code, want)

/* Phase names: a round trip (with characters JSON must escape), a file without them (as
 * older writers made) reading with none, bad lac.phase_names refused, NULL names refused. */
static void test_phase_names(void) {
  lac_error err = {0};
  lac_embeddings *e = NULL, *r = NULL;
  CHECK_OK(lac_embeddings_new(3, 2, 0, 1, &e, &err), &err);
  if (!e) return;
  fill(e);
  const char *names[] = {"reach", "pour \"slowly\"", "caf\xc3\xa9\\back"};
  CHECK_OK(lac_embeddings_set_phase_names(e, 3, names, &err), &err);
  CHECK_OK(lac_embeddings_set_phase_names(e, 3, names, &err), &err); /* replaces, no leak */
  const char *path = tpath("names.safetensors");
  CHECK_OK(lac_embeddings_write(path, e, &err), &err);
  CHECK_OK(lac_embeddings_read(path, &r, &err), &err);
  CHECK(r && r->n_phase_names == 3, "%lld names read back", r ? (long long)r->n_phase_names : -1LL);
  for (int i = 0; r && i < 3 && i < r->n_phase_names; i++)
    CHECK(!strcmp(r->phase_names[i], names[i]), "name %d: '%s', wrote '%s'", i, r->phase_names[i],
          names[i]);
  lac_st_file *f = NULL;
  CHECK_OK(lac_st_read(path, &f, &err), &err);
  const char *json = f ? lac_st_meta_get(f, "lac.phase_names") : NULL;
  CHECK(json && json[0] == '[', "lac.phase_names metadata is a JSON list: %s", json ? json : "-");
  lac_st_free(f);
  lac_embeddings_free(r);
  r = NULL;
  /* cleared: written without the metadata, read with no names */
  CHECK_OK(lac_embeddings_set_phase_names(e, 0, NULL, &err), &err);
  CHECK_OK(lac_embeddings_write(path, e, &err), &err);
  CHECK_OK(lac_embeddings_read(path, &r, &err), &err);
  CHECK(r && r->n_phase_names == 0 && r->phase_names == NULL, "no names");
  lac_embeddings_free(r);
  const char *bad[] = {"a", NULL};
  CHECK(lac_embeddings_set_phase_names(e, 2, bad, &err) == LAC_ERR_INVALID_ARG, "NULL name");
  CHECK(e->n_phase_names == 0, "names unchanged after a refused call");
  lac_embeddings_free(e);
  unlink(path);
  /* a file of the older format (no lac.phase_names) and a malformed value */
  spec s = good_spec();
  EXPECT_READ(s, LAC_OK, "");
  s.extra_meta_key = "lac.phase_names"; /* value "x": not JSON */
  EXPECT_READ(s, LAC_ERR_FORMAT, "lac.phase_names is not a JSON list of strings");
}

static void test_bad_files(void) {
  spec s = good_spec();
  lac_error err = {0};
  lac_embeddings *e = NULL;
  write_spec(tpath("good.safetensors"), &s);
  CHECK_OK(lac_embeddings_read(tpath("good.safetensors"), &e, &err), &err);
  CHECK(e && e->n == 4 && e->dim == 2 && e->data[7] == 8 && e->labels[3] == 3, "good spec");
  lac_embeddings_free(e);
  unlink(tpath("good.safetensors"));

  s = good_spec();
  s.format = "lac-model";
  s.extra_meta_key = "lac.arch.trunk";
  EXPECT_READ(s, LAC_ERR_FORMAT,
              "lac.format is 'lac-model', expected 'lac-embeddings'; the file "
              "seems to be a lac model file");
  s = good_spec();
  s.format = NULL;
  s.extra_meta_key = "lac.arch.d_model";
  EXPECT_READ(s, LAC_ERR_FORMAT, "lac.format is missing");
  EXPECT_READ(s, LAC_ERR_FORMAT, "a lac model file");
  s = good_spec();
  s.format = NULL;
  s.with_emb = s.with_ts = s.with_lab = 0;
  s.extra_tensor = "conv1.weight";
  EXPECT_READ(s, LAC_ERR_FORMAT, "PyTorch state_dict");
  s = good_spec();
  s.format = "something-else";
  EXPECT_READ(s, LAC_ERR_FORMAT, "another lac format");
  s = good_spec();
  s.version = "2";
  EXPECT_READ(s, LAC_ERR_UNSUPPORTED, "version '2'");
  s = good_spec();
  s.version = NULL;
  EXPECT_READ(s, LAC_ERR_FORMAT, "lac.version metadata missing");

  s = good_spec();
  s.lab_dtype = LAC_DTYPE_I32;
  EXPECT_READ(s, LAC_ERR_FORMAT, "tensor 'labels' is I32 of rank 1, expected I64 of rank 1");
  s = good_spec();
  s.emb_dtype = LAC_DTYPE_F64;
  EXPECT_READ(s, LAC_ERR_FORMAT, "tensor 'embeddings' is F64");
  s = good_spec();
  s.emb_ndim = 1;
  EXPECT_READ(s, LAC_ERR_FORMAT, "'embeddings' is F32 of rank 1, expected F32 of rank 2");
  s = good_spec();
  s.ts_len = 3;
  EXPECT_READ(s, LAC_ERR_FORMAT, "tensor 'timestamps' has 3 entries, expected 4");
  s = good_spec();
  s.lab_len = 5;
  EXPECT_READ(s, LAC_ERR_FORMAT, "tensor 'labels' has 5 entries, expected 4");
  s = good_spec();
  s.extra_tensor = "scores";
  EXPECT_READ(s, LAC_ERR_FORMAT, "unknown tensor 'scores'");
  s = good_spec();
  s.with_emb = 0;
  EXPECT_READ(s, LAC_ERR_FORMAT, "tensor 'embeddings' missing");
  s = good_spec();
  s.model_id = "0123456789012345678901234567890123456789012345678901234567890123";
  EXPECT_READ(s, LAC_ERR_FORMAT, "lac.model_id is 64 bytes, expected at most 63");
  s.model_id = "012345678901234567890123456789012345678901234567890123456789012";
  EXPECT_READ(s, LAC_OK, "");
  s = good_spec();
  s.poison = NAN;
  EXPECT_READ(s, LAC_ERR_NUMERIC, "row 2 column 1 is NaN");
  s.poison = -INFINITY;
  EXPECT_READ(s, LAC_ERR_NUMERIC, "row 2 column 1 is -Inf");

  /* dim 0 (valid safetensors, invalid embeddings). */
  const char *zpath = tpath("dim0.safetensors");
  lac_st_writer *w = NULL;
  CHECK_OK(lac_st_writer_new(&w, &err), &err);
  CHECK_OK(lac_st_writer_meta(w, "lac.format", "lac-embeddings", &err), &err);
  CHECK_OK(lac_st_writer_meta(w, "lac.version", "1", &err), &err);
  CHECK_OK(lac_st_writer_add(w, "embeddings", LAC_DTYPE_F32, 2, (int64_t[]){3, 0}, NULL, &err),
           &err);
  CHECK_OK(lac_st_writer_write(w, zpath, &err), &err);
  lac_st_writer_free(w);
  CHECK(lac_embeddings_read(zpath, &e, &err) == LAC_ERR_FORMAT &&
            strstr(err.message, "shape [3, 0], expected dim >= 1"),
        "dim 0: %s", err.message);
  unlink(zpath);

  /* Not a safetensors file at all, and a missing one. */
  const char *path = tpath("junk.safetensors");
  FILE *fp = fopen(path, "wb");
  if (fp) {
    fputs("hello, this is text", fp);
    fclose(fp);
  }
  e = NULL;
  CHECK(lac_embeddings_read(path, &e, &err) == LAC_ERR_FORMAT && strstr(err.message, path) && !e,
        "junk: %s", err.message);
  unlink(path);
  CHECK(lac_embeddings_read(path, &e, &err) == LAC_ERR_IO && strstr(err.message, path),
        "missing: %s", err.message);
}

static void test_write_errors(void) {
  lac_error err = {0};
  lac_embeddings *e = NULL;
  char path[256];
  snprintf(path, sizeof path, "%s", tpath("keep.safetensors"));
  CHECK_OK(lac_embeddings_new(3, 4, 0, 0, &e, &err), &err);
  if (!e) return;
  fill(e);
  CHECK_OK(lac_embeddings_write(path, e, &err), &err);

  e->data[1 * 4 + 2] = NAN;
  CHECK(lac_embeddings_write(path, e, &err) == LAC_ERR_NUMERIC &&
            strstr(err.message, "row 1 column 2 is NaN") && strstr(err.message, path),
        "NaN on write: %s", err.message);
  e->data[1 * 4 + 2] = INFINITY;
  CHECK(lac_embeddings_write(path, e, &err) == LAC_ERR_NUMERIC &&
            strstr(err.message, "row 1 column 2 is +Inf"),
        "Inf on write: %s", err.message);
  lac_embeddings *r = NULL;
  CHECK_OK(lac_embeddings_read(path, &r, &err), &err);
  CHECK(r && r->n == 3 && isfinite(r->data[6]), "existing file untouched");
  lac_embeddings_free(r);
  e->data[6] = 0;

  e->n = -1;
  CHECK(lac_embeddings_write(path, e, &err) == LAC_ERR_INVALID_ARG && strstr(err.message, "n = -1"),
        "n < 0 on write: %s", err.message);
  e->n = 3;
  memset(e->model_id, 'x', sizeof e->model_id);
  CHECK(lac_embeddings_write(path, e, &err) == LAC_ERR_INVALID_ARG, "unterminated model_id");
  e->model_id[0] = '\0';
  CHECK(lac_embeddings_write(tpath("no/such/dir.safetensors"), e, &err) == LAC_ERR_IO,
        "missing folder: %s", err.message);
  lac_embeddings_free(e);
  unlink(path);

  e = (lac_embeddings *)&err;
  CHECK(lac_embeddings_new(-1, 4, 0, 0, &e, &err) == LAC_ERR_INVALID_ARG && e == NULL, "n < 0");
  CHECK(lac_embeddings_new(2, 0, 0, 0, &e, &err) == LAC_ERR_INVALID_ARG, "dim 0");
  CHECK(lac_embeddings_new(INT64_MAX / 2, INT64_MAX / 2, 0, 0, &e, &err) == LAC_ERR_INVALID_ARG,
        "n * dim overflow");
  lac_embeddings_free(NULL);
}

int main(void) {
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  round_trip(5, 3, 1, 1, "0123456789abcdef");
  round_trip(7, 16, 0, 0, "");
  round_trip(4, 2, 1, 0, "m");
  round_trip(4, 2, 0, 1, "");
  round_trip(0, 128, 1, 1, "empty");
  test_bad_files();
  test_phase_names();
  test_write_errors();
  rmdir(tmpdir);
  return test_exit("test_embeddings");
}
