//===- vitrt_module.cpp - vitc._vitrt: compiled models from Python -------===//
//
// nanobind bindings over vitrt.h: a model library that vitc compiled as a
// shared library (dlopen), opened with its weights, run on float32 NCHW
// arrays. The Python side (vitc/__init__.py) converts inputs and drives the
// compiler.
//
//===----------------------------------------------------------------------===//

#include "vitrt.h"
#include "vitrt_model.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>

#include <dlfcn.h>
#include <mutex>
#include <stdexcept>
#include <string>

namespace nb = nanobind;

namespace {

/// A failed libvitrt call, with the runtime's message (vitrt_last_error()).
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(vitrt_status status) {
  if (status != VITRT_OK)
    throw Error(vitrt_last_error());
}

using Images = nb::ndarray<const float, nb::ndim<4>, nb::c_contig, nb::device::cpu>;
using Logits = nb::ndarray<nb::numpy, float, nb::ndim<2>>;

class Model {
public:
  Model(const std::string &library, const std::string &symbol,
        const std::string &weights, int threads, bool privateWeights) {
    void *handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle)
      throw Error("cannot load " + library + ": " + dlerror());
    // The library stays loaded for the life of the process: Halide's worker
    // threads may still sit in its code after the model is closed.
    auto describe = reinterpret_cast<const vitrt_model_desc *(*)()>(
        dlsym(handle, symbol.c_str()));
    if (!describe)
      throw Error(library + " has no " + symbol +
                  "(): not a vitc model library of that name");
    desc = describe();
    vitrt_options options{};
    options.num_threads = threads;
    options.private_weights = privateWeights;
    check(vitrt_open(desc, weights.c_str(), &options, &model));
    vitrt_status status = vitrt_context_create(model, &context);
    if (status == VITRT_OK)
      status = vitrt_get_info(model, &info);
    if (status != VITRT_OK) { // the destructor will not run: clean up here
      std::string message = vitrt_last_error();
      if (context)
        vitrt_context_destroy(context);
      vitrt_close(model);
      throw Error(message);
    }
  }
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;
  ~Model() {
    if (context)
      vitrt_context_destroy(context);
    if (model)
      vitrt_close(model);
  }

  void checkShape(const Images &images) const {
    if (images.shape(1) != size_t(info.channels) ||
        images.shape(2) != size_t(info.height) ||
        images.shape(3) != size_t(info.width))
      throw std::invalid_argument(
          "images must be [batch, " + std::to_string(info.channels) + ", " +
          std::to_string(info.height) + ", " + std::to_string(info.width) +
          "], got [" + std::to_string(images.shape(0)) + ", " +
          std::to_string(images.shape(1)) + ", " +
          std::to_string(images.shape(2)) + ", " +
          std::to_string(images.shape(3)) + "]");
    if (images.shape(0) == 0)
      throw std::invalid_argument("images has a batch of 0");
  }

