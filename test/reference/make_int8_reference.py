#!/usr/bin/env python3
"""Expected logits for vitc's `--precision int8` (dynamic quantization), from numpy alone.

Run by hand (NOT run in CI); the outputs are committed to the repo:

    pip install numpy safetensors
    python3 test/reference/make_int8_reference.py [--tries N] [CASE_DIR ...]

With no arguments it goes through every case in test/data/reference and skips, with a message,
the ones it does not support. This is a test oracle, written independently of vitc and kept
plain on purpose: a straightforward float32 ViT forward in numpy (timm VisionTransformer
semantics, as in test/reference/make_reference.py) in which four GEMM kinds can be quantized.

Per case it
1. runs the forward with quantization OFF and compares with logits.npy / logits_b1.npy (the
   PyTorch/timm references); it refuses to write anything for a case if either differs by more
   than 1e-4 (that validates the forward itself);
2. runs the forward with quantization ON and writes, next to the case's other files,
     logits_int8.npy     float32 [2, classes]  for the whole input.npy (batch 2)
     logits_int8_b1.npy  float32 [1, classes]  for input.npy[:1] alone
     logits_int8_l63.npy, logits_int8_l63_b1.npy   the same with weights in [-63, 63] (vitc's
                         kernels for x86 targets without AVX512-VNNI: vpmaddubsw's pair sums)
     logits_int8_i8core.npy, logits_int8_i8core_b1.npy   weights in [-127, 127] (the
                         AVX512-VNNI kernels) and the attention core (q.k^T, softmax, probs.v)
                         in int8 too (attention_core_int8): vitc's int8 on targets with
                         AVX512-VNNI
   (the quantization is per token row of one image, so both agree exactly with each other);
3. records max |int8 - f32 logits| and top-1 agreement in an "int8" sub-object of the case's
   entry in MANIFEST.json (the existing entries are left as they are), and max
   |int8_i8core - f32|, max |int8_i8core - int8| and the i8core top-1 agreement with f32;
4. measures how much the int8_i8core logits move under float32-ulp noise and under the exp's
   error (--tries per case, 400 by default, a quarter of that at the wider noise and for the
   exp, 0 to skip; nothing is written for it), see "The int8 forward with the int8 attention
   core" below.

Note: make_reference.py starts each case folder clean and rewrites MANIFEST.json from scratch,
so run this script again after it.

The int8 scheme
---------------
Only these four GEMM kinds are quantized: attention qkv, attention proj, MLP fc1, MLP fc2.
The patch embedding, the head, the pre-logits (representation) layer, layer norms, the
activation and the residual adds all stay float32. So does the attention core (q.k^T, softmax,
probs.v) in logits_int8*.npy and logits_int8_l63*.npy (vitc's int8 on x86 without AVX512-VNNI
and on ARM); logits_int8_i8core*.npy quantize it as described further below. All arithmetic
below is float32 unless stated otherwise.

Weights W [M, K] (PyTorch layout, M output channels): per output channel m, symmetric
    amax      = max_k |W[m, k]|
    s_w[m]    = amax / 127                       (1 if amax == 0)
    q_w[m, k] = clip(rint(W[m, k] / s_w[m]), -127, 127)          (rint: round half to even)
Activations X [rows, K] (the GEMM's float32 input), per row r, asymmetric uint8:
    lo = min(0, min_k X[r, k]),  hi = max(0, max_k X[r, k])
    inv    = 255 / (hi - lo)                     (1 if hi == lo)
    s_a[r] = (hi - lo) / 255                     (1 if hi == lo)
    z[r]   = clip(rint(-lo * inv), 0, 255)
    q_a[r, k] = clip(rint(X[r, k] * inv) + z[r], 0, 255)
GEMM:
    acc[r, m]  = sum_k q_a[r, k] * q_w[m, k]     exactly, in int64
    colsum[m]  = sum_k q_w[m, k]
    Y[r, m]    = float32(acc[r, m] - z[r] * colsum[m]) * (s_a[r] * s_w[m]) + bias[m]
then the usual epilogue in float32: fc1 -> activation; proj and fc2 -> + residual.
Rows are the token rows of one image: for qkv and fc1 the layer-norm output (width D), for
proj the attention context with the heads merged ([N, H*Dh], width D), for fc2 the activation
output (width hidden).

Supported configs: timm format (config.json as written by make_reference.py) with
model.safetensors in timm key names; class token or none, DeiT distillation token, token or avg
pooling, fc_norm, representation (pre-logits tanh) layer, GELU erf / GELU tanh / ReLU. A case
whose checkpoint pos_embed does not fit its image size uses posembed_resized.npy, the resized
pos_embed that make_reference.py's PyTorch reference used. Not supported (skipped): the HF
layout (tiny_hf) and the official .npz layout (tiny_official_npz).

Results (numpy 2.4.6, safetensors 0.8.0; "f32 check" is the quantization-OFF forward against
logits.npy, "int8 vs f32" compares logits_int8.npy with logits.npy over both images):

    case                              f32 check   int8 vs f32 max|diff|   top-1 agree   f32 top-1 margin
    tiny_avg_fcnorm                    8.94e-07                  0.0253          0.00             0.0001
    tiny_deit_distilled                8.94e-07                  0.0209          1.00             0.3436
    tiny_gap                           2.38e-07                  0.0136          1.00             0.3014
    tiny_gelu_tanh_noqkvbias           1.55e-06                  0.0908          1.00             1.1839
    tiny_posembed_resize_bicubic       4.77e-07                  0.0199          1.00             0.1263
    tiny_posembed_resize_bilinear_ac   1.91e-06                  0.0418          1.00             0.0106
    tiny_relu                          1.43e-06                  0.0201          1.00             0.7445
    tiny_representation                9.24e-07                  0.0197          1.00             0.1373
    tiny_token_erf                     1.19e-06                  0.0500          1.00             0.4563

"f32 top-1 margin" is the smallest gap between the two largest f32 logits of an image.
tiny_avg_fcnorm's two images are near ties in float32 (margins 0.005 and 0.0001), so int8 moves
both top-1s there; top-1 agreement means nothing for that case.

Tolerance for comparing vitc's int8 logits with these: the quantization rounds
X * inv to integers, so a float32 difference of a few ulps in a GEMM input (a different
summation order in vitc's layer norm, softmax or GEMMs) can move one q_a by one step when
X * inv sits near k + 0.5, or change inv itself through the row's min/max. Perturbing every
GEMM input by a random relative 3e-7 (40 tries per case) changed the int8 logits by at most
~1e-6 in all cases but tiny_gap, where one flipped rounding moved a logit by 9.1e-4 (its
closest rounding decision lies 3e-5 of a step from the tie). A tolerance of about 2e-3 leaves
room for a couple of such flips and is still well below every case's int8-vs-f32 distance
(0.0136 or more), so it still tells int8 from f32. Exact equality is not a fair test.
Rows are quantized per image, so logits_int8_b1.npy equals logits_int8.npy[:1] exactly here.

(Measured again with this script's noise, 400 tries, GEMM inputs only, plain int8: also
tiny_posembed_resize_bicubic moves, by up to 1.0e-2 in 18% of the tries, and int8_saturation
by 1.5e-2 in all of them, see below; the others stay within ~1.4e-6 but tiny_gap, 9.1e-4.)

Cross-check (by hand, not part of this script): the timm models built by make_reference.py, with
their qkv, proj, fc1 and fc2 nn.Linear modules replaced by a separate torch implementation of
the scheme above (torch 2.15.0, timm 1.0.31), gave logits within 4.8e-7 of logits_int8.npy for
tiny_token_erf, tiny_gap, tiny_avg_fcnorm, tiny_gelu_tanh_noqkvbias, tiny_relu and
tiny_deit_distilled.

The int8 forward with the int8 attention core
---------------------------------------------
logits_int8_i8core*.npy: the four GEMMs int8 as above with 127-level weights, and per image
and head, with q, k, v [N, Dh] the float32 qkv output (bias included) and c = 1 / sqrt(Dh):
    queries, per row i: asymmetric uint8 exactly as a GEMM input: qa, s_q[i], z[i]
    keys, per row j:     s_k[j] = amax_j / 127, kq = rint(k * (127 / amax_j)), 0 if amax_j == 0
    scores[i, j] = float32(sum_e qa[i, e] kq[j, e] - z[i] sum_e kq[j, e]) * ((s_q[i] s_k[j]) c)
    e[i, j]      = exp(scores[i, j] - max_j scores[i, j]), correctly rounded (largest 1)
    pu[i, j]     = floor(e[i, j] * 255 + 0.5), in [0, 255];  ptotal[i] = sum_j pu[i, j]
    values, per channel over the N tokens: s_v[e] = amax_e / 127, vq = rint(v * (127 / amax_e))
    context[i, e] = float32(sum_j pu[i, j] vq[j, e]) * (s_v[e] * (1 / float32(ptotal[i])))
with exact integer sums. Everything else as in the int8 forward. Rows are quantized per image,
so logits_int8_i8core_b1.npy equals logits_int8_i8core.npy[:1] exactly here.
vitc forms e * 255 + 0.5 with one float32 FMA, which rounds to float32 before the floor; this
script floors the exact value. The two differ only within half a float32 ulp below an integer
(about 3e-6 of random e); checked, no pu of these cases differs.

Noise: every GEMM input element (before its quantization), every element of q, k, v (before
theirs) and every e (before its rounding to pu) scaled by (1 + r u), u uniform in [-1, 1]
(float64, rounded to float32); r = 3e-7 (400 tries per case) and r = 1e-6 (100 tries); the
largest change of the int8_i8core logits, and in brackets the share of the tries over 2e-3
(TOLERANCE, the int8 tests' tolerance). "i8ic-f32" is max |logits_int8_i8core.npy -
logits.npy|, "i8ic-int8" max |logits_int8_i8core.npy - logits_int8.npy|, over both images,
"top-1" the i8core top-1 agreement with logits.npy:

    case                              i8ic-f32  i8ic-int8  top-1  noise 3e-7 (>tol)  noise 1e-6 (>tol)
    int8_saturation                     0.0193     0.0161   1.00  2.24e-02 (100%)  1.71e-02 (100%)
    tiny_avg_fcnorm                     0.0395     0.0144   0.00  6.70e-04 (  0%)  4.17e-03 (  1%)
    tiny_deit_distilled                 0.0302     0.0170   1.00  7.75e-07 (  0%)  8.31e-03 (  9%)
    tiny_gap                            0.0153     0.0056   1.00  4.47e-07 (  0%)  1.26e-03 (  0%)
    tiny_gelu_tanh_noqkvbias            0.0640     0.0699   1.00  1.19e-06 (  0%)  1.99e-02 (  9%)
    tiny_posembed_resize_bicubic        0.0261     0.0299   1.00  1.39e-02 ( 20%)  1.57e-02 ( 67%)
    tiny_posembed_resize_bilinear_ac    0.0559     0.0289   1.00  8.10e-03 ( 33%)  8.10e-03 ( 59%)
    tiny_relu                           0.0564     0.0401   1.00  9.54e-07 (  0%)  7.03e-03 (  2%)
    tiny_representation                 0.0202     0.0144   1.00  1.07e-06 (  0%)  1.81e-03 (  0%)
    tiny_token_erf                      0.0755     0.0255   1.00  2.46e-03 (  9%)  2.73e-03 ( 38%)

The exp's error: vitc's exp is within 3 ulp of the exact value. Every e scaled by
(1 + 3.6e-7 u) alone (100 tries per case) left the logits of every case unchanged, and no pu of
the unperturbed forward lies within 10 ulp of e of its rounding boundary (closest:
tiny_posembed_resize_bicubic, 10.3 ulp), so no exp within 3 ulp can change them.

int8_saturation's table figure is mostly an artefact of the noise: its fc1 inputs are exactly
+-1 (a layer norm of scale 0 gives its bias exactly, in any implementation), so z = rint(127.5)
is an exact tie that any noise flips. With those rows left exact (by hand) its int8_i8core
logits still move by 4.0e-3 in 17% of the tries at 3e-7 (32% at 1e-6), from the GEMM inputs
alone: with the int8 core, one qkv input of block 2 lies 1e-5 of a step from a rounding tie
(the f32-core int8 forward moves by 9.5e-7 at most under the same noise at 3e-7).
By source (by hand, not part of this script; noise in one group only, same tries): q, k, v
alone move tiny_avg_fcnorm (6.7e-4, under 2e-3) and tiny_posembed_resize_bilinear_ac (8.1e-3)
at 3e-7; at 1e-6 also tiny_gelu_tanh_noqkvbias (2.0e-2), tiny_posembed_resize_bicubic
(1.4e-2) and tiny_gap (1.3e-3). e alone moves nothing at either level. The other moves past
2e-3 come from the GEMM inputs, but the rare ones of tiny_relu and tiny_avg_fcnorm at 1e-6,
which took noise in both groups (each group alone: under 7e-4).
A more realistic model, by hand: a one-pass (E[x^2] - E[x]^2) or a float64 layer norm,
dequantizing as (acc * s_a) * s_w, numpy's float32 exp instead of a correctly rounded one, or
the scores scaled as (acc * (s_q s_k)) * c, each alone, moved the int8_i8core logits by at most
4.8e-7, but tiny_posembed_resize_bilinear_ac with the float64 layer norm (8.1e-3: one flip).

Recommended at 2e-3: tiny_gap and tiny_representation (at most 1.1e-6 at 3e-7; one flip,
1.3e-3 and 1.8e-3, at 1e-6, never past 2e-3). Each is 2.8x (tiny_gap) or more from
logits_int8.npy and 7.6x or more from logits.npy, so 2e-3 tells the int8 core from a float32
one and from f32. Acceptable at 3e-7 (at most 1.2e-6) but not at several ulps (2% to 9% of the
tries past 2e-3 at 1e-6): tiny_relu, tiny_deit_distilled, tiny_gelu_tanh_noqkvbias; a miss of
a few 1e-3 there suggests a flipped rounding before a kernel bug. tiny_avg_fcnorm is within
2e-3 at 3e-7 too (one flip of 6.7e-4) but its top-1 is moot. Not fit: tiny_token_erf (2.5e-3
in 9% of the tries already at 3e-7), tiny_posembed_resize_bicubic and
tiny_posembed_resize_bilinear_ac (20% and 33% at 3e-7) and int8_saturation (the near tie
above).
"""

