//===- PosEmbedSimilarity.h - the ViT paper's position-embedding figure ---===//
//
// How similar each patch's learned position embedding is to every other's
// (cosine), as in Figure 7 (centre) of "An Image is Worth 16x16 Words": one
// small heat map per patch position, laid out on the patch grid.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_FRONTEND_POSEMBEDSIMILARITY_H
#define VITC_COMPILER_FRONTEND_POSEMBEDSIMILARITY_H

#include "compiler/frontend/ModelConfig.h"
#include "compiler/frontend/Weights.h"
#include "support/Figure.h"

namespace vitc {

/// Cosine similarities [gh, gw, gh, gw] of the patches' position embeddings
/// (the prefix tokens' rows left out), from the model's bound weights (after
/// any --pos-embed-resize). A zero embedding has similarity 0.
llvm::Expected<Tensor> posEmbedSimilarity(const ModelConfig &config,
                                          const ModelWeights &weights);

/// The figure: for each patch (row r, column c) at grid position (r, c), a
/// gh x gw heat map of its similarity with every patch, viridis over [-1, 1],
/// a colour bar, and `title` above.
Canvas drawPosEmbedSimilarity(const Tensor &similarity, llvm::StringRef title);

} // namespace vitc

#endif // VITC_COMPILER_FRONTEND_POSEMBEDSIMILARITY_H
