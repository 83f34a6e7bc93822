// runtime/model/amx_gemm.c, the extern AMX GEMMs of bf16 and int8 kernels on
// AMX targets, compiled with its scalar model of the tile instructions: the
// blocking, tails, strides and bounds queries checked on any CPU against
// sums in double (bf16) or int64 (int8) of the same values.

#include "HalideBuffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

extern "C" int vitc_amx_bf16_gemm(halide_buffer_t *lhs, halide_buffer_t *weight,
                                  int k, halide_buffer_t *out);
extern "C" int vitc_amx_int8_gemm(halide_buffer_t *lhs, halide_buffer_t *weight,
                                  int k, halide_buffer_t *out);

namespace {

using Halide::Runtime::Buffer;

uint16_t bf16Bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return static_cast<uint16_t>(bits >> 16); // values chosen exact in bf16
}
double bf16Value(uint16_t bits) {
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &wide, 4);
  return value;
}

struct Case {
  int k, rows, batch, columns, firstColumn;
};

/// out(x, rows, batch) for x in [firstColumn, firstColumn + columns), of a
/// weight with `firstColumn + columns + 16` columns, from an lhs whose rows
/// are padded (row stride k + 8).
void check(const Case &c) {
  std::mt19937 random(c.k * 131 + c.rows);
  // Small integers times 1/8: exact in bf16, their sums exact in f32.
  std::uniform_int_distribution<int> small(-8, 8);
  auto value = [&] { return small(random) / 8.0f; };
  const int width = c.firstColumn + c.columns + 16;
  halide_dimension_t lhsDims[3] = {{0, c.k, 1, 0},
                                   {0, c.rows, c.k + 8, 0},
                                   {0, c.batch, (c.k + 8) * c.rows, 0}};
  Buffer<uint16_t> lhs(nullptr, 3, lhsDims);
  lhs.allocate();
  lhs.for_each_value([&](uint16_t &v) { v = bf16Bits(value()); });
  Buffer<uint16_t> weight(2, 16, c.k / 2, width / 16);
  weight.for_each_value([&](uint16_t &v) { v = bf16Bits(value()); });
  Buffer<float> out(c.columns, c.rows, c.batch);
  out.set_min(c.firstColumn, 0, 0);
  out.fill(-1.0f);
  ASSERT_EQ(vitc_amx_bf16_gemm(lhs.raw_buffer(), weight.raw_buffer(), c.k,
                               out.raw_buffer()),
            0);
  for (int b = 0; b < c.batch; ++b)
    for (int y = 0; y < c.rows; ++y)
      for (int x = c.firstColumn; x < c.firstColumn + c.columns; ++x) {
        double sum = 0;
        for (int k = 0; k < c.k; ++k)
          sum += bf16Value(lhs(k, y, b)) *
                 bf16Value(weight(k % 2, x % 16, k / 2, x / 16));
        ASSERT_EQ(out(x, y, b), sum)
            << "k " << c.k << ", rows " << c.rows << ": out(" << x << ", "
            << y << ", " << b << ")";
      }
}

/// The int8 GEMM of the same shapes: u8 rows times s8 weights in groups of
/// 4 k, i32 sums.
void checkInt8(const Case &c) {
  std::mt19937 random(c.k * 7 + c.rows);
  std::uniform_int_distribution<int> u8(0, 255), s8(-127, 127);
  const int width = c.firstColumn + c.columns + 16;
  halide_dimension_t lhsDims[3] = {{0, c.k, 1, 0},
                                   {0, c.rows, c.k + 8, 0},
                                   {0, c.batch, (c.k + 8) * c.rows, 0}};
  Buffer<uint8_t> lhs(nullptr, 3, lhsDims);
  lhs.allocate();
  lhs.for_each_value([&](uint8_t &v) { v = static_cast<uint8_t>(u8(random)); });
  Buffer<int8_t> weight(4, 16, c.k / 4, width / 16);
  weight.for_each_value([&](int8_t &v) { v = static_cast<int8_t>(s8(random)); });
  Buffer<int32_t> out(c.columns, c.rows, c.batch);
  out.set_min(c.firstColumn, 0, 0);
  out.fill(-1);
  ASSERT_EQ(vitc_amx_int8_gemm(lhs.raw_buffer(), weight.raw_buffer(), c.k,
                               out.raw_buffer()),
            0);
  for (int b = 0; b < c.batch; ++b)
    for (int y = 0; y < c.rows; ++y)
      for (int x = c.firstColumn; x < c.firstColumn + c.columns; ++x) {
        int64_t sum = 0;
        for (int k = 0; k < c.k; ++k)
          sum += int64_t(lhs(k, y, b)) * weight(k % 4, x % 16, k / 4, x / 16);
        ASSERT_EQ(out(x, y, b), sum)
            << "k " << c.k << ", rows " << c.rows << ": out(" << x << ", "
            << y << ", " << b << ")";
      }
}

