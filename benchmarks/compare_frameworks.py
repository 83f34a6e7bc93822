#!/usr/bin/env python3
"""vitc against PyTorch eager, ONNX Runtime and OpenVINO on the same weights, in one run.

First measures the machine's fp32 FMA peak, int8 dot-product peak and bf16 dot-product peak
(benchmarks/fma_peak.cpp, built as build/benchmarks/vitc-fma-peak; the bf16 peak only where the
host has AVX512-BF16), and reads the host CPU's model and the flags that matter here (avx2,
avx512f, avx512_vnni, avx512_bf16, amx_bf16) from /proc/cpuinfo. Then, per model, compiles
it with vitc (seeded random weights, the usual ViT init scales), loads the same weights into
timm, exports them to ONNX, and for each batch size measures the best and median latency of
each framework with the same thread count, checks that the logits agree, records vit-run's peak
memory next to the weights' size, and profiles each vitc kernel's GFLOP/s against the fp32
peak, each kernel of the vitc int8 library's GOP/s against the int8 peak (vit-run counts an
int8 kernel's ops as it counts FLOPs: 2 x the multiply-adds of its GEMMs), and each kernel of
the vitc bf16 library's GFLOP/s against the bf16 peak. The frameworks take turns, round after
round, so that the machine's noise reaches each alike.

Rows and precisions: vitc fp32, PyTorch fp32, ONNX Runtime fp32, ONNX Runtime int8 (the fp32
ONNX model through onnxruntime.quantization.quantize_dynamic(per_channel=True,
weight_type=QInt8): int8 weights per output channel, uint8 activations per tensor (the whole
batch's tensor, so an image's result depends on the others in its batch), quantized at run
time; it quantizes the patch-embedding Conv, qkv, proj, fc1, fc2 and the head (its Gemm turned
into MatMulInteger), and keeps q.k^T and probs.v in fp32), vitc int8 (the same vitc command
line plus `--precision int8`: int8 weights per output channel and uint8 activations per token
row on the qkv, proj, fc1 and fc2 GEMMs, and with AVX512-VNNI q.k^T and probs.v in int8 too;
test/reference/make_int8_reference.py describes the scheme), vitc bf16 (the same vitc command line plus `--precision bf16`: bf16 weights on the
qkv, proj, fc1 and fc2 GEMMs, their inputs rounded to bf16, sums in f32 (vdpbf16ps); the rest
stays fp32), OpenVINO fp32 and OpenVINO default (the same fp32 ONNX file read by OpenVINO's CPU
plugin, its input's shape fixed at each batch size, INFERENCE_NUM_THREADS the same thread
count, PERFORMANCE_HINT LATENCY (one stream); once with INFERENCE_PRECISION_HINT f32 and once
with OpenVINO's default, whose precision the row names, e.g. `default (bf16)`: the CPU plugin
picks bf16 where the host computes it natively (OpenVINO 2026.4 did on a Zen 4 with AVX512-BF16
and no AMX), and its bf16 may cover more of the graph than vitc's four GEMMs). Skipped, with
a message: the vitc int8 row where vitc refuses `--precision int8`, the vitc bf16 row where
vitc refuses `--precision bf16` (a target without avx512_bf16 or amx_bf16), and the OpenVINO
rows where openvino is not importable. Every row's logits are compared with PyTorch fp32's;
the int8 rows are expected to differ at the 1e-2 level, the bf16 ones (and OpenVINO's default
where it chose bf16) at the 1e-3 to 1e-2 level, since that is what the lower precision costs.
Run by hand (needs torch, timm, onnxruntime, onnx, onnxscript from PyPI, and openvino for its
rows), after the build (VITC_BUILD=/path/to/build where the build is not ./build):

    python3 benchmarks/compare_frameworks.py --models vit-ti16 vit-s16 vit-b16 --batches 1 8

Prints Markdown tables for docs/BENCHMARKS.md. Nothing here is a test: timings are
reported, never asserted.
"""
import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("VITC_BUILD", os.path.join(ROOT, "build"))
VITC = os.path.join(BUILD, "compiler", "tools", "vitc", "vitc")
VIT_RUN = os.path.join(BUILD, "runtime", "vit-run")
FMA_PEAK = os.path.join(BUILD, "benchmarks", "vitc-fma-peak")
TIMM_NAMES = {
    "vit-ti16": "vit_tiny_patch16_224", "vit-s16": "vit_small_patch16_224",
    "vit-b16": "vit_base_patch16_224", "vit-b32": "vit_base_patch32_224",
    "vit-l16": "vit_large_patch16_224",
}


