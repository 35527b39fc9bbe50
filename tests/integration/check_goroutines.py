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
  have stack roots in that frame.
"""
import json
import os
import re
import subprocess
import time

FRAME = re.compile(r"^\t(.*):(\d+)(?: \+0x[0-9a-f]+)?(?: fp=(0x[0-9a-f]+) sp=(0x[0-9a-f]+) pc=(0x[0-9a-f]+))?$")
HEADER = re.compile(r"^goroutine (\d+) (?:gp=\S+ m=\S+ (?:mp=\S+ )?)?\[([^\],]*)")


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


def check_goroutines(d, m, goheap_batch, stderr_text=None, live=False):
    """Returns a one-line summary; raises AssertionError. The runtime's
    traceback is read from d/stderr.txt unless stderr_text is given ("" for
    none, as in live mode)."""
    if stderr_text is None:
        path = os.path.join(d, "stderr.txt")
        stderr_text = open(path, errors="replace").read() if os.path.exists(path) else ""
    gr, roots = goheap_batch(d, ["goroutines --json", "roots --list --json"])
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
        assert ok, "goroutine %d: state %r, its traceback said %r" % (g["id"], g["state"], p["state"])
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
    return "%d goroutines (%d user), %d parked, %d tracebacks = runtime's, %d stack sentinels held directly, %d through objects, " \
        "%d stack roots" % (gr["total"], gr["user"], len(m.get("parked", [])), compared, direct, indirect, len(stack))


def check_builtin_layouts(d, goheap):
    """The built-in runtime.g/m/_defer table (engine/goroutine_table.c) equals
    this binary's DWARF, and allgs and waitReasonStrings found by content are
    where the symbols say (GOHEAP_LAYOUTS=builtin GOHEAP_DISCOVER=1 force
    both paths). For binaries with DWARF and symbols."""
    def layout(**env):
        p = subprocess.run([goheap, "--exe", os.path.join(d, "exe"), os.path.join(d, "core"), "goroutines",
                            "--layout", "--json"], capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, **env))
        assert p.returncode == 0, p.stderr.strip()[-300:]
        return json.loads(p.stdout)
    truth, got = layout(), layout(GOHEAP_LAYOUTS="builtin", GOHEAP_DISCOVER="1")
    assert truth["layout_source"] == "DWARF" and truth["allgs_source"] == "symbols", truth["layout_source"]
    assert got["layout_source"].startswith("built-in"), got["layout_source"]
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
