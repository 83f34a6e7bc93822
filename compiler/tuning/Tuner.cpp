//===- Tuner.cpp - tiles measured on this machine (vitc --tune) -----------===//

#include "compiler/tuning/Tuner.h"

#include "compiler/halide/Kernels.h"
#include "compiler/target/TargetDescription.h"
#include "compiler/transforms/ScheduleCache.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <random>
#include <set>

#ifdef VITC_HAS_AMX_GEMM
// runtime/model/amx_gemm.c, which the bf16 and int8 kernels of AMX targets
// call.
extern "C" int vitc_amx_bf16_gemm(halide_buffer_t *lhs, halide_buffer_t *weight,
                                  int k, halide_buffer_t *out);
extern "C" int vitc_amx_int8_gemm(halide_buffer_t *lhs, halide_buffer_t *weight,
                                  int k, halide_buffer_t *out);
#endif

using namespace vitc;
using mlir::vit::TileAttrInterface;
using mlir::vit::TileParameter;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

llvm::Error tuneError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// A buffer of `type` and `extents` (innermost first) of random values in
/// [-1, 1] (integers: [-63, 63]): what the kernel computes on does not change
/// its time, but NaNs or denormals could.
Halide::Buffer<> randomBuffer(Halide::Type type, const std::vector<int> &extents,
                              std::mt19937_64 &random) {
  Halide::Buffer<> buffer(type, extents);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const size_t count = buffer.number_of_elements();
  if (type == Halide::Float(32)) {
    float *data = static_cast<float *>(buffer.data());
    for (size_t i = 0; i < count; ++i)
      data[i] = uniform(random);
  } else if (type == Halide::BFloat(16)) {
    uint16_t *data = static_cast<uint16_t *>(buffer.data());
    for (size_t i = 0; i < count; ++i) {
      float value = uniform(random);
      uint32_t bits;
      std::memcpy(&bits, &value, sizeof bits);
      data[i] = static_cast<uint16_t>(bits >> 16);
    }
  } else if (type.bits() == 8) {
    int8_t *data = static_cast<int8_t *>(buffer.data());
    for (size_t i = 0; i < count; ++i)
      data[i] = static_cast<int8_t>(std::lround(uniform(random) * 63));
  } else {
    std::memset(buffer.data(), 0, buffer.size_in_bytes());
  }
  return buffer;
}

/// The extents a kernel input was declared with, the batch for the free one.
std::vector<int> declaredExtents(const Halide::ImageParam &param, int64_t batch) {
  std::vector<int> extents;
  for (int d = 0; d < param.dimensions(); ++d) {
    Halide::Expr extent = param.parameter().extent_constraint(d);
    std::optional<int64_t> value =
        extent.defined() ? Halide::Internal::as_const_int(extent) : std::nullopt;
    extents.push_back(static_cast<int>(value ? *value : batch));
  }
  return extents;
}

/// The values a tile parameter steps through, smallest first.
std::vector<int64_t> ladder(const TileParameter &p, int64_t vector) {
  llvm::StringRef name = p.name;
  std::vector<int64_t> values;
  if (name.contains("columns")) {
    for (int64_t m = 1; m <= 6; ++m)
      values.push_back(m * vector);
  } else if (name == "query_rows") {
    values = {8, 16, 24, 32, 48, 64, 96, 128, 0}; // 0: all, the most
  } else {
    values = {1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 24, 32};
  }
  if (!llvm::is_contained(values, p.value)) {
    values.push_back(p.value);
    if (name != "query_rows")
      llvm::sort(values);
  }
  return values;
}

/// `tile` with parameter `index` one step up (`direction` 1) or down (-1) its
/// ladder (keywords: the next one), or null when there is no such step or
/// the tile does not verify.
mlir::Attribute step(mlir::Attribute tile, size_t index, int direction) {
  auto named = mlir::cast<TileAttrInterface>(tile);
  llvm::SmallVector<TileParameter> params = named.getTileParameters();
  TileParameter &p = params[index];
  if (p.name == "vector")
    return {}; // the target's lanes
  if (!p.keywords.empty()) {
    if (direction < 0)
      return {};
    p.value = (p.value + 1) % static_cast<int64_t>(p.keywords.size());
  } else {
    int64_t vector = 1;
    for (const TileParameter &q : params)
      if (q.name == "vector")
        vector = q.value;
    std::vector<int64_t> values = ladder(p, vector);
    auto at = llvm::find(values, p.value) - values.begin();
    at += direction;
    if (at < 0 || at >= static_cast<int64_t>(values.size()))
      return {};
    p.value = values[at];
  }
  // A tile that does not verify is no candidate: its diagnostic is dropped.
  mlir::MLIRContext *context = tile.getContext();
  mlir::ScopedDiagnosticHandler quiet(context, [](mlir::Diagnostic &) {
    return mlir::success();
  });
  return named.withTileParameters(params, [&] {
    return mlir::emitError(mlir::UnknownLoc::get(context));
  });
}

