#!/usr/bin/python3
"""test_meta_gi.py — the gstlac-1.0 metas from Python, through the GstLac typelib.

Checks what docs/metas.md promises a Python user: GstLac.buffer_add_lac_embedding_meta /
buffer_get_lac_embedding_meta, meta.get_values() (a list of floats), meta.data, model_id,
flags (GstLac.EmbeddingFlags), step, the phase meta likewise, copies keeping them, and the
metas read back from samples pulled from `appsrc ! videoconvert ! appsink` (a real conversion
RGB -> I420), each carrying its own frame's values.  At the end gst_deinit with the leaks
tracer (GST_TRACERS=leaks, G_DEBUG=fatal-warnings) aborts if anything is still alive.
Not here: lacencoder's values (its own tests), the C API (test_lacmeta.c).

Run by meson with Debian's /usr/bin/python3, GI_TYPELIB_PATH and LD_LIBRARY_PATH set to the
build tree's gst/ folder; its argument, when given, is examples/read_embeddings.py, whose
reading part is run on frames from appsrc.  With --e2e EXAMPLE LAC WORKDIR it runs the example
end to end with lacsynthsrc and lacencoder instead.  Exits 0 when every check passes, 1 otherwise.
"""
import gc
import importlib.util
import io
import json
import os
import re
import struct
import subprocess
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("GstLac", "1.0")
from gi.repository import Gst, GstApp, GstLac  # noqa: E402

failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def frame_values(frame, dim):
    # exactly representable in float32, so equality after the round trip is exact
    return [frame * 1000.0 + j / 8.0 - 3.0 for j in range(dim)]


MODEL_ID = "0123456789abcdef"


def test_buffer():
    buf = Gst.Buffer.new_allocate(None, 64, None)
    check(GstLac.buffer_get_lac_embedding_meta(buf) is None, "a new buffer has no meta")
    values = frame_values(5, 128)
    flags = GstLac.EmbeddingFlags.WINDOW_PARTIAL | GstLac.EmbeddingFlags.REUSED
    meta = GstLac.buffer_add_lac_embedding_meta(buf, values, MODEL_ID, flags, 2**40)
    check(meta is not None, "buffer_add_lac_embedding_meta returned None")
    m = GstLac.buffer_get_lac_embedding_meta(buf)
    check(isinstance(m, GstLac.EmbeddingMeta), "the typed getter gives a GstLac.EmbeddingMeta")
    check(m.dim == 128, "dim %d" % m.dim)
    check(m.get_values() == values, "get_values() differs from what was added")
    check(list(m.data) == values, "meta.data differs from what was added")
    check(m.model_id == MODEL_ID, "model_id %r" % m.model_id)
    check(m.flags == flags and int(m.flags) == 3, "flags %r" % m.flags)
    check(bool(m.flags & GstLac.EmbeddingFlags.REUSED), "REUSED flag not set")
    check(m.step == 2**40, "step %d" % m.step)

    # no model id, one value
    b2 = Gst.Buffer.new()
    m2 = GstLac.buffer_add_lac_embedding_meta(b2, [0.5], None, GstLac.EmbeddingFlags.NONE, 0)
    check(m2.model_id is None and m2.get_values() == [0.5] and m2.flags == 0, "minimal meta")

    # the generic getter only knows Gst.Meta: it finds the meta but not its fields
    generic = buf.get_meta("GstLacEmbeddingMetaAPI")
    check(generic is not None, "buf.get_meta('GstLacEmbeddingMetaAPI') found nothing")
    check(GstLac.EmbeddingMeta.get_info() is not None, "EmbeddingMeta.get_info()")
    check(GstLac.embedding_meta_api_get_type().name == "GstLacEmbeddingMetaAPI",
          "embedding_meta_api_get_type()")
    check(Gst.meta_api_type_get_tags(GstLac.embedding_meta_api_get_type()) in ([], None),
          "the embedding meta API has tags")

    # the phase meta
    p = GstLac.buffer_add_lac_phase_meta(buf, "pour", 2, 5, "pour", 1, 3, 17)
    check(p is not None, "buffer_add_lac_phase_meta returned None")
    p = GstLac.buffer_get_lac_phase_meta(buf)
    check((p.phase, p.n_phases, p.phase_name, p.action, p.repetition, p.video_index,
           p.frame_index) == (2, 5, "pour", "pour", 1, 3, 17), "phase meta fields")
    check(GstLac.buffer_get_lac_phase_meta(b2) is None, "phase meta on a buffer without one")

    # a copy carries both, with its own values
    c = buf.copy()
    mc = GstLac.buffer_get_lac_embedding_meta(c)
    check(mc is not None and mc.get_values() == values and mc.step == 2**40, "copy: embedding")
    pc = GstLac.buffer_get_lac_phase_meta(c)
    check(pc is not None and pc.frame_index == 17, "copy: phase meta")
    del buf, b2, c, m, m2, mc, meta, p, pc, generic


