/* Core-file target: a linux/amd64 or linux/arm64 ELF core and its executable, both mmapped
 * read-only (cores are tens of MB and sparse; never copy them to the heap).
 * Memory comes from the core's PT_LOAD segments. The kernel leaves out pages
 * of file mappings nobody wrote (text, rodata), so bytes past a segment's
 * p_filesz are served from the executable when it backs that address, and the
 * executable's zero fill (bss) reads as zeros. Every offset and count taken
 * from either file is checked against its size before use. One thread at a
 * time: reads update a last-hit segment index. */
#include "base/out.h"
#include "base/vec.h"
#include "target/target.h"
#include "target/unpack.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PRSTATUS_PID 32
#define PRSTATUS_REGS 112
#define NT_FILE_TYPE 0x46494c45u /* NT_FILE: "FILE" */
#define NT_GO_BUILDID 4

typedef struct seg {
    uint64_t start, end; /* [start, end) in the target */
    uint64_t offset;     /* core file offset of the dumped bytes */
    uint64_t filesz;     /* bytes the dump claims to hold, <= end - start */
    uint64_t avail;      /* of those, bytes actually in the (maybe truncated) file */
    unsigned prot;
} seg;

typedef struct fmap { /* one NT_FILE entry */
    uint64_t start, end, offset;
    const char *name; /* NUL-terminated inside the core's note */
    int is_exe;
} fmap;

typedef struct xload { /* an executable PT_LOAD at its loaded (biased) address */
    uint64_t start, file_end, end, offset;
    unsigned prot;
} xload;

typedef struct mfile {
    const uint8_t *p;
    size_t size;
    uint64_t id[4]; /* device, inode, size, modification time in ns: which file this is */
} mfile;

typedef struct core {
    gh_target t;
    mfile core, exe;
    char *exe_path;
    seg *segs;
    gh_region *regions;
    size_t nsegs;
    _Atomic size_t last;  /* the segment found last (find_seg) */
    fmap *files;
    size_t nfiles;
    xload *xloads;
    size_t nxloads;
    gh_thread *threads;
    size_t nthreads, cap_threads;
    uint64_t *xregs; /* arm64: each thread's registers (gh_target.xregs) */
    size_t cap_xregs;
    uint64_t entry, phdr, bias;
    int have_entry, have_phdr, have_bias, have_nt_file;
    const char *exe_in_core; /* NT_FILE name of the mapping holding AT_ENTRY */
    char warning[512];
    uint64_t want_size;   /* the file's size as its program headers describe it (truncated cores) */
    _Atomic uint64_t lost_reads; /* reads that met bytes the truncation took (gh_core_lost_reads) */
    gh_unpack_info unpacked; /* the core was compressed: what decompressing it cost */
    char note[512];
} core;

static const gh_target_ops core_ops;

/* ---- files ---- */

/* The core is compressed: decompress it into an unlinked file and map that
 * instead (the file goes when the mapping does). fd is closed either way. */
/* The file mapped read-only at a 2 MiB boundary and marked for huge pages:
 * the page cache then reads what is not cached yet in 2 MiB folios, and the
 * random reads of marking and typing cost far fewer page faults and TLB
 * misses (types phase: 1.24 s on 4K folios, 0.86 s on 2 MiB ones, 6.3 M
 * objects). Falls back to a plain mapping. */
