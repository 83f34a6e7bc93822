#!/usr/bin/env bash
# Configures (once) and builds vitc with Ninja into build/ (or $VITC_BUILD).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
if [ ! -f "$VITC_BUILD/build.ninja" ]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  "$CMAKE_BIN" -S "$VITC_ROOT" -B "$VITC_BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DHalide_DIR="$HALIDE_CMAKE_DIR" \
    "${launcher[@]}"
fi
"$CMAKE_BIN" --build "$VITC_BUILD"
