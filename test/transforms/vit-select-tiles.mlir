// RUN: vit-opt %s -split-input-file -vit-select-tiles="target=x86-64-linux-avx2 cores=2" | FileCheck %s --check-prefix=AVX2
// RUN: vit-opt %s -split-input-file -vit-select-tiles="target=x86-64-linux-avx512_skylake cores=2" | FileCheck %s --check-prefix=AVX512
// RUN: vit-opt %s -split-input-file -vit-select-tiles="target=arm-64-linux cores=16" | FileCheck %s --check-prefix=ARM
// RUN: vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 cores=2 schedule-file=%S/Inputs/schedule.json" | FileCheck %s --check-prefix=FILE
// RUN: vit-opt %s -split-input-file -vit-select-tiles="target=x86-64-linux-avx512_sapphirerapids cores=2" | FileCheck %s --check-prefix=SPR
// RUN: vit-opt %s -split-input-file -vit-select-tiles="target=x86-64-linux-avx512_zen4 cores=2" | FileCheck %s --check-prefix=ZEN4
// RUN: vit-opt %s -split-input-file -vit-select-tiles="target=x86-64-linux-avx2-fma-avxvnni,x86-64-linux-sse41 cores=2" | FileCheck %s --check-prefix=VNNI
// RUN: vit-opt %s -split-input-file -vit-select-tiles="target=host-opencl" | FileCheck %s --check-prefix=OPENCL
// Settings are checked once merged: vector 16 alone does not divide the 24
// columns, but each block's location entry sets columns that it does.
// RUN: vit-opt %s -vit-select-tiles="target=x86-64-linux-avx2 cores=2 schedule-file=%S/Inputs/schedule-merged.json" | FileCheck %s --check-prefix=MERGED
// Scalable vectors need not be a power of two wide.
// RUN: vit-opt %s -split-input-file -vit-select-tiles="target=arm-64-linux-sve2-vector_bits_384 cores=2" | FileCheck %s --check-prefix=SVE
// Without a target option the module's own #vit.target is kept.
// RUN: vit-opt %s -split-input-file -vit-select-tiles="target=x86-64-linux-avx2 cores=4" | vit-opt -split-input-file -vit-select-tiles | FileCheck %s --check-prefix=KEEP

// The module records the machine: vector width, registers, cores and the
// instruction sets the target implies; every kernel op gets a tile of its
// kind.
// AVX2: module attributes {vit.target = #vit.target<target = "x86-64-linux-avx2", vector_bits = 256, vector_registers = 16, cores = 2, features = "sse41|avx|avx2|fma|f16c">}
// AVX512: #vit.target<target = "x86-64-linux-avx512_skylake", vector_bits = 512, vector_registers = 32, cores = 2, features = "sse41|avx|avx2|fma|f16c|avx512">
// ARM: #vit.target<target = "arm-64-linux", vector_bits = 128, vector_registers = 32, cores = 16, features = neon>
// SPR: #vit.target<target = "x86-64-linux-avx512_sapphirerapids", vector_bits = 512, vector_registers = 32, cores = 2, features = "sse41|avx|avx2|fma|f16c|avx_vnni|avx512|avx512_vnni|avx512_bf16|amx_int8|amx_bf16">
// ZEN4: #vit.target<target = "x86-64-linux-avx512_zen4", vector_bits = 512, vector_registers = 32, cores = 2, features = "sse41|avx|avx2|fma|f16c|avx512|avx512_vnni|avx512_bf16">
// The first of several targets is described (they share the weight layout).
// VNNI: #vit.target<target = "x86-64-linux-avx2-fma-avxvnni,x86-64-linux-sse41", vector_bits = 256, vector_registers = 16, cores = 2, features = "sse41|avx|avx2|fma|f16c|avx_vnni">
// OPENCL: #vit.target<target = "host-opencl", vector_bits = 32, cores = 1, gpu = opencl, gpu_threads = 256, gpu_shared_bytes = 32768>
// KEEP: #vit.target<target = "x86-64-linux-avx2", vector_bits = 256, vector_registers = 16, cores = 4, features = "sse41|avx|avx2|fma|f16c">

