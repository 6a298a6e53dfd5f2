"""Cases for the module ops (nn.<Class>) and whole models (model): golden/cases/modules_*.json
and golden/cases/models_*.json. Model descriptions are read from examples/models/*.json, the
same files the README documents and `torch-rng init` takes.

Every module case seeds, builds, then draws rand(3) so that the replay also checks how many
words the constructor consumed.
"""

import json
import math
from pathlib import Path

from make_cases import BOTH, AVX2, AVX512, CaseList, era_releases, rand, release_tok, seed, step

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "examples" / "models"


def tok(v):
    if isinstance(v, bool):
        return "T" if v else "F"
    if isinstance(v, list):
        return "x".join(map(str, v))
    return str(v).replace("-", "m").replace(".", "p")


def module_case(c, cls, seed_=0, caps=BOTH, tail=True, **args):
    parts = [cls.lower()] + [f"{k}{tok(v)}" for k, v in args.items()]
    name = "_".join(parts) + f"_seed{seed_}"
    steps = [seed(seed_), step(f"nn.{cls}", **args)]
    if tail:
        steps.append(rand([3], "float32"))
    c.add(name, steps, caps)


def modules_basic():
    c = CaseList()
    m = lambda cls, **a: module_case(c, cls, **a)  # noqa: E731
    m("Linear", in_features=20, out_features=30)
    m("Linear", in_features=5, out_features=3, dtype="float64")
    m("Linear", in_features=16, out_features=8, dtype="float16")
    m("Linear", in_features=16, out_features=8, dtype="bfloat16")
    m("Linear", in_features=7, out_features=0)
    m("LazyLinear", in_features=6, out_features=4)
    m("LazyLinear", in_features=6, out_features=4, bias=False, dtype="float64")
    m("Bilinear", in1_features=3, in2_features=5, out_features=4)
    m("Bilinear", in1_features=4, in2_features=2, out_features=3, bias=False, dtype="float64")
    m("Identity")
    m("Embedding", num_embeddings=10, embedding_dim=3)
    m("Embedding", num_embeddings=3, embedding_dim=4, padding_idx=1)
    m("Embedding", num_embeddings=5, embedding_dim=7, padding_idx=-2, max_norm=1.0)
    m("Embedding", num_embeddings=6, embedding_dim=8, dtype="float64")
    m("Embedding", num_embeddings=4, embedding_dim=8, dtype="bfloat16", padding_idx=0)
    m("EmbeddingBag", num_embeddings=7, embedding_dim=3, mode="sum", padding_idx=2)
    m("EmbeddingBag", num_embeddings=2, embedding_dim=3)
    m("PReLU")
    m("PReLU", num_parameters=5, init=0.1, dtype="float16")
    m("LayerNorm", normalized_shape=[3, 4])
    m("LayerNorm", normalized_shape=6, bias=False, dtype="bfloat16")
    m("LayerNorm", normalized_shape=4, elementwise_affine=False)
    m("RMSNorm", normalized_shape=[2, 5])
    m("BatchNorm1d", num_features=4)
    m("BatchNorm2d", num_features=3, affine=False, dtype="float64")
    m("BatchNorm3d", num_features=2, track_running_stats=False)
    m("BatchNorm2d", num_features=3, bias=False)
    m("InstanceNorm1d", num_features=3)
    m("InstanceNorm2d", num_features=3, affine=True, track_running_stats=True)
    m("InstanceNorm3d", num_features=2, affine=True)
    m("GroupNorm", num_groups=2, num_channels=6)
    m("GroupNorm", num_groups=3, num_channels=3, affine=False)
    # rejected arguments
    m("Bilinear", in1_features=0, in2_features=3, out_features=2)
    m("Embedding", num_embeddings=3, embedding_dim=2, padding_idx=3)
    m("Embedding", num_embeddings=3, embedding_dim=2, padding_idx=-4)
    m("GroupNorm", num_groups=4, num_channels=6)
    m("Linear", in_features=3, out_features=2, dtype="int64")
    return c.cases


