//===- VitDialect.h - the vit dialect: dialect, attributes and ops --------===//
//
// The one header users of the dialect include. Op, attribute and enum
// classes are generated from the .td files beside it.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_DIALECT_VITDIALECT_H
#define VITC_DIALECT_VITDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/TileParameter.h"

#include "dialect/VitDialect.h.inc"
#include "dialect/VitEnums.h.inc"

#include "dialect/VitAttrInterfaces.h.inc"
#define GET_ATTRDEF_CLASSES
#include "dialect/VitAttrs.h.inc"

#include "dialect/VitOpInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialect/VitOps.h.inc"

#endif // VITC_DIALECT_VITDIALECT_H
