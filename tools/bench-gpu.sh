#!/bin/bash
# Speed on the GPU machine, side by side in one run: the seed's own GPU
# pipeline (pandas parse, CuPy front-end, PyTorch LightVAE) and this
# plugin's gst-launch-1.0 processes on the same 20 M-sample CSV.  Prints a
# table; logs go to OUT_DIR.
#
#   tools/bench-gpu.sh BUILD_DIR OUT_DIR [RUNS]
#
# BUILD_DIR is a CUDA build (or its slim copy, tests/gpu/slim-build.sh).
# The seed's script is taken from $ECG_BASELINES (default ../shared/baselines,
# else .device/baselines, which is how it travels to the GPU machine): it
# writes the workload /tmp/ecg20h.csv (base250.npy tiled to 20,000,000
# samples plus 1 uV of noise, one value per line with Python's repr) and
# times its stages.  Without it the plugin's side runs alone on an existing
# /tmp/ecg20h.csv.  Wall times are whole processes, best of RUNS (3).
set -u
build=${1:?build dir}
out=${2:?out dir}
runs=${3:-3}
cd "$(dirname "$0")/.."
mkdir -p "$out"
csv=/tmp/ecg20h.csv
bl=${ECG_BASELINES:-}
if [ -z "$bl" ]; then
  for d in ../shared/baselines .device/baselines; do
    [ -f "$d/seed_gpu_bench.py" ] && { bl=$d; break; }
  done
fi
export GST_PLUGIN_PATH="$PWD/$build/gst"
export GST_REGISTRY_1_0=${GST_REGISTRY_1_0:-/tmp/ecg-bench-registry.bin}
card=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)

if [ -n "$bl" ]; then
  (cd "$bl" && python3 seed_gpu_bench.py --npy base250.npy --csv "$csv") \
    > "$out/seed-gpu.txt" 2>&1 || echo "the seed's pipeline failed: see $out/seed-gpu.txt"
fi
[ -f "$csv" ] || { echo "no $csv (needs the seed's script)"; exit 1; }
seed() { awk -v k="$1" '$1 == k { print $2; exit }' "$out/seed-gpu.txt" 2>/dev/null; }

# best wall time of $runs runs of the command line "$@"
best() {
  local name=$1 b="" t0 t1 d r
  shift
  for r in $(seq "$runs"); do
    t0=$(date +%s.%N)
    if ! "$@" > "$out/$name.log" 2>&1; then
      echo "FAILED: $*" >&2
      tail -n 5 "$out/$name.log" >&2
      echo "-"
      return
    fi
    t1=$(date +%s.%N)
    d=$(awk "BEGIN { printf \"%.3f\", $t1 - $t0 }")
    b=$(awk -v a="$b" -v d="$d" 'BEGIN { print (a == "" || d < a) ? d : a }')
  done
  echo "$b"
}

gst-launch-1.0 -q fakesrc num-buffers=1 ! fakesink   # the registry, once
src() { echo "csvecgsrc location=$csv backend=$1 buffer-time=$2"; }
front() {
  echo "rickerconv backend=$1 ! nmsgate backend=$1 ! beatembed backend=$1" \
    "beats-per-buffer=4096 max-latency=600000"
}
declare -A T
for b in cpu cuda; do
  T[parse-$b]=$(best parse-$b gst-launch-1.0 -q $(src $b 3600000000) ! fakesink)
  T[scores-$b]=$(best scores-$b gst-launch-1.0 -q $(src $b 3600000000) ! \
      $(front $b) ! vaescore backend=$b ! fakesink)
  T[scoresq-$b]=$(best scoresq-$b gst-launch-1.0 -q $(src $b 3600000000) ! \
      queue ! rickerconv backend=$b ! nmsgate backend=$b ! queue ! \
      beatembed backend=$b beats-per-buffer=4096 max-latency=600000 ! \
      vaescore backend=$b ! fakesink)
done
T[scoresnm-cuda]=$(best scoresnm-cuda gst-launch-1.0 -q $(src cuda 3600000000) ! \
    $(front cuda) ! vaescore backend=cuda post-messages=false ! fakesink)
# one process each: the whole run, and the epochs alone from vaetrain's log
for b in cuda cpu; do
  t0=$(date +%s.%N)
  GST_DEBUG=vaetrain:4 gst-launch-1.0 -q $(src $b 3600000000) ! $(front $b) \
    ! vaetrain backend=$b epochs=30 location=/tmp/ecg-bench-$b.safetensors \
    > "$out/train-$b.log" 2>&1 || echo "FAILED: vaetrain backend=$b" >&2
  t1=$(date +%s.%N)
  T[train-$b]=$(awk "BEGIN { printf \"%.3f\", $t1 - $t0 }")
  T[epochs-$b]=$(sed -n 's/.* epochs on \([0-9]*\) beats in \([0-9.]*\) s.*/\2 s on \1 beats/p' \
    "$out/train-$b.log")
  T[loss-$b]=$(grep -o 'loss [0-9.]*' "$out/train-$b.log" | tail -n 1)
done
if [ -x "$build/tools/csvparse-bench" ]; then
  "$build/tools/csvparse-bench" --cuda "$csv" > "$out/parse-bench.txt" 2>&1 ||
    echo "csvparse-bench --cuda failed: see $out/parse-bench.txt"
fi

{
  echo "card: ${card:-unknown}; $(nproc) host cores; $(stat -c %s "$csv") bytes of CSV"
  echo
  echo "| stage | seed pipeline (s) | this plugin (s) |"
  echo "|---|---:|---:|"
  echo "| CSV parse | $(seed csv_parse_pandas) (pandas) + $(seed h2d_copy) upload | ${T[parse-cuda]} (csvecgsrc ! fakesink, backend=cuda, whole process); ${T[parse-cpu]} (backend=cpu) |"
  echo "| front-end on the GPU, first call / warm | $(seed 'segment_embed_gpu(all)') / $(seed 'segment_embed_gpu(again)') | in the processes below |"
  echo "| inference | $(seed vae_infer_test_torch) | in the processes below |"
  echo "| whole process CSV to per-beat scores | - | ${T[scores-cuda]} (cuda), ${T[scores-cpu]} (cpu); with two queues ${T[scoresq-cuda]} (cuda), ${T[scoresq-cpu]} (cpu); cuda without outlier messages ${T[scoresnm-cuda]} |"
  echo "| LightVAE training, 30 epochs | $(seed vae_train_30ep_torch) ($(sed -n 's/^train beats \([0-9]*\).*/\1/p' "$out/seed-gpu.txt" 2>/dev/null) beats) | ${T[epochs-cuda]} (cuda), ${T[epochs-cpu]} (cpu) |"
  echo "| whole process CSV to trained model | - | ${T[train-cuda]} (cuda, ${T[loss-cuda]}), ${T[train-cpu]} (cpu, ${T[loss-cpu]}) |"
  if [ -s "$out/parse-bench.txt" ]; then
    echo
    cat "$out/parse-bench.txt"
  fi
} | tee "$out/table.md"
