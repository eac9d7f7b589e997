#!/bin/sh
# Installs and builds (tools/setup.sh), then runs the whole test suite, and
# the CPU tests once more under valgrind's memcheck.
set -eu
cd "$(dirname "$0")"
./tools/setup.sh
# house style: the C files are as GNU indent (gst options) leaves them
./tools/indent.sh --check
meson test -C build --print-errorlogs --num-processes 2
# csvparse is left out: valgrind computes x87 long double arithmetic in
# double precision, so the parser's exact fast path cannot be checked there
meson test -C build --setup valgrind --print-errorlogs --num-processes 2 \
  kernel-ricker kernel-beat kernel-nms kernel-score kernel-vae \
  element-csvecgsrc element-rickerconv element-nmsgate element-beatembed \
  element-vaescore element-vaetrain element-latentsink element-backend dlpack
