//===- Kernels.h - Halide pipelines for vit ops ---------------------------===//
//
// Algorithms (Algorithms.cpp) say what each op computes as Halide Funcs;
// schedules (CpuSchedule.cpp, GpuSchedule.cpp) say how, and never change the
// math. A kernel is one op with its static shapes: its arguments are the op's
// operands (activations with a dynamic batch, parameters in their stored
// layout), then its results.
//
// Halide dimension 0 is the innermost: a row-major tensor [B, N, D] is the
// Halide buffer (d, n, b).
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_HALIDE_KERNELS_H
#define VITC_COMPILER_HALIDE_KERNELS_H

#include "compiler/program/Program.h"

#include "Halide.h"

#include <functional>
#include <optional>
#include <vector>

namespace vitc {

/// One stage of a kernel's algorithm, and what its schedule needs to know.
struct KernelStage {
  enum class Kind {
    Elementwise, // func(vars) from its inputs at the same or gathered points
    Gemm,        // func(x, rows...) = epilogue(accumulator(x, rows...))
    RowReduce,   // reductions over dimension 0 per row (softmax, layer norm)
    Quantize,    // func(k, rows...) = a reduced-precision GEMM's input: u8
                 // over each row's range for int8 (rowStages: its min and
                 // max, which the GEMM's epilogue reads too), bf16 rounded
    Mean,        // func(vars) = 0, then += a source over `reduction`, whose
                 // nested stages are computed per step of its outer RVar
                 // (attention maps: probabilities per head or row chunk)
  } kind = Kind::Elementwise;
  Halide::Func func;
  std::vector<Halide::Var> vars; // of func, innermost first
  std::vector<int64_t> extents;  // per var; -1: the batch
  Halide::Func accumulator;      // Gemm: the sum over k
  // Gemm with AMX: the sums as an extern stage (runtime/model/amx_gemm.c)
  // that the epilogue reads; computed per block of tile columns.
  Halide::Func amxSums;
  Halide::RDom reduction;        // Gemm: the k of the accumulator
  // Gemm: a copy of the right side made per parallel task, so the inner loop
  // reads it contiguously (transposed keys, one head's values); GPUs inline it.
  Halide::Func stagedRhs;
  // Gemm: likewise a copy of the left side per task (bf16 attention: the
  // head's queries, rounded once instead of per use).
  Halide::Func stagedLhs;
  std::vector<Halide::Func> rowStages; // RowReduce: per-row reductions
  // Gemm: funcs computed once per parallel task, with the stages nested in
  // it (int8 attention: each head's quantized queries and keys, and their
  // per-row scales and sums, which its scores read). Each is vectorized along
  // its dimension 0, with `group` k packed per lane (as stagedRhs), or, for
  // a reduction along a row of `rowLength` values (dimension 0 of what it
  // reads), split over the lanes.
  struct TaskStage {
    Halide::Func func;
    int group = 1;
    int rowLength = 0;
  };
  std::vector<TaskStage> taskStages;
  // Nesting: a stage with `parallelOuterOnly` spreads only its dimensions
  // from 2 on (e.g. heads and batch) over the cores; stages with `nestIn` set
  // (an index into KernelDef::stages) are computed per iteration of that
  // stage's parallel loop instead of whole (the attention scores per head).
  bool parallelOuterOnly = false;
  int nestIn = -1;
  Halide::Var parallelLoop; // set by the schedule
  // Set by a Mean stage's schedule: where its nested stages are computed
  // (else at its func's parallelLoop).
  std::optional<Halide::LoopLevel> nestLevel;
  // Gemm: which of the tile's sizes it takes: the kernel's own GEMMs (weight
  // GEMMs, whose right side is a parameter in panels, or an unfused matmul)
  // the register tile; attention's per-head GEMMs the score or context sizes.
  enum class GemmRole { Kernel, Scores, Context };
  GemmRole gemmRole = GemmRole::Kernel;
  // From the kernel op's vit.tile (VitAttrs.td); the schedules read nothing
  // else. 0: not set by the tile (stages a tile does not describe, such as
  // the layer norm inside a fused MLP, keep the schedule's own choice).
  int tileColumns = 0, tileRows = 0;
  int threadColumns = 0, threadRows = 0; // GPU: each thread's register tile
  int sharedK = 0; // GPU: k per step with both operand slices in shared memory
  bool costlyEpilogue = false; // Gemm: e.g. GELU, which a CPU tile loops over
  // Gemm with few rows (the class rows of attention maps): each output is one
  // dot product vectorized along k and summed across the lanes, so that the
  // right side is read as stored (k contiguous) instead of transposed.
  bool dotAlongReduction = false;
  // Gemm: the k a dot product sums per lane, 4 for u8 x i8 in int32
  // (vpdpbusd), 2 for bf16 in f32 (vdpbf16ps), 1 for f32. With more than 1,
  // the reduction is (k % group, k / group), the first vectorized with the
  // columns.
  int dotGroup = 1;
  // Int8 GEMM summing pairs first: the i16 pair sums (pair, column, rows...,
  // panel, group), computed per row of the register tile.
  Halide::Func int8Pairs;
  Halide::Func lhs;            // Gemm: the left operand, when it is a Func
  Halide::ImageParam weight;   // weight GEMMs: the parameter, in panels
  int queryRows = 0; // attention: query rows per block (GPU) or task (CPU)
  bool parallelRows = false; // row tiles, not column tiles, across cores
  int vector = 0;            // lanes of the innermost loop
  int rowsPerTask = 0;       // row-wise stages: rows per parallel task (CPU),
                             // threads per block (GPU)
};

/// A kernel's algorithm: its inputs, its stages in producer order, and the
/// outputs (the funcs of the last stages). Stages that are not outputs are
/// computed whole before their consumers (compute_root) for now.
struct KernelDef {
  std::vector<Halide::ImageParam> inputs;
  std::vector<Halide::Func> outputs;
  std::vector<KernelStage> stages;
};

/// The algorithm of one tiled kernel op (a kernel's representative), reading
/// parameters in the layout its tile implies, with the tile's sizes on its
/// stages.
KernelDef defineKernel(mlir::Operation *op);

/// Fuses f's loops vars[from..] into one (returned; an undefined Var if
/// there are none), for schedules that spread them over cores or blocks.
Halide::Var fuseLoops(Halide::Func f, const std::vector<Halide::Var> &vars,
                      size_t from, const std::string &name);

/// Splits the reduction of `row` (a per-row sum or max over dimension 0)
/// into `parts` partial results along `part` (vector lanes on a CPU, threads
/// on a GPU): returns the Func of the partials, which `row` then combines.
Halide::Func splitRowReduction(Halide::Func row, int parts, Halide::Var part);

/// Places every stage and hands it to `schedule`, outer stages first so that
/// nested stages find their parent's loop: a nested stage is computed inside
/// its parent's parallel loop, another stage that is not an output at the
/// root. `parent` is the stage a nested one is computed in, else null.
void placeStages(
    KernelDef &def,
    const std::function<void(KernelStage &stage, const KernelStage *parent)>
        &schedule);

/// Schedules a kernel for a CPU target, as its tile says.
void scheduleCpu(KernelDef &def);

/// Schedules a kernel for a GPU target (CUDA, OpenCL), as its tile says.
void scheduleGpu(KernelDef &def);

} // namespace vitc

#endif // VITC_COMPILER_HALIDE_KERNELS_H
