#!/usr/bin/env python3
"""Truncated cores degrade gracefully (docs/cli.md, "Truncated cores").

Every corpus program of the oldest and the newest Go release, its core cut
short at several points (100 bytes, 1%, 5%, 15% and 40% off the end), is
checked against its manifest and against the whole core's own answers:

- The cut is said in one line: `goheap: warning: core is truncated: ...`
  with the file's size against the size its program headers describe.
- overview answers (exit 0) and says the file is truncated; its heap line
  gives the coverage, or why there is no heap at all.
- heap answers with the coverage line first (`heap: N% of in-use spans
  readable (...); counts cover those only`) and a "coverage" object in its
  JSON, or, when not one in-use span can be read, refuses in one line that
  names the truncation. Every live object is live in the whole core, at
  the same address with the same size, and of the same type, or of one the
  readable referrers give it (unknown where the typed referrer was cut off;
  never another type for the program's own); every per-type count (and the
  totals) is at most the whole core's, and at most the manifest's for the
  program's own types: never more than the truth. Where the cut took nothing of the heap, the
  counts are the whole core's exactly. Where part of the heap is missing,
  reachability is partial: heap --all has no garbage (null) but "unreached"
  counts, and objects no root reached are "not reached", never "garbage".
- paths on every sentinel gives the manifest's root, or says that the path
  is unknown because memory is missing.
- Retained sizes are refused in one line where reachability is partial.
- One case with part of the heap readable, through lldb (the plugin) and
  gdb (goheap.gdb): the same coverage, counts and sentinel paths as the CLI.

The corpus must give partial cases (some spans readable, some not, with live
sentinels found and others missing) for the test to mean anything: it fails
when it met none.

usage: test_truncated.py BUILD_DIR
"""
import bisect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from check_heap import _root_ok  # noqa: E402
from harness import check, record, summary, is_amd64  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
GOHEAP = os.path.join(BUILD, "bin", "goheap")
PLUGIN = os.path.join(BUILD, "lib", "libgoheap-lldb.so")
GDBFILE = os.path.join(BUILD, "share", "goheap", "goheap.gdb")
LLDB = os.environ.get("LLDB", "lldb-19")
WORK = tempfile.mkdtemp(prefix="goheap-truncated-")
CUTS = [("100 bytes", lambda n: n - 100), ("1%", lambda n: n * 99 // 100), ("5%", lambda n: n * 95 // 100),
        ("15%", lambda n: n * 85 // 100), ("40%", lambda n: n * 60 // 100)]
COVERAGE_LINE = re.compile(r"^heap: (\d+)% of in-use spans readable \(.*\); (counts cover those only|the core is "
                           r"truncated, but not where the heap is)$")
WARNING = re.compile(r"^goheap: warning: core is truncated: segment at 0x[0-9a-f]+ needs \d+ bytes at offset \d+, "
                     r"file has (\d+) \(\d+\.\d% of the (\d+) bytes its program headers describe; \d+ segments? "
                     r"incomplete, (its|their) missing bytes unreadable\)$")
seen = {"partial": 0, "complete": 0, "none": 0, "found": 0, "missing": 0, "unreached": 0}
untyped_seen = {"untyped": 0, "retyped": 0}  # typed otherwise in the whole core: reported, not required
partial_case = []  # (d, core, sentinel address live there, heap JSON, paths JSON)


def goheap(exe, core, args):
    return subprocess.run([GOHEAP, "--exe", exe, core] + args, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, GOHEAP_INDEX="off"))


def cut(src, keep, dst):
    """The first keep bytes of src, sparse like the kernel's core."""
    subprocess.run(["cp", "--sparse=always", src, dst], check=True, timeout=120)
    os.truncate(dst, keep)
    return dst


def by_full(heap):
    out = {}
    for t in heap["types"]:
        if t["count"]:  # heap --all's rows of garbage alone count 0 live
            out[t["full_type"]] = out.get(t["full_type"], 0) + t["count"]
    return out


def live_objects(exe, core):
    p = goheap(exe, core, ["objects", "--json", "--limit", "100000000"])
    assert p.returncode == 0, "objects: exit %d: %s" % (p.returncode, p.stderr[-300:])
    doc = json.loads(p.stdout)
    assert doc["shown"] == doc["matched"] == len(doc["objects"]), "objects listed %d of %d" % (
        doc["shown"], doc["matched"])
    return doc["objects"]


whole_live_cache = {}


def whole_objects(d):
    if d not in whole_live_cache:
        objs = live_objects(os.path.join(d, "exe"), os.path.join(d, "core"))
        whole_live_cache[d] = ({o["addr"]: o for o in objs}, sorted(int(o["addr"], 16) for o in objs))
    return whole_live_cache[d]


def whole_answers(d):
    p = goheap(os.path.join(d, "exe"), os.path.join(d, "core"), ["heap", "--json"])
    assert p.returncode == 0, "whole core: heap exit %d: %s" % (p.returncode, p.stderr[-300:])
    heap = json.loads(p.stdout)
    assert "coverage" not in heap, "a whole core's heap has a coverage object: %r" % heap["coverage"]
    return heap


def check_cut(d, m, whole, what, keep):
    exe = os.path.join(d, "exe")
    core = cut(os.path.join(d, "core"), keep, os.path.join(WORK, "core"))
    want = os.path.getsize(os.path.join(d, "core"))
    # The truncation, in one line.
    p = goheap(exe, core, ["overview"])
    assert p.returncode == 0, "overview: exit %d: %s" % (p.returncode, p.stderr[-300:])
    warns = [l for l in p.stderr.splitlines() if l.startswith("goheap: warning:")]
    assert len(warns) == 1, "warnings: %r" % warns
    w = WARNING.match(warns[0])
    assert w and int(w.group(1)) == keep and int(w.group(2)) == want, "warning %r (file %d of %d)" % (
        warns[0], keep, want)
    assert re.search(r"^Core file +truncated: %d of the %d bytes" % (keep, want), p.stdout, re.M), p.stdout
    heapline = [l for l in p.stdout.splitlines() if l.startswith(("Heap ", "Coverage "))]
    ov = json.loads(goheap(exe, core, ["overview", "--json"]).stdout)
    p = goheap(exe, core, ["heap", "--json", "--all"])
    if p.returncode != 0:  # not one in-use span readable
        errs = [l for l in p.stderr.splitlines() if not l.startswith("goheap: warning:")]
        assert p.returncode == 1 and len(errs) == 1 and "truncated" in errs[0], "heap: exit %d, %r" % (
            p.returncode, errs)
        assert ov["objects"] is None and ov["heap_error"] and "coverage" not in ov, ov
        assert heapline and "not readable, the core is truncated" in heapline[0], heapline
        seen["none"] += 1
        return "no heap: %s" % errs[0][8:100]
    heap = json.loads(p.stdout)
    cov = heap["coverage"]
    assert cov["truncated"] and cov["file_bytes"] == keep and cov["file_bytes_expected"] == want, cov
    assert 0 < cov["readable_span_bytes"] <= cov["in_use_span_bytes"] and 0 < cov["percent"] <= 100, cov
    assert ov["coverage"]["percent"] == cov["percent"] and ov["objects"] is not None, ov
    assert any(l.startswith("Coverage       heap: %d%%" % int(cov["percent"])) for l in heapline), heapline
    text = goheap(exe, core, ["heap"]).stdout.splitlines()
    c = COVERAGE_LINE.match(text[0]) if text else None
    assert c and int(c.group(1)) == int(cov["percent"]), "first line %r, coverage %r" % (text[:1], cov)
    # Never more than the truth: the whole core's objects and counts, the
    # manifest's. Each live object is live in the whole core, at the same
    # address with the same size. Its type may differ only where typing
    # depends on which referrers are readable: "unknown" (its typed referrer
    # is in the part cut off), or another type some referrer gives it (the
    # first typed referrer reached names an object; a []byte and a string
    # may share bytes). The program's own types never differ. A tiny block
    # unknown here is one whose values the whole core knows.
    got, full = by_full(heap), by_full(whole)
    whole_live, whole_addrs = whole_objects(d)
    retyped = {}
    for o in live_objects(exe, core):
        unknown = o["full_type"] == "unknown<%d>" % o["size"]
        w = whole_live.get(o["addr"])
        if not w and unknown:  # a tiny block: the whole core lists its values
            a = int(o["addr"], 16)
            i = bisect.bisect_left(whole_addrs, a)
            assert i < len(whole_addrs) and whole_addrs[i] < a + o["size"], \
                "%s %s is live here, nothing in it in the whole core" % (o["full_type"], o["addr"])
            untyped_seen["untyped"] += 1
            continue
        assert w, "%s %s is live here, not in the whole core" % (o["full_type"], o["addr"])
        where = "%s: %s %d bytes here, %s %d bytes in the whole core" % (o["addr"], o["full_type"], o["size"],
                                                                         w["full_type"], w["size"])
        if o["full_type"] == w["full_type"]:
            assert o["size"] == w["size"], where
            continue
        if unknown:  # an unknown object's size is its slot's; a typed one in a tiny block has its type's
            assert w["size"] <= o["size"], where
            untyped_seen["untyped"] += 1
            continue
        assert o["size"] == w["size"] and w["full_type"] not in m["live"] and o["full_type"] not in m["live"] and \
            not w["full_type"].startswith("unknown<"), where
        retyped[o["full_type"]] = retyped.get(o["full_type"], 0) + 1
        untyped_seen["retyped"] += 1
    over = {t: (n, full.get(t, 0)) for t, n in got.items()
            if n > full.get(t, 0) + retyped.get(t, 0) and not t.startswith("unknown<")}
    assert not over, "counts over the whole core's: %r" % over
    assert heap["objects"] <= whole["objects"] and heap["bytes"] <= whole["bytes"], "totals over the whole core's"
    over = {t: (got.get(t, 0), n) for t, n in m["live"].items() if got.get(t, 0) > n}
    assert not over, "counts over the manifest's: %r" % over
    if cov["complete"] and cov["reachability"] == "complete":
        assert got == full and heap["objects"] == whole["objects"], "a cut that took none of the heap changed it"
        assert heap["garbage_objects"] is not None and "unreached_objects" not in heap, "garbage unknown"
        seen["complete"] += 1
    else:
        assert cov["reachability"] == "partial", cov
        assert heap["garbage_objects"] is None and heap["unreached_objects"] >= 0, "garbage said of a partial heap"
        assert all("garbage_count" not in t for t in heap["types"]), "a row counts garbage"
        assert "not reached through readable memory" in "\n".join(
            goheap(exe, core, ["heap", "--all"]).stdout.splitlines()[:4]), "heap --all says no 'not reached'"
        ob = goheap(exe, core, ["objects", "--all", "--limit", "100000"]).stdout
        assert "(garbage)" not in ob, "objects calls an object of a partial heap garbage"
        seen["unreached"] += heap["unreached_objects"]
        r = goheap(exe, core, ["top"])
        errs = [l for l in r.stderr.splitlines() if not l.startswith("goheap: warning:")]
        assert r.returncode == 1 and len(errs) == 1 and "reachability is partial" in errs[0], "top: %r" % errs
        seen["partial"] += 1
    # paths: the manifest's root, or unknown because memory is missing.
    found = missing = 0
    for s in m["sentinels"]:
        p = goheap(exe, core, ["paths", s["addr"], "--json", "--max", "8"])
        assert p.returncode == 0, "paths %s: exit %d: %s" % (s["addr"], p.returncode, p.stderr[-300:])
        pj = json.loads(p.stdout)
        if pj.get("memory_missing"):
            assert pj["live"] is None and pj["paths"] == [] and pj["why"], pj
            t = goheap(exe, core, ["paths", s["addr"]]).stdout
            assert "path unknown, memory is missing" in t, t
            missing += 1
            continue
        where = "sentinel %s %s" % (s["type"], s["addr"])
        assert pj["live"] and pj["paths"], "%s: live %r, %d paths" % (where, pj["live"], len(pj["paths"]))
        roots = [q["root"] for q in pj["paths"]]
        # Where the manifest names a second holder ("also held by X"), the
        # cut may have taken the memory of the first: a path from X will do.
        also = re.search(r"also held by (\S+?)\)?$", s.get("note", ""))
        assert any(_root_ok(s["root"], r, True) or (also and r.get("name") == also.group(1)) for r in roots), \
            "%s: roots %r, manifest %r" % (where, roots, s["root"])
        assert pj["paths"][0]["hops"][-1]["addr"] == pj["target"]["addr"], "%s: path does not end at it" % where
        found += 1
        if not cov["complete"] and not partial_case:  # kept for the debuggers
            partial_case.append((d, cut(os.path.join(d, "core"), keep, os.path.join(WORK, "kept.core")), s, heap, pj))
    seen["found"] += found
    seen["missing"] += missing
    return "%.1f%% readable, reachability %s; sentinels: %d found, %d memory missing" % (
        cov["percent"], cov["reachability"], found, missing)


def lldb_docs(exe, core, cmds):
    script = "plugin load %s\ntarget create %s%s --core %s\n%s\nquit\n" % (
        PLUGIN, "" if is_amd64(exe) else "--arch aarch64-unknown-linux-gnu ", exe, core, "\n".join(cmds))
    path = os.path.join(WORK, "lldb-commands")
    with open(path, "w") as f:
        f.write(script)
    p = subprocess.run([LLDB, "--no-lldbinit", "--batch", "-s", path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=600, env=dict(os.environ, GOHEAP_INDEX="off"),
                       stdin=subprocess.DEVNULL)
    return p.stdout, [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]


def gdb_docs(exe, core, cmds):
    argv = ["gdb", "-batch", "-nx", "-iex", "set auto-load no", "-iex", "set pagination off", "-x", GDBFILE]
    for c in cmds:
        argv += ["-ex", c]
    p = subprocess.run(argv + [exe, core], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600,
                       env=dict(os.environ, GOHEAP_INDEX="off"), stdin=subprocess.DEVNULL, cwd=WORK)
    return p.stdout, [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]


def check_debugger(name, fn):
    assert partial_case, "no case with part of the heap readable and a sentinel found"
    d, core, s, heap, pj = partial_case[0]
    exe = os.path.join(d, "exe")
    out, docs = fn(exe, core, ["go-heap --json --all", "go-paths %s --json --max 8" % s["addr"], "go-overview --json",
                               "go-heap"])
    assert len(docs) == 3, "%s answered %d of 3 JSON commands: %s" % (name, len(docs), out[-800:])
    h, p, ov = docs
    assert h["coverage"] == heap["coverage"], "coverage %r, CLI %r" % (h["coverage"], heap["coverage"])
    assert by_full(h) == by_full(heap) and h["objects"] == heap["objects"], "counts differ from the CLI's"
    assert h["garbage_objects"] is None and h["unreached_objects"] == heap["unreached_objects"], "unreached"
    assert p["live"] and [q["root"] for q in p["paths"]] == [q["root"] for q in pj["paths"]], "paths differ"
    assert ov["coverage"]["percent"] == heap["coverage"]["percent"], "overview's coverage"
    assert re.search(r"^heap: \d+% of in-use spans readable .*counts cover those only$", out, re.M), \
        "no coverage line in the text: %s" % out[-600:]
    return "%s %s cut: %.1f%% readable, %s reached from %s" % (
        os.path.basename(os.path.dirname(d)), os.path.basename(d), heap["coverage"]["percent"], s["type"],
        p["paths"][0]["root"].get("name") or p["paths"][0]["root"].get("function"))


def met_every_case():
    """A test that cannot fail is a defect: the cuts must have given heaps
    in part, heaps whole, no heap, sentinels found and sentinels missing."""
    assert all(seen.values()), "cases met: %r" % seen
    return "%(partial)d partial heaps (%(unreached)d objects not reached), %(complete)d whole, %(none)d without a " \
           "heap; sentinels: %(found)d found, %(missing)d memory missing" % seen + \
           "; objects typed in the whole core only: %(untyped)d, typed otherwise there: %(retyped)d" % untyped_seen


def main():
    versions = corpus.versions()
    for version in sorted({versions[0], versions[-1]}, key=versions.index):
        skipped, dirs = corpus.generate(version, "", out=os.path.join(BUILD, "corpus"))
        if skipped:
            print("SKIPPED: %s" % skipped)
            return corpus.SKIP
        for d in dirs:
            with open(os.path.join(d, "manifest.json")) as f:
                m = json.load(f)
            try:
                whole = whole_answers(d)
            except (AssertionError, ValueError) as e:
                record("%s %s: whole core" % (version, m["program"]), False)
                print("FAIL  %s %s: whole core: %s" % (version, m["program"], e))
                continue
            size = os.path.getsize(os.path.join(d, "core"))
            for what, keep in CUTS:
                check("%s %s, %s cut off" % (version, m["program"], what), check_cut, d, m, whole, what, keep(size))
    check("the cuts met every case", met_every_case)
    if shutil.which(LLDB) and os.path.exists(PLUGIN):
        check("lldb: a partial heap as the CLI gives it", check_debugger, "lldb", lldb_docs)
    else:
        print("skip  lldb: %s or the plugin is missing" % LLDB)
    if shutil.which("gdb") and os.path.exists(GDBFILE):
        check("gdb: a partial heap as the CLI gives it", check_debugger, "gdb", gdb_docs)
    else:
        print("skip  gdb: gdb or goheap.gdb is missing")
    shutil.rmtree(WORK, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
