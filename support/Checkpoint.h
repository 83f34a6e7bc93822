//===- Checkpoint.h - reading and writing weight files --------------------===//
//
// Checkpoints come as safetensors (timm, Hugging Face) or as the official
// .npz archives of google-research/vision_transformer. Readers check every
// byte they rely on (header sizes, offsets, dtypes, shapes against data
// lengths) and convert f16/bf16/f64/i8/u8 to f32, producing F32 tensors.
// Errors name the file and the key. The safetensors writer stores each
// tensor in its own element type.
//
// The parse* functions work on bytes in memory, so the fuzzers can drive them
// without touching the file system.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_SUPPORT_CHECKPOINT_H
#define VITC_SUPPORT_CHECKPOINT_H

#include "support/Tensor.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vitc {

/// Named tensors, in the order the file stored them.
struct Checkpoint {
  std::string path;
  std::vector<std::string> names;
  llvm::StringMap<Tensor> tensors;

  /// Adds a tensor; fails on a duplicate name.
  llvm::Error add(const std::string &name, Tensor tensor);
  const Tensor *find(llvm::StringRef name) const;
};

/// With `releaseConverted`, each tensor's bytes are given back to the OS
/// once converted (madvise(MADV_DONTNEED): for a mapped file that the caller
/// drops after parsing; on anonymous memory they would read as zeros).
llvm::Expected<Checkpoint> parseSafetensors(llvm::StringRef bytes,
                                            llvm::StringRef path,
                                            bool releaseConverted = false);
llvm::Expected<Tensor> parseNpy(llvm::StringRef bytes, llvm::StringRef what);
llvm::Expected<Checkpoint> parseNpz(llvm::StringRef bytes,
                                    llvm::StringRef path);

/// Reads a .safetensors or .npz file, chosen by its first bytes.
llvm::Expected<Checkpoint> readCheckpoint(llvm::StringRef path);

/// One tensor of a safetensors file, as its header describes it.
struct SafetensorsEntry {
  std::string name;
  ElementType type = ElementType::F32;
  std::vector<int64_t> shape;
};

/// The safetensors header (8-byte length, then JSON padded with spaces to a
/// multiple of 8) for tensors of these types and shapes stored back to back
/// in this order. Depends only on names, types, shapes and metadata, so a
/// library can embed the header of the weights file it expects.
std::string
safetensorsHeader(const std::vector<SafetensorsEntry> &tensors,
                  const std::map<std::string, std::string> &metadata);

} // namespace vitc
namespace llvm {
class raw_fd_ostream;
} // namespace llvm
namespace vitc {

/// Writes a safetensors file one tensor at a time, in the order of the
/// entries its header was made from, so that a writer needs only the tensor
/// at hand in memory (vitc packs each weight and drops it). Each tensor is
/// stored in its entry's element type: F32 as is; BF16 and F16 rounded to
/// nearest even (F16 overflows to infinity); I8 refuses a tensor holding
/// anything but integers in [-128, 127], naming it. The data goes to a
/// temporary file beside `path`, renamed to it by finish(): a failed write
/// leaves no partial file.
class SafetensorsWriter {
public:
  static llvm::Expected<std::unique_ptr<SafetensorsWriter>>
  create(llvm::StringRef path, std::vector<SafetensorsEntry> entries,
         const std::map<std::string, std::string> &metadata);
  ~SafetensorsWriter();

  /// Writes the next entry's data; `tensor` must have its type and shape.
  llvm::Error append(llvm::StringRef name, const Tensor &tensor);
  /// Checks that every entry was written, then moves the file into place.
  llvm::Error finish();

private:
  SafetensorsWriter() = default;
  std::string path, temporary;
  std::vector<SafetensorsEntry> entries;
  size_t next = 0;
  std::unique_ptr<llvm::raw_fd_ostream> out;
};

/// Writes tensors as a safetensors file (header padded to 8 bytes, data in
/// the given order), each in its own element type, with optional string
/// metadata, as SafetensorsWriter does; nothing is written if one fails.
llvm::Error writeSafetensors(
    llvm::StringRef path,
    const std::vector<std::pair<std::string, const Tensor *>> &tensors,
    const std::map<std::string, std::string> &metadata);

/// Writes a float32 little-endian .npy array (version 1).
llvm::Error writeNpy(llvm::StringRef path, const Tensor &tensor);

/// Reads a .npy file (a regular file of at most `maxBytes` bytes; 0: no
/// limit).
llvm::Expected<Tensor> readNpy(llvm::StringRef path, uint64_t maxBytes = 0);

} // namespace vitc

#endif // VITC_SUPPORT_CHECKPOINT_H
