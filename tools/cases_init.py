"""Case files for torch.nn.init (golden/cases/init_*.json); see tools/make_cases.py."""

import math

from make_cases import (AVX2, BOTH, CaseList, era_releases, inplace, rand, randn, release_tok, seed, shape_tok,
                        step)

FLOATS = ("float32", "float64", "float16", "bfloat16")
# 2-D to 5-D weights: Linear, a 16+ element matrix, Bilinear, Conv1d/2d/3d.
SHAPES = ([4, 3], [3, 5], [20, 30], [2, 3, 5], [8, 2, 3, 3], [4, 2, 2, 2, 2])


def init(fn, size, dtype=None, permute=None, gen=None, **params):
    return inplace(f"nn.init.{fn}", size, dtype, permute, gen, **params)


def basic_cases():
    c = CaseList()
    # uniform_ and normal_ with their defaults and with other parameters.
    for dtype in FLOATS:
        for size in ([4, 3], [20, 30]):
            tok = f"{dtype}_{shape_tok(size)}"
            c.add(f"init_uniform_{tok}_default_seed0", [seed(0), init("uniform_", size, dtype)])
            c.add(f"init_uniform_{tok}_m0p2_0p9_seed0",
                  [seed(0), init("uniform_", size, dtype, a=-0.2, b=0.9)])
            c.add(f"init_normal_{tok}_default_seed0", [seed(0), init("normal_", size, dtype)])
            c.add(f"init_normal_{tok}_mean0p3_std1p7_seed0",
                  [seed(0), init("normal_", size, dtype, mean=0.3, std=1.7)])
    # No draws: constant_, ones_, zeros_ (any dtype), then a draw shows the stream is untouched.
    for dtype in FLOATS + ("int64", "int32", "uint8", "bool"):
        c.add(f"init_constant_{dtype}_2x3_2p7_seed0",
              [seed(0), init("constant_", [2, 3], dtype, val=2.7), rand([2])], AVX2)
        c.add(f"init_constant_{dtype}_2x3_m1p5_seed0",
              [seed(0), init("constant_", [2, 3], dtype, val=-1.5)], AVX2)
        c.add(f"init_ones_zeros_{dtype}_3x2_seed0",
              [seed(0), init("ones_", [3, 2], dtype), init("zeros_", [3, 2], dtype), rand([2])],
              AVX2)
    c.add("init_constant_float32_4_inf_seed0",
          [seed(0), init("constant_", [4], "float32", val="inf")], AVX2)
    c.add("init_constant_float32_4_nan_seed0",
          [seed(0), init("constant_", [4], "float32", val="nan")], AVX2)
    c.add("init_constant_float16_4_65519_seed0",
          [seed(0), init("constant_", [4], "float16", val=65519.0)], AVX2)
    c.add("init_constant_float32_4_1em40_seed0",
          [seed(0), init("constant_", [4], "float32", val=1e-40)], AVX2)
    c.add("init_constant_float32_3x4_perm10_0p1_seed0",
          [seed(0), init("constant_", [3, 4], "float32", permute=[1, 0], val=0.1)], AVX2)
    # eye_ and dirac_.
    for size in ([3, 3], [2, 5], [5, 2], [0, 3]):
        for dtype in ("float32", "float64", "int64", "bfloat16"):
            c.add(f"init_eye_{dtype}_{shape_tok(size)}_seed0",
                  [seed(0), init("eye_", size, dtype), rand([2])], AVX2)
    c.add("init_eye_float32_3x4_perm10_seed0",
          [seed(0), init("eye_", [3, 4], "float32", permute=[1, 0])], AVX2)
    for size, groups in (([4, 3, 5], 1), ([6, 2, 3, 3], 2), ([6, 2, 3, 3], 1), ([4, 6, 2, 3, 4], 2),
                         ([3, 5, 4, 4], 3), ([6, 2, 3, 3], -2), ([2, 4, 1, 1], 1)):
        for dtype in ("float32", "float16"):
            g = str(groups).replace("-", "m")
            c.add(f"init_dirac_{dtype}_{shape_tok(size)}_groups{g}_seed0",
                  [seed(0), init("dirac_", size, dtype, groups=groups), rand([2])], AVX2)
    c.add("init_dirac_float32_2x3x3x3_perm0231_seed0",
          [seed(0), init("dirac_", [2, 3, 3, 3], "float32", permute=[0, 2, 3, 1])], AVX2)
    return c.cases


