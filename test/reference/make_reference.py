#!/usr/bin/env python3
"""Generate the small reference data used by vitc's numerical tests.

Run by hand (NOT run in CI); the outputs are committed to the repo:

    pip install torch timm safetensors scipy numpy   # optional: transformers
    python3 test/reference/make_reference.py [--out test/data/reference] [--posembed-out test/data/posembed]
    python3 test/reference/make_reference.py --only CASE [--only CASE ...]

Everything is deterministic (fixed seeds, one CPU thread).  Nothing is
downloaded: models are built directly from timm classes with tiny sizes and
random weights; no pretrained weights or hub access are used.

Outputs
-------
<out>/<case>/model.safetensors   weights (timm key layout; HF layout for tiny_hf)
<out>/<case>/model.npz           weights in the official JAX .npz layout (tiny_official_npz only)
<out>/<case>/config.json         model description (timm kwargs schema, or an HF ViTConfig for tiny_hf)
<out>/<case>/input.npy           float32 NCHW images, batch 2, uniform in [-1, 1]
<out>/<case>/logits.npy          float32 logits from PyTorch/timm in eval() mode, float32 compute
<out>/<case>/logits_b1.npy       float32 logits for input[:1] alone (batch 1)
<out>/<case>/posembed_resized.npy  (pos-embed resize cases only) the resized pos_embed the reference used
<out>/MANIFEST.json              list of cases, files, config summary, versions, max |logit|
<posembed-out>/*.npy, README.md  goldens for pos-embed resizing (see write_posembed_goldens)

Each case folder is started clean and MANIFEST.json is rewritten, which drops the int8 and bf16
logits (logits_int8*.npy, logits_bf16*.npy and the MANIFEST's "int8" and "bf16" entries) and the
attention maps and rollout (attention_maps*.npy, rollout*.npy and the MANIFEST's "attention"
entries): run test/reference/make_int8_reference.py, make_bf16_reference.py and
make_attention_reference.py again afterwards.
With --only, just the named case folders are written (started clean) and their MANIFEST.json
entries replaced or appended; every other folder and entry is left as it is, and the pos-embed
goldens are not written. (The entry gets a "versions" object if the library versions differ from
the MANIFEST's.)

timm config schema (config.json): the exact keyword arguments passed to the timm
constructor, plus our additions "format", "norm_eps" (LayerNorm eps; the
constructor gets norm_layer=functools.partial(torch.nn.LayerNorm, eps=norm_eps)),
"distilled" (timm.models.deit.VisionTransformerDistilled) and
"representation_size" (pre-logits Linear + tanh stored as pre_logits.fc.*).
"""

import argparse
import functools
import hashlib
import json
import os
import sys

import numpy as np
import scipy
import scipy.ndimage
import safetensors
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

import timm
from timm.layers import resample_abs_pos_embed
from timm.models.deit import VisionTransformerDistilled
from timm.models.vision_transformer import VisionTransformer, _load_weights

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Tiny model size shared by all cases.
BASE = dict(
    img_size=32,
    patch_size=8,
    in_chans=3,
    embed_dim=32,
    depth=2,
    num_heads=2,
    mlp_ratio=2.0,
    num_classes=10,
    class_token=True,
    global_pool="token",
    fc_norm=None,
    qkv_bias=True,
    act_layer="gelu",
)
# Our additions to the timm kwargs (not passed to the constructor).
EXTRA_KEYS = ("format", "norm_eps", "distilled", "representation_size")


def make_config(**overrides):
    cfg = {"format": "timm"}
    cfg.update(BASE)
    cfg.update(norm_eps=1e-6, distilled=False, representation_size=None)
    cfg.update(overrides)
    return cfg


def build_model(cfg):
    """Build a timm model from a config dict (see schema in the module docstring)."""
    kwargs = {k: v for k, v in cfg.items() if k not in EXTRA_KEYS}
    kwargs["norm_layer"] = functools.partial(nn.LayerNorm, eps=cfg["norm_eps"])
    cls = VisionTransformerDistilled if cfg["distilled"] else VisionTransformer
    model = cls(**kwargs)
    model.eval()
    if cfg["distilled"]:
        model.set_distilled_training(False)
    return model


