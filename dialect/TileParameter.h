//===- TileParameter.h - one named parameter of a tile attribute ----------===//
//
// Tiles are read and written by name (schedule files, tuning), whatever
// their kind; see TileAttrInterface in VitAttrs.td.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_DIALECT_TILEPARAMETER_H
#define VITC_DIALECT_TILEPARAMETER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace mlir::vit {

struct TileParameter {
  llvm::StringRef name;
  int64_t value;
  /// For a keyword-valued parameter (e.g. parallel = columns | rows): the
  /// keywords, which `value` indexes. Empty for sizes.
  llvm::ArrayRef<llvm::StringRef> keywords = {};
};

} // namespace mlir::vit

#endif // VITC_DIALECT_TILEPARAMETER_H
