"""Bad inputs made from a good corpus core, shared by the front ends' tests
(test_badinput.py for the CLI, test_lldb.py, test_gdb.py): each is an
executable and a core, a command to run on them (words, as typed after the
goheap CORE, or after go- in a debugger) and the one-line error the command
must give. Made by patching copies of the demo core and executable at
addresses found from the executable's own symbol and section tables and the
core's own program headers (no goheap involved), so a case means the same
damage on every release.

The runtime structures are patched at the offsets of go-runtime-facts.md,
the same in every release goheap reads (1.22 to 1.27, linux/amd64): mheap_
(allspans, arenas), mspan, the specials record's next, g.stack. Each case
checks what it reads before it patches (a span's state and page alignment,
a g's stack bounds) and fails loudly rather than patch something else.

cases(demo, other, work) -> [Case]; demo and other are corpus directories
(core and exe) of two programs, work a directory for the patched files.
A debugger may refuse a file itself (a core of zeros, lying notes): the
goheap command must then say in one line that there is no core.
"""
import collections
import os
import struct
import subprocess

Case = collections.namedtuple("Case", "name exe core command pattern")

# The one-line error of a session that has no core or process behind it
# (a debugger that refused the file): a front end says so in its own words.
NO_TARGET = r"no process|no core|not a Go program|no target|not running|cannot open|not an ELF"

# go-runtime-facts.md, linux/amd64, every release 1.22-1.27.
MHEAP_ALLSPANS, MHEAP_ARENAS = 65864, 66008
MSPAN_START, MSPAN_NPAGES, MSPAN_NELEMS, MSPAN_FREEINDEX = 24, 32, 50, 48
MSPAN_ALLOCBITS, MSPAN_SPANCLASS, MSPAN_STATE, MSPAN_ELEMSIZE, MSPAN_LIMIT, MSPAN_SPECIALS = 64, 98, 99, 104, 112, 128
PAGE, ARENA, ARENA_BASE_OFFSET = 8192, 64 << 20, 0xffff800000000000
UNMAPPED = 0x1000  # below mmap_min_addr: no Linux process maps it


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


def _phdrs(data):
    """[(index, p_type, p_flags, p_offset, p_vaddr, p_filesz, position of the header)] of an ELF64 file."""
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    out = []
    for i in range(phnum):
        at = phoff + i * phentsize
        p_type, p_flags, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", data, at)
        out.append((i, p_type, p_flags, p_offset, p_vaddr, p_filesz, at))
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
    """dst: src (its first size bytes), with patches [(offset, bytes)]. A
    whole copy keeps the core's holes (cp --sparse), so it is quick."""
    if size is None:
        subprocess.run(["cp", "--sparse=always", src, dst], check=True)
    else:
        with open(src, "rb") as f, open(dst, "wb") as g:
            g.write(f.read(size))
    with open(dst, "r+b") as f:
        for off, b in patches:
            f.seek(off)
            f.write(b)
    return dst


class Memory:
    """The core's memory, read through its PT_LOAD headers."""

    def __init__(self, core):
        self.core = core
        with open(core, "rb") as f:
            self.data = f.read()
        self.loads = [(v, o, n) for _, t, _, o, v, n, _ in _phdrs(self.data) if t == 1]

    def offset(self, va, n=8):
        for v, o, size in self.loads:
            if v <= va and va + n <= v + size:
                return o + va - v
        raise ValueError("%s: 0x%x is not in the core" % (self.core, va))

    def u(self, va, n=8):
        o = self.offset(va, n)
        return int.from_bytes(self.data[o:o + n], "little")

    def mapped(self, va):
        return any(v <= va < v + n for v, _, n in self.loads)


class Span:
    def __init__(self, mem, addr):
        self.addr = addr
        self.start, self.npages = mem.u(addr + MSPAN_START), mem.u(addr + MSPAN_NPAGES)
        self.state, self.spanclass = mem.u(addr + MSPAN_STATE, 1), mem.u(addr + MSPAN_SPANCLASS, 1)
        self.elemsize, self.nelems = mem.u(addr + MSPAN_ELEMSIZE), mem.u(addr + MSPAN_NELEMS, 2)
        self.freeindex, self.allocbits = mem.u(addr + MSPAN_FREEINDEX, 2), mem.u(addr + MSPAN_ALLOCBITS)
        self.specials, self.limit = mem.u(addr + MSPAN_SPECIALS), mem.u(addr + MSPAN_LIMIT)
        self.end = self.start + self.npages * PAGE

    def slot0_allocated(self, mem):
        return self.freeindex > 0 or (self.allocbits and mem.u(self.allocbits, 1) & 1)


