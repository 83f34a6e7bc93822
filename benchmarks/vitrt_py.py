"""The vitc runtime (libvitrt.so) from Python through ctypes, for the GPU check (gpu_check.py).

Mirrors runtime/include/vitrt.h and the leading fields of vitrt_model.h that the weight packer
reads; the product itself never depends on Python. The GPU machine gets libvitrt.so and the
model libraries carried over, not a build of the vitc package (python/), so this mirror stays
for that one script; everything else uses the package.
"""
import ctypes
import os

import numpy as np


ABI_VERSION = 5  # VITRT_ABI_VERSION, whose structs are mirrored below


class ParamDesc(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("rank", ctypes.c_int32), ("dtype", ctypes.c_int32),
                ("shape", ctypes.c_int64 * 4), ("offset", ctypes.c_uint64)]


class ModelDesc(ctypes.Structure):
    # Only the leading fields the weight packer reads; the layout follows vitrt_model.h.
    _fields_ = [("abi_version", ctypes.c_int32), ("name", ctypes.c_char_p),
                ("target", ctypes.c_char_p), ("cpu_features", ctypes.c_char_p),
                ("weights_header", ctypes.POINTER(ctypes.c_char)),
                ("weights_header_size", ctypes.c_uint64), ("weights_data_size", ctypes.c_uint64),
                ("fingerprint", ctypes.c_char_p), ("channels", ctypes.c_int32),
                ("height", ctypes.c_int32), ("width", ctypes.c_int32), ("outputs", ctypes.c_int32),
                ("mean", ctypes.c_float * 3), ("std", ctypes.c_float * 3),
                ("crop_fraction", ctypes.c_float), ("num_params", ctypes.c_int32),
                ("params", ctypes.POINTER(ParamDesc))]


class Options(ctypes.Structure):
    _fields_ = [("num_threads", ctypes.c_int), ("device", ctypes.c_char_p),
                ("private_weights", ctypes.c_int)]


class Runtime:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.vitrt_last_error.restype = ctypes.c_char_p
        self.lib.vitrt_open.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                        ctypes.POINTER(Options), ctypes.POINTER(ctypes.c_void_p)]
        self.lib.vitrt_context_create.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
        self.lib.vitrt_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                       ctypes.c_int64, ctypes.c_void_p, ctypes.c_size_t]
        self.lib.vitrt_context_destroy.argtypes = [ctypes.c_void_p]
        self.lib.vitrt_close.argtypes = [ctypes.c_void_p]

    def check(self, status, what):
        if status != 0:
            raise RuntimeError(f"{what}: {self.lib.vitrt_last_error().decode()}")


class Model:
    """A compiled model library opened with its weights."""

    def __init__(self, runtime, library, weights, device=-1, threads=0):
        # device: the GPU index for vitrt_options.device (-1: the default); threads: worker
        # threads (0: one per core).
        self.runtime = runtime
        self.lib = ctypes.CDLL(library)
        symbol = os.path.basename(library)[3:-3] + "_model"
        describe = getattr(self.lib, symbol)
        describe.restype = ctypes.POINTER(ModelDesc)
        self.desc_ptr = describe()
        self.desc = self.desc_ptr.contents
        if self.desc.abi_version != ABI_VERSION:
            raise RuntimeError(f"{library}: built for runtime ABI {self.desc.abi_version}; "
                               f"this mirror of vitrt_model.h is ABI {ABI_VERSION}")
        self.model, self.context = ctypes.c_void_p(), ctypes.c_void_p()
        if weights is not None:
            options = Options(threads, str(device).encode() if device >= 0 else None)
            runtime.check(runtime.lib.vitrt_open(ctypes.cast(self.desc_ptr, ctypes.c_void_p),
                                                 weights.encode(), ctypes.byref(options),
                                                 ctypes.byref(self.model)), "vitrt_open")
            runtime.check(runtime.lib.vitrt_context_create(self.model, ctypes.byref(self.context)),
                          "vitrt_context_create")

    def run(self, images):
        images = np.ascontiguousarray(images, dtype=np.float32)
        out = np.empty((images.shape[0], self.desc.outputs), np.float32)
        self.runtime.check(self.runtime.lib.vitrt_run(
            self.context, images.ctypes.data, images.size, images.shape[0], out.ctypes.data,
            out.size), "vitrt_run")
        return out

    def close(self):
        self.runtime.lib.vitrt_context_destroy(self.context)
        self.runtime.lib.vitrt_close(self.model)

    def pack_weights(self, state_dict, path):
        """Writes `state_dict` (timm names, PyTorch layouts) in this library's weight layout:
        its exact safetensors header, then each tensor at its offset; GEMM weights go into the
        column panels the kernels read ([M / block, K, block])."""
        d = self.desc
        data = bytearray(d.weights_data_size)
        for i in range(d.num_params):
            p = d.params[i]
            name = p.name.decode()
            stored = tuple(p.shape[k] for k in range(p.rank))
            tensor = state_dict[name].detach().float().cpu().numpy()
            if tensor.shape != stored:
                if p.rank != 3 or stored[0] * stored[2] != tensor.shape[0]:
                    raise ValueError(f"{name}: cannot map {tensor.shape} to stored {stored}")
                m, k, block = tensor.shape[0], stored[1], stored[2]
                tensor = tensor.reshape(m // block, block, k).transpose(0, 2, 1)
            if p.dtype != 0:  # VITRT_DTYPE_F32; the others come with --precision
                raise ValueError(f"{name}: this packer writes f32 parameters only")
            raw = np.ascontiguousarray(tensor, dtype="<f4").tobytes()
            data[p.offset:p.offset + len(raw)] = raw
        with open(path, "wb") as f:
            f.write(ctypes.string_at(d.weights_header, d.weights_header_size))
            f.write(data)
