//===- SelectTiles.cpp - vit-select-tiles ---------------------------------===//
//
// Chooses how every kernel op is tiled for the module's #vit.target and
// records it as a tile attribute of the op's kind (VitAttrs.td); the backend
// only reads these attributes. defaultTile() is the one place the defaults
// are decided. For CPU targets:
//
//  - GEMM kernels: a register tile of `columns` (1-3 vectors: the most that
//    divides every weight GEMM's width, so weight panels are exactly one
//    tile wide; 2 vectors when none divides all of them, and the weights
//    they do not divide are stored as one panel; int8 GEMMs that sum pairs,
//    at most 2) by `rows` (4 with 16 vector
//    registers, 8 with 32: accumulators + a vector per column + a broadcast
//    fit the registers). GEMMs of two activations (unfused attention's
//    matmuls) take as many rows as the registers hold. Column tiles are
//    shared out over the cores (each core streams its own weight panels);
//    row tiles for GEMMs with fewer column tiles than twice the cores.
//  - Fused attention: the same for its projections, per-head score and
//    context tiles by the activation rule, and the query rows of each
//    per-head task (all of them unless the heads alone make fewer than two
//    tasks per core).
//  - Row-wise kernels: rows per parallel task (8 for row reductions, 4 for
//    element-wise kernels).
//
// A schedule file (JSON) sets tile parameters by name, per kernel, matched
// by the op name ("vit.fused_mlp") or its location name ("blocks.3.mlp");
// op-name entries apply first, location entries over them, and parameters
// not named keep the compiler's choice:
//
//   {"vit.fused_mlp": {"columns": 16, "rows": 6, "parallel": "rows"},
//    "blocks.1.mlp": {"rows": 4}}
//
//===----------------------------------------------------------------------===//

#include "compiler/target/TargetDescription.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/ScheduleCache.h"
#include "compiler/transforms/ScheduleFile.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cassert>
#include <limits>

#define DEBUG_TYPE "vit-select-tiles"

namespace mlir::vit {
#define GEN_PASS_DEF_VITSELECTTILES
#include "compiler/transforms/Passes.h.inc"
} // namespace mlir::vit

using namespace mlir;
using namespace mlir::vit;

namespace {

/// The static rows per image of a kernel's GEMMs (tokens), or a large
/// number when they are the batch (the head) or unknown.
int64_t tokenRows(Operation *op) {
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || type.getRank() < 3 || type.isDynamicDim(type.getRank() - 2))
    return std::numeric_limits<int64_t>::max();
  return type.getDimSize(type.getRank() - 2);
}

/// Register-tile columns for GEMMs of these widths: 3 vectors when they
/// divide every width, else 2 when the narrowest has room, else 1.
int64_t registerTileColumns(ArrayRef<int64_t> widths, int64_t lanes) {
  assert(!widths.empty() && "GEMM kernels have GEMMs");
  int64_t narrowest = *llvm::min_element(widths);
  if (llvm::all_of(widths, [&](int64_t m) { return m % (3 * lanes) == 0; }))
    return 3 * lanes;
  return narrowest >= 2 * lanes ? 2 * lanes : lanes;
}

/// Register-tile rows of a GEMM of two activations: as many as the vector
/// registers hold beside a vector per column and the broadcast (16x6 on
/// AVX2 measured 52/62 vs 48/51 GFLOP/s with 4 rows).
int64_t activationTileRows(int64_t columns, int64_t lanes, TargetAttr target) {
  int64_t vectors = std::max<int64_t>(1, columns / lanes);
  return std::clamp<int64_t>(
      (target.getVectorRegisters() - vectors - 1) / vectors, 1, 8);
}

/// Shared memory of the attention core's block: the scores and probabilities
/// of `queries` rows over `keys` keys, in floats.
int64_t attentionSharedBytes(int64_t keys, int64_t queries) {
  return 2 * keys * queries * 4;
}

/// Threads of the attention core's block for `queries` query rows: the
/// context stage runs (head width / 4) x queries, the scores 16 x queries.
int64_t attentionThreads(FusedAttentionOp op, int64_t queries) {
  int64_t headDim = op.getInput().getType().getDimSize(2) / op.getHeads();
  return std::max<int64_t>(headDim % 4 == 0 ? headDim / 4 : headDim, 16) *
         queries;
}

