//===- SelectTiles.cpp - vit-select-tiles ---------------------------------===//
//
// Chooses how every kernel op is tiled for the target and records it as
// #vit.tile (the machine as #vit.target on the module); the backend only
// reads these attributes. The choices, for CPU targets:
//
//  - GEMM kernels (linear, patch projection, the fused ops): tiles =
//    [columns, rows] of the register tile of their weight GEMMs. Columns are
//    1-3 vectors, the most that divides every weight GEMM's width (so weight
//    panels can be exactly one tile wide; 2 vectors when none divides all
//    of them, and the non-dividing weights are stored as one panel); rows
//    are 4 with 16 vector
//    registers, 8 with 32 (accumulators + one vector per column + a
//    broadcast fit the registers).
//    parallel = [0] spreads column tiles over the cores (each core streams
//    its own weight panels); [1] spreads row tiles instead, for GEMMs with
//    fewer column tiles than twice the cores. Fused attention adds a third
//    size, the query rows of each per-head task (all of them unless the
//    heads alone make fewer than two tasks per core).
//  - Row-wise kernels (layer norm, softmax, element-wise ops): tiles =
//    [rows per parallel task], parallel = [0].
//
// A schedule file (JSON) overrides the choice per kernel, matched by the op's
// location name (e.g. "blocks.3.mlp") or its op name ("vit.fused_mlp"):
//
//   {"vit.fused_mlp": {"tiles": [16, 6], "vector": 8, "parallel": [1]}}
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <limits>
#include <thread>
#include <unistd.h>

#define DEBUG_TYPE "vit-select-tiles"

namespace mlir::vit {
#define GEN_PASS_DEF_VITSELECTTILES
#include "compiler/transforms/Passes.h.inc"
} // namespace mlir::vit

using namespace mlir;
using namespace mlir::vit;

namespace {

/// Widths (output columns) of the weight GEMMs of a kernel op; empty for
/// kernels without one.
SmallVector<int64_t> weightGemmWidths(Operation *op) {
  auto rows = [](Value weight) {
    return weight ? SmallVector<int64_t>{cast<RankedTensorType>(
                                             weight.getType())
                                             .getDimSize(0)}
                  : SmallVector<int64_t>{};
  };
  return llvm::TypeSwitch<Operation *, SmallVector<int64_t>>(op)
      .Case<LinearOp, PatchProjectionOp, FusedPatchEmbedOp>(
          [&](auto o) { return rows(o.getWeight()); })
      .Case([&](MatmulOp o) {
        return SmallVector<int64_t>{o.getType().getShape().back()};
      })
      .Case([&](FusedMlpOp o) {
        return SmallVector<int64_t>{rows(o.getFc1Weight())[0],
                                    rows(o.getFc2Weight())[0]};
      })
      .Case([&](FusedAttentionOp o) {
        return SmallVector<int64_t>{rows(o.getQkvWeight())[0],
                                    rows(o.getProjWeight())[0]};
      })
      .Case([&](FusedHeadOp o) {
        SmallVector<int64_t> widths;
        for (Value w :
             {o.getPreLogitsWeight(), o.getHeadWeight(), o.getDistWeight()})
          widths.append(rows(w));
        return widths;
      })
      .Default(SmallVector<int64_t>{});
}

/// The machine a target string describes, as far as tiling needs it.
FailureOr<TargetAttr> describeTarget(MLIRContext *context, StringRef target,
                                     int64_t cores, std::string &error) {
  // Multi-target libraries share one weight layout: the first target decides.
  StringRef first = target.split(',').first;
  SmallVector<StringRef> parts;
  first.split(parts, '-');
  bool host = parts.front() == "host";
  if (!host && parts.front() != "x86" && parts.front() != "arm" &&
      parts.front() != "riscv") {
    error = "target '" + first.str() +
            "' names no architecture vitc can tile for (x86, arm, riscv or "
            "host)";
    return failure();
  }
  auto has = [&](StringRef feature) {
    return llvm::any_of(parts, [&](StringRef p) { return p.starts_with(feature); });
  };
  int64_t vectorBits = 128; // SSE2, NEON
  if (has("avx512"))
    vectorBits = 512;
  else if (has("avx"))
    vectorBits = 256;
#if defined(__x86_64__)
  if (host)
    vectorBits = __builtin_cpu_supports("avx512f")  ? 512
                 : __builtin_cpu_supports("avx2") ? 256
                                                    : 128;
#endif
  if (has("cuda") || has("opencl")) {
    // GPU: CUDA guarantees 1024 threads and 48 KiB of static shared memory
    // per block; portable OpenCL devices 256 work-items and 32 KiB.
    bool cuda = has("cuda");
    return TargetAttr::get(context, first, /*vectorBits=*/32,
                           cores > 0 ? cores : 1, /*l1=*/0, /*l2=*/0,
                           cuda ? 1024 : 256, cuda ? 48 * 1024 : 32 * 1024);
  }
  int64_t l1 = 32 * 1024, l2 = 512 * 1024; // assumed for cross targets
  if (host) {
    if (long size = sysconf(_SC_LEVEL1_DCACHE_SIZE); size > 0)
      l1 = size;
    if (long size = sysconf(_SC_LEVEL2_CACHE_SIZE); size > 0)
      l2 = size;
  }
  if (cores <= 0)
    cores = std::max(1u, std::thread::hardware_concurrency());
  return TargetAttr::get(context, first, vectorBits, cores, l1, l2, 0, 0);
}

/// SIMD registers: 32 with AVX-512 and on AArch64, else 16.
int64_t vectorRegisters(TargetAttr target) {
  StringRef name = target.getTarget();
  bool aarch64 = name.starts_with("arm-64");
#if defined(__aarch64__)
  aarch64 |= name.starts_with("host");
#endif
  return target.getVectorBits() >= 512 || aarch64 ? 32 : 16;
}

/// The static rows per image of a kernel's GEMMs (tokens), or a large
/// number when they are the batch (the head) or unknown.
int64_t tokenRows(Operation *op) {
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || type.getRank() < 3 || type.isDynamicDim(type.getRank() - 2))
    return std::numeric_limits<int64_t>::max();
  return type.getDimSize(type.getRank() - 2);
}

