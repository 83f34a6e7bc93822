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

  Logits run(Images images) {
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
    const int64_t batch = int64_t(images.shape(0));
    if (batch == 0)
      throw std::invalid_argument("images has a batch of 0");
    const size_t count = size_t(batch) * size_t(info.outputs);
    float *out = new float[count];
    nb::capsule owner(out, [](void *p) noexcept { delete[] static_cast<float *>(p); });
    vitrt_status status;
    std::string message;
    {
      // One context per model: calls from several Python threads take turns.
      nb::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex);
      status = vitrt_run(context, images.data(), images.size(), batch, out, count);
      if (status != VITRT_OK)
        message = vitrt_last_error(); // thread-local: read on this thread
    }
    if (status != VITRT_OK)
      throw Error(message);
    return Logits(out, {size_t(batch), size_t(info.outputs)}, owner);
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
      .def_prop_ro("info", &Model::infoDict);
}
