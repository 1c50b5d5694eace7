#!/usr/bin/env bash
# run_gst.sh — lacencoder's throughput in `filesrc ! decodebin ! lacencoder ! fakesink` against
# the library's encoder on the same frames, and its added latency under a live 30 fps source
# (bench/bench_gst.c), with a small model (ResNet-18/112) on a generated VP8/WebM clip.
#   bench/run_gst.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rounds=${2:-3}
ninja -C "$build" tools/lac bench/bench_gst gst/encoder/libgstlacencoder.so >/dev/null
export GST_PLUGIN_PATH="$build/gst/encoder:$build/gst/synth"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/tools/lac" model init --arch resnet18-112 --seed 1 -o "$tmp/m.safetensors" >/dev/null
"$build/tools/lac" dataset synth --out "$tmp/ds" --videos 1 --val-fraction 0 --frames 480 >/dev/null
video=$(ls "$tmp"/ds/videos/*.webm | head -1)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%F)"
"$build/bench/bench_gst" "$tmp/m.safetensors" "$video" --threads "$(nproc)" --rounds "$rounds"
