//===- Checkpoint.cpp - tensors, dtype conversion, reading by format ------===//

#include "support/Checkpoint.h"

#include "llvm/Support/MemoryBuffer.h"
#include <cmath>
#include <cstring>

using namespace vitc;
using llvm::Error;
using llvm::StringRef;

int64_t Tensor::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

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

float vitc::halfToFloat(uint16_t bits) {
  uint32_t sign = (bits >> 15) & 1, exponent = (bits >> 10) & 0x1f,
           mantissa = bits & 0x3ff;
  float magnitude;
  if (exponent == 0) // zero or subnormal
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    magnitude = mantissa ? NAN : INFINITY;
  else
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400),
                           static_cast<int>(exponent) - 25);
  return sign ? -magnitude : magnitude;
}

float vitc::bfloat16ToFloat(uint16_t bits) {
  uint32_t widened = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &widened, sizeof value);
  return value;
}

llvm::Expected<Checkpoint> vitc::readCheckpoint(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "cannot read weights file '" + path +
                                       "': " + buffer.getError().message());
  StringRef bytes = (*buffer)->getBuffer();
  // A zip archive (.npz) starts with a local file header, "PK\3\4".
  if (bytes.starts_with(StringRef("PK\x03\x04", 4)))
    return parseNpz(bytes, path);
  return parseSafetensors(bytes, path);
}