TEST(AmxGemm, WholeTilesOfRowsColumnsAndK) { check({64, 32, 1, 32, 0}); }

TEST(AmxGemm, ShortRowBlocksAndAKTailOfEveryWidth) {
  // 37 rows: blocks of 16, 16 and 5; k 72: two steps of 32 and a tail of 8.
  check({72, 37, 2, 64, 0});
  for (int k = 2; k <= 34; k += 2)
    check({k, 3, 1, 16, 0});
}

TEST(AmxGemm, AnOddGroupAndAColumnBlockPastTheFirst) {
  // 3 groups of 16 (two, then one) starting at column 32.
  check({96, 20, 2, 48, 32});
  check({32, 1, 1, 16, 16});
}

TEST(AmxGemm, Int8TilesTailsAndOffsets) {
  // k 200: three steps of 64 and a tail of 8; 37 rows; three groups from 32.
  checkInt8({64, 32, 1, 32, 0});
  checkInt8({200, 37, 2, 48, 32});
  for (int k = 4; k <= 68; k += 4)
    checkInt8({k, 3, 1, 16, 0});
}

TEST(AmxGemm, ABoundsQuerySaysWhatTheRegionReads) {
  // As Halide asks: the Func input (lhs) without memory, the weight (an
  // ImageParam) with its own.
  halide_dimension_t lhsDims[3] = {}, weightDims[4] = {};
  halide_buffer_t lhs = {}, weight = {};
  uint16_t weightMemory[1];
  lhs.dimensions = 3;
  lhs.dim = lhsDims;
  weight.dimensions = 4;
  weight.dim = weightDims;
  weight.host = reinterpret_cast<uint8_t *>(weightMemory);
  Buffer<float> out(48, 10, 2);
  out.set_min(32, 5, 1);
  ASSERT_EQ(vitc_amx_bf16_gemm(&lhs, &weight, 96, out.raw_buffer()), 0);
  EXPECT_EQ(lhsDims[0].min, 0);
  EXPECT_EQ(lhsDims[0].extent, 96);
  EXPECT_EQ(lhsDims[1].min, 5);
  EXPECT_EQ(lhsDims[1].extent, 10);
  EXPECT_EQ(lhsDims[2].min, 1);
  EXPECT_EQ(lhsDims[2].extent, 2);
  EXPECT_EQ(weightDims[2].extent, 48);
  EXPECT_EQ(weightDims[3].min, 2);
  EXPECT_EQ(weightDims[3].extent, 3);
  Buffer<int32_t> sums(48, 10);
  sums.set_min(32, 5);
  ASSERT_EQ(vitc_amx_int8_gemm(&lhs, &weight, 96, sums.raw_buffer()), 0);
  EXPECT_EQ(weightDims[0].extent, 4);
  EXPECT_EQ(weightDims[2].extent, 24);
}

TEST(AmxGemm, RegionsItCannotComputeAreRefused) {
  Buffer<uint16_t> lhs(64, 4), weight(2, 16, 32, 2);
  Buffer<float> out(8, 4); // not whole 16-column tiles
  EXPECT_NE(vitc_amx_bf16_gemm(lhs.raw_buffer(), weight.raw_buffer(), 64,
                               out.raw_buffer()),
            0);
  Buffer<float> whole(16, 4);
  EXPECT_NE(vitc_amx_bf16_gemm(lhs.raw_buffer(), weight.raw_buffer(), 63,
                               whole.raw_buffer()),
            0); // an odd k
  Buffer<uint8_t> bytes(64, 4); // int8 rows given to the bf16 kernel
  EXPECT_NE(vitc_amx_bf16_gemm(bytes.raw_buffer(), weight.raw_buffer(), 64,
                               whole.raw_buffer()),
            0);
  Buffer<float> pastTheWeight(16, 4); // columns 32-47: a third panel
  pastTheWeight.set_min(32, 0);
  EXPECT_NE(vitc_amx_bf16_gemm(lhs.raw_buffer(), weight.raw_buffer(), 64,
                               pastTheWeight.raw_buffer()),
            0);
  Buffer<float> moreRows(16, 5); // lhs has 4
  EXPECT_NE(vitc_amx_bf16_gemm(lhs.raw_buffer(), weight.raw_buffer(), 64,
                               moreRows.raw_buffer()),
            0);
}

} // namespace
