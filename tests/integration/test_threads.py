#!/usr/bin/env python3
"""The object graph does not depend on the number of threads that build it.

For every program of the oldest and the newest Go release (and the pie and
Green Tea variants of the newest), the JSON answers of heap --all, objects
--all, roots, and paths --max 4 and print of every sentinel are compared
byte for byte between GOHEAP_THREADS=1, 2 and 3 (3 splits the spans
unevenly).

usage: test_threads.py BUILD_DIR
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from harness import check, summary  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
GOHEAP = os.path.join(BUILD, "bin", "goheap")


def answers(d, cmds, threads):
    p = subprocess.run([GOHEAP, "--stats", "--exe", os.path.join(d, "exe"), os.path.join(d, "core")],
                       input="\n".join(cmds) + "\n", capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, GOHEAP_THREADS=str(threads)))
    assert p.returncode == 0, "GOHEAP_THREADS=%d: exit %d: %s" % (threads, p.returncode, p.stderr[-300:])
    edges = [l for l in p.stderr.splitlines() if l.startswith("goheap: edges")]
    return p.stdout, edges


def same(d):
    m = json.load(open(os.path.join(d, "manifest.json")))
    cmds = ["heap --all --json", "objects --all --json --limit 1000000", "roots --json"]
    for s in m["sentinels"]:
        cmds += ["paths %s --max 4 --json" % s["addr"], "print %s --json" % s["addr"]]
    one, _ = answers(d, cmds, 1)
    assert one.count("\n") >= len(cmds), "fewer answers than commands"
    for t in (2, 3):
        other, edges = answers(d, cmds, t)
        assert edges, "no edges phase in --stats"
        if other != one:
            a, b = one.splitlines(), other.splitlines()
            k = next(i for i in range(min(len(a), len(b))) if a[i] != b[i]) if a != b else 0
            raise AssertionError("GOHEAP_THREADS=%d differs from 1 at answer %d (%s)" % (t, k, cmds[k] if k < len(cmds) else "?"))
    return "%d answers identical with 1, 2 and 3 threads" % len(cmds)


def main():
    vs = corpus.versions()
    builds = [(vs[0], ""), (vs[-1], ""), (vs[-1], "pie")]
    builds += [(v, var) for v, var in corpus.matrix() if v == vs[-1] and "greentea" in var]
    for version, variant in builds:
        skip, ds = corpus.generate(version, variant, None, out=os.path.join(BUILD, "corpus"))
        if skip:
            print("skip  %s: %s" % (corpus.tag(version, variant), skip), flush=True)
            continue
        for d in ds:
            check("%s %s" % (corpus.tag(version, variant), os.path.basename(d)), same, d)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
