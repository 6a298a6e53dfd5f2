#!/usr/bin/env python3
"""Write the golden case files, golden/cases/*.json.

Case files are inputs: they say what PyTorch is asked to do, never what it answers.
They are written by this script so that a change to them is a reviewable diff of
code. The only values taken from PyTorch here are RNG states that PyTorch produced
mid-stream (for set_rng_state cases); they are inputs too.

Most cases are emitted once per kernel variant, with the capability as the name's
suffix (`_default`, `_avx2`); a few run with `avx512` to check it behaves as avx2.

Areas other than the core write their cases in tools/cases_<area>.py (a function
``files()`` returning {file name: [case, ...]}); they may import the helpers below.

Usage:
    ~/torch-venv/bin/python tools/make_cases.py [FILE.json ...]   # all files, or only these
"""

import importlib
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_golden  # noqa: E402  (shared format constants and the case validator)

BOTH = ("default", "avx2")
AVX2 = ("avx2",)
AVX512 = ("avx512",)

FLOATS = ("float32", "float64", "float16", "bfloat16")
SIZES_1D = (1, 2, 15, 16, 17, 31, 32, 33, 1000, 100000)
SHAPES_ND = ([4, 3], [2, 3, 5], [16, 16], [3, 1, 7], [0], [2, 0, 3], [])

# Seeds whose decimal spelling would hide what they probe.
SEED_NAMES = {
    -1: "m1", -2 ** 63: "m2p63", -2 ** 63 - 1: "m2p63m1",
    2 ** 32: "2p32", 2 ** 32 + 7: "2p32p7", 2 ** 53: "2p53", 2 ** 53 + 1: "2p53p1",
    2 ** 63 + 5: "2p63p5", 2 ** 64 - 1: "2p64m1", 2 ** 64: "2p64",
}



def kaiming_bound(fan_in, a=math.sqrt(5)):
    """kaiming_uniform_'s bound for leaky_relu, in Python doubles in init.py's order
    (nn.Linear's weight bound; it is not always 1/sqrt(fan_in) to the last bit)."""
    gain = math.sqrt(2.0 / (1 + a * a))
    return math.sqrt(3.0) * (gain / math.sqrt(fan_in))


KAIMING_B3 = kaiming_bound(3)
KAIMING_B30 = kaiming_bound(30)
UNIFORM_BOUNDS = (
    ("kaimingb3", -KAIMING_B3, KAIMING_B3),
    ("kaimingb30", -KAIMING_B30, KAIMING_B30),
    ("m0p3_0p7", -0.3, 0.7),
    ("2_5", 2.0, 5.0),
    ("m1em3_5p5", -1e-3, 5.5),
)
NORMAL_PARAMS = (
    ("mean0p3_std1p7", 0.3, 1.7),
    ("meanm2_std0p01", -2.0, 0.01),
    ("mean1p5_std0", 1.5, 0.0),
)


# --------------------------------------------------------------------------- helpers

def seed_tok(s):
    return SEED_NAMES.get(s, str(s))


def shape_tok(size):
    return "x".join(map(str, size)) if size else "scalar"


def step(op, gen=None, **fields):
    s = {"op": op}
    s.update({k.rstrip("_"): v for k, v in fields.items()})  # from_ -> from
    if gen is not None:
        s["generator"] = gen
    return s


def seed(s, gen=None):
    return step("manual_seed", gen, seed=s)


def rand(size, dtype=None, gen=None):
    return step("rand", gen, size=size, **({"dtype": dtype} if dtype else {}))


def randn(size, dtype=None, gen=None):
    return step("randn", gen, size=size, **({"dtype": dtype} if dtype else {}))


def inplace(op, size, dtype=None, permute=None, gen=None, **params):
    fields = {"size": size}
    if dtype:
        fields["dtype"] = dtype
    fields.update(params)
    if permute is not None:
        fields["permute"] = permute
    return step(op, gen, **fields)


def uniform_(size, dtype=None, lo=None, hi=None, permute=None, gen=None):
    params = {} if lo is None else {"from_": lo, "to": hi}
    return inplace("uniform_", size, dtype, permute, gen, **params)


