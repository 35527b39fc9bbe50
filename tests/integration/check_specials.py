"""Finalizer, cleanup and weak-handle roots of one corpus core
(engine/roots/specials.c), against the manifest and corpus/finalizers/main.go.

Every program: the runtime itself sets one finalizer, os.(*file).close, on
each of os.Stdin, os.Stdout and os.Stderr (os.newFile); apart from the
finalizers program, nothing else sets finalizers or cleanups but the
finalizers a program's sentinels name as their roots (corpus/retained: one,
on the object the sentinel's note names). So exactly those finalizer roots
appear, each on its object, none queued, and no cleanup or weak-handle roots;
the current tiny block of a P is a runtime root (gcMarkTinyAllocs);
specials.c notes nothing (stripped binaries included: their queues and
runtime.allp are found by content).

finalizers (stop 1 of the core), as main.go builds it:
  - 16 main.FinKept with the method value (*FinFnRef).finalizeKept and 16
    unreachable main.FinOrphan with main.orphanFinalizer: one finalizer root
    per special, named as the manifest names the root of main.FinFnRef and
    main.FinReferent, on the object (the FinKept sentinel, the FinOrphan the
    FinReferent note names);
  - main.FinBlocked's finalizer main.blockFinalizer is running (blocked):
    still an entry of its finBlock (allfin), so one queued finalizer root
    holding fn and the object;
  - Go 1.24+: 16 cleanups main.cleanArg and 16 main.cleanOrphanArg (named as
    the manifest names the roots of main.CleanArg and main.CleanOrphanArg),
    no object; 16 + 16 weak handles (main.WeakStrong, main.WeakOnly): no
    finalizer or cleanup root, only a runtime root on the handle word, and
    no root holds the unreachable main.WeakOnly the manifest's note names.

Pending finalization (check_pending, which check_heap runs on every
program in every front end): the unreachable
objects with a finalizer or cleanup are exactly the manifest's "pending"
(finalizers: 16 main.FinOrphan, 1.24+ 16 main.CleanOrphan; retained: main.FinObj;
none elsewhere): heap --all counts them apart from garbage (per type where
goheap types them: a finalizer's object always, by the finalizer's type),
objects --pending lists them and objects --garbage does not, paths on each
of pending_objects says it is pending and names its finalizer or cleanup
(kind and function as the manifest's) with the record, and the sentinels
its finalizer or cleanup keeps alive (the note names the object) have that
record as their root, the finalizer's with the object.
"""
import re

STD_FINALIZER = "os.(*file).close"
# specials.c notes only what it could not read: none is expected on the corpus,
# stripped binaries included (their queues and allp are found by content).
MINE = ("special", "finalizer", "cleanup", "allfin", "gcCleanups", "allp", "tiny")


def minor(m):
    return int(re.match(r"go1\.(\d+)", m["go"]).group(1))


def by_name(roots):
    out = {}
    for r in roots:
        out.setdefault(r.get("name"), []).append(r)
    return out


