#!/usr/bin/env python3
"""Expected `vitc --emit=pos-embed-similarity -o X.npy` outputs, from numpy alone.

Run by hand (NOT in CI); the outputs are committed beside each case's files:

    python3 test/reference/make_posembed_similarity.py

For each case, the position embedding's patch rows (the class and distillation tokens' rows left
out) are compared pairwise by cosine similarity, in float64, giving [gh, gw, gh, gw] float32
(`posembed_similarity.npy`). The embedding is the checkpoint's `pos_embed` (timm layout), or for a
position-embedding resize case the resized embedding make_reference.py's PyTorch reference used
(`posembed_resized.npy`), so the vitc output is checked after its own resize too.
"""
import json
import os

import numpy as np
from safetensors.numpy import load_file

REFERENCE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "test", "data", "reference")
CASES = ["tiny_token_erf", "tiny_deit_distilled", "tiny_posembed_resize_bicubic"]


def similarity(pos_embed, prefix, grid_h, grid_w):
    rows = pos_embed.reshape(pos_embed.shape[-2], pos_embed.shape[-1])[prefix:].astype(np.float64)
    assert rows.shape[0] == grid_h * grid_w
    norms = np.linalg.norm(rows, axis=1)
    cos = (rows @ rows.T) / np.maximum(np.outer(norms, norms), np.finfo(np.float64).tiny)
    cos[np.outer(norms, norms) == 0] = 0.0
    return cos.reshape(grid_h, grid_w, grid_h, grid_w).astype(np.float32)


def main():
    for case in CASES:
        folder = os.path.join(REFERENCE, case)
        config = json.load(open(os.path.join(folder, "config.json")))
        size, patch = config["img_size"], config["patch_size"]
        prefix = (1 if config.get("class_token", True) else 0) + (1 if config.get("distilled") else 0)
        resized = os.path.join(folder, "posembed_resized.npy")
        pos = np.load(resized) if os.path.exists(resized) else \
            load_file(os.path.join(folder, "model.safetensors"))["pos_embed"]
        sim = similarity(pos, prefix, size // patch, size // patch)
        np.save(os.path.join(folder, "posembed_similarity.npy"), sim)
        print(f"{case}: {sim.shape}, diagonal min {np.min(np.diagonal(sim.reshape(len(sim.reshape(-1, sim.shape[0]*sim.shape[1])), -1))):.6f}")


if __name__ == "__main__":
    main()
