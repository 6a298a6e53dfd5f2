"""Case files for the samplers (golden/cases/samplers_*.json).

randperm, randint/randint_like/random_, bernoulli/dropout, exponential_/geometric_/
log_normal_/cauchy_, multinomial and the tensor overloads of normal: every dtype each op
accepts, both kernel variants (the samplers are capability-independent except log_normal_ and
cauchy_, which fuse under avx2), sizes around each threshold, every argument PyTorch rejects
(samplers_errors.json, names start with rejected_), and the releases whose behaviour differs
(samplers_eras.json; version-eras.md). Tensor arguments are literals with dyadic values (exact
in every dtype) or earlier steps' outputs.
"""

from make_cases import AVX512, BOTH, FIXTURE_RELEASES, CaseList, era_releases, seed, step

INTS = ("int64", "int32", "int16", "int8", "uint8")
# PyTorch 2.3+; random_(from, to)/randint/randint_like are the only samplers that accept them.
UINTS = ("uint16", "uint32", "uint64")
FLOATS = ("float32", "float64", "float16", "bfloat16")
ALL = FLOATS + INTS + ("bool",)
# Releases with their own behaviour for these samplers (one per era; 2.9.1 stands for R2).
OLD_RELEASES = era_releases(latest=False)


def lit(dtype, data):
    return {"dtype": dtype, "data": data}


def ref(k, output=None):
    r = {"step": k}
    if output is not None:
        r["output"] = output
    return r


def view(op, size, dtype=None, permute=None, **params):
    fields = {"size": size}
    if dtype is not None:
        fields["dtype"] = dtype
    if permute is not None:
        fields["permute"] = permute
    fields.update(params)
    return step(op, **fields)


def tok(x):
    s = str(x).replace("-", "m").replace(".", "p")
    return s


def randperm_cases():
    c = CaseList()
    for n in (0, 1, 2, 3, 10, 1000, 70000):
        c.add(f"randperm_int64_{n}_seed1", [seed(1), step("randperm", n=n),
                                            step("rand", size=[3])])
    for d, n in (("int32", 1000), ("int16", 32768), ("int8", 128), ("uint8", 256),
                 ("float32", 1000), ("float64", 1000), ("float16", 2049), ("bfloat16", 300),
                 ("bfloat16", 256)):
        c.add(f"randperm_{d}_{n}_seed2", [seed(2), step("randperm", n=n, dtype=d)])
    c.add("randperm_int64_10_gen", [step("randperm", "g", n=10), step("randperm", "g", n=10)])
    c.add("randperm_int64_1000_seed3_avx512", [seed(3), step("randperm", n=1000)], caps=AVX512)
    return c.cases


def randint_cases():
    c = CaseList()
    ranges = (("0_10", 0, 10), ("m5_5", -5, 5), ("0_2p28m1", 0, 2 ** 28 - 1),
              ("0_2p28", 0, 2 ** 28), ("0_2p30", 0, 2 ** 30), ("m2p31_2p31m1", -2 ** 31, 2 ** 31 - 1),
              ("0_2p32", 0, 2 ** 32), ("0_2p40", 0, 2 ** 40), ("m2p63_2p63m1", -2 ** 63, 2 ** 63 - 1))
    for rt, lo, hi in ranges:
        for d in ("int64", "float64", "float32", "bfloat16", "int32", "float16"):
            if d == "int32" and (lo < -2 ** 31 or hi > 2 ** 31):
                continue
            if d == "float16" and hi > 65504:
                continue
            c.add(f"randint_{d}_{rt}_seed4", [seed(4), step("randint", low=lo, high=hi, size=[64],
                                                             dtype=d), step("rand", size=[2])])
    for d in ("int16", "int8", "uint8", "bool"):
        hi = 2 if d == "bool" else 100
        c.add(f"randint_{d}_0_{hi}_seed4", [seed(4), step("randint", high=hi, size=[5, 7], dtype=d)])
    c.add("randint_int16_m32768_32767_seed5",
          [seed(5), step("randint", low=-32768, high=32767, size=[50], dtype="int16")])
    c.add("randint_uint8_0_256_seed5", [seed(5), step("randint", low=0, high=256, size=[50],
                                                      dtype="uint8")])
    c.add("randint_int64_scalar_seed6", [seed(6), step("randint", high=7, size=[])])
    c.add("randint_int64_2x0_seed6", [seed(6), step("randint", high=7, size=[2, 0]),
                                      step("rand", size=[1])])
    # float bound nudging: the top of float16 / float32 / bfloat16
    c.add("randint_float16_0_65504_seed7", [seed(7), step("randint", high=65504, size=[200],
                                                          dtype="float16")])
    c.add("randint_float16_m65504_65504_seed7",
          [seed(7), step("randint", low=-65504, high=65504, size=[200], dtype="float16")])
    c.add("randint_bfloat16_m2p30_2p30_seed7",
          [seed(7), step("randint", low=-2 ** 30 - 100, high=2 ** 30 + 100, size=[200],
                         dtype="bfloat16")])
    c.add("randint_float32_2p25_2p25p100_seed7",
          [seed(7), step("randint", low=2 ** 25 + 1, high=2 ** 25 + 100, size=[50], dtype="float32")])
    for d in ("int32", "float32", "int64"):
        c.add(f"randint_like_{d}_3x4_seed8", [seed(8), view("randint_like", [3, 4], d, high=10)])
    c.add("randint_like_float64_4x5_perm10_seed8",
          [seed(8), view("randint_like", [4, 5], "float64", [1, 0], low=-3, high=2 ** 30)])
    # random_(): every dtype
    for d in ALL:
        c.add(f"random_{d}_100_seed9", [seed(9), view("random_", [100], d)])
    c.add("random_int64_6x5_perm10_seed9", [seed(9), view("random_", [6, 5], "int64", [1, 0])])
    # random_(to), random_(from, to), random_(from, None), full range
    c.add("random_to1000_int32_seed10", [seed(10), view("random_", [30], "int32", to=1000)])
    c.add("random_to2p30_int64_seed10", [seed(10), view("random_", [30], "int64", to=2 ** 30)])
    c.add("random_from100_to200_int16_seed10",
          [seed(10), view("random_", [30], "int16", from_=100, to=200)])
    for d in ALL:
        frm = 0 if d == "bool" else 5
        c.add(f"random_from{frm}_tonone_{d}_seed11",
              [seed(11), view("random_", [40], d, from_=frm, to=None)])
    for d in ("int64", "float64", "float32", "bfloat16"):
        c.add(f"random_full64_{d}_seed12",
              [seed(12), view("random_", [40], d, from_=-2 ** 63, to=None)])
    c.add("random_full64_float16_empty_seed12",
          [seed(12), view("random_", [0], "float16", from_=-2 ** 63, to=None), step("rand", size=[1])])
    c.add("randint_gen_seed", [step("randint", "g", high=1000, size=[10]),
                               step("manual_seed", "g", seed=3),
                               step("randint", "g", high=2 ** 30, size=[10])])
    return c.cases


