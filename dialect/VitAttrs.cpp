//===- VitAttrs.cpp - verifiers of #vit.target and #vit.tile --------------===//
//
// Attributes are checked when they are built or parsed, so the passes that
// read them can trust every field.
//
//===----------------------------------------------------------------------===//

#include "dialect/VitDialect.h"

#include "llvm/ADT/SmallSet.h"

using namespace mlir;
using namespace mlir::vit;

LogicalResult TargetAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef target, int64_t vectorBits,
                                 int64_t cores, int64_t l1Bytes,
                                 int64_t l2Bytes, int64_t gpuThreads,
                                 int64_t gpuSharedBytes) {
  if (target.empty())
    return emitError() << "target string must not be empty";
  if (vectorBits < 8 || !llvm::isPowerOf2_64(vectorBits))
    return emitError()
           << "vector_bits must be a power of two of at least 8, got "
           << vectorBits;
  if (cores < 1)
    return emitError() << "cores must be at least 1, got " << cores;
  if (l1Bytes < 0 || l2Bytes < 0)
    return emitError() << "cache sizes must not be negative, got l1_bytes = "
                       << l1Bytes << ", l2_bytes = " << l2Bytes;
  if (gpuThreads < 0 || gpuSharedBytes < 0 || (gpuThreads == 0) != (gpuSharedBytes == 0))
    return emitError() << "gpu_threads and gpu_shared_bytes must both be positive "
                          "(a GPU target) or both 0, got "
                       << gpuThreads << " and " << gpuSharedBytes;
  return success();
}

LogicalResult TileAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               ArrayRef<int64_t> tiles, int64_t vector,
                               ArrayRef<int64_t> parallel) {
  if (tiles.empty())
    return emitError() << "tiles must name at least one loop";
  // The bounds keep every product of sizes (threads, unrolled registers)
  // far from overflow.
  for (auto [loop, size] : llvm::enumerate(tiles))
    if (size < 1 || size > 4096)
      return emitError() << "tile size of loop " << loop
                         << " must be between 1 and 4096, got " << size;
  if (vector < 1 || vector > 64)
    return emitError() << "vector must be between 1 and 64, got " << vector;
  llvm::SmallSet<int64_t, 4> seen;
  for (int64_t loop : parallel) {
    if (loop < 0 || loop >= static_cast<int64_t>(tiles.size()))
      return emitError() << "parallel loop " << loop
                         << " is out of range: tiles has " << tiles.size()
                         << " loops";
    if (!seen.insert(loop).second)
      return emitError() << "parallel loop " << loop << " is listed twice";
  }
  return success();
}
