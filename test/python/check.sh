#!/usr/bin/env bash
# Installs the Python package (python/) into a scratch folder with pip, then runs its pytest
# tests against this build's vitc and vit-run.
# Usage: check.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 source=$2 work=$3
python=${PYTHON:-python3}
rm -rf "$work" && mkdir -p "$work"
"$python" -m pip install -q --no-build-isolation --no-deps --target "$work/site" "$source/python" \
  > "$work/pip.log" 2>&1 || { cat "$work/pip.log" >&2; exit 1; }
cd "$work"
PYTHONPATH="$work/site" VITC="$build/compiler/tools/vitc/vitc" VIT_RUN="$build/runtime/vit-run" \
  "$python" -m pytest -q -p no:cacheprovider "$source/python/tests"
