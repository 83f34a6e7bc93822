//===- Activations.h - elementwise activation math for vit kernels --------===//
//
// The expressions behind GELU (both forms), softmax's exponential and the
// quantizers' rounding, shared
// by the primitive ops, the fused kernels and every target. Own file so the kernel tests can
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

/// e^x for x <= 0 (a softmax's x - max) to within 3 ulps (3.5e-7); below
/// -87, e^-87 (1.6e-38, still a normal float). Half the instructions of
/// Halide's exp, which handles every x.
Halide::Expr expNonPositive(Halide::Expr x);

/// i32(round(x)) (to nearest, ties to even) for |x| < 2^22, and the same
/// sign-saturated side for +-infinity: through the float adder (x plus
/// 1.5 * 2^23 leaves the integer in the low mantissa bits), two instructions
/// where Halide's round splits a 512-bit vector into two 256-bit roundings
/// and a conversion. For the quantizers, whose inputs are within +-2^15.
Halide::Expr roundToInt32(Halide::Expr x);

} // namespace vitc

#endif // VITC_COMPILER_HALIDE_ACTIVATIONS_H
