//===- VitOps.cpp - verifiers of the vit ops ------------------------------===//
//
// Each verifier derives the shapes the op's math implies from its operands
// and compares them with what the IR states. ODS has already checked that
// every operand and result is a ranked f32 tensor.
//
//===----------------------------------------------------------------------===//

#include "dialect/VitDialect.h"

#include "dialect/ShapeChecks.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::vit;

static ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

static bool isKnown(int64_t dim) { return !ShapedType::isDynamic(dim); }

LogicalResult ParamOp::verify() {
  if (getName().empty())
    return emitOpError() << "parameter name must not be empty";
  if (!getValue().getType().hasStaticShape())
    return emitOpError() << "parameter '" << getName()
                         << "' must have a static shape, got "
                         << formatShape(shapeOf(getValue()));
  return success();
}

/// A GEMM weight [M, K...] and its optional per-output-channel scale: an i8
/// weight needs a scale [M] (it is q * scale), a float weight has none. Only
/// the fused kernels (`takesScale`) have i8 and bf16 GEMMs; other ops pass a
/// null `scale` and take f32 or f16 weights.
static LogicalResult verifyWeightScale(Operation *op, StringRef what,
                                       Value weight, Value scale,
                                       bool takesScale) {
  auto type = cast<RankedTensorType>(weight.getType());
  bool quantized = type.getElementType().isInteger(8);
  if (quantized && !takesScale)
    return op->emitOpError()
           << what << " is i8, which only fused_mlp and fused_attention "
           << "weights with a scale may be";
  if (type.getElementType().isBF16() && !takesScale)
    return op->emitOpError()
           << what << " is bf16, which only fused_mlp and fused_attention "
           << "weights may be";
  if (quantized && !scale)
    return op->emitOpError() << what << " is i8 but has no scale";
  if (!quantized && scale)
    return op->emitOpError() << what << " has a scale but is "
                             << type.getElementType() << ", not i8";
  if (scale)
    return checkShape(op, (what + " scale").str(), scale.getType(),
                      {type.getDimSize(0)});
  return success();
}

LogicalResult PatchProjectionOp::verify() {
  if (failed(verifyWeightScale(*this, "weight", getWeight(), {}, false)))
    return failure();
  if (failed(checkRank(*this, "images", getImages().getType(), 4)) ||
      failed(checkRank(*this, "weight", getWeight().getType(), 4)))
    return failure();
  ArrayRef<int64_t> images = shapeOf(getImages());
  ArrayRef<int64_t> weight = shapeOf(getWeight());
  int64_t batch = images[0], channels = images[1], height = images[2],
          width = images[3];
  int64_t dim = weight[0], patchH = weight[2], patchW = weight[3];
  if (failed(checkShape(*this, "weight", getWeight().getType(),
                        {dim, channels, patchH, patchW})))
    return failure();
  if (isKnown(patchH) && isKnown(height) && height % patchH != 0)
    return emitOpError() << "patch height " << patchH
                         << " does not divide image height " << height;
  if (isKnown(patchW) && isKnown(width) && width % patchW != 0)
    return emitOpError() << "patch width " << patchW
                         << " does not divide image width " << width;
  if (getBias() &&
      failed(checkShape(*this, "bias", getBias().getType(), {dim})))
    return failure();
  int64_t rows = isKnown(height) && isKnown(patchH) ? height / patchH
                                                    : ShapedType::kDynamic;
  int64_t cols =
      isKnown(width) && isKnown(patchW) ? width / patchW : ShapedType::kDynamic;
  return checkShape(*this, "result", getType(),
                    {batch, mulDims(rows, cols), dim});
}

LogicalResult PrependTokensOp::verify() {
  if (failed(checkRank(*this, "input", getInput().getType(), 3)) ||
      failed(checkRank(*this, "tokens", getTokens().getType(), 3)))
    return failure();
  ArrayRef<int64_t> input = shapeOf(getInput());
  int64_t count = shapeOf(getTokens())[1];
  if (failed(checkShape(*this, "tokens", getTokens().getType(),
                        {1, count, input[2]})))
    return failure();
  int64_t total = isKnown(count) && isKnown(input[1]) ? count + input[1]
                                                      : ShapedType::kDynamic;
  return checkShape(*this, "result", getType(), {input[0], total, input[2]});
}

