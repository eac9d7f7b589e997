#!/bin/sh
# The main job on the bundled sample: five minutes of MIT-BIH record 119
# (360 Hz, lead MLII) through the whole chain
#   csvecgsrc ! audioresample ! rickerconv ! nmsgate ! beatembed ! vaescore ! latentsink
# with the bundled model.  Writes demo-output/beats.csv (one row per beat)
# and demo-output/latent.png, and prints a summary: beats, heart rate, gaps,
# outliers, and the accuracy against the record's reference annotations.
# Installs and builds first (tools/setup.sh).
set -eu
cd "$(dirname "$0")"
./tools/setup.sh >/dev/null
export GST_PLUGIN_PATH="$PWD/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
out=demo-output
mkdir -p "$out"
gst-launch-1.0 -q csvecgsrc location=data/samples/119_5min.csv column=MLII rate=360 \
  ! audioresample ! audio/x-raw,rate=250 \
  ! rickerconv ! nmsgate ! beatembed \
  ! vaescore \
  ! latentsink location="$out/beats.csv" plot-location="$out/latent.png"
awk -F, 'NR > 1 { n++; o += $NF } END {
  printf "wrote %s/beats.csv: %d beats, %d flagged as outliers; plot in %s/latent.png\n",
    dir, n, o, dir }' dir="$out" "$out/beats.csv"
./build/tools/ecg-eval --summary --auc data/samples/119_5min.csv
