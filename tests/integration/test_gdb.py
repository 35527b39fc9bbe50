#!/usr/bin/env python3
"""The gdb adapter: build/share/goheap/goheap.gdb sourced into `gdb -nx`.

Cores:
  - the demo of every release: every go- command (from `goheap help
    --names`) prints what the CLI prints on the same core, text and --json;
    the version is the manifest's; go-whatis of each sentinel finds a heap
    object; every command after the first reuses the session (GOHEAP_STATS);
  - every program of the newest release, three of every other, the PIE and
    stripped builds: run.py's check_heap (go-heap --json = the manifest,
    go-paths finds each sentinel's root) and check_goroutines (the parked
    goroutines), their commands typed into one gdb as go-COMMAND, all on one
    session;
  - arm64 cores (written by qemu-user, read with gdb-multiarch): every
    program of every release, check_heap, check_goroutines and (retained)
    check_retained on one gdb session per core; every go- command = the
    CLI on the newest release's demo; the arm64-stripped builds as the
    amd64 stripped ones;
  - the retained program of every release and every layout variant:
    check_retained (go-retains, go-roots --retained, go-heap --retained,
    go-top, go-dominators, go-paths = the manifest's retained sizes).
Live: gdb runs every program of every release (and the PIE demo and stacks)
to main.checkpoint (GOHEAP_LIVE=1): the same checks against the stop-1
manifest the program printed, with every thread given gdb's registers, and
go-goroutine 1 --locals against gdb's own info args and info locals in the
three frames from main.checkpoint to main.main (integers and pointers equal,
what gdb says is optimized out has no value in goheap); then
`continue` to stop 2: the session is rebuilt and check_heap passes against
the stop-2 manifest.
Once: arguments with spaces, quotes, shell and printf metacharacters and
regular expressions reach goheap intact (its error messages echo them, and
go-heap/go-objects --type select what the manifest and the CLI say); help
and apropos; a gdb without a Go program gets a one-line error and goes on;
Ctrl-C stops a command and gdb goes on; each bad input of test_badinput
(badinputs.py) fails with one error line, gdb goes on and exits 0; the gcore fallback; commands gdb
already has are left alone; the installed command file calls the installed
binary. The helpers' stderr (sanitizer reports) must stay empty.

Exit 0 all passed, 1 a check failed, 77 no gdb.
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import queue
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import corpus  # noqa: E402
import corpus_variant  # noqa: E402
sys.path.insert(0, HERE)
import badinputs  # noqa: E402
from harness import check, record, results, summary, gdb_for  # noqa: E402,F401
from check_heap import check_heap, COVERAGE_MIN  # noqa: E402
from check_retained import check_retained  # noqa: E402
from check_sites import check_sites  # noqa: E402
from check_goroutines import check_goroutines  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
GOHEAP = os.path.join(BUILD, "bin", "goheap")
GDBFILE = os.path.join(BUILD, "share", "goheap", "goheap.gdb")
TMP = tempfile.mkdtemp(prefix="goheap-gdb-test-")
LOG = os.path.join(TMP, "helpers.log")  # the helpers' stderr
ENV = dict(os.environ, GOHEAP_STATS="1", GOHEAP_GDB_LOG=LOG)
ENV.pop("GOHEAP_GDB_GCORE", None)
ENV.pop("GOHEAP_TEST_STALL_MS", None)
helpers = set()
outputs = []  # every gdb run's output, checked for sanitizer reports


def gdb(cmds, args=(), env=None, timeout=300, pre=()):
    """Runs gdb in batch mode with goheap.gdb and one -ex per command, each
    preceded by a marker; returns {index: output lines} (stdout and stderr
    together, in order) and the whole output."""
    # An arm64 core needs gdb-multiarch (Debian's gdb reads x86-64 only).
    exe = args[0] if args and os.path.isfile(args[0]) else None
    argv = [gdb_for(exe) if exe else "gdb", "-batch", "-nx", "-iex", "set auto-load no", "-iex",
            "set pagination off"]
    for c in pre:
        argv += ["-iex", c]
    argv += ["-x", GDBFILE]
    for i, c in enumerate(cmds):
        argv += ["-ex", "echo @@%d\\n" % i, "-ex", c]
    argv += ["-ex", "echo @@end\\n"] + list(args)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                       env=env or ENV, stdin=subprocess.DEVNULL, cwd=TMP)
    outputs.append(p.stdout)
    gdb.returncode = p.returncode
    return split_markers(p.stdout), p.stdout


def split_markers(text):
    out, cur = {}, None
    for line in text.splitlines():
        m = re.fullmatch(r"@@(\d+|end)", line)
        if m:
            cur = m.group(1)
            out[cur] = []
        elif cur is not None:
            out[cur].append(line)
    return {(k if k == "end" else int(k)): v for k, v in out.items()}


class Gdb:
    """An interactive gdb with goheap.gdb loaded: one command at a time, each
    answer read up to a marker, so a test can decide what to type next from
    what the program printed (live sentinels' addresses exist only then)."""

    def __init__(self, args, env=None, pre=()):
        exe = args[0] if args and os.path.isfile(args[0]) else None
        argv = [gdb_for(exe) if exe else "gdb", "-nx", "-q", "-iex", "set auto-load no", "-iex", "set pagination off",
                "-iex", "set confirm off", "-iex", "set width 0", "-iex", "handle SIGURG nostop noprint"]
        for c in pre:
            argv += ["-iex", c]
        argv += ["-x", GDBFILE] + list(args)
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, env=env or ENV, cwd=TMP, start_new_session=True)
        self.lines = queue.Queue()
        self.log = []
        self.n = 0
        threading.Thread(target=self._read, daemon=True).start()
        self.stats = []  # GOHEAP_STATS of every go- command, in order

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def run(self, cmd, timeout=300):
        """Runs one gdb command; returns its output lines."""
        self.n += 1
        mark = "@@%d" % self.n
        self.p.stdin.write("%s\necho %s\\n\n" % (cmd, mark))
        self.p.stdin.flush()
        out, deadline = [], time.time() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                raise AssertionError("gdb: no answer to %r in %ds: %s" % (cmd, timeout, out[-10:]))
            if line is None:
                raise AssertionError("gdb exited during %r: %s" % (cmd, (self.log + out)[-15:]))
            while line.startswith("(gdb) "):
                line = line[6:]
            self.log.append(line)
            if line == mark:
                break
            out.append(line)
        if cmd.startswith("go-"):
            self.stats.append(stats_of(out))
        return out

    def json(self, cmd):
        """A go- command's JSON answer; any goheap error or warning fails."""
        out = body(self.run(cmd))
        errs = [l for l in out if l.startswith("goheap: ")]
        assert not errs, "%s: %s" % (cmd, errs[0])
        return json_of(out, cmd)

    def batch(self, d, cmds):
        """A batch function for check_heap and check_goroutines: each engine
        command as go-COMMAND in this gdb."""
        return [self.json("go-" + c) for c in cmds]

    def close(self):
        outputs.append("\n".join(self.log))
        try:
            self.p.stdin.write("kill\nquit\n")
            self.p.stdin.flush()
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def stats_of(lines):
    """goheap's GOHEAP_STATS line: {"reused": 1, "commands": 2, ...}."""
    for l in lines:
        if l.startswith("goheap: session: "):
            d = dict(kv.split("=", 1) for kv in l[len("goheap: session: "):].split())
            d = {k: float(v) if "." in v else int(v) for k, v in d.items()}
            if d.get("server"):
                helpers.add(d["server"])
            return d
    return None


