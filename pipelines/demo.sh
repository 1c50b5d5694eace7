#!/usr/bin/env bash
# demo.sh — the main job until the GStreamer elements land: build lac, make a seeded
# ResNet-18/112 LAC encoder, show its architecture, and embed a generated clip into an
# embeddings file.  Usage: pipelines/demo.sh [OUTDIR]   (default: demo-out)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-demo-out}
mkdir -p "$out"
[ -f "$root/build/build.ninja" ] || meson setup "$root/build" "$root"
ninja -C "$root/build"
lac="$root/build/tools/lac"
"$lac" model init --arch resnet18-112 --seed 1 --name demo -o "$out/model.safetensors"
"$lac" info "$out/model.safetensors"
"$lac" embed "$out/model.safetensors" --synthetic 64 -o "$out/embeddings.safetensors"
echo "outputs: $out/model.safetensors (model), $out/embeddings.safetensors (64 x 128 embeddings)"