def normal_(size, dtype=None, mean=None, std=None, permute=None, gen=None):
    params = {} if mean is None else {"mean": mean, "std": std}
    return inplace("normal_", size, dtype, permute, gen, **params)


def initial_seed(gen=None):
    return step("initial_seed", gen)


def get_state(gen=None):
    return step("get_rng_state", gen)


def set_state(state, gen=None):
    return step("set_rng_state", gen, state=state.hex())


class CaseList:
    def __init__(self):
        self.cases = []

    def add(self, name, steps, caps=BOTH, release=None):
        """One case per capability, named `<name>_<capability>`; `release` sets torch_version."""
        for cap in caps:
            c = {"name": f"{name}_{cap}", "capability": cap}
            if release is not None:
                c["torch_version"] = release
            c["steps"] = steps
            self.cases.append(c)


# Releases, from golden/releases.json (generated from src/context/era.rs): every release with
# committed fixtures, and the one release each era's fixtures come from.
FIXTURE_RELEASES = tuple(gen_golden.RELEASES["fixture_releases"])
ERA_RELEASES = {e["era"]: e["fixtures"] for e in gen_golden.RELEASES["eras"]}
PINNED = gen_golden.PINNED_TORCH


def era_releases(eras=None, latest=True):
    """The fixture release of each era named (all when None), oldest first; without the
    pinned release unless `latest`."""
    out = tuple(r for e, r in ERA_RELEASES.items() if eras is None or e in eras)
    return out if latest else tuple(r for r in out if r != PINNED)


def release_tok(release):
    """A release as case names spell it: 2.0.1 -> v2_0_1."""
    return "v" + release.replace(".", "_")


# --------------------------------------------------------------------------- states

def torch_states():
    """RNG states PyTorch produced mid-stream, as bytes."""
    import torch
    torch.manual_seed(7)
    seeded = bytes(torch.get_rng_state().numpy())
    torch.rand(100)
    mid = bytes(torch.get_rng_state().numpy())        # no cached normal
    torch.randn(3)                                    # odd count: leaves a cached normal
    cached = bytes(torch.get_rng_state().numpy())
    assert len(seeded) == 5056 and cached[5040] == 1 and mid[5040] == 0
    return seeded, mid, cached


def patch(state, offset, value, width):
    b = bytearray(state)
    b[offset:offset + width] = value.to_bytes(width, "little", signed=value < 0)
    return bytes(b)


# Offsets in the 5056-byte CPU state (shared/reference/cpu-rng.md, section 2).
OFF_LEFT, OFF_SEEDED, OFF_NEXT, OFF_WORDS = 8, 12, 16, 24
OFF_FLOAT_CACHE, OFF_FLOAT_FLAG = 5048, 5052


# --------------------------------------------------------------------------- rand

