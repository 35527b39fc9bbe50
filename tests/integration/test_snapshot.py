#!/usr/bin/env python3
"""goheap --pid PID snapshot OUT: an ELF core of a running Go process.

For the demo and the goroutines program on the oldest and newest Go release
of the corpus, the program runs with GOHEAP_HOLD=1: it prints its manifest
and then blocks reading its stdin, a plain running process. Then:

- `goheap --pid PID snapshot OUT --json` reports the pause, the threads and
  the file's size, apparent and on disk; the text form says the same;
- `goheap --exe EXE OUT heap --json`: every type the manifest counts has
  exactly that many live objects; `goroutines --json`: the user goroutines
  are the manifest's;
- gdb (`info threads`, `thread apply all bt`) and lldb (`thread list`,
  `bt all`) open the file and list every thread; the thread that runs the
  main goroutine (blocked in its read) unwinds to main.main;
- the process is not left traced, and runs on: closing its stdin makes it
  exit 0;
- the file takes no more disk than the kernel's core of the same process:
  another run is snapshotted, then aborted with GOTRACEBACK=crash (when the
  kernel's core_pattern writes cores in the working directory).

Free heap pages: left out of a snapshot (not of a --full one), and the
analysis (heap, user goroutines, paths to every sentinel) is identical JSON to a
--full snapshot's; it copies no more than with GOHEAP_SNAPSHOT_FREE=copy,
and less for at least one program.

Hostile: a process that does not exist, one that is not a Go program, and
one another tracer holds each give a one-line error and no file.

Safety (with strace, which delays goheap's first process_vm_readv by
seconds, so that goheap is caught in the middle of its copy with every
thread of the program stopped): goheap killed with SIGKILL there leaves the
program untraced, none of its threads stopped, and it runs on (closing its
stdin makes it exit 0); goheap interrupted there with SIGINT, SIGTERM or
SIGHUP resumes the program the same way, exits 128+signal saying so, and
leaves neither the file nor its temporary file behind.

usage: test_snapshot.py BUILD_DIR
"""
import json
import re
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from harness import check, summary  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
GOHEAP = os.path.join(BUILD, "bin", "goheap")
PROGRAMS = ["demo", "goroutines"]
ENV = dict(os.environ, GOHEAP_INDEX="off")


def run(cmd, timeout=300):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV, stdin=subprocess.DEVNULL)


def lldb():
    for name in ("lldb-19", "lldb"):
        if shutil.which(name):
            return name
    return None


def status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)


