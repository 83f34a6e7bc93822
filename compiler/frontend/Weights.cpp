//===- Weights.cpp - a model's parameters from a checkpoint or a seed -----===//
//
// Key mappings follow timm's own converters (VIT_FACTS.md §2.2, §2.3):
// official Dense kernels are [in, out] and become PyTorch [out, in]; the
// attention's [D, heads, head_dim] kernels are flattened and stacked into
// timm's fused qkv; HWIO conv kernels become OIHW.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/Weights.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Parallel.h"
#include "llvm/Support/xxhash.h"
#include <cmath>
#include <algorithm>

using namespace vitc;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

static Error weightsError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static std::string formatShape(const std::vector<int64_t> &shape) {
  if (shape.empty())
    return "scalar";
  return llvm::join(
      llvm::map_range(shape, [](int64_t d) { return std::to_string(d); }), "x");
}

StringRef vitc::layoutName(CheckpointLayout layout) {
  switch (layout) {
  case CheckpointLayout::Timm:
    return "timm";
  case CheckpointLayout::HuggingFace:
    return "Hugging Face";
  case CheckpointLayout::Official:
    return "official JAX";
  }
  return "";
}

/// Key prefixes that wrap the official tree in older and big_vision files.
static StringRef officialPrefix(const Checkpoint &checkpoint) {
  for (StringRef prefix : {"", "opt/target/", "params/"})
    if (checkpoint.find((prefix + "embedding/kernel").str()))
      return prefix;
  return "";
}

Expected<CheckpointLayout> vitc::detectLayout(const Checkpoint &checkpoint) {
  if (checkpoint.find("patch_embed.proj.weight"))
    return CheckpointLayout::Timm;
  for (StringRef key : {"vit.embeddings.patch_embeddings.projection.weight",
                        "embeddings.patch_embeddings.projection.weight",
                        "deit.embeddings.patch_embeddings.projection.weight"})
    if (checkpoint.find(key))
      return CheckpointLayout::HuggingFace;
  for (StringRef prefix : {"", "opt/target/", "params/"})
    if (checkpoint.find((prefix + "embedding/kernel").str()))
      return CheckpointLayout::Official;
  std::vector<std::string> first(
      checkpoint.names.begin(),
      checkpoint.names.begin() + std::min<size_t>(5, checkpoint.names.size()));
  return weightsError(
      checkpoint.path +
      ": cannot tell the checkpoint layout: no patch embedding under its timm "
      "('patch_embed.proj.weight'), Hugging Face "
      "('vit.embeddings.patch_embeddings.projection.weight') or official "
      "('embedding/kernel') name; the file starts with: " +
      (first.empty() ? std::string("no tensors") : llvm::join(first, ", ")));
}

namespace {

/// Builds the timm-layout checkpoint from a source one: each tensor taken
/// from the source is marked used, and its source key remembered for
/// messages. Shape problems in the source are reported with its key.
class Converter {
public:
  explicit Converter(Checkpoint &source) : source(source) {
    converted.path = source.path;
  }

  const Tensor *take(const std::string &key) {
    const Tensor *tensor = source.find(key);
    if (tensor)
      used.insert(key);
    return tensor;
  }

  /// The tensor under `key` if it has `rank` dimensions; a missing key is not
  /// an error here (bindWeights reports missing parameters by timm name).
  const Tensor *takeRank(const std::string &key, size_t rank) {
    const Tensor *tensor = take(key);
    if (tensor && tensor->shape.size() != rank) {
      fail(llvm::formatv(
          "{0}: tensor '{1}' has shape {2} but a rank-{3} tensor is expected",
          source.path, key, formatShape(tensor->shape), rank));
      return nullptr;
    }
    return tensor;
  }

  void put(const std::string &name, Tensor tensor, const std::string &from) {
    sourceKey[name] = from;
    if (Error err = converted.add(name, std::move(tensor)))
      fail(llvm::toString(std::move(err)));
  }

  void copy(const std::string &from, const std::string &to) {
    if (const Tensor *tensor = take(from))
      put(to, *tensor, from);
  }

  void fail(const llvm::Twine &message) {
    if (problem.empty())
      problem = message.str();
  }

  Checkpoint &source;
  Checkpoint converted;
  llvm::StringSet<> used;
  std::map<std::string, std::string> sourceKey;
  std::string problem;
};

} // namespace