def rand_cases():
    c = CaseList()
    for n in SIZES_1D + (4,):
        c.add(f"rand_float32_{n}_seed42", [seed(42), rand([n], "float32")])
    for size in SHAPES_ND:
        c.add(f"rand_float32_{shape_tok(size)}_seed0", [seed(0), rand(size, "float32")])
    for dtype in ("float64", "float16", "bfloat16"):
        for n in (4, 17, 1000, 100000):
            c.add(f"rand_{dtype}_{n}_seed42", [seed(42), rand([n], dtype)])
    c.add("rand_default_dtype_2x3_seed42", [seed(42), rand([2, 3])])

    # Seeds: the stream uses the low 32 bits, initial_seed keeps all 64.
    for s in (0, 1, 42, 2 ** 32 + 7, 2 ** 63 + 5, 2 ** 64 - 1, -1, -2 ** 63):
        c.add(f"rand_float32_33_float64_3_seed{seed_tok(s)}",
              [seed(s), initial_seed(), rand([33], "float32"), rand([3], "float64")])
    c.add("rand_float32_8_seed7_vs_seed2p32p7",
          [seed(7), initial_seed(), rand([8], "float32"),
           seed(2 ** 32 + 7), initial_seed(), rand([8], "float32")])
    c.add("rand_float32_8_seed0_vs_seed2p32_vs_seedm2p63",
          [seed(0), rand([8], "float32"), seed(2 ** 32), initial_seed(), rand([8], "float32"),
           seed(-2 ** 63), initial_seed(), rand([8], "float32")])

    # Mixed 32- and 64-bit draws, and a stream that crosses the 624-word refill.
    c.add("rand_mixed_dtypes_3_seed42",
          [seed(42), rand([3], "float32"), rand([3], "float64"), rand([3], "float16"),
           rand([3], "bfloat16"), rand([3], "float32")])
    c.add("rand_float64_311_then_float32_5_refill_seed42",
          [seed(42), rand([311], "float64"), rand([5], "float32"), rand([700], "float64"),
           rand([1], "float32")])

    # uniform_ with bounds other than [0, 1): FMA contraction shows under avx2.
    for label, lo, hi in UNIFORM_BOUNDS:
        for dtype in FLOATS:
            c.add(f"uniform_{dtype}_257_{label}_seed42", [seed(42), uniform_([257], dtype, lo, hi)])
    c.add("uniform_float32_6_kaimingb30_seed42",
          [seed(42), uniform_([6], "float32", -KAIMING_B30, KAIMING_B30)])
    c.add("uniform_float32_17_defaults_seed42", [seed(42), uniform_([17], "float32")])
    # Accepted edges of the argument checks.
    c.add("uniform_float32_5_1_1_seed42", [seed(42), uniform_([5], "float32", 1.0, 1.0)])
    c.add("uniform_float64_5_m3e38_3e38_seed42",
          [seed(42), uniform_([5], "float64", -3e38, 3e38)])
    c.add("uniform_float16_33_m3e4_3e4_seed42", [seed(42), uniform_([33], "float16", -3e4, 3e4)])
    c.add("uniform_float16_33_0_65504_seed42", [seed(42), uniform_([33], "float16", 0.0, 65504.0)])
    c.add("uniform_bfloat16_33_0_3e38_seed42", [seed(42), uniform_([33], "bfloat16", 0.0, 3e38)])

    # Non-contiguous targets are filled in memory order.
    c.add("uniform_float32_40x40_perm10_kaimingb3_seed42",
          [seed(42), uniform_([40, 40], "float32", -KAIMING_B3, KAIMING_B3, permute=[1, 0])])
    c.add("uniform_float64_3x5_perm10_m0p3_0p7_seed42",
          [seed(42), uniform_([3, 5], "float64", -0.3, 0.7, permute=[1, 0])])
    c.add("uniform_bfloat16_2x4x4x3_channels_last_2_5_seed42",
          [seed(42), uniform_([2, 4, 4, 3], "bfloat16", 2.0, 5.0, permute=[0, 3, 1, 2])])
    c.add("uniform_float32_1x20_perm10_kaimingb30_seed42",
          [seed(42), uniform_([1, 20], "float32", -KAIMING_B30, KAIMING_B30, permute=[1, 0])])
    c.add("rand_like_float32_4x5_seed42",
          [seed(42), step("rand_like", size=[4, 5], dtype="float32")])
    c.add("rand_like_float64_5x4_perm10_seed42",
          [seed(42), step("rand_like", size=[5, 4], dtype="float64", permute=[1, 0])])
    c.add("rand_like_float16_2x4x4x3_channels_last_seed42",
          [seed(42), step("rand_like", size=[2, 4, 4, 3], dtype="float16", permute=[0, 3, 1, 2])])

    # avx512 runs the avx2 kernels.
    c.add("uniform_float32_257_kaimingb30_seed42",
          [seed(42), uniform_([257], "float32", -KAIMING_B30, KAIMING_B30)], AVX512)
    c.add("uniform_bfloat16_257_kaimingb3_seed42",
          [seed(42), uniform_([257], "bfloat16", -KAIMING_B3, KAIMING_B3)], AVX512)
    c.add("rand_float16_1000_seed42", [seed(42), rand([1000], "float16")], AVX512)
    return c.cases


# --------------------------------------------------------------------------- randn

