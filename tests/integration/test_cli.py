#!/usr/bin/env python3
"""The command line's prompt, interrupts, mappings and read.

a. A session on a pseudo-terminal: the prompt answers overview, heap,
   goroutines, mappings and read as the one-shot CLI does, loads the heap
   once (overview --json heap_loads), recalls commands with the up arrow
   (in the session and from ~/.goheap_history in the next one), completes
   command names with Tab, and Ctrl-C at the prompt clears the line and
   keeps the session.
b. Ctrl-C during `heap` on the largest corpus core (marking slowed down with
   GOHEAP_TEST_SLOW_MARK so the window is known): the labelled partial
   result, in text and JSON; the session goes on and the next `heap` marks
   again and gives the full count. One-shot: the partial result and exit 130.
   Ctrl-C during `verify` (slowed with GOHEAP_TEST_SLOW_VERIFY): exit 130.
   Ctrl-C in the long phase of top and dominators (the dominator tree),
   heap --retained (retained sizes by type), paths --aggregate, sites, the
   heap's spans and the DWARF variable index (slowed with
   GOHEAP_TEST_SLOW_PHASE): each stops there within seconds, says where,
   prints no result and exits 130.
   Error messages name the argument and what is wrong with it; every
   column of human-unit sizes has a header over it.
   goroutines' text rows show each parked goroutine's user frame, its
   creator's file:line and its pprof labels as the manifest records them;
   a bad --with, --without or --label is refused naming the option.
c. mappings and read on one core of every release and variant: the JSON
   parses, the executable's text section and every heap arena are labelled,
   and `read` of a sentinel shows the bytes gdb shows (`x/16xb`).
Prints `N passed, N failed`; exit 1 on a failure, 77 when there is no corpus.
"""
import glob
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from harness import check, summary  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
GOHEAP = os.path.join(BUILD, "bin", "goheap")
PROMPT = "(goheap) "
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\x07")


def native(d):
    """A corpus directory of this machine's architecture: the cores qemu
    writes for another (the arm64 and arm64-stripped variants) name no
    executable and need --exe; run.py checks those."""
    tag = os.path.relpath(d, os.path.join(BUILD, "corpus")).split(os.sep)[0]  # not the checkout's own path
    return not re.search(r"-arm64(-|$)", tag)


def corpus_dirs():
    """One directory per release and variant of this machine's architecture, sorted."""
    return sorted(d for d in glob.glob(os.path.join(BUILD, "corpus", "go1.*")) if os.path.isdir(d) and native(d))


def one_shot(core, *args, env=None):
    p = subprocess.run([GOHEAP, core] + list(args), capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, **(env or {})))
    assert p.returncode == 0, "goheap %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()[-300:])
    return p.stdout


def clean(raw):
    """Terminal output as plain lines: escapes gone, progress lines erased."""
    out = []
    for line in raw.replace("\r\n", "\n").split("\n"):
        # a carriage return rewrites the line: keep what was written last
        line = ANSI.sub("", line.split("\r")[-1] if "\r" in line else line)
        out.append(line)
    return "\n".join(out)


