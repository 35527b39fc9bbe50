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
- Text: every byte array or slice field of a typed sentinel (the demo's
  [4000]uint8 Payload.Body) is printed compactly, as a quoted string or a
  hex dump (repeated lines as "*"), and those bytes, with the count of the
  bytes not shown, are the JSON's elements; arrays of numbers (closures'
  [23]int64 BigCapture.Data) are packed on one line or a few, and their
  numbers are the JSON's too.
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


def _unquote(q):
    """A Go %q string (what print writes) as bytes."""
    assert q[0] == q[-1] == '"', q
    esc = {"n": b"\n", "t": b"\t", "r": b"\r", '"': b'"', "\\": b"\\"}
    out, i, body = bytearray(), 0, q[1:-1]
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode()
            i += 1
        elif body[i + 1] == "x":
            out.append(int(body[i + 2:i + 4], 16))
            i += 4
        else:
            out += esc[body[i + 1]]
            i += 2
    return bytes(out)


def _field_text(lines, name):
    """The lines print wrote for a top-level field: its own and, when it
    opens a block, the block's up to the closing bracket at its indent."""
    for k, l in enumerate(lines):
        if l.startswith("    %s: " % name):
            if not l.endswith("["):
                return [l]
            end = next(j for j in range(k + 1, len(lines)) if lines[j] == "    ]")
            return lines[k:end + 1]
    raise AssertionError("no line for field %s in %r" % (name, lines[:6]))


def _bytes_of_text(block):
    """The bytes and the count of bytes not shown, from print's text of a
    byte array: "T \"...\"" or "T [2a 00]" on one line, else quoted lines
    or a hex dump with offsets, "*" for repeats of the line before."""
    head = block[0]
    more = 0
    m = re.search(r"\.\.\. \((\d+) more bytes\)$", head)
    if m:
        more, head = int(m.group(1)), head[:m.start()]
    if len(block) == 1:
        m = re.search(r' ("(?:[^"\\]|\\.)*")$', head)
        if m:
            return _unquote(m.group(1)), more
        m = re.search(r" \[([0-9a-f ]*)\]$", head)
        assert m, "not a byte array: %r" % head
        return bytes(int(x, 16) for x in m.group(1).split()), more
    data, last, star = bytearray(), b"", False
    for l in (x.strip() for x in block[1:-1]):
        m = re.fullmatch(r"\.\.\. (\d+) more bytes", l)
        if m:
            more = int(m.group(1))
        elif l.startswith('"'):
            data += _unquote(l)
        elif l == "*":
            star = True
        elif re.fullmatch(r"[0-9a-f]{4,}", l):  # where the repeated lines end
            while star and len(data) < int(l, 16):
                data += last
            star = False
        else:
            m = re.fullmatch(r"([0-9a-f]{4,})  ((?:[0-9a-f]{2} +)+) *\|.*\|", l)
            assert m, "not a hex dump line: %r" % l
            while star and len(data) < int(m.group(1), 16):
                data += last
            star = False
            assert len(data) == int(m.group(1), 16), "hex dump offset %s after %d bytes" % (m.group(1), len(data))
            last = bytes(int(x, 16) for x in m.group(2).split())
            data += last
    return bytes(data), more


def _numbers_of_text(block):
    """Numbers and the count not shown from a packed array's text."""
    m = re.match(r"\s*\w+: \S+(?: len \d+ cap \d+)? \[(.*)$", block[0])
    assert m, "not an array: %r" % block[0]
    text = " ".join([m.group(1)] + block[1:])
    more = re.search(r"\.\.\. (\d+) more", text)
    body = re.sub(r"\[\d+\]:", " ", text.split("...")[0]).replace("]", " ")
    return [int(x) for x in body.split()], int(more.group(1)) if more else 0


def check_print_text(d, sentinels, docs, goheap_text):
    """print's text shows byte arrays compactly and numbers packed, with
    exactly the values its JSON has."""
    nbytes = npacked = 0
    for s, p in zip(sentinels, docs):
        if p["untyped"] or not isinstance(p["value"], dict) or "fields" not in p["value"]:
            continue
        fields = [f for f in p["value"]["fields"] if isinstance(f["value"], dict) and "elems" in f["value"]
                  and f["value"]["elems"] and all(isinstance(x, int) for x in f["value"]["elems"])]
        if not fields:
            continue
        n = _elems_needed(s)  # as the JSON was asked for
        lines = goheap_text(d, ["print", s["addr"]] + (["--elems", str(n)] if n > 8 else [])).splitlines()
        for f in fields:
            v, block = f["value"], _field_text(lines, f["name"])
            where = "%s %s .%s" % (s["type"], s["addr"], f["name"])
            if f["type"].endswith("uint8"):
                got, more = _bytes_of_text(block)
                assert list(got) == v["elems"], "%s: text shows %r, JSON %r" % (where, got[:32], v["elems"][:32])
                assert len(got) >= min(64, v["len"]) and len(got) + more == v["len"], \
                    "%s: %d bytes shown + %d more, len %d" % (where, len(got), more, v["len"])
                assert len(block) <= 2 + (len(got) + 15) // 16 + 2, "%s: not compact: %d lines" % (where, len(block))
                nbytes += 1
            else:
                got, more = _numbers_of_text(block)
                assert got == v["elems"] and len(got) + more == v["len"], "%s: text %r + %d, JSON %r (len %d)" % (
                    where, got, more, v["elems"], v["len"])
                assert len(block) <= 3 + len(got) // 8, "%s: not packed: %d lines" % (where, len(block))
                npacked += 1
    return nbytes, npacked


def check_print(d, m, goheap_batch, stripped=False, goheap_text=None):
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
    if goheap_text:
        nb, np_ = check_print_text(d, sentinels, docs, goheap_text)
        if nb or np_:
            detail += "; text: %d byte arrays, %d number arrays = JSON" % (nb, np_)
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
