#!/usr/bin/env python3
"""Dump PyTorch's erfinv inputs and outputs for the measure_erfinv test in src/math/special.rs.

Run with an older release (where trunc_normal_ uses erfinv, before 2.12):
    ~/torch-venvs/2.5.1/bin/python tools/measure_erfinv.py /tmp/erfinv
    TORCH_RNG_ERFINV_DIR=/tmp/erfinv cargo test --release --lib measure_erfinv -- --ignored --nocapture

Writes x32.bin/y32.bin (5,000,000 float32: 4M uniform on (-1, 1), 1M on the default
trunc_normal_ range 2*ncdf(+-2)-1) and x64.bin/y64.bin (1,000,000 float64), raw little-endian.
On x86 wheels erfinv is MKL's vsErfInv/vdErfInv, whose code path MKL picks from the host CPU.
"""

import sys
from pathlib import Path

import torch


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    x32 = torch.rand(4_000_000) * 2 - 1
    t = torch.empty(1_000_000).uniform_(-0.9544997361036416, 0.9544997361036416)
    x32 = torch.cat([x32, t])
    x64 = torch.rand(1_000_000, dtype=torch.float64) * 2 - 1
    for name, x in (("32", x32), ("64", x64)):
        (out / f"x{name}.bin").write_bytes(x.numpy().tobytes())
        (out / f"y{name}.bin").write_bytes(torch.erfinv(x).numpy().tobytes())
    print(f"torch {torch.__version__}: wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/erfinv")
