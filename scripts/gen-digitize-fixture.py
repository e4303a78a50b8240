#!/usr/bin/env python3
"""Writes test/fixtures/digitize.json: the tutorial's binning, computed by numpy itself, on values
chosen to sit on and next to every bin edge, so the tests can hold hdglue's binning (native and
TypeScript) to numpy's exact answers. Run: python3 scripts/gen-digitize-fixture.py (numpy needed)."""
import json
import os

import numpy as np

CASES = [(-1.0, 1.0, 100), (0.0, 1.0, 16), (-3.7, 12.9, 37), (0.1, 0.7, 7), (-1.0, 1.0, 1),
         (5.0, 5.0, 10), (-0.3, 0.30000000000000004, 3), (1e-300, 2e-300, 3), (-1e6, 3e6, 1000),
         (-1.0, 1.0, 4097), (0.0, 1.0, 65536), (-3.4e38, 3.4e38, 255)]

rng = np.random.default_rng(20261125)
out = []
for lo, hi, bins in CASES:
    edges = np.linspace(lo, hi, bins + 1)
    # Every edge of small codebooks; a sample (ends included) of the large ones.
    probe = edges if bins <= 2000 else edges[np.unique(np.concatenate([[0, 1, bins - 1, bins], rng.integers(0, bins + 1, 1500)]))]
    values = list(probe)
    values += list(np.nextafter(probe, -np.inf)) + list(np.nextafter(probe, np.inf))
    values += list(rng.uniform(lo - (hi - lo) * 0.1 - 1, hi + (hi - lo) * 0.1 + 1, 200))
    values += [float(np.float32(v)) for v in rng.uniform(lo, hi, 50)]
    values += [lo - 1e9, hi + 1e9, -0.0, 0.0]
    v = np.array(values, dtype=np.float64)
    b = np.clip(np.digitize(v, edges) - 1, 0, bins - 1)
    out.append({"lo": lo, "hi": hi, "bins": bins, "values": [float(x) for x in v], "expected": [int(x) for x in b]})

path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "digitize.json")
with open(path, "w") as f:
    json.dump({"numpy": np.__version__, "cases": out}, f)
print(f"wrote {sum(len(c['values']) for c in out)} values from numpy {np.__version__} to {path}")
