#!/usr/bin/env python3
"""Run golden case files in real PyTorch and write the result files.

This is the only writer of ``golden/results``. For every case file
``golden/cases/<area>.json`` (or the files named on the command line) it writes
``golden/results/<area>.json`` in the ``torch-rng-results/1`` format described in
``shared/case-format.md``; the ops and the optional fields it understands are listed
in ``golden/README.md``.

Cases run in one child process per (PyTorch release, CPU capability), with
``ATEN_CPU_CAPABILITY`` set in the child's environment before ``import torch``. A case's
``torch_version`` (absent: the pinned release) picks the release: the pinned one runs
with this interpreter, any other with ``$TORCH_RNG_VENVS/<release>/bin/python``
(default ``~/torch-venvs``), one virtual environment per release. The child checks that
it imported that release and that PyTorch reports the capability it was asked for, and
runs with one thread.

A malformed case (unknown op or field, missing or ill-typed field, a draw from the
unseeded default generator) aborts the script with a message naming the file, the
case and the step. An exception raised by PyTorch itself becomes an
``{"error": message}`` output and ends its case.

Usage:
    ~/torch-venv/bin/python tools/gen_golden.py [golden/cases/AREA.json ...]
"""

import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The release table of src/context/era.rs, generated into golden/releases.json: the eras, the
# releases whose fixtures are committed, and the newest release.
RELEASES = json.loads((ROOT / "golden" / "releases.json").read_text(encoding="utf-8"))

# The PyTorch release whose behaviour the fixtures record by default (a case without
# "torch_version"), and the release of the interpreter that runs this script.
PINNED_TORCH = RELEASES["latest"]

# Older releases (a case's "torch_version") run in $TORCH_RNG_VENVS/<release>/bin/python.
VENVS_ENV = "TORCH_RNG_VENVS"
DEFAULT_VENVS = "~/torch-venvs"

# Releases torch-rng reproduces: 2.0.x to 2.15.x (src/context/era.rs, Era::of_release).
SUPPORTED_MINORS = range(RELEASES["eras"][0]["first_minor"], RELEASES["eras"][-1]["last_minor"] + 1)

CASES_FORMAT = "torch-rng-cases/1"
RESULTS_FORMAT = "torch-rng-results/1"

CASES_DIR = ROOT / "golden" / "cases"
RESULTS_DIR = ROOT / "golden" / "results"

# Case capability -> what torch.backends.cpu.get_cpu_capability() must report.
CAPABILITIES = {"default": "DEFAULT", "avx2": "AVX2", "avx512": "AVX512"}
DEFAULT_CAPABILITY = "avx2"

CASE_FIELDS = ("name", "capability", "torch_version", "device", "steps")

INT_EXACT_LIMIT = 2 ** 53

# What PyTorch raises for a rejected argument (NotImplementedError, the dtype
# dispatch failure, is a RuntimeError). Anything else (KeyError, AttributeError, ...)
# is a bug in this script and must not become an "error" output.
TORCH_ERRORS = (RuntimeError, ValueError, TypeError, IndexError)


from golden_ops import CaseError, KINDS, REQUIRED, load_ops  # noqa: E402

OPS = load_ops()


# ---------------------------------------------------------------------------
# Validation (parent process, before anything runs).
# ---------------------------------------------------------------------------

