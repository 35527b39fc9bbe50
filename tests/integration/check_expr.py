"""Expressions as ADDR arguments (docs/cli.md, "Expressions"), against the
manifest's sentinel addresses (the Go program's own pointers, printed when it
stopped):

- every sentinel by (*T)(ADDR): whatis gives ADDR, and each field the
  manifest names prints the manifest's value through (*T)(ADDR).F;
- named cores: every Go-terms path paths gives for a sentinel (hops that
  are fields, indexes, map keys and type assertions), read back as an expression, reaches
  exactly the sentinel's address;
- by construction of the corpus programs: main.sessions["user-0042"] and
  .Payload (demo), main.Small["s2"], main.Nested["outer-3"][7],
  main.ByPtr[main.KeyOf] (maps) reach their sentinels, on Swiss and classic
  maps alike;
- struct keys (maps): main.BigKeys[*(*main.BigKey)(k)] for every key k stored
  in it gives the Tag the program made for it (N from the key's Code);
- locals (named cores): the stack variable the manifest says holds a
  sentinel, through --frame GOROUTINE:FUNCTION and its name, gives the
  sentinel's address when it holds it directly, and its fields read through
  it (obj.ID) the manifest's values; a variable holding it further away (a
  chan) gives the first object of the path from it; --frame GOROUTINE
  alone reaches it too where the manifest says the goroutine's user frame
  is the variable's function; a local held in registers (stacks: the
  spinning goroutine's obj in main.spinUntil, whose registers preemption or
  the crash's signal saved) gives the sentinel and its fields too, and &obj
  is refused; goroutine G --locals lists each of those variables in its
  frame with the sentinel's address (spinUntil's obj from registers);
- errors are the one-line messages the documentation gives.
"""
import json
import os
import re
import subprocess

COMP = (r'(?:\.[A-Za-z_]\w*|\[-?\d+\]|\["(?:[^"\\]|\\.)*"\]|\.\((?:[^()]|\([^()]*\))+\)'
        r'|\[\*?\(\*[\w./*]+\)\(0x[0-9a-f]+\)\])')  # also map keys as (*K)(0x...) and, out of line, *(*K)(0x...)
SIMPLE_HOP = re.compile(r'^%s+$' % COMP)
ROOT_HOP = re.compile(r'^\*?[A-Za-z_][\w/.-]*\.[A-Za-z_]\w*%s*$' % COMP)


def quote(s):
    """The prompt's quoting: single quotes, ' written as '\''."""
    return "'" + s.replace("'", "'\\''") + "'"


def run(goheap, d, commands):
    """Commands in one session: the JSON documents of those that succeed, in
    order, and the error lines of those that fail, in order."""
    p = subprocess.run([goheap, "--exe", os.path.join(d, "exe"), os.path.join(d, "core")],
                       input="\n".join(commands) + "\n", capture_output=True, text=True, timeout=600)
    docs = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    errs = [l for l in p.stderr.splitlines() if l.startswith("goheap: ")]
    return docs, errs


def by_construction(m, sentinels):
    """(expression, sentinel address) the corpus program's source fixes."""
    out = []
    prog = m.get("program")
    for s in sentinels:
        f = s.get("fields") or {}
        root = s["root"].get("name")
        if prog == "demo" and s["type"] == "main.Session":
            out.append(('main.sessions["%s"]' % f["User"], s["addr"]))
            payload = next(t for t in sentinels if t["type"] == "main.Payload")
            out.append(('main.sessions["%s"].Payload' % f["User"], payload["addr"]))
            out.append(('(*main.sessions["%s"]).Payload' % f["User"], payload["addr"]))
        if prog == "demo" and s["type"] == "main.Config":
            out.append(("main.config", s["addr"]))
            out.append(("*main.config", s["addr"]))
        if prog == "maps" and root in ("main.Small", "main.Large") and "Key" in f:
            out.append(('%s["%s"]' % (root, f["Key"]), s["addr"]))
        if prog == "maps" and root == "main.Nested":
            out.append(('main.Nested["%s"][%s]' % (f["Outer"], f["Inner"]), s["addr"]))
        if prog == "maps" and s["type"] == "main.Val":
            out.append(("main.ByPtr[main.KeyOf]", s["addr"]))
        if prog == "maps" and s["type"] == "main.Key":
            out.append(("main.KeyOf", s["addr"]))
    return out


