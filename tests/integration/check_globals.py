"""Global roots of one corpus core (engine/roots/globals.c) against gdb and the
executable, never against goheap itself.

- Every pointer word of the main module's data and bss is a root word: the
  global roots' pointer words add up to the popcount of
  runtime.firstmoduledata.gcdatamask + gcbssmask, as gdb reads them from the
  core (stripped binaries: moduledata found and read from the ELF file here,
  with the fact sheet's offsets).
- Every sentinel the manifest roots at a global: a root named exactly so
  exists and holds pointer words. When gdb finds the sentinel's address among
  the global's own words (pointers, interfaces, arrays, structs of pointers),
  a root of that name holds it; when it finds it among the words of a static
  object the global points to (`var P = &T{...}`: T laid out in .data), a root
  of that name holds it with `via` = that object.
- Stripped binaries: every global root is unnamed.

check_dwarf runs tests/tools/dwarfcheck: every DWARF type with
DW_AT_go_runtime_type names the descriptor goheap computes as reflect names it
(up to import path vs package name and the "·N" of function-local types),
with the same kind; the closure-layout rule checked against
DW_AT_go_closure_offset; frame variables readable.
"""
import json
import os
import re
import struct
import subprocess

from harness import gdb_for

# Notes globals.c writes when something is wrong: none is expected on the corpus.
TROUBLE = ("the GC bitmap", "implausible data", "globals are not named from DWARF", "modules on the moduledata list",
           "module at 0x")

# runtime.moduledata gcdatamask offsets without DWARF (fact sheet section 7);
# gcbssmask follows 16 bytes later.
GCDATAMASK = {22: 536, 23: 536, 24: 536, 25: 536, 26: 544, 27: 520}


def minor(m):
    return int(re.match(r"go1\.(\d+)", m["go"]).group(1))


def elf_sections(path):
    """{name: (addr, offset, size, type)} from the ELF64 section headers."""
    with open(path, "rb") as f:
        data = f.read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    stroff = hdrs[shstrndx][4]
    out = {}
    for h in hdrs:
        name = data[stroff + h[0]:data.index(b"\0", stroff + h[0])].decode()
        out[name] = (h[3], h[4], h[5], h[1])
    return out, data


def file_bytes(secs, data, addr, n):
    for a, off, size, typ in secs.values():
        if typ != 8 and a and a <= addr and addr + n <= a + size:  # 8: SHT_NOBITS
            return data[off + addr - a:off + addr - a + n]
    raise ValueError("0x%x is in no section of the file" % addr)


