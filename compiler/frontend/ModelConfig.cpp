//===- ModelConfig.cpp - the built-in zoo, validation, parameter lists ----===//
//
// Zoo sizes are the official ones (google-research/vision_transformer
// configs/models.py; DeiT from timm deit.py). Parameter names and shapes
// follow timm's state_dict, the layout vitc stores weights in.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ModelConfig.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include <algorithm>
#include <cmath>
#include <tuple>

using namespace vitc;
using llvm::Error;
using llvm::StringRef;

static Error configError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

Error ModelConfig::validate() const {
  auto positive = [&](StringRef field, int64_t value) -> Error {
    if (value < 1)
      return configError(llvm::formatv(
          "model '{0}': {1} must be positive, got {2}", name, field, value));
    return Error::success();
  };
  for (auto [field, value] :
       {std::pair<StringRef, int64_t>{"image height", imageHeight},
        {"image width", imageWidth},
        {"channels", channels},
        {"patch size", patchSize},
        {"width", width},
        {"depth", depth},
        {"heads", heads},
        {"mlp dim", mlpDim}})
    if (Error err = positive(field, value))
      return err;
  if (numClasses < 0 || representationSize < 0)
    return configError(
        llvm::formatv("model '{0}': classes and representation size must not "
                      "be negative, got {1} and {2}",
                      name, numClasses, representationSize));
  using namespace sizeLimits;
  for (auto [field, value, limit] :
       {std::tuple<StringRef, int64_t, int64_t>{"image height", imageHeight,
                                                kMaxImageSide},
        {"image width", imageWidth, kMaxImageSide},
        {"channels", channels, kMaxChannels},
        {"patch size", patchSize, std::min(imageHeight, imageWidth)},
        {"width", width, kMaxWidth},
        {"depth", depth, kMaxDepth},
        {"heads", heads, width},
        {"mlp dim", mlpDim, kMaxMlpDim},
        {"classes", numClasses, kMaxClasses},
        {"representation size", representationSize, kMaxWidth}})
    if (value > limit)
      return configError(
          llvm::formatv("model '{0}': {1} must be at most {2}, got {3}", name,
                        field, limit, value));
  if (imageHeight % patchSize || imageWidth % patchSize)
    return configError(llvm::formatv(
        "model '{0}': patch size {1} does not divide the image size {2}x{3}",
        name, patchSize, imageHeight, imageWidth));
  if (width % heads)
    return configError(
        llvm::formatv("model '{0}': {1} heads do not divide the width {2}",
                      name, heads, width));
  if (distilled && !classToken)
    return configError(llvm::formatv(
        "model '{0}': a distilled model needs a class token", name));
  if (pooling == Pooling::Token && !classToken)
    return configError(llvm::formatv(
        "model '{0}': token pooling needs a class token; use mean pooling",
        name));
  if (distilled && (pooling != Pooling::Token || representationSize))
    return configError(
        llvm::formatv("model '{0}': a distilled model uses token pooling and "
                      "no representation layer",
                      name));
  if (fcNorm && pooling != Pooling::Mean)
    return configError(llvm::formatv(
        "model '{0}': fc_norm applies to mean pooling only", name));
  if (!(layerNormEps > 0.0f) || !std::isfinite(layerNormEps))
    return configError(llvm::formatv(
        "model '{0}': layer norm epsilon must be finite and positive, got {1}",
        name, std::to_string(layerNormEps)));

  // The limits above keep these products small, but they are what the IR,
  // the weights file and the runtime size buffers by, so prove each fits
  // int64 rather than rely on the limits never being raised.
  auto fits = [](llvm::ArrayRef<int64_t> factors) {
    int64_t result = 1;
    for (int64_t factor : factors)
      if (llvm::MulOverflow(result, factor, result))
        return false;
    return true;
  };
  auto tooLarge = [&](const std::string &what) {
    return configError(llvm::formatv(
        "model '{0}': the {1} does not fit a 64-bit integer", name, what));
  };
  if (!fits({numTokens(), width}))
    return tooLarge("token count times the width");
  if (!fits({heads, numTokens(), numTokens()}))
    return tooLarge("attention score count (heads x tokens x tokens)");
  int64_t total = 0;
  for (const ParamSpec &param : listParams(*this)) {
    int64_t elements = 1;
    for (int64_t dim : param.shape)
      if (llvm::MulOverflow(elements, dim, elements))
        return tooLarge("element count of '" + param.name + "'");
    if (llvm::AddOverflow(total, elements, total))
      return tooLarge("parameter count");
  }
  return Error::success();
}

