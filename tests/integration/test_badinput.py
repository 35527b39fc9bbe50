#!/usr/bin/env python3
"""Bad input: each gets its own one-line error, a non-zero exit, never a crash.

Inputs: random bytes, a truncated core, a core with another program's
executable, a non-Go program's core, a Go 1.21 program (unsupported), an
executable given as the core, a missing file; and the matrix lldb and gdb
run too (badinputs.py): a core of zeros, a core truncated before its span records, notes
that lie about their size, another program's executable, an allgs length
of 2^40, a pclntab with a bad magic, the executable's program header
patched (and, CLI only, its section headers), a span past its arena, spans overlapping, a span listed
twice, a specials list that cycles, a malloc header pointing outside the
module, a stack with inverted bounds, an arena index pointing into unmapped
memory. Each matrix command also runs on the clean demo core and must
answer there: the error is the damage's, not the command's.

A truncated core whose heap cannot be read, or one whose heap metadata is
refused as corrupt, refuses heap in one line, but overview still answers
(exit 0): the Go release, the executable, the target, and a Heap line saying
why there is no heap (JSON: null counts, heap_error).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import corpus  # noqa: E402
sys.path.insert(0, HERE)
import badinputs  # noqa: E402
from harness import check, record, results, summary  # noqa: E402,F401

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
GOHEAP = os.path.join(BUILD, "bin", "goheap")
WORK = os.path.join(BUILD, "badinput")


def expect_error(name, args, pattern, command="overview", env=None):
    p = subprocess.run([GOHEAP] + args + command.split(), capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, **(env or {})))
    lines = [l for l in p.stderr.splitlines() if not l.startswith("goheap: warning:")]
    ok = p.returncode == 1 and len(lines) == 1 and re.search(pattern, lines[0])
    detail = "exit %d, stderr %r" % (p.returncode, p.stderr.strip()[-300:])
    if p.returncode < 0:
        detail = "killed by %s" % signal.Signals(-p.returncode).name
    record(name, ok)
    print("%s  %s%s" % ("ok   " if ok else "FAIL ", name, "" if ok else ": " + detail), flush=True)


def truncated_overview(demo, t):
    args = [GOHEAP, "--exe", demo + "/exe", t, "overview"]
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr[-300:])
    assert "goheap: warning: core is truncated" in p.stderr, "no truncation warning: %r" % p.stderr
    assert re.search(r"^Go version +go1\.", p.stdout, re.M), p.stdout
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("Heap ")]
    assert line and "not readable, the core is truncated: " in line[0], p.stdout
    p = subprocess.run(args + ["--json"], capture_output=True, text=True, timeout=120)
    ov = json.loads(p.stdout)
    assert p.returncode == 0 and ov["objects"] is None and ov["arenas"] is None and ov["heap_error"], ov
    return line[0][:90]


def refused_overview(c):
    """overview answers on a core whose heap is refused, and says why."""
    args = [GOHEAP, "--exe", c.exe, c.core, "overview"]
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr[-300:])
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("Heap ")]
    assert line and re.search("refused: " + c.pattern, line[0]), p.stdout
    p = subprocess.run(args + ["--json"], capture_output=True, text=True, timeout=120)
    ov = json.loads(p.stdout)
    assert p.returncode == 0 and ov["objects"] is None and re.search(c.pattern, ov["heap_error"]), ov
    return line[0][:90]


def clean_answer(demo, command):
    p = subprocess.run([GOHEAP, "--exe", demo + "/exe", demo + "/core"] + command.split(), capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0 and not p.stderr.strip(), "exit %d: %s" % (p.returncode, p.stderr.strip()[-300:])
    return "exit 0"


def skip(name, why):
    print("skip  %s: %s" % (name, why), flush=True)


def native_core():
    """A core of /bin/sleep, a program that is not Go."""
    d = os.path.join(WORK, "sleep")
    os.makedirs(d, exist_ok=True)
    core = os.path.join(d, "core")
    if not os.path.exists(core):
        p = subprocess.Popen(["sh", "-c", "ulimit -c unlimited; exec sleep 30"], cwd=d)
        subprocess.run(["sleep", "0.3"])
        os.kill(p.pid, signal.SIGABRT)
        p.wait()
        for n in os.listdir(d):
            if n.startswith("core."):
                os.replace(os.path.join(d, n), core)
    return core if os.path.exists(core) else None


GO121 = """package main

import (
	"runtime/debug"
	"syscall"
)

var keep []*[64]byte

