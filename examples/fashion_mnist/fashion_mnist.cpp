// fashion_mnist.cpp - the main job: a ViT trained on Fashion-MNIST (weights
// committed beside this file, trained by train.py with PyTorch), compiled by
// vitc through vit_add_model(), classifies the 10,000 test images of the
// Debian package dataset-fashion-mnist. Prints its accuracy next to the
// accuracy PyTorch measured with the same weights, then times it.
//
//   fashion-mnist WEIGHTS DATASET_DIR REFERENCE_JSON LABELS
#include "fashion_vit.h"
#include "vitrt.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <zlib.h>

namespace {

/// An IDX file (big-endian header: magic, counts, dims) from a .gz.
std::vector<uint8_t> readIdx(const std::string &path, uint32_t magic,
                             std::vector<uint32_t> &dims) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file)
    throw std::runtime_error(
        "cannot open " + path +
        " (install the Debian package dataset-fashion-mnist)");
  auto word = [&] {
    unsigned char b[4];
    if (gzread(file, b, 4) != 4)
      throw std::runtime_error(path + ": truncated header");
    return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 |
           b[3];
  };
  if (word() != magic) {
    gzclose(file);
    throw std::runtime_error(path + ": not an IDX file of the expected kind");
  }
  size_t count = 1;
  for (uint32_t &dim : dims) {
    dim = word();
    count *= dim;
  }
  std::vector<uint8_t> data(count);
  int read = gzread(file, data.data(), unsigned(count));
  gzclose(file);
  if (read != int(count))
    throw std::runtime_error(path + ": truncated data");
  return data;
}

/// A number field of a flat JSON object (enough for reference.json).
double jsonNumber(const std::string &text, const std::string &key) {
  size_t at = text.find("\"" + key + "\"");
  if (at == std::string::npos)
    throw std::runtime_error("reference.json has no " + key);
  return std::stod(text.substr(text.find(':', at) + 1));
}

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 5) {
    std::fprintf(stderr,
                 "usage: %s WEIGHTS DATASET_DIR REFERENCE_JSON LABELS\n",
                 argv[0]);
    return 2;
  }
  try {
    vitrt::Model model(fashion_vit_model(), argv[1]);
    const vitrt_model_info &info = model.info();
    std::string dir = argv[2];
    std::vector<uint32_t> imageDims(3), labelDims(1);
    std::vector<uint8_t> pixels =
        readIdx(dir + "/t10k-images-idx3-ubyte.gz", 2051, imageDims);
    std::vector<uint8_t> labels =
        readIdx(dir + "/t10k-labels-idx1-ubyte.gz", 2049, labelDims);
    const int64_t count = imageDims[0];
    if (imageDims[1] != uint32_t(info.height) ||
        imageDims[2] != uint32_t(info.width) || info.channels != 1 ||
        labelDims[0] != imageDims[0])
      throw std::runtime_error("the dataset does not fit the model's " +
                               std::to_string(info.height) + "x" +
                               std::to_string(info.width) +
                               " single-channel input");
    // The preprocessing train.py used: (pixel / 255 - mean) / std.
    std::vector<float> images(pixels.size());
    for (size_t i = 0; i < pixels.size(); ++i)
      images[i] = (pixels[i] / 255.0f - info.mean[0]) / info.std[0];
    std::ifstream referenceFile(argv[3]);
    std::stringstream reference;
    reference << referenceFile.rdbuf();
    std::vector<std::string> names;
    std::ifstream labelFile(argv[4]);
    for (std::string line; std::getline(labelFile, line);)
      names.push_back(line);

    vitrt::Context context(model);
    const int64_t batch = 100;
    int64_t correct = 0;
    std::vector<int> predicted(count);
    auto start = std::chrono::steady_clock::now();
    for (int64_t first = 0; first < count; first += batch) {
      int64_t n = std::min(batch, count - first);
      std::vector<float> chunk(images.begin() + first * 784,
                               images.begin() + (first + n) * 784);
      std::vector<float> logits = context.run(chunk, n);
      for (int64_t b = 0; b < n; ++b) {
        const float *row = logits.data() + b * info.outputs;
        predicted[first + b] =
            int(std::max_element(row, row + info.outputs) - row);
        correct += predicted[first + b] == labels[first + b];
      }
    }
    double totalMs = msSince(start);

    std::vector<double> latencies;
    std::vector<float> one(images.begin(), images.begin() + 784);
    for (int i = 0; i < 50; ++i) {
      auto t = std::chrono::steady_clock::now();
      context.run(one, 1);
      latencies.push_back(msSince(t));
    }
    std::sort(latencies.begin(), latencies.end());

    double torchAccuracy = jsonNumber(reference.str(), "test_accuracy");
    int64_t torchCorrect = int64_t(jsonNumber(reference.str(), "correct"));
    std::printf("Fashion-MNIST test set: %lld images from %s\n",
                (long long)count, dir.c_str());
    std::printf("  vitc    accuracy: %.2f%% (%lld/%lld)\n",
                100.0 * correct / count, (long long)correct, (long long)count);
    std::printf("  PyTorch accuracy: %.2f%% (%lld/%lld), same weights "
                "(reference.json)\n",
                100.0 * torchAccuracy, (long long)torchCorrect,
                (long long)count);
    std::printf("  first images:");
    for (int i = 0; i < 5; ++i)
      std::printf(" %s%s", names.at(predicted[i]).c_str(),
                  predicted[i] == labels[i] ? "" : " (wrong)");
    std::printf("\n  throughput: %lld images in %.0f ms at batch %lld (%.0f "
                "images/s)\n",
                (long long)count, totalMs, (long long)batch,
                1000.0 * count / totalMs);
    std::printf("  latency at batch 1: median %.3f ms, best %.3f ms\n",
                latencies[latencies.size() / 2], latencies[0]);
    // Float rounding may flip a near-tie or two; more is a real difference.
    if (std::abs(correct - torchCorrect) > count / 1000) {
      std::fprintf(stderr, "fashion-mnist: accuracy differs from PyTorch's by "
                           "more than 0.1%%\n");
      return 3;
    }
    return 0;
  } catch (const std::exception &error) {
    std::fprintf(stderr, "fashion-mnist: %s\n", error.what());
    return 1;
  }
}
