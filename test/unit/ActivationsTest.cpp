//===- ActivationsTest.cpp - GELU's math against the C library in double --===//
//
// Compiles the activation expressions with Halide's JIT for this machine (as
// the kernels use them: vectorized, FMAs contracted) and checks every result
// on a dense grid and at the special values against std::erf / std::tanh in
// double precision.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/Activations.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace {

using Halide::Buffer;
using Halide::Expr;
using Halide::Func;
using Halide::Var;

/// f of every input, compiled for the host with 8-lane vectors.
std::vector<float> compiled(Expr (*f)(Expr), const std::vector<float> &inputs) {
  Buffer<float> in(const_cast<float *>(inputs.data()),
                   static_cast<int>(inputs.size()));
  Var i("i");
  Func out("out");
  out(i) = f(in(i));
  out.vectorize(i, 8, Halide::TailStrategy::GuardWithIf);
  Buffer<float> result = out.realize({static_cast<int>(inputs.size())});
  return std::vector<float>(result.data(), result.data() + inputs.size());
}

/// n + 1 evenly spaced points on [lo, hi], plus the special values.
std::vector<float> grid(double lo, double hi, int n) {
  std::vector<float> xs;
  for (int k = 0; k <= n; ++k)
    xs.push_back(static_cast<float>(lo + (hi - lo) * k / n));
  for (float tiny = 1e-30f; tiny < 1e-2f; tiny *= 10.0f) {
    xs.push_back(tiny);
    xs.push_back(-tiny);
  }
  for (float special : {0.0f, -0.0f, 3.9f, -3.9f, 1e30f, -1e30f})
    xs.push_back(special);
  return xs;
}

/// The largest error of f (compiled) against `exact` in double over `xs`, and
/// where it is; with `relative`, the error is divided by max(1, |x|). A NaN
/// counts as the largest.
struct Worst {
  double error = 0, at = 0;
};
Worst worstError(Expr (*f)(Expr), const std::vector<float> &xs,
                 double (*exact)(double), bool relative) {
  std::vector<float> ys = compiled(f, xs);
  Worst worst;
  for (size_t k = 0; k < xs.size(); ++k) {
    double x = xs[k];
    double err = std::abs(double(ys[k]) - exact(x));
    if (relative)
      err /= std::max(1.0, std::abs(x));
    if (std::isnan(err) || err > worst.error)
      worst = {err, x};
  }
  return worst;
}

double erfReference(double x) { return std::erf(x); }
double geluReference(double x) {
  return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
}
double geluTanhReference(double x) {
  return 0.5 * x *
         (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

TEST(Activations, FastErfIsWithinAQuarterMillionthEverywhere) {
  Worst worst =
      worstError(vitc::fastErf, grid(-10.0, 10.0, 2'000'000), erfReference,
                 /*relative=*/false);
  // 1.6e-7 here (with FMA); without FMA contraction rounding adds a little.
  EXPECT_LE(worst.error, 2.5e-7) << "at x = " << worst.at;
  // Odd, exact at zero, exactly +-1 from the clamp on (as float32 erf is
  // from 3.92 on).
  std::vector<float> special =
      compiled(vitc::fastErf, {0.0f, 3.9f, -3.9f, 10.0f, -1e30f});
  EXPECT_EQ(special[0], 0.0f);
  EXPECT_EQ(special[1], 1.0f);
  EXPECT_EQ(special[2], -1.0f);
  EXPECT_EQ(special[3], 1.0f);
  EXPECT_EQ(special[4], -1.0f);
}

TEST(Activations, GeluErfMatchesTheExactFormula) {
  Worst worst =
      worstError(vitc::geluErf, grid(-12.0, 12.0, 2'000'000), geluReference,
                 /*relative=*/true);
  EXPECT_LE(worst.error, 3e-7) << "at x = " << worst.at;
  // Saturated: 0 for large negative inputs, x for large positive ones.
  std::vector<float> special =
      compiled(vitc::geluErf, {-20.0f, 20.0f, -1e30f, 1e30f});
  EXPECT_EQ(special[0], 0.0f);
  EXPECT_EQ(special[1], 20.0f);
  EXPECT_EQ(special[2], 0.0f);
  EXPECT_EQ(special[3], 1e30f);
}

TEST(Activations, GeluTanhMatchesTheExactFormula) {
  Worst worst =
      worstError(vitc::geluTanh, grid(-12.0, 12.0, 200'000), geluTanhReference,
                 /*relative=*/true);
  EXPECT_LE(worst.error, 1e-6) << "at x = " << worst.at;
}

TEST(Activations, ExpNonPositiveMatchesTheCLibrary) {
  std::vector<float> xs;
  for (int k = 0; k <= 2'000'000; ++k)
    xs.push_back(static_cast<float>(-87.0 * k / 2'000'000));
  for (float special : {0.0f, -0.0f, -1e-30f, -0.34657359f, -0.34657360f})
    xs.push_back(special);
  std::vector<float> ys = compiled(vitc::expNonPositive, xs);
  double worst = 0, at = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    double exact = std::exp(double(xs[k]));
    double err = std::abs(double(ys[k]) - exact) / exact;
    if (std::isnan(err) || err > worst)
      worst = err, at = xs[k];
  }
  EXPECT_LE(worst, 3.5e-7) << "at x = " << at; // 3 ulps
  // Exactly 1 at 0; below -87 the value at -87 (softmax then gives ~0).
  std::vector<float> special =
      compiled(vitc::expNonPositive, {0.0f, -100.0f, -1e30f});
  EXPECT_EQ(special[0], 1.0f);
  EXPECT_EQ(special[1], special[2]);
  EXPECT_LE(special[1], 2e-38f);
  EXPECT_GT(special[1], 0.0f);
}

TEST(Activations, RoundToInt32MatchesRoundingToNearestEven) {
  // Halves (ties go to even), their neighbours, the quantizers' ranges and
  // the limits of the trick (|x| < 2^22).
  std::vector<float> xs;
  for (int k = -600; k <= 600; ++k) {
    float half = k + 0.5f;
    xs.insert(xs.end(), {float(k), half, std::nextafter(half, 0.0f),
                         std::nextafter(half, 1e9f), k * 0.37f, k * 54.6f});
  }
  const float big = 4194303.5f; // 2^22 - 0.5
  xs.insert(xs.end(), {0.0f, -0.0f, 32767.4f, 32766.5f, -32767.5f, big, -big});
  Buffer<float> in(xs.data(), static_cast<int>(xs.size()));
  Var i("i");
  Func out("out");
  out(i) = vitc::roundToInt32(in(i));
  out.vectorize(i, 16, Halide::TailStrategy::GuardWithIf);
  Buffer<int32_t> got = out.realize({static_cast<int>(xs.size())});
  for (size_t k = 0; k < xs.size(); ++k)
    ASSERT_EQ(got(static_cast<int>(k)), static_cast<int32_t>(std::nearbyint(xs[k])))
        << "at x = " << xs[k];
  // Infinities keep their side (the quantizers clamp them to their ends).
  std::vector<float> inf{INFINITY, -INFINITY};
  Buffer<float> infIn(inf.data(), 2);
  Func infOut("inf_out");
  infOut(i) = vitc::roundToInt32(infIn(i));
  Buffer<int32_t> infGot = infOut.realize({2});
  EXPECT_GT(infGot(0), 255);
  EXPECT_LT(infGot(1), 0);
}

} // namespace