/// GPU tiles: 128 threads per block, each accumulating an 8 x 4 register
/// tile of a 128 x 32 block tile (narrower blocks for narrow GEMMs);
/// attention keeps the scores and probabilities of a tile of query rows in
/// shared memory.
Attribute defaultGpuTile(KernelOpInterface op, TargetAttr target) {
  MLIRContext *context = op->getContext();
  KernelKind kind = op.getKernelKind();
  if (kind != KernelKind::Gemm && kind != KernelKind::Attention)
    return GpuRowTileAttr::get(context,
                               std::min<int64_t>(128, target.getGpuThreads()));
  int64_t narrowest = *llvm::min_element(op.getGemmWidths());
  // 8 x 4 outputs per thread: 32 multiply-adds per 12 shared-memory loads
  // per step of k (a 4 x 2 tile does 8 per 6, and shared memory, not the
  // FMA units, would bound it). 16 x 8 threads make a 128 x 32 block; narrow
  // GEMMs take narrower blocks and thread tiles.
  int64_t columns = 128, threadColumns = 8, threadRows = 4;
  while (columns > 16 && columns / 2 >= narrowest)
    columns /= 2;
  if (columns < 64)
    threadColumns = 4;
  int64_t threadsAcross = columns / threadColumns;
  // Rows per block: 32, fewer for short sequences so that blocks stay full.
  int64_t rows = 8 * threadRows;
  int64_t tokens = tokenRows(op);
  while (rows > threadRows && rows > tokens)
    rows /= 2;
  // k steps as long as the shorter thread dimension, so each shared slice is
  // loaded in one pass of the block's threads.
  int64_t sharedK = std::min<int64_t>(threadsAcross, rows / threadRows);
  auto attention = dyn_cast<FusedAttentionOp>(op.getOperation());
  if (!attention)
    return GpuGemmTileAttr::get(context, columns, rows, threadColumns,
                                threadRows, sharedK);
  int64_t keys = attention.getInput().getType().getDimSize(1);
  int64_t queries = std::min<int64_t>(16, attention.getResult().getType().getDimSize(1));
  while (queries > 1 &&
         (attentionSharedBytes(keys, queries) > target.getGpuSharedBytes() ||
          attentionThreads(attention, queries) > target.getGpuThreads()))
    queries /= 2;
  return GpuAttentionTileAttr::get(context, columns, rows, threadColumns,
                                   threadRows, sharedK, queries);
}

/// Checks that a GPU tile, perhaps from a schedule file, fits `op` and the
/// target; returns why not, or "".
std::string checkGpuTile(Operation *op, Attribute tile, TargetAttr target) {
  int64_t threads = 0;
  if (auto row = dyn_cast<GpuRowTileAttr>(tile))
    threads = row.getThreads();
  SmallVector<int64_t> block;
  if (auto gemm = dyn_cast<GpuGemmTileAttr>(tile))
    block = {gemm.getBlockColumns(), gemm.getBlockRows(),
             gemm.getThreadColumns(), gemm.getThreadRows()};
  if (auto att = dyn_cast<GpuAttentionTileAttr>(tile)) {
    block = {att.getBlockColumns(), att.getBlockRows(), att.getThreadColumns(),
             att.getThreadRows()};
    auto attention = cast<FusedAttentionOp>(op);
    int64_t keys = attention.getInput().getType().getDimSize(1);
    int64_t queries = att.getQueryRows();
    threads = attentionThreads(attention, queries);
    if (attentionSharedBytes(keys, queries) > target.getGpuSharedBytes())
      return std::to_string(queries) + " query rows need " +
             std::to_string(attentionSharedBytes(keys, queries)) +
             " bytes of shared memory for their scores, more than the " +
             std::to_string(target.getGpuSharedBytes()) + " the target has";
  }
  if (!block.empty())
    threads = std::max(threads, (block[0] / block[2]) * (block[1] / block[3]));
  if (threads > target.getGpuThreads())
    return std::to_string(threads) + " threads per block is more than the " +
           std::to_string(target.getGpuThreads()) + " the target allows";
  return "";
}

