//===- Passes.h - the vitc passes and the default pipeline ----------------===//

#ifndef VITC_COMPILER_TRANSFORMS_PASSES_H
#define VITC_COMPILER_TRANSFORMS_PASSES_H

#include "dialect/VitDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::vit {

#define GEN_PASS_DECL
#include "compiler/transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/transforms/Passes.h.inc"

/// Options of `vit-default-pipeline`.
struct DefaultPipelineOptions
    : public PassPipelineOptions<DefaultPipelineOptions> {
  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("Halide target string (empty: the module's #vit.target, "
                     "else host)")};
  Option<int64_t> cores{*this, "cores",
                        llvm::cl::desc("cores to plan for (0: this machine's)"),
                        llvm::cl::init(0)};
  Option<std::string> scheduleFile{
      *this, "schedule-file",
      llvm::cl::desc("JSON file of per-kernel tile overrides")};
  Option<std::string> scheduleCache{
      *this, "schedule-cache",
      llvm::cl::desc("directory of tiles measured by vitc --tune")};
  Option<std::string> precision{
      *this, "precision",
      llvm::cl::desc("f32, or int8 or bf16 for the encoder's weight GEMMs"),
      llvm::cl::init("f32")};
  Option<bool> fusion{*this, "fusion",
                      llvm::cl::desc("run the fusion passes"),
                      llvm::cl::init(true)};
  Option<bool> attentionMaps{
      *this, "attention-maps",
      llvm::cl::desc("fused attention also returns its attention maps"),
      llvm::cl::init(false)};
  Option<bool> attentionRollout{
      *this, "attention-rollout",
      llvm::cl::desc("... and what attention rollout needs"),
      llvm::cl::init(false)};
};

/// The compiler's own tile for a kernel op on `target` (a #vit.cpu_*_tile or
/// #vit.gpu_*_tile attribute of the op's kernel kind): the one place tile
/// defaults are decided.
Attribute defaultTile(KernelOpInterface op, TargetAttr target);

/// The default pipeline, step by step (see Pipeline.cpp).
void buildDefaultPipeline(OpPassManager &pm,
                          const DefaultPipelineOptions &options);

/// Registers every pass and `vit-default-pipeline` with the command line.
void registerAllVitcPasses();

} // namespace mlir::vit

#endif // VITC_COMPILER_TRANSFORMS_PASSES_H