static void *map_huge(int fd, size_t size)
{
    const size_t align = (size_t)2 << 20;
    if (size >= align) {
        void *r = mmap(NULL, size + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (r != MAP_FAILED) {
            uintptr_t lo = (uintptr_t)r, a = (lo + align - 1) & ~(uintptr_t)(align - 1);
            void *p = mmap((void *)a, size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
            if (p != MAP_FAILED) {
                /* what the reservation has beyond the mapping */
                if (a > lo)
                    munmap(r, a - lo);
                size_t pg = (size_t)sysconf(_SC_PAGESIZE);
                uintptr_t end = a + ((size + pg - 1) & ~(pg - 1)), rend = lo + size + align;
                if (rend > end)
                    munmap((void *)end, rend - end);
                madvise(p, size, MADV_HUGEPAGE); /* advice: its failure changes nothing */
                return p;
            }
            munmap(r, size + align);
        }
    }
    return mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
}

static int map_unpacked(int fd, const char *path, gh_pack format, mfile *m, gh_unpack_info *info, gh_err *err)
{
    int tfd;
    int rc = gh_unpack(fd, path, format, &tfd, info, err);
    close(fd);
    if (rc)
        return rc;
    m->size = (size_t)info->size;
    if (m->size == 0) {
        close(tfd);
        return gh_errorf(err, GH_EFORMAT, "core %s: not an ELF file (its %s data is empty)", path,
                         gh_pack_name(format));
    }
    void *p = map_huge(tfd, m->size);
    int e = errno;
    close(tfd);
    if (p == MAP_FAILED)
        return gh_errorf(err, GH_EIO, "cannot map the decompressed copy of core %s: %s", path, strerror(e));
    m->p = p;
    return GH_OK;
}

/* Maps a file read-only. With unpacked (the core), a compressed file is
 * decompressed first; its identity stays the compressed file's. */
static int map_file(const char *path, const char *what, mfile *m, gh_unpack_info *unpacked, gh_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gh_errorf(err, GH_EIO, "cannot open %s %s: %s", what, path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return gh_errorf(err, GH_EIO, "cannot stat %s %s: %s", what, path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return gh_errorf(err, GH_EIO, "%s %s is not a regular file", what, path);
    }
    m->size = (size_t)st.st_size;
    m->p = NULL;
    m->id[0] = (uint64_t)st.st_dev;
    m->id[1] = (uint64_t)st.st_ino;
    m->id[2] = (uint64_t)st.st_size;
    m->id[3] = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
    if (m->size == 0) {
        close(fd);
        return gh_errorf(err, GH_EFORMAT, "%s %s: not an ELF file (it is empty)", what, path);
    }
    uint8_t head[GH_UNPACK_MAGIC_LEN];
    ssize_t nh = unpacked ? pread(fd, head, sizeof head, 0) : 0;
    gh_pack format = nh > 0 ? gh_unpack_detect(head, (size_t)nh) : GH_PACK_NONE;
    if (format != GH_PACK_NONE)
        return map_unpacked(fd, path, format, m, unpacked, err);
    void *p = map_huge(fd, m->size);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return gh_errorf(err, GH_EIO, "cannot map %s %s: %s", what, path, strerror(e));
    m->p = p;
    return GH_OK;
}

static void unmap_file(mfile *m)
{
    if (m->p)
        munmap((void *)m->p, m->size);
    m->p = NULL;
}

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* [off, off+len) lies inside a file of size bytes (overflow-safe). */
static int in_file(uint64_t off, uint64_t len, size_t size)
{
    return off <= size && len <= size - off;
}

static const char *elf_type_name(unsigned t)
{
    switch (t) {
    case ET_NONE: return "NONE";
    case ET_REL: return "REL";
    case ET_EXEC: return "EXEC";
    case ET_DYN: return "DYN";
    case ET_CORE: return "CORE";
    default: return "unknown";
    }
}

/* Checks the parts of the ELF header both files share: ELF64, little endian,
 * x86-64, and a program header table inside the file. */
static int check_ehdr(const mfile *m, const char *what, const char *path, Elf64_Ehdr *eh,
                      size_t *phnum, gh_err *err)
{
    if (m->size < SELFMAG || memcmp(m->p, ELFMAG, SELFMAG) != 0)
        return gh_errorf(err, GH_EFORMAT, "%s %s: not an ELF file", what, path);
    if (m->size < sizeof *eh)
        return gh_errorf(err, GH_EFORMAT,
                         "%s %s is truncated: the ELF header needs %zu bytes, file has %zu", what,
                         path, sizeof *eh, m->size);
    memcpy(eh, m->p, sizeof *eh);
    if (eh->e_ident[EI_CLASS] != ELFCLASS64)
        return gh_errorf(err, GH_EFORMAT, "%s %s is not a 64-bit ELF file (class %u)", what, path,
                         eh->e_ident[EI_CLASS]);
    if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
        return gh_errorf(err, GH_EFORMAT, "%s %s is not little endian", what, path);
    if (!gh_arch_of_machine(eh->e_machine)) {
        char m[64];
        return gh_errorf(err, GH_EUNSUPP, "%s %s is for %s: goheap reads linux/amd64 and linux/arm64 only", what,
                         path, gh_machine_name(eh->e_machine, m, sizeof m));
    }
    size_t n = eh->e_phnum;
    if (n == PN_XNUM) { /* more than 0xfffe headers: the count is in section header 0 */
        Elf64_Shdr sh;
        if (!in_file(eh->e_shoff, sizeof sh, m->size))
            return gh_errorf(err, GH_EFORMAT,
                             "%s %s: e_phnum is PN_XNUM but section header 0 at offset %llu is "
                             "outside the file (%zu bytes)",
                             what, path, (unsigned long long)eh->e_shoff, m->size);
        memcpy(&sh, m->p + eh->e_shoff, sizeof sh);
        n = sh.sh_info;
    }
    if (n && eh->e_phentsize != sizeof(Elf64_Phdr))
        return gh_errorf(err, GH_EFORMAT, "%s %s has program headers of %u bytes, expected %zu",
                         what, path, eh->e_phentsize, sizeof(Elf64_Phdr));
    if (!in_file(eh->e_phoff, (uint64_t)n * sizeof(Elf64_Phdr), m->size))
        return gh_errorf(err, GH_EFORMAT,
                         "%s %s is truncated: %zu program headers need %llu bytes at offset %llu, "
                         "file has %zu",
                         what, path, n, (unsigned long long)(n * sizeof(Elf64_Phdr)),
                         (unsigned long long)eh->e_phoff, m->size);
    *phnum = n;
    return GH_OK;
}

static Elf64_Phdr phdr_at(const mfile *m, const Elf64_Ehdr *eh, size_t i)
{
    Elf64_Phdr ph;
    memcpy(&ph, m->p + eh->e_phoff + i * sizeof ph, sizeof ph);
    return ph;
}

/* ---- notes ---- */

typedef struct note {
    uint32_t type, namesz;
    const char *name;
    const uint8_t *desc;
    size_t descsz;
} note;

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* Steps through the notes in [base, base+len). Returns 1 with *n set, 0 at the
 * end, or an error code when a note runs past the end. */
static int next_note(const uint8_t *base, size_t len, size_t *pos, size_t align, note *n,
                     const char *where, gh_err *err)
{
    size_t p = *pos;
    if (p >= len || len - p < 12)
        return 0; /* a short tail is padding, not a note */
    uint32_t hdr[3];
    memcpy(hdr, base + p, sizeof hdr);
    n->namesz = hdr[0];
    n->descsz = hdr[1];
    n->type = hdr[2];
    p += 12;
    /* Padding aligns positions in the segment, not lengths: with 8-byte
     * alignment (NT_GNU_PROPERTY_TYPE_0) the descriptor after a 4-byte name starts at 16. */
    uint64_t name_span = align_up(p + (uint64_t)hdr[0], align) - p;
    if (name_span > len - p)
        return gh_errorf(err, GH_EFORMAT,
                         "%s: note at offset %zu has a %u-byte name but only %zu bytes remain",
                         where, *pos, hdr[0], len - p);
    n->name = (const char *)base + p;
    p += name_span;
    if (hdr[1] > len - p)
        return gh_errorf(err, GH_EFORMAT,
                         "%s: note at offset %zu has a %u-byte descriptor but only %zu bytes remain",
                         where, *pos, hdr[1], len - p);
    n->desc = base + p;
    uint64_t desc_span = align_up(p + (uint64_t)hdr[1], align) - p;
    p += desc_span < len - p ? desc_span : len - p; /* the last note's padding may be absent */
    *pos = p;
    return 1;
}

/* Owner names are NUL-terminated and may be NUL-padded: Go writes "Go\0\0". */
static int note_named(const note *n, const char *name)
{
    size_t l = strlen(name);
    if (n->namesz <= l || memcmp(n->name, name, l) != 0)
        return 0;
    for (size_t i = l; i < n->namesz; i++)
        if (n->name[i])
            return 0;
    return 1;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static int add_thread(core *c, const note *n, gh_err *err)
{
    /* pr_reg is at the same offset on amd64 and arm64 (struct elf_prstatus
     * starts with the same 112 bytes); its size is the architecture's. */
    size_t nregs = c->t.arch->nregs;
    if (n->descsz < PRSTATUS_REGS + nregs * 8)
        return gh_errorf(err, GH_EFORMAT,
                         "core: NT_PRSTATUS note has %zu bytes, expected at least %zu for %s",
                         n->descsz, PRSTATUS_REGS + nregs * 8, c->t.arch->name);
    if (gh_grow(&c->threads, &c->cap_threads, c->nthreads + 1, sizeof *c->threads))
        return gh_errorf(err, GH_ENOMEM, "out of memory for %zu threads", c->nthreads + 1);
    int wide = nregs > GH_X86_NREGS; /* does not fit gh_thread: kept beside it */
    if (wide && gh_grow(&c->xregs, &c->cap_xregs, (c->nthreads + 1) * nregs, 8))
        return gh_errorf(err, GH_ENOMEM, "out of memory for %zu threads", c->nthreads + 1);
    gh_thread *t = &c->threads[c->nthreads];
    memset(t, 0, sizeof *t);
    int32_t pid;
    memcpy(&pid, n->desc + PRSTATUS_PID, 4);
    t->tid = pid;
    t->has_regs = 1;
    if (wide)
        memcpy(c->xregs + c->nthreads * nregs, n->desc + PRSTATUS_REGS, nregs * 8);
    else
        memcpy(t->regs, n->desc + PRSTATUS_REGS, nregs * 8);
    c->nthreads++;
    return GH_OK;
}

/* NT_FILE: count, page size, count (start, end, page offset) triples, then
 * count NUL-terminated names. */
static int parse_nt_file(core *c, const note *n, gh_err *err)
{
    if (c->have_nt_file)
        return GH_OK; /* only the first one counts */
    if (n->descsz < 16)
        return gh_errorf(err, GH_EFORMAT, "core: NT_FILE note is truncated (%zu bytes)", n->descsz);
    uint64_t count = get_u64(n->desc), page = get_u64(n->desc + 8);
    if (count > (n->descsz - 16) / 24)
        return gh_errorf(err, GH_EFORMAT,
                         "core: NT_FILE note claims %llu mappings but has room for %zu",
                         (unsigned long long)count, (n->descsz - 16) / 24);
    if (count && (page == 0 || (page & (page - 1))))
        return gh_errorf(err, GH_EFORMAT, "core: NT_FILE note has page size %llu",
                         (unsigned long long)page);
    c->files = calloc(count ? count : 1, sizeof *c->files);
    if (!c->files)
        return gh_errorf(err, GH_ENOMEM, "out of memory for %llu file mappings",
                         (unsigned long long)count);
    const uint8_t *names = n->desc + 16 + count * 24, *end = n->desc + n->descsz;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *e = n->desc + 16 + i * 24;
        fmap *f = &c->files[i];
        f->start = get_u64(e);
        f->end = get_u64(e + 8);
        uint64_t pg = get_u64(e + 16);
        if (f->end < f->start)
            return gh_errorf(err, GH_EFORMAT,
                             "core: NT_FILE mapping %zu ends (0x%llx) before it starts (0x%llx)", i,
                             (unsigned long long)f->end, (unsigned long long)f->start);
        if (__builtin_mul_overflow(pg, page, &f->offset))
            return gh_errorf(err, GH_EFORMAT,
                             "core: NT_FILE mapping %zu has file page %llu, too large", i,
                             (unsigned long long)pg);
        const uint8_t *nul = names < end ? memchr(names, 0, (size_t)(end - names)) : NULL;
        if (!nul)
            return gh_errorf(err, GH_EFORMAT,
                             "core: NT_FILE note: the name of mapping %zu is missing or not terminated",
                             i);
        f->name = (const char *)names;
        names = nul + 1;
    }
    c->nfiles = count;
    c->have_nt_file = 1;
    return GH_OK;
}

static void parse_auxv(core *c, const note *n)
{
    for (size_t i = 0; i + 16 <= n->descsz; i += 16) {
        uint64_t type = get_u64(n->desc + i), val = get_u64(n->desc + i + 8);
        if (type == AT_NULL)
            break;
        if (type == AT_ENTRY) {
            c->entry = val;
            c->have_entry = 1;
        } else if (type == AT_PHDR) {
            c->phdr = val;
            c->have_phdr = 1;
        }
    }
}

static int parse_notes(core *c, const uint8_t *p, size_t len, gh_err *err)
{
    size_t pos = 0;
    note n;
    int rc;
    while ((rc = next_note(p, len, &pos, 4, &n, "core", err)) == 1) {
        if (!note_named(&n, "CORE"))
            continue; /* "LINUX" notes hold extended register state: not needed */
        if (n.type == NT_PRSTATUS)
            rc = add_thread(c, &n, err);
        else if (n.type == NT_FILE_TYPE)
            rc = parse_nt_file(c, &n, err);
        else if (n.type == NT_AUXV)
            parse_auxv(c, &n);
        if (rc < 0)
            return rc;
    }
    return rc;
}

/* ---- segments and reads ---- */

static int seg_cmp(const void *a, const void *b)
{
    const seg *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static unsigned prot_of(uint32_t flags)
{
    return (flags & PF_R ? GH_PROT_R : 0) | (flags & PF_W ? GH_PROT_W : 0) |
           (flags & PF_X ? GH_PROT_X : 0);
}

static int load_segments(core *c, const Elf64_Ehdr *eh, size_t phnum, gh_err *err)
{
    size_t n = 0, truncated = 0;
    uint64_t want = 0; /* where the last byte the headers place should be */
    for (size_t i = 0; i < phnum; i++) {
        Elf64_Phdr ph = phdr_at(&c->core, eh, i);
        n += ph.p_type == PT_LOAD && ph.p_memsz > 0;
        uint64_t end;
        if (ph.p_filesz && !__builtin_add_overflow(ph.p_offset, ph.p_filesz, &end) && end > want)
            want = end;
    }
    c->segs = calloc(n ? n : 1, sizeof *c->segs);
    if (!c->segs)
        return gh_errorf(err, GH_ENOMEM, "out of memory for %zu core segments", n);
    for (size_t i = 0; i < phnum; i++) {
        Elf64_Phdr ph = phdr_at(&c->core, eh, i);
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        seg *s = &c->segs[c->nsegs++];
        s->start = ph.p_vaddr;
        if (__builtin_add_overflow(ph.p_vaddr, ph.p_memsz, &s->end))
            return gh_errorf(err, GH_EFORMAT,
                             "core: segment at 0x%llx of 0x%llx bytes wraps the address space",
                             (unsigned long long)ph.p_vaddr, (unsigned long long)ph.p_memsz);
        s->offset = ph.p_offset;
        s->filesz = ph.p_filesz < ph.p_memsz ? ph.p_filesz : ph.p_memsz;
        s->prot = prot_of(ph.p_flags);
        size_t size = c->core.size;
        s->avail = s->offset >= size ? 0 : min64(s->filesz, size - s->offset);
        if (s->avail < s->filesz && truncated++ == 0)
            snprintf(c->warning, sizeof c->warning,
                     "core is truncated: segment at 0x%llx needs %llu bytes at offset %llu, "
                     "file has %zu",
                     (unsigned long long)s->start, (unsigned long long)s->filesz,
                     (unsigned long long)s->offset, size);
    }
    if (truncated) {
        /* One line: what is missing, by the program headers' own sizes. */
        size_t l = strlen(c->warning);
        c->want_size = want;
        /* Rounded down: never "100.0%" of a file that is short. */
        uint64_t permille = want ? (uint64_t)c->core.size * 1000 / want : 0;
        snprintf(c->warning + l, sizeof c->warning - l,
                 " (%llu.%llu%% of the %llu bytes its program headers describe; %zu segment%s incomplete, %s "
                 "missing bytes unreadable)",
                 (unsigned long long)(permille / 10), (unsigned long long)(permille % 10), (unsigned long long)want,
                 truncated, truncated == 1 ? "" : "s", truncated == 1 ? "its" : "their");
    }
    qsort(c->segs, c->nsegs, sizeof *c->segs, seg_cmp);
    for (size_t i = 1; i < c->nsegs; i++)
        if (c->segs[i].start < c->segs[i - 1].end)
            return gh_errorf(err, GH_EFORMAT, "core: segments overlap at 0x%llx",
                             (unsigned long long)c->segs[i].start);
    return GH_OK;
}

static const seg *find_seg(core *c, uint64_t a)
{
    /* The last segment found, shared by threads reading at once: a relaxed
     * atomic, any value of which is a valid index or nsegs. */
    size_t last = atomic_load_explicit(&c->last, memory_order_relaxed);
    if (last < c->nsegs && a >= c->segs[last].start && a < c->segs[last].end)
        return &c->segs[last];
    size_t lo = 0, hi = c->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a < c->segs[mid].start)
            hi = mid;
        else if (a >= c->segs[mid].end)
            lo = mid + 1;
        else {
            atomic_store_explicit(&c->last, mid, memory_order_relaxed);
            return &c->segs[mid];
        }
    }
    return NULL;
}

/* Bytes at a that the kernel left out of the dump, from the executable:
 * its file image, its zero fill, or the file pages its NT_FILE mappings name. */
static uint64_t from_exe(core *c, uint64_t a, uint64_t max, const uint8_t **src)
{
    for (size_t i = 0; i < c->nxloads; i++) {
        const xload *x = &c->xloads[i];
        if (a < x->start || a >= x->end)
            continue;
        if (a < x->file_end) {
            *src = c->exe.p + x->offset + (a - x->start);
            return min64(max, x->file_end - a);
        }
        *src = NULL; /* bss */
        return min64(max, x->end - a);
    }
    for (size_t i = 0; i < c->nfiles; i++) {
        const fmap *f = &c->files[i];
        if (!f->is_exe || a < f->start || a >= f->end)
            continue;
        uint64_t fo = f->offset + (a - f->start);
        if (fo < f->offset || fo >= c->exe.size)
            return 0;
        *src = c->exe.p + fo;
        return min64(min64(max, f->end - a), c->exe.size - fo);
    }
    return 0;
}

/* How many bytes from a (at most max) are contiguous in one place: *src points
 * at them, or is NULL for zero fill. 0 when a is not readable. */
static uint64_t piece(core *c, uint64_t a, uint64_t max, const uint8_t **src, int core_only)
{
    const seg *s = find_seg(c, a);
    if (!s)
        return 0;
    uint64_t off = a - s->start;
    if (off < s->filesz) {
        if (off >= s->avail) { /* lost to truncation */
            atomic_fetch_add_explicit(&c->lost_reads, 1, memory_order_relaxed);
            return 0;
        }
        *src = c->core.p + s->offset + off;
        return min64(max, s->avail - off);
    }
    if (core_only)
        return 0;
    return from_exe(c, a, min64(max, s->end - a), src);
}

static size_t core_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len && addr + done >= addr) {
        const uint8_t *src = NULL;
        uint64_t n = piece(ctx, addr + done, len - done, &src, 0);
        if (n == 0)
            break;
        if (src)
            memcpy((uint8_t *)buf + done, src, n);
        else
            memset((uint8_t *)buf + done, 0, n);
        done += n;
    }
    return done;
}

