//===- vitc.cpp - the vitc compiler driver --------------------------------===//
//
// Describes a model (zoo name, config file, flags), optionally loads its
// checkpoint, and emits what --emit asks for. Every user error is one line on
// stderr naming what was wrong, and a non-zero exit status.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/BuildModel.h"
#include "compiler/frontend/ConfigFile.h"
#include "compiler/frontend/ModelConfig.h"
#include "compiler/frontend/PosEmbedSimilarity.h"
#include "support/Figure.h"
#include "compiler/frontend/Weights.h"
#include "compiler/halide/Emit.h"
#include "compiler/program/Program.h"
#include "compiler/target/TargetDescription.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/ScheduleCache.h"
#include "compiler/tuning/Tuner.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <chrono>
#include <map>

using namespace vitc;
namespace cl = llvm::cl;

static cl::OptionCategory modelCategory("Model description");
static cl::OptionCategory weightsCategory("Weights");
static cl::OptionCategory outputCategory("Output");
static cl::OptionCategory tuningCategory("Tuning");

static cl::opt<std::string>
    modelName("model",
              cl::desc("Built-in model (vit-b16, deit-s16, "
                       "vit_base_patch16_384, ...)"),
              cl::value_desc("name"), cl::cat(modelCategory));
static cl::opt<std::string> configPath(
    "config",
    cl::desc(
        "Model config: Hugging Face config.json, or timm VisionTransformer "
        "arguments as JSON with \"format\": \"timm\""),
    cl::value_desc("file"), cl::cat(modelCategory));
static cl::opt<std::string> nameOverride(
    "name",
    cl::desc("Model name used in messages and outputs (default: the zoo name)"),
    cl::value_desc("name"), cl::cat(modelCategory));
static cl::opt<std::string>
    imageSize("image-size",
              cl::desc("Input resolution: N or HxW (e.g. 384, 224x320)"),
              cl::value_desc("size"), cl::cat(modelCategory));
static cl::opt<int64_t>
    numClasses("num-classes",
               cl::desc("Classifier outputs (0: no head, return features)"),
               cl::cat(modelCategory));
static cl::opt<int64_t> channels("channels",
                                 cl::desc("Input channels (1 or 3)"),
                                 cl::cat(modelCategory));
static cl::opt<int64_t> representationSize(
    "representation-size",
    cl::desc("Width of a pre-logits Dense+tanh layer (0: none)"),
    cl::cat(modelCategory));
static cl::opt<std::string>
    activation("activation",
               cl::desc("MLP activation: gelu, gelu_tanh or relu"),
               cl::cat(modelCategory));
static cl::opt<float> layerNormEps("layer-norm-eps",
                                   cl::desc("LayerNorm epsilon"),
                                   cl::cat(modelCategory));
static cl::opt<bool>
    patchBias("patch-bias", cl::desc("Whether the patch projection has a bias"),
              cl::cat(modelCategory));
static cl::opt<bool> qkvBias("qkv-bias",
                             cl::desc("Whether the QKV projection has a bias"),
                             cl::cat(modelCategory));

static cl::opt<std::string>
    weightsPath("weights",
                cl::desc("Checkpoint: .safetensors (timm or Hugging Face keys) "
                         "or official .npz"),
                cl::value_desc("file"), cl::cat(weightsCategory));
static cl::opt<uint64_t>
    randomSeed("random-weights",
               cl::desc("Make deterministic random weights from a seed"),
               cl::value_desc("seed"), cl::cat(weightsCategory));
static cl::opt<bool>
    allowUnused("allow-unused-weights",
                cl::desc("Report checkpoint tensors the model does not use "
                         "as notes instead of failing"),
                cl::cat(weightsCategory));
static cl::opt<bool> allowNonFinite(
    "allow-non-finite-weights",
    cl::desc("Compile weights that hold NaN or infinite values (refused by "
             "default: they make every output NaN)"),
    cl::cat(weightsCategory));
static cl::opt<std::string> posEmbedResize(
    "pos-embed-resize",
    cl::desc("Position-embedding resize when the resolution differs from the "
             "checkpoint's: "
             "bicubic (timm), bicubic-no-antialias (Hugging Face), bilinear, "
             "bilinear-align-corners (official JAX), or none to refuse; "
             "default: the "
             "checkpoint library's own"),
    cl::value_desc("method"), cl::cat(weightsCategory));
static cl::opt<std::string> saveWeights(
    "save-weights",
    cl::desc("Write the model's weights (timm names, f32) as safetensors"),
    cl::value_desc("file"), cl::cat(weightsCategory));

