// One case per verifier error of the vit dialect: each message names what is
// wrong with the expected and the actual value.
// RUN: vit-opt %s -split-input-file -verify-diagnostics

func.func @param_empty_name() {
  // expected-error @+1 {{'vit.param' op parameter name must not be empty}}
  %w = vit.param "" : tensor<4xf32>
  return
}

// -----

func.func @param_dynamic_shape() {
  // expected-error @+1 {{'vit.param' op parameter 'pos_embed' must have a static shape, got 1x?x768}}
  %w = vit.param "pos_embed" : tensor<1x?x768xf32>
  return
}

// -----

func.func @not_f32(%x: tensor<?x197x768xf16>) {
  // expected-error @+1 {{'vit.relu' op operand #0 must be ranked tensor of 32-bit float values, but got 'tensor<?x197x768xf16>'}}
  %y = vit.relu %x : tensor<?x197x768xf16>
  return
}

// -----

func.func @patch_images_rank(%img: tensor<3x224x224xf32>, %w: tensor<768x3x16x16xf32>) {
  // expected-error @+1 {{'vit.patch_projection' op images has rank 3 but expected rank 4}}
  %t = vit.patch_projection %img, %w : (tensor<3x224x224xf32>, tensor<768x3x16x16xf32>) -> tensor<196x768xf32>
  return
}

// -----

func.func @patch_weight_channels(%img: tensor<?x3x224x224xf32>, %w: tensor<768x1x16x16xf32>) {
  // expected-error @+1 {{'vit.patch_projection' op weight has shape 768x1x16x16 but expected 768x3x16x16}}
  %t = vit.patch_projection %img, %w : (tensor<?x3x224x224xf32>, tensor<768x1x16x16xf32>) -> tensor<?x196x768xf32>
  return
}

// -----

func.func @patch_height_not_divisible(%img: tensor<?x3x225x224xf32>, %w: tensor<768x3x16x16xf32>) {
  // expected-error @+1 {{'vit.patch_projection' op patch height 16 does not divide image height 225}}
  %t = vit.patch_projection %img, %w : (tensor<?x3x225x224xf32>, tensor<768x3x16x16xf32>) -> tensor<?x196x768xf32>
  return
}

// -----

func.func @patch_width_not_divisible(%img: tensor<?x3x224x200xf32>, %w: tensor<768x3x16x16xf32>) {
  // expected-error @+1 {{'vit.patch_projection' op patch width 16 does not divide image width 200}}
  %t = vit.patch_projection %img, %w : (tensor<?x3x224x200xf32>, tensor<768x3x16x16xf32>) -> tensor<?x196x768xf32>
  return
}

// -----

func.func @patch_bias_shape(%img: tensor<?x3x224x224xf32>, %w: tensor<768x3x16x16xf32>, %b: tensor<384xf32>) {
  // expected-error @+1 {{'vit.patch_projection' op bias has shape 384 but expected 768}}
  %t = vit.patch_projection %img, %w, %b : (tensor<?x3x224x224xf32>, tensor<768x3x16x16xf32>, tensor<384xf32>) -> tensor<?x196x768xf32>
  return
}

// -----

func.func @patch_result_tokens(%img: tensor<?x3x384x384xf32>, %w: tensor<768x3x16x16xf32>) {
  // expected-error @+1 {{'vit.patch_projection' op result has shape ?x196x768 but expected ?x576x768}}
  %t = vit.patch_projection %img, %w : (tensor<?x3x384x384xf32>, tensor<768x3x16x16xf32>) -> tensor<?x196x768xf32>
  return
}

// -----

func.func @prepend_tokens_width(%x: tensor<?x196x768xf32>, %cls: tensor<1x1x384xf32>) {
  // expected-error @+1 {{'vit.prepend_tokens' op tokens has shape 1x1x384 but expected 1x1x768}}
  %y = vit.prepend_tokens %x, %cls : (tensor<?x196x768xf32>, tensor<1x1x384xf32>) -> tensor<?x197x768xf32>
  return
}

// -----

func.func @prepend_tokens_result(%x: tensor<?x196x768xf32>, %t: tensor<1x2x768xf32>) {
  // expected-error @+1 {{'vit.prepend_tokens' op result has shape ?x197x768 but expected ?x198x768}}
  %y = vit.prepend_tokens %x, %t : (tensor<?x196x768xf32>, tensor<1x2x768xf32>) -> tensor<?x197x768xf32>
  return
}

// -----

