#!/usr/bin/env bash
# README test command: set up, build, then run every test (lit + unit) through CTest.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
# The models the build compiles for tests take the compiler's own tiles, not
# what a schedule cache on this machine holds (vitc --tune).
export VITC_SCHEDULE_CACHE=off
"$here/setup.sh"
"$here/build.sh"
source "$here/env.sh"
cd "$VITC_BUILD"
"$(dirname "$CMAKE_BIN")/ctest" --output-on-failure "$@"
