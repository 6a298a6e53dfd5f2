#!/usr/bin/env python3
"""Record PyTorch's CUDA random streams on whatever GPU this runs on (golden/cuda/).

usage (on a GPU host, PyTorch 2.15.0 CUDA wheel; no network; about a minute of GPU time):
    python tools/gen_golden_cuda.py [--out golden/cuda] [--dump-dir DIR] [--mufu sample|full|none]
                                    [--no-split]
    python tools/gen_golden_cuda.py --dry-run [--out DIR]   # CPU only: exercises every code
                                            # path at small sizes (default: a temporary directory)

What it does, in order, printing a summary at the end:

1. Self-checks against shared/reference/cuda-philox.md section 8: the published real-CUDA values
   (4 decimals: seed 0 `rand(36)`, the second `rand(10)`, `randn(8, 8)`'s first row, seed 42
   `randn(19)` and `rand(3, 4)`, `cuda.manual_seed(1234); randn(3)`), and the spec's predicted
   exact bits (informational: `rand(8)`, `randint`, `bernoulli`, `dropout`, `randperm`). A
   failing published value means the device is not behaving as every GPU the spec saw: the run
   stops unless --force.
2. Builds cases in the case format (shared/case-format.md: `"device": "cuda"`, `"sm_count"`,
   plus `"max_threads_per_sm"` and `"gpu"`, golden/README.md) for every op and dtype torch-rng
   emulates, at sizes below one wave of threads, at `T`, `T + 1` and `4T + 5` (T = 256 × SMs ×
   (maxThreadsPerSM / 256)), and three launches that PyTorch splits for 32-bit indexing; each op
   is seeded with `cuda.manual_seed` (`torch.cuda.manual_seed`) and followed by
   `cuda.get_rng_state` (16 bytes: seed and Philox offset), so every case pins its offset
   increment. Also every `nn.init` function and module defaults on device tensors
   (`torch.empty(size, device="cuda")`, `nn.Linear(..., device="cuda")`), `torch.manual_seed`
   (which seeds the CPU and the device), `get_offset`/`set_offset` and a
   `torch.Generator(device="cuda")` (`generator`).
3. Runs them and writes `cases/<gpu>_<torch>.json` and `results/<gpu>_<torch>.json` (the result
   format; the top level adds `"device"`: name, SM count, max threads per SM, compute
   capability, torch and CUDA versions). Tensor records are the usual ones; outputs of more than
   65536 elements add `"samples"`: `[index, hex bits]` for the first and last 64 elements and
   4096 evenly spaced ones, so a replay can check a split launch without materialising it.
4. Dumps the hardware sine and cosine (`sin.approx.f32`/`cos.approx.f32`, i.e. `FMUL.RZ` by 1/2π
   then `MUFU.SIN`/`MUFU.COS`, exactly what curand's `__sincosf` compiles to) and libdevice
   `logf` on the Box–Muller angles `v = fma(float(y), 0x30c90fdb, 0x30490fdb)`, through a Triton
   kernel (Triton ships in the CUDA wheel). Every angle the kernel can produce is one of 83.9 M
   floats (one per distinct `float(y)`, y < 2^32); `--mufu full` dumps them all as int16 deltas
   (hardware − model, in ulps, model = the float nearest `sin(2π r)`, `r` the RZ-reduced angle)
   to `--dump-dir` (~0.3 GB compressed, not for git); the default `sample` takes 2^22 angles
   (the 2^20 smallest, the 2^20 largest and 2^21 spread evenly) and writes
   `mufu/<gpu>_<torch>.json` (statistics, delta histogram, every angle whose delta is not 0 with
   the hardware's bits) and the raw arrays to `--dump-dir`.

The case files replay directly (`torch-rng replay golden/cuda/cases/X.json`); the test in
src/cuda/gpu_tests.rs replays them through the same code and compares with the results, exactly
where the emulation is exact and within the stated bound where it models the hardware.
"""

import argparse
import hashlib
import json
import math
import os
import struct
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PINNED = "2.15.0"
SAMPLE_ABOVE = 65536


def f32_of(bits):
    """The float32 with these bits, as a Python float (exact)."""
    return struct.unpack("<f", struct.pack("<I", bits))[0]


C_2PI = f32_of(0x30C90FDB)      # CURAND_2POW32_INV_2PI
C_2PI_HALF = f32_of(0x30490FDB)
M32 = f32_of(0x2F800000)        # 2^-32
M32_HALF = f32_of(0x2F000000)
INV_2PI_F = f32_of(0x3E22F983)  # sin.approx's range-reduction scale