import argparse
import json
import math
import os
import sys

import numpy as np
from safetensors.numpy import load_file

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFERENCE_DIR = os.path.join(REPO_ROOT, "test", "data", "reference")
F32_TOLERANCE = 1e-4
TOLERANCE = 2e-3  # vitc's int8 tests' tolerance, see the docstring
PERTURB_RELATIVE = 3e-7  # ~1.3 to 2.5 float32 ulp
PERTURB_RELATIVE_WIDE = 1e-6  # ~4 to 8 ulp
EXP_RELATIVE = 3.6e-7  # ~3 float32 ulp: vitc's exp is within 3 ulp of the exact value
DEFAULT_TRIES = 400

F32 = np.float32

# The config.json keys this forward understands, and the values it supports where limited.
KNOWN_KEYS = {"format", "img_size", "patch_size", "in_chans", "embed_dim", "depth", "num_heads",
              "mlp_ratio", "num_classes", "class_token", "global_pool", "fc_norm", "qkv_bias",
              "act_layer", "norm_eps", "distilled", "representation_size"}
ACTIVATIONS = ("gelu", "gelu_tanh", "relu")
POOLS = ("token", "avg")


class Unsupported(Exception):
    pass


# ---------------------------------------------------------------------------
# int8 quantization
# ---------------------------------------------------------------------------

