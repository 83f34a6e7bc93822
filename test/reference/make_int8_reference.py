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
                         AVX512-VNNI kernels), the attention scores q.k^T in int8 and
                         probs.v in 15-bit levels (attention_core_int8; the softmax stays
                         float32): vitc's int8 on targets with AVX512-VNNI
   (the quantization is per token row of one image, so both agree exactly with each other);
3. records max |int8 - f32 logits| and top-1 agreement in an "int8" sub-object of the case's
   entry in MANIFEST.json (the existing entries are left as they are), and max
   |int8_i8core - f32|, max |int8_i8core - int8| and the i8core top-1 agreement with f32;
4. measures how much the int8_i8core logits move under float32-ulp noise (--tries per case,
   400 by default, a quarter of that at the wider noise, 0 to skip; nothing is written for
   it), see "The int8 forward with int8 scores" below.

Note: make_reference.py starts each case folder clean and rewrites MANIFEST.json from scratch
(but with --only CASE), so run this script again after it.

The int8 scheme
---------------
Only these four GEMM kinds are quantized: attention qkv, attention proj, MLP fc1, MLP fc2.
The patch embedding, the head, the pre-logits (representation) layer, layer norms, the
activation and the residual adds all stay float32. So does the attention core (q.k^T, softmax,
probs.v) in logits_int8*.npy and logits_int8_l63*.npy (vitc's int8 on x86 without AVX512-VNNI
and on ARM); logits_int8_i8core*.npy quantize q.k^T and probs.v as described further below. All arithmetic
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
    tiny_wide_heads                    1.37e-06                  0.0373          1.00             0.1295

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

(Measured again by hand with this script's noise on the GEMM inputs, plain int8 (logits_int8),
400 tries at 3e-7 and 100 at 1e-6: past 2e-3 at 3e-7 only tiny_posembed_resize_bicubic (1.0e-2
in 16% of the tries) and int8_saturation (1.5e-2 in all, see below); at 1e-6 also
tiny_wide_heads (1.9e-2, 14%), tiny_deit_distilled (6.8e-3, 8%) and
tiny_posembed_resize_bilinear_ac (3.1e-3, 6%). tiny_wide_heads moves by 6.9e-5 at most at 3e-7,
the others but tiny_gap (9.1e-4) by 2e-6 at most.)

Cross-check (by hand, not part of this script): the timm models built by make_reference.py, with
their qkv, proj, fc1 and fc2 nn.Linear modules replaced by a separate torch implementation of
the scheme above (torch 2.15.0, timm 1.0.31), gave logits within 4.8e-7 of logits_int8.npy for
tiny_token_erf, tiny_gap, tiny_avg_fcnorm, tiny_gelu_tanh_noqkvbias, tiny_relu and
tiny_deit_distilled.

The int8 forward with int8 scores
---------------------------------
logits_int8_i8core*.npy: the four GEMMs int8 as above with 127-level weights, and per image
and head, with q, k, v [N, Dh] the float32 qkv output (bias included) and c = 1 / sqrt(Dh):
    queries, per row i: asymmetric uint8 exactly as a GEMM input: qa, s_q[i], z[i]
    keys, per row j:     s_k[j] = amax_j / 127, kq = rint(k * (127 / amax_j)), 0 if amax_j == 0
    scores[i, j] = float32(sum_e qa[i, e] kq[j, e] - z[i] sum_e kq[j, e]) * ((s_q[i] s_k[j]) c)
with exact integer sums; then the float32 softmax, and probs.v in 15-bit levels (int32 sums,
vpdpwssd in vitc):
    p = exp(scores - max_j scores) * (1 / sum_j (...))           float32
    pq = rint(p * 32767)                                         per probability
    s_v[e] = amax_e / 32767, vq = rint(v * (32767 / amax_e))     amax_e = max_j |v[j, e]|, 0 if 0
    context[i, e] = float32(sum_j pq[i, j] vq[j, e]) * (s_v[e] * (1 / 32767))
Everything else as in the int8 forward. (vitc quantized the probabilities to 8 bits at
first; 8-bit probabilities lose the many small ones of long rows with a dominant token. In
steps of 1/32767 a row loses at most tokens x 1.5e-5 of its mass.)
Rows are quantized per image, so logits_int8_i8core_b1.npy equals logits_int8_i8core.npy[:1]
exactly here. A separate torch implementation of the core with float32 probs.v (by hand) gave
logits within 4.8e-7 of that version's logits_int8_i8core.npy for every case.

