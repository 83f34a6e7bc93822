#!/usr/bin/env python3
"""vitc against PyTorch eager and ONNX Runtime on the same weights, in one run.

First measures the machine's fp32 FMA peak and int8 dot-product peak (benchmarks/fma_peak.cpp,
built as build/benchmarks/vitc-fma-peak), and reads the host CPU's model and the flags that
matter here (avx2, avx512f, avx512_vnni, avx512_bf16, amx_bf16) from /proc/cpuinfo. Then, per
model, compiles
it with vitc (seeded random weights, the usual ViT init scales), loads the same weights into
timm, exports them to ONNX, and for each batch size measures the best and median latency of
each framework with the same thread count, checks that the logits agree, records vit-run's peak
memory next to the weights' size, and profiles each vitc kernel's GFLOP/s against the fp32
peak, and each kernel of the vitc int8 library's GOP/s against the int8 peak (vit-run counts an
int8 kernel's ops as it counts FLOPs: 2 x the multiply-adds of its GEMMs). The frameworks take
turns, round after round, so that the machine's noise reaches each alike.

Rows and precisions: vitc fp32, PyTorch fp32, ONNX Runtime fp32, ONNX Runtime int8 (the fp32
ONNX model through onnxruntime.quantization.quantize_dynamic(per_channel=True,
weight_type=QInt8): int8 weights per output channel, uint8 activations per tensor (the whole
batch's tensor, so an image's result depends on the others in its batch), quantized at run
time; it quantizes the patch-embedding Conv, qkv, proj, fc1, fc2 and the head (its Gemm turned
into MatMulInteger), and keeps q.k^T and probs.v in fp32) and vitc int8 (the same vitc command
line plus `--precision int8`: int8 weights per output channel and uint8 activations per token
row on the qkv, proj, fc1 and fc2 GEMMs; test/reference/make_int8_reference.py describes the
scheme). The vitc int8 row is skipped, with a message, where vitc refuses `--precision int8`.
Every row's logits are compared with PyTorch fp32's; the int8 rows are expected to differ at
the 1e-2 level, since that is what quantization costs.
Run by hand (needs torch, timm, onnxruntime, onnx, onnxscript from PyPI), after the build
(VITC_BUILD=/path/to/build where the build is not ./build):

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
    int8_one and int8_peak (its int8 dot-product peak in GOP/s on 1 thread and on `threads`)."""
    out = subprocess.run([FMA_PEAK], check=True, capture_output=True, text=True).stdout

    def line(pattern):
        match = re.search(pattern, out, re.MULTILINE)
        if not match:
            sys.exit(f"cannot read {FMA_PEAK}'s output: no line matches {pattern!r}:\n{out}")
        return match.groups()

    number = r"([0-9.]+)"
    fp32_isa, one, many = line(rf"^fp32 FMA peak \((.+), best of \d+\): 1 thread {number} "
                               rf"GFLOP/s, \d+ threads? {number} GFLOP/s")
    sustained, fastest = line(rf"^sustained \(.*\): mean {number} GFLOP/s, median [0-9.]+, "
                              rf"fastest call {number}")
    int8_isa, int8_one, int8_many = line(rf"^int8 peak \((.+), best of \d+\): 1 thread {number} "
                                         rf"GOP/s, \d+ threads? {number} GOP/s")
    return dict(fp32_isa=fp32_isa, one=float(one),
                peak=float(many) if threads > 1 else float(one), sustained=float(sustained),
                fastest=float(fastest), int8_isa=int8_isa, int8_one=float(int8_one),
                int8_peak=float(int8_many) if threads > 1 else float(int8_one))


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