def reinit_(module, seed, scale=0.2):
    """Overwrite every parameter: randn*scale, except LayerNorm weights = 1 + 0.1*randn."""
    g = torch.Generator().manual_seed(seed)
    ln_weights = set()
    for mname, m in module.named_modules():
        if isinstance(m, nn.LayerNorm) and m.weight is not None:
            ln_weights.add(f"{mname}.weight" if mname else "weight")
    with torch.no_grad():
        for name, p in module.named_parameters():
            r = torch.randn(p.shape, generator=g, dtype=torch.float32)
            p.copy_(1.0 + 0.1 * r if name in ln_weights else scale * r)


def make_input(seed, img_size, batch=2):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, size=(batch, 3, img_size, img_size)).astype(np.float32)


def run(fn, x_np):
    with torch.no_grad():
        y = fn(torch.from_numpy(x_np))
    assert y.dtype == torch.float32
    return y.detach().cpu().numpy().astype(np.float32)


def state_dict_np(model):
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def save_safetensors(tensors, path):
    t = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in tensors.items()}
    save_file(t, path, metadata={"format": "pt"})


def write_json(obj, path):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=False)
        f.write("\n")


# ---------------------------------------------------------------------------
# Layout conversions
# ---------------------------------------------------------------------------

def timm_to_hf(sd, depth, dim):
    """timm VisionTransformer state_dict -> HF ViTForImageClassification keys (VIT_FACTS 2.3)."""
    D = dim
    hf = {
        "vit.embeddings.cls_token": sd["cls_token"],
        "vit.embeddings.position_embeddings": sd["pos_embed"],
        "vit.embeddings.patch_embeddings.projection.weight": sd["patch_embed.proj.weight"],
        "vit.embeddings.patch_embeddings.projection.bias": sd["patch_embed.proj.bias"],
    }
    for i in range(depth):
        b, p = f"blocks.{i}.", f"vit.encoder.layer.{i}."
        qkv_w, qkv_b = sd[b + "attn.qkv.weight"], sd[b + "attn.qkv.bias"]
        for j, n in enumerate(("query", "key", "value")):
            hf[p + f"attention.attention.{n}.weight"] = qkv_w[j * D:(j + 1) * D]
            hf[p + f"attention.attention.{n}.bias"] = qkv_b[j * D:(j + 1) * D]
        for src, dst in (("norm1", "layernorm_before"), ("attn.proj", "attention.output.dense"),
                         ("norm2", "layernorm_after"), ("mlp.fc1", "intermediate.dense"),
                         ("mlp.fc2", "output.dense")):
            hf[p + dst + ".weight"] = sd[b + src + ".weight"]
            hf[p + dst + ".bias"] = sd[b + src + ".bias"]
    hf["vit.layernorm.weight"] = sd["norm.weight"]
    hf["vit.layernorm.bias"] = sd["norm.bias"]
    hf["classifier.weight"] = sd["head.weight"]
    hf["classifier.bias"] = sd["head.bias"]
    assert len(hf) == len(sd) + 4 * depth, (len(hf), len(sd))  # qkv weight+bias split in 3
    return {k: np.ascontiguousarray(v) for k, v in hf.items()}


