"""Sampler ops: randperm, randint/random_, bernoulli, dropout, exponential_/geometric_/
log_normal_/cauchy_, multinomial, normal with tensor arguments (golden/README.md lists the
fields).

Tensor arguments (`input`, `p` of bernoulli_, `mean`/`std` of the normal overloads) are JSON
objects: {"dtype": D, "data": nested list} builds `torch.tensor(data, dtype=D)` (numbers, or
"inf"/"-inf"/"nan"), and {"step": K} (optionally with "output": NAME for a multi-output step)
is the result of step K of the same case.
"""

from .common import DTYPES, KINDS, PERMUTE, REQUIRED, SIZE, CaseError, Op, _target


def _tensor_arg(v):
    if isinstance(v, list):
        # A bare nested list is torch.tensor(data): the dtype is inferred as Python infers it.
        return ("literal", None, _tensor_arg({"dtype": "float32", "data": v})[2])
    if not isinstance(v, dict):
        raise CaseError(f"must be a tensor object ({{'dtype', 'data'}} or {{'step'}}), got {v!r}")
    if "step" in v:
        if set(v) - {"step", "output"} or not isinstance(v["step"], int) or v["step"] < 0:
            raise CaseError(f"a step reference is {{'step': K[, 'output': NAME]}}, got {v!r}")
        if "output" in v and not isinstance(v["output"], str):
            raise CaseError("'output' must be a string")
        return ("step", v["step"], v.get("output"))
    if set(v) != {"dtype", "data"}:
        raise CaseError(f"a literal tensor is {{'dtype': D, 'data': [...]}}, got keys {sorted(v)}")
    if v["dtype"] not in DTYPES:
        raise CaseError(f"unknown dtype {v['dtype']!r}")

    def conv(x):
        if isinstance(x, list):
            return [conv(y) for y in x]
        try:
            return KINDS["float"](x)  # a number, or one of the non-finite strings
        except CaseError as e:
            raise CaseError(f"tensor entry: {e}") from None

    return ("literal", v["dtype"], conv(v["data"]))


def _float_or_tensor(v):
    if isinstance(v, (dict, list)):
        return _tensor_arg(v)
    return KINDS["float"](v)


def _int_or_null(v):
    if v is None:
        return ("none",)
    return KINDS["int"](v)


KINDS.setdefault("tensor_arg", _tensor_arg)
KINDS.setdefault("float_or_tensor", _float_or_tensor)
KINDS.setdefault("int_or_null", _int_or_null)


class _Named:
    """Several named outputs of one step, recorded like a state_dict (in order)."""

    def __init__(self, items):
        self.items = list(items)

    def state_dict(self):
        return dict(self.items)


def _resolve(torch, spec, previous):
    if spec[0] == "literal":
        if spec[1] is None:
            return torch.tensor(spec[2])
        return torch.tensor(spec[2], dtype=getattr(torch, spec[1]))
    _, k, name = spec
    if k >= len(previous):
        raise CaseError(f"step reference {k} is not an earlier step")
    value = previous[k]
    if isinstance(value, _Named):
        if name is None:
            raise CaseError(f"step {k} has several outputs; name one with 'output'")
        return dict(value.items)[name]
    if name is not None:
        raise CaseError(f"step {k} has a single output")
    if not isinstance(value, torch.Tensor):
        raise CaseError(f"step {k} did not produce a tensor")
    return value


def _op(fields, call, output="tensor", previous=False):
    op = Op(fields, call, output)
    op.previous = previous
    return op


def _random_(torch, a, gen):
    t = _target(torch, a)
    if a["from"] is None and a["to"] is None:
        return t.random_(**gen)
    if a["from"] is None:
        if a["to"] == ("none",):
            raise CaseError("'to': null needs 'from'")
        return t.random_(a["to"], **gen)
    to = None if a["to"] == ("none",) else a["to"]
    return t.random_(a["from"], to, **gen)


def _bernoulli_(torch, a, gen):
    t = _target(torch, a)
    p = a["p"]
    if isinstance(p, tuple):
        return t.bernoulli_(_resolve(torch, p, a["previous"]), **gen)
    return t.bernoulli_(p, **gen)


def _bernoulli(torch, a, gen):
    x = _resolve(torch, a["input"], a["previous"])
    if a["p"] is None:
        return torch.bernoulli(x, **gen)
    return torch.bernoulli(x, a["p"], **gen)


def _dropout(torch, a, gen):
    x = _resolve(torch, a["input"], a["previous"]).clone()
    return torch.nn.functional.dropout(x, a["p"], training=a["training"], inplace=a["inplace"])


