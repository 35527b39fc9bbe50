#!/usr/bin/env python3
"""Target backends against real cores and a real process, with gdb as the key.

For each corpus build below (generated if not cached) the core target, through
build/bin/coreinfo, must see the threads (tid, rip, rsp), file mappings,
load bias and memory (manifest sentinels, text the kernel did not dump) that
gdb sees in the same core; must reject a wrong executable and a core whose
executable is gone; and must open a truncated copy with a warning. With
--gcore, a core taken by gdb's gcore is checked against gdb too. The live
target must stop and release a process, read the same bytes /proc/PID/mem
gives us directly, and work read-only beside gdb.

Prints one line per check and a final "N passed, N failed". Exit 0 all passed,
1 a check failed, 77 no Go toolchain could be had (skipped).
"""
import argparse
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import corpus  # noqa: E402
from harness import check, record, results, summary  # noqa: E402,F401

BUILDS = [("go1.26.11", ""), ("go1.24.13", "pie")]
COREINFO = None


# ---- tools ----

def coreinfo(*args, ok=True):
    p = subprocess.run([COREINFO] + list(args), capture_output=True, text=True, timeout=120)
    assert "Sanitizer" not in p.stderr and "runtime error:" not in p.stderr, \
        "coreinfo %s: sanitizer report:\n%s" % (" ".join(args), p.stderr[-2000:])
    if ok:
        assert p.returncode == 0, "coreinfo %s failed: %s" % (" ".join(args), p.stderr.strip())
    return p


def parse_info(out):
    info = {"threads": {}, "regions": [], "reads": {}, "warning": None}
    for line in out.splitlines():
        w = line.split()
        if w[0] == "exe":
            info["exe"] = line[4:]
        elif w[0] == "bias":
            info["bias"] = None if w[1] == "unknown" else int(w[1], 16)
        elif w[0] == "warning":
            info["warning"] = line[8:]
        elif w[0] == "thread":
            info["threads"][int(w[1])] = None if w[2] == "noregs" else (int(w[3], 16), int(w[5], 16))
        elif w[0] == "region":
            s, e = w[1].split("-")
            info["regions"].append((int(s, 16), int(e, 16), w[2], w[5] if len(w) > 5 else "-"))
        elif w[0] == "read":
            addr = int(w[1].rstrip(":"), 16)
            info["reads"][addr] = None if w[2] == "error" else bytes(int(x, 16) for x in w[2:])
    return info


def gdb(exe, core, *cmds):
    argv = ["gdb", "-batch", "-nx", "-iex", "set auto-load no"]
    for c in cmds:
        argv += ["-ex", c]
    p = subprocess.run(argv + [exe, core], capture_output=True, text=True, timeout=300)
    return p.stdout


def gdb_threads(exe, core):
    out = gdb(exe, core, "info threads", "thread apply all info registers rip rsp")
    listed = len(re.findall(r"^\*?\s+\d+\s+LWP \d+", out, re.M))
    threads = {}
    for m in re.finditer(r"^Thread \d+ \(LWP (\d+)\):\nrip\s+(0x[0-9a-f]+).*\nrsp\s+(0x[0-9a-f]+)", out, re.M):
        threads[int(m.group(1))] = (int(m.group(2), 16), int(m.group(3), 16))
    assert threads and listed == len(threads), "cannot parse gdb's threads:\n%s" % out[-1500:]
    return threads


def gdb_words(exe, core, addrs):
    """{addr: 16 bytes} as gdb's x/2gx prints them (None when gdb cannot read)."""
    out = gdb(exe, core, *["x/2gx 0x%x" % a for a in addrs])
    got = {}
    for m in re.finditer(r"^(0x[0-9a-f]+)(?: <[^>]*>)?:\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)", out, re.M):
        got[int(m.group(1), 16)] = struct.pack("<QQ", int(m.group(2), 16), int(m.group(3), 16))
    return {a: got.get(a) for a in addrs}


