#!/bin/sh
# Formats the project's C files with GNU indent in the house style
# (gst-indent options), twice since indent is not idempotent.
#   tools/indent.sh           rewrite the files
#   tools/indent.sh --check   change nothing; fail and list the files that
#                             would change (run by run-tests.sh)
set -eu
cd "$(dirname "$0")/.."
check=0
[ "${1:-}" = "--check" ] && check=1
flags="--braces-on-if-line --case-brace-indentation0 --case-indentation2
  --braces-after-struct-decl-line --line-length80 --no-tabs --cuddle-else
  --dont-line-up-parentheses --continuation-indentation4 --honour-newlines
  --tab-size8 --indent-level2 --leave-preprocessor-space"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0
files=$(find gst kernels tools tests/check tests/gpu -name '*.c' \
    -not -path '*-research/*' | sort)
[ -n "$files" ] || { echo "no C files found"; exit 1; }
for f in $files; do
  cp "$f" "$tmp/f.c"
  # shellcheck disable=SC2086
  indent $flags "$tmp/f.c" -o "$tmp/g.c" && indent $flags "$tmp/g.c" -o "$tmp/f.c"
  if ! cmp -s "$f" "$tmp/f.c"; then
    if [ $check = 1 ]; then
      echo "not formatted: $f"
      bad=1
    else
      cp "$tmp/f.c" "$f"
    fi
  fi
done
exit $bad