static const void *core_direct(void *ctx, uint64_t addr, size_t len)
{
    const uint8_t *src = NULL;
    if (len == 0 || piece(ctx, addr, len, &src, 0) < len)
        return NULL;
    /* Callers read words in place: a segment at a file offset that breaks
     * the address's alignment (a corrupt program header) is read by copy. */
    return ((uintptr_t)src ^ addr) & 7 ? NULL : src;
}

/* A pointer to [a, a+len) when the core file itself holds all of it. */
static const uint8_t *core_bytes(core *c, uint64_t a, size_t len)
{
    const uint8_t *src = NULL;
    return len && piece(c, a, len, &src, 1) == len ? src : NULL;
}

/* ---- the executable ---- */

static const fmap *file_at(const core *c, uint64_t a)
{
    for (size_t i = 0; i < c->nfiles; i++)
        if (a >= c->files[i].start && a < c->files[i].end)
            return &c->files[i];
    return NULL;
}

static int find_exe_path(core *c, const char *core_path, const char **path, gh_err *err)
{
    if (!c->have_entry)
        return gh_errorf(err, GH_EFORMAT,
                         "core %s has no AT_ENTRY in its NT_AUXV note, so the executable is "
                         "unknown: pass --exe",
                         core_path);
    if (!c->have_nt_file)
        return gh_errorf(err, GH_EFORMAT,
                         "core %s has no NT_FILE note naming the executable: pass --exe", core_path);
    if (!c->exe_in_core)
        return gh_errorf(err, GH_EFORMAT,
                         "core %s maps no file at the entry point 0x%llx: pass --exe", core_path,
                         (unsigned long long)c->entry);
    struct stat st;
    if (stat(c->exe_in_core, &st) < 0 && (errno == ENOENT || errno == ENOTDIR))
        return gh_errorf(err, GH_EIO,
                         "core names executable %s which is not on this machine: pass --exe",
                         c->exe_in_core);
    *path = c->exe_in_core;
    return GH_OK;
}

