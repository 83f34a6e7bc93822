//===- Quantize.h - int8 weights from a checkpoint's f32 values ----------===//
//
// The values of the parameters vit-quantize-weights made: each output
// channel (row m of a weight [M, K...]) symmetric, q = round(w / scale) with
// scale = max|w[m]| / levels, rounding half to even; a zero row gets scale 1.
// The kernels undo it in their epilogue (docs/BACKEND.md, "int8").
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_PROGRAM_QUANTIZE_H
#define VITC_COMPILER_PROGRAM_QUANTIZE_H

#include "compiler/program/Program.h"

#include <map>

namespace vitc {

struct Int8Weight {
  Tensor values;             // I8, the weight's shape; integers in float
  std::vector<float> scales; // per output channel
  std::vector<float> sums;   // per output channel: the sum of its values
};

/// Quantizes `weight` ([M, K...], f32 values) into [-levels, levels].
Int8Weight quantizeWeight(const Tensor &weight, int levels);

/// The tensor stored for `param` in the weights file, in its stored layout,
/// from the model's (f32) parameters by name: int8 weights and their scales
/// quantized from the weight's values (once per weight, kept in
/// `quantized` between the two calls), the others as they are.
llvm::Expected<Tensor>
storedParam(const ProgramParam &param,
            const std::map<std::string, const Tensor *> &byName,
            std::map<std::string, Int8Weight> &quantized);

} // namespace vitc

#endif // VITC_COMPILER_PROGRAM_QUANTIZE_H