func.func @position_embedding_length(%x: tensor<?x197x768xf32>, %pos: tensor<1x577x768xf32>) {
  // expected-error @+1 {{'vit.add_position_embedding' op embedding has shape 1x577x768 but expected 1x197x768}}
  %y = vit.add_position_embedding %x, %pos : (tensor<?x197x768xf32>, tensor<1x577x768xf32>) -> tensor<?x197x768xf32>
  return
}

// -----

func.func @position_embedding_result(%x: tensor<?x197x768xf32>, %pos: tensor<1x197x768xf32>) {
  // expected-error @+1 {{'vit.add_position_embedding' op result has shape ?x197x384 but expected ?x197x768}}
  %y = vit.add_position_embedding %x, %pos : (tensor<?x197x768xf32>, tensor<1x197x768xf32>) -> tensor<?x197x384xf32>
  return
}

// -----

func.func @layer_norm_scale(%x: tensor<?x197x768xf32>, %g: tensor<384xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{'vit.layer_norm' op scale has shape 384 but expected 768}}
  %y = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x197x768xf32>, tensor<384xf32>, tensor<768xf32>) -> tensor<?x197x768xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<?x197x768xf32>, %g: tensor<768xf32>, %b: tensor<1x768xf32>) {
  // expected-error @+1 {{'vit.layer_norm' op bias has shape 1x768 but expected 768}}
  %y = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<1x768xf32>) -> tensor<?x197x768xf32>
  return
}

// -----

func.func @layer_norm_epsilon(%x: tensor<?x197x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{'vit.layer_norm' op epsilon must be positive, got 0}}
  %y = vit.layer_norm %x, %g, %b eps = 0.0 : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x197x768xf32>
  return
}

// -----

func.func @layer_norm_result(%x: tensor<?x197x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{'vit.layer_norm' op result has shape ?x196x768 but expected ?x197x768}}
  %y = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x196x768xf32>
  return
}

// -----

func.func @linear_input_rank(%x: tensor<768xf32>, %w: tensor<10x768xf32>) {
  // expected-error @+1 {{'vit.linear' op input has rank 1 but expected rank at least 2}}
  %y = vit.linear %x, %w : (tensor<768xf32>, tensor<10x768xf32>) -> tensor<10xf32>
  return
}

// -----

func.func @linear_weight_inner(%x: tensor<?x197x768xf32>, %w: tensor<3072x384xf32>) {
  // expected-error @+1 {{'vit.linear' op weight has shape 3072x384 but expected 3072x768}}
  %y = vit.linear %x, %w : (tensor<?x197x768xf32>, tensor<3072x384xf32>) -> tensor<?x197x3072xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<?x197x768xf32>, %w: tensor<3072x768xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{'vit.linear' op bias has shape 768 but expected 3072}}
  %y = vit.linear %x, %w, %b : (tensor<?x197x768xf32>, tensor<3072x768xf32>, tensor<768xf32>) -> tensor<?x197x3072xf32>
  return
}

// -----

func.func @linear_result(%x: tensor<?x197x768xf32>, %w: tensor<3072x768xf32>) {
  // expected-error @+1 {{'vit.linear' op result has shape ?x197x768 but expected ?x197x3072}}
  %y = vit.linear %x, %w : (tensor<?x197x768xf32>, tensor<3072x768xf32>) -> tensor<?x197x768xf32>
  return
}

// -----

func.func @matmul_lhs_rank(%a: tensor<64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'vit.matmul' op lhs has rank 1 but expected rank at least 2}}
  %c = vit.matmul %a, %b : (tensor<64xf32>, tensor<64xf32>) -> tensor<f32>
  return
}

// -----

func.func @matmul_rank_mismatch(%a: tensor<?x12x197x64xf32>, %b: tensor<197x64xf32>) {
  // expected-error @+1 {{'vit.matmul' op rhs has rank 2 but expected rank 4}}
  %c = vit.matmul %a, %b transpose_rhs : (tensor<?x12x197x64xf32>, tensor<197x64xf32>) -> tensor<?x12x197x197xf32>
  return
}

// -----

func.func @matmul_inner_mismatch(%a: tensor<?x12x197x197xf32>, %b: tensor<?x12x196x64xf32>) {
  // expected-error @+1 {{'vit.matmul' op rhs has shape ?x12x196x64 but expected ?x12x197x64}}
  %c = vit.matmul %a, %b : (tensor<?x12x197x197xf32>, tensor<?x12x196x64xf32>) -> tensor<?x12x197x64xf32>
  return
}

// -----