enum class Emit {
  Mlir,
  FusedMlir,
  HalideStmt,
  Schedule,
  Lib,
  PosEmbedSimilarity,
  None
};
static cl::opt<Emit> emit(
    "emit", cl::desc("What to write"), cl::init(Emit::None),
    cl::values(
        clEnumValN(Emit::Mlir, "mlir",
                   "the model in primitive vit dialect ops"),
        clEnumValN(Emit::FusedMlir, "fused-mlir",
                   "the IR after the default pipeline: the kernels the backend "
                   "compiles, with their tiles"),
        clEnumValN(Emit::HalideStmt, "halide-stmt",
                   "each kernel's lowered Halide statement"),
        clEnumValN(
            Emit::Schedule, "schedule",
            "each kernel's loop nest as scheduled (Halide conceptual stmt)"),
        clEnumValN(Emit::Lib, "lib",
                   "a library (-o libNAME.a or libNAME.so), NAME.h, and with "
                   "weights NAME.safetensors beside it"),
        clEnumValN(Emit::PosEmbedSimilarity, "pos-embed-similarity",
                   "the cosine similarity of the patches' position embeddings "
                   "(needs weights): -o FILE.png draws the ViT paper's figure, "
                   "-o FILE.npy writes [gh, gw, gh, gw]"),
        clEnumValN(Emit::None, "none", "nothing")),
    cl::cat(outputCategory));
static cl::opt<bool>
    fusion("fusion",
           cl::desc("Run the fusion passes before the backend (default on)"),
           cl::init(true), cl::cat(outputCategory));
static cl::opt<bool> tune(
    "tune",
    cl::desc("Time each distinct kernel on this machine over its tile "
             "parameters and store the fastest tiles in the schedule cache "
             "(then --emit, if given, uses them)"),
    cl::cat(tuningCategory));
static cl::opt<std::string>
    budget("budget",
           cl::desc("Time --tune may take: seconds, or with s, m or h "
                    "(default 10m)"),
           cl::value_desc("time"), cl::init("10m"), cl::cat(tuningCategory));
static cl::opt<int64_t> tuneBatch(
    "tune-batch", cl::desc("Images per kernel call while tuning (default 1)"),
    cl::init(1), cl::cat(tuningCategory));
static cl::opt<bool> compareSchedules(
    "compare-schedules",
    cl::desc("Time each distinct kernel with the compiler's tile, the "
             "schedule cache's (where it has one) and Halide's "
             "autoschedulers (Adams2019, Li2018, Mullapudi2016) on the same "
             "algorithm; print a table, and with -o FILE.png plot it"),
    cl::cat(tuningCategory));
static cl::opt<double> peakGflops(
    "peak-gflops",
    cl::desc("--compare-schedules: this machine's peak (vitc-fma-peak), "
             "for % of peak and the plot"),
    cl::init(0), cl::cat(tuningCategory));
static cl::opt<std::string> scheduleCache(
    "schedule-cache",
    cl::desc("Directory of tiles measured by --tune, used whenever a "
             "kernel's key matches (default: $VITC_SCHEDULE_CACHE, else "
             "~/.cache/vitc/schedules; off: none)"),
    cl::value_desc("dir"), cl::cat(tuningCategory));
static cl::opt<std::string> attentionMaps(
    "attention-maps",
    cl::desc("The fused attention kernels also return the class token's "
             "attention per layer and head (vitrt_run_ex, vit-run "
             "--attention-maps; CPU targets); =rollout: and what attention "
             "rollout needs (every row's head mean: costs a second pass over "
             "the scores)"),
    cl::value_desc("class|rollout"), cl::ValueOptional,
    cl::cat(outputCategory));
static cl::opt<std::string>
    target("target",
           cl::desc("Halide target: host, x86-64-linux-avx2, "
                    "x86-64-linux-avx512_skylake, arm-64-linux, "
                    "host-cuda-cuda_capability_80, host-opencl, ..."),
           cl::init("host"), cl::cat(outputCategory));
static cl::opt<std::string> precision(
    "precision",
    cl::desc("Precision of the encoder's weight GEMMs: f32 (default), "
             "int8 (weights quantized per output channel when written, "
             "activations per token row in the kernels; CPU targets), or "
             "bf16 (weights and GEMM inputs rounded to bf16, f32 sums; "
             "targets with avx512_bf16 or amx_bf16)"),
    cl::value_desc("f32|int8|bf16"), cl::init("f32"), cl::cat(outputCategory));