def fan_cases():
    c = CaseList()
    for size in SHAPES:
        for dtype in FLOATS:
            tok = f"{dtype}_{shape_tok(size)}"
            c.add(f"xavier_uniform_{tok}_seed0", [seed(0), init("xavier_uniform_", size, dtype)])
            c.add(f"xavier_normal_{tok}_seed0", [seed(0), init("xavier_normal_", size, dtype)])
            c.add(f"kaiming_uniform_{tok}_seed0", [seed(0), init("kaiming_uniform_", size, dtype)])
            c.add(f"kaiming_normal_{tok}_seed0", [seed(0), init("kaiming_normal_", size, dtype)])
    # Gains, modes and nonlinearities (float32).
    for size in ([4, 3], [20, 30], [8, 2, 3, 3]):
        tok = shape_tok(size)
        for gain, gtok in ((math.sqrt(2.0), "sqrt2"), (5.0 / 3, "5over3"), (0.0, "0")):
            c.add(f"xavier_uniform_float32_{tok}_gain{gtok}_seed3",
                  [seed(3), init("xavier_uniform_", size, "float32", gain=gain)])
            c.add(f"xavier_normal_float32_{tok}_gain{gtok}_seed3",
                  [seed(3), init("xavier_normal_", size, "float32", gain=gain)])
        for fn in ("kaiming_uniform_", "kaiming_normal_"):
            for a, mode, nl, label in ((math.sqrt(5), "fan_in", "leaky_relu", "asqrt5"),
                                       (0.2, "fan_out", "leaky_relu", "a0p2_fan_out"),
                                       (0.0, "fan_out", "relu", "fan_out_relu"),
                                       (0.0, "FAN_IN", "tanh", "FAN_IN_tanh"),
                                       (3.0, "fan_in", "selu", "selu"),
                                       (0.0, "fan_in", "conv_transpose2d", "conv_transpose2d"),
                                       (0.0, "fan_in", "sigmoid", "sigmoid"),
                                       (-1.0, "fan_in", "leaky_relu", "am1"),
                                       ("inf", "fan_in", "leaky_relu", "ainf")):
                c.add(f"{fn[:-1]}_float32_{tok}_{label}_seed3",
                      [seed(3), init(fn, size, "float32", a=a, mode=mode, nonlinearity=nl)])
    # Zero-element tensors: kaiming draws nothing (even 1-D), xavier of (0, 5) draws nothing.
    for fn in ("kaiming_uniform_", "kaiming_normal_", "xavier_uniform_", "xavier_normal_"):
        c.add(f"{fn[:-1]}_float32_0x5_then_rand_seed0",
              [seed(0), init(fn, [0, 5], "float32"), rand([3])])
    c.add("kaiming_normal_float32_0_then_rand_seed0",
          [seed(0), init("kaiming_normal_", [0], "float32"), rand([3])])
    # Empty tensors whose fans exceed 64 bits (Python ints): fan_out = 2^80, fan_in = 0.
    for fn in ("xavier_uniform_", "xavier_normal_"):
        c.add(f"{fn[:-1]}_float32_2p40x0x2p40_then_rand_seed0",
              [seed(0), init(fn, [2 ** 40, 0, 2 ** 40], "float32"), rand([3])])
        c.add(f"{fn[:-1]}_float32_0x2p31x2p31_then_rand_seed0",
              [seed(0), init(fn, [0, 2 ** 31, 2 ** 31], "float32"), rand([3])])
    # dirac_ writes nothing when a group has no output channel or there is no input channel, so a
    # zero spatial dimension does not matter there.
    c.add("dirac_float32_0x1x0_then_rand_seed0",
          [seed(0), init("dirac_", [0, 1, 0], "float32"), rand([3])])
    c.add("dirac_float32_2x0x0_then_rand_seed0",
          [seed(0), init("dirac_", [2, 0, 0], "float32"), rand([3])])
    # Non-contiguous targets: fans from the logical shape, fills in memory order, and normal_
    # takes the per-element path however large the tensor.
    for fn in ("xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"):
        c.add(f"{fn[:-1]}_float32_30x20_perm10_seed0",
              [seed(0), init(fn, [30, 20], "float32", permute=[1, 0])])
        c.add(f"{fn[:-1]}_float32_8x3x3x2_perm0312_seed0",
              [seed(0), init(fn, [8, 3, 3, 2], "float32", permute=[0, 3, 1, 2])])
    # The normal cache: a 3x5 kaiming_normal_ (15 elements, per-element path) leaves a cached
    # sample that the next small normal uses.
    c.add("kaiming_normal_float32_3x5_fan_out_relu_then_randn3_seed0",
          [seed(0), init("kaiming_normal_", [3, 5], "float32", mode="fan_out", nonlinearity="relu"),
           randn([3], "float64")])
    c.add("xavier_normal_float32_1x1x7_twice_seed0",
          [seed(0), init("xavier_normal_", [1, 1, 7], "float32"),
           init("xavier_normal_", [1, 1, 7], "float32")])
    # generator=: the private generator is used, the default one is untouched.
    for fn in ("uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
               "kaiming_normal_"):
        c.add(f"{fn[:-1]}_float32_20x30_generator_seed5",
              [seed(5), step("manual_seed", "g", seed=5), init(fn, [20, 30], "float32", gen="g"),
               rand([4]), init(fn, [4, 3], "float32", gen="g"), rand([4])])
    return c.cases


