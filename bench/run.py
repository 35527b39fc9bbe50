#!/usr/bin/env python3
"""goheap's benchmark: heaps built like a service's (bench/service), at a few
million objects each, timed phase by phase against one sequential read of
the same core.

    bench/run.py [--sizes 1,6,25,50] [--build-dir build] [--go go1.27.4]
                 [--runs 1] [--debuggers] [--live] [--json out.json]

For each size (millions of objects) it builds the program with the newest
Go release of corpus/versions, dumps its core under BUILD/bench/<items>/
(cached: the cores are GiBs, never committed), and reports:

- the core's size and one warm sequential read of it (`cat core
  >/dev/null`, the second of two) in the same run;
- `goheap --stats CORE heap`: wall and CPU per phase (open, heap, roots,
  edges, mark, types, command), peak RSS, ns and bytes per object, and the
  ratio to the sequential read;
- `paths ADDR` after `heap` in one session, and a one-shot `paths`;
- a one-shot `top` (the dominator tree's phase, its peak RSS and what it
  adds per object over heap's) and a one-shot `heap --retained`;
- with --debuggers, the first go-heap in lldb and in gdb on the same core;
- the yardstick: the Go runtime's own collector on the same heap (the
  program run with SERVICE_GCREF=1, best of three forced collections, wall
  and CPU on every core). It marks with every type known exactly and
  nothing to name; goheap's `heap` is compared with it;
- with --live, the same program held live (SERVICE_HOLD=1, the same item
  count) and read in place: `goheap --pid PID heap`, and with --debuggers
  lldb's and gdb's attach and first go-heap; each against the core's heap
  of the same run. The live counts must equal what the program built too.

The counts goheap gives for the program's own types must equal what it
built (main.Item, main.Node, main.Session): a fast wrong answer fails.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OBJECTS_PER_ITEM = 5.68  # measured: objects in the heap per item the program makes


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def newest_go():
    with open(os.path.join(ROOT, "corpus", "versions")) as f:
        vs = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    return vs[-1]


def build(go, out):
    exe = os.path.join(out, "service")
    env = dict(os.environ, GOTOOLCHAIN=go, GOFLAGS="-mod=mod")
    subprocess.run(["go", "build", "-o", exe, "./service"], cwd=os.path.join(ROOT, "bench"), env=env, check=True)
    return exe


def source_key(items):
    """What a core is made from: the program's source and the Go release."""
    h = hashlib.sha256()
    for root, _, files in sorted(os.walk(os.path.join(ROOT, "bench", "service"))):
        for f in sorted(files):
            h.update(open(os.path.join(root, f), "rb").read())
    h.update(("%s %d" % (GO, items)).encode())
    return h.hexdigest()


def dump(exe, items, out):
    """The core of the program at this many items (cached by the binary)."""
    d = os.path.join(out, str(items))
    core, man, stamp = (os.path.join(d, n) for n in ("core", "manifest.json", "stamp"))
    key = source_key(items)
    if os.path.exists(core) and os.path.exists(stamp) and open(stamp).read() == key:
        return d
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    shutil.copy(exe, os.path.join(d, "exe"))
    log("bench: dumping the core of %d items" % items)
    with open(man, "w") as f:
        p = subprocess.run(["bash", "-c", "ulimit -c unlimited; exec ./exe"], cwd=d, stdout=f,
                           stderr=subprocess.DEVNULL, env=dict(os.environ, SERVICE_ITEMS=str(items)))
    if not os.path.exists(core):
        cores = [n for n in os.listdir(d) if n.startswith("core")]
        if not cores:
            sys.exit("bench: no core written (exit %d); core_pattern must write 'core' in the cwd" % p.returncode)
        os.rename(os.path.join(d, cores[0]), core)
    open(stamp, "w").write(key)
    return d


def seq_read(core):
    """Seconds of one warm sequential read of the core."""
    best = None
    for _ in range(2):
        t0 = time.monotonic()
        with open(core, "rb", buffering=0) as f:
            buf = bytearray(1 << 22)
            while f.readinto(buf):
                pass
        best = time.monotonic() - t0
    return best


