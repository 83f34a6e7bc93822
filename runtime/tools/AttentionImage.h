//===- AttentionImage.h - attention over the input image, as a PNG --------===//
//
// vit-run --attention-image: for each image of a batch, one row of panels:
// the image as the model saw it (its input, un-normalised), the attention
// rollout of the class token (libraries compiled with
// --attention-maps=rollout), and the last layer's class-token attention
// averaged over the heads, each upsampled from the patch grid
// (bilinear) and drawn over the image in viridis.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_RUNTIME_TOOLS_ATTENTIONIMAGE_H
#define VITC_RUNTIME_TOOLS_ATTENTIONIMAGE_H

#include "vitrt.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace vitc {

/// `images` [batch, C, H, W] as the model read them; `maps` [batch, layers,
/// heads, rows, tokens] and `rollout` [batch, rows, tokens] (or null: no
/// rollout panel) from vitrt_run_ex. Draws map row 0 (the class token, or
/// the pooled mean).
llvm::Error writeAttentionImage(const std::string &path,
                                const vitrt_model_info &info,
                                const float *images, int64_t batch,
                                const float *maps, const float *rollout);

} // namespace vitc

#endif // VITC_RUNTIME_TOOLS_ATTENTIONIMAGE_H