Noise: every GEMM input element and every element of q and k, before its quantization, scaled
by (1 + r u), u uniform in [-1, 1] (float64, rounded to float32); r = 3e-7 (400 tries per
case) and r = 1e-6 (100 tries); the largest change of the int8_i8core logits, and in brackets
the share of the tries over 2e-3 (TOLERANCE, the int8 tests' tolerance). "i8ic-f32" is
max |logits_int8_i8core.npy - logits.npy|, "i8ic-int8" max |logits_int8_i8core.npy -
logits_int8.npy|, over both images, "top-1" the i8core top-1 agreement with logits.npy:

    case                              i8ic-f32  i8ic-int8  top-1  noise 3e-7 (>tol)  noise 1e-6 (>tol)
    int8_saturation                     0.0253     0.0221   1.00  2.99e-02 (100.0%)  2.22e-02 (100.0%)
    tiny_avg_fcnorm                     0.0335     0.0127   0.00  4.14e-03 ( 1.8%)  4.29e-03 (37.0%)
    tiny_deit_distilled                 0.0283     0.0197   1.00  5.61e-03 ( 1.8%)  1.95e-02 (26.0%)
    tiny_gap                            0.0157     0.0034   1.00  1.22e-03 ( 0.0%)  1.22e-03 ( 0.0%)
    tiny_gelu_tanh_noqkvbias            0.0600     0.0574   1.00  5.92e-06 ( 0.0%)  6.71e-06 ( 0.0%)
    tiny_posembed_resize_bicubic        0.0234     0.0276   1.00  1.35e-02 (16.5%)  1.35e-02 (67.0%)
    tiny_posembed_resize_bilinear_ac    0.0707     0.0288   1.00  1.84e-05 ( 0.0%)  1.42e-02 (21.0%)
    tiny_relu                           0.0325     0.0195   1.00  1.07e-05 ( 0.0%)  4.97e-03 ( 3.0%)
    tiny_representation                 0.0173     0.0130   1.00  2.02e-05 ( 0.0%)  3.95e-03 ( 8.0%)
    tiny_token_erf                      0.0588     0.0226   1.00  2.41e-05 ( 0.0%)  2.50e-05 ( 0.0%)
    tiny_wide_heads                     0.0580     0.0291   1.00  2.13e-02 (86.0%)  2.52e-02 (100.0%)

(With the 15-bit probs.v of session 11; the noise does not touch the probabilities and
values, whose rounding flips move a logit by about 3e-5. tiny_wide_heads' second image is
less so (22% of tries past 2e-3 at 3e-7; vitc 6.2e-6 from it, 1.1e-2 from the first).) The
tables and figures below were measured with the float32 probs.v before it:

By source (by hand; noise in one group only, same tries; largest change, share over 2e-3):

    case                              GEMM in 3e-7   GEMM in 1e-6   q, k 3e-7      q, k 1e-6
    int8_saturation                   3.1e-2 (100%)  2.2e-2 (100%)  7.2e-7         1.2e-6
    tiny_avg_fcnorm                   9.5e-7         1.1e-2 (13%)   6.0e-7         1.1e-2 (38%)
    tiny_deit_distilled               9.5e-7         1.7e-2 (9%)    7.2e-7         1.1e-6
    tiny_gap                          3.0e-7         3.1e-4         2.4e-7         3.6e-7
    tiny_gelu_tanh_noqkvbias          1.0e-2 (44%)   1.0e-2 (45%)   1.0e-2 (4.5%)  1.0e-2 (30%)
    tiny_posembed_resize_bicubic      9.6e-3 (16%)   1.1e-2 (59%)   4.8e-7         7.2e-7
    tiny_posembed_resize_bilinear_ac  8.4e-3 (1.2%)  8.4e-3 (21%)   7.2e-7         1.2e-2 (40%)
    tiny_relu                         9.5e-7         2.5e-6         9.5e-7         9.5e-7
    tiny_representation               1.3e-4         2.9e-3 (11%)   1.3e-4         2.9e-3 (3%)
    tiny_token_erf                    1.4e-6         3.2e-6         7.2e-7         1.8e-6
    tiny_wide_heads                   8.4e-3 (32%)   4.5e-2 (84%)   8.4e-3 (45%)   1.6e-2 (81%)

A perturbation upstream also moves the values of later roundings, so one near tie can flip
under noise in either group (tiny_wide_heads: a proj input of block 0 lies 1.7e-7 relative
from its tie, a query of block 0 3.0e-7). A flip moves more than the value it flips: the rest
of that token's row then rounds differently in the next GEMMs and int8 scores, and after the
next attention other rows too (one forced flip in the class token's proj input of block 0 of
tiny_wide_heads re-rounded 127 of the 512 fc2 inputs of that row in block 0, and about 5000
GEMM inputs of block 1). Single forced flips in block 0 (20 random ones per GEMM kind) moved
the int8_i8core logits of tiny_wide_heads by 1e-2 to 3e-2 (median per kind), of tiny_gap by
1e-3 to 3e-3.

int8_saturation's figures are mostly an artefact of the noise: its fc1 inputs are exactly
+-1 (a layer norm of scale 0 gives its bias exactly, in any implementation), so z = rint(127.5)
is an exact tie that any noise flips; q and k alone do not move it.

Closer to what vitc does differently, by hand, each alone: a float64 or a one-pass
(E[x^2] - E[x]^2) layer norm, dequantizing as (acc * s_a) * s_w, the scores scaled as
(acc * (s_q s_k)) * c, the softmax in float64, probs.v in float64, or normalizing after
probs.v (e @ v / sum e) moved the int8_i8core logits of every case by at most 7.2e-7, but
tiny_wide_heads with the float64 softmax or the float64 probs.v: 8.4e-3 (the block-0 proj
input above flips). Its logits_int8 and logits_int8_l63 moved by at most 4.8e-7 with the
softmax and probs.v in float64, or normalized after probs.v.

tiny_wide_heads (make_reference.py; embed_dim 128, 2 heads of 64, 37 tokens, mlp 512) has
about 11 times as many roundings per image as the 32-wide cases, and one flip costs it ~1e-2,
so near ties are to be expected: of the 20 seeds tried with its weights' scale 0.1 (and 5
each with 0.05 and 0.07), every one had tries past 2e-3 at 3e-7 (2% to 90% of 100). It is not
fit for 2e-3 with int8 scores. Its logits_int8.npy is, at 3e-7 (GEMM-input noise: 6.9e-5 at
most, no rounding of block 0 within 1.1e-6 relative of a tie; 14% past 2e-3 at 1e-6); its
logits_int8_l63.npy is not (9.9e-3 in 14% of the tries at 3e-7, 91% at 1e-6).

