//===- BuildModel.cpp - a ViT forward pass as vit dialect IR --------------===//
//
// Follows timm's VisionTransformer.forward (and the official JAX model it
// ports): patch embedding, prefix tokens, position embedding, pre-norm
// encoder blocks, final norm, pooling, optional pre-logits, head(s).
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/BuildModel.h"

#include "dialect/VitDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include <cmath>

using namespace mlir;
using namespace vitc;

namespace {

constexpr int64_t kBatch = ShapedType::kDynamic;

/// Emits one model's ops; knows every parameter's shape from listParams(), so
/// the IR and the weights file cannot disagree.
class ModelBuilder {
public:
  ModelBuilder(MLIRContext &context, const ModelConfig &config)
      : config(config), b(&context) {
    for (const ParamSpec &param : listParams(config))
      paramShapes[param.name] = param.shape;
  }

  OwningOpRef<ModuleOp> build();

private:
  RankedTensorType tensor(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.getF32Type());
  }
  RankedTensorType typeOf(Value value) {
    return cast<RankedTensorType>(value.getType());
  }
  Location loc(const Twine &part) {
    return NameLoc::get(b.getStringAttr(part));
  }

  /// The parameter `name`, or a null value when the model has none by that
  /// name (optional biases).
  Value param(const std::string &name, Location where) {
    auto it = paramShapes.find(name);
    if (it == paramShapes.end())
      return nullptr;
    return vit::ParamOp::create(b, where, tensor(it->second), name);
  }

  Value linear(Value input, const std::string &prefix, Location where) {
    Value weight = param(prefix + ".weight", where);
    Value bias = param(prefix + ".bias", where);
    SmallVector<int64_t> shape(typeOf(input).getShape().drop_back());
    shape.push_back(typeOf(weight).getDimSize(0));
    return vit::LinearOp::create(b, where, tensor(shape), input, weight, bias);
  }

  Value layerNorm(Value input, const std::string &prefix, Location where) {
    Value scale = param(prefix + ".weight", where);
    Value bias = param(prefix + ".bias", where);
    return vit::LayerNormOp::create(b, where, typeOf(input), input, scale, bias,
                                    b.getF32FloatAttr(config.layerNormEps));
  }

  Value embed(Value images);
  Value attention(Value x, const std::string &block);
  Value mlp(Value x, const std::string &block);
  Value head(Value x);

  const ModelConfig &config;
  OpBuilder b;
  llvm::StringMap<std::vector<int64_t>> paramShapes;
};

} // namespace

Value ModelBuilder::embed(Value images) {
  Location where = loc("patch_embed");
  Value weight = param("patch_embed.proj.weight", where);
  Value bias = param("patch_embed.proj.bias", where);
  Value x = vit::PatchProjectionOp::create(
      b, where, tensor({kBatch, config.numPatches(), config.width}), images,
      weight, bias);
  // DeiT orders the prefix as (cls, dist, patches): prepend dist first.
  for (const char *token : {"dist_token", "cls_token"}) {
    Location tokenLoc = loc(token);
    if (Value tokens = param(token, tokenLoc)) {
      auto shape = typeOf(x).getShape();
      x = vit::PrependTokensOp::create(
          b, tokenLoc, tensor({kBatch, shape[1] + 1, config.width}), x, tokens);
    }
  }
  Location posLoc = loc("pos_embed");
  return vit::AddPositionEmbeddingOp::create(b, posLoc, typeOf(x), x,
                                             param("pos_embed", posLoc));
}

Value ModelBuilder::attention(Value x, const std::string &block) {
  Location where = loc(block + ".attn");
  const int64_t tokens = config.numTokens(), heads = config.heads;
  Value normed = layerNorm(x, block + ".norm1", loc(block + ".norm1"));
  Value qkv = linear(normed, block + ".attn.qkv", where);
  auto headType = tensor({kBatch, heads, tokens, config.headDim()});
  auto split = vit::SplitQkvOp::create(b, where, headType, headType, headType,
                                       qkv, b.getI64IntegerAttr(heads));
  Value query = vit::ScaleOp::create(
      b, where, headType, split.getQuery(),
      b.getF32FloatAttr(1.0f /
                        std::sqrt(static_cast<float>(config.headDim()))));
  auto scoreType = tensor({kBatch, heads, tokens, tokens});
  Value scores =
      vit::MatmulOp::create(b, where, scoreType, query, split.getKey(),
                            /*transpose_rhs=*/b.getUnitAttr());
  Value probs = vit::SoftmaxOp::create(b, where, scoreType, scores);
  Value context =
      vit::MatmulOp::create(b, where, headType, probs, split.getValue(),
                            /*transpose_rhs=*/nullptr);
  Value merged = vit::MergeHeadsOp::create(b, where, typeOf(x), context);
  Value projected = linear(merged, block + ".attn.proj", where);
  return vit::AddOp::create(b, where, typeOf(x), x, projected);
}