def best_of(fn, runs):
    """The best of `runs` timed calls of fn, in ms."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return min(times)


CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16")


def fma_peak(threads):
    """The machine's peaks from vitc-fma-peak (fma_peak.cpp says how and why), a dict:
    fp32_isa ("AVX-512" or "AVX2"), one and peak (its fp32 FMA peak in GFLOP/s on 1 thread and
    on `threads` threads), sustained and fastest (the mean and the fastest call over 100 calls
    of 10 ms on all cores), int8_isa ("AVX512-VNNI vpdpbusd" or "AVX2 vpmaddubsw + vpmaddwd"),
    int8_one and int8_peak (its int8 dot-product peak in GOP/s on 1 thread and on `threads`),
    bf16_isa ("AVX512-BF16 vdpbf16ps", or "AMX-BF16 tdpbf16ps" where the CPU has AMX, which
    vitc's bf16 GEMMs then use), bf16_one and bf16_peak (its bf16 dot-product peak in
    GFLOP/s on 1 thread and on `threads`); the three bf16 entries are None on a host without a
    bf16 dot product (`bf16 peak: none`) and where vitc-fma-peak predates the bf16 peak (with a
    warning: rebuild it), and bf16_missing then says which (else it is None)."""
    out = subprocess.run([FMA_PEAK], check=True, capture_output=True, text=True).stdout

    def line(pattern, required=True):
        match = re.search(pattern, out, re.MULTILINE)
        if not match:
            if not required:
                return None
            sys.exit(f"cannot read {FMA_PEAK}'s output: no line matches {pattern!r}:\n{out}")
        return match.groups()

    number = r"([0-9.]+)"
    fp32_isa, one, many = line(rf"^fp32 FMA peak \((.+), best of \d+\): 1 thread {number} "
                               rf"GFLOP/s, \d+ threads? {number} GFLOP/s")
    sustained, fastest = line(rf"^sustained \(.*\): mean {number} GFLOP/s, median [0-9.]+, "
                              rf"fastest call {number}")
    int8_isa, int8_one, int8_many = line(rf"^int8 peak \((.+), best of \d+\): 1 thread {number} "
                                         rf"GOP/s, \d+ threads? {number} GOP/s")
    bf16 = line(rf"^bf16 peak \((.+), best of \d+\): 1 thread {number} GFLOP/s, \d+ threads? "
                rf"{number} GFLOP/s", required=False)
    bf16_missing = None
    if bf16 is None and line(r"^(bf16 peak: none)", required=False):
        bf16_missing = "this CPU has no bf16 dot product (no AVX512-BF16)"
    elif bf16 is None:
        bf16_missing = "this vitc-fma-peak predates the bf16 peak: rebuild it"
        print(f"warning: {FMA_PEAK} prints no bf16 peak line (it predates the bf16 peak: "
              f"rebuild it); the bf16 kernel table goes without % of peak",
              file=sys.stderr, flush=True)
    # Where the CPU has AMX-BF16, vitc's bf16 GEMMs run in AMX tiles: that is their peak.
    amx = line(rf"^AMX bf16 peak \((.+), best of \d+\): 1 thread {number} GFLOP/s, \d+ "
               rf"threads? {number} GFLOP/s", required=False)
    if amx:
        bf16, bf16_missing = amx, None
    bf16_isa, bf16_one, bf16_many = bf16 or (None, None, None)
    return dict(fp32_isa=fp32_isa, one=float(one),
                peak=float(many) if threads > 1 else float(one), sustained=float(sustained),
                fastest=float(fastest), int8_isa=int8_isa, int8_one=float(int8_one),
                int8_peak=float(int8_many) if threads > 1 else float(int8_one),
                bf16_isa=bf16_isa, bf16_one=None if bf16 is None else float(bf16_one),
                bf16_peak=None if bf16 is None else float(bf16_many if threads > 1 else bf16_one),
                bf16_missing=bf16_missing)


def host_cpu():
    """The host CPU's model name and {flag: present} for CPU_FLAGS, from /proc/cpuinfo (the
    model from platform where there is none; flags None where they cannot be read)."""
    model, flags = None, None
    try:
        with open("/proc/cpuinfo") as f:
            for l in f:
                if l.startswith("model name") and model is None:
                    model = l.split(":", 1)[1].strip()
                elif l.startswith("flags") and flags is None:
                    present = set(l.split(":", 1)[1].split())
                    flags = {flag: flag in present for flag in CPU_FLAGS}
    except OSError:
        pass
    return model or platform.processor() or platform.machine(), flags


def profile_kernels(lib, inputs, threads, repeat):
    """vit-run --profile: {kernel: (calls, ms/run, share %, GFLOP/s or None, GFLOP/s in the
    fastest call or None)}."""
    out = subprocess.run([VIT_RUN, "--library", lib, inputs, "--num-threads", str(threads),
                          "--top", "0", "--repeat", str(repeat), "--profile"],
                         check=True, capture_output=True, text=True).stdout
    lines = out.splitlines()
    table = lines[[i for i, l in enumerate(lines) if l.startswith("kernel")][0] + 1:]
    rows = {}
    for line in table:
        name, calls, ms, share, gflops, best = line.split()
        rows[name] = (int(calls), float(ms), float(share.rstrip("%")),
                      None if gflops == "-" else float(gflops),
                      None if best == "-" else float(best))
    return rows


def summarize_profiles(rounds):
    """Per kernel over the rounds' profiles: (calls, median ms/run, median share, GFLOP/s of
    all calls in the median round and in the best round, GFLOP/s of the fastest call)."""
    summary = []
    for kernel, (calls, *_rest) in rounds[0].items():
        ms = [r[kernel][1] for r in rounds]
        share = [r[kernel][2] for r in rounds]
        gflops = [r[kernel][3] for r in rounds if r[kernel][3] is not None]
        fastest = [r[kernel][4] for r in rounds if r[kernel][4] is not None]
        summary.append((kernel, calls, statistics.median(ms), statistics.median(share),
                        statistics.median(gflops) if gflops else None,
                        max(gflops) if gflops else None, max(fastest) if fastest else None))
    return summary


def vitc_command(name, args, lib, timm_weights):
    """The vitc command line that compiles `name` into `lib` (fp32 unless more is added)."""
    return ([VITC, "--model", name, "--random-weights", str(args.seed),
             "--save-weights", timm_weights, "--target", args.target, "--emit=lib", "-o", lib]
            + (["--schedule-file", args.schedule_file] if args.schedule_file else []))


def compile_vitc_precision(name, precision, args, work, timm_weights, load_file, torch):
    """vitc's `precision` (int8 or bf16) library: (lib, compile seconds, kernel weights in MB),
    or None, with vitc's message on stderr, where vitc refuses `--precision PRECISION`."""
    lib = os.path.join(work, f"lib{name.replace('-', '_')}_{precision}.so")
    own_timm_weights = os.path.join(work, f"{name}.{precision}.timm.safetensors")
    start = time.perf_counter()
    result = subprocess.run(vitc_command(name, args, lib, own_timm_weights)
                            + ["--precision", precision], capture_output=True, text=True)
    compile_s = time.perf_counter() - start
    if result.returncode != 0:
        # The first error line says why (a pass's error comes before vitc's "... failed (see
        # above)").
        lines = result.stderr.strip().splitlines() or ["(no message)"]
        why = next((l for l in lines if "error:" in l), lines[-1])
        print(f"vitc {precision} row skipped for {name}: `vitc ... --precision {precision}` "
              f"exited with {result.returncode}: {why}", file=sys.stderr, flush=True)
        return None
    fp32, own = load_file(timm_weights), load_file(own_timm_weights)
    if fp32.keys() != own.keys() or not all(torch.equal(fp32[k], own[k]) for k in fp32):
        print(f"warning: vitc --precision {precision} saved other weights than the fp32 compile "
              f"for {name}; its diff against PyTorch means little", file=sys.stderr, flush=True)
    kernel_weights = os.path.join(work, os.path.basename(lib)[3:-3] + ".safetensors")
    weights_mb = os.path.getsize(kernel_weights) / 2**20 if os.path.exists(kernel_weights) else None
    return lib, compile_s, weights_mb


