# env.sh — sourced by the pipeline scripts: find lac's build tree (or an installed lac) and
# point GStreamer at its plugins.  Sets LAC (the lac command) and exports GST_PLUGIN_PATH.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${LAC_BUILD:-$root/build}
if [ -x "$build/tools/lac" ]; then
  LAC="$build/tools/lac"
  export GST_PLUGIN_PATH="$build/gst/synth:$build/gst/encoder:$build/gst/align${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
elif command -v lac >/dev/null; then
  LAC=lac
else
  echo "lac is not built: run 'meson setup build && ninja -C build' in $root (or set LAC_BUILD)" >&2
  exit 1
fi
