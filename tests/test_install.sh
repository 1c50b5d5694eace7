#!/usr/bin/env bash
# test_install.sh — `meson install` into a scratch root, then build and run a program
# against the installed header, library and pkg-config file alone.
# Usage: test_install.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" >/dev/null
prefix=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
  'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
pc=$(find "$dest" -name lac.pc | head -1)
[ -n "$pc" ] || { echo "no lac.pc installed"; exit 1; }
[ -f "$dest$prefix/include/lac/lac.h" ] || { echo "lac.h not installed"; exit 1; }
cat > "$dest/use.c" <<'C'
#include <lac/lac.h>
#include <stdio.h>
int main(void) {
  lac_arch a;
  lac_error err;
  if (lac_arch_preset("resnet50", &a, &err) != LAC_OK) return 1;
  printf("trunk channels %d\n", lac_arch_trunk_channels(&a));
  return lac_arch_trunk_channels(&a) == 1024 ? 0 : 1;
}
C
flags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --define-variable=prefix="$dest$prefix" --cflags --libs lac)
cc -std=c11 -Wall -Werror "$dest/use.c" $flags -o "$dest/use"
LD_LIBRARY_PATH=$(dirname "$(find "$dest" -name 'liblac.so' | head -1)") "$dest/use"
echo "install: 1 passed, 0 failed"
