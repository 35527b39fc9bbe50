"""goroutines and goroutine-stack roots against a corpus manifest.

- goroutines --json: the user goroutines (those runtime.NumGoroutine counts:
  allglen minus free gs minus the runtime's own, isSystemGoroutine at
  creation, finalizer and cleanup goroutines included) are exactly
  manifest["goroutines"]; every walk reached the bottom of its stack;
- every manifest["parked"] goroutine is found with the function at the
  file:line recorded (checked by the program against runtime.Stack) and the
  state its traceback printed (the wait reason of a waiting goroutine);
- the frames equal the runtime's own crash traceback in stderr.txt (function,
  file:line, and pc/sp/fp of every physical frame) for every goroutine it
  printed in full;
- roots --list --json: every sentinel held by a stack has its address among
  the values of a stack root of its goroutine, in the function the manifest
  names (and the variable, where goheap names one). Sentinels held through
  another object (a note says how, e.g. a channel buffer) are only checked to
  have stack roots in that frame;
- goroutine ID --json: the same sentinels are pointer words of that frame,
  with the manifest's variable name and type (where the binary has DWARF),
  and every pointer into the heap names its object's type;
- goroutines --group --json: the groups are exactly the goroutines with one
  stack and state, largest first, and the group of each parked goroutine has
  the count the program's notes give ("600 goroutines parked in
  main.parkChan");
- Delve's view (docs/cli.md "goroutines"): the listing is sorted by id;
  each goroutine's user_frame is the first of its frames (those equal to the
  runtime's traceback) outside the runtime by the documented rule, top_frame
  its first frame; each parked goroutine's user frame, creator (function and
  file:line of its go statement) and pprof labels are what the program
  recorded (manifest "user", "creator", "labels"; no labels when none); every
  "created by" the runtime's traceback printed is goheap's creator; the
  --label, --with and --without filters select exactly the goroutines the
  listing says have that label, user frame or state;
- wait durations: goheap prints "N minutes" only where the runtime's
  traceback printed at least as many (none of the corpus goroutines waited a
  minute: nothing must be printed); where gdb reads the core, every
  g.waitsince and the time goheap dates waits from (the newest nanotime() the
  runtime recorded) are what gdb computes from the same records.
"""
import json
import os
import re
import subprocess
import tempfile
import time

from harness import is_amd64, gdb_for

FRAME = re.compile(r"^\t(.*):(\d+)(?: \+0x[0-9a-f]+)?(?: fp=(0x[0-9a-f]+) sp=(0x[0-9a-f]+) pc=(0x[0-9a-f]+))?$")
CREATED = re.compile(r"^created by (\S+?)(?: in goroutine (\d+))?$")
HEADER = re.compile(r"^goroutine (\d+) (?:gp=\S+ m=\S+ (?:mp=\S+ )?)?\[([^\],]*)")
MINUTES = re.compile(r"^goroutine (\d+) (?:gp=\S+ m=\S+ (?:mp=\S+ )?)?\[[^\]]*?, (\d+) minutes")
PARKED_NOTE = re.compile(r"^(\d+) goroutines parked in (\S+)$")


def traceback_states(text):
    """{goid: state} from the last header the runtime printed for each
    goroutine ("goroutine 5 gp=... [running, locked to thread]:" -> "running")."""
    out = {}
    for line in text.splitlines():
        h = HEADER.match(line)
        if h:
            out[int(h.group(1))] = h.group(2).strip()
    return out


def parse_traceback(text):
    """The runtime's crash traceback: {goid: [(function, file, line, fp, sp, pc)]}
    for goroutines printed with their frames (goroutine 0, the g0 stacks the
    other threads print, is left out)."""
    out = {}
    cur = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        h = HEADER.match(line)
        if h:
            gid = int(h.group(1))
            cur = [] if gid and gid not in out else None
            if cur is not None:
                out[gid] = cur
            i += 1
            continue
        if cur is not None and i + 1 < len(lines) and lines[i + 1].startswith("\t"):
            fn = line
            if fn.startswith("created by ") or fn.startswith("...") or not fn.endswith(")"):
                cur = None
                i += 1
                continue
            fn = fn[:fn.rindex("(")]
            f = FRAME.match(lines[i + 1])
            if f:
                cur.append((fn, f.group(1), int(f.group(2)), f.group(3), f.group(4), f.group(5)))
            i += 2
            continue
        if not line.strip() or line.startswith("-----"):
            cur = None
        i += 1
    return out


