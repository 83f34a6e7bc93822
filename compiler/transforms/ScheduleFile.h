//===- ScheduleFile.h - per-kernel settings from a JSON file -------------===//
//
// A schedule file sets, per kernel, tile parameters by name (vit-select-
// tiles) and the kernel's precision (vit-quantize-weights). Kernels are
// matched by op name ("vit.fused_mlp") or location name ("blocks.3.mlp");
// location entries apply over op-name entries.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_TRANSFORMS_SCHEDULEFILE_H
#define VITC_COMPILER_TRANSFORMS_SCHEDULEFILE_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/JSON.h"

#include <string>

namespace mlir::vit {

/// The setting of the kernel's precision in a schedule file entry (the other
/// names are tile parameters).
inline constexpr llvm::StringLiteral kPrecisionSetting = "precision";

/// A schedule file: per kernel key, the settings it makes, sorted by name.
struct ScheduleFile {
  llvm::StringMap<SmallVector<std::pair<std::string, llvm::json::Value>>>
      entries;
  llvm::StringSet<> used;
};

/// Reads `path` (nothing when it is empty) and checks the file's shape (an
/// object of objects); what is wrong is reported as an error at `module`.
LogicalResult readScheduleFile(StringRef path, ScheduleFile &file,
                               Operation *module);

/// The keys that can name `op`: its op name, then its location name.
SmallVector<std::string, 2> scheduleKeys(Operation *op);

} // namespace mlir::vit

#endif // VITC_COMPILER_TRANSFORMS_SCHEDULEFILE_H
