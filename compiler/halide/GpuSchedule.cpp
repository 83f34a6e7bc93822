//===- GpuSchedule.cpp - how vit kernels run on a GPU ---------------------===//
//
// The GPU counterpart of CpuSchedule.cpp, reading the same stages and the
// sizes of the kernel's #vit.gpu_*_tile (see VitAttrs.td):
//
//  - GEMMs: a block computes a block tile of outputs; each thread of it
//    accumulates a small register tile (unrolled) over all of k, reading
//    the operands from global memory through the caches. Outer dimensions
//    (batch, heads) are fused into the second block dimension.
//  - Attention: one block per (query tile, head, batch). The block computes
//    the scores and the softmax of its query rows into shared memory (they
//    never reach global memory), then the context rows from them.
//  - Row reductions (layer norm, softmax): a block per row, its threads
//    across the row, each row sum or max split over them.
//  - Element-wise stages: one flat index, blocks of threads.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/Kernels.h"

#include <cassert>

using namespace Halide;
using namespace vitc;

namespace {

TailStrategy tailFor(int64_t extent, int tile) {
  return extent >= tile ? TailStrategy::ShiftInwards
                        : TailStrategy::GuardWithIf;
}

void gpuElementwise(KernelStage &stage) {
  Func out = stage.func;
  std::vector<Var> vars = out.args();
  Var flat = vars.size() > 1 ? fuseLoops(out, vars, 0, "flat") : vars[0];
  Var block("eblock"), thread("ethread");
  out.gpu_tile(flat, block, thread,
               stage.rowsPerTask > 0 ? stage.rowsPerTask : 128,
               TailStrategy::GuardWithIf);
}

/// A row reduction at the root: a block per row. Nested in a block (the
/// attention's softmax), threads over the row's columns and its rows.
void gpuRowReduce(KernelStage &stage, const KernelStage *parent) {
  Func out = stage.func;
  Var column = stage.vars[0];
  if (parent) {
    // probs(j, i, h, b) per (query tile, h, b) block: threads over 16 keys x
    // the query rows; the row max and sum are a thread per query row.
    Var jo("p_jo"), jt("p_jt");
    out.split(column, jo, jt, 16, tailFor(stage.extents[0], 16))
        .reorder(jo, jt, stage.vars[1])
        .gpu_threads(jt, stage.vars[1]);
    for (Func row : stage.rowStages) {
      if (row.args().size() == stage.vars.size()) {
        row.compute_inline(); // exps: recomputed where read
        continue;
      }
      row.compute_at(parent->func, parent->parallelLoop)
          .gpu_threads(row.args()[0]);
      for (int u = 0; u < row.num_update_definitions(); ++u)
        row.update(u).gpu_threads(row.args()[0]);
    }
    return;
  }
  // A block per row (layer norm, softmax), its threads across the row so that
  // every access is coalesced: each row sum or max is split over the threads
  // (rfactor), whose partial results one thread then combines.
  Var rows = stage.vars.size() > 2 ? fuseLoops(out, stage.vars, 1, "rrows")
                                   : stage.vars[1];
  // No more threads than the row is long; a row the threads do not divide
  // (softmax over 197 tokens) leaves some idle in its last pass.
  int threads = stage.rowsPerTask > 0 ? stage.rowsPerTask : 128;
  while (threads > 1 && threads > stage.extents[0])
    threads /= 2;
  Var columnBlock("rdo"), columnThread("rdt");
  out.split(column, columnBlock, columnThread, threads,
            TailStrategy::GuardWithIf)
      .reorder(columnBlock, columnThread, rows)
      .gpu_blocks(rows)
      .gpu_threads(columnThread);
  for (Func row : stage.rowStages) {
    if (!row.has_update_definition()) {
      row.compute_inline(); // mean, 1/std: per-row arithmetic
      continue;
    }
    Var lane("lane");
    Func partial = splitRowReduction(row, threads, lane);
    partial.compute_at(out, rows).gpu_threads(lane);
    partial.update().gpu_threads(lane);
    row.compute_at(out, rows);
  }
}

/// Scores nested in the attention block: threads over 16 keys x the query
/// rows, each thread a dot product per key it owns.
void gpuNestedGemm(KernelStage &stage) {
  Func out = stage.func;
  Var j = stage.vars[0], i = stage.vars[1];
  Var jo("s_jo"), jt("s_jt");
  out.split(j, jo, jt, 16, tailFor(stage.extents[0], 16))
      .reorder(jo, jt, i)
      .gpu_threads(jt, i);
  stage.accumulator.compute_at(out, jo);
  if (stage.stagedRhs.defined())
    stage.stagedRhs.compute_inline();
}

/// Whether a weight GEMM can stage its operands: full tiles, a 1-D
/// reduction over both a Func and the weight panels, and a k step no longer
/// than either thread dimension, so the block's threads load each slice in
/// one pass without growing the block (threads beyond k idle in that pass).
bool canStage(const KernelStage &stage, int bx, int by, int tx, int ty) {
  int kt = stage.sharedK;
  return kt > 0 && stage.lhs.defined() && stage.weight.defined() &&
         stage.reduction.dimensions() == 1 && stage.extents[0] >= bx &&
         stage.extents[1] >= by && kt <= bx / tx && kt <= by / ty &&
         stage.vars.size() <= 3;
}

/// Each step of k: the block's threads copy a kt-long slice of the weight
/// panel (bx columns) and of the left operand (by rows) into shared memory,
/// then every thread accumulates its register tile from them; the
/// accumulators live in registers across the steps.
void stageInSharedMemory(KernelStage &stage, Var xo, int tx, int ty) {
  Func acc = stage.accumulator;
  const int kt = stage.sharedK;
  Var ax = acc.args()[0], ay = acc.args()[1];
  Var axt("axt"), axr("axr"), ayt("ayt"), ayr("ayr");
  acc.compute_at(stage.func, xo)
      .store_in(MemoryType::Register)
      .split(ax, axt, axr, tx)
      .split(ay, ayt, ayr, ty)
      .reorder(axr, ayr, axt, ayt)
      .gpu_threads(axt, ayt)
      .unroll(axr)
      .unroll(ayr);
  RVar ko("ko"), ki("ki");
  acc.update()
      .split(stage.reduction[0], ko, ki, kt)
      .split(ax, axt, axr, tx)
      .split(ay, ayt, ayr, ty)
      .reorder(axr, ayr, ki, axt, ayt, ko)
      .gpu_threads(axt, ayt)
      .unroll(axr)
      .unroll(ayr);
  // The weight slice: panel columns x kt, threads over (columns / tx, k).
  Func weight = stage.weight.in(acc);
  std::vector<Var> wv = weight.args(); // (column in panel, k, panel)
  Var wt("wt"), wr("wr");
  weight.compute_at(acc, ko)
      .split(wv[0], wt, wr, tx)
      .reorder(wr, wt, wv[1])
      .gpu_threads(wt, wv[1])
      .unroll(wr);
  // The left operand's slice: kt x rows, threads over (k, rows / ty).
  Func lhs = stage.lhs.in(acc);
  std::vector<Var> lv = lhs.args(); // (k, row, outer...)
  Var lt("lt"), lr("lr");
  lhs.compute_at(acc, ko)
      .split(lv[1], lt, lr, ty)
      .reorder(lr, lv[0], lt)
      .gpu_threads(lv[0], lt)
      .unroll(lr);
}

void gpuGemm(KernelStage &stage, int queryRows) {
  Func out = stage.func, acc = stage.accumulator;
  Var x = stage.vars[0], y = stage.vars[1];
  const int64_t width = stage.extents[0], rows = stage.extents[1];
  int bx = stage.tileColumns, by = stage.tileRows, tx = stage.threadColumns,
      ty = stage.threadRows;
  assert((stage.parallelOuterOnly || (bx > 0 && by > 0 && tx > 0 && ty > 0)) &&
         "GPU GEMM stages are tiled");
  if (stage.parallelOuterOnly) {
    // Attention's context: a block per (query tile, head, batch) covering
    // the whole head width.
    bx = static_cast<int>(width);
    by = queryRows;
    assert(by > 0 && "attention tiles give the query rows per block");
    tx = bx % 4 == 0 ? 4 : 1;
    ty = 1;
  }
  Var xo("gxo"), yo("gyo"), xi("gxi"), yi("gyi"), xt("gxt"), yt("gyt"),
      xr("gxr"), yr("gyr");
  out.split(x, xo, xi, bx, tailFor(width, bx))
      .split(y, yo, yi, by, tailFor(rows, by))
      .split(xi, xt, xr, tx)
      .split(yi, yt, yr, ty);
  std::vector<VarOrRVar> order{xr, yr, xt, yt, xo, yo};
  for (size_t d = 2; d < stage.vars.size(); ++d)
    order.push_back(stage.vars[d]);
  out.reorder(order).unroll(xr).unroll(yr);
  std::vector<Var> outer{yo};
  for (size_t d = 2; d < stage.vars.size(); ++d)
    outer.push_back(stage.vars[d]);
  Var blocksY = fuseLoops(out, outer, 0, "gblocks");
  out.gpu_blocks(xo, blocksY).gpu_threads(xt, yt);
  stage.parallelLoop = xo; // the innermost block loop: nested stages go here

  if (canStage(stage, bx, by, tx, ty)) {
    stageInSharedMemory(stage, xo, tx, ty);
    return;
  }
  Var ax = acc.args()[0], ay = acc.args()[1];
  acc.compute_at(out, xt).unroll(ax).unroll(ay);
  std::vector<VarOrRVar> updateOrder{ax, ay};
  for (int r = 0; r < stage.reduction.dimensions(); ++r)
    updateOrder.push_back(stage.reduction[r]);
  acc.update().reorder(updateOrder).unroll(ax).unroll(ay);
  if (stage.stagedRhs.defined())
    stage.stagedRhs.compute_inline();
}

} // namespace

void vitc::scheduleGpu(KernelDef &def) {
  placeStages(def, [](KernelStage &stage, const KernelStage *parent) {
    switch (stage.kind) {
    case KernelStage::Kind::Elementwise:
      gpuElementwise(stage);
      break;
    case KernelStage::Kind::RowReduce:
      gpuRowReduce(stage, parent);
      break;
    case KernelStage::Kind::Gemm:
      if (parent)
        gpuNestedGemm(stage);
      else
        gpuGemm(stage, stage.queryRows);
      break;
    case KernelStage::Kind::Quantize:
      // Emit refuses int8 and bf16 programs for GPU targets before this.
      throw Halide::CompileError("int8 and bf16 kernels have no GPU schedule");
    case KernelStage::Kind::Mean:
      // Program planning refuses attention maps for GPU targets before this.
      throw Halide::CompileError("attention maps have no GPU schedule");
    }
  });
}
