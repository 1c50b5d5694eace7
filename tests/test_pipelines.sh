#!/usr/bin/env bash
# test_pipelines.sh — the scripts in pipelines/ run on generated input, as a user runs them:
# (a) video -> embeddings file, a labelled reference from lacsynthsrc, (b) a video aligned to
# the reference -> overlay WebM + CSV + PNG, (c) live phase tracking on a live synthetic
# source for a fixed number of frames.  Checks the outputs exist and hold what they should.
# Usage: test_pipelines.sh BUILD_DIR
set -u
build="$1"
root=$(cd "$(dirname "$0")/.." && pwd)
export LAC_BUILD="$build"
py=/usr/bin/python3
. "$(dirname "$0")/checks.sh"
lac="$build/tools/lac"
p="$root/pipelines"

"$lac" model init --arch resnet18-112 --input-size 80 --seed 3 -o "$tmp/m.safetensors" >/dev/null || bad "model init"
"$lac" dataset synth --out "$tmp/ds" --videos 2 --val-fraction 0.5 --frames 48 --size 96 --distractor inside >/dev/null || bad "dataset synth"
video="$tmp/ds/videos/pour_0001.webm"
nf=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["videos"][1]["n_frames"])' "$tmp/ds/labels.json")

# (a)
expect 0 "embeddings: $tmp/a.safetensors" "$p/embed-video.sh" "$tmp/m.safetensors" "$video" "$tmp/a.safetensors"
$py - "$tmp/a.safetensors" "$nf" <<'PY' && ok || bad "(a) embeddings file"
import json, struct, sys
b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
assert h["embeddings"]["shape"] == [int(sys.argv[2]), 128], h["embeddings"]["shape"]
assert h["timestamps"]["shape"] == [int(sys.argv[2])]
PY
# a labelled reference
expect 0 "reference: $tmp/ref.safetensors" "$p/make-reference.sh" "$tmp/m.safetensors" "$tmp/ref.safetensors" pour 1
$py - "$tmp/ref.safetensors" <<'PY' && ok || bad "reference carries labels"
import json, struct, sys
b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
assert "labels" in h, list(h)
PY
# (b)
expect 0 "outputs: $tmp/b/aligned.webm" "$p/align-video.sh" "$tmp/m.safetensors" "$tmp/ref.safetensors" "$video" "$tmp/b"
for f in aligned.webm alignment.csv alignment.png; do [ -s "$tmp/b/$f" ] && ok || bad "(b) no $f"; done
rows=$(($(wc -l < "$tmp/b/alignment.csv") - 1))
[ "$rows" -eq "$nf" ] && ok || bad "(b) alignment.csv has $rows rows, expected $nf"
# the overlay video decodes to every frame of the input
expect 0 "embedded $nf frames" "$lac" embed "$tmp/m.safetensors" "$tmp/b/aligned.webm" -o "$tmp/b/check.safetensors"
# the reference given as a video instead of an embeddings file
expect 0 "reference: $tmp/b2/reference.safetensors" "$p/align-video.sh" "$tmp/m.safetensors" "$tmp/ds/videos/pour_0000.webm" "$video" "$tmp/b2"
# (c) live, 60 frames into fakesink
expect 0 "" timeout 120 "$p/live-phase.sh" "$tmp/m.safetensors" "$tmp/ref.safetensors" 60
finish "pipelines"
