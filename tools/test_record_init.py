#!/usr/bin/env python3
"""Tests of tools/record_init.py's refusals (and a few acceptances), with their messages.

Run: ~/torch-venv/bin/python tools/test_record_init.py   (exit status 0 when all pass; prints
"N passed, N failed"). Needs only PyTorch.
"""

import inspect
import json
import os
import sys
import traceback

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import record_init as R  # noqa: E402

HERE = os.path.basename(__file__)
OUTSIDE = torch.ones(3)  # created before any recording
_G = torch.Generator()
_G.manual_seed(9)
torch.rand(5, generator=_G)
FOREIGN_STATE = _G.get_state()  # a state the recording never saw


def line_of(fn, text):
    """The file line of the first source line of `fn` that contains `text`."""
    src, start = inspect.getsourcelines(fn)
    for i, l in enumerate(src):
        if text in l:
            return start + i
    raise AssertionError(text)


def refused(fn, *parts):
    try:
        R.record(fn, seed=0)
    except R.RecordError as e:
        msg = str(e)
        for p in parts:
            assert p in msg, f"{p!r} not in message: {msg}"
        return msg
    raise AssertionError("not refused")


# --- refusals -----------------------------------------------------------------------------------


def data_dependent():
    m = nn.Linear(3, 2)
    if m.weight.sum() > 0:  # depends on the drawn values
        m.extra = nn.Parameter(torch.randn(2))
    else:
        m.extra = nn.Parameter(torch.rand(2))
    return m


def test_data_dependent_control_flow():
    refused(data_dependent, "the program depends on the seed", "with seed 0", "with seed 7919")


def unexpressible_value():
    m = nn.Module()
    m.w = nn.Parameter(torch.randn(4).sin())
    return m


def test_unexpressible_op_names_op_and_line():
    line = line_of(unexpressible_value, ".sin()")
    refused(unexpressible_value, "aten.sin.default", f"{HERE}:{line}", "reaches the state_dict", "depends on random values")


def unexpressible_draw():
    m = nn.Linear(2, 2)
    torch.multinomial(torch.ones(4), 2)
    return m


def test_unexpressible_draw_names_op_and_line():
    line = line_of(unexpressible_draw, "multinomial")
    refused(unexpressible_draw, "aten.multinomial.default", f"{HERE}:{line}", "draws random numbers")


def uninitialised():
    m = nn.Module()
    m.w = nn.Parameter(torch.empty(3))
    return m


def test_uninitialised_memory():
    line = line_of(uninitialised, "torch.empty")
    refused(uninitialised, "state_dict entry 'w'", "nothing wrote", f"{HERE}:{line}")


def foreign_generator_state():
    m = nn.Linear(2, 2)
    torch.set_rng_state(FOREIGN_STATE)
    m.b = nn.Parameter(torch.randn(3))
    return m


def test_generator_state_from_outside():
    line = line_of(foreign_generator_state, "torch.randn(3)")
    refused(foreign_generator_state, "torch.default_generator changed", f"{HERE}:{line}", "cannot express")


def outside_tensor():
    m = nn.Module()
    m.w = nn.Parameter(OUTSIDE.clone())
    return m


def test_tensor_from_before_the_recording():
    refused(outside_tensor, "created outside the recording")


def bad_alpha():
    m = nn.Module()
    x = torch.randn(3)
    x.add_(torch.ones(3), alpha=0.3)
    m.w = nn.Parameter(x)
    return m


def test_add_with_alpha_not_a_power_of_two():
    refused(bad_alpha, "alpha=0.3", "not a power of two")


def left_on_meta():
    with torch.device("meta"):
        return nn.Linear(2, 2)


def test_model_left_on_meta():
    refused(left_on_meta, "still on the meta device")


def not_a_model():
    return torch.randn(3)


def test_not_a_module():
    refused(not_a_model, "not an nn.Module")


# --- acceptances ---------------------------------------------------------------------------------


def unused_unsupported():
    m = nn.Linear(3, 2)
    torch.randn(5).sin()  # never reaches the state_dict
    m.register_buffer("mask", torch.tril(torch.ones(3, 3)))  # seed-independent: a literal
    return m


def test_unneeded_ops_are_dropped_and_constants_kept():
    p = R.record(unused_unsupported)
    ops = [s.get("op") for s in p["steps"]]
    assert "literal" in ops, ops
    assert "opaque" not in json.dumps(p)
    assert p["state_dict"][-1][0] == "mask"


def gpt2_like(n_layer):
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln = nn.LayerNorm(16)
            self.fc = nn.Linear(16, 64)
            self.proj = nn.Linear(64, 16)

    m = nn.Module()
    m.wte = nn.Embedding(50, 16)
    m.h = nn.ModuleList([Block() for _ in range(n_layer)])
    for name, p in m.named_parameters():
        if name.endswith("weight") and p.dim() == 2:
            nn.init.normal_(p, std=0.02)
    return m


def test_repeated_layers_fold():
    small = R.record(lambda: gpt2_like(2))
    big = R.record(lambda: gpt2_like(12))
    # the steps fold into repeats: only the state_dict list and the checks grow with the layers
    a, b = len(json.dumps(small["steps"])), len(json.dumps(big["steps"]))
    assert b <= a + 64, (a, b)
    assert len(big["state_dict"]) == 1 + 6 * 12


def main():
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_")]
    passed = failed = 0
    for name, fn in tests:
        try:
            fn()
            passed += 1
            print(f"ok   {name}")
        except Exception:
            failed += 1
            print(f"FAIL {name}")
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