Recommended at 2e-3: tiny_relu, tiny_token_erf and tiny_gap (at most 1.6e-6 at 3e-7 and 3.5e-4
at 1e-6, never past 2e-3; at most 7.2e-7 under the variants above). tiny_relu and tiny_token_erf
are 7.3x or more from logits_int8.npy and 11x or more from logits.npy; tiny_gap is 8x from
logits.npy but only 1.7x (0.0034) from logits_int8.npy, so it barely tells int8 scores from
float32 ones. Acceptable at 3e-7 but not at several ulps: tiny_deit_distilled (1.2e-6 at 3e-7;
7% of the tries past 2e-3 at 1e-6) and tiny_representation (one flip of 2.9e-3 in 0.5% of the
tries at 3e-7, 14% at 1e-6); a miss of a few 1e-3 there suggests a flipped rounding before a
kernel bug. Not fit: tiny_gelu_tanh_noqkvbias (48% at 3e-7), tiny_posembed_resize_bicubic (16%),
tiny_wide_heads (46%), tiny_posembed_resize_bilinear_ac (3.5%), tiny_avg_fcnorm (1%, and its
top-1 is moot) and int8_saturation (the exact tie above).
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


LEVELS_16 = 32767  # vitc's kProbLevels and kValueLevels


def attention_core_int8(q, k, v, noise=lambda x: x):
    """The attention core of vitc's int8 on AVX512-VNNI targets, for q, k, v [H, N, Dh] (float32,
    the qkv GEMM's output) -> context [H, N, Dh], per head: q.k^T in int8, the float32 softmax,
    and probs.v in 15-bit levels (see "The int8 forward with the int8 scores" in the
    docstring). noise (for the sensitivity estimate) is applied to q and k before their
    quantization."""
    assert q.dtype == F32 and q.ndim == 3
    heads, n, dh = q.shape
    q, k = noise(q), noise(k)
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
        assert scale.dtype == F32 and scores.dtype == F32
        # The float32 softmax (vitc multiplies by 1 / sum), then probs.v in 15-bit levels:
        # probabilities in steps of 1/32767, values per column in steps of max|v| / 32767.
        e = np.exp(scores - np.max(scores, axis=-1, keepdims=True))
        p = (e * (F32(1) / np.sum(e, axis=-1, keepdims=True, dtype=F32))).astype(F32)
        pq = np.rint(p * F32(LEVELS_16)).astype(np.int64)
        vmax = np.max(np.abs(v[h]), axis=0)  # per column e
        inv_v = np.where(vmax == 0, F32(0),
                         F32(LEVELS_16) / np.where(vmax == 0, F32(1), vmax)).astype(F32)
        s_v = (vmax / F32(LEVELS_16)).astype(F32)
        vq = np.rint(v[h] * inv_v[None, :]).astype(np.int64)
        assert np.abs(vq).max() <= LEVELS_16 and np.abs(pq @ vq).max() < 2 ** 31
        context[h] = (pq @ vq).astype(F32) * (s_v * F32(1.0 / LEVELS_16)).astype(F32)
    return context


