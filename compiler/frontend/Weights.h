//===- Weights.h - a model's parameters from a checkpoint or a seed -------===//
//
// Binds a checkpoint to a ModelConfig: recognises its key layout (timm,
// Hugging Face, official JAX .npz), renames and re-lays out tensors into
// timm names and PyTorch shapes, resizes the position embedding when the
// resolution differs, and checks every tensor against listParams().
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_FRONTEND_WEIGHTS_H
#define VITC_COMPILER_FRONTEND_WEIGHTS_H

#include "compiler/frontend/ModelConfig.h"
#include "compiler/frontend/PosEmbedResize.h"
#include "support/Checkpoint.h"

#include <optional>

namespace vitc {

enum class CheckpointLayout { Timm, HuggingFace, Official };

llvm::StringRef layoutName(CheckpointLayout layout);

/// Tells the layout from the key names; the error says what was found.
llvm::Expected<CheckpointLayout> detectLayout(const Checkpoint &checkpoint);

/// Every parameter of a model, in listParams() order.
using ModelWeights = NamedTensors;

struct BindOptions {
  /// Report tensors the model does not use as warnings instead of an error.
  bool allowUnexpected = false;
  /// How to resize the position embedding; unset: the method of the
  /// checkpoint's own library (timm/HF bicubic, official bilinear corners).
  std::optional<ResizeMethod> resize;
  /// Refuse any position-embedding resize.
  bool noResize = false;
  /// Accept NaN and infinite values (by default they are refused: they make
  /// every output NaN).
  bool allowNonFinite = false;
};

/// Binds `checkpoint` to `config`. Notes (resizes done, ignored tensors) are
/// appended to `notes` for the driver to print.
llvm::Expected<ModelWeights> bindWeights(const ModelConfig &config,
                                         Checkpoint checkpoint,
                                         const BindOptions &options,
                                         std::vector<std::string> &notes);

/// Deterministic weights with the usual ViT initialisation scales
/// (truncated normal std 0.02 for linear layers, embeddings and biases,
/// LeCun normal for the patch projection, LayerNorm weights 1), the same for
/// a given seed whatever the thread count (counter-based streams, one per
/// parameter name; float Box-Muller, so a libm's last-ulp differences in
/// log, sin and cos can change a value by an ulp).
ModelWeights randomWeights(const ModelConfig &config, uint64_t seed);

} // namespace vitc

#endif // VITC_COMPILER_FRONTEND_WEIGHTS_H
