#!/usr/bin/env python3
"""The Go bindings (bindings/go) against an installed libgoheap.

- Installs BUILD_DIR into BUILD_DIR/gotest/prefix (`cmake --install`), and
  builds the cgo package through that prefix's goheap.pc only (no build-tree
  path), the way a Go developer uses it.
- Makes sure the corpus of the oldest and the newest Go release exists
  (scripts/corpus.py, cached under BUILD_DIR/corpus).
- gofmt -l and go vet ./... are clean.
- go test -count=1 -v ./... (as -json, the plain output in
  BUILD_DIR/gotest/go-test.log): one line per test (per core for the corpus
  test, whose subtests check live counts, sentinels and their paths,
  goroutines (sorted by id, user and entry frames, the program's labels,
  user frames and go statements), objects pending finalization, the memory
  profile's sites and allocation stacks, iteration, breakdown, commands
  against the manifests), and every core generated here was tested, not
  skipped; a stripped demo core of the newest release for the profile's
  ErrUnsupported.

Exit 77 (skip) when there is no `go` command, or one older than go1.22.

usage: test_gobindings.py BUILD_DIR
"""
import hashlib
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
WORK = os.path.join(BUILD, "gotest")
PREFIX = os.path.join(WORK, "prefix")
PKG = os.path.join(ROOT, "bindings", "go")
CORPUS = os.path.join(BUILD, "corpus")
SKIP = 77


def run(cmd, env=None, cwd=None, timeout=600):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    assert p.returncode == 0, "%s: exit %d: %s" % (" ".join(cmd[:3]), p.returncode, (p.stderr or p.stdout)[-1500:])
    return p.stdout