TRUNC_PARAMS = (
    # (label, mean, std, a, b): p > 0.3 takes normal proposals, p <= 0.3 uniform ones.
    ("default", 0.0, 1.0, -2.0, 2.0),
    ("std0p02", 0.0, 0.02, -2.0, 2.0),
    ("mean0p3_std1p7_m1_2", 0.3, 1.7, -1.0, 2.0),
    ("m0p5_0p5", 0.0, 1.0, -0.5, 0.5),          # p = 0.38: normal proposals, several rounds
    ("m0p1_0p1", 0.0, 1.0, -0.1, 0.1),          # p = 0.08: uniform proposals
    ("0p5_1p2", 0.0, 1.0, 0.5, 1.2),            # p = 0.19, mode at a
    ("2_3", 0.0, 1.0, 2.0, 3.0),                # p = 0.021, a tail
    ("mean5_m1_1", 5.0, 1.0, -1.0, 1.0),        # far from the mean: p ~ 1e-9, warns
    ("mean0p3_std0p7_0p9_1p4", 0.3, 0.7, 0.9, 1.4),  # p = 0.18: uniform proposals, m, s inexact
)


def trunc_cases():
    c = CaseList()
    for label, mean, std, a, b in TRUNC_PARAMS:
        params = dict(mean=mean, std=std, a=a, b=b)
        for dtype in FLOATS:
            for size in ([20], [4, 3], [1000], [3, 5, 7]):
                c.add(f"trunc_normal_{dtype}_{shape_tok(size)}_{label}_seed0",
                      [seed(0), init("trunc_normal_", size, dtype, **params), rand([3])])
        c.add(f"trunc_normal_float32_40x30_perm10_{label}_seed1",
              [seed(1), init("trunc_normal_", [40, 30], "float32", permute=[1, 0], **params)])
        c.add(f"trunc_normal_float32_20x30_{label}_generator_seed5",
              [seed(5), step("manual_seed", "g", seed=5),
               init("trunc_normal_", [20, 30], "float32", gen="g", **params), rand([4])])
    # Many elements and seeds in the uniform branch, where a decision can hinge on the last bit of
    # PyTorch's log.
    for s in range(4):
        for label, a, b in (("m0p1_0p1", -0.1, 0.1), ("2_3", 2.0, 3.0)):
            for dtype in ("float32", "float64"):
                c.add(f"trunc_normal_{dtype}_100000_{label}_seed{s}",
                      [seed(s), init("trunc_normal_", [100000], dtype, a=a, b=b)], AVX2)
    c.add("trunc_normal_float32_1000_std_m1_seed0",
          [seed(0), init("trunc_normal_", [1000], "float32", std=-1.0)])
    # Proposals almost never accepted by their log-density: on float16/bfloat16 a candidate that
    # rounds to b is replaced by a (always accepted) and an acceptance uniform that rounds to 1.0 by
    # 0 (log gives -inf), so PyTorch finishes after a few thousand rounds; torch-rng must too.
    for dtype, b in (("float16", 60000.0), ("bfloat16", 1e30)):
        for n in (1, 40):
            c.add(f"trunc_normal_{dtype}_{n}_1_{b:g}_rare_acceptance_seed3",
                  [seed(3), init("trunc_normal_", [n], dtype, a=1.0, b=b), rand([2])], AVX2)
    # Small tensors use the per-element normal path and its cache.
    for n in (1, 5, 7, 12, 15, 16, 17):
        c.add(f"trunc_normal_float32_{n}_m0p5_0p5_then_randn3_seed2",
              [seed(2), init("trunc_normal_", [n], "float32", a=-0.5, b=0.5),
               randn([3], "float64")])
    return c.cases