static cl::opt<int> cores(
    "cores",
    cl::desc("Cores the tiles are planned for (default: this machine's; set "
             "it when compiling for another machine)"),
    cl::init(0), cl::cat(outputCategory));
static cl::opt<std::string> scheduleFile(
    "schedule-file",
    cl::desc("JSON file overriding the tiles vitc chooses, per kernel "
             "(see docs/PASSES.md, vit-select-tiles)"),
    cl::value_desc("file"), cl::cat(outputCategory));
static cl::opt<std::string> cCompiler(
    "cc", cl::desc("C compiler for the model description (default: $CC or cc)"),
    cl::value_desc("path"), cl::cat(outputCategory));
static cl::opt<bool> emulateAmx(
    "amx-emulation",
    cl::desc("Testing: AMX kernels run a scalar model of the tile "
             "instructions, so that a CPU without AMX runs them"),
    cl::Hidden, cl::cat(outputCategory));
static cl::opt<bool> noAmx(
    "no-amx",
    cl::desc("Leave AMX tiles out where the target has them (host on an AMX "
             "CPU, avx512_sapphirerapids): bf16 and int8 weight GEMMs then "
             "use vdpbf16ps and vpdpbusd"),
    cl::cat(outputCategory));
static cl::opt<std::string> outputPath("o",
                                       cl::desc("Output file ('-' for stdout)"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(outputCategory));
static cl::opt<bool> printLocations(
    "print-locations",
    cl::desc("With --emit=mlir, print each op's location (the model part)"),
    cl::cat(outputCategory));
static cl::opt<bool>
    printParams("print-params",
                cl::desc("Print the model's sizes and parameter counts"),
                cl::cat(outputCategory));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "vitc") << message << "\n";
  return 1;
}

static void note(const llvm::Twine &message) {
  llvm::WithColor::note(llvm::errs(), "vitc") << message << "\n";
}

static int fail(llvm::Error error) {
  return fail(llvm::toString(std::move(error)));
}

/// The model from --model or --config, with the flag overrides applied.
static llvm::Expected<ModelConfig> describeModel() {
  if (modelName.empty() == configPath.empty())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "give exactly one of --model and --config (see --help)");
  llvm::Expected<ModelConfig> config = modelName.empty()
                                           ? readConfigFile(configPath)
                                           : lookupZooModel(modelName);
  if (!config)
    return config.takeError();
  if (imageSize.getNumOccurrences()) {
    auto [h, w] = llvm::StringRef(imageSize).split('x');
    if (w.empty())
      w = h;
    if (h.getAsInteger(10, config->imageHeight) ||
        w.getAsInteger(10, config->imageWidth))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--image-size: expected N or HxW, got '" +
                                         imageSize + "'");
  }
  if (!nameOverride.empty())
    config->name = nameOverride;
  if (numClasses.getNumOccurrences())
    config->numClasses = numClasses;
  if (channels.getNumOccurrences())
    config->channels = channels;
  if (representationSize.getNumOccurrences())
    config->representationSize = representationSize;
  if (layerNormEps.getNumOccurrences())
    config->layerNormEps = layerNormEps;
  if (patchBias.getNumOccurrences())
    config->patchBias = patchBias;
  if (qkvBias.getNumOccurrences())
    config->qkvBias = qkvBias;
  if (activation.getNumOccurrences()) {
    if (activation == "gelu")
      config->activation = Activation::GeluErf;
    else if (activation == "gelu_tanh")
      config->activation = Activation::GeluTanh;
    else if (activation == "relu")
      config->activation = Activation::Relu;
    else
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "--activation: expected gelu, gelu_tanh or relu, got '" + activation +
              "'");
  }
  if (llvm::Error err = config->validate())
    return err;
  return config;
}

