//===- NpyFuzzer.cpp - parseNpy on arbitrary bytes ------------------------===//

#include "FuzzTarget.h"
#include "support/Checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::consumeError(vitc::parseNpy(fuzzBytes(data, size), "fuzz").takeError());
  return 0;
}
