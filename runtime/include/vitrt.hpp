//===- vitrt.hpp - C++ wrapper of the vitc runtime ------------------------===//
//
//   vitrt::Model model(vit_b16_model(), "vit_b16.safetensors");
//   vitrt::Context context(model);
//   std::vector<float> logits = context.run(images, batch);
//
// Owns the C handles (closed in destructors, movable, not copyable) and
// turns every failed call into a vitrt::Error carrying the runtime's message.
//
//===----------------------------------------------------------------------===//

#ifndef VITRT_HPP
#define VITRT_HPP

#include "vitrt.h"

#include <stdexcept>
#include <utility>
#include <vector>

namespace vitrt {

struct Error : std::runtime_error {
  Error(vitrt_status status, const char *message)
      : std::runtime_error(message), status(status) {}
  vitrt_status status;
};

inline void check(vitrt_status status) {
  if (status != VITRT_OK)
    throw Error(status, vitrt_last_error());
}

class Model {
public:
  Model(const vitrt_model_desc *desc, const char *weightsPath,
        int numThreads = 0, const char *device = nullptr) {
    vitrt_options options{numThreads, device, /*private_weights=*/0};
    check(vitrt_open(desc, weightsPath, &options, &model_));
    check(vitrt_get_info(model_, &info_));
  }
  Model(Model &&other) noexcept
      : model_(std::exchange(other.model_, nullptr)), info_(other.info_) {}
  Model &operator=(Model &&other) noexcept {
    std::swap(model_, other.model_);
    std::swap(info_, other.info_);
    return *this;
  }
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;
  ~Model() { vitrt_close(model_); }

  const vitrt_model_info &info() const { return info_; }
  size_t imageSize() const {
    return size_t(info_.channels) * info_.height * info_.width;
  }
  vitrt_model *get() const { return model_; }

private:
  vitrt_model *model_ = nullptr;
  vitrt_model_info info_{};
};

class Context {
public:
  explicit Context(const Model &model) : model_(&model) {
    check(vitrt_context_create(model.get(), &context_));
  }
  Context(Context &&other) noexcept
      : model_(other.model_), context_(std::exchange(other.context_, nullptr)) {
  }
  Context(const Context &) = delete;
  Context &operator=(const Context &) = delete;
  ~Context() { vitrt_context_destroy(context_); }

  /// Runs `batch` NCHW images; returns batch x outputs floats.
  std::vector<float> run(const std::vector<float> &images, int64_t batch) {
    std::vector<float> outputs(size_t(batch) * model_->info().outputs);
    check(vitrt_run(context_, images.data(), images.size(), batch,
                    outputs.data(), outputs.size()));
    return outputs;
  }

  /// What a run with attention maps returns (vitc --attention-maps).
  struct Attention {
    std::vector<float> outputs;   // [batch, outputs]
    std::vector<float> maps;      // [batch, layers, heads, rows, tokens]
    std::vector<float> rollout;   // [batch, rows, tokens]; empty without
                                  // --attention-maps=rollout
  };
  Attention runWithAttention(const std::vector<float> &images, int64_t batch) {
    const vitrt_model_info &info = model_->info();
    const size_t rows = size_t(info.attention_rows) * info.attention_tokens;
    Attention result;
    result.outputs.resize(size_t(batch) * info.outputs);
    result.maps.resize(size_t(batch) * info.attention_layers *
                       info.attention_heads * rows);
    if (info.attention_rollout)
      result.rollout.resize(size_t(batch) * rows);
    vitrt_run_extras extras{};
    extras.attention = result.maps.data();
    extras.attention_count = result.maps.size();
    extras.rollout = result.rollout.empty() ? nullptr : result.rollout.data();
    extras.rollout_count = result.rollout.size();
    check(vitrt_run_ex(context_, images.data(), images.size(), batch,
                       result.outputs.data(), result.outputs.size(), &extras));
    return result;
  }

private:
  const Model *model_;
  vitrt_context *context_ = nullptr;
};

} // namespace vitrt

#endif // VITRT_HPP
