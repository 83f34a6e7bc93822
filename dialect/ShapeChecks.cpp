//===- ShapeChecks.cpp - shape checks shared by the vit op verifiers ------===//

#include "dialect/ShapeChecks.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

namespace mlir::vit {

std::string formatShape(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  std::string text;
  for (auto [i, dim] : llvm::enumerate(shape)) {
    if (i)
      text += 'x';
    text += ShapedType::isDynamic(dim) ? std::string("?") : std::to_string(dim);
  }
  return text;
}

bool shapesCompatible(ArrayRef<int64_t> actual, ArrayRef<int64_t> expected) {
  if (actual.size() != expected.size())
    return false;
  for (auto [a, e] : llvm::zip_equal(actual, expected))
    if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(e) && a != e)
      return false;
  return true;
}

int64_t mulDims(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b)
             ? ShapedType::kDynamic
             : a * b;
}

LogicalResult checkShape(Operation *op, StringRef what, Type type,
                         ArrayRef<int64_t> expected) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return op->emitOpError()
           << what << " must be a ranked tensor, got " << type;
  if (shapesCompatible(tensor.getShape(), expected))
    return success();
  return op->emitOpError() << what << " has shape "
                           << formatShape(tensor.getShape()) << " but expected "
                           << formatShape(expected);
}

LogicalResult checkRank(Operation *op, StringRef what, Type type, int64_t rank,
                        bool orMore) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return op->emitOpError()
           << what << " must be a ranked tensor, got " << type;
  int64_t actual = tensor.getRank();
  if (actual == rank || (orMore && actual > rank))
    return success();
  return op->emitOpError() << what << " has rank " << actual
                           << " but expected rank "
                           << (orMore ? "at least " : "") << rank;
}

} // namespace mlir::vit
