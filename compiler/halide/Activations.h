//===- Activations.h - elementwise activation math for vit kernels --------===//
//
// The expressions behind GELU (both forms), shared by the primitive op, the
// fused MLP's epilogue and every target. Own file so the kernel tests can
// check them against an independent reference without the MLIR side.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_HALIDE_ACTIVATIONS_H
#define VITC_COMPILER_HALIDE_ACTIVATIONS_H

#include "Halide.h"

namespace vitc {

/// erf(x) in float32 to within 1.6e-7 everywhere (one division, no select).
Halide::Expr fastErf(Halide::Expr x);

/// x/2 * (1 + erf(x / sqrt 2)), PyTorch's default GELU.
Halide::Expr geluErf(Halide::Expr x);

/// x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), GELU(approximate="tanh").
Halide::Expr geluTanh(Halide::Expr x);

} // namespace vitc

#endif // VITC_COMPILER_HALIDE_ACTIVATIONS_H
