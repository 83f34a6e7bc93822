//===- TestData.h - helpers shared by the front-end unit tests ------------===//

#ifndef VITC_TEST_UNIT_TESTDATA_H
#define VITC_TEST_UNIT_TESTDATA_H

#include "support/Checkpoint.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <string>

namespace vitc::test {

/// test/data in the source tree (set by CMake).
inline std::string dataPath(llvm::StringRef relative) {
  return std::string(VITC_TEST_DATA_DIR) + "/" + relative.str();
}

/// The error message of an Expected that must have failed ("" if it did not).
template <typename T> std::string errorOf(llvm::Expected<T> value) {
  if (value)
    return "";
  return llvm::toString(value.takeError());
}

inline std::string errorOf(llvm::Error error) {
  return error ? llvm::toString(std::move(error)) : "";
}

/// A safetensors file from a raw JSON header and data bytes, exactly as given
/// (no padding), so tests can build malformed files.
inline std::string safetensorsBytes(const std::string &header,
                                    const std::string &data) {
  std::string bytes(8, '\0');
  llvm::support::endian::write64le(bytes.data(), header.size());
  return bytes + header + data;
}

/// A .npy v1 file from a header dict literal and data bytes.
inline std::string npyBytes(const std::string &dict, const std::string &data,
                            int version = 1) {
  std::string header = dict;
  size_t prefix = version == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64)
    header += ' ';
  header += '\n';
  std::string bytes("\x93NUMPY", 6);
  bytes += static_cast<char>(version);
  bytes += '\0';
  if (version == 1) {
    bytes += std::string(2, '\0');
    llvm::support::endian::write16le(bytes.data() + 8, header.size());
  } else {
    bytes += std::string(4, '\0');
    llvm::support::endian::write32le(bytes.data() + 8, header.size());
  }
  return bytes + header + data;
}

inline std::string floatBytes(std::initializer_list<float> values) {
  std::string bytes;
  for (float v : values) {
    char raw[4];
    llvm::support::endian::write32le(raw, llvm::bit_cast<uint32_t>(v));
    bytes.append(raw, 4);
  }
  return bytes;
}

/// A fresh path in a temporary directory, removed with the fixture.
class TempDir : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("vitc-test", dir));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }
  std::string path(llvm::StringRef name) const {
    return (dir + "/" + name).str();
  }

  llvm::SmallString<128> dir;
};

} // namespace vitc::test

#endif // VITC_TEST_UNIT_TESTDATA_H