// Widths 3072 and 768 take 3-vector tiles: 24x4 on AVX2's 16 registers,
// 48x8 on AVX-512's 32, 12x8 on NEON.
// AVX2-LABEL: func.func @mlp
// AVX2: vit.fused_mlp {{.*}} {vit.tile = #vit.cpu_gemm_tile<columns = 24, rows = 4, vector = 8>}
// AVX512: vit.fused_mlp {{.*}} {vit.tile = #vit.cpu_gemm_tile<columns = 48, rows = 8, vector = 16>}
// ARM: vit.fused_mlp {{.*}} {vit.tile = #vit.cpu_gemm_tile<columns = 12, rows = 8, vector = 4>}
// GPUs: 128x32 blocks of 8x4 register tiles per thread (16x8 threads).
// OPENCL: vit.fused_mlp {{.*}} {vit.tile = #vit.gpu_gemm_tile<block_columns = 128, block_rows = 32, thread_columns = 8, thread_rows = 4, shared_k = 8>}
// The schedule file sets parameters by name over vitc's choice: the op name
// for both blocks, then the location's over it for block 1.
// FILE: vit.fused_mlp {{.*}} {vit.tile = #vit.cpu_gemm_tile<columns = 16, rows = 6, vector = 8, parallel = rows>}
// FILE: vit.fused_mlp {{.*}} {vit.tile = #vit.cpu_gemm_tile<columns = 8, rows = 4, vector = 8, parallel = rows>}
// MERGED: vit.fused_mlp {{.*}} {vit.tile = #vit.cpu_gemm_tile<columns = 32, rows = 4, vector = 16>}
// MERGED: vit.fused_mlp {{.*}} {vit.tile = #vit.cpu_gemm_tile<columns = 48, rows = 2, vector = 16>}
// SVE: #vit.target<target = "arm-64-linux-sve2-vector_bits_384", vector_bits = 384, vector_registers = 32, cores = 2, features = neon>
// SVE: vit.fused_mlp {{.*}} {vit.tile = #vit.cpu_gemm_tile<columns = 24, rows = 8, vector = 12>}
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
// AVX2: vit.linear {{.*}} {vit.tile = #vit.cpu_gemm_tile<columns = 16, rows = 4, vector = 8>}
// AVX2: vit.linear {{.*}} {vit.tile = #vit.cpu_gemm_tile<columns = 16, rows = 4, vector = 8, parallel = rows>}
// AVX2: vit.layer_norm {{.*}} {vit.tile = #vit.cpu_row_tile<rows = 8, vector = 8>}
// ARM-LABEL: func.func @head
// ARM: vit.linear {{.*}} {vit.tile = #vit.cpu_gemm_tile<columns = 8, rows = 8, vector = 4, parallel = rows>}
// OPENCL-LABEL: func.func @head
// OPENCL: vit.layer_norm {{.*}} {vit.tile = #vit.gpu_row_tile<threads = 128>}
func.func @head(%x: tensor<?x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>, %w8: tensor<40x768xf32>) -> (tensor<?x1000xf32>, tensor<?x40xf32>, tensor<?x768xf32>) {
  %w = vit.param "head.weight" : tensor<1000x768xf32>
  %c = vit.param "head.bias" : tensor<1000xf32>
  %l = vit.linear %x, %w, %c : (tensor<?x768xf32>, tensor<1000x768xf32>, tensor<1000xf32>) -> tensor<?x1000xf32>
  %n = vit.linear %x, %w8 : (tensor<?x768xf32>, tensor<40x768xf32>) -> tensor<?x40xf32>
  %y = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x768xf32>
  return %l, %n, %y : tensor<?x1000xf32>, tensor<?x40xf32>, tensor<?x768xf32>
}

// -----

