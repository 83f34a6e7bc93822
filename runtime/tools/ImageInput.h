//===- ImageInput.h - PNG/JPEG files to model input tensors ---------------===//
//
// Decodes an image (libpng, libjpeg), resizes it the way the model family
// expects and normalises it into NCHW floats: (pixel / 255 - mean) / std.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_RUNTIME_TOOLS_IMAGEINPUT_H
#define VITC_RUNTIME_TOOLS_IMAGEINPUT_H

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vitc {

struct Preprocessing {
  int channels, height, width;
  float mean[3], std[3];
  /// 0: resize the whole image to height x width (official ViT, Hugging
  /// Face). Otherwise timm's eval transform: scale the shorter side to
  /// size / cropFraction, then cut the centre height x width.
  float cropFraction = 0;
};

/// The most pixels an image may declare: 64 Mpx (8192 x 8192). Larger
/// images are refused before decoding, since a few bytes of header can
/// declare gigabytes of pixels.
constexpr uint64_t kMaxImagePixels = uint64_t(8192) * 8192;

/// Appends channels x height x width floats for the image at `path` (a
/// regular file, PNG or JPEG, of at most kMaxImagePixels pixels).
llvm::Error appendImage(const std::string &path, const Preprocessing &pre,
                        std::vector<float> &out);

} // namespace vitc

#endif // VITC_RUNTIME_TOOLS_IMAGEINPUT_H
