//===- VitMathOps.td - normalization, linear algebra, activations ---------===//
//
// The arithmetic of an encoder block: layer norm, linear layers, batched
// matmuls, softmax, activations and element-wise arithmetic.
//
//===----------------------------------------------------------------------===//

#ifndef VIT_MATH_OPS_TD
#define VIT_MATH_OPS_TD

include "VitDialect.td"
include "VitAttrs.td"

def Vit_LayerNormOp : Vit_Op<"layer_norm", [Pure, DeclareOpInterfaceMethods<Vit_KernelOpInterface, ["getKernelKind"]>]> {
  let summary = "layer normalization over the last dimension";
  let description = [{
    `result = (input - mean) / sqrt(var + epsilon) * scale + bias`, with mean
    and (biased) variance over the last dimension `D`; `scale` and `bias` are
    `[D]`. `epsilon` differs between implementations (1e-6 in JAX and timm,
    1e-12 in Hugging Face), so it is always explicit.

    Example:
    ```mlir
    %y = vit.layer_norm %x, %g, %b eps = 1.000000e-06
        : (tensor<?x197x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x197x768xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$input, Vit_Tensor:$scale, Vit_Tensor:$bias,
                       F32Attr:$epsilon);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias `eps` `=` $epsilon attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Vit_LinearOp : Vit_Op<"linear", [Pure, DeclareOpInterfaceMethods<Vit_KernelOpInterface, ["getKernelKind", "getGemmWeightOperands", "getFlopsPerImage"]>]> {
  let summary = "a dense layer: input times transposed weight plus bias";
  let description = [{
    `result[..., m] = bias[m] + sum_k input[..., k] * weight[m, k]`, as
    PyTorch's `nn.Linear`: `input` `[..., K]`, `weight` `[M, K]`, optional
    `bias` `[M]`, result `[..., M]`.

    Example:
    ```mlir
    %h = vit.linear %x, %w, %b
        : (tensor<?x197x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>) -> tensor<?x197x3072xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$input, Vit_WeightTensor:$weight,
                       Optional<Vit_Tensor>:$bias);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Vit_MatmulOp : Vit_Op<"matmul", [Pure,
    DeclareOpInterfaceMethods<Vit_KernelOpInterface, ["getKernelKind", "getGemmWidths", "getFlopsPerImage"]>]> {
  let summary = "batched matrix product, optionally with the right side transposed";
  let description = [{
    `result[..., i, j] = sum_k lhs[..., i, k] * rhs[..., k, j]`, or
    `rhs[..., j, k]` with `transpose_rhs`. Both operands have the same rank
    (at least 2) and the same leading (batch) dimensions. Attention uses it
    for `q·kᵀ` (transposed) and `weights·v`.

    Example:
    ```mlir
    %s = vit.matmul %q, %k transpose_rhs
        : (tensor<?x12x197x64xf32>, tensor<?x12x197x64xf32>) -> tensor<?x12x197x197xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$lhs, Vit_Tensor:$rhs, UnitAttr:$transpose_rhs);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`transpose_rhs` $transpose_rhs^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

class Vit_UnaryOp<string mnemonic, string opSummary, string math>
    : Vit_Op<mnemonic, [Pure, SameOperandsAndResultType, Vit_KernelOpInterface]> {
  let summary = opSummary;
  let description = "Element-wise: `" # math # "`.\n\nExample:\n```mlir\n%y = vit."
      # mnemonic # " %x : tensor<?x197x3072xf32>\n```";
  let arguments = (ins Vit_Tensor:$input);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Vit_ReluOp : Vit_UnaryOp<"relu", "rectified linear unit", "max(x, 0)">;
def Vit_TanhOp : Vit_UnaryOp<"tanh", "hyperbolic tangent", "tanh(x)">;

def Vit_SoftmaxOp : Vit_Op<"softmax", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<Vit_KernelOpInterface, ["getKernelKind"]>]> {
  let summary = "softmax over the last dimension";
  let description = [{
    `result[..., j] = exp(x[..., j] - max) / sum_k exp(x[..., k] - max)`, the
    maximum taken over the last dimension (the keys, in attention).

    Example:
    ```mlir
    %p = vit.softmax %s : tensor<?x12x197x197xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$input);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Vit_GeluOp : Vit_Op<"gelu", [Pure, SameOperandsAndResultType, Vit_KernelOpInterface]> {
  let summary = "Gaussian error linear unit, exact (erf) or tanh form";
  let description = [{
    `erf`: `0.5 x (1 + erf(x / sqrt(2)))` (PyTorch, timm, Hugging Face).
    `tanh`: `0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))` (JAX/Flax,
    so the official ViT checkpoints).

    Example:
    ```mlir
    %y = vit.gelu tanh %x : tensor<?x197x3072xf32>
    ```
  }];
  let arguments = (ins Vit_GeluApproximation:$approximation, Vit_Tensor:$input);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = "$approximation $input attr-dict `:` type($input)";
}

def Vit_AddOp : Vit_Op<"add", [Pure, SameOperandsAndResultType, Commutative,
    Vit_KernelOpInterface]> {
  let summary = "element-wise sum of two tensors of one shape";
  let description = [{
    `result = lhs + rhs`; the residual connections of the encoder.

    Example:
    ```mlir
    %y = vit.add %x, %attn : tensor<?x197x768xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$lhs, Vit_Tensor:$rhs);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Vit_ScaleOp : Vit_Op<"scale", [Pure, SameOperandsAndResultType, Vit_KernelOpInterface]> {
  let summary = "multiply every element by a constant";
  let description = [{
    `result = input * factor`: the `1/sqrt(head_dim)` of attention and the
    `1/2` that averages DeiT's two heads.

    Example:
    ```mlir
    %q2 = vit.scale %q, 1.250000e-01 : tensor<?x12x197x64xf32>
    ```
  }];
  let arguments = (ins Vit_Tensor:$input, F32Attr:$factor);
  let results = (outs Vit_Tensor:$result);
  let assemblyFormat = "$input `,` $factor attr-dict `:` type($input)";
}

#endif // VIT_MATH_OPS_TD
