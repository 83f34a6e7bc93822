//===- Tuner.h - tiles measured on this machine (vitc --tune) -------------===//
//
// Each distinct kernel of a program is compiled alone (Halide JIT) and timed
// on random inputs of the shapes it will see, over its tile parameters (a
// hill climb from the compiler's tile, one parameter step at a time, then
// random jumps of several parameters at once) within a time budget; the fastest tile goes to the schedule cache as soon as it
// is found, so an interrupted run keeps what it measured.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_TUNING_TUNER_H
#define VITC_COMPILER_TUNING_TUNER_H

#include "compiler/program/Program.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace vitc {

struct TuneOptions {
  std::string cacheDir;       // where the tiles go (ScheduleCache.h)
  double budgetSeconds = 600; // for the whole program, compiling included
  int64_t batch = 1;          // images per kernel call
  double secondsPerTiming = 0.25; // each candidate runs at least this long
  llvm::raw_ostream *progress = nullptr;
};

/// What tuning found for one kernel.
struct KernelTuning {
  std::string kernel;           // e.g. k1_fused_attention
  int calls = 0;                // calls per run of the model
  mlir::Attribute defaultTile, bestTile; // the compiler's, the fastest
  double defaultSeconds = 0, bestSeconds = 0; // per call, best of its runs
  int candidates = 0;           // tiles timed, the compiler's included
};

/// Tunes every distinct kernel of `program` (tiled for a CPU target this
/// machine runs), storing each kernel's fastest tile in the cache; the ops'
/// tiles are left as they were.
llvm::Expected<std::vector<KernelTuning>>
tuneProgram(const Program &program, const TuneOptions &options);

/// The time of one call of kernel op `op` with its current tile, JIT-compiled
/// for the program's first target and run on random inputs of `batch`
/// images: the best of the runs made in `seconds` (at least 3). With an
/// `autoscheduler` (Adams2019, Li2018, Mullapudi2016), that Halide
/// autoscheduler schedules the kernel's algorithm instead of vitc's
/// schedule (its plugin loaded from Halide's library directory).
llvm::Expected<double> timeKernel(mlir::Operation *op,
                                  const Program &program, int64_t batch,
                                  double seconds,
                                  llvm::StringRef autoscheduler = {});

} // namespace vitc

#endif // VITC_COMPILER_TUNING_TUNER_H