def body(lines):
    return [l for l in lines if not l.startswith("goheap: session: ")]


def cli(d, words):
    p = subprocess.run([GOHEAP, "--exe", os.path.join(d, "exe"), os.path.join(d, "core")] + words,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, "CLI %s: exit %d: %s" % (" ".join(words), p.returncode, p.stderr.strip()[-300:])
    return p.stdout.splitlines()


def json_of(lines, what):
    docs = [l for l in lines if l.startswith("{")]
    assert len(docs) == 1, "%s: %d JSON documents in %r" % (what, len(docs), lines[-5:])
    return json.loads(docs[0])


def command_names():
    p = subprocess.run([GOHEAP, "help", "--names"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0
    return p.stdout.split()


def usage(name):
    """The words of a command's usage after its name (the first form, when
    the usage gives two separated by ' | ')."""
    p = subprocess.run([GOHEAP, "help", name], capture_output=True, text=True, timeout=60)
    m = re.search(r"^usage: (.*)$", p.stdout, re.M)
    return m.group(1).split(" | ")[0].split()[1:] if m else []


def fill(name, sentinel, core=""):
    """Arguments for a command's required placeholders (its usage line)."""
    args = []
    # Optional parts are bracketed, possibly over several words ("[--top N]").
    for w in re.sub(r"\[[^\]]*\]", " ", " ".join(usage(name))).split():
        vals = {"ADDR": sentinel, "ADDR|GLOBAL": sentinel, "ADDR|EXPR": sentinel, "ID": "1", "N": "1", "REGEX": ".",
                "OUT": os.path.join(BUILD, "gdb-test-export.pb.gz"), "OTHER_CORE": core}
        assert w in vals, "%s: no test value for %s (update test_gdb.py)" % (name, w)
        args.append(vals[w])
    return args, "[--json]" in usage(name)


# ---- per release ----

def check_core(d, version):
    m = json.load(open(os.path.join(d, "manifest.json")))
    exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
    sentinel = m["sentinels"][0]["addr"]
    plan = []  # (gdb command, CLI words, json?)
    for name in command_names():
        args, has_json = fill(name, sentinel, core)
        plan.append(("go-%s %s" % (name, " ".join(args)), [name] + args, False))
        if has_json:
            plan.append(("go-%s %s --json" % (name, " ".join(args)), [name] + args + ["--json"], True))
    for s in m["sentinels"]:
        plan.append(("go-whatis %s --json" % s["addr"], ["whatis", s["addr"], "--json"], True))
    out, whole = gdb([p[0] for p in plan], [exe, core])
    assert "end" in out, "gdb did not get through the commands: %s" % whole[-600:]
    n_json = 0
    for i, (g, words, is_json) in enumerate(plan):
        lines = out.get(i)
        assert lines is not None, "no output section for %r" % g
        got = body(lines)
        errs = [l for l in got if l.startswith("goheap: ")]
        assert not errs, "%s: %s" % (g, errs[0])
        want = cli(d, words)
        if is_json:
            gj, cj = json_of(got, g), json_of(want, "CLI " + " ".join(words))
            assert gj == cj, "%s: gdb and CLI JSON differ: %s" % (g, diff(gj, cj))
            n_json += 1
            if words[0] == "overview":
                assert gj["go_version"] == m["go"], "go_version %r, manifest %r" % (gj["go_version"], m["go"])
            if words[0] == "whatis":
                assert gj["kind"] == "heap", "%s: %s is not in a heap object (%s)" % (g, words[1], gj["kind"])
        else:
            assert got == want, "%s: gdb printed %r, CLI %r" % (g, got[:4], want[:4])
    # The model is loaded once: every later command reused it.
    st = [stats_of(out[i]) for i in range(len(plan))]
    assert all(st), "no GOHEAP_STATS line for some command"
    assert st[0]["reused"] == 0, "first command: %r" % st[0]
    for s in st[1:]:
        assert s["reused"] == 1 and s["opens"] == 1 and s["heap_loads"] == 1, "later command: %r" % s
    assert len({s["server"] for s in st}) == 1, "commands went to different helpers"
    return "%d commands equal to the CLI (%d JSON), %d sentinels in heap objects, session reused %d times" % (
        len(plan), n_json, len(m["sentinels"]), len(plan) - 1)


def diff(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return "%s: %r vs %r" % (k, a.get(k), b.get(k))
    return "%r vs %r" % (str(a)[:200], str(b)[:200])


def live_gdb(d, cmds, env=None):
    exe = os.path.join(d, "exe")
    pre = ["set environment GOHEAP_LIVE=1", "set confirm off"]
    return gdb(["break main.checkpoint", "run"] + cmds + ["kill"], [exe], env=env, pre=pre, timeout=300)


def load_manifest(d):
    with open(os.path.join(d, "manifest.json")) as f:
        return json.load(f)


def one_session(st, what):
    """Every go- command after the first ran on the session the first one
    opened (GOHEAP_STATS: reused=1, one open, one helper)."""
    assert st and all(st), "%s: a go- command printed no GOHEAP_STATS line" % what
    assert st[0]["reused"] == 0, "%s: first command: %r" % (what, st[0])
    for s in st[1:]:
        assert s["reused"] == 1 and s["opens"] == 1 and s["heap_loads"] <= 1, "%s: later command: %r" % (what, s)
    assert len({s["server"] for s in st}) == 1, "%s: commands went to different helpers" % what


def check_program_core(d, named=True):
    """check_heap and check_goroutines (run.py's checks against the
    manifest) with every engine command typed into gdb as go-COMMAND."""
    m = load_manifest(d)
    with Gdb([os.path.join(d, "exe"), os.path.join(d, "core")]) as g:
        heap = check_heap(d, m, g.batch, named=named)
        gor = check_goroutines(d, m, g.batch)
    one_session(g.stats, "core")
    return "%s; %s; %d go- commands on one session" % (heap, gor, len(g.stats))


def check_program_retained(d, named=True):
    """check_retained (the manifest's retained sizes) with every engine
    command typed into gdb as go-COMMAND, on one session."""
    m = load_manifest(d)
    with Gdb([os.path.join(d, "exe"), os.path.join(d, "core")]) as g:
        out = check_retained(d, m, g.batch, named=named)
    one_session(g.stats, "core")
    return "%s; %d go- commands on one session" % (out, len(g.stats))


def check_program_all(d, named=True):
    """check_heap, check_goroutines and, where the program builds them,
    check_retained on one gdb session (one gdb start and core load per
    core: the arm64 cores of every release)."""
    m = load_manifest(d)
    with Gdb([os.path.join(d, "exe"), os.path.join(d, "core")]) as g:
        out = [check_heap(d, m, g.batch, named=named), check_goroutines(d, m, g.batch)]
        if "retained" in m:
            out.append(check_retained(d, m, g.batch, named=named))
    one_session(g.stats, "core")
    return "%s; %d go- commands on one session" % ("; ".join(out), len(g.stats))


def check_program_sites(d, named=True):
    """check_sites (the manifest's allocation sites, MemProfileRate 1) with
    go-sites, go-pprof --by site, go-whatis and go-print typed into gdb."""
    m = load_manifest(d)
    with Gdb([os.path.join(d, "exe"), os.path.join(d, "core")]) as g:
        out = check_sites(d, m, g.batch, GOHEAP, named=named)
    return out


def live_manifest(path, stop):
    with open(path) as f:
        for line in f:
            if line.startswith("{"):
                m = json.loads(line)
                if m.get("stop") == stop:
                    m["sentinels"] = m.get("sentinels") or []  # a second stop may name none
                    return m
    raise AssertionError("the program printed no stop-%d manifest into %s" % (stop, path))


# After a long stop the goroutine may hit main.checkpoint again on another
# thread (async preemption re-runs the breakpoint): ask for stop 2.
TO_STOP2 = ["condition 1 stop == 2", "continue"]


def at_stop(stop, fn, *args, **kw):
    """fn(*args), its failure message prefixed with the stop it is about."""
    try:
        return fn(*args, **kw)
    except AssertionError as e:
        raise AssertionError("stop %d: %s" % (stop, e))


def heap_live(d, m, g):
    """check_heap on a live stop. A goroutine stopped while running (the one
    at the breakpoint, a spinner) is scanned conservatively from its
    registers, and what a register reaches has no type: a register may still
    hold the manifest check_heap was given, and with it the 700 KiB
    runtime.Stack buffer its strings point into (corpus/goroutines). So where
    typed coverage alone falls short, the untyped bytes that only registers
    reach are set aside (their shortest path starts at a "(registers)"
    root) and the rest must be typed as on a core."""
    try:
        return check_heap(d, m, g.batch)
    except AssertionError as e:
        if not str(e).startswith("typed coverage"):
            raise
    heap = g.json("go-heap --json")
    assert not heap["notes"], "notes: %s" % "; ".join(heap["notes"])
    untyped = g.json("go-objects --type '^unknown<' --json")["objects"]
    need = heap["bytes"] - heap["typed_bytes"] / COVERAGE_MIN  # untyped bytes to explain
    explained, other = 0, []
    for o in sorted(untyped, key=lambda o: -o["size"])[:40]:
        if explained >= need:
            break
        p = g.json("go-paths %s --json" % o["addr"])
        root = p["paths"][0]["root"] if p["paths"] else {}
        if root.get("variable") == "(registers)":
            explained += o["size"]
        else:
            other.append("%s %d bytes from %s %s" % (o["addr"], o["size"], root.get("kind"), root.get("name", "")))
    cov = heap["typed_bytes"] / (heap["bytes"] - explained)
    assert cov >= COVERAGE_MIN, "typed coverage %.1f%% (%d of %d live bytes), %.1f%% without the %d untyped " \
        "bytes only registers reach; largest other untyped: %s" % (
            100.0 * heap["typed_bytes"] / heap["bytes"], heap["typed_bytes"], heap["bytes"], 100 * cov, explained,
            "; ".join(other[:3]))
    return "typed %.1f%% of %d live bytes, %.1f%% without the %d untyped bytes only registers reach" % (
        100.0 * heap["typed_bytes"] / heap["bytes"], heap["bytes"], 100 * cov, explained)


GDB_VAR = re.compile(r"^([A-Za-z_][\w.]*) = (.*)$")


def frame_locals_vs_gdb(g):
    """goroutine 1 --locals at the breakpoint against gdb's own Go locals
    (info args, info locals; gdb reads the same DWARF itself): the frames gdb
    walks from main.checkpoint up to main.main, each variable gdb gives as an
    integer or a pointer has that value in goheap, and each gdb says is
    optimized out has none in goheap. gdb's func values are left out: gdb
    prints where the func value is stored, not the funcval."""
    doc = g.json("go-goroutine 1 --locals --json")
    ours = {}
    for f in doc["frames"]:
        if not f["inlined"]:
            ours.setdefault(f["function"], {l["name"]: l for l in f.get("locals", [])})
    compared, outs, frames = 0, 0, []
    for level in range(3):
        head = [l for l in g.run("frame %d" % level) if l.startswith("#%d" % level)]
        fn = re.search(r" in (\S+) \(|^#\d+\s+(\S+) \(", head[0]) if head else None
        name = fn and (fn.group(1) or fn.group(2))
        assert name in ours, "gdb's frame %d (%s) is not one of goroutine 1's: %s" % (level, head, sorted(ours))
        frames.append(name)
        for line in g.run("info args") + g.run("info locals"):
            m = GDB_VAR.match(line)
            if not m or m.group(1) not in ours[name]:
                continue
            var, val, mine = m.group(1), m.group(2), ours[name][m.group(1)]
            if val == "<optimized out>":
                assert "value" not in mine, "%s %s: gdb says optimized out, goheap %r" % (name, var, mine)
                outs += 1
            elif re.fullmatch(r"-?\d+", val) and isinstance(mine.get("value"), int):
                assert mine["value"] == int(val), "%s %s = %s in gdb, %r in goheap" % (name, var, val, mine)
                compared += 1
            elif re.fullmatch(r"0x[0-9a-f]+", val) and mine["type"].startswith("*") and "value" in mine:
                # (no value in goheap: registers an outer frame no longer has,
                # which gdb may still show as the innermost frame's)
                v = mine["value"]
                got = int(v["addr"], 16) if isinstance(v, dict) and v.get("addr") else 0 if v is None else -1
                assert got == int(val, 16), "%s %s = %s in gdb, %r in goheap" % (name, var, val, mine)
                compared += 1
    g.run("frame 0")
    assert compared >= 2, "only %d variables compared with gdb's in %s" % (compared, frames)
    return "goroutine --locals = gdb's info args/locals: %d values, %d optimized out, in %s" % (
        compared, outs, ", ".join(frames))


def check_program_live(d):
    """gdb runs the program to main.checkpoint (GOHEAP_LIVE=1): check_heap
    and check_goroutines against the stop-1 manifest it printed; continue to
    stop 2: the rebuilt session passes check_heap against the stop-2
    manifest. Running goroutines are walked from the registers gdb shows."""
    out = os.path.join(TMP, "live-%s-%s.out" % (os.path.basename(os.path.dirname(d)), os.path.basename(d)))
    with Gdb([os.path.join(d, "exe")], pre=["set environment GOHEAP_LIVE=1"]) as g:
        g.run("break main.checkpoint")
        ran = g.run("run > %s < /dev/null" % out)
        assert any("hit Breakpoint 1" in l for l in ran), "gdb did not stop at main.checkpoint: %s" % ran[-5:]
        m1 = live_manifest(out, 1)
        o1 = g.json("go-overview --json")
        b1 = g.json("go-breakdown --json")
        assert o1["go_version"] == m1["go"], "go_version %r, manifest %r" % (o1["go_version"], m1["go"])
        assert o1["target"].startswith("process "), o1["target"]
        assert b1["unexplained_differences"] == 0, "breakdown of the live process does not reconcile"
        h1 = at_stop(1, heap_live, d, m1, g)
        gr1 = at_stop(1, check_goroutines, d, m1, g.batch, stderr_text="", live=True)
        lv1 = at_stop(1, frame_locals_vs_gdb, g)
        st1 = list(g.stats)
        one_session(st1, "stop 1")
        threads = int(re.search(r"(\d+) threads", "\n".join(body(g.run("go-overview")))).group(1))
        assert st1[0]["regs"] == threads, "gdb's registers reached %d of %d threads" % (st1[0]["regs"], threads)
        for c in TO_STOP2:
            g.run(c)
        m2 = live_manifest(out, 2)
        o2 = g.json("go-overview --json")
        s2 = g.stats[-1]
        assert s2["reused"] == 0 and s2["opens"] == 2, "after continue the session was not rebuilt: %r" % s2
        h2 = at_stop(2, heap_live, d, m2, g)
        changed = sorted(t for t in set(m1["live"]) | set(m2["live"]) if m1["live"].get(t) != m2["live"].get(t))
    return "stop 1: %s; %s; %s; %d threads with gdb's registers | stop 2 (%d types changed, objects %d -> %d): %s" % (
        h1, gr1, lv1, threads, len(changed), o1["objects"], o2["objects"], h2)


# ---- once ----

ARGS = [  # (typed in gdb, what goheap must see)
    ('"a  b|c; $(echo PWNED)"', "a  b|c; $(echo PWNED)"),
    ("'x;`echo PWNED`>pw'", "x;`echo PWNED`>pw"),
    (r"main\.(Foo|Bar)\d+$", r"main\.(Foo|Bar)\d+$"),
    ('"it\'s" ', "it's"),
    ("%s%n$arg1%%", "%s%n$arg1%%"),
    (r"a\ b", "a b"),
    ("'\"quoted\"'", '"quoted"'),
    ("&&;|#x", "&&;|#x"),
]


def check_args(d):
    cmds = ["go-goroutine %s" % typed for typed, _ in ARGS]
    cmds += ["go-breakdown --no-such-option", "go-whatis " + " ".join(str(i) for i in range(65)),
             "go-whatis 1 2 3 4 5 6 7 8 9 10 11 12 --the-13th",
             # names as typed in gdb; options given to their subcommands
             "go-heap --top -5", "go-print main.nosuch", "go-bt 1 --json", "go-heap --top=2 --json",
             "go-heap --json --top 2", "go-bt"]
    out, whole = gdb(cmds, [os.path.join(d, "exe"), os.path.join(d, "core")])
    for i, (typed, want) in enumerate(ARGS):
        errs = [l for l in body(out[i]) if l.startswith("goheap: ")]
        assert errs == ['goheap: goroutine id: not a number: "%s"' % want], \
            "go-goroutine %s: goheap said %r, expected it to see %r" % (typed, errs, want)
    assert "PWNED" not in whole.replace("echo PWNED", ""), "a shell ran the user's text"
    assert not os.path.exists(os.path.join(TMP, "pw")), "a shell ran the user's redirection"
    k = len(ARGS)
    assert body(out[k]) == ["goheap: go-breakdown: unknown option --no-such-option (see 'help go-breakdown')"], out[k]
    assert body(out[k + 1]) == ["goheap: gdb passes at most 64 arguments to a go- command"], out[k + 1]
    assert body(out[k + 2]) == ["goheap: go-whatis: unknown option --the-13th (see 'help go-whatis')"], out[k + 2]
    assert body(out[k + 3]) == ["goheap: --top: must be 0 or more, not -5"], out[k + 3]
    assert body(out[k + 4]) == ["goheap: go-print: main.nosuch: no such global"], out[k + 4]
    bt = json_of(body(out[k + 5]), "go-bt 1 --json")
    assert bt == json_of(cli(d, ["goroutine", "1", "--json"]), "goroutine 1 --json"), "go-bt 1 is not goroutine 1"
    want = json_of(cli(d, ["heap", "--top", "2", "--json"]), "heap --top 2 --json")
    for i in (k + 6, k + 7):
        assert json_of(body(out[i]), "go-heap --top 2") == want, "go-heap --top=2 / --json --top 2 differ from the CLI"
    assert body(out[k + 8]) == ["goheap: go-goroutine: wrong number of arguments; usage: go-goroutine ID [--locals] [--json]"], \
        out[k + 8]
    return "%d argument forms, the 13th argument arrives, 65 are refused; errors name go- commands; go-bt" % len(ARGS)


def check_expressions(d):
    """ADDR arguments through gdb (docs/gdb.md, "Expressions"): goheap's own
    expressions pass through as typed (main.sessions["user-0042"] reaches
    the manifest's sentinel); registers, convenience variables, arithmetic
    and a frame's arguments are evaluated by gdb and reach the value gdb
    prints for them (p/x), before or after an option; a name neither knows
    gives gdb's error, a missing global goheap's one line."""
    m = load_manifest(d)
    sess = next(s for s in m["sentinels"] if s["type"] == "main.Session")
    user = sess["fields"]["User"]
    cmds = ["p/x $rsp", "go-whatis --json $rsp", "go-whatis $sp --json",
            "set $goheap_t = %s" % sess["addr"], "go-whatis --json $goheap_t", "go-paths $goheap_t --json --max 1",
            "go-whatis --json $goheap_t+8", "go-print --json $goheap_t",
            "go-whatis --json 'main.sessions[\"%s\"]'" % user, "go-whatis --json main.config",
            "go-whatis main.nosuch", "go-whatis nosuch_local_name",
            "frame 1", "p/x sig", "go-whatis --json sig"]
    out, _ = gdb(cmds, [os.path.join(d, "exe"), os.path.join(d, "core")])
    k = {c: i for i, c in enumerate(cmds)}

    def val(c):
        got = [re.fullmatch(r"\$\d+ = (0x[0-9a-f]+)", l) for l in out[k[c]]]
        got = [g.group(1) for g in got if g]
        assert got, "%s: gdb printed %r" % (c, out[k[c]])
        return int(got[0], 16)

    def addr(c):
        doc = json_of(body(out[k[c]]), c)
        return int(doc["target"]["addr"] if "target" in doc else doc["addr"], 16)

    rsp, s = val("p/x $rsp"), int(sess["addr"], 16)
    assert addr("go-whatis --json $rsp") == rsp and addr("go-whatis $sp --json") == rsp, \
        "$rsp/$sp: goheap got %#x, %#x; gdb says %#x" % (addr("go-whatis --json $rsp"), addr("go-whatis $sp --json"), rsp)
    for c in ("go-whatis --json $goheap_t", "go-paths $goheap_t --json --max 1", "go-print --json $goheap_t",
              "go-whatis --json 'main.sessions[\"%s\"]'" % user):
        assert addr(c) == s, "%s: %#x, manifest %#x" % (c, addr(c), s)
    assert addr("go-whatis --json $goheap_t+8") == s + 8, "$goheap_t+8: %#x" % addr("go-whatis --json $goheap_t+8")
    cfg = next(x for x in m["sentinels"] if x["type"] == "main.Config")
    assert addr("go-whatis --json main.config") == int(cfg["addr"], 16), "main.config"
    assert body(out[k["go-whatis main.nosuch"]]) == ["goheap: go-whatis: main.nosuch: no such global"], \
        out[k["go-whatis main.nosuch"]]
    assert body(out[k["go-whatis nosuch_local_name"]]) == ['No symbol "nosuch_local_name" in current context.'], \
        out[k["go-whatis nosuch_local_name"]]
    sig = val("p/x sig")
    assert addr("go-whatis --json sig") == sig, "a frame's argument: %#x, gdb %#x" % (addr("go-whatis --json sig"), sig)
    return "$rsp/$sp = %#x, $goheap_t and $goheap_t+8, frame 1's sig = %d, as gdb prints them; " \
        "main.sessions[\"%s\"] and main.config = manifest; gdb's and goheap's errors" % (rsp, sig, user)


def check_frame_locals(d):
    """Go locals of any goroutine's frame through --frame (gdb's own frame
    command reaches only threads' goroutines): every object a stack variable
    holds (the manifest's sentinels), by its variable's name."""
    m = load_manifest(d)
    held = [s for s in m["sentinels"] if s["root"].get("kind") == "stack" and s["root"].get("variable")]
    assert len(held) == 4, "stacks: %d sentinels held by locals" % len(held)
    cmds = ["go-whatis --frame %d:%s %s --json" % (s["root"]["goroutine"], s["root"]["function"],
                                                    s["root"]["variable"]) for s in held]
    out, _ = gdb(cmds, [os.path.join(d, "exe"), os.path.join(d, "core")])
    bad = []
    for i, (c, s) in enumerate(zip(cmds, held)):
        got = int(json_of(body(out[i]), c)["addr"], 16)
        if got != int(s["addr"], 16):
            bad.append("%s: %#x, manifest %s" % (c, got, s["addr"]))
    assert not bad, "; ".join(bad)
    return "%d objects held by locals, by --frame G:FUNCTION and the variable" % len(held)


def check_engine_args(d):
    """Quoted arguments with blanks and regular expressions, as a user types
    them, select what the manifest says (the CLI given the same words agrees)."""
    m = load_manifest(d)
    with Gdb([os.path.join(d, "exe"), os.path.join(d, "core")]) as g:
        heap = g.json(r"go-heap --type '^main\.(Session|Payload)$' --json")
        got = {r["type"]: r["count"] for r in heap["types"]}
        want = {t: n for t, n in m["live"].items() if t in ("main.Session", "main.Payload")}
        assert got == want and len(want) == 2, "go-heap --type '^main\\.(Session|Payload)$': %r, manifest %r" % (
            got, want)
        none = g.json("go-objects --type 'a b' --json")
        assert none["matched"] == 0 and none["objects"] == [], "go-objects --type 'a b': %r" % none
        # A type name with blanks: Go 1.24+ sync.Map's sync.entry[interface {},interface {}].
        n = []
        for typed, regex in ((r"'^sync\.entry\[interface \{\},interface \{\}\]$'",
                              r"^sync\.entry\[interface \{\},interface \{\}\]$"),
                             (r'"interface \{\},interface \{\}\]$"', r"interface \{\},interface \{\}\]$")):
            got = g.json("go-objects --type %s --json" % typed)
            words = ["objects", "--type", regex, "--json"]
            want = json_of(cli(d, words), " ".join(words))
            assert got == want, "go-objects --type %s: %d matched, the CLI given %r %d" % (
                typed, got["matched"], regex, want["matched"])
            n.append(got["matched"])
    return "2 types = manifest (500 + 500), 'a b' matches nothing, types with blanks in '...' and \"...\": " \
        "%d and %d objects, as the CLI" % tuple(n)


def check_help(d):
    """help go-NAME says everything once, with go- names; its options are
    subcommands, so Tab after go-NAME -- completes them; go-bt exists."""
    names = command_names()
    cmds = ["help go-%s" % n for n in names] + ["complete go-%s -" % n for n in names]
    cmds += ["apropos go-", "help go-bt"]
    out, _ = gdb(cmds)
    nopts = 0
    for i, n in enumerate(names):
        text = "\n".join(out[i])
        engine = subprocess.run([GOHEAP, "help", "go-" + n], capture_output=True, text=True).stdout
        summary = engine.splitlines()[0].split(" — ", 1)[1]
        assert text.count(summary) == 1 and summary + " (goheap)" in text, \
            "help go-%s: the summary not once: %r" % (n, text[:300])
        u = re.search(r"^usage: (.*)$", engine, re.M).group(1)
        assert u.startswith("go-") and "usage: " + u in text and text.count("usage:") == 1, \
            "help go-%s lacks 'usage: %s'" % (n, u)
        ex = re.search(r"^example:\n  (.*)$", engine, re.M)
        assert not ex or (ex.group(1).startswith("go-") and "  " + ex.group(1) in text), \
            "help go-%s: the example without go-" % n
        opts = re.findall(r"^  (-\S+)\s+(.*)$", engine, re.M)
        for opt, what in opts:
            # listed once, by gdb, as a subcommand with the engine's help
            assert not re.search(r"^\s+%s\s" % re.escape(opt), text, re.M) and len(re.findall(
                r"^goheap-%s %s -- %s$" % (re.escape(n), re.escape(opt), re.escape(what)), text, re.M)) == 1, \
                "help go-%s: option %s not listed once" % (n, opt)
        completed = sorted(l for l in out[len(names) + i] if l.strip())
        want = sorted("go-%s %s" % (n, o) for o, _ in opts)
        assert completed == want, "complete go-%s -: %r, want %r" % (n, completed, want)
        nopts += len(opts)
    listed = "\n".join(out[2 * len(names)])
    for n in names:
        assert re.search(r"\bgo-%s\b" % n, listed), "apropos go- does not list go-%s" % n
    bt = "\n".join(out[2 * len(names) + 1])
    assert "go-bt" in bt and "usage: go-goroutine ID" in bt, "help go-bt: %r" % bt[:300]
    return "%d commands said once with go- names, %d options completed, go-bt" % (len(names), nopts)


def check_no_go():
    out, whole = gdb(["go-overview", "echo next\\n", "starti", "go-overview --json", "echo next\\n"], ["/bin/true"])
    for i in (0, 3):
        errs = [l for l in body(out[i]) if l.strip() and not l.startswith("0x")]
        errs = [l for l in errs if l.startswith("goheap: ")]
        assert len(errs) == 1, "expected one error line, got %r" % out[i]
    assert out[1] == ["next"] and out[4] == ["next"], "gdb did not go on: %s" % whole[-400:]
    return "%s / %s" % (body(out[0])[0], [l for l in out[3] if l.startswith("goheap")][0])


def check_bad_inputs(demo, other):
    """The bad inputs of test_badinput (badinputs.py), each loaded into a
    gdb of its own (gdb EXE CORE): the go- command fails (goheap's exit code
    1) with one error line that says what is wrong (besides goheap's
    warnings), the session goes on (gdb loads the good core and a go-
    command answers on it), and gdb exits normally."""
    seen = []
    for c in badinputs.cases(demo, other, os.path.join(TMP, "badinput")):
        out, whole = gdb(["go-" + c.command, 'printf "exit %d\\n", $_shell_exitcode',
                          "file " + os.path.join(demo, "exe"), "core-file " + os.path.join(demo, "core"),
                          "go-overview"], [c.exe, c.core], timeout=120)
        errs = [l for l in body(out.get(0, [])) if l.strip() and not l.startswith("goheap: warning:")]
        assert len(errs) == 1 and errs[0].startswith("goheap: ") and re.search(c.pattern, errs[0]), \
            "%s: go-%s said %r" % (c.name, c.command, errs[:5])
        assert out.get(1) == ["exit 1"], "%s: go-%s exit code: %r" % (c.name, c.command, out.get(1))
        assert any(re.match(r"Go version +go1\.", l) for l in out.get(4, [])) and "end" in out, \
            "%s: gdb did not go on: %s" % (c.name, whole[-400:])
        assert gdb.returncode == 0, "%s: gdb exited %d" % (c.name, gdb.returncode)
        seen.append(errs[0][:60])
    return "%d bad inputs, one error line each, gdb went on: %s" % (len(seen), "; ".join(seen))


def running_client(sid, command):
    """The pid of a goheap --from-gdb COMMAND in gdb's session, or None."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            argv = open("/proc/%s/cmdline" % pid, "rb").read().split(b"\0")
            st = open("/proc/%s/stat" % pid).read()
        except OSError:
            continue
        if b"--from-gdb" in argv and command.encode() in argv and int(st[st.rindex(")") + 2:].split()[3]) == sid:
            return int(pid)
    return None


def check_interrupt(d):
    """Ctrl-C while a command runs (GOHEAP_TEST_STALL_MS makes each long)."""
    env = dict(ENV, GOHEAP_TEST_STALL_MS="3000")
    argv = ["gdb", "-nx", "-q", "-iex", "set auto-load no", "-x", GDBFILE,
            os.path.join(d, "exe"), os.path.join(d, "core")]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True, env=env, cwd=TMP)
    # The first command starts the helper; the second is the one interrupted.
    p.stdin.write("go-whatis 0x1\ngo-overview --json\n")
    p.stdin.flush()
    deadline = time.time() + 120
    while not running_client(p.pid, "go-overview"):
        assert time.time() < deadline and p.poll() is None, "go-overview never started"
        time.sleep(0.05)
    time.sleep(0.5)
    t0 = time.time()
    os.killpg(p.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    p.stdin.write("echo after\\n\ngo-whatis 0x2\nquit\n")
    p.stdin.flush()
    out, _ = p.communicate(timeout=120)
    took = time.time() - t0
    assert "goheap: interrupted" in out, "no interruption reported: %s" % out[-500:]
    assert '"go_version"' not in out, "the interrupted command printed its result"
    assert "after" in out and "0x2 is not" in out, "gdb or goheap did not go on: %s" % out[-500:]
    st = [stats_of([l]) for l in out.splitlines() if l.startswith("goheap: session:")]
    assert len(st) == 3 and st[2]["reused"] == 1 and st[2]["opens"] == 1, \
        "the next command did not reuse the session: %r" % st
    return "stopped; the next command ran on the same session"


def check_gcore(d):
    env = dict(ENV, GOHEAP_GDB_GCORE="1")
    out, whole = live_gdb(d, ["go-overview --json", "go-whatis 0x1"] + TO_STOP2 + ["go-overview --json"], env=env)
    assert "end" in out, "gdb did not get through: %s" % whole[-600:]
    slots = re.findall(r"Saved corefile (/tmp/goheap-gcore-\d+\.core)", whole)
    assert len(slots) == 2, "expected one gcore per stop, saw %r" % slots
    for s in slots:
        assert not os.path.exists(s), "snapshot %s left behind" % s
    o1, o2 = json_of(body(out[2]), "stop 1"), json_of(body(out[6]), "stop 2")
    assert o1["target"].endswith("(gcore snapshot)"), o1["target"]
    assert any("asking gdb for a core snapshot" in l for l in out[2]), "the fallback was not announced"
    assert stats_of(out[3])["reused"] == 1, "the snapshot was not reused at the same stop"
    assert o2["objects"] > o1["objects"], "stop 2 snapshot does not see the new objects"
    return "one snapshot per stop, removed; %d then %d objects" % (o1["objects"], o2["objects"])


def check_not_overridden(d):
    mine = os.path.join(TMP, "mine.gdb")
    with open(mine, "w") as f:
        f.write("define go-verify\n  echo mine\\n\nend\n")
    out, whole = gdb(["go-verify", "source " + GDBFILE, "go-overview --json"],
                     [os.path.join(d, "exe"), os.path.join(d, "core")], pre=["source " + mine])
    assert out[0] == ["mine"], "go-verify was overridden: %r" % out[0]
    assert "gdb already has a command go-verify" in whole, "no word about go-verify"
    assert "go-overview" not in whole.split("@@1")[1].split("@@2")[0], "sourcing again complained"
    json_of(body(out[2]), "go-overview after sourcing twice")
    return "the user's go-verify kept; sourcing twice is quiet"


def check_install():
    # DESTDIR keeps an optional gdbinit.d install (GOHEAP_GDBINIT_DIR) inside TMP.
    prefix, dest = os.path.join(TMP, "prefix"), os.path.join(TMP, "dest")
    p = subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix], capture_output=True, text=True,
                       timeout=300, env=dict(os.environ, DESTDIR=dest))
    assert p.returncode == 0, "cmake --install: %s" % p.stderr[-400:]
    os.symlink(dest + prefix, prefix)
    f = os.path.join(prefix, "share", "goheap", "goheap.gdb")
    text = open(f).read()
    assert "'%s/bin/goheap' --from-gdb" % prefix in text, "installed goheap.gdb does not call the installed goheap"
    assert BUILD + "/bin" not in text, "installed goheap.gdb names the build tree"
    p = subprocess.run(["gdb", "-batch", "-nx", "-x", f, "-ex", "help go-overview"], capture_output=True, text=True,
                       timeout=60)
    assert "usage: go-overview" in p.stdout, p.stdout + p.stderr
    cache = open(os.path.join(BUILD, "CMakeCache.txt")).read()
    m = re.search(r"^GOHEAP_GDBINIT_DIR:PATH=(.+)$", cache, re.M)
    if m:
        init = open(dest + os.path.join(m.group(1), "goheap.gdb")).read()
        assert init == "source %s\n" % f, "gdbinit.d file: %r" % init
    return f


def helper_alive(pid):
    try:
        st = open("/proc/%d/stat" % pid).read()
    except OSError:
        return False
    return st[st.rindex(")") + 2] not in "ZX" and "goheap-serve" in st


def check_helper_with_gdb(d):
    """The helper belongs to the gdb session: same session id as gdb, its own
    process group (Ctrl-C in gdb does not reach it), its memory said in the
    GOHEAP_STATS line, and it ends as soon as gdb does."""
    g = Gdb([os.path.join(d, "exe"), os.path.join(d, "core")])
    try:
        g.run("go-overview")
        st = g.stats[-1]
        assert st and st["server"], "no helper in %r" % st
        pid = st["server"]
        assert st["helper_peak_kb"] >= st["helper_rss_kb"] > 0, "helper memory not said: %r" % st
        assert os.getsid(pid) == os.getsid(g.p.pid), "helper %d is in session %d, gdb in %d" % (
            pid, os.getsid(pid), os.getsid(g.p.pid))
        assert os.getpgid(pid) != os.getpgid(g.p.pid), "helper %d is in gdb's process group" % pid
    finally:
        g.close()
    t0 = time.time()
    while helper_alive(pid) and time.time() - t0 < 5:
        time.sleep(0.01)
    took = time.time() - t0
    assert not helper_alive(pid), "helper %d still runs 5 s after gdb exited" % pid
    assert took < 0.5, "helper %d ended %.2f s after gdb" % (pid, took)
    return "helper %d: gdb's session, peak %d KiB, gone %.0f ms after gdb" % (pid, st["helper_peak_kb"], took * 1e3)


def check_helpers_gone():
    deadline = time.time() + 10
    alive = set(helpers)
    while alive and time.time() < deadline:
        for pid in list(alive):
            try:
                st = open("/proc/%d/stat" % pid).read()
                if st[st.rindex(")") + 2] in "ZX" or "goheap-serve" not in st:
                    alive.discard(pid)
            except OSError:
                alive.discard(pid)
        time.sleep(0.2)
    assert not alive, "helpers still running after their gdb exited: %s" % sorted(alive)
    log = open(LOG).read() if os.path.exists(LOG) else ""
    assert not log.strip(), "helpers wrote to stderr: %s" % log[-1500:]
    for o in outputs:
        m = re.search(r"ERROR: \w+Sanitizer.*|runtime error:.*", o)
        assert not m, "sanitizer report in gdb's output: %s" % m.group(0)
    return "%d helpers" % len(helpers)


def main():
    if not shutil.which("gdb"):
        print("SKIPPED: no gdb")
        return 77
    v = subprocess.run(["gdb", "--version"], capture_output=True, text=True).stdout
    m = re.search(r"(\d+)\.\d+", v)
    if not m or int(m.group(1)) < 9:
        print("SKIPPED: gdb 9 or newer needed (pipe)")
        return 77
    if not os.path.exists(GDBFILE):
        print("FAIL  %s missing" % GDBFILE)
        print("0 passed, 1 failed")
        return 1
    demos = []
    newest = corpus.versions()[-1]
    for version, variant in corpus.matrix():
        tag = corpus.tag(version, variant)
        # What concerns gdb of the layout variants: PIE (load bias, live
        # too) and stripped binaries (no symbols for gdb, no main.checkpoint
        # to break on), on the newest release; the layouts are run.py's.
        # Of the other variants, the retained program's sizes through gdb.
        # Another architecture's cores (arm64, written by qemu-user, read with
        # gdb-multiarch): every program of every release, below; of its
        # stripped builds what amd64's get.
        other_arch = bool(variant) and corpus.emulator(variant) is not None
        stripped = corpus_variant.stripped(variant)
        only_retained = bool(variant) and not (other_arch and not stripped) and \
            (version != newest or not (variant == "pie" or stripped))
        if only_retained and "retained" not in corpus.selected_programs(variant, None):
            continue
        try:
            skip, dirs = corpus.generate(version, variant, ["retained"] if only_retained else None,
                                         out=os.path.join(BUILD, "corpus"))
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            check("%s corpus" % tag, lambda: (_ for _ in ()).throw(AssertionError(str(e))))
            continue
        if skip:
            print("skip  %s: %s" % (tag, skip))
            continue
        # gdb names files by their real path; the CLI prints the path it is given.
        dirs = [os.path.realpath(x) for x in dirs]
        progs = [os.path.basename(x) for x in dirs]
        if only_retained:
            check("%s retained core: retained sizes through gdb = manifest" % tag, check_program_retained, dirs[0],
                  not stripped)
            continue
        if not variant:
            d = dirs[progs.index("demo")]
            demos.append(d)
            check("%s core: every go- command equals the CLI" % tag, check_core, d, version)
        if other_arch and not stripped:
            # Every program of every release on one gdb session each; every
            # go- command = the CLI on the newest release's demo (the
            # adapter does not change with the release; amd64 runs it on
            # every release).
            for d, prog in zip(dirs, progs):
                if prog == "demo" and version == newest:
                    check("%s core: every go- command equals the CLI" % tag, check_core, d, version)
                check("%s %s core: heap, paths, goroutines%s through gdb = manifest, one session" % (
                    tag, prog, ", retained sizes" if prog == "retained" else ""), check_program_all, d)
                if prog == "sites":
                    check("%s sites core: the runtime's heap profile through gdb = manifest" % tag,
                          check_program_sites, d, True)
            continue
        # Cores: every program of the newest release; of the others the demo
        # and two more, a different two for each release. Live: every
        # program of every release (the PIE demo and stacks too).
        k = corpus.versions().index(version)
        cores = set(progs) if version == newest else \
            {"demo", progs[(2 * k) % len(progs)], progs[(2 * k + 1) % len(progs)]}
        for d, prog in zip(dirs, progs):
            name = "%s %s" % (tag, prog)
            if prog in cores:
                check(name + " core: heap, paths, goroutines through gdb = manifest", check_program_core, d,
                      not stripped)
            if prog == "retained":
                check(name + " core: retained sizes through gdb = manifest", check_program_retained, d,
                      not stripped)
            if prog == "sites":
                check(name + " core: the runtime's heap profile through gdb = manifest", check_program_sites, d,
                      not stripped)
            if not variant or (variant == "pie" and prog in ("demo", "stacks")):
                check(name + " live: stop 1 = manifest, continue, stop 2 = manifest", check_program_live, d)
    if demos:
        d = demos[-1]
        check("arguments reach goheap intact", check_args, d)
        for e in (demos[0], demos[-1]):
            check("expressions: gdb's registers, variables and locals, goheap's own (%s)" % os.path.basename(
                os.path.dirname(e)), check_expressions, e)
        check("quoted and regular-expression arguments select what the manifest says", check_engine_args, d)
        stacks = os.path.join(os.path.dirname(d), "stacks")
        if os.path.exists(os.path.join(stacks, "core")):
            check("Go locals of any goroutine's frame with --frame", check_frame_locals, stacks)
        check("help go-..., apropos go-", check_help, d)
        check("Ctrl-C stops a command, gdb goes on", check_interrupt, d)
        check("the helper is in gdb's session and ends with it", check_helper_with_gdb, d)
        check("gcore fallback (GOHEAP_GDB_GCORE=1)", check_gcore, d)
        check("existing gdb commands are left alone", check_not_overridden, d)
    check("gdb without a Go program: one-line error, gdb goes on", check_no_go)
    if demos:
        other = os.path.join(os.path.dirname(demos[-1]), "retained")
        check("bad inputs: one error line each, gdb goes on", check_bad_inputs, demos[-1], other)
    check("install: goheap.gdb calls the installed binary", check_install)
    check("helpers end with gdb; no sanitizer reports", check_helpers_gone)
    shutil.rmtree(TMP, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
