#!/usr/bin/env python3
"""Side-by-side speed of PyTorch and torch-rng on one thread.

Times each PyTorch call in a child process per kernel variant (ATEN_CPU_CAPABILITY
set before `import torch`, torch.set_num_threads(1)), as the median of several
timeit runs, and reads torch-rng's criterion results from
target/criterion/<group>/<function>/<param>/new/estimates.json (function = variant,
param = element count). Prints one row per op, size and variant with the ratio
torch-rng / torch (below 1 means torch-rng is faster).

To add an op, add a row to BENCHES: the criterion group name and one or more
PyTorch forms (timeit setup and statement, with `torch` and `n` in scope); the
fastest form is reported.

With --init it compares whole models instead: `torch-rng init MODEL --seed 0 -o FILE`
(the release binary, run as a user runs it, writing a safetensors file) on 1 thread and on
every core, with `--sync` (the file synced to the disk before it is renamed into place) and as
shard 3 of 8 (`--shard 3/8`, rows of every matrix), against PyTorch building the same model
in-process on one thread (GPT-2 124M
from examples/gpt2_124m.json through the golden fixtures' reference builder; vgg11 as
torchvision.models.vgg11(), whose weights examples/vgg11.json reproduces bit for bit).
A last configuration runs as many one-thread `init`s at once as there are cores, each to its
own file, timed until the last ends: the host's own ceiling for the speed-up of the extra cores
on this work ("host ceiling", cores x the one-thread time / that time; two full cores give 2),
measured in the same turns as the rest. On a host shared with other jobs a core may compute at
a fraction of its speed for minutes; the ceiling shows it.
Each time is the median of --repeat runs, wall clock and CPU time (user + system: on a
shared machine the wall clock mostly measures the wait for a core); peak RSS is the largest ru_maxrss of the
torch-rng runs, given as a multiple of the file's size. Every number comes from one
invocation, so the ratios are comparable even on a shared machine.

Usage:
    cargo bench                                   # writes target/criterion
                                                  # (benches/kernels.rs: the in-place rows)
    ~/torch-venv/bin/python tools/bench_compare.py [--torch-only] [--variants default,avx2]
                                                   [--repeat 7] [--criterion-dir DIR]
                                                   [--groups randint_i64,bernoulli_f32]
    cargo build --release
    ~/torch-venv/bin/python tools/bench_compare.py --init [--repeat 5] [--variants ...]
                                                   [--binary target/release/torch-rng]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (2 ** 20, 2 ** 24)
INPLACE_SIZES = (2 ** 20, 2 ** 24, 2 ** 26)
VARIANTS = ("default", "avx2")
CAPABILITY_NAMES = {"default": "DEFAULT", "avx2": "AVX2", "avx512": "AVX512"}

# op label, criterion group, element counts, {form: (setup, stmt)}
BENCHES = [
    ("rand float32", "rand_f32", INPLACE_SIZES, {
        "torch.rand(n)": ("", "torch.rand(n)"),
        "empty(n).uniform_()": ("buf = torch.empty(n)", "buf.uniform_()"),
    }),
    ("randn float32", "randn_f32", INPLACE_SIZES, {
        "torch.randn(n)": ("", "torch.randn(n)"),
        "empty(n).normal_()": ("buf = torch.empty(n)", "buf.normal_()"),
    }),
    ("rand float64", "rand_f64", INPLACE_SIZES, {
        "torch.rand(n, dtype=float64)": ("", "torch.rand(n, dtype=torch.float64)"),
    }),
    ("randn float64", "randn_f64", INPLACE_SIZES, {
        "torch.randn(n, dtype=float64)": ("", "torch.randn(n, dtype=torch.float64)"),
    }),
    # In place on an existing tensor (benches/kernels.rs): the kernels alone, no allocation.
    ("uniform_ float32 in place", "uniform_f32_inplace", INPLACE_SIZES, {
        "empty(n).uniform_()": ("buf = torch.empty(n)", "buf.uniform_()"),
    }),
    ("uniform_ float64 in place", "uniform_f64_inplace", INPLACE_SIZES, {
        "empty(n, float64).uniform_()": ("buf = torch.empty(n, dtype=torch.float64)",
                                         "buf.uniform_()"),
    }),
    ("normal_ float32 in place", "normal_f32_inplace", INPLACE_SIZES, {
        "empty(n).normal_()": ("buf = torch.empty(n)", "buf.normal_()"),
    }),
    ("normal_ float64 in place", "normal_f64_inplace", INPLACE_SIZES, {
        "empty(n, float64).normal_()": ("buf = torch.empty(n, dtype=torch.float64)",
                                        "buf.normal_()"),
    }),
    # The same in place on every core (benches/kernels.rs `threaded`), against PyTorch on one.
    ("uniform_ float32 in place, every core", "uniform_f32_inplace_threads", (2 ** 24, 2 ** 26), {
        "empty(n).uniform_()": ("buf = torch.empty(n)", "buf.uniform_()"),
    }),
    ("normal_ float32 in place, every core", "normal_f32_inplace_threads", (2 ** 24, 2 ** 26), {
        "empty(n).normal_()": ("buf = torch.empty(n)", "buf.normal_()"),
    }),
    # A GPT-2 small shaped model (examples/gpt2_124m.json), built by the golden fixtures'
    # reference builder: construction, GPT-2 apply init, scaled c_proj init.
    ("GPT-2 124M model init", "model_gpt2_124m", (124439808,), {
        "build_model(gpt2_124m.json)": (
            f"import json, sys; sys.path.insert(0, {str(ROOT / 'tools')!r}); "
            "from golden_ops.modules import build_model; "
            f"desc = json.loads(open({str(ROOT / 'examples' / 'gpt2_124m.json')!r}).read())",
            "build_model(torch, desc)"),
    }),
    ("randint(0, 1000) int64", "randint_i64", SIZES, {
        "torch.randint(0, 1000, (n,))": ("", "torch.randint(0, 1000, (n,))"),
    }),
    ("randint(0, 2^30) int64", "randint_i64_2p30", SIZES, {
        "torch.randint(0, 2**30, (n,))": ("", "torch.randint(0, 2**30, (n,))"),
    }),
    ("randperm int64", "randperm_i64", SIZES, {
        "torch.randperm(n)": ("", "torch.randperm(n)"),
    }),
    ("bernoulli_(0.3) float32", "bernoulli_f32", SIZES, {
        "empty(n).bernoulli_(0.3)": ("buf = torch.empty(n)", "buf.bernoulli_(0.3)"),
    }),
]


# label, torch-rng model file, PyTorch builder (source run in the child with `torch` in scope)
INIT_MODELS = [
    ("GPT-2 124M", ROOT / "examples" / "gpt2_124m.json",
     f"import json, sys; sys.path.insert(0, {str(ROOT / 'tools')!r}); "
     "from golden_ops.modules import build_model; "
     f"desc = json.loads(open({str(ROOT / 'examples' / 'gpt2_124m.json')!r}).read()); "
     "build = lambda: build_model(torch, desc)"),
    ("vgg11", ROOT / "examples" / "vgg11.json",
     "import torchvision; build = torchvision.models.vgg11"),
]


def time_torch_init(variant, repeat):
    """Child side: {"label": seconds} for building each INIT_MODELS model in-process."""
    import torch

    got = torch.backends.cpu.get_cpu_capability()
    if got != CAPABILITY_NAMES[variant]:
        sys.exit(f"bench_compare: asked for ATEN_CPU_CAPABILITY={variant} but PyTorch uses {got}")
    torch.set_num_threads(1)
    out = {"torch": torch.__version__}
    for label, _, setup in INIT_MODELS:
        scope = {"torch": torch}
        exec(setup, scope)  # noqa: S102 (our own table above)
        runs, cpu = [], []
        for _ in range(repeat):
            torch.manual_seed(0)
            t, c = time.perf_counter(), time.process_time()
            m = scope["build"]()
            runs.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            del m
        out[label] = [statistics.median(runs), statistics.median(cpu)]
    return out


def time_rust_init(binary, model, variant, configs, repeat):
    """For each of `configs` (extra `torch-rng init` arguments, and how many copies run at once,
    each to its own file), (median wall seconds until every copy ended, median CPU seconds (user +
    system, all copies), peak RSS in bytes, file bytes) of `torch-rng init` run `repeat` times;
    the configurations take turns, so that a change in the machine's load falls on all of them
    alike. The output is removed and the disk synced before each run (outside the timing),
    so that no run waits behind the write-back of the files before it."""
    runs = [[] for _ in configs]
    cpu = [[] for _ in configs]
    rss = [0 for _ in configs]
    size = [0 for _ in configs]
    with tempfile.TemporaryDirectory() as d:
        for _ in range(repeat):
            for k, (extra, copies) in enumerate(configs):
                outs = [Path(d) / f"model{i}.safetensors" for i in range(copies)]
                for out in outs:
                    if out.exists():
                        out.unlink()
                os.sync()
                t = time.perf_counter()
                procs = [subprocess.Popen([str(binary), "init", str(model), "--seed", "0",
                                           "--variant", variant, *extra, "-o", str(out)],
                                          stderr=subprocess.DEVNULL) for out in outs]
                used = 0.0
                for p in procs:
                    _, status, usage = os.wait4(p.pid, 0)
                    used += usage.ru_utime + usage.ru_stime
                    rss[k] = max(rss[k], usage.ru_maxrss * 1024)
                    p.returncode = os.waitstatus_to_exitcode(status)
                    if p.returncode != 0:
                        sys.exit(f"bench_compare: torch-rng init {model} {extra} failed "
                                 f"(exit {p.returncode})")
                runs[k].append(time.perf_counter() - t)
                cpu[k].append(used)
                size[k] = outs[0].stat().st_size
    return [(statistics.median(runs[k]), statistics.median(cpu[k]), rss[k], size[k])
            for k in range(len(configs))]


def init_main(args, variants):
    """The --init comparison: one table of times and ratios."""
    binary = args.binary
    if not binary.exists():
        sys.exit(f"bench_compare: {binary} is missing (cargo build --release)")
    cores = os.cpu_count() or 1
    torch_times = {}
    for v in variants:
        print(f"timing PyTorch model builds with ATEN_CPU_CAPABILITY={v} ...", file=sys.stderr)
        env = dict(os.environ, ATEN_CPU_CAPABILITY=v, OMP_NUM_THREADS="1")
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child-init", v,
                               "--repeat", str(args.repeat)], env=env, stdout=subprocess.PIPE,
                              text=True)
        if proc.returncode != 0:
            sys.exit(f"bench_compare: the {v} child failed (exit {proc.returncode})")
        torch_times[v] = json.loads(proc.stdout)
    print(f"PyTorch {torch_times[variants[0]]['torch']} in-process on 1 thread vs "
          f"`torch-rng init` to a file on 1 and {cores} threads; median of {args.repeat} runs; "
          f"load average {os.getloadavg()[0]:.2f} on {cores} cores at the start\n")
    header = ["model", "variant", "torch s", "rng 1T s", f"rng {cores}T s", "1T/torch",
              f"{cores}T/torch", f"1T/{cores}T", "torch cpu s", "rng 1T cpu s", "cpu 1T/torch",
              "synced 1T/torch", "shard 3/8 / 1T", "peak RSS/file", "host ceiling"]
    rows = []
    for label, model, _ in INIT_MODELS:
        for v in variants:
            print(f"timing torch-rng init {model.name} {v} ...", file=sys.stderr)
            t, tc = torch_times[v][label]
            configs = [(["--threads", "1"], 1), (["--threads", str(cores)], 1),
                       (["--threads", "1", "--sync"], 1), (["--threads", "1", "--shard", "3/8"], 1),
                       (["--threads", "1"], cores)]
            (one, onec, rss1, size), (many, _, rss2, _), (synced, _, _, _), (shard, _, _, _), \
                (together, _, _, _) = time_rust_init(binary, model, v, configs, args.repeat)
            rows.append([label, v, f"{t:.3f}", f"{one:.3f}", f"{many:.3f}", f"{one / t:.2f}",
                         f"{many / t:.2f}", f"{one / many:.2f}", f"{tc:.3f}", f"{onec:.3f}",
                         f"{onec / tc:.2f}", f"{synced / t:.2f}", f"{shard / one:.2f}",
                         f"{max(rss1, rss2) / size:.3f}", f"{cores * one / together:.2f}"])
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in [header, ["-" * w for w in widths]] + rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip())
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


def selected(groups):
    """The BENCHES rows whose criterion group is in `groups` (every row when empty)."""
    return [b for b in BENCHES if not groups or b[1] in groups]


def time_torch(variant, repeat, groups):
    """Child side: {"group/n": {"form": form, "ms": ms}} for every selected bench row."""
    import torch

    got = torch.backends.cpu.get_cpu_capability()
    if got != CAPABILITY_NAMES[variant]:
        sys.exit(f"bench_compare: asked for ATEN_CPU_CAPABILITY={variant} but PyTorch uses {got}")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    out = {"torch": torch.__version__}
    for _, group, sizes, forms in selected(groups):
        for n in sizes:
            best = None
            for form, (setup, stmt) in forms.items():
                timer = timeit.Timer(stmt, setup, globals={"torch": torch, "n": n})
                number, _ = timer.autorange()
                runs = timer.repeat(repeat=repeat, number=number)
                ms = statistics.median(runs) / number * 1e3
                if best is None or ms < best["ms"]:
                    best = {"form": form, "ms": ms}
            out[f"{group}/{n}"] = best
    return out


def run_variant(variant, repeat, groups):
    env = dict(os.environ, ATEN_CPU_CAPABILITY=variant, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", variant,
                           "--repeat", str(repeat), "--groups", ",".join(groups)], env=env,
                          stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"bench_compare: the {variant} child failed (exit {proc.returncode})")
    return json.loads(proc.stdout)


def read_criterion(criterion_dir):
    """{(group, function, param): ms} for every */new/estimates.json under criterion_dir."""
    found = {}
    for est in sorted(Path(criterion_dir).glob("**/new/estimates.json")):
        bench_dir = est.parent
        meta = bench_dir / "benchmark.json"
        if meta.exists():
            m = json.loads(meta.read_text())
            key = (m.get("group_id"), m.get("function_id"), m.get("value_str"))
        else:
            parts = bench_dir.parent.relative_to(criterion_dir).parts
            key = tuple(parts) + (None,) * (3 - len(parts)) if len(parts) <= 3 else None
        if key is None:
            continue
        ns = json.loads(est.read_text())["median"]["point_estimate"]
        found[key] = ns / 1e6
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--torch-only", action="store_true", help="time PyTorch only")
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help="comma-separated ATEN_CPU_CAPABILITY values (default: default,avx2)")
    ap.add_argument("--repeat", type=int, default=7, help="timeit runs per measurement (>= 5)")
    ap.add_argument("--criterion-dir", type=Path,
                    default=Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "criterion")
    ap.add_argument("--groups", default="",
                    help="comma-separated criterion groups to compare (default: every row)")
    ap.add_argument("--init", action="store_true",
                    help="compare whole-model init (GPT-2 124M, vgg11) instead of kernels")
    ap.add_argument("--binary", type=Path, default=Path(os.environ.get(
        "CARGO_TARGET_DIR", ROOT / "target")) / "release" / "torch-rng",
                    help="the torch-rng binary --init runs")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-init", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.repeat < 5:
        ap.error("--repeat must be at least 5")
    groups = [g for g in args.groups.split(",") if g]
    unknown = sorted(set(groups) - {b[1] for b in BENCHES})
    if unknown:
        ap.error(f"unknown group(s) {', '.join(unknown)}")
    if args.child:
        print(json.dumps(time_torch(args.child, args.repeat, groups)))
        return
    if args.child_init:
        print(json.dumps(time_torch_init(args.child_init, args.repeat)))
        return

    variants = [v for v in args.variants.split(",") if v]
    unknown = [v for v in variants if v not in CAPABILITY_NAMES]
    if unknown:
        ap.error(f"unknown variant(s) {', '.join(unknown)}")
    if args.init:
        init_main(args, variants)
        return

    rust = {}
    if not args.torch_only:
        rust = read_criterion(args.criterion_dir) if args.criterion_dir.is_dir() else {}
        print(f"torch-rng criterion results in {args.criterion_dir}: {len(rust)}")
        for (group, function, param), ms in sorted(rust.items(), key=str):
            print(f"  {group}/{function}/{param}: {ms:.3f} ms")

    torch_times = {}
    for v in variants:
        print(f"timing PyTorch with ATEN_CPU_CAPABILITY={v} ...", file=sys.stderr)
        torch_times[v] = run_variant(v, args.repeat, groups)
    print(f"PyTorch {torch_times[variants[0]]['torch']}, 1 thread, median of {args.repeat} runs\n")

    header = ["op", "n", "variant", "torch form", "torch ms"]
    if not args.torch_only:
        header += ["torch-rng ms", "torch-rng/torch"]
    rows = []
    for op, group, sizes, _ in selected(groups):
        for n in sizes:
            for v in variants:
                t = torch_times[v][f"{group}/{n}"]
                row = [op, str(n), v, t["form"], f"{t['ms']:.3f}"]
                if not args.torch_only:
                    r = rust.get((group, v, str(n)))
                    row += ["-", "-"] if r is None else [f"{r:.3f}", f"{r / t['ms']:.2f}"]
                rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in [header, ["-" * w for w in widths]] + rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
