//===- ProgramTest.cpp - the program builder on tiled IR ------------------===//
//
// A small tiled module through buildProgram: parameters keep their element
// types (the weights file stores each in its own), the fingerprint changes
// with them, GEMM weights are laid out in panels as wide as their tile (int8
// ones in groups of 4 k, with their scales), and IR that is not tiled, or of
// a precision the backend does not compile, is refused with a message.
//
//===----------------------------------------------------------------------===//

#include "compiler/program/Program.h"
#include "compiler/program/Quantize.h"
#include "compiler/halide/Emit.h"
#include "support/Checkpoint.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <functional>
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
  llvm::Expected<Program> program = build(moduleText("f16"));
  ASSERT_TRUE(bool(program)) << llvm::toString(program.takeError());
  ASSERT_EQ(program->params.size(), 2u);
  EXPECT_EQ(program->params[0].elementType, ElementType::F32);
  EXPECT_EQ(program->params[1].elementType, ElementType::F16);
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

/// The patch projection, then an MLP whose fc1 weight is int8 with scales.
std::string int8ModuleText() {
  return R"(module attributes {vit.model = #vit.model<name = "tiny", mean = [0.5, 0.5, 0.5], std = [0.25, 0.25, 0.25], crop_fraction = 0.875 : f32>, vit.target = #vit.target<target = "x86-64-linux-avx512_zen4", vector_bits = 512, vector_registers = 32, cores = 2, features = "sse41|avx|avx2|fma|f16c|avx512|avx512_vnni|avx512_bf16">} {
  func.func @forward(%x: tensor<?x3x8x8xf32>) -> tensor<?x16xf32> {
    %w = vit.param "patch.weight" : tensor<16x3x8x8xf32>
    %g = vit.param "norm.weight" : tensor<16xf32>
    %b = vit.param "norm.bias" : tensor<16xf32>
    %w1 = vit.param "fc1.weight" : tensor<32x16xi8>
    %s1 = vit.param "fc1.weight.scale" : tensor<32xf32>
    %b1 = vit.param "fc1.bias" : tensor<32xf32>
    %w2 = vit.param "fc2.weight" : tensor<16x32xf32>
    %p = vit.patch_projection %x, %w {vit.tile = #vit.cpu_gemm_tile<columns = 16, rows = 4, vector = 8>} : (tensor<?x3x8x8xf32>, tensor<16x3x8x8xf32>) -> tensor<?x1x16xf32>
    %m = vit.fused_mlp %p, %g, %b, %w1 scale %s1, %b1, %w2, %b gelu_erf eps = 1.0e-6 {vit.tile = #vit.cpu_gemm_tile<columns = 8, rows = 4, vector = 8>} : (tensor<?x1x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<32x16xi8>, tensor<32xf32>, tensor<32xf32>, tensor<16x32xf32>, tensor<16xf32>) -> tensor<?x1x16xf32>
    %t = vit.select_token %m[0] {vit.tile = #vit.cpu_row_tile<rows = 4, vector = 8>} : tensor<?x1x16xf32> -> tensor<?x16xf32>
    return %t : tensor<?x16xf32>
  }
})";
}

/// The parameters of int8ModuleText's model, each element i set to value(i).
NamedTensors int8ModuleWeights(const std::function<float(size_t)> &value) {
  NamedTensors weights;
  for (auto [name, shape] :
       std::vector<std::pair<const char *, std::vector<int64_t>>>{
           {"patch.weight", {16, 3, 8, 8}},
           {"norm.weight", {16}},
           {"norm.bias", {16}},
           {"fc1.weight", {32, 16}},
           {"fc1.bias", {32}},
           {"fc2.weight", {16, 32}}}) {
    Tensor t{shape, {}};
    t.data.resize(t.numElements());
    for (size_t i = 0; i < t.data.size(); ++i)
      t.data[i] = value(i);
    weights.push_back({name, t});
  }
  return weights;
}

/// The bytes of the weights file writeKernelWeights writes for `program`
/// ("" after a test failure).
std::string writtenWeights(const Program &program, const NamedTensors &weights) {
  llvm::SmallString<128> path;
  if (llvm::sys::fs::createTemporaryFile("program", "safetensors", path)) {
    ADD_FAILURE() << "no temporary file";
    return "";
  }
  llvm::Error error = writeKernelWeights(program, weights, path);
  auto bytes = llvm::MemoryBuffer::getFile(path);
  llvm::sys::fs::remove(path);
  if (error) {
    ADD_FAILURE() << llvm::toString(std::move(error));
    return "";
  }
  if (!bytes) {
    ADD_FAILURE() << "cannot read the weights back";
    return "";
  }
  return (*bytes)->getBuffer().str();
}

TEST(QuantizeTest, PerOutputChannelSymmetricRoundingHalfToEven) {
  // Row 0: max 2.54 -> scale 0.02; 0.01 and 0.03 are halves: 0 and 2.
  // Row 1: all zero -> scale 1. Row 2: max 127 -> scale 1, -3.5 -> -4.
  Tensor weight{{3, 4}, {2.54f, 0.01f, 0.03f, -2.54f, 0, 0, 0, 0, 127.0f,
                         -3.5f, 2.5f, -127.0f}};
  Int8Weight q = quantizeWeight(weight, 127);
  EXPECT_EQ(q.values.type, ElementType::I8);
  EXPECT_FLOAT_EQ(q.scales[0], 0.02f);
  EXPECT_EQ(q.scales[1], 1.0f);
  EXPECT_EQ(q.scales[2], 1.0f);
  EXPECT_EQ(q.values.data, (std::vector<float>{127, 0, 2, -127, 0, 0, 0, 0, 127,
                                               -4, 2, -127}));
  EXPECT_EQ(q.sums, (std::vector<float>{2, 0, -2}));
  // A narrower range (63) clamps nothing but scales more coarsely.
  EXPECT_EQ(quantizeWeight(weight, 63).values.data[8], 63.0f);
}

TEST_F(ProgramTest, Int8WeightsArePackedInGroupsOfFourWithTheirScales) {
  llvm::Expected<Program> program = build(int8ModuleText());
  ASSERT_TRUE(bool(program)) << llvm::toString(program.takeError());
  EXPECT_EQ(programPrecision(*program), "int8");
  const ProgramParam *fc1 = nullptr, *scale = nullptr;
  for (const ProgramParam &param : program->params) {
    if (param.name == "fc1.weight")
      fc1 = &param;
    if (param.name == "fc1.weight.scale")
      scale = &param;
  }
  ASSERT_TRUE(fc1 && scale);
  // [M / block, K / 4, block, 4] and [scales; column sums].
  EXPECT_EQ(fc1->storedShape, (std::vector<int64_t>{4, 4, 8, 4}));
  EXPECT_EQ(scale->storedShape, (std::vector<int64_t>{2, 32}));
  EXPECT_EQ(scale->scaledWeight, "fc1.weight");

  NamedTensors weights = int8ModuleWeights([](size_t i) {
    return static_cast<float>(static_cast<int>(i % 7) - 3);
  });
  std::string bytes = writtenWeights(*program, weights);
  EXPECT_THAT(bytes, HasSubstr("\"dtype\":\"I8\""));
  EXPECT_THAT(bytes, HasSubstr("\"vitc.precision\":\"int8\""));
  llvm::Expected<Checkpoint> read = parseSafetensors(bytes, "weights");
  ASSERT_TRUE(bool(read)) << llvm::toString(read.takeError());
  const Tensor *stored = read->find("fc1.weight");
  const Tensor *scales = read->find("fc1.weight.scale");
  ASSERT_TRUE(stored && scales);
  const Tensor &w = weights[3].second;
  Int8Weight expected = quantizeWeight(w, 127);
  // Element (column 9, k 6): panel 1, group 1, column 1 in panel, k 2 in group.
  EXPECT_EQ(stored->data[((1 * 4 + 1) * 8 + 1) * 4 + 2],
            expected.values.data[9 * 16 + 6]);
  EXPECT_FLOAT_EQ(scales->data[9], expected.scales[9]);
  EXPECT_FLOAT_EQ(scales->data[32 + 9], expected.sums[9]);
}

TEST_F(ProgramTest, TheBackendRefusesWhatItDoesNotCompileYet) {
  llvm::Expected<Program> program = build(moduleText("f16"));
  ASSERT_TRUE(bool(program)) << llvm::toString(program.takeError());
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::Error error = emitHalideStmt(*program, /*conceptual=*/true, os);
  EXPECT_EQ(llvm::toString(std::move(error)),
            "backend: parameter 'head.weight' is f16; this vitc compiles f32 "
            "weights, and int8 (with scales) or bf16 GEMM weights of the "
            "fused kernels");
}

TEST_F(ProgramTest, Bf16WeightsArePackedInPairsAndRoundedToNearestEven) {
  // The int8 module with fc1 in bf16 (no scale).
  std::string text = int8ModuleText();
  auto replace = [&](const std::string &from, const std::string &to) {
    for (size_t at; (at = text.find(from)) != std::string::npos;)
      text.replace(at, from.size(), to);
  };
  replace("    %s1 = vit.param \"fc1.weight.scale\" : tensor<32xf32>\n", "");
  replace(" scale %s1", "");
  replace("tensor<32x16xi8>, tensor<32xf32>, ", "tensor<32x16xbf16>, ");
  replace("tensor<32x16xi8>", "tensor<32x16xbf16>");
  llvm::Expected<Program> program = build(text);
  ASSERT_TRUE(bool(program)) << llvm::toString(program.takeError());
  EXPECT_EQ(programPrecision(*program), "bf16");
  const ProgramParam *fc1 = nullptr;
  for (const ProgramParam &param : program->params)
    if (param.name == "fc1.weight")
      fc1 = &param;
  ASSERT_TRUE(fc1);
  // [M / block, K / 2, block, 2].
  EXPECT_EQ(fc1->storedShape, (std::vector<int64_t>{4, 8, 8, 2}));

  NamedTensors weights = int8ModuleWeights(
      [](size_t i) { return 1.0f + static_cast<float>(i) / 1024.0f; });
  std::string bytes = writtenWeights(*program, weights);
  EXPECT_THAT(bytes, HasSubstr("\"dtype\":\"BF16\""));
  EXPECT_THAT(bytes, HasSubstr("\"vitc.precision\":\"bf16\""));
  llvm::Expected<Checkpoint> read = parseSafetensors(bytes, "weights");
  ASSERT_TRUE(bool(read)) << llvm::toString(read.takeError());
  const Tensor *stored = read->find("fc1.weight");
  ASSERT_TRUE(stored);
  // Element (column 9, k 7): panel 1, pair 3, column 1 in panel, k 1 in pair.
  // 1 + 151/1024 has 10 fraction bits; bf16 keeps 7: 1 + 152/1024 (151/8 =
  // 18.875 rounds up to 19).
  EXPECT_EQ(stored->data[((1 * 8 + 3) * 8 + 1) * 2 + 1], 1.0f + 152 / 1024.0f);
  // (column 0, k 1): 1 + 1/1024 rounds down to 1 (0.125 of a step).
  EXPECT_EQ(stored->data[1], 1.0f);
}

TEST_F(ProgramTest, RefusesIrThatIsNotTiled) {
  llvm::Expected<Program> program = build(moduleText("f32", /*tiled=*/false));
  ASSERT_FALSE(bool(program));
  EXPECT_THAT(llvm::toString(program.takeError()),
              HasSubstr("the op has no vit.tile (run vit-select-tiles first) "
                        "(op 'vit.linear'"));
}

} // namespace
