"""Writes a float32 .npy batch of shape (0, 3, 32, 32): no images.

Usage: empty-batch.py OUT.npy
"""
import struct
import sys

header = "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3, 32, 32), }"
header += " " * (118 - len(header)) + "\n"
with open(sys.argv[1], "wb") as out:
    out.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