int64_t ParamSpec::numElements() const {
  // validate() has proven that every parameter's count fits int64.
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

std::vector<ParamSpec> vitc::listParams(const ModelConfig &c) {
  std::vector<ParamSpec> params;
  auto add = [&](std::string name, std::vector<int64_t> shape) {
    params.push_back({std::move(name), std::move(shape)});
  };
  const int64_t d = c.width;
  add("patch_embed.proj.weight", {d, c.channels, c.patchSize, c.patchSize});
  if (c.patchBias)
    add("patch_embed.proj.bias", {d});
  if (c.classToken)
    add("cls_token", {1, 1, d});
  if (c.distilled)
    add("dist_token", {1, 1, d});
  add("pos_embed", {1, c.numTokens(), d});
  for (int64_t i = 0; i < c.depth; ++i) {
    std::string block = "blocks." + std::to_string(i) + ".";
    add(block + "norm1.weight", {d});
    add(block + "norm1.bias", {d});
    add(block + "attn.qkv.weight", {3 * d, d});
    if (c.qkvBias)
      add(block + "attn.qkv.bias", {3 * d});
    add(block + "attn.proj.weight", {d, d});
    add(block + "attn.proj.bias", {d});
    add(block + "norm2.weight", {d});
    add(block + "norm2.bias", {d});
    add(block + "mlp.fc1.weight", {c.mlpDim, d});
    add(block + "mlp.fc1.bias", {c.mlpDim});
    add(block + "mlp.fc2.weight", {d, c.mlpDim});
    add(block + "mlp.fc2.bias", {d});
  }
  if (c.finalNorm) {
    std::string norm = c.fcNorm ? "fc_norm" : "norm";
    add(norm + ".weight", {d});
    add(norm + ".bias", {d});
  }
  if (c.representationSize) {
    add("pre_logits.fc.weight", {c.representationSize, d});
    add("pre_logits.fc.bias", {c.representationSize});
  }
  if (c.numClasses) {
    add("head.weight", {c.numClasses, c.featureWidth()});
    add("head.bias", {c.numClasses});
    if (c.distilled) {
      add("head_dist.weight", {c.numClasses, d});
      add("head_dist.bias", {c.numClasses});
    }
  }
  return params;
}

namespace {
struct ZooEntry {
  const char *name;     // vitc name
  const char *timmName; // timm name without the resolution suffix
  int64_t patch, width, depth, heads, mlpDim;
  bool gap = false;
  bool distilled = false;
};
} // namespace

// Sizes from the official configs; the DeiT models share ViT's sizes.
static const ZooEntry kZoo[] = {
    {"vit-ti16", "vit_tiny_patch16", 16, 192, 12, 3, 768},
    {"vit-s16", "vit_small_patch16", 16, 384, 12, 6, 1536},
    {"vit-s32", "vit_small_patch32", 32, 384, 12, 6, 1536},
    {"vit-b8", "vit_base_patch8", 8, 768, 12, 12, 3072},
    {"vit-b16", "vit_base_patch16", 16, 768, 12, 12, 3072},
    {"vit-b32", "vit_base_patch32", 32, 768, 12, 12, 3072},
    {"vit-l16", "vit_large_patch16", 16, 1024, 24, 16, 4096},
    {"vit-l32", "vit_large_patch32", 32, 1024, 24, 16, 4096},
    {"vit-h14", "vit_huge_patch14", 14, 1280, 32, 16, 5120},
    {"vit-s16-gap", "vit_small_patch16_gap", 16, 384, 12, 6, 1536, true},
    {"vit-s32-gap", "vit_small_patch32_gap", 32, 384, 12, 6, 1536, true},
    {"vit-b16-gap", "vit_base_patch16_gap", 16, 768, 12, 12, 3072, true},
    {"vit-b32-gap", "vit_base_patch32_gap", 32, 768, 12, 12, 3072, true},
    {"deit-ti16", "deit_tiny_patch16", 16, 192, 12, 3, 768},
    {"deit-s16", "deit_small_patch16", 16, 384, 12, 6, 1536},
    {"deit-b16", "deit_base_patch16", 16, 768, 12, 12, 3072},
    {"deit-ti16-distilled", "deit_tiny_distilled_patch16", 16, 192, 12, 3, 768,
     false, true},
    {"deit-s16-distilled", "deit_small_distilled_patch16", 16, 384, 12, 6, 1536,
     false, true},
    {"deit-b16-distilled", "deit_base_distilled_patch16", 16, 768, 12, 12, 3072,
     false, true},
};

static ModelConfig fromEntry(const ZooEntry &entry, int64_t imageSize) {
  ModelConfig c;
  c.name = entry.name;
  c.imageHeight = c.imageWidth = imageSize;
  c.patchSize = entry.patch;
  c.width = entry.width;
  c.depth = entry.depth;
  c.heads = entry.heads;
  c.mlpDim = entry.mlpDim;
  c.distilled = entry.distilled;
  if (llvm::StringRef(entry.name).starts_with("deit")) {
    c.inputMean = {0.485f, 0.456f, 0.406f};
    c.inputStd = {0.229f, 0.224f, 0.225f};
    c.cropFraction = 0.875f;
  }
  if (entry.gap) {
    // The official GAP models: no class token, final norm, then the mean.
    c.classToken = false;
    c.pooling = Pooling::Mean;
  }
  return c;
}

llvm::Expected<ModelConfig> vitc::lookupZooModel(StringRef name) {
  for (const ZooEntry &entry : kZoo)
    if (name == entry.name)
      return fromEntry(entry, 224);
  // timm names carry the resolution: vit_base_patch16_224,
  // vit_base_patch16_384.
  auto [base, resolution] = name.rsplit('_');
  int64_t imageSize = 0;
  if (!resolution.getAsInteger(10, imageSize) && imageSize > 0)
    for (const ZooEntry &entry : kZoo)
      if (base == entry.timmName) {
        ModelConfig c = fromEntry(entry, imageSize);
        c.name = name.str();
        if (imageSize >= 384 && !entry.distilled && c.cropFraction == 0.9f)
          c.cropFraction = 1.0f; // timm's 384 fine-tunes evaluate uncropped
        return c;
      }
  return configError(
      llvm::formatv("unknown model '{0}'; known models: {1} (or timm names "
                    "such as vit_base_patch16_224)",
                    name, llvm::join(zooModelNames(), ", ")));
}

std::vector<std::string> vitc::zooModelNames() {
  std::vector<std::string> names;
  for (const ZooEntry &entry : kZoo)
    names.push_back(entry.name);
  return names;
}

StringRef vitc::activationName(Activation activation) {
  switch (activation) {
  case Activation::GeluErf:
    return "gelu";
  case Activation::GeluTanh:
    return "gelu_tanh";
  case Activation::Relu:
    return "relu";
  }
  llvm_unreachable("unknown activation");
}

StringRef vitc::poolingName(Pooling pooling) {
  return pooling == Pooling::Token ? "token" : "avg";
}
