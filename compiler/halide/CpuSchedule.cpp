//===- CpuSchedule.cpp - how vit kernels run on a CPU ---------------------===//
//
// GEMMs follow Halide's own matrix multiplication schedule: an output tile of
// 1-3 vectors by the tile's rows is accumulated in registers over all of k,
// the weight columns of the tile stay in cache while every row passes (tile
// columns are the outer loop), and column blocks are spread over cores
// together with the batch; a cheap epilogue is unrolled so the accumulators
// never leave the registers. Row reductions (softmax, layer norm) run a row
// per iteration, vectorized along the row, each row sum or max split over
// the vector's lanes; elementwise kernels are vectorized along the innermost
// dimension and parallel over the rest.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/Kernels.h"

#include <algorithm>
#include <cassert>

using namespace Halide;
using namespace vitc;

namespace {

void scheduleElementwise(KernelStage &stage, int vec) {
  Func out = stage.func;
  std::vector<Var> vars = out.args();
  if (stage.extents[0] >= vec)
    out.vectorize(vars[0], vec, TailStrategy::GuardWithIf);
  if (vars.size() > 1) {
    Var rows = fuseLoops(out, vars, 1, "rows");
    out.parallel(rows, stage.rowsPerTask > 0 ? stage.rowsPerTask : 4,
                 TailStrategy::GuardWithIf);
  }
}

/// A row sum or max as one scalar chain costs a dependent add per element
/// (it was most of softmax's and layer norm's time): `row` (a reduction
/// along each row) is split over the vector's lanes instead, one partial
/// result per lane computed at `at` (one row's), and the lanes are combined
/// in registers, a shuffle tree rather than a scalar loop of dependent loads
/// over the stored vector (fewer instructions; no speed change measured).
void reduceRowOverLanes(Func row, int vec, LoopLevel at) {
  Var lane("lane");
  Func partial = splitRowReduction(row, vec, lane);
  partial.compute_at(at).vectorize(lane);
  partial.update().vectorize(lane);
  row.update().atomic().vectorize(RVar("r_part"));
  // Later updates (softmaxRows' tails of fewer than a vector) stay scalar.
  for (int u = 1; u < row.num_update_definitions(); ++u)
    row.update(u).unscheduled();
}

/// `f` (k in group, column, ...) vectorized so that the groups of a run of
/// columns are one dense vector (a dot-product operand with `group` k per
/// lane).
void vectorizeGroups(Func f, int group, int vec) {
  std::vector<Var> v = f.args();
  Var run("group_run");
  f.fuse(v[0], v[1], run).vectorize(run, group * vec, TailStrategy::GuardWithIf);
}

void scheduleRowReduce(KernelStage &def, int vec, bool nested) {
  Func out = def.func;
  // Nested (attention's softmax, per query block), the row loop stays its
  // own: fused with the others, whose extents are then dynamic, the per-row
  // buffers would be sized for the whole block and allocated on the heap.
  Var rows = nested ? def.vars[1] : fuseLoops(out, def.vars, 1, "rows");
  if (!nested) {
    Var block("row_block");
    out.split(rows, block, rows, def.rowsPerTask > 0 ? def.rowsPerTask : 8,
              TailStrategy::GuardWithIf)
        .parallel(block);
  }
  out.vectorize(def.vars[0], vec, TailStrategy::GuardWithIf);
  for (Func stage : def.rowStages) {
    stage.compute_at(out, rows);
    if (stage.args().size() == def.vars.size()) { // per-element, e.g. exp
      stage.vectorize(stage.args()[0], vec, TailStrategy::GuardWithIf);
      continue;
    }
    if (stage.has_update_definition() && def.extents[0] >= 2 * vec)
      reduceRowOverLanes(stage, vec, LoopLevel(out, rows));
  }
}

/// An int8 GEMM's input: per row, its (min, max), split over the vector's
/// lanes, then the u8 row (and its step and zero point after it, which the
/// GEMM's epilogue reads), vectorized along it: one parallel loop over the
/// rows, whose second read of a row finds it in cache. Small models run many
/// of these kernels, and a parallel loop costs a dispatch to the thread pool.
void scheduleQuantize(KernelStage &def, int vec) {
  Func q = def.func;
  Var rows = fuseLoops(q, def.vars, 1, "rows");
  Var block("row_block");
  q.split(rows, block, rows, def.rowsPerTask > 0 ? def.rowsPerTask : 8,
          TailStrategy::GuardWithIf)
      .parallel(block)
      .vectorize(def.vars[0], vec, TailStrategy::GuardWithIf);
  // Where a stage nested in this one (the layer norm it reads) is computed.
  def.nestLevel = LoopLevel(q, rows);
  for (Func range : def.rowStages) {
    range.compute_at(q, rows);
    if (def.extents[0] >= 2 * vec)
      reduceRowOverLanes(range, vec, LoopLevel(q, rows));
  }
}

/// A GEMM of a few rows as dot products along k (dotAlongReduction): the
/// whole k of each output one vector (the products of a row of q and a key
/// as stored), summed across its lanes.
void scheduleDotProducts(KernelStage &def, bool nested) {
  Func out = def.func, acc = def.accumulator;
  std::vector<Var> v = def.vars;
  if (!nested)
    out.parallel(fuseLoops(out, v, 1, "rows"));
  def.parallelLoop = v.back();
  acc.compute_at(out, v[0]);
  acc.update().atomic().vectorize(def.reduction[0]);
}

/// A GEMM whose sums an extern AMX kernel computes: a call per block of the
/// tile's columns and image (the cores share those), each for all the rows,
/// then the epilogue over the block, vectorized along the columns. The
/// block's width is a multiple of 16 and so are the output's (usesAmxTiles),
/// so a last, narrower block is too.
void scheduleAmxGemm(KernelStage &def, int vec, bool nested) {
  Func out = def.func;
  std::vector<Var> v = def.vars;
  // Whole 16-column AMX tiles per call: the tile's columns rounded down (a
  // schedule file may give any width).
  const int columns = std::max(16, def.tileColumns / 16 * 16);
  Var block("amx_block"), column("amx_column");
  out.split(v[0], block, column, columns, TailStrategy::GuardWithIf)
      .vectorize(column, vec, TailStrategy::GuardWithIf);
  // (column, rows, block, images...): a task per block and image.
  std::vector<VarOrRVar> order{column, v[1], block};
  std::vector<Var> tasks{block};
  for (size_t i = 2; i < v.size(); ++i) {
    order.push_back(v[i]);
    tasks.push_back(v[i]);
  }
  out.reorder(order);
  Var task = fuseLoops(out, tasks, 0, "amx_tasks");
  if (!nested)
    out.parallel(task);
  def.parallelLoop = task;
  def.amxSums.compute_at(out, task);
}

/// A func computed once per task of a GEMM (KernelStage::taskStages):
/// vectorized along dimension 0 (with its group packed in, as a staged
/// right side), or a reduction along the row it reads split over the lanes.
void scheduleTaskStage(const KernelStage::TaskStage &task, Func gemm,
                       Var taskLoop, int vec) {
  Func f = task.func;
  f.compute_at(gemm, taskLoop);
  std::vector<Var> v = f.args();
  if (task.rowLength > 0) {
    if (task.rowLength >= 2 * vec)
      reduceRowOverLanes(f, vec, LoopLevel(f, v[0]));
    return;
  }
  if (task.group > 1)
    return vectorizeGroups(f, task.group, vec);
  f.vectorize(v[0], vec, TailStrategy::GuardWithIf);
  if (f.has_update_definition())
    f.update().vectorize(v[0], vec, TailStrategy::GuardWithIf);
}

void scheduleGemm(KernelStage &def, int vec, bool nested) {
  if (def.amxSums.defined())
    return scheduleAmxGemm(def, vec, nested);
  if (def.dotAlongReduction)
    return scheduleDotProducts(def, nested);
  Func out = def.func, acc = def.accumulator;
  Var x = def.vars[0], y = def.vars[1];
  // Tiles that do not divide the extent are shifted inwards (the overlap is
  // recomputed), which keeps every tile full so the accumulator can live in
  // registers; only extents smaller than a tile (a dynamic batch of rows, a
  // handful of classes) are guarded.
  const int64_t width = def.extents[0], rows = def.extents[1];
  // The register tile: the kernel's tile gives it for every GEMM stage (for a
  // weight GEMM its width is also the width of the weight panels).
  assert(def.tileColumns > 0 && def.tileRows > 0 && "GEMM stages are tiled");
  const int tileX = def.tileColumns, tileY = def.tileRows;
  const bool fullX = width >= tileX;
  const bool fullY = rows >= tileY;
  auto tail = [](bool full) {
    return full ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
  };
  Var xo("xo"), xi("xi"), yo("yo"), yi("yi");
  out.split(x, xo, xi, tileX, tail(fullX)).split(y, yo, yi, tileY, tail(fullY));
  // The parallel tile loop is the outer one of the two: column tiles by
  // default (each core streams its own weight panels), row tiles when the
  // tile says so (GEMMs with few column tiles).
  Var tileOuter = def.parallelRows ? yo : xo,
      tileInner = def.parallelRows ? xo : yo;
  std::vector<VarOrRVar> order{xi, yi, tileInner, tileOuter};
  // Attention's context: blocks of query rows are tasks of their own (with
  // the heads and images), each computing the scores of its rows. The tile
  // asks for blocks of queryRows rows: as many blocks, of whole row tiles.
  Var queryBlock("query_block");
  const bool queryBlocks = def.parallelOuterOnly && fullY &&
                           def.queryRows > 0 && def.queryRows < rows;
  if (queryBlocks) {
    const int64_t blocks = (rows + def.queryRows - 1) / def.queryRows;
    const int64_t rowTiles = (rows + tileY - 1) / tileY;
    const int tilesPerBlock =
        static_cast<int>((rowTiles + blocks - 1) / blocks);
    out.split(yo, queryBlock, yo, tilesPerBlock, TailStrategy::GuardWithIf);
    order.push_back(queryBlock);
  }
  for (size_t i = 2; i < def.vars.size(); ++i)
    order.push_back(def.vars[i]);
  out.reorder(order).vectorize(xi, vec, TailStrategy::GuardWithIf);
  // A cheap epilogue (bias, residual, scale) is unrolled over the tile, so the
  // accumulators go from registers straight to the output instead of through
  // a stack buffer. A costly one (GELU) stays a loop: unrolled, a 24x4 tile of
  // GELUs spills registers (measured 5x slower).
  const bool unrollEpilogue = fullX && fullY && !def.costlyEpilogue;
  if (unrollEpilogue) {
    out.unroll(xi).unroll(yi);
    acc.store_in(MemoryType::Register);
  }
  // Column blocks and the outer (batch, head) dimensions share the cores
  // (only the outer ones with parallelOuterOnly; none when nested in an
  // already parallel loop).
  std::vector<Var> outer;
  if (!def.parallelOuterOnly)
    outer.push_back(tileOuter);
  if (queryBlocks)
    outer.push_back(queryBlock);
  for (size_t i = 2; i < def.vars.size(); ++i)
    outer.push_back(def.vars[i]);
  Var parallelLoop =
      outer.empty() ? tileOuter : fuseLoops(out, outer, 0, "blocks");
  if (!nested)
    out.parallel(parallelLoop);
  def.parallelLoop = parallelLoop;

  Var ax = acc.args()[0], ay = acc.args()[1];
  acc.compute_at(out, tileInner).vectorize(ax, vec, TailStrategy::GuardWithIf);
  if (def.dotGroup > 1) {
    // The k of a group (or an int8 group's 2 pairs) innermost and vectorized
    // with the columns: a 4-way sum of u8 x i8 products per lane, which
    // Halide turns into vpdpbusd (AVX512-VNNI), a 2-way sum of i16 pair
    // sums, which becomes vpmaddwd against ones, or a 2-way sum of bf16
    // products in f32, vdpbf16ps (AVX512-BF16).
    RVar group = def.reduction[0], steps = def.reduction[1];
    acc.update()
        .reorder(group, ax, ay, steps)
        .atomic()
        .vectorize(group)
        .vectorize(ax, vec, TailStrategy::GuardWithIf);
    if (def.int8Pairs.defined()) {
      // Each row's pair sums right before they are added (a whole tile's
      // would not fit the registers beside the accumulators): vpmaddubsw,
      // its 2 products per lane vectorized with the pairs and columns. The
      // saturating sum is not associative in general; in the weights' range
      // it never saturates, so its order does not matter.
      Func pairs = def.int8Pairs;
      std::vector<Var> v = pairs.args();
      Var pair = v[0], column = v[1];
      RVar two = pairs.rvars()[0];
      pairs.compute_at(acc, ay).vectorize(pair).vectorize(
          column, vec, TailStrategy::GuardWithIf);
      pairs.update()
          .reorder(two, pair, column)
          .atomic(/*override_associativity_test=*/true)
          .vectorize(two)
          .vectorize(pair)
          .vectorize(column, vec, TailStrategy::GuardWithIf);
      if (fullX) {
        pairs.store_in(MemoryType::Register).unroll(column);
        pairs.update().unroll(column);
      }
    }
  } else {
    std::vector<VarOrRVar> updateOrder{ax, ay};
    for (int i = 0; i < def.reduction.dimensions(); ++i)
      updateOrder.push_back(def.reduction[i]);
    acc.update()
        .reorder(updateOrder)
        .vectorize(ax, vec, TailStrategy::GuardWithIf);
  }
  if (fullX) {
    acc.unroll(ax);
    acc.update().unroll(ax);
  }
  if (fullY) {
    acc.unroll(ay);
    acc.update().unroll(ay);
  }
  if (def.stagedRhs.defined()) {
    Func staged = def.stagedRhs;
    staged.compute_at(out, parallelLoop);
    if (def.dotGroup > 1)
      vectorizeGroups(staged, def.dotGroup, vec);
    else
      staged.vectorize(staged.args()[0], vec, TailStrategy::GuardWithIf);
  }
  if (def.stagedLhs.defined())
    def.stagedLhs.compute_at(out, parallelLoop)
        .vectorize(def.stagedLhs.args()[0], vec, TailStrategy::GuardWithIf);
  for (const KernelStage::TaskStage &task : def.taskStages)
    scheduleTaskStage(task, out, parallelLoop, vec);
}

/// A Mean stage: the zeros vectorized, serial; the sum's rows in blocks (the tile's
/// query rows, or rowsPerTask), a task per block and outer index, and per
/// task the outer reduction step innermost but for the block's rows and the
/// vectorized first dimension, so that what it sums (nested: a head's or a
/// chunk of rows' probabilities) is computed per step, in cache.
void scheduleMean(KernelStage &def, int vec) {
  Func out = def.func;
  std::vector<Var> v = def.vars;
  // The zeros on one core: a task per row of them cost more in dispatches
  // than the stores (ViT-B/16: 197 tasks, 0.2 ms a call).
  out.vectorize(v[0], vec, TailStrategy::GuardWithIf);
  const int block = def.rowsPerTask > 0  ? def.rowsPerTask
                    : def.queryRows > 0 ? def.queryRows
                                        : 16;
  Stage sum = out.update();
  Var rowBlock("map_block"), rows("map_rows");
  sum.split(v[1], rowBlock, rows, block, TailStrategy::GuardWithIf);
  std::vector<VarOrRVar> order{v[0], rows};
  for (int i = 0; i < def.reduction.dimensions(); ++i)
    order.push_back(def.reduction[i]);
  order.push_back(rowBlock);
  for (size_t i = 2; i < v.size(); ++i)
    order.push_back(v[i]);
  sum.reorder(order);
  Var task = rowBlock;
  for (size_t i = 2; i < v.size(); ++i) {
    Var fused("map_task" + std::to_string(i));
    sum.fuse(task, v[i], fused);
    task = fused;
  }
  sum.parallel(task).vectorize(v[0], vec, TailStrategy::GuardWithIf);
  def.nestLevel = LoopLevel(out, def.reduction[def.reduction.dimensions() - 1]);
}

} // namespace

