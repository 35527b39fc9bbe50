#!/usr/bin/env python3
"""The gdb adapter: build/share/goheap/goheap.gdb sourced into `gdb -batch -nx`.

For the demo program of every release in corpus/versions:
  - core: every go- command (from `goheap help --names`) prints what the CLI
    prints on the same core, text and --json; the version is the manifest's;
    go-whatis of each sentinel finds a heap object; the second command reuses
    the session (goheap's GOHEAP_STATS line), and the helper ends with gdb.
  - live: gdb runs the demo to main.checkpoint (GOHEAP_LIVE=1), go-overview
    works on the stopped process, and after `continue` sees the 100 sessions
    the program adds.
Once: arguments with spaces, quotes, shell and printf metacharacters and
regular expressions reach goheap intact (its error messages echo them); help
and apropos; a gdb without a Go program gets a one-line error and goes on;
Ctrl-C stops a command and gdb goes on; the gcore fallback; commands gdb
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
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import corpus  # noqa: E402
from harness import check, record, results, summary  # noqa: E402,F401

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
    argv = ["gdb", "-batch", "-nx", "-iex", "set auto-load no", "-iex", "set pagination off"]
    for c in pre:
        argv += ["-iex", c]
    argv += ["-x", GDBFILE]
    for i, c in enumerate(cmds):
        argv += ["-ex", "echo @@%d\\n" % i, "-ex", c]
    argv += ["-ex", "echo @@end\\n"] + list(args)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                       env=env or ENV, stdin=subprocess.DEVNULL, cwd=TMP)
    outputs.append(p.stdout)
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
    p = subprocess.run([GOHEAP, "help", name], capture_output=True, text=True, timeout=60)
    m = re.search(r"^usage: (.*)$", p.stdout, re.M)
    return m.group(1).split()[1:] if m else []


def fill(name, sentinel):
    """Arguments for a command's required placeholders (its usage line)."""
    args = []
    # Optional parts are bracketed, possibly over several words ("[--top N]").
    for w in re.sub(r"\[[^\]]*\]", " ", " ".join(usage(name))).split():
        vals = {"ADDR": sentinel, "ID": "1", "N": "1", "REGEX": "."}
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
        args, has_json = fill(name, sentinel)
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


# After a long stop the goroutine may hit main.checkpoint again on another
# thread (async preemption re-runs the breakpoint): ask for stop 2.
TO_STOP2 = ["condition 1 stop == 2", "continue"]


def check_live(d, version):
    m = json.load(open(os.path.join(d, "manifest.json")))
    out, whole = live_gdb(d, ["go-overview --json", "go-breakdown --json"] + TO_STOP2 + ["go-overview --json"])
    assert "end" in out, "gdb did not get through: %s" % whole[-600:]
    o1, b1, o2 = json_of(body(out[2]), "stop 1"), json_of(body(out[3]), "stop 1 breakdown"), \
        json_of(body(out[6]), "stop 2")
    assert o1["go_version"] == m["go"], "go_version %r, manifest %r" % (o1["go_version"], m["go"])
    assert o1["target"].startswith("process "), o1["target"]
    assert b1["unexplained_differences"] == 0, "breakdown of the live process does not reconcile"
    assert o2["objects"] > o1["objects"], "objects %d at stop 1, %d at stop 2: the 100 new sessions are not " \
        "seen (%s; %s)" % (o1["objects"], o2["objects"], stats_of(out[6]),
                           re.findall(r"hit Breakpoint.*", whole))
    s2, s3 = stats_of(out[3]), stats_of(out[6])
    assert s2["reused"] == 1, "second command at the same stop rebuilt the session: %r" % s2
    assert s3["reused"] == 0 and s3["opens"] == 2, "after continue the session was not rebuilt: %r" % s3
    return "%d objects at stop 1, %d at stop 2" % (o1["objects"], o2["objects"])


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
    cmds = ["go-whatis %s" % typed for typed, _ in ARGS]
    cmds += ["go-breakdown --no-such-option", "go-whatis " + " ".join(str(i) for i in range(65)),
             "go-whatis 1 2 3 4 5 6 7 8 9 10 11 12 --the-13th"]
    out, whole = gdb(cmds, [os.path.join(d, "exe"), os.path.join(d, "core")])
    for i, (typed, want) in enumerate(ARGS):
        errs = [l for l in body(out[i]) if l.startswith("goheap: ")]
        assert errs == ['goheap: address: not a number: "%s"' % want], \
            "go-whatis %s: goheap said %r, expected it to see %r" % (typed, errs, want)
    assert "PWNED" not in whole.replace("echo PWNED", ""), "a shell ran the user's text"
    assert not os.path.exists(os.path.join(TMP, "pw")), "a shell ran the user's redirection"
    k = len(ARGS)
    assert body(out[k]) == ["goheap: breakdown: unknown option --no-such-option (see 'help breakdown')"], out[k]
    assert body(out[k + 1]) == ["goheap: gdb passes at most 64 arguments to a go- command"], out[k + 1]
    assert body(out[k + 2]) == ["goheap: whatis: unknown option --the-13th (see 'help whatis')"], out[k + 2]
    return "%d argument forms, the 13th argument arrives, 65 are refused" % len(ARGS)


