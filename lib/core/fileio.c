/* fileio.c — atomic file writes: a mkstemp temporary in the target's folder, written by the
 * caller's function, fsync'ed and renamed over the target.  Used by every writer of the
 * library (safetensors, dataset labels); depends on libc only, so the fuzz build links it
 * as it is. */
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
