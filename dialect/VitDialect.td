//===- VitDialect.td - the vit dialect and its base classes ---------------===//
//
// The dialect that describes a Vision Transformer forward pass. Everything
// else in dialect/ builds on the definitions here.
//
//===----------------------------------------------------------------------===//

#ifndef VIT_DIALECT_TD
#define VIT_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Vit_Dialect : Dialect {
  let name = "vit";
  let cppNamespace = "::mlir::vit";
  let summary = "Vision Transformer operators, primitive and fused";
  let description = [{
    Describes the forward pass of a Vision Transformer (Dosovitskiy et al.,
    "An Image is Worth 16x16 Words", 2020) as an operator graph on ranked
    tensors: f32 activations, and GEMM weights in f32, bf16, f16 or i8. The batch dimension is dynamic (`?`); every other dimension is
    static for a compiled variant. Parameters are symbolic `vit.param` ops
    naming a tensor in the weights file, never dense constants.

    Primitive ops use the vocabulary of the paper (patch projection, class
    token, position embedding, layer norm, linear, attention matmuls,
    softmax, GELU); the fusion passes rewrite them into kernel ops, and
    `#vit.target` and the `vit.tile` attributes record target decisions.
  }];
  let useDefaultAttributePrinterParser = 1;
  // vit.tile, vit.target and vit.model are checked where they are placed.
  let hasOperationAttrVerify = 1;
}

class Vit_Op<string mnemonic, list<Trait> traits = []>
    : Op<Vit_Dialect, mnemonic, traits>;

// Activations, and the parameters that are not GEMM weights, are ranked f32
// tensors.
def Vit_Tensor : RankedTensorOf<[F32]>;
// GEMM weights may also be stored in the precisions vitc compiles GEMMs in
// (the ops that read them say so in their operand types); a parameter may
// hold any of them.
def Vit_WeightTensor : RankedTensorOf<[F32, BF16, F16, I8]>;

#endif // VIT_DIALECT_TD
