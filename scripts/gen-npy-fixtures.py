#!/usr/bin/env python3
"""Writes test/fixtures/npy/*.npy with numpy itself, and expected.json beside them: for every file its
descr, shape and values (flattened in C order), so test/npy.test.ts can hold hdglue's reader to what
numpy wrote and its writer to numpy's exact bytes. Run: python3 scripts/gen-npy-fixtures.py (numpy
needed). The files are committed, so the tests do not need numpy.

JSON cannot hold NaN, infinities, -0.0 or 64-bit integers exactly, so those values are written as
strings: "nan", "inf", "-inf", "-0.0", and decimal strings for every int64/uint64 value."""
import json
import math
import os

import numpy as np
from numpy.lib import format as npformat

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "npy")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(20261126)


def float_json(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0 and math.copysign(1.0, x) < 0:
        return "-0.0"
    return x


def values_json(a):
    flat = np.ascontiguousarray(a).reshape(-1)
    kind = a.dtype.kind
    if kind == "f":
        return [float_json(x) for x in flat]
    if kind in "iu" and a.dtype.itemsize == 8:
        return [str(int(x)) for x in flat]
    if kind in "iu":
        return [int(x) for x in flat]
    if kind == "b":
        return [bool(x) for x in flat]
    if kind == "U":
        return [str(x) for x in flat]
    if kind == "S":
        return [bytes(x).decode("latin1") for x in flat]
    raise ValueError(kind)


expected = {}


def save(name, a, version=None, readable=True):
    path = os.path.join(OUT, name)
    if version is None:
        np.save(path, a, allow_pickle=a.dtype.hasobject)
    else:
        with open(path, "wb") as f:
            npformat.write_array(f, a, version=version)
    if readable:
        expected[name] = {"descr": a.dtype.str, "shape": list(a.shape), "values": values_json(a)}


# Readable by hdglue, values checked exactly.
save("f32_2d.npy", rng.standard_normal((3, 4)).astype(np.float32))
save("f64_2d.npy", np.array([[1.5, -0.0, np.inf], [-np.inf, np.nan, 5e-324]], dtype=np.float64))
save("f32_3d.npy", (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 11.5) / 8)
save("i64_labels.npy", np.array([0, 1, 2, -1, 2**53 + 1, -(2**63), 2**63 - 1], dtype=np.int64))
save("u64.npy", np.array([0, 2**64 - 1, 2**53 + 1], dtype=np.uint64))
save("u_strings.npy", np.array(["cat", "dog", "h\u00e9llo", "\U0001d11e clef", "", "a\x00b"]))
save("s_bytes.npy", np.array([b"ab", b"\xff\x00c", b"", b"\x80"]))
save("bool.npy", np.array([True, False, True, True, False]))
save("be_f8.npy", np.array([[1.25, -2.5e-300], [3e300, -0.0]], dtype=">f8"))
save("be_i4.npy", np.array([1, -2, 2**31 - 1, -(2**31)], dtype=">i4"))
save("be_u2.npy", np.array([0, 1, 65535, 256], dtype=">u2"))
save("be_u4_strings.npy", np.array(["x", "\u00fc\u00df", "\U0001f600"], dtype=">U2"))
save("i1.npy", np.array([-128, 127, 0, -1], dtype=np.int8))
save("u1.npy", np.array([[0, 255], [128, 7]], dtype=np.uint8))
save("v2_f32.npy", np.array([1.0, 2.5, -3.75], dtype=np.float32), version=(2, 0))
save("v3_i2.npy", np.array([[-32768, 32767], [7, -7]], dtype=np.int16), version=(3, 0))
save("scalar.npy", np.array(3.25))
save("empty_2x0.npy", np.zeros((2, 0), dtype=np.float32))

# Not readable by hdglue: each must be refused with a clear message.
save("f64_fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)), readable=False)
save("object.npy", np.array([1, "a", None], dtype=object), readable=False)
save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]), readable=False)
save("f16.npy", np.array([1.0, 2.0], dtype=np.float16), readable=False)
save("c16.npy", np.array([1 + 2j], dtype=np.complex128), readable=False)

# One file per line keeps the sidecar readable in a diff.
with open(os.path.join(OUT, "expected.json"), "w") as f:
    f.write("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(expected[k])}" for k in sorted(expected)) + "\n}\n")
print(f"wrote {len(os.listdir(OUT))} files to {os.path.normpath(OUT)}")
