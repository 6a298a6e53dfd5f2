"""Case file for the release eras of the core ops (golden/cases/eras_core.json).

Every probe runs once per (release, kernel variant), with the case's "torch_version" naming
the release; tools/gen_golden.py runs each release in its own virtual environment. The
releases are one per era of shared/reference/version-eras.md (2.6.0 for R1 too), the
pinned 2.15.0, and 2.1.2 and 2.3.1, which version-eras.md did not probe (they show that era L1
starts at 2.1). The probes are the rand/randn/uniform_/normal_ calls whose bits change
between eras, plus probes that never change, to show that they do not.

Names: eras_<release>_<probe>_<capability>, release spelled v2_0_1.
"""

import math

from make_cases import (BOTH, FIXTURE_RELEASES, CaseList, get_state, inplace, kaiming_bound,
                        normal_, rand, randn,
                        release_tok, seed, step, uniform_)

RELEASES = FIXTURE_RELEASES

KAIMING_B3 = kaiming_bound(3)
KAIMING_B30 = kaiming_bound(30)

# (mean, std) for the normal fill path, as version-eras.md section 3.6 measured them.
NORMAL_PARAMS = (("mean0_std1", 0.0, 1.0), ("mean0p3_std1p7", 0.3, 1.7),
                 ("meanm2_std0p01", -2.0, 0.01))


def like(op, size, dtype, permute=None):
    return inplace(op, size, dtype, permute)


