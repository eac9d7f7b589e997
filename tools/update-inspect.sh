#!/bin/sh
# Rewrites docs/inspect/<element>.txt with gst-inspect-1.0's output for
# each element of the plugin built in ./build.
set -eu
cd "$(dirname "$0")/.."
mkdir -p docs/inspect
export GST_PLUGIN_PATH="$PWD/build/gst"
export GST_REGISTRY="$PWD/build/registry-inspect.bin"
for e in csvecgsrc rickerconv nmsgate beatembed vaescore vaetrain latentsink; do
  gst-inspect-1.0 "$e" | sed "s#$PWD/##g" > "docs/inspect/$e.txt"
done
gst-inspect-1.0 ecg | sed "s#$PWD/##g" > docs/inspect/plugin.txt
