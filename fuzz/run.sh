#!/bin/sh
# run.sh — build the libFuzzer target with clang and fuzz the safetensors reader.
#
# Usage: fuzz/run.sh [seconds]      (default 60; run from anywhere)
# Configures <repo>/build-fuzz once (clang, -Dfuzz=enabled, everything else off), builds only
# fuzz_safetensors, and fuzzes a scratch copy of fuzz/corpus so the checked-in seeds stay as
# they are.  Exits non-zero when the fuzzer finds a crash, leak or timeout; the reproducer is
# left in build-fuzz/fuzz-artifacts/ (replay: build-fuzz/fuzz/fuzz_safetensors FILE).
set -eu

secs=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"

if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" "$root" -Dfuzz=enabled -Dtests=disabled -Dgst=disabled \
    -Dcuda=disabled -Dbench=disabled
fi
meson compile -C "$build" fuzz_safetensors

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$root"/fuzz/corpus/* "$work"/
mkdir -p "$build/fuzz-artifacts"

"$build/fuzz/fuzz_safetensors" -max_total_time="$secs" -max_len=4096 -timeout=10 \
  -dict="$root/fuzz/safetensors.dict" -artifact_prefix="$build/fuzz-artifacts/" \
  -print_final_stats=1 "$work"
