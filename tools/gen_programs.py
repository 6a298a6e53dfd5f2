#!/usr/bin/env python3
"""Records the program fixtures and what the real models give: golden/programs/.

For every spec below:
1. `tools/record_init.py` records the model (in the spec's release) into
   `golden/programs/<name>.json`;
2. the real model is built in real PyTorch for seeds 0, 1 and 1234 under
   ATEN_CPU_CAPABILITY=default and avx2 (one subprocess per capability, the variable set before
   `import torch`), and the SHA-256 of every state_dict entry goes to
   `golden/programs/results.json`; entries that an op reproduced only within a bound wrote into
   (erfinv_, orthogonal_, trunc_normal_ before 2.12) also get their bytes, in hex.

Usage:  ~/torch-venv/bin/python tools/gen_programs.py [--results-only] [NAME...]
(--results-only keeps the program files that exist and only rebuilds the results)

Needs the libraries of tools/requirements.txt in ~/torch-venv, nanoGPT's model.py in
$NANOGPT_DIR (default /work/ext/nanoGPT; golden/README.md says how to get it), and for the specs
of an older release its venv in $TORCH_RNG_VENVS/<release> (default ~/torch-venvs). Output is
byte-stable.
"""

import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "golden", "programs")
PINNED = "2.15.0"
SEEDS = [0, 1, 1234]
CAPABILITIES = ["default", "avx2"]
NANOGPT = os.environ.get("NANOGPT_DIR", "/work/ext/nanoGPT")
VENVS = os.environ.get("TORCH_RNG_VENVS", os.path.expanduser("~/torch-venvs"))

# name, expression, extra sys.path folders, release
SPECS = [
    ("resnet18", "torchvision.models.resnet18()", [], PINNED),
    (
        "bert_tiny",
        "transformers.BertModel(transformers.BertConfig(hidden_size=32, num_hidden_layers=2, "
        "num_attention_heads=2, intermediate_size=64, vocab_size=64, max_position_embeddings=16))",
        [],
        PINNED,
    ),
    (
        "gpt2_tiny",
        "transformers.GPT2LMHeadModel(transformers.GPT2Config(n_embd=32, n_layer=2, n_head=2, "
        "vocab_size=64, n_positions=16))",
        [],
        PINNED,
    ),
    (
        "llama_tiny",
        "transformers.LlamaForCausalLM(transformers.LlamaConfig(hidden_size=32, num_hidden_layers=2, "
        "num_attention_heads=2, num_key_value_heads=1, intermediate_size=64, vocab_size=64, "
        "max_position_embeddings=16))",
        [],
        PINNED,
    ),
    (
        "vit_timm_tiny",
        "timm.models.vision_transformer.VisionTransformer(img_size=16, patch_size=8, embed_dim=8, "
        "depth=1, num_heads=2, mlp_ratio=2.0, num_classes=2)",
        [],
        PINNED,
    ),
    (
        "nanogpt_tiny",
        "model.GPT(model.GPTConfig(block_size=16, vocab_size=64, n_layer=2, n_head=2, n_embd=32))",
        [NANOGPT],
        PINNED,
    ),
    ("features_generators", "program_models.Generators()", [HERE], PINNED),
    ("features_views", "program_models.Views()", [HERE], PINNED),
    ("features_arithmetic", "program_models.Arithmetic()", [HERE], PINNED),
    ("features_init", "program_models.InitFunctions()", [HERE], PINNED),
    ("features_meta", "program_models.meta_built()", [HERE], PINNED),
    ("features_orthogonal", "program_models.Orthogonal()", [HERE], PINNED),
    ("eras_2_5_1_generators", "program_models.Generators()", [HERE], "2.5.1"),
    ("eras_2_5_1_views", "program_models.Views()", [HERE], "2.5.1"),
    ("eras_2_5_1_arithmetic", "program_models.Arithmetic()", [HERE], "2.5.1"),
    ("eras_2_5_1_init", "program_models.InitFunctions()", [HERE], "2.5.1"),
]


def python_for(release):
    if release == PINNED:
        return sys.executable
    exe = os.path.join(VENVS, release, "bin", "python")
    if not os.path.exists(exe):
        sys.exit(
            f"gen_programs: PyTorch {release} is not installed in {exe}: python3 -m venv "
            f"{VENVS}/{release} && {VENVS}/{release}/bin/pip install torch=={release} 'numpy<2'"
        )
    return exe


