#!/usr/bin/env bash
# gpu-check.sh — on a lent GPU machine: build the CUDA backend, our kernels and the CUDA
# tests, run them, then the GPU benchmarks, and print a table.  That machine has the CUDA
# toolkit but no Debian packages, so this compiles the few sources it needs directly (no
# meson, no GStreamer) against OpenBLAS and cJSON unpacked under .device/sys by
# tools/gpu-fetch-debs.sh (carry .device there).  Logs go to $OUT (default ./gpu-out).
#   tools/gpu-check.sh [--no-bench|--quick] [--sanitize] [--profile] [--sw-bench-only]
#   tools/gpu-check.sh --build-kernels   (here, no GPU needed)
# --build-kernels compiles only kernels/*.cu, with the flags below, into .device/kernels with a
# stamp of their sources and flags, and stops: carried to the GPU machine (carry .device), the
# objects replace the nvcc step there (90-120 s on the 2-core machine) when the stamp matches the
# sources; where it does not, or the objects do not link there, the kernels are built.
# --quick: the tests and bench_sw_cuda without --tune, not the PyTorch and loss benchmarks.
# --sanitize also runs test_loss_cuda, test_aligner_cuda and the GPU part of test_sw_cuda (the
# SW kernels in every order, the X edges and Y checkpoints included) under compute-sanitizer
# memcheck, and test_sw_cuda under racecheck (the Y checkpoints' shared memory).
# --profile runs only Nsight Compute over the SW kernels (forward and backward, per-cell and
# scalar gaps; bench_sw_cuda --quick --only PAIRS T for 8, 256, 1024 and 4096 pairs of
# 256 x 256) into $OUT/ncu.txt, no tests.  --sw-bench-only runs only bench_sw_cuda (--tune
# unless --quick): an A/B of two trees on one card (run it in the other tree, then this
# script in this one), or of two builds of one tree (NVEXTRA="-DNAME" adds nvcc flags; with
# KDIR=DIR both here with --build-kernels and there, the variant's kernels travel built too);
# SW_BENCH_ARGS="--only 4096 256" (repeatable) gives bench_sw_cuda a few rows (in place of
# --tune).
# Order: build, tests, bench_sw_cuda, the sanitizers, then the other benchmarks.
# Budget (an H100, 2026-11-27, the kernels carried): build 4-6 s (nvcc there not timed since
# the X-edge and Y-checkpoint kernels; here it takes 90-120 s on 2 cores), tests ~25 s (test_sw_cuda 15 s), benchmarks
# ~90 s (bench_sw_cuda --tune 46 s up to 4096 x 256^2, and the rows of 2048 and 4096 x 512^2
# since: with 4096 x 256^2, ~28 s without --tune; bench_sw_pack, lac_cuda_sw's host packing
# on 1 thread and on all; the PyTorch baseline bench/bench_sw_torch_gpu.py when python3 has
# torch with CUDA, 16 s; bench_loss_cuda, 7 s), --sanitize 89 s (memcheck of the loss, aligner
# and SW tests, racecheck of the SW test; capped at 150 s each, 90 for racecheck: a cap reached
# is reported, not counted as an error): a whole call with --sanitize 199 s.  Built with
# OpenMP where this gcc has it (as the meson build).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/gpu-out}
bench=1
sanitize=0
profile=0
swonly=0
quick=0
kbuild=0
for a in "$@"; do
  case "$a" in
    --no-bench) bench=0 ;;
    --sanitize) sanitize=1 ;;
    --profile) profile=1 ;;
    --sw-bench-only) swonly=1 ;;
    --quick) quick=1 ;;
    --build-kernels) kbuild=1 ;;
    *) echo "gpu-check: unknown option $a (use --no-bench, --quick, --sanitize, --profile, --sw-bench-only, --build-kernels)"; exit 2 ;;
  esac
done
export PATH="$PATH:/usr/local/cuda/bin"
nvflags=(-O3 -std=c++17 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90
         -Xptxas -v -Xcompiler -Wall,-Wextra -I"$root/kernels")
