"""Case file for the stateless Philox ops of PyTorch 2.15 (golden/cases/philox_stateless.json).

`torch._philox_uniform_`, `_philox_normal_`, `_philox_randint_`, `_philox_key_split` and
`_philox_key_fold_in` on the CPU, under all three kernel variants (the ops live outside the
per-capability kernels; the fixtures show it). Keys cover small seeds, seeds above 2^63 (to
check that 64-bit key literals stay exact), offsets at the 2^64 wrap of the block counter,
batched keys (per row, per column, per element, broadcast), keys produced by earlier
`_philox_key_split`/`_philox_key_fold_in` steps, every dtype each op accepts, sizes around the
4- and 2-element chunks, permuted outputs, and every argument PyTorch rejects (names start with
`rejected_`). Stateless ops need no manual_seed.
"""

from make_cases import CaseList, step

CAPS = ("default", "avx2", "avx512")
FLOATS = ("float32", "float64", "float16", "bfloat16")
INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def key(seed, offset=0):
    return {"dtype": "uint64", "data": [seed, offset]}


def keys(pairs, shape):
    """A batched key literal of `shape` (..., 2) from (seed, offset) pairs in row-major order."""
    flat = [list(p) for p in pairs]

    def nest(items, dims):
        if not dims:
            return items.pop(0)
        return [nest(items, dims[1:]) for _ in range(dims[0])]

    return {"dtype": "uint64", "data": nest(flat, list(shape[:-1]))}


def ref(k):
    return {"step": k}


KEYS = (
    ("s42", key(42)),
    ("s0o7", key(0, 7)),
    ("sbig", key(2 ** 64 - 1 - 12345, 2 ** 63 + 3)),
    ("wrap", key(1234567, 2 ** 64 - 2)),      # chunks 0, 1, 2 at counters 2^64-2, 2^64-1, 0
)

SIZES = (1, 3, 4, 5, 7, 17, 1000)


def uniform_cases(c):
    for d in FLOATS:
        for kname, k in KEYS:
            for n in SIZES:
                c.add(f"philox_uniform_{d}_{n}_{kname}",
                      [step("_philox_uniform_", size=[n], dtype=d, key=k)], caps=CAPS)
        for lo, hi, tok in ((-3.0, 5.0, "m3_5"), (0.25, 0.5, "0p25_0p5"), (2.0, -1.0, "2_m1"),
                            (0.0, 1e6, "0_1e6"), (-1e300, 1e300, "m1e300_1e300")):
            c.add(f"philox_uniform_{d}_33_{tok}_s5",
                  [step("_philox_uniform_", size=[33], dtype=d, key=key(5), low=lo, high=hi)],
                  caps=CAPS)
        c.add(f"philox_uniform_{d}_4x5_permuted_s3",
              [step("_philox_uniform_", size=[4, 5], dtype=d, permute=[1, 0], key=key(3))],
              caps=CAPS)
        c.add(f"philox_uniform_{d}_empty_s3",
              [step("_philox_uniform_", size=[0, 3], dtype=d, key=key(3))], caps=CAPS)


def normal_cases(c):
    for d in FLOATS:
        for kname, k in KEYS:
            for n in SIZES:
                c.add(f"philox_normal_{d}_{n}_{kname}",
                      [step("_philox_normal_", size=[n], dtype=d, key=k)], caps=CAPS)
        for mean, std, tok in ((2.0, 0.5, "2_0p5"), (-1.0, 3.0, "m1_3"), (0.0, -1.0, "0_m1"),
                               (0.0, "nan", "0_nan"), (1e5, 1e-3, "1e5_1em3")):
            c.add(f"philox_normal_{d}_33_{tok}_s5",
                  [step("_philox_normal_", size=[33], dtype=d, key=key(5), mean=mean, std=std)],
                  caps=CAPS)
        c.add(f"philox_normal_{d}_2x3x4_permuted_s3",
              [step("_philox_normal_", size=[2, 3, 4], dtype=d, permute=[2, 0, 1], key=key(3))],
              caps=CAPS)
    c.add("philox_normal_float32_100000_s9",
          [step("_philox_normal_", size=[100000], dtype="float32", key=key(9))], caps=CAPS)
    c.add("philox_normal_float64_100000_s9",
          [step("_philox_normal_", size=[100000], dtype="float64", key=key(9))], caps=CAPS)


