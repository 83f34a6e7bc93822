//===- ModelName.cpp - the names a model library's file name gives --------===//

#include "support/ModelName.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"

std::string vitc::modelIdentifier(llvm::StringRef libraryPath) {
  llvm::StringRef stem = llvm::sys::path::stem(libraryPath);
  stem.consume_front("lib");
  std::string id;
  for (char c : stem)
    id += llvm::isAlnum(c) ? c : '_';
  if (id.empty() || llvm::isDigit(id[0]))
    id = "m_" + id;
  return id;
}
