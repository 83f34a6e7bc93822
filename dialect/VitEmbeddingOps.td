//===- VitEmbeddingOps.td - parameters and the embedding stage ------------===//
//
// Ops that turn an image batch into the token sequence the encoder reads:
// parameters, patch projection, prefix (class/distillation) tokens and the
// position embedding.
//
//===----------------------------------------------------------------------===//

#ifndef VIT_EMBEDDING_OPS_TD
#define VIT_EMBEDDING_OPS_TD

include "VitDialect.td"

def Vit_ParamOp : Vit_Op<"param", [Pure]> {
  let summary = "a named parameter tensor of the model";
  let description = [{
    Stands for the tensor stored under `name` in the model's weights file.
    The shape is fully static. Keeping parameters symbolic keeps the IR small
    and lets identical encoder blocks share one compiled kernel.

    Example:
    ```mlir
    %w = vit.param "blocks.3.mlp.fc1.weight" : tensor<3072x768xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Vit_WeightTensor:$value);
  let assemblyFormat = "$name attr-dict `:` type($value)";
  let hasVerifier = 1;
}

def Vit_PatchProjectionOp : Vit_Op<"patch_projection", [Pure,
    DeclareOpInterfaceMethods<Vit_KernelOpInterface, ["getKernelKind", "getGemmWeightOperands", "getFlopsPerImage"]>]> {
  let summary = "cut images into patches and project each to the model width";
  let description = [{
    A convolution whose kernel equals its stride (the patch size), with no
    padding, flattened to tokens in row-major patch order:

      result[b, i * (W / Pw) + j, d] = bias[d] +
          sum_{c, y, x} images[b, c, i * Ph + y, j * Pw + x] * weight[d, c, y, x]

    `images` is NCHW `[B, C, H, W]`, `weight` is `[D, C, Ph, Pw]` (PyTorch
    OIHW), `bias` is optional `[D]`, and the result is `[B, (H/Ph)*(W/Pw), D]`.
    The patch must divide the image.

    Example:
    ```mlir
    %t = vit.patch_projection %img, %w, %b
        : (tensor<?x3x224x224xf32>, tensor<768x3x16x16xf32>, tensor<768xf32>)
        -> tensor<?x196x768xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$images, Vit_WeightTensor:$weight,
                       Optional<Vit_Tensor>:$bias);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = [{
    $images `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Vit_PrependTokensOp : Vit_Op<"prepend_tokens", [Pure, Vit_KernelOpInterface]> {
  let summary = "put learned tokens (class, distillation) before the patch tokens";
  let description = [{
    Concatenates `tokens` `[1, T, D]`, broadcast over the batch, in front of
    `input` `[B, N, D]`, giving `[B, T + N, D]`. The class token is `T = 1`;
    DeiT's class and distillation tokens are one `[1, 2, D]` operand or two
    ops applied distillation-first.

    Example:
    ```mlir
    %x = vit.prepend_tokens %patches, %cls
        : (tensor<?x196x768xf32>, tensor<1x1x768xf32>) -> tensor<?x197x768xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$input, Vit_Tensor:$tokens);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = "$input `,` $tokens attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Vit_AddPositionEmbeddingOp : Vit_Op<"add_position_embedding",
    [Pure, Vit_KernelOpInterface]> {
  let summary = "add the learned position embedding to every token";
  let description = [{
    `result[b, l, d] = input[b, l, d] + embedding[0, l, d]`, with `input`
    `[B, L, D]` and `embedding` `[1, L, D]` (already resized to this
    resolution by the front end).

    Example:
    ```mlir
    %y = vit.add_position_embedding %x, %pos
        : (tensor<?x197x768xf32>, tensor<1x197x768xf32>) -> tensor<?x197x768xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$input, Vit_Tensor:$embedding);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = "$input `,` $embedding attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // VIT_EMBEDDING_OPS_TD
