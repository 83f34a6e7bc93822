//===- PosEmbedResizeTest.cpp - resizing against PyTorch and scipy --------===//
//
// Goldens in test/data/posembed were computed by timm, torch.nn.functional
// .interpolate and scipy.ndimage.zoom (test/reference/make_reference.py): a
// 4x4 grid with one prefix row, up to 6x6, down to 3x3 and to 5x7.
//
//===----------------------------------------------------------------------===//

#include "TestData.h"

#include "compiler/frontend/PosEmbedResize.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace vitc;
using namespace vitc::test;

namespace {

Tensor loadNpy(const std::string &name) {
  auto buffer = llvm::MemoryBuffer::getFile(dataPath("posembed/" + name));
  EXPECT_TRUE(bool(buffer)) << name;
  if (!buffer)
    return {};
  auto tensor = parseNpy((*buffer)->getBuffer(), name);
  EXPECT_TRUE(bool(tensor)) << name;
  return tensor ? *tensor : Tensor{};
}

struct Case {
  ResizeMethod method;
  const char *golden;
  int64_t height, width;
};

class ResizeGolden : public ::testing::TestWithParam<Case> {};

TEST_P(ResizeGolden, MatchesTheReferenceLibrary) {
  const Case &c = GetParam();
  Tensor input = loadNpy("input.npy");
  ASSERT_EQ(input.shape, (std::vector<int64_t>{1, 17, 8}));
  Tensor expected = loadNpy(c.golden);
  Tensor actual = resizePositionEmbedding(input, /*prefixTokens=*/1, 4, 4,
                                          c.height, c.width, c.method);
  ASSERT_EQ(actual.shape, expected.shape);
  ASSERT_EQ(actual.shape, (std::vector<int64_t>{1, 1 + c.height * c.width, 8}));
  float worst = 0.0f;
  for (size_t i = 0; i < actual.data.size(); ++i)
    worst = std::max(worst, std::fabs(actual.data[i] - expected.data[i]));
  // float32 references vs double accumulation here.
  EXPECT_LE(worst, 2e-6f) << c.golden;
  // The prefix row is carried over untouched.
  for (int d = 0; d < 8; ++d)
    EXPECT_EQ(actual.data[d], input.data[d]);
}

INSTANTIATE_TEST_SUITE_P(
    AllMethods, ResizeGolden,
    ::testing::Values(
        Case{ResizeMethod::Bicubic, "timm_bicubic_aa_6x6.npy", 6, 6},
        Case{ResizeMethod::Bicubic, "timm_bicubic_aa_3x3.npy", 3, 3},
        Case{ResizeMethod::Bicubic, "timm_bicubic_aa_5x7.npy", 5, 7},
        Case{ResizeMethod::BicubicNoAntialias, "torch_bicubic_6x6.npy", 6, 6},
        Case{ResizeMethod::BicubicNoAntialias, "torch_bicubic_3x3.npy", 3, 3},
        Case{ResizeMethod::BicubicNoAntialias, "torch_bicubic_5x7.npy", 5, 7},
        Case{ResizeMethod::Bilinear, "torch_bilinear_6x6.npy", 6, 6},
        Case{ResizeMethod::Bilinear, "torch_bilinear_3x3.npy", 3, 3},
        Case{ResizeMethod::Bilinear, "torch_bilinear_5x7.npy", 5, 7},
        Case{ResizeMethod::BilinearAlignCorners, "scipy_zoom1_6x6.npy", 6, 6},
        Case{ResizeMethod::BilinearAlignCorners, "scipy_zoom1_3x3.npy", 3, 3}));

TEST(ResizeMethodNames, RoundTrip) {
  for (ResizeMethod method :
       {ResizeMethod::Bicubic, ResizeMethod::BicubicNoAntialias,
        ResizeMethod::Bilinear, ResizeMethod::BilinearAlignCorners})
    EXPECT_EQ(parseResizeMethod(resizeMethodName(method)), method);
  EXPECT_FALSE(parseResizeMethod("nearest"));
}

} // namespace
