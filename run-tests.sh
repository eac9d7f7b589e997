#!/bin/sh
# Installs and builds (tools/setup.sh), then runs the whole test suite, and
# the CPU tests once more under valgrind's memcheck.
set -eu
cd "$(dirname "$0")"
./tools/setup.sh
meson test -C build --print-errorlogs --num-processes 2
meson test -C build --setup valgrind --suite kernels --suite elements \
  --print-errorlogs --num-processes 2
