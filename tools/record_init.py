#!/usr/bin/env python3
"""Record what building a PyTorch model does to its weights: a `torch-rng-program/1` file.

Usage:
    python tools/record_init.py [--path DIR]... [--seed N] [--device cuda] -o PROGRAM.json EXPR

EXPR is a Python expression that builds the model, naming modules by their dotted path
(``torchvision.models.resnet18()``,
``transformers.GPT2LMHeadModel(transformers.GPT2Config(n_embd=64, n_layer=2, n_head=2))``);
the modules it names are imported for it, and ``--path`` adds a folder to ``sys.path`` (for a
local model file such as nanoGPT's ``model.py``).

Importable too: ``record(fn, seed=0) -> dict`` runs ``fn()`` (which returns an ``nn.Module``, or
a ``{name: tensor}`` dict) and returns the program.

What is recorded (golden/PROGRAM-FORMAT.md has the format):
- every ``torch.nn.init`` call as one step with its arguments as PyTorch received them (only the
  outermost call: ``kaiming_uniform_`` calls ``uniform_`` inside, which is not a step);
- every other op that writes a tensor, at the ATen level, seen through a ``TorchDispatchMode``:
  allocations, random factories and in-place samplers, ``fill_``, ``zero_``, ``copy_``, ``mul_``,
  ``div_``, ``add_``, ``sub_``, ``clamp_``, ``erfinv_``, casts and clones, writes through any view
  (the view's offset, sizes and strides are recorded, not the view ops); out-of-place results are
  recorded as an allocation, a copy and the in-place op;
- what happens to the generators: before each draw the generator's state is compared with what
  the recorded steps left; a difference is explained as ``manual_seed(s)`` (the state equals a
  fresh generator seeded with its ``initial_seed()``) or as restoring a state seen earlier
  (``set_rng_state``, ``fork_rng``, ``g.set_state``), or the recording is refused;
- the final ``state_dict`` as references to the recorded tensors (tied weights are one tensor
  under several names), and the SHA-256 of every entry for the recording seed.

Steps that cannot influence the ``state_dict`` or a generator are dropped. An op the program
cannot express is refused, naming the op and the file and line that called it, if (and only if)
its result reaches the ``state_dict`` or it draws random numbers; a seed-independent result of
such an op (a small constant buffer) is stored as a literal. The model is recorded twice with
different seeds, and the two programs must be equal (else the code's control flow or arguments
depend on the random values). Runs under PyTorch 2.0 and later.

``--device cuda`` (needs a GPU) builds the model under ``with torch.device("cuda")``: the
device's default generator (``torch.cuda.default_generators[0]``) is the one tracked, the
program's top level records ``"device": "cuda"``, the GPU's name and its ``sm_count`` and
``max_threads_per_sm`` (which decide the CUDA kernels' launch geometry), and the check's
SHA-256s are of the device's tensors. NOT YET RUN ON A GPU: written without one, so its first
run on a GPU host is its test (replay its output with ``torch-rng init PROGRAM.json --verify``).
"""

import argparse
import contextlib
import hashlib
import importlib
import json
import math
import os
import re
import sys

import torch
from torch.utils._python_dispatch import TorchDispatchMode

FORMAT = "torch-rng-program/1"
# The largest seed-independent result of an unsupported op stored as a literal, in elements.
LITERAL_LIMIT = 1 << 16
# The second recording seed is this much above the first.
SECOND_SEED_OFFSET = 7919

_HERE = os.path.abspath(__file__)

# The device the model is built on: "cpu", or "cuda" (--device cuda).
DEVICE = "cpu"


def _default_generator():
    return torch.default_generator if DEVICE == "cpu" else torch.cuda.default_generators[0]


def _host(t):
    """The tensor on the CPU (for hashing)."""
    return t if t.device.type == "cpu" else t.cpu()


class RecordError(Exception):
    """The model cannot be recorded as a program; the message says why and where."""


# ---------------------------------------------------------------------------------------------
# Small helpers


def _dtype_name(dt):
    return str(dt).replace("torch.", "")


