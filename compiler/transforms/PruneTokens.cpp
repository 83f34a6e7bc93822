//===- PruneTokens.cpp - vit-prune-tokens ---------------------------------===//
//
// From a head that pools the class token, walks up its MLP and attention
// block and narrows their results to the tokens the head reads. Runs on the
// fused kernel ops (after vit-fuse-head): the MLP is row-wise, so it runs on
// the kept rows as it is, and the fused attention takes those rows as its
// only queries (its keys and values still come from every token).
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "vit-prune-tokens"

namespace mlir::vit {
#define GEN_PASS_DEF_VITPRUNETOKENS
#include "compiler/transforms/Passes.h.inc"
} // namespace mlir::vit

using namespace mlir;
using namespace mlir::vit;

namespace {

/// `value`'s type with `tokens` rows: [B, N, D] -> [B, tokens, D].
RankedTensorType withTokens(Value value, int64_t tokens) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[1] = tokens;
  return RankedTensorType::get(shape, type.getElementType());
}

struct VitPruneTokens : mlir::vit::impl::VitPruneTokensBase<VitPruneTokens> {
  using Base::Base;

  void runOnOperation() override {
    getOperation().walk([&](FusedHeadOp head) {
      std::string reason;
      if (succeeded(prune(head, reason))) {
        ++numPruned;
        return;
      }
      LLVM_DEBUG(llvm::dbgs()
                 << "vit-prune-tokens: not pruned: " << reason << "\n");
      if (explain)
        head.emitRemark() << "last block not pruned: " << reason;
    });
  }

  /// Narrows the head's MLP and attention to the tokens the head reads.
  static LogicalResult prune(FusedHeadOp head, std::string &reason) {
    if (head.getPooling() != HeadPooling::ClassToken) {
      reason = "the head averages every token";
      return failure();
    }
    // The class token, and the distillation token after it.
    const int64_t kept = head.getDistWeight() ? 2 : 1;
    auto inputType = cast<RankedTensorType>(head.getInput().getType());
    if (inputType.getRank() != 3 || inputType.isDynamicDim(1) ||
        inputType.getDimSize(1) <= kept) {
      reason = "the head's input has no tokens to spare";
      return failure();
    }
    auto mlp = head.getInput().getDefiningOp<FusedMlpOp>();
    if (!mlp || !mlp.getResult().hasOneUse()) {
      reason = "the head's input is not a fused MLP used only by the head";
      return failure();
    }
    auto attention = mlp.getInput().getDefiningOp<FusedAttentionOp>();
    if (!attention || !attention.getResult().hasOneUse()) {
      reason = "the MLP's input is not a fused attention used only by the MLP";
      return failure();
    }
    attention.getResult().setType(withTokens(attention.getResult(), kept));
    mlp.getResult().setType(withTokens(mlp.getResult(), kept));
    return success();
  }
};

} // namespace
