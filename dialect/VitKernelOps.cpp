//===- VitKernelOps.cpp - KernelOpInterface of the vit ops ----------------===//
//
// What each kernel op tells the backend about itself: its kind (which tile
// it takes), which operands are GEMM weights, and its GEMM FLOPs per image.
// Ops not listed here are element-wise kernels with the interface's
// defaults.
//
//===----------------------------------------------------------------------===//

#include "dialect/VitDialect.h"

using namespace mlir;
using namespace mlir::vit;

namespace {

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

/// Rows of an activation [B, rows..., width] per image.
double rowsPerImage(Value value) {
  double rows = 1;
  for (int64_t dim : shapeOf(value).drop_front().drop_back())
    rows *= dim;
  return rows;
}

/// 2 x the multiply-adds of a linear layer of weight [M, K...] over `rows`
/// rows; 0 without a weight.
double gemmFlops(double rows, Value weight) {
  if (!weight)
    return 0.0;
  double mk = 1;
  for (int64_t dim : shapeOf(weight))
    mk *= dim;
  return 2.0 * rows * mk;
}

/// The operand numbers of the present (optional) operands in `ranges`.
SmallVector<unsigned>
operandNumbers(std::initializer_list<MutableOperandRange> ranges) {
  SmallVector<unsigned> numbers;
  for (MutableOperandRange range : ranges)
    for (OpOperand &operand : range)
      numbers.push_back(operand.getOperandNumber());
  return numbers;
}

/// The operand number of the (optional) scale paired with operand `weight`,
/// or -1: `pairs` are (weight, its scale) of a kernel op.
int scaleOperand(
    unsigned weight,
    std::initializer_list<std::pair<OpOperand &, MutableOperandRange>> pairs) {
  for (auto [w, scale] : pairs)
    if (w.getOperandNumber() == weight && !scale.empty())
      return static_cast<int>(scale[0].getOperandNumber());
  return -1;
}

} // namespace

// Patch projection: a GEMM over each patch's (x, y, c).
KernelKind PatchProjectionOp::getKernelKind() { return KernelKind::Gemm; }
SmallVector<unsigned> PatchProjectionOp::getGemmWeightOperands() {
  return {getWeightMutable().getOperandNumber()};
}
double PatchProjectionOp::getFlopsPerImage() {
  return gemmFlops(rowsPerImage(getResult()), getWeight());
}

KernelKind FusedPatchEmbedOp::getKernelKind() { return KernelKind::Gemm; }
SmallVector<unsigned> FusedPatchEmbedOp::getGemmWeightOperands() {
  return {getWeightMutable().getOperandNumber()};
}
double FusedPatchEmbedOp::getFlopsPerImage() {
  return gemmFlops(rowsPerImage(getResult()), getWeight());
}

KernelKind LayerNormOp::getKernelKind() { return KernelKind::RowReduce; }
KernelKind SoftmaxOp::getKernelKind() { return KernelKind::RowReduce; }

KernelKind LinearOp::getKernelKind() { return KernelKind::Gemm; }
SmallVector<unsigned> LinearOp::getGemmWeightOperands() {
  return {getWeightMutable().getOperandNumber()};
}
double LinearOp::getFlopsPerImage() {
  return gemmFlops(rowsPerImage(getInput()), getWeight());
}

// A batched matmul of two activations: no weights, its width is the result's.
KernelKind MatmulOp::getKernelKind() { return KernelKind::Gemm; }
SmallVector<int64_t> MatmulOp::getGemmWidths() {
  return {getType().getShape().back()};
}
double MatmulOp::getFlopsPerImage() {
  double outputs = 1;
  for (int64_t dim : getType().getShape().drop_front())
    outputs *= dim;
  return 2.0 * outputs * shapeOf(getLhs()).back();
}

KernelKind FusedMlpOp::getKernelKind() { return KernelKind::Gemm; }
SmallVector<unsigned> FusedMlpOp::getGemmWeightOperands() {
  return {getFc1WeightMutable().getOperandNumber(),
          getFc2WeightMutable().getOperandNumber()};
}
int FusedMlpOp::getWeightScaleOperand(unsigned weight) {
  return scaleOperand(weight, {{getFc1WeightMutable(), getFc1ScaleMutable()},
                               {getFc2WeightMutable(), getFc2ScaleMutable()}});
}
double FusedMlpOp::getFlopsPerImage() {
  double rows = rowsPerImage(getInput());
  return gemmFlops(rows, getFc1Weight()) + gemmFlops(rows, getFc2Weight());
}

KernelKind FusedAttentionOp::getKernelKind() { return KernelKind::Attention; }
SmallVector<unsigned> FusedAttentionOp::getGemmWeightOperands() {
  return {getQkvWeightMutable().getOperandNumber(),
          getProjWeightMutable().getOperandNumber()};
}
int FusedAttentionOp::getWeightScaleOperand(unsigned weight) {
  return scaleOperand(weight,
                      {{getQkvWeightMutable(), getQkvScaleMutable()},
                       {getProjWeightMutable(), getProjScaleMutable()}});
}
double FusedAttentionOp::getFlopsPerImage() {
  double tokens = rowsPerImage(getInput()), queries = rowsPerImage(getResult()),
         width = shapeOf(getInput()).back();
  // q·kᵀ and probs·v: 2 x (queries x N x D) multiply-adds over all heads;
  // the projection only for the query rows.
  return gemmFlops(tokens, getQkvWeight()) +
         gemmFlops(queries, getProjWeight()) +
         2.0 * 2.0 * queries * tokens * width;
}

// A head without a classifier or pre-logits (features only) has no GEMM.
KernelKind FusedHeadOp::getKernelKind() {
  return getGemmWeightOperands().empty() ? KernelKind::Elementwise
                                         : KernelKind::Gemm;
}
SmallVector<unsigned> FusedHeadOp::getGemmWeightOperands() {
  return operandNumbers({getPreLogitsWeightMutable(), getHeadWeightMutable(),
                         getDistWeightMutable()});
}
double FusedHeadOp::getFlopsPerImage() {
  return gemmFlops(1, getPreLogitsWeight()) + gemmFlops(1, getHeadWeight()) +
         gemmFlops(1, getDistWeight());
}