def check_pending(d, m, goheap_batch):
    """Objects pending finalization against the manifest (see the module's
    doc). Returns a summary."""
    want = m.get("pending", {})
    objs = m.get("pending_objects", [])
    addrs = {p["addr"] for p in objs}
    held = [s for s in m["sentinels"] if s["root"]["kind"] in ("finalizer", "cleanup") and
            any(re.search(r"\b%s\b" % a, s.get("note", "")) for a in addrs)]
    cmds = ["heap --all --json", "objects --pending --json --limit 100000",
            "objects --garbage --json --limit 100000"]
    cmds += ["paths %s --json" % p["addr"] for p in objs] + ["paths %s --json" % s["addr"] for s in held]
    docs = goheap_batch(d, cmds)
    heap, pend, garb, paths, hpaths = docs[0], docs[1], docs[2], docs[3:3 + len(objs)], docs[3 + len(objs):]
    total = sum(want.values())
    assert heap["pending_objects"] == total, "heap: %d objects pending finalization, the manifest %d (%s)" % (
        heap["pending_objects"], total, heap["pending_types"])
    by_type = {t["type"]: t["count"] for t in heap["pending_types"]}
    for p in objs:
        n = by_type.get(p["type"])
        if p["kind"] == "finalizer" or n is not None:  # a cleanup's object may be untyped
            assert n == want[p["type"]], "heap: %s pending %s, the manifest %d" % (p["type"], n, want[p["type"]])
    assert pend["matched"] == total, "objects --pending: %d, the manifest %d" % (pend["matched"], total)
    listed = {o["addr"] for o in pend["objects"]}
    assert addrs <= listed, "objects --pending misses %s" % sorted(addrs - listed)
    assert not addrs & {o["addr"] for o in garb["objects"]}, "objects --garbage lists objects pending finalization"
    records = {}
    for p, doc in zip(objs, paths):
        where = "paths %s (%s)" % (p["addr"], p["type"])
        assert not doc["live"] and not doc["paths"], "%s: live %s, %d paths" % (where, doc["live"], len(doc["paths"]))
        pf = doc.get("pending") or []
        assert [(x["kind"], x["function"]) for x in pf] == [(p["kind"], p["function"])], \
            "%s: pending %s, the manifest says %s %s" % (where, pf, p["kind"], p["function"])
        records[p["addr"]] = pf[0]["record"]
    for s, doc in zip(held, hpaths):
        a = next(a for a in addrs if re.search(r"\b%s\b" % a, s.get("note", "")))
        root = doc["paths"][0]["root"] if doc["live"] and doc["paths"] else {}
        where = "sentinel %s %s (kept by the %s of %s)" % (s["type"], s["addr"], s["root"]["kind"], a)
        assert root.get("kind") == s["root"]["kind"] and root.get("addr") == records[a], \
            "%s: root %s, want the record %s" % (where, root, records[a])
        if s["root"]["kind"] == "finalizer":
            assert root.get("object") == a, "%s: the finalizer root's object is %s" % (where, root.get("object"))
    return "%d pending (%s), %d paths say so, %d referents rooted at their record" % (
        total, ", ".join("%d %s" % (n, t) for t, n in sorted(want.items())) or "none", len(objs), len(held))


