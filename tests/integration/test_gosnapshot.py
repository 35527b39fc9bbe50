#!/usr/bin/env python3
"""go/snapshot, the Go package that lets a program snapshot itself, with the
goheap of BUILD_DIR, on the oldest and the newest Go release of the corpus.

For each release (GOTOOLCHAIN=<release>):
- gofmt -l and go vet are clean (the package and its test program);
- go test -count=1 -v ./... with GOHEAP_BIN=BUILD_DIR/bin/goheap: a
  corpus-like program (testdata/heapserver, its manifest from
  corpus/manifest) serves snapshot.Handler on a loopback port; its cores,
  fetched plain, gzip-encoded and as a .gz file, three at once, give goheap's
  heap the manifest's counts and the program runs on; the test process
  snapshots itself with Write while goroutines allocate on GOMAXPROCS 4; a
  missing goheap, a refused ptrace and a process strace holds give errors
  that name the cause.
One line per test; each of them must pass (a skipped test fails here,
except TestTraced where strace is missing or may not attach).

Exit 77 (skip) when there is no `go` command or no goheap.

usage: test_gosnapshot.py BUILD_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from harness import check, record, summary  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
GOHEAP = os.path.join(BUILD, "bin", "goheap")
PKG = os.path.join(ROOT, "go", "snapshot")
SERVER = os.path.join(PKG, "testdata", "heapserver")
# TestTraced skips, saying why, where strace is missing or may not attach
# (Yama's ptrace_scope 1 for a user without CAP_SYS_PTRACE).
REQUIRED = ["TestHTTP", "TestNoGoheap", "TestRefused", "TestWriteSelf", "TestRefusalReasons",
            "TestFailureKinds", "TestAcceptsGzip"]


def run(cmd, env, cwd, timeout=900):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    assert p.returncode == 0, "%s: exit %d: %s" % (" ".join(cmd[:3]), p.returncode, (p.stderr or p.stdout)[-1500:])
    return p.stdout


def go_env(release):
    env = dict(os.environ)
    env.update({"GOTOOLCHAIN": release, "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0", "GOHEAP_BIN": GOHEAP,
                "GOHEAP_INDEX": "off"})
    return env


def gofmt(env):
    goroot = run(["go", "env", "GOROOT"], env, PKG).strip()
    fmt = os.path.join(goroot, "bin", "gofmt")
    out = run([fmt, "-l", "."], env, PKG)
    assert not out.strip(), "not gofmt-clean: " + " ".join(out.split())


def go_vet(env):
    run(["go", "vet", "./..."], env, PKG)
    run(["go", "vet", "."], env, SERVER)


def go_test(release, env):
    p = subprocess.run(["go", "test", "-count=1", "-v", "-json", "-timeout", "20m", "./..."], capture_output=True,
                       text=True, env=env, cwd=PKG, timeout=1500)
    status, output = {}, {}
    for line in p.stdout.splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        test = ev.get("Test")
        if not test:
            continue
        if ev.get("Action") == "output":
            output.setdefault(test.split("/")[0], []).append(ev.get("Output", ""))
        elif ev.get("Action") in ("pass", "fail", "skip"):
            status[test] = (ev["Action"], ev.get("Elapsed", 0))
    for test in sorted(status):
        st, elapsed = status[test]
        name = "%s go %s" % (release, test)
        if st == "pass":
            record(name, True)
            print("ok    %s  (%.2fs)" % (name, elapsed), flush=True)
        else:
            msgs = [l.strip() for l in output.get(test.split("/")[0], []) if re.match(r"\s+\w+_test\.go:\d+: ", l)]
            record(name, st == "skip" and test not in REQUIRED and "/" not in test)
            print("%s  %s: %s" % ("skip" if st == "skip" else "FAIL", name, "; ".join(msgs[:4]) or st), flush=True)

    def complete():
        assert p.returncode == 0, "go test exit %d: %s" % (p.returncode, p.stderr[-1500:])
        missing = [t for t in REQUIRED if status.get(t, ("missing",))[0] != "pass"]
        assert not missing, "not passed: " + ", ".join(missing)
        return "%d tests passed" % sum(1 for s in status.values() if s[0] == "pass")

    check("%s go test: every test ran and passed" % release, complete)


def main():
    if not shutil.which("go"):
        print("SKIPPED: no go command on PATH")
        return 77
    if not os.path.exists(GOHEAP):
        print("SKIPPED: no %s" % GOHEAP)
        return 77
    vs = corpus.versions()
    for release in sorted({vs[0], vs[-1]}):
        ok, why = corpus.toolchain(release)
        if not ok:
            print("skip  %s: %s" % (release, why), flush=True)
            continue
        env = go_env(release)
        check("%s gofmt -l" % release, gofmt, env)
        check("%s go vet" % release, go_vet, env)
        go_test(release, env)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
