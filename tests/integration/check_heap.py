"""heap, objects and paths against a corpus manifest.

- heap --json: every type the manifest names in `live` has exactly that many
  live objects;
- paths --json for every sentinel: the object is live and the first path's
  root is the manifest's (kind and name; for stacks the goroutine and the
  frame's function; the variable when the manifest names one and goheap
  knows it);
- typed coverage: at least 95% of live heap bytes are typed;
- objects --json --type agrees with heap on every manifest type.

Binaries without symbols (the stripped variant) cannot name globals: there
only the root's kind is compared, which the caller says with named=False.

Where goheap cannot know a type it says so ("limits" in heap --json: no
DWARF; a Go 1.22 closure whose captures its code does not show). Then, and
only then, a count may fall short of the manifest and coverage may be under
95%, but goheap must never count more objects of a type than the manifest.
"""
import re

COVERAGE_MIN = 0.95


def _root_ok(want, got, named):
    if got.get("kind") != want["kind"]:
        return False
    if not named and want["kind"] == "global":
        return True
    if want["kind"] == "stack":
        if "goroutine" in want and got.get("goroutine") != want["goroutine"]:
            return False
        if got.get("function") != want.get("function"):
            return False
        if want.get("variable") and got.get("variable") and got["variable"] != want["variable"]:
            return False
        return True
    return got.get("name") == want.get("name")


def check_heap(d, m, goheap_batch, named=True):
    """Returns a one-line summary (typed coverage); raises AssertionError."""
    sentinels = m["sentinels"]
    cmds = ["heap --json --all", "roots --json"] + ["paths %s --json --max 8" % s["addr"] for s in sentinels]
    types = [t for t in m["live"]]
    cmds += ["objects --json --limit 0 --type '^%s$'" % re.escape(t) for t in types]
    docs = goheap_batch(d, cmds)
    heap, roots, paths, objs = docs[0], docs[1], docs[2:2 + len(sentinels)], docs[2 + len(sentinels):]
    by_type = {r["type"]: r for r in heap["types"]}
    # The one limit the corpus is known to meet: no DWARF (stripped).
    # Anywhere else a limit is a failure.
    allowed = not named
    assert allowed or not heap.get("limits"), "unexpected limits: %s" % "; ".join(heap["limits"])
    limited = bool(heap.get("limits"))
    if not named:
        assert any("no DWARF" in l for l in heap.get("limits", [])), "stripped: goheap does not say it lacks DWARF"
    bad, short = [], []
    for t, n in sorted(m["live"].items()):
        got = by_type.get(t, {}).get("count", 0)
        if got > n or (got < n and not limited):
            bad.append("%s: goheap %d live, manifest %d" % (t, got, n))
        elif got < n:
            short.append("%s %d/%d" % (t, got, n))
    assert not bad, "live counts differ: " + "; ".join(bad[:8])
    for t, o in zip(types, objs):
        assert o["matched"] == by_type.get(t, {}).get("count", 0), \
            "objects --type %s matched %d live objects, heap says %d" % (t, o["matched"], by_type.get(t, {}).get("count", 0))
    for s, p in zip(sentinels, paths):
        where = "sentinel %s %s" % (s["type"], s["addr"])
        assert p["live"], "%s: goheap finds it unreachable" % where
        assert p["paths"], "%s: no path" % where
        got = p["paths"][0]["root"]
        # A sentinel the manifest says is also held elsewhere ("also held by
        # main.KeyOf") may be reached first from there; the manifest's root
        # must then be among the paths from other roots.
        also = re.search(r"also held by (\S+?)\)?$", s.get("note", ""))
        if also and named and got.get("name") == also.group(1):
            assert any(_root_ok(s["root"], q["root"], named) for q in p["paths"]), \
                "%s: no path from %r among %r" % (where, s["root"], [q["root"] for q in p["paths"]])
        else:
            assert _root_ok(s["root"], got, named), "%s: first path's root %r, manifest %r" % (
                where, got, s["root"])
        assert p["paths"][0]["hops"][-1]["addr"] == p["target"]["addr"], "%s: path does not end at the object" % where
    cov = heap["typed_bytes"] / heap["bytes"] if heap["bytes"] else 1.0
    assert cov >= COVERAGE_MIN or limited, "typed coverage %.1f%% < %.0f%% (%d of %d live bytes)" % (
        100 * cov, 100 * COVERAGE_MIN, heap["typed_bytes"], heap["bytes"])
    assert not heap["notes"], "notes: %s" % "; ".join(heap["notes"])
    detail = "typed %.1f%% of %d live bytes, %d objects" % (100 * cov, heap["bytes"], heap["objects"])
    if short:
        detail += "; limited (%s): %s" % ("; ".join(heap["limits"]), ", ".join(short))
    return detail