# NVEXTRA: more nvcc flags, e.g. -DNAME for a variant of the kernels in an A/B
# shellcheck disable=SC2206
[ -n "${NVEXTRA:-}" ] && nvflags+=($NVEXTRA)
kdir=${KDIR:-$root/.device/kernels} # KDIR: another folder, e.g. for a variant (NVEXTRA)
kernels=(kernels/epilogue.cu kernels/sw_affine.cu kernels/loss.cu)
# what the kernel objects depend on: their sources and headers, and the flags (the tree's
# path left out: it differs there)
kstamp() {
  (cd "$root" && sha256sum kernels/*.cu kernels/*.h lib/align/loss_rows.h &&
    printf '%s\n' "${nvflags[@]//$root/ROOT}") | sha256sum | cut -d' ' -f1
}
nvbuild() { # into DIR
  local f
  for f in "${kernels[@]}"; do
    echo "== nvcc $f"
    nvcc "${nvflags[@]}" -c "$root/$f" -o "$1/$(basename "$f" .cu)_cu.o" || return 1
  done
}
if [ "$kbuild" = 1 ]; then
  t0=$SECONDS
  { rm -rf "$kdir" && mkdir -p "$kdir"; } || exit 1
  if ! nvbuild "$kdir" > "$kdir/build.log" 2>&1; then
    tail -30 "$kdir/build.log"; rm -f "$kdir"/*.o; echo "gpu-check: kernel build failed"; exit 1
  fi
  kstamp > "$kdir/stamp"
  echo "gpu-check: kernels built into $kdir in $((SECONDS - t0)) s ($(nvcc --version | tail -1))"
  exit 0
fi
mkdir -p "$out"
if [ "$profile" = 1 ] && ! command -v ncu > /dev/null; then
  echo "gpu-check: --profile needs ncu (Nsight Compute) on PATH"
  exit 1
fi
cuda=$(dirname "$(dirname "$(command -v nvcc)")")
dev="$root/.device/sys"
obj=$(mktemp -d)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/gpu.txt" 2>&1 ||
  echo "no GPU (nvidia-smi failed)" > "$out/gpu.txt"
echo "gpu: $(cat "$out/gpu.txt")"
card=$(head -1 "$out/gpu.txt" | cut -d, -f1)
# OpenMP where this gcc has it, as the meson build: the library's own loops, lac_cuda_sw's
# packing threads, and the CPU side of bench_loss_cuda on every core
omp=0
echo 'int main(void) { return 0; }' | gcc -fopenmp -x c - -o "$obj/omp_probe" 2> /dev/null && omp=1
printf '#define LAC_HAVE_CUDA 1\n#define LAC_HAVE_OPENMP %d\n' "$omp" > "$obj/lac_config.h"
inc=(-I"$root/include" -I"$root/lib" -I"$root/kernels" -I"$obj" -I"$dev/include" -I"$cuda/include")
cflags=(-std=c11 -O2 -Wall -Wextra -Werror -Wno-unknown-pragmas -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE)
[ "$omp" = 1 ] && cflags+=(-fopenmp)
# the OpenBLAS build should match: OpenMP's with OpenMP, as the meson build; the pthread build
# starts its own threads inside every thread of the library's parallel loops (on a 16-core
# host the CPU loss ran up to 15x slower)
blas=$(cat "$dev/blas" 2> /dev/null || echo pthread)
if [ "$omp" = 1 ] && [ "$blas" != openmp ]; then
  echo "gpu-check: warning: OpenMP with OpenBLAS's $blas build: CPU timings not representative (tools/gpu-fetch-debs.sh openmp)"
elif [ "$omp" = 0 ] && [ "$blas" = openmp ]; then
  echo "gpu-check: warning: no OpenMP in this gcc but OpenBLAS's OpenMP build (tools/gpu-fetch-debs.sh pthread)"
fi
libsrc=(lib/core/status.c lib/core/util.c lib/core/backend.c lib/cpu/cpu_backend.c
        lib/cuda/cuda_backend.c lib/cuda/cuda_align.c lib/align/sw_ref.c
        lib/cuda/cuda_loss.c lib/align/loss.c lib/align/similarity.c lib/align/sw_cpu.c
        lib/core/safetensors.c lib/core/fileio.c)
mains=(tests/test_cuda.c tests/test_sw_cuda.c tests/test_loss_cuda.c tests/test_aligner_cuda.c
       bench/bench_sw_cuda.c bench/bench_loss_cuda.c bench/bench_sw_pack.c)
build() { # with the carried kernel objects when $1 = 1
  mkdir -p "$obj/lib" "$obj/main"
  local f pids=() p
  for f in "${libsrc[@]}"; do
    gcc "${cflags[@]}" "${inc[@]}" -c "$root/$f" -o "$obj/lib/$(basename "$f" .c).o" & pids+=($!)
  done
  for f in "${mains[@]}"; do
    gcc "${cflags[@]}" "${inc[@]}" -c "$root/$f" -o "$obj/main/$(basename "$f" .c).o" & pids+=($!)
  done
  if [ "$1" = 1 ]; then
    echo "== kernels: the carried objects of $kdir ($(nvcc --version | tail -1) here)"
    cp "$kdir"/*_cu.o "$obj/lib/" || return 1
  else
    nvbuild "$obj/lib" || return 1
  fi
  for p in "${pids[@]}"; do wait "$p" || return 1; done
  for f in "${mains[@]}"; do
    local b objs o
    b=$(basename "$f" .c)
    objs=()
    for o in "$obj"/lib/*.o; do # bench_sw_pack compiles lib/cuda/cuda_align.c itself
      [ "$b" = bench_sw_pack ] && [ "$(basename "$o")" = cuda_align.o ] && continue
      objs+=("$o")
    done
    gcc "${cflags[@]}" "$obj/main/$b.o" "${objs[@]}" -o "$obj/$b" -L"$dev/lib" -l:libopenblas.so.0 \
      -l:libcjson.so.1 -L"$cuda/lib64" -lcudart -lcublas -lstdc++ -lm -Wl,-rpath,"$dev/lib" \
      -Wl,-rpath,"$cuda/lib64" || return 1
  done
}
t0=$SECONDS
pre=0
if [ -f "$kdir/stamp" ]; then
  if [ "$(cat "$kdir/stamp")" = "$(kstamp)" ]; then
    pre=1
  else
    echo "gpu-check: $kdir is stale (sources or flags changed): building the kernels"
  fi
fi
if [ "$pre" = 1 ] && ! build 1 > "$out/build.log" 2>&1; then
  tail -5 "$out/build.log"
  echo "gpu-check: the build with the carried kernels failed (build-carried.log): nvcc here"
  pre=0
  rm -rf "${obj:?}/lib" "${obj:?}/main"
  mv "$out/build.log" "$out/build-carried.log"
fi
if [ "$pre" = 0 ] && ! build 0 > "$out/build.log" 2>&1; then
  tail -30 "$out/build.log"; echo "gpu-check: build failed"; exit 1
fi
# the register report below reads nvcc's output: the carried build's log
[ "$pre" = 1 ] && cat "$kdir/build.log" >> "$out/build.log"
echo "build: $((SECONDS - t0)) s (OpenMP $omp, OpenBLAS $blas build; kernels $([ "$pre" = 1 ] && echo carried || echo built here))"
# registers and spills per kernel (the kernel's name on the line before)
awk '/Compiling entry function/{match($0, /_Z[^'"'"']*/); k=substr($0, RSTART, RLENGTH)}
     /spill stores/{sp=$0} /Used [0-9]+ registers/{print "ptxas: " k ": " $5 " registers; " sp}' \
  "$out/build.log" | sed 's/ptxas info *: //; s/    / /g' |
  sed 's/_Z[^:]*\(sw_[a-z_]*_kernel\)ILb\([01]\)ELi\([0-9]\)EL[bi]\([0-9]\)E[^:]*/\1<per_cell=\2,Wmax=\3,skew=\4>/' |
  sort -u

