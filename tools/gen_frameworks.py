#!/usr/bin/env python3
"""Write the fixtures of the framework adapters (golden/frameworks/*.json) from real PyTorch.

Each fixture is one small model written as an ordinary PyTorch class (below), built after
``torch.manual_seed(seed)`` for every seed in SEEDS, and run forward once, in ``eval()`` mode
under ``torch.no_grad()``, on fixed inputs. It records:

* the ``state_dict`` (name, dtype, shape and SHA-256 of the little-endian bytes of every
  tensor, in ``state_dict`` order): the Rust adapters build the same weights with torch-rng and
  must match these bit for bit before their forward pass;
* the output of that forward pass (shape, dtype, SHA-256 and the raw little-endian bytes as hex):
  candle (``torch-rng-candle``) and burn (``torch-rng-burn``) compute it again in their own
  float32 kernels and compare within the tolerance their tests state;
* the PyTorch build, the CPU capability and the thread count it ran with.

Models:

* ``gpt2_tiny``: a GPT-2 / nanoGPT decoder (``GPT`` below; 3 layers, 4 heads, 32 wide, 100
  tokens, context 16), with nanoGPT's ``_init_weights`` and the scaled ``c_proj`` init. The
  script also checks that ``examples/models/gpt2_tiny.json`` (torch-rng's description of it)
  builds, in PyTorch through ``tools/golden_ops/modules.py``, exactly this class's
  ``state_dict``. The candle adapter's test reads it.
* ``tiny_mlp``: Embedding -> Linear -> GELU -> LayerNorm -> Linear -> ReLU -> Linear without
  bias, with PyTorch's default init. The burn adapter's test reads it.

Like ``gen_golden.py`` it refuses to run unless the installed torch is the pinned release
(``golden/releases.json``, "latest"), runs the models in a child process with
``ATEN_CPU_CAPABILITY`` set before ``import torch`` and one thread, and writes byte-stable JSON.

Usage:
    ~/torch-venv/bin/python tools/gen_frameworks.py
"""

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASES = json.loads((ROOT / "golden" / "releases.json").read_text(encoding="utf-8"))
PINNED_TORCH = RELEASES["latest"]
OUT_DIR = ROOT / "golden" / "frameworks"
FORMAT = "torch-rng-frameworks/1"
CAPABILITY = "avx2"
CAPABILITIES = {"default": "DEFAULT", "avx2": "AVX2", "avx512": "AVX512"}
SEEDS = (0, 1234)
WIDTH = 100

# gpt2_tiny: the sizes of examples/models/gpt2_tiny.json; n_head is not in a state_dict.
GPT_CONFIG = {"vocab_size": 100, "block_size": 16, "n_embd": 32, "n_layer": 3, "n_head": 4,
              "dropout": 0.1}
# Two sequences of the full context length, fixed by formula so they read as data.
GPT_TOKENS = [[(37 * i + 11) % 100 for i in range(16)],
              [(13 * i * i + 5) % 100 for i in range(16)]]

MLP_CONFIG = {"num_embeddings": 16, "embedding_dim": 8, "hidden": 32, "out": 4}
MLP_TOKENS = [[(5 * i + 3) % 16 for i in range(5)], [(7 * i * i + 1) % 16 for i in range(5)],
              [15, 0, 15, 0, 8]]


