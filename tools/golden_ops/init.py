"""nn.init ops: every torch.nn.init function on torch.empty(size, dtype)[.permute(...)].

Python's own ZeroDivisionError or OverflowError inside torch/nn/init.py (xavier_* on a
(0, 0) tensor, dirac_ with groups=0, trunc_normal_ with std=0, sparse_ with an infinite
sparsity) is PyTorch rejecting the call, so it is re-raised as a ValueError and recorded as an "error" output like any other rejection.
"""

from .common import DTYPE, PERMUTE, REQUIRED, SIZE, Op, _target


def _init(fn_name, *names):
    """A call of torch.nn.init.<fn_name>(tensor, **{name: args[name]})."""
    def call(torch, a, gen):
        fn = getattr(torch.nn.init, fn_name)
        try:
            return fn(_target(torch, a), **{n: a[n] for n in names}, **gen)
        except (ZeroDivisionError, OverflowError) as e:
            raise ValueError(f"{type(e).__name__}: {e}") from None
    return call


def _op(fn_name, params, generator=True):
    fields = {"size": SIZE, "dtype": DTYPE, "permute": PERMUTE}
    fields.update(params)
    return Op(fields, _init(fn_name, *params), "tensor", generator=generator)


KAIMING = {"a": ("float", 0.0), "mode": ("str", "fan_in"), "nonlinearity": ("str", "leaky_relu")}

OPS = {
    "nn.init.uniform_": _op("uniform_", {"a": ("float", 0.0), "b": ("float", 1.0)}),
    "nn.init.normal_": _op("normal_", {"mean": ("float", 0.0), "std": ("float", 1.0)}),
    "nn.init.trunc_normal_": _op("trunc_normal_", {"mean": ("float", 0.0), "std": ("float", 1.0),
                                                   "a": ("float", -2.0), "b": ("float", 2.0)}),
    "nn.init.orthogonal_": _op("orthogonal_", {"gain": ("float", 1)}),
    "nn.init.sparse_": _op("sparse_", {"sparsity": ("float", REQUIRED), "std": ("float", 0.01)}),
    "nn.init.constant_": _op("constant_", {"val": ("float", REQUIRED)}, generator=False),
    "nn.init.ones_": _op("ones_", {}, generator=False),
    "nn.init.zeros_": _op("zeros_", {}, generator=False),
    "nn.init.eye_": _op("eye_", {}, generator=False),
    "nn.init.dirac_": _op("dirac_", {"groups": ("int", 1)}, generator=False),
    "nn.init.xavier_uniform_": _op("xavier_uniform_", {"gain": ("float", 1.0)}),
    "nn.init.xavier_normal_": _op("xavier_normal_", {"gain": ("float", 1.0)}),
    "nn.init.kaiming_uniform_": _op("kaiming_uniform_", KAIMING),
    "nn.init.kaiming_normal_": _op("kaiming_normal_", KAIMING),
}
