#!/usr/bin/env python3
"""The LLDB plugin on cores and live processes of every Go release.

Every lldb here is `lldb --batch --no-lldbinit` that loads the plugin; the
answer key is the corpus manifest, as in run.py (check_heap, check_goroutines
with a batch function that runs the commands through lldb instead of goheap).

- Cores, through both memory paths (the engine's mmapped core backend, the
  default, and SBProcess::ReadMemory with GOHEAP_LLDB_SBAPI=1): go-heap --json
  has the manifest's live counts, go-paths finds each sentinel's root,
  go-objects agrees, go-goroutines lists the parked goroutines where they
  parked. Every program on the newest release, two per older release. The
  retained program on every release (and every layout variant, mmapped): retains, roots --retained, heap
  --retained, top, dominators and paths give the manifest's retained sizes
  (check_retained). On
  every release's demo core also go-overview, go-breakdown, go-verify and
  go-whatis equal the CLI's answers.
- arm64 cores (written by qemu-user; target create --arch
  aarch64-unknown-linux-gnu): every program of every release, on one lldb
  session per core (mmapped path): check_heap, check_goroutines, and
  check_retained for the retained program, and for the demo overview,
  breakdown, verify and whatis = the CLI; the arm64-stripped builds'
  retained program likewise (globals unnamed). Not the SB API path: it
  hands registers over as gh_thread, whose set is amd64's.
- Live: lldb launches a corpus program in live mode (GOHEAP_LIVE=1, breakpoint
  at main.checkpoint), and the same checks pass against the stop-1 manifest;
  `process continue` to the second stop, and they pass against the stop-2
  manifest (the model is rebuilt: the stop id changed); at each stop
  `go-print stop` in the selected frame, main.checkpoint(stop), is the stop
  number, the argument read from the thread's registers. demo and stacks
  (running goroutines walked from lldb's thread registers) on every release,
  every program on the oldest and the newest. The plugin reads a process on
  this machine through /proc/PID/mem with lldb's registers; demo and stacks
  of the newest release also through the SB API (GOHEAP_LLDB_SBAPI=1, the
  path of remote targets).
- A bad session (no target, a target without a process, a non-Go program)
  gives a one-line error and lldb goes on with the next command; so does
  each bad input of test_badinput (badinputs.py: the issue's ten and a few
  more), each in an lldb of its own: the go- command fails with its error
  line, a go- command on the good core then answers, lldb exits 0.
- AddressSanitizer: a core and a live session with the plugin built with
  GOHEAP_SANITIZE=ON (lldb-asan/, built by lldb-plugin/CMakeLists.txt), the
  ASan runtime preloaded into lldb; no sanitizer report. In a sanitizer build
  every lldb of this test runs that way.
- Timing: go-heap inside lldb (both paths) against the CLI on the largest
  core of the corpus (and on $GOHEAP_PERF_CORE_DIR, a directory with exe and
  core, when set); printed, not checked.
Prints `N passed, N failed`.
"""
import json
import os
import queue
import re
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts"))
import badinputs  # noqa: E402
import check_heap as check_heap_module  # noqa: E402
import corpus  # noqa: E402
import corpus_variant  # noqa: E402
import run  # noqa: E402
from check_heap import check_heap  # noqa: E402
from check_retained import check_retained  # noqa: E402
from check_sites import check_sites  # noqa: E402
from check_goroutines import check_goroutines  # noqa: E402
from harness import is_amd64  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(run.ROOT, "build"))
PLUGIN = os.path.join(BUILD, "lib", "libgoheap-lldb.so")
GOHEAP = os.path.join(BUILD, "bin", "goheap")
LLDB = os.environ.get("LLDB", "lldb-19")
ASAN_BUILD = os.path.join(BUILD, "lldb-asan")
SANITIZER_REPORT = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: \w+Sanitizer")


def sanitized(build):
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            return re.search(r"^GOHEAP_SANITIZE:BOOL=(ON|1|TRUE)$", f.read(), re.M | re.I) is not None
    except OSError:
        return False


def asan_env(build):
    """What lldb needs to run a sanitizer build of the plugin: the ASan runtime
    the plugin links, preloaded (lldb is not instrumented), after it the
    swift_demangle stub (lldb-plugin/asan_preload.c says why), and leak
    detection off: lldb itself does not free everything at exit."""
    plugin = os.path.join(build, "lib", "libgoheap-lldb.so")
    p = subprocess.run(["ldd", plugin], capture_output=True, text=True, timeout=60)
    m = re.search(r"libasan\.so\S* => (\S+)", p.stdout)
    assert m, "%s links no ASan runtime: %s" % (plugin, p.stdout.strip()[-300:])
    stub = os.path.join(build, "lib", "libgoheap-asan-preload.so")
    assert os.path.exists(stub), "%s is missing" % stub
    return {"LD_PRELOAD": "%s %s" % (m.group(1), stub),
            "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:halt_on_error=1",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}


# The plugin and the environment every lldb of the test gets (a sanitizer
# build preloads the ASan runtime); the ASan check swaps both.
SESSION = {"plugin": PLUGIN, "env": asan_env(BUILD) if sanitized(BUILD) else {}}


def lldb_env(extra=None):
    env = dict(os.environ, **SESSION["env"])
    env.update(extra or {})
    return env


def no_reports(out):
    m = SANITIZER_REPORT.search(out)
    assert not m, "sanitizer report: %s" % out[max(0, m.start() - 200):m.start() + 1500]


