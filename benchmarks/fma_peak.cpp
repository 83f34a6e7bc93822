//===- fma_peak.cpp - the machine's fp32 FMA peak, 1 thread and all -------===//
//
// Independent chains of 8-lane fused multiply-adds (AVX2 + FMA), enough of
// them to hide the FMA latency, timed on one thread and on every core. The
// ratio of a model's achieved GFLOP/s to this is its fraction of peak.
//
// It also measures the sustained peak: the same loop cut into calls as long
// as a kernel call (10 ms), run by one pool of threads like a model's
// kernels, and averaged over all calls. On a shared machine (a vCPU whose
// core a neighbour also runs on) even this loop, which touches no memory,
// loses calls to the neighbours. The loop's fastest 10 ms call is the fair
// reference for a kernel's fastest call (it is a little above the best-of-3
// peak, which averages over a whole second).
//
//   vitc-fma-peak [seconds per measurement, default 1] [calls, default 100]
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <atomic>
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

struct Sustained {
  double mean, median, fastest; // GFLOP/s
};

/// `calls` calls of about `callSeconds` each on a pool of `threads` threads
/// (the caller and threads - 1 spinning workers), GFLOP/s per call.
Sustained sustained(int threads, double callSeconds, int calls, double onePeak) {
  const long iterations = std::max(1L, long(onePeak * 1e9 * callSeconds / (12 * 8 * 2)));
  std::atomic<int> generation{0}, finished{0};
  std::atomic<bool> quit{false};
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t)
    workers.emplace_back([&] {
      for (int seen = 0;;) {
        while (generation.load(std::memory_order_acquire) == seen && !quit.load())
          _mm_pause();
        if (quit.load())
          return;
        seen = generation.load();
        volatile float sink = fmaLoop(iterations);
        (void)sink;
        finished.fetch_add(1, std::memory_order_release);
      }
    });
  const double flop = threads * double(iterations) * 12 * 8 * 2;
  std::vector<double> seconds;
  for (int call = 0; call < calls; ++call) {
    auto start = std::chrono::steady_clock::now();
    finished.store(0);
    generation.fetch_add(1, std::memory_order_release);
    volatile float sink = fmaLoop(iterations);
    (void)sink;
    while (finished.load(std::memory_order_acquire) != threads - 1)
      _mm_pause();
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  quit.store(true);
  for (std::thread &t : workers)
    t.join();
  // The mean rate over all calls is total work over total time.
  double total = 0;
  for (double t : seconds)
    total += t;
  std::sort(seconds.begin(), seconds.end());
  auto rate = [&](double t) { return flop / t / 1e9; };
  return {flop * calls / total / 1e9, rate(seconds[seconds.size() / 2]), rate(seconds.front())};
}

} // namespace

int main(int argc, char **argv) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    std::fprintf(stderr, "vitc-fma-peak: this CPU has no AVX2 + FMA\n");
    return 1;
  }
  double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  int calls = argc > 2 ? std::atoi(argv[2]) : 100;
  if (!(seconds > 0 && seconds <= 60) || calls < 1) {
    std::fprintf(stderr, "usage: vitc-fma-peak [seconds per measurement, 0-60] [calls >= 1]\n");
    return 1;
  }
  int cores = std::max(1u, std::thread::hardware_concurrency());
  double best1 = 0, bestAll = 0;
  for (int round = 0; round < 3; ++round) {
    best1 = std::max(best1, measure(1, seconds));
    bestAll = std::max(bestAll, measure(cores, seconds));
  }
  std::printf("fp32 FMA peak (AVX2, best of 3): 1 thread %.1f GFLOP/s, %d threads %.1f GFLOP/s\n",
              best1, cores, bestAll);
  const double callSeconds = 0.010;
  Sustained s = sustained(cores, callSeconds, calls, best1);
  std::printf("sustained (%d calls of %.0f ms, %d threads): mean %.1f GFLOP/s, median %.1f, "
              "fastest call %.1f\n",
              calls, callSeconds * 1e3, cores, s.mean, s.median, s.fastest);
  return 0;
}