/// Sizes and parameter counts, grouped by model part (all blocks together).
/// The weights from --weights or --random-weights, checked against `config`.
/// An official .npz switches the default GELU to the tanh form JAX uses.
static llvm::Expected<std::optional<ModelWeights>>
loadWeights(ModelConfig &config) {
  BindOptions options;
  options.allowUnexpected = allowUnused;
  options.allowNonFinite = allowNonFinite;
  if (posEmbedResize == "none") {
    options.noResize = true;
  } else if (!posEmbedResize.empty()) {
    options.resize = parseResizeMethod(posEmbedResize);
    if (!options.resize)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--pos-embed-resize: expected bicubic, "
                                     "bicubic-no-antialias, bilinear, "
                                     "bilinear-align-corners or none, got '" +
                                         posEmbedResize + "'");
  }
  if (!weightsPath.empty() && randomSeed.getNumOccurrences())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "give at most one of --weights and --random-weights");
  if (randomSeed.getNumOccurrences())
    return randomWeights(config, randomSeed);
  if (weightsPath.empty())
    return std::nullopt;
  llvm::Expected<Checkpoint> checkpoint = readCheckpoint(weightsPath);
  if (!checkpoint)
    return checkpoint.takeError();
  llvm::Expected<CheckpointLayout> layout = detectLayout(*checkpoint);
  if (!layout)
    return layout.takeError();
  if (*layout == CheckpointLayout::Official && !modelName.empty() &&
      !activation.getNumOccurrences()) {
    config.activation = Activation::GeluTanh;
    note("official JAX checkpoint: using the tanh form of GELU, as JAX does "
         "(--activation=gelu for the erf form)");
  }
  std::vector<std::string> notes;
  llvm::Expected<ModelWeights> weights =
      bindWeights(config, std::move(*checkpoint), options, notes);
  for (const std::string &text : notes)
    note(text);
  if (!weights)
    return weights.takeError();
  return std::move(*weights);
}

static void writeParams(const ModelConfig &c, llvm::raw_ostream &os) {
  os << llvm::formatv(
      "model {0}: {1}x{2}x{3} input, patch {4}, {5} tokens, width {6}, "
      "depth {7}, heads {8}, mlp {9}, {10} pooling, {11}, {12} outputs\n",
      c.name, c.channels, c.imageHeight, c.imageWidth, c.patchSize,
      c.numTokens(), c.width, c.depth, c.heads, c.mlpDim,
      poolingName(c.pooling), activationName(c.activation), c.outputWidth());
  std::vector<std::pair<std::string, int64_t>> groups;
  int64_t total = 0;
  for (const ParamSpec &param : listParams(c)) {
    llvm::StringRef part = llvm::StringRef(param.name).split('.').first;
    std::string group = part == "blocks"
                            ? llvm::formatv("blocks (x{0})", c.depth).str()
                            : part.str();
    if (groups.empty() || groups.back().first != group)
      groups.push_back({group, 0});
    groups.back().second += param.numElements();
    total += param.numElements();
  }
  auto withCommas = [](int64_t n) {
    std::string digits = std::to_string(n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
      if (i && (digits.size() - i) % 3 == 0)
        out += ',';
      out += digits[i];
    }
    return out;
  };
  os << "parameters: " << withCommas(total) << "\n";
  if (precision == "int8")
    os << "precision: int8 (attention and MLP weights, 1 byte each, with a "
          "scale per output channel); patch embedding, norms and head f32\n";
  else if (precision == "bf16")
    os << "precision: bf16 (attention and MLP weights, 2 bytes each); "
          "patch embedding, norms and head f32\n";
  else
    os << "precision: f32\n";
  for (auto &[group, count] : groups)
    os << llvm::formatv("  {0,-14} {1,15}\n", group, withCommas(count));
}

/// The schedule cache vitc reads (--schedule-cache, else the default); ""
/// when it is off.
static std::string scheduleCacheDir() {
  if (scheduleCache.getNumOccurrences() == 0)
    return mlir::vit::defaultScheduleCacheDir();
  return scheduleCache == "off" ? std::string() : scheduleCache.getValue();
}