def _dropout_module(torch, a, gen):
    x = _resolve(torch, a["input"], a["previous"]).clone()
    m = torch.nn.Dropout(a["p"], inplace=a["inplace"])
    m.train()
    return m(x)


def _native_dropout(torch, a, gen):
    x = _resolve(torch, a["input"], a["previous"])
    out, mask = torch.native_dropout(x, a["p"], a["train"])
    return _Named([("output", out), ("mask", mask)])


def _multinomial(torch, a, gen):
    x = _resolve(torch, a["input"], a["previous"])
    return torch.multinomial(x, a["num_samples"], a["replacement"], **gen)


INPLACE = {"size": SIZE, "dtype": ("dtype", None), "permute": PERMUTE}
TENSOR = ("tensor_arg", REQUIRED)

OPS = {
    "randperm": _op({"n": ("int", REQUIRED), "dtype": ("dtype", None)}, lambda torch, a, gen:
                    torch.randperm(a["n"], dtype=a["dtype"] or torch.int64, **gen)),
    "randint": _op({"low": ("int", 0), "high": ("int", REQUIRED), "size": SIZE,
                    "dtype": ("dtype", None)}, lambda torch, a, gen:
                   torch.randint(a["low"], a["high"], a["size"], dtype=a["dtype"] or torch.int64,
                                 **gen)),
    "randint_like": _op({**INPLACE, "low": ("int", 0), "high": ("int", REQUIRED)},
                        lambda torch, a, gen: torch.randint_like(
                            _target(torch, a), a["low"], a["high"], **gen)),
    "random_": _op({**INPLACE, "from": ("int", None), "to": ("int_or_null", None)}, _random_),
    "bernoulli_": _op({**INPLACE, "p": ("float_or_tensor", 0.5)}, _bernoulli_, previous=True),
    "bernoulli": _op({"input": TENSOR, "p": ("float", None)}, _bernoulli, previous=True),
    "nn.functional.dropout": Op({"input": TENSOR, "p": ("float", 0.5),
                                 "training": ("bool", True), "inplace": ("bool", False)},
                                _dropout, "tensor", generator=False),
    "nn.Dropout": Op({"input": TENSOR, "p": ("float", 0.5), "inplace": ("bool", False)},
                     _dropout_module, "tensor", generator=False),
    "native_dropout": Op({"input": TENSOR, "p": ("float", REQUIRED), "train": ("bool", True)},
                         _native_dropout, "state_dict", generator=False),
    "exponential_": _op({**INPLACE, "lambd": ("float", 1.0)}, lambda torch, a, gen:
                        _target(torch, a).exponential_(a["lambd"], **gen)),
    "geometric_": _op({**INPLACE, "p": ("float", REQUIRED)}, lambda torch, a, gen:
                      _target(torch, a).geometric_(a["p"], **gen)),
    "log_normal_": _op({**INPLACE, "mean": ("float", 1.0), "std": ("float", 2.0)},
                       lambda torch, a, gen: _target(torch, a).log_normal_(a["mean"], a["std"],
                                                                         **gen)),
    "cauchy_": _op({**INPLACE, "median": ("float", 0.0), "sigma": ("float", 1.0)},
                   lambda torch, a, gen: _target(torch, a).cauchy_(a["median"], a["sigma"],
                                                                 **gen)),
    "multinomial": _op({"input": TENSOR, "num_samples": ("int", REQUIRED),
                        "replacement": ("bool", False)}, _multinomial, previous=True),
    "normal.Tensor_Tensor": _op({"mean": TENSOR, "std": TENSOR}, lambda torch, a, gen:
                                torch.normal(_resolve(torch, a["mean"], a["previous"]),
                                             _resolve(torch, a["std"], a["previous"]), **gen),
                                previous=True),
    "normal.Tensor_float": _op({"mean": TENSOR, "std": ("float", 1.0)}, lambda torch, a, gen:
                               torch.normal(_resolve(torch, a["mean"], a["previous"]), a["std"],
                                            **gen), previous=True),
    "normal.float_Tensor": _op({"mean": ("float", 0.0), "std": TENSOR}, lambda torch, a, gen:
                               torch.normal(a["mean"], _resolve(torch, a["std"], a["previous"]),
                                            **gen), previous=True),
}

# The dropouts take no generator (they draw from the default one); they read earlier steps too.
OPS["nn.functional.dropout"].previous = True
OPS["nn.Dropout"].previous = True
OPS["native_dropout"].previous = True