# Releases whose trunc_normal_ differs: the inverse-CDF chain (2.0, 2.5 with generator=, 2.9) and
# the first rejection-sampling release (2.12). MKL's erfinv is not reproduced to the bit, so the
# inverse-CDF steps carry a tolerance (golden/README.md, "Outputs compared within a bound").
OLD_TRUNC_RELEASES = era_releases(("L0", "L1", "R2", "R3"))
ERFINV_TOLERANCE = {"float32": {"max_ulps": 2}, "float64": {"max_ulps": 64, "max_abs": 1e-12},
                    "float16": {"max_ulps": 1}, "bfloat16": {"max_ulps": 1}}


def old_trunc_cases():
    c = CaseList()
    for release in OLD_TRUNC_RELEASES:
        inverse_cdf = release != "2.12.1"
        vtok = release_tok(release)
        for label, mean, std, a, b in TRUNC_PARAMS[:5] + TRUNC_PARAMS[6:7]:
            for dtype in FLOATS:
                if release == "2.0.1" and dtype == "float16":
                    continue  # erfinv has no Half kernel in 2.0.1: an API gap, not a rejection
                for size in ([20], [1000], [3, 5, 7]):
                    st = init("trunc_normal_", size, dtype, mean=mean, std=std, a=a, b=b)
                    if inverse_cdf:
                        st["tolerance"] = ERFINV_TOLERANCE[dtype]
                    c.add(f"trunc_normal_{vtok}_{dtype}_{shape_tok(size)}_{label}_seed0",
                          [seed(0), st, rand([3])], BOTH, release)
        if release != "2.0.1":  # generator= on nn.init arrived in 2.1
            st = init("trunc_normal_", [20, 30], "float32", gen="g")
            if inverse_cdf:
                st["tolerance"] = ERFINV_TOLERANCE["float32"]
            c.add(f"trunc_normal_{vtok}_float32_20x30_generator_seed5",
                  [seed(5), step("manual_seed", "g", seed=5), st, rand([4])], AVX2, release)
    return c.cases


EPS32 = 2.0 ** -23
EPS64 = 2.0 ** -52
# orthogonal_'s QR is LAPACK's (MKL); torch-rng's Householder QR in double lands within a few
# float32 eps of it (README fidelity table), so its steps carry a bound in units of eps * |gain|.
ORTHO_BOUND = {"float32": 32 * EPS32, "float64": 64 * EPS64}
ORTHO_SHAPES = ([4, 3], [3, 5], [3, 3], [1, 5], [5, 1], [20, 30], [30, 20], [8, 2, 3, 3],
                [4, 3, 5], [6, 4, 2, 2, 2])
ORTHO_BIG = ([64, 64], [128, 32], [32, 128])