if [ "$profile" = 1 ]; then
  # bench_sw_cuda --quick launches, per gap kind: 2 warm-up, 6 + 8 timed (fwd, bwd), 8
  # end-to-end (per-cell only); skip the warm-up pair of each kind, profile the next pair
  rc=0
  for cfg in "8 256" "256 256" "1024 256" "4096 256"; do
    for kind in "per-cell 2" "scalar 26"; do
      set -- $kind
      echo "================ ncu: $cfg pairs x T, $1 gaps" | tee -a "$out/ncu.txt"
      # shellcheck disable=SC2086
      timeout 150 ncu -k regex:'sw_(fwd|bwd)_kernel' --launch-skip "$2" --launch-count 2 \
        --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats \
        --section SchedulerStats --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis \
        "$obj/bench_sw_cuda" --quick --only $cfg >> "$out/ncu.txt" 2>&1 || rc=1
    done
  done
  grep -E '^=====|sw_(fwd|bwd)_kernel|Duration|Achieved Occupancy|Theoretical Occupancy|Memory Throughput|DRAM Throughput|Compute \(SM\) Throughput|Issued Warp|No Eligible|Warp Cycles Per Issued|Registers Per' \
    "$out/ncu.txt" | cut -c1-150
  rm -rf "$obj"
  exit "$rc"