def bernoulli_cases():
    c = CaseList()
    for d in ALL:
        c.add(f"bernoulli_p0p3_{d}_100_seed1", [seed(1), view("bernoulli_", [100], d, p=0.3),
                                                step("rand", size=[2])])
    for p in (0.0, 1.0, 0.5):
        c.add(f"bernoulli_p{tok(p)}_float32_37_seed2",
              [seed(2), view("bernoulli_", [37], "float32", p=p), step("rand", size=[2])])
    c.add("bernoulli_p0p3_float32_5x6_perm10_seed3",
          [seed(3), view("bernoulli_", [5, 6], "float32", [1, 0], p=0.3)])
    c.add("bernoulli_p0p3_float32_empty_seed3",
          [seed(3), view("bernoulli_", [0, 4], "float32", p=0.3), step("rand", size=[2])])
    probs = [[0.0, 0.125, 0.25, 0.5], [0.75, 0.875, 1.0, 0.5]]
    for pd in FLOATS:
        for sd in ("float32", "int64", "bool", "float16"):
            c.add(f"bernoulli_tensorp_{pd}_{sd}_seed4",
                  [seed(4), view("bernoulli_", [2, 4], sd, p=lit(pd, probs)),
                   step("rand", size=[2])])
    c.add("bernoulli_tensorp_bcast_row_seed5",
          [seed(5), view("bernoulli_", [3, 4], "float32", p=lit("float32", [0.25, 0.5, 0.75, 1.0]))])
    c.add("bernoulli_tensorp_bcast_col_f64_seed5",
          [seed(5), view("bernoulli_", [3, 4], "float64", p=lit("float64", [[0.25], [0.5], [0.75]]))])
    c.add("bernoulli_probs_rand_seed6", [seed(6), step("rand", size=[50]),
                                         step("bernoulli", input=ref(1))])
    c.add("bernoulli_probs_rand_f64_seed6", [seed(6), step("rand", size=[7, 3], dtype="float64"),
                                             step("bernoulli", input=ref(1))])
    c.add("bernoulli_probs_f16_seed6", [seed(6), step("bernoulli", input=lit("float16", probs))])
    c.add("bernoulli_x_p0p7_seed6", [seed(6), step("bernoulli", input=lit("int32", [[1, 2], [3, 4]]),
                                                   p=0.7)])
    # dropout
    x = [[0.5, -1.0, 2.0, -0.25, 3.0, 1.5], [8.0, -0.125, 0.0, -3.0, 0.75, 6.0]]
    for d in FLOATS:
        for p in (0.5, 0.15, 0.9):
            c.add(f"dropout_{d}_p{tok(p)}_seed7",
                  [seed(7), step("nn.functional.dropout", input=lit(d, x), p=p),
                   step("rand", size=[2])])
        c.add(f"native_dropout_{d}_p0p15_seed7",
              [seed(7), step("native_dropout", input=lit(d, x), p=0.15), step("rand", size=[2])])
    c.add("dropout_randn_1000_p0p2_seed8", [seed(8), step("randn", size=[1000]),
                                            step("nn.functional.dropout", input=ref(1), p=0.2)])
    c.add("dropout_inplace_seed8", [seed(8), step("randn", size=[40]),
                                    step("nn.functional.dropout", input=ref(1), p=0.3, inplace=True)])
    c.add("dropout_module_seed8", [seed(8), step("randn", size=[10, 10]),
                                   step("nn.Dropout", input=ref(1), p=0.4)])
    c.add("dropout_module_inplace_seed8", [seed(8), step("randn", size=[33]),
                                           step("nn.Dropout", input=ref(1), p=0.4, inplace=True)])
    for p in (0.0, 1.0):
        c.add(f"dropout_p{tok(p)}_seed9", [seed(9), step("nn.functional.dropout", input=lit("float32", x), p=p),
                                          step("rand", size=[2])])
        c.add(f"native_dropout_p{tok(p)}_seed9",
              [seed(9), step("native_dropout", input=lit("float32", x), p=p), step("rand", size=[2])])
    c.add("dropout_eval_seed9", [seed(9), step("nn.functional.dropout", input=lit("float32", x),
                                               p=0.5, training=False), step("rand", size=[2])])
    c.add("native_dropout_eval_seed9", [seed(9), step("native_dropout", input=lit("float32", x),
                                                      p=0.5, train=False), step("rand", size=[2])])
    c.add("native_dropout_mask_reuse_seed10",
          [seed(10), step("randn", size=[20]), step("native_dropout", input=ref(1), p=0.5),
           step("bernoulli", input=ref(2, "output"), p=0.5)])
    return c.cases


