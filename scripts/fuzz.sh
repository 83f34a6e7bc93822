#!/usr/bin/env bash
# Fuzzes the checkpoint readers and the config parser with libFuzzer (clang,
# ASan + UBSan) for SECONDS each (default 300), then merges inputs that add
# coverage into the committed corpus under test/fuzz/corpus/.
#   scripts/fuzz.sh [SECONDS] [TARGET...]    targets: safetensors npy npz config
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
"$here/setup.sh"
source "$here/env.sh"
seconds=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors npy npz config)
build="$VITC_ROOT/build-fuzz"
if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ "$CMAKE_BIN" -S "$VITC_ROOT" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVITC_FUZZ=ON -DHalide_DIR="$HALIDE_CMAKE_DIR"
fi
declare -A binary=([safetensors]=Safetensors [npy]=Npy [npz]=Npz [config]=Config)
for t in "${targets[@]}"; do
  "$CMAKE_BIN" --build "$build" --target "${binary[$t]}-fuzzer"
done
for t in "${targets[@]}"; do
  corpus="$VITC_ROOT/test/fuzz/corpus/$t"
  work="$build/corpus/$t"
  mkdir -p "$work"
  echo "== fuzzing $t for ${seconds}s"
  "$build/test/fuzz/${binary[$t]}-fuzzer" "$work" "$corpus" -max_total_time="$seconds" \
    -max_len=4096 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 2>&1 | tail -n 12
  # Keep only inputs that add coverage to what is committed.
  "$build/test/fuzz/${binary[$t]}-fuzzer" -merge=1 "$corpus" "$work" 2>&1 | tail -n 1
done