def define_models(torch):
    nn = torch.nn
    F = torch.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c_attn = nn.Linear(c["n_embd"], 3 * c["n_embd"])
            self.c_proj = nn.Linear(c["n_embd"], c["n_embd"])
            self.attn_dropout = nn.Dropout(c["dropout"])
            self.resid_dropout = nn.Dropout(c["dropout"])
            self.n_head = c["n_head"]
            self.n_embd = c["n_embd"]

        def forward(self, x):
            b, t, c = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            q = q.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
            k = k.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
            v = v.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
            # nanoGPT's explicit attention (its path without flash attention).
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            mask = torch.tril(torch.ones(t, t, dtype=torch.bool))
            att = att.masked_fill(~mask, float("-inf"))
            att = self.attn_dropout(F.softmax(att, dim=-1))
            y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
            return self.resid_dropout(self.c_proj(y))

    class MLP(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c_fc = nn.Linear(c["n_embd"], 4 * c["n_embd"])
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * c["n_embd"], c["n_embd"])
            self.dropout = nn.Dropout(c["dropout"])

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.ln_1 = nn.LayerNorm(c["n_embd"])
            self.attn = CausalSelfAttention(c)
            self.ln_2 = nn.LayerNorm(c["n_embd"])
            self.mlp = MLP(c)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(c["vocab_size"], c["n_embd"]),
                wpe=nn.Embedding(c["block_size"], c["n_embd"]),
                drop=nn.Dropout(c["dropout"]),
                h=nn.ModuleList([Block(c) for _ in range(c["n_layer"])]),
                ln_f=nn.LayerNorm(c["n_embd"]),
            ))
            self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"], bias=False)
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith("c_proj.weight"):
                    nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * c["n_layer"]))

        @staticmethod
        def _init_weights(module):
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx):
            t = idx.size(1)
            pos = torch.arange(0, t, dtype=torch.long)
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
            for block in self.transformer.h:
                x = block(x)
            return self.lm_head(self.transformer.ln_f(x))

    class TinyMlp(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.emb = nn.Embedding(c["num_embeddings"], c["embedding_dim"])
            self.fc1 = nn.Linear(c["embedding_dim"], c["hidden"])
            self.norm = nn.LayerNorm(c["hidden"])
            self.fc2 = nn.Linear(c["hidden"], c["hidden"])
            self.head = nn.Linear(c["hidden"], c["out"], bias=False)

        def forward(self, tokens):
            x = self.norm(F.gelu(self.fc1(self.emb(tokens))))
            return self.head(F.relu(self.fc2(x)))

    return GPT, TinyMlp


def raw(torch, t):
    return t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def dtype_name(torch, t):
    return str(t.dtype).removeprefix("torch.")


def entry(torch, name, t, with_data):
    b = raw(torch, t)
    e = {"name": name, "dtype": dtype_name(torch, t), "shape": list(t.shape),
         "sha256": hashlib.sha256(b).hexdigest()}
    if with_data:
        e["data_hex"] = b.hex()
    return e


def run_model(torch, cls, config, tokens):
    runs = []
    for seed in SEEDS:
        torch.manual_seed(seed)
        model = cls(config)
        sd = [entry(torch, n, t, False) for n, t in model.state_dict().items()]
        model.eval()
        with torch.no_grad():
            out = model(torch.tensor(tokens, dtype=torch.long))
        runs.append({"seed": seed, "state_dict": sd, "output": entry(torch, "output", out, True)})
    return runs


def check_description(torch, gpt_cls):
    """examples/models/gpt2_tiny.json, built in PyTorch by the fixtures' reference builder,
    must be this GPT class bit for bit (so the candle test may build either)."""
    sys.path.insert(0, str(ROOT / "tools"))
    from golden_ops.modules import build_model

    desc = json.loads((ROOT / "examples" / "models" / "gpt2_tiny.json").read_text("utf-8"))
    for seed in SEEDS:
        torch.manual_seed(seed)
        ref = gpt_cls(GPT_CONFIG).state_dict()
        torch.manual_seed(seed)
        got = build_model(torch, desc).state_dict()
        if list(ref) != list(got) or any(raw(torch, ref[k]) != raw(torch, got[k]) for k in ref):
            sys.exit(f"gen_frameworks: examples/models/gpt2_tiny.json is not the GPT class "
                     f"(seed {seed})")


def child_main(out_path):
    import torch

    if torch.__version__.split("+")[0] != PINNED_TORCH:
        sys.exit(f"gen_frameworks: child sees torch {torch.__version__}, expected {PINNED_TORCH}")
    got = torch.backends.cpu.get_cpu_capability()
    if got != CAPABILITIES[CAPABILITY]:
        sys.exit(f"gen_frameworks: asked for ATEN_CPU_CAPABILITY={CAPABILITY}, PyTorch uses {got}")
    torch.set_num_threads(1)
    gpt_cls, mlp_cls = define_models(torch)
    check_description(torch, gpt_cls)
    common = {"format": FORMAT, "generator": "tools/gen_frameworks.py",
              "torch_version": torch.__version__, "capability": CAPABILITY,
              "threads": torch.get_num_threads()}
    docs = {
        "gpt2_tiny": dict(common, model="gpt2_tiny", python_class="GPT",
                          description="examples/models/gpt2_tiny.json", config=GPT_CONFIG,
                          input={"name": "idx", "dtype": "int64", "data": GPT_TOKENS},
                          runs=run_model(torch, gpt_cls, GPT_CONFIG, GPT_TOKENS)),
        "tiny_mlp": dict(common, model="tiny_mlp", python_class="TinyMlp", config=MLP_CONFIG,
                         input={"name": "tokens", "dtype": "int64", "data": MLP_TOKENS},
                         runs=run_model(torch, mlp_cls, MLP_CONFIG, MLP_TOKENS)),
    }
    Path(out_path).write_text(json.dumps(docs), encoding="utf-8")


def dump(doc):
    """Byte-stable JSON: a list or object that fits on one line of WIDTH stays on one line."""
    def compact(v):
        return json.dumps(v, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))

    def fmt(v, indent):
        one = compact(v)
        if not isinstance(v, (dict, list)) or len(one) + indent <= WIDTH or not v:
            return one
        pad = " " * (indent + 1)
        if isinstance(v, dict):
            items = [f"{pad}{compact(k)}: {fmt(x, indent + 1)}" for k, x in v.items()]
            return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
        items = [f"{pad}{fmt(x, indent + 1)}" for x in v]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"

    return fmt(doc, 0) + "\n"


def main(argv):
    if argv[:1] == ["--child"]:
        child_main(argv[1])
        return
    if argv:
        sys.exit(__doc__.strip().splitlines()[-1])
    if sys.byteorder != "little":
        sys.exit("gen_frameworks: tensor bytes are recorded little-endian; run on a "
                 "little-endian host")
    try:
        import torch
    except ImportError as e:
        sys.exit(f"gen_frameworks: cannot import torch ({e}); install tools/requirements.txt")
    if torch.__version__.split("+")[0] != PINNED_TORCH:
        sys.exit(f"gen_frameworks: torch {torch.__version__} is installed but the fixtures are "
                 f"pinned to {PINNED_TORCH}; install it with: pip install -r "
                 f"tools/requirements.txt")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tmp = OUT_DIR / ".child.json"
    env = dict(os.environ, ATEN_CPU_CAPABILITY=CAPABILITY, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(tmp)],
                          env=env)
    if proc.returncode != 0:
        sys.exit(f"gen_frameworks: the child failed (exit {proc.returncode})")
    docs = json.loads(tmp.read_text(encoding="utf-8"))
    tmp.unlink()
    for name, doc in docs.items():
        path = OUT_DIR / f"{name}.json"
        path.write_text(dump(doc), encoding="utf-8")
        print(f"gen_frameworks: wrote {path.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
