"""Decodes vit-run's --attention-image PNG and checks it against what drew it.

Usage: check-attention-png.py IMAGE.png INPUT.npy ROLLOUT.npy MEAN STD

Per image a row of three panels (input, rollout, last layer), each the input
upsampled to at least 224 pixels under a 16-pixel label, 8 pixels apart. The
input panel must be the input un-normalised (x * std + mean, in [0, 255]);
the rollout panel must be brightest (viridis' yellow end) at the patch with
the largest rollout, and darkest (purple) at the smallest.
"""
import struct
import sys
import zlib

import numpy as np


def decode_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2), "expected 8-bit RGB"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = 3 * width
    rows, prev = [], bytearray(stride)
    for y in range(height):
        filt, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - 3] if x >= 3 else 0
            b, c = prev[x], prev[x - 3] if x >= 3 else 0
            if filt == 1:
                line[x] = (line[x] + a) & 255
            elif filt == 2:
                line[x] = (line[x] + b) & 255
            elif filt == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return np.frombuffer(b"".join(rows), np.uint8).reshape(height, width, 3)


image = decode_png(sys.argv[1])
inputs, rollout = np.load(sys.argv[2]), np.load(sys.argv[3])
mean, std = float(sys.argv[4]), float(sys.argv[5])
batch, _, h, w = inputs.shape
scale = max(1, -(-224 // h))
ph, pw = h * scale, w * scale
assert image.shape == (8 + batch * (16 + ph + 8), 8 + 3 * (pw + 8), 3), image.shape
tokens = rollout.shape[-1]
grid = int(round((tokens - (tokens - (h // 8) * (w // 8))) ** 0.5))
prefix = tokens - grid * grid
for b in range(batch):
    top = 8 + b * (16 + ph + 8) + 16
    panel = image[top:top + ph, 8:8 + pw].astype(int)
    expected = np.clip(inputs[b] * std + mean, 0, 1) * 255
    expected = np.round(expected.transpose(1, 2, 0)).repeat(scale, 0).repeat(scale, 1)
    assert np.abs(panel - expected).max() <= 1, f"image {b}: input panel differs"
    heat = image[top:top + ph, 8 + pw + 8:8 + 2 * pw + 8].astype(int)
    cells = rollout[b, 0, prefix:].reshape(grid, grid)
    centre = lambda i: heat[(i // grid) * ph // grid + ph // (2 * grid), (i % grid) * pw // grid + pw // (2 * grid)]
    hi, lo = centre(int(cells.argmax())), centre(int(cells.argmin()))
    # Viridis: yellow (high red and green, little blue) to purple (blue over green).
    assert hi[0] + hi[1] > lo[0] + lo[1] and lo[2] > lo[1] - 60, f"image {b}: rollout colours {hi} {lo}"
print(f"PASS: {image.shape[1]}x{image.shape[0]} PNG, {batch} images")