def quantize_weight(w, levels=127):
    """Per output channel, symmetric into [-levels, levels]: (q_w int64 [M, K], s_w float32 [M])."""
    assert w.dtype == F32 and w.ndim == 2
    amax = np.max(np.abs(w), axis=1)
    s_w = np.where(amax == 0, F32(1), amax / F32(levels)).astype(F32)
    q_w = np.clip(np.rint(w / s_w[:, None]), -levels, levels).astype(np.int64)
    return q_w, s_w


def quantize_activation(x):
    """Per row, asymmetric uint8: (q_a int64 [rows, K], s_a float32 [rows], z int64 [rows])."""
    assert x.dtype == F32 and x.ndim == 2
    lo = np.minimum(F32(0), np.min(x, axis=1))
    hi = np.maximum(F32(0), np.max(x, axis=1))
    span = (hi - lo).astype(F32)
    flat = span == 0
    safe_span = np.where(flat, F32(1), span)
    inv = np.where(flat, F32(1), F32(255) / safe_span).astype(F32)
    s_a = np.where(flat, F32(1), span / F32(255)).astype(F32)
    z = np.clip(np.rint(-lo * inv), 0, 255).astype(F32)
    q_a = np.clip(np.rint(x * inv[:, None]) + z[:, None], 0, 255)
    return q_a.astype(np.int64), s_a, z.astype(np.int64)