def timed(cmd, stdin=None, index=False):
    """(stdout, stderr, wall s, peak RSS bytes) of a command; with index, the
    graph index in the bench's own directory is used (else never)."""
    env = dict(os.environ, GOHEAP_INDEX="always" if index else "off",
               GOHEAP_INDEX_DIR=os.path.join(BUILD, "bench", "index"))
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "@@RSS %M"] + cmd, input=stdin, capture_output=True, text=True,
                       env=env)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit("bench: %s failed: %s" % (" ".join(cmd), p.stderr[-2000:]))
    m = re.search(r"@@RSS (\d+)", p.stderr)
    return p.stdout, p.stderr, wall, int(m.group(1)) * 1024 if m else 0


def stats(stderr):
    out = {}
    for line in stderr.splitlines():
        m = re.match(r"goheap: (\w+)\s+([\d.]+)\s+([\d.]+)$", line)
        if m and m.group(1) != "phase":
            out[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    return out


def gc_reference(d):
    """The runtime's own collector on the same heap: best of three forced
    collections (wall s, its CPU s), the objects it held."""
    man = json.load(open(os.path.join(d, "manifest.json")))
    p = subprocess.run([os.path.join(d, "exe")], capture_output=True, text=True, check=True,
                       env=dict(os.environ, SERVICE_GCREF="1", SERVICE_ITEMS=str(man["items"])))
    gc = json.loads(p.stdout.splitlines()[-1])
    best = min(range(len(gc["gc_wall_s"])), key=lambda i: gc["gc_wall_s"][i])
    return {"gc_wall_s": gc["gc_wall_s"][best], "gc_cpu_s": gc["gc_cpu_s"][best], "gc_objects": gc["objects"],
            "gc_procs": gc["gomaxprocs"]}


def measure(goheap, d, debuggers):
    core, exe = os.path.join(d, "core"), os.path.join(d, "exe")
    man = json.load(open(os.path.join(d, "manifest.json")))
    r = {"items": man["items"], "core_bytes": os.path.getsize(core), "go": man["go"]}
    r["seq_read_s"] = seq_read(core)
    out, err, wall, rss = timed([goheap, "--stats", "--exe", exe, core, "heap", "--json"])
    heap = json.loads(out)
    got = {t["type"]: t["count"] for t in heap["types"]}
    for t, n in man["live"].items():
        if got.get(t) != n:
            sys.exit("bench: %s: goheap counts %s live, the program made %d" % (t, got.get(t), n))
    r["objects"] = heap["objects"]
    r["heap_s"], r["rss"], r["phases"] = wall, rss, stats(err)
    r["ns_per_object"] = 1e9 * wall / heap["objects"]
    r["rss_per_object"] = rss / heap["objects"]
    r["over_core_per_object"] = (rss - r["core_bytes"]) / heap["objects"]
    r["x_seq_read"] = wall / r["seq_read_s"]
    r.update(gc_reference(d))
    objs = json.loads(subprocess.run([goheap, "--exe", exe, core, "objects", "--type", "^main.Item$", "--limit", "1",
                                      "--json"], capture_output=True, text=True, check=True).stdout)
    addr = objs["objects"][0]["addr"]
    # paths after heap in one session: the prompt times nothing itself, so
    # the session's command phase says what the later commands took; 20 of
    # them, so that the run-to-run noise of heap's own command is divided.
    n = 20
    _, err2, _, _ = timed([goheap, "--stats", "--exe", exe, core], stdin="heap --json\n")
    _, err3, _, _ = timed([goheap, "--stats", "--exe", exe, core],
                          stdin="heap --json\n" + ("paths %s --json\n" % addr) * n)
    r["paths_after_heap_s"] = max(0.0, (stats(err3)["command"][0] - stats(err2)["command"][0]) / n)
    _, _, r["paths_oneshot_s"], _ = timed([goheap, "--exe", exe, core, "paths", addr, "--json"])
    # The graph index: saved by a first run, loaded by the next ones, which
    # must answer the same.
    shutil.rmtree(os.path.join(BUILD, "bench", "index"), ignore_errors=True)
    _, err, r["index_save_s"], _ = timed([goheap, "--stats", "--exe", exe, core, "heap", "--json"], index=True)
    r["index_save_phase_s"] = stats(err)["index"][0]
    r["index_bytes"] = sum(os.path.getsize(os.path.join(BUILD, "bench", "index", f))
                           for f in os.listdir(os.path.join(BUILD, "bench", "index")))
    out2, err, r["index_heap_s"], r["index_rss"] = timed([goheap, "--stats", "--exe", exe, core, "heap", "--json"],
                                                          index=True)
    if "goheap: index: loaded" not in err or json.loads(out2) != heap:
        sys.exit("bench: heap from the index: not loaded or not the same answer: %s" % err[-500:])
    r["index_load_phase_s"] = stats(err)["index"][0]
    _, _, r["index_paths_s"], _ = timed([goheap, "--exe", exe, core, "paths", addr, "--json"], index=True)
    # The dominator tree beside it: built and saved by the first top after
    # the graph was loaded, loaded by the next.
    out3, err, r["index_top_save_s"], _ = timed([goheap, "--stats", "--exe", exe, core, "top", "--json"], index=True)
    out4, err4, r["index_top_s"], r["index_top_rss"] = timed([goheap, "--stats", "--exe", exe, core, "top", "--json"],
                                                             index=True)
    if "dominators saved" not in err or "dominators loaded" not in err4 or out3 != out4:
        sys.exit("bench: top from the index: not saved, not loaded or not the same answer: %s" % err4[-500:])
    # What holds the memory: the dominator tree, built by a one-shot top,
    # then heap --retained (every type's retained size) in one more run.
    out, err, r["top_s"], r["top_rss"] = timed([goheap, "--stats", "--exe", exe, core, "top", "--limit", "10",
                                                "--json"])
    top = json.loads(out)
    if top["live_bytes"] != heap["bytes"] or not top["retainers"]:
        sys.exit("bench: top disagrees with heap on the live bytes, or found no retainer")
    r["dominators"] = stats(err)["dominators"]
    r["dom_extra_per_object"] = (r["top_rss"] - rss) / heap["objects"]
    out, err, r["heap_retained_s"], _ = timed([goheap, "--stats", "--exe", exe, core, "heap", "--retained",
                                               "--json"])
    rows = json.loads(out)["types"]
    r["types_exact"] = sum(1 for t in rows if "retained_bytes" in t)
    r["types_sized"] = sum(1 for t in rows if "retained_bytes" in t or "retained_bytes_min" in t)
    if debuggers:
        r.update(debugger_times(exe, core))
        r.update({k + "_index": v for k, v in debugger_times(exe, core, index=True).items()})
    return r


def debugger_times(exe, core, index=False):
    out = {}
    plugin = os.path.join(BUILD, "lib", "libgoheap-lldb.so")
    lldb = shutil.which(os.environ.get("LLDB", "lldb-19")) or shutil.which("lldb")
    if lldb and os.path.exists(plugin):
        _, _, out["lldb_s"], _ = timed([lldb, "--batch", "--no-lldbinit", "-o", "plugin load " + plugin,
                                        "-o", "target create %s --core %s" % (exe, core), "-o", "go-heap --top 1"],
                                       index=index)
    gdbfile = os.path.join(BUILD, "share", "goheap", "goheap.gdb")
    if shutil.which("gdb") and os.path.exists(gdbfile):
        _, _, out["gdb_s"], _ = timed(["gdb", "-batch", "-nx", "-ex", "source " + gdbfile, "-ex", "file " + exe,
                                       "-ex", "core-file " + core, "-ex", "go-heap --top 1"], index=index)
    return out


def live_times(goheap, d, debuggers):
    """The same program held live at the same item count: goheap --pid, and
    attach plus the first go-heap in lldb and gdb; the live counts checked
    against what it printed."""
    exe = os.path.join(d, "exe")
    man = json.load(open(os.path.join(d, "manifest.json")))
    p = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=dict(os.environ, SERVICE_HOLD="1", SERVICE_ITEMS=str(man["items"])))
    out = {}
    try:
        held = json.loads(p.stdout.readline())  # printed once the heap is built
        res, err, out["live_s"], out["live_rss"] = timed([goheap, "--stats", "--pid", str(p.pid), "heap", "--json"])
        got = {t["type"]: t["count"] for t in json.loads(res)["types"]}
        for t, n in held["live"].items():
            if got.get(t) != n:
                sys.exit("bench: live %s: goheap counts %s live, the program made %d" % (t, got.get(t), n))
        out["live_phases"] = stats(err)
        if debuggers:
            plugin = os.path.join(BUILD, "lib", "libgoheap-lldb.so")
            lldb = shutil.which(os.environ.get("LLDB", "lldb-19")) or shutil.which("lldb")
            if lldb and os.path.exists(plugin):
                _, _, out["live_lldb_s"], _ = timed([lldb, "--batch", "--no-lldbinit", "-o", "plugin load " + plugin,
                                                     "-o", "process attach --pid %d" % p.pid, "-o", "go-heap --top 1",
                                                     "-o", "process detach"])
            gdbfile = os.path.join(BUILD, "share", "goheap", "goheap.gdb")
            if shutil.which("gdb") and os.path.exists(gdbfile):
                _, _, out["live_gdb_s"], _ = timed(["gdb", "-batch", "-nx", "-ex", "source " + gdbfile,
                                                    "-ex", "attach %d" % p.pid, "-ex", "go-heap --top 1",
                                                    "-ex", "detach"])
    finally:
        p.stdin.close()
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return out


