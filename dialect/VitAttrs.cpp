//===- VitAttrs.cpp - verifiers of #vit.target and the tile attributes ----===//
//
// Attributes are checked when they are built or parsed, so the passes that
// read them can trust every field. Tiles also list their parameters by name
// (TileAttrInterface) for schedule files and tuning.
//
//===----------------------------------------------------------------------===//

#include "dialect/VitDialect.h"

using namespace mlir;
using namespace mlir::vit;

LogicalResult TargetAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef target, int64_t vectorBits,
                                 int64_t vectorRegisters, int64_t cores,
                                 CpuFeatures features, GpuApi gpu,
                                 int64_t gpuThreads, int64_t gpuSharedBytes) {
  (void)features;
  if (target.empty())
    return emitError() << "target string must not be empty";
  // Multiples of 32 rather than powers of two: SVE and RVV vectors may be
  // 384 bits, and a target without vectors has one 32-bit lane.
  if (vectorBits < 32 || vectorBits % 32 != 0 || vectorBits > 4096)
    return emitError()
           << "vector_bits must be a multiple of 32 between 32 and 4096, got "
           << vectorBits;
  bool isGpu = gpu != GpuApi::None;
  if ((!isGpu && vectorRegisters < 1) || vectorRegisters < 0 ||
      vectorRegisters > 64)
    return emitError() << "vector_registers must be between 1 and 64 on a "
                          "CPU target (0 on a GPU), got "
                       << vectorRegisters;
  if (cores < 1)
    return emitError() << "cores must be at least 1, got " << cores;
  if (isGpu != (gpuThreads > 0) || isGpu != (gpuSharedBytes > 0) ||
      gpuThreads < 0 || gpuSharedBytes < 0)
    return emitError() << "gpu_threads and gpu_shared_bytes must both be "
                          "positive for a GPU target (gpu = cuda or opencl) "
                          "and 0 otherwise, got gpu = "
                       << stringifyGpuApi(gpu) << ", " << gpuThreads << " and "
                       << gpuSharedBytes;
  return success();
}

LogicalResult ModelAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                StringRef name, DenseF32ArrayAttr mean,
                                DenseF32ArrayAttr std, FloatAttr cropFraction) {
  if (name.empty())
    return emitError() << "model name must not be empty";
  // Three values each, as the runtime ABI keeps them (a one-channel model
  // uses the first).
  if (mean.size() != 3 || std.size() != 3)
    return emitError() << "mean and std must have 3 values each, got "
                       << mean.size() << " and " << std.size();
  if (llvm::any_of(std.asArrayRef(), [](float s) { return !(s > 0); }))
    return emitError() << "std must be positive";
  double crop = cropFraction.getValueAsDouble();
  if (!(crop >= 0 && crop <= 1))
    return emitError() << "crop_fraction must be between 0 and 1, got " << crop;
  return success();
}

namespace {

/// Every tile size is at least 1 and small enough that products of sizes
/// (threads, unrolled registers) stay far from overflow.
LogicalResult
checkSizes(function_ref<InFlightDiagnostic()> emitError,
           std::initializer_list<std::pair<StringRef, int64_t>> sizes) {
  for (auto [name, size] : sizes)
    if (size < 1 || size > 4096)
      return emitError() << name << " must be between 1 and 4096, got " << size;
  return success();
}

LogicalResult checkVector(function_ref<InFlightDiagnostic()> emitError,
                          int64_t columns, int64_t vector,
                          StringRef columnsName = "columns") {
  if (vector < 1 || vector > 64)
    return emitError() << "vector must be between 1 and 64, got " << vector;
  if (columns % vector != 0)
    return emitError() << columnsName << " (" << columns
                       << ") must be a multiple of vector (" << vector << ")";
  return success();
}

LogicalResult checkThreadTile(function_ref<InFlightDiagnostic()> emitError,
                              int64_t blockColumns, int64_t blockRows,
                              int64_t threadColumns, int64_t threadRows) {
  if (blockColumns % threadColumns != 0 || blockRows % threadRows != 0)
    return emitError() << "the block tile " << blockColumns << "x" << blockRows
                       << " is not a multiple of the thread tile "
                       << threadColumns << "x" << threadRows;
  return success();
}

const StringRef kParallelKeywords[] = {"columns", "rows"};

/// The TileParallel a keyword index names; fails for another value.
FailureOr<TileParallel>
parallelOf(int64_t value, function_ref<InFlightDiagnostic()> emitError) {
  if (value < 0 ||
      value >= static_cast<int64_t>(std::size(kParallelKeywords))) {
    (void)(emitError() << "parallel must be columns (0) or rows (1), got "
                       << value);
    return failure();
  }
  return static_cast<TileParallel>(value);
}

TileParameter parallelParameter(TileParallel parallel) {
  return {"parallel", static_cast<int64_t>(parallel), kParallelKeywords};
}

/// The value named `name` in `values`; fails (after `emitError`) if absent.
FailureOr<int64_t> lookup(ArrayRef<TileParameter> values, StringRef name,
                          function_ref<InFlightDiagnostic()> emitError) {
  for (const TileParameter &value : values)
    if (value.name == name)
      return value.value;
  (void)(emitError() << "missing tile parameter '" << name << "'");
  return failure();
}

/// The values in `values` of the parameters `own` names (the attribute's own
/// getTileParameters(), so the names are written once), in that order; fails
/// on the first missing one.
FailureOr<SmallVector<int64_t>>
lookupAll(ArrayRef<TileParameter> values, ArrayRef<TileParameter> own,
          function_ref<InFlightDiagnostic()> emitError) {
  SmallVector<int64_t> out;
  for (const TileParameter &parameter : own) {
    FailureOr<int64_t> value = lookup(values, parameter.name, emitError);
    if (failed(value))
      return failure();
    out.push_back(*value);
  }
  return out;
}

} // namespace