class Session:
    """goheap CORE on a pseudo-terminal."""

    def __init__(self, core, home, env=None):
        self.pid, self.fd = os.forkpty()
        if self.pid == 0:
            e = {k: v for k, v in os.environ.items() if k != "GOHEAP_TEST_SLOW_MARK"}
            e.update(HOME=home, TERM="xterm", **(env or {}))
            try:
                os.execve(GOHEAP, [GOHEAP, core], e)
            finally:
                os._exit(127)
        self.buf = ""
        self.wait_prompt(60)

    def read(self, timeout, until=None):
        """Reads until until(text so far) holds or timeout; returns the text."""
        end = time.time() + timeout
        while time.time() < end:
            if until and until(self.buf):
                return self.buf
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                self.buf += data.decode("utf-8", "replace")
        if until and not until(self.buf):
            raise AssertionError("timed out; the terminal shows: %r" % self.buf[-400:])
        return self.buf

    def editing(self):
        """libedit is reading: the terminal is out of canonical mode."""
        return not (termios.tcgetattr(self.fd)[3] & termios.ICANON)

    def wait_prompt(self, timeout):
        self.read(timeout, lambda b: b.endswith(PROMPT))
        end = time.time() + 10
        while not self.editing() and time.time() < end:
            time.sleep(0.01)

    def send(self, keys):
        os.write(self.fd, keys.encode())

    def command(self, line, timeout=120):
        """Types a line, returns the output up to the next prompt (clean)."""
        self.buf = ""
        self.send(line + "\r")
        self.read(timeout, lambda b: "\n" in b and b.endswith(PROMPT))
        out = clean(self.buf[: -len(PROMPT)])
        self.wait_prompt(10)
        first, _, rest = out.partition("\n")  # the echoed line
        return rest

    def close(self, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            try:
                self.read(0.1)
            except AssertionError:
                pass
        self.kill()
        raise AssertionError("goheap did not exit")

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            os.close(self.fd)
        except OSError:
            pass


def newest_demo():
    for d in reversed(corpus_dirs()):
        if "-" not in os.path.basename(d) and os.path.exists(os.path.join(d, "demo", "core")):
            return os.path.join(d, "demo")
    return None


def sentinel(d):
    with open(os.path.join(d, "manifest.json")) as f:
        m = json.loads(f.readline())
    return m["sentinels"][0]["addr"], m


# --- a. the prompt on a terminal ------------------------------------------------


def check_prompt(d, home):
    core = os.path.join(d, "core")
    addr, m = sentinel(d)
    s = Session(core, home)
    try:
        out = s.command("overview")
        assert "Go version     %s" % m["go"] in out, out
        got = s.command("heap --top 3")
        want = one_shot(core, "heap", "--top", "3")
        assert got.strip() == want.strip(), "heap --top 3 differs from the one-shot CLI:\n%s\n---\n%s" % (got, want)
        got = s.command("goroutines --limit 2")
        want = one_shot(core, "goroutines", "--limit", "2")
        assert got.strip() == want.strip(), "goroutines --limit 2 differs:\n%s\n---\n%s" % (got, want)
        out = s.command("mappings")
        assert "sections" in out and ".text" in out and "heap arena" in out, out
        out = s.command("read %s 16" % addr)
        assert re.match(r"0x0*%s: " % addr[2:], out), out
        ov = json.loads(s.command("overview --json"))
        assert ov["heap_loads"] == 1, "heap loaded %d times in one session" % ov["heap_loads"]
        # history: the up arrow twice recalls `read`
        s.buf = ""
        s.send("\x1b[A\x1b[A")
        s.read(5, lambda b: ("read %s 16" % addr) in clean(b))
        out = s.command("")
        assert re.match(r"0x0*%s: " % addr[2:], out), "up-arrow twice did not run `read` again: %r" % out
        # Ctrl-C at the prompt: the line is dropped, the session stays
        s.buf = ""
        s.send("bogus-command")
        s.read(5, lambda b: "bogus-command" in b)
        s.send("\x03")
        s.read(5, lambda b: b.endswith(PROMPT))
        s.wait_prompt(5)
        assert "no command" not in s.buf, "Ctrl-C ran the line: %r" % s.buf
        ov = json.loads(s.command("overview --json"))
        assert ov["heap_loads"] == 1, "the session was not kept after Ctrl-C"
        # Tab completes a command name
        out = s.command("mapp\t--json")
        maps = json.loads(out)["mappings"]
        assert maps, "no mappings"
        s.send("quit\r")
        rc = s.close()
        assert rc == 0, "quit: exit %d" % rc
    except BaseException:
        s.kill()
        raise
    # the next session recalls the last command from ~/.goheap_history
    hist = open(os.path.join(home, ".goheap_history")).read()
    assert "overview" in hist, hist
    s = Session(core, home)
    s.buf = ""
    s.send("\x1b[A\x1b[A")
    s.read(5, lambda b: "mappings" in clean(b))
    maps = json.loads(s.command(""))["mappings"]
    assert maps
    s.send("\x04")  # Ctrl-D ends the session too
    rc = s.close()
    assert rc == 0, "Ctrl-D: exit %d" % rc
    return "heap loaded once, history recalled in and across sessions, Ctrl-C at the prompt kept the session"


# --- b. Ctrl-C during heap ------------------------------------------------------


def largest_core():
    cores = [c for c in glob.glob(os.path.join(BUILD, "corpus", "go1.*", "*", "core")) if native(c)]
    return max(cores, key=lambda c: os.stat(c).st_size) if cores else None


def interrupted_heap(s, json_out):
    s.buf = ""
    s.send("heap --top 3%s\r" % (" --json" if json_out else ""))
    s.read(60, lambda b: "goheap: marking" in b)
    s.send("\x03")
    s.read(60, lambda b: "\n" in b and b.endswith(PROMPT))
    out = clean(s.buf[: -len(PROMPT)])
    s.wait_prompt(10)
    return out.partition("\n")[2].strip()


def check_interrupt(core, home):
    full = json.loads(one_shot(core, "heap", "--json"))
    n = full["objects"]
    # marking takes about 4 s: a known window for Ctrl-C
    slow = str(max(1, min(1000000, 4000000 * 1000 // max(n, 1))))
    env = {"GOHEAP_TEST_SLOW_MARK": slow}
    s = Session(core, home, env)
    try:
        out = interrupted_heap(s, False)
        first = out.splitlines()[0]
        mm = re.match(r"INTERRUPTED: partial result after marking (\d+) of (\d+) objects$", first)
        assert mm, "first line: %r" % out[:300]
        assert 0 < int(mm.group(1)) < int(mm.group(2)), first
        assert re.search(r"^live: \d+ objects", out, re.M), out
        j = json.loads(interrupted_heap(s, True))
        assert j.get("interrupted") is True and j.get("partial") is True, j
        assert j["marked_objects"] < j["allocated_objects"], j
        again = json.loads(s.command("heap --json", timeout=300))
        assert "partial" not in again, "the next heap gave a partial result again"
        assert again["objects"] == n, "after an interrupt heap counts %d live objects, not %d" % (again["objects"], n)
        s.send("quit\r")
        rc = s.close()
        assert rc == 0, "exit %d" % rc
    except BaseException:
        s.kill()
        raise
    # one-shot, stdout a pipe, stderr a terminal: SIGINT once marking shows
    master, slave = os.openpty()
    p = subprocess.Popen([GOHEAP, core, "heap", "--top", "1"], stdout=subprocess.PIPE, stderr=slave, text=True,
                         env=dict(os.environ, **env))
    os.close(slave)
    seen, end = b"", time.time() + 60
    while b"goheap: marking" not in seen and time.time() < end and p.poll() is None:
        if select.select([master], [], [], 0.05)[0]:
            seen += os.read(master, 4096)
    p.send_signal(signal.SIGINT)
    o, _ = p.communicate(timeout=120)
    os.close(master)
    assert b"goheap: marking" in seen, "no progress on a terminal: %r" % seen[-200:]
    assert p.returncode == 130, "one-shot heap after SIGINT: exit %d" % p.returncode
    assert o.startswith("INTERRUPTED: partial result after marking"), o[:200]
    # stderr not a terminal: no progress
    q = subprocess.run([GOHEAP, core, "heap", "--top", "1"], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, GOHEAP_TEST_SLOW_MARK=str(int(slow) // 4 or 1)))
    assert q.returncode == 0 and q.stderr == "", "stderr not a terminal: %r" % q.stderr[-200:]
    return "%s (%d objects): %s" % (os.path.relpath(core, BUILD), n, first)


def check_verify_interrupt(core):
    """SIGINT during verify (slowed by GOHEAP_TEST_SLOW_VERIFY): the command
    stops, says so, and the one-shot CLI exits 130, as documented."""
    spans = json.loads(one_shot(core, "overview", "--json"))["spans_in_use"]
    slow = str(max(1, 20000000 // max(spans, 1)))  # about 20 s in all
    p = subprocess.Popen([GOHEAP, core, "verify"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=dict(os.environ, GOHEAP_TEST_SLOW_VERIFY=slow))
    time.sleep(2)  # the core is open and verify runs
    assert p.poll() is None, "verify ended before the interrupt: %r" % (p.communicate()[1][-200:],)
    t0 = time.time()
    p.send_signal(signal.SIGINT)
    o, e = p.communicate(timeout=60)
    assert p.returncode == 130, "verify after SIGINT: exit %d (%s)" % (p.returncode, e.strip()[-200:])
    assert re.match(r"goheap: interrupted: verify stopped after \d+ objects$", e.strip()), e[-200:]
    return "%s: exit 130 %.1f s after SIGINT: %s" % (os.path.relpath(core, BUILD), time.time() - t0, e.strip())


# Ctrl-C in each long phase of the retention commands, paths --aggregate,
# sites, the heap's spans and the DWARF variable index: (arguments, the
# phase slowed, what the interrupted command says).
PHASES = [
    (["top"], "dominators", r"interrupted while computing dominators"),
    (["dominators"], "dominators", r"interrupted while computing dominators"),
    (["heap", "--retained"], "retained sizes by type", r"interrupted while computing retained sizes by type"),
    (["paths", "--aggregate", "main.Session"], "aggregating paths", r"interrupted while aggregating paths"),
    (["sites"], "naming allocation sites", r"interrupted while naming allocation sites"),
    (["heap"], "loading heap", r"interrupted while reading spans"),
    (["roots"], "indexing DWARF variables", r"interrupted while"),
]


def interrupt_in_phase(core, args, phase, message):
    """One-shot goheap with stderr on a terminal and every poll of PHASE
    slowed to 5 s (GOHEAP_TEST_SLOW_PHASE, which shows the phase when it
    sleeps): SIGINT once the phase shows. The command must stop in that
    phase (its own message), print no result, exit 130, and do so within a
    few seconds (a loop that went on would sleep again at its next poll)."""
    env = dict(os.environ, GOHEAP_INDEX="off", GOHEAP_TEST_SLOW_PHASE="%s:5000000" % phase)
    master, slave = os.openpty()
    p = subprocess.Popen([GOHEAP, core] + args, stdout=subprocess.PIPE, stderr=slave, text=True, env=env)
    os.close(slave)
    seen, end = b"", time.time() + 120
    while ("goheap: " + phase).encode() not in seen and time.time() < end and p.poll() is None:
        if select.select([master], [], [], 0.05)[0]:
            seen += os.read(master, 4096)
    shown = ("goheap: " + phase).encode() in seen
    t0 = time.time()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=120)
    took = time.time() - t0
    while select.select([master], [], [], 0.2)[0]:
        try:
            b = os.read(master, 4096)
        except OSError:
            break
        if not b:
            break
        seen += b
    os.close(master)
    err = ANSI.sub("", seen.decode(errors="replace")).replace("\r", "\n")
    assert shown, "%s: the phase %r never showed: %r" % (" ".join(args), phase, err[-300:])
    assert p.returncode == 130, "%s: exit %d" % (" ".join(args), p.returncode)
    lines = [l for l in err.splitlines() if re.search(message, l)]
    assert lines, "%s: no %r on stderr: %r" % (" ".join(args), message, err[-300:])
    assert out.strip() == "", "%s: the interrupted command printed a result: %r" % (" ".join(args), out[:200])
    assert took < 8, "%s: stopped %.1f s after SIGINT" % (" ".join(args), took)
    return "%.1f s" % took


def check_phase_interrupts(d):
    core, said = os.path.join(d, "core"), []
    for args, phase, message in PHASES:
        c = core
        if args[0] == "sites":  # the program whose heap profile has buckets
            c = os.path.join(os.path.dirname(d), "sites", "core")
        said.append("%s: %s" % (" ".join(args), interrupt_in_phase(c, args, phase, message)))
    return "; ".join(said)


def check_errors(d):
    """Errors say what is wrong with the argument, naming it."""
    core = os.path.join(d, "core")
    want = {("print", "main.nosuch"): "goheap: print: main.nosuch: no such global",
            ("print", "main.main"): "goheap: print: main.main is a function, not a global",
            ("heap", "--top", "-5"): "goheap: --top: must be 0 or more, not -5",
            ("objects", "--limit", "-1"): "goheap: --limit: must be 0 or more, not -1",
            ("heap", "--top", "x"): 'goheap: --top: not a number: "x"'}
    for args, line in want.items():
        p = subprocess.run([GOHEAP, core] + list(args), capture_output=True, text=True, timeout=300)
        assert p.returncode == 1 and p.stderr.strip() == line, "%s: exit %d, %r" % (
            " ".join(args), p.returncode, p.stderr.strip())
    return "%d messages" % len(want)


def check_size_headers(d):
    """Every column of sizes in human units has a header over it, right-aligned
    with the column (heap, heap --all, heap --retained, retains, breakdown,
    suspects, roots --retained, diff)."""
    core = os.path.join(d, "core")
    addr, _ = sentinel(d)
    runs = [["heap", "--top", "3"], ["heap", "--top", "3", "--all"], ["heap", "--top", "3", "--retained"],
            ["retains", addr], ["breakdown"], ["suspects", "--min-percent", "1"]]
    human = re.compile(r"\d+(?:\.\d)? (?:B|KiB|MiB|GiB|TiB)\b")
    for words in runs:
        lines = one_shot(core, *words).splitlines()
        heads = [i for i, l in enumerate(lines) if re.search(r"\b(?:size|SIZE)\b", l) and re.search(
            r"\b(?:count|COUNT|BYTES)\b", l)]
        assert heads, "%s: no header with a size column: %r" % (" ".join(words), lines[:4])
        for i in heads:
            h = lines[i]
            end = re.search(r"\b(?:size|SIZE)\b", h).end()
            row = lines[i + 1]
            m = [x for x in human.finditer(row)]
            assert m and any(x.end() == end for x in m), "%s: 'size' ends at column %d, the row %r" % (
                " ".join(words), end, row)
    # lists of sizes under a heading: the header names their columns
    lines = one_shot(core, "roots", "--retained", "--top", "3").splitlines()
    k = lines.index("retained by each root (what no other root keeps alive):")
    assert re.fullmatch(r"  retained, share +objects  root", lines[k + 1]), lines[k + 1]
    row = lines[k + 2]
    assert row.index(" objects  ") + len(" objects") == lines[k + 1].index("objects  root") + len("objects"), \
        "roots --retained: %r under %r" % (row, lines[k + 1])
    lines = one_shot(core, "diff", core, "--top", "3").splitlines()
    k = lines.index("the other core's biggest retainers, against the same object here:")
    head, row = lines[k + 1], lines[k + 2]
    assert head.split() == ["address", "retained", "change", "type"], head
    assert human.search(row).end() == head.index("retained") + len("retained") and \
        row.index("+0 B") == head.index("change") and row.rstrip().endswith(" " * 2 + row.split()[-1]), \
        "diff: %r under %r" % (row, head)
    return "%d commands, roots --retained, diff" % len(runs)


def batch(d, commands):
    """Commands in one session (the prompt reading a pipe); their JSON answers."""
    p = subprocess.run([GOHEAP, "--exe", os.path.join(d, "exe"), os.path.join(d, "core")],
                       input="\n".join(commands) + "\n", capture_output=True, text=True, timeout=600)
    assert p.returncode == 0 and not p.stderr.strip(), "goheap: exit %d: %s" % (p.returncode, p.stderr[-300:])
    docs = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    assert len(docs) == len(commands), "%d answers for %d commands" % (len(docs), len(commands))
    return docs


def check_whatis_types(d):
    """whatis and read name the type of a sentinel's object as the manifest
    does, and the field at each byte or word of it: its top-level name is a field
    print shows (every field the manifest lists is named at some word), and
    at a field's first word the field's type is print's."""
    with open(os.path.join(d, "manifest.json")) as f:
        m = json.loads(f.readline())
    sentinels = [x for x in m["sentinels"] if x.get("size")]
    plan, words = [], {}
    for x in sentinels:
        # every byte of a small object (fields share words), else every word
        base, step = int(x["addr"], 16), 1 if x["size"] <= 64 else 8
        words[x["addr"]] = list(range(base, base + max(min(x["size"], 128), 1), step))
        plan += ["print %s --json" % x["addr"], "read %s 8 --json" % x["addr"]]
        plan += ["whatis 0x%x --json" % a for a in words[x["addr"]]]
    docs = iter(batch(d, plan))
    nfields, text_checked = 0, None
    for x in sentinels:
        p, r = next(docs), next(docs)
        w = [next(docs) for _ in words[x["addr"]]]
        where = "%s %s" % (x["type"], x["addr"])
        if p["untyped"]:
            continue  # stripped: print says so, and whatis has no more to say
        objs = [o["object"] for o in w]
        assert all(o.get("type") == x["type"] for o in objs), "%s: whatis names %r" % (where, objs[0].get("type"))
        assert r["object"]["type"] == x["type"] and r["object"].get("field") == objs[0].get("field"), \
            "%s: read says %r" % (where, r.get("object"))
        if not isinstance(p["value"], dict) or "fields" not in p["value"]:
            continue
        ptype = {f["name"]: f["type"] for f in p["value"]["fields"]}
        named = set()
        for a, o in zip(words[x["addr"]], objs):
            fld = o.get("field", "")
            mm = re.match(r"\.([A-Za-z_]\w*)", fld)
            if not mm:
                continue
            assert mm.group(1) in ptype, "%s: whatis 0x%x names field %s, print has %r" % (where, a, fld,
                                                                                           sorted(ptype))
            named.add(mm.group(1))
            if fld == "." + mm.group(1) and "field_type" in o:
                assert o["field_type"] == ptype[mm.group(1)], "%s: field %s is %s, print says %s" % (
                    where, fld, o["field_type"], ptype[mm.group(1)])
        want = {k.split(".")[0].split("[")[0] for k in x.get("fields", {})}
        first = [f["name"] for f in p["value"]["fields"]][:1]
        if x["size"] <= 128:
            assert want <= named, "%s: fields %r never named by whatis (named %r)" % (where, want - named, named)
        assert not first or objs[0].get("field", "").startswith("." + first[0]), \
            "%s: offset 0 is %r, not the first field %s" % (where, objs[0].get("field"), first[0])
        nfields += len(named)
        # the text says the same: "... at 0x... main.Session (slot size 48, ...): field .User (string)"
        k = next((i for i, o in enumerate(objs) if o.get("field_type")), None)
        if k is not None and not text_checked:
            a, o = words[x["addr"]][k], objs[k]
            line = one_shot(os.path.join(d, "core"), "whatis", "0x%x" % a).splitlines()[0]
            if "sub_object" in o:  # a typed object inside a tiny block
                want, tail = " (slot size 16, ", "; the %s at %s, field %s (%s)" % (
                    x["type"], o["sub_object"], o["field"], o["field_type"])
            else:
                # the text names the type in full where its short name is shared (docs/typenames.md)
                tname = o["full_type"] if o.get("full_type") and " %s (" % o["full_type"] in line else x["type"]
                want, tail = " %s (slot size %d, " % (tname, o["size"]), ": field %s (%s)" % (
                    o["field"], o["field_type"])
            assert want in line and line.endswith(tail), "whatis 0x%x: %r" % (a, line)
            line = one_shot(os.path.join(d, "core"), "read", "0x%x" % a, "8").splitlines()[-1]
            assert want.rstrip(", ") in line and line.endswith(tail), "read 0x%x: %r" % (a, line)
            text_checked = line
    return "%d sentinels typed as the manifest says, %d fields named; %s" % (len(sentinels), nfields, text_checked)


# --- c. mappings and read everywhere -------------------------------------------


def gdb_bytes(exe, core, addr):
    p = subprocess.run(["gdb", "-nx", "-batch", "-ex", "x/16xb %s" % addr, exe, core], capture_output=True,
                       text=True, timeout=300)
    got = []
    for line in p.stdout.splitlines():
        mm = re.match(r"0x[0-9a-f]+(?: <[^>]*>)?:\s+((?:0x[0-9a-f]{2}\s*)+)$", line.strip())
        if mm:
            got += [int(x, 16) for x in mm.group(1).split()]
    assert len(got) == 16, "gdb x/16xb %s: %r" % (addr, (p.stdout + p.stderr)[-300:])
    return bytes(got)


def check_mappings_read(d):
    core, exe = os.path.join(d, "core"), os.path.join(d, "exe")
    maps = json.loads(one_shot(core, "mappings", "--json"))["mappings"]
    ov = json.loads(one_shot(core, "overview", "--json"))
    kinds = [c["kind"] for mp in maps for c in mp["contents"]]
    text = [mp for mp in maps for c in mp["contents"] if c["kind"] == "section" and c["name"] == ".text"]
    assert text, "no mapping holds .text"
    assert "x" in text[0]["perms"], ".text in a mapping without x: %s" % text[0]["perms"]
    arenas = {c["start"] for mp in maps for c in mp["contents"] if c["kind"] == "heap_arena"}
    assert len(arenas) == ov["arenas"], "%d heap arenas labelled, overview says %d" % (len(arenas), ov["arenas"])
    assert "goroutine_stacks" in kinds, "no goroutine stacks labelled"
    for mp in maps:
        assert int(mp["end"], 16) - int(mp["start"], 16) == mp["size"] and mp["perms"] and "in_core" in mp, mp
    addr, _ = sentinel(d)
    r = json.loads(one_shot(core, "read", addr, "16", "--json"))
    assert r["addr"] == addr and r["len"] == 16 and r["readable"] == 16, r
    want = gdb_bytes(exe, core, addr) if shutil.which("gdb") else None
    if want is not None:
        assert bytes.fromhex(r["bytes"]) == want, "read %s: %s, gdb: %s" % (addr, r["bytes"], want.hex())
    for ptr in r["pointers"]:
        v, o = int(ptr["value"], 16), int(ptr["object"], 16)
        assert o <= v < o + ptr["size"], ptr
    txt = one_shot(core, "read", addr, "16").splitlines()[0]
    assert txt.startswith("0x%012x: " % int(addr, 16)), txt
    hexes = txt.split(": ", 1)[1][:49].split()
    assert bytes(int(x, 16) for x in hexes) == bytes.fromhex(r["bytes"]), txt
    bad = one_shot(core, "read", "0x10", "32")
    assert bad.startswith("0x000000000010 : unreadable"), bad
    return "%d mappings, %d arenas, sentinel %s%s" % (len(maps), len(arenas), addr,
                                                      " = gdb" if want is not None else " (no gdb)")


def check_live(d):
    """mappings and read on a live process (the program waits on stdin with
    GOHEAP_HOLD=1): read's bytes are /proc/PID/mem's."""
    with tempfile.TemporaryDirectory() as cwd:
        p = subprocess.Popen([os.path.join(d, "exe")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, cwd=cwd, env=dict(os.environ, GOHEAP_HOLD="1"))
        try:
            m = json.loads(p.stdout.readline())
            addr = m["sentinels"][0]["addr"]
            pid = str(p.pid)
            run = lambda *a: subprocess.run([GOHEAP, "--pid", pid] + list(a), capture_output=True, text=True,
                                            timeout=300)
            q = run("mappings", "--json")
            assert q.returncode == 0, q.stderr.strip()
            maps = json.loads(q.stdout)["mappings"]
            kinds = {c["kind"] for mp in maps for c in mp["contents"]}
            assert {"section", "heap_arena", "goroutine_stacks"} <= kinds, kinds
            assert all(mp["in_core"] is None for mp in maps), "in_core on a live process"
            q = run("read", addr, "16", "--json")
            assert q.returncode == 0, q.stderr.strip()
            r = json.loads(q.stdout)
            with open("/proc/%s/mem" % pid, "rb") as f:
                f.seek(int(addr, 16))
                want = f.read(16)
            assert bytes.fromhex(r["bytes"]) == want, "read %s: %s, /proc/PID/mem: %s" % (addr, r["bytes"], want.hex())
        finally:
            p.kill()
            p.wait()
    return "%d mappings, sentinel %s = /proc/PID/mem" % (len(maps), addr)


def check_goroutines_text(d):
    """goroutines' text rows: WHERE is the user frame, CREATED BY the go
    statement's function and file:line, LABELS the pprof labels, for every
    parked goroutine of the manifest (corpus/stacks); filters that do not
    parse are refused naming the option."""
    with open(os.path.join(d, "manifest.json")) as f:
        m = json.loads(f.readline())
    core = os.path.join(d, "core")
    rows = {int(l.split()[0]): l for l in one_shot(core, "goroutines").splitlines()[1:] if re.match(r"^ +\d+ ", l)}
    assert list(rows) == sorted(rows), "rows not sorted by id: %s" % list(rows)
    n = 0
    for p in m["parked"]:
        row = rows[p["goroutine"]]
        u, c = p["user"], p["creator"]
        want = [u["function"] + " " + os.path.basename(u["file"]) + (":%d" % u["line"] if u["line"] else ":"),
                "%s %s:%d" % (c["function"], os.path.basename(c["file"]), c["line"])]
        for k, v in sorted(p.get("labels", {}).items()):
            want.append('%s="%s"' % (k, v) if " " in v else "%s=%s" % (k, v))
        at = 0
        for w in want:
            i = row.find(w, at)
            assert i >= 0, "goroutine %d: %r not in order in the row %r" % (p["goroutine"], w, row)
            at = i + len(w)
        n += 1
    bad = {("--with", "bogus"): "goheap: --with: \"bogus\" is not one of userloc=REGEX, curloc=REGEX, goloc=REGEX, "
                                "startloc=REGEX, label=KEY[=VALUE], running, user",
           ("--without", "curloc=("): 'goheap: --without: bad regular expression "("',
           ("--label", "role"): 'goheap: --label: KEY=VALUE, not "role"'}
    for args, line in bad.items():
        p = subprocess.run([GOHEAP, core, "goroutines"] + list(args), capture_output=True, text=True, timeout=300)
        assert p.returncode == 1 and p.stderr.strip() == line, "%s: exit %d, %r" % (
            " ".join(args), p.returncode, p.stderr.strip())
    return "%d parked rows, %d refused filters" % (n, len(bad))


def main():
    dirs = corpus_dirs()
    if not os.path.exists(GOHEAP) or not dirs:
        print("skip: no goheap or no corpus under %s" % BUILD)
        return 77
    with tempfile.TemporaryDirectory() as home:
        demo = newest_demo()
        if demo:
            check("prompt on a terminal: %s" % os.path.relpath(demo, BUILD), check_prompt, demo, home)
        big = largest_core()
        check("Ctrl-C during heap", check_interrupt, big, home)
        check("Ctrl-C during verify: exit 130", check_verify_interrupt, big)
        if demo:
            check("Ctrl-C in top, dominators, heap --retained, paths --aggregate, sites, spans, DWARF: exit 130",
                  check_phase_interrupts, demo)
            check("error messages: %s" % os.path.relpath(demo, BUILD), check_errors, demo)
            check("size columns have headers: %s" % os.path.relpath(demo, BUILD), check_size_headers, demo)
            stacks = os.path.join(os.path.dirname(demo), "stacks")
            if os.path.exists(os.path.join(stacks, "core")):
                check("goroutines text: user frame, creator, labels: %s" % os.path.relpath(stacks, BUILD),
                      check_goroutines_text, stacks)
            for prog in sorted(os.listdir(os.path.dirname(demo))):
                pd = os.path.join(os.path.dirname(demo), prog)
                if os.path.exists(os.path.join(pd, "core")):
                    check("whatis and read name type and field: %s" % os.path.relpath(pd, BUILD),
                          check_whatis_types, pd)
        if demo:
            check("mappings and read on a live process: %s" % os.path.relpath(demo, BUILD), check_live, demo)
    for d in dirs:
        prog = "demo" if os.path.exists(os.path.join(d, "demo", "core")) else None
        if not prog:
            cands = sorted(p for p in os.listdir(d) if os.path.exists(os.path.join(d, p, "core")))
            prog = cands[0] if cands else None
        if prog:
            check("mappings and read: %s/%s" % (os.path.basename(d), prog), check_mappings_read,
                  os.path.join(d, prog))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