def randn_cases():
    c = CaseList()
    for n in SIZES_1D + (4,):
        c.add(f"randn_float32_{n}_seed42", [seed(42), randn([n], "float32")])
    for size in SHAPES_ND:
        c.add(f"randn_float32_{shape_tok(size)}_seed0", [seed(0), randn(size, "float32")])
    for dtype in ("float64", "float16", "bfloat16"):
        for n in (2, 16, 17, 1000, 100000):
            c.add(f"randn_{dtype}_{n}_seed42", [seed(42), randn([n], dtype)])
    c.add("randn_default_dtype_2x9_seed42", [seed(42), randn([2, 9])])
    for s in (0, 2 ** 32 + 7, 2 ** 64 - 1, -1):
        c.add(f"randn_float32_33_seed{seed_tok(s)}", [seed(s), randn([33], "float32")])

    # normal_ with mean/std: fill path (40 elements) and small path (7 elements).
    for label, mean, std in NORMAL_PARAMS:
        for dtype in FLOATS:
            c.add(f"normal_{dtype}_40_{label}_seed42", [seed(42), normal_([40], dtype, mean, std)])
    for dtype in FLOATS:
        c.add(f"normal_{dtype}_7_mean0p3_std1p7_seed42",
              [seed(42), normal_([7], dtype, 0.3, 1.7)])
    # Accepted edges of the argument checks (std must only be >= 0, not finite).
    c.add("normal_float32_20_mean0_stdinf_seed42", [seed(42), normal_([20], "float32", 0.0, "inf")])
    c.add("normal_float64_5_meannan_std1_seed42", [seed(42), normal_([5], "float64", "nan", 1.0)])
    c.add("normal_float32_17_mean0p3_std1p7_seed42",
          [seed(42), step("normal", mean=0.3, std=1.7, size=[17], dtype="float32")])
    c.add("normal_float64_5_meanm2_std0p01_seed42",
          [seed(42), step("normal", mean=-2.0, std=0.01, size=[5], dtype="float64")])
    c.add("normal_default_dtype_16_mean0_std1_seed42",
          [seed(42), step("normal", mean=0.0, std=1.0, size=[16])])
    # `normal` with a tensor mean or std: PyTorch's tensor overloads under the same op name.
    c.add("normal_tensor_mean_float32_3_std0p5_seed3",
          [seed(3), step("normal", mean={"dtype": "float32", "data": [1.0, 2.0, 3.0]}, std=0.5)])
    c.add("normal_mean0p5_tensor_std_float64_2x1_seed3",
          [seed(3), step("normal", mean=0.5, std={"dtype": "float64", "data": [[1.0], [2.0]]})])
    c.add("normal_tensor_mean_tensor_std_float32_17_seed3",
          [seed(3), step("normal", mean={"dtype": "float32", "data": [0.5] * 17},
                         std={"dtype": "float32", "data": [[1.5] * 17, [0.25] * 17]})])

    # Stream position and the cached normal sample.
    c.add("randn_1_then_16_then_1_float32_seed42",
          [seed(42), randn([1], "float32"), randn([16], "float32"), randn([1], "float32")])
    c.add("randn_3_float32_then_3_float64_seed42",
          [seed(42), randn([3], "float32"), randn([3], "float64")])
    c.add("rand_5_then_randn_17_then_rand_5_float32_seed42",
          [seed(42), rand([5], "float32"), randn([17], "float32"), rand([5], "float32")])
    c.add("randn_5_then_randn_like_4x5_perm10_then_randn_1_seed42",
          [seed(42), randn([5], "float32"),
           step("randn_like", size=[4, 5], dtype="float32", permute=[1, 0]),
           randn([1], "float32")])
    c.add("normal_float32_5x3_perm10_then_randn_1_seed42",
          [seed(42), normal_([5, 3], "float32", permute=[1, 0]), randn([1], "float32")])
    c.add("randn_cache_across_dtypes_seed42",
          [seed(42), randn([1], "float16"), randn([1], "bfloat16"), randn([2], "float64"),
           normal_([3], "float32", 0.3, 1.7), randn([1], "float64")])
    c.add("randn_1_then_reseed_clears_cache_seed42",
          [seed(42), randn([1], "float32"), seed(42), randn([2], "float32")])
    c.add("randn_float32_3_then_1000_keeps_cache_seed42",
          [seed(42), randn([3], "float32"), randn([1000], "float32"), randn([1], "float32")])

    # Non-contiguous targets take the per-element path, in memory order.
    c.add("normal_float32_40x40_perm10_mean0p3_std1p7_seed42",
          [seed(42), normal_([40, 40], "float32", 0.3, 1.7, permute=[1, 0])])
    c.add("normal_float64_3x5_perm10_seed42",
          [seed(42), normal_([3, 5], "float64", permute=[1, 0])])
    c.add("normal_float32_2x4x4x3_channels_last_seed42",
          [seed(42), normal_([2, 4, 4, 3], "float32", permute=[0, 3, 1, 2])])
    c.add("normal_bfloat16_40x40_perm10_seed42",
          [seed(42), normal_([40, 40], "bfloat16", permute=[1, 0])])
    c.add("normal_float32_1x20_perm10_contiguous_fill_seed42",
          [seed(42), normal_([1, 20], "float32", permute=[1, 0])])
    c.add("randn_like_float32_40x40_perm10_seed42",
          [seed(42), step("randn_like", size=[40, 40], dtype="float32", permute=[1, 0])])
    c.add("randn_like_float32_1x20_perm10_contiguous_fill_seed42",
          [seed(42), step("randn_like", size=[1, 20], dtype="float32", permute=[1, 0])])
    c.add("randn_like_float16_4x5_seed42",
          [seed(42), step("randn_like", size=[4, 5], dtype="float16")])

    # avx512 runs the avx2 kernels.
    c.add("randn_float32_1000_seed42", [seed(42), randn([1000], "float32")], AVX512)
    c.add("randn_float64_17_seed42", [seed(42), randn([17], "float64")], AVX512)
    c.add("normal_float32_40_mean0p3_std1p7_seed42",
          [seed(42), normal_([40], "float32", 0.3, 1.7)], AVX512)
    c.add("normal_float32_7_mean0p3_std1p7_seed42",
          [seed(42), normal_([7], "float32", 0.3, 1.7)], AVX512)
    return c.cases


