//===- Program.cpp - a vit function as a sequence of kernel calls ---------===//
//
// Kernels are deduplicated by a signature made of the op's printed form with
// SSA names removed: op name, attributes, operand and result types, and
// which operands are parameters. Value memory is planned by liveness: a slot
// is reused as soon as the value in it has had its last reader.
//
//===----------------------------------------------------------------------===//

#include "compiler/program/Program.h"

#include "dialect/VitDialect.h"
#include "mlir/IR/AsmState.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace vitc;
using llvm::Error;
using llvm::Expected;

static Error programError(Operation *op, const llvm::Twine &message) {
  std::string location;
  llvm::raw_string_ostream os(location);
  op->getLoc().print(os);
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "backend: " + message + " (op '" +
                                     op->getName().getStringRef() + "' at " +
                                     location + ")");
}

int64_t ProgramValue::elements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

/// The columns a tile's GEMMs accumulate at once: weight panels are that
/// wide.
static int64_t panelColumns(Attribute tile) {
  if (!tile)
    return 0;
  return llvm::TypeSwitch<Attribute, int64_t>(tile)
      .Case([](vit::CpuGemmTileAttr t) { return t.getColumns(); })
      .Case([](vit::CpuAttentionTileAttr t) { return t.getColumns(); })
      .Case([](vit::GpuGemmTileAttr t) { return t.getBlockColumns(); })
      .Case([](vit::GpuAttentionTileAttr t) { return t.getBlockColumns(); })
      .Default(int64_t{0});
}

std::string vitc::programPrecision(const Program &program) {
  for (const ProgramParam &param : program.params)
    if (param.elementType == ElementType::I8)
      return "int8";
  for (const ProgramParam &param : program.params)
    if (param.elementType == ElementType::BF16)
      return "bf16";
  return "f32";
}

/// The int8 weight range of the target of the module `op` is in (127
/// outside one).
static int int8Levels(Operation *op) {
  auto module = op->getParentOfType<ModuleOp>();
  auto target =
      module ? module->getAttrOfType<vit::TargetAttr>("vit.target") : nullptr;
  return target ? static_cast<int>(target.getInt8WeightLevels()) : 127;
}

bool vitc::usesAmxTiles(Operation *user, unsigned operand) {
  auto kernel = dyn_cast<vit::KernelOpInterface>(user);
  if (!kernel || !kernel.isGemmWeight(operand))
    return false;
  auto type = cast<RankedTensorType>(user->getOperand(operand).getType());
  auto module = user->getParentOfType<ModuleOp>();
  auto target =
      module ? module->getAttrOfType<vit::TargetAttr>("vit.target") : nullptr;
  if (!target || type.getDimSize(0) % 16 != 0)
    return false;
  // int8 on AMX targets has 8-bit weights (AVX512-VNNI: levels 127), which
  // tdpbusd sums in groups of 4 as vpdpbusd does.
  Type element = type.getElementType();
  return (element.isBF16() && target.hasAmxBf16()) ||
         (element.isSignlessInteger(8) && target.hasAmxInt8() &&
          target.getInt8WeightLevels() == 127);
}

ParamLayout vitc::paramLayoutFor(Operation *user, unsigned operand) {
  auto kernel = dyn_cast<vit::KernelOpInterface>(user);
  if (!kernel)
    return {};
  for (unsigned weight : kernel.getGemmWeightOperands())
    if (kernel.getWeightScaleOperand(weight) == static_cast<int>(operand))
      return {false, 0, ParamLayout::Int8::Scales, int8Levels(user)};
  if (!kernel.isGemmWeight(operand))
    return {};
  auto type = cast<RankedTensorType>(user->getOperand(operand).getType());
  int64_t m = type.getDimSize(0);
  // Panels as wide as the tile when the tiles divide m; else one panel
  // (also without a GEMM tile, which the program builder refuses anyway).
  const bool amx = usesAmxTiles(user, operand);
  int64_t tile = amx ? 16 : panelColumns(user->getAttr("vit.tile"));
  ParamLayout layout{true, tile > 0 && m % tile == 0 ? tile : m};
  layout.amx = amx;
  if (type.getElementType().isSignlessInteger(8)) {
    layout.int8 = ParamLayout::Int8::Weight;
    layout.levels = int8Levels(user);
    layout.group = 4;
  } else if (type.getElementType().isBF16()) {
    layout.group = 2;
  }
  return layout;
}

