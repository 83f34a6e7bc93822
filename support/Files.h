//===- Files.h - reading input files with bounds --------------------------===//
//
// Every file vitc and vit-run read whole (checkpoints, .npy inputs) goes
// through here: only regular files are read (a device such as /dev/zero
// never ends, a FIFO may never be written), and a file larger than its
// format allows is refused before it is read.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_SUPPORT_FILES_H
#define VITC_SUPPORT_FILES_H

#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>

namespace vitc {

/// The largest JSON file vitc reads (configs, schedule files): they are a
/// few KiB.
constexpr uint64_t kMaxJsonFileBytes = 16 << 20;

/// Checks that `path` is a regular file of at most `maxBytes` bytes (0: no
/// limit); `what` names it in the error ("weights file", "input").
llvm::Error checkRegularFile(llvm::StringRef path, llvm::StringRef what,
                             uint64_t maxBytes = 0);

/// Reads `path` whole after checkRegularFile.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readRegularFile(llvm::StringRef path, llvm::StringRef what,
                uint64_t maxBytes = 0);

} // namespace vitc

#endif // VITC_SUPPORT_FILES_H
