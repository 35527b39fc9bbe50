"""heap, objects and paths against a corpus manifest.

- heap --json: every type the manifest names in `live` has exactly that many
  live objects;
- paths --json for every sentinel: the object is live and the first path's
  root is the manifest's (kind and name; for stacks the goroutine and the
  frame's function; the variable when the manifest names one and goheap
  knows it);
- typed coverage: at least 95% of live heap bytes are typed;
- objects --json --type agrees with heap on every manifest type;
- the header reconciles with the rows and with objects: the header counts a
  tiny-allocator block once (as the runtime does), the rows and objects the
  sub-objects in it, and tiny_blocks, tiny_objects and tiny_object_bytes say
  the difference exactly, in JSON and (given the CLI) in text; heap --type's
  totals are the sums of the rows it picks;
- the manifest's shapes (corpus/sizeclasses): paths, print, objects and heap
  resolve each address to the object the manifest names, with its name (an
  array's length from a slice's capacity, or marked as bounded by its slot:
  JSON length_bound), size and root; an address in a tiny block resolves to
  the typed sub-object there (whatis too), or says no known object lies
  there;
- objects pending finalization (check_specials.check_pending): heap --all,
  objects --pending and paths against the manifest's pending objects.

Binaries without symbols (the stripped variant) cannot name globals: there
only the root's kind is compared, which the caller says with named=False.

Where goheap cannot know a type it says so ("limits" in heap --json: no
DWARF; a Go 1.22 closure whose captures its code does not show). Then, and
only then, a count may fall short of the manifest and coverage may be under
95%, but goheap must never count more objects of a type than the manifest.
"""
import os
import re
import subprocess

from check_samename import check_samename_aggregates
from check_specials import check_pending

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


def _reconcile(heap, allobjs, picked, text):
    """heap --json --all's header against its rows and objects' count;
    picked is heap --type '^main\\.' --json --all; text is heap's text (or None)."""
    rows = heap["types"]
    assert len(rows) == heap["rows"], "heap --json lists %d of %d rows" % (len(rows), heap["rows"])
    n, b = sum(r["count"] for r in rows), sum(r["bytes"] for r in rows)
    tb, to, tob = heap["tiny_blocks"], heap["tiny_objects"], heap["tiny_object_bytes"]
    assert (heap["objects"], heap["bytes"]) == (heap["heap_objects"], heap["heap_bytes"]), "heap without --type: %r" % {
        k: heap[k] for k in ("objects", "bytes", "heap_objects", "heap_bytes")}
    assert n == heap["objects"] - tb + to, "heap rows count %d objects; header %d - %d tiny blocks + %d in them = %d" % (
        n, heap["objects"], tb, to, heap["objects"] - tb + to)
    assert b == heap["bytes"] - 16 * tb + tob, "heap rows count %d bytes; header %d - %d tiny blocks x 16 + %d = %d" % (
        b, heap["bytes"], tb, tob, heap["bytes"] - 16 * tb + tob)
    gn, gb = sum(r["garbage_count"] for r in rows), sum(r["garbage_bytes"] for r in rows)
    assert (gn, gb) == (heap["garbage_objects"], heap["garbage_bytes"]), \
        "garbage rows %d objects, %d bytes; header %d, %d" % (gn, gb, heap["garbage_objects"], heap["garbage_bytes"])
    assert (allobjs["matched"], allobjs["matched_bytes"]) == (n, b), \
        "objects lists %d live objects (%d bytes), heap's rows %d (%d bytes)" % (
            allobjs["matched"], allobjs["matched_bytes"], n, b)
    prow = [r for r in rows if r["type"].startswith("main.")]
    want = (sum(r["count"] for r in prow), sum(r["bytes"] for r in prow), sum(r["garbage_count"] for r in prow),
            sum(r["garbage_bytes"] for r in prow), len(prow), heap["objects"])
    got = (picked["objects"], picked["bytes"], picked["garbage_objects"], picked["garbage_bytes"], picked["rows"],
           picked["heap_objects"])
    assert got == want, "heap --type '^main\\.': header (objects, bytes, garbage, garbage bytes, rows, heap) %r, " \
        "rows %r" % (got, want)
    if text is None:
        return
    first = text.splitlines()[0]
    tiny = " (%d tiny block%s hold %d small object%s; rows count those)" % (
        tb, "" if tb == 1 else "s", to, "" if to == 1 else "s") if tb else ""
    assert first.startswith("live: %d objects%s, " % (heap["objects"], tiny)), \
        "heap's first line %r, JSON objects %d, tiny blocks %d holding %d" % (first, heap["objects"], tb, to)
    if to:
        assert "each of the %d blocks once (%d bytes), the rows the %d objects in them by their own sizes (%d bytes)" % (
            tb, 16 * tb, to, tob) in text.replace("\n", " "), "heap's text does not reconcile the bytes: %r" % text[-400:]