def continuous_cases():
    c = CaseList()
    for d in FLOATS:
        for n in (7, 100):
            c.add(f"exponential_{d}_{n}_seed1", [seed(1), view("exponential_", [n], d),
                                                 step("rand", size=[2])])
        c.add(f"exponential_{d}_lambd2p5_seed1", [seed(1), view("exponential_", [50], d, lambd=2.5)])
        c.add(f"log_normal_{d}_seed2", [seed(2), view("log_normal_", [33], d),
                                        view("log_normal_", [5], d, mean=-0.5, std=0.25)])
        c.add(f"cauchy_{d}_seed3", [seed(3), view("cauchy_", [40], d),
                                    view("cauchy_", [40], d, median=1.5, sigma=0.3)])
    c.add("exponential_float32_inf_seed1", [seed(1), view("exponential_", [10], "float32", lambd="inf")])
    c.add("exponential_float32_6x5_perm10_seed1",
          [seed(1), view("exponential_", [6, 5], "float32", [1, 0])])
    c.add("exponential_int32_empty_seed1", [seed(1), view("exponential_", [0], "int32"),
                                            step("rand", size=[1])])
    for d in ALL:
        if d == "bool":
            continue
        c.add(f"geometric_{d}_p0p3_seed4", [seed(4), view("geometric_", [60], d, p=0.3)])
    for d in ("int8", "int32", "int64", "float16"):
        c.add(f"geometric_{d}_p1em6_seed4", [seed(4), view("geometric_", [30], d, p=1e-6)])
    c.add("geometric_int32_p1em12_seed4", [seed(4), view("geometric_", [10], "int32", p=1e-12)])
    c.add("log_normal_cache_seed5", [seed(5), step("randn", size=[1], dtype="float64"),
                                     view("log_normal_", [3], "float64"),
                                     step("randn", size=[1], dtype="float64")])
    c.add("log_normal_4x5_perm10_seed5", [seed(5), view("log_normal_", [4, 5], "float32", [1, 0])])
    c.add("cauchy_float64_sigma_inf_seed6", [seed(6), view("cauchy_", [6], "float64", sigma="inf")])
    c.add("cauchy_gen", [view("cauchy_", [6], "float64") | {"generator": "g"}])
    return c.cases


def multinomial_cases():
    c = CaseList()
    p1 = [0.125, 0.25, 0.0, 0.5, 0.0625, 0.0625]
    p2 = [[1.0, 2.0, 3.0, 4.0, 0.5], [0.0, 0.0, 1.0, 0.25, 8.0], [3.0, 3.0, 3.0, 3.0, 3.0]]
    for d in FLOATS:
        c.add(f"multinomial_1d_{d}_repl_seed1",
              [seed(1), step("multinomial", input=lit(d, p1), num_samples=20, replacement=True)])
        c.add(f"multinomial_2d_{d}_repl_seed1",
              [seed(1), step("multinomial", input=lit(d, p2), num_samples=9, replacement=True)])
        c.add(f"multinomial_1d_{d}_norepl4_seed2",
              [seed(2), step("multinomial", input=lit(d, p1), num_samples=4)])
        c.add(f"multinomial_2d_{d}_norepl1_seed2",
              [seed(2), step("multinomial", input=lit(d, p2), num_samples=1)])
        c.add(f"multinomial_1d_{d}_repl1_seed2",
              [seed(2), step("multinomial", input=lit(d, p1), num_samples=1, replacement=True)])
    c.add("multinomial_rand5_3_repl_seed42", [seed(42), step("rand", size=[5]),
                                             step("multinomial", input=ref(1), num_samples=3,
                                                  replacement=True)])
    c.add("multinomial_rand1000_norepl20_seed3", [seed(3), step("rand", size=[4, 1000]),
                                                  step("multinomial", input=ref(1), num_samples=20)])
    c.add("multinomial_rand1000_repl5000_seed3", [seed(3), step("rand", size=[1000], dtype="float64"),
                                                  step("multinomial", input=ref(1), num_samples=5000,
                                                       replacement=True)])
    c.add("multinomial_empty_rows_seed4",
          [seed(4), step("rand", size=[0, 3]),
           step("multinomial", input=ref(1), num_samples=2, replacement=True),
           step("multinomial", input=ref(1), num_samples=1)])
    return c.cases


