//===- TargetDescription.cpp - #vit.target from a Halide target -----------===//
//
// Features are the whole instruction sets a Halide target implies: Halide
// names CPU generations (avx512_zen4 includes VNNI and BF16,
// avx512_sapphirerapids adds AVX-VNNI and AMX), and "host" asks the CPU.
// Halide calls a CPU Sapphire Rapids from its AVX-512 extensions without
// asking for AMX, which hypervisors often hide: for "host", AMX counts only
// where CPUID reports it and the OS has enabled its state.
//
//===----------------------------------------------------------------------===//

#include "compiler/target/TargetDescription.h"

#include "Halide.h"

#include <algorithm>
#include <thread>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

using namespace mlir;
using namespace mlir::vit;
using Halide::Target;

static llvm::Error targetError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The targets of a (possibly multi-target) string, checked.
static llvm::Expected<std::vector<Target>> parseTargets(llvm::StringRef text) {
  llvm::SmallVector<llvm::StringRef> parts;
  text.split(parts, ',');
  std::vector<Target> targets;
  for (llvm::StringRef part : parts) {
    if (!Target::validate_target_string(part.str()))
      return targetError(
          "'" + part +
          "' is not a Halide target string (e.g. host, x86-64-linux-avx2, "
          "arm-64-linux, host-cuda; several, comma-separated, for runtime "
          "dispatch)");
    targets.emplace_back(part.str());
    const Target &t = targets.back();
    if (t.arch != Target::X86 && t.arch != Target::ARM &&
        t.arch != Target::RISCV)
      return targetError("'" + part +
                         "' names no architecture vitc can tile for (x86, "
                         "arm, riscv or host)");
    // Halide's LLVM aborts on some kernels for the bare AVX-512 foundation
    // set (Xeon Phi); every AVX-512 CPU since Skylake has the BW/DQ/VL parts.
    if (t.has_feature(Target::AVX512) && !t.has_feature(Target::AVX512_Skylake))
      return targetError(
          "'" + part +
          "' asks for the bare AVX-512 foundation set, which is not "
          "supported; use avx512_skylake or later (e.g. "
          "x86-64-linux-avx512_skylake)");
    if (t.has_gpu_feature() && !t.has_feature(Target::CUDA) &&
        !t.has_feature(Target::OpenCL))
      return targetError("'" + part +
                         "' asks for a GPU API vitc does not run; use cuda "
                         "(e.g. host-cuda-cuda_capability_80) or opencl");
  }
  if (targets.size() > 1 && llvm::any_of(targets, [](const Target &t) {
        return t.has_gpu_feature();
      }))
    return targetError("a GPU target cannot be part of a multi-target "
                       "library, got '" +
                       text + "'");
  for (const Target &t : targets)
    if (t.arch != targets[0].arch || t.os != targets[0].os ||
        t.bits != targets[0].bits)
      return targetError("the targets of a multi-target library must share "
                         "architecture, OS and bits, got '" +
                         text + "'");
  return targets;
}

/// The instruction sets `t` implies.
static CpuFeatures featuresOf(const Target &t) {
  auto any = [&](std::initializer_list<Target::Feature> features) {
    return llvm::any_of(features,
                        [&](Target::Feature f) { return t.has_feature(f); });
  };
  CpuFeatures features = CpuFeatures::None;
  auto add = [&](bool present, CpuFeatures feature) {
    if (present)
      features = features | feature;
  };
  if (t.arch == Target::X86) {
    // What each generation implies, as Halide completes an x86 target
    // before generating code (complete_x86_target in CodeGen_X86.cpp).
    const bool avx10 = t.has_feature(Target::AVX10_1);
    const bool sapphire = t.has_feature(Target::AVX512_SapphireRapids) ||
                          (avx10 && t.vector_bits >= 512);
    const bool zen5 = t.has_feature(Target::AVX512_Zen5);
    const bool zen4 = sapphire || zen5 || t.has_feature(Target::AVX512_Zen4);
    const bool avx512 =
        zen4 || any({Target::AVX512_Cannonlake, Target::AVX512_Skylake});
    const bool avx2 = avx512 || t.has_feature(Target::AVX2) ||
                      (avx10 && t.vector_bits >= 256);
    const bool avx = avx2 || t.has_feature(Target::AVX);
    add(avx || t.has_feature(Target::SSE41), CpuFeatures::SSE41);
    add(avx, CpuFeatures::AVX);
    add(avx2, CpuFeatures::AVX2);
    add(avx2 || t.has_feature(Target::FMA), CpuFeatures::FMA);
    add(avx2 || t.has_feature(Target::F16C), CpuFeatures::F16C);
    add(sapphire || zen5 || t.has_feature(Target::AVXVNNI),
        CpuFeatures::AVXVNNI);
    add(avx512, CpuFeatures::AVX512);
    add(zen4, CpuFeatures::AVX512VNNI);
    add(zen4, CpuFeatures::AVX512BF16);
    add(sapphire, CpuFeatures::AMXInt8);
    add(sapphire, CpuFeatures::AMXBF16);
  } else if (t.arch == Target::ARM) {
    add(!t.has_feature(Target::NoNEON), CpuFeatures::NEON);
    add(t.has_feature(Target::ARMDotProd), CpuFeatures::ARMDotProd);
    add(t.has_feature(Target::ARMFp16), CpuFeatures::ARMFp16);
  }
  return features;
}