std::vector<int64_t> vitc::storedShape(ArrayRef<int64_t> shape,
                                       ParamLayout layout) {
  if (layout.int8 == ParamLayout::Int8::Scales)
    return {2, shape[0]};
  if (!layout.gemm)
    return shape.vec();
  int64_t m = shape[0], k = 1;
  for (int64_t dim : shape.drop_front())
    k *= dim;
  if (layout.group > 1)
    return {m / layout.block, k / layout.group, layout.block, layout.group};
  return {m / layout.block, k, layout.block};
}

Tensor vitc::toStoredLayout(const Tensor &tensor, ParamLayout layout) {
  if (!layout.gemm)
    return tensor;
  Tensor out;
  out.type = tensor.type;
  out.shape = storedShape(tensor.shape, layout);
  out.data.resize(tensor.data.size());
  const int64_t m = tensor.shape[0], k = tensor.numElements() / m,
                block = layout.block, group = layout.group;
  for (int64_t row = 0; row < m; ++row)
    for (int64_t col = 0; col < k; ++col) {
      const int64_t panel = row / block, inPanel = row % block;
      // in[panel * block + inPanel][col] ->
      // out[panel][col / group][inPanel][col % group] (group 1: f32).
      const int64_t at =
          ((panel * (k / group) + col / group) * block + inPanel) * group +
          col % group;
      out.data[at] = tensor.data[row * k + col];
    }
  return out;
}

/// The op with SSA names stripped: two ops with equal signatures compute the
/// same function of their operands and share one compiled kernel.
static std::string signatureOf(Operation *op, ArrayRef<bool> operandIsParam) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << op->getName() << "(";
  for (auto [i, operand] : llvm::enumerate(op->getOperands()))
    os << (i ? ", " : "") << (operandIsParam[i] ? "param " : "")
       << operand.getType();
  os << ") -> (";
  llvm::interleaveComma(op->getResultTypes(), os);
  os << ")";
  for (NamedAttribute attr : op->getAttrDictionary())
    os << " " << attr.getName() << "=" << attr.getValue();
  return text;
}

