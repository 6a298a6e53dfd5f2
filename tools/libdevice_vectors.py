#!/usr/bin/env python3
"""Runs NVIDIA's own libdevice code on the CPU and records its outputs for torch-rng's ports.

usage: python3 tools/libdevice_vectors.py [LIBDEVICE.bc]   (writes golden/libdevice/vectors.txt)

libdevice (`libdevice.10.bc`, shipped in the PyTorch 2.15.0 wheel's Triton at
`triton/backends/nvidia/lib/`) is LLVM bitcode. This script extracts the routines PyTorch's CUDA
random kernels call (`__nv_logf`, `__nv_log`, `__nv_log1p`, `__nv_exp`, `__nv_sincospi`,
`__nv_sincos`, `__nv_tan`), renames every `llvm.nvvm.*` intrinsic they use to a shim with the same IEEE
semantics on the host (`fma.rn` -> `llvm.fma`, `d2i.hi` -> a bit cast, `__nvvm_reflect` -> 0,
i.e. the non-FTZ branches PyTorch is built with), compiles the result for x86-64 with `llc` and
runs it from a small C harness built with `gcc`. The outputs are then the bits of libdevice's own
instruction sequence, evaluated with IEEE arithmetic.

One intrinsic has no IEEE meaning: `rcp.approx.ftz.f64` (the hardware reciprocal seed). Its shim
is torch-rng's model (`math::libdevice::rcp_approx_ftz_f64`: the reciprocal rounded to 20
mantissa bits, low word zero), so these vectors check the transcription, not that model. Needs
llvm-dis/llvm-extract/llc (LLVM 14 reads libdevice.10.bc) and gcc; no network, no GPU.
"""

import glob
import os
import random
import re
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "golden", "libdevice", "vectors.txt")
FUNCS = ["__nv_logf", "__nv_log", "__nv_log1p", "__nv_exp", "__nv_sincospi", "__nv_sincos",
         "__nv_tan"]

SHIMS = r"""
declare double @llvm.fma.f64(double, double, double)
declare float @llvm.fma.f32(float, float, float)
declare double @llvm.fabs.f64(double)
declare float @llvm.fabs.f32(float)
declare double @llvm.rint.f64(double)
declare double @llvm.trunc.f64(double)
define internal i32 @shim_reflect(i8* %p) { ret i32 0 }
define internal double @shim_fma_rn_d(double %a, double %b, double %c) {
  %r = call double @llvm.fma.f64(double %a, double %b, double %c)
  ret double %r }
define internal float @shim_fma_rn_f(float %a, float %b, float %c) {
  %r = call float @llvm.fma.f32(float %a, float %b, float %c)
  ret float %r }
define internal double @shim_mul_rn_d(double %a, double %b) { %r = fmul double %a, %b
  ret double %r }
define internal double @shim_add_rn_d(double %a, double %b) { %r = fadd double %a, %b
  ret double %r }
define internal double @shim_fabs_d(double %a) { %r = call double @llvm.fabs.f64(double %a)
  ret double %r }
define internal float @shim_fabs_f(float %a) { %r = call float @llvm.fabs.f32(float %a)
  ret float %r }
define internal double @shim_round_d(double %a) { %r = call double @llvm.rint.f64(double %a)
  ret double %r }
define internal double @shim_trunc_d(double %a) { %r = call double @llvm.trunc.f64(double %a)
  ret double %r }
define internal i32 @shim_d2i_hi(double %a) { %b = bitcast double %a to i64
  %s = lshr i64 %b, 32
  %t = trunc i64 %s to i32
  ret i32 %t }
define internal i32 @shim_d2i_lo(double %a) { %b = bitcast double %a to i64
  %t = trunc i64 %b to i32
  ret i32 %t }
define internal double @shim_lohi_i2d(i32 %lo, i32 %hi) { %l = zext i32 %lo to i64
  %h = zext i32 %hi to i64
  %hs = shl i64 %h, 32
  %o = or i64 %hs, %l
  %d = bitcast i64 %o to double
  ret double %d }
define internal i32 @shim_d2i_rn(double %a) { %r = call double @llvm.rint.f64(double %a)
  %i = fptosi double %r to i32
  ret i32 %i }
declare double @rcp_seed_model(double)
define internal double @shim_rcp_approx_ftz_d(double %a) {
  %r = call double @rcp_seed_model(double %a)
  ret double %r }
"""

