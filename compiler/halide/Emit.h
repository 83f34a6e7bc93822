//===- Emit.h - compiling a Program with Halide into a library ------------===//
//
// Every distinct kernel becomes a Halide pipeline compiled ahead of time for
// the target; with the Halide runtime and a small generated C file that
// describes the model to libvitrt (runtime/include/vitrt_model.h), they form
// a static or shared library, a header for users, and the weights file in
// the layout the kernels read.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_HALIDE_EMIT_H
#define VITC_COMPILER_HALIDE_EMIT_H

#include "compiler/program/Program.h"
#include "support/Tensor.h"

#include "llvm/Support/raw_ostream.h"

namespace vitc {

/// How to write a library; the target is the program's (#vit.target).
struct LibraryOptions {
  std::string output;    // lib<name>.a or lib<name>.so
  std::string cCompiler; // compiles the model description; default $CC or cc
  bool progress = false; // report each kernel on stderr
  // Testing: AMX kernels run a scalar model of the tile instructions
  // (runtime/model/amx_gemm.c), so that hosts without AMX run them.
  bool emulateAmx = false;
};

/// Writes the library, `<name>.h` and, with weights, `<name>.safetensors`
/// next to it. `<name>` is the output's file name without `lib` and the
/// extension; the header declares `const vitrt_model_desc *<name>_model(void)`.
/// The weights (by parameter name, PyTorch layout) are rearranged into the
/// layout and element type each parameter is stored in.
llvm::Error emitLibrary(const Program &program, const NamedTensors *weights,
                        const LibraryOptions &options);

/// Writes the weights file a library compiled from `program` opens.
llvm::Error writeKernelWeights(const Program &program,
                               const NamedTensors &weights,
                               llvm::StringRef path);

/// Prints each kernel's lowered Halide statement (`conceptual`: the loop
/// nest the schedule makes, before vectorization and bounds lowering).
llvm::Error emitHalideStmt(const Program &program, bool conceptual,
                           llvm::raw_ostream &os);

} // namespace vitc

#endif // VITC_COMPILER_HALIDE_EMIT_H
