"""The process's own heap profile read from a core (sites, pprof --by site,
the allocation stack in whatis and print), against corpus/sites.

corpus/sites sets runtime.MemProfileRate to 1, so every allocation is
sampled, and makes each of its objects at a one-line function whose file
and line it prints in the manifest ("sites"), with what it keeps live, what
it leaves as garbage, how many stacks reach the site, and what
runtime.MemProfile said right after its last GC (an independent source).
For every manifest site, `sites --json --all --stacks` must give:

- live_objects = the manifest's live count = the runtime's inuse_objects,
  and live_bytes = the runtime's inuse_bytes;
- alloc_objects and alloc_bytes = the runtime's (the published cycle);
- sampled_objects - live_objects = the manifest's garbage (objects made after
  the last GC: sampled, unreachable, never published);
- stack_count = the manifest's callers, the type of the live objects = the
  manifest's type, and every stack's first non-runtime frame is the site;

`pprof --by site` read back with `go tool pprof -raw`: per site function,
inuse_objects and alloc_objects sum to the same figures. `whatis` and
`print` on a live object of each site show its allocation stack, whose
first frame is the site.

Other programs (profiling disabled by the linker) must say so; stripped
binaries (no symbol for runtime.mbuckets) must fail with a one-line error.
"""
import os
import re
import subprocess
import tempfile

from check_pprof import go


def raw_code(path):
    """(sample types, [(values, [innermost function of each location, leaf first])])
    from go tool pprof -raw of a profile of code locations."""
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
        while k < len(lines) and lines[k].strip().startswith("bytes:"):
            k += 1
    j = lines.index("Locations")
    for l in lines[j + 1:]:
        m = re.match(r"^\s+(\d+): 0x[0-9a-f]+ M=\d+ (\S+) ", l)
        if m:
            locs[int(m.group(1))] = m.group(2)
        elif l and not l.startswith(" "):
            break
    return types, [(v, [locs[x] for x in ids]) for v, ids in samples]


def same_site(frame, s):
    return (frame["function"] == s["function"] and frame["line"] == s["line"]
            and os.path.basename(frame["file"]) == os.path.basename(s["file"]))


def check_sites(d, m, goheap_batch, goheap, named=True):
    exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
    if not named:
        p = subprocess.run([goheap, "--exe", exe, core, "sites"], capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, GOHEAP_INDEX="off"))
        err = p.stderr.strip()
        assert p.returncode != 0 and "runtime.mbuckets" in err and len(err.splitlines()) == 1, \
            "stripped: sites gave %d, %r" % (p.returncode, err[-300:])
        return "stripped: %s" % err[:60]
    (r,) = goheap_batch(d, ["sites --json --all --stacks"])
    if "sites" not in m:
        assert r["disabled"] and r["rate"] == 0, "a program that never calls MemProfile: disabled %r rate %r" % (
            r["disabled"], r["rate"])
        return "profiling disabled by the linker: said so (%d stacks sampled before)" % r["buckets"]
    assert r["rate"] == 1 and not r["disabled"], "rate %r disabled %r" % (r["rate"], r["disabled"])
    rows = r["sites"]
    checked = []
    for s in m["sites"]:
        got = [x for x in rows if same_site(x, s)]
        if not got:
            # a site with nothing sampled that the runtime never published:
            # only possible for a site whose objects all died and were freed
            # before the last GC without a record, which corpus/sites never does
            raise AssertionError("%s %s:%d is not among goheap's sites" % (s["function"], s["file"], s["line"]))
        assert len(got) == 1, "%s listed %d times" % (s["function"], len(got))
        x, rt = got[0], s["runtime"]
        what = "%s (%s:%d)" % (s["function"], os.path.basename(s["file"]), s["line"])
        assert x["live_objects"] == s["live"] == rt["inuse_objects"], "%s: %d live, manifest %d, runtime %d" % (
            what, x["live_objects"], s["live"], rt["inuse_objects"])
        assert x["live_bytes"] == rt["inuse_bytes"], "%s: %d live bytes, runtime %d" % (
            what, x["live_bytes"], rt["inuse_bytes"])
        assert x["alloc_objects"] == rt["alloc_objects"] and x["alloc_bytes"] == rt["alloc_bytes"], \
            "%s: allocated %d/%d B, runtime %d/%d B" % (what, x["alloc_objects"], x["alloc_bytes"],
                                                       rt["alloc_objects"], rt["alloc_bytes"])
        assert x["sampled_objects"] - x["live_objects"] == s["garbage"], "%s: %d sampled, %d live, garbage %d" % (
            what, x["sampled_objects"], x["live_objects"], s["garbage"])
        assert x["stack_count"] == s["callers"] == len(x["stacks"]), "%s: %d stacks, manifest %d" % (
            what, x["stack_count"], s["callers"])
        if s["live"]:
            assert x.get("type") == s["type"] and not x["mixed_types"], "%s: type %r, manifest %s" % (
                what, x.get("type"), s["type"])
        for st in x["stacks"]:
            user = [f for f in st["frames"] if not f["function"].startswith(("runtime.", "internal/runtime/"))]
            assert user and same_site(user[0], s), "%s: a stack starts at %r" % (what, user[:1])
        checked.append(s)
    # The export, read back by go tool pprof
    tmp = tempfile.mkdtemp(prefix="goheap-sites-")
    try:
        out = os.path.join(tmp, "sites.pb.gz")
        (w,) = goheap_batch(d, ["pprof %s --by site --json" % out])
        assert w["by"] == "site" and w["live_sampled_objects"] == r["live_objects"], "pprof --by site: %r" % w
        types, samples = raw_code(out)
        assert types == ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"], "sample types %r" % types
        for s in checked:
            leaf = [v for v, frames in samples if frames and frames[0] == s["function"]]
            inuse = sum(v[2] for v in leaf)
            alloc = sum(v[0] for v in leaf)
            assert inuse == s["live"] and alloc == s["runtime"]["alloc_objects"], \
                "pprof: %s inuse %d alloc %d, want %d and %d" % (s["function"], inuse, alloc, s["live"],
                                                                 s["runtime"]["alloc_objects"])
        top = subprocess.run([go(), "tool", "pprof", "-top", "-sample_index=inuse_space", out], capture_output=True,
                             text=True, timeout=300)
        assert top.returncode == 0 and "main.newHuge" in top.stdout, "pprof -top: %s" % (top.stdout + top.stderr)[-300:]
    finally:
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    # The allocation stack of one live object per site, in whatis and print
    live_sites = [s for s in checked if s["live"]]
    cmds = ["objects --type ^%s$ --limit 1 --json" % s["type"].replace(".", "\\.") for s in live_sites]
    objs = goheap_batch(d, cmds)
    cmds = []
    for o in objs:
        a = o["objects"][0]["addr"]
        cmds += ["whatis %s --json" % a, "print %s --json" % a]
    docs = goheap_batch(d, cmds)
    for i, s in enumerate(live_sites):
        for doc, cmd in ((docs[2 * i]["object"], "whatis"), (docs[2 * i + 1], "print")):
            st = doc.get("alloc_stack")
            assert st and same_site(st[0], s), "%s of a %s: allocation stack %r" % (cmd, s["type"], st)
    return "%d sites exact (live, bytes, allocations, garbage, stacks), pprof --by site, whatis/print stacks" % len(
        checked)