/// [rows, cols] -> [cols, rows].
static Tensor transposed(const Tensor &in) {
  int64_t rows = in.shape[0], cols = in.shape[1];
  Tensor out;
  out.shape = {cols, rows};
  out.data.resize(in.data.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out.data[c * rows + r] = in.data[r * cols + c];
  return out;
}

/// Merges the leading dimensions of a tensor: [a, b, ..., z] -> [a*b*..., z]
/// when `keepLast`, or [a, b*...*z] otherwise.
static Tensor reshaped2d(Tensor in, bool keepLast) {
  int64_t total = in.numElements();
  int64_t split = keepLast ? in.shape.back() : in.shape.front();
  in.shape = keepLast ? std::vector<int64_t>{split ? total / split : 0, split}
                      : std::vector<int64_t>{split, split ? total / split : 0};
  return in;
}

/// Row-wise concatenation of tensors of one trailing shape.
static std::optional<Tensor>
concatRows(const std::vector<const Tensor *> &parts) {
  Tensor out;
  out.shape = parts.front()->shape;
  out.shape[0] = 0;
  for (const Tensor *part : parts) {
    if (part->shape.size() != out.shape.size() ||
        !std::equal(part->shape.begin() + 1, part->shape.end(),
                    out.shape.begin() + 1))
      return std::nullopt;
    out.shape[0] += part->shape[0];
    out.data.insert(out.data.end(), part->data.begin(), part->data.end());
  }
  return out;
}

static void convertOfficial(Converter &c, const ModelConfig &config) {
  const std::string root = officialPrefix(c.source).str();
  auto key = [&](const llvm::Twine &name) { return root + name.str(); };
  if (const Tensor *kernel = c.takeRank(key("embedding/kernel"), 4)) {
    // HWIO [kh, kw, in, out] -> OIHW [out, in, kh, kw].
    int64_t kh = kernel->shape[0], kw = kernel->shape[1], ci = kernel->shape[2],
            co = kernel->shape[3];
    Tensor oihw;
    oihw.shape = {co, ci, kh, kw};
    oihw.data.resize(kernel->data.size());
    for (int64_t y = 0; y < kh; ++y)
      for (int64_t x = 0; x < kw; ++x)
        for (int64_t i = 0; i < ci; ++i)
          for (int64_t o = 0; o < co; ++o)
            oihw.data[((o * ci + i) * kh + y) * kw + x] =
                kernel->data[((y * kw + x) * ci + i) * co + o];
    c.put("patch_embed.proj.weight", std::move(oihw), key("embedding/kernel"));
  }
  c.copy(key("embedding/bias"), "patch_embed.proj.bias");
  c.copy(key("cls"), "cls_token");
  c.copy(key("dist"), "dist_token");
  if (c.source.find(key("Transformer/posembed_input/pos_embedding")))
    c.copy(key("Transformer/posembed_input/pos_embedding"), "pos_embed");
  else
    c.copy(key("pos_embedding"), "pos_embed"); // big_vision keeps it at the top

  // Released files number submodules globally (pre-Linen: LayerNorm_0,
  // MultiHeadDotProductAttention_1, LayerNorm_2, MlpBlock_3); files written
  // by Linen code number them per class.
  bool preLinen =
      c.source.find(key("Transformer/encoderblock_0/"
                        "MultiHeadDotProductAttention_1/query/kernel"));
  const char *attn = preLinen ? "MultiHeadDotProductAttention_1"
                              : "MultiHeadDotProductAttention_0";
  const char *norm2 = preLinen ? "LayerNorm_2" : "LayerNorm_1";
  const char *mlp = preLinen ? "MlpBlock_3" : "MlpBlock_0";
  auto dense = [&](const std::string &from, const std::string &to) {
    if (const Tensor *kernel = c.takeRank(from + "/kernel", 2))
      c.put(to + ".weight", transposed(*kernel), from + "/kernel");
    c.copy(from + "/bias", to + ".bias");
  };
  for (int64_t i = 0; i < config.depth; ++i) {
    std::string src = key("Transformer/encoderblock_" + llvm::Twine(i) + "/");
    std::string dst = "blocks." + std::to_string(i) + ".";
    c.copy(src + "LayerNorm_0/scale", dst + "norm1.weight");
    c.copy(src + "LayerNorm_0/bias", dst + "norm1.bias");
    c.copy(src + norm2 + "/scale", dst + "norm2.weight");
    c.copy(src + norm2 + "/bias", dst + "norm2.bias");
    // query/key/value kernels [D, H, Dh] -> rows of timm's qkv [3*H*Dh, D].
    std::vector<const Tensor *> kernels, biases;
    std::vector<Tensor> rows, flatBiases;
    for (const char *part : {"query", "key", "value"}) {
      std::string base = src + attn + "/" + part;
      if (const Tensor *kernel = c.takeRank(base + "/kernel", 3))
        rows.push_back(transposed(reshaped2d(*kernel, /*keepLast=*/false)));
      if (const Tensor *bias = c.takeRank(base + "/bias", 2)) {
        Tensor flat = *bias; // [H, Dh] -> [H*Dh]
        flat.shape = {flat.numElements()};
        flatBiases.push_back(std::move(flat));
      }
    }
    for (const Tensor &t : rows)
      kernels.push_back(&t);
    for (const Tensor &t : flatBiases)
      biases.push_back(&t);
    std::string qkvFrom = src + attn + "/{query,key,value}";
    if (kernels.size() == 3) {
      if (std::optional<Tensor> qkv = concatRows(kernels))
        c.put(dst + "attn.qkv.weight", std::move(*qkv), qkvFrom + "/kernel");
      else
        c.fail(c.source.path + ": tensors '" + qkvFrom +
               "/kernel' differ in shape");
    }
    if (biases.size() == 3) {
      if (std::optional<Tensor> qkv = concatRows(biases))
        c.put(dst + "attn.qkv.bias", std::move(*qkv), qkvFrom + "/bias");
    }
    // out kernel [H, Dh, D] -> proj [D, H*Dh].
    std::string out = src + attn + "/out";
    if (const Tensor *kernel = c.takeRank(out + "/kernel", 3))
      c.put(dst + "attn.proj.weight",
            transposed(reshaped2d(*kernel, /*keepLast=*/true)),
            out + "/kernel");
    c.copy(out + "/bias", dst + "attn.proj.bias");
    dense(src + mlp + "/Dense_0", dst + "mlp.fc1");
    dense(src + mlp + "/Dense_1", dst + "mlp.fc2");
  }
  c.copy(key("Transformer/encoder_norm/scale"),
         config.fcNorm ? "fc_norm.weight" : "norm.weight");
  c.copy(key("Transformer/encoder_norm/bias"),
         config.fcNorm ? "fc_norm.bias" : "norm.bias");
  dense(key("pre_logits"), "pre_logits.fc");
  dense(key("head"), "head");
  dense(key("head_dist"), "head_dist");
}

static void convertHuggingFace(Converter &c, const ModelConfig &config) {
  std::string root;
  for (StringRef prefix : {"vit.", "deit.", ""})
    if (c.source.find(
            (prefix + "embeddings.patch_embeddings.projection.weight").str()))
      root = prefix.str();
  c.copy(root + "embeddings.patch_embeddings.projection.weight",
         "patch_embed.proj.weight");
  c.copy(root + "embeddings.patch_embeddings.projection.bias",
         "patch_embed.proj.bias");
  c.copy(root + "embeddings.cls_token", "cls_token");
  c.copy(root + "embeddings.distillation_token", "dist_token");
  c.copy(root + "embeddings.position_embeddings", "pos_embed");
  auto linear = [&](const std::string &from, const std::string &to) {
    c.copy(from + ".weight", to + ".weight");
    c.copy(from + ".bias", to + ".bias");
  };
  for (int64_t i = 0; i < config.depth; ++i) {
    std::string src = root + "encoder.layer." + std::to_string(i) + ".";
    std::string dst = "blocks." + std::to_string(i) + ".";
    linear(src + "layernorm_before", dst + "norm1");
    linear(src + "layernorm_after", dst + "norm2");
    for (const char *field : {"weight", "bias"}) {
      std::vector<const Tensor *> parts;
      for (const char *part : {"query", "key", "value"})
        if (const Tensor *t =
                c.take(src + "attention.attention." + part + "." + field))
          parts.push_back(t);
      std::string from = src + "attention.attention.{query,key,value}." + field;
      if (parts.size() != 3)
        continue;
      if (std::optional<Tensor> qkv = concatRows(parts))
        c.put(dst + "attn.qkv." + field, std::move(*qkv), from);
      else
        c.fail(c.source.path + ": tensors '" + from + "' differ in shape");
    }
    linear(src + "attention.output.dense", dst + "attn.proj");
    linear(src + "intermediate.dense", dst + "mlp.fc1");
    linear(src + "output.dense", dst + "mlp.fc2");
  }
  linear(root + "layernorm", config.fcNorm ? "fc_norm" : "norm");
  linear(root + "pooler.dense", "pre_logits.fc");
  linear("classifier", "head");
  linear("cls_classifier", "head");
  linear("distillation_classifier", "head_dist");
}

/// The grid a position embedding of `rows` patch rows was trained on: the
/// model's own aspect ratio if it fits, else square.
static std::optional<std::pair<int64_t, int64_t>>
guessGrid(int64_t rows, const ModelConfig &config) {
  auto side =
      static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(rows))));
  if (side * side == rows)
    return std::make_pair(side, side);
  for (int64_t h = 1; h <= rows; ++h)
    if (rows % h == 0 &&
        h * config.gridWidth() == (rows / h) * config.gridHeight())
      return std::make_pair(h, rows / h);
  return std::nullopt;
}