def ortho(size, dtype, gain=None, permute=None, gen=None):
    params = {} if gain is None else {"gain": gain}
    st = init("orthogonal_", size, dtype, permute=permute, gen=gen, **params)
    g = abs(1 if gain is None else gain)
    if dtype in ORTHO_BOUND:
        st["tolerance"] = {"max_abs": ORTHO_BOUND[dtype] * max(g, 1e-300)}
    return st


def orthogonal_cases():
    c = CaseList()
    for size in ORTHO_SHAPES:
        for dtype in ("float32", "float64"):
            for s in (0, 1):
                c.add(f"orthogonal_{dtype}_{shape_tok(size)}_seed{s}",
                      [seed(s), ortho(size, dtype), rand([3])])
    # Larger matrices once (their full values make big result files).
    for size in ORTHO_BIG:
        for dtype in ("float32", "float64"):
            c.add(f"orthogonal_{dtype}_{shape_tok(size)}_seed0", [seed(0), ortho(size, dtype)], AVX2)
    c.add("orthogonal_float32_256x256_seed0", [seed(0), ortho([256, 256], "float32")], AVX2)
    for gain in (2.0, 0.5, -1.5, 5.0 / 3):
        gtok = str(gain).replace("-", "m").replace(".", "p")[:6]
        c.add(f"orthogonal_float32_20x30_gain{gtok}_seed0", [seed(0), ortho([20, 30], "float32", gain)])
    c.add("orthogonal_float32_20x30_generator_seed5",
          [seed(5), step("manual_seed", "g", seed=5), ortho([20, 30], "float32", gen="g"),
           rand([4])])
    # A transposed 2-D target is filled at its logical positions; the draw is a new contiguous
    # tensor either way.
    c.add("orthogonal_float32_5x3_perm10_seed0",
          [seed(0), ortho([5, 3], "float32", permute=[1, 0])])
    c.add("orthogonal_float32_4x2x3_perm021_seed0",
          [seed(0), ortho([4, 2, 3], "float32", permute=[0, 2, 1])])
    c.add("orthogonal_float32_0x5_then_rand_seed0",
          [seed(0), init("orthogonal_", [0, 5], "float32"), rand([3])])
    return c.cases


def sparse_cases():
    c = CaseList()
    for size in ([5, 3], [10, 4], [20, 30], [1, 7], [7, 1], [0, 4], [4, 0]):
        for sparsity in (0.1, 0.5, 0.9, 0.0, 1.0):
            stok = str(sparsity).replace(".", "p")
            c.add(f"sparse_float32_{shape_tok(size)}_sparsity{stok}_seed0",
                  [seed(0), init("sparse_", size, "float32", sparsity=sparsity), rand([3])])
    for dtype in FLOATS:
        c.add(f"sparse_{dtype}_10x6_sparsity0p3_std0p5_seed1",
              [seed(1), init("sparse_", [10, 6], dtype, sparsity=0.3, std=0.5), rand([3])])
    # Python slice semantics: a negative count keeps all but the last |n|; more than rows keeps all.
    for sparsity, stok in ((-0.3, "m0p3"), (-2.0, "m2"), (3.0, "3")):
        c.add(f"sparse_float32_5x3_sparsity{stok}_seed0",
              [seed(0), init("sparse_", [5, 3], "float32", sparsity=sparsity), rand([3])])
    c.add("sparse_float32_30x20_perm10_sparsity0p25_seed0",
          [seed(0), init("sparse_", [30, 20], "float32", permute=[1, 0], sparsity=0.25)])
    # generator=: the normals come from it, the permutations from the default generator.
    c.add("sparse_float32_20x30_sparsity0p2_generator_seed5",
          [seed(5), step("manual_seed", "g", seed=5),
           init("sparse_", [20, 30], "float32", gen="g", sparsity=0.2), rand([4]),
           rand([4], gen="g")])
    return c.cases


# R1 (2.6) changes only randperm; the pinned release has its own files.
ERA_RELEASES = era_releases(("L0", "L1", "R2", "R3"))


