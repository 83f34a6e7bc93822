//===- FuzzTarget.h - one entry point for libFuzzer and corpus replay -----===//
//
// Each fuzzer defines LLVMFuzzerTestOneInput. Built with VITC_FUZZ=ON (clang)
// it is a libFuzzer binary; otherwise ReplayMain.cpp runs it over the
// committed corpus as a regression test in CTest.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_TEST_FUZZ_FUZZTARGET_H
#define VITC_TEST_FUZZ_FUZZTARGET_H

#include "llvm/ADT/StringRef.h"
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

inline llvm::StringRef fuzzBytes(const uint8_t *data, size_t size) {
  return llvm::StringRef(reinterpret_cast<const char *>(data), size);
}

#endif // VITC_TEST_FUZZ_FUZZTARGET_H
