//===- VitAttrsTest.cpp - parsing and checking #vit.target, #vit.tile -----===//

#include "dialect/VitDialect.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"
#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::vit;

namespace {

std::string print(Attribute attr) {
  std::string text;
  llvm::raw_string_ostream(text) << attr;
  return text;
}

class AttrTest : public ::testing::Test {
protected:
  AttrTest()
      : handler(&context, [this](Diagnostic &diag) {
          messages.push_back(diag.str());
          return success();
        }) {
    context.loadDialect<VitDialect>();
  }

  Attribute parse(StringRef text) { return parseAttribute(text, &context); }

  MLIRContext context;
  std::vector<std::string> messages;
  ScopedDiagnosticHandler handler;
};

TEST_F(AttrTest, TargetFieldsRoundTrip) {
  auto target = dyn_cast_or_null<TargetAttr>(
      parse("#vit.target<target = \"x86-64-linux-avx2\", vector_bits = 256, "
            "cores = 2, "
            "l1_bytes = 32768, l2_bytes = 524288>"));
  ASSERT_TRUE(target);
  EXPECT_EQ(target.getTarget(), "x86-64-linux-avx2");
  EXPECT_EQ(target.getVectorBits(), 256);
  EXPECT_EQ(target.getCores(), 2);
  EXPECT_EQ(target.getL1Bytes(), 32768);
  EXPECT_EQ(target.getL2Bytes(), 524288);
  EXPECT_EQ(parse(print(target)), target);
}

TEST_F(AttrTest, TargetCacheSizesDefaultToUnknown) {
  auto target = dyn_cast_or_null<TargetAttr>(
      parse("#vit.target<target = \"host\", vector_bits = 128, cores = 4>"));
  ASSERT_TRUE(target);
  EXPECT_EQ(target.getL1Bytes(), 0);
  EXPECT_EQ(target.getL2Bytes(), 0);
}

TEST_F(AttrTest, TargetRejectsBadFields) {
  EXPECT_FALSE(
      parse("#vit.target<target = \"host\", vector_bits = 100, cores = 2>"));
  EXPECT_FALSE(
      parse("#vit.target<target = \"host\", vector_bits = 256, cores = 0>"));
  EXPECT_FALSE(
      parse("#vit.target<target = \"\", vector_bits = 256, cores = 2>"));
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_NE(messages[0].find(
                "vector_bits must be a power of two of at least 8, got 100"),
            std::string::npos);
  EXPECT_NE(messages[1].find("cores must be at least 1, got 0"),
            std::string::npos);
  EXPECT_NE(messages[2].find("target string must not be empty"),
            std::string::npos);
}

TEST_F(AttrTest, TileFieldsRoundTrip) {
  auto tile = dyn_cast_or_null<TileAttr>(
      parse("#vit.tile<tiles = [32, 64, 256], vector = 8, parallel = [0, 1]>"));
  ASSERT_TRUE(tile);
  EXPECT_EQ(tile.getTiles(), ArrayRef<int64_t>({32, 64, 256}));
  EXPECT_EQ(tile.getVector(), 8);
  EXPECT_EQ(tile.getParallel(), ArrayRef<int64_t>({0, 1}));
  EXPECT_EQ(parse(print(tile)), tile);
}

TEST_F(AttrTest, TileParallelIsOptional) {
  auto tile =
      dyn_cast_or_null<TileAttr>(parse("#vit.tile<tiles = [16], vector = 4>"));
  ASSERT_TRUE(tile);
  EXPECT_TRUE(tile.getParallel().empty());
}

TEST_F(AttrTest, TileBuiltWithoutLoopsIsRejected) {
  // The parser cannot express an empty list; a pass building one can.
  auto emitError = [&] { return mlir::emitError(UnknownLoc::get(&context)); };
  EXPECT_FALSE(TileAttr::getChecked(emitError, &context, {}, 8, {}));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "tiles must name at least one loop");
}

TEST_F(AttrTest, TileRejectsBadFields) {
  EXPECT_FALSE(parse("#vit.tile<tiles = [32, 0], vector = 8>"));
  EXPECT_FALSE(
      parse("#vit.tile<tiles = [32, 64], vector = 8, parallel = [2]>"));
  EXPECT_FALSE(
      parse("#vit.tile<tiles = [32, 64], vector = 8, parallel = [1, 1]>"));
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_NE(messages[0].find("tile size of loop 1 must be between 1 and 4096, got 0"),
            std::string::npos);
  EXPECT_NE(
      messages[1].find("parallel loop 2 is out of range: tiles has 2 loops"),
      std::string::npos);
  EXPECT_NE(messages[2].find("parallel loop 1 is listed twice"),
            std::string::npos);
}

} // namespace
