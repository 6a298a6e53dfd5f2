#!/usr/bin/env python3
"""Distance of torch-rng's orthogonal_ from PyTorch's, per shape, from two result documents.

    cargo run --release -- replay golden/cases/init_orthogonal.json > /tmp/orth.json
    python3 tools/measure_orthogonal.py golden/results/init_orthogonal.json /tmp/orth.json

For each shape: elements compared, the fraction bit-exact, the largest absolute difference in
units of eps * |gain| (eps = 2^-23 for float32, 2^-52 for float64), and the largest ulp distance
(large only for entries near zero).
"""
import collections
import json
import struct
import sys
exp=json.load(open(sys.argv[1])); act=json.load(open(sys.argv[2]))
A={c['name']:c for c in act['cases']}
def val(h,dt): return struct.unpack('<f',bytes.fromhex(h)[::-1])[0] if dt=='float32' else struct.unpack('<d',bytes.fromhex(h)[::-1])[0]
def ordered(b,w):
    s=1<<(w-1); return b if b&s==0 else -(b&~s)-1
tot=collections.defaultdict(lambda:[0,0,0.0,0])
for c in exp['cases']:
    a=A[c['name']]
    for o,p in zip(c['outputs'],a['outputs']):
        if isinstance(o,dict) and 'values' in o and 'values' in p:
            dt=o['dtype']; eps=2**-23 if dt=='float32' else 2**-52
            g=o['tolerance']['max_abs']/(32*eps if dt=='float32' else 64*eps)
            n=e=0; worst=0.0; wu=0
            for x,y in zip(o['values'],p['values']):
                n+=1; e+= x==y
                d=abs(val(x,dt)-val(y,dt))/(eps*g); worst=max(worst,d)
                w=32 if dt=='float32' else 64
                wu=max(wu,abs(ordered(int(x,16),w)-ordered(int(y,16),w)))
            name=c['name'].rsplit('_seed',1)[0]
            t=tot[name]; t[0]+=n; t[1]+=e; t[2]=max(t[2],worst); t[3]=max(t[3],wu)
        elif isinstance(o,dict) and 'values' in o:
            print("no values", c['name'], p)
for k,v in tot.items(): print(f"{k:45s} {v[0]:7d} exact {100*v[1]/v[0]:6.2f}%  max {v[2]:7.2f} eps*gain  max {v[3]} ulps")
