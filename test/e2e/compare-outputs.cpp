//===- compare-outputs.cpp - compiled-model outputs against references ----===//
//
//   compare-outputs actual.npy expected.npy [tolerance]
//
// Passes when the shapes agree, every element is within
// tolerance * max(1, |expected|) (default 1e-4), and, for [batch, outputs]
// arrays, each row's largest output (the top-1 class) is the same. Other
// ranks (e.g. a similarity map) are compared element by element only.
// Prints the figures either way.
//
//===----------------------------------------------------------------------===//

#include "support/Checkpoint.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) {
    llvm::errs()
        << "usage: compare-outputs actual.npy expected.npy [tolerance]\n";
    return 2;
  }
  double tolerance = argc == 4 ? std::atof(argv[3]) : 1e-4;
  auto actual = vitc::readNpy(argv[1]);
  auto expected = vitc::readNpy(argv[2]);
  if (!actual || !expected) {
    llvm::errs() << (actual ? llvm::toString(expected.takeError())
                            : llvm::toString(actual.takeError()))
                 << "\n";
    return 2;
  }
  if (actual->shape != expected->shape || actual->shape.empty()) {
    llvm::errs() << "shapes differ or are empty\n";
    return 1;
  }
  const bool logits = actual->shape.size() == 2;
  int64_t rows = logits ? actual->shape[0] : 1,
          cols = int64_t(actual->data.size()) / std::max<int64_t>(1, rows);
  double worst = 0, worstRatio = 0;
  int64_t topAgree = 0, notFinite = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float *a = actual->data.data() + r * cols,
                *e = expected->data.data() + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      // NaN or infinity never passes (max() would silently skip a NaN).
      if (!std::isfinite(a[c])) {
        ++notFinite;
        continue;
      }
      double diff = std::fabs(double(a[c]) - e[c]);
      worst = std::max(worst, diff);
      worstRatio =
          std::max(worstRatio, diff / std::max(1.0, std::fabs(double(e[c]))));
    }
    topAgree +=
        std::max_element(a, a + cols) - a == std::max_element(e, e + cols) - e;
  }
  if (!logits)
    topAgree = rows; // no classes to agree on
  bool pass = worstRatio <= tolerance && topAgree == rows && notFinite == 0;
  if (notFinite)
    llvm::outs() << notFinite << " outputs are NaN or infinite\n";
  llvm::outs() << llvm::formatv(
      "{0}: max |diff| {1:e2} (limit {2:e1} x max(1, |ref|))",
      pass ? "PASS" : "FAIL", worst, tolerance);
  if (logits)
    llvm::outs() << llvm::formatv(", top-1 agrees {0}/{1}", topAgree, rows);
  llvm::outs() << "\n";
  return pass ? 0 : 1;
}
