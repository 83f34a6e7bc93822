//===- Json.cpp - JSON nesting bound before parsing -----------------------===//
//
// The depth scan behind checkJsonInput: one pass over the bytes with a
// counter, so it cannot itself run out of stack whatever the input.
//
//===----------------------------------------------------------------------===//

#include "support/Json.h"

#include "llvm/Support/FormatVariadic.h"

#include "llvm/ADT/StringSet.h"

#include <algorithm>
#include <vector>

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

std::optional<std::string> vitc::firstDuplicateKey(llvm::StringRef text) {
  // One frame per open array or object; an object remembers its keys and
  // whether the next string is a key (after '{' or ',') or a value.
  struct Frame {
    bool object;
    bool expectKey;
    llvm::StringSet<> keys;
  };
  std::vector<Frame> open;
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    switch (char c = text[i]) {
    case '"': {
      size_t start = i + 1, end = start;
      while (end < e && text[end] != '"')
        end += text[end] == '\\' ? 2 : 1;
      i = end;
      if (open.empty() || !open.back().object || !open.back().expectKey)
        break;
      open.back().expectKey = false;
      llvm::StringRef key = text.slice(start, std::min(end, e));
      if (!open.back().keys.insert(key).second)
        return key.str();
      break;
    }
    case '{':
    case '[':
      open.push_back({c == '{', c == '{', {}});
      break;
    case '}':
    case ']':
      if (!open.empty())
        open.pop_back();
      break;
    case ',':
      if (!open.empty() && open.back().object)
        open.back().expectKey = true;
      break;
    default:
      break;
    }
  }
  return std::nullopt;
}

llvm::Error vitc::checkJsonInput(llvm::StringRef text,
                                 const llvm::Twine &what) {
  size_t depth = jsonNestingDepth(text);
  if (depth > kMaxJsonDepth)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        what +
            llvm::formatv(" nests JSON {0} levels deep; vitc reads at most {1}",
                          depth, kMaxJsonDepth)
                .str());
  // Only after the depth check: the scan keeps a frame per open level.
  if (std::optional<std::string> key = firstDuplicateKey(text))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        what + " has the key '" + *key +
            "' twice in one object; vitc refuses it (readers disagree on "
            "which one counts)");
  return llvm::Error::success();
}