Var vitc::fuseLoops(Func f, const std::vector<Var> &vars, size_t from,
                    const std::string &name) {
  if (from >= vars.size())
    return Var();
  Var fused = vars[from];
  for (size_t i = from + 1; i < vars.size(); ++i) {
    Var next(name + std::to_string(i));
    f.fuse(fused, vars[i], next);
    fused = next;
  }
  return fused;
}

Func vitc::splitRowReduction(Func row, int parts, Var part) {
  RVar outer("r_outer"), inner("r_part");
  return row.update()
      .split(row.rvars()[0], outer, inner, parts)
      .rfactor(inner, part);
}

void vitc::placeStages(
    KernelDef &def,
    const std::function<void(KernelStage &, const KernelStage *)> &schedule) {
  for (bool nestedPass : {false, true}) {
    for (KernelStage &stage : def.stages) {
      bool nested = stage.nestIn >= 0;
      if (nested != nestedPass)
        continue;
      bool isOutput = false;
      for (const Func &out : def.outputs)
        isOutput |= out.name() == stage.func.name();
      const KernelStage *parent = nested ? &def.stages[stage.nestIn] : nullptr;
      if (parent && parent->nestLevel)
        stage.func.compute_at(*parent->nestLevel);
      else if (parent)
        stage.func.compute_at(parent->func, parent->parallelLoop);
      else if (!isOutput)
        stage.func.compute_root();
      schedule(stage, parent);
    }
  }
}

void vitc::scheduleCpu(KernelDef &def) {
  placeStages(def, [&](KernelStage &stage, const KernelStage *parent) {
    // Every stage of a CPU kernel takes its lanes from the kernel's tile.
    assert(stage.vector > 0 && "CPU kernels are tiled");
    const int vec = stage.vector;
    switch (stage.kind) {
    case KernelStage::Kind::Elementwise:
      scheduleElementwise(stage, vec);
      break;
    case KernelStage::Kind::RowReduce:
      scheduleRowReduce(stage, vec, parent != nullptr);
      break;
    case KernelStage::Kind::Gemm:
      scheduleGemm(stage, vec, parent != nullptr);
      break;
    case KernelStage::Kind::Quantize:
      scheduleQuantize(stage, vec);
      break;
    case KernelStage::Kind::Mean:
      scheduleMean(stage, vec);
      break;
    }
  });
}