fi

if [ "$swonly" = 1 ]; then
  tune=--tune
  [ "$quick" = 1 ] || [ -n "${SW_BENCH_ARGS:-}" ] && tune=
  # shellcheck disable=SC2086
  timeout 240 "$obj/bench_sw_cuda" $tune ${SW_BENCH_ARGS:-} > "$out/bench_sw_cuda.log" 2>&1
  rc=$?
  grep -v '^BENCH' "$out/bench_sw_cuda.log"
  rm -rf "$obj"
  exit "$rc"
fi

run_test() { # name; sets rc_<name>
  local name=$1
  shift
  local t=$SECONDS
  timeout 300 "$obj/$name" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  cat "$out/$name.log"
  echo "$name: exit $rc, $((SECONDS - t)) s"
  printf -v "rc_${name}" '%s' "$rc"
}
result() { # exit code -> table word
  case "$1" in 0) echo pass ;; 77) echo "skipped (no GPU)" ;; *) echo "FAIL ($1)" ;; esac
}
echo "================ test_cuda"
run_test test_cuda
echo "================ test_sw_cuda"
run_test test_sw_cuda --no-emulate # the emulation runs in CI (sw_cuda_emulation)
echo "================ test_loss_cuda"
run_test test_loss_cuda "$root/tests/ref"
echo "================ test_aligner_cuda"
run_test test_aligner_cuda

rc_bench=-
rc_pack=-
rc_torch=-
rc_loss=-
if [ "$bench" = 1 ]; then
  echo "================ bench_sw_cuda"
  t=$SECONDS
  tune=--tune
  [ "$quick" = 1 ] && tune=
  # shellcheck disable=SC2086
  timeout 240 "$obj/bench_sw_cuda" $tune > "$out/bench_sw_cuda.log" 2>&1
  rc_bench=$?
  grep -v '^BENCH' "$out/bench_sw_cuda.log"
  echo "bench_sw_cuda: exit $rc_bench, $((SECONDS - t)) s"
fi

