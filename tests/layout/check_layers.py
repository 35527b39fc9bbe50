#!/usr/bin/env python3
"""Checks goheap's layering (docs/architecture.md).

- Every engine file includes only headers of its own layer or of layers
  listed before it in engine/CMakeLists.txt (GOHEAP_LAYERS), or public
  headers (goheap/*.h).
- Every call between engine object files goes downward too: a function
  defined in one layer is used only by that layer and the layers after it
  (nm on the built objects; this catches calls through forward declarations).
- Front ends (cli, lldb-plugin, gdb-plugin, docs/examples, bindings) include
  only public headers (goheap/*.h) and their own.
- Every engine source file starts with a comment saying what it holds.

usage: check_layers.py SOURCE_DIR [OBJECT_DIR]
"""
import glob
import os
import re
import subprocess
import sys

src = os.path.abspath(sys.argv[1])
objdir = sys.argv[2] if len(sys.argv) > 2 else None
engine = os.path.join(src, "engine")
cm = open(os.path.join(engine, "CMakeLists.txt")).read()
layers = re.search(r"set\(GOHEAP_LAYERS ([^)]*)\)", cm).group(1).split()
rank = {l: i for i, l in enumerate(layers)}
problems = []

INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
for layer in layers:
    for path in sorted(glob.glob(os.path.join(engine, layer, "*.[ch]"))):
        text = open(path).read()
        rel = os.path.relpath(path, src)
        if not text.lstrip().startswith(("/*", "//")):
            problems.append(f"{rel}: no header comment saying what the file holds")
        for inc in INC.findall(text):
            top = inc.split("/")[0]
            if top == "goheap":
                continue
            if top not in rank:
                problems.append(f"{rel}: includes \"{inc}\", which is in no layer")
            elif rank[top] > rank[layer]:
                problems.append(f"{rel}: layer {layer} includes \"{inc}\" of the higher layer {top}")
for d in os.listdir(engine):
    if os.path.isdir(os.path.join(engine, d)) and d not in rank and d != "include":
        problems.append(f"engine/{d}: a folder that is not a layer in GOHEAP_LAYERS")

for fe in ["cli", "lldb-plugin", "gdb-plugin", "docs/examples", "bindings"]:
    for path in glob.glob(os.path.join(src, fe, "**", "*"), recursive=True):
        if not path.endswith((".c", ".h", ".cpp", ".go")):
            continue
        for inc in INC.findall(open(path).read()):
            if inc.startswith("goheap/"):
                continue
            internal = inc.split("/")[0] in rank or glob.glob(os.path.join(engine, "*", os.path.basename(inc)))
            if internal:
                problems.append(f"{os.path.relpath(path, src)}: front end includes \"{inc}\", an engine internal header")

if objdir:
    defs, uses = {}, {}
    for o in glob.glob(os.path.join(objdir, "**", "*.o"), recursive=True):
        layer = os.path.basename(os.path.dirname(o))
        if layer not in rank:
            continue
        out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
        name = f"{layer}/{os.path.basename(o)[:-4]}"
        for line in out.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDRBC":
                defs[p[2]] = (layer, name)
            elif len(p) == 2 and p[0] == "U":
                uses.setdefault(name, (layer, set()))[1].add(p[1])
    if not defs:
        problems.append(f"{objdir}: no engine object files found")
    for name, (layer, syms) in sorted(uses.items()):
        for s in sorted(syms):
            if s in defs and rank[defs[s][0]] > rank[layer]:
                problems.append(f"{name}: layer {layer} calls {s} of the higher layer {defs[s][0]} ({defs[s][1]})")

for p in problems:
    print(p)
print(f"check_layers: {len(problems)} problems; layers: {' < '.join(layers)}")
sys.exit(1 if problems else 0)
