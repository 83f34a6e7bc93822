//===- ReplayMain.cpp - run a fuzz target over corpus files ---------------===//
//
// Without libFuzzer (the default gcc build) every fuzzer is this program: it
// feeds each file under the given paths to the target once, so the committed
// corpus is a regression test that CTest runs.
//
//===----------------------------------------------------------------------===//

#include "FuzzTarget.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    std::error_code error;
    for (llvm::sys::fs::recursive_directory_iterator it(argv[i], error), end;
         it != end && !error; it.increment(error)) {
      if (it->type() != llvm::sys::fs::file_type::regular_file)
        continue;
      auto buffer = llvm::MemoryBuffer::getFile(it->path());
      if (!buffer) {
        llvm::errs() << "cannot read " << it->path() << "\n";
        return 1;
      }
      auto bytes = (*buffer)->getBuffer();
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()),
                             bytes.size());
      ++count;
    }
    if (error) {
      llvm::errs() << "cannot list " << argv[i] << ": " << error.message()
                   << "\n";
      return 1;
    }
  }
  if (count == 0) {
    llvm::errs() << "no corpus files found\n";
    return 1;
  }
  llvm::outs() << "replayed " << count << " inputs without a crash\n";
  return 0;
}
