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

/// The default pipeline, step by step (see Pipeline.cpp).
void buildDefaultPipeline(OpPassManager &pm);

/// Registers every pass and `vit-default-pipeline` with the command line.
void registerAllVitcPasses();

} // namespace mlir::vit

#endif // VITC_COMPILER_TRANSFORMS_PASSES_H