//===----------------------------------------------------------------------===//
// CPU tiles
//===----------------------------------------------------------------------===//

LogicalResult
CpuGemmTileAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        int64_t columns, int64_t rows, int64_t vector,
                        TileParallel parallel) {
  (void)parallel;
  if (failed(checkSizes(emitError, {{"columns", columns}, {"rows", rows}})))
    return failure();
  return checkVector(emitError, columns, vector);
}

namespace {

/// The register-tile parameters CPU GEMM and attention tiles share.
template <typename Tile>
SmallVector<TileParameter> cpuRegisterTileParameters(Tile tile) {
  return {{"columns", tile.getColumns()},
          {"rows", tile.getRows()},
          {"vector", tile.getVector()},
          parallelParameter(tile.getParallel())};
}

/// The block and thread parameters GPU GEMM and attention tiles share.
template <typename Tile>
SmallVector<TileParameter> gpuBlockTileParameters(Tile tile) {
  return {{"block_columns", tile.getBlockColumns()},
          {"block_rows", tile.getBlockRows()},
          {"thread_columns", tile.getThreadColumns()},
          {"thread_rows", tile.getThreadRows()},
          {"shared_k", tile.getSharedK()}};
}

} // namespace

SmallVector<TileParameter> CpuGemmTileAttr::getTileParameters() const {
  return cpuRegisterTileParameters(*this);
}

Attribute CpuGemmTileAttr::withTileParameters(
    ArrayRef<TileParameter> values,
    function_ref<InFlightDiagnostic()> emitError) const {
  auto v = lookupAll(values, getTileParameters(), emitError);
  if (failed(v))
    return {};
  FailureOr<TileParallel> parallel = parallelOf((*v)[3], emitError);
  if (failed(parallel))
    return {};
  return getChecked(emitError, getContext(), (*v)[0], (*v)[1], (*v)[2],
                    *parallel);
}

LogicalResult
CpuAttentionTileAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                             int64_t columns, int64_t rows, int64_t vector,
                             TileParallel parallel, int64_t scoreColumns,
                             int64_t scoreRows, int64_t contextColumns,
                             int64_t contextRows, int64_t queryRows) {
  (void)parallel;
  if (failed(checkSizes(emitError, {{"columns", columns},
                                    {"rows", rows},
                                    {"score_columns", scoreColumns},
                                    {"score_rows", scoreRows},
                                    {"context_columns", contextColumns},
                                    {"context_rows", contextRows}})) ||
      failed(checkVector(emitError, columns, vector)) ||
      failed(checkVector(emitError, scoreColumns, vector, "score_columns")) ||
      failed(checkVector(emitError, contextColumns, vector, "context_columns")))
    return failure();
  if (queryRows < 0 || queryRows > 4096)
    return emitError() << "query_rows must be between 0 (all) and 4096, got "
                       << queryRows;
  return success();
}

SmallVector<TileParameter> CpuAttentionTileAttr::getTileParameters() const {
  SmallVector<TileParameter> parameters = cpuRegisterTileParameters(*this);
  parameters.append({{"score_columns", getScoreColumns()},
                     {"score_rows", getScoreRows()},
                     {"context_columns", getContextColumns()},
                     {"context_rows", getContextRows()},
                     {"query_rows", getQueryRows()}});
  return parameters;
}

