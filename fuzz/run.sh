#!/bin/sh
# run.sh — build the libFuzzer targets with clang and fuzz each in turn: the safetensors
# reader (fuzz_safetensors) and the CPU alignment's vector paths against its scalar path
# (fuzz_sw_cpu).
#
# Usage: fuzz/run.sh [seconds]      (per target, default 60; run from anywhere)
# Configures <repo>/build-fuzz once (clang, -Dfuzz=enabled, everything else off), builds the
# targets, and fuzzes scratch folders (the safetensors reader starts from a copy of
# fuzz/corpus, so the checked-in seeds stay as they are).  Exits non-zero when a fuzzer finds
# a crash, leak or timeout; the reproducer is left in build-fuzz/fuzz-artifacts/ (replay:
# build-fuzz/fuzz/fuzz_NAME FILE).
set -eu

secs=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"

if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" "$root" -Dfuzz=enabled -Dtests=disabled -Dgst=disabled \
    -Dcuda=disabled -Dbench=disabled
fi
meson compile -C "$build" fuzz_safetensors fuzz_sw_cpu

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/safetensors" "$work/sw_cpu" "$build/fuzz-artifacts"
cp "$root"/fuzz/corpus/* "$work/safetensors/"

"$build/fuzz/fuzz_safetensors" -max_total_time="$secs" -max_len=4096 -timeout=10 \
  -dict="$root/fuzz/safetensors.dict" -artifact_prefix="$build/fuzz-artifacts/" \
  -print_final_stats=1 "$work/safetensors"
"$build/fuzz/fuzz_sw_cpu" -max_total_time="$secs" -max_len=4096 -len_control=0 -timeout=10 \
  -artifact_prefix="$build/fuzz-artifacts/" -print_final_stats=1 "$work/sw_cpu"
