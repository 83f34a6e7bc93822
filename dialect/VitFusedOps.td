//===- VitFusedOps.td - kernel ops made by the fusion passes --------------===//
//
// Each fused op is one kernel of the encoder: the passes in
// compiler/transforms rewrite chains of primitive ops into them, and the
// backend compiles each as a unit.
//
//===----------------------------------------------------------------------===//

#ifndef VIT_FUSED_OPS_TD
#define VIT_FUSED_OPS_TD

include "VitDialect.td"
include "VitAttrs.td"

def Vit_FusedMlpOp : Vit_Op<"fused_mlp", [Pure, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<Vit_KernelOpInterface, ["getKernelKind", "getGemmWeightOperands",
        "getWeightScaleOperand", "getFlopsPerImage"]>]> {
  let summary = "pre-norm MLP block with its residual connection";
  let description = [{
    `result = input + fc2(act(fc1(layer_norm(input))))`, where
    `layer_norm` normalises the last dimension D with `epsilon`, `fc1` is a
    linear layer D -> H (`fc1_weight` [H, D], `fc1_bias` [H]), `act` is
    `activation` (`gelu_erf`, `gelu_tanh` or `relu`) and `fc2` is H -> D.
    Made by `vit-fuse-mlp`; the hidden [B, N, H] activation is the kernel's
    own business.

    Quantized (`vit-quantize-weights`), a weight is `i8` with a per-output-
    channel `scale` [M] (the weight is `q * scale`); the kernel then quantizes
    the GEMM's input per token row and accumulates in integers.

    Example:
    ```mlir
    %y = vit.fused_mlp %x, %g, %b, %w1, %b1, %w2, %b2 gelu_erf eps = 1.000000e-06
        : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<3072x768xf32>,
           tensor<3072xf32>, tensor<768x3072xf32>, tensor<768xf32>) -> tensor<?x197x768xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$input, Vit_Tensor:$norm_scale, Vit_Tensor:$norm_bias,
                       Vit_WeightTensor:$fc1_weight, Optional<Vit_Tensor>:$fc1_scale,
                       Vit_Tensor:$fc1_bias,
                       Vit_WeightTensor:$fc2_weight, Optional<Vit_Tensor>:$fc2_scale,
                       Vit_Tensor:$fc2_bias,
                       Vit_MlpActivation:$activation, F32Attr:$epsilon);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $norm_scale `,` $norm_bias `,` $fc1_weight (`scale` $fc1_scale^)? `,` $fc1_bias `,`
    $fc2_weight (`scale` $fc2_scale^)? `,` $fc2_bias $activation `eps` `=` $epsilon attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Vit_FusedAttentionOp : Vit_Op<"fused_attention", [Pure, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<Vit_KernelOpInterface, ["getKernelKind", "getGemmWeightOperands",
        "getWeightScaleOperand", "getFlopsPerImage"]>]> {
  let summary = "pre-norm multi-head self-attention block with its residual connection";
  let description = [{
    `result = input + proj(attention(layer_norm(input)))`: the layer norm,
    the fused QKV projection (`qkv_weight` [3D, D], optional `qkv_bias`),
    `heads` heads of `softmax(q kᵀ / sqrt(D / heads)) v`, the output
    projection (`proj_weight` [D, D], `proj_bias` [D]) and the residual add.
    Made by `vit-fuse-attention`; the [B, heads, N, N] scores are never a
    tensor of the IR.

    The result may keep only the first T ≤ N tokens, `[B, T, D]`: then only
    those rows are queries (the keys and values are still every token's) and
    only they get the projection and the residual. `vit-prune-tokens` makes
    such a last block when the head reads only the class token.

    Quantized (`vit-quantize-weights`), `qkv_weight` and `proj_weight` are
    `i8`, each with a per-output-channel `scale`, as in `vit.fused_mlp`; the
    scores and the context stay f32.

    With attention maps (`vit-attention-maps`), the op has one or two more
    results, and `map_rows = array<i64: begin, end>` says which query rows
    they describe (`map_mean`: their mean):

      class_attention [B, heads, R, N]: per head, the probabilities of query
        rows begin..end-1 (R = end - begin), or with `map_mean` their mean
        (R = 1): the class token's row (and DeiT's distillation token's), or
        the mean over the rows a mean-pooling head averages;
      mean_attention [B, T, N] (optional, for rollout): the probabilities
        averaged over the heads, for every query row (T rows when the result
        keeps T tokens), which attention rollout multiplies across layers.

    They are computed again from the QKV projection beside the fused core,
    which never writes its scores.

    Example:
    ```mlir
    %y = vit.fused_attention %x, %g, %b, %wqkv qkv_bias %bqkv, %wo, %bo heads = 12 eps = 1.000000e-06
        : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<2304x768xf32>,
           tensor<2304xf32>, tensor<768x768xf32>, tensor<768xf32>) -> tensor<?x197x768xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$input, Vit_Tensor:$norm_scale, Vit_Tensor:$norm_bias,
                       Vit_WeightTensor:$qkv_weight, Optional<Vit_Tensor>:$qkv_scale,
                       Optional<Vit_Tensor>:$qkv_bias,
                       Vit_WeightTensor:$proj_weight, Optional<Vit_Tensor>:$proj_scale,
                       Vit_Tensor:$proj_bias,
                       I64Attr:$heads, F32Attr:$epsilon,
                       OptionalAttr<DenseI64ArrayAttr>:$map_rows, UnitAttr:$map_mean);
  let results = (outs Vit_Tensor:$result, Variadic<Vit_Tensor>:$attention_maps);
  let assemblyFormat = [{
    $input `,` $norm_scale `,` $norm_bias `,` $qkv_weight (`scale` $qkv_scale^)?
    (`qkv_bias` $qkv_bias^)? `,` $proj_weight (`scale` $proj_scale^)? `,` $proj_bias `heads` `=` $heads `eps` `=` $epsilon attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::LogicalResult verifyAttentionMaps(int64_t queries, int64_t tokens);
  }];
}

