// RUN: vit-opt %s -split-input-file -vit-select-tiles="target=x86-64-linux-avx2 cores=2" | FileCheck %s --check-prefix=AVX2
// RUN: vit-opt %s -split-input-file -vit-select-tiles="target=x86-64-linux-avx512_skylake cores=2" | FileCheck %s --check-prefix=AVX512
// RUN: vit-opt %s -split-input-file -vit-select-tiles="target=arm-64-linux cores=16" | FileCheck %s --check-prefix=ARM
// RUN: vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 cores=2 schedule-file=%S/Inputs/schedule.json" | FileCheck %s --check-prefix=FILE

// The module records the machine; every kernel op gets a tile.
// AVX2: module attributes {vit.target = #vit.target<target = "x86-64-linux-avx2", vector_bits = 256, cores = 2, l1_bytes = 32768, l2_bytes = 524288>}
// AVX512: #vit.target<target = "x86-64-linux-avx512_skylake", vector_bits = 512, cores = 2
// ARM: #vit.target<target = "arm-64-linux", vector_bits = 128, cores = 16

// Widths 3072 and 768 take 3-vector tiles: 24x4 on AVX2's 16 registers,
// 48x8 on AVX-512's 32, 12x8 on NEON.
// AVX2-LABEL: func.func @mlp
// AVX2: vit.fused_mlp {{.*}} {vit.tile = #vit.tile<tiles = [24, 4], vector = 8, parallel = [0]>}
// AVX512: vit.fused_mlp {{.*}} {vit.tile = #vit.tile<tiles = [48, 8], vector = 16, parallel = [0]>}
// ARM: vit.fused_mlp {{.*}} {vit.tile = #vit.tile<tiles = [12, 8], vector = 4, parallel = [0]>}
// The schedule file: the op name sets block 0, the location beats it for block 1.
// FILE: vit.fused_mlp {{.*}} {vit.tile = #vit.tile<tiles = [16, 6], vector = 8, parallel = [1]>}
// FILE: vit.fused_mlp {{.*}} {vit.tile = #vit.tile<tiles = [8, 4], vector = 8>}
func.func @mlp(%x: tensor<?x197x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>, %w1: tensor<3072x768xf32>, %b1: tensor<3072xf32>, %w2: tensor<768x3072xf32>, %b2: tensor<768xf32>) -> tensor<?x197x768xf32> {
  %y = vit.fused_mlp %x, %g, %b, %w1, %b1, %w2, %b2 gelu_erf eps = 1.0e-6 : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<3072x768xf32>, tensor<3072xf32>, tensor<768x3072xf32>, tensor<768xf32>) -> tensor<?x197x768xf32> loc("blocks.0.mlp")
  %z = vit.fused_mlp %y, %g, %b, %w1, %b1, %w2, %b2 gelu_erf eps = 1.0e-6 : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<3072x768xf32>, tensor<3072xf32>, tensor<768x3072xf32>, tensor<768xf32>) -> tensor<?x197x768xf32> loc("blocks.1.mlp")
  return %z : tensor<?x197x768xf32>
}

// -----

// 1000 classes: no 3- or 2-vector tile divides them, so the 2-vector tile
// (4 rows on AVX2) reads one panel. A narrow GEMM (few column tiles per core) runs row tiles in
// parallel; layer norm is a row-wise kernel; parameters get no tile.
// AVX2-LABEL: func.func @head
// AVX2: vit.param "head.weight" : tensor<1000x768xf32>
// AVX2-NOT: vit.tile
// AVX2: vit.linear {{.*}} {vit.tile = #vit.tile<tiles = [16, 4], vector = 8, parallel = [0]>}
// AVX2: vit.linear {{.*}} {vit.tile = #vit.tile<tiles = [16, 4], vector = 8, parallel = [1]>}
// AVX2: vit.layer_norm {{.*}} {vit.tile = #vit.tile<tiles = [8], vector = 8, parallel = [0]>}
// ARM-LABEL: func.func @head
// ARM: vit.linear {{.*}} {vit.tile = #vit.tile<tiles = [8, 8], vector = 4, parallel = [1]>}
func.func @head(%x: tensor<?x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>, %w8: tensor<40x768xf32>) -> (tensor<?x1000xf32>, tensor<?x40xf32>, tensor<?x768xf32>) {
  %w = vit.param "head.weight" : tensor<1000x768xf32>
  %c = vit.param "head.bias" : tensor<1000xf32>
  %l = vit.linear %x, %w, %c : (tensor<?x768xf32>, tensor<1000x768xf32>, tensor<1000xf32>) -> tensor<?x1000xf32>
  %n = vit.linear %x, %w8 : (tensor<?x768xf32>, tensor<40x768xf32>) -> tensor<?x40xf32>
  %y = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x768xf32>
  return %l, %n, %y : tensor<?x1000xf32>, tensor<?x40xf32>, tensor<?x768xf32>
}

