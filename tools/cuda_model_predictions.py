#!/usr/bin/env python3
"""Predictions of the spec's Python model of PyTorch's CUDA kernels, for torch-rng's tests.

usage: ~/torch-venv/bin/python tools/cuda_model_predictions.py [MODEL_DIR]
       (writes golden/cuda_model/predictions.json; MODEL_DIR defaults to
        ../shared/reference/models/cuda, i.e. the spec's torch_cuda_rng.py and philox.py)

The model (shared/reference/cuda-philox.md, `torch_cuda_rng.py`) is an independent
implementation of the same specification: numpy for Philox and the IEEE steps, its own
float32 FMA, libdevice `logf` transcribed, MUFU sine/cosine as `f32(sin(2π r))` in double, and
mpmath for the float64 `randn`. These are *predictions*, not GPU outputs: agreement shows that
torch-rng implements the spec as its authors modelled it, nothing more. tests/cuda_model.rs
replays every case; exact agreement is required for the integer/uniform/bernoulli/dropout/
randperm paths and for offsets, while the modelled float normals are counted (the two models of
the hardware sine and of libdevice's double log may round differently in rare cases).

Each case records: the op and its arguments, the device geometry (SM count, max threads per
SM), the release, the generator offset after the call, and the output as dtype, shape, sha256 of
the little-endian bytes, and every element's bits as hex when numel <= 64 (<= 1024 for randn, whose
modelled values are counted one by one), else the first and last 16 and every 499th.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "golden" / "cuda_model" / "predictions.json"
MODEL_DIR = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "reference" / "models" / "cuda"
if not (MODEL_DIR / "torch_cuda_rng.py").exists():
    MODEL_DIR = Path("/work/shared/reference/models/cuda")
sys.path.insert(0, str(MODEL_DIR))
import torch_cuda_rng as E  # noqa: E402

PROFILES = {"h200": (132, 2048), "t4": (40, 1024)}
RELEASES = {"2.0.1": (2, 0), "2.3.1": (2, 3), "2.5.1": (2, 5), "2.6.0": (2, 6), "2.15.0": (2, 15)}
NP = {"float32": np.float32, "float64": np.float64, "float16": np.float16, "int64": np.int64,
      "int32": np.int32, "uint8": np.uint8, "bool": np.uint8}


def record(values, dtype, full=False):
    a = np.asarray(values)
    if dtype == "bfloat16":
        a = (np.asarray(values, np.float32).view(np.uint32) >> 16).astype(np.uint16)
    elif dtype == "bool":
        a = np.asarray(values).astype(np.uint8)
    else:
        a = a.astype(NP[dtype])
    raw = a.tobytes()
    width = a.dtype.itemsize
    hexes = [raw[i * width:(i + 1) * width][::-1].hex() for i in range(a.size)]
    rec = {"dtype": dtype, "shape": [int(a.size)], "sha256": hashlib.sha256(raw).hexdigest()}
    if a.size <= 64 or (full and a.size <= 1024):
        rec["values"] = hexes
    else:
        idx = sorted(set(range(16)) | set(range(a.size - 16, a.size)) | set(range(0, a.size, 499)))
        rec["samples"] = [[i, hexes[i]] for i in idx]
    return rec


def case(cases, name, op, args, gpu, release, seed, fn, dtype):
    sm, tpsm = PROFILES[gpu]
    g = E.CudaGenerator(seed, sm, tpsm, RELEASES[release])
    values = fn(g)
    cases.append({"name": name, "op": op, "args": args, "gpu": gpu, "sm_count": sm,
                  "max_threads_per_sm": tpsm, "torch_version": release, "seed": seed,
                  "offset_after": int(g.offset), "output": record(values, dtype, op == "randn")})


def main():
    cases = []
    t4 = 40 * 1024
    sizes = {"t4": (8, 1000, t4, t4 + 1, 4 * t4 + 5), "h200": (8, 1000, 270337)}
    for gpu, ns in sizes.items():
        for seed in (0, 42, 2 ** 64 - 1):
            for n in ns:
                for dt in ("float32", "float16", "bfloat16", "float64"):
                    for rel in ("2.15.0", "2.0.1"):
                        if rel == "2.0.1" and dt == "float32":
                            continue
                        case(cases, f"rand_{dt}_{n}_s{seed}_{gpu}_{rel}", "rand",
                             {"size": [n], "dtype": dt}, gpu, rel, seed,
                             lambda g, n=n, dt=dt: E.rand(g, n, dt), dt)
                if n <= 1000 or gpu == "t4":
                    for dt in ("float32", "float16", "bfloat16"):
                        case(cases, f"randn_{dt}_{n}_s{seed}_{gpu}", "randn",
                             {"size": [n], "dtype": dt}, gpu, "2.15.0", seed,
                             lambda g, n=n, dt=dt: E.randn(g, n, dt), dt)
                if n <= 1000:
                    case(cases, f"randn_float64_{n}_s{seed}_{gpu}", "randn",
                         {"size": [n], "dtype": "float64"}, gpu, "2.15.0", seed,
                         lambda g, n=n: E.randn(g, n, "float64"), "float64")
                for lo, hi in ((0, 10), (-5, 2 ** 30), (0, 3_000_000_000), (0, 2 ** 40)):
                    for rel in ("2.15.0", "2.6.0", "2.0.1"):
                        case(cases, f"randint_{lo}_{hi}_{n}_s{seed}_{gpu}_{rel}", "randint",
                             {"low": lo, "high": hi, "size": [n], "dtype": "int64"}, gpu, rel,
                             seed, lambda g, n=n, lo=lo, hi=hi: np.array(
                                 E.random_from_to_(g, n, lo, hi, "int64")), "int64")
                case(cases, f"randint_int32_m100_100_{n}_s{seed}_{gpu}", "randint",
                     {"low": -100, "high": 100, "size": [n], "dtype": "int32"}, gpu, "2.15.0",
                     seed, lambda g, n=n: np.array(E.random_from_to_(g, n, -100, 100, "int32")),
                     "int32")
                case(cases, f"uniform_m3_5_{n}_s{seed}_{gpu}", "uniform_",
                     {"size": [n], "from": -3.0, "to": 5.0}, gpu, "2.15.0", seed,
                     lambda g, n=n: E.uniform_(g, n, -3.0, 5.0), "float32")
                if n <= 1000 or gpu == "t4":
                    case(cases, f"normal_2_0p5_{n}_s{seed}_{gpu}", "normal_",
                         {"size": [n], "mean": 2.0, "std": 0.5}, gpu, "2.15.0", seed,
                         lambda g, n=n: E.normal_(g, n, 2.0, 0.5), "float32")
                for dt in ("float32", "float64"):
                    case(cases, f"bernoulli_0p3_{dt}_{n}_s{seed}_{gpu}", "bernoulli_",
                         {"size": [n], "dtype": dt, "p": 0.3}, gpu, "2.15.0", seed,
                         lambda g, n=n, dt=dt: E.bernoulli_scalar_(g, n, 0.3, dt).astype(
                             NP[dt]), dt)
                case(cases, f"bernoulli_tensor_0p3_{n}_s{seed}_{gpu}", "bernoulli",
                     {"size": [n], "p": 0.3}, gpu, "2.15.0", seed,
                     lambda g, n=n: E.bernoulli_tensor_(g, np.full(n, 0.3, np.float32)).astype(
                         np.float32), "float32")
                for dt in ("float32", "float16", "float64"):
                    for extra in (0, 1, 2):
                        m = n + extra if n > 8 else n
                        for rel in ("2.15.0", "2.5.1"):
                            x = np.full(m, -1.5, dtype=NP[dt])
                            case(cases, f"dropout_0p1_{dt}_{m}_s{seed}_{gpu}_{rel}",
                                 "native_dropout", {"size": [m], "dtype": dt, "p": 0.1,
                                                    "fill": -1.5},
                                 gpu, rel, seed,
                                 lambda g, x=x: E.native_dropout(g, x, 0.1)[0], dt)
        for seed in (0, 42):
            for n in (10, 1000, 40000):
                for rel in ("2.15.0", "2.6.0"):
                    case(cases, f"randperm_{n}_s{seed}_{gpu}_{rel}", "randperm",
                         {"n": n}, gpu, rel, seed,
                         lambda g, n=n: np.array(E.randperm(g, n)), "int64")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format": "torch-rng-cuda-model/1",
           "source": "shared/reference/models/cuda/torch_cuda_rng.py (the spec's model)",
           "cases": cases}
    # One case per line: compact, and a regeneration is still a line-by-line diff.
    head = json.dumps({k: v for k, v in doc.items() if k != "cases"})[:-1]
    body = ",\n".join(json.dumps(c, separators=(",", ":")) for c in cases)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(f'{head}, "cases": [\n{body}\n]}}\n')
    print(f"wrote {OUT.relative_to(ROOT)}: {len(cases)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