/// Threads of the attention core's block for `queries` query rows: the
/// context stage runs (head width / 4) x queries, the scores 16 x queries.
int64_t attentionThreads(FusedAttentionOp op, int64_t queries) {
  int64_t headDim = op.getInput().getType().getDimSize(2) / op.getHeads();
  return std::max<int64_t>(headDim % 4 == 0 ? headDim / 4 : headDim, 16) *
         queries;
}

/// GPU tiles: 128 threads per block, each accumulating an 8 x 4 register tile
/// of a 128 x 32 block tile (narrower blocks for narrow GEMMs); attention keeps
/// the scores and probabilities of a tile of query rows in shared memory.
TileAttr chooseGpuTile(Operation *op, TargetAttr target) {
  MLIRContext *context = op->getContext();
  SmallVector<int64_t> widths = weightGemmWidths(op);
  if (widths.empty()) // threads per block: across a row, or flat
    return TileAttr::get(context, {std::min<int64_t>(128, target.getGpuThreads())},
                         1, {0});
  int64_t narrowest = *llvm::min_element(widths);
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
  SmallVector<int64_t> tiles{columns, rows, threadColumns, threadRows, sharedK};
  if (auto attention = dyn_cast<FusedAttentionOp>(op)) {
    // Scores and probabilities of `queries` rows: 2 x N x queries floats.
    int64_t tokens = attention.getInput().getType().getDimSize(1);
    int64_t queries = std::min<int64_t>(16, attention.getType().getDimSize(1));
    while (queries > 1 && (2 * tokens * queries * 4 > target.getGpuSharedBytes() ||
                           attentionThreads(attention, queries) >
                               target.getGpuThreads()))
      queries /= 2;
    tiles.push_back(queries);
  }
  return TileAttr::get(context, tiles, 1, {0, 1});
}

/// The compiler's own choice for one kernel op.
TileAttr chooseTile(Operation *op, TargetAttr target) {
  MLIRContext *context = op->getContext();
  if (target.getGpuThreads() > 0)
    return chooseGpuTile(op, target);
  const int64_t lanes = target.getVectorBits() / 32;
  SmallVector<int64_t> widths = weightGemmWidths(op);
  if (widths.empty()) {
    bool rowReduce = isa<LayerNormOp, SoftmaxOp>(op);
    return TileAttr::get(context, {rowReduce ? 8 : 4}, lanes, {0});
  }
  int64_t narrowest = *llvm::min_element(widths);
  int64_t vectors = 1;
  if (llvm::all_of(widths, [&](int64_t m) { return m % (3 * lanes) == 0; }))
    vectors = 3;
  else if (narrowest >= 2 * lanes)
    vectors = 2;
  // Rows: 4 with 16 vector registers (a 3-vector tile then fills them: 12
  // accumulators, 3 weight vectors, a broadcast; measured no better with 6
  // rows for 2-vector tiles), 8 with 32.
  // Activation x activation GEMMs (the unfused attention's matmuls) take as
  // many rows as the registers hold, like the fused attention's per-head
  // GEMMs (16x6 on AVX2 measured 52/62 vs 48/51 GFLOP/s with 4 rows).
  int64_t rows = vectorRegisters(target) >= 32 ? 8 : 4;
  if (isa<MatmulOp>(op))
    rows = std::clamp<int64_t>((vectorRegisters(target) - vectors - 1) / vectors,
                               1, 8);
  const int64_t columns = vectors * lanes;
  bool manyColumnTiles = narrowest / columns >= 2 * target.getCores();
  SmallVector<int64_t> tiles{columns, rows};
  if (auto attention = dyn_cast<FusedAttentionOp>(op)) {
    // The per-head part runs a task per (query rows, head, image): split the
    // queries until one image's heads make at least two tasks per core
    // (ViT-Ti's 3 heads on 2 cores: 2 blocks of 99 queries).
    int64_t tokens = attention.getType().getDimSize(1);
    int64_t heads = attention.getHeads(), blocks = 1;
    while (!ShapedType::isDynamic(tokens) &&
           heads * blocks < 2 * target.getCores() &&
           tokens / (blocks + 1) >= 16)
      ++blocks;
    if (blocks > 1)
      tiles.push_back((tokens + blocks - 1) / blocks);
  }
  return TileAttr::get(context, tiles, lanes, {manyColumnTiles ? 0 : 1});
}

