#!/bin/sh
# Inter-patient outlier-scoring measure on the 22 DS1 records: train a model
# with vaetrain on one half, score the other half with vaescore, and the
# reverse.  The halves alternate over the records sorted by number.
#
#   tools/eval-outliers.sh [DATA_DIR] [ECG_EVAL_ARGS...]
#
# DATA_DIR defaults to ../shared/data/mitdb; extra arguments go to the
# scoring runs of ecg-eval (for example --no-adapt).  Needs a build in ./build.
set -eu
cd "$(dirname "$0")/.."
data=${1:-../shared/data/mitdb}
[ $# -gt 0 ] && shift
export GST_PLUGIN_PATH="$PWD/build/gst"
eval_bin=build/tools/ecg-eval
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

A="101 108 112 115 118 122 201 205 208 215 223"
B="106 109 114 116 119 124 203 207 209 220 230"
files() { for r in $1; do printf '%s/%s.csv ' "$data" "$r"; done; }

for fold in AB BA; do
  if [ $fold = AB ]; then train=$A; test=$B; else train=$B; test=$A; fi
  echo "== train on {$train}, test on {$test}"
  # shellcheck disable=SC2046
  $eval_bin --train "$tmp/$fold.safetensors" $(files "$train") | tail -n 2
  # shellcheck disable=SC2046
  $eval_bin --auc --model "$tmp/$fold.safetensors" "$@" $(files "$test") | tail -n 2
done