# shared/reference/cuda-philox.md section 8: real CUDA outputs published to 4 decimals [VP].
PUBLISHED = [
    ("seed 0 rand(36)", 0, "rand", [36], None,
     [0.3990, 0.5167, 0.0249, 0.9401, 0.9459, 0.7967, 0.4150, 0.8203, 0.2290, 0.9096, 0.1183,
      0.0752, 0.4092, 0.9601, 0.2093, 0.1940, 0.8909, 0.4387, 0.3570, 0.5454, 0.8299, 0.2099,
      0.7684, 0.4290, 0.2117, 0.6606, 0.1654, 0.4250, 0.9927, 0.6964, 0.2472, 0.7028, 0.7494,
      0.9303, 0.0494, 0.0750]),
    ("seed 0 second rand(10)", 0, "rand2", [10], None,
     [0.9722, 0.7910, 0.4690, 0.3300, 0.3345, 0.3783, 0.7640, 0.6405, 0.1103, 0.3594]),
    ("seed 0 randn(8,8)[0]", 0, "randn", [8, 8], 8,
     [-0.9247, -0.4253, -2.6438, 0.1452, -0.1209, -0.5797, -0.6229, -0.3284]),
    ("seed 42 randn(19)", 42, "randn", [19], None,
     [0.1940, 2.1614, -0.1721, 0.8491, -1.9244, 0.6530, -0.6494, -0.8175, 0.5280, -1.2753,
      -1.6621, -0.3033, -0.0926, 0.1992, -1.1204, 1.8577, -0.7145, 0.6881, 0.7968]),
    ("seed 42 rand(3,4)", 42, "rand", [3, 4], None,
     [0.6130, 0.0101, 0.3984, 0.0403, 0.1563, 0.4825, 0.7362, 0.4060, 0.5189, 0.2867, 0.2416,
      0.9228]),
    ("cuda.manual_seed(1234) randn(3)", 1234, "randn", [3], None, [-1.6165, 0.5685, -0.5102]),
]


def slug(s):
    return "".join(c.lower() if c.isalnum() else "_" for c in s).strip("_")


class Runner:
    def __init__(self, torch, device, dry):
        self.torch, self.device, self.dry = torch, device, dry
        self.F = torch.nn.functional
        self.gens = {}  # the case's torch.Generator(device=...) objects, by name

    # ---------------------------------------------------------------- seeding and state
    def manual_seed(self, s):
        if self.dry:
            self.torch.manual_seed(s)
        else:
            self.torch.cuda.manual_seed(s)

    def get_state(self):
        if self.dry:
            return self.torch.get_rng_state()
        return self.torch.cuda.get_rng_state()

    def default_generator(self):
        if self.dry:
            return self.torch.default_generator
        return self.torch.cuda.default_generators[self.torch.cuda.current_device()]

    def generator(self, s):
        """The step's `generator` (created at first mention), or None."""
        name = s.get("generator")
        if name is None:
            return None
        if name not in self.gens:
            self.gens[name] = self.torch.Generator(device=self.device)
        return self.gens[name]

    def offset(self):
        b = bytes(self.get_state().numpy())
        return int.from_bytes(b[8:16], "little", signed=True) if len(b) == 16 else -1

    # ---------------------------------------------------------------- tensor arguments
    def tensor_arg(self, spec):
        t = self.torch
        if "fill" in spec:
            size = list(spec["size"])
            dtype = getattr(t, spec.get("dtype", "float32"))
            if spec.get("storage_offset"):
                k = spec["storage_offset"]
                n = math.prod(size)
                x = t.full((n + k,), spec["fill"], dtype=dtype, device=self.device)[k:]
                x = x.view(size)
            elif spec.get("permute") is not None:
                perm = spec["permute"]
                x = t.full(size, spec["fill"], dtype=dtype, device=self.device).permute(*perm)
            else:
                x = t.full(size, spec["fill"], dtype=dtype, device=self.device)
            if spec.get("narrow") is not None:
                x = x[..., : spec["narrow"]]
            return x
        return t.tensor(spec["data"], dtype=getattr(t, spec["dtype"]), device=self.device)

    def target(self, a):
        t = self.torch
        x = t.empty(a["size"], dtype=getattr(t, a.get("dtype", "float32")), device=self.device)
        if a.get("permute") is not None:
            x = x.permute(*a["permute"])
        return x

    INIT_KEYS = ("size", "dtype", "permute", "op", "generator")
    MODULE_KEYS = ("op",)

    # ---------------------------------------------------------------- one step
    def run_step(self, s):
        t, op = self.torch, s["op"]
        dt = (lambda d: getattr(t, s.get("dtype", d)))
        g = self.generator(s)
        if op == "cuda.manual_seed":
            self.manual_seed(s["seed"])
            return None
        if op == "manual_seed":
            if g is not None:
                g.manual_seed(s["seed"])
            else:
                t.manual_seed(s["seed"])  # the CPU generator and every device's
            return None
        if op == "cuda.set_rng_state":
            state = t.tensor(list(bytes.fromhex(s["state"])), dtype=t.uint8)
            (t.set_rng_state if self.dry else t.cuda.set_rng_state)(state)
            return None
        if op == "cuda.get_rng_state":
            return self.get_state()
        if op == "get_rng_state":  # the CPU generator's, or generator='s
            return g.get_state() if g is not None else t.get_rng_state()
        if op == "get_offset":
            return int((g or self.default_generator()).get_offset())
        if op == "set_offset":
            (g or self.default_generator()).set_offset(s["offset"])
            return None
        if op.startswith("nn.init."):
            kwargs = {k: v for k, v in s.items() if k not in self.INIT_KEYS}
            if g is not None:
                kwargs["generator"] = g
            x = self.target(s)
            return getattr(t.nn.init, op[len("nn.init."):])(x, **kwargs)
        if op.startswith("nn.") and isinstance(getattr(t.nn, op[len("nn."):], None), type):
            kwargs = {k: v for k, v in s.items() if k not in self.MODULE_KEYS}
            if "dtype" in kwargs:
                kwargs["dtype"] = getattr(t, kwargs["dtype"])
            m = getattr(t.nn, op[len("nn."):])(**kwargs, device=self.device)
            return ("named", list(m.state_dict().items()))
        if g is not None and op == "rand":
            return t.rand(s["size"], dtype=dt("float32"), device=self.device, generator=g)
        if g is not None and op == "randn":
            return t.randn(s["size"], dtype=dt("float32"), device=self.device, generator=g)
        if g is not None:
            raise ValueError(f"gen_golden_cuda: op {op!r} with a generator is not in this script")
        if op == "rand":
            return t.rand(s["size"], dtype=dt("float32"), device=self.device)
        if op == "randn":
            return t.randn(s["size"], dtype=dt("float32"), device=self.device)
        if op == "uniform_":
            return self.target(s).uniform_(s.get("from", 0.0), s.get("to", 1.0))
        if op == "normal_":
            return self.target(s).normal_(s.get("mean", 0.0), s.get("std", 1.0))
        if op == "randint":
            return t.randint(s.get("low", 0), s["high"], s["size"], dtype=dt("int64"),
                             device=self.device)
        if op == "random_":
            x = self.target(s)
            if "from" not in s and "to" not in s:
                return x.random_()
            if "from" not in s:
                return x.random_(s["to"])
            return x.random_(s["from"], s.get("to"))
        if op == "bernoulli_":
            p = s.get("p", 0.5)
            return self.target(s).bernoulli_(self.tensor_arg(p) if isinstance(p, dict) else p)
        if op == "bernoulli":
            return t.bernoulli(self.tensor_arg(s["input"]))
        if op == "nn.functional.dropout":
            x = self.tensor_arg(s["input"])
            if s.get("inplace", False):
                x = x.clone() if x.is_contiguous() else x
            return self.F.dropout(x, s.get("p", 0.5), training=s.get("training", True),
                                  inplace=s.get("inplace", False))
        if op == "native_dropout":
            out, mask = t.native_dropout(self.tensor_arg(s["input"]), s["p"], s.get("train", True))
            return ("named", [("output", out), ("mask", mask)])
        if op == "randperm":
            return t.randperm(s["n"], dtype=dt("int64"), device=self.device)
        if op == "exponential_":
            return self.target(s).exponential_(s.get("lambd", 1.0))
        if op == "geometric_":
            return self.target(s).geometric_(s["p"])
        if op == "log_normal_":
            return self.target(s).log_normal_(s.get("mean", 1.0), s.get("std", 2.0))
        if op == "cauchy_":
            return self.target(s).cauchy_(s.get("median", 0.0), s.get("sigma", 1.0))
        if op == "_philox_uniform_":
            return t._philox_uniform_(self.target(s), self.tensor_arg(s["key"]),
                                      s.get("low", 0.0), s.get("high", 1.0))
        if op == "_philox_normal_":
            return t._philox_normal_(self.target(s), self.tensor_arg(s["key"]),
                                     s.get("mean", 0.0), s.get("std", 1.0))
        if op == "_philox_randint_":
            return t._philox_randint_(self.target(s), self.tensor_arg(s["key"]), s.get("low"),
                                      s.get("high"))
        raise ValueError(f"gen_golden_cuda: unknown op {op!r}")