def linear_int8(x, w, b, levels=127):
    """y = x @ w.T + b with w and x quantized as above; the integer GEMM is exact (int64)."""
    q_w, s_w = quantize_weight(w, levels)
    q_a, s_a, z = quantize_activation(x)
    acc = q_a @ q_w.T  # int64 [rows, M]
    colsum = np.sum(q_w, axis=1)  # int64 [M]
    corrected = (acc - z[:, None] * colsum[None, :]).astype(F32)
    scale = (s_a[:, None] * s_w[None, :]).astype(F32)
    y = corrected * scale
    if b is not None:
        y = y + b
    assert y.dtype == F32
    return y


def linear_f32(x, w, b):
    y = x @ w.T
    if b is not None:
        y = y + b
    assert y.dtype == F32
    return y


# ---------------------------------------------------------------------------
# The forward pass, one image at a time
# ---------------------------------------------------------------------------

def layer_norm(x, weight, bias, eps):
    mean = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mean) ** 2, axis=-1, keepdims=True)  # biased, as torch
    return ((x - mean) / np.sqrt(var + F32(eps)) * weight + bias).astype(F32)


def activation(x, kind):
    if kind == "relu":
        return np.maximum(x, F32(0))
    if kind == "gelu":  # exact: 0.5 x (1 + erf(x / sqrt 2)); erf from math, in double
        erf = np.vectorize(math.erf)(x.astype(np.float64) / math.sqrt(2.0))
        return (0.5 * x.astype(np.float64) * (1.0 + erf)).astype(F32)
    if kind == "gelu_tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        x64 = x.astype(np.float64)
        inner = math.sqrt(2.0 / math.pi) * (x64 + 0.044715 * x64 ** 3)
        return (0.5 * x64 * (1.0 + np.tanh(inner))).astype(F32)
    raise Unsupported(f"act_layer {kind!r}")


def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return (e / np.sum(e, axis=-1, keepdims=True)).astype(F32)


def attention_core(q, k, v):
    """softmax(q k^T / sqrt(Dh)) v, per head: q, k, v [H, N, Dh] -> context [H, N, Dh]."""
    dh = q.shape[-1]
    scores = (q * F32(dh ** -0.5)) @ k.transpose(0, 2, 1)  # [H, N, N]
    return softmax(scores) @ v  # [H, N, Dh]


def attention(x, p, prefix, heads, linear, core=attention_core):
    """x: [N, D] (already normed). Returns proj(attention) [N, D], without the residual."""
    n, d = x.shape
    dh = d // heads
    qkv = linear(x, p[prefix + "qkv.weight"], p.get(prefix + "qkv.bias"))  # [N, 3D]
    qkv = qkv.reshape(n, 3, heads, dh).transpose(1, 2, 0, 3)  # [3, H, N, Dh]
    q, k, v = qkv[0], qkv[1], qkv[2]
    context = core(q, k, v)  # [H, N, Dh]
    context = np.ascontiguousarray(context.transpose(1, 0, 2).reshape(n, d))  # heads merged
    return linear(context, p[prefix + "proj.weight"], p[prefix + "proj.bias"])


