//===- FuseHead.cpp - vit-fuse-head ---------------------------------------===//
//
// Matches the classifier head forwards from its pooling op (select_token of
// token 0, or token_mean): an optional layer norm before pooling (on the
// pooling op's input) or after it (fc_norm), an optional pre-logits linear +
// tanh, the classifier linear and, for DeiT, the distillation classifier
// reading token 1 with the two averaged. Every intermediate must be used only
// by the chain, except that the features (what the classifier reads) may be
// the function's result when there is no classifier.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "vit-fuse-head"

namespace mlir::vit {
#define GEN_PASS_DEF_VITFUSEHEAD
#include "compiler/transforms/Passes.h.inc"
} // namespace mlir::vit

using namespace mlir;
using namespace mlir::vit;

namespace {

/// The one user of `value`, if it has exactly one.
Operation *soleUser(Value value) {
  return value.hasOneUse() ? *value.getUsers().begin() : nullptr;
}

/// What the matcher found, in chain order.
struct HeadChain {
  Value input;           // the encoder output
  LayerNormOp tokenNorm; // before pooling
  Operation *pool = nullptr;
  LayerNormOp pooledNorm; // after pooling (fc_norm)
  LinearOp preLogits;
  TanhOp preLogitsTanh;
  Value features;
  LinearOp classifier;
  // DeiT: (classifier + distClassifier(select_token 1)) * 0.5.
  SelectTokenOp distToken;
  LinearOp distClassifier;
  AddOp distSum;
  ScaleOp distMean;
};

struct FuseHeadPattern : RewritePattern {
  FuseHeadPattern(MLIRContext *context, bool explain, llvm::Statistic &fused)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context),
        explain(explain), fused(fused) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    auto select = dyn_cast<SelectTokenOp>(op);
    if (!(select && select.getIndex() == 0) && !isa<TokenMeanOp>(op))
      return rewriter.notifyMatchFailure(op, "not a pooling op");
    HeadChain chain;
    if (const char *reason = match(op, chain)) {
      if (explain)
        op->emitRemark() << "not fused into a head: " << reason;
      return rewriter.notifyMatchFailure(op, reason);
    }
    rewrite(chain, rewriter);
    ++fused;
    return success();
  }

