#!/bin/sh
# The main job on the bundled sample: five minutes of MIT-BIH record 119
# (360 Hz, lead MLII) through csvecgsrc ! audioresample ! rickerconv !
# nmsgate ! beatembed, with a summary of the beats found and their accuracy
# against the record's reference annotations.  Installs and builds first.
set -eu
cd "$(dirname "$0")"
./tools/setup.sh >/dev/null
export GST_PLUGIN_PATH="$PWD/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
exec ./build/tools/ecg-eval --summary --rate 360 --column MLII data/samples/119_5min.csv
