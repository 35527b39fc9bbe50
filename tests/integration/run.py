#!/usr/bin/env python3
"""Integration tests for one Go release (and variant) of the corpus.

Generates the corpus for that release if it is not cached, then checks every
program's core. Checks never compare goheap with itself: the answer key is the
manifest each corpus program printed, or gdb reading the same core.

Exit 0 all passed, 1 a check failed, 77 the Go release cannot be had (skipped).
"""
import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import corpus  # noqa: E402
import corpus_variant  # noqa: E402
from harness import check, record, results, summary, gdb_for, is_amd64  # noqa: E402,F401
from check_heap import check_heap  # noqa: E402
from check_retained import check_retained  # noqa: E402
from check_pprof import check_pprof  # noqa: E402
from check_sites import check_sites  # noqa: E402
from check_graph import check_graph, check_graph_dot  # noqa: E402
from check_contract import check_contract  # noqa: E402
from check_print import check_print  # noqa: E402
from check_expr import check_expr  # noqa: E402
from check_specials import check_specials  # noqa: E402
from check_globals import check_globals, check_dwarf  # noqa: E402
from check_goroutines import check_goroutines, check_goroutines_live, check_builtin_layouts  # noqa: E402



def load_manifest(d):
    with open(os.path.join(d, "manifest.json")) as f:
        return json.load(f)


def check_manifest(d, version):
    m = load_manifest(d)
    prog = os.path.basename(d)
    assert m.get("program") == prog, "program %r, expected %r" % (m.get("program"), prog)
    assert m.get("mode") == "core" and m.get("stop") == 1, "mode/stop %r/%r" % (m.get("mode"), m.get("stop"))
    assert m["go"].split()[0].split("-")[0] == version, "manifest go %r is not %s" % (m["go"], version)
    assert isinstance(m.get("live"), dict) and m["live"], "no live counts"
    for t, n in m["live"].items():
        assert isinstance(n, int) and n >= 0, "live[%s] = %r" % (t, n)
    assert m.get("sentinels"), "no sentinels"
    for s in m["sentinels"]:
        assert re.fullmatch(r"0x[0-9a-f]+", s["addr"]), "sentinel addr %r" % s["addr"]
        assert s["root"]["kind"] in ("global", "stack", "finalizer", "cleanup", "runtime"), s["root"]
    assert m.get("goroutines", 0) >= 1
    return "%d types, %d sentinels" % (len(m["live"]), len(m["sentinels"]))


def gdb_build_version(exe, core):
    """runtime.buildVersion as gdb reads it from the core (bytes, exact length)."""
    sym = "'runtime.buildVersion'"
    cmd = [gdb_for(exe), "-batch", "-nx", "-iex", "set auto-load no", "-ex", "set language c",
           "-ex", "print *(unsigned long*)((char*)&%s+8)" % sym,
           "-ex", "x/128xb *(char**)&%s" % sym, exe, core]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    m = re.search(r"^\$1 = (\d+)$", p.stdout, re.M)
    assert m, "gdb could not read runtime.buildVersion: %s" % (p.stderr.strip()[-300:])
    n = int(m.group(1))
    assert 0 < n <= 128, "implausible buildVersion length %d" % n
    data = bytes(int(x, 16) for x in re.findall(r"\t0x([0-9a-f]{2})", p.stdout))
    assert len(data) >= n, "gdb printed %d bytes of %d" % (len(data), n)
    return data[:n].decode()


def check_gdb_version(d):
    m = load_manifest(d)
    got = gdb_build_version(os.path.join(d, "exe"), os.path.join(d, "core"))
    assert got == m["go"], "gdb reads %r from the core, manifest says %r" % (got, m["go"])
    return got


def check_go_version(d):
    """Stripped binaries have no symbols for gdb; `go version` reads .go.buildinfo."""
    m = load_manifest(d)
    p = subprocess.run(["go", "version", os.path.join(d, "exe")], capture_output=True, text=True, timeout=120)
    got = p.stdout.strip().split(": ", 1)[-1]
    assert got == m["go"], "go version says %r, manifest says %r" % (got, m["go"])
    return got


# Go's size classes (identical 1.22 - 1.27; runtime/sizeclasses.go), written
# out here so the test does not take them from goheap.
SIZE_CLASSES = [0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
                288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
                1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528,
                6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072,
                20480, 21760, 24576, 27264, 28672, 32768]