def Vit_FusedPatchEmbedOp : Vit_Op<"fused_patch_embed",
    [Pure, AttrSizedOperandSegments, DeclareOpInterfaceMethods<Vit_KernelOpInterface,
        ["getKernelKind", "getGemmWeightOperands", "getFlopsPerImage"]>]> {
  let summary = "patch projection, prefix tokens and position embedding";
  let description = [{
    The whole embedding stage as one kernel:

      tokens = concat(prefix_tokens..., patch_projection(images) + bias)
      result = tokens + position_embedding

    `images` `[B, C, H, W]`, `weight` `[D, C, Ph, Pw]`, optional `bias` `[D]`,
    `prefix_tokens` each `[1, Ti, D]` in the order they appear in the
    sequence (class token, then DeiT's distillation token), and
    `position_embedding` `[1, T + N, D]`. Made by `vit-fuse-patch-embed`.
    The kernel stride equals the patch, so the kernel reads each patch
    straight from the image: there is no im2col buffer.

    Example:
    ```mlir
    %x = vit.fused_patch_embed %img, %w bias %b tokens(%cls) pos %pos
        : (tensor<?x3x224x224xf32>, tensor<768x3x16x16xf32>, tensor<768xf32>,
           tensor<1x1x768xf32>, tensor<1x197x768xf32>) -> tensor<?x197x768xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$images, Vit_WeightTensor:$weight,
                       Optional<Vit_Tensor>:$bias,
                       Variadic<Vit_Tensor>:$prefix_tokens,
                       Vit_Tensor:$position_embedding);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = [{
    $images `,` $weight (`bias` $bias^)? (`tokens` `(` $prefix_tokens^ `)`)?
    `pos` $position_embedding attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Vit_FusedHeadOp : Vit_Op<"fused_head", [Pure, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<Vit_KernelOpInterface, ["getKernelKind", "getGemmWeightOperands", "getFlopsPerImage"]>]> {
  let summary = "final norm, pooling, pre-logits and classifier";
  let description = [{
    The classifier head as one kernel, from the encoder output `input`
    `[B, N, D]`:

      t        = norm at tokens ? layer_norm(input) : input
      pooled   = pooling == class_token ? t[:, 0] : mean(t[:, skip:])
      pooled   = norm at pooled ? layer_norm(pooled) : pooled
      features = pre_logits ? tanh(pooled · pre_logits_weightᵀ + bias) : pooled
      logits   = features · head_weightᵀ + head_bias
      logits   = dist_classifier ? (logits + t[:, 1] · dist_weightᵀ + dist_bias) / 2
                                 : logits

    `features` (what the classifier reads; the runtime can return it) is
    always a result; `logits` is one when there is a classifier. The
    distillation classifier (DeiT) needs class-token pooling and no
    pre-logits. Made by `vit-fuse-head`.

    Example:
    ```mlir
    %f, %l = vit.fused_head %x pool class_token skip = 1
        norm %g, %b at tokens eps = 1.000000e-06 classifier %w, %c
        : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<768xf32>,
           tensor<1000x768xf32>, tensor<1000xf32>)
        -> (tensor<?x768xf32>, tensor<?x1000xf32>)
    ```
  }];
  let arguments = (ins Vit_Tensor:$input,
                       Optional<Vit_Tensor>:$norm_scale,
                       Optional<Vit_Tensor>:$norm_bias,
                       Optional<Vit_WeightTensor>:$pre_logits_weight,
                       Optional<Vit_Tensor>:$pre_logits_bias,
                       Optional<Vit_WeightTensor>:$head_weight,
                       Optional<Vit_Tensor>:$head_bias,
                       Optional<Vit_WeightTensor>:$dist_weight,
                       Optional<Vit_Tensor>:$dist_bias,
                       Vit_HeadPooling:$pooling, I64Attr:$skip,
                       OptionalAttr<Vit_HeadNormPlacement>:$norm_at,
                       OptionalAttr<F32Attr>:$epsilon);
  let results = (outs Vit_Tensor:$features, Optional<Vit_Tensor>:$logits);
  let assemblyFormat = [{
    $input `pool` $pooling `skip` `=` $skip
    (`norm` $norm_scale^ `,` $norm_bias `at` $norm_at `eps` `=` $epsilon)?
    (`pre_logits` $pre_logits_weight^ `,` $pre_logits_bias)?
    (`classifier` $head_weight^ `,` $head_bias)?
    (`dist_classifier` $dist_weight^ `,` $dist_bias)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // VIT_FUSED_OPS_TD