/// `tile` with the parameters `settings` names set; null after an error
/// (unknown name, wrong value, a tile that does not verify).
Attribute
applySettings(Attribute tile,
              ArrayRef<std::pair<std::string, llvm::json::Value>> settings,
              function_ref<InFlightDiagnostic()> emitError) {
  auto named = cast<TileAttrInterface>(tile);
  SmallVector<TileParameter> parameters = named.getTileParameters();
  for (const auto &[name, setting] : settings) {
    auto it =
        llvm::find_if(parameters, [&, &name = name](const TileParameter &p) {
          return p.name == name;
        });
    if (it == parameters.end()) {
      std::string known = llvm::join(
          llvm::map_range(parameters,
                          [](const TileParameter &p) { return p.name; }),
          ", ");
      (void)(emitError() << "#" << tile.getAbstractAttribute().getName()
                         << " has no parameter '" << name << "' (it has "
                         << known << ")");
      return {};
    }
    if (!it->keywords.empty()) {
      std::optional<StringRef> keyword = setting.getAsString();
      const auto *match =
          keyword ? llvm::find(it->keywords, *keyword) : it->keywords.end();
      if (match == it->keywords.end()) {
        (void)(emitError() << "'" << name << "' must be one of \""
                           << llvm::join(it->keywords, "\", \"") << "\", got "
                           << llvm::formatv("{0}", setting));
        return {};
      }
      it->value = match - it->keywords.begin();
      continue;
    }
    std::optional<int64_t> size = setting.getAsInteger();
    if (!size) {
      (void)(emitError() << "'" << name << "' must be an integer, got "
                         << llvm::formatv("{0}", setting));
      return {};
    }
    it->value = *size;
  }
  return named.withTileParameters(parameters, emitError);
}

struct VitSelectTiles : mlir::vit::impl::VitSelectTilesBase<VitSelectTiles> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<TargetAttr> machine = moduleTarget(module);
    if (failed(machine))
      return signalPassFailure();
    module->setAttr("vit.target", *machine);
    ScheduleFile file;
    if (failed(readScheduleFile(scheduleFile, file, module)))
      return signalPassFailure();

    WalkResult walked = module.walk([&](KernelOpInterface op) {
      Attribute tile = defaultTile(op, *machine);
      if (!scheduleCache.empty()) {
        auto warn = [&](const std::string &message) {
          op->emitWarning() << message;
        };
        ScheduleCacheKey key = scheduleCacheKey(op, *machine);
        if (std::optional<CachedSchedule> cached =
                lookupSchedule(scheduleCache, key, warn)) {
          auto emitWhy = [&]() {
            return op->emitWarning()
                   << "schedule cache entry " << key.fileName()
                   << " ignored: its tile does not apply: ";
          };
          if (Attribute tuned = applySettings(tile, cached->settings, emitWhy)) {
            tile = tuned;
            op->setAttr("vit.tile_source",
                        StringAttr::get(op->getContext(), "schedule cache"));
            ++numCached;
          }
        }
      }
      // The op name's settings, then the location's over them, applied and
      // verified together.
      SmallVector<std::pair<std::string, llvm::json::Value>> settings;
      SmallVector<std::string, 2> matched;
      for (const std::string &key : scheduleKeys(op)) {
        auto entry = file.entries.find(key);
        if (entry == file.entries.end())
          continue;
        file.used.insert(key);
        matched.push_back(key);
        // The precision is vit-quantize-weights' setting, not the tile's.
        for (const auto &setting : entry->second)
          if (setting.first != kPrecisionSetting)
            settings.push_back(setting);
      }
      if (!matched.empty()) {
        auto emitError = [&]() {
          return op->emitError()
                 << "schedule file '" << scheduleFile << "', kernel '"
                 << llvm::join(matched, "' and '") << "': ";
        };
        tile = applySettings(tile, settings, emitError);
        if (!tile)
          return WalkResult::interrupt();
        if (machine->isGpu())
          if (std::string why = checkGpuTile(op, tile, *machine);
              !why.empty()) {
            emitError() << why;
            return WalkResult::interrupt();
          }
      }
      op->setAttr("vit.tile", tile);
      ++numTiled;
      return WalkResult::advance();
    });
    if (walked.wasInterrupted())
      return signalPassFailure();
    for (const auto &entry : file.entries)
      if (!file.used.contains(entry.getKey())) {
        module.emitError() << "schedule file '" << scheduleFile << "': kernel '"
                           << entry.getKey()
                           << "' matches no op (use an op name such as "
                              "\"vit.fused_mlp\" or a location such as "
                              "\"blocks.0.mlp\")";
        return signalPassFailure();
      }
  }

  /// The target option described, else the module's #vit.target (described
  /// again when `cores` asks for another count), else the host.
  FailureOr<TargetAttr> moduleTarget(ModuleOp module) {
    auto existing = module->getAttrOfType<TargetAttr>("vit.target");
    if (existing && target.empty() && cores == 0)
      return existing;
    std::string text = !target.empty() ? std::string(target)
                       : existing      ? existing.getTarget().str()
                                       : std::string("host");
    llvm::Expected<TargetAttr> described =
        vitc::describeTarget(module.getContext(), text, cores);
    if (!described) {
      module.emitError() << "target: " << llvm::toString(described.takeError());
      return failure();
    }
    return *described;
  }
};

} // namespace