def dtype_bounds(d):
    bits = int("".join(ch for ch in d if ch.isdigit()))
    lo = -(2 ** (bits - 1)) if d.startswith("int") else 0
    return bits, lo, lo + 2 ** bits


def randint_cases(c):
    for d in INTS:
        bits, dmin, dmax1 = dtype_bounds(d)
        bounds = [("full", None, None), ("0_10", 0, 10), ("m5_100", -5, 100),
                  ("none_10", None, 10), ("3_none", 3, None), ("min_none", dmin, None),
                  ("0_2p7", 0, 2 ** 7)]
        if dmax1 <= 2 ** 63 - 1:
            bounds.append(("min_max1", dmin, dmax1))  # explicit full range: shifted, not raw
        if bits >= 32:
            bounds += [("0_2p28m1", 0, 2 ** 28 - 1), ("0_2p30", 0, 2 ** 30)]
        if bits == 64:
            bounds += [("0_2p40", 0, 2 ** 40), ("0_3e9", 0, 3_000_000_000), ("5_3", 5, 3),
                       ("m2p63_2p63m1", -2 ** 63, 2 ** 63 - 1)]
        for tok, lo, hi in bounds:
            for kname, k in KEYS[1:3]:
                fields = {}
                if lo is not None:
                    fields["low"] = lo
                if hi is not None:
                    fields["high"] = hi
                c.add(f"philox_randint_{d}_{tok}_9_{kname}",
                      [step("_philox_randint_", size=[9], dtype=d, key=k, **fields)], caps=CAPS)
        c.add(f"philox_randint_{d}_3x4_permuted_s3",
              [step("_philox_randint_", size=[3, 4], dtype=d, permute=[1, 0], key=key(3),
                    low=0, high=100)], caps=CAPS)
    c.add("philox_randint_uint32_10_s42",  # the raw stream, cuda-philox.md [VC]
          [step("_philox_randint_", size=[10], dtype="uint32", key=key(42))], caps=CAPS)


def key_cases(c):
    batch = keys([(1, 2), (3, 4), (2 ** 64 - 1, 2 ** 64 - 1)], (3, 2))
    grid = keys([(7, 0), (8, 1), (9, 2), (10, 3)], (2, 2, 2))
    for tok, k in (("s42", key(42)), ("sbig", key(2 ** 64 - 1, 2 ** 64 - 3)), ("batch3", batch),
                   ("grid2x2", grid)):
        for n in (1, 2, 5):
            c.add(f"philox_key_split_{tok}_{n}",
                  [step("_philox_key_split", key=k, num_splits=n)], caps=CAPS)
        for data in (0, 1, 5, -1, 2 ** 62, -(2 ** 63)):
            c.add(f"philox_key_fold_in_{tok}_{str(data).replace('-', 'm')}",
                  [step("_philox_key_fold_in", key=k, data=data)], caps=CAPS)
        c.add(f"philox_key_fold_in_{tok}_tensor_7",
              [step("_philox_key_fold_in", key=k, data={"dtype": "uint64", "data": 7})],
              caps=CAPS)
        c.add(f"philox_key_fold_in_{tok}_tensor_big",
              [step("_philox_key_fold_in", key=k, data={"dtype": "uint64", "data": [2 ** 64 - 2]})],
              caps=CAPS)
    # Keys from earlier steps: split, then one key per output row / element; fold_in chains.
    c.add("philox_chain_split_uniform_rows",
          [step("_philox_key_split", key=key(11), num_splits=3),
           step("_philox_uniform_", size=[3], dtype="float32", key=ref(0)),
           step("_philox_key_fold_in", key=ref(0), data=4),
           step("_philox_normal_", size=[3], dtype="float64", key=ref(2)),
           step("_philox_randint_", size=[3], dtype="int64", key=ref(2), low=0, high=1000)],
          caps=CAPS)
    c.add("philox_chain_fold_in_twice",
          [step("_philox_key_fold_in", key=key(11), data=1),
           step("_philox_key_fold_in", key=ref(0), data=2),
           step("_philox_normal_", size=[7], dtype="float32", key=ref(1))], caps=CAPS)


