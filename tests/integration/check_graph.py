"""graph ADDR: the neighbourhood of a sentinel, read back by Graphviz.

- `graph ADDR --format json --depth 2`: the first node is the object, with
  the retained size `retains` gives; every edge joins two listed nodes;
  folded nodes count at least two objects; what the object's children
  retain, plus its own size, is at most what it retains;
- `graph ADDR --referrers --depth 8 --format json`: a global sentinel's
  referrers reach the manifest's global (named binaries);
- `graph ADDR -o FILE`: `dot -Tsvg FILE` renders it.
"""
import os
import shutil
import subprocess
import tempfile


def check_graph(d, m, goheap_batch, named=True):
    tmp = tempfile.mkdtemp(prefix="goheap-graph-")
    try:
        ss = m["sentinels"][:4]
        cmds = []
        for i, s in enumerate(ss):
            cmds += ["graph %s --format json --depth 2" % s["addr"], "retains %s --json" % s["addr"],
                     "graph %s --referrers --depth 8 --format json" % s["addr"]]
        docs = goheap_batch(d, cmds)
        k = 0
        for i, s in enumerate(ss):
            g, ret, ref = docs[k], docs[k + 1], docs[k + 2]
            k += 3
            n0 = g["nodes"][0]
            assert int(n0["addr"], 16) == int(ret["target"]["addr"], 16), "graph starts at %s" % n0["addr"]
            assert n0["retained_bytes"] == ret["retained_bytes"], "graph %s: node retains %d, retains says %d" % (
                s["addr"], n0["retained_bytes"], ret["retained_bytes"])
            ids = {x["id"] for x in g["nodes"]}
            assert all(e["from"] in ids and e["to"] in ids for e in g["edges"]), "an edge to an unlisted node"
            assert all(x["count"] >= 2 for x in g["nodes"] if x["kind"] == "folded"), "a folded node of one"
            kids = sum(x["retained_bytes"] for x in g["nodes"] for e in g["edges"] if e["from"] == 0 and e["to"] == x["id"])
            assert kids + n0["size"] <= n0["retained_bytes"], "children retain more than their dominator"
            if named and s["root"]["kind"] == "global":
                roots = [x["root"].get("name") for x in ref["nodes"] if x["kind"] == "root"]
                assert s["root"]["name"] in roots or any(x["kind"] == "roots" for x in ref["nodes"]), \
                    "referrers of %s do not reach %s: %s" % (s["addr"], s["root"]["name"], roots)
        return "%d sentinels" % len(ss)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_graph_dot(goheap, d, m):
    """graph -o FILE, rendered by dot -Tsvg."""
    tmp = tempfile.mkdtemp(prefix="goheap-dot-")
    try:
        s = m["sentinels"][0]
        f = os.path.join(tmp, "g.dot")
        for extra in ([], ["--referrers", "--depth", "6"]):
            p = subprocess.run([goheap, "--exe", os.path.join(d, "exe"), os.path.join(d, "core"), "graph", s["addr"],
                                "-o", f] + extra, capture_output=True, text=True, timeout=300)
            assert p.returncode == 0 and "wrote" in p.stdout, "graph -o: %s" % p.stderr[-300:]
            r = subprocess.run(["dot", "-Tsvg", f], capture_output=True, text=True, timeout=120)
            assert r.returncode == 0 and "<svg" in r.stdout, "dot -Tsvg: %s" % r.stderr[-300:]
        return "dominated and referrers rendered by dot"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