def gdb_mappings(exe, core):
    out = gdb(exe, core, "info proc mappings")
    maps = []
    for m in re.finditer(r"^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(/\S.*)$", out, re.M):
        maps.append((int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16), m.group(4).strip()))
    assert maps, "gdb printed no file mappings:\n%s" % out[-800:]
    return maps


def elf_entry(exe):
    with open(exe, "rb") as f:
        return struct.unpack_from("<Q", f.read(64), 24)[0]


def go_buildid_offset(exe):
    """File offset of the Go build id note's descriptor."""
    with open(exe, "rb") as f:
        data = f.read(1 << 16)
    phoff, = struct.unpack_from("<Q", data, 32)
    phnum, = struct.unpack_from("<H", data, 56)
    for i in range(phnum):
        ptype, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + 56 * i)
        if ptype != 4:  # PT_NOTE
            continue
        pos = off
        while pos + 12 <= off + filesz:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            name = data[pos + 12:pos + 12 + namesz]
            desc = pos + 12 + ((namesz + 3) & ~3)
            if name == b"Go\0\0" and ntype == 4:
                return desc, descsz
            pos = desc + ((descsz + 3) & ~3)
    raise AssertionError("%s has no Go build id note" % exe)


def exe_loads(exe):
    with open(exe, "rb") as f:
        data = f.read(1 << 16)
    phoff, = struct.unpack_from("<Q", data, 32)
    phnum, = struct.unpack_from("<H", data, 56)
    hdrs = [struct.unpack_from("<IIQQ", data, phoff + 56 * i) for i in range(phnum)]
    return [h[3] for h in hdrs if h[0] == 1]  # PT_LOAD vaddrs


def sentinels(d):
    with open(os.path.join(d, "manifest.json")) as f:
        return [int(s["addr"], 16) for s in json.load(f)["sentinels"]]


# ---- core checks ----

def check_threads(d):
    exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
    want = gdb_threads(exe, core)
    got = parse_info(coreinfo("--exe", exe, core).stdout)["threads"]
    assert got == want, "coreinfo threads %s, gdb %s" % (fmt_threads(got), fmt_threads(want))
    return "%d threads" % len(got)


def fmt_threads(t):
    return ", ".join("%d:%s" % (k, "noregs" if v is None else "rip=0x%x rsp=0x%x" % v) for k, v in sorted(t.items()))


def check_memory(d):
    exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
    info = parse_info(coreinfo("--exe", exe, core).stdout)
    # the sentinels, the entry point, and the start of every PT_LOAD of the
    # executable (text and rodata the kernel or gcore did not dump come from
    # the executable file)
    addrs = sentinels(d) + [elf_entry(exe) + info["bias"], elf_entry(exe) + info["bias"] + 0x1000]
    addrs += [v + info["bias"] + 0x10 for v in exe_loads(exe)]
    got = parse_info(coreinfo("--exe", exe, core, *["0x%x" % a for a in addrs]).stdout)["reads"]
    want = gdb_words(exe, core, addrs)
    for a in addrs:
        assert want[a] is not None, "gdb cannot read 0x%x" % a
        assert got.get(a) == want[a], "at 0x%x coreinfo reads %s, gdb %s" % (
            a, got.get(a) and got[a].hex(), want[a].hex())
    return "%d addresses" % len(addrs)