# --------------------------------------------------------------------------- state

def state_cases(states):
    seeded, mid, cached = states
    c = CaseList()

    c.add("get_rng_state_after_seed42", [seed(42), get_state()])
    c.add("get_rng_state_after_rand_float32_3_seed42", [seed(42), rand([3], "float32"), get_state()])
    c.add("get_rng_state_after_rand_float64_5_seed42", [seed(42), rand([5], "float64"), get_state()])
    c.add("get_rng_state_after_randn_float32_3_cached_seed42",
          [seed(42), randn([3], "float32"), get_state()])
    c.add("get_rng_state_after_randn_float64_1_cached_seed42",
          [seed(42), randn([1], "float64"), get_state()])
    c.add("get_rng_state_after_randn_float32_100_fill_seed42",
          [seed(42), randn([100], "float32"), get_state()])
    c.add("get_rng_state_after_randn_3_then_100_fill_keeps_cache_seed42",
          [seed(42), randn([3], "float32"), randn([100], "float32"), get_state()])
    c.add("get_rng_state_after_normal_float32_3x5_perm10_seed42",
          [seed(42), normal_([3, 5], "float32", permute=[1, 0]), get_state()])
    c.add("get_rng_state_after_rand_float32_700_refill_seed42",
          [seed(42), rand([700], "float32"), get_state()])

    # States PyTorch produced mid-stream: manual_seed(7); rand(100) [; randn(3)].
    c.add("set_rng_state_seed7_rand100_then_draws",
          [set_state(mid), get_state(), rand([5], "float32"), randn([2], "float32")])
    c.add("set_rng_state_seed7_rand100_randn3_cached_then_randn_1_20_1",
          [set_state(cached), get_state(), randn([1], "float32"), randn([20], "float32"),
           randn([1], "float32")])
    c.add("set_rng_state_cached_then_rand_keeps_cache",
          [set_state(cached), rand([3], "float64"), randn([1], "float64")])
    c.add("set_rng_state_cached_after_other_draws_seed0",
          [seed(0), rand([50], "float32"), randn([1], "float32"), set_state(cached),
           randn([1], "float32")])
    c.add("set_rng_state_seeded_only_seed7",
          [set_state(seeded), get_state(), initial_seed(), rand([4], "float32")])
    # Accepted but unusual: a forced float cache, seeded = 2, state words with high bits.
    forced = patch(patch(cached, OFF_FLOAT_CACHE, 0x3F000000, 4), OFF_FLOAT_FLAG, 1, 1)
    c.add("set_rng_state_float_cache_flag_then_randn",
          [set_state(forced), get_state(), randn([2], "float32"), get_state()])
    c.add("set_rng_state_seeded2_then_get",
          [set_state(patch(mid, OFF_SEEDED, 2, 4)), get_state(), rand([3], "float32")])
    c.add("set_rng_state_word_high_bits_truncated",
          [set_state(patch(mid, OFF_WORDS + 8 * 5 + 4, 0x0DEADBEE, 4)), get_state(),
           rand([3], "float32")])
    c.add("set_rng_state_named_generator_cached",
          [seed(1), set_state(cached, "g"), randn([1], "float32", "g"), get_state("g"),
           randn([1], "float32"), initial_seed("g")])

    # Private generators (torch.Generator()): fixed default seed, own cache.
    c.add("generator_fresh_initial_seed_rand_5", [initial_seed("g"), rand([5], "float32", "g"),
                                                  get_state("g")])
    c.add("generator_fresh_randn_17_then_3", [randn([17], "float32", "g"), randn([3], "float32", "g")])
    c.add("generator_interleaved_with_default_seed42",
          [seed(42), seed(42, "g"), rand([3], "float32"), rand([3], "float32", "g"),
           randn([1], "float32", "g"), randn([1], "float32"), randn([1], "float32", "g"),
           uniform_([5], "float64", -0.3, 0.7, gen="g"), normal_([3], "float32", 0.3, 1.7, gen="g"),
           randn([1], "float32"), get_state(), get_state("g")])
    c.add("generator_two_named",
          [seed(1, "a"), rand([3], "float32", "a"), rand([3], "float32", "b"),
           rand([3], "float32", "a"), initial_seed("a"), initial_seed("b")])
    c.add("generator_with_init_normal_and_like_ops",
          [seed(5, "g"),
           step("nn.init.uniform_", size=[4, 3], dtype="float32", a=-0.5, b=0.5, generator="g"),
           step("nn.init.kaiming_uniform_", size=[4, 3], dtype="float32", a=math.sqrt(5),
                generator="g"),
           step("normal", mean=0.3, std=1.7, size=[5], dtype="float32", generator="g"),
           step("rand_like", size=[3, 2], dtype="float32", permute=[1, 0], generator="g"),
           step("randn_like", size=[17], dtype="float32", generator="g"),
           randn([1], "float32", "g")])
    c.add("generator_negative_seed_initial_seed", [seed(-5, "g"), initial_seed("g"),
                                                   rand([2], "float64", "g")])

    # initial_seed keeps the full 64 bits (negative seeds wrap modulo 2**64).
    for s in (0, -1, -2 ** 63, 2 ** 53, 2 ** 53 + 1, 2 ** 63 + 5, 2 ** 64 - 1):
        c.add(f"initial_seed_seed{seed_tok(s)}", [seed(s), initial_seed(), get_state()])
    return c.cases


