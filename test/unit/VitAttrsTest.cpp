//===- VitAttrsTest.cpp - parsing and checking #vit.target and the tiles -===//

#include "dialect/VitDialect.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"
#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::vit;

namespace {

std::string print(Attribute attr) {
  std::string text;
  llvm::raw_string_ostream(text) << attr;
  return text;
}

class AttrTest : public ::testing::Test {
protected:
  AttrTest()
      : handler(&context, [this](Diagnostic &diag) {
          messages.push_back(diag.str());
          return success();
        }) {
    context.loadDialect<VitDialect>();
  }

  Attribute parse(StringRef text) { return parseAttribute(text, &context); }

  MLIRContext context;
  std::vector<std::string> messages;
  ScopedDiagnosticHandler handler;
};

TEST_F(AttrTest, TargetFieldsRoundTrip) {
  auto target = dyn_cast_or_null<TargetAttr>(
      parse("#vit.target<target = \"x86-64-linux-avx512_sapphirerapids\", "
            "vector_bits = 512, vector_registers = 32, cores = 2, features = "
            "\"avx2|fma|avx512|avx512_vnni|amx_int8\">"));
  ASSERT_TRUE(target);
  EXPECT_EQ(target.getTarget(), "x86-64-linux-avx512_sapphirerapids");
  EXPECT_EQ(target.getVectorBits(), 512);
  EXPECT_EQ(target.getVectorLanes(), 16);
  EXPECT_EQ(target.getVectorRegisters(), 32);
  EXPECT_EQ(target.getCores(), 2);
  EXPECT_TRUE(target.has(CpuFeatures::AVX512VNNI | CpuFeatures::AMXInt8));
  EXPECT_FALSE(target.has(CpuFeatures::AMXBF16));
  EXPECT_FALSE(target.isGpu());
  EXPECT_EQ(parse(print(target)), target);
}

TEST_F(AttrTest, TargetDefaultsToACpuWithoutFeatures) {
  auto target = dyn_cast_or_null<TargetAttr>(parse(
      "#vit.target<target = \"host\", vector_bits = 128, vector_registers = "
      "16, cores = 4>"));
  ASSERT_TRUE(target);
  EXPECT_EQ(target.getFeatures(), CpuFeatures::None);
  EXPECT_EQ(target.getGpu(), GpuApi::None);
  EXPECT_EQ(target.getGpuThreads(), 0);
}

TEST_F(AttrTest, TargetRejectsBadFields) {
  EXPECT_FALSE(parse("#vit.target<target = \"host\", vector_bits = 100, "
                     "vector_registers = 16, cores = 2>"));
  EXPECT_FALSE(parse("#vit.target<target = \"host\", vector_bits = 256, "
                     "vector_registers = 16, cores = 0>"));
  EXPECT_FALSE(parse("#vit.target<target = \"\", vector_bits = 256, "
                     "vector_registers = 16, cores = 2>"));
  EXPECT_FALSE(parse("#vit.target<target = \"host-cuda\", vector_bits = 32, "
                     "cores = 1, gpu = cuda>"));
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_NE(messages[0].find(
                "vector_bits must be a multiple of 32 between 32 and 4096, got 100"),
            std::string::npos);
  EXPECT_NE(messages[1].find("cores must be at least 1, got 0"),
            std::string::npos);
  EXPECT_NE(messages[2].find("target string must not be empty"),
            std::string::npos);
  EXPECT_NE(messages[3].find("gpu_threads and gpu_shared_bytes must both be "
                             "positive for a GPU target"),
            std::string::npos);
}

TEST_F(AttrTest, TileFieldsRoundTrip) {
  auto tile = dyn_cast_or_null<CpuAttentionTileAttr>(
      parse("#vit.cpu_attention_tile<columns = 24, rows = 4, vector = 8, "
            "parallel = rows, score_columns = 16, score_rows = 6, "
            "context_columns = 16, context_rows = 6, query_rows = 99>"));
  ASSERT_TRUE(tile);
  EXPECT_EQ(tile.getColumns(), 24);
  EXPECT_EQ(tile.getParallel(), TileParallel::Rows);
  EXPECT_EQ(tile.getQueryRows(), 99);
  EXPECT_EQ(parse(print(tile)), tile);
  auto gpu = dyn_cast_or_null<GpuGemmTileAttr>(
      parse("#vit.gpu_gemm_tile<block_columns = 128, block_rows = 32, "
            "thread_columns = 8, thread_rows = 4, shared_k = 8>"));
  ASSERT_TRUE(gpu);
  EXPECT_EQ(parse(print(gpu)), gpu);
}

TEST_F(AttrTest, TileDefaultsAreOmitted) {
  auto tile = dyn_cast_or_null<CpuGemmTileAttr>(
      parse("#vit.cpu_gemm_tile<columns = 16, rows = 6, vector = 8>"));
  ASSERT_TRUE(tile);
  EXPECT_EQ(tile.getParallel(), TileParallel::Columns);
  EXPECT_EQ(print(tile),
            "#vit.cpu_gemm_tile<columns = 16, rows = 6, vector = 8>");
}

TEST_F(AttrTest, TileParametersByName) {
  auto tile = cast<TileAttrInterface>(
      parse("#vit.cpu_gemm_tile<columns = 24, rows = 4, vector = 8>"));
  SmallVector<TileParameter> parameters = tile.getTileParameters();
  ASSERT_EQ(parameters.size(), 4u);
  EXPECT_EQ(parameters[1].name, "rows");
  EXPECT_EQ(parameters[3].name, "parallel");
  EXPECT_EQ(parameters[3].keywords.size(), 2u);
  parameters[1].value = 6;
  parameters[3].value = 1; // rows
  auto emitError = [&] { return mlir::emitError(UnknownLoc::get(&context)); };
  Attribute changed = tile.withTileParameters(parameters, emitError);
  EXPECT_EQ(changed, parse("#vit.cpu_gemm_tile<columns = 24, rows = 6, "
                           "vector = 8, parallel = rows>"));
  parameters[0].value = 20; // not a multiple of the vector
  EXPECT_FALSE(tile.withTileParameters(parameters, emitError));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "columns (20) must be a multiple of vector (8)");
}

TEST_F(AttrTest, TileRejectsBadFields) {
  EXPECT_FALSE(parse("#vit.cpu_gemm_tile<columns = 32, rows = 0, vector = 8>"));
  EXPECT_FALSE(parse("#vit.cpu_row_tile<rows = 8, vector = 0>"));
  EXPECT_FALSE(parse("#vit.gpu_gemm_tile<block_columns = 128, block_rows = "
                     "32, thread_columns = 6, thread_rows = 4, shared_k = 8>"));
  EXPECT_FALSE(parse("#vit.cpu_attention_tile<columns = 24, rows = 4, vector "
                     "= 8, score_columns = 16, score_rows = 6, "
                     "context_columns = 16, context_rows = 6, query_rows = "
                     "-1>"));
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_NE(messages[0].find("rows must be between 1 and 4096, got 0"),
            std::string::npos);
  EXPECT_NE(messages[1].find("vector must be between 1 and 64, got 0"),
            std::string::npos);
  EXPECT_NE(messages[2].find("the block tile 128x32 is not a multiple of the "
                             "thread tile 6x4"),
            std::string::npos);
  EXPECT_NE(messages[3].find("query_rows must be between 0 (all) and 4096"),
            std::string::npos);
}

} // namespace
