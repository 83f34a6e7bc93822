//===- VitInterfaces.td - what the backend asks of kernel ops and tiles ---===//
//
// Every op the backend compiles as a kernel implements KernelOpInterface:
// tile selection, the program builder and the FLOP counts read the op
// through it instead of keeping their own per-op switches, so a new kernel
// op (or precision) is described in one place. Every tile attribute
// implements TileAttrInterface, so schedule files and tuning read and write
// any tile by parameter name.
//
//===----------------------------------------------------------------------===//

#ifndef VIT_INTERFACES_TD
#define VIT_INTERFACES_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"

def Vit_KernelElementwise : I32EnumAttrCase<"Elementwise", 0, "elementwise">;
def Vit_KernelRowReduce : I32EnumAttrCase<"RowReduce", 1, "row_reduce">;
def Vit_KernelGemm : I32EnumAttrCase<"Gemm", 2, "gemm">;
def Vit_KernelAttention : I32EnumAttrCase<"Attention", 3, "attention">;
def Vit_KernelKind : I32EnumAttr<"KernelKind",
    "how a kernel is tiled: its kind decides the kind of its tile",
    [Vit_KernelElementwise, Vit_KernelRowReduce, Vit_KernelGemm,
     Vit_KernelAttention]> {
  let cppNamespace = "::mlir::vit";
  let genSpecializedAttr = 0;
}

def Vit_KernelOpInterface : OpInterface<"KernelOpInterface"> {
  let cppNamespace = "::mlir::vit";
  let description = [{
    An op the backend compiles as one kernel. `getKernelKind` decides its tile
    (row-wise, GEMM or attention tiles); `getGemmWeightOperands` names the
    operands that are GEMM weights ([M, K...], M output columns), which are
    stored in panels as wide as the tile; `getWeightScaleOperand` the
    scales of a quantized (i8) weight; `getGemmWidths` the output widths
    of its GEMMs (tiles are chosen to divide them); `getFlopsPerImage` counts
    2 x the multiply-adds of its GEMMs per image, for profiles.
  }];
  let methods = [
    InterfaceMethod<"how the kernel is tiled", "::mlir::vit::KernelKind",
      "getKernelKind", (ins), [{}],
      [{ return ::mlir::vit::KernelKind::Elementwise; }]>,
    InterfaceMethod<"indices of the operands that are GEMM weights",
      "::llvm::SmallVector<unsigned>", "getGemmWeightOperands", (ins), [{}],
      [{ return {}; }]>,
    InterfaceMethod<[{the operand holding the per-output-channel scales of
      the i8 GEMM weight at operand `weight`; -1 for a float weight}],
      "int", "getWeightScaleOperand", (ins "unsigned":$weight), [{}],
      [{ return -1; }]>,
    InterfaceMethod<"output widths of the kernel's GEMMs",
      "::llvm::SmallVector<int64_t>", "getGemmWidths", (ins), [{}], [{
        ::llvm::SmallVector<int64_t> widths;
        for (unsigned i : $_op.getGemmWeightOperands())
          widths.push_back(::mlir::cast<::mlir::RankedTensorType>(
              $_op->getOperand(i).getType()).getDimSize(0));
        return widths;
      }]>,
    InterfaceMethod<"2 x the multiply-adds of its GEMMs per image", "double",
      "getFlopsPerImage", (ins), [{}], [{ return 0.0; }]>,
  ];
  let extraClassDeclaration = [{
    /// Whether operand `index` is one of the GEMM weights.
    bool isGemmWeight(unsigned index) {
      return ::llvm::is_contained(getGemmWeightOperands(), index);
    }
  }];
}

def Vit_TileAttrInterface : AttrInterface<"TileAttrInterface"> {
  let cppNamespace = "::mlir::vit";
  let description = [{
    What schedule files and tuning need of any tile: its parameters by name,
    and the same kind of tile with other values (verified).
  }];
  let methods = [
    InterfaceMethod<"the parameters, by name, in printing order",
      "::llvm::SmallVector<::mlir::vit::TileParameter>", "getTileParameters">,
    InterfaceMethod<[{the same kind of tile with `values` (every parameter,
      by name); null after `emitError` when they do not verify}],
      "::mlir::Attribute", "withTileParameters",
      (ins "::llvm::ArrayRef<::mlir::vit::TileParameter>":$values,
           "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError)>,
  ];
}

#endif // VIT_INTERFACES_TD