func.func @matmul_transposed_inner_mismatch(%a: tensor<?x12x197x64xf32>, %b: tensor<?x12x197x32xf32>) {
  // expected-error @+1 {{'vit.matmul' op rhs has shape ?x12x197x32 but expected ?x12x197x64}}
  %c = vit.matmul %a, %b transpose_rhs : (tensor<?x12x197x64xf32>, tensor<?x12x197x32xf32>) -> tensor<?x12x197x197xf32>
  return
}

// -----

func.func @matmul_batch_mismatch(%a: tensor<?x12x197x64xf32>, %b: tensor<?x6x197x64xf32>) {
  // expected-error @+1 {{'vit.matmul' op rhs has shape ?x6x197x64 but expected ?x12x197x64}}
  %c = vit.matmul %a, %b transpose_rhs : (tensor<?x12x197x64xf32>, tensor<?x6x197x64xf32>) -> tensor<?x12x197x197xf32>
  return
}

// -----

func.func @matmul_result(%a: tensor<?x12x197x64xf32>, %b: tensor<?x12x197x64xf32>) {
  // expected-error @+1 {{'vit.matmul' op result has shape ?x12x197x64 but expected ?x12x197x197}}
  %c = vit.matmul %a, %b transpose_rhs : (tensor<?x12x197x64xf32>, tensor<?x12x197x64xf32>) -> tensor<?x12x197x64xf32>
  return
}

// -----

func.func @softmax_type_mismatch(%s: tensor<?x12x197x197xf32>) {
  // expected-error @+1 {{'vit.softmax' op requires the same type for all operands and results}}
  %p = "vit.softmax"(%s) : (tensor<?x12x197x197xf32>) -> tensor<?x12x197x196xf32>
  return
}

// -----

func.func @add_type_mismatch(%a: tensor<?x197x768xf32>, %b: tensor<?x196x768xf32>) {
  // expected-error @+1 {{'vit.add' op requires the same type for all operands and results}}
  %c = "vit.add"(%a, %b) : (tensor<?x197x768xf32>, tensor<?x196x768xf32>) -> tensor<?x197x768xf32>
  return
}

// -----

func.func @gelu_unknown_form(%x: tensor<?x197x3072xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'approximation' [erf, tanh]}}
  %y = vit.gelu sigmoid %x : tensor<?x197x3072xf32>
  return
}

// -----

func.func @split_qkv_heads_positive(%x: tensor<?x197x2304xf32>) {
  // expected-error @+1 {{'vit.split_qkv' op heads must be positive, got 0}}
  %q, %k, %v = vit.split_qkv %x heads = 0 : tensor<?x197x2304xf32> -> tensor<?x12x197x64xf32>
  return
}

// -----

func.func @split_qkv_heads_not_dividing(%x: tensor<?x197x2304xf32>) {
  // expected-error @+1 {{'vit.split_qkv' op heads 5 do not divide the width: fused qkv width 2304 is not a multiple of 3 x 5}}
  %q, %k, %v = vit.split_qkv %x heads = 5 : tensor<?x197x2304xf32> -> tensor<?x5x197x64xf32>
  return
}

// -----

func.func @split_qkv_result(%x: tensor<?x197x2304xf32>) {
  // expected-error @+1 {{'vit.split_qkv' op result has shape ?x12x197x32 but expected ?x12x197x64}}
  %q, %k, %v = vit.split_qkv %x heads = 12 : tensor<?x197x2304xf32> -> tensor<?x12x197x32xf32>
  return
}

// -----

func.func @split_qkv_results_differ(%x: tensor<?x197x2304xf32>) {
  // expected-error @+1 {{'vit.split_qkv' op failed to verify that all of {query, key, value} have same type}}
  %q, %k, %v = "vit.split_qkv"(%x) {heads = 12 : i64} : (tensor<?x197x2304xf32>) -> (tensor<?x12x197x64xf32>, tensor<?x12x197x64xf32>, tensor<?x12x196x64xf32>)
  return
}

// -----

func.func @merge_heads_rank(%x: tensor<?x197x768xf32>) {
  // expected-error @+1 {{'vit.merge_heads' op input has rank 3 but expected rank 4}}
  %y = vit.merge_heads %x : tensor<?x197x768xf32> -> tensor<?x197x768xf32>
  return
}

// -----

func.func @merge_heads_result(%x: tensor<?x12x197x64xf32>) {
  // expected-error @+1 {{'vit.merge_heads' op result has shape ?x197x384 but expected ?x197x768}}
  %y = vit.merge_heads %x : tensor<?x12x197x64xf32> -> tensor<?x197x384xf32>
  return
}

// -----

