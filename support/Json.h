//===- Json.h - checks of untrusted JSON before parsing ---------*- C++ -*-===//
//
// llvm::json::parse recurses once per nested array or object and keeps no
// depth limit, so a file of 100000 '[' overflows the stack (and so would the
// recursive destructor of the value it built); and it keeps the last of two
// equal keys silently, where other readers (Python's json keeps the last,
// others the first or refuse) may disagree about what a file says. Every
// reader of untrusted JSON (safetensors headers, model config files, schedule
// files) checks both with a flat scan and refuses the text before parsing.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_SUPPORT_JSON_H
#define VITC_SUPPORT_JSON_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <optional>
#include <string>

namespace vitc {

/// The deepest nesting of arrays and objects vitc reads. The deepest real
/// input is a safetensors header (object / tensor entry / shape array: 3
/// levels); 64 leaves ample room and keeps llvm::json::parse far from the
/// stack limit.
constexpr size_t kMaxJsonDepth = 64;

/// Returns the deepest nesting of '[' and '{' in `text`, not counting
/// brackets inside string literals (escapes included). It never fails: text
/// that is not JSON is left for the parser to reject.
size_t jsonNestingDepth(llvm::StringRef text);

/// The first key that appears twice in one object of `text` (compared as
/// written, escapes included), if any; text that is not JSON is left for the
/// parser. Keys of different objects do not meet.
std::optional<std::string> firstDuplicateKey(llvm::StringRef text);

/// Fails when `text` nests deeper than kMaxJsonDepth ("<what> nests JSON <n>
/// levels deep; vitc reads at most 64") or repeats a key within an object,
/// where `what` names the input (e.g. "schedule file 'x.json'"). Call it on
/// the text before llvm::json::parse.
llvm::Error checkJsonInput(llvm::StringRef text, const llvm::Twine &what);

} // namespace vitc

#endif // VITC_SUPPORT_JSON_H