  /// Runs `call` (a libvitrt run) without the GIL, one call per model at a
  /// time, and throws the runtime's message if it fails.
  template <typename Call> void runLocked(Call call) {
    vitrt_status status;
    std::string message;
    {
      // One context per model: calls from several Python threads take turns.
      nb::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex);
      status = call();
      if (status != VITRT_OK)
        message = vitrt_last_error(); // thread-local: read on this thread
    }
    if (status != VITRT_OK)
      throw Error(message);
  }

  Logits run(Images images) {
    checkShape(images);
    const int64_t batch = int64_t(images.shape(0));
    const size_t count = size_t(batch) * size_t(info.outputs);
    float *out = new float[count];
    nb::capsule owner(out, [](void *p) noexcept { delete[] static_cast<float *>(p); });
    runLocked([&] {
      return vitrt_run(context, images.data(), images.size(), batch, out, count);
    });
    return Logits(out, {size_t(batch), size_t(info.outputs)}, owner);
  }

  /// Logits, maps [batch, layers, heads, rows, tokens] and rollout [batch,
  /// rows, tokens] of a model compiled with --attention-maps.
  nb::tuple runAttention(Images images) {
    checkShape(images);
    if (info.attention_layers == 0)
      throw Error(std::string("model '") + info.name +
                  "' has no attention maps: compile it with "
                  "attention_maps=True (vitc --attention-maps)");
    const int64_t batch = int64_t(images.shape(0));
    const size_t rows = size_t(info.attention_rows) * info.attention_tokens;
    const size_t mapsPerImage = size_t(info.attention_layers) * info.attention_heads * rows;
    auto owned = [](size_t count) {
      float *data = new float[count];
      return std::make_pair(data, nb::capsule(data, [](void *p) noexcept {
                              delete[] static_cast<float *>(p);
                            }));
    };
    auto [logits, logitsOwner] = owned(size_t(batch) * info.outputs);
    auto [maps, mapsOwner] = owned(size_t(batch) * mapsPerImage);
    auto [rollout, rolloutOwner] = owned(info.attention_rollout ? size_t(batch) * rows : 1);
    vitrt_run_extras extras{};
    extras.attention = maps;
    extras.attention_count = size_t(batch) * mapsPerImage;
    if (info.attention_rollout) {
      extras.rollout = rollout;
      extras.rollout_count = size_t(batch) * rows;
    }
    runLocked([&] {
      return vitrt_run_ex(context, images.data(), images.size(), batch, logits,
                          size_t(batch) * info.outputs, &extras);
    });
    using Array = nb::ndarray<nb::numpy, float>;
    const size_t b = size_t(batch);
    size_t logitShape[2] = {b, size_t(info.outputs)};
    size_t mapShape[5] = {b, size_t(info.attention_layers), size_t(info.attention_heads),
                          size_t(info.attention_rows), size_t(info.attention_tokens)};
    size_t rolloutShape[3] = {b, size_t(info.attention_rows), size_t(info.attention_tokens)};
    return nb::make_tuple(Array(logits, 2, logitShape, logitsOwner),
                          Array(maps, 5, mapShape, mapsOwner),
                          info.attention_rollout
                              ? nb::object(nb::cast(Array(rollout, 3, rolloutShape,
                                                          rolloutOwner)))
                              : nb::object(nb::none()));
  }

  nb::dict infoDict() const {
    nb::dict d;
    d["name"] = info.name;
    d["channels"] = info.channels;
    d["height"] = info.height;
    d["width"] = info.width;
    d["outputs"] = info.outputs;
    d["features"] = info.features;
    d["mean"] = nb::make_tuple(info.mean[0], info.mean[1], info.mean[2]);
    d["std"] = nb::make_tuple(info.std[0], info.std[1], info.std[2]);
    d["crop_fraction"] = info.crop_fraction;
    d["precision"] = info.precision;
    d["target"] = desc->target;
    d["cpu_features"] = desc->cpu_features;
    d["attention_maps"] = nb::none();
    if (info.attention_layers > 0) {
      nb::dict maps;
      maps["layers"] = info.attention_layers;
      maps["heads"] = info.attention_heads;
      maps["rows"] = info.attention_rows;
      maps["tokens"] = info.attention_tokens;
      maps["prefix_tokens"] = info.prefix_tokens;
      maps["grid"] = nb::make_tuple(info.grid_height, info.grid_width);
      maps["rollout"] = bool(info.attention_rollout);
      d["attention_maps"] = maps;
    }
    return d;
  }

private:
  const vitrt_model_desc *desc = nullptr;
  vitrt_model *model = nullptr;
  vitrt_context *context = nullptr;
  vitrt_model_info info{};
  std::mutex mutex;
};

} // namespace

NB_MODULE(_vitrt, m) {
  m.doc() = "libvitrt: models compiled by vitc, opened and run";
  nb::exception<Error>(m, "Error", PyExc_RuntimeError);
  m.attr("ABI_VERSION") = VITRT_ABI_VERSION;
  nb::class_<Model>(m, "Model")
      .def(nb::init<const std::string &, const std::string &,
                    const std::string &, int, bool>(),
           nb::arg("library"), nb::arg("symbol"), nb::arg("weights"),
           nb::arg("threads") = 0, nb::arg("private_weights") = false)
      .def("run", &Model::run, nb::arg("images"),
           "Logits [batch, outputs] of float32 images [batch, C, H, W]")
      .def("run_attention", &Model::runAttention, nb::arg("images"),
           "(logits, maps [batch, layers, heads, rows, tokens], rollout [batch, "
           "rows, tokens]) of a model compiled with --attention-maps")
      .def_prop_ro("info", &Model::infoDict);
}
