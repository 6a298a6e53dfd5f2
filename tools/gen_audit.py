#!/usr/bin/env python3
"""Write golden/audit/: checkpoints made by real PyTorch, and what `torch-rng audit` must say.

Each case builds a model description (tools/golden_ops/modules.py builds it in PyTorch, as the
Python __init__ would) after torch.manual_seed(SEED) under one kernel variant, changes it as a
user would (re-initialise a tensor, scale one, one SGD step, tie two weights after init), and
saves the state_dict with torch.save or safetensors.torch. The expected audit answers in
expected.json are derived from what this script did, never written by hand:

* `seed`: the seed given to manual_seed; `found_in`: whether it is one of the common seeds
  (src/audit/search.rs COMMON_SEEDS, read from the source) or in the searched range;
* `variants`: the searched variants whose untouched build gives the same bits as the case's own
  variant (each variant is built in its own process, ATEN_CPU_CAPABILITY being read at import);
* per tensor: `decided_by_seed` (its untouched bits differ between SEED and SEED + 1),
  `status` (identical, variant_ulp when only the variant's last bits differ from every searched
  variant's build, modified with `how`, reinitialised with the call that did it), and `tie_of`.

Usage:
    ~/torch-venv/bin/python tools/gen_audit.py
Needs tools/requirements.txt (torch, numpy, safetensors).
"""

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "golden" / "audit"
PINS = {"torch": "2.15.0", "safetensors": "0.8.0"}

MLP = {
    "format": "torch-rng-model/1",
    "modules": [
        {"name": "fc1", "module": "Linear", "in_features": 16, "out_features": 32},
        {"name": "norm", "module": "LayerNorm", "normalized_shape": 32},
        {"name": "fc2", "module": "Linear", "in_features": 32, "out_features": 8},
    ],
}
PAIR = {
    "format": "torch-rng-model/1",
    "modules": [
        {"name": "a", "module": "Linear", "in_features": 24, "out_features": 24},
        {"name": "b", "module": "Linear", "in_features": 24, "out_features": 24},
    ],
}

# name, model file, seed, variant, saver, changes, searched variants, seed range (None: common)
CASES = [
    # Untouched, a common seed.
    ("mlp_seed42", "mlp.json", 42, "default", "safetensors", [], ["default", "avx2"], None),
    # Re-initialised right after the build (continuing the stream) and scaled; a seed of the
    # range.
    ("mlp_seed24601_reinit_scaled", "mlp.json", 24601, "default", "pt",
     [["normal_", "fc2.weight", 0.0, 0.02], ["mul_", "fc1.bias", 0.5]],
     ["default", "avx2"], [0, 99999]),
    # One SGD step (lr 0.01, mean of squared outputs of a random batch).
    ("mlp_seed5150_sgd", "mlp.json", 5150, "avx2", "safetensors", [["sgd", 0.01]],
     ["default", "avx2"], [0, 9999]),
    # A tie made after init: b.weight = a.weight, saved by torch.save (one storage).
    ("pair_seed3407_tied", "pair.json", 3407, "default", "pt", [["tie", "b.weight", "a.weight"]],
     ["default", "avx2"], None),
    # A CNN with BatchNorm buffers (constant by construction), built under avx2 and searched
    # under default only: kaiming_normal_'s normal fill differs in the last bits.
    ("cnn_seed1234_avx2", "cnn.json", 1234, "avx2", "pt", [], ["default"], None),
    ("cnn_seed1234_avx2_both", "cnn.json", 1234, "avx2", "safetensors", [],
     ["default", "avx2"], None),
]


def common_seeds():
    text = (ROOT / "src" / "audit" / "search.rs").read_text()
    body = text.split("pub const COMMON_SEEDS: &[u64] = &[", 1)[1].split("];", 1)[0]
    out = []
    for item in body.split(","):
        item = re.sub(r"//.*", "", item).strip().replace("_", "")
        if not item:
            continue
        out.append(eval(item.replace("(1 << 32)", "(1 << 32)")))  # noqa: S307 (our own literals)
    return out


def worker(spec):
    """Runs in a process whose ATEN_CPU_CAPABILITY is the variant: builds the model for the
    seed and seed + 1, applies the changes, saves the file; prints the bits as JSON."""
    import torch
    from safetensors.torch import save_file

    sys.path.insert(0, str(ROOT / "tools"))
    from golden_ops.modules import build_model

    desc = json.loads((OUT / spec["model"]).read_text())

    def state(model):
        return {k: v.detach().clone() for k, v in model.state_dict().items()}

    def enc(sd):
        return {k: {"dtype": str(v.dtype).removeprefix("torch."), "shape": list(v.shape),
                    "b64": base64.b64encode(v.contiguous().reshape(-1).view(torch.uint8)
                                            .numpy().tobytes()).decode()}
                for k, v in sd.items()}

    torch.manual_seed(spec["seed"] + 1)
    other = state(build_model(torch, desc))
    torch.manual_seed(spec["seed"])
    model = build_model(torch, desc)
    init = state(model)
    reproduced = {}
    params = dict(model.named_parameters())
    fresh = True  # nothing drawn since the build
    for change in spec["changes"]:
        kind = change[0]
        with torch.no_grad():
            if kind == "normal_":
                torch.nn.init.normal_(params[change[1]], change[2], change[3])
                if fresh:
                    reproduced[change[1]] = True
            elif kind == "mul_":
                params[change[1]].mul_(change[2])
            elif kind == "tie":
                dst_mod, dst_attr = change[1].rsplit(".", 1)
                src_mod, src_attr = change[2].rsplit(".", 1)
                setattr(model.get_submodule(dst_mod), dst_attr,
                        getattr(model.get_submodule(src_mod), src_attr))
        if kind == "sgd":
            fresh = False
            opt = torch.optim.SGD(model.parameters(), lr=change[1])
            first = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
            x = torch.randn(4, first.in_features)
            out = model.fc2(torch.relu(model.norm(model.fc1(x))))
            out.square().mean().backward()
            opt.step()
    final = model.state_dict()
    path = spec.get("out")
    if path:
        if spec["saver"] == "pt":
            torch.save(final, path)
        else:
            save_file({k: v.contiguous() for k, v in final.items()}, path)
    print(json.dumps({"init": enc(init), "other": enc(other), "final": enc(final),
                      "reproduced": reproduced, "torch": torch.__version__}))