Value ModelBuilder::mlp(Value x, const std::string &block) {
  Location where = loc(block + ".mlp");
  Value normed = layerNorm(x, block + ".norm2", loc(block + ".norm2"));
  Value hidden = linear(normed, block + ".mlp.fc1", where);
  switch (config.activation) {
  case Activation::GeluErf:
    hidden = vit::GeluOp::create(b, where, typeOf(hidden),
                                 vit::GeluApproximation::Erf, hidden);
    break;
  case Activation::GeluTanh:
    hidden = vit::GeluOp::create(b, where, typeOf(hidden),
                                 vit::GeluApproximation::Tanh, hidden);
    break;
  case Activation::Relu:
    hidden = vit::ReluOp::create(b, where, typeOf(hidden), hidden);
    break;
  }
  Value out = linear(hidden, block + ".mlp.fc2", where);
  return vit::AddOp::create(b, where, typeOf(x), x, out);
}

Value ModelBuilder::head(Value x) {
  auto pooledType = tensor({kBatch, config.width});
  if (config.finalNorm && !config.fcNorm)
    x = layerNorm(x, "norm", loc("norm"));
  Location poolLoc = loc("pool");
  Value pooled;
  if (config.pooling == Pooling::Mean)
    pooled =
        vit::TokenMeanOp::create(b, poolLoc, pooledType, x,
                                 b.getI64IntegerAttr(config.numPrefixTokens()));
  else
    pooled = vit::SelectTokenOp::create(b, poolLoc, pooledType, x,
                                        b.getI64IntegerAttr(0));
  if (config.finalNorm && config.fcNorm)
    pooled = layerNorm(pooled, "fc_norm", loc("fc_norm"));
  if (config.representationSize) {
    Location where = loc("pre_logits");
    pooled = linear(pooled, "pre_logits.fc", where);
    pooled = vit::TanhOp::create(b, where, typeOf(pooled), pooled);
  }
  // What the classifier reads: the runtime can return it as features.
  pooled.getDefiningOp()->setAttr("vit.features", b.getUnitAttr());
  if (!config.numClasses)
    return pooled;
  Value logits = linear(pooled, "head", loc("head"));
  if (!config.distilled)
    return logits;
  // DeiT at inference averages the class-token head and the distillation head.
  Location where = loc("head_dist");
  Value distToken = vit::SelectTokenOp::create(b, where, pooledType, x,
                                               b.getI64IntegerAttr(1));
  Value distLogits = linear(distToken, "head_dist", where);
  Value sum = vit::AddOp::create(b, where, typeOf(logits), logits, distLogits);
  return vit::ScaleOp::create(b, where, typeOf(sum), sum,
                              b.getF32FloatAttr(0.5f));
}

OwningOpRef<ModuleOp> ModelBuilder::build() {
  Location modelLoc = loc(config.name);
  OwningOpRef<ModuleOp> module = ModuleOp::create(modelLoc);
  // The model's name and preprocessing, for the library the backend writes.
  (*module)->setAttr(
      "vit.model", vit::ModelAttr::get(b.getContext(), config.name,
                                       b.getDenseF32ArrayAttr(config.inputMean),
                                       b.getDenseF32ArrayAttr(config.inputStd),
                                       b.getF32FloatAttr(config.cropFraction)));
  b.setInsertionPointToEnd(module->getBody());
  auto imageType =
      tensor({kBatch, config.channels, config.imageHeight, config.imageWidth});
  auto outputType = tensor({kBatch, config.outputWidth()});
  auto forward = func::FuncOp::create(
      b, modelLoc, "forward", b.getFunctionType({imageType}, {outputType}));
  b.setInsertionPointToStart(forward.addEntryBlock());

  Value x = embed(forward.getArgument(0));
  for (int64_t i = 0; i < config.depth; ++i) {
    std::string block = "blocks." + std::to_string(i);
    x = attention(x, block);
    x = mlp(x, block);
  }
  func::ReturnOp::create(b, loc("output"), head(x));
  return module;
}

OwningOpRef<ModuleOp> vitc::buildModel(MLIRContext &context,
                                       const ModelConfig &config) {
  context.loadDialect<vit::VitDialect, func::FuncDialect>();
  return ModelBuilder(context, config).build();
}
