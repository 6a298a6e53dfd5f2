"""Shared pieces of the golden op tables: field kinds, the Op record, helpers.

Each module of this package (other than this one) defines ``OPS``, a dict from the case
format's op name to an ``Op``; ``tools/gen_golden.py`` merges them. Add ops to the module of
their area (core, samplers, init, modules) so that areas do not edit each other's tables.
"""

import math


class CaseError(Exception):
    """The case file itself is wrong (not something PyTorch rejected)."""


DTYPES = ("float32", "float64", "float16", "bfloat16",
          "int64", "int32", "int16", "int8", "uint8", "bool", "uint16", "uint32", "uint64")

# JSON has no non-finite numbers, so float fields also accept these strings.
NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


# ---------------------------------------------------------------------------
# Field kinds: each checks a JSON value and converts it to the Python argument.
# ---------------------------------------------------------------------------

def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _size(v):
    if not isinstance(v, list) or not all(_is_int(x) for x in v):
        raise CaseError("must be a list of integers")
    return list(v)


def _dtype(v):
    if v not in DTYPES:
        raise CaseError(f"unknown dtype {v!r} (expected one of {', '.join(DTYPES)})")
    return v


def _float(v):
    if isinstance(v, str):
        if v not in NONFINITE:
            raise CaseError(f"must be a number or one of {sorted(NONFINITE)}, got {v!r}")
        return NONFINITE[v]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise CaseError(f"must be a number, got {v!r}")
    return v


def _int(v):
    if not _is_int(v):
        raise CaseError(f"must be an integer, got {v!r}")
    return v


def _bool(v):
    if not isinstance(v, bool):
        raise CaseError(f"must be true or false, got {v!r}")
    return v


def _str(v):
    if not isinstance(v, str):
        raise CaseError(f"must be a string, got {v!r}")
    return v


def _permute(v):
    return _size(v)  # checked against `size` in validate_step


def _hex(v):
    if not isinstance(v, str) or len(v) % 2 or v.strip("0123456789abcdef"):
        raise CaseError("must be an even-length lowercase hex string")
    return bytes.fromhex(v)


def _name(v):
    if not isinstance(v, str) or not v:
        raise CaseError("must be a non-empty string")
    return v


KINDS = {"size": _size, "dtype": _dtype, "float": _float, "int": _int, "bool": _bool,
         "str": _str, "permute": _permute, "hex": _hex, "generator": _name}

REQUIRED = object()


# ---------------------------------------------------------------------------
# The op table. Each entry names its fields (kind, default), the PyTorch call and
# how its result is recorded. To add an op, add a row; `call(torch, args, gen)`
# gets the converted arguments (defaults filled in, dtype as a torch.dtype or
# None) and `gen`, a dict that is {"generator": g} for a named generator and {}
# otherwise. It must do nothing but the PyTorch call: whatever it raises becomes
# an "error" output.
#
# role: "seed" ops (re)start a generator; "use" ops read or advance it; "none" ops draw
# nothing (the stateless Philox ops). A case must seed the default generator before any "use"
# of it.
# ---------------------------------------------------------------------------

class Op:
    def __init__(self, fields, call, output, role="use", generator=True):
        self.fields = dict(fields)
        if generator:
            self.fields["generator"] = ("generator", None)
        self.call = call
        self.output = output  # "none", "tensor", "state_dict" or "int"
        self.role = role


SIZE = ("size", REQUIRED)
DTYPE = ("dtype", None)
PERMUTE = ("permute", None)


def _target(torch, a):
    """The tensor an in-place or *_like op works on (README: `permute`)."""
    t = torch.empty(a["size"], dtype=a["dtype"])
    if a["permute"] is not None:
        t = t.permute(*a["permute"])
    return t
