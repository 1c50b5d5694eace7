/* cli.h — what the `lac` command line's files share: common options, the backend, option
 * parsing, and (when built with GStreamer) the video commands of cli_video.c/cli_eval.c.
 * Exit codes everywhere: 0 ok, 1 failure, 2 usage error. */
#ifndef LAC_CLI_H
#define LAC_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "lac/lac.h"

typedef struct {
  int threads;
  int verbose;
} common_opts;

void cli_log_cb(lac_log_level level, const char *msg, void *user);
int cli_make_backend(const common_opts *o, lac_backend **b);
/* Integer option value in [lo, hi]; prints the problem and returns 2 when it is not. */
int cli_parse_int(const char *opt, const char *v, long lo, long hi, long *out);
int cli_parse_double(const char *opt, const char *v, double lo, double hi, double *out);
/* --threads N / --verbose; returns 1 when argv[*i] was consumed (*rc = 2 on a bad value). */
int cli_common_opt(int argc, char **argv, int *i, common_opts *o, int *rc);

#if LAC_CLI_GST
/* cli_eval.c */
int cli_embed_video(const char *model_path, const char *video, const char *out, const char *resize,
                    int batch, const common_opts *co);
int cmd_dataset(int argc, char **argv, common_opts *co);
int cmd_eval(int argc, char **argv, common_opts *co);
void usage_dataset(FILE *f);
void usage_eval(FILE *f);
#endif

#endif