def patch_embed(image, weight, bias, patch):
    """Conv with kernel = stride = patch, as a matmul over flattened (c, kh, kw) patches."""
    c, h, w = image.shape
    gh, gw = h // patch, w // patch
    patches = image.reshape(c, gh, patch, gw, patch).transpose(1, 3, 0, 2, 4)  # [gh, gw, c, P, P]
    patches = patches.reshape(gh * gw, c * patch * patch)  # tokens in row-major (h, w) order
    return linear_f32(np.ascontiguousarray(patches), weight.reshape(weight.shape[0], -1), bias)


def forward_image(image, cfg, p, pos_embed, quantize, gemm=None, core=None):
    """Logits [num_classes] of one image [C, H, W]."""
    # quantize: 0 (off) or the weights' levels (127; 63 for x86 without AVX512-VNNI).
    # gemm: if given, the linear (x, w, b) -> y for the four GEMM kinds instead (quantize is
    # then ignored); make_bf16_reference.py passes its bf16 one.
    # core: if given, (q, k, v) -> context for attention_core (float32 by default, quantize or
    # not); make_bf16_reference.py passes its bf16 one, run_case attention_core_int8.
    if core is None:
        core = attention_core
    if gemm is None:
        gemm = (lambda x, w, b: linear_int8(x, w, b, quantize)) if quantize else linear_f32
    eps, heads, act = cfg["norm_eps"], cfg["num_heads"], cfg["act_layer"]

    x = patch_embed(image, p["patch_embed.proj.weight"], p["patch_embed.proj.bias"],
                    cfg["patch_size"])
    prefix = []
    if cfg["class_token"]:
        prefix.append(p["cls_token"][0])
    if cfg["distilled"]:
        prefix.append(p["dist_token"][0])
    num_prefix = len(prefix)
    x = np.concatenate(prefix + [x], axis=0) + pos_embed[0]

    for i in range(cfg["depth"]):
        b = f"blocks.{i}."
        h = layer_norm(x, p[b + "norm1.weight"], p[b + "norm1.bias"], eps)
        x = x + attention(h, p, b + "attn.", heads, gemm, core)
        h = layer_norm(x, p[b + "norm2.weight"], p[b + "norm2.bias"], eps)
        h = activation(gemm(h, p[b + "mlp.fc1.weight"], p[b + "mlp.fc1.bias"]), act)
        x = x + gemm(h, p[b + "mlp.fc2.weight"], p[b + "mlp.fc2.bias"])

    # timm: with fc_norm, `norm` is Identity and the norm comes after pooling instead.
    if not uses_fc_norm(cfg):
        x = layer_norm(x, p["norm.weight"], p["norm.bias"], eps)

    if cfg["distilled"]:  # DeiT at eval: mean of both heads (no fc_norm/pre-logits here)
        logits = linear_f32(x[0:1], p["head.weight"], p["head.bias"])
        logits_dist = linear_f32(x[1:2], p["head_dist.weight"], p["head_dist.bias"])
        return ((logits + logits_dist) / F32(2))[0]

    if cfg["global_pool"] == "token":
        pooled = x[0:1]
    else:  # avg over the non-prefix tokens
        pooled = np.mean(x[num_prefix:], axis=0, keepdims=True).astype(F32)
    if uses_fc_norm(cfg):
        pooled = layer_norm(pooled, p["fc_norm.weight"], p["fc_norm.bias"], eps)
    if cfg["representation_size"]:
        pooled = np.tanh(linear_f32(pooled, p["pre_logits.fc.weight"], p["pre_logits.fc.bias"]))
    return linear_f32(pooled, p["head.weight"], p["head.bias"])[0]


def forward(images, cfg, p, pos_embed, quantize, gemm=None, core=None):
    return np.stack([forward_image(img, cfg, p, pos_embed, quantize, gemm, core)
                     for img in images]).astype(F32)