Expected<ModelWeights> vitc::bindWeights(const ModelConfig &config,
                                         Checkpoint checkpoint,
                                         const BindOptions &options,
                                         std::vector<std::string> &notes) {
  Expected<CheckpointLayout> layout = detectLayout(checkpoint);
  if (!layout)
    return layout.takeError();
  Checkpoint converted;
  std::map<std::string, std::string> sourceKey;
  std::vector<std::string> unused;
  if (*layout == CheckpointLayout::Timm) {
    converted = std::move(checkpoint);
    for (const std::string &name : converted.names)
      sourceKey[name] = name;
  } else {
    Converter converter(checkpoint);
    if (*layout == CheckpointLayout::Official)
      convertOfficial(converter, config);
    else
      convertHuggingFace(converter, config);
    if (!converter.problem.empty())
      return weightsError(converter.problem);
    for (const std::string &name : checkpoint.names)
      if (!converter.used.contains(name))
        unused.push_back(name);
    converted = std::move(converter.converted);
    sourceKey = std::move(converter.sourceKey);
  }
  const std::string &path = converted.path;
  auto described = [&](const std::string &name) {
    const std::string &from = sourceKey[name];
    return from == name ? "'" + name + "'"
                        : "'" + name + "' (converted from '" + from + "')";
  };

  ModelWeights weights;
  llvm::StringSet<> expected;
  for (const ParamSpec &param : listParams(config)) {
    expected.insert(param.name);
    auto found = converted.tensors.find(param.name);
    Tensor *tensor =
        found == converted.tensors.end() ? nullptr : &found->second;
    if (!tensor)
      return weightsError(
          llvm::formatv("{0}: missing tensor '{1}' of shape {2} ({3} layout) "
                        "needed by model '{4}'",
                        path, param.name, formatShape(param.shape),
                        layoutName(*layout), config.name));
    if (tensor->shape == param.shape) {
      weights.push_back({param.name, std::move(*tensor)});
      continue;
    }
    // A position embedding for another resolution: resample its grid.
    const int64_t prefix = config.numPrefixTokens();
    bool resizable = param.name == "pos_embed" && tensor->shape.size() == 3 &&
                     tensor->shape[0] == 1 &&
                     tensor->shape[2] == param.shape[2] &&
                     tensor->shape[1] > prefix;
    if (resizable && !options.noResize) {
      if (auto grid = guessGrid(tensor->shape[1] - prefix, config)) {
        ResizeMethod method =
            options.resize.value_or(*layout == CheckpointLayout::Official
                                        ? ResizeMethod::BilinearAlignCorners
                                        : ResizeMethod::Bicubic);
        weights.push_back(
            {param.name, resizePositionEmbedding(
                             *tensor, prefix, grid->first, grid->second,
                             config.gridHeight(), config.gridWidth(), method)});
        notes.push_back(
            llvm::formatv("resized the position embedding from a {0}x{1} to a "
                          "{2}x{3} patch grid ({4})",
                          grid->first, grid->second, config.gridHeight(),
                          config.gridWidth(), resizeMethodName(method)));
        continue;
      }
    }
    return weightsError(
        llvm::formatv("{0}: tensor {1} has shape {2} but model '{3}' expects "
                      "{4}{5}",
                      path, described(param.name), formatShape(tensor->shape),
                      config.name, formatShape(param.shape),
                      resizable && options.noResize
                          ? " (position-embedding resize was disabled)"
                          : ""));
  }
  // A NaN or an infinity in any weight makes every output NaN: refuse it here,
  // naming the tensor, rather than compile a model that cannot work.
  if (!options.allowNonFinite)
    for (const auto &[name, tensor] : weights) {
      auto bad = llvm::find_if(tensor.data,
                               [](float v) { return !std::isfinite(v); });
      if (bad != tensor.data.end())
        return weightsError(llvm::formatv(
            "{0}: tensor {1} holds a non-finite value ({2} at element {3}); "
            "pass --allow-non-finite-weights to compile it anyway",
            path, described(name),
            std::isnan(*bad) ? "nan" : (*bad > 0 ? "inf" : "-inf"),
            bad - tensor.data.begin()));
    }
  for (const std::string &name : converted.names)
    if (!expected.contains(name))
      unused.push_back(sourceKey.count(name) ? sourceKey[name] : name);
  if (!unused.empty()) {
    std::string list = llvm::join(
        llvm::make_range(unused.begin(),
                         unused.begin() + std::min<size_t>(8, unused.size())),
        "', '");
    std::string more =
        unused.size() > 8
            ? llvm::formatv(" and {0} more", unused.size() - 8).str()
            : "";
    std::string message =
        llvm::formatv("{0}: {1} tensor(s) not used by model '{2}': '{3}'{4}",
                      path, unused.size(), config.name, list, more);
    if (!options.allowUnexpected)
      return weightsError(message +
                          " (pass --allow-unused-weights to ignore them)");
    notes.push_back("ignored " + message.substr(path.size() + 2));
  }
  return weights;
}

