"""safetensors files with numpy alone: the checkpoint format vitc reads and writes."""
import json
import struct

import numpy as np

_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I8": "i1", "U8": "u1", "I32": "<i4",
           "I64": "<i8"}


def write(path, tensors, metadata=None):
    """Writes {name: array} as float32 tensors (other float and integer types are converted)."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(data.shape),
                        "data_offsets": [offset, offset + data.nbytes]}
        blobs.append(data)
        offset += data.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(text)))
        out.write(text)
        for blob in blobs:
            out.write(blob.tobytes())


def read(path):
    """{name: numpy array} of a safetensors file (BF16 tensors become float32)."""
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = data[begin:end]
        if entry["dtype"] == "BF16":
            bits = np.frombuffer(raw, "<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        elif entry["dtype"] in _DTYPES:
            array = np.frombuffer(raw, _DTYPES[entry["dtype"]])
        else:
            raise ValueError(f"{path}: tensor '{name}' has dtype {entry['dtype']}, "
                             f"which this reader does not know")
        tensors[name] = array.reshape(entry["shape"])
    return tensors
