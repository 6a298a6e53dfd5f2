"""Stateless Philox ops of PyTorch 2.15 (torch._philox_*; torch.func._random wraps them).

They take a key tensor instead of a generator: `key` is a tensor argument as in samplers.py
(a literal {"dtype": "uint64", "data": [[seed, offset], ...]} whose integers are kept exact, or
{"step": K} for an earlier step's output, e.g. a `_philox_key_split`). The ops draw from no
generator (role "none": a case needs no manual_seed before them) and accept no `generator`.

| op | fields | call |
|---|---|---|
| `_philox_uniform_` | size, dtype, permute, key, low (0), high (1) | `torch._philox_uniform_(empty(...), key, low, high)` |
| `_philox_normal_` | size, dtype, permute, key, mean (0), std (1) | `torch._philox_normal_(empty(...), key, mean, std)` |
| `_philox_randint_` | size, dtype, permute, key, low (null), high (null) | `torch._philox_randint_(empty(...), key, low, high)` |
| `_philox_key_split` | key, num_splits | `torch._philox_key_split(key, num_splits)` |
| `_philox_key_fold_in` | key, data (an integer or a tensor argument) | `torch._philox_key_fold_in(key, data)` |
"""

from .common import KINDS, PERMUTE, REQUIRED, SIZE, Op, _target
from .samplers import _resolve, _tensor_arg


def _int_or_tensor(v):
    if isinstance(v, (dict, list)):
        return _tensor_arg(v)
    return KINDS["int"](v)


def _opt_int(v):
    if v is None:
        return None
    return KINDS["int"](v)


KINDS.setdefault("int_or_tensor", _int_or_tensor)
KINDS.setdefault("opt_int", _opt_int)

KEY = ("tensor_arg", REQUIRED)
TARGET = {"size": SIZE, "dtype": ("dtype", None), "permute": PERMUTE}


def _key(torch, a):
    return _resolve(torch, a["key"], a["previous"])


def _fold_in(torch, a, gen):
    data = a["data"]
    if isinstance(data, tuple):
        data = _resolve(torch, data, a["previous"])
    return torch._philox_key_fold_in(_key(torch, a), data)


def _pure(fields, call):
    op = Op(fields, call, "tensor", role="none", generator=False)
    op.previous = True
    return op


OPS = {
    "_philox_uniform_": _pure({**TARGET, "key": KEY, "low": ("float", 0.0),
                               "high": ("float", 1.0)}, lambda torch, a, gen:
                              torch._philox_uniform_(_target(torch, a), _key(torch, a),
                                                     a["low"], a["high"])),
    "_philox_normal_": _pure({**TARGET, "key": KEY, "mean": ("float", 0.0),
                              "std": ("float", 1.0)}, lambda torch, a, gen:
                             torch._philox_normal_(_target(torch, a), _key(torch, a),
                                                   a["mean"], a["std"])),
    "_philox_randint_": _pure({**TARGET, "key": KEY, "low": ("opt_int", None),
                               "high": ("opt_int", None)}, lambda torch, a, gen:
                              torch._philox_randint_(_target(torch, a), _key(torch, a),
                                                     a["low"], a["high"])),
    "_philox_key_split": _pure({"key": KEY, "num_splits": ("int", REQUIRED)},
                               lambda torch, a, gen:
                               torch._philox_key_split(_key(torch, a), a["num_splits"])),
    "_philox_key_fold_in": _pure({"key": KEY, "data": ("int_or_tensor", REQUIRED)}, _fold_in),
}