# --------------------------------------------------------------------------- errors

def error_cases(states):
    seeded, mid, _ = states
    c = CaseList()

    def rejected(name, bad, caps=AVX2):
        """Seed, draw, the rejected step, then a draw that must have no output."""
        c.add(f"rejected_{name}", [seed(0), rand([2], "float32"), bad, rand([2], "float32")], caps)

    c.add("rejected_manual_seed_2p64", [seed(0), rand([2]), seed(2 ** 64), rand([2])], AVX2)
    c.add("rejected_manual_seed_m2p63m1", [seed(0), rand([2]), seed(-2 ** 63 - 1), rand([2])], AVX2)
    c.add("rejected_generator_manual_seed_2p64", [seed(2 ** 64, "g"), rand([2], gen="g")], AVX2)
    # Beyond 128 bits: still a rejected step (Python ints have no size), not a malformed file.
    c.add("rejected_manual_seed_2p200", [seed(0), rand([2]), seed(2 ** 200), rand([2])], AVX2)
    c.add("rejected_manual_seed_m2p130", [seed(0), rand([2]), seed(-2 ** 130), rand([2])], AVX2)
    rejected("rand_negative_dim", rand([2, -1], "float32"))
    rejected("randn_negative_dim", randn([-3], "float32"))
    for dtype in ("int64", "int32", "bool"):
        # rand/uniform_ fail in the shared bounds check, randn/normal_ in the
        # per-capability kernel, so the latter run for both variants.
        rejected(f"rand_{dtype}", rand([3], dtype))
        rejected(f"uniform_{dtype}", uniform_([3], dtype))
        rejected(f"randn_{dtype}", randn([3], dtype), BOTH)
        rejected(f"normal_{dtype}", normal_([3], dtype), BOTH)
    rejected("uniform_float32_from_gt_to", uniform_([3], "float32", 1.0, 0.0))
    rejected("uniform_float16_to_7e4", uniform_([3], "float16", 0.0, 7e4))
    rejected("uniform_float16_m6e4_6e4_span", uniform_([3], "float16", -6e4, 6e4))
    rejected("uniform_float32_m3e38_3e38_span", uniform_([3], "float32", -3e38, 3e38))
    rejected("uniform_float32_to_inf", uniform_([3], "float32", 0.0, "inf"))
    rejected("uniform_float32_from_minf", uniform_([3], "float32", "-inf", 0.0))
    rejected("uniform_float32_from_nan", uniform_([3], "float32", "nan", 1.0))
    rejected("uniform_float32_to_nan", uniform_([3], "float32", 0.0, "nan"))
    rejected("uniform_float64_to_inf", uniform_([3], "float64", 0.0, "inf"))
    rejected("normal_float32_std_m1", normal_([3], "float32", 0.0, -1.0))
    rejected("normal_float32_32_std_m1", normal_([32], "float32", 0.0, -1.0))
    rejected("normal_float32_std_nan", normal_([3], "float32", 0.0, "nan"))
    rejected("normal_fn_std_m1", step("normal", mean=0.0, std=-1.0, size=[3]))

    # set_rng_state with bytes patched from a real state.
    bad_states = (
        ("len_5055", mid[:-1]),
        ("len_5057", mid + b"\x00"),
        ("len_0", b""),
        ("left_0", patch(mid, OFF_LEFT, 0, 4)),
        ("left_625", patch(mid, OFF_LEFT, 625, 4)),
        ("next_625", patch(mid, OFF_NEXT, 625, 8)),
        ("seeded_0", patch(seeded, OFF_SEEDED, 0, 4)),
    )
    for label, state in bad_states:
        rejected(f"set_rng_state_{label}", set_state(state))
    c.add("rejected_generator_set_state_len_5055",
          [rand([2], gen="g"), set_state(mid[:-1], "g"), rand([2], gen="g")], AVX2)

    rejected("linear_in_m1", step("nn.Linear", in_features=-1, out_features=3))
    rejected("linear_out_m1", step("nn.Linear", in_features=3, out_features=-1))
    # kaiming_uniform_'s rejections live in init_errors.json (tools/cases_init.py).
    return c.cases