def table(results):
    phases = ["open", "heap", "roots", "edges", "mark", "types", "index", "command"]
    lines = ["| objects | core | seq. read | goheap heap | × read | ns/object | peak RSS | RSS − core per object | "
             + " | ".join(phases) + " | paths after heap | one-shot paths |" + (" lldb | gdb |" if any(
                 "lldb_s" in r for r in results) else ""),
             "|" + "---|" * (10 + len(phases) + (2 if any("lldb_s" in r for r in results) else 0))]
    for r in results:
        ph = " | ".join("%.2f / %.2f" % r["phases"].get(p, (0, 0)) for p in phases)
        row = "| %.1f M | %.2f GiB | %.2f s | %.2f s | %.1f× | %.0f | %.2f GiB | %.1f B | %s | %.3f s | %.2f s |" % (
            r["objects"] / 1e6, r["core_bytes"] / 2**30, r["seq_read_s"], r["heap_s"], r["x_seq_read"],
            r["ns_per_object"], r["rss"] / 2**30, r["over_core_per_object"], ph, r["paths_after_heap_s"],
            r["paths_oneshot_s"])
        if "lldb_s" in r or "gdb_s" in r:
            row += " %.2f s | %.2f s |" % (r.get("lldb_s", 0), r.get("gdb_s", 0))
        lines.append(row)
    lines += ["", "| objects | seq. read | runtime GC: wall / CPU | GC CPU ns/object | GC × read | goheap heap: wall / "
              "CPU | goheap × GC wall | goheap CPU × GC CPU |", "|" + "---|" * 8]
    for r in results:
        cpu = r["phases"].get("total", (r["heap_s"], r["heap_s"]))[1]
        lines.append("| %.1f M | %.2f s | %.2f / %.2f s | %.0f | %.1f× | %.2f / %.2f s | %.1f× | %.1f× |" % (
            r["objects"] / 1e6, r["seq_read_s"], r["gc_wall_s"], r["gc_cpu_s"], 1e9 * r["gc_cpu_s"] / r["gc_objects"],
            r["gc_wall_s"] / r["seq_read_s"], r["heap_s"], cpu, r["heap_s"] / r["gc_wall_s"],
            cpu / r["gc_cpu_s"]))
    lines += ["", "| objects | heap, saving the index | index file | heap from the index | its peak RSS | one-shot paths "
              "from the index | top, saving the tree | top from the index | lldb from the index | gdb from the index |",
              "|" + "---|" * 10]
    for r in results:
        lines.append("| %.1f M | %.2f s (save %.2f s) | %.0f MiB | %.2f s (load %.2f s) | %.0f MiB | %.2f s | %.2f s | "
                     "%.2f s | %s | %s |" % (
            r["objects"] / 1e6, r["index_save_s"], r["index_save_phase_s"], r["index_bytes"] / 2**20,
            r["index_heap_s"], r["index_load_phase_s"], r["index_rss"] / 2**20, r["index_paths_s"],
            r["index_top_save_s"], r["index_top_s"],
            "%.2f s" % r["lldb_s_index"] if "lldb_s_index" in r else "-",
            "%.2f s" % r["gdb_s_index"] if "gdb_s_index" in r else "-"))
    if any("live_s" in r for r in results):
        lines += ["", "| objects | CLI: core | live (× core) | lldb: core | attach, live (× core) | gdb: core | "
                  "attach, live (× core) |", "|" + "---|" * 7]
        for r in results:
            if "live_s" not in r:
                continue
            cols = ["%.2f s | %.2f s (%.2f×)" % (r[c], r[k], r[k] / r[c]) if k in r and c in r else "- | -"
                    for c, k in (("heap_s", "live_s"), ("lldb_s", "live_lldb_s"), ("gdb_s", "live_gdb_s"))]
            lines.append("| %.1f M | %s |" % (r["objects"] / 1e6, " | ".join(cols)))
    lines += ["", "| objects | dominator tree (wall / cpu) | × heap | one-shot top | its peak RSS | RSS above heap's, "
              "per object | one-shot heap --retained | types sized exactly |", "|" + "---|" * 8]
    for r in results:
        lines.append("| %.1f M | %.2f / %.2f s | %.2f× | %.2f s | %.2f GiB | %.1f B | %.2f s | %d of %d |" % (
            r["objects"] / 1e6, r["dominators"][0], r["dominators"][1], r["dominators"][0] / r["heap_s"], r["top_s"],
            r["top_rss"] / 2**30, r["dom_extra_per_object"], r["heap_retained_s"], r["types_exact"],
            r["types_sized"]))
    return "\n".join(lines)