/// FNV-1a, 64 bits: a stable hash whatever the host.
static uint64_t fnv1a(llvm::StringRef text,
                      uint64_t hash = 0xcbf29ce484222325ull) {
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

/// The stored element type of an IR element type.
static std::optional<ElementType> elementTypeOf(Type type) {
  if (type.isF32())
    return ElementType::F32;
  if (type.isBF16())
    return ElementType::BF16;
  if (type.isF16())
    return ElementType::F16;
  if (type.isSignlessInteger(8))
    return ElementType::I8;
  return std::nullopt;
}

/// Why `op` cannot be compiled as it is tiled, or "".
static std::string checkTiled(vit::KernelOpInterface op, bool gpu) {
  Attribute tile = op->getAttr("vit.tile");
  if (!isa_and_nonnull<vit::TileAttrInterface>(tile))
    return "the op has no vit.tile (run vit-select-tiles first)";
  // That the tile is of the kernel's kind, the dialect verifies.
  bool isGpuTile =
      isa<vit::GpuGemmTileAttr, vit::GpuAttentionTileAttr, vit::GpuRowTileAttr>(
          tile);
  if (isGpuTile != gpu)
    return std::string("a ") + (isGpuTile ? "GPU" : "CPU") +
           " tile on a kernel for a " + (gpu ? "GPU" : "CPU") + " target";
  return "";
}

Expected<Program> vitc::buildProgram(func::FuncOp forward) {
  Program program;
  if (forward.getNumArguments() != 1 || forward.getNumResults() != 1)
    return programError(
        forward, "expected @forward to take the images and return the logits");
  auto module = forward->getParentOfType<ModuleOp>();
  program.target =
      module ? module->getAttrOfType<vit::TargetAttr>("vit.target") : nullptr;
  if (!program.target)
    return programError(forward, "the module has no #vit.target (run "
                                 "vit-select-tiles first)");
  auto model = module->getAttrOfType<vit::ModelAttr>("vit.model");
  auto imageType = dyn_cast<RankedTensorType>(forward.getArgument(0).getType());
  auto outputType = dyn_cast<RankedTensorType>(forward.getResultTypes()[0]);
  if (!model || !imageType || imageType.getRank() != 4 || !outputType ||
      outputType.getRank() != 2)
    return programError(forward,
                        "expected a module with a #vit.model and @forward "
                        "from images [B, C, H, W] to outputs [B, N]");
  program.model.name = model.getName().str();
  program.model.channels = imageType.getDimSize(1);
  program.model.height = imageType.getDimSize(2);
  program.model.width = imageType.getDimSize(3);
  program.model.outputs = outputType.getDimSize(1);
  llvm::copy(model.getMean().asArrayRef(), program.model.mean.begin());
  llvm::copy(model.getStd().asArrayRef(), program.model.std.begin());
  program.model.cropFraction = model.getCropFraction().getValueAsDouble();
  Block &body = forward.getBody().front();

  llvm::DenseMap<Value, int> valueIndex;
  llvm::DenseMap<Value, int> paramIndex;
  llvm::StringMap<int> paramByName;
  auto addValue = [&](Value value, Operation *where) -> Expected<int> {
    auto type = dyn_cast<RankedTensorType>(value.getType());
    if (!type || type.getRank() < 1 ||
        !ShapedType::isDynamic(type.getDimSize(0)) ||
        !type.getElementType().isF32())
      return programError(
          where, "values must be f32 tensors with a dynamic leading batch "
                 "dimension");
    ProgramValue info;
    info.shape = type.getShape().drop_front().vec();
    if (llvm::any_of(info.shape, ShapedType::isDynamic))
      return programError(where, "only the batch dimension may be dynamic");
    program.values.push_back(std::move(info));
    valueIndex[value] = program.values.size() - 1;
    return program.values.size() - 1;
  };
  Expected<int> input = addValue(forward.getArgument(0), forward);
  if (!input)
    return input.takeError();
  program.inputValue = *input;

  llvm::StringMap<int> kernelBySignature;
  for (Operation &op : body) {
    if (auto param = dyn_cast<vit::ParamOp>(op)) {
      // Parameters become kernel arguments; their stored layout is decided
      // by the ops that read them.
      std::optional<ParamLayout> layout;
      for (OpOperand &use : param->getUses()) {
        ParamLayout wanted =
            paramLayoutFor(use.getOwner(), use.getOperandNumber());
        if (layout && *layout != wanted)
          return programError(&op, "parameter '" + param.getName() +
                                       "' is read in two different layouts");
        layout = wanted;
      }
      std::string name = param.getName().str();
      auto shape = param.getType().getShape();
      if (auto it = paramByName.find(name); it != paramByName.end()) {
        if (program.params[it->second].irShape != shape.vec())
          return programError(&op, "parameter '" + name +
                                       "' appears with two shapes");
        paramIndex[param] = it->second;
        continue;
      }
      ParamLayout stored = layout.value_or(ParamLayout{});
      std::optional<ElementType> type =
          elementTypeOf(param.getType().getElementType());
      if (!type)
        return programError(&op, "parameter '" + name +
                                     "' has an element type the backend "
                                     "cannot store");
      // Scales name the weight they scale: both are made from its values.
      std::string scaledWeight;
      if (stored.int8 == ParamLayout::Int8::Scales)
        for (OpOperand &use : param->getUses()) {
          auto kernel = cast<vit::KernelOpInterface>(use.getOwner());
          for (unsigned w : kernel.getGemmWeightOperands())
            if (kernel.getWeightScaleOperand(w) ==
                static_cast<int>(use.getOperandNumber()))
              if (auto weight =
                      kernel->getOperand(w).getDefiningOp<vit::ParamOp>())
                scaledWeight = weight.getName().str();
        }
      if (stored.int8 == ParamLayout::Int8::Scales && scaledWeight.empty())
        return programError(&op, "scale parameter '" + name +
                                     "' does not scale a weight parameter");
      program.params.push_back({name, *type, shape.vec(),
                                storedShape(shape, stored), stored,
                                scaledWeight});
      paramByName[name] = program.params.size() - 1;
      paramIndex[param] = program.params.size() - 1;
      continue;
    }
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      auto it = valueIndex.find(ret.getOperand(0));
      if (it == valueIndex.end() || it->second == program.inputValue)
        return programError(&op, "the result must be computed by a kernel");
      program.outputValue = it->second;
      continue;
    }
    auto kernel = dyn_cast<vit::KernelOpInterface>(op);
    if (!kernel)
      return programError(&op, "the backend has no kernel for this op");
    if (std::string why = checkTiled(kernel, program.target.isGpu());
        !why.empty())
      return programError(&op, why);

    ProgramStep step;
    SmallVector<bool> operandIsParam;
    for (Value operand : op.getOperands()) {
      if (auto it = paramIndex.find(operand); it != paramIndex.end()) {
        step.args.push_back({true, it->second});
        operandIsParam.push_back(true);
        continue;
      }
      auto it = valueIndex.find(operand);
      if (it == valueIndex.end())
        return programError(
            &op, "operand is neither a parameter nor a computed value");
      step.args.push_back({false, it->second});
      operandIsParam.push_back(false);
    }
    for (Value result : op.getResults()) {
      Expected<int> index = addValue(result, &op);
      if (!index)
        return index.takeError();
      step.args.push_back({false, *index});
      // The marked op's first result is the features (a fused head also
      // returns the logits).
      if (op.hasAttr("vit.features") && result == op.getResult(0))
        program.featuresValue = *index;
    }
    if (auto embed = dyn_cast<vit::FusedPatchEmbedOp>(op)) {
      auto weight = embed.getWeight().getType().getShape(); // [D, C, Ph, Pw]
      program.model.gridHeight = program.model.height / weight[2];
      program.model.gridWidth = program.model.width / weight[3];
      program.model.prefixTokens = 0;
      for (Value prefix : embed.getPrefixTokens())
        program.model.prefixTokens +=
            cast<RankedTensorType>(prefix.getType()).getDimSize(1);
    }
    if (auto attention = dyn_cast<vit::FusedAttentionOp>(op);
        attention && !attention.getAttentionMaps().empty()) {
      if (program.target.isGpu())
        return programError(&op, "attention maps are computed on CPU targets "
                                 "only, not yet on GPUs");
      ProgramAttentionMaps &maps = program.attentionMaps;
      auto shape = cast<RankedTensorType>(
                       attention.getAttentionMaps()[0].getType())
                       .getShape(); // [B, heads, rows, tokens]
      ArrayRef<int64_t> rows = *attention.getMapRows();
      const bool rollout = attention.getAttentionMaps().size() == 2;
      if (!maps.empty() &&
          (maps.heads != shape[1] || maps.rows != shape[2] ||
           maps.tokens != shape[3] || maps.rowBegin != rows[0] ||
           maps.rowMean != attention.getMapMean() ||
           maps.meanValues.empty() == rollout))
        return programError(&op, "attention maps differ in shape, rows or "
                                 "rollout from the first layer's");
      maps.heads = shape[1], maps.rows = shape[2], maps.tokens = shape[3];
      maps.rowBegin = rows[0], maps.rowEnd = rows[1];
      maps.rowMean = attention.getMapMean();
      // Its results follow the operands in the step's arguments.
      const size_t first = step.args.size() - (rollout ? 2 : 1);
      maps.classValues.push_back(step.args[first].index);
      if (rollout)
        maps.meanValues.push_back(step.args.back().index);
    }
    std::string signature = signatureOf(&op, operandIsParam);
    auto [it, inserted] =
        kernelBySignature.try_emplace(signature, program.kernels.size());
    if (inserted) {
      std::string opName = op.getName().stripDialect().str();
      program.kernels.push_back(
          {llvm::formatv("k{0}_{1}", program.kernels.size(), opName).str(),
           signature, kernel, kernel.getFlopsPerImage()});
    }
    step.kernel = it->second;
    program.steps.push_back(std::move(step));
  }

  // Liveness: the last step reading each value. The features and attention
  // maps stay until the run ends, for the runtime to copy out.
  std::vector<int> lastUse(program.values.size(), -1);
  for (auto [s, step] : llvm::enumerate(program.steps))
    for (const ProgramArg &arg : step.args)
      if (!arg.isParam)
        lastUse[arg.index] = s;
  if (program.featuresValue >= 0)
    lastUse[program.featuresValue] = program.steps.size();
  for (int value : program.attentionMaps.classValues)
    lastUse[value] = program.steps.size();
  for (int value : program.attentionMaps.meanValues)
    lastUse[value] = program.steps.size();
  // Slots: a result takes the smallest free slot that fits, else grows the
  // largest free one, else opens a new one; inputs free theirs after the step.
  std::vector<bool> slotFree;
  for (auto [s, step] : llvm::enumerate(program.steps)) {
    const ProgramKernel &kernel = program.kernels[step.kernel];
    unsigned numResults = kernel.op->getNumResults();
    for (size_t a = step.args.size() - numResults; a < step.args.size(); ++a) {
      ProgramValue &value = program.values[step.args[a].index];
      if (step.args[a].index == program.outputValue)
        continue;
      int best = -1, largest = -1;
      for (size_t slot = 0; slot < slotFree.size(); ++slot) {
        if (!slotFree[slot])
          continue;
        int64_t size = program.slotElements[slot];
        if (size >= value.elements() &&
            (best < 0 || size < program.slotElements[best]))
          best = slot;
        if (largest < 0 || size > program.slotElements[largest])
          largest = slot;
      }
      int slot = best >= 0 ? best : largest;
      if (slot < 0) {
        slot = slotFree.size();
        slotFree.push_back(false);
        program.slotElements.push_back(0);
      }
      slotFree[slot] = false;
      program.slotElements[slot] =
          std::max(program.slotElements[slot], value.elements());
      value.slot = slot;
    }
    for (size_t a = 0; a < step.args.size() - numResults; ++a) {
      const ProgramArg &arg = step.args[a];
      if (!arg.isParam && lastUse[arg.index] == static_cast<int>(s) &&
          program.values[arg.index].slot >= 0)
        slotFree[program.values[arg.index].slot] = true;
    }
  }

  // The fingerprint covers everything the library and its weights file must
  // agree on.
  uint64_t hash = fnv1a("vitc-program-v4");
  for (const ProgramParam &param : program.params) {
    hash = fnv1a(param.name + ":" + elementTypeName(param.elementType).str() +
                     ":" + std::to_string(param.layout.levels),
                 hash);
    for (int64_t dim : param.storedShape)
      hash = fnv1a(std::to_string(dim) + ",", hash);
  }
  for (const ProgramKernel &kernel : program.kernels)
    hash = fnv1a(kernel.signature, hash);
  program.fingerprint = llvm::formatv("{0:x16}", hash).str();
  return program;
}
