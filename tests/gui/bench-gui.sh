#!/bin/sh
# bench-gui.sh: the GTK app on a generated trace of a million packets: time
# to the first frame and redraw time per step (goal: 2 s and 16 ms).
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   tests/gui/bench-gui.sh [BUILD_DIR] [--packets N] [--steps K] [TRACE]
#
# bench-gui starts its own Xvfb; GSK_RENDERER=cairo as in the tests.
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
exe="$build/gui/bench-gui"
if [ ! -x "$exe" ]; then
  echo "bench-gui.sh: $exe is not built (meson compile -C $build gui/bench-gui)" >&2
  exit 2
fi
GSK_RENDERER=cairo exec "$exe" "$@"
