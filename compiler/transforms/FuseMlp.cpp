//===- FuseMlp.cpp - vit-fuse-mlp -----------------------------------------===//
//
// Matches the MLP block from its residual add upwards and replaces it with
// vit.fused_mlp. With `explain`, every add that looks like the end of an MLP
// block but does not fuse gets a remark saying why.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "vit-fuse-mlp"

namespace mlir::vit {
#define GEN_PASS_DEF_VITFUSEMLP
#include "compiler/transforms/Passes.h.inc"
} // namespace mlir::vit

using namespace mlir;
using namespace mlir::vit;

namespace {

struct FuseMlpPattern : OpRewritePattern<AddOp> {
  FuseMlpPattern(MLIRContext *context, bool explain, llvm::Statistic &fused)
      : OpRewritePattern(context), explain(explain), fused(fused) {}

  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    std::string reason = "no operand of the add is a linear layer";
    for (unsigned residual : {0u, 1u}) {
      auto fc2 = add.getOperand(1 - residual).getDefiningOp<LinearOp>();
      if (!fc2)
        continue;
      if (succeeded(
              fuse(add, add.getOperand(residual), fc2, rewriter, reason))) {
        ++fused;
        return success();
      }
    }
    return notify(add, rewriter, reason);
  }

private:
  LogicalResult notify(AddOp add, PatternRewriter &rewriter,
                       const std::string &reason) const {
    // Only adds whose other side is a linear layer are MLP candidates worth a
    // remark.
    if (explain && (add.getLhs().getDefiningOp<LinearOp>() ||
                    add.getRhs().getDefiningOp<LinearOp>()))
      add.emitRemark() << "not fused into an MLP: " << reason;
    return rewriter.notifyMatchFailure(add, reason);
  }

  static LogicalResult fuse(AddOp add, Value residual, LinearOp fc2,
                            PatternRewriter &rewriter, std::string &reason) {
    auto fail = [&](const char *why) {
      reason = why;
      return failure();
    };
    if (!fc2->hasOneUse())
      return fail("fc2's result has other users");
    if (!fc2.getBias())
      return fail("fc2 has no bias");
    Operation *act = fc2.getInput().getDefiningOp();
    std::optional<MlpActivation> activation;
    if (auto gelu = dyn_cast_or_null<GeluOp>(act))
      activation = gelu.getApproximation() == GeluApproximation::Tanh
                       ? MlpActivation::GeluTanh
                       : MlpActivation::GeluErf;
    else if (isa_and_nonnull<ReluOp>(act))
      activation = MlpActivation::Relu;
    if (!activation)
      return fail("fc2 does not read a GELU or ReLU");
    if (!act->hasOneUse())
      return fail("the activation has other users");
    auto fc1 = act->getOperand(0).getDefiningOp<LinearOp>();
    if (!fc1)
      return fail("the activation does not read a linear layer");
    if (!fc1->hasOneUse())
      return fail("fc1's result has other users");
    if (!fc1.getBias())
      return fail("fc1 has no bias");
    auto norm = fc1.getInput().getDefiningOp<LayerNormOp>();
    if (!norm)
      return fail("fc1 does not read a layer norm");
    if (!norm->hasOneUse())
      return fail("the layer norm has other users");
    if (norm.getInput() != residual)
      return fail("the layer norm does not read the residual input");
    rewriter.replaceOpWithNewOp<FusedMlpOp>(
        add, add.getType(), residual, norm.getScale(), norm.getBias(),
        fc1.getWeight(), /*fc1_scale=*/Value(), fc1.getBias(), fc2.getWeight(),
        /*fc2_scale=*/Value(), fc2.getBias(),
        MlpActivationAttr::get(rewriter.getContext(), *activation),
        norm.getEpsilonAttr());
    return success();
  }

  bool explain;
  llvm::Statistic &fused;
};

struct VitFuseMlp : mlir::vit::impl::VitFuseMlpBase<VitFuseMlp> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseMlpPattern>(&getContext(), explain, numFused);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
