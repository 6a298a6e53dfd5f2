"""Module ops: ``nn.<Class>`` for the built-in modules and ``model`` (a model description
inline; the format is in README.md, "Model descriptions"; or, with ``python``, the real model
it describes). Modules take no generator.

This file is the PyTorch side of ``src/modules/model/``: its class tables are read from
``nn_classes.json``, which the Rust registry (``src/modules/registry.rs``) generates. A field
left out is left out of the PyTorch call too, so PyTorch's own default applies.
"""

import json
import math
import re
from collections import OrderedDict
from pathlib import Path

from .common import KINDS, REQUIRED, CaseError, Op, _dtype, _is_int

REQ = REQUIRED

OMIT = object()  # a field absent from the case: not passed to PyTorch


def _opt_int(v):
    if v is None:
        return None
    if not _is_int(v):
        raise CaseError(f"must be an integer or null, got {v!r}")
    return v


def _opt_float(v):
    if v is None:
        return None
    return KINDS["float"](v)


def _ints(v):
    if _is_int(v):
        return v
    if isinstance(v, list) and all(_is_int(x) for x in v):
        return list(v)
    raise CaseError(f"must be an integer or a list of integers, got {v!r}")


def _padding(v):
    if v in ("same", "valid"):
        return v
    if isinstance(v, str):
        raise CaseError(f"invalid padding string {v!r} (same or valid)")
    return _ints(v)


def _object(v):
    if not isinstance(v, dict):
        raise CaseError(f"must be a JSON object, got {v!r}")
    return v


def _opt_object(v):
    return None if v is None else _object(v)


KINDS.update({"opt_int": _opt_int, "opt_float": _opt_float, "ints": _ints,
              "padding": _padding, "node": _object, "opt_node": _opt_object, "model": _object})

# The class tables are the Rust registry's (src/modules/registry.rs), generated into
# nn_classes.json and checked there by a test: class -> ({field: kind}, required fields).
_TABLES = json.loads((Path(__file__).with_name("nn_classes.json")).read_text(encoding="utf-8"))
CLASSES = {name: (c["args"], set(c["required"])) for name, c in _TABLES["classes"].items()}
# Layers without parameters or buffers; their arguments go to PyTorch unchecked.
STATELESS = set(_TABLES["stateless"])
NO_DTYPE = {name for name, c in _TABLES["classes"].items() if not c["dtype"]}
CONTAINERS = tuple(_TABLES["containers"])


# PyTorch asserts some arguments (Embedding's padding_idx, MultiheadAttention's head split);
# an AssertionError there is PyTorch rejecting the call, like a ValueError.


def _rejecting(fn):
    try:
        return fn()
    except AssertionError as e:
        raise ValueError(f"AssertionError: {e}") from None


def _check_args(cls, args, where):
    fields, required = CLASSES[cls]
    allowed = set(fields) | ({"dtype"} if cls not in NO_DTYPE else set())
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise CaseError(f"{where}: unknown argument(s) {unknown} for {cls}")
    missing = sorted(required - set(args))
    if missing:
        raise CaseError(f"{where}: {cls}: missing argument(s) {missing}")
    out = {}
    for k, v in args.items():
        try:
            out[k] = _dtype(v) if k == "dtype" else KINDS[fields[k]](v)
        except CaseError as e:
            raise CaseError(f"{where}: argument {k!r}: {e}") from None
    return out


# --------------------------------------------------------------------------- class arguments

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TOKEN = re.compile(r"\s*(//|\d+|\$[A-Za-z_][A-Za-z0-9_]*|[-+*()])")
_INT64 = (-(2 ** 63), 2 ** 63 - 1)


def substitute(v, args):
    """A described class's body with its arguments substituted (README, "Model descriptions"): a
    string containing `$` is `$name` (the argument's value) or an integer expression of `+`,
    `-`, `*`, `//` and parentheses. The Rust side is src/modules/model/expr.rs."""
    if isinstance(v, str) and "$" in v:
        return _value_of(v, args)
    if isinstance(v, list):
        return [substitute(x, args) for x in v]
    if isinstance(v, dict):
        return {k: substitute(x, args) for k, x in v.items()}
    return v


