/* cli_video.h — video in and out for the `lac` command line, through GStreamer.
 *
 * The reader decodes any file or URI GStreamer can play (uridecodebin), converts to RGB and
 * brings each frame to size x size: a centred square crop then scale ("crop"), or a plain
 * scale that ignores the aspect ratio ("squash").  The writer encodes RGB frames to
 * VP8/WebM through a temporary file renamed at the end.  Messages go to caller buffers;
 * nothing here exits.
 */
#ifndef LAC_CLI_VIDEO_H
#define LAC_CLI_VIDEO_H

#include <stddef.h>
#include <stdint.h>

typedef struct cli_video_reader cli_video_reader;

/* resize: "crop" or "squash".  Returns 0, or -1 with msg set. */
int cli_video_reader_open(const char *path_or_uri, int size, const char *resize,
                          cli_video_reader **out, char *msg, size_t msglen);
/* Next frame into rgb (size * size * 3 bytes, rows packed): 1 = a frame, 0 = end of stream,
 * -1 = error (msg).  *pts_ns receives the frame's timestamp (-1 when it has none). */
int cli_video_reader_next(cli_video_reader *r, uint8_t *rgb, int64_t *pts_ns, char *msg,
                          size_t msglen);
/* Fraction of the stream read so far (0..1), or -1 when the duration is unknown. */
double cli_video_reader_progress(cli_video_reader *r);
/* Frame rate of the decoded stream (0 when unknown). */
double cli_video_reader_fps(const cli_video_reader *r);
void cli_video_reader_close(cli_video_reader *r);

typedef struct cli_video_writer cli_video_writer;

/* A VP8/WebM file of width x height RGB frames at fps_n/fps_d. */
int cli_video_writer_open(const char *path, int width, int height, int fps_n, int fps_d,
                          cli_video_writer **out, char *msg, size_t msglen);
/* rgb: height rows of width * 3 bytes. */
int cli_video_writer_push(cli_video_writer *w, const uint8_t *rgb, char *msg, size_t msglen);
/* Finish (EOS, wait for the muxer) and rename into place; frees w in every case.
 * Returns 0 or -1 (then no file is left behind). */
int cli_video_writer_close(cli_video_writer *w, char *msg, size_t msglen);

/* A one-line progress bar on stderr when it is a terminal: done of total (total <= 0:
 * unknown), with a rate.  cli_progress_end clears the line. */
typedef struct {
  int enabled;
  double t0;
  double last;
} cli_progress;
void cli_progress_begin(cli_progress *p);
void cli_progress_update(cli_progress *p, const char *what, double fraction, int64_t count,
                         const char *unit);
void cli_progress_end(cli_progress *p);
double cli_now(void);

#endif
