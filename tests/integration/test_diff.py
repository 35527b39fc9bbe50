#!/usr/bin/env python3
"""diff OTHER_CORE: the growth between two cores of one process, known by
construction, on every Go release of the corpus.

The demo program in live mode (GOHEAP_LIVE=1) stops twice at
main.checkpoint; between the stops it adds sessions (its manifest at each
stop says how many of each type are live). gdb takes a core at each stop
(gcore), then:

- `goheap --exe EXE stop1.core diff stop2.core --json`: every type the
  manifests count changes by exactly the manifests' difference, in count,
  and in bytes by that many slots of the type's size; no type both stops
  hold is listed as appeared or vanished; the global that holds the
  sessions (main.sessions) retains at least the new sessions' bytes more,
  and so does its map among the biggest retainers (the same object in
  both cores);
- `pprof` by type from each core, and `go tool pprof -top -diff_base`
  shows the payloads' growth.

usage: test_diff.py BUILD_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from harness import check, summary  # noqa: E402
from check_pprof import go  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
GOHEAP = os.path.join(BUILD, "bin", "goheap")


def two_cores(d, tmp):
    """Runs the demo to both checkpoints under gdb, a core at each.

    A core is taken only when the program stands at main.checkpoint's entry,
    named by the stop it passes, so a stop for any other reason (a signal, a
    spurious trap on a loaded machine) only continues the program and never
    yields a core taken at the wrong moment."""
    a, b = os.path.join(tmp, "stop1.core"), os.path.join(tmp, "stop2.core")
    out = os.path.join(tmp, "stdout.txt")
    exe = os.path.join(d, "exe")
    nm = subprocess.run(["nm", exe], capture_output=True, text=True).stdout
    entry = next(int(l.split()[0], 16) for l in nm.splitlines() if l.endswith(" main.checkpoint"))
    # At the function's entry the stop number is the first argument: RAX in
    # Go's register ABI. (Breakpoint commands cannot do this: gdb runs them
    # only after the script's next command has resumed the program.)
    script = os.path.join(tmp, "stops.gdb")
    with open(script, "w") as f:
        f.write("set pagination off\nset confirm off\nhandle SIGURG nostop noprint\n"
                "break *0x%x\nrun > %s\nset $stops = 0\n"
                "while $_isvoid($_exitcode) && $stops < 50\n"
                "  if $pc == 0x%x\n    eval \"gcore %s/stop%%d.core\", $rax\n  end\n"
                "  set $stops = $stops + 1\n  continue\nend\n" % (entry, out, entry, tmp))
    cmd = ["gdb", "-batch", "-nx", "-iex", "set auto-load no", "-x", script, exe]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=dict(os.environ, GOHEAP_LIVE="1"))
    said = (p.stdout + p.stderr)[-800:]
    assert os.path.exists(a) and os.path.exists(b), "gdb made no cores: %s" % said
    lines = [json.loads(l) for l in open(out) if l.startswith("{")]
    assert [(m["mode"], m["stop"]) for m in lines[:2]] == [("live", 1), ("live", 2)], "manifests: %r; gdb: %s" % (
        lines, said)
    return a, b, lines[0], lines[1]


def check_diff(d):
    tmp = tempfile.mkdtemp(prefix="goheap-diff-", dir=BUILD)
    try:
        a, b, m1, m2 = two_cores(d, tmp)
        env = dict(os.environ, GOHEAP_INDEX="off")
        p = subprocess.run([GOHEAP, "--exe", os.path.join(d, "exe"), a, "diff", b, "--json", "--top", "50"],
                           capture_output=True, text=True, timeout=600, env=env)
        assert p.returncode == 0, "diff: %s" % p.stderr[-400:]
        r = json.loads(p.stdout)
        rows = {t["type"]: t for t in r["types"]}
        grew = 0
        for t in sorted(set(m1["live"]) | set(m2["live"])):
            want = m2["live"].get(t, 0) - m1["live"].get(t, 0)
            row = rows.get(t, {"count_delta": 0, "bytes_delta": 0, "count_other": 0, "bytes_other": 0})
            assert row["count_delta"] == want, "%s: diff says %+d, the manifests %+d" % (t, row["count_delta"], want)
            if row["count_other"]:
                slot = row["bytes_other"] // row["count_other"]
                assert row["bytes_delta"] == want * slot, "%s: %+d bytes for %+d objects of %d" % (
                    t, row["bytes_delta"], want, slot)
                grew += max(0, row["bytes_delta"])
            if m1["live"].get(t) and m2["live"].get(t):
                assert t not in r["appeared"] and t not in r["vanished"], "%s listed as appeared or vanished" % t
        roots = {x["root"]: x for x in r["roots"]}
        g = roots.get("global main.sessions")
        assert g and g["retained_delta"] >= grew, "main.sessions retains %r more, the new objects are %d bytes" % (
            g, grew)
        maps = [x for x in r["retainers"] if x.get("retained_delta", 0) >= grew]
        assert maps, "no retainer present in both cores grew by %d" % grew
        # pprof's own diff of two exports
        pa, pb = os.path.join(tmp, "a.pb.gz"), os.path.join(tmp, "b.pb.gz")
        for core, f in ((a, pa), (b, pb)):
            q = subprocess.run([GOHEAP, "--exe", os.path.join(d, "exe"), core, "pprof", f], capture_output=True,
                               text=True, timeout=600, env=env)
            assert q.returncode == 0, "pprof: %s" % q.stderr[-300:]
        q = subprocess.run([go(), "tool", "pprof", "-top", "-diff_base", pa, pb], capture_output=True, text=True,
                           timeout=300)
        assert q.returncode == 0, "pprof -diff_base: %s" % q.stderr[-300:]
        line = next((l for l in q.stdout.splitlines() if l.rstrip().endswith(" main.Payload")), "")
        assert line and not line.split()[0].startswith("-"), "pprof -diff_base: main.Payload %r" % line
        return "%+d sessions, %+d bytes in main.sessions; pprof -diff_base: %s" % (
            rows["main.Session"]["count_delta"], g["retained_delta"], " ".join(line.split()[:2]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if not shutil.which("gdb"):
        print("SKIPPED: no gdb")
        return 77
    for version in corpus.versions():
        skip, dirs = corpus.generate(version, "", ["demo"], out=os.path.join(BUILD, "corpus"))
        if skip:
            print("skip  %s: %s" % (version, skip), flush=True)
            continue
        check("%s demo: diff of two stops = the manifests' growth" % version, check_diff, dirs[0])
    return summary()


if __name__ == "__main__":
    sys.exit(main())
