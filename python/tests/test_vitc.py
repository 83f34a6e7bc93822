"""The vitc Python package against the C runtime (vit-run) and timm's reference logits.

Run by test/python/check.sh (ctest python-package), which installs the package into a scratch
folder and sets $VITC (the compiler) and $VIT_RUN (the C runtime's runner).
"""
import os
import subprocess

import numpy as np
import pytest

import vitc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFERENCE = os.path.join(ROOT, "test", "data", "reference")


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VITC_CACHE", str(tmp_path / "cache"))


def case(name):
    folder = os.path.join(REFERENCE, name)
    return (os.path.join(folder, "config.json"), os.path.join(folder, "model.safetensors"),
            np.load(os.path.join(folder, "input.npy")), np.load(os.path.join(folder, "logits.npy")))


def test_zoo_model_equals_the_c_runtime_bitwise(tmp_path):
    model = vitc.compile("vit-ti16", random_weights=3, output_dir=tmp_path / "ti16")
    images = np.random.default_rng(0).standard_normal((2, 3, 224, 224)).astype(np.float32)
    np.save(tmp_path / "images.npy", images)
    subprocess.run([os.environ["VIT_RUN"], "--library", model.library, str(tmp_path / "images.npy"),
                    "--top", "0", "-o", str(tmp_path / "c.npy")], check=True, capture_output=True)
    expected = np.load(tmp_path / "c.npy")
    logits = model(images)
    assert logits.shape == (2, 1000) and logits.dtype == np.float32
    assert np.array_equal(logits, expected)
    assert model.info["name"] == "vit_ti16" and model.info["precision"] == "f32"


@pytest.mark.parametrize("name", ["tiny_token_erf", "tiny_gap", "tiny_deit_distilled"])
def test_state_dict_matches_timm(name):
    config, checkpoint, images, reference = case(name)
    state_dict = vitc.read_safetensors(checkpoint)  # timm key names, numpy arrays
    model = vitc.compile(config, weights=state_dict)
    assert np.abs(model(images) - reference).max() <= 1e-4


def test_any_batch_gives_each_image_its_own_logits():
    config, checkpoint, images, reference = case("tiny_token_erf")
    model = vitc.compile(config, weights=checkpoint)
    batch = np.concatenate([images, images[::-1], images[:1]])  # 5 images
    logits = model(batch)
    assert logits.shape == (5, reference.shape[1])
    for i, source in enumerate([0, 1, 1, 0, 0]):
        assert np.abs(logits[i] - reference[source]).max() <= 1e-4
    assert np.abs(model(images[1:2])[0] - model(images)[1]).max() <= 1e-6


def test_torch_state_dict_and_array_likes():
    torch = pytest.importorskip("torch")
    config, checkpoint, images, reference = case("tiny_gap")
    state_dict = {k: torch.from_numpy(v.copy()) for k, v in vitc.read_safetensors(checkpoint).items()}
    model = vitc.compile(config, weights=state_dict)
    assert np.abs(model(torch.from_numpy(images)) - reference).max() <= 1e-4


def test_int8_precision_and_info():
    config, checkpoint, images, _ = case("tiny_token_erf")
    model = vitc.compile(config, weights=checkpoint, precision="int8")
    info = model.info
    assert info["precision"] == "int8"
    assert (info["channels"], info["height"], info["width"], info["outputs"]) == (3, 32, 32, 10)
    assert model(images).shape == (2, 10)


def test_compiling_twice_reuses_the_cache():
    config, checkpoint, _, _ = case("tiny_gap")
    first = vitc.compile(config, weights=vitc.read_safetensors(checkpoint))
    second = vitc.compile(config, weights=vitc.read_safetensors(checkpoint))
    assert first.library == second.library


def test_errors_carry_the_message(tmp_path):
    config, checkpoint, images, _ = case("tiny_token_erf")
    model = vitc.compile(config, weights=checkpoint)
    with pytest.raises(ValueError, match=r"images must be \[batch, 3, 32, 32\], got \[2, 3, 16, 32\]"):
        model(images[:, :, :16])
    with pytest.raises(ValueError, match="images must be"):
        model(images[0])
    with pytest.raises(TypeError, match="images must be float32, got float64"):
        model(images.astype(np.float64))
    with pytest.raises(vitc.VitcError, match="missing.safetensors"):
        vitc.compile(config, weights=tmp_path / "missing.safetensors")
    with pytest.raises(vitc.VitcError, match="unknown model 'vit-nope'"):
        vitc.compile("vit-nope")
    with pytest.raises(FileNotFoundError, match="no model library"):
        vitc.load(tmp_path / "libnothing.so")
    # Weights of another model: the runtime's message, as an exception.
    other = vitc.compile(case("tiny_gap")[0], weights=case("tiny_gap")[1])
    with pytest.raises(vitc.VitcError, match="do not belong to model"):
        vitc.load(model.library, weights=other.weights)


def test_attention_maps_and_rollout_match_timm():
    config, checkpoint, images, reference = case("tiny_deit_distilled")
    folder = os.path.join(REFERENCE, "tiny_deit_distilled")
    model = vitc.compile(config, weights=checkpoint, attention_maps="rollout")
    assert model.info["attention_maps"] == {"layers": 2, "heads": 2, "rows": 2, "tokens": 18,
                                            "prefix_tokens": 2, "grid": (4, 4),
                                            "rollout": True}
    logits, maps, rollout = model.attention(images)
    assert np.abs(logits - reference).max() <= 1e-4
    assert np.abs(maps - np.load(os.path.join(folder, "attention_maps.npy"))).max() <= 1e-5
    assert np.abs(rollout - np.load(os.path.join(folder, "rollout.npy"))).max() <= 1e-5
    class_only = vitc.compile(config, weights=checkpoint, attention_maps=True)
    logits, maps, rollout = class_only.attention(images)
    assert np.abs(maps - np.load(os.path.join(folder, "attention_maps.npy"))).max() <= 1e-5
    assert rollout is None
    plain = vitc.compile(config, weights=checkpoint)
    assert plain.info["attention_maps"] is None
    with pytest.raises(vitc.VitcError, match="has no attention maps"):
        plain.attention(images)
