#!/usr/bin/env bash
# gpu-fetch-debs.sh — download Debian's OpenBLAS and cJSON packages and unpack the files
# tools/gpu-check.sh links against into .device/sys (git-ignored), to carry to a GPU
# machine that has no Debian packages.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
apt-get download libopenblas0-pthread libopenblas-pthread-dev libcjson1 libcjson-dev libgfortran5
for d in *.deb; do dpkg -x "$d" x; done
sys="$root/.device/sys"
rm -rf "$sys"
mkdir -p "$sys/lib" "$sys/include"
cp -L x/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0 "$sys/lib/"
cp -L x/usr/lib/x86_64-linux-gnu/libgfortran.so.5 x/usr/lib/x86_64-linux-gnu/libcjson.so.1 "$sys/lib/"
cp x/usr/include/x86_64-linux-gnu/openblas-pthread/*.h "$sys/include/"
cp -r x/usr/include/cjson "$sys/include/"
du -sh "$sys"
