#!/usr/bin/env bash
# ab_sw.sh — the CPU alignment's forward+backward cells/s of this tree against an earlier
# commit, in one run: bench_sw of the two builds alternating ROUNDS times (the machine is
# shared and noisy), then per size each build's plan, the median over the rounds of the
# per-round medians, every round's figure, and the ratio this tree / the other.
# The other commit is checked out in a temporary worktree and built CPU-only with the same
# buildtype as BUILD (default: build).
#   bench/ab_sw.sh --rev REV [--build DIR] [--pairs 8] [--threads 2] [--sizes 32,64,128]
#                  [--gaps per-cell|scalar] [--rounds 5] [--reps 7]
# (--gaps scalar needs bench_sw's --gaps on both sides: commits from 2026-11-26 night on)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rev="" build="$root/build" pairs=8 threads=2 sizes=32,64,128,256,512 rounds=5 reps=7 gaps=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rev) rev=$2; shift 2 ;;
    --build) build=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --gaps) gaps=$2; shift 2 ;;
    *) echo "bench/ab_sw.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
if [ -z "$rev" ]; then
  echo "bench/ab_sw.sh: --rev REV is required (the commit to compare this tree with)" >&2
  exit 2
fi
positive() { # option value
  case "$2" in
    '' | *[!0-9]* | 0)
      echo "bench/ab_sw.sh: --$1 must be a positive integer, not '$2'" >&2
      exit 2 ;;
  esac
}
positive pairs "$pairs"
positive threads "$threads"
positive rounds "$rounds"
positive reps "$reps"
case "$gaps" in
  '' | per-cell | scalar) ;;
  *) echo "bench/ab_sw.sh: --gaps is per-cell or scalar, not '$gaps'" >&2; exit 2 ;;
esac
base=$(git -C "$root" rev-parse --verify --quiet "$rev^{commit}") ||
  { echo "bench/ab_sw.sh: '$rev' is not a commit of this repository" >&2; exit 2; }
[ -f "$build/build.ninja" ] || meson setup "$build" "$root" >/dev/null
ninja -C "$build" bench/bench_sw >/dev/null
buildtype=$(meson introspect --buildoptions "$build" | /usr/bin/python3 -c '
import json, sys
print([o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"][0])')
tmp=$(mktemp -d)
cleanup() {
  git -C "$root" worktree remove --force "$tmp/tree" > /dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
git -C "$root" worktree add --detach "$tmp/tree" "$base" > /dev/null
meson setup "$tmp/build" "$tmp/tree" -Dbuildtype="$buildtype" -Dcuda=disabled > /dev/null
ninja -C "$tmp/build" bench/bench_sw > /dev/null
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
this=$(git -C "$root" rev-parse --short HEAD)
git -C "$root" diff --quiet HEAD || this="$this + uncommitted changes"
echo "machine: $(nproc) cores, $cpu, $(date -u +%Y-%m-%d)"
echo "case: $pairs pairs of T x T, ${gaps:-per-cell} gaps, tau 0.8, $threads threads"
echo "other = ${base:0:7}, this = $this"
for _ in $(seq 1 "$rounds"); do
  for side in other this; do
    b="$tmp/build"
    [ "$side" = this ] && b="$build"
    # shellcheck disable=SC2086
    "$b/bench/bench_sw" --pairs "$pairs" --threads "$threads" --sizes "$sizes" --reps "$reps" \
      ${gaps:+--gaps $gaps} --no-scalar |
      awk -v s="$side" '$1 ~ /^[0-9]+$/ {print s, $1, $2, $3}' >> "$tmp/runs.txt"
  done
done
/usr/bin/python3 - "$tmp/runs.txt" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
plan = {}
for line in open(sys.argv[1]):
    side, T, path, v = line.split()
    runs[(int(T), side)].append(float(v) / 1e6)
    plan[(int(T), side)] = path
print("%6s %12s %10s %12s %10s %8s   rounds (M cells/s, other | this)" % (
    "T", "other plan", "other", "this plan", "this", "ratio"))
for T in sorted({k[0] for k in runs}):
    o, t = runs[(T, "other")], runs[(T, "this")]
    mo, mt = statistics.median(o), statistics.median(t)
    print("%6d %12s %9.1fM %12s %9.1fM %7.2fx   %s | %s" % (
        T, plan[(T, "other")], mo, plan[(T, "this")], mt, mt / mo,
        " ".join("%.1f" % x for x in o), " ".join("%.1f" % x for x in t)))
PY