func.func @select_token_out_of_range(%x: tensor<?x197x768xf32>) {
  // expected-error @+1 {{'vit.select_token' op token index 197 is out of range for 197 tokens}}
  %y = vit.select_token %x[197] : tensor<?x197x768xf32> -> tensor<?x768xf32>
  return
}

// -----

func.func @select_token_result(%x: tensor<?x197x768xf32>) {
  // expected-error @+1 {{'vit.select_token' op result has shape ?x197 but expected ?x768}}
  %y = vit.select_token %x[0] : tensor<?x197x768xf32> -> tensor<?x197xf32>
  return
}

// -----

func.func @token_mean_skip_negative(%x: tensor<?x197x768xf32>) {
  // expected-error @+1 {{'vit.token_mean' op skip -1 is out of range for 197 tokens}}
  %y = vit.token_mean %x skip = -1 : tensor<?x197x768xf32> -> tensor<?x768xf32>
  return
}

// -----

func.func @token_mean_skip_everything(%x: tensor<?x2x768xf32>) {
  // expected-error @+1 {{'vit.token_mean' op skip 2 is out of range for 2 tokens}}
  %y = vit.token_mean %x skip = 2 : tensor<?x2x768xf32> -> tensor<?x768xf32>
  return
}

// -----

func.func @token_mean_rank(%x: tensor<?x768xf32>) {
  // expected-error @+1 {{'vit.token_mean' op input has rank 2 but expected rank 3}}
  %y = vit.token_mean %x skip = 0 : tensor<?x768xf32> -> tensor<?x768xf32>
  return
}

// -----

// expected-error @+1 {{rows must be between 1 and 4096, got -4}}
func.func @tile_negative() attributes {tile = #vit.cpu_row_tile<rows = -4, vector = 8>} {
  return
}

// -----

// expected-error @+1 {{columns (12) must be a multiple of vector (8)}}
func.func @tile_columns_not_vectors() attributes {tile = #vit.cpu_gemm_tile<columns = 12, rows = 4, vector = 8>} {
  return
}

// -----

// expected-error @+1 {{score_columns (20) must be a multiple of vector (8)}}
func.func @tile_score_columns() attributes {tile = #vit.cpu_attention_tile<columns = 24, rows = 4, vector = 8, score_columns = 20, score_rows = 6, context_columns = 16, context_rows = 6>} {
  return
}

// -----

// expected-error @+1 {{query_rows must be between 0 (all) and 4096, got 5000}}
func.func @tile_query_rows() attributes {tile = #vit.cpu_attention_tile<columns = 24, rows = 4, vector = 8, score_columns = 16, score_rows = 6, context_columns = 16, context_rows = 6, query_rows = 5000>} {
  return
}

// -----

// expected-error @+1 {{vector must be between 1 and 64, got 0}}
func.func @tile_vector() attributes {tile = #vit.cpu_row_tile<rows = 4, vector = 0>} {
  return
}

// -----

// expected-error @+1 {{the block tile 128x32 is not a multiple of the thread tile 8x5}}
func.func @gpu_tile_threads() attributes {tile = #vit.gpu_gemm_tile<block_columns = 128, block_rows = 32, thread_columns = 8, thread_rows = 5, shared_k = 8>} {
  return
}

// -----

// expected-error @+1 {{threads must be between 1 and 4096, got 0}}
func.func @gpu_row_tile() attributes {tile = #vit.gpu_row_tile<threads = 0>} {
  return
}

// -----

