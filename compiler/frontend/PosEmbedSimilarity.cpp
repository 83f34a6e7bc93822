//===- PosEmbedSimilarity.cpp - the ViT paper's position-embedding figure -===//

#include "compiler/frontend/PosEmbedSimilarity.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

using namespace vitc;

llvm::Expected<Tensor> vitc::posEmbedSimilarity(const ModelConfig &config,
                                                const ModelWeights &weights) {
  const Tensor *posEmbed = nullptr;
  for (const auto &[name, tensor] : weights)
    if (name == "pos_embed")
      posEmbed = &tensor;
  const int64_t gh = config.gridHeight(), gw = config.gridWidth(),
                prefix = config.numPrefixTokens(), patches = gh * gw;
  if (!posEmbed || posEmbed->shape.size() != 3 ||
      posEmbed->shape[1] != prefix + patches)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("model '{0}' has no learned position embedding of "
                      "{1} + {2}x{3} tokens",
                      config.name, prefix, gh, gw));
  const int64_t d = posEmbed->shape[2];
  const float *rows = posEmbed->data.data() + prefix * d;
  std::vector<double> norms(patches);
  for (int64_t p = 0; p < patches; ++p) {
    double sum = 0;
    for (int64_t k = 0; k < d; ++k)
      sum += double(rows[p * d + k]) * rows[p * d + k];
    norms[p] = std::sqrt(sum);
  }
  Tensor similarity;
  similarity.shape = {gh, gw, gh, gw};
  similarity.data.resize(patches * patches);
  for (int64_t p = 0; p < patches; ++p)
    for (int64_t q = 0; q < patches; ++q) {
      double dot = 0;
      for (int64_t k = 0; k < d; ++k)
        dot += double(rows[p * d + k]) * rows[q * d + k];
      const double norm = norms[p] * norms[q];
      similarity.data[p * patches + q] = norm > 0 ? float(dot / norm) : 0.0f;
    }
  return similarity;
}

Canvas vitc::drawPosEmbedSimilarity(const Tensor &similarity,
                                    llvm::StringRef title) {
  const int gh = int(similarity.shape[0]), gw = int(similarity.shape[1]);
  // Cells of `cell` pixels; maps `gap` apart; the grid about 720 pixels wide.
  const int cell = std::clamp(720 / std::max(1, gw * gw), 1, 12);
  const int gap = std::max(2, cell);
  const int mapW = gw * cell, mapH = gh * cell;
  const int gridW = gw * mapW + (gw - 1) * gap, gridH = gh * mapH + (gh - 1) * gap;
  const int margin = 12, titleH = 14, barW = 16;
  const int left = margin, top = margin + titleH + 10;
  const int barX = left + gridW + 16, labelX = barX + barW + 6;
  const int width = std::max(labelX + Canvas::textWidth("-1", 2) + margin,
                             left + Canvas::textWidth(title, 2) + margin);
  const int height = top + gridH + margin + 7 + 8;
  const Rgb white{255, 255, 255}, black{0, 0, 0};
  Canvas canvas(width, height, white);
  canvas.text(left, margin, title, 2, black);
  const int patches = gh * gw;
  for (int r = 0; r < gh; ++r)
    for (int c = 0; c < gw; ++c) {
      const float *map = similarity.data.data() + (r * gw + c) * patches;
      const int x0 = left + c * (mapW + gap), y0 = top + r * (mapH + gap);
      for (int i = 0; i < gh; ++i)
        for (int j = 0; j < gw; ++j)
          canvas.fill(x0 + j * cell, y0 + i * cell, cell, cell,
                      viridis((map[i * gw + j] + 1.0f) / 2.0f));
    }
  // The colour bar: 1 at the top, -1 at the bottom.
  for (int y = 0; y < gridH; ++y)
    canvas.fill(barX, top + y, barW, 1,
                viridis(1.0f - float(y) / float(std::max(1, gridH - 1))));
  canvas.text(labelX, top, "1", 2, black);
  canvas.text(labelX, top + gridH / 2 - 7, "0", 2, black);
  canvas.text(labelX, top + gridH - 14, "-1", 2, black);
  canvas.text(left, top + gridH + 8,
              "cosine similarity of position embeddings, per input patch "
              "(row, column)",
              1, black);
  return canvas;
}
