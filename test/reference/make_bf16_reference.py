#!/usr/bin/env python3
"""Expected logits for vitc's `--precision bf16`, from numpy alone.

Run by hand (NOT run in CI); the outputs are committed to the repo:

    pip install numpy safetensors
    python3 test/reference/make_bf16_reference.py [--tries N] [CASE_DIR ...]

With no case arguments it goes through every case in test/data/reference and skips, with a
message, the ones it does not support. This is a test oracle, written independently of vitc and
kept plain on purpose. The forward is make_int8_reference.py's (imported from this folder, not
copied: a float32 ViT forward in numpy with timm VisionTransformer semantics), with the linear
for its four GEMM kinds (its gemm= hook) and its attention core (its core= hook) replaced by the
bf16 ones below. Same cases, same skip rules.

Per case it
1. runs the forward with bf16 OFF and compares with logits.npy / logits_b1.npy (the PyTorch/timm
   references); it refuses to write anything for a case if either differs by more than 1e-4;
2. runs the forward with bf16 ON and writes, next to the case's other files,
     logits_bf16.npy     float32 [2, classes]  for the whole input.npy (batch 2)
     logits_bf16_b1.npy  float32 [1, classes]  for input.npy[:1] alone
   (the rounding is per element, so both agree exactly with each other);
3. records max |bf16 - f32 logits| and top-1 agreement in a "bf16" sub-object of the case's
   entry in MANIFEST.json (the existing entries, "int8" included, are left as they are);
4. measures how much the bf16 logits move under float32-ulp noise in the inputs of every bf16
   rounding: the GEMM inputs and the attention core's q, k, v and probs (--tries per case, 400
   by default, a quarter of that at the wider noise, 0 to skip; nothing is written for it), see
   "Tolerance" below.

Note: make_reference.py starts each case folder clean and rewrites MANIFEST.json from scratch,
so run make_int8_reference.py and this script again after it.

The bf16 scheme
---------------
bf16 is used in the four weight GEMM kinds (attention qkv, attention proj, MLP fc1, MLP fc2) and
in the attention core's two products, q.k^T and probs.v. The patch embedding, the head, the
pre-logits (representation) layer, layer norms, the 1/sqrt(Dh) scale, the softmax, the
activation and the residual adds all stay float32.

bf16(v), for a float32 v with bit pattern u (uint32): round to nearest, ties to even, on the
top 16 bits,
    bf16(v) = float32 with bits ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
(NaN is not handled: no input here is NaN). bf16 values are kept as float32 arrays whose low
16 bits are zero.

Weight GEMMs. Weights W [M, K] (PyTorch layout): Wb = bf16(W), per element, once.
Activations X [rows, K] (the GEMM's float32 input): Xb = bf16(X), per element.
    Y[r, m] = sum_k Xb[r, k] * Wb[m, k]  + bias[m]
each product exact in float32 (8-bit significands), the sum accumulated in float32 (numpy's
float32 matmul), the bias float32; then the usual epilogue in float32: fc1 -> activation; proj
and fc2 -> + residual.

Attention core, per head: q, k, v [N, Dh] are the float32 qkv GEMM output (bias included) split
into heads, and s = float32(1) / sqrt(float32(Dh)), in float32.
    scores[i, j]  = (sum_d bf16(q[i, d]) * bf16(k[j, d])) * s       (scaled after the sum)
    probs         = softmax(scores) over j, the f32 forward's float32 softmax
                    (exp(scores - row max), divided by the row sum)
    context[i, d] = sum_j bf16(probs[i, j]) * bf16(v[j, d])
products exact, sums float32 (numpy's float32 matmul). The heads' contexts, merged to [N, H*Dh],
are the proj GEMM's input X as before. (The f32 forward scales q before the product instead;
with Dh = 16 in every case here s = 0.25 is a power of two, so the two orders give identical
bits in these cases.)

Results (numpy 2.4.6, safetensors 0.8.0; "f32 check" is the bf16-OFF forward against logits.npy,
"bf16-f32" is max |logits_bf16.npy - logits.npy| over both images, "top-1" the share of images
whose top-1 class agrees between the two; the noise columns are explained under "Tolerance"):

    case                              f32 check  bf16-f32  top-1  f32 top-1  noise 3e-7 (>tol)  noise 1e-6 (>tol)
    int8_saturation                    0.00e+00    0.0058   1.00     0.2550  0.00e+00 (  0%)  4.23e-03 ( 25%)
    tiny_avg_fcnorm                    8.94e-07    0.0117   1.00     0.0001  1.41e-03 ( 24%)  2.71e-03 ( 42%)
    tiny_deit_distilled                8.94e-07    0.0090   1.00     0.3436  3.40e-03 ( 39%)  3.40e-03 ( 61%)
    tiny_gap                           2.38e-07    0.0028   1.00     0.3014  1.33e-04 (  0%)  6.28e-04 (  0%)
    tiny_gelu_tanh_noqkvbias           1.55e-06    0.0108   1.00     1.1839  8.22e-03 ( 50%)  8.22e-03 ( 94%)
    tiny_posembed_resize_bicubic       4.77e-07    0.0101   1.00     0.1263  3.71e-03 ( 43%)  6.04e-03 ( 85%)
    tiny_posembed_resize_bilinear_ac   1.91e-06    0.0120   1.00     0.0106  0.00e+00 (  0%)  4.55e-03 (  5%)
    tiny_relu                          1.43e-06    0.0171   1.00     0.7445  0.00e+00 (  0%)  2.91e-03 ( 26%)
    tiny_representation                9.24e-07    0.0120   1.00     0.1373  5.92e-03 ( 32%)  6.32e-03 ( 66%)
    tiny_token_erf                     1.19e-06    0.0156   1.00     0.4563  1.48e-03 ( 42%)  1.88e-03 ( 55%)

"f32 top-1" is the smallest gap between the two largest f32 logits of an image.
tiny_avg_fcnorm's two images are near ties in float32 (margins 0.005 and 0.0001): bf16 happens
to keep both top-1s here, but top-1 agreement means nothing for that case. int8_saturation (a
case made for int8, whose logits.npy is this numpy forward's own) is an ordinary bf16 case.
Rounding is per element, so logits_bf16_b1.npy equals logits_bf16.npy[:1] exactly here.
Against the previous scheme (bf16 in the four weight GEMMs only, the attention core float32)
these logits moved by 2.5e-3 (tiny_gap) to 1.4e-2 (tiny_representation), max over both files:
int8_saturation 3.0e-3, tiny_avg_fcnorm 1.0e-2, tiny_deit_distilled 6.0e-3, tiny_gap 2.5e-3,
tiny_gelu_tanh_noqkvbias 5.6e-3, tiny_posembed_resize_bicubic 3.8e-3,
tiny_posembed_resize_bilinear_ac 1.05e-2, tiny_relu 1.2e-2, tiny_representation 1.4e-2,
tiny_token_erf 9.1e-3.

Tolerance
---------
vitc's kernels sum in a different order than numpy, and its float32 layer norm, softmax and
activation differ from these by an ulp here and there. The float32 sums alone do not matter:
summing every bf16 product (the four GEMMs, q.k^T and probs.v) in float64 instead (rounded once
to float32) changes the bf16 logits by at most 4.8e-7 in every case. What matters is an input
of a bf16 rounding within a few ulps of a rounding tie: an ulp there flips its rounding, the
element moves by a whole bf16 step (2^-8 to 2^-7 relative), which in these 32-wide models moves
the next layer's values by up to ~1e-3 relative, and that re-rounds some of the bf16 values
downstream in turn. One flip early in the network can so move the logits by a large part of
the whole bf16-vs-f32 distance: flipping one block-0 qkv input of tiny_gelu_tanh_noqkvbias
(image 1, 4 ulps from its tie) moves its bf16 logits by 8.2e-3, while the same step in the f32
forward moves them by 1.6e-3. With the attention core in bf16 there are more roundings to flip
(q, k, v and probs), and since it changes every value downstream of the first attention, it
also changes which values sit near a tie: which cases are fragile is largely luck, and it is
not the same set as under the previous scheme.

The noise columns: every input of a bf16 rounding (each GEMM input element, and each element of
the attention core's q, k, v and probs) scaled by (1 + r u), u uniform in [-1, 1] (drawn in
float64, the product rounded to float32), before the rounding; r = 3e-7 (~1.3 to 2.5 float32
ulp, 400 tries per case) and r = 1e-6 (~4 to 8 ulp, 100 tries); the largest change of the bf16
logits, and in brackets the share of the tries that moved them by more than 1e-3.
By source (by hand, not part of this script: 400 tries at each level with noise in one group
of inputs only): at 3e-7, noise in the GEMM inputs alone moves tiny_gelu_tanh_noqkvbias
(8.2e-3), tiny_posembed_resize_bicubic (3.7e-3), tiny_representation (2.9e-3), tiny_token_erf
(1.5e-3) and tiny_avg_fcnorm (1.4e-3) past 1e-3; in q, k, v alone, tiny_representation
(5.9e-3), tiny_deit_distilled (3.4e-3), tiny_gelu_tanh_noqkvbias (2.9e-3) and
tiny_posembed_resize_bicubic (2.2e-3); in probs alone, none (at 1e-6 up to 4.6e-3, in
tiny_posembed_resize_bilinear_ac).
A more realistic model, by hand (not part of this script): replacing this forward's layer norm
with a one-pass E[x^2] - E[x]^2 one or a float64 one, its softmax with one that multiplies by
the reciprocal of the sum or one in float64, and the bf16 sums (GEMMs and attention) with
float64 ones, alone or all three at once, moved the bf16 logits by at most 4.8e-7 in every case,
but for tiny_deit_distilled with the float64 layer norm (2.6e-5: one flipped rounding with a
small effect).

Recommended tolerance: 1e-3 (TOLERANCE below), for the four cases where ulp noise at 3e-7 moved
the logits by 1.3e-4 at most: int8_saturation, tiny_gap, tiny_posembed_resize_bilinear_ac and
tiny_relu (0 for all but tiny_gap). It is 2.8x below the smallest of their bf16-vs-f32
distances (tiny_gap, 0.0028) and 2.5x below the smallest of their distances to the previous
scheme's logits (tiny_gap, 0.0025), so it tells this scheme from both f32 and a float32
attention core, and 7.5x above their largest noise at 3e-7. Several ulps on every input (1e-6)
push three of them past it (int8_saturation 4.2e-3, tiny_posembed_resize_bilinear_ac 4.6e-3,
tiny_relu 2.9e-3; tiny_gap stays at 6.3e-4), so if vitc misses by a few 1e-3 on one of these,
suspect one flipped rounding before a kernel bug (compare its GEMM inputs, q, k, v and probs
with this forward's).
Not fit for a tight bf16 check: tiny_avg_fcnorm, tiny_deit_distilled, tiny_gelu_tanh_noqkvbias,
tiny_posembed_resize_bicubic, tiny_representation and tiny_token_erf. Each has bf16 rounding
inputs close enough to a tie for the 3e-7 noise to flip, which moves the logits by 1.4e-3 to
8.2e-3 (24% to 50% of the 3e-7 tries), 10% to 76% of their bf16-vs-f32 distance. For
tiny_token_erf and tiny_avg_fcnorm a looser 3e-3 would still absorb all the noise measured
(1.9e-3 and 2.7e-3 at most, at 1e-6) and be 3x to 5x below both their bf16-vs-f32 and
previous-scheme distances; for the other four no tolerance
both absorbs their noise and tells bf16 from f32 and from the previous scheme. vitc may well
match them within 1e-3 on a given machine, but a miss there does not by itself mean a wrong
kernel. Exact equality is not a fair test for any case.
"""

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_int8_reference as ref  # noqa: E402