def main():
    global BUILD
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1,6,25,50", help="millions of objects")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--go", default=newest_go())
    ap.add_argument("--debuggers", action="store_true")
    ap.add_argument("--live", action="store_true", help="also the same program held live")
    ap.add_argument("--json", help="write the results here too")
    a = ap.parse_args()
    BUILD = os.path.abspath(a.build_dir)
    os.environ["GOHEAP_INDEX"] = "off"  # what is timed is computed, except where the index is measured
    goheap = os.path.join(BUILD, "bin", "goheap")
    out = os.path.join(BUILD, "bench")
    os.makedirs(out, exist_ok=True)
    global GO
    GO = a.go
    exe = build(a.go, out)
    results = []
    for s in a.sizes.split(","):
        items = int(float(s) * 1e6 / OBJECTS_PER_ITEM)
        d = dump(exe, items, out)
        log("bench: measuring %s M objects" % s)
        results.append(measure(goheap, d, a.debuggers))
        if a.live:
            results[-1].update(live_times(goheap, d, a.debuggers))
        log(json.dumps(results[-1]))
    machine = subprocess.run(["bash", "-c", "lscpu | sed -n 's/Model name: *//p'; nproc; free -g | awk '/Mem/{print $2\" GiB\"}'"],
                             capture_output=True, text=True).stdout.split("\n")
    print("machine: %s, %s cores, %s; goheap %s" % (machine[0].strip(), machine[1].strip(), machine[2].strip(),
                                                    subprocess.run([goheap, "--version"], capture_output=True,
                                                                   text=True).stdout.strip()))
    print(table(results))
    if a.json:
        json.dump(results, open(a.json, "w"), indent=1)


BUILD = None
GO = None
if __name__ == "__main__":
    main()
