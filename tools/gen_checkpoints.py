#!/usr/bin/env python3
"""Write golden/checkpoints/: small checkpoints saved by the real libraries, and expected.json.

Each file is written by the library that defines its format (torch.save, safetensors.torch,
numpy.savez / savez_compressed); expected.json lists, per file, the tensors the Rust readers
must find: name, dtype, shape and the sha256 of the contiguous little-endian bytes, computed
here from the real tensors (never from the files). tests/checkpoint_golden.rs compares.

The torch.save legacy files name storages by address and safetensors writes __metadata__ in
hash order, so those two files differ from run to run; expected.json does not.

Usage:
    ~/torch-venv/bin/python tools/gen_checkpoints.py
Needs tools/requirements.txt (torch, numpy, safetensors).
"""

import hashlib
import json
import os
import sys
from collections import OrderedDict
from pathlib import Path

os.environ.setdefault("ATEN_CPU_CAPABILITY", "default")

import numpy as np  # noqa: E402
import safetensors  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "golden" / "checkpoints"
PINS = {"torch": "2.15.0", "numpy": "2.4.6", "safetensors": "0.8.0"}

DTYPES = {
    torch.float32: "float32",
    torch.float64: "float64",
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
    torch.int64: "int64",
    torch.int32: "int32",
    torch.int16: "int16",
    torch.int8: "int8",
    torch.uint8: "uint8",
    torch.bool: "bool",
    torch.uint16: "uint16",
    torch.uint32: "uint32",
    torch.uint64: "uint64",
}
NP_DTYPES = {
    "float32": "float32", "float64": "float64", "float16": "float16", "int64": "int64",
    "int32": "int32", "int16": "int16", "int8": "int8", "uint8": "uint8", "bool": "bool",
    "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
}


def t_entry(name, t):
    c = t.detach().contiguous().reshape(-1)
    raw = c.view(torch.uint8).numpy().tobytes() if c.numel() else b""
    assert sys.byteorder == "little"
    return {"name": name, "dtype": DTYPES[t.dtype], "shape": list(t.shape),
            "sha256": hashlib.sha256(raw).hexdigest()}


def a_entry(name, a):
    raw = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
    return {"name": name, "dtype": NP_DTYPES[a.dtype.name], "shape": list(a.shape),
            "sha256": hashlib.sha256(raw).hexdigest()}


def flatten(obj, prefix=""):
    """The tensors of a nested dict/list, named as the Rust reader names them."""
    out = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj)
    for k, v in items:
        name = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, torch.Tensor):
            out.append((name, v))
        elif isinstance(v, (dict, list, tuple)):
            out.extend(flatten(v, name))
    return out


def ties(named):
    by = OrderedDict()
    for name, t in named:
        by.setdefault(t.untyped_storage().data_ptr(), []).append(name)
    return [names for names in by.values() if len(names) > 1]


