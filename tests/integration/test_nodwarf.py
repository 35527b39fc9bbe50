#!/usr/bin/env python3
"""Binaries without DWARF or symbols, on every release and variant, of both
architectures the corpus builds (amd64 natively, arm64 under qemu-user).

1. The built-in layout table (engine/runtime/layout_table.c, a row per GOARCH,
   release and Green Tea setting) equals the DWARF of the demo of every
   non-stripped variant, and finding mheap_, memstats and
   firstmoduledata by their contents gives the addresses of their ELF symbols
   (GOHEAP_LAYOUTS=builtin GOHEAP_DISCOVER=1 force both paths).
   The built-in finalizer/cleanup record layouts (engine/roots/specials_table.c)
   equal the DWARF of every corpus binary (stripped ones: of the same
   program built without stripping), read by tools/speclayout; with them and
   runtime.allfin, gcCleanups and allp found by content, the finalizer,
   cleanup and runtime roots are those found with DWARF and symbols.
2. Stripped cores (-ldflags='-s -w': the stripped and arm64-stripped
   variants) pass the same engine checks as the others (run.py's
   check_engine: version, breakdown reconciliation, verify, sentinels in
   objects of their size class, pointer layouts = the DWARF of the same
   program built without stripping, recorded types = the manifest's).
   Reachability and partial typing of the same cores against their
   manifests are run.py's (its entries for the stripped variants).
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
import corpus_variant  # noqa: E402
import run  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(run.ROOT, "build"))
run.GOHEAP = os.path.join(BUILD, "bin", "goheap")


def exe_of(core):
    # qemu's cores name no executable: always say which it is
    return os.path.join(os.path.dirname(core), "exe")


def layout(core, **env):
    p = subprocess.run([run.GOHEAP, "--exe", exe_of(core), core, "layout", "--json"], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, **env))
    assert p.returncode == 0, p.stderr.strip()
    return json.loads(p.stdout)


def check_builtin(d):
    truth = layout(os.path.join(d, "core"))
    assert truth["layout_source"] == "DWARF" and truth["globals_source"] == "symbols", truth["layout_source"]
    got = layout(os.path.join(d, "core"), GOHEAP_LAYOUTS="builtin", GOHEAP_DISCOVER="1")
    arch = "linux/" + ARCH[run.is_amd64(exe_of(os.path.join(d, "core")))]
    assert got["layout_source"].startswith("built-in") and got["layout_source"].endswith(arch), got["layout_source"]
    assert len(got["fields"]) == len(truth["fields"])
    for a, b in zip(truth["fields"], got["fields"]):
        assert a == b, "built-in %s.%s = %r, DWARF says %r" % (a["type"], a["field"], b, a)
    for g in ("mheap", "memstats", "firstmoduledata"):
        assert got[g] == truth[g], "%s found at %s, symbol says %s" % (g, got[g], truth[g])
    return got["layout_source"]


ARCH = {True: "amd64", False: "arm64"}


def speclayout(core, **env):
    p = subprocess.run([os.path.join(BUILD, "bin", "speclayout"), "--exe", exe_of(core), core], capture_output=True, text=True,
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
    arch = "linux/" + ARCH[run.is_amd64(exe_of(truth_core))]
    assert got["source"] == "built-in table for go1.%d on %s" % (truth["minor"], arch), got["source"]
    assert len(got["fields"]) == len(truth["fields"])
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
    p = subprocess.run([run.GOHEAP, "--exe", exe_of(core), core, "roots", "--list", "--json"], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, **env))
    assert p.returncode == 0, p.stderr.strip()
    doc = json.loads(p.stdout)
    return [r for r in doc["roots"] if r["kind"] in ("finalizer", "cleanup", "runtime")]


def base_variant(variant):
    """The variant a stripped one strips: stripped -> "", arm64-stripped -> arm64."""
    return "-".join(w for w in variant.split("-") if w != "stripped")


def with_base_dwarf(d, version, variant):
    """Stripped binaries have no DWARF for the pointer-layout check: use the
    same program built by the same release for the same GOARCH without
    stripping, whose struct layouts are the same."""
    base = os.path.join(BUILD, "corpus", corpus.tag(version, base_variant(variant)), os.path.basename(d), "exe")
    orig = run.gdb_pointer_offsets
    run.gdb_pointer_offsets = lambda exe, types: orig(base, types)
    try:
        return run.check_engine(d)
    finally:
        run.gdb_pointer_offsets = orig


def main():
    any_version = False
    for version, variant in corpus.matrix():
        stripped = corpus_variant.stripped(variant)
        progs = corpus.selected_programs(variant, None) if stripped else ["demo"]
        if "demo" not in corpus.selected_programs(variant, None):
            continue
        skip, dirs = corpus.generate(version, variant, progs, out=os.path.join(BUILD, "corpus"))
        if skip:
            print("skip  %s: %s" % (corpus.tag(version, variant), skip))
            continue
        if stripped:  # DWARF for gdb and speclayout
            corpus.generate(version, base_variant(variant), progs, out=os.path.join(BUILD, "corpus"))
        any_version = True
        tag = corpus.tag(version, variant)
        for d in sorted(os.path.dirname(c) for c in glob.glob(os.path.join(BUILD, "corpus", tag, "*", "core"))):
            truth = os.path.join(d, "core")
            if stripped:
                truth = os.path.join(BUILD, "corpus", corpus.tag(version, base_variant(variant)),
                                     os.path.basename(d), "core")
            run.check("%s %s built-in finalizer record layouts = DWARF" % (tag, os.path.basename(d)),
                      check_spec_builtin, d, truth)
        for d in dirs:
            name = "%s %s" % (tag, os.path.basename(d))
            if stripped:
                run.check(name + " engine on a stripped binary", with_base_dwarf, d, version, variant)
            else:
                run.check(name + " built-in layouts and globals = DWARF and symbols", check_builtin, d)
    if not any_version:
        print("0 passed, 0 failed")
        return corpus.SKIP
    return run.summary()


if __name__ == "__main__":
    sys.exit(main())