def era_cases():
    """The other init functions in older releases: they change only where their kernels do
    (half/bfloat16 uniform_ before 2.12, the normal fill path before 2.13, randperm)."""
    c = CaseList()

    def add(release, name, steps, caps=BOTH):
        c.add(f"{name}_{release_tok(release)}", steps, caps, release)

    for release in ERA_RELEASES:
        for dtype in FLOATS:
            for fn, size in (("xavier_uniform_", [20, 30]), ("kaiming_uniform_", [4, 3]),
                             ("xavier_normal_", [20, 30]), ("kaiming_normal_", [3, 5])):
                add(release, f"{fn[:-1]}_{dtype}_{shape_tok(size)}_seed0",
                    [seed(0), init(fn, size, dtype), rand([3])])
            add(release, f"init_normal_{dtype}_1000_mean0p3_std1p7_seed0",
                [seed(0), init("normal_", [1000], dtype, mean=0.3, std=1.7)])
            add(release, f"init_uniform_{dtype}_257_m0p2_0p9_seed0",
                [seed(0), init("uniform_", [257], dtype, a=-0.2, b=0.9)])
        add(release, "sparse_float32_20x30_sparsity0p2_seed0",
            [seed(0), init("sparse_", [20, 30], "float32", sparsity=0.2), rand([3])])
        add(release, "init_dirac_eye_float32_seed0",
            [seed(0), init("dirac_", [6, 2, 3, 3], "float32", groups=2),
             init("eye_", [3, 4], "float32"), rand([2])], AVX2)
        if release != "2.0.1":
            add(release, "xavier_normal_float32_20x30_generator_seed5",
                [seed(5), step("manual_seed", "g", seed=5),
                 init("xavier_normal_", [20, 30], "float32", gen="g"), rand([4])], AVX2)
    return c.cases


