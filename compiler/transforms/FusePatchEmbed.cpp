//===- FusePatchEmbed.cpp - vit-fuse-patch-embed --------------------------===//
//
// Matches the embedding stage from its position-embedding add upwards: any
// number of prepend_tokens over a patch_projection. The fused op lists the
// prefix tokens in sequence order, so the outermost prepend comes first.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "vit-fuse-patch-embed"

namespace mlir::vit {
#define GEN_PASS_DEF_VITFUSEPATCHEMBED
#include "compiler/transforms/Passes.h.inc"
} // namespace mlir::vit

using namespace mlir;
using namespace mlir::vit;

namespace {

struct FusePatchEmbedPattern : OpRewritePattern<AddPositionEmbeddingOp> {
  FusePatchEmbedPattern(MLIRContext *context, bool explain,
                        llvm::Statistic &fused)
      : OpRewritePattern(context), explain(explain), fused(fused) {}

  LogicalResult matchAndRewrite(AddPositionEmbeddingOp add,
                                PatternRewriter &rewriter) const override {
    SmallVector<Value> prefixTokens;
    Value tokens = add.getInput();
    while (auto prepend = tokens.getDefiningOp<PrependTokensOp>()) {
      if (!prepend->hasOneUse())
        return notify(add, rewriter, "a prepend_tokens result has other users");
      if (ShapedType::isDynamic(prepend.getTokens().getType().getDimSize(1)))
        return notify(add, rewriter, "a prefix token count is not static");
      prefixTokens.push_back(prepend.getTokens());
      tokens = prepend.getInput();
    }
    auto projection = tokens.getDefiningOp<PatchProjectionOp>();
    if (!projection)
      return notify(add, rewriter,
                    "the tokens do not come from a patch projection");
    if (!projection->hasOneUse())
      return notify(add, rewriter,
                    "the patch projection's result has other users");
    ArrayRef<int64_t> images = projection.getImages().getType().getShape();
    if (ShapedType::isDynamic(images[2]) || ShapedType::isDynamic(images[3]))
      return notify(add, rewriter, "the image size is not static");
    rewriter.replaceOpWithNewOp<FusedPatchEmbedOp>(
        add, add.getType(), projection.getImages(), projection.getWeight(),
        projection.getBias(), prefixTokens, add.getEmbedding());
    ++fused;
    return success();
  }

private:
  LogicalResult notify(AddPositionEmbeddingOp add, PatternRewriter &rewriter,
                       const char *reason) const {
    if (explain)
      add.emitRemark() << "not fused into a patch embedding: " << reason;
    return rewriter.notifyMatchFailure(add, reason);
  }

  bool explain;
  llvm::Statistic &fused;
};

struct VitFusePatchEmbed
    : mlir::vit::impl::VitFusePatchEmbedBase<VitFusePatchEmbed> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FusePatchEmbedPattern>(&getContext(), explain, numFused);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
