#!/usr/bin/env python3
"""Expected attention maps and attention rollout, from PyTorch/timm and numpy.

Run by hand (NOT run in CI); the outputs are committed to the repo:

    pip install torch timm safetensors scipy numpy
    python3 test/reference/make_attention_reference.py [CASE_DIR ...]

With no case arguments it does the cases in CASES below (test/data/reference/<case>). Per case
it builds the timm model from the committed config.json with make_reference.py's build_model
(imported from this folder, not copied), loads the committed model.safetensors (strict: every
tensor; no weights are made anew), and runs input.npy through it in float32, eval mode, on one
CPU thread. Every block's attention is switched off timm's fused path (attn.fused_attn = False),
so it computes softmax((q * scale) @ k^T) explicitly, and a forward pre-hook on attn.attn_drop
(whose input is exactly those probabilities) records, for block l,
    P_l = softmax(q k^T * scale)      float32 [B, H, N, N]
with N all tokens, prefix tokens included. The logits of that forward must equal logits.npy
(and, for input[:1], logits_b1.npy) to 1e-5, so the weights are the committed ones. As a second,
independent check, P_l is recomputed in float64 from q and k (the hooked qkv Linear output) and
must agree to 1e-5.

Definitions (what vitc's attention-maps output is checked against):
- T = timm's num_prefix_tokens: 1 with a class token, 2 for DeiT distilled (class and
  distillation tokens), 0 without a class token (tiny_gap). L = depth, H = heads.
- Rows. Token pooling (global_pool "token", distilled included): R = T, row r in [0, T) is the
  query row of prefix token r. Average pooling (global_pool "avg"): R = 1, the mean over the
  query rows i in [T, N), the rows the pooling averages (prefix rows left out).
- attention_maps[b, l, h, r, :] = P_l[b, h, r, :] (token pooling), or
  attention_maps[b, l, h, 0, :] = mean_{i in [T, N)} P_l[b, h, i, :] (avg pooling; the mean taken
  in float64 from the float32 probabilities, rounded once to float32).
- Rollout (Abnar & Zuidema 2020), per image, in float64 with full N x N matrices:
  A_l = mean over heads of P_l; A'_l = 0.5 A_l + 0.5 I; Rollout = A'_L @ A'_{L-1} @ ... @ A'_1.
  rollout[b, r, :] = Rollout[r, :] for r in [0, T) (token pooling), or
  rollout[b, 0, :] = mean_{i in [T, N)} Rollout[i, :] (avg pooling); rounded once to float32.

Outputs, next to the case's other files:
  attention_maps.npy     float32 [B, L, H, R, N]  for the whole input.npy (B = 2)
  attention_maps_b1.npy  float32 [1, L, H, R, N]  for input.npy[:1] alone
  rollout.npy            float32 [B, R, N]
  rollout_b1.npy         float32 [1, R, N]
and an "attention" sub-object of the case's entry in MANIFEST.json (through
make_int8_reference.py's run_cases/update_manifest; the other entries are left as they are)
with T, R, L, H, N, the file shapes and the checks' numbers.

Checks asserted: every probability row of every P_l sums to 1 (1e-5), every map row and rollout
row sums to 1 (1e-5), the shapes above, the logits and the float64 recomputation as said.

Note: make_reference.py starts each case folder clean and rewrites MANIFEST.json from scratch,
so run this script again after it.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_int8_reference as ref  # noqa: E402  (run_cases, update_manifest)
import make_reference as mr  # noqa: E402  (build_model)

CASES = ["tiny_token_erf", "tiny_deit_distilled", "tiny_gap", "tiny_avg_fcnorm"]
LOGITS_TOLERANCE = 1e-5
SUM_TOLERANCE = 1e-5
RECOMPUTE_TOLERANCE = 1e-5
OUTPUTS = ("attention_maps.npy", "attention_maps_b1.npy", "rollout.npy", "rollout_b1.npy")


class Unsupported(Exception):
    pass


def load_model(case_dir):
    """(cfg, timm model with the committed weights, unfused attention)."""
    with open(os.path.join(case_dir, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("format") != "timm":
        raise Unsupported(f"format {cfg.get('format')!r} (only timm)")
    if cfg.get("representation_size"):
        raise Unsupported("representation layer (its logits are not the timm model's)")
    if cfg["global_pool"] not in ("token", "avg"):
        raise Unsupported(f"global_pool {cfg['global_pool']!r}")
    if os.path.exists(os.path.join(case_dir, "posembed_resized.npy")):
        raise Unsupported("position-embedding resize case")
    weights = os.path.join(case_dir, "model.safetensors")
    if not os.path.exists(weights):
        raise Unsupported("no model.safetensors")
    model = mr.build_model(cfg)
    model.load_state_dict(load_file(weights), strict=True)
    model.eval()
    for blk in model.blocks:
        blk.attn.fused_attn = False
        assert isinstance(blk.attn.q_norm, torch.nn.Identity)
        assert isinstance(blk.attn.k_norm, torch.nn.Identity)
    return cfg, model


def capture(model, x_np):
    """Runs the model; returns (logits float32 [B, C], probs float32 [B, L, H, N, N],
    probs recomputed in float64 from the hooked qkv [B, L, H, N, N])."""
    probs, qkvs, handles = [], [], []
    for blk in model.blocks:
        handles.append(blk.attn.attn_drop.register_forward_pre_hook(
            lambda m, args: probs.append(args[0].detach().clone())))
        handles.append(blk.attn.qkv.register_forward_hook(
            lambda m, args, out: qkvs.append(out.detach().clone())))
    try:
        with torch.no_grad():
            logits = model(torch.from_numpy(x_np))
    finally:
        for h in handles:
            h.remove()
    L = len(model.blocks)
    assert len(probs) == L and len(qkvs) == L, (len(probs), len(qkvs))
    assert logits.dtype == torch.float32 and all(p.dtype == torch.float32 for p in probs)
    P = np.stack([p.numpy() for p in probs], axis=1)  # [B, L, H, N, N]

    recomputed = []
    for blk, qkv in zip(model.blocks, qkvs):
        B, N, _ = qkv.shape
        H, Dh = blk.attn.num_heads, blk.attn.head_dim
        q, k, _ = qkv.numpy().astype(np.float64).reshape(B, N, 3, H, Dh).transpose(2, 0, 3, 1, 4)
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(Dh)
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        recomputed.append(s / s.sum(axis=-1, keepdims=True))
    return logits.numpy(), P, np.stack(recomputed, axis=1)


def select_rows(m, T, pool):
    """m [..., N, N] -> [..., R, N]: rows [0, T) (token pooling) or the float64 mean over
    rows [T, N) (avg pooling)."""
    if pool == "token":
        return m[..., :T, :]
    return m[..., T:, :].astype(np.float64).mean(axis=-2, keepdims=True)


def rollout(P, T, pool):
    """P float32 [B, L, H, N, N] -> rollout float64 [B, R, N], one image at a time with full
    N x N matrices: Rollout = A'_L @ ... @ A'_1, A'_l = 0.5 mean_h P_l + 0.5 I."""
    B, L, H, N, _ = P.shape
    out = []
    for b in range(B):
        roll = np.eye(N)
        for l in range(L):
            A = P[b, l].astype(np.float64).mean(axis=0)
            roll = (0.5 * A + 0.5 * np.eye(N)) @ roll
        out.append(select_rows(roll, T, pool))
    return np.stack(out)