/// Describes --target (once: the module's #vit.target is what every later
/// stage reads), then runs the default pipeline (fusion unless
/// --fusion=false, then tiling, with the schedule cache's tiles unless
/// `withCache` is false) on `module`. The passes report their own errors.
static llvm::Error runDefaultPipeline(mlir::ModuleOp module,
                                      bool withCache = true) {
  llvm::Expected<mlir::vit::TargetAttr> machine =
      describeTarget(module.getContext(), target, cores, noAmx);
  if (!machine)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--target: " +
                                       llvm::toString(machine.takeError()));
  module->setAttr("vit.target", *machine);
  // Warnings (e.g. a schedule cache entry ignored) go to stderr like errors;
  // MLIR's default handler prints only errors.
  mlir::ScopedDiagnosticHandler warnings(
      module.getContext(), [](mlir::Diagnostic &diagnostic) {
        if (diagnostic.getSeverity() != mlir::DiagnosticSeverity::Warning)
          return mlir::failure();
        llvm::WithColor::warning(llvm::errs(), "vitc")
            << diagnostic.str() << " (at " << diagnostic.getLocation()
            << ")\n";
        return mlir::success();
      });
  mlir::PassManager pm(module.getContext());
  mlir::vit::DefaultPipelineOptions options;
  options.scheduleFile = scheduleFile;
  // The module's #vit.target (above) already has --cores and --no-amx: the
  // pipeline reads it rather than describing the target again.
  options.precision = precision;
  options.fusion = fusion;
  options.scheduleCache = withCache ? scheduleCacheDir() : std::string();
  options.attentionMaps = attentionMaps.getNumOccurrences() > 0;
  options.attentionRollout = attentionMaps == "rollout";
  mlir::vit::buildDefaultPipeline(pm, options);
  if (mlir::failed(pm.run(module)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the default pipeline failed (see above)");
  return llvm::Error::success();
}

/// The model's IR and its plan as kernel calls (which points into the IR).
struct PlannedModel {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  Program program;
};

static llvm::Expected<PlannedModel> planModel(mlir::MLIRContext &context,
                                              const ModelConfig &config,
                                              bool withCache = true) {
  PlannedModel planned;
  planned.module = buildModel(context, config);
  if (mlir::failed(mlir::verify(*planned.module)))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "internal error: the emitted IR does not verify");
  if (llvm::Error err = runDefaultPipeline(*planned.module, withCache))
    return err;
  llvm::Expected<Program> program =
      buildProgram(planned.module->lookupSymbol<mlir::func::FuncOp>("forward"));
  if (!program)
    return program.takeError();
  planned.program = std::move(*program);
  return planned;
}

/// vitc --compare-schedules: each distinct kernel timed with the compiler's
/// tile, the cache's, and each of Halide's CPU autoschedulers. 0 on success.
static int runScheduleComparison(const ModelConfig &config) {
  if (outputPath != "-" && !llvm::StringRef(outputPath).ends_with(".png"))
    return fail("-o with --compare-schedules draws a plot: give FILE.png, "
                "got '" + outputPath + "'");
  mlir::MLIRContext context, cachedContext;
  llvm::Expected<PlannedModel> planned =
      planModel(context, config, /*withCache=*/false);
  if (!planned)
    return fail(planned.takeError());
  const Program &program = planned->program;
  if (program.target.isGpu())
    return fail("--compare-schedules times kernels on this machine's CPU; "
                "GPU targets cannot be compared here yet");
  // The same model with the cache's tiles: the same kernels, in order.
  const bool withCache = !scheduleCacheDir().empty();
  std::optional<PlannedModel> cached;
  if (withCache) {
    llvm::Expected<PlannedModel> planned = planModel(cachedContext, config);
    if (!planned)
      return fail(planned.takeError());
    cached = std::move(*planned);
  }
  const Program &tuned = cached ? cached->program : program;
  const std::vector<std::string> autoschedulers = {"Adams2019", "Li2018",
                                                   "Mullapudi2016"};
  BarChart chart;
  chart.title = config.name + ": GFLOP/s per kernel, batch " +
                std::to_string(tuneBatch);
  chart.subtitle = mlir::vit::hostCpuName() + ", " +
                   std::to_string(program.target.getCores()) + " cores";
  chart.unit = "GFLOP/s";
  chart.series = {"vitc"};
  if (withCache)
    chart.series.push_back("vitc tuned");
  chart.series.insert(chart.series.end(), autoschedulers.begin(),
                      autoschedulers.end());
  if (peakGflops > 0) {
    chart.reference = peakGflops;
    chart.referenceLabel = llvm::formatv("peak {0:f0}", peakGflops.getValue());
  }
  llvm::outs() << llvm::formatv("{0} on {1}, batch {2}: ms per call "
                                "(GFLOP/s{3})\n",
                                config.name, mlir::vit::hostCpuName(),
                                tuneBatch.getValue(),
                                peakGflops > 0 ? ", % of peak" : "");
  llvm::outs() << llvm::formatv("{0,-24} {1,5}", "kernel", "calls");
  for (const std::string &name : chart.series)
    llvm::outs() << llvm::formatv(" {0,24}", name);
  llvm::outs() << "\n";
  std::vector<std::string> notes;
  for (auto [k, kernel] : llvm::enumerate(program.kernels)) {
    int calls = 0;
    for (const ProgramStep &step : program.steps)
      calls += step.kernel == static_cast<int>(k);
    const double flops = kernel.flopsPerImage * tuneBatch;
    std::vector<double> rates;
    llvm::outs() << llvm::formatv("{0,-24} {1,5}", kernel.name, calls);
    auto report = [&](const std::string &series,
                      llvm::Expected<double> seconds) {
      if (!seconds) {
        notes.push_back(kernel.name + ", " + series + ": " +
                        llvm::toString(seconds.takeError()));
        rates.push_back(NAN);
        llvm::outs() << llvm::formatv(" {0,24}", "failed");
        return;
      }
      const double rate = flops / *seconds / 1e9;
      rates.push_back(flops > 0 ? rate : NAN);
      std::string cell =
          flops > 0 && peakGflops > 0
              ? llvm::formatv("{0:f3} ({1:f0}, {2:f0}%)", 1e3 * *seconds, rate,
                              100 * rate / peakGflops)
                    .str()
          : flops > 0 ? llvm::formatv("{0:f3} ({1:f0})", 1e3 * *seconds, rate).str()
                      : llvm::formatv("{0:f3}", 1e3 * *seconds).str();
      llvm::outs() << llvm::formatv(" {0,24}", cell);
      llvm::outs().flush();
    };
    const double seconds = 0.25;
    llvm::errs() << llvm::formatv("[{0}/{1}] {2}\n", k + 1,
                                  program.kernels.size(), kernel.name);
    report("vitc", timeKernel(kernel.op, program, tuneBatch, seconds));
    if (withCache) {
      mlir::Operation *op = tuned.kernels[k].op;
      if (op->hasAttr("vit.tile_source"))
        report("vitc tuned", timeKernel(op, tuned, tuneBatch, seconds));
      else
        report("vitc tuned",
               llvm::createStringError(llvm::inconvertibleErrorCode(),
                                       "not in the schedule cache"));
    }
    for (const std::string &name : autoschedulers)
      report(name, timeKernel(kernel.op, program, tuneBatch, seconds, name));
    llvm::outs() << "\n";
    chart.groups.push_back(kernel.name);
    chart.values.push_back(rates);
  }
  for (const std::string &note : notes)
    llvm::outs() << "  " << note << "\n";
  if (outputPath != "-") {
    if (llvm::Error err = writePng(outputPath, drawBarChart(chart), chart.title))
      return fail(std::move(err));
    llvm::outs() << "plot: " << outputPath << "\n";
  }
  return 0;
}

