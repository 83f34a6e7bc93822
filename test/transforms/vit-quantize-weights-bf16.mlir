// RUN: vit-opt %s -split-input-file -vit-quantize-weights="precision=bf16" -verify-diagnostics | FileCheck %s

// The four weight GEMMs of a block become bf16 parameters of the same name,
// without scales; the head stays f32.
// CHECK-LABEL: func.func @block
// CHECK-DAG: %[[QKV:.*]] = vit.param "blocks.0.attn.qkv.weight" : tensor<24x8xbf16>
// CHECK-DAG: %[[PROJ:.*]] = vit.param "blocks.0.attn.proj.weight" : tensor<8x8xbf16>
// CHECK-DAG: vit.param "head.weight" : tensor<10x8xf32>
// CHECK: vit.fused_attention %arg0, %arg1, %arg1, %[[QKV]], %[[PROJ]], %arg1 heads = 2
// CHECK-DAG: %[[FC1:.*]] = vit.param "blocks.0.mlp.fc1.weight" : tensor<16x8xbf16>
// CHECK-DAG: %[[FC2:.*]] = vit.param "blocks.0.mlp.fc2.weight" : tensor<8x16xbf16>
// CHECK: vit.fused_mlp %{{.*}}, %arg1, %arg1, %[[FC1]], %arg2, %[[FC2]], %arg1 gelu_erf
// CHECK-NOT: scale
module attributes {vit.target = #vit.target<target = "x86-64-linux-avx512_zen4", vector_bits = 512, vector_registers = 32, cores = 2, features = "sse41|avx|avx2|fma|f16c|avx512|avx512_vnni|avx512_bf16">} {
func.func @block(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b1: tensor<16xf32>) -> tensor<?x10xf32> {
  %wqkv = vit.param "blocks.0.attn.qkv.weight" : tensor<24x8xf32>
  %wo = vit.param "blocks.0.attn.proj.weight" : tensor<8x8xf32>
  %w1 = vit.param "blocks.0.mlp.fc1.weight" : tensor<16x8xf32>
  %w2 = vit.param "blocks.0.mlp.fc2.weight" : tensor<8x16xf32>
  %wh = vit.param "head.weight" : tensor<10x8xf32>
  %bh = vit.param "head.bias" : tensor<10xf32>
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %m = vit.fused_mlp %a, %g, %g, %w1, %b1, %w2, %g gelu_erf eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %f, %l = vit.fused_head %m pool class_token skip = 0 classifier %wh, %bh : (tensor<?x5x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> (tensor<?x8xf32>, tensor<?x10xf32>)
  return %l : tensor<?x10xf32>
}
}

// -----

// K = 5 is odd (the bf16 dot product sums pairs): fc1 stays f32, fc2 (K = 10)
// is bf16.
// CHECK-LABEL: func.func @odd_width
// CHECK: vit.param "fc1.weight" : tensor<10x5xf32>
// CHECK: vit.param "fc2.weight" : tensor<5x10xbf16>
func.func @odd_width(%x: tensor<?x5x5xf32>, %g: tensor<5xf32>, %b1: tensor<10xf32>) -> tensor<?x5x5xf32> {
  %w1 = vit.param "fc1.weight" : tensor<10x5xf32>
  %w2 = vit.param "fc2.weight" : tensor<5x10xf32>
  %m = vit.fused_mlp %x, %g, %g, %w1, %b1, %w2, %g gelu_erf eps = 1.0e-6 : (tensor<?x5x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<10x5xf32>, tensor<10xf32>, tensor<5x10xf32>, tensor<5xf32>) -> tensor<?x5x5xf32>
  return %m : tensor<?x5x5xf32>
}

// -----

// A target without a bf16 dot product is refused, naming what it lacks.
module attributes {vit.target = #vit.target<target = "x86-64-linux-avx2", vector_bits = 256, vector_registers = 16, cores = 2, features = "sse41|avx|avx2|fma|f16c">} {
func.func @avx2(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b1: tensor<16xf32>, %w1: tensor<16x8xf32>, %w2: tensor<8x16xf32>) -> tensor<?x5x8xf32> {
  // expected-error @+1 {{precision bf16 needs a target with avx512_bf16 (vdpbf16ps; e.g. x86-64-linux-avx512_zen4) or amx_bf16 (x86-64-linux-avx512_sapphirerapids); x86-64-linux-avx2 has neither}}
  %m = vit.fused_mlp %x, %g, %g, %w1, %b1, %w2, %g gelu_erf eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  return %m : tensor<?x5x8xf32>
}
}

// -----

// Nor has a GPU target bf16 kernels.
module attributes {vit.target = #vit.target<target = "host-cuda", vector_bits = 32, vector_registers = 0, cores = 132, gpu = cuda, gpu_threads = 1024, gpu_shared_bytes = 49152>} {
func.func @gpu(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b1: tensor<16xf32>, %w1: tensor<16x8xf32>, %w2: tensor<8x16xf32>) -> tensor<?x5x8xf32> {
  // expected-error @+1 {{precision bf16 is for CPU targets; host-cuda is a GPU target}}
  %m = vit.fused_mlp %x, %g, %g, %w1, %b1, %w2, %g gelu_erf eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  return %m : tensor<?x5x8xf32>
}
}