/// `tile` with about half its parameters moved up to 3 steps along their
/// ladders (keywords: any), or null when that does not verify.
mlir::Attribute jump(mlir::Attribute tile, std::mt19937_64 &random) {
  auto named = mlir::cast<TileAttrInterface>(tile);
  llvm::SmallVector<TileParameter> params = named.getTileParameters();
  int64_t vector = 1;
  for (const TileParameter &q : params)
    if (q.name == "vector")
      vector = q.value;
  std::uniform_int_distribution<int> coin(0, 1), offset(-3, 3);
  for (TileParameter &p : params) {
    if (p.name == "vector" || coin(random) == 0)
      continue;
    if (!p.keywords.empty()) {
      p.value = std::uniform_int_distribution<int64_t>(
          0, static_cast<int64_t>(p.keywords.size()) - 1)(random);
      continue;
    }
    std::vector<int64_t> values = ladder(p, vector);
    int64_t at = llvm::find(values, p.value) - values.begin() + offset(random);
    p.value = values[std::clamp<int64_t>(at, 0, values.size() - 1)];
  }
  mlir::MLIRContext *context = tile.getContext();
  mlir::ScopedDiagnosticHandler quiet(context, [](mlir::Diagnostic &) {
    return mlir::success();
  });
  return named.withTileParameters(params, [&] {
    return mlir::emitError(mlir::UnknownLoc::get(context));
  });
}

std::string today() {
  std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

} // namespace

/// Loads Halide's plugin of autoscheduler `name` once.
static void loadAutoscheduler(llvm::StringRef name) {
  static std::set<std::string> loaded;
  if (!loaded.insert(name.str()).second)
    return;
  Halide::load_plugin(std::string(VITC_HALIDE_PLUGIN_DIR) + "/libautoschedule_" +
                      name.lower() + ".so");
}

llvm::Expected<double> vitc::timeKernel(mlir::Operation *op,
                                        const Program &program, int64_t batch,
                                        double seconds,
                                        llvm::StringRef autoscheduler) {
  llvm::Expected<std::vector<Halide::Target>> targets =
      halideTargets(program.target);
  if (!targets)
    return targets.takeError();
  if ((program.target.hasAmxBf16() || program.target.hasAmxInt8()) &&
      !requestAmxTileState())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "timing AMX kernels: Linux did not grant this process the AMX tile "
        "state (arch_prctl ARCH_REQ_XCOMP_PERM)");
  try {
    KernelDef def = defineKernel(op);
    std::vector<Halide::Buffer<>> outputs;
    for (mlir::Value result : op->getResults()) {
      auto type = mlir::cast<mlir::RankedTensorType>(result.getType());
      std::vector<int> extents;
      for (int64_t dim : llvm::reverse(type.getShape()))
        extents.push_back(static_cast<int>(
            mlir::ShapedType::isDynamic(dim) ? batch : dim));
      outputs.emplace_back(Halide::Float(32), extents);
    }
    Halide::Pipeline pipeline(def.outputs);
    if (autoscheduler.empty()) {
      scheduleCpu(def);
    } else {
      // What an autoscheduler plans for: every input's and output's extents.
      auto region = [](const std::vector<int> &extents) {
        Halide::Region r;
        for (int e : extents)
          r.push_back(Halide::Range(0, e));
        return r;
      };
      for (Halide::ImageParam &input : def.inputs)
        input.set_estimates(region(declaredExtents(input, batch)));
      for (auto [func, buffer] : llvm::zip(def.outputs, outputs)) {
        std::vector<int> extents;
        for (int d = 0; d < buffer.dimensions(); ++d)
          extents.push_back(buffer.dim(d).extent());
        func.set_estimates(region(extents));
      }
      loadAutoscheduler(autoscheduler);
      pipeline.apply_autoscheduler(
          targets->front(),
          Halide::AutoschedulerParams(
              autoscheduler.str(),
              {{"parallelism", std::to_string(program.target.getCores())}}));
    }
#ifdef VITC_HAS_AMX_GEMM
    pipeline.set_jit_externs(
        {{"vitc_amx_bf16_gemm", Halide::JITExtern(vitc_amx_bf16_gemm)},
         {"vitc_amx_int8_gemm", Halide::JITExtern(vitc_amx_int8_gemm)}});
#endif
    pipeline.compile_jit(targets->front());
    std::mt19937_64 random(1);
    for (Halide::ImageParam &input : def.inputs)
      input.set(randomBuffer(input.type(), declaredExtents(input, batch), random));
    Halide::Realization realization(outputs);
    pipeline.realize(realization); // warm: allocations, first touch
    double best = 1e30;
    auto start = Clock::now();
    for (int runs = 0; runs < 3 || secondsSince(start) < seconds; ++runs) {
      auto call = Clock::now();
      pipeline.realize(realization);
      best = std::min(best, secondsSince(call));
    }
    return best;
  } catch (const Halide::Error &error) {
    return tuneError(llvm::Twine("halide: ") + error.what());
  }
}

