#!/usr/bin/env bash
# demo.sh — the main job: build lac, make a seeded ResNet-18/112 LAC encoder, render a
# synthetic phase-labelled "pour" dataset (20 VP8/WebM videos with distractor segments),
# make a labelled reference with lacsynthsrc ! lacencoder, run a video through
# `filesrc ! decodebin ! lacencoder ! lacalign` (pipelines/align-video.sh: overlay video,
# per-frame CSV, alignment plot), and evaluate the encoder on the dataset with the paper's
# metrics beside its baselines (random weights, 8x8 pixels).
# Usage: pipelines/demo.sh [OUTDIR]   (default: demo-out)
#
# Until the training element lands, the encoder here has random (seeded) weights, so the
# table shows the evaluation machinery and the baselines rather than a trained model;
# `lac eval` takes any model file, e.g. one converted from the reference code's checkpoints
# (tools/convert.py).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-demo-out}
mkdir -p "$out"
[ -f "$root/build/build.ninja" ] || meson setup "$root/build" "$root"
ninja -C "$root/build"
lac="$root/build/tools/lac"
"$lac" model init --arch resnet18-112 --seed 1 --name demo -o "$out/model.safetensors"
"$lac" info "$out/model.safetensors"
"$lac" dataset synth --out "$out/dataset" --videos 20 --seed 1 --actions pour
# a reference whose frames carry their phase (lacsynthsrc), embedded by lacencoder
export LAC_BUILD="$root/build"
"$root/pipelines/make-reference.sh" "$out/model.safetensors" "$out/reference.safetensors" pour 1
# (b): a generated video aligned to the reference -> overlay video, CSV, plot
"$root/pipelines/align-video.sh" "$out/model.safetensors" "$out/reference.safetensors" \
  "$out/dataset/videos/pour_0019.webm" "$out/aligned"
# the whole clip as one sequence, and the evaluation table
"$lac" embed "$out/model.safetensors" "$out/dataset/videos/pour_0000.webm" -o "$out/pour_0000.emb.safetensors"
"$lac" eval "$out/model.safetensors" "$out/dataset" --json "$out/eval.json"
echo "outputs: $out/aligned/aligned.webm (video with phase/progress overlay), $out/aligned/alignment.csv,"
echo "         $out/aligned/alignment.png (similarity matrix + path), $out/reference.safetensors,"
echo "         $out/dataset/ (videos + labels.json), $out/pour_0000.emb.safetensors, $out/eval.json"
