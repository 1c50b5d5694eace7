#!/usr/bin/env bash
# demo.sh — the main job: build lac, make a seeded ResNet-18/112 LAC encoder, render a
# synthetic phase-labelled "pour" dataset (20 VP8/WebM videos with distractor segments),
# embed one video, align two videos' embeddings, and evaluate the encoder on the dataset
# with the paper's metrics beside its baselines (random weights, 8x8 pixels).
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
"$lac" embed "$out/model.safetensors" "$out/dataset/videos/pour_0000.webm" -o "$out/pour_0000.emb.safetensors"
"$lac" embed "$out/model.safetensors" "$out/dataset/videos/pour_0001.webm" -o "$out/pour_0001.emb.safetensors"
# locally align the two videos (cosine similarity minus 0.5, so unrelated frames score < 0)
"$lac" align "$out/pour_0000.emb.safetensors" "$out/pour_0001.emb.safetensors" --similarity cosine \
  --offset 0.5 --soft-out "$out/alignment.safetensors"
"$lac" eval "$out/model.safetensors" "$out/dataset" --json "$out/eval.json"
echo "outputs: $out/model.safetensors (model), $out/dataset/ (videos + labels.json),"
echo "         $out/pour_000*.emb.safetensors (embeddings), $out/alignment.safetensors (soft alignment),"
echo "         $out/eval.json (every number of the table)"
