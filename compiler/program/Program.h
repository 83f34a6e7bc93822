//===- Program.h - a vit function as a sequence of kernel calls -----------===//
//
// The backend's view of a model: distinct kernels (op + shapes + attributes;
// identical encoder blocks share them), the parameters in the layout the
// kernels read, the activation values with the memory slot each lives in,
// and the steps that call kernels on values and parameters. Built from the
// tiled IR (after vit-select-tiles) without Halide; compiled by the Halide
// backend (compiler/halide), executed by libvitrt.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_PROGRAM_PROGRAM_H
#define VITC_COMPILER_PROGRAM_PROGRAM_H

#include "dialect/VitDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "support/Checkpoint.h"
#include "llvm/Support/Error.h"

#include <array>
#include <string>
#include <vector>

namespace vitc {

/// How a parameter is stored for its kernel, relative to the IR's PyTorch
/// layout. A GEMM weight ([M, K] linear, [D, C, P, P] patch projection) is
/// stored as [M / block, K, block]: each block of `block` output columns is
/// one contiguous [K, block] panel, so the kernel streams it sequentially
/// while it accumulates a register tile of that width (the tile's columns,
/// or a GPU tile's block columns, when they divide M; else one panel).
///
/// Quantized (i8) weights are quantized from the checkpoint's f32 values when
/// they are stored (Quantize.h), per output channel into [-levels, levels]
/// (the target's TargetAttr::getInt8WeightLevels),
/// and their panels are [M / block, K / 4, block, 4]: the 4 consecutive k of
/// a column are adjacent, the operand of the int8 dot products (vpdpbusd,
/// vpmaddubsw). Their scale parameter [M] is stored as [2, M]: the scales,
/// then each column's sum of quantized weights (which the kernel needs to
/// take the activations' zero point out of its integer sums).
///
/// bf16 weights are rounded from the checkpoint's f32 values when stored, and
/// their panels are [M / block, K / 2, block, 2]: the pairs of k that
/// vdpbf16ps and tdpbf16ps sum (for AMX, block 16: AMX's B tile layout).
struct ParamLayout {
  bool gemm = false;
  int64_t block = 0; // output columns per panel; divides M
  enum class Int8 { None, Weight, Scales };
  Int8 int8 = Int8::None;
  int levels = 0; // Int8: the largest quantized magnitude
  int group = 1;  // adjacent k per column in a panel: 4 for i8, 2 for bf16
  bool amx = false; // multiplied in AMX tiles (usesAmxTiles): block 16

  bool operator==(const ParamLayout &other) const {
    return gemm == other.gemm && block == other.block && int8 == other.int8 &&
           levels == other.levels && group == other.group && amx == other.amx;
  }
  bool operator!=(const ParamLayout &other) const { return !(*this == other); }
};

struct ProgramParam {
  std::string name;
  ElementType elementType;          // as in the IR: f32, bf16, f16 or i8
  std::vector<int64_t> irShape;     // as in the IR (PyTorch layout)
  std::vector<int64_t> storedShape; // as in the weights file the runtime maps
  ParamLayout layout;
  std::string scaledWeight; // Int8 scales: the name of the weight they scale
};

struct ProgramValue {
  std::vector<int64_t> shape; // per image: the IR shape without the batch
  int slot = -1;              // -1: the caller's input or output buffer
  int64_t elements() const;
};

struct ProgramArg {
  bool isParam;
  int index;
};

struct ProgramKernel {
  std::string name;      // e.g. k3_linear; the C symbol is <model>_k3_linear
  std::string signature; // what makes two ops the same kernel
  mlir::vit::KernelOpInterface op; // the first op compiled as this kernel
  double flopsPerImage = 0;        // 2 x the multiply-adds of its GEMMs
};

struct ProgramStep {
  int kernel;
  std::vector<ProgramArg> args; // operands in order, then results
};

/// What the library tells its users beyond the kernels (from #vit.model and
/// the shapes of @forward).
struct ProgramModel {
  std::string name;
  int64_t channels = 0, height = 0, width = 0; // the input image
  int64_t outputs = 0;                         // per image
  std::array<float, 3> mean{}, std{};          // (pixel / 255 - mean) / std
  float cropFraction = 0; // centre crop before resizing; 0: resize only
  // The patch grid, and the prefix tokens (class, distillation) before it in
  // the sequence: what a picture of the attention over the image needs.
  int64_t gridHeight = 0, gridWidth = 0, prefixTokens = 0;
};

/// The attention maps a library compiled with them returns (see
/// vit.fused_attention's map results): per layer, in order, the value of its
/// class_attention [heads, rows, tokens] and, for rollout, of its
/// mean_attention [queries, tokens] (else meanValues is empty), all kept to
/// the end of a run.
struct ProgramAttentionMaps {
  int64_t heads = 0, rows = 0, tokens = 0;
  int64_t rowBegin = 0, rowEnd = 0; // the query rows described
  bool rowMean = false;             // rows = 1: the mean of those rows
  std::vector<int> classValues, meanValues;
  bool empty() const { return classValues.empty(); }
};

struct Program {
  mlir::vit::TargetAttr target; // the machine the kernels are tiled for
  ProgramModel model;
  std::vector<ProgramParam> params;
  std::vector<ProgramValue> values;
  std::vector<int64_t> slotElements; // floats per image in each slot
  std::vector<ProgramKernel> kernels;
  std::vector<ProgramStep> steps;
  int inputValue = 0, outputValue = 0;
  int featuresValue = -1;  // what the classifier reads (op marked vit.features)
  ProgramAttentionMaps attentionMaps;
  std::string fingerprint; // hex; changes whenever kernels, params or values do
};

/// The layout a parameter used as `user`'s operand `operand` is stored in
/// (GEMM weights in panels as wide as `user`'s tile; 16 for AMX).
ParamLayout paramLayoutFor(mlir::Operation *user, unsigned operand);

/// Whether `user`'s GEMM weight operand `operand` is multiplied with AMX
/// tiles: a bf16 (int8) weight whose output width is a multiple of the 16
/// columns of an AMX tile, on a target with AMX-BF16 (AMX-INT8). Its panels
/// are then 16 columns wide, one B tile per 32 (64) k.
bool usesAmxTiles(mlir::Operation *user, unsigned operand);

/// Plans `forward` (one argument: the images; one result: the logits), whose
/// module has been tiled (a #vit.target, a tile on every kernel op).
llvm::Expected<Program> buildProgram(mlir::func::FuncOp forward);

/// The stored shape of a parameter of IR shape `shape`.
std::vector<int64_t> storedShape(llvm::ArrayRef<int64_t> shape,
                                 ParamLayout layout);

/// Rearranges a PyTorch-layout tensor into the stored layout (an i8 weight
/// already quantized; see Quantize.h for the values of i8 parameters).
Tensor toStoredLayout(const Tensor &tensor, ParamLayout layout);

/// "int8" or "bf16" when the program has weights of that type, else "f32":
/// what vit-run, the weights file and the library report.
std::string programPrecision(const Program &program);

} // namespace vitc

#endif // VITC_COMPILER_PROGRAM_PROGRAM_H