# --------------------------------------------------------------------------- demo

def tensor_arg_cases():
    """Tensor arguments written as bare nested lists: torch.tensor(data), dtype inferred as
    Python infers it (float32 if any entry is a float, int64 otherwise)."""
    c = CaseList()
    c.add("normal_bare_list_mean_3_std2_seed3",
          [seed(3), step("normal", mean=[1.0, 2, 3.5], std=2.0)])
    c.add("normal_bare_lists_2x3_seed3",
          [seed(3), step("normal", mean=[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], std=[0.5, 1.5, 2.5])])
    c.add("multinomial_bare_list_repl_seed1",
          [seed(1), step("multinomial", input=[0.1, 0.2, 0.3, 0.4], num_samples=10, replacement=True)])
    c.add("multinomial_bare_int_list_seed1",
          [seed(1), step("multinomial", input=[[1, 2, 3], [3, 2, 1]], num_samples=2)])
    c.add("bernoulli__bare_list_p_seed2",
          [seed(2), step("bernoulli_", size=[2, 3], p=[[0.1, 0.5, 0.9], [0.0, 1.0, 0.5]])])
    c.add("bernoulli_bare_list_input_seed2",
          [seed(2), step("bernoulli", input=[0.25, 0.75, 0.5])])
    return c.cases


