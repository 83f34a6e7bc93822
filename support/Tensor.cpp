//===- Tensor.cpp - element types and their conversions to and from f32 ---===//
//
// The conversions work on bit patterns with integer arithmetic, so they do not
// depend on the floating-point environment (rounding mode, flush-to-zero).
//
//===----------------------------------------------------------------------===//

#include "support/Tensor.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/ErrorHandling.h"
#include <cmath>

using namespace vitc;
using llvm::StringRef;

StringRef vitc::elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "f32";
  case ElementType::BF16:
    return "bf16";
  case ElementType::F16:
    return "f16";
  case ElementType::I8:
    return "i8";
  }
  llvm_unreachable("unknown element type");
}

StringRef vitc::safetensorsDtype(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "F32";
  case ElementType::BF16:
    return "BF16";
  case ElementType::F16:
    return "F16";
  case ElementType::I8:
    return "I8";
  }
  llvm_unreachable("unknown element type");
}

std::optional<ElementType> vitc::parseSafetensorsDtype(StringRef dtype) {
  return llvm::StringSwitch<std::optional<ElementType>>(dtype)
      .Case("F32", ElementType::F32)
      .Case("BF16", ElementType::BF16)
      .Case("F16", ElementType::F16)
      .Case("I8", ElementType::I8)
      .Default(std::nullopt);
}

unsigned vitc::elementSize(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return 4;
  case ElementType::BF16:
  case ElementType::F16:
    return 2;
  case ElementType::I8:
    return 1;
  }
  llvm_unreachable("unknown element type");
}

int64_t Tensor::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
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
  return llvm::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

/// Shifts `value` right by `shift` bits (1 to 31), rounding to nearest even.
static uint32_t shiftRightRoundingToEven(uint32_t value, unsigned shift) {
  uint32_t kept = value >> shift, rest = value & ((1u << shift) - 1),
           half = 1u << (shift - 1);
  return kept + (rest > half || (rest == half && (kept & 1)));
}

uint16_t vitc::floatToHalf(float value) {
  uint32_t bits = llvm::bit_cast<uint32_t>(value);
  uint16_t sign = (bits >> 16) & 0x8000;
  uint32_t magnitude = bits & 0x7fffffff;
  if (magnitude > 0x7f800000) // NaN: keep the top of the payload, stay quiet
    return static_cast<uint16_t>(sign | 0x7e00 | ((magnitude >> 13) & 0x3ff));
  // 65520 is halfway between the largest half (65504, odd mantissa) and the
  // next power of two, so it and everything above round to infinity.
  if (magnitude >= 0x477ff000)
    return static_cast<uint16_t>(sign | 0x7c00);
  if (magnitude >= 0x38800000) { // a normal half (2^-14 and up)
    // Rebias the exponent from 127 to 15; a mantissa that rounds up carries
    // into the exponent, which is the right result.
    return static_cast<uint16_t>(
        sign | shiftRightRoundingToEven(magnitude - (112u << 23), 13));
  }
  // A subnormal half counts units of 2^-24: the float's significand (with its
  // implicit bit) is m·2^(e-150), i.e. m >> (126 - e) units.
  if (magnitude <= 0x33000000) // 2^-25 and less: zero (the tie goes to even)
    return sign;
  uint32_t exponent = magnitude >> 23;
  uint32_t significand = (magnitude & 0x7fffff) | 0x800000;
  return static_cast<uint16_t>(
      sign | shiftRightRoundingToEven(significand, 126 - exponent));
}

uint16_t vitc::floatToBfloat16(float value) {
  uint32_t bits = llvm::bit_cast<uint32_t>(value);
  // Truncating a NaN's payload could leave all-zero mantissa bits, i.e.
  // infinity; setting the quiet bit keeps it a NaN.
  if ((bits & 0x7fffffff) > 0x7f800000)
    return static_cast<uint16_t>((bits >> 16) | 0x0040);
  return static_cast<uint16_t>(shiftRightRoundingToEven(bits, 16));
}
