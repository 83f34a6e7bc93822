//===- Algorithms.cpp - what each vit op computes, as Halide Funcs --------===//
//
// One function per op family. Inputs are ImageParams whose static extents
// are declared (only the batch is free), so the compiler can specialise
// loops; the schedule in CpuSchedule.cpp is applied afterwards.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/Activations.h"
#include "compiler/halide/Kernels.h"

#include "dialect/VitDialect.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <functional>

using namespace Halide;
using namespace Halide::ConciseCasts;
using namespace vitc;
using mlir::Operation;

namespace {

constexpr int64_t kBatch = -1;

/// The algorithm of one primitive op: a single stage (or, for split_qkv,
/// one stage per output over the same dimensions).
struct OpDef {
  KernelStage::Kind kind = KernelStage::Kind::Elementwise;
  std::vector<ImageParam> inputs;
  std::vector<Func> outputs;
  std::vector<Var> vars;
  std::vector<int64_t> extents;
  Func accumulator;
  RDom reduction;
  Func stagedRhs;
  std::vector<Func> rowStages;
};

/// Row-major IR shape -> Halide extents (innermost first), batch as -1.
std::vector<int64_t> halideExtents(llvm::ArrayRef<int64_t> shape) {
  std::vector<int64_t> extents(shape.rbegin(), shape.rend());
  for (int64_t &e : extents)
    if (mlir::ShapedType::isDynamic(e))
      e = kBatch;
  return extents;
}

/// Declares a buffer's extents (the batch free) and its dense strides, as
/// libvitrt passes every buffer: the compiler can then address a panel
/// element as a constant offset instead of through a runtime stride.
void declareDense(OutputImageParam buffer, const std::vector<int64_t> &extents) {
  int64_t stride = 1;
  for (size_t d = 0; d < extents.size(); ++d) {
    if (extents[d] == kBatch) {
      buffer.dim(d).set_min(0);
    } else {
      buffer.dim(d).set_bounds(0, static_cast<int>(extents[d]));
    }
    if (stride > 0)
      buffer.dim(d).set_stride(static_cast<int>(stride));
    stride = extents[d] == kBatch ? 0 : stride * extents[d];
  }
}

/// The ImageParam for operand `i`, in its stored layout, with static extents
/// declared.
ImageParam operandParam(Operation *op, unsigned i) {
  mlir::Value value = op->getOperand(i);
  auto type = mlir::cast<mlir::RankedTensorType>(value.getType());
  std::vector<int64_t> shape = type.getShape().vec();
  if (mlir::isa_and_present<mlir::vit::ParamOp>(value.getDefiningOp()))
    shape = storedShape(shape, paramLayoutFor(op, i));
  std::vector<int64_t> extents = halideExtents(shape);
  mlir::Type element = type.getElementType();
  ImageParam param(element.isSignlessInteger(8) ? Int(8)
                   : element.isBF16()           ? BFloat(16)
                                                : Float(32),
                   extents.size(), "in" + std::to_string(i));
  declareDense(param, extents);
  return param;
}

std::vector<Var> makeVars(size_t rank, const char *prefix = "v") {
  std::vector<Var> vars;
  for (size_t i = 0; i < rank; ++i)
    vars.emplace_back(prefix + std::to_string(i));
  return vars;
}

std::vector<Expr> asExprs(const std::vector<Var> &vars, size_t from = 0) {
  return std::vector<Expr>(vars.begin() + from, vars.end());
}

/// Starts the definition of a primitive op: its inputs, and vars and extents
/// of its (first) result.
OpDef start(Operation *op, KernelStage::Kind kind) {
  OpDef def;
  def.kind = kind;
  for (unsigned i = 0; i < op->getNumOperands(); ++i)
    def.inputs.push_back(operandParam(op, i));
  auto type = mlir::cast<mlir::RankedTensorType>(op->getResult(0).getType());
  def.extents = halideExtents(type.getShape());
  def.vars = makeVars(def.extents.size());
  return def;
}

/// Element (column m, row k) of a GEMM weight stored in panels: Halide
/// dimensions (column in panel, k, panel).
Expr panel(const ImageParam &weight, Expr m, Expr k, int block) {
  return weight(m % block, k, m / block);
}

/// The patch projection's accumulator: acc(d, n, b) sums, over the (x, y, c)
/// of patch `patch(n)`, the image's pixels times the weight (stored in
/// panels of `block` columns; PyTorch's [D, C, Ph, Pw] order along k). The
/// kernel stride is the patch, so the image is read in place.
std::pair<Func, RDom> patchAccumulator(ImageParam images, ImageParam weight,
                                       int block,
                                       llvm::ArrayRef<int64_t> imageShape,
                                       llvm::ArrayRef<int64_t> weightShape,
                                       const std::vector<Var> &vars,
                                       const std::function<Expr(Expr)> &patch,
                                       const char *name) {
  const int channels = imageShape[1], patchH = weightShape[2],
            patchW = weightShape[3];
  const int gridW = imageShape[3] / patchW;
  RDom r(0, patchW, 0, patchH, 0, channels, "patch");
  Var d = vars[0], n = vars[1], b = vars[2];
  Expr p = patch(n), row = p / gridW, col = p % gridW;
  Func acc(name);
  acc(d, n, b) = 0.0f;
  acc(d, n, b) += images(col * patchW + r.x, row * patchH + r.y, r.z, b) *
                  panel(weight, d, (r.z * patchH + r.y) * patchW + r.x, block);
  return {acc, r};
}

/// Patch projection as a GEMM over (x, y, c) of each patch.
OpDef patchProjection(mlir::vit::PatchProjectionOp op) {
  OpDef def = start(op, KernelStage::Kind::Gemm);
  auto [acc, r] = patchAccumulator(
      def.inputs[0], def.inputs[1],
      static_cast<int>(paramLayoutFor(op, 1).block),
      op.getImages().getType().getShape(), op.getWeight().getType().getShape(),
      def.vars, [](Expr n) { return n; }, "acc");
  Var d = def.vars[0], n = def.vars[1], b = def.vars[2];
  Func out("patch_projection");
  Expr value = acc(d, n, b);
  if (op.getBias())
    value += def.inputs[2](d);
  out(d, n, b) = value;
  def.accumulator = acc;
  def.reduction = r;
  def.outputs = {out};
  return def;
}

/// Batched matmul: out(j, i, batch...) = sum_k lhs(k, i, ...) * rhs(.., ..).
/// A transposed right side is staged as rhsT(j, k, ...) so the inner loop
/// reads it contiguously.
OpDef matmul(mlir::vit::MatmulOp op) {
  OpDef def = start(op, KernelStage::Kind::Gemm);
  ImageParam lhs = def.inputs[0], rhs = def.inputs[1];
  const int k = static_cast<int>(op.getLhs().getType().getShape().back());
  RDom r(0, k, "k");
  Var j = def.vars[0];
  std::vector<Expr> lhsArgs = asExprs(def.vars);
  lhsArgs[0] = r;
  lhsArgs[1] = def.vars[1];
  Func rhsView("rhs_view"); // rhsView(j, k, batch...)
  std::vector<Var> viewVars = makeVars(def.vars.size(), "t");
  std::vector<Expr> rhsArgs = asExprs(viewVars);
  if (op.getTransposeRhs()) {
    std::swap(rhsArgs[0], rhsArgs[1]); // rhs is (k, j, ...)
    rhsView(viewVars) = rhs(rhsArgs);
    def.stagedRhs = rhsView;
  } else {
    rhsView(viewVars) = rhs(rhsArgs); // rhs is already (j, k, ...)
  }
  std::vector<Expr> viewArgs = asExprs(def.vars);
  viewArgs[1] = r;
  Func acc("acc");
  acc(def.vars) = 0.0f;
  acc(def.vars) += lhs(lhsArgs) * rhsView(viewArgs);
  Func out("matmul");
  out(def.vars) = acc(def.vars);
  def.accumulator = acc;
  def.reduction = r;
  def.outputs = {out};
  if (!op.getTransposeRhs())
    rhsView.compute_inline();
  return def;
}

/// Softmax of `in` over dimension 0 (`width` wide) at `vars`: the result,
/// and its per-row stages (max, exps, sum) in `rowStages`. The max and sum
/// are explicit updates so that schedules can split them over vector lanes
/// or threads (rfactor). Where the width is not a multiple of 16 (197
/// tokens), each has a second update over the last width % 16 elements, so
/// that the first splits over any CPU's lanes without a tail: a split tail is
/// a masked store of the partial results, whose reload when the lanes are
/// combined could not be forwarded from it (measured: the most sampled
/// instruction of the attention core, 4.5% of it).
Func softmaxRows(Func in, int width, const std::vector<Var> &vars,
                 const std::string &name, std::vector<Func> &rowStages) {
  std::vector<Var> rowVars(vars.begin() + 1, vars.end());
  std::vector<Expr> rowArgs = asExprs(vars, 1);
  const int body = width >= 16 ? width / 16 * 16 : width;
  std::vector<RDom> parts{RDom(0, body, name + "_j")};
  if (body < width)
    parts.push_back(RDom(body, width - body, name + "_tail"));
  auto at = [&](RDom r) {
    std::vector<Expr> args = rowArgs;
    args.insert(args.begin(), r);
    return args;
  };
  Func rowMax(name + "_max"), exps(name + "_exps"), rowSum(name + "_sum"),
      out(name);
  rowMax(rowVars) = Float(32).min();
  for (RDom r : parts)
    rowMax(rowVars) = max(rowMax(rowArgs), in(at(r)));
  exps(vars) = expNonPositive(in(vars) - rowMax(rowArgs));
  rowSum(rowVars) = 0.0f;
  for (RDom r : parts)
    rowSum(rowVars) += exps(at(r));
  // One division per row, not per element (x * (1/s) is within an ulp of x/s).
  Func inverse(name + "_inverse");
  inverse(rowVars) = 1.0f / rowSum(rowArgs);
  out(vars) = exps(vars) * inverse(rowArgs);
  rowStages = {rowMax, exps, rowSum, inverse};
  return out;
}

OpDef softmax(mlir::vit::SoftmaxOp op) {
  OpDef def = start(op, KernelStage::Kind::RowReduce);
  Func in("softmax_in");
  in(def.vars) = def.inputs[0](def.vars);
  in.compute_inline();
  def.outputs = {softmaxRows(in, static_cast<int>(def.extents[0]), def.vars,
                             "softmax", def.rowStages)};
  return def;
}

OpDef tokenMean(mlir::vit::TokenMeanOp op) {
  OpDef def = start(op, KernelStage::Kind::Elementwise);
  ImageParam in = def.inputs[0];
  const int tokens = op.getInput().getType().getShape()[1];
  const int skip = static_cast<int>(op.getSkip());
  RDom r(skip, tokens - skip, "n");
  Var d = def.vars[0], b = def.vars[1];
  Func out("token_mean");
  out(d, b) = sum(in(d, r, b)) / float(tokens - skip);
  def.outputs = {out};
  return def;
}

OpDef splitQkv(mlir::vit::SplitQkvOp op) {
  OpDef def = start(op, KernelStage::Kind::Elementwise);
  ImageParam in = def.inputs[0];
  auto shape = op.getQuery().getType().getShape(); // [B, H, N, Dh]
  const int heads = shape[1], headDim = shape[3];
  Var e = def.vars[0], n = def.vars[1], h = def.vars[2], b = def.vars[3];
  for (int part = 0; part < 3; ++part) {
    Func out(std::string("qkv") + "qkv"[part]);
    out(e, n, h, b) = in(part * heads * headDim + h * headDim + e, n, b);
    def.outputs.push_back(out);
  }
  return def;
}

OpDef elementwise(Operation *op) {
  OpDef def = start(op, KernelStage::Kind::Elementwise);
  const std::vector<Var> &v = def.vars;
  std::vector<Expr> args = asExprs(v);
  Func out(op->getName().stripDialect().str());
  auto in = [&](unsigned i) { return def.inputs[i]; };
  llvm::TypeSwitch<Operation *>(op)
      .Case([&](mlir::vit::AddOp) { out(v) = in(0)(args) + in(1)(args); })
      .Case([&](mlir::vit::ScaleOp s) {
        out(v) = in(0)(args)*s.getFactor().convertToFloat();
      })
      .Case([&](mlir::vit::ReluOp) { out(v) = max(in(0)(args), 0.0f); })
      .Case([&](mlir::vit::TanhOp) { out(v) = tanh(in(0)(args)); })
      .Case([&](mlir::vit::GeluOp g) {
        out(v) = g.getApproximation() == mlir::vit::GeluApproximation::Tanh
                     ? geluTanh(in(0)(args))
                     : geluErf(in(0)(args));
      })
      .Case([&](mlir::vit::AddPositionEmbeddingOp) {
        out(v) = in(0)(args) + in(1)(v[0], v[1], 0);
      })
      .Case([&](mlir::vit::PrependTokensOp p) {
        const int count = p.getTokens().getType().getShape()[1];
        const int tokens = p.getInput().getType().getShape()[1];
        // Both sides are clamped: select evaluates both, and each must stay
        // inside its buffer.
        out(v) = select(v[1] < count, in(1)(v[0], clamp(v[1], 0, count - 1), 0),
                        in(0)(v[0], clamp(v[1] - count, 0, tokens - 1), v[2]));
      })
      .Case([&](mlir::vit::MergeHeadsOp m) {
        const int headDim = m.getInput().getType().getShape()[3];
        out(v) = in(0)(v[0] % headDim, v[1], v[0] / headDim, v[2]);
      })
      .Case([&](mlir::vit::SelectTokenOp s) {
        out(v) = in(0)(v[0], static_cast<int>(s.getIndex()), v[1]);
      });
  def.outputs = {out};
  return def;
}

/// Layer norm of `x` over dimension 0 as a stage: the normalised values.
KernelStage layerNormStage(Func x, ImageParam scale, ImageParam bias,
                           float epsilon, const std::vector<int64_t> &extents,
                           const char *name) {
  KernelStage stage;
  stage.kind = KernelStage::Kind::RowReduce;
  stage.extents = extents;
  stage.vars = makeVars(extents.size(), (std::string(name) + "_v").c_str());
  const int width = static_cast<int>(extents[0]);
  std::vector<Var> rowVars(stage.vars.begin() + 1, stage.vars.end());
  std::vector<Expr> rowArgs = asExprs(stage.vars, 1);
  RDom r(0, width, std::string(name) + "_d");
  std::vector<Expr> atR = rowArgs;
  atR.insert(atR.begin(), r);
  // The sums are Funcs of their own so that schedules can split them (a GPU
  // spreads each row's sum over a block's threads).
  Func total(std::string(name) + "_total"),
      squares(std::string(name) + "_squares");
  Func mean(std::string(name) + "_mean"),
      inverseStd(std::string(name) + "_rstd");
  total(rowVars) = 0.0f;
  total(rowVars) += x(atR);
  mean(rowVars) = total(rowArgs) / float(width);
  Expr centered = x(atR) - mean(rowArgs);
  squares(rowVars) = 0.0f;
  squares(rowVars) += centered * centered;
  // 1/sqrt(variance + eps) once per row (as PyTorch does), not a division
  // per element.
  inverseStd(rowVars) = 1.0f / sqrt(squares(rowArgs) / float(width) + epsilon);
  Func normed(name);
  normed(stage.vars) = (x(stage.vars) - mean(rowArgs)) * inverseStd(rowArgs) *
                           scale(stage.vars[0]) +
                       bias(stage.vars[0]);
  stage.func = normed;
  stage.rowStages = {total, mean, squares, inverseStd};
  return stage;
}

/// The ImageParam of `op`'s operand `value` (which must be one).
ImageParam inputOf(Operation *op, const std::vector<ImageParam> &inputs,
                   mlir::Value value) {
  for (unsigned i = 0; i < op->getNumOperands(); ++i)
    if (op->getOperand(i) == value)
      return inputs[i];
  return ImageParam();
}

/// The panel width operand `value` of `op` is stored with.
int panelBlock(Operation *op, mlir::Value value) {
  for (unsigned i = 0; i < op->getNumOperands(); ++i)
    if (op->getOperand(i) == value)
      return static_cast<int>(paramLayoutFor(op, i).block);
  return 0;
}

/// A GEMM stage: epilogue(sum_k lhs(k, rows...) * weight(x, k)) over a weight
/// stored in panels, with the epilogue given the sum and x.
KernelStage
gemmStage(Func lhs, ImageParam weight, int block, int k,
          const std::vector<int64_t> &extents, const std::string &name,
          const std::function<Expr(Expr sum, const std::vector<Var> &vars)>
              &epilogue) {
  KernelStage stage;
  stage.kind = KernelStage::Kind::Gemm;
  stage.extents = extents;
  stage.vars = makeVars(extents.size(), (name + "_v").c_str());
  RDom r(0, k, name + "_k");
  std::vector<Expr> lhsArgs = asExprs(stage.vars);
  lhsArgs[0] = r;
  Func acc(name + "_acc");
  acc(stage.vars) = 0.0f;
  acc(stage.vars) += lhs(lhsArgs) * panel(weight, stage.vars[0], r, block);
  Func out(name);
  out(stage.vars) = epilogue(acc(stage.vars), stage.vars);
  stage.func = out;
  stage.accumulator = acc;
  stage.reduction = r;
  stage.lhs = lhs;
  stage.weight = weight;
  return stage;
}

/// The stage that turns a reduced-precision GEMM's input (k, rows...) into
/// what its dot products read: `extents` are the GEMM's, k replaces the
/// columns. Its func is the caller's to define.
KernelStage gemmInputStage(const std::vector<int64_t> &extents, int k,
                           const std::string &prefix) {
  KernelStage stage;
  stage.kind = KernelStage::Kind::Quantize;
  stage.extents = extents;
  stage.extents[0] = k;
  stage.vars = makeVars(extents.size(), prefix.c_str());
  return stage;
}

/// Where output (m, rows...) of a grouped GEMM is in its accumulator, which
/// is indexed (column in panel, rows..., panel): the vectorized column is
/// then a dense ramp into the weight panel.
std::vector<Expr> panelAccumulatorArgs(const std::vector<Var> &vars,
                                       int block) {
  std::vector<Expr> args = asExprs(vars);
  args[0] = vars[0] % block;
  args.push_back(vars[0] / block);
  return args;
}

/// The sums of a weight GEMM as an extern AMX kernel (runtime/model/
/// amx_gemm.c: tdpbf16ps or tdpbusd), which the stage's epilogue reads:
/// Halide 21's own AMX lowering fails inside parallel loops and on these
/// panels. `input` (k, rows...) is the stored bf16 or u8 input, `inputK`
/// wide (k, or more with trailing row parameters); its bounds are said
/// outright (all of it, the static rows), since what an extern stage
/// reads is otherwise known only from its bounds query at run time, and the
/// stages producing it need constant extents.
Func amxGemmStage(KernelStage &stage, Func input, int inputK,
                  ImageParam weight, int k, Type sumType,
                  const std::vector<int64_t> &extents, const char *kernel,
                  const std::string &name) {
  std::vector<Var> inputVars = input.args();
  input.bound(inputVars[0], 0, inputK);
  for (size_t i = 1; i < extents.size(); ++i)
    if (extents[i] > 0)
      input.bound(inputVars[i], 0, static_cast<int>(extents[i]));
  Func sums(name + "_amx");
  sums.define_extern(kernel, {input, weight, Expr(k)}, sumType,
                     static_cast<int>(extents.size()), NameMangling::C);
  stage.amxSums = sums;
  stage.lhs = input;
  stage.weight = weight;
  return sums;
}

/// range(rows...) = (min, max) of `value` (an expression of an RDom along
/// each row) over the row, in one pass, including 0: what U8Row takes.
Func rowRange(const std::string &name, const std::vector<Var> &rows,
              Expr value) {
  Func range(name);
  std::vector<Expr> at = asExprs(rows);
  range(rows) = Tuple(0.0f, 0.0f);
  range(rows) = Tuple(min(range(at)[0], value), max(range(at)[1], value));
  return range;
}

/// A row of f32 values over [lo, hi] (a range that includes 0) as u8 in 255
/// steps with a zero point: q = clamp(round(x / step) + zero, 0, 255), so
/// x ~ (q - zero) * step. A constant row (all zeros) gets step 1.
struct U8Row {
  Expr inverseStep, step, zero;
  U8Row(Expr lo, Expr hi) {
    Expr range = hi - lo;
    // One division per row for the inverse, none per element.
    inverseStep = select(range > 0.0f, 255.0f / range, 1.0f);
    step = select(range > 0.0f, range / 255.0f, 1.0f);
    zero = f32(clamp(roundToInt32(-lo * inverseStep), 0, 255));
  }
  Expr quantize(Expr x) const {
    return u8(clamp(roundToInt32(x * inverseStep) + i32(zero), 0, 255));
  }
  /// Byte i (0..kU8RowParamBytes-1) of the row's parameters as a GEMM input
  /// row stores them after its u8 values: the step's 4 bytes (little
  /// endian), then the zero point, then zeros.
  Expr parameterByte(Expr i) const {
    Expr bits = reinterpret(UInt(32), step) >> (8 * clamp(i, 0, 3));
    return select(i < 4, u8(bits & 255), i == 4, u8(zero), u8(0));
  }
  struct Parameters {
    Expr step, zero; // f32, i32
  };
  /// The parameters back from their bytes, byte(i) for i in 0..4.
  static Parameters readParameters(const std::function<Expr(int)> &byte) {
    Expr bits = u32(byte(0)) | (u32(byte(1)) << 8) | (u32(byte(2)) << 16) |
                (u32(byte(3)) << 24);
    return {reinterpret(Float(32), bits), i32(byte(4))};
  }
};

/// Bytes after each u8 GEMM input row: its step and zero point (U8Row).
constexpr int kU8RowParamBytes = 8;

/// An int8 GEMM stage and the stage quantizing its input: each row of `lhs`
/// (k, rows...) becomes u8 over its range [lo, hi] (which includes 0) in 255
/// steps, with zero point z, followed by its step and z (kU8RowParamBytes,
/// which the epilogue reads back); the sums with the i8 weight (panels of 4-deep
/// k groups: Halide dimensions (k % 4, column in panel, k / 4, panel)) are
/// exact in int32, and the epilogue gets
///   (acc - z * colsum) * (row scale * weight scale)
/// from the scales parameter (Halide dimensions (m, 0: scale, 1: colsum)).
///
/// With `pairs` (weights within [-63, 63]), each group's sum is two i16 sums
/// of two products (vpmaddubsw's saturating pairs, exact in that range)
/// widened and added (vpmaddwd against ones); else one 4-way sum (vpdpbusd).
std::pair<KernelStage, KernelStage>
int8GemmStages(Func lhs, ImageParam weight, ImageParam scales, int block, int k,
               bool pairs, bool amx, const std::vector<int64_t> &extents,
               const std::string &name,
               const std::function<Expr(Expr sum, const std::vector<Var> &vars)>
                   &epilogue) {
  KernelStage quant =
      gemmInputStage(extents, k + kU8RowParamBytes, name + "_q_v");
  std::vector<Var> rowVars(quant.vars.begin() + 1, quant.vars.end());
  std::vector<Expr> rowArgs = asExprs(quant.vars, 1);
  RDom r(0, k, name + "_qk");
  std::vector<Expr> atR = rowArgs;
  atR.insert(atR.begin(), r);
  Func range = rowRange(name + "_range", rowVars, lhs(atR));
  // The u8 row, then its step and zero point (the epilogue's), so that the
  // range is computed per row right before the row is quantized, in the same
  // parallel loop, instead of in a pass of its own.
  std::vector<Expr> clampedArgs = asExprs(quant.vars);
  clampedArgs[0] = min(quant.vars[0], k - 1);
  Func q(name + "_q");
  U8Row row(range(rowArgs)[0], range(rowArgs)[1]);
  // likely(): Halide splits the loop so that all but its last vectors
  // quantize without a select.
  q(quant.vars) =
      select(likely(quant.vars[0] < k), row.quantize(lhs(clampedArgs)),
             row.parameterByte(quant.vars[0] - k));
  quant.func = q;
  quant.rowStages = {range};

  KernelStage stage;
  stage.kind = KernelStage::Kind::Gemm;
  stage.dotGroup = 4;
  stage.extents = extents;
  stage.vars = makeVars(extents.size(), (name + "_v").c_str());
  Expr m = stage.vars[0];
  std::vector<Expr> outRow = asExprs(stage.vars, 1);
  auto dequantize = [&](Expr sums) {
    auto byte = [&](int i) {
      std::vector<Expr> at = outRow;
      at.insert(at.begin(), Expr(k + i));
      return q(at);
    };
    U8Row::Parameters params = U8Row::readParameters(byte);
    return f32(sums - params.zero * i32(scales(m, 1))) *
           (params.step * scales(m, 0));
  };
  if (amx) {
    // AMX tiles (tdpbusd) in an extern kernel, as for bf16 (amxGemmStage).
    Func out(name);
    Func sums = amxGemmStage(stage, q, k + kU8RowParamBytes, weight, k,
                             Int(32), extents, "vitc_amx_int8_gemm", name);
    out(stage.vars) = epilogue(dequantize(sums(stage.vars)), stage.vars);
    stage.func = out;
    return {quant, stage};
  }
  // g.x: k in its group (or the pair in it), g.y: the group.
  RDom g(0, pairs ? 2 : 4, 0, k / 4, name + "_k");
  // The accumulator is indexed by (column in panel, rows..., panel), so the
  // vectorized column is a dense ramp into the panel (m % block would hide
  // that from the vectorizer once each lane also spans the 4 k of a group).
  std::vector<Var> accVars = makeVars(extents.size() + 1, (name + "_a").c_str());
  Var column = accVars[0], panelIndex = accVars.back();
  Func acc(name + "_acc");
  acc(accVars) = 0;
  auto lhsAt = [&](Expr kIndex, const std::vector<Var> &vars) {
    std::vector<Expr> args = asExprs(vars);
    args.pop_back(); // the panel
    args[0] = kIndex;
    return q(args);
  };
  if (pairs) {
    // pairSums(pair, column, rows..., panel, group): i16, saturating, as
    // vpmaddubsw sums (exact for these weights).
    std::vector<Var> pairVars =
        makeVars(extents.size() + 3, (name + "_p").c_str());
    Var pair = pairVars[0], group = pairVars.back();
    std::vector<Var> tileVars(pairVars.begin() + 1, pairVars.end() - 1);
    RDom two(0, 2, name + "_two");
    Func pairSums(name + "_pairs");
    pairSums(pairVars) = i16(0);
    pairSums(pairVars) = saturating_add(
        pairSums(pairVars),
        widening_mul(lhsAt(4 * group + 2 * pair + two, tileVars),
                     weight(2 * pair + two, tileVars[0], group,
                            tileVars.back())));
    std::vector<Expr> pairArgs = asExprs(accVars);
    pairArgs.insert(pairArgs.begin(), g.x);
    pairArgs.push_back(g.y);
    acc(accVars) += i32(pairSums(pairArgs));
    stage.int8Pairs = pairSums;
  } else {
    acc(accVars) += i32(lhsAt(4 * g.y + g.x, accVars)) *
                    i32(weight(g.x, column, g.y, panelIndex));
  }
  Func out(name);
  out(stage.vars) =
      epilogue(dequantize(acc(panelAccumulatorArgs(stage.vars, block))),
               stage.vars);
  stage.func = out;
  stage.accumulator = acc;
  stage.reduction = g;
  stage.lhs = q;
  stage.weight = weight;
  return {quant, stage};
}

/// `x` (f32) rounded to the nearest bf16, ties to even, on the bits: Halide's
/// own f32 -> bf16 cast is the same integer arithmetic, with a warning that
/// it is emulated (x86 has no conversion it will use). NaN stays NaN.
Expr roundToBf16(Expr x) {
  Expr bits = reinterpret(UInt(32), x);
  Expr nearest = (bits + (0x7fff + ((bits >> 16) & 1))) >> 16;
  return reinterpret(BFloat(16), u16(select(is_nan(x), 0x7fc0, nearest)));
}

/// roundToBf16(x) as an f32 (the low 16 bits zero), for f32 arithmetic on
/// rounded values without bf16 types, whose conversions Halide emulates.
Expr roundedToBf16AsF32(Expr x) {
  Expr bits = reinterpret(UInt(32), x);
  Expr nearest = ((bits + (0x7fff + ((bits >> 16) & 1))) >> 16) << 16;
  return reinterpret(Float(32), select(is_nan(x), u32(Expr(0x7fc00000)), nearest));
}

/// A bf16 GEMM stage and the stage rounding its input to bf16 (to nearest
/// even): the weight's panels hold pairs of k (Halide dimensions (k % 2,
/// column in panel, k / 2, panel)), and each pair's two products are summed
/// in f32 (vdpbf16ps with AVX512-BF16; exact products, f32 sums elsewhere).
std::pair<KernelStage, KernelStage>
bf16GemmStages(Func lhs, ImageParam weight, int block, int k, bool amx,
               const std::vector<int64_t> &extents, const std::string &name,
               const std::function<Expr(Expr sum, const std::vector<Var> &vars)>
                   &epilogue) {
  KernelStage round = gemmInputStage(extents, k, name + "_b_v");
  Func rounded(name + "_bf16");
  rounded(round.vars) = roundToBf16(lhs(round.vars));
  round.func = rounded;

  KernelStage stage;
  stage.kind = KernelStage::Kind::Gemm;
  stage.dotGroup = 2;
  stage.extents = extents;
  stage.vars = makeVars(extents.size(), (name + "_v").c_str());
  if (amx) {
    Func sums = amxGemmStage(stage, rounded, k, weight, k, Float(32), extents,
                             "vitc_amx_bf16_gemm", name);
    Func out(name);
    out(stage.vars) = epilogue(sums(stage.vars), stage.vars);
    stage.func = out;
    return {round, stage};
  }
  RDom g(0, 2, 0, k / 2, name + "_k"); // g.x: k in its pair, g.y: the pair
  // Indexed (column in panel, rows..., panel), as the int8 accumulator.
  std::vector<Var> accVars = makeVars(extents.size() + 1, (name + "_a").c_str());
  Var column = accVars[0], panelIndex = accVars.back();
  std::vector<Expr> lhsArgs = asExprs(accVars);
  lhsArgs.pop_back();
  lhsArgs[0] = 2 * g.y + g.x;
  Func acc(name + "_acc");
  acc(accVars) = 0.0f;
  acc(accVars) +=
      f32(rounded(lhsArgs)) * f32(weight(g.x, column, g.y, panelIndex));
  Func out(name);
  out(stage.vars) =
      epilogue(acc(panelAccumulatorArgs(stage.vars, block)), stage.vars);
  stage.func = out;
  stage.accumulator = acc;
  stage.reduction = g;
  stage.lhs = rounded;
  stage.weight = weight;
  return {round, stage};
}

/// The GEMM stages of `op`'s weight operand `weight`: one f32 GEMM stage, or
/// for an i8 weight (with a scale operand) the quantization and int8 GEMM
/// stages, or for a bf16 weight the rounding and bf16 GEMM stages. The GEMM
/// is the last.
std::vector<KernelStage> weightGemmStages(
    Operation *op, const std::vector<ImageParam> &inputs, Func lhs,
    mlir::Value weight, int k, const std::vector<int64_t> &extents,
    const std::string &name,
    const std::function<Expr(Expr sum, const std::vector<Var> &vars)>
        &epilogue) {
  auto kernel = mlir::cast<mlir::vit::KernelOpInterface>(op);
  for (unsigned i = 0; i < op->getNumOperands(); ++i) {
    if (op->getOperand(i) != weight)
      continue;
    const int block = static_cast<int>(paramLayoutFor(op, i).block);
    if (inputs[i].type().is_bfloat()) {
      auto [round, gemm] = bf16GemmStages(lhs, inputs[i], block, k,
                                          usesAmxTiles(op, i), extents, name,
                                          epilogue);
      return {round, gemm};
    }
    int scale = kernel.getWeightScaleOperand(i);
    if (scale < 0)
      return {gemmStage(lhs, inputs[i], block, k, extents, name, epilogue)};
    // Weights within [-63, 63] are summed in pairs (ParamLayout::levels).
    const bool pairs = paramLayoutFor(op, i).levels < 127;
    auto [quant, gemm] =
        int8GemmStages(lhs, inputs[i], inputs[scale], block, k, pairs,
                       usesAmxTiles(op, i), extents, name, epilogue);
    return {quant, gemm};
  }
  return {};
}

/// With a reduced-precision GEMM (`gemm`: its input stage, then the GEMM)
/// that reads only its input stage, the layer norm `norm` before it is
/// computed per row inside that stage's loop (its stage index 1 once `norm`
/// is stage 0): no pass of its own over memory, no parallel loop of its own.
void computeInQuantizingLoop(KernelStage &norm,
                             const std::vector<KernelStage> &gemm) {
  if (gemm.size() == 2 && gemm[0].kind == KernelStage::Kind::Quantize)
    norm.nestIn = 1;
}

Expr activate(Expr x, mlir::vit::MlpActivation activation) {
  switch (activation) {
  case mlir::vit::MlpActivation::GeluErf:
    return geluErf(x);
  case mlir::vit::MlpActivation::GeluTanh:
    return geluTanh(x);
  case mlir::vit::MlpActivation::Relu:
    return max(x, 0.0f);
  }
  return x;
}

/// The input ImageParams of a fused op, in operand order.
std::vector<ImageParam> fusedInputs(Operation *op) {
  std::vector<ImageParam> inputs;
  for (unsigned i = 0; i < op->getNumOperands(); ++i)
    inputs.push_back(operandParam(op, i));
  return inputs;
}

/// The op's first operand as a Func (inlined), so stages can read it.
Func inputFunc(const ImageParam &param, size_t rank) {
  Func input("input");
  std::vector<Var> vars = makeVars(rank, "in_v");
  input(vars) = param(vars);
  input.compute_inline();
  return input;
}

/// out(m, rows...) = bias(m) + sum_k input(k, rows...) * weight(m, k).
KernelDef linearKernel(mlir::vit::LinearOp op) {
  KernelDef def;
  def.inputs = fusedInputs(op);
  auto inputShape = op.getInput().getType().getShape();
  std::vector<int64_t> extents = halideExtents(op.getType().getShape());
  ImageParam bias = op.getBias() ? def.inputs[2] : ImageParam();
  KernelStage stage =
      gemmStage(inputFunc(def.inputs[0], inputShape.size()), def.inputs[1],
                static_cast<int>(paramLayoutFor(op, 1).block),
                static_cast<int>(inputShape.back()), extents, "linear",
                [&](Expr sum, const std::vector<Var> &v) {
                  return bias.defined() ? sum + bias(v[0]) : sum;
                });
  def.stages = {stage};
  def.outputs = {stage.func};
  return def;
}

KernelDef layerNormKernel(mlir::vit::LayerNormOp op) {
  KernelDef def;
  def.inputs = fusedInputs(op);
  std::vector<int64_t> extents = halideExtents(op.getType().getShape());
  KernelStage stage = layerNormStage(
      inputFunc(def.inputs[0], extents.size()), def.inputs[1], def.inputs[2],
      op.getEpsilon().convertToFloat(), extents, "layer_norm");
  def.stages = {stage};
  def.outputs = {stage.func};
  return def;
}

/// x + fc2(act(fc1(layer_norm(x)))): layer norm, then fc1 with bias and
/// activation in its epilogue, then fc2 with bias and the residual in its.
KernelDef fusedMlp(mlir::vit::FusedMlpOp op) {
  KernelDef def;
  def.inputs = fusedInputs(op);
  ImageParam x = def.inputs[0];
  std::vector<int64_t> extents =
      halideExtents(op.getInput().getType().getShape());
  const int width = static_cast<int>(extents[0]);
  const int hidden =
      static_cast<int>(op.getFc1Weight().getType().getShape()[0]);
  KernelStage norm =
      layerNormStage(inputFunc(x, extents.size()), def.inputs[1], def.inputs[2],
                     op.getEpsilon().convertToFloat(), extents, "normed");
  std::vector<int64_t> hiddenExtents = extents;
  hiddenExtents[0] = hidden;
  ImageParam b1 = inputOf(op, def.inputs, op.getFc1Bias()),
             b2 = inputOf(op, def.inputs, op.getFc2Bias());
  auto activation = op.getActivation();
  std::vector<KernelStage> fc1 = weightGemmStages(
      op, def.inputs, norm.func, op.getFc1Weight(), width, hiddenExtents,
      "fc1", [&](Expr sum, const std::vector<Var> &v) {
        return activate(sum + b1(v[0]), activation);
      });
  fc1.back().costlyEpilogue = activation != mlir::vit::MlpActivation::Relu;
  std::vector<KernelStage> fc2 = weightGemmStages(
      op, def.inputs, fc1.back().func, op.getFc2Weight(), hidden, extents,
      "fused_mlp", [&](Expr sum, const std::vector<Var> &v) {
        return x(v) + sum + b2(v[0]);
      });
  computeInQuantizingLoop(norm, fc1);
  def.stages = {norm};
  def.stages.insert(def.stages.end(), fc1.begin(), fc1.end());
  def.stages.insert(def.stages.end(), fc2.begin(), fc2.end());
  def.outputs = {fc2.back().func};
  return def;
}

/// One of attention's per-head GEMM stages (scores or context), with its
/// extents and the k each dot product sums per lane; its func is the
/// caller's to define.
KernelStage attentionGemmStage(KernelStage::GemmRole role,
                               std::vector<int64_t> extents,
                               const char *prefix, int dotGroup = 1) {
  KernelStage stage;
  stage.kind = KernelStage::Kind::Gemm;
  stage.gemmRole = role;
  stage.extents = std::move(extents);
  stage.vars = makeVars(4, prefix);
  stage.dotGroup = dotGroup;
  return stage;
}

/// The attention-map outputs of a fused attention (see the op's map results),
/// appended to `def`: the probabilities computed again, per head, from the
/// QKV projection `qkv` (d, n, b) for the query rows each map needs, beside
/// the fused core (which keeps its scores per task and never writes them).
/// `bf16Core`: q and k rounded to bf16 as the core rounds them.
void addAttentionMaps(mlir::vit::FusedAttentionOp op, KernelDef &def, Func qkv,
                      bool bf16Core) {
  auto inputShape = op.getInput().getType().getShape(); // [B, N, D]
  const int width = static_cast<int>(inputShape[2]),
            tokens = static_cast<int>(inputShape[1]),
            queries = static_cast<int>(
                mlir::cast<mlir::RankedTensorType>(op.getResult().getType())
                    .getShape()[1]),
            heads = static_cast<int>(op.getHeads()), headDim = width / heads;
  llvm::ArrayRef<int64_t> rows = *op.getMapRows();
  const int begin = static_cast<int>(rows[0]),
            count = static_cast<int>(rows[1] - rows[0]);
  const bool mean = op.getMapMean();
  auto operand = [&](Expr x) { return bf16Core ? roundedToBf16AsF32(x) : x; };

  // The keys, transposed once per call for the rollout's scores:
  // keys(j, e, h, b), the token innermost as a score GEMM reads it (staged
  // per task instead, their transposition cost more than the GEMM). The
  // class rows' scores are dot products along e of the keys as stored.
  const bool rollout = op.getAttentionMaps().size() == 2;
  KernelStage keys;
  keys.kind = KernelStage::Kind::Elementwise;
  keys.extents = {tokens, headDim, heads, -1};
  keys.vars = makeVars(4, "map_keys_v");
  keys.func = Func("map_keys");
  keys.func(keys.vars) = operand(qkv(width + keys.vars[2] * headDim + keys.vars[1],
                                     keys.vars[0], keys.vars[3]));

  // Per head, the probabilities of query rows first..first+rowCount-1:
  // scores(j, i, h, b) = q(first + i)·k(j) / sqrt(Dh), then their softmax.
  auto probabilities = [&](const std::string &name, int first, int rowCount,
                           bool clampRows, bool dotProducts) {
    KernelStage scores =
        attentionGemmStage(KernelStage::GemmRole::Scores,
                           {tokens, rowCount, heads, -1}, (name + "_s").c_str());
    Var j = scores.vars[0], i = scores.vars[1], h = scores.vars[2],
        b = scores.vars[3];
    RDom r(0, headDim, name + "_e");
    Func acc(name + "_scores_acc");
    acc(j, i, h, b) = 0.0f;
    // Rows past the last (read by a partial chunk of a mean) repeat it.
    Expr row = clampRows ? first + min(i, rowCount - 1) : first + i;
    Expr key = dotProducts ? operand(qkv(width + h * headDim + r, j, b))
                           : keys.func(j, r, h, b);
    acc(j, i, h, b) += operand(qkv(h * headDim + r, row, b)) * key;
    scores.dotAlongReduction = dotProducts;
    scores.func = Func(name + "_scores");
    scores.func(j, i, h, b) =
        acc(j, i, h, b) * (1.0f / std::sqrt(float(headDim)));
    scores.accumulator = acc;
    scores.reduction = r;
    KernelStage probs;
    probs.kind = KernelStage::Kind::RowReduce;
    probs.extents = scores.extents;
    probs.vars = makeVars(4, (name + "_p").c_str());
    probs.func = softmaxRows(scores.func, tokens, probs.vars, name + "_probs",
                             probs.rowStages);
    return std::make_pair(scores, probs);
  };
  // A map: out = (1 / terms) * the sum, over `reduction`, of the
  // probabilities at `at(vars, reduction)`, which are computed per step of
  // its outer dimension (Kind::Mean).
  auto mapStage = [&](const std::string &name, std::vector<int64_t> extents,
                      const KernelStage &probs, int terms, RDom reduction,
                      const std::function<std::vector<Expr>(
                          const std::vector<Var> &, RDom)> &at) {
    KernelStage map;
    map.kind = KernelStage::Kind::Mean;
    map.extents = std::move(extents);
    map.vars = makeVars(map.extents.size(), (name + "_v").c_str());
    map.func = Func(name);
    map.func(map.vars) = 0.0f;
    map.func(map.vars) += probs.func(at(map.vars, reduction)) * (1.0f / terms);
    map.reduction = reduction;
    return map;
  };

  // class_attention(j, r, h, b): row begin + r, or the mean of the rows,
  // summed a chunk of rows at a time.
  const int chunk = mean ? std::min(count, 32) : 1;
  auto [classScores, classProbs] =
      probabilities("class_map", begin, count, /*clampRows=*/mean,
                    /*dotProducts=*/!mean);
  RDom summed(0, chunk, 0, mean ? (count + chunk - 1) / chunk : 1, "cm_k");
  if (mean)
    summed.where(summed.y * chunk + summed.x < count);
  KernelStage classMap = mapStage(
      "class_attention", {tokens, mean ? 1 : count, heads, -1}, classProbs,
      mean ? count : 1, summed, [&](const std::vector<Var> &v, RDom k) {
        Expr row = mean ? k.y * chunk + k.x : v[1] + k.x;
        return std::vector<Expr>{v[0], row, v[2], v[3]};
      });
  // One task's rows at once: the class rows (1 or 2), or the chunk.
  classMap.rowsPerTask = mean ? 1 : count;
  // The transposed keys where a score GEMM reads them: the rollout's, and
  // the rows of a mean.
  if (rollout || mean)
    def.stages.push_back(keys);
  classScores.nestIn = classProbs.nestIn = def.stages.size() + 2;
  def.stages.insert(def.stages.end(), {classScores, classProbs, classMap});
  def.outputs.push_back(classMap.func);
  if (!rollout)
    return;
  // mean_attention(j, i, b): every query row, averaged over the heads, a
  // head at a time per block of 32 query rows.
  auto [allScores, allProbs] =
      probabilities("mean_map", 0, queries, /*clampRows=*/false,
                    /*dotProducts=*/false);
  // (Blocks of 32 rows: 7 tasks for 197 tokens, each head's 32 x N scores
  // and probabilities in L2.)
  KernelStage meanMap = mapStage(
      "mean_attention", {tokens, queries, -1}, allProbs, heads,
      RDom(0, heads, "mm_h"), [&](const std::vector<Var> &v, RDom k) {
        return std::vector<Expr>{v[0], v[1], k.x, v[2]};
      });
  meanMap.rowsPerTask = 32;
  allScores.nestIn = allProbs.nestIn = def.stages.size() + 2;
  def.stages.insert(def.stages.end(), {allScores, allProbs, meanMap});
  def.outputs.push_back(meanMap.func);
}

/// int8 models' probs·v on targets with AVX512-VNNI sums i16 x i16 pairs
/// in int32 (vpdpwssd, twice the products per instruction of an f32 FMA):
/// each probability as a multiple of 1/kProbLevels (an absolute step of
/// 3e-5, so a long row loses at most tokens x 1.5e-5 of its mass to
/// rounding, where u8 probabilities lost 10-18% of the context), each value
/// per column of the head in steps of its largest magnitude / kValueLevels.
constexpr int kProbLevels = 32767, kValueLevels = 32767;

/// The per-head scores of an int8 model on targets with vpdpbusd
/// (AVX512-VNNI): q·kᵀ as u8 x s8 sums in int32. Per task (a block of query
/// rows of one head and image):
///  - each query row to u8 over its range, as a GEMM input row (U8Row);
///  - each key row to s8, symmetric: round(k * 127 / max|k|);
///  - scores = (acc - zero_q * sum(k_s8)) * (step_q * step_k) / sqrt(Dh).
/// The softmax stays f32, and probs·v sums 15-bit levels (kProbLevels): u8
/// probabilities (steps of 1/255 of the row's largest) lost the many small
/// probabilities of a long row with one dominant token, by 10-18% of the
/// context at 577 tokens in a numpy model; the scores' rounding error is
/// absolute, each probability's relative. Appends the quantized operands
/// and their scales to `taskStages`, which the context's task computes.
KernelStage int8ScoresStage(Func qkv, int width, int heads, int tokens,
                            int queries,
                            std::vector<KernelStage::TaskStage> &taskStages) {
  const int headDim = width / heads;
  Var e("ie"), n("in"), h("ih"), b("ib"), t("it"), g("ig");
  auto part = [&](int which, Expr channel, Expr token, Expr head, Expr image) {
    return qkv(which * width + head * headDim + channel, token, image);
  };
  RDom acrossHead(0, headDim, "i8_e");

  // Queries: u8 rows.
  Func queryRange =
      rowRange("query_range", {n, h, b}, part(0, acrossHead, n, h, b));
  auto queryRow = [&](Expr row, Expr head, Expr image) {
    return U8Row(queryRange(row, head, image)[0],
                 queryRange(row, head, image)[1]);
  };
  Func queries8("queries_u8"); // (e, n, h, b)
  queries8(e, n, h, b) = queryRow(n, h, b).quantize(part(0, e, n, h, b));
  // Each row's (step, zero point) once per task, vectorized over the rows:
  // recomputed in the scores' epilogue (a division per row and tile), it
  // cost more than the tile's sums at 64-wide heads.
  Func queryParams("query_params");
  queryParams(n, h, b) = Tuple(queryRow(n, h, b).step, queryRow(n, h, b).zero);
  taskStages.push_back({queryRange, 1, headDim});
  taskStages.push_back({queries8});
  taskStages.push_back({queryParams});

  // Keys: s8 rows, packed (e % 4, n, e / 4) as the scores' right side.
  Func keyMax("key_max");
  keyMax(n, h, b) = 0.0f;
  keyMax(n, h, b) = max(keyMax(n, h, b), abs(part(1, acrossHead, n, h, b)));
  Func keyScale("key_scale"); // (1 / step, step) per key
  keyScale(n, h, b) =
      Tuple(select(keyMax(n, h, b) > 0.0f, 127.0f / keyMax(n, h, b), 0.0f),
            keyMax(n, h, b) / 127.0f);
  auto keyLevel = [&](Expr channel, Expr token, Expr head, Expr image) {
    return roundToInt32(part(1, channel, token, head, image) *
                           keyScale(token, head, image)[0]);
  };
  Func keySum("key_sum");
  keySum(n, h, b) = 0;
  keySum(n, h, b) += keyLevel(acrossHead, n, h, b);
  Func keys8("keys_s8"); // (e % 4, n, e / 4, h, b)
  keys8(t, n, g, h, b) = i8(keyLevel(4 * g + t, n, h, b));
  taskStages.push_back({keyMax, 1, headDim});
  taskStages.push_back({keyScale});
  taskStages.push_back({keySum, 1, headDim});
  taskStages.push_back({keys8, 4});

  // scores(j, i, h, b) = q(., i)·k(., j) / sqrt(Dh), from the int32 sums.
  KernelStage scores = attentionGemmStage(
      KernelStage::GemmRole::Scores, {tokens, queries, heads, -1}, "s_v", 4);
  {
    Var j = scores.vars[0], i = scores.vars[1], sh = scores.vars[2],
        sb = scores.vars[3];
    RDom r(0, 4, 0, headDim / 4, "s_e");
    Func acc("scores_acc");
    acc(j, i, sh, sb) = 0;
    acc(j, i, sh, sb) += i32(queries8(4 * r.y + r.x, i, sh, sb)) *
                         i32(keys8(r.x, j, r.y, sh, sb));
    Expr step = queryParams(i, sh, sb)[0], zero = queryParams(i, sh, sb)[1];
    Func out("scores");
    out(j, i, sh, sb) =
        f32(acc(j, i, sh, sb) - i32(zero) * keySum(j, sh, sb)) *
        (step * keyScale(j, sh, sb)[1] * (1.0f / std::sqrt(float(headDim))));
    scores.func = out;
    scores.accumulator = acc;
    scores.reduction = r;
  }
  return scores;
}

/// x + proj(attention(layer_norm(x))): layer norm; the QKV projection; per
/// head q·kᵀ/sqrt(Dh), softmax and ·v; the output projection with its bias
/// and the residual in the epilogue.
KernelDef fusedAttention(mlir::vit::FusedAttentionOp op) {
  KernelDef def;
  def.inputs = fusedInputs(op);
  const bool qkvBias = bool(op.getQkvBias());
  ImageParam x = def.inputs[0],
             projBias = inputOf(op, def.inputs, op.getProjBias());
  auto shape = op.getInput().getType().getShape(); // [B, N, D]
  std::vector<int64_t> extents = halideExtents(shape);
  const int width = static_cast<int>(shape[2]),
            tokens = static_cast<int>(shape[1]);
  // The query rows: every token, or the first few when the result keeps only
  // those (vit-prune-tokens); keys and values are always every token's.
  auto resultShape =
      mlir::cast<mlir::RankedTensorType>(op.getResult().getType()).getShape();
  const int queries = static_cast<int>(resultShape[1]);
  std::vector<int64_t> resultExtents = halideExtents(resultShape);
  const int heads = static_cast<int>(op.getHeads()), headDim = width / heads;

  KernelStage norm =
      layerNormStage(inputFunc(x, 3), def.inputs[1], def.inputs[2],
                     op.getEpsilon().convertToFloat(), extents, "normed");
  std::vector<int64_t> qkvExtents = extents;
  qkvExtents[0] = 3 * width;
  ImageParam qkvBiasParam =
      qkvBias ? inputOf(op, def.inputs, op.getQkvBias()) : ImageParam();
  std::vector<KernelStage> qkvStages = weightGemmStages(
      op, def.inputs, norm.func, op.getQkvWeight(), width, qkvExtents, "qkv",
      [&](Expr sum, const std::vector<Var> &v) {
        return qkvBias ? sum + qkvBiasParam(v[0]) : sum;
      });
  const KernelStage &qkv = qkvStages.back();

  // With bf16 weights the attention core is bf16 too: q, k, the
  // probabilities and v rounded to bf16, sums in f32 (vdpbf16ps), pairs of
  // the reduced dimension adjacent in each staged operand. Keys and values
  // are summed over in pairs, so an odd token count gets a zero
  // probability (and a repeated value) past the last token. int8 models
  // compute q·kᵀ in int8 (int8ScoresStage) where vpdpbusd sums u8 x s8
  // exactly (AVX512-VNNI, which every CPU with AVX512-BF16 has too), their
  // softmax in f32 and probs·v in i16 levels (kProbLevels); elsewhere (AVX2,
  // ARM) all of it is f32.
  mlir::Type qkvElement =
      mlir::cast<mlir::RankedTensorType>(op.getQkvWeight().getType())
          .getElementType();
  auto module = op->getParentOfType<mlir::ModuleOp>();
  auto target = module ? module->getAttrOfType<mlir::vit::TargetAttr>(
                             "vit.target")
                       : mlir::vit::TargetAttr();
  const bool int8Core =
      qkvElement.isSignlessInteger(8) && target &&
      target.has(mlir::vit::CpuFeatures::AVX512VNNI) && headDim % 4 == 0;
  const bool bf16Core = qkvElement.isBF16() && headDim % 2 == 0;
  const int keyPairs = (tokens + 1) / 2;

  // Per head: scores(j, i, h, b) = q(., i)·k(., j) / sqrt(Dh).
  std::vector<int64_t> scoreExtents{tokens, queries, heads, -1};
  KernelStage scores, probs, context;
  std::vector<KernelStage::TaskStage> taskStages;
  if (int8Core) {
    scores = int8ScoresStage(qkv.func, width, heads, tokens, queries,
                             taskStages);
  } else {
    scores = attentionGemmStage(KernelStage::GemmRole::Scores, scoreExtents,
                                "s_v");
    {
      Var j = scores.vars[0], i = scores.vars[1], h = scores.vars[2],
          b = scores.vars[3];
      RDom r(0, headDim, "s_e");
      Func keys(
          "keys_t"); // keys_t(j, e, h, b): keys staged with the token innermost
      Var tj("tj"), te("te"), th("th"), tb("tb");
      keys(tj, te, th, tb) = qkv.func(width + th * headDim + te, tj, tb);
      Func acc("scores_acc");
      acc(j, i, h, b) = 0.0f;
      if (bf16Core) {
        // queries(e, i, h, b) and keys(e % 2, j, e / 2, h, b), rounded, per task.
        Func roundedQueries("queries_bf16"), roundedKeys("keys_bf16");
        Var qe("qe"), qi("qi"), qh("qh"), qb("qb"), kp("kp");
        roundedQueries(qe, qi, qh, qb) =
            roundToBf16(qkv.func(qh * headDim + qe, qi, qb));
        roundedKeys(kp, tj, te, th, tb) = roundToBf16(
            qkv.func(width + th * headDim + 2 * te + kp, tj, tb));
        RDom g(0, 2, 0, headDim / 2, "s_e");
        acc(j, i, h, b) += f32(roundedQueries(2 * g.y + g.x, i, h, b)) *
                           f32(roundedKeys(g.x, j, g.y, h, b));
        keys = roundedKeys;
        scores.stagedLhs = roundedQueries;
        scores.dotGroup = 2;
        r = g;
      } else {
        acc(j, i, h, b) += qkv.func(h * headDim + r, i, b) * keys(j, r, h, b);
      }
      Func out("scores");
      out(j, i, h, b) = acc(j, i, h, b) * (1.0f / std::sqrt(float(headDim)));
      scores.func = out;
      scores.accumulator = acc;
      scores.reduction = r;
      scores.stagedRhs = keys;
    }
  }
  probs.kind = KernelStage::Kind::RowReduce;
  probs.extents = scoreExtents;
  probs.vars = makeVars(4, "p_v");
  probs.func =
      softmaxRows(scores.func, tokens, probs.vars, "probs", probs.rowStages);
  if (bf16Core || int8Core) {
    // Rounded (bf16, or i16 levels of 1/kProbLevels), and zero past the last
    // token up to a whole pair.
    Func padded(bf16Core ? "probs_bf16" : "probs_i16");
    Var pj = probs.vars[0];
    std::vector<Expr> at = asExprs(probs.vars);
    at[0] = min(pj, tokens - 1);
    padded(probs.vars) =
        bf16Core ? select(pj < tokens, roundToBf16(probs.func(at)),
                          reinterpret(BFloat(16), u16(0)))
                 : select(pj < tokens,
                          i16(roundToInt32(probs.func(at) * float(kProbLevels))),
                          i16(0));
    probs.func = padded;
    probs.extents[0] = 2 * keyPairs;
  }
  // context(e, i, h, b) = sum_j probs(j, i, h, b) * v(e, j, h, b), written
  // with the heads merged: merged(c, n, b) = context(c % Dh, n, c / Dh, b).
  context = attentionGemmStage(KernelStage::GemmRole::Context,
                               {headDim, queries, heads, -1}, "c_v");
  {
    Var e = context.vars[0], i = context.vars[1], h = context.vars[2],
        b = context.vars[3];
    RDom r(0, tokens, "c_j");
    // values(e, j, h, b): the head's values copied out of the QKV rows (a
    // [tokens, Dh] block instead of one strided row per token).
    Func values("values");
    Var ve("ve"), vj("vj"), vh("vh"), vb("vb");
    values(ve, vj, vh, vb) = qkv.func(2 * width + vh * headDim + ve, vj, vb);
    Func acc("context_acc");
    Func out("context");
    if (int8Core) {
      // values_i16(j % 2, e, j / 2, h, b): each column e of the head
      // symmetric over the tokens in 15 bits, the last token's again past
      // the end (its probability there is 0). The int32 sums cannot
      // overflow: a row's i16 probabilities sum to about kProbLevels.
      RDom overTokens(0, tokens, "v_j");
      auto value = [&](Expr column, Expr token, Expr head, Expr image) {
        return qkv.func(2 * width + head * headDim + column, token, image);
      };
      Func valueMax("value_max"), valueScale("value_scale"),
          levels("values_i16");
      valueMax(ve, vh, vb) = 0.0f;
      valueMax(ve, vh, vb) =
          max(valueMax(ve, vh, vb), abs(value(ve, overTokens, vh, vb)));
      valueScale(ve, vh, vb) = // (1 / step, step)
          Tuple(select(valueMax(ve, vh, vb) > 0.0f,
                       float(kValueLevels) / valueMax(ve, vh, vb), 0.0f),
                valueMax(ve, vh, vb) / float(kValueLevels));
      Var vp("vp");
      levels(vp, ve, vj, vh, vb) =
          i16(roundToInt32(value(ve, min(2 * vj + vp, tokens - 1), vh, vb) *
                           valueScale(ve, vh, vb)[0]));
      taskStages.push_back({valueMax});
      taskStages.push_back({valueScale});
      RDom g(0, 2, 0, keyPairs, "c_j");
      acc(e, i, h, b) = 0;
      acc(e, i, h, b) += i32(probs.func(2 * g.y + g.x, i, h, b)) *
                         i32(levels(g.x, e, g.y, h, b));
      out(e, i, h, b) = f32(acc(e, i, h, b)) *
                        (valueScale(e, h, b)[1] * (1.0f / kProbLevels));
      values = levels;
      context.dotGroup = 2;
      r = g;
    } else if (bf16Core) {
      acc(e, i, h, b) = 0.0f;
      // values(j % 2, e, j / 2, h, b), rounded, per task; the last token's
      // again past the end (its probability there is 0).
      Func roundedValues("values_bf16");
      Var vp("vp");
      roundedValues(vp, ve, vj, vh, vb) = roundToBf16(qkv.func(
          2 * width + vh * headDim + ve, min(2 * vj + vp, tokens - 1), vb));
      RDom g(0, 2, 0, keyPairs, "c_j");
      acc(e, i, h, b) += f32(probs.func(2 * g.y + g.x, i, h, b)) *
                         f32(roundedValues(g.x, e, g.y, h, b));
      values = roundedValues;
      context.dotGroup = 2;
      r = g;
    } else {
      acc(e, i, h, b) = 0.0f;
      acc(e, i, h, b) += probs.func(r, i, h, b) * values(e, r, h, b);
    }
    if (!int8Core)
      out(e, i, h, b) = acc(e, i, h, b);
    context.func = out;
    context.accumulator = acc;
    context.reduction = r;
    context.stagedRhs = values;
  }
  context.taskStages = taskStages;
  // The projection reads the context with the heads merged, k = h * Dh + e.
  // The context is stored that way ([B, N, H x Dh], as merge_heads would
  // lay it out), so the index k % Dh + Dh * (k / Dh) simplifies to k and each
  // token's row is read contiguously.
  context.func.reorder_storage(context.vars[0], context.vars[2],
                               context.vars[1], context.vars[3]);
  Func merged("merged");
  Var mc("mc"), mn("mn"), mb("mb");
  merged(mc, mn, mb) = context.func(mc % headDim, mn, mc / headDim, mb);
  merged.compute_inline();
  std::vector<KernelStage> proj = weightGemmStages(
      op, def.inputs, merged, op.getProjWeight(), width, resultExtents,
      "fused_attention", [&](Expr sum, const std::vector<Var> &v) {
        return x(v) + sum + projBias(v[0]);
      });
  // Scores and probabilities are computed per (query block, head, batch)
  // inside the context's parallel loop: never [B, H, N, N].
  context.parallelOuterOnly = true;
  computeInQuantizingLoop(norm, qkvStages);
  def.stages = {norm};
  def.stages.insert(def.stages.end(), qkvStages.begin(), qkvStages.end());
  scores.nestIn = probs.nestIn = def.stages.size() + 2; // `context`'s index
  def.stages.insert(def.stages.end(), {scores, probs, context});
  def.stages.insert(def.stages.end(), proj.begin(), proj.end());
  def.outputs = {proj.back().func};
  if (!op.getAttentionMaps().empty())
    addAttentionMaps(op, def, qkv.func, bf16Core);
  return def;
}

/// tokens(d, n, b) = pos(d, n) + (n < T ? prefix(d, n) : patches(d, n - T)):
/// the projection is a GEMM over each patch's (x, y, c), read straight from
/// the image, over all T + N rows (the T prefix rows read patch 0 and drop
/// it: 1/197 of the work, and every row tile stays full).
KernelDef fusedPatchEmbed(mlir::vit::FusedPatchEmbedOp op) {
  KernelDef def;
  def.inputs = fusedInputs(op);
  auto imageShape = op.getImages().getType().getShape();
  auto weightShape = op.getWeight().getType().getShape(); // [D, C, Ph, Pw]
  const int patches =
      (imageShape[2] / weightShape[2]) * (imageShape[3] / weightShape[3]);
  int prefix = 0;
  for (mlir::Value t : op.getPrefixTokens())
    prefix += mlir::cast<mlir::RankedTensorType>(t.getType()).getShape()[1];

  KernelStage stage;
  stage.kind = KernelStage::Kind::Gemm;
  stage.weight = def.inputs[1];
  stage.extents = halideExtents(op.getType().getShape());
  stage.vars = makeVars(3, "e_v");
  Var d = stage.vars[0], n = stage.vars[1], b = stage.vars[2];
  auto [acc, r] = patchAccumulator(
      def.inputs[0], def.inputs[1], panelBlock(op, op.getWeight()), imageShape,
      weightShape, stage.vars,
      [&](Expr row) { return clamp(row - prefix, 0, patches - 1); },
      "embed_acc");
  Expr value = acc(d, n, b);
  if (op.getBias())
    value += inputOf(op, def.inputs, op.getBias())(d);
  // Prefix tokens, last first, so the first one ends outermost.
  int start = prefix;
  for (mlir::Value t : llvm::reverse(op.getPrefixTokens())) {
    const int count =
        mlir::cast<mlir::RankedTensorType>(t.getType()).getShape()[1];
    start -= count;
    ImageParam tokens = inputOf(op, def.inputs, t);
    // Clamped: select evaluates both sides, each must stay in its buffer.
    value = select(n >= start && n < start + count,
                   tokens(d, clamp(n - start, 0, count - 1), 0), value);
  }
  Func out("fused_patch_embed");
  out(d, n, b) =
      value + inputOf(op, def.inputs, op.getPositionEmbedding())(d, n, 0);
  stage.func = out;
  stage.accumulator = acc;
  stage.reduction = r;
  def.stages = {stage};
  def.outputs = {out};
  return def;
}

/// An elementwise stage over `extents` computing `body(vars)`.
KernelStage
elementwiseStage(const std::vector<int64_t> &extents, const std::string &name,
                 const std::function<Expr(const std::vector<Var> &)> &body) {
  KernelStage stage;
  stage.extents = extents;
  stage.vars = makeVars(extents.size(), (name + "_v").c_str());
  Func f(name);
  f(stage.vars) = body(stage.vars);
  stage.func = f;
  return stage;
}

/// The head: optional token norm, pooling, optional pooled norm, optional
/// pre-logits, then the classifier (and DeiT's distillation classifier). The
/// features and the logits are both outputs. The token norm is computed only
/// for the rows pooling reads (Halide's bounds inference).
KernelDef fusedHead(mlir::vit::FusedHeadOp op) {
  KernelDef def;
  def.inputs = fusedInputs(op);
  auto in = [&](mlir::Value v) { return inputOf(op, def.inputs, v); };
  auto shape = op.getInput().getType().getShape(); // [B, N, D]
  const int tokens = shape[1], width = shape[2];
  const bool tokenNorm = op.getNormAt() == mlir::vit::HeadNormPlacement::Tokens;
  const bool pooledNorm =
      op.getNormAt() == mlir::vit::HeadNormPlacement::Pooled;
  const float epsilon =
      op.getEpsilon() ? op.getEpsilon()->convertToFloat() : 0.0f;

  Func source = inputFunc(def.inputs[0], 3);
  if (tokenNorm) {
    KernelStage norm =
        layerNormStage(source, in(op.getNormScale()), in(op.getNormBias()),
                       epsilon, halideExtents(shape), "normed");
    def.stages.push_back(norm);
    source = norm.func;
  }
  std::vector<int64_t> pooledExtents{width, -1};
  const int skip = static_cast<int>(op.getSkip());
  KernelStage pooled = elementwiseStage(
      pooledExtents, "pooled", [&](const std::vector<Var> &v) -> Expr {
        if (op.getPooling() == mlir::vit::HeadPooling::ClassToken)
          return source(v[0], 0, v[1]);
        RDom r(skip, tokens - skip, "pool_n");
        return sum(source(v[0], r, v[1])) / float(tokens - skip);
      });
  def.stages.push_back(pooled);
  Func features = pooled.func;
  if (pooledNorm) {
    KernelStage norm =
        layerNormStage(features, in(op.getNormScale()), in(op.getNormBias()),
                       epsilon, pooledExtents, "fc_normed");
    def.stages.push_back(norm);
    features = norm.func;
  }
  if (op.getPreLogitsWeight()) {
    const int rep = op.getPreLogitsWeight().getType().getShape()[0];
    ImageParam bias = in(op.getPreLogitsBias());
    KernelStage preLogits =
        gemmStage(features, in(op.getPreLogitsWeight()),
                  panelBlock(op, op.getPreLogitsWeight()), width, {rep, -1},
                  "pre_logits", [&](Expr sum, const std::vector<Var> &v) {
                    return tanh(sum + bias(v[0]));
                  });
    preLogits.costlyEpilogue = true;
    def.stages.push_back(preLogits);
    features = preLogits.func;
  }
  // The features are an output; a separate copy stage keeps the pipeline's
  // outputs distinct Funcs whatever the chain above was.
  const int featureWidth = op.getFeatures().getType().getShape()[1];
  KernelStage featuresOut =
      elementwiseStage({featureWidth, -1}, "features",
                       [&](const std::vector<Var> &v) { return features(v); });
  def.stages.push_back(featuresOut);
  def.outputs = {featuresOut.func};
  if (!op.getHeadWeight())
    return def;

  const int classes = op.getHeadWeight().getType().getShape()[0];
  KernelStage dist;
  if (op.getDistWeight()) {
    Func distToken("dist_token");
    Var dv("dist_d"), db("dist_b");
    distToken(dv, db) = source(dv, 1, db);
    distToken.compute_inline();
    ImageParam distBias = in(op.getDistBias());
    dist = gemmStage(distToken, in(op.getDistWeight()),
                     panelBlock(op, op.getDistWeight()), width, {classes, -1},
                     "dist_logits", [&](Expr sum, const std::vector<Var> &v) {
                       return sum + distBias(v[0]);
                     });
    def.stages.push_back(dist);
  }
  ImageParam headBias = in(op.getHeadBias());
  KernelStage logits = gemmStage(
      features, in(op.getHeadWeight()), panelBlock(op, op.getHeadWeight()),
      featureWidth, {classes, -1}, "logits",
      [&](Expr sum, const std::vector<Var> &v) {
        Expr value = sum + headBias(v[0]);
        // DeiT averages the two classifiers at inference.
        return dist.func.defined() ? (value + dist.func(v)) * 0.5f : value;
      });
  def.stages.push_back(logits);
  def.outputs.push_back(logits.func);
  return def;
}
} // namespace