def parse_created_by(text):
    """The runtime's crash traceback: {goid: (function, file, line)} of its
    "created by" lines."""
    out = {}
    lines = text.splitlines()
    gid = None
    for i, line in enumerate(lines):
        h = HEADER.match(line)
        if h:
            gid = int(h.group(1))
            continue
        c = CREATED.match(line)
        if c and gid and i + 1 < len(lines):
            f = FRAME.match(lines[i + 1])
            if f:
                out.setdefault(gid, (c.group(1), f.group(1), int(f.group(2))))
            gid = None
    return out


def is_runtime_frame(f):
    """docs/cli.md's rule for the user frame: Delve's (*G).UserCurrent
    (no '.', unexported runtime.*, internal/, runtime/internal/, iter.) plus
    GOROOT/src/runtime code linked into other packages and package syscall."""
    fn = f["function"]
    if fn.startswith("runtime."):
        return not fn[8:9].isupper()
    return ("." not in fn or fn.startswith(("internal/", "runtime/internal/", "iter.", "syscall.")) or
            "/src/runtime/" in f["file"])


def frame_of(f):
    return None if f is None else {"function": f["function"], "file": f["file"], "line": f["line"]}


def check_delve_view(gr, m, stderr_text, goheap_batch, d):
    """Sorting, user and top frames, creators, labels and the filters (see
    the module's doc). Returns a summary."""
    ids = [g["id"] for g in gr["goroutines"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), "goroutines not sorted by id: %s" % ids[:20]
    for g in gr["goroutines"]:
        want = next((f for f in g["frames"][:30] if not is_runtime_frame(f)), None)
        assert g["user_frame"] == frame_of(want) == g["where"], "goroutine %d: user frame %s, the rule gives %s" % (
            g["id"], g["user_frame"], frame_of(want))
        assert g["top_frame"] == frame_of(g["frames"][0]), "goroutine %d: top frame %s" % (g["id"], g["top_frame"])
        assert g["labels_error"] is None, "goroutine %d: labels: %s" % (g["id"], g["labels_error"])
    gs = {g["id"]: g for g in gr["goroutines"]}
    users = creators = labelled = 0
    for p in m.get("parked", []):
        g = gs[p["goroutine"]]
        where = "goroutine %d (%s)" % (g["id"], p["function"])
        assert g["labels"] == p.get("labels", {}), "%s: labels %s, the program set %s" % (
            where, g["labels"], p.get("labels", {}))
        labelled += bool(p.get("labels"))
        u = p.get("user")
        if u:
            have = g["user_frame"] or {}
            ok = have.get("function") == u["function"] and (
                not u["line"] or (have.get("file"), have.get("line")) == (u["file"], u["line"]))
            assert ok, "%s: user frame %s, the program says %s" % (where, have, u)
            users += 1
        c = p.get("creator")
        if c:
            have = g["creator"] or {}
            assert (have.get("function"), have.get("file"), have.get("line")) == (c["function"], c["file"], c["line"]), \
                "%s: created by %s, the program's go statement is %s" % (where, have, c)
            creators += 1
    tb = parse_created_by(stderr_text) if stderr_text else {}
    for gid, (fn, file, line) in tb.items():
        if gid not in gs:
            continue
        have = gs[gid]["creator"] or {}
        assert (have.get("function"), have.get("file"), have.get("line")) == (fn, file, line), \
            "goroutine %d: created by %s, the runtime's traceback says %s %s:%d" % (gid, have, fn, file, line)
    # Filters, each against the listing of the same session: a live process
    # may run between two sessions, and its goroutines change state.
    cmds, wants = [], []
    pairs = sorted({(k, v) for g in gr["goroutines"] for k, v in g["labels"].items() if " " not in k + v})
    for k, v in pairs[:3]:
        cmds.append("goroutines --label %s=%s --json" % (k, v))
        wants.append(lambda gs, k=k, v=v: {g["id"] for g in gs if g["labels"].get(k) == v})
        cmds.append("goroutines --without label=%s --json" % k)
        wants.append(lambda gs, k=k: {g["id"] for g in gs if k not in g["labels"]})
    for fn in sorted({p["user"]["function"].split(".")[-1] for p in m.get("parked", []) if p.get("user")})[:2]:
        cmds.append("goroutines --with userloc=%s --json" % fn)
        wants.append(lambda gs, fn=fn: {g["id"] for g in gs if g["user_frame"] and re.search(
            fn, "%s %s:%d" % (g["user_frame"]["function"], g["user_frame"]["file"], g["user_frame"]["line"]))})
    cmds += ["goroutines --with running --json", "goroutines --without user --json",
             "goroutines --with goloc=main --json"]
    wants += [lambda gs: {g["id"] for g in gs if g["status"] == "running"},
              lambda gs: {g["id"] for g in gs if g["system"]},
              lambda gs: {g["id"] for g in gs if g["creator"] and re.search(
                  "main", "%s %s:%d" % (g["creator"]["function"], g["creator"]["file"], g["creator"]["line"]))}]
    docs = goheap_batch(d, ["goroutines --json"] + cmds)
    listing = docs[0]["goroutines"]
    for cmd, want_of, doc in zip(cmds, wants, docs[1:]):
        want = want_of(listing)
        have = {g["id"] for g in doc["goroutines"]}
        assert have == want and doc["matched"] == len(want), "%s: %d goroutines %s, want %s" % (
            cmd, doc["matched"], sorted(have)[:10], sorted(want)[:10])
    return "sorted by id; user frames by the rule; %d parked user frames, %d creators, %d labelled = program's; " \
        "%d created-by = traceback's; %d filters" % (users, creators, labelled, len(tb), len(cmds))


def check_traceback(gs, text):
    """goheap's frames against the runtime's; returns goroutines compared."""
    tb = parse_traceback(text)
    compared = 0
    for gid, frames in tb.items():
        g = gs.get(gid)
        if not frames or g is None or g["status"] == "running":
            continue  # running goroutines moved on after printing (crash path)
        got = g["frames"]
        assert len(got) >= len(frames), "goroutine %d: %d frames, the runtime printed %d" % (
            gid, len(got), len(frames))
        for k, (fn, file, line, fp, sp, pc) in enumerate(frames):
            f = got[k]
            want = "%s %s:%d" % (fn, file, line)
            have = "%s %s:%d" % (f["function"], f["file"], f["line"])
            assert want == have, "goroutine %d frame %d: goheap %s, runtime %s" % (gid, k, have, want)
            if pc:
                assert (f["pc"], f["sp"], f["fp"]) == (pc, sp, fp), \
                    "goroutine %d frame %d %s: goheap pc/sp/fp %s/%s/%s, runtime %s/%s/%s" % (
                        gid, k, fn, f["pc"], f["sp"], f["fp"], pc, sp, fp)
        compared += 1
    return compared


def stack_key(g):
    """What makes goroutines one group: state and every frame."""
    return (g["status"], g["wait_reason"], g["stop"],
            tuple((f["function"], f["file"], f["line"], f["inlined"]) for f in g["frames"]))


def check_groups(gr, grp, m):
    """goroutines --group against the goroutines themselves and the
    program's notes. Returns (groups, parked groups checked)."""
    groups = grp["groups"]
    assert grp["matched"] == gr["total"] and grp["ngroups"] == len(groups) == grp["shown"], \
        "group totals %r" % {k: grp[k] for k in ("matched", "ngroups", "shown")}
    counts = [g["count"] for g in groups]
    assert sum(counts) == gr["total"], "groups hold %d goroutines of %d" % (sum(counts), gr["total"])
    assert counts == sorted(counts, reverse=True), "groups not largest first: %s" % counts
    want = {}
    for g in gr["goroutines"]:
        want.setdefault(stack_key(g), []).append(g["id"])
    assert len(want) == len(groups), "%d groups, the goroutines have %d distinct stacks" % (len(groups), len(want))
    by_id = {}
    for grp_ in groups:
        key = (grp_["status"], grp_["wait_reason"], grp_["stop"],
               tuple((f["function"], f["file"], f["line"], f["inlined"]) for f in grp_["frames"]))
        ids = want.get(key)
        assert ids, "group of %d (%s in %s) matches no goroutine's stack" % (
            grp_["count"], grp_["state"], (grp_["where"] or {}).get("function"))
        assert grp_["count"] == len(ids), "group %s at %s: %d goroutines, %d have that stack" % (
            grp_["state"], (grp_["where"] or {}).get("function"), grp_["count"], len(ids))
        assert grp_["goroutines"] == sorted(ids)[:len(grp_["goroutines"])] and grp_["goroutines"], \
            "group ids %s, expected the lowest of %s" % (grp_["goroutines"], sorted(ids)[:10])
        for i in ids:
            by_id[i] = grp_
    parked = {p["function"]: p for p in m.get("parked", [])}
    checked = 0
    for note in m.get("notes", []):
        n = PARKED_NOTE.match(note)
        if not n:
            continue
        count, fn = int(n.group(1)), n.group(2)
        p = parked.get(fn)
        assert p, "note %r: no parked goroutine in %s" % (note, fn)
        g = by_id.get(p["goroutine"])
        assert g, "parked goroutine %d is in no group" % p["goroutine"]
        assert g["count"] == count and g["state"] == p["state"], \
            "%s: its goroutines' group has %d (%s), the program parked %d (%s)" % (
                fn, g["count"], g["state"], count, p["state"])
        assert any(f["function"] == fn for f in g["frames"]), "%s: not in its group's frames" % fn
        checked += 1
    return len(groups), checked


def check_wait_printed(gr, text):
    """goheap's wait minutes never exceed what the runtime printed (nothing
    printed: under a minute). Returns (headers compared, minutes printed)."""
    gs = {g["id"]: g for g in gr["goroutines"]}
    for g in gr["goroutines"]:
        if g["wait_minutes"] is not None:
            assert g["waitsince"] and g["status"] in ("waiting", "syscall") and gr["now"], \
                "goroutine %d: wait_minutes %r without waitsince/now (%s)" % (g["id"], g["wait_minutes"], g["status"])
            assert g["wait_minutes"] >= 0
    compared = printed = 0
    for line in text.splitlines():
        h = HEADER.match(line)
        if not h or int(h.group(1)) not in gs:
            continue
        g = gs[int(h.group(1))]
        mins = MINUTES.match(line)
        have = g["wait_minutes"] or 0
        if mins:
            printed += 1
            assert have <= int(mins.group(2)), "goroutine %d: goheap says %d minutes, the runtime %s" % (
                g["id"], have, mins.group(2))
        else:
            assert have < 1, "goroutine %d: goheap says it waited %d minutes, the runtime printed none" % (
                g["id"], have)
        compared += 1
    return compared, printed


def gdb_clock(d, minor):
    """The runtime's nanotime() records as gdb reads them from the core:
    ({goid: waitsince} of live goroutines, [other records]), or None when gdb
    cannot (no symbols)."""
    dead = (6, 11) if minor >= 26 else (6,)
    script = "\n".join([
        "set language c", "set pagination off",
        "printf \"R %ld\\n\", 'runtime.sched'.lastpoll.value",
        "printf \"R %ld\\n\", 'runtime.sched'.procresizetime",
        "printf \"R %ld\\n\", 'runtime.memstats'.last_gc_nanotime",
        "printf \"R %ld\\n\", 'runtime.gcCPULimiter'.lastUpdate.value",
        "set $i = 0",
        "while $i < 'runtime.allp'.len",
        "  printf \"R %ld\\nR %ld\\n\", 'runtime.allp'.array[$i]->sysmontick.schedwhen, "
        "'runtime.allp'.array[$i]->sysmontick.syscallwhen",
        "  set $i = $i + 1",
        "end",
        "set $i = 0",
        "while $i < 'runtime.allglen'",
        "  set $g = 'runtime.allgs'.array[$i]",
        "  printf \"G %lu %u %ld\\n\", $g->goid, $g->atomicstatus.value, $g->waitsince",
        "  set $i = $i + 1",
        "end", ""])
    with tempfile.NamedTemporaryFile("w", suffix=".gdb") as f:
        f.write(script)
        f.flush()
        p = subprocess.run([gdb_for(os.path.join(d, "exe")), "-batch", "-nx", "-iex", "set auto-load no", "-x", f.name,
                            os.path.join(d, "exe"), os.path.join(d, "core")],
                           capture_output=True, text=True, timeout=600)
    recs = [int(x) for x in re.findall(r"^R (-?\d+)$", p.stdout, re.M)]
    gs = {}
    for goid, st, ws in re.findall(r"^G (\d+) (\d+) (-?\d+)$", p.stdout, re.M):
        if int(st) & ~0x1000 not in dead:
            gs[int(goid)] = int(ws)
    if len(recs) < 4 or not gs:
        return None
    return gs, recs


def check_wait_gdb(d, gr, minor):
    """Every goroutine's waitsince and goheap's "now" against gdb."""
    clock = gdb_clock(d, minor)
    if clock is None:
        return "no gdb reading (no symbols)"
    gws, recs = clock
    for g in gr["goroutines"]:
        assert g["id"] in gws, "goroutine %d: gdb does not list it" % g["id"]
        assert (g["waitsince"] or 0) == gws[g["id"]], "goroutine %d: waitsince %r, gdb reads %d" % (
            g["id"], g["waitsince"], gws[g["id"]])
    want = max([r for r in recs if r > 0] + [w for w in gws.values() if w > 0] + [0])
    have = gr["now"]["nanotime"] if gr["now"] else 0
    assert have == want, "goheap dates waits from %d (%s), the newest record gdb reads is %d" % (
        have, (gr["now"] or {}).get("source"), want)
    return "now %s = gdb's" % ((gr["now"] or {}).get("source"),)


def check_frame_pointers(m, one, named):
    """goroutine ID --json for the goroutines holding stack sentinels: each
    sentinel held directly is a pointer word of its frame, named as the
    manifest says and typed as its type (with DWARF); every pointer into the
    heap has a type. Returns (direct, indirect, pointer words seen)."""
    words = 0
    for gid, doc in one.items():
        assert doc["id"] == gid
        assert not doc["notes"], "goroutine %d: notes %s" % (gid, doc["notes"])
        for f in doc["frames"]:
            if f["inlined"]:
                assert not f["pointers"], "goroutine %d: pointers on inlined frame %s" % (gid, f["function"])
            for p in f["pointers"] + (doc["other_pointers"] if f is doc["frames"][0] else []):
                words += 1
                if p["points_to"] == "heap":
                    assert p["type"] and p["object"], "goroutine %d %s: heap pointer %s without a type" % (
                        gid, f["function"], p["value"])
                else:
                    assert not p["conservative"], "goroutine %d: conservative word %s shown" % (gid, p["value"])
    direct = indirect = 0
    for s in m["sentinels"]:
        want = s["root"]
        if want["kind"] != "stack" or "goroutine" not in want:
            continue
        doc = one[want["goroutine"]]
        where = "sentinel %s %s (goroutine %d %s %s)" % (s["type"], s["addr"], want["goroutine"],
                                                        want["function"], want.get("variable"))
        frames = [f for f in doc["frames"] if f["function"] == want["function"] and not f["inlined"]]
        if not frames:  # inlined into its caller: its variables are the caller's frame's
            idx = [i for i, f in enumerate(doc["frames"]) if f["function"] == want["function"]]
            assert idx, "%s: no frame in %s" % (where, want["function"])
            frames = [next(f for f in doc["frames"][idx[0]:] if not f["inlined"])]
        ptrs = [p for f in frames for p in f["pointers"] if s["addr"] in (p["value"], p["object"])]
        if not ptrs and s.get("note"):
            assert any(f["pointers"] for f in frames), "%s: held through another object, but the frame has no " \
                "pointer words" % where
            indirect += 1
            continue
        assert ptrs, "%s: not among the frame's pointer words %s" % (
            where, [(p["name"], p["value"]) for f in frames for p in f["pointers"]])
        if named:
            assert any(p["name"] == want["variable"] for p in ptrs), "%s: held by %s" % (
                where, [p["name"] for p in ptrs])
            assert all(p["type"] == s["type"] for p in ptrs), "%s: typed %s" % (where, [p["type"] for p in ptrs])
        direct += 1
    return direct, indirect, words


def check_goroutines(d, m, goheap_batch, stderr_text=None, live=False):
    """Returns a one-line summary; raises AssertionError. The runtime's
    traceback is read from d/stderr.txt unless stderr_text is given ("" for
    none, as in live mode)."""
    if stderr_text is None:
        path = os.path.join(d, "stderr.txt")
        stderr_text = open(path, errors="replace").read() if os.path.exists(path) else ""
    gr, roots, grp = goheap_batch(d, ["goroutines --json", "roots --list --json", "goroutines --group --json"])
    # goroutine ID: those holding sentinels, and every goroutine of a small program.
    holders = {s["root"]["goroutine"] for s in m["sentinels"]
               if s["root"]["kind"] == "stack" and "goroutine" in s["root"]}
    if len(gr["goroutines"]) <= 64:
        holders |= {g["id"] for g in gr["goroutines"]}
    holders = sorted(holders)
    one = dict(zip(holders, goheap_batch(d, ["goroutine %d --json" % g for g in holders])))
    gs = {g["id"]: g for g in gr["goroutines"]}
    assert len(gs) == gr["total"] == gr["user"] + gr["system"], "counts: %r" % {
        k: gr[k] for k in ("total", "user", "system")}
    assert sum(gr["counts"].values()) == gr["total"], "counts by status %r" % gr["counts"]
    assert gr["user"] == m["goroutines"], "%d user goroutines, runtime.NumGoroutine said %d" % (
        gr["user"], m["goroutines"])
    for g in gr["goroutines"]:
        assert g["stop"] is None and g["frames"], "goroutine %d (%s): walk stopped: %s" % (
            g["id"], g["status"], g["stop"])
        assert g["frames"][-1]["function"] in ("runtime.goexit", "runtime.main"), \
            "goroutine %d ends in %s, not at the bottom of its stack" % (g["id"], g["frames"][-1]["function"])
    notes = [n for n in gr["notes"]]
    assert not notes, "goroutines notes: %s" % "; ".join(notes)
    # Parked goroutines where the program recorded them.
    for p in m.get("parked", []):
        g = gs.get(p["goroutine"])
        assert g, "parked goroutine %d (%s) not found" % (p["goroutine"], p["function"])
        here = [f for f in g["frames"] if f["function"] == p["function"]]
        assert here, "goroutine %d: no frame in %s; frames %s" % (
            g["id"], p["function"], [f["function"] for f in g["frames"]])
        assert any(f["file"] == p["file"] and f["line"] == p["line"] for f in here), \
            "goroutine %d: %s at %s, recorded %s:%d" % (g["id"], p["function"],
                                                       ["%s:%d" % (f["file"], f["line"]) for f in here],
                                                       p["file"], p["line"])
        ok = g["state"] == p["state"] or (live and p["state"] in ("runnable", "running") and
                                          g["status"] in ("runnable", "running"))
        # The program says what it expects (the crash path preempts a
        # spinner); on a slow machine the dump can come first, and then the
        # runtime's own traceback, printed last, is the truth.
        printed = traceback_states(stderr_text).get(p["goroutine"]) if stderr_text else None
        ok = ok or (printed is not None and g["state"] == printed)
        assert ok, "goroutine %d: state %r, the program expected %r, the runtime's traceback said %r" % (
            g["id"], g["state"], p["state"], printed)
    compared = check_traceback(gs, stderr_text) if stderr_text else 0
    # Stack sentinels among the stack roots' values.
    stack = [r for r in roots["roots"] if r["kind"] == "stack"]
    for r in stack:
        assert "goroutine" in r and r.get("function"), "stack root without goroutine or function: %r" % r
    direct = indirect = 0
    for s in m["sentinels"]:
        want = s["root"]
        if want["kind"] != "stack":
            continue
        where = "sentinel %s %s (goroutine %s %s %s)" % (s["type"], s["addr"], want.get("goroutine"),
                                                        want.get("function"), want.get("variable"))
        mine = [r for r in stack if (r["goroutine"] == want["goroutine"] if "goroutine" in want
                                     else r["function"] == want["function"])]
        holding = [r for r in mine if s["addr"] in r["values"]]
        if not holding and s.get("note"):
            assert any(r["function"] == want["function"] for r in mine), \
                "%s: held through another object, but no stack root in %s" % (where, want["function"])
            indirect += 1
            continue
        assert holding, "%s: no stack root of the goroutine holds it (%d roots: %s)" % (
            where, len(mine), sorted({r["function"] for r in mine}))
        infn = [r for r in holding if r["function"] == want["function"]]
        assert infn, "%s: held by %s, not by %s" % (where, sorted({r["function"] for r in holding}),
                                                   want["function"])
        named = [r for r in infn if r.get("variable") and not r["variable"].startswith("(")]
        if want.get("variable") and named:
            assert any(r["variable"] == want["variable"] for r in named), "%s: held by variable %s" % (
                where, sorted({r["variable"] for r in named}))
        direct += 1
    bad = [n for n in roots["notes"] if "stack" in n or "goroutine" in n]
    assert not bad, "stack root notes: %s" % "; ".join(bad)
    ngroups, parked_groups = check_groups(gr, grp, m)
    named_roots = any(r.get("variable") and not r["variable"].startswith("(") for r in stack)
    fdirect, findirect, fwords = check_frame_pointers(m, one, named_roots)
    assert (fdirect, findirect) == (direct, indirect), \
        "goroutine ID finds %d sentinels directly and %d through objects, the roots %d and %d" % (
            fdirect, findirect, direct, indirect)
    headers, printed = check_wait_printed(gr, stderr_text) if stderr_text else (0, 0)
    minor = int(re.match(r"go1\.(\d+)", m["go"]).group(1))
    wait = check_wait_gdb(d, gr, minor) if not live else "live"
    delve = check_delve_view(gr, m, stderr_text, goheap_batch, d)
    return delve + "; %d goroutines (%d user), %d parked, %d tracebacks = runtime's, %d stack sentinels held directly, %d through objects, " \
        "%d stack roots; %d groups (%d parked counts = notes); goroutine ID (%d): %d sentinels as frame pointers (%d words); " \
        "waits: %d headers, %d with minutes, %s" % (
            gr["total"], gr["user"], len(m.get("parked", [])), compared, direct, indirect, len(stack), ngroups,
            parked_groups, len(one), fdirect, fwords, headers, printed, wait)


def check_builtin_layouts(d, goheap):
    """The built-in runtime.g/m/_defer table (engine/goroutine/goroutine_table.c) equals
    this binary's DWARF, and allgs and waitReasonStrings found by content are
    where the symbols say (GOHEAP_LAYOUTS=builtin GOHEAP_DISCOVER=1 force
    both paths). For binaries with DWARF and symbols, of either architecture
    (the table has a row per GOARCH: the source names it)."""
    def layout(**env):
        p = subprocess.run([goheap, "--exe", os.path.join(d, "exe"), os.path.join(d, "core"), "goroutines",
                            "--layout", "--json"], capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, **env))
        assert p.returncode == 0, p.stderr.strip()[-300:]
        return json.loads(p.stdout)
    truth, got = layout(), layout(GOHEAP_LAYOUTS="builtin", GOHEAP_DISCOVER="1")
    assert truth["layout_source"] == "DWARF" and truth["allgs_source"] == "symbols", truth["layout_source"]
    arch = "linux/amd64" if is_amd64(os.path.join(d, "exe")) else "linux/arm64"
    assert got["layout_source"].startswith("built-in") and arch in got["layout_source"], got["layout_source"]
    assert len(got["fields"]) == len(truth["fields"]), "%d fields built in, %d in DWARF" % (
        len(got["fields"]), len(truth["fields"]))
    for a, b in zip(truth["fields"], got["fields"]):
        assert a == b, "built-in %s.%s = %r, DWARF says %r" % (a["type"], a["field"], b, a)
    assert got["allgs"] == truth["allgs"], "allgs found at %s, symbol says %s" % (got["allgs"], truth["allgs"])
    assert got["wait_reasons"] == truth["wait_reasons"], "%d wait reasons found by content, the symbol has %d" % (
        got["wait_reasons"], truth["wait_reasons"])
    return "%s; %d fields, allgs, %d wait reasons" % (got["layout_source"], len(got["fields"]), got["wait_reasons"])


