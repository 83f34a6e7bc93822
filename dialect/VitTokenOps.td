//===- VitTokenOps.td - head split/merge and token pooling ----------------===//
//
// The reshapes and transposes attention needs, and the ops that reduce the
// token sequence to one vector per image for the classifier.
//
//===----------------------------------------------------------------------===//

#ifndef VIT_TOKEN_OPS_TD
#define VIT_TOKEN_OPS_TD

include "VitDialect.td"

def Vit_SplitQkvOp : Vit_Op<"split_qkv", [Pure, Vit_KernelOpInterface,
    AllTypesMatch<["query", "key", "value"]>]> {
  let summary = "split a fused QKV projection into per-head queries, keys and values";
  let description = [{
    `input` `[B, N, 3 * H * Dh]` holds, along the last dimension, the queries
    of heads 0..H-1, then the keys, then the values (timm's `qkv` row order).
    Each result is `[B, H, N, Dh]`:

      query[b, h, n, e] = input[b, n, 0 * H * Dh + h * Dh + e]
      key  [b, h, n, e] = input[b, n, 1 * H * Dh + h * Dh + e]
      value[b, h, n, e] = input[b, n, 2 * H * Dh + h * Dh + e]

    Example:
    ```mlir
    %q, %k, %v = vit.split_qkv %qkv heads = 12
        : tensor<?x197x2304xf32> -> tensor<?x12x197x64xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$input, I64Attr:$heads);
  let results = (outs Vit_Tensor:$query, Vit_Tensor:$key, Vit_Tensor:$value);
  let assemblyFormat = [{
    $input `heads` `=` $heads attr-dict `:` type($input) `->` type($query)
  }];
  let hasVerifier = 1;
}

def Vit_MergeHeadsOp : Vit_Op<"merge_heads", [Pure, Vit_KernelOpInterface]> {
  let summary = "concatenate the heads of an attention output along the width";
  let description = [{
    `result[b, n, h * Dh + e] = input[b, h, n, e]`: `[B, H, N, Dh]` to
    `[B, N, H * Dh]`, the inverse of one output of `vit.split_qkv`.

    Example:
    ```mlir
    %o = vit.merge_heads %a : tensor<?x12x197x64xf32> -> tensor<?x197x768xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$input);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Vit_SelectTokenOp : Vit_Op<"select_token", [Pure, Vit_KernelOpInterface]> {
  let summary = "take one token of every sequence (the class-token slice)";
  let description = [{
    `result[b, d] = input[b, index, d]`: `[B, N, D]` to `[B, D]`. The token
    classifier reads token 0; DeiT's distillation head reads token 1.

    Example:
    ```mlir
    %c = vit.select_token %x[0] : tensor<?x197x768xf32> -> tensor<?x768xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$input, I64Attr:$index);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = "$input `[` $index `]` attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Vit_TokenMeanOp : Vit_Op<"token_mean", [Pure, Vit_KernelOpInterface]> {
  let summary = "average the tokens of every sequence (global average pooling)";
  let description = [{
    `result[b, d] = mean_{n >= skip} input[b, n, d]`: `[B, N, D]` to `[B, D]`.
    `skip` leaves out leading prefix tokens, as timm's average pooling does
    for models that have a class token.

    Example:
    ```mlir
    %g = vit.token_mean %x skip = 0 : tensor<?x196x768xf32> -> tensor<?x768xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$input, I64Attr:$skip);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = "$input `skip` `=` $skip attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

#endif // VIT_TOKEN_OPS_TD
