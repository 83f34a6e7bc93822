//===- Activations.cpp - elementwise activation math for vit kernels ------===//

#include "compiler/halide/Activations.h"

#include <cmath>

using namespace Halide;

// erf as t * (1/4 + P(z) / Q(z)) with t = x clamped to +-3.9 (beyond which
// float32 erf is +-1) and z = t^2: ten fused multiply-adds and a division,
// where Halide's erf takes two polynomials, a 16th power, a division and a
// select (a GELU per output element is a visible share of a narrow model's
// MLP). The coefficients were fitted for vitc by scripts/fit_erf.py, a
// minimax fit checked with exact float32 FMA rounding: max |error| 1.6e-7.
// Storing P - Q/4 and adding t/4 last keeps rounding small where erf ~ 1.
Expr vitc::fastErf(Expr x) {
  static const float p[] = {0.878379226f,    0.0641389936f,    0.0242070984f,
                            4.39561563e-06f, -3.95343659e-06f, -7.49637775e-06f};
  static const float q[] = {1.0f,          0.501224518f,    0.113726869f,
                            0.0148950256f, 0.00115458015f, 3.82524377e-05f};
  Expr t = clamp(x, -3.9000001f, 3.9000001f);
  Expr z = t * t;
  Expr num = p[5], den = q[5];
  for (int k = 4; k >= 0; --k) {
    num = num * z + p[k]; // each a fused multiply-add
    den = den * z + q[k];
  }
  return t * (num / den) + 0.25f * t;
}

Expr vitc::geluErf(Expr x) {
  Expr half = 0.5f * x;
  return half + half * fastErf(x * float(M_SQRT1_2));
}

Expr vitc::geluTanh(Expr x) {
  const float k = static_cast<float>(std::sqrt(2.0 / M_PI));
  return 0.5f * x * (1.0f + tanh(k * (x + 0.044715f * x * x * x)));
}