def model_state():
    torch.manual_seed(0)
    m = torch.nn.Sequential(
        torch.nn.Linear(4, 3),
        torch.nn.Conv2d(2, 3, 3),
        torch.nn.BatchNorm1d(3),
        torch.nn.Embedding(5, 2).to(torch.float16),
        torch.nn.LayerNorm(3).to(torch.bfloat16),
        torch.nn.Linear(2, 2).to(torch.float64),
    )
    sd = m.state_dict()
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    sd["extra.transposed"] = base.t()                 # non-contiguous view
    sd["extra.base"] = base
    sd["extra.row"] = base[1]                         # same storage, offset 4
    sd["extra.tied"] = sd["0.weight"]                 # the same tensor twice
    sd["extra.every_other"] = torch.arange(10, dtype=torch.int64)[::2]
    sd["extra.expanded"] = torch.tensor([7], dtype=torch.int32).expand(3)  # stride 0
    sd["extra.mask"] = torch.tensor([True, False, True])
    sd["extra.bytes"] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    sd["extra.int8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
    sd["extra.int16"] = torch.tensor([-2, 300], dtype=torch.int16)
    sd["extra.u16"] = torch.tensor([1, 65535], dtype=torch.uint16)
    sd["extra.u32"] = torch.tensor([1, 2**32 - 1], dtype=torch.uint32)
    sd["extra.u64"] = torch.tensor([1, 2**63 + 5], dtype=torch.uint64)
    sd["extra.scalar"] = torch.tensor(3.5, dtype=torch.float64)
    sd["extra.empty"] = torch.zeros(0, 3)
    return sd


def write_json(path, obj):
    path.write_text(json.dumps(obj, indent=1, sort_keys=False) + "\n")


def write_seeds():
    """Tiny files for the fuzz targets' seed corpora (fuzz/seeds/<target>/)."""
    seeds = ROOT / "fuzz" / "seeds"
    for d in ("pt", "npz", "safetensors"):
        (seeds / d).mkdir(parents=True, exist_ok=True)
    base = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    sd = OrderedDict([("w", base), ("wt", base.t()), ("tie", base),
                      ("h", torch.tensor([1.5], dtype=torch.bfloat16)),
                      ("u", torch.tensor([3], dtype=torch.uint16))])
    torch.save(sd, seeds / "pt" / "tiny.pt")
    torch.save(sd, seeds / "pt" / "tiny_legacy.pt", _use_new_zipfile_serialization=False)
    torch.save({"m": {"a": base[0]}, "n": 1}, seeds / "pt" / "nested.pt", pickle_protocol=4)
    arrays = {"a": np.arange(3, dtype=np.float32), "b": np.array([[True]]), "c": np.int64(5)}
    np.savez(seeds / "npz" / "tiny.npz", **arrays)
    np.savez_compressed(seeds / "npz" / "tiny_compressed.npz", **arrays)
    save_file({"a": base, "b": torch.tensor([1, 2], dtype=torch.int64)},
              seeds / "safetensors" / "tiny.safetensors", metadata={"k": "v"})
    save_file({"e": torch.zeros(0)}, seeds / "safetensors" / "empty.safetensors")


def main():
    versions = {"torch": torch.__version__.split("+")[0], "numpy": np.__version__,
                "safetensors": safetensors.__version__}
    if versions != PINS:
        sys.exit(f"gen_checkpoints: need {PINS}, found {versions}")
    OUT.mkdir(parents=True, exist_ok=True)
    expected = OrderedDict()

    def pt(fname, obj, **kw):
        torch.save(obj, OUT / fname, **kw)
        named = flatten(obj)
        expected[fname] = {"format": "pt (legacy)" if kw.get("_use_new_zipfile_serialization") is False else "pt",
                           "ordered": True, "tensors": [t_entry(n, t) for n, t in named],
                           "ties": ties(named), "metadata": {}}

    sd = model_state()
    pt("state_dict.pt", sd)
    pt("state_dict_legacy.pt", sd, _use_new_zipfile_serialization=False)
    pt("state_dict_protocol4.pt", sd, pickle_protocol=4)
    pt("state_dict_legacy_protocol4.pt", sd, _use_new_zipfile_serialization=False, pickle_protocol=4)
    small = OrderedDict((k, sd[k]) for k in ("0.weight", "0.bias", "2.num_batches_tracked"))
    pt("nested.pt", {"model": small, "epoch": 3, "name": "run-1",
                     "history": [torch.tensor([0.5, 0.25]), {"best": torch.tensor(1)}]})
    torch.manual_seed(1)
    lin = torch.nn.Linear(3, 2)
    pt("parameters.pt", OrderedDict(lin.named_parameters()))

    # safetensors: contiguous, unshared tensors only.
    st = OrderedDict()
    for k, v in sd.items():
        if k in ("extra.transposed", "extra.row", "extra.tied", "extra.every_other",
                 "extra.expanded"):
            continue
        st[k] = v.contiguous().clone()
    meta = {"format": "pt", "seed": "0", "note": "é \"quoted\""}
    save_file(st, OUT / "model.safetensors", metadata=meta)
    expected["model.safetensors"] = {"format": "safetensors", "ordered": False,
                                     "tensors": [t_entry(k, v) for k, v in st.items()],
                                     "ties": [], "metadata": meta}

    rng = np.random.default_rng(0)
    arrays = OrderedDict([
        ("f32", rng.standard_normal((3, 4)).astype(np.float32)),
        ("f64", rng.standard_normal(5)),
        ("f16", rng.standard_normal((2, 2)).astype(np.float16)),
        ("i64", np.arange(-3, 3, dtype=np.int64)),
        ("i32", np.array([-1, 2**31 - 1], dtype=np.int32)),
        ("i16", np.array([-2, 7], dtype=np.int16)),
        ("i8", np.array([-128, 127], dtype=np.int8)),
        ("u8", np.array([0, 255], dtype=np.uint8)),
        ("b1", np.array([True, False, True])),
        ("u16", np.array([0, 65535], dtype=np.uint16)),
        ("u32", np.array([0, 2**32 - 1], dtype=np.uint32)),
        ("u64", np.array([0, 2**64 - 1], dtype=np.uint64)),
        ("scalar", np.float32(2.5).reshape(())),
        ("empty", np.zeros((0, 2), dtype=np.float32)),
        ("layer/0.weight", np.ones((2, 3), dtype=np.float32)),
        ("poids_é", np.zeros(2, dtype=np.float32)),
        ("zeros_8k", np.zeros(2048, dtype=np.float32)),
    ])
    for fname, save in (("arrays.npz", np.savez), ("arrays_compressed.npz", np.savez_compressed)):
        save(OUT / fname, **arrays)
        expected[fname] = {"format": "npz", "ordered": True,
                           "tensors": [a_entry(k, v) for k, v in arrays.items()],
                           "ties": [], "metadata": {}}

    write_seeds()
    write_json(OUT / "expected.json", {"generated_by": "tools/gen_checkpoints.py",
                                       "versions": versions, "files": expected})
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(expected)} checkpoints to {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
