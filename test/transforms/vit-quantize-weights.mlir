// RUN: vit-opt %s -split-input-file -vit-quantize-weights="precision=int8" -verify-diagnostics | FileCheck %s
// RUN: vit-opt %s -split-input-file -vit-quantize-weights="precision=f32" | FileCheck %s --check-prefix=F32

// The four weight GEMMs of a block become i8 parameters of the same name,
// each with a "<name>.scale" parameter [M]; K = 8 and 16 are multiples of 4.
// CHECK-LABEL: func.func @block
// CHECK-DAG: %[[QKV:.*]] = vit.param "blocks.0.attn.qkv.weight" : tensor<24x8xi8>
// CHECK-DAG: %[[QKVS:.*]] = vit.param "blocks.0.attn.qkv.weight.scale" : tensor<24xf32>
// CHECK-DAG: %[[PROJ:.*]] = vit.param "blocks.0.attn.proj.weight" : tensor<8x8xi8>
// CHECK-DAG: %[[PROJS:.*]] = vit.param "blocks.0.attn.proj.weight.scale" : tensor<8xf32>
// The head is not quantized (nor is a patch embedding).
// CHECK-DAG: vit.param "head.weight" : tensor<10x8xf32>
// CHECK: vit.fused_attention %arg0, %arg1, %arg1, %[[QKV]] scale %[[QKVS]], %[[PROJ]] scale %[[PROJS]], %arg1 heads = 2
// CHECK-DAG: %[[FC1:.*]] = vit.param "blocks.0.mlp.fc1.weight" : tensor<16x8xi8>
// CHECK-DAG: %[[FC2:.*]] = vit.param "blocks.0.mlp.fc2.weight" : tensor<8x16xi8>
// CHECK: vit.fused_mlp %{{.*}}, %arg1, %arg1, %[[FC1]] scale %{{.*}}, %arg2, %[[FC2]] scale %{{.*}}, %arg1 gelu_erf
// F32-LABEL: func.func @block
// F32-NOT: xi8>
// F32-NOT: scale
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

// -----

// K = 6 is not a multiple of the dot product's group of 4: fc1 stays f32,
// fc2 (K = 12) is quantized.
// CHECK-LABEL: func.func @odd_width
// CHECK: vit.param "fc1.weight" : tensor<12x6xf32>
// CHECK: vit.param "fc2.weight" : tensor<6x12xi8>
func.func @odd_width(%x: tensor<?x5x6xf32>, %g: tensor<6xf32>, %b1: tensor<12xf32>) -> tensor<?x5x6xf32> {
  %w1 = vit.param "fc1.weight" : tensor<12x6xf32>
  %w2 = vit.param "fc2.weight" : tensor<6x12xf32>
  %m = vit.fused_mlp %x, %g, %g, %w1, %b1, %w2, %g gelu_erf eps = 1.0e-6 : (tensor<?x5x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<12x6xf32>, tensor<12xf32>, tensor<6x12xf32>, tensor<6xf32>) -> tensor<?x5x6xf32>
  return %m : tensor<?x5x6xf32>
}

// -----

// GPU targets have no int8 kernels.
module attributes {vit.target = #vit.target<target = "host-cuda", vector_bits = 32, vector_registers = 0, cores = 132, gpu = cuda, gpu_threads = 1024, gpu_shared_bytes = 49152>} {
func.func @gpu(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b1: tensor<16xf32>, %w1: tensor<16x8xf32>, %w2: tensor<8x16xf32>) -> tensor<?x5x8xf32> {
  // expected-error @+1 {{precision int8 is for CPU targets; host-cuda is a GPU target}}
  %m = vit.fused_mlp %x, %g, %g, %w1, %b1, %w2, %g gelu_erf eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  return %m : tensor<?x5x8xf32>
}
}
