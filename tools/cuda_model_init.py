#!/usr/bin/env python3
"""Predictions of the spec's Python model for nn.init calls and module defaults on a CUDA device.

usage: ~/torch-venv/bin/python tools/cuda_model_init.py [MODEL_DIR]
       (writes golden/cuda_model/init_cases.json and golden/cuda_model/init_results.json;
        MODEL_DIR defaults to ../shared/reference/models/cuda)

PREDICTIONS, NOT GPU OUTPUTS. The results are what `torch_cuda_rng.py` (the spec's independent
model of PyTorch's CUDA kernels, shared/reference/cuda-philox.md) computes for each call, with
the nn.init arithmetic (gains, fans, bounds) done here in Python's double arithmetic as
torch/nn/init.py does it. No GPU has produced them; their top level says so ("source"). Agreement
shows that torch-rng routes `nn.init` functions, module constructors and `torch.manual_seed` on a
CUDA target through the CUDA kernels and offsets as the spec models them, nothing more.

The case file is an ordinary case file (`"device": "cuda"`, `sm_count`, `max_threads_per_sm`):
`torch-rng replay golden/cuda_model/init_cases.json` runs it, and src/cuda/model_tests.rs
compares its sha256s with these results. Sizes cover one wave of threads and several waves
(T = 256 x SMs x (max threads per SM / 256): 270336 on an H200, 40960 on a T4).
"""

import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "golden" / "cuda_model"
MODEL_DIR = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "reference" / "models" / "cuda"
if not (MODEL_DIR / "torch_cuda_rng.py").exists():
    MODEL_DIR = Path("/work/shared/reference/models/cuda")
sys.path.insert(0, str(MODEL_DIR))
import torch_cuda_rng as E  # noqa: E402

PROFILES = {"h200": (132, 2048), "t4": (40, 1024)}
RELEASES = {"2.15.0": (2, 15), "2.3.1": (2, 3)}
NP = {"float32": np.float32, "float64": np.float64, "float16": np.float16}


def record(values, dtype, shape):
    """A tensor record of the result format (dtype, shape, sha256, head)."""
    if dtype == "bfloat16":
        a = (np.asarray(values, np.float32).view(np.uint32) >> 16).astype(np.uint16)
    else:
        a = np.asarray(values).astype(NP[dtype])
    raw = a.tobytes()
    width = a.dtype.itemsize
    head = [raw[i * width:(i + 1) * width][::-1].hex() for i in range(min(a.size, 16))]
    return {"dtype": dtype, "shape": list(shape), "sha256": hashlib.sha256(raw).hexdigest(),
            "head": head}


def state_record(g):
    raw = g.get_state()
    return {"dtype": "uint8", "shape": [16], "sha256": hashlib.sha256(raw).hexdigest(),
            "head": [f"{b:02x}" for b in raw]}


def fans(size):
    fan_in = size[1] * (math.prod(size[2:]) if len(size) > 2 else 1)
    fan_out = size[0] * (math.prod(size[2:]) if len(size) > 2 else 1)
    return fan_in, fan_out


def leaky_gain(a):
    return math.sqrt(2.0 / (1 + a ** 2))


# Each init: (op fields, function of (generator, size, dtype) -> values), as torch/nn/init.py.
def init_uniform(a, b):
    return {"a": a, "b": b}, lambda g, n, size, dt: E.uniform_(g, n, a, b, dt)


def init_normal(mean, std):
    return {"mean": mean, "std": std}, lambda g, n, size, dt: E.normal_(g, n, mean, std, dt)


def init_kaiming_uniform(a):
    def f(g, n, size, dt):
        bound = math.sqrt(3.0) * (leaky_gain(a) / math.sqrt(fans(size)[0]))
        return E.uniform_(g, n, -bound, bound, dt)
    return {"a": a}, f


def init_kaiming_normal():
    def f(g, n, size, dt):
        std = math.sqrt(2.0) / math.sqrt(fans(size)[0])
        return E.normal_(g, n, 0.0, std, dt)
    return {"mode": "fan_in", "nonlinearity": "relu"}, f


