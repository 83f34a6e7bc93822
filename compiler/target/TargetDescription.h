//===- TargetDescription.h - #vit.target from a Halide target -------------===//
//
// The one place that reads a target string: it is checked and described
// (vector width, registers, CPU features, cores, GPU API and limits) once,
// as the module's #vit.target, which tile selection, the program builder and
// the schedules then read. The backend turns the same attribute back into
// Halide targets to compile for.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_TARGET_TARGETDESCRIPTION_H
#define VITC_COMPILER_TARGET_TARGETDESCRIPTION_H

#include "dialect/VitDialect.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace Halide {
struct Target;
} // namespace Halide

namespace vitc {

/// Describes `target` (a Halide target string; several, comma-separated,
/// make a library with runtime dispatch, and the first one, the most
/// specific, is described) with tiles planned for `cores` cores (0: this
/// machine's; GPUs: 1). With `noAmx`, a target with AMX is described
/// without it (vitc --no-amx). Errors say what is wrong with the string.
llvm::Expected<mlir::vit::TargetAttr>
describeTarget(mlir::MLIRContext *context, llvm::StringRef target,
               int64_t cores, bool noAmx = false);

/// The Halide targets `target` names, in the order written (most specific
/// first, the baseline last, as Halide's runtime dispatch expects).
llvm::Expected<std::vector<Halide::Target>>
halideTargets(mlir::vit::TargetAttr target);

/// Asks Linux for the AMX tile state, which a process needs before it runs
/// AMX code (arch_prctl ARCH_REQ_XCOMP_PERM; vitrt_open does the same for a
/// library). False where it is refused or not Linux on x86-64.
bool requestAmxTileState();

/// The first of the Halide targets `target` names that lacks `feature`
/// ("" when every one has it).
llvm::Expected<std::string> firstTargetWithout(mlir::vit::TargetAttr target,
                                               mlir::vit::CpuFeatures feature);

/// The CPU features the kernels compiled for `target` may use, as GCC's
/// __builtin_cpu_supports names them ("avx2 fma f16c avx512f ..."), which
/// libvitrt checks when it opens a model: of the baseline target (the last),
/// since Halide's dispatch only runs the others where the CPU has them.
/// Empty where vitc has no check (targets other than x86). These are the
/// instruction-set extensions Halide's feature levels name; Halide's -mcpu
/// (haswell, znver4, sapphirerapids...) may let LLVM use a few more that every
/// CPU of that level has (BMI2, LZCNT, GFNI), and AVX10 targets are checked
/// only for the AVX-512 or AVX2 level they imply.
llvm::Expected<std::string> requiredCpuFeatures(mlir::vit::TargetAttr target);

} // namespace vitc

#endif // VITC_COMPILER_TARGET_TARGETDESCRIPTION_H
