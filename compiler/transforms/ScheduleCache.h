//===- ScheduleCache.h - tiles measured on this machine, found again -----===//
//
// `vitc --tune` measures tiles per kernel and stores the fastest in the
// schedule cache, a directory of small JSON files (docs/PASSES.md). An entry
// applies to a kernel only when its key matches exactly: the CPU that
// measured it, the target description, the kernel (op, operand and result
// types, attributes; not its tile or location, so equal blocks of one model
// and equal kernels of two models share an entry), and the vitc and Halide
// versions. vit-select-tiles reads it; a corrupt or foreign entry is ignored
// with a warning.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_TRANSFORMS_SCHEDULECACHE_H
#define VITC_COMPILER_TRANSFORMS_SCHEDULECACHE_H

#include "dialect/VitDialect.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <functional>
#include <optional>
#include <string>

namespace mlir::vit {

/// What an entry was measured for; equal keys mean the same measurement.
struct ScheduleCacheKey {
  std::string cpu;    // the measuring CPU (model name, family, model, stepping)
  std::string target; // the #vit.target the kernel was tiled for
  std::string kernel; // op name, types and attributes (no tile, no location)
  std::string vitc, halide; // versions

  llvm::json::Object toJson() const;
  /// The entry's file name in the cache directory (a hash of the key).
  std::string fileName() const;
  bool operator==(const ScheduleCacheKey &o) const {
    return cpu == o.cpu && target == o.target && kernel == o.kernel &&
           vitc == o.vitc && halide == o.halide;
  }
};

/// This machine's CPU as keys name it, from /proc/cpuinfo ("unknown CPU"
/// elsewhere).
std::string hostCpuName();

/// The key of kernel op `op` tiled for `target`, measured on this CPU.
ScheduleCacheKey scheduleCacheKey(Operation *op, TargetAttr target);

/// The default cache directory: $VITC_SCHEDULE_CACHE if set (empty or
/// "off": no cache), else $XDG_CACHE_HOME/vitc/schedules, else
/// ~/.cache/vitc/schedules.
std::string defaultScheduleCacheDir();

/// An entry: the tile parameters by name (keywords as strings) and what
/// the tuner measured.
struct CachedSchedule {
  SmallVector<std::pair<std::string, llvm::json::Value>> settings;
  llvm::json::Object measured;
};

/// The entry for `key` in `dir`, if there is one; a file that cannot be
/// read or parsed, or holds another key, is reported through `warn` and
/// ignored.
std::optional<CachedSchedule>
lookupSchedule(StringRef dir, const ScheduleCacheKey &key,
               const std::function<void(const std::string &)> &warn);

/// Stores `tile` (a TileAttrInterface) for `key` in `dir` (created if
/// needed), atomically: written to a temporary file, then renamed.
llvm::Error storeSchedule(StringRef dir, const ScheduleCacheKey &key,
                          Attribute tile, llvm::json::Object measured);

/// The settings of `tile` by name, as an entry stores them.
SmallVector<std::pair<std::string, llvm::json::Value>>
tileSettings(Attribute tile);

} // namespace mlir::vit

#endif // VITC_COMPILER_TRANSFORMS_SCHEDULECACHE_H