// expected-error @+1 {{vector_bits must be a multiple of 32 between 32 and 4096, got 100}}
module attributes {vit.target = #vit.target<target = "host", vector_bits = 100, vector_registers = 16, cores = 2>} {}

// -----

// expected-error @+1 {{vector_registers must be between 1 and 64 on a CPU target (0 on a GPU), got 0}}
module attributes {vit.target = #vit.target<target = "host", vector_bits = 256, cores = 2>} {}

// -----

// expected-error @+1 {{gpu_threads and gpu_shared_bytes must both be positive for a GPU target (gpu = cuda or opencl) and 0 otherwise, got gpu = opencl, 256 and 0}}
module attributes {vit.target = #vit.target<target = "host-opencl", vector_bits = 32, cores = 1, gpu = opencl, gpu_threads = 256>} {}

// -----

// expected-error @+1 {{gpu_threads and gpu_shared_bytes must both be positive for a GPU target (gpu = cuda or opencl) and 0 otherwise, got gpu = none, 256 and 32768}}
module attributes {vit.target = #vit.target<target = "host", vector_bits = 256, vector_registers = 16, cores = 1, gpu_threads = 256, gpu_shared_bytes = 32768>} {}

// -----

// Lower precisions are for GEMM weights only: a layer norm's scale, an
// activation and a bias stay f32.
func.func @bf16_norm_scale(%x: tensor<?x768xf32>, %g: tensor<768xbf16>, %b: tensor<768xf32>) {
  // expected-error @+1 {{'vit.layer_norm' op operand #1 must be ranked tensor of 32-bit float values, but got 'tensor<768xbf16>'}}
  %y = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<?x768xf32>, tensor<768xbf16>, tensor<768xf32>) -> tensor<?x768xf32>
  return
}

// -----

func.func @i8_activation(%x: tensor<?x768xi8>, %w: tensor<10x768xi8>) {
  // expected-error @+1 {{'vit.linear' op operand #0 must be ranked tensor of 32-bit float values, but got 'tensor<?x768xi8>'}}
  %y = vit.linear %x, %w : (tensor<?x768xi8>, tensor<10x768xi8>) -> tensor<?x10xf32>
  return
}

// -----

func.func @i8_bias(%x: tensor<?x768xf32>, %w: tensor<10x768xi8>, %c: tensor<10xi8>) {
  // expected-error @+1 {{'vit.linear' op operand #2 must be ranked tensor of 32-bit float values, but got 'tensor<10xi8>'}}
  %y = vit.linear %x, %w, %c : (tensor<?x768xf32>, tensor<10x768xi8>, tensor<10xi8>) -> tensor<?x10xf32>
  return
}

// -----

func.func @f64_weight(%x: tensor<?x768xf32>, %w: tensor<10x768xf64>) {
  // expected-error @+1 {{'vit.linear' op operand #1 must be ranked tensor of 32-bit float or bfloat16 type or 16-bit float or 8-bit signless integer values, but got 'tensor<10x768xf64>'}}
  %y = vit.linear %x, %w : (tensor<?x768xf32>, tensor<10x768xf64>) -> tensor<?x10xf32>
  return
}

// -----

func.func @patch_weight_rank(%img: tensor<?x3x224x224xf32>, %w: tensor<768x768xf32>) {
  // expected-error @+1 {{'vit.patch_projection' op weight has rank 2 but expected rank 4}}
  %t = vit.patch_projection %img, %w : (tensor<?x3x224x224xf32>, tensor<768x768xf32>) -> tensor<?x196x768xf32>
  return
}

// -----

func.func @prepend_tokens_input_rank(%x: tensor<?x768xf32>, %cls: tensor<1x1x768xf32>) {
  // expected-error @+1 {{'vit.prepend_tokens' op input has rank 2 but expected rank 3}}
  %y = vit.prepend_tokens %x, %cls : (tensor<?x768xf32>, tensor<1x1x768xf32>) -> tensor<?x769xf32>
  return
}

// -----

func.func @prepend_tokens_rank(%x: tensor<?x196x768xf32>, %cls: tensor<1x768xf32>) {
  // expected-error @+1 {{'vit.prepend_tokens' op tokens has rank 2 but expected rank 3}}
  %y = vit.prepend_tokens %x, %cls : (tensor<?x196x768xf32>, tensor<1x768xf32>) -> tensor<?x197x768xf32>
  return
}

// -----

func.func @position_embedding_input_rank(%x: tensor<197x768xf32>, %pos: tensor<1x197x768xf32>) {
  // expected-error @+1 {{'vit.add_position_embedding' op input has rank 2 but expected rank 3}}
  %y = vit.add_position_embedding %x, %pos : (tensor<197x768xf32>, tensor<1x197x768xf32>) -> tensor<197x768xf32>
  return
}

// -----

func.func @layer_norm_scalar(%x: tensor<f32>, %g: tensor<1xf32>, %b: tensor<1xf32>) {
  // expected-error @+1 {{'vit.layer_norm' op input has rank 0 but expected rank at least 1}}
  %y = vit.layer_norm %x, %g, %b eps = 1.0e-6 : (tensor<f32>, tensor<1xf32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<?x197x768xf32>, %w: tensor<768xf32>) {
  // expected-error @+1 {{'vit.linear' op weight has rank 1 but expected rank 2}}
  %y = vit.linear %x, %w : (tensor<?x197x768xf32>, tensor<768xf32>) -> tensor<?x197x768xf32>
  return
}

// -----

func.func @split_qkv_rank(%x: tensor<?x2304xf32>) {
  // expected-error @+1 {{'vit.split_qkv' op input has rank 2 but expected rank 3}}
  %q, %k, %v = vit.split_qkv %x heads = 12 : tensor<?x2304xf32> -> tensor<?x12x197x64xf32>
  return
}

// -----

// expected-error @+1 {{cores must be at least 1, got 0}}
module attributes {vit.target = #vit.target<target = "host", vector_bits = 256, vector_registers = 16, cores = 0>} {}

// -----

// expected-error @+1 {{target string must not be empty}}
module attributes {vit.target = #vit.target<target = "", vector_bits = 256, vector_registers = 16, cores = 2>} {}

// -----

func.func @fused_attention_heads(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>) {
  // expected-error @+1 {{'vit.fused_attention' op heads 3 do not divide the width 8}}
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 3 eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  return
}

// -----

func.func @fused_attention_qkv(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<16x8xf32>, %wo: tensor<8x8xf32>) {
  // expected-error @+1 {{'vit.fused_attention' op qkv_weight has shape 16x8 but expected 24x8}}
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  return
}

// -----

func.func @fused_mlp_fc2(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x12xf32>) {
  // expected-error @+1 {{'vit.fused_mlp' op fc2_weight has shape 8x12 but expected 8x16}}
  %m = vit.fused_mlp %x, %g, %g, %w1, %b1, %w2, %g relu eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x12xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  return
}

// -----

func.func @fused_mlp_norm(%x: tensor<?x5x8xf32>, %g: tensor<4xf32>, %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>, %b2: tensor<8xf32>) {
  // expected-error @+1 {{'vit.fused_mlp' op norm_scale has shape 4 but expected 8}}
  %m = vit.fused_mlp %x, %g, %g, %w1, %b1, %w2, %b2 relu eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  return
}

// -----

func.func @fused_mlp_epsilon(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>) {
  // expected-error @+1 {{'vit.fused_mlp' op epsilon must be positive, got -1}}
  %m = vit.fused_mlp %x, %g, %g, %w1, %b1, %w2, %g relu eps = -1.0 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  return
}

// -----

func.func @embed_patch_not_dividing(%img: tensor<?x3x8x8xf32>, %w: tensor<8x3x3x3xf32>, %pos: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'vit.fused_patch_embed' op patch 3x3 does not divide the image 8x8}}
  %x = vit.fused_patch_embed %img, %w pos %pos : (tensor<?x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<1x4x8xf32>) -> tensor<?x4x8xf32>
  return
}

// -----

func.func @embed_token_width(%img: tensor<?x3x8x8xf32>, %w: tensor<8x3x4x4xf32>, %cls: tensor<1x1x4xf32>, %pos: tensor<1x5x8xf32>) {
  // expected-error @+1 {{'vit.fused_patch_embed' op prefix token operand #0 has shape 1x1x4 but expected 1x1x8}}
  %x = vit.fused_patch_embed %img, %w tokens(%cls) pos %pos : (tensor<?x3x8x8xf32>, tensor<8x3x4x4xf32>, tensor<1x1x4xf32>, tensor<1x5x8xf32>) -> tensor<?x5x8xf32>
  return
}

// -----

func.func @embed_pos_tokens(%img: tensor<?x3x8x8xf32>, %w: tensor<8x3x4x4xf32>, %cls: tensor<1x1x8xf32>, %pos: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'vit.fused_patch_embed' op position_embedding has shape 1x4x8 but expected 1x5x8}}
  %x = vit.fused_patch_embed %img, %w tokens(%cls) pos %pos : (tensor<?x3x8x8xf32>, tensor<8x3x4x4xf32>, tensor<1x1x8xf32>, tensor<1x4x8xf32>) -> tensor<?x5x8xf32>
  return
}

// -----

func.func @head_mean_skip(%x: tensor<?x5x8xf32>) {
  // expected-error @+1 {{'vit.fused_head' op mean pooling skips 5 tokens, but the input has 5}}
  %f = vit.fused_head %x pool mean skip = 5 : (tensor<?x5x8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @head_classifier_width(%x: tensor<?x5x8xf32>, %w: tensor<10x6xf32>, %c: tensor<10xf32>) {
  // expected-error @+1 {{'vit.fused_head' op head_weight has shape 10x6 but expected 10x8}}
  %f, %l = vit.fused_head %x pool class_token skip = 0 classifier %w, %c : (tensor<?x5x8xf32>, tensor<10x6xf32>, tensor<10xf32>) -> (tensor<?x8xf32>, tensor<?x10xf32>)
  return
}

// -----

func.func @head_logits_without_classifier(%x: tensor<?x5x8xf32>) {
  // expected-error @+1 {{'vit.fused_head' op a classifier and the logits result go together}}
  %f, %l = vit.fused_head %x pool class_token skip = 0 : (tensor<?x5x8xf32>) -> (tensor<?x8xf32>, tensor<?x10xf32>)
  return
}

// -----

func.func @head_dist_with_mean(%x: tensor<?x5x8xf32>, %w: tensor<10x8xf32>, %c: tensor<10xf32>) {
  // expected-error @+1 {{'vit.fused_head' op a distillation classifier needs class-token pooling, no pre-logits and no pooled norm}}
  %f, %l = vit.fused_head %x pool mean skip = 1 classifier %w, %c dist_classifier %w, %c : (tensor<?x5x8xf32>, tensor<10x8xf32>, tensor<10xf32>, tensor<10x8xf32>, tensor<10xf32>) -> (tensor<?x8xf32>, tensor<?x10xf32>)
  return
}

// -----

func.func @head_features_width(%x: tensor<?x5x8xf32>, %wr: tensor<6x8xf32>, %br: tensor<6xf32>) {
  // expected-error @+1 {{'vit.fused_head' op features has shape ?x8 but expected ?x6}}
  %f = vit.fused_head %x pool class_token skip = 0 pre_logits %wr, %br : (tensor<?x5x8xf32>, tensor<6x8xf32>, tensor<6xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @head_class_token_skip(%x: tensor<?x5x8xf32>) {
  // expected-error @+1 {{'vit.fused_head' op class-token pooling reads token 0 and takes skip = 0, got skip = 2 and 5 tokens}}
  %f = vit.fused_head %x pool class_token skip = 2 : (tensor<?x5x8xf32>) -> tensor<?x8xf32>
  return
}

// -----

// A pruned attention keeps the first tokens of its input, never more.
func.func @fused_attention_keeps_too_many(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>) {
  // expected-error @+1 {{'vit.fused_attention' op result keeps 6 tokens of the input's 5; it must keep between 1 and all of them}}
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x6x8xf32>
  return
}

// -----

func.func @fused_attention_width(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>) {
  // expected-error @+1 {{'vit.fused_attention' op result has shape ?x1x4 but expected ?x1x8}}
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x1x4xf32>
  return
}

// -----

// expected-error @+1 {{std must be positive}}
module attributes {vit.model = #vit.model<name = "m", mean = [0.5, 0.5, 0.5], std = [0.5, 0.0, 0.5], crop_fraction = 0.9 : f32>} {}

// -----

// expected-error @+1 {{mean and std must have 3 values each, got 2 and 3}}
module attributes {vit.model = #vit.model<name = "m", mean = [0.5, 0.5], std = [0.5, 0.5, 0.5], crop_fraction = 0.9 : f32>} {}

// -----

// expected-error @+1 {{crop_fraction must be between 0 and 1, got 1.5}}
module attributes {vit.model = #vit.model<name = "m", mean = [0.5, 0.5, 0.5], std = [0.5, 0.5, 0.5], crop_fraction = 1.5 : f32>} {}

// -----

// A tile must be of its kernel's kind, and only on kernel ops.
func.func @tile_of_another_kind(%x: tensor<?x768xf32>, %g: tensor<768xf32>) {
  // expected-error @+1 {{'vit.layer_norm' op is a row_reduce kernel, which takes a #vit.cpu_row_tile or #vit.gpu_row_tile, got #vit.cpu_gemm_tile<columns = 16, rows = 4, vector = 8>}}
  %y = vit.layer_norm %x, %g, %g eps = 1.0e-6 {vit.tile = #vit.cpu_gemm_tile<columns = 16, rows = 4, vector = 8>} : (tensor<?x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x768xf32>
  return
}

// -----

func.func @attention_tile_on_mlp(%x: tensor<?x197x192xf32>, %g: tensor<192xf32>, %w1: tensor<768x192xf32>, %b1: tensor<768xf32>, %w2: tensor<192x768xf32>) {
  // expected-error @+1 {{'vit.fused_mlp' op is a gemm kernel, which takes a #vit.cpu_gemm_tile or #vit.gpu_gemm_tile, got #vit.gpu_attention_tile}}
  %m = vit.fused_mlp %x, %g, %g, %w1, %b1, %w2, %g gelu_erf eps = 1.0e-6 {vit.tile = #vit.gpu_attention_tile<block_columns = 128, block_rows = 32, thread_columns = 8, thread_rows = 4, shared_k = 8, query_rows = 16>} : (tensor<?x197x192xf32>, tensor<192xf32>, tensor<192xf32>, tensor<768x192xf32>, tensor<768xf32>, tensor<192x768xf32>, tensor<192xf32>) -> tensor<?x197x192xf32>
  return
}

// -----

// expected-error @+1 {{'vit.tile' is only for kernel ops, and 'func.func' is not one}}
func.func @tile_on_a_function() attributes {vit.tile = #vit.cpu_row_tile<rows = 4, vector = 8>} {
  return
}

// -----

// expected-error @+1 {{'vit.target' must be a #vit.target, got "x86-64-linux-avx2"}}
module attributes {vit.target = "x86-64-linux-avx2"} {}

// -----

// An i8 weight is q * scale: without its scale it means nothing.
func.func @i8_weight_without_scale(%x: tensor<?x4x8xf32>, %g: tensor<8xf32>, %w1: tensor<16x8xi8>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>) {
  // expected-error @+1 {{'vit.fused_mlp' op fc1_weight is i8 but has no scale}}
  %y = vit.fused_mlp %x, %g, %g, %w1, %b1, %w2, %g gelu_erf eps = 1.0e-6 : (tensor<?x4x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xi8>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x4x8xf32>
  return
}

// -----

func.func @scale_on_f32_weight(%x: tensor<?x4x8xf32>, %g: tensor<8xf32>, %w1: tensor<16x8xf32>, %b1: tensor<16xf32>, %w2: tensor<8x16xf32>) {
  // expected-error @+1 {{'vit.fused_mlp' op fc1_weight has a scale but is 'f32', not i8}}
  %y = vit.fused_mlp %x, %g, %g, %w1 scale %b1, %b1, %w2, %g gelu_erf eps = 1.0e-6 : (tensor<?x4x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x4x8xf32>
  return
}

// -----

func.func @scale_of_wrong_shape(%x: tensor<?x4x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xi8>, %s: tensor<24xf32>) {
  // expected-error @+1 {{'vit.fused_attention' op proj_weight scale}}
  %y = vit.fused_attention %x, %g, %g, %wqkv, %wo scale %s, %g heads = 2 eps = 1.0e-6 : (tensor<?x4x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xi8>, tensor<24xf32>, tensor<8xf32>) -> tensor<?x4x8xf32>
  return
}

// -----

// Only the encoder's fused kernels take quantized weights.
func.func @i8_linear_weight(%x: tensor<?x8xf32>, %w: tensor<10x8xi8>) {
  // expected-error @+1 {{'vit.linear' op weight is i8, which only fused_mlp and fused_attention weights with a scale may be}}
  %y = vit.linear %x, %w : (tensor<?x8xf32>, tensor<10x8xi8>) -> tensor<?x10xf32>
  return
}

// -----

// bf16 GEMMs are the fused kernels' too.
func.func @bf16_linear_weight(%x: tensor<?x8xf32>, %w: tensor<10x8xbf16>) {
  // expected-error @+1 {{'vit.linear' op weight is bf16, which only fused_mlp and fused_attention weights may be}}
  %y = vit.linear %x, %w : (tensor<?x8xf32>, tensor<10x8xbf16>) -> tensor<?x10xf32>
  return
}

// -----

func.func @attention_maps_without_rows(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>) {
  // expected-error @+1 {{'vit.fused_attention' op attention maps are class_attention and optionally mean_attention, with map_rows; got 2 results and no map_rows}}
  %a:3 = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> (tensor<?x5x8xf32>, tensor<?x2x1x5xf32>, tensor<?x5x5xf32>)
  return
}

// -----

func.func @attention_map_rows_out_of_range(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>) {
  // expected-error @+1 {{'vit.fused_attention' op map_rows must be [begin, end) within the 1 query rows}}
  %a:3 = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 {map_rows = array<i64: 0, 2>} : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> (tensor<?x1x8xf32>, tensor<?x2x2x5xf32>, tensor<?x1x5xf32>)
  return
}

// -----

func.func @attention_map_shape(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>) {
  // expected-error @+1 {{'vit.fused_attention' op class_attention}}
  %a:3 = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 {map_mean, map_rows = array<i64: 1, 5>} : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> (tensor<?x5x8xf32>, tensor<?x2x4x5xf32>, tensor<?x5x5xf32>)
  return
}

// -----

func.func @attention_map_rows_without_maps(%x: tensor<?x5x8xf32>, %g: tensor<8xf32>, %wqkv: tensor<24x8xf32>, %wo: tensor<8x8xf32>) {
  // expected-error @+1 {{'vit.fused_attention' op map_rows or map_mean without the attention-map results}}
  %a = vit.fused_attention %x, %g, %g, %wqkv, %wo, %g heads = 2 eps = 1.0e-6 {map_rows = array<i64: 0, 1>} : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<24x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x5x8xf32>
  return
}
