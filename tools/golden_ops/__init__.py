"""Op tables for tools/gen_golden.py, one module per area; see common.py."""

import importlib
import pkgutil

from .common import CaseError, KINDS, REQUIRED, Op  # noqa: F401


def load_ops():
    """Merge the OPS tables of every module in this package; an op defined twice is an error."""
    ops = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "common":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, op in getattr(module, "OPS", {}).items():
            if name in ops:
                raise RuntimeError(f"op {name!r} is defined twice (second time in {info.name})")
            ops[name] = op
    return ops