// -----

// Fused attention adds the query rows of each per-head task when the heads
// of one image make fewer than two tasks per core (3 heads: 2 blocks of 99
// queries on 2 cores; on 16 cores 12 heads take 3 blocks of 66 and 3 heads
// 11 blocks of 18); 12 heads on 2 cores need no third size.
// AVX2-LABEL: func.func @attention
// AVX2: heads = 12 {{.*}} {vit.tile = #vit.tile<tiles = [24, 4], vector = 8, parallel = [0]>}
// AVX2: heads = 3 {{.*}} {vit.tile = #vit.tile<tiles = [24, 4, 99], vector = 8, parallel = [0]>}
// ARM-LABEL: func.func @attention
// ARM: heads = 12 {{.*}} {vit.tile = #vit.tile<tiles = [12, 8, 66], vector = 4, parallel = [0]>}
// ARM: heads = 3 {{.*}} {vit.tile = #vit.tile<tiles = [12, 8, 18], vector = 4, parallel = [0]>}
func.func @attention(%x: tensor<?x197x768xf32>, %g: tensor<768xf32>, %wqkv: tensor<2304x768xf32>, %wo: tensor<768x768xf32>) -> (tensor<?x197x768xf32>, tensor<?x197x768xf32>) {
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 12 eps = 1.0e-6 : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<2304x768xf32>, tensor<768x768xf32>, tensor<768xf32>) -> tensor<?x197x768xf32>
  %b = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 3 eps = 1.0e-6 : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<2304x768xf32>, tensor<768x768xf32>, tensor<768xf32>) -> tensor<?x197x768xf32>
  return %a, %b : tensor<?x197x768xf32>, tensor<?x197x768xf32>
}

// -----

// Unfused attention's matmuls multiply activations: 2-vector tiles with as
// many rows as the registers hold (6 with AVX2's 16, 8 with 32).
// AVX2-LABEL: func.func @matmuls
// AVX2: vit.matmul {{.*}} transpose_rhs {vit.tile = #vit.tile<tiles = [16, 6], vector = 8, parallel = [0]>}
// AVX2: vit.matmul {{.*}} {vit.tile = #vit.tile<tiles = [16, 6], vector = 8, parallel = [0]>}
// AVX512: vit.matmul {{.*}} transpose_rhs {vit.tile = #vit.tile<tiles = [32, 8], vector = 16, parallel = [0]>}
// AVX512: vit.matmul {{.*}} {vit.tile = #vit.tile<tiles = [32, 8], vector = 16, parallel = [1]>}
func.func @matmuls(%q: tensor<?x3x197x64xf32>, %k: tensor<?x3x197x64xf32>) -> tensor<?x3x197x64xf32> {
  %s = vit.matmul %q, %k transpose_rhs : (tensor<?x3x197x64xf32>, tensor<?x3x197x64xf32>) -> tensor<?x3x197x197xf32>
  %c = vit.matmul %s, %k : (tensor<?x3x197x197xf32>, tensor<?x3x197x64xf32>) -> tensor<?x3x197x64xf32>
  return %c : tensor<?x3x197x64xf32>
}
