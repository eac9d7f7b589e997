#!/bin/sh
# Scoring and training speed of vaescore and vaetrain as whole gst-launch-1.0
# processes, on beats cut from the seed-scale workload.
#
#   tools/bench-vae.sh [CSV]
#
# CSV defaults to /tmp/ecg-bench-20M.csv, which tools/bench-frontend.py
# writes.  The front-end cuts its beats once into a raw file (kept beside
# it as .beats.f32); then filesrc with beat caps feeds:
#   - vaescore: 100,000 beats (the file's beats, then its first ones
#     again), with the bundled model;
#   - vaetrain: 100,000 beats, 30 epochs on the 75 % training share
#     (75,000 beats), batch 1024.
# Prints wall seconds of each process.  Needs a build in ./build.
set -eu
cd "$(dirname "$0")/.."
csv=${1:-/tmp/ecg-bench-20M.csv}
beats=${csv%.csv}.beats
export GST_PLUGIN_PATH="$PWD/build/gst"
[ -f "$csv" ] || { echo "no $csv: run /usr/bin/python3 tools/bench-frontend.py first"; exit 1; }
if [ ! -f "$beats.f32" ]; then
  build/tools/ecg-eval --rate 250 --column 0 --dump-beats "$beats" "$csv" >/dev/null
fi
# 20 M samples give about 87,000 beats: the first ones repeat to 100,000
cat "$beats.f32" "$beats.f32" | head -c $((100000 * 1024)) > "$beats.100k.f32"
caps="application/x-ecg-beats,format=F32LE,length=256,rate=250"

t0=$(date +%s.%N)
gst-launch-1.0 -q filesrc location="$beats.100k.f32" blocksize=262144 ! "$caps" \
  ! vaescore ! fakesink
t1=$(date +%s.%N)
gst-launch-1.0 -q filesrc location="$beats.100k.f32" blocksize=262144 ! "$caps" \
  ! vaetrain location=/tmp/ecg-bench-model.safetensors epochs=30
t2=$(date +%s.%N)
echo "cores: $(nproc)"
echo "vaescore, 100000 beats:                      $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s"
echo "vaetrain, 30 epochs on 75000 of 100000 beats: $(awk "BEGIN { printf \"%.2f\", $t2 - $t1 }") s"
