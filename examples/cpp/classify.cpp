// classify.cpp - a C++ program that links a ViT compiled by vitc, through the
// RAII wrapper vitrt.hpp. Runs a batch of synthetic images from two threads,
// each with its own context on one shared model, and prints the top class.
//
//   classify-cpp WEIGHTS
#include "tiny_vit.h"
#include "vitrt.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <thread>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s WEIGHTS\n", argv[0]);
    return 2;
  }
  try {
    vitrt::Model model(tiny_vit_model(), argv[1]);
    const vitrt_model_info &info = model.info();
    const int64_t batch = 4;
    std::vector<float> images(batch * model.imageSize());
    for (size_t i = 0; i < images.size(); ++i)
      images[i] =
          std::sin(0.01f * float(i)); // a smooth synthetic pattern in [-1, 1]

    std::vector<float> first, second;
    std::thread worker(
        [&] { first = vitrt::Context(model).run(images, batch); });
    second = vitrt::Context(model).run(images, batch);
    worker.join();
    for (int64_t b = 0; b < batch; ++b) {
      const float *row = first.data() + b * info.outputs;
      int best = int(std::max_element(row, row + info.outputs) - row);
      std::printf(
          "image %lld: class %d (%.3f)%s\n", (long long)b, best, row[best],
          std::equal(row, row + info.outputs, second.data() + b * info.outputs)
              ? ""
              : " (threads disagree!)");
    }
  } catch (const vitrt::Error &error) {
    std::fprintf(stderr, "classify-cpp: %s\n", error.what());
    return 1;
  }
  return 0;
}