func main() {
	for i := 0; i < 100; i++ {
		keep = append(keep, new([64]byte))
	}
	debug.SetTraceback("crash")
	syscall.Kill(syscall.Getpid(), syscall.SIGABRT)
	select {}
}
"""


def go121_core():
    d = os.path.join(WORK, "go121")
    os.makedirs(d, exist_ok=True)
    exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
    if os.path.exists(core):
        return exe, core, None
    with open(os.path.join(d, "go.mod"), "w") as f:
        f.write("module old\n\ngo 1.21\n")
    with open(os.path.join(d, "main.go"), "w") as f:
        f.write(GO121)
    env = dict(os.environ, GOTOOLCHAIN="go1.21.13", CGO_ENABLED="0")
    b = subprocess.run(["go", "build", "-o", exe, "."], cwd=d, env=env, capture_output=True, text=True,
                       timeout=900)
    if b.returncode != 0:
        return None, None, "go1.21.13 unavailable: " + (b.stderr.strip().splitlines() or ["?"])[-1]
    subprocess.run(["sh", "-c", "ulimit -c unlimited; exec ./exe"], cwd=d, capture_output=True)
    for n in os.listdir(d):
        if n.startswith("core."):
            os.replace(os.path.join(d, n), core)
    return exe, core, None if os.path.exists(core) else "no core written"


def main():
    version = corpus.versions()[-1]
    skipped, dirs = corpus.generate(version, "", ["demo", "globals"], out=os.path.join(BUILD, "corpus"))
    if skipped:
        print("SKIPPED: %s" % skipped)
        return corpus.SKIP
    demo, glob = dirs
    os.makedirs(WORK, exist_ok=True)
    rnd = os.path.join(WORK, "random.core")
    with open(rnd, "wb") as f:
        f.write(os.urandom(1 << 20))
    expect_error("random bytes", [rnd], r"not an ELF file")
    expect_error("missing file", [os.path.join(WORK, "nonexistent")], r"cannot open|No such file")
    expect_error("executable given as the core", ["--exe", demo + "/exe", demo + "/exe"], r"not a core")
    # Cuts that leave no span record: at 5% and where the first one starts
    # (a fixed fraction past that may leave some, and goheap then answers
    # for those: test_truncated checks that).
    size = os.path.getsize(demo + "/core")
    records = badinputs.span_records_cut(demo + "/exe", demo + "/core")
    for keep in sorted({min(size // 20, records), records}):
        t = os.path.join(WORK, "truncated-%d.core" % keep)
        with open(demo + "/core", "rb") as src, open(t, "wb") as dst:
            dst.write(src.read(keep))
        what = ("core truncated before its span records (at %d%%)" % (100 * keep // size) if keep == records
                else "core truncated to 5%")
        expect_error(what + ": heap", ["--exe", demo + "/exe", t], r"not readable|truncated", "heap")
        check(what + ": overview says why there is no heap", truncated_overview, demo, t)
    # The memory cap: a command whose model would not fit says which, in one line.
    expect_error("memory limit of 4 MiB: heap", ["--exe", demo + "/exe", demo + "/core"],
                 r"^goheap: the (heap's page map|object graph) needs about .* of the memory limit of 4\.0 MiB",
                 "heap", {"GOHEAP_MEMORY_LIMIT": "4M", "GOHEAP_INDEX": "off"})
    check("GOHEAP_MEMORY_LIMIT=off: no limit", lambda: subprocess.run(
        [GOHEAP, "--exe", demo + "/exe", demo + "/core", "heap"], capture_output=True, timeout=120,
        env=dict(os.environ, GOHEAP_MEMORY_LIMIT="off", GOHEAP_INDEX="off"), check=True) and "heap answered")
    expect_error("another program's executable", ["--exe", glob + "/exe", demo + "/core"], r"does not match the core")
    # The matrix lldb and gdb run too (test_lldb.py, test_gdb.py): the same
    # files and the same errors.
    clean = set()
    matrix = badinputs.cases(demo, glob, os.path.join(WORK, "matrix"))
    matrix += badinputs.cli_cases(demo, os.path.join(WORK, "matrix"))
    for c in matrix:
        expect_error("matrix: %s: %s" % (c.name, c.command), ["--exe", c.exe, c.core], c.pattern, c.command)
        if c.command not in clean:
            clean.add(c.command)
            check("matrix: %s answers on the clean core" % c.command, clean_answer, demo, c.command)
    past = next(c for c in matrix if c.name.startswith("a span past its arena"))
    check("a heap refused as corrupt: overview says why", refused_overview, past)
    expect_error("a non-Go executable for a Go core", ["--exe", "/bin/true", demo + "/core"], r"does not match the core")
    nc = native_core()
    if nc:
        expect_error("a non-Go program's core", [nc], r"not a Go program")
    else:
        skip("a non-Go program's core", "the kernel wrote no core for sleep")
    exe, core, why = go121_core()
    if why:
        skip("Go 1.21 program", why)
    else:
        expect_error("Go 1.21 program", ["--exe", exe, core], r"unsupported Go version go1\.21\.\d+: goheap supports go1\.22")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