def _shapes(shapes, docs, bigs, heap, named):
    """Each shape's paths and print, the large uint8 arrays objects lists,
    and heap's rows, against the manifest."""
    rows = {r["type"]: r for r in heap["types"]}
    listed = {o["addr"]: o for o in bigs["objects"]}
    for i, s in enumerate(shapes):
        p, pr, w = docs[3 * i], docs[3 * i + 1], docs[3 * i + 2]["object"]
        where = "shape %s at %s" % (s["type"], s["addr"])
        t = p["target"]
        assert p["live"] and p["paths"], "%s: not live, or no path: %r" % (where, p)
        if not s["object"]:  # in a tiny block, where no known object lies
            assert t.get("tiny_block") and t.get("sub_object") is False and t["type"] == "tiny block", \
                "%s: paths says %r" % (where, t)
            assert pr["type"] == "tiny block" and pr.get("no_object_at") == s["addr"], "%s: print says %r" % (
                where, {k: pr.get(k) for k in ("addr", "type", "no_object_at")})
            assert w.get("no_sub_object") and "sub_object" not in w, "%s: whatis says %r" % (where, w)
            continue
        size = s["slot"] or s["size"]
        got = (t["addr"], t["type"], t["size"], bool(t.get("length_bound")))
        assert got == (s["object"], s["type"], size, s.get("bound", False)), "%s: paths' target (addr, type, size, bound) %r" % (
            where, got)
        last = p["paths"][0]["hops"][-1]
        assert (last["addr"], last["type"]) == (s["object"], s["type"]) and last["field"] != "(same tiny block)", \
            "%s: the first path ends at %r" % (where, last)
        assert _root_ok(s["root"], p["paths"][0]["root"], named), "%s: first path's root %r" % (
            where, p["paths"][0]["root"])
        got = (pr["addr"], pr["type"], bool(pr.get("length_bound")))
        assert got == (s["object"], s["type"], s.get("bound", False)), "%s: print (addr, type, bound) %r" % (where, got)
        if s["slot"]:  # a whole object: listed by objects, counted by heap
            o = listed.get(s["object"])
            assert o and (o["type"], o["size"], bool(o.get("length_bound"))) == (s["type"], size, s.get("bound", False)), \
                "%s: objects lists %r" % (where, o)
            r = rows.get(s["type"])
            assert r and r["count"] >= 1 and bool(r.get("length_bound")) == s.get("bound", False), "%s: heap's row %r" % (
                where, r)
        else:  # a tiny sub-object
            assert t.get("sub_object") is True and t.get("tiny_block"), "%s: paths says %r" % (where, t)
            assert pr.get("tiny"), "%s: print does not say it is in a tiny block" % where
            assert (w.get("sub_object"), w.get("type")) == (s["object"], s["type"]), "%s: whatis says %r" % (where, w)
        if s["slot"]:
            assert (w["addr"], w.get("type")) == (s["object"], s["type"]), "%s: whatis says %r" % (where, w)