LogicalResult AddPositionEmbeddingOp::verify() {
  if (failed(checkRank(*this, "input", getInput().getType(), 3)))
    return failure();
  ArrayRef<int64_t> input = shapeOf(getInput());
  if (failed(checkShape(*this, "embedding", getEmbedding().getType(),
                        {1, input[1], input[2]})))
    return failure();
  return checkShape(*this, "result", getType(), input);
}

LogicalResult LayerNormOp::verify() {
  if (failed(
          checkRank(*this, "input", getInput().getType(), 1, /*orMore=*/true)))
    return failure();
  ArrayRef<int64_t> input = shapeOf(getInput());
  if (failed(
          checkShape(*this, "scale", getScale().getType(), {input.back()})) ||
      failed(checkShape(*this, "bias", getBias().getType(), {input.back()})))
    return failure();
  if (!(getEpsilon().convertToFloat() > 0.0f))
    return emitOpError() << "epsilon must be positive, got "
                         << getEpsilon().convertToFloat();
  return checkShape(*this, "result", getType(), input);
}

LogicalResult LinearOp::verify() {
  if (failed(verifyWeightScale(*this, "weight", getWeight(), {}, false)))
    return failure();
  if (failed(checkRank(*this, "input", getInput().getType(), 2,
                       /*orMore=*/true)) ||
      failed(checkRank(*this, "weight", getWeight().getType(), 2)))
    return failure();
  ArrayRef<int64_t> input = shapeOf(getInput());
  int64_t outFeatures = shapeOf(getWeight())[0];
  if (failed(checkShape(*this, "weight", getWeight().getType(),
                        {outFeatures, input.back()})))
    return failure();
  if (getBias() &&
      failed(checkShape(*this, "bias", getBias().getType(), {outFeatures})))
    return failure();
  SmallVector<int64_t> result(input.drop_back());
  result.push_back(outFeatures);
  return checkShape(*this, "result", getType(), result);
}

LogicalResult MatmulOp::verify() {
  if (failed(checkRank(*this, "lhs", getLhs().getType(), 2, /*orMore=*/true)))
    return failure();
  ArrayRef<int64_t> lhs = shapeOf(getLhs());
  if (failed(checkRank(*this, "rhs", getRhs().getType(), lhs.size())))
    return failure();
  ArrayRef<int64_t> rhs = shapeOf(getRhs());
  int64_t cols = getTransposeRhs() ? rhs[rhs.size() - 2] : rhs.back();
  SmallVector<int64_t> expectedRhs(lhs.drop_back(2));
  if (getTransposeRhs())
    expectedRhs.append({cols, lhs.back()});
  else
    expectedRhs.append({lhs.back(), cols});
  if (failed(checkShape(*this, "rhs", getRhs().getType(), expectedRhs)))
    return failure();
  SmallVector<int64_t> result(lhs.drop_back());
  result.push_back(cols);
  return checkShape(*this, "result", getType(), result);
}

LogicalResult SplitQkvOp::verify() {
  if (failed(checkRank(*this, "input", getInput().getType(), 3)))
    return failure();
  int64_t heads = getHeadsAttr().getInt();
  if (heads < 1)
    return emitOpError() << "heads must be positive, got " << heads;
  ArrayRef<int64_t> input = shapeOf(getInput());
  int64_t width = input[2];
  if (isKnown(width) && width % (3 * heads) != 0)
    return emitOpError() << "heads " << heads
                         << " do not divide the width: fused qkv width "
                         << width << " is not a multiple of 3 x " << heads;
  int64_t headDim = isKnown(width) ? width / (3 * heads) : ShapedType::kDynamic;
  return checkShape(*this, "result", getQuery().getType(),
                    {input[0], heads, input[1], headDim});
}

LogicalResult MergeHeadsOp::verify() {
  if (failed(checkRank(*this, "input", getInput().getType(), 4)))
    return failure();
  ArrayRef<int64_t> input = shapeOf(getInput());
  return checkShape(*this, "result", getType(),
                    {input[0], input[2], mulDims(input[1], input[3])});
}

