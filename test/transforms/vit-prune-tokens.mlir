// RUN: vit-opt %s -split-input-file -vit-prune-tokens="explain=true" -verify-diagnostics | FileCheck %s

// The head reads the class token: the last attention keeps only its query
// row, and the MLP after it runs on that row alone.
// CHECK-LABEL: func.func @class_token
// CHECK: %[[A:.*]] = vit.fused_attention %arg0, {{.*}} : (tensor<?x5x8xf32>, {{.*}}) -> tensor<?x1x8xf32>
// CHECK: %[[M:.*]] = vit.fused_mlp %[[A]], {{.*}} : (tensor<?x1x8xf32>, {{.*}}) -> tensor<?x1x8xf32>
// CHECK: vit.fused_head %[[M]] pool class_token {{.*}} : (tensor<?x1x8xf32>, {{.*}}) -> (tensor<?x8xf32>, tensor<?x10xf32>)
func.func @class_token(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>,
                       %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>,
                       %wh: tensor<10x8xf32>, %bh: tensor<10xf32>) -> tensor<?x10xf32> {
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %m = vit.fused_mlp %a, %g, %g, %w1, %b1, %w2, %g gelu_erf eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %f, %l = vit.fused_head %m pool class_token skip = 0 norm %g, %g at tokens eps = 1.0e-6 classifier %wh, %bh {vit.features} : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> (tensor<?x8xf32>, tensor<?x10xf32>)
  return %l : tensor<?x10xf32>
}

// -----

// DeiT's distillation classifier reads token 1 too: two rows are kept.
// CHECK-LABEL: func.func @distilled
// CHECK: vit.fused_attention {{.*}} -> tensor<?x2x8xf32>
// CHECK: vit.fused_mlp {{.*}} -> tensor<?x2x8xf32>
// CHECK: vit.fused_head {{.*}} dist_classifier {{.*}} : (tensor<?x2x8xf32>,
func.func @distilled(%x: tensor<?x6x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>,
                     %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>,
                     %wh: tensor<10x8xf32>, %bh: tensor<10xf32>) -> tensor<?x10xf32> {
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 : (tensor<?x6x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x6x8xf32>
  %m = vit.fused_mlp %a, %g, %g, %w1, %b1, %w2, %g gelu_erf eps = 1.0e-6 : (tensor<?x6x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x6x8xf32>
  %f, %l = vit.fused_head %m pool class_token skip = 0 norm %g, %g at tokens eps = 1.0e-6 classifier %wh, %bh dist_classifier %wh, %bh {vit.features} : (tensor<?x6x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<10x8xf32>, tensor<10xf32>, tensor<10x8xf32>, tensor<10xf32>) -> (tensor<?x8xf32>, tensor<?x10xf32>)
  return %l : tensor<?x10xf32>
}

// -----

// Mean pooling reads every token: nothing is pruned.
// CHECK-LABEL: func.func @mean
// CHECK: vit.fused_attention {{.*}} -> tensor<?x5x8xf32>
// CHECK: vit.fused_mlp {{.*}} -> tensor<?x5x8xf32>
func.func @mean(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>,
                %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>,
                %wh: tensor<10x8xf32>, %bh: tensor<10xf32>) -> tensor<?x10xf32> {
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %m = vit.fused_mlp %a, %g, %g, %w1, %b1, %w2, %g gelu_erf eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  // expected-remark @+1 {{last block not pruned: the head averages every token}}
  %f, %l = vit.fused_head %m pool mean skip = 1 norm %g, %g at pooled eps = 1.0e-6 classifier %wh, %bh : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> (tensor<?x8xf32>, tensor<?x10xf32>)
  return %l : tensor<?x10xf32>
}

// -----

// Every token of the encoder output is also a result: nothing is pruned.
// CHECK-LABEL: func.func @other_user
// CHECK: vit.fused_mlp {{.*}} -> tensor<?x5x8xf32>
func.func @other_user(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>,
                      %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>,
                      %wh: tensor<10x8xf32>, %bh: tensor<10xf32>) -> (tensor<?x10xf32>, tensor<?x5x8xf32>) {
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %m = vit.fused_mlp %a, %g, %g, %w1, %b1, %w2, %g gelu_erf eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  // expected-remark @+1 {{last block not pruned: the head's input is not a fused MLP used only by the head}}
  %f, %l = vit.fused_head %m pool class_token skip = 0 norm %g, %g at tokens eps = 1.0e-6 classifier %wh, %bh : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> (tensor<?x8xf32>, tensor<?x10xf32>)
  return %l, %m : tensor<?x10xf32>, tensor<?x5x8xf32>
}

// -----

// The MLP reads something other than a fused attention.
// CHECK-LABEL: func.func @no_attention
// CHECK: vit.fused_mlp {{.*}} -> tensor<?x5x8xf32>
func.func @no_attention(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>,
                        %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>,
                        %wh: tensor<10x8xf32>, %bh: tensor<10xf32>) -> tensor<?x10xf32> {
  %m = vit.fused_mlp %x, %g, %g, %w1, %b1, %w2, %g gelu_erf eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  // expected-remark @+1 {{last block not pruned: the MLP's input is not a fused attention used only by the MLP}}
  %f, %l = vit.fused_head %m pool class_token skip = 0 norm %g, %g at tokens eps = 1.0e-6 classifier %wh, %bh : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> (tensor<?x8xf32>, tensor<?x10xf32>)
  return %l : tensor<?x10xf32>
}

// -----

// A single token has nothing to spare.
// CHECK-LABEL: func.func @one_token
func.func @one_token(%x: tensor<?x1x8xf32>, %g: tensor<8xf32>,
                     %wh: tensor<10x8xf32>, %bh: tensor<10xf32>) -> tensor<?x10xf32> {
  // expected-remark @+1 {{last block not pruned: the head's input has no tokens to spare}}
  %f, %l = vit.fused_head %x pool class_token skip = 0 norm %g, %g at tokens eps = 1.0e-6 classifier %wh, %bh : (tensor<?x1x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> (tensor<?x8xf32>, tensor<?x10xf32>)
  return %l : tensor<?x10xf32>
}
