"""Module ops: ``nn.<Class>`` for the built-in modules and ``model`` (a model description
inline; the format is in README.md, "Model descriptions"). Modules take no generator.

This file is the PyTorch side of ``src/modules/model/``: its class tables are read from
``nn_classes.json``, which the Rust registry (``src/modules/registry.rs``) generates. A field
left out is left out of the PyTorch call too, so PyTorch's own default applies.
"""

import json
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


class Builder:
    """Builds a model description in PyTorch, in the order a Python __init__ would."""

    def __init__(self, torch, dtype=None, classes=None):
        self.torch = torch
        self.dtype = dtype
        self.classes = classes or {}
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
        node.pop("name", None)
        node.pop("repeat", None)
        cls = node.pop("module", None)
        if not isinstance(cls, str):
            raise CaseError(f"{where}: missing or bad 'module'")
        cls = cls.removeprefix("nn.")
        if cls in CLASSES:
            return self.builtin(cls, node, where)
        if cls in STATELESS:
            return _rejecting(lambda: getattr(self.torch.nn, cls)(**node))
        if cls in CONTAINERS:
            children = node.pop("modules", [])
            if node:
                raise CaseError(f"{where}: unknown field(s) {sorted(node)} for {cls}")
            return self.container(cls, children, where)
        if cls in self.classes:
            if node:
                raise CaseError(f"{where}: unknown field(s) {sorted(node)} for {cls}")
            if cls in self.stack:
                raise CaseError(f"{where}: class cycle {' -> '.join(self.stack + [cls])}")
            self.stack.append(cls)
            m = self.container(cls, self.classes[cls], f"classes.{cls}")
            self.stack.pop()
            return m
        raise CaseError(f"{where}: unknown module {cls!r}")

    def tensor(self, item, where):
        torch = self.torch
        item = dict(item)
        kind = item.pop("module").removeprefix("nn.")
        item.pop("name")
        size = _ints(item.pop("size"))
        init = item.pop("init", "zeros")
        persistent = item.pop("persistent", True)
        d = item.pop("dtype", None) or self.dtype
        if item:
            raise CaseError(f"{where}: unknown field(s) {sorted(item)} for {kind}")
        dtype = getattr(torch, d) if d else None
        t = getattr(torch, init)(size, dtype=dtype)
        return kind, (torch.nn.Parameter(t) if kind == "Parameter" else t), persistent

    def container(self, cls, children, where):
        nn = self.torch.nn
        if not isinstance(children, list):
            raise CaseError(f"{where}: 'modules' must be a list")
        if cls in ("Sequential", "ModuleList", "ModuleDict"):
            built = []
            for i, item in enumerate(children):
                repeat = item.get("repeat", 1) if isinstance(item, dict) else 1
                for _ in range(repeat):
                    name = item.get("name", str(len(built)))
                    built.append((name, self.node(item, f"{where}.modules[{i}]")))
            if cls == "ModuleList":
                return nn.ModuleList([m for _, m in built])
            if cls == "ModuleDict":
                return nn.ModuleDict(OrderedDict(built))
            return nn.Sequential(OrderedDict(built))
        m = (nn.Module if cls == "Module" else type(cls, (nn.Module,), {}))()
        for i, item in enumerate(children):
            at = f"{where}.modules[{i}]"
            if isinstance(item, dict) and item.get("module") in ("Parameter", "Buffer"):
                kind, t, persistent = self.tensor(item, at)
                if kind == "Parameter":
                    m.register_parameter(item["name"], t)
                else:
                    m.register_buffer(item["name"], t, persistent=persistent)
            else:
                if not isinstance(item, dict) or "name" not in item:
                    raise CaseError(f"{at}: missing 'name'")
                setattr(m, item["name"], self.node(item, at))
        return m

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


def _init(torch, p, spec):
    spec = dict(spec)
    fn = spec.pop("fn")
    getattr(torch.nn.init, fn)(p, **spec)


def run_passes(torch, model, passes):
    for p in passes:
        if "apply" in p:
            rules = p["apply"]

            def fn(m, rules=rules):
                for rule in rules:
                    classes = rule["module"] if isinstance(rule["module"], list) else [rule["module"]]
                    if not _matches(torch, m, classes):
                        continue
                    for pname, spec in rule.get("init", {}).items():
                        t = m._parameters.get(pname)
                        if t is not None:
                            _init(torch, t, spec)
                    if rule.get("zero_padding_idx") and getattr(m, "padding_idx", None) is not None:
                        with torch.no_grad():
                            m.weight[m.padding_idx].zero_()
                    break
            model.apply(fn)
        elif "tie" in p:
            # GPT-2's weight tying: one Parameter under both names.
            parent, _, attr = p["tie"].rpartition(".")
            setattr(model.get_submodule(parent), attr, model.get_parameter(p["to"]))
        else:
            sel = p["named_parameters"]
            for name, t in model.named_parameters():
                if "name" in sel and name != sel["name"]:
                    continue
                if "endswith" in sel and not name.endswith(sel["endswith"]):
                    continue
                if "min_dim" in sel and t.dim() < sel["min_dim"]:
                    continue
                _init(torch, t, p["init"])


def build_model(torch, desc):
    if desc.get("format") != "torch-rng-model/1":
        raise CaseError("model: 'format' must be 'torch-rng-model/1'")
    b = Builder(torch, desc.get("dtype"), desc.get("classes", {}))
    model = b.container("Module", desc["modules"], "model")
    b.materialise()
    run_passes(torch, model, desc.get("init", []))
    return model


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


OPS = {f"nn.{cls}": _module_op(cls) for cls in CLASSES}
OPS["model"] = Op({"model": ("model", REQ)}, lambda torch, a, gen: build_model(torch, a["model"]),
                  "state_dict", generator=False)