def attention_outputs(model, cfg, x_np, logits_ref):
    """(maps float32 [B, L, H, R, N], rollout float32 [B, R, N], check numbers)."""
    logits, P, P64 = capture(model, x_np)
    logit_diff = float(np.abs(logits - logits_ref).max())
    assert logit_diff < LOGITS_TOLERANCE, f"logits differ from the committed ones by {logit_diff}"
    recompute_diff = float(np.abs(P.astype(np.float64) - P64).max())
    assert recompute_diff < RECOMPUTE_TOLERANCE, recompute_diff

    B = x_np.shape[0]
    T, pool = model.num_prefix_tokens, cfg["global_pool"]
    L, H = cfg["depth"], cfg["num_heads"]
    N = T + (cfg["img_size"] // cfg["patch_size"]) ** 2
    R = T if pool == "token" else 1
    assert P.shape == (B, L, H, N, N), P.shape
    prob_sum = float(np.abs(P.astype(np.float64).sum(-1) - 1).max())
    assert prob_sum < SUM_TOLERANCE, prob_sum

    maps = np.ascontiguousarray(select_rows(P, T, pool), dtype=np.float32)
    roll = np.ascontiguousarray(rollout(P, T, pool), dtype=np.float32)
    assert maps.shape == (B, L, H, R, N) and maps.dtype == np.float32, maps.shape
    assert roll.shape == (B, R, N) and roll.dtype == np.float32, roll.shape
    for name, a in (("attention map", maps), ("rollout", roll)):
        err = float(np.abs(a.astype(np.float64).sum(-1) - 1).max())
        assert err < SUM_TOLERANCE, f"{name} rows sum to 1 +- {err}"
        assert np.all(a >= 0), name
    checks = {"logits": logit_diff, "recompute": recompute_diff, "prob_sum": prob_sum}
    return maps, roll, checks


def run_case(case_dir, tries=0):
    """Returns the MANIFEST "attention" entry, or None if skipped. tries: unused (run_cases'
    signature)."""
    name = os.path.basename(os.path.normpath(case_dir))
    print(f"{name}:")
    try:
        cfg, model = load_model(case_dir)
    except Unsupported as e:
        print(f"  skipped: {e}")
        return None
    x = np.load(os.path.join(case_dir, "input.npy"))
    assert x.dtype == np.float32 and x.ndim == 4 and x.shape[0] == 2, (x.dtype, x.shape)
    maps, roll, c2 = attention_outputs(model, cfg, x, np.load(os.path.join(case_dir, "logits.npy")))
    maps1, roll1, c1 = attention_outputs(model, cfg, x[:1],
                                         np.load(os.path.join(case_dir, "logits_b1.npy")))
    b1_diff = max(float(np.abs(maps1 - maps[:1]).max()), float(np.abs(roll1 - roll[:1]).max()))
    for f, a in zip(OUTPUTS, (maps, maps1, roll, roll1)):
        np.save(os.path.join(case_dir, f), a)

    T, R = model.num_prefix_tokens, maps.shape[3]
    L, H, N = maps.shape[1], maps.shape[2], maps.shape[4]
    print(f"  T = {T}, R = {R}, L = {L}, H = {H}, N = {N}; maps {list(maps.shape)}, "
          f"rollout {list(roll.shape)}")
    print(f"  max |logits - committed| = {max(c2['logits'], c1['logits']):.3g}, "
          f"max |probs - float64 recompute| = {max(c2['recompute'], c1['recompute']):.3g}, "
          f"max |prob row sum - 1| = {max(c2['prob_sum'], c1['prob_sum']):.3g}, "
          f"max |batch 1 - batch 2[:1]| = {b1_diff:.3g}")
    return {
        "generator": "test/reference/make_attention_reference.py",
        "files": {f: os.path.getsize(os.path.join(case_dir, f)) for f in OUTPUTS},
        "shapes": {"attention_maps.npy": list(maps.shape),
                   "attention_maps_b1.npy": list(maps1.shape),
                   "rollout.npy": list(roll.shape), "rollout_b1.npy": list(roll1.shape)},
        "layout": "maps [B, L, H, R, N], rollout [B, R, N]",
        "global_pool": cfg["global_pool"],
        "rows": "prefix tokens' rows [0, T)" if cfg["global_pool"] == "token"
                else "mean of rows [T, N)",
        "T": T, "R": R, "L": L, "H": H, "N": N,
        "rollout": "A'_L @ ... @ A'_1, A'_l = 0.5 mean_h P_l + 0.5 I, float64",
        "max_abs_diff_logits_vs_committed": max(c2["logits"], c1["logits"]),
        "max_abs_diff_probs_vs_f64_recompute": max(c2["recompute"], c1["recompute"]),
        "max_abs_diff_b1_vs_b2": b1_diff,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cases", nargs="*", help="case folders (default: test/data/reference/<case> "
                    f"for {', '.join(CASES)})")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    cases = args.cases or [os.path.join(ref.REFERENCE_DIR, c) for c in CASES]
    results, failed = ref.run_cases(cases, run_case, 0, "attention")
    skipped = [os.path.basename(os.path.normpath(d)) for d in cases
               if os.path.basename(os.path.normpath(d)) not in results]
    print(f"\nwrote attention maps and rollout for {len(results)} case(s); "
          f"skipped: {skipped or 'none'}")
    return 1 if failed or (not args.cases and skipped) else 0


if __name__ == "__main__":
    sys.exit(main())
