// Round trip of every vit op and attribute: print, re-parse, print again and
// compare, in generic form too.
// RUN: vit-opt %s | vit-opt | FileCheck %s
// RUN: vit-opt %s --mlir-print-op-generic | vit-opt | FileCheck %s

// CHECK: module attributes {vit.model = #vit.model<name = "vit-ti16", mean = [4.850000e-01, 4.560000e-01, 4.060000e-01], std = [2.290000e-01, 2.240000e-01, 2.250000e-01], crop_fraction = 8.750000e-01 : f32>, vit.target = #vit.target<target = "x86-64-linux-avx512_sapphirerapids", vector_bits = 512, vector_registers = 32, cores = 2, features = "sse41|avx|avx2|fma|f16c|avx_vnni|avx512|avx512_vnni|avx512_bf16|amx_int8|amx_bf16">}
module attributes {vit.model = #vit.model<name = "vit-ti16", mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225], crop_fraction = 0.875 : f32>, vit.target = #vit.target<target = "x86-64-linux-avx512_sapphirerapids", vector_bits = 512, vector_registers = 32, cores = 2, features = "sse41|avx|avx2|fma|f16c|avx_vnni|avx512|avx512_vnni|avx512_bf16|amx_int8|amx_bf16">} {

// CHECK-LABEL: func.func @embedding
func.func @embedding(%images: tensor<?x3x224x224xf32>) -> tensor<?x198x192xf32> {
  // CHECK: %[[W:.*]] = vit.param "patch_embed.proj.weight" : tensor<192x3x16x16xf32>
  %w = vit.param "patch_embed.proj.weight" : tensor<192x3x16x16xf32>
  %b = vit.param "patch_embed.proj.bias" : tensor<192xf32>
  %cls = vit.param "cls_token" : tensor<1x1x192xf32>
  %dist = vit.param "dist_token" : tensor<1x1x192xf32>
  %pos = vit.param "pos_embed" : tensor<1x198x192xf32>
  // CHECK: vit.patch_projection %{{.*}}, %[[W]], %{{.*}} : (tensor<?x3x224x224xf32>, tensor<192x3x16x16xf32>, tensor<192xf32>) -> tensor<?x196x192xf32>
  %p = vit.patch_projection %images, %w, %b : (tensor<?x3x224x224xf32>, tensor<192x3x16x16xf32>, tensor<192xf32>) -> tensor<?x196x192xf32>
  // CHECK: vit.patch_projection %{{.*}}, %[[W]] : (tensor<?x3x224x224xf32>, tensor<192x3x16x16xf32>) -> tensor<?x196x192xf32>
  %nobias = vit.patch_projection %images, %w : (tensor<?x3x224x224xf32>, tensor<192x3x16x16xf32>) -> tensor<?x196x192xf32>
  // CHECK: vit.prepend_tokens %{{.*}}, %{{.*}} : (tensor<?x196x192xf32>, tensor<1x1x192xf32>) -> tensor<?x197x192xf32>
  %d = vit.prepend_tokens %p, %dist : (tensor<?x196x192xf32>, tensor<1x1x192xf32>) -> tensor<?x197x192xf32>
  %c = vit.prepend_tokens %d, %cls : (tensor<?x197x192xf32>, tensor<1x1x192xf32>) -> tensor<?x198x192xf32>
  // CHECK: vit.add_position_embedding %{{.*}}, %{{.*}} : (tensor<?x198x192xf32>, tensor<1x198x192xf32>) -> tensor<?x198x192xf32>
  %x = vit.add_position_embedding %c, %pos : (tensor<?x198x192xf32>, tensor<1x198x192xf32>) -> tensor<?x198x192xf32>
  return %x : tensor<?x198x192xf32>
}

// A non-square image and a rectangular patch.
// CHECK-LABEL: func.func @non_square
func.func @non_square(%images: tensor<2x1x64x96xf32>, %w: tensor<32x1x16x32xf32>) -> tensor<2x12x32xf32> {
  // CHECK: vit.patch_projection {{.*}} -> tensor<2x12x32xf32>
  %p = vit.patch_projection %images, %w : (tensor<2x1x64x96xf32>, tensor<32x1x16x32xf32>) -> tensor<2x12x32xf32>
  return %p : tensor<2x12x32xf32>
}

// One pre-norm encoder block of ViT-Ti/16 written out in primitive ops.
// CHECK-LABEL: func.func @encoder_block
func.func @encoder_block(%x: tensor<?x197x192xf32>) -> tensor<?x197x192xf32> {
  %g1 = vit.param "blocks.0.norm1.weight" : tensor<192xf32>
  %b1 = vit.param "blocks.0.norm1.bias" : tensor<192xf32>
  %wqkv = vit.param "blocks.0.attn.qkv.weight" : tensor<576x192xf32>
  %bqkv = vit.param "blocks.0.attn.qkv.bias" : tensor<576xf32>
  %wo = vit.param "blocks.0.attn.proj.weight" : tensor<192x192xf32>
  %bo = vit.param "blocks.0.attn.proj.bias" : tensor<192xf32>
  %g2 = vit.param "blocks.0.norm2.weight" : tensor<192xf32>
  %b2 = vit.param "blocks.0.norm2.bias" : tensor<192xf32>
  %w1 = vit.param "blocks.0.mlp.fc1.weight" : tensor<768x192xf32>
  %c1 = vit.param "blocks.0.mlp.fc1.bias" : tensor<768xf32>
  %w2 = vit.param "blocks.0.mlp.fc2.weight" : tensor<192x768xf32>
  %c2 = vit.param "blocks.0.mlp.fc2.bias" : tensor<192xf32>
  // CHECK: vit.layer_norm %{{.*}}, %{{.*}}, %{{.*}} eps = 9.99999997E-7 : (tensor<?x197x192xf32>, tensor<192xf32>, tensor<192xf32>) -> tensor<?x197x192xf32>
  %n1 = vit.layer_norm %x, %g1, %b1 eps = 1.0e-6 : (tensor<?x197x192xf32>, tensor<192xf32>, tensor<192xf32>) -> tensor<?x197x192xf32>
  // CHECK: vit.linear {{.*}} : (tensor<?x197x192xf32>, tensor<576x192xf32>, tensor<576xf32>) -> tensor<?x197x576xf32>
  %qkv = vit.linear %n1, %wqkv, %bqkv : (tensor<?x197x192xf32>, tensor<576x192xf32>, tensor<576xf32>) -> tensor<?x197x576xf32>
  // CHECK: %{{.*}}, %{{.*}}, %{{.*}} = vit.split_qkv %{{.*}} heads = 3 : tensor<?x197x576xf32> -> tensor<?x3x197x64xf32>
  %q, %k, %v = vit.split_qkv %qkv heads = 3 : tensor<?x197x576xf32> -> tensor<?x3x197x64xf32>
  // CHECK: vit.scale %{{.*}}, 1.250000e-01 : tensor<?x3x197x64xf32>
  %qs = vit.scale %q, 0.125 : tensor<?x3x197x64xf32>
  // CHECK: vit.matmul %{{.*}}, %{{.*}} transpose_rhs : (tensor<?x3x197x64xf32>, tensor<?x3x197x64xf32>) -> tensor<?x3x197x197xf32>
  %s = vit.matmul %qs, %k transpose_rhs : (tensor<?x3x197x64xf32>, tensor<?x3x197x64xf32>) -> tensor<?x3x197x197xf32>
  // CHECK: vit.softmax %{{.*}} : tensor<?x3x197x197xf32>
  %p = vit.softmax %s : tensor<?x3x197x197xf32>
  // CHECK: vit.matmul %{{.*}}, %{{.*}} : (tensor<?x3x197x197xf32>, tensor<?x3x197x64xf32>) -> tensor<?x3x197x64xf32>
  %a = vit.matmul %p, %v : (tensor<?x3x197x197xf32>, tensor<?x3x197x64xf32>) -> tensor<?x3x197x64xf32>
  // CHECK: vit.merge_heads %{{.*}} : tensor<?x3x197x64xf32> -> tensor<?x197x192xf32>
  %m = vit.merge_heads %a : tensor<?x3x197x64xf32> -> tensor<?x197x192xf32>
  %o = vit.linear %m, %wo, %bo : (tensor<?x197x192xf32>, tensor<192x192xf32>, tensor<192xf32>) -> tensor<?x197x192xf32>
  // CHECK: vit.add %{{.*}}, %{{.*}} : tensor<?x197x192xf32>
  %r1 = vit.add %x, %o : tensor<?x197x192xf32>
  %n2 = vit.layer_norm %r1, %g2, %b2 eps = 1.0e-6 : (tensor<?x197x192xf32>, tensor<192xf32>, tensor<192xf32>) -> tensor<?x197x192xf32>
  %h = vit.linear %n2, %w1, %c1 : (tensor<?x197x192xf32>, tensor<768x192xf32>, tensor<768xf32>) -> tensor<?x197x768xf32>
  // CHECK: vit.gelu erf %{{.*}} : tensor<?x197x768xf32>
  %ge = vit.gelu erf %h : tensor<?x197x768xf32>
  // CHECK: vit.gelu tanh %{{.*}} : tensor<?x197x768xf32>
  %gt = vit.gelu tanh %ge : tensor<?x197x768xf32>
  // CHECK: vit.relu %{{.*}} : tensor<?x197x768xf32>
  %re = vit.relu %gt : tensor<?x197x768xf32>
  %y = vit.linear %re, %w2, %c2 : (tensor<?x197x768xf32>, tensor<192x768xf32>, tensor<192xf32>) -> tensor<?x197x192xf32>
  %r2 = vit.add %r1, %y : tensor<?x197x192xf32>
  return %r2 : tensor<?x197x192xf32>
}

// Classifier heads: token slice, mean over tokens, pre-logits tanh, linear
// without bias, and a tiled kernel attribute.
// CHECK-LABEL: func.func @heads
func.func @heads(%x: tensor<?x198x192xf32>, %w: tensor<10x192xf32>, %wr: tensor<192x192xf32>) -> (tensor<?x10xf32>, tensor<?x10xf32>) {
  // CHECK: vit.select_token %{{.*}}[0] : tensor<?x198x192xf32> -> tensor<?x192xf32>
  %cls = vit.select_token %x[0] : tensor<?x198x192xf32> -> tensor<?x192xf32>
  // CHECK: vit.select_token %{{.*}}[1]
  %dist = vit.select_token %x[1] : tensor<?x198x192xf32> -> tensor<?x192xf32>
  // CHECK: vit.token_mean %{{.*}} skip = 2 : tensor<?x198x192xf32> -> tensor<?x192xf32>
  %gap = vit.token_mean %x skip = 2 : tensor<?x198x192xf32> -> tensor<?x192xf32>
  %rep = vit.linear %gap, %wr : (tensor<?x192xf32>, tensor<192x192xf32>) -> tensor<?x192xf32>
  // CHECK: vit.tanh %{{.*}} : tensor<?x192xf32>
  %t = vit.tanh %rep : tensor<?x192xf32>
  // CHECK: vit.linear %{{.*}}, %{{.*}} {vit.tile = #vit.cpu_gemm_tile<columns = 8, rows = 16, vector = 8, parallel = rows>} : (tensor<?x192xf32>, tensor<10x192xf32>) -> tensor<?x10xf32>
  %l0 = vit.linear %cls, %w {vit.tile = #vit.cpu_gemm_tile<columns = 8, rows = 16, vector = 8, parallel = rows>} : (tensor<?x192xf32>, tensor<10x192xf32>) -> tensor<?x10xf32>
  // CHECK: #vit.gpu_gemm_tile<block_columns = 64, block_rows = 32, thread_columns = 4, thread_rows = 4, shared_k = 8>
  %l1 = vit.linear %dist, %w {vit.tile = #vit.gpu_gemm_tile<block_columns = 64, block_rows = 32, thread_columns = 4, thread_rows = 4, shared_k = 8>} : (tensor<?x192xf32>, tensor<10x192xf32>) -> tensor<?x10xf32>
  %sum = vit.add %l0, %l1 : tensor<?x10xf32>
  %avg = vit.scale %sum, 0.5 : tensor<?x10xf32>
  %l2 = vit.linear %t, %w : (tensor<?x192xf32>, tensor<10x192xf32>) -> tensor<?x10xf32>
  return %avg, %l2 : tensor<?x10xf32>, tensor<?x10xf32>
}


// The kernel ops the fusion passes make.
// CHECK-LABEL: func.func @fused
func.func @fused(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %bqkv: tensor<24xf32>, %wo: tensor<8x8xf32>, %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>) -> tensor<?x5x8xf32> {
  // CHECK: vit.fused_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} qkv_bias %{{.*}}, %{{.*}}, %{{.*}} heads = 2 eps = 9.99999997E-7 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<24xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %a = vit.fused_attention %x, %g, %b, %wqkv qkv_bias %bqkv, %wo, %b heads = 2 eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<24xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  // CHECK: vit.fused_attention %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}} heads = 2
  %c = vit.fused_attention %a, %g, %b, %wqkv, %wo, %b heads = 2 eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  // CHECK: vit.fused_mlp {{.*}} gelu_tanh eps = 9.99999997E-7 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  %m = vit.fused_mlp %c, %g, %b, %w1, %b1, %w2, %b gelu_tanh eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  return %m : tensor<?x5x8xf32>
}


// CHECK-LABEL: func.func @fused_embed_and_head
func.func @fused_embed_and_head(%img: tensor<?x3x8x8xf32>, %w: tensor<8x3x4x4xf32>, %b: tensor<8xf32>, %cls: tensor<1x1x8xf32>, %dist: tensor<1x1x8xf32>, %pos: tensor<1x6x8xf32>, %g: tensor<8xf32>, %wh: tensor<10x8xf32>, %bh: tensor<10xf32>, %wr: tensor<6x8xf32>, %br: tensor<6xf32>, %wh6: tensor<10x6xf32>) -> (tensor<?x10xf32>, tensor<?x10xf32>, tensor<?x8xf32>) {
  // CHECK: vit.fused_patch_embed %{{.*}}, %{{.*}} bias %{{.*}} tokens(%{{.*}}, %{{.*}}) pos %{{.*}} : (tensor<?x3x8x8xf32>, tensor<8x3x4x4xf32>, tensor<8xf32>, tensor<1x1x8xf32>, tensor<1x1x8xf32>, tensor<1x6x8xf32>) -> tensor<?x6x8xf32>
  %x = vit.fused_patch_embed %img, %w bias %b tokens(%cls, %dist) pos %pos : (tensor<?x3x8x8xf32>, tensor<8x3x4x4xf32>, tensor<8xf32>, tensor<1x1x8xf32>, tensor<1x1x8xf32>, tensor<1x6x8xf32>) -> tensor<?x6x8xf32>
  // CHECK: vit.fused_head %{{.*}} pool class_token skip = 0 norm %{{.*}}, %{{.*}} at tokens eps = 9.99999997E-7 classifier %{{.*}}, %{{.*}} dist_classifier %{{.*}}, %{{.*}} : (tensor<?x6x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<10x8xf32>, tensor<10xf32>, tensor<10x8xf32>, tensor<10xf32>) -> (tensor<?x8xf32>, tensor<?x10xf32>)
  %f, %l = vit.fused_head %x pool class_token skip = 0 norm %g, %b at tokens eps = 1.0e-6 classifier %wh, %bh dist_classifier %wh, %bh : (tensor<?x6x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<10x8xf32>, tensor<10xf32>, tensor<10x8xf32>, tensor<10xf32>) -> (tensor<?x8xf32>, tensor<?x10xf32>)
  // CHECK: vit.fused_head %{{.*}} pool mean skip = 2 norm %{{.*}}, %{{.*}} at pooled eps = 9.99999997E-7 pre_logits %{{.*}}, %{{.*}} classifier
  %f2, %l2 = vit.fused_head %x pool mean skip = 2 norm %g, %b at pooled eps = 1.0e-6 pre_logits %wr, %br classifier %wh6, %bh : (tensor<?x6x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<6x8xf32>, tensor<6xf32>, tensor<10x6xf32>, tensor<10xf32>) -> (tensor<?x6xf32>, tensor<?x10xf32>)
  // CHECK: vit.fused_head %{{.*}} pool mean skip = 0 : (tensor<?x6x8xf32>) -> tensor<?x8xf32>
  %f3 = vit.fused_head %x pool mean skip = 0 : (tensor<?x6x8xf32>) -> tensor<?x8xf32>
  return %l, %l2, %f3 : tensor<?x10xf32>, tensor<?x10xf32>, tensor<?x8xf32>
}

// GEMM weights may be f32, bf16, f16 or i8 (the precisions vitc compiles
// GEMMs in; an i8 weight has a per-output-channel scale); every other tensor
// is f32. Tiles of every kind round-trip.
// CHECK-LABEL: func.func @weight_precisions
func.func @weight_precisions(%x: tensor<?x197x192xf32>, %g: tensor<192xf32>, %b: tensor<192xf32>, %b1: tensor<768xf32>) -> tensor<?x197x192xf32> {
  %s2 = vit.param "blocks.0.mlp.fc2.weight.scale" : tensor<192xf32>
  %so = vit.param "blocks.0.attn.proj.weight.scale" : tensor<192xf32>
  // CHECK: vit.param "blocks.0.mlp.fc1.weight" : tensor<768x192xbf16>
  %w1 = vit.param "blocks.0.mlp.fc1.weight" : tensor<768x192xbf16>
  // CHECK: vit.param "blocks.0.mlp.fc2.weight" : tensor<192x768xi8>
  %w2 = vit.param "blocks.0.mlp.fc2.weight" : tensor<192x768xi8>
  // CHECK: vit.param "blocks.0.attn.qkv.weight" : tensor<576x192xf16>
  %wqkv = vit.param "blocks.0.attn.qkv.weight" : tensor<576x192xf16>
  %wo = vit.param "blocks.0.attn.proj.weight" : tensor<192x192xi8>
  // CHECK: vit.fused_attention %{{.*}}, %{{.*}} scale %{{.*}}, %{{.*}} heads = 3 {{.*}} {vit.tile = #vit.cpu_attention_tile<columns = 24, rows = 4, vector = 8, score_columns = 16, score_rows = 6, context_columns = 16, context_rows = 6, query_rows = 99>} : ({{.*}}tensor<576x192xf16>, tensor<192x192xi8>, tensor<192xf32>, tensor<192xf32>) -> tensor<?x197x192xf32>
  %a = vit.fused_attention %x, %g, %b, %wqkv, %wo scale %so, %b heads = 3 eps = 1.0e-6 {vit.tile = #vit.cpu_attention_tile<columns = 24, rows = 4, vector = 8, score_columns = 16, score_rows = 6, context_columns = 16, context_rows = 6, query_rows = 99>} : (tensor<?x197x192xf32>, tensor<192xf32>, tensor<192xf32>, tensor<576x192xf16>, tensor<192x192xi8>, tensor<192xf32>, tensor<192xf32>) -> tensor<?x197x192xf32>
  // CHECK: vit.fused_mlp {{.*}}, %{{.*}} scale %{{.*}}, %{{.*}} gelu_erf {{.*}} {vit.tile = #vit.gpu_gemm_tile<block_columns = 128, block_rows = 32, thread_columns = 8, thread_rows = 4, shared_k = 8>} : ({{.*}}tensor<768x192xbf16>, tensor<768xf32>, tensor<192x768xi8>, tensor<192xf32>, tensor<192xf32>) -> tensor<?x197x192xf32>
  %m = vit.fused_mlp %a, %g, %b, %w1, %b1, %w2 scale %s2, %b gelu_erf eps = 1.0e-6 {vit.tile = #vit.gpu_gemm_tile<block_columns = 128, block_rows = 32, thread_columns = 8, thread_rows = 4, shared_k = 8>} : (tensor<?x197x192xf32>, tensor<192xf32>, tensor<192xf32>, tensor<768x192xbf16>, tensor<768xf32>, tensor<192x768xi8>, tensor<192xf32>, tensor<192xf32>) -> tensor<?x197x192xf32>
  // CHECK: vit.layer_norm {{.*}} {vit.tile = #vit.cpu_row_tile<rows = 8, vector = 16>}
  %n = vit.layer_norm %m, %g, %b eps = 1.0e-6 {vit.tile = #vit.cpu_row_tile<rows = 8, vector = 16>} : (tensor<?x197x192xf32>, tensor<192xf32>, tensor<192xf32>) -> tensor<?x197x192xf32>
  // CHECK: vit.softmax {{.*}} {vit.tile = #vit.gpu_row_tile<threads = 128>}
  %s = vit.softmax %n {vit.tile = #vit.gpu_row_tile<threads = 128>} : tensor<?x197x192xf32>
  return %s : tensor<?x197x192xf32>
}

}
