#!/usr/bin/env bash
# embed-video.sh — (a) a video file to an embeddings file, as a GStreamer pipeline.
#
#   pipelines/embed-video.sh MODEL.safetensors VIDEO OUT.safetensors [lacencoder properties...]
#
# decodebin takes any container/codec GStreamer has a plugin for; lacencoder converts and
# scales the decoded frames itself (no videoconvert needed), attaches each frame's
# embedding as a GstLacEmbeddingMeta, and at EOS writes every embedding with its timestamp
# to embeddings-location.  The same as `lac embed MODEL VIDEO -o OUT`, but streaming: the
# transformer sees a sliding window (window=, window-mode=) instead of the whole clip.
set -euo pipefail
. "$(dirname "$0")/env.sh"
model=${1:?usage: embed-video.sh MODEL VIDEO OUT.safetensors [properties]}
video=${2:?usage: embed-video.sh MODEL VIDEO OUT.safetensors [properties]}
out=${3:?usage: embed-video.sh MODEL VIDEO OUT.safetensors [properties]}
shift 3
gst-launch-1.0 -q filesrc location="$video" ! decodebin ! \
  lacencoder model-location="$model" embeddings-location="$out" "$@" ! fakesink
echo "embeddings: $out"