def attention_core_int8(q, k, v, noise=lambda x: x, exp_error=None):
    """The int8 attention core for q, k, v [H, N, Dh] (float32, the qkv GEMM's output) ->
    context [H, N, Dh], per head (see "The int8 forward with the int8 attention core" in the
    docstring). noise (for the sensitivity estimate) is applied to q, k, v before their
    quantization and to the unnormalized probabilities e before their rounding; exp_error, if
    given, to e alone (the exp's own error)."""
    assert q.dtype == F32 and q.ndim == 3
    heads, n, dh = q.shape
    q, k, v = noise(q), noise(k), noise(v)
    c = F32(1) / np.sqrt(F32(dh))
    context = np.empty((heads, n, dh), F32)
    for h in range(heads):
        # Queries: per row, asymmetric uint8, as a GEMM input.
        qa, s_q, z = quantize_activation(q[h])
        # Keys: per row, symmetric int8.
        amax = np.max(np.abs(k[h]), axis=1)
        inv_k = np.where(amax == 0, F32(0),
                         F32(127) / np.where(amax == 0, F32(1), amax)).astype(F32)
        s_k = (amax / F32(127)).astype(F32)
        kq = np.rint(k[h] * inv_k[:, None])
        assert np.abs(kq).max() <= 127
        kq = kq.astype(np.int64)
        ksum = np.sum(kq, axis=1)
        acc = qa @ kq.T  # int64 [N, N], exact
        scale = ((s_q[:, None] * s_k[None, :]) * c).astype(F32)
        scores = (acc - z[:, None] * ksum[None, :]).astype(F32) * scale
        # Softmax without the normalization: exp correctly rounded to float32 (largest exactly 1),
        # then 8-bit probabilities floor(e * 255 + 0.5), in float64 (see the docstring on vitc's
        # FMA), and their per-row total.
        d = scores - np.max(scores, axis=1, keepdims=True)
        e = noise(np.exp(d.astype(np.float64)).astype(F32))
        if exp_error is not None:
            e = exp_error(e)
        pu = np.floor(e.astype(np.float64) * 255 + 0.5).astype(np.int64)
        assert pu.min() >= 0 and pu.max() <= 255
        ptotal = np.sum(pu, axis=1)
        # Values: per channel over all N tokens, symmetric int8.
        amax_v = np.max(np.abs(v[h]), axis=0)
        inv_v = np.where(amax_v == 0, F32(0),
                         F32(127) / np.where(amax_v == 0, F32(1), amax_v)).astype(F32)
        s_v = (amax_v / F32(127)).astype(F32)
        vq = np.rint(v[h] * inv_v[None, :])
        assert np.abs(vq).max() <= 127
        acc2 = pu @ vq.astype(np.int64)  # int64 [N, Dh], exact
        recip = F32(1) / ptotal.astype(F32)
        context[h] = acc2.astype(F32) * (s_v[None, :] * recip[:, None])
        assert scale.dtype == F32 and scores.dtype == F32 and recip.dtype == F32
    return context


def perturbed_int8_i8core(rng, relative, exp_relative=0.0, levels=127):
    """(gemm, core): linear_int8 and attention_core_int8 with every GEMM input (before its
    quantization), every q, k, v element (before its quantization) and every e (before its
    rounding to 8 bits) first scaled by (1 + relative * u), u uniform in [-1, 1] (float64,
    rounded to float32); and every e then by (1 + exp_relative * u), a new u (the exp's error).
    A relative of 0 leaves that group exact."""
    def noisy(r):
        def f(x):
            u = rng.uniform(-1.0, 1.0, size=x.shape)
            return (x.astype(np.float64) * (1.0 + r * u)).astype(F32)
        return f if r else (lambda x: x)

    def gemm(x, w, b):
        return linear_int8(noisy(relative)(x), w, b, levels)

    def core(q, k, v):
        return attention_core_int8(q, k, v, noise=noisy(relative),
                                   exp_error=noisy(exp_relative) if exp_relative else None)
    return gemm, core


def uses_fc_norm(cfg):
    """timm VisionTransformer: fc_norm=None means 'use it for avg pooling'."""
    if cfg["fc_norm"] is None:
        return cfg["global_pool"] == "avg"
    return bool(cfg["fc_norm"])


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