F32 = np.float32
REFERENCE_DIR = ref.REFERENCE_DIR
F32_TOLERANCE = ref.F32_TOLERANCE
TOLERANCE = 1e-3  # the recommended tolerance for vitc's bf16 logits, see the docstring
PERTURB_RELATIVE = 3e-7  # ~1.3 to 2.5 float32 ulp
PERTURB_RELATIVE_WIDE = 1e-6  # ~4 to 8 ulp
DEFAULT_TRIES = 400


# ---------------------------------------------------------------------------
# bf16
# ---------------------------------------------------------------------------

def to_bf16(x):
    """Round float32 -> bf16 (nearest, ties to even), returned as float32 with low 16 bits zero."""
    x = np.ascontiguousarray(x, dtype=F32)
    bits = x.view(np.uint32).astype(np.uint64)  # uint64: the sum cannot wrap
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return (rounded << 16).astype(np.uint32).view(F32)


def linear_bf16(x, w, b):
    """y = bf16(x) @ bf16(w).T + b: exact products, float32 sums (numpy float32 matmul)."""
    assert x.dtype == F32 and x.ndim == 2 and w.dtype == F32 and w.ndim == 2
    y = to_bf16(x) @ to_bf16(w).T
    if b is not None:
        y = y + b
    assert y.dtype == F32
    return y


