#!/usr/bin/env python3
"""The graph index: a core's graph saved, loaded, and refused when it should be.

- Same answers: for every program of the oldest and the newest Go release
  (and the pie and Green Tea variants of the newest), the JSON answers of
  heap --all, objects --all, roots, breakdown, and paths --max 4 and print of
  every sentinel are byte for byte those of a session without an index, both
  when the index is saved (--index) and when it is loaded (the next run, whose
  --stats must say "loaded"). paths --max after a load builds the edges the
  index does not keep.
- Refused, the graph built again with the same answers, and the file
  replaced: a flipped byte in the body or the header, a truncated file, a
  file of other bytes, a file whose checksums are right but whose first
  reacher or type is out of range (rewritten here with the format's hash).
- Not taken for another core (a copy of the core: another inode) or another
  build of goheap (a copy of the binary whose index key says another source
  hash is simulated by editing the key and fixing the checksum).
- The dominator tree is saved beside the graph (a .dom file) and loaded
  with it: top, retains, dominators, suspects, heap --retained and roots
  --retained answer the same without, saving and loading it. A .dom file
  flipped, truncated, of other bytes, or rewritten with right checksums but
  a dominator below its node or a node listed twice, is refused with the
  reason, the tree built again with the same answers, and the file
  replaced.
- auto saves nothing for a graph built in under a second; GOHEAP_INDEX=off
  neither loads nor saves; an unwritable directory still answers; the
  directory budget (GOHEAP_INDEX_MAX_MB) drops the least recently used file,
  never the one just written.

usage: test_index.py BUILD_DIR
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from harness import check, summary  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
GOHEAP = os.path.join(BUILD, "bin", "goheap")
TMP = tempfile.mkdtemp(prefix="goheap-index-")

# graph/store.c's header: offsets of its fields.
OFF_KEY, OFF_NSLOTS, OFF_NROOTS, OFF_NTYPES, OFF_NTINY = 16, 168, 176, 184, 192
OFF_SECTIONS, OFF_BODY_HASH, OFF_HEADER_HASH, HEADER = 328, 376, 384, 4096

# base/hash.c, for rewriting a file as a hostile writer could.
M = (1 << 64) - 1
P1, P2 = 0x9e3779b185ebca87, 0xc2b2ae3d27d4eb4f


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def hash_word(h, w):
    h ^= (w * 0x9e3779b97f4a7c15) & M
    h = (rotl(h, 27) * 0xff51afd7ed558ccd) & M
    return h ^ (h >> 31)


def hash64(b, seed):
    n, i = len(b), 0
    v = [(seed + P1 + P2) & M, (seed + P2) & M, seed, (seed - P1) & M]
    words = struct.unpack_from("<%dQ" % (n // 8), b) if n >= 8 else ()
    while i + 32 <= n:
        for k in range(4):
            v[k] = (rotl((v[k] + words[i // 8 + k] * P2) & M, 31) * P1) & M
        i += 32
    h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
    while i + 8 <= n:
        h = hash_word(h, words[i // 8])
        i += 8
    tail = int.from_bytes(b[i:] + bytes(8 - (n - i)), "little") if i < n else 0
    return hash_word(hash_word(h, tail), n)


def reseal(b):
    """Fixes both checksums of an index after an edit."""
    nslots, nroots, ntypes, ntiny = struct.unpack_from("<4Q", b, OFF_NSLOTS)
    om, op, ot, oti, ots = struct.unpack_from("<5Q", b, OFF_SECTIONS)
    x = hash64(bytes(b[om:om + (nslots + 63) // 64 * 8]), 0)
    x = hash64(bytes(b[op:op + nslots * 4]), x)
    x = hash64(bytes(b[ot:ot + nslots * 4]), x)
    x = hash64(bytes(b[oti:oti + ntiny * 8]), x)  # 8-byte tiny values (format 2)
    x = hash64(bytes(b[ots:ots + ntypes * 40]), x)
    struct.pack_into("<Q", b, OFF_BODY_HASH, x)
    struct.pack_into("<Q", b, OFF_HEADER_HASH, 0)
    struct.pack_into("<Q", b, OFF_HEADER_HASH, hash64(bytes(b[:HEADER]), 0))


def run(d, cmds, flags=(), env=None, binary=GOHEAP, core=None):
    e = dict(os.environ, GOHEAP_INDEX_DIR=os.path.join(TMP, "cache"))
    e.pop("GOHEAP_INDEX", None)
    e.update(env or {})
    p = subprocess.run([binary, "--stats", *flags, "--exe", os.path.join(d, "exe"), core or os.path.join(d, "core")],
                       input="\n".join(cmds) + "\n", capture_output=True, text=True, timeout=600, env=e)
    assert p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr[-300:])
    status = [l[len("goheap: index: "):] for l in p.stderr.splitlines() if l.startswith("goheap: index: ")]
    return p.stdout, status[0] if status else None


def commands(d):
    m = json.load(open(os.path.join(d, "manifest.json")))
    cmds = ["heap --all --json", "objects --all --json --limit 1000000", "roots --json", "breakdown --json"]
    for s in m["sentinels"]:
        cmds += ["paths %s --max 4 --json" % s["addr"], "print %s --json" % s["addr"]]
    # Retention, from the dominator tree (saved and loaded beside the graph).
    cmds += ["top --all --limit 40 --json", "heap --retained --json", "roots --retained --json", "suspects --json",
             "dominators --depth 3 --min-percent 0 --json"]
    cmds += ["retains %s --json" % s["addr"] for s in m["sentinels"]]
    return cmds


def index_files(suffix=".graph"):
    d = os.path.join(TMP, "cache")
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(suffix)) if os.path.isdir(d) else []


def first_diff(a, b, cmds):
    a, b = a.splitlines(), b.splitlines()
    k = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    return "answer %d (%s)" % (k, cmds[k] if k < len(cmds) else "?")


def same(d):
    shutil.rmtree(os.path.join(TMP, "cache"), ignore_errors=True)
    cmds = commands(d)
    base, st = run(d, cmds, env={"GOHEAP_INDEX": "off"})
    assert st is None, "GOHEAP_INDEX=off: the index was asked: %s" % st
    assert base.count("\n") >= len(cmds), "fewer answers than commands"
    saved, st = run(d, cmds, ["--index"])
    assert st and "saved" in st, "--index did not save: %s" % st
    assert saved == base, "answers while saving differ: %s" % first_diff(base, saved, cmds)
    assert "dominators saved" in st, "--index did not save the dominator tree: %s" % st
    loaded, st = run(d, cmds, ["--index"])
    assert st and st.startswith("loaded"), "the second run did not load: %s" % st
    assert "dominators loaded" in st, "the second run did not load the dominator tree: %s" % st
    assert loaded == base, "answers from the index differ: %s" % first_diff(base, loaded, cmds)
    return "%d answers identical without, saving and loading the index" % len(cmds)


def refused(d, edit, want):
    """The index edited by edit(bytearray) is refused saying want, answers
    stay, and the file is replaced by a good one."""
    shutil.rmtree(os.path.join(TMP, "cache"), ignore_errors=True)
    cmds = commands(d)
    base, _ = run(d, cmds, ["--index"])
    (f,) = index_files()
    b = bytearray(open(f, "rb").read())
    b = edit(b)
    open(f, "wb").write(b)
    out, st = run(d, cmds, ["--index"])
    assert st and st.startswith("not used") and want in st and "saved" in st, "status: %s (want %r)" % (st, want)
    assert out == base, "answers after a refused index differ: %s" % first_diff(base, out, cmds)
    _, st = run(d, cmds[:1], ["--index"])
    assert st and st.startswith("loaded"), "not replaced by a good file: %s" % st
    return st.split(" ")[0] + " after " + want


def flip(off):
    def edit(b):
        b[off(b)] ^= 0x40
        return b
    return edit


def parent_section(b):
    return struct.unpack_from("<Q", b, OFF_SECTIONS + 8)[0]


def type_section(b):
    return struct.unpack_from("<Q", b, OFF_SECTIONS + 16)[0]


def live_slot(b):
    om = struct.unpack_from("<Q", b, OFF_SECTIONS)[0]
    nslots = struct.unpack_from("<Q", b, OFF_NSLOTS)[0]
    for i in range(nslots):
        if b[om + i // 8] >> (i % 8) & 1:
            return i
    raise AssertionError("no live slot")


def bad_parent(b):
    nslots = struct.unpack_from("<Q", b, OFF_NSLOTS)[0]
    struct.pack_into("<I", b, parent_section(b) + 4 * live_slot(b), nslots + 7)
    reseal(b)
    return b


def bad_type(b):
    ntypes = struct.unpack_from("<Q", b, OFF_NTYPES)[0]
    struct.pack_into("<I", b, type_section(b) + 4 * live_slot(b), ntypes + 1)
    reseal(b)
    return b


def other_goheap(b):
    k = struct.unpack_from("<Q", b, OFF_KEY + 8 * 9)[0]
    struct.pack_into("<Q", b, OFF_KEY + 8 * 9, k ^ 1)
    reseal(b)
    return b


def damage_cases(d):
    out = [
        refused(d, flip(lambda b: parent_section(b) + 4 * live_slot(b)), "damaged (checksum)"),
        refused(d, flip(lambda b: OFF_NROOTS), "damaged (header checksum)"),
        refused(d, lambda b: b[:len(b) - 4096], "truncated"),
        refused(d, lambda b: b[:100], "too short"),
        refused(d, lambda b: bytearray(os.urandom(len(b))), "format"),
        refused(d, bad_parent, "bad first reacher"),
        refused(d, bad_type, "bad type"),
        refused(d, other_goheap, "another core, executable or goheap"),
    ]
    return "; ".join(out)


def another_core(d):
    shutil.rmtree(os.path.join(TMP, "cache"), ignore_errors=True)
    cmds = ["heap --json"]
    base, _ = run(d, cmds, ["--index"])
    copy = os.path.join(TMP, "core-copy")
    shutil.copyfile(os.path.join(d, "core"), copy)
    out, st = run(d, cmds, ["--index"], core=copy)
    os.unlink(copy)
    assert st and st.startswith("none yet") and "saved" in st, "a copy of the core: %s" % st
    assert out == base, "answers of the copy differ"
    assert len(index_files()) == 2, "one file per core: %s" % index_files()
    return "a copy of the core gets its own file"


def modes(d):
    shutil.rmtree(os.path.join(TMP, "cache"), ignore_errors=True)
    cmds = ["heap --json"]
    _, st = run(d, cmds)
    assert st and st.startswith("none yet") and "not saved: the graph took" in st, "auto: %s" % st
    assert not index_files(), "auto saved a quick graph"
    _, st = run(d, cmds, env={"GOHEAP_INDEX": "always"})
    assert st and "saved" in st, "GOHEAP_INDEX=always: %s" % st
    _, st = run(d, cmds, ["--no-index"], env={"GOHEAP_INDEX": "always"})
    assert st is None, "--no-index: %s" % st
    _, st = run(d, cmds, env={"GOHEAP_INDEX": "off"})
    assert st is None, "GOHEAP_INDEX=off: %s" % st
    _, st = run(d, cmds)
    assert st and st.startswith("loaded"), "auto loads what is there: %s" % st
    base, _ = run(d, cmds, ["--no-index"])
    out, st = run(d, cmds, ["--index"], env={"GOHEAP_INDEX_DIR": "/proc/goheap-no-such-dir"})
    assert st and "not saved: cannot create" in st, "unwritable directory: %s" % st
    assert out == base, "answers with an unwritable directory differ"
    return "auto, always, off, --no-index, unwritable directory"


def budget(ds):
    shutil.rmtree(os.path.join(TMP, "cache"), ignore_errors=True)
    a, b = ds[0], ds[1]
    run(a, ["heap"], ["--index"])
    first = index_files()
    run(b, ["heap"], ["--index"], env={"GOHEAP_INDEX_MAX_MB": "0"})
    left = index_files()
    assert len(first) == 1 and len(left) == 1 and left != first, "budget 0: before %s, after %s" % (first, left)
    return "budget 0 keeps only the file just written"


# graph/domstore.c's header: offsets of its fields.
DOM_N, DOM_SECTIONS, DOM_BODY_HASH, DOM_HEADER_HASH = 184, 216, 256, 264


def dom_reseal(b):
    """Fixes both checksums of a .dom file after an edit."""
    n, ngroups = struct.unpack_from("<2Q", b, DOM_N)
    ov, oi, og, ogr = struct.unpack_from("<4Q", b, DOM_SECTIONS)
    nroots = (ogr - og) // 4
    x = hash64(bytes(b[ov:ov + (n + 1) * 4]), 0)
    x = hash64(bytes(b[oi:oi + (n + 1) * 4]), x)
    x = hash64(bytes(b[og:og + nroots * 4]), x)
    x = hash64(bytes(b[ogr:ogr + ngroups * 8]), x)
    struct.pack_into("<Q", b, DOM_BODY_HASH, x)
    struct.pack_into("<Q", b, DOM_HEADER_HASH, 0)
    struct.pack_into("<Q", b, DOM_HEADER_HASH, hash64(bytes(b[:HEADER]), 0))


def dom_idom_not_above(b):
    n = struct.unpack_from("<Q", b, DOM_N)[0]
    oi = struct.unpack_from("<Q", b, DOM_SECTIONS + 8)[0]
    struct.pack_into("<I", b, oi + 4 * n, n)  # the last node dominated by itself
    dom_reseal(b)
    return b


def dom_node_twice(b):
    ov = struct.unpack_from("<Q", b, DOM_SECTIONS)[0]
    n = struct.unpack_from("<Q", b, DOM_N)[0]
    v = struct.unpack_from("<I", b, ov + 4 * n)[0]
    struct.pack_into("<I", b, ov + 4 * (n - 1), v)
    dom_reseal(b)
    return b


def dom_refused(d, edit, want):
    """The .dom file edited by edit(bytearray) is refused saying want, the
    answers stay, and the file is replaced by a good one."""
    shutil.rmtree(os.path.join(TMP, "cache"), ignore_errors=True)
    cmds = ["top --all --limit 40 --json", "heap --retained --json", "roots --retained --json"]
    base, st = run(d, cmds, ["--index"])
    assert "dominators saved" in st, st
    (f,) = index_files(".dom")
    b = bytearray(open(f, "rb").read())
    open(f, "wb").write(edit(b))
    out, st = run(d, cmds, ["--index"])
    assert st and "dominators not used" in st and want in st and "dominators saved" in st, \
        "status: %s (want %r)" % (st, want)
    assert out == base, "answers after a refused dominator file differ: %s" % first_diff(base, out, cmds)
    _, st = run(d, cmds[:1], ["--index"])
    assert st and "dominators loaded" in st, "not replaced by a good file: %s" % st
    return want


def dom_damage_cases(d):
    def flip_body(b):
        b[HEADER + 8] ^= 0x40
        return b
    return "; ".join([
        dom_refused(d, flip_body, "damaged (checksum)"),
        dom_refused(d, lambda b: b[:len(b) - 16], "truncated"),
        dom_refused(d, lambda b: b[:100], "too short"),
        dom_refused(d, lambda b: bytearray(os.urandom(len(b))), "format"),
        dom_refused(d, dom_idom_not_above, "damaged (dominator of node"),
        dom_refused(d, dom_node_twice, "damaged (node"),
    ])


def main():
    if not os.path.exists(GOHEAP):
        print("skip: no %s" % GOHEAP)
        return 77
    vs = corpus.versions()
    builds = [(vs[0], ""), (vs[-1], ""), (vs[-1], "pie")]
    builds += [(v, var) for v, var in corpus.matrix() if v == vs[-1] and "greentea" in var]
    last = None
    for version, variant in builds:
        skip, ds = corpus.generate(version, variant, None, out=os.path.join(BUILD, "corpus"))
        if skip:
            print("skip  %s: %s" % (corpus.tag(version, variant), skip), flush=True)
            continue
        for d in ds:
            check("%s %s" % (corpus.tag(version, variant), os.path.basename(d)), same, d)
        last = ds
    if last:
        demo = next((d for d in last if os.path.basename(d) == "demo"), last[0])
        check("refused: damaged, hostile, another goheap", damage_cases, demo)
        check("dominator tree refused: damaged, hostile", dom_damage_cases, demo)
        check("another core", another_core, demo)
        check("modes", modes, demo)
        check("budget", budget, last)
    shutil.rmtree(TMP, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