class Held:
    """A corpus program blocked after its manifest (GOHEAP_HOLD=1) until its
    stdin closes."""

    def __init__(self, d, tmp, crash=False):
        env = dict(os.environ, GOHEAP_HOLD="1")
        if crash:  # SIGABRT makes the kernel write its core
            env["GOTRACEBACK"] = "crash"
        self.p = subprocess.Popen([os.path.join(d, "exe")], cwd=tmp, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, env=env,
                                  preexec_fn=corpus._unlimited_core if crash else None)
        line = self.p.stdout.readline()
        assert line.startswith(b"{"), "no manifest: %r" % line[:200]
        self.manifest = json.loads(line)
        self.p.stdout.read()  # it closes its stdout once it holds
        self.pid = self.p.pid

    def finish(self):
        """Closes stdin; the exit status."""
        self.p.stdin.close()
        return self.p.wait(timeout=60)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def check_snapshot(d, tmp):
    exe = os.path.join(d, "exe")
    snap = os.path.join(tmp, "snap.core")
    held = Held(d, tmp)
    try:
        m = held.manifest
        p = run([GOHEAP, "--pid", str(held.pid), "snapshot", snap, "--json"])
        assert p.returncode == 0, "snapshot: %s" % p.stderr.strip()[-300:]
        st = json.loads(p.stdout)
        assert st["pause_ms"] > 0 and st["threads"] >= 1 and st["size"] == os.path.getsize(snap), st
        assert st["disk"] > 0 and st["unreadable"] == 0, st
        # the text form
        p = run([GOHEAP, "--pid", str(held.pid), "snapshot", os.path.join(tmp, "text.core")])
        assert p.returncode == 0 and "pause: " in p.stdout and "on disk" in p.stdout, p.stdout + p.stderr

        # goheap: the manifest's counts
        p = run([GOHEAP, "--exe", exe, snap, "heap", "--json"])
        assert p.returncode == 0, "heap: %s" % p.stderr.strip()[-300:]
        got = {t["type"]: t["count"] for t in json.loads(p.stdout)["types"]}
        bad = {t: (got.get(t, 0), n) for t, n in m["live"].items() if got.get(t, 0) != n}
        assert not bad, "live counts (snapshot, manifest) differ: %s" % bad
        p = run([GOHEAP, "--exe", exe, snap, "goroutines", "--json"])
        assert p.returncode == 0, "goroutines: %s" % p.stderr.strip()[-300:]
        gr = json.loads(p.stdout)
        assert gr["user"] == m["goroutines"], "%d user goroutines, the manifest says %d" % (gr["user"],
                                                                                           m["goroutines"])

        # gdb and lldb: every thread, and a backtrace in Go code
        threads = st["threads"]
        p = run(["gdb", "-batch", "-nx", "-iex", "set auto-load no", exe, snap, "-ex", "info threads", "-ex",
                 "thread apply all bt"])
        listed = [l for l in p.stdout.splitlines() if re.match(r"\*?\s*\d+\s+(Thread|LWP) ", l.strip())]
        assert len(listed) == threads, "gdb lists %d threads of %d: %s" % (len(listed), threads,
                                                                          (p.stdout + p.stderr)[-500:])
        frames = [l for l in p.stdout.splitlines() if l.startswith("#")]
        assert any(" main.main " in l for l in frames), "gdb: main.main on no thread: %s" % (p.stdout +
                                                                                             p.stderr)[-500:]
        lb = lldb()
        if lb:
            p = run([lb, exe, "-c", snap, "-b", "-o", "thread list", "-o", "bt all"])
            listed = [l for l in p.stdout.splitlines() if l.lstrip("* ").startswith("thread #") and "tid = " in l]
            assert len(listed) == threads, "lldb lists %d threads of %d: %s" % (len(listed), threads,
                                                                               (p.stdout + p.stderr)[-500:])
            frames = [l for l in p.stdout.splitlines() if "frame #" in l]
            assert any("`main.main " in l for l in frames), "lldb: main.main on no thread: %s" % (
                p.stdout + p.stderr)[-500:]

        # the process runs on
        s = status(held.pid)
        assert s["TracerPid"].strip() == "0", "still traced by %s" % s["TracerPid"].strip()
        rc = held.finish()
        assert rc == 0, "the program exited %d after the snapshot" % rc
        return "pause %.1f ms, %d threads, %.1f MiB on disk, %d live types and %d goroutines as the manifest" % (
            st["pause_ms"], threads, st["disk"] / 2**20, len(m["live"]), gr["user"])
    finally:
        held.kill()