def test_pipeline(n=10, w=32, h=24):
    pipe = Gst.parse_launch("appsrc name=src format=time ! videoconvert "
                            "! video/x-raw,format=I420 ! appsink name=sink sync=false")
    src = pipe.get_by_name("src")
    sink = pipe.get_by_name("sink")
    src.set_caps(Gst.Caps.from_string(
        "video/x-raw,format=RGB,width=%d,height=%d,framerate=10/1" % (w, h)))
    check(pipe.set_state(Gst.State.PLAYING) != Gst.StateChangeReturn.FAILURE, "PLAYING")
    for i in range(n):
        buf = Gst.Buffer.new_wrapped(bytes([16 + 20 * i]) * (w * h * 3))
        buf.pts = i * Gst.SECOND // 10
        buf.duration = Gst.SECOND // 10
        flags = GstLac.EmbeddingFlags.WINDOW_PARTIAL if i < 3 else GstLac.EmbeddingFlags.NONE
        GstLac.buffer_add_lac_embedding_meta(buf, frame_values(i, 16), MODEL_ID, flags, i)
        GstLac.buffer_add_lac_phase_meta(buf, "squat", i % 4, 4, "p%d" % (i % 4), 0, 0, i)
        check(src.emit("push-buffer", buf) == Gst.FlowReturn.OK, "push-buffer %d" % i)
    src.emit("end-of-stream")
    got = 0
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        buf = sample.get_buffer()
        caps = sample.get_caps().get_structure(0)
        check(caps.get_value("format") == "I420", "converted to I420")
        m = GstLac.buffer_get_lac_embedding_meta(buf)
        check(m is not None, "sample %d has no embedding meta" % got)
        if m is not None:
            check(m.get_values() == frame_values(got, 16), "sample %d: values" % got)
            check(m.step == got and m.model_id == MODEL_ID, "sample %d: step/model" % got)
            check(bool(m.flags & GstLac.EmbeddingFlags.WINDOW_PARTIAL) == (got < 3),
                  "sample %d: flags %r" % (got, m.flags))
        p = GstLac.buffer_get_lac_phase_meta(buf)
        check(p is not None and p.frame_index == got and p.phase_name == "p%d" % (got % 4),
              "sample %d: phase meta" % got)
        got += 1
        del buf, m, p, sample
    check(got == n, "pulled %d samples of %d" % (got, n))
    check(sink.get_property("eos"), "no EOS")
    bus = pipe.get_bus()
    err = bus.pop_filtered(Gst.MessageType.ERROR)
    check(err is None, "error on the bus: %s" % (err.parse_error()[0].message if err else ""))
    pipe.set_state(Gst.State.NULL)
    del pipe, src, sink, bus, err