def normal_cases():
    c = CaseList()
    for d in FLOATS:
        for n in (7, 40):
            mean = [0.25 * i for i in range(n)]
            std = [0.5 + 0.125 * (i % 5) for i in range(n)]
            c.add(f"normal_TT_{d}_{n}_seed1",
                  [seed(1), step("normal.Tensor_Tensor", mean=lit(d, mean), std=lit(d, std))])
            c.add(f"normal_Tf_{d}_{n}_seed1",
                  [seed(1), step("normal.Tensor_float", mean=lit(d, mean), std=1.7)])
            c.add(f"normal_fT_{d}_{n}_seed1",
                  [seed(1), step("normal.float_Tensor", mean=0.3, std=lit(d, std))])
    c.add("normal_TT_bcast_seed2", [seed(2), step("normal.Tensor_Tensor",
                                                  mean=lit("float32", [[0.0], [10.0]]),
                                                  std=lit("float32", [1.0, 2.0, 0.5]))])
    c.add("normal_TT_mixed_f32_f64_seed2", [seed(2), step("normal.Tensor_Tensor",
                                                          mean=lit("float32", [0.1, 0.2, 0.3]),
                                                          std=lit("float64", [1.0, 0.3, 3.0]))])
    c.add("normal_TT_big_seed3", [seed(3), step("rand", size=[16, 16]), step("rand", size=[16]),
                                  step("normal.Tensor_Tensor", mean=ref(1), std=ref(2))])
    c.add("normal_Tf_std0_seed3", [seed(3), step("normal.Tensor_float",
                                                 mean=lit("float64", [1.0, 2.0]), std=0.0)])
    return c.cases


