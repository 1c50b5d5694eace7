#!/bin/sh
# test_synth_e2e.sh — lacsynthsrc in real gst-launch-1.0 pipelines: encode to WebM (vp8enc,
# webmmux), decode the file back (decodebin) to raw RGB and count its frames; play a whole
# video to EOS and compare the frame count with the n-frames of the lac-synth-video message.
# Usage: test_synth_e2e.sh WORKDIR (GST_PLUGIN_PATH must reach the lacsynth plugin).
set -eu
work="${1:?usage: test_synth_e2e.sh WORKDIR}/synth-e2e"
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

gst-inspect-1.0 lacsynthsrc >/dev/null 2>&1 || fail "lacsynthsrc not found (GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-})"
for e in vp8enc webmmux vp8dec matroskademux; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || { echo "SKIP: $e missing (gstreamer1.0-plugins-good)"; exit 77; }
done

# frames in a raw RGB file of W x H
count() { echo $(( $(stat -c %s "$1") / ($2 * $3 * 3) )); }

# 1. num-buffers frames through an encoder and back
gst-launch-1.0 -q lacsynthsrc action=jumping-jacks seed=4 num-buffers=37 \
  ! video/x-raw,width=96,height=64 ! videoconvert ! vp8enc deadline=1 ! webmmux \
  ! filesink location="$work/jacks.webm" || fail "encoding pipeline"
gst-launch-1.0 -q filesrc location="$work/jacks.webm" ! decodebin ! videoconvert \
  ! video/x-raw,format=RGB ! filesink location="$work/jacks.rgb" || fail "decoding pipeline"
n=$(count "$work/jacks.rgb" 96 64)
[ "$n" -eq 37 ] || fail "decoded $n frames, wanted 37"
echo "ok: 37 frames encoded and decoded back"

# 2. a whole video ends with EOS after n-frames frames (the element's message says how many)
gst-launch-1.0 -m lacsynthsrc action=pour seed=3 distractor=after \
  ! video/x-raw,width=64,height=64 ! videoconvert ! vp8enc deadline=1 ! webmmux \
  ! filesink location="$work/pour.webm" > "$work/pour.log" 2>&1 || fail "pour pipeline"
want=$(sed -n 's/.*lac-synth-video.*n-frames=(gint64)\([0-9]*\).*/\1/p' "$work/pour.log")
[ -n "$want" ] || fail "no lac-synth-video message"
grep -q "Got EOS" "$work/pour.log" || fail "no EOS"
gst-launch-1.0 -q filesrc location="$work/pour.webm" ! decodebin ! videoconvert \
  ! video/x-raw,format=RGB ! filesink location="$work/pour.rgb" || fail "decoding pipeline"
n=$(count "$work/pour.rgb" 64 64)
[ "$n" -eq "$want" ] || fail "decoded $n frames, the video has $want"
echo "ok: whole pour video, $n frames, EOS"

# 3. the discoverer sees a VP8 stream of that length (25 fps)
gst-discoverer-1.0 "$work/pour.webm" > "$work/disc.txt" 2>&1 || fail "gst-discoverer-1.0"
grep -qi "vp8" "$work/disc.txt" || fail "discoverer found no VP8 stream"
echo "ok: discoverer"