Attribute CpuAttentionTileAttr::withTileParameters(
    ArrayRef<TileParameter> values,
    function_ref<InFlightDiagnostic()> emitError) const {
  auto v = lookupAll(values, getTileParameters(), emitError);
  if (failed(v))
    return {};
  FailureOr<TileParallel> parallel = parallelOf((*v)[3], emitError);
  if (failed(parallel))
    return {};
  return getChecked(emitError, getContext(), (*v)[0], (*v)[1], (*v)[2],
                    *parallel, (*v)[4], (*v)[5], (*v)[6], (*v)[7], (*v)[8]);
}

LogicalResult
CpuRowTileAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       int64_t rows, int64_t vector) {
  if (failed(checkSizes(emitError, {{"rows", rows}})))
    return failure();
  if (vector < 1 || vector > 64)
    return emitError() << "vector must be between 1 and 64, got " << vector;
  return success();
}

SmallVector<TileParameter> CpuRowTileAttr::getTileParameters() const {
  return {{"rows", getRows()}, {"vector", getVector()}};
}

Attribute CpuRowTileAttr::withTileParameters(
    ArrayRef<TileParameter> values,
    function_ref<InFlightDiagnostic()> emitError) const {
  auto v = lookupAll(values, getTileParameters(), emitError);
  if (failed(v))
    return {};
  return getChecked(emitError, getContext(), (*v)[0], (*v)[1]);
}

//===----------------------------------------------------------------------===//
// GPU tiles
//===----------------------------------------------------------------------===//

LogicalResult
GpuGemmTileAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        int64_t blockColumns, int64_t blockRows,
                        int64_t threadColumns, int64_t threadRows,
                        int64_t sharedK) {
  if (failed(checkSizes(emitError, {{"block_columns", blockColumns},
                                    {"block_rows", blockRows},
                                    {"thread_columns", threadColumns},
                                    {"thread_rows", threadRows},
                                    {"shared_k", sharedK}})))
    return failure();
  return checkThreadTile(emitError, blockColumns, blockRows, threadColumns,
                         threadRows);
}

SmallVector<TileParameter> GpuGemmTileAttr::getTileParameters() const {
  return gpuBlockTileParameters(*this);
}

Attribute GpuGemmTileAttr::withTileParameters(
    ArrayRef<TileParameter> values,
    function_ref<InFlightDiagnostic()> emitError) const {
  auto v = lookupAll(values, getTileParameters(), emitError);
  if (failed(v))
    return {};
  return getChecked(emitError, getContext(), (*v)[0], (*v)[1], (*v)[2], (*v)[3],
                    (*v)[4]);
}

LogicalResult
GpuAttentionTileAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                             int64_t blockColumns, int64_t blockRows,
                             int64_t threadColumns, int64_t threadRows,
                             int64_t sharedK, int64_t queryRows) {
  if (failed(GpuGemmTileAttr::verify(emitError, blockColumns, blockRows,
                                     threadColumns, threadRows, sharedK)))
    return failure();
  return checkSizes(emitError, {{"query_rows", queryRows}});
}

SmallVector<TileParameter> GpuAttentionTileAttr::getTileParameters() const {
  SmallVector<TileParameter> parameters = gpuBlockTileParameters(*this);
  parameters.push_back({"query_rows", getQueryRows()});
  return parameters;
}

Attribute GpuAttentionTileAttr::withTileParameters(
    ArrayRef<TileParameter> values,
    function_ref<InFlightDiagnostic()> emitError) const {
  auto v = lookupAll(values, getTileParameters(), emitError);
  if (failed(v))
    return {};
  return getChecked(emitError, getContext(), (*v)[0], (*v)[1], (*v)[2], (*v)[3],
                    (*v)[4], (*v)[5]);
}

LogicalResult
GpuRowTileAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       int64_t threads) {
  return checkSizes(emitError, {{"threads", threads}});
}

SmallVector<TileParameter> GpuRowTileAttr::getTileParameters() const {
  return {{"threads", getThreads()}};
}

Attribute GpuRowTileAttr::withTileParameters(
    ArrayRef<TileParameter> values,
    function_ref<InFlightDiagnostic()> emitError) const {
  auto v = lookupAll(values, getTileParameters(), emitError);
  if (failed(v))
    return {};
  return getChecked(emitError, getContext(), (*v)[0]);
}