def go_expr(path):
    """The expression a Go-terms path spells, or None when a hop is not one
    of the language: a closure's captured variable, a
    channel's buffer (a hop into a runtime.* or closure object), ?, or a
    path longer than the language takes. The first hop's *name (a variable
    holding a pointer, or a slice's data) is name: a pointer's fields and a
    slice's or array pointer's elements select through it as in Go."""
    hops = path.get("go", [])
    fields = [h["field"] for h in hops]
    if not hops or len(hops) > 200 or not ROOT_HOP.match(fields[0]) or \
            not all(SIMPLE_HOP.match(f) for f in fields[1:]) or \
            any(h["type"].startswith(("runtime.", "closure ")) for h in hops[:-1]):
        return None
    e = fields[0].lstrip("*") + "".join(fields[1:])
    return e if len(e) < 4000 else None


def check_expr(d, m, goheap, named=True):
    sentinels = m["sentinels"]
    # Two packages of the same name (corpus/samename) make a short type name
    # name two types: the manifest's notes give their import paths.
    paths_of = {}
    for n in m.get("notes", []):
        g = re.match(r"live by import path: (\S+) \d+$", n)
        if g:
            short = g.group(1).rsplit("/", 1)[-1]
            paths_of.setdefault(short, set()).add(g.group(1))
    ambiguous = {t for t, ps in paths_of.items() if len(ps) > 1}
    # 1. (*T)(ADDR) and its fields
    cmds, want, nils, nfull = [], [], [], 0
    for s in sentinels:
        conv = "(*%s)(%s)" % (s["type"], s["addr"])
        if s["type"] in ambiguous:
            # the short name is refused naming both; each full name is one type,
            # and one of them reads the manifest's fields
            full = sorted(paths_of[s["type"]])
            nils.append(("whatis %s" % quote(conv), "goheap: whatis: (*%s): %s names %d types (%s): write the import "
                         "path" % (s["type"], s["type"], len(full), ", ".join(full[:2]) + (", ..." if len(full) > 2 else ""))))
            fields = sorted((s.get("fields") or {}).items())
            fdocs, ferrs = run(goheap, d, ["print %s --json" % quote("(*%s)(%s).%s" % (p, s["addr"], f))
                                           for p in full for f, _ in fields])
            assert not ferrs and len(fdocs) == len(full) * len(fields), "full names: %r" % ferrs[:3]
            right = [p for i, p in enumerate(full)
                     if all(str(fdocs[i * len(fields) + j]["value"]) == v for j, (_, v) in enumerate(fields))]
            assert fields and len(right) == 1, "sentinel %s: the fields %r read as the manifest's through %r of %r" % (
                s["addr"], fields, right, full)
            nfull += 1
            continue
        cmds.append("whatis %s --json" % quote(conv))
        want.append(("addr", conv, s["addr"]))
        for f, v in sorted((s.get("fields") or {}).items()):
            e = "%s.%s" % (conv, f)
            if v == "<nil>":  # a nil pointer: no address to take
                nils.append(("whatis %s" % quote(e), "goheap: whatis: %s is nil" % e))
            elif re.fullmatch(r"0x[0-9a-f]+", v):  # a pointer: the object it points to
                cmds.append("whatis %s --json" % quote(e))
                want.append(("addr", e, v))
            else:
                cmds.append("print %s --json" % quote(e))
                want.append(("value", e, v))
    # 2. Go-terms paths read back
    paths, nlocals, nlocals_direct, nwhere = [], 0, 0, 0
    if named:
        pdocs, perrs = run(goheap, d, ["paths %s --json --max 4" % s["addr"] for s in sentinels])
        assert not perrs and len(pdocs) == len(sentinels), "paths: %r" % perrs[:3]
        for s, p in zip(sentinels, pdocs):
            for q in p["paths"]:
                e = go_expr(q)
                if e:
                    paths.append((e, s["addr"]))
        built = by_construction(m, sentinels)
        for e, a in paths + built:
            cmds.append("whatis %s --json" % quote(e))
            want.append(("addr", e, a))
        # 3. locals: the variable the manifest says holds the sentinel, in
        # the frame it names, points where the path from it goes first: the
        # sentinel itself when the variable holds it directly (then its
        # fields read through the variable too), else the first object on
        # the way (a chan's hchan).
        for s, p in zip(sentinels, pdocs):
            r = s["root"]
            if r.get("kind") != "stack" or not r.get("variable"):
                continue
            first = [q["hops"][0]["addr"] for q in p["paths"] if q["root"].get("variable") == r["variable"] and
                     q["root"].get("goroutine") == r["goroutine"] and q["hops"]]
            assert first, "sentinel %s: no path from %s in goroutine %d" % (s["addr"], r["variable"], r["goroutine"])
            frame = "%d:%s" % (r["goroutine"], r["function"])
            nlocals += 1
            cmds.append("whatis --frame %s %s --json" % (frame, r["variable"]))
            want.append(("addr", "--frame %s %s" % (frame, r["variable"]), first[0]))
            # --frame G alone: the goroutine's user frame, where the manifest
            # says it is (when that is the variable's function)
            if any(q["goroutine"] == r["goroutine"] and (q.get("user") or {}).get("function") == r["function"]
                   for q in m.get("parked", [])):
                nwhere += 1
                cmds.append("whatis --frame %d %s --json" % (r["goroutine"], r["variable"]))
                want.append(("addr", "--frame %d %s" % (r["goroutine"], r["variable"]), first[0]))
            if int(first[0], 16) != int(s["addr"], 16):
                continue
            nlocals_direct += 1
            for f, v in sorted((s.get("fields") or {}).items()):
                if v != "<nil>" and not re.fullmatch(r"0x[0-9a-f]+", v):
                    cmds.append("print %s.%s --frame=%s --json" % (r["variable"], f, frame))
                    want.append(("value", "--frame %s %s.%s" % (frame, r["variable"], f), v))
    docs, errs = run(goheap, d, cmds)
    assert not errs, "expressions refused: %s" % "; ".join(errs[:4])
    assert len(docs) == len(cmds), "%d answers for %d commands" % (len(docs), len(cmds))
    bad = []
    for (what, e, v), doc in zip(want, docs):
        if what == "addr" and int(doc["addr"], 16) != int(v, 16):
            bad.append("%s: 0x%x, manifest %s" % (e, int(doc["addr"], 16), v))
        if what == "value":
            got = doc["value"]
            got = {True: "true", False: "false"}.get(got, got) if isinstance(got, bool) else got
            if str(got) != v:
                bad.append("%s = %r, manifest %r" % (e, got, v))
    assert not bad, "expressions disagree with the manifest: " + "; ".join(bad[:6])
    # A string's bytes as an object of the heap: print at the data pointer of
    # each string field the heap holds gives the field's value, whole, in a
    # tiny block or a slot of its own, whichever referrer typed it.
    nstrings = 0
    fields = [(e, v, doc) for (what, e, v), doc in zip(want, docs)
              if what == "value" and doc.get("type") == "string" and doc.get("len")]
    if fields:
        ptrs, perrs = run(goheap, d, ["print %s --json" % quote("*(*uintptr)(%s)" % doc["addr"]) for _, _, doc in fields])
        assert not perrs and len(ptrs) == len(fields), "string data pointers: %r" % perrs[:3]
        for (e, v, _), p in zip(fields, ptrs):
            objs, _ = run(goheap, d, ["print 0x%x --json" % p["value"]])
            if not objs or objs[0].get("kind") != "heap":
                continue  # a literal's bytes, in the executable
            o = objs[0]
            if o.get("untyped") and not named:
                continue  # stripped: only a global's DWARF would type it
            assert (o["type"], o.get("len"), o.get("value")) == ("string", len(v), v), \
                "%s: its bytes at 0x%x print as %s %r (len %r), manifest %r" % (e, p["value"], o["type"],
                                                                                 o.get("value"), o.get("len"), v)
            nstrings += 1
    nfields = sum(len(s.get("fields") or {}) for s in sentinels)
    if named and m.get("program") in ("demo", "maps"):
        assert built, "no expression by construction for %s" % m.get("program")
    # Struct keys (maps): main.BigKeys[k] for every main.BigKey k stored in it
    # (each key is stored out of line: a heap object of its own), through a
    # value of the key type in memory; bigKey(i) has Code[j] = i*100 + j and
    # maps to &Tag{N: i}.
    nstruct = nregs = nlisted = 0
    if named and m.get("program") == "maps":
        keys = run(goheap, d, ["objects --type %s --json --limit 1000" % quote("^main.BigKey$")])[0][0]["objects"]
        cmds = []
        for k in keys:
            cmds += ["print %s --json" % quote("(*main.BigKey)(%s).Code[1]" % k["addr"]),
                     "print %s --json" % quote("main.BigKeys[*(*main.BigKey)(%s)].N" % k["addr"])]
        docs, errs = run(goheap, d, cmds)
        assert not errs and len(docs) == len(cmds), "struct keys: %r" % errs[:3]
        got = [(docs[2 * i]["value"], docs[2 * i + 1]["value"]) for i in range(len(keys))]
        assert len(keys) == 30 and all((c - 1) // 100 == n for c, n in got) and \
            sorted(n for _, n in got) == list(range(30)), "struct keys: (Code[1], N) %r" % got[:5]
        nstruct = len(keys)
    # 3. errors, one line each
    errors = [("whatis main.nosuch", "goheap: whatis: main.nosuch: no such global"),
              ("whatis %s" % quote("$rsp"),
               'goheap: whatis: "$rsp": registers and a debugger\'s variables are evaluated only inside lldb or gdb'),
              ("paths localvar", "goheap: paths: localvar: not a global (a global is package.name); for a local, name "
               "its frame: --frame GOROUTINE:FUNCTION"),
              ("whatis --frame 999999:main.main x", "goheap: whatis: --frame 999999:main.main: no live goroutine 999999"),
              ("whatis --frame 1x x", "goheap: whatis: --frame 1x: expected GOROUTINE:FRAME (8:main.worker, or 8:3 "
               "for the fourth frame goroutine 8 lists)"),
              ("print %s" % quote("(*main.NoSuchType)(0x10)"),
               "goheap: print: (*main.NoSuchType): main.NoSuchType names no type of the program")]
    if named and m.get("program") == "demo":
        s = next(t for t in sentinels if t["type"] == "main.Session")
        u = s["fields"]["User"]
        k = 'main.sessions["%s"]' % u
        errors += [("paths %s" % quote('main.sessions["no-such-user"]'),
                    'goheap: paths: no key "no-such-user" in main.sessions'),
                   ("print %s" % quote(k + ".Foo"), "goheap: print: %s.Foo: main.Session has no field Foo" % k),
                   ("whatis %s" % quote("%s.User[%d]" % (k, len(u))),
                    "goheap: whatis: %s.User[%d]: index %d out of range [0:%d]" % (k, len(u), len(u), len(u))),
                   ("retains %s" % quote("*%s.Prev" % k),
                    "goheap: retains: %s.Prev: nil pointer dereference" % k),
                   ("graph %s" % quote("main.sessions[42]"),
                    'goheap: graph: main.sessions[42]: the key 42 is not a string')]
    if named and m.get("program") == "globals":  # Iface = &IfaceObj{...}
        errors += [("whatis %s" % quote("main.Iface.(*main.Named)"),
                    "goheap: whatis: main.Iface.(*main.Named): main.Iface holds *main.IfaceObj, not *main.Named")]
    if named and m.get("program") == "maps":
        errors += [("whatis %s" % quote('main.Nested["outer-3"][100000]'),
                    'goheap: whatis: no key 100000 in main.Nested["outer-3"]'),
                   ("whatis %s" % quote("main.BigKeys[5]"),
                    "goheap: whatis: main.BigKeys[5]: a main.BigKey key is looked up by a value of its type in "
                    "memory, not by 5")]
    if named and m.get("program") == "stacks":  # held is main.main's, on goroutine 1
        assert nlocals == nlocals_direct == 4 and nwhere == 2, \
            "stacks: %d sentinels held by locals (%d directly, %d in the user frame), want 4, 4, 2" % (
                nlocals, nlocals_direct, nwhere)
        # a name the frame lacks: the error names what it has (the compiler's choice), held among them
        _, errs = run(goheap, d, ["whatis --frame 1:main.main nosuch"])
        want_err = ("goheap: whatis: nosuch: no local nosuch in main.main's frame at this pc (none of that name, or "
                    "DWARF gives it no place there); there: ")
        assert len(errs) == 1 and errs[0].startswith(want_err) and \
            "held" in errs[0][len(want_err):].split(", "), "nosuch: %r" % errs
        # A local held in registers: spinUntil(obj) spins in a loop without
        # calls, so async preemption or the crash's signal stops it there and
        # its registers are saved (asyncPreempt's frame, or the signal's
        # context); obj, the spinning sentinel, lives in a register there.
        s = next(t for t in sentinels if t["type"] == "main.StackSpinning")
        frame = "%d:main.spinUntil" % s["root"]["goroutine"]
        cmds = ["print obj --frame %s --json" % frame, "paths obj --frame %s --json" % frame]
        fields = sorted((f, v) for f, v in (s.get("fields") or {}).items() if v != "<nil>")
        cmds += ["print obj.%s --frame %s --json" % (f, frame) for f, _ in fields]
        docs, errs = run(goheap, d, cmds)
        assert not errs and len(docs) == len(cmds), "registers: %r" % errs[:3]
        assert int(docs[0]["addr"], 16) == int(s["addr"], 16) and int(docs[1]["target"]["addr"], 16) == int(s["addr"], 16), \
            "--frame %s obj: print %s, paths %s, manifest %s" % (frame, docs[0]["addr"], docs[1]["target"]["addr"], s["addr"])
        got = [str(doc["value"]) for doc in docs[2:]]
        assert got == [v for _, v in fields], "--frame %s obj's fields %r, manifest %r" % (frame, got, fields)
        nregs = 1
        # goroutine G --locals: each stack sentinel's variable in its frame's
        # list, with the sentinel's address (obj in spinUntil from registers).
        held = [(t, t["root"]) for t in sentinels if t["root"].get("kind") == "stack" and t["root"].get("variable")]
        gids = sorted({r["goroutine"] for _, r in held})
        docs, errs = run(goheap, d, ["goroutine %d --locals --json" % g for g in gids])
        assert not errs and len(docs) == len(gids), "goroutine --locals: %r" % errs[:3]
        frames = {g: doc["frames"] for g, doc in zip(gids, docs)}
        want_locals = [(r["goroutine"], r["function"], r["variable"], t["addr"], False) for t, r in held] + \
            [(s["root"]["goroutine"], "main.spinUntil", "obj", s["addr"], True)]
        for g, fn, var, addr, regs in want_locals:
            ls = [l for f in frames[g] if f["function"] == fn for l in f.get("locals", []) if l["name"] == var]
            assert ls and "value" in ls[0], "goroutine %d --locals: %s has no %s: %r" % (g, fn, var, ls)
            v = ls[0]["value"]
            got = v.get("addr") if isinstance(v, dict) else None
            assert got and int(got, 16) == int(addr, 16) and (ls[0]["in_registers"] or not regs), \
                "goroutine %d --locals: %s %s = %r, manifest %s" % (g, fn, var, ls[0], addr)
            nlisted += 1
        errors += [("print --frame %s %s" % (frame, quote("&obj")),
                    "goheap: print: &obj: obj is held in registers at this pc: it has no address"),
                   ("whatis --frame 1:main.nosuch held",
                    "goheap: whatis: --frame 1:main.nosuch: goroutine 1 has no frame of main.nosuch (see goroutine 1)"),
                   ("print --frame 1:main.main held.Nosuch",
                    "goheap: print: held.Nosuch: main.StackMain has no field Nosuch")]
    errors += nils
    _, errs = run(goheap, d, [c for c, _ in errors])
    assert errs == [w for _, w in errors], "errors: %r, want %r" % (
        [e for e, (_, w) in zip(errs, errors) if e != w][:3], [w for e, (_, w) in zip(errs, errors) if e != w][:3])
    return "%d sentinels by (*T)(addr), %d by their full type name (the short one refused), %d fields; %d Go-terms paths and %d expressions by construction reach " \
           "the manifest's addresses; %d through the frame's local (%d holding the sentinel itself, %d by the goroutine alone, %d held in registers; %d in goroutine --locals); %d struct keys; %d one-line errors; " \
           "%d strings' bytes printed from the heap" % (
               len(sentinels) - nfull, nfull, nfields, len(paths), len(by_construction(m, sentinels)) if named else 0,
               nlocals, nlocals_direct, nwhere, nregs, nlisted, nstruct, len(errors), nstrings)