def snap_json(pid, out, *extra, env=None):
    p = subprocess.run([GOHEAP, "--pid", str(pid), "snapshot", out, "--json"] + list(extra), capture_output=True,
                       text=True, timeout=300, env=env or ENV, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, "snapshot %s: %s" % (" ".join(extra), p.stderr.strip()[-300:])
    return json.loads(p.stdout)


saved = []  # bytes the free heap pages saved, per program


def user_goroutines(text):
    """goroutines --json without what changes while an idle program runs:
    the runtime's own goroutines (a scavenger, a GC worker may wake between
    two stops) and the clock."""
    d = json.loads(text)
    return (d["user"], [g for g in d["goroutines"] if not g["system"]])


def check_free_pages(d, tmp):
    """The heap's free pages (dead spans' pages no span in use covers) are
    left out: the analysis of the snapshot is the analysis of a --full one
    (heap, the user goroutines, and the paths to every sentinel, as JSON), and it
    copies no more than one that copies them (GOHEAP_SNAPSHOT_FREE=copy).
    The program is held and idle, its GC off: three stops see one heap."""
    exe = os.path.join(d, "exe")
    held = Held(d, tmp)
    try:
        cores = {k: os.path.join(tmp, "free-%s.core" % k) for k in ("skip", "copy", "full")}
        skip = snap_json(held.pid, cores["skip"])
        copy = snap_json(held.pid, cores["copy"], env=dict(ENV, GOHEAP_SNAPSHOT_FREE="copy"))
        snap_json(held.pid, cores["full"], "--full")
        cmds = [["heap", "--json"], ["goroutines", "--json"]]
        cmds += [["paths", s["addr"], "--json"] for s in held.manifest.get("sentinels") or []]
        for cmd in cmds:
            out = {}
            for k in ("skip", "full"):
                p = run([GOHEAP, "--exe", exe, cores[k]] + cmd)
                assert p.returncode == 0, "%s on the %s snapshot: %s" % (" ".join(cmd), k, p.stderr.strip()[-300:])
                out[k] = p.stdout
            if cmd[0] == "goroutines":  # the runtime's own goroutines may run between two stops
                out = {k: user_goroutines(v) for k, v in out.items()}
            assert out["skip"] == out["full"], "%s differs from a --full snapshot's:\n%s\n%s" % (
                " ".join(cmd), str(out["skip"])[:600], str(out["full"])[:600])
        assert skip["copied"] <= copy["copied"], "copied %d bytes, %d with the free pages" % (skip["copied"],
                                                                                               copy["copied"])
        saved.append(copy["copied"] - skip["copied"])
        assert held.finish() == 0
        return "%d commands as --full; copied %.2f MiB, %.2f MiB with the free pages" % (
            len(cmds), skip["copied"] / 2**20, copy["copied"] / 2**20)
    finally:
        held.kill()


def some_saved():
    assert any(saved), "no program had free heap pages left out: the check above tested nothing"
    return "%.2f MiB saved over %d snapshots" % (sum(saved) / 2**20, len(saved))


def check_size(d, tmp):
    """No larger on disk than the kernel's core of the same process: a
    snapshot, then SIGABRT with GOTRACEBACK=crash (a core of another run of
    the program may hold a few pages less: its threads and GC differ)."""
    here, why = corpus.kernel_writes_core_here()
    if not here:
        return "not compared: %s" % why
    cwd = tmp + "/kernel"
    os.makedirs(cwd, exist_ok=True)
    for n in os.listdir(cwd):
        os.remove(os.path.join(cwd, n))
    snap = os.path.join(tmp, "size.core")
    held = Held(d, cwd, crash=True)
    try:
        p = run([GOHEAP, "--pid", str(held.pid), "snapshot", snap])
        assert p.returncode == 0, "snapshot: %s" % p.stderr.strip()[-300:]
        held.p.send_signal(6)
        rc = held.p.wait(timeout=120)
        assert rc == -6, "SIGABRT: the program exited %d" % rc
    finally:
        held.kill()
    cores = [n for n in os.listdir(cwd) if n == "core" or n.startswith("core.")]
    assert cores, "the kernel wrote no core in %s" % cwd
    kernel = os.path.join(cwd, cores[0])
    kd, sd = os.stat(kernel).st_blocks * 512, os.stat(snap).st_blocks * 512
    assert sd <= kd, "the snapshot takes %d bytes on disk, the kernel's core %d" % (sd, kd)
    return "%.2f MiB on disk, the kernel's core %.2f MiB (apparent %.1f and %.1f MiB)" % (
        sd / 2**20, kd / 2**20, os.path.getsize(snap) / 2**20, os.path.getsize(kernel) / 2**20)


def one_line_error(cmd, want, out):
    p = run(cmd)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 1 and len(lines) == 1 and want in lines[0], "exit %d, stderr %r" % (p.returncode,
                                                                                             p.stderr)
    assert not os.path.exists(out), "%s was written" % out
    return lines[0]


def check_hostile(d, tmp):
    out = os.path.join(tmp, "bad.core")
    said = []
    # a process that is gone
    p = subprocess.Popen(["true"])
    p.wait()
    said.append(one_line_error([GOHEAP, "--pid", str(p.pid), "snapshot", out], "no process", out))
    # not a Go program
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        said.append(one_line_error([GOHEAP, "--pid", str(sleeper.pid), "snapshot", out], "not a Go program", out))
    finally:
        sleeper.kill()
        sleeper.wait()
    # a Go program another tracer holds: refused, naming it
    if shutil.which("strace"):
        held = Held(d, tmp)
        tracer = subprocess.Popen(["strace", "-o", "/dev/null", "-p", str(held.pid)], stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if status(held.pid)["TracerPid"].strip() != "0":
                    break
                time.sleep(0.05)
            said.append(one_line_error([GOHEAP, "--pid", str(held.pid), "snapshot", out], "strace", out))
        finally:
            tracer.terminate()
            tracer.wait()
            held.kill()
    return "; ".join(said)


def thread_states(pid):
    """Each thread's state letter (t: stopped by its tracer)."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                out[tid] = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            pass
    return out


def mid_copy(held, out):
    """goheap snapshotting held under strace, its first process_vm_readv
    delayed by 5 s: returns (strace's Popen, goheap's pid) once goheap
    traces the program and every thread of it is stopped."""
    p = subprocess.Popen(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=process_vm_readv", "-e",
                          "inject=process_vm_readv:delay_enter=5000000:when=1", GOHEAP, "--pid", str(held.pid),
                          "snapshot", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    deadline = time.time() + 60
    while time.time() < deadline:
        tracer = int(status(held.pid)["TracerPid"])
        states = thread_states(held.pid)
        if tracer and states and all(st == "t" for st in states.values()):
            # goheap's copier is held at its first read for 5 s: the pause
            # is under way. Its pid is the tracer's.
            return p, tracer
        if p.poll() is not None:
            raise AssertionError("goheap ended before it was caught: %s" % p.stderr.read()[-300:])
        time.sleep(0.005)
    p.kill()
    raise AssertionError("goheap never stopped the program")


def runs_on(held):
    """Not traced, no thread stopped, and it runs: closing its stdin ends
    its read and it exits 0."""
    for _ in range(200):  # the kernel detaches at once; thread states may lag a little
        states = thread_states(held.pid)
        if status(held.pid)["TracerPid"].strip() == "0" and all(st != "t" for st in states.values()):
            break
        time.sleep(0.01)
    assert status(held.pid)["TracerPid"].strip() == "0", "still traced by %s" % status(held.pid)["TracerPid"]
    stopped = [tid for tid, st in thread_states(held.pid).items() if st in "tT"]
    assert not stopped, "threads left stopped: %s" % stopped
    rc = held.finish()
    assert rc == 0, "the program exited %d after the snapshot" % rc
    return len(states)


def leftovers(out):
    d, base = os.path.dirname(out), os.path.basename(out)
    return [n for n in os.listdir(d) if n == base or n.startswith(base + ".")]


def check_kill(d, tmp):
    """SIGKILL to goheap in the middle of the copy: the kernel detaches the
    program's threads when their tracer dies, and they run on."""
    out = os.path.join(tmp, "killed.core")
    held = Held(d, tmp)
    try:
        p, gh = mid_copy(held, out)
        os.kill(gh, signal.SIGKILL)
        p.wait(timeout=60)
        n = runs_on(held)
        left = leftovers(out)
        return "%d threads resumed, the program exited 0 (left behind: %s, a SIGKILL cannot be cleaned up after)" % (
            n, ", ".join(left) or "nothing")
    finally:
        held.kill()


def check_interrupt(d, tmp, sig):
    """SIGINT (SIGTERM, SIGHUP) to goheap in the middle of the copy: it
    resumes the program, removes its file and says so."""
    out = os.path.join(tmp, "interrupted-%d.core" % sig)
    held = Held(d, tmp)
    try:
        p, gh = mid_copy(held, out)
        os.kill(gh, sig)
        _, err = p.communicate(timeout=120)
        assert p.returncode == 128 + sig, "goheap exited %d: %s" % (p.returncode, err.strip()[-300:])
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "snapshot interrupted" in lines[0] and "runs on" in lines[0], err
        left = leftovers(out)
        assert not left, "left behind: %s" % left
        n = runs_on(held)
        return "%s: %d threads resumed, no file left, %s" % (signal.Signals(sig).name, n, lines[0])
    finally:
        held.kill()


def main():
    if not os.path.exists(GOHEAP):
        print("SKIPPED: no %s" % GOHEAP)
        return 77
    if not shutil.which("gdb"):
        print("SKIPPED: no gdb")
        return 77
    vs = corpus.versions()
    tmp = tempfile.mkdtemp(prefix="goheap-snapshot-", dir=BUILD)
    try:
        demo = None
        for version in sorted({vs[0], vs[-1]}):
            skip, dirs = corpus.generate(version, "", PROGRAMS, out=os.path.join(BUILD, "corpus"))
            if skip:
                print("skip  %s: %s" % (version, skip), flush=True)
                continue
            for d in dirs:
                demo = demo or d
                check("%s %s: snapshot of the running program" % (version, os.path.basename(d)), check_snapshot, d,
                      tmp)
                check("%s %s: no larger than the kernel's core" % (version, os.path.basename(d)), check_size, d, tmp)
                check("%s %s: free heap pages left out, analysis as --full" % (version, os.path.basename(d)),
                      check_free_pages, d, tmp)
        if saved:
            check("free heap pages left out of some snapshot", some_saved)
        if demo:
            check("snapshot refused in one line (no process, not Go, traced)", check_hostile, demo, tmp)
            if shutil.which("strace"):
                check("goheap killed (SIGKILL) during the copy: the program runs on", check_kill, demo, tmp)
                for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                    check("goheap interrupted (%s) during the copy: resumed, no file" % sig.name, check_interrupt,
                          demo, tmp, sig)
            else:
                print("skip  goheap killed or interrupted during the copy: no strace to hold it there", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
