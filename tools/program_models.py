"""Small models that exercise what the recorder must express beyond the real libraries' models:
generator handling, views, casts, arithmetic on reduced floats, the meta-device pattern and the
rarer nn.init functions. `tools/gen_programs.py` records each as a program and builds it in real
PyTorch for the results file. Only APIs of PyTorch 2.0 are used, except where marked.
"""

import math

import torch
import torch.nn as nn


class Generators(nn.Module):
    """manual_seed, get/set_rng_state, fork_rng, explicit Generators, discarded draws, a tie."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 5)
        torch.rand(100)  # drawn and discarded: it still moves the generator
        state = torch.get_rng_state()
        self.b = nn.Linear(5, 4)
        torch.set_rng_state(state)  # b's draws again, into c
        self.c = nn.Linear(5, 4)
        with torch.random.fork_rng():
            torch.randn(7)
            self.d = nn.Parameter(torch.randn(3, 3))
        g = torch.Generator()
        g.manual_seed(3)
        self.e = nn.Parameter(torch.empty(4, 20))
        nn.init.normal_(self.e, std=0.5, generator=g)
        self.f = nn.Parameter(torch.randn(2, 17, generator=g))
        g2 = torch.Generator()  # never seeded: PyTorch's fixed default seed
        self.h = nn.Parameter(torch.rand(5, generator=g2))
        torch.manual_seed(1234567)
        self.i = nn.Linear(3, 3)
        self.tied = nn.Linear(6, 5, bias=False)
        self.tied.weight = self.a.weight
        nn.init.uniform_(self.a.weight, -0.1, 0.1)  # redraws the shared tensor once


class Views(nn.Module):
    """Writes and draws through views: slices, selects, transposes, channels-last; index puts."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.empty(20, 30))
        with torch.no_grad():
            self.w.normal_()
            self.w[:, 5:25].normal_(0.0, 0.5)  # non-contiguous: per-element path
            self.w[3].uniform_(-2, 2)  # contiguous row at an offset
            self.w[4:6].normal_(1.0, 0.1)  # contiguous, 60 elements: fill path
            self.w.t()[2:9, 1:4].uniform_()  # transposed
            self.w[::2, ::3].mul_(2.0)
            self.w[7] = torch.tensor(3.5)
            self.w[8, :4] = torch.tensor([1.0, 2.0, 3.0, 4.0])
            self.w[9].copy_(self.w[10])
        self.conv = nn.Conv2d(3, 8, 3).to(memory_format=torch.channels_last)
        with torch.no_grad():
            self.conv.weight.normal_(0.0, 0.02)  # channels-last: memory order, per-element
            self.conv.weight[:, 1].zero_()
        self.emb = nn.Embedding(10, 4, padding_idx=2)
        with torch.no_grad():
            self.emb.weight.data.normal_(mean=0.0, std=0.02)
            self.emb.weight.data[self.emb.padding_idx].zero_()
        self.ints = nn.Parameter(torch.randint(-5, 100, (4, 5)), requires_grad=False)
        self.perm = nn.Parameter(torch.randperm(17), requires_grad=False)
        self.register_buffer("rnd", torch.empty(3, 4, dtype=torch.int32).random_(0, 7))


class Arithmetic(nn.Module):
    """Scalar and tensor arithmetic, casts and clamps on float32/float16/bfloat16/float64."""

    def __init__(self):
        super().__init__()
        d = 8
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.pos = nn.Parameter(torch.zeros(1, 5, d).normal_(std=0.02))
        for name, dt in (("h", torch.float16), ("b", torch.bfloat16), ("f", torch.float32), ("d", torch.float64)):
            x = torch.randn(40, dtype=dt)
            x.mul_(0.1).add_(0.3).div_(3.0).sub_(1e-3)
            x.mul_(torch.tensor(0.7)).add_(torch.tensor(0.25, dtype=torch.float32))
            x.add_(torch.full((40,), 0.125, dtype=dt), alpha=2)
            x.clamp_(-0.05, 0.2)
            setattr(self, f"arith_{name}", nn.Parameter(x, requires_grad=False))
            y = (torch.rand(3, 7) * 3 - 1).to(dt) / 7
            setattr(self, f"cast_{name}", nn.Parameter(y, requires_grad=False))
        self.lin = nn.Linear(4, 3).half()
        self.lin2 = nn.Linear(4, 3, dtype=torch.bfloat16)
        with torch.no_grad():
            self.lin2.weight.mul_(math.sqrt(2.0))
            self.lin2.bias.fill_(0.1)
        self.register_buffer("count", torch.tensor(0, dtype=torch.long))
        self.register_buffer("scale", torch.ones(3) * 0.5 + torch.arange(3.0))


class InitFunctions(nn.Module):
    """The nn.init functions the libraries' models do not use."""

    def __init__(self):
        super().__init__()
        self.t = nn.Parameter(torch.empty(30, 20))
        nn.init.trunc_normal_(self.t, std=0.02)  # rejection sampling from 2.12
        self.x = nn.Parameter(torch.empty(6, 4))
        nn.init.xavier_uniform_(self.x, gain=nn.init.calculate_gain("relu"))
        self.xn = nn.Parameter(torch.empty(6, 4, 3))
        nn.init.xavier_normal_(self.xn)
        self.k = nn.Parameter(torch.empty(8, 4, 3, 3))
        nn.init.kaiming_normal_(self.k, mode="fan_out", nonlinearity="relu")
        self.s = nn.Parameter(torch.empty(10, 6))
        nn.init.sparse_(self.s, sparsity=0.3)
        self.e = nn.Parameter(torch.empty(4, 6))
        nn.init.eye_(self.e)
        self.dr = nn.Parameter(torch.empty(6, 2, 3, 3))
        nn.init.dirac_(self.dr, groups=2)
        self.c = nn.Parameter(torch.empty(5))
        nn.init.constant_(self.c, 0.3)
        self.ku = nn.Parameter(torch.empty(20, 10).t())  # a transposed parameter
        nn.init.kaiming_uniform_(self.ku, a=math.sqrt(5))


class MetaBuilt(nn.Module):
    """Built on the meta device, then materialised and initialised (torchtitan, FSDP)."""

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(8, 16)
        self.norm = nn.LayerNorm(16)
        self.l2 = nn.Linear(16, 4)

    def init_weights(self):
        for m in (self.l1, self.l2):
            m.reset_parameters()
        nn.init.normal_(self.l2.weight, std=0.02)
        self.norm.reset_parameters()


def meta_built():
    with torch.device("meta"):  # torch.device as a context manager: 2.0+
        m = MetaBuilt()
    m.to_empty(device="cpu")
    m.init_weights()
    return m


class Orthogonal(nn.Module):
    """orthogonal_ (its QR is reproduced within a bound, not bit for bit)."""

    def __init__(self):
        super().__init__()
        self.q = nn.Parameter(torch.empty(6, 9))
        nn.init.orthogonal_(self.q)
        self.lstm = nn.GRU(4, 5)
