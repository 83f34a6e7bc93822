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
