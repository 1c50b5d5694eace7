#!/usr/bin/env bash
# fetch-real-clips.sh — real, licensed video clips for end-to-end checks, from Debian's own
# packages (nothing is committed): python3-mecavideo ships short physics clips under
# CC BY-SA 3.0 — g1.avi / g2.avi (two cyclists passing the same camera, DivX), air-table
# puck launches (Theora, AVI) — in /usr/share/pymecavideo/data/video.
#
#   tools/fetch-real-clips.sh DIR     -> DIR/g1.avi, DIR/g2.avi, ... ; prints DIR
#
# Uses `apt-get download` + `dpkg -x` (no root needed, nothing installed).  Exits 1 with a
# message when the package cannot be downloaded (no network or no Debian mirror).
set -euo pipefail
dir=${1:?usage: fetch-real-clips.sh DIR}
mkdir -p "$dir"
if [ -f "$dir/g1.avi" ] && [ -f "$dir/g2.avi" ]; then echo "$dir"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && apt-get download python3-mecavideo >/dev/null 2>&1); then
  echo "fetch-real-clips: cannot download python3-mecavideo (network or apt sources?)" >&2
  exit 1
fi
dpkg -x "$work"/python3-mecavideo_*.deb "$work/x"
src="$work/x/usr/share/pymecavideo/data/video"
[ -d "$src" ] || { echo "fetch-real-clips: the package has no $src" >&2; exit 1; }
cp "$src"/* "$dir"/
echo "$dir"
