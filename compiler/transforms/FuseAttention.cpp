//===- FuseAttention.cpp - vit-fuse-attention -----------------------------===//
//
// Matches the self-attention block from its residual add upwards (proj,
// merge_heads, ·v, softmax, q·kᵀ, scale, split_qkv, QKV linear, layer norm)
// and replaces it with vit.fused_attention.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

#define DEBUG_TYPE "vit-fuse-attention"

namespace mlir::vit {
#define GEN_PASS_DEF_VITFUSEATTENTION
#include "compiler/transforms/Passes.h.inc"
} // namespace mlir::vit

using namespace mlir;
using namespace mlir::vit;

namespace {

struct FuseAttentionPattern : OpRewritePattern<AddOp> {
  FuseAttentionPattern(MLIRContext *context, bool explain,
                       llvm::Statistic &fused)
      : OpRewritePattern(context), explain(explain), fused(fused) {}

  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    std::string reason =
        "no operand of the add is a linear layer reading merged heads";
    for (unsigned residual : {0u, 1u}) {
      auto proj = add.getOperand(1 - residual).getDefiningOp<LinearOp>();
      if (!proj || !proj.getInput().getDefiningOp<MergeHeadsOp>())
        continue;
      if (succeeded(
              fuse(add, add.getOperand(residual), proj, rewriter, reason))) {
        ++fused;
        return success();
      }
      if (explain)
        add.emitRemark() << "not fused into attention: " << reason;
    }
    return rewriter.notifyMatchFailure(add, reason);
  }

private:
  static LogicalResult fuse(AddOp add, Value residual, LinearOp proj,
                            PatternRewriter &rewriter, std::string &reason) {
    auto fail = [&](const char *why) {
      reason = why;
      return failure();
    };
    auto single = [](Operation *op) { return op && op->hasOneUse(); };
    if (!single(proj) || !proj.getBias())
      return fail("the output projection has other users or no bias");
    auto merge = proj.getInput().getDefiningOp<MergeHeadsOp>();
    if (!single(merge))
      return fail("the merged heads have other users");
    auto context = merge.getInput().getDefiningOp<MatmulOp>();
    if (!single(context) || context.getTransposeRhs())
      return fail("the merged heads are not (probabilities · values)");
    auto probs = context.getLhs().getDefiningOp<SoftmaxOp>();
    if (!single(probs))
      return fail("the values are not weighted by a softmax used once");
    auto scores = probs.getInput().getDefiningOp<MatmulOp>();
    if (!single(scores) || !scores.getTransposeRhs())
      return fail("the softmax does not read q·kᵀ used once");
    auto scaled = scores.getLhs().getDefiningOp<ScaleOp>();
    if (!single(scaled))
      return fail("the queries are not scaled once");
    auto split = scaled.getInput().getDefiningOp<SplitQkvOp>();
    if (!split || scaled.getInput() != split.getQuery() ||
        scores.getRhs() != split.getKey() ||
        context.getRhs() != split.getValue())
      return fail("queries, keys and values do not come from one split_qkv");
    if (!split.getQuery().hasOneUse() || !split.getKey().hasOneUse() ||
        !split.getValue().hasOneUse())
      return fail("queries, keys or values have other users");
    int64_t headDim = split.getQuery().getType().getShape()[3];
    float expected = 1.0f / std::sqrt(static_cast<float>(headDim));
    if (std::fabs(scaled.getFactor().convertToFloat() - expected) >
        1e-6f * expected)
      return fail("the query scale is not 1/sqrt(head_dim)");
    auto qkv = split.getInput().getDefiningOp<LinearOp>();
    if (!single(qkv))
      return fail("split_qkv does not read a QKV linear layer used once");
    auto norm = qkv.getInput().getDefiningOp<LayerNormOp>();
    if (!single(norm) || norm.getInput() != residual)
      return fail("the QKV projection does not read a layer norm of the "
                  "residual input");
    rewriter.replaceOpWithNewOp<FusedAttentionOp>(
        add, add.getType(), /*attention_maps=*/TypeRange(), residual, norm.getScale(), norm.getBias(),
        qkv.getWeight(), /*qkv_scale=*/Value(), qkv.getBias(), proj.getWeight(),
        /*proj_scale=*/Value(), proj.getBias(),
        split.getHeadsAttr(), norm.getEpsilonAttr(), /*map_rows=*/nullptr,
        /*map_mean=*/nullptr);
    return success();
  }

  bool explain;
  llvm::Statistic &fused;
};

struct VitFuseAttention
    : mlir::vit::impl::VitFuseAttentionBase<VitFuseAttention> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttentionPattern>(&getContext(), explain, numFused);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
