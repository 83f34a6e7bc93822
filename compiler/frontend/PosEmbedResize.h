//===- PosEmbedResize.h - resizing position embeddings --------------------===//
//
// A checkpoint trained at one resolution runs at another by resampling the
// grid part of its position embedding (the prefix-token rows are kept). Each
// method matches the library whose checkpoints use it, so logits agree with
// that library's own fine-tuning code:
//   bicubic                 timm default for .pth/.safetensors: bicubic,
//                           antialias=True, align_corners=False
//   bicubic-no-antialias    Hugging Face interpolate_pos_encoding
//   bilinear                timm's path for official .npz (antialias=False)
//   bilinear-align-corners  the official JAX code (scipy.ndimage.zoom order=1)
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_FRONTEND_POSEMBEDRESIZE_H
#define VITC_COMPILER_FRONTEND_POSEMBEDRESIZE_H

#include "support/Checkpoint.h"

#include <optional>

namespace vitc {

enum class ResizeMethod {
  Bicubic,
  BicubicNoAntialias,
  Bilinear,
  BilinearAlignCorners
};

std::optional<ResizeMethod> parseResizeMethod(llvm::StringRef name);
llvm::StringRef resizeMethodName(ResizeMethod method);

/// Resizes `pos` [1, prefix + oldH*oldW, D] to [1, prefix + newH*newW, D].
Tensor resizePositionEmbedding(const Tensor &pos, int64_t prefixTokens,
                               int64_t oldHeight, int64_t oldWidth,
                               int64_t newHeight, int64_t newWidth,
                               ResizeMethod method);

} // namespace vitc

#endif // VITC_COMPILER_FRONTEND_POSEMBEDRESIZE_H
