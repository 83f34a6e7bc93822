//===- Checkpoint.h - reading and writing weight files --------------------===//
//
// Checkpoints come as safetensors (timm, Hugging Face) or as the official
// .npz archives of google-research/vision_transformer. Readers check every
// byte they rely on (header sizes, offsets, dtypes, shapes against data
// lengths) and convert f16/bf16/f64 to f32. Errors name the file and the key.
//
// The parse* functions work on bytes in memory, so the fuzzers can drive them
// without touching the file system.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_SUPPORT_CHECKPOINT_H
#define VITC_SUPPORT_CHECKPOINT_H

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vitc {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data; // row-major, shape's product elements

  int64_t numElements() const;
};

/// Named f32 tensors, in the order the file stored them.
struct Checkpoint {
  std::string path;
  std::vector<std::string> names;
  llvm::StringMap<Tensor> tensors;

  /// Adds a tensor; fails on a duplicate name.
  llvm::Error add(const std::string &name, Tensor tensor);
  const Tensor *find(llvm::StringRef name) const;
};

llvm::Expected<Checkpoint> parseSafetensors(llvm::StringRef bytes,
                                            llvm::StringRef path);
llvm::Expected<Tensor> parseNpy(llvm::StringRef bytes, llvm::StringRef what);
llvm::Expected<Checkpoint> parseNpz(llvm::StringRef bytes,
                                    llvm::StringRef path);

/// Reads a .safetensors or .npz file, chosen by its first bytes.
llvm::Expected<Checkpoint> readCheckpoint(llvm::StringRef path);

/// The safetensors header (8-byte length, then JSON padded with spaces to a
/// multiple of 8) for f32 tensors of these shapes stored back to back in this
/// order. Depends only on names, shapes and metadata, so a library can embed
/// the header of the weights file it expects.
std::string safetensorsHeader(
    const std::vector<std::pair<std::string, std::vector<int64_t>>> &tensors,
    const std::map<std::string, std::string> &metadata);

/// Writes f32 tensors as a safetensors file (header padded to 8 bytes, data
/// in the given order), with optional string metadata.
llvm::Error writeSafetensors(
    llvm::StringRef path,
    const std::vector<std::pair<std::string, const Tensor *>> &tensors,
    const std::map<std::string, std::string> &metadata);

/// Writes a float32 little-endian .npy array (version 1).
llvm::Error writeNpy(llvm::StringRef path, const Tensor &tensor);

/// Reads a .npy file.
llvm::Expected<Tensor> readNpy(llvm::StringRef path);

/// IEEE half and bfloat16 bit patterns to float.
float halfToFloat(uint16_t bits);
float bfloat16ToFloat(uint16_t bits);

} // namespace vitc

#endif // VITC_SUPPORT_CHECKPOINT_H