def linear_bf16_f64_sums(x, w, b):
    """As linear_bf16, but the sums in float64, rounded once to float32 (another sum order)."""
    y = (to_bf16(x).astype(np.float64) @ to_bf16(w).astype(np.float64).T).astype(F32)
    if b is not None:
        y = y + b
    assert y.dtype == F32
    return y


def attention_core_bf16(q, k, v, noise=lambda x: x):
    """The attention core for q, k, v [H, N, Dh] (float32, the qkv GEMM's output) -> context
    [H, N, Dh]: scores = (bf16(q) @ bf16(k)^T) * (1 / sqrt(Dh)), exact products, float32 sums,
    scaled after the dot product; the float32 softmax; context = bf16(probs) @ bf16(v), float32
    sums. noise (for the sensitivity estimate) is applied to q, k, v and probs before rounding."""
    assert q.dtype == F32 and q.ndim == 3
    scale = F32(1.0) / np.sqrt(F32(q.shape[-1]))
    scores = (to_bf16(noise(q)) @ to_bf16(noise(k)).transpose(0, 2, 1)) * scale  # [H, N, N]
    probs = ref.softmax(scores)
    context = to_bf16(noise(probs)) @ to_bf16(noise(v))
    assert scale.dtype == F32 and scores.dtype == F32 and context.dtype == F32
    return context