static OpDef defineAlgorithm(Operation *op);

/// Puts the sizes of the kernel's tile (VitAttrs.td) on its stages.
static void applyTile(KernelDef &def, mlir::Attribute tile) {
  using namespace mlir::vit;
  using Role = KernelStage::GemmRole;
  for (KernelStage &stage : def.stages) {
    const bool gemm = stage.kind == KernelStage::Kind::Gemm;
    auto registerTile = [&](int64_t columns, int64_t rows) {
      stage.tileColumns = static_cast<int>(columns);
      stage.tileRows = static_cast<int>(rows);
    };
    llvm::TypeSwitch<mlir::Attribute>(tile)
        .Case([&](CpuRowTileAttr t) {
          stage.rowsPerTask = static_cast<int>(t.getRows());
          stage.vector = static_cast<int>(t.getVector());
        })
        .Case([&](CpuGemmTileAttr t) {
          stage.vector = static_cast<int>(t.getVector());
          if (gemm)
            registerTile(t.getColumns(), t.getRows());
          stage.parallelRows = t.getParallel() == TileParallel::Rows;
        })
        .Case([&](CpuAttentionTileAttr t) {
          stage.vector = static_cast<int>(t.getVector());
          stage.queryRows = static_cast<int>(t.getQueryRows());
          if (gemm && stage.gemmRole == Role::Scores) {
            registerTile(t.getScoreColumns(), t.getScoreRows());
          } else if (gemm && stage.gemmRole == Role::Context) {
            registerTile(t.getContextColumns(), t.getContextRows());
          } else if (gemm) {
            registerTile(t.getColumns(), t.getRows());
            stage.parallelRows = t.getParallel() == TileParallel::Rows;
          }
        })
        .Case([&](GpuRowTileAttr t) {
          stage.rowsPerTask = static_cast<int>(t.getThreads());
        })
        .Case<GpuGemmTileAttr, GpuAttentionTileAttr>([&](auto t) {
          if (auto attention = mlir::dyn_cast<GpuAttentionTileAttr>(t))
            stage.queryRows = static_cast<int>(attention.getQueryRows());
          // Attention's per-head GEMMs run a block per (query rows, head,
          // image) sized by the shapes (GpuSchedule.cpp).
          if (!gemm || stage.gemmRole == Role::Scores ||
              stage.gemmRole == Role::Context)
            return;
          registerTile(t.getBlockColumns(), t.getBlockRows());
          stage.threadColumns = static_cast<int>(t.getThreadColumns());
          stage.threadRows = static_cast<int>(t.getThreadRows());
          stage.sharedK = static_cast<int>(t.getSharedK());
        });
  }
}

