"""Retained sizes (the dominator tree) against a corpus manifest's "retained"
list (corpus/retained/main.go builds shapes whose retained sizes are known by
construction; corpus/manifest/manifest.go, type Retained, says what each
entry means). Programs whose manifest has no "retained" list are not checked.

Each number is exact unless the entry says at_least (then goheap's must be
at least the manifest's):

- an object (addr): `retains ADDR --json` has its retained bytes and objects,
  and its types histogram adds up to them; the last hop of `paths ADDR
  --json` carries the same numbers (every hop that is a live object carries
  some); `dominators ADDR --json --depth 1 --min-percent 0` gives the node
  the same numbers, and the node's own size plus its children's retained
  sizes (groups, and more_bytes of children not shown, included) is its
  retained size;
- a root group (root): the entry of `roots --retained --json` for it (a global
  by name; a goroutine by id; a finalizer by kind: one of the finalizer
  entries has the numbers). A global retaining nothing (main.SharedA) may be
  absent. The list is sorted by retained bytes, largest first;
- a type: its row of `heap --retained --json --all`. Every row of live
  objects has retained sizes, at least its own instances (rows of garbage
  only and of tiny-allocator objects, which share 16-byte blocks, excepted);
- `top --json --limit 50`: sorted by retained bytes, largest first; live_bytes
  is heap's live bytes; percent is the share of it; each entry's path ends
  at it; the first 5 entries retain what `retains` says; a sentinel the
  manifest says is all its root group retains (the tree's root, the
  diamond's top, ring node 0, the parked goroutine's and the finalizer's
  objects) is listed when its retained size is among the 50 largest.

Stripped binaries (named=False) name neither globals nor user types: only
object-addressed entries, goroutine and finalizer roots and the top list are
checked there.
"""

TOP = 50
SPOT = 5  # top entries compared with `retains`


def _num(doc, key):
    v = doc.get(key)
    assert isinstance(v, int), "%s is %r" % (key, v)
    return v


def _match(e, b, o):
    """goheap's bytes b and objects o against a manifest entry."""
    if e.get("at_least"):
        return b >= e["bytes"] and o >= e["objects"]
    return b == e["bytes"] and o == e["objects"]


def _want(e):
    return "%s%d bytes, %d objects" % ("at least " if e.get("at_least") else "", e["bytes"], e["objects"])


def _addr(s):
    return int(s, 16)


def _root_entries(rr, root, named):
    """The `roots --retained` entries a manifest root names, or None when they
    cannot be told apart (unnamed globals)."""
    kind = root["kind"]
    if kind == "stack":
        return [r for r in rr if r["root"].get("kind") == "stack" and r["root"].get("goroutine") == root["goroutine"]]
    if kind == "finalizer":
        return [r for r in rr if r["root"].get("kind") == "finalizer"]
    if not named:
        return None
    return [r for r in rr if r["root"].get("kind") == kind and r["root"].get("name") == root.get("name")]


def _root_key(root):
    return (root["kind"], root.get("goroutine") if root["kind"] == "stack" else root.get("name"))