def attention_core_bf16_f64_sums(q, k, v):
    """As attention_core_bf16, but both dot products summed in float64, rounded once to float32."""
    def mm(a, b):
        return (to_bf16(a).astype(np.float64) @ to_bf16(b).astype(np.float64)).astype(F32)
    scale = F32(1.0) / np.sqrt(F32(q.shape[-1]))
    probs = ref.softmax(mm(q, k.transpose(0, 2, 1)) * scale)
    return mm(probs, v)


def perturbed_bf16(rng, flips, relative):
    """(gemm, core): linear_bf16 and attention_core_bf16 with every input of a bf16 rounding
    (GEMM inputs; q, k, v and probs) first scaled by (1 + relative * u), u uniform in [-1, 1];
    flips[0] counts the GEMM-input bf16 roundings that this noise itself changes, flips[1]
    those in the attention core."""
    def noisy(x, slot):
        u = rng.uniform(-1.0, 1.0, size=x.shape)
        y = (x.astype(np.float64) * (1.0 + relative * u)).astype(F32)
        flips[slot] += int(np.count_nonzero(to_bf16(y) != to_bf16(x)))
        return y

    def gemm(x, w, b):
        return linear_bf16(noisy(x, 0), w, b)

    def core(q, k, v):
        return attention_core_bf16(q, k, v, noise=lambda x: noisy(x, 1))
    return gemm, core


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