def bounded_entries(program):
    """State_dict names that an op reproduced only within a bound wrote into (the rules of
    src/program/exec.rs)."""
    release = tuple(int(x) for x in program["torch_version"].split(".")[:2])
    bounded = []  # per tensor
    cursor = [-1]

    def ref(r):
        delta = r if isinstance(r, int) else r[0]
        cursor[0] += delta
        return cursor[0]

    def walk(steps):
        for s in steps:
            if "repeat" in s:
                for _ in range(s["repeat"]):
                    walk(s["steps"])
                continue
            op = s["op"]
            if op in ("empty", "literal", "randperm"):
                bounded.append(False)
                cursor[0] = len(bounded) - 1
                continue
            t = ref(s["t"]) if "t" in s else None
            src = ref(s["src"]) if "src" in s else None
            if op == "erfinv_" or op == "nn.init.orthogonal_" or (op == "nn.init.trunc_normal_" and release < (2, 12)):
                bounded[t] = True
            if op == "exponential_" and release < (2, 7):
                bounded[t] = True
            if src is not None and bounded[src]:
                bounded[t] = True

    walk(program["steps"])
    return [e[0] for e in program["state_dict"] if bounded[e[1]]]


def child(capability):
    """Builds every model of the specs on stdin for every seed; prints results as JSON."""
    import importlib
    import re

    import torch

    cap = torch.backends.cpu.get_cpu_capability().lower() if hasattr(torch.backends, "cpu") else capability
    want = {"default": ("default", "no avx"), "avx2": ("avx2",)}[capability]
    if cap not in want:
        sys.exit(f"gen_programs: asked for {capability}, PyTorch runs {cap}")
    specs = json.load(sys.stdin)
    stdout = sys.stdout
    sys.stdout = sys.stderr  # model code may print
    out = {}
    for name, expr, paths, bounded in specs:
        for p in paths:
            if p not in sys.path:
                sys.path.insert(0, p)
        env = {}
        for m in re.finditer(r"\b([A-Za-z_][A-Za-z0-9_]*)\.", expr):
            try:
                env[m.group(1)] = importlib.import_module(m.group(1))
            except ImportError:
                pass
        for sub in re.finditer(r"\b([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)", expr):
            parts = sub.group(1).split(".")
            for k in range(len(parts), 1, -1):
                try:
                    importlib.import_module(".".join(parts[:k]))
                    break
                except ImportError:
                    continue
        runs = []
        for seed in SEEDS:
            torch.manual_seed(seed)
            model = eval(expr, env)
            shas, values = [], {}
            for key, t in model.state_dict().items():
                t = t.detach().contiguous()
                raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
                shas.append(hashlib.sha256(raw).hexdigest())
                if key in bounded:
                    values[key] = raw.hex()
            run = {"seed": seed, "capability": capability, "sha256": shas}
            if values:
                run["values"] = values
            runs.append(run)
        out[name] = runs
    json.dump({"torch_build": torch.__version__, "results": out}, stdout)


def main(names, record=True):
    os.makedirs(OUT, exist_ok=True)
    results_path = os.path.join(OUT, "results.json")
    old = {}
    if os.path.exists(results_path):
        with open(results_path, encoding="utf-8") as f:
            old = json.load(f)["programs"]
    specs = [s for s in SPECS if not names or s[0] in names]
    programs = {}
    builds = {}
    by_release = {}
    for name, expr, paths, release in specs:
        exe = python_for(release)
        path = os.path.join(OUT, f"{name}.json")
        cmd = [exe, os.path.join(HERE, "record_init.py"), "-o", path]
        for p in paths:
            cmd += ["--path", p]
        cmd.append(expr)
        if record or not os.path.exists(path):
            print(f"recording {name} ({release})", file=sys.stderr)
            subprocess.run(cmd, check=True, env={**os.environ, "ATEN_CPU_CAPABILITY": "avx2"})
        with open(path, encoding="utf-8") as f:
            program = json.load(f)
        by_release.setdefault(release, []).append((name, expr, paths, bounded_entries(program)))
        programs[name] = {"expr": expr, "torch_version": program["torch_version"], "bytes": os.path.getsize(path)}
    for release, group in by_release.items():
        exe = python_for(release)
        for cap in CAPABILITIES:
            print(f"building {len(group)} models in {release} under {cap}", file=sys.stderr)
            r = subprocess.run(
                [exe, os.path.abspath(__file__), "--child", cap],
                input=json.dumps(group),
                capture_output=True,
                text=True,
                env={**os.environ, "ATEN_CPU_CAPABILITY": cap},
            )
            if r.returncode != 0:
                sys.exit(r.stderr)
            got = json.loads(r.stdout)
            builds[release] = got["torch_build"]
            for name, runs in got["results"].items():
                programs[name].setdefault("runs", []).extend(runs)
    merged = dict(old)
    for name, p in programs.items():
        p["runs"].sort(key=lambda r: (r["capability"], r["seed"]))
        merged[name] = p
    merged = {k: merged[k] for k in sorted(merged)}
    doc = {
        "format": "torch-rng-program-results/1",
        "generator": "tools/gen_programs.py",
        "seeds": SEEDS,
        "capabilities": CAPABILITIES,
        "programs": merged,
    }
    with open(results_path, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    for name in sorted(programs):
        print(f"{name}: {programs[name]['bytes']} bytes", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    elif sys.argv[1:2] == ["--results-only"]:
        main(sys.argv[2:], record=False)
    else:
        main(sys.argv[1:])
