//===- JsonTest.cpp - the JSON nesting bound ------------------------------===//
//
// checkJsonInput stands between untrusted files and llvm::json::parse, which
// recurses per level: brackets inside strings must not count, the limit
// itself must pass and one level more must fail, and a huge input must be
// measured without recursion.
//
//===----------------------------------------------------------------------===//

#include "TestData.h"

#include "support/Json.h"

using namespace vitc;
using namespace vitc::test;

namespace {

using ::testing::HasSubstr;

std::string nested(size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(JsonDepth, CountsArraysAndObjects) {
  EXPECT_EQ(jsonNestingDepth(""), 0u);
  EXPECT_EQ(jsonNestingDepth("17"), 0u);
  EXPECT_EQ(jsonNestingDepth("[]"), 1u);
  EXPECT_EQ(jsonNestingDepth(R"({"a":[1,{"b":[]}],"c":[]})"), 4u);
  EXPECT_EQ(jsonNestingDepth("[][][]"), 1u);
}

TEST(JsonDepth, BracketsInStringsDoNotCount) {
  EXPECT_EQ(jsonNestingDepth(R"(["[[[{{{"])"), 1u);
  // An escaped quote does not end the string, so the brackets after it are
  // still inside it.
  EXPECT_EQ(jsonNestingDepth(R"(["\"[[[", 1])"), 1u);
  // An escaped backslash does not escape the closing quote, so the brackets
  // after it count.
  EXPECT_EQ(jsonNestingDepth(R"(["\\", [[1]]])"), 3u);
  EXPECT_EQ(jsonNestingDepth(R"({"k\"}":"v]\\"})"), 1u);
}

TEST(JsonDepth, UnbalancedTextIsLeftToTheParser) {
  EXPECT_EQ(jsonNestingDepth("]]]["), 1u);
  EXPECT_EQ(jsonNestingDepth("[[[\"unterminated"), 3u);
  EXPECT_EQ(jsonNestingDepth("[\"ends in a backslash\\"), 1u);
}

TEST(JsonDepth, TheLimitPassesAndOneMoreFails) {
  EXPECT_EQ(errorOf(checkJsonInput(nested(kMaxJsonDepth), "f")), "");
  EXPECT_EQ(errorOf(checkJsonInput(nested(kMaxJsonDepth + 1),
                                   "schedule file 'x.json'")),
            "schedule file 'x.json' nests JSON 65 levels deep; vitc reads at "
            "most 64");
}

TEST(JsonDepth, HugeNestingIsMeasuredWithoutRecursion) {
  std::string text(1'000'000, '[');
  EXPECT_EQ(jsonNestingDepth(text), 1'000'000u);
  EXPECT_THAT(errorOf(checkJsonInput(text, "f")),
              HasSubstr("f nests JSON 1000000 levels deep"));
}

TEST(JsonKeys, ADuplicateKeyInOneObjectIsFound) {
  EXPECT_EQ(firstDuplicateKey(R"({"a": 1, "b": 2, "a": 3})"), "a");
  // Nested: the inner object's keys are its own.
  EXPECT_EQ(firstDuplicateKey(R"({"x": {"a": 1, "a": 2}})"), "a");
  EXPECT_EQ(errorOf(checkJsonInput(R"({"hidden_size": 768, "hidden_size": 8})",
                                   "model config file 'c.json'")),
            "model config file 'c.json' has the key 'hidden_size' twice in "
            "one object; vitc refuses it (readers disagree on which one "
            "counts)");
}

TEST(JsonKeys, EqualKeysOfDifferentObjectsAndValuesAreFine) {
  EXPECT_EQ(firstDuplicateKey(R"({"a": {"x": 1}, "b": {"x": 2}})"),
            std::nullopt);
  EXPECT_EQ(firstDuplicateKey(R"([{"x": 1}, {"x": 2}])"), std::nullopt);
  // Strings in value position are not keys, even when they repeat a key.
  EXPECT_EQ(firstDuplicateKey(R"({"a": "a", "b": ["a", "b"], "c": "b"})"),
            std::nullopt);
  // Escapes inside keys do not end them.
  EXPECT_EQ(firstDuplicateKey(R"({"k\"": 1, "k": 2, "k\\": 3})"), std::nullopt);
  EXPECT_EQ(errorOf(checkJsonInput(R"({"a": [1, {"a": 2}]})", "f")), "");
}

} // namespace