def check_goroutines_live(d, goheap):
    """The same checks on the live process (GOHEAP_HOLD=1: it prints its
    manifest and blocks reading stdin), attached and stopped by goheap --pid;
    running goroutines are walked from their threads' registers."""
    p = subprocess.Popen([os.path.join(d, "exe")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=dict(os.environ, GOHEAP_HOLD="1"))
    try:
        m = json.loads(p.stdout.readline())
        time.sleep(0.2)  # let main reach its read(0)

        def batch(_, cmds):
            r = subprocess.run([goheap, "--pid", str(p.pid)], input="\n".join(cmds) + "\n", capture_output=True,
                               text=True, timeout=600)
            assert r.returncode == 0, "goheap --pid exited %d: %s" % (r.returncode, r.stderr.strip()[-400:])
            assert not r.stderr.strip(), "goheap printed errors or warnings: %s" % r.stderr.strip()[-400:]
            docs = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
            assert len(docs) == len(cmds), "%d answers for %d commands" % (len(docs), len(cmds))
            return docs
        out = check_goroutines(d, m, batch, stderr_text="", live=True)
    except BaseException:
        p.kill()
        p.wait()
        raise
    p.stdin.close()
    rc = p.wait(timeout=60)
    assert rc == 0, "the process exited with %d after goheap detached" % rc
    return out