def timm_to_official_npz(sd, depth, dim, heads):
    """Reverse of timm.models.vision_transformer._load_weights (pre-Linen names, VIT_FACTS 1.3/2.2)."""
    D, H = dim, heads
    Dh = D // H
    out = {
        "embedding/kernel": sd["patch_embed.proj.weight"].transpose(2, 3, 1, 0),  # OIHW -> HWIO
        "embedding/bias": sd["patch_embed.proj.bias"],
        "cls": sd["cls_token"],
        "Transformer/posembed_input/pos_embedding": sd["pos_embed"],
        "Transformer/encoder_norm/scale": sd["norm.weight"],
        "Transformer/encoder_norm/bias": sd["norm.bias"],
        "head/kernel": sd["head.weight"].T,  # [C, D] -> [D, C]
        "head/bias": sd["head.bias"],
    }
    for i in range(depth):
        b, p = f"blocks.{i}.", f"Transformer/encoderblock_{i}/"
        m = p + "MultiHeadDotProductAttention_1/"
        out[p + "LayerNorm_0/scale"] = sd[b + "norm1.weight"]
        out[p + "LayerNorm_0/bias"] = sd[b + "norm1.bias"]
        qkv_w, qkv_b = sd[b + "attn.qkv.weight"], sd[b + "attn.qkv.bias"]
        for j, n in enumerate(("query", "key", "value")):
            out[m + f"{n}/kernel"] = qkv_w[j * D:(j + 1) * D].T.reshape(D, H, Dh)  # [D, H, Dh]
            out[m + f"{n}/bias"] = qkv_b[j * D:(j + 1) * D].reshape(H, Dh)
        out[m + "out/kernel"] = sd[b + "attn.proj.weight"].reshape(D, H, Dh).transpose(1, 2, 0)  # [H, Dh, D]
        out[m + "out/bias"] = sd[b + "attn.proj.bias"]
        out[p + "LayerNorm_2/scale"] = sd[b + "norm2.weight"]
        out[p + "LayerNorm_2/bias"] = sd[b + "norm2.bias"]
        for r, fc in enumerate(("fc1", "fc2")):
            out[p + f"MlpBlock_3/Dense_{r}/kernel"] = sd[b + f"mlp.{fc}.weight"].T  # [in, out]
            out[p + f"MlpBlock_3/Dense_{r}/bias"] = sd[b + f"mlp.{fc}.bias"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def official_zoom_posembed(pos, gs_new, num_prefix=1):
    """vit_jax checkpoint.interpolate_posembed: scipy.ndimage.zoom(order=1) on the square grid."""
    prefix, grid = pos[:, :num_prefix], pos[0, num_prefix:]
    gs_old = int(round(np.sqrt(grid.shape[0])))
    assert gs_old * gs_old == grid.shape[0]
    grid = grid.reshape(gs_old, gs_old, -1)
    grid = scipy.ndimage.zoom(grid, (gs_new / gs_old, gs_new / gs_old, 1), order=1)
    grid = grid.reshape(1, gs_new * gs_new, -1)
    return np.concatenate([prefix, grid], axis=1).astype(np.float32)


# ---------------------------------------------------------------------------
# Reference cases
# ---------------------------------------------------------------------------

class Writer:
    def __init__(self, out_dir, only=None):
        self.out_dir = out_dir
        self.only = only  # None: every case; else the names of the cases to write
        self.manifest = []

    def wants(self, name):
        return self.only is None or name in self.only

    def case(self, name, cfg, weights, x, logits, logits_b1, weights_file="model.safetensors",
             extra_npy=None, notes=None, config_summary=None):
        if not self.wants(name):
            return
        d = os.path.join(self.out_dir, name)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):  # start clean
            os.remove(os.path.join(d, f))
        wpath = os.path.join(d, weights_file)
        if weights_file.endswith(".npz"):
            np.savez(wpath, **weights)
        else:
            save_safetensors(weights, wpath)
        write_json(cfg, os.path.join(d, "config.json"))
        np.save(os.path.join(d, "input.npy"), x)
        np.save(os.path.join(d, "logits.npy"), logits)
        np.save(os.path.join(d, "logits_b1.npy"), logits_b1)
        for k, v in (extra_npy or {}).items():
            np.save(os.path.join(d, k), v)
        assert logits.shape == (x.shape[0], 10) and logits_b1.shape == (1, 10)
        files = {f: os.path.getsize(os.path.join(d, f)) for f in sorted(os.listdir(d))}
        entry = {
            "case": name,
            "files": files,
            "config": config_summary if config_summary is not None else cfg,
            "input_shape": list(x.shape),
            "max_abs_logit": float(np.abs(logits).max()),
            "max_abs_diff_b1_vs_b2": float(np.abs(logits_b1 - logits[:1]).max()),
            "logits_sha256": hashlib.sha256(logits.tobytes()).hexdigest(),
        }
        if notes:
            entry["notes"] = notes
        self.manifest.append(entry)
        print(f"  {name:32s} max|logit| = {entry['max_abs_logit']:.4f}  "
              f"files = {sum(files.values())} B")


