//===- QuantizeWeights.cpp - vit-quantize-weights -------------------------===//
//
// Retypes the encoder's GEMM weights to i8 (each with its scale parameter)
// or bf16. The values are not here (parameters are symbolic): the weights
// writer quantizes or rounds the checkpoint's f32 tensors when it stores
// them in the layout the kernels read (compiler/program/Quantize.h).
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"
#include "compiler/transforms/ScheduleFile.h"
#include "compiler/target/TargetDescription.h"

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
    Operation *reduced = nullptr;
    std::string reducedPrecision;
    WalkResult walked = module.walk([&](KernelOpInterface op) {
      FailureOr<std::string> wanted = precisionOf(op, file);
      if (failed(wanted))
        return WalkResult::interrupt();
      if (*wanted == "f32")
        return WalkResult::advance();
      // One reduced precision per model: its weights file and library
      // report one.
      if (!reduced) {
        reduced = op;
        reducedPrecision = *wanted;
      } else if (*wanted != reducedPrecision) {
        op->emitError() << "precision " << *wanted << " here, but "
                        << reduced->getLoc() << " is " << reducedPrecision
                        << ": a model mixes f32 with one of int8 or bf16";
        return WalkResult::interrupt();
      }
      if (target && failed(checkTarget(op, *wanted, target)))
        return WalkResult::interrupt();
      const bool bf16 = *wanted == "bf16";
      if (auto mlp = dyn_cast<FusedMlpOp>(op.getOperation())) {
        quantize(op, mlp.getFc1WeightMutable(), mlp.getFc1ScaleMutable(), bf16);
        quantize(op, mlp.getFc2WeightMutable(), mlp.getFc2ScaleMutable(), bf16);
      } else if (auto attention = dyn_cast<FusedAttentionOp>(op.getOperation())) {
        quantize(op, attention.getQkvWeightMutable(),
                 attention.getQkvScaleMutable(), bf16);
        quantize(op, attention.getProjWeightMutable(),
                 attention.getProjScaleMutable(), bf16);
      }
      return WalkResult::advance();
    });
    if (walked.wasInterrupted())
      signalPassFailure();
  }

  static LogicalResult
  checkPrecision(StringRef value,
                 function_ref<InFlightDiagnostic()> emitError) {
    if (value == "f32" || value == "int8" || value == "bf16")
      return success();
    return emitError() << "unknown precision '" << value
                       << "': expected f32, int8 or bf16";
  }

  /// Whether `target` has kernels for `precision`: int8 and bf16 are for
  /// CPUs, bf16 only for those with a bf16 dot product.
  static LogicalResult checkTarget(KernelOpInterface op, StringRef precision,
                                   TargetAttr target) {
    if (target.isGpu())
      return op->emitError() << "precision " << precision
                             << " is for CPU targets; " << target.getTarget()
                             << " is a GPU target";
    if (precision == "bf16" && !target.has(CpuFeatures::AVX512BF16) &&
        !target.has(CpuFeatures::AMXBF16))
      return op->emitError()
             << "precision bf16 needs a target with avx512_bf16 (vdpbf16ps; "
                "e.g. x86-64-linux-avx512_zen4) or amx_bf16 "
                "(x86-64-linux-avx512_sapphirerapids); "
             << target.getTarget() << " has neither";
    // AMX kernels call AMX code in every target's variant: a fallback target
    // without it would fault (vitrt_open refuses such a library on CPUs
    // without AMX anyway).
    const bool amx = (precision == "bf16" && target.hasAmxBf16()) ||
                     (precision == "int8" && target.hasAmxInt8());
    if (amx) {
      llvm::Expected<std::string> without = vitc::firstTargetWithout(
          target, precision == "bf16" ? CpuFeatures::AMXBF16
                                      : CpuFeatures::AMXInt8);
      if (!without)
        return op->emitError() << llvm::toString(without.takeError());
      if (!without->empty())
        return op->emitError()
               << "precision " << precision << " with AMX ("
               << target.getTarget() << ") has no fallback for " << *without
               << ": list AMX targets only, or compile a library per target";
    }
    return success();
  }

  /// The pass's precision, or the schedule file's for `op` (location entries
  /// over op-name entries). Only the encoder's kernels take int8 or bf16.
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
          return emitError()
                 << "'precision' must be \"f32\", \"int8\" or \"bf16\"";
        if (failed(checkPrecision(*text, emitError)))
          return failure();
        if (*text != "f32" &&
            !isa<FusedMlpOp, FusedAttentionOp>(op.getOperation()))
          return emitError() << "only vit.fused_mlp and vit.fused_attention "
                                "kernels take precision "
                             << *text;
        result = text->str();
      }
    }
    // A kernel without quantizable weights stays f32 whatever the pass says.
    if (!isa<FusedMlpOp, FusedAttentionOp>(op.getOperation()))
      return std::string("f32");
    return result;
  }

  /// Replaces the f32 parameter at `weight` by an i8 one of the same name and
  /// sets `scale` to a new "<name>.scale" parameter [M]; or with `bf16` by a
  /// bf16 one of the same name.
  void quantize(Operation *op, OpOperand &weight, MutableOperandRange scale,
                bool bf16) {
    auto param = weight.get().getDefiningOp<ParamOp>();
    auto type = cast<RankedTensorType>(weight.get().getType());
    // Another user would keep reading the f32 parameter under the same name.
    if (!param || !type.getElementType().isF32() || !param->hasOneUse())
      return;
    int64_t depth = 1; // K: the dot products' length
    for (int64_t dim : type.getShape().drop_front())
      depth *= dim;
    // The dot products' group: 4 k for int8, 2 for bf16.
    if (depth % (bf16 ? 2 : 4) != 0)
      return;
    OpBuilder builder(op);
    MLIRContext *context = op->getContext();
    if (bf16) {
      auto rounded = ParamOp::create(
          builder, param.getLoc(),
          RankedTensorType::get(type.getShape(), BFloat16Type::get(context)),
          param.getName());
      weight.set(rounded);
      param.erase();
      ++numQuantized;
      return;
    }
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