def popcount(mask, n):
    """Set bits among the first n of mask (LSB first)."""
    c = sum(bin(b).count("1") for b in mask[:n // 8])
    if n % 8:
        c += bin(mask[n // 8] & ((1 << (n % 8)) - 1)).count("1")
    return c


def stripped_moduledata(exe):
    """Without symbols: moduledata is the .go.module section (1.26+), or the
    .noptrdata word equal to .gopclntab's address (its pcHeader)."""
    secs, data = elf_sections(exe)
    if ".go.module" in secs:
        return secs[".go.module"][0]
    a, off, size, _ = secs[".noptrdata"]
    want = struct.pack("<Q", secs[".gopclntab"][0])
    return a + next(i for i in range(0, size - 7, 8) if data[off + i:off + i + 8] == want)


GDB = ["gdb", "-batch", "-nx", "-iex", "set auto-load no", "-ex", "set language c"]


def gdb_sections(out):
    """gdb output split on `echo ==KEY` markers."""
    parts, cur = {}, None
    for line in out.splitlines():
        if line.startswith("=="):
            cur = line[2:]
            parts[cur] = []
        elif cur is not None:
            parts[cur].append(line)
    return parts


def gdb_truth(d, names, md=None, off=None):
    """Mask popcount (the runtime builds the masks at start-up: read from the
    core), the runtime range [runtime.data, runtime.ebss), and for each global
    its words and (pointers) the words of what it points to. Stripped: md is
    moduledata's address and off gcdatamask's offset in it."""
    cmd = [gdb_for(os.path.join(d, "exe"))] + GDB[1:]
    for k, mask in (("data", "gcdatamask"), ("bss", "gcbssmask")):
        if md is None:
            n, ptr = "'runtime.firstmoduledata'.%s.n" % mask, "'runtime.firstmoduledata'.%s.bytedata" % mask
        else:
            a = md + off + (16 if k == "bss" else 0)
            n, ptr = "*(int*)0x%x" % a, "*(unsigned long*)0x%x" % (a + 8)
        cmd += ["-ex", "echo ==n%s\\n" % k, "-ex", "print %s" % n,
                "-ex", "echo ==m%s\\n" % k, "-ex", 'eval "x/%%dxb %s", (%s+7)/8' % (ptr, n)]
    if md is None:
        cmd += ["-ex", "echo ==range\\n", "-ex", "print/x &'runtime.data'", "-ex", "print/x &'runtime.ebss'"]
    for i, name in enumerate(names):
        cmd += ["-ex", "echo ==w%d\\n" % i, "-ex", 'eval "x/%%dgx &\'%s\'", sizeof(\'%s\')/8' % (name, name),
                "-ex", "echo ==p%d\\n" % i, "-ex", 'eval "x/%%dgx \'%s\'", sizeof(*\'%s\')/8' % (name, name)]
    p = subprocess.run(cmd + [os.path.join(d, "exe"), os.path.join(d, "core")], capture_output=True, text=True,
                       timeout=300)
    parts = gdb_sections(p.stdout)
    words = 0
    for k in ("data", "bss"):
        n = re.search(r"= (\d+)", "\n".join(parts.get("n" + k, [])))
        assert n, "gdb could not read runtime.firstmoduledata.%s: %s" % (k, p.stderr.strip()[-300:])
        n = int(n.group(1))
        mask = bytes(int(x, 16) for x in re.findall(r"\t0x([0-9a-f]{2})\b", "\n".join(parts["m" + k])))
        assert len(mask) == (n + 7) // 8, "gdb printed %d mask bytes of %d" % (len(mask), (n + 7) // 8)
        words += popcount(mask, n)
    if md is not None:
        return words, None, {}, {}
    rng = [int(x, 16) for x in re.findall(r"= (0x[0-9a-f]+)", "\n".join(parts["range"]))]
    assert len(rng) == 2, "gdb could not read runtime.data/ebss"

    def hexwords(lines):
        return [int(x, 16) for line in lines for x in re.findall(r"\t0x([0-9a-f]{16})", line)]
    own = {name: hexwords(parts.get("w%d" % i, [])) for i, name in enumerate(names)}
    pointee = {name: hexwords(parts.get("p%d" % i, [])) for i, name in enumerate(names)}
    return words, rng, own, pointee


def check_globals(d, m, goheap_batch):
    doc = goheap_batch(d, ["roots --list --json"])[0]
    roots = [r for r in doc["roots"] if r["kind"] == "global"]
    for n in doc["notes"]:
        assert not any(t in n for t in TROUBLE), "globals note: %s" % n
    for r in roots:
        assert r["size"] % 8 == 0 and r["pointer_words"] > 0, "root %r" % {k: r[k] for k in r if k != "values"}
    got = sum(r["pointer_words"] for r in roots)
    exe = os.path.join(d, "exe")
    stripped = ".symtab" not in elf_sections(exe)[0]
    if stripped:
        want = gdb_truth(d, [], stripped_moduledata(exe), GCDATAMASK[minor(m)])[0]
        assert got == want, "global roots hold %d pointer words, gdb's masks (moduledata from the ELF) have %d" % (
            got, want)
        named = [r["name"] for r in roots if "name" in r]
        assert not named, "a stripped binary names global roots: %s" % named[:5]
        return "%d pointer words in %d unnamed roots = masks" % (got, len(roots))
    sentinels = [s for s in m["sentinels"] if s["root"]["kind"] == "global"]
    names = sorted({s["root"]["name"] for s in sentinels})
    want, (lo, hi), own, pointee = gdb_truth(d, names)
    assert got == want, "global roots hold %d pointer words, gdb's gcdatamask + gcbssmask have %d" % (got, want)
    byname = {}
    for r in roots:
        byname.setdefault(r.get("name"), []).append(r)
    direct = via = exist = 0
    for s in sentinels:
        name, addr = s["root"]["name"], int(s["addr"], 16)
        where = "sentinel %s %s (global %s)" % (s["type"], s["addr"], name)
        rs = byname.get(name, [])
        assert rs and sum(r["pointer_words"] for r in rs) > 0, "%s: no global root named %s" % (where, name)
        held = [r for r in rs if addr in {int(v, 16) for v in r["values"]}]
        if addr in own[name]:
            assert held, "%s: gdb finds it in %s's words, no root %s holds it" % (where, name, name)
            direct += 1
            continue
        static = [p for p in own[name] if lo <= p < hi]
        if static and addr in pointee[name]:
            assert any(r.get("via") == "0x%x" % static[0] for r in held), \
                "%s: %s points to static data at 0x%x holding it; roots %s" % (
                    where, name, static[0], [{k: r[k] for k in r if k != "values"} for r in rs])
            via += 1
            continue
        exist += 1
    if any("statically allocated" in n for n in m.get("notes", [])):
        assert via > 0, "the manifest says a global points to a static object; no sentinel was found through one"
    return "%d pointer words = masks; %d sentinels held directly, %d through static data, %d by a named root" % (
        got, direct, via, exist)


def check_dwarf(d, m, tool):
    p = subprocess.run([tool, "--exe", os.path.join(d, "exe"), os.path.join(d, "core")], capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, "dwarfcheck: %s %s" % (p.stdout.strip()[-300:], p.stderr.strip()[-300:])
    j = json.loads(p.stdout)
    if "skipped" in j:
        return j["skipped"]
    assert j["types_failed"] == 0, "DWARF types not described: %s" % j["type_failures"]
    assert j["with_rtype"] > 0 and j["rtype_outside_module"] == 0, j
    assert j["rtype_name_mismatch"] == 0, "DWARF names != descriptor names: %s" % j["name_mismatches"]
    assert j["rtype_kind_mismatch"] == 0, "DWARF kinds != descriptor kinds: %s" % j["kind_mismatches"]
    # Full names (import paths) spell types as DWARF does, but for a generic
    # type's arguments, function-local types and DWARF's own spellings
    # (noalg. types, package-qualified unexported struct fields).
    assert j["full_name_mismatch"] == 0 and j["full_name_equal"] > 0, \
        "full names != DWARF names: %s" % j["full_name_mismatches"]
    assert j["frame_var_errors"] == 0
    # Go 1.22 has no closure offsets; the compiler's layout rule replayed over
    # DWARF's captured variables must not be trusted instead while it fails
    # anywhere in 1.23+ (DWARF leaves unused captures out). What 1.22 uses is
    # the code: MOVQ off(DX), R right before DWARF places a variable in R;
    # on 1.23+ that rule must agree with DW_AT_go_closure_offset everywhere
    # it finds a load.
    assert j["closure_unsupported"] == 0, j
    assert j["closure_code_failed"] == 0, "code-derived closure offsets differ: %s" % j["closure_code_failures"]
    if minor(m) >= 23:
        assert j["closures_with_offsets"] > 0 and j["closure_code_vars"] > 0, j
    else:
        assert j["closures_with_offsets"] == 0, j
    # Reported, not asserted: a wall-clock bound fails on a busy machine
    # (the suite runs two corpus entries at once); speed is bench/'s job.
    ms = (j["index_us"] + j["globals_us"]) / 1000
    return "%d descriptors = DWARF (%d exact, %d up to import paths, %d local types; full names: %d exact); " \
           "closures: %d with offsets, " \
           "layout rule fails on %d, code rule agrees on %d variables; %d frame variables; " \
           "index + global roots %.1f ms" % (
               j["with_rtype"], j["rtype_name_equal"], j["rtype_name_equal_unqualified"],
               j["rtype_name_equal_local"], j["full_name_equal"], j["closures_with_offsets"], j["closure_rule_failed"],
               j["closure_code_vars"], j["frame_vars"], ms)