def validate_step(step):
    """Check one step and return (op, converted args, generator name or None)."""
    if not isinstance(step, dict):
        raise CaseError("a step must be a JSON object")
    name = step.get("op")
    if name is None:
        raise CaseError("missing field 'op'")
    if isinstance(name, str) and name.startswith("torch."):
        name = name[len("torch."):]  # the contract drops the prefix; accept it as code writes it
    tensor_mean = isinstance(step.get("mean"), (dict, list))
    tensor_std = isinstance(step.get("std"), (dict, list))
    if name == "normal" and (tensor_mean or tensor_std):
        # torch.normal with a tensor mean or std is one of its tensor overloads.
        name = {(True, True): "normal.Tensor_Tensor", (True, False): "normal.Tensor_float",
                (False, True): "normal.float_Tensor"}[(tensor_mean, tensor_std)]
    if not isinstance(name, str) or name not in OPS:
        raise CaseError(f"unknown op {name!r}")
    op = OPS[name]
    unknown = sorted(set(step) - set(op.fields) - {"op", "tolerance"})
    if unknown:
        raise CaseError(f"unknown field(s) {', '.join(map(repr, unknown))} for op {name!r} "
                        f"(allowed: {', '.join(sorted(op.fields))})")
    if "tolerance" in step:
        check_tolerance(step["tolerance"], op)
    args = {}
    for field, (kind, default) in op.fields.items():
        if field not in step:
            if default is REQUIRED:
                raise CaseError(f"op {name!r} is missing required field {field!r}")
            args[field] = default
            continue
        try:
            args[field] = KINDS[kind](step[field])
        except CaseError as e:
            raise CaseError(f"field {field!r}: {e}") from None
    if args.get("permute") is not None and sorted(args["permute"]) != list(range(len(args["size"]))):
        raise CaseError(f"permute {args['permute']} is not a permutation of the "
                        f"{len(args['size'])} dimensions of size {args['size']}")
    return op, args, args.pop("generator", None)


def validate_case(case, installed_release):
    """Check one case; return its effective (release, capability)."""
    if not isinstance(case, dict):
        raise CaseError("a case must be a JSON object")
    unknown = sorted(set(case) - set(CASE_FIELDS))
    if unknown:
        raise CaseError(f"unknown case field(s) {', '.join(map(repr, unknown))}")
    if not isinstance(case.get("name"), str) or not case["name"]:
        raise CaseError("missing or empty 'name'")
    cap = case.get("capability", DEFAULT_CAPABILITY)
    if cap not in CAPABILITIES:
        raise CaseError(f"unknown capability {cap!r} (expected one of {', '.join(CAPABILITIES)})")
    version = case.get("torch_version", installed_release)
    if not supported_release(version):
        raise CaseError(f"torch_version {version!r} is not a supported release "
                        f"(2.0.0 to {PINNED_TORCH}, spelled MAJOR.MINOR.PATCH)")
    if case.get("device", "cpu") != "cpu":
        raise CaseError(f"device {case['device']!r} is not supported (only 'cpu')")
    steps = case.get("steps")
    if not isinstance(steps, list) or not steps:
        raise CaseError("'steps' must be a non-empty list")
    default_seeded = False
    for i, step in enumerate(steps):
        try:
            op, _, gen = validate_step(step)
        except CaseError as e:
            raise CaseError(f"step {i}: {e}") from None
        if gen is None:
            if op.role == "seed":
                default_seeded = True
            elif op.role == "use" and not default_seeded:
                raise CaseError(f"step {i}: op {step['op']!r} uses the default generator before "
                                "the case seeds it (manual_seed or set_rng_state); its result "
                                "would not be reproducible")
    return version, cap


def validate_file(doc, installed_release, where):
    """Check a whole case document; return the list of effective (release, capability)."""
    if not isinstance(doc, dict) or doc.get("format") != CASES_FORMAT:
        raise CaseError(f"{where}: 'format' must be {CASES_FORMAT!r}")
    if sorted(doc) != ["cases", "format"]:
        raise CaseError(f"{where}: top-level keys must be 'format' and 'cases'")
    if not isinstance(doc["cases"], list):
        raise CaseError(f"{where}: 'cases' must be a list")
    caps, seen = [], set()
    for idx, case in enumerate(doc["cases"]):
        label = case.get("name") if isinstance(case, dict) else None
        try:
            caps.append(validate_case(case, installed_release))
        except CaseError as e:
            raise CaseError(f"{where}: case {label or idx!r}: {e}") from None
        if label in seen:
            raise CaseError(f"{where}: duplicate case name {label!r}")
        seen.add(label)
    return caps


