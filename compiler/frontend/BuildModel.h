//===- BuildModel.h - a ViT forward pass as vit dialect IR ----------------===//
//
// Emits `func.func @forward(%images: tensor<?xCxHxWxf32>) -> tensor<?xKxf32>`
// in primitive vit ops for a validated ModelConfig. Parameters are
// `vit.param` ops named as listParams() names them; locations name the model
// part (`patch_embed`, `blocks.3.attn`, `head`).
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_FRONTEND_BUILDMODEL_H
#define VITC_COMPILER_FRONTEND_BUILDMODEL_H

#include "compiler/frontend/ModelConfig.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace vitc {

mlir::OwningOpRef<mlir::ModuleOp> buildModel(mlir::MLIRContext &context,
                                             const ModelConfig &config);

} // namespace vitc

#endif // VITC_COMPILER_FRONTEND_BUILDMODEL_H