def tensor_record(torch, x):
    x = x.detach().contiguous().cpu()
    data = x.reshape(-1).view(torch.uint8).numpy().tobytes()
    width = x.element_size()
    n = x.numel()
    hexes = lambda idx: [[i, data[i * width:(i + 1) * width][::-1].hex()] for i in idx]  # noqa: E731
    rec = {"dtype": str(x.dtype).removeprefix("torch."), "shape": list(x.shape),
           "sha256": hashlib.sha256(data).hexdigest(),
           "head": [h for _, h in hexes(range(min(n, 16)))]}
    if n > SAMPLE_ABOVE:
        idx = sorted(set(range(64)) | set(range(n - 64, n)) |
                     {i * (n - 1) // 4095 for i in range(4096)})
        rec["samples"] = hexes(idx)
    return rec


def record(torch, value):
    if value is None:
        return None
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, tuple) and value[0] == "named":
        return {"state_dict": [[k, tensor_record(torch, v)] for k, v in value[1]]}
    return tensor_record(torch, value)


# ------------------------------------------------------------------------------------ cases

def build_cases(T, split, dry):
    """The case list. T is the device's threads per wave; `split` adds the 32-bit splits."""
    cases = []

    def add(name, steps):
        cases.append({"name": name, "steps": steps})

    def seeded(seed, *steps):
        out = [{"op": "cuda.manual_seed", "seed": seed}]
        for s in steps:
            out += [s, {"op": "cuda.get_rng_state"}]
        return out

    sizes = (8, 1000, T, T + 1, 4 * T + 5)
    floats = ("float32", "float64", "float16", "bfloat16")
    for seed in (0, 42, 2 ** 64 - 1):
        for n in sizes:
            for d in floats:
                add(f"rand_{d}_{n}_s{seed}", seeded(seed, {"op": "rand", "size": [n], "dtype": d}))
                add(f"randn_{d}_{n}_s{seed}", seeded(seed, {"op": "randn", "size": [n], "dtype": d}))
            for lo, hi in ((0, 10), (-5, 2 ** 30), (0, 3_000_000_000), (0, 2 ** 40)):
                add(f"randint_int64_{lo}_{hi}_{n}_s{seed}".replace("-", "m"),
                    seeded(seed, {"op": "randint", "low": lo, "high": hi, "size": [n]}))
            add(f"bernoulli_p0p3_float32_{n}_s{seed}",
                seeded(seed, {"op": "bernoulli_", "size": [n], "p": 0.3}))
            add(f"bernoulli_tensor_float32_{n}_s{seed}",
                seeded(seed, {"op": "bernoulli", "input": {"fill": 0.3, "size": [n]}}))
            for d in ("float32", "float16", "bfloat16", "float64"):
                add(f"dropout_{d}_{n}_s{seed}",
                    seeded(seed, {"op": "native_dropout", "p": 0.1,
                                  "input": {"fill": -1.5, "size": [n], "dtype": d}}))
        for n in (10, 1000, 100000):
            add(f"randperm_{n}_s{seed}", seeded(seed, {"op": "randperm", "n": n}))
    ints = ("int64", "int32", "int16", "int8", "uint8", "bool")
    for n in (1000, 4 * T + 5):
        for d in floats:
            add(f"uniform_m3_5_{d}_{n}", seeded(7, {"op": "uniform_", "size": [n], "dtype": d,
                                                   "from": -3.0, "to": 5.0}))
            add(f"normal_2_0p5_{d}_{n}", seeded(7, {"op": "normal_", "size": [n], "dtype": d,
                                                   "mean": 2.0, "std": 0.5}))
            add(f"exponential_1p5_{d}_{n}", seeded(7, {"op": "exponential_", "size": [n],
                                                      "dtype": d, "lambd": 1.5}))
            add(f"log_normal_0p5_0p8_{d}_{n}", seeded(7, {"op": "log_normal_", "size": [n],
                                                         "dtype": d, "mean": 0.5, "std": 0.8}))
            add(f"cauchy_1_2_{d}_{n}", seeded(7, {"op": "cauchy_", "size": [n], "dtype": d,
                                                 "median": 1.0, "sigma": 2.0}))
            add(f"geometric_0p2_{d}_{n}", seeded(7, {"op": "geometric_", "size": [n],
                                                    "dtype": d, "p": 0.2}))
            add(f"bernoulli_p0p3_{d}_{n}", seeded(7, {"op": "bernoulli_", "size": [n],
                                                     "dtype": d, "p": 0.3}))
            add(f"random_{d}_{n}", seeded(7, {"op": "random_", "size": [n], "dtype": d}))
            add(f"random_full64_{d}_{n}", seeded(7, {"op": "random_", "size": [n], "dtype": d,
                                                    "from": -2 ** 63, "to": None}))
        for d in ints:
            add(f"random_{d}_{n}", seeded(7, {"op": "random_", "size": [n], "dtype": d}))
            if d != "bool":
                add(f"randint_m7_100_{d}_{n}", seeded(7, {"op": "randint", "low": -7 if d != "uint8" else 0,
                                                         "high": 100, "size": [n], "dtype": d}))
                add(f"geometric_0p05_{d}_{n}", seeded(7, {"op": "geometric_", "size": [n],
                                                         "dtype": d, "p": 0.05}))
            add(f"bernoulli_p0p7_{d}_{n}", seeded(7, {"op": "bernoulli_", "size": [n],
                                                     "dtype": d, "p": 0.7}))
        add(f"randint_int32_2p30_{n}", seeded(7, {"op": "randint", "low": 0, "high": 2 ** 30,
                                                 "size": [n], "dtype": "int32"}))
        add(f"random_int64_from_m5_{n}", seeded(7, {"op": "random_", "size": [n], "dtype": "int64",
                                                   "from": -5, "to": None}))
    # Non-contiguous targets (TensorIterator order) and tensor p broadcast.
    for d in floats:
        add(f"uniform_permuted_{d}", seeded(3, {"op": "uniform_", "size": [64, 33], "dtype": d,
                                               "permute": [1, 0]}))
        add(f"normal_permuted_{d}", seeded(3, {"op": "normal_", "size": [2, 3, 50, 7],
                                              "dtype": d, "permute": [0, 3, 1, 2]}))
    add("bernoulli_tensor_p_permuted_target",
        seeded(3, {"op": "bernoulli_", "size": [40, 30], "permute": [1, 0],
                   "p": {"dtype": "float32", "data": [[x] for x in [0.1, 0.5, 0.9] * 10]}}))
    # Dropout: vector widths by alignment, dtype and numel; layouts; the in-place path.
    for d in ("float32", "float16", "bfloat16", "float64"):
        for n in (1000, 1001, 1002, 1004, 4 * T + 8):
            add(f"dropout_vec_{d}_{n}", seeded(5, {"op": "native_dropout", "p": 0.3,
                                                  "input": {"fill": 2.5, "size": [n],
                                                            "dtype": d}}))
        for k in (1, 2, 4):
            add(f"dropout_offset{k}_{d}", seeded(5, {"op": "native_dropout", "p": 0.3,
                                                    "input": {"fill": 2.5, "size": [1000],
                                                              "dtype": d, "storage_offset": k}}))
        add(f"dropout_narrow_{d}", seeded(5, {"op": "nn.functional.dropout", "p": 0.5,
                                             "input": {"fill": 1.0, "size": [64, 33], "dtype": d,
                                                       "narrow": 32}}))
        add(f"dropout_permuted_{d}", seeded(5, {"op": "nn.functional.dropout", "p": 0.5,
                                               "input": {"fill": 1.0, "size": [64, 32],
                                                         "dtype": d, "permute": [1, 0]}}))
        add(f"dropout_inplace_{d}", seeded(5, {"op": "nn.functional.dropout", "p": 0.25,
                                              "inplace": True,
                                              "input": {"fill": 3.0, "size": [1000], "dtype": d}}))
    # State: set_rng_state with an offset, then draws; several ops in one case.
    state = (123456789).to_bytes(8, "little") + (1000).to_bytes(8, "little")
    add("set_state_then_rand", [{"op": "cuda.set_rng_state", "state": state.hex()},
                                {"op": "rand", "size": [T + 3]}, {"op": "cuda.get_rng_state"}])
    # torch.manual_seed seeds the CPU generator and the device's; get_offset / set_offset;
    # a torch.Generator(device="cuda").
    add("torch_manual_seed_then_rand", [{"op": "manual_seed", "seed": 3},
                                        {"op": "rand", "size": [1000]}, {"op": "get_offset"},
                                        {"op": "get_rng_state"}])
    add("set_offset_then_randn", [{"op": "cuda.manual_seed", "seed": 3},
                                  {"op": "set_offset", "offset": 4 * T},
                                  {"op": "randn", "size": [T + 1]}, {"op": "get_offset"},
                                  {"op": "set_offset", "offset": 6}])
    add("generator_object", [{"op": "rand", "size": [1000], "generator": "g"},
                             {"op": "get_offset", "generator": "g"},
                             {"op": "manual_seed", "seed": 5, "generator": "g"},
                             {"op": "randn", "size": [T + 1], "generator": "g"},
                             {"op": "get_rng_state", "generator": "g"}])
    # nn.init on device tensors, and module defaults built on the device (one case per call:
    # each starts from torch.manual_seed, so the offsets each call reserves show in the state).
    inits = [("uniform_", {"a": -0.5, "b": 0.5}), ("normal_", {"mean": 0.0, "std": 0.02}),
             ("trunc_normal_", {"std": 0.02}), ("trunc_normal_", {"mean": 0.0, "std": 1.0,
                                                                  "a": 2.0, "b": 3.0}),
             ("xavier_uniform_", {}), ("xavier_normal_", {"gain": 2.0}),
             ("kaiming_uniform_", {"a": math.sqrt(5)}),
             ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
             ("orthogonal_", {}), ("sparse_", {"sparsity": 0.3}), ("constant_", {"val": 0.25}),
             ("ones_", {}), ("zeros_", {}), ("eye_", {})]
    for fn, kw in inits:
        for size in ([64, 48], [1024, 1024]):
            if fn in ("orthogonal_", "sparse_") and size[0] > 64:
                continue  # a QR / a loop over columns: small is enough
            for d in ("float32", "float64") if size[0] <= 64 else ("float32",):
                tag = "_".join(f"{k}{v}" for k, v in kw.items()).replace(".", "p").replace("-", "m")
                add(f"init_{fn}{tag}_{d}_{size[0]}x{size[1]}",
                    [{"op": "manual_seed", "seed": 11},
                     dict({"op": f"nn.init.{fn}", "size": size, "dtype": d}, **kw),
                     {"op": "cuda.get_rng_state"}])
    add("init_dirac_float32", [{"op": "nn.init.dirac_", "size": [4, 2, 3, 3]}])
    add("init_kaiming_uniform_generator", [
        {"op": "manual_seed", "seed": 5, "generator": "g"},
        {"op": "nn.init.kaiming_uniform_", "size": [300, 200], "a": math.sqrt(5),
         "generator": "g"}, {"op": "get_offset", "generator": "g"}])
    modules = [("Linear", {"in_features": 3, "out_features": 4}),
               ("Linear", {"in_features": 1024, "out_features": 1024}),
               ("Conv2d", {"in_channels": 16, "out_channels": 32, "kernel_size": 3}),
               ("Embedding", {"num_embeddings": 1000, "embedding_dim": 300}),
               ("LSTM", {"input_size": 32, "hidden_size": 64, "num_layers": 2}),
               ("MultiheadAttention", {"embed_dim": 64, "num_heads": 4}),
               ("TransformerEncoderLayer", {"d_model": 64, "nhead": 4,
                                            "dim_feedforward": 128}),
               ("BatchNorm2d", {"num_features": 8}), ("LayerNorm", {"normalized_shape": 64})]
    for cls, kw in modules:
        shape = "_".join(str(v) for v in kw.values())
        add(f"module_{cls}_{shape}", [{"op": "manual_seed", "seed": 0},
                                      dict({"op": f"nn.{cls}"}, **kw),
                                      {"op": "cuda.get_rng_state"}])
    add("module_Linear_float64", [{"op": "manual_seed", "seed": 1},
                                  {"op": "nn.Linear", "in_features": 30, "out_features": 20,
                                   "dtype": "float64"}, {"op": "cuda.get_rng_state"}])
    add("sequence_offsets", seeded(7, {"op": "rand", "size": [100]},
                                   {"op": "randn", "size": [10 ** 6]},
                                   {"op": "rand", "size": [5 * T]},
                                   {"op": "randn", "size": [5 * T], "dtype": "float64"},
                                   {"op": "randint", "low": 0, "high": 2 ** 40, "size": [5 * T]},
                                   {"op": "randperm", "n": 10},
                                   {"op": "bernoulli", "input": {"fill": 0.5, "size": [3]}}))
    # Stateless Philox ops on the device.
    for d in floats:
        key = {"dtype": "uint64", "data": [42, 5]}
        add(f"philox_uniform_{d}", [{"op": "_philox_uniform_", "size": [1001], "dtype": d,
                                     "key": key, "low": -2.0, "high": 3.0}])
        add(f"philox_normal_{d}", [{"op": "_philox_normal_", "size": [1001], "dtype": d,
                                    "key": key, "mean": 1.0, "std": 2.0}])
    for d in ("int64", "int32", "uint8"):
        add(f"philox_randint_{d}", [{"op": "_philox_randint_", "size": [2, 1001], "dtype": d,
                                     "key": {"dtype": "uint64", "data": [[[1, 2]], [[3, 4]]]},
                                     "low": 0, "high": 100}])
    if split:
        # 32-bit indexing splits: float32 from 536,870,913 elements; int64 from 268,435,457;
        # uint8 past 2^31 - 1 elements.
        add("split_rand_float32", seeded(1, {"op": "rand", "size": [536_870_913]}))
        add("split_randint_int64", seeded(1, {"op": "randint", "low": 0, "high": 1000,
                                              "size": [268_435_457]}))
        add("split_random_uint8", seeded(1, {"op": "random_", "size": [2 ** 31 + 5],
                                             "dtype": "uint8"}))
    return cases


# ------------------------------------------------------------------------------------ checks

def check_published(torch, runner):
    """Section 8's published values; returns (passed, lines)."""
    ok, lines = True, []
    for label, seed, what, size, take, want in PUBLISHED:
        runner.manual_seed(seed)
        if what == "rand2":
            torch.rand(size, device=runner.device)
            got = torch.rand(size, device=runner.device)
        elif what == "rand":
            got = torch.rand(size, device=runner.device)
        else:
            got = torch.randn(size, device=runner.device)
        vals = got.reshape(-1).cpu().tolist()[: take or len(want)]
        good = len(vals) == len(want) and all(abs(a - b) <= 5.0001e-5 for a, b in zip(vals, want))
        ok &= good
        lines.append(f"  {'PASS' if good else 'FAIL'} {label}")
    return ok, lines


def check_predictions(torch, runner):
    """Section 8's predicted exact values (informational)."""
    t, dev, lines = torch, runner.device, []

    def bits32(x):
        return [struct.unpack("<I", struct.pack("<f", v))[0] for v in x.cpu().tolist()]

    runner.manual_seed(0)
    lines.append(("seed 0 rand(8) float32 bits",
                  [f"{b:08x}" for b in bits32(t.rand(8, device=dev))] ==
                  "3ecc4fd2 3f044516 3ccc3acf 3f70a90b 3f72237f 3f4bf694 3ed47cbb 3f51fc5c".split()))
    runner.manual_seed(0)
    lines.append(("seed 0 randint(0, 10, (8,))",
                  t.randint(0, 10, (8,), device=dev).cpu().tolist() == [1, 7, 1, 2, 3, 4, 3, 3]))
    runner.manual_seed(0)
    lines.append(("seed 0 randint(0, 3e9, (4,)) (2.7+)",
                  t.randint(0, 3_000_000_000, (4,), device=dev).cpu().tolist() ==
                  [267848589, 547148458, 1619952985, 27953336]))
    runner.manual_seed(0)
    lines.append(("seed 0 bernoulli(full(8, 0.3))",
                  t.bernoulli(t.full((8,), 0.3, device=dev)).cpu().tolist() ==
                  [0, 0, 0, 0, 0, 0, 1, 0]))
    runner.manual_seed(0)
    lines.append(("seed 0 randperm(10) (2.7+)",
                  t.randperm(10, device=dev).cpu().tolist() == [0, 1, 9, 5, 7, 8, 6, 3, 4, 2]))
    runner.manual_seed(42)
    lines.append(("seed 42 randn(4) bits (MUFU modelled; may differ)",
                  [f"{b:08x}" for b in bits32(t.randn(4, device=dev))] ==
                  "3e46aced 400a53f2 be302de9 3f595c0a".split()))
    return [f"  {'same' if good else 'DIFFERENT'}: {label}" for label, good in lines]


# ------------------------------------------------------------------------------------ MUFU

def angle_floats(np, which, count):
    """The distinct float(y), y < 2^32 (83.9 M of them), as float32: all, or a sample."""
    total = (1 << 23) + (0x4F800000 - 0x4B000000) + 1
    if which == "full":
        idx = np.arange(total, dtype=np.int64)
    else:
        k = count // 4
        spread = np.linspace(0, total - 1, count - 2 * k).astype(np.int64)
        idx = np.unique(np.concatenate([np.arange(k), np.arange(total - k, total), spread]))
    small = idx < (1 << 23)
    c = np.empty(idx.size, np.float32)
    c[small] = idx[small].astype(np.float32)
    c[~small] = (0x4B000000 + (idx[~small] - (1 << 23))).astype(np.uint32).view(np.float32)
    return idx, c


def mufu_kernel(torch, c):
    """Runs the Triton probe on the GPU: (angle v, sin.approx v, cos.approx v, logf u) for every
    float(y) in `c`."""
    import triton
    import triton.language as tl

    @triton.jit
    def kernel(c_ptr, v_ptr, s_ptr, k_ptr, l_ptr, n, C, CH, M, MH, BLOCK: tl.constexpr):
        i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        m = i < n
        c = tl.load(c_ptr + i, mask=m)
        v = tl.fma(c, C, CH)   # the Box-Muller angle: fma(float(y), 0x30c90fdb, 0x30490fdb)
        u = tl.fma(c, M, MH)   # the uniform of the same word: fma(float(x), 2^-32, 2^-33)
        s = tl.inline_asm_elementwise("sin.approx.f32 $0, $1;", "=f,f", [v], dtype=tl.float32,
                                      is_pure=True, pack=1)
        k = tl.inline_asm_elementwise("cos.approx.f32 $0, $1;", "=f,f", [v], dtype=tl.float32,
                                      is_pure=True, pack=1)
        lg = tl.extra.cuda.libdevice.log(u)
        tl.store(v_ptr + i, v, mask=m)
        tl.store(s_ptr + i, s, mask=m)
        tl.store(k_ptr + i, k, mask=m)
        tl.store(l_ptr + i, lg, mask=m)

    cd = torch.from_numpy(c).cuda()
    outs = [torch.empty_like(cd) for _ in range(4)]
    n = cd.numel()
    kernel[(triton.cdiv(n, 1024),)](cd, *outs, n, C_2PI, C_2PI_HALF, M32, M32_HALF, BLOCK=1024)
    return tuple(o.cpu().numpy() for o in outs)


def mufu_model(np, c):
    """The host side: the exact angle (x87 extended precision: the product is exact and the sum
    fits in 64 bits for these inputs, so one rounding to float32 follows), its RZ reduction to
    revolutions, and the model's sine and cosine (float nearest sin(2 pi r), cos(2 pi r))."""
    ld = np.longdouble
    v = (c.astype(ld) * ld(C_2PI) + ld(C_2PI_HALF)).astype(np.float32)
    r = v.astype(np.float64) * INV_2PI_F  # exact: a product of two floats
    r32 = r.astype(np.float32)
    over = np.abs(r32.astype(np.float64)) > np.abs(r)
    r32[over] = np.nextafter(r32[over], np.float32(0))
    ang = 2.0 * math.pi * r32.astype(np.float64)
    return v, ang, np.sin(ang).astype(np.float32), np.cos(ang).astype(np.float32)


def ulps(np, a, b):
    """Signed distance in float32 ulps, a - b."""
    ai = a.view(np.int32).astype(np.int64)
    bi = b.view(np.int32).astype(np.int64)
    ai = np.where(ai < 0, -(ai & 0x7FFFFFFF), ai)
    bi = np.where(bi < 0, -(bi & 0x7FFFFFFF), bi)
    return ai - bi


def mufu_summary(np, idx, v_hw, s_hw, k_hw, v_model, ang, ms, mc, which, tag):
    """Statistics of the hardware against the model, and every differing sampled angle."""
    summary = {"format": "torch-rng-mufu/1", "gpu": tag, "angles": int(idx.size),
               "sampling": which,
               "angle_fma_bit_exact": bool(np.array_equal(v_hw.view(np.uint32),
                                                          v_model.view(np.uint32))),
               "model": "float nearest sin(2*pi*r), cos(2*pi*r); r = fmul_rz(v, 0x3e22f983)",
               "index": "c = float(y): index = c if c < 2^23 else 2^23 + bits(c) - 0x4b000000"}
    deltas = {}
    for name, hw, model, exact in (("sin", s_hw, ms, np.sin(ang)), ("cos", k_hw, mc, np.cos(ang))):
        d = ulps(np, hw, model)
        deltas[name] = d
        vals, counts = np.unique(np.clip(d, -64, 64), return_counts=True)
        diff = np.nonzero(d)[0]
        summary[name] = {
            "bit_exact_fraction": float(np.mean(d == 0)),
            "max_abs_ulps": int(np.max(np.abs(d))),
            "max_abs_error": float(np.max(np.abs(hw.astype(np.float64) - exact))),
            "delta_histogram": {str(int(a)): int(b) for a, b in zip(vals, counts)},
            "nonzero": [[int(idx[i]), f"{int(hw.view(np.uint32)[i]):08x}"] for i in diff[:20000]],
        }
    return summary, deltas


def mufu_dump(torch, np, out_json, dump_dir, which, tag, dry=False):
    idx, c = angle_floats(np, which, 1 << 22 if not dry else 1 << 12)
    v_model, ang, ms, mc = mufu_model(np, c)
    if dry:
        # No GPU: the model stands in for the hardware (every delta 0), to exercise the code.
        v, s, k = v_model, ms, mc
        lg = np.log(c.astype(np.float64) * 2.0 ** -32 + 2.0 ** -33).astype(np.float32)
    else:
        v, s, k, lg = mufu_kernel(torch, c)
    summary, deltas = mufu_summary(np, idx, v, s, k, v_model, ang, ms, mc, which, tag)
    if dump_dir is not None:
        dump_dir.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(dump_dir / f"mufu_{which}_{tag}.npz", index=idx,
                            sin_delta=np.clip(deltas["sin"], -32768, 32767).astype(np.int16),
                            cos_delta=np.clip(deltas["cos"], -32768, 32767).astype(np.int16),
                            logf=lg.view(np.uint32))
    out_json.parent.mkdir(parents=True, exist_ok=True)
    with open(out_json, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(summary, separators=(",", ":")) + "\n")
    return summary


# ------------------------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=None,
                    help="output directory (default golden/cuda; a dry run: a temporary one)")
    ap.add_argument("--dump-dir", type=Path, default=None,
                    help="where large MUFU arrays go (default: OUT/dumps, not for git)")
    ap.add_argument("--mufu", choices=("sample", "full", "none"), default="sample")
    ap.add_argument("--no-split", action="store_true", help="skip the 2 GB split-launch cases")
    ap.add_argument("--dry-run", action="store_true",
                    help="CPU only, small sizes, no Triton: exercises the code paths")
    ap.add_argument("--force", action="store_true", help="continue past failed self-checks")
    args = ap.parse_args()
    t0 = time.time()
    import numpy as np
    import torch

    dry = args.dry_run
    if dry:
        out = args.out or Path(tempfile.mkdtemp(prefix="gen_golden_cuda_dry_"))
        device = "cpu"
        props = {"name": "dry-run (CPU)", "sm_count": 4, "max_threads_per_sm": 1024,
                 "capability": [0, 0]}
    else:
        if not torch.cuda.is_available():
            sys.exit("gen_golden_cuda: no CUDA device (use --dry-run to test the script)")
        out = args.out or ROOT / "golden" / "cuda"
        device = "cuda"
        p = torch.cuda.get_device_properties(0)
        props = {"name": p.name, "sm_count": p.multi_processor_count,
                 "max_threads_per_sm": p.max_threads_per_multi_processor,
                 "capability": list(torch.cuda.get_device_capability(0))}
    release = torch.__version__.split("+")[0]
    if release != PINNED:
        print(f"gen_golden_cuda: WARNING: torch {torch.__version__}, fixtures are meant for "
              f"{PINNED}", file=sys.stderr)
    device_info = dict(props, torch=torch.__version__, cuda=torch.version.cuda,
                       cudnn=None if dry else torch.backends.cudnn.version())
    runner = Runner(torch, device, dry)
    T = 256 * (props["max_threads_per_sm"] // 256) * props["sm_count"]
    tag = slug(f"{props['name']}_{release}")
    report = [f"device: {props['name']} ({props['sm_count']} SMs, "
              f"{props['max_threads_per_sm']} threads/SM, T = {T}); torch {torch.__version__}, "
              f"CUDA {torch.version.cuda}"]

    # 1. self-checks
    if dry:
        # CPU values are not CUDA values: the checks run (to exercise them), their verdicts don't
        # count.
        _, lines = check_published(torch, runner)
        check_predictions(torch, runner)
        report.append(f"self-checks: ran {len(lines)} published checks on the CPU (verdicts "
                      "meaningless in a dry run)")
    else:
        ok, lines = check_published(torch, runner)
        report += ["published 4-decimal values (cuda-philox.md section 8):"] + lines
        report += ["spec predictions (informational):"] + check_predictions(torch, runner)
        if not ok and not args.force:
            print("\n".join(report))
            sys.exit("gen_golden_cuda: a published value does not reproduce; stopping "
                     "(--force to record anyway)")

    # 2-3. cases and results
    cases = build_cases(T, split=not (args.no_split or dry), dry=dry)
    extra = {"device": "cuda", "sm_count": props["sm_count"],
             "max_threads_per_sm": props["max_threads_per_sm"], "gpu": props["name"]}
    case_doc = {"format": "torch-rng-cases/1",
                "cases": [dict({"name": c["name"], "torch_version": release}, **extra,
                               steps=c["steps"]) for c in cases]}
    results = []
    t_cases = time.time()
    for c in cases:
        runner.gens = {}
        outputs = []
        for s in c["steps"]:
            try:
                value = runner.run_step(s)
            except (RuntimeError, ValueError, TypeError, IndexError) as e:
                if str(e).startswith("gen_golden_cuda:"):
                    raise
                outputs.append({"error": str(e)})
                break
            outputs.append(record(torch, value))
        results.append({"name": c["name"], "torch_version": release, **extra,
                        "outputs": outputs})
        if not dry:
            torch.cuda.empty_cache()
    result_doc = {"format": "torch-rng-results/1", "torch_version": release,
                  "torch_build": torch.__version__, "device": device_info, "cases": results}
    for sub, doc in (("cases", case_doc), ("results", result_doc)):
        path = out / sub / f"{tag}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    errors = sum(1 for r in results if r["outputs"] and isinstance(r["outputs"][-1], dict)
                 and "error" in r["outputs"][-1])
    report.append(f"cases: {len(results)} recorded ({errors} rejected by PyTorch) in "
                  f"{time.time() - t_cases:.1f} s -> {out}/cases|results/{tag}.json")

    # 4. MUFU
    if args.mufu == "none":
        report.append("MUFU dump: skipped")
    else:
        try:
            summary = mufu_dump(torch, np, out / "mufu" / f"{tag}.json",
                                args.dump_dir or (out / "dumps"), args.mufu, tag, dry=dry)
            report.append(
                f"MUFU ({summary['angles']} angles, {args.mufu}): angle FMA bit-exact "
                f"{summary['angle_fma_bit_exact']}; sin model==hw "
                f"{summary['sin']['bit_exact_fraction']:.4f} (max {summary['sin']['max_abs_ulps']}"
                f" ulp), cos {summary['cos']['bit_exact_fraction']:.4f} "
                f"(max {summary['cos']['max_abs_ulps']} ulp)")
        except Exception as e:  # the fixtures above stay valid without the dump
            if dry:
                raise
            report.append(f"MUFU dump: FAILED ({e!r})")

    # A dry run checks its own output: every file parses and every case has its outputs.
    if dry:
        for sub in ("cases", "results"):
            json.load(open(out / sub / f"{tag}.json"))
        assert len(results) == len(case_doc["cases"])
        assert all(r["outputs"] for r in results)
        if args.mufu != "none":
            m = json.load(open(out / "mufu" / f"{tag}.json"))
            assert m["angle_fma_bit_exact"] and m["sin"]["bit_exact_fraction"] == 1.0, m["sin"]
        report.append(f"dry run: {len(results)} cases ran on the CPU; files parse ({out})")
    report.append(f"total {time.time() - t0:.1f} s")
    print("\n".join(report))


if __name__ == "__main__":
    main()