def error_cases():
    c = CaseList()

    def rejected(name, bad):
        c.add(f"rejected_{name}", [seed(1), step("rand", size=[2]), bad, step("rand", size=[2])],
              caps=("avx2",))

    rejected("randperm_negative", step("randperm", n=-1))
    rejected("randperm_int8_129", step("randperm", n=129, dtype="int8"))
    rejected("randperm_uint8_257", step("randperm", n=257, dtype="uint8"))
    rejected("randperm_int16_32769", step("randperm", n=32769, dtype="int16"))
    rejected("randperm_float16_2050", step("randperm", n=2050, dtype="float16"))
    rejected("randperm_float32_2p24p2", step("randperm", n=2 ** 24 + 2, dtype="float32"))
    rejected("randperm_bool", step("randperm", n=3, dtype="bool"))
    rejected("randint_low_eq_high", step("randint", low=5, high=5, size=[3]))
    rejected("randint_low_gt_high_empty", step("randint", low=5, high=2, size=[0]))
    rejected("randint_negative_size", step("randint", high=5, size=[-1]))
    rejected("randint_int8_200", step("randint", high=200, size=[3], dtype="int8"))
    rejected("randint_uint8_neg", step("randint", low=-1, high=5, size=[3], dtype="uint8"))
    rejected("randint_bool_3", step("randint", high=3, size=[3], dtype="bool"))
    rejected("randint_float16_70000", step("randint", high=70000, size=[3], dtype="float16"))
    rejected("randint_float16_nudged_empty", step("randint", low=65503, high=65504, size=[3],
                                                   dtype="float16"))
    rejected("random_to_negative", view("random_", [3], "float32", to=-5))
    rejected("random_from_none_float16_5000", view("random_", [3], "float16", from_=5000, to=None))
    rejected("random_full64_float16", view("random_", [3], "float16", from_=-2 ** 63, to=None))
    rejected("random_full64_bool", view("random_", [3], "bool", from_=-2 ** 63, to=None))
    rejected("random_full64_int32", view("random_", [3], "int32", from_=-2 ** 63, to=None))
    rejected("randint_like_int8_300", view("randint_like", [3], "int8", high=300))
    rejected("bernoulli_p1p5", view("bernoulli_", [3], "float32", p=1.5))
    rejected("bernoulli_pnan", view("bernoulli_", [3], "float32", p="nan"))
    rejected("bernoulli_pneg_empty", view("bernoulli_", [0], "float32", p=-0.5))
    rejected("bernoulli_tensorp_1p5", view("bernoulli_", [3], "float32", p=lit("float32", [1.5, 0.2, 0.3])))
    rejected("bernoulli_tensorp_nan", view("bernoulli_", [3], "float32", p=lit("float32", ["nan", 0.2, 0.3])))
    rejected("bernoulli_tensorp_int", view("bernoulli_", [3], "float32", p=lit("int64", [1, 0, 1])))
    rejected("bernoulli_tensorp_bad_bcast", view("bernoulli_", [3], "float32",
                                                 p=lit("float32", [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]])))
    rejected("bernoulli_probs_int", step("bernoulli", input=lit("int64", [1, 0])))
    rejected("bernoulli_x_p2", step("bernoulli", input=lit("float32", [1.0, 0.0]), p=2.0))
    rejected("dropout_p1p5", step("nn.functional.dropout", input=lit("float32", [1.0]), p=1.5))
    rejected("dropout_pm0p1", step("nn.functional.dropout", input=lit("float32", [1.0]), p=-0.1))
    rejected("dropout_int64", step("nn.functional.dropout", input=lit("int64", [1, 2]), p=0.5))
    rejected("dropout_module_p1p5", step("nn.Dropout", input=lit("float32", [1.0]), p=1.5))
    rejected("native_dropout_p1p5", step("native_dropout", input=lit("float32", [1.0]), p=1.5))
    rejected("native_dropout_int64", step("native_dropout", input=lit("int64", [1, 2]), p=0.5))
    rejected("exponential_lambd0", view("exponential_", [3], "float32", lambd=0.0))
    rejected("exponential_lambd_neg", view("exponential_", [3], "float32", lambd=-1.0))
    rejected("exponential_lambd_nan", view("exponential_", [3], "float32", lambd="nan"))
    rejected("exponential_int32", view("exponential_", [3], "int32"))
    rejected("geometric_p1", view("geometric_", [3], "float32", p=1.0))
    rejected("geometric_p0", view("geometric_", [3], "float32", p=0.0))
    rejected("geometric_bool", view("geometric_", [3], "bool", p=0.5))
    rejected("log_normal_std0", view("log_normal_", [3], "float32", std=0.0))
    rejected("log_normal_int64", view("log_normal_", [3], "int64"))
    rejected("cauchy_sigma0", view("cauchy_", [3], "float32", sigma=0.0))
    rejected("cauchy_int64", view("cauchy_", [3], "int64"))
    rejected("cauchy_int64_empty", view("cauchy_", [0], "int64"))
    rejected("multinomial_0d", step("multinomial", input=lit("float32", 1.0), num_samples=1))
    rejected("multinomial_3d", step("multinomial", input=lit("float32", [[[1.0]]]), num_samples=1))
    rejected("multinomial_n0", step("multinomial", input=lit("float32", [1.0, 2.0]), num_samples=0))
    rejected("multinomial_norepl_too_many", step("multinomial", input=lit("float32", [1.0, 2.0]),
                                                 num_samples=3))
    rejected("multinomial_int", step("multinomial", input=lit("int64", [1, 2]), num_samples=1))
    rejected("multinomial_neg", step("multinomial", input=lit("float32", [1.0, -1.0]), num_samples=1))
    rejected("multinomial_neg_repl", step("multinomial", input=lit("float32", [1.0, -1.0]),
                                          num_samples=2, replacement=True))
    rejected("multinomial_nan", step("multinomial", input=lit("float32", [1.0, "nan"]), num_samples=1))
    rejected("multinomial_inf_repl", step("multinomial", input=lit("float32", [1.0, "inf"]),
                                          num_samples=2, replacement=True))
    rejected("multinomial_zero", step("multinomial", input=lit("float32", [0.0, 0.0]), num_samples=1))
    rejected("multinomial_zero_row2_repl", step("multinomial", input=lit("float64", [[1.0, 0.0], [0.0, 0.0]]),
                                                num_samples=2, replacement=True))
    rejected("multinomial_empty_categories", step("multinomial", input=lit("float32", [[], []]),
                                                  num_samples=1, replacement=True))
    rejected("normal_TT_bad_bcast", step("normal.Tensor_Tensor", mean=lit("float32", [0.0, 0.0, 0.0]),
                                         std=lit("float32", [1.0, 1.0])))
    rejected("normal_TT_std_neg", step("normal.Tensor_Tensor", mean=lit("float32", [0.0]),
                                       std=lit("float32", [-1.0])))
    rejected("normal_TT_std_nan", step("normal.Tensor_Tensor", mean=lit("float32", [0.0]),
                                       std=lit("float32", ["nan"])))
    rejected("normal_Tf_std_neg", step("normal.Tensor_float", mean=lit("float32", [0.0]), std=-1.0))
    rejected("normal_fT_std_neg", step("normal.float_Tensor", mean=0.0, std=lit("float64", [-1.0])))
    rejected("normal_TT_int", step("normal.Tensor_Tensor", mean=lit("int64", [0, 1]),
                                   std=lit("float32", [1.0, 1.0])))
    return c.cases


