"""corpus/samename through what aggregates the dominator tree by type:
suspects, pprof, diff, graph and paths --aggregate.

go/scanner.Scanner and text/scanner.Scanner share reflect's short name
scanner.Scanner. Each command must keep them apart as two rows (two folded
groups, two pprof frames, two diff rows), each named by its import path
(JSON full_type beside type, the short name; text and pprof frames in full,
the short name being shared), with the counts the program gives by import
path in its notes ("live by import path: go/scanner.Scanner 5"):

- suspects --json at a threshold just at one type's folded siblings under
  the root (their retained bytes as dominators gives them): a group suspect
  of that full name with dominators' count, its histogram one row of that
  full name; every suspect and histogram row of the short name carries one
  of the two full names; the text says "N instances of go/scanner.Scanner";
- pprof by type (with and without --retained) and by path, read back by
  go tool pprof -raw: each full name is one frame whose samples count the
  program's instances, with heap --retained's retained bytes (by type); no
  frame is the bare short name; by path each global's stack ends at its own
  full name;
- diff against another program's core (demo, same release), and against
  itself: each full name is a row counting the program's instances on its
  side (vanished_full_types names both; the short names twice), retained
  bytes as heap --retained gives them; the text names both in full;
- graph of each Scanner sentinel: the node's full_type, and the picture's
  label in full;
- paths --aggregate by each full name: that import path's instances alone.
"""
import os
import shutil
import subprocess
import tempfile

from check_pprof import raw

SHORT = "scanner.Scanner"


def _suspects(d, goheap_batch, goheap, live, groups):
    """groups: {full name: (count, retained bytes)} of the folded siblings
    under the root (dominators --json)."""
    out = []
    for full, (count, rbytes) in sorted(groups.items()):
        pct = "%.9f" % (100.0 * rbytes / live)
        s = goheap_batch(d, ["suspects --json --min-percent %s" % pct])[0]
        rows = [x for x in s["suspects"] if x.get("type") == SHORT]
        for x in rows:
            assert x.get("full_type") in groups, "samename suspects: %r" % x
        g = [x for x in rows if x["kind"] == "group" and x["full_type"] == full]
        assert len(g) == 1 and g[0]["count"] == count and g[0]["retained_bytes"] == rbytes, \
            "samename suspects at %s%%: groups of %s %r, dominators folds %d retaining %d (%d more suspects)" % (
                pct, full, [(x["count"], x["retained_bytes"]) for x in g], count, rbytes, s["more"])
        hist = [t for t in g[0]["types"] if t["type"] == SHORT]
        assert [(t["full_type"], t["count"]) for t in hist] == [(full, count)], \
            "samename suspects: the group of %s retains %r" % (full, hist)
        for x in s["suspects"]:
            for t in x["types"]:
                assert "full_type" in t and (t["type"] != SHORT or t["full_type"] in groups), \
                    "samename suspects: histogram row %r" % t
        if goheap:
            p = subprocess.run([goheap, "--exe", os.path.join(d, "exe"), os.path.join(d, "core"), "suspects",
                                "--min-percent", pct], capture_output=True, text=True, timeout=600)
            assert p.returncode == 0 and "%d instances of %s " % (count, full) in p.stdout, \
                "samename suspects text: no '%d instances of %s': %r" % (count, full, p.stdout[:600])
        out.append("%d × %s" % (count, full))
    return "suspects " + ", ".join(out)