def go_version(go):
    """(major, minor) of the go command, with GOTOOLCHAIN=local."""
    out = run([go, "env", "GOVERSION"], env=dict(os.environ, GOTOOLCHAIN="local")).strip()
    m = re.match(r"go(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0), out


def install():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    run(["cmake", "--install", BUILD, "--prefix", PREFIX])
    for f in ["include/goheap/goheap.h", "lib/libgoheap.so.1", "lib/pkgconfig/goheap.pc"]:
        assert os.path.exists(os.path.join(PREFIX, f)), "not installed: " + f
    return PREFIX


def headers_hash():
    """The installed headers' hash: Go's build cache does not see headers
    outside the package, so a changed header must change the cgo flags."""
    h = hashlib.sha256()
    inc = os.path.join(PREFIX, "include", "goheap")
    for name in sorted(os.listdir(inc)):
        with open(os.path.join(inc, name), "rb") as f:
            h.update(name.encode() + b"\0" + f.read())
    return h.hexdigest()[:16]


def go_env(releases):
    env = dict(os.environ)
    for v in ("CPATH", "LIBRARY_PATH", "C_INCLUDE_PATH", "GOROOT_FINAL"):
        env.pop(v, None)
    lib = os.path.join(PREFIX, "lib")
    env.update({
        "PKG_CONFIG_PATH": os.path.join(lib, "pkgconfig"),
        "LD_LIBRARY_PATH": lib + (os.pathsep + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else ""),
        "CGO_ENABLED": "1",
        "CGO_CFLAGS": "-O2 -g -DGOHEAP_HEADERS_%s" % headers_hash(),
        "GOHEAP_CORPUS": CORPUS,
        "GOHEAP_RELEASES": ",".join(releases),
        "GOFLAGS": "-mod=mod",
        "GOTOOLCHAIN": "local",
    })
    return env


def pkgconfig(env):
    flags = run(["pkg-config", "--cflags", "--libs", "goheap"], env=env).split()
    for f in flags:
        if f[:2] in ("-I", "-L"):
            assert os.path.realpath(f[2:]).startswith(os.path.realpath(PREFIX) + os.sep), \
                "pkg-config points outside the prefix: %s" % f
    return " ".join(flags)


def gofmt(go, env):
    goroot = run([go, "env", "GOROOT"], env=env).strip()
    fmt = os.path.join(goroot, "bin", "gofmt")
    if not os.path.exists(fmt):
        fmt = shutil.which("gofmt")
    assert fmt, "no gofmt next to %s" % go
    out = run([fmt, "-l", "."], env=env, cwd=PKG)
    assert not out.strip(), "not gofmt-clean: " + " ".join(out.split())


def go_vet(go, env):
    run([go, "vet", "./..."], env=env, cwd=PKG, timeout=1200)


def go_test(go, env, cores):
    """Runs the tests, records one check per reported test, returns the set
    of tests that passed."""
    log_path = os.path.join(WORK, "go-test.log")
    p = subprocess.run([go, "test", "-count=1", "-v", "-json", "./..."], capture_output=True, text=True, env=env,
                       cwd=PKG, timeout=2400)
    status, elapsed, output, order, children = {}, {}, {}, [], set()
    stray = []
    with open(log_path, "w") as log:
        for line in p.stdout.splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                stray.append(line)
                log.write(line + "\n")
                continue
            test, action = ev.get("Test"), ev.get("Action")
            if action in ("output", "build-output"):
                log.write(ev.get("Output", ""))
                if test:
                    output.setdefault(test, []).append(ev.get("Output", ""))
                elif action == "build-output":
                    stray.append(ev.get("Output", "").rstrip())
                continue
            if not test:
                continue
            if action == "run":
                order.append(test)
                if "/" in test:
                    children.add(test.rsplit("/", 1)[0])
            elif action in ("pass", "fail", "skip"):
                status[test] = action
                elapsed[test] = ev.get("Elapsed", 0)
        log.write(p.stderr)

    def messages(test):
        """The test's own messages (file.go:N: ...) and its subtests', or
        else what a crash printed (panic, signal)."""
        out, crash = [], []
        for t in order:
            if t == test or t.startswith(test + "/"):
                for l in output.get(t, []):
                    if re.match(r"\s+\w+_test\.go:\d+: ", l):
                        out.append(l.strip())
                    elif re.match(r"(panic: |fatal error: |SIGSEGV|SIGABRT|signal arrived|PC=)", l):
                        crash.append(l.strip())
        return out or crash

    # One line per test: a corpus core (TestCorpus/RELEASE/PROGRAM) or a
    # test without subtests.
    passed = set()
    for test in order:
        depth = test.count("/") + 1
        if not (depth == 3 or (test not in children and depth < 3)):
            continue
        st = status.get(test, "fail")
        name = "go " + test
        if st == "pass":
            record(name, True)
            passed.add(test)
            print("ok    %s  (%.2fs)" % (name, elapsed.get(test, 0)), flush=True)
        elif st == "skip":
            why = messages(test)
            print("skip  %s: %s" % (name, why[0] if why else "skipped"), flush=True)
        else:
            record(name, False)
            msgs = messages(test) or ["no message (status %s); see %s" % (st, log_path)]
            print("FAIL  %s: %s" % (name, "; ".join(msgs[:6]) + (" ..." if len(msgs) > 6 else "")), flush=True)

    def exit_ok():
        tail = [l for l in stray[-20:] + p.stderr.strip().splitlines()[-20:] if l.strip()]
        assert p.returncode == 0, "go test exit %d (see %s)%s" % (p.returncode, log_path,
                                                                    "".join("\n    " + l for l in tail))
        return "%d tests passed, log %s" % (sum(1 for s in status.values() if s == "pass"), log_path)

    check("go test ./... exit status", exit_ok)

    def all_cores():
        missing = [t for t in cores if t not in passed]
        assert not missing, "cores not tested or failed: " + ", ".join(missing)
        return "%d cores" % len(cores)

    check("go: every generated core tested", all_cores)


def main():
    go = shutil.which("go")
    if not go:
        print("SKIPPED: no go command on PATH")
        return SKIP
    (major, minor), text = go_version(go)
    if (major, minor) < (1, 22):
        print("SKIPPED: %s is older than go1.22, which bindings/go needs" % text)
        return SKIP
    print("using %s (%s)" % (go, text), flush=True)

    check("install", install)
    if not os.path.exists(os.path.join(PREFIX, "lib", "pkgconfig", "goheap.pc")):
        return summary()

    versions = corpus.versions()
    releases = [versions[0], versions[-1]]
    cores = []
    for version in releases:
        try:
            skip, dirs = corpus.generate(version, "", None, out=CORPUS)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            record("corpus " + version, False)
            print("FAIL  corpus %s: %s" % (version, e), flush=True)
            continue
        if skip:
            print("skip  corpus %s: %s" % (version, skip), flush=True)
            continue
        cores += ["TestCorpus/%s/%s" % (version, os.path.basename(d)) for d in dirs]
    # A stripped binary's demo, for the error paths of what needs symbols
    # (TestStrippedProfile).
    try:
        corpus.generate(releases[-1], "stripped", ["demo"], out=CORPUS)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        print("skip  corpus %s-stripped: %s" % (releases[-1], e), flush=True)

    env = go_env(releases)
    check("pkg-config goheap from the prefix", pkgconfig, env)
    check("gofmt -l", gofmt, go, env)
    check("go vet ./...", go_vet, go, env)
    go_test(go, env, cores)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
