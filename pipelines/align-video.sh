#!/usr/bin/env bash
# align-video.sh — (b) a video aligned to a reference video: an overlay video, a per-frame
# CSV and a plot of the alignment path.
#
#   pipelines/align-video.sh MODEL.safetensors REFERENCE VIDEO OUTDIR
#
# REFERENCE is a video file, or an embeddings file (*.safetensors, e.g. written by
# lacencoder embeddings-location= or `lac embed`, with phase labels and names when it was
# made from labelled frames).  Writes OUTDIR/reference.safetensors (when REFERENCE is a
# video), OUTDIR/aligned.webm (the video with progress, phase and score drawn over it),
# OUTDIR/alignment.csv (per frame: on-line match and the off-line alignment of the whole
# stream) and OUTDIR/alignment.png (similarity matrix with the alignment path).
set -euo pipefail
. "$(dirname "$0")/env.sh"
model=${1:?usage: align-video.sh MODEL REFERENCE VIDEO OUTDIR}
ref=${2:?usage: align-video.sh MODEL REFERENCE VIDEO OUTDIR}
video=${3:?usage: align-video.sh MODEL REFERENCE VIDEO OUTDIR}
out=${4:?usage: align-video.sh MODEL REFERENCE VIDEO OUTDIR}
mkdir -p "$out"
case "$ref" in
  *.safetensors) ref_emb="$ref" ;;
  *) # 1. the reference video's embeddings, once
     ref_emb="$out/reference.safetensors"
     gst-launch-1.0 -q filesrc location="$ref" ! decodebin ! \
       lacencoder model-location="$model" embeddings-location="$ref_emb" ! fakesink ;;
esac
# 2. the video through the encoder and the aligner; the overlay is encoded to VP8/WebM
gst-launch-1.0 -q filesrc location="$video" ! decodebin ! \
  lacencoder model-location="$model" ! \
  lacalign reference-location="$ref_emb" alignment-location="$out/alignment.csv" \
           plot-location="$out/alignment.png" ! \
  videoconvert ! vp8enc deadline=1 ! webmmux ! filesink location="$out/aligned.webm"
echo "outputs: $out/aligned.webm (overlay video), $out/alignment.csv (per-frame alignment),"
echo "         $out/alignment.png (similarity matrix and path), reference: $ref_emb"
