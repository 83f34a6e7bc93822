//===- ConfigFile.cpp - model descriptions from JSON config files ---------===//
//
// Fields that change the math are read (or refused when vitc cannot honour
// them); fields that only matter for training (dropout rates, init schemes)
// are ignored. Any other field is an error, so a config that asks for
// something vitc does not do never compiles into a silently different model.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ConfigFile.h"
#include "support/Files.h"
#include "support/Json.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include <cmath>
#include <cstdio>
#include <limits>

using namespace vitc;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
namespace json = llvm::json;

namespace {

/// Typed access to one JSON object with messages that name the file and key.
class ConfigReader {
public:
  ConfigReader(const json::Object &object, StringRef path)
      : object(object), path(path) {}

  Error fail(StringRef key, const llvm::Twine &problem) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": '" + key + "' " + problem);
  }

  /// Reads an integer field into `out` if present.
  Error integer(StringRef key, int64_t &out) {
    const json::Value *value = object.get(key);
    if (!value || value->kind() == json::Value::Null)
      return Error::success();
    std::optional<int64_t> number = value->getAsInteger();
    if (!number)
      return fail(key, "must be an integer");
    out = *number;
    return Error::success();
  }

  Error number(StringRef key, double &out) {
    const json::Value *value = object.get(key);
    if (!value || value->kind() == json::Value::Null)
      return Error::success();
    std::optional<double> number = value->getAsNumber();
    if (!number)
      return fail(key, "must be a number");
    out = *number;
    return Error::success();
  }

  Error boolean(StringRef key, bool &out) {
    const json::Value *value = object.get(key);
    if (!value || value->kind() == json::Value::Null)
      return Error::success();
    std::optional<bool> flag = value->getAsBoolean();
    if (!flag)
      return fail(key, "must be true or false");
    out = *flag;
    return Error::success();
  }

  Error string(StringRef key, std::optional<std::string> &out) {
    const json::Value *value = object.get(key);
    if (!value || value->kind() == json::Value::Null)
      return Error::success();
    std::optional<StringRef> text = value->getAsString();
    if (!text)
      return fail(key, "must be a string");
    out = text->str();
    return Error::success();
  }

  /// An image size: one integer, or [height, width].
  Error size2d(StringRef key, int64_t &height, int64_t &width) {
    const json::Value *value = object.get(key);
    if (!value || value->kind() == json::Value::Null)
      return Error::success();
    if (std::optional<int64_t> side = value->getAsInteger()) {
      height = width = *side;
      return Error::success();
    }
    const json::Array *pair = value->getAsArray();
    if (!pair || pair->size() != 2 || !(*pair)[0].getAsInteger() ||
        !(*pair)[1].getAsInteger())
      return fail(key, "must be an integer or [height, width]");
    height = *(*pair)[0].getAsInteger();
    width = *(*pair)[1].getAsInteger();
    return Error::success();
  }

  /// Fails on the first key that is neither `known` nor `ignored`.
  Error rejectUnknown(const llvm::StringSet<> &known,
                      const llvm::StringSet<> &ignored) {
    for (const auto &entry : object) {
      StringRef key = entry.first;
      if (!known.contains(key) && !ignored.contains(key))
        return fail(
            key, "is not a setting vitc understands; remove it or describe the "
                 "model with flags");
    }
    return Error::success();
  }

  const json::Object &object;
  StringRef path;
};

} // namespace

#define VITC_TRY(expr)                                                         \
  if (Error err = (expr))                                                      \
    return err;

static Expected<Activation> parseActivation(ConfigReader &reader, StringRef key,
                                            StringRef name) {
  if (name == "gelu" || name == "gelu_erf")
    return Activation::GeluErf;
  if (name == "gelu_tanh" || name == "gelu_new" ||
      name == "gelu_pytorch_tanh" || name == "gelu_fast")
    return Activation::GeluTanh;
  if (name == "relu")
    return Activation::Relu;
  return reader.fail(key, "names the activation '" + name +
                              "'; vitc knows gelu, gelu_tanh (gelu_new, "
                              "gelu_pytorch_tanh) and relu");
}

/// timm VisionTransformer(**kwargs), with vitc's additions `format`,
/// A double as %g prints it: formatv's fixed style would print 1e300 as 301
/// digits and 1e-6 as 0.00.
static std::string shortNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

/// A LayerNorm epsilon is stored as a float; one outside float's range
/// would make the cast undefined behaviour, so it is refused here (validate()
/// refuses zero, negative and non-finite values from any source).
static Error checkEps(ConfigReader &r, StringRef key, double eps) {
  if (!std::isfinite(eps) || !(eps > 0) ||
      eps > std::numeric_limits<float>::max())
    return r.fail(key, llvm::formatv("must be a finite positive number that "
                                     "fits a float, got {0}",
                                     shortNumber(eps)));
  return Error::success();
}

