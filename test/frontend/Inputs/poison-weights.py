"""Copies a safetensors file with one f32 element of one tensor set to a value.

Usage: poison-weights.py IN OUT TENSOR INDEX VALUE  (VALUE: nan, inf, -inf or a number)
"""
import json
import struct
import sys

src, dst, name, index, value = sys.argv[1:6]
data = bytearray(open(src, "rb").read())
header_size = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + header_size])
begin = header[name]["data_offsets"][0]
struct.pack_into("<f", data, 8 + header_size + begin + 4 * int(index), float(value))
open(dst, "wb").write(data)
