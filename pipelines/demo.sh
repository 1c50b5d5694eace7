#!/usr/bin/env bash
# demo.sh — the main job until the GStreamer elements land: build lac, make a seeded
# ResNet-18/112 LAC encoder, show its architecture, embed two generated clips into
# embeddings files and locally align them.  Usage: pipelines/demo.sh [OUTDIR]   (default: demo-out)
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
"$lac" embed "$out/model.safetensors" --synthetic 48 --seed 7 -o "$out/embeddings2.safetensors"
# locally align the two clips (cosine similarity minus 0.5, so unrelated frames score < 0)
"$lac" align "$out/embeddings.safetensors" "$out/embeddings2.safetensors" --similarity cosine \
  --offset 0.5 --soft-out "$out/alignment.safetensors"
echo "outputs: $out/model.safetensors (model), $out/embeddings*.safetensors (embeddings),"
echo "         $out/alignment.safetensors (soft match probabilities and similarity matrix)"