def test_example(path):
    """examples/read_embeddings.py's reading part on frames from appsrc: one line per frame
    with its time, flags, step and first values, the model id once, frames without an
    embedding said so, and the count at the end."""
    spec = importlib.util.spec_from_file_location("read_embeddings", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)

    args = example.argparse.Namespace(pipeline=None, model="m.safetensors", video=None,
                                      frames=7)
    check(example.pipeline_description(args) ==
          'lacsynthsrc num-buffers=7 ! lacencoder model-location="m.safetensors"',
          "synthetic pipeline: %s" % example.pipeline_description(args))
    args.video = "a.webm"
    check(example.pipeline_description(args) == 'filesrc location="a.webm" ! decodebin ! '
          'lacencoder model-location="m.safetensors"', "file pipeline")

    pipe = Gst.parse_launch("appsrc name=src format=time ! videoconvert "
                            "! video/x-raw,format=NV12 ! appsink name=sink sync=false")
    src = pipe.get_by_name("src")
    src.set_caps(Gst.Caps.from_string("video/x-raw,format=RGB,width=16,height=16,framerate=25/1"))
    n = 6
    for i in range(n):
        buf = Gst.Buffer.new_wrapped(bytes(16 * 16 * 3))
        buf.pts = i * Gst.SECOND // 25
        if i != 4:  # frame 4 has no embedding
            flags = GstLac.EmbeddingFlags.WINDOW_PARTIAL if i < 2 else GstLac.EmbeddingFlags.NONE
            if i == 5:
                flags = GstLac.EmbeddingFlags.REUSED
            GstLac.buffer_add_lac_embedding_meta(buf, frame_values(i, 8), MODEL_ID, flags, i)
        if i == 1:
            GstLac.buffer_add_lac_phase_meta(buf, "pour", 3, 5, "tilt-back", 0, 0, i)
        src.emit("push-buffer", buf)
    src.emit("end-of-stream")
    out = io.StringIO()
    embedded = example.read_frames(pipe, pipe.get_by_name("sink"), 3, out=out)
    lines = out.getvalue().splitlines()
    check(embedded == n - 1, "read_frames counted %d embedded frames" % embedded)
    check(lines[0] == "model " + MODEL_ID, "first line: %r" % lines[0])
    frame_lines = lines[1:-1]
    check(len(frame_lines) == n, "%d frame lines" % len(frame_lines))
    for i, line in enumerate(frame_lines):
        v = frame_values(i, 8)[:3]
        want = "%5d t=%.3f  " % (i, i / 25)
        if i == 4:
            want += "no embedding"
        else:
            flags = "partial" if i < 2 else "reused" if i == 5 else "-"
            want += "flags=%s step=%d dim=8  [%s ...]" % (flags, i,
                                                          " ".join("%+.4f" % x for x in v))
        if i == 1:
            want += "  phase=tilt-back"
        check(line == want, "frame %d: %r, wanted %r" % (i, line, want))
    check(lines[-1] == "%d frames, %d with an embedding" % (n, n - 1), "last: %r" % lines[-1])
    del pipe, src, out


