/* fileio.h — atomic file writes (lib/core/fileio.c). */
#ifndef LAC_CORE_FILEIO_H
#define LAC_CORE_FILEIO_H

#include <stdio.h>

#include "lac/lac.h"

/* Write path through a mkstemp temporary in its folder: write_body(fp, user) returns 0 on
 * failure; the file is fsync'ed and renamed over path, and a failed write leaves path as
 * it was. */
lac_status lac_write_file_atomic(const char *path, int (*write_body)(FILE *fp, void *user),
                                 void *user, lac_error *err);

#endif
