//===- vit-opt.cpp - the mlir-opt of vitc ---------------------------------===//
//
// Parses, verifies, transforms and prints IR of the vit dialect. Registers
// the dialects a ViT module uses and every vitc pass, so lit tests can run
// any pass or pipeline prefix on their own.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"
#include "dialect/VitDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::vit::registerAllVitcPasses();

  mlir::DialectRegistry registry;
  registry.insert<mlir::vit::VitDialect, mlir::func::FuncDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "vitc optimizer driver\n", registry));
}
