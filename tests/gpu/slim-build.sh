#!/bin/sh
# Copies what tests/gpu/run-all.sh needs from a CUDA build into DEST (the
# plugin, the test programs, vae-dump, the DLPack helper), small enough to
# travel to the GPU machine:  tests/gpu/slim-build.sh build-cuda .device/bc
set -eu
src=${1:?build dir}
dest=${2:?dest}
rm -rf "$dest"
mkdir -p "$dest/gst" "$dest/tests/gpu" "$dest/tools"
cp "$src/gst/libgstecg.so" "$dest/gst/"
for f in "$src"/tests/cuda-* "$src"/tests/element-*; do
  [ -x "$f" ] && [ -f "$f" ] && cp "$f" "$dest/tests/"
done
cp "$src/tests/gpu/libecgdlpackhelper.so" "$dest/tests/gpu/"
cp "$src/tools/vae-dump" "$src/tools/ecg-eval" "$src/tools/csvparse-bench" \
  "$dest/tools/"
du -sh "$dest"