/// Declares the static extents of every output buffer, as for the inputs.
static void constrainOutputs(const KernelDef &def, Operation *op) {
  for (auto [func, result] : llvm::zip(def.outputs, op->getResults())) {
    auto type = mlir::cast<mlir::RankedTensorType>(result.getType());
    std::vector<int64_t> extents = halideExtents(type.getShape());
    declareDense(func.output_buffer(), extents);
  }
}

KernelDef vitc::defineKernel(Operation *op) {
  KernelDef def;
  if (auto linear = mlir::dyn_cast<mlir::vit::LinearOp>(op))
    def = linearKernel(linear);
  else if (auto norm = mlir::dyn_cast<mlir::vit::LayerNormOp>(op))
    def = layerNormKernel(norm);
  else if (auto mlp = mlir::dyn_cast<mlir::vit::FusedMlpOp>(op))
    def = fusedMlp(mlp);
  else if (auto attention = mlir::dyn_cast<mlir::vit::FusedAttentionOp>(op))
    def = fusedAttention(attention);
  else if (auto embed = mlir::dyn_cast<mlir::vit::FusedPatchEmbedOp>(op))
    def = fusedPatchEmbed(embed);
  else if (auto head = mlir::dyn_cast<mlir::vit::FusedHeadOp>(op))
    def = fusedHead(head);
  else {
    OpDef single = defineAlgorithm(op);
    def.inputs = single.inputs;
    def.outputs = single.outputs;
    for (const Func &out : single.outputs) {
      KernelStage stage;
      stage.kind = single.kind;
      stage.func = out;
      stage.vars = single.vars;
      stage.extents = single.extents;
      stage.accumulator = single.accumulator;
      stage.reduction = single.reduction;
      stage.stagedRhs = single.stagedRhs;
      stage.rowStages = single.rowStages;
      def.stages.push_back(stage);
    }
  }
  applyTile(def, op->getAttr("vit.tile"));
  constrainOutputs(def, op);
  return def;
}

static OpDef defineAlgorithm(Operation *op) {
  return llvm::TypeSwitch<Operation *, OpDef>(op)
      .Case([&](mlir::vit::PatchProjectionOp o) { return patchProjection(o); })
      .Case([&](mlir::vit::MatmulOp o) { return matmul(o); })
      .Case([&](mlir::vit::SoftmaxOp o) { return softmax(o); })
      .Case([&](mlir::vit::TokenMeanOp o) { return tokenMean(o); })
      .Case([&](mlir::vit::SplitQkvOp o) { return splitQkv(o); })
      .Default([&](Operation *o) { return elementwise(o); });
}