def _full_names(m, heap, text, limited):
    """Type names with import paths: every row's full_type ends as its type
    does, the live counts the program gives by import path (notes "live by
    import path: go/scanner.Scanner 5", where reflect's short names cannot
    tell two packages of one name apart) equal the row of that full name,
    and the text names those rows in full when their short names clash."""
    for r in heap["types"]:
        assert "full_type" in r, "heap row %s has no full_type" % r["type"]
    want = {}
    for n in m.get("notes", []):
        if n.startswith("live by import path: "):
            t, c = n[len("live by import path: "):].rsplit(" ", 1)
            want[t] = int(c)
    full = {}
    for r in heap["types"]:
        full.setdefault(r["full_type"], {"count": 0, "type": r["type"]})["count"] += r["count"]
    for t, n in want.items():
        got = full.get(t, {}).get("count", 0)
        assert got == n or (limited and got < n), "%s: goheap %d live, the program %d" % (t, got, n)
    shorts = {}
    for t in want:
        if t in full:
            shorts.setdefault(full[t]["type"], []).append(t)
    for short, fulls in shorts.items():
        if len(fulls) > 1 and text is not None:
            for t in fulls:
                assert re.search(r"\s%s\n" % re.escape(t), text), "heap text does not name %s in full (shared %s)" % (
                    t, short)


def _samename(d, m, goheap_batch, goheap):
    """corpus/samename: whatis, print, retains, top and dominators name each Scanner
    sentinel by its import path (JSON full_type, type the short name; text in
    full, the short name being shared), and heap --retained gives the two
    Scanner rows retained sizes of their own (checked against brute force by
    retaincheck), each at least the row's bytes, not the two types' sum."""
    full = {"main.GoScanners": "go/scanner.Scanner", "main.TextScanners": "text/scanner.Scanner"}
    if not m.get("sentinels") and m.get("stop", 1) > 1:
        return ""  # live mode's second stop names no sentinels (the counts are checked by import path above)
    sents = [s for s in m["sentinels"] if s["root"].get("name") in full]
    assert len(sents) == 2, "samename: %d Scanner sentinels, want 2" % len(sents)
    cmds = []
    for s in sents:
        cmds += ["whatis %s --json" % s["addr"], "print %s --json --depth 1" % s["addr"],
                 "retains %s --json" % s["addr"]]
    # main.Holder{Go *goscanner.Scanner; Text *textscanner.Scanner; N int}:
    # whatis names each field's type in full.
    holder = next(s for s in m["sentinels"] if s["type"] == "main.Holder")
    fields = [(".Go", "*go/scanner.Scanner"), (".Text", "*text/scanner.Scanner")]
    hcmds = ["whatis 0x%x --json" % (int(holder["addr"], 16) + 8 * k) for k in range(len(fields))]
    for (f, t), w in zip(fields, goheap_batch(d, hcmds)):
        o = w["object"]
        assert o.get("field") == f and o.get("field_full_type") == t and o.get("field_type") == t.replace(
            t[1:t.index("scanner.")], ""), "samename whatis main.Holder%s: %s %s (%s)" % (
                f, o.get("field"), o.get("field_full_type"), o.get("field_type"))
    # dominators folds same-typed siblings: by full name where the short one
    # is shared, so over the whole tree each full name counts the program's.
    want = {}
    for n in m.get("notes", []):
        if n.startswith("live by import path: "):
            t, c = n[len("live by import path: "):].rsplit(" ", 1)
            want[t] = int(c)
    tree = goheap_batch(d, ["dominators --json --depth 12 --min-percent 0 --limit 100000"])[0]["node"]
    got, stack = {}, [tree]
    while stack:
        n = stack.pop()
        if n.get("full_type") in want:
            assert n.get("type") == "scanner.Scanner", "samename dominators: %r" % n
            got[n["full_type"]] = got.get(n["full_type"], 0) + n.get("count", 1)
        stack += n.get("children", [])
    assert got == want, "samename dominators: %r, the program %r" % (got, want)
    cmds += ["top --json --limit 100000 --all", "heap --json --retained --type Scanner"]
    docs = goheap_batch(d, cmds)
    top = {r["addr"]: r for r in docs[-2]["retainers"]}
    for i, s in enumerate(sents):
        want = full[s["root"]["name"]]
        w, p, r = docs[3 * i:3 * i + 3]
        for what, got in (("whatis", w["object"]), ("print", p), ("retains", r["target"])):
            assert got.get("full_type") == want and got["type"] == s["type"], "samename %s %s: %s (%s), want %s" % (
                what, s["addr"], got.get("full_type"), got["type"], want)
        assert any(t.get("full_type") == want for t in r["types"]), "samename retains %s: no %s row" % (s["addr"], want)
        t = top.get(w["object"]["addr"])
        assert t and t.get("full_type") == want, "samename top: %s is %r, want %s" % (
            s["addr"], t and t.get("full_type"), want)
    rows = {r["full_type"]: r for r in docs[-1]["types"] if r["full_type"] in full.values()}
    assert set(rows) == set(full.values()), "samename heap --retained: rows %r" % sorted(rows)
    total = sum(r.get("retained_bytes", 0) for r in rows.values())
    for f, r in rows.items():
        assert "retained_bytes" in r and r["retained_bytes"] >= r["bytes"] and r["retained_bytes"] != total, \
            "samename heap --retained %s: retained %r, bytes %d, the two summed %d" % (
                f, r.get("retained_bytes"), r["bytes"], total)
    if goheap:  # the text names them in full
        for s in sents:
            for cmd in ("whatis", "print", "retains"):
                p = subprocess.run([goheap, "--exe", os.path.join(d, "exe"), os.path.join(d, "core"), cmd, s["addr"]],
                                   capture_output=True, text=True, timeout=600)
                assert p.returncode == 0 and full[s["root"]["name"]] in p.stdout.splitlines()[0], \
                    "samename %s %s text: %r" % (cmd, s["addr"], p.stdout.splitlines()[:1])
    # suspects, pprof, diff and graph (check_samename.py)
    want = {}
    for n in m.get("notes", []):
        if n.startswith("live by import path: "):
            t, c = n[len("live by import path: "):].rsplit(" ", 1)
            want[t] = int(c)
    return check_samename_aggregates(d, goheap_batch, goheap, want, tree,
                                     [(s["addr"], full[s["root"]["name"]]) for s in sents],
                                     {f: r["retained_bytes"] for f, r in rows.items()})


