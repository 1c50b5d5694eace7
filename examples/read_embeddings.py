#!/usr/bin/python3
"""read_embeddings.py — read LAC embeddings from a GStreamer pipeline in Python.

lacencoder attaches a GstLacEmbeddingMeta to every frame it passes.  This example ends the
pipeline in an appsink, pulls each sample and prints, per frame: the timestamp, the meta's
flags and step, the model id (once) and the first values of the embedding; when the frames
come from lacsynthsrc it also prints their phase label (GstLacPhaseMeta).

    read_embeddings.py --model m.safetensors                   # lacsynthsrc ! lacencoder
    read_embeddings.py --model m.safetensors --video a.webm    # filesrc ! decodebin ! lacencoder
    read_embeddings.py --pipeline \
        "videotestsrc num-buffers=10 ! lacencoder model-location=m.safetensors"

--pipeline takes any gst-launch description; the example appends `! appsink`.

Needs python3-gi, gir1.2-gstreamer-1.0 and the GstLac typelib (installed with lac, or from a
build tree: GI_TYPELIB_PATH=BUILD/gst LD_LIBRARY_PATH=BUILD/gst and, for the elements,
GST_PLUGIN_PATH=BUILD/gst).  Metas live only inside the process: to keep embeddings, set
lacencoder's embeddings-location (a file) or save what you read here.
Not here: any processing of the embeddings (see lacalign for alignment).
"""
import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstLac", "1.0")  # our metas: GstLac-1.0.typelib
from gi.repository import Gst, GstLac  # noqa: E402


def pipeline_description(args):
    """The gst-launch description, without its sink."""
    if args.pipeline:
        return args.pipeline
    if not args.model:
        raise SystemExit("read_embeddings.py: --model MODEL.safetensors is needed "
                         "(or give a whole --pipeline)")
    encoder = 'lacencoder model-location="%s"' % args.model
    if args.video:
        # decodebin gives whatever the decoder produces (I420, NV12, ...): lacencoder takes
        # it as it comes and converts to the model's input itself
        return 'filesrc location="%s" ! decodebin ! %s' % (args.video, encoder)
    return "lacsynthsrc num-buffers=%d ! %s" % (args.frames, encoder)


def flag_names(flags):
    names = [n for n, f in (("partial", GstLac.EmbeddingFlags.WINDOW_PARTIAL),
                            ("reused", GstLac.EmbeddingFlags.REUSED)) if flags & f]
    return ",".join(names) or "-"


def describe(buf, n_values):
    """One line for a buffer: time, flags, step, the first values and the phase label."""
    pts = "%.3f" % (buf.pts / Gst.SECOND) if buf.pts != Gst.CLOCK_TIME_NONE else "none"
    # the typed getter from the GstLac library; buf.get_meta("GstLacEmbeddingMetaAPI")
    # would only give a plain Gst.Meta without the fields
    meta = GstLac.buffer_get_lac_embedding_meta(buf)
    if meta is None:
        line = "t=%s  no embedding" % pts
    else:
        values = meta.get_values()  # a list of meta.dim floats, copied out of the meta
        first = " ".join("%+.4f" % v for v in values[:n_values])
        line = "t=%s  flags=%s step=%d dim=%d  [%s%s]" % (
            pts, flag_names(meta.flags), meta.step, meta.dim, first,
            " ..." if len(values) > n_values else "")
    phase = GstLac.buffer_get_lac_phase_meta(buf)
    if phase is not None:
        line += "  phase=%s" % (phase.phase_name if phase.phase >= 0 else "(none)")
    return line, meta


def read_frames(pipe, sink, n_values=4, out=sys.stdout, timeout=10 * Gst.SECOND):
    """Plays `pipe` and prints a line per sample of `sink` until EOS.

    Returns the number of frames that carried an embedding; raises RuntimeError on a
    pipeline error or when no sample comes for `timeout`."""
    bus = pipe.get_bus()
    frames = embedded = 0
    model_id = None
    try:
        if pipe.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            raise RuntimeError(error_text(bus) or "the pipeline does not start")
        while True:
            sample = sink.emit("try-pull-sample", timeout)
            if sample is None:
                if sink.get_property("eos"):
                    break
                raise RuntimeError(error_text(bus) or "no frame for %d s" % (timeout // Gst.SECOND))
            line, meta = describe(sample.get_buffer(), n_values)
            if meta is not None:
                embedded += 1
                if meta.model_id != model_id:
                    model_id = meta.model_id
                    print("model %s" % model_id, file=out)
            print("%5d %s" % (frames, line), file=out)
            frames += 1
        err = error_text(bus)
        if err:
            raise RuntimeError(err)
    finally:
        pipe.set_state(Gst.State.NULL)
    print("%d frames, %d with an embedding" % (frames, embedded), file=out)
    return embedded


def error_text(bus):
    msg = bus.pop_filtered(Gst.MessageType.ERROR)
    if msg is None:
        return None
    err, debug = msg.parse_error()
    return "%s (%s)" % (err.message, debug) if debug else err.message


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="lacencoder's model-location")
    ap.add_argument("--video", help="a video file (filesrc ! decodebin)")
    ap.add_argument("--pipeline", help="a gst-launch description producing the frames")
    ap.add_argument("--frames", type=int, default=30, help="lacsynthsrc frames (default 30)")
    ap.add_argument("--values", type=int, default=4, help="values printed per frame")
    args = ap.parse_args(argv)
    Gst.init(None)
    desc = pipeline_description(args) + " ! appsink name=lacsink sync=false"
    try:
        pipe = Gst.parse_launch(desc)
    except gi.repository.GLib.Error as e:
        print("read_embeddings.py: %s: %s" % (desc, e.message), file=sys.stderr)
        return 1
    try:
        embedded = read_frames(pipe, pipe.get_by_name("lacsink"), args.values)
    except RuntimeError as e:
        print("read_embeddings.py: %s" % e, file=sys.stderr)
        return 1
    return 0 if embedded > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
