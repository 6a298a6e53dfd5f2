#!/usr/bin/env python3
"""Check that the files `torch-rng init` writes load in Python and equal PyTorch's weights.

For every model description in examples/models/ (or the files named), every seed in SEEDS
and both kernel variants, this runs `torch-rng init` twice (.safetensors and .npz), loads
the files with safetensors.torch.load_file and numpy.load, builds the same model in real
PyTorch (tools/golden_ops/modules.py, the reference builder of the golden fixtures) under
that ATEN_CPU_CAPABILITY, and compares names, order, dtypes, shapes and bytes.

Usage (after `cargo build --release`):
    ~/torch-venv/bin/python tools/check_init_export.py [MODEL.json ...]
Needs `safetensors` (pip install safetensors) besides tools/requirements.txt.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "torch-rng"
SEEDS = (0, 1, 1234)
VARIANTS = ("default", "avx2")


def raw(torch, t):
    return t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def child(variant, paths):
    import numpy as np
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file

    sys.path.insert(0, str(ROOT / "tools"))
    from golden_ops.modules import build_model

    torch.set_num_threads(1)
    failures = checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            desc = json.loads(Path(path).read_text(encoding="utf-8"))
            for seed in SEEDS:
                st, nz = Path(tmp) / "w.safetensors", Path(tmp) / "w.npz"
                for out in (st, nz):
                    subprocess.run([str(BINARY), "init", str(path), "--seed", str(seed),
                                    "--variant", variant, "-o", str(out)], check=True)
                torch.manual_seed(seed)
                ref = build_model(torch, desc).state_dict()
                got = load_file(str(st))
                with safe_open(str(st), framework="pt") as f:
                    meta = f.metadata()
                npz = np.load(str(nz))
                where = f"{Path(path).name} seed {seed} {variant}"
                problems = []
                if list(got) != list(ref) and sorted(got) != sorted(ref):
                    problems.append(f"names differ: {list(got)} vs {list(ref)}")
                if list(npz.files) != [k + "" for k in ref]:
                    problems.append("npz member order differs from state_dict order")
                for k, r in ref.items():
                    g = got.get(k)
                    rb = raw(torch, r)
                    if g is None or g.dtype != r.dtype or g.shape != r.shape or raw(torch, g) != rb:
                        problems.append(f"safetensors {k} differs")
                    a = npz[k] if k in npz.files else None
                    if a is None or a.tobytes() != rb or list(a.shape) != list(r.shape):
                        problems.append(f"npz {k} differs")
                if meta.get("seed") != str(seed) or meta.get("variant") != variant:
                    problems.append(f"metadata {meta}")
                checked += 1
                if problems:
                    failures += 1
                    print(f"FAIL {where}: " + "; ".join(problems[:5]))
                else:
                    print(f"ok   {where}: {len(ref)} tensors")
    return failures, checked


def main(argv):
    if argv[:1] == ["--child"]:
        failures, checked = child(argv[1], argv[2:])
        sys.exit(1 if failures else 0)
    paths = argv or [str(p) for p in sorted((ROOT / "examples" / "models").glob("*.json"))]
    if not BINARY.exists():
        sys.exit(f"{BINARY} not found: run cargo build --release first")
    bad = 0
    for variant in VARIANTS:
        env = dict(os.environ, ATEN_CPU_CAPABILITY=variant, OMP_NUM_THREADS="1")
        bad |= subprocess.run([sys.executable, __file__, "--child", variant, *paths],
                              env=env).returncode
    print("all files equal PyTorch's state_dict" if not bad else "MISMATCHES")
    sys.exit(bad)


if __name__ == "__main__":
    main(sys.argv[1:])