def _scalar(v):
    """A Python number as the program stores it (bools as bools, ints as ints)."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(v, torch.SymInt) if hasattr(torch, "SymInt") else False:
        return int(v)
    try:  # numpy scalars
        import numpy

        if isinstance(v, numpy.generic):
            return _scalar(v.item())
    except ImportError:
        pass
    raise TypeError(f"not a number: {v!r}")


def _is_number(v):
    try:
        _scalar(v)
        return True
    except TypeError:
        return False


def _state_bytes(gen):
    return bytes(gen.get_state().numpy().tobytes())


def _fresh_state(seed):
    g = torch.Generator(device=DEVICE)
    g.manual_seed(seed)
    return _state_bytes(g)


def _same_generator(a, b):
    """Whether two Python generator objects wrap the same C++ generator: equal states, and
    reseeding one changes the other (the state is restored exactly afterwards)."""
    sa = a.get_state()
    sb = b.get_state()
    if not torch.equal(sa, sb):
        return False
    a.manual_seed((a.initial_seed() + 1) % (1 << 64))
    same = not torch.equal(b.get_state(), sb)
    a.set_state(sa)
    return same


def _capability():
    try:
        cap = torch.backends.cpu.get_cpu_capability()
    except AttributeError:  # 2.0 has no torch.backends.cpu
        cap = os.environ.get("ATEN_CPU_CAPABILITY", "avx512")
    cap = cap.lower()
    if cap in ("default", "no avx"):
        return "default"
    if cap.startswith("avx512"):
        return "avx512"
    if cap.startswith("avx2"):
        return "avx2"
    return cap


def _release():
    return torch.__version__.split("+")[0]


def _sha256(t):
    t = t.detach().contiguous()
    if t.numel() == 0:
        return hashlib.sha256(b"").hexdigest()
    data = t.reshape(-1).view(torch.uint8) if t.dtype != torch.bool else t.reshape(-1).to(torch.uint8)
    return hashlib.sha256(_host(data).numpy().tobytes()).hexdigest()


# How many leading elements of each state_dict entry the check stores (as bit patterns), so
# that a failed verification can name the first differing element when it is among them.
HEAD = 4


def _head(t, n=HEAD):
    """The first `n` elements' bit patterns, lowercase hex zero-padded to the dtype's width (the
    case format's `head`)."""
    t = t.detach().contiguous().reshape(-1)[:n]
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    width = t.element_size()
    data = _host(t.view(torch.uint8)).numpy().tobytes() if t.numel() else b""
    return [data[i * width:(i + 1) * width][::-1].hex() for i in range(t.numel())]


def _contiguous_strides(size):
    strides, acc = [], 1
    for s in reversed(size):
        strides.append(acc)
        acc *= max(s, 1)
    return list(reversed(strides))


# ---------------------------------------------------------------------------------------------
# Where an op comes from

_SKIP_FILES = (
    os.sep + os.path.join("torch", "utils") + os.sep,
    os.sep + os.path.join("torch", "_ops.py"),
    os.sep + os.path.join("torch", "_dynamo") + os.sep,
    os.sep + os.path.join("torch", "_compile.py"),
    os.sep + os.path.join("torch", "_tensor.py"),
    os.sep + os.path.join("torch", "overrides.py"),
    os.sep + os.path.join("torch", "_jit_internal.py"),
    os.sep + os.path.join("torch", "autograd") + os.sep,
    os.sep + os.path.join("torch", "random.py"),
    os.sep + "contextlib.py",
    os.sep + "functools.py",
)


def _short_path(filename):
    if filename == "<expr>" or filename.startswith("<"):
        return filename
    full = os.path.abspath(filename)
    best = None
    for p in sys.path:
        if not p:
            p = os.getcwd()
        p = os.path.abspath(p)
        if full.startswith(p + os.sep) and (best is None or len(p) > len(best)):
            best = p
    if best is None:
        return os.path.basename(full)
    return os.path.relpath(full, best).replace(os.sep, "/")


def _caller(frame, skip_init=False):
    f = frame
    while f is not None:
        fn = f.f_code.co_filename
        if fn == _HERE or any(s in fn for s in _SKIP_FILES):
            f = f.f_back
            continue
        if skip_init and fn.endswith(os.path.join("torch", "nn", "init.py")):
            f = f.f_back
            continue
        return f"{_short_path(fn)}:{f.f_lineno}"
    return "<unknown>"


# ---------------------------------------------------------------------------------------------
# nn.init functions recorded as one step: their code objects, the step's name and arguments

_INIT_ARGS = {
    "uniform_": ["a", "b"],
    "normal_": ["mean", "std"],
    "trunc_normal_": ["mean", "std", "a", "b"],
    "constant_": ["val"],
    "ones_": [],
    "zeros_": [],
    "eye_": [],
    "dirac_": ["groups"],
    "xavier_uniform_": ["gain"],
    "xavier_normal_": ["gain"],
    "kaiming_uniform_": ["a", "mode", "nonlinearity"],
    "kaiming_normal_": ["a", "mode", "nonlinearity"],
    "orthogonal_": ["gain"],
    "sparse_": ["sparsity", "std"],
}
# Private helpers that some libraries call directly, as the public function they equal.
_INIT_HELPERS = {
    "_no_grad_uniform_": ("uniform_", {"a": "a", "b": "b"}),
    "_no_grad_normal_": ("normal_", {"mean": "mean", "std": "std"}),
    "_no_grad_trunc_normal_": ("trunc_normal_", {"mean": "mean", "std": "std", "a": "a", "b": "b"}),
    "_no_grad_fill_": ("constant_", {"val": "val"}),
    "_no_grad_zero_": ("zeros_", {}),
}
# Functions that never draw.
_INIT_NO_DRAW = {"constant_", "ones_", "zeros_", "eye_", "dirac_"}


def _init_codes():
    import torch.nn.init as init

    codes = {}
    for name, args in _INIT_ARGS.items():
        fn = getattr(init, name, None)
        if fn is not None and hasattr(fn, "__code__"):
            codes[fn.__code__] = (name, {a: a for a in args})
    for helper, (name, args) in _INIT_HELPERS.items():
        fn = getattr(init, helper, None)
        if fn is not None and hasattr(fn, "__code__"):
            codes[fn.__code__] = (name, args)
    return codes


# ---------------------------------------------------------------------------------------------
# The recording


class _Tensor:
    """A storage the recording created (one program tensor)."""

    __slots__ = ("idx", "storage", "dtype", "size", "stride", "tainted", "mask", "step")

    def __init__(self, idx, storage, dtype, size, stride):
        self.idx = idx
        self.storage = storage
        self.dtype = dtype
        self.size = size
        self.stride = stride
        self.tainted = False
        self.mask = None
        self.step = None


class _Step:
    """One program step with what it reads and writes (tensor indices), for pruning."""

    __slots__ = ("d", "reads", "writes", "rng", "gen", "opaque", "literal", "creates", "loc", "save")

    def __init__(self, d, loc):
        self.d = d
        self.reads = []
        self.writes = []
        self.rng = False
        self.gen = False
        self.opaque = None
        self.literal = None
        self.creates = None
        self.loc = loc
        self.save = []


def _flatten(x):
    if isinstance(x, torch.Tensor):
        return [x]
    if isinstance(x, (list, tuple)):
        out = []
        for y in x:
            out.extend(_flatten(y))
        return out
    return []


# ATen ops that only make views or read metadata: nothing to record.
_CREATE_EMPTY = {
    "empty", "empty_strided", "empty_like", "new_empty", "new_empty_strided", "empty_permuted",
}
_CREATE_FILL = {
    "zeros": 0, "zeros_like": 0, "new_zeros": 0, "ones": 1, "ones_like": 1, "new_ones": 1,
    "full": None, "full_like": None, "new_full": None, "scalar_tensor": None,
}
_RANDOM_FACTORIES = {"rand", "randn", "rand_like", "randn_like", "randint", "randint_like", "normal"}
_COPIES = {"clone", "_to_copy", "copy", "_copy_from_and_resize", "lift_fresh_copy"}
_BINARY = {"mul": "mul_", "div": "div_", "add": "add_", "sub": "sub_"}
_INPLACE_BINARY = {"mul_", "div_", "add_", "sub_"}
_SAMPLERS = {"uniform_", "normal_", "random_", "bernoulli_", "exponential_"}
_CLAMPS = {"clamp", "clamp_", "clamp_min", "clamp_min_", "clamp_max", "clamp_max_"}


class _Recorder(TorchDispatchMode):
    def __init__(self, seed):
        super().__init__()
        self.seed = seed
        self.tensors = {}  # storage key -> _Tensor
        self.order = []  # _Tensor by index
        self.steps = []
        self.sources = []
        self.source_idx = {}
        self.init_stack = []  # (frame, info) of nn.init calls in progress
        self.gens = {}  # id(generator) -> (name, generator)
        self.known = {}  # generator name -> state bytes the recorded steps leave
        self.seen = {}  # state bytes -> (generator name, step index after which it held)
        self.slots = {}  # (gen, step index) -> slot number
        self.codes = _init_codes()
        self.default = _default_generator()
        state = _state_bytes(self.default)
        self.known["default"] = state
        self.seen[state] = ("default", -1)
        self.gens[id(self.default)] = ("default", self.default)
        self._keep = []

    # --- bookkeeping -------------------------------------------------------------------------

    def _loc(self, text):
        i = self.source_idx.get(text)
        if i is None:
            i = len(self.sources)
            self.sources.append(text)
            self.source_idx[text] = i
        return i

    def _key(self, t):
        return t.untyped_storage()._cdata

    def _lookup(self, t):
        return self.tensors.get(self._key(t))

    def _create(self, t, step):
        st = t.untyped_storage()
        numel = st.nbytes() // max(t.element_size(), 1)
        size, stride = list(t.shape), list(t.stride())
        extent = 0 if 0 in size else 1 + sum((n - 1) * k for n, k in zip(size, stride))
        if t.storage_offset() != 0 or extent != numel:
            # A fresh storage seen first through a view: describe the whole storage.
            size, stride = [numel], [1]
        tr = _Tensor(len(self.order), st, t.dtype, size, stride)
        with _no_modes():
            tr.mask = torch.zeros(numel, dtype=torch.bool)
        tr.step = step
        self.tensors[st._cdata] = tr
        self.order.append(tr)
        step.creates = tr.idx
        step.writes.append(tr.idx)
        return tr

    def _ref(self, t, step=None, write=False):
        """The program reference of a tensor (its index and view) and its bookkeeping."""
        tr = self._lookup(t)
        if tr is None:
            raise RecordError(
                f"a tensor of shape {list(t.shape)} was created outside the recording "
                f"(before it started, or by an op the recorder cannot see)"
            )
        if t.dtype != tr.dtype:
            raise RecordError(f"a {tr.dtype} tensor is used as {t.dtype} (a dtype view)")
        geo = (t.storage_offset(), list(t.shape), list(t.stride()))
        ref = (tr.idx, None) if geo == (0, tr.size, tr.stride) else (tr.idx, geo)
        if step is not None:
            (step.writes if write else step.reads).append(tr.idx)
        if write:
            self._mark(tr, t)
        return ref

    def _mark(self, tr, t):
        if t.numel() == 0:
            return
        with _no_modes():
            tr.mask.as_strided(list(t.shape), list(t.stride()), t.storage_offset()).fill_(True)

    def _new_step(self, d, loc):
        s = _Step(d, loc)
        self.steps.append(s)
        return s

    def _gen_name(self, g):
        if g is None:
            return "default"
        hit = self.gens.get(id(g))
        if hit is not None:
            return hit[0]
        if g.device.type != DEVICE:
            raise RecordError(f"a {g.device.type} generator is used; only {DEVICE} generators are supported")
        # Each use hands over a new Python object for the same C++ generator: find it by state.
        for name, known in list(self.gens.values()):
            if _same_generator(g, known):
                self.gens[id(g)] = (name, known)
                self._keep.append(g)  # keeps id(g) unique while the recording runs
                return name
        name = f"g{len({n for n, _ in self.gens.values()})}"
        self.gens[id(g)] = (name, g)
        self.known[name] = None
        return name

    def _gen_obj(self, name):
        for n, g in self.gens.values():
            if n == name:
                return g
        raise AssertionError(name)

    def _sync(self, name, state, loc):
        """Explains a change of generator `name` since the last recorded draw (its state is
        `state` now) as a manual_seed or a restore, before the step about to be recorded."""
        if self.known.get(name) == state:
            return
        g = self._gen_obj(name)
        seed = g.initial_seed()
        fresh = _fresh_state(seed) == state
        hit = self.seen.get(state)
        if fresh and (hit is None or seed != self.seed):
            s = self._new_step({"op": "manual_seed", "gen": name, "seed": seed}, loc)
        elif hit is not None:
            key = hit
            slot = self.slots.get(key)
            if slot is None:
                slot = len(self.slots)
                self.slots[key] = slot
            s = self._new_step({"op": "set_state", "gen": name, "slot": slot}, loc)
        else:
            raise RecordError(
                f"generator {'torch.default_generator' if name == 'default' else name} changed "
                f"before {self.sources[loc]} in a way the recorder cannot express (not a "
                f"manual_seed and not a state seen before: was it created or used before the "
                f"recording started, or by code the recorder cannot see?)"
            )
        s.gen = True
        self.known[name] = state
        self.seen.setdefault(state, (name, len(self.steps) - 1))

    def _drew(self, name, state):
        self.known[name] = state
        self.seen.setdefault(state, (name, len(self.steps) - 1))

    # --- nn.init calls (sys.setprofile) --------------------------------------------------------

    def profile(self, frame, event, arg):
        if event == "call":
            info = self.codes.get(frame.f_code)
            if info is not None:
                self._enter_init(frame, info)
        elif event == "return" and self.init_stack and self.init_stack[-1][0] is frame:
            self._exit_init(frame)

    def _enter_init(self, frame, info):
        if self.init_stack:
            self.init_stack.append((frame, None))
            return
        name, argmap = info
        loc_text = _caller(frame.f_back, skip_init=True)
        t = frame.f_locals.get("tensor")
        if not isinstance(t, torch.Tensor) or t.device.type == "meta":
            # On the meta device nothing is drawn; its ATen ops (a CPU randperm) speak for it.
            self.init_stack.append((frame, "meta"))
            return
        with _no_modes():
            loc = self._loc(loc_text)
            if t.device.type != DEVICE:
                raise RecordError(f"nn.init.{name} on a {t.device.type} tensor at {loc_text}: only {DEVICE} is supported")
            d = {"op": f"nn.init.{name}"}
            for key, local in argmap.items():
                v = frame.f_locals.get(local)
                if v is None and local in ("mode", "nonlinearity"):
                    continue
                if not _is_number(v) and not isinstance(v, str):
                    raise RecordError(f"nn.init.{name} at {loc_text}: argument {key}={v!r} is not a number")
                d[key] = v if isinstance(v, str) else _scalar(v)
            gen = frame.f_locals.get("generator")
            gname = self._gen_name(gen) if gen is not None else "default"
            if gname != "default":
                d["gen"] = gname
            step = _Step(d, loc)
            ref = self._ref(t, step, write=True)
            d["t"] = ref
            before = {n: _state_bytes(self._gen_obj(n)) for n in {gname, "default"}}
            self.init_stack.append((frame, (step, name, gname, before)))

    def _exit_init(self, frame):
        _, info = self.init_stack.pop()
        if info is None or info == "meta":
            return
        step, name, gname, before = info
        with _no_modes():
            after = {n: _state_bytes(self._gen_obj(n)) for n in before}
            drew = [n for n in before if before[n] != after[n]]
            if name not in _INIT_NO_DRAW:
                drew = sorted(set(drew) | {gname})
            for n in drew:
                self._sync(n, before[n], step.loc)
            self.steps.append(step)
            step.rng = bool(drew)
            tr = self.order[step.writes[0]]
            tr.tainted = tr.tainted or step.rng
            for n in drew:
                self._drew(n, after[n])

    # --- ATen ops ---------------------------------------------------------------------------

    def _suppressed(self):
        return any(isinstance(i, tuple) for _, i in self.init_stack)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self._suppressed():
            return func(*args, **kwargs)
        gen = kwargs.get("generator")
        gname = self._gen_name(gen) if gen is not None else "default"
        gobj = self._gen_obj(gname)
        before = _state_bytes(gobj)
        before_default = _state_bytes(self.default) if gname != "default" else before
        self._pending_before = {gname: before}
        out = func(*args, **kwargs)
        after = _state_bytes(gobj)
        tensors = _flatten(list(args)) + _flatten(list(kwargs.values()))
        outs = _flatten(out)
        devices = {t.device.type for t in tensors + outs}
        drew = after != before
        if devices <= {"meta"} and not drew:
            return out
        if devices - {DEVICE, "meta"}:
            raise RecordError(f"{func} runs on {sorted(devices)}: only {DEVICE} tensors are supported")
        loc_text = _caller(sys._getframe(1))
        loc = self._loc(loc_text)
        if gname != "default" and _state_bytes(self.default) != before_default:
            raise RecordError(f"{func} at {loc_text} draws from the default generator besides generator=")
        seeded = torch.Tag.nondeterministic_seeded in func.tags and "meta" not in devices
        try:
            handled = self._handle(func, args, kwargs, out, loc, gname, seeded or drew)
        except RecordError as e:
            if " at " in str(e):
                raise
            raise RecordError(f"{func} at {loc_text}: {e}") from None
        if (seeded or drew) and handled != "rng":
            raise RecordError(f"{func} at {loc_text} draws random numbers and the recorder cannot express it")
        if handled == "rng":
            self._drew(gname, after)
        return out

    def _handle(self, func, args, kwargs, out, loc, gname, rng):
        name = func.overloadpacket.__name__
        over = func._overloadname
        outs = _flatten(out)
        new_outs = [t for t in outs if self._lookup(t) is None and t.device.type == DEVICE]
        written = self._written_args(func, args, kwargs)
        if not written and not new_outs and not rng:
            # Views and metadata: a result on a known storage needs nothing.
            return True

        if new_outs and len(new_outs) == 1 and len(outs) == 1:
            if name in _CREATE_EMPTY:
                self._emit_empty(out, loc)
                return True
            if name in _CREATE_FILL:
                value = _CREATE_FILL[name]
                if name in ("full", "full_like"):
                    value = args[1] if len(args) > 1 else kwargs["fill_value"]
                elif name == "new_full":
                    value = args[2] if len(args) > 2 else kwargs["fill_value"]
                elif name == "scalar_tensor":
                    value = args[0]
                step = self._emit_empty(out, loc)
                step.d["fill"] = _scalar(value)
                self._mark(self.order[step.creates], out)
                return True
            if name in _RANDOM_FACTORIES:
                return self._random_factory(name, over, args, kwargs, out, loc, gname)
            if name == "randperm":
                d = {"op": "randperm", "n": int(args[0]), "dtype": _dtype_name(out.dtype)}
                if gname != "default":
                    d["gen"] = gname
                self._sync(gname, self._pending_before[gname], loc)
                step = self._new_step(d, loc)
                tr = self._create(out, step)
                self._mark(tr, out)
                step.rng = True
                tr.tainted = True
                return "rng"
            if name in ("lift_fresh", "lift_fresh_copy") and self._lookup(args[0]) is None:
                return self._literal(out, loc)
            if name in _COPIES:
                src = args[1] if name == "copy" else args[0]
                return self._unary(None, src, out, loc, fresh=True)
            if name in _BINARY and over in ("Tensor", "Scalar"):
                return self._binary(_BINARY[name], args, kwargs, out, loc, fresh=True)
            if name in _CLAMPS and over in ("default", ""):
                return self._clamp(name, args, kwargs, out, loc, fresh=True)
            if name == "erfinv":
                return self._unary("erfinv_", args[0], out, loc, fresh=True)
        if new_outs or len(written) != 1:
            return self._opaque(func, args, kwargs, loc, rng, created=new_outs)

        # In place on a known storage.
        target = written[0]
        if name == "fill_" and over == "Scalar":
            s = self._new_step({"op": "fill_"}, loc)
            s.d["t"] = self._ref(target, s, write=True)
            s.d["value"] = _scalar(args[1])
            self._taint(s)
            return True
        if (name == "fill_" and over == "Tensor") or name == "copy_":
            s = self._new_step({"op": "copy_"}, loc)
            s.d["t"] = self._ref(target, s, write=True)
            s.d["src"] = self._ref(args[1], s)
            self._taint(s)
            return True
        if name == "zero_":
            s = self._new_step({"op": "fill_"}, loc)
            s.d["t"] = self._ref(target, s, write=True)
            s.d["value"] = 0
            self._taint(s)
            return True
        if name in _SAMPLERS:
            return self._sampler(name, over, args, kwargs, loc, gname)
        if name in _INPLACE_BINARY and over in ("Tensor", "Scalar"):
            return self._binary(name, args, kwargs, args[0], loc, fresh=False)
        if name in _CLAMPS and over in ("default", ""):
            return self._clamp(name, args, kwargs, args[0], loc, fresh=False)
        if name == "erfinv_":
            return self._unary("erfinv_", args[0], args[0], loc, fresh=False)
        return self._opaque(func, args, kwargs, loc, rng, created=[])

    def _written_args(self, func, args, kwargs):
        written = []
        schema = func._schema
        for i, a in enumerate(schema.arguments):
            if a.alias_info is None or not a.alias_info.is_write:
                continue
            if a.kwarg_only or i >= len(args):
                v = kwargs.get(a.name)
            else:
                v = args[i]
            for t in _flatten(v):
                if t.device.type == DEVICE:
                    written.append(t)
        return written

    def _taint(self, step):
        tainted = any(self.order[i].tainted for i in step.reads) or step.rng
        for i in step.writes:
            if tainted:
                self.order[i].tainted = True

    def _emit_empty(self, out, loc):
        step = self._new_step({"op": "empty"}, loc)
        tr = self._create(out, step)
        step.d["size"] = tr.size
        step.d["dtype"] = _dtype_name(tr.dtype)
        if tr.stride != _contiguous_strides(tr.size):
            step.d["stride"] = tr.stride
        return step

    def _random_factory(self, name, over, args, kwargs, out, loc, gname):
        if name in ("rand", "rand_like"):
            d = {"op": "uniform_", "from": 0.0, "to": 1.0}
        elif name in ("randn", "randn_like"):
            d = {"op": "normal_", "mean": 0.0, "std": 1.0}
        elif name == "normal":
            if not over.startswith("float_float"):
                raise RecordError(f"torch.normal with tensor arguments ({over}) is not supported")
            d = {"op": "normal_", "mean": _scalar(float(args[0])), "std": _scalar(float(args[1]))}
        elif name == "randint":
            if over.startswith("low"):
                d = {"op": "random_", "from": int(args[0]), "to": int(args[1])}
            else:
                d = {"op": "random_", "from": 0, "to": int(args[0])}
        else:  # randint_like
            nums = [a for a in args[1:] if not isinstance(a, torch.Tensor)]
            if len(nums) == 2:
                d = {"op": "random_", "from": int(nums[0]), "to": int(nums[1])}
            elif len(nums) == 1:
                d = {"op": "random_", "from": 0, "to": int(nums[0])}
            else:
                raise RecordError(f"randint_like overload {over} is not supported")
        self._emit_empty(out, loc)
        self._sync(gname, self._pending_before[gname], loc)
        s = self._new_step({"op": d.pop("op")}, loc)
        s.d["t"] = self._ref(out, s, write=True)
        s.d.update(d)
        if gname != "default":
            s.d["gen"] = gname
        s.rng = True
        self._taint(s)
        return "rng"

    def _sampler(self, name, over, args, kwargs, loc, gname):
        t = args[0]

        def arg(i, key, default):
            return args[i] if len(args) > i else kwargs.get(key, default)

        d = {}
        if name == "uniform_":
            d["from"] = _scalar(float(arg(1, "from", 0.0)))
            d["to"] = _scalar(float(arg(2, "to", 1.0)))
        elif name == "normal_":
            d["mean"] = _scalar(float(arg(1, "mean", 0.0)))
            d["std"] = _scalar(float(arg(2, "std", 1.0)))
        elif name == "random_":
            if over.startswith("from"):
                d["from"] = int(args[1])
                to = arg(2, "to", None)
                d["to"] = None if to is None else int(to)
            elif over.startswith("to"):
                d["from"] = 0
                d["to"] = int(arg(1, "to", None))
        elif name == "bernoulli_":
            if not over.startswith("float"):
                raise RecordError("bernoulli_ with a tensor p is not supported")
            d["p"] = _scalar(float(arg(1, "p", 0.5)))
        elif name == "exponential_":
            d["lambd"] = _scalar(float(arg(1, "lambd", 1.0)))
        if name not in ("uniform_", "normal_", "random_") and not t.is_contiguous():
            raise RecordError(f"{name} on a non-contiguous tensor is not supported")
        self._sync(gname, self._pending_before[gname], loc)
        s = self._new_step({"op": name}, loc)
        s.d["t"] = self._ref(t, s, write=True)
        s.d.update(d)
        if gname != "default":
            s.d["gen"] = gname
        s.rng = True
        self._taint(s)
        return "rng"

    def _fresh_copy(self, src, out, loc):
        """An out-of-place result: a new tensor holding a copy of `src` (cast to its dtype)."""
        self._emit_empty(out, loc)
        c = self._new_step({"op": "copy_"}, loc)
        c.d["t"] = self._ref(out, c, write=True)
        c.d["src"] = self._ref(src, c)
        self._taint(c)

    def _binary(self, op, args, kwargs, out, loc, fresh):
        a = args[0]
        b = args[1] if len(args) > 1 else kwargs["other"]
        alpha = args[2] if len(args) > 2 else kwargs.get("alpha", 1)
        if isinstance(alpha, bool) or not _is_number(alpha):
            raise RecordError(f"{op} with alpha={alpha!r} is not supported")
        if op in ("add_", "sub_") and alpha != 1:
            m, _ = math.frexp(abs(float(alpha)))
            if m != 0.5:
                raise RecordError(f"{op} with alpha={alpha} (not a power of two) is not supported")
        if kwargs.get("rounding_mode") is not None:
            raise RecordError("div with rounding_mode is not supported")
        if fresh:
            if isinstance(b, torch.Tensor) and list(b.shape) == list(out.shape) and list(a.shape) != list(out.shape):
                raise RecordError(f"{op[:-1]} broadcasting its first operand is not supported")
            self._fresh_copy(a, out, loc)
        s = self._new_step({"op": op}, loc)
        s.d["t"] = self._ref(out, s, write=True)
        if isinstance(b, torch.Tensor):
            s.d["src"] = self._ref(b, s)
        else:
            s.d["other"] = _scalar(b)
        if op in ("add_", "sub_") and alpha != 1:
            s.d["alpha"] = _scalar(alpha)
        self._taint(s)
        return True

    def _clamp(self, name, args, kwargs, out, loc, fresh):
        base = name.rstrip("_")
        lo = hi = None
        if base == "clamp":
            lo = args[1] if len(args) > 1 else kwargs.get("min")
            hi = args[2] if len(args) > 2 else kwargs.get("max")
        elif base == "clamp_min":
            lo = args[1]
        else:
            hi = args[1]
        if isinstance(lo, torch.Tensor) or isinstance(hi, torch.Tensor):
            raise RecordError("clamp with tensor bounds is not supported")
        if fresh:
            self._fresh_copy(args[0], out, loc)
        s = self._new_step({"op": "clamp_"}, loc)
        s.d["t"] = self._ref(out, s, write=True)
        if lo is not None:
            s.d["min"] = _scalar(lo)
        if hi is not None:
            s.d["max"] = _scalar(hi)
        self._taint(s)
        return True

    def _unary(self, op, a, out, loc, fresh):
        if fresh:
            self._fresh_copy(a, out, loc)
        if op is not None:
            s = self._new_step({"op": op}, loc)
            s.d["t"] = self._ref(out, s, write=True)
            self._taint(s)
        return True

    def _literal(self, out, loc):
        if out.numel() > LITERAL_LIMIT:
            raise RecordError(f"a tensor literal of {out.numel()} elements is too large")
        step = self._new_step({"op": "literal"}, loc)
        tr = self._create(out, step)
        if tr.size != list(out.shape):
            raise RecordError("a tensor literal that is a view")
        step.d.update(_literal_fields(tr, out))
        self._mark(tr, out)
        return True

    def _opaque(self, func, args, kwargs, loc, rng, created):
        """An op the program cannot express: kept as a placeholder, refused later if its result
        reaches the state_dict; a seed-independent result is kept as a literal."""
        if rng:
            return False
        written = self._written_args(func, args, kwargs)
        s = self._new_step({"op": "opaque"}, loc)
        s.opaque = str(func)
        for t in _flatten(list(args)) + _flatten(list(kwargs.values())):
            tr = self._lookup(t)
            if tr is not None and t.device.type == DEVICE and not any(t is w for w in written):
                s.reads.append(tr.idx)
        tainted = any(self.order[i].tainted for i in s.reads)
        lits = []
        for t in created:
            tr = self._create(t, s)
            self._mark(tr, t)
            tr.tainted = tainted
            lits.append(("new", tr, t))
        for t in written:
            tr = self._lookup(t)
            if tr is None:
                continue
            ref = self._ref(t, s, write=True)
            tr.tainted = tr.tainted or tainted
            lits.append(("write", ref, t))
        if not tainted and all(t.numel() <= LITERAL_LIMIT for _, _, t in lits):
            s.literal = []
            for kind, x, t in lits:
                if kind == "new":
                    s.literal.append(("literal", x.idx, _literal_fields(x, t)))
                else:
                    s.literal.append(("write", x, {"data": [_scalar(v) for v in t.detach().reshape(-1).tolist()]}))
        return True


def _literal_fields(tr, t):
    d = {"size": tr.size, "dtype": _dtype_name(tr.dtype)}
    if tr.stride != _contiguous_strides(tr.size):
        d["stride"] = tr.stride
    whole = t.as_strided(tr.size, tr.stride, 0) if t.storage_offset() != 0 or list(t.shape) != tr.size else t
    d["data"] = [_scalar(v) for v in whole.detach().reshape(-1).tolist()]
    return d


@contextlib.contextmanager
def _no_modes():
    from torch.utils._python_dispatch import _disable_current_modes

    with _disable_current_modes():
        yield


# ---------------------------------------------------------------------------------------------
# Turning the recording into a program


def _state_dict_of(result):
    if isinstance(result, torch.nn.Module):
        return list(result.state_dict(keep_vars=True).items())
    if isinstance(result, dict):
        return list(result.items())
    raise RecordError(f"the expression built a {type(result).__name__}, not an nn.Module or a dict of tensors")


def _run(fn, seed):
    torch.manual_seed(seed)
    rec = _Recorder(seed)
    old = sys.getprofile()
    on_device = contextlib.nullcontext() if DEVICE == "cpu" else torch.device(DEVICE)
    try:
        with rec, on_device:
            sys.setprofile(rec.profile)
            try:
                result = fn()
            finally:
                sys.setprofile(old)
    finally:
        sys.setprofile(old)
    return rec, result


def _build(rec, result):
    """The state_dict entries and the kept steps, as (step dict, source, created index)."""
    entries = []
    for name, t in _state_dict_of(result):
        if not isinstance(t, torch.Tensor):
            raise RecordError(f"state_dict entry {name!r} is not a tensor")
        if t.device.type == "meta":
            raise RecordError(f"state_dict entry {name!r} is still on the meta device")
        tr = rec._lookup(t)
        if tr is None:
            raise RecordError(f"state_dict entry {name!r} was not created by a recorded op")
        with _no_modes():
            view = tr.mask.as_strided(list(t.shape), list(t.stride()), t.storage_offset())
            complete = t.numel() == 0 or bool(view.all())
        if not complete:
            raise RecordError(
                f"state_dict entry {name!r} has elements that nothing wrote (uninitialised memory "
                f"from the tensor created at {rec.sources[tr.step.loc]})"
            )
        entries.append((name, rec._ref(t), t))

    # Backward pass: keep what reaches the state_dict or moves a generator. A draw into a tensor
    # that reaches nothing needs only the tensor's allocation (its dtype and layout).
    needed = {ref[0] for _, ref, _ in entries}
    alloc_only = set()
    keep = [None] * len(rec.steps)
    for i in range(len(rec.steps) - 1, -1, -1):
        s = rec.steps[i]
        hits = any(w in needed for w in s.writes)
        if s.gen or s.rng:
            keep[i] = "all"
            needed.update(s.reads)
            if hits:
                needed.update(s.writes)
            else:
                alloc_only.update(s.writes)
        elif hits:
            keep[i] = "all"
            needed.update(s.reads)
            needed.update(s.writes)
        elif s.creates is not None and s.creates in alloc_only:
            keep[i] = "alloc"

    saves = {}
    for (gname, after_step), slot in sorted(rec.slots.items(), key=lambda kv: kv[1]):
        saves.setdefault(after_step, []).append((gname, slot))
    out = [({"op": "save_state", "gen": g, "slot": k}, None, None) for g, k in saves.get(-1, [])]
    for i, s in enumerate(rec.steps):
        if keep[i] == "alloc":
            tr = rec.order[s.creates]
            d = {"op": "empty", "size": tr.size, "dtype": _dtype_name(tr.dtype)}
            if tr.stride != _contiguous_strides(tr.size):
                d["stride"] = tr.stride
            out.append((d, s.loc, tr.idx))
        elif keep[i] == "all" and s.opaque is not None:
            if s.literal is None:
                tainted = any(rec.order[j].tainted for j in s.reads)
                raise RecordError(
                    f"{s.opaque} at {rec.sources[s.loc]} computes a value that reaches the "
                    f"state_dict, and the recorder cannot express it"
                    + (" (it depends on random values)" if tainted else " (its result is too large to store)")
                )
            for kind, x, fields in s.literal:
                if kind == "literal":
                    out.append(({"op": "literal", **fields}, s.loc, x))
                else:
                    out.append(({"op": "write", "t": x, **fields}, s.loc, None))
        elif keep[i] == "all":
            out.append((s.d, s.loc, s.creates))
        elif saves.get(i):
            raise AssertionError("a restored state follows a dropped step")
        for g, k in saves.get(i, []):
            out.append(({"op": "save_state", "gen": g, "slot": k}, None, None))
    return entries, out


_REF_FIELDS = ("t", "src")


def _encode(entries, steps):
    """Serialises steps with cursor-relative tensor references (see PROGRAM-FORMAT.md)."""
    renum = {}
    out = []
    cursor = -1

    def ref(r):
        nonlocal cursor
        idx, geo = r
        new = renum[idx]
        delta = new - cursor
        cursor = new
        if geo is None:
            return delta
        off, size, stride = geo
        return [delta, off, size, stride]

    for d, loc, creates in steps:
        e = {"op": d["op"]}
        if creates is not None and d["op"] in ("empty", "literal", "randperm"):
            renum[creates] = len(renum)
            cursor = renum[creates]
        for k in _REF_FIELDS:
            if k in d:
                e[k] = ref(d[k])
        for k, v in d.items():
            if k not in e:
                e[k] = v
        if loc is not None:
            e["at"] = loc
        out.append(e)
    sd = []
    for name, (idx, geo), _ in entries:
        sd.append([name, renum[idx]] if geo is None else [name, renum[idx], geo[0], geo[1], geo[2]])
    return out, sd


def _compress(steps):
    """Folds runs of identical consecutive blocks into {"repeat": n, "steps": [...]}."""
    keys = [json.dumps(s, sort_keys=True) for s in steps]
    ids = {}
    h = [ids.setdefault(k, len(ids)) for k in keys]
    n = len(h)
    out = []
    i = 0
    while i < n:
        best = None
        for p in range(1, (n - i) // 2 + 1):
            if h[i:i + p] != h[i + p:i + 2 * p]:
                continue
            k = 2
            while i + (k + 1) * p <= n and h[i + k * p:i + (k + 1) * p] == h[i:i + p]:
                k += 1
            saved = (k - 1) * sum(len(keys[j]) for j in range(i, i + p))
            if best is None or saved > best[2]:
                best = (p, k, saved)
        if best is not None:
            p, k, _ = best
            out.append({"repeat": k, "steps": _compress(steps[i:i + p])})
            i += p * k
        else:
            out.append(steps[i])
            i += 1
    return out


def _program(rec, result, expr):
    entries, steps = _build(rec, result)
    encoded, sd = _encode(entries, steps)
    used = sorted({e["at"] for e in encoded if "at" in e})
    remap = {old: new for new, old in enumerate(used)}
    for e in encoded:
        if "at" in e:
            e["at"] = remap[e["at"]]
    program = {
        "format": FORMAT,
        "torch_version": _release(),
        **_device_fields(),
        "expr": expr,
        "sources": [rec.sources[i] for i in used],
        "steps": _compress(encoded),
        "state_dict": sd,
    }
    return program, entries


def _device_fields():
    """The program's device (golden/PROGRAM-FORMAT.md): nothing for the CPU; for CUDA the GPU's
    name and the two properties that decide the launch geometry."""
    if DEVICE == "cpu":
        return {}
    p = torch.cuda.get_device_properties(0)
    return {"device": "cuda", "gpu": p.name, "sm_count": p.multi_processor_count,
            "max_threads_per_sm": p.max_threads_per_multi_processor}


def _diff(a, b, path="program"):
    if type(a) is not type(b):
        return path, a, b
    if isinstance(a, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                return f"{path}.{k}", a.get(k), b.get(k)
            d = _diff(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            d = _diff(x, y, f"{path}[{i}]")
            if d:
                return d
        if len(a) != len(b):
            return f"{path} (length)", len(a), len(b)
        return None
    return None if a == b else (path, a, b)


def record(fn, seed=0, expr=None):
    """Records `fn()` (an nn.Module or a dict of tensors) as a `torch-rng-program/1` dict.

    Raises RecordError when the model cannot be expressed."""
    # Warm-up: lazy imports and caches the first construction fills are not part of the model.
    torch.manual_seed(seed)
    with contextlib.nullcontext() if DEVICE == "cpu" else torch.device(DEVICE):
        fn()
    rec_a, res_a = _run(fn, seed)
    prog_a, entries = _program(rec_a, res_a, expr)
    shas = [_sha256(t) for _, _, t in entries]
    heads = [_head(t) for _, _, t in entries]
    rec_b, res_b = _run(fn, seed + SECOND_SEED_OFFSET)
    prog_b, _ = _program(rec_b, res_b, expr)
    d = _diff(prog_a, prog_b)
    if d is not None:
        where, x, y = d
        m = re.match(r"program\.steps\[(\d+)\]", where)
        at = ""
        if m:
            st = prog_a["steps"][int(m.group(1))]
            if isinstance(st, dict) and "at" in st:
                at = f" (at {prog_a['sources'][st['at']]})"
        raise RecordError(
            f"the program depends on the seed: {where}{at} is {json.dumps(x)[:200]} with seed "
            f"{seed} and {json.dumps(y)[:200]} with seed {seed + SECOND_SEED_OFFSET} (control flow "
            f"or arguments computed from random values; or the code seeds a generator with the "
            f"recording seed itself)"
        )
    prog_a["check"] = {"seed": seed, "capability": _capability(), "sha256": shas, "head": heads}
    return prog_a


# ---------------------------------------------------------------------------------------------
# Command line


def dumps(program):
    """The program as byte-stable JSON text: one step per line."""
    lines = ["{"]
    keys = list(program)
    for n, k in enumerate(keys):
        comma = "," if n + 1 < len(keys) else ""
        v = program[k]
        if k in ("steps", "state_dict", "sources"):
            lines.append(f"  {json.dumps(k)}: [")
            for j, item in enumerate(v):
                c = "," if j + 1 < len(v) else ""
                lines.append("    " + json.dumps(item, ensure_ascii=False, allow_nan=False) + c)
            lines.append("  ]" + comma)
        else:
            lines.append(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, allow_nan=False)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _import_names(expr):
    """Imports every dotted prefix named in the expression that is a module."""
    env = {"torch": torch}
    for m in re.finditer(r"\b([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)", expr):
        parts = m.group(1).split(".")
        for k in range(len(parts), 0, -1):
            name = ".".join(parts[:k])
            try:
                importlib.import_module(name)
            except Exception:
                continue
            env.setdefault(parts[0], importlib.import_module(parts[0]))
            break
    return env


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("expr", help="Python expression that builds the model")
    ap.add_argument("-o", "--output", required=True, help="program file to write")
    ap.add_argument("--path", action="append", default=[], help="folder to add to sys.path")
    ap.add_argument("--seed", type=int, default=0, help="recording seed (its SHA-256s are stored)")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                    help="build the model on this device (cuda: needs a GPU; not yet run on one)")
    args = ap.parse_args(argv)
    global DEVICE
    DEVICE = args.device
    if DEVICE == "cuda" and not torch.cuda.is_available():
        print("record_init: --device cuda needs a GPU (torch.cuda.is_available() is False)",
              file=sys.stderr)
        return 2
    for p in reversed(args.path):
        sys.path.insert(0, os.path.abspath(p))
    env = _import_names(args.expr)
    code = compile(args.expr, "<expr>", "eval")
    try:
        program = record(lambda: eval(code, env), seed=args.seed, expr=args.expr)
    except RecordError as e:
        print(f"record_init: {e}", file=sys.stderr)
        return 2
    text = dumps(program)
    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"{args.output}: {len(text)} bytes, {len(program['state_dict'])} tensors", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
