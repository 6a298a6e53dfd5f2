"""Cases that compare natural model descriptions with the real models they describe (torchvision
resnet18 and ViT, Hugging Face BERT, GPT-2 and Llama, a timm ViT, nanoGPT):
golden/cases/models_real.json.

Each description in examples/models/real/ is replayed by torch-rng (`cargo test --test golden`),
while tools/gen_golden.py builds, for the same seed and kernel variant, the *real* model from its
library (the `python` expression of the step: torchvision, transformers, timm, nanoGPT's model.py)
and records its state_dict. So every case checks the description against the library's own
code, for seeds 0, 1 and 1234 under the default and avx2 variants.

Entries written by timm's `trunc_normal_` (its inverse-CDF chain calls `erfinv_`, MKL's in
PyTorch) are compared within the README's bound for `erfinv_` (2 ulps); everything else by
SHA-256.

nanoGPT's model.py is not on the package index: golden/README.md says where to put it
($NANOGPT_DIR, default /work/ext/nanoGPT, never inside the repository).
"""

import json
from pathlib import Path

from make_cases import BOTH, CaseList, seed, step

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "examples" / "models" / "real"
SEEDS = (0, 1, 1234)

# description file, the expression that builds the real model, the environment variable naming
# a folder its code lives in, and the entries reproduced within a bound.
VIT_BOUNDED = ["pos_embed"] + [
    f"blocks.0.{m}.weight" for m in ("attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2")
] + ["head.weight"]
MODELS = [
    ("resnet18", "torchvision.models.resnet18()", None, []),
    (
        "bert_tiny",
        "transformers.BertModel(transformers.BertConfig(hidden_size=32, num_hidden_layers=2, "
        "num_attention_heads=2, intermediate_size=64, vocab_size=64, max_position_embeddings=16))",
        None,
        [],
    ),
    (
        "gpt2_tiny",
        "transformers.GPT2LMHeadModel(transformers.GPT2Config(n_embd=32, n_layer=2, n_head=2, "
        "vocab_size=64, n_positions=16))",
        None,
        [],
    ),
    (
        "llama_tiny",
        "transformers.LlamaForCausalLM(transformers.LlamaConfig(hidden_size=32, "
        "num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, intermediate_size=64, "
        "vocab_size=64, max_position_embeddings=16))",
        None,
        [],
    ),
    (
        "vit_timm_tiny",
        "timm.models.vision_transformer.VisionTransformer(img_size=16, patch_size=8, embed_dim=8, "
        "depth=1, num_heads=2, mlp_ratio=2.0, num_classes=2)",
        None,
        VIT_BOUNDED,
    ),
    (
        "vit_torchvision_tiny",
        "torchvision.models.VisionTransformer(image_size=16, patch_size=8, num_layers=1, "
        "num_heads=2, hidden_dim=8, mlp_dim=16, num_classes=2)",
        None,
        [],
    ),
    (
        "nanogpt_tiny",
        "model.GPT(model.GPTConfig(block_size=16, vocab_size=64, n_layer=2, n_head=2, n_embd=32))",
        "NANOGPT_DIR",
        [],
    ),
]


def real_cases():
    c = CaseList()
    for name, expr, path_env, bounded in MODELS:
        desc = json.loads((REAL / f"{name}.json").read_text(encoding="utf-8"))
        fields = {"model": desc, "python": expr}
        if path_env is not None:
            fields["python_path"] = path_env
        if bounded:
            fields["tolerance"] = {"max_ulps": 2}
            fields["bounded"] = bounded
        for s in SEEDS:
            c.add(f"real_{name}_seed{s}", [seed(s), step("model", **fields)], BOTH)
    return c.cases


def files():
    return {"models_real.json": real_cases()}