def lldb(commands, env=None, batch=True):
    """Runs lldb; returns (output, JSON documents in order). batch: a command
    file with --batch, synchronous, which stops at the first error; otherwise
    the commands come on standard input as a person types them, and an error
    does not end the session (the bad-session check needs that)."""
    script = "plugin load %s\n%s\nquit\n" % (SESSION["plugin"], "\n".join(commands))
    if batch:
        path = os.path.join(BUILD, "lldb-test-commands-%d.txt" % os.getpid())
        with open(path, "w") as f:
            f.write(script)
        p = subprocess.run([LLDB, "--no-lldbinit", "--batch", "-s", path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=600, env=lldb_env(env),
                           stdin=subprocess.DEVNULL)
        os.remove(path)
    else:
        p = subprocess.run([LLDB, "--no-lldbinit"], input=script, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=600, env=lldb_env(env))
    no_reports(p.stdout)
    lldb.returncode = p.returncode
    docs = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    return p.stdout, docs


class Session:
    """One lldb --batch session driven command by command: the commands come
    through a pipe (`-s /dev/stdin`), so each runs synchronously (a launch or
    a continue returns when the process stopped) and the test can read what
    the program printed before sending the next. A comment line after each
    group marks where its output ends (lldb echoes it). --batch stops at the
    first error: the session then ends and run() says so."""

    def __init__(self, env=None):
        self.p = subprocess.Popen([LLDB, "--no-lldbinit", "--batch", "-s", "/dev/stdin"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                                  env=lldb_env(env))
        self.lines = queue.Queue()
        self.marks = 0
        self.transcript = []
        threading.Thread(target=self._read, daemon=True).start()
        self.run(["plugin load %s" % SESSION["plugin"]])

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def run(self, commands, timeout=300, may_end=False):
        self.marks += 1
        mark = "# --- %d" % self.marks
        try:
            self.p.stdin.write("".join(c + "\n" for c in commands + [mark]))
            self.p.stdin.flush()
        except OSError:
            raise AssertionError("lldb ended before %r: %s" % (commands, "".join(self.transcript)[-600:]))
        got, end = [], time.time() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, end - time.time()))
            except queue.Empty:
                raise AssertionError("lldb did not finish %r in %ds: %s" % (commands, timeout, "".join(got)[-600:]))
            if line is None:
                self.transcript.append("".join(got))
                if may_end:  # an error ended the batch, as expected
                    no_reports("".join(got))
                    return "".join(got), []
                raise AssertionError("lldb ended during %r: %s" % (commands, "".join(got)[-800:]))
            if line.rstrip("\n") == "(lldb) " + mark:
                break
            got.append(line)
        text = "".join(got)
        self.transcript.append(text)
        no_reports(text)
        return text, [json.loads(l) for l in got if l.startswith("{")]

    def batch(self, kind):
        """A batch function for check_heap/check_goroutines: engine commands as
        go- commands of this session; the first answer also says which target
        backend answered (kind: "lldb process" or "core ")."""
        def fn(_, cmds):
            text, docs = self.run(["go-overview --json"] + ["go-" + c for c in cmds])
            assert len(docs) == len(cmds) + 1, "lldb answered %d of %d commands: %s" % (
                len(docs), len(cmds) + 1, text[-600:])
            assert docs[0]["target"].startswith(kind), "target %r, expected %s" % (docs[0]["target"], kind)
            return docs[1:]
        return fn

    def close(self):
        try:
            # quit kills a process that is still there, without asking
            self.p.stdin.write("settings set auto-confirm true\nquit\n")
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        rest = []
        while True:
            try:
                line = self.lines.get(timeout=5)
            except queue.Empty:
                break
            if line is None:
                break
            rest.append(line)
        self.transcript.append("".join(rest))
        no_reports("".join(rest))


def target_create(exe, core):
    """lldb's command that loads a core. A qemu-written arm64 core has no
    Linux-only note, and lldb refuses it ("Unsupported OS") unless told the
    platform (docs/install.md)."""
    arch = "" if is_amd64(exe) else "--arch aarch64-unknown-linux-gnu "
    return "target create %s%s --core %s" % (arch, exe, core)


def core_batch(sbapi):
    """check_heap/check_goroutines' batch function: one lldb --batch per call,
    the core loaded with target create, the commands as go- commands."""
    kind = "lldb process" if sbapi else "core "

    def fn(d, cmds):
        out, docs = lldb([target_create(os.path.join(d, "exe"), os.path.join(d, "core")),
                          "go-overview --json"] + ["go-" + c for c in cmds],
                         {"GOHEAP_LLDB_SBAPI": "1"} if sbapi else None)
        errors = [l for l in out.splitlines() if l.startswith("error:")]
        assert not errors, "lldb: %s" % "; ".join(errors[:3])
        assert len(docs) == len(cmds) + 1, "lldb answered %d of %d commands: %s" % (
            len(docs), len(cmds) + 1, out[-600:])
        assert docs[0]["target"].startswith(kind), "target %r, expected %s" % (docs[0]["target"], kind)
        return docs[1:]
    return fn


def check_core_manifest(d, sbapi):
    """heap, paths, objects and goroutines through lldb against the manifest."""
    m = run.load_manifest(d)
    fn = core_batch(sbapi)
    return "%s; %s" % (check_heap(d, m, fn), check_goroutines(d, m, fn))