/* Load bias: AT_ENTRY - e_entry; else from AT_PHDR; else 0 for ET_EXEC; else
 * from the executable's first file mapping in NT_FILE. */
static void find_bias(core *c, const Elf64_Ehdr *xe, size_t phnum)
{
    if (c->have_entry) {
        c->bias = c->entry - xe->e_entry;
        c->have_bias = 1;
        return;
    }
    for (size_t i = 0; c->have_phdr && i < phnum; i++) {
        Elf64_Phdr ph = phdr_at(&c->exe, xe, i);
        if (ph.p_type == PT_PHDR || (ph.p_type == PT_LOAD && ph.p_offset == 0)) {
            uint64_t at = ph.p_type == PT_PHDR ? ph.p_vaddr : ph.p_vaddr + xe->e_phoff;
            c->bias = c->phdr - at;
            c->have_bias = 1;
            return;
        }
    }
    if (xe->e_type == ET_EXEC) {
        c->bias = 0;
        c->have_bias = 1;
        return;
    }
    for (size_t i = 0; i < phnum; i++) {
        Elf64_Phdr ph = phdr_at(&c->exe, xe, i);
        if (ph.p_type != PT_LOAD || ph.p_offset != 0)
            continue;
        for (size_t j = 0; j < c->nfiles; j++)
            if (c->files[j].is_exe && c->files[j].offset == 0) {
                c->bias = c->files[j].start - (ph.p_vaddr & ~(uint64_t)0xfff);
                c->have_bias = 1;
                return;
            }
    }
}

