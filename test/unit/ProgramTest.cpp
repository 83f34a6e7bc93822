//===- ProgramTest.cpp - the program builder on tiled IR ------------------===//
//
// A small tiled module through buildProgram: parameters keep their element
// types (the weights file stores each in its own), the fingerprint changes
// with them, GEMM weights are laid out in panels as wide as their tile, and
// IR that is not tiled, or not f32, is refused with a message.
//
//===----------------------------------------------------------------------===//

#include "compiler/program/Program.h"
#include "compiler/halide/Emit.h"
#include "support/Checkpoint.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace vitc;
using ::testing::HasSubstr;

namespace {

/// images [B, 3, 8, 8] -> one 8x8 patch projected to 16 -> a linear layer
/// whose weight has element type `weightType`.
std::string moduleText(const std::string &weightType, bool tiled = true) {
  std::string linearTile =
      tiled ? " {vit.tile = #vit.cpu_gemm_tile<columns = 8, rows = 4, vector "
              "= 8, parallel = rows>}"
            : "";
  return R"(module attributes {vit.model = #vit.model<name = "tiny", mean = [0.5, 0.5, 0.5], std = [0.25, 0.25, 0.25], crop_fraction = 0.875 : f32>, vit.target = #vit.target<target = "x86-64-linux-avx2", vector_bits = 256, vector_registers = 16, cores = 2, features = "sse41|avx|avx2|fma|f16c">} {
  func.func @forward(%x: tensor<?x3x8x8xf32>) -> tensor<?x16xf32> {
    %w = vit.param "patch.weight" : tensor<16x3x8x8xf32>
    %w2 = vit.param "head.weight" : tensor<16x16x)" +
         weightType + R"(>
    %p = vit.patch_projection %x, %w {vit.tile = #vit.cpu_gemm_tile<columns = 16, rows = 4, vector = 8>} : (tensor<?x3x8x8xf32>, tensor<16x3x8x8xf32>) -> tensor<?x1x16xf32>
    %t = vit.select_token %p[0] {vit.tile = #vit.cpu_row_tile<rows = 4, vector = 8>} : tensor<?x1x16xf32> -> tensor<?x16xf32>
    %l = vit.linear %t, %w2)" +
         linearTile + R"( : (tensor<?x16xf32>, tensor<16x16x)" + weightType +
         R"(>) -> tensor<?x16xf32>
    return %l : tensor<?x16xf32>
  }
})";
}

class ProgramTest : public ::testing::Test {
protected:
  ProgramTest() {
    context.loadDialect<mlir::vit::VitDialect, mlir::func::FuncDialect>();
  }

  llvm::Expected<Program> build(const std::string &text) {
    module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
    EXPECT_TRUE(module) << text;
    if (!module)
      return llvm::createStringError("does not parse");
    return buildProgram(module->lookupSymbol<mlir::func::FuncOp>("forward"));
  }

  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

TEST_F(ProgramTest, ParametersKeepTheirElementTypesAndTileLayouts) {
  llvm::Expected<Program> program = build(moduleText("bf16"));
  ASSERT_TRUE(bool(program)) << llvm::toString(program.takeError());
  ASSERT_EQ(program->params.size(), 2u);
  EXPECT_EQ(program->params[0].elementType, ElementType::F32);
  EXPECT_EQ(program->params[1].elementType, ElementType::BF16);
  // Panels as wide as each kernel's tile: 16 columns, then 8.
  EXPECT_EQ(program->params[0].storedShape, (std::vector<int64_t>{1, 192, 16}));
  EXPECT_EQ(program->params[1].storedShape, (std::vector<int64_t>{2, 16, 8}));
  // The model's description comes from the IR alone.
  EXPECT_EQ(program->model.name, "tiny");
  EXPECT_EQ(program->model.channels, 3);
  EXPECT_EQ(program->model.outputs, 16);
  EXPECT_FLOAT_EQ(program->model.std[2], 0.25f);
  EXPECT_FLOAT_EQ(program->model.cropFraction, 0.875f);
  EXPECT_EQ(program->kernels[0].flopsPerImage, 2.0 * 16 * 192);

  llvm::Expected<Program> f32 = build(moduleText("f32"));
  ASSERT_TRUE(bool(f32)) << llvm::toString(f32.takeError());
  EXPECT_NE(f32->fingerprint, program->fingerprint);
}

TEST_F(ProgramTest, TheWeightsFileStoresEachParameterInItsType) {
  llvm::Expected<Program> program = build(moduleText("i8"));
  ASSERT_TRUE(bool(program)) << llvm::toString(program.takeError());
  NamedTensors weights;
  Tensor patch{{16, 3, 8, 8}, std::vector<float>(16 * 192, 0.5f)};
  Tensor head{{16, 16}, std::vector<float>(256)};
  for (size_t i = 0; i < head.data.size(); ++i)
    head.data[i] = static_cast<float>(static_cast<int>(i % 255) - 127);
  weights.push_back({"patch.weight", patch});
  weights.push_back({"head.weight", head});
  llvm::SmallString<128> path;
  ASSERT_FALSE(
      llvm::sys::fs::createTemporaryFile("program", "safetensors", path));
  ASSERT_FALSE(bool(writeKernelWeights(*program, weights, path)));
  auto bytes = llvm::MemoryBuffer::getFile(path);
  llvm::sys::fs::remove(path);
  ASSERT_TRUE(bool(bytes));
  // 8-byte length, JSON header, then 4-byte and 1-byte elements.
  EXPECT_THAT((*bytes)->getBuffer().str(), HasSubstr("\"dtype\":\"I8\""));
  uint64_t headerSize;
  memcpy(&headerSize, (*bytes)->getBufferStart(), 8);
  EXPECT_EQ((*bytes)->getBufferSize(), 8 + headerSize + 16 * 192 * 4 + 256);
  llvm::Expected<Checkpoint> read =
      parseSafetensors((*bytes)->getBuffer(), path);
  ASSERT_TRUE(bool(read)) << llvm::toString(read.takeError());
  const Tensor *stored = read->find("head.weight");
  ASSERT_TRUE(stored);
  // Panel layout [2, 16, 8]: element (column 9, k 0) is panel 1, offset 1.
  EXPECT_EQ(stored->data[16 * 8 + 1], head.data[9 * 16]);
}

TEST_F(ProgramTest, TheBackendRefusesWhatItDoesNotCompileYet) {
  llvm::Expected<Program> program = build(moduleText("bf16"));
  ASSERT_TRUE(bool(program)) << llvm::toString(program.takeError());
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::Error error = emitHalideStmt(*program, /*conceptual=*/true, os);
  EXPECT_EQ(llvm::toString(std::move(error)),
            "backend: parameter 'head.weight' is bf16; this vitc compiles f32 "
            "weights only");
}

TEST_F(ProgramTest, RefusesIrThatIsNotTiled) {
  llvm::Expected<Program> program = build(moduleText("f32", /*tiled=*/false));
  ASSERT_FALSE(bool(program));
  EXPECT_THAT(llvm::toString(program.takeError()),
              HasSubstr("the op has no vit.tile (run vit-select-tiles first) "
                        "(op 'vit.linear'"));
}

} // namespace