/// Shared by the two ops that reduce [B, N, D] to [B, D]: `first` is the
/// first token they read, which must exist.
static LogicalResult verifyTokenReduction(Operation *op, Value input,
                                          Type resultType, StringRef what,
                                          int64_t first) {
  if (failed(checkRank(op, "input", input.getType(), 3)))
    return failure();
  ArrayRef<int64_t> shape = shapeOf(input);
  if (first < 0 || (isKnown(shape[1]) && first >= shape[1]))
    return op->emitOpError() << what << " " << first << " is out of range for "
                             << shape[1] << " tokens";
  return checkShape(op, "result", resultType, {shape[0], shape[2]});
}

LogicalResult SelectTokenOp::verify() {
  return verifyTokenReduction(*this, getInput(), getType(), "token index",
                              getIndexAttr().getInt());
}

LogicalResult TokenMeanOp::verify() {
  return verifyTokenReduction(*this, getInput(), getType(), "skip",
                              getSkipAttr().getInt());
}

/// The layer norm both fused blocks start with: scale and bias [D], a
/// positive epsilon.
static LogicalResult verifyPreNorm(Operation *op, Value scale, Value bias,
                                   int64_t width, APFloat epsilon) {
  if (failed(checkShape(op, "norm_scale", scale.getType(), {width})) ||
      failed(checkShape(op, "norm_bias", bias.getType(), {width})))
    return failure();
  if (!(epsilon.convertToFloat() > 0.0f))
    return op->emitOpError()
           << "epsilon must be positive, got " << epsilon.convertToFloat();
  return success();
}

LogicalResult FusedMlpOp::verify() {
  if (failed(checkRank(*this, "input", getInput().getType(), 2,
                       /*orMore=*/true)))
    return failure();
  ArrayRef<int64_t> input = shapeOf(getInput());
  int64_t width = input.back();
  if (failed(verifyPreNorm(*this, getNormScale(), getNormBias(), width,
                           getEpsilon())) ||
      failed(checkRank(*this, "fc1_weight", getFc1Weight().getType(), 2)))
    return failure();
  int64_t hidden = shapeOf(getFc1Weight())[0];
  if (failed(checkShape(*this, "fc1_weight", getFc1Weight().getType(),
                        {hidden, width})) ||
      failed(checkShape(*this, "fc1_bias", getFc1Bias().getType(), {hidden})) ||
      failed(checkShape(*this, "fc2_weight", getFc2Weight().getType(),
                        {width, hidden})) ||
      failed(checkShape(*this, "fc2_bias", getFc2Bias().getType(), {width})) ||
      failed(verifyWeightScale(*this, "fc1_weight", getFc1Weight(),
                               getFc1Scale(), true)) ||
      failed(verifyWeightScale(*this, "fc2_weight", getFc2Weight(),
                               getFc2Scale(), true)))
    return failure();
  return checkShape(*this, "result", getType(), input);
}

LogicalResult FusedAttentionOp::verify() {
  if (failed(checkRank(*this, "input", getInput().getType(), 3)))
    return failure();
  ArrayRef<int64_t> input = shapeOf(getInput());
  int64_t width = input[2];
  int64_t heads = getHeadsAttr().getInt();
  if (heads < 1 || (isKnown(width) && width % heads != 0))
    return emitOpError() << "heads " << heads << " do not divide the width "
                         << width;
  if (failed(verifyPreNorm(*this, getNormScale(), getNormBias(), width,
                           getEpsilon())) ||
      failed(checkShape(*this, "qkv_weight", getQkvWeight().getType(),
                        {mulDims(3, width), width})) ||
      (getQkvBias() &&
       failed(checkShape(*this, "qkv_bias", getQkvBias().getType(),
                         {mulDims(3, width)}))) ||
      failed(checkShape(*this, "proj_weight", getProjWeight().getType(),
                        {width, width})) ||
      failed(checkShape(*this, "proj_bias", getProjBias().getType(), {width})) ||
      failed(verifyWeightScale(*this, "qkv_weight", getQkvWeight(),
                               getQkvScale(), true)) ||
      failed(verifyWeightScale(*this, "proj_weight", getProjWeight(),
                               getProjScale(), true)))
    return failure();
  // The result keeps all tokens or, pruned, the first T of them.
  Type resultType = getResult().getType();
  if (failed(checkRank(*this, "result", resultType, 3)))
    return failure();
  int64_t queries = shapeOf(getResult())[1];
  if (isKnown(queries) && isKnown(input[1]) && (queries < 1 || queries > input[1]))
    return emitOpError() << "result keeps " << queries << " tokens of the input's "
                         << input[1] << "; it must keep between 1 and all of them";
  if (failed(checkShape(*this, "result", resultType, {input[0], queries, width})))
    return failure();
  return verifyAttentionMaps(queries, input[1]);
}