def check_core_retained(d, sbapi, named=True):
    """Retained sizes through lldb against the manifest (corpus/retained)."""
    return check_retained(d, run.load_manifest(d), core_batch(sbapi), named=named)


def check_core_sites(d, sbapi):
    """The runtime's heap profile through lldb against the manifest (corpus/sites)."""
    return check_sites(d, run.load_manifest(d), core_batch(sbapi), GOHEAP)


def cli(core, *args):
    # --exe: qemu's arm64 cores name no executable
    p = subprocess.run([GOHEAP, "--exe", os.path.join(os.path.dirname(core), "exe"), core] + list(args),
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def same_heap(a, b, what):
    for k in ("go_version", "arenas", "spans_in_use", "spans_manual", "objects", "object_bytes", "threads"):
        assert a[k] == b[k], "%s: %s is %r in lldb, %r in the CLI" % (what, k, a[k], b[k])


def check_core_cli(d, sbapi):
    """go-overview, go-breakdown, go-verify and go-whatis give the CLI's answers."""
    return same_as_cli(d, run.load_manifest(d), core_batch(sbapi), sbapi)


def same_as_cli(d, m, fn, sbapi=False):
    """overview, breakdown, verify and whatis of each sentinel through fn (a
    batch function of go- commands) give the CLI's answers on the same core."""
    cmds = ["overview --json", "breakdown --json", "verify --json"] + \
        ["whatis %s --json" % s["addr"] for s in m["sentinels"]]
    docs = fn(d, cmds)
    vf = docs.pop(2)
    core = os.path.join(d, "core")
    # Every pointer word of every object read the same way as the CLI reads them.
    assert vf == cli(core, "verify", "--json"), "verify differs from the CLI: %r" % vf
    same_heap(docs[0], cli(core, "overview", "--json"), "overview")
    want = ("lldb process" if sbapi else "core ")
    assert docs[0]["target"].startswith(want), "target %r, expected %s" % (docs[0]["target"], want)
    bd = docs[1]
    assert bd["unexplained_differences"] == 0 and all(c["ok"] for c in bd["checks"]), bd["checks"]
    assert bd["classes"] == cli(core, "breakdown", "--json")["classes"], "breakdown differs from the CLI"
    for s, w in zip(m["sentinels"], docs[2:]):
        c = cli(core, "whatis", s["addr"], "--json")
        assert w["kind"] == "heap" and w["object"] == c["object"], "whatis %s: lldb %r, CLI %r" % (s["addr"], w, c)
    return "overview, breakdown, verify and %d sentinels' whatis = CLI" % len(m["sentinels"])


def core_session(d, env=None):
    """One lldb with the plugin loaded and the core of d loaded (target
    create), to run several checks' commands in a row: lldb starts, loads
    the plugin and reads the core once."""
    s = Session(env)
    try:
        text, _ = s.run([target_create(os.path.join(d, "exe"), os.path.join(d, "core"))])
        assert "was loaded" in text, "lldb did not load the core: %s" % text[-400:]
    except BaseException:
        s.close()
        raise
    return s


def check_core_session(d, named=True):
    """Every core check of test_lldb on one lldb session (the mmapped
    path): heap, paths, objects and goroutines (check_heap,
    check_goroutines; globals unnamed for a stripped binary), retained
    sizes where the program builds them (check_retained), and for a demo
    overview, breakdown, verify and whatis = the CLI."""
    m = run.load_manifest(d)
    s = core_session(d)
    n = [0]
    try:
        batch = s.batch("core ")

        def fn(d, cmds):
            n[0] += len(cmds) + 1
            return batch(d, cmds)
        out = [check_heap(d, m, fn, named=named), check_goroutines(d, m, fn)]
        if "retained" in m:
            out.append(check_retained(d, m, fn, named=named))
        if os.path.basename(d) == "demo":
            out.append(same_as_cli(d, m, fn))
    finally:
        s.close()
    return "%s; %d go- commands on one lldb" % ("; ".join(out), n[0])


def manifest_lines(path):
    with open(path) as f:
        return sum(1 for l in f if l.startswith("{"))


def manifest_line(path, stop):
    """The program's manifest line for a stop (printed before it stopped)."""
    with open(path) as f:
        lines = [json.loads(l) for l in f if l.startswith("{")]
    assert len(lines) >= stop, "the program printed %d manifest lines, expected %d" % (len(lines), stop)
    m = lines[stop - 1]
    assert (m["mode"], m["stop"]) == ("live", stop), "manifest line %d: %r/%r" % (stop, m["mode"], m["stop"])
    m["sentinels"] = m.get("sentinels") or []  # a second stop may name none (null)
    return m


def live_session(d, out_file, env=None):
    """An lldb session stopped at the program's first checkpoint."""
    if os.path.exists(out_file):
        os.remove(out_file)
    s = Session(env)
    text, _ = s.run(["process handle SIGURG -n false -p true -s false",
                     "target create %s" % os.path.join(d, "exe"),
                     "breakpoint set -n main.checkpoint",
                     "process launch -E GOHEAP_LIVE=1 -o %s -i /dev/null" % out_file])
    assert "stop reason = breakpoint" in text, "the program did not stop at main.checkpoint: %s" % text[-600:]
    return s


# Live programs where check_heap's typed coverage cannot hold, and why.
LIVE_COVERAGE = {
    # At both stops main's registers in main.checkpoint still reach the table
    # manifest.Goroutines built, whose strings point into
    # string(runtime.Stack(all)): 2000 goroutines' tracebacks, 728 KiB, live
    # (a path from goroutine 1's registers), pointer-free and reached from no
    # typed root, so untyped. In the core it is gone (the crash path left
    # those registers behind).
    "goroutines": 0.5,
}


def check_heap_live(d, m, fn):
    """check_heap on a live stop. A running goroutine's registers (and the
    frames interrupted by a signal) are scanned conservatively, and at a
    breakpoint they can still hold a pointer to garbage the program dropped:
    its objects are then live to goheap, which the manifest cannot know. A
    garbage type (manifest live count 0, listed in `garbage`) found live is
    accepted only when every such object's first path starts at a
    conservatively scanned root (a variable in parentheses: "(registers)"),
    and then the other counts are checked again without it."""
    try:
        return check_heap(d, m, fn)
    except AssertionError as e:
        extra = re.findall(r"(\S+): goheap (\d+) live, manifest 0", str(e))
        if not str(e).startswith("live counts differ") or not extra or \
                any(t not in (m.get("garbage") or {}) for t, _ in extra):
            raise
        held = []
        for t, n in extra:
            objs = fn(d, ["objects --json --limit %s --type '^%s$'" % (n, re.escape(t))])[0]["objects"]
            paths = fn(d, ["paths %s --json" % o["addr"] for o in objs])
            roots = [p["paths"][0]["root"] if p["paths"] else None for p in paths]
            bad = [r for r in roots if not r or not str(r.get("variable", "")).startswith("(")]
            assert not bad, "%s; %s found live from %r" % (e, t, bad[0])
            held.append("%s %s (from %s)" % (n, t, ", ".join(sorted({"goroutine %s %s %s" % (
                r.get("goroutine"), r.get("function"), r["variable"]) for r in roots}))))
        m = dict(m, live=dict(m["live"], **{t: int(n) for t, n in extra}))
        return "%s; conservatively held garbage: %s" % (check_heap(d, m, fn), "; ".join(held))


def check_live(d, env=None, tag=""):
    """Two stops of a live program under lldb, each against its manifest."""
    out_file = os.path.join(BUILD, "lldb-live-%s%s-%s.txt" % (os.path.basename(os.path.dirname(d)), tag,
                                                              os.path.basename(d)))
    s = live_session(d, out_file, env)
    try:
        fn = s.batch("lldb process")
        heaps, details = [], []
        regs_held = 0
        for stop in (1, 2):
            if stop == 2:
                # lldb may report the first breakpoint again once in a while
                # (a signal arrived while it stepped the thread off it): go on
                # until the program printed its second line.
                for again in range(5):
                    text, _ = s.run(["process continue"])
                    assert "stop reason = breakpoint" in text, "no second stop at main.checkpoint: %s" % text[-600:]
                    if manifest_lines(out_file) >= 2:
                        break
                    where = [l.strip() for l in text.splitlines() if l.startswith("* thread")]
                    details.append("breakpoint reported again (%s)" % "; ".join(where))
            m = manifest_line(out_file, stop)
            # The selected frame is main.checkpoint(stop), stopped at its
            # breakpoint: the argument Go passed in a register, read from the
            # thread's registers (lldb has no Go locals of its own).
            arg = fn(d, ["print stop --json"])[0]
            assert arg["value"] == stop and arg["type"] == "int", "stop %d: go-print stop: %r" % (stop, arg)
            regs_held += bool(arg.get("in_registers"))
            heaps.append(fn(d, ["heap --json"])[0])
            assert heaps[-1]["go_version"] == m["go"], heaps[-1]["go_version"]
            saved = check_heap_module.COVERAGE_MIN
            check_heap_module.COVERAGE_MIN = LIVE_COVERAGE.get(m["program"], saved)
            try:
                h = check_heap_live(d, m, fn)
                g = check_goroutines(d, m, fn, stderr_text="", live=True)
            except AssertionError as e:
                raise AssertionError("stop %d: %s" % (stop, e))
            finally:
                check_heap_module.COVERAGE_MIN = saved
            details.append("stop %d: %d objects, %d sentinels, %s%s" % (
                stop, heaps[-1]["objects"], len(m["sentinels"]), g.split(",")[0],
                h[h.index("; conservatively"):] if "; conservatively" in h else ""))
        s.run(["process kill"])
    finally:
        s.close()
    details.append("main.checkpoint's stop = the stop number at both, %d of 2 from registers" % regs_held)
    a, b = heaps
    assert (a["objects"], a["bytes"]) != (b["objects"], b["bytes"]), "the model was not rebuilt after the process ran"
    return "; ".join(details)


def check_bad_sessions():
    """Each failing command prints one error line and the next command runs."""
    cmds = ["go-overview", "go-heap", "version",
            "target create /bin/true", "go-paths 0x1000", "process launch --stop-at-entry",
            "go-heap", "go-goroutines", "version", "process kill"]
    out, _ = lldb(cmds, batch=False)
    # Output per command: what follows its echo up to the next prompt.
    parts = re.split(r"^\(lldb\) (.*)$", out, flags=re.M)
    said = {}
    for cmd, text in zip(parts[1::2], parts[2::2]):
        lines = [l for l in text.splitlines() if l.strip() and not l.startswith("warning:")]
        said.setdefault(cmd, []).append(lines)
    for cmd in ("go-overview", "go-paths 0x1000"):
        (lines,) = said[cmd]
        assert len(lines) == 1 and lines[0].startswith("error:") and "no process" in lines[0], \
            "%s without a process: %r" % (cmd, lines)
    errs = said["go-heap"][1] + said["go-goroutines"][0]
    assert len(errs) == 2 and all(l.startswith("error:") and "not a Go program" in l for l in errs), \
        "go-heap, go-goroutines on /bin/true: %r" % errs
    assert [l for l in said["go-heap"][0] if not l.startswith("error:")] == [], said["go-heap"][0]
    assert out.count("lldb version") == 2, "lldb did not go on after the errors: %s" % out[-600:]
    return "5 one-line errors (no process, not a Go program), lldb went on"


def check_bad_inputs(demo, other):
    """The bad inputs of test_badinput (badinputs.py), each in an lldb of
    its own: the go- command fails with one error line that says what is
    wrong, the session goes on (a go- command on the good core in the same
    lldb answers), and lldb exits normally."""
    cases = badinputs.cases(demo, other, os.path.join(BUILD, "badinput-lldb"))
    good = "target create %s --core %s" % (os.path.join(demo, "exe"), os.path.join(demo, "core"))
    seen = []
    for c in cases:
        cmds = ["target create %s --core %s" % (c.exe, c.core), "go-" + c.command, "target delete --all", good,
                "go-overview"]
        out, _ = lldb(cmds, batch=False)
        said = dict(zip(*[iter(re.split(r"^\(lldb\) (.*)$", out, flags=re.M)[1:])] * 2))
        assert "go-" + c.command in said, "%s: lldb ended before go-%s: %s" % (c.name, c.command, out[-600:])
        lines = [l for l in said["go-" + c.command].splitlines() if l.strip() and not l.startswith("warning:")]
        assert len(lines) == 1 and lines[0].startswith("error:") and re.search(c.pattern, lines[0]), \
            "%s: go-%s said %r" % (c.name, c.command, lines[:5])
        assert re.search(r"^Go version +go1\.", said.get("go-overview", ""), re.M), \
            "%s: go-overview on the good core after it: %r" % (c.name, said.get("go-overview", out[-600:]))
        assert lldb.returncode == 0, "%s: lldb exited %d" % (c.name, lldb.returncode)
        seen.append(lines[0][:60])
    return "%d bad inputs, one error line each, lldb went on: %s" % (len(cases), "; ".join(seen))


def check_naming(d):
    """Inside lldb every name is the one typed there: help said once with
    go- names (lldb prints the summary and the syntax, the plugin the rest),
    errors and hints name go- commands, and go-bt is go-goroutine."""
    exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
    cmds = ["help go-heap", "help go-bt", "target create %s --core %s" % (exe, core), "go-heap --bogus",
            "go-heap --top -5", "go-print main.nosuch", "go-paths 0x1", "go-goroutine", "go-bt 1 --json"]
    out, docs = lldb(cmds, batch=False)
    parts = re.split(r"^\(lldb\) (.*)$", out, flags=re.M)
    said = {cmd: [l for l in text.splitlines() if l.strip() and not l.startswith("warning:")]
            for cmd, text in zip(parts[1::2], parts[2::2])}
    engine = subprocess.run([GOHEAP, "help", "go-heap"], capture_output=True, text=True).stdout
    summary = engine.splitlines()[0].split(" — ", 1)[1]
    h = "\n".join(said["help go-heap"])
    assert h.count(summary) == 1 and h.count("go-heap [--all]") == 1 and "usage: heap" not in h, \
        "help go-heap does not say it once: %r" % h[:600]
    assert "--retained" in h and "see go-top" in h and "\n  go-heap --top 20" in h, "help go-heap: %r" % h[-400:]
    bt = "\n".join(said["help go-bt"])
    assert "alias of go-goroutine" in bt and "Syntax: go-bt ID" in bt, "help go-bt: %r" % bt[:300]
    want = {"go-heap --bogus": "error: go-heap: unknown option --bogus (see 'help go-heap')",
            "go-heap --top -5": "error: --top: must be 0 or more, not -5",
            "go-print main.nosuch": "error: go-print: main.nosuch: no such global",
            "go-paths 0x1": "error: go-paths: 0x1 is not inside an allocated heap object (see go-whatis)",
            "go-goroutine": "error: go-goroutine: wrong number of arguments; usage: go-goroutine ID [--locals] [--json]"}
    for cmd, line in want.items():
        assert said[cmd] == [line], "%s: %r" % (cmd, said[cmd])
    assert docs and docs[-1] == cli(core, "goroutine", "1", "--json"), "go-bt 1 is not goroutine 1"
    return "help once, %d errors with go- names, go-bt" % len(want)


def check_expressions(d):
    """ADDR arguments in lldb (docs/lldb.md, "Expressions"): goheap's own
    expressions as typed (main.sessions["user-0042"] = the manifest's
    sentinel); registers, value history ($0 from expr) and arithmetic
    evaluated by lldb reach the value lldb shows (register read, expr);
    a name neither knows and a missing global give one error line each."""
    m = run.load_manifest(d)
    sess = next(s for s in m["sentinels"] if s["type"] == "main.Session")
    user = sess["fields"]["User"]
    exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
    cmds = ["target create %s --core %s" % (exe, core), "register read rsp", "register read rip",
            "go-whatis $rsp --json", "go-whatis --json $sp", "go-whatis $pc --json", "go-whatis $rsp+8 --json",
            "expr -l c++ -- (unsigned long)%s" % sess["addr"], "go-whatis $0 --json", "go-paths $0 --max 1 --json",
            "go-whatis 'main.sessions[\"%s\"]' --json" % user, "go-whatis main.nosuch", "go-whatis nosuch_local_name"]
    out, _ = lldb(cmds, batch=False)
    parts = re.split(r"^\(lldb\) (.*)$", out, flags=re.M)
    said = {cmd: [l for l in text.splitlines() if l.strip() and not l.startswith("warning:")]
            for cmd, text in zip(parts[1::2], parts[2::2])}

    def reg(c):
        r = [re.search(r"= (0x[0-9a-f]+)", l) for l in said[c]]
        r = [x.group(1) for x in r if x]
        assert r, "%s: %r" % (c, said[c])
        return int(r[0], 16)

    def addr(c):
        docs = [json.loads(l) for l in said[c] if l.startswith("{")]
        assert len(docs) == 1, "%s: %r" % (c, said[c][:4])
        return int(docs[0]["target"]["addr"] if "target" in docs[0] else docs[0]["addr"], 16)

    rsp, rip, s = reg("register read rsp"), reg("register read rip"), int(sess["addr"], 16)
    got = {c: addr(c) for c in cmds if "--json" in c}
    want = {"go-whatis $rsp --json": rsp, "go-whatis --json $sp": rsp, "go-whatis $pc --json": rip,
            "go-whatis $rsp+8 --json": rsp + 8, "go-whatis $0 --json": s, "go-paths $0 --max 1 --json": s,
            "go-whatis 'main.sessions[\"%s\"]' --json" % user: s}
    bad = ["%s: %#x, want %#x" % (c, got[c], w) for c, w in want.items() if got[c] != w]
    assert not bad, "; ".join(bad)
    errs = {"go-whatis main.nosuch": "error: go-whatis: main.nosuch: no such global",
            "go-whatis nosuch_local_name": "error: go-whatis: nosuch_local_name: not a goheap expression, and lldb: "
                                           "use of undeclared identifier 'nosuch_local_name'; nor a local of the "
                                           "selected Go frame"}
    for c, line in errs.items():
        assert said[c] == [line], "%s: %r" % (c, said[c])
    return "$rsp/$sp = %#x, $pc = %#x, $rsp+8, $0 from expr = the sentinel, main.sessions[\"%s\"]; %d errors" % (
        rsp, rip, user, len(errs))


def check_frame_locals(d):
    """Go locals in lldb (which has none of its own) through --frame: every
    object a stack variable holds (the manifest's sentinels) by its
    variable's name, and a field through it; with lldb's own selected frame
    (frame select N on main.main) the local and its field without --frame;
    in a frame without it, lldb's error and the frame's."""
    m = run.load_manifest(d)
    held = [s for s in m["sentinels"] if s["root"].get("kind") == "stack" and s["root"].get("variable")]
    assert len(held) == 4, "stacks: %d sentinels held by locals" % len(held)
    cmds = ["target create %s --core %s" % (os.path.join(d, "exe"), os.path.join(d, "core"))]
    want = {}
    for s in held:
        r = s["root"]
        c = "go-whatis --frame %d:%s %s --json" % (r["goroutine"], r["function"], r["variable"])
        cmds.append(c)
        want[c] = int(s["addr"], 16)
    main = next(s for s in held if s["root"]["function"] == "main.main")
    # lldb's own selected frame: main.main's, as lldb's backtrace numbers it
    bt, _ = lldb([cmds[0], "bt"], batch=False)
    num = [g.group(1) for g in re.finditer(r"frame #(\d+): .*`main\.main at ", bt)]
    assert len(num) == 1, "lldb's backtrace has main.main %d times: %s" % (len(num), bt[-1500:])
    var = main["root"]["variable"]
    cmds += ["go-print --frame=1:main.main %s.ID --json" % var, "go-whatis held",
             "frame select %s" % num[0], "go-whatis %s --json" % var, "go-print %s.ID --json" % var]
    out, _ = lldb(cmds, batch=False)
    parts = re.split(r"^\(lldb\) (.*)$", out, flags=re.M)
    said = {cmd: [l for l in text.splitlines() if l.strip() and not l.startswith("warning:")]
            for cmd, text in zip(parts[1::2], parts[2::2])}
    bad = []
    for c, a in want.items():
        docs = [json.loads(l) for l in said[c] if l.startswith("{")]
        if len(docs) != 1 or int(docs[0]["addr"], 16) != a:
            bad.append("%s: %r, manifest %#x" % (c, said[c][:2], a))
    for c in ("go-print --frame=1:main.main %s.ID --json" % var, "go-print %s.ID --json" % var):
        docs = [json.loads(l) for l in said[c] if l.startswith("{")]
        if len(docs) != 1 or str(docs[0]["value"]) != main["fields"]["ID"]:
            bad.append("%s: %r, manifest %s" % (c, said[c][:2], main["fields"]["ID"]))
    c = "go-whatis %s --json" % var
    docs = [json.loads(l) for l in said[c] if l.startswith("{")]
    if len(docs) != 1 or int(docs[0]["addr"], 16) != int(main["addr"], 16):
        bad.append("%s in lldb's frame %s: %r, manifest %s" % (c, num[0], said[c][:2], main["addr"]))
    # before the frame select, lldb's selected frame is the signal's (runtime code): no such local there
    if said["go-whatis held"] != ["error: go-whatis: held: not a goheap expression, and lldb: use of undeclared "
                                  "identifier 'held'; nor a local of the selected Go frame"]:
        bad.append("go-whatis held: %r" % said["go-whatis held"])
    assert not bad, "; ".join(bad)
    return "%d objects held by locals, by --frame G:FUNCTION and the variable; held and held.ID = manifest in " \
        "lldb's selected frame #%s (main.main); elsewhere lldb's error" % (len(held), num[0])


def check_exited(d):
    """After the program exited, a command says so in one line."""
    out_file = os.path.join(BUILD, "lldb-exited-%s.txt" % os.path.basename(d))
    s = live_session(d, out_file)
    try:
        s.run(["go-heap --json"])  # a model that must not be reused
        deadline = time.time() + 90  # a loaded machine (the suite runs two at once) can take its time
        while time.time() < deadline:
            # The exit can be reported after a continue returned: ask first,
            # and continue only a stopped process, since continuing one that
            # is running to its exit (or gone) ends a --batch session.
            text, _ = s.run(["process status"])
            if EXITED.search(text):
                break
            if " stopped" not in text:
                time.sleep(0.2)
                continue
            text, _ = s.run(["process continue"])
            if EXITED.search(text):
                break
        m = EXITED.search(text)
        assert m, "the program did not exit: %s" % text[-400:]
        # lldb sometimes sees the exit as a lost connection (status -1):
        # the plugin must say what lldb says.
        status = m.group(1)
        assert status == "0" or "lost connection" in text, "the program exited with %s: %s" % (status, text[-400:])
        text, _ = s.run(["go-heap"], may_end=True)
    finally:
        s.close()
    said = [l for l in text.splitlines()[1:] if l.strip() and not l.startswith("warning:")]
    assert said == ["error: no process: it exited with status %s" % status], "go-heap after the exit: %r" % said
    return said[0]


EXITED = re.compile(r"exited with status = (-?\d+)")


def check_asan(core_dir, live_dir):
    """A core and a live session with the AddressSanitizer plugin."""
    saved = dict(SESSION)
    SESSION.update(plugin=os.path.join(ASAN_BUILD, "lib", "libgoheap-lldb.so"), env=asan_env(ASAN_BUILD))
    try:
        # The runtime is really there: ASan says so at start when asked.
        out, _ = lldb(["version"], {"ASAN_OPTIONS": SESSION["env"]["ASAN_OPTIONS"] + ":verbosity=1"})
        assert "AddressSanitizer" in out, "the ASan runtime did not start in lldb: %s" % out[-300:]
        a = check_core_manifest(core_dir, False)
        b = check_core_manifest(core_dir, True)
        c = check_live(live_dir, tag="-asan")
    finally:
        SESSION.clear()
        SESSION.update(saved)
    return "no reports; core %s: %s; SB API: %s; live %s: %s" % (
        os.path.basename(core_dir), a.split(";")[0], b.split(";")[0], os.path.basename(live_dir), c)


def timed(cmd, env=None, n=3):
    ts = []
    for _ in range(n):
        t = time.time()
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=900,
                           env=lldb_env(env) if cmd[0] == LLDB else os.environ, stdin=subprocess.DEVNULL)
        ts.append(time.time() - t)
        assert p.returncode == 0, "%s: %s" % (" ".join(cmd), p.stderr[-300:])
    return statistics.median(ts)