def perturbed_int8_i8core(rng, relative, levels=127):
    """(gemm, core): linear_int8 and attention_core_int8 with every GEMM input and every q and k
    element first scaled by (1 + relative * u), before their quantization, u uniform in [-1, 1]
    (float64, rounded to float32)."""
    def noisy(x):
        u = rng.uniform(-1.0, 1.0, size=x.shape)
        return (x.astype(np.float64) * (1.0 + relative * u)).astype(F32)

    def gemm(x, w, b):
        return linear_int8(noisy(x), w, b, levels)

    def core(q, k, v):
        return attention_core_int8(q, k, v, noise=noisy)
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
    int8_i8core noise estimate (a quarter of that at the wider noise; 0 skips it)."""
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

    # int8 GEMMs (8-bit weights, the AVX512-VNNI kernels) with q.k^T in int8 too: what vitc's
    # int8 runs on targets with AVX512-VNNI.
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
    print(f"  int8, int8 scores: max |int8_i8core - f32 logits| = {ic_f32:.4g}, "
          f"max |int8_i8core - int8| = {ic_int8:.4g}, top-1 agree {ic_top1:.2f}")

    # Sensitivity of the int8_i8core logits to float32-ulp differences upstream of each rounding
    # (GEMM inputs, q, k). Not in MANIFEST.json.
    noise = {}
    for label, level, n in (("3e-7", PERTURB_RELATIVE, tries),
                            ("1e-6", PERTURB_RELATIVE_WIDE, tries // 4)):
        if not n:
            continue
        rng = np.random.default_rng([sum(name.encode()), n])
        changes = []
        for _ in range(n):
            gemm, core = perturbed_int8_i8core(rng, level)
            changes.append(float(np.abs(forward(images, cfg, p, pos_embed, 127, gemm=gemm,
                                                core=core) - int8_ic).max()))
        noise[label] = (max(changes), float(np.mean(np.array(changes) > TOLERANCE)))
        print(f"  noise {label}: max change of int8_i8core logits over {n} tries = "
              f"{noise[label][0]:.3g}, over {TOLERANCE:g} in {noise[label][1]:.1%} of tries")

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
    print("\n    int8 with the int8 scores (logits_int8_i8core.npy):")
    print("    case                              i8ic-f32  i8ic-int8  top-1  noise 3e-7 (>tol)"
          "  noise 1e-6 (>tol)")
    for name, r in results.items():
        nz = r["_noise"]
        cols = "".join(f"  {nz[k][0]:8.2e} ({nz[k][1]:5.1%})" if k in nz else "  " + " " * 16
                       for k in ("3e-7", "1e-6"))
        print(f"    {name:32s}  {r['i8core_max_abs_diff_vs_f32']:8.4f}"
              f"  {r['i8core_max_abs_diff_vs_int8']:9.4f}"
              f"  {r['i8core_top1_agree_vs_f32']:5.2f}{cols}")
    print(f"\nwrote int8 logits for {len(results)} case(s); failed: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