/// The optional maps: none, or class_attention (and mean_attention) for the
/// query rows map_rows names.
LogicalResult FusedAttentionOp::verifyAttentionMaps(int64_t queries, int64_t tokens) {
  auto maps = getAttentionMaps();
  std::optional<ArrayRef<int64_t>> rows = getMapRows();
  if (maps.empty()) {
    if (rows || getMapMean())
      return emitOpError() << "map_rows or map_mean without the attention-map results";
    return success();
  }
  if (maps.size() > 2 || !rows)
    return emitOpError() << "attention maps are class_attention and optionally "
                            "mean_attention, with map_rows; got "
                         << maps.size() << " results"
                         << (rows ? "" : " and no map_rows");
  if (rows->size() != 2 || (*rows)[0] < 0 || (*rows)[0] >= (*rows)[1] ||
      (isKnown(queries) && (*rows)[1] > queries))
    return emitOpError() << "map_rows must be [begin, end) within the " << queries
                         << " query rows";
  int64_t mapRows = getMapMean() ? 1 : (*rows)[1] - (*rows)[0];
  int64_t batch = shapeOf(getInput())[0];
  if (failed(checkShape(*this, "class_attention", maps[0].getType(),
                        {batch, getHeadsAttr().getInt(), mapRows, tokens})))
    return failure();
  if (maps.size() == 1)
    return success();
  return checkShape(*this, "mean_attention", maps[1].getType(),
                    {batch, queries, tokens});
}

LogicalResult FusedPatchEmbedOp::verify() {
  if (failed(verifyWeightScale(*this, "weight", getWeight(), {}, false)))
    return failure();
  if (failed(checkRank(*this, "images", getImages().getType(), 4)) ||
      failed(checkRank(*this, "weight", getWeight().getType(), 4)))
    return failure();
  ArrayRef<int64_t> images = shapeOf(getImages());
  ArrayRef<int64_t> weight = shapeOf(getWeight());
  int64_t dim = weight[0], patchH = weight[2], patchW = weight[3];
  if (failed(checkShape(*this, "weight", getWeight().getType(),
                        {dim, images[1], patchH, patchW})))
    return failure();
  if (!isKnown(images[2]) || !isKnown(images[3]) || !isKnown(patchH) ||
      !isKnown(patchW) || patchH < 1 || patchW < 1)
    return emitOpError() << "image and patch sizes must be static, got images "
                         << formatShape(images) << " and weight "
                         << formatShape(weight);
  if (images[2] % patchH != 0 || images[3] % patchW != 0)
    return emitOpError() << "patch " << patchH << "x" << patchW
                         << " does not divide the image " << images[2] << "x"
                         << images[3];
  if (getBias() &&
      failed(checkShape(*this, "bias", getBias().getType(), {dim})))
    return failure();
  int64_t tokens = (images[2] / patchH) * (images[3] / patchW);
  for (auto [i, prefix] : llvm::enumerate(getPrefixTokens())) {
    std::string what = "prefix token operand #" + std::to_string(i);
    if (failed(checkRank(*this, what, prefix.getType(), 3)))
      return failure();
    int64_t count = shapeOf(prefix)[1];
    if (!isKnown(count))
      return emitOpError() << what << " must have a static token count, got "
                           << formatShape(shapeOf(prefix));
    if (failed(checkShape(*this, what, prefix.getType(), {1, count, dim})))
      return failure();
    tokens += count;
  }
  if (failed(checkShape(*this, "position_embedding",
                        getPositionEmbedding().getType(), {1, tokens, dim})))
    return failure();
  return checkShape(*this, "result", getType(), {images[0], tokens, dim});
}