def check_help(d):
    names = command_names()
    cmds = ["help go-%s" % n for n in names] + ["apropos go-"]
    out, _ = gdb(cmds)
    for i, n in enumerate(names):
        text = "\n".join(out[i])
        engine = subprocess.run([GOHEAP, "help", n], capture_output=True, text=True).stdout
        summary = engine.splitlines()[0].split(" — ", 1)[1]
        assert summary + " (goheap)" in text, "help go-%s lacks the summary: %r" % (n, text[:200])
        u = re.search(r"^usage: (.*)$", engine, re.M).group(1)
        assert "usage: go-" + u in text, "help go-%s lacks 'usage: go-%s'" % (n, u)
        for opt in re.findall(r"^  (--\S+)", engine, re.M):
            assert re.search(r"^  %s\s" % re.escape(opt), text, re.M), "help go-%s lacks option %s" % (n, opt)
    listed = "\n".join(out[len(names)])
    for n in names:
        assert re.search(r"\bgo-%s\b" % n, listed), "apropos go- does not list go-%s" % n
    return "%d commands" % len(names)


def check_no_go():
    out, whole = gdb(["go-overview", "echo next\\n", "starti", "go-overview --json", "echo next\\n"], ["/bin/true"])
    for i in (0, 3):
        errs = [l for l in body(out[i]) if l.strip() and not l.startswith("0x")]
        errs = [l for l in errs if l.startswith("goheap: ")]
        assert len(errs) == 1, "expected one error line, got %r" % out[i]
    assert out[1] == ["next"] and out[4] == ["next"], "gdb did not go on: %s" % whole[-400:]
    return "%s / %s" % (body(out[0])[0], [l for l in out[3] if l.startswith("goheap")][0])


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
    while not running_client(p.pid, "overview"):
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
    for version in corpus.versions():
        try:
            skip, dirs = corpus.generate(version, "", only=["demo"], out=os.path.join(BUILD, "corpus"))
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            check("%s corpus" % version, lambda: (_ for _ in ()).throw(AssertionError(str(e))))
            continue
        if skip:
            print("skip  %s: %s" % (version, skip))
            continue
        d = [x for x in dirs if os.path.basename(x) == "demo"][0]
        demos.append(d)
        check("%s core: every go- command equals the CLI" % version, check_core, d, version)
        check("%s live: stop, continue, stop" % version, check_live, d, version)
    if demos:
        d = demos[-1]
        check("arguments reach goheap intact", check_args, d)
        check("help go-..., apropos go-", check_help, d)
        check("Ctrl-C stops a command, gdb goes on", check_interrupt, d)
        check("gcore fallback (GOHEAP_GDB_GCORE=1)", check_gcore, d)
        check("existing gdb commands are left alone", check_not_overridden, d)
    check("gdb without a Go program: one-line error, gdb goes on", check_no_go)
    check("install: goheap.gdb calls the installed binary", check_install)
    check("helpers end with gdb; no sanitizer reports", check_helpers_gone)
    shutil.rmtree(TMP, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