def _pprof(d, goheap_batch, want, retained):
    tmp = tempfile.mkdtemp(prefix="goheap-samename-")
    try:
        bt, bp, b0 = (os.path.join(tmp, f) for f in ("type.pb.gz", "path.pb.gz", "count.pb.gz"))
        goheap_batch(d, ["pprof %s --retained --json" % bt, "pprof %s --by path --retained --json" % bp,
                         "pprof %s --json" % b0])
        _, samples = raw(b0)  # counted without retained sizes: the same frames and counts
        for full, n in want.items():
            got = [v for v, fr in samples if fr[0] == full]
            assert len(got) == 1 and got[0][0] == n, "samename pprof by type (no --retained): %s samples %r, the " \
                "program %d" % (full, got, n)
        assert not any(fr[0] == SHORT for _, fr in samples), "samename pprof by type: a frame named %s" % SHORT
        _, samples = raw(bt)
        per = {}
        for v, fr in samples:
            assert fr[0] != SHORT, "samename pprof by type: a frame named %s (%r)" % (SHORT, v)
            per.setdefault(fr[0], []).append(v)
        for full, n in want.items():
            got = per.get(full, [])
            assert len(got) == 1 and got[0][0] == n and got[0][2] == retained[full], \
                "samename pprof by type: %s samples %r, the program %d live retaining %d (heap --retained)" % (
                    full, got, n, retained[full])
        _, samples = raw(bp)
        count = {}
        for v, fr in samples:
            assert fr[0] != SHORT, "samename pprof by path: a leaf named %s (%r)" % (SHORT, fr)
            count[fr[0]] = count.get(fr[0], 0) + v[0]
        for full, n in want.items():
            assert count.get(full) == n, "samename pprof by path: %s counts %r, the program %d" % (
                full, count.get(full), n)
        roots = {"go/scanner.Scanner": "global main.GoScanners", "text/scanner.Scanner": "global main.TextScanners"}
        for full, root in roots.items():
            assert any(fr[0] == full and fr[-1] == root for _, fr in samples), \
                "samename pprof by path: no stack from %s to %s" % (root, full)
        return "pprof frames %s" % ", ".join("%s %d" % (f, n) for f, n in sorted(want.items()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _diff(d, goheap_batch, goheap, want, retained):
    other = os.path.join(os.path.dirname(d), "demo")
    if not os.path.exists(os.path.join(other, "core")):
        other = d
    cmds = ["diff %s --json --top 100000" % os.path.join(d, "core"),
            "diff %s --exe %s --json --top 100000" % (os.path.join(other, "core"), os.path.join(other, "exe"))]
    same, vs = goheap_batch(d, cmds)
    for doc, what in ((same, "itself"), (vs, os.path.basename(other))):
        rows = [t for t in doc["types"] if t["type"] == SHORT]
        got = {t["full_type"]: t for t in rows}
        assert len(rows) == len(got) and set(got) == set(want), "samename diff against %s: rows %r" % (
            what, [(t["type"], t["full_type"]) for t in rows])
        for full, n in want.items():
            t = got[full]
            assert t["count_base"] == n and t["retained_base"] == retained[full], \
                "samename diff against %s: %s counts %d retaining %d, the program %d (heap --retained %d)" % (
                    what, full, t["count_base"], t["retained_base"], n, retained[full])
        assert all("full_type" in t for t in doc["types"]), "samename diff: a row without full_type"
    for full, n in want.items():
        t = {r["full_type"]: r for r in same["types"]}[full]
        assert (t["count_other"], t["count_delta"]) == (n, 0), "samename diff against itself: %s %r" % (full, t)
    if other != d:
        assert sorted(f for f in vs["vanished_full_types"] if f in want) == sorted(want) and \
            vs["vanished"].count(SHORT) == len(want), "samename diff against %s: vanished %r, %r" % (
                os.path.basename(other), vs["vanished"], vs["vanished_full_types"])
        assert len(vs["vanished"]) == len(vs["vanished_full_types"]), "samename diff: vanished lists differ"
        if goheap:
            p = subprocess.run([goheap, "--exe", os.path.join(d, "exe"), os.path.join(d, "core"), "diff",
                                os.path.join(other, "core"), "--exe", os.path.join(other, "exe"), "--top", "100000"],
                               capture_output=True, text=True, timeout=600)
            for full, n in want.items():
                assert p.returncode == 0 and any(l.split()[:1] == ["-%d" % n] and l.endswith(" %s (vanished)" % full)
                                                 for l in p.stdout.splitlines()), \
                    "samename diff text: no '-%d ... %s (vanished)' line" % (n, full)
    return "diff rows by import path against itself and %s" % os.path.basename(other)


def _graph(d, goheap_batch, goheap, sents):
    for addr, full in sents:
        g = goheap_batch(d, ["graph %s --json --referrers" % addr])[0]
        n0 = g["nodes"][0]
        assert (n0["type"], n0.get("full_type")) == (SHORT, full), "samename graph %s: node %r" % (addr, n0)
        assert all("full_type" in n for n in g["nodes"] if n["kind"] in ("object", "folded")), \
            "samename graph %s: a node without full_type" % addr
        if goheap:
            p = subprocess.run([goheap, "--exe", os.path.join(d, "exe"), os.path.join(d, "core"), "graph", addr],
                               capture_output=True, text=True, timeout=600)
            assert p.returncode == 0 and ('label="%s\\n' % full) in p.stdout, "samename graph %s dot: %r" % (
                addr, p.stdout[:400])
    return "graph"


def _paths_aggregate(d, goheap_batch, want, retained):
    """paths --aggregate by each full name counts only that import path's
    instances, with heap --retained's bytes (the instances are disjoint:
    each a slice element under its own global); the short name counts both."""
    cmds = ["paths --aggregate %s --json" % full for full in sorted(want)] + ["paths --aggregate %s --json" % SHORT]
    docs = goheap_batch(d, cmds)
    for full, doc in zip(sorted(want), docs):
        assert (doc["count"], doc["retained_bytes"]) == (want[full], retained[full]), \
            "samename paths --aggregate %s: %d instances retaining %d, the program %d (heap --retained %d)" % (
                full, doc["count"], doc["retained_bytes"], want[full], retained[full])
    both = docs[-1]
    assert both["count"] == sum(want.values()), "samename paths --aggregate %s: %d instances, the program %d" % (
        SHORT, both["count"], sum(want.values()))
    return "paths --aggregate by import path"


def check_samename_aggregates(d, goheap_batch, goheap, want, tree, sents, retained):
    """want: {full name: live count} (the program's notes); tree: dominators
    --json's root node over the whole tree; sents: [(addr, full name)] of
    the Scanner sentinels; retained: {full name: heap --retained's bytes}."""
    groups = {}
    for c in tree.get("children", []):
        if c.get("type") == SHORT and c.get("group"):
            groups[c["full_type"]] = (c["count"], c["retained_bytes"])
    assert set(groups) == set(want), "samename dominators: folded groups under the root %r" % groups
    return "; ".join([_suspects(d, goheap_batch, goheap, tree["retained_bytes"], groups),
                      _pprof(d, goheap_batch, want, retained),
                      _diff(d, goheap_batch, goheap, want, retained),
                      _graph(d, goheap_batch, goheap, sents),
                      _paths_aggregate(d, goheap_batch, want, retained)])