static int load_exe_segments(core *c, const Elf64_Ehdr *xe, size_t phnum, const char *path,
                             gh_err *err)
{
    c->xloads = calloc(phnum ? phnum : 1, sizeof *c->xloads);
    if (!c->xloads)
        return gh_errorf(err, GH_ENOMEM, "out of memory for %zu program headers", phnum);
    for (size_t i = 0; i < phnum; i++) {
        Elf64_Phdr ph = phdr_at(&c->exe, xe, i);
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        uint64_t filesz = min64(ph.p_filesz, ph.p_memsz), start = ph.p_vaddr + c->bias, end;
        if (!in_file(ph.p_offset, filesz, c->exe.size))
            return gh_errorf(err, GH_EFORMAT,
                             "executable %s is truncated: segment at 0x%llx needs %llu bytes at "
                             "offset %llu, file has %zu",
                             path, (unsigned long long)ph.p_vaddr, (unsigned long long)filesz,
                             (unsigned long long)ph.p_offset, c->exe.size);
        if (__builtin_add_overflow(start, ph.p_memsz, &end))
            return gh_errorf(err, GH_EFORMAT,
                             "executable %s: segment at 0x%llx wraps the address space", path,
                             (unsigned long long)ph.p_vaddr);
        if (!c->have_bias)
            continue;
        xload *x = &c->xloads[c->nxloads++];
        x->start = start;
        x->file_end = start + filesz;
        x->end = end;
        x->offset = ph.p_offset;
        x->prot = prot_of(ph.p_flags);
    }
    return GH_OK;
}