def check_timing(d):
    """go-heap in lldb (lldb start, plugin and core load subtracted) against
    `goheap CORE heap` (whole process), medians of 3; printed, not checked."""
    exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
    base = [LLDB, "--no-lldbinit", "--batch", "-o", "plugin load " + PLUGIN, "-o", target_create(exe, core)]
    t_cli = timed([GOHEAP, "--exe", exe, core, "heap"])
    t0 = timed(base)
    t_mm = timed(base + ["-o", "go-heap"]) - t0
    t_sb = timed(base + ["-o", "go-heap"], {"GOHEAP_LLDB_SBAPI": "1"}) - t0
    p = subprocess.run([GOHEAP, "--exe", exe, core, "overview", "--json"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    ov = json.loads(p.stdout)
    return "%s (%.0f MB, %d objects): CLI heap %.2fs; lldb go-heap %.2fs mmapped, %.2fs SB API " \
        "(lldb start and core load %.2fs excluded)" % (d, os.path.getsize(core) / 1e6, ov["objects"], t_cli, t_mm,
                                                       t_sb, t0)


def check_other_arch():
    """Another architecture's cores (the arm64 variants, written by
    qemu-user), every release, read in place: every program's heap, paths,
    goroutines and retained sizes, and the demo's answers = the CLI's, on
    one lldb per core, and the sites program's heap profile; of the
    stripped builds the retained program, as for amd64. (The SB API path hands threads over as gh_thread, whose register
    set is amd64's: not run here.)"""
    for version, variant in corpus.matrix():
        if not variant or not corpus.emulator(variant):
            continue
        tag = corpus.tag(version, variant)
        stripped = corpus_variant.stripped(variant)
        skip, dirs = corpus.generate(version, variant, ["retained"] if stripped else None,
                                     out=os.path.join(BUILD, "corpus"))
        if skip:
            print("skip  %s: %s" % (tag, skip))
            continue
        for d in dirs:
            prog = os.path.basename(d)
            what = "heap, paths, goroutines%s%s" % (", retained sizes" if prog == "retained" else "",
                                                    ", CLI's answers" if prog == "demo" else "")
            run.check("%s %s core (mmapped, one lldb): %s = manifest" % (tag, prog, what),
                      check_core_session, d, not stripped)
            if prog == "sites":
                run.check("%s sites core (mmapped): the runtime's heap profile = manifest" % tag, check_core_sites,
                          d, False)


def main():
    if not os.path.exists(PLUGIN):
        print("SKIPPED: the LLDB plugin was not built")
        return corpus.SKIP
    if SESSION["env"]:
        print("sanitizer build: every lldb runs with LD_PRELOAD=%s" % SESSION["env"]["LD_PRELOAD"])
    run.check("bad sessions", check_bad_sessions)
    versions = corpus.versions()
    programs = corpus.programs()
    all_dirs = {}
    for i, version in enumerate(versions):
        # Every program on the newest release; two on each older one, in turn;
        # demo and stacks everywhere for the CLI and live checks.
        mine = programs if version == versions[-1] else \
            [programs[(2 * i) % len(programs)], programs[(2 * i + 1) % len(programs)]]
        live = programs if version in (versions[0], versions[-1]) else ["demo", "stacks"]
        skip, dirs = corpus.generate(version, "", sorted(set(mine) | set(live) | {"retained", "sites"}),
                                     out=os.path.join(BUILD, "corpus"))
        if skip:
            print("skip  %s: %s" % (version, skip))
            continue
        by = all_dirs[version] = {os.path.basename(p): p for p in dirs}
        for prog in mine:
            for sbapi in (False, True):
                run.check("%s %s core (%s): heap, paths, goroutines" % (version, prog, "SB API" if sbapi else "mmapped"),
                          check_core_manifest, by[prog], sbapi)
        # Retained sizes (corpus/retained) on every release.
        for sbapi in (False, True):
            run.check("%s retained core (%s): retained sizes = manifest" % (
                version, "SB API" if sbapi else "mmapped"), check_core_retained, by["retained"], sbapi)
        # The runtime's heap profile (corpus/sites) on every release.
        for sbapi in (False, True):
            run.check("%s sites core (%s): the runtime's heap profile = manifest" % (
                version, "SB API" if sbapi else "mmapped"), check_core_sites, by["sites"], sbapi)
        if version == versions[-1]:
            run.check("%s demo core: help, errors and go-bt as typed in lldb" % version, check_naming, by["demo"])
        if version in (versions[0], versions[-1]):
            run.check("%s demo core: expressions, lldb's registers and $0, goheap's own" % version,
                      check_expressions, by["demo"])
            run.check("%s stacks core: Go locals of any goroutine's frame with --frame" % version,
                      check_frame_locals, by["stacks"])
            run.check("%s bad inputs: one error line each, lldb goes on" % version, check_bad_inputs, by["demo"],
                      by["retained"])
        for sbapi in (False, True):
            run.check("%s demo core (%s): overview, breakdown, verify, whatis = CLI" % (
                version, "SB API" if sbapi else "mmapped"), check_core_cli, by["demo"], sbapi)
        # Live: demo and stacks on every release, every program on the oldest
        # and the newest.
        for prog in live:
            run.check("%s %s live, two stops" % (version, prog), check_live, by[prog])
        # A live process on this machine is read through /proc/PID/mem; the
        # SB API path (remote targets) is checked on the newest release.
        if version == versions[-1]:
            for prog in ("demo", "stacks"):
                run.check("%s %s live through the SB API, two stops" % (version, prog), check_live, by[prog],
                          {"GOHEAP_LLDB_SBAPI": "1"}, "-sbapi")
    # Retained sizes on every layout variant too (PIE, stripped, map and GC
    # experiments), read in place. Another architecture's variants are below.
    for version, variant in corpus.matrix():
        if not variant or corpus.emulator(variant) or "retained" not in corpus.selected_programs(variant, None):
            continue
        skip, dirs = corpus.generate(version, variant, ["retained"], out=os.path.join(BUILD, "corpus"))
        if skip:
            print("skip  %s: %s" % (corpus.tag(version, variant), skip))
            continue
        run.check("%s retained core (mmapped): retained sizes = manifest" % corpus.tag(version, variant),
                  check_core_retained, dirs[0], False, not corpus_variant.stripped(variant))
    check_other_arch()
    newest = all_dirs.get(versions[-1])
    if newest:
        run.check("%s demo live, after the exit" % versions[-1], check_exited, newest["demo"])
    if sanitized(BUILD):
        print("skip  AddressSanitizer check: this build is sanitized, every check above ran under ASan")
    elif not os.path.exists(os.path.join(ASAN_BUILD, "lib", "libgoheap-lldb.so")):
        print("skip  AddressSanitizer check: no %s/lib/libgoheap-lldb.so (configured with -DGOHEAP_LLDB_ASAN=OFF?)"
              % ASAN_BUILD)
    elif newest:
        run.check("AddressSanitizer plugin (%s)" % versions[-1], check_asan, newest["maps"], newest["stacks"])
    cores = [os.path.join(r, "") for r, _, f in os.walk(os.path.join(BUILD, "corpus"), followlinks=True)
             if "core" in f and "exe" in f]
    if cores:
        largest = max(cores, key=lambda r: os.path.getsize(os.path.join(r, "core"))).rstrip("/")
        run.check("timing, largest corpus core", check_timing, largest)
    perf = os.environ.get("GOHEAP_PERF_CORE_DIR")
    if perf:
        run.check("timing, %s" % perf, check_timing, perf)
    return run.summary()


if __name__ == "__main__":
    sys.exit(main())