def _go_path(program, s):
    """The Go-terms hops of a sentinel's shortest path, where its program
    says them by construction (None elsewhere): interface hops as the type
    assertion to the dynamic type the program stored (corpus/globals: Iface
    and Stringer hold pointers, IfaceVal a struct value), closure hops as the
    captured variable (corpus/closures: makeHandler's h, makeBig's big, the
    getter's b; a method value's receiver as .<receiver>), slice elements by
    the index the sentinel's fields give."""
    root, t, f = s["root"].get("name"), s["type"], s.get("fields", {})
    if program == "globals" and root in ("main.Iface", "main.Stringer"):
        return ["%s.(*%s)" % (root, t)]
    if program == "globals" and root == "main.IfaceVal":
        return ["%s.(%s)" % (root, t)]
    if program != "closures":
        return None
    if root == "main.Handlers":
        return ["*main.Handlers", "[%d]" % int(f["Name"].split("-")[1]), ".h"]
    if root == "main.Bigs":
        return ["*main.Bigs", "[%d]" % int(f["Data[22]"]), ".big"]
    if root == "main.M":
        return ["*main.M", ".<receiver>"]
    if root == "main.V":
        return ["*main.V", ".<receiver>.Out"]
    if root == "main.Getters":
        return ["*main.Getters", "[%d]" % (int(f["N"]) - 100), ".b"]
    return None


