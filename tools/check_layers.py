#!/usr/bin/env python3
"""Checks the include graph of src/ against the layering docs/architecture.md draws.

A module is a .c file with its .h (src/exec/pool.c + src/exec/pool.h is the module
exec/pool). Module A depends on module B when a file of A includes B's header. The
check fails (exit 1, one line per problem) when
  - the module graph has a cycle (A -> ... -> A);
  - a leaf includes a project header outside util/: util/ and loop include only util/,
    quotas.h and server.h include nothing of the project;
  - a layer includes one above it (LAYERS below, lowest first: a module may include
    its own layer and the layers below).
It prints "layers: N modules, M dependencies, ok" when all is well.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")

# lowest first; a module's layer is the first entry that is a prefix of its name
LAYERS = [
    ["util/", "loop", "quotas", "server"],
    ["model/model", "model/model_data", "logs/"],
    ["req"],
    ["model/apierr"],
    ["store/", "blobs/", "aws/", "images/", "metrics/"],
    ["auth/"],
    ["records/"],
    ["exec/"],
    ["pollers/"],
    ["api/"],
    ["router"],
    ["http"],
    ["main"],
]


def layer_of(mod):
    for i, names in enumerate(LAYERS):
        for n in names:
            if mod == n or (n.endswith("/") and mod.startswith(n)):
                return i
    return None


def modules():
    deps = {}
    for dirpath, _, files in os.walk(SRC):
        for f in files:
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, f)
            mod = os.path.relpath(path, SRC)[:-2]
            deps.setdefault(mod, set())
            with open(path, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    m = re.match(r'\s*#\s*include\s+"([^"]+)\.h"', line)
                    if m and m.group(1) != mod:
                        deps[mod].add(m.group(1))
    return deps


def cycles(deps):
    found, state, stack = [], {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(deps.get(m, ())):
            if state.get(d) == 1:
                found.append(stack[stack.index(d):] + [d])
            elif d in deps and not state.get(d):
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(deps):
        if not state.get(m):
            visit(m)
    return found


def main():
    deps = modules()
    problems = []
    for m, ds in sorted(deps.items()):
        lm = layer_of(m)
        if lm is None:
            problems.append(f"{m}: in no layer of tools/check_layers.py (add it where it belongs)")
            continue
        for d in sorted(ds):
            if d not in deps:
                problems.append(f"{m}: includes {d}.h, which is not in src/")
                continue
            ld = layer_of(d)
            if m in ("quotas", "server"):
                problems.append(f"{m} is a plain header but includes {d}.h")
            elif (m == "loop" or m.startswith("util/")) and not d.startswith("util/"):
                problems.append(f"{m} is a leaf (util/, loop) but includes {d}.h")
            elif ld is not None and ld > lm:
                problems.append(f"{m} (layer {lm}: {' '.join(LAYERS[lm])}) includes {d}.h from above "
                                f"(layer {ld}: {' '.join(LAYERS[ld])})")
    for c in cycles(deps):
        problems.append("include cycle: " + " -> ".join(c))
    for p in problems:
        print(p)
    n = sum(len(v) for v in deps.values())
    if problems:
        print(f"layers: {len(deps)} modules, {n} dependencies, {len(problems)} problems")
        return 1
    print(f"layers: {len(deps)} modules, {n} dependencies, ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
