// RUN: vit-opt %s -split-input-file -vit-fuse-attention="explain=true" -verify-diagnostics | FileCheck %s

// One attention block of 2 heads, width 8 (head_dim 4: scale 0.5).
// CHECK-LABEL: func.func @attention
// CHECK-NEXT: %[[Y:.*]] = vit.fused_attention %arg0, %arg1, %arg2, %arg3 qkv_bias %arg4, %arg5, %arg6 heads = 2 eps = 9.99999997E-7
// CHECK-NOT: vit.softmax
// CHECK: return %[[Y]]
func.func @attention(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %bqkv: tensor<24xf32>, %wo: tensor<8x8xf32>, %bo: tensor<8xf32>) -> tensor<?x5x8xf32> {
  %n = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %qkv = vit.linear %n, %wqkv, %bqkv : (tensor<?x5x8xf32>, tensor<24x8xf32>, tensor<24xf32>) -> tensor<?x5x24xf32>
  %q, %k, %v = vit.split_qkv %qkv heads = 2 : tensor<?x5x24xf32> -> tensor<?x2x5x4xf32>
  %qs = vit.scale %q, 0.5 : tensor<?x2x5x4xf32>
  %s = vit.matmul %qs, %k transpose_rhs : (tensor<?x2x5x4xf32>, tensor<?x2x5x4xf32>) -> tensor<?x2x5x5xf32>
  %p = vit.softmax %s : tensor<?x2x5x5xf32>
  %c = vit.matmul %p, %v : (tensor<?x2x5x5xf32>, tensor<?x2x5x4xf32>) -> tensor<?x2x5x4xf32>
  %m = vit.merge_heads %c : tensor<?x2x5x4xf32> -> tensor<?x5x8xf32>
  %o = vit.linear %m, %wo, %bo : (tensor<?x5x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %y = vit.add %x, %o : tensor<?x5x8xf32>
  return %y : tensor<?x5x8xf32>
}

// -----

// Without a QKV bias, still fused (the optional operand is absent).
// CHECK-LABEL: func.func @no_qkv_bias
// CHECK: vit.fused_attention %arg0, %arg1, %arg2, %arg3, %arg4, %arg5 heads = 2
func.func @no_qkv_bias(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>, %bo: tensor<8xf32>) -> tensor<?x5x8xf32> {
  %n = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %qkv = vit.linear %n, %wqkv : (tensor<?x5x8xf32>, tensor<24x8xf32>) -> tensor<?x5x24xf32>
  %q, %k, %v = vit.split_qkv %qkv heads = 2 : tensor<?x5x24xf32> -> tensor<?x2x5x4xf32>
  %qs = vit.scale %q, 0.5 : tensor<?x2x5x4xf32>
  %s = vit.matmul %qs, %k transpose_rhs : (tensor<?x2x5x4xf32>, tensor<?x2x5x4xf32>) -> tensor<?x2x5x5xf32>
  %p = vit.softmax %s : tensor<?x2x5x5xf32>
  %c = vit.matmul %p, %v : (tensor<?x2x5x5xf32>, tensor<?x2x5x4xf32>) -> tensor<?x2x5x4xf32>
  %m = vit.merge_heads %c : tensor<?x2x5x4xf32> -> tensor<?x5x8xf32>
  %o = vit.linear %m, %wo, %bo : (tensor<?x5x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %y = vit.add %o, %x : tensor<?x5x8xf32>
  return %y : tensor<?x5x8xf32>
}

// -----

// The attention probabilities are returned too (attention maps): no fusion.
// CHECK-LABEL: func.func @maps_escape
// CHECK-NOT: vit.fused_attention
func.func @maps_escape(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %bqkv: tensor<24xf32>, %wo: tensor<8x8xf32>, %bo: tensor<8xf32>) -> (tensor<?x5x8xf32>, tensor<?x2x5x5xf32>) {
  %n = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %qkv = vit.linear %n, %wqkv, %bqkv : (tensor<?x5x8xf32>, tensor<24x8xf32>, tensor<24xf32>) -> tensor<?x5x24xf32>
  %q, %k, %v = vit.split_qkv %qkv heads = 2 : tensor<?x5x24xf32> -> tensor<?x2x5x4xf32>
  %qs = vit.scale %q, 0.5 : tensor<?x2x5x4xf32>
  %s = vit.matmul %qs, %k transpose_rhs : (tensor<?x2x5x4xf32>, tensor<?x2x5x4xf32>) -> tensor<?x2x5x5xf32>
  %p = vit.softmax %s : tensor<?x2x5x5xf32>
  %c = vit.matmul %p, %v : (tensor<?x2x5x5xf32>, tensor<?x2x5x4xf32>) -> tensor<?x2x5x4xf32>
  %m = vit.merge_heads %c : tensor<?x2x5x4xf32> -> tensor<?x5x8xf32>
  %o = vit.linear %m, %wo, %bo : (tensor<?x5x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  // expected-remark @+1 {{not fused into attention: the values are not weighted by a softmax used once}}
  %y = vit.add %x, %o : tensor<?x5x8xf32>
  return %y, %p : tensor<?x5x8xf32>, tensor<?x2x5x5xf32>
}

// -----

// A query scale other than 1/sqrt(head_dim) is not standard attention.
// CHECK-LABEL: func.func @odd_scale
// CHECK-NOT: vit.fused_attention
func.func @odd_scale(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %bqkv: tensor<24xf32>, %wo: tensor<8x8xf32>, %bo: tensor<8xf32>) -> tensor<?x5x8xf32> {
  %n = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %qkv = vit.linear %n, %wqkv, %bqkv : (tensor<?x5x8xf32>, tensor<24x8xf32>, tensor<24xf32>) -> tensor<?x5x24xf32>
  %q, %k, %v = vit.split_qkv %qkv heads = 2 : tensor<?x5x24xf32> -> tensor<?x2x5x4xf32>
  %qs = vit.scale %q, 0.25 : tensor<?x2x5x4xf32>
  %s = vit.matmul %qs, %k transpose_rhs : (tensor<?x2x5x4xf32>, tensor<?x2x5x4xf32>) -> tensor<?x2x5x5xf32>
  %p = vit.softmax %s : tensor<?x2x5x5xf32>
  %c = vit.matmul %p, %v : (tensor<?x2x5x5xf32>, tensor<?x2x5x4xf32>) -> tensor<?x2x5x4xf32>
  %m = vit.merge_heads %c : tensor<?x2x5x4xf32> -> tensor<?x5x8xf32>
  %o = vit.linear %m, %wo, %bo : (tensor<?x5x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  // expected-remark @+1 {{not fused into attention: the query scale is not 1/sqrt(head_dim)}}
  %y = vit.add %x, %o : tensor<?x5x8xf32>
  return %y : tensor<?x5x8xf32>
}
