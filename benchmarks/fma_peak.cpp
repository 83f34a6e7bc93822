//===- fma_peak.cpp - fp32, int8 and bf16 peaks, 1 thread and all threads -===//
//
// Independent chains of fused multiply-adds of the widest vectors the host
// has (AVX-512 where present, else AVX2 + FMA), enough of them to hide the
// latency, timed on one thread and on every core. The ratio of a model's
// achieved GFLOP/s to this is its fraction of peak. The int8 peak is the
// same with the int8 dot products vitc's int8 GEMMs use: vpdpbusd (AVX512-
// VNNI: 64 u8 x s8 multiply-adds per instruction), else vpmaddubsw +
// vpmaddwd + vpaddd (AVX2: 32 per three instructions); an op is a multiply
// or an add, as a FLOP is. The bf16 peak is the same with the bf16 dot
// product vitc's bf16 GEMMs use, vdpbf16ps (AVX512-BF16: 32 bf16 x bf16
// multiply-adds into f32 per instruction, 64 FLOP); a host without it gets a
// line saying so instead. Where the CPU and OS give AMX-BF16, the AMX peak
// is the same with tdpbf16ps on 4 tile accumulators (16 x 16 x 32 multiply-
// adds each), the operand tiles loaded once: the instruction's own rate,
// which the AMX GEMM of bf16 kernels (runtime/model/amx_gemm.c) approaches
// only as far as its tile loads allow.
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
#include <cpuid.h>
#include <cstdio>
#include <cstdlib>
#include <immintrin.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

// Each loop runs `iterations` times 12 independent chains (2 units x 4-5
// cycles latency, with room to spare) and returns something of the result.
using Loop = float (*)(long iterations);

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

__attribute__((target("avx512f"))) float fma512Loop(long iterations) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long n = 0; n < iterations; ++n)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 sum = acc[0];
  for (int i = 1; i < 12; ++i)
    sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx512f,avx512vnni"))) float dpbusdLoop(long iterations) {
  __m512i acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm512_set1_epi32(i);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (long n = 0; n < iterations; ++n)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  __m512i sum = acc[0];
  for (int i = 1; i < 12; ++i)
    sum = _mm512_add_epi32(sum, acc[i]);
  return float(_mm512_reduce_add_epi32(sum));
}

__attribute__((target("avx512f,avx512bf16"))) float dpbf16Loop(long iterations) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm512_set1_ps(0.001f * i);
  // Each lane adds a0 * b0 + a1 * b1 of a bf16 pair: 2 x 1e-7 per iteration.
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1.0f), _mm512_set1_ps(1.0f)),
                 b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-7f), _mm512_set1_ps(1e-7f));
  for (long n = 0; n < iterations; ++n)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  __m512 sum = acc[0];
  for (int i = 1; i < 12; ++i)
    sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2"))) float maddubsLoop(long iterations) {
  __m256i acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm256_set1_epi32(i);
  const __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-2),
                ones = _mm256_set1_epi16(1);
  for (long n = 0; n < iterations; ++n)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm256_add_epi32(
          acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), ones));
  __m256i sum = acc[0];
  for (int i = 1; i < 12; ++i)
    sum = _mm256_add_epi32(sum, acc[i]);
  int lanes[8];
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(lanes), sum);
  return float(lanes[0]);
}

__attribute__((target("amx-tile,amx-bf16"))) float amxBf16Loop(long iterations) {
  // Palette 1; tiles 0-3: 16 x 16 f32 sums; 4-7: 16 rows of 64 bytes.
  struct {
    unsigned char palette, startRow, reserved[14];
    unsigned short colsb[16];
    unsigned char rows[16];
  } config = {};
  config.palette = 1;
  for (int t = 0; t < 8; ++t) {
    config.colsb[t] = 64;
    config.rows[t] = 16;
  }
  alignas(64) static const unsigned short operand[16 * 32] = {}; // bf16 zeros
  alignas(64) float sums[16 * 16];
  _tile_loadconfig(&config);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, operand, 64);
  _tile_loadd(5, operand, 64);
  _tile_loadd(6, operand, 64);
  _tile_loadd(7, operand, 64);
  for (long n = 0; n < iterations; ++n) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, sums, 64);
  _tile_release();
  return sums[0];
}

/// Whether the CPU has AMX-BF16 and tiles (CPUID leaf 7, EDX bits 22 and
/// 24), the OS has enabled their state (XCR0 bits 17 and 18) and granted it
/// to this process (arch_prctl ARCH_REQ_XCOMP_PERM, as vitrt_open asks).
bool hasAmxBf16() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) || !((edx >> 22) & 1) ||
      !((edx >> 24) & 1))
    return false;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !((ecx >> 27) & 1))
    return false;
  unsigned xcr0, high;
  __asm__("xgetbv" : "=a"(xcr0), "=d"(high) : "c"(0));
  if ((xcr0 & (3u << 17)) != (3u << 17))
    return false;
  const long reqXcompPerm = 0x1023, xfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, reqXcompPerm, xfeatureXtiledata) == 0;
}

