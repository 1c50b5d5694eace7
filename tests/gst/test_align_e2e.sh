#!/bin/sh
# test_align_e2e.sh — lacalign in real gst-launch-1.0 pipelines on files made here:
# lacsynthsrc -> vp8enc ! webmmux -> a reference clip and a stream clip (another seed, with
# a distractor); a random model from `lac model init`; the reference's embeddings from
# lacencoder's embeddings-location.  Checked: the user's line
# `filesrc ! decodebin ! lacencoder ! lacalign reference-location= ! videoconvert ! sink`
# runs, posts one lac-alignment message per frame, writes a CSV with one row per frame and a
# PNG (its signature and size checked with Debian's python3, standard library only); with
# alignment-location=*.json the same alignment as JSON (parsed with python3's json module,
# every frame's fields equal to the CSV's, reference and parameters present); the
# reference through the `reference` pad gives the same CSV as the file and makes 85x64
# thumbnails of its 128x96 raw video (the debug log says so); the overlay reaches
# an encoded output file; a missing reference file fails the pipeline with a message naming
# it; the leaks tracer reports no object alive at exit.
# Usage: test_align_e2e.sh WORKDIR LAC_EXE (GST_PLUGIN_PATH must reach gst/align, gst/encoder
# and gst/synth).
set -eu
work="${1:?usage: test_align_e2e.sh WORKDIR LAC_EXE}/align-e2e"
lac="${2:?usage: test_align_e2e.sh WORKDIR LAC_EXE}"
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

for e in lacalign lacencoder lacsynthsrc; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || fail "$e not found (GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-})"
done
for e in vp8enc webmmux vp8dec matroskademux; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || { echo "SKIP: $e missing (gstreamer1.0-plugins-good)"; exit 77; }
done
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 missing"; exit 77; }

# a gst-launch run that must succeed and leave no object alive (leaks tracer)
launch() { # log pipeline...
  log="$1"; shift
  gst-launch-1.0 "$@" > "$log" 2>&1 || { cat "$log" >&2; fail "pipeline failed: $*"; }
  if grep -qE "object-alive, type-name=.string.[A-Za-z]" "$log"; then grep -E "object-alive, type-name=.string.[A-Za-z]" "$log" >&2; fail "leaks: $*"; fi
}

"$lac" model init --arch resnet18-112 --input-size 80 --train-len 8 -o "$work/model.safetensors" \
  > /dev/null || fail "lac model init"
M="$work/model.safetensors"

NREF=30
N=36
launch "$work/mkref.log" lacsynthsrc action=pour seed=2 num-buffers=$NREF \
  ! video/x-raw,width=128,height=96 ! videoconvert ! vp8enc deadline=1 ! webmmux \
  ! filesink location="$work/ref.webm"
launch "$work/mkstream.log" lacsynthsrc action=pour seed=5 distractor=inside num-buffers=$N \
  ! video/x-raw,width=160,height=120 ! videoconvert ! vp8enc deadline=1 ! webmmux \
  ! filesink location="$work/stream.webm"
launch "$work/embref.log" filesrc location="$work/ref.webm" ! decodebin \
  ! lacencoder model-location="$M" embeddings-location="$work/ref.safetensors" ! fakesink
[ -s "$work/ref.safetensors" ] || fail "no reference embeddings"

# 1. the user's line, with messages (-m), CSV and plot
launch "$work/file.log" -m filesrc location="$work/stream.webm" ! decodebin \
  ! lacencoder model-location="$M" \
  ! lacalign reference-location="$work/ref.safetensors" alignment-location="$work/file.csv" \
      plot-location="$work/file.png" ! videoconvert ! fakesink
msgs=$(grep -c "lac-alignment" "$work/file.log" || true)
[ "$msgs" -eq "$N" ] || fail "file reference: $msgs lac-alignment messages, wanted $N"
rows=$(($(wc -l < "$work/file.csv") - 1))
[ "$rows" -eq "$N" ] || fail "file reference: $rows CSV rows, wanted $N"
head -1 "$work/file.csv" | grep -q "^timestamp,frame,match,online_index" || fail "CSV header"
/usr/bin/python3 - "$work/file.png" "$N" "$NREF" <<'PY' || fail "plot is not the expected PNG"
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature"
w, h = struct.unpack(">II", data[16:24])
n, m = int(sys.argv[2]), int(sys.argv[3])
assert w % m == 0 and h % n == 0 and w // m == h // n, (w, h, n, m)
PY
echo "ok: filesrc ! decodebin ! lacencoder ! lacalign: $msgs messages, $rows CSV rows, plot"