def check_exe_and_bias(d, pie):
    exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
    info = parse_info(coreinfo(core).stdout)  # no --exe: found through NT_FILE
    assert os.path.realpath(info["exe"]) == os.path.realpath(exe), "exe %s, expected %s" % (info["exe"], exe)
    maps = gdb_mappings(exe, core)
    first = min(m[0] for m in maps if m[2] == 0 and os.path.realpath(m[3]) == os.path.realpath(exe))
    low = min(exe_loads(exe)) & ~0xfff
    want = first - low
    assert info["bias"] == want, "bias 0x%x, gdb's mappings say 0x%x" % (info["bias"], want)
    assert (want != 0) == pie, "bias 0x%x for %s build" % (want, "a PIE" if pie else "a non-PIE")
    regions = {(s, e): name for s, e, _, name in info["regions"]}
    for s, e, _, name in maps:
        assert regions.get((s, e)) == name, "gdb maps %s at 0x%x-0x%x, coreinfo has %r" % (
            name, s, e, regions.get((s, e)))
    return "bias 0x%x, %d file mappings" % (want, len(maps))


def check_wrong_exe(d, other):
    exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "exe")
        shutil.copy(exe, bad)
        off, n = go_buildid_offset(bad)
        with open(bad, "r+b") as f:
            f.seek(off + n - 1)
            c = f.read(1)
            f.seek(off + n - 1)
            f.write(b"Z" if c != b"Z" else b"Y")
        p = coreinfo("--exe", bad, core, ok=False)
        assert p.returncode != 0 and "does not match the core (Go build id" in p.stderr, \
            "patched build id: rc %d, %s" % (p.returncode, p.stderr.strip())
    msgs = []
    if other:
        p = coreinfo("--exe", other, core, ok=False)
        assert p.returncode != 0 and "does not match the core" in p.stderr, \
            "exe of another build: rc %d, %s" % (p.returncode, p.stderr.strip())
        msgs.append(p.stderr.strip().split(": ", 1)[1])
    return "; ".join(msgs)


def truncated_copy(core, n, patch=None):
    """The first n bytes of core, with bytes replaced in the notes if asked."""
    with open(core, "rb") as f:
        data = bytearray(f.read(n))
    if patch:
        old, new = patch
        i = data.find(old)
        assert i >= 0, "%r not in the core's first %d bytes" % (old, n)
        data[i:i + len(old)] = new
    tmp = tempfile.NamedTemporaryFile(delete=False, prefix="goheap-core-")
    tmp.write(data)
    tmp.close()
    return tmp.name


def check_truncated(d):
    exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
    want = gdb_threads(exe, core)
    size = os.path.getsize(core)
    seen = []
    for n in (size // 2, size // 5, 64 * 1024, 8 * 1024):
        path = truncated_copy(core, n)
        try:
            p = coreinfo("--exe", exe, path, *["0x%x" % a for a in sentinels(d)], ok=False)
        finally:
            os.unlink(path)
        if p.returncode != 0:  # only acceptable when the cut went through the notes
            assert "core is truncated: notes" in p.stderr, "cut at %d: %s" % (n, p.stderr.strip())
            seen.append("%d: notes cut" % n)
            continue
        info = parse_info(p.stdout)
        assert info["warning"] and info["warning"].startswith("core is truncated: segment at 0x"), \
            "cut at %d: no truncation warning" % n
        assert info["threads"] == want, "cut at %d: threads differ from gdb's" % n
        seen.append("%d: warning" % n)
    return ", ".join(seen)


def check_missing_exe(d):
    exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
    real = os.path.realpath(exe).encode()
    gone = real[:-3] + b"xyz"  # same length, a file that does not exist
    path = truncated_copy(core, 256 * 1024, (real + b"\0", gone + b"\0"))
    try:
        p = coreinfo(path, ok=False)
        want = "core names executable %s which is not on this machine: pass --exe" % gone.decode()
        assert p.returncode != 0 and want in p.stderr, "rc %d, %s" % (p.returncode, p.stderr.strip())
        p = coreinfo("--exe", exe, path)
    finally:
        os.unlink(path)
    return "--exe opens it"


# ---- live checks ----

def read_mem(pid, addr, n=16):
    with open("/proc/%d/mem" % pid, "rb") as f:
        f.seek(addr)
        return f.read(n)


def task_ids(pid):
    return sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))


