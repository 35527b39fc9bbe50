"""Bad inputs made from a good corpus core, shared by the front ends' tests
(test_badinput.py for the CLI, test_lldb.py, test_gdb.py): each is an
executable and a core, a command to run on them and the one-line error the
command must give. Made by patching copies of the demo core and executable
at addresses found from the executable's own symbol and section tables
(no goheap involved), so a case means the same damage on every release.

cases(demo, other, work) -> [Case]; demo and other are corpus directories
(core and exe) of two programs, work a directory for the patched files.
A debugger may refuse a file itself (a core of zeros, lying notes): the
goheap command must then say in one line that there is no core.
"""
import collections
import os
import struct

Case = collections.namedtuple("Case", "name exe core command pattern")

# The one-line error of a session that has no core or process behind it
# (a debugger that refused the file): a front end says so in its own words.
NO_TARGET = r"no process|no core|not a Go program|no target|not running|cannot open|not an ELF"


def _sections(data):
    """{name: (addr, offset, size)} of an ELF64 file."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    heads = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    stroff = heads[shstrndx][4]
    out = {}
    for h in heads:
        end = data.index(b"\0", stroff + h[0])
        out[data[stroff + h[0]:end].decode()] = (h[3], h[4], h[5], h[6], h[9])  # addr, offset, size, link, entsize
    return out


def symbols(exe, names):
    """{name: address} of the wanted symbols of exe (its .symtab)."""
    with open(exe, "rb") as f:
        data = f.read()
    secs = _sections(data)
    _, off, size, _, ent = secs[".symtab"]
    _, stroff, _, _, _ = secs[".strtab"]
    want, out = set(names), {}
    for k in range(off, off + size, ent or 24):
        name_off, _, _, _, value, _ = struct.unpack_from("<IBBHQQ", data, k)
        end = data.index(b"\0", stroff + name_off)
        name = data[stroff + name_off:end].decode(errors="replace")
        if name in want:
            out[name] = value
    return out


def core_offset(core, va):
    """The core's file offset of address va (its PT_LOAD headers), or None."""
    with open(core, "rb") as f:
        head = f.read(64)
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = struct.unpack_from("<IIQQQQQQ", ph, i * phentsize)
        if p_type == 1 and p_vaddr <= va < p_vaddr + p_filesz:
            return p_offset + va - p_vaddr
    return None


def _copy(src, dst, patches=(), size=None):
    """dst: src (its first size bytes), with patches [(offset, bytes)]."""
    with open(src, "rb") as f:
        data = bytearray(f.read() if size is None else f.read(size))
    for off, b in patches:
        data[off:off + len(b)] = b
    with open(dst, "wb") as f:
        f.write(data)
    return dst


def cases(demo, other, work):
    os.makedirs(work, exist_ok=True)
    exe, core = os.path.join(demo, "exe"), os.path.join(demo, "core")
    out = []
    p = lambda n: os.path.join(work, n)  # noqa: E731
    size = os.path.getsize(core)

    zeros = p("zeros.core")
    with open(zeros, "wb") as f:
        f.write(bytes(1 << 20))
    out.append(Case("a core of zeros", exe, zeros, "heap", r"not an ELF file|" + NO_TARGET))

    out.append(Case("core truncated to half", exe, _copy(core, p("half.core"), size=size // 2), "heap",
                    r"not readable|truncated"))

    # The first note's descriptor size: 2 GiB, far past the notes.
    with open(core, "rb") as f:
        head = f.read(64)
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    notes = [struct.unpack_from("<Q", ph, i * phentsize + 8)[0] for i in range(phnum)
             if struct.unpack_from("<I", ph, i * phentsize)[0] == 4]
    if notes:
        out.append(Case("notes that lie about their size", exe,
                        _copy(core, p("notes.core"), [(notes[0] + 4, struct.pack("<I", 0x7fffff00))]), "heap",
                        r"note .*descriptor|" + NO_TARGET))

    out.append(Case("another program's executable", os.path.join(other, "exe"), core, "heap",
                    r"does not match the core"))

    # runtime.allglen and the length of runtime.allgs: 2^40 goroutines.
    sy = symbols(exe, ["runtime.allglen", "runtime.allgs", "runtime.mheap_"])
    big = struct.pack("<Q", 1 << 40)
    patches = [(core_offset(core, sy["runtime.allglen"]), big), (core_offset(core, sy["runtime.allgs"] + 8), big),
               (core_offset(core, sy["runtime.allgs"] + 16), big)]
    if all(o is not None for o, _ in patches):
        out.append(Case("an allgs length of 2^40", exe, _copy(core, p("allgs.core"), patches), "goroutines",
                        r"allg|goroutines|implausible"))

    # .gopclntab's magic zeroed in a copy of the executable.
    with open(exe, "rb") as f:
        secs = _sections(f.read())
    pcln = secs[".gopclntab"][1]
    out.append(Case("a pclntab with a bad magic", _copy(exe, p("badmagic.exe"), [(pcln, bytes(4))]), core,
                    "goroutines", r"pclntab|magic|function table"))
    return out