/// SplitMix64's output function: a well-mixed 64-bit value from a counter.
static uint64_t splitMix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// Fills `out` with standard normal samples truncated to +-2 standard
/// deviations (timm's trunc_normal_), times `scale`. Counter-based: sample i
/// of stream `key` depends on (key, i) alone, so a tensor fills in parallel
/// chunks and the result does not depend on how it is split. Box-Muller in
/// float on pairs (i even takes the cosine, i odd the sine); a sample beyond
/// +-2 is drawn again from the next pair of counters of its own.
static void fillTruncatedNormal(float *out, size_t count, uint64_t key,
                                float scale) {
  auto pairAt = [&](uint64_t pair, uint64_t attempt, float &c, float &s) {
    const uint64_t counter = (pair * 64 + attempt) * 2;
    const float u1 = ((splitMix64(key + counter) >> 40) + 1) * 0x1.0p-24f;
    const float u2 = (splitMix64(key + counter + 1) >> 40) * 0x1.0p-24f;
    const float r = std::sqrt(-2.0f * std::log(u1));
    const float angle = 2.0f * static_cast<float>(M_PI) * u2;
    c = r * std::cos(angle);
    s = r * std::sin(angle);
  };
  constexpr size_t chunk = 1 << 16; // pairs per task
  const size_t pairs = (count + 1) / 2;
  llvm::parallelFor(0, (pairs + chunk - 1) / chunk, [&](size_t task) {
    for (size_t p = task * chunk; p < std::min(pairs, (task + 1) * chunk);
         ++p) {
      float value[2];
      pairAt(p, 0, value[0], value[1]);
      for (size_t half = 0; half < 2 && 2 * p + half < count; ++half) {
        // Rejected (4.6% of samples): the next attempts of this element.
        for (uint64_t attempt = 1; std::fabs(value[half]) > 2.0f; ++attempt) {
          float c, s;
          pairAt(p, attempt, c, s);
          value[half] = half ? s : c;
          if (attempt == 63) // unreachable in practice: 0.046^63
            value[half] = 0.0f;
        }
        out[2 * p + half] = value[half] * scale;
      }
    }
  });
}

ModelWeights vitc::randomWeights(const ModelConfig &config, uint64_t seed) {
  ModelWeights weights;
  const uint64_t root = splitMix64(seed);
  for (const ParamSpec &param : listParams(config)) {
    Tensor tensor;
    tensor.shape = param.shape;
    tensor.data.resize(param.numElements());
    StringRef name = param.name;
    // Each parameter its own stream, keyed by its name.
    const uint64_t key = splitMix64(root ^ llvm::xxh3_64bits(name));
    const bool isNorm = name.contains("norm");
    if (isNorm && name.ends_with(".weight"))
      std::fill(tensor.data.begin(), tensor.data.end(), 1.0f);
    else if (!isNorm && name == "patch_embed.proj.weight")
      // LeCun normal: std 1/sqrt(fan_in).
      fillTruncatedNormal(
          tensor.data.data(), tensor.data.size(), key,
          1.0f / std::sqrt(static_cast<float>(
                     config.channels * config.patchSize * config.patchSize)));
    else
      fillTruncatedNormal(tensor.data.data(), tensor.data.size(), key, 0.02f);
    weights.push_back({param.name, std::move(tensor)});
  }
  return weights;
}
