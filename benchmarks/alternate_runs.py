#!/usr/bin/env python3
"""vitc and ONNX Runtime in one process, single runs taking turns.

compare_frameworks.py times vitc through vit-run (a process per round) and the
frameworks in its own process; this times both in one process, vitc through the
vitc Python package (`pip install ./python`: libvitrt's bindings), one run of each
after the other with a short pause, so that a noisy stretch of a shared machine
lands on both alike. Prints the best and median of each and their ratios. Run by
hand after the build (needs torch, timm, onnxruntime, onnx from PyPI):

    python3 benchmarks/alternate_runs.py --model vit-b16 --batch 1 --rounds 20
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_frameworks import TIMM_NAMES, VITC  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="vit-b16", choices=sorted(TIMM_NAMES))
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.batch < 1 or args.rounds < 1 or args.threads < 1:
        parser.error("--batch, --rounds and --threads must be at least 1")

    import onnxruntime as ort
    import timm
    import torch
    from safetensors.torch import load_file

    work = tempfile.mkdtemp(prefix="vitc-alternate-")
    base = args.model.replace("-", "_")
    lib = os.path.join(work, f"lib{base}.so")
    timm_weights = os.path.join(work, "timm.safetensors")
    subprocess.run([VITC, "--model", args.model, "--random-weights", str(args.seed),
                    "--save-weights", timm_weights, "--emit=lib", "-o", lib], check=True)
    model = timm.create_model(TIMM_NAMES[args.model], pretrained=False).eval()
    model.load_state_dict(load_file(timm_weights), strict=True)
    onnx_path = os.path.join(work, "model.onnx")
    torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), onnx_path,
                      input_names=["images"], output_names=["logits"],
                      dynamic_axes={"images": {0: "batch"}}, dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    import vitc as vitc_package  # the Python package (python/)
    vitc = vitc_package.load(lib, os.path.join(work, f"{base}.safetensors"),
                             threads=args.threads)

    images = np.random.default_rng(args.batch).uniform(
        -1, 1, (args.batch, 3, 224, 224)).astype(np.float32)
    ours, theirs = vitc(images), session.run(None, {"images": images})[0]  # warm-ups
    print(f"max |vitc - ORT| {np.abs(ours - theirs).max():.2e}")
    times = {"vitc": [], "ORT": []}
    runs = {"vitc": lambda: vitc(images),
            "ORT": lambda: session.run(None, {"images": images})}
    for _ in range(args.rounds):
        for name, run in runs.items():
            time.sleep(0.1)
            start = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - start) * 1000.0)
    best = {k: min(v) for k, v in times.items()}
    median = {k: statistics.median(v) for k, v in times.items()}
    per_round = statistics.median(a / b for a, b in zip(times["vitc"], times["ORT"]))
    print(f"{args.model} batch {args.batch}, {args.threads} threads, {args.rounds} rounds: "
          f"vitc best {best['vitc']:.1f} / median {median['vitc']:.1f} ms, "
          f"ORT best {best['ORT']:.1f} / median {median['ORT']:.1f} ms; vitc/ORT "
          f"{best['vitc'] / best['ORT']:.2f} (best), {median['vitc'] / median['ORT']:.2f} "
          f"(median), {per_round:.2f} (median of the per-round ratios)")


if __name__ == "__main__":
    sys.exit(main())