def state(pid):
    with open("/proc/%d/status" % pid) as f:
        return re.search(r"^State:\s+(\S)", f.read(), re.M).group(1)


def hold(exe):
    """Starts exe so that it prints its manifest and then waits on stdin."""
    p = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=dict(os.environ, GOHEAP_HOLD="1"))
    m = json.loads(p.stdout.readline())
    time.sleep(0.2)  # let it reach its read(0)
    return p, [int(s["addr"], 16) for s in m["sentinels"]]


def finish(p):
    p.stdin.close()
    rc = p.wait(timeout=60)
    assert rc == 0, "the process exited with %d after we detached" % rc


def check_live_stop(d):
    p, addrs = hold(os.path.join(d, "exe"))
    try:
        out = coreinfo("--pid", str(p.pid), *["0x%x" % a for a in addrs]).stdout
        info = parse_info(out)
        tids = task_ids(p.pid)
        assert sorted(info["threads"]) == tids, "threads %s, /proc has %s" % (sorted(info["threads"]), tids)
        for tid, regs in info["threads"].items():
            assert regs is not None, "thread %d has no registers" % tid
            assert any(s <= regs[1] < e for s, e, _, _ in info["regions"]), "rsp 0x%x of %d is unmapped" % (regs[1], tid)
        for a in addrs:
            assert info["reads"][a] == read_mem(p.pid, a), "at 0x%x coreinfo %s, /proc/PID/mem %s" % (
                a, info["reads"][a] and info["reads"][a].hex(), read_mem(p.pid, a).hex())
        assert os.path.realpath(info["exe"]) == os.path.realpath(os.path.join(d, "exe"))
        assert state(p.pid) in "SR", "process left in state %s" % state(p.pid)
    except BaseException:
        p.kill()
        raise
    finish(p)
    return "%d threads, %d sentinels, bias 0x%x" % (len(tids), len(addrs), info["bias"])


def check_live_group_stopped(d):
    p, addrs = hold(os.path.join(d, "exe"))
    try:
        os.kill(p.pid, signal.SIGSTOP)
        for _ in range(100):
            if state(p.pid) == "T":
                break
            time.sleep(0.01)
        info = parse_info(coreinfo("--pid", str(p.pid), "0x%x" % addrs[0]).stdout)
        assert all(r is not None for r in info["threads"].values()), "missing registers"
        assert info["reads"][addrs[0]] == read_mem(p.pid, addrs[0])
        # A SIGSTOP that was being delivered when goheap attached is handed
        # back on detach and takes effect a moment later: wait for it.
        for _ in range(200):
            st = state(p.pid)
            if st == "T":
                break
            time.sleep(0.01)
        assert st == "T", "a stopped process was left in state %s" % st
        os.kill(p.pid, signal.SIGCONT)
    except BaseException:
        p.kill()
        raise
    finish(p)
    return "still stopped after detach"


GDB_SCRIPT = r"""
import gdb, json, subprocess
pid = gdb.selected_inferior().pid
m = json.loads(open(OUT).readline())
addr = m["sentinels"][0]["addr"]
r = subprocess.run([COREINFO, "--pid", str(pid), addr], capture_output=True, text=True)
words = gdb.execute("x/2gx " + addr, to_string=True)
json.dump({"rc": r.returncode, "out": r.stdout, "err": r.stderr, "addr": addr, "gdb": words}, open(RES, "w"))
"""


