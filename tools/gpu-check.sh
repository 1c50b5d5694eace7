#!/usr/bin/env bash
# gpu-check.sh — on a lent GPU machine: build the CUDA backend, our kernels and the CUDA
# tests, run them, and print a table.  That machine has the CUDA toolkit but no Debian
# packages, so this compiles the few sources it needs directly (no meson, no GStreamer)
# against OpenBLAS and cJSON unpacked under .device/sys by tools/gpu-fetch-debs.sh (carry
# .device there).  Logs go to $OUT (default ./gpu-out).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/gpu-out}
mkdir -p "$out"
export PATH="$PATH:/usr/local/cuda/bin"
cuda=$(dirname "$(dirname "$(command -v nvcc)")")
dev="$root/.device/sys"
obj=$(mktemp -d)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/gpu.txt" 2>&1
echo "gpu: $(cat "$out/gpu.txt")"
printf '#define LAC_HAVE_CUDA 1\n#define LAC_HAVE_OPENMP 0\n' > "$obj/lac_config.h"
inc=(-I"$root/include" -I"$root/lib" -I"$root/kernels" -I"$obj" -I"$dev/include" -I"$cuda/include")
cflags=(-std=c11 -O2 -Wall -Wextra -Werror -Wno-unknown-pragmas -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE)
build() {
  for f in lib/core/status.c lib/core/util.c lib/core/backend.c lib/cpu/cpu_backend.c \
           lib/cuda/cuda_backend.c tests/test_cuda.c; do
    gcc "${cflags[@]}" "${inc[@]}" -c "$root/$f" -o "$obj/$(basename "$f" .c).o" || return 1
  done
  nvcc -O2 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90 \
    -Xptxas -v -I"$root/kernels" -c "$root/kernels/epilogue.cu" -o "$obj/epilogue.o" || return 1
  gcc "$obj"/*.o -o "$obj/test_cuda" -L"$dev/lib" -l:libopenblas.so.0 -L"$cuda/lib64" \
    -lcudart -lcublas -lstdc++ -lm -Wl,-rpath,"$dev/lib" -Wl,-rpath,"$cuda/lib64"
}
if ! build > "$out/build.log" 2>&1; then
  tail -30 "$out/build.log"; echo "gpu-check: build failed"; exit 1
fi
grep -E "spill|registers" "$out/build.log" | sed 's/^/ptxas: /'
"$obj/test_cuda" 2>&1 | tee "$out/test_cuda.log"
rc=${PIPESTATUS[0]}
echo
echo "| check | card | result |"
echo "|---|---|---|"
echo "| test_cuda: cuBLAS sgemm (4 transposes) and the epilogue kernel vs the CPU | $(cut -d, -f1 "$out/gpu.txt") | $([ "$rc" -eq 0 ] && echo pass || echo "FAIL ($rc)") |"
rm -rf "$obj"
exit "$rc"
