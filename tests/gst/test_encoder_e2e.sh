#!/bin/sh
# test_encoder_e2e.sh — lacencoder in real gst-launch-1.0 pipelines on a file made here:
# lacsynthsrc -> vp8enc ! webmmux -> WebM; then `filesrc ! decodebin ! lacencoder ! fakesink`
# (no videoconvert before lacencoder) with embeddings-location, and the file's row count and
# timestamps checked with Debian's python3 (standard library only); the same with a centred
# window and batching; a missing model-location fails with a message naming it; the leaks
# tracer (GST_TRACERS=leaks, GST_DEBUG=GST_TRACER:7 from the test environment) reports no
# object alive at exit.
# Usage: test_encoder_e2e.sh WORKDIR LAC_EXE (GST_PLUGIN_PATH must reach gst/encoder and gst/synth).
set -eu
work="${1:?usage: test_encoder_e2e.sh WORKDIR LAC_EXE}/encoder-e2e"
lac="${2:?usage: test_encoder_e2e.sh WORKDIR LAC_EXE}"
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

for e in lacencoder lacsynthsrc; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || fail "$e not found (GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-})"
done
for e in vp8enc webmmux vp8dec matroskademux; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 \
    || { echo "SKIP: $e missing (gstreamer1.0-plugins-good)"; exit 77; }
done
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 missing"; exit 77; }

# a gst-launch run that must succeed and leave no object alive (leaks tracer)
launch() { # log pipeline...
  log="$1"; shift
  gst-launch-1.0 "$@" > "$log" 2>&1 || { cat "$log" >&2; fail "pipeline failed: $*"; }
  alive="object-alive, type-name=.string.[A-Za-z]" # a leaked object, not the format line
  if grep -qE "$alive" "$log"; then grep -E "$alive" "$log" >&2; fail "leaks: $*"; fi
}

# rows and timestamps of an embeddings file: prints "N DIM T0 T1 TLAST"
rows() {
  /usr/bin/python3 - "$1" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    head = json.loads(f.read(n))
    body = f.read()
e, t = head["embeddings"], head["timestamps"]
a, b = t["data_offsets"]
ts = struct.unpack("<%dq" % t["shape"][0], body[a:b])
print(e["shape"][0], e["shape"][1], ts[0], ts[1], ts[-1])
PY
}

"$lac" model init --arch resnet18-112 --input-size 80 --train-len 8 -o "$work/model.safetensors" \
  > /dev/null || fail "lac model init"

N=23
launch "$work/enc.log" lacsynthsrc action=pour seed=2 num-buffers=$N \
  ! video/x-raw,width=128,height=96 ! videoconvert ! vp8enc deadline=1 ! webmmux \
  ! filesink location="$work/pour.webm"

# 1. the user's line: decodebin straight into lacencoder (I420 from vp8dec)
launch "$work/causal.log" filesrc location="$work/pour.webm" ! decodebin \
  ! lacencoder model-location="$work/model.safetensors" \
      embeddings-location="$work/causal.safetensors" ! videoconvert ! fakesink
set -- $(rows "$work/causal.safetensors")
[ "$1" -eq "$N" ] || fail "causal: $1 rows, wanted $N"
[ "$2" -eq 128 ] || fail "causal: dim $2, wanted 128"
[ "$3" -eq 0 ] && [ "$4" -eq 40000000 ] && [ "$5" -eq $(( (N - 1) * 40000000 )) ] \
  || fail "causal: timestamps $3 $4 .. $5, wanted 0 40000000 .. $(( (N - 1) * 40000000 ))"
echo "ok: filesrc ! decodebin ! lacencoder: $1 rows of $2, timestamps $3 .. $5"

# 2. centred window and batches of 4: frames held back all come out at EOS, in order
launch "$work/centred.log" filesrc location="$work/pour.webm" ! decodebin \
  ! lacencoder model-location="$work/model.safetensors" window=6 window-mode=centred \
      batch-size=4 embeddings-location="$work/centred.safetensors" ! fakesink
set -- $(rows "$work/centred.safetensors")
[ "$1" -eq "$N" ] || fail "centred: $1 rows, wanted $N"
[ "$5" -eq $(( (N - 1) * 40000000 )) ] || fail "centred: last timestamp $5"
echo "ok: centred window + batch-size=4: $1 rows"

# 3. no model-location: the pipeline fails and says what to set
if gst-launch-1.0 videotestsrc num-buffers=2 ! lacencoder ! fakesink \
    > "$work/nomodel.log" 2>&1; then
  fail "a lacencoder without model-location ran"
fi
grep -q "model-location" "$work/nomodel.log" \
  || { cat "$work/nomodel.log" >&2; fail "no message naming model-location"; }
echo "ok: missing model-location refused"