def make_reference(out_dir, only=None):
    os.makedirs(out_dir, exist_ok=True)
    w = Writer(out_dir, only)
    print(f"writing reference cases to {out_dir}")

    def simple_case(name, seed, scale=0.2, **overrides):
        cfg = make_config(**overrides)
        model = build_model(cfg)
        reinit_(model, seed, scale)
        x = make_input(seed + 1, cfg["img_size"])
        logits, logits_b1 = run(model, x), run(model, x[:1])
        w.case(name, cfg, state_dict_np(model), x, logits, logits_b1)
        return cfg, model, x, logits, logits_b1

    # a. class token, erf GELU, eps 1e-6
    cfg_a, model_a, x_a, logits_a, logits_a_b1 = simple_case("tiny_token_erf", 100)
    sd_a = state_dict_np(model_a)
    t = torch.linspace(-4, 4, 101)
    assert torch.equal(model_a.blocks[0].mlp.act(t), F.gelu(t))  # exact erf GELU
    assert model_a.norm.eps == 1e-6

    # b. official GAP semantics: final norm, then mean over all (patch) tokens
    _, model_b, _, _, _ = simple_case("tiny_gap", 200, class_token=False, global_pool="avg", fc_norm=False)
    assert isinstance(model_b.fc_norm, nn.Identity) and isinstance(model_b.norm, nn.LayerNorm)
    assert model_b.pos_embed.shape == (1, 16, 32)

    # c. timm default avg pool: norm = Identity, mean over non-prefix tokens, then fc_norm
    _, model_c, _, _, _ = simple_case("tiny_avg_fcnorm", 300, global_pool="avg", fc_norm=None)
    assert isinstance(model_c.norm, nn.Identity) and isinstance(model_c.fc_norm, nn.LayerNorm)
    assert "fc_norm.weight" in model_c.state_dict() and "norm.weight" not in model_c.state_dict()

    # d. GELU tanh, no qkv bias, eps 1e-5
    _, model_d, _, _, _ = simple_case("tiny_gelu_tanh_noqkvbias", 400, act_layer="gelu_tanh", qkv_bias=False,
                                      norm_eps=1e-5)
    assert model_d.blocks[0].attn.qkv.bias is None and model_d.norm.eps == 1e-5
    t = torch.linspace(-4, 4, 101)
    assert torch.equal(model_d.blocks[0].mlp.act(t), F.gelu(t, approximate="tanh"))
    assert not torch.equal(model_d.blocks[0].mlp.act(t), F.gelu(t))

    # e. ReLU
    _, model_e, _, _, _ = simple_case("tiny_relu", 500, act_layer="relu")
    assert isinstance(model_e.blocks[0].mlp.act, nn.ReLU)

    # f. DeiT distilled: cls + dist token, head and head_dist averaged in eval
    cfg_f, model_f, x_f, logits_f, _ = simple_case("tiny_deit_distilled", 600, distilled=True)
    assert model_f.pos_embed.shape == (1, 18, 32) and not model_f.distilled_training and not model_f.training
    with torch.no_grad():
        feat = model_f.forward_features(torch.from_numpy(x_f))
        manual = (model_f.head(feat[:, 0]) + model_f.head_dist(feat[:, 1])) / 2
    np.testing.assert_allclose(manual.numpy(), logits_f, rtol=0, atol=1e-6)

    # g. representation (pre-logits) layer: tanh(Linear(32, 32)) before the head
    cfg_g = make_config(representation_size=32)
    model_g = build_model(cfg_g)
    reinit_(model_g, 700)
    pre_fc = nn.Linear(32, 32)
    reinit_(pre_fc, 701)

    def fwd_g(x):
        h = model_g.forward_head(model_g.forward_features(x), pre_logits=True)
        return model_g.head(torch.tanh(pre_fc(h)))

    x_g = make_input(702, 32)
    weights_g = state_dict_np(model_g)
    weights_g["pre_logits.fc.weight"] = pre_fc.weight.detach().numpy().copy()
    weights_g["pre_logits.fc.bias"] = pre_fc.bias.detach().numpy().copy()
    assert weights_g["head.weight"].shape == (10, 32)
    w.case("tiny_representation", cfg_g, weights_g, x_g, run(fwd_g, x_g), run(fwd_g, x_g[:1]))

    # h/i. checkpoint at 32x32 (grid 4x4), reference model at 48x48 (grid 6x6)
    def resize_case(name, seed, method):
        cfg32 = make_config()
        m32 = build_model(cfg32)
        reinit_(m32, seed)
        sd32 = state_dict_np(m32)
        cfg48 = make_config(img_size=48)
        m48 = build_model(cfg48)
        pos32 = m32.pos_embed.detach()
        if method == "timm_bicubic_antialias":
            pos48 = resample_abs_pos_embed(pos32, new_size=(6, 6), num_prefix_tokens=1).numpy()
        else:
            pos48 = official_zoom_posembed(pos32.numpy(), 6)
        sd48 = {k: torch.from_numpy(v) for k, v in sd32.items()}
        sd48["pos_embed"] = torch.from_numpy(pos48)
        m48.load_state_dict(sd48, strict=True)
        m48.eval()
        assert m48.pos_embed.shape == (1, 37, 32)
        x = make_input(seed + 1, 48)
        notes = {"checkpoint_img_size": 32, "checkpoint_pos_embed_shape": [1, 17, 32],
                 "reference_pos_embed_shape": [1, 37, 32], "posembed_resize": method}
        w.case(name, cfg48, sd32, x, run(m48, x), run(m48, x[:1]),
               extra_npy={"posembed_resized.npy": pos48.astype(np.float32)}, notes=notes)

    resize_case("tiny_posembed_resize_bicubic", 800, "timm_bicubic_antialias")
    resize_case("tiny_posembed_resize_bilinear_ac", 900, "scipy_zoom_order1")

    # j. case a's weights in HF ViTForImageClassification layout
    hf_sd = timm_to_hf(sd_a, depth=2, dim=32)
    hf_cfg = {
        "model_type": "vit",
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "hidden_act": "gelu",
        "layer_norm_eps": 1e-6,
        "image_size": 32,
        "patch_size": 8,
        "num_channels": 3,
        "qkv_bias": True,
        "id2label": {str(i): f"LABEL_{i}" for i in range(10)},
        "architectures": ["ViTForImageClassification"],
    }
    # Check the by-hand renaming is lossless: qkv rows re-concatenate to case a's tensors.
    for i in range(2):
        p = f"vit.encoder.layer.{i}.attention.attention."
        for t in ("weight", "bias"):
            cat = np.concatenate([hf_sd[p + f"{n}.{t}"] for n in ("query", "key", "value")])
            assert np.array_equal(cat, sd_a[f"blocks.{i}.attn.qkv.{t}"])
    # Reference logits are case a's (same weights, eps, erf GELU, input).
    assert np.array_equal(x_a, make_input(101, 32))
    w.case("tiny_hf", hf_cfg, hf_sd, x_a, logits_a.copy(), logits_a_b1.copy(),
           notes={"same_weights_as": "tiny_token_erf"},
           config_summary={"format": "hf", **{k: v for k, v in hf_cfg.items() if k != "id2label"}})
    # Optional cross-check with HF transformers, loading the case folder (local files only).
    # transformers >= 5 renames ViT modules internally (vit.layers.{i}.attention.q_proj, ...) and maps the
    # classic checkpoint keys on load, so go through from_pretrained rather than load_state_dict.
    try:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import transformers
        from transformers import ViTForImageClassification
        transformers.logging.disable_progress_bar()
    except ImportError:
        transformers = None
        print("  HF check skipped (transformers not installed)")
    if transformers is not None and w.wants("tiny_hf"):
        hf_model, info = ViTForImageClassification.from_pretrained(
            os.path.join(out_dir, "tiny_hf"), local_files_only=True, output_loading_info=True)
        assert not any(info.get(k) for k in ("missing_keys", "unexpected_keys", "mismatched_keys")), info
        hf_model.eval()
        with torch.no_grad():
            hf_logits = hf_model(pixel_values=torch.from_numpy(x_a)).logits.numpy()
        diff = float(np.abs(hf_logits - logits_a).max())
        assert diff < 1e-4, diff
        msg = f"transformers {transformers.__version__}: max |HF logits - tiny_token_erf logits| = {diff:.3g}"
        w.manifest[-1]["notes"]["hf_check"] = msg
        print(f"  HF check: {msg}")

    # k. case a's weights with GELU tanh, official npz layout
    cfg_k = make_config(act_layer="gelu_tanh")
    model_k = build_model(cfg_k)
    model_k.load_state_dict({k: torch.from_numpy(v) for k, v in sd_a.items()}, strict=True)
    model_k.eval()
    logits_k, logits_k_b1 = run(model_k, x_a), run(model_k, x_a[:1])
    assert not np.array_equal(logits_k, logits_a)
    npz = timm_to_official_npz(sd_a, depth=2, dim=32, heads=2)
    w.case("tiny_official_npz", cfg_k, npz, x_a, logits_k, logits_k_b1, weights_file="model.npz",
           notes={"same_weights_as": "tiny_token_erf", "gelu": "tanh (JAX default)"})
    # Round trip with timm's own loader.
    if w.wants("tiny_official_npz"):
        npz_round_trip(out_dir, cfg_k, sd_a, x_a, logits_k)

    # l. real head sizes: embed_dim 128, 2 heads of 64, mlp 512, 37 tokens (36 patches + class
    # token, not a multiple of 4 or 8), so vitc's lane-split reductions over rows of >= 32
    # values run in q.k^T, probs.v and the GEMMs. Weights randn*0.1: their scores then spread
    # about as in the cases above (std ~1.3) instead of being near one-hot.
    _, model_l, _, _, _ = simple_case("tiny_wide_heads", 1000, scale=0.1, img_size=24, patch_size=4,
                                      embed_dim=128, num_heads=2, mlp_ratio=4.0)
    assert model_l.pos_embed.shape == (1, 37, 128) and model_l.blocks[0].attn.head_dim == 64
    assert model_l.blocks[0].mlp.fc1.out_features == 512

    versions = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "timm": timm.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "safetensors": safetensors.__version__,
    }
    path = os.path.join(out_dir, "MANIFEST.json")
    if only is None:
        write_json({"generator": "test/reference/make_reference.py", "versions": versions,
                    "cases": w.manifest}, path)
        return
    missing = set(only) - {e["case"] for e in w.manifest}
    assert not missing, f"no such case: {sorted(missing)}"
    with open(path) as f:
        manifest = json.load(f)
    for entry in w.manifest:
        if manifest.get("versions") != versions:
            entry["versions"] = versions
        names = [e["case"] for e in manifest["cases"]]
        if entry["case"] in names:
            manifest["cases"][names.index(entry["case"])] = entry
        else:
            manifest["cases"].append(entry)
    write_json(manifest, path)


