"""Writes an .npz whose one member inflates far beyond what its .npy header
describes: a (2, 2) float32 array followed by 64 MiB of zeros (a few tens of
KiB compressed).

Usage: npz-bomb.py OUT.npz
"""
import struct
import sys
import zipfile

header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }"
header += " " * (118 - len(header)) + "\n"
npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
npy += b"\x00" * 16 + b"\x00" * (64 << 20)
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as archive:
    archive.writestr("cls.npy", npy)