/// Whether this CPU reports AMX-BF16, AMX-INT8 and AMX tiles (CPUID leaf 7,
/// EDX bits 22, 25 and 24) and the OS has enabled their state (XCR0 bits 17
/// and 18): a hypervisor may report AMX in CPUID but keep its state off, and
/// then every tile instruction faults (Halide issue #9191, on AWS).
static bool hostHasAmx() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
    return false;
  const unsigned amx = (1u << 22) | (1u << 24) | (1u << 25);
  if ((edx & amx) != amx)
    return false;
  // XGETBV needs OSXSAVE (CPUID leaf 1, ECX bit 27).
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27)))
    return false;
  unsigned xcr0Low, xcr0High;
  __asm__("xgetbv" : "=a"(xcr0Low), "=d"(xcr0High) : "c"(0));
  const unsigned tileState = (1u << 17) | (1u << 18);
  return (xcr0Low & tileState) == tileState;
#else
  return false;
#endif
}

bool vitc::requestAmxTileState() {
#if defined(__linux__) && defined(__x86_64__) && defined(SYS_arch_prctl)
  const long reqXcompPerm = 0x1023, xfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, reqXcompPerm, xfeatureXtiledata) == 0;
#else
  return false;
#endif
}

llvm::Expected<TargetAttr> vitc::describeTarget(MLIRContext *context,
                                                llvm::StringRef text,
                                                int64_t cores, bool noAmx) {
  llvm::Expected<std::vector<Target>> targets = parseTargets(text);
  if (!targets)
    return targets.takeError();
  // Multi-target libraries share one weight layout: the first target decides.
  const Target &first = targets->front();
  if (first.has_gpu_feature()) {
    // CUDA guarantees 1024 threads and 48 KiB of static shared memory per
    // block; portable OpenCL devices 256 work-items and 32 KiB.
    const bool cuda = first.has_feature(Target::CUDA);
    return TargetAttr::get(context, text, /*vectorBits=*/32,
                           /*vectorRegisters=*/0, cores > 0 ? cores : 1,
                           CpuFeatures::None,
                           cuda ? GpuApi::Cuda : GpuApi::OpenCL,
                           cuda ? 1024 : 256, cuda ? 48 * 1024 : 32 * 1024);
  }
  const int64_t vectorBits = first.natural_vector_size(Halide::Float(32)) * 32;
  CpuFeatures features = featuresOf(first);
  if (noAmx || (text.trim().starts_with("host") && !hostHasAmx()))
    features = features & ~(CpuFeatures::AMXBF16 | CpuFeatures::AMXInt8);
  // SIMD registers: 32 with AVX-512 and on AArch64, else 16.
  const bool aarch64 = first.arch == Target::ARM && first.bits == 64;
  const int64_t registers =
      bitEnumContainsAll(features, CpuFeatures::AVX512) || aarch64 ? 32 : 16;
  if (cores <= 0)
    cores = std::max(1u, std::thread::hardware_concurrency());
  return TargetAttr::get(context, text, vectorBits, registers, cores, features,
                         GpuApi::None, 0, 0);
}

llvm::Expected<std::vector<Target>> vitc::halideTargets(TargetAttr target) {
  return parseTargets(target.getTarget());
}

llvm::Expected<std::string>
vitc::firstTargetWithout(TargetAttr target, CpuFeatures feature) {
  llvm::Expected<std::vector<Target>> targets = halideTargets(target);
  if (!targets)
    return targets.takeError();
  for (const Target &t : *targets)
    if ((featuresOf(t) & feature) != feature)
      return t.to_string();
  return std::string();
}

llvm::Expected<std::string> vitc::requiredCpuFeatures(TargetAttr target) {
  llvm::Expected<std::vector<Target>> targets = halideTargets(target);
  if (!targets)
    return targets.takeError();
  const Target &baseline = targets->back();
  if (baseline.arch != Target::X86)
    return std::string();
  const CpuFeatures features = featuresOf(baseline);
  std::string names;
  auto add = [&](bool present, const char *feature) {
    if (present)
      names += (names.empty() ? "" : " ") + std::string(feature);
  };
  auto has = [&](CpuFeatures f) { return bitEnumContainsAll(features, f); };
  add(has(CpuFeatures::SSE41), "sse4.1");
  add(has(CpuFeatures::AVX), "avx");
  add(has(CpuFeatures::AVX2), "avx2");
  add(has(CpuFeatures::FMA), "fma");
  add(has(CpuFeatures::F16C), "f16c");
  // Halide's AVX-512 levels, as the LLVM attributes it sets for them.
  const bool avx512 = has(CpuFeatures::AVX512);
  for (const char *part :
       {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"})
    add(avx512, part);
  const bool zen4 = has(CpuFeatures::AVX512BF16);
  const bool cannonlake =
      zen4 || baseline.has_feature(Target::AVX512_Cannonlake);
  add(cannonlake, "avx512ifma");
  add(cannonlake, "avx512vbmi");
  for (const char *part :
       {"avx512vnni", "avx512bf16", "avx512bitalg", "avx512vbmi2"})
    add(zen4, part);
  add(has(CpuFeatures::AVXVNNI), "avxvnni");
  // No kernel uses AMX tiles yet (bf16 GEMMs are vdpbf16ps, int8 vpdpbusd),
  // and LLVM emits AMX only for Halide's AMXTile stores: a Sapphire Rapids
  // library runs on a CPU, or a VM, without AMX. The runtime knows the
  // amx-tile name for when one does.
  return names;
}
