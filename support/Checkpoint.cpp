//===- Checkpoint.cpp - named tensors, reading a file by its format -------===//

#include "support/Checkpoint.h"
#include "support/Files.h"

#include "llvm/Support/MemoryBuffer.h"

using namespace vitc;
using llvm::Error;
using llvm::StringRef;

Error Checkpoint::add(const std::string &name, Tensor tensor) {
  if (!tensors.try_emplace(name, std::move(tensor)).second)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": tensor '" + name +
                                       "' appears twice");
  names.push_back(name);
  return Error::success();
}

const Tensor *Checkpoint::find(StringRef name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

llvm::Expected<Checkpoint> vitc::readCheckpoint(StringRef path) {
  auto buffer = readRegularFile(path, "weights file");
  if (!buffer)
    return buffer.takeError();
  StringRef bytes = (*buffer)->getBuffer();
  // A zip archive (.npz) starts with a local file header, "PK\3\4".
  if (bytes.starts_with(StringRef("PK\x03\x04", 4)))
    return parseNpz(bytes, path);
  // A file named .npz that is not a zip archive would otherwise be judged
  // as safetensors, and the message would be about the wrong format.
  if (path.ends_with_insensitive(".npz"))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        path + ": not a zip archive (an .npz file is one); the file is "
               "damaged or not an .npz");
  // A mapped file's pages are released as its tensors are converted; the
  // buffer is dropped right after.
  return parseSafetensors(bytes, path,
                          (*buffer)->getBufferKind() ==
                              llvm::MemoryBuffer::MemoryBuffer_MMap);
}