private:
  /// Fills `chain`; returns why not, or null when the head matches.
  static const char *match(Operation *pool, HeadChain &chain) {
    chain.pool = pool;
    chain.input = pool->getOperand(0);
    if (auto norm = chain.input.getDefiningOp<LayerNormOp>()) {
      chain.tokenNorm = norm;
      chain.input = norm.getInput();
    }
    Value x = pool->getResult(0);
    auto next = [&]() { return soleUser(x); };
    if (auto norm = dyn_cast_or_null<LayerNormOp>(next())) {
      if (chain.tokenNorm)
        return "the head has a layer norm both before and after pooling";
      chain.pooledNorm = norm;
      x = norm.getResult();
    }
    if (auto linear = dyn_cast_or_null<LinearOp>(next())) {
      if (auto tanh = dyn_cast_or_null<TanhOp>(soleUser(linear.getResult()))) {
        if (!linear.getBias())
          return "the pre-logits linear has no bias";
        chain.preLogits = linear;
        chain.preLogitsTanh = tanh;
        x = tanh.getResult();
      }
    }
    chain.features = x;
    auto classifier = dyn_cast_or_null<LinearOp>(next());
    if (!classifier) {
      // No classifier: the features must be what the function returns.
      if (!x.hasOneUse() || !isa<func::ReturnOp>(*x.getUsers().begin()))
        return "the pooled features have users other than a classifier";
      return checkTokenNorm(chain);
    }
    if (!classifier.getBias())
      return "the classifier has no bias";
    chain.classifier = classifier;
    if (auto sum = dyn_cast_or_null<AddOp>(soleUser(classifier.getResult()))) {
      Value other = sum.getLhs() == classifier.getResult() ? sum.getRhs()
                                                           : sum.getLhs();
      auto dist = other.getDefiningOp<LinearOp>();
      auto token = dist ? dist.getInput().getDefiningOp<SelectTokenOp>()
                        : SelectTokenOp();
      auto mean = dyn_cast_or_null<ScaleOp>(soleUser(sum.getResult()));
      if (!dist || !token || token.getIndex() != 1 || !dist.getBias() ||
          !mean || !mean.getFactor().isExactlyValue(0.5))
        return "the classifier's logits are added to something other than a "
               "distillation classifier's, averaged";
      if (token.getInput() != pool->getOperand(0) || !dist->hasOneUse() ||
          !token->hasOneUse())
        return "the distillation classifier does not read token 1 of the "
               "pooled tokens alone";
      if (chain.preLogits || chain.pooledNorm ||
          !isa<SelectTokenOp>(chain.pool))
        return "a distillation classifier needs class-token pooling, no "
               "pre-logits and no pooled norm";
      chain.distToken = token;
      chain.distClassifier = dist;
      chain.distSum = sum;
      chain.distMean = mean;
    }
    return checkTokenNorm(chain);
  }

  /// The token norm is the chain's only if nothing else reads it.
  static const char *checkTokenNorm(const HeadChain &chain) {
    if (!chain.tokenNorm)
      return nullptr;
    unsigned readers = chain.distToken ? 2 : 1;
    if (!llvm::hasNItems(chain.tokenNorm->getUsers(), readers))
      return "the final layer norm has users outside the head";
    return nullptr;
  }

  static void rewrite(HeadChain &chain, PatternRewriter &rewriter) {
    Operation *last = chain.distMean ? chain.distMean.getOperation()
                      : chain.classifier
                          ? chain.classifier.getOperation()
                          : chain.features.getDefiningOp();
    rewriter.setInsertionPoint(last);
    LayerNormOp norm = chain.tokenNorm ? chain.tokenNorm : chain.pooledNorm;
    auto pooling = isa<SelectTokenOp>(chain.pool) ? HeadPooling::ClassToken
                                                  : HeadPooling::Mean;
    int64_t skip = pooling == HeadPooling::Mean
                       ? cast<TokenMeanOp>(chain.pool).getSkip()
                       : 0;
    auto pick = [](auto op, auto get) { return op ? get(op) : Value(); };
    SmallVector<Type> resultTypes{chain.features.getType()};
    if (chain.classifier)
      resultTypes.push_back(last->getResult(0).getType());
    MLIRContext *context = rewriter.getContext();
    auto fused = FusedHeadOp::create(
        rewriter, last->getLoc(), resultTypes, chain.input,
        pick(norm, [](LayerNormOp n) { return n.getScale(); }),
        pick(norm, [](LayerNormOp n) { return n.getBias(); }),
        pick(chain.preLogits, [](LinearOp l) { return l.getWeight(); }),
        pick(chain.preLogits, [](LinearOp l) { return l.getBias(); }),
        pick(chain.classifier, [](LinearOp l) { return l.getWeight(); }),
        pick(chain.classifier, [](LinearOp l) { return l.getBias(); }),
        pick(chain.distClassifier, [](LinearOp l) { return l.getWeight(); }),
        pick(chain.distClassifier, [](LinearOp l) { return l.getBias(); }),
        HeadPoolingAttr::get(context, pooling), rewriter.getI64IntegerAttr(skip),
        norm ? HeadNormPlacementAttr::get(context,
                                          chain.tokenNorm
                                              ? HeadNormPlacement::Tokens
                                              : HeadNormPlacement::Pooled)
             : HeadNormPlacementAttr(),
        norm ? norm.getEpsilonAttr() : FloatAttr());
    // The runtime can return what the classifier reads.
    fused->setAttr("vit.features", rewriter.getUnitAttr());
    if (chain.classifier)
      rewriter.replaceAllUsesWith(last->getResult(0), fused.getLogits());
    else
      rewriter.replaceAllUsesWith(chain.features, fused.getFeatures());
    // Erase the chain, users first.
    SmallVector<Operation *> dead{
        last,
        chain.distSum,
        chain.distClassifier,
        chain.distToken,
        chain.classifier,
        chain.preLogitsTanh,
        chain.preLogits,
        chain.pooledNorm,
        chain.pool,
        chain.tokenNorm};
    llvm::SmallPtrSet<Operation *, 8> erased;
    for (Operation *op : dead)
      if (op && erased.insert(op).second)
        rewriter.eraseOp(op);
  }

  bool explain;
  llvm::Statistic &fused;
};

struct VitFuseHead : mlir::vit::impl::VitFuseHeadBase<VitFuseHead> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseHeadPattern>(&getContext(), explain, numFused);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
