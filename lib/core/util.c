/* util.c — logging through the backend's callback, the seeded RNG, aligned allocation.
 * No global state: the RNG state and the log callback live in caller-owned objects. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lac_internal.h"

void lac_log(const lac_backend *b, lac_log_level level, const char *fmt, ...) {
  if (!b || !b->params.log || level > b->params.log_level) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  b->params.log(level, msg, b->params.log_user_data);
}

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void lac_rng_seed(lac_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t lac_rng_next(lac_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double lac_rng_uniform(lac_rng *r) { return (double)(lac_rng_next(r) >> 11) * 0x1.0p-53; }

double lac_rng_normal(lac_rng *r) {
  double u1 = lac_rng_uniform(r), u2 = lac_rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void *lac_alloc(size_t n_bytes) {
  if (n_bytes == 0) n_bytes = 64;
  size_t rounded = (n_bytes + 63) & ~(size_t)63;
  if (rounded < n_bytes) return NULL;
  void *p = aligned_alloc(64, rounded);
  if (p) memset(p, 0, rounded);
  return p;
}

void lac_free(void *p) { free(p); }

/* ---------------------------------------------------------------- atomic file writes */

lac_status lac_write_file_atomic(const char *path, int (*write_body)(FILE *fp, void *user),
                                 void *user, lac_error *err) {
  size_t plen = strlen(path);
  char *tmp = malloc(plen + sizeof ".tmp.XXXXXX");
  if (!tmp) return lac_error_set(err, LAC_ERR_NOMEM, "%s: out of memory", path);
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");

  lac_status st = LAC_OK;
  FILE *fp = NULL;
  int fd = mkstemp(tmp);
  if (fd < 0) {
    st = lac_error_set(err, LAC_ERR_IO, "%s: cannot create temporary file %s: %s", path, tmp,
                       strerror(errno));
    goto out;
  }
  /* mkstemp creates 0600; keep an existing file's mode, else the usual 0644. */
  struct stat sb;
  (void)fchmod(fd, stat(path, &sb) == 0 ? (sb.st_mode & 07777) : 0644);
  if (!(fp = fdopen(fd, "wb"))) {
    st = lac_error_set(err, LAC_ERR_IO, "%s: fdopen: %s", tmp, strerror(errno));
    close(fd);
    goto fail;
  }
  if (!write_body(fp, user) || fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
    st = lac_error_set(err, LAC_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
    fclose(fp);
    goto fail;
  }
  if (fclose(fp) != 0) {
    st = lac_error_set(err, LAC_ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
    goto fail;
  }
  if (rename(tmp, path) != 0) {
    st = lac_error_set(err, LAC_ERR_IO, "%s: cannot rename %s over it: %s", path, tmp,
                       strerror(errno));
    goto fail;
  }
  /* Make the rename durable (best effort: some file systems refuse fsync on folders). */
  char *slash = strrchr(tmp, '/'); /* cut tmp down to its folder ("/" stays "/") */
  if (slash) slash[slash == tmp ? 1 : 0] = '\0';
  int dfd = open(slash ? tmp : ".", O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    (void)fsync(dfd);
    close(dfd);
  }
  goto out;
fail:
  unlink(tmp);
out:
  free(tmp);
  return st;
}