# the sanitizers before the other benchmarks: they matter more when a call runs short
rc_san=-
if [ "$sanitize" = 1 ]; then
  echo "================ compute-sanitizer memcheck: test_loss_cuda, test_aligner_cuda, test_sw_cuda; racecheck: test_sw_cuda"
  t=$SECONDS
  rc_san=0
  san_timeouts=""
  san=$(command -v compute-sanitizer || echo "$cuda/compute-sanitizer/compute-sanitizer")
  # tool:test; racecheck for the Y checkpoints' shared-memory ring (each lane its own column)
  for tt in "memcheck:test_loss_cuda $root/tests/ref" "memcheck:test_aligner_cuda --no-emulate" \
    "memcheck:test_sw_cuda --no-emulate" "racecheck:test_sw_cuda --no-emulate"; do
    tool=${tt%%:*} tcase=${tt#*:}
    opts=(--tool "$tool" --error-exitcode 9)
    cap=90 # seconds (racecheck); memcheck 150
    [ "$tool" = memcheck ] && opts+=(--leak-check full) && cap=150
    # shellcheck disable=SC2086
    timeout "$cap" "$san" "${opts[@]}" $obj/$tcase > "$out/sanitize.log.part" 2>&1
    r=$?
    if [ "$r" = 124 ]; then # too slow under the tool: said, not counted as an error
      echo "$tcase under $tool: timed out after $cap s (not a $tool error)"
      san_timeouts="$san_timeouts; $tool of ${tcase%% *} timed out after $cap s"
    fi
    { echo "---- $tcase under $tool: exit $r"; cat "$out/sanitize.log.part"; } >> "$out/sanitize.log"
    grep -E '^=+ (ERROR SUMMARY|LEAK SUMMARY|RACECHECK SUMMARY)|Invalid|hazard|exit' \
      "$out/sanitize.log.part" | head -20
    echo "$tcase under $tool: exit $r"
    [ "$r" = 0 ] || [ "$r" = 124 ] || rc_san=$r
  done
  rm -f "$out/sanitize.log.part"
  echo "sanitize: $((SECONDS - t)) s"
fi

if [ "$bench" = 1 ]; then
  echo "================ bench_sw_pack (lac_cuda_sw's host packing, 1 thread against all)"
  rc_pack=0
  for cfg in "8 256" "8 1024" "256 256"; do
    # shellcheck disable=SC2086
    set -- $cfg
    timeout 60 "$obj/bench_sw_pack" --pairs "$1" --T "$2" >> "$out/bench_sw_pack.log" 2>&1 || rc_pack=1
  done
  cat "$out/bench_sw_pack.log"
fi
if [ "$bench" = 1 ] && [ "$quick" = 0 ]; then
  echo "================ bench_sw_torch_gpu.py (PyTorch baseline)"
  t=$SECONDS
  timeout 180 "${PYTHON:-python3}" "$root/bench/bench_sw_torch_gpu.py" --pairs 8 --T 64 256 --reps 5 --check \
    > "$out/bench_sw_torch_gpu.log" 2>&1
  rc_torch=$?
  cat "$out/bench_sw_torch_gpu.log"
  echo "bench_sw_torch_gpu: exit $rc_torch, $((SECONDS - t)) s"
  echo "================ bench_loss_cuda (the whole loss, GPU vs CPU)"
  t=$SECONDS
  timeout 120 "$obj/bench_loss_cuda" --reps 15 > "$out/bench_loss_cuda.log" 2>&1
  rc_loss=$?
  grep -v '^BENCH' "$out/bench_loss_cuda.log"
  echo "bench_loss_cuda: exit $rc_loss, $((SECONDS - t)) s"
fi

# value of key=... on the first BENCH / TORCH line of a file containing every pattern
val() { # file key pattern...
  local f=$1 k=$2 l
  shift 2
  l=$(grep -E '^(BENCH|TORCH) ' "$f" 2>/dev/null)
  for p in "$@"; do l=$(grep -F -- "$p" <<< "$l"); done
  head -1 <<< "$l" | sed -n "s/.* $k=\([^ ]*\).*/\1/p"
}

echo
echo "| check | card | result |"
echo "|---|---|---|"
echo "| test_cuda: cuBLAS sgemm, single and strided batched (4 transposes each), and the epilogue kernel vs the CPU | $card | $(result "$rc_test_cuda") |"
summ=$(grep '^summary' "$out/test_sw_cuda.log" | sed 's/^summary: largest err\/tol over all runs: *//; s/|/\//g')
echo "| test_sw_cuda: SW-affine fwd+bwd (V, M, dS, dgo, dge) vs the double reference, mixed batches; largest err/tol: $summ | $card | $(result "$rc_test_sw_cuda") |"
lsumm=$(grep '^summary' "$out/test_loss_cuda.log" | sed 's/^summary //; s/|/\//g' | tr '\n' ' ')
echo "| test_loss_cuda: lac_cuda_loss vs lac_loss (CPU) on tests/ref/loss_* and a masked sweep: terms, de1, de2, dgo, dge (masked cases included); ${lsumm:-no summary} | $card | $(result "$rc_test_loss_cuda") |"
asumm=$(grep -E '^  gpu, largest err/tol' "$out/test_aligner_cuda.log" | sed 's/^  gpu, largest err\/tol against //; s/|/\//g' | paste -sd ';' -)
echo "| test_aligner_cuda: lac_aligner with a CUDA backend (tables kept on the device, several backwards per forward) vs the double reference and the CPU aligner; largest err/tol against ${asumm:-no summary} | $card | $(result "$rc_test_aligner_cuda") |"
[ "$sanitize" = 1 ] && echo "| compute-sanitizer memcheck (leak check) of test_loss_cuda, test_aligner_cuda and test_sw_cuda (GPU part), racecheck of test_sw_cuda${san_timeouts:-} | $card | $(result "$rc_san") |"
if [ "$bench" = 1 ] && [ "$rc_bench" = 77 ]; then
  echo "| bench_sw_cuda, bench_sw_torch_gpu.py | $card | skipped (no GPU) |"
elif [ "$bench" = 1 ]; then
  bl="$out/bench_sw_cuda.log"
  tl="$out/bench_sw_torch_gpu.log"
  cg=$(sed -n 's/^BENCH copy gbps=\([^ ]*\).*/\1/p' "$bl" | head -1)
  echo "| bench_sw_cuda: device copy bandwidth (cudaMemcpy device to device, read + write): ${cg:-?} GB/s | $card | $([ "$rc_bench" = 0 ] && echo measured || echo "FAIL ($rc_bench)") |"
  for np in 8 256 1024 2048 4096; do
    Ts="64 128 256 512 1024"
    [ "$np" = 8 ] && Ts="32 $Ts"
    [ "$np" -gt 256 ] && Ts="64 256 512" # the rows of many pairs
    [ "$np" = 2048 ] && Ts="512"
    for T in $Ts; do
      # the defaults (the warps the default settings pick, the order lac_cuda_sw_best_order
      # picks), then every variant of the same run
      k=$(val "$bl" kernel_gcps "pairs=$np " "T=$T " "gaps=cell" "run=best")
      kw=$(val "$bl" warps "pairs=$np " "T=$T " "gaps=cell" "run=best")
      ko=$(val "$bl" order "pairs=$np " "T=$T " "gaps=cell" "run=best")
      kg=$(val "$bl" of_copy "pairs=$np " "T=$T " "gaps=cell" "run=best")
      ks=$(val "$bl" kernel_gcps "pairs=$np " "T=$T " "gaps=scalar" "run=best")
      ksw=$(val "$bl" warps "pairs=$np " "T=$T " "gaps=scalar" "run=best")
      ksg=$(val "$bl" of_copy "pairs=$np " "T=$T " "gaps=scalar" "run=best")
      e=$(val "$bl" e2e_gcps "pairs=$np " "T=$T " "gaps=cell" "run=rows")
      extra=""
      if [ "$np" = 8 ] && { [ "$T" = 64 ] || [ "$T" = 256 ]; }; then
        tg=$(val "$tl" gcps "pairs=8 " "T=$T ")
        if [ -n "$tg" ] && [ -n "$k" ]; then
          extra=$(awk -v a="$k" -v b="$tg" 'BEGIN{ if (b > 0) printf "; PyTorch %.4g Gcells/s, ratio %.0fx", b, a / b }')
        fi
      fi
      vars=""
      for K in 1 2 4 8; do # warps per pair, strips of 8
        km=$(val "$bl" kernel_gcps "pairs=$np " "T=$T " "gaps=cell" "run=variant" "wmax=8/8" "warps=$K ")
        [ -n "$km" ] || continue
        kms=$(val "$bl" kernel_gcps "pairs=$np " "T=$T " "gaps=scalar" "run=variant" "wmax=8/8" "warps=$K ")
        vars="$vars; $K warp(s): $km, scalar ${kms:-?}"
      done
      kr=$(val "$bl" kernel_gcps "pairs=$np " "T=$T " "gaps=cell" "run=rows")
      krs=$(val "$bl" kernel_gcps "pairs=$np " "T=$T " "gaps=scalar" "run=rows")
      kc=$(val "$bl" kernel_gcps "pairs=$np " "T=$T " "gaps=cell" "run=cells")
      kcs=$(val "$bl" kernel_gcps "pairs=$np " "T=$T " "gaps=scalar" "run=cells")
      [ -n "$kc" ] && vars="$vars; default warps row-major: ${kr:-?}, scalar ${krs:-?}; in the warp's order: $kc, scalar ${kcs:-?}"
      # the orders with fewer bytes: the X edges, and the Y checkpoints too (one warp)
      for ov in "xedge:the warp's order with the X edges" \
                "xyedge:with the X edges and Y checkpoints (one warp)"; do
        o=${ov%%:*}
        kx=$(val "$bl" kernel_gcps "pairs=$np " "T=$T " "gaps=cell" "run=$o ")
        kxc=$(val "$bl" vs_cells "pairs=$np " "T=$T " "gaps=cell" "run=$o ")
        kxg=$(val "$bl" of_copy "pairs=$np " "T=$T " "gaps=cell" "run=$o ")
        kxs=$(val "$bl" kernel_gcps "pairs=$np " "T=$T " "gaps=scalar" "run=$o ")
        kxsc=$(val "$bl" vs_cells "pairs=$np " "T=$T " "gaps=scalar" "run=$o ")
        [ -n "$kx" ] && vars="$vars; ${ov#*:}: $kx (${kxc:-?}x the warp's order, ${kxg:-?} of copy bandwidth), scalar ${kxs:-?} (${kxsc:-?}x)"
      done
      for wm in 8/4 4/4; do # narrower strips, one warp (--tune)
        kt=$(val "$bl" kernel_gcps "pairs=$np " "T=$T " "gaps=cell" "wmax=$wm")
        [ -n "$kt" ] || continue
        kts=$(val "$bl" kernel_gcps "pairs=$np " "T=$T " "gaps=scalar" "wmax=$wm")
        vars="$vars; Wmax $wm: $kt, scalar ${kts:-?}"
      done
      echo "| bench_sw_cuda $np pairs T=$T: fwd+bwd kernel, defaults (order ${ko:-?}): ${k:-?} Gcells/s per-cell gaps (${kw:-?} warps per pair, ${kg:-?} of copy bandwidth), ${ks:-?} scalar gaps (${ksw:-?}, ${ksg:-?}); end-to-end lac_cuda_sw with copies ${e:-?}$extra (variants, per-cell then scalar$vars) | $card | $([ "$rc_bench" = 0 ] && echo measured || echo "FAIL ($rc_bench)") |"
    done
  done
  while read -r l; do
    echo "| bench_sw_pack $l | $card | $([ "$rc_pack" = 0 ] && echo measured || echo "FAIL ($rc_pack)") |"
  done < <(paste -d' ' <(grep '^bench_sw_pack:' "$out/bench_sw_pack.log" | sed 's/^bench_sw_pack: //; s/, per-cell.*/, host packing + unpacking:/') \
                       <(grep '^ratio' "$out/bench_sw_pack.log") 2> /dev/null)
  [ "$rc_torch" = - ] ||
    echo "| bench_sw_torch_gpu.py: PyTorch anti-diagonal autograd baseline (with --check vs a naive float64 loop) | $card | $(result "$rc_torch") |"
  while read -r l; do
    echo "| bench_loss_cuda: whole loss fwd+bwd, host arrays in and out: ${l#BENCH loss } | $card | measured |"
  done < <(grep '^BENCH loss' "$out/bench_loss_cuda.log" 2>/dev/null)
  case "$rc_loss" in 0|-) ;; *) echo "| bench_loss_cuda | $card | $(result "$rc_loss") |" ;; esac
fi
rm -rf "$obj"
# 1 when something failed, 77 when every test skipped (no GPU), else 0
rc=77
for r in "$rc_test_cuda" "$rc_test_sw_cuda" "$rc_test_loss_cuda" "$rc_test_aligner_cuda"; do
  case "$r" in 0) [ "$rc" = 77 ] && rc=0 ;; 77) ;; *) rc=1 ;; esac
done
for r in "$rc_bench" "$rc_pack" "$rc_loss" "$rc_san"; do
  case "$r" in -|0|77) ;; *) rc=1 ;; esac
done
exit "$rc"
