#!/usr/bin/env python3
"""Compressed cores: read as they are, with answers identical to the core's.

- Same answers: the demo core of the oldest and the newest Go release (and
  the newest's pie build), compressed with the zstd, xz, gzip and lz4 tools,
  give byte for byte the JSON of the uncompressed core for heap, roots,
  goroutines, breakdown, objects and overview (whose "decompressed" field
  says the format and the core's size, and is null for the plain core).
  The executable is found from the core's notes as for a plain core; two
  frames (streams, members) one after the other read as one core.
- The cost is said: with GOHEAP_STATS=1 a line "decompressed zstd core:
  SIZE in TIME" on stderr; overview prints it too.
- Nothing is left behind: the decompressed copy goes into $TMPDIR, which is
  empty again after each run.
- Damaged files: a compressed core cut short (in the header, in the middle,
  before the end) or with flipped bytes, an empty stream and a bare magic
  number each give one line on stderr naming the problem, nothing on stdout,
  and exit status 1: never a crash.

usage: test_compressed.py BUILD_DIR
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

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
GOHEAP = os.path.join(BUILD, "bin", "goheap")
TMP = tempfile.mkdtemp(prefix="goheap-compressed-")
SCRATCH = os.path.join(TMP, "tmpdir")  # $TMPDIR of every run: must end empty

# format: the tool's command line writing stdin compressed to stdout, and the suffix
TOOLS = {
    "zstd": (["zstd", "-q", "-c", "-3"], ".zst"),
    "xz": (["xz", "-T1", "-c", "-1"], ".xz"),
    "gzip": (["gzip", "-c", "-1"], ".gz"),
    "lz4": (["lz4", "-q", "-c"], ".lz4"),
}
COMMANDS = [["heap", "--json", "--all"], ["roots", "--json"], ["goroutines", "--json"], ["breakdown", "--json"],
            ["objects", "--json", "--limit", "200"], ["overview", "--json"]]


def env():
    return dict(os.environ, GOHEAP_INDEX="off", TMPDIR=SCRATCH, GOHEAP_STATS="")


def goheap(args, extra_env=None):
    e = env()
    e.update(extra_env or {})
    p = subprocess.run([GOHEAP] + args, capture_output=True, env=e, timeout=600)
    left = os.listdir(SCRATCH)
    assert not left, "decompressed copies left in $TMPDIR: %s" % left
    return p


def answers(core, exe):
    out = []
    for cmd in COMMANDS:
        args = (["--exe", exe] if exe else []) + [core] + cmd
        p = goheap(args)
        assert p.returncode == 0, "%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr.decode()[-300:])
        out.append(p.stdout)
    return out


def compress(fmt, src, dst, split=False):
    """src compressed with the format's tool into dst; with split, its two
    halves compressed apart and the results concatenated."""
    cmd, _ = TOOLS[fmt]
    with open(src, "rb") as f:
        data = f.read()
    parts = [data[:len(data) // 2 + 4097], data[len(data) // 2 + 4097:]] if split else [data]
    with open(dst, "wb") as f:
        for part in parts:
            f.write(subprocess.run(cmd, input=part, capture_output=True, check=True, timeout=300).stdout)


def overview_fields(raw):
    ov = json.loads(raw)
    dec = ov.pop("decompressed")
    ov.pop("target")  # "core PATH": the path differs
    return ov, dec


def same(d, fmt):
    core, exe = os.path.join(d, "core"), os.path.join(d, "exe")
    want = answers(core, exe)
    packed = os.path.join(TMP, os.path.basename(os.path.dirname(d)) + "-" + os.path.basename(d) + TOOLS[fmt][1])
    compress(fmt, core, packed)
    got = answers(packed, exe)
    for cmd, w, g in zip(COMMANDS, want[:-1], got[:-1]):
        assert w == g, "%s differs from the uncompressed core's" % " ".join(cmd)
    wov, wdec = overview_fields(want[-1])
    gov, gdec = overview_fields(got[-1])
    assert wov == gov, "overview differs: %s vs %s" % (wov, gov)
    assert wdec is None, "the plain core says it was decompressed: %s" % wdec
    size = os.path.getsize(core)
    assert gdec and gdec["format"] == fmt and gdec["bytes"] == size, "decompressed: %s (core: %d bytes)" % (gdec, size)
    assert gdec["compressed_bytes"] == os.path.getsize(packed) and gdec["directory"] == SCRATCH, gdec
    # The executable from the core's notes, as for the plain core.
    p = goheap([packed, "heap", "--json", "--all"])
    assert p.returncode == 0 and p.stdout == want[0], "without --exe: exit %d: %s" % (p.returncode, p.stderr[-300:])
    # The cost, said on request.
    p = goheap(["--exe", exe, packed, "overview"], {"GOHEAP_STATS": "1"})
    note = [ln for ln in p.stderr.decode().splitlines() if "decompressed %s core:" % fmt in ln]
    assert p.returncode == 0 and len(note) == 1, "GOHEAP_STATS=1 stderr: %r" % p.stderr
    assert "decompressed %s core:" % fmt in p.stdout.decode(), "overview does not say what decompressing cost"
    os.unlink(packed)
    return "%s: %.1f MiB from %.1f KiB in %.3f s" % (fmt, gdec["bytes"] / 2**20, gdec["compressed_bytes"] / 1024,
                                                     gdec["seconds"])


def concatenated(d, fmt):
    core, exe = os.path.join(d, "core"), os.path.join(d, "exe")
    packed = os.path.join(TMP, "two" + TOOLS[fmt][1])
    compress(fmt, core, packed, split=True)
    want = goheap(["--exe", exe, core, "heap", "--json", "--all"])
    got = goheap(["--exe", exe, packed, "heap", "--json", "--all"])
    assert got.returncode == 0 and got.stdout == want.stdout, "two frames: exit %d: %s" % (got.returncode,
                                                                                          got.stderr[-300:])
    os.unlink(packed)


def refused(path, exe, want):
    p = goheap(["--exe", exe, path, "heap"])
    err = p.stderr.decode()
    assert p.returncode == 1, "exit %d (stderr %r)" % (p.returncode, err[-300:])
    assert not p.stdout, "output on stdout: %r" % p.stdout[:200]
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("goheap: ") and want in lines[0], "stderr: %r" % err
    return lines[0]


def damaged(d, fmt):
    core, exe = os.path.join(d, "core"), os.path.join(d, "exe")
    packed = os.path.join(TMP, "good" + TOOLS[fmt][1])
    compress(fmt, core, packed)
    with open(packed, "rb") as f:
        data = f.read()
    bad = os.path.join(TMP, "bad" + TOOLS[fmt][1])

    def write(b):
        with open(bad, "wb") as f:
            f.write(b)

    for cut in (7, len(data) // 2, len(data) - 2):  # 7: past every magic number, in the header
        write(data[:cut])
        refused(bad, exe, "%s data" % fmt)  # "ends early" or, cut in a header, "corrupt"
    write(data[:len(data) // 2])
    refused(bad, exe, "ends early: the file is truncated")
    flipped = bytearray(data)
    for i in range(len(data) // 3, len(data) // 3 + 32):
        flipped[i] ^= 0x5A
    write(bytes(flipped))
    line = refused(bad, exe, "corrupt")
    # An empty stream: no bytes, so no ELF file.
    cmd, _ = TOOLS[fmt]
    write(subprocess.run(cmd, input=b"", capture_output=True, check=True).stdout)
    refused(bad, exe, "not an ELF file")
    os.unlink(bad)
    os.unlink(packed)
    return line


def main():
    if not os.path.exists(GOHEAP):
        print("skip: no %s" % GOHEAP)
        return 77
    missing = [t for t in TOOLS if not shutil.which(TOOLS[t][0][0])]
    if missing:
        print("skip: no %s on PATH (scripts/setup.sh installs them)" % " ".join(missing))
        return 77
    os.makedirs(SCRATCH)
    vs = corpus.versions()
    builds = [(vs[0], ""), (vs[-1], ""), (vs[-1], "pie")]
    last = None
    for version, variant in builds:
        skip, ds = corpus.generate(version, variant, ["demo"], out=os.path.join(BUILD, "corpus"))
        if skip:
            print("skip  %s: %s" % (corpus.tag(version, variant), skip), flush=True)
            continue
        for fmt in TOOLS:
            check("%s demo %s" % (corpus.tag(version, variant), fmt), same, ds[0], fmt)
        last = ds[0]
    if last:
        for fmt in TOOLS:
            check("%s: two frames one after the other" % fmt, concatenated, last, fmt)
            check("%s: damaged files refused in one line" % fmt, damaged, last, fmt)
        check("a bare magic number", lambda: refused(write_magic(), os.path.join(last, "exe"), "ends early"))
    shutil.rmtree(TMP, ignore_errors=True)
    return summary()


def write_magic():
    path = os.path.join(TMP, "magic.zst")
    with open(path, "wb") as f:
        f.write(b"\x28\xb5\x2f\xfd")
    return path


if __name__ == "__main__":
    sys.exit(main())
