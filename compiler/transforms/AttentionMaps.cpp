//===- AttentionMaps.cpp - vit-attention-maps -----------------------------===//
//
// Rebuilds every fused attention with its two attention-map results, for the
// query rows the model's head reads (see the pass description).
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::vit {
#define GEN_PASS_DEF_VITATTENTIONMAPS
#include "compiler/transforms/Passes.h.inc"
} // namespace mlir::vit

using namespace mlir;
using namespace mlir::vit;

namespace {

struct VitAttentionMaps
    : mlir::vit::impl::VitAttentionMapsBase<VitAttentionMaps> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<FusedHeadOp> heads;
    SmallVector<FusedAttentionOp> attentions;
    Operation *unfused = nullptr;
    func.walk([&](Operation *op) {
      if (auto head = dyn_cast<FusedHeadOp>(op))
        heads.push_back(head);
      else if (auto attention = dyn_cast<FusedAttentionOp>(op))
        attentions.push_back(attention);
      else if (isa<SoftmaxOp>(op) && !unfused)
        unfused = op;
    });
    if (unfused) {
      unfused->emitError()
          << "attention maps need fused attention, and this softmax was not "
             "fused (compile with fusion on; vit-fuse-attention with "
             "explain=true says why a block did not fuse)";
      return signalPassFailure();
    }
    if (heads.size() != 1) {
      func.emitError() << "attention maps need the model's one fused head "
                          "(it says which query rows to describe), found "
                       << heads.size();
      return signalPassFailure();
    }
    if (attentions.empty()) {
      func.emitError() << "attention maps need fused attention blocks, and "
                          "the function has none";
      return signalPassFailure();
    }
    FusedHeadOp head = heads.front();
    const bool mean = head.getPooling() == HeadPooling::Mean;
    // The class token, and DeiT's distillation token after it; or the rows
    // mean pooling averages, which skip the prefix tokens.
    const int64_t begin = mean ? static_cast<int64_t>(head.getSkip()) : 0;
    const int64_t classRows = head.getDistWeight() ? 2 : 1;

    for (FusedAttentionOp op : attentions) {
      if (!op.getAttentionMaps().empty())
        continue;
      auto resultType = cast<RankedTensorType>(op.getResult().getType());
      auto inputType = cast<RankedTensorType>(op.getInput().getType());
      const int64_t queries = resultType.getDimSize(1),
                    tokens = inputType.getDimSize(1),
                    heads = static_cast<int64_t>(op.getHeads());
      const int64_t end = mean ? queries : classRows;
      if (begin >= end || end > queries) {
        op.emitError() << "attention maps: the head reads query rows ["
                       << begin << ", " << end << ") but this block has "
                       << queries;
        return signalPassFailure();
      }
      Type f32 = resultType.getElementType();
      const int64_t batch = ShapedType::kDynamic;
      auto classType = RankedTensorType::get(
          {batch, heads, mean ? 1 : end - begin, tokens}, f32);
      auto meanType = RankedTensorType::get({batch, queries, tokens}, f32);
      OpBuilder builder(op);
      auto mapped = FusedAttentionOp::create(
          builder, op.getLoc(), resultType,
          rollout ? TypeRange{classType, meanType} : TypeRange{classType},
          op.getInput(), op.getNormScale(), op.getNormBias(),
          op.getQkvWeight(), op.getQkvScale(), op.getQkvBias(),
          op.getProjWeight(), op.getProjScale(), op.getProjBias(),
          op.getHeadsAttr(), op.getEpsilonAttr(),
          builder.getDenseI64ArrayAttr({begin, end}),
          mean ? builder.getUnitAttr() : nullptr);
      mapped->setDiscardableAttrs(op->getDiscardableAttrDictionary());
      op.getResult().replaceAllUsesWith(mapped.getResult());
      op.erase();
      ++numMapped;
    }
  }
};

} // namespace