def era_cases():
    """The samplers whose bits change between releases, in every era (version-eras.md)."""
    c = CaseList()
    x = [[0.5, -1.0, 2.0, -0.25, 3.0, 1.5], [8.0, -0.125, 0.0, -3.0, 0.75, 6.0]]
    for rel in OLD_RELEASES + ("2.15.0",):
        r = "v" + rel.replace(".", "_")

        def add(name, steps, caps=BOTH):
            c.add(f"eras_{r}_{name}", steps, caps=caps, release=rel)

        for d in ("int64", "int32", "float32", "float64", "bfloat16"):
            for rt, hi in (("2p28m1", 2 ** 28 - 1), ("2p28", 2 ** 28), ("2p30", 2 ** 30),
                           ("2p32", 2 ** 32), ("2p33", 2 ** 33)):
                if d == "int32" and hi > 2 ** 31:
                    continue
                add(f"randint_{d}_{rt}_seed1", [seed(1), step("randint", high=hi, size=[64], dtype=d),
                                               step("rand", size=[2])], caps=("avx2",))
        add("randint_int32_m2p31_2p31m1_seed1",
            [seed(1), step("randint", low=-2 ** 31, high=2 ** 31 - 1, size=[64], dtype="int32")],
            caps=("avx2",))
        add("random_0_2p30_int64_seed1", [seed(1), view("random_", [64], "int64", from_=0, to=2 ** 30)],
            caps=("avx2",))
        add("randint_like_int32_seed1", [seed(1), view("randint_like", [8, 8], "int32", high=2 ** 30)],
            caps=("avx2",))
        for d in ("float32", "float64", "int64", "bool", "bfloat16") + (("float16",) if rel != "2.0.1" else ()):
            add(f"bernoulli_p0p3_{d}_seed2", [seed(2), view("bernoulli_", [1000], d, p=0.3),
                                              step("rand", size=[2])], caps=("avx2",))
        add("bernoulli_p0p3_float32_5x6_perm10_seed2",
            [seed(2), view("bernoulli_", [5, 6], "float32", [1, 0], p=0.3)], caps=("avx2",))
        add("bernoulli_p0_float32_seed2", [seed(2), view("bernoulli_", [7], "float32", p=0.0),
                                           step("rand", size=[2])], caps=("avx2",))
        add("bernoulli_tensorp_seed2", [seed(2), step("rand", size=[40]),
                                        step("bernoulli", input=ref(1))], caps=("avx2",))
        for d in ("float32", "float64", "bfloat16") + (("float16",) if rel != "2.0.1" else ()):
            add(f"dropout_{d}_p0p15_seed3", [seed(3), step("nn.functional.dropout", input=lit(d, x),
                                                           p=0.15), step("rand", size=[2])])
            add(f"native_dropout_{d}_p0p5_seed3", [seed(3), step("native_dropout", input=lit(d, x),
                                                                 p=0.5)], caps=("avx2",))
        add("dropout_randn_1000_seed3", [seed(3), step("randn", size=[1000]),
                                         step("nn.functional.dropout", input=ref(1), p=0.5)])
        add("randperm_1000_seed4", [seed(4), step("randperm", n=1000)], caps=("avx2",))
        add("log_normal_float32_seed5", [seed(5), view("log_normal_", [20], "float32")])
        add("cauchy_float64_seed5", [seed(5), view("cauchy_", [20], "float64")])
        add("geometric_int64_seed5", [seed(5), view("geometric_", [20], "int64", p=0.3)],
            caps=("avx2",))
        add("multinomial_repl_seed6", [seed(6), step("rand", size=[3, 50]),
                                       step("multinomial", input=ref(1), num_samples=30,
                                            replacement=True)], caps=("avx2",))
        add("exponential_inf_seed7", [seed(7), view("exponential_", [10], "float32", lambd="inf"),
                                      step("rand", size=[2])], caps=("avx2",))
    return c.cases


def exponential_era_cases():
    """exponential_ before 2.7 (MKL): compared within a bound (golden/README.md)."""
    c = CaseList()
    # Measured over 10^6 values against 2.5.1 (README): float32 84 % bit-exact, 99th percentile
    # 1 ulp, at most 514 ulps near zero and |diff| <= 1.9e-6; float64 |diff| <= 8.2e-12.
    tol_f32 = {"max_ulps": 8, "max_abs": 2e-6}
    tol_f64 = {"max_abs": 1e-11}
    for rel in era_releases(("L0", "L1", "R1")):  # the eras of MKL's exponential_
        r = "v" + rel.replace(".", "_")
        for d, n, tol in (("float32", 1000, tol_f32), ("float64", 1000, tol_f64),
                          ("float32", 7, tol_f32)):
            st = view("exponential_", [n], d)
            st["tolerance"] = tol
            c.add(f"eras_{r}_exponential_{d}_{n}_seed1", [seed(1), st, step("rand", size=[2])],
                  caps=("avx2",), release=rel)
        st = view("exponential_", [100], "float32", lambd=2.5)
        st["tolerance"] = tol_f32
        c.add(f"eras_{r}_exponential_float32_lambd2p5_seed2", [seed(2), st], caps=("avx2",),
              release=rel)
    return c.cases


