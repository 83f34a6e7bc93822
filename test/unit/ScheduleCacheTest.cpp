//===- ScheduleCacheTest.cpp - the schedule cache's keys and entries -----===//

#include "compiler/transforms/ScheduleCache.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

using namespace mlir;
using namespace mlir::vit;
using ::testing::HasSubstr;

namespace {

class ScheduleCacheTest : public ::testing::Test {
protected:
  ScheduleCacheTest() {
    context.loadDialect<VitDialect>();
    llvm::SmallString<128> path;
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("vitc-cache", path));
    dir = path.str().str();
    key = {"Some CPU (family 6 model 1 stepping 0)", "#vit.target<...>",
           "vit.fused_mlp(tensor<?x197x768xf32>) -> (tensor<?x197x768xf32>)",
           "0.7.0", "21.0.0"};
  }
  ~ScheduleCacheTest() override { llvm::sys::fs::remove_directories(dir); }

  Attribute tile(StringRef text) { return parseAttribute(text, &context); }
  std::string entryPath() const {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, key.fileName());
    return path.str().str();
  }
  std::optional<CachedSchedule> lookup() {
    warnings.clear();
    return lookupSchedule(dir, key, [&](const std::string &message) {
      warnings.push_back(message);
    });
  }

  MLIRContext context;
  std::string dir;
  ScheduleCacheKey key;
  std::vector<std::string> warnings;
};

TEST_F(ScheduleCacheTest, AnEntryRoundTrips) {
  EXPECT_FALSE(lookup()) << "an empty cache has no entry";
  Attribute stored = tile(
      "#vit.cpu_gemm_tile<columns = 32, rows = 6, vector = 16, parallel = rows>");
  ASSERT_TRUE(stored);
  ASSERT_FALSE(bool(storeSchedule(dir, key, stored,
                                  llvm::json::Object{{"seconds", 0.001}})));
  std::optional<CachedSchedule> found = lookup();
  ASSERT_TRUE(found);
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(found->settings.size(), 4u);
  EXPECT_EQ(found->settings[0].first, "columns");
  EXPECT_EQ(found->settings[0].second.getAsInteger(), 32);
  EXPECT_EQ(found->settings[1].first, "parallel");
  EXPECT_EQ(found->settings[1].second.getAsString(), "rows");
  EXPECT_EQ(found->settings[2].first, "rows");
  EXPECT_EQ(found->settings[2].second.getAsInteger(), 6);
  EXPECT_EQ(found->measured.getNumber("seconds"), 0.001);
  // Another key (here: another Halide) is another file, not this entry.
  key.halide = "22.0.0";
  EXPECT_FALSE(lookup());
  EXPECT_TRUE(warnings.empty());
}

TEST_F(ScheduleCacheTest, ACorruptEntryIsIgnoredWithAWarning) {
  std::ofstream(entryPath()) << "{\"format\": \"vitc-schedule-cache-1\", ";
  EXPECT_FALSE(lookup());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("ignored: not valid JSON"));
  std::ofstream(entryPath()) << "[1, 2, 3]";
  EXPECT_FALSE(lookup());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0],
              HasSubstr("ignored: not a vitc-schedule-cache-1 entry"));
}

TEST_F(ScheduleCacheTest, AForeignEntryIsIgnoredWithAWarning) {
  // An entry of another CPU under this key's file name (a copied file).
  ScheduleCacheKey other = key;
  other.cpu = "Another CPU";
  Attribute stored =
      tile("#vit.cpu_gemm_tile<columns = 32, rows = 6, vector = 16>");
  ASSERT_FALSE(bool(storeSchedule(dir, other, stored, {})));
  llvm::SmallString<128> from(dir);
  llvm::sys::path::append(from, other.fileName());
  ASSERT_FALSE(llvm::sys::fs::rename(from, entryPath()));
  EXPECT_FALSE(lookup());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("measured for another CPU, target, "
                                     "kernel or version"));
}

TEST_F(ScheduleCacheTest, KeysDifferInEveryField) {
  std::set<std::string> names{key.fileName()};
  for (std::string ScheduleCacheKey::*field :
       {&ScheduleCacheKey::cpu, &ScheduleCacheKey::target,
        &ScheduleCacheKey::kernel, &ScheduleCacheKey::vitc,
        &ScheduleCacheKey::halide}) {
    ScheduleCacheKey changed = key;
    changed.*field += "x";
    EXPECT_TRUE(names.insert(changed.fileName()).second);
  }
  EXPECT_THAT(hostCpuName(), ::testing::Not(::testing::IsEmpty()));
}

} // namespace
