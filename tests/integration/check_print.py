"""print against a corpus manifest.

- print ADDR --json for every sentinel names the manifest's type, and every
  field the manifest lists (field -> the value as the Go program formatted it
  with fmt %v) has exactly that value: numbers compared as decimal strings,
  strings exactly, nil pointers as "<nil>", pointers as their 0x address.
  Nested paths ("Val.Key", "Data[22]") are followed through the printed
  struct fields and array elements.
- Stripped binaries (no DWARF) type only what the allocator records and what
  that reaches: there a sentinel may be untyped, and print must then say so
  (untyped, unknown<N>, raw words) instead of a type.
- maps program: the map header reached from each map's global (the first hop
  of `paths` of the map's sentinel) prints as the map, with len equal to the
  map's size and the keys corpus/maps/main.go put in it; out-of-line keys
  (BigKeys) and values (BigVals, through its global) are read through their
  pointers.
"""
import re

TOKEN = re.compile(r"\.?([A-Za-z_]\w*)|\[(\d+)\]")


def _lookup(value, path):
    """The printed value at a field path, and the field object holding it
    (for strings: their length). Raises AssertionError when absent."""
    field = None
    pos = 0
    while pos < len(path):
        m = TOKEN.match(path, pos)
        assert m, "cannot parse field path %r" % path
        pos = m.end()
        name, idx = m.group(1), m.group(2)
        if name is not None:
            assert isinstance(value, dict) and "fields" in value, "no struct at %r (%r)" % (path, value)
            hits = [f for f in value["fields"] if f["name"] == name]
            assert hits, "no field %s in %r" % (name, [f["name"] for f in value["fields"]])
            field = hits[0]
            value = field["value"]
        else:
            assert isinstance(value, dict) and "elems" in value, "no array at %r (%r)" % (path, value)
            i = int(idx)
            assert i < len(value["elems"]), "%s: only %d elements printed" % (path, len(value["elems"]))
            value, field = value["elems"][i], None
    return value, field


def _same(got, want):
    """Whether a printed JSON value is what fmt %v printed."""
    if got is None:
        return want == "<nil>"
    if isinstance(got, bool):
        return want == ("true" if got else "false")
    if isinstance(got, int):
        return str(got) == want
    if isinstance(got, float):
        try:
            return float(want) == got
        except ValueError:
            return False
    if isinstance(got, str):
        return got == want
    if isinstance(got, dict) and "addr" in got and "fields" not in got:
        return got["addr"] == want  # a pointer: %v prints its address
    return False


def _elems_needed(s):
    """Array indexes in the field paths need that many elements printed."""
    idx = [int(i) for p in s.get("fields", {}) for i in re.findall(r"\[(\d+)\]", p)]
    return max(idx) + 1 if idx else 0


def _print_cmd(addr, elems=0):
    return "print %s --json%s" % (addr, " --elems %d" % elems if elems > 8 else "")


def check_print(d, m, goheap_batch, stripped=False):
    sentinels = m["sentinels"]
    docs = goheap_batch(d, [_print_cmd(s["addr"], _elems_needed(s)) for s in sentinels])
    fields = untyped = 0
    for s, p in zip(sentinels, docs):
        where = "sentinel %s %s" % (s["type"], s["addr"])
        assert p["addr"] == s["addr"], "%s: print shows the value at %s" % (where, p["addr"])
        if p["untyped"]:
            # Only without DWARF may a sentinel be untyped (check_heap holds
            # the typed counts to the manifest everywhere else).
            assert stripped, "%s: print says untyped (%s)" % (where, p["type"])
            assert p["type"].startswith("unknown<") and p["value"].get("untyped") and p["value"].get("words"), \
                "%s: untyped, but print does not show raw words: %r" % (where, p)
            untyped += 1
            continue
        assert p["type"] == s["type"], "%s: print names the type %s" % (where, p["type"])
        for path, want in sorted(s.get("fields", {}).items()):
            got, field = _lookup(p["value"], path)
            if isinstance(got, str) and field is not None:
                assert field.get("len") == len(want.encode()) and not field.get("truncated"), \
                    "%s: field %s: length %r, want %d" % (where, path, field.get("len"), len(want.encode()))
            assert _same(got, want), "%s: field %s is %r, the program printed %r" % (where, path, got, want)
            fields += 1
    detail = "%d typed sentinels, %d fields = manifest" % (len(sentinels) - untyped, fields)
    if untyped:
        detail += ", %d untyped (no DWARF)" % untyped
    if m["program"] == "maps":
        detail += "; " + check_print_maps(d, m, goheap_batch, stripped)
    return detail


# corpus/maps/main.go at the core's stop (stop 1).
N_SMALL, N_LARGE, N_OUTER, N_INNER, N_BYPTR, N_BIGVAL, N_BIGKEY = 6, 10000, 5, 20, 50, 40, 30


