#!/usr/bin/env python3
"""A model whose int8 GEMM sums would saturate vpmaddubsw with 8-bit weights.

Run by hand (not in CI); writes test/data/reference/int8_saturation/, which is committed:

    python3 test/reference/make_int8_saturation_case.py

The model is tiny_token_erf with every block's second layer norm made constant (scale 0, bias
+1 everywhere but one -1): each fc1 input row is then quantized to u8 255 in all but one place.
Every fc1 weight row is constant too, so quantized to the largest magnitude in every place.
Adjacent pairs of products then sum to 2 x 255 x 127 = 64770 with 8-bit weights, beyond the
i16 range of vpmaddubsw (32767), and to 2 x 255 x 63 = 32130 with the 7-bit weights vitc gives
x86 targets without AVX512-VNNI: their kernels must still match the exact integer reference.
(Simulated in numpy, 8-bit weights with pair sums clamped to i16 give logits 4.3 away from the
exact ones: a kernel that saturated would fail test/e2e/int8_avx2.test by far.)

logits.npy and logits_b1.npy are the numpy forward's own f32 logits (that forward matches
PyTorch/timm on every other case, see make_int8_reference.py); the int8 files are then written
by make_int8_reference.run_case like every other case's.
"""
import os
import shutil
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_int8_reference as ref  # noqa: E402

SOURCE = os.path.join(ref.REFERENCE_DIR, "tiny_token_erf")
CASE = os.path.join(ref.REFERENCE_DIR, "int8_saturation")


def main():
    os.makedirs(CASE, exist_ok=True)
    for name in ("config.json", "input.npy"):
        shutil.copy(os.path.join(SOURCE, name), os.path.join(CASE, name))
    p = load_file(os.path.join(SOURCE, "model.safetensors"))
    width = p["blocks.0.norm2.weight"].shape[0]
    depth = 1 + max(int(k.split(".")[1]) for k in p if k.startswith("blocks."))
    for i in range(depth):
        p[f"blocks.{i}.norm2.weight"] = np.zeros(width, np.float32)
        bias = np.ones(width, np.float32)
        bias[-1] = -1.0
        p[f"blocks.{i}.norm2.bias"] = bias
        fc1 = p[f"blocks.{i}.mlp.fc1.weight"]
        # Row m constant, alternating in sign: every quantized weight is +-levels.
        signs = np.where(np.arange(fc1.shape[0]) % 2 == 0, 1.0, -1.0).astype(np.float32)
        p[f"blocks.{i}.mlp.fc1.weight"] = (0.05 * signs[:, None] *
                                          np.ones_like(fc1)).astype(np.float32)
    save_file(p, os.path.join(CASE, "model.safetensors"))

    cfg, params, pos_embed = ref.load_case(CASE)
    images = np.load(os.path.join(CASE, "input.npy"))
    np.save(os.path.join(CASE, "logits.npy"), ref.forward(images, cfg, params, pos_embed, 0))
    np.save(os.path.join(CASE, "logits_b1.npy"),
            ref.forward(images[:1], cfg, params, pos_embed, 0))
    result = ref.run_case(CASE)
    return 0 if isinstance(result, dict) else 1


if __name__ == "__main__":
    sys.exit(main())
