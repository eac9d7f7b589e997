#!/bin/bash
# Everything that needs the GPU machine, in one go (see
# ../shared/device/README.md for how the build and a GStreamer runtime
# travel there):
#
#   tests/gpu/run-all.sh BUILD_DIR OUT_DIR
#
# runs the meson suite "cuda" (each CUDA kernel against its CPU reference,
# and the element chain), the DLPack check with PyTorch, the PyTorch load
# check of the bundled model, and the seed's own GPU pipeline for the
# figures in docs/PERFORMANCE.md when .device/baselines holds it.  Logs go
# to OUT_DIR.
set -u
build=${1:?build dir}
out=${2:?out dir}
cd "$(dirname "$0")/../.."
mkdir -p "$out"
status=0
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader \
  | tee "$out/gpu.txt"

echo "== meson suite cuda"
meson test -C "$build" --suite cuda --print-errorlogs --no-rebuild \
  > "$out/cuda-suite.txt" 2>&1 || status=1
tail -n 15 "$out/cuda-suite.txt"
cp "$build/meson-logs/testlog.txt" "$out/cuda-testlog.txt" 2>/dev/null

echo "== DLPack with PyTorch"
python3 tests/gpu/dlpack_torch.py "$build" cpu cuda > "$out/dlpack.txt" 2>&1 \
  || status=1
cat "$out/dlpack.txt"

echo "== the bundled model in PyTorch"
beats=${ECG_SHARED_DATA:-.device/ecgdata}/golden/vae/beats.f32
if [ -f "$beats" ]; then
  mkdir -p "$out/dump" && "$build/tools/vae-dump" data/models/default.safetensors "$beats" "$out/dump" \
    > "$out/torch-load.txt" 2>&1 &&
  python3 tests/gpu/check_torch_load.py data/models/default.safetensors \
    "$beats" "$out/dump" --device cuda >> "$out/torch-load.txt" 2>&1 || status=1
  rm -rf "$out/dump"
  cat "$out/torch-load.txt"
fi
exit $status
