//===- PosEmbedResize.cpp - resizing position embeddings ------------------===//
//
// Separable resampling: each output row (then column) is a weighted sum of
// input rows, with weights computed as PyTorch's upsample kernels and
// scipy.ndimage.zoom compute them. Sums are formed in double.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/PosEmbedResize.h"

#include "llvm/ADT/StringSwitch.h"
#include <algorithm>
#include <cmath>

using namespace vitc;

std::optional<ResizeMethod> vitc::parseResizeMethod(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<ResizeMethod>>(name)
      .Case("bicubic", ResizeMethod::Bicubic)
      .Case("bicubic-no-antialias", ResizeMethod::BicubicNoAntialias)
      .Case("bilinear", ResizeMethod::Bilinear)
      .Case("bilinear-align-corners", ResizeMethod::BilinearAlignCorners)
      .Default(std::nullopt);
}

llvm::StringRef vitc::resizeMethodName(ResizeMethod method) {
  switch (method) {
  case ResizeMethod::Bicubic:
    return "bicubic";
  case ResizeMethod::BicubicNoAntialias:
    return "bicubic-no-antialias";
  case ResizeMethod::Bilinear:
    return "bilinear";
  case ResizeMethod::BilinearAlignCorners:
    return "bilinear-align-corners";
  }
  return "";
}

namespace {
/// For each output index, the input indices and weights it sums.
using Taps = std::vector<std::vector<std::pair<int64_t, double>>>;
} // namespace

/// Keys' cubic convolution kernel with parameter a.
static double cubic(double x, double a) {
  x = std::fabs(x);
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0)
    return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

static Taps computeTaps(int64_t in, int64_t out, ResizeMethod method) {
  Taps taps(out);
  const double scale = static_cast<double>(in) / out;
  auto clampIndex = [&](int64_t i) {
    return std::clamp<int64_t>(i, 0, in - 1);
  };
  for (int64_t o = 0; o < out; ++o) {
    auto &row = taps[o];
    switch (method) {
    case ResizeMethod::BilinearAlignCorners: {
      double src = out > 1 ? o * static_cast<double>(in - 1) / (out - 1) : 0.0;
      int64_t i0 = static_cast<int64_t>(std::floor(src));
      double t = src - i0;
      row = {{clampIndex(i0), 1.0 - t}, {clampIndex(i0 + 1), t}};
      break;
    }
    case ResizeMethod::Bilinear: { // torch: align_corners=False, negative
                                   // source clamped
      double src = std::max((o + 0.5) * scale - 0.5, 0.0);
      int64_t i0 = static_cast<int64_t>(std::floor(src));
      double t = src - i0;
      row = {{clampIndex(i0), 1.0 - t}, {clampIndex(i0 + 1), t}};
      break;
    }
    case ResizeMethod::BicubicNoAntialias: { // torch: a = -0.75, indices
                                             // clamped
      double src = (o + 0.5) * scale - 0.5;
      int64_t i0 = static_cast<int64_t>(std::floor(src));
      double t = src - i0;
      for (int64_t k = -1; k <= 2; ++k)
        row.push_back({clampIndex(i0 + k), cubic(t - k, -0.75)});
      break;
    }
    case ResizeMethod::Bicubic: { // torch antialias: a = -0.5, window widened
                                  // when shrinking
      double support = 2.0 * std::max(scale, 1.0);
      double invScale = scale >= 1.0 ? 1.0 / scale : 1.0;
      double center = scale * (o + 0.5);
      int64_t lo =
          std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
      int64_t hi =
          std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in);
      double total = 0.0;
      for (int64_t i = lo; i < hi; ++i) {
        double w = cubic((i - center + 0.5) * invScale, -0.5);
        row.push_back({i, w});
        total += w;
      }
      for (auto &tap : row)
        tap.second = total != 0.0 ? tap.second / total : 0.0;
      break;
    }
    }
  }
  return taps;
}

Tensor vitc::resizePositionEmbedding(const Tensor &pos, int64_t prefixTokens,
                                     int64_t oldHeight, int64_t oldWidth,
                                     int64_t newHeight, int64_t newWidth,
                                     ResizeMethod method) {
  const int64_t dim = pos.shape.back();
  Taps rows = computeTaps(oldHeight, newHeight, method);
  Taps cols = computeTaps(oldWidth, newWidth, method);
  const float *grid = pos.data.data() + prefixTokens * dim;

  // Resample along the height, then the width.
  std::vector<double> tall(newHeight * oldWidth * dim, 0.0);
  for (int64_t y = 0; y < newHeight; ++y)
    for (auto [srcY, w] : rows[y])
      for (int64_t x = 0; x < oldWidth; ++x)
        for (int64_t d = 0; d < dim; ++d)
          tall[(y * oldWidth + x) * dim + d] +=
              w * grid[(srcY * oldWidth + x) * dim + d];

  Tensor out;
  out.shape = {1, prefixTokens + newHeight * newWidth, dim};
  out.data.assign(pos.data.begin(), pos.data.begin() + prefixTokens * dim);
  out.data.resize(out.shape[1] * dim, 0.0f);
  for (int64_t y = 0; y < newHeight; ++y)
    for (int64_t x = 0; x < newWidth; ++x)
      for (int64_t d = 0; d < dim; ++d) {
        double sum = 0.0;
        for (auto [srcX, w] : cols[x])
          sum += w * tall[(y * oldWidth + srcX) * dim + d];
        out.data[(prefixTokens + y * newWidth + x) * dim + d] =
            static_cast<float>(sum);
      }
  return out;
}
