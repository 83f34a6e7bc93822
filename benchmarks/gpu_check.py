#!/usr/bin/env python3
"""GPU check: vitc's CUDA code against PyTorch eager fp32 on the same GPU and weights.

Two steps, so that only the second needs the GPU (a GPU machine may have no compiler):

  # here, after the build: cross-compile the CUDA libraries (no GPU needed)
  python3 benchmarks/gpu_check.py prepare --out build-gpu

  # on the GPU machine (python3 with numpy, torch, timm, safetensors): one short run
  python3 benchmarks/gpu_check.py run --dir build-gpu

`prepare --schedule-file A.json --schedule-file B.json ...` also compiles the big model with
each file's tile overrides (the GPU block, thread and shared-memory tiles of docs/PASSES.md),
and `run` checks and times every variant against the same PyTorch run: one short session on
the GPU sweeps the tiles (benchmarks/gpu_tiles/ holds candidates for ViT-B/16).

`prepare` writes libvitrt.so (the C runtime, libc only), the tiny reference models compiled for
CUDA with their weights, inputs and PyTorch logits, and ViT-B/16 at 224 compiled for CUDA
(its 346 MB of weights are not carried: `run` makes timm's seeded random init and packs it into
the library's weight layout, which the library's own description spells out).

`run` prints the GPU, checks every model's logits against PyTorch's (max |diff| <= 1e-3 x
max(1, |reference|), top-1 identical), and times ViT-B/16 at batches 1, 8 and 64 next to PyTorch
eager fp32 (default matmul precision), printing the throughput ratio. vitc's time includes
copying the images to the device and the logits back; PyTorch's input is already on the device.
It exits non-zero when a numeric check fails. Timings are reported, never asserted.

With --device cpu (and `prepare --target host`) the same flow runs on the CPU, which is how it
is tested without a GPU.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

from vitrt_py import Model, Runtime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("VITC_BUILD", os.path.join(ROOT, "build"))
VITC = os.path.join(BUILD, "compiler", "tools", "vitc", "vitc")
REFERENCE = os.path.join(ROOT, "test", "data", "reference")
TINY_MODELS = ["tiny_token_erf", "tiny_deit_distilled", "tiny_avg_fcnorm", "tiny_representation"]
TOLERANCE = 1e-3

# --- prepare (here) ---

def prepare(args):
    os.makedirs(args.out, exist_ok=True)
    shutil.copy(os.path.join(BUILD, "runtime", "libvitrt.so"), args.out)
    manifest = dict(target=args.target, tiny=[], big=None)
    for name in TINY_MODELS:
        ref = os.path.join(REFERENCE, name)
        lib = os.path.join(args.out, f"lib{name}.so")
        subprocess.run([VITC, "--config", os.path.join(ref, "config.json"), "--weights",
                        os.path.join(ref, "model.safetensors"), "--target", args.target,
                        "--emit=lib", "-o", lib], check=True)
        for f in ("input.npy", "logits.npy"):
            shutil.copy(os.path.join(ref, f), os.path.join(args.out, f"{name}.{f}"))
        manifest["tiny"].append(name)
    # The big model: the libraries only (vitc's own tiles, then one per schedule file); their
    # weights are made where they run.
    big = args.model.replace("-", "_")
    manifest["big"] = dict(model=args.model, variants=[])
    for schedule in [None] + (args.schedule_file or []):
        stem = os.path.splitext(os.path.basename(schedule))[0] if schedule else ""
        name = f"{big}_{stem.replace('-', '_')}" if stem else big
        lib = os.path.join(args.out, f"lib{name}.so")
        tiles = ["--schedule-file", schedule] if schedule else []
        subprocess.run([VITC, "--model", args.model, "--random-weights", "0", "--target",
                        args.target, "--emit=lib", "-o", lib] + tiles,
                       check=True)
        os.remove(os.path.join(args.out, f"{name}.safetensors"))
        manifest["big"]["variants"].append(dict(library=os.path.basename(lib),
                                                tiles=os.path.basename(schedule) if schedule
                                                else "vitc's own"))
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    print(f"prepared {args.out}: {len(os.listdir(args.out))} files, {total / 2**20:.1f} MiB")


# --- run (on the GPU machine) ---

TIMM_NAMES = {"vit-ti16": "vit_tiny_patch16_224", "vit-s16": "vit_small_patch16_224",
              "vit-b16": "vit_base_patch16_224"}


def compare(ours, reference):
    worst = float(np.max(np.abs(ours - reference) / np.maximum(1.0, np.abs(reference))))
    top1 = bool((ours.argmax(1) == reference.argmax(1)).all())
    ok = np.isfinite(ours).all() and worst <= TOLERANCE and top1
    return ok, worst


def timed(fn, repeat, sync):
    fn()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1000.0)
    return min(times), float(np.median(times))


def run(args):
    import torch
    import timm

    with open(os.path.join(args.dir, "manifest.json")) as f:
        manifest = json.load(f)
    device = args.device or ("cuda" if "cuda" in manifest["target"] else "cpu")
    gpu = args.gpu if "cuda" in manifest["target"] or "opencl" in manifest["target"] else -1
    torch_device = f"cuda:{args.gpu}" if device == "cuda" else "cpu"
    if device == "cuda":
        torch.cuda.set_device(args.gpu)
        name = torch.cuda.get_device_name(args.gpu)
        props = torch.cuda.get_device_properties(args.gpu)
        print(f"GPU: {name}, {props.total_memory / 2**30:.0f} GiB, {props.multi_processor_count} SMs; "
              f"torch {torch.__version__}, CUDA {torch.version.cuda}")
    else:
        print(f"device: CPU; torch {torch.__version__}")
    print(f"vitc target: {manifest['target']}; tolerance {TOLERANCE:g} x max(1, |reference|)\n")
    runtime = Runtime(os.path.join(args.dir, "libvitrt.so"))
    failures = 0

    for name in manifest["tiny"]:
        model = Model(runtime, os.path.join(args.dir, f"lib{name}.so"),
                      os.path.join(args.dir, f"{name}.safetensors"), gpu)
        images = np.load(os.path.join(args.dir, f"{name}.input.npy"))
        reference = np.load(os.path.join(args.dir, f"{name}.logits.npy"))
        ok, worst = compare(model.run(images), reference)
        model.close()
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'} {name}: max relative diff {worst:.2e}")

    big = manifest["big"]
    torch.manual_seed(args.seed)
    reference_model = timm.create_model(TIMM_NAMES[big["model"]], pretrained=False).eval()
    state = reference_model.state_dict()
    reference_model = reference_model.to(torch_device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    # PyTorch once per batch; then every variant of the library (its own tiles, so its own
    # weight layout) against the same images and logits.
    inputs = {}
    for batch in args.batches:
        images = np.random.default_rng(batch).uniform(-1, 1, (batch, 3, 224, 224)).astype(np.float32)
        on_device = torch.from_numpy(images).to(torch_device)
        with torch.no_grad():
            reference = reference_model(on_device).float().cpu().numpy()
            torch_best, _ = timed(lambda: reference_model(on_device), args.repeat, sync)
        inputs[batch] = (images, reference, torch_best)
    del reference_model
    weights = os.path.join(args.scratch, "gpu_check_weights.safetensors")
    rows = []
    for variant in big["variants"]:
        library = os.path.join(args.dir, variant["library"])
        Model(runtime, library, None).pack_weights(state, weights)
        model = Model(runtime, library, weights, gpu)
        for batch in args.batches:
            images, reference, torch_best = inputs[batch]
            ok, worst = compare(model.run(images), reference)
            failures += not ok
            vitc_best, _ = timed(lambda: model.run(images), args.repeat, lambda: None)
            rows.append((variant["tiles"], batch, vitc_best, torch_best, worst, ok))
        model.close()
        os.remove(weights)

    print(f"\n{big['model']} at 224, fp32, best of {args.repeat}:\n")
    print("| vitc tiles | batch | vitc ms | vitc images/s | PyTorch ms | PyTorch images/s "
          "| vitc/PyTorch throughput | max rel diff |")
    print("|---|---|---|---|---|---|---|---|")
    for tiles, batch, ours, theirs, worst, ok in rows:
        print(f"| {tiles} | {batch} | {ours:.2f} | {1000 * batch / ours:.0f} | {theirs:.2f} | "
              f"{1000 * batch / theirs:.0f} | {theirs / ours:.2f} | "
              f"{worst:.1e}{'' if ok else ' FAIL'} |")
    print(f"\n{'all numeric checks passed' if not failures else f'{failures} numeric checks FAILED'}")
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prepare", help="cross-compile the libraries (no GPU needed)")
    p.add_argument("--out", default=os.path.join(ROOT, "build-gpu"))
    # The host code for any x86-64 with AVX2: the GPU machine's CPU is not this one, and
    # libvitrt refuses a library using CPU features its host lacks.
    p.add_argument("--target", default="x86-64-linux-avx2-fma-f16c-cuda-cuda_capability_80")
    p.add_argument("--model", default="vit-b16", choices=sorted(TIMM_NAMES))
    p.add_argument("--schedule-file", action="append",
                   help="also compile the big model with these tile overrides (vitc "
                   "--schedule-file, docs/PASSES.md), one library each; repeatable, so one run "
                   "on the GPU times a sweep of block and thread tiles")
    r = sub.add_parser("run", help="run the checks and the benchmark (needs the GPU)")
    r.add_argument("--dir", default=os.path.join(ROOT, "build-gpu"))
    r.add_argument("--device", choices=["cuda", "cpu"], help="default: from the target")
    r.add_argument("--gpu", type=int, default=0, help="GPU index (vitrt and PyTorch)")
    r.add_argument("--batches", type=int, nargs="+", default=[1, 8, 64])
    r.add_argument("--repeat", type=int, default=10)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--scratch", default="/tmp", help="where the packed weights are written")
    args = parser.parse_args()
    return prepare(args) if args.step == "prepare" else run(args)


if __name__ == "__main__":
    sys.exit(main())