/// `norm_eps`, `distilled` and `representation_size`.
static Expected<ModelConfig> parseTimm(ConfigReader &r) {
  ModelConfig c;
  c.name = "timm-config";
  VITC_TRY(r.size2d("img_size", c.imageHeight, c.imageWidth));
  int64_t patchHeight = c.patchSize, patchWidth = c.patchSize;
  VITC_TRY(r.size2d("patch_size", patchHeight, patchWidth));
  if (patchHeight != patchWidth)
    return r.fail("patch_size", "must be square for now, got " +
                                    llvm::Twine(patchHeight) + "x" +
                                    llvm::Twine(patchWidth));
  c.patchSize = patchHeight;
  VITC_TRY(r.integer("in_chans", c.channels));
  VITC_TRY(r.integer("embed_dim", c.width));
  VITC_TRY(r.integer("depth", c.depth));
  VITC_TRY(r.integer("num_heads", c.heads));
  double mlpRatio = 4.0;
  VITC_TRY(r.number("mlp_ratio", mlpRatio));
  // Converting a double outside int64's range is undefined behaviour, so the
  // MLP size is bounded before the cast. An out-of-range embed_dim is left to
  // validate(), which names it; the MLP size does not matter then.
  if (!std::isfinite(mlpRatio) || !(mlpRatio > 0))
    return r.fail("mlp_ratio", llvm::formatv("must be a finite positive "
                                             "number, got {0}",
                                             shortNumber(mlpRatio)));
  if (c.width >= 1 && c.width <= sizeLimits::kMaxWidth) {
    double mlpDim = c.width * mlpRatio;
    if (mlpDim > sizeLimits::kMaxMlpDim)
      return r.fail("mlp_ratio",
                    llvm::formatv("is {0}: with embed_dim {1} the MLP would "
                                  "have {2} units; vitc reads at most {3}",
                                  shortNumber(mlpRatio), c.width,
                                  shortNumber(mlpDim), sizeLimits::kMaxMlpDim));
    c.mlpDim = static_cast<int64_t>(mlpDim);
  }
  VITC_TRY(r.integer("num_classes", c.numClasses));
  VITC_TRY(r.boolean("class_token", c.classToken));
  VITC_TRY(r.boolean("qkv_bias", c.qkvBias));
  VITC_TRY(r.boolean("distilled", c.distilled));
  VITC_TRY(r.integer("representation_size", c.representationSize));
  double eps = c.layerNormEps;
  VITC_TRY(r.number("norm_eps", eps));
  VITC_TRY(checkEps(r, "norm_eps", eps));
  c.layerNormEps = static_cast<float>(eps);

  std::optional<std::string> pool, act;
  VITC_TRY(r.string("global_pool", pool));
  if (pool && *pool == "avg")
    c.pooling = Pooling::Mean;
  else if (pool && *pool != "token")
    return r.fail("global_pool",
                  "is '" + *pool + "'; vitc supports 'token' and 'avg'");
  // timm: fc_norm None means "fc_norm exactly when pooling by average".
  c.fcNorm = c.pooling == Pooling::Mean;
  VITC_TRY(r.boolean("fc_norm", c.fcNorm));
  VITC_TRY(r.string("act_layer", act));
  if (act) {
    Expected<Activation> activation = parseActivation(r, "act_layer", *act);
    if (!activation)
      return activation.takeError();
    c.activation = *activation;
  }

  // Arguments that change the math in ways vitc does not implement.
  for (StringRef key : {"no_embed_class", "pre_norm", "dynamic_img_size"}) {
    bool enabled = false;
    VITC_TRY(r.boolean(key, enabled));
    if (enabled)
      return r.fail(key, "= true is not supported");
  }
  int64_t regTokens = 0;
  VITC_TRY(r.integer("reg_tokens", regTokens));
  if (regTokens)
    return r.fail("reg_tokens", "is not supported (register tokens)");
  if (const json::Value *init = r.object.get("init_values");
      init && init->kind() != json::Value::Null)
    return r.fail("init_values", "is not supported (layer scale)");
  bool finalNorm = true;
  VITC_TRY(r.boolean("final_norm", finalNorm));
  c.finalNorm = finalNorm;

  VITC_TRY(
      r.rejectUnknown({"format",
                       "img_size",
                       "patch_size",
                       "in_chans",
                       "embed_dim",
                       "depth",
                       "num_heads",
                       "mlp_ratio",
                       "num_classes",
                       "class_token",
                       "qkv_bias",
                       "distilled",
                       "representation_size",
                       "norm_eps",
                       "global_pool",
                       "fc_norm",
                       "act_layer",
                       "no_embed_class",
                       "pre_norm",
                       "dynamic_img_size",
                       "reg_tokens",
                       "init_values",
                       "final_norm",
                       "architecture"},
                      {"drop_rate", "pos_drop_rate", "patch_drop_rate",
                       "proj_drop_rate", "attn_drop_rate", "drop_path_rate",
                       "weight_init", "qk_norm", "proj_bias"}));
  bool qkNorm = false;
  VITC_TRY(r.boolean("qk_norm", qkNorm));
  if (qkNorm)
    return r.fail("qk_norm", "= true is not supported");
  bool projBias = true;
  VITC_TRY(r.boolean("proj_bias", projBias));
  if (!projBias)
    return r.fail("proj_bias", "= false is not supported");
  return c;
}