def read_embeddings_file(path):
    """The "embeddings" F32 [n, dim] and "timestamps" I64 [n] tensors of a safetensors file
    (8-byte little-endian header size, JSON header, packed data), read here with the standard
    library only: an oracle independent of GStreamer."""
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8:8 + hlen])
    data = raw[8 + hlen:]

    def tensor(name, code):
        t = header[name]
        a, b = t["data_offsets"]
        return t["shape"], list(struct.unpack("<%d%s" % ((b - a) // struct.calcsize(code), code),
                                              data[a:b]))
    (n, dim), flat = tensor("embeddings", "f")
    _, ts = tensor("timestamps", "q")
    return [flat[i * dim:(i + 1) * dim] for i in range(n)], ts


def run_example(example, *args, timeout=300):
    r = subprocess.run([sys.executable, example, *args], capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != 0:
        print(r.stdout, r.stderr, file=sys.stderr)
    return r.returncode, r.stdout.splitlines()


def test_example_e2e(example, lac, work):
    """examples/read_embeddings.py end to end with lacsynthsrc and lacencoder: every frame
    embedded by the model given, the phase labels of lacsynthsrc carried through lacencoder,
    and the printed values equal to the embeddings file lacencoder writes at EOS; then a
    WebM file through filesrc ! decodebin ! lacencoder (no videoconvert): embeddings, but no
    phase labels any more (metas do not survive files)."""
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "model.safetensors")
    r = subprocess.run([lac, "model", "init", "--arch", "resnet18-112", "--seed", "3",
                        "-o", model], capture_output=True, text=True, check=True)
    model_id = re.search(r"id ([0-9a-f]{16})", r.stdout).group(1)

    n, dim = 10, 128
    emb = os.path.join(work, "synth.emb.safetensors")
    rc, lines = run_example(example, "--values", str(dim), "--pipeline",
                            "lacsynthsrc action=squat seed=2 num-buffers=%d ! lacencoder "
                            'model-location="%s" embeddings-location="%s"' % (n, model, emb))
    check(rc == 0, "example on lacsynthsrc ! lacencoder exited %d" % rc)
    if rc != 0:
        return
    check(lines[0] == "model " + model_id, "model line %r, the model's id is %s" %
          (lines[0], model_id))
    check(lines[-1] == "%d frames, %d with an embedding" % (n, n), "last line %r" % lines[-1])
    rows, ts = read_embeddings_file(emb)
    check(len(rows) == n and len(ts) == n, "the embeddings file has %d rows" % len(rows))
    frame_lines = lines[1:-1]
    check(len(frame_lines) == n, "%d frame lines" % len(frame_lines))
    worst = 0.0
    for i, line in enumerate(frame_lines[:len(rows)]):
        m = re.match(r"\s*(\d+) t=([\d.]+)  flags=(\S+) step=(\d+) dim=(\d+)  \[([^\]]*)\]"
                     r"  phase=(\S+)$", line)
        check(m is not None, "frame line %r" % line)
        if m is None:
            continue
        check(int(m.group(5)) == dim, "frame %d: dim %s" % (i, m.group(5)))
        check(abs(float(m.group(2)) - ts[i] / 1e9) < 1e-3, "frame %d: time %s, file %d ns" %
              (i, m.group(2), ts[i]))
        values = [float(v) for v in m.group(6).split()]
        err = max(abs(a - b) for a, b in zip(values, rows[i]))
        worst = max(worst, err)
        check(len(values) == dim and err <= 5e-5,
              "frame %d: printed values differ from the file by %g" % (i, err))
    # the example prints 4 decimals: 5e-5 is its rounding, nothing looser
    print("max |printed - file| = %.2g over %d frames" % (worst, n))

    # through a file: filesrc ! decodebin ! lacencoder, as the user writes it
    video = os.path.join(work, "squat.webm")
    subprocess.run(["gst-launch-1.0", "-q", "lacsynthsrc", "action=squat", "seed=2",
                    "num-buffers=%d" % n, "!", "video/x-raw,width=96,height=72", "!",
                    "videoconvert", "!", "vp8enc", "deadline=1", "!", "webmmux", "!",
                    "filesink", "location=" + video], check=True, timeout=120)
    rc, lines = run_example(example, "--model", model, "--video", video)
    check(rc == 0, "example on a WebM file exited %d" % rc)
    check(lines and lines[-1] == "%d frames, %d with an embedding" % (n, n),
          "file: last line %r" % (lines[-1] if lines else None))
    check(not any("phase=" in l for l in lines), "a phase label survived a file")


def main():
    Gst.init(None)
    if len(sys.argv) > 1 and sys.argv[1] == "--e2e":
        # test_meta_gi.py --e2e EXAMPLE LAC WORKDIR (GST_PLUGIN_PATH reaching lacencoder and
        # lacsynthsrc)
        test_example_e2e(sys.argv[2], sys.argv[3], sys.argv[4])
        print("test_meta_gi --e2e: %d checks, %d failed" % (checks, failures))
        return 1 if failures else 0
    test_buffer()
    test_pipeline()
    if len(sys.argv) > 1:
        test_example(sys.argv[1])
    print("test_meta_gi: %d checks, %d failed" % (checks, failures))
    # everything is released: with GST_TRACERS=leaks, gst_deinit warns about any buffer,
    # sample or element still alive, and G_DEBUG=fatal-warnings (set by meson) turns that
    # warning into an abort, failing the test
    gc.collect()
    Gst.deinit()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
