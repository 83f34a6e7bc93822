// RUN: vit-opt %s -split-input-file -vit-attention-maps="rollout=true" -verify-diagnostics | FileCheck %s
// RUN: vit-opt %s -split-input-file -vit-attention-maps -verify-diagnostics | FileCheck %s --check-prefix=CLASS

// Without rollout, only class_attention.
// CLASS-LABEL: func.func @class_token
// CLASS: %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} = vit.fused_attention %arg0, {{.*}} {map_rows = array<i64: 0, 1>} : (tensor<?x5x8xf32>, {{.*}}) -> (tensor<?x5x8xf32>, tensor<?x2x1x5xf32>)

// Class-token pooling: the maps describe query row 0; the last block,
// narrowed to that row, averages the heads over its one query row.
// CHECK-LABEL: func.func @class_token
// CHECK: %[[A:[a-z0-9_]+]], %{{.*}}:2 = vit.fused_attention %arg0, {{.*}} {map_rows = array<i64: 0, 1>} : (tensor<?x5x8xf32>, {{.*}}) -> (tensor<?x5x8xf32>, tensor<?x2x1x5xf32>, tensor<?x5x5xf32>)
// CHECK: %[[B:[a-z0-9_]+]], %{{.*}}:2 = vit.fused_attention %[[A]], {{.*}} {map_rows = array<i64: 0, 1>} : (tensor<?x5x8xf32>, {{.*}}) -> (tensor<?x1x8xf32>, tensor<?x2x1x5xf32>, tensor<?x1x5xf32>)
// CHECK: vit.fused_head %[[B]] 
func.func @class_token(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>,
                       %wh: tensor<10x8xf32>, %bh: tensor<10xf32>) -> tensor<?x10xf32> {
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %b = vit.fused_attention %a, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x1x8xf32>
  %f, %l = vit.fused_head %b pool class_token skip = 0 norm %g, %g at tokens eps = 1.0e-6 classifier %wh, %bh {vit.features} : (tensor<?x1x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> (tensor<?x8xf32>, tensor<?x10xf32>)
  return %l : tensor<?x10xf32>
}

// -----

// DeiT: the class and distillation tokens' rows.
// CHECK-LABEL: func.func @distilled
// CHECK: vit.fused_attention {{.*}} {map_rows = array<i64: 0, 2>} : {{.*}} -> (tensor<?x6x8xf32>, tensor<?x2x2x6xf32>, tensor<?x6x6xf32>)
func.func @distilled(%x: tensor<?x6x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>,
                     %wh: tensor<10x8xf32>, %bh: tensor<10xf32>) -> tensor<?x10xf32> {
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 : (tensor<?x6x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x6x8xf32>
  %f, %l = vit.fused_head %a pool class_token skip = 0 norm %g, %g at tokens eps = 1.0e-6 classifier %wh, %bh dist_classifier %wh, %bh {vit.features} : (tensor<?x6x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<10x8xf32>, tensor<10xf32>, tensor<10x8xf32>, tensor<10xf32>) -> (tensor<?x8xf32>, tensor<?x10xf32>)
  return %l : tensor<?x10xf32>
}

// -----

// Mean pooling past a class token: one row, the mean of rows 1..4.
// CHECK-LABEL: func.func @mean
// CHECK: vit.fused_attention {{.*}} {map_mean, map_rows = array<i64: 1, 5>} : {{.*}} -> (tensor<?x5x8xf32>, tensor<?x2x1x5xf32>, tensor<?x5x5xf32>)
func.func @mean(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>,
                %wh: tensor<10x8xf32>, %bh: tensor<10xf32>) -> tensor<?x10xf32> {
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %f, %l = vit.fused_head %a pool mean skip = 1 norm %g, %g at pooled eps = 1.0e-6 classifier %wh, %bh : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> (tensor<?x8xf32>, tensor<?x10xf32>)
  return %l : tensor<?x10xf32>
}

// -----

// Attention that was not fused: maps from the other layers alone would be
// silently incomplete.
func.func @unfused(%x: tensor<?x2x5x5xf32>) -> tensor<?x2x5x5xf32> {
  // expected-error @+1 {{attention maps need fused attention, and this softmax was not fused}}
  %p = vit.softmax %x : tensor<?x2x5x5xf32>
  return %p : tensor<?x2x5x5xf32>
}

// -----

// expected-error @+1 {{attention maps need the model's one fused head (it says which query rows to describe), found 0}}
func.func @no_head(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>) -> tensor<?x5x8xf32> {
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  return %a : tensor<?x5x8xf32>
}
