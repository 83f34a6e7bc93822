# lit configuration for vitc: every .mlir file under test/ is a test; vitc's
# tools come from the build tree, FileCheck and friends from LLVM 22.
import glob
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "vitc"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit", "fuzz", "data", "reference", "runtime", "compare-outputs.cpp", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.vitc_obj_root, "test")

llvm_config.with_system_environment(["HOME", "TMPDIR"])
llvm_config.use_default_substitutions()
tool_dirs = [
    os.path.join(config.vitc_obj_root, "compiler", "tools", "vit-opt"),
    os.path.join(config.vitc_obj_root, "compiler", "tools", "vitc"),
    os.path.join(config.vitc_obj_root, "runtime"),
    os.path.join(config.vitc_obj_root, "test", "e2e"),
    config.llvm_tools_dir,
]
llvm_config.add_tool_substitutions(["vit-opt", "vitc", "vit-run", "compare-outputs", "FileCheck", "not", "count", "split-file", "llvm-nm", "llvm-readelf", "llvm-objdump"], tool_dirs)

# Tests see the compiler's own tiles, whatever a developer's schedule cache
# holds; the tuning tests give theirs with --schedule-cache.
config.environment["VITC_SCHEDULE_CACHE"] = "off"

# OpenCL tests run where an OpenCL platform is installed (PoCL, from
# scripts/setup.sh, runs the kernels on the CPU).
if glob.glob("/etc/OpenCL/vendors/*.icd"):
    config.available_features.add("opencl")

# What the host CPU can run, for tests that execute code built for a feature
# (elsewhere they are reported UNSUPPORTED): cpu-avx2, cpu-avx512-vnni,
# cpu-avx512-bf16, cpu-sapphirerapids-isa (what vitc's avx512_sapphirerapids kernels use:
# its AVX-512 extensions and AVX-VNNI, not AMX), cpu-amx-bf16, cpu-amx-int8.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        flags = next((line.split(":", 1)[1].split() for line in cpuinfo
                      if line.startswith("flags")), [])
except OSError:
    flags = []
# Each feature needs every flag of the Halide level `--target host` then compiles for: vitc's
# AVX512-VNNI and bf16 code is Halide's avx512_zen4 level (BF16 with VNNI, VBMI2, BITALG,
# IFMA, VBMI), so a CPU with AVX512-VNNI or AVX512-BF16 alone (Cascade Lake, Ice Lake, Cooper
# Lake), whose `host` gets the AVX2-style int8 code, does not count.
for needed, feature in [(["avx2"], "cpu-avx2"),
                        (["avx512_bf16", "avx512_vnni", "avx512_vbmi2", "avx512_bitalg",
                          "avx512ifma", "avx512vbmi"], "cpu-avx512-vnni"),
                        (["avx512_bf16", "avx512_vnni", "avx512_vbmi2", "avx512_bitalg",
                          "avx512ifma", "avx512vbmi"], "cpu-avx512-bf16"),
                        (["avx512_bf16", "avx512_vnni", "avx512_vbmi2", "avx512_bitalg",
                          "avx512ifma", "avx512vbmi", "avx_vnni"], "cpu-sapphirerapids-isa"),
                        (["amx_bf16", "amx_tile"], "cpu-amx-bf16"),
                        (["amx_int8", "amx_tile"], "cpu-amx-int8")]:
    if all(flag in flags for flag in needed):
        config.available_features.add(feature)