llvm::Expected<std::vector<KernelTuning>>
vitc::tuneProgram(const Program &program, const TuneOptions &options) {
  if (program.target.isGpu())
    return tuneError("--tune measures kernels on this machine's CPU; GPU "
                     "targets cannot be tuned here yet");
  llvm::Expected<mlir::vit::TargetAttr> host = describeTarget(
      program.target.getContext(), "host", program.target.getCores());
  if (!host)
    return host.takeError();
  if (!mlir::vit::bitEnumContainsAll(host->getFeatures(),
                                     program.target.getFeatures()))
    return tuneError("--tune measures kernels on this machine, which cannot "
                     "run code for " +
                     program.target.getTarget() +
                     "; tune on a machine that can (or for --target host)");
  llvm::raw_ostream &log = options.progress ? *options.progress : llvm::nulls();
  const auto start = Clock::now();
  auto left = [&] { return options.budgetSeconds - secondsSince(start); };

  std::vector<KernelTuning> results(program.kernels.size());
  for (const ProgramStep &s : program.steps)
    ++results[s.kernel].calls;
  // The compiler's tiles first: they are the baseline, and their times
  // share the budget out.
  for (auto [k, kernel] : llvm::enumerate(program.kernels)) {
    KernelTuning &r = results[k];
    r.kernel = kernel.name;
    r.defaultTile = r.bestTile = kernel.op->getAttr("vit.tile");
    log << llvm::formatv("[{0}/{1}] {2}: timing the compiler's tile\n", k + 1,
                         program.kernels.size(), kernel.name);
    llvm::Expected<double> t =
        timeKernel(kernel.op, program, options.batch, options.secondsPerTiming);
    if (!t)
      return tuneError(kernel.name + ": " + llvm::toString(t.takeError()));
    r.defaultSeconds = r.bestSeconds = *t;
    r.candidates = 1;
  }
  double total = 0;
  for (const KernelTuning &r : results)
    total += r.defaultSeconds * r.calls;
  // The slowest kernels (time x calls) first, each with its share.
  std::vector<size_t> order(results.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::sort(order, [&](size_t a, size_t b) {
    return results[a].defaultSeconds * results[a].calls >
           results[b].defaultSeconds * results[b].calls;
  });
  const double searchBudget = std::max(0.0, left());
  for (auto [position, k] : llvm::enumerate(order)) {
    const ProgramKernel &kernel = program.kernels[k];
    KernelTuning &r = results[k];
    mlir::Operation *op = kernel.op;
    const mlir::Attribute original = op->getAttr("vit.tile");
    mlir::Attribute best = original;
    // One call's time with `tile` on the op; never (1e30) when it fails.
    auto timeTile = [&](mlir::Attribute tile) {
      op->setAttr("vit.tile", tile);
      return timeKernel(op, program, options.batch, options.secondsPerTiming);
    };
    auto timeOrNever = [&](mlir::Attribute tile) {
      llvm::Expected<double> t = timeTile(tile);
      if (t)
        return *t;
      llvm::consumeError(t.takeError());
      return 1e30;
    };
    const double share =
        searchBudget * r.defaultSeconds * r.calls / std::max(total, 1e-12);
    const auto kernelStart = Clock::now();
    llvm::DenseSet<mlir::Attribute> seen{original}; // attributes are uniqued
    mlir::vit::ScheduleCacheKey key =
        mlir::vit::scheduleCacheKey(op, program.target);
    auto store = [&](mlir::Attribute tile, double seconds) {
      llvm::json::Object measured{{"seconds", seconds},
                                  {"default_seconds", r.defaultSeconds},
                                  {"candidates", r.candidates},
                                  {"batch", options.batch},
                                  {"when", today()}};
      if (llvm::Error err = mlir::vit::storeSchedule(options.cacheDir, key, tile,
                                                     std::move(measured)))
        log << "  cannot store: " << llvm::toString(std::move(err)) << "\n";
    };
    // What one candidate costs (compiling and timing it), so that the search
    // stops in time for the final comparison (4 more) within the share.
    double candidateCost = 0;
    auto inTime = [&] {
      const double reserve = 5 * candidateCost;
      return secondsSince(kernelStart) + reserve < share &&
             left() > reserve;
    };
    // Times `candidate` (if new and valid); true when it beats the best by
    // 2% at least (the machine's noise is not an improvement).
    auto tryTile = [&](mlir::Attribute candidate) {
      if (!candidate || !seen.insert(candidate).second)
        return false;
      const auto candidateStart = Clock::now();
      llvm::Expected<double> t = timeTile(candidate);
      candidateCost = std::max(candidateCost, secondsSince(candidateStart));
      ++r.candidates;
      if (!t) {
        log << "  " << candidate << ": "
            << llvm::toString(t.takeError()) << "\n";
        return false;
      }
      log << llvm::formatv("[{0}/{1}] {2}: {3} candidates, best {4:f3} ms (the "
                           "compiler's {5:f3}), {6:f0} s left\n",
                           position + 1, order.size(), kernel.name,
                           r.candidates, 1e3 * std::min(r.bestSeconds, *t),
                           1e3 * r.defaultSeconds, std::max(0.0, left()));
      if (*t >= 0.98 * r.bestSeconds)
        return false;
      // The best so far timed again: a busy moment of this shared machine
      // made it look slower than it is, not the candidate faster.
      r.bestSeconds = std::min(r.bestSeconds, timeOrNever(best));
      if (best == original)
        r.defaultSeconds = std::min(r.defaultSeconds, r.bestSeconds);
      if (*t >= 0.98 * r.bestSeconds)
        return false;
      best = candidate;
      r.bestSeconds = *t;
      store(best, r.bestSeconds);
      return true;
    };
    // A hill climb: each parameter stepped up and down its ladder, further
    // while it pays, until a pass over them all finds nothing.
    auto climb = [&] {
      bool improved = true;
      while (improved && inTime()) {
        improved = false;
        const size_t count =
            mlir::cast<TileAttrInterface>(best).getTileParameters().size();
        for (size_t index = 0; index < count; ++index)
          for (int direction : {1, -1})
            while (inTime() && tryTile(step(best, index, direction)))
              improved = true;
      }
    };
    climb();
    // Then, while the share lasts, jumps of several parameters at once
    // (one-step moves cannot reach, say, fewer columns with more rows), and
    // a climb from any jump that wins.
    // (Jumps that repeat a tile or do not verify cost nothing; a kernel
    // whose whole neighbourhood has been timed stops early.)
    std::mt19937_64 random(k + 1);
    for (int misses = 0; inTime() && misses < 2000;) {
      const int before = r.candidates;
      if (tryTile(jump(best, random))) {
        climb();
        misses = 0;
      } else if (r.candidates == before) {
        ++misses;
      }
    }
    // The winner against the compiler's tile, alternating, so that a lucky
    // run does not replace it.
    if (best != original) {
      double tuned = 1e30, untuned = 1e30;
      for (int round = 0; round < 2; ++round) {
        untuned = std::min(untuned, timeOrNever(original));
        tuned = std::min(tuned, timeOrNever(best));
      }
      r.defaultSeconds = untuned;
      r.bestSeconds = tuned;
      if (tuned >= untuned) {
        best = original;
        r.bestSeconds = untuned;
      }
    }
    // The compiler's tile is stored too when it won: the kernel is tuned.
    store(best, r.bestSeconds);
    r.bestTile = best;
    op->setAttr("vit.tile", original);
  }
  return results;
}
