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

def Vit_FusedMlpOp : Vit_Op<"fused_mlp", [Pure]> {
  let summary = "pre-norm MLP block with its residual connection";
  let description = [{
    `result = input + fc2(act(fc1(layer_norm(input))))`, where
    `layer_norm` normalises the last dimension D with `epsilon`, `fc1` is a
    linear layer D -> H (`fc1_weight` [H, D], `fc1_bias` [H]), `act` is
    `activation` (`gelu_erf`, `gelu_tanh` or `relu`) and `fc2` is H -> D.
    Made by `vit-fuse-mlp`; the hidden [B, N, H] activation is the kernel's
    own business.

    Example:
    ```mlir
    %y = vit.fused_mlp %x, %g, %b, %w1, %b1, %w2, %b2 gelu_erf eps = 1.000000e-06
        : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<3072x768xf32>,
           tensor<3072xf32>, tensor<768x3072xf32>, tensor<768xf32>) -> tensor<?x197x768xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$input, Vit_Tensor:$norm_scale, Vit_Tensor:$norm_bias,
                       Vit_Tensor:$fc1_weight, Vit_Tensor:$fc1_bias,
                       Vit_Tensor:$fc2_weight, Vit_Tensor:$fc2_bias,
                       Vit_MlpActivation:$activation, F32Attr:$epsilon);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $norm_scale `,` $norm_bias `,` $fc1_weight `,` $fc1_bias `,` $fc2_weight `,`
    $fc2_bias $activation `eps` `=` $epsilon attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Vit_FusedAttentionOp : Vit_Op<"fused_attention", [Pure]> {
  let summary = "pre-norm multi-head self-attention block with its residual connection";
  let description = [{
    `result = input + proj(attention(layer_norm(input)))`: the layer norm,
    the fused QKV projection (`qkv_weight` [3D, D], optional `qkv_bias`),
    `heads` heads of `softmax(q kᵀ / sqrt(D / heads)) v`, the output
    projection (`proj_weight` [D, D], `proj_bias` [D]) and the residual add.
    Made by `vit-fuse-attention`; the [B, heads, N, N] scores are never a
    tensor of the IR.

    Example:
    ```mlir
    %y = vit.fused_attention %x, %g, %b, %wqkv qkv_bias %bqkv, %wo, %bo heads = 12 eps = 1.000000e-06
        : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<2304x768xf32>,
           tensor<2304xf32>, tensor<768x768xf32>, tensor<768xf32>) -> tensor<?x197x768xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$input, Vit_Tensor:$norm_scale, Vit_Tensor:$norm_bias,
                       Vit_Tensor:$qkv_weight, Optional<Vit_Tensor>:$qkv_bias,
                       Vit_Tensor:$proj_weight, Vit_Tensor:$proj_bias,
                       I64Attr:$heads, F32Attr:$epsilon);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $norm_scale `,` $norm_bias `,` $qkv_weight (`qkv_bias` $qkv_bias^)? `,` $proj_weight
    `,` $proj_bias `heads` `=` $heads `eps` `=` $epsilon attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // VIT_FUSED_OPS_TD
