"""Reads every tensor of a safetensors file the way docs/formats.md
("Bundles") documents: mmap the file, parse the JSON header, and
np.frombuffer each tensor at 8 + N + begin. Used by bundle_numpy_test.go.

usage: read_bundle.py FILE
prints one JSON object: the header length, the metadata, and for every
tensor its dtype, shape, whether numpy's view is aligned, its bytes in hex
and its values (floats as float.hex(), complex as [re, im], bfloat16 and
the 8-bit floats as their raw bits, which numpy has no type for).
"""
import json
import mmap
import struct
import sys

import numpy as np

DESCR = {
    "BOOL": "|b1", "U8": "|u1", "I8": "|i1", "U16": "<u2", "I16": "<i2",
    "U32": "<u4", "I32": "<i4", "U64": "<u8", "I64": "<i8",
    "F16": "<f2", "F32": "<f4", "F64": "<f8", "C64": "<c8",
    # No numpy type: the raw bits.
    "BF16": "<u2", "F8_E4M3": "|u1", "F8_E5M2": "|u1",
}


def value(x):
    if isinstance(x, float):
        return x.hex()
    if isinstance(x, complex):
        return [x.real.hex(), x.imag.hex()]
    return x  # bool or int


def main(path):
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    (n,) = struct.unpack_from("<Q", mm, 0)
    header = json.loads(bytes(mm[8:8 + n]).decode("utf-8"))
    meta = header.pop("__metadata__", {})
    out = {"header_len": n, "file_len": len(mm), "metadata": meta, "tensors": {}}
    for name, t in header.items():
        dt = np.dtype(DESCR[t["dtype"]])
        b, e = t["data_offsets"]
        a = np.frombuffer(mm, dtype=dt, count=(e - b) // dt.itemsize, offset=8 + n + b)
        a = a.reshape(t["shape"])
        assert a.shape == tuple(t["shape"]) and a.nbytes == e - b, (name, a.shape, t)
        out["tensors"][name] = {
            "dtype": t["dtype"],
            "shape": list(a.shape),
            "aligned": bool(a.flags.aligned),
            "hex": a.tobytes().hex(),
            "values": [value(x) for x in a.ravel().tolist()],
        }
        del a
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
