"""Core ops: seeding, state bytes, rand/randn/uniform_/normal_ (nn.Linear: modules.py; nn.init.*: init.py)."""

from .common import DTYPE, PERMUTE, REQUIRED, SIZE, Op, _target


def _manual_seed(torch, a, gen):
    (gen["generator"] if gen else torch).manual_seed(a["seed"])


def _set_rng_state(torch, a, gen):
    state = torch.tensor(list(a["state"]), dtype=torch.uint8)
    if gen:
        gen["generator"].set_state(state)
    else:
        torch.set_rng_state(state)


OPS = {
    "manual_seed": Op({"seed": ("int", REQUIRED)}, _manual_seed, "none", role="seed"),
    "set_rng_state": Op({"state": ("hex", REQUIRED)}, _set_rng_state, "none", role="seed"),
    "initial_seed": Op({}, lambda torch, a, gen:
                       gen["generator"].initial_seed() if gen else torch.initial_seed(), "int"),
    "get_rng_state": Op({}, lambda torch, a, gen:
                        gen["generator"].get_state() if gen else torch.get_rng_state(), "tensor"),
    "rand": Op({"size": SIZE, "dtype": DTYPE}, lambda torch, a, gen:
               torch.rand(a["size"], dtype=a["dtype"], **gen), "tensor"),
    "randn": Op({"size": SIZE, "dtype": DTYPE}, lambda torch, a, gen:
                torch.randn(a["size"], dtype=a["dtype"], **gen), "tensor"),
    "rand_like": Op({"size": SIZE, "dtype": DTYPE, "permute": PERMUTE}, lambda torch, a, gen:
                    torch.rand_like(_target(torch, a), **gen), "tensor"),
    "randn_like": Op({"size": SIZE, "dtype": DTYPE, "permute": PERMUTE}, lambda torch, a, gen:
                     torch.randn_like(_target(torch, a), **gen), "tensor"),
    "uniform_": Op({"size": SIZE, "dtype": DTYPE, "from": ("float", 0.0), "to": ("float", 1.0),
                    "permute": PERMUTE}, lambda torch, a, gen:
                   _target(torch, a).uniform_(a["from"], a["to"], **gen), "tensor"),
    "normal_": Op({"size": SIZE, "dtype": DTYPE, "mean": ("float", 0.0), "std": ("float", 1.0),
                   "permute": PERMUTE}, lambda torch, a, gen:
                  _target(torch, a).normal_(a["mean"], a["std"], **gen), "tensor"),
    "normal": Op({"mean": ("float", REQUIRED), "std": ("float", REQUIRED), "size": SIZE,
                  "dtype": DTYPE}, lambda torch, a, gen:
                 torch.normal(a["mean"], a["std"], a["size"], dtype=a["dtype"], **gen), "tensor"),
}