def load_case(case_dir):
    """(cfg, params, pos_embed) or raise Unsupported."""
    with open(os.path.join(case_dir, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("format") != "timm":
        raise Unsupported(f"format {cfg.get('format')!r} (only timm)")
    unknown = set(cfg) - KNOWN_KEYS
    if unknown:
        raise Unsupported(f"config keys {sorted(unknown)}")
    if cfg["act_layer"] not in ACTIVATIONS:
        raise Unsupported(f"act_layer {cfg['act_layer']!r}")
    if cfg["global_pool"] not in POOLS:
        raise Unsupported(f"global_pool {cfg['global_pool']!r}")
    if cfg["distilled"] and (cfg["global_pool"] != "token" or uses_fc_norm(cfg)
                             or cfg["representation_size"] or not cfg["class_token"]):
        raise Unsupported("distilled with other than token pooling")
    weights = os.path.join(case_dir, "model.safetensors")
    if not os.path.exists(weights):
        raise Unsupported("no model.safetensors (official .npz layout?)")
    p = load_file(weights)
    for k, v in p.items():
        if v.dtype != F32:
            raise Unsupported(f"{k} is {v.dtype}")

    # Every tensor in the checkpoint must be one this forward reads.
    expected = {"patch_embed.proj.weight", "patch_embed.proj.bias", "pos_embed", "head.weight",
                "head.bias"}
    expected |= {"cls_token"} if cfg["class_token"] else set()
    expected |= {"dist_token", "head_dist.weight", "head_dist.bias"} if cfg["distilled"] else set()
    expected |= {"fc_norm.weight", "fc_norm.bias"} if uses_fc_norm(cfg) else {"norm.weight", "norm.bias"}
    if cfg["representation_size"]:
        expected |= {"pre_logits.fc.weight", "pre_logits.fc.bias"}
    for i in range(cfg["depth"]):
        names = ["norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.proj.weight",
                 "attn.proj.bias", "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias",
                 "mlp.fc2.weight", "mlp.fc2.bias"] + (["attn.qkv.bias"] if cfg["qkv_bias"] else [])
        expected |= {f"blocks.{i}.{n}" for n in names}
    if set(p) != expected:
        raise Unsupported(f"checkpoint keys: missing {sorted(expected - set(p))}, "
                          f"unexpected {sorted(set(p) - expected)}")

    grid = (cfg["img_size"] // cfg["patch_size"]) ** 2
    tokens = grid + int(cfg["class_token"]) + int(cfg["distilled"])
    pos_embed = p["pos_embed"]
    if pos_embed.shape[1] != tokens:
        resized = os.path.join(case_dir, "posembed_resized.npy")
        if not os.path.exists(resized):
            raise Unsupported(f"pos_embed has {pos_embed.shape[1]} rows, the model {tokens}")
        pos_embed = np.load(resized)
        print(f"  pos_embed {list(p['pos_embed'].shape)} -> {list(pos_embed.shape)} "
              f"from posembed_resized.npy")
    assert pos_embed.shape == (1, tokens, cfg["embed_dim"]), pos_embed.shape
    return cfg, p, pos_embed.astype(F32)


def run_case(case_dir, tries=0):
    """Returns the MANIFEST "int8" entry (plus "_noise" keys when tries > 0), or None if the case
    was skipped, or "failed" if it failed its check. tries: perturbed forwards for the
    int8-with-int8-core noise estimate (a quarter of that at the wider noise and for the exp's
    error; 0 skips it)."""
    name = os.path.basename(os.path.normpath(case_dir))
    print(f"{name}:")
    try:
        cfg, p, pos_embed = load_case(case_dir)
    except Unsupported as e:
        print(f"  skipped: {e}")
        return None
    images = np.load(os.path.join(case_dir, "input.npy"))
    ref = np.load(os.path.join(case_dir, "logits.npy"))
    ref_b1 = np.load(os.path.join(case_dir, "logits_b1.npy"))
    assert images.dtype == F32 and images.shape[0] == 2

    # 1. The forward itself, quantization off, against PyTorch/timm.
    f32 = forward(images, cfg, p, pos_embed, quantize=0)
    f32_b1 = forward(images[:1], cfg, p, pos_embed, quantize=0)
    check = max(float(np.abs(f32 - ref).max()), float(np.abs(f32_b1 - ref_b1).max()))
    print(f"  quantization off: max |numpy - logits.npy/logits_b1.npy| = {check:.3g}")
    if not check <= F32_TOLERANCE:
        print(f"  FAILED: over {F32_TOLERANCE}; nothing written for this case")
        return "failed"

    # 2. int8.
    int8 = forward(images, cfg, p, pos_embed, quantize=127)
    int8_b1 = forward(images[:1], cfg, p, pos_embed, quantize=127)
    assert np.array_equal(int8_b1, int8[:1])  # rows are quantized per image, per token
    np.save(os.path.join(case_dir, "logits_int8.npy"), int8)
    np.save(os.path.join(case_dir, "logits_int8_b1.npy"), int8_b1)
    # 7-bit weights ([-63, 63]): what vitc's kernels for x86 targets without AVX512-VNNI use,
    # so that vpmaddubsw's i16 pair sums cannot saturate.
    np.save(os.path.join(case_dir, "logits_int8_l63.npy"),
            forward(images, cfg, p, pos_embed, quantize=63))
    np.save(os.path.join(case_dir, "logits_int8_l63_b1.npy"),
            forward(images[:1], cfg, p, pos_embed, quantize=63))

    # int8 GEMMs (8-bit weights, the AVX512-VNNI kernels) with the int8 attention core: what
    # vitc's int8 runs on targets with AVX512-VNNI.
    int8_ic = forward(images, cfg, p, pos_embed, quantize=127, core=attention_core_int8)
    int8_ic_b1 = forward(images[:1], cfg, p, pos_embed, quantize=127, core=attention_core_int8)
    assert np.array_equal(int8_ic_b1, int8_ic[:1])
    np.save(os.path.join(case_dir, "logits_int8_i8core.npy"), int8_ic)
    np.save(os.path.join(case_dir, "logits_int8_i8core_b1.npy"), int8_ic_b1)

    diff = float(np.abs(int8 - ref).max())
    top1 = float(np.mean(int8.argmax(1) == ref.argmax(1)))
    top2 = np.sort(ref, axis=1)[:, -2:]
    margin = float(np.min(top2[:, 1] - top2[:, 0]))  # a near tie makes top-1 agreement moot
    print(f"  int8: max |int8 - f32 logits| = {diff:.4g} (max |f32 logit| "
          f"{float(np.abs(ref).max()):.4g}), top-1 agree {top1:.2f} "
          f"(smallest f32 top-1 margin {margin:.3g})")
    ic_f32 = float(np.abs(int8_ic - ref).max())
    ic_int8 = float(np.abs(int8_ic - int8).max())
    ic_top1 = float(np.mean(int8_ic.argmax(1) == ref.argmax(1)))
    print(f"  int8, int8 core: max |int8_i8core - f32 logits| = {ic_f32:.4g}, "
          f"max |int8_i8core - int8| = {ic_int8:.4g}, top-1 agree {ic_top1:.2f}")

    # Sensitivity of the int8-with-int8-core logits to float32-ulp differences upstream of each
    # rounding (GEMM inputs; q, k, v, e), and to the exp's error alone. Not in MANIFEST.json.
    noise = {}
    for label, level, exp_level, n in (("3e-7", PERTURB_RELATIVE, 0.0, tries),
                                       ("1e-6", PERTURB_RELATIVE_WIDE, 0.0, tries // 4),
                                       ("exp", 0.0, EXP_RELATIVE, tries // 4)):
        if not n:
            continue
        rng = np.random.default_rng([sum(name.encode()), n] + ([3] if exp_level else []))
        changes = []
        for _ in range(n):
            gemm, core = perturbed_int8_i8core(rng, level, exp_level)
            changes.append(float(np.abs(forward(images, cfg, p, pos_embed, 127, gemm=gemm,
                                                core=core) - int8_ic).max()))
        noise[label] = (max(changes), float(np.mean(np.array(changes) > TOLERANCE)))
        print(f"  noise {label}: max change of int8_i8core logits over {n} tries = "
              f"{noise[label][0]:.3g}, over {TOLERANCE:g} in {noise[label][1]:.0%} of tries")

    files = ("logits_int8.npy", "logits_int8_b1.npy", "logits_int8_l63.npy",
             "logits_int8_l63_b1.npy", "logits_int8_i8core.npy", "logits_int8_i8core_b1.npy")
    return {
        "generator": "test/reference/make_int8_reference.py",
        "files": {f: os.path.getsize(os.path.join(case_dir, f)) for f in files},
        "quantized_gemms": ["attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"],
        "f32_forward_max_abs_diff": check,
        "max_abs_diff_vs_f32": diff,
        "top1_agree_vs_f32": top1,
        "f32_min_top1_margin": margin,
        "i8core_max_abs_diff_vs_f32": ic_f32,
        "i8core_max_abs_diff_vs_int8": ic_int8,
        "i8core_top1_agree_vs_f32": ic_top1,
        "_noise": noise,
    }


def update_manifest(reference_dir, results, key="int8"):
    """Sets `key` in each listed case's MANIFEST entry (fields starting with _ left out)."""
    path = os.path.join(reference_dir, "MANIFEST.json")
    if not os.path.exists(path):
        return
    with open(path) as f:
        manifest = json.load(f)
    for entry in manifest["cases"]:
        if entry["case"] in results:
            entry[key] = {k: v for k, v in results[entry["case"]].items()
                          if not k.startswith("_")}
    with open(path, "w") as f:  # same formatting as make_reference.py's write_json
        json.dump(manifest, f, indent=2, sort_keys=False)
        f.write("\n")


def run_cases(cases, run_case, tries, key):
    """Runs `run_case(dir, tries)` on the given case folders (default: every case in
    test/data/reference) and records the results under `key` in the MANIFEST of the folder
    they are in (only when it lists them). Returns (results by case name, failed names)."""
    case_dirs = cases or sorted(
        os.path.join(REFERENCE_DIR, d) for d in os.listdir(REFERENCE_DIR)
        if os.path.isfile(os.path.join(REFERENCE_DIR, d, "config.json")))
    results, failed = {}, []
    for d in case_dirs:
        r = run_case(d, tries)
        name = os.path.basename(os.path.normpath(d))
        if r == "failed":
            failed.append(name)
        elif r is not None:
            results[name] = r
    for parent in sorted({os.path.dirname(os.path.abspath(os.path.normpath(d))) for d in case_dirs}):
        update_manifest(parent, {n: r for n, r in results.items()
                                 if os.path.isdir(os.path.join(parent, n))}, key)
    return results, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tries", type=int, default=DEFAULT_TRIES,
                    help=f"perturbed forwards per case for the int8_i8core noise estimate "
                    f"(default {DEFAULT_TRIES}; 0 skips it)")
    ap.add_argument("cases", nargs="*", help="case folders (default: every case in "
                    "test/data/reference)")
    args = ap.parse_args()
    results, failed = run_cases(args.cases, run_case, args.tries, "int8")
    print("\n    case                              f32 check   int8 vs f32 max|diff|   top-1 agree"
          "   f32 top-1 margin")
    for name, r in results.items():
        print(f"    {name:32s}  {r['f32_forward_max_abs_diff']:9.2e}   {r['max_abs_diff_vs_f32']:21.4f}"
              f"   {r['top1_agree_vs_f32']:11.2f}   {r['f32_min_top1_margin']:16.4f}")
    print("\n    int8 with the int8 attention core (logits_int8_i8core.npy):")
    print("    case                              i8ic-f32  i8ic-int8  top-1  noise 3e-7 (>tol)"
          "  noise 1e-6 (>tol)  exp 3 ulp")
    for name, r in results.items():
        nz = r["_noise"]
        cols = "".join(f"  {nz[k][0]:8.2e} ({nz[k][1]:4.0%})" if k in nz else "  " + " " * 15
                       for k in ("3e-7", "1e-6"))
        cols += f"  {nz['exp'][0]:9.2e}" if "exp" in nz else ""
        print(f"    {name:32s}  {r['i8core_max_abs_diff_vs_f32']:8.4f}"
              f"  {r['i8core_max_abs_diff_vs_int8']:9.4f}"
              f"  {r['i8core_top1_agree_vs_f32']:5.2f}{cols}")
    print(f"\nwrote int8 logits for {len(results)} case(s); failed: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
