// Errors of vit-select-tiles: a target it cannot describe, and schedule files
// that are unreadable, name parameters the tile does not have, set values it
// does not accept, or match nothing.
// RUN: not vit-opt %s -vit-select-tiles="target=wasm-32-wasmrt" 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: error: target: 'wasm-32-wasmrt' names no architecture vitc can tile for (x86, arm, riscv or host)
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=%S/Inputs/missing.json" 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: cannot read schedule file '{{.*}}missing.json': No such file or directory
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=/dev/zero" 2>&1 | FileCheck %s --check-prefix=DEVICE
// DEVICE: error: cannot read schedule file '/dev/zero': not a regular file (a directory, device or pipe); give a file
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=%S/vit-select-tiles.mlir" 2>&1 | FileCheck %s --check-prefix=JSON
// JSON: error: schedule file '{{.*}}vit-select-tiles.mlir' is not valid JSON:
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=%S/Inputs/schedule-unknown-parameter.json" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: error: schedule file '{{.*}}schedule-unknown-parameter.json', kernel 'vit.layer_norm': #vit.cpu_row_tile has no parameter 'columns' (it has rows, vector)
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=%S/Inputs/schedule-no-match.json" 2>&1 | FileCheck %s --check-prefix=NOMATCH
// NOMATCH: error: schedule file '{{.*}}schedule-no-match.json': kernel 'blocks.7.mlp' matches no op
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=%S/Inputs/schedule-bad-tile.json" 2>&1 | FileCheck %s --check-prefix=TILE
// TILE: error: schedule file '{{.*}}schedule-bad-tile.json', kernel 'vit.linear': rows must be between 1 and 4096, got 0
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=%S/Inputs/schedule-bad-parallel.json" 2>&1 | FileCheck %s --check-prefix=PARALLEL
// PARALLEL: error: schedule file '{{.*}}schedule-bad-parallel.json', kernel 'vit.linear': 'parallel' must be one of "columns", "rows"
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=%S/Inputs/schedule-bad-value.json" 2>&1 | FileCheck %s --check-prefix=VALUE
// VALUE: error: schedule file '{{.*}}schedule-bad-value.json', kernel 'vit.linear': 'rows' must be an integer
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=%S/Inputs/schedule-bad-entry.json" 2>&1 | FileCheck %s --check-prefix=ENTRY
// ENTRY: error: schedule file '{{.*}}schedule-bad-entry.json', kernel 'vit.linear': expected an object of tile parameters by name, e.g. {"columns": 16, "rows": 6}
// A GPU tile must fit the target's threads per block.
// RUN: printf '{"vit.linear": {"block_columns": 256, "block_rows": 64, "thread_columns": 1, "thread_rows": 1}}' > %t.json
// RUN: not vit-opt %s -vit-select-tiles="target=host-cuda schedule-file=%t.json" 2>&1 | FileCheck %s --check-prefix=THREADS
// THREADS: error: schedule file '{{.*}}.json', kernel 'vit.linear': 16384 threads per block is more than the 1024 the target allows
// Deep nesting is refused before the JSON parser, which would recurse once per
// level and overflow the stack.
// RUN: python3 -c "print('[' * 100000)" > %t.deep.json
// RUN: not vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 schedule-file=%t.deep.json" 2>&1 | FileCheck %s --check-prefix=DEEP
// DEEP: error: schedule file '{{.*}}.deep.json' nests JSON 100000 levels deep; vitc reads at most 64

func.func @f(%x: tensor<?x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>, %w: tensor<40x768xf32>) -> (tensor<?x768xf32>, tensor<?x40xf32>) {
  %y = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x768xf32>
  %n = vit.linear %x, %w : (tensor<?x768xf32>, tensor<40x768xf32>) -> tensor<?x40xf32>
  return %y, %n : tensor<?x768xf32>, tensor<?x40xf32>
}