def compile_vitc_int8(name, args, work, timm_weights, load_file, torch):
    """vitc's int8 library: (lib, compile seconds, kernel weights in MB), or None, with a message
    on stderr, where vitc refuses `--precision int8`."""
    lib = os.path.join(work, f"lib{name.replace('-', '_')}_int8.so")
    int8_timm_weights = os.path.join(work, f"{name}.int8.timm.safetensors")
    start = time.perf_counter()
    result = subprocess.run(vitc_command(name, args, lib, int8_timm_weights)
                            + ["--precision", "int8"], capture_output=True, text=True)
    compile_s = time.perf_counter() - start
    if result.returncode != 0:
        why = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        print(f"vitc int8 row skipped for {name}: `vitc ... --precision int8` exited with "
              f"{result.returncode}: {why}", file=sys.stderr, flush=True)
        return None
    fp32, int8 = load_file(timm_weights), load_file(int8_timm_weights)
    if fp32.keys() != int8.keys() or not all(torch.equal(fp32[k], int8[k]) for k in fp32):
        print(f"warning: vitc --precision int8 saved other weights than the fp32 compile for "
              f"{name}; its diff against PyTorch means little", file=sys.stderr, flush=True)
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


def agreement(logits, reference):
    """(max abs diff, top-1 agreement) of logits against the reference's."""
    return (float(np.abs(logits - reference).max()),
            float((logits.argmax(1) == reference.argmax(1)).mean()))