/// A loop and the operations (multiplies and adds) of one iteration.
struct PeakLoop {
  const char *name;
  Loop loop;
  double opsPerIteration;
};

/// The widest fp32 FMA loop the host runs, and the int8 loop vitc uses.
PeakLoop fp32Loop() {
  if (__builtin_cpu_supports("avx512f"))
    return {"AVX-512", fma512Loop, 12.0 * 16 * 2};
  return {"AVX2", fmaLoop, 12.0 * 8 * 2};
}
PeakLoop int8Loop() {
  if (__builtin_cpu_supports("avx512vnni"))
    return {"AVX512-VNNI vpdpbusd", dpbusdLoop, 12.0 * 64 * 2};
  return {"AVX2 vpmaddubsw + vpmaddwd", maddubsLoop, 12.0 * 32 * 2};
}

/// Whether the host has AVX512-BF16 (cpuid leaf 7 subleaf 1, EAX bit 5; the
/// OS's AVX-512 state is what __builtin_cpu_supports("avx512f") checks).
bool hasAvx512Bf16() {
  unsigned eax, ebx, ecx, edx;
  if (!__builtin_cpu_supports("avx512f") || !__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx))
    return false;
  return (eax >> 5) & 1;
}
/// The bf16 loop, where the host has a bf16 dot product (name null where not).
PeakLoop bf16Loop() {
  if (hasAvx512Bf16())
    return {"AVX512-BF16 vdpbf16ps", dpbf16Loop, 12.0 * 32 * 2};
  return {nullptr, nullptr, 0};
}

/// The AMX loop, where the CPU and OS give AMX-BF16 (name null where not).
PeakLoop amxLoop() {
  if (hasAmxBf16())
    return {"AMX-BF16 tdpbf16ps", amxBf16Loop, 4.0 * 16 * 16 * 32 * 2};
  return {nullptr, nullptr, 0};
}

/// G operations/s of `threads` threads running `peak` for about `seconds`.
double measure(const PeakLoop &peak, int threads, double seconds) {
  Loop fmaLoop = peak.loop;
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
  return threads * double(iterations) * peak.opsPerIteration / s / 1e9;
}

struct Sustained {
  double mean, median, fastest; // GFLOP/s
};

/// `calls` calls of about `callSeconds` each on a pool of `threads` threads
/// (the caller and threads - 1 spinning workers), GFLOP/s per call.
Sustained sustained(const PeakLoop &peak, int threads, double callSeconds, int calls,
                    double onePeak) {
  Loop fmaLoop = peak.loop;
  const long iterations =
      std::max(1L, long(onePeak * 1e9 * callSeconds / peak.opsPerIteration));
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
  const double flop = threads * double(iterations) * peak.opsPerIteration;
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
  const PeakLoop fp32 = fp32Loop(), int8 = int8Loop(), bf16 = bf16Loop(), amx = amxLoop();
  double best1 = 0, bestAll = 0, int8One = 0, int8All = 0, bf16One = 0, bf16All = 0;
  double amxOne = 0, amxAll = 0;
  for (int round = 0; round < 3; ++round) {
    best1 = std::max(best1, measure(fp32, 1, seconds));
    bestAll = std::max(bestAll, measure(fp32, cores, seconds));
    int8One = std::max(int8One, measure(int8, 1, seconds));
    int8All = std::max(int8All, measure(int8, cores, seconds));
    if (bf16.loop) {
      bf16One = std::max(bf16One, measure(bf16, 1, seconds));
      bf16All = std::max(bf16All, measure(bf16, cores, seconds));
    }
    if (amx.loop) {
      amxOne = std::max(amxOne, measure(amx, 1, seconds));
      amxAll = std::max(amxAll, measure(amx, cores, seconds));
    }
  }
  std::printf("fp32 FMA peak (%s, best of 3): 1 thread %.1f GFLOP/s, %d threads %.1f GFLOP/s\n",
              fp32.name, best1, cores, bestAll);
  const double callSeconds = 0.010;
  Sustained s = sustained(fp32, cores, callSeconds, calls, best1);
  std::printf("sustained (%d calls of %.0f ms, %d threads): mean %.1f GFLOP/s, median %.1f, "
              "fastest call %.1f\n",
              calls, callSeconds * 1e3, cores, s.mean, s.median, s.fastest);
  std::printf("int8 peak (%s, best of 3): 1 thread %.1f GOP/s, %d threads %.1f GOP/s\n",
              int8.name, int8One, cores, int8All);
  if (bf16.loop)
    std::printf("bf16 peak (%s, best of 3): 1 thread %.1f GFLOP/s, %d threads %.1f GFLOP/s\n",
                bf16.name, bf16One, cores, bf16All);
  else
    std::printf("bf16 peak: none (this CPU has no bf16 dot product: no AVX512-BF16)\n");
  if (amx.loop)
    std::printf("AMX bf16 peak (%s, best of 3): 1 thread %.1f GFLOP/s, %d threads %.1f GFLOP/s\n",
                amx.name, amxOne, cores, amxAll);
  else
    std::printf("AMX bf16 peak: none (no AMX-BF16, or the OS has not enabled its tile state)\n");
  return 0;
}