/* Build ids for a message: Go's is text, GNU's is hex; hostile bytes become '?'. */
static void printable(char *dst, size_t cap, const uint8_t *s, size_t n, int hex)
{
    size_t o = 0, i = 0;
    for (; i < n && o + (hex ? 2 : 1) + 3 <= cap; i++) {
        if (hex)
            o += (size_t)snprintf(dst + o, cap - o, "%02x", s[i]);
        else
            dst[o++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    }
    snprintf(dst + o, cap - o, "%s", i < n ? ".." : "");
}

/* Compares the executable's Go (and GNU) build id notes with the bytes the
 * core holds at the same addresses; falls back to the ELF headers the kernel
 * dumps with the first page of the mapping. Accepts when nothing compares. */
static int check_match(core *c, const Elf64_Ehdr *xe, size_t phnum, const char *path, gh_err *err)
{
    int compared = 0;
    for (size_t i = 0; c->have_bias && i < phnum; i++) {
        Elf64_Phdr ph = phdr_at(&c->exe, xe, i);
        if (ph.p_type != PT_NOTE)
            continue;
        if (!in_file(ph.p_offset, ph.p_filesz, c->exe.size))
            return gh_errorf(err, GH_EFORMAT,
                             "executable %s: note segment at offset %llu of %llu bytes is outside "
                             "the file (%zu bytes)",
                             path, (unsigned long long)ph.p_offset, (unsigned long long)ph.p_filesz,
                             c->exe.size);
        const uint8_t *base = c->exe.p + ph.p_offset;
        size_t pos = 0;
        note n;
        int rc;
        size_t align = ph.p_align == 8 ? 8 : 4;
        while ((rc = next_note(base, ph.p_filesz, &pos, align, &n, path, err)) == 1) {
            int go = note_named(&n, "Go") && n.type == NT_GO_BUILDID;
            int gnu = note_named(&n, "GNU") && n.type == NT_GNU_BUILD_ID;
            if (!(go || gnu) || n.descsz == 0)
                continue;
            uint64_t addr = ph.p_vaddr + c->bias + (uint64_t)(n.desc - base);
            const uint8_t *in_core = core_bytes(c, addr, n.descsz);
            if (!in_core)
                continue;
            compared++;
            if (memcmp(in_core, n.desc, n.descsz) != 0) {
                char a[128], b[128];
                printable(a, sizeof a, n.desc, n.descsz, gnu);
                printable(b, sizeof b, in_core, n.descsz, gnu);
                return gh_errorf(err, GH_EFORMAT,
                                 "executable %s does not match the core (%s build id %s vs %s)", path,
                                 go ? "Go" : "GNU", a, b);
            }
        }
        if (rc < 0)
            return rc;
    }
    if (compared)
        return GH_OK;
    uint64_t at = 0;
    int have_at = 0;
    for (size_t i = 0; i < c->nfiles; i++)
        if (c->files[i].is_exe && c->files[i].offset == 0 && (!have_at || c->files[i].start < at)) {
            at = c->files[i].start;
            have_at = 1;
        }
    if (!have_at)
        for (size_t i = 0; c->have_bias && i < c->nxloads; i++)
            if (c->xloads[i].offset == 0) {
                at = c->xloads[i].start;
                have_at = 1;
                break;
            }
    uint64_t hlen = xe->e_phoff + phnum * sizeof(Elf64_Phdr);
    if (xe->e_phoff < sizeof *xe || hlen > 4096)
        hlen = sizeof *xe;
    const uint8_t *in_core = have_at ? core_bytes(c, at, hlen) : NULL;
    if (in_core && memcmp(in_core, c->exe.p, hlen) != 0)
        return gh_errorf(err, GH_EFORMAT,
                         "executable %s does not match the core (its ELF headers differ from "
                         "those mapped at 0x%llx)",
                         path, (unsigned long long)at);
    return GH_OK;
}

static int open_exe(core *c, const char *path, gh_err *err)
{
    int rc = map_file(path, "executable", &c->exe, NULL, err);
    if (rc)
        return rc;
    Elf64_Ehdr xe;
    size_t phnum;
    if ((rc = check_ehdr(&c->exe, "executable", path, &xe, &phnum, err)))
        return rc;
    if (xe.e_type != ET_EXEC && xe.e_type != ET_DYN)
        return gh_errorf(err, GH_EFORMAT, "executable %s: not an executable (ELF type %s)", path,
                         elf_type_name(xe.e_type));
    if (gh_arch_of_machine(xe.e_machine) != c->t.arch)
        return gh_errorf(err, GH_EFORMAT, "executable %s is for %s, the core for %s", path,
                         gh_arch_of_machine(xe.e_machine)->name, c->t.arch->name);
    if (xe.e_type == ET_EXEC && c->have_entry && c->entry != xe.e_entry)
        return gh_errorf(err, GH_EFORMAT,
                         "executable %s does not match the core (entry point 0x%llx, the core's "
                         "is 0x%llx)",
                         path, (unsigned long long)xe.e_entry, (unsigned long long)c->entry);
    if (!(c->exe_path = strdup(path)))
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    find_bias(c, &xe, phnum);
    if ((rc = load_exe_segments(c, &xe, phnum, path, err)))
        return rc;
    return check_match(c, &xe, phnum, path, err);
}

/* ---- the target ---- */

static void core_regions(void *ctx, const gh_region **out, size_t *n)
{
    core *c = ctx;
    *out = c->regions;
    *n = c->nsegs;
}

static void core_threads(void *ctx, const gh_thread **out, size_t *n)
{
    core *c = ctx;
    *out = c->threads;
    *n = c->nthreads;
}

static const char *core_exe_path(void *ctx) { return ((core *)ctx)->exe_path; }

static int core_load_bias(void *ctx, uint64_t *bias)
{
    core *c = ctx;
    if (!c->have_bias)
        return GH_EFORMAT;
    *bias = c->bias;
    return GH_OK;
}

static uint64_t core_generation(void *ctx) { return 0; }

static void core_close(void *ctx)
{
    core *c = ctx;
    if (!c)
        return;
    unmap_file(&c->core);
    unmap_file(&c->exe);
    free(c->exe_path);
    free(c->segs);
    free(c->regions);
    free(c->files);
    free(c->xloads);
    free(c->threads);
    free(c->xregs);
    free(c);
}

static const gh_target_ops core_ops = {
    .read = core_read,
    .direct = core_direct,
    .regions = core_regions,
    .threads = core_threads,
    .exe_path = core_exe_path,
    .load_bias = core_load_bias,
    .generation = core_generation,
    .close = core_close,
};

typedef struct range {
    uint64_t start, end;
} range;

static int range_cmp(const void *a, const void *b)
{
    const range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static unsigned gap_prot(const core *c, uint64_t a)
{
    const fmap *f = file_at(c, a);
    for (size_t i = 0; f && f->is_exe && i < c->nxloads; i++)
        if (a >= c->xloads[i].start && a < c->xloads[i].end)
            return c->xloads[i].prot;
    return GH_PROT_R; /* NT_FILE does not say; a file mapping is at least readable */
}

/* gdb's gcore leaves read-only file mappings out of the PT_LOADs altogether;
 * NT_FILE still lists them. Their uncovered parts become segments with no
 * dumped bytes, so regions show them and reads reach the executable. The
 * NT_FILE ranges are merged where they overlap (a hostile note), which bounds
 * the new segments by the number of mappings plus segments. */
static int add_file_gaps(core *c, gh_err *err)
{
    if (c->nfiles == 0)
        return GH_OK;
    range *u = malloc(c->nfiles * sizeof *u);
    if (!u)
        return gh_errorf(err, GH_ENOMEM, "out of memory for %zu file mappings", c->nfiles);
    size_t nu = 0;
    for (size_t i = 0; i < c->nfiles; i++)
        if (c->files[i].end > c->files[i].start)
            u[nu++] = (range){c->files[i].start, c->files[i].end};
    qsort(u, nu, sizeof *u, range_cmp);
    size_t m = 0;
    for (size_t i = 0; i < nu; i++) {
        if (m && u[i].start < u[m - 1].end) { /* overlap; adjacent ones stay apart */
            if (u[i].end > u[m - 1].end)
                u[m - 1].end = u[i].end;
        } else {
            u[m++] = u[i];
        }
    }
    size_t n0 = c->nsegs;
    seg *segs = realloc(c->segs, (n0 + m + n0 + 1) * sizeof *segs);
    if (!segs) {
        free(u);
        return gh_errorf(err, GH_ENOMEM, "out of memory for %zu segments", n0 + m + n0);
    }
    c->segs = segs;
    for (size_t k = 0; k < m; k++) {
        size_t lo = 0, hi = n0; /* first segment ending after the range starts */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (segs[mid].end <= u[k].start)
                lo = mid + 1;
            else
                hi = mid;
        }
        /* a gap before each segment starting inside the range, and one at its end */
        for (uint64_t a = u[k].start; a < u[k].end; lo++) {
            int more = lo < n0 && segs[lo].start < u[k].end;
            uint64_t gap_end = more ? segs[lo].start : u[k].end;
            if (gap_end > a)
                segs[c->nsegs++] = (seg){.start = a, .end = gap_end, .prot = gap_prot(c, a)};
            if (!more)
                break;
            a = segs[lo].end;
        }
    }
    free(u);
    qsort(c->segs, c->nsegs, sizeof *c->segs, seg_cmp);
    return GH_OK;
}

/* Regions are the segments (PT_LOADs, and file mappings gcore left out), named
 * by the NT_FILE mapping they start in.
 * in_core: the dump holds every byte of the region. */
static int build_regions(core *c, gh_err *err)
{
    c->regions = calloc(c->nsegs ? c->nsegs : 1, sizeof *c->regions);
    if (!c->regions)
        return gh_errorf(err, GH_ENOMEM, "out of memory for %zu regions", c->nsegs);
    for (size_t i = 0; i < c->nsegs; i++) {
        const seg *s = &c->segs[i];
        gh_region *r = &c->regions[i];
        r->start = s->start;
        r->end = s->end;
        r->prot = s->prot;
        r->in_core = s->avail == s->end - s->start;
        const fmap *f = file_at(c, s->start);
        if (f) {
            r->name = f->name;
            r->file_offset = f->offset + (s->start - f->start);
        }
    }
    return GH_OK;
}

static int open_core(core *c, const char *path, const char *exe_path, gh_err *err)
{
    int rc = map_file(path, "core", &c->core, &c->unpacked, err);
    if (rc)
        return rc;
    Elf64_Ehdr eh;
    size_t phnum;
    if ((rc = check_ehdr(&c->core, "core", path, &eh, &phnum, err)))
        return rc;
    if (eh.e_type != ET_CORE)
        return gh_errorf(err, GH_EFORMAT, "%s: not a core file (ELF type %s)", path,
                         elf_type_name(eh.e_type));
    c->t.arch = gh_arch_of_machine(eh.e_machine);
    if ((rc = load_segments(c, &eh, phnum, err)))
        return rc;
    for (size_t i = 0; i < phnum; i++) {
        Elf64_Phdr ph = phdr_at(&c->core, &eh, i);
        if (ph.p_type != PT_NOTE)
            continue;
        if (!in_file(ph.p_offset, ph.p_filesz, c->core.size))
            return gh_errorf(err, GH_EFORMAT,
                             "core is truncated: notes need %llu bytes at offset %llu, file has %zu",
                             (unsigned long long)ph.p_filesz, (unsigned long long)ph.p_offset,
                             c->core.size);
        if ((rc = parse_notes(c, c->core.p + ph.p_offset, ph.p_filesz, err)))
            return rc;
    }
    if (c->nthreads == 0)
        return gh_errorf(err, GH_EFORMAT, "core %s has no NT_PRSTATUS note (no threads)", path);
    c->t.xregs = c->xregs;
    const fmap *ef = c->have_entry ? file_at(c, c->entry) : NULL;
    if (ef) {
        c->exe_in_core = ef->name;
        for (size_t i = 0; i < c->nfiles; i++)
            c->files[i].is_exe = strcmp(c->files[i].name, ef->name) == 0;
    }
    if (!exe_path && (rc = find_exe_path(c, path, &exe_path, err)))
        return rc;
    if ((rc = open_exe(c, exe_path, err)) || (rc = add_file_gaps(c, err)))
        return rc;
    return build_regions(c, err);
}

int gh_core_open(const char *core_path, const char *exe_path, gh_target **out, gh_err *err)
{
    *out = NULL;
    core *c = calloc(1, sizeof *c);
    if (!c)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    c->t.ops = &core_ops;
    c->t.ctx = c;
    c->t.kind = "core";
    c->t.concurrent = 1; /* the mapped file, read only */
    int rc = open_core(c, core_path, exe_path, err);
    if (rc) {
        core_close(c);
        return rc;
    }
    *out = &c->t;
    return GH_OK;
}

int gh_core_file_id(const gh_target *t, uint64_t id[8])
{
    if (!t || t->ops != &core_ops)
        return GH_EUNSUPP;
    const core *c = t->ctx;
    memcpy(id, c->core.id, sizeof c->core.id);
    memcpy(id + 4, c->exe.id, sizeof c->exe.id);
    return GH_OK;
}

const char *gh_core_warning(gh_target *t)
{
    if (!t || t->ops != &core_ops)
        return NULL;
    core *c = t->ctx;
    return c->warning[0] ? c->warning : NULL;
}

int gh_core_truncated(const gh_target *t, uint64_t *have, uint64_t *want)
{
    if (!t || t->ops != &core_ops)
        return 0;
    const core *c = t->ctx;
    if (!c->want_size)
        return 0;
    if (have)
        *have = c->core.size;
    if (want)
        *want = c->want_size;
    return 1;
}

int gh_core_lost(const gh_target *t, uint64_t addr, uint64_t len)
{
    if (!t || t->ops != &core_ops || !((const core *)t->ctx)->want_size)
        return 0;
    core *c = t->ctx;
    for (uint64_t a = addr; a - addr < len;) {
        const seg *s = find_seg(c, a);
        if (!s)
            return 0;
        uint64_t off = a - s->start, in = min64(len - (a - addr), s->end - a);
        if (off < s->filesz && off + in > s->avail)
            return 1;
        a = s->end;
    }
    return 0;
}

uint64_t gh_core_lost_reads(const gh_target *t)
{
    if (!t || t->ops != &core_ops)
        return 0;
    core *c = t->ctx;
    return atomic_load_explicit(&c->lost_reads, memory_order_relaxed);
}

const gh_unpack_info *gh_core_unpacked(const gh_target *t)
{
    if (!t || t->ops != &core_ops)
        return NULL;
    const core *c = t->ctx;
    return c->unpacked.format != GH_PACK_NONE ? &c->unpacked : NULL;
}

const char *gh_core_note(gh_target *t)
{
    const gh_unpack_info *u = gh_core_unpacked(t);
    if (!u)
        return NULL;
    core *c = t->ctx;
    char a[32], b[32], d[32], took[32];
    if (u->seconds < 1)
        snprintf(took, sizeof took, "%.0f ms", u->seconds * 1000);
    else
        snprintf(took, sizeof took, "%.1f s", u->seconds);
    snprintf(c->note, sizeof c->note,
             "decompressed %s core: %s in %s (%s compressed; %s of data in an unlinked file in %s)",
             gh_pack_name(u->format), gh_human(u->size, a, sizeof a), took, gh_human(u->packed, b, sizeof b),
             gh_human(u->stored, d, sizeof d), u->dir);
    return c->note;
}