def time_vit_run(lib, inputs, threads, outputs=None, precision="f32"):
    """One vit-run process, the best of 3 runs: (best ms, peak RSS in kB). Its timing line,
    `NAME (PRECISION): batch B, 3 runs: best X ms, ...`, must name `precision`."""
    run = subprocess.run(["/usr/bin/time", "-f", "%M", VIT_RUN, "--library", lib, inputs,
                          "--num-threads", str(threads), "--top", "0", "--repeat", "3"]
                         + (["-o", outputs] if outputs else []),
                         check=True, capture_output=True, text=True)
    line = run.stdout.strip().splitlines()[-1]
    if f"({precision}): " not in line:
        sys.exit(f"{lib}: vit-run's timing line does not name precision {precision}: {line}")
    return float(line.split("best ")[1].split(" ms")[0]), int(run.stderr.strip().splitlines()[-1])


def ort_op_counts(onnx_model):
    """How many nodes of each quantization-related op type the (quantized) graph holds."""
    counts = {}
    for node in onnx_model.graph.node:
        if node.op_type in ("MatMulInteger", "ConvInteger", "DynamicQuantizeLinear", "MatMul",
                            "Gemm", "Conv"):
            counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


# OpenVINO's element type names (ov.Type.get_type_name()) as this script names precisions.
OPENVINO_PRECISIONS = {"f32": "fp32", "bf16": "bf16", "f16": "fp16"}