def _value_of(text, args):
    whole = text.strip()
    if whole.startswith("$") and _IDENT.match(whole[1:]):
        if whole[1:] not in args:
            raise CaseError(f"{text!r}: no argument {whole[1:]!r}")
        return args[whole[1:]]
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise CaseError(f"{text!r}: unexpected {text[pos:]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    tokens.append(None)
    i = [0]

    def check(v):
        if not _INT64[0] <= v <= _INT64[1]:
            raise CaseError(f"{text!r}: the result does not fit in int64")
        return v

    def atom():
        t = tokens[i[0]]
        i[0] += 1
        if t == "(":
            v = total()
            if tokens[i[0]] != ")":
                raise CaseError(f"{text!r}: missing ')'")
            i[0] += 1
            return v
        if t == "-":
            return check(-atom())
        if t is not None and t.startswith("$"):
            v = args.get(t[1:])
            if t[1:] not in args:
                raise CaseError(f"{text!r}: no argument {t[1:]!r}")
            if not _is_int(v):
                raise CaseError(f"{text!r}: {t} is {v!r}, not an integer")
            return v
        if t is not None and t.isdigit():
            return check(int(t))
        raise CaseError(f"{text!r}: expected a number, '$name' or '('")

    def product():
        v = atom()
        while tokens[i[0]] in ("*", "//"):
            op = tokens[i[0]]
            i[0] += 1
            r = atom()
            if op == "*":
                v = check(v * r)
            else:
                if r == 0:
                    raise CaseError(f"{text!r}: integer division by zero")
                v = check(v // r)
        return v

    def total():
        v = product()
        while tokens[i[0]] in ("+", "-"):
            op = tokens[i[0]]
            i[0] += 1
            r = product()
            v = check(v + r if op == "+" else v - r)
        return v

    v = total()
    if tokens[i[0]] is not None:
        raise CaseError(f"{text!r}: unexpected {tokens[i[0]]!r}")
    return v


STEP_KEYS = ("apply", "named_parameters", "tie", "init")


def _is_step(item):
    return isinstance(item, dict) and "module" not in item and any(k in item for k in STEP_KEYS)


def _present(item, where):
    w = item.get("when", True) if isinstance(item, dict) else True
    if not isinstance(w, bool):
        raise CaseError(f"{where}: 'when' must be true or false")
    return w


class Builder:
    """Builds a model description in PyTorch, in the order a Python __init__ would."""

    def __init__(self, torch, dtype=None, classes=None):
        self.torch = torch
        self.dtype = dtype
        self.classes = {}  # name -> (argument names, defaults, body)
        for name, c in (classes or {}).items():
            if isinstance(c, list):
                self.classes[name] = ([], {}, c)
            else:
                self.classes[name] = (list(c.get("args", [])), dict(c.get("defaults", {})),
                                      c["modules"])
        self.lazies = []  # (module, in_features, dtype) in description order
        self.stack = []

    def builtin(self, cls, args, where):
        torch, nn = self.torch, self.torch.nn
        args = _check_args(cls, args, where)
        if cls not in NO_DTYPE:
            d = args.pop("dtype", None) or self.dtype
            if d is not None:
                args["dtype"] = getattr(torch, d)
        for key in ("encoder_layer", "decoder_layer", "norm"):
            if args.get(key) is not None:
                args[key] = self.node(args[key], f"{where}.{key}")
        if cls == "LazyLinear":
            in_features = args.pop("in_features")
            m = nn.LazyLinear(**args)
            self.lazies.append((m, in_features, args.get("dtype")))
            return m
        if cls == "TransformerEncoder" or cls == "TransformerDecoder":
            layer = args.pop("encoder_layer" if cls == "TransformerEncoder" else "decoder_layer")
            num_layers = args.pop("num_layers")
            return getattr(nn, cls)(layer, num_layers, **args)
        return _rejecting(lambda: getattr(nn, cls)(**args))

    def node(self, node, where):
        if not isinstance(node, dict):
            raise CaseError(f"{where}: a module must be a JSON object")
        node = dict(node)
        for key in ("name", "repeat", "when"):
            node.pop(key, None)
        then = node.pop("then", {})
        cls = node.pop("module", None)
        if not isinstance(cls, str):
            raise CaseError(f"{where}: missing or bad 'module'")
        cls = cls.removeprefix("nn.")
        if cls in CLASSES:
            m = self.builtin(cls, node, where)
        elif cls in STATELESS:
            m = _rejecting(lambda: getattr(self.torch.nn, cls)(**node))
        elif cls in CONTAINERS:
            children = node.pop("modules", [])
            if node:
                raise CaseError(f"{where}: unknown field(s) {sorted(node)} for {cls}")
            m = self.container(cls, children, where)
        elif cls in self.classes:
            names, defaults, body = self.classes[cls]
            args = {}
            for a in names:
                if a in node:
                    args[a] = node.pop(a)
                elif a in defaults:
                    args[a] = defaults[a]
                else:
                    raise CaseError(f"{where}: {cls}: missing argument {a!r}")
            if node:
                raise CaseError(f"{where}: unknown field(s) {sorted(node)} for {cls}")
            if cls in self.stack:
                raise CaseError(f"{where}: class cycle {' -> '.join(self.stack + [cls])}")
            self.stack.append(cls)
            m = self.container(cls, substitute(body, args), f"classes.{cls}")
            self.stack.pop()
        else:
            raise CaseError(f"{where}: unknown module {cls!r}")
        for pname, spec in then.items():
            _init(self.torch, m.get_parameter(pname), spec)
        return m

    def tensor(self, item, where):
        torch = self.torch
        item = dict(item)
        kind = item.pop("module").removeprefix("nn.")
        item.pop("name")
        item.pop("when", None)
        size = _ints(item.pop("size"))
        init = item.pop("init", "zeros")
        persistent = item.pop("persistent", True)
        d = item.pop("dtype", None) or self.dtype
        if item:
            raise CaseError(f"{where}: unknown field(s) {sorted(item)} for {kind}")
        dtype = getattr(torch, d) if d else None
        if isinstance(init, dict):
            t = torch.empty(size, dtype=dtype)
            _init(torch, t, init)
        else:
            t = getattr(torch, init)(size, dtype=dtype)
        return kind, (torch.nn.Parameter(t) if kind == "Parameter" else t), persistent

    def container(self, cls, children, where):
        nn = self.torch.nn
        if not isinstance(children, list):
            raise CaseError(f"{where}: 'modules' must be a list")
        if cls in ("Sequential", "ModuleList", "ModuleDict"):
            built = []
            for i, item in enumerate(children):
                at = f"{where}.modules[{i}]"
                if not _present(item, at):
                    continue
                repeat = item.get("repeat", 1) if isinstance(item, dict) else 1
                for _ in range(repeat):
                    name = item.get("name", str(len(built)))
                    built.append((name, self.node(item, at)))
            if cls == "ModuleList":
                return nn.ModuleList([m for _, m in built])
            if cls == "ModuleDict":
                return nn.ModuleDict(OrderedDict(built))
            return nn.Sequential(OrderedDict(built))
        m = (nn.Module if cls == "Module" else type(cls, (nn.Module,), {}))()
        self.items_into(m, children, where)
        return m

    def items_into(self, m, children, where):
        """The items of a Module or described class, in order: modules, Parameters, Buffers,
        and init steps run on `m` as it is at that point."""
        for i, item in enumerate(children):
            at = f"{where}.modules[{i}]"
            if not _present(item, at):
                continue
            if _is_step(item):
                run_passes(self.torch, m, [item])
            elif isinstance(item, dict) and item.get("module") in ("Parameter", "Buffer"):
                kind, t, persistent = self.tensor(item, at)
                if kind == "Parameter":
                    m.register_parameter(item["name"], t)
                else:
                    m.register_buffer(item["name"], t, persistent=persistent)
            else:
                if not isinstance(item, dict) or "name" not in item:
                    raise CaseError(f"{at}: missing 'name'")
                setattr(m, item["name"], self.node(item, at))

    def materialise(self):
        torch = self.torch
        for m, in_features, dtype in self.lazies:
            m(torch.zeros(1, in_features, dtype=dtype))


def _matches(torch, m, classes):
    for c in classes:
        c = c.removeprefix("nn.")
        if c == "Module" or (c in CLASSES and isinstance(m, getattr(torch.nn, c))) \
                or type(m).__name__ == c:
            return True
    return False


def _timm_trunc_normal_(torch, t, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """timm's trunc_normal_ (timm/layers/weight_init.py, `_trunc_normal_`): the inverse-CDF
    chain, the same five in-place ops in every release."""
    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    with torch.no_grad():
        lo = norm_cdf((a - mean) / std)
        hi = norm_cdf((b - mean) / std)
        t.uniform_(2 * lo - 1, 2 * hi - 1)
        t.erfinv_()
        t.mul_(std * math.sqrt(2.0))
        t.add_(mean)
        t.clamp_(min=a, max=b)
    return t


def _init(torch, p, spec):
    spec = dict(spec)
    fn = spec.pop("fn").removeprefix("nn.init.")
    if fn == "timm.layers.trunc_normal_":
        _timm_trunc_normal_(torch, p, **spec)
    else:
        getattr(torch.nn.init, fn)(p, **spec)


def _param_or_none(m, name):
    try:
        return m.get_parameter(name)
    except AttributeError:
        return None


def run_passes(torch, model, passes):
    """Init steps on `model` (each on its submodule `on` when given), in order."""
    for p in passes:
        target = model.get_submodule(p["on"]) if "on" in p else model
        if "apply" in p:
            rules = p["apply"]

            def fn(m, rules=rules):
                for rule in rules:
                    classes = rule["module"] if isinstance(rule["module"], list) else [rule["module"]]
                    if not _matches(torch, m, classes):
                        continue
                    for pname, spec in rule.get("init", {}).items():
                        t = _param_or_none(m, pname)
                        if t is not None:
                            _init(torch, t, spec)
                    if rule.get("zero_padding_idx") and getattr(m, "padding_idx", None) is not None:
                        with torch.no_grad():
                            m.weight[m.padding_idx].zero_()
                    break
            target.apply(fn)
        elif "tie" in p:
            # One Parameter under both names (GPT-2's and nanoGPT's weight tying).
            parent, _, attr = p["tie"].rpartition(".")
            owner = target.get_submodule(parent) if parent else target
            setattr(owner, attr, target.get_parameter(p["to"]))
        elif "named_parameters" in p:
            sel = p["named_parameters"]
            for name, t in target.named_parameters():
                if "name" in sel and name != sel["name"]:
                    continue
                if "endswith" in sel and not name.endswith(sel["endswith"]):
                    continue
                if "min_dim" in sel and t.dim() < sel["min_dim"]:
                    continue
                _init(torch, t, p["init"])
        else:
            for pname, spec in p["init"].items():
                _init(torch, target.get_parameter(pname), spec)


def build_model(torch, desc):
    if desc.get("format") != "torch-rng-model/1":
        raise CaseError("model: 'format' must be 'torch-rng-model/1'")
    b = Builder(torch, desc.get("dtype"), desc.get("classes", {}))
    model = torch.nn.Module()
    b.items_into(model, substitute(desc["modules"], {}), "model")
    b.materialise()
    run_passes(torch, model, desc.get("init", []))
    return model


# Folders the real models' code lives in, by the environment variable a case names
# ("python_path"); golden/README.md says how to get them. Never inside the repository.
PATH_DEFAULTS = {"NANOGPT_DIR": "/work/ext/nanoGPT"}


def real_model(expr, path_env=None):
    """The real model: `expr` evaluated with the modules it names imported (as
    tools/record_init.py does), after adding the folder named by $`path_env` to sys.path."""
    import importlib
    import os
    import sys

    if path_env is not None:
        folder = os.environ.get(path_env) or PATH_DEFAULTS.get(path_env)
        if not folder or not os.path.isdir(folder):
            raise CaseError(f"python_path: ${path_env} ({folder!r}) is not a folder")
        if folder not in sys.path:
            sys.path.insert(0, folder)
    env = {}
    for m in re.finditer(r"\b([A-Za-z_][A-Za-z0-9_]*)\.", expr):
        try:
            env[m.group(1)] = importlib.import_module(m.group(1))
        except ImportError:
            pass
    for sub in re.finditer(r"\b([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)", expr):
        parts = sub.group(1).split(".")
        for k in range(len(parts), 1, -1):
            try:
                importlib.import_module(".".join(parts[:k]))
                break
            except ImportError:
                continue
    stdout = sys.stdout
    sys.stdout = sys.stderr  # model code may print
    try:
        return eval(expr, env)  # noqa: S307 (the case file's own expression)
    finally:
        sys.stdout = stdout


def _module_op(cls):
    fields, required = CLASSES[cls]
    table = {k: (kind, REQ if k in required else OMIT) for k, kind in fields.items()}
    if cls not in NO_DTYPE:
        table["dtype"] = ("dtype", None)

    def call(torch, a, gen):
        args = {k: v for k, v in a.items() if v is not OMIT and not (k == "dtype" and v is None)}
        if args.get("dtype") is not None:
            args["dtype"] = str(args["dtype"]).removeprefix("torch.")
        b = Builder(torch)
        m = b.builtin(cls, args, f"nn.{cls}")
        b.materialise()
        return m

    return Op(table, call, "state_dict", generator=False)


def _model(torch, a, gen):
    if a["python"] is not None:
        return real_model(a["python"], a["python_path"])
    return build_model(torch, a["model"])


OPS = {f"nn.{cls}": _module_op(cls) for cls in CLASSES}
# `model`: a description built as above, or with "python" the real model it describes (the
# expression that builds it; "python_path" names an environment variable holding a folder for
# sys.path): the replay builds the description and compares it with that model's state_dict.
OPS["model"] = Op({"model": ("model", REQ), "python": ("str", None), "python_path": ("str", None)},
                  _model, "state_dict", generator=False)