/// "600", "600s", "10m", "1h" in seconds; nothing when it is not one.
static std::optional<double> parseDuration(llvm::StringRef text) {
  double scale = 1;
  if (text.consume_back("s"))
    scale = 1;
  else if (text.consume_back("m"))
    scale = 60;
  else if (text.consume_back("h"))
    scale = 3600;
  double value;
  if (text.empty() || text.getAsDouble(value) || value <= 0)
    return std::nullopt;
  return value * scale;
}

/// Writes the tuned tiles as a schedule file (-o FILE.json with --tune):
/// each kernel op's location with its kernel's tile, which --schedule-file
/// reads back on any machine.
static int writeTunedScheduleFile(const Program &program,
                                  const std::vector<KernelTuning> &results) {
  if (!llvm::StringRef(outputPath).ends_with(".json"))
    return fail("-o with --tune writes a schedule file: give FILE.json, got '" +
                outputPath + "'");
  mlir::ModuleOp module =
      program.kernels.front().op->getParentOfType<mlir::ModuleOp>();
  llvm::StringMap<mlir::Attribute> byKernel;
  for (auto [kernel, result] : llvm::zip(program.kernels, results))
    byKernel[mlir::vit::scheduleCacheKey(kernel.op, program.target).kernel] =
        result.bestTile;
  llvm::json::Object file;
  std::string missing;
  module.walk([&](mlir::vit::KernelOpInterface op) {
    auto location = mlir::dyn_cast<mlir::NameLoc>(op->getLoc());
    auto tile = byKernel.find(
        mlir::vit::scheduleCacheKey(op, program.target).kernel);
    if (!location || tile == byKernel.end()) {
      missing = op->getName().getStringRef().str();
      return;
    }
    llvm::json::Object settings;
    for (auto &[name, value] : mlir::vit::tileSettings(tile->second))
      settings[name] = std::move(value);
    file[location.getName().strref()] = std::move(settings);
  });
  if (!missing.empty())
    return fail("internal error: a " + missing +
                " kernel has no location name to write its tile under");
  std::error_code ec;
  llvm::raw_fd_ostream os(outputPath, ec);
  if (ec)
    return fail("-o: cannot write '" + outputPath + "': " + ec.message());
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(file))) << "\n";
  llvm::outs() << "schedule file: " << outputPath << "\n";
  return 0;
}