// Fused attention: the projections' register tile; per head, score tiles
// over the 197 keys and context tiles over the 64-wide head, each with as
// many rows as the registers hold (2 vectors x 6 rows on AVX2, 8 rows with
// 32 registers); and the query rows of each per-head task when the heads of
// one image make fewer than two tasks per core (3 heads: 2 blocks of 99
// queries on 2 cores; on 16 cores 12 heads take 3 blocks of 66 and 3 heads
// 11 blocks of 18); 12 heads on 2 cores need no query rows (0: all).
// AVX2-LABEL: func.func @attention
// AVX2: heads = 12 {{.*}} {vit.tile = #vit.cpu_attention_tile<columns = 24, rows = 4, vector = 8, score_columns = 16, score_rows = 6, context_columns = 16, context_rows = 6>}
// AVX2: heads = 3 {{.*}} {vit.tile = #vit.cpu_attention_tile<columns = 24, rows = 4, vector = 8, score_columns = 16, score_rows = 6, context_columns = 16, context_rows = 6, query_rows = 99>}
// AVX512-LABEL: func.func @attention
// AVX512: heads = 12 {{.*}} {vit.tile = #vit.cpu_attention_tile<columns = 48, rows = 8, vector = 16, score_columns = 32, score_rows = 8, context_columns = 32, context_rows = 8>}
// ARM-LABEL: func.func @attention
// ARM: heads = 12 {{.*}} {vit.tile = #vit.cpu_attention_tile<columns = 12, rows = 8, vector = 4, score_columns = 8, score_rows = 8, context_columns = 8, context_rows = 8, query_rows = 66>}
// ARM: heads = 3 {{.*}} {vit.tile = #vit.cpu_attention_tile<columns = 12, rows = 8, vector = 4, score_columns = 8, score_rows = 8, context_columns = 8, context_rows = 8, query_rows = 18>}
// GPUs keep the scores of 16 query rows per block in shared memory.
// OPENCL: heads = 12 {{.*}} {vit.tile = #vit.gpu_attention_tile<block_columns = 128, block_rows = 32, thread_columns = 8, thread_rows = 4, shared_k = 8, query_rows = 16>}
func.func @attention(%x: tensor<?x197x768xf32>, %g: tensor<768xf32>, %wqkv: tensor<2304x768xf32>, %wo: tensor<768x768xf32>) -> (tensor<?x197x768xf32>, tensor<?x197x768xf32>) {
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 12 eps = 1.0e-6 : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<2304x768xf32>, tensor<768x768xf32>, tensor<768xf32>) -> tensor<?x197x768xf32>
  %b = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 3 eps = 1.0e-6 : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<2304x768xf32>, tensor<768x768xf32>, tensor<768xf32>) -> tensor<?x197x768xf32>
  return %a, %b : tensor<?x197x768xf32>, tensor<?x197x768xf32>
}

// -----

// Unfused attention's matmuls multiply activations: 2-vector tiles with as
// many rows as the registers hold (6 with AVX2's 16, 8 with 32).
// AVX2-LABEL: func.func @matmuls
// AVX2: vit.matmul {{.*}} transpose_rhs {vit.tile = #vit.cpu_gemm_tile<columns = 16, rows = 6, vector = 8>}
// AVX2: vit.matmul {{.*}} {vit.tile = #vit.cpu_gemm_tile<columns = 16, rows = 6, vector = 8>}
// AVX512: vit.matmul {{.*}} transpose_rhs {vit.tile = #vit.cpu_gemm_tile<columns = 32, rows = 8, vector = 16>}
// AVX512: vit.matmul {{.*}} {vit.tile = #vit.cpu_gemm_tile<columns = 32, rows = 8, vector = 16, parallel = rows>}
func.func @matmuls(%q: tensor<?x3x197x64xf32>, %k: tensor<?x3x197x64xf32>) -> tensor<?x3x197x64xf32> {
  %s = vit.matmul %q, %k transpose_rhs : (tensor<?x3x197x64xf32>, tensor<?x3x197x64xf32>) -> tensor<?x3x197x197xf32>
  %c = vit.matmul %s, %k : (tensor<?x3x197x197xf32>, tensor<?x3x197x64xf32>) -> tensor<?x3x197x64xf32>
  return %c : tensor<?x3x197x64xf32>
}

// -----

// A head that only returns the features (no classifier, no pre-logits) has
// no GEMM: it is tiled as an element-wise kernel.
// AVX2-LABEL: func.func @features_only_head
// AVX2: vit.fused_head {{.*}} {vit.tile = #vit.cpu_row_tile<rows = 4, vector = 8>}
// OPENCL-LABEL: func.func @features_only_head
// OPENCL: vit.fused_head {{.*}} {vit.tile = #vit.gpu_row_tile<threads = 128>}
func.func @features_only_head(%x: tensor<?x197x768xf32>, %g: tensor<768xf32>) -> tensor<?x768xf32> {
  %f = vit.fused_head %x pool class_token skip = 0 norm %g, %g at tokens eps = 1.0e-6 : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x768xf32>
  return %f : tensor<?x768xf32>
}