def demo_cases():
    c = CaseList()
    b = 1 / math.sqrt(3)
    # The blog post's four experiments.
    c.add("linear_3x4_seed1", [seed(1), step("nn.Linear", in_features=3, out_features=4)])
    c.add("kaiming_uniform_float32_4x3_asqrt5_seed1",
          [seed(1), step("nn.init.kaiming_uniform_", size=[4, 3], a=math.sqrt(5))])
    c.add("kaiming_uniform_float32_4x3_a0_seed1",
          [seed(1), step("nn.init.kaiming_uniform_", size=[4, 3], a=0.0)])
    c.add("init_uniform_float32_4x3_pm1oversqrt3_seed1",
          [seed(1), step("nn.init.uniform_", size=[4, 3], a=-b, b=b)])
    # More modules and init variants.
    c.add("linear_30x20_seed1", [seed(1), step("nn.Linear", in_features=30, out_features=20)])
    c.add("linear_3x4_nobias_seed1",
          [seed(1), step("nn.Linear", in_features=3, out_features=4, bias=False)])
    c.add("linear_0x3_then_rand_seed1",
          [seed(1), step("nn.Linear", in_features=0, out_features=3), rand([2], "float32")])
    c.add("linear_2x2_float64_seed1",
          [seed(1), step("nn.Linear", in_features=2, out_features=2, dtype="float64")])
    c.add("kaiming_uniform_float32_4x3_fan_out_seed1",
          [seed(1), step("nn.init.kaiming_uniform_", size=[4, 3], mode="fan_out")])
    c.add("kaiming_uniform_float32_4x3_relu_seed1",
          [seed(1), step("nn.init.kaiming_uniform_", size=[4, 3], nonlinearity="relu")])
    c.add("kaiming_uniform_float32_4x3_FAN_IN_seed1",
          [seed(1), step("nn.init.kaiming_uniform_", size=[4, 3], mode="FAN_IN")])
    # A transposed target: fans come from the logical [4, 3] shape, the fill is in memory order.
    c.add("kaiming_uniform_float32_3x4_perm10_asqrt5_seed1",
          [seed(1), step("nn.init.kaiming_uniform_", size=[3, 4], a=math.sqrt(5), permute=[1, 0])])
    c.add("init_uniform_float64_3x4_perm10_m0p3_0p7_seed1",
          [seed(1), step("nn.init.uniform_", size=[3, 4], dtype="float64", a=-0.3, b=0.7,
                         permute=[1, 0])])
    c.add("linear_3x4_seed1", [seed(1), step("nn.Linear", in_features=3, out_features=4)], AVX512)
    return c.cases


# --------------------------------------------------------------------------- main

def main():
    release, _ = gen_golden.installed_torch()  # the states below come from this release
    states = torch_states()
    files = {
        "core_rand.json": rand_cases(),
        "core_randn.json": randn_cases(),
        "core_state.json": state_cases(states),
        "core_errors.json": error_cases(states),
        "demo.json": demo_cases(),
        "core_tensor_args.json": tensor_arg_cases(),
    }
    # Other areas live in tools/cases_<area>.py, each with files() -> {file name: [case, ...]}.
    for path in sorted(Path(__file__).resolve().parent.glob("cases_*.py")):
        module = importlib.import_module(path.stem)
        for fname, cases in module.files().items():
            if fname in files:
                sys.exit(f"make_cases: {path.name} writes {fname}, which another area writes too")
            files[fname] = cases
    only = set(sys.argv[1:])
    if only:
        files = {k: v for k, v in files.items() if k in only}
    names = [case["name"] for cases in files.values() for case in cases]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        sys.exit(f"make_cases: duplicate case names: {', '.join(dupes)}")
    gen_golden.CASES_DIR.mkdir(parents=True, exist_ok=True)
    for fname, cases in files.items():
        doc = {"format": gen_golden.CASES_FORMAT, "cases": cases}
        gen_golden.validate_file(doc, release, fname)
        with open(gen_golden.CASES_DIR / fname, "w", encoding="utf-8", newline="\n") as f:
            f.write(gen_golden.dump(doc))
        print(f"make_cases: wrote golden/cases/{fname} ({len(cases)} cases)", file=sys.stderr)


if __name__ == "__main__":
    main()
