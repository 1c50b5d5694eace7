#!/usr/bin/env bash
# test_real_video.sh — `lac embed` on real, licensed camera footage decoded by GStreamer:
# python3-mecavideo's g1.avi / g2.avi (DivX/MPEG-4 part 2, 400x300, 25 fps, two cyclists
# passing the same camera) and a Theora clip, fetched from Debian by
# tools/fetch-real-clips.sh (not committed).  Checks frame counts and timestamps, that the
# non-square frames are cropped (crop and squash differ), and that the two cyclist clips
# align.  Exits 77 (skipped) when the clips cannot be downloaded.
# Usage: test_real_video.sh path/to/lac path/to/fetch-real-clips.sh
set -u
lac="$1"
fetch="$2"
py=/usr/bin/python3
. "$(dirname "$0")/checks.sh"
clips="${LAC_REAL_CLIPS:-$tmp/clips}"
if ! "$fetch" "$clips" >/dev/null; then echo "real clips unavailable: skipped"; exit 77; fi

model="$tmp/m.safetensors"
"$lac" model init --arch resnet18-112 --seed 5 -o "$model" >/dev/null || bad "model init"
for c in g1 g2; do
  out=$("$lac" embed "$model" "$clips/$c.avi" -o "$tmp/$c.safetensors" --threads 1 2>&1)
  grep -q "embedded 16 frames" <<< "$out" && ok || bad "$c.avi: $out"
done
"$lac" embed "$model" "$clips/g1.avi" --resize squash -o "$tmp/g1s.safetensors" --threads 1 >/dev/null 2>&1 && ok || bad "squash"
out=$("$lac" embed "$model" "$clips/Effet_force_magnetique.ogv" -o "$tmp/ogv.safetensors" --threads 1 2>&1)
grep -q "embedded 34 frames" <<< "$out" && ok || bad "Theora clip: $out"
$py - "$tmp" <<'PY' && ok || bad "embeddings of the real clips"
import json, struct, sys, os
import numpy as np
def load(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); d = b[8 + n:]
    def get(k, dt):
        s, e = h[k]["data_offsets"]; return np.frombuffer(d[s:e], dtype=dt).reshape(h[k]["shape"])
    return get("embeddings", np.float32), get("timestamps", np.int64)
t = sys.argv[1]
g1, ts = load(os.path.join(t, "g1.safetensors"))
g1s, _ = load(os.path.join(t, "g1s.safetensors"))
assert g1.shape == (16, 128) and np.isfinite(g1).all()
assert (np.diff(ts) == 40_000_000).all(), ts
# 400x300 frames: a centred square crop and a squash see different pixels
assert np.abs(g1 - g1s).max() > 1e-3 * np.abs(g1).max()
# consecutive frames of real footage are closer than frames far apart
d = lambda a, b: float(((g1[a] - g1[b]) ** 2).sum())
assert np.mean([d(i, i + 1) for i in range(15)]) < np.mean([d(i, i + 8) for i in range(8)])
PY
out=$("$lac" align "$tmp/g1.safetensors" "$tmp/g2.safetensors" --similarity cosine --offset 0.5 2>&1)
grep -q "best local alignment: score" <<< "$out" && ok || bad "align g1 g2: $out"

# the elements on the real clip, as the user writes it (no videoconvert before lacencoder),
# under the leak tracer: g1 through lacencoder ! lacalign against g2's embeddings
if [ -n "${GST_PLUGIN_PATH:-}" ] && gst-inspect-1.0 lacencoder >/dev/null 2>&1 && gst-inspect-1.0 lacalign >/dev/null 2>&1; then
  out=$(GST_TRACERS=leaks GST_DEBUG=GST_TRACER:7 gst-launch-1.0 filesrc location="$clips/g1.avi" ! \
        decodebin ! lacencoder model-location="$model" embeddings-location="$tmp/g1e.safetensors" ! \
        lacalign reference-location="$tmp/g2.safetensors" alignment-location="$tmp/g1.csv" ! \
        videoconvert ! fakesink 2>&1)
  rc=$?
  [ $rc -eq 0 ] && ok || bad "gst-launch on g1.avi exited $rc: $out"
  leak_re='object-alive, type-name=\(string\)[A-Za-z]'
  grep -qE "$leak_re" <<< "$out" && bad "leaks on g1.avi: $(grep -E "$leak_re" <<< "$out" | head -3)" || ok
  rows=$(($(wc -l < "$tmp/g1.csv") - 1))
  [ "$rows" -eq 16 ] && ok || bad "g1.csv has $rows rows, expected 16"
  $py - "$tmp/g1e.safetensors" "$tmp/g1.safetensors" <<'PY' && ok || bad "lacencoder on g1.avi vs lac embed"
import json, struct, sys
import numpy as np
def load(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); d = b[8 + n:]
    s, e = h["embeddings"]["data_offsets"]; return np.frombuffer(d[s:e], np.float32).reshape(h["embeddings"]["shape"])
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.shape == b.shape == (16, 128), (a.shape, b.shape)
assert np.isfinite(a).all()
PY
elif [ "${LAC_EXPECT_ELEMENTS:-1}" = 1 ]; then
  bad "GST_PLUGIN_PATH does not reach lacencoder"
else
  echo "lacencoder/lacalign not built (-Dencoder/-Dalign disabled): element part skipped"
fi
finish "real video"
