"""The command contract (../shared/DESIGN.md) on one core: every command runs,
its JSON parses and has the documented shape (numbers are numbers, addresses
"0x..." strings), and its text output has its key lines."""
import json
import os
import re
import subprocess

ADDR = re.compile(r"^0x[0-9a-f]+$")


def _addr(v, what):
    assert isinstance(v, str) and ADDR.match(v), "%s: not an address string: %r" % (what, v)


def _num(v, what):
    assert isinstance(v, int) and not isinstance(v, bool), "%s: not a number: %r" % (what, v)


def _keys(doc, keys, what):
    missing = [k for k in keys if k not in doc]
    assert not missing, "%s: JSON lacks %s" % (what, ", ".join(missing))


def _text(goheap, d, words):
    p = subprocess.run([goheap, "--exe", os.path.join(d, "exe"), os.path.join(d, "core")] + words,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and not p.stderr.strip(), "%s: exit %d: %s" % (" ".join(words), p.returncode,
                                                                           p.stderr.strip()[-300:])
    return p.stdout


def check_contract(d, m, goheap_batch, goheap):
    s = m["sentinels"][0]["addr"]
    cmds = ["overview --json", "breakdown --json", "heap --json --top 5", "objects --json --limit 3",
            "paths %s --json" % s, "goroutines --json --limit 3", "goroutine 1 --json", "print %s --json" % s,
            "mappings --json", "read %s 32 --json" % s, "roots --json", "whatis %s --json" % s, "verify --json",
            "layout --json", "goroutines --group --json"]
    docs = goheap_batch(d, cmds)
    (ov, bd, hp, ob, pa, gs, g1, pr, mp, rd, rt, wi, vf, ly, gg) = docs
    # Every document opens with the common envelope.
    for c, doc in zip(cmds, docs):
        assert doc.get("go_version") == m["go"] or doc.get("go_version", "").startswith(m["go"] + " "), \
            "%s: go_version %r, manifest %s" % (c, doc.get("go_version"), m["go"])
    _keys(ov, ["go_version"], "overview")
    _keys(bd, ["checks"], "breakdown")
    _keys(hp, ["go_version", "objects", "bytes", "typed_bytes", "types"], "heap")
    for k in ("objects", "bytes", "typed_bytes"):
        _num(hp[k], "heap." + k)
    assert hp["types"], "heap: no types"
    for t in hp["types"]:
        _keys(t, ["type", "count", "bytes"], "heap.types[]")
        _num(t["count"], "heap count")
        _num(t["bytes"], "heap bytes")
    for o in ob["objects"]:
        _keys(o, ["addr", "type", "size"], "objects[]")
        _addr(o["addr"], "objects addr")
        _num(o["size"], "objects size")
    _keys(pa, ["target", "paths"], "paths")
    _addr(pa["target"]["addr"], "paths target")
    for p in pa["paths"]:
        assert p["root"]["kind"] in ("global", "stack", "finalizer", "cleanup", "runtime"), p["root"]
        for h in p["hops"]:
            _keys(h, ["addr", "type", "field"], "paths hop")
            _addr(h["addr"], "paths hop addr")
    assert gs["goroutines"], "goroutines: none"
    for g in gs["goroutines"]:
        _keys(g, ["id", "status", "frames"], "goroutines[]")
        _num(g["id"], "goroutine id")
    _keys(g1, ["frames"], "goroutine 1")
    assert g1["frames"], "goroutine 1: no frames"
    _keys(pr, ["addr", "type", "size", "value"], "print")
    _addr(pr["addr"], "print addr")
    assert mp["mappings"], "mappings: none"
    for r in mp["mappings"]:
        _keys(r, ["start", "end", "size", "perms"], "mappings[]")
        _addr(r["start"], "mapping start")
    _keys(rd, ["addr", "len", "bytes"], "read")
    _keys(rt, ["kinds"], "roots")
    _keys(wi, ["addr", "kind"], "whatis")
    _keys(gg, ["groups"], "goroutines --group")
    for g in gg["groups"]:
        _num(g["count"], "group count")
    # Text: the key line of each.
    keys = [
        (["heap", "--top", "3"], r"^live: \d+ objects( \(\d+ tiny blocks? hold \d+ small objects?; rows count those\))?, .*; typed: [\d.]+% of live bytes"),
        (["objects", "--limit", "2"], r"^address\s+size\s+type"),
        (["paths", s], r"^0x[0-9a-f]+ \S.* \(\d+ bytes\) is (live|garbage)"),
        (["goroutines", "--limit", "2"], r"(?m)^\s*\d+\s"),
        (["goroutine", "1"], r"main\.main"),
        (["print", s], r"^0x[0-9a-f]+ \S+.*\(slot size \d+\)"),
        (["mappings"], r"0x[0-9a-f]+"),
        (["read", s, "16"], r"^0x[0-9a-f]+:?\s+[0-9a-f]{2}"),
        (["roots"], r"(?m)^global\s+\d+"),
        (["overview"], r"go1\.\d+"),
    ]
    for words, pat in keys:
        out = _text(goheap, d, words)
        assert re.search(pat, out, re.M), "%s: no line matching %r in:\n%s" % (" ".join(words), pat, out[:400])
    return "%d commands, JSON and text" % len(cmds)