def check_live_beside_gdb(d):
    with tempfile.TemporaryDirectory() as tmp:
        out, res, script = (os.path.join(tmp, n) for n in ("out", "res.json", "s.py"))
        with open(script, "w") as f:
            f.write("OUT, RES, COREINFO = %r, %r, %r\n" % (out, res, COREINFO) + GDB_SCRIPT)
        subprocess.run(["gdb", "-batch", "-nx", "-iex", "set auto-load no", "-ex", "set environment GOHEAP_LIVE=1",
                        "-ex", "break main.checkpoint", "-ex", "run > %s" % out, "-ex", "source " + script,
                        "-ex", "kill", os.path.join(d, "exe")], capture_output=True, text=True, timeout=300)
        assert os.path.exists(res), "gdb did not stop at main.checkpoint"
        with open(res) as f:
            r = json.load(f)
    assert r["rc"] == 0 and "Sanitizer" not in r["err"], "coreinfo --pid beside gdb: %s" % r["err"].strip()
    info = parse_info(r["out"])
    assert info["threads"] and all(v is None for v in info["threads"].values()), \
        "a traced process should give threads without registers: %s" % fmt_threads(info["threads"])
    m = re.search(r":\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)", r["gdb"])
    want = struct.pack("<QQ", int(m.group(1), 16), int(m.group(2), 16))
    a = int(r["addr"], 16)
    assert info["reads"][a] == want, "at 0x%x coreinfo %s, gdb %s" % (a, info["reads"][a], want.hex())
    return "%d threads, memory equals gdb's" % len(info["threads"])


def main():
    global COREINFO
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--coreinfo", help="default: BUILD/bin/coreinfo")
    ap.add_argument("--no-live", action="store_true", help="skip the live-process checks")
    ap.add_argument("--gcore", action="store_true",
                    help="also check a core taken with gdb's gcore (writes a 1.2 GB core file)")
    a = ap.parse_args()
    build = os.path.abspath(a.build_dir)
    COREINFO = os.path.abspath(a.coreinfo or os.path.join(build, "bin", "coreinfo"))
    if not os.access(COREINFO, os.X_OK):
        print("no %s: build first" % COREINFO)
        return 1
    dirs = []
    for version, variant in BUILDS:
        skip, ds = corpus.generate(version, variant, ["demo"], out=os.path.join(build, "corpus"))
        if skip:
            print("skip  %s: %s" % (corpus.tag(version, variant), skip), flush=True)
            continue
        dirs.append((corpus.tag(version, variant), ds[0], variant == "pie"))
    if not dirs:
        print("0 passed, 0 failed (skipped: no Go toolchain)")
        return 77
    # gdb's gcore lays a core out differently (notes last, read-only file
    # mappings left out, reservations written out in full: 1.2 GB), so only
    # on request, in its own directory.
    skip = "not asked for (--gcore)"
    if a.gcore:
        os.environ["GOHEAP_CORPUS_GCORE"] = "1"
        try:
            skip, ds = corpus.generate(BUILDS[0][0], "", ["demo"], out=os.path.join(build, "corpus-gcore"))
        finally:
            del os.environ["GOHEAP_CORPUS_GCORE"]
    if not skip:
        tag = BUILDS[0][0] + " gcore"
        check("%s threads equal gdb's" % tag, check_threads, ds[0])
        check("%s memory equals gdb's" % tag, check_memory, ds[0])
        check("%s exe from NT_FILE, bias and mappings" % tag, check_exe_and_bias, ds[0], False)
    for i, (tag, d, pie) in enumerate(dirs):
        other = os.path.join(dirs[i - 1][1], "exe") if len(dirs) > 1 else None
        check("%s threads equal gdb's" % tag, check_threads, d)
        check("%s memory equals gdb's" % tag, check_memory, d)
        check("%s exe from NT_FILE, bias and mappings" % tag, check_exe_and_bias, d, pie)
        check("%s wrong executable rejected" % tag, check_wrong_exe, d, other)
        check("%s truncated core" % tag, check_truncated, d)
        check("%s executable not on this machine" % tag, check_missing_exe, d)
        if not a.no_live:
            check("%s live: stop, read, detach" % tag, check_live_stop, d)
            check("%s live: group-stopped process" % tag, check_live_group_stopped, d)
            check("%s live: beside gdb" % tag, check_live_beside_gdb, d)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
