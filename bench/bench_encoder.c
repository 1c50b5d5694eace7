/* bench_encoder.c — encoder frames/s on the CPU (a benchmark, not a test).
 *
 *   bench_encoder [--preset resnet50] [--frames 16] [--threads 2] [--reps 5] [--json FILE]
 *
 * Embeds one clip of --frames frames (one trunk batch) --reps times after a warm-up and
 * prints the median frames/s, then one profiled run's time per stage.  bench/run.sh runs
 * it beside PyTorch on the same machine and prints the ratio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

#include "bench_util.h"

int main(int argc, char **argv) {
  const char *preset = "resnet50", *json = NULL;
  int frames = 16, threads = 2, reps = 5;
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(argv[i], "--preset") && v) preset = v, i++;
    else if (!strcmp(argv[i], "--frames") && v) frames = atoi(v), i++;
    else if (!strcmp(argv[i], "--threads") && v) threads = atoi(v), i++;
    else if (!strcmp(argv[i], "--reps") && v) reps = atoi(v), i++;
    else if (!strcmp(argv[i], "--json") && v) json = v, i++;
    else {
      fprintf(stderr, "usage: bench_encoder [--preset P] [--frames N] [--threads T] [--reps R] [--json FILE]\n");
      return 2;
    }
  }
  if (frames < 1 || reps < 1 || reps > 1000) {
    fprintf(stderr, "bench_encoder: --frames and --reps must be positive\n");
    return 2;
  }
  lac_error err;
  lac_arch arch;
  lac_backend *b = NULL;
  lac_model *m = NULL;
  lac_session *s = NULL;
  lac_backend_params bp = lac_backend_default_params();
  bp.n_threads = threads;
  if (lac_arch_preset(preset, &arch, &err) || lac_backend_new(&bp, &b, &err) ||
      lac_model_init_random(b, &arch, 1, &m, &err)) {
    fprintf(stderr, "bench_encoder: %s\n", err.message);
    return 1;
  }
  lac_session_params sp = lac_session_default_params();
  sp.max_batch = frames;
  if (lac_session_new(m, &sp, &s, &err)) {
    fprintf(stderr, "bench_encoder: %s\n", err.message);
    return 1;
  }
  const int S = arch.input_size;
  unsigned char *rgb = malloc((size_t)frames * S * S * 3);
  for (size_t i = 0; i < (size_t)frames * S * S * 3; i++) rgb[i] = (unsigned char)(i * 131 >> 7);
  float *out = malloc(sizeof(float) * frames * arch.embed_dim);
  lac_frames fr = {LAC_PIXELS_RGB8, frames, S, S, 0, rgb};
  double *t = malloc(sizeof(double) * reps);
  lac_session_embed_sequence(s, &fr, out, &err); /* warm-up */
  for (int r = 0; r < reps; r++) {
    double t0 = lac_now();
    if (lac_session_embed_sequence(s, &fr, out, &err)) {
      fprintf(stderr, "bench_encoder: %s\n", err.message);
      return 1;
    }
    t[r] = lac_now() - t0;
  }
  qsort(t, reps, sizeof *t, bench_cmp_double);
  const double med = t[reps / 2], fps = frames / med;
  s->profile = 1;
  memset(s->prof, 0, sizeof s->prof);
  double t0 = lac_now();
  lac_session_embed_sequence(s, &fr, out, &err);
  const double total = lac_now() - t0;
  printf("lac encoder: %s, %d frames of %dx%d, %d threads: median %.3f s = %.2f frames/s "
         "(min %.3f, max %.3f, %d reps)\n",
         preset, frames, S, S, threads, med, fps, t[0], t[reps - 1], reps);
  printf("profile (one run, %.3f s):\n", total);
  for (int i = 0; i < LAC_PROF_N; i++)
    printf("  %-14s %8.1f ms  %5.1f %%\n", lac_prof_names[i], 1e3 * s->prof[i],
           100 * s->prof[i] / total);
  if (json) {
    FILE *f = fopen(json, "w");
    if (f) {
      fprintf(f, "{\"impl\": \"lac\", \"preset\": \"%s\", \"frames\": %d, \"threads\": %d, "
                 "\"median_s\": %.6f, \"fps\": %.4f}\n", preset, frames, threads, med, fps);
      fclose(f);
    }
  }
  free(t);
  free(out);
  free(rgb);
  lac_session_free(s);
  lac_model_free(m);
  lac_backend_free(b);
  return 0;
}