def npz_round_trip(out_dir, cfg_k, sd_a, x_a, logits_k):
    """tiny_official_npz read back with timm's own loader gives case a's tensors and its logits."""
    model_rt = build_model(cfg_k)
    reinit_(model_rt, 12345)  # make sure every tensor really gets overwritten
    with torch.no_grad():
        _load_weights(model_rt, os.path.join(out_dir, "tiny_official_npz", "model.npz"))
    model_rt.eval()
    for k, v in model_rt.state_dict().items():
        assert np.array_equal(v.numpy(), sd_a[k]), k
    assert np.array_equal(run(model_rt, x_a), logits_k), "npz round trip logits differ"
    print("  npz round trip through timm _load_weights: exact")


# ---------------------------------------------------------------------------
# Position-embedding resize goldens
# ---------------------------------------------------------------------------

POSEMBED_README = """\
# Position-embedding resize goldens

Generated by `test/reference/make_reference.py` (function `write_posembed_goldens`;
torch {torch}, timm {timm}, scipy {scipy}). All files are float32 `.npy`.

`input.npy`: shape [1, 17, 8]. Row 0 is a prefix (class-token) row. Rows 1..16 are a 4x4 grid
in row-major (h, w) order, D = 8. Values are numpy default_rng(2024).standard_normal.

Every output has the layout [1, 1 + H*W, 8]: the unchanged prefix row, then the resized grid, row-major.
File names are `<method>_<H>x<W>.npy` for targets 6x6 (up), 3x3 (down) and 5x7 (non-square, H=5, W=7):

| method prefix | how it was computed |
|---|---|
| `timm_bicubic_aa` | `timm.layers.resample_abs_pos_embed(pos, new_size=(H, W), num_prefix_tokens=1)` with defaults, i.e. F.interpolate(mode='bicubic', align_corners=False, antialias=True). timm uses this for .pth/.safetensors checkpoints and dynamic_img_size. |
| `torch_bicubic` | `F.interpolate(grid, size=(H, W), mode='bicubic', align_corners=False, antialias=False)` (same as HF `interpolate_pos_encoding`) |
| `torch_bilinear` | `F.interpolate(grid, size=(H, W), mode='bilinear', align_corners=False, antialias=False)` (timm `_load_weights` for .npz) |
| `scipy_zoom1` | official vit_jax `interpolate_posembed`: `scipy.ndimage.zoom(grid[4,4,D], (H/4, W/4, 1), order=1)` on the float32 grid (computed in double inside scipy, output float32). Square targets only (6x6, 3x3). |

Here `grid` is the grid part permuted to NCHW [1, 8, 4, 4] (computed in float32).

Notes for implementers:
- PyTorch's antialias=True bicubic path is a separable "AA" kernel (PIL style). It uses cubic coefficient
  a = -0.5, where the antialias=False path uses a = -0.75. It also renormalises the weights at the borders instead
  of clamping indices. So `timm_bicubic_aa` differs from `torch_bicubic` even when upsampling. When downsampling,
  the AA kernel's support is also widened by the scale factor.
  Checked against a numpy re-implementation (max err ~1e-6), per axis with n_in -> n_out, scale = n_in/n_out:
  - AA (`timm_bicubic_aa`): support = 2*max(scale, 1), centre c = (i + 0.5)*scale, taps
    j in [max(int(c - support + 0.5), 0), min(int(c + support + 0.5), n_in)) (half-open), weight
    cubic(a=-0.5; (j - c + 0.5) / max(scale, 1)), normalised to sum 1 over those taps.
  - plain (`torch_bicubic`): s = (i + 0.5)*scale - 0.5, f = floor(s), t = s - f, taps f-1..f+2 clamped to
    [0, n_in-1], weights cubic(a=-0.75; t - k) for k = -1..2 (no renormalisation).
- scipy zoom order=1 with grid_mode=False maps corner pixel centres onto each other. It matches
  F.interpolate(mode='bilinear', align_corners=True) to ~4e-7 on these inputs.
"""