# 1b. alignment-location ending in .json: the same alignment as the CSV, as JSON (parsed with
# Debian's python3 json module; every per-frame field compared with the CSV of run 1)
launch "$work/json.log" filesrc location="$work/stream.webm" ! decodebin \
  ! lacencoder model-location="$M" \
  ! lacalign reference-location="$work/ref.safetensors" alignment-location="$work/file.json" \
  ! fakesink
ls "$work" | grep -q "^file.json.[A-Za-z0-9]" && fail "a temporary JSON file was left behind"
/usr/bin/python3 - "$work/file.json" "$work/file.csv" "$N" "$NREF" <<'PY' || fail "JSON does not match the CSV"
import csv, json, math, sys
doc = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
n, m = int(sys.argv[3]), int(sys.argv[4])
ref = doc["reference"]
assert ref["frames"] == m, ref
assert isinstance(ref["phase_names"], list) and all(isinstance(p, str) for p in ref["phase_names"]), ref
assert ref["dim"] >= 1 and isinstance(ref["model_id"], str), ref
par = doc["parameters"]
assert par["similarity"] == "cosine" and par["window"] == 32, par
assert abs(par["similarity_offset"] - 0.5) < 1e-7 and abs(par["gap_open"] - 0.2) < 1e-7, par
frames = doc["frames"]
assert len(frames) == len(rows) == n, (len(frames), len(rows), n)
for f, r in zip(frames, rows):
    assert f["timestamp"] == int(r["timestamp"]) and f["frame"] == int(r["frame"]), (f, r)
    assert f["match"] == (r["match"] == "1"), (f, r)
    for k in ("online_index", "online_phase", "offline_index"):
        assert f[k] == int(r[k]), (k, f, r)
    for k in ("online_progress", "score", "confidence"):
        assert math.isclose(f[k], float(r[k]), rel_tol=1e-5, abs_tol=1e-6), (k, f, r)
    if f["online_phase"] >= 0:
        assert f["online_phase"] < len(ref["phase_names"]), f
PY
echo "ok: alignment-location=*.json: $N frames, same fields as the CSV"

# 2. the reference through the reference pad: the same alignment as from the file
# (its raw video also gives the thumbnails: 128x96 reference frames -> 85x64)
GST_DEBUG="${GST_DEBUG:+$GST_DEBUG,}lacalign:4" \
launch "$work/pad.log" lacalign name=al alignment-location="$work/pad.csv" ! fakesink \
  filesrc location="$work/stream.webm" ! decodebin ! lacencoder model-location="$M" ! al.sink \
  filesrc location="$work/ref.webm" ! decodebin ! lacencoder model-location="$M" ! al.reference
cmp -s "$work/file.csv" "$work/pad.csv" || { diff "$work/file.csv" "$work/pad.csv" | head >&2; fail "reference pad and file disagree"; }
grep -q "reference thumbnails 85x64" "$work/pad.log" || fail "no 85x64 reference thumbnails"
echo "ok: reference pad gives the file's alignment, thumbnails 85x64"

# 3. the overlay into an encoded file (blended: vp8enc takes no overlay meta)
launch "$work/overlay.log" filesrc location="$work/stream.webm" ! decodebin \
  ! lacencoder model-location="$M" ! lacalign reference-location="$work/ref.safetensors" \
  ! videoconvert ! vp8enc deadline=1 ! webmmux ! filesink location="$work/overlay.webm"
[ -s "$work/overlay.webm" ] || fail "no overlay video"
echo "ok: overlay video written"

# 4. a missing reference file: the pipeline fails and names it
if gst-launch-1.0 filesrc location="$work/stream.webm" ! decodebin ! lacencoder model-location="$M" \
    ! lacalign reference-location="$work/missing.safetensors" ! fakesink > "$work/missing.log" 2>&1; then
  fail "lacalign with a missing reference ran"
fi
grep -q "missing.safetensors" "$work/missing.log" || { cat "$work/missing.log" >&2; fail "no message naming the file"; }
echo "ok: missing reference refused"
