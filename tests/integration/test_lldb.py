#!/usr/bin/env python3
"""The LLDB plugin on cores and live processes of every Go release.

- Cores, through both memory paths (the engine's mmapped core backend, the
  default, and SBProcess::ReadMemory with GOHEAP_LLDB_SBAPI=1): go-overview,
  go-breakdown and go-whatis of every sentinel give the CLI's answers, and the
  breakdown reconciles with the runtime's statistics.
- Live: lldb launches the demo with GOHEAP_LIVE=1 and stops at main.checkpoint;
  the commands read the process through the SB API; after `continue` to the
  second stop they see the 200 objects the program added.
- A bad session (no process, a non-Go program) gives a one-line error and lldb
  goes on with the next command.
Prints `N passed, N failed`.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts"))
import corpus  # noqa: E402
import run  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(run.ROOT, "build"))
PLUGIN = os.path.join(BUILD, "lib", "libgoheap-lldb.so")
GOHEAP = os.path.join(BUILD, "bin", "goheap")
LLDB = os.environ.get("LLDB", "lldb-19")


def lldb(commands, env=None, batch=True):
    """Runs lldb; returns (output, JSON documents in order). batch: a command
    file with --batch, synchronous, which stops at the first error; otherwise
    the commands come on standard input as a person types them, and an error
    does not end the session (the bad-session check needs that)."""
    env = dict(os.environ, **(env or {}))
    script = "plugin load %s\n%s\nquit\n" % (PLUGIN, "\n".join(commands))
    if batch:
        path = os.path.join(BUILD, "lldb-test-commands.txt")
        with open(path, "w") as f:
            f.write(script)
        p = subprocess.run([LLDB, "--no-lldbinit", "--batch", "-s", path], capture_output=True, text=True,
                           timeout=600, env=env, stdin=subprocess.DEVNULL)
    else:
        p = subprocess.run([LLDB, "--no-lldbinit"], input=script, capture_output=True, text=True,
                           timeout=600, env=env)
    docs = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    return p.stdout + p.stderr, docs


def cli(core, *args):
    p = subprocess.run([GOHEAP, core] + list(args), capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def same_heap(a, b, what):
    for k in ("go_version", "arenas", "spans_in_use", "spans_manual", "objects", "object_bytes", "threads"):
        assert a[k] == b[k], "%s: %s is %r in lldb, %r in the CLI" % (what, k, a[k], b[k])


def check_core(d, sbapi):
    m = run.load_manifest(d)
    cmds = ["target create %s --core %s" % (os.path.join(d, "exe"), os.path.join(d, "core")),
            "go-overview --json", "go-breakdown --json", "go-verify --json"] + \
        ["go-whatis %s --json" % s["addr"] for s in m["sentinels"]]
    out, docs = lldb(cmds, {"GOHEAP_LLDB_SBAPI": "1"} if sbapi else None)
    assert len(docs) == 3 + len(m["sentinels"]), "lldb answered %d of %d commands: %s" % (
        len(docs), 3 + len(m["sentinels"]), out[-500:])
    vf = docs.pop(2)
    # Every pointer word of every object read the same way as the CLI reads them.
    assert vf == cli(os.path.join(d, "core"), "verify", "--json"), "verify differs from the CLI: %r" % vf
    core = os.path.join(d, "core")
    same_heap(docs[0], cli(core, "overview", "--json"), "overview")
    want = ("lldb process" if sbapi else "core ")
    assert docs[0]["target"].startswith(want), "target %r, expected %s" % (docs[0]["target"], want)
    bd = docs[1]
    assert bd["unexplained_differences"] == 0 and all(c["ok"] for c in bd["checks"]), bd["checks"]
    assert bd["classes"] == cli(core, "breakdown", "--json")["classes"], "breakdown differs from the CLI"
    for s, w in zip(m["sentinels"], docs[2:]):
        c = cli(core, "whatis", s["addr"], "--json")
        assert w["kind"] == "heap" and w["object"] == c["object"], "whatis %s: lldb %r, CLI %r" % (s["addr"], w, c)
    return "%d sentinels" % len(m["sentinels"])


def check_live(d):
    out_file = os.path.join(BUILD, "lldb-live-manifest.txt")
    if os.path.exists(out_file):
        os.remove(out_file)
    cmds = ["process handle SIGURG -n false -p true -s false",
            "target create %s" % os.path.join(d, "exe"),
            "breakpoint set -n main.checkpoint",
            "process launch -E GOHEAP_LIVE=1 -o %s -i /dev/null" % out_file,
            "go-overview --json", "go-breakdown --json"]
    # The program printed its stop-1 manifest before stopping: its sentinels
    # are checked in the same session, then the program goes on to stop 2.
    out, docs = lldb(cmds + ["process continue", "go-overview --json", "go-breakdown --json", "process kill"])
    assert len(docs) == 4, "expected 4 answers, got %d: %s" % (len(docs), out[-600:])
    o1, b1, o2, b2 = docs
    for b in (b1, b2):
        assert b["unexplained_differences"] == 0 and all(c["ok"] for c in b["checks"]), b["checks"]
    assert o1["target"].startswith("lldb process"), o1["target"]
    assert o1["go_version"] == run.load_manifest(d)["go"]
    assert (o1["objects"], o1["spans_in_use"]) != (o2["objects"], o2["spans_in_use"]), \
        "the heap model was not rebuilt after the process ran"
    # Sentinels: their addresses are known only once the program printed them,
    # so a second run asks for the first run's addresses; where the heap is at
    # the same place in both runs (often so before Go 1.25) they must
    # be heap objects.
    with open(out_file) as f:
        first = json.loads(f.readline())["sentinels"]
    out, docs = lldb(cmds[:4] + ["go-whatis %s --json" % s["addr"] for s in first] + ["process kill"])
    with open(out_file) as f:
        second = json.loads(f.readline())["sentinels"]
    if [s["addr"] for s in first] != [s["addr"] for s in second]:
        return "objects %d -> %d; sentinels not checked live: their addresses differ between runs" % (
            o1["objects"], o2["objects"])
    assert len(docs) == len(first), out[-400:]
    for s, w in zip(first, docs):
        assert w["kind"] == "heap", "live whatis %s: %r" % (s["addr"], w)
    return "objects %d -> %d, %d sentinels found live" % (o1["objects"], o2["objects"], len(docs))


def check_bad_sessions():
    out, _ = lldb(["go-overview", "version", "target create /bin/true", "process launch --stop-at-entry",
                   "go-overview", "version", "process kill"], batch=False)
    errors = [l for l in out.splitlines() if l.startswith("error:")]
    assert any("no process" in e for e in errors), out[-400:]
    assert any("not a Go program" in e for e in errors), out[-400:]
    assert out.count("lldb version") == 2, "lldb did not go on after the errors"
    return "2 one-line errors, lldb went on"


def main():
    if not os.path.exists(PLUGIN):
        print("SKIPPED: the LLDB plugin was not built")
        return corpus.SKIP
    run.check("bad sessions", check_bad_sessions)
    for version in corpus.versions():
        skip, dirs = corpus.generate(version, "", ["demo", "sizeclasses"], out=os.path.join(BUILD, "corpus"))
        if skip:
            print("skip  %s: %s" % (version, skip))
            continue
        d = dirs[0]
        for p in dirs:
            run.check("%s %s core (mmapped)" % (version, os.path.basename(p)), check_core, p, False)
            run.check("%s %s core (SB API reads)" % (version, os.path.basename(p)), check_core, p, True)
        run.check("%s demo live, two stops" % version, check_live, d)
    return run.summary()


if __name__ == "__main__":
    sys.exit(main())