def run_worker(spec, variant):
    env = dict(os.environ, ATEN_CPU_CAPABILITY=variant)
    r = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], env=env,
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def arrays(enc):
    import numpy as np
    import torch

    out = {}
    for k, v in enc.items():
        raw = np.frombuffer(base64.b64decode(v["b64"]), dtype=np.uint8)
        t = torch.from_numpy(raw.copy()).view(getattr(torch, v["dtype"])).reshape(v["shape"])
        out[k] = t
    return out


def bits(t):
    return bytes(t.contiguous().reshape(-1).view(__import__("torch").uint8).numpy())


def ulps(a, b):
    """The largest distance in units in the last place between two float32 tensors."""
    import torch

    def ordinal(t):
        i = t.contiguous().view(torch.int32).to(torch.int64)
        return torch.where(i < 0, -(i & 0x7FFFFFFF), i)

    return int((ordinal(a) - ordinal(b)).abs().max()) if a.numel() else 0


def scale_ulps(a, b):
    """The largest absolute difference in ulp of the larger magnitude of b (float32)."""
    import math

    largest = float(b.abs().max())
    ulp = 2.0 ** (math.floor(math.log2(largest)) - 23)
    return float((a.double() - b.double()).abs().max()) / ulp


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "mlp.json").write_text(json.dumps(MLP, indent=1) + "\n")
    (OUT / "pair.json").write_text(json.dumps(PAIR, indent=1) + "\n")
    (OUT / "cnn.json").write_text((ROOT / "examples" / "models" / "cnn.json").read_text())
    common = common_seeds()
    cases = []
    for name, model, seed, variant, saver, changes, searched, seeds in CASES:
        ext = "pt" if saver == "pt" else "safetensors"
        file = f"{name}.{ext}"
        spec = {"model": model, "seed": seed, "saver": saver, "changes": changes}
        own = run_worker(dict(spec, out=str(OUT / file)), variant)
        assert own["torch"].startswith(PINS["torch"]), own["torch"]
        builds = {variant: arrays(own["init"])}
        for v in searched:
            if v not in builds:
                builds[v] = arrays(run_worker(spec, v)["init"])
        init, other, final = builds[variant], arrays(own["other"]), arrays(own["final"])
        same = [v for v in searched
                if all(bits(builds[v][k]) == bits(init[k]) for k in init)]
        tensors = []
        changed = {c[1]: c for c in changes if c[0] != "sgd"}
        trained = any(c[0] == "sgd" for c in changes)
        for k, t in final.items():
            e = {"name": k, "decided_by_seed": bits(init[k]) != bits(other[k])}
            c = changed.get(k)
            if c and c[0] == "normal_":
                e["status"] = "reinitialised"
                e["fits"] = f"normal_(mean={c[2]!r}, std={c[3]!r})"
                e["reproduced"] = own["reproduced"].get(k, False)
            elif c and c[0] == "mul_":
                e["status"] = "modified"
                e["how"] = {"kind": "scaled", "factor": c[2]}
            elif c and c[0] == "tie":
                e["status"] = "modified"
                e["how"] = {"kind": "tie", "of": c[2]}
                e["tie_of"] = c[2]
            elif bits(t) != bits(init[k]):
                assert trained, k
                e["status"] = "modified"
                e["how"] = {"kind": "perturbed"}
            elif any(bits(t) == bits(builds[v][k]) for v in searched):
                e["status"] = "identical"
            else:
                # Every searched variant's build differs from the file: how far the nearest is,
                # in ulp of the element and in ulp of the tensor's largest magnitude.
                e["status"] = "variant_ulp"
                e["max_ulp"] = min(ulps(t, builds[v][k]) for v in searched)
                e["max_scale_ulp"] = min(scale_ulps(t, builds[v][k]) for v in searched)
            tensors.append(e)
        cases.append({
            "name": name,
            "file": file,
            "format": "pt" if saver == "pt" else "safetensors",
            "model": model,
            "made_with": {"seed": seed, "variant": variant, "torch": PINS["torch"],
                          "changes": changes},
            "options": {"seeds": seeds, "variants": searched},
            "seed": seed,
            "found_in": "common seeds" if seed in common else "range",
            "variants": same,
            "verdict": ("identical" if all(e["status"] == "identical" for e in tensors)
                        else "differs"),
            "tensors": tensors,
        })
    doc = {"generated_by": "tools/gen_audit.py", "pins": PINS, "cases": cases}
    (OUT / "expected.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        worker(json.loads(sys.argv[2]))
    else:
        main()
