"""Writes a safetensors file the way Hugging Face's library often does:
a compact header whose length is odd, so every tensor after the first
byte is misaligned, and tensors in an order of its own (not by element
size). Every numpy type safetensors has, bfloat16 and the 8-bit floats as
raw bits, 0-d and empty tensors, and metadata. Used by
bundle_numpy_test.go.

usage: write_safetensors.py FILE SEED
prints one JSON object: for every tensor its dtype, shape and bytes in hex.
"""
import json
import sys

import numpy as np

TYPES = [  # safetensors dtype, numpy dtype of its bytes
    ("BOOL", "|b1"), ("U8", "|u1"), ("I8", "|i1"), ("U16", "<u2"), ("I16", "<i2"),
    ("U32", "<u4"), ("I32", "<i4"), ("U64", "<u8"), ("I64", "<i8"),
    ("F16", "<f2"), ("F32", "<f4"), ("F64", "<f8"), ("C64", "<c8"),
    ("BF16", "<u2"), ("F8_E4M3", "|u1"), ("F8_E5M2", "|u1"),
]
SHAPES = {"": (3, 5), ".scalar": (), ".empty": (0, 4), ".cube": (2, 1, 3)}


def main(path, seed):
    rng = np.random.default_rng(seed)
    tensors = [("first", "U8", np.array(7, dtype="|u1"))]  # one byte: the rest is misaligned
    for st, descr in TYPES:
        dt = np.dtype(descr)
        for suffix, shape in SHAPES.items():
            count = int(np.prod(shape, dtype=np.int64))
            if st == "BOOL":
                a = rng.integers(0, 2, size=count).astype(dt)
            else:  # any bits: NaNs, infinities and subnormals included
                a = np.frombuffer(rng.bytes(count * dt.itemsize), dtype=dt)
            tensors.append((st.lower() + suffix, st, a.reshape(shape)))
    header = {"__metadata__": {"format": "pt", "writer": "numpy \u00e9"}}
    blobs, off = [], 0
    for name, st, a in tensors:
        raw = a.tobytes()
        header[name] = {"dtype": st, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    if len(h) % 2 == 0:
        h += b" "
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for raw in blobs:
            f.write(raw)
    json.dump({name: {"dtype": st, "shape": list(a.shape), "hex": a.tobytes().hex()}
               for name, st, a in tensors}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
