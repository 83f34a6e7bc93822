//===- VitDialect.cpp - registration of the vit dialect -------------------===//

#include "dialect/VitDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::vit;

#include "dialect/VitDialect.cpp.inc"
#include "dialect/VitEnums.cpp.inc"

#include "dialect/VitAttrInterfaces.cpp.inc"
#include "dialect/VitOpInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/VitAttrs.cpp.inc"

LogicalResult VitDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attribute) {
  StringRef name = attribute.getName().strref();
  Attribute value = attribute.getValue();
  if (name == "vit.target" && !isa<TargetAttr>(value))
    return op->emitError() << "'vit.target' must be a #vit.target, got "
                           << value;
  if (name == "vit.model" && !isa<ModelAttr>(value))
    return op->emitError() << "'vit.model' must be a #vit.model, got " << value;
  if (name != "vit.tile")
    return success();
  // A tile belongs on a kernel op, and its kind must be the kernel's.
  auto kernel = dyn_cast<KernelOpInterface>(op);
  if (!kernel)
    return op->emitError() << "'vit.tile' is only for kernel ops, and '"
                           << op->getName() << "' is not one";
  KernelKind kind = kernel.getKernelKind();
  bool fits = false;
  switch (kind) {
  case KernelKind::Elementwise:
  case KernelKind::RowReduce:
    fits = isa<CpuRowTileAttr, GpuRowTileAttr>(value);
    break;
  case KernelKind::Gemm:
    fits = isa<CpuGemmTileAttr, GpuGemmTileAttr>(value);
    break;
  case KernelKind::Attention:
    fits = isa<CpuAttentionTileAttr, GpuAttentionTileAttr>(value);
    break;
  }
  if (!fits)
    return op->emitOpError()
           << "is a " << stringifyKernelKind(kind) << " kernel, which takes a "
           << (kind == KernelKind::Gemm        ? "#vit.cpu_gemm_tile or "
                                                 "#vit.gpu_gemm_tile"
               : kind == KernelKind::Attention ? "#vit.cpu_attention_tile or "
                                                 "#vit.gpu_attention_tile"
                                               : "#vit.cpu_row_tile or "
                                                 "#vit.gpu_row_tile")
           << ", got " << value;
  return success();
}

void VitDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/VitAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialect/VitOps.cpp.inc"
      >();
}