LogicalResult FusedHeadOp::verify() {
  for (auto [what, weight] :
       {std::pair<StringRef, Value>{"pre_logits_weight", getPreLogitsWeight()},
        {"head_weight", getHeadWeight()},
        {"dist_weight", getDistWeight()}})
    if (weight && failed(verifyWeightScale(*this, what, weight, {}, false)))
      return failure();
  if (failed(checkRank(*this, "input", getInput().getType(), 3)))
    return failure();
  ArrayRef<int64_t> input = shapeOf(getInput());
  int64_t batch = input[0], tokens = input[1], width = input[2];
  int64_t skip = getSkip();
  if (getPooling() == HeadPooling::Mean &&
      (skip < 0 || (isKnown(tokens) && skip >= tokens)))
    return emitOpError() << "mean pooling skips " << skip
                         << " tokens, but the input has " << tokens;
  if (getPooling() == HeadPooling::ClassToken &&
      (skip != 0 || (isKnown(tokens) && tokens < 1)))
    return emitOpError() << "class-token pooling reads token 0 and takes skip = "
                            "0, got skip = "
                         << skip << " and " << tokens << " tokens";
  for (auto [weight, bias, name] :
       {std::make_tuple(getNormScale(), getNormBias(), "norm"),
        std::make_tuple(getPreLogitsWeight(), getPreLogitsBias(), "pre_logits"),
        std::make_tuple(getHeadWeight(), getHeadBias(), "classifier"),
        std::make_tuple(getDistWeight(), getDistBias(), "dist_classifier")})
    if (bool(weight) != bool(bias))
      return emitOpError() << "the " << name
                           << " needs both its weight and its bias";
  if (bool(getNormScale()) != bool(getEpsilon()) ||
      bool(getNormScale()) != bool(getNormAt()))
    return emitOpError() << "a head norm needs its scale, bias, placement and "
                            "epsilon together";
  if (getNormScale() && failed(verifyPreNorm(*this, getNormScale(),
                                             getNormBias(), width,
                                             *getEpsilon())))
    return failure();
  int64_t features = width;
  if (getPreLogitsWeight()) {
    if (failed(checkRank(*this, "pre_logits_weight",
                         getPreLogitsWeight().getType(), 2)))
      return failure();
    features = shapeOf(getPreLogitsWeight())[0];
    if (failed(checkShape(*this, "pre_logits_weight",
                          getPreLogitsWeight().getType(), {features, width})) ||
        failed(checkShape(*this, "pre_logits_bias",
                          getPreLogitsBias().getType(), {features})))
      return failure();
  }
  if (failed(checkShape(*this, "features", getFeatures().getType(),
                        {batch, features})))
    return failure();
  if (bool(getHeadWeight()) != bool(getLogits()))
    return emitOpError() << "a classifier and the logits result go together";
  if (!getHeadWeight()) {
    if (getDistWeight())
      return emitOpError() << "a distillation classifier needs a classifier";
    return success();
  }
  if (failed(checkRank(*this, "head_weight", getHeadWeight().getType(), 2)))
    return failure();
  int64_t classes = shapeOf(getHeadWeight())[0];
  if (failed(checkShape(*this, "head_weight", getHeadWeight().getType(),
                        {classes, features})) ||
      failed(checkShape(*this, "head_bias", getHeadBias().getType(),
                        {classes})))
    return failure();
  if (getDistWeight()) {
    if (getPooling() != HeadPooling::ClassToken || getPreLogitsWeight() ||
        getNormAt() == HeadNormPlacement::Pooled)
      return emitOpError()
             << "a distillation classifier needs class-token pooling, no "
                "pre-logits and no pooled norm";
    if (isKnown(tokens) && tokens < 2)
      return emitOpError() << "a distillation classifier reads token 1, but "
                              "the input has "
                           << tokens << " token";
    if (failed(checkShape(*this, "dist_weight", getDistWeight().getType(),
                          {classes, width})) ||
        failed(checkShape(*this, "dist_bias", getDistBias().getType(),
                          {classes})))
      return failure();
  }
  return checkShape(*this, "logits", getLogits().getType(), {batch, classes});
}

#define GET_OP_CLASSES
#include "dialect/VitOps.cpp.inc"
