//===- Activations.cpp - elementwise activation math for vit kernels ------===//

#include "compiler/halide/Activations.h"

#include <cmath>

using namespace Halide;
using namespace Halide::ConciseCasts;

/// Where fastErf's argument is clamped: its fit reaches +-1 there.
static const float kErfBound = 3.9000001f;

// erf as t * (1/4 + P(z) / Q(z)) with t = x clamped to +-3.9 (where the fit
// reaches +-1 exactly, as float32 erf does from 3.92 on) and z = t^2: ten
// fused multiply-adds and a division, where Halide's erf takes two
// polynomials, a 16th power, a division and a select (a GELU per output
// element is a visible share of a narrow model's MLP). The coefficients were
// fitted for vitc by scripts/fit_erf.py, a minimax fit checked with exact
// float32 FMA rounding: max |error| 1.6e-7. Storing P - Q/4 and adding t/4 last
// keeps rounding small where erf ~ 1.
Expr vitc::fastErf(Expr x) {
  static const float p[] = {0.878379226f,     0.0641389936f,
                            0.0242070984f,    4.39561563e-06f,
                            -3.95343659e-06f, -7.49637775e-06f};
  static const float q[] = {1.0f,          0.501224518f,   0.113726869f,
                            0.0148950256f, 0.00115458015f, 3.82524377e-05f};
  Expr t = clamp(x, -kErfBound, kErfBound);
  Expr z = t * t;
  Expr num = p[5], den = q[5];
  for (int k = 4; k >= 0; --k) {
    num = num * z + p[k]; // each a fused multiply-add
    den = den * z + q[k];
  }
  // t/4 as its own clamp of x/4 (exact): written as 0.25f * t, Halide's
  // simplifier factors t * r + t / 4 into t * (r + 1/4), whose rounding
  // misses the fit by up to 2e-7 and leaves erf(3.9) one ulp short of 1.
  Expr quarter = clamp(x * 0.25f, -0.25f * kErfBound, 0.25f * kErfBound);
  return t * (num / den) + quarter;
}

Expr vitc::geluErf(Expr x) {
  Expr half = 0.5f * x;
  // Below -3.9 sqrt(2), where erf is clamped to -1, GELU is 0 (|GELU| < 1e-7
  // there): said outright, because the simplifier reassociates
  // x/2 (1 + erf) so that 1 + erf is a rounding error times x, not 0.
  return select(x < -kErfBound * float(M_SQRT2), 0.0f,
                half + half * fastErf(x * float(M_SQRT1_2)));
}

Expr vitc::geluTanh(Expr x) {
  const float k = static_cast<float>(std::sqrt(2.0 / M_PI));
  return 0.5f * x * (1.0f + tanh(k * (x + 0.044715f * x * x * x)));
}

Expr vitc::expNonPositive(Expr x) {
  Expr t = max(x, -87.0f);
  // e^t = 2^-m e^r with m = round(-t log2 e) (truncating a positive value:
  // no rounding instruction), r = t + m ln 2 in [-ln2/2, ln2/2]; ln 2 in two
  // parts (Cody and Waite) so that r is exact to the last bits.
  Expr m = i32(0.5f - t * float(M_LOG2E));
  Expr fm = f32(m);
  Expr r = t + fm * 0.693145751953125f + fm * 1.428606765330187e-06f;
  // e^r by its Taylor series to r^7 (within 5e-9 for |r| <= ln2/2, so the
  // float rounding of the steps is what is left).
  Expr p = 1.0f / 5040.0f;
  for (float c : {1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f,
                  0.5f, 1.0f, 1.0f})
    p = p * r + c;
  // Times 2^-m, on the exponent bits: p >= e^-0.35 and m <= 126 (t >= -87
  // gives r > 0 when m = 126), so the result stays a normal float.
  return reinterpret(Float(32), reinterpret(Int(32), p) - (m << 23));
}

Expr vitc::roundToInt32(Expr x) {
  // 1.5 * 2^23: the sum's exponent is 2^23 for every |x| < 2^22, so its ulp
  // is 1 and the adder rounds x to an integer; the offset's bits go back
  // out as an integer subtraction, which no float rewrite can undo. The max
  // (a no-op in range) keeps a product x from fusing with the add into one
  // multiply-add, which would round the exact product instead of x.
  const float magic = 12582912.0f;
  return reinterpret(Int(32), max(x, -4194304.0f) + magic) -
         reinterpret(Int(32), Expr(magic));
}
