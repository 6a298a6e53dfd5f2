#!/usr/bin/env python3
"""Load the checkpoints torch-rng's writers produce with the real libraries and compare.

examples/write_checkpoints.rs writes ours.safetensors, ours.npz, ours_zip64.npz (zip64 records
for every member), ours_many.npz (70,000 members: zip64 end records) and manifest.json (name,
dtype, shape, sha256 of the bytes, computed in Rust). This loads the safetensors file with
safetensors.torch.load_file (and its metadata with safe_open), the npz files with numpy.load
(and zipfile's own CRC check), and compares names, order, dtypes, shapes and bytes.

Usage:
    cargo run --release --example write_checkpoints -- /tmp/ckw
    ~/torch-venv/bin/python tools/check_checkpoint_writers.py /tmp/ckw
"""

import hashlib
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

NP_NAMES = {"float32": "float32", "float64": "float64", "float16": "float16",
            "bfloat16": "uint16", "int64": "int64", "int32": "int32", "int16": "int16",
            "int8": "int8", "uint8": "uint8", "bool": "bool", "uint16": "uint16",
            "uint32": "uint32", "uint64": "uint64"}


def raw(t):
    c = t.contiguous().reshape(-1)
    return c.view(torch.uint8).numpy().tobytes() if c.numel() else b""


def main(d):
    d = Path(d)
    manifest = json.loads((d / "manifest.json").read_text())
    want = manifest["tensors"]
    bad = []

    st = load_file(d / "ours.safetensors")
    with safe_open(d / "ours.safetensors", "pt") as f:
        if f.metadata() != manifest["metadata"]:
            bad.append(f"safetensors metadata {f.metadata()}")
    if sorted(st) != sorted(w["name"] for w in want):
        bad.append("safetensors names differ")
    for w in want:
        t = st[w["name"]]
        got = (str(t.dtype).removeprefix("torch."), list(t.shape), hashlib.sha256(raw(t)).hexdigest())
        if got != (w["dtype"], w["shape"], w["sha256"]):
            bad.append(f"safetensors {w['name']}: {got}")

    for f in ("ours.npz", "ours_zip64.npz"):
        with zipfile.ZipFile(d / f) as z:
            if z.testzip() is not None:
                bad.append(f"{f}: CRC error")
        with np.load(d / f) as z:
            if list(z.keys()) != [w["name"] for w in want]:
                bad.append(f"{f}: keys {list(z.keys())[:5]}...")
            for w in want:
                a = z[w["name"]]
                got = (a.dtype.name, list(a.shape), hashlib.sha256(a.tobytes()).hexdigest())
                if got != (NP_NAMES[w["dtype"]], w["shape"], w["sha256"]):
                    bad.append(f"{f} {w['name']}: {got}")
    with np.load(d / "ours_many.npz") as z:
        keys = list(z.keys())
        if len(keys) != 70_000 or keys[-1] != "m69999" or z["m69999"].tolist() != [69999 % 251]:
            bad.append("ours_many.npz")
    if bad:
        sys.exit("FAILED:\n" + "\n".join(bad))
    print(f"ok: {len(want)} tensors in safetensors and 2 npz files, 70000 members in ours_many.npz")


if __name__ == "__main__":
    main(sys.argv[1])
