// Errors of vit-select-tiles: a target it cannot describe, and schedule files
// that are unreadable, do not fit, or match nothing.
// RUN: not vit-opt %s -vit-select-tiles="target=wasm-32-wasmrt" 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: error: target 'wasm-32-wasmrt' names no architecture vitc can tile for (x86, arm, riscv or host)
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=%S/Inputs/missing.json" 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: cannot read schedule file '{{.*}}missing.json': No such file or directory
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=%S/vit-select-tiles.mlir" 2>&1 | FileCheck %s --check-prefix=JSON
// JSON: error: schedule file '{{.*}}vit-select-tiles.mlir' is not valid JSON:
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=%S/Inputs/schedule-bad-fit.json" 2>&1 | FileCheck %s --check-prefix=FIT
// FIT: error: schedule file '{{.*}}schedule-bad-fit.json', kernel 'vit.layer_norm': row-wise kernels take tiles = [rows per task], got 2 sizes
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=%S/Inputs/schedule-no-match.json" 2>&1 | FileCheck %s --check-prefix=NOMATCH
// NOMATCH: error: schedule file '{{.*}}schedule-no-match.json': kernel 'blocks.7.mlp' matches no op
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=%S/Inputs/schedule-bad-tile.json" 2>&1 | FileCheck %s --check-prefix=TILE
// TILE: error: schedule file '{{.*}}schedule-bad-tile.json', kernel 'vit.linear': tile size of loop 1 must be between 1 and 4096, got 0
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=%S/Inputs/schedule-bad-parallel.json" 2>&1 | FileCheck %s --check-prefix=PARALLEL
// PARALLEL: error: schedule file '{{.*}}schedule-bad-parallel.json', kernel 'vit.linear': "parallel" must be an array of loop indices

func.func @f(%x: tensor<?x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>, %w: tensor<40x768xf32>) -> (tensor<?x768xf32>, tensor<?x40xf32>) {
  %y = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x768xf32>
  %n = vit.linear %x, %w : (tensor<?x768xf32>, tensor<40x768xf32>) -> tensor<?x40xf32>
  return %y, %n : tensor<?x768xf32>, tensor<?x40xf32>
}
