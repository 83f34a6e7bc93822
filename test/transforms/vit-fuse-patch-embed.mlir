// RUN: vit-opt %s -split-input-file -vit-fuse-patch-embed="explain=true" -verify-diagnostics | FileCheck %s

// Class token: projection, prepend and position embedding become one op.
// CHECK-LABEL: func.func @class_token
// CHECK-NEXT: %[[X:.*]] = vit.fused_patch_embed %arg0, %arg1 bias %arg2 tokens(%arg3) pos %arg4
// CHECK-NOT: vit.patch_projection
// CHECK-NOT: vit.prepend_tokens
// CHECK: return %[[X]]
func.func @class_token(%img: tensor<?x3x8x8xf32>, %w: tensor<16x3x4x4xf32>, %b: tensor<16xf32>, %cls: tensor<1x1x16xf32>, %pos: tensor<1x5x16xf32>) -> tensor<?x5x16xf32> {
  %p = vit.patch_projection %img, %w, %b : (tensor<?x3x8x8xf32>, tensor<16x3x4x4xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  %t = vit.prepend_tokens %p, %cls : (tensor<?x4x16xf32>, tensor<1x1x16xf32>) -> tensor<?x5x16xf32>
  %x = vit.add_position_embedding %t, %pos : (tensor<?x5x16xf32>, tensor<1x5x16xf32>) -> tensor<?x5x16xf32>
  return %x : tensor<?x5x16xf32>
}

// -----

// DeiT: the distillation token is prepended first, so the sequence order
// (and the operand order) is class token, then distillation token.
// CHECK-LABEL: func.func @distilled
// CHECK-NEXT: vit.fused_patch_embed %arg0, %arg1 bias %arg2 tokens(%arg4, %arg3) pos %arg5
func.func @distilled(%img: tensor<?x3x8x8xf32>, %w: tensor<16x3x4x4xf32>, %b: tensor<16xf32>, %dist: tensor<1x1x16xf32>, %cls: tensor<1x1x16xf32>, %pos: tensor<1x6x16xf32>) -> tensor<?x6x16xf32> {
  %p = vit.patch_projection %img, %w, %b : (tensor<?x3x8x8xf32>, tensor<16x3x4x4xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  %d = vit.prepend_tokens %p, %dist : (tensor<?x4x16xf32>, tensor<1x1x16xf32>) -> tensor<?x5x16xf32>
  %t = vit.prepend_tokens %d, %cls : (tensor<?x5x16xf32>, tensor<1x1x16xf32>) -> tensor<?x6x16xf32>
  %x = vit.add_position_embedding %t, %pos : (tensor<?x6x16xf32>, tensor<1x6x16xf32>) -> tensor<?x6x16xf32>
  return %x : tensor<?x6x16xf32>
}

// -----

// No prefix token (GAP models) and no projection bias.
// CHECK-LABEL: func.func @no_tokens_no_bias
// CHECK-NEXT: vit.fused_patch_embed %arg0, %arg1 pos %arg2 :
func.func @no_tokens_no_bias(%img: tensor<?x3x8x8xf32>, %w: tensor<16x3x4x4xf32>, %pos: tensor<1x4x16xf32>) -> tensor<?x4x16xf32> {
  %p = vit.patch_projection %img, %w : (tensor<?x3x8x8xf32>, tensor<16x3x4x4xf32>) -> tensor<?x4x16xf32>
  %x = vit.add_position_embedding %p, %pos : (tensor<?x4x16xf32>, tensor<1x4x16xf32>) -> tensor<?x4x16xf32>
  return %x : tensor<?x4x16xf32>
}

// -----

// The projection is read elsewhere: nothing fuses, and the remark says why.
// CHECK-LABEL: func.func @projection_escapes
// CHECK-NOT: vit.fused_patch_embed
func.func @projection_escapes(%img: tensor<?x3x8x8xf32>, %w: tensor<16x3x4x4xf32>, %b: tensor<16xf32>, %cls: tensor<1x1x16xf32>, %pos: tensor<1x5x16xf32>) -> (tensor<?x5x16xf32>, tensor<?x4x16xf32>) {
  %p = vit.patch_projection %img, %w, %b : (tensor<?x3x8x8xf32>, tensor<16x3x4x4xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  %t = vit.prepend_tokens %p, %cls : (tensor<?x4x16xf32>, tensor<1x1x16xf32>) -> tensor<?x5x16xf32>
  // expected-remark @+1 {{not fused into a patch embedding: the patch projection's result has other users}}
  %x = vit.add_position_embedding %t, %pos : (tensor<?x5x16xf32>, tensor<1x5x16xf32>) -> tensor<?x5x16xf32>
  return %x, %p : tensor<?x5x16xf32>, tensor<?x4x16xf32>
}

// -----

// The sequence with the class token is read elsewhere.
// CHECK-LABEL: func.func @tokens_escape
// CHECK-NOT: vit.fused_patch_embed
func.func @tokens_escape(%img: tensor<?x3x8x8xf32>, %w: tensor<16x3x4x4xf32>, %b: tensor<16xf32>, %cls: tensor<1x1x16xf32>, %pos: tensor<1x5x16xf32>) -> (tensor<?x5x16xf32>, tensor<?x5x16xf32>) {
  %p = vit.patch_projection %img, %w, %b : (tensor<?x3x8x8xf32>, tensor<16x3x4x4xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  %t = vit.prepend_tokens %p, %cls : (tensor<?x4x16xf32>, tensor<1x1x16xf32>) -> tensor<?x5x16xf32>
  // expected-remark @+1 {{not fused into a patch embedding: a prepend_tokens result has other users}}
  %x = vit.add_position_embedding %t, %pos : (tensor<?x5x16xf32>, tensor<1x5x16xf32>) -> tensor<?x5x16xf32>
  return %x, %t : tensor<?x5x16xf32>, tensor<?x5x16xf32>
}

// -----

// The position embedding is added to something that is not a projection.
// CHECK-LABEL: func.func @not_a_projection
// CHECK: vit.add_position_embedding
func.func @not_a_projection(%t: tensor<?x5x16xf32>, %pos: tensor<1x5x16xf32>) -> tensor<?x5x16xf32> {
  // expected-remark @+1 {{not fused into a patch embedding: the tokens do not come from a patch projection}}
  %x = vit.add_position_embedding %t, %pos : (tensor<?x5x16xf32>, tensor<1x5x16xf32>) -> tensor<?x5x16xf32>
  return %x : tensor<?x5x16xf32>
}
