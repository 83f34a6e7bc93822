//===- ModelConfig.h - what one compiled ViT variant looks like -----------===//
//
// Everything the front end needs to know about a model to emit its IR: sizes,
// the classifier kind and the small differences between implementations
// (GELU form, LayerNorm epsilon, biases). Filled from the built-in zoo, a
// config file or command-line overrides, then checked once by validate().
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_FRONTEND_MODELCONFIG_H
#define VITC_COMPILER_FRONTEND_MODELCONFIG_H

#include "llvm/Support/Error.h"
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vitc {

/// Upper bounds validate() puts on a model's sizes (docs/FRONTEND.md lists
/// them). Each is far above any published ViT (ViT-22B: width 6144, depth 48,
/// MLP 24576) and low enough that shapes, token counts and parameter counts
/// stay well inside int64; validate() still checks the derived products with
/// overflow-safe arithmetic.
namespace sizeLimits {
constexpr int64_t kMaxImageSide = 8192;
constexpr int64_t kMaxChannels = 16; // multispectral inputs have up to ~13
constexpr int64_t kMaxWidth = 16384; // also bounds the representation size
constexpr int64_t kMaxDepth = 1024;
constexpr int64_t kMaxMlpDim = 65536;
constexpr int64_t kMaxClasses = 1'000'000;
} // namespace sizeLimits

enum class Activation { GeluErf, GeluTanh, Relu };
enum class Pooling { Token, Mean };

struct ModelConfig {
  std::string name = "custom";
  int64_t imageHeight = 224;
  int64_t imageWidth = 224;
  int64_t channels = 3;
  int64_t patchSize = 16;
  int64_t width = 768; // D, the token width
  int64_t depth = 12;  // encoder blocks
  int64_t heads = 12;
  int64_t mlpDim = 3072;
  int64_t numClasses = 1000;      // 0: no head, the model returns features
  int64_t representationSize = 0; // >0: pre-logits Dense + tanh before the head
  bool classToken = true;
  bool distilled = false; // DeiT: a distillation token and a second head
  Pooling pooling = Pooling::Token;
  // timm's fc_norm: with mean pooling, normalize after pooling instead of
  // before (the final `norm` is then absent).
  bool fcNorm = false;
  bool finalNorm = true;
  Activation activation = Activation::GeluErf;
  float layerNormEps = 1e-6f;
  bool qkvBias = true;
  bool patchBias = true;
  // Input normalisation, (pixel / 255 - mean) / std per channel: 0.5/0.5 for
  // ViT (Inception style), ImageNet statistics for DeiT.
  std::array<float, 3> inputMean{0.5f, 0.5f, 0.5f};
  std::array<float, 3> inputStd{0.5f, 0.5f, 0.5f};
  // Image resizing: 0 squashes the whole image to the input size (official
  // ViT, Hugging Face); otherwise timm's eval crop of this fraction.
  float cropFraction = 0.9f;

  int64_t gridHeight() const { return imageHeight / patchSize; }
  int64_t gridWidth() const { return imageWidth / patchSize; }
  int64_t numPatches() const { return gridHeight() * gridWidth(); }
  int64_t numPrefixTokens() const {
    return (classToken ? 1 : 0) + (distilled ? 1 : 0);
  }
  int64_t numTokens() const { return numPatches() + numPrefixTokens(); }
  int64_t headDim() const { return width / heads; }
  /// Width of what the classifier reads.
  int64_t featureWidth() const {
    return representationSize ? representationSize : width;
  }
  /// Width of the model's output: the classes, or the features without a head.
  int64_t outputWidth() const {
    return numClasses ? numClasses : featureWidth();
  }

  /// Checks that the sizes are within sizeLimits and fit together, and that
  /// the token, attention and parameter counts fit int64; the message names
  /// the field.
  llvm::Error validate() const;
};

/// One named parameter tensor of a model, in the layout vitc stores it
/// (timm key names and PyTorch shapes).
struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numElements() const;
};

/// Every parameter the model has, in forward order.
std::vector<ParamSpec> listParams(const ModelConfig &config);

/// Looks up a zoo model by vitc name (`vit-b16`) or timm name
/// (`vit_base_patch16_224`); the error lists the known names.
llvm::Expected<ModelConfig> lookupZooModel(llvm::StringRef name);

/// The vitc names of the zoo, for --help and error messages.
std::vector<std::string> zooModelNames();

llvm::StringRef activationName(Activation activation);
llvm::StringRef poolingName(Pooling pooling);

} // namespace vitc

#endif // VITC_COMPILER_FRONTEND_MODELCONFIG_H
