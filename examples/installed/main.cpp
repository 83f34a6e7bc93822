// Classifies one all-zero image with a model compiled by an installed vitc.
#include "tiny.h"
#include "vitrt.hpp"
#include <cstdio>
#include <vector>

int main(int argc, char **argv) {
  if (argc != 2)
    return std::fprintf(stderr, "usage: %s WEIGHTS\n", argv[0]), 2;
  vitrt::Model model(tiny_model(), argv[1]);
  vitrt::Context context(model);
  const vitrt_model_info &info = model.info();
  std::vector<float> image(size_t(info.channels) * info.height * info.width);
  std::vector<float> logits = context.run(image, 1);
  std::printf("%s (%s): %zu logits, first %.4f\n", info.name, info.precision,
              logits.size(), logits[0]);
}