def uint_cases():
    """uint16/uint32/uint64 (2.15): what randint/random_ draw, and what every other sampler
    rejects (names start with rejected_) or accepts only when empty."""
    c = CaseList()
    ranges = {
        "uint16": (("0_10", 0, 10), ("100_1000", 100, 1000), ("0_65536", 0, 2 ** 16),
                   ("65000_65536", 65000, 2 ** 16)),
        "uint32": (("0_10", 0, 10), ("0_2p28m1", 0, 2 ** 28 - 1), ("0_2p28", 0, 2 ** 28),
                   ("0_2p30", 0, 2 ** 30), ("0_2p32", 0, 2 ** 32), ("7_2p32", 7, 2 ** 32)),
        "uint64": (("0_10", 0, 10), ("0_2p28", 0, 2 ** 28), ("0_2p32", 0, 2 ** 32),
                   ("0_2p32p1", 0, 2 ** 32 + 1), ("0_2p40", 0, 2 ** 40),
                   ("2p40_2p63m1", 2 ** 40, 2 ** 63 - 1), ("0_2p63m1", 0, 2 ** 63 - 1)),
    }
    for d in UINTS:
        for rt, lo, hi in ranges[d]:
            c.add(f"randint_{d}_{rt}_seed4", [seed(4), step("randint", low=lo, high=hi, size=[64],
                                                             dtype=d), step("rand", size=[2])],
                  caps=("avx2",))
        c.add(f"randint_{d}_empty_seed4", [seed(4), step("randint", high=10, size=[0], dtype=d),
                                           step("rand", size=[2])], caps=("avx2",))
        c.add(f"randint_like_{d}_3x4_seed8", [seed(8), view("randint_like", [3, 4], d, high=1000)],
              caps=("avx2",))
        c.add(f"randint_like_{d}_4x5_perm10_seed8",
              [seed(8), view("randint_like", [4, 5], d, [1, 0], low=3, high=60000)], caps=("avx2",))
        c.add(f"random_to1000_{d}_seed10", [seed(10), view("random_", [30], d, to=1000),
                                            step("rand", size=[2])], caps=("avx2",))
        c.add(f"random_from100_to200_{d}_seed10",
              [seed(10), view("random_", [30], d, from_=100, to=200)], caps=("avx2",))
        c.add(f"random_gen_{d}", [view("random_", [10], d, from_=0, to=2 ** 16) | {"generator": "g"}],
              caps=("avx2",))
        # Accepted because the tensor is empty (PyTorch checks for emptiness before dispatching).
        c.add(f"empty_{d}_seed11",
              [seed(11), view("random_", [0], d), view("random_", [0], d, from_=-2 ** 63, to=None),
               view("bernoulli_", [0], d, p=0.5), view("bernoulli_", [0, 2], d, p=lit("float32", [0.5, 0.5])),
               view("normal_", [0], d), view("exponential_", [0], d), view("log_normal_", [0], d),
               view("geometric_", [0], d, p=0.5), step("rand", size=[2])], caps=("avx2",))
        c.add(f"dropout_{d}_p0_p1_seed11",
              [seed(11), step("nn.functional.dropout", input=lit(d, [1, 2, 3]), p=0.0),
               step("nn.functional.dropout", input=lit(d, [1, 2, 3]), p=1.0),
               step("native_dropout", input=lit(d, [1, 2, 3]), p=0.5, train=False),
               step("rand", size=[2])], caps=("avx2",))
    for d in ("uint16", "uint32"):
        c.add(f"random_from5_tonone_{d}_seed11",
              [seed(11), view("random_", [40], d, from_=5, to=None), step("rand", size=[2])],
              caps=("avx2",))

    def rejected(name, bad):
        c.add(f"rejected_{name}", [seed(1), step("rand", size=[2]), bad, step("rand", size=[2])],
              caps=("avx2",))

    for d in UINTS:
        rejected(f"random_{d}", view("random_", [3], d))
        rejected(f"random_full64_{d}", view("random_", [3], d, from_=-2 ** 63, to=None))
        rejected(f"randint_{d}_neg", step("randint", low=-1, high=5, size=[3], dtype=d))
        rejected(f"randint_{d}_neg_empty", step("randint", low=-5, high=5, size=[0], dtype=d))
        rejected(f"randint_{d}_5_5", step("randint", low=5, high=5, size=[3], dtype=d))
        rejected(f"rand_{d}", step("rand", size=[3], dtype=d))
        rejected(f"randn_{d}", step("randn", size=[3], dtype=d))
        rejected(f"uniform_{d}", view("uniform_", [3], d))
        rejected(f"normal_{d}", view("normal_", [3], d))
        rejected(f"bernoulli_{d}", view("bernoulli_", [3], d, p=0.5))
        rejected(f"bernoulli_tensorp_{d}", view("bernoulli_", [3], d, p=lit("float32", [0.5, 0.5, 0.5])))
        rejected(f"bernoulli_probs_{d}", step("bernoulli", input=lit(d, [0, 1, 1])))
        rejected(f"exponential_{d}", view("exponential_", [3], d))
        rejected(f"geometric_{d}", view("geometric_", [3], d, p=0.3))
        rejected(f"log_normal_{d}", view("log_normal_", [3], d))
        rejected(f"cauchy_{d}_empty", view("cauchy_", [0], d))
        rejected(f"randperm_{d}_0", step("randperm", n=0, dtype=d))
        rejected(f"randperm_{d}_10", step("randperm", n=10, dtype=d))
        rejected(f"multinomial_{d}", step("multinomial", input=lit(d, [1, 2, 3]), num_samples=1))
        rejected(f"dropout_{d}", step("nn.functional.dropout", input=lit(d, [1, 2, 3]), p=0.5))
        rejected(f"native_dropout_{d}", step("native_dropout", input=lit(d, [1, 2, 3]), p=0.5))
        rejected(f"normal_fT_{d}", step("normal.float_Tensor", mean=0.0, std=lit(d, [1, 2])))
    rejected("randint_uint16_65537", step("randint", high=2 ** 16 + 1, size=[3], dtype="uint16"))
    rejected("randint_uint32_2p32p1", step("randint", high=2 ** 32 + 1, size=[3], dtype="uint32"))
    rejected("randint_like_uint16_2p30", view("randint_like", [3], "uint16", high=2 ** 30))
    rejected("random_from0_tonone_uint64", view("random_", [3], "uint64", from_=0, to=None))
    rejected("random_from0_tonone_uint64_empty", view("random_", [0], "uint64", from_=0, to=None))
    rejected("randperm_uint16_70000", step("randperm", n=70000, dtype="uint16"))
    return c.cases