def modules_conv():
    c = CaseList()
    m = lambda cls, **a: module_case(c, cls, **a)  # noqa: E731
    m("Conv1d", in_channels=4, out_channels=6, kernel_size=5)
    m("Conv2d", in_channels=2, out_channels=3, kernel_size=3)
    m("Conv2d", in_channels=3, out_channels=8, kernel_size=3, stride=2, padding=1)
    m("Conv2d", in_channels=4, out_channels=8, kernel_size=[3, 2], groups=2)
    m("Conv2d", in_channels=4, out_channels=4, kernel_size=3, groups=4, bias=False)
    m("Conv2d", in_channels=3, out_channels=5, kernel_size=3, padding="same",
      padding_mode="reflect")
    m("Conv2d", in_channels=3, out_channels=5, kernel_size=1, padding="valid",
      padding_mode="circular", dtype="float64")
    m("Conv2d", in_channels=2, out_channels=4, kernel_size=3, dtype="float16")
    m("Conv2d", in_channels=2, out_channels=4, kernel_size=3, dtype="bfloat16")
    m("Conv2d", in_channels=0, out_channels=4, kernel_size=3)
    m("Conv3d", in_channels=2, out_channels=4, kernel_size=[2, 3, 2])
    m("Conv3d", in_channels=1, out_channels=2, kernel_size=2, padding_mode="replicate",
      dilation=2)
    m("ConvTranspose1d", in_channels=4, out_channels=6, kernel_size=3)
    m("ConvTranspose2d", in_channels=4, out_channels=6, kernel_size=3, groups=2)
    m("ConvTranspose2d", in_channels=4, out_channels=2, kernel_size=2, groups=2, seed_=0)
    m("ConvTranspose2d", in_channels=3, out_channels=5, kernel_size=[2, 3], stride=2,
      output_padding=1, bias=False)
    m("ConvTranspose3d", in_channels=2, out_channels=3, kernel_size=2)
    m("ConvTranspose3d", in_channels=2, out_channels=2, kernel_size=2, dtype="float64")
    # rejected arguments
    m("Conv2d", in_channels=3, out_channels=4, kernel_size=3, groups=2)
    m("Conv2d", in_channels=4, out_channels=6, kernel_size=3, groups=4)
    m("Conv2d", in_channels=4, out_channels=4, kernel_size=3, groups=0)
    m("Conv2d", in_channels=2, out_channels=2, kernel_size=3, padding="same", stride=2)
    m("Conv2d", in_channels=2, out_channels=2, kernel_size=3, padding_mode="mirror")
    m("ConvTranspose2d", in_channels=2, out_channels=2, kernel_size=3, padding_mode="reflect")
    m("Conv1d", in_channels=2, out_channels=2, kernel_size=-1)
    return c.cases


def modules_rnn():
    c = CaseList()
    m = lambda cls, **a: module_case(c, cls, **a)  # noqa: E731
    m("RNN", input_size=2, hidden_size=3)
    m("RNN", input_size=2, hidden_size=3, nonlinearity="relu", num_layers=2)
    m("LSTM", input_size=2, hidden_size=3)
    m("LSTM", input_size=3, hidden_size=5, num_layers=2, bidirectional=True)
    m("LSTM", input_size=4, hidden_size=6, proj_size=2)
    m("LSTM", input_size=4, hidden_size=6, proj_size=3, num_layers=2, bidirectional=True,
      batch_first=True, dtype="float64")
    m("LSTM", input_size=4, hidden_size=4, bias=False, dtype="bfloat16")
    m("GRU", input_size=3, hidden_size=4, bias=False)
    m("GRU", input_size=3, hidden_size=7, num_layers=3, dropout=0.5, dtype="float16")
    m("RNNCell", input_size=3, hidden_size=5)
    m("RNNCell", input_size=3, hidden_size=5, nonlinearity="relu", bias=False)
    m("LSTMCell", input_size=2, hidden_size=3)
    m("LSTMCell", input_size=4, hidden_size=9, dtype="float64")
    m("GRUCell", input_size=5, hidden_size=2)
    # rejected arguments
    m("LSTM", input_size=4, hidden_size=3, proj_size=3)
    m("LSTM", input_size=4, hidden_size=3, proj_size=-1)
    m("RNN", input_size=0, hidden_size=3)
    m("GRU", input_size=2, hidden_size=0)
    m("RNN", input_size=2, hidden_size=3, num_layers=0)
    m("RNN", input_size=2, hidden_size=3, nonlinearity="gelu")
    m("GRU", input_size=2, hidden_size=3, dropout=1.5)
    return c.cases