/// A schedule file: tile overrides by location name or op name.
struct ScheduleFile {
  llvm::StringMap<TileAttr> overrides;
  llvm::StringSet<> used;
};

LogicalResult readScheduleFile(StringRef path, ModuleOp module,
                               ScheduleFile &file, std::string &error) {
  MLIRContext *context = module.getContext();
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    error = "cannot read schedule file '" + path.str() +
            "': " + buffer.getError().message();
    return failure();
  }
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json) {
    error = "schedule file '" + path.str() +
            "' is not valid JSON: " + llvm::toString(json.takeError());
    return failure();
  }
  const llvm::json::Object *root = json->getAsObject();
  if (!root) {
    error = "schedule file '" + path.str() +
            "' must be a JSON object mapping kernels to tiles";
    return failure();
  }
  for (const auto &[key, value] : *root) {
    std::string where = "schedule file '" + path.str() + "', kernel '" +
                        key.str() + "': ";
    const llvm::json::Object *entry = value.getAsObject();
    const llvm::json::Array *tiles = entry ? entry->getArray("tiles") : nullptr;
    std::optional<int64_t> vector = entry ? entry->getInteger("vector")
                                          : std::nullopt;
    if (!tiles || !vector) {
      error = where + "expected an object with \"tiles\" (array of sizes) "
                      "and \"vector\" (lanes), and optionally \"parallel\"";
      return failure();
    }
    auto ints = [&](const llvm::json::Array &array, const char *field,
                    SmallVector<int64_t> &out) {
      for (const llvm::json::Value &v : array) {
        std::optional<int64_t> i = v.getAsInteger();
        if (!i) {
          error = where + "\"" + field + "\" must hold integers";
          return false;
        }
        out.push_back(*i);
      }
      return true;
    };
    SmallVector<int64_t> sizes, parallel;
    if (!ints(*tiles, "tiles", sizes))
      return failure();
    if (const llvm::json::Value *p = entry->get("parallel")) {
      const llvm::json::Array *array = p->getAsArray();
      if (!array) {
        error = where + "\"parallel\" must be an array of loop indices";
        return failure();
      }
      if (!ints(*array, "parallel", parallel))
        return failure();
    }
    for (const auto &[field, unused] : *entry)
      if (field != "tiles" && field != "vector" && field != "parallel") {
        error = where + "unknown field \"" + field.str() + "\"";
        return failure();
      }
    TileAttr tile = TileAttr::getChecked(
        [&]() { return module.emitError() << where; }, context,
        ArrayRef<int64_t>(sizes), *vector, ArrayRef<int64_t>(parallel));
    if (!tile)
      return failure(); // the verifier said why
    file.overrides[key] = tile;
  }
  return success();
}