# ---------------------------------------------------------------------------
# Recording outputs.
# ---------------------------------------------------------------------------

def tensor_record(torch, t):
    data = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
    width = t.element_size()
    head = [data[i * width:(i + 1) * width][::-1].hex() for i in range(min(t.numel(), 16))]
    return {"dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape),
            "sha256": hashlib.sha256(data).hexdigest(), "head": head}


def check_tolerance(tol, op):
    """A step's optional "tolerance" (golden/README.md): {"max_ulps": N, "max_abs": X}."""
    if op.output != "tensor":
        raise CaseError("'tolerance' is only allowed on ops whose output is a tensor")
    if not isinstance(tol, dict) or not tol or set(tol) - {"max_ulps", "max_abs"}:
        raise CaseError("'tolerance' must be an object with max_ulps and/or max_abs")
    ulps = tol.get("max_ulps", 0)
    if isinstance(ulps, bool) or not isinstance(ulps, int) or ulps < 0:
        raise CaseError("'tolerance.max_ulps' must be a non-negative integer")
    absv = tol.get("max_abs", 0.0)
    if isinstance(absv, bool) or not isinstance(absv, (int, float)) or not absv >= 0:
        raise CaseError("'tolerance.max_abs' must be a non-negative number")


def bounded_record(torch, rec, t, tol):
    """A tensor record for a step with a tolerance: the tolerance and every element's bits."""
    data = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
    width = t.element_size()
    rec = dict(rec)
    rec["tolerance"] = tol
    rec["values"] = [data[i * width:(i + 1) * width][::-1].hex() for i in range(t.numel())]
    return rec


def int_record(n):
    return {"int": n if abs(n) <= INT_EXACT_LIMIT else str(n)}


def record(torch, kind, value):
    if kind == "none":
        return None
    if kind == "tensor":
        return tensor_record(torch, value)
    if kind == "state_dict":
        return {"state_dict": [[k, tensor_record(torch, v)] for k, v in value.state_dict().items()]}
    if kind == "int":
        return int_record(value)
    raise AssertionError(kind)


# ---------------------------------------------------------------------------
# Child process: runs the cases of one capability.
# ---------------------------------------------------------------------------

# Dtypes added after 2.0 (in 2.3): a case naming one in an older release records the
# AttributeError as a rejection instead of stopping (golden/README.md, "Old releases").
LATER_DTYPES = ("uint16", "uint32", "uint64")


class ApiGap(Exception):
    """The release lacks something the case needs (a dtype, a keyword): the case is wrong for
    this release, so the run stops instead of recording an error PyTorch never meant."""


def run_case(torch, case):
    generators = {}  # private generators are fresh in every case
    outputs = []
    values = []  # each step's PyTorch result, for ops that read an earlier step's output
    for i, step in enumerate(case["steps"]):
        op, args, gen_name = validate_step(step)
        where = f"case {case['name']!r} step {i} ({step['op']})"
        if args.get("dtype") is not None:
            dtype = getattr(torch, args["dtype"], None)
            if dtype is None and args["dtype"] in LATER_DTYPES:
                # A user's `torch.uint16` raises AttributeError before 2.3: PyTorch rejects it.
                outputs.append({"error": f"module 'torch' has no attribute '{args['dtype']}'"})
                break
            if not isinstance(dtype, torch.dtype):
                raise ApiGap(f"{where}: torch {torch.__version__} has no dtype {args['dtype']}")
            args["dtype"] = dtype
        gen = {}
        if gen_name is not None:
            if gen_name not in generators:
                generators[gen_name] = torch.Generator()
            gen = {"generator": generators[gen_name]}
        if getattr(op, "previous", False):
            args["previous"] = values
        try:
            value = op.call(torch, args, gen)
            values.append(value)
        except TORCH_ERRORS as e:  # PyTorch rejected the step: record it, end the case.
            if gen and isinstance(e, TypeError) and "'generator'" in str(e):
                # e.g. nn.init functions take no generator= in 2.0.1.
                raise ApiGap(f"{where}: torch {torch.__version__} does not accept generator= "
                             f"here ({e}); name no generator in this case") from e
            outputs.append({"error": str(e)})
            break
        try:
            rec = record(torch, op.output, value)
            if "tolerance" in step:
                rec = bounded_record(torch, rec, value, step["tolerance"])
            outputs.append(rec)
        except Exception as e:
            raise RuntimeError(f"case {case['name']!r} step {i}: cannot record output: {e}") from e
    return outputs