def modules_attention():
    c = CaseList()
    m = lambda cls, **a: module_case(c, cls, **a)  # noqa: E731
    m("MultiheadAttention", embed_dim=4, num_heads=2)
    m("MultiheadAttention", embed_dim=8, num_heads=2)
    m("MultiheadAttention", embed_dim=6, num_heads=3, add_bias_kv=True)
    m("MultiheadAttention", embed_dim=16, num_heads=4, add_bias_kv=True)
    m("MultiheadAttention", embed_dim=5, num_heads=1, add_bias_kv=True, dtype="float64")
    m("MultiheadAttention", embed_dim=8, num_heads=2, kdim=5, vdim=3)
    m("MultiheadAttention", embed_dim=8, num_heads=4, bias=False, batch_first=True)
    m("MultiheadAttention", embed_dim=8, num_heads=2, kdim=8, vdim=4, add_bias_kv=True,
      bias=False)
    m("MultiheadAttention", embed_dim=8, num_heads=2, dtype="bfloat16")
    m("TransformerEncoderLayer", d_model=8, nhead=2, dim_feedforward=12)
    m("TransformerEncoderLayer", d_model=8, nhead=4, dim_feedforward=16, activation="gelu",
      bias=False, norm_first=True)
    m("TransformerDecoderLayer", d_model=8, nhead=2, dim_feedforward=12)
    m("TransformerDecoderLayer", d_model=6, nhead=3, dim_feedforward=10, dtype="float64")
    layer = {"module": "TransformerEncoderLayer", "d_model": 8, "nhead": 2,
             "dim_feedforward": 12}
    c.add("transformerencoder_3layers_seed0",
          [seed(0), step("nn.TransformerEncoder", encoder_layer=layer, num_layers=3),
           rand([3], "float32")])
    c.add("transformerencoder_2layers_norm_seed0",
          [seed(0), step("nn.TransformerEncoder", encoder_layer=layer, num_layers=2,
                         norm={"module": "LayerNorm", "normalized_shape": 8}),
           rand([3], "float32")])
    dlayer = {"module": "TransformerDecoderLayer", "d_model": 8, "nhead": 2,
              "dim_feedforward": 12}
    c.add("transformerdecoder_2layers_seed0",
          [seed(0), step("nn.TransformerDecoder", decoder_layer=dlayer, num_layers=2),
           rand([3], "float32")])
    m("Transformer", d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
      dim_feedforward=12)
    m("Transformer", d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=3,
      dim_feedforward=12, bias=False, dtype="float64")
    m("Transformer", d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
      dim_feedforward=32, activation="gelu")
    # rejected arguments
    m("MultiheadAttention", embed_dim=6, num_heads=4)
    m("MultiheadAttention", embed_dim=0, num_heads=1)
    m("TransformerEncoderLayer", d_model=8, nhead=2, dim_feedforward=12, activation="tanh")
    c.add("linear_3x4_avx512check_seed1", [seed(1), step("nn.Linear", in_features=3, out_features=4)],
          AVX512)
    return c.cases


def load_model(name):
    return json.loads((MODELS / name).read_text(encoding="utf-8"))


def models_cases():
    c = CaseList()
    for path in sorted(MODELS.glob("*.json")):
        desc = json.loads(path.read_text(encoding="utf-8"))
        for s in (0, 1):
            c.add(f"model_{path.stem}_seed{s}",
                  [seed(s), step("model", model=desc), rand([3], "float32")])
    return c.cases


# R1 (2.6) changes only randperm, which no module draws.
ERA_RELEASES = era_releases(("L0", "L1", "R2", "R3", "R4"))


