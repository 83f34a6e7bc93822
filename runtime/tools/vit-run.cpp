//===- vit-run.cpp - run a compiled ViT on images or tensors --------------===//
//
// Opens a model library that vitc compiled as a shared library (dlopen), its
// weights, and runs it on a .npy batch [B, C, H, W], printing the top
// classes per image and optionally writing all outputs as .npy. With
// --repeat it times the run; with a library compiled with --attention-maps
// it writes the attention maps, their rollout, and a picture of both.
//
//===----------------------------------------------------------------------===//

#include "AttentionImage.h"
#include "ImageInput.h"
#include "support/Checkpoint.h"
#include "support/ModelName.h"
#include "vitrt.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

#include <algorithm>
#include <chrono>
#include <dlfcn.h>
#include <numeric>

namespace cl = llvm::cl;
using vitc::Tensor;

/// The largest .npy batch vit-run reads: 4 GiB (about 5,000 images of
/// 3x224x224 floats).
constexpr uint64_t kMaxInputBytes = uint64_t(4) << 30;

static cl::opt<std::string>
    libraryPath("library",
                cl::desc("Model library compiled by vitc (libNAME.so)"),
                cl::value_desc("file"), cl::Required);
static cl::opt<std::string> weightsPath(
    "weights",
    cl::desc("Weights file (default: NAME.safetensors beside the library)"),
    cl::value_desc("file"));
static cl::list<std::string>
    inputPaths(cl::Positional, cl::desc("<images.npy | image.png|jpg ...>"),
               cl::OneOrMore);
static cl::opt<std::string> outputPath("o",
                                       cl::desc("Write the outputs as .npy"),
                                       cl::value_desc("file"));
static cl::opt<std::string> featuresPath(
    "features",
    cl::desc(
        "Also write what the classifier reads (pre-logits features) as .npy"),
    cl::value_desc("file"));
static cl::opt<std::string> attentionMapsPath(
    "attention-maps",
    cl::desc("Models compiled with --attention-maps: write the class token's "
             "attention [batch, layers, heads, rows, tokens] as .npy"),
    cl::value_desc("file"));
static cl::opt<std::string> rolloutPath(
    "rollout",
    cl::desc("Models compiled with --attention-maps=rollout: write the "
             "attention rollout [batch, rows, tokens] as .npy"),
    cl::value_desc("file"));
static cl::opt<std::string> attentionImagePath(
    "attention-image",
    cl::desc("Models compiled with --attention-maps: draw, per image, the "
             "last layer's attention (and the rollout) over it, as a PNG"),
    cl::value_desc("file.png"));
static cl::opt<unsigned> top("top", cl::desc("Classes to print per image"),
                             cl::init(5));
static cl::opt<std::string> labelsPath("labels",
                                       cl::desc("Class names, one per line"),
                                       cl::value_desc("file"));
static cl::opt<bool> privateWeights(
    "private-weights",
    cl::desc("Read the weights into private memory at open (default: map the "
             "file, and refuse to run if it changes)"));
static cl::opt<int> threads("num-threads",
                            cl::desc("Worker threads (0: one per core)"),
                            cl::init(0));
static cl::opt<int64_t>
    images("images",
           cl::desc("Use only the first N images of the input (0: all)"),
           cl::init(0));
static cl::opt<unsigned>
    repeat("repeat",
           cl::desc("Run this many times and report the best and mean time "
                    "(after one untimed warm-up run when more than once)"),
           cl::init(1));
static cl::opt<bool> profile(
    "profile",
    cl::desc("After one warm-up run, time every kernel over the --repeat runs "
             "and print each one's share and GFLOP/s"));