/// Checks that a GPU `tile` fits `op`.
std::string checkGpuTile(Operation *op, TileAttr tile, TargetAttr target) {
  bool gemm = !weightGemmWidths(op).empty();
  ArrayRef<int64_t> tiles = tile.getTiles();
  size_t wanted = !gemm ? 1 : isa<FusedAttentionOp>(op) ? 6 : 5;
  if (tiles.size() != wanted)
    return std::string(!gemm ? "row-wise GPU kernels take tiles = [threads "
                               "per block]"
                       : wanted == 6
                           ? "fused attention on a GPU takes tiles = [block "
                             "columns, block rows, thread columns, thread "
                             "rows, shared k, query rows]"
                           : "GEMM kernels on a GPU take tiles = [block "
                             "columns, block rows, thread columns, thread "
                             "rows, shared k]") +
           ", got " + std::to_string(tiles.size()) + " sizes";
  int64_t threads = tiles[0];
  if (gemm) {
    if (tiles[0] % tiles[2] != 0 || tiles[1] % tiles[3] != 0)
      return "the block tile " + std::to_string(tiles[0]) + "x" +
             std::to_string(tiles[1]) + " is not a multiple of the thread tile " +
             std::to_string(tiles[2]) + "x" + std::to_string(tiles[3]);
    threads = (tiles[0] / tiles[2]) * (tiles[1] / tiles[3]);
  }
  if (auto attention = dyn_cast<FusedAttentionOp>(op)) {
    int64_t tokens = attention.getInput().getType().getDimSize(1);
    threads = std::max(threads, attentionThreads(attention, tiles[5]));
    if (2 * tokens * tiles[5] * 4 > target.getGpuSharedBytes())
      return std::to_string(tiles[5]) + " query rows need " +
             std::to_string(2 * tokens * tiles[5] * 4) +
             " bytes of shared memory for their scores, more than the " +
             std::to_string(target.getGpuSharedBytes()) + " the target has";
  }
  if (threads > target.getGpuThreads())
    return std::to_string(threads) + " threads per block is more than the " +
           std::to_string(target.getGpuThreads()) + " the target allows";
  if (tile.getVector() != 1)
    return "GPU tiles take vector = 1 (threads, not SIMD lanes)";
  return "";
}

/// Checks that `tile` fits `op` (an override may not).
std::string checkTile(Operation *op, TileAttr tile, TargetAttr target) {
  if (target.getGpuThreads() > 0)
    return checkGpuTile(op, tile, target);
  bool gemm = !weightGemmWidths(op).empty();
  ArrayRef<int64_t> tiles = tile.getTiles();
  if (isa<FusedAttentionOp>(op)) {
    if (tiles.size() != 2 && tiles.size() != 3)
      return "fused attention takes tiles = [columns, rows] or [columns, "
             "rows, query rows per task], got " +
             std::to_string(tiles.size()) + " sizes";
  } else if (gemm && tiles.size() != 2) {
    return "GEMM kernels take tiles = [columns, rows], got " +
           std::to_string(tiles.size()) + " sizes";
  }
  if (!gemm && tiles.size() != 1)
    return "row-wise kernels take tiles = [rows per task], got " +
           std::to_string(tiles.size()) + " sizes";
  if (gemm && tiles[0] % tile.getVector() != 0)
    return "the tile's " + std::to_string(tiles[0]) +
           " columns are not a multiple of its vector of " +
           std::to_string(tile.getVector());
  if (gemm && tile.getParallel().size() > 1)
    return "a GEMM kernel runs either column tiles (0) or row tiles (1) in "
           "parallel, not both";
  return "";
}

struct VitSelectTiles : mlir::vit::impl::VitSelectTilesBase<VitSelectTiles> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    std::string error;
    FailureOr<TargetAttr> machine =
        describeTarget(context, target, cores, error);
    ScheduleFile file;
    if (failed(machine) ||
        (!scheduleFile.empty() &&
         failed(readScheduleFile(scheduleFile, module, file, error)))) {
      if (!error.empty())
        module.emitError() << error;
      return signalPassFailure();
    }
    module->setAttr("vit.target", *machine);

    WalkResult walked = module.walk([&](Operation *op) {
      if (!isa_and_nonnull<VitDialect>(op->getDialect()) || isa<ParamOp>(op))
        return WalkResult::advance();
      TileAttr tile = chooseTile(op, *machine);
      // A location key beats an op-name key; both count as used.
      std::string matched;
      StringRef opName = op->getName().getStringRef();
      if (file.overrides.count(opName)) {
        matched = opName.str();
        file.used.insert(opName);
      }
      if (auto name = dyn_cast<NameLoc>(op->getLoc());
          name && file.overrides.count(name.getName().strref()))
        matched = name.getName().str();
      if (!matched.empty()) {
        tile = file.overrides[matched];
        file.used.insert(matched);
        if (std::string why = checkTile(op, tile, *machine); !why.empty()) {
          op->emitError() << "schedule file '" << scheduleFile
                          << "', kernel '" << matched << "': " << why;
          return WalkResult::interrupt();
        }
      }
      op->setAttr("vit.tile", tile);
      ++numTiled;
      return WalkResult::advance();
    });
    if (walked.wasInterrupted())
      return signalPassFailure();
    for (const auto &entry : file.overrides)
      if (!file.used.contains(entry.getKey())) {
        module.emitError() << "schedule file '" << scheduleFile
                           << "': kernel '" << entry.getKey()
                           << "' matches no op (use an op name such as "
                              "\"vit.fused_mlp\" or a location such as "
                              "\"blocks.0.mlp\")";
        return signalPassFailure();
      }
  }
};

} // namespace