/// vitc --tune: times the model's kernels over their tiles, stores the best
/// in the schedule cache and prints what it found. 0 on success.
static int runTuning(const ModelConfig &config) {
  std::optional<double> seconds = parseDuration(budget);
  if (!seconds)
    return fail("--budget: expected a time such as 600, 90s, 10m or 1h, "
                "got '" + budget + "'");
  TuneOptions options;
  options.cacheDir = scheduleCacheDir();
  if (options.cacheDir.empty())
    return fail("--tune stores its tiles in the schedule cache, which is off; "
                "give --schedule-cache DIR");
  options.budgetSeconds = *seconds;
  options.batch = tuneBatch;
  options.progress = &llvm::errs();
  if (outputPath != "-" && emit == Emit::None &&
      !llvm::StringRef(outputPath).ends_with(".json"))
    return fail("-o with --tune writes a schedule file: give FILE.json, got '" +
                outputPath + "'");
  const auto start = std::chrono::steady_clock::now();
  mlir::MLIRContext context;
  // From the compiler's own tiles, whatever the cache holds now.
  llvm::Expected<PlannedModel> planned =
      planModel(context, config, /*withCache=*/false);
  if (!planned)
    return fail(planned.takeError());
  llvm::Expected<std::vector<KernelTuning>> results =
      tuneProgram(planned->program, options);
  if (!results)
    return fail(results.takeError());
  llvm::outs() << llvm::formatv(
      "{0} on {1}, batch {2}; tiles stored in {3}\n", config.name,
      mlir::vit::hostCpuName(), tuneBatch.getValue(), options.cacheDir);
  llvm::outs() << llvm::formatv("{0,-24} {1,5} {2,11} {3,11} {4,8} {5,10}\n",
                                "kernel", "calls", "default ms", "tuned ms",
                                "speedup", "candidates");
  double before = 0, after = 0;
  for (const KernelTuning &r : *results) {
    llvm::outs() << llvm::formatv(
        "{0,-24} {1,5} {2,11:f3} {3,11:f3} {4,7:f2}x {5,10}\n", r.kernel,
        r.calls, 1e3 * r.defaultSeconds, 1e3 * r.bestSeconds,
        r.defaultSeconds / r.bestSeconds, r.candidates);
    if (r.bestTile != r.defaultTile)
      llvm::outs() << "    " << r.defaultTile << "\n -> " << r.bestTile
                   << "\n";
    before += r.calls * r.defaultSeconds;
    after += r.calls * r.bestSeconds;
  }
  llvm::outs() << llvm::formatv(
      "kernels of one run: {0:f2} ms with the compiler's tiles, {1:f2} ms "
      "tuned ({2:f2}x)\n",
      1e3 * before, 1e3 * after, before / after);
  llvm::outs() << llvm::formatv(
      "tuned in {0:f1} s (budget {1:f0} s)\n",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count(),
      *seconds);
  if (outputPath != "-" && emit == Emit::None)
    return writeTunedScheduleFile(planned->program, *results);
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(
      {&modelCategory, &weightsCategory, &outputCategory, &tuningCategory});
  cl::ParseCommandLineOptions(
      argc, argv,
      "vitc: compiles Vision Transformer models\n\n"
      "Examples:\n"
      "  vitc --model vit-b16 --print-params\n"
      "  vitc --model vit-b16 --image-size 384 --emit=mlir -o vit_b16.mlir\n"
      "  vitc --config config.json --weights model.safetensors --save-weights "
      "w.safetensors\n"
      "  vitc --model vit-b16 --weights ViT-B_16.npz --image-size 384 "
      "--emit=mlir\n\n"
      "Built-in models: " +
          llvm::join(zooModelNames(), ", ") + "\n");

  llvm::Expected<ModelConfig> config = describeModel();
  if (!config)
    return fail(config.takeError());
  if (precision != "f32" && precision != "int8" && precision != "bf16")
    return fail("--precision: expected f32, int8 or bf16, got '" + precision +
                "'");
  if (precision != "f32" && !fusion)
    return fail("--precision " + precision +
                " applies to the fused attention and MLP kernels; it needs "
                "--fusion (the default)");
  if (attentionMaps.getNumOccurrences() > 0 && attentionMaps != "" &&
      attentionMaps != "class" && attentionMaps != "rollout")
    return fail("--attention-maps: expected class (the default) or rollout, "
                "got '" + attentionMaps + "'");
  if (attentionMaps.getNumOccurrences() > 0 && !fusion)
    return fail("--attention-maps come from the fused attention kernels; it "
                "needs --fusion (the default)");

  llvm::Expected<std::optional<ModelWeights>> weights = loadWeights(*config);
  if (!weights)
    return fail(weights.takeError());
  if (!saveWeights.empty()) {
    if (!*weights)
      return fail("--save-weights needs --weights or --random-weights");
    std::vector<std::pair<std::string, const Tensor *>> tensors;
    for (const auto &[name, tensor] : **weights)
      tensors.push_back({name, &tensor});
    if (llvm::Error err = writeSafetensors(
            saveWeights, tensors,
            {{"vitc.model", config->name}, {"vitc.layout", "timm-f32"}}))
      return fail(std::move(err));
  }

  if (emit == Emit::PosEmbedSimilarity) {
    llvm::StringRef out = outputPath;
    if (!out.ends_with(".png") && !out.ends_with(".npy"))
      return fail("--emit=pos-embed-similarity needs -o FILE.png (the figure) "
                  "or -o FILE.npy (the similarities)");
    if (!*weights)
      return fail("--emit=pos-embed-similarity needs --weights (or "
                  "--random-weights)");
    llvm::Expected<Tensor> similarity = posEmbedSimilarity(*config, **weights);
    if (!similarity)
      return fail(similarity.takeError());
    if (out.ends_with(".npy")) {
      if (llvm::Error err = writeNpy(out, *similarity))
        return fail(std::move(err));
      return 0;
    }
    std::string title = config->name + ": position embedding similarity";
    if (llvm::Error err = writePng(
            out, drawPosEmbedSimilarity(*similarity, title), title))
      return fail(std::move(err));
    return 0;
  }

  if ((tune || compareSchedules) && (tuneBatch < 1 || tuneBatch > 4096))
    return fail("--tune-batch: expected 1 to 4096 images, got " +
                std::to_string(tuneBatch));
  if (tune) {
    if (int status = runTuning(*config))
      return status;
    if (emit == Emit::None)
      return 0;
  }
  if (compareSchedules)
    return runScheduleComparison(*config);

  if (emit == Emit::Lib) {
    if (outputPath == "-")
      return fail("--emit=lib needs -o libNAME.a or -o libNAME.so");
    // Checked before the minutes of compiling, not by the linker at the end.
    llvm::StringRef outputDir = llvm::sys::path::parent_path(outputPath);
    if (!outputDir.empty() && !llvm::sys::fs::is_directory(outputDir))
      return fail("-o: cannot write '" + outputPath + "': no directory '" +
                  outputDir + "'");
    if (printParams)
      writeParams(*config, llvm::errs());
    mlir::MLIRContext context;
    llvm::Expected<PlannedModel> planned = planModel(context, *config);
    if (!planned)
      return fail(planned.takeError());
    LibraryOptions options;
    options.output = outputPath;
    options.cCompiler = cCompiler;
    options.progress = llvm::sys::Process::StandardErrIsDisplayed();
    options.emulateAmx = emulateAmx;
    const ModelWeights *modelWeights = *weights ? &**weights : nullptr;
    if (llvm::Error err =
            emitLibrary(planned->program, modelWeights, options))
      return fail(std::move(err));
    return 0;
  }

  std::string error;
  auto output = mlir::openOutputFile(outputPath, &error);
  if (!output)
    return fail(error);
  if (printParams)
    writeParams(*config, emit == Emit::None ? output->os() : llvm::errs());
  if (emit == Emit::HalideStmt || emit == Emit::Schedule) {
    mlir::MLIRContext context;
    llvm::Expected<PlannedModel> planned = planModel(context, *config);
    if (!planned)
      return fail(planned.takeError());
    if (llvm::Error err = emitHalideStmt(planned->program,
                                         emit == Emit::Schedule, output->os()))
      return fail(std::move(err));
  }
  if (emit == Emit::Mlir || emit == Emit::FusedMlir) {
    mlir::MLIRContext context;
    mlir::OwningOpRef<mlir::ModuleOp> module = buildModel(context, *config);
    if (mlir::failed(mlir::verify(*module)))
      return fail("internal error: the emitted IR does not verify");
    if (emit == Emit::FusedMlir) {
      if (llvm::Error err = runDefaultPipeline(*module))
        return fail(std::move(err));
    }
    module->print(output->os(),
                  mlir::OpPrintingFlags().enableDebugInfo(printLocations));
  }
  // A failed write is reported with the file's name, not by the stream's
  // destructor as a fatal "IO failure on output stream".
  output->os().flush();
  if (std::error_code failed = output->os().error()) {
    output->os().clear_error();
    return fail("-o: cannot write '" + outputPath + "': " + failed.message());
  }
  output->keep();
  return 0;
}
