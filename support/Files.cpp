//===- Files.cpp - reading input files with bounds ------------------------===//

#include "support/Files.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

using llvm::Error;

Error vitc::checkRegularFile(llvm::StringRef path, llvm::StringRef what,
                             uint64_t maxBytes) {
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(path, status))
    return llvm::createStringError(ec, "cannot read " + what + " '" + path +
                                           "': " + ec.message());
  if (status.type() != llvm::sys::fs::file_type::regular_file)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "cannot read " + what + " '" + path +
            "': not a regular file (a directory, device or pipe); give a "
            "file");
  if (maxBytes && status.getSize() > maxBytes)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("cannot read {0} '{1}': it is {2} bytes, more than the "
                      "{3} allowed (split it into smaller files)",
                      what, path, status.getSize(), maxBytes));
  return Error::success();
}

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
vitc::readRegularFile(llvm::StringRef path, llvm::StringRef what,
                      uint64_t maxBytes) {
  if (Error err = checkRegularFile(path, what, maxBytes))
    return err;
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "cannot read " + what + " '" + path +
                                       "': " + buffer.getError().message());
  return std::move(*buffer);
}
