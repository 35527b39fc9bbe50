"""pprof exports read back by their real consumer, go tool pprof.

For a corpus core, `pprof OUT --retained` (by type) and `pprof OUT --by path
--retained` are written, then `go tool pprof -raw` reads each back:

- the samples' inuse_objects and inuse_space add up to heap's live objects
  and bytes;
- by type: every type the manifest counts has one sample with exactly that
  many objects; every type the manifest gives a retained size (corpus/
  retained) has that retained_space;
- by path: every sentinel held by a global has a sample whose stack goes from
  that global (the root frame) to the sentinel's type (the leaf);
- `go tool pprof -top` prints both.

Stripped binaries (named=False): the totals only.
"""
import os
import re
import shutil
import subprocess
import tempfile


def go():
    return shutil.which("go") or "/usr/local/go/bin/go"


def raw(path):
    """(sample types, [(values, [frame names leaf first])]) from pprof -raw."""
    p = subprocess.run([go(), "tool", "pprof", "-raw", path], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, "go tool pprof -raw %s: %s" % (path, p.stderr.strip()[-300:])
    lines = p.stdout.splitlines()
    i = lines.index("Samples:")
    types = [t.split("/")[0] for t in lines[i + 1].split()]
    samples, locs = [], {}
    k = i + 2
    while k < len(lines) and re.match(r"^\s+\d", lines[k]):
        vals, _, ids = lines[k].partition(":")
        samples.append(([int(v) for v in vals.split()], [int(x) for x in ids.split()]))
        k += 1
    j = lines.index("Locations")
    for l in lines[j + 1:]:
        # "name :0:0 s=0", then "(system name)" when the shown name differs
        m = re.match(r"^\s+(\d+): 0x0 M=\d+ (.*?) :0:0 s=0(?:\((.*)\))?$", l)
        if m:
            locs[int(m.group(1))] = m.group(3) if m.group(3) is not None else m.group(2)
    return types, [(v, [locs[x] for x in ids]) for v, ids in samples]


def check_pprof(d, m, goheap_batch, named=True):
    tmp = tempfile.mkdtemp(prefix="goheap-pprof-")
    try:
        by_type, by_path = os.path.join(tmp, "type.pb.gz"), os.path.join(tmp, "path.pb.gz")
        docs = goheap_batch(d, ["heap --json", "pprof %s --retained --json" % by_type,
                                "pprof %s --by path --retained --json" % by_path])
        heap = docs[0]
        out = []
        for f, doc in ((by_type, docs[1]), (by_path, docs[2])):
            types, samples = raw(f)
            assert types == ["inuse_objects", "inuse_space", "retained_space"], "%s: sample types %s" % (f, types)
            objs = sum(v[0] for v, _ in samples)
            space = sum(v[1] for v, _ in samples)
            assert (objs, space) == (heap["objects"], heap["bytes"]), \
                "%s: samples add up to %d objects, %d bytes; heap says %d, %d" % (
                    os.path.basename(f), objs, space, heap["objects"], heap["bytes"])
            assert doc["samples"] == len(samples), "%s: %d samples written, pprof reads %d" % (
                f, doc["samples"], len(samples))
            p = subprocess.run([go(), "tool", "pprof", "-top", f], capture_output=True, text=True, timeout=300)
            assert p.returncode == 0 and "flat%" in p.stdout, "pprof -top %s: %s" % (f, p.stderr[-300:])
            out.append("%d samples" % len(samples))
        if named:
            _, samples = raw(by_type)
            per = {fr[0]: v for v, fr in samples}
            for t, n in m["live"].items():
                got = per.get(t, [0])[0]
                assert got == n, "pprof by type: %s has %d objects, manifest %d" % (t, got, n)
            for e in m.get("retained", []):
                if "type" in e:
                    got = per.get(e["type"], [0, 0, -1])[2]
                    assert got == e["bytes"], "pprof by type: %s retains %d, manifest %d" % (e["type"], got, e["bytes"])
            _, samples = raw(by_path)
            stacks = [fr for _, fr in samples]
            for s in m["sentinels"]:
                if s["root"]["kind"] != "global":
                    continue
                root = "global " + s["root"]["name"]
                assert any(fr[0] == s["type"] and fr[-1] == root for fr in stacks), \
                    "pprof by path: no stack from %s to %s" % (root, s["type"])
        return "%s; totals = heap" % ", ".join(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