/// Hugging Face ViTConfig; defaults are ViTConfig's own (note eps 1e-12).
static Expected<ModelConfig> parseHuggingFace(ConfigReader &r) {
  ModelConfig c;
  c.name = "hf-config";
  c.cropFraction = 0; // ViTImageProcessor resizes to the input size
  c.layerNormEps = 1e-12f;
  c.numClasses = 2; // PretrainedConfig's default num_labels
  VITC_TRY(r.integer("hidden_size", c.width));
  VITC_TRY(r.integer("num_hidden_layers", c.depth));
  VITC_TRY(r.integer("num_attention_heads", c.heads));
  VITC_TRY(r.integer("intermediate_size", c.mlpDim));
  VITC_TRY(r.size2d("image_size", c.imageHeight, c.imageWidth));
  VITC_TRY(r.integer("patch_size", c.patchSize));
  VITC_TRY(r.integer("num_channels", c.channels));
  VITC_TRY(r.boolean("qkv_bias", c.qkvBias));
  double eps = c.layerNormEps;
  VITC_TRY(r.number("layer_norm_eps", eps));
  VITC_TRY(checkEps(r, "layer_norm_eps", eps));
  c.layerNormEps = static_cast<float>(eps);
  std::optional<std::string> act;
  VITC_TRY(r.string("hidden_act", act));
  if (act) {
    Expected<Activation> activation = parseActivation(r, "hidden_act", *act);
    if (!activation)
      return activation.takeError();
    c.activation = *activation;
  }
  if (const json::Value *labels = r.object.get("id2label")) {
    const json::Object *map = labels->getAsObject();
    if (!map)
      return r.fail("id2label", "must be an object");
    c.numClasses = static_cast<int64_t>(map->size());
  }
  VITC_TRY(r.integer("num_labels", c.numClasses));
  if (const json::Value *archs = r.object.get("architectures")) {
    const json::Array *list = archs->getAsArray();
    if (!list || list->empty() || !(*list)[0].getAsString())
      return r.fail("architectures", "must be a list of class names");
    StringRef arch = *(*list)[0].getAsString();
    if (arch == "ViTModel")
      c.numClasses = 0;
    else if (arch != "ViTForImageClassification")
      return r.fail("architectures",
                    "names '" + arch +
                        "'; vitc reads ViTForImageClassification and ViTModel");
  }
  VITC_TRY(r.rejectUnknown(
      {"model_type", "hidden_size", "num_hidden_layers", "num_attention_heads",
       "intermediate_size", "image_size", "patch_size", "num_channels",
       "qkv_bias", "layer_norm_eps", "hidden_act", "id2label", "label2id",
       "num_labels", "architectures"},
      {"hidden_dropout_prob", "attention_probs_dropout_prob",
       "initializer_range", "encoder_stride", "transformers_version",
       "torch_dtype", "dtype", "problem_type", "pooler_output_size",
       "pooler_act", "_name_or_path", "finetuning_task"}));
  return c;
}

Expected<ModelConfig> vitc::parseConfigJson(StringRef text, StringRef path) {
  if (llvm::Error error =
          checkJsonInput(text, "model config file '" + path + "'"))
    return error;
  Expected<json::Value> parsed = json::parse(text);
  if (!parsed)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        path + ": not valid JSON: " + llvm::toString(parsed.takeError()));
  const json::Object *object = parsed->getAsObject();
  if (!object)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        path + ": expected a JSON object at the top level");
  ConfigReader reader(*object, path);
  Expected<ModelConfig> config = [&]() -> Expected<ModelConfig> {
    if (std::optional<StringRef> format = object->getString("format")) {
      if (*format == "timm")
        return parseTimm(reader);
      return reader.fail("format", "is '" + *format +
                                       "'; vitc reads 'timm' (or a Hugging "
                                       "Face config.json without 'format')");
    }
    std::optional<StringRef> modelType = object->getString("model_type");
    if (modelType && *modelType != "vit" && *modelType != "deit")
      return reader.fail("model_type",
                         "is '" + *modelType + "'; vitc reads ViT configs");
    if (modelType || object->get("hidden_size"))
      return parseHuggingFace(reader);
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        path + ": cannot tell the format: expected \"format\": \"timm\" (timm "
               "VisionTransformer arguments) or a Hugging Face ViTConfig with "
               "\"model_type\"");
  }();
  if (!config)
    return config.takeError();
  // Name the file: the message from validate() names only the model.
  if (Error err = config->validate())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": " +
                                       llvm::toString(std::move(err)));
  return config;
}

Expected<ModelConfig> vitc::readConfigFile(StringRef path) {
  auto buffer = readRegularFile(path, "config file", kMaxJsonFileBytes);
  if (!buffer)
    return buffer.takeError();
  return parseConfigJson((*buffer)->getBuffer(), path);
}