def bench_model(name, args, work, torch, timm, ort, load_file):
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    lib = os.path.join(work, f"lib{name.replace('-', '_')}.so")
    timm_weights = os.path.join(work, f"{name}.timm.safetensors")
    start = time.perf_counter()
    subprocess.run(vitc_command(name, args, lib, timm_weights), check=True)
    compile_s = time.perf_counter() - start
    kernel_weights = os.path.join(work, os.path.basename(lib)[3:-3] + ".safetensors")
    weights_mb = os.path.getsize(kernel_weights) / 2**20
    vitc_int8 = compile_vitc_int8(name, args, work, timm_weights, load_file, torch)

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

    rows, profiles, int8_profiles = [], {}, {}
    for batch in args.batches:
        images = np.random.default_rng(batch).uniform(-1, 1, (batch, 3, 224, 224)).astype(np.float32)
        inputs = os.path.join(work, f"in{batch}.npy")
        outputs = os.path.join(work, f"out{batch}.npy")
        outputs_int8 = os.path.join(work, f"out{batch}_int8.npy")
        np.save(inputs, images)
        # Interleaved rounds, so that a noisy stretch of this shared machine hits every
        # framework alike: each round takes the best of 3 runs of vitc (vit-run), PyTorch,
        # ONNX Runtime fp32, ONNX Runtime int8 and vitc int8 (vit-run), one after the other;
        # best and median are over the rounds.
        vitc_times, torch_times, ort_times, peak_kb, kernel_rounds = [], [], [], 0, []
        ort_int8_times, vitc_int8_times, peak_int8_kb, int8_kernel_rounds = [], [], 0, []
        with torch.no_grad():
            reference = model(torch.from_numpy(images)).numpy()  # and a warm-up
            ort_logits = session.run(None, {"images": images})[0]
            ort_int8_logits = session_int8.run(None, {"images": images})[0]
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
                if vitc_int8:
                    ms, kb = time_vit_run(vitc_int8[0], inputs, args.threads,
                                          outputs_int8 if round_ == 0 else None, "int8")
                    vitc_int8_times.append(ms)
                    peak_int8_kb = max(peak_int8_kb, kb)
                    time.sleep(0.2)
                # vitc's kernels (fp32), 2 runs after a warm-up, in the same stretch of the machine.
                kernel_rounds.append(profile_kernels(lib, inputs, args.threads, 2))
                time.sleep(0.2)
                if vitc_int8:  # and the int8 library's kernels, likewise
                    int8_kernel_rounds.append(profile_kernels(vitc_int8[0], inputs,
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
        if vitc_int8:
            frameworks.append(dict(
                framework="vitc", precision="int8", best=min(vitc_int8_times),
                median=statistics.median(vitc_int8_times),
                agreement=agreement(np.load(outputs_int8), reference),
                peak_mb=peak_int8_kb / 1024, weights_mb=vitc_int8[2], compile_s=vitc_int8[1]))
        rows.append(dict(model=name, batch=batch, vitc=vitc_best, vitc_mean=vitc_median,
                         torch=torch_best, torch_median=torch_median, ort=ort_best,
                         ort_median=ort_median, max_diff=diff, top1=top1,
                         peak_mb=peak_kb / 1024, weights_mb=weights_mb, compile_s=compile_s,
                         frameworks=frameworks,
                         skipped=[] if vitc_int8 else ["vitc int8 (vitc refused --precision int8)"]))
        profiles[batch] = summarize_profiles(kernel_rounds)
        if vitc_int8:
            int8_profiles[batch] = summarize_profiles(int8_kernel_rounds)
    return rows, profiles, int8_profiles


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

    torch.set_num_threads(args.threads)
    work = tempfile.mkdtemp(prefix="vitc-bench-")
    peaks = fma_peak(args.threads)
    peak_one, peak, sustained, fastest_peak = (peaks["one"], peaks["peak"], peaks["sustained"],
                                               peaks["fastest"])
    int8_peak = peaks["int8_peak"]
    if args.threads != os.cpu_count():  # the 10 ms calls ran on every core
        fastest_peak *= args.threads / os.cpu_count()
    rows, profiles, int8_profiles = [], {}, {}
    for name in args.models:
        print(f"benchmarking {name} ...", file=sys.stderr, flush=True)
        model_rows, model_profiles, model_int8_profiles = bench_model(name, args, work, torch,
                                                                      timm, ort, load_file)
        rows += model_rows
        profiles[name] = model_profiles
        if model_int8_profiles:
            int8_profiles[name] = model_int8_profiles

    cpu, flags = host_cpu()
    flag_summary = ("flags unknown" if flags is None else
                    ", ".join(f"{flag} {'yes' if present else 'no'}"
                              for flag, present in flags.items()))
    print(f"\n{args.threads} threads, {cpu} ({flag_summary}); torch {torch.__version__}, "
          f"onnxruntime {ort.__version__}; vitc target {args.target}, tiles "
          f"{args.schedule_file or 'chosen by vitc'}; fp32 FMA peak ({peaks['fp32_isa']}) "
          f"{peak_one:.1f} GFLOP/s on 1 thread, {peak:.1f} GFLOP/s on {args.threads}; "
          f"int8 peak ({peaks['int8_isa']}) {peaks['int8_one']:.1f} GOP/s on 1 thread, "
          f"{int8_peak:.1f} GOP/s on {args.threads}\n")
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
    print("Every framework and precision, one row each (int8: dynamic quantization; see the "
          "docstring of benchmarks/compare_frameworks.py for each scheme); max abs diff and top-1 "
          "against PyTorch fp32:\n")
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
              f"too: the patch embedding and the head stay fp32, and the attention kernels "
              f"compute q.k^T and probs.v in fp32 next to their int8 qkv and proj, so their "
              f"share of the int8 peak understates the int8 GEMMs. int8/fp32: the kernel's "
              f"ms/run against the same kernel's in the fp32 table (< 1: int8 is faster).\n")
        print("| model | batch | kernel | calls | ms/run | int8/fp32 | share "
              "| GOP/s all calls, median round | % of int8 peak | best round | % of int8 peak "
              "| fastest call | % of int8 peak |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for name, by_batch in int8_profiles.items():
            for batch, kernels in by_batch.items():
                fp32_ms = {k[0]: k[2] for k in profiles[name][batch]}
                for kernel, calls, ms, share, *rates in kernels:
                    cells = []
                    for value in rates:
                        cells += ["-", "-"] if value is None else [
                            f"{value:.1f}", f"{100 * value / int8_peak:.0f}%"]
                    ratio = f"{ms / fp32_ms[kernel]:.2f}" if fp32_ms.get(kernel) else "-"
                    print(f"| {name} | {batch} | {kernel} | {calls} | {ms:.2f} | {ratio} | "
                          f"{share:.1f}% | " + " | ".join(cells) + " |")
    json.dump(dict(rows=rows, profiles=profiles, int8_profiles=int8_profiles, peak=peak,
                   peak_one=peak_one, sustained=sustained, fastest_peak=fastest_peak,
                   peaks=peaks, cpu=cpu, cpu_flags=flags),
              open(os.path.join(work, "results.json"), "w"), indent=1)
    print(f"\n(raw results: {os.path.join(work, 'results.json')})", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
