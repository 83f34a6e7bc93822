//===- QuantizeWeights.cpp - vit-quantize-weights -------------------------===//
//
// Retypes the encoder's GEMM weights to i8 and gives each its scale
// parameter. The values are not here (parameters are symbolic): the weights
// writer quantizes the checkpoint's f32 tensors when it stores them in the
// layout the kernels read (compiler/program/Quantize.h).
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"
#include "compiler/transforms/ScheduleFile.h"

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
    if (failed(checkPrecision(precision, [&] { return module.emitError(); })))
      return signalPassFailure();
    ScheduleFile file;
    if (failed(readScheduleFile(scheduleFile, file, module)))
      return signalPassFailure();
    auto target = module->getAttrOfType<TargetAttr>("vit.target");
    WalkResult walked = module.walk([&](KernelOpInterface op) {
      FailureOr<std::string> wanted = precisionOf(op, file);
      if (failed(wanted))
        return WalkResult::interrupt();
      if (*wanted == "f32")
        return WalkResult::advance();
      if (target && target.isGpu()) {
        op->emitError() << "precision int8 is for CPU targets; "
                        << target.getTarget() << " is a GPU target";
        return WalkResult::interrupt();
      }
      if (auto mlp = dyn_cast<FusedMlpOp>(op.getOperation())) {
        quantize(op, mlp.getFc1WeightMutable(), mlp.getFc1ScaleMutable());
        quantize(op, mlp.getFc2WeightMutable(), mlp.getFc2ScaleMutable());
      } else if (auto attention = dyn_cast<FusedAttentionOp>(op.getOperation())) {
        quantize(op, attention.getQkvWeightMutable(),
                 attention.getQkvScaleMutable());
        quantize(op, attention.getProjWeightMutable(),
                 attention.getProjScaleMutable());
      }
      return WalkResult::advance();
    });
    if (walked.wasInterrupted())
      signalPassFailure();
  }

  static LogicalResult
  checkPrecision(StringRef value,
                 function_ref<InFlightDiagnostic()> emitError) {
    if (value == "f32" || value == "int8")
      return success();
    return emitError() << "unknown precision '" << value
                       << "': expected f32 or int8";
  }

  /// The pass's precision, or the schedule file's for `op` (location entries
  /// over op-name entries). Only the encoder's kernels take int8.
  FailureOr<std::string> precisionOf(KernelOpInterface op,
                                     const ScheduleFile &file) {
    std::string result = precision;
    for (const std::string &key : scheduleKeys(op)) {
      auto entry = file.entries.find(key);
      if (entry == file.entries.end())
        continue;
      for (const auto &[name, value] : entry->second) {
        if (name != kPrecisionSetting)
          continue;
        auto emitError = [&, &key = key]() {
          return op->emitError() << "schedule file '" << scheduleFile
                                 << "', kernel '" << key << "': ";
        };
        std::optional<StringRef> text = value.getAsString();
        if (!text)
          return emitError() << "'precision' must be \"f32\" or \"int8\"";
        if (failed(checkPrecision(*text, emitError)))
          return failure();
        if (*text == "int8" &&
            !isa<FusedMlpOp, FusedAttentionOp>(op.getOperation()))
          return emitError() << "only vit.fused_mlp and vit.fused_attention "
                                "kernels take precision int8";
        result = text->str();
      }
    }
    // A kernel without quantizable weights stays f32 whatever the pass says.
    if (!isa<FusedMlpOp, FusedAttentionOp>(op.getOperation()))
      return std::string("f32");
    return result;
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
