//===- ShapeChecksTest.cpp - the helpers behind the vit op verifiers ------===//

#include "dialect/ShapeChecks.h"
#include "dialect/VitDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::vit;

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

TEST(FormatShape, WritesDimsLikeTensorTypes) {
  EXPECT_EQ(formatShape({kDyn, 197, 768}), "?x197x768");
  EXPECT_EQ(formatShape({3072}), "3072");
  EXPECT_EQ(formatShape({}), "scalar");
}

TEST(ShapesCompatible, DynamicMatchesAnythingStaticMustAgree) {
  EXPECT_TRUE(shapesCompatible({kDyn, 197, 768}, {8, 197, 768}));
  EXPECT_TRUE(shapesCompatible({4, 197}, {kDyn, kDyn}));
  EXPECT_FALSE(shapesCompatible({kDyn, 197, 768}, {kDyn, 196, 768}));
  EXPECT_FALSE(shapesCompatible({197, 768}, {1, 197, 768}));
}

TEST(MulDims, DynamicIsContagious) {
  EXPECT_EQ(mulDims(14, 14), 196);
  EXPECT_EQ(mulDims(kDyn, 14), kDyn);
  EXPECT_EQ(mulDims(12, kDyn), kDyn);
}

/// Builds a throwaway op to attach diagnostics to and records what they say.
class CheckTest : public ::testing::Test {
protected:
  CheckTest()
      : builder(&context), handler(&context, [this](Diagnostic &diag) {
          messages.push_back(diag.str());
          return success();
        }) {
    context.loadDialect<VitDialect>();
    module = ModuleOp::create(builder.getUnknownLoc());
  }
  ~CheckTest() override { module->erase(); }

  Type tensor(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF32Type());
  }

  MLIRContext context;
  OpBuilder builder;
  std::vector<std::string> messages;
  ScopedDiagnosticHandler handler;
  ModuleOp module;
};

TEST_F(CheckTest, ShapeMismatchNamesWhatExpectedAndActual) {
  EXPECT_TRUE(succeeded(
      checkShape(module, "weight", tensor({3072, 768}), {3072, 768})));
  EXPECT_TRUE(messages.empty());
  EXPECT_TRUE(
      failed(checkShape(module, "weight", tensor({768, 768}), {3072, 768})));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(
      messages[0],
      "'builtin.module' op weight has shape 768x768 but expected 3072x768");
}

TEST_F(CheckTest, NonTensorIsRejected) {
  EXPECT_TRUE(failed(checkShape(module, "bias", builder.getF32Type(), {768})));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0],
            "'builtin.module' op bias must be a ranked tensor, got 'f32'");
}

TEST_F(CheckTest, RankChecksExactAndAtLeast) {
  EXPECT_TRUE(
      succeeded(checkRank(module, "input", tensor({kDyn, 197, 768}), 3)));
  EXPECT_TRUE(
      succeeded(checkRank(module, "input", tensor({kDyn, 197, 768}), 2, true)));
  EXPECT_TRUE(failed(checkRank(module, "input", tensor({768}), 2, true)));
  EXPECT_TRUE(failed(checkRank(module, "images", tensor({3, 224, 224}), 4)));
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(
      messages[0],
      "'builtin.module' op input has rank 1 but expected rank at least 2");
  EXPECT_EQ(messages[1],
            "'builtin.module' op images has rank 3 but expected rank 4");
}

} // namespace