def probes():
    """[(name, steps)] for one release; the same list for every release."""
    p = []

    def add(name, steps):
        p.append((name, steps))

    # --- rand / uniform_ float16 and bfloat16: 11/8-bit draws before 2.12, 24-bit since.
    for dtype in ("float16", "bfloat16"):
        for n, s in ((7, 1), (16, 2), (17, 3), (1000, 4)):
            add(f"rand_{dtype}_{n}_seed{s}", [seed(s), rand([n], dtype), get_state()])
        for tok, lo, hi in (("kaimingb3", -KAIMING_B3, KAIMING_B3),
                            ("kaimingb30", -KAIMING_B30, KAIMING_B30),
                            ("m0p3_0p7", -0.3, 0.7), ("2_5", 2.0, 5.0)):
            for n in (7, 1000):
                add(f"uniform_{dtype}_{n}_{tok}_seed5", [seed(5), uniform_([n], dtype, lo, hi)])
        add(f"rand_like_{dtype}_40x40_perm10_seed6",
            [seed(6), like("rand_like", [40, 40], dtype, [1, 0])])
        add(f"kaiming_uniform_{dtype}_20x30_seed7",
            [seed(7), step("nn.init.kaiming_uniform_", size=[20, 30], dtype=dtype,
                           a=math.sqrt(5))])
    # Bounds where the rounded value can be `to`: replaced by `from` since 2.12 only.
    add("uniform_float16_1000_2048_2050_seed5",
        [seed(5), uniform_([1000], "float16", 2048.0, 2050.0)])
    add("uniform_bfloat16_1000_256_258_seed5",
        [seed(5), uniform_([1000], "bfloat16", 256.0, 258.0)])
    add("uniform_float32_1000_2p24_2p24p2_seed5",
        [seed(5), uniform_([1000], "float32", 2.0 ** 24, 2.0 ** 24 + 2)])
    add("uniform_float32_1000_1_1p2m23_seed5",
        [seed(5), uniform_([1000], "float32", 1.0, 1.0 + 2.0 ** -23)])
    add("uniform_float64_1000_2p53_2p53p2_seed5",
        [seed(5), uniform_([1000], "float64", 2.0 ** 53, 2.0 ** 53 + 2)])

    # --- randn / normal_ float16 and bfloat16 fill path: four rules (2.0, 2.1-2.11, 2.12, 2.13+).
    for dtype in ("float16", "bfloat16"):
        for n, s in ((16, 1), (17, 2), (31, 3), (33, 1), (1000, 2)):
            add(f"randn_{dtype}_{n}_seed{s}", [seed(s), randn([n], dtype), get_state()])
        for tok, mean, std in NORMAL_PARAMS[1:]:
            for n, s in ((17, 3), (1000, 1)):
                add(f"normal_{dtype}_{n}_{tok}_seed{s}",
                    [seed(s), normal_([n], dtype, mean, std), get_state()])
        # The 2.13 change of the AVX2 raw normal survives rounding on ~0.1 % of elements.
        add(f"randn_{dtype}_4096_seed3", [seed(3), randn([4096], dtype)])
        add(f"randn_{dtype}_65536_seed3", [seed(3), randn([65536], dtype)])
        add(f"randn_like_{dtype}_5x9_seed4", [seed(4), like("randn_like", [5, 9], dtype)])

    # --- float32 / float64 fill path with mean/std: the DEFAULT build fuses since 2.13.
    for dtype in ("float32", "float64"):
        for n in (17, 1000):
            add(f"normal_{dtype}_{n}_mean0p3_std1p7_seed8",
                [seed(8), normal_([n], dtype, 0.3, 1.7)])
        add(f"normal_{dtype}_1000_meanm2_std0p01_seed8",
            [seed(8), normal_([1000], dtype, -2.0, 0.01)])
    add("normal_fn_0p3_1p7_float32_1000_seed9",
        [seed(9), step("normal", mean=0.3, std=1.7, size=[1000], dtype="float32")])

    # --- nn.init functions built on uniform_/normal_ follow their eras (version-eras.md 2.2:
    # init_normal_ under default, xavier_normal_ on float16, kaiming_uniform_ on bfloat16).
    for dtype in ("float32", "float16", "bfloat16"):
        add(f"init_normal_{dtype}_20x30_mean0p3_std1p7_seed15",
            [seed(15), step("nn.init.normal_", size=[20, 30], dtype=dtype, mean=0.3, std=1.7)])
        add(f"init_kaiming_normal_{dtype}_20x30_seed15",
            [seed(15), step("nn.init.kaiming_normal_", size=[20, 30], dtype=dtype)])
    for dtype in ("float16", "bfloat16"):
        add(f"init_xavier_normal_{dtype}_20x30_seed16",
            [seed(16), step("nn.init.xavier_normal_", size=[20, 30], dtype=dtype)])
        add(f"init_xavier_uniform_{dtype}_20x30_seed16",
            [seed(16), step("nn.init.xavier_uniform_", size=[20, 30], dtype=dtype)])
        add(f"init_uniform_{dtype}_20x30_m0p2_0p9_seed16",
            [seed(16), step("nn.init.uniform_", size=[20, 30], dtype=dtype, a=-0.2, b=0.9)])

    # --- Never changed in any release (version-eras.md section 4).
    for dtype in ("float32", "float64"):
        add(f"rand_{dtype}_1000_seed10", [seed(10), rand([1000], dtype), get_state()])
        add(f"randn_{dtype}_1000_seed10", [seed(10), randn([1000], dtype), get_state()])
        add(f"randn_{dtype}_7_seed10", [seed(10), randn([7], dtype)])
        add(f"uniform_{dtype}_1000_kaimingb3_seed11",
            [seed(11), uniform_([1000], dtype, -KAIMING_B3, KAIMING_B3)])
        add(f"normal_{dtype}_7_mean0p3_std1p7_seed11",
            [seed(11), normal_([7], dtype, 0.3, 1.7)])
    for dtype in ("float16", "bfloat16"):
        add(f"randn_{dtype}_7_seed12", [seed(12), randn([7], dtype)])
        add(f"normal_{dtype}_40x40_perm10_mean0p3_std1p7_seed12",
            [seed(12), normal_([40, 40], dtype, 0.3, 1.7, permute=[1, 0])])
    add("normal_cache_chain_seed13",
        [seed(13), randn([1], "float64"), randn([16]), randn([1], "float64"), get_state()])
    add("linear_3x4_seed1", [seed(1), step("nn.Linear", in_features=3, out_features=4)])
    add("kaiming_uniform_float32_20x30_seed7",
        [seed(7), step("nn.init.kaiming_uniform_", size=[20, 30], dtype="float32",
                       a=math.sqrt(5))])
    # Rejected in every release: the checks did not change.
    add("rejected_uniform_float16_from_gt_to_seed14",
        [seed(14), uniform_([3], "float16", 1.0, 0.0), rand([2])])
    add("rejected_normal_float32_std_negative_seed14",
        [seed(14), rand([2]), normal_([20], "float32", 0.0, -1.0), rand([2])])
    return p


# Probes also run under avx512, which behaves as avx2 in every release (version-eras.md section 0).
AVX512_PROBES = ("rand_float16_1000_seed4", "rand_bfloat16_1000_seed4",
                 "uniform_float32_1000_2p24_2p24p2_seed5", "randn_float16_1000_seed2",
                 "randn_bfloat16_65536_seed3", "normal_float16_1000_mean0p3_std1p7_seed1",
                 "normal_float32_1000_mean0p3_std1p7_seed8")


def eras_core():
    c = CaseList()
    for release in RELEASES:
        for name, steps in probes():
            caps = BOTH + (("avx512",) if name in AVX512_PROBES else ())
            c.add(f"eras_{release_tok(release)}_{name}", steps, caps, release)
    return c.cases


def files():
    return {"eras_core.json": eras_core()}

