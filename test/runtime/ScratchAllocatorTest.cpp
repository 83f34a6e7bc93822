//===- ScratchAllocatorTest.cpp - the model libraries' halide_malloc ------===//
//
// runtime/model/scratch_allocator.c, linked on its own with malloc and free
// wrapped (-Wl,--wrap) so the tests can count what reaches libc. Its cache is
// process-wide state: each test takes back the blocks it left in the cache
// and keeps them, so every test starts with an empty cache in any order.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <gtest/gtest.h>
#include <set>
#include <thread>
#include <vector>

extern "C" {
void *halide_malloc(void *user_context, size_t size);
void halide_free(void *user_context, void *block);

void *__real_malloc(size_t size);
void __real_free(void *block);

static std::atomic<int> mallocCalls{0}, freeCalls{0};
static std::atomic<void *> lastFreed{nullptr};

void *__wrap_malloc(size_t size) {
  ++mallocCalls;
  return __real_malloc(size);
}

void __wrap_free(void *block) {
  ++freeCalls;
  lastFreed = block;
  __real_free(block);
}
}

namespace {

/// Blocks the tests hold on to: freeing them would fill the cache.
std::vector<void *> &kept() {
  static std::vector<void *> blocks;
  return blocks;
}

/// Returns the kept blocks to libc at exit, from the start of the allocation
/// the allocator records before each block, so LeakSanitizer (VITC_FUZZ
/// builds), which does not follow pointers into the middle of an
/// allocation, has nothing to report.
class ReleaseKeptBlocks : public ::testing::Environment {
  void TearDown() override {
    for (void *block : kept())
      __real_free(static_cast<void **>(block)[-1]);
    kept().clear();
  }
};
::testing::Environment *const releaseKeptBlocks =
    ::testing::AddGlobalTestEnvironment(new ReleaseKeptBlocks);

void *allocate(size_t size) { return halide_malloc(nullptr, size); }

/// Takes back every cached block of `size` (until one comes from malloc).
void takeBackAll(size_t size) {
  for (;;) {
    int before = mallocCalls;
    kept().push_back(allocate(size));
    if (mallocCalls != before)
      return;
  }
}

TEST(ScratchAllocator, AlignsTo128BytesAndKeepsItsBookkeepingOutOfTheBlock) {
  for (size_t size : {1, 3, 64, 1000, 4097, 1 << 20}) {
    void *block = allocate(size);
    ASSERT_NE(block, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % 128, 0u) << size;
    // The whole block is the caller's: after it is overwritten, free still
    // finds the size (the cache takes it back for this size) and the start.
    memset(block, 0xab, size);
    halide_free(nullptr, block);
    int before = mallocCalls;
    EXPECT_EQ(allocate(size), block) << size;
    EXPECT_EQ(mallocCalls, before);
    kept().push_back(block);
  }
}

TEST(ScratchAllocator, ReusesAFreedBlockOfTheSameSize) {
  void *block = allocate(1000);
  int mallocs = mallocCalls, frees = freeCalls;
  halide_free(nullptr, block);
  EXPECT_EQ(freeCalls, frees) << "the freed block went to libc, not the cache";
  EXPECT_EQ(allocate(1000), block);
  EXPECT_EQ(mallocCalls, mallocs);
  kept().push_back(block);
}

TEST(ScratchAllocator, DoesNotHandOutABlockOfAnotherSize) {
  void *block = allocate(2000);
  halide_free(nullptr, block);
  int mallocs = mallocCalls;
  void *larger = allocate(2001), *smaller = allocate(1999);
  EXPECT_NE(larger, block);
  EXPECT_NE(smaller, block);
  EXPECT_EQ(mallocCalls, mallocs + 2);
  EXPECT_EQ(allocate(2000), block);
  kept().insert(kept().end(), {larger, smaller, block});
}

TEST(ScratchAllocator, KeepsAtMost64FreedBlocksAndFreesTheRest) {
  std::vector<void *> blocks;
  for (int i = 0; i < 65; ++i)
    blocks.push_back(allocate(3000));
  int frees = freeCalls;
  for (int i = 0; i < 64; ++i)
    halide_free(nullptr, blocks[i]);
  EXPECT_EQ(freeCalls, frees);
  halide_free(nullptr, blocks[64]);
  EXPECT_EQ(freeCalls, frees + 1);
  // What went to libc is the 65th block's allocation, which starts less than
  // 128 bytes and the bookkeeping before it.
  auto *start = static_cast<char *>(lastFreed.load());
  auto *last = static_cast<char *>(blocks[64]);
  EXPECT_LT(start, last);
  EXPECT_LE(last - start, static_cast<ptrdiff_t>(128 + 2 * sizeof(void *)));

  int mallocs = mallocCalls;
  std::set<void *> reused;
  for (int i = 0; i < 64; ++i)
    reused.insert(allocate(3000));
  EXPECT_EQ(mallocCalls, mallocs);
  EXPECT_EQ(reused, std::set<void *>(blocks.begin(), blocks.begin() + 64));
  kept().insert(kept().end(), reused.begin(), reused.end());
  takeBackAll(3000); // none left: this one comes from malloc
  EXPECT_EQ(mallocCalls, mallocs + 1);
}

TEST(ScratchAllocator, ThreadsNeverShareABlock) {
  // Each thread fills its block with its own byte and checks it is still
  // there before freeing it: a block handed to two threads at once, or a
  // cache slot torn by a race, shows up as a foreign byte.
  constexpr int kThreads = 4, kRounds = 2000;
  std::atomic<int> foreign{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([t, &foreign] {
      for (int round = 0; round < kRounds; ++round) {
        size_t size = 256 * (1 + (round + t) % 3);
        auto *block = static_cast<unsigned char *>(allocate(size));
        memset(block, t + 1, size);
        std::this_thread::yield();
        if (!std::all_of(block, block + size,
                         [t](unsigned char c) { return c == t + 1; }))
          ++foreign;
        halide_free(nullptr, block);
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(foreign, 0);
  for (size_t size : {256, 512, 768})
    takeBackAll(size);
}

} // namespace
