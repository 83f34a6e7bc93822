// RUN: vit-opt %s -split-input-file -vit-fuse-mlp="explain=true" -verify-diagnostics | FileCheck %s

// The MLP block, either add order, each activation.
// CHECK-LABEL: func.func @mlp
// CHECK-NEXT: %[[Y:.*]] = vit.fused_mlp %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 gelu_erf eps = 9.99999997E-7
// CHECK-NOT: vit.linear
// CHECK: return %[[Y]]
func.func @mlp(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>, %b2: tensor<8xf32>) -> tensor<?x5x8xf32> {
  %n = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %h = vit.linear %n, %w1, %b1 : (tensor<?x5x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x5x16xf32>
  %a = vit.gelu erf %h : tensor<?x5x16xf32>
  %o = vit.linear %a, %w2, %b2 : (tensor<?x5x16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %y = vit.add %x, %o : tensor<?x5x8xf32>
  return %y : tensor<?x5x8xf32>
}

// -----

// CHECK-LABEL: func.func @mlp_swapped_tanh
// CHECK: vit.fused_mlp {{.*}} gelu_tanh eps
func.func @mlp_swapped_tanh(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>, %b2: tensor<8xf32>) -> tensor<?x5x8xf32> {
  %n = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %h = vit.linear %n, %w1, %b1 : (tensor<?x5x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x5x16xf32>
  %a = vit.gelu tanh %h : tensor<?x5x16xf32>
  %o = vit.linear %a, %w2, %b2 : (tensor<?x5x16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %y = vit.add %o, %x : tensor<?x5x8xf32>
  return %y : tensor<?x5x8xf32>
}

// -----

// CHECK-LABEL: func.func @mlp_relu
// CHECK: vit.fused_mlp {{.*}} relu eps
func.func @mlp_relu(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>, %b2: tensor<8xf32>) -> tensor<?x5x8xf32> {
  %n = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %h = vit.linear %n, %w1, %b1 : (tensor<?x5x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x5x16xf32>
  %a = vit.relu %h : tensor<?x5x16xf32>
  %o = vit.linear %a, %w2, %b2 : (tensor<?x5x16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %y = vit.add %x, %o : tensor<?x5x8xf32>
  return %y : tensor<?x5x8xf32>
}

// -----

// The hidden activation is used elsewhere: nothing fuses, and the remark says why.
// CHECK-LABEL: func.func @hidden_escapes
// CHECK-NOT: vit.fused_mlp
func.func @hidden_escapes(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>, %b2: tensor<8xf32>) -> (tensor<?x5x8xf32>, tensor<?x5x16xf32>) {
  %n = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %h = vit.linear %n, %w1, %b1 : (tensor<?x5x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x5x16xf32>
  %a = vit.gelu erf %h : tensor<?x5x16xf32>
  %o = vit.linear %a, %w2, %b2 : (tensor<?x5x16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  // expected-remark @+1 {{not fused into an MLP: the activation has other users}}
  %y = vit.add %x, %o : tensor<?x5x8xf32>
  return %y, %a : tensor<?x5x8xf32>, tensor<?x5x16xf32>
}

// -----

// CHECK-LABEL: func.func @no_bias
// CHECK-NOT: vit.fused_mlp
func.func @no_bias(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>) -> tensor<?x5x8xf32> {
  %n = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %h = vit.linear %n, %w1, %b1 : (tensor<?x5x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x5x16xf32>
  %a = vit.gelu erf %h : tensor<?x5x16xf32>
  %o = vit.linear %a, %w2 : (tensor<?x5x16xf32>, tensor<8x16xf32>) -> tensor<?x5x8xf32>
  // expected-remark @+1 {{not fused into an MLP: fc2 has no bias}}
  %y = vit.add %x, %o : tensor<?x5x8xf32>
  return %y : tensor<?x5x8xf32>
}

// -----

// The layer norm reads something other than the residual input.
// CHECK-LABEL: func.func @other_residual
// CHECK-NOT: vit.fused_mlp
func.func @other_residual(%x: tensor<?x5x8xf32>, %r: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>, %b2: tensor<8xf32>) -> tensor<?x5x8xf32> {
  %n = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %h = vit.linear %n, %w1, %b1 : (tensor<?x5x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x5x16xf32>
  %a = vit.gelu erf %h : tensor<?x5x16xf32>
  %o = vit.linear %a, %w2, %b2 : (tensor<?x5x16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  // expected-remark @+1 {{not fused into an MLP: the layer norm does not read the residual input}}
  %y = vit.add %r, %o : tensor<?x5x8xf32>
  return %y : tensor<?x5x8xf32>
}
