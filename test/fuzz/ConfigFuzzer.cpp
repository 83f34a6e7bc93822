//===- ConfigFuzzer.cpp - config.json parsing, and weights binding --------===//
//
// Parses arbitrary bytes as a config; whatever validates is also bound to
// random weights, so listParams() and the IR-facing sizes see fuzzed configs.
// Sizes are capped so one input cannot ask for gigabytes.
//
//===----------------------------------------------------------------------===//

#include "FuzzTarget.h"
#include "compiler/frontend/ConfigFile.h"
#include "compiler/frontend/Weights.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::Expected<vitc::ModelConfig> config =
      vitc::parseConfigJson(fuzzBytes(data, size), "fuzz.json");
  if (!config) {
    llvm::consumeError(config.takeError());
    return 0;
  }
  int64_t elements = 0;
  for (const vitc::ParamSpec &param : vitc::listParams(*config)) {
    elements += param.numElements();
    if (elements > (1 << 20))
      return 0;
  }
  vitc::ModelWeights weights = vitc::randomWeights(*config, 1);
  vitc::Checkpoint checkpoint;
  for (auto &[name, tensor] : weights)
    llvm::cantFail(checkpoint.add(name, std::move(tensor)));
  std::vector<std::string> notes;
  llvm::Expected<vitc::ModelWeights> bound =
      vitc::bindWeights(*config, std::move(checkpoint), {}, notes);
  if (!bound)
    abort(); // weights made for a config must bind to it
  return 0;
}