def check_specials(d, m, goheap_batch):
    doc = goheap_batch(d, ["roots --list --json"])[0]
    roots, notes = doc["roots"], doc["notes"]
    fin = [r for r in roots if r["kind"] == "finalizer"]
    cln = [r for r in roots if r["kind"] == "cleanup"]
    weak = [r for r in roots if r["kind"] == "runtime" and r.get("name", "").startswith("weak handle of ")]
    bad = [n for n in notes if any(t in n for t in MINE)]
    assert not bad, "notes: %r" % bad
    # Special-held finalizers name their object; queued ones hold it in the region.
    special_fin = [r for r in fin if "object" in r]
    queued_fin = [r for r in fin if "object" not in r]
    assert all(r["size"] == 8 and r["pointer_words"] == 1 for r in special_fin), "finalizer special regions"
    assert all(r["size"] == 40 and r["pointer_words"] == 4 for r in queued_fin), "queued finalizer regions"
    tiny = [r for r in roots if r["kind"] == "runtime" and r.get("name", "").startswith("tiny block of P ")]
    assert 1 <= len(tiny) and all(r["size"] == 8 and len(r["values"]) == 1 for r in tiny), \
        "%d tiny block roots" % len(tiny)
    fins = by_name(fin)
    std = fins.get(STD_FINALIZER, [])
    assert len(std) == 3 and all("object" in r for r in std), \
        "%d %s finalizers (want 3, on os.Stdin, os.Stdout, os.Stderr)" % (len(std), STD_FINALIZER)
    assert len({r["object"] for r in std}) == 3, "the 3 std file finalizers are not on 3 objects"

    if m["program"] != "finalizers":
        # Finalizers a program sets itself (corpus/retained) are those its
        # sentinels' finalizer roots name: one special root each, on the
        # object the sentinel's note names.
        own = {}
        for s in m["sentinels"]:
            if s["root"]["kind"] == "finalizer":
                obj = re.search(r"main\.\w+ at (0x[0-9a-f]+)", s.get("note", ""))
                own.setdefault(s["root"]["name"], set()).update([int(obj.group(1), 16)] if obj else [])
        others = sorted(set(fins) - {STD_FINALIZER} - set(own))
        assert not others, "unexpected finalizer roots: %s" % others
        for name, objs in sorted(own.items()):
            have = fins.get(name, [])
            assert have and all("object" in r for r in have), "%d finalizer special roots named %s" % (len(have), name)
            missing = objs - {int(r["object"], 16) for r in have}
            assert not missing, "%s: no finalizer root on the object at %s" % (name, sorted(hex(o) for o in missing))
        assert not queued_fin, "unexpected queued finalizers: %s" % [r["name"] for r in queued_fin]
        assert not cln, "unexpected cleanup roots: %s" % sorted(by_name(cln))
        assert not weak, "%d unexpected weak handles" % len(weak)
        return "3 %s%s" % (STD_FINALIZER, "".join(", %d %s" % (len(fins[n]), n) for n in sorted(own)))

    # finalizers: names from the manifest's sentinels.
    for s in m["sentinels"]:
        root = s["root"]
        if root["kind"] in ("finalizer", "cleanup"):
            have = by_name(fin if root["kind"] == "finalizer" else cln)
            assert root["name"] in have, "no %s root named %s (for the %s at %s); have %s" % (
                root["kind"], root["name"], s["type"], s["addr"], sorted(have))
    sent = {s["type"]: s for s in m["sentinels"]}
    kept_fn = sent["main.FinFnRef"]["root"]["name"]
    orphan_fn = sent["main.FinReferent"]["root"]["name"]
    n_kept, n_orphan = m["live"]["main.FinKept"], m["pending"]["main.FinOrphan"]
    assert n_kept == 16 and n_orphan == 16, "main.go registers 16 + 16 finalizers, manifest says %d + %d" % (
        n_kept, n_orphan)
    assert len([r for r in fins.get(kept_fn, []) if "object" in r]) == n_kept, "%s: %d roots" % (
        kept_fn, len(fins.get(kept_fn, [])))
    assert len([r for r in fins.get(orphan_fn, []) if "object" in r]) == n_orphan, "%s: %d roots" % (
        orphan_fn, len(fins.get(orphan_fn, [])))
    kept_objs = {int(r["object"], 16) for r in fins[kept_fn]}
    assert int(sent["main.FinKept"]["addr"], 16) in kept_objs, "the FinKept sentinel has no finalizer root"
    orphan = re.search(r"main\.FinOrphan at (0x[0-9a-f]+)", sent["main.FinReferent"].get("note", ""))
    assert orphan and int(orphan.group(1), 16) in {int(r["object"], 16) for r in fins[orphan_fn]}, \
        "the FinOrphan holding the FinReferent sentinel has no finalizer root"
    blocked = m["live"].get("main.FinBlocked", 0)
    assert [r["name"] for r in queued_fin] == ["main.blockFinalizer"] * blocked, \
        "queued finalizers %r (want main.blockFinalizer x %d)" % ([r["name"] for r in queued_fin], blocked)
    if blocked:
        assert sent["main.FinBlocked"]["addr"] in queued_fin[0]["values"], "queued finalizer without its object"
    assert len(special_fin) == n_kept + n_orphan + 3, "%d finalizer specials" % len(special_fin)

    if minor(m) < 24:
        assert not cln and not weak, "cleanups or weak handles before Go 1.24"
        return "%d finalizers, %d queued" % (len(special_fin), len(queued_fin))
    clean_fn = sent["main.CleanArg"]["root"]["name"]
    clean_orphan_fn = sent["main.CleanOrphanArg"]["root"]["name"]
    n_clean, n_clean_orphan = m["live"]["main.CleanKept"], m["pending"]["main.CleanOrphan"]
    assert n_clean == 16 and n_clean_orphan == 16
    clns = by_name(cln)
    assert sorted(clns) == sorted({clean_fn, clean_orphan_fn}), "cleanup roots named %s" % sorted(clns)
    assert len(clns[clean_fn]) == n_clean and len(clns[clean_orphan_fn]) == n_clean_orphan, \
        "%d %s and %d %s cleanup roots" % (len(clns[clean_fn]), clean_fn, len(clns[clean_orphan_fn]), clean_orphan_fn)
    assert all("object" not in r for r in cln), "a cleanup root keeps its object"
    n_weak = m["live"]["main.WeakStrong"] + m["garbage"]["main.WeakOnly"]
    assert n_weak == 32 and len(weak) == n_weak, "%d weak handle roots, want %d" % (len(weak), n_weak)
    only = [re.search(r"main\.WeakOnly at (0x[0-9a-f]+)", n) for n in m.get("notes", [])]
    only = [x.group(1) for x in only if x]
    assert only, "the manifest names no unreachable main.WeakOnly"
    targets = {r["name"][len("weak handle of "):] for r in weak}
    assert only[0] in targets, "no weak handle on the WeakOnly at %s" % only[0]
    mine = fin + cln + [r for r in roots if r["kind"] == "runtime"]
    assert not [r for r in mine if only[0] in r["values"]], "a root holds the weakly referenced WeakOnly"
    return "%d finalizers, %d queued, %d cleanups, %d weak handles" % (len(special_fin), len(queued_fin),
                                                                        len(cln), len(weak))
