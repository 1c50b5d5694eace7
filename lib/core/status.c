/* status.c — status codes and error messages (no global state). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lac/lac.h"

const char *lac_status_string(lac_status s) {
  switch (s) {
  case LAC_OK: return "ok";
  case LAC_ERR_INVALID_ARG: return "invalid argument";
  case LAC_ERR_NOMEM: return "out of memory";
  case LAC_ERR_IO: return "i/o error";
  case LAC_ERR_FORMAT: return "invalid file format";
  case LAC_ERR_MODEL_MISMATCH: return "model mismatch";
  case LAC_ERR_UNSUPPORTED: return "unsupported";
  case LAC_ERR_BACKEND: return "backend failure";
  case LAC_ERR_NUMERIC: return "non-finite values";
  }
  return "unknown status";
}

lac_status lac_error_set(lac_error *err, lac_status code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return code;
}

void lac_error_clear(lac_error *err) {
  if (err) {
    err->code = LAC_OK;
    err->message[0] = '\0';
  }
}
