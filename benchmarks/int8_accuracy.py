#!/usr/bin/env python3
"""How far vitc's int8 logits are from its fp32 logits, per model, on the same images.

For each model (the zoo names; ViT-S/16 and ViT-B/16 by default) compiles an fp32 and an int8
library (`--precision int8`: int8 weights per output channel, uint8 activations per token row
on the qkv, proj, fc1 and fc2 GEMMs; the rest stays fp32) from the same seeded random weights,
runs both on the same random images, and prints a Markdown table: the cosine similarity of each
image's int8 logits to its fp32 logits (min and mean over the images), the fraction of images
whose top-1 class agrees, and the largest |int8 - fp32| over every logit (next to the largest
|fp32| logit, for scale). vit-run quantizes activations per token row, so an image's logits do
not depend on the others in its batch.

Random weights and N(0, 1) noise images are not ImageNet: most of a random model's logits are
the same for every image (the biases and the position embeddings outweigh the noise), so the
plain cosine is close to 1 whatever the images, and most images share one top-1 class with
small margins. Hence two more columns: the cosine of the image-dependent part (each image's
logits, int8 and fp32, less the fp32 logits' mean over the images), which is what quantization
noise has to be small against, and how many distinct top-1 classes fp32 picks. Nothing here is
a test: the numbers are reported, never asserted.

Equivalent commands, for each MODEL (vit-s16, vit-b16) and with NAME its name with _ for -
(vit_s16), in a temporary directory:

    python3 -c "import numpy as np; np.save('images.npy', np.random.default_rng(0)
                .standard_normal((64, 3, 224, 224), dtype=np.float32))"
    vitc --model MODEL --random-weights 0 --target host --emit=lib -o libNAME.so
    vitc --model MODEL --random-weights 0 --target host --emit=lib -o libNAME_int8.so \\
         --precision int8
    vit-run --library libNAME.so images.npy --top 0 -o NAME_fp32.npy
    vit-run --library libNAME_int8.so images.npy --top 0 -o NAME_int8.npy

(each library's weights, NAME.safetensors and NAME_int8.safetensors, are written beside it),
then the metrics below on the two [64, 1000] logits arrays. Run after the build
(VITC_BUILD=/path/to/build where the build is not ./build):

    python3 benchmarks/int8_accuracy.py [--models vit-s16 vit-b16] [--images 64]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("VITC_BUILD", os.path.join(ROOT, "build"))
VITC = os.path.join(BUILD, "compiler", "tools", "vitc", "vitc")
VIT_RUN = os.path.join(BUILD, "runtime", "vit-run")


def compile_lib(model, args, lib, precision):
    """Compiles `model` into `lib` (fp32, or int8 with precision "int8"); returns seconds."""
    start = time.perf_counter()
    subprocess.run([VITC, "--model", model, "--random-weights", str(args.weights_seed),
                    "--target", args.target, "--emit=lib", "-o", lib]
                   + (["--precision", precision] if precision != "fp32" else []), check=True)
    return time.perf_counter() - start


def run_lib(lib, images, outputs, threads):
    """vit-run's logits of `lib` on the images, as float64 [N, classes]; and the seconds taken."""
    start = time.perf_counter()
    subprocess.run([VIT_RUN, "--library", lib, images, "--num-threads", str(threads),
                    "--top", "0", "-o", outputs], check=True)
    return np.load(outputs).astype(np.float64), time.perf_counter() - start


def cosines(a, b):
    """The cosine similarity of each row of a to the same row of b."""
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def compare(int8, fp32):
    """(cosine per image, cosine per image of the logits less fp32's mean over the images,
    top-1 agreement, distinct fp32 top-1 classes, max |int8 - fp32|, max |fp32|)."""
    mean = fp32.mean(0)
    top1 = float((int8.argmax(1) == fp32.argmax(1)).mean())
    return (cosines(int8, fp32), cosines(int8 - mean, fp32 - mean), top1,
            len(set(fp32.argmax(1))), float(np.abs(int8 - fp32).max()),
            float(np.abs(fp32).max()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["vit-s16", "vit-b16"],
                        help="vitc zoo names (vitc --help lists them)")
    parser.add_argument("--images", type=int, default=64, help="random 224x224 images")
    parser.add_argument("--seed", type=int, default=0, help="the images' numpy seed")
    parser.add_argument("--weights-seed", type=int, default=0, help="vitc --random-weights")
    parser.add_argument("--threads", type=int, default=0, help="vit-run threads (0: all cores)")
    parser.add_argument("--target", default="host")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work directory (libraries, images, logits)")
    args = parser.parse_args()
    if args.images < 1:
        parser.error("--images must be at least 1")
    for tool in (VITC, VIT_RUN):
        if not os.access(tool, os.X_OK):
            parser.error(f"{tool} is missing: build it (cmake --build {BUILD}), or set "
                         f"VITC_BUILD to the build directory")

    work = tempfile.mkdtemp(prefix="vitc-int8-accuracy-")
    images = os.path.join(work, "images.npy")
    np.save(images, np.random.default_rng(args.seed).standard_normal(
        (args.images, 3, 224, 224), dtype=np.float32))
    rows = []
    try:
        for model in args.models:
            name = model.replace("-", "_")
            logits, seconds = {}, {}
            for precision in ("fp32", "int8"):
                lib = os.path.join(work, f"lib{name}{'_int8' if precision == 'int8' else ''}.so")
                print(f"{model} {precision}: compiling ...", file=sys.stderr, flush=True)
                compile_s = compile_lib(model, args, lib, precision)
                logits[precision], seconds[precision] = run_lib(
                    lib, images, os.path.join(work, f"{name}_{precision}.npy"), args.threads)
                print(f"{model} {precision}: compiled in {compile_s:.1f} s, {args.images} images "
                      f"in {seconds[precision]:.1f} s (vit-run process, load included)",
                      file=sys.stderr, flush=True)
            rows.append((model, *compare(logits["int8"], logits["fp32"])))
    finally:
        if args.keep:
            print(f"(work directory kept: {work})", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nvitc int8 against vitc fp32: {args.images} N(0, 1) images (numpy seed {args.seed}), "
          f"random weights (--random-weights {args.weights_seed}), target {args.target}\n")
    print("| model | cosine min | cosine mean | image-dependent part: cosine min | cosine mean "
          "| top-1 agree | distinct fp32 top-1 | max abs diff | max abs fp32 logit |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model, cosine, centered, top1, distinct, diff, scale in rows:
        print(f"| {model} | {cosine.min():.6f} | {cosine.mean():.6f} | {centered.min():.4f} | "
              f"{centered.mean():.4f} | {top1:.3f} ({round(top1 * args.images)}/{args.images}) | "
              f"{distinct} | {diff:.2e} | {scale:.2e} |")


if __name__ == "__main__":
    sys.exit(main())