def openvino_version(ov):
    """OpenVINO's release, e.g. 2026.4.1 (ov.__version__ without its build suffix)."""
    return ov.__version__.split("-")[0]


def compile_openvino(core, onnx_path, batch, threads, precision_hint=None):
    """The ONNX model compiled by OpenVINO for its CPU plugin, the input's shape fixed at
    [batch, 3, 224, 224], on `threads` threads (INFERENCE_NUM_THREADS) in one stream
    (PERFORMANCE_HINT LATENCY, its default), with INFERENCE_PRECISION_HINT `precision_hint`
    ("f32") or OpenVINO's default where None: (infer request, the precision the compiled model
    reports, as "fp32", "bf16", "fp16")."""
    model = core.read_model(onnx_path)
    model.reshape([batch, 3, 224, 224])
    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    if precision_hint:
        config["INFERENCE_PRECISION_HINT"] = precision_hint
    compiled = core.compile_model(model, "CPU", config)
    chosen = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
    return compiled.create_infer_request(), OPENVINO_PRECISIONS.get(chosen, chosen)


def agreement(logits, reference):
    """(max abs diff, top-1 agreement) of logits against the reference's."""
    return (float(np.abs(logits - reference).max()),
            float((logits.argmax(1) == reference.argmax(1)).mean()))