def check_retained(d, m, goheap_batch, named=True):
    """Returns a one-line summary; raises AssertionError."""
    entries = m.get("retained")
    if not entries:
        return "no retained entries"
    objs = [e for e in entries if e.get("addr")]
    roots = [e for e in entries if e.get("root")]
    types = [e for e in entries if e.get("type")]
    cmds = ["roots --retained --json", "heap --retained --json --all", "top --json --limit %d" % TOP]
    for e in objs:
        cmds += ["retains %s --json" % e["addr"], "paths %s --json" % e["addr"],
                 "dominators %s --json --depth 1 --min-percent 0 --limit 1000" % e["addr"]]
    docs = goheap_batch(d, cmds)
    rdoc, heap, top = docs[0], docs[1], docs[2]
    bad = []

    # Objects: retains, the last hop of paths, dominators.
    for i, e in enumerate(objs):
        ret, paths, dom = docs[3 + 3 * i:6 + 3 * i]
        where = "object %s" % e["addr"]
        t = ret["target"]
        assert _addr(t["addr"]) == _addr(e["addr"]), "%s: retains answers for %s" % (where, t["addr"])
        where = "object %s %s" % (e["addr"], t.get("type"))
        if not ret["live"]:
            bad.append("%s: retains says it is not live" % where)
            continue
        b, o = _num(ret, "retained_bytes"), _num(ret, "retained_objects")
        if not _match(e, b, o):
            bad.append("%s: retains %d bytes, %d objects; manifest %s" % (where, b, o, _want(e)))
        hb = sum(x["bytes"] for x in ret["types"])
        ho = sum(x["count"] for x in ret["types"])
        if (hb, ho) != (b, o):
            bad.append("%s: retains' types add up to %d bytes, %d objects; its totals are %d, %d" % (
                where, hb, ho, b, o))
        if b < t["size"] or o < 1:
            bad.append("%s: retains %d bytes, %d objects, less than itself (%d bytes)" % (where, b, o, t["size"]))
        if not paths["live"] or not paths["paths"]:
            bad.append("%s: paths finds no path" % where)
        else:
            hops = paths["paths"][0]["hops"]
            # Hops that are not live objects (a finalizer's own object) need not carry sizes.
            missing = [h["addr"] for h in hops if "size" in h and
                       ("retained_bytes" not in h or "retained_objects" not in h)]
            last = hops[-1]
            if missing:
                bad.append("%s: path hops without retained sizes: %s" % (where, missing[:3]))
            elif _addr(last["addr"]) != _addr(e["addr"]):
                bad.append("%s: the first path ends at %s" % (where, last["addr"]))
            elif not _match(e, last["retained_bytes"], last["retained_objects"]):
                bad.append("%s: paths' last hop retains %d bytes, %d objects; manifest %s" % (
                    where, last["retained_bytes"], last["retained_objects"], _want(e)))
        node = dom["node"]
        if _addr(node["addr"]) != _addr(e["addr"]):
            bad.append("%s: dominators answers for %s" % (where, node["addr"]))
            continue
        nb, no = _num(node, "retained_bytes"), _num(node, "retained_objects")
        if not _match(e, nb, no):
            bad.append("%s: dominators' node retains %d bytes, %d objects; manifest %s" % (where, nb, no, _want(e)))
        # Children not shown (under --min-percent, past --limit) are summed in
        # more_bytes (more_objects counts them, not what they retain).
        kids = node.get("children") or []
        cb = node["size"] + sum(c["retained_bytes"] for c in kids) + node.get("more_bytes", 0)
        co = 1 + sum(c["retained_objects"] for c in kids)
        if cb != nb or (co != no and not node.get("more_objects")):
            bad.append("%s: own size + children (%d of them) = %d bytes, %d objects; the node retains %d, %d" % (
                where, len(kids), cb, co, nb, no))

    # Root groups.
    rr = rdoc.get("retained")
    assert isinstance(rr, list), "roots --retained --json has no retained list"
    rb = [r["retained_bytes"] for r in rr]
    if rb != sorted(rb, reverse=True):
        bad.append("roots --retained: not sorted by retained bytes, largest first")
    nroots = 0
    for e in roots:
        root = e["root"]
        where = "root %s %s" % (root["kind"], root.get("name", root.get("goroutine", "")))
        have = _root_entries(rr, root, named)
        if have is None:
            continue
        nroots += 1
        if root["kind"] == "finalizer":
            if not any(_match(e, r["retained_bytes"], r["retained_objects"]) for r in have):
                bad.append("%s: no finalizer entry retains %s (%s)" % (where, _want(e), [
                    (r["retained_bytes"], r["retained_objects"]) for r in have][:8]))
            continue
        if not have and e["bytes"] == 0 and e["objects"] == 0 and not e.get("at_least"):
            continue  # a root group that retains nothing may be left out
        if len(have) != 1:
            bad.append("%s: %d entries in roots --retained" % (where, len(have)))
            continue
        r = have[0]
        if not _match(e, r["retained_bytes"], r["retained_objects"]):
            bad.append("%s: retains %d bytes, %d objects; manifest %s" % (
                where, r["retained_bytes"], r["retained_objects"], _want(e)))

    # Types.
    rows = {r["type"]: r for r in heap["types"]}
    for r in heap["types"]:
        # Values inside tiny-allocator blocks (tiny_count of count) retain
        # nothing of their own: the rest of the row must retain itself.
        own, own_bytes = r["count"] - r.get("tiny_count", 0), r["bytes"] - r.get("tiny_bytes", 0)
        if not 0 <= own <= r["count"] or not 0 <= own_bytes <= r["bytes"]:
            bad.append("heap --retained: row %s counts %r tiny of %d" % (r["type"], r.get("tiny_count"), r["count"]))
            continue
        if own == 0:
            continue  # garbage only, or values in tiny blocks only
        if "retained_bytes" not in r or "retained_objects" not in r:
            bad.append("heap --retained: row %s without retained sizes" % r["type"])
        elif r["retained_bytes"] < own_bytes or r["retained_objects"] < own:
            bad.append("heap --retained: %s retains %d bytes, %d objects, less than its %d instances outside tiny "
                       "blocks (%d bytes)" % (r["type"], r["retained_bytes"], r["retained_objects"], own, own_bytes))
    ntypes = 0
    if named:
        for e in types:
            r = rows.get(e["type"])
            ntypes += 1
            if r is None:
                bad.append("type %s: no row in heap --retained" % e["type"])
            elif not _match(e, r.get("retained_bytes", -1), r.get("retained_objects", -1)):
                bad.append("type %s: retains %r bytes, %r objects; manifest %s" % (
                    e["type"], r.get("retained_bytes"), r.get("retained_objects"), _want(e)))

    # top.
    tr = top["retainers"]
    tb = [x["retained_bytes"] for x in tr]
    if tb != sorted(tb, reverse=True):
        bad.append("top: not sorted by retained bytes, largest first")
    if len(tr) > TOP:
        bad.append("top --limit %d lists %d" % (TOP, len(tr)))
    if top["live_bytes"] != heap["bytes"]:
        bad.append("top: live_bytes %d, heap says %d live bytes" % (top["live_bytes"], heap["bytes"]))
    live = top["live_bytes"] or 1
    for x in tr:
        # percent: the share of the live bytes (rounded to 0.1 at worst)
        if abs(x["percent"] - 100.0 * x["retained_bytes"] / live) > 0.05:
            bad.append("top: %s retains %d of %d live bytes, percent says %r" % (
                x["addr"], x["retained_bytes"], live, x["percent"]))
        hops = (x.get("path") or {}).get("hops") or []
        if not hops or _addr(hops[-1]["addr"]) != _addr(x["addr"]):
            bad.append("top: the path of %s does not end at it" % x["addr"])
        if x["retained_bytes"] < x["size"]:
            bad.append("top: %s retains %d bytes, less than its size %d" % (x["addr"], x["retained_bytes"], x["size"]))
    listed = {_addr(x["addr"]) for x in tr}
    # Sentinels that are all their root group retains: held by it alone.
    by_root = {_root_key(e["root"]): e for e in roots if not e.get("at_least")}
    whole = []
    for s in m["sentinels"]:
        g = by_root.get(_root_key(s["root"]))
        e = next((e for e in objs if _addr(e["addr"]) == _addr(s["addr"])), None)
        if g and e and (e["bytes"], e["objects"]) == (g["bytes"], g["objects"]) and e["bytes"] > 0:
            whole.append(e)
    for e in whole:
        if len(tr) < TOP or e["bytes"] > tr[-1]["retained_bytes"]:
            if _addr(e["addr"]) not in listed:
                bad.append("top: %s (%d retained bytes) is not listed; the last of %d retains %d" % (
                    e["addr"], e["bytes"], len(tr), tr[-1]["retained_bytes"] if tr else 0))
    spot = tr[:SPOT]
    if spot:
        for x, ret in zip(spot, goheap_batch(d, ["retains %s --json" % x["addr"] for x in spot])):
            if (ret["retained_bytes"], ret["retained_objects"]) != (x["retained_bytes"], x["retained_objects"]):
                bad.append("top: %s retains %d bytes, %d objects; retains says %d, %d" % (
                    x["addr"], x["retained_bytes"], x["retained_objects"], ret["retained_bytes"],
                    ret["retained_objects"]))

    assert not bad, "%d differences: %s" % (len(bad), "; ".join(bad[:8]))
    return "%d objects, %d root groups, %d types = manifest; top %d (%d of %d whole-root objects listed), " \
        "%d spot-checked" % (len(objs), nroots, ntypes, len(tr), len([e for e in whole if _addr(e["addr"]) in listed]),
                             len(whole), len(spot))
