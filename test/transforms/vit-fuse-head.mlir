// RUN: vit-opt %s -split-input-file -vit-fuse-head="explain=true" -verify-diagnostics | FileCheck %s

// Final norm, class token, classifier.
// CHECK-LABEL: func.func @class_token
// CHECK-NEXT: %[[F:.*]], %[[L:.*]] = vit.fused_head %arg0 pool class_token skip = 0 norm %arg1, %arg2 at tokens eps = 9.99999997E-7 classifier %arg3, %arg4 {vit.features}
// CHECK-NOT: vit.layer_norm
// CHECK-NOT: vit.linear
// CHECK-NEXT: return %[[L]]
func.func @class_token(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %w: tensor<10x8xf32>, %c: tensor<10xf32>) -> tensor<?x10xf32> {
  %n = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %p = vit.select_token %n[0] {vit.features} : tensor<?x5x8xf32> -> tensor<?x8xf32>
  %l = vit.linear %p, %w, %c : (tensor<?x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  return %l : tensor<?x10xf32>
}

// -----

// Average pooling with fc_norm after it (timm's global_pool='avg').
// CHECK-LABEL: func.func @mean_fc_norm
// CHECK-NEXT: vit.fused_head %arg0 pool mean skip = 1 norm %arg1, %arg2 at pooled eps = 9.99999997E-7 classifier %arg3, %arg4
func.func @mean_fc_norm(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %w: tensor<10x8xf32>, %c: tensor<10xf32>) -> tensor<?x10xf32> {
  %p = vit.token_mean %x skip = 1 : tensor<?x5x8xf32> -> tensor<?x8xf32>
  %n = vit.layer_norm %p, %g, %b eps = 1.0e-6 : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %l = vit.linear %n, %w, %c : (tensor<?x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  return %l : tensor<?x10xf32>
}

// -----

// A pre-logits layer (the original ViT's representation layer) with its tanh.
// CHECK-LABEL: func.func @pre_logits
// CHECK-NEXT: %[[F:.*]], %[[L:.*]] = vit.fused_head %arg0 pool class_token skip = 0 norm %arg1, %arg2 at tokens eps = 9.99999997E-7 pre_logits %arg3, %arg4 classifier %arg5, %arg6
// CHECK-SAME: -> (tensor<?x6xf32>, tensor<?x10xf32>)
// CHECK-NOT: vit.tanh
func.func @pre_logits(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %wr: tensor<6x8xf32>, %br: tensor<6xf32>, %w: tensor<10x6xf32>, %c: tensor<10xf32>) -> tensor<?x10xf32> {
  %n = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %p = vit.select_token %n[0] : tensor<?x5x8xf32> -> tensor<?x8xf32>
  %r = vit.linear %p, %wr, %br : (tensor<?x8xf32>, tensor<6x8xf32>, tensor<6xf32>) -> tensor<?x6xf32>
  %t = vit.tanh %r : tensor<?x6xf32>
  %l = vit.linear %t, %w, %c : (tensor<?x6xf32>, tensor<10x6xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  return %l : tensor<?x10xf32>
}

// -----

// DeiT distilled: both classifiers, averaged.
// CHECK-LABEL: func.func @distilled
// CHECK-NEXT: %[[F:.*]], %[[L:.*]] = vit.fused_head %arg0 pool class_token skip = 0 norm %arg1, %arg2 at tokens eps = 9.99999997E-7 classifier %arg3, %arg4 dist_classifier %arg5, %arg6
// CHECK-NOT: vit.scale
// CHECK-NEXT: return %[[L]]
func.func @distilled(%x: tensor<?x6x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %w: tensor<10x8xf32>, %c: tensor<10xf32>, %wd: tensor<10x8xf32>, %cd: tensor<10xf32>) -> tensor<?x10xf32> {
  %n = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x6x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x6x8xf32>
  %p = vit.select_token %n[0] : tensor<?x6x8xf32> -> tensor<?x8xf32>
  %l = vit.linear %p, %w, %c : (tensor<?x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %d = vit.select_token %n[1] : tensor<?x6x8xf32> -> tensor<?x8xf32>
  %ld = vit.linear %d, %wd, %cd : (tensor<?x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %s = vit.add %l, %ld : tensor<?x10xf32>
  %m = vit.scale %s, 5.000000e-01 : tensor<?x10xf32>
  return %m : tensor<?x10xf32>
}

// -----

// No classifier (num_classes = 0): the features are the result.
// CHECK-LABEL: func.func @features_only
// CHECK-NEXT: %[[F:.*]] = vit.fused_head %arg0 pool mean skip = 0 {vit.features} : (tensor<?x5x8xf32>) -> tensor<?x8xf32>
// CHECK-NEXT: return %[[F]]
func.func @features_only(%x: tensor<?x5x8xf32>) -> tensor<?x8xf32> {
  %p = vit.token_mean %x skip = 0 : tensor<?x5x8xf32> -> tensor<?x8xf32>
  return %p : tensor<?x8xf32>
}

// -----

// The final norm is also returned: nothing fuses.
// CHECK-LABEL: func.func @norm_escapes
// CHECK-NOT: vit.fused_head
func.func @norm_escapes(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %w: tensor<10x8xf32>, %c: tensor<10xf32>) -> (tensor<?x10xf32>, tensor<?x5x8xf32>) {
  %n = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  // expected-remark @+1 {{not fused into a head: the final layer norm has users outside the head}}
  %p = vit.select_token %n[0] : tensor<?x5x8xf32> -> tensor<?x8xf32>
  %l = vit.linear %p, %w, %c : (tensor<?x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  return %l, %n : tensor<?x10xf32>, tensor<?x5x8xf32>
}

// -----

// A classifier without bias stays as it is.
// CHECK-LABEL: func.func @no_bias
// CHECK: vit.linear
func.func @no_bias(%x: tensor<?x5x8xf32>, %w: tensor<10x8xf32>) -> tensor<?x10xf32> {
  // expected-remark @+1 {{not fused into a head: the classifier has no bias}}
  %p = vit.select_token %x[0] : tensor<?x5x8xf32> -> tensor<?x8xf32>
  %l = vit.linear %p, %w : (tensor<?x8xf32>, tensor<10x8xf32>) -> tensor<?x10xf32>
  return %l : tensor<?x10xf32>
}

// -----

// The logits are added to something that is not a distillation classifier.
// CHECK-LABEL: func.func @logits_plus_other
// CHECK-NOT: vit.fused_head
func.func @logits_plus_other(%x: tensor<?x5x8xf32>, %w: tensor<10x8xf32>, %c: tensor<10xf32>, %o: tensor<?x10xf32>) -> tensor<?x10xf32> {
  // expected-remark @+1 {{not fused into a head: the classifier's logits are added to something other than a distillation classifier's, averaged}}
  %p = vit.select_token %x[0] : tensor<?x5x8xf32> -> tensor<?x8xf32>
  %l = vit.linear %p, %w, %c : (tensor<?x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %s = vit.add %l, %o : tensor<?x10xf32>
  return %s : tensor<?x10xf32>
}

// -----

// Token 2 is not a pooling candidate: no remark, nothing fuses.
// CHECK-LABEL: func.func @other_token
// CHECK: vit.select_token
func.func @other_token(%x: tensor<?x5x8xf32>) -> tensor<?x8xf32> {
  %p = vit.select_token %x[2] : tensor<?x5x8xf32> -> tensor<?x8xf32>
  return %p : tensor<?x8xf32>
}