def error_cases():
    c = CaseList()

    def rejected(name, *steps):
        c.add(f"rejected_{name}", [seed(0), rand([2])] + list(steps) + [rand([2])])

    for fn in ("xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"):
        rejected(f"{fn[:-1]}_1d_5", init(fn, [5]))
        rejected(f"{fn[:-1]}_scalar", init(fn, []))
    for fn in ("kaiming_uniform_", "kaiming_normal_"):
        rejected(f"{fn[:-1]}_mode_fan_avg", init(fn, [4, 3], mode="fan_avg"))
        rejected(f"{fn[:-1]}_nonlinearity_gelu", init(fn, [4, 3], nonlinearity="gelu"))
        rejected(f"{fn[:-1]}_nonlinearity_Relu", init(fn, [4, 3], nonlinearity="Relu"))
        rejected(f"{fn[:-1]}_a_nan", init(fn, [4, 3], a="nan"))
    rejected("kaiming_uniform_int64", init("kaiming_uniform_", [4, 3], "int64"))
    rejected("kaiming_normal_int32", init("kaiming_normal_", [4, 3], "int32"))
    rejected("xavier_uniform_0x0", init("xavier_uniform_", [0, 0]))
    rejected("xavier_normal_0x0", init("xavier_normal_", [0, 0]))
    rejected("xavier_uniform_gain_m1", init("xavier_uniform_", [4, 3], gain=-1.0))
    rejected("xavier_normal_gain_m1", init("xavier_normal_", [4, 3], gain=-1.0))
    rejected("xavier_normal_20x30_gain_m1", init("xavier_normal_", [20, 30], gain=-1.0))
    rejected("xavier_uniform_gain_nan", init("xavier_uniform_", [4, 3], gain="nan"))
    rejected("xavier_uniform_float16_gain_1e5", init("xavier_uniform_", [4, 3], "float16",
                                                     gain=1e5))
    rejected("init_uniform_a_gt_b", init("uniform_", [4], a=1.0, b=0.0))
    rejected("init_uniform_b_inf", init("uniform_", [4], a=0.0, b="inf"))
    rejected("init_uniform_int64", init("uniform_", [4], "int64"))
    rejected("init_normal_std_m1", init("normal_", [4], std=-1.0))
    rejected("init_normal_20_std_m1", init("normal_", [20], std=-1.0))
    rejected("init_normal_negative_size", init("normal_", [-1, 3]))
    rejected("init_constant_float32_1e39", init("constant_", [4], "float32", val=1e39))
    rejected("init_constant_float16_65520", init("constant_", [4], "float16", val=65520.0))
    rejected("init_constant_int8_200", init("constant_", [4], "int8", val=200.0))
    rejected("init_constant_int64_inf", init("constant_", [4], "int64", val="inf"))
    rejected("init_constant_uint8_m1", init("constant_", [4], "uint8", val=-1.0))
    rejected("trunc_normal_std_0", init("trunc_normal_", [4], std=0.0))
    rejected("trunc_normal_a_gt_b", init("trunc_normal_", [4], a=1.0, b=-1.0))
    rejected("trunc_normal_int64", init("trunc_normal_", [4], "int64"))
    rejected("trunc_normal_int64_uniform_branch", init("trunc_normal_", [4], "int64", a=2.0, b=3.0))
    rejected("trunc_normal_b_inf_uniform_branch", init("trunc_normal_", [4], a=3.0, b="inf"))
    rejected("trunc_normal_float16_b_1e5", init("trunc_normal_", [4], "float16", a=3.0, b=1e5))
    rejected("orthogonal_1d", init("orthogonal_", [4]))
    rejected("orthogonal_float16", init("orthogonal_", [4, 3], "float16"))
    rejected("orthogonal_bfloat16", init("orthogonal_", [4, 3], "bfloat16"))
    rejected("orthogonal_int64", init("orthogonal_", [4, 3], "int64"))
    rejected("orthogonal_2x3x4_perm102_no_view", init("orthogonal_", [2, 3, 4], permute=[1, 0, 2]))
    rejected("sparse_1d", init("sparse_", [4], sparsity=0.1))
    rejected("sparse_3d", init("sparse_", [4, 3, 2], sparsity=0.1))
    rejected("sparse_sparsity_nan", init("sparse_", [4, 3], sparsity="nan"))
    rejected("sparse_sparsity_inf", init("sparse_", [4, 3], sparsity="inf"))
    rejected("sparse_std_m1", init("sparse_", [4, 3], sparsity=0.1, std=-1.0))
    rejected("sparse_int64", init("sparse_", [4, 3], "int64", sparsity=0.1))
    rejected("init_eye_1d", init("eye_", [4]))
    rejected("init_eye_3d", init("eye_", [2, 2, 2]))
    rejected("init_dirac_2d", init("dirac_", [4, 4]))
    rejected("init_dirac_6d", init("dirac_", [1, 1, 1, 1, 1, 1]))
    rejected("init_dirac_groups_4_of_6", init("dirac_", [6, 2, 3], groups=4))
    rejected("init_dirac_groups_0", init("dirac_", [6, 2, 3], groups=0))
    # A zero spatial dimension: the one at its centre cannot be written (IndexError).
    rejected("init_dirac_1x1x0", init("dirac_", [1, 1, 0]))
    rejected("init_dirac_4x2x0x3", init("dirac_", [4, 2, 0, 3]))
    rejected("init_dirac_2x2x3x0_groups2", init("dirac_", [2, 2, 3, 0], groups=2))
    # torch.empty refuses strides beyond int64, even for an empty tensor.
    rejected("xavier_uniform_0x2p32x2p32_stride_overflow",
             init("xavier_uniform_", [0, 2 ** 32, 2 ** 32]))
    rejected("init_normal_2p32x1x2p32_too_large", init("normal_", [2 ** 32, 1, 2 ** 32]))
    return c.cases


def files():
    return {
        "init_basic.json": basic_cases(),
        "init_fans.json": fan_cases(),
        "init_errors.json": error_cases(),
        "init_trunc.json": trunc_cases(),
        "init_trunc_eras.json": old_trunc_cases(),
        "init_orthogonal.json": orthogonal_cases(),
        "init_sparse.json": sparse_cases(),
        "init_eras.json": era_cases(),
    }