def init_xavier_uniform(gain):
    def f(g, n, size, dt):
        fi, fo = fans(size)
        a = math.sqrt(3.0) * (gain * math.sqrt(2.0 / float(fi + fo)))
        return E.uniform_(g, n, -a, a, dt)
    return {"gain": gain}, f


def init_xavier_normal(gain):
    def f(g, n, size, dt):
        fi, fo = fans(size)
        return E.normal_(g, n, 0.0, gain * math.sqrt(2.0 / float(fi + fo)), dt)
    return {"gain": gain}, f


INITS = {
    "uniform_": init_uniform(-0.1, 0.1),
    "normal_": init_normal(0.0, 0.02),
    "kaiming_uniform_": init_kaiming_uniform(math.sqrt(5)),
    "kaiming_normal_": init_kaiming_normal(),
    "xavier_uniform_": init_xavier_uniform(1.0),
    "xavier_normal_": init_xavier_normal(1.0),
}


def main():
    cases, results = [], []

    def add(name, gpu, release, seed, steps, outputs):
        sm, tpsm = PROFILES[gpu]
        cases.append({"name": name, "capability": "avx2", "torch_version": release,
                      "device": "cuda", "sm_count": sm, "max_threads_per_sm": tpsm,
                      "steps": steps})
        results.append({"name": name, "outputs": outputs})

    for gpu in ("h200", "t4"):
        sm, tpsm = PROFILES[gpu]
        wave = 256 * sm * (tpsm // 256)
        for release in RELEASES:
            for fn, (fields, f) in INITS.items():
                uniform = "uniform" in fn
                dtypes = ("float32", "float16", "bfloat16", "float64") if uniform else ("float32",)
                for dt in dtypes:
                    for size in ([64, 48], [wave // 500 + 3, 500]):
                        if dt == "float64" and "uniform_" != fn:
                            continue
                        n = math.prod(size)
                        g = E.CudaGenerator(7, sm, tpsm, RELEASES[release])
                        vals = f(g, n, size, dt)
                        name = f"{fn}_{dt}_{'x'.join(map(str, size))}_{gpu}_{release}"
                        add(name, gpu, release, 7,
                            [{"op": "manual_seed", "seed": 7},
                             dict({"op": f"nn.init.{fn}", "size": size, "dtype": dt}, **fields),
                             {"op": "cuda.get_rng_state"}],
                            [None, record(vals, dt, size), state_record(g)])
            # Module defaults on the device: Linear (kaiming_uniform_(a=√5), then the bias),
            # Embedding (normal_), then a second module continuing the offsets.
            for fi, fo in ((20, 30), (1000, wave // 1000 + 7)):
                g = E.CudaGenerator(3, sm, tpsm, RELEASES[release])
                w = init_kaiming_uniform(math.sqrt(5))[1](g, fo * fi, [fo, fi], "float32")
                bound = 1 / math.sqrt(fi)
                b = E.uniform_(g, fo, -bound, bound, "float32")
                emb = E.normal_(g, 50 * 16, 0.0, 1.0, "float32")
                add(f"linear_{fi}x{fo}_then_embedding_{gpu}_{release}", gpu, release, 3,
                    [{"op": "manual_seed", "seed": 3},
                     {"op": "nn.Linear", "in_features": fi, "out_features": fo},
                     {"op": "nn.Embedding", "num_embeddings": 50, "embedding_dim": 16},
                     {"op": "cuda.get_rng_state"}],
                    [None,
                     {"state_dict": [["weight", record(w, "float32", [fo, fi])],
                                     ["bias", record(b, "float32", [fo])]]},
                     {"state_dict": [["weight", record(emb, "float32", [50, 16])]]},
                     state_record(g)])
    OUT.mkdir(parents=True, exist_ok=True)
    source = ("PREDICTIONS of the spec's Python model (shared/reference/models/cuda/"
              "torch_cuda_rng.py) by tools/cuda_model_init.py: not GPU outputs, not PyTorch")
    doc_cases = {"format": "torch-rng-cases/1", "cases": cases}
    doc_results = {"format": "torch-rng-results/1", "torch_version": "mixed",
                   "source": source, "cases": results}
    for path, doc in ((OUT / "init_cases.json", doc_cases), (OUT / "init_results.json", doc_results)):
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
