//===- ElementTypeTest.cpp - element types and their f32 conversions ------===//
//
// The encoders round to nearest even like the hardware and the frameworks
// that produce checkpoints (PyTorch, ml_dtypes), so a tensor vitc writes in
// bf16 or f16 holds the same bits theirs would. Each rounding boundary is
// checked on both sides, and every finite half and bfloat16 survives a round
// trip through f32 unchanged.
//
//===----------------------------------------------------------------------===//

#include "support/Tensor.h"

#include "llvm/ADT/bit.h"
#include <cmath>
#include <gtest/gtest.h>
#include <limits>

using namespace vitc;

namespace {

float fromBits(uint32_t bits) { return llvm::bit_cast<float>(bits); }

TEST(ElementType, NamesSizesAndSafetensorsDtypes) {
  struct Expected {
    ElementType type;
    const char *name, *dtype;
    unsigned size;
  };
  for (const Expected &e : {Expected{ElementType::F32, "f32", "F32", 4},
                            Expected{ElementType::BF16, "bf16", "BF16", 2},
                            Expected{ElementType::F16, "f16", "F16", 2},
                            Expected{ElementType::I8, "i8", "I8", 1}}) {
    EXPECT_EQ(elementTypeName(e.type), e.name);
    EXPECT_EQ(safetensorsDtype(e.type), e.dtype);
    EXPECT_EQ(elementSize(e.type), e.size) << e.name;
    EXPECT_EQ(parseSafetensorsDtype(e.dtype), e.type) << e.dtype;
  }
  // Dtypes vitc reads but never stores, and names in the wrong case.
  EXPECT_EQ(parseSafetensorsDtype("F64"), std::nullopt);
  EXPECT_EQ(parseSafetensorsDtype("U8"), std::nullopt);
  EXPECT_EQ(parseSafetensorsDtype("f32"), std::nullopt);
  EXPECT_EQ(Tensor().type, ElementType::F32);
}

TEST(Bfloat16Encoding, RoundsToNearestEven) {
  EXPECT_EQ(floatToBfloat16(1.0f), 0x3f80);
  EXPECT_EQ(floatToBfloat16(-5.0f), 0xc0a0);
  // Halfway between 0x3f80 (even) and 0x3f81: down; just above: up.
  EXPECT_EQ(floatToBfloat16(fromBits(0x3f808000)), 0x3f80);
  EXPECT_EQ(floatToBfloat16(fromBits(0x3f808001)), 0x3f81);
  EXPECT_EQ(floatToBfloat16(fromBits(0x3f807fff)), 0x3f80);
  // Halfway between 0x3f81 (odd) and 0x3f82: up, to the even one.
  EXPECT_EQ(floatToBfloat16(fromBits(0x3f818000)), 0x3f82);
  EXPECT_EQ(floatToBfloat16(fromBits(0xbf818000)), 0xbf82);
  // A carry out of the mantissa moves to the next binade.
  EXPECT_EQ(floatToBfloat16(fromBits(0x3fffc000)), 0x4000);
  // Beyond the largest bfloat16 by half an ulp or more: infinity.
  EXPECT_EQ(floatToBfloat16(fromBits(0x7f7fffff)), 0x7f80);
  EXPECT_EQ(floatToBfloat16(-INFINITY), 0xff80);
}

TEST(Bfloat16Encoding, NanStaysNan) {
  // Rounding or truncating this NaN's bits would give infinity (0x7f80).
  for (uint32_t bits : {0x7f800001u, 0xff800001u, 0x7fc00000u, 0x7fffffffu}) {
    uint16_t encoded = floatToBfloat16(fromBits(bits));
    EXPECT_TRUE(std::isnan(bfloat16ToFloat(encoded))) << std::hex << bits;
    EXPECT_EQ(encoded >> 15, bits >> 31) << "sign of " << std::hex << bits;
  }
}

TEST(Bfloat16Encoding, EveryNonNanBfloat16RoundTrips) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    float value = bfloat16ToFloat(bits);
    if (std::isnan(value))
      continue;
    ASSERT_EQ(floatToBfloat16(value), bits) << std::hex << bits;
  }
}

TEST(HalfEncoding, RoundsToNearestEven) {
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(floatToHalf(0.0f), 0x0000);
  EXPECT_EQ(floatToHalf(-0.0f), 0x8000);
  // 1 + 2^-11 is halfway between 1 (even) and 1 + 2^-10: down.
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)),
            0x3c01);
  // 1 + 3·2^-11 is halfway between 0x3c01 (odd) and 0x3c02: up.
  EXPECT_EQ(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(floatToHalf(-(1.0f + 3 * std::ldexp(1.0f, -11))), 0xbc02);
  // A carry out of the mantissa moves to the next binade.
  EXPECT_EQ(floatToHalf(2.0f - std::ldexp(1.0f, -12)), 0x4000);
}

TEST(HalfEncoding, OverflowsToInfinity) {
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff); // the largest half
  EXPECT_EQ(floatToHalf(65519.0f), 0x7bff); // below the halfway point
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00); // halfway, to the even: infinity
  EXPECT_EQ(floatToHalf(1e6f), 0x7c00);
  EXPECT_EQ(floatToHalf(-1e6f), 0xfc00);
  EXPECT_EQ(floatToHalf(INFINITY), 0x7c00);
  EXPECT_EQ(floatToHalf(-INFINITY), 0xfc00);
}

TEST(HalfEncoding, SubnormalsRoundToNearestEvenAndUnderflowToZero) {
  float unit = std::ldexp(1.0f, -24); // the smallest subnormal half
  EXPECT_EQ(floatToHalf(unit), 0x0001);
  EXPECT_EQ(floatToHalf(unit / 2), 0x0000); // halfway, to the even: zero
  EXPECT_EQ(floatToHalf(-unit / 2), 0x8000);
  EXPECT_EQ(floatToHalf(unit * 0.75f), 0x0001);
  EXPECT_EQ(floatToHalf(unit * 1.5f), 0x0002); // halfway between 1 and 2 units
  EXPECT_EQ(floatToHalf(unit * 2.5f), 0x0002); // halfway between 2 and 3 units
  EXPECT_EQ(floatToHalf(unit * 1023.5f), 0x0400); // up to the smallest normal
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -14)), 0x0400);
  EXPECT_EQ(floatToHalf(std::numeric_limits<float>::denorm_min()), 0x0000);
}

TEST(HalfEncoding, NanStaysNan) {
  for (uint32_t bits : {0x7f800001u, 0xff800001u, 0x7fc00000u, 0x7fffffffu}) {
    uint16_t encoded = floatToHalf(fromBits(bits));
    EXPECT_TRUE(std::isnan(halfToFloat(encoded))) << std::hex << bits;
    EXPECT_EQ(encoded >> 15, bits >> 31) << "sign of " << std::hex << bits;
  }
}

TEST(HalfEncoding, EveryNonNanHalfRoundTrips) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    float value = halfToFloat(bits);
    if (std::isnan(value))
      continue;
    ASSERT_EQ(floatToHalf(value), bits) << std::hex << bits;
  }
}

} // namespace
