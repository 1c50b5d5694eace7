#!/usr/bin/env bash
# gpu-fetch-debs.sh — download Debian's OpenBLAS and cJSON packages and unpack the files
# tools/gpu-check.sh links against into .device/sys (git-ignored), to carry to a GPU
# machine that has no Debian packages.
#   tools/gpu-fetch-debs.sh [openmp|pthread]
# OpenBLAS's OpenMP build by default (.device/sys/blas says which): the one the meson build
# links (libopenblas-openmp-dev), which runs on one thread when called inside the library's
# parallel loops; tools/gpu-check.sh compiles with OpenMP where the machine's gcc has it.
# The pthread build is for a gcc without OpenMP.  One build, so .device stays under the
# device tool's carry limit.
set -euo pipefail
v=${1:-openmp}
case "$v" in
  openmp|pthread) ;;
  *) echo "gpu-fetch-debs: unknown OpenBLAS build '$v' (use openmp or pthread)"; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
apt-get download "libopenblas0-$v" "libopenblas-$v-dev" libcjson1 libcjson-dev libgfortran5
for d in *.deb; do dpkg -x "$d" x; done
sys="$root/.device/sys"
rm -rf "$sys"
mkdir -p "$sys/lib" "$sys/include"
cp -L "x/usr/lib/x86_64-linux-gnu/openblas-$v/libopenblas.so.0" "$sys/lib/"
echo "$v" > "$sys/blas"
cp -L x/usr/lib/x86_64-linux-gnu/libgfortran.so.5 x/usr/lib/x86_64-linux-gnu/libcjson.so.1 "$sys/lib/"
cp "x/usr/include/x86_64-linux-gnu/openblas-$v/"*.h "$sys/include/"
cp -r x/usr/include/cjson "$sys/include/"
du -sh "$sys"
