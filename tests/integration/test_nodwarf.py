#!/usr/bin/env python3
"""Binaries without DWARF or symbols, on every release and variant.

1. The built-in layout table (engine/runtime/layout_table.c) equals the DWARF of every
   non-stripped corpus binary, and finding mheap_, memstats and
   firstmoduledata by their contents gives the addresses of their ELF symbols
   (GOHEAP_LAYOUTS=builtin GOHEAP_DISCOVER=1 force both paths).
   The built-in finalizer/cleanup record layouts (engine/roots/specials_table.c)
   equal the DWARF of every corpus binary (stripped ones: of the same
   program built without stripping), read by tools/speclayout; with them and
   runtime.allfin, gcCleanups and allp found by content, the finalizer,
   cleanup and runtime roots are those found with DWARF and symbols.
2. Stripped cores (-ldflags='-s -w') pass the same engine checks as the others
   (run.py's check_engine: version, breakdown reconciliation, verify,
   sentinels in objects of their size class).
Prints `N passed, N failed`; exit 1 on a failure, 77 when no release can be had.
"""
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts"))
import corpus  # noqa: E402
import run  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(run.ROOT, "build"))
run.GOHEAP = os.path.join(BUILD, "bin", "goheap")


def layout(core, **env):
    p = subprocess.run([run.GOHEAP, core, "layout", "--json"], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, **env))
    assert p.returncode == 0, p.stderr.strip()
    return json.loads(p.stdout)


def check_builtin(d):
    truth = layout(os.path.join(d, "core"))
    assert truth["layout_source"] == "DWARF" and truth["globals_source"] == "symbols", truth["layout_source"]
    got = layout(os.path.join(d, "core"), GOHEAP_LAYOUTS="builtin", GOHEAP_DISCOVER="1")
    assert got["layout_source"].startswith("built-in"), got["layout_source"]
    for a, b in zip(truth["fields"], got["fields"]):
        assert a == b, "built-in %s.%s = %r, DWARF says %r" % (a["type"], a["field"], b, a)
    for g in ("mheap", "memstats", "firstmoduledata"):
        assert got[g] == truth[g], "%s found at %s, symbol says %s" % (g, got[g], truth[g])
    return got["layout_source"]


def speclayout(core, **env):
    p = subprocess.run([os.path.join(BUILD, "bin", "speclayout"), core], capture_output=True, text=True,
                       timeout=300, env=dict(os.environ, **env))
    assert p.returncode == 0, p.stderr.strip()
    return json.loads(p.stdout)


def check_spec_builtin(d, truth_core):
    """The built-in finalizer/cleanup record layouts (engine/roots/specials_table.c)
    equal the DWARF of truth_core's binary (d's own, or for a stripped d the
    same program built without stripping)."""
    truth = speclayout(truth_core)
    assert truth["source"] == "DWARF", truth["source"]
    got = speclayout(os.path.join(d, "core"), GOHEAP_LAYOUTS="builtin")
    assert got["source"].startswith("built-in table for go1.%d" % truth["minor"]), got["source"]
    for a, b in zip(truth["fields"], got["fields"]):
        assert a == b, "built-in %s.%s = %r, DWARF says %r" % (a["type"], a["field"], b, a)
    if truth_core == os.path.join(d, "core"):
        # Finding allfin, gcCleanups and allp by content gives the same roots as their symbols.
        want, have = special_roots(truth_core), special_roots(truth_core, GOHEAP_LAYOUTS="builtin",
                                                                 GOHEAP_DISCOVER="1")
        assert want == have, "roots without symbols and DWARF differ: %d vs %d" % (len(have), len(want))
        return "%s, %d roots = with symbols" % (got["source"], len(want))
    return got["source"]


def special_roots(core, **env):
    p = subprocess.run([run.GOHEAP, core, "roots", "--list", "--json"], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, **env))
    assert p.returncode == 0, p.stderr.strip()
    doc = json.loads(p.stdout)
    return [r for r in doc["roots"] if r["kind"] in ("finalizer", "cleanup", "runtime")]


def with_base_dwarf(d):
    """Stripped binaries have no DWARF for the pointer-layout check: use the
    same program built by the same release without stripping, whose struct
    layouts are the same."""
    base = os.path.join(os.path.dirname(os.path.dirname(d)), os.path.basename(os.path.dirname(d))
                        .replace("-stripped", ""), os.path.basename(d), "exe")
    orig = run.gdb_pointer_offsets
    run.gdb_pointer_offsets = lambda exe, types: orig(base, types)
    try:
        return run.check_engine(d)
    finally:
        run.gdb_pointer_offsets = orig


def main():
    any_version = False
    for version, variant in corpus.matrix():
        if corpus.emulator(variant):
            # built-in layouts are this host's (amd64); another architecture's
            # binary without DWARF is refused (docs/heap.md)
            print("skip  %s: built-in layouts are amd64's" % corpus.tag(version, variant))
            continue
        progs = corpus.selected_programs("stripped", None) if variant == "stripped" else ["demo"]
        skip, dirs = corpus.generate(version, variant, progs, out=os.path.join(BUILD, "corpus"))
        if skip:
            print("skip  %s: %s" % (corpus.tag(version, variant), skip))
            continue
        if variant == "stripped":
            corpus.generate(version, "", progs, out=os.path.join(BUILD, "corpus"))  # DWARF for gdb and speclayout
        any_version = True
        tag = corpus.tag(version, variant)
        for d in sorted(os.path.dirname(c) for c in glob.glob(os.path.join(BUILD, "corpus", tag, "*", "core"))):
            truth = os.path.join(d, "core")
            if variant == "stripped":
                truth = os.path.join(BUILD, "corpus", tag.replace("-stripped", ""), os.path.basename(d), "core")
            run.check("%s %s built-in finalizer record layouts = DWARF" % (tag, os.path.basename(d)),
                      check_spec_builtin, d, truth)
        for d in dirs:
            name = "%s %s" % (corpus.tag(version, variant), os.path.basename(d))
            if variant == "stripped":
                run.check(name + " engine on a stripped binary", with_base_dwarf, d)
            else:
                run.check(name + " built-in layouts and globals = DWARF and symbols", check_builtin, d)
    if not any_version:
        print("0 passed, 0 failed")
        return corpus.SKIP
    return run.summary()


if __name__ == "__main__":
    sys.exit(main())