Attribute mlir::vit::defaultTile(KernelOpInterface op, TargetAttr target) {
  if (target.isGpu())
    return defaultGpuTile(op, target);
  MLIRContext *context = op->getContext();
  const int64_t lanes = target.getVectorLanes();
  KernelKind kind = op.getKernelKind();
  if (kind == KernelKind::Elementwise || kind == KernelKind::RowReduce)
    return CpuRowTileAttr::get(context, kind == KernelKind::RowReduce ? 8 : 4,
                               lanes);
  SmallVector<int64_t> widths = op.getGemmWidths();
  int64_t columns = registerTileColumns(widths, lanes);
  // Int8 GEMMs summing pairs (x86 without AVX512-VNNI) hold a row's pair
  // sums and a vector of ones beside the accumulators: 2 vectors at most
  // (3 spill on AVX2's 16 registers).
  const bool int8Pairs =
      target.getInt8WeightLevels() < 127 &&
      llvm::any_of(op.getGemmWeightOperands(), [&](unsigned w) {
        return op.getWeightScaleOperand(w) >= 0;
      });
  if (int8Pairs)
    columns = std::min(columns, 2 * lanes);
  // Rows: 4 with 16 vector registers (a 3-vector tile then fills them: 12
  // accumulators, 3 weight vectors, a broadcast; measured no better with 6
  // rows for 2-vector tiles), 8 with 32.
  int64_t rows = target.getVectorRegisters() >= 32 ? 8 : 4;
  if (op.getGemmWeightOperands().empty())
    rows = activationTileRows(columns, lanes, target);
  const bool manyColumnTiles =
      *llvm::min_element(widths) / columns >= 2 * target.getCores();
  const TileParallel parallel =
      manyColumnTiles ? TileParallel::Columns : TileParallel::Rows;
  auto attention = dyn_cast<FusedAttentionOp>(op.getOperation());
  if (!attention)
    return CpuGemmTileAttr::get(context, columns, rows, lanes, parallel);
  // Per head: scores over the keys (every token), context over the head
  // width, each a GEMM of two activations.
  const int64_t keys = attention.getInput().getType().getDimSize(1);
  const int64_t headWidth =
      attention.getInput().getType().getDimSize(2) / attention.getHeads();
  const int64_t scoreColumns = registerTileColumns({keys}, lanes);
  const int64_t contextColumns = registerTileColumns({headWidth}, lanes);
  // Each (query rows, head, image) is a task: split the queries until one
  // image's heads make at least two tasks per core (ViT-Ti's 3 heads on 2
  // cores: 2 blocks of 99 queries).
  int64_t queries = attention.getResult().getType().getDimSize(1);
  int64_t heads = attention.getHeads(), blocks = 1;
  while (!ShapedType::isDynamic(queries) &&
         heads * blocks < 2 * target.getCores() && queries / (blocks + 1) >= 16)
    ++blocks;
  return CpuAttentionTileAttr::get(
      context, columns, rows, lanes, parallel, scoreColumns,
      activationTileRows(scoreColumns, lanes, target), contextColumns,
      activationTileRows(contextColumns, lanes, target),
      blocks > 1 ? (queries + blocks - 1) / blocks : 0);
}
