#!/usr/bin/env bash
# live-phase.sh — (c) live phase tracking: a camera (or a live synthetic action when there
# is no camera) aligned against a reference, shown with the phase and progress drawn over
# it.  A leaky queue in front of the encoder drops frames the model cannot keep up with, so
# the display never waits for the model.
#
#   pipelines/live-phase.sh MODEL.safetensors REFERENCE.safetensors [FRAMES]
#
# REFERENCE is an embeddings file with phase labels (e.g. from pipelines/make-reference.sh).
# With FRAMES the pipeline stops after that many frames and renders into fakesink (for
# tests and machines without a display); without it, it runs until interrupted.
set -euo pipefail
. "$(dirname "$0")/env.sh"
model=${1:?usage: live-phase.sh MODEL REFERENCE.safetensors [FRAMES]}
ref=${2:?usage: live-phase.sh MODEL REFERENCE.safetensors [FRAMES]}
frames=${3:-}
if [ -e /dev/video0 ] && [ -z "$frames" ]; then
  src="v4l2src"
else
  # no camera: a live, looping synthetic pour with distractors
  src="lacsynthsrc is-live=true loop=true action=pour distractor=random seed=100"
  [ -n "$frames" ] && src="$src num-buffers=$frames"
fi
if [ -n "$frames" ] || [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  sink="fakesink sync=true"
else
  sink="autovideosink sync=false"
fi
# shellcheck disable=SC2086
gst-launch-1.0 -e $src ! queue leaky=downstream max-size-buffers=2 max-size-time=0 max-size-bytes=0 ! \
  lacencoder model-location="$model" window-mode=causal ! \
  lacalign reference-location="$ref" ! videoconvert ! $sink
