//===- Tensor.h - tensors and the element types vitc stores ---------------===//
//
// A Tensor is a shape and its values in row-major order, plus the element
// type it is stored as.
//
// Every element type vitc stores (f32, bf16, f16, i8) is exactly
// representable in f32, so a Tensor keeps its values as floats in `data`
// whatever its type, and `type` says how it is stored in files and which
// values it may hold. Code that computes on weights (layout conversion,
// position-embedding resize) then needs one implementation, not one per
// type; the conversion happens only at the file boundary. Readers convert
// every dtype they accept to f32 and produce F32 tensors; writers encode each
// tensor in its own type (see writeSafetensors).
//
//===----------------------------------------------------------------------===//

#ifndef VITC_SUPPORT_TENSOR_H
#define VITC_SUPPORT_TENSOR_H

#include "llvm/ADT/StringRef.h"
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vitc {

enum class ElementType : uint8_t { F32, BF16, F16, I8 };

/// The type's name in vitc's messages and IR: "f32", "bf16", "f16", "i8".
llvm::StringRef elementTypeName(ElementType type);

/// The type's safetensors dtype: "F32", "BF16", "F16", "I8".
llvm::StringRef safetensorsDtype(ElementType type);

/// The element type stored as this safetensors dtype; none for the dtypes
/// vitc reads but never stores (F64, U8) and for unknown ones.
std::optional<ElementType> parseSafetensorsDtype(llvm::StringRef dtype);

/// Bytes per stored element: 4, 2, 2, 1.
unsigned elementSize(ElementType type);

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data; // row-major, shape's product elements
  ElementType type = ElementType::F32;

  int64_t numElements() const;
};

/// Tensors by name, in an order that matters (a model's parameters).
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

/// IEEE half and bfloat16 bit patterns to float (exact).
float halfToFloat(uint16_t bits);
float bfloat16ToFloat(uint16_t bits);

/// Float to IEEE half, rounding to nearest even: magnitudes of 65520 and
/// more become infinity, of 2^-25 and less zero; NaN stays NaN.
uint16_t floatToHalf(float value);

/// Float to bfloat16, rounding to nearest even (finite values beyond the
/// largest bfloat16 become infinity); NaN stays NaN.
uint16_t floatToBfloat16(float value);

} // namespace vitc

#endif // VITC_SUPPORT_TENSOR_H