def era_cases():
    """Module default init in older releases. The init code of every module probed never changed
    (version-eras.md); the kernels under it did (float16/bfloat16 uniform_ before 2.12, the
    float16/bfloat16 normal fill path before 2.13) and so did Conv with fan_in = 0 (bias drawn from
    2.12). Only arguments every release accepts: LayerNorm/Transformer ``bias=`` arrived in 2.1 and
    RMSNorm in 2.4, so they are left out. A Conv bias with fan_in = 0 is uninitialised memory before
    2.12, so that case overwrites it with a constant (no draws) and the rand(3) after it checks
    how many words the constructor drew."""
    c = CaseList()

    def add(release, name, steps):
        c.add(f"{name}_{release_tok(release)}", steps, BOTH, release)

    def mod(release, cls, seed_=0, **args):
        parts = [cls.lower()] + [f"{k}{tok(v)}" for k, v in args.items()]
        add(release, "_".join(parts) + f"_seed{seed_}",
            [seed(seed_), step(f"nn.{cls}", **args), rand([3], "float32")])

    conv0 = {"format": "torch-rng-model/1",
             "modules": [{"name": "conv", "module": "Conv2d", "in_channels": 0,
                          "out_channels": 4, "kernel_size": 3}],
             "init": [{"named_parameters": {"name": "conv.bias"},
                       "init": {"fn": "constant_", "val": 0.5}}]}
    layer = {"module": "TransformerEncoderLayer", "d_model": 8, "nhead": 2,
             "dim_feedforward": 12}
    for r in ERA_RELEASES:
        for dtype in ("float32", "float64", "float16", "bfloat16"):
            mod(r, "Linear", in_features=16, out_features=8, dtype=dtype)
            mod(r, "Embedding", num_embeddings=10, embedding_dim=4, padding_idx=1, dtype=dtype)
        mod(r, "Linear", in_features=20, out_features=30)
        mod(r, "Bilinear", in1_features=3, in2_features=5, out_features=4)
        mod(r, "Conv2d", in_channels=3, out_channels=8, kernel_size=3, stride=2, padding=1)
        mod(r, "Conv2d", in_channels=2, out_channels=4, kernel_size=3, dtype="float16")
        mod(r, "Conv1d", in_channels=4, out_channels=6, kernel_size=5, dtype="bfloat16")
        mod(r, "ConvTranspose2d", in_channels=4, out_channels=6, kernel_size=3, groups=2)
        add(r, "conv2d_in0_out4_k3_bias_const_seed0",
            [seed(0), step("model", model=conv0), rand([3], "float32")])
        mod(r, "LSTM", input_size=4, hidden_size=6, proj_size=2)
        mod(r, "LSTM", input_size=3, hidden_size=5, num_layers=2, bidirectional=True)
        mod(r, "LSTM", input_size=4, hidden_size=4, bias=False, dtype="bfloat16")
        mod(r, "GRU", input_size=3, hidden_size=7, num_layers=3, dropout=0.5, dtype="float16")
        mod(r, "GRUCell", input_size=5, hidden_size=2)
        mod(r, "EmbeddingBag", num_embeddings=7, embedding_dim=3, mode="sum", padding_idx=2)
        mod(r, "MultiheadAttention", embed_dim=8, num_heads=2, kdim=5, vdim=3)
        mod(r, "MultiheadAttention", embed_dim=6, num_heads=3, add_bias_kv=True)
        mod(r, "MultiheadAttention", embed_dim=8, num_heads=2, kdim=8, vdim=4, add_bias_kv=True,
            bias=False)
        mod(r, "MultiheadAttention", embed_dim=8, num_heads=2, dtype="float16")
        mod(r, "TransformerEncoderLayer", d_model=8, nhead=2, dim_feedforward=12)
        mod(r, "TransformerDecoderLayer", d_model=6, nhead=3, dim_feedforward=10, dtype="float64")
        add(r, "transformerencoder_3layers_seed0",
            [seed(0), step("nn.TransformerEncoder", encoder_layer=layer, num_layers=3),
             rand([3], "float32")])
        mod(r, "Transformer", d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
            dim_feedforward=12)
        mod(r, "LayerNorm", normalized_shape=[3, 4])
        mod(r, "BatchNorm2d", num_features=3)
        mod(r, "GroupNorm", num_groups=2, num_channels=6)
        mod(r, "PReLU", num_parameters=5, init=0.1, dtype="float16")
        for name in ("gpt2_tiny.json", "mixed.json"):
            add(r, f"model_{name[:-5]}_seed1",
                [seed(1), step("model", model=load_model(name)), rand([3], "float32")])
    return c.cases


def files():
    return {
        "modules_eras.json": era_cases(),
        "modules_basic.json": modules_basic(),
        "modules_conv.json": modules_conv(),
        "modules_rnn.json": modules_rnn(),
        "modules_attention.json": modules_attention(),
        "models_examples.json": models_cases(),
    }
