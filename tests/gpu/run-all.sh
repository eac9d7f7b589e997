#!/bin/bash
# Everything that needs the GPU machine, in one go (see
# ../shared/device/README.md for how the build and a GStreamer runtime
# travel there):
#
#   tests/gpu/run-all.sh BUILD_DIR OUT_DIR
#
# runs the meson suite "cuda" (each CUDA kernel against its CPU reference,
# and the element chain), the DLPack check with PyTorch, the PyTorch load
# check of the bundled model, and tools/bench-gpu.sh for the figures in
# docs/PERFORMANCE.md (ECG_BENCH=0 leaves it out).  Logs go to OUT_DIR.
set -u
build=${1:?build dir}
out=${2:?out dir}
cd "$(dirname "$0")/../.."
mkdir -p "$out"
status=0
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader \
  | tee "$out/gpu.txt"

# vaescore's default model: the installed place (the source tree's path,
# compiled in, may not exist on this machine)
mkdir -p /usr/local/share/gst-ecg/models 2>/dev/null &&
  cp data/models/default.safetensors /usr/local/share/gst-ecg/models/ 2>/dev/null

# The test programs run directly (the GPU machine has no meson), with the
# environment meson test would give them, plus the carried system plugins.
export GST_PLUGIN_PATH_1_0="$PWD/$build/gst"
export GST_REGISTRY_1_0=/tmp/ecg-gpu-registry.bin
export ECG_SOURCE_ROOT="$PWD" ECG_TEST_FILES="$PWD/tests/files"
export ECG_SHARED_DATA=${ECG_SHARED_DATA:-$PWD/.device/ecgdata}
export CK_DEFAULT_TIMEOUT=300
echo "== suite cuda, element-backend, and the element tests (ECG_BACKEND=cpu as in CI)"
for t in cuda-ricker cuda-beat cuda-vae cuda-nms cuda-score cuda-csvparse cuda-csvecgsrc cuda-chain \
    element-backend element-csvecgsrc element-rickerconv element-nmsgate \
    element-beatembed element-vaescore element-vaetrain element-latentsink; do
  [ -x "$build/tests/$t" ] || continue
  case $t in
    cuda-*|element-backend) unset ECG_BACKEND ;;
    *) export ECG_BACKEND=cpu ;;
  esac
  "$build/tests/$t" > "$out/$t.txt" 2>&1
  rc=$?
  echo "$t: exit $rc"
  [ $rc -eq 0 ] || [ $rc -eq 77 ] || status=1
done | tee "$out/suite.txt"
grep -q "exit [^07]" "$out/suite.txt" && status=1
unset ECG_BACKEND

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

# Speed, side by side on this card: tools/bench-gpu.sh runs the seed's own
# GPU pipeline and the gst-launch-1.0 processes on the same 20 M-sample CSV
# and prints the table of docs/PERFORMANCE.md.
if [ "${ECG_BENCH:-1}" = 1 ]; then
  echo "== speed (tools/bench-gpu.sh)"
  tools/bench-gpu.sh "$build" "$out/bench" || status=1
fi
exit $status