def cpu_capability(torch):
    """The kernel variant PyTorch dispatches to, spelled as CAPABILITIES' values. Releases
    such as 2.0.1 have no torch.backends.cpu (their build summary says it), and some (2.5.1)
    call the default variant "NO AVX"."""
    backends_cpu = getattr(torch.backends, "cpu", None)
    if backends_cpu is not None and hasattr(backends_cpu, "get_cpu_capability"):
        got = backends_cpu.get_cpu_capability()
    else:
        marker = "CPU capability usage:"
        lines = [ln for ln in torch.__config__.show().splitlines() if marker in ln]
        got = lines[0].split(marker, 1)[1].strip() if lines else "unknown"
    return "DEFAULT" if got == "NO AVX" else got


def child_main(release, capability, in_path, out_path):
    import torch

    if torch.__version__.split("+")[0] != release:
        sys.exit(f"gen_golden: child sees torch {torch.__version__}, expected {release}")
    got = cpu_capability(torch)
    if got != CAPABILITIES[capability]:
        sys.exit(f"gen_golden: asked for ATEN_CPU_CAPABILITY={capability} but PyTorch uses {got}")
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    cases = json.loads(Path(in_path).read_text(encoding="utf-8"))
    try:
        results = [run_case(torch, case) for case in cases]
    except ApiGap as e:
        sys.exit(f"gen_golden: {e}")
    Path(out_path).write_text(json.dumps({"build": torch.__version__, "results": results}),
                              encoding="utf-8")


def release_key(release):
    return tuple(int(p) for p in release.split("."))


def supported_release(release):
    """MAJOR.MINOR.PATCH inside 2.0.0 .. 2.15.x (the releases torch-rng maps to an era)."""
    parts = release.split(".") if isinstance(release, str) else []
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return False
    major, minor, _ = release_key(release)
    return major == 2 and minor in SUPPORTED_MINORS


def python_for(release):
    """The interpreter whose torch is `release`: this one for the pinned release, else the
    release's own virtual environment."""
    if release == PINNED_TORCH:
        return sys.executable
    root = Path(os.environ.get(VENVS_ENV, DEFAULT_VENVS)).expanduser()
    python = root / release / "bin" / "python"
    if not python.exists():
        sys.exit(f"gen_golden: cases want torch {release}, which is not installed: expected "
                 f"{python} (python3 -m venv {root / release} && "
                 f"{root / release}/bin/pip install torch=={release} \"numpy<2\"; "
                 f"${VENVS_ENV} moves the root)")
    return str(python)


