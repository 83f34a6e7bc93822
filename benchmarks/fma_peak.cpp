//===- fma_peak.cpp - the machine's fp32 FMA peak, 1 thread and all -------===//
//
// Independent chains of 8-lane fused multiply-adds (AVX2 + FMA), enough of
// them to hide the FMA latency, timed on one thread and on every core. The
// ratio of a model's achieved GFLOP/s to this is its fraction of peak.
//
//   vitc-fma-peak [seconds per measurement, default 1]
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <immintrin.h>
#include <thread>
#include <vector>

namespace {

// 12 accumulators: 2 FMA units x 4-5 cycles latency, with room to spare.
__attribute__((target("avx2,fma"))) float fmaLoop(long iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long n = 0; n < iterations; ++n)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 sum = acc[0];
  for (int i = 1; i < 12; ++i)
    sum = _mm256_add_ps(sum, acc[i]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  return lanes[0];
}

/// GFLOP/s of `threads` threads running the loop for about `seconds`.
double measure(int threads, double seconds) {
  // Calibrate the iteration count on one thread.
  long iterations = 1 << 20;
  for (;;) {
    auto start = std::chrono::steady_clock::now();
    volatile float sink = fmaLoop(iterations);
    (void)sink;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (s > seconds / 4)
      break;
    iterations *= 2;
  }
  iterations *= 4; // about `seconds` per thread
  std::vector<std::thread> pool;
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      volatile float sink = fmaLoop(iterations);
      (void)sink;
    });
  for (std::thread &t : pool)
    t.join();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Each FMA is 2 FLOP on 8 lanes, 12 per iteration.
  return threads * double(iterations) * 12 * 8 * 2 / s / 1e9;
}

} // namespace

int main(int argc, char **argv) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    std::fprintf(stderr, "vitc-fma-peak: this CPU has no AVX2 + FMA\n");
    return 1;
  }
  double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  int cores = std::max(1u, std::thread::hardware_concurrency());
  double best1 = 0, bestAll = 0;
  for (int round = 0; round < 3; ++round) {
    best1 = std::max(best1, measure(1, seconds));
    bestAll = std::max(bestAll, measure(cores, seconds));
  }
  std::printf("fp32 FMA peak (AVX2, best of 3): 1 thread %.1f GFLOP/s, %d threads %.1f GFLOP/s\n",
              best1, cores, bestAll);
  return 0;
}