def expected_slot(size, noscan):
    """Slot size the allocator gives an object of this size (tiny blocks,
    malloc headers for pointerful objects over 512 bytes, large spans)."""
    if noscan and 0 < size < 16:
        return 16
    hdr = 8 if (not noscan and size > 512) else 0
    if size + hdr <= 32768:
        return next(c for c in SIZE_CLASSES if c >= size + hdr)
    return (size + 8191) // 8192 * 8192


GOHEAP = None


def goheap_text(d, words):
    """One command's text output."""
    p = subprocess.run([GOHEAP, "--exe", os.path.join(d, "exe"), os.path.join(d, "core")] + words,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, "goheap %s exited %d: %s" % (" ".join(words), p.returncode, p.stderr.strip()[-400:])
    return p.stdout


def goheap_batch(d, commands):
    """Runs several commands in one goheap session (the prompt reads stdin);
    returns their outputs, split on the JSON documents' lines."""
    p = subprocess.run([GOHEAP, "--exe", os.path.join(d, "exe"), os.path.join(d, "core")],
                       input="\n".join(commands) + "\n", capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, "goheap exited %d: %s" % (p.returncode, p.stderr.strip()[-400:])
    assert not p.stderr.strip(), "goheap printed errors or warnings: %s" % p.stderr.strip()[-400:]
    docs = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    assert len(docs) == len(commands), "%d answers for %d commands" % (len(docs), len(commands))
    return docs


LEAF = re.compile(r"^/\*\s+(\d+)(?::\d+)?\s+\|\s+(\d+) \*/\s+(.*?)\s*(\w+);$")


def gdb_pointer_offsets(exe, types):
    """Pointer words of each struct type, from the compiler's DWARF as gdb
    lays it out (ptype/o expands nested structs to leaf fields). None for a
    type gdb cannot lay out to leaves (arrays, unknown types)."""
    cmd = [gdb_for(exe), "-batch", "-nx", "-iex", "set auto-load no", "-ex", "set language c"]
    for t in types:
        cmd += ["-ex", "echo ==%s\\n" % t, "-ex", "ptype/o struct '%s'" % t]
    p = subprocess.run(cmd + [exe], capture_output=True, text=True, timeout=300)
    out, cur = {}, None
    for line in p.stdout.splitlines():
        if line.startswith("=="):
            cur = line[2:]
            out[cur] = None  # until gdb prints the struct (it may not know the type)
            continue
        if cur is not None and "type = struct" in line:
            out[cur] = set()
            continue
        if cur is None or out[cur] is None:
            continue
        line = line.strip()
        if line.startswith("/* total") or line.startswith("}") or not line:
            continue
        m = LEAF.match(line)
        if not m:
            if line.startswith("/*") and "{" in line:
                continue  # a nested struct opens; its leaves follow
            out[cur] = None
            continue
        off, size, typ, name = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        arr = re.fullmatch(r"\[(\d+)\](.*)", typ)
        if arr and re.fullmatch(r"u?int(8|16|32|64)?|float(32|64)|bool|complex(64|128)|uintptr", arr.group(2)):
            continue  # an array of scalars holds no pointers
        if arr and arr.group(2).endswith("*"):
            out[cur].update(off + 8 * i for i in range(int(arr.group(1))))
        elif "[" in typ or "(" in typ:
            out[cur] = None  # arrays of structs and func types are not expanded to words
        elif typ.endswith("*") and size == 8:
            if name not in ("tab", "_type"):  # an interface's type word is not a GC pointer
                out[cur].add(off)
    return {t: v for t, v in out.items() if v is not None}


# cmd/compile (reflectdata.dgcsym, 1.22-1.23) gives a type a GC program instead
# of a mask when its pointer data spans more than MaxPtrmaskBytes*8 words; the
# 1.22-1.23 allocator then records, for a large object, a nameless type it
# made to hold the unrolled bitmap (heapSetType), not the object's type.
GCPROG_WORDS = 2048 * 8
ARRAY = re.compile(r"\[(\d+)\](main\.\w+)")


def pointer_words(typ, size, truth):
    """Word offsets that can hold pointers in one value of a sentinel's type,
    from DWARF (gdb), or None when gdb cannot lay the type out."""
    if typ in truth:
        return truth[typ]
    a = ARRAY.fullmatch(typ)
    if a and a.group(2) in truth and int(a.group(1)) > 0:
        n, elem = int(a.group(1)), truth[a.group(2)]
        return {i * (size // n) + off for i in range(n) for off in elem}
    return None


def check_recorded_types(d, m, whats, truth):
    """The allocator records a type for pointerful objects over 512 bytes: the
    malloc header (512 B < size <= 32 KiB - 8) or mspan.largeType. Both hold
    the *abi.Type mallocgc was given: new(T) and new([N]T) give T and [N]T,
    make([]T, n) gives T (runtime.newobject, makeslice). Corpus sentinels are
    all allocated with new, so the name goheap prints must be the manifest's
    exactly. Objects that record no type (up to 512 bytes, or pointer-free)
    must get no type at all. Also checks the same names with the built-in
    moduledata offsets (no DWARF), and goheap's names built from a
    descriptor's structure against the compiler's strings (typenames tool)."""
    minor = int(re.match(r"go1\.(\d+)", m["go"]).group(1))
    named, unrolled, untyped, unknown = 0, 0, 0, 0
    typed = []
    for s, w in zip(m["sentinels"], whats):
        o = w["object"]
        where = "sentinel %s %s" % (s["type"], s["addr"])
        ptrs = pointer_words(s["type"], s["size"], truth)
        if s["size"] <= 512 or ptrs == set():
            assert "recorded_type" not in o, "%s: no type is recorded for it, goheap says %s" % (
                where, o["recorded_type"])
            untyped += 1
            continue
        if ptrs is None:  # gdb cannot say whether it holds pointers
            if "recorded_type" in o:
                assert o["recorded_type"] == s["type"], "%s: goheap names its type %s" % (where, o["recorded_type"])
            unknown += 1
            continue
        assert "recorded_type" in o, "%s: pointerful and %d bytes, but goheap prints no type" % (where, s["size"])
        if minor <= 23 and max(ptrs) // 8 + 1 > GCPROG_WORDS and o["type_source"] == "largeType":
            assert o["recorded_type"].startswith("unknown<type 0x") and \
                "unrolled GC bitmap" in o.get("type_error", ""), \
                "%s: a GC-program type's unrolled bitmap is recorded, goheap names it %s" % (where, o["recorded_type"])
            unrolled += 1
            continue
        assert o["recorded_type"] == s["type"], "%s: goheap names its type %s (%s)" % (
            where, o["recorded_type"], o.get("type_error"))
        named += 1
        typed.append(s)
    if typed:
        env = dict(os.environ, GOHEAP_LAYOUTS="builtin")
        p = subprocess.run([GOHEAP, "--exe", os.path.join(d, "exe"), os.path.join(d, "core")],
                           input="".join("whatis %s --json\n" % s["addr"] for s in typed),
                           capture_output=True, text=True, timeout=600, env=env)
        docs = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
        assert p.returncode == 0 and len(docs) == len(typed), "built-in layouts: %s" % p.stderr.strip()[-300:]
        for s, w in zip(typed, docs):
            assert w["object"].get("recorded_type") == s["type"], \
                "sentinel %s %s: with built-in layouts goheap says %s" % (
                    s["type"], s["addr"], w["object"].get("recorded_type"))
    tool = os.path.join(os.path.dirname(GOHEAP), "typenames")
    p = subprocess.run([tool, "--exe", os.path.join(d, "exe"), os.path.join(d, "core")],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, "typenames: %s %s" % (p.stdout.strip()[-300:], p.stderr.strip()[-300:])
    tn = json.loads(p.stdout)
    built = ""
    if "skipped" not in tn:
        assert tn["failed"] == 0, "typenames: %d failures: %s" % (tn["failed"], tn["failures"])
        assert tn["built_equal"] + tn["built_unsupported"] == tn["unnamed"] and tn["unnamed"] > 0, tn
        built = ", %d unnamed types built = compiler's" % tn["built_equal"]
    return "%d types = manifest, %d unrolled GC bitmaps, %d untyped, %d undecided%s" % (
        named, unrolled, untyped, unknown, built)



def check_engine(d):
    m = load_manifest(d)
    cmds = ["overview --json", "breakdown --json", "verify --json"] + \
        ["whatis %s --json" % s["addr"] for s in m["sentinels"]]
    docs = goheap_batch(d, cmds)
    ov, bd, vf, whats = docs[0], docs[1], docs[2], docs[3:]
    # Every pointer word read through the layouts leads to an allocated object,
    # a stack, or mapped memory: none to free slots or unmapped addresses.
    assert vf["scan_errors"] == 0, "verify: %s" % vf.get("first_scan_error")
    assert vf["to_unmapped"] == 0 and vf["to_free_heap_slots"] == 0, "verify: %r" % vf
    assert ov["go_version"] == m["go"], "goheap says %s, manifest %s" % (ov["go_version"], m["go"])
    assert ov["bad_spans"] == 0, "%d spans rejected" % ov["bad_spans"]
    for c in bd["checks"]:
        assert c["ok"], "breakdown check failed: %s: goheap %d, runtime %d" % (c["check"], c["goheap"], c["runtime"])
    assert bd["unexplained_differences"] == 0
    objs_by_size = {}
    for sc in bd["span_classes"]:
        objs_by_size[sc["elemsize"]] = objs_by_size.get(sc["elemsize"], 0) + sc["objects"]
    for s, w in zip(m["sentinels"], whats):
        where = "sentinel %s %s" % (s["type"], s["addr"])
        assert w["kind"] == "heap", "%s: goheap finds no allocated object there (%s)" % (where, w["kind"])
        want = expected_slot(s["size"], w["span"]["noscan"])
        assert w["object"]["size"] == want, "%s: object size %d, size class of %d bytes is %d" % (
            where, w["object"]["size"], s["size"], want)
        n = m["live"].get(s["type"], 0)
        if want <= 32768:
            assert n <= objs_by_size.get(want, 0), "%s: manifest holds %d, goheap has %d objects of size %d" % (
                where, n, objs_by_size.get(want, 0), want)
    # Pointer layout (heap bits, malloc headers, largeType) against DWARF via gdb.
    structs = sorted({s["type"] for s in m["sentinels"] if re.fullmatch(r"main\.\w+", s["type"])} |
                     {a.group(2) for a in (ARRAY.fullmatch(s["type"]) for s in m["sentinels"]) if a})
    truth = gdb_pointer_offsets(os.path.join(d, "exe"), structs)
    checked = 0
    for s, w in zip(m["sentinels"], whats):
        if s["type"] not in truth:
            continue
        o = w["object"]
        assert "pointer_offsets" in o, "sentinel %s: %s" % (s["addr"], o.get("layout_error"))
        assert o["data_addr"] == s["addr"], "sentinel %s: data starts at %s" % (s["addr"], o["data_addr"])
        got = {x for x in o["pointer_offsets"] if x < s["size"]}
        assert got == truth[s["type"]], "sentinel %s %s: pointer words at %s, DWARF says %s" % (
            s["addr"], s["type"], sorted(got), sorted(truth[s["type"]]))
        checked += 1
    types = check_recorded_types(d, m, whats, truth)
    return "%d sentinels (%d pointer layouts vs DWARF; %s), breakdown reconciles" % (len(whats), checked, types)


def check_live(d):
    exe = os.path.join(d, "exe")
    env = dict(os.environ, GOHEAP_LIVE="1")
    p = subprocess.run([exe], capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, "live mode exited %d: %s" % (p.returncode, p.stderr[-300:])
    lines = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    assert [(l["mode"], l["stop"]) for l in lines] == [("live", 1), ("live", 2)], \
        "live mode printed %r" % [(l.get("mode"), l.get("stop")) for l in lines]
    return "2 stops"


def check_bruteforce(d):
    """Every live object's, root group's and type's retained size against
    removing it and marking again from the roots (retaincheck tool); also
    each type by import path of a shared short name, as the commands' index
    by full name (graph/domkeys.h) and gh_type_retained give it."""
    tool = os.path.join(os.path.dirname(GOHEAP), "retaincheck")
    p = subprocess.run([tool, "--exe", os.path.join(d, "exe"), os.path.join(d, "core")], capture_output=True,
                       text=True, timeout=600)
    docs = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    assert docs, "retaincheck: %s" % p.stderr.strip()[-300:]
    r = docs[0]
    assert r["bad"] == 0 and p.returncode == 0, "retaincheck: %d mismatches, first: %s" % (r["bad"], r["mismatches"][:3])
    assert r["objects_checked"] == r["live_objects"] > 0, "retaincheck checked %d of %d objects" % (
        r["objects_checked"], r["live_objects"])
    # corpus/samename: go/scanner.Scanner and text/scanner.Scanner, each a
    # key of its own in the commands' index by full name (and the API's).
    if load_manifest(d).get("program") == "samename":
        assert r["split_keys_checked"] >= 2 and r["split_types_checked"] >= 2, \
            "retaincheck: %d keys, %d types by import path on samename" % (
                r["split_keys_checked"], r["split_types_checked"])
    return "%d objects, %d root groups, %d types exact (%d over budget), %d by import path of a shared name " \
        "(%d keys of the index by full name)" % (
            r["objects_checked"], r["groups_checked"], r["types_checked"], r["types_inexact"], r["split_types_checked"],
            r["split_keys_checked"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--version", required=True)
    ap.add_argument("--variant", default="")
    ap.add_argument("--build-dir", required=True)
    a = ap.parse_args()
    global GOHEAP
    GOHEAP = os.path.join(a.build_dir, "bin", "goheap")
    tag = corpus.tag(a.version, a.variant)
    try:
        skip, dirs = corpus.generate(a.version, a.variant, out=os.path.join(a.build_dir, "corpus"))
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        print("FAIL  %s corpus generation: %s" % (tag, e))
        print("0 passed, 1 failed")
        return 1
    if skip:
        print("SKIPPED: %s" % skip)
        return corpus.SKIP
    stripped = corpus_variant.stripped(a.variant)
    for d in dirs:
        name = "%s %s" % (tag, os.path.basename(d))
        check(name + " manifest", check_manifest, d, a.version)
        if stripped:
            check(name + " selfcheck (go version)", check_go_version, d)
        else:
            check(name + " selfcheck (gdb)", check_gdb_version, d)
            check(name + " engine (heap, sentinels, breakdown)", check_engine, d)
        check(name + " heap, paths, types", lambda d: check_heap(d, load_manifest(d), goheap_batch,
                                                                 named=not stripped, goheap=GOHEAP), d)
        if "retained" in load_manifest(d):
            check(name + " retained sizes", lambda d: check_retained(d, load_manifest(d), goheap_batch,
                                                                     named=not stripped), d)
        check(name + " retained sizes by brute force", check_bruteforce, d)
        if os.path.basename(d) in ("demo", "retained", "maps"):
            check(name + " pprof exports read by go tool pprof", lambda d: check_pprof(
                d, load_manifest(d), goheap_batch, named=not stripped), d)
            check(name + " graph of sentinels", lambda d: check_graph(d, load_manifest(d), goheap_batch,
                                                                    named=not stripped), d)
            check(name + " graph rendered by dot", lambda d: check_graph_dot(GOHEAP, d, load_manifest(d)), d)
        if os.path.basename(d) in ("sites", "demo"):
            check(name + " the runtime's heap profile (sites)", lambda d: check_sites(
                d, load_manifest(d), goheap_batch, GOHEAP, named=not stripped), d)
        check(name + " print", lambda d: check_print(d, load_manifest(d), goheap_batch, stripped=stripped,
                                                      goheap_text=goheap_text), d)
        check(name + " expressions as arguments", lambda d: check_expr(d, load_manifest(d), GOHEAP, named=not stripped), d)
        check(name + " finalizer and cleanup roots", lambda d: check_specials(d, load_manifest(d), goheap_batch), d)
        check(name + " global roots", lambda d: check_globals(d, load_manifest(d), goheap_batch), d)
        check(name + " goroutines and stack roots", lambda d: check_goroutines(d, load_manifest(d), goheap_batch), d)
        if not stripped:
            check(name + " goroutine layouts and allgs without DWARF and symbols", check_builtin_layouts, d, GOHEAP)
        if not stripped:
            check(name + " DWARF types, closures, frame variables",
                  lambda d: check_dwarf(d, load_manifest(d), os.path.join(os.path.dirname(GOHEAP), "dwarfcheck")), d)
        if os.path.basename(d) == "demo":
            check(name + " command contract (JSON and text)",
                  lambda d: check_contract(d, load_manifest(d), goheap_batch, GOHEAP), d)
        if not a.variant:
            check(name + " live mode", check_live, d)
            check(name + " goroutines and stack roots, live", check_goroutines_live, d, GOHEAP)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