def run_children(jobs):
    """jobs: {(release, capability): [case, ...]} -> {(release, capability): (build, [outputs])}."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="gen_golden.") as tmp:
        for (release, cap), cases in jobs.items():
            python = python_for(release)
            in_path = Path(tmp) / f"{release}.{cap}.in.json"
            out_path = Path(tmp) / f"{release}.{cap}.out.json"
            in_path.write_text(json.dumps(cases), encoding="utf-8")
            env = dict(os.environ, ATEN_CPU_CAPABILITY=cap, OMP_NUM_THREADS="1")
            env.pop("TORCH_SHOW_CPP_STACKTRACES", None)  # keeps error messages stable
            print(f"gen_golden: running {len(cases)} case(s) with torch {release}, "
                  f"ATEN_CPU_CAPABILITY={cap}", file=sys.stderr)
            proc = subprocess.run([python, str(Path(__file__).resolve()), "--child", release, cap,
                                   str(in_path), str(out_path)], env=env)
            if proc.returncode != 0:
                sys.exit(f"gen_golden: the torch {release} {cap} child failed "
                         f"(exit {proc.returncode})")
            got = json.loads(out_path.read_text(encoding="utf-8"))
            if len(got["results"]) != len(cases):
                sys.exit(f"gen_golden: the torch {release} {cap} child returned "
                         f"{len(got['results'])} results for {len(cases)} cases")
            out[(release, cap)] = (got["build"], got["results"])
    return out


# ---------------------------------------------------------------------------
# Parent.
# ---------------------------------------------------------------------------

def dump(doc):
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def installed_torch():
    """Return (release, full build string); exit unless it is the pinned release."""
    try:
        import torch
    except ImportError as e:
        sys.exit(f"gen_golden: cannot import torch ({e}); install tools/requirements.txt")
    build = torch.__version__
    release = build.split("+")[0]
    if release != PINNED_TORCH:
        sys.exit(f"gen_golden: torch {build} is installed but the fixtures are pinned to "
                 f"{PINNED_TORCH}; install it with: pip install -r tools/requirements.txt")
    return release, build


def main(argv):
    if argv[:1] == ["--child"]:
        child_main(*argv[1:])
        return
    if any(a.startswith("-") for a in argv):
        sys.exit(__doc__.strip().splitlines()[-1])
    if sys.byteorder != "little":
        sys.exit("gen_golden: tensor bytes are recorded little-endian; run on a little-endian host")
    release, build = installed_torch()

    paths = [Path(a) for a in argv] or sorted(CASES_DIR.glob("*.json"))
    if not paths:
        sys.exit(f"gen_golden: no case files in {CASES_DIR}")
    files = []
    for path in paths:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            sys.exit(f"gen_golden: {path}: {e}")
        try:
            keys = validate_file(doc, release, str(path))
        except CaseError as e:
            sys.exit(f"gen_golden: malformed case: {e}")
        files.append((path, doc["cases"], keys))

    jobs = {}
    for _, cases, keys in files:
        for case, key in zip(cases, keys):
            jobs.setdefault(key, []).append(case)
    order = sorted(jobs, key=lambda k: (release_key(k[0]), list(CAPABILITIES).index(k[1])))
    results = run_children({key: jobs[key] for key in order})

    cursor = {key: 0 for key in results}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    for path, cases, keys in files:
        out_cases, builds = [], {}
        for case, key in zip(cases, keys):
            builds[key[0]] = results[key][0]
            outputs = results[key][1][cursor[key]]
            cursor[key] += 1
            out_cases.append({"name": case["name"], "capability": key[1],
                              "torch_version": key[0], "outputs": outputs})
        if len(builds) <= 1:
            (file_release, file_build), = builds.items() or [(release, build)]
        else:  # a file that spans releases: each case names its own (golden/README.md)
            file_release = "mixed"
            file_build = dict(sorted(builds.items(), key=lambda kv: release_key(kv[0])))
        doc = {"format": RESULTS_FORMAT, "torch_version": file_release, "torch_build": file_build,
               "cases": out_cases}
        out_path = RESULTS_DIR / path.name
        with open(out_path, "w", encoding="utf-8", newline="\n") as f:
            f.write(dump(doc))
        print(f"gen_golden: wrote {out_path.relative_to(ROOT)} ({len(out_cases)} cases)",
              file=sys.stderr)

    if not argv:
        orphans = sorted(p.name for p in RESULTS_DIR.glob("*.json")
                         if not (CASES_DIR / p.name).exists())
        if orphans:
            print(f"gen_golden: warning: results without a case file: {', '.join(orphans)}",
                  file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
