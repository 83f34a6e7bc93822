"""vitc from Python: compile a Vision Transformer to a native library and run it.

    import numpy as np, vitc
    model = vitc.compile("vit-b16", weights="vit.npz")     # or a timm state_dict
    logits = model(np.zeros((1, 3, 224, 224), np.float32))

`compile` runs the `vitc` compiler ($VITC, else `vitc` on the PATH) and caches its output (the
library and its weights) under $VITC_CACHE, else ~/.cache/vitc, keyed by everything that went
into it; `load` opens a library vitc made. Running goes through libvitrt, compiled into this
package (vitc._vitrt). Errors from the compiler and the runtime raise `VitcError` with their
message.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile

import numpy as np

from . import _safetensors
from ._vitrt import ABI_VERSION
from ._vitrt import Error as VitcError
from ._vitrt import Model as _NativeModel

__all__ = ["compile", "load", "Model", "VitcError", "read_safetensors", "write_safetensors",
           "ABI_VERSION"]
__version__ = "0.7.0"

read_safetensors = _safetensors.read
write_safetensors = _safetensors.write


class Model:
    """A compiled model opened with its weights. `model(images)` runs it."""

    def __init__(self, library, weights=None, threads=0, private_weights=False):
        library = os.path.abspath(os.fspath(library))
        if not os.path.isfile(library):
            raise FileNotFoundError(f"no model library at {library}")
        ident = _identifier_of_library(library)
        if weights is None:
            weights = os.path.join(os.path.dirname(library), ident + ".safetensors")
        weights = os.fspath(weights)
        if not os.path.isfile(weights):
            raise FileNotFoundError(f"no weights file at {weights} (vitc writes it beside "
                                    f"the library)")
        self.library, self.weights = library, weights
        self._native = _NativeModel(library, ident + "_model", weights, threads,
                                    private_weights)

    @property
    def info(self):
        """Name, input shape, outputs, preprocessing, precision and target, as a dict."""
        return self._native.info

    def __call__(self, images):
        """Logits [batch, outputs] (float32) of images [batch, channels, height, width]:
        a float32 numpy array, or anything with __array__ or __dlpack__."""
        return self._native.run(self._images(images))

    def attention(self, images):
        """For a model compiled with attention_maps=True: (logits, maps, rollout), maps
        [batch, layers, heads, rows, tokens] the attention of the class token's row (DeiT: and
        the distillation token's; mean pooling: the mean of the pooled rows) per layer and
        head, rollout [batch, rows, tokens] its attention rollout (None unless compiled with
        attention_maps="rollout"; docs/WHAT_THE_MODEL_SEES.md).
        info["attention_maps"] gives the sizes and the patch grid."""
        return self._native.run_attention(self._images(images))

    def _images(self, images):
        if hasattr(images, "__dlpack__") and not isinstance(images, np.ndarray):
            images = np.from_dlpack(images)
        images = np.asarray(images)
        if images.dtype != np.float32:
            raise TypeError(f"images must be float32, got {images.dtype} "
                            f"(convert with .astype(numpy.float32))")
        if images.ndim != 4:
            info = self.info
            raise ValueError(f"images must be [batch, {info['channels']}, {info['height']}, "
                             f"{info['width']}], got shape {list(images.shape)}")
        return np.ascontiguousarray(images)

    def __repr__(self):
        info = self.info
        return (f"vitc.Model({info['name']!r}, {info['precision']}, {info['target']}, "
                f"input [{info['channels']}, {info['height']}, {info['width']}], "
                f"{info['outputs']} outputs)")


def load(library, weights=None, threads=0, private_weights=False):
    """Opens a model library compiled by vitc (libNAME.so) with its weights (default:
    NAME.safetensors beside it)."""
    return Model(library, weights, threads, private_weights)


def compile(model, *, weights=None, random_weights=None, target="host", precision="f32",
            schedule_file=None, name=None, output_dir=None, threads=0, attention_maps=False,
            vitc_args=()):
    """Compiles a ViT with vitc and opens it.

    model: a zoo name ("vit-b16", "deit-s16", ...), a config.json path, or a config dict
        (the keys vitc's config files take, e.g. timm's pretrained_cfg-style fields).
    weights: a checkpoint path (.safetensors, .npz) or a state_dict ({name: array}, numpy
        arrays or torch tensors, timm/official/Hugging Face key names as vitc maps them).
    random_weights: a seed for vitc's random weights instead (neither: random with seed 0).
    target, precision, schedule_file: as vitc's --target, --precision, --schedule-file.
    attention_maps: True (or "class") or "rollout", as vitc's --attention-maps[=rollout]
        (then Model.attention(images) returns them).
    output_dir: where the library and weights go (default: the cache, reused when the same
        inputs were compiled before).
    """
    exe = _find_vitc()
    work = tempfile.mkdtemp(prefix="vitc-")
    try:
        args = []
        if isinstance(model, dict):
            config = os.path.join(work, "config.json")
            with open(config, "w") as f:
                json.dump(model, f)
            args += ["--config", config]
            default_name = model.get("name") or model.get("architecture") or "model"
        elif os.path.exists(os.fspath(model)) or str(model).endswith(".json"):
            args += ["--config", os.path.abspath(os.fspath(model))]
            default_name = os.path.splitext(os.path.basename(os.fspath(model)))[0]
        else:
            args += ["--model", str(model)]
            default_name = str(model)
        if weights is not None and random_weights is not None:
            raise ValueError("give at most one of weights and random_weights")
        if weights is None:
            args += ["--random-weights", str(random_weights or 0)]
        elif isinstance(weights, (str, os.PathLike)):
            args += ["--weights", os.path.abspath(os.fspath(weights))]
        else:
            path = os.path.join(work, "weights.safetensors")
            _safetensors.write(path, {k: _as_array(v) for k, v in weights.items()})
            args += ["--weights", path]
        args += ["--target", target, "--precision", precision]
        if schedule_file is not None:
            args += ["--schedule-file", os.path.abspath(os.fspath(schedule_file))]
        if attention_maps:
            args += ["--attention-maps=rollout" if attention_maps == "rollout"
                     else "--attention-maps"]
        args += list(vitc_args)
        ident = _identifier(name or default_name)
        cached = output_dir is None
        if cached:
            output_dir = os.path.join(_cache_dir(), f"{ident}-{_key(exe, args, work)}")
        output_dir = os.path.abspath(os.fspath(output_dir))
        library = os.path.join(output_dir, f"lib{ident}.so")
        weights_file = os.path.join(output_dir, f"{ident}.safetensors")
        # A cache entry is reused; a chosen folder is always compiled into.
        if not (cached and os.path.isfile(library) and os.path.isfile(weights_file)):
            # Compiled into a folder of its own, then moved into place, so
            # that two processes filling one cache entry never mix files.
            os.makedirs(os.path.dirname(output_dir), exist_ok=True)
            staging = tempfile.mkdtemp(prefix=f".{ident}-", dir=os.path.dirname(output_dir))
            try:
                run = subprocess.run([exe, *args, "--name", ident, "--emit=lib", "-o",
                                      os.path.join(staging, f"lib{ident}.so")],
                                     capture_output=True, text=True)
                if run.returncode != 0:
                    errors = [line for line in run.stderr.splitlines() if line.strip()]
                    raise VitcError("vitc failed: "
                                    + ("\n".join(errors) or f"exit {run.returncode}"))
                os.makedirs(output_dir, exist_ok=True)
                for produced in os.listdir(staging):
                    os.replace(os.path.join(staging, produced),
                               os.path.join(output_dir, produced))
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return Model(library, weights_file, threads)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _find_vitc():
    exe = os.environ.get("VITC") or shutil.which("vitc")
    if not exe or not os.access(exe, os.X_OK):
        raise VitcError("the vitc compiler was not found: set $VITC to its path, or put it on "
                        "the PATH (cmake --install, or the vitc .deb)")
    return exe


def _as_array(value):
    if hasattr(value, "detach"):  # a torch tensor, of any dtype and device
        value = value.detach().float().cpu().numpy()
    return np.asarray(value, dtype=np.float32)


def _identifier(name):
    """As vitc names a model's symbols (support/ModelName.cpp): every byte that
    is not an ASCII letter or digit becomes '_'."""
    ident = re.sub(rb"[^A-Za-z0-9]", b"_", str(name).encode()).decode() or "model"
    return "m_" + ident if ident[0].isdigit() else ident


def _identifier_of_library(library):
    stem = os.path.splitext(os.path.basename(library))[0]  # the last extension only
    return _identifier(stem[3:] if stem.startswith("lib") else stem)


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return line
    except OSError:
        pass
    return ""


def _cache_dir():
    root = os.environ.get("VITC_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "vitc")
    return os.path.join(root, "models")


def _key(exe, args, work):
    """A digest of the compiler (path, size, time), its arguments and the files they name."""
    digest = hashlib.sha256()
    info = os.stat(exe)
    digest.update(f"{os.path.realpath(exe)}:{info.st_size}:{info.st_mtime_ns}".encode())
    # `host` means this CPU: a cache shared between machines keeps one entry per CPU.
    if any("host" in arg for arg in args):
        digest.update(_cpu_flags().encode())
    for arg in args:
        generated = arg.startswith(work)  # a file written here: only its contents count
        digest.update((b"<generated>" if generated else arg.encode()) + b"\0")
        if os.path.isfile(arg):
            if generated:
                with open(arg, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        digest.update(block)
            else:  # the user's file: its identity
                st = os.stat(arg)
                digest.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]
