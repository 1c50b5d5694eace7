#!/usr/bin/env bash
# run_sw.sh — smoothed Smith-Waterman forward+backward cells/s: lac (bench_sw) against the
# PyTorch anti-diagonal implementation (tools/sw_torch.py) in one go.
# Runs both ROUNDS times, interleaved (the machine is shared and noisy), and prints per size
# each one's median over the rounds (each round: the median of REPS repetitions), lac's
# scalar path, and the ratios lac / PyTorch and lac / the LAC reference's Python double loop,
# whose ~5.7 thousand cells/s is the figure of docs SW_AFFINE.md §5 (measured there on this
# 2-core CPU, 64 x 64: 0.44 s forward + 0.27 s backward), not a measurement of this script.
#   bench/run_sw.sh [--build DIR] [--pairs 8] [--sizes 32,64,128,256,512] [--tau 0.8]
#                   [--threads 2] [--rounds 3] [--reps 7]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build" pairs=8 sizes=32,64,128,256,512 tau=0.8 threads=2 rounds=3 reps=7
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --tau) tau=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    *) echo "bench/run_sw.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ -f "$build/build.ninja" ] || meson setup "$build" "$root" >/dev/null
ninja -C "$build" bench/bench_sw >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "machine: $(nproc) cores, $cpu, $(date -u +%Y-%m-%d)"
echo "case: $pairs pairs of T x T, per-cell gaps, tau $tau, $threads threads, forward + backward"
for r in $(seq 1 "$rounds"); do
  "$build/bench/bench_sw" --pairs "$pairs" --sizes "$sizes" --tau "$tau" --threads "$threads" \
    --reps "$reps" --json "$tmp/lac$r.json" >"$tmp/lac$r.txt"
  /usr/bin/python3 "$root/bench/bench_sw_torch.py" --pairs "$pairs" --sizes "$sizes" --tau "$tau" \
    --threads "$threads" --reps "$reps" --json "$tmp/torch$r.json" >"$tmp/torch$r.txt"
  echo "round $r of $rounds done"
done
/usr/bin/python3 - "$tmp" "$rounds" <<'PY'
import json, statistics, sys
d, n = sys.argv[1], int(sys.argv[2])
LAC_REF = 5.7e3  # cells/s, SW_AFFINE.md §5 (the LAC reference's Python double loop)
lac = [json.load(open(f"{d}/lac{i}.json"))["results"] for i in range(1, n + 1)]
pt = [json.load(open(f"{d}/torch{i}.json"))["results"] for i in range(1, n + 1)]
print(f"median of {n} rounds (cells/s, forward + backward):")
print("%6s %8s %12s %12s %12s %10s %12s %14s" % ("T", "path", "lac", "lac scalar", "pytorch",
      "lac/scalar", "lac/pytorch", "lac/LAC ref*"))
for k, r in enumerate(lac[0]):
    ml = statistics.median(x[k]["cells_per_s"] for x in lac)
    ms = statistics.median(x[k]["scalar_cells_per_s"] for x in lac)
    mp = statistics.median(x[k]["cells_per_s"] for x in pt)
    print("%6d %8s %12.4g %12.4g %12.4g %9.1fx %11.0fx %13.0fx" % (r["T"], r["path"], ml, ms, mp,
          ml / ms, ml / mp, ml / LAC_REF))
print("* the LAC reference's ~5.7e3 cells/s is SW_AFFINE.md §5's figure, not measured here")
PY