RENAMES = {
    "@__nvvm_reflect": "@shim_reflect",
    "@llvm.nvvm.fma.rn.d": "@shim_fma_rn_d",
    "@llvm.nvvm.fma.rn.f": "@shim_fma_rn_f",
    "@llvm.nvvm.mul.rn.d": "@shim_mul_rn_d",
    "@llvm.nvvm.add.rn.d": "@shim_add_rn_d",
    "@llvm.nvvm.fabs.d": "@shim_fabs_d",
    "@llvm.nvvm.fabs.f": "@shim_fabs_f",
    "@llvm.nvvm.round.d": "@shim_round_d",
    "@llvm.nvvm.trunc.d": "@shim_trunc_d",
    "@llvm.nvvm.d2i.hi": "@shim_d2i_hi",
    "@llvm.nvvm.d2i.lo": "@shim_d2i_lo",
    "@llvm.nvvm.lohi.i2d": "@shim_lohi_i2d",
    "@llvm.nvvm.d2i.rn": "@shim_d2i_rn",
    "@llvm.nvvm.rcp.approx.ftz.d": "@shim_rcp_approx_ftz_d",
    # FTZ twins sit behind `__nvvm_reflect("__CUDA_FTZ")`, which the shim answers 0: never run.
    "@llvm.nvvm.fma.rn.ftz.f": "@shim_fma_rn_f",
    "@llvm.nvvm.fabs.ftz.f": "@shim_fabs_f",
}

HARNESS = r"""
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
float __nv_logf(float); double __nv_log(double); double __nv_log1p(double);
double __nv_exp(double); double __nv_tan(double);
void __nv_sincospi(double, double*, double*); void __nv_sincos(double, double*, double*);
double rcp_seed_model(double x) {           /* torch-rng's rcp_approx_ftz_f64 */
  uint64_t b; double r;
  if (isnan(x)) return x;
  if (fpclassify(x) == FP_SUBNORMAL) x = copysign(0.0, x);
  r = 1.0 / x;
  if (fpclassify(r) == FP_SUBNORMAL) return copysign(0.0, r);
  if (!isfinite(r) || r == 0.0) return r;
  memcpy(&b, &r, 8); b = (b + (1ull << 31)) & ~0xffffffffull; memcpy(&r, &b, 8); return r;
}
int main(void) {
  char fn[32]; unsigned long long in;
  while (scanf("%31s %llx", fn, &in) == 2) {
    if (!strcmp(fn, "logf")) { uint32_t u = (uint32_t)in; float f, r; memcpy(&f, &u, 4);
      r = __nv_logf(f); memcpy(&u, &r, 4); printf("logf %08x %08x\n", (uint32_t)in, u); continue; }
    double d, r, r2; uint64_t o, o2; memcpy(&d, &in, 8);
    if (!strcmp(fn, "sincospi") || !strcmp(fn, "sincos")) {
      if (fn[6] == 'p') __nv_sincospi(d, &r, &r2); else __nv_sincos(d, &r, &r2);
      memcpy(&o, &r, 8); memcpy(&o2, &r2, 8);
      printf("%s %016llx %016llx %016llx\n", fn, in, (unsigned long long)o, (unsigned long long)o2); continue; }
    if (!strcmp(fn, "log")) r = __nv_log(d);
    else if (!strcmp(fn, "log1p")) r = __nv_log1p(d);
    else if (!strcmp(fn, "exp")) r = __nv_exp(d);
    else if (!strcmp(fn, "tan")) r = __nv_tan(d);
    else return 2;
    memcpy(&o, &r, 8); printf("%s %016llx %016llx\n", fn, in, (unsigned long long)o);
  }
  return 0;
}
"""


def f64_bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def inputs():
    """Deterministic inputs: the values each kernel feeds the routine, plus edges."""
    rng = random.Random(20260415)
    out = []
    # logf: curand uniforms fma(cvt(x), 2^-32, 2^-33) from the extremes and at random, edges.
    for x in [0, 1, 2, 127, 128, 2**24, 2**31, 2**32 - 129, 2**32 - 128, 2**32 - 1] + \
            [rng.getrandbits(32) for _ in range(1500)]:
        u = struct.unpack("<f", struct.pack("<f", float(x) * 2.0**-32 + 2.0**-33))[0]
        out.append(("logf", struct.unpack("<I", struct.pack("<f", u))[0]))
    for b in [0x00000000, 0x80000000, 0x00000001, 0x007fffff, 0x00800000, 0x3f800000, 0x3f7fffff,
              0x3f2aaaab, 0x3f2aaaaa, 0x7f7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xbf800000]:
        out.append(("logf", b))
    out += [("logf", rng.getrandbits(31)) for _ in range(500)]
    # log / log1p / exp / sincospi / tan: curand double uniforms and kernel arguments.
    for _ in range(800):
        z = rng.getrandbits(53)
        u = z * 2.0**-53 + 2.0**-54
        out.append(("log", f64_bits(u)))
        out.append(("sincospi", f64_bits(rng.getrandbits(53) * 2.0**-52 + 2.0**-53)))
        out.append(("exp", f64_bits((u - 0.5) * 1420.0)))
        out.append(("log1p", f64_bits(-u)))
        out.append(("log1p", f64_bits((u - 0.3) * 2.0)))
        out.append(("tan", f64_bits(3.141592653589793 * (u - 0.5))))
        out.append(("sincos", f64_bits(6.283185307179586 * u)))
    for v in [0.0, -0.0, 1.0, 2.0**-1074, 2.0**-1022, 1e-300, 0.5, 1.5, 2.0, 1e308,
              float("inf"), -1.0, 0.7071067811865476, 1.4142135623730951]:
        out.append(("log", f64_bits(v)))
        out.append(("log1p", f64_bits(v)))
        out.append(("exp", f64_bits(v)))
        out.append(("exp", f64_bits(-v)))
        out.append(("sincospi", f64_bits(v)))
    for v in [709.78, 709.9, -708.5, -745.0, -745.2, 710.0, 0.25, 0.75, 1.25, 2.0**53, 2.0**60]:
        out.append(("exp", f64_bits(v)))
        out.append(("sincospi", f64_bits(v)))
    for v in [0.0, -0.0, 1.5707963267948966, -1.5707963267948966, 0.7853981633974483, 1e-8, 2.0**30]:
        out.append(("tan", f64_bits(v)))
        out.append(("sincos", f64_bits(v)))
    return out


