#!/usr/bin/env bash
# README test command: set up, build, then run every test (lit + unit) through CTest.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
"$here/setup.sh"
"$here/build.sh"
source "$here/env.sh"
cd "$VITC_BUILD"
"$(dirname "$CMAKE_BIN")/ctest" --output-on-failure "$@"