def uint_era_cases():
    """uint16/uint32/uint64 in every era: absent before 2.3 (the step raises), then randint's
    32-bit rule before 2.7 (uint64 never takes 64-bit draws there, uint32 range 2^32 neither)."""
    c = CaseList()
    for rel in FIXTURE_RELEASES:
        r = "v" + rel.replace(".", "_")

        def add(name, steps):
            c.add(f"eras_{r}_{name}", steps + [step("rand", size=[2])], caps=("avx2",), release=rel)

        for d, hi in (("uint16", 1000), ("uint16", 2 ** 16), ("uint32", 2 ** 28), ("uint32", 2 ** 30),
                      ("uint32", 2 ** 32), ("uint64", 2 ** 30), ("uint64", 2 ** 32),
                      ("uint64", 2 ** 40)):
            add(f"randint_{d}_0_{hi}_seed1", [seed(1), step("randint", high=hi, size=[64], dtype=d)])
        add("randint_uint64_2p40_2p63m1_seed1",
            [seed(1), step("randint", low=2 ** 40, high=2 ** 63 - 1, size=[64], dtype="uint64")])
        add("randint_like_uint32_seed1", [seed(1), view("randint_like", [8, 8], "uint32", high=2 ** 30)])
        for d in ("uint16", "uint32"):
            add(f"random_from5_tonone_{d}_seed1", [seed(1), view("random_", [64], d, from_=5, to=None)])
        for d in UINTS:
            add(f"random_0_1000_{d}_seed1", [seed(1), view("random_", [64], d, from_=0, to=1000)])
            add(f"random_{d}_seed1", [seed(1), view("random_", [64], d)])
        add("random_from0_tonone_uint64_seed1",
            [seed(1), view("random_", [64], "uint64", from_=0, to=None)])
    return c.cases


def large_cases():
    """randperm(214748364): the inside-out shuffle (2.6+) against Fisher-Yates (before)."""
    c = CaseList()
    c.add("randperm_int32_214748364_seed1",
          [seed(1), step("randperm", n=214748364, dtype="int32"), step("rand", size=[2])],
          caps=("avx2",))
    c.add("randperm_int32_214748363_seed1",
          [seed(1), step("randperm", n=214748363, dtype="int32"), step("rand", size=[2])],
          caps=("avx2",))
    return c.cases


def files():
    return {
        "samplers_randperm.json": randperm_cases(),
        "samplers_randint.json": randint_cases(),
        "samplers_bernoulli.json": bernoulli_cases(),
        "samplers_continuous.json": continuous_cases(),
        "samplers_multinomial.json": multinomial_cases(),
        "samplers_normal.json": normal_cases(),
        "samplers_errors.json": error_cases(),
        "samplers_eras.json": era_cases(),
        "samplers_eras_exponential.json": exponential_era_cases(),
        "samplers_uint.json": uint_cases(),
        "samplers_eras_uint.json": uint_era_cases(),
    }


def main():
    """Writes golden/cases_large/samplers_randperm_large.json, kept out of golden/cases (and so
    out of the default golden run) because it needs 1.7 GB and 20 s: tests/randperm_large.rs
    replays it with --ignored."""
    import gen_golden

    doc = {"format": gen_golden.CASES_FORMAT, "cases": large_cases()}
    release, _ = gen_golden.installed_torch()
    gen_golden.validate_file(doc, release, "samplers_randperm_large.json")
    out = gen_golden.ROOT / "golden" / "cases_large" / "samplers_randperm_large.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(gen_golden.dump(doc))
    print(f"cases_samplers: wrote {out.relative_to(gen_golden.ROOT)}")


if __name__ == "__main__":
    main()
