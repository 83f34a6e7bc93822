//===- Pipeline.cpp - the default vitc pipeline ---------------------------===//

#include "compiler/transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::vit::buildDefaultPipeline(OpPassManager &pm) {
  // 1. Attention first: its residual add would otherwise be a candidate MLP
  //    end (it is not one, so order only saves work and remarks).
  pm.addNestedPass<func::FuncOp>(createVitFuseAttention());
  // 2. The MLP blocks.
  pm.addNestedPass<func::FuncOp>(createVitFuseMlp());
  // 3. Clean up parameters the fused ops made redundant.
  pm.addPass(createCSEPass());
}

void mlir::vit::registerAllVitcPasses() {
  registerVitPasses();
  PassPipelineRegistration<>("vit-default-pipeline",
                             "fuse attention and MLP blocks into kernel ops",
                             buildDefaultPipeline);
}
