//===- QuantizeWeights.cpp - vit-quantize-weights -------------------------===//
//
// Retypes the encoder's GEMM weights to i8 and gives each its scale
// parameter. The values are not here (parameters are symbolic): the weights
// writer quantizes the checkpoint's f32 tensors when it stores them in the
// layout the kernels read (compiler/program/Quantize.h).
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::vit {
#define GEN_PASS_DEF_VITQUANTIZEWEIGHTS
#include "compiler/transforms/Passes.h.inc"
} // namespace mlir::vit

using namespace mlir;
using namespace mlir::vit;

namespace {

struct VitQuantizeWeights
    : mlir::vit::impl::VitQuantizeWeightsBase<VitQuantizeWeights> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (precision == "f32")
      return;
    if (precision != "int8") {
      module.emitError() << "unknown precision '" << precision
                         << "': expected f32 or int8";
      return signalPassFailure();
    }
    if (auto target = module->getAttrOfType<TargetAttr>("vit.target");
        target && target.isGpu()) {
      module.emitError() << "precision int8 is for CPU targets; "
                         << target.getTarget() << " is a GPU target";
      return signalPassFailure();
    }
    module.walk([&](Operation *op) {
      if (auto mlp = dyn_cast<FusedMlpOp>(op)) {
        quantize(op, mlp.getFc1WeightMutable(), mlp.getFc1ScaleMutable());
        quantize(op, mlp.getFc2WeightMutable(), mlp.getFc2ScaleMutable());
      } else if (auto attention = dyn_cast<FusedAttentionOp>(op)) {
        quantize(op, attention.getQkvWeightMutable(),
                 attention.getQkvScaleMutable());
        quantize(op, attention.getProjWeightMutable(),
                 attention.getProjScaleMutable());
      }
    });
  }

  /// Replaces the f32 parameter at `weight` by an i8 one of the same name and
  /// sets `scale` to a new "<name>.scale" parameter [M].
  void quantize(Operation *op, OpOperand &weight, MutableOperandRange scale) {
    auto param = weight.get().getDefiningOp<ParamOp>();
    auto type = cast<RankedTensorType>(weight.get().getType());
    // Another user would keep reading the f32 parameter under the same name.
    if (!param || !type.getElementType().isF32() || !param->hasOneUse())
      return;
    int64_t depth = 1; // K: the dot products' length
    for (int64_t dim : type.getShape().drop_front())
      depth *= dim;
    if (depth % 4 != 0)
      return;
    OpBuilder builder(op);
    MLIRContext *context = op->getContext();
    auto quantized = ParamOp::create(
        builder, param.getLoc(),
        RankedTensorType::get(type.getShape(), IntegerType::get(context, 8)),
        param.getName());
    auto scales = ParamOp::create(
        builder, param.getLoc(),
        RankedTensorType::get({type.getDimSize(0)}, Float32Type::get(context)),
        (param.getName() + ".scale").str());
    weight.set(quantized);
    scale.assign(scales.getResult());
    param.erase();
    ++numQuantized;
  }
};

} // namespace
