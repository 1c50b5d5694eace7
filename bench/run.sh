#!/usr/bin/env bash
# run.sh — encoder frames/s: lac against the same architecture in PyTorch, in one run.
# Runs both ROUNDS times, interleaved (the machine is shared and noisy), and prints each
# median and the ratio of the medians.
#   bench/run.sh [--preset resnet50] [--frames 16] [--threads 2] [--rounds 3] [--reps 5]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
preset=resnet50 frames=16 threads=2 rounds=3 reps=5
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) preset=$2; shift 2 ;;
    --frames) frames=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    *) echo "bench/run.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ -f "$root/build/build.ninja" ] || meson setup "$root/build" "$root" >/dev/null
ninja -C "$root/build" bench/bench_encoder >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
for r in $(seq 1 "$rounds"); do
  "$root/build/bench/bench_encoder" --preset "$preset" --frames "$frames" --threads "$threads" \
    --reps "$reps" --json "$tmp/lac$r.json" | tee "$tmp/lac$r.txt" | head -1
  /usr/bin/python3 "$root/bench/bench_torch.py" --preset "$preset" --frames "$frames" \
    --threads "$threads" --reps "$reps" --json "$tmp/torch$r.json"
done
echo "lac profile (last round):"
tail -n +3 "$tmp/lac$rounds.txt"
/usr/bin/python3 - "$tmp" "$rounds" <<'PY'
import json, statistics, sys
d, n = sys.argv[1], int(sys.argv[2])
lac = [json.load(open(f"{d}/lac{i}.json"))["fps"] for i in range(1, n + 1)]
pt = [json.load(open(f"{d}/torch{i}.json"))["fps"] for i in range(1, n + 1)]
ml, mp = statistics.median(lac), statistics.median(pt)
ratios = [a / b for a, b in zip(lac, pt)]
print("per-round ratios (lac / pytorch, same round): " + ", ".join(f"{r:.2f}" for r in ratios))
print(f"median of {n} rounds: lac {ml:.2f} frames/s, pytorch {mp:.2f} frames/s, "
      f"ratio of medians {ml / mp:.2f}x, median per-round ratio {statistics.median(ratios):.2f}x")
PY
