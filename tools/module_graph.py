#!/usr/bin/env python3
"""The library's module dependency graph: which module names which, import cycles, file sizes.

Reads src/ (the library; the binary's src/cli and src/main.rs are left out) and prints, for each
module, the modules it uses, then every cycle (strongly connected component with more than one
module), the public modules, and the largest files. A module is a file or directory module one
or two levels below src/ (`modules`, `modules::model`, `init::call`); a reference is any path
`crate::a::b` or `super::b` in the module's files (use lines and inline paths alike). Tests
(`#[cfg(test)]` blocks) are included: a test that needs a higher layer is a smell too.

Usage: python3 tools/module_graph.py [--cycles-only]   (exit status 1 if there is a cycle)
"""

import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def module_of(path):
    """`src/modules/model/read.rs` -> ('modules', 'model')."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(parts)


def node(parts):
    """Two levels at most: `modules::model::read` is `modules::model`."""
    return "::".join(parts[:2]) if parts else "crate"


def known(parts):
    """The longest prefix of `parts` that names an existing module."""
    for n in (2, 1):
        p = parts[:n]
        if not p:
            continue
        if (SRC.joinpath(*p).with_suffix(".rs")).exists() or (SRC.joinpath(*p) / "mod.rs").exists():
            return p
    return None


def main():
    files = [p for p in SRC.rglob("*.rs")
             if p.relative_to(SRC).parts[0] not in ("cli", "main.rs", "lib.rs")]
    edges = {}
    sizes = []
    for f in files:
        me = module_of(f)
        src = node(me)
        text = f.read_text(encoding="utf-8")
        sizes.append((len(text.splitlines()), str(f.relative_to(SRC.parent))))
        # Comments mention modules without using them.
        text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("//"))
        # Expand `use crate::{a, b::c}` groups one level.
        refs = []
        for m in re.finditer(r"crate::\{([^}]*)\}", text):
            refs += [("crate", p.strip()) for p in m.group(1).split(",") if p.strip()]
        refs += [("crate", m.group(1)) for m in re.finditer(r"crate::([a-z_][a-z0-9_]*(?:::[a-z_][a-z0-9_]*)?)", text)]
        refs += [("super", m.group(1)) for m in re.finditer(r"super::([a-z_][a-z0-9_]*)", text)]
        for kind, path in refs:
            parts = path.split("::")
            if kind == "super":
                base = me[:-1] if f.name != "mod.rs" else me[:-1]
                parts = list(base) + parts
            target = known(parts)
            if target is None:
                continue
            dst = node(target)
            # A module and its parent re-export each other's items; only other modules count.
            if dst != src and not dst.startswith(src + "::") and not src.startswith(dst + "::"):
                edges.setdefault(src, set()).add(dst)
    # Tarjan's strongly connected components.
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            visit(v)
    if "--cycles-only" not in sys.argv:
        for v in sorted(edges):
            print(f"{v} -> {', '.join(sorted(edges[v]))}")
        lib = (SRC / "lib.rs").read_text(encoding="utf-8")
        public = re.findall(r"^\s*pub mod ([a-z_]+)", lib, re.M)
        print(f"\npublic modules ({len(public)}): {', '.join(public)}")
        sizes.sort(reverse=True)
        print("largest files: " + ", ".join(f"{p} ({n})" for n, p in sizes[:5]))
    if sccs:
        for c in sccs:
            print("cycle: " + " <-> ".join(c))
        return 1
    print("import cycles: none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