def main():
    bc = sys.argv[1] if len(sys.argv) > 1 else None
    if bc is None:
        hits = glob.glob(os.path.expanduser(
            "~/torch-venv/lib/python3*/site-packages/triton/backends/nvidia/lib/libdevice.10.bc"))
        if not hits:
            sys.exit("libdevice.10.bc not found; pass its path")
        bc = hits[0]
    with tempfile.TemporaryDirectory() as d:
        ext = os.path.join(d, "ext.bc")
        subprocess.run(["llvm-extract", *sum((["--func", f] for f in FUNCS), []),
                        "--recursive", bc, "-o", ext], check=True)
        ll = subprocess.run(["llvm-dis", ext, "-o", "-"], check=True,
                            capture_output=True, text=True).stdout
        for old, new in RENAMES.items():
            ll = re.sub(re.escape(old) + r"(?=\()", new, ll)
        # drop the NVPTX target triple/layout and the now-unused declarations of renamed intrinsics
        ll = "\n".join(line for line in ll.splitlines()
                       if not line.startswith(("target triple", "target datalayout"))
                       and not re.match(r"declare .*@(shim_|llvm\.nvvm\.)", line))
        # __nv_tan's Payne-Hanek slow path (|a| >= 2^31, never reached by these inputs nor by
        # PyTorch's cauchy_) is written in inline PTX: replace its body with a stub.
        ll = re.sub(r"(define [^\n]*@__internal_trig_reduction_slowpathd\(double %a\)[^\n]*\{)\n.*?\n\}",
                    r"\1\n  ret %struct.trig_reduction_return zeroinitializer\n}", ll, flags=re.S)
        # the __nvvm_reflect argument strings are only declared by llvm-extract
        ll = re.sub(r"^(@\.str[.0-9]*) = external hidden unnamed_addr constant (\[\d+ x i8\])",
                    r"\1 = internal unnamed_addr constant \2 zeroinitializer", ll, flags=re.M)
        # the 2/pi table of the stubbed slow path
        ll = re.sub(r"^@__cudart_i2opi_d = external hidden addrspace\(1\) constant (\[18 x i64\])",
                    r"@__cudart_i2opi_d = internal addrspace(1) constant \1 zeroinitializer", ll, flags=re.M)
        left = sorted(set(re.findall(r"@llvm\.nvvm\.[a-z0-9.]+", ll)))
        if left:
            sys.exit(f"unshimmed intrinsics: {left}")
        ll = ll.replace("define internal", "define") + SHIMS
        # the extracted functions keep their linkage; make the entry points visible
        src = os.path.join(d, "libdevice_host.ll")
        open(src, "w").write(ll)
        obj = os.path.join(d, "libdevice_host.o")
        subprocess.run(["llc", "-O0", "-filetype=obj", "-relocation-model=pic", src, "-o", obj],
                       check=True)
        harness = os.path.join(d, "h.c")
        open(harness, "w").write(HARNESS)
        exe = os.path.join(d, "h")
        subprocess.run(["gcc", "-O0", "-ffp-contract=off", harness, obj, "-lm", "-o", exe],
                       check=True)
        ins = inputs()
        text = "".join(f"{fn} {v:x}\n" for fn, v in ins)
        res = subprocess.run([exe], input=text, capture_output=True, text=True, check=True).stdout
    lines = res.splitlines()
    assert len(lines) == len(ins), (len(lines), len(ins))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("# Written by tools/libdevice_vectors.py from libdevice.10.bc (PyTorch 2.15.0 wheel,\n")
        f.write("# Triton), run on the host through IEEE shims; rcp.approx.ftz.f64 = torch-rng's seed\n")
        f.write("# model. Format: fn input output [output2], hex bit patterns.\n")
        f.write("\n".join(lines) + "\n")
    print(f"wrote {OUT}: {len(lines)} vectors")


if __name__ == "__main__":
    main()
