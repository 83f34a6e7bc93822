"""Writes a PNG and a JPEG of a few bytes that declare huge dimensions.

Usage: huge-images.py PHOTO.jpg OUT_DIR
OUT_DIR/huge.png declares 30000x30000 pixels; OUT_DIR/huge.jpg is PHOTO.jpg
with its frame header (SOF0/SOF2) changed to 65500x65500.
"""
import os
import struct
import sys
import zlib

photo, out = sys.argv[1:3]


def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


png = (b"\x89PNG\r\n\x1a\n" +
       chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)) +
       chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b""))
open(os.path.join(out, "huge.png"), "wb").write(png)

jpeg = bytearray(open(photo, "rb").read())
for marker in (b"\xff\xc0", b"\xff\xc2"):
    at = jpeg.find(marker)
    if at >= 0:
        # marker, length (2), precision (1), then height and width (2 each)
        struct.pack_into(">HH", jpeg, at + 5, 65500, 65500)
        break
else:
    sys.exit("no SOF0/SOF2 frame header in " + photo)
open(os.path.join(out, "huge.jpg"), "wb").write(jpeg)