def write_posembed_goldens(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if f.endswith(".npy"):
            os.remove(os.path.join(out_dir, f))
    print(f"writing pos-embed goldens to {out_dir}")
    rng = np.random.default_rng(2024)
    pos = rng.standard_normal((1, 17, 8)).astype(np.float32)
    np.save(os.path.join(out_dir, "input.npy"), pos)
    pos_t = torch.from_numpy(pos)
    prefix = pos_t[:, :1]
    grid = pos_t[:, 1:].reshape(1, 4, 4, 8).permute(0, 3, 1, 2)

    def interp(size, mode):
        g = F.interpolate(grid, size=size, mode=mode, align_corners=False, antialias=False)
        return torch.cat([prefix, g.permute(0, 2, 3, 1).reshape(1, -1, 8)], dim=1).numpy()

    for (h, wd) in ((6, 6), (3, 3), (5, 7)):
        outs = {
            "timm_bicubic_aa": resample_abs_pos_embed(pos_t, new_size=(h, wd), num_prefix_tokens=1).numpy(),
            "torch_bicubic": interp((h, wd), "bicubic"),
            "torch_bilinear": interp((h, wd), "bilinear"),
        }
        if h == wd:
            outs["scipy_zoom1"] = official_zoom_posembed(pos, h)
        for k, v in outs.items():
            v = np.ascontiguousarray(v, dtype=np.float32)
            assert v.shape == (1, 1 + h * wd, 8), (k, v.shape)
            assert np.array_equal(v[:, :1], pos[:, :1])
            np.save(os.path.join(out_dir, f"{k}_{h}x{wd}.npy"), v)
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(POSEMBED_README.format(torch=torch.__version__, timm=timm.__version__,
                                       scipy=scipy.__version__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "test", "data", "reference"))
    ap.add_argument("--posembed-out", default=os.path.join(REPO_ROOT, "test", "data", "posembed"))
    ap.add_argument("--skip-posembed", action="store_true", help="do not write the pos-embed goldens")
    ap.add_argument("--only", action="append", metavar="CASE",
                    help="write only this case (repeatable), merging its MANIFEST.json entry into "
                    "the existing one; implies --skip-posembed")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    make_reference(args.out, args.only)
    if not args.skip_posembed and not args.only:
        write_posembed_goldens(args.posembed_out)


if __name__ == "__main__":
    main()