def batched_cases(c):
    for d in ("float32", "float64", "float16"):
        for tok, size, kshape in (("rows", [2, 3], [2, 1, 2]), ("cols", [2, 3], [1, 3, 2]),
                                  ("each", [2, 3], [2, 3, 2]), ("rows3d", [2, 3, 4], [2, 1, 1, 2]),
                                  ("mid", [2, 3, 5], [2, 1, 5, 2]), ("bcast", [2, 3], [1, 1, 2])):
            n = 1
            for s in kshape[:-1]:
                n *= s
            k = keys([(100 + i, 3 * i) for i in range(n)], kshape)
            c.add(f"philox_batched_uniform_{d}_{tok}",
                  [step("_philox_uniform_", size=size, dtype=d, key=k)], caps=CAPS)
            c.add(f"philox_batched_normal_{d}_{tok}",
                  [step("_philox_normal_", size=size, dtype=d, key=k)], caps=CAPS)
    k = keys([(5, 0), (6, 0)], [2, 1, 2])
    for d in ("int8", "int32", "int64", "uint64"):
        c.add(f"philox_batched_randint_{d}_rows",
              [step("_philox_randint_", size=[2, 9], dtype=d, key=k, low=0, high=50)], caps=CAPS)


def rejected_cases(c):
    ok = key(1)
    for tok, s in (
        ("uniform_int64_target", step("_philox_uniform_", size=[3], dtype="int64", key=ok)),
        ("normal_bool_target", step("_philox_normal_", size=[3], dtype="bool", key=ok)),
        ("uniform_int64_key", step("_philox_uniform_", size=[3], key={"dtype": "int64",
                                                                       "data": [1, 2]})),
        ("uniform_key_shape3", step("_philox_uniform_", size=[3], key={"dtype": "uint64",
                                                                        "data": [1, 2, 3]})),
        ("uniform_batched_ndim", step("_philox_uniform_", size=[3, 2],
                                      key=keys([(1, 2)], [1, 2]))),
        ("uniform_batched_shape", step("_philox_uniform_", size=[2, 3],
                                       key=keys([(i, 0) for i in range(3)], [3, 1, 2]))),
        ("randint_float_target", step("_philox_randint_", size=[3], key=ok)),
        ("randint_bool_target", step("_philox_randint_", size=[3], dtype="bool", key=ok)),
        ("randint_int32_none_10", step("_philox_randint_", size=[3], dtype="int32", key=ok,
                                       high=10)),
        ("randint_uint32_3_none", step("_philox_randint_", size=[3], dtype="uint32", key=ok,
                                       low=3)),
        ("randint_int32_2p28p1", step("_philox_randint_", size=[3], dtype="int32", key=ok,
                                      low=0, high=2 ** 28 + 1)),
        ("randint_int8_empty_range", step("_philox_randint_", size=[3], dtype="int8", key=ok,
                                          low=4, high=4)),
        ("randint_int8_5_3", step("_philox_randint_", size=[3], dtype="int8", key=ok, low=5,
                                  high=3)),
        ("randint_int32_explicit_full", step("_philox_randint_", size=[3], dtype="int32",
                                             key=ok, low=-2 ** 31, high=2 ** 31)),
        ("randint_int64_none_min", step("_philox_randint_", size=[3], dtype="int64", key=ok,
                                        high=-2 ** 63)),
        ("key_split_zero", step("_philox_key_split", key=ok, num_splits=0)),
        ("key_split_int64_key", step("_philox_key_split", key={"dtype": "int64", "data": [1, 2]},
                                     num_splits=2)),
        ("key_split_shape3", step("_philox_key_split", key={"dtype": "uint64", "data": [1, 2, 3]},
                                  num_splits=2)),
        ("fold_in_int64_data", step("_philox_key_fold_in", key=ok,
                                    data={"dtype": "int64", "data": 3})),
        ("fold_in_two_values", step("_philox_key_fold_in", key=ok,
                                    data={"dtype": "uint64", "data": [3, 4]})),
        ("fold_in_int64_key", step("_philox_key_fold_in", key={"dtype": "int64", "data": [1, 2]},
                                   data=1)),
    ):
        c.add(f"rejected_philox_{tok}", [step("_philox_uniform_", size=[2], key=ok), s,
                                        step("_philox_uniform_", size=[2], key=ok)], caps=CAPS)


def files():
    c = CaseList()
    uniform_cases(c)
    normal_cases(c)
    randint_cases(c)
    key_cases(c)
    batched_cases(c)
    rejected_cases(c)
    return {"philox_stateless.json": c.cases}
