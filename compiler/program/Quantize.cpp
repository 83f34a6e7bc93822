//===- Quantize.cpp - int8 weights from a checkpoint's f32 values --------===//

#include "compiler/program/Quantize.h"

#include <cmath>
#include <utility>

using namespace vitc;

Int8Weight vitc::quantizeWeight(const Tensor &weight, int levels) {
  Int8Weight out;
  out.values.type = ElementType::I8;
  out.values.shape = weight.shape;
  out.values.data.resize(weight.data.size());
  const int64_t m = weight.shape.empty() ? 0 : weight.shape[0];
  const int64_t k = m ? weight.numElements() / m : 0;
  out.scales.resize(m);
  out.sums.resize(m);
  for (int64_t row = 0; row < m; ++row) {
    const float *w = weight.data.data() + row * k;
    float largest = 0;
    for (int64_t col = 0; col < k; ++col)
      largest = std::max(largest, std::fabs(w[col]));
    const float scale = largest > 0 ? largest / float(levels) : 1.0f;
    float sum = 0; // exact: |sum| <= 127 K < 2^24 for any K a model has
    for (int64_t col = 0; col < k; ++col) {
      // nearbyint rounds half to even in the default rounding mode, as the
      // kernels' activation rounding does.
      float q = std::nearbyint(w[col] / scale);
      q = std::min(std::max(q, -float(levels)), float(levels));
      out.values.data[row * k + col] = q;
      sum += q;
    }
    out.scales[row] = scale;
    out.sums[row] = sum;
  }
  return out;
}

llvm::Expected<Tensor>
vitc::storedParam(const ProgramParam &param,
                  const std::map<std::string, const Tensor *> &byName,
                  std::map<std::string, Int8Weight> &quantized) {
  const std::string &source = param.layout.int8 == ParamLayout::Int8::Scales
                                  ? param.scaledWeight
                                  : param.name;
  auto it = byName.find(source);
  if (it == byName.end())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "no weights for parameter '" + source + "'");
  const Tensor &tensor = *it->second;
  if (param.layout.int8 == ParamLayout::Int8::None) {
    Tensor stored = toStoredLayout(tensor, param.layout);
    stored.type = param.elementType; // the writer encodes it so
    return stored;
  }
  // A weight and its scales come from one quantization, made by whichever
  // of the two parameters is stored first; the weight's values move out
  // when it is stored, the scales and sums stay for the scales parameter.
  auto [entry, first] = quantized.try_emplace(source);
  Int8Weight &q = entry->second;
  if (first)
    q = quantizeWeight(tensor, param.layout.levels);
  if (param.layout.int8 == ParamLayout::Int8::Weight)
    return toStoredLayout(std::exchange(q.values, Tensor()), param.layout);
  Tensor stored;
  stored.shape = param.storedShape;
  stored.data = q.scales;
  stored.data.insert(stored.data.end(), q.sums.begin(), q.sums.end());
  return stored;
}