def _spans(mem, mheap):
    """mheap_.allspans: (index, Span) of every entry; the in-use ones checked."""
    ptr, n = mem.u(mheap + MHEAP_ALLSPANS), mem.u(mheap + MHEAP_ALLSPANS + 8)
    out = [(i, Span(mem, mem.u(ptr + 8 * i))) for i in range(n)]
    for _, s in out:
        if s.state == 1 and (s.start % PAGE or not s.npages or s.elemsize * s.nelems > s.npages * PAGE):
            raise ValueError("mspan at 0x%x does not read as a span: the layout is not the facts'" % s.addr)
    return ptr, [(i, s) for i, s in out if s.state == 1]


def _module_range(exe_data):
    """[lo, hi) of the executable's read-only data (its type descriptors)."""
    ro = [(v, v + n) for _, t, fl, _, v, n, _ in _phdrs(exe_data) if t == 1 and fl == 4]  # PF_R only
    return min(lo for lo, _ in ro), max(hi for _, hi in ro)


def runtime_cases(exe, core, p):
    """The damage to runtime structures in the core: spans, specials, type
    descriptors, a stack, the arena index."""
    with open(exe, "rb") as f:
        exe_data = f.read()
    if struct.unpack_from("<H", exe_data, 0x12)[0] != 62:
        raise ValueError("%s: the runtime offsets here are linux/amd64's" % exe)
    mem = Memory(core)
    sy = symbols(exe, ["runtime.allgs", "runtime.mheap_"])
    mheap = sy["runtime.mheap_"]
    allspans, spans = _spans(mem, mheap)
    by_start = {s.start: s for _, s in spans}
    out = []
    put = lambda va, v: (mem.offset(va), struct.pack("<Q", v))  # noqa: E731

    # A small span whose pages run one page past the end of its arena, in an
    # arena the next one of which is no heap arena (the arena index has no
    # heapArena for it): past a contiguous arena the page would be the
    # heap's, and the grown span would only overlap the spans after it.
    l2 = mem.u(mheap + MHEAP_ARENAS)
    index = lambda a: l2 + 8 * (((a - ARENA_BASE_OFFSET) % (1 << 64)) // ARENA)  # noqa: E731
    def heap_arena(a):
        try:
            return mem.u(index(a)) != 0
        except ValueError:  # that part of the index is not in the core: never written
            return False
    s = next(s for _, s in spans if s.npages == 1 and s.start % ARENA and
             not heap_arena(s.start - s.start % ARENA + ARENA))
    npages = (ARENA - s.start % ARENA) // PAGE + 1
    out.append(Case("a span past its arena (mspan.npages to one page past the arena's end)", exe,
                    _copy(core, p("span-past-arena.core"), [put(s.addr + MSPAN_NPAGES, npages)]), "heap",
                    r"corrupt span table: mspan at 0x%x: pages 0x%x-0x[0-9a-f]+ run outside the heap arenas"
                    % (s.addr, s.start)))

    # Two spans overlapping: one span grown by a page over the next.
    a = next(a for _, a in spans if a.end in by_start and a.npages == 1)
    b = by_start[a.end]
    out.append(Case("spans overlapping (mspan.npages grown over the next span)", exe,
                    _copy(core, p("span-overlap.core"), [put(a.addr + MSPAN_NPAGES, a.npages + 1)]), "heap",
                    r"corrupt span table: mspan at 0x%x: pages 0x%x-0x[0-9a-f]+ overlap the span of the mspan at 0x%x"
                    % (b.addr, b.start, a.addr)))

    # The span list names a span twice: mheap_.allspans is an array (goheap
    # walks no linked list of spans), so a cycle in it is a repeat.
    (i, x), (j, _) = spans[0], spans[1]
    out.append(Case("a span list that cycles (mheap_.allspans names a span twice)", exe,
                    _copy(core, p("span-twice.core"), [put(allspans + 8 * j, x.addr)]), "heap",
                    r"corrupt span table: mspan at 0x%x: pages 0x%x-0x[0-9a-f]+ listed twice in mheap_\.allspans"
                    % (x.addr, x.start)))

    # A specials list whose first record leads back to itself.
    s = next((s for _, s in spans if s.specials), None)
    if s is None:
        raise ValueError("%s: no span has specials" % core)
    out.append(Case("a specials list that cycles (a record's next is itself)", exe,
                    _copy(core, p("specials-cycle.core"), [put(s.specials, s.specials)]), "heap",
                    r"corrupt specials list of the span at 0x%x: it cycles, record 0x%x \(the list's record 1\)"
                    % (s.start, s.specials)))

    # A malloc header (the type descriptor of an object over 512 bytes with
    # pointers) pointing outside the module, to unmapped memory.
    lo, hi = _module_range(exe_data)
    s = next(s for _, s in spans if s.spanclass & 1 == 0 and s.spanclass >> 1 and s.elemsize > 512 and
             s.slot0_allocated(mem) and lo <= mem.u(s.start) < hi)
    out.append(Case("a type descriptor outside the module (a malloc header pointing to 0x%x)" % UNMAPPED, exe,
                    _copy(core, p("type-outside.core"), [put(s.start, UNMAPPED)]), "print 0x%x" % s.start,
                    r"object at 0x%x, type from its malloc header: type descriptor at 0x%x: .*not readable"
                    % (s.start, UNMAPPED)))

    # The main goroutine (the first g in allgs) with its stack bounds swapped.
    g = mem.u(mem.u(sy["runtime.allgs"]))
    stack_lo, stack_hi = mem.u(g), mem.u(g + 8)
    if not stack_lo < stack_hi:
        raise ValueError("g at 0x%x: stack [0x%x, 0x%x) is not a stack" % (g, stack_lo, stack_hi))
    out.append(Case("a stack whose bounds are inverted (g.stack.lo and hi swapped)", exe,
                    _copy(core, p("stack-inverted.core"), [put(g, stack_hi), put(g + 8, stack_lo)]), "goroutine 1",
                    r"goroutine 1 \(g at 0x%x\): corrupt stack bounds: stack\.lo 0x%x is above stack\.hi 0x%x"
                    % (g, stack_hi, stack_lo)))

    # The arena index entry of the heap's first arena pointing to unmapped
    # memory instead of its heapArena.
    l2 = mem.u(mheap + MHEAP_ARENAS)
    arena = spans[0][1].start - spans[0][1].start % ARENA
    entry = l2 + 8 * (((arena - ARENA_BASE_OFFSET) % (1 << 64)) // ARENA)
    if not mem.mapped(mem.u(entry)):
        raise ValueError("mheap_.arenas entry at 0x%x is not a heapArena pointer" % entry)
    out.append(Case("an arena index pointing into unmapped memory (mheap_.arenas entry = 0x%x)" % UNMAPPED, exe,
                    _copy(core, p("arena-unmapped.core"), [put(entry, UNMAPPED)]), "heap",
                    r"corrupt arena index: mheap_\.arenas entry of the arena at 0x%x points to 0x%x"
                    % (arena, UNMAPPED)))
    return out


def span_records_cut(exe, core):
    """The core's file offset, page-aligned, where its first in-use span
    record starts: a core cut there has no heap goheap can read."""
    mem = Memory(core)
    _, spans = _spans(mem, symbols(exe, ["runtime.mheap_"])["runtime.mheap_"])
    cut = min(mem.offset(s.addr) for _, s in spans)
    return cut - cut % 4096


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

    # Cut where the first in-use span record starts: a cut at a fixed
    # fraction lands before or among the records depending on how the kernel
    # laid out the process's mappings, and among them goheap rightly answers
    # for the spans it can read (the truncated test checks that).
    cut = span_records_cut(exe, core)
    out.append(Case("core truncated before its span records (at %d%% of its size)" % (100 * cut // size), exe,
                    _copy(core, p("half.core"), size=cut), "heap", r"not readable|truncated"))

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
        exe_data = f.read()
    secs = _sections(exe_data)
    pcln = secs[".gopclntab"][1]
    out.append(Case("a pclntab with a bad magic", _copy(exe, p("badmagic.exe"), [(pcln, bytes(4))]), core,
                    "goroutines", r"pclntab|magic|function table"))

    # The executable's headers: the one-byte change (the writable
    # segment's p_offset plus one).
    i, _, _, off, va, _, at = next(h for h in _phdrs(exe_data) if h[1] == 1 and h[2] & 2)  # PT_LOAD, PF_W
    out.append(Case("the executable's program header patched (a segment's p_offset plus one)",
                    _copy(exe, p("phoff.exe"), [(at + 8, struct.pack("<Q", off + 1))]), core, "heap",
                    r"loadable segment %d at 0x%x has file offset 0x%x, not its address modulo its alignment"
                    % (i, va, off + 1)))

    out += runtime_cases(exe, core, p)
    return out


def cli_cases(demo, work):
    """Bad inputs for the CLI alone: the executable's section headers past
    its end. gdb refuses such a file itself ("not in executable format") and
    goheap then reads the core with the executable the core names, which is
    whole: there is no bad input left in gdb's session to fail on."""
    os.makedirs(work, exist_ok=True)
    exe, core = os.path.join(demo, "exe"), os.path.join(demo, "core")
    size = os.path.getsize(exe)
    return [Case("the executable's section headers past its end (e_shoff)",
                 _copy(exe, os.path.join(work, "shoff.exe"), [(0x28, struct.pack("<Q", size + 4096))]), core, "heap",
                 r"section headers at offset %d run past the end of the file" % (size + 4096))]
