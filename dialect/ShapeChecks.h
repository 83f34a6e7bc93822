//===- ShapeChecks.h - shape checks shared by the vit op verifiers --------===//
//
// Every verifier compares operand and result shapes with the shape the op's
// math implies. These helpers do the comparison and write the message, so all
// ops report shape errors the same way: what was wrong, expected and actual.
// A dynamic dimension (`?`) on either side matches any size.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_DIALECT_SHAPECHECKS_H
#define VITC_DIALECT_SHAPECHECKS_H

#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"
#include <string>

namespace mlir::vit {

/// Writes a shape as MLIR prints tensor types: "?x197x768" ("scalar" for rank
/// 0).
std::string formatShape(ArrayRef<int64_t> shape);

/// True when the two shapes have one rank and each dimension pair could be
/// equal at run time.
bool shapesCompatible(ArrayRef<int64_t> actual, ArrayRef<int64_t> expected);

/// Product of two dimensions, dynamic if either is.
int64_t mulDims(int64_t a, int64_t b);

/// Emits "<what> has shape A but expected E" on `op` unless `type` is a
/// ranked tensor whose shape is compatible with `expected`.
LogicalResult checkShape(Operation *op, StringRef what, Type type,
                         ArrayRef<int64_t> expected);

/// Emits "<what> has rank R but expected rank E" unless `type` has `rank`
/// dimensions (`orMore`: at least `rank`).
LogicalResult checkRank(Operation *op, StringRef what, Type type, int64_t rank,
                        bool orMore = false);

} // namespace mlir::vit

#endif // VITC_DIALECT_SHAPECHECKS_H