def _keys(doc):
    return [e["key"] for e in doc["value"]["entries"]]


def check_print_maps(d, m, goheap_batch, stripped):
    by_root = {s["root"]["name"]: s for s in m["sentinels"] if s["root"]["kind"] == "global" and
               "also held" not in s.get("note", "")}
    names = ["main.Small", "main.Large", "main.Nested", "main.ByPtr", "main.BigKeys"]
    paths = goheap_batch(d, ["paths %s --json" % by_root[n]["addr"] for n in names])
    heads = {}
    for n, p in zip(names, paths):
        hop = p["paths"][0]["hops"][0]
        assert p["paths"][0]["root"]["kind"] == "global", "%s: first path from %r" % (n, p["paths"][0]["root"])
        heads[n] = hop["addr"]
    cmds = [_print_cmd(heads[n], 64) for n in names]
    # BigVals has no sentinel: its global, printed by address, when symbols name it.
    roots = goheap_batch(d, ["roots --list --json"])[0]
    bigvals = [r["addr"] for r in roots["roots"] if r.get("name") == "main.BigVals"]
    assert bigvals or stripped, "no global root main.BigVals"
    if bigvals:
        cmds.append(_print_cmd(bigvals[0], 64))
    docs = dict(zip(names + ["main.BigVals"], goheap_batch(d, cmds)))
    if stripped and docs["main.Small"]["untyped"]:
        # Without DWARF nothing types a map header (it has no allocator record).
        for n in names:
            assert docs[n]["untyped"], "%s: header typed %s without DWARF" % (n, docs[n]["type"])
        return "map headers untyped without DWARF"
    impl = "swiss" if docs["main.Small"]["type"] == "maps.Map" else "classic"
    for n in names:
        assert docs[n]["type"] in ("maps.Map", "runtime.hmap"), "%s: header is a %s" % (n, docs[n]["type"])
    small, large = docs["main.Small"], docs["main.Large"]
    assert small["value"]["len"] == N_SMALL and not small["value"].get("truncated"), small["value"]
    want = {"s%d" % i for i in range(N_SMALL)}
    assert sorted(_keys(small)) == sorted(want), "main.Small keys %r" % _keys(small)
    s2 = [e["value"] for e in small["value"]["entries"] if e["key"] == "s2"]
    assert s2 and s2[0]["addr"] == by_root["main.Small"]["addr"], "main.Small[\"s2\"] = %r" % s2
    assert large["value"]["len"] == N_LARGE and large["value"].get("truncated"), large["value"].get("len")
    lk = _keys(large)
    assert len(lk) == 64 and len(set(lk)) == 64, "main.Large shows %d distinct keys" % len(set(lk))
    assert all(re.fullmatch(r"key-\d{5}", k) and int(k[4:]) < N_LARGE for k in lk), "main.Large keys %r" % lk[:8]
    nested = docs["main.Nested"]["value"]
    assert nested["len"] == N_OUTER and sorted(_keys(docs["main.Nested"])) == ["outer-%d" % i for i in range(N_OUTER)]
    for e in nested["entries"]:
        inner = e["value"]  # level 2 of 3: its entries are shown
        assert inner["len"] == N_INNER and len(inner["entries"]) == N_INNER, "Nested[%s] = %r" % (e["key"], inner)
        assert all(0 <= x["key"] < N_INNER for x in inner["entries"]), "Nested[%s] keys" % e["key"]
    byptr = docs["main.ByPtr"]["value"]
    assert byptr["len"] == N_BYPTR and all(
        e["key"]["type"] == "main.Key" and e["value"]["type"] == "main.Val" for e in byptr["entries"]), byptr
    # Out-of-line keys: main.BigKey{Code: [i*100+j ...], Name: "big-key"}.
    bk = docs["main.BigKeys"]["value"]
    assert bk["len"] == N_BIGKEY and len(bk["entries"]) == N_BIGKEY, bk.get("len")
    codes = set()
    for e in bk["entries"]:
        code, _ = _lookup(e["key"], "Code[0]")
        name, _ = _lookup(e["key"], "Name")
        assert name == "big-key" and code % 100 == 0 and e["value"]["type"] == "main.Tag", e
        codes.add(code // 100)
    assert codes == set(range(N_BIGKEY)), "BigKeys codes %r" % sorted(codes)
    got = "%s maps: Small, Large, Nested, ByPtr, BigKeys headers" % impl
    if "main.BigVals" in docs:
        bv = docs["main.BigVals"]
        assert bv["kind"] == "global" and bv["global"] == "main.BigVals", bv
        assert bv["value"]["len"] == N_BIGVAL and len(bv["value"]["entries"]) == N_BIGVAL
        for e in bv["value"]["entries"]:
            id_, _ = _lookup(e["value"], "ID")
            name, _ = _lookup(e["value"], "Name")
            assert id_ == e["key"] and name == "big-val", e
        got += ", global BigVals (out-of-line values)"
    return got