def check_heap(d, m, goheap_batch, named=True, goheap=None):
    """Returns a one-line summary (typed coverage); raises AssertionError.
    goheap, the CLI's path, adds the checks of heap's text."""
    sentinels = m["sentinels"]
    cmds = ["heap --json --all", "roots --json"] + ["paths %s --json --max 8" % s["addr"] for s in sentinels]
    types = [t for t in m["live"]]
    cmds += ["objects --json --limit 0 --type '^%s$'" % re.escape(t) for t in types]
    shapes = m.get("shapes", [])
    for s in shapes:
        cmds += ["paths %s --json --max 2" % s["addr"], "print %s --json --elems 1" % s["addr"],
                 "whatis %s --json" % s["addr"]]
    cmds += ["objects --json --limit 20 --type 'uint8$' --min-size 32769"]
    cmds += ["objects --json --limit 0", "heap --json --all --type '^main\\.'"]
    docs = goheap_batch(d, cmds)
    if shapes:
        sdocs, docs = docs[-3 - 3 * len(shapes):-2], docs[:-3 - 3 * len(shapes)] + docs[-2:]
    else:
        sdocs, docs = [], docs[:-3] + docs[-2:]
    heap, roots, paths, objs = docs[0], docs[1], docs[2:2 + len(sentinels)], docs[2 + len(sentinels):-2]
    text = None
    if goheap:
        p = subprocess.run([goheap, "--exe", os.path.join(d, "exe"), os.path.join(d, "core"), "heap"],
                           capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, "heap exited %d: %s" % (p.returncode, p.stderr.strip()[-300:])
        text = p.stdout
    _reconcile(heap, docs[-2], docs[-1], text)
    if shapes and not heap.get("limits"):  # without DWARF globals are untyped
        _shapes(shapes, sdocs[:-1], sdocs[-1], heap, named)
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
    _full_names(m, heap, text, limited)
    for t, o in zip(types, objs):
        assert o["matched"] == by_type.get(t, {}).get("count", 0), \
            "objects --type %s matched %d live objects, heap says %d" % (t, o["matched"], by_type.get(t, {}).get("count", 0))
    for s, p in zip(sentinels, paths):
        where = "sentinel %s %s" % (s["type"], s["addr"])
        # Paths in Go terms: every hop named; a map's internals collapse into
        # the key. The demo keeps each session under its user name, by
        # construction: main.sessions["user-0042"], then .Payload.
        for q in p["paths"]:
            assert all(h["field"] for h in q.get("go", [])), "%s: a Go-terms hop without a name: %r" % (where, q["go"])
        if named and m.get("program") == "demo" and s["root"].get("name") == "main.sessions" and p["paths"]:
            go = [h["field"] for h in p["paths"][0]["go"]]
            user = next(t["fields"]["User"] for t in sentinels if t["type"] == "main.Session")
            want = ['main.sessions["%s"]' % user] + ([".Payload"] if s["type"] == "main.Payload" else [])
            assert go == want and p["paths"][0]["go"][-1]["addr"] == s["addr"], "%s: in Go terms %r, want %r" % (
                where, go, want)
        # corpus/samename: each Scanner's path ends at its type by import path.
        full = {"main.GoScanners": "go/scanner.Scanner", "main.TextScanners": "text/scanner.Scanner"}
        if named and m.get("program") == "samename" and s["root"].get("name") in full and p["paths"]:
            last = p["paths"][0]["go"][-1]
            assert last.get("full_type") == full[s["root"]["name"]] and last["type"] == s["type"], \
                "%s: path ends at %s (%s), want %s" % (where, last.get("full_type"), last["type"], full[s["root"]["name"]])
        want = _go_path(m.get("program"), s) if named and p["paths"] else None
        if want is not None:
            go = [h["field"] for h in p["paths"][0]["go"]]
            assert go == want and p["paths"][0]["go"][-1]["addr"] == s["addr"], "%s: in Go terms %r, want %r" % (
                where, go, want)
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
    same = ""
    if named and m.get("program") == "samename":
        same = _samename(d, m, goheap_batch, goheap)
    cov = heap["typed_bytes"] / heap["bytes"] if heap["bytes"] else 1.0
    assert cov >= COVERAGE_MIN or limited, "typed coverage %.1f%% < %.0f%% (%d of %d live bytes)" % (
        100 * cov, 100 * COVERAGE_MIN, heap["typed_bytes"], heap["bytes"])
    assert not heap["notes"], "notes: %s" % "; ".join(heap["notes"])
    detail = "typed %.1f%% of %d live bytes, %d objects (%d tiny blocks hold %d)" % (
        100 * cov, heap["bytes"], heap["objects"], heap["tiny_blocks"], heap["tiny_objects"])
    if short:
        detail += "; limited (%s): %s" % ("; ".join(heap["limits"]), ", ".join(short))
    return detail + "; " + check_pending(d, m, goheap_batch) + ("; " + same if same else "")
