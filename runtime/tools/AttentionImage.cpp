//===- AttentionImage.cpp - attention over the input image, as a PNG ------===//

#include "AttentionImage.h"

#include "support/Figure.h"

#include <algorithm>
#include <cmath>
#include <vector>

using namespace vitc;

namespace {

constexpr int kGap = 8, kLabelHeight = 16, kMinPanel = 224;
constexpr float kHeatAlpha = 0.6f;

/// The patch grid's values of one map row (its patch tokens, after the
/// prefix), scaled to [0, 1] by their range.
std::vector<float> gridValues(const float *row, const vitrt_model_info &info) {
  std::vector<float> grid(row + info.prefix_tokens,
                          row + info.prefix_tokens +
                              int64_t(info.grid_height) * info.grid_width);
  auto [lo, hi] = std::minmax_element(grid.begin(), grid.end());
  const float low = *lo, range = *hi - *lo;
  for (float &v : grid)
    v = range > 0 ? (v - low) / range : 0.0f;
  return grid;
}

/// The grid's value at panel pixel (x, y) of a size x size panel: bilinear
/// between patch centres, clamped at the borders.
float sampleGrid(const std::vector<float> &grid, int gh, int gw, int x, int y,
                 int width, int height) {
  float gx = (x + 0.5f) * gw / width - 0.5f, gy = (y + 0.5f) * gh / height - 0.5f;
  gx = std::clamp(gx, 0.0f, float(gw - 1));
  gy = std::clamp(gy, 0.0f, float(gh - 1));
  const int x0 = int(gx), y0 = int(gy);
  const int x1 = std::min(x0 + 1, gw - 1), y1 = std::min(y0 + 1, gh - 1);
  const float fx = gx - x0, fy = gy - y0;
  auto at = [&](int r, int c) { return grid[size_t(r) * gw + c]; };
  return (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
         fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
}

/// The input pixel (x, y) of image `image` back in [0, 255].
Rgb inputPixel(const float *image, const vitrt_model_info &info, int x, int y) {
  const size_t plane = size_t(info.height) * info.width;
  uint8_t c[3];
  for (int k = 0; k < 3; ++k) {
    const int ch = info.channels == 3 ? k : 0;
    const float v = image[ch * plane + size_t(y) * info.width + x] * info.std[ch] +
                    info.mean[ch];
    c[k] = uint8_t(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
  }
  return {c[0], c[1], c[2]};
}

} // namespace

llvm::Error vitc::writeAttentionImage(const std::string &path,
                                      const vitrt_model_info &info,
                                      const float *images, int64_t batch,
                                      const float *maps, const float *rollout) {
  if (info.attention_layers < 1 || info.grid_height < 1 || info.grid_width < 1)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "%s has no attention maps to draw", info.name);
  const int scale = std::max(1, (kMinPanel + info.height - 1) / info.height);
  const int pw = info.width * scale, ph = info.height * scale;
  const int rowHeight = kLabelHeight + ph + kGap;
  // The input, then the rollout where there is one, then the last layer.
  std::vector<const char *> titles = {"input"};
  if (rollout)
    titles.push_back("attention rollout");
  titles.push_back("last layer");
  const int panels = int(titles.size());
  Canvas canvas(kGap + panels * (pw + kGap), kGap + int(batch) * rowHeight,
                Rgb{255, 255, 255});
  const int64_t tokens = info.attention_tokens;
  const int64_t perMap = int64_t(info.attention_heads) * info.attention_rows * tokens;
  for (int64_t b = 0; b < batch; ++b) {
    const float *image =
        images + b * int64_t(info.channels) * info.height * info.width;
    // The last layer's map row 0, averaged over the heads.
    std::vector<float> last(tokens, 0.0f);
    const float *layer =
        maps + (b * info.attention_layers + info.attention_layers - 1) * perMap;
    for (int h = 0; h < info.attention_heads; ++h)
      for (int64_t j = 0; j < tokens; ++j)
        last[j] += layer[int64_t(h) * info.attention_rows * tokens + j] /
                   info.attention_heads;
    std::vector<std::vector<float>> heat;
    if (rollout)
      heat.push_back(gridValues(rollout + b * info.attention_rows * tokens, info));
    heat.push_back(gridValues(last.data(), info));
    const int top = kGap + int(b) * rowHeight;
    for (int p = 0; p < panels; ++p) {
      const int left = kGap + p * (pw + kGap);
      canvas.text(left, top, titles[p], 2, Rgb{0, 0, 0});
      for (int y = 0; y < ph; ++y)
        for (int x = 0; x < pw; ++x) {
          Rgb pixel = inputPixel(image, info, x / scale, y / scale);
          if (p > 0) {
            // Over the image in grey, so that the colours are the map's.
            const uint8_t grey = uint8_t(
                (299 * pixel.r + 587 * pixel.g + 114 * pixel.b + 500) / 1000);
            pixel = {grey, grey, grey};
            Rgb hot = viridis(sampleGrid(heat[p - 1], info.grid_height,
                                         info.grid_width, x, y, pw, ph));
            auto mix = [](uint8_t a, uint8_t c) {
              return uint8_t(std::lround((1 - kHeatAlpha) * a + kHeatAlpha * c));
            };
            pixel = {mix(pixel.r, hot.r), mix(pixel.g, hot.g), mix(pixel.b, hot.b)};
          }
          canvas.fill(left + x, top + kLabelHeight + y, 1, 1, pixel);
        }
    }
  }
  return writePng(path, canvas, std::string(info.name) + ": attention");
}
