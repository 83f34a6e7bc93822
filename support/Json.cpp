//===- Json.cpp - JSON nesting bound before parsing -----------------------===//
//
// The depth scan behind checkJsonDepth: one pass over the bytes with a
// counter, so it cannot itself run out of stack whatever the input.
//
//===----------------------------------------------------------------------===//

#include "support/Json.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

using namespace vitc;

size_t vitc::jsonNestingDepth(llvm::StringRef text) {
  size_t depth = 0, deepest = 0;
  bool inString = false;
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    char c = text[i];
    if (inString) {
      // A backslash escapes the next character, so "\"" does not end the
      // string and "\\" does not escape the closing quote.
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
      continue;
    }
    switch (c) {
    case '"':
      inString = true;
      break;
    case '[':
    case '{':
      deepest = std::max(deepest, ++depth);
      break;
    case ']':
    case '}':
      // Unbalanced closers are the parser's to report; do not wrap around.
      if (depth > 0)
        --depth;
      break;
    default:
      break;
    }
  }
  return deepest;
}

llvm::Error vitc::checkJsonDepth(llvm::StringRef text,
                                 const llvm::Twine &what) {
  size_t depth = jsonNestingDepth(text);
  if (depth <= kMaxJsonDepth)
    return llvm::Error::success();
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      what +
          llvm::formatv(" nests JSON {0} levels deep; vitc reads at most {1}",
                        depth, kMaxJsonDepth)
              .str());
}