def bench_model(name, args, work, torch, timm, ort, ov, load_file):
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    lib = os.path.join(work, f"lib{name.replace('-', '_')}.so")
    timm_weights = os.path.join(work, f"{name}.timm.safetensors")
    start = time.perf_counter()
    subprocess.run(vitc_command(name, args, lib, timm_weights), check=True)
    compile_s = time.perf_counter() - start
    kernel_weights = os.path.join(work, os.path.basename(lib)[3:-3] + ".safetensors")
    weights_mb = os.path.getsize(kernel_weights) / 2**20
    # vitc's reduced-precision libraries, (lib, compile s, weights MB) each, where vitc takes them.
    reduced = {}
    for precision in ("int8", "bf16"):
        library = compile_vitc_precision(name, precision, args, work, timm_weights, load_file,
                                         torch)
        if library:
            reduced[precision] = library

    model = timm.create_model(TIMM_NAMES[name], pretrained=False).eval()
    model.load_state_dict(load_file(timm_weights), strict=True)
    onnx_path = os.path.join(work, f"{name}.onnx")
    example = torch.zeros(1, 3, 224, 224)
    torch.onnx.export(model, (example,), onnx_path, input_names=["images"],
                      output_names=["logits"], dynamic_axes={"images": {0: "batch"}},
                      dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    # ONNX Runtime's dynamic int8: the same fp32 model, weights quantized ahead of time,
    # activations at run time; the same session options (threads).
    onnx_int8_path = os.path.join(work, f"{name}.int8.onnx")
    quantize_dynamic(onnx_path, onnx_int8_path, per_channel=True, weight_type=QuantType.QInt8)
    ort_int8_ops = ort_op_counts(onnx.load(onnx_int8_path))
    print(f"ORT int8 graph for {name}: " + ", ".join(f"{n} {k}" for k, n in
                                                    sorted(ort_int8_ops.items())),
          file=sys.stderr, flush=True)
    session_int8 = ort.InferenceSession(onnx_int8_path, options,
                                        providers=["CPUExecutionProvider"])
    ov_core = ov.Core() if ov else None

    rows, profiles, reduced_profiles = [], {}, {precision: {} for precision in reduced}
    for batch in args.batches:
        images = np.random.default_rng(batch).uniform(-1, 1, (batch, 3, 224, 224)).astype(np.float32)
        inputs = os.path.join(work, f"in{batch}.npy")
        outputs = os.path.join(work, f"out{batch}.npy")
        reduced_outputs = {p: os.path.join(work, f"out{batch}_{p}.npy") for p in reduced}
        np.save(inputs, images)
        if ov_core:
            # OpenVINO from the same ONNX file, for this batch size: fp32, and its default.
            ov_f32, ov_f32_precision = compile_openvino(ov_core, onnx_path, batch, args.threads,
                                                        "f32")
            ov_default, ov_default_precision = compile_openvino(ov_core, onnx_path, batch,
                                                                args.threads)
            print(f"OpenVINO {openvino_version(ov)} for {name} batch {batch}: "
                  f"INFERENCE_PRECISION_HINT f32 runs {ov_f32_precision}; the default runs "
                  f"{ov_default_precision}",
                  file=sys.stderr, flush=True)
        # Interleaved rounds, so that a noisy stretch of this shared machine hits every
        # framework alike: each round takes the best of 3 runs of vitc (vit-run), PyTorch,
        # ONNX Runtime fp32, ONNX Runtime int8, vitc int8 and vitc bf16 (vit-run), OpenVINO
        # fp32 and OpenVINO's default precision, one after the other; best and median are
        # over the rounds.
        vitc_times, torch_times, ort_times, peak_kb, kernel_rounds = [], [], [], 0, []
        ort_int8_times = []
        reduced_times = {p: [] for p in reduced}
        reduced_peak_kb = {p: 0 for p in reduced}
        reduced_kernel_rounds = {p: [] for p in reduced}
        ov_f32_times, ov_default_times = [], []
        with torch.no_grad():
            reference = model(torch.from_numpy(images)).numpy()  # and a warm-up
            ort_logits = session.run(None, {"images": images})[0]
            ort_int8_logits = session_int8.run(None, {"images": images})[0]
            if ov_core:
                ov_f32_logits = ov_f32.infer({0: images})[0]
                ov_default_logits = ov_default.infer({0: images})[0]
            for round_ in range(args.repeat):
                ms, kb = time_vit_run(lib, inputs, args.threads, outputs if round_ == 0 else None)
                vitc_times.append(ms)
                peak_kb = max(peak_kb, kb)
                time.sleep(0.2)
                torch_times.append(best_of(lambda: model(torch.from_numpy(images)), 3))
                time.sleep(0.2)
                ort_times.append(best_of(lambda: session.run(None, {"images": images}), 3))
                time.sleep(0.2)
                ort_int8_times.append(best_of(lambda: session_int8.run(None, {"images": images}),
                                              3))
                time.sleep(0.2)
                for p, (library, _, _) in reduced.items():
                    ms, kb = time_vit_run(library, inputs, args.threads,
                                          reduced_outputs[p] if round_ == 0 else None, p)
                    reduced_times[p].append(ms)
                    reduced_peak_kb[p] = max(reduced_peak_kb[p], kb)
                    time.sleep(0.2)
                if ov_core:
                    ov_f32_times.append(best_of(lambda: ov_f32.infer({0: images}), 3))
                    time.sleep(0.2)
                    ov_default_times.append(best_of(lambda: ov_default.infer({0: images}), 3))
                    time.sleep(0.2)
                # vitc's kernels (fp32), 2 runs after a warm-up, in the same stretch of the machine.
                kernel_rounds.append(profile_kernels(lib, inputs, args.threads, 2))
                time.sleep(0.2)
                for p, (library, _, _) in reduced.items():  # and the int8 and bf16 ones
                    reduced_kernel_rounds[p].append(profile_kernels(library, inputs,
                                                                    args.threads, 2))
                    time.sleep(0.2)
        vitc_best, vitc_median = min(vitc_times), statistics.median(vitc_times)
        torch_best, torch_median = min(torch_times), statistics.median(torch_times)
        ort_best, ort_median = min(ort_times), statistics.median(ort_times)
        ours = np.load(outputs)
        diff, top1 = agreement(ours, reference)
        # Every framework and precision, one row each, against PyTorch fp32.
        frameworks = [
            dict(framework="vitc", precision="fp32", best=vitc_best, median=vitc_median,
                 agreement=(diff, top1), peak_mb=peak_kb / 1024, weights_mb=weights_mb),
            dict(framework="PyTorch", precision="fp32", best=torch_best, median=torch_median,
                 agreement=(0.0, 1.0)),
            dict(framework="ONNX Runtime", precision="fp32", best=ort_best, median=ort_median,
                 agreement=agreement(ort_logits, reference)),
            dict(framework="ONNX Runtime", precision="int8", best=min(ort_int8_times),
                 median=statistics.median(ort_int8_times),
                 agreement=agreement(ort_int8_logits, reference), ops=ort_int8_ops),
        ]
        for p, (_, reduced_compile_s, reduced_weights_mb) in reduced.items():
            frameworks.append(dict(
                framework="vitc", precision=p, best=min(reduced_times[p]),
                median=statistics.median(reduced_times[p]),
                agreement=agreement(np.load(reduced_outputs[p]), reference),
                peak_mb=reduced_peak_kb[p] / 1024, weights_mb=reduced_weights_mb,
                compile_s=reduced_compile_s))
        if ov_core:
            frameworks += [
                dict(framework="OpenVINO", precision=ov_f32_precision, best=min(ov_f32_times),
                     median=statistics.median(ov_f32_times),
                     agreement=agreement(ov_f32_logits, reference)),
                dict(framework="OpenVINO", precision=f"default ({ov_default_precision})",
                     best=min(ov_default_times), median=statistics.median(ov_default_times),
                     agreement=agreement(ov_default_logits, reference))]
        skipped = [f"vitc {p} (vitc refused --precision {p})" for p in ("int8", "bf16")
                   if p not in reduced]
        skipped += [] if ov_core else ["OpenVINO fp32 and default (openvino is not importable)"]
        rows.append(dict(model=name, batch=batch, vitc=vitc_best, vitc_mean=vitc_median,
                         torch=torch_best, torch_median=torch_median, ort=ort_best,
                         ort_median=ort_median, max_diff=diff, top1=top1,
                         peak_mb=peak_kb / 1024, weights_mb=weights_mb, compile_s=compile_s,
                         frameworks=frameworks, skipped=skipped))
        profiles[batch] = summarize_profiles(kernel_rounds)
        for p in reduced:
            reduced_profiles[p][batch] = summarize_profiles(reduced_kernel_rounds[p])
    return rows, profiles, reduced_profiles.get("int8", {}), reduced_profiles.get("bf16", {})


def print_precision_profiles(precision_profiles, profiles, precision, unit, precision_peak):
    """The kernel table of a library in `precision` (int8, bf16): each kernel's rates (in `unit`)
    against `precision_peak` (no % where None), and its ms/run against the fp32 library's."""
    print(f"| model | batch | kernel | calls | ms/run | {precision}/fp32 | share "
          f"| {unit} all calls, median round | % of {precision} peak | best round "
          f"| % of {precision} peak | fastest call | % of {precision} peak |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, by_batch in precision_profiles.items():
        for batch, kernels in by_batch.items():
            fp32_ms = {k[0]: k[2] for k in profiles[name][batch]}
            for kernel, calls, ms, share, *rates in kernels:
                cells = []
                for value in rates:
                    cells += ["-", "-"] if value is None else [
                        f"{value:.1f}",
                        "-" if precision_peak is None else f"{100 * value / precision_peak:.0f}%"]
                ratio = f"{ms / fp32_ms[kernel]:.2f}" if fp32_ms.get(kernel) else "-"
                print(f"| {name} | {batch} | {kernel} | {calls} | {ms:.2f} | {ratio} | "
                      f"{share:.1f}% | " + " | ".join(cells) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["vit-b16"], choices=sorted(TIMM_NAMES))
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=5,
                        help="interleaved rounds (each the best of 3 runs per framework; "
                        "at least 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", default="host")
    parser.add_argument("--schedule-file", help="tile overrides for vitc (--schedule-file, "
                        "docs/PASSES.md); its keys must match an op of every model benchmarked")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    for tool in (VITC, VIT_RUN, FMA_PEAK):
        if not os.access(tool, os.X_OK):
            parser.error(f"{tool} is missing: build it (cmake --build {BUILD}), or set "
                         f"VITC_BUILD to the build directory")

    import torch
    import timm
    import onnxruntime as ort
    from safetensors.torch import load_file
    try:
        import openvino as ov
    except ImportError as e:
        ov = None
        print(f"OpenVINO rows skipped: openvino is not importable ({e}; pip install openvino)",
              file=sys.stderr, flush=True)

    torch.set_num_threads(args.threads)
    work = tempfile.mkdtemp(prefix="vitc-bench-")
    peaks = fma_peak(args.threads)
    peak_one, peak, sustained, fastest_peak = (peaks["one"], peaks["peak"], peaks["sustained"],
                                               peaks["fastest"])
    int8_peak, bf16_peak = peaks["int8_peak"], peaks["bf16_peak"]
    if args.threads != os.cpu_count():  # the 10 ms calls ran on every core
        fastest_peak *= args.threads / os.cpu_count()
    rows, profiles, int8_profiles, bf16_profiles = [], {}, {}, {}
    for name in args.models:
        print(f"benchmarking {name} ...", file=sys.stderr, flush=True)
        model_rows, model_profiles, model_int8_profiles, model_bf16_profiles = bench_model(
            name, args, work, torch, timm, ort, ov, load_file)
        rows += model_rows
        profiles[name] = model_profiles
        if model_int8_profiles:
            int8_profiles[name] = model_int8_profiles
        if model_bf16_profiles:
            bf16_profiles[name] = model_bf16_profiles

    cpu, flags = host_cpu()
    flag_summary = ("flags unknown" if flags is None else
                    ", ".join(f"{flag} {'yes' if present else 'no'}"
                              for flag, present in flags.items()))
    bf16_summary = (f"no bf16 peak ({peaks['bf16_missing']})" if bf16_peak is None else
                    f"bf16 peak ({peaks['bf16_isa']}) {peaks['bf16_one']:.1f} GFLOP/s on 1 "
                    f"thread, {bf16_peak:.1f} GFLOP/s on {args.threads}")
    print(f"\n{args.threads} threads, {cpu} ({flag_summary}); torch {torch.__version__}, "
          f"onnxruntime {ort.__version__}, "
          f"{'openvino ' + openvino_version(ov) if ov else 'no openvino'}; vitc target "
          f"{args.target}, tiles {args.schedule_file or 'chosen by vitc'}; fp32 FMA peak "
          f"({peaks['fp32_isa']}) {peak_one:.1f} GFLOP/s on 1 thread, {peak:.1f} GFLOP/s on "
          f"{args.threads}; int8 peak ({peaks['int8_isa']}) {peaks['int8_one']:.1f} GOP/s on 1 "
          f"thread, {int8_peak:.1f} GOP/s on {args.threads}; {bf16_summary}\n")
    print(f"(best and median over {args.repeat} interleaved rounds, each the best of 3 runs)\n")
    print("All fp32:\n")
    print("| model | batch | vitc ms (best/median) | PyTorch ms (best/median) | ORT ms (best/median) "
          "| vitc/PyTorch | vitc/ORT | images/s vitc | max abs diff vs PyTorch | top-1 agree "
          "| vit-run peak RSS (weights) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['batch']} | {r['vitc']:.1f} / {r['vitc_mean']:.1f} | "
              f"{r['torch']:.1f} / {r['torch_median']:.1f} | {r['ort']:.1f} / {r['ort_median']:.1f} | "
              f"{r['vitc'] / r['torch']:.2f} | {r['vitc'] / r['ort']:.2f} | "
              f"{1000 * r['batch'] / r['vitc']:.1f} | {r['max_diff']:.2e} | {r['top1']:.2f} | "
              f"{r['peak_mb']:.0f} MB ({r['weights_mb']:.0f} MB, +{r['peak_mb'] - r['weights_mb']:.0f}) |")
    print("\n(ratio < 1: vitc is faster)\n")
    print("Every framework and precision, one row each (int8: dynamic quantization; bf16: bf16 "
          "weights and GEMM inputs, f32 sums; OpenVINO default: the precision its CPU plugin "
          "chose; see the docstring of benchmarks/compare_frameworks.py for each scheme); max "
          "abs diff and top-1 against PyTorch fp32:\n")
    print("| model | batch | framework | precision | ms (best/median) | images/s | "
          "/ vitc fp32 | max abs diff vs PyTorch fp32 | top-1 agree | vit-run peak RSS (weights) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        for f in r["frameworks"]:
            memory = "-"
            if "peak_mb" in f:
                memory = f"{f['peak_mb']:.0f} MB" + (
                    "" if f["weights_mb"] is None else f" ({f['weights_mb']:.0f} MB)")
            print(f"| {r['model']} | {r['batch']} | {f['framework']} | {f['precision']} | "
                  f"{f['best']:.1f} / {f['median']:.1f} | {1000 * r['batch'] / f['best']:.1f} | "
                  f"{f['best'] / r['vitc']:.2f} | {f['agreement'][0]:.2e} | "
                  f"{f['agreement'][1]:.2f} | {memory} |")
    for skipped in sorted({s for r in rows for s in r["skipped"]}):
        print(f"\n(skipped: {skipped})")
    print()
    print(f"Per-kernel profile of the fp32 library (`vit-run --profile` in each round, 2 runs "
          f"after a warm-up): "
          f"GFLOP/s over all of a kernel's calls in the median round and in the best round, "
          f"and in its fastest call; all calls against the {peak:.1f} GFLOP/s peak, the "
          f"fastest call against the FMA loop's own fastest 10 ms call, {fastest_peak:.1f} "
          f"GFLOP/s (its mean over the 10 ms calls was {sustained:.1f}). The median is "
          f"per kernel, over the rounds.\n")
    print("| model | batch | kernel | calls | ms/run | share | GFLOP/s all calls, median round "
          "| % of peak | best round | % of peak | fastest call | % of fastest FMA call |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, by_batch in profiles.items():
        for batch, kernels in by_batch.items():
            for kernel, calls, ms, share, *rates in kernels:
                cells = []
                for value, against in zip(rates, (peak, peak, fastest_peak)):
                    cells += ["-", "-"] if value is None else [f"{value:.1f}",
                                                               f"{100 * value / against:.0f}%"]
                print(f"| {name} | {batch} | {kernel} | {calls} | {ms:.2f} | {share:.1f}% | "
                      + " | ".join(cells) + " |")
    if int8_profiles:
        print()
        print(f"Per-kernel profile of the vitc int8 library (`vit-run --profile` in each round "
              f"too, right after the fp32 library's): GOP/s (2 x the multiply-adds of the "
              f"kernel's GEMMs per second) over all of a kernel's calls in the median round and "
              f"in the best round, and in its fastest call, each against the int8 peak, "
              f"{int8_peak:.1f} GOP/s ({peaks['int8_isa']}, best of 3 over 1 s; there is no "
              f"10 ms-call int8 reference). A kernel's ops count every GEMM in it, fp32 ones "
              f"too: the patch embedding and the head stay fp32, and without AVX512-VNNI the "
              f"attention kernels compute q.k^T and probs.v in fp32 next to their int8 qkv and "
              f"proj, so their share of the int8 peak understates the int8 GEMMs; the "
              f"attention kernels' softmax and quantization count no ops. int8/fp32: the kernel's "
              f"ms/run against the same kernel's in the fp32 table (< 1: int8 is faster).\n")
        print_precision_profiles(int8_profiles, profiles, "int8", "GOP/s", int8_peak)
    if bf16_profiles:
        print()
        against = (f"with no bf16 peak to hold them against ({peaks['bf16_missing']})"
                   if bf16_peak is None else
                   f"each against the bf16 peak, {bf16_peak:.1f} GFLOP/s ({peaks['bf16_isa']}, "
                   f"best of 3 over 1 s; there is no 10 ms-call bf16 reference)")
        print(f"Per-kernel profile of the vitc bf16 library (`vit-run --profile` in each round "
              f"too, right after the int8 library's): GFLOP/s over all of a kernel's calls in "
              f"the median round and in the best round, and in its fastest call, {against}. As "
              f"for int8, a kernel's FLOPs count every GEMM in it: the patch embedding and the "
              f"head stay fp32, and the attention kernels compute q.k^T and probs.v in fp32 "
              f"next to their bf16 qkv and proj, so their share of the bf16 peak understates "
              f"the bf16 GEMMs. bf16/fp32: the kernel's ms/run against the same kernel's in the "
              f"fp32 table (< 1: bf16 is faster).\n")
        print_precision_profiles(bf16_profiles, profiles, "bf16", "GFLOP/s", bf16_peak)
    json.dump(dict(rows=rows, profiles=profiles, int8_profiles=int8_profiles,
                   bf16_profiles=bf16_profiles, peak=peak,
                   peak_one=peak_one, sustained=sustained, fastest_peak=fastest_peak,
                   peaks=peaks, cpu=cpu, cpu_flags=flags,
                   openvino=ov.__version__ if ov else None),
              open(os.path.join(work, "results.json"), "w"), indent=1)
    print(f"\n(raw results: {os.path.join(work, 'results.json')})", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