def run_case(case_dir, tries):
    """Returns the MANIFEST "bf16" entry (plus "_noise" keys), or None if skipped, or "failed"."""
    name = os.path.basename(os.path.normpath(case_dir))
    print(f"{name}:")
    try:
        cfg, p, pos_embed = ref.load_case(case_dir)
    except ref.Unsupported as e:
        print(f"  skipped: {e}")
        return None
    images = np.load(os.path.join(case_dir, "input.npy"))
    logits = np.load(os.path.join(case_dir, "logits.npy"))
    logits_b1 = np.load(os.path.join(case_dir, "logits_b1.npy"))
    assert images.dtype == F32 and images.shape[0] == 2

    # 1. The forward itself, bf16 off, against PyTorch/timm.
    f32 = ref.forward(images, cfg, p, pos_embed, 0)
    f32_b1 = ref.forward(images[:1], cfg, p, pos_embed, 0)
    check = max(float(np.abs(f32 - logits).max()), float(np.abs(f32_b1 - logits_b1).max()))
    print(f"  bf16 off: max |numpy - logits.npy/logits_b1.npy| = {check:.3g}")
    if not check <= F32_TOLERANCE:
        print(f"  FAILED: over {F32_TOLERANCE}; nothing written for this case")
        return "failed"

    # 2. bf16.
    bf16 = ref.forward(images, cfg, p, pos_embed, 0, gemm=linear_bf16, core=attention_core_bf16)
    bf16_b1 = ref.forward(images[:1], cfg, p, pos_embed, 0, gemm=linear_bf16,
                          core=attention_core_bf16)
    assert np.array_equal(bf16_b1, bf16[:1])  # per-element rounding, one image at a time
    np.save(os.path.join(case_dir, "logits_bf16.npy"), bf16)
    np.save(os.path.join(case_dir, "logits_bf16_b1.npy"), bf16_b1)

    diff = float(np.abs(bf16 - logits).max())
    top1 = float(np.mean(bf16.argmax(1) == logits.argmax(1)))
    top2 = np.sort(logits, axis=1)[:, -2:]
    margin = float(np.min(top2[:, 1] - top2[:, 0]))  # a near tie makes top-1 agreement moot
    print(f"  bf16: max |bf16 - f32 logits| = {diff:.4g} (max |f32 logit| "
          f"{float(np.abs(logits).max()):.4g}), top-1 agree {top1:.2f} "
          f"(smallest f32 top-1 margin {margin:.3g})")

    # 4. Sensitivity to float32-ulp differences upstream of each bf16 rounding (not recorded).
    noise = {}
    for level, n in ((PERTURB_RELATIVE, tries), (PERTURB_RELATIVE_WIDE, tries // 4)):
        changes, flips = [], [0, 0]
        rng = np.random.default_rng([sum(name.encode()), n])  # fixed per case: reproducible
        for _ in range(n):
            gemm, core = perturbed_bf16(rng, flips, level)
            changes.append(float(np.abs(ref.forward(images, cfg, p, pos_embed, 0, gemm=gemm,
                                                    core=core) - bf16).max()))
        noise[level] = (max(changes, default=0.0),
                        float(np.mean(np.array(changes) > TOLERANCE)) if n else 0.0, flips)
        if n:
            print(f"  noise {level:.0e}: max change of bf16 logits over {n} tries = "
                  f"{noise[level][0]:.3g}, over {TOLERANCE:g} in {noise[level][1]:.0%} of tries "
                  f"(bf16 roundings flipped directly, in all: {flips[0]} of GEMM inputs, "
                  f"{flips[1]} of q, k, v, probs)")
    f64 = float(np.abs(ref.forward(images, cfg, p, pos_embed, 0, gemm=linear_bf16_f64_sums,
                                   core=attention_core_bf16_f64_sums) - bf16).max())
    print(f"  float64 sums in the bf16 GEMMs and attention: max change of bf16 logits = {f64:.3g}")

    return {
        "generator": "test/reference/make_bf16_reference.py",
        "files": {f: os.path.getsize(os.path.join(case_dir, f))
                  for f in ("logits_bf16.npy", "logits_bf16_b1.npy")},
        "bf16_gemms": ["attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"],
        "bf16_attention": ["q.k^T", "probs.v"],
        "f32_forward_max_abs_diff": check,
        "max_abs_diff_vs_f32": diff,
        "top1_agree_vs_f32": top1,
        "f32_min_top1_margin": margin,
        "_noise": noise[PERTURB_RELATIVE],
        "_noise_wide": noise[PERTURB_RELATIVE_WIDE],
        "_f64_sums": f64,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tries", type=int, default=DEFAULT_TRIES,
                    help=f"perturbed forwards per case for the noise estimate (default "
                    f"{DEFAULT_TRIES}; 0 skips it)")
    ap.add_argument("cases", nargs="*", help="case folders (default: every case in "
                    "test/data/reference)")
    args = ap.parse_args()
    results, failed = ref.run_cases(args.cases, run_case, args.tries, "bf16")
    print("\n    case                              f32 check  bf16-f32  top-1  f32 top-1"
          "  noise 3e-7 (>tol)  noise 1e-6 (>tol)")
    for name, r in results.items():
        print(f"    {name:32s}  {r['f32_forward_max_abs_diff']:9.2e}  {r['max_abs_diff_vs_f32']:8.4f}"
              f"  {r['top1_agree_vs_f32']:5.2f}  {r['f32_min_top1_margin']:9.4f}"
              f"  {r['_noise'][0]:8.2e} ({r['_noise'][1]:4.0%})"
              f"  {r['_noise_wide'][0]:8.2e} ({r['_noise_wide'][1]:4.0%})")
    print(f"\nwrote bf16 logits for {len(results)} case(s); failed: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