static cl::opt<std::string>
    device("device",
           cl::desc("GPU models: the device index (default: the driver's "
                    "default or HL_GPU_DEVICE)"),
           cl::value_desc("index"));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "vit-run") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "vit-run: runs a Vision Transformer compiled by vitc\n\n"
      "  vit-run --library libvit_b16.so images.npy --top 5\n"
      "  vit-run --library libvit_b16.so cat.jpg dog.png --labels "
      "imagenet.txt\n");
  // The names vitc gave the model after the library's file name.
  std::string modelId = vitc::modelIdentifier(libraryPath);
  std::string symbol = modelId + "_model";
  // dlopen() searches the library path for bare names; a file name here
  // means the file.
  std::string libraryFile = llvm::StringRef(libraryPath).contains('/')
                                ? libraryPath
                                : "./" + libraryPath;
  void *library = dlopen(libraryFile.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return fail(llvm::Twine("cannot load ") + libraryPath + ": " + dlerror());
  auto describe = reinterpret_cast<const vitrt_model_desc *(*)()>(
      dlsym(library, symbol.c_str()));
  if (!describe)
    return fail(libraryPath + " has no " + symbol +
                "(): not a vitc model library of that name");
  std::string weights = weightsPath;
  if (weights.empty()) {
    llvm::SmallString<256> path(llvm::sys::path::parent_path(libraryPath));
    llvm::sys::path::append(path, modelId + ".safetensors");
    weights = path.str().str();
  }

  vitrt_options options{};
  options.num_threads = threads;
  options.device = device.empty() ? nullptr : device.c_str();
  options.private_weights = privateWeights;
  vitrt_model *model = nullptr;
  vitrt_context *context = nullptr;
  if (vitrt_open(describe(), weights.c_str(), &options, &model) != VITRT_OK ||
      vitrt_context_create(model, &context) != VITRT_OK)
    return fail(vitrt_last_error());
  vitrt_model_info info;
  vitrt_get_info(model, &info);

  // One .npy batch, or image files preprocessed as the model expects.
  Tensor input;
  llvm::StringRef first = inputPaths.front();
  if (first.ends_with(".npy")) {
    if (inputPaths.size() != 1)
      return fail("give one .npy batch, or image files");
    // A batch is read whole: larger inputs must be split into batches.
    llvm::Expected<Tensor> array = vitc::readNpy(first, kMaxInputBytes);
    if (!array)
      return fail(llvm::toString(array.takeError()));
    if (array->shape.empty() || array->shape[0] < 1)
      return fail(first + ": holds no images (shape [" +
                  llvm::join(llvm::map_range(array->shape,
                                             [](int64_t d) {
                                               return std::to_string(d);
                                             }),
                             ", ") +
                  "]); give a batch [B, C, H, W] with B >= 1");
    input = std::move(*array);
  } else {
    vitc::Preprocessing pre{info.channels,     info.height, info.width, {}, {},
                            info.crop_fraction};
    std::copy(info.mean, info.mean + 3, pre.mean);
    std::copy(info.std, info.std + 3, pre.std);
    for (const std::string &path : inputPaths)
      if (llvm::Error err = vitc::appendImage(path, pre, input.data))
        return fail(llvm::toString(std::move(err)));
    input.shape = {int64_t(inputPaths.size()), int64_t(info.channels),
                   int64_t(info.height), int64_t(info.width)};
  }
  if (input.shape.size() != 4 || input.shape[1] != info.channels ||
      input.shape[2] != info.height || input.shape[3] != info.width)
    return fail(llvm::formatv("{0}: expected a [batch, {1}, {2}, {3}] array",
                              first, info.channels, info.height, info.width));
  int64_t batch = input.shape[0];
  if (images < 0 || images > batch)
    return fail(
        llvm::formatv("--images: the input holds {0} images, asked for {1}",
                      batch, images.getValue()));
  if (images > 0) {
    batch = images;
    input.shape[0] = batch;
    input.data.resize(batch * info.channels * info.height * info.width);
  }
  Tensor output;
  output.shape = {batch, info.outputs};
  output.data.resize(batch * info.outputs);

  Tensor features;
  if (!featuresPath.empty()) {
    if (info.features == 0)
      return fail(llvm::Twine(info.name) + " has no features to write");
    features.shape = {batch, info.features};
    features.data.resize(batch * info.features);
  }
  Tensor attention, rollout;
  const bool wantAttention = !attentionMapsPath.empty() ||
                             !rolloutPath.empty() || !attentionImagePath.empty();
  if (wantAttention) {
    if (info.attention_layers == 0)
      return fail(llvm::Twine(libraryPath) +
                  " has no attention maps: compile it with vitc "
                  "--attention-maps");
    if (!rolloutPath.empty() && !info.attention_rollout)
      return fail(llvm::Twine("--rollout: ") + libraryPath +
                  " has attention maps but not what their rollout needs: "
                  "compile it with vitc --attention-maps=rollout");
    if (!attentionImagePath.empty() &&
        !llvm::StringRef(attentionImagePath).ends_with(".png"))
      return fail("--attention-image: the file must end in .png, got " +
                  attentionImagePath);
    attention.shape = {batch, info.attention_layers, info.attention_heads,
                       info.attention_rows, info.attention_tokens};
    attention.data.resize(size_t(batch) * info.attention_layers *
                          info.attention_heads * info.attention_rows *
                          info.attention_tokens);
    if (info.attention_rollout) {
      rollout.shape = {batch, info.attention_rows, info.attention_tokens};
      rollout.data.resize(size_t(batch) * info.attention_rows *
                          info.attention_tokens);
    }
  }
  vitrt_run_extras extras{};
  extras.features = features.data.empty() ? nullptr : features.data.data();
  extras.features_count = features.data.size();
  extras.attention = attention.data.empty() ? nullptr : attention.data.data();
  extras.attention_count = attention.data.size();
  extras.rollout = rollout.data.empty() ? nullptr : rollout.data.data();
  extras.rollout_count = rollout.data.size();
  auto runOnce = [&]() {
    return vitrt_run_ex(context, input.data.data(), input.data.size(), batch,
                        output.data.data(), output.data.size(), &extras);
  };
  // Timed runs start warm: the first run pays for first-touch page faults of
  // the weights and activations (and device uploads), which would make the
  // mean of a few runs meaningless.
  if ((repeat > 1 || profile) && runOnce() != VITRT_OK)
    return fail(vitrt_last_error());
  if (profile && vitrt_context_set_profiling(context, 1) != VITRT_OK)
    return fail(vitrt_last_error());
  double best = 1e30, total = 0;
  for (unsigned i = 0; i < std::max(1u, repeat.getValue()); ++i) {
    auto start = std::chrono::steady_clock::now();
    if (runOnce() != VITRT_OK)
      return fail(vitrt_last_error());
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    best = std::min(best, ms);
    total += ms;
  }
  if (repeat > 1)
    llvm::outs() << llvm::formatv(
        "{0} ({6}): batch {1}, {2} runs: best {3:f2} ms, mean {4:f2} ms, "
        "{5:f1} images/s\n",
        info.name, batch, repeat.getValue(), best, total / repeat,
        1000.0 * batch / best, info.precision);
  if (profile) {
    int count = 0;
    vitrt_context_get_profile(context, nullptr, 0, &count);
    std::vector<vitrt_kernel_profile> entries(count);
    vitrt_context_get_profile(context, entries.data(), count, &count);
    double kernelSeconds = 0;
    for (const vitrt_kernel_profile &e : entries)
      kernelSeconds += e.seconds;
    const double runs = std::max(1u, repeat.getValue());
    // GFLOP/s over all calls, and in the fastest call (every call of a
    // kernel has the same shape), which a shared machine's noise touches
    // least.
    llvm::outs() << llvm::formatv("{0,-22} {1,6} {2,10} {3,7} {4,9} {5,9}\n",
                                  "kernel", "calls", "ms/run", "share",
                                  "GFLOP/s", "best");
    auto rate = [](double flops, double seconds) {
      return flops > 0 ? llvm::formatv("{0:f1}", flops / seconds / 1e9).str()
                       : std::string("-");
    };
    for (const vitrt_kernel_profile &e : entries)
      llvm::outs() << llvm::formatv(
          "{0,-22} {1,6} {2,10:f2} {3,6:f1}% {4,9} {5,9}\n", e.kernel,
          e.calls / int64_t(runs), 1000.0 * e.seconds / runs,
          100.0 * e.seconds / kernelSeconds, rate(e.flops, e.seconds),
          rate(e.flops / double(e.calls), e.best_seconds));
  }

  std::vector<std::string> labels;
  if (!labelsPath.empty()) {
    auto text = llvm::MemoryBuffer::getFile(labelsPath, /*IsText=*/true);
    if (!text)
      return fail("cannot read " + labelsPath + ": " +
                  text.getError().message());
    llvm::SmallVector<llvm::StringRef> lines;
    (*text)->getBuffer().split(lines, '\n');
    for (llvm::StringRef line : lines)
      labels.push_back(line.trim().str());
  }
  for (int64_t b = 0; b < batch && top > 0; ++b) {
    const float *row = output.data.data() + b * info.outputs;
    std::vector<int> order(info.outputs);
    std::iota(order.begin(), order.end(), 0);
    unsigned k = std::min<unsigned>(top, info.outputs);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int x, int y) { return row[x] > row[y]; });
    llvm::outs()
        << (b < int64_t(inputPaths.size()) &&
                    !llvm::StringRef(inputPaths.front()).ends_with(".npy")
                ? inputPaths[b]
                : "image " + std::to_string(b))
        << ":";
    for (unsigned i = 0; i < k; ++i) {
      llvm::outs() << llvm::formatv(" {0}", order[i]);
      if (order[i] < static_cast<int>(labels.size()))
        llvm::outs() << " (" << labels[order[i]] << ")";
      llvm::outs() << llvm::formatv(" {0:f3}", row[order[i]])
                   << (i + 1 < k ? "," : "");
    }
    llvm::outs() << "\n";
  }
  if (!outputPath.empty())
    if (llvm::Error err = vitc::writeNpy(outputPath, output))
      return fail(llvm::toString(std::move(err)));
  if (!featuresPath.empty())
    if (llvm::Error err = vitc::writeNpy(featuresPath, features))
      return fail(llvm::toString(std::move(err)));
  if (!attentionMapsPath.empty())
    if (llvm::Error err = vitc::writeNpy(attentionMapsPath, attention))
      return fail(llvm::toString(std::move(err)));
  if (!rolloutPath.empty())
    if (llvm::Error err = vitc::writeNpy(rolloutPath, rollout))
      return fail(llvm::toString(std::move(err)));
  if (!attentionImagePath.empty()) {
    if (llvm::Error err = vitc::writeAttentionImage(
            attentionImagePath, info, input.data.data(), batch,
            attention.data.data(),
            rollout.data.empty() ? nullptr : rollout.data.data()))
      return fail(llvm::toString(std::move(err)));
    llvm::outs() << "wrote " << attentionImagePath << "\n";
  }
  vitrt_context_destroy(context);
  vitrt_close(model);
  return 0;
}
